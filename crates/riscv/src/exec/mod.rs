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
//! The engine's loop (`ferrite_softmmu::Cpu::run`) runs blocks back to back
//! through their chain slots and the jump cache, calling [`exec_block`] for
//! each block it enters itself.

pub mod alu;
pub mod bits;
pub(crate) mod fp;
pub(crate) mod memory;

pub use memory::CACHE_BLOCK_SIZE;
mod system;
pub(crate) mod threaded;

use ferrite_memory::MemorySystem;
use ferrite_softmmu::BlockExit;

use crate::cpu::RiscvCpu;
use crate::privilege::Trap;
use threaded::{Slot, Step};

/// How a block ended when it did not just jump (the engine's
/// [`BlockExit::Other`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Continue at `pc` after re-evaluating privilege-dependent state and
    /// interrupts (CSR access, xRET, fences, code invalidation, MMIO events).
    Sync {
        /// Where execution continues.
        pc: u64,
    },
    /// The instruction at `pc` raised `trap` (it did not retire).
    Trap {
        /// The exception.
        trap: Trap,
        /// The pc of the faulting instruction.
        pc: u64,
    },
    /// The instruction of `len` bytes at `pc` is illegal in this context
    /// (`xtval` gets its bits).
    Illegal {
        /// The pc of the instruction.
        pc: u64,
        /// Its length in bytes.
        len: u8,
    },
    /// `wfi` retired; continue at `pc` once an interrupt is pending.
    Wfi {
        /// Where execution continues.
        pc: u64,
    },
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
/// A block ended in any other way; the exit is in `Riscv::exit`.
pub(crate) const STEP_OTHER: u8 = 3;

/// Run the block `slots` (its last slot the sentinel) for at most
/// `cpu.chain.left` instructions: whole, or the first `left` of them
/// through a copy that stops there.
#[inline(always)]
pub(crate) fn exec_block(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    slots: &[Slot],
) -> BlockExit<Exit> {
    let len = slots.len() - 1;
    let st = if len as u64 <= cpu.chain.left {
        exec_slots(cpu, mem, slots)
    } else {
        exec_partial(cpu, mem, slots, cpu.chain.left as usize)
    };
    step_exit(cpu, st)
}

/// Turn what a block returned into a [`BlockExit`].
#[inline(always)]
pub(crate) fn step_exit(cpu: &RiscvCpu, st: Step) -> BlockExit<Exit> {
    let next = st.pc();
    match st.kind() {
        STEP_TAKEN | STEP_FALL => BlockExit::Jump {
            pc: next,
            slot: Some(st.kind()),
        },
        STEP_INDIRECT => BlockExit::Jump {
            pc: next,
            slot: None,
        },
        _ => BlockExit::Other(cpu.arch.exit),
    }
}

/// Run the first `limit` instructions of `slots` (a block with more
/// than `limit` instructions; `limit >= 1`) through a copy that ends
/// with a stop sentinel.
#[cold]
fn exec_partial(cpu: &mut RiscvCpu, mem: &mut MemorySystem, slots: &[Slot], limit: usize) -> Step {
    let mut scratch = std::mem::take(&mut cpu.arch.scratch);
    scratch.clear();
    // A branch skipping to a slot past the copy's end leaves it instead.
    scratch.extend(
        slots[..limit]
            .iter()
            .enumerate()
            .map(|(i, s)| match s.skip_len() {
                Some(k) if i + 1 + k > limit => s.skip_as_exit(),
                _ => *s,
            }),
    );
    scratch.push(Slot::stop(slots[limit].pc, limit as u32));
    let st = exec_slots(cpu, mem, &scratch);
    cpu.arch.scratch = scratch;
    st
}

/// Run a slot array that ends with a sentinel, from its first slot.
#[inline(always)]
pub(crate) fn exec_slots(cpu: &mut RiscvCpu, mem: &mut MemorySystem, slots: &[Slot]) -> Step {
    // SAFETY: `slots` ends with a sentinel (every slot array the executor
    // builds does).
    unsafe { (slots[0].run)(cpu, mem, slots.as_ptr()) }
}

#[cfg(test)]
mod tests;
