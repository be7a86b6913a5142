//! The process's standard input and output as a character backend, with
//! the terminal in raw mode and QEMU's `Ctrl-A` escapes when stdin is a tty.

use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;

use crate::ConsoleMux;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{CharBackend, CharInput, ChardevError, Result, fd_ready};

/// Reads what is ready on a blocking file descriptor without blocking:
/// `poll` first, then one `read`. End of input is remembered and reported as
/// "nothing ready" from then on.
#[derive(Debug)]
struct FdInput {
    fd: RawFd,
    eof: bool,
}

impl FdInput {
    /// Bytes read (0 = nothing ready or input ended). A read error is
    /// reported once and then treated as the end of input, so a closed or
    /// invalid descriptor does not fail every poll.
    fn read_ready(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.eof || buf.is_empty() {
            return Ok(0);
        }
        match fd_ready(self.fd, libc::POLLIN, 0) {
            Ok(true) => {}
            Ok(false) => return Ok(0),
            Err(err) => {
                self.eof = true;
                return Err(err);
            }
        }
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes; `fd` is open
            // for the life of `self` (stdin, or a descriptor the owner keeps open).
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                return Ok(n as usize);
            }
            if n == 0 {
                self.eof = true;
                return Ok(0);
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(0),
                _ => {
                    self.eof = true;
                    return Err(err);
                }
            }
        }
    }
}

/// The escape character of the terminal multiplexer: Ctrl-A.
pub const ESCAPE_CHAR: u8 = 0x01;

/// Help text printed for `Ctrl-A h`.
const ESCAPE_HELP: &str = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\n\
C-a C-a  sends C-a\r\n";

/// The help line of `Ctrl-A c`, printed when the monitor shares the terminal.
const MUX_HELP: &str = "C-a c    switch between console and monitor\r\n";

/// What the escape decoder made of one input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EscapeAction {
    /// Deliver this byte to the guest.
    Byte(u8),
    /// Nothing to deliver (escape prefix, or an unknown escape).
    Swallow,
    /// Print the help text.
    Help,
    /// Quit the emulator.
    Quit,
    /// Switch the keys between the guest and the monitor (`Ctrl-A c`).
    Switch,
}

/// QEMU's `Ctrl-A` escapes on a terminal.
#[derive(Debug, Default)]
struct EscapeDecoder {
    got_escape: bool,
}

impl EscapeDecoder {
    fn feed(&mut self, byte: u8) -> EscapeAction {
        if !self.got_escape {
            if byte == ESCAPE_CHAR {
                self.got_escape = true;
                return EscapeAction::Swallow;
            }
            return EscapeAction::Byte(byte);
        }
        self.got_escape = false;
        match byte {
            b'x' | b'X' => EscapeAction::Quit,
            b'h' | b'?' => EscapeAction::Help,
            b'c' | b'C' => EscapeAction::Switch,
            ESCAPE_CHAR => EscapeAction::Byte(ESCAPE_CHAR),
            _ => EscapeAction::Swallow,
        }
    }
}

/// The terminal settings in force before raw mode was first entered. Set once
/// and then only read, so the signal handler can read it without locking.
static SAVED_TERMIOS: OnceLock<libc::termios> = OnceLock::new();

/// True while stdin's terminal is in raw mode.
static RAW_MODE_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the saved terminal settings back if raw mode is on. Only
/// async-signal-safe operations: an atomic swap, a lock-free read, tcsetattr.
fn restore_saved_terminal() {
    if RAW_MODE_ACTIVE.swap(false, Ordering::SeqCst)
        && let Some(termios) = SAVED_TERMIOS.get()
    {
        // SAFETY: `termios` is a fully initialised value obtained from tcgetattr.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, termios);
        }
    }
}

/// Takes stdin's terminal out of raw mode now, if a [`Stdio`] put it there
/// (for example before printing a fatal error). Safe to call at any time.
pub fn restore_terminal() {
    restore_saved_terminal();
}

/// `atexit` hook: `std::process::exit` runs no destructors, so raw mode is
/// also undone here.
extern "C" fn restore_terminal_at_exit() {
    restore_saved_terminal();
}

