//! `--profile`: where a run's instructions went, block by block.
//!
//! Each hart counts, per translated block (by its start pc), how often it
//! ran and how many instructions it retired ([`ferrite_softmmu::Cpu::set_profiling`]).
//! The report lists the hottest blocks with the ELF symbol they lie in and
//! the engine's counters, which say where host time goes besides the
//! blocks themselves: translation, TLB slow paths, invalidated code.

use std::fmt::Write as _;

use ferrite_softmmu::BlockProfile;

use crate::hart::HartStats;

/// ELF symbols by address, to name the function a pc lies in.
#[derive(Debug, Default, Clone)]
pub struct SymbolIndex {
    /// (address, name), sorted by address.
    by_addr: Vec<(u64, String)>,
}

impl SymbolIndex {
    /// An index of `symbols` (name, address); empty names are left out.
    pub fn new(symbols: Vec<(String, u64)>) -> Self {
        let mut by_addr: Vec<(u64, String)> = symbols
            .into_iter()
            .filter(|(n, _)| !n.is_empty() && !n.starts_with('$'))
            .map(|(n, a)| (a, n))
            .collect();
        by_addr.sort();
        by_addr.dedup_by_key(|(a, _)| *a);
        Self { by_addr }
    }

    /// `symbol+0xoffset` for the nearest symbol at or below `pc`.
    pub fn describe(&self, pc: u64) -> Option<String> {
        let i = self.by_addr.partition_point(|(a, _)| *a <= pc);
        let (a, name) = self.by_addr.get(i.checked_sub(1)?)?;
        Some(format!("{name}+{:#x}", pc - a))
    }
}

/// One hart's profile.
#[derive(Debug, Clone)]
pub struct HartProfile {
    /// The hart's index.
    pub hart: usize,
    /// Its blocks, hottest first.
    pub blocks: Vec<BlockProfile>,
    /// Its engine counters.
    pub stats: HartStats,
}

/// The report `--profile` prints: per hart, the `top` hottest blocks and
/// the engine's counters.
pub fn report(harts: &[HartProfile], symbols: &SymbolIndex, top: usize) -> String {
    let mut out = String::new();
    for h in harts {
        let total: u64 = h.blocks.iter().map(|b| b.insns).sum();
        let _ = writeln!(
            out,
            "ferrite: profile of hart {}: {total} instructions in {} blocks",
            h.hart,
            h.blocks.len()
        );
        let _ = writeln!(
            out,
            "   share   cumul  instructions      visits  per visit  pc                  symbol"
        );
        let mut cumul = 0u64;
        for b in h.blocks.iter().take(top) {
            cumul += b.insns;
            let pct = |n: u64| {
                if total == 0 {
                    0.0
                } else {
                    n as f64 * 100.0 / total as f64
                }
            };
            let per_visit = b.insns as f64 / b.visits.max(1) as f64;
            let _ = writeln!(
                out,
                "  {:5.1}%  {:5.1}%  {:>12}  {:>10}  {:>9.1}  0x{:016x}  {}",
                pct(b.insns),
                pct(cumul),
                b.insns,
                b.visits,
                per_visit,
                b.pc,
                symbols.describe(b.pc).unwrap_or_default()
            );
        }
        let s = h.stats;
        let _ = writeln!(
            out,
            "  engine: {} blocks translated, {} invalidated; {} TLB fills, {} slow-path accesses, {} stores beside code",
            s.blocks_translated,
            s.blocks_invalidated,
            s.tlb_fills,
            s.tlb_slow_accesses,
            s.beside_code_stores
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_name_the_enclosing_function() {
        let s = SymbolIndex::new(vec![
            ("main".into(), 0x8000_0100),
            ("_start".into(), 0x8000_0000),
            ("".into(), 0x8000_0080),
        ]);
        assert_eq!(s.describe(0x8000_0000).as_deref(), Some("_start+0x0"));
        assert_eq!(s.describe(0x8000_00fe).as_deref(), Some("_start+0xfe"));
        assert_eq!(s.describe(0x8000_0104).as_deref(), Some("main+0x4"));
        assert_eq!(s.describe(0x7fff_fffe), None);
    }

    #[test]
    fn report_lists_the_hottest_blocks_with_shares() {
        let harts = [HartProfile {
            hart: 0,
            blocks: vec![
                BlockProfile {
                    pc: 0x8000_0100,
                    visits: 10,
                    insns: 75,
                },
                BlockProfile {
                    pc: 0x8000_0000,
                    visits: 5,
                    insns: 25,
                },
            ],
            stats: HartStats::default(),
        }];
        let symbols = SymbolIndex::new(vec![("main".into(), 0x8000_0100)]);
        let r = report(&harts, &symbols, 1);
        assert!(r.starts_with("ferrite: profile of hart 0: 100 instructions in 2 blocks\n"));
        assert!(r.contains("   75.0%   75.0%            75          10        7.5  0x0000000080000100  main+0x0\n"), "{r}");
        assert!(!r.contains("0x0000000080000000"), "only the top block: {r}");
        assert!(r.contains("engine: 0 blocks translated"));
    }
}
