//! The run loop: harts round-robin in one thread, devices serviced between
//! slices, virtual time warped over idle periods.
//!
//! # Rules (all deterministic: they depend on retired instructions, never on
//! host time, except the `--timeout` check and waits for interactive input)
//!
//! 1. **Service** the devices: re-evaluate the CLINT's timer lines and the
//!    RTC alarm, serve kicked virtio queues, move console input into the UART, take a test-finisher request, poll the
//!    HTIF mailbox, and refresh the display once virtual time has
//!    passed its next refresh. A finisher request, an HTIF exit or a
//!    closed display window ends the run.
//! 2. **Limits**: stop when `max_insns` instructions have retired or the
//!    timeout has passed.
//! 3. **Slice**: each hart in hart-id order runs a quantum of
//!    [`QUANTUM`] instructions ([`HTIF_ACTIVE_QUANTUM`] while the HTIF
//!    mailbox is busy), cut short so that the shared clock stops
//!    exactly at the next timer deadline (the earliest armed CLINT
//!    `mtimecmp`, hart `stimecmp` or RTC alarm) and at `max_insns`. A
//!    finisher request ends the slice right after the store that made it.
//!    After each hart's slice the HTIF mailbox and the finisher are checked
//!    again, so a hart that stops (wfi, end of budget, a finisher request)
//!    is seen at once.
//! 4. **Idle**: if no hart retired an instruction and every hart waits for
//!    an interrupt, warp the clock to the next timer deadline. With no
//!    deadline, wait in host time for console input if the console is
//!    interactive (stdio, a Unix socket) or someone may be watching the
//!    display (VNC, a window; its clients are served meanwhile); otherwise nothing can ever wake
//!    the guest and the run ends as [`RunOutcome::Stuck`].
//! 5. **Input wait** (only with [`crate::MachineConfig::input_wait`] set and
//!    a console that is not interactive): a guest that waits for console
//!    input (reads the UART's empty receiver round after round, idles
//!    with the receive interrupt enabled, or has an HTIF console read
//!    waiting) for that many ticks without printing, with no input
//!    queued, ends as [`RunOutcome::InputExhausted`].

use std::time::{Duration, Instant};

use ferrite_devices::FinisherRequest;
use ferrite_devices::uart16550::UartPoll;
use ferrite_softmmu::VirtualClock;

use crate::board::Board;
use crate::config::{OUTPUT_WINDOW, OutputPattern};
use crate::hart::{Hart, HartExit};
use crate::htif::HtifStatus;
use crate::outcome::RunOutcome;
use ferrite_memory::SpaceBytes;
use ferrite_softmmu::TIMER_HORIZON_TICKS;

/// Instructions one hart runs before the next hart's turn (and before the
/// devices are serviced again). Small enough that a guest waiting on HTIF or
/// on another hart loses little time (10k instructions is about 0.1 ms of
/// host time), large enough that servicing costs under 1% of the run.
pub const QUANTUM: u64 = 10_000;

/// Slice length while the HTIF mailbox is busy (the last poll took a
/// command): a guest printing through HTIF waits for each byte to be taken,
/// so shorter slices bring the next poll sooner. 500 instructions keep the
/// polling cost (one 8-byte read through the memory API) near 1%.
pub const HTIF_ACTIVE_QUANTUM: u64 = 500;

/// How long an idle guest with interactive input sleeps between polls of
/// the console.
const INPUT_WAIT: Duration = Duration::from_millis(5);

/// A round of slices stopped part-way by the debugger, resumed where it
/// stopped so that the schedule (and so everything the guest sees) is the
/// one an uninterrupted run has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Round {
    /// The earliest timer deadline when the round began.
    timer: Option<u64>,
    /// The round's quantum.
    quantum: u64,
    /// The hart whose turn it is.
    next: usize,
    /// What is left of that hart's slice, if it stopped in the middle.
    left: Option<u64>,
    /// Some hart retired an instruction in this round.
    progressed: bool,
    /// Every hart that ran waited for an interrupt.
    all_waiting: bool,
}

/// What the input-wait rule (rule 5) has seen of the console.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InputWatch {
    /// Console bytes written at the last look.
    written: u64,
    /// The UART's empty reads at the last look.
    empty_reads: u64,
    /// Tick of the last look.
    last_tick: u64,
    /// Ticks the guest has spent waiting for input since it last printed
    /// or was given input.
    waited: u64,
    /// Every hart ended the last round waiting for an interrupt.
    idle_round: bool,
}

