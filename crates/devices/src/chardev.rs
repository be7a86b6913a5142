//! Character backends: where a UART's bytes go, and where its input comes
//! from.
//!
//! A [`CharBackend`] is polled, never waited on: [`CharBackend::read_input`]
//! returns at once with whatever the host has ready, so one thread can run the
//! guest and service the console. This module holds the interface and the
//! back-ends that touch no host resource:
//!
//! - [`NullBackend`]: discards output, never has input.
//! - [`BufferBackend`]: in-memory, for tests and for capturing output.
//!
//! The terminal, file and Unix-socket back-ends are in `ferrite-chardev`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

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

    /// How many bytes have been written so far.
    pub fn output_len(&self) -> usize {
        self.output.borrow().len()
    }

    /// The bytes written from offset `from` on (empty past the end).
    pub fn output_from(&self, from: usize) -> Vec<u8> {
        let out = self.output.borrow();
        out.get(from..).map(<[u8]>::to_vec).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_backend_round_trip() {
        let backend = BufferBackend::new();
        let mut boxed: Box<dyn CharBackend> = Box::new(backend.clone());
        boxed.write(b"out").unwrap();
        backend.push_input(b"in");
        assert_eq!(backend.output(), b"out");
        let mut buf = [0u8; 3];
        assert_eq!(boxed.read_input(&mut buf).unwrap(), CharInput::Data(2));
        assert_eq!(&buf[..2], b"in");
        assert_eq!(boxed.read_input(&mut buf).unwrap(), CharInput::Idle);
        assert_eq!(backend.take_output(), b"out");
        assert!(backend.output().is_empty());
    }
}
