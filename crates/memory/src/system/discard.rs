//! RAM discard managers of the memory system: attaching one to a RAM
//! region, populating and discarding granules, telling listeners (the
//! manager itself is in `crate::discard`).

use crate::discard::{RamDiscardListener, RamDiscardListenerId, RamDiscardManager};
use crate::error::{MemoryError, Result};
use crate::region::{RegionId, RegionKind};
use crate::system::MemorySystem;
use bitvec::prelude::*;

impl MemorySystem {
    fn discard_manager(&self, r: RegionId) -> Result<usize> {
        self.discard
            .managers
            .iter()
            .position(|d| d.region == r)
            .ok_or_else(|| MemoryError::WrongKind {
                name: self.tree.name_of(r),
                expected: "RAM with a discard manager",
            })
    }

    /// Give RAM region `r` a discard manager with `granularity` (a power of
    /// two, at least a page, dividing the size). Every granule starts
    /// discarded. Must happen before the region is mapped.
    pub fn set_ram_discard_manager(&mut self, r: RegionId, granularity: u64) -> Result<()> {
        let region = self.tree.region(r)?;
        let name = region.name.clone();
        if !matches!(region.kind, RegionKind::Ram { .. }) {
            return Err(MemoryError::WrongKind {
                name,
                expected: "RAM",
            });
        }
        if region.parent.is_some()
            || !region.alias_users.is_empty()
            || self.discard_manager(r).is_ok()
        {
            return Err(MemoryError::InUse(name));
        }
        if !granularity.is_power_of_two()
            || granularity < crate::PAGE_SIZE
            || region.size % u128::from(granularity) != 0
        {
            return Err(MemoryError::InvalidSize {
                name,
                size: u128::from(granularity),
                reason: "granularity must be a power of two, at least a page, dividing the size",
            });
        }
        let granules = (region.size / u128::from(granularity)) as usize;
        let size = region.size as u64;
        self.discard.managers.push(RamDiscardManager {
            region: r,
            granularity,
            populated: bitvec![u64, Lsb0; 0; granules],
            listeners: Vec::new(),
        });
        self.ram_discard(r, 0, size)
    }

    /// The granule range `[first, end)` for a granule-aligned byte range.
    fn granules(&self, m: usize, offset: u64, len: u64) -> Result<(usize, usize)> {
        let d = &self.discard.managers[m];
        let g = d.granularity;
        let end = offset.checked_add(len);
        let ok = offset % g == 0
            && len % g == 0
            && len > 0
            && end.is_some_and(|e| e / g <= d.populated.len() as u64);
        if !ok {
            return Err(MemoryError::OutOfRange {
                name: self.tree.name_of(d.region),
                offset,
                len,
            });
        }
        Ok(((offset / g) as usize, ((offset + len) / g) as usize))
    }

    /// Populate `[offset, offset + len)` (granule aligned). Listeners hear
    /// `notify_populate` for each run not yet populated; if one refuses, those
    /// already told hear `notify_discard` and nothing changes.
    pub fn ram_discard_populate(&mut self, r: RegionId, offset: u64, len: u64) -> Result<()> {
        let m = self.discard_manager(r)?;
        let (first, end) = self.granules(m, offset, len)?;
        let d = &mut self.discard.managers[m];
        let runs = d.runs(first, end, false);
        let mut told: Vec<(usize, u64, u64)> = Vec::new();
        let mut refusal = None;
        'outer: for (i, (_, listener)) in d.listeners.iter_mut().enumerate() {
            for &(o, l) in &runs {
                match listener.notify_populate(r, o, l) {
                    Ok(()) => told.push((i, o, l)),
                    Err(reason) => {
                        refusal = Some(reason);
                        break 'outer;
                    }
                }
            }
        }
        if let Some(reason) = refusal {
            // Roll back: everyone told so far hears a discard.
            for (i, o, l) in told {
                d.listeners[i].1.notify_discard(r, o, l);
            }
            return Err(MemoryError::InUse(format!(
                "{}: populate refused: {reason}",
                self.tree.name_of(r)
            )));
        }
        self.discard.managers[m].populated[first..end].fill(true);
        Ok(())
    }

    /// Discard `[offset, offset + len)` (granule aligned): listeners hear
    /// `notify_discard` for each populated run, and the memory goes back to the host.
    pub fn ram_discard_discard(&mut self, r: RegionId, offset: u64, len: u64) -> Result<()> {
        let m = self.discard_manager(r)?;
        let (first, end) = self.granules(m, offset, len)?;
        let d = &mut self.discard.managers[m];
        let runs = d.runs(first, end, true);
        for (_, l) in d.listeners.iter_mut() {
            for &(o, n) in &runs {
                l.notify_discard(r, o, n);
            }
        }
        d.populated[first..end].fill(false);
        self.ram_discard(r, offset, len)
    }

    /// Whether every granule of `[offset, offset + len)` is populated.
    pub fn ram_is_populated(&self, r: RegionId, offset: u64, len: u64) -> bool {
        let Ok(m) = self.discard_manager(r) else {
            return false;
        };
        match self.granules(m, offset, len) {
            Ok((first, end)) => self.discard.managers[m].populated[first..end].all(),
            Err(_) => false,
        }
    }

    /// The populated runs `(offset, len)` of the region, in order.
    pub fn ram_populated_ranges(&self, r: RegionId) -> Vec<(u64, u64)> {
        match self.discard_manager(r) {
            Ok(m) => {
                let d = &self.discard.managers[m];
                d.runs(0, d.populated.len(), true)
            }
            Err(_) => Vec::new(),
        }
    }

    /// Register a discard listener on `r`; it hears `notify_populate` for the
    /// populated runs at once (a refusal is returned as an error and the
    /// listener is not registered).
    pub fn register_ram_discard_listener(
        &mut self,
        r: RegionId,
        mut listener: Box<dyn RamDiscardListener>,
    ) -> Result<RamDiscardListenerId> {
        let m = self.discard_manager(r)?;
        for (o, l) in self.ram_populated_ranges(r) {
            if let Err(reason) = listener.notify_populate(r, o, l) {
                return Err(MemoryError::InUse(format!(
                    "{}: replay refused: {reason}",
                    self.tree.name_of(r)
                )));
            }
        }
        let id = RamDiscardListenerId(self.listeners.next);
        self.listeners.next += 1;
        self.discard.managers[m].listeners.push((id, listener));
        Ok(id)
    }

    /// Remove a discard listener; it hears `notify_discard` for the populated runs.
    pub fn unregister_ram_discard_listener(
        &mut self,
        id: RamDiscardListenerId,
    ) -> Option<Box<dyn RamDiscardListener>> {
        for d in &mut self.discard.managers {
            if let Some(pos) = d.listeners.iter().position(|(i, _)| *i == id) {
                let (_, mut l) = d.listeners.remove(pos);
                for (o, n) in d.runs(0, d.populated.len(), true) {
                    l.notify_discard(d.region, o, n);
                }
                return Some(l);
            }
        }
        None
    }
}
