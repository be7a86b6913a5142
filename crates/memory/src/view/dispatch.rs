//! Dispatch: a multi-level radix table over 4 KiB page numbers whose leaves
//! are section indices.
//!
//! A 64-bit address has a 52-bit page number, split into six 9-bit indices
//! (the top one uses 7). An entry is either a child node, a section index
//! (the whole aligned block of pages it covers belongs to one section, so a
//! 4 GiB RAM region costs a handful of entries, not a million), or a
//! sub-page (the page is split between sections; a per-byte table of 4096
//! small indices says which). A lookup is therefore at most six array
//! indexings plus one for a sub-page, whatever the number of regions.

use crate::address::{PAGE_SHIFT, PAGE_SIZE};
use crate::view::section::Section;
use crate::view::table::Table;

const BITS: u32 = 9;
const FANOUT: usize = 1 << BITS;
const LEVELS: u32 = 6;
const NODE: u32 = 1 << 31;
const SUBPAGE: u32 = 1 << 30;
const INDEX: u32 = SUBPAGE - 1;
/// Root entries that 52-bit page numbers can reach.
const TOP_ENTRIES: usize = 1 << (64 - PAGE_SHIFT - BITS * (LEVELS - 1));

/// A page split between sections.
#[derive(Debug, Clone)]
struct Subpage {
    /// Sections present in the page, in address order.
    sections: Vec<u32>,
    /// Page offset where each of `sections` starts.
    starts: Vec<u16>,
    /// For pages split many ways: for each byte, an index into `sections`.
    /// A page split a few ways (a UART inside a RAM page) scans `starts`
    /// instead: at most [`SCAN_LIMIT`] compares, and 8 KiB saved per page.
    byte: Option<Box<[u16]>>,
}

/// Sub-pages with more pieces than this get a per-byte table.
const SCAN_LIMIT: usize = 8;

impl Subpage {
    #[inline]
    fn lookup(&self, offset: u16) -> u32 {
        let local = match &self.byte {
            Some(byte) => byte.get(offset as usize).copied().unwrap_or(0) as usize,
            None => self.starts.iter().rposition(|&s| s <= offset).unwrap_or(0),
        };
        self.sections.get(local).copied().unwrap_or(0)
    }
}

/// The dispatch table of one flat view.
#[derive(Debug)]
pub(crate) struct Dispatch {
    nodes: Table<[u32; FANOUT]>,
    subpages: Vec<Subpage>,
    /// Where lookups start: the top levels often form a chain of nodes with a
    /// single child and one uniform value elsewhere (all of memory sits low in
    /// the address space). Lookups skip the chain with one compare: pages
    /// whose top bits equal `prefix` start at `start_node` on `start_level`,
    /// all others get `outside`.
    start_node: usize,
    start_level: u32,
    prefix: u64,
    outside: u32,
}

/// A dispatch table under construction.
struct Builder {
    nodes: Vec<[u32; FANOUT]>,
    subpages: Vec<Subpage>,
    /// The leaf node written last and the first page it covers. Sections
    /// arrive in address order and never overlap, so runs of small sections
    /// mostly land in the same leaf and skip the walk from the root.
    last_leaf: Option<(u64, usize)>,
}

impl Builder {
    /// Find the chain of single-child nodes at the top (see `Dispatch::start_node`):
    /// `(start node, start level, prefix, outside value)`.
    fn compress_top_chain(&self) -> (usize, u32, u64, u32) {
        let mut node = 0usize;
        let mut level = 0u32;
        let mut prefix = 0u64;
        let mut outside: Option<u32> = None;
        while level < LEVELS - 1 {
            let reachable = if level == 0 { TOP_ENTRIES } else { FANOUT };
            let entries = &self.nodes[node][..reachable];
            let mut child = None;
            let mut uniform = true;
            for (k, &e) in entries.iter().enumerate() {
                if e & NODE != 0 {
                    if child.is_some() {
                        uniform = false;
                        break;
                    }
                    child = Some((k, (e & !NODE) as usize));
                } else if *outside.get_or_insert(e) != e {
                    uniform = false;
                    break;
                }
            }
            let Some((k, c)) = child else { break };
            if !uniform {
                break;
            }
            prefix = (prefix << BITS) | k as u64;
            node = c;
            level += 1;
        }
        if level == 0 {
            return (0, 0, 0, 0);
        }
        (node, level, prefix, outside.unwrap_or(0))
    }

    /// Point pages `[lo, hi)` at `value`.
    fn set_pages(&mut self, lo: u64, hi: u64, value: u32) {
        if let Some((base, node)) = self.last_leaf
            && lo >= base
            && hi <= base + FANOUT as u64
        {
            self.nodes[node][(lo - base) as usize..(hi - base) as usize].fill(value);
            return;
        }
        self.set_range(0, 0, 0, lo, hi, value);
    }

