//! What an address of an address space resolves to ([`SectionLookup`]).
//! This is the softmmu's TLB-fill lookup, so it touches only the flat view:
//! the MRU section, else the dispatch table.

use super::{AddressSpaceId, AddressSpaces};
use crate::address::{GuestAddress, RamAddr};
use crate::ids::{RegionId, UNASSIGNED};
use crate::view::flatview::FlatRange;
use crate::view::section::{Section, SectionBacking};

/// How a translated section is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// Plain memory: `host` points at the byte for the address, valid for the
    /// translation's `len` bytes while the region lives (RAM is mapped once and
    /// never moves). `readonly` for ROM or read-only-marked RAM.
    Ram {
        /// Host address of the byte.
        host: *mut u8,
        /// Ram address of the byte.
        ram_addr: RamAddr,
        /// Writes are refused.
        readonly: bool,
    },
    /// ROM device in ROMD mode: reads like `Ram`, writes go to the callbacks.
    RomDevice {
        /// Host address of the byte.
        host: *mut u8,
        /// Ram address of the byte.
        ram_addr: RamAddr,
    },
    /// Callbacks (MMIO, RAM device, ROM device outside ROMD mode).
    Io,
    /// Nothing mapped: accesses fail with [`MemTxError::Decode`](crate::MemTxError::Decode).
    Unassigned,
}

/// What an address resolves to: one flat-view section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionLookup {
    /// The terminal region (never an alias or container); for unassigned
    /// addresses, the built-in `unassigned` region.
    pub region: RegionId,
    /// Offset of the address in `region` (for unassigned addresses: the address).
    pub offset_in_region: u64,
    /// Bytes from the address to the end of the section (>= 1; a section of
    /// 2^64 bytes reports `u64::MAX`).
    pub len: u64,
    /// How the section is reached.
    pub kind: SectionKind,
}

#[inline]
pub(crate) fn translation_of(
    section: &Section,
    blocks: &[(*mut u8, u64)],
    addr: u64,
) -> SectionLookup {
    let delta = addr - section.start;
    let len = (section.last - addr).saturating_add(1);
    let (region, offset_in_region) = (section.region, section.offset.wrapping_add(delta));
    let kind = match section.backing(blocks) {
        SectionBacking::Ram {
            host,
            ram,
            readonly,
        } => SectionKind::Ram {
            host: host.wrapping_add(delta as usize),
            ram_addr: RamAddr(ram.0 + delta),
            readonly,
        },
        SectionBacking::RomDevice { host, ram } => SectionKind::RomDevice {
            host: host.wrapping_add(delta as usize),
            ram_addr: RamAddr(ram.0 + delta),
        },
        SectionBacking::Io => SectionKind::Io,
        SectionBacking::Unassigned => SectionKind::Unassigned,
    };
    SectionLookup {
        region,
        offset_in_region,
        len,
        kind,
    }
}

impl AddressSpaces {
    /// Resolve `addr` in `space`. An unknown space resolves to `Unassigned`.
    #[inline]
    pub(crate) fn lookup_section(
        &self,
        space: AddressSpaceId,
        addr: GuestAddress,
    ) -> SectionLookup {
        match self.list.get(space.0 as usize) {
            Some(sp) => {
                let v = &sp.view;
                translation_of(v.section(addr.0), &v.blocks, addr.0)
            }
            None => SectionLookup {
                region: UNASSIGNED,
                offset_in_region: addr.0,
                len: 1,
                kind: SectionKind::Unassigned,
            },
        }
    }

    /// A counter that changes whenever the space's flat view changes (0 for
    /// an unknown space).
    pub(crate) fn generation(&self, space: AddressSpaceId) -> u64 {
        self.list.get(space.0 as usize).map_or(0, |s| s.generation)
    }

    /// The current flat ranges of `space` (empty for an unknown space).
    pub(crate) fn flat_ranges(&self, space: AddressSpaceId) -> Vec<FlatRange> {
        self.list
            .get(space.0 as usize)
            .map_or_else(Vec::new, |s| s.view.ranges.clone())
    }

    /// The flat range serving `addr` in `space`, found by binary search.
    pub(crate) fn flat_range_at(
        &self,
        space: AddressSpaceId,
        addr: GuestAddress,
    ) -> Option<FlatRange> {
        let v = &self.list.get(space.0 as usize)?.view;
        let s = v.section_by_search(addr.0);
        v.range_of(s).copied()
    }
}
