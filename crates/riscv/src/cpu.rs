//! The RISC-V target of the engine: [`Riscv`] is a hart's state as
//! [`ferrite_softmmu::Cpu`] runs it, and [`RiscvCpu`] the CPU it makes.
//!
//! The engine (`ferrite-softmmu`) owns the TLB, the block cache, the memory
//! events and the execution loop; this module supplies what is RISC-V: the
//! TLB fill (page walk and PMP), block translation ([`crate::block_builder`]),
//! threaded-code execution ([`crate::exec`]), traps, interrupts, `wfi`, and
//! the architectural state for debuggers and snapshots ([`ArchState`]).
//!
//! # API
//!
//! ```text
//! new_cpu(config: CpuConfig, mem: &mut MemorySystem, space: AddressSpaceId, clock: Rc<VirtualClock>) -> RiscvCpu
//! RiscvCpu::run(&mut self, mem: &mut MemorySystem, max_insns: u64) -> RunExit     // the engine's loop
//! RiscvCpuExt (on RiscvCpu): reset, xreg/set_xreg, pc/set_pc, hart/hart_mut, irq_pins,
//!     is_waiting, next_timer_deadline, stats
//! ```
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

use ferrite_memory::{
    AddressSpaceId, GuestAddress, GuestBytes, MemTxAttrs, MemTxError, MemorySystem, SpaceBytes,
};
use ferrite_softmmu::tlb::{MmuAccess, PageMapping, Prot};
use ferrite_softmmu::{
    ArchState, BlockExit, BlockKey, Cpu, Finish, MmuIdx, StateError, Target, Translated, VirtAddr,
    VirtualClock,
};

pub use ferrite_softmmu::RunExit;

use crate::csr::fields::MSTATUS_SUM;
use crate::csr::{CsrContext, HartIrqPins};
use crate::exec::Exit;
use crate::exec::memory::access_type;
use crate::exec::threaded::Slot;
use crate::hart::Hart;
use crate::interrupt::pending_interrupt;
use crate::isa::Isa;
use crate::mmu::{effective_privilege, translate_vaddr};
use crate::pmp::pmp_check;
use crate::privilege::{AccessType, Exception, Privilege, Trap, TrapCause};
use crate::trace::Trace;
use crate::trap::take_trap;

/// MMU index of U-mode accesses.
pub const MMU_IDX_U: MmuIdx = MmuIdx(0);
/// MMU index of S-mode accesses (and all S-mode fetches).
pub const MMU_IDX_S: MmuIdx = MmuIdx(1);
/// MMU index of S-mode loads and stores with `mstatus.SUM` set.
pub const MMU_IDX_S_SUM: MmuIdx = MmuIdx(2);
/// MMU index of M-mode accesses.
pub const MMU_IDX_M: MmuIdx = MmuIdx(3);

/// How to build a hart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuConfig {
    /// The value of `mhartid`.
    pub hart_id: u64,
    /// The extensions the hart implements (everything by default).
    pub isa: Isa,
    /// The value of `marchid` (0: not implemented).
    pub marchid: u64,
    /// Translate one instruction per block (QEMU's `one-insn-per-tb`), so
    /// per-block logs (`-d in_asm,exec,cpu`) show each instruction.
    pub one_insn_per_block: bool,
}

/// Execution statistics of a hart.
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
    /// Stores to pages holding translated code that left the code alone
    /// and took no slow path.
    pub beside_code_stores: u64,
    /// Exceptions taken.
    pub exceptions: u64,
    /// Interrupts taken.
    pub interrupts: u64,
}

/// A RISC-V hart as the engine runs it.
pub type RiscvCpu = Cpu<Riscv>;