    fn set_range(&mut self, node: usize, level: u32, base: u64, lo: u64, hi: u64, value: u32) {
        let shift = BITS * (LEVELS - 1 - level);
        let span = 1u64 << shift;
        let first = ((lo - base) >> shift) as usize;
        let last = ((hi - 1 - base) >> shift) as usize;
        for idx in first..=last.min(FANOUT - 1) {
            let ebase = base + ((idx as u64) << shift);
            let eend = ebase + span;
            let (a, b) = (lo.max(ebase), hi.min(eend));
            if a == ebase && b == eend || level == LEVELS - 1 {
                self.nodes[node][idx] = value;
                if level == LEVELS - 1 {
                    self.last_leaf = Some((base, node));
                }
                continue;
            }
            let entry = self.nodes[node][idx];
            let child = if entry & NODE != 0 {
                (entry & !NODE) as usize
            } else {
                self.nodes.push([entry; FANOUT]);
                let c = self.nodes.len() - 1;
                self.nodes[node][idx] = NODE | c as u32;
                c
            };
            self.set_range(child, level + 1, ebase, a, b, value);
        }
    }
}

impl Dispatch {
    /// Build the table for a partition of the whole space into `sections`.
    pub(crate) fn build(sections: &[Section]) -> Self {
        let mut d = Builder {
            nodes: vec![[0; FANOUT]],
            subpages: Vec::new(),
            last_leaf: None,
        };
        // Pages touched by more than one section, in address order.
        let mut partial: Vec<(u64, u64, u64, u32)> = Vec::new(); // (page, first byte, last byte, section)
        for (i, s) in sections.iter().enumerate() {
            let i = i as u32;
            let first_page = s.start >> PAGE_SHIFT;
            let last_page = s.last >> PAGE_SHIFT;
            let head_partial = s.start % PAGE_SIZE != 0;
            let tail_partial = s.last % PAGE_SIZE != PAGE_SIZE - 1;
            if first_page == last_page {
                if head_partial || tail_partial {
                    partial.push((first_page, s.start % PAGE_SIZE, s.last % PAGE_SIZE, i));
                } else {
                    d.set_pages(first_page, first_page + 1, i);
                }
                continue;
            }
            let mut full_lo = first_page;
            let mut full_hi = last_page + 1; // exclusive
            if head_partial {
                partial.push((first_page, s.start % PAGE_SIZE, PAGE_SIZE - 1, i));
                full_lo += 1;
            }
            if tail_partial {
                partial.push((last_page, 0, s.last % PAGE_SIZE, i));
                full_hi -= 1;
            }
            if full_lo < full_hi {
                d.set_pages(full_lo, full_hi, i);
            }
        }
        partial.sort_by_key(|p| (p.0, p.1));
        let mut k = 0;
        while k < partial.len() {
            let page = partial[k].0;
            let mut sub = Subpage {
                sections: Vec::new(),
                starts: Vec::new(),
                byte: None,
            };
            let first = k;
            while k < partial.len() && partial[k].0 == page {
                let (_, lo, _, sec) = partial[k];
                sub.sections.push(sec);
                sub.starts.push(lo as u16);
                k += 1;
            }
            if sub.sections.len() > SCAN_LIMIT {
                let mut byte = vec![0u16; PAGE_SIZE as usize].into_boxed_slice();
                for (local, &(_, lo, hi, _)) in partial[first..k].iter().enumerate() {
                    byte[lo as usize..=hi as usize].fill(local as u16);
                }
                sub.byte = Some(byte);
            }
            let id = d.subpages.len() as u32;
            d.subpages.push(sub);
            d.set_pages(page, page + 1, SUBPAGE | id);
        }
        let (start_node, start_level, prefix, outside) = d.compress_top_chain();
        Dispatch {
            nodes: Table::from_vec(d.nodes),
            subpages: d.subpages,
            start_node,
            start_level,
            prefix,
            outside,
        }
    }

    /// The section index serving `addr`.
    #[inline]
    pub(crate) fn lookup(&self, addr: u64) -> u32 {
        let page = addr >> PAGE_SHIFT;
        let mut level = self.start_level;
        if level > 0 && page >> (BITS * (LEVELS - level)) != self.prefix {
            return self.outside;
        }
        let Some(mut node) = self.nodes.get(self.start_node) else {
            return 0;
        };
        loop {
            let shift = BITS * (LEVELS - 1 - level);
            let entry = node[((page >> shift) as usize) & (FANOUT - 1)];
            if entry & NODE != 0 {
                match self.nodes.get((entry & !NODE) as usize) {
                    Some(n) => node = n,
                    None => return 0,
                }
                level += 1;
                continue;
            }
            if entry & SUBPAGE != 0 {
                return match self.subpages.get((entry & INDEX) as usize) {
                    Some(sub) => sub.lookup((addr % PAGE_SIZE) as u16),
                    None => 0,
                };
            }
            return entry;
        }
    }

