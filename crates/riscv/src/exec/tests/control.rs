//! Traps, privilege changes, interrupts, wfi and counters.

use super::asm::*;
use super::*;
use crate::csr::addr::*;
use crate::csr::fields::{MIP_MSIP, MIP_MTIP, MSTATUS_MIE};
use crate::privilege::{Exception, Privilege};

#[test]
fn illegal_instruction_has_precise_epc_tval_and_instret() {
    let mut rig = Rig::new();
    rig.load(
        RAM,
        &[
            addi(1, 0, 1),
            addi(1, 1, 1),
            0xffff_ffff,
            addi(1, 1, 1),
            SPIN,
        ],
    );
    rig.run(3);
    assert_eq!(
        rig.x(1),
        2,
        "instructions after the illegal one did not run"
    );
    assert_eq!(rig.csr(MCAUSE), Exception::IllegalInstruction.code());
    assert_eq!(rig.csr(MEPC), RAM + 8);
    assert_eq!(rig.csr(MTVAL), 0xffff_ffff);
    assert_eq!(rig.cpu.pc(), HANDLER);
    assert_eq!(
        rig.cpu.stats().insns,
        2,
        "the faulting instruction does not retire"
    );
}

#[test]
fn illegal_csr_access_reports_the_instruction_bits() {
    let mut rig = Rig::new();
    let bad = csr(1, 5, 0xc00 + 0x7ff, 6); // no such CSR
    rig.program(&[NOP, bad, SPIN]);
    rig.run(5);
    assert_eq!(rig.csr(MCAUSE), Exception::IllegalInstruction.code());
    assert_eq!(rig.csr(MEPC), RAM + 4);
    assert_eq!(rig.csr(MTVAL), u64::from(bad));
}

#[test]
fn ecall_mret_round_trip_to_user_mode() {
    let mut rig = Rig::new();
    let user = RAM + 0x100;
    // PMP: allow everything for U/S (no PMP entry means U/S have no access).
    rig.set_csr(PMPADDR0, u64::MAX >> 10);
    rig.set_csr(PMPCFG0, 0x1f);
    rig.set_csr(MEPC, user);
    // mstatus.MPP = U (0) after reset.
    rig.program(&[MRET]);
    rig.load(user, &[addi(10, 0, 7), ECALL, SPIN]);
    rig.load(
        HANDLER,
        &[
            csr(2, 20, u32::from(MCAUSE), 0),
            csr(2, 21, u32::from(MEPC), 0),
            SPIN,
        ],
    );
    rig.run(10);
    assert_eq!(rig.x(10), 7);
    assert_eq!(rig.x(20), Exception::EcallFromU.code());
    assert_eq!(rig.x(21), user + 4);
    assert_eq!(rig.cpu.hart().privilege(), Privilege::Machine);
}

#[test]
fn mret_from_user_mode_is_illegal() {
    let mut rig = Rig::new();
    rig.set_csr(PMPADDR0, u64::MAX >> 10);
    rig.set_csr(PMPCFG0, 0x1f);
    rig.set_csr(MEPC, RAM + 0x200);
    rig.program(&[MRET]);
    rig.load(RAM + 0x200, &[MRET]);
    rig.run(5);
    assert_eq!(rig.csr(MCAUSE), Exception::IllegalInstruction.code());
    assert_eq!(rig.csr(MEPC), RAM + 0x200);
    assert_eq!(rig.csr(MTVAL), u64::from(MRET));
}

#[test]
fn ebreak_reports_pc() {
    let mut rig = Rig::new();
    rig.program(&[NOP, EBREAK]);
    rig.run(5);
    assert_eq!(rig.csr(MCAUSE), Exception::Breakpoint.code());
    assert_eq!(rig.csr(MEPC), RAM + 4);
    assert_eq!(rig.csr(MTVAL), RAM + 4);
}

