//! How long building a board and running a small guest takes, in process:
//! the cost `ferrite suite` pays per test.
//!
//! `cargo run --release -p ferrite-machine --example setup_cost -- ELF [N] [spike|virt]`

use std::time::Instant;

use ferrite_machine::{BoardKind, ImageSource, Machine, MachineConfig, RunLimits};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(elf) = args.next() else {
        eprintln!("usage: setup_cost ELF [N] [spike|virt]");
        std::process::exit(2);
    };
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let board: BoardKind = match args.next().unwrap_or_else(|| "spike".into()).parse() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let bytes = match std::fs::read(&elf) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {elf}: {e}");
            std::process::exit(2);
        }
    };
    let mut build = 0.0;
    let mut run = 0.0;
    let mut insns = 0;
    for _ in 0..n {
        let t0 = Instant::now();
        let config = MachineConfig::new(board)
            .with_kernel(ImageSource::Bytes {
                name: elf.clone(),
                bytes: bytes.clone(),
            })
            .with_captured_serial(b"");
        let mut machine = match Machine::new(config) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let t1 = Instant::now();
        let _ = machine.run(&RunLimits {
            max_insns: Some(100_000_000),
            timeout: None,
        });
        insns = machine.stats().insns;
        drop(machine);
        let t2 = Instant::now();
        build += (t1 - t0).as_secs_f64();
        run += (t2 - t1).as_secs_f64();
    }
    let n = f64::from(n);
    println!(
        "build {:.1} us, run+drop {:.1} us ({insns} instructions), {:.0} guests/s on one thread",
        build / n * 1e6,
        run / n * 1e6,
        n / (build + run)
    );
}
