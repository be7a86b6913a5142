//! Which bytes of each RAM page hold translated code, for every CPU of a
//! machine at once, in 64-byte lines.
//!
//! The CODE dirty bitmap says, per page, whether any CPU has translated code
//! there. That is too coarse for programs whose code and data share a page:
//! every store to the data would invalidate the page's blocks, the blocks
//! would be translated again, and the page would go back and forth between
//! the two states (QEMU pays many times its normal time on such pages).
//! The [`CodeMap`] refines the bitmap below the page, in two levels:
//!
//! * per 64-byte line, a count of the blocks whose code occupies it: a
//!   line's bit is set exactly while some CPU's block holds code in it, and
//!   a page leaves the map when its last block goes;
//! * per byte, a bit set for every byte some block's code was read from
//!   since its line last held no code (so a superset of the code bytes:
//!   bytes of a block that went while others stay on the line keep their
//!   bit until the line empties).
//!
//! A store to bytes without code neither invalidates blocks nor needs the
//! slow path more than once (see [`crate::tlb::Tlb::store_beside_code`]); a
//! store into code bytes invalidates exactly the blocks whose bytes it
//! overlaps.
//!
//! There is one map per machine, shared by the block caches of its CPUs (the
//! event hub hands it out), so the union over CPUs is always at hand.

use std::cell::RefCell;

use hashbrown::HashMap;

use ferrite_memory::RamAddr;

use crate::tlb::{PAGE_MASK, PAGE_SIZE};

/// log2 of the counting granule: a line of 64 bytes, 64 lines per page.
pub const CODE_LINE_BITS: u32 = 6;

/// One bit per byte of a page (bit `b % 64` of word `b / 64` for byte `b`),
/// set for bytes that hold translated code.
pub type CodeBytes = [u64; 64];

/// The words of a [`CodeBytes`] that bytes `offset..offset + len` of a page
/// fall in, each with the bits of those bytes (`offset` within the page;
/// clipped at its end).
fn byte_words(offset: u64, len: u64) -> impl Iterator<Item = (usize, u64)> {
    let mut b = offset & !PAGE_MASK;
    let end = b.saturating_add(len).min(PAGE_SIZE);
    std::iter::from_fn(move || {
        if b >= end {
            return None;
        }
        let n = (64 - (b & 63)).min(end - b);
        let bits = if n == 64 {
            u64::MAX
        } else {
            ((1u64 << n) - 1) << (b & 63)
        };
        let word = (b >> 6) as usize;
        b += n;
        Some((word, bits))
    })
}

/// Set the bits of bytes `offset..offset + len` of a page in `bytes`
/// (`offset` within the page; clipped at its end).
pub fn mark_bytes(bytes: &mut CodeBytes, offset: u64, len: u64) {
    for (word, bits) in byte_words(offset, len) {
        bytes[word] |= bits;
    }
}

/// Whether any byte of `offset..offset + len` of a page is set in `bytes`.
pub fn any_byte(bytes: &CodeBytes, offset: u64, len: u64) -> bool {
    byte_words(offset, len).any(|(word, bits)| bytes[word] & bits != 0)
}

/// The lines of a page that bytes `offset..offset + len` of it touch (bit
/// `n` for bytes `64n..64n + 63`). `offset` is taken within the page, and
/// the range is clipped at the page's end; an empty range touches nothing.
pub fn line_mask(offset: u64, len: u64) -> u64 {
    let offset = offset & !PAGE_MASK;
    let end = offset.saturating_add(len).min(PAGE_SIZE);
    if end <= offset {
        return 0;
    }
    let first = offset >> CODE_LINE_BITS;
    let last = (end - 1) >> CODE_LINE_BITS;
    let upto = if last == 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    upto & !((1u64 << first) - 1)
}

/// Per-line counts and per-byte bits of one page.
#[derive(Debug)]
struct PageLines {
    counts: [u32; 64],
    lines: u64,
    bytes: Box<CodeBytes>,
}

/// The code lines of every page holding translated code. See the
/// [module documentation](self).
#[derive(Debug, Default)]
pub struct CodeMap {
    pages: RefCell<HashMap<RamAddr, PageLines>>,
}

