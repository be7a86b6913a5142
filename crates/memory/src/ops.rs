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
}

impl fmt::Debug for dyn RegionOps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegionOps")
    }
}
