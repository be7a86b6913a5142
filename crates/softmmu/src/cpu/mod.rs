//! The engine: one CPU generic over a [`Target`] (QEMU's `CPUState` with
//! `cpu-exec.c`, the TCG memory listener and the NOTDIRTY write path of
//! `cputlb.c`/`tb-maint.c`).
//!
//! A [`Cpu`] owns everything that is not architecture: the [`Tlb`], the
//! [`BlockCache`] with its jump cache, the queue of memory events, the
//! chain state the running code updates, and the execution loop
//! ([`Cpu::run`]). The target's state is the `arch` field; the target
//! implements [`Target`] (fill the TLB, translate and run blocks, take
//! interrupts) and [`ArchState`] (registers, pc, privilege, control
//! registers, a complete saved state).
//!
//! # Coherence rules, each kept in one place
//!
//! * A flush of the TLB is a flush of the jump cache (and of the chains
//!   that depend on mappings): [`Cpu::flush_tlb`] and [`Cpu::flush_tlb_page`]
//!   are the only ways to flush.
//! * A store through a NOTDIRTY slot to a page holding translated code
//!   invalidates the page's blocks here, in the engine, before the store
//!   (the slow path's [`TlbFill::code_written`] is implemented by the
//!   engine, not by the target), tells the other CPUs, and ends the running
//!   block.
//! * The CPU is a [`MemoryListener`](ferrite_memory::MemoryListener) of its
//!   own address space: a commit that changes the view queues a
//!   [`MemEvent::MapChanged`], which the CPU applies (a full TLB flush)
//!   before its next instruction. A slow-path access that caused the commit
//!   ends its block, so no instruction runs on the old mappings after it.
//! * Blocks removed while code may still be running them stay allocated
//!   until the loop collects them between two runs of chained blocks.

mod exec;
mod listener;
pub mod target;

use std::rc::Rc;

use ferrite_memory::{AddressSpaceId, GuestAddress, MemTxError, MemorySystem, RamAddr};

pub use exec::RunExit;
pub use target::{ArchState, BlockExit, Finish, StateError, Target, Translated, TranslatedBlock};

use crate::address::{MmuIdx, VirtAddr};
use crate::block::{BlockCache, BlockId, CodeBytes};
use crate::clock::VirtualClock;
use crate::debug::{DebugState, DebugStop, Watchpoint};
use crate::events::{EventHub, EventQueue, MemEvent};
use crate::tlb::slow::CodeLocation;
use crate::tlb::{MmuAccess, PAGE_SIZE, PageMapping, Tlb, TlbFill};

/// The state of a run of chained blocks, which the target's code updates
/// as it runs (QEMU keeps the like in `CPUNegativeOffsetState` and the
/// generated code's registers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainState {
    /// The running block.
    pub cur_block: BlockId,
    /// Instructions the run may still execute; code decrements it as it
    /// retires instructions.
    pub left: u64,
    /// `left` when retired instructions were last settled into the
    /// architectural counter and the clock (see [`Cpu::settle`]).
    pub settled_left: u64,
    /// Builds with debug assertions only: how many more blocks code may
    /// enter directly before returning to the loop (see
    /// [`ChainState::MAX_LINKED_BLOCKS`]).
    pub links_left: u32,
}

impl ChainState {
    /// How many blocks in a row code enters directly before returning to
    /// the loop, in builds with debug assertions. Optimised builds turn each
    /// handler's call of the next into a jump and need no bound; an
    /// unoptimised build makes every instruction of the run a stack frame.
    pub const MAX_LINKED_BLOCKS: u32 = 4;

    /// The most `left` ever holds (a run of more instructions goes on in
    /// the next run): far below `u64::MAX`, so that a block entry's budget
    /// test also refuses an empty slot array (no successor) by its wrapped
    /// length.
    pub const MAX_LEFT: u64 = u64::MAX >> 1;
}

/// Execution statistics of one CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Blocks translated.
    pub blocks_translated: u64,
    /// Blocks invalidated.
    pub blocks_invalidated: u64,
    /// Chains made between blocks.
    pub blocks_chained: u64,
    /// TLB fills (page walks).
    pub tlb_fills: u64,
    /// TLB flushes (whole modes).
    pub tlb_flushes: u64,
    /// Accesses that took the TLB slow path.
    pub tlb_slow_accesses: u64,
    /// Stores made beside translated code on its page, past the slow path.
    pub beside_code_stores: u64,
}

