//! One run of the debugger-cost loop of `benches/watchpoint.rs`, for
//! counting host instructions with cachegrind (which a timed benchmark
//! cannot do deterministically):
//!
//! ```text
//! cargo build --release -p ferrite-machine --example debug_cost
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/debug_cost MODE
//! ```
//!
//! MODE: `none`, `watch-elsewhere`, `watch-stored-page`, `break-elsewhere`.
//! Runs 20 million guest instructions.

use ferrite_machine::debug::{WatchKind, Watchpoint};
use ferrite_machine::{BoardKind, DebugEvent, ImageSource, Machine, MachineConfig, RunLimits};

/// See `benches/watchpoint.rs`.
const PROGRAM: [u32; 6] = [
    0x0001_0297,
    0x0002_0317,
    0x00a2_b423,
    0xfea3_3e23,
    0x0015_0513,
    0xff5f_f06f,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "none".into());
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "stores.bin".into(),
            bytes: PROGRAM.iter().flat_map(|w| w.to_le_bytes()).collect(),
        })
        .with_captured_serial(b"");
    let mut m = Machine::new(config)?;
    let watch = |addr| Watchpoint {
        addr,
        len: 8,
        kind: WatchKind::Write,
    };
    match mode.as_str() {
        "none" => {}
        "watch-elsewhere" => m.insert_watchpoint(watch(0x8003_0000)),
        "watch-stored-page" => m.insert_watchpoint(watch(0x8001_0000)),
        "break-elsewhere" => m.insert_breakpoint(0x8000_1000),
        other => return Err(format!("unknown mode `{other}`").into()),
    }
    let limits = RunLimits {
        max_insns: Some(20_000_000),
        timeout: None,
    };
    let ev = m.debug_run(&limits, None)?;
    if !matches!(ev, DebugEvent::Ended(_)) {
        return Err(format!("unexpected {ev:?}").into());
    }
    println!("{mode}: {} guest instructions", m.stats().insns);
    Ok(())
}
