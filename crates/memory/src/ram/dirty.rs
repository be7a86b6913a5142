//! Dirty memory: one bitmap per client over the pages of the ram-address space.
//!
//! A set bit means "written since the client last cleared it". New RAM starts
//! dirty for every client (as in QEMU), so the CODE client's bit is clean only
//! on pages the softmmu has translated code from.

use bitvec::prelude::*;

use crate::address::{PAGE_SHIFT, PAGE_SIZE, RamAddr};

/// A consumer of dirty information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirtyClient {
    /// Display refresh (framebuffers).
    Vga,
    /// Translated code: a clean bit means the page holds translated blocks.
    Code,
    /// Live migration and snapshots.
    Migration,
}

impl DirtyClient {
    /// All clients.
    pub const ALL: [DirtyClient; 3] = [DirtyClient::Vga, DirtyClient::Code, DirtyClient::Migration];

    /// The client's bit in a dirty-log mask.
    pub const fn bit(self) -> u8 {
        1 << self as u8
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Mask with every client's bit set.
pub const DIRTY_CLIENTS_ALL: u8 = 0b111;

/// The three bitmaps.
#[derive(Debug, Default)]
pub(crate) struct DirtyMemory {
    maps: [BitVec<u64, Lsb0>; 3],
}

/// Pages `[first, end)` covering `[start, start + len)`; empty for `len == 0`.
pub(crate) fn page_span(start: u64, len: u64) -> (u64, u64) {
    if len == 0 {
        return (0, 0);
    }
    let first = start >> PAGE_SHIFT;
    let last = start.saturating_add(len - 1) >> PAGE_SHIFT;
    (first, last + 1)
}

impl DirtyMemory {
    /// Grow the bitmaps to cover `ram_size` bytes; new pages are dirty for all clients.
    pub(crate) fn grow(&mut self, ram_size: u64) {
        let pages = ram_size.div_ceil(PAGE_SIZE) as usize;
        for m in &mut self.maps {
            if m.len() < pages {
                m.resize(pages, true);
            }
        }
    }

    fn clamp(&self, first: u64, end: u64) -> std::ops::Range<usize> {
        let n = self.maps[0].len() as u64;
        (first.min(n) as usize)..(end.min(n) as usize)
    }

    /// Whether any page of the range is dirty for `client`.
    pub(crate) fn any(&self, start: RamAddr, len: u64, client: DirtyClient) -> bool {
        let (f, e) = page_span(start.0, len);
        self.maps[client.index()][self.clamp(f, e)].any()
    }

    /// Whether every page of the range is dirty for `client` (false when empty).
    pub(crate) fn all(&self, start: RamAddr, len: u64, client: DirtyClient) -> bool {
        let (f, e) = page_span(start.0, len);
        let r = self.clamp(f, e);
        !r.is_empty() && self.maps[client.index()][r].all()
    }

    /// Whether page `page` is dirty for `client`.
    #[inline]
    pub(crate) fn page(&self, page: u64, client: DirtyClient) -> bool {
        self.maps[client.index()]
            .get(page as usize)
            .is_some_and(|b| *b)
    }

    /// Set the bits of the clients in `mask` over the range.
    pub(crate) fn set(&mut self, start: RamAddr, len: u64, mask: u8) {
        let (f, e) = page_span(start.0, len);
        let r = self.clamp(f, e);
        for c in DirtyClient::ALL {
            if mask & c.bit() != 0 {
                self.maps[c.index()][r.clone()].fill(true);
            }
        }
    }

    /// Clear `client`'s bits over the range.
    pub(crate) fn clear(&mut self, start: RamAddr, len: u64, client: DirtyClient) {
        let (f, e) = page_span(start.0, len);
        let r = self.clamp(f, e);
        self.maps[client.index()][r].fill(false);
    }

    /// Copy then clear `client`'s bits over whole pages `[first, end)`.
    pub(crate) fn take(&mut self, first: u64, end: u64, client: DirtyClient) -> BitVec<u64, Lsb0> {
        let r = self.clamp(first, end);
        let slice = &mut self.maps[client.index()][r];
        let copy = slice.to_bitvec();
        slice.fill(false);
        copy
    }
}

/// A copy of one client's dirty bits over a range, taken by
/// [`MemorySystem::snapshot_and_clear_dirty`](crate::MemorySystem::snapshot_and_clear_dirty).
/// Offsets given to [`DirtySnapshot::get_dirty`] are relative to the region
/// the snapshot was taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtySnapshot {
    /// Ram address of region offset 0 (wrapping: an alias may start mid-page).
    region_base: u64,
    /// Ram address of the first page covered (page aligned).
    ram_start: RamAddr,
    bits: BitVec<u64, Lsb0>,
}

impl DirtySnapshot {
    pub(crate) fn new(region_base: u64, ram_start: RamAddr, bits: BitVec<u64, Lsb0>) -> Self {
        DirtySnapshot {
            region_base,
            ram_start,
            bits,
        }
    }

