//! The region tree: the arena of regions, how they nest, and every edit of
//! the tree (adding, removing, moving and changing regions).
//!
//! Every edit records the regions it touches in `changed`; the memory
//! system publishes the change (re-renders the affected flat views and
//! tells listeners) at once outside a transaction, at the outermost
//! `commit` inside one. Rendering the tree into flat ranges is [`render`].

pub(crate) mod render;

use std::collections::HashSet;

use crate::error::{MemoryError, Result};
use crate::region::{Region, RegionId, RegionKind, UNASSIGNED};

/// The region arena and what changed in it since the last commit.
#[derive(Debug)]
pub(crate) struct RegionTree {
    /// Every region, indexed by [`RegionId`]; index 0 is `unassigned`.
    pub(crate) regions: Vec<Region>,
    /// Regions changed since the last commit.
    pub(crate) changed: HashSet<RegionId>,
    /// Nesting of open transactions.
    pub(crate) transaction_depth: u32,
}

impl RegionTree {
    /// A tree holding only the built-in `unassigned` region.
    pub(crate) fn new() -> Self {
        Self {
            regions: vec![Region::new(
                "unassigned",
                1u128 << 64,
                RegionKind::Container,
            )],
            changed: HashSet::new(),
            transaction_depth: 0,
        }
    }
}

impl RegionTree {
    /// The region `r` (not the built-in `unassigned` one).
    pub(crate) fn region(&self, r: RegionId) -> Result<&Region> {
        match self.regions.get(r.index()) {
            Some(region) if r != UNASSIGNED => Ok(region),
            _ => Err(MemoryError::NoSuchRegion(r)),
        }
    }

    /// The region `r`, mutably (not the built-in `unassigned` one).
    pub(crate) fn region_mut(&mut self, r: RegionId) -> Result<&mut Region> {
        match self.regions.get_mut(r.index()) {
            Some(region) if r != UNASSIGNED => Ok(region),
            _ => Err(MemoryError::NoSuchRegion(r)),
        }
    }

    /// Add a region to the arena.
    pub(crate) fn push(&mut self, region: Region) -> RegionId {
        self.regions.push(region);
        RegionId((self.regions.len() - 1) as u32)
    }

    /// The region's name, or its id for an unknown one (for messages).
    pub(crate) fn name_of(&self, r: RegionId) -> String {
        self.regions
            .get(r.index())
            .map_or_else(|| format!("{r:?}"), |x| x.name.clone())
    }

    /// The terminal region behind `r` (following aliases).
    pub(crate) fn terminal(&self, r: RegionId) -> RegionId {
        let mut id = r;
        for _ in 0..64 {
            match self.regions.get(id.index()).map(|x| &x.kind) {
                Some(RegionKind::Alias { target, .. }) => id = *target,
                _ => break,
            }
        }
        id
    }

    /// The first region created with `name`.
    pub(crate) fn find(&self, name: &str) -> Option<RegionId> {
        self.regions
            .iter()
            .skip(1)
            .position(|r| r.name == name)
            .map(|i| RegionId(i as u32 + 1))
    }

    /// Map `child` at `offset` in `parent` with `priority` (see
    /// `MemorySystem::add_subregion_overlap`).
    pub(crate) fn add_subregion_common(
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
        self.changed.insert(child);
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
    pub(crate) fn del_subregion(&mut self, parent: RegionId, child: RegionId) -> Result<()> {
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
        self.changed.insert(parent);
        Ok(())
    }

    /// Enable or disable a region (a disabled region and its subtree show nothing).
    /// Unknown ids are ignored.
    pub(crate) fn set_enabled(&mut self, r: RegionId, on: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.enabled != on
        {
            region.enabled = on;
            self.changed.insert(r);
        }
    }

    /// Move a mapped region to `addr` within its parent (it is re-added, so it
    /// becomes the most recent among its priority, as in QEMU). An unmapped
    /// region just records the address.
    pub(crate) fn set_address(&mut self, r: RegionId, addr: u64) -> Result<()> {
        let region = self.region(r)?;
        let Some(parent) = region.parent else {
            self.region_mut(r)?.addr = addr;
            return Ok(());
        };
        if region.addr == addr {
            return Ok(());
        }
        self.check_fits(parent, addr, r)?;
        self.remove_from_parent(parent, r);
        self.regions[r.index()].addr = addr;
        self.insert_in_parent(parent, r);
        self.changed.insert(r);
        Ok(())
    }

    /// Change a mapped region's priority (it is re-added, as in QEMU).
    pub(crate) fn set_priority(&mut self, r: RegionId, priority: i32) -> Result<()> {
        let region = self.region_mut(r)?;
        region.priority = priority;
        if let Some(parent) = region.parent {
            self.remove_from_parent(parent, r);
            self.insert_in_parent(parent, r);
            self.changed.insert(r);
        }
        Ok(())
    }

    /// Change the offset of an alias's window in its target.
    pub(crate) fn set_alias_offset(&mut self, r: RegionId, offset: u64) -> Result<()> {
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
        self.changed.insert(r);
        Ok(())
    }

    /// Mark a region read-only (writes refused) or writable. Unknown ids are ignored.
    pub(crate) fn set_readonly(&mut self, r: RegionId, readonly: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.readonly != readonly
        {
            region.readonly = readonly;
            self.changed.insert(r);
        }
    }

    /// Mark a region non-volatile. Unknown ids are ignored.
    pub(crate) fn set_nonvolatile(&mut self, r: RegionId, nonvolatile: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.nonvolatile != nonvolatile
        {
            region.nonvolatile = nonvolatile;
            self.changed.insert(r);
        }
    }

    /// Keep the flat ranges of this region (and everything it contains or
    /// aliases) separate from their neighbours. Unknown ids are ignored.
    pub(crate) fn set_unmergeable(&mut self, r: RegionId, unmergeable: bool) {
        if let Ok(region) = self.region_mut(r)
            && region.unmergeable != unmergeable
        {
            region.unmergeable = unmergeable;
            self.changed.insert(r);
        }
    }

    /// Switch a ROM device between ROMD mode (reads from memory) and I/O mode
    /// (all accesses to callbacks).
    pub(crate) fn set_rom_device_mode(&mut self, r: RegionId, romd: bool) -> Result<()> {
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
            self.changed.insert(r);
        }
        Ok(())
    }
}
