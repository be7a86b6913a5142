//! [`RiscvCpu`]: one hart wired to its softmmu (TLB, block cache, memory
//! events) and the execution loop the machine drives.
//!
//! # API
//!
//! ```text
//! RiscvCpu::new(config: CpuConfig, mem: &mut MemorySystem, space: AddressSpaceId, clock: Rc<VirtualClock>) -> RiscvCpu
//! RiscvCpu::reset(&mut self, pc: u64)
//! RiscvCpu::xreg(&self, i: usize) -> u64 / set_xreg(&mut self, i: usize, v: u64) / pc(&self) -> u64 / set_pc(&mut self, pc: u64)
//! RiscvCpu::irq_pins(&self) -> HartIrqPins
//! RiscvCpu::run(&mut self, mem: &mut MemorySystem, max_insns: u64) -> RunExit
//! RiscvCpu::next_timer_deadline(&self) -> Option<u64>       // Sstc stimecmp, in ticks
//! RiscvCpu::stats(&self) -> CpuStats
//! RiscvCpu::invalidate_code(&mut self, mem: &mut MemorySystem, paddr: u64, len: u64)
//! RiscvCpu::hart(&self) -> &Hart / hart_mut(&mut self) -> &mut Hart   // CSRs, privilege (firmware handoff, tests)
//! RiscvCpu::is_waiting(&self) -> bool                          // parked in wfi
//! ```
//!
//! # The loop
//!
//! [`RiscvCpu::run`] executes until `max_insns` instructions have been
//! consumed (retired, or raised an exception), or the hart waits in `wfi`.
//! Between runs of blocks it drains pending memory events, checks for
//! interrupts (updating the Sstc comparator from the virtual clock first),
//! then finds the next block: the previous block's chain slot, else the jump
//! cache, else the hash map after translating the pc through the TLB, else a
//! fresh translation. Blocks run in [`crate::exec`] as threaded code, and a
//! block enters its chained successor (or, after an indirect jump, the block
//! the jump cache holds) directly, skipping those checks. That is sound
//! because nothing else can make an interrupt pending or queue a memory
//! event meanwhile: CSR writes and xRET leave the run, a slow-path access
//! that moves an interrupt pin, invalidates code or queues an event ends its
//! block, and the run never goes past the Sstc comparator's deadline.
//!
//! Budget accounting: an instruction that raises an exception does not
//! retire (`minstret` does not count it) but does consume one unit of the
//! budget and one instruction of virtual time, so a trap loop still returns.
//!
//! # MMU indices
//!
//! Like QEMU's RISC-V target, the TLB has one mode per effective privilege,
//! with S-mode split by `mstatus.SUM`:
//!
//! | index | mode |
//! |---|---|
//! | 0 | U |
//! | 1 | S (and every S-mode fetch) |
//! | 2 | S with SUM = 1 (loads and stores only) |
//! | 3 | M |
//!
//! Fetches use the current privilege; loads and stores use the effective
//! privilege (`mstatus.MPRV` selects MPP in M-mode). MXR and `satp` changes
//! flush the TLB (the CSR file reports them in its write effect).

use std::rc::Rc;

use ferrite_memory::{AddressSpaceId, GuestAddress, MemorySystem, SectionKind};
use ferrite_softmmu::block::BlockId;
use ferrite_softmmu::tlb::PAGE_SIZE;
use ferrite_softmmu::{BlockCache, EventHub, EventQueue, MemEvent, Tlb, VirtualClock};

use crate::csr::HartIrqPins;
use crate::csr::fields::MSTATUS_SUM;
use crate::exec::Exit;
use crate::exec::threaded::Slot;
use crate::hart::Hart;
use crate::interrupt::pending_interrupt;
use crate::mmu::effective_privilege;
use crate::privilege::{AccessType, Exception, Privilege, Trap, TrapCause};
use crate::trap::take_trap;

/// MMU index of U-mode accesses.
pub const MMU_IDX_U: usize = 0;
/// MMU index of S-mode accesses (and all S-mode fetches).
pub const MMU_IDX_S: usize = 1;
/// MMU index of S-mode loads and stores with `mstatus.SUM` set.
pub const MMU_IDX_S_SUM: usize = 2;
/// MMU index of M-mode accesses.
pub const MMU_IDX_M: usize = 3;

/// ISA options of a hart. The hart is RV64IMAC with Zicsr, Zifencei,
/// Zicntr, S and U modes and Sstc; there are no options yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IsaConfig {}

/// How to build a hart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuConfig {
    /// The value of `mhartid`.
    pub hart_id: u64,
    /// ISA options.
    pub isa: IsaConfig,
}