/// How a scheduler run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SchedulerEnd {
    /// The run is over.
    Outcome(RunOutcome),
    /// Hart `hart` stopped for the debugger (the round is kept for the
    /// resume).
    DebugStop {
        /// The hart.
        hart: usize,
    },
    /// The debugger asked to stop (between two rounds).
    Interrupted,
}

/// One run of a board's harts.
pub(crate) struct Scheduler<'a, 'i> {
    pub board: &'a mut Board,
    pub harts: &'a mut [Box<dyn Hart>],
    pub clock: &'a VirtualClock,
    pub interactive: bool,
    /// Spike's pacing (a trace is on): every slice is
    /// [`ferrite_riscv::SPIKE_SLICE`] instructions, not cut at timer
    /// deadlines (Spike moves its timer only between slices).
    pub paced: bool,
    /// The round a debugger stopped, to resume.
    pub round: &'a mut Option<Round>,
    /// Harts the debugger holds: they take no turns.
    pub held: &'a [bool],
    /// Asked between rounds: true stops the run ([`SchedulerEnd::Interrupted`]).
    pub interrupt: Option<&'i mut (dyn FnMut() -> bool + 'i)>,
    /// Rule 5's limit in ticks ([`crate::MachineConfig::input_wait`]).
    pub input_wait: Option<u64>,
    /// Rule 5's state.
    pub input_watch: &'a mut InputWatch,
    /// [`crate::MachineConfig::stop_on_output`].
    pub stop_on_output: Option<&'a OutputPattern>,
}

impl Scheduler<'_, '_> {
    /// Runs until the guest exits, a limit is reached, or a debugger stop.
    pub fn run(&mut self, max_insns: Option<u64>, deadline: Option<Instant>) -> SchedulerEnd {
        let mut idle_rounds = 0u32;
        if self.round.is_none() {
            if let Some(outcome) = self.poll_htif() {
                return SchedulerEnd::Outcome(outcome);
            }
        }
        loop {
            let mut round = match self.round.take() {
                Some(round) => round,
                None => {
                    if let Some(outcome) = self.service_devices() {
                        return SchedulerEnd::Outcome(outcome);
                    }
                    if max_insns.is_some_and(|max| self.clock.insns() >= max) {
                        return SchedulerEnd::Outcome(RunOutcome::InstructionLimit);
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return SchedulerEnd::Outcome(RunOutcome::Timeout);
                    }
                    if let Some(interrupt) = &mut self.interrupt {
                        if interrupt() {
                            return SchedulerEnd::Interrupted;
                        }
                    }
                    Round {
                        timer: self.next_timer_deadline(),
                        quantum: match &self.board.htif {
                            _ if self.paced => ferrite_riscv::SPIKE_SLICE,
                            Some(htif) if htif.is_active() => HTIF_ACTIVE_QUANTUM,
                            _ => QUANTUM,
                        },
                        next: 0,
                        left: None,
                        progressed: false,
                        all_waiting: true,
                    }
                }
            };
            while round.next < self.harts.len() {
                let i = round.next;
                if self.held.get(i).copied().unwrap_or(false) {
                    round.next += 1;
                    continue;
                }
                let mut budget = round.left.take().unwrap_or(round.quantum);
                if let Some(max) = max_insns {
                    budget = budget.min(max.saturating_sub(self.clock.insns()));
                }
                if let Some(t) = round.timer.filter(|_| !self.paced) {
                    budget = budget.min(self.clock.insns_until_tick(t).max(1));
                }
                if budget == 0 {
                    round.all_waiting = false;
                    break;
                }
                let before = self.clock.insns();
                self.clock.clear_slice_end();
                let exit = self.harts[i].run(&mut self.board.mem, budget);
                if exit == HartExit::TrapLoop {
                    return SchedulerEnd::Outcome(RunOutcome::TrapLoop { hart: i as u32 });
                }
                let used = self.clock.insns() - before;
                round.progressed |= used != 0;
                if exit == HartExit::DebugStop {
                    // The rest of the slice runs when the debugger resumes;
                    // a slice used up ended as an exhausted budget does.
                    let left = budget.saturating_sub(used);
                    if left > 0 {
                        round.left = Some(left);
                    } else {
                        round.all_waiting = false;
                        round.next += 1;
                    }
                    *self.round = Some(round);
                    return SchedulerEnd::DebugStop { hart: i };
                }
                round.all_waiting &= exit == HartExit::WaitingForInterrupt;
                round.next += 1;
                if let Some(outcome) = self.check_finisher().or_else(|| self.poll_htif()) {
                    return SchedulerEnd::Outcome(outcome);
                }
            }
            self.input_watch.idle_round = round.all_waiting;
            if round.progressed || !round.all_waiting {
                idle_rounds = 0;
                continue;
            }
            // Every hart waits for an interrupt.
            if let Some(t) = round.timer {
                if t > self.clock.ticks() {
                    self.clock.advance_to_tick(t);
                }
                idle_rounds = 0;
            } else if self.interactive {
                if let Some(display) = &mut self.board.display {
                    display.idle(&mut self.board.mem, self.clock.ticks());
                }
                std::thread::sleep(match deadline {
                    Some(d) => INPUT_WAIT.min(d.saturating_duration_since(Instant::now())),
                    None => INPUT_WAIT,
                });
            } else {
                // One more service round may still deliver queued console
                // input; after that, nothing can change.
                idle_rounds += 1;
                if idle_rounds > 2 {
                    return SchedulerEnd::Outcome(RunOutcome::Stuck);
                }
            }
        }
    }

