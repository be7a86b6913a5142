//! What a device sees: transaction attributes and results, access
//! constraints, and the [`RegionOps`] callbacks.

use std::fmt;

/// Attributes of one memory transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemTxAttrs {
    /// Who issued the access (a hart id, or a device's requester id).
    pub requester_id: u16,
    /// A secure-world access.
    pub secure: bool,
    /// A debugger or loader access: also writes ROM contents, and never has side
    /// effects on dirty tracking hooks beyond marking pages dirty.
    pub debug: bool,
}

/// Why a transaction failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MemTxError {
    /// Nothing is mapped at the address, or the region refuses the access size or alignment.
    #[error("decode error")]
    Decode,
    /// The device answered with an error.
    #[error("device error")]
    Device,
}

/// Result of a memory transaction.
pub type MemTxResult<T> = std::result::Result<T, MemTxError>;

/// Byte order of an access or of a device's registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Endianness {
    /// Least significant byte at the lowest address.
    #[default]
    Little,
    /// Most significant byte at the lowest address.
    Big,
}

/// Access-size rules, as QEMU's `MemoryRegionOps.valid` / `.impl`.
///
/// A zero `max_access_size` keeps QEMU's meaning: for `valid`, "any size is
/// valid"; for `implementation`, "4". A zero `min_access_size` means 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccessConstraints {
    /// Smallest access size in bytes (0 = 1).
    pub min_access_size: u32,
    /// Largest access size in bytes (0 = see the type's doc).
    pub max_access_size: u32,
    /// Whether accesses not aligned to their size are allowed.
    pub unaligned: bool,
}

impl AccessConstraints {
    /// Constraints allowing sizes `min..=max`, aligned only.
    pub const fn sizes(min: u32, max: u32) -> Self {
        AccessConstraints {
            min_access_size: min,
            max_access_size: max,
            unaligned: false,
        }
    }
}

/// How a region's callbacks want to be accessed.
///
/// The default is QEMU's: every size valid (but aligned only), implemented
/// sizes 1..=4, little endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IoDescriptor {
    /// Which accesses the region accepts at all; others fail with [`MemTxError::Decode`].
    pub valid: AccessConstraints,
    /// Which access sizes the callbacks implement; others are split or widened.
    pub implementation: AccessConstraints,
    /// Byte order of the region's registers.
    pub endianness: Endianness,
}

/// Device callbacks. Devices keep their state in `Cell`/`RefCell`, so the
/// callbacks take `&self`. Offsets are relative to the region; values are in
/// the region's endianness, in the low `size` bytes.
pub trait RegionOps {
    /// Read `size` bytes at `offset`.
    fn read(&self, offset: u64, size: u32, attrs: MemTxAttrs) -> MemTxResult<u64>;
    /// Write the low `size` bytes of `value` at `offset`.
    fn write(&self, offset: u64, value: u64, size: u32, attrs: MemTxAttrs) -> MemTxResult<()>;
    /// The region's access rules. Asked when the region is created.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor::default()
    }
    /// The device's re-entrancy guard, for a device that moves data itself
    /// (DMA): while the guard is engaged, accesses to this region are
    /// refused (see [`ReentrancyGuard`]). Devices without DMA keep the
    /// default, none.
    fn reentrancy_guard(&self) -> Option<&ReentrancyGuard> {
        None
    }
}

/// A device's guard against its own DMA reaching its registers (QEMU's
/// `MemReentrancyGuard`).
///
/// A device engages the guard for as long as it moves data through guest
/// memory; an access that reaches one of its regions meanwhile (a buffer or
/// ring placed inside its own register window) is refused with
/// [`MemTxError::Device`] and logged as a guest error, so the device's code
/// is never re-entered while it is in the middle of a request. The device
/// then fails the request as its specification says.
#[derive(Debug, Default)]
pub struct ReentrancyGuard {
    engaged: std::cell::Cell<bool>,
}

impl ReentrancyGuard {
    /// A guard not engaged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the device is moving data now.
    pub fn is_engaged(&self) -> bool {
        self.engaged.get()
    }

    /// Engage the guard until the returned token is dropped; `None` if it is
    /// engaged already (the device is being re-entered).
    pub fn engage(&self) -> Option<Engaged<'_>> {
        if self.engaged.replace(true) {
            return None;
        }
        Some(Engaged(self))
    }
}

/// An engaged [`ReentrancyGuard`]; dropping it disengages the guard.
#[derive(Debug)]
pub struct Engaged<'a>(&'a ReentrancyGuard);

impl Drop for Engaged<'_> {
    fn drop(&mut self) {
        self.0.engaged.set(false);
    }
}

impl fmt::Debug for dyn RegionOps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegionOps")
    }
}
