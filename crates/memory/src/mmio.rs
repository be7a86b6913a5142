//! Callback dispatch: shaping one access to what a region accepts and implements.
//!
//! This follows QEMU's `memory_region_access_valid` and
//! `access_with_adjusted_size`:
//!
//! * **Validity.** An access not aligned to its size is refused unless
//!   `valid.unaligned`; if `valid.max_access_size` is non-zero, a size outside
//!   `valid.min..=valid.max` is refused. Refusals are [`MemTxError::Decode`].
//! * **Splitting and widening.** The callbacks are called with
//!   `max(min(size, impl.max), impl.min)` bytes (zeros read as 1 and 4), as
//!   many times as it takes to cover `size`, at `offset + i`. A wider
//!   implementation access is masked and shifted into place; the pieces of a
//!   split access are placed by the region's byte order (little: piece `i`
//!   at bit `8 * i`; big: at bit `8 * (size - access - i)`). Like QEMU, the
//!   widened access is issued at the unaligned offset as it is.
//! * **Byte order.** A value moving between an access of one endianness and
//!   a region of the other is byte-swapped over the access size.

use crate::ops::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxError, MemTxResult,
};
use crate::ram::blocks::RamBlock;
use crate::region::{Region, RegionKind};

/// Whether `desc.valid` accepts an access of `size` bytes at `offset`.
pub fn access_valid(desc: &IoDescriptor, offset: u64, size: u32) -> bool {
    let v = &desc.valid;
    if size == 0 {
        return false;
    }
    if !v.unaligned && offset & (u64::from(size) - 1) != 0 {
        return false;
    }
    if v.max_access_size == 0 {
        return true;
    }
    size <= v.max_access_size && size >= v.min_access_size.max(1)
}

/// The largest power-of-two piece, at most `len`, that a buffer access at
/// region offset `offset` should use (QEMU's `memory_access_size`).
pub fn access_size_for(desc: &IoDescriptor, len: u64, offset: u64) -> u32 {
    let mut max = if desc.valid.max_access_size == 0 {
        4
    } else {
        desc.valid.max_access_size
    };
    if !desc.implementation.unaligned {
        let align = offset & offset.wrapping_neg();
        if align != 0 && align < u64::from(max) {
            max = align as u32;
        }
    }
    let l = len.min(u64::from(max)).clamp(1, 8);
    1u32 << (63 - l.leading_zeros())
}

/// Byte-swap the low `size` bytes of `v`.
pub fn bswap(v: u64, size: u32) -> u64 {
    match size {
        2 => u64::from((v as u16).swap_bytes()),
        4 => u64::from((v as u32).swap_bytes()),
        8 => v.swap_bytes(),
        _ => v,
    }
}

fn mask_of(size: u32) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size * 8)) - 1
    }
}

/// The implementation access size, and for each piece of an access its
/// byte index and the shift that moves it into place. An iterator, not a
/// list: MMIO accesses are frequent and allocate nothing.
fn pieces(
    imp: &AccessConstraints,
    endian: Endianness,
    size: u32,
) -> (u32, impl Iterator<Item = (u32, i32)>) {
    let min = if imp.min_access_size == 0 {
        1
    } else {
        imp.min_access_size
    };
    let max = if imp.max_access_size == 0 {
        4
    } else {
        imp.max_access_size
    };
    // Accesses are at most 8 bytes wide, whatever a descriptor claims.
    let access = size.min(max).max(min).min(8);
    let list = (0..size).step_by(access as usize).map(move |i| {
        let shift = match endian {
            Endianness::Big => (size as i32 - access as i32 - i as i32) * 8,
            Endianness::Little => i as i32 * 8,
        };
        (i, shift)
    });
    (access, list)
}

/// One implementation-sized access to a region's backend.
fn backend_read(
    region: &Region,
    block: Option<&RamBlock>,
    offset: u64,
    size: u32,
    attrs: MemTxAttrs,
) -> MemTxResult<u64> {
    match &region.kind {
        RegionKind::Io { ops } | RegionKind::RomDevice { ops, .. } => ops.read(offset, size, attrs),
        RegionKind::RamDevice { .. } => block
            .ok_or(MemTxError::Decode)
            .and_then(|b| host_read(b, offset, size)),
        _ => Err(MemTxError::Decode),
    }
}

fn backend_write(
    region: &Region,
    block: Option<&RamBlock>,
    offset: u64,
    value: u64,
    size: u32,
    attrs: MemTxAttrs,
) -> MemTxResult<()> {
    match &region.kind {
        RegionKind::Io { ops } | RegionKind::RomDevice { ops, .. } => {
            ops.write(offset, value, size, attrs)
        }
        RegionKind::RamDevice { .. } => block
            .ok_or(MemTxError::Decode)
            .and_then(|b| host_write(b, offset, value, size)),
        _ => Err(MemTxError::Decode),
    }
}