    /// Number of radix nodes (for `mtree -d`).
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of sub-pages (for `mtree -d`).
    pub(crate) fn subpage_count(&self) -> usize {
        self.subpages.len()
    }

    /// Top-level entries that are not section 0, as `(index, description)`, for `mtree -d`.
    pub(crate) fn describe_entry(&self, entry: u32) -> String {
        if entry & NODE != 0 {
            format!("node {}", entry & !NODE)
        } else if entry & SUBPAGE != 0 {
            format!("subpage {}", entry & INDEX)
        } else {
            format!("section {entry}")
        }
    }

    /// The root node's entries that page numbers can reach (52-bit page
    /// numbers use only the low 7 bits of the top index).
    pub(crate) fn root_entries(&self) -> &[u32] {
        &self.nodes[0][..TOP_ENTRIES]
    }

    /// Levels walked to resolve `addr`, and the entry reached (for `mtree -d`).
    pub(crate) fn walk(&self, addr: u64) -> Vec<u32> {
        let page = addr >> PAGE_SHIFT;
        let mut out = Vec::new();
        if self.start_level > 0 && page >> (BITS * (LEVELS - self.start_level)) != self.prefix {
            out.push(self.outside);
            return out;
        }
        let mut node = &self.nodes[self.start_node];
        for level in self.start_level..LEVELS {
            let shift = BITS * (LEVELS - 1 - level);
            let entry = node[((page >> shift) as usize) & (FANOUT - 1)];
            out.push(entry);
            match self.nodes.get((entry & !NODE) as usize) {
                Some(n) if entry & NODE != 0 => node = n,
                _ => break,
            }
        }
        out
    }

    /// Where lookups start, for `mtree -d`.
    pub(crate) fn describe_start(&self) -> String {
        if self.start_level == 0 {
            return "lookups start at the root".to_string();
        }
        let bits = 64 - PAGE_SHIFT - BITS * (LEVELS - self.start_level);
        format!(
            "lookups start at node {} (level {}) when the top {} bits of the page number are {:#x}, else section {}",
            self.start_node, self.start_level, bits, self.prefix, self.outside
        )
    }

    /// The sections of a sub-page, for `mtree -d`.
    pub(crate) fn subpage_sections(&self, id: u32) -> &[u32] {
        self.subpages.get(id as usize).map_or(&[], |s| &s.sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(start: u64, last: u64) -> Section {
        Section::gap(start, last)
    }

    #[test]
    fn lookup_finds_whole_pages_subpages_and_the_top() {
        let sections = vec![
            sec(0, 0x7fff_ffff),
            sec(0x8000_0000, 0x8000_0fff),
            sec(0x8000_1000, 0x8000_1003),
            sec(0x8000_1004, 0xffff_ffff_ffff_efff),
            sec(0xffff_ffff_ffff_f000, u64::MAX),
        ];
        let d = Dispatch::build(&sections);
        assert_eq!(d.lookup(0), 0);
        assert_eq!(d.lookup(0x7fff_ffff), 0);
        assert_eq!(d.lookup(0x8000_0000), 1);
        assert_eq!(d.lookup(0x8000_0fff), 1);
        assert_eq!(d.lookup(0x8000_1000), 2);
        assert_eq!(d.lookup(0x8000_1003), 2);
        assert_eq!(d.lookup(0x8000_1004), 3);
        assert_eq!(d.lookup(0x8000_2000), 3);
        assert_eq!(d.lookup(0xffff_ffff_ffff_efff), 3);
        assert_eq!(d.lookup(0xffff_ffff_ffff_f000), 4);
        assert_eq!(d.lookup(u64::MAX), 4);
        assert_eq!(d.subpage_count(), 1);
        assert!(
            d.subpages[0].byte.is_none(),
            "three pieces are scanned, not tabled"
        );
        // A 2 GiB block costs a few nodes, not half a million entries.
        assert!(d.node_count() < 16, "{}", d.node_count());
    }
}

#[cfg(test)]
mod subpage_tests {
    use super::*;

    #[test]
    fn a_page_split_many_ways_gets_a_byte_table() {
        // Sixteen 256-byte sections in page 0, then the rest of the space.
        let mut sections: Vec<Section> = (0..16u64)
            .map(|i| Section::gap(i * 256, i * 256 + 255))
            .collect();
        sections.push(Section::gap(PAGE_SIZE, u64::MAX));
        let d = Dispatch::build(&sections);
        assert!(d.subpages[0].byte.is_some());
        for i in 0..16u64 {
            assert_eq!(d.lookup(i * 256), i as u32);
            assert_eq!(d.lookup(i * 256 + 255), i as u32);
        }
        assert_eq!(d.lookup(PAGE_SIZE), 16);
    }
}
