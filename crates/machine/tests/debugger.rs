//! The machine's debugger interface on a real guest (`debuggee.elf`):
//! breakpoints, single-step, watchpoints that stop before the access, debug
//! memory access, and a run that is stopped and resumed giving exactly the
//! output and instruction count of one that was not.

use ferrite_machine::debug::{DebugStop, WatchKind, Watchpoint};
use ferrite_machine::elf::ElfImage;
use ferrite_machine::{
    BoardKind, DebugEvent, ImageSource, Machine, MachineConfig, RunLimits, RunOutcome,
};

const DEBUGGEE: &[u8] = include_bytes!("../../../firmware/bin/debuggee.elf");

fn symbol(name: &str) -> u64 {
    ElfImage::parse(DEBUGGEE.to_vec())
        .unwrap()
        .symbol(name)
        .unwrap_or_else(|| panic!("debuggee has {name}"))
}

fn machine(harts: u32) -> Machine {
    let mut config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "debuggee.elf".into(),
            bytes: DEBUGGEE.to_vec(),
        })
        .with_captured_serial(b"");
    config.harts = harts;
    Machine::new(config).unwrap()
}

const LIMITS: RunLimits = RunLimits {
    max_insns: Some(50_000_000),
    timeout: None,
};

fn read_u64(m: &mut Machine, addr: u64) -> u64 {
    let mut b = [0u8; 8];
    m.read_virtual(0, addr, &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn a_breakpoint_stops_before_the_instruction_and_a_step_runs_one() {
    let tick = symbol("tick");
    let mut m = machine(1);
    m.insert_breakpoint(tick);
    let ev = m.debug_run(&LIMITS, None).unwrap();
    assert_eq!(
        ev,
        DebugEvent::Stopped {
            hart: 0,
            stop: DebugStop::Breakpoint { pc: tick }
        }
    );
    assert_eq!(m.hart_ref(0).unwrap().state().pc(), tick);
    let ev = m.debug_step(0).unwrap();
    assert_eq!(
        ev,
        DebugEvent::Stopped {
            hart: 0,
            stop: DebugStop::Step
        }
    );
    // tick's first instruction is 4 bytes (`slli a5, a0, 1`).
    assert_eq!(m.hart_ref(0).unwrap().state().pc(), tick + 4);
    // Resuming stops at the same breakpoint on the next call, not at once.
    let ev = m.debug_run(&LIMITS, None).unwrap();
    assert!(matches!(
        ev,
        DebugEvent::Stopped {
            stop: DebugStop::Breakpoint { .. },
            ..
        }
    ));
    assert!(m.remove_breakpoint(tick));
    assert_eq!(
        m.debug_run(&LIMITS, None).unwrap(),
        DebugEvent::Ended(RunOutcome::Exited(0))
    );
    assert_eq!(m.captured_output(), b"acc=60 watched=27\n");
}

#[test]
fn a_write_watchpoint_stops_before_the_store_with_its_pc() {
    let watched = symbol("watched");
    let mut m = machine(1);
    // Past the start-up code that clears .bss (which stores there too).
    m.insert_breakpoint(symbol("main"));
    assert!(matches!(
        m.debug_run(&LIMITS, None).unwrap(),
        DebugEvent::Stopped { .. }
    ));
    m.remove_breakpoint(symbol("main"));
    let wp = Watchpoint {
        addr: watched,
        len: 8,
        kind: WatchKind::Write,
    };
    m.insert_watchpoint(wp);
    for i in 0..3u64 {
        let ev = m.debug_run(&LIMITS, None).unwrap();
        let DebugEvent::Stopped {
            stop: DebugStop::Watchpoint(hit),
            ..
        } = ev
        else {
            panic!("{ev:?}");
        };
        assert_eq!(hit.watchpoint, wp);
        assert!(hit.store);
        assert_eq!(hit.access_addr, watched);
        // The store has not happened: memory holds the previous value, and
        // the pc is at the store, inside tick.
        let pc = m.hart_ref(0).unwrap().state().pc();
        assert_eq!(hit.pc, Some(pc));
        assert!(
            (symbol("tick")..symbol("add_poked")).contains(&pc),
            "{pc:#x}"
        );
        assert_eq!(read_u64(&mut m, watched), i.saturating_sub(1) * 3);
        // A step runs the store (unwatched) and only it.
        m.debug_step(0).unwrap();
        assert_eq!(read_u64(&mut m, watched), i * 3);
    }
    assert!(m.remove_watchpoint(wp));
    assert_eq!(
        m.debug_run(&LIMITS, None).unwrap(),
        DebugEvent::Ended(RunOutcome::Exited(0))
    );
    assert_eq!(m.captured_output(), b"acc=60 watched=27\n");
}

#[test]
fn a_read_watchpoint_sees_loads_only() {
    let read_me = symbol("read_me");
    let mut m = machine(1);
    m.insert_watchpoint(Watchpoint {
        addr: read_me,
        len: 8,
        kind: WatchKind::Read,
    });
    let mut hits = 0;
    loop {
        match m.debug_run(&LIMITS, None).unwrap() {
            DebugEvent::Stopped {
                stop: DebugStop::Watchpoint(hit),
                ..
            } => {
                assert!(!hit.store);
                hits += 1;
            }
            DebugEvent::Ended(o) => {
                assert_eq!(o, RunOutcome::Exited(0));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    // main reads read_me once per iteration.
    assert_eq!(hits, 10);
}

#[test]
fn debug_writes_reach_the_guest() {
    let mut m = machine(1);
    // Initialised data can be written before the guest starts; .bss only
    // once the start-up code has cleared it.
    m.write_virtual(0, symbol("poked"), &10u64.to_le_bytes())
        .unwrap();
    m.insert_breakpoint(symbol("main"));
    assert!(matches!(
        m.debug_run(&LIMITS, None).unwrap(),
        DebugEvent::Stopped { .. }
    ));
    m.remove_breakpoint(symbol("main"));
    m.write_physical(symbol("exit_code"), &7u64.to_le_bytes())
        .unwrap();
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::Exited(7));
    assert_eq!(m.captured_output(), b"acc=150 watched=27\n");
}

/// Runs to the end, stopping at every call of `tick` and at each of the
/// debugger's interrupt requests (every 7th time it is asked); returns the
/// breakpoint stops.
fn run_with_stops(m: &mut Machine) -> u32 {
    m.insert_breakpoint(symbol("tick"));
    let mut asked = 0u32;
    let mut stops = 0;
    loop {
        let mut ask = || {
            asked += 1;
            asked % 7 == 0
        };
        match m.debug_run(&LIMITS, Some(&mut ask)).unwrap() {
            DebugEvent::Ended(o) => {
                assert_eq!(o, RunOutcome::Exited(0));
                return stops;
            }
            DebugEvent::Stopped { hart, .. } => {
                stops += 1;
                // Look at everything, change nothing.
                let mut b = [0u8; 64];
                m.read_virtual(hart, symbol("watched"), &mut b).unwrap();
                let _ = m.hart_ref(hart).unwrap().register_dump();
                m.hart(hart).unwrap().resume_from_breakpoint();
            }
            DebugEvent::Interrupted => {}
        }
    }
}

#[test]
fn a_guest_stopped_and_resumed_runs_as_one_never_stopped() {
    for harts in [1, 2] {
        let mut plain = machine(harts);
        assert_eq!(plain.run(&LIMITS).unwrap(), RunOutcome::Exited(0));
        let mut stopped = machine(harts);
        let stops = run_with_stops(&mut stopped);
        // tick is called ten times, from code that chains block to block.
        assert_eq!(stops, 10, "{harts} harts");
        assert_eq!(stopped.captured_output(), plain.captured_output());
        assert_eq!(stopped.stats().insns, plain.stats().insns, "{harts} harts");
    }
}

/// At 0x80000000: mtvec = 0x80000010, then `ecall`; the handler is `j .`.
fn ecall_program() -> Machine {
    let words: [u32; 5] = [
        0x0000_0297, // auipc t0, 0
        0x0102_8293, // addi t0, t0, 16
        0x3052_9073, // csrw mtvec, t0
        0x0000_0073, // ecall
        0x0000_006f, // handler: j .
    ];
    let config = MachineConfig::new(BoardKind::Virt)
        .with_kernel(ImageSource::Bytes {
            name: "ecall.bin".into(),
            bytes: words.iter().flat_map(|w| w.to_le_bytes()).collect(),
        })
        .with_captured_serial(b"");
    Machine::new(config).unwrap()
}

#[test]
fn stepping_into_a_trap_stops_at_the_handler() {
    let mut m = ecall_program();
    m.insert_breakpoint(0x8000_000c);
    assert!(matches!(
        m.debug_run(&LIMITS, None).unwrap(),
        DebugEvent::Stopped {
            stop: DebugStop::Breakpoint { pc: 0x8000_000c },
            ..
        }
    ));
    m.remove_breakpoint(0x8000_000c);
    m.debug_step(0).unwrap();
    let s = m.hart_ref(0).unwrap().state();
    assert_eq!(s.pc(), 0x8000_0010, "at the handler's first instruction");
    assert_eq!(s.read_control(0x342), Some(11), "mcause: ecall from M");
    assert_eq!(s.read_control(0x341), Some(0x8000_000c), "mepc");
}

#[test]
fn a_debugger_write_to_running_code_replaces_it() {
    let mut m = ecall_program();
    // The handler's `j .` is translated and spinning.
    let spin = RunLimits {
        max_insns: Some(10_000),
        timeout: None,
    };
    assert_eq!(
        m.debug_run(&spin, None).unwrap(),
        DebugEvent::Ended(RunOutcome::InstructionLimit)
    );
    // `ebreak` in its place (trapping to itself): the new code runs.
    m.write_virtual(0, 0x8000_0010, &0x0010_0073u32.to_le_bytes())
        .unwrap();
    let mut b = [0u8; 4];
    m.read_virtual(0, 0x8000_0010, &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 0x0010_0073);
    let more = RunLimits {
        max_insns: Some(m.stats().insns + 1000),
        timeout: None,
    };
    m.run(&more).unwrap();
    let s = m.hart_ref(0).unwrap().state();
    assert_eq!(s.read_control(0x342), Some(3), "mcause: breakpoint");
    assert_eq!(s.read_control(0x341), Some(0x8000_0010), "mepc");
}