/// The RISC-V target's state: the hart's architecture plus what its
/// threaded code keeps between handlers. See the [module documentation](self).
pub struct Riscv {
    pub(crate) hart: Hart,
    pub(crate) clock: Rc<VirtualClock>,
    /// The hart's address space (page walks read it).
    pub(crate) space: AddressSpaceId,
    /// TLB mode of instruction fetches.
    pub(crate) fetch_idx: MmuIdx,
    /// TLB mode of loads and stores.
    pub(crate) data_idx: MmuIdx,
    /// How the last block ended when that was not a jump (written by the
    /// handlers, see `exec::STEP_OTHER`).
    pub(crate) exit: Exit,
    /// Reused buffer for running part of a block (see `exec::exec_partial`).
    pub(crate) scratch: Vec<Slot>,
    pub(crate) exceptions: u64,
    pub(crate) interrupts: u64,
    /// The last fault taken and how many times in a row it came back with
    /// no instruction retired in between (see [`TRAP_LOOP_LIMIT`]).
    pub(crate) last_fault: Option<RepeatedFault>,
    /// The instruction and commit log, when one is on: the hart then runs
    /// one instruction at a time ([`crate::trace`]).
    pub(crate) trace: Option<Box<Trace>>,
    /// The most instructions a translated block holds.
    pub(crate) max_block_insns: usize,
}

/// A fault as the trap-loop detector compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RepeatedFault {
    pub(crate) cause: Exception,
    pub(crate) pc: u64,
    pub(crate) tval: u64,
    /// `instret` when it was taken.
    pub(crate) instret: u64,
    /// How many times it repeated.
    pub(crate) repeats: u32,
}

/// How many times in a row the same fault (cause, pc, tval) may be taken
/// with no instruction retiring in between before the hart counts as caught
/// in a trap loop: its trap vector itself faults, so nothing will ever
/// change. `ecall` and `ebreak` are never counted (a loop around them is a
/// program's own choice). A thousand repeats take well under a millisecond.
pub const TRAP_LOOP_LIMIT: u32 = 1000;

impl std::fmt::Debug for Riscv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Riscv")
            .field("pc", &self.hart.pc)
            .field("privilege", &self.hart.privilege)
            .finish_non_exhaustive()
    }
}

/// A hart in its reset state at pc 0, whose accesses go to `space` of
/// `mem`, counting time on `clock`.
pub fn new_cpu(
    config: CpuConfig,
    mem: &mut MemorySystem,
    space: AddressSpaceId,
    clock: Rc<VirtualClock>,
) -> RiscvCpu {
    let mut hart = Hart::with_isa(config.hart_id, 0, config.isa);
    hart.csrs.marchid = config.marchid;
    let arch = Riscv {
        hart,
        clock: Rc::clone(&clock),
        space,
        fetch_idx: MMU_IDX_M,
        data_idx: MMU_IDX_M,
        exit: Exit::Sync { pc: 0 },
        scratch: Vec::new(),
        exceptions: 0,
        interrupts: 0,
        last_fault: None,
        trace: None,
        max_block_insns: if config.one_insn_per_block {
            1
        } else {
            crate::block_builder::MAX_BLOCK_INSNS
        },
    };
    Cpu::new(arch, mem, space, clock)
}

/// What the machine, the tests and tools do with a RISC-V CPU besides
/// running it.
pub trait RiscvCpuExt {
    /// Hart reset: M-mode at `pc`, registers cleared, CSRs reset, no
    /// reservation, not waiting; the TLB is flushed. Translated blocks stay
    /// (they are kept coherent with memory independently of the hart).
    fn reset(&mut self, pc: u64);
    /// Register `x[i]`.
    fn xreg(&self, i: usize) -> u64;
    /// Set register `x[i]` (`x0` ignores it).
    fn set_xreg(&mut self, i: usize, v: u64);
    /// The pc of the next instruction.
    fn pc(&self) -> u64;
    /// Set the pc.
    fn set_pc(&mut self, pc: u64);
    /// The interrupt pins devices drive (MSIP, MTIP, MEIP, SEIP).
    fn irq_pins(&self) -> HartIrqPins;
    /// The architectural state.
    fn hart(&self) -> &Hart;
    /// The architectural state, mutably (firmware handoff, tests). Flushes
    /// the TLB and leaves `wfi` at once, since privilege or translation CSRs
    /// may change through it.
    fn hart_mut(&mut self) -> &mut Hart;
    /// Whether the hart is parked in `wfi`.
    fn is_waiting(&self) -> bool;
    /// The time (ticks) at which the Sstc comparator will raise STIP, if armed.
    fn next_timer_deadline(&self) -> Option<u64>;
    /// Execution statistics so far.
    fn stats(&self) -> CpuStats;
    /// Install (or remove) the instruction and commit log. With one, the
    /// hart runs one instruction at a time, paced as Spike runs
    /// ([`crate::trace`]).
    fn set_trace(&mut self, trace: Option<Trace>);
    /// The physical address a load by the hart at `vaddr` would reach now
    /// (the current privilege, `mstatus.MPRV` included), found as a
    /// debugger does: a page walk that sets no A or D bit and raises
    /// nothing. `None` if the load would fault.
    fn debug_translate(&self, mem: &mut MemorySystem, vaddr: u64) -> Option<u64>;
}

