//! The input-wait rule: a guest that polls an empty UART receiver with no
//! input able to come ends as `InputExhausted` (exit status 121) once it has
//! waited `input_wait` ticks without printing; a guest that looked at the
//! UART once and then computes silently does not.

use ferrite_machine::{BoardKind, ImageSource, Machine, MachineConfig, RunLimits, RunOutcome};

mod common;
use common::*;

const UART: u32 = 0x10000; // 0x10000000 >> 12
const LSR: i32 = 5;
const RBR: i32 = 0;

fn machine(program: &[u32], input: &[u8], input_wait: Option<u64>) -> Machine {
    let bytes: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "kernel.bin".into(),
            bytes,
        })
        .with_captured_serial(input);
    config.input_wait = input_wait;
    Machine::new(config).expect("board builds")
}

const LIMITS: RunLimits = RunLimits {
    max_insns: Some(5_000_000),
    timeout: None,
};

/// Polls LSR until a byte is there, reads it, and polls again.
fn poll_loop() -> Vec<u32> {
    vec![
        lui(T0, UART),
        lbu(T1, T0, LSR), // poll:
        andi(T1, T1, 1),
        beqz(T1, -8),
        lbu(T2, T0, RBR),
        beqz(0, -16), // back to poll
    ]
}

#[test]
fn a_polling_guest_with_no_input_ends_as_input_exhausted() {
    let mut m = machine(&poll_loop(), b"", Some(100_000));
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InputExhausted);
    // 100,000 ticks at 10 instructions a tick, give or take a round.
    let insns = m.stats().insns;
    assert!((1_000_000..1_100_000).contains(&insns), "{insns}");
    assert_eq!(RunOutcome::InputExhausted.exit_status(), 121);
}

#[test]
fn without_the_limit_a_polling_guest_runs_on() {
    let mut m = machine(&poll_loop(), b"", None);
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InstructionLimit);
}

#[test]
fn a_silent_computation_after_one_look_is_not_waiting() {
    let program = [
        lui(T0, UART),
        lbu(T1, T0, LSR), // one look, as a board probe does
        addi(T2, T2, 1),
        BACK,
    ];
    let mut m = machine(&program, b"", Some(100_000));
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InstructionLimit);
}

#[test]
fn the_end_is_the_same_on_every_run() {
    let counts: Vec<u64> = (0..3)
        .map(|_| {
            let mut m = machine(&poll_loop(), b"xy", Some(50_000));
            assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InputExhausted);
            m.stats().insns
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}
