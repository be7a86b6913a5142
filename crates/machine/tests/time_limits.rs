//! Timers at the end of time: a guest that arms a timer for 2^64 - 1 and
//! waits sleeps for ever, as on QEMU. With nothing else that could wake it,
//! the run ends at once with the "every hart waits" outcome: it neither
//! spins the host nor fires the timer by jumping time to the end of its
//! range.

use std::time::{Duration, Instant};

use ferrite_machine::{BoardKind, ImageSource, Machine, MachineConfig, RunLimits, RunOutcome};
use ferrite_memory::{GuestAddress, MemTxAttrs};

mod common;
use common::*;

const CLINT_MTIMECMP0: u64 = 0x200_4000;
const CLINT_MTIME: u64 = 0x200_bff8;
const RTC: u64 = 0x10_1000;
const CSR_MIE: u32 = 0x304;
const CSR_MENVCFG: u32 = 0x30a;
const CSR_STIMECMP: u32 = 0x14d;
/// Runs `program` as a raw M-mode kernel on virt (no firmware) with a
/// generous host time-out; returns the outcome, the host time taken, and the
/// machine.
fn run(program: &[u32]) -> (RunOutcome, Duration, Machine) {
    let bytes: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "kernel.bin".into(),
            bytes,
        })
        .with_captured_serial(b"");
    let mut m = Machine::new(config).unwrap();
    let start = Instant::now();
    let outcome = m
        .run(&RunLimits {
            max_insns: None,
            timeout: Some(Duration::from_secs(20)),
        })
        .unwrap();
    (outcome, start.elapsed(), m)
}

fn read_u64(m: &mut Machine, addr: u64) -> u64 {
    let (mem, space) = m.memory();
    let mut b = [0u8; 8];
    mem.read(space, GuestAddress(addr), &mut b, MemTxAttrs::default())
        .unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn mtimecmp_at_the_end_of_time_never_fires() {
    let (outcome, took, mut m) = run(&[
        lui(T0, CLINT_MTIMECMP0 as u32 >> 12),
        addi(T1, 0, -1),
        store(3, T1, T0, 0), // mtimecmp[0] = 2^64 - 1
        addi(T2, 0, 0x80),
        csrrs(CSR_MIE, T2), // MTIE
        WFI,
        BACK,
    ]);
    assert_eq!(outcome, RunOutcome::Stuck);
    assert!(took < Duration::from_secs(5), "the run spun for {took:?}");
    let mtime = read_u64(&mut m, CLINT_MTIME);
    assert!(mtime < 1_000_000, "mtime jumped to {mtime:#x}");
}

#[test]
fn an_rtc_alarm_at_the_end_of_time_never_fires() {
    let (outcome, took, _) = run(&[
        lui(T0, RTC as u32 >> 12),
        addi(T1, 0, -1),
        store(2, T1, T0, 0x0c), // alarm high
        store(2, T1, T0, 0x08), // alarm low: armed for 2^64 - 1 ns
        addi(T2, 0, 1),
        store(2, T2, T0, 0x10), // interrupt enabled
        lui(T2, 1),
        addi(T2, T2, -2048), // 0x800: MEIE
        csrrs(CSR_MIE, T2),
        WFI,
        BACK,
    ]);
    assert_eq!(outcome, RunOutcome::Stuck);
    assert!(took < Duration::from_secs(5), "the run spun for {took:?}");
}

#[test]
fn stimecmp_at_the_end_of_time_never_fires() {
    let (outcome, took, _) = run(&[
        addi(T0, 0, 1),
        slli(T0, T0, 63),
        csrrs(CSR_MENVCFG, T0), // STCE
        addi(T1, 0, -1),
        csrrw(CSR_STIMECMP, T1),
        addi(T2, 0, 0x20),
        csrrs(CSR_MIE, T2), // STIE
        WFI,
        BACK,
    ]);
    assert_eq!(outcome, RunOutcome::Stuck);
    assert!(took < Duration::from_secs(5), "the run spun for {took:?}");
}

#[test]
fn a_timer_centuries_ahead_is_never_as_on_qemu() {
    // mtimecmp = 2^62 ticks (about 14,600 years at 10 MHz): past the
    // horizon of QEMU's timers, so no deadline.
    let (outcome, took, mut m) = run(&[
        lui(T0, CLINT_MTIMECMP0 as u32 >> 12),
        addi(T1, 0, 1),
        slli(T1, T1, 62),
        store(3, T1, T0, 0),
        addi(T2, 0, 0x80),
        csrrs(CSR_MIE, T2),
        WFI,
        BACK,
    ]);
    assert_eq!(outcome, RunOutcome::Stuck);
    assert!(took < Duration::from_secs(5), "the run spun for {took:?}");
    assert!(read_u64(&mut m, CLINT_MTIME) < 1_000_000);
}

#[test]
fn an_ordinary_timer_still_wakes_the_hart() {
    // mtimecmp = mtime + 1000 ticks, then wfi: the timer fires, the hart
    // traps to mtvec = 0 (unmapped) and the trap loop keeps it busy until
    // the instruction limit.
    let bytes = [
        lui(T0, CLINT_MTIMECMP0 as u32 >> 12),
        addi(T1, 0, 1000),
        store(3, T1, T0, 0),
        addi(T2, 0, 0x80),
        csrrs(CSR_MIE, T2),
        WFI,
        BACK,
    ];
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "kernel.bin".into(),
            bytes: bytes.iter().flat_map(|w| w.to_le_bytes()).collect(),
        })
        .with_captured_serial(b"");
    let mut m = Machine::new(config).unwrap();
    let outcome = m
        .run(&RunLimits {
            max_insns: Some(100_000),
            timeout: Some(Duration::from_secs(20)),
        })
        .unwrap();
    assert_eq!(outcome, RunOutcome::InstructionLimit);
    assert!(read_u64(&mut m, CLINT_MTIME) >= 1000);
}

#[test]
fn a_timeout_past_what_the_host_clock_holds_is_no_limit() {
    // The library never panics on a huge time-out: it is no deadline.
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "kernel.bin".into(),
            bytes: [WFI, BACK].iter().flat_map(|w| w.to_le_bytes()).collect(),
        })
        .with_captured_serial(b"");
    let mut m = Machine::new(config).unwrap();
    let outcome = m
        .run(&RunLimits {
            max_insns: Some(1000),
            timeout: Some(Duration::MAX),
        })
        .unwrap();
    assert_eq!(outcome, RunOutcome::Stuck);
}
