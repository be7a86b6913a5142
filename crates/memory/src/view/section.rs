//! Sections: the partition of the whole 64-bit space into flat ranges and
//! gaps, each 32 bytes, which the dispatch table's leaves index.

use crate::address::RamAddr;
use crate::ids::{RegionId, UNASSIGNED};

/// How a section is reached, cached at render time so `translate` needs no
/// look at the region arena.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SectionBacking {
    /// Host memory: `host`/`ram` are for the section's first byte.
    Ram {
        host: *mut u8,
        ram: RamAddr,
        readonly: bool,
    },
    /// ROM device in ROMD mode.
    RomDevice { host: *mut u8, ram: RamAddr },
    /// Callbacks.
    Io,
    /// Nothing.
    Unassigned,
}

pub(crate) const KIND_SHIFT: u32 = 29;
pub(crate) const SLOT_MASK: u32 = (1 << KIND_SHIFT) - 1;
pub(crate) const KIND_UNASSIGNED: u32 = 0;
pub(crate) const KIND_IO: u32 = 1;
pub(crate) const KIND_RAM: u32 = 2;
pub(crate) const KIND_ROM: u32 = 3;
pub(crate) const KIND_ROMD: u32 = 4;

/// A piece of the partition of the whole 64-bit space: a flat range or a gap.
///
/// Kept to 32 bytes, so a lookup touches one small line: with 100,000
/// regions the section table is what falls out of the CPU caches first.
/// Host memory is found through `tag`'s slot in the view's block table
/// (a handful of entries that stay hot), not stored per section.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
pub(crate) struct Section {
    pub(crate) start: u64,
    pub(crate) last: u64,
    /// Offset in `region` of `start` (for a gap: `start`).
    pub(crate) offset: u64,
    /// The terminal region (the built-in `unassigned` region for a gap).
    pub(crate) region: RegionId,
    /// Kind in the top 3 bits, block-table slot below.
    pub(crate) tag: u32,
}

impl Section {
    /// A gap `[start, last]`.
    pub(crate) fn gap(start: u64, last: u64) -> Self {
        Section {
            start,
            last,
            region: UNASSIGNED,
            offset: start,
            tag: KIND_UNASSIGNED << KIND_SHIFT,
        }
    }

    /// How the section is reached, given its view's block table.
    #[inline]
    pub(crate) fn backing(&self, blocks: &[(*mut u8, u64)]) -> SectionBacking {
        let kind = self.tag >> KIND_SHIFT;
        let slot = (self.tag & SLOT_MASK) as usize;
        let host_at_start = || {
            blocks.get(slot).map(|&(host, ram)| {
                (
                    host.wrapping_add(self.offset as usize),
                    RamAddr(ram.wrapping_add(self.offset)),
                )
            })
        };
        match kind {
            KIND_RAM | KIND_ROM => match host_at_start() {
                Some((host, ram)) => SectionBacking::Ram {
                    host,
                    ram,
                    readonly: kind == KIND_ROM,
                },
                None => SectionBacking::Io,
            },
            KIND_ROMD => match host_at_start() {
                Some((host, ram)) => SectionBacking::RomDevice { host, ram },
                None => SectionBacking::Io,
            },
            KIND_IO => SectionBacking::Io,
            _ => SectionBacking::Unassigned,
        }
    }

    /// Whether this section is a gap.
    pub(crate) fn is_gap(&self) -> bool {
        self.tag >> KIND_SHIFT == KIND_UNASSIGNED
    }
}