/// One CPU: a target's state wired to the engine. See the
/// [module documentation](self).
pub struct Cpu<T: Target> {
    /// The target's state.
    pub arch: T,
    /// The software TLB. Code reads it on its fast paths; everything that
    /// changes it goes through the CPU's methods.
    pub tlb: Tlb,
    /// The translated blocks and the jump cache.
    pub blocks: BlockCache<T::Code>,
    /// The state of the running chain of blocks.
    pub chain: ChainState,
    clock: Rc<VirtualClock>,
    events: Rc<EventQueue>,
    hub: Rc<EventHub>,
    space: AddressSpaceId,
    /// Set by the NOTDIRTY path when the running block's code (or code on
    /// its page) was invalidated: the block ends after the current
    /// instruction.
    end_block: bool,
    /// Waiting for an interrupt (QEMU's `cpu->halted`).
    halted: bool,
    /// Blocks chain to their successors (off: QEMU's `-d nochain`, each
    /// block returns to the loop).
    chaining: bool,
    /// Breakpoints, single-step and the last debug stop.
    debug: DebugState,
    /// Per-block execution counts, while profiling ([`Cpu::set_profiling`]).
    profile: Option<Box<hashbrown::HashMap<u64, BlockProfile>>>,
}

/// What profiling counted for the blocks starting at one pc
/// ([`Cpu::block_profile`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockProfile {
    /// The blocks' virtual pc.
    pub pc: u64,
    /// How many times a block there ran.
    pub visits: u64,
    /// Instructions those runs retired.
    pub insns: u64,
}

impl<T: Target> std::fmt::Debug for Cpu<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cpu")
            .field("index", &self.arch.cpu_index())
            .field("pc", &self.arch.pc())
            .field("halted", &self.halted)
            .finish_non_exhaustive()
    }
}

/// The engine's side of the TLB slow path: the target fills, the engine
/// invalidates code.
struct Fill<'a, T: Target> {
    arch: &'a mut T,
    blocks: &'a mut BlockCache<T::Code>,
    end_block: &'a mut bool,
    hub: &'a EventHub,
    own: &'a Rc<EventQueue>,
}

impl<T: Target> TlbFill for Fill<'_, T> {
    type Fault = T::Fault;

    fn tlb_fill(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        mmu_idx: MmuIdx,
    ) -> Result<PageMapping, T::Fault> {
        self.arch.tlb_fill(mem, vaddr, size, access, mmu_idx)
    }

    fn bus_fault(
        &mut self,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        error: MemTxError,
    ) -> T::Fault {
        // Every bus error of a guest access comes through here: one line.
        let what = match access {
            MmuAccess::Fetch => "fetch",
            MmuAccess::Load => "load",
            MmuAccess::Store => "store",
        };
        tracing::info!(
            target: "guest_errors",
            "hart {}: {what} of {size} bytes at {:#x}: {error}",
            self.arch.cpu_index(),
            vaddr.0
        );
        self.arch.bus_fault(vaddr, size, access, error)
    }

    fn watch_fault(&mut self, vaddr: VirtAddr, size: u32, access: MmuAccess) -> T::Fault {
        self.arch.watch_fault(vaddr, size, access)
    }

    fn code_written(
        &mut self,
        _mem: &mut MemorySystem,
        ram: RamAddr,
        len: u32,
    ) -> Option<CodeBytes> {
        let len = u64::from(len);
        if self.blocks.code_map().overlaps(ram, len) {
            // The store's bytes share lines with code: drop exactly the
            // blocks they overlap, here and (before they run again) on the
            // other CPUs, which have block caches of their own.
            if self.blocks.invalidate_overlapping(ram, len) > 0 {
                *self.end_block = true;
            }
            self.hub
                .broadcast_except(MemEvent::CodeStored { start: ram, len }, self.own);
        }
        self.blocks.code_map().bytes(ram)
    }
}

