//! The `-d` tracing targets: `in_asm` once per translated block, `int` per
//! trap, `guest_errors` per bad access.
//!
//! These tests live in their own test binary, where every test captures with
//! its own subscriber: `tracing` caches each callsite's interest process-wide
//! when the callsite is first reached, and a test thread without a
//! subscriber reaching it first would cache "never" for everyone.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ferrite_memory::{GuestAddress, MemTxAttrs, MemorySystem, RegionSize};
use ferrite_riscv::{CpuConfig, RiscvCpu, RiscvCpuExt, new_cpu};
use ferrite_softmmu::VirtualClock;

const RAM: u64 = 0x8000_0000;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture(filter: &str, f: impl FnOnce()) -> String {
    let buf = Buf::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(move || out.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Interest cached while another test's subscriber was the only one:
        // recompute it with ours.
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// A hart at `RAM` running `program`, with RAM only at `RAM`.
fn hart(program: &[u32]) -> (MemorySystem, RiscvCpu) {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let ram = mem.new_ram("ram", 0x10_0000).unwrap();
    mem.add_subregion(root, RAM, ram).unwrap();
    let space = mem.new_address_space("cpu", root);
    let bytes: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.write(space, GuestAddress(RAM), &bytes, MemTxAttrs::default())
        .unwrap();
    let mut cpu = new_cpu(CpuConfig::default(), &mut mem, space, VirtualClock::new(10));
    cpu.reset(RAM);
    (mem, cpu)
}

const ADDI_RA_RA_1: u32 = 0x0010_8093;
const BNE_RA_SP_MINUS_4: u32 = 0xfe20_9ee3;
const LD_T0_0_RA: u32 = 0x0000_b283;
const SPIN: u32 = 0x0000_006f;

#[test]
fn in_asm_logs_each_block_once_with_disassembly() {
    let log = capture("in_asm=trace", || {
        let (mut mem, mut cpu) = hart(&[ADDI_RA_RA_1, BNE_RA_SP_MINUS_4, SPIN]);
        cpu.set_xreg(2, 100);
        cpu.run(&mut mem, 1000);
        assert_eq!(cpu.xreg(1), 100);
    });
    assert_eq!(log.matches("IN:").count(), 2, "{log}");
    assert_eq!(log.matches("Priv: 3; Virt: 0").count(), 2, "{log}");
    assert_eq!(
        log.matches("0x0000000080000000:  00108093          addi                    ra, ra, 1")
            .count(),
        1,
        "{log}"
    );
    // The branch's absolute target (back to the addi).
    assert!(log.contains("# 0x80000000"), "{log}");
}

#[test]
fn int_and_guest_errors_targets() {
    let log = capture("int=trace,guest_errors=trace", || {
        let (mut mem, mut cpu) = hart(&[LD_T0_0_RA, SPIN]);
        cpu.set_xreg(1, 0x4000_0000);
        cpu.run(&mut mem, 5);
    });
    assert!(
        log.contains("exception 5 (load access fault) at pc 0x80000000, tval 0x40000000"),
        "{log}"
    );
    assert!(log.contains("guest_errors"), "{log}");
}
