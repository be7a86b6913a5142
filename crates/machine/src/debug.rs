//! What a debugger (the gdb stub, the monitor) does with a machine's harts:
//! registers, breakpoints, watchpoints and single-step through the engine
//! ([`ferrite_softmmu::debug`]), memory as debug accesses through the
//! memory API.
//!
//! Nothing here changes what the guest sees unless the debugger writes:
//! reads use the memory API's debug accesses and a page walk that sets no
//! A/D bit, and a run stopped by the debugger resumes in the middle of the
//! scheduler's round where it stopped, so a guest only looked at runs
//! exactly as it would have without the debugger.

use ferrite_memory::MemorySystem;
use ferrite_softmmu::tlb::MappedSlot;
use ferrite_softmmu::{ArchState, CpuStats};

pub use ferrite_softmmu::{DebugStop, WatchHit, WatchKind, Watchpoint};

use crate::hart::HartExit;

/// Debugger access to one hart.
pub trait HartDebug {
    /// The architectural state (registers, pc, privilege, control registers).
    fn state(&self) -> &dyn ArchState;
    /// The architectural state, to write. After writing privilege or control
    /// registers, call [`HartDebug::state_changed`].
    fn state_mut(&mut self) -> &mut dyn ArchState;
    /// Privilege or translation state was written: flush the TLB and the
    /// jump cache so the next access translates afresh.
    fn state_changed(&mut self);
    /// Stop before the instruction at virtual address `pc`.
    fn insert_breakpoint(&mut self, pc: u64);
    /// Remove a breakpoint; false if there was none at `pc`.
    fn remove_breakpoint(&mut self, pc: u64) -> bool;
    /// Add a watchpoint.
    fn insert_watchpoint(&mut self, wp: Watchpoint);
    /// Remove a watchpoint; false if there was none like it.
    fn remove_watchpoint(&mut self, wp: Watchpoint) -> bool;
    /// The next run does not stop at the breakpoint at the current pc.
    fn resume_from_breakpoint(&mut self);
    /// Execute one instruction with interrupts masked
    /// ([`ferrite_softmmu::Cpu::step`]).
    fn step(&mut self, mem: &mut MemorySystem) -> HartExit;
    /// Why the hart last stopped for the debugger, cleared.
    fn take_stop(&mut self) -> Option<DebugStop>;
    /// The physical address a load at `vaddr` reaches now, found without
    /// side effects; `None` if the load would fault.
    fn translate(&self, mem: &mut MemorySystem, vaddr: u64) -> Option<u64>;
    /// The control registers the hart has, by number, with their names.
    fn control_registers(&self) -> Vec<(u16, String)>;
    /// The register dump of `info registers` (the one `-d cpu` prints).
    fn register_dump(&self) -> String;
    /// The TLB's mapped slots (`info tlb`).
    fn tlb_slots(&self) -> Vec<MappedSlot>;
    /// Engine statistics and the number of blocks cached (`info blocks`).
    fn engine_stats(&self) -> (CpuStats, usize);
    /// The instruction at `pc` disassembled, if it can be fetched.
    fn disassemble(&self, bytes: &[u8], pc: u64) -> Option<(usize, String)>;
}

/// How [`crate::Machine::debug_run`] and [`crate::Machine::debug_step`]
/// ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugEvent {
    /// Hart `hart` stopped for the debugger.
    Stopped {
        /// The hart.
        hart: u32,
        /// Why.
        stop: DebugStop,
    },
    /// The debugger's interrupt callback asked to stop (Ctrl-C).
    Interrupted,
    /// The run is over.
    Ended(crate::RunOutcome),
}

/// A debug memory access that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DebugAccessError {
    /// No such hart.
    #[error("no hart {0}")]
    NoHart(u32),
    /// The virtual address does not translate for a load.
    #[error("cannot access virtual address {0:#x}: it does not translate")]
    Unmapped(u64),
    /// Nothing at the physical address answers.
    #[error("cannot access physical address {0:#x}")]
    Bus(u64),
}
