//! RAM blocks: host memory behind RAM, ROM, ROM-device and RAM-device regions.
//!
//! Each block is one anonymous, private, `MAP_NORESERVE` mapping made once at
//! its maximum size; its host address never changes while the block lives,
//! and the kernel backs pages only when they are first touched, so a 4 GiB
//! guest that touches 1 MiB costs about 1 MiB of host memory. Every block has
//! a page-aligned range in the single ram-address space ([`RamAddr`]), which
//! the dirty bitmaps cover.

use std::rc::Rc;

use crate::address::{PAGE_SIZE, RamAddr};
use crate::error::{MemoryError, Result};

use super::host::{HostMapping, RamHostRef};

/// One load of a `T` at `p`: volatile when aligned, unaligned otherwise.
///
/// # Safety
/// `p` must be valid for reads of `size_of::<T>()` bytes.
unsafe fn sized_load<T: Copy>(p: *const u8) -> T {
    let p = p.cast::<T>();
    if p.is_aligned() {
        // SAFETY: valid (caller) and aligned (checked).
        unsafe { p.read_volatile() }
    } else {
        // SAFETY: valid (caller); no alignment needed.
        unsafe { p.read_unaligned() }
    }
}

/// One store of a `T` at `p`: volatile when aligned, unaligned otherwise.
///
/// # Safety
/// `p` must be valid for writes of `size_of::<T>()` bytes.
unsafe fn sized_store<T: Copy>(p: *mut u8, v: T) {
    let p = p.cast::<T>();
    if p.is_aligned() {
        // SAFETY: valid (caller) and aligned (checked).
        unsafe { p.write_volatile(v) }
    } else {
        // SAFETY: valid (caller); no alignment needed.
        unsafe { p.write_unaligned(v) }
    }
}

/// A RAM block: host memory plus its place in the ram-address space.
#[derive(Debug)]
pub(crate) struct RamBlock {
    pub(crate) mapping: Rc<HostMapping>,
    /// Start of the block in the ram-address space (page aligned).
    pub(crate) offset: RamAddr,
    /// Bytes currently in use (the region's size).
    pub(crate) used_length: u64,
    /// Bytes reserved; `used_length` may grow up to this by a resize.
    pub(crate) max_length: u64,
}

impl RamBlock {
    /// One load of `size` (1, 2, 4 or 8) bytes at `offset`, little endian,
    /// made as a single sized access of host memory (a RAM device's memory may
    /// be a device's BAR: it is never copied byte by byte). `None` out of bounds.
    pub(crate) fn read_sized(&self, offset: u64, size: u32) -> Option<u64> {
        if !matches!(size, 1 | 2 | 4 | 8) || !self.contains(offset, u64::from(size)) {
            return None;
        }
        // SAFETY: `[offset, offset + size)` lies inside the live mapping (checked
        // above); `sized_load` copes with any alignment.
        unsafe {
            let p = self.mapping.ptr().add(offset as usize).cast_const();
            Some(match size {
                1 => u64::from(sized_load::<u8>(p)),
                2 => u64::from(u16::from_le(sized_load::<u16>(p))),
                4 => u64::from(u32::from_le(sized_load::<u32>(p))),
                _ => u64::from_le(sized_load::<u64>(p)),
            })
        }
    }

    /// One store of the low `size` (1, 2, 4 or 8) bytes of `value` at `offset`,
    /// little endian, as a single sized access. `None` out of bounds.
    pub(crate) fn write_sized(&self, offset: u64, value: u64, size: u32) -> Option<()> {
        if !matches!(size, 1 | 2 | 4 | 8) || !self.contains(offset, u64::from(size)) {
            return None;
        }
        // SAFETY: as in `read_sized`; the mapping is writable.
        unsafe {
            let p = self.mapping.ptr().add(offset as usize);
            match size {
                1 => sized_store::<u8>(p, value as u8),
                2 => sized_store::<u16>(p, (value as u16).to_le()),
                4 => sized_store::<u32>(p, (value as u32).to_le()),
                _ => sized_store::<u64>(p, value.to_le()),
            }
        }
        Some(())
    }