    /// The earliest timer deadline still ahead, in ticks. A deadline that is
    /// not ahead (a device that reports one it does not act on), or further
    /// ahead than [`TIMER_HORIZON_TICKS`] (QEMU's "never"), counts as none, so
    /// the idle rule below can end a run that cannot progress instead of
    /// spinning, and time never jumps to the end of its range.
    fn next_timer_deadline(&self) -> Option<u64> {
        let clint = self.board.clint.next_deadline();
        let rtc = self.board.rtc.as_ref().and_then(|r| r.next_deadline());
        let now = self.clock.ticks();
        self.harts
            .iter()
            .filter_map(|h| h.timer_deadline())
            .chain(clint)
            .chain(rtc)
            .filter(|&t| t > now && t - now <= TIMER_HORIZON_TICKS)
            .min()
    }

    /// Rule 1: service the devices; `Some` ends the run. (The HTIF mailbox
    /// is polled after every hart's slice, which covers this point too: no
    /// guest instruction runs in between.)
    fn service_devices(&mut self) -> Option<RunOutcome> {
        if let Some(display) = &mut self.board.display {
            display.tick(&mut self.board.mem, self.clock.ticks());
            if display.closed() {
                return Some(RunOutcome::Quit);
            }
        }
        self.board.clint.update();
        if let Some(rtc) = &self.board.rtc {
            rtc.update();
        }
        self.serve_virtio();
        if let Some(uart) = &self.board.uart {
            match uart.poll() {
                UartPoll::Continue => {}
                UartPoll::Quit => return Some(RunOutcome::Quit),
                UartPoll::OutputFailed => return Some(RunOutcome::ConsoleFailed),
            }
        }
        self.check_finisher()
            .or_else(|| self.check_output())
            .or_else(|| self.check_input_wait())
    }

    /// `--stop-on-output`: the console printed a match since the last look.
    fn check_output(&mut self) -> Option<RunOutcome> {
        let pattern = self.stop_on_output?;
        self.board
            .console
            .backend
            .recent_matches(pattern, OUTPUT_WINDOW)
            .then_some(RunOutcome::OutputMatched)
    }

