//! The engine's address and mode types.
//!
//! Four kinds of numbers meet in the TLB and the block cache, and the types
//! keep them apart: a guest-virtual address ([`VirtAddr`], what the guest's
//! instructions compute), a guest-physical address (the memory API's
//! [`GuestAddress`](ferrite_memory::GuestAddress)), a ram address (the memory
//! API's [`RamAddr`](ferrite_memory::RamAddr), which names host memory and
//! the dirty bitmaps), and an MMU mode ([`MmuIdx`]). Every type is a
//! transparent `u64` or `u8`: the hot paths compile exactly as with bare
//! integers.

use std::fmt;

use crate::tlb::{MAX_MMU_MODES, PAGE_MASK};

/// A guest-virtual address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct VirtAddr(pub u64);

impl VirtAddr {
    /// The address of the first byte of the page holding this one.
    #[inline(always)]
    pub const fn page(self) -> VirtAddr {
        VirtAddr(self.0 & PAGE_MASK)
    }

    /// The offset of this address in its page.
    #[inline(always)]
    pub const fn page_offset(self) -> u64 {
        self.0 & !PAGE_MASK
    }

    /// The address `n` bytes on, wrapping at the top of the 64-bit space
    /// (as a guest's address arithmetic does).
    #[inline(always)]
    pub const fn wrapping_add(self, n: u64) -> VirtAddr {
        VirtAddr(self.0.wrapping_add(n))
    }
}

impl fmt::Display for VirtAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// An MMU mode of a CPU's TLB (QEMU's `mmu_idx`): which translation regime
/// an access uses. The target chooses what each index means; indices are
/// below [`MAX_MMU_MODES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct MmuIdx(pub u8);

impl MmuIdx {
    /// The index as a table subscript, always below [`MAX_MMU_MODES`].
    #[inline(always)]
    pub const fn index(self) -> usize {
        self.0 as usize & (MAX_MMU_MODES - 1)
    }

    /// The bit of this mode in a mode mask.
    #[inline(always)]
    pub const fn bit(self) -> u32 {
        1 << self.index()
    }
}

impl fmt::Display for MmuIdx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mmu{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_offsets_and_modes() {
        let v = VirtAddr(0x8000_1234);
        assert_eq!(v.page(), VirtAddr(0x8000_1000));
        assert_eq!(v.page_offset(), 0x234);
        assert_eq!(VirtAddr(u64::MAX).wrapping_add(2), VirtAddr(1));
        assert_eq!(MmuIdx(3).index(), 3);
        assert_eq!(MmuIdx(3).bit(), 8);
        assert!(MmuIdx(u8::MAX).index() < MAX_MMU_MODES);
    }
}
