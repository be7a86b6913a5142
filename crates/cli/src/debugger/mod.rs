//! Debugging a running guest: the gdb stub ([`gdb`]) and the monitor
//! ([`monitor`]), and the session that runs the machine between them.
//!
//! The session runs the machine in stretches; every few milliseconds of
//! host time, between scheduler rounds, it looks for a gdb connection and
//! for a monitor command. Either stops the machine where it is; a command
//! runs against the stopped machine, and the run then resumes exactly
//! where it stopped (so looking changes nothing the guest can see). A gdb
//! connection takes over until gdb detaches (the guest then runs on, and
//! another gdb may connect), kills the guest, or the guest exits.

pub mod arch;
pub mod gdb;
pub mod monitor;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ferrite_machine::{DebugEvent, Machine, RunLimits, RunOutcome};
use gdbstub::stub::DisconnectReason;

use gdb::{GdbConnection, GdbTarget};
use monitor::{Monitor, MonitorAction};

/// How often a running guest looks for gdb and the monitor (host time).
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Where to listen: `tcp:HOST:PORT` (`tcp::PORT` is localhost) or
/// `unix:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP address, `host:port`.
    Tcp(String),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl std::str::FromStr for Endpoint {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, port) = rest
                .rsplit_once(':')
                .with_context(|| format!("`{s}`: expected tcp:HOST:PORT or tcp::PORT"))?;
            let port: u16 = port
                .parse()
                .with_context(|| format!("`{s}`: bad port `{port}`"))?;
            let host = if host.is_empty() { "127.0.0.1" } else { host };
            return Ok(Endpoint::Tcp(format!("{host}:{port}")));
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                bail!("`{s}`: expected unix:PATH");
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        bail!("`{s}`: expected tcp:HOST:PORT, tcp::PORT or unix:PATH")
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "tcp {a}"),
            Endpoint::Unix(p) => write!(f, "unix socket {}", p.display()),
        }
    }
}

/// A listening socket of either kind.
enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
}

impl Listener {
    fn bind(at: &Endpoint) -> Result<Self> {
        Ok(match at {
            Endpoint::Tcp(addr) => Listener::Tcp(
                TcpListener::bind(addr).with_context(|| format!("cannot listen on {at}"))?,
            ),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => bail!("cannot listen on {at}: Unix sockets need a Unix host"),
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                // A socket left by an earlier run is replaced; anything else
                // at the path is not touched.
                if std::fs::symlink_metadata(path)
                    .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                {
                    let _ = std::fs::remove_file(path);
                }
                Listener::Unix(
                    UnixListener::bind(path).with_context(|| format!("cannot listen on {at}"))?,
                    path.clone(),
                )
            }
        })
    }

    /// A waiting connection, without blocking unless `block`.
    fn accept(&self, block: bool) -> Result<Option<Stream>> {
        let set = |nb: bool| -> std::io::Result<()> {
            match self {
                Listener::Tcp(l) => l.set_nonblocking(nb),
                #[cfg(unix)]
                Listener::Unix(l, _) => l.set_nonblocking(nb),
            }
        };
        set(!block)?;
        let r = match self {
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
            #[cfg(unix)]
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
        };
        match r {
            Ok(s) => {
                s.set_nonblocking(false)?;
                Ok(Some(s))
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A connected socket of either kind.
enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    fn set_nonblocking(&self, nb: bool) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(nb),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_nonblocking(nb),
        }
    }

    fn into_gdb(self) -> GdbConnection {
        match self {
            Stream::Tcp(s) => Box::new(s),
            #[cfg(unix)]
            Stream::Unix(s) => Box::new(s),
        }
    }

    /// A reader and a writer on the same connection.
    fn split(self) -> Result<(Box<dyn std::io::Read + Send>, Box<dyn Write + Send>)> {
        Ok(match self {
            Stream::Tcp(s) => (Box::new(s.try_clone()?), Box::new(s)),
            #[cfg(unix)]
            Stream::Unix(s) => (Box::new(s.try_clone()?), Box::new(s)),
        })
    }
}

/// Where the monitor is: `stdio`, or a socket it listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorAt {
    /// Standard input and output.
    Stdio,
    /// The terminal the console is on, shared (`Ctrl-A c` switches).
    Mux(ferrite_machine::ConsoleMux),
    /// A socket; one client at a time.
    Socket(Endpoint),
}

impl std::str::FromStr for MonitorAt {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        if s == "stdio" {
            return Ok(MonitorAt::Stdio);
        }
        s.parse().map(MonitorAt::Socket).with_context(|| {
            format!("bad --monitor `{s}`: expected stdio, unix:PATH or tcp:HOST:PORT")
        })
    }
}