    /// Rule 5: a guest that waits for console input, with nothing queued
    /// and a console no input can reach from outside, waits for ever once
    /// it has waited `input_wait` ticks without printing; the run ends. The
    /// ticks of a round count as waiting when the guest read the empty
    /// receiver in it (polling), when every hart idled in it with the
    /// receive interrupt enabled (waiting by interrupt), or when an HTIF
    /// console read was outstanding; a silent
    /// computation does not count. Output or input starts the count again.
    /// Looked at once per round, from guest-visible counts only, so it is
    /// deterministic.
    fn check_input_wait(&mut self) -> Option<RunOutcome> {
        let limit = self.input_wait.filter(|_| !self.interactive)?;
        let now = self.clock.ticks();
        let written = self.board.console.backend.bytes_written();
        let watch = &mut *self.input_watch;
        let elapsed = now.saturating_sub(watch.last_tick);
        // Input on its way, the guest looked for input in the last round,
        // and the UART's count of empty reads.
        let (pending, looked, empty_reads) = match (&self.board.uart, &self.board.htif) {
            (Some(uart), _) => {
                let empty_reads = uart.empty_reads();
                let looked = empty_reads != watch.empty_reads
                    || (watch.idle_round && uart.listens_for_input());
                (uart.has_pending_input(), looked, empty_reads)
            }
            // A console read waiting on HTIF is a guest waiting for a key.
            (None, Some(htif)) => (false, htif.waiting_for_input(), 0),
            (None, None) => return None,
        };
        if written != watch.written || pending {
            watch.waited = 0;
        } else if looked {
            watch.waited = watch.waited.saturating_add(elapsed);
        }
        watch.written = written;
        watch.empty_reads = empty_reads;
        watch.last_tick = now;
        (watch.waited >= limit).then_some(RunOutcome::InputExhausted)
    }

    /// Serves the virtio queues the guest kicked since the last slice.
    fn serve_virtio(&mut self) {
        for transport in &self.board.virtio {
            if transport.needs_processing() {
                let mut bus = SpaceBytes::new(&mut self.board.mem, self.board.space);
                transport.process(&mut bus);
            }
        }
    }

    /// A finisher request or an HTIF exit, checked after a debugger's step.
    pub fn device_exit(&mut self) -> Option<RunOutcome> {
        self.check_finisher().or_else(|| self.poll_htif())
    }

    /// A test-finisher request ends the run.
    fn check_finisher(&mut self) -> Option<RunOutcome> {
        let req = self
            .board
            .finisher
            .as_ref()
            .and_then(|f| f.take_request())?;
        Some(match req {
            FinisherRequest::Pass => RunOutcome::Exited(0),
            FinisherRequest::Fail(code) => RunOutcome::Exited(u32::from(code)),
            FinisherRequest::Reset => RunOutcome::Reset,
        })
    }

