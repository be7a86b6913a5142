//! The gdb remote stub: gdbstub's protocol over a [`Machine`]'s debugger
//! interface, harts as threads (thread N+1 is hart N), as QEMU's stub.
//!
//! * Registers: the `g` packet holds `x0`–`x31` and `pc`; the FPU, `priv`
//!   and every CSR are single registers of the generated target
//!   description ([`super::arch`]), all writable.
//! * Memory: debug accesses through the memory API at the thread's virtual
//!   addresses (a page walk without side effects).
//! * Breakpoints (software and hardware) and watchpoints apply to every
//!   hart; they never touch guest memory (see `ferrite_softmmu::debug`).
//! * Resuming: `stepi` steps the one hart it names (the others stay, as
//!   QEMU's stub does) with interrupts masked; `continue` runs the machine
//!   until a stop, an exit, or a byte from gdb (Ctrl-C). The connection is
//!   looked at every few milliseconds of host time, between scheduler
//!   rounds, and a stopped run resumes exactly where it stopped, so a guest
//!   only read by the debugger behaves as without it.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use gdbstub::common::{Signal, Tid};
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{DisconnectReason, GdbStub, MultiThreadStopReason};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind as GdbWatchKind,
};
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd, MonitorCmdOps, outputln};
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::ext::thread_extra_info::{ThreadExtraInfo, ThreadExtraInfoOps};
use gdbstub::target::{Target, TargetError, TargetResult};

use ferrite_machine::debug::{DebugStop, WatchKind, Watchpoint};
use ferrite_machine::{DebugEvent, Machine, RunLimits, RunOutcome};

use super::arch::{self, CoreRegs, FerriteRiscv, RegNum};
use super::monitor::{Monitor, MonitorAction};

/// How often a running guest looks for a byte from gdb (host time).
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// A connection to gdb.
pub type GdbConnection = Box<dyn ConnectionExt<Error = std::io::Error>>;

/// What the next resume does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    Continue,
    Step(u32),
}

/// The stub's side of a session: the machine and what gdb set.
pub struct GdbTarget<'m> {
    machine: &'m mut Machine,
    limits: RunLimits,
    resume: Resume,
    /// The threads a `vCont` continues, and whether only they run
    /// (scheduler locking).
    continued: Vec<u32>,
    locked: bool,
    sw_breakpoints: HashSet<u64>,
    hw_breakpoints: HashSet<u64>,
    watchpoints: Vec<Watchpoint>,
    description: String,
    fpu: bool,
    monitor: Monitor,
    /// The hart of the last stop (Ctrl-C reports it).
    last_hart: u32,
    /// How the run ended, once it has.
    pub outcome: Option<RunOutcome>,
    /// The monitor's `quit` was typed.
    pub quit: bool,
}

/// The thread id of hart `hart`.
fn tid(hart: u32) -> Tid {
    NonZeroUsize::new(hart as usize + 1).unwrap_or(NonZeroUsize::MIN)
}

/// The hart of thread `tid`.
fn hart_of(tid: Tid) -> u32 {
    (tid.get() - 1) as u32
}

impl<'m> GdbTarget<'m> {
    /// A stub for `machine`, running within `limits`.
    pub fn new(machine: &'m mut Machine, limits: RunLimits) -> Self {
        let (fpu, csrs) = match machine.hart_ref(0) {
            Some(h) => (h.state().float_register_count() > 0, h.control_registers()),
            None => (false, Vec::new()),
        };
        GdbTarget {
            description: arch::target_description(fpu, &csrs),
            machine,
            limits,
            resume: Resume::Continue,
            continued: Vec::new(),
            locked: false,
            sw_breakpoints: HashSet::new(),
            hw_breakpoints: HashSet::new(),
            watchpoints: Vec::new(),
            fpu,
            monitor: Monitor::default(),
            last_hart: 0,
            outcome: None,
            quit: false,
        }
    }

    /// Serve gdb on `conn` until it detaches, kills the guest, or the guest
    /// exits. Breakpoints and watchpoints are removed when it ends.
    pub fn serve(&mut self, conn: GdbConnection) -> anyhow::Result<DisconnectReason> {
        let stub = GdbStub::new(conn);
        let result = stub.run_blocking::<GdbEventLoop<'m>>(self);
        self.clear_debug_state();
        match result {
            Ok(reason) => Ok(reason),
            Err(e) if self.quit => {
                let _ = e;
                Ok(DisconnectReason::Kill)
            }
            Err(e) => Err(anyhow::anyhow!("gdb connection: {e}")),
        }
    }

