//! What a target supplies to the engine (QEMU's `TCGCPUOps` and the parts
//! of `CPUClass` the debugger, the commit log and snapshots use).
//!
//! The engine ([`Cpu`]) owns the TLB, the block cache, the jump cache, the
//! memory-event queue and the execution loop; a target implements
//! [`Target`] to fill the TLB (page walk and protection checks), translate
//! and run blocks, act on how a block ended, and take interrupts, and
//! [`ArchState`] to expose its architectural state.

use std::fmt;

use ferrite_memory::{MemTxError, MemorySystem};

use super::Cpu;
use crate::address::{MmuIdx, VirtAddr};
use crate::block::BlockKey;
use crate::tlb::{MmuAccess, PageMapping};

/// How a run of a block ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockExit<E> {
    /// Continue at `pc`. `slot` names the chain slot the block left through
    /// (0 = taken branch or direct jump, 1 = fall-through); `None` for an
    /// indirect jump or a block cut short by the budget.
    Jump {
        /// Where execution continues.
        pc: u64,
        /// The chain slot, if the successor is direct.
        slot: Option<u8>,
    },
    /// Anything else (a trap, a state change, a wait): the target acts on it
    /// in [`Target::finish`].
    Other(E),
}

/// What the loop does after [`Target::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Go on with the next block.
    Continue,
    /// The instruction that ended the block raised an exception: it did not
    /// retire, but it consumes one unit of the budget and of virtual time
    /// (so a trap loop still returns).
    Faulted,
    /// The CPU waits for an interrupt (`wfi` with nothing pending).
    Wait,
    /// The CPU cannot make progress: the target found it taking the same
    /// exception at the same pc over and over, with no instruction retiring
    /// in between (a trap vector that itself faults). The run ends with
    /// [`RunExit::NoProgress`](super::RunExit::NoProgress).
    NoProgress,
}

/// A block the target translated, to be inserted into the cache.
#[derive(Debug)]
pub struct TranslatedBlock<C> {
    /// The executable code.
    pub code: Vec<C>,
    /// Bytes of guest code covered.
    pub byte_len: u32,
    /// Target-defined word describing an undecodable instruction after the
    /// last one (see [`crate::Block::terminal`]).
    pub terminal: Option<u32>,
    /// The ram pages the code occupies (one or two).
    pub pages: Vec<ferrite_memory::RamAddr>,
    /// The ram byte ranges (start, length) the code was read from, each
    /// within one of `pages`, including the bytes of `terminal`: a store
    /// elsewhere on those pages leaves the block valid. Empty: every byte
    /// of the pages counts.
    pub code_ranges: Vec<(ferrite_memory::RamAddr, u32)>,
}

/// What [`Target::translate_block`] produced.
#[derive(Debug)]
pub enum Translated<C> {
    /// A block for the cache.
    Block(TranslatedBlock<C>),
    /// The code cannot be cached (it reaches into MMIO): run it with
    /// [`Target::exec_uncached`].
    Uncached,
}

/// An error restoring saved architectural state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The bytes are not a state of this target (wrong magic or version).
    #[error("not a saved state of this CPU type (format {found:#x}, expected {expected:#x})")]
    WrongFormat {
        /// The format word found.
        found: u64,
        /// The format word this build writes.
        expected: u64,
    },
    /// The state is shorter or longer than the format says.
    #[error("saved CPU state has {found} bytes, expected {expected}")]
    WrongLength {
        /// Bytes found.
        found: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// A field holds a value the CPU cannot take.
    #[error("saved CPU state: invalid {field}")]
    InvalidField {
        /// Which field.
        field: &'static str,
    },
}

/// Architectural state as the debugger, the commit log and snapshots see
/// it. Reads have no side effects; writes take effect before the next
/// instruction.
pub trait ArchState {
    /// The CPU's index in the machine (RISC-V: `mhartid`).
    fn cpu_index(&self) -> u64;
    /// The pc of the next instruction.
    fn pc(&self) -> u64;
    /// Set the pc of the next instruction.
    fn set_pc(&mut self, pc: u64);
    /// How many general-purpose registers there are.
    fn register_count(&self) -> usize;
    /// General-purpose register `n` (`None` past [`ArchState::register_count`]).
    fn register(&self, n: usize) -> Option<u64>;
    /// Set general-purpose register `n`; false past the count. A write to a
    /// register hard-wired to zero is accepted and has no effect.
    fn set_register(&mut self, n: usize, value: u64) -> bool;
    /// How many floating-point registers there are (0 without an FPU).
    fn float_register_count(&self) -> usize {
        0
    }
    /// Floating-point register `n` as raw bits (`None` past the count).
    fn float_register(&self, n: usize) -> Option<u64> {
        let _ = n;
        None
    }
    /// Set floating-point register `n` to raw bits; false past the count.
    fn set_float_register(&mut self, n: usize, bits: u64) -> bool {
        let _ = (n, bits);
        false
    }
    /// The current privilege level, as the architecture numbers it.
    fn privilege(&self) -> u8;
    /// Set the privilege level as a debugger does; false for a level the
    /// CPU does not implement. The caller flushes the TLB
    /// ([`Cpu::flush_tlb`]) before the CPU runs again.
    fn set_privilege(&mut self, level: u8) -> bool {
        let _ = level;
        false
    }
    /// Control register `n`, read without side effects or permission
    /// checks (a debugger's read); `None` if it does not exist.
    fn read_control(&self, n: u16) -> Option<u64>;
    /// Write control register `n` as the debugger does (no permission
    /// checks, the register's write rules apply); false if it does not
    /// exist or is read-only.
    fn write_control(&mut self, n: u16, value: u64) -> bool;
    /// The complete architectural state as bytes (a versioned format).
    fn save_state(&self) -> Vec<u8>;
    /// Restore what [`ArchState::save_state`] wrote. Nothing changes when
    /// the bytes are refused.
    fn restore_state(&mut self, bytes: &[u8]) -> Result<(), StateError>;
}

