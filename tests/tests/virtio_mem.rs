//! virtio-mem on the virt board, end to end: the firmware guest
//! `virtio_mem.elf` drives the device over its virtqueue (plug, unplug,
//! state, the error answers, unplugged memory refused), then waits; the
//! host asks for more memory through the library call the monitor's
//! `qom-set` uses, and the guest plugs it and checks it.

use std::path::PathBuf;

use ferrite_machine::{
    BoardKind, ImageSource, Machine, MachineConfig, OutputPattern, RunLimits, RunOutcome,
    virtio_mem::{DEFAULT_BLOCK_SIZE, VirtioMemSpec},
};
use ferrite_tests::FIRMWARE_MAX_INSNS;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn config() -> MachineConfig {
    let elf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../firmware/bin/virtio_mem.elf");
    let mut config = MachineConfig::new(BoardKind::Virt).with_kernel(ImageSource::File(elf));
    config.maxmem = Some(config.ram_size + 4 * GIB);
    config.virtio_mem = vec![VirtioMemSpec {
        id: "vm0".into(),
        memdev: "mem0".into(),
        size: 4 * GIB,
        requested_size: 16 * MIB,
        block_size: DEFAULT_BLOCK_SIZE,
        addr: None,
    }];
    config.with_captured_serial(b"")
}

fn limits() -> RunLimits {
    RunLimits {
        max_insns: Some(FIRMWARE_MAX_INSNS),
        timeout: None,
    }
}

#[test]
fn the_guest_plugs_what_the_host_asks_for() {
    let mut config = config();
    config.stop_on_output = Some(OutputPattern::new("waiting for the host").unwrap());
    let mut machine = Machine::new(config).unwrap();
    let first = machine.run(&limits()).unwrap();
    let output = || String::from_utf8_lossy(&machine.captured_output()).into_owned();
    assert_eq!(first, RunOutcome::OutputMatched, "{}", output());
    let info = &machine.virtio_mem_info()[0];
    assert_eq!(
        info.addr, 0xc000_0000,
        "the window starts at 3 GiB, after 128 MiB of DRAM"
    );
    assert_eq!(info.plugged_size, 0, "the guest unplugged everything");
    assert!(
        machine.set_virtio_mem_requested_size("vm9", GIB).is_err(),
        "no such device"
    );
    assert!(
        machine
            .set_virtio_mem_requested_size("vm0", GIB + MIB)
            .is_err(),
        "not a multiple of the block size"
    );
    machine
        .set_virtio_mem_requested_size("vm0", GIB + 64 * MIB)
        .unwrap();
    let end = machine.run(&limits()).unwrap();
    let out = String::from_utf8_lossy(&machine.captured_output()).into_owned();
    assert_eq!(end, RunOutcome::Exited(0), "{out}");
    assert!(out.contains("the host asks for 1088 MiB"), "{out}");
    assert!(out.contains("plugged 1088 MiB"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    let info = &machine.virtio_mem_info()[0];
    assert_eq!(info.plugged_size, GIB + 64 * MIB);
    assert_eq!(info.memslots, (4, GIB));
    assert_eq!(info.memslots_mapped, 2, "1088 MiB spans two 1 GiB memslots");
    let stats = machine.memslot_stats().unwrap();
    assert_eq!((stats.used, stats.required, stats.limit), (2, 4, 256));
    // The memory tree shows the device-memory window and the mapped memslots.
    let mtree = machine.mtree(Default::default());
    for line in [
        "00000000c0000000-00000001bfffffff (prio 0, i/o): device-memory",
        "00000000c0000000-00000001bfffffff (prio 0, i/o): virtio-mem",
        "00000000c0000000-00000000ffffffff (prio 0, ram): alias memslot-0 @mem0 0000000000000000-000000003fffffff",
        "0000000100000000-000000013fffffff (prio 0, ram): alias memslot-1 @mem0 0000000040000000-000000007fffffff",
    ] {
        assert!(mtree.contains(line), "{line} not in\n{mtree}");
    }
    assert!(!mtree.contains("memslot-2"), "{mtree}");
}

#[test]
fn without_a_host_request_the_guest_stops_waiting() {
    let mut machine = Machine::new(config()).unwrap();
    let end = machine.run(&limits()).unwrap();
    let out = String::from_utf8_lossy(&machine.captured_output()).into_owned();
    assert_eq!(end, RunOutcome::Exited(0), "{out}");
    assert!(out.contains("no request from the host"), "{out}");
    assert!(out.contains("PASS: virtio_mem (32 checks)"), "{out}");
}

#[test]
fn runs_are_deterministic() {
    let run = || {
        let mut m = Machine::new(config()).unwrap();
        let end = m.run(&limits()).unwrap();
        (end, m.captured_output(), m.stats().insns)
    };
    assert_eq!(run(), run());
}

#[test]
fn virtio_mem_needs_a_window_that_fits() {
    let mut c = config();
    c.maxmem = None;
    let e = Machine::new(c).unwrap_err().to_string();
    assert!(e.contains("--maxmem"), "{e}");
    let mut c = config();
    c.maxmem = Some(c.ram_size + 2 * GIB);
    let e = Machine::new(c).unwrap_err().to_string();
    assert!(e.contains("virtio-mem"), "{e}");
    let mut c = config();
    c.maxmem = Some(c.ram_size / 2);
    let e = Machine::new(c).unwrap_err().to_string();
    assert!(e.contains("less than the RAM size"), "{e}");
    let mut c = config();
    c.board = BoardKind::Spike;
    let e = Machine::new(c).unwrap_err().to_string();
    assert!(e.contains("virt"), "{e}");
}
