//! The harts the boards run: `ferrite_riscv`'s [`RiscvCpu`] behind [`Hart`].

use std::rc::Rc;

use ferrite_memory::{AddressSpaceId, MemorySystem};
use ferrite_riscv::HartIrqPins;
use ferrite_riscv::cpu::{CpuConfig, RiscvCpu, RiscvCpuExt, RunExit, new_cpu};
use ferrite_softmmu::VirtualClock;

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

impl Hart for RiscvCpu {
    fn irq_pins(&self) -> HartIrqPins {
        RiscvCpuExt::irq_pins(self)
    }

    fn reset(&mut self, pc: u64) {
        RiscvCpuExt::reset(self, pc);
    }

    fn run(&mut self, mem: &mut MemorySystem, budget: u64) -> HartExit {
        match RiscvCpu::run(self, mem, budget) {
            RunExit::BudgetExhausted => HartExit::BudgetExhausted,
            RunExit::WaitingForInterrupt => HartExit::WaitingForInterrupt,
            RunExit::SliceEndRequested => HartExit::SliceEnded,
            RunExit::NoProgress => HartExit::TrapLoop,
        }
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

    fn stats(&self) -> HartStats {
        let s = RiscvCpuExt::stats(self);
        HartStats {
            insns: s.insns,
            blocks_translated: s.blocks_translated,
            tlb_fills: s.tlb_fills,
            tlb_flushes: s.tlb_flushes,
        }
    }
}
