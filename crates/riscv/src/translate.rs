//! Building translated blocks: fetch through the TLB's code path, decode
//! once, store the decoded [`Insn`]s as threaded-code slots
//! ([`crate::exec::threaded`]) in the block cache.
//!
//! A block ends after an instruction that transfers control or may change
//! privileged state ([`crate::decode::Op::ends_block`]: branches, jumps,
//! CSR accesses, `fence.i`, `sfence.vma`, xRET, `wfi`, `ecall`, `ebreak`),
//! before an undecodable instruction (whose bits become the block's
//! terminal), before an instruction whose fetch faults, at the end of the
//! first page (an instruction straddling the boundary is the last one, and
//! the block is then registered on both pages), and after
//! [`MAX_BLOCK_INSNS`] instructions. A `jal` whose target lies on the
//! block's first page, and is not already part of the block, is the
//! exception among jumps: translation follows it (the slot writes the link
//! register and execution goes straight on with the target's instructions),
//! so a call to a nearby function and its body form one block. The block's
//! slots carry their own pcs, so traps and `auipc` inside the followed code
//! see the right pc.
//!
//! When a block is created the CODE dirty bit of its pages is cleared, so
//! the next store to them takes the NOTDIRTY slow path and invalidates the
//! page's blocks first; the TLB's write tags for those pages are re-armed
//! before the block runs (the dirty-clear notification is processed at once).
//!
//! Code in MMIO (a ROM device outside ROMD mode, a sub-page section) is
//! never cached: each visit fetches and runs one instruction.

use ferrite_memory::{DirtyClient, MemorySystem, RamAddr};
use ferrite_softmmu::BlockKey;
use ferrite_softmmu::tlb::{MmuAccess, PAGE_MASK, PAGE_SIZE};

use crate::cpu::{NextBlock, RiscvCpu};
use crate::decode::{Insn, Op, decode};
use crate::exec::Exit;
use crate::exec::memory::Filler;
use crate::exec::threaded::Slot;
use crate::hart::X0_SINK;
use crate::privilege::{Exception, Trap};

/// The most instructions in one block. Long enough that block overhead is
/// small for straight-line code; the budget of a `run` still stops exactly.
pub const MAX_BLOCK_INSNS: usize = 128;

/// One fetched and decoded instruction.
struct Fetched {
    raw: u32,
    decoded: Result<Insn, u32>,
    len: u64,
}

impl RiscvCpu {
    /// Fetch the 16-bit parcel at `vaddr` through the code tags.
    pub(crate) fn fetch_parcel(&mut self, mem: &mut MemorySystem, vaddr: u64) -> Result<u64, Trap> {
        if let Some(v) = self.tlb.fetch_fast::<2>(self.fetch_idx, vaddr) {
            return Ok(v);
        }
        let mut f = Filler::new(
            &self.hart,
            &mut self.blocks,
            &mut self.end_block,
            self.space,
            &self.hub,
            &self.events,
        );
        self.tlb
            .load_slow(mem, &mut f, self.fetch_idx, vaddr, 2, MmuAccess::Fetch)
    }

    /// Fetch and decode the instruction at `pc` (QEMU's order: the first
    /// parcel, then the second for a 32-bit instruction).
    fn fetch_insn(&mut self, mem: &mut MemorySystem, pc: u64) -> Result<Fetched, Trap> {
        let lo = self.fetch_parcel(mem, pc)?;
        let raw = if lo & 3 == 3 {
            let hi = self.fetch_parcel(mem, pc.wrapping_add(2))?;
            (lo | hi << 16) as u32
        } else {
            lo as u32
        };
        let decoded = decode(raw).map_err(|e| e.raw);
        let len = if raw & 3 == 3 { 4 } else { 2 };
        Ok(Fetched { raw, decoded, len })
    }

    /// Find (or translate) the block at `pc` for the current fetch mode.
    pub(crate) fn find_block(
        &mut self,
        mem: &mut MemorySystem,
        pc: u64,
    ) -> Result<NextBlock, Trap> {
        let flags = self.fetch_idx as u32;
        if let Some(id) = self.blocks.lookup_jump(pc, flags) {
            return Ok(NextBlock::Cached(id));
        }
        if pc & 1 != 0 {
            return Err(Trap::new(Exception::InstructionMisaligned, pc));
        }
        let phys_pc = match self.tlb.code_ram_fast(self.fetch_idx, pc) {
            Some(r) => r,
            None => {
                let mut f = Filler::new(
                    &self.hart,
                    &mut self.blocks,
                    &mut self.end_block,
                    self.space,
                    &self.hub,
                    &self.events,
                );
                let loc = self.tlb.code_location(mem, &mut f, self.fetch_idx, pc)?;
                match loc.ram {
                    Some(r) => r,
                    None => return Ok(NextBlock::Uncached),
                }
            }
        };
        let key = BlockKey { phys_pc, pc, flags };
        let tlb = &self.tlb;
        let fetch_idx = self.fetch_idx;
        if let Some(id) = self
            .blocks
            .lookup(key, |vpage2| tlb.code_ram_fast(fetch_idx, vpage2))
        {
            return Ok(NextBlock::Cached(id));
        }
        self.translate_block(mem, key)
    }

