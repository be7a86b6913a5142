//! Tree operations: adding, removing, moving and changing regions.
//!
//! Every change marks the regions it touches; outside a transaction it is
//! committed at once, inside one it waits for the outermost `commit`.

use crate::error::{MemoryError, Result};
use crate::region::{RegionId, RegionKind};
use crate::system::MemorySystem;

impl MemorySystem {
    /// Map `child` at `offset` in `parent` with priority 0, not expected to overlap.
    pub fn add_subregion(&mut self, parent: RegionId, offset: u64, child: RegionId) -> Result<()> {
        self.add_subregion_common(parent, offset, child, 0, false)
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
        self.add_subregion_common(parent, offset, child, priority, true)
    }

    fn add_subregion_common(
        &mut self,
        parent: RegionId,
        offset: u64,
        child: RegionId,
        priority: i32,
        may_overlap: bool,
    ) -> Result<()> {
        let p = self.region(parent)?;
        let c = self.region(child)?;
        if let Some(old) = c.parent {
            return Err(MemoryError::AlreadyMapped {
                child: c.name.clone(),
                parent: self.name_of(old),
            });
        }
        if matches!(p.kind, RegionKind::Alias { .. }) {
            return Err(MemoryError::WrongKind {
                name: p.name.clone(),
                expected: "a region that can hold subregions",
            });
        }
        self.check_fits(parent, offset, child)?;
        if self.reaches(child, parent) {
            return Err(MemoryError::Cycle {
                child: self.name_of(child),
                parent: self.name_of(parent),
            });
        }
        let c = self.region_mut(child)?;
        c.parent = Some(parent);
        c.addr = offset;
        c.priority = priority;
        c.may_overlap = may_overlap;
        self.insert_in_parent(parent, child);
        self.mark_changed(child);
        Ok(())
    }

    /// Error unless `child` placed at `offset` lies inside `parent`.
    fn check_fits(&self, parent: RegionId, offset: u64, child: RegionId) -> Result<()> {
        let p = self.region(parent)?;
        let c = self.region(child)?;
        if u128::from(offset) + c.size > p.size {
            return Err(MemoryError::OutOfContainer {
                child: c.name.clone(),
                parent: p.name.clone(),
                offset,
                size: c.size,
                parent_size: p.size,
            });
        }
        Ok(())
    }

    /// Whether `to` can be reached from `from` through subregions and alias targets.
    fn reaches(&self, from: RegionId, to: RegionId) -> bool {
        let mut stack = vec![from];
        let mut seen = std::collections::HashSet::new();
        while let Some(r) = stack.pop() {
            if r == to {
                return true;
            }
            if !seen.insert(r) {
                continue;
            }
            let Some(region) = self.regions.get(r.index()) else {
                continue;
            };
            stack.extend(region.subregions.iter().copied());
            if let RegionKind::Alias { target, .. } = region.kind {
                stack.push(target);
            }
        }
        false
    }

    /// Insert `child` into `parent`'s list after every sibling of lower or
    /// equal priority (the list runs from least to most precedence, so the
    /// later-added wins among equals, and the common case is a push).
    fn insert_in_parent(&mut self, parent: RegionId, child: RegionId) {
        let prio = self.regions[child.index()].priority;
        let regions = &self.regions;
        let list = &regions[parent.index()].subregions;
        let pos = list
            .iter()
            .rposition(|&o| regions[o.index()].priority <= prio)
            .map_or(0, |i| i + 1);
        self.regions[parent.index()].subregions.insert(pos, child);
    }

    fn remove_from_parent(&mut self, parent: RegionId, child: RegionId) {
        self.regions[parent.index()]
            .subregions
            .retain(|&c| c != child);
    }

    /// Unmap `child` from `parent`.
    pub fn del_subregion(&mut self, parent: RegionId, child: RegionId) -> Result<()> {
        let c = self.region(child)?;
        self.region(parent)?;
        if c.parent != Some(parent) {
            return Err(MemoryError::NotASubregion {
                child: c.name.clone(),
                parent: self.name_of(parent),
            });
        }
        self.remove_from_parent(parent, child);
        self.regions[child.index()].parent = None;
        self.mark_changed(parent);
        Ok(())
    }

    /// Enable or disable a region (a disabled region and its subtree show nothing).
    /// Unknown ids are ignored.
    pub fn set_enabled(&mut self, r: RegionId, on: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.enabled != on
        {
            region.enabled = on;
            self.mark_changed(r);
        }
    }

