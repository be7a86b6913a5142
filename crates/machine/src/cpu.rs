//! The harts the boards run: `ferrite_riscv`'s CPU behind [`Hart`].

use std::rc::Rc;

use ferrite_memory::{AddressSpaceId, MemorySystem};
use ferrite_riscv::HartIrqPins;
use ferrite_softmmu::VirtualClock;

use crate::hart::{Hart, HartExit, HartStats};

/// The ISA the harts implement, as the device tree's `riscv,isa` says it.
pub const ISA_STRING: &str = "rv64imac_zicsr_zifencei_zicntr_sstc";

/// Creates hart `hart_id` running in `space`.
pub(crate) fn new_hart(
    hart_id: u64,
    _mem: &mut MemorySystem,
    _space: AddressSpaceId,
    _clock: Rc<VirtualClock>,
) -> Box<dyn Hart> {
    Box::new(PendingHart {
        _hart_id: hart_id,
        pins: HartIrqPins::new(),
    })
}

/// Stand-in until the executor is wired: waits for an interrupt forever.
struct PendingHart {
    _hart_id: u64,
    pins: HartIrqPins,
}

impl Hart for PendingHart {
    fn irq_pins(&self) -> HartIrqPins {
        self.pins.clone()
    }
    fn reset(&mut self, _pc: u64) {}
    fn run(&mut self, _mem: &mut MemorySystem, _budget: u64) -> HartExit {
        HartExit::WaitingForInterrupt
    }
    fn timer_deadline(&self) -> Option<u64> {
        None
    }
    fn stats(&self) -> HartStats {
        HartStats::default()
    }
}