/// Guest bytes a debugger's page walk reads through: writes (the walk's
/// A/D updates) are dropped, so looking at memory changes nothing.
struct DebugWalkBytes<'a>(SpaceBytes<'a>);

impl GuestBytes for DebugWalkBytes<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), ferrite_memory::GuestBytesError> {
        self.0.read(addr, buf)
    }

    fn write(&mut self, _addr: u64, _data: &[u8]) -> Result<(), ferrite_memory::GuestBytesError> {
        Ok(())
    }
}

impl RiscvCpuExt for RiscvCpu {
    fn debug_translate(&self, mem: &mut MemorySystem, vaddr: u64) -> Option<u64> {
        let attrs = MemTxAttrs {
            requester_id: self.arch.hart.csrs.hart_id() as u16,
            debug: true,
            ..MemTxAttrs::default()
        };
        let mut bus = DebugWalkBytes(SpaceBytes {
            mem,
            space: self.arch.space,
            attrs,
        });
        let h = &self.arch.hart;
        translate_vaddr(&h.csrs, h.privilege, vaddr, AccessType::Load, &mut bus)
            .ok()
            .map(|t| t.paddr)
    }

    fn set_trace(&mut self, trace: Option<Trace>) {
        self.arch.trace = trace.map(Box::new);
    }

    fn reset(&mut self, pc: u64) {
        self.arch.hart.reset(pc);
        self.set_halted(false);
        self.flush_tlb();
    }

    fn xreg(&self, i: usize) -> u64 {
        self.arch.hart.xreg(i)
    }

    fn set_xreg(&mut self, i: usize, v: u64) {
        self.arch.hart.set_xreg(i, v);
    }

    fn pc(&self) -> u64 {
        self.arch.hart.pc
    }

    fn set_pc(&mut self, pc: u64) {
        self.arch.hart.pc = pc;
    }

    fn irq_pins(&self) -> HartIrqPins {
        self.arch.hart.csrs.irq_pins()
    }

    fn hart(&self) -> &Hart {
        &self.arch.hart
    }

    fn hart_mut(&mut self) -> &mut Hart {
        self.set_halted(false);
        self.flush_tlb();
        &mut self.arch.hart
    }

    fn is_waiting(&self) -> bool {
        self.is_halted()
    }

    fn next_timer_deadline(&self) -> Option<u64> {
        self.arch.hart.csrs.next_stimecmp_deadline()
    }

    fn stats(&self) -> CpuStats {
        let e = self.engine_stats();
        CpuStats {
            insns: self.arch.hart.instret,
            blocks_translated: e.blocks_translated,
            blocks_invalidated: e.blocks_invalidated,
            blocks_chained: e.blocks_chained,
            tlb_fills: e.tlb_fills,
            tlb_flushes: e.tlb_flushes,
            tlb_slow_accesses: e.tlb_slow_accesses,
            beside_code_stores: e.beside_code_stores,
            exceptions: self.arch.exceptions,
            interrupts: self.arch.interrupts,
        }
    }
}

