//! A hart whose trap vector itself faults is caught in a trap loop: the run
//! ends with `RunExit::NoProgress` after `TRAP_LOOP_LIMIT` repeats instead
//! of spinning until the budget. Deliberate loops around `ecall` are not.

use super::asm::*;
use super::*;
use crate::cpu::TRAP_LOOP_LIMIT;
use crate::privilege::Exception;

#[test]
fn a_trap_vector_that_faults_is_a_trap_loop() {
    let mut rig = Rig::new();
    // mtvec points at unmapped space; the program's first word is illegal.
    rig.set_csr(crate::csr::addr::MTVEC, 0x4000_0000);
    rig.load(RAM, &[0]);
    let exit = rig.run(10_000_000);
    assert_eq!(exit, RunExit::NoProgress);
    let s = rig.cpu.stats();
    assert_eq!(s.insns, 0, "nothing retired");
    assert!(
        s.exceptions <= u64::from(TRAP_LOOP_LIMIT) + 2,
        "stopped after {} exceptions",
        s.exceptions
    );
    assert_eq!(
        rig.cpu.arch.trap_loop(),
        Some((Exception::InstructionAccessFault, 0x4000_0000))
    );
}

#[test]
fn a_handler_that_retires_instructions_is_not_a_trap_loop() {
    // The handler (a spin at HANDLER) retires instructions: an ordinary
    // fault, then the budget runs out.
    let mut rig = Rig::new();
    rig.load(RAM, &[0]);
    assert_eq!(rig.run(100_000), RunExit::BudgetExhausted);
    assert_eq!(rig.cpu.arch.trap_loop(), None);
}

#[test]
fn a_loop_of_ecalls_is_the_program_s_own_choice() {
    // mtvec is the ecall itself: every ecall traps straight back to it with
    // nothing retired, which is a loop the program chose.
    let mut rig = Rig::new();
    rig.set_csr(crate::csr::addr::MTVEC, RAM);
    rig.program(&[ECALL]);
    assert_eq!(rig.run(50_000), RunExit::BudgetExhausted);
    assert_eq!(rig.cpu.arch.trap_loop(), None);
    assert!(rig.cpu.stats().exceptions > u64::from(TRAP_LOOP_LIMIT));
}