/// Why [`RiscvCpu::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunExit {
    /// `max_insns` instructions were consumed.
    BudgetExhausted,
    /// The hart executed `wfi` (or was already waiting) and no interrupt is
    /// pending and enabled in `mie`: nothing to do until a device or the
    /// timer raises one.
    WaitingForInterrupt,
    /// A device asked for the slice to end
    /// ([`VirtualClock::request_slice_end`]); the hart can go on once the
    /// machine has acted on the request.
    SliceEndRequested,
}

/// Execution statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Instructions retired.
    pub insns: u64,
    /// Blocks translated.
    pub blocks_translated: u64,
    /// Blocks invalidated (self-modifying code, outside writes, fence.i does not count).
    pub blocks_invalidated: u64,
    /// Chains made between blocks.
    pub blocks_chained: u64,
    /// TLB fills (page walks).
    pub tlb_fills: u64,
    /// TLB flushes (whole modes).
    pub tlb_flushes: u64,
    /// Accesses that took the TLB slow path.
    pub tlb_slow_accesses: u64,
    /// Exceptions taken.
    pub exceptions: u64,
    /// Interrupts taken.
    pub interrupts: u64,
}

/// One RISC-V hart with its softmmu state. See the [module documentation](self).
pub struct RiscvCpu {
    pub(crate) hart: Hart,
    pub(crate) tlb: Tlb,
    pub(crate) blocks: BlockCache<Slot>,
    pub(crate) clock: Rc<VirtualClock>,
    pub(crate) events: Rc<EventQueue>,
    pub(crate) hub: Rc<EventHub>,
    pub(crate) space: AddressSpaceId,
    /// TLB mode of instruction fetches.
    pub(crate) fetch_idx: usize,
    /// TLB mode of loads and stores.
    pub(crate) data_idx: usize,
    /// Set by the slow path when the running block must end after the
    /// current instruction (its code was invalidated).
    pub(crate) end_block: bool,
    /// How the last block ended when that was not a plain jump (written by
    /// the executor, see `exec::STEP_OTHER`).
    pub(crate) exit: Exit,
    /// Reused buffer for running part of a block (see `exec_partial`).
    pub(crate) scratch: Vec<Slot>,
    /// The running block (handlers follow its chain slots).
    pub(crate) cur_block: BlockId,
    /// Instructions the running chain may still execute.
    pub(crate) left: u64,
    /// `left` when retired instructions were last added to `instret` and
    /// the clock: the difference is what the chain retired since (see
    /// `settle`).
    pub(crate) settled_left: u64,
    /// Unoptimised builds only: how many more blocks handlers may enter
    /// directly before returning to `exec_chain`.
    pub(crate) links_left: u32,
    pub(crate) waiting: bool,
    pub(crate) exceptions: u64,
    pub(crate) interrupts: u64,
}

impl std::fmt::Debug for RiscvCpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiscvCpu")
            .field("pc", &self.hart.pc)
            .field("privilege", &self.hart.privilege)
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

/// Where the next block comes from.
pub(crate) enum NextBlock {
    /// A cached block.
    Cached(BlockId),
    /// Code that cannot be cached (MMIO): run one instruction uncached.
    Uncached,
    /// The translated block was invalidated at once: look again.
    Retry,
}

impl RiscvCpu {
    /// A hart in its reset state at pc 0, whose accesses go to `space` of
    /// `mem`, counting time on `clock`. Subscribes to the machine's memory
    /// events (through the clock's hub).
    pub fn new(
        config: CpuConfig,
        mem: &mut MemorySystem,
        space: AddressSpaceId,
        clock: Rc<VirtualClock>,
    ) -> Self {
        let events = EventQueue::new();
        let hub = clock.event_hub();
        hub.attach(mem);
        hub.subscribe(&events);
        let mut cpu = Self {
            hart: Hart::new(config.hart_id, 0),
            tlb: Tlb::new(mem, space),
            blocks: BlockCache::new(),
            clock,
            events,
            hub,
            space,
            fetch_idx: MMU_IDX_M,
            data_idx: MMU_IDX_M,
            end_block: false,
            exit: Exit::Sync { pc: 0 },
            scratch: Vec::new(),
            cur_block: 0,
            left: 0,
            settled_left: 0,
            links_left: 0,
            waiting: false,
            exceptions: 0,
            interrupts: 0,
        };
        cpu.refresh_mmu_idx();
        cpu
    }

