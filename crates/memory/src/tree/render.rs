//! Rendering the region tree into flat ranges.
//!
//! Rendering follows QEMU's `render_memory_region`: a region is clipped to
//! its parent's window; an alias renders its target shifted so the window
//! lands at the alias's address; subregions render in priority order (higher
//! priority first, and among equals the most recently added first) and each
//! only fills addresses nothing earlier claimed; last, a terminal region
//! (RAM, ROM, I/O, ...) fills whatever holes remain in its own extent. So a
//! hole in a high-priority container shows what lies below it.

use std::collections::BTreeMap;

use crate::ram::dirty::DirtyClient;
use crate::region::{Region, RegionId, RegionKind};
use crate::view::flatview::FlatRange;

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