    /// Translate the block at `key.pc` and insert it.
    fn translate_block(
        &mut self,
        mem: &mut MemorySystem,
        key: BlockKey,
    ) -> Result<NextBlock, Trap> {
        let pc = key.pc;
        let first_page = pc & PAGE_MASK;
        let trace = tracing::enabled!(target: "in_asm", tracing::Level::INFO);
        let mut listing = String::new();
        let mut insns: Vec<Slot> = Vec::with_capacity(16);
        let mut pages = vec![key.phys_pc & PAGE_MASK];
        let mut terminal = None;
        let mut cur = pc;
        let mut byte_len = 0u32;
        while insns.len() < MAX_BLOCK_INSNS {
            let fetched = match self.fetch_insn(mem, cur) {
                Ok(f) => f,
                Err(t) if insns.is_empty() => return Err(t),
                Err(_) => break,
            };
            // An instruction reaching into the next page: that page's code
            // must be cacheable too, and the block registers it.
            let last_byte = cur.wrapping_add(fetched.len - 1);
            if last_byte & PAGE_MASK != first_page {
                match self.tlb.code_ram_fast(self.fetch_idx, last_byte) {
                    Some(r) => pages.push(r & PAGE_MASK),
                    None if insns.is_empty() => return Ok(NextBlock::Uncached),
                    None => break,
                }
            }
            if trace {
                listing.push_str(&listing_line(cur, &fetched));
            }
            let insn = match fetched.decoded {
                Ok(insn) => insn,
                Err(raw) => {
                    terminal = Some(raw);
                    break;
                }
            };
            let before = insns.len() as u32;
            byte_len += fetched.len as u32;
            // A `jal` to the block's own page, to code not already in the
            // block, does not end it: translation goes on at the target.
            if insn.op == Op::Jal && last_byte & PAGE_MASK == first_page {
                let target = cur.wrapping_add(i64::from(insn.imm) as u64);
                if target & PAGE_MASK == first_page
                    && target != cur
                    && !insns.iter().any(|s| s.pc == target)
                {
                    insns.push(Slot::inline_jump(prepare(insn), cur, before));
                    cur = target;
                    continue;
                }
            }
            insns.push(Slot::new(prepare(insn), cur, before));
            cur = cur.wrapping_add(fetched.len);
            if insn.op.ends_block() || cur & PAGE_MASK != first_page {
                break;
            }
        }
        if trace {
            tracing::info!(target: "in_asm", "----------------\nIN:\n{listing}");
        }
        insns.push(Slot::sentinel(cur, terminal, insns.len() as u32));
        let id = self.blocks.insert(key, insns, byte_len, terminal, &pages);
        self.protect_code_pages(mem, &pages);
        // An outside write queued during translation (a page-table update by
        // the walk) may already have removed the block: look again.
        Ok(if self.blocks.get(id).is_some() {
            NextBlock::Cached(id)
        } else {
            NextBlock::Retry
        })
    }

    /// Clear the CODE dirty bit of pages that now hold translated code and
    /// apply the resulting NOTDIRTY re-arm before anything runs.
    fn protect_code_pages(&mut self, mem: &mut MemorySystem, pages: &[u64]) {
        for &p in pages {
            if mem.ram_dirty(RamAddr(p), DirtyClient::Code) {
                mem.ram_reset_dirty(RamAddr(p), PAGE_SIZE, DirtyClient::Code);
            }
        }
        self.process_events();
    }

    /// Fetch, decode and run the one instruction at `pc` without caching it
    /// (code in MMIO). Returns (retired, consumed, exit).
    pub(crate) fn run_uncached(&mut self, mem: &mut MemorySystem, pc: u64) -> (u64, u64, Exit) {
        let fetched = match self.fetch_insn(mem, pc) {
            Ok(f) => f,
            Err(trap) => return (0, 1, Exit::Trap { trap, pc }),
        };
        if tracing::enabled!(target: "in_asm", tracing::Level::INFO) {
            tracing::info!(target: "in_asm", "----------------\nIN: (uncached)\n{}", listing_line(pc, &fetched));
        }
        match fetched.decoded {
            Ok(insn) => {
                let slots = [
                    Slot::new(prepare(insn), pc, 0),
                    Slot::sentinel(pc.wrapping_add(fetched.len), None, 1),
                ];
                // A budget of one: the sentinel goes nowhere.
                self.left = 1;
                self.settled_left = 1;
                self.links_left = 0;
                let st = self.exec_slots(mem, &slots);
                // The caller retires what ran.
                let n = (1 - self.left) as usize;
                self.settled_left = self.left;
                let exit = match self.step_exit(st) {
                    // Never chain from an uncached instruction.
                    Exit::Next { pc, .. } => Exit::Next { pc, slot: None },
                    e => e,
                };
                let consumed =
                    n as u64 + u64::from(matches!(exit, Exit::Trap { .. } | Exit::Illegal { .. }));
                (n as u64, consumed, exit)
            }
            Err(raw) => (
                0,
                1,
                Exit::Trap {
                    trap: Trap::new(Exception::IllegalInstruction, u64::from(raw)),
                    pc,
                },
            ),
        }
    }
}

/// Rewrite a decoded instruction for execution: a destination of `x0` becomes
/// the sink register (except for CSR instructions, where `rd = 0` changes
/// the semantics).
fn prepare(mut insn: Insn) -> Insn {
    if insn.rd == 0 && !insn.op.is_csr() && insn.op != Op::SfenceVma {
        insn.rd = X0_SINK;
    }
    insn
}

fn listing_line(pc: u64, f: &Fetched) -> String {
    let text = match &f.decoded {
        Ok(insn) => crate::disasm::disassemble(insn, pc),
        Err(_) => "illegal".to_string(),
    };
    if f.len == 2 {
        format!("{pc:#010x}:  {:04x}              {text}\n", f.raw & 0xffff)
    } else {
        format!("{pc:#010x}:  {:08x}          {text}\n", f.raw)
    }
}