/// A sized little-endian read of host memory inside a block.
pub(crate) fn host_read(b: &RamBlock, offset: u64, size: u32) -> MemTxResult<u64> {
    b.read_sized(offset, size).ok_or(MemTxError::Decode)
}

/// A sized little-endian write of host memory inside a block.
pub(crate) fn host_write(b: &RamBlock, offset: u64, value: u64, size: u32) -> MemTxResult<()> {
    b.write_sized(offset, value, size).ok_or(MemTxError::Decode)
}

/// Refuse an access to a device that is moving data itself (see
/// [`ReentrancyGuard`](crate::ReentrancyGuard)).
fn refuse_reentry(region: &Region, offset: u64) -> MemTxResult<()> {
    let ops = match &region.kind {
        RegionKind::Io { ops } | RegionKind::RomDevice { ops, .. } => ops,
        _ => return Ok(()),
    };
    if ops.reentrancy_guard().is_some_and(|g| g.is_engaged()) {
        tracing::warn!(
            target: "guest_errors",
            "blocked re-entrant I/O to {} at offset {offset:#x}",
            region.name
        );
        return Err(MemTxError::Device);
    }
    Ok(())
}

/// Read `size` bytes at `offset` of a callback region, in `endian` order.
pub(crate) fn dispatch_read(
    region: &Region,
    block: Option<&RamBlock>,
    offset: u64,
    size: u32,
    endian: Endianness,
    attrs: MemTxAttrs,
) -> MemTxResult<u64> {
    let desc = &region.descriptor;
    if !matches!(size, 1 | 2 | 4 | 8) || !access_valid(desc, offset, size) {
        return Err(MemTxError::Decode);
    }
    refuse_reentry(region, offset)?;
    let (access, list) = pieces(&desc.implementation, desc.endianness, size);
    let mask = mask_of(access);
    let mut value = 0u64;
    let mut result = Ok(());
    for (i, shift) in list {
        match backend_read(
            region,
            block,
            offset.wrapping_add(u64::from(i)),
            access,
            attrs,
        ) {
            Ok(tmp) => {
                let tmp = tmp & mask;
                value |= if shift >= 0 {
                    tmp << shift
                } else {
                    tmp >> -shift
                };
            }
            Err(e) => {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
    }
    result?;
    let value = value & mask_of(size);
    Ok(if desc.endianness != endian {
        bswap(value, size)
    } else {
        value
    })
}

/// Write `size` bytes of `value` (in `endian` order) at `offset` of a callback region.
pub(crate) fn dispatch_write(
    region: &Region,
    block: Option<&RamBlock>,
    offset: u64,
    value: u64,
    size: u32,
    endian: Endianness,
    attrs: MemTxAttrs,
) -> MemTxResult<()> {
    let desc = &region.descriptor;
    if !matches!(size, 1 | 2 | 4 | 8) || !access_valid(desc, offset, size) {
        return Err(MemTxError::Decode);
    }
    refuse_reentry(region, offset)?;
    let value = value & mask_of(size);
    let value = if desc.endianness != endian {
        bswap(value, size)
    } else {
        value
    };
    let (access, list) = pieces(&desc.implementation, desc.endianness, size);
    let mask = mask_of(access);
    let mut result = Ok(());
    for (i, shift) in list {
        let tmp = if shift >= 0 {
            (value >> shift) & mask
        } else {
            (value << -shift) & mask
        };
        if let Err(e) = backend_write(
            region,
            block,
            offset.wrapping_add(u64::from(i)),
            tmp,
            access,
            attrs,
        ) && result.is_ok()
        {
            result = Err(e);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_follows_qemu() {
        let any = IoDescriptor::default();
        assert!(access_valid(&any, 0, 8));
        assert!(!access_valid(&any, 2, 4), "unaligned refused by default");
        let d = IoDescriptor {
            valid: AccessConstraints::sizes(2, 4),
            ..IoDescriptor::default()
        };
        assert!(!access_valid(&d, 0, 1));
        assert!(access_valid(&d, 0, 2));
        assert!(!access_valid(&d, 0, 8));
    }

    #[test]
    fn buffer_pieces_respect_alignment_and_maximum() {
        let d = IoDescriptor::default();
        assert_eq!(access_size_for(&d, 8, 0), 4, "valid max 0 means 4");
        assert_eq!(access_size_for(&d, 8, 2), 2);
        assert_eq!(access_size_for(&d, 3, 0), 2, "power of two at most len");
        let wide = IoDescriptor {
            valid: AccessConstraints::sizes(1, 8),
            ..IoDescriptor::default()
        };
        assert_eq!(access_size_for(&wide, 16, 8), 8);
    }

    #[test]
    fn bswap_swaps_only_the_access_size() {
        assert_eq!(bswap(0x1122, 2), 0x2211);
        assert_eq!(bswap(0x1122_3344, 4), 0x4433_2211);
        assert_eq!(bswap(0xab, 1), 0xab);
        assert_eq!(bswap(0x0102_0304_0506_0708, 8), 0x0807_0605_0403_0201);
    }
}
