//! What the debugger costs: a guest loop storing to two pages, run with no
//! watchpoint, with one on a third page, with one on the first page (a
//! byte the loop does not touch, so every store to that page takes the
//! slow path and none stops), and with a breakpoint the loop never reaches
//! (blocks are then not chained). Only the last two should be slower.

use criterion::{Criterion, criterion_group, criterion_main};
use ferrite_machine::debug::{WatchKind, Watchpoint};
use ferrite_machine::{BoardKind, DebugEvent, ImageSource, Machine, MachineConfig, RunLimits};

const INSNS: u64 = 2_000_000;

/// At 0x80000000: auipc t0, 0x10 (t0 = 0x80010000); auipc t1, 0x20
/// (t1 = 0x80020004); loop: sd a0, 8(t0); sd a0, -4(t1); addi a0, a0, 1;
/// j loop.
fn program() -> Vec<u8> {
    [
        0x0001_0297u32,
        0x0002_0317,
        0x00a2_b423,
        0xfea3_3e23,
        0x0015_0513,
        0xff5f_f06f,
    ]
    .iter()
    .flat_map(|w| w.to_le_bytes())
    .collect()
}

fn machine(watch: Option<u64>, breakpoint: Option<u64>) -> Machine {
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "stores.bin".into(),
            bytes: program(),
        })
        .with_captured_serial(b"");
    let mut m = Machine::new(config).expect("machine");
    if let Some(pc) = breakpoint {
        m.insert_breakpoint(pc);
    }
    if let Some(addr) = watch {
        m.insert_watchpoint(Watchpoint {
            addr,
            len: 8,
            kind: WatchKind::Write,
        });
    }
    m
}

fn run(m: &mut Machine) {
    let limits = RunLimits {
        max_insns: Some(m.stats().insns + INSNS),
        timeout: None,
    };
    let ev = m.debug_run(&limits, None).expect("run");
    assert!(matches!(ev, DebugEvent::Ended(_)), "{ev:?}");
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stores_2M_insns");
    for (name, watch, breakpoint) in [
        ("no_watchpoint", None, None),
        ("watchpoint_elsewhere", Some(0x8003_0000), None),
        ("watchpoint_on_a_stored_page", Some(0x8001_0000), None),
        ("breakpoint_elsewhere", None, Some(0x8000_1000)),
    ] {
        let mut m = machine(watch, breakpoint);
        g.bench_function(name, |b| b.iter(|| run(&mut m)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