impl Riscv {
    /// Recompute the fetch and data MMU indices from privilege and `mstatus`.
    pub(crate) fn refresh_mmu_idx(&mut self) {
        let p = self.hart.privilege;
        self.fetch_idx = mmu_idx(p, false);
        let eff = effective_privilege(&self.hart.csrs, p, AccessType::Load);
        self.data_idx = mmu_idx(eff, self.hart.csrs.mstatus() & MSTATUS_SUM != 0);
    }

    /// The CSR counter context `retired` instructions into the running block.
    pub(crate) fn csr_context(&self, retired: u64) -> CsrContext {
        let instret = self.hart.instret.wrapping_add(retired);
        CsrContext {
            instret,
            cycle: instret,
            time: self.clock.ticks_at(retired),
        }
    }

    /// The hart's trap loop, if it is caught in one: the fault that keeps
    /// coming back and its pc.
    pub fn trap_loop(&self) -> Option<(Exception, u64)> {
        self.last_fault
            .filter(|f| f.repeats >= TRAP_LOOP_LIMIT)
            .map(|f| (f.cause, f.pc))
    }

    /// Take exception `trap` raised by the instruction at `pc`; true when
    /// that makes the hart caught in a trap loop.
    pub(crate) fn raise_trap(&mut self, trap: Trap, pc: u64) -> bool {
        let caught = self.note_fault(trap, pc);
        self.exceptions += 1;
        self.trace_trap(TrapCause::Exception(trap.cause), pc, trap.tval);
        if trap.cause == Exception::IllegalInstruction {
            self.log_unimplemented(trap.tval, pc);
        }
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
        caught
    }

    /// `-d unimp`: say so when an illegal-instruction trap (its bits in
    /// `bits`) comes from something this hart does not implement, an
    /// instruction or a CSR, rather than from privilege or state.
    fn log_unimplemented(&self, bits: u64, pc: u64) {
        if !tracing::enabled!(target: "unimp", tracing::Level::INFO) {
            return;
        }
        let hart = self.hart.csrs.hart_id();
        match crate::decode::decode(bits as u32) {
            Ok(insn) if !self.hart.csrs.isa.allows(&insn) => tracing::info!(
                target: "unimp",
                "hart {hart}: {} at {pc:#x} belongs to an extension this hart lacks ({bits:#x})",
                insn.op.name()
            ),
            Ok(insn) if insn.op.is_csr() => {
                let csr = (insn.imm & 0xfff) as u16;
                if self
                    .hart
                    .csrs
                    .debug_read(csr, &self.csr_context(0))
                    .is_none()
                {
                    tracing::info!(
                        target: "unimp",
                        "hart {hart}: unimplemented CSR {csr:#05x} accessed at {pc:#x}"
                    );
                }
            }
            Ok(_) => {}
            Err(_) => tracing::info!(
                target: "unimp",
                "hart {hart}: unimplemented instruction {bits:#x} at {pc:#x}"
            ),
        }
    }

    /// Count `trap` at `pc` towards the trap-loop detector.
    fn note_fault(&mut self, trap: Trap, pc: u64) -> bool {
        if matches!(
            trap.cause,
            Exception::Breakpoint
                | Exception::EcallFromU
                | Exception::EcallFromS
                | Exception::EcallFromM
        ) {
            self.last_fault = None;
            return false;
        }
        let instret = self.hart.instret;
        let repeats = match self.last_fault {
            Some(f)
                if f.cause == trap.cause
                    && f.pc == pc
                    && f.tval == trap.tval
                    && f.instret == instret =>
            {
                f.repeats.saturating_add(1)
            }
            _ => 0,
        };
        self.last_fault = Some(RepeatedFault {
            cause: trap.cause,
            pc,
            tval: trap.tval,
            instret,
            repeats,
        });
        repeats >= TRAP_LOOP_LIMIT
    }
}

impl Target for Riscv {
    type Code = Slot;
    type Fault = Trap;
    type Exit = Exit;