/// Handler for terminating signals: restore the terminal, then die of the
/// signal as if no handler had been installed.
extern "C" fn restore_terminal_on_signal(signal: libc::c_int) {
    restore_saved_terminal();
    // SAFETY: signal(2) and raise(3) are async-signal-safe; resetting to the
    // default action first makes the re-raised signal terminate the process.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Installs [`restore_terminal_on_signal`] for the signals that end a process
/// by default, where no other handler is installed (never replacing one).
fn install_restore_handlers() {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction is a valid out-parameter; passing a null
        // new action only queries the current one.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: `current` is valid for writes; the signal number is valid.
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } != 0 {
            continue;
        }
        if current.sa_sigaction != libc::SIG_DFL {
            continue;
        }
        // SAFETY: the handler is an `extern "C" fn(c_int)` that only calls
        // async-signal-safe functions; the action struct is fully initialised.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = restore_terminal_on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Puts stdin's terminal in raw mode the way QEMU's stdio backend does (no
/// echo, no line editing, no CR/NL mapping, no flow control, no signals from
/// Ctrl-C so it reaches the guest; output processing stays on).
fn enter_raw_mode() -> io::Result<()> {
    // SAFETY: an all-zero termios is a valid value for tcgetattr to overwrite.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `termios` is valid for writes; fd 0 is a tty (checked by the caller).
    if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut termios) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // The first settings seen are the user's; later calls see them again
    // after a restore, so keeping the first is right either way.
    let _ = SAVED_TERMIOS.set(termios);
    static HOOKS: std::sync::Once = std::sync::Once::new();
    HOOKS.call_once(|| {
        // SAFETY: the hook is an `extern "C" fn()` that does not unwind.
        unsafe {
            libc::atexit(restore_terminal_at_exit);
        }
        install_restore_handlers();
    });
    let mut raw = termios;
    raw.c_iflag &= !(libc::IGNBRK
        | libc::BRKINT
        | libc::PARMRK
        | libc::ISTRIP
        | libc::INLCR
        | libc::IGNCR
        | libc::ICRNL
        | libc::IXON);
    raw.c_oflag |= libc::OPOST;
    raw.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::IEXTEN | libc::ISIG);
    raw.c_cflag &= !(libc::CSIZE | libc::PARENB);
    raw.c_cflag |= libc::CS8;
    raw.c_cc[libc::VMIN] = 1;
    raw.c_cc[libc::VTIME] = 0;
    // SAFETY: `raw` is a fully initialised termios derived from tcgetattr's.
    if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) } != 0 {
        return Err(io::Error::last_os_error());
    }
    RAW_MODE_ACTIVE.store(true, Ordering::SeqCst);
    Ok(())
}

/// The process's standard input and output.
#[derive(Debug)]
pub struct Stdio {
    input: FdInput,
    /// `Some` when input is a terminal: raw mode is on and escapes apply.
    escapes: Option<EscapeDecoder>,
    raw_mode: bool,
    quit_pending: bool,
    output_closed: bool,
    /// The terminal is shared with the monitor.
    mux: Option<ConsoleMux>,
}

impl Stdio {
    /// Share the terminal with the monitor: `Ctrl-A c` sends the keys to
    /// `mux` (and back). Only a terminal decodes escapes; on a pipe every
    /// byte goes to the guest.
    pub fn with_mux(mut self, mux: ConsoleMux) -> Self {
        self.mux = Some(mux);
        self
    }

    /// Stdio on the process's stdin/stdout. A tty stdin is switched to raw
    /// mode until this backend is dropped or the process exits.
    pub fn new() -> Result<Self> {
        // SAFETY: isatty only inspects the descriptor number.
        let tty = unsafe { libc::isatty(libc::STDIN_FILENO) } == 1;
        if tty {
            enter_raw_mode().map_err(|source| ChardevError::Open {
                action: "set raw mode on",
                path: PathBuf::from("stdin"),
                source,
            })?;
        }
        let mut stdio = Stdio::with_input_fd(libc::STDIN_FILENO, tty);
        stdio.raw_mode = tty;
        Ok(stdio)
    }

    /// Stdio reading from `fd` (kept open by the caller), with terminal
    /// escapes decoded when `escapes` is set. Does not touch terminal modes.
    fn with_input_fd(fd: RawFd, escapes: bool) -> Self {
        Stdio {
            input: FdInput { fd, eof: false },
            escapes: escapes.then(EscapeDecoder::default),
            raw_mode: false,
            quit_pending: false,
            output_closed: false,
            mux: None,
        }
    }

    /// True once the input has reached end of file (a pipe's writer closed).
    pub fn input_ended(&self) -> bool {
        self.input.eof
    }
}

impl Drop for Stdio {
    fn drop(&mut self) {
        if self.raw_mode {
            restore_saved_terminal();
        }
    }
}

