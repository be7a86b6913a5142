//! Transactions: batching changes, re-rendering affected flat views, and
//! telling listeners what changed.
//!
//! A commit finds the roots whose view may have changed (walking up from
//! every changed region through parents and through the aliases that point
//! at it), re-renders only those, diffs old against new the way QEMU's
//! `address_space_update_topology_pass` does, and bumps the generation of
//! every address space whose ranges changed.

use std::collections::HashSet;
use std::rc::Rc;

use crate::address::GuestAddress;
use crate::error::{MemoryError, Result};
use crate::ids::AddressSpaceId;
use crate::listener::{ListenerEntry, ListenerId, MemoryListener, MemoryRegionSection};
use crate::region::{RegionId, RegionKind};
use crate::system::MemorySystem;
use crate::tree::render::render;
use crate::view::flatview::{FlatRange, FlatView};
use crate::view::section::SectionBacking;

impl MemorySystem {
    /// Start a transaction. Nestable: only the outermost `commit` publishes.
    pub fn begin(&mut self) {
        self.tree.transaction_depth += 1;
    }

    /// End a transaction; the outermost commit re-renders what changed and
    /// tells listeners. A commit without a `begin` does nothing.
    pub fn commit(&mut self) {
        if self.tree.transaction_depth == 0 {
            return;
        }
        self.tree.transaction_depth -= 1;
        if self.tree.transaction_depth == 0 && !self.tree.changed.is_empty() {
            self.publish();
        }
    }

    /// Record that `r` changed; publish at once outside a transaction.
    pub(crate) fn mark_changed(&mut self, r: RegionId) {
        self.tree.changed.insert(r);
        self.publish_unless_batched();
    }

    /// Render the flat view of `root`.
    pub(crate) fn render_view(&self, root: RegionId) -> FlatView {
        let ranges = render(&self.tree.regions, root, self.ram.global_dirty_log);
        FlatView::new(root, ranges, |r| self.backing_of(r))
    }

    fn backing_of(&self, r: &FlatRange) -> SectionBacking {
        let Some(region) = self.tree.regions.get(r.region.index()) else {
            return SectionBacking::Io;
        };
        let host_at = |block: usize| {
            self.ram.blocks.get(block).map(|b| {
                // The offset is inside the block: ranges never exceed the region's size.
                (
                    b.mapping.ptr().wrapping_add(r.offset_in_region as usize),
                    crate::RamAddr(b.offset.0 + r.offset_in_region),
                )
            })
        };
        match region.kind {
            RegionKind::Ram { block } | RegionKind::Rom { block } => match host_at(block) {
                Some((host, ram)) => SectionBacking::Ram {
                    host,
                    ram,
                    readonly: r.readonly,
                },
                None => SectionBacking::Io,
            },
            RegionKind::RomDevice {
                block, romd: true, ..
            } => match host_at(block) {
                Some((host, ram)) => SectionBacking::RomDevice { host, ram },
                None => SectionBacking::Io,
            },
            _ => SectionBacking::Io,
        }
    }

    /// Roots (with a live view) that can see any changed region.
    fn affected_roots(&mut self) -> Vec<RegionId> {
        let mut stack: Vec<RegionId> = self.tree.changed.drain().collect();
        let mut seen = HashSet::new();
        let mut roots = Vec::new();
        while let Some(r) = stack.pop() {
            if !seen.insert(r) {
                continue;
            }
            if self.spaces.views.contains_key(&r) {
                roots.push(r);
            }
            let Some(region) = self.tree.regions.get(r.index()) else {
                continue;
            };
            if let Some(p) = region.parent {
                stack.push(p);
            }
            stack.extend(region.alias_users.iter().copied());
        }
        roots.sort();
        roots
    }

    fn publish(&mut self) {
        let roots = self.affected_roots();
        if roots.is_empty() {
            return;
        }
        let mut updates: Vec<(AddressSpaceId, Rc<FlatView>, Rc<FlatView>)> = Vec::new();
        for root in roots {
            let new = Rc::new(self.render_view(root));
            self.spaces.views.insert(root, new.clone());
            for (i, space) in self.spaces.list.iter_mut().enumerate() {
                if space.root != root {
                    continue;
                }
                let old = std::mem::replace(&mut space.view, new.clone());
                if old.ranges != new.ranges {
                    space.generation += 1;
                }
                updates.push((AddressSpaceId(i as u32), old, new.clone()));
            }
        }
        let spaces: HashSet<AddressSpaceId> = updates.iter().map(|u| u.0).collect();
        for e in self
            .listeners
            .entries
            .iter_mut()
            .filter(|e| spaces.contains(&e.space))
        {
            e.listener.begin();
        }
        for (space, old, new) in &updates {
            self.update_topology_pass(*space, old, new, false);
            self.update_topology_pass(*space, old, new, true);
        }
        for e in self
            .listeners
            .entries
            .iter_mut()
            .filter(|e| spaces.contains(&e.space))
        {
            e.listener.commit();
        }
    }