    /// The HTIF mailbox; an exit ends the run.
    fn poll_htif(&mut self) -> Option<RunOutcome> {
        if let Some(htif) = &mut self.board.htif {
            let mut bus = SpaceBytes::new(&mut self.board.mem, self.board.space);
            if let HtifStatus::Exit(code) = htif.poll(&mut bus) {
                return Some(RunOutcome::Exited(code));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use ferrite_devices::TimeSource;
    use ferrite_memory::{GuestAddress, MemTxAttrs, MemorySystem};
    use ferrite_riscv::HartIrqPins;

    use super::*;
    use crate::board::{BoardMemory, ClockTime};
    use crate::config::{BoardKind, MachineConfig, SerialConfig};
    use crate::console::Console;
    use crate::hart::{HartStats, mip};

    /// A scripted hart: runs `work` instructions, then waits for an
    /// interrupt; once MTIP is raised it spins forever. Records its turns.
    struct ScriptHart {
        id: usize,
        pins: HartIrqPins,
        clock: Rc<VirtualClock>,
        work: u64,
        turns: Rc<RefCell<Vec<(usize, u64)>>>,
    }

    impl Hart for ScriptHart {
        fn irq_pins(&self) -> HartIrqPins {
            self.pins.clone()
        }
        fn reset(&mut self, _pc: u64) {}
        fn run(&mut self, _mem: &mut MemorySystem, budget: u64) -> HartExit {
            self.turns.borrow_mut().push((self.id, budget));
            let woken = self.pins.get() & (1 << mip::MTIP) != 0;
            let n = if woken { budget } else { budget.min(self.work) };
            self.work -= n.min(self.work);
            self.clock.retire(n);
            if woken || self.work > 0 {
                HartExit::BudgetExhausted
            } else {
                HartExit::WaitingForInterrupt
            }
        }
        fn timer_deadline(&self) -> Option<u64> {
            None
        }
        fn stats(&self) -> HartStats {
            HartStats::default()
        }
    }

    struct Rig {
        board: Board,
        harts: Vec<Box<dyn Hart>>,
        clock: Rc<VirtualClock>,
        turns: Rc<RefCell<Vec<(usize, u64)>>>,
    }

    fn rig(work: &[u64]) -> Rig {
        let mut config = MachineConfig::new(BoardKind::Spike);
        config.ram_size = 1 << 20;
        let mut memory = BoardMemory::new(&config, 0x8000_0000, "ram").unwrap();
        let clock = VirtualClock::new(10);
        let turns = Rc::new(RefCell::new(Vec::new()));
        let harts: Vec<Box<dyn Hart>> = work
            .iter()
            .enumerate()
            .map(|(id, &work)| {
                Box::new(ScriptHart {
                    id,
                    pins: HartIrqPins::new(),
                    clock: clock.clone(),
                    work,
                    turns: turns.clone(),
                }) as Box<dyn Hart>
            })
            .collect();
        let pins: Vec<_> = harts.iter().map(|h| h.irq_pins()).collect();
        let time: Rc<dyn TimeSource> = Rc::new(ClockTime(clock.clone()));
        let clint = memory.map_clint(0x200_0000, &pins, time).unwrap();
        let board = Board {
            mem: memory.mem,
            space: memory.space,
            clint,
            uart: None,
            finisher: None,
            rtc: None,
            virtio: Vec::new(),
            virtio_mem: Vec::new(),
            htif: None,
            console: Console::open(&SerialConfig::Null, None).unwrap(),
            fdt: Vec::new(),
            reset_pc: 0x1000,
            pci: None,
            display: None,
            flash: Vec::new(),
        };
        Rig {
            board,
            harts,
            clock,
            turns,
        }
    }

    fn run(rig: &mut Rig, max: Option<u64>) -> RunOutcome {
        let mut round = None;
        let end = Scheduler {
            board: &mut rig.board,
            harts: &mut rig.harts,
            clock: &rig.clock,
            interactive: false,
            paced: false,
            round: &mut round,
            held: &[],
            interrupt: None,
            input_wait: None,
            stop_on_output: None,
            input_watch: &mut InputWatch::default(),
        }
        .run(max, None);
        match end {
            SchedulerEnd::Outcome(o) => o,
            other => panic!("no debugger, yet {other:?}"),
        }
    }

    #[test]
    fn harts_take_turns_in_id_order_with_full_quanta() {
        let mut rig = rig(&[25_000, 25_000]);
        assert_eq!(run(&mut rig, None), RunOutcome::Stuck);
        let turns = rig.turns.borrow();
        let order: Vec<usize> = turns.iter().map(|t| t.0).collect();
        assert_eq!(&order[..6], &[0, 1, 0, 1, 0, 1]);
        assert!(turns[..6].iter().all(|t| t.1 == QUANTUM));
        assert_eq!(rig.clock.insns(), 50_000);
    }

    #[test]
    fn instruction_limit_is_exact() {
        let mut rig = rig(&[u64::MAX]);
        assert_eq!(run(&mut rig, Some(25_001)), RunOutcome::InstructionLimit);
        assert_eq!(rig.clock.insns(), 25_001);
    }

    #[test]
    fn idle_harts_warp_to_the_timer_deadline() {
        let mut rig = rig(&[100]);
        // Arm hart 0's mtimecmp at tick 1,000,000 (0x2004000).
        rig.board
            .mem
            .write(
                rig.board.space,
                GuestAddress(0x200_4000),
                &1_000_000u64.to_le_bytes(),
                MemTxAttrs::default(),
            )
            .unwrap();
        assert_eq!(run(&mut rig, Some(50_000)), RunOutcome::InstructionLimit);
        assert!(rig.clock.ticks() >= 1_000_000, "{}", rig.clock.ticks());
        // The hart ran only its 100 instructions before the warp, then spun
        // once MTIP rose: no instruction was spent waiting.
        assert_eq!(rig.clock.insns(), 50_000);
    }

    #[test]
    fn slices_stop_at_the_timer_deadline() {
        let mut rig = rig(&[u64::MAX]);
        rig.board
            .mem
            .write(
                rig.board.space,
                GuestAddress(0x200_4000),
                &1_234u64.to_le_bytes(),
                MemTxAttrs::default(),
            )
            .unwrap();
        run(&mut rig, Some(30_000));
        // 1234 ticks = 12,340 instructions: the second slice is cut there.
        let budgets: Vec<u64> = rig.turns.borrow().iter().map(|t| t.1).collect();
        assert_eq!(&budgets[..2], &[QUANTUM, 2_340]);
    }
}
