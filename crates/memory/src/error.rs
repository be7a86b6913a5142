//! Errors of the memory API (host-side mistakes, never guest faults).

use crate::ids::RegionId;

/// Everything that can go wrong when building or changing the memory tree.
/// Each variant's message names the problem.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum MemoryError {
    /// The region id does not name a region of this memory system.
    #[error("no such region: {0:?}")]
    NoSuchRegion(RegionId),
    /// The address space id does not name an address space of this memory system.
    #[error("no such address space")]
    NoSuchAddressSpace,
    /// The region is already a subregion of some container.
    #[error("region `{child}` is already mapped in `{parent}`")]
    AlreadyMapped {
        /// The region being added.
        child: String,
        /// Its current parent.
        parent: String,
    },
    /// The region is not a subregion of the given container.
    #[error("region `{child}` is not a subregion of `{parent}`")]
    NotASubregion {
        /// The region being removed or changed.
        child: String,
        /// The container named in the call.
        parent: String,
    },
    /// Adding the region would make the tree contain itself (through aliases or nesting).
    #[error("adding `{child}` to `{parent}` would create a cycle")]
    Cycle {
        /// The region being added.
        child: String,
        /// The container.
        parent: String,
    },
    /// An alias window that does not lie inside its target region.
    #[error(
        "alias `{alias}` window {offset:#x}+{size:#x} lies outside `{target}` (size {target_size:#x})"
    )]
    AliasOutOfBounds {
        /// The alias.
        alias: String,
        /// The aliased region.
        target: String,
        /// Offset of the window in the target.
        offset: u64,
        /// Size of the window.
        size: u128,
        /// Size of the target.
        target_size: u128,
    },
    /// A child placed so that it would reach past the end of its container.
    #[error(
        "`{child}` at {offset:#x} (size {size:#x}) reaches past the end of `{parent}` (size {parent_size:#x})"
    )]
    OutOfContainer {
        /// The child.
        child: String,
        /// The container.
        parent: String,
        /// Requested address of the child in the container.
        offset: u64,
        /// Size of the child.
        size: u128,
        /// Size of the container.
        parent_size: u128,
    },
    /// The operation needs a different kind of region.
    #[error("region `{name}` is not {expected}")]
    WrongKind {
        /// The region.
        name: String,
        /// What kind the operation needs, e.g. "an alias".
        expected: &'static str,
    },
    /// Host memory for RAM could not be reserved.
    #[error("cannot map {size:#x} bytes of host memory for `{name}`: {reason}")]
    HostMemory {
        /// The region.
        name: String,
        /// The requested size.
        size: u64,
        /// The operating system's message.
        reason: String,
    },
    /// A size that the operation does not accept (zero, or larger than allowed).
    #[error("invalid size {size:#x} for `{name}`: {reason}")]
    InvalidSize {
        /// The region.
        name: String,
        /// The rejected size.
        size: u128,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A range outside the region it is meant to lie in.
    #[error("range {offset:#x}+{len:#x} lies outside `{name}`")]
    OutOfRange {
        /// The region.
        name: String,
        /// Offset of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
    },
    /// No device-memory window was set up.
    #[error("no device-memory window")]
    NoDeviceMemory,
    /// A memory device does not fit in the device-memory window.
    #[error(
        "memory device `{name}` ({size:#x} bytes, aligned to {align:#x}) does not fit in device memory"
    )]
    NoRoom {
        /// The device's region.
        name: String,
        /// Its size.
        size: u128,
        /// The alignment asked for.
        align: u64,
    },
    /// The requested address for a memory device is misaligned, outside the window or taken.
    #[error("memory device `{name}` cannot be placed at {addr:#x}: {reason}")]
    AddressUnavailable {
        /// The device's region.
        name: String,
        /// The requested address.
        addr: u64,
        /// Why.
        reason: &'static str,
    },
    /// Not enough free memory slots for a memory device.
    #[error("memory device `{name}` needs {needed} memslots, {free} free")]
    MemslotsExhausted {
        /// The device's region.
        name: String,
        /// Slots asked for.
        needed: u32,
        /// Slots free.
        free: u32,
    },
    /// The region is still in use (mapped or aliased) and cannot be changed that way.
    #[error("region `{0}` is in use")]
    InUse(String),
}

/// Result of memory-tree operations.
pub type Result<T> = std::result::Result<T, MemoryError>;
