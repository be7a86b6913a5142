//! IOMMU regions: a region whose accesses are translated into another
//! address space, with notifiers for mapping changes (QEMU's
//! `IOMMUMemoryRegion`).
//!
//! An IOMMU region sits in a device's address space like any terminal
//! region. An access that reaches it asks [`IommuOps::translate`] for the
//! entry covering the address; if the entry grants the access, the access
//! continues at the translated address in the entry's target space,
//! otherwise it fails with [`MemTxError::Decode`](crate::MemTxError::Decode).
//! `translate` on the address space reports such a section as `Io`, so a
//! caller that treats it as MMIO (the softmmu) is still right.
//! Device models that cache translations register notifiers with
//! [`MemorySystem::iommu_register_notifier`] and are told of MAP/UNMAP events
//! that intersect their range; [`MemorySystem::iommu_replay`] reports the
//! current mappings to one notifier.

use std::rc::Rc;

use crate::address_space::AddressSpaceId;
use crate::error::{MemoryError, Result};
use crate::ops::MemTxAttrs;
use crate::region::{Region, RegionId, RegionKind};
use crate::system::MemorySystem;

/// The direction of an IOMMU-translated access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IommuAccess {
    /// A read.
    Read,
    /// A write.
    Write,
}

/// Permissions of an IOMMU mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IommuPerm {
    /// Reads allowed.
    pub read: bool,
    /// Writes allowed.
    pub write: bool,
}

impl IommuPerm {
    /// No access.
    pub const NONE: IommuPerm = IommuPerm {
        read: false,
        write: false,
    };
    /// Read and write.
    pub const RW: IommuPerm = IommuPerm {
        read: true,
        write: true,
    };

    /// Whether the access is allowed.
    pub fn allows(self, access: IommuAccess) -> bool {
        match access {
            IommuAccess::Read => self.read,
            IommuAccess::Write => self.write,
        }
    }
}

/// One IOMMU mapping: the aligned block `iova & !addr_mask` of
/// `addr_mask + 1` bytes maps to `translated_addr & !addr_mask` in `target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IommuTlbEntry {
    /// The address space the access continues in.
    pub target: AddressSpaceId,
    /// Input address (region offset) of the block.
    pub iova: u64,
    /// Output address of the block in `target`.
    pub translated_addr: u64,
    /// Low bits that pass through unchanged (block size - 1, e.g. 0xfff).
    pub addr_mask: u64,
    /// What the mapping allows.
    pub perm: IommuPerm,
}

impl IommuTlbEntry {
    /// The output address for region offset `addr`.
    pub fn output(&self, addr: u64) -> u64 {
        (self.translated_addr & !self.addr_mask) | (addr & self.addr_mask)
    }
}

/// The translation logic of an IOMMU region (the IOMMU device model).
pub trait IommuOps {
    /// The mapping covering region offset `addr` for `access`. An unmapped
    /// address returns an entry with [`IommuPerm::NONE`].
    fn translate(&self, addr: u64, access: IommuAccess, attrs: MemTxAttrs) -> IommuTlbEntry;
    /// Smallest mapping size (for replay). Defaults to 4 KiB.
    fn min_page_size(&self) -> u64 {
        crate::PAGE_SIZE
    }
}

impl std::fmt::Debug for dyn IommuOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IommuOps")
    }
}

/// Nesting limit for IOMMUs translating into spaces that hold IOMMUs.
pub(crate) const MAX_IOMMU_DEPTH: u32 = 8;

impl MemorySystem {
    /// The IOMMU ops of `r`, if it is an IOMMU region.
    pub(crate) fn iommu_of(&self, r: RegionId) -> Option<Rc<dyn IommuOps>> {
        match self.regions.get(r.index()).map(|x| &x.kind) {
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
        if self.iommu_depth >= MAX_IOMMU_DEPTH {
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

/// What happened to a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IommuEventKind {
    /// A mapping appeared.
    Map,
    /// A mapping went away.
    Unmap,
}

/// A mapping change, as told to notifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IommuEvent {
    /// Map or unmap.
    pub kind: IommuEventKind,
    /// The mapping (for an unmap, `perm` is [`IommuPerm::NONE`]).
    pub entry: IommuTlbEntry,
}

/// Which events a notifier wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IommuNotifierFlags {
    /// MAP events.
    pub map: bool,
    /// UNMAP events.
    pub unmap: bool,
}

/// Names a registered IOMMU notifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IommuNotifierId(pub(crate) u64);

/// A notifier callback.
pub type IommuNotify = Box<dyn FnMut(&IommuEvent)>;

pub(crate) struct IommuNotifier {
    pub(crate) id: IommuNotifierId,
    pub(crate) region: RegionId,
    pub(crate) flags: IommuNotifierFlags,
    /// Inclusive range of region offsets the notifier covers.
    pub(crate) start: u64,
    pub(crate) last: u64,
    pub(crate) notify: IommuNotify,
}

/// Limit on the blocks one replay visits, so replaying a huge region cannot hang.
const MAX_REPLAY_STEPS: u64 = 1 << 20;

impl MemorySystem {
    /// An IOMMU region of `size` bytes translated by `ops`.
    pub fn new_iommu(&mut self, name: &str, size: u64, ops: Rc<dyn IommuOps>) -> RegionId {
        self.push_region(Region::new(
            name,
            u128::from(size),
            RegionKind::Iommu { ops },
        ))
    }

    fn iommu_ops(&self, r: RegionId) -> Result<Rc<dyn IommuOps>> {
        let region = self.region(r)?;
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
        let id = IommuNotifierId(self.next_listener);
        self.next_listener += 1;
        self.iommu_notifiers.push(IommuNotifier {
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
        let before = self.iommu_notifiers.len();
        self.iommu_notifiers.retain(|n| n.id != id);
        before != self.iommu_notifiers.len()
    }

    /// Report a mapping change of IOMMU region `r` (called by the IOMMU model).
    /// Notifiers whose range intersects the entry and whose flags ask for the
    /// event kind are called.
    pub fn iommu_notify(&mut self, r: RegionId, event: IommuEvent) {
        let lo = event.entry.iova & !event.entry.addr_mask;
        let hi = lo | event.entry.addr_mask;
        for n in self.iommu_notifiers.iter_mut().filter(|n| n.region == r) {
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
        let Some(pos) = self.iommu_notifiers.iter().position(|n| n.id == id) else {
            return Err(MemoryError::NoSuchRegion(crate::region::UNASSIGNED));
        };
        let r = self.iommu_notifiers[pos].region;
        let ops = self.iommu_ops(r)?;
        let size = self.region(r)?.size;
        let (start, mut last) = (
            self.iommu_notifiers[pos].start,
            self.iommu_notifiers[pos].last,
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
                (self.iommu_notifiers[pos].notify)(&event);
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