    /// One pass of the diff: removals (`adding == false`) or additions and
    /// unchanged ranges (`adding == true`).
    fn update_topology_pass(
        &mut self,
        space: AddressSpaceId,
        old: &FlatView,
        new: &FlatView,
        adding: bool,
    ) {
        let (mut io, mut inn) = (0, 0);
        let (o, n) = (&old.ranges, &new.ranges);
        while io < o.len() || inn < n.len() {
            let fo = o.get(io);
            let fnew = n.get(inn);
            match (fo, fnew) {
                (Some(a), b)
                    if b.is_none_or(|b| {
                        a.start < b.start || (a.start == b.start && !a.same_mapping(b))
                    }) =>
                {
                    if !adding {
                        let s = MemoryRegionSection::from_range(space, a);
                        self.coalesced_call(space, a, &s, false);
                        self.for_listeners(space, true, |l| l.region_del(&s));
                    }
                    io += 1;
                }
                (Some(a), Some(b)) if a.same_mapping(b) => {
                    if adding {
                        let s = MemoryRegionSection::from_range(space, b);
                        self.for_listeners(space, false, |l| l.region_nop(&s));
                        let (om, nm) = (a.dirty_log_mask, b.dirty_log_mask);
                        if nm & !om != 0 {
                            self.for_listeners(space, false, |l| l.log_start(&s, om, nm));
                        }
                        if om & !nm != 0 {
                            self.for_listeners(space, true, |l| l.log_stop(&s, om, nm));
                        }
                    }
                    io += 1;
                    inn += 1;
                }
                (_, Some(b)) => {
                    if adding {
                        let s = MemoryRegionSection::from_range(space, b);
                        self.for_listeners(space, false, |l| l.region_add(&s));
                        self.coalesced_call(space, b, &s, true);
                    }
                    inn += 1;
                }
                (Some(_), None) | (None, None) => break,
            }
        }
    }

    /// Call `f` on the listeners of `space`, in priority order or reversed.
    pub(crate) fn for_listeners(
        &mut self,
        space: AddressSpaceId,
        reverse: bool,
        mut f: impl FnMut(&mut dyn MemoryListener),
    ) {
        let mut call = |e: &mut ListenerEntry| {
            if e.space == space {
                f(e.listener.as_mut());
            }
        };
        if reverse {
            self.listeners.entries.iter_mut().rev().for_each(&mut call);
        } else {
            self.listeners.entries.iter_mut().for_each(&mut call);
        }
    }

    /// Tell listeners of `space` about the coalesced ranges inside flat range `fr`.
    fn coalesced_call(
        &mut self,
        space: AddressSpaceId,
        fr: &FlatRange,
        s: &MemoryRegionSection,
        add: bool,
    ) {
        let Some(region) = self.tree.regions.get(fr.region.index()) else {
            return;
        };
        if region.coalesced.is_empty() {
            return;
        }
        let pieces = coalesced_pieces(&region.coalesced, fr);
        for (addr, len) in pieces {
            if add {
                self.for_listeners(space, false, |l| l.coalesced_io_add(s, addr, len));
            } else {
                self.for_listeners(space, true, |l| l.coalesced_io_del(s, addr, len));
            }
        }
    }

    /// A region's coalesced ranges changed: tell listeners of every view that maps it.
    pub(crate) fn coalescing_changed(&mut self, r: RegionId, add: bool, only: Option<(u64, u64)>) {
        let mut calls = Vec::new();
        for (i, space) in self.spaces.list.iter().enumerate() {
            for fr in space.view.ranges.iter().filter(|fr| fr.region == r) {
                let list = match only {
                    Some(c) => vec![c],
                    None => self.tree.regions[r.index()].coalesced.clone(),
                };
                let s = MemoryRegionSection::from_range(AddressSpaceId(i as u32), fr);
                for (addr, len) in coalesced_pieces(&list, fr) {
                    calls.push((s, addr, len));
                }
            }
        }
        for (s, addr, len) in calls {
            if add {
                self.for_listeners(s.space, false, |l| l.coalesced_io_add(&s, addr, len));
            } else {
                self.for_listeners(s.space, true, |l| l.coalesced_io_del(&s, addr, len));
            }
        }
    }

