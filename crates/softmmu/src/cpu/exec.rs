//! The execution loop (QEMU's `cpu_exec`): interrupts at block boundaries,
//! lookup or translation of the next block, chaining, exits and the
//! instruction budget.
//!
//! [`Cpu::run`] executes until the budget is consumed (instructions that
//! retired, plus one for each that raised an exception), the CPU waits for
//! an interrupt, or a device asks for the slice to end. Between runs of
//! blocks it collects removed blocks, drains memory events, looks for
//! interrupts, then finds the next block: the previous block's chain slot,
//! else the jump cache, else the hash map after translating the pc through
//! the TLB, else a fresh translation. Blocks then run back to back in
//! [`Cpu::exec_chain`] (and code may enter chained successors itself),
//! skipping those checks. That is sound because nothing else can make an
//! interrupt pending or queue a memory event meanwhile: a target's exit for
//! a state change leaves the chain, a slow-path access that moves an
//! interrupt input, invalidates code or queues an event ends its block, and
//! the chain never runs past the target's own timer deadline.

use ferrite_memory::MemorySystem;

use super::target::{BlockExit, Finish, Target, Translated};
use super::{ChainState, Cpu};
use ferrite_memory::RamAddr;

use crate::address::VirtAddr;
use crate::block::{BlockId, BlockKey};
use crate::events::MemEvent;
use crate::tlb::PAGE_SIZE;

/// Why [`Cpu::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunExit {
    /// The budget was consumed.
    BudgetExhausted,
    /// The CPU waits for an interrupt and none is pending: nothing to do
    /// until a device or a timer raises one.
    WaitingForInterrupt,
    /// A device asked for the slice to end
    /// ([`crate::VirtualClock::request_slice_end`]); the CPU can go on once
    /// the machine has acted on the request.
    SliceEndRequested,
    /// The CPU is caught in a loop that cannot make progress (see
    /// [`Finish::NoProgress`]); running it further would only repeat it.
    NoProgress,
    /// The CPU stopped for the debugger: a breakpoint, a watchpoint or a
    /// completed single-step ([`Cpu::take_debug_stop`] says which).
    DebugStop,
}

/// Where the next block comes from.
enum NextBlock {
    Cached(BlockId),
    /// Code that cannot be cached: run one instruction uncached.
    Uncached,
    /// The translated block was invalidated at once: look again.
    Retry,
}

/// How a run of chained blocks ended.
struct ChainEnd<E> {
    /// Instructions retired (already settled).
    retired: u64,
    exit: BlockExit<E>,
    /// The last block that ran.
    last: BlockId,
    /// The block cache's epoch at the end of the run.
    epoch: u64,
}

impl<T: Target> Cpu<T> {
    /// Run for at most `budget` instructions: until the budget is consumed,
    /// the CPU waits for an interrupt, or a device asks for the slice to
    /// end (see [`RunExit`]). Interrupts are taken at block boundaries.
    pub fn run(&mut self, mem: &mut MemorySystem, budget: u64) -> RunExit {
        let mut budget = budget;
        if self.debug.resume_after_watch && budget > 0 {
            // The instruction a watchpoint stopped before runs first, its
            // accesses unwatched.
            self.debug.resume_after_watch = false;
            let before = self.clock.insns();
            self.tlb.suppress_watchpoints(true);
            let exit = self.run_loop(mem, 1);
            self.tlb.suppress_watchpoints(false);
            let used = self.clock.insns() - before;
            if exit != RunExit::BudgetExhausted || used >= budget {
                return exit;
            }
            budget -= used;
        }
        let exit = self.run_loop(mem, budget);
        // A watchpoint hit by the run's last instruction is still a stop.
        if exit != RunExit::DebugStop && self.tlb.watch_hit_pending() {
            return self.slice_end();
        }
        exit
    }

