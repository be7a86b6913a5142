//! Flat views: the region tree rendered into sorted, disjoint ranges.
//!
//! Rendering follows QEMU's `render_memory_region`: a region is clipped to
//! its parent's window; an alias renders its target shifted so the window
//! lands at the alias's address; subregions render in priority order (higher
//! priority first, and among equals the most recently added first) and each
//! only fills addresses nothing earlier claimed; last, a terminal region
//! (RAM, ROM, I/O, ...) fills whatever holes remain in its own extent. So a
//! hole in a high-priority container shows what lies below it.

use std::cell::Cell;
use std::collections::BTreeMap;

use crate::address::{GuestAddress, RamAddr};
use crate::dirty::DirtyClient;
use crate::dispatch::Dispatch;
use crate::region::{Region, RegionId, RegionKind, UNASSIGNED};

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
    /// Dirty-log clients active on this range (bit per [`DirtyClient`]).
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

    fn can_merge_with(&self, next: &FlatRange) -> bool {
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

const KIND_SHIFT: u32 = 29;
const SLOT_MASK: u32 = (1 << KIND_SHIFT) - 1;
const KIND_UNASSIGNED: u32 = 0;
const KIND_IO: u32 = 1;
const KIND_RAM: u32 = 2;
const KIND_ROM: u32 = 3;
const KIND_ROMD: u32 = 4;

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
    tag: u32,
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

/// A rendered address space: ranges, the partition into sections, and the
/// dispatch table over it.
#[derive(Debug)]
pub struct FlatView {
    pub(crate) root: RegionId,
    pub(crate) ranges: Vec<FlatRange>,
    pub(crate) sections: crate::ram::Table<Section>,
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
        let sections = crate::ram::Table::from_vec(sections);
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

/// Attributes inherited down the path while rendering.
#[derive(Clone, Copy)]
struct Inherited {
    readonly: bool,
    nonvolatile: bool,
    unmergeable: bool,
}

/// A range being built: `[start, end)` with exclusive `end` in u128.
#[derive(Clone, Copy)]
struct Piece {
    end: u128,
    region: RegionId,
    offset: u128,
    readonly: bool,
    romd: bool,
    nonvolatile: bool,
    unmergeable: bool,
    dirty_log_mask: u8,
}

/// Render the tree under `root` into merged, sorted ranges.
/// `global_log` adds the MIGRATION client to every RAM-backed range.
pub(crate) fn render(regions: &[Region], root: RegionId, global_log: bool) -> Vec<FlatRange> {
    let mut out: BTreeMap<u128, Piece> = BTreeMap::new();
    let inherited = Inherited {
        readonly: false,
        nonvolatile: false,
        unmergeable: false,
    };
    let clip = (0u128, 1u128 << 64);
    render_region(regions, root, 0, clip, inherited, global_log, &mut out, 0);
    let mut ranges: Vec<FlatRange> = Vec::with_capacity(out.len());
    for (start, p) in out {
        let r = FlatRange {
            start: start as u64,
            last: (p.end - 1) as u64,
            region: p.region,
            offset_in_region: p.offset as u64,
            readonly: p.readonly,
            romd: p.romd,
            nonvolatile: p.nonvolatile,
            unmergeable: p.unmergeable,
            dirty_log_mask: p.dirty_log_mask,
        };
        match ranges.last_mut() {
            Some(prev) if prev.can_merge_with(&r) => prev.last = r.last,
            _ => ranges.push(r),
        }
    }
    ranges
}

/// Nesting limit: deeper trees are cut off rather than overflowing the stack.
const MAX_DEPTH: u32 = 256;

/// The dirty-log mask a range of `region` carries.
pub(crate) fn dirty_mask_of(region: &Region, global_log: bool) -> u8 {
    let mut mask = region.dirty_log_mask;
    if region.ram_block().is_some() {
        mask |= DirtyClient::Code.bit();
        if global_log {
            mask |= DirtyClient::Migration.bit();
        }
    }
    mask
}

#[allow(clippy::too_many_arguments)]
fn render_region(
    regions: &[Region],
    id: RegionId,
    base: i128,
    clip: (u128, u128),
    mut inh: Inherited,
    global_log: bool,
    out: &mut BTreeMap<u128, Piece>,
    depth: u32,
) {
    let Some(mr) = regions.get(id.index()) else {
        return;
    };
    if !mr.enabled || depth > MAX_DEPTH {
        return;
    }
    let base = base + i128::from(mr.addr);
    // Intersect [base, base + size) with the clip window.
    let start = base.max(clip.0 as i128);
    let end = (base + mr.size as i128).min(clip.1 as i128);
    if start >= end {
        return;
    }
    let clip = (start as u128, end as u128);
    inh.readonly |= mr.readonly;
    inh.nonvolatile |= mr.nonvolatile;
    inh.unmergeable |= mr.unmergeable;
    if let RegionKind::Alias { target, offset } = mr.kind {
        let Some(t) = regions.get(target.index()) else {
            return;
        };
        let base = base - i128::from(t.addr) - i128::from(offset);
        render_region(regions, target, base, clip, inh, global_log, out, depth + 1);
        return;
    }
    for &child in mr.subregions.iter().rev() {
        render_region(regions, child, base, clip, inh, global_log, out, depth + 1);
    }
    if !mr.terminates() {
        return;
    }
    let romd = matches!(mr.kind, RegionKind::RomDevice { romd: true, .. });
    let readonly = inh.readonly || matches!(mr.kind, RegionKind::Rom { .. });
    let proto = Piece {
        end: 0,
        region: id,
        offset: 0,
        readonly,
        romd,
        nonvolatile: inh.nonvolatile,
        unmergeable: inh.unmergeable,
        dirty_log_mask: dirty_mask_of(mr, global_log),
    };
    fill_holes(out, clip.0, clip.1, base, proto);
}

/// Insert `[start, end)` of a region whose offset 0 sits at `base`, only where
/// `out` has nothing yet.
fn fill_holes(out: &mut BTreeMap<u128, Piece>, start: u128, end: u128, base: i128, proto: Piece) {
    // Fast path: nothing rendered yet at or around the piece (children often
    // come in address order, or in reverse address order).
    let clear_below = out.first_key_value().is_none_or(|(&s, _)| end <= s);
    let clear_above = out.last_key_value().is_none_or(|(_, p)| p.end <= start);
    if clear_below || clear_above {
        let offset = (start as i128 - base) as u128;
        out.insert(
            start,
            Piece {
                end,
                offset,
                ..proto
            },
        );
        return;
    }
    let mut cursor = start;
    // A piece that begins before `start` may cover it.
    if let Some((_, p)) = out.range(..=cursor).next_back()
        && p.end > cursor
    {
        cursor = p.end;
    }
    while cursor < end {
        let next = out.range(cursor..end).next().map(|(&s, p)| (s, p.end));
        let gap_end = next.map_or(end, |(s, _)| s);
        if gap_end > cursor {
            let offset = (cursor as i128 - base) as u128;
            out.insert(
                cursor,
                Piece {
                    end: gap_end,
                    offset,
                    ..proto
                },
            );
        }
        match next {
            Some((_, e)) => cursor = e,
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::RegionKind;

    fn arena() -> Vec<Region> {
        vec![Region::new("unassigned", 1 << 64, RegionKind::Container)]
    }

    fn add(regions: &mut Vec<Region>, r: Region) -> RegionId {
        regions.push(r);
        RegionId(regions.len() as u32 - 1)
    }

    fn map(regions: &mut [Region], parent: RegionId, child: RegionId, addr: u64) {
        regions[child.index()].parent = Some(parent);
        regions[child.index()].addr = addr;
        regions[parent.index()].subregions.push(child);
    }

    #[test]
    fn holes_are_filled_only_where_nothing_rendered_yet() {
        let mut out = BTreeMap::new();
        let proto = Piece {
            end: 0,
            region: RegionId(1),
            offset: 0,
            readonly: false,
            romd: false,
            nonvolatile: false,
            unmergeable: false,
            dirty_log_mask: 0,
        };
        fill_holes(
            &mut out,
            10,
            20,
            0,
            Piece {
                region: RegionId(2),
                ..proto
            },
        );
        fill_holes(&mut out, 0, 40, 0, proto);
        let got: Vec<(u128, u128, u32, u128)> = out
            .iter()
            .map(|(&s, p)| (s, p.end, p.region.0, p.offset))
            .collect();
        assert_eq!(got, vec![(0, 10, 1, 0), (10, 20, 2, 10), (20, 40, 1, 20)]);
    }

    #[test]
    fn contiguous_pieces_of_one_region_merge_unless_unmergeable() {
        for unmergeable in [false, true] {
            let mut regions = arena();
            let root = add(
                &mut regions,
                Region::new("root", 1 << 64, RegionKind::Container),
            );
            let io = add(
                &mut regions,
                Region::new("io", 0x2000, RegionKind::Container),
            );
            // Two aliases of `io` side by side with contiguous offsets.
            let a = add(
                &mut regions,
                Region::new(
                    "a",
                    0x1000,
                    RegionKind::Alias {
                        target: io,
                        offset: 0,
                    },
                ),
            );
            let b = add(
                &mut regions,
                Region::new(
                    "b",
                    0x1000,
                    RegionKind::Alias {
                        target: io,
                        offset: 0x1000,
                    },
                ),
            );
            regions[io.index()].kind = RegionKind::RamDevice { block: 0 };
            regions[a.index()].unmergeable = unmergeable;
            map(&mut regions, root, a, 0x10000);
            map(&mut regions, root, b, 0x11000);
            let ranges = render(&regions, root, false);
            assert_eq!(ranges.len(), if unmergeable { 2 } else { 1 }, "{ranges:?}");
            assert_eq!(ranges[0].start, 0x10000);
            assert_eq!(ranges.last().map(|r| r.last), Some(0x11fff));
        }
    }
}
