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

/// `bench_core_shared` keeps its kernels and their whole working set on
/// one page: every store lands beside translated code. None may invalidate
/// a block, and only the first on each slot may take the slow path.
#[test]
fn stores_beside_code_on_a_shared_page_leave_the_code_alone() {
    let mut stats = Vec::new();
    for elf in ["bench_core.elf", "bench_core_shared.elf"] {
        let config = MachineConfig::new(BoardKind::Spike)
            .with_kernel(ImageSource::File(firmware(elf)))
            .with_captured_serial(b"");
        let mut machine = ferrite_machine::Machine::new(config).expect("board builds");
        let outcome = machine
            .run(&RunLimits {
                max_insns: Some(20_000_000),
                timeout: None,
            })
            .expect("runs");
        assert_eq!(outcome, RunOutcome::InstructionLimit, "{elf}");
        stats.push(machine.stats());
    }
    let (apart, shared) = (stats[0], stats[1]);
    assert_eq!(shared.blocks_invalidated, 0, "{shared:?}");
    // Translated once (the layouts differ, so the counts may too).
    assert!(
        shared.blocks_translated < 2 * apart.blocks_translated,
        "{shared:?}"
    );
    assert!(shared.beside_code_stores > 500_000, "{shared:?}");
    assert!(
        shared.tlb_slow_accesses < apart.tlb_slow_accesses + 100,
        "{apart:?} / {shared:?}"
    );
}

/// A reboot keeps the display's back-ends: the VNC server goes on
/// listening on the port it had (a new board binding it again would find
/// it taken), and the new board's display serves it.
#[test]
fn a_reboot_keeps_the_vnc_server() {
    let mut config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::File(firmware("display_demo.elf")));
    config.pci_devices = vec![ferrite_machine::PciDeviceConfig::BochsDisplay {
        vram_size: ferrite_machine::config::DEFAULT_VGAMEM,
        edid: true,
    }];
    config.displays = vec![ferrite_display::BackendSpec::Vnc("127.0.0.1:0".into())];
    config = config.with_captured_serial(b"");
    let mut machine = ferrite_machine::Machine::new(config).expect("board");
    let before = machine.display_backends();
    assert_eq!(before.len(), 1);
    assert!(before[0].starts_with("vnc:127.0.0.1:"), "{before:?}");
    let addr = before[0].trim_start_matches("vnc:").to_string();
    machine.reboot().expect("reboot");
    assert_eq!(machine.display_backends(), before, "the same server");
    // It still accepts clients.
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_millis(20)))
        .unwrap();
    let limits = RunLimits {
        max_insns: Some(100_000),
        timeout: None,
    };
    machine.run(&limits).expect("run");
    let mut greeting = [0u8; 12];
    std::io::Read::read_exact(&mut s, &mut greeting).expect("the server greets");
    assert_eq!(&greeting, b"RFB 003.008\n");
}