impl CodeMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines of the page holding `page` that some block's code
    /// occupies; 0 when the page holds no translated code.
    pub fn lines(&self, page: RamAddr) -> u64 {
        self.pages
            .borrow()
            .get(&RamAddr(page.0 & PAGE_MASK))
            .map_or(0, |p| p.lines)
    }

    /// Whether any byte of ram addresses `start..start + len` (within one
    /// page) holds code by the byte bits.
    pub fn overlaps(&self, start: RamAddr, len: u64) -> bool {
        self.pages
            .borrow()
            .get(&RamAddr(start.0 & PAGE_MASK))
            .is_some_and(|p| any_byte(&p.bytes, start.0, len))
    }

    /// The byte bits of the page holding `page`, if it holds code.
    pub fn bytes(&self, page: RamAddr) -> Option<CodeBytes> {
        self.pages
            .borrow()
            .get(&RamAddr(page.0 & PAGE_MASK))
            .map(|p| *p.bytes)
    }

    /// A block's code occupies `lines` of `page`, read from the ram byte
    /// ranges of `ranges` that lie on the page (every byte of the lines
    /// when none does). Returns whether a byte gained its bit.
    pub(crate) fn add(&self, page: RamAddr, lines: u64, ranges: &[(RamAddr, u32)]) -> bool {
        if lines == 0 {
            return false;
        }
        let key = RamAddr(page.0 & PAGE_MASK);
        let mut pages = self.pages.borrow_mut();
        let p = pages.entry(key).or_insert_with(|| PageLines {
            counts: [0; 64],
            lines: 0,
            bytes: Box::new([0; 64]),
        });
        for (n, count) in p.counts.iter_mut().enumerate() {
            if lines & (1 << n) != 0 {
                *count += 1;
            }
        }
        p.lines |= lines;
        let before = *p.bytes;
        let mut any = false;
        for &(s, n) in ranges.iter().filter(|(s, _)| s.0 & PAGE_MASK == key.0) {
            mark_bytes(&mut p.bytes, s.0, u64::from(n));
            any = true;
        }
        if !any {
            for (n, word) in p.bytes.iter_mut().enumerate() {
                if lines & (1 << n) != 0 {
                    *word = u64::MAX;
                }
            }
        }
        *p.bytes != before
    }

    /// A block whose code occupied `lines` of `page` is gone.
    pub(crate) fn remove(&self, page: RamAddr, lines: u64) {
        let mut pages = self.pages.borrow_mut();
        let key = RamAddr(page.0 & PAGE_MASK);
        let Some(p) = pages.get_mut(&key) else {
            return;
        };
        for (n, count) in p.counts.iter_mut().enumerate() {
            if lines & (1 << n) != 0 && *count > 0 {
                *count -= 1;
                if *count == 0 {
                    p.lines &= !(1 << n);
                    p.bytes[n] = 0;
                }
            }
        }
        if p.lines == 0 {
            pages.remove(&key);
        }
    }

    /// How many pages hold translated code.
    pub fn pages(&self) -> usize {
        self.pages.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_masks() {
        assert_eq!(line_mask(0, 1), 1);
        assert_eq!(line_mask(63, 2), 0b11);
        assert_eq!(line_mask(64, 64), 0b10);
        assert_eq!(line_mask(0, 4096), u64::MAX);
        assert_eq!(line_mask(4095, 8), 1 << 63);
        assert_eq!(line_mask(100, 0), 0);
        // The page's offset only.
        assert_eq!(line_mask(0x1_0040, 4), 0b10);
    }

    #[test]
    fn byte_bits() {
        let mut b = [0u64; 64];
        mark_bytes(&mut b, 60, 8);
        assert_eq!(b[0], 0xf << 60);
        assert_eq!(b[1], 0xf);
        assert!(any_byte(&b, 63, 1));
        assert!(!any_byte(&b, 56, 4));
        assert!(!any_byte(&b, 68, 8));
        mark_bytes(&mut b, 4000, 200);
        assert_eq!(b[62], u64::MAX << 32);
        assert_eq!(b[63], u64::MAX);
        assert!(any_byte(&b, 4095, 1));
    }

    #[test]
    fn counts_per_line() {
        let m = CodeMap::new();
        let page = RamAddr(0x3000);
        assert!(m.add(page, 0b0110, &[]));
        assert!(!m.add(RamAddr(0x3010), 0b0010, &[]));
        assert_eq!(m.lines(RamAddr(0x3fff)), 0b0110);
        m.remove(page, 0b0110);
        // The second block still holds line 1.
        assert_eq!(m.lines(page), 0b0010);
        assert_eq!(m.pages(), 1);
        m.remove(page, 0b0010);
        assert_eq!(m.lines(page), 0);
        assert_eq!(m.pages(), 0);
        // Removing what is not there changes nothing.
        m.remove(page, 1);
        assert_eq!(m.lines(page), 0);
    }

    #[test]
    fn bytes_follow_the_ranges() {
        let m = CodeMap::new();
        let page = RamAddr(0x5000);
        // A block at 0x5040..0x5048 and one at 0x5044..0x504c.
        assert!(m.add(page, 0b10, &[(RamAddr(0x5040), 8)]));
        assert!(m.add(page, 0b10, &[(RamAddr(0x5044), 8)]));
        assert!(!m.add(page, 0b10, &[(RamAddr(0x5040), 4)]));
        assert!(m.overlaps(RamAddr(0x504a), 4));
        assert!(!m.overlaps(RamAddr(0x504c), 4));
        assert!(!m.overlaps(RamAddr(0x503c), 4));
        // A block whose ranges miss the page counts its lines whole.
        assert!(!m.overlaps(RamAddr(0x5070), 1));
        assert!(m.add(page, 0b10, &[(RamAddr(0x6000), 4)]));
        assert!(m.overlaps(RamAddr(0x5070), 1));
        for _ in 0..4 {
            m.remove(page, 0b10);
        }
        assert!(m.bytes(page).is_none());
        assert!(!m.overlaps(RamAddr(0x5040), 8));
    }
}