    fn tlb_fill(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        _mmu_idx: MmuIdx,
    ) -> Result<PageMapping, Trap> {
        let vaddr = vaddr.0;
        let at = access_type(access);
        let attrs = MemTxAttrs {
            requester_id: self.hart.csrs.hart_id() as u16,
            ..MemTxAttrs::default()
        };
        let mut bus = SpaceBytes {
            mem,
            space: self.space,
            attrs,
        };
        let t = translate_vaddr(&self.hart.csrs, self.hart.privilege, vaddr, at, &mut bus)
            .map_err(|e| Trap::new(e, vaddr))?;
        if !t.cacheable_page
            && !pmp_check(
                &self.hart.csrs,
                t.pmp_privilege,
                t.paddr,
                u64::from(size),
                at,
            )
        {
            return Err(Trap::new(at.access_fault(), vaddr));
        }
        let mut prot = Prot::NONE;
        if t.readable {
            prot = prot.union(Prot::READ);
        }
        if t.writable {
            prot = prot.union(Prot::WRITE);
        }
        if t.executable {
            prot = prot.union(Prot::EXEC);
        }
        if !prot.contains(access.prot()) {
            // The walk succeeded for this access, so it is allowed; make sure
            // the slot says so (e.g. a store to a page whose D bit was just set).
            prot = prot.union(access.prot());
        }
        Ok(PageMapping {
            vaddr: VirtAddr(vaddr),
            paddr: GuestAddress(t.paddr),
            prot,
            page_size_log2: t.page_size_log2,
            attrs,
            cacheable: t.cacheable_page,
        })
    }

    fn bus_fault(
        &mut self,
        vaddr: VirtAddr,
        _size: u32,
        access: MmuAccess,
        _error: MemTxError,
    ) -> Trap {
        // The engine has logged it (`guest_errors`).
        Trap::new(access_type(access).access_fault(), vaddr.0)
    }

    #[inline(always)]
    fn fetch_mmu_idx(&self) -> MmuIdx {
        self.fetch_idx
    }

    #[inline(always)]
    fn block_flags(&self) -> u32 {
        u32::from(self.fetch_idx.0)
    }

    fn mmu_state_changed(&mut self) {
        self.refresh_mmu_idx();
    }

    #[inline(always)]
    fn irq_inputs(&self) -> u64 {
        self.hart.csrs.irq_pins().get()
    }

    fn check_pc(&self, pc: VirtAddr) -> Result<(), Trap> {
        if pc.0 & 1 != 0 {
            return Err(Trap::new(Exception::InstructionMisaligned, pc.0));
        }
        Ok(())
    }

    fn translate_block(
        cpu: &mut RiscvCpu,
        mem: &mut MemorySystem,
        key: BlockKey,
    ) -> Result<Translated<Slot>, Trap> {
        crate::block_builder::translate_block(cpu, mem, key)
    }

    #[inline(always)]
    fn insn_count(code: &[Slot]) -> u64 {
        // The last slot is the sentinel.
        (code.len() - 1) as u64
    }

    #[inline(always)]
    fn exec_block(cpu: &mut RiscvCpu, mem: &mut MemorySystem, code: &[Slot]) -> BlockExit<Exit> {
        crate::exec::exec_block(cpu, mem, code)
    }

    fn exec_uncached(
        cpu: &mut RiscvCpu,
        mem: &mut MemorySystem,
        pc: u64,
    ) -> (u64, BlockExit<Exit>) {
        crate::block_builder::exec_uncached(cpu, mem, pc)
    }

    #[inline]
    fn stepped(&self) -> bool {
        self.trace.is_some()
    }

    fn begin_stepped_slice(&mut self) {
        // Spike gives up a hart's LR reservation between slices.
        self.hart.reservation = None;
    }

    fn exec_stepped(cpu: &mut RiscvCpu, mem: &mut MemorySystem, pc: u64) -> (u64, BlockExit<Exit>) {
        crate::trace::exec_stepped(cpu, mem, pc)
    }