impl CharBackend for Stdio {
    /// Writes to stdout. The first failure (say, a closed pipe) is returned;
    /// output is dropped silently after that.
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        super::write_stdout(&mut self.output_closed, bytes)
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        if self.quit_pending {
            self.quit_pending = false;
            return Ok(CharInput::Quit);
        }
        if let Some(mux) = &self.mux {
            let kept = mux.take_guest_input(buf);
            if kept > 0 {
                return Ok(CharInput::Data(kept));
            }
        }
        // Input that decodes to nothing for the guest (escapes, keys for the
        // monitor) is not the end of what is ready: read on.
        loop {
            let n = self.input.read_ready(buf)?;
            let Some(decoder) = self.escapes.as_mut() else {
                return Ok(if n == 0 {
                    CharInput::Idle
                } else {
                    CharInput::Data(n)
                });
            };
            if n == 0 {
                return Ok(CharInput::Idle);
            }
            // Decode in place: the output never outruns the input.
            let mut kept = 0;
            let mut help = false;
            for i in 0..n {
                match decoder.feed(buf[i]) {
                    EscapeAction::Byte(b) => match &self.mux {
                        Some(mux) if mux.monitor_has_focus() => mux.push_monitor_input(b),
                        _ => {
                            buf[kept] = b;
                            kept += 1;
                        }
                    },
                    EscapeAction::Switch => {
                        if let Some(mux) = &self.mux {
                            mux.switch_focus();
                        }
                    }
                    EscapeAction::Swallow => {}
                    EscapeAction::Help => help = true,
                    EscapeAction::Quit => {
                        self.quit_pending = true;
                        break;
                    }
                }
            }
            if help {
                self.write(ESCAPE_HELP.as_bytes())?;
                if self.mux.is_some() {
                    self.write(MUX_HELP.as_bytes())?;
                }
            }
            if kept > 0 {
                return Ok(CharInput::Data(kept));
            }
            if self.quit_pending {
                self.quit_pending = false;
                return Ok(CharInput::Quit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{drain, pipe};
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn pipe_input_arrives_in_order_and_eof_is_not_an_error() {
        let (read_end, mut write_end) = pipe();
        let mut stdio = Stdio::with_input_fd(read_end.as_raw_fd(), false);
        assert_eq!(drain(&mut stdio), (vec![], false), "nothing written yet");
        write_end.write_all(b"hello, \x01x world").unwrap();
        // Ctrl-A is not an escape on a pipe: it is passed through.
        assert_eq!(drain(&mut stdio).0, b"hello, \x01x world");
        write_end.write_all(b"second").unwrap();
        drop(write_end);
        assert_eq!(drain(&mut stdio).0, b"second");
        assert!(stdio.input_ended());
        let mut buf = [0u8; 8];
        assert_eq!(stdio.read_input(&mut buf).unwrap(), CharInput::Idle);
    }

    #[test]
    fn invalid_descriptor_fails_once_then_idles() {
        // No process has this many descriptors open, so it names nothing (a
        // closed small descriptor could be reused by a test running alongside).
        let mut stdio = Stdio::with_input_fd(RawFd::MAX, false);
        let mut buf = [0u8; 4];
        // poll(2) reports POLLNVAL and read(2) EBADF: one error at most...
        let first = stdio.read_input(&mut buf);
        assert!(matches!(first, Err(_) | Ok(CharInput::Idle)));
        // ...then the input counts as ended.
        assert_eq!(stdio.read_input(&mut buf).unwrap(), CharInput::Idle);
        assert!(stdio.input_ended());
    }

    #[test]
    fn ctrl_a_c_sends_the_keys_to_the_monitor_and_back() {
        let (read_end, mut write_end) = pipe();
        let mux = ConsoleMux::new();
        let mut stdio = Stdio::with_input_fd(read_end.as_raw_fd(), true).with_mux(mux.clone());
        write_end.write_all(b"a\x01cinfo\x01cb").unwrap();
        assert_eq!(drain(&mut stdio), (b"ab".to_vec(), false));
        assert_eq!(mux.take_monitor_input(), b"info");
        // Two switches: back on the guest's side.
        assert_eq!(mux.take_switch(), Some(false));
        assert!(!mux.monitor_has_focus());
        // Keys read while the machine was stopped reach the guest first.
        mux.keep_guest_input(b"kept");
        write_end.write_all(b"new").unwrap();
        assert_eq!(drain(&mut stdio), (b"keptnew".to_vec(), false));
        // Without a mux, Ctrl-A c is an unknown escape.
        let (read_end, mut write_end) = pipe();
        let mut plain = Stdio::with_input_fd(read_end.as_raw_fd(), true);
        write_end.write_all(b"x\x01cy").unwrap();
        assert_eq!(drain(&mut plain), (b"xy".to_vec(), false));
    }

    #[test]
    fn terminal_escapes_quit_and_literal_ctrl_a() {
        let (read_end, mut write_end) = pipe();
        let mut stdio = Stdio::with_input_fd(read_end.as_raw_fd(), true);
        write_end.write_all(b"ab\x01\x01c\x01zd").unwrap();
        // Ctrl-A Ctrl-A -> Ctrl-A; Ctrl-A z is an unknown escape and vanishes.
        assert_eq!(drain(&mut stdio), (b"ab\x01cd".to_vec(), false));
        write_end.write_all(b"q\x01xrest").unwrap();
        assert_eq!(
            drain(&mut stdio),
            (b"q".to_vec(), true),
            "data before the quit comes first"
        );
    }

    #[test]
    fn escape_decoder_states() {
        let mut d = EscapeDecoder::default();
        assert_eq!(d.feed(b'a'), EscapeAction::Byte(b'a'));
        assert_eq!(d.feed(ESCAPE_CHAR), EscapeAction::Swallow);
        assert_eq!(d.feed(b'h'), EscapeAction::Help);
        assert_eq!(
            d.feed(b'x'),
            EscapeAction::Byte(b'x'),
            "escape state ends after one byte"
        );
        assert_eq!(d.feed(ESCAPE_CHAR), EscapeAction::Swallow);
        assert_eq!(d.feed(b'x'), EscapeAction::Quit);
    }
}
