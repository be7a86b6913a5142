//! The harts the boards run: `ferrite_riscv`'s [`RiscvCpu`] behind [`Hart`].

use std::rc::Rc;

use ferrite_memory::{AddressSpaceId, MemorySystem};
use ferrite_riscv::HartIrqPins;
use ferrite_riscv::cpu::{CpuConfig, RiscvCpu, RiscvCpuExt, RunExit, new_cpu};
use ferrite_softmmu::VirtualClock;

use ferrite_softmmu::tlb::MappedSlot;
use ferrite_softmmu::{ArchState, CpuStats, DebugStop, Target, Watchpoint};

use crate::debug::HartDebug;
use crate::error::MachineError;
use crate::hart::{Hart, HartExit, HartStats};

/// Creates the hart `config` describes in an address space of its own,
/// `cpu-memory-N`, rooted where `system` is (so it shares the system's flat
/// view, as each QEMU CPU's address space does), chaining blocks or not.
pub(crate) fn new_hart(
    mem: &mut MemorySystem,
    system: AddressSpaceId,
    clock: Rc<VirtualClock>,
    config: CpuConfig,
    chain_blocks: bool,
) -> Result<Box<dyn Hart>, MachineError> {
    let root = mem.address_space_root(system)?;
    let space = mem.new_address_space(&format!("cpu-memory-{}", config.hart_id), root);
    let mut cpu = new_cpu(config, mem, space, clock);
    cpu.set_chaining(chain_blocks);
    Ok(Box::new(cpu))
}

/// The exit of an engine run as the board sees it.
fn hart_exit(exit: RunExit) -> HartExit {
    match exit {
        RunExit::BudgetExhausted => HartExit::BudgetExhausted,
        RunExit::WaitingForInterrupt => HartExit::WaitingForInterrupt,
        RunExit::SliceEndRequested => HartExit::SliceEnded,
        RunExit::NoProgress => HartExit::TrapLoop,
        RunExit::DebugStop => HartExit::DebugStop,
    }
}

impl HartDebug for RiscvCpu {
    fn state(&self) -> &dyn ArchState {
        &self.arch
    }

    fn state_mut(&mut self) -> &mut dyn ArchState {
        &mut self.arch
    }

    fn state_changed(&mut self) {
        self.flush_tlb();
    }

    fn insert_breakpoint(&mut self, pc: u64) {
        RiscvCpu::insert_breakpoint(self, pc);
    }

    fn remove_breakpoint(&mut self, pc: u64) -> bool {
        RiscvCpu::remove_breakpoint(self, pc)
    }

    fn insert_watchpoint(&mut self, wp: Watchpoint) {
        RiscvCpu::insert_watchpoint(self, wp);
    }

    fn remove_watchpoint(&mut self, wp: Watchpoint) -> bool {
        RiscvCpu::remove_watchpoint(self, wp)
    }

    fn resume_from_breakpoint(&mut self) {
        RiscvCpu::resume_from_breakpoint(self);
    }

    fn step(&mut self, mem: &mut MemorySystem) -> HartExit {
        hart_exit(RiscvCpu::step(self, mem))
    }

    fn take_stop(&mut self) -> Option<DebugStop> {
        self.take_debug_stop()
    }

    fn translate(&self, mem: &mut MemorySystem, vaddr: u64) -> Option<u64> {
        self.debug_translate(mem, vaddr)
    }

    fn control_registers(&self) -> Vec<(u16, String)> {
        (0..4096u16)
            .filter(|&n| self.arch.read_control(n).is_some())
            .map(|n| {
                let name = ferrite_riscv::disasm::csr_name(n)
                    .map_or_else(|| format!("csr{n:03x}"), str::to_string);
                (n, name)
            })
            .collect()
    }

    fn register_dump(&self) -> String {
        self.arch.log_state()
    }

    fn tlb_slots(&self) -> Vec<MappedSlot> {
        self.tlb.mapped_slots()
    }

    fn engine_stats(&self) -> (CpuStats, usize) {
        (RiscvCpu::engine_stats(self), self.blocks.len())
    }

    fn disassemble(&self, bytes: &[u8], pc: u64) -> Option<(usize, String)> {
        let lo = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]);
        let (raw, len) = if lo & 3 == 3 {
            let hi = u16::from_le_bytes([*bytes.get(2)?, *bytes.get(3)?]);
            (u32::from(lo) | u32::from(hi) << 16, 4)
        } else {
            (u32::from(lo), 2)
        };
        let text = match ferrite_riscv::decode::decode(raw) {
            Ok(insn) => ferrite_riscv::disasm::disassemble(&insn, pc),
            Err(_) => format!(".insn {len}, {raw:#x}"),
        };
        Some((len, text))
    }
}

impl Hart for RiscvCpu {
    fn irq_pins(&self) -> HartIrqPins {
        RiscvCpuExt::irq_pins(self)
    }

    fn reset(&mut self, pc: u64) {
        RiscvCpuExt::reset(self, pc);
    }

    fn run(&mut self, mem: &mut MemorySystem, budget: u64) -> HartExit {
        hart_exit(RiscvCpu::run(self, mem, budget))
    }

    fn debug(&mut self) -> Option<&mut dyn HartDebug> {
        Some(self)
    }

    fn debug_ref(&self) -> Option<&dyn HartDebug> {
        Some(self)
    }

    fn timer_deadline(&self) -> Option<u64> {
        self.next_timer_deadline()
    }

    fn set_trace(&mut self, trace: ferrite_riscv::Trace) {
        RiscvCpuExt::set_trace(self, Some(trace));
    }

    fn trap_loop(&self) -> Option<String> {
        self.arch.trap_loop().map(|(cause, pc)| {
            format!(
                "exception {} ({cause}) at pc {pc:#x}, over and over",
                cause.code()
            )
        })
    }

    fn set_profiling(&mut self, on: bool) {
        RiscvCpu::set_profiling(self, on);
    }

    fn block_profile(&self) -> Vec<ferrite_softmmu::BlockProfile> {
        RiscvCpu::block_profile(self)
    }

    fn stats(&self) -> HartStats {
        let s = RiscvCpuExt::stats(self);
        HartStats {
            insns: s.insns,
            blocks_translated: s.blocks_translated,
            tlb_fills: s.tlb_fills,
            tlb_flushes: s.tlb_flushes,
            blocks_invalidated: s.blocks_invalidated,
            tlb_slow_accesses: s.tlb_slow_accesses,
            beside_code_stores: s.beside_code_stores,
        }
    }
}
