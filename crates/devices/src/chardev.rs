//! Character backends: where a UART's or HTIF console's bytes go, and where
//! its input comes from.
//!
//! A [`CharBackend`] is polled, never waited on: [`CharBackend::read_input`]
//! returns at once with whatever the host has ready, so one thread can run the
//! guest and service the console. Backends:
//!
//! - [`Stdio`]: the terminal. When stdin is a tty it is put in raw mode
//!   (restored on drop and at process exit) and `Ctrl-A x` quits, `Ctrl-A
//!   Ctrl-A` sends a literal `Ctrl-A`, `Ctrl-A h` prints help, as in QEMU's
//!   `-nographic`. When stdin is a pipe or file, bytes are passed as they are
//!   and end of input is simply "no more input".
//! - [`FileBackend`]: output to a file, no input.
//! - [`UnixSocket`]: listens on a Unix socket and serves one client at a time.
//! - [`NullBackend`]: discards output, never has input.
//! - [`BufferBackend`]: in-memory, for tests and for capturing output.
//!
//! [`parse_backend_spec`] turns a command-line spec (`stdio`, `null`,
//! `file:PATH`, `unix:PATH`) into a backend.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Errors of character backends.
#[derive(Debug, thiserror::Error)]
pub enum ChardevError {
    /// The backend spec names no known backend.
    #[error("unknown character backend `{0}` (expected stdio, null, file:PATH or unix:PATH)")]
    UnknownSpec(String),
    /// A `file:` or `unix:` spec without a path.
    #[error("character backend `{0}` needs a path")]
    MissingPath(String),
    /// Opening, binding or configuring the backend's host resource failed.
    #[error("cannot {action} {path}: {source}")]
    Open {
        /// What was being done (e.g. "create", "listen on").
        action: &'static str,
        /// The host path involved.
        path: PathBuf,
        /// The host error.
        #[source]
        source: io::Error,
    },
    /// Reading from or writing to the host failed.
    #[error("character backend I/O: {0}")]
    Io(#[from] io::Error),
}

/// Result of a character backend operation.
pub type Result<T> = std::result::Result<T, ChardevError>;

/// What a poll of a backend's input found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharInput {
    /// This many bytes (at least one) were placed at the start of the buffer.
    Data(usize),
    /// Nothing is ready now (including: the input has ended).
    Idle,
    /// The user asked to quit the emulator (`Ctrl-A x` on a terminal).
    Quit,
}

/// A host-side character device.
pub trait CharBackend {
    /// Sends `bytes` to the host. Output the host cannot take (no client
    /// connected) is dropped, not an error.
    fn write(&mut self, bytes: &[u8]) -> Result<()>;

    /// Returns at once with the input that is ready, at most `buf.len()` bytes.
    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput>;
}

/// Parses a backend spec: `stdio`, `null`, `file:PATH` (output only, the file
/// is truncated) or `unix:PATH` (listen on a Unix socket; QEMU's option
/// suffixes such as `,server=on,wait=off` are accepted and ignored).
pub fn parse_backend_spec(spec: &str) -> Result<Box<dyn CharBackend>> {
    match spec {
        "stdio" | "mon:stdio" => return Ok(Box::new(Stdio::new()?)),
        "null" | "none" => return Ok(Box::new(NullBackend)),
        _ => {}
    }
    if let Some(path) = spec.strip_prefix("file:") {
        if path.is_empty() {
            return Err(ChardevError::MissingPath(spec.to_owned()));
        }
        return Ok(Box::new(FileBackend::create(Path::new(path))?));
    }
    if let Some(rest) = spec.strip_prefix("unix:") {
        let path = rest.split(',').next().unwrap_or("");
        if path.is_empty() {
            return Err(ChardevError::MissingPath(spec.to_owned()));
        }
        return Ok(Box::new(UnixSocket::listen(Path::new(path))?));
    }
    Err(ChardevError::UnknownSpec(spec.to_owned()))
}

/// Discards output; never has input.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullBackend;

impl CharBackend for NullBackend {
    fn write(&mut self, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }

    fn read_input(&mut self, _buf: &mut [u8]) -> Result<CharInput> {
        Ok(CharInput::Idle)
    }
}

/// An in-memory backend: output is appended to a shared buffer, input is
/// taken from a shared queue. Clones share both.
#[derive(Debug, Default, Clone)]
pub struct BufferBackend {
    output: Rc<RefCell<Vec<u8>>>,
    input: Rc<RefCell<VecDeque<u8>>>,
}

