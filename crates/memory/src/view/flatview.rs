//! Flat views: the region tree rendered into sorted, disjoint ranges
//! ([`FlatRange`]), partitioned into sections, with the dispatch table
//! over them. The rendering itself is the region tree's
//! (`crate::tree::render`).

use std::cell::Cell;

use super::dispatch::Dispatch;
use super::section::{
    KIND_IO, KIND_RAM, KIND_ROM, KIND_ROMD, KIND_SHIFT, KIND_UNASSIGNED, SLOT_MASK, Section,
    SectionBacking,
};
use crate::address::GuestAddress;
use crate::ids::RegionId;

/// One range of a flat view: `[start, last]` (inclusive) of the address space
/// is served by `region` starting at `offset_in_region`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlatRange {
    /// First address of the range.
    pub start: u64,
    /// Last address of the range (inclusive, so a range may end at `u64::MAX`).
    pub last: u64,
    /// The terminal region (never an alias or container).
    pub region: RegionId,
    /// Offset in `region` that `start` maps to.
    pub offset_in_region: u64,
    /// Writes are refused (ROM, or read-only-marked somewhere on the path).
    pub readonly: bool,
    /// A ROM device in ROMD mode (reads straight from memory).
    pub romd: bool,
    /// Marked non-volatile somewhere on the path.
    pub nonvolatile: bool,
    /// Never merged with its neighbours.
    pub unmergeable: bool,
    /// Dirty-log clients active on this range (bit per [`DirtyClient`](crate::DirtyClient)).
    pub dirty_log_mask: u8,
}

impl FlatRange {
    /// Size in bytes (up to 2^64).
    pub fn size(&self) -> u128 {
        u128::from(self.last - self.start) + 1
    }

    /// Whether `other` is the same mapping as `self` for listeners (QEMU's
    /// `flatrange_equal`: the dirty mask may differ).
    pub(crate) fn same_mapping(&self, other: &FlatRange) -> bool {
        self.start == other.start
            && self.last == other.last
            && self.region == other.region
            && self.offset_in_region == other.offset_in_region
            && self.readonly == other.readonly
            && self.romd == other.romd
            && self.nonvolatile == other.nonvolatile
    }

    pub(crate) fn can_merge_with(&self, next: &FlatRange) -> bool {
        self.last.checked_add(1) == Some(next.start)
            && self.region == next.region
            && self
                .offset_in_region
                .checked_add(self.last - self.start + 1)
                == Some(next.offset_in_region)
            && self.readonly == next.readonly
            && self.romd == next.romd
            && self.nonvolatile == next.nonvolatile
            && self.dirty_log_mask == next.dirty_log_mask
            && !self.unmergeable
            && !next.unmergeable
    }
}

/// A rendered address space: ranges, the partition into sections, and the
/// dispatch table over it.
#[derive(Debug)]
pub struct FlatView {
    pub(crate) root: RegionId,
    pub(crate) ranges: Vec<FlatRange>,
    pub(crate) sections: super::table::Table<Section>,
    /// Host address and ram address of byte 0 of each RAM block the view maps.
    pub(crate) blocks: Vec<(*mut u8, u64)>,
    pub(crate) dispatch: Dispatch,
    /// Most recently used section.
    mru: Cell<u32>,
}

impl FlatView {
    /// Build a view from rendered ranges; `backing` says how each range is reached.
    pub(crate) fn new(
        root: RegionId,
        ranges: Vec<FlatRange>,
        backing: impl Fn(&FlatRange) -> SectionBacking,
    ) -> Self {
        let mut sections = Vec::with_capacity(ranges.len() * 2 + 1);
        let mut next: Option<u64> = Some(0);
        let mut blocks: Vec<(*mut u8, u64)> = Vec::new();
        let mut slots: std::collections::HashMap<usize, u32> = std::collections::HashMap::new();
        for r in ranges.iter() {
            if let Some(n) = next
                && n < r.start
            {
                sections.push(Section::gap(n, r.start - 1));
            }
            let (kind, base) = match backing(r) {
                SectionBacking::Ram {
                    host,
                    ram,
                    readonly,
                } => (
                    if readonly { KIND_ROM } else { KIND_RAM },
                    Some((host, ram)),
                ),
                SectionBacking::RomDevice { host, ram } => (KIND_ROMD, Some((host, ram))),
                SectionBacking::Io => (KIND_IO, None),
                SectionBacking::Unassigned => (KIND_UNASSIGNED, None),
            };
            let slot = match base {
                Some((host, ram)) => {
                    let base = (
                        host.wrapping_sub(r.offset_in_region as usize),
                        ram.0 - r.offset_in_region,
                    );
                    *slots.entry(base.0 as usize).or_insert_with(|| {
                        blocks.push(base);
                        blocks.len() as u32 - 1
                    })
                }
                None => 0,
            };
            sections.push(Section {
                start: r.start,
                last: r.last,
                region: r.region,
                offset: r.offset_in_region,
                tag: (kind << KIND_SHIFT) | (slot & SLOT_MASK),
            });
            next = r.last.checked_add(1);
        }
        if let Some(n) = next {
            sections.push(Section::gap(n, u64::MAX));
        }
        let dispatch = Dispatch::build(&sections);
        let sections = super::table::Table::from_vec(sections);
        FlatView {
            root,
            ranges,
            sections,
            blocks,
            dispatch,
            mru: Cell::new(0),
        }
    }

    /// The root region this view was rendered from.
    pub fn root(&self) -> RegionId {
        self.root
    }

    /// The ranges, sorted by address.
    pub fn ranges(&self) -> &[FlatRange] {
        &self.ranges
    }

    /// The section that serves `addr`: the most recently used one if it still
    /// matches, else a dispatch-table lookup.
    #[inline]
    pub(crate) fn section(&self, addr: u64) -> &Section {
        let mru = self.mru.get() as usize;
        if let Some(s) = self.sections.get(mru)
            && s.start <= addr
            && addr <= s.last
        {
            return s;
        }
        let i = self.dispatch.lookup(addr);
        self.mru.set(i);
        // The dispatch table only holds indices of `sections`; fall back to a
        // binary search should that ever not hold, rather than panic.
        match self.sections.get(i as usize) {
            Some(s) => s,
            None => self.section_by_search(addr),
        }
    }

    /// The section serving `addr`, found by binary search (the reference path).
    pub(crate) fn section_by_search(&self, addr: u64) -> &Section {
        let i = self.sections.partition_point(|s| s.last < addr);
        &self.sections[i.min(self.sections.len() - 1)]
    }

    /// The flat range serving `addr`, if any.
    pub fn range_at(&self, addr: GuestAddress) -> Option<&FlatRange> {
        self.range_of(self.section(addr.0))
    }

    /// The flat range a section comes from (`None` for a gap).
    pub(crate) fn range_of(&self, s: &Section) -> Option<&FlatRange> {
        if s.is_gap() {
            return None;
        }
        let i = self.ranges.partition_point(|r| r.start < s.start);
        self.ranges.get(i).filter(|r| r.start == s.start)
    }
}
