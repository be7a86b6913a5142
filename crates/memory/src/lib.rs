//! Ferrite's memory API: a re-design of QEMU's.
//!
//! The one rule: **everything the guest can reach is a region in one tree,
//! and every access is answered by the flat view rendered from that tree.**
//!
//! * Regions ([`MemorySystem::new_ram`], [`MemorySystem::new_io`], aliases,
//!   containers, ...) live in an arena and are named by [`RegionId`].
//! * An address space has a root region; its [`FlatView`] is the tree
//!   rendered into sorted, disjoint ranges, shared by every space of that root.
//! * Each flat view owns a radix dispatch table, so [`MemorySystem::lookup_section`]
//!   costs a few array indexings whatever the number of regions.
//! * Changes are batched by [`MemorySystem::begin`]/[`MemorySystem::commit`];
//!   a commit diffs old and new views and tells [`MemoryListener`]s.
//! * RAM lives in anonymous host mappings laid out in one ram-address space
//!   ([`RamAddr`]) covered by three dirty bitmaps ([`DirtyClient`]).
//!
//! # Parts
//!
//! [`MemorySystem`] is a facade over parts with one job each, none of which
//! knows the others or the facade (the module graph has no cycle):
//!
//! | module | holds |
//! |---|---|
//! | `ids`, `address`, `ops`, `error` | ids, address newtypes, access types, errors |
//! | `region` | the region node and its kinds |
//! | `tree` | the region arena, tree edits, and rendering into flat ranges |
//! | `view` | address spaces, flat views, sections, dispatch, lookups |
//! | `ram` | host mappings, RAM blocks, dirty bitmaps |
//! | `listener` | memory listeners and their registry |
//! | `iommu`, `discard`, `memory_device` | IOMMU notifiers, RAM discard managers, device memory |
//! | `mmio` | access-size rules and callback dispatch |
//! | `system` | the facade: constructors, access, transactions and publishing, dirty log, mtree, region caches |
//!
//! See `docs/memory.md` for the model and a worked example.
#![warn(missing_docs)]

pub mod address;
mod deferred;
mod discard;
mod error;
mod guest_bytes;
mod ids;
mod iommu;
mod listener;
mod memory_device;
pub mod mmio;
mod ops;
mod ram;
mod region;
mod system;
mod tree;
mod view;

pub use address::{GuestAddress, PAGE_SHIFT, PAGE_SIZE, RamAddr, RegionSize};
pub use deferred::DeferredChanges;
pub use discard::{RamDiscardListener, RamDiscardListenerId};
pub use error::{MemoryError, Result};
pub use guest_bytes::{GuestBytes, GuestBytesError, VecMemory};
pub use ids::{AddressSpaceId, RegionId};
pub use iommu::{
    IommuAccess, IommuEvent, IommuEventKind, IommuNotifierFlags, IommuNotifierId, IommuNotify,
    IommuOps, IommuPerm, IommuTlbEntry,
};
pub use listener::{ListenerId, MemoryListener, MemoryRegionSection};
pub use memory_device::{MemslotStats, PluggedMemoryDevice};
pub use ops::{
    AccessConstraints, Endianness, Engaged, IoDescriptor, MemTxAttrs, MemTxError, MemTxResult,
    ReentrancyGuard, RegionOps,
};
pub use ram::RamRangeHook;
pub use ram::dirty::{DIRTY_CLIENTS_ALL, DirtyClient, DirtySnapshot};
pub use ram::host::RamHostRef;
pub use system::MemorySystem;
pub use system::guest_bytes::SpaceBytes;
pub use system::mtree::MtreeOptions;
pub use system::region_cache::RegionCache;
pub use view::flatview::{FlatRange, FlatView};
pub use view::lookup::{SectionKind, SectionLookup};