impl BufferBackend {
    /// An empty buffer backend.
    pub fn new() -> Self {
        BufferBackend::default()
    }

    /// Queues bytes to be read as input.
    pub fn push_input(&self, bytes: &[u8]) {
        self.input.borrow_mut().extend(bytes.iter().copied());
    }

    /// Everything written so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.borrow().clone()
    }

    /// Everything written so far, removed from the buffer.
    pub fn take_output(&self) -> Vec<u8> {
        std::mem::take(&mut *self.output.borrow_mut())
    }
}

impl CharBackend for BufferBackend {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.output.borrow_mut().extend_from_slice(bytes);
        Ok(())
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        let mut input = self.input.borrow_mut();
        let n = buf.len().min(input.len());
        if n == 0 {
            return Ok(CharInput::Idle);
        }
        for (slot, byte) in buf.iter_mut().zip(input.drain(..n)) {
            *slot = byte;
        }
        Ok(CharInput::Data(n))
    }
}

/// Output to a host file (created or truncated); no input.
#[derive(Debug)]
pub struct FileBackend {
    file: File,
}

impl FileBackend {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|source| ChardevError::Open {
            action: "create",
            path: path.to_owned(),
            source,
        })?;
        Ok(FileBackend { file })
    }
}

impl CharBackend for FileBackend {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all(bytes)?;
        Ok(())
    }

    fn read_input(&mut self, _buf: &mut [u8]) -> Result<CharInput> {
        Ok(CharInput::Idle)
    }
}