impl<T: Target> Cpu<T> {
    /// A CPU running `arch`, whose accesses go to address space `space` of
    /// `mem`, counting time on `clock`. Subscribes to the machine's memory
    /// events (through the clock's hub) and registers as a listener of
    /// `space`.
    pub fn new(
        arch: T,
        mem: &mut MemorySystem,
        space: AddressSpaceId,
        clock: Rc<VirtualClock>,
    ) -> Self {
        let events = EventQueue::new();
        let hub = clock.event_hub();
        hub.attach(mem);
        hub.subscribe(&events);
        // The listener lives in the memory system and reaches the CPU only
        // through its (weakly held) event queue: nothing to keep here.
        listener::register(mem, space, &events);
        // Registration replays the current view; nothing is cached yet.
        events.drain();
        let mut cpu = Self {
            arch,
            tlb: Tlb::new(space),
            blocks: BlockCache::with_code_map(hub.code_map()),
            chain: ChainState::default(),
            clock,
            events,
            hub,
            space,
            end_block: false,
            halted: false,
            chaining: true,
            profile: None,
            debug: DebugState::default(),
        };
        cpu.arch.mmu_state_changed();
        cpu
    }

    /// The address space the CPU's accesses go to.
    pub fn address_space(&self) -> AddressSpaceId {
        self.space
    }

    /// The machine's virtual clock.
    pub fn clock(&self) -> &Rc<VirtualClock> {
        &self.clock
    }

    /// Whether the CPU waits for an interrupt.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Stop or end waiting for an interrupt (reset, a debugger, a
    /// firmware hand-off).
    pub fn set_halted(&mut self, halted: bool) {
        self.halted = halted;
    }

    /// Chain blocks to their successors (the default), or not: with
    /// chaining off every block returns to the execution loop, which looks
    /// the next one up afresh (QEMU's `-d nochain`), so `-d exec` and
    /// `-d cpu` see every block.
    pub fn set_chaining(&mut self, on: bool) {
        self.chaining = on;
    }

    /// Stop before executing the instruction at virtual address `pc`.
    /// Translated blocks are dropped, so the next ones end before it.
    pub fn insert_breakpoint(&mut self, pc: u64) {
        if self.debug.breakpoints.insert(pc) {
            self.blocks.flush();
        }
    }

    /// Remove the breakpoint at `pc`; false if there was none.
    pub fn remove_breakpoint(&mut self, pc: u64) -> bool {
        let removed = self.debug.breakpoints.remove(&pc);
        if removed {
            self.blocks.flush();
        }
        removed
    }

    /// Whether a breakpoint is set at `pc`: translation ends a block
    /// before such an instruction (unless it is the block's first).
    #[inline]
    pub fn breakpoint_at(&self, pc: u64) -> bool {
        !self.debug.breakpoints.is_empty() && self.debug.breakpoints.contains(&pc)
    }

    /// Add a watchpoint (see [`crate::debug`]).
    pub fn insert_watchpoint(&mut self, wp: Watchpoint) {
        self.tlb.insert_watchpoint(wp);
        self.blocks.flush_jump_cache();
        self.arch.mmu_state_changed();
    }

    /// Remove a watchpoint; false if there was none like it.
    pub fn remove_watchpoint(&mut self, wp: Watchpoint) -> bool {
        let removed = self.tlb.remove_watchpoint(wp);
        if removed {
            self.blocks.flush_jump_cache();
            self.arch.mmu_state_changed();
        }
        removed
    }

    /// The next run starts at a breakpoint the debugger resumes from: the
    /// breakpoint at the current pc does not stop it again.
    pub fn resume_from_breakpoint(&mut self) {
        self.debug.skip_breakpoint = Some(self.arch.pc());
    }

    /// Why the CPU stopped for the debugger ([`RunExit::DebugStop`]),
    /// cleared.
    pub fn take_debug_stop(&mut self) -> Option<DebugStop> {
        self.debug.stop.take()
    }

    /// Execute one instruction with interrupts masked (QEMU's default
    /// single-step): an instruction that traps leaves the pc at the
    /// handler. A breakpoint at the current pc does not stop it. Returns
    /// [`RunExit::DebugStop`] with [`DebugStop::Step`] (or the watchpoint
    /// the instruction hit) once an instruction has been consumed, or how
    /// the run ended without one (a hart waiting for an interrupt).
    pub fn step(&mut self, mem: &mut MemorySystem) -> RunExit {
        let before = self.clock.insns();
        self.resume_from_breakpoint();
        self.debug.mask_interrupts = true;
        let exit = self.run(mem, 1);
        self.debug.mask_interrupts = false;
        self.debug.skip_breakpoint = None;
        match exit {
            RunExit::DebugStop => exit,
            RunExit::WaitingForInterrupt if self.clock.insns() == before => exit,
            _ => {
                self.debug.stop = Some(DebugStop::Step);
                RunExit::DebugStop
            }
        }
    }