    fn clear_debug_state(&mut self) {
        for pc in self
            .sw_breakpoints
            .drain()
            .chain(self.hw_breakpoints.drain())
        {
            self.machine.remove_breakpoint(pc);
        }
        for wp in self.watchpoints.drain(..) {
            self.machine.remove_watchpoint(wp);
        }
    }

    /// The stop reason gdb is told for a debugger event.
    fn stop_reason(&mut self, event: DebugEvent) -> MultiThreadStopReason<u64> {
        match event {
            DebugEvent::Stopped { hart, stop } => {
                self.last_hart = hart;
                let t = tid(hart);
                match stop {
                    DebugStop::Breakpoint { pc } if self.hw_breakpoints.contains(&pc) => {
                        MultiThreadStopReason::HwBreak(t)
                    }
                    DebugStop::Breakpoint { .. } => MultiThreadStopReason::SwBreak(t),
                    DebugStop::Step => MultiThreadStopReason::SignalWithThread {
                        tid: t,
                        signal: Signal::SIGTRAP,
                    },
                    DebugStop::Watchpoint(hit) => {
                        let w = hit.watchpoint;
                        eprintln!(
                            "ferrite: hart {hart}: {} of {} bytes at {:#x} hit the watchpoint on {:#x} ({} bytes){}",
                            if hit.store { "store" } else { "load" },
                            hit.size,
                            hit.access_addr,
                            w.addr,
                            w.len,
                            hit.pc
                                .map(|pc| format!(", by the instruction at {pc:#x}"))
                                .unwrap_or_default()
                        );
                        MultiThreadStopReason::Watch {
                            tid: t,
                            kind: match w.kind {
                                WatchKind::Write => GdbWatchKind::Write,
                                WatchKind::Read => GdbWatchKind::Read,
                                WatchKind::Access => GdbWatchKind::ReadWrite,
                            },
                            // The first watched byte the access touched.
                            addr: hit.access_addr.max(w.addr),
                        }
                    }
                }
            }
            DebugEvent::Interrupted => MultiThreadStopReason::SignalWithThread {
                tid: tid(self.last_hart),
                signal: Signal::SIGINT,
            },
            DebugEvent::Ended(outcome) => {
                self.outcome = Some(outcome);
                MultiThreadStopReason::Exited(outcome.exit_status())
            }
        }
    }

    fn add_breakpoint(&mut self, addr: u64, hw: bool) {
        let set = if hw {
            &mut self.hw_breakpoints
        } else {
            &mut self.sw_breakpoints
        };
        set.insert(addr);
        self.machine.insert_breakpoint(addr);
    }

    fn drop_breakpoint(&mut self, addr: u64, hw: bool) -> bool {
        let (set, other) = if hw {
            (&mut self.hw_breakpoints, &self.sw_breakpoints)
        } else {
            (&mut self.sw_breakpoints, &self.hw_breakpoints)
        };
        let had = set.remove(&addr);
        if had && !other.contains(&addr) {
            self.machine.remove_breakpoint(addr);
        }
        had
    }

    /// Run until something gdb must hear of, or a byte from gdb arrives.
    fn run(
        &mut self,
        conn: &mut GdbConnection,
    ) -> Result<Event<MultiThreadStopReason<u64>>, WaitForStopReasonError<String, std::io::Error>>
    {
        if let Resume::Step(hart) = self.resume {
            let event = self
                .machine
                .debug_step(hart)
                .map_err(|e| WaitForStopReasonError::Target(e.to_string()))?;
            return Ok(Event::TargetStopped(self.stop_reason(event)));
        }
        for h in 0..self.machine.hart_count() {
            if let Some(d) = self.machine.hart(h) {
                d.resume_from_breakpoint();
            }
        }
        let mut last = Instant::now();
        let mut conn_error = None;
        let mut poll = || {
            if last.elapsed() < POLL_INTERVAL {
                return false;
            }
            last = Instant::now();
            match conn.peek() {
                Ok(Some(_)) => true,
                Ok(None) => false,
                Err(e) => {
                    conn_error = Some(e);
                    true
                }
            }
        };
        // With scheduler locking only the continued threads run.
        let harts = self.machine.hart_count();
        if self.locked {
            for h in 0..harts {
                self.machine.hold_hart(h, !self.continued.contains(&h));
            }
        }
        let event = self.machine.debug_run(&self.limits, Some(&mut poll));
        for h in 0..harts {
            self.machine.hold_hart(h, false);
        }
        let event = event.map_err(|e| WaitForStopReasonError::Target(e.to_string()))?;
        if let Some(e) = conn_error {
            return Err(WaitForStopReasonError::Connection(e));
        }
        match event {
            DebugEvent::Interrupted => {
                let byte = conn.read().map_err(WaitForStopReasonError::Connection)?;
                Ok(Event::IncomingData(byte))
            }
            other => Ok(Event::TargetStopped(self.stop_reason(other))),
        }
    }
}

