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

use crate::ids::AddressSpaceId;
use crate::ids::RegionId;
use crate::ops::MemTxAttrs;

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

/// IOMMU notifiers, and how deep the current access is in IOMMU
/// translations (a bound against translation loops).
#[derive(Default)]
pub(crate) struct IommuNotifiers {
    pub(crate) notifiers: Vec<IommuNotifier>,
    pub(crate) depth: u32,
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
pub(crate) const MAX_REPLAY_STEPS: u64 = 1 << 20;
