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
use std::io::{self, Write};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

mod stdio;
mod unix_socket;

pub use stdio::{ESCAPE_CHAR, Stdio, restore_terminal};
pub use unix_socket::UnixSocket;

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};

    pub(super) fn pipe() -> (OwnedFd, File) {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
        assert_eq!(rc, 0);
        // SAFETY: both descriptors were just created and are owned by nobody else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
    }

    pub(super) fn drain(backend: &mut dyn CharBackend) -> (Vec<u8>, bool) {
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

    pub(super) fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ferrite-chardev-{}-{name}", std::process::id()))
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