/// gdbstub's blocking event loop over the stub.
struct GdbEventLoop<'m>(std::marker::PhantomData<&'m ()>);

impl<'m> BlockingEventLoop for GdbEventLoop<'m> {
    type Target = GdbTarget<'m>;
    type Connection = GdbConnection;
    type StopReason = MultiThreadStopReason<u64>;

    fn wait_for_stop_reason(
        target: &mut GdbTarget<'m>,
        conn: &mut GdbConnection,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<String, std::io::Error>> {
        target.run(conn)
    }

    fn on_interrupt(target: &mut GdbTarget<'m>) -> Result<Option<Self::StopReason>, String> {
        Ok(Some(target.stop_reason(DebugEvent::Interrupted)))
    }
}

impl Target for GdbTarget<'_> {
    type Arch = FerriteRiscv;
    type Error = String;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }

    // Breakpoints are checked by the engine, not written into memory.
    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
}

impl GdbTarget<'_> {
    fn hart_state(&mut self, tid: Tid) -> TargetResult<&mut dyn ferrite_machine::HartDebug, Self> {
        self.machine.hart(hart_of(tid)).ok_or(TargetError::NonFatal)
    }
}

impl MultiThreadBase for GdbTarget<'_> {
    fn read_registers(&mut self, regs: &mut CoreRegs, tid: Tid) -> TargetResult<(), Self> {
        let h = self.hart_state(tid)?;
        let s = h.state();
        for (i, x) in regs.x.iter_mut().enumerate() {
            *x = s.register(i).unwrap_or(0);
        }
        regs.pc = s.pc();
        Ok(())
    }

    fn write_registers(&mut self, regs: &CoreRegs, tid: Tid) -> TargetResult<(), Self> {
        let h = self.hart_state(tid)?;
        let s = h.state_mut();
        for (i, &x) in regs.x.iter().enumerate() {
            s.set_register(i, x);
        }
        s.set_pc(regs.pc);
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8], tid: Tid) -> TargetResult<usize, Self> {
        let hart = hart_of(tid);
        if self.machine.read_virtual(hart, start, data).is_ok() {
            return Ok(data.len());
        }
        // Part of the range may be readable: as much as can be, byte by byte.
        let mut n = 0;
        while n < data.len() {
            let mut b = [0u8];
            if self
                .machine
                .read_virtual(hart, start.wrapping_add(n as u64), &mut b)
                .is_err()
            {
                break;
            }
            data[n] = b[0];
            n += 1;
        }
        if n == 0 {
            return Err(TargetError::NonFatal);
        }
        Ok(n)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8], tid: Tid) -> TargetResult<(), Self> {
        self.machine
            .write_virtual(hart_of(tid), start, data)
            .map_err(|_| TargetError::NonFatal)
    }

    fn list_active_threads(&mut self, report: &mut dyn FnMut(Tid)) -> Result<(), String> {
        for h in 0..self.machine.hart_count() {
            report(tid(h));
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl ThreadExtraInfo for GdbTarget<'_> {
    fn thread_extra_info(&self, tid: Tid, buf: &mut [u8]) -> Result<usize, String> {
        let text = format!("hart {}", hart_of(tid));
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

impl SingleRegisterAccess<Tid> for GdbTarget<'_> {
    fn read_register(
        &mut self,
        tid: Tid,
        reg: RegNum,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let fpu = self.fpu;
        let h = self.hart_state(tid)?;
        let s = h.state();
        let (value, size) = match reg.0 {
            n @ 0..=31 => (s.register(n), 8),
            32 => (Some(s.pc()), 8),
            n @ arch::FIRST_FPR..=64 if fpu => (s.float_register(n - arch::FIRST_FPR), 8),
            n @ arch::FFLAGS..=arch::FCSR if fpu => {
                (s.read_control((n - arch::FFLAGS + 1) as u16), 4)
            }
            arch::PRIV => (Some(u64::from(s.privilege())), 8),
            n if n >= arch::FIRST_CSR => (s.read_control((n - arch::FIRST_CSR) as u16), 8),
            _ => (None, 8),
        };
        let value = value.ok_or(TargetError::NonFatal)?;
        let bytes = value.to_le_bytes();
        let n = size.min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(&mut self, tid: Tid, reg: RegNum, val: &[u8]) -> TargetResult<(), Self> {
        let fpu = self.fpu;
        let mut w = [0u8; 8];
        let n = val.len().min(8);
        w[..n].copy_from_slice(&val[..n]);
        let value = u64::from_le_bytes(w);
        let h = self.hart_state(tid)?;
        let s = h.state_mut();
        let ok = match reg.0 {
            n @ 0..=31 => s.set_register(n, value),
            32 => {
                s.set_pc(value);
                true
            }
            n @ arch::FIRST_FPR..=64 if fpu => s.set_float_register(n - arch::FIRST_FPR, value),
            n @ arch::FFLAGS..=arch::FCSR if fpu => {
                s.write_control((n - arch::FFLAGS + 1) as u16, value)
            }
            arch::PRIV => u8::try_from(value).is_ok_and(|p| s.set_privilege(p)),
            n if n >= arch::FIRST_CSR => s.write_control((n - arch::FIRST_CSR) as u16, value),
            _ => false,
        };
        if !ok {
            return Err(TargetError::NonFatal);
        }
        if reg.0 > 32 {
            h.state_changed();
        }
        Ok(())
    }
}

impl MultiThreadResume for GdbTarget<'_> {
    fn resume(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn clear_resume_actions(&mut self) -> Result<(), String> {
        self.resume = Resume::Continue;
        self.continued.clear();
        self.locked = false;
        Ok(())
    }

    fn set_resume_action_continue(
        &mut self,
        tid: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), String> {
        self.continued.push(hart_of(tid));
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSchedulerLocking for GdbTarget<'_> {
    // Only the threads the `vCont` names run (a step only ever runs its
    // own hart).
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), String> {
        self.locked = true;
        Ok(())
    }
}

impl MultiThreadSingleStep for GdbTarget<'_> {
    fn set_resume_action_step(&mut self, tid: Tid, _signal: Option<Signal>) -> Result<(), String> {
        self.resume = Resume::Step(hart_of(tid));
        Ok(())
    }
}

impl Breakpoints for GdbTarget<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for GdbTarget<'_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, false);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.drop_breakpoint(addr, false))
    }
}