/// A target CPU for the engine. See the [module documentation](self).
///
/// The methods that take a `&mut Cpu<Self>` run with the whole engine at
/// hand (they translate through the TLB, run code that re-enters the
/// cache); the others see only the target's own state.
pub trait Target: ArchState + Sized {
    /// One element of a translated block's executable form.
    type Code;
    /// A guest exception.
    type Fault: Copy + fmt::Debug;
    /// How a block ended when it did not just jump (see [`BlockExit`]).
    type Exit: Copy + fmt::Debug;

    /// QEMU's `tlb_fill`: translate `vaddr` for an access of `size` bytes
    /// and kind `access` in MMU mode `mmu_idx` (page walk, protection
    /// checks), giving the mapping to install or the fault to raise.
    fn tlb_fill(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        mmu_idx: MmuIdx,
    ) -> Result<PageMapping, Self::Fault>;

    /// The fault for a bus error on an access that translated fine.
    fn bus_fault(
        &mut self,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        error: MemTxError,
    ) -> Self::Fault;

    /// The fault with which an access that hit a watchpoint ends its
    /// block before the instruction retires. The target's
    /// [`Target::finish`] must see [`crate::Tlb::watch_hit_pending`] and,
    /// instead of raising the fault, leave the pc at the instruction
    /// (calling [`crate::Tlb::note_watch_pc`]) and return
    /// [`Finish::Continue`]. By default the bus fault.
    fn watch_fault(&mut self, vaddr: VirtAddr, size: u32, access: MmuAccess) -> Self::Fault {
        self.bus_fault(vaddr, size, access, MemTxError::Decode)
    }

    /// The MMU mode of instruction fetches.
    fn fetch_mmu_idx(&self) -> MmuIdx;

    /// The target state blocks are translated for (part of [`BlockKey`]):
    /// a block is only run while this is what it was translated under.
    fn block_flags(&self) -> u32;

    /// The TLB was flushed (translation state changed): recompute whatever
    /// the target derives from it, such as its MMU indices.
    fn mmu_state_changed(&mut self);

    /// A value that changes whenever an interrupt input changes (a device
    /// moved a pin): a slow-path access that changes it ends the block so
    /// the loop can look for interrupts.
    fn irq_inputs(&self) -> u64;

    /// The fault for starting a block at `pc`, if `pc` cannot hold code
    /// (misaligned).
    fn check_pc(&self, pc: VirtAddr) -> Result<(), Self::Fault>;

    /// Translate the block at `key.pc` (its code is at ram address
    /// `key.phys_pc`), fetching through [`Cpu::fetch_code`].
    fn translate_block(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        key: BlockKey,
    ) -> Result<Translated<Self::Code>, Self::Fault>;

    /// How many guest instructions `code` runs when it runs whole.
    fn insn_count(code: &[Self::Code]) -> u64;

    /// Run `code` (a live block of `cpu.blocks`; `cpu.chain.cur_block` is
    /// its id), at most `cpu.chain.left` instructions of it, counting what
    /// retires by decrementing `cpu.chain.left` and settling
    /// ([`Cpu::settle`]) before anything reads the count. The code may enter
    /// chained successors itself.
    fn exec_block(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        code: &[Self::Code],
    ) -> BlockExit<Self::Exit>;

    /// Fetch, decode and run the one instruction at `pc` without caching it
    /// (code in MMIO). Returns the instructions retired (0 or 1; already
    /// counted) and how it ended.
    fn exec_uncached(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        pc: u64,
    ) -> (u64, BlockExit<Self::Exit>);

    /// Whether the CPU runs one instruction at a time through
    /// [`Target::exec_stepped`] (an instruction or commit log is on) rather
    /// than through translated blocks. Asked once per [`Cpu::run`].
    fn stepped(&self) -> bool {
        false
    }

    /// A slice of stepped execution begins (before its first instruction).
    fn begin_stepped_slice(&mut self) {}

    /// Run the one instruction at `pc` in stepped mode (fetched and decoded
    /// afresh, so the target can log everything it does). Returns what
    /// [`Target::exec_uncached`] returns. The target may take interrupts
    /// itself and end the slice ([`crate::VirtualClock::request_slice_end`])
    /// where its reference model would.
    fn exec_stepped(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        pc: u64,
    ) -> (u64, BlockExit<Self::Exit>) {
        Self::exec_uncached(cpu, mem, pc)
    }

    /// Act on how a block ended (raise its trap, re-evaluate state, wait).
    fn finish(cpu: &mut Cpu<Self>, mem: &mut MemorySystem, exit: Self::Exit) -> Finish;

    /// Raise `fault`, taken by the instruction at `pc` (a fetch that failed
    /// while finding the next block): [`Finish::Faulted`], or
    /// [`Finish::NoProgress`] when the CPU is caught in a trap loop.
    fn raise(&mut self, fault: Self::Fault, pc: u64) -> Finish;

    /// Take the highest-priority pending interrupt if one may be taken now
    /// (time is `ticks`); true if one was.
    fn take_interrupt(&mut self, ticks: u64) -> bool;

    /// Whether a CPU waiting for an interrupt should wake (time is `ticks`).
    fn wakeup(&mut self, ticks: u64) -> bool;

    /// The time (ticks) at which the target's own timer fires, if armed:
    /// chained execution stops in time to take it.
    fn timer_deadline(&self) -> Option<u64>;

    /// Count `n` more retired instructions in the architectural counter.
    fn retire(&mut self, n: u64);

    /// The register dump of `-d cpu`.
    fn log_state(&self) -> String;
}
