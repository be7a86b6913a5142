//! Ferrite's memory API: a re-design of QEMU's.
//!
//! The one rule: **everything the guest can reach is a region in one tree,
//! and every access is answered by the flat view rendered from that tree.**
//!
//! * Regions ([`MemorySystem::new_ram`], [`MemorySystem::new_io`], aliases,
//!   containers, ...) live in an arena and are named by [`RegionId`].
//! * An address space has a root region; its [`FlatView`] is the tree
//!   rendered into sorted, disjoint ranges, shared by every space of that root.
//! * Each flat view owns a radix dispatch table, so [`MemorySystem::translate`]
//!   costs a few array indexings whatever the number of regions.
//! * Changes are batched by [`MemorySystem::begin`]/[`MemorySystem::commit`];
//!   a commit diffs old and new views and tells [`MemoryListener`]s.
//! * RAM lives in anonymous host mappings laid out in one ram-address space
//!   ([`RamAddr`]) covered by three dirty bitmaps ([`DirtyClient`]).
//!
//! See `docs/memory.md` for the model and a worked example.
#![warn(missing_docs)]

mod access;
pub mod address;
mod address_space;
mod dirty;
mod dirty_log;
mod discard;
mod dispatch;
mod error;
mod flatview;
mod guest_bytes;
mod iommu;
mod listener;
mod lookup;
mod memory_device;
pub mod mmio;
mod mtree;
mod ops;
mod ram;
mod region;
mod region_cache;
mod system;
mod transaction;
mod tree;

pub use address::{GuestAddress, PAGE_SHIFT, PAGE_SIZE, RamAddr, RegionSize};
pub use address_space::AddressSpaceId;
pub use dirty::{DIRTY_CLIENTS_ALL, DirtyClient, DirtySnapshot};
pub use discard::{RamDiscardListener, RamDiscardListenerId};
pub use error::{MemoryError, Result};
pub use flatview::{FlatRange, FlatView};
pub use guest_bytes::{GuestBytes, GuestBytesError, SpaceBytes, VecMemory};
pub use iommu::{
    IommuAccess, IommuEvent, IommuEventKind, IommuNotifierFlags, IommuNotifierId, IommuNotify,
    IommuOps, IommuPerm, IommuTlbEntry,
};
pub use listener::{ListenerId, MemoryListener, MemoryRegionSection};
pub use lookup::{SectionKind, SectionLookup};
pub use memory_device::{MemslotStats, PluggedMemoryDevice};
pub use mtree::MtreeOptions;
pub use ops::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxError, MemTxResult, RegionOps,
};
pub use ram::RamHostRef;
pub use region::RegionId;
pub use region_cache::RegionCache;
pub use system::{MemorySystem, RamRangeHook};