    fn finish(cpu: &mut RiscvCpu, mem: &mut MemorySystem, exit: Exit) -> Finish {
        match exit {
            Exit::Sync { pc } => {
                cpu.arch.hart.pc = pc;
                cpu.arch.refresh_mmu_idx();
                Finish::Continue
            }
            // An access that hit a debugger's watchpoint: the instruction
            // did not run, and runs when the debugger resumes.
            Exit::Trap { pc, .. } if cpu.tlb.watch_hit_pending() => {
                cpu.tlb.note_watch_pc(pc);
                cpu.arch.hart.pc = pc;
                Finish::Continue
            }
            Exit::Trap { trap, pc } => fault_finish(cpu.arch.raise_trap(trap, pc)),
            Exit::Illegal { pc, len } => {
                let bits = instruction_bits(cpu, mem, pc, len);
                let trap = Trap::new(Exception::IllegalInstruction, bits);
                fault_finish(cpu.arch.raise_trap(trap, pc))
            }
            Exit::Wfi { pc } => {
                cpu.arch.hart.pc = pc;
                if cpu.arch.hart.csrs.wfi_wakeup() {
                    Finish::Continue
                } else {
                    Finish::Wait
                }
            }
        }
    }

    fn raise(&mut self, fault: Trap, pc: u64) -> Finish {
        fault_finish(self.raise_trap(fault, pc))
    }

    #[inline]
    fn take_interrupt(&mut self, ticks: u64) -> bool {
        let csrs = &mut self.hart.csrs;
        if csrs.sstc_enabled() {
            csrs.update_stimecmp(ticks);
        }
        if csrs.mip() & csrs.mie() == 0 {
            return false;
        }
        let Some(irq) = pending_interrupt(csrs, self.hart.privilege) else {
            return false;
        };
        self.interrupts += 1;
        let pc = self.hart.pc;
        self.trace_trap(TrapCause::Interrupt(irq), pc, 0);
        let h = &mut self.hart;
        let from = h.privilege;
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
        self.refresh_mmu_idx();
        true
    }

    fn wakeup(&mut self, ticks: u64) -> bool {
        let csrs = &mut self.hart.csrs;
        if csrs.sstc_enabled() {
            csrs.update_stimecmp(ticks);
        }
        csrs.wfi_wakeup()
    }

    #[inline]
    fn timer_deadline(&self) -> Option<u64> {
        self.hart.csrs.next_stimecmp_deadline()
    }

    #[inline(always)]
    fn retire(&mut self, n: u64) {
        self.hart.instret += n;
    }

    fn log_state(&self) -> String {
        use crate::csr::addr;
        use std::fmt::Write;
        let h = &self.hart;
        let mut s = format!("pc       {:016x} priv {}\n", h.pc, h.privilege);
        // The CSRs QEMU's RISC-V register dump shows, in its order.
        let ctx = self.csr_context(0);
        for (name, csr) in [
            ("mhartid", addr::MHARTID),
            ("mstatus", addr::MSTATUS),
            ("mip", addr::MIP),
            ("mie", addr::MIE),
            ("mideleg", addr::MIDELEG),
            ("medeleg", addr::MEDELEG),
            ("mtvec", addr::MTVEC),
            ("stvec", addr::STVEC),
            ("mepc", addr::MEPC),
            ("sepc", addr::SEPC),
            ("mcause", addr::MCAUSE),
            ("scause", addr::SCAUSE),
            ("mtval", addr::MTVAL),
            ("stval", addr::STVAL),
            ("mscratch", addr::MSCRATCH),
            ("sscratch", addr::SSCRATCH),
            ("satp", addr::SATP),
        ] {
            let value = h.csrs.debug_read(csr, &ctx).unwrap_or(0);
            let _ = writeln!(s, "{name:<8} {value:016x}");
        }
        // A register file, four to a line: `x10/a0   0000000000000000`.
        let mut file = |prefix: char, name: fn(u8) -> &'static str, regs: &[u64]| {
            for (i, value) in regs.iter().enumerate().take(32) {
                let _ = write!(s, "{prefix}{i:<2}/{:<4} {value:016x}", name(i as u8));
                s.push(if i % 4 == 3 { '\n' } else { ' ' });
            }
        };
        file('x', crate::disasm::reg_name, &h.x);
        if h.csrs.isa.has_fp() {
            file('f', crate::disasm::freg_name, &h.f);
            let fcsr = u64::from(h.csrs.frm) << 5 | u64::from(h.csrs.fflags);
            let _ = writeln!(s, "fcsr     {fcsr:016x}");
        }
        s
    }
}

