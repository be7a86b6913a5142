//! The host side of Ferrite's character devices: the terminal, files and
//! Unix sockets a UART or HTIF console talks through.
//!
//! The devices crate defines the [`CharBackend`] interface and the
//! in-memory back-ends; the back-ends here touch the host (raw terminal
//! modes, signals, `poll`), which takes `unsafe` FFI calls. Keeping them in
//! a crate of their own keeps `ferrite-devices` free of `unsafe` and of
//! host I/O. Back-ends:
//!
//! - [`Stdio`]: the terminal. When stdin is a tty it is put in raw mode
//!   (restored on drop and at process exit) and `Ctrl-A x` quits, `Ctrl-A
//!   Ctrl-A` sends a literal `Ctrl-A`, `Ctrl-A h` prints help, as in QEMU's
//!   `-nographic`. When stdin is a pipe or file, bytes are passed as they are
//!   and end of input is simply "no more input".
//!   With a [`ConsoleMux`] (QEMU's `mon:stdio`), `Ctrl-A c` switches the
//!   keys between the guest and the monitor.
//! - [`FileBackend`]: output to a file, no input.
//! - [`UnixSocket`]: listens on a Unix socket and serves one client at a time.
//!
//! [`parse_backend_spec`] turns a command-line spec (`stdio`, `null`,
//! `file:PATH`, `unix:PATH`) into a backend.
#![warn(missing_docs)]

use std::fs::File;
use std::io::{self, Write};
#[cfg(unix)]
use std::os::fd::RawFd;
use std::path::Path;

pub use ferrite_devices::chardev::{
    BufferBackend, CharBackend, CharInput, ChardevError, NullBackend, Result,
};

#[cfg(unix)]
mod stdio;
// Hosts without Unix terminal control (Windows): a portable back-end.
mod mux;
#[cfg(not(unix))]
#[path = "stdio_portable.rs"]
mod stdio;
#[cfg(unix)]
mod unix_socket;

pub use mux::ConsoleMux;

pub use stdio::{ESCAPE_CHAR, Stdio, restore_terminal};
#[cfg(unix)]
pub use unix_socket::UnixSocket;

/// Parses a backend spec: `stdio`, `null`, `file:PATH` (output only, the file
/// is truncated) or `unix:PATH` (listen on a Unix socket; QEMU's option
/// suffixes: `,server=on` is what it does; it waits for the first client
/// unless `,wait=off` or `,nowait`).
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
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or("");
        if path.is_empty() {
            return Err(ChardevError::MissingPath(spec.to_owned()));
        }
        // As QEMU's server sockets: wait for the first client unless told
        // `wait=off` (or `nowait`), so the guest's first output reaches it.
        let wait = !parts.any(|o| o == "wait=off" || o == "nowait");
        #[cfg(unix)]
        {
            let mut socket = UnixSocket::listen(Path::new(path))?;
            if wait {
                eprintln!("ferrite: waiting for a connection on unix socket {path}");
                socket.wait_for_client()?;
            }
            return Ok(Box::new(socket));
        }
        #[cfg(not(unix))]
        let _ = wait;
        #[cfg(not(unix))]
        return Err(ChardevError::Open {
            action: "listen on",
            path: Path::new(path).to_owned(),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "Unix sockets are not available on this OS",
            ),
        });
    }
    Err(ChardevError::UnknownSpec(spec.to_owned()))
}

/// Writes `bytes` to the process's stdout, flushed, unless `closed`: the
/// first failure (a closed pipe, a full disk) is returned and sets `closed`,
/// so later output is dropped instead of failing again. Both terminal
/// back-ends write through it.
fn write_stdout(closed: &mut bool, bytes: &[u8]) -> Result<()> {
    if *closed {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    let result = out.write_all(bytes).and_then(|()| out.flush());
    if result.is_err() {
        *closed = true;
    }
    Ok(result?)
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

#[cfg(unix)]
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::path::PathBuf;

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
