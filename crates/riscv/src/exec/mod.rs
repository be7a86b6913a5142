//! Instruction semantics: running translated blocks.
//!
//! A block is threaded code ([`threaded`]): an array of slots, each naming
//! the handler of its instruction, ending with a sentinel. Handlers run in
//! a chain of tail calls and leave the block with a [`Step`]. Registers are
//! an array indexed without bounds checks (`rd = x0` was redirected to a
//! sink at translation); loads and stores try the TLB fast path inline and
//! call the cold slow path on a miss. An exception ends the block with the
//! precise pc of the faulting instruction and the count of instructions
//! retired before it.
//!
//! [`RiscvCpu::exec_chain`] runs blocks back to back through their chain
//! slots and the jump cache.

pub mod alu;
pub(crate) mod memory;
mod system;
pub(crate) mod threaded;

use ferrite_memory::MemorySystem;
use ferrite_softmmu::block::BlockId;

use crate::cpu::RiscvCpu;
use crate::privilege::Trap;
use threaded::{Slot, Step};

/// How a block (or part of one) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Continue at `pc`. `slot` is the chain slot for a direct successor
    /// (0 = taken branch or `jal`, 1 = fall-through); `None` for indirect
    /// jumps and for blocks cut short by the budget.
    Next { pc: u64, slot: Option<u8> },
    /// Continue at `pc` after re-evaluating privilege-dependent state and
    /// interrupts (CSR access, xRET, fences, code invalidation, MMIO events).
    Sync { pc: u64 },
    /// The instruction at `pc` raised `trap` (it did not retire).
    Trap { trap: Trap, pc: u64 },
    /// The instruction of `len` bytes at `pc` is illegal in this context
    /// (`xtval` gets its bits).
    Illegal { pc: u64, len: u8 },
    /// `wfi` retired; continue at `pc` once an interrupt is pending.
    Wfi { pc: u64 },
}

/// A block left through a taken branch or `jal`: continue at the returned
/// pc; chain slot 0.
pub(crate) const STEP_TAKEN: u8 = 0;
/// A block ran off its end (or left through a not-taken branch): continue
/// at the returned pc; chain slot 1.
pub(crate) const STEP_FALL: u8 = 1;
/// A block left through an indirect jump, or stopped at its limit:
/// continue at the returned pc, no chain slot.
pub(crate) const STEP_INDIRECT: u8 = 2;
/// A block ended in any other way; the exit is in `RiscvCpu::exit`.
pub(crate) const STEP_OTHER: u8 = 3;

/// How many blocks in a row handlers enter directly before returning to
/// `exec_chain`, in builds with debug assertions. Optimised builds turn each
/// handler's call of the next into a jump and have no bound; an
/// unoptimised build makes every instruction of the run a stack frame.
pub(crate) const MAX_LINKED_BLOCKS: u32 = 4;

/// How a run of chained blocks ended (see `RiscvCpu::exec_chain`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChainEnd {
    /// Instructions retired by the run (already counted in `instret` and the
    /// clock).
    pub retired: u64,
    /// How the last block ended.
    pub exit: Exit,
    /// The last block that ran.
    pub last: BlockId,
    /// The block cache's epoch at the end of the run (unchanged since the
    /// last block started unless the run ended with a slow-path `Sync`).
    pub epoch: u64,
}

impl RiscvCpu {
    /// Run block `id` and, when `chain` is set, the blocks that follow it,
    /// for at most `left` instructions. A block leaving through a chain slot
    /// enters the chained successor directly from its last handler, and one
    /// leaving by an indirect jump enters the block the jump cache holds;
    /// otherwise this loop looks the successor up in the jump cache and
    /// chains it for next time. The run
    /// stops at the first exit other than a plain jump, when `left` is used
    /// up, or at a successor not yet translated. Retired instructions are
    /// counted against `self.left` and settled into `instret` and the clock
    /// before anything reads them (a slow-path access, a CSR, the end of
    /// the run).
    ///
    /// Nothing but a slow-path access can invalidate code or queue memory
    /// events in the middle of a run, and such an access ends its block with
    /// [`Exit::Sync`], so the run needs no per-block event or epoch test.
    #[inline(always)]
    pub(crate) fn exec_chain(
        &mut self,
        mem: &mut MemorySystem,
        id: BlockId,
        mut left: u64,
        chain: bool,
    ) -> ChainEnd {
        let flags = self.fetch_idx as u32;
        self.cur_block = id;
        if !chain {
            // One block: a budget no larger than it keeps its handlers from
            // entering another.
            let code = self.blocks.code(id);
            left = left.min((code.len() - 1) as u64);
        }
        self.left = left;
        self.settled_left = left;
        let exit = loop {
            self.links_left = MAX_LINKED_BLOCKS;
            let code = self.blocks.code(self.cur_block);
            // SAFETY: `code` points at the slots of a block of `self.blocks`;
            // removed blocks keep their slots in the cache's graveyard until
            // `collect_garbage`, which the run loop calls only between runs,
            // never while this slice is in use.
            let slots = unsafe { &*code };
            // The last slot is the sentinel.
            let len = slots.len() - 1;
            let st = if len as u64 <= self.left {
                self.exec_slots(mem, slots)
            } else {
                self.exec_partial(mem, slots, self.left as usize)
            };
            let (next, slot) = match self.step_exit(st) {
                Exit::Next { pc, slot } => (pc, slot),
                other => break other,
            };
            if !chain || self.left == 0 {
                break Exit::Next { pc: next, slot };
            }
            // A chained successor the handlers did not enter (it is longer
            // than what is left of the budget, or the run of direct entries
            // reached its limit), else the jump cache.
            let cur = self.cur_block;
            let succ = slot.and_then(|s| self.blocks.successor(cur, usize::from(s)));
            self.cur_block = match succ {
                Some(s) => s,
                None => match self.blocks.lookup_jump(next, flags) {
                    Some(found) => {
                        if let Some(s) = slot {
                            self.blocks.link(cur, usize::from(s), found);
                        }
                        found
                    }
                    None => break Exit::Next { pc: next, slot },
                },
            };
        };
        let retired = left - self.left;
        self.settle();
        ChainEnd {
            retired,
            exit,
            last: self.cur_block,
            epoch: self.blocks.epoch(),
        }
    }

    /// Turn what a block returned into an [`Exit`].
    pub(crate) fn step_exit(&self, st: Step) -> Exit {
        let next = st.pc();
        match st.kind() {
            STEP_TAKEN | STEP_FALL => Exit::Next {
                pc: next,
                slot: Some(st.kind()),
            },
            STEP_INDIRECT => Exit::Next {
                pc: next,
                slot: None,
            },
            _ => self.exit,
        }
    }

    /// Run the first `limit` instructions of `slots` (a block with more
    /// than `limit` instructions; `limit >= 1`) through a copy that ends
    /// with a stop sentinel.
    #[cold]
    fn exec_partial(&mut self, mem: &mut MemorySystem, slots: &[Slot], limit: usize) -> Step {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(&slots[..limit]);
        scratch.push(Slot::stop(slots[limit].pc, limit as u32));
        let st = self.exec_slots(mem, &scratch);
        self.scratch = scratch;
        st
    }

    /// Run a slot array that ends with a sentinel, from its first slot.
    #[inline(always)]
    pub(crate) fn exec_slots(&mut self, mem: &mut MemorySystem, slots: &[Slot]) -> Step {
        // SAFETY: `slots` ends with a sentinel (every slot array the executor
        // builds does).
        unsafe { (slots[0].run)(self, mem, slots.as_ptr()) }
    }
}

#[cfg(test)]
mod tests;
