//! Address newtypes and sizes.
//!
//! Three kinds of numbers travel through the memory API and must not be mixed:
//! a [`GuestAddress`] inside an address space, an offset inside one region (a
//! plain `u64`, always named `offset`), and a [`RamAddr`] in the single
//! ram-address space that the dirty bitmaps cover.

use std::fmt;

/// Size of a page for dirty tracking and dispatch: 4 KiB.
pub const PAGE_SIZE: u64 = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;

/// An address inside an address space (a guest physical address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuestAddress(pub u64);

impl GuestAddress {
    /// The address `n` bytes further on, or `None` past the top of the 64-bit space.
    pub fn checked_add(self, n: u64) -> Option<GuestAddress> {
        self.0.checked_add(n).map(GuestAddress)
    }
}

impl fmt::Display for GuestAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

/// An offset in the single ram-address space in which every RAM block has its
/// own page-aligned range. Dirty bitmaps are indexed by `RamAddr / PAGE_SIZE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RamAddr(pub u64);

impl RamAddr {
    /// The page number of this ram address.
    pub fn page(self) -> u64 {
        self.0 >> PAGE_SHIFT
    }
}

impl fmt::Display for RamAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ram:{:#x}", self.0)
    }
}

/// The size of a region: a byte count, or the whole 64-bit space (2^64 bytes),
/// which does not fit in a `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionSize {
    /// A size of this many bytes.
    Bytes(u64),
    /// 2^64 bytes: the whole 64-bit space.
    Max,
}

impl RegionSize {
    /// The size as a `u128`, so 2^64 is representable.
    pub fn get(self) -> u128 {
        match self {
            RegionSize::Bytes(n) => u128::from(n),
            RegionSize::Max => 1u128 << 64,
        }
    }
}

impl From<u64> for RegionSize {
    fn from(n: u64) -> Self {
        RegionSize::Bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_size_is_two_to_the_64() {
        assert_eq!(RegionSize::Max.get(), 1u128 << 64);
        assert_eq!(RegionSize::Bytes(5).get(), 5);
    }

    #[test]
    fn guest_address_add_does_not_wrap() {
        assert_eq!(GuestAddress(u64::MAX).checked_add(1), None);
        assert_eq!(GuestAddress(1).checked_add(1), Some(GuestAddress(2)));
        assert_eq!(RamAddr(0x2fff).page(), 2);
    }
}