    /// Hart reset: M-mode at `pc`, registers cleared, CSRs reset, no
    /// reservation, not waiting; the TLB is flushed. Translated blocks stay
    /// (they are kept coherent with memory independently of the hart).
    pub fn reset(&mut self, pc: u64) {
        self.hart.reset(pc);
        self.waiting = false;
        self.end_block = false;
        self.flush_tlb();
    }

    /// Register `x[i]`.
    pub fn xreg(&self, i: usize) -> u64 {
        self.hart.xreg(i)
    }

    /// Set register `x[i]` (`x0` ignores it).
    pub fn set_xreg(&mut self, i: usize, v: u64) {
        self.hart.set_xreg(i, v);
    }

    /// The pc of the next instruction.
    pub fn pc(&self) -> u64 {
        self.hart.pc
    }

    /// Set the pc.
    pub fn set_pc(&mut self, pc: u64) {
        self.hart.pc = pc;
    }

    /// The interrupt pins devices drive (MSIP, MTIP, MEIP, SEIP).
    pub fn irq_pins(&self) -> HartIrqPins {
        self.hart.csrs.irq_pins()
    }

    /// The architectural state.
    pub fn hart(&self) -> &Hart {
        &self.hart
    }

    /// The architectural state, mutably (firmware handoff, tests). Flushes
    /// the TLB and leaves `wfi` at once, since privilege or translation CSRs
    /// may change through it.
    pub fn hart_mut(&mut self) -> &mut Hart {
        self.waiting = false;
        self.flush_tlb();
        &mut self.hart
    }

    /// Whether the hart is parked in `wfi`.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// The time (ticks) at which the Sstc comparator will raise STIP, if armed.
    pub fn next_timer_deadline(&self) -> Option<u64> {
        self.hart.csrs.next_stimecmp_deadline()
    }

    /// Execution statistics so far.
    pub fn stats(&self) -> CpuStats {
        let t = self.tlb.stats();
        let b = self.blocks.stats();
        CpuStats {
            insns: self.hart.instret,
            blocks_translated: b.translated,
            blocks_invalidated: b.invalidated,
            blocks_chained: b.chained,
            tlb_fills: t.fills,
            tlb_flushes: t.flushes,
            tlb_slow_accesses: t.slow_accesses,
            exceptions: self.exceptions,
            interrupts: self.interrupts,
        }
    }

    /// Something other than this CPU wrote guest-physical `paddr..paddr + len`:
    /// drop translated code there. (Writes through `MemorySystem::write`/`store`
    /// already reach the CPU through the code-write hook; this is for writes
    /// that bypass it, such as a loader writing host memory directly.)
    pub fn invalidate_code(&mut self, mem: &mut MemorySystem, paddr: u64, len: u64) {
        let end = paddr.saturating_add(len.max(1));
        let mut a = paddr & !(PAGE_SIZE - 1);
        while a < end {
            if let SectionKind::Ram { ram_addr, .. } | SectionKind::RomDevice { ram_addr, .. } =
                mem.translate(self.space, GuestAddress(a)).kind
            {
                self.blocks.invalidate_page(ram_addr.0);
            }
            a = match a.checked_add(PAGE_SIZE) {
                Some(n) => n,
                None => break,
            };
        }
    }

    /// Flush every TLB mode and the jump cache, and recompute the MMU indices.
    pub(crate) fn flush_tlb(&mut self) {
        self.tlb.flush_all();
        self.blocks.flush_jump_cache();
        self.refresh_mmu_idx();
    }

    /// Recompute the fetch and data MMU indices from privilege and `mstatus`.
    pub(crate) fn refresh_mmu_idx(&mut self) {
        let p = self.hart.privilege;
        self.fetch_idx = mmu_idx(p, false);
        let eff = effective_privilege(&self.hart.csrs, p, AccessType::Load);
        self.data_idx = mmu_idx(eff, self.hart.csrs.mstatus() & MSTATUS_SUM != 0);
    }

    /// Apply queued memory events: re-arm NOTDIRTY, drop overwritten code.
    pub(crate) fn process_events(&mut self) {
        for ev in self.events.drain() {
            match ev {
                MemEvent::DirtyCleared { start, len } => self.tlb.rearm_notdirty(start, len),
                MemEvent::CodeWritten { start, len } => {
                    self.blocks.invalidate_range(start, len);
                }
            }
        }
    }

