//! The board's console: a character backend chosen by [`SerialConfig`],
//! shared between the device that owns it (UART0 on `virt`) and, on
//! `spike`, the HTIF front end.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ferrite_chardev::{ConsoleMux, Stdio, parse_backend_spec};
use ferrite_devices::chardev::BufferBackend;
use ferrite_devices::{CharBackend, CharInput};

use crate::config::{OutputPattern, SerialConfig};
use crate::error::Result;

/// A backend shared by several writers, counting the bytes written through
/// it and, once [`SharedBackend::keep_recent`] asks, keeping the most
/// recent of them. Cloning shares the backend, the count and the bytes.
#[derive(Clone)]
pub(crate) struct SharedBackend(
    Rc<RefCell<Box<dyn CharBackend>>>,
    Rc<Cell<u64>>,
    Rc<RefCell<Option<RecentOutput>>>,
);

/// The output [`SharedBackend::recent_matches`] searches.
#[derive(Default)]
pub(crate) struct RecentOutput {
    /// The output not yet matched, at most the window plus what arrived
    /// since the last search.
    bytes: Vec<u8>,
    /// Output arrived since the last search (an unchanged tail that did not
    /// match before cannot match now).
    fresh: bool,
}

impl SharedBackend {
    /// Bytes the guest has written to the console so far.
    pub fn bytes_written(&self) -> u64 {
        self.1.get()
    }

    /// Keep what the guest writes from now on, for [`Self::recent_matches`].
    pub fn keep_recent(&self) {
        self.2
            .borrow_mut()
            .get_or_insert_with(RecentOutput::default);
    }

    /// True if `pattern` matches the output kept since the last match; the
    /// kept output is then dropped (a match is reported once). Of output
    /// that does not match, the last `window` bytes are kept, so a match
    /// split across two writes is still found.
    pub fn recent_matches(&self, pattern: &OutputPattern, window: usize) -> bool {
        let mut recent = self.2.borrow_mut();
        let Some(recent) = recent.as_mut().filter(|r| r.fresh) else {
            return false;
        };
        recent.fresh = false;
        if pattern.is_match(&recent.bytes) {
            recent.bytes.clear();
            return true;
        }
        let excess = recent.bytes.len().saturating_sub(window);
        recent.bytes.drain(..excess);
        false
    }
}

impl CharBackend for SharedBackend {
    fn write(&mut self, bytes: &[u8]) -> ferrite_devices::chardev::Result<()> {
        self.1.set(self.1.get().wrapping_add(bytes.len() as u64));
        if let Some(recent) = self.2.borrow_mut().as_mut() {
            recent.bytes.extend_from_slice(bytes);
            recent.fresh = true;
        }
        self.0.borrow_mut().write(bytes)
    }

    fn read_input(&mut self, buf: &mut [u8]) -> ferrite_devices::chardev::Result<CharInput> {
        self.0.borrow_mut().read_input(buf)
    }
}

/// The console of a board.
pub(crate) struct Console {
    /// The backend (shared).
    pub backend: SharedBackend,
    /// For [`SerialConfig::Capture`]: the buffer holding the output.
    pub capture: Option<BufferBackend>,
    /// True if input may arrive from outside at any time (a terminal, a
    /// pipe, a socket): an idle guest then waits for it instead of being
    /// declared stuck.
    pub interactive: bool,
}

impl Console {
    /// Opens the backend `config` names; a terminal shared with the monitor
    /// when `mux` is given.
    pub fn open(config: &SerialConfig, mux: Option<&ConsoleMux>) -> Result<Self> {
        let (backend, capture, interactive): (Box<dyn CharBackend>, _, _) = match config {
            SerialConfig::Stdio => match mux {
                Some(mux) => (
                    Box::new(Stdio::new()?.with_mux(mux.clone())),
                    None,
                    stdin_can_grow(),
                ),
                None => (parse_backend_spec("stdio")?, None, stdin_can_grow()),
            },
            SerialConfig::Null => (parse_backend_spec("null")?, None, false),
            SerialConfig::File(p) => (
                parse_backend_spec(&format!("file:{}", p.display()))?,
                None,
                false,
            ),
            SerialConfig::Unix { path, wait } => (
                parse_backend_spec(&format!(
                    "unix:{}{}",
                    path.display(),
                    if *wait { "" } else { ",wait=off" }
                ))?,
                None,
                true,
            ),
            SerialConfig::Capture { input } => {
                let buf = BufferBackend::new();
                buf.push_input(input);
                (Box::new(buf.clone()), Some(buf), false)
            }
        };
        Ok(Self {
            backend: SharedBackend(
                Rc::new(RefCell::new(backend)),
                Rc::new(Cell::new(0)),
                Rc::new(RefCell::new(None)),
            ),
            capture,
            interactive,
        })
    }

