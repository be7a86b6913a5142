//! Debugger support in the engine (QEMU's `CPUBreakpoint`, `CPUWatchpoint`
//! and the `SSTEP_*` rules of `cpu-exec.c`/`softmmu/watchpoint.c`).
//!
//! * **Breakpoints** never patch guest memory. Translation ends every block
//!   before a breakpoint address ([`crate::Cpu::breakpoint_at`]), so a
//!   breakpoint is always the start of a block; the loop checks the pc of
//!   each block it looks up, and a block starting at a breakpoint is never
//!   chained to nor left in the jump cache, so code elsewhere still chains
//!   and only the loop enters that block. Setting or clearing one flushes
//!   the block cache, so blocks built without the cut do not survive.
//! * **Watchpoints** live in the [`crate::Tlb`]: a page overlapping one gets
//!   [`crate::tlb::TLB_WATCHPOINT`] in its read tag (read and access
//!   watchpoints) or write tag (write and access watchpoints), so only
//!   accesses to watched pages leave the fast path. The slow path checks
//!   the exact bytes; a hit is recorded and the instruction stops before
//!   the access is made, with the pc at it, as a RISC-V trigger fires
//!   (gdb expects that: it then steps the instruction and compares the
//!   values). When the run resumes, that one instruction runs with
//!   watchpoints ignored.
//! * **Single-step** runs one instruction with interrupts masked (QEMU's
//!   default `SSTEP_NOIRQ`): a step of an instruction that traps stops at
//!   the handler's first instruction.

use crate::tlb::MmuAccess;

/// What a watchpoint watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// Stores (gdb `watch`).
    Write,
    /// Loads (gdb `rwatch`).
    Read,
    /// Loads and stores (gdb `awatch`).
    Access,
}

impl WatchKind {
    /// Whether an access of kind `access` triggers it (fetches never do).
    pub fn matches(self, access: MmuAccess) -> bool {
        matches!(
            (self, access),
            (WatchKind::Write | WatchKind::Access, MmuAccess::Store)
                | (WatchKind::Read | WatchKind::Access, MmuAccess::Load)
        )
    }
}

/// A watchpoint on the virtual bytes `addr..addr + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watchpoint {
    /// First watched byte (a virtual address, as the guest's code uses it).
    pub addr: u64,
    /// Watched bytes (at least 1).
    pub len: u64,
    /// Which accesses trigger it.
    pub kind: WatchKind,
}

impl Watchpoint {
    /// Whether any byte of `start..start + size` is watched.
    pub fn overlaps(&self, start: u64, size: u64) -> bool {
        let end = start.saturating_add(size.max(1));
        let wend = self.addr.saturating_add(self.len.max(1));
        start < wend && self.addr < end
    }
}

/// A watchpoint that triggered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchHit {
    /// The watchpoint.
    pub watchpoint: Watchpoint,
    /// The virtual address the access started at.
    pub access_addr: u64,
    /// The access's size in bytes.
    pub size: u32,
    /// Whether the access was a store (else a load).
    pub store: bool,
    /// The pc of the instruction that made the access, once known (the
    /// target reports it as the block ends, or the loop knows it).
    pub pc: Option<u64>,
}

/// Why a CPU stopped for the debugger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugStop {
    /// The next instruction is at a breakpoint (not executed).
    Breakpoint {
        /// Its address.
        pc: u64,
    },
    /// An access hit a watchpoint; the accessing instruction has not run
    /// (the pc is at it).
    Watchpoint(WatchHit),
    /// A single-step completed.
    Step,
}

/// The debugger state of one CPU.
#[derive(Debug, Default)]
pub(crate) struct DebugState {
    pub breakpoints: hashbrown::HashSet<u64>,
    /// Resuming at this pc: its breakpoint does not stop the first check.
    pub skip_breakpoint: Option<u64>,
    /// Interrupts are not taken (a single-step).
    pub mask_interrupts: bool,
    /// Why the CPU last stopped, until taken.
    pub stop: Option<DebugStop>,
    /// The last stop was before an access that hit a watchpoint: the next
    /// run makes that instruction's accesses unwatched.
    pub resume_after_watch: bool,
}