    /// Take exception `trap` raised by the instruction at `pc`.
    pub(crate) fn raise(&mut self, trap: Trap, pc: u64) {
        self.exceptions += 1;
        let h = &mut self.hart;
        let from = h.privilege;
        h.pc = take_trap(
            &mut h.csrs,
            &mut h.privilege,
            pc,
            TrapCause::Exception(trap.cause),
            trap.tval,
        );
        h.reservation = None;
        tracing::info!(
            target: "int",
            "hart {}: exception {} ({}) at pc {:#x}, tval {:#x}, {} -> {}, handler {:#x}",
            h.csrs.hart_id(),
            trap.cause.code(),
            trap.cause,
            pc,
            trap.tval,
            from,
            h.privilege,
            h.pc
        );
        self.refresh_mmu_idx();
    }

    /// Take the highest-priority pending interrupt, if one may be taken now.
    /// Updates the Sstc comparator from the clock first.
    #[inline]
    pub(crate) fn check_interrupts(&mut self, retired_in_block: u64) -> bool {
        let csrs = &mut self.hart.csrs;
        if csrs.sstc_enabled() {
            csrs.update_stimecmp(self.clock.ticks_at(retired_in_block));
        }
        if csrs.mip() & csrs.mie() == 0 {
            return false;
        }
        let Some(irq) = pending_interrupt(csrs, self.hart.privilege) else {
            return false;
        };
        self.interrupts += 1;
        let h = &mut self.hart;
        let from = h.privilege;
        let pc = h.pc;
        h.pc = take_trap(
            &mut h.csrs,
            &mut h.privilege,
            pc,
            TrapCause::Interrupt(irq),
            0,
        );
        h.reservation = None;
        tracing::info!(
            target: "int",
            "hart {}: interrupt {} ({}) at pc {:#x}, {} -> {}, handler {:#x}",
            h.csrs.hart_id(),
            irq.code(),
            irq,
            pc,
            from,
            h.privilege,
            h.pc
        );
        self.waiting = false;
        self.refresh_mmu_idx();
        true
    }

    /// Retire `n` instructions (and count `consumed` against the clock).
    #[inline(always)]
    pub(crate) fn retire(&mut self, n: u64, consumed: u64) {
        self.hart.instret += n;
        self.clock.retire(consumed);
    }

    /// Add the instructions the running chain retired so far to `instret`
    /// and the clock (before anything that reads them: a CSR access, a
    /// device, a trap).
    #[inline]
    pub(crate) fn settle(&mut self) {
        let n = self.settled_left - self.left;
        self.settled_left = self.left;
        self.retire(n, n);
    }

    /// Run until `max_insns` instructions were consumed or the hart waits
    /// for an interrupt. See the [module documentation](self).
    pub fn run(&mut self, mem: &mut MemorySystem, max_insns: u64) -> RunExit {
        if self.tlb.check_generation(mem) {
            self.blocks.flush_jump_cache();
        }
        self.process_events();
        if self.waiting {
            let csrs = &mut self.hart.csrs;
            if csrs.sstc_enabled() {
                csrs.update_stimecmp(self.clock.ticks());
            }
            if !self.hart.csrs.wfi_wakeup() {
                return RunExit::WaitingForInterrupt;
            }
            self.waiting = false;
        }
        let trace_cpu = tracing::enabled!(target: "cpu", tracing::Level::INFO);
        let trace_exec = tracing::enabled!(target: "exec", tracing::Level::INFO);
        let mut budget = max_insns;
        // The previous block and the chain slot it left through, valid while
        // the block cache's epoch is unchanged.
        let mut chain: Option<(BlockId, usize, u64)> = None;
        while budget > 0 {
            if self.clock.slice_end_requested() {
                return RunExit::SliceEndRequested;
            }
            self.blocks.collect_garbage();
            if self.events.pending() {
                self.process_events();
            }
            if self.check_interrupts(0) {
                chain = None;
            }
            let pc = self.hart.pc;
            let chained = match chain {
                Some((from, slot, epoch)) if epoch == self.blocks.epoch() => {
                    self.blocks.successor(from, slot)
                }
                _ => None,
            };
            let id = match chained {
                Some(id) => id,
                None => match self.find_block(mem, pc) {
                    Ok(NextBlock::Cached(id)) => {
                        if let Some((from, slot, epoch)) = chain {
                            if epoch == self.blocks.epoch() {
                                self.blocks.link(from, slot, id);
                            }
                        }
                        id
                    }
                    Ok(NextBlock::Retry) => {
                        chain = None;
                        continue;
                    }
                    Ok(NextBlock::Uncached) => {
                        chain = None;
                        let (n, consumed, exit) = self.run_uncached(mem, pc);
                        budget = budget.saturating_sub(consumed);
                        self.retire(n, consumed);
                        if let Some(r) = self.finish_block(mem, exit) {
                            return r;
                        }
                        continue;
                    }
                    Err(trap) => {
                        chain = None;
                        self.raise(trap, pc);
                        budget -= 1;
                        self.clock.retire(1);
                        continue;
                    }
                },
            };
            // Chained blocks run back to back in `exec_chain` until something
            // needs the checks above: interrupts can only become pending
            // through a CSR write or xRET (a `Sync` exit), an MMIO access
            // that moves an interrupt pin (the slow path ends the block), a
            // memory event (likewise), or the Sstc comparator, whose
            // deadline bounds the allowance. Tracing runs one block at a time.
            let left = budget.min(self.sstc_allowance());
            let tracing = trace_cpu || trace_exec;
            if trace_cpu {
                self.hart.pc = pc;
                self.trace_cpu_state();
            }
            if trace_exec {
                tracing::info!(target: "exec", "Trace {}: [{:016x}]", self.hart.csrs.hart_id(), pc);
            }
            let end = self.exec_chain(mem, id, left, !tracing);
            // `retired <= left <= budget`: no underflow.
            budget -= end.retired;
            match end.exit {
                Exit::Next { pc: next, slot } => {
                    self.hart.pc = next;
                    chain = slot.map(|s| (end.last, usize::from(s), end.epoch));
                }
                exit => {
                    chain = None;
                    // A faulting instruction does not retire but is consumed.
                    if matches!(exit, Exit::Trap { .. } | Exit::Illegal { .. }) {
                        budget = budget.saturating_sub(1);
                        self.clock.retire(1);
                    }
                    if let Some(r) = self.finish_block(mem, exit) {
                        return r;
                    }
                }
            }
        }
        RunExit::BudgetExhausted
    }