impl HwBreakpoint for GdbTarget<'_> {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.add_breakpoint(addr, true);
        Ok(true)
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.drop_breakpoint(addr, true))
    }
}

/// The engine's watchpoint for gdb's `Z2`–`Z4`.
fn watchpoint(addr: u64, len: u64, kind: GdbWatchKind) -> Watchpoint {
    Watchpoint {
        addr,
        len: len.max(1),
        kind: match kind {
            GdbWatchKind::Write => WatchKind::Write,
            GdbWatchKind::Read => WatchKind::Read,
            GdbWatchKind::ReadWrite => WatchKind::Access,
        },
    }
}

impl HwWatchpoint for GdbTarget<'_> {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        let wp = watchpoint(addr, len, kind);
        if !self.watchpoints.contains(&wp) {
            self.watchpoints.push(wp);
        }
        self.machine.insert_watchpoint(wp);
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        let wp = watchpoint(addr, len, kind);
        self.watchpoints.retain(|w| *w != wp);
        Ok(self.machine.remove_watchpoint(wp))
    }
}

impl MonitorCmd for GdbTarget<'_> {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), String> {
        let line = String::from_utf8_lossy(cmd);
        let reply = self.monitor.execute(self.machine, &line);
        let text = reply.text.trim_end_matches('\n');
        if !text.is_empty() {
            outputln!(out, "{text}");
        }
        match reply.action {
            Some(MonitorAction::Quit) => {
                self.quit = true;
                Err("quit from the monitor".into())
            }
            Some(MonitorAction::Continue | MonitorAction::Stop | MonitorAction::Step(_)) => {
                outputln!(
                    out,
                    "under gdb, use gdb's continue, Ctrl-C and stepi to run and stop the guest"
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl TargetDescriptionXmlOverride for GdbTarget<'_> {
    fn target_description_xml(
        &self,
        _annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let xml = self.description.as_bytes();
        let start = (offset as usize).min(xml.len());
        let n = length.min(buf.len()).min(xml.len() - start);
        buf[..n].copy_from_slice(&xml[start..start + n]);
        Ok(n)
    }
}
