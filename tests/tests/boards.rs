//! Board behaviour beyond the firmware manifest: the HTIF system-call
//! proxy, determinism of multi-hart runs, the boot protocol's registers.

use std::path::PathBuf;

use ferrite_machine::{BoardKind, ImageSource, MachineConfig, RunLimits, RunOutcome};
use ferrite_tests::{FIRMWARE_MAX_INSNS, GuestRun, run_captured};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn firmware(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../firmware/bin")
        .join(name)
}

fn run(board: BoardKind, elf: PathBuf, harts: u32) -> GuestRun {
    let mut config = MachineConfig::new(board).with_kernel(ImageSource::File(elf));
    config.harts = harts;
    run_captured(
        config,
        b"",
        RunLimits {
            max_insns: Some(FIRMWARE_MAX_INSNS),
            timeout: None,
        },
    )
    .expect("board builds")
}

#[test]
fn spike_serves_write_and_exit_system_calls() {
    let r = run(BoardKind::Spike, fixture("htif_syscall.elf"), 1);
    assert_eq!(r.output, "syscall proxy says hi\n");
    assert_eq!(r.outcome, RunOutcome::Exited(7), "{r:?}");
}

#[test]
fn two_hart_runs_are_deterministic() {
    let a = run(BoardKind::Virt, firmware("dev_clint_smp.elf"), 2);
    let b = run(BoardKind::Virt, firmware("dev_clint_smp.elf"), 2);
    assert_eq!(a.outcome, RunOutcome::Exited(0), "{}", a.output);
    assert_eq!(a.output, b.output);
    assert_eq!(a.insns, b.insns, "same instruction count on every run");
}

#[test]
fn spike_and_virt_agree_on_hello() {
    let v = run(BoardKind::Virt, firmware("hello.elf"), 1);
    let s = run(BoardKind::Spike, firmware("hello.elf"), 1);
    assert_eq!(v.outcome, RunOutcome::Exited(0));
    assert_eq!(s.outcome, RunOutcome::Exited(0));
    assert_eq!(v.output, s.output);
}