    /// Move a mapped region to `addr` within its parent (it is re-added, so it
    /// becomes the most recent among its priority, as in QEMU). An unmapped
    /// region just records the address.
    pub fn set_address(&mut self, r: RegionId, addr: u64) -> Result<()> {
        let region = self.region(r)?;
        let Some(parent) = region.parent else {
            self.region_mut(r)?.addr = addr;
            return Ok(());
        };
        if region.addr == addr {
            return Ok(());
        }
        self.check_fits(parent, addr, r)?;
        self.begin();
        self.remove_from_parent(parent, r);
        self.regions[r.index()].addr = addr;
        self.insert_in_parent(parent, r);
        self.mark_changed(r);
        self.commit();
        Ok(())
    }

    /// Change a mapped region's priority (it is re-added, as in QEMU).
    pub fn set_priority(&mut self, r: RegionId, priority: i32) -> Result<()> {
        let region = self.region_mut(r)?;
        region.priority = priority;
        if let Some(parent) = region.parent {
            self.remove_from_parent(parent, r);
            self.insert_in_parent(parent, r);
            self.mark_changed(r);
        }
        Ok(())
    }

    /// Change the offset of an alias's window in its target.
    pub fn set_alias_offset(&mut self, r: RegionId, offset: u64) -> Result<()> {
        let region = self.region(r)?;
        let RegionKind::Alias { target, .. } = region.kind else {
            return Err(MemoryError::WrongKind {
                name: region.name.clone(),
                expected: "an alias",
            });
        };
        let t = self.region(target)?;
        if u128::from(offset) + region.size > t.size {
            return Err(MemoryError::AliasOutOfBounds {
                alias: region.name.clone(),
                target: t.name.clone(),
                offset,
                size: region.size,
                target_size: t.size,
            });
        }
        self.regions[r.index()].kind = RegionKind::Alias { target, offset };
        self.mark_changed(r);
        Ok(())
    }

    /// Mark a region read-only (writes refused) or writable. Unknown ids are ignored.
    pub fn set_readonly(&mut self, r: RegionId, readonly: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.readonly != readonly
        {
            region.readonly = readonly;
            self.mark_changed(r);
        }
    }

    /// Mark a region non-volatile. Unknown ids are ignored.
    pub fn set_nonvolatile(&mut self, r: RegionId, nonvolatile: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.nonvolatile != nonvolatile
        {
            region.nonvolatile = nonvolatile;
            self.mark_changed(r);
        }
    }

    /// Keep the flat ranges of this region (and everything it contains or
    /// aliases) separate from their neighbours. Unknown ids are ignored.
    pub fn set_unmergeable(&mut self, r: RegionId, unmergeable: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.unmergeable != unmergeable
        {
            region.unmergeable = unmergeable;
            self.mark_changed(r);
        }
    }

    /// Switch a ROM device between ROMD mode (reads from memory) and I/O mode
    /// (all accesses to callbacks).
    pub fn set_rom_device_mode(&mut self, r: RegionId, romd: bool) -> Result<()> {
        let region = self.region_mut(r)?;
        let RegionKind::RomDevice {
            romd: ref mut mode, ..
        } = region.kind
        else {
            return Err(MemoryError::WrongKind {
                name: region.name.clone(),
                expected: "a ROM device",
            });
        };
        if *mode != romd {
            *mode = romd;
            self.mark_changed(r);
        }
        Ok(())
    }

    /// Declare `[offset, offset + len)` of the region as coalesced MMIO.
    pub fn add_coalescing(&mut self, r: RegionId, offset: u64, len: u64) -> Result<()> {
        let region = self.region_mut(r)?;
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
        self.region(r)?;
        self.coalescing_changed(r, false, None);
        self.region_mut(r)?.coalesced.clear();
        Ok(())
    }

    /// Resize a resizeable RAM region (created by
    /// [`MemorySystem::new_ram_resizeable`]) to `size` bytes, at most its maximum.
    /// Its host address does not change; new pages start dirty.
    pub fn ram_resize(&mut self, r: RegionId, size: u64) -> Result<()> {
        let region = self.region(r)?;
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
            .get_mut(block)
            .ok_or(MemoryError::NoSuchRegion(r))?;
        if size > b.max_length {
            return Err(MemoryError::InvalidSize {
                name,
                size: u128::from(size),
                reason: "larger than the maximum size",
            });
        }
        if let Some(parent) = self.regions[r.index()].parent {
            let p = &self.regions[parent.index()];
            if u128::from(self.regions[r.index()].addr) + u128::from(size) > p.size {
                return Err(MemoryError::OutOfContainer {
                    child: name,
                    parent: p.name.clone(),
                    offset: self.regions[r.index()].addr,
                    size: u128::from(size),
                    parent_size: p.size,
                });
            }
        }
        let old = b.used_length;
        b.used_length = size;
        let ram_start = b.offset;
        if size > old {
            self.dirty.set(
                crate::RamAddr(ram_start.0 + old),
                size - old,
                crate::dirty::DIRTY_CLIENTS_ALL,
            );
        }
        self.regions[r.index()].size = u128::from(size);
        self.mark_changed(r);
        Ok(())
    }
}