    /// An empty snapshot (nothing dirty).
    pub(crate) fn empty() -> Self {
        DirtySnapshot {
            region_base: 0,
            ram_start: RamAddr(0),
            bits: BitVec::new(),
        }
    }

    /// Whether any page of `[offset, offset + len)` (region-relative) was dirty.
    /// Pages outside the snapshot count as clean.
    pub fn get_dirty(&self, offset: u64, len: u64) -> bool {
        let (f, e) = page_span(self.region_base.wrapping_add(offset), len);
        let base = self.ram_start.page();
        let lo = f.max(base) - base;
        let hi = e.max(base) - base;
        let n = self.bits.len() as u64;
        let (lo, hi) = (lo.min(n) as usize, hi.min(n) as usize);
        lo < hi && self.bits[lo..hi].any()
    }

    /// Region offsets of the starts of the dirty pages, in order (for a region
    /// whose offset 0 is not page aligned in RAM, the first page may start
    /// before offset 0; that offset wraps).
    pub fn dirty_pages(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits.iter_ones().map(move |i| {
            (self.ram_start.0 + ((i as u64) << PAGE_SHIFT)).wrapping_sub(self.region_base)
        })
    }

    /// Number of pages covered.
    pub fn page_count(&self) -> u64 {
        self.bits.len() as u64
    }

    /// Ram address of the first page covered.
    pub fn ram_start(&self) -> RamAddr {
        self.ram_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_pages_start_dirty_and_clear_per_client() {
        let mut d = DirtyMemory::default();
        d.grow(10 * PAGE_SIZE);
        assert!(d.all(RamAddr(0), 10 * PAGE_SIZE, DirtyClient::Code));
        d.clear(RamAddr(PAGE_SIZE + 5), 1, DirtyClient::Code);
        assert!(!d.page(1, DirtyClient::Code));
        assert!(d.page(1, DirtyClient::Vga));
        assert!(d.page(0, DirtyClient::Code));
        assert!(!d.all(RamAddr(0), 2 * PAGE_SIZE, DirtyClient::Code));
        assert!(d.any(RamAddr(0), 2 * PAGE_SIZE, DirtyClient::Code));
        d.set(RamAddr(PAGE_SIZE), 1, DirtyClient::Code.bit());
        assert!(d.page(1, DirtyClient::Code));
    }

    #[test]
    fn take_copies_then_clears_across_word_boundaries() {
        let mut d = DirtyMemory::default();
        d.grow(200 * PAGE_SIZE);
        d.clear(RamAddr(0), 200 * PAGE_SIZE, DirtyClient::Vga);
        d.set(
            RamAddr(63 * PAGE_SIZE),
            2 * PAGE_SIZE,
            DirtyClient::Vga.bit(),
        );
        d.set(RamAddr(130 * PAGE_SIZE), 1, DirtyClient::Vga.bit());
        let bits = d.take(60, 140, DirtyClient::Vga);
        let snap = DirtySnapshot::new(0, RamAddr(60 * PAGE_SIZE), bits);
        let pages: Vec<u64> = snap.dirty_pages().map(|o| o / PAGE_SIZE).collect();
        assert_eq!(pages, vec![63, 64, 130]);
        assert!(snap.get_dirty(64 * PAGE_SIZE + 100, 1));
        assert!(!snap.get_dirty(65 * PAGE_SIZE, 65 * PAGE_SIZE));
        assert!(!snap.get_dirty(0, 60 * PAGE_SIZE));
        assert!(!d.any(RamAddr(0), 200 * PAGE_SIZE, DirtyClient::Vga));
    }
}