impl ArchState for Riscv {
    fn cpu_index(&self) -> u64 {
        self.hart.csrs.hart_id()
    }

    fn pc(&self) -> u64 {
        self.hart.pc
    }

    fn set_pc(&mut self, pc: u64) {
        self.hart.pc = pc;
    }

    fn register_count(&self) -> usize {
        32
    }

    fn register(&self, n: usize) -> Option<u64> {
        (n < 32).then(|| self.hart.x[n])
    }

    fn set_register(&mut self, n: usize, value: u64) -> bool {
        if n >= 32 {
            return false;
        }
        self.hart.set_xreg(n, value);
        true
    }

    fn float_register_count(&self) -> usize {
        if self.hart.csrs.isa.has_fp() { 32 } else { 0 }
    }

    fn float_register(&self, n: usize) -> Option<u64> {
        (n < self.float_register_count()).then(|| self.hart.f[n])
    }

    fn set_float_register(&mut self, n: usize, bits: u64) -> bool {
        if n >= self.float_register_count() {
            return false;
        }
        self.hart.f[n] = bits;
        true
    }

    fn privilege(&self) -> u8 {
        self.hart.privilege as u8
    }

    fn set_privilege(&mut self, level: u8) -> bool {
        let p = match level {
            0 => Privilege::User,
            1 => Privilege::Supervisor,
            3 => Privilege::Machine,
            _ => return false,
        };
        self.hart.privilege = p;
        self.refresh_mmu_idx();
        true
    }

    fn read_control(&self, n: u16) -> Option<u64> {
        self.hart.csrs.debug_read(n, &self.csr_context(0))
    }

    fn write_control(&mut self, n: u16, value: u64) -> bool {
        let ctx = self.csr_context(0);
        let ok = self
            .hart
            .csrs
            .write(n, value, Privilege::Machine, &ctx)
            .is_ok();
        if ok {
            self.refresh_mmu_idx();
        }
        ok
    }

    fn save_state(&self) -> Vec<u8> {
        crate::state::save(&self.hart)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        let hart = crate::state::restore(&self.hart, bytes)?;
        self.hart = hart;
        self.refresh_mmu_idx();
        Ok(())
    }
}

/// The bits of the instruction of `len` bytes at `pc` (for `xtval` of an
/// illegal instruction), fetched again through the TLB's code path (the same
/// bytes that were decoded: translated code is kept coherent); 0 if the
/// fetch now faults.
fn instruction_bits(cpu: &mut RiscvCpu, mem: &mut MemorySystem, pc: u64, len: u8) -> u64 {
    let lo = cpu.fetch_code::<2>(mem, VirtAddr(pc)).unwrap_or(0);
    if len == 2 {
        return lo;
    }
    let hi = cpu
        .fetch_code::<2>(mem, VirtAddr(pc.wrapping_add(2)))
        .unwrap_or(0);
    lo | hi << 16
}

/// How a fault ends its block: an ordinary fault, or the end of the run
/// when the hart is caught in a trap loop.
fn fault_finish(caught_in_loop: bool) -> Finish {
    if caught_in_loop {
        Finish::NoProgress
    } else {
        Finish::Faulted
    }
}

/// The MMU index of `privilege` (with SUM for S-mode data accesses).
pub fn mmu_idx(privilege: Privilege, sum: bool) -> MmuIdx {
    match privilege {
        Privilege::User => MMU_IDX_U,
        Privilege::Supervisor if sum => MMU_IDX_S_SUM,
        Privilege::Supervisor => MMU_IDX_S,
        Privilege::Machine => MMU_IDX_M,
    }
}
