//! Regions: the nodes of the memory tree, kept in an arena and named by
//! [`RegionId`].

use std::rc::Rc;

pub(crate) use crate::ids::{RegionId, UNASSIGNED};
use crate::ops::{IoDescriptor, RegionOps};
use crate::ram::blocks::RamBlockIndex;

/// What a region is.
#[derive(Clone, Debug)]
pub(crate) enum RegionKind {
    /// Holds subregions only.
    Container,
    /// Host memory, read and written directly.
    Ram { block: RamBlockIndex },
    /// Host memory, read directly, writes ignored (except debug writes).
    Rom { block: RamBlockIndex },
    /// Reads from host memory while in ROMD mode; writes (and reads outside ROMD mode) go to callbacks.
    RomDevice {
        block: RamBlockIndex,
        ops: Rc<dyn RegionOps>,
        romd: bool,
    },
    /// Callbacks only.
    Io { ops: Rc<dyn RegionOps> },
    /// Host memory reached only through sized accesses.
    RamDevice { block: RamBlockIndex },
    /// Accesses translated by an IOMMU into another address space.
    Iommu { ops: Rc<dyn crate::iommu::IommuOps> },
    /// A window onto `[offset, offset + size)` of `target`.
    Alias {
        target: super::RegionId,
        offset: u64,
    },
}

/// One region of the tree.
#[derive(Clone, Debug)]
pub(crate) struct Region {
    pub(crate) name: String,
    /// Size in bytes; up to 2^64.
    pub(crate) size: u128,
    pub(crate) kind: RegionKind,
    pub(crate) enabled: bool,
    pub(crate) readonly: bool,
    pub(crate) nonvolatile: bool,
    pub(crate) unmergeable: bool,
    /// Priority among the siblings in the parent.
    pub(crate) priority: i32,
    /// Whether the region was added with `add_subregion_overlap`.
    pub(crate) may_overlap: bool,
    /// Address within the parent.
    pub(crate) addr: u64,
    pub(crate) parent: Option<RegionId>,
    /// Children from least to most precedence: lower priority first, and
    /// among equal priorities the earliest added first. Rendering walks the
    /// list backwards.
    pub(crate) subregions: Vec<RegionId>,
    /// Aliases that point at this region.
    pub(crate) alias_users: Vec<RegionId>,
    /// Dirty-log clients (bit per [`DirtyClient`](crate::DirtyClient)) asked for by `set_log`.
    pub(crate) dirty_log_mask: u8,
    /// Coalesced MMIO ranges `(offset, len)` inside the region.
    pub(crate) coalesced: Vec<(u64, u64)>,
    /// Access rules of the callbacks (I/O and ROM-device regions).
    pub(crate) descriptor: IoDescriptor,
    /// Address spaces whose root this is (kept for `mtree`).
    pub(crate) is_root: bool,
}

impl Region {
    pub(crate) fn new(name: &str, size: u128, kind: RegionKind) -> Self {
        let descriptor = match &kind {
            RegionKind::Io { ops } | RegionKind::RomDevice { ops, .. } => ops.descriptor(),
            RegionKind::RamDevice { .. } => IoDescriptor {
                valid: crate::ops::AccessConstraints {
                    min_access_size: 1,
                    max_access_size: 8,
                    unaligned: true,
                },
                implementation: crate::ops::AccessConstraints {
                    min_access_size: 1,
                    max_access_size: 8,
                    unaligned: true,
                },
                endianness: crate::ops::Endianness::Little,
            },
            _ => IoDescriptor::default(),
        };
        Region {
            name: name.to_string(),
            size,
            kind,
            enabled: true,
            readonly: false,
            nonvolatile: false,
            unmergeable: false,
            priority: 0,
            may_overlap: false,
            addr: 0,
            parent: None,
            subregions: Vec::new(),
            alias_users: Vec::new(),
            dirty_log_mask: 0,
            coalesced: Vec::new(),
            descriptor,
            is_root: false,
        }
    }

    /// Whether the region itself serves accesses (as opposed to a container or alias).
    pub(crate) fn terminates(&self) -> bool {
        !matches!(self.kind, RegionKind::Container | RegionKind::Alias { .. })
    }

    /// The RAM block behind the region, if any.
    pub(crate) fn ram_block(&self) -> Option<RamBlockIndex> {
        match self.kind {
            RegionKind::Ram { block }
            | RegionKind::Rom { block }
            | RegionKind::RomDevice { block, .. }
            | RegionKind::RamDevice { block } => Some(block),
            _ => None,
        }
    }
}
