//! The terminal back-end on hosts without Unix terminal control: standard
//! input is read on a thread of its own and handed over without blocking,
//! standard output written directly. The terminal stays in its line mode
//! (no raw mode, so no `Ctrl-A` escapes): on such hosts, quit with the host's
//! own interrupt key.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use super::{CharBackend, CharInput, Result};

/// The escape character of the terminal multiplexer (Unix terminals only).
pub const ESCAPE_CHAR: u8 = 0x01;

/// Puts the terminal back as it was: nothing to do without raw mode.
pub fn restore_terminal() {}

/// The process's standard input and output.
#[derive(Debug)]
pub struct Stdio {
    input: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    ended: bool,
    output_closed: bool,
}

impl Stdio {
    /// Share the terminal with the monitor: this host has no terminal
    /// escapes, so every key goes to the guest.
    pub fn with_mux(self, _mux: crate::ConsoleMux) -> Self {
        self
    }

    /// Stdio on the process's stdin/stdout.
    pub fn new() -> Result<Self> {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut buf = [0u8; 256];
                let mut stdin = io::stdin();
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tx.send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                    }
                }
            })?;
        Ok(Stdio {
            input: rx,
            pending: Vec::new(),
            ended: false,
            output_closed: false,
        })
    }

    /// True once the input has reached end of file.
    pub fn input_ended(&self) -> bool {
        self.ended
    }
}

impl CharBackend for Stdio {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        super::write_stdout(&mut self.output_closed, bytes)
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<CharInput> {
        while self.pending.is_empty() && !self.ended {
            match self.input.try_recv() {
                Ok(bytes) => self.pending = bytes,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.ended = true,
            }
        }
        if self.pending.is_empty() {
            return Ok(CharInput::Idle);
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(CharInput::Data(n))
    }
}