/// What the debugger options of `run` ask for.
#[derive(Debug, Clone, Default)]
pub struct DebugOptions {
    /// Listen for gdb here.
    pub gdb: Option<Endpoint>,
    /// Do not start the guest until gdb or the monitor says so (`-S`).
    pub wait: bool,
    /// Serve the monitor here.
    pub monitor: Option<MonitorAt>,
}

/// The monitor's side of the session: lines in, text out.
enum MonitorChannel {
    /// Lines from a reader thread (stdin, a socket client); `None` when the
    /// input ended (a socket client left is not an end: another may
    /// connect).
    Lines {
        lines: Receiver<Option<String>>,
        out: Arc<Mutex<Box<dyn Write + Send>>>,
    },
    /// Keys from the shared terminal, edited into lines here (the
    /// terminal is in raw mode: keys are echoed, output needs `\r\n`).
    Mux {
        mux: ferrite_machine::ConsoleMux,
        line: std::cell::RefCell<Vec<u8>>,
        ready: std::cell::RefCell<std::collections::VecDeque<String>>,
    },
}

const MONITOR_BANNER: &str = "Ferrite monitor - type 'help' for more information\n";
const PROMPT: &str = "(ferrite) ";

impl MonitorChannel {
    fn open(at: &MonitorAt) -> Result<Self> {
        let (tx, rx) = channel();
        match at {
            MonitorAt::Stdio => {
                let out: Arc<Mutex<Box<dyn Write + Send>>> =
                    Arc::new(Mutex::new(Box::new(std::io::stdout())));
                write_text(&out, &format!("{MONITOR_BANNER}{PROMPT}"));
                std::thread::spawn(move || read_lines(Box::new(std::io::stdin()), &tx, true));
                Ok(MonitorChannel::Lines { lines: rx, out })
            }
            MonitorAt::Mux(mux) => Ok(MonitorChannel::Mux {
                mux: mux.clone(),
                line: Default::default(),
                ready: Default::default(),
            }),
            MonitorAt::Socket(endpoint) => {
                let listener = Listener::bind(endpoint)?;
                let out: Arc<Mutex<Box<dyn Write + Send>>> =
                    Arc::new(Mutex::new(Box::new(std::io::sink())));
                let shared = Arc::clone(&out);
                std::thread::spawn(move || serve_monitor_clients(listener, shared, tx));
                Ok(MonitorChannel::Lines { lines: rx, out })
            }
        }
    }

    fn write(&self, text: &str) {
        match self {
            MonitorChannel::Lines { out, .. } => write_text(out, text),
            MonitorChannel::Mux { .. } => {
                let mut o = std::io::stdout().lock();
                let _ = o
                    .write_all(text.replace('\n', "\r\n").as_bytes())
                    .and_then(|()| o.flush());
            }
        }
    }

    /// A line if one is ready (`Some(None)`: the input ended).
    fn try_line(&self) -> Option<Option<String>> {
        match self {
            MonitorChannel::Lines { lines, .. } => match lines.try_recv() {
                Ok(l) => Some(l),
                Err(std::sync::mpsc::TryRecvError::Empty) => None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(None),
            },
            MonitorChannel::Mux { mux, line, ready } => {
                if let Some(to_monitor) = mux.take_switch() {
                    if to_monitor {
                        self.write(&format!("\n{MONITOR_BANNER}{PROMPT}"));
                    } else {
                        self.write("\n");
                    }
                }
                for b in mux.take_monitor_input() {
                    let mut l = line.borrow_mut();
                    match b {
                        b'\r' | b'\n' => {
                            self.write("\n");
                            ready
                                .borrow_mut()
                                .push_back(String::from_utf8_lossy(&l).into_owned());
                            l.clear();
                        }
                        0x7f | 0x08 if l.pop().is_some() => self.write("\u{8} \u{8}"),
                        0x20..=0x7e => {
                            l.push(b);
                            self.write(&(b as char).to_string());
                        }
                        _ => {}
                    }
                }
                ready.borrow_mut().pop_front().map(Some)
            }
        }
    }

    /// A line, waiting up to `timeout` for one.
    fn wait_line(&self, timeout: Duration) -> Option<Option<String>> {
        match self {
            MonitorChannel::Lines { lines, .. } => match lines.recv_timeout(timeout) {
                Ok(l) => Some(l),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(None),
            },
            MonitorChannel::Mux { .. } => self.try_line().or_else(|| {
                std::thread::sleep(timeout);
                None
            }),
        }
    }
}

fn write_text(out: &Arc<Mutex<Box<dyn Write + Send>>>, text: &str) {
    if let Ok(mut w) = out.lock() {
        // A client that went away loses the text; the session goes on.
        let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
    }
}