    /// Register a listener on `space` and replay the current view to it as
    /// `region_add`s (with `log_start` for ranges being logged).
    pub fn register_listener(
        &mut self,
        space: AddressSpaceId,
        mut listener: Box<dyn MemoryListener>,
    ) -> ListenerId {
        let id = ListenerId(self.listeners.next);
        self.listeners.next += 1;
        if let Ok(sp) = self.space(space) {
            listener.begin();
            if self.ram.global_dirty_log {
                listener.log_global_start();
            }
            for fr in &sp.view.ranges {
                let s = MemoryRegionSection::from_range(space, fr);
                listener.region_add(&s);
                if fr.dirty_log_mask != 0 {
                    listener.log_start(&s, 0, fr.dirty_log_mask);
                }
            }
            listener.commit();
        }
        let priority = listener.priority();
        let pos = self
            .listeners
            .entries
            .iter()
            .position(|e| e.priority > priority)
            .unwrap_or(self.listeners.entries.len());
        self.listeners.entries.insert(
            pos,
            ListenerEntry {
                id,
                space,
                priority,
                listener,
            },
        );
        id
    }

    /// Remove a listener; it hears `region_del` for every range first. Returns it.
    pub fn unregister_listener(&mut self, id: ListenerId) -> Option<Box<dyn MemoryListener>> {
        let pos = self.listeners.entries.iter().position(|e| e.id == id)?;
        let mut e = self.listeners.entries.remove(pos);
        if let Ok(sp) = self.space(e.space) {
            e.listener.begin();
            for fr in &sp.view.ranges {
                let s = MemoryRegionSection::from_range(e.space, fr);
                if fr.dirty_log_mask != 0 {
                    e.listener.log_stop(&s, fr.dirty_log_mask, 0);
                }
                e.listener.region_del(&s);
            }
            e.listener.commit();
        }
        Some(e.listener)
    }

    /// Start global dirty logging (migration): listeners hear
    /// `log_global_start`, and every RAM range gains the MIGRATION client.
    pub fn global_dirty_log_start(&mut self) {
        if self.ram.global_dirty_log {
            return;
        }
        self.begin();
        self.ram.global_dirty_log = true;
        for e in self.listeners.entries.iter_mut() {
            e.listener.log_global_start();
        }
        let roots: Vec<RegionId> = self.spaces.views.keys().copied().collect();
        self.tree.changed.extend(roots);
        self.commit();
    }

    /// Stop global dirty logging.
    pub fn global_dirty_log_stop(&mut self) {
        if !self.ram.global_dirty_log {
            return;
        }
        self.begin();
        self.ram.global_dirty_log = false;
        for e in self.listeners.entries.iter_mut().rev() {
            e.listener.log_global_stop();
        }
        let roots: Vec<RegionId> = self.spaces.views.keys().copied().collect();
        self.tree.changed.extend(roots);
        self.commit();
    }
}

/// Edits of the region tree (the tree part, `crate::tree::RegionTree`, does
/// them), published at once outside a transaction.
impl MemorySystem {
    /// Publish what the tree recorded as changed, unless a transaction is open.
    fn publish_unless_batched(&mut self) {
        if self.tree.transaction_depth == 0 && !self.tree.changed.is_empty() {
            self.publish();
        }
    }

    /// Map `child` at `offset` in `parent` with priority 0, not expected to overlap.
    pub fn add_subregion(&mut self, parent: RegionId, offset: u64, child: RegionId) -> Result<()> {
        let r = self
            .tree
            .add_subregion_common(parent, offset, child, 0, false);
        self.publish_unless_batched();
        r
    }

    /// Map `child` at `offset` in `parent` with `priority`: among siblings, a
    /// higher priority hides a lower one, and among equals the later-added wins.
    pub fn add_subregion_overlap(
        &mut self,
        parent: RegionId,
        offset: u64,
        child: RegionId,
        priority: i32,
    ) -> Result<()> {
        let r = self
            .tree
            .add_subregion_common(parent, offset, child, priority, true);
        self.publish_unless_batched();
        r
    }

    /// Unmap `child` from `parent`.
    pub fn del_subregion(&mut self, parent: RegionId, child: RegionId) -> Result<()> {
        let r = self.tree.del_subregion(parent, child);
        self.publish_unless_batched();
        r
    }

    /// Enable or disable a region (a disabled region and its subtree show nothing).
    /// Unknown ids are ignored.
    pub fn set_enabled(&mut self, r: RegionId, on: bool) {
        self.tree.set_enabled(r, on);
        self.publish_unless_batched();
    }

    /// Move a mapped region to `addr` within its parent (it is re-added, so it
    /// becomes the most recent among its priority, as in QEMU). An unmapped
    /// region just records the address.
    pub fn set_address(&mut self, r: RegionId, addr: u64) -> Result<()> {
        let res = self.tree.set_address(r, addr);
        self.publish_unless_batched();
        res
    }

    /// Change a mapped region's priority (it is re-added, as in QEMU).
    pub fn set_priority(&mut self, r: RegionId, priority: i32) -> Result<()> {
        let res = self.tree.set_priority(r, priority);
        self.publish_unless_batched();
        res
    }