/// Waits at most `timeout_ms` for `fd` to have `events`; true if it has them
/// (or reports an error or hang-up, which a following read or write reveals).
fn fd_ready(fd: RawFd, events: libc::c_short, timeout_ms: libc::c_int) -> io::Result<bool> {
    let mut pollfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: `pollfd` is one valid, initialised pollfd that lives across the call.
        let rc = unsafe { libc::poll(&mut pollfd, 1, timeout_ms) };
        if rc >= 0 {
            return Ok(rc > 0 && pollfd.revents != 0);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

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
}

impl Stdio {
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
        if self.output_closed {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        let result = out.write_all(bytes).and_then(|()| out.flush());
        if result.is_err() {
            self.output_closed = true;
        }
        Ok(result?)
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        if self.quit_pending {
            self.quit_pending = false;
            return Ok(CharInput::Quit);
        }
        let n = self.input.read_ready(buf)?;
        let Some(decoder) = self.escapes.as_mut() else {
            return Ok(if n == 0 {
                CharInput::Idle
            } else {
                CharInput::Data(n)
            });
        };
        // Decode in place: the output never outruns the input.
        let mut kept = 0;
        let mut help = false;
        for i in 0..n {
            match decoder.feed(buf[i]) {
                EscapeAction::Byte(b) => {
                    buf[kept] = b;
                    kept += 1;
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
        }
        if kept > 0 {
            return Ok(CharInput::Data(kept));
        }
        if self.quit_pending {
            self.quit_pending = false;
            return Ok(CharInput::Quit);
        }
        Ok(CharInput::Idle)
    }
}

/// A listening Unix socket serving one client at a time. Output while no
/// client is connected is dropped; a client that disconnects is replaced by
/// the next one to connect.
#[derive(Debug)]
pub struct UnixSocket {
    listener: UnixListener,
    client: Option<UnixStream>,
    path: PathBuf,
}

impl UnixSocket {
    /// Listens on `path`, replacing a stale socket file left there.
    pub fn listen(path: &Path) -> Result<Self> {
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.file_type().is_socket()
        {
            let _ = std::fs::remove_file(path);
        }
        let open_err = |action, source| ChardevError::Open {
            action,
            path: path.to_owned(),
            source,
        };
        let listener = UnixListener::bind(path).map_err(|e| open_err("listen on", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| open_err("configure", e))?;
        Ok(UnixSocket {
            listener,
            client: None,
            path: path.to_owned(),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True while a client is connected.
    pub fn has_client(&mut self) -> bool {
        self.accept_client();
        self.client.is_some()
    }

    fn accept_client(&mut self) {
        if self.client.is_some() {
            return;
        }
        match self.listener.accept() {
            Ok((stream, _)) => {
                // Reads are polled first, so the stream stays blocking; that
                // makes writes complete instead of dropping bytes mid-line.
                if stream.set_nonblocking(false).is_ok() {
                    self.client = Some(stream);
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => tracing::warn!("unix socket {}: accept failed: {err}", self.path.display()),
        }
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl CharBackend for UnixSocket {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.accept_client();
        if let Some(client) = self.client.as_mut()
            && client.write_all(bytes).is_err()
        {
            self.client = None;
        }
        Ok(())
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        self.accept_client();
        let Some(client) = self.client.as_mut() else {
            return Ok(CharInput::Idle);
        };
        if buf.is_empty() || !fd_ready(client.as_raw_fd(), libc::POLLIN, 0)? {
            return Ok(CharInput::Idle);
        }
        match client.read(buf) {
            Ok(0) => {
                self.client = None;
                Ok(CharInput::Idle)
            }
            Ok(n) => Ok(CharInput::Data(n)),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(CharInput::Idle)
            }
            Err(_) => {
                self.client = None;
                Ok(CharInput::Idle)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};

    fn pipe() -> (OwnedFd, File) {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
        assert_eq!(rc, 0);
        // SAFETY: both descriptors were just created and are owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    fn drain(backend: &mut dyn CharBackend) -> (Vec<u8>, bool) {
        let mut all = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            match backend.read_input(&mut buf).unwrap() {
                CharInput::Data(n) => all.extend_from_slice(&buf[..n]),
                CharInput::Idle => return (all, false),
                CharInput::Quit => return (all, true),
            }
        }
    }

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

    #[test]
    fn buffer_backend_round_trip() {
        let backend = BufferBackend::new();
        let mut boxed: Box<dyn CharBackend> = Box::new(backend.clone());
        boxed.write(b"out").unwrap();
        backend.push_input(b"in");
        assert_eq!(backend.output(), b"out");
        assert_eq!(drain(boxed.as_mut()).0, b"in");
        assert_eq!(backend.take_output(), b"out");
        assert!(backend.output().is_empty());
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ferrite-chardev-{}-{name}", std::process::id()))
    }

    #[test]
    fn file_backend_writes_and_has_no_input() {
        let path = temp_path("file");
        let mut backend = parse_backend_spec(&format!("file:{}", path.display())).unwrap();
        backend.write(b"line 1\n").unwrap();
        backend.write(b"line 2\n").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(backend.read_input(&mut buf).unwrap(), CharInput::Idle);
        drop(backend);
        assert_eq!(std::fs::read(&path).unwrap(), b"line 1\nline 2\n");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn unix_socket_serves_one_client() {
        let path = temp_path("sock");
        let mut server = UnixSocket::listen(&path).unwrap();
        assert!(!server.has_client());
        server.write(b"dropped").unwrap();
        let mut client = UnixStream::connect(&path).unwrap();
        assert!(server.has_client());
        server.write(b"to client").unwrap();
        let mut got = [0u8; 9];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"to client");
        client.write_all(b"from client").unwrap();
        let mut all = Vec::new();
        for _ in 0..100 {
            let (bytes, _) = drain(&mut server);
            all.extend(bytes);
            if all.len() >= 11 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(all, b"from client");
        drop(client);
        let mut buf = [0u8; 4];
        assert_eq!(server.read_input(&mut buf).unwrap(), CharInput::Idle);
        assert!(!server.has_client(), "a closed client is dropped");
        drop(server);
        assert!(!path.exists(), "the socket file is removed on drop");
    }

    #[test]
    fn spec_parsing() {
        assert!(parse_backend_spec("null").is_ok());
        assert!(matches!(
            parse_backend_spec("tcp:1234"),
            Err(ChardevError::UnknownSpec(_))
        ));
        assert!(matches!(
            parse_backend_spec("file:"),
            Err(ChardevError::MissingPath(_))
        ));
        assert!(matches!(
            parse_backend_spec("unix:,server"),
            Err(ChardevError::MissingPath(_))
        ));
        let bad = parse_backend_spec("file:/nonexistent-dir/x").err().unwrap();
        assert!(bad.to_string().contains("/nonexistent-dir/x"), "{bad}");
        let path = temp_path("spec-sock");
        let spec = format!("unix:{},server=on,wait=off", path.display());
        let backend = parse_backend_spec(&spec).unwrap();
        assert!(path.exists());
        drop(backend);
    }
}
