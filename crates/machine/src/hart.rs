//! What the board needs from a hart, so the scheduler does not depend on one
//! CPU implementation (and can be tested with scripted harts).

use std::rc::Rc;

use ferrite_devices::IrqSink;
use ferrite_memory::MemorySystem;
use ferrite_riscv::HartIrqPins;

/// Why [`Hart::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HartExit {
    /// The instruction budget is used up; the hart can go on.
    BudgetExhausted,
    /// The hart executes `wfi` and waits for an interrupt (no instruction
    /// retires until one is pending).
    WaitingForInterrupt,
    /// A device asked for the slice to end early; the hart can go on.
    SliceEnded,
    /// The hart is caught in a trap loop: the same fault at the same pc,
    /// over and over, with nothing retiring in between.
    TrapLoop,
    /// The hart stopped for the debugger (a breakpoint, a watchpoint, a
    /// completed step); [`Hart::debug`] tells why.
    DebugStop,
}

/// Counters a hart keeps, summed by the board for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HartStats {
    /// Instructions retired.
    pub insns: u64,
    /// Blocks translated.
    pub blocks_translated: u64,
    /// TLB fills (page walks that installed an entry).
    pub tlb_fills: u64,
    /// Whole-TLB flushes.
    pub tlb_flushes: u64,
    /// Blocks invalidated (stores into code, outside writes to it).
    pub blocks_invalidated: u64,
    /// Accesses that took the TLB slow path.
    pub tlb_slow_accesses: u64,
    /// Stores beside translated code on its page that took no slow path.
    pub beside_code_stores: u64,
}

impl std::ops::AddAssign for HartStats {
    fn add_assign(&mut self, o: Self) {
        self.insns += o.insns;
        self.blocks_translated += o.blocks_translated;
        self.tlb_fills += o.tlb_fills;
        self.tlb_flushes += o.tlb_flushes;
        self.blocks_invalidated += o.blocks_invalidated;
        self.tlb_slow_accesses += o.tlb_slow_accesses;
        self.beside_code_stores += o.beside_code_stores;
    }
}

/// One hart as the board drives it.
pub trait Hart {
    /// The hart's external interrupt pins (MSIP, MTIP, MEIP, SEIP).
    fn irq_pins(&self) -> HartIrqPins;
    /// Hart reset: M-mode, registers cleared, pc = `pc`.
    fn reset(&mut self, pc: u64);
    /// Runs at most `budget` instructions.
    fn run(&mut self, mem: &mut MemorySystem, budget: u64) -> HartExit;
    /// The hart's own timer deadline (Sstc `stimecmp`) in `mtime` ticks, if
    /// armed.
    fn timer_deadline(&self) -> Option<u64>;
    /// The hart's counters.
    fn stats(&self) -> HartStats;
    /// The trap loop the hart is caught in, described for a person (the
    /// fault and its pc), if it is.
    fn trap_loop(&self) -> Option<String> {
        None
    }
    /// Count per block what runs (`--profile`). Harts that cannot ignore it.
    fn set_profiling(&mut self, _on: bool) {}
    /// What profiling counted, hottest first.
    fn block_profile(&self) -> Vec<ferrite_softmmu::BlockProfile> {
        Vec::new()
    }
    /// Install the instruction and commit log (the hart then runs one
    /// instruction at a time). Harts that cannot log ignore it.
    fn set_trace(&mut self, _trace: ferrite_riscv::Trace) {}
    /// Debugger access to the hart; `None` for harts that cannot be debugged.
    fn debug(&mut self) -> Option<&mut dyn crate::debug::HartDebug> {
        None
    }
    /// Debugger access to the hart, to read.
    fn debug_ref(&self) -> Option<&dyn crate::debug::HartDebug> {
        None
    }
}

/// An [`IrqSink`] that drives a hart's pins: line `n` is `mip` bit `n`
/// (3 = MSIP, 7 = MTIP, 9 = SEIP, 11 = MEIP).
pub(crate) struct PinSink(pub HartIrqPins);

impl IrqSink for PinSink {
    fn set_level(&self, line: u32, level: bool) {
        if line < 64 {
            self.0.set_level(1u64 << line, level);
        }
    }
}

/// A sink for `pins`.
pub(crate) fn pin_sink(pins: HartIrqPins) -> Rc<dyn IrqSink> {
    Rc::new(PinSink(pins))
}

/// `mip` bit numbers.
pub(crate) mod mip {
    /// Machine software interrupt.
    pub const MSIP: u32 = 3;
    /// Machine timer interrupt.
    pub const MTIP: u32 = 7;
    /// Supervisor external interrupt.
    pub const SEIP: u32 = 9;
    /// Machine external interrupt.
    pub const MEIP: u32 = 11;
}