    /// Change the offset of an alias's window in its target.
    pub fn set_alias_offset(&mut self, r: RegionId, offset: u64) -> Result<()> {
        let res = self.tree.set_alias_offset(r, offset);
        self.publish_unless_batched();
        res
    }

    /// Mark a region read-only (writes refused) or writable. Unknown ids are ignored.
    pub fn set_readonly(&mut self, r: RegionId, readonly: bool) {
        self.tree.set_readonly(r, readonly);
        self.publish_unless_batched();
    }

    /// Mark a region non-volatile. Unknown ids are ignored.
    pub fn set_nonvolatile(&mut self, r: RegionId, nonvolatile: bool) {
        self.tree.set_nonvolatile(r, nonvolatile);
        self.publish_unless_batched();
    }

    /// Keep the flat ranges of this region (and everything it contains or
    /// aliases) separate from their neighbours. Unknown ids are ignored.
    pub fn set_unmergeable(&mut self, r: RegionId, unmergeable: bool) {
        self.tree.set_unmergeable(r, unmergeable);
        self.publish_unless_batched();
    }

    /// Switch a ROM device between ROMD mode (reads from memory) and I/O mode
    /// (all accesses to callbacks).
    pub fn set_rom_device_mode(&mut self, r: RegionId, romd: bool) -> Result<()> {
        let res = self.tree.set_rom_device_mode(r, romd);
        self.publish_unless_batched();
        res
    }

    /// Declare `[offset, offset + len)` of the region as coalesced MMIO.
    pub fn add_coalescing(&mut self, r: RegionId, offset: u64, len: u64) -> Result<()> {
        let region = self.tree.region_mut(r)?;
        if u128::from(offset) + u128::from(len) > region.size {
            return Err(MemoryError::OutOfRange {
                name: region.name.clone(),
                offset,
                len,
            });
        }
        region.coalesced.push((offset, len));
        self.coalescing_changed(r, true, Some((offset, len)));
        Ok(())
    }

    /// Drop every coalesced range of the region.
    pub fn clear_coalescing(&mut self, r: RegionId) -> Result<()> {
        self.tree.region(r)?;
        self.coalescing_changed(r, false, None);
        self.tree.region_mut(r)?.coalesced.clear();
        Ok(())
    }

    /// Resize a resizeable RAM region (created by
    /// [`MemorySystem::new_ram_resizeable`]) to `size` bytes, at most its maximum.
    /// Its host address does not change; new pages start dirty.
    pub fn ram_resize(&mut self, r: RegionId, size: u64) -> Result<()> {
        let region = self.tree.region(r)?;
        let name = region.name.clone();
        let RegionKind::Ram { block } = region.kind else {
            return Err(MemoryError::WrongKind {
                name,
                expected: "RAM",
            });
        };
        if size == 0 {
            return Err(MemoryError::InvalidSize {
                name,
                size: 0,
                reason: "must not be zero",
            });
        }
        let b = self
            .ram
            .blocks
            .get_mut(block)
            .ok_or(MemoryError::NoSuchRegion(r))?;
        if size > b.max_length {
            return Err(MemoryError::InvalidSize {
                name,
                size: u128::from(size),
                reason: "larger than the maximum size",
            });
        }
        if let Some(parent) = self.tree.regions[r.index()].parent {
            let p = &self.tree.regions[parent.index()];
            if u128::from(self.tree.regions[r.index()].addr) + u128::from(size) > p.size {
                return Err(MemoryError::OutOfContainer {
                    child: name,
                    parent: p.name.clone(),
                    offset: self.tree.regions[r.index()].addr,
                    size: u128::from(size),
                    parent_size: p.size,
                });
            }
        }
        let old = b.used_length;
        b.used_length = size;
        let ram_start = b.offset;
        if size > old {
            self.ram.dirty.set(
                crate::RamAddr(ram_start.0 + old),
                size - old,
                crate::ram::dirty::DIRTY_CLIENTS_ALL,
            );
        }
        self.tree.regions[r.index()].size = u128::from(size);
        self.mark_changed(r);
        Ok(())
    }
}

/// The parts of coalesced ranges (region offsets) that fall inside `fr`, as
/// address-space ranges.
fn coalesced_pieces(list: &[(u64, u64)], fr: &FlatRange) -> Vec<(GuestAddress, u64)> {
    let lo = u128::from(fr.offset_in_region);
    let hi = lo + fr.size();
    list.iter()
        .filter_map(|&(off, len)| {
            let a = u128::from(off).max(lo);
            let b = (u128::from(off) + u128::from(len)).min(hi);
            (a < b).then(|| (GuestAddress(fr.start + (a - lo) as u64), (b - a) as u64))
        })
        .collect()
}