#[test]
fn jump_into_unmapped_memory_is_an_instruction_access_fault() {
    let mut rig = Rig::new();
    rig.program(&[lui(1, 0x4000_0000), jalr(0, 1, 0x10)]);
    rig.run(5);
    assert_eq!(rig.csr(MCAUSE), Exception::InstructionAccessFault.code());
    assert_eq!(rig.csr(MEPC), 0x4000_0010);
    assert_eq!(rig.csr(MTVAL), 0x4000_0010);
    assert_eq!(rig.cpu.pc(), HANDLER);
}

#[test]
fn execution_running_off_the_end_of_ram_faults_at_the_boundary() {
    let mut rig = Rig::new();
    let last = RAM + RAM_SIZE - 4;
    rig.load(last, &[NOP]);
    rig.cpu.set_pc(last);
    rig.run(5);
    assert_eq!(rig.csr(MCAUSE), Exception::InstructionAccessFault.code());
    assert_eq!(rig.csr(MEPC), RAM + RAM_SIZE);
}

#[test]
fn interrupt_is_taken_right_after_csrw_mie() {
    let mut rig = Rig::new();
    rig.cpu.irq_pins().set(MIP_MSIP);
    rig.program(&[
        csr(2, 0, u32::from(MSTATUS), 5), // csrs mstatus, x5 (MIE)
        csr(1, 0, u32::from(MIE), 6),     // csrw mie, x6 (MSIE)
        addi(7, 0, 1),                    // must not run before the interrupt
        SPIN,
    ]);
    rig.cpu.set_xreg(5, MSTATUS_MIE);
    rig.cpu.set_xreg(6, MIP_MSIP);
    rig.run(3);
    assert_eq!(rig.x(7), 0);
    assert_eq!(rig.csr(MCAUSE), (1 << 63) | 3);
    assert_eq!(rig.csr(MEPC), RAM + 8);
    assert_eq!(rig.cpu.pc(), HANDLER);
    assert_eq!(rig.cpu.stats().interrupts, 1);
}

#[test]
fn wfi_waits_until_an_enabled_interrupt_is_pending() {
    let mut rig = Rig::new();
    // mie.MTIE set, global MIE clear: wfi still wakes, no trap is taken.
    rig.program(&[csr(1, 0, u32::from(MIE), 6), WFI, addi(7, 0, 1), SPIN]);
    rig.cpu.set_xreg(6, MIP_MTIP);
    assert_eq!(rig.run(100), RunExit::WaitingForInterrupt);
    assert!(rig.cpu.is_waiting());
    assert_eq!(rig.cpu.pc(), RAM + 8);
    assert_eq!(
        rig.run(100),
        RunExit::WaitingForInterrupt,
        "still nothing pending"
    );
    rig.cpu.irq_pins().set(MIP_MTIP);
    assert_eq!(rig.run(5), RunExit::BudgetExhausted);
    assert_eq!(rig.x(7), 1);
    assert_eq!(rig.cpu.stats().interrupts, 0);
}

#[test]
fn counters_follow_retired_instructions_and_virtual_time() {
    let mut rig = Rig::new();
    rig.program(&[
        NOP,
        NOP,
        csr(2, 10, u32::from(INSTRET), 0),
        csr(2, 11, u32::from(CYCLE), 0),
        csr(2, 12, u32::from(TIME), 0),
        SPIN,
    ]);
    rig.clock.retire(95); // another hart ran for a while
    rig.run(5);
    assert_eq!(rig.x(10), 2);
    assert_eq!(rig.x(11), 3);
    assert_eq!(rig.x(12), (95 + 4) / 10);
}

#[test]
fn runs_are_deterministic() {
    let run = || {
        let mut rig = Rig::new();
        rig.program(&[
            addi(1, 1, 3),
            m(0, 2, 1, 1),
            csr(2, 3, u32::from(TIME), 0),
            add(4, 4, 3),
            jal(0, -16),
        ]);
        rig.run(12_345);
        (
            rig.x(1),
            rig.x(2),
            rig.x(4),
            rig.cpu.pc(),
            rig.cpu.stats().insns,
        )
    };
    assert_eq!(run(), run());
}
