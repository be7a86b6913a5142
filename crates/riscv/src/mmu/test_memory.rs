//! A small sparse physical memory for page-walk tests.

use std::collections::HashMap;

use super::PhysAccess;
use super::pte::*;

/// Sparse 8-byte words; unset words read as zero inside `ram`, and accesses
/// outside `ram` fail like unassigned addresses.
#[derive(Debug)]
pub(crate) struct TestMemory {
    pub words: HashMap<u64, u64>,
    pub ram: std::ops::Range<u64>,
    pub loads: usize,
    pub cas_calls: usize,
    /// When set, the next compare-and-swap at this address first stores the
    /// given value (as if another hart wrote it) and then fails.
    pub interfere: Option<(u64, u64)>,
}

impl Default for TestMemory {
    fn default() -> Self {
        Self {
            words: HashMap::new(),
            ram: 0x8000_0000..0x1_0000_0000,
            loads: 0,
            cas_calls: 0,
            interfere: None,
        }
    }
}

impl TestMemory {
    pub fn get(&self, paddr: u64) -> u64 {
        self.words.get(&paddr).copied().unwrap_or(0)
    }

    pub fn set(&mut self, paddr: u64, value: u64) {
        self.words.insert(paddr, value);
    }

    /// Write the PTE for `vaddr` at `level` of the table at `table`.
    pub fn map(&mut self, table: u64, level: u32, vaddr: u64, pte: u64) -> u64 {
        let index = (vaddr >> (12 + 9 * level)) & 0x1ff;
        let addr = table + index * 8;
        self.set(addr, pte);
        addr
    }
}

/// A pointer PTE to the table at `table`.
pub(crate) fn pointer(table: u64) -> u64 {
    ((table >> 12) << PTE_PPN_SHIFT) | PTE_V
}

/// A leaf PTE mapping `paddr` with `flags` (V added).
pub(crate) fn leaf(paddr: u64, flags: u64) -> u64 {
    ((paddr >> 12) << PTE_PPN_SHIFT) | flags | PTE_V
}

impl PhysAccess for TestMemory {
    fn load_u64(&mut self, paddr: u64) -> Option<u64> {
        self.loads += 1;
        self.ram.contains(&paddr).then(|| self.get(paddr))
    }

    fn cas_u64(&mut self, paddr: u64, old: u64, new: u64) -> Option<bool> {
        self.cas_calls += 1;
        if !self.ram.contains(&paddr) {
            return None;
        }
        if let Some((_, value)) = self.interfere.filter(|&(at, _)| at == paddr) {
            self.interfere = None;
            self.set(paddr, value);
            return Some(false);
        }
        if self.get(paddr) != old {
            return Some(false);
        }
        self.set(paddr, new);
        Some(true)
    }
}