    /// [`Cpu::run`] without the final watchpoint check.
    fn run_loop(&mut self, mem: &mut MemorySystem, budget: u64) -> RunExit {
        self.process_events();
        if self.halted {
            if !self.arch.wakeup(self.clock.ticks()) {
                return RunExit::WaitingForInterrupt;
            }
            self.halted = false;
        }
        if self.arch.stepped() {
            return self.run_stepped(mem, budget);
        }
        let trace_cpu = tracing::enabled!(target: "cpu", tracing::Level::INFO);
        let trace_exec = tracing::enabled!(target: "exec", tracing::Level::INFO);
        // Breakpoints are checked here before a block runs. A block that
        // starts at one is never chained to nor left in the jump cache, so
        // no code enters it but through this loop.
        let check_breakpoints = !self.debug.breakpoints.is_empty();
        let take_interrupts = !self.debug.mask_interrupts;
        // Tracing, `nochain` and profiling run one block at a time.
        let one_block = trace_cpu || trace_exec || !self.chaining || self.profile.is_some();
        let mut budget = budget;
        // The previous block and the chain slot it left through, valid while
        // the block cache's epoch is unchanged.
        let mut chain: Option<(BlockId, usize, u64)> = None;
        while budget > 0 {
            if !self.between_blocks() {
                return self.slice_end();
            }
            if take_interrupts && self.arch.take_interrupt(self.clock.ticks()) {
                self.halted = false;
                chain = None;
            }
            let pc = self.arch.pc();
            if check_breakpoints && self.stops_at_breakpoint(pc) {
                return RunExit::DebugStop;
            }
            let chained = match chain {
                Some((from, slot, epoch)) if epoch == self.blocks.epoch() => {
                    self.blocks.successor(from, slot)
                }
                _ => None,
            };
            let id = match chained {
                Some(id) => id,
                None => match self.find_block(mem, pc) {
                    Ok(NextBlock::Cached(id)) if check_breakpoints && self.breakpoint_at(pc) => {
                        // Resuming from the breakpoint at `pc`.
                        self.blocks.forget_jump(VirtAddr(pc));
                        id
                    }
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
                        let (retired, exit) = T::exec_uncached(self, mem, pc);
                        budget = budget.saturating_sub(retired);
                        let exit = match exit {
                            // Never chain from an uncached instruction.
                            BlockExit::Jump { pc, .. } => BlockExit::Jump { pc, slot: None },
                            other => other,
                        };
                        if let Some(r) = self.finish(mem, exit, &mut budget) {
                            return r;
                        }
                        continue;
                    }
                    Err(fault) => {
                        chain = None;
                        let finish = self.arch.raise(fault, pc);
                        budget -= 1;
                        self.clock.retire(1);
                        if finish == Finish::NoProgress {
                            return RunExit::NoProgress;
                        }
                        continue;
                    }
                },
            };
            let left = budget.min(self.timer_allowance());
            let logged = (trace_cpu || trace_exec) && crate::log_filter::allows(pc);
            if trace_cpu && logged {
                tracing::info!(target: "cpu", "{}", self.arch.log_state());
            }
            if trace_exec && logged {
                tracing::info!(target: "exec", "Trace {}: [{:016x}]", self.arch.cpu_index(), pc);
            }
            let end = self.exec_chain(mem, id, left, !one_block);
            // `retired <= left <= budget`: no underflow.
            budget -= end.retired;
            if let Some(profile) = self.profile.as_mut() {
                let p = profile.entry(pc).or_insert(super::BlockProfile {
                    pc,
                    ..Default::default()
                });
                p.visits += 1;
                p.insns += end.retired;
            }
            match end.exit {
                BlockExit::Jump { pc: next, slot } => {
                    self.arch.set_pc(next);
                    chain = slot
                        .filter(|_| self.chaining)
                        .map(|s| (end.last, usize::from(s), end.epoch));
                }
                exit => {
                    chain = None;
                    if let Some(r) = self.finish(mem, exit, &mut budget) {
                        return r;
                    }
                }
            }
        }
        RunExit::BudgetExhausted
    }

    /// [`Cpu::run`] in stepped mode ([`Target::stepped`]): one instruction
    /// at a time through [`Target::exec_stepped`], no translated blocks.
    /// Interrupts pending when the slice starts are taken (and end it);
    /// afterwards the target takes them where its reference model does.
    fn run_stepped(&mut self, mem: &mut MemorySystem, budget: u64) -> RunExit {
        let mut budget = budget;
        self.arch.begin_stepped_slice();
        if !self.debug.mask_interrupts && self.arch.take_interrupt(self.clock.ticks()) {
            self.halted = false;
            return RunExit::SliceEndRequested;
        }
        let check_breakpoints = !self.debug.breakpoints.is_empty();
        while budget > 0 {
            if !self.between_blocks() {
                return self.slice_end();
            }
            let pc = self.arch.pc();
            if check_breakpoints && self.stops_at_breakpoint(pc) {
                return RunExit::DebugStop;
            }
            let (retired, exit) = T::exec_stepped(self, mem, pc);
            budget = budget.saturating_sub(retired);
            if let Some(r) = self.finish(mem, exit, &mut budget) {
                return r;
            }
        }
        RunExit::BudgetExhausted
    }

    /// Why the slice ended: a watchpoint hit becomes the debug stop (the
    /// request to end the slice was the engine's own), anything else a
    /// device's request.
    #[cold]
    fn slice_end(&mut self) -> RunExit {
        match self.tlb.take_watch_hit() {
            Some(hit) => {
                self.debug.resume_after_watch = true;
                self.debug.stop = Some(crate::debug::DebugStop::Watchpoint(hit));
                RunExit::DebugStop
            }
            None => RunExit::SliceEndRequested,
        }
    }

    /// Whether the breakpoint at `pc` stops the run (records the stop).
    /// The first check after resuming from a breakpoint lets its pc pass.
    #[cold]
    fn stops_at_breakpoint(&mut self, pc: u64) -> bool {
        let skip = self.debug.skip_breakpoint.take();
        if skip != Some(pc) && self.debug.breakpoints.contains(&pc) {
            self.debug.stop = Some(crate::debug::DebugStop::Breakpoint { pc });
            return true;
        }
        false
    }

    /// The housekeeping between two runs of code: false if a device asked
    /// for the slice to end; else free removed blocks (no code runs here)
    /// and apply queued memory events.
    #[inline(always)]
    fn between_blocks(&mut self) -> bool {
        if self.clock.slice_end_requested() {
            return false;
        }
        self.blocks.collect_garbage();
        if self.events.pending() {
            self.process_events();
        }
        true
    }

    /// Act on how a block ended; `Some` when `run` must return.
    #[inline]
    fn finish(
        &mut self,
        mem: &mut MemorySystem,
        exit: BlockExit<T::Exit>,
        budget: &mut u64,
    ) -> Option<RunExit> {
        match exit {
            BlockExit::Jump { pc, .. } => {
                self.arch.set_pc(pc);
                None
            }
            BlockExit::Other(e) => match T::finish(self, mem, e) {
                Finish::Continue => None,
                Finish::Faulted => {
                    // A faulting instruction does not retire but is consumed.
                    *budget = budget.saturating_sub(1);
                    self.clock.retire(1);
                    None
                }
                Finish::Wait => {
                    self.halted = true;
                    Some(RunExit::WaitingForInterrupt)
                }
                Finish::NoProgress => {
                    // The faulting instruction is consumed, as any fault.
                    *budget = budget.saturating_sub(1);
                    self.clock.retire(1);
                    Some(RunExit::NoProgress)
                }
            },
        }
    }

    /// How many instructions may run before the target's timer fires (so a
    /// chain stops in time to take the interrupt).
    #[inline]
    fn timer_allowance(&self) -> u64 {
        match self.arch.timer_deadline() {
            Some(tick) => self.clock.insns_until_tick(tick).max(1),
            None => u64::MAX,
        }
    }

    /// Run block `id` and, when `chain` is set, the blocks that follow it,
    /// for at most `left` instructions. Code leaving a block through a chain
    /// slot may enter the chained successor itself; otherwise this loop
    /// follows the chain slot or looks the successor up in the jump cache
    /// (and chains it for next time). The run stops at the first exit other
    /// than a jump, when `left` is used up, or at a successor not yet
    /// translated.
    ///
    /// Nothing but a slow-path access can invalidate code or queue memory
    /// events in the middle of a run, and such an access ends its block with
    /// an exit other than a jump, so the run needs no per-block event or
    /// epoch test.
    #[inline(always)]
    fn exec_chain(
        &mut self,
        mem: &mut MemorySystem,
        id: BlockId,
        mut left: u64,
        chain: bool,
    ) -> ChainEnd<T::Exit> {
        let flags = self.arch.block_flags();
        self.chain.cur_block = id;
        if !chain {
            // SAFETY: `id` is a live block (just found or chained); its code
            // stays allocated until `collect_garbage`, which runs only in
            // `run` between chains, never while this reference is in use.
            let code = unsafe { &*self.blocks.code(id) };
            // One block: a budget no larger than it keeps its code from
            // entering another.
            left = left.min(T::insn_count(code));
        }
        // Code relies on the bound (see `ChainState::MAX_LEFT`).
        let left = left.min(ChainState::MAX_LEFT);
        self.chain.left = left;
        self.chain.settled_left = left;
        let exit = loop {
            self.chain.links_left = ChainState::MAX_LINKED_BLOCKS;
            // SAFETY: as above: `cur_block` is the block the last step
            // entered or the loop chose, and removed blocks keep their code
            // until `collect_garbage`.
            let code = unsafe { &*self.blocks.code(self.chain.cur_block) };
            let (next, slot) = match T::exec_block(self, mem, code) {
                BlockExit::Jump { pc, slot } => (pc, slot),
                other => break other,
            };
            if !chain || self.chain.left == 0 {
                break BlockExit::Jump { pc: next, slot };
            }
            // A chained successor the code did not enter (it is longer than
            // what is left of the budget, or the run of direct entries
            // reached its limit), else the jump cache.
            let cur = self.chain.cur_block;
            let succ = slot.and_then(|s| self.blocks.successor(cur, usize::from(s)));
            self.chain.cur_block = match succ {
                Some(s) => s,
                None => match self.blocks.lookup_jump(VirtAddr(next), flags) {
                    Some(found) => {
                        if let Some(s) = slot {
                            self.blocks.link(cur, usize::from(s), found);
                        }
                        found
                    }
                    None => break BlockExit::Jump { pc: next, slot },
                },
            };
        };
        let retired = left - self.chain.left;
        self.settle();
        ChainEnd {
            retired,
            exit,
            last: self.chain.cur_block,
            epoch: self.blocks.epoch(),
        }
    }

    /// Find (or translate) the block at `pc` for the current target state.
    fn find_block(&mut self, mem: &mut MemorySystem, pc: u64) -> Result<NextBlock, T::Fault> {
        let pc = VirtAddr(pc);
        let flags = self.arch.block_flags();
        if let Some(id) = self.blocks.lookup_jump(pc, flags) {
            return Ok(NextBlock::Cached(id));
        }
        self.arch.check_pc(pc)?;
        let phys_pc = match self.code_ram_fast(pc) {
            Some(r) => r,
            None => match self.code_location(mem, pc)?.ram {
                Some(r) => r,
                None => return Ok(NextBlock::Uncached),
            },
        };
        let key = BlockKey { phys_pc, pc, flags };
        let tlb = &self.tlb;
        let fetch_idx = self.arch.fetch_mmu_idx();
        if let Some(id) = self
            .blocks
            .lookup(key, |vpage2| tlb.code_ram_fast(fetch_idx, vpage2))
        {
            return Ok(NextBlock::Cached(id));
        }
        let block = match T::translate_block(self, mem, key)? {
            Translated::Block(b) => b,
            Translated::Uncached => return Ok(NextBlock::Uncached),
        };
        let id = self.blocks.insert(
            key,
            block.code,
            block.byte_len,
            block.terminal,
            &block.pages,
            &block.code_ranges,
        );
        self.protect_code_pages(mem, &block.pages);
        // An outside write queued during translation (a page-table update by
        // the walk) may already have removed the block: look again.
        Ok(if self.blocks.get(id).is_some() {
            NextBlock::Cached(id)
        } else {
            NextBlock::Retry
        })
    }

    /// Clear the CODE dirty bit of pages that now hold translated code, so
    /// the next store to them takes the NOTDIRTY path; on pages that already
    /// held code, tell every CPU's TLB about the bytes that hold code for the
    /// first time (their copies of the page's code bytes are stale). Apply
    /// the resulting events before anything runs.
    fn protect_code_pages(&mut self, mem: &mut MemorySystem, pages: &[RamAddr]) {
        use ferrite_memory::DirtyClient;
        let grew = self.blocks.take_grown_pages();
        for &p in pages {
            let page = RamAddr(p.0 & !(PAGE_SIZE - 1));
            if mem.ram_dirty(p, DirtyClient::Code) {
                mem.ram_reset_dirty(page, PAGE_SIZE, DirtyClient::Code);
            } else if grew.contains(&page) {
                self.hub.broadcast(MemEvent::CodeGrew { page });
            }
        }
        self.process_events();
    }
}