    /// Count, per block, how often it runs and the instructions it retires
    /// (`--profile`); off forgets the counts. Profiling runs one block at a
    /// time through the loop, as `-d nochain` does, so it costs speed but
    /// changes neither the instructions retired nor their order.
    pub fn set_profiling(&mut self, on: bool) {
        self.profile = on.then(Box::default);
    }

    /// What profiling counted, hottest first (most instructions; ties by
    /// pc), empty when profiling is off.
    pub fn block_profile(&self) -> Vec<BlockProfile> {
        let mut v: Vec<BlockProfile> = self
            .profile
            .iter()
            .flat_map(|m| m.values().copied())
            .collect();
        v.sort_by(|a, b| b.insns.cmp(&a.insns).then(a.pc.cmp(&b.pc)));
        v
    }

    /// Engine statistics so far.
    pub fn engine_stats(&self) -> CpuStats {
        let t = self.tlb.stats();
        let b = self.blocks.stats();
        CpuStats {
            blocks_translated: b.translated,
            blocks_invalidated: b.invalidated,
            blocks_chained: b.chained,
            tlb_fills: t.fills,
            tlb_flushes: t.flushes,
            tlb_slow_accesses: t.slow_accesses,
            beside_code_stores: t.beside_code_stores,
        }
    }

    /// Flush every TLB mode and the jump cache (with the chains that depend
    /// on mappings), then let the target recompute its MMU state.
    pub fn flush_tlb(&mut self) {
        self.tlb.flush_all();
        self.blocks.flush_jump_cache();
        self.arch.mmu_state_changed();
    }

    /// Drop the translations of the virtual page of `vaddr` in the modes of
    /// `mode_mask`, and the jump cache with it.
    pub fn flush_tlb_page(&mut self, vaddr: VirtAddr, mode_mask: u32) {
        self.tlb.flush_page(vaddr, mode_mask);
        self.blocks.flush_jump_cache();
    }

    /// Something other than a CPU wrote guest-physical
    /// `paddr..paddr + len` behind the memory API's back (a loader writing
    /// host memory directly): drop translated code there. Writes through
    /// the memory API reach the CPU by themselves.
    pub fn invalidate_code(&mut self, mem: &MemorySystem, paddr: GuestAddress, len: u64) {
        use ferrite_memory::SectionKind;
        let end = paddr.0.saturating_add(len.max(1));
        let mut a = paddr.0 & !(PAGE_SIZE - 1);
        while a < end {
            if let SectionKind::Ram { ram_addr, .. } | SectionKind::RomDevice { ram_addr, .. } =
                mem.lookup_section(self.space, GuestAddress(a)).kind
            {
                self.blocks.invalidate_page(ram_addr);
            }
            a = match a.checked_add(PAGE_SIZE) {
                Some(n) => n,
                None => break,
            };
        }
    }

    /// Apply queued memory events: re-arm NOTDIRTY, drop overwritten code,
    /// flush after a map change.
    pub fn process_events(&mut self) {
        for ev in self.events.drain() {
            match ev {
                MemEvent::DirtyCleared { start, len } => self.tlb.rearm_notdirty(start, len),
                MemEvent::CodeWritten { start, len } => {
                    self.blocks.invalidate_range(start, len);
                }
                MemEvent::CodeStored { start, len } => {
                    self.blocks.invalidate_overlapping(start, len);
                }
                MemEvent::CodeGrew { page } => self.tlb.forget_code_bytes(page),
                MemEvent::MapChanged => self.flush_tlb(),
            }
        }
    }

    /// Add the instructions the running chain retired so far to the
    /// architectural counter and the clock. Code calls it before anything
    /// that reads them (a slow-path access, a control register, a trap).
    #[inline]
    pub fn settle(&mut self) {
        // Code that skips part of its block gives the skipped instructions
        // back to `left` before the block's count is taken off at its exit,
        // so `left` may for a while exceed `settled_left`: nothing to settle
        // yet (the exit's count puts it right).
        let Some(n) = self.chain.settled_left.checked_sub(self.chain.left) else {
            return;
        };
        self.chain.settled_left = self.chain.left;
        self.arch.retire(n);
        self.clock.retire(n);
    }