    /// Copy `buf.len()` bytes at `offset` out of the block. `None` out of bounds.
    pub(crate) fn read_bytes(&self, offset: u64, buf: &mut [u8]) -> Option<()> {
        if !self.contains(offset, buf.len() as u64) {
            return None;
        }
        // SAFETY: `[offset, offset + len)` lies inside the live mapping
        // (checked above), and `buf` is ordinary Rust memory, never part of
        // a guest mapping, so the two cannot overlap.
        unsafe {
            let p = self.mapping.ptr().add(offset as usize).cast_const();
            std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len());
        }
        Some(())
    }

    /// Copy `data` into the block at `offset`. `None` out of bounds.
    pub(crate) fn write_bytes(&self, offset: u64, data: &[u8]) -> Option<()> {
        if !self.contains(offset, data.len() as u64) {
            return None;
        }
        // SAFETY: `[offset, offset + len)` lies inside the live, writable
        // mapping (checked above); `data` is ordinary Rust memory, never
        // part of a guest mapping, so the two cannot overlap.
        unsafe {
            let p = self.mapping.ptr().add(offset as usize);
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
        }
        Some(())
    }

    /// Whether `[offset, offset + len)` lies inside the used part of the block.
    pub(crate) fn contains(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= self.used_length)
    }
}

/// All RAM blocks and the layout of the ram-address space.
#[derive(Debug, Default)]
pub(crate) struct RamBlocks {
    blocks: Vec<RamBlock>,
    next_offset: u64,
}

/// Index of a RAM block in [`RamBlocks`].
pub(crate) type RamBlockIndex = usize;

impl RamBlocks {
    /// Create a block of `size` bytes that may grow to `max_size`.
    pub(crate) fn alloc(&mut self, name: &str, size: u64, max_size: u64) -> Result<RamBlockIndex> {
        let mapping = HostMapping::new(name, max_size)?;
        let reserved = max_size.max(1).next_multiple_of(PAGE_SIZE);
        let offset = RamAddr(self.next_offset);
        self.next_offset =
            self.next_offset
                .checked_add(reserved)
                .ok_or_else(|| MemoryError::HostMemory {
                    name: name.to_string(),
                    size,
                    reason: "ram-address space exhausted".into(),
                })?;
        self.blocks.push(RamBlock {
            mapping: Rc::new(mapping),
            offset,
            used_length: size,
            max_length: max_size,
        });
        Ok(self.blocks.len() - 1)
    }

    /// The block with this index.
    pub(crate) fn get(&self, i: RamBlockIndex) -> Option<&RamBlock> {
        self.blocks.get(i)
    }

    /// The block with this index, mutably.
    pub(crate) fn get_mut(&mut self, i: RamBlockIndex) -> Option<&mut RamBlock> {
        self.blocks.get_mut(i)
    }

    /// A counted reference to the host memory of the block holding `ram`.
    pub(crate) fn host_ref(&self, ram: RamAddr) -> Option<RamHostRef> {
        self.blocks
            .iter()
            .find(|b| b.offset.0 <= ram.0 && ram.0 - b.offset.0 < b.max_length.max(1))
            .map(|b| RamHostRef::new(Rc::clone(&b.mapping)))
    }

    /// End of the ram-address space laid out so far (bytes).
    pub(crate) fn ram_space_size(&self) -> u64 {
        self.next_offset
    }

    /// All blocks in ram-address order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &RamBlock> {
        self.blocks.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_laid_out_page_aligned_and_zeroed() {
        let mut blocks = RamBlocks::default();
        let a = blocks.alloc("a", 100, 100).unwrap();
        let b = blocks.alloc("b", 3 * PAGE_SIZE, 8 * PAGE_SIZE).unwrap();
        assert_eq!(blocks.get(a).unwrap().offset, RamAddr(0));
        assert_eq!(blocks.get(b).unwrap().offset, RamAddr(PAGE_SIZE));
        assert_eq!(blocks.ram_space_size(), 9 * PAGE_SIZE);
        let p = blocks.get(b).unwrap().mapping.ptr();
        // SAFETY: the block maps 8 pages; offset 5 is inside.
        unsafe {
            assert_eq!(*p.add(5), 0);
            *p.add(5) = 7;
            assert_eq!(*p.add(5), 7);
        }
        blocks.get(b).unwrap().mapping.discard(0, PAGE_SIZE);
        // SAFETY: as above.
        unsafe { assert_eq!(*p.add(5), 0) };
        assert!(blocks.get(b).unwrap().contains(0, 3 * PAGE_SIZE));
        assert!(!blocks.get(b).unwrap().contains(1, 3 * PAGE_SIZE));
    }

    #[test]
    fn a_large_block_is_reserved_not_backed() {
        let mut blocks = RamBlocks::default();
        let a = blocks.alloc("big", 4 << 30, 4 << 30).unwrap();
        assert_eq!(blocks.get(a).unwrap().used_length, 4 << 30);
    }
}