    /// Another handle on the same console: the backend, its count and any
    /// capture buffer are shared.
    pub fn share(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            capture: self.capture.clone(),
            interactive: self.interactive,
        }
    }

    /// Reads what the terminal has now (the machine is stopped, so no device
    /// reads it): keys for the guest are kept for it, keys for the monitor
    /// go to the mux. True if `Ctrl-A x` asked to quit.
    pub fn pump(&self, mux: &ConsoleMux) -> bool {
        mux.pump(&mut **self.backend.0.borrow_mut())
    }

    /// A reader closure for the HTIF console: what the backend has ready
    /// (a terminal's `Ctrl-A` keys are the terminal's own; backend errors
    /// are logged and read as nothing).
    pub fn reader(&self) -> crate::htif::ConsoleReader {
        let backend = self.backend.clone();
        Box::new(move |buf| match backend.0.borrow_mut().read_input(buf) {
            Ok(ferrite_devices::CharInput::Data(n)) => n,
            Ok(_) => 0,
            Err(e) => {
                tracing::warn!("console input failed: {e}");
                0
            }
        })
    }

    /// A writer closure for the HTIF console (errors are logged, not fatal:
    /// a closed terminal must not stop the guest).
    pub fn writer(&self) -> crate::htif::ConsoleWriter {
        let backend = self.backend.clone();
        Box::new(move |bytes| {
            if let Err(e) = backend.0.borrow_mut().write(bytes) {
                tracing::warn!("console output failed: {e}");
            }
        })
    }
}

/// True if more input may still arrive on stdin later: a terminal, a pipe or
/// a socket. A regular file or `/dev/null` is read to its end and then
/// nothing more can come, so an idle guest reading it is stuck, not waiting.
/// When the kind of stdin cannot be told, assume input may come.
fn stdin_can_grow() -> bool {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match std::fs::metadata("/proc/self/fd/0") {
            Ok(m) => {
                let t = m.file_type();
                t.is_fifo() || t.is_socket()
            }
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> Console {
        let c = Console::open(&SerialConfig::Null, None).expect("null console");
        c.backend.keep_recent();
        c
    }

    #[test]
    fn a_match_split_across_writes_is_found_once() {
        let c = console();
        let pattern = OutputPattern::new("~ # $").unwrap();
        let mut b = c.backend.clone();
        b.write(b"boot\n~ ").unwrap();
        assert!(!c.backend.recent_matches(&pattern, 8));
        b.write(b"# ").unwrap();
        assert!(c.backend.recent_matches(&pattern, 8));
        // Reported once: nothing new, no match.
        assert!(!c.backend.recent_matches(&pattern, 8));
        b.write(b"~").unwrap();
        assert!(!c.backend.recent_matches(&pattern, 8));
    }

    #[test]
    fn only_the_window_of_unmatched_output_is_kept() {
        let c = console();
        let pattern = OutputPattern::new("a[x]*b").unwrap();
        let mut b = c.backend.clone();
        b.write(b"a").unwrap();
        b.write(&[b'x'; 100]).unwrap();
        assert!(!c.backend.recent_matches(&pattern, 4));
        // The `a` fell out of the window long ago.
        b.write(b"b").unwrap();
        assert!(!c.backend.recent_matches(&pattern, 4));
        b.write(b"ab").unwrap();
        assert!(c.backend.recent_matches(&pattern, 4));
        // With a window holding the `a`, the same output matches.
        let c = console();
        let mut b = c.backend.clone();
        b.write(b"a").unwrap();
        b.write(&[b'x'; 100]).unwrap();
        assert!(!c.backend.recent_matches(&pattern, 200));
        b.write(b"b").unwrap();
        assert!(c.backend.recent_matches(&pattern, 200));
    }
}