    /// How many instructions may run before the Sstc comparator fires (so
    /// chained execution stops in time to take the timer interrupt).
    #[inline]
    fn sstc_allowance(&self) -> u64 {
        match self.hart.csrs.next_stimecmp_deadline() {
            Some(tick) => self.clock.insns_until_tick(tick).max(1),
            None => u64::MAX,
        }
    }

    /// Act on how a block ended; `Some` when `run` must return.
    #[inline]
    fn finish_block(&mut self, mem: &mut MemorySystem, exit: Exit) -> Option<RunExit> {
        match exit {
            Exit::Next { pc, .. } => self.hart.pc = pc,
            Exit::Sync { pc } => {
                self.hart.pc = pc;
                self.refresh_mmu_idx();
            }
            Exit::Trap { trap, pc } => self.raise(trap, pc),
            Exit::Illegal { pc, len } => {
                let bits = self.instruction_bits(mem, pc, len);
                self.raise(Trap::new(Exception::IllegalInstruction, bits), pc);
            }
            Exit::Wfi { pc } => {
                self.hart.pc = pc;
                if !self.hart.csrs.wfi_wakeup() {
                    self.waiting = true;
                    return Some(RunExit::WaitingForInterrupt);
                }
            }
        }
        None
    }

    /// The bits of the instruction of `len` bytes at `pc` (for `xtval` of an
    /// illegal instruction), fetched again through the TLB's code path (the
    /// same bytes that were decoded: translated code is kept coherent); 0 if
    /// the fetch now faults.
    fn instruction_bits(&mut self, mem: &mut MemorySystem, pc: u64, len: u8) -> u64 {
        let lo = self.fetch_parcel(mem, pc).unwrap_or(0);
        if len == 2 {
            return lo;
        }
        let hi = self.fetch_parcel(mem, pc.wrapping_add(2)).unwrap_or(0);
        lo | hi << 16
    }

    fn trace_cpu_state(&self) {
        use std::fmt::Write;
        let h = &self.hart;
        let mut s = format!("pc       {:016x} priv {}\n", h.pc, h.privilege);
        for i in 0..32 {
            let _ = write!(
                s,
                "x{:<2}/{:<4} {:016x}",
                i,
                crate::disasm::reg_name(i as u8),
                h.x[i]
            );
            s.push(if i % 4 == 3 { '\n' } else { ' ' });
        }
        tracing::info!(target: "cpu", "{s}");
    }
}

/// The MMU index of `privilege` (with SUM for S-mode data accesses).
pub fn mmu_idx(privilege: Privilege, sum: bool) -> usize {
    match privilege {
        Privilege::User => MMU_IDX_U,
        Privilege::Supervisor if sum => MMU_IDX_S_SUM,
        Privilege::Supervisor => MMU_IDX_S,
        Privilege::Machine => MMU_IDX_M,
    }
}
