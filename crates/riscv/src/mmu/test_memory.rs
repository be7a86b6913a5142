//! A small sparse physical memory for page-walk tests.

use std::collections::HashMap;

use super::pte::*;
use ferrite_memory::{GuestBytes, GuestBytesError};

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

/// Word accesses only: the page walk makes no other kind.
impl GuestBytes for TestMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), GuestBytesError> {
        Err(GuestBytesError {
            addr,
            len: buf.len(),
        })
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), GuestBytesError> {
        Err(GuestBytesError {
            addr,
            len: data.len(),
        })
    }

    fn read_u64(&mut self, paddr: u64) -> Result<u64, GuestBytesError> {
        self.loads += 1;
        match self.ram.contains(&paddr) {
            true => Ok(self.get(paddr)),
            false => Err(GuestBytesError {
                addr: paddr,
                len: 8,
            }),
        }
    }

    fn compare_exchange_u64(
        &mut self,
        paddr: u64,
        old: u64,
        new: u64,
    ) -> Result<bool, GuestBytesError> {
        self.cas_calls += 1;
        if !self.ram.contains(&paddr) {
            return Err(GuestBytesError {
                addr: paddr,
                len: 8,
            });
        }
        if let Some((_, value)) = self.interfere.filter(|&(at, _)| at == paddr) {
            self.interfere = None;
            self.set(paddr, value);
            return Ok(false);
        }
        if self.get(paddr) != old {
            return Ok(false);
        }
        self.set(paddr, new);
        Ok(true)
    }
}