/// Sends each line of `input` to the session; at the end, `None` if
/// `final_end` (stdin), else nothing (a socket client left).
fn read_lines(input: Box<dyn std::io::Read + Send>, tx: &Sender<Option<String>>, final_end: bool) {
    for line in BufReader::new(input).lines() {
        match line {
            Ok(l) => {
                if tx.send(Some(l)).is_err() {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    if final_end {
        let _ = tx.send(None);
    }
}

/// Accepts monitor clients one after another on `listener`.
fn serve_monitor_clients(
    listener: Listener,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    tx: Sender<Option<String>>,
) {
    while let Ok(Some(stream)) = listener.accept(true) {
        let Ok((reader, writer)) = stream.split() else {
            continue;
        };
        if let Ok(mut w) = out.lock() {
            *w = writer;
        }
        write_text(&out, &format!("{MONITOR_BANNER}{PROMPT}"));
        read_lines(reader, &tx, false);
    }
}

/// Runs `machine` under the debugger options until the run ends.
pub fn run_session(
    machine: &mut Machine,
    limits: &RunLimits,
    options: &DebugOptions,
) -> Result<RunOutcome> {
    let listener = options.gdb.as_ref().map(Listener::bind).transpose()?;
    let monitor = options
        .monitor
        .as_ref()
        .map(MonitorChannel::open)
        .transpose()?;
    if options.wait && listener.is_none() && monitor.is_none() {
        bail!("-S waits for a debugger: give --gdb, -s or --monitor too");
    }
    let mut session = Session {
        machine,
        limits: *limits,
        listener,
        monitor,
        state: Monitor::default(),
        stopped: options.wait,
    };
    if options.wait {
        if let (Some(at), None) = (&options.gdb, &session.monitor) {
            eprintln!("ferrite: waiting for gdb on {at}");
        }
        if let Some(MonitorChannel::Mux { .. }) = &session.monitor {
            eprint!("ferrite: the guest is stopped; Ctrl-A c switches to the monitor\r\n");
        }
    }
    session.run()
}

struct Session<'m> {
    machine: &'m mut Machine,
    limits: RunLimits,
    listener: Option<Listener>,
    monitor: Option<MonitorChannel>,
    state: Monitor,
    stopped: bool,
}

/// What arrived while the guest ran or waited.
enum Arrival {
    Gdb(Stream),
    Line(Option<String>),
    /// `Ctrl-A x` on the shared terminal.
    Quit,
}

impl Session<'_> {
    fn run(&mut self) -> Result<RunOutcome> {
        loop {
            let arrival = if self.stopped {
                self.wait_stopped()?
            } else {
                match self.run_until_arrival()? {
                    Ok(outcome) => return Ok(outcome),
                    Err(arrival) => arrival,
                }
            };
            let done = match arrival {
                Arrival::Gdb(stream) => self.serve_gdb(stream)?,
                Arrival::Line(line) => self.command(line),
                Arrival::Quit => Some(RunOutcome::Quit),
            };
            if let Some(outcome) = done {
                return Ok(outcome);
            }
        }
    }

    /// Waits, the guest stopped, for a command or a gdb connection.
    fn wait_stopped(&mut self) -> Result<Arrival> {
        loop {
            if let Some(arrival) = self.poll_arrival(true)? {
                return Ok(arrival);
            }
        }
    }

    /// A gdb connection or a monitor line, if one is there; with `wait`,
    /// waits up to one poll interval for it.
    fn poll_arrival(&mut self, wait: bool) -> Result<Option<Arrival>> {
        if let Some(l) = &self.listener {
            // Nothing else can start a guest stopped by -S with gdb alone.
            let block = wait && self.monitor.is_none();
            if let Some(s) = l.accept(block)? {
                return Ok(Some(Arrival::Gdb(s)));
            }
        }
        if let Some(m) = &self.monitor {
            if let MonitorChannel::Mux { mux, .. } = m {
                // Stopped, no device reads the terminal: read it here.
                if self.machine.pump_console(mux) {
                    return Ok(Some(Arrival::Quit));
                }
            }
            let got = if wait {
                m.wait_line(POLL_INTERVAL)
            } else {
                m.try_line()
            };
            if let Some(l) = got {
                return Ok(Some(Arrival::Line(l)));
            }
        }
        Ok(None)
    }

    /// Runs the guest until it ends (`Ok(Ok(outcome))`) or something
    /// arrives (`Ok(Err(arrival))`).
    fn run_until_arrival(&mut self) -> Result<std::result::Result<RunOutcome, Arrival>> {
        let mut pending = None;
        let mut failure = None;
        loop {
            let mut last = Instant::now();
            let event = {
                let listener = &self.listener;
                let monitor = &self.monitor;
                let mut poll = || {
                    if last.elapsed() < POLL_INTERVAL {
                        return false;
                    }
                    last = Instant::now();
                    if let Some(l) = listener {
                        match l.accept(false) {
                            Ok(Some(s)) => pending = Some(Arrival::Gdb(s)),
                            Ok(None) => {}
                            Err(e) => failure = Some(e),
                        }
                    }
                    if pending.is_none() {
                        if let Some(l) = monitor.as_ref().and_then(MonitorChannel::try_line) {
                            pending = Some(Arrival::Line(l));
                        }
                    }
                    pending.is_some() || failure.is_some()
                };
                self.machine.debug_run(&self.limits, Some(&mut poll))?
            };
            if let Some(e) = failure {
                return Err(e.context("the debugger's socket"));
            }
            match event {
                DebugEvent::Ended(outcome) => return Ok(Ok(outcome)),
                DebugEvent::Interrupted => {
                    if let Some(a) = pending.take() {
                        return Ok(Err(a));
                    }
                }
                DebugEvent::Stopped { hart, stop } => {
                    // Only gdb sets breakpoints, and it removes them when it
                    // leaves: a stop here is the monitor's to report.
                    self.report(&format!("hart {hart} stopped: {stop:?}\n"));
                    self.stopped = true;
                    return Ok(Err(Arrival::Line(Some(String::new()))));
                }
            }
        }
    }

    fn report(&self, text: &str) {
        match &self.monitor {
            Some(m) => m.write(text),
            None => eprint!("ferrite: {text}"),
        }
    }

    /// Serves gdb until it leaves; `Some` when the run is over.
    fn serve_gdb(&mut self, stream: Stream) -> Result<Option<RunOutcome>> {
        let mut target = GdbTarget::new(self.machine, self.limits);
        let reason = target.serve(stream.into_gdb())?;
        let outcome = target.outcome;
        Ok(match reason {
            DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => {
                Some(outcome.unwrap_or(RunOutcome::Quit))
            }
            DisconnectReason::Kill => {
                eprintln!("ferrite: terminated by the debugger");
                Some(RunOutcome::Quit)
            }
            DisconnectReason::Disconnect => {
                // The guest goes on, as after QEMU's `detach`.
                self.stopped = false;
                outcome
            }
        })
    }

    /// Runs one monitor line; `Some` when the run is over.
    fn command(&mut self, line: Option<String>) -> Option<RunOutcome> {
        let Some(line) = line else {
            // The monitor's input ended: nothing can stop or resume the
            // guest any more, so it runs on.
            self.monitor = None;
            self.stopped = false;
            return None;
        };
        let reply = self.state.execute(self.machine, &line);
        let mut text = reply.text;
        let mut outcome = None;
        match reply.action {
            Some(MonitorAction::Stop) => self.stopped = true,
            Some(MonitorAction::Continue) => self.stopped = false,
            Some(MonitorAction::Quit) => outcome = Some(RunOutcome::Quit),
            Some(MonitorAction::Step(n)) => {
                self.stopped = true;
                for _ in 0..n {
                    match self.machine.debug_step(self.state.hart) {
                        Ok(DebugEvent::Ended(o)) => {
                            outcome = Some(o);
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            text.push_str(&format!("step: {e}\n"));
                            break;
                        }
                    }
                }
                if outcome.is_none() {
                    if let Some(h) = self.machine.hart_ref(self.state.hart) {
                        text.push_str(&format!("pc {:#018x}\n", h.state().pc()));
                    }
                }
            }
            None => {}
        }
        if outcome.is_none() {
            text.push_str(PROMPT);
        }
        self.report_plain(&text);
        outcome
    }

    fn report_plain(&self, text: &str) {
        if let Some(m) = &self.monitor {
            m.write(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_qemu_spells_them() {
        assert_eq!(
            "tcp::1234".parse::<Endpoint>().unwrap(),
            Endpoint::Tcp("127.0.0.1:1234".into())
        );
        assert_eq!(
            "tcp:0.0.0.0:9".parse::<Endpoint>().unwrap(),
            Endpoint::Tcp("0.0.0.0:9".into())
        );
        assert_eq!(
            "unix:/tmp/g.sock".parse::<Endpoint>().unwrap(),
            Endpoint::Unix("/tmp/g.sock".into())
        );
        assert!("tcp::99999".parse::<Endpoint>().is_err());
        assert!("pipe:x".parse::<Endpoint>().is_err());
        assert_eq!("stdio".parse::<MonitorAt>().unwrap(), MonitorAt::Stdio);
    }
}
