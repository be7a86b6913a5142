//! IOMMU regions of the memory system: creating them, translating through
//! them, and their notifiers (the types are in `crate::iommu`).

use crate::error::{MemoryError, Result};
use crate::ids::AddressSpaceId;
use crate::iommu::*;
use crate::ops::MemTxAttrs;
use crate::region::{Region, RegionId, RegionKind};
use crate::system::MemorySystem;
use std::rc::Rc;

impl MemorySystem {
    /// The IOMMU ops of `r`, if it is an IOMMU region.
    pub(crate) fn iommu_of(&self, r: RegionId) -> Option<Rc<dyn IommuOps>> {
        match self.tree.regions.get(r.index()).map(|x| &x.kind) {
            Some(RegionKind::Iommu { ops }) => Some(ops.clone()),
            _ => None,
        }
    }

    /// Translate an access of `len` bytes at IOMMU offset `offset`: the target
    /// space, the output address and how many of the bytes the mapping covers.
    pub(crate) fn iommu_step(
        &self,
        ops: &Rc<dyn IommuOps>,
        offset: u64,
        len: u64,
        access: IommuAccess,
        attrs: MemTxAttrs,
    ) -> crate::MemTxResult<(AddressSpaceId, crate::GuestAddress, u64)> {
        if self.iommu.depth >= MAX_IOMMU_DEPTH {
            return Err(crate::MemTxError::Decode);
        }
        let e = ops.translate(offset, access, attrs);
        if !e.perm.allows(access) {
            return Err(crate::MemTxError::Decode);
        }
        let in_block = (e.addr_mask - (offset & e.addr_mask)).saturating_add(1);
        Ok((
            e.target,
            crate::GuestAddress(e.output(offset)),
            len.min(in_block),
        ))
    }
}

impl MemorySystem {
    /// An IOMMU region of `size` bytes translated by `ops`.
    pub fn new_iommu(&mut self, name: &str, size: u64, ops: Rc<dyn IommuOps>) -> RegionId {
        self.tree.push(Region::new(
            name,
            u128::from(size),
            RegionKind::Iommu { ops },
        ))
    }

    fn iommu_ops(&self, r: RegionId) -> Result<Rc<dyn IommuOps>> {
        let region = self.tree.region(r)?;
        match &region.kind {
            RegionKind::Iommu { ops } => Ok(ops.clone()),
            _ => Err(MemoryError::WrongKind {
                name: region.name.clone(),
                expected: "an IOMMU region",
            }),
        }
    }

    /// Translate region offset `addr` of IOMMU region `r` for `access`.
    pub fn iommu_translate(
        &self,
        r: RegionId,
        addr: u64,
        access: IommuAccess,
        attrs: MemTxAttrs,
    ) -> Result<IommuTlbEntry> {
        Ok(self.iommu_ops(r)?.translate(addr, access, attrs))
    }

    /// Be told of MAP and/or UNMAP events of `r` that intersect region offsets `[start, last]`.
    pub fn iommu_register_notifier(
        &mut self,
        r: RegionId,
        flags: IommuNotifierFlags,
        start: u64,
        last: u64,
        notify: IommuNotify,
    ) -> Result<IommuNotifierId> {
        self.iommu_ops(r)?;
        let id = IommuNotifierId(self.listeners.next);
        self.listeners.next += 1;
        self.iommu.notifiers.push(IommuNotifier {
            id,
            region: r,
            flags,
            start,
            last,
            notify,
        });
        Ok(id)
    }

    /// Remove a notifier; false if unknown.
    pub fn iommu_unregister_notifier(&mut self, id: IommuNotifierId) -> bool {
        let before = self.iommu.notifiers.len();
        self.iommu.notifiers.retain(|n| n.id != id);
        before != self.iommu.notifiers.len()
    }

    /// Report a mapping change of IOMMU region `r` (called by the IOMMU model).
    /// Notifiers whose range intersects the entry and whose flags ask for the
    /// event kind are called.
    pub fn iommu_notify(&mut self, r: RegionId, event: IommuEvent) {
        let lo = event.entry.iova & !event.entry.addr_mask;
        let hi = lo | event.entry.addr_mask;
        for n in self.iommu.notifiers.iter_mut().filter(|n| n.region == r) {
            let wanted = match event.kind {
                IommuEventKind::Map => n.flags.map,
                IommuEventKind::Unmap => n.flags.unmap,
            };
            if wanted && lo <= n.last && n.start <= hi {
                (n.notify)(&event);
            }
        }
    }

    /// Tell notifier `id` about every current mapping in its range (QEMU's
    /// default replay: translate block by block, report those with any permission).
    pub fn iommu_replay(&mut self, id: IommuNotifierId) -> Result<()> {
        let Some(pos) = self.iommu.notifiers.iter().position(|n| n.id == id) else {
            return Err(MemoryError::NoSuchRegion(crate::region::UNASSIGNED));
        };
        let r = self.iommu.notifiers[pos].region;
        let ops = self.iommu_ops(r)?;
        let size = self.tree.region(r)?.size;
        let (start, mut last) = (
            self.iommu.notifiers[pos].start,
            self.iommu.notifiers[pos].last,
        );
        if size == 0 {
            return Ok(());
        }
        if u128::from(last) >= size {
            last = (size - 1) as u64;
        }
        let step_min = ops.min_page_size().max(1);
        let mut addr = start;
        let mut steps = 0;
        while addr <= last && steps < MAX_REPLAY_STEPS {
            steps += 1;
            let entry = ops.translate(addr, IommuAccess::Read, MemTxAttrs::default());
            let entry = if entry.perm == IommuPerm::NONE {
                ops.translate(addr, IommuAccess::Write, MemTxAttrs::default())
            } else {
                entry
            };
            if entry.perm != IommuPerm::NONE {
                let event = IommuEvent {
                    kind: IommuEventKind::Map,
                    entry,
                };
                (self.iommu.notifiers[pos].notify)(&event);
            }
            let block = entry.addr_mask.max(step_min - 1);
            match (addr | block).checked_add(1) {
                Some(next) => addr = next,
                None => break,
            }
        }
        Ok(())
    }
}