    /// The TLB and the slow-path context, borrowed apart.
    fn split(&mut self) -> (&mut Tlb, Fill<'_, T>) {
        (
            &mut self.tlb,
            Fill {
                arch: &mut self.arch,
                blocks: &mut self.blocks,
                end_block: &mut self.end_block,
                hub: &self.hub,
                own: &self.events,
            },
        )
    }

    /// An access just hit a watchpoint (and was not made): the run returns
    /// to the debugger once the target has ended the block before the
    /// instruction.
    #[inline]
    fn watch_stop(&mut self) {
        if self.tlb.watch_hit_pending() {
            self.clock.request_slice_end();
        }
    }

    /// Whether the running block must stop after the slow-path access just
    /// made: its code was invalidated, memory events await processing, a
    /// device asked for the slice to end, or an interrupt input moved
    /// (`irq_before` is [`Target::irq_inputs`] before the access).
    #[inline]
    fn after_slow_path(&mut self, irq_before: u64) -> bool {
        let stop = self.end_block
            || self.events.pending()
            || self.clock.slice_end_requested()
            || self.arch.irq_inputs() != irq_before;
        self.end_block = false;
        stop
    }

    /// A load (or fetch) of `size` bytes at `vaddr` in mode `mmu_idx`
    /// through the slow path: the value, and whether the block must end
    /// after this instruction.
    #[cold]
    #[inline(never)]
    pub fn load_slow(
        &mut self,
        mem: &mut MemorySystem,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
    ) -> Result<(u64, bool), T::Fault> {
        let irq = self.arch.irq_inputs();
        let (tlb, mut f) = self.split();
        let v = tlb.load_slow(mem, &mut f, mmu_idx, vaddr, size, access);
        self.watch_stop();
        Ok((v?, self.after_slow_path(irq)))
    }

    /// A store through the slow path; returns whether the block must end.
    #[cold]
    #[inline(never)]
    pub fn store_slow(
        &mut self,
        mem: &mut MemorySystem,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        value: u64,
    ) -> Result<bool, T::Fault> {
        let irq = self.arch.irq_inputs();
        let (tlb, mut f) = self.split();
        let r = tlb.store_slow(mem, &mut f, mmu_idx, vaddr, size, value);
        self.watch_stop();
        r?;
        Ok(self.after_slow_path(irq))
    }

    /// An atomic read-modify-write through the slow path: `op(old)` is
    /// stored, `old` returned, with whether the block must end.
    #[cold]
    #[inline(never)]
    pub fn rmw_slow(
        &mut self,
        mem: &mut MemorySystem,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        op: impl FnOnce(u64) -> u64,
    ) -> Result<(u64, bool), T::Fault> {
        let irq = self.arch.irq_inputs();
        let (tlb, mut f) = self.split();
        let old = tlb.rmw_slow(mem, &mut f, mmu_idx, vaddr, size, op);
        self.watch_stop();
        Ok((old?, self.after_slow_path(irq)))
    }

    /// Fetch `N` (2 or 4) bytes of code at `vaddr` in the fetch mode: the
    /// fast path, else the slow path (which may fill the TLB).
    #[inline]
    pub fn fetch_code<const N: usize>(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
    ) -> Result<u64, T::Fault> {
        let idx = self.arch.fetch_mmu_idx();
        if let Some(v) = self.tlb.fetch_fast::<N>(idx, vaddr) {
            return Ok(v);
        }
        let (tlb, mut f) = self.split();
        tlb.load_slow(mem, &mut f, idx, vaddr, N as u32, MmuAccess::Fetch)
    }

    /// The ram address of the code at `vaddr` if its page is in the TLB as
    /// cacheable memory for fetches (no fill).
    #[inline]
    pub fn code_ram_fast(&self, vaddr: VirtAddr) -> Option<RamAddr> {
        self.tlb.code_ram_fast(self.arch.fetch_mmu_idx(), vaddr)
    }

    /// Where the code at `vaddr` lives, filling the TLB for a fetch if needed.
    pub fn code_location(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
    ) -> Result<CodeLocation, T::Fault> {
        let idx = self.arch.fetch_mmu_idx();
        let (tlb, mut f) = self.split();
        tlb.code_location(mem, &mut f, idx, vaddr)
    }
}
