//! `mtree`: the region tree, flat views and dispatch tables as text, in the
//! style of QEMU's `info mtree`.

use std::fmt::Write;
use std::rc::Rc;

use crate::ids::AddressSpaceId;
use crate::region::{Region, RegionId, RegionKind};
use crate::system::MemorySystem;
use crate::view::flatview::FlatView;
use crate::view::section::SectionBacking;

/// What `mtree` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MtreeOptions {
    /// Print flat views (`-f`) instead of the tree.
    pub flatview: bool,
    /// With `flatview`, also print each view's dispatch table (`-d`).
    pub dispatch: bool,
    /// With `flatview`, omit flat views that have no ranges.
    pub hide_empty: bool,
    /// In the tree, print disabled regions too, marked `[disabled]` (QEMU's
    /// `info mtree -D`); by default they are left out, as QEMU leaves them.
    pub disabled: bool,
}

/// `start-end` as QEMU prints it: 16 hex digits each, `end` inclusive.
fn span(start: u128, size: u128) -> String {
    let end = if size == 0 { start } else { start + size - 1 };
    format!(
        "{:016x}-{:016x}",
        start as u64,
        end.min(u128::from(u64::MAX)) as u64
    )
}

impl MemorySystem {
    /// QEMU's type word for a region (an alias shows its target's).
    fn type_word(&self, r: &Region) -> &'static str {
        let mut cur = r;
        for _ in 0..64 {
            match cur.kind {
                RegionKind::Alias { target, .. } => match self.tree.regions.get(target.index()) {
                    Some(t) => cur = t,
                    None => break,
                },
                RegionKind::RamDevice { .. } => return "ramd",
                RegionKind::RomDevice { romd: true, .. } => return "romd",
                RegionKind::Rom { .. } => return "rom",
                RegionKind::Ram { .. } if cur.readonly => return "rom",
                RegionKind::Ram { .. } => return "ram",
                _ => return "i/o",
            }
        }
        "i/o"
    }

    /// The memory tree (or flat views, with `opts.flatview`) as text.
    pub fn mtree(&self, opts: MtreeOptions) -> String {
        if opts.flatview {
            return self.mtree_flatviews(opts);
        }
        let mut out = String::new();
        // Alias targets in the order the walk meets them (disabled aliases
        // too), each printed once after the spaces, as QEMU's queue does.
        let mut aliased: Vec<RegionId> = Vec::new();
        let mut printed_roots: Vec<RegionId> = Vec::new();
        for sp in &self.spaces.list {
            if printed_roots.contains(&sp.root) {
                continue;
            }
            printed_roots.push(sp.root);
            // The spaces sharing the root, by name (QEMU sorts them so).
            let mut names: Vec<&str> = self
                .spaces
                .list
                .iter()
                .filter(|o| o.root == sp.root)
                .map(|o| o.name.as_str())
                .collect();
            names.sort_unstable();
            for name in names {
                let _ = writeln!(out, "address-space: {name}");
            }
            self.mtree_region(&mut out, sp.root, 0, 1, &mut aliased, opts.disabled);
            out.push('\n');
        }
        let mut i = 0;
        while let Some(&r) = aliased.get(i) {
            i += 1;
            let name = self
                .tree
                .regions
                .get(r.index())
                .map_or("", |x| x.name.as_str());
            let _ = writeln!(out, "memory-region: {name}");
            self.mtree_region(&mut out, r, 0, 1, &mut aliased, opts.disabled);
            out.push('\n');
        }
        out
    }

    fn mtree_region(
        &self,
        out: &mut String,
        r: RegionId,
        base: u128,
        level: usize,
        aliased: &mut Vec<RegionId>,
        show_disabled: bool,
    ) {
        let Some(mr) = self.tree.regions.get(r.index()) else {
            return;
        };
        let start = base + u128::from(mr.addr);
        if let RegionKind::Alias { target, .. } = mr.kind
            && !aliased.contains(&target)
        {
            aliased.push(target);
        }
        // A disabled region's own line is left out (its subregions are
        // still walked), as QEMU's `info mtree` without `-D` does.
        if mr.enabled || show_disabled {
            let indent = "  ".repeat(level);
            let nv = if mr.nonvolatile { "nv-" } else { "" };
            let disabled = if mr.enabled { "" } else { " [disabled]" };
            let _ = write!(
                out,
                "{indent}{} (prio {}, {nv}{}): ",
                span(start, mr.size),
                mr.priority,
                self.type_word(mr)
            );
            if let RegionKind::Alias { target, offset } = mr.kind {
                let tname = self
                    .tree
                    .regions
                    .get(target.index())
                    .map_or("", |x| x.name.as_str());
                let _ = writeln!(
                    out,
                    "alias {} @{} {}{disabled}",
                    mr.name,
                    tname,
                    span(u128::from(offset), mr.size)
                );
            } else {
                let _ = writeln!(out, "{}{disabled}", mr.name);
            }
        }
        // Children sorted by address, then by priority (higher first), as QEMU prints them.
        let mut children: Vec<RegionId> = mr.subregions.clone();
        children.sort_by_key(|c| {
            let x = &self.tree.regions[c.index()];
            (x.addr, std::cmp::Reverse(x.priority))
        });
        for c in children {
            self.mtree_region(out, c, start, level + 1, aliased, show_disabled);
        }
    }

    fn mtree_flatviews(&self, opts: MtreeOptions) -> String {
        let mut out = String::new();
        let mut seen: Vec<RegionId> = Vec::new();
        let mut n = 0;
        for sp in &self.spaces.list {
            if seen.contains(&sp.root) {
                continue;
            }
            seen.push(sp.root);
            let view = sp.view.clone();
            if opts.hide_empty && view.ranges.is_empty() {
                continue;
            }
            let _ = writeln!(out, "FlatView #{n}");
            n += 1;
            let root_name = self.tree.name_of(sp.root);
            for other in self.spaces.list.iter().filter(|o| o.root == sp.root) {
                let _ = writeln!(out, " AS \"{}\", root: {}", other.name, root_name);
            }
            let _ = writeln!(out, " Root memory region: {root_name}");
            if view.ranges.is_empty() {
                let _ = writeln!(out, "  No rendered FlatView");
            }
            for fr in &view.ranges {
                let Some(mr) = self.tree.regions.get(fr.region.index()) else {
                    continue;
                };
                let nv = if fr.nonvolatile { "nv-" } else { "" };
                let ty = if fr.readonly && mr.ram_block().is_some() {
                    "rom"
                } else {
                    self.type_word(mr)
                };
                let _ = write!(
                    out,
                    "  {} (prio {}, {nv}{ty}): {}",
                    span(u128::from(fr.start), fr.size()),
                    mr.priority,
                    mr.name
                );
                if fr.offset_in_region != 0 {
                    let _ = write!(out, " @{:016x}", fr.offset_in_region);
                }
                out.push('\n');
            }
            if opts.dispatch {
                self.mtree_dispatch(&mut out, &view);
            }
            out.push('\n');
        }
        out
    }

    fn mtree_dispatch(&self, out: &mut String, view: &Rc<FlatView>) {
        let _ = writeln!(out, "  Dispatch");
        let _ = writeln!(out, "    Physical sections");
        for (i, s) in view.sections.iter().enumerate() {
            let name = match view.range_of(s) {
                Some(fr) => self.tree.name_of(fr.region),
                None => "(noname)".to_string(),
            };
            let what = match s.backing(&view.blocks) {
                SectionBacking::Unassigned => " [unassigned]",
                SectionBacking::Ram { readonly: true, .. } => " [rom]",
                SectionBacking::Ram { .. } => " [ram]",
                SectionBacking::RomDevice { .. } => " [romd]",
                SectionBacking::Io => " [i/o]",
            };
            let _ = writeln!(
                out,
                "      #{i} @{:016x}..{:016x} {name}{what}",
                s.start, s.last
            );
        }
        let d = &view.dispatch;
        let _ = writeln!(
            out,
            "    Nodes (9 bits per level, 6 levels): {} nodes, {} subpages",
            d.node_count(),
            d.subpage_count()
        );
        let _ = writeln!(out, "      {}", d.describe_start());
        let root = d.root_entries();
        let mut i = 0;
        while i < root.len() {
            let mut j = i;
            while j + 1 < root.len() && root[j + 1] == root[i] {
                j += 1;
            }
            let idx = if i == j {
                format!("{i}")
            } else {
                format!("{i}..{j}")
            };
            let _ = writeln!(out, "      [0] {idx:<10} {}", d.describe_entry(root[i]));
            i = j + 1;
        }
        for (k, fr) in view.ranges.iter().enumerate() {
            let path: Vec<String> = d
                .walk(fr.start)
                .iter()
                .map(|&e| d.describe_entry(e))
                .collect();
            let _ = writeln!(
                out,
                "      lookup {:016x} (range {k}): {}",
                fr.start,
                path.join(" -> ")
            );
        }
        for id in 0..d.subpage_count() as u32 {
            let secs: Vec<String> = d
                .subpage_sections(id)
                .iter()
                .map(|s| format!("#{s}"))
                .collect();
            let _ = writeln!(out, "      subpage {id}: sections {}", secs.join(" "));
        }
    }

    /// The address spaces, by id order (for tools that print them).
    pub fn address_spaces(&self) -> Vec<AddressSpaceId> {
        (0..self.spaces.list.len() as u32)
            .map(AddressSpaceId)
            .collect()
    }
}
