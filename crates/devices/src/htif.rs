//! Spike's host-target interface (HTIF): the protocol logic, with no memory
//! region of its own.
//!
//! The guest writes a command word to the `tohost` symbol in RAM and, for
//! commands that answer, polls `fromhost`. The machine watches `tohost`
//! between execution slices; when it is non-zero the machine clears it,
//! passes the value to [`Htif::handle_tohost`] and acts on the returned
//! [`HtifEvent`]. Answers are queued inside [`Htif`]; whenever the guest's
//! `fromhost` reads 0 the machine writes the next one from
//! [`Htif::next_fromhost`]. [`Htif::poll`] services the console between
//! slices (a pending `getchar` is answered when a byte arrives).
//!
//! A command word is `device << 56 | command << 48 | payload` (48 bits).
//! Supported:
//!
//! - device 0 (syscall proxy), command 0: if `payload & 1`, exit with code
//!   `payload >> 1` (riscv-tests: `tohost = 1` passes, `(n << 1) | 1` fails
//!   test `n`); otherwise `payload` is the guest address of a `magic_mem`
//!   block of 8 little-endian u64 words `[syscall number, arg0, arg1, ...]`.
//!   `SYS_write` (64) to fd 1 or 2 goes to the console, `SYS_exit` (93) and
//!   `SYS_exit_group` (94) exit; the return value goes back into word 0 and
//!   the answer is `fromhost = 1`.
//! - device 1 (console), command 1: put the character `payload & 0xff`;
//!   answered with `0x100 | ch` in the payload.
//! - device 1, command 0: get a character; answered with `0x100 | ch` once one
//!   is typed.

use std::collections::VecDeque;

use crate::GUEST_ERRORS;
use crate::chardev::{CharBackend, CharInput};

/// Syscall number of `write` in the proxy (RISC-V Linux numbering).
pub const SYS_WRITE: u64 = 64;
/// Syscall number of `exit`.
pub const SYS_EXIT: u64 = 93;
/// Syscall number of `exit_group`.
pub const SYS_EXIT_GROUP: u64 = 94;

const EBADF: i64 = 9;
const ENOSYS: i64 = 38;
const PAYLOAD_MASK: u64 = (1 << 48) - 1;
/// Bytes of a `SYS_write` buffer copied per guest-memory read.
const WRITE_CHUNK: usize = 4096;

pub use crate::guest_memory::{GuestMemory as HtifMemory, GuestMemoryError as HtifMemoryError};

/// Errors of HTIF command handling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtifError {
    /// A command pointed the host at guest memory that does not exist (Spike
    /// stops with "bad address" here too).
    #[error("htif command 0x{tohost:016x}: {source}")]
    BadGuestMemory {
        /// The command word.
        tohost: u64,
        /// The failed access.
        #[source]
        source: HtifMemoryError,
    },
}

/// Result of HTIF command handling.
pub type Result<T> = std::result::Result<T, HtifError>;

/// A decoded `tohost` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtifCommand {
    /// Device number (bits 63..56).
    pub device: u8,
    /// Command number (bits 55..48).
    pub command: u8,
    /// Payload (bits 47..0).
    pub payload: u64,
}

impl HtifCommand {
    /// Splits a `tohost` word into device, command and payload.
    pub fn from_tohost(tohost: u64) -> Self {
        HtifCommand {
            device: (tohost >> 56) as u8,
            command: (tohost >> 48) as u8,
            payload: tohost & PAYLOAD_MASK,
        }
    }

    /// The command word again.
    pub fn to_tohost(self) -> u64 {
        (u64::from(self.device) << 56)
            | (u64::from(self.command) << 48)
            | (self.payload & PAYLOAD_MASK)
    }

    /// The `fromhost` word answering this command with `payload`: same
    /// device and command, new payload.
    pub fn response(self, payload: u64) -> u64 {
        HtifCommand { payload, ..self }.to_tohost()
    }
}

/// What the machine must do after an HTIF step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtifEvent {
    /// Keep running.
    Continue,
    /// The guest exited with this code (0 = pass).
    Exit(u64),
    /// The user asked to quit at the console (`Ctrl-A x`).
    Quit,
}

/// HTIF host state: the console and the answers waiting for `fromhost`.
pub struct Htif {
    console: Box<dyn CharBackend>,
    /// `getchar` commands not yet answered, oldest first.
    pending_reads: VecDeque<HtifCommand>,
    /// Typed bytes not yet asked for.
    input: VecDeque<u8>,
    responses: VecDeque<u64>,
}

impl Htif {
    /// HTIF host whose console is `console`.
    pub fn new(console: Box<dyn CharBackend>) -> Self {
        Htif {
            console,
            pending_reads: VecDeque::new(),
            input: VecDeque::new(),
            responses: VecDeque::new(),
        }
    }

    /// Handles one command the guest wrote to `tohost` (the machine has
    /// already cleared `tohost`). Answers are queued for [`Htif::next_fromhost`].
    pub fn handle_tohost(&mut self, tohost: u64, mem: &mut dyn HtifMemory) -> Result<HtifEvent> {
        let cmd = HtifCommand::from_tohost(tohost);
        match (cmd.device, cmd.command) {
            (0, 0) if cmd.payload & 1 == 1 => Ok(HtifEvent::Exit(cmd.payload >> 1)),
            (0, 0) => self
                .syscall(cmd, mem)
                .map_err(|source| HtifError::BadGuestMemory { tohost, source }),
            (1, 1) => {
                self.console_write(&[cmd.payload as u8]);
                self.responses
                    .push_back(cmd.response(0x100 | (cmd.payload & 0xff)));
                Ok(HtifEvent::Continue)
            }
            (1, 0) => {
                self.pending_reads.push_back(cmd);
                self.answer_reads();
                Ok(HtifEvent::Continue)
            }
            _ => {
                tracing::warn!(
                    target: GUEST_ERRORS,
                    "htif: unsupported command {} of device {} (tohost 0x{tohost:016x})",
                    cmd.command,
                    cmd.device
                );
                Ok(HtifEvent::Continue)
            }
        }
    }

    /// Reads console input and answers waiting `getchar` commands. Returns
    /// [`HtifEvent::Quit`] if the user asked to quit.
    pub fn poll(&mut self) -> HtifEvent {
        let mut event = HtifEvent::Continue;
        if self.input.len() < 256 {
            let mut buf = [0u8; 64];
            match self.console.read_input(&mut buf) {
                Ok(CharInput::Data(n)) => self.input.extend(&buf[..n]),
                Ok(CharInput::Idle) => {}
                Ok(CharInput::Quit) => event = HtifEvent::Quit,
                Err(err) => tracing::warn!("htif: console input failed: {err}"),
            }
        }
        self.answer_reads();
        event
    }

    /// The next answer to write to the guest's `fromhost`; call only when
    /// the guest's `fromhost` is 0 (answers are never overwritten).
    pub fn next_fromhost(&mut self) -> Option<u64> {
        self.responses.pop_front()
    }

    /// Whether answers are waiting for `fromhost`.
    pub fn has_pending_fromhost(&self) -> bool {
        !self.responses.is_empty()
    }

    fn answer_reads(&mut self) {
        while !self.pending_reads.is_empty() && !self.input.is_empty() {
            if let (Some(cmd), Some(ch)) = (self.pending_reads.pop_front(), self.input.pop_front())
            {
                self.responses
                    .push_back(cmd.response(0x100 | u64::from(ch)));
            }
        }
    }

    fn console_write(&mut self, bytes: &[u8]) {
        if let Err(err) = self.console.write(bytes) {
            tracing::warn!("htif: console output failed: {err}");
        }
    }

    fn syscall(
        &mut self,
        cmd: HtifCommand,
        mem: &mut dyn HtifMemory,
    ) -> std::result::Result<HtifEvent, HtifMemoryError> {
        let base = cmd.payload;
        let mut raw = [0u8; 64];
        mem.read(base, &mut raw)?;
        let mut words = [0u64; 8];
        for (word, bytes) in words.iter_mut().zip(raw.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(bytes);
            *word = u64::from_le_bytes(le);
        }
        let [number, a0, a1, a2, ..] = words;
        let ret: i64 = match number {
            SYS_EXIT | SYS_EXIT_GROUP => return Ok(HtifEvent::Exit(a0)),
            SYS_WRITE if a0 == 1 || a0 == 2 => {
                let mut done = 0u64;
                let mut chunk = vec![0u8; WRITE_CHUNK];
                while done < a2 {
                    let n = (a2 - done).min(WRITE_CHUNK as u64) as usize;
                    mem.read(a1.wrapping_add(done), &mut chunk[..n])?;
                    self.console_write(&chunk[..n]);
                    done += n as u64;
                }
                a2 as i64
            }
            SYS_WRITE => -EBADF,
            _ => {
                tracing::warn!(target: GUEST_ERRORS, "htif: unsupported syscall {number}");
                -ENOSYS
            }
        };
        mem.write(base, &ret.to_le_bytes())?;
        self.responses.push_back(cmd.response(1));
        Ok(HtifEvent::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chardev::BufferBackend;
    use crate::guest_memory::{GuestMemory, VecMemory};

    fn put_u64s(mem: &mut VecMemory, addr: u64, words: &[u64]) {
        for (i, w) in words.iter().enumerate() {
            mem.write_u64(addr + 8 * i as u64, *w).unwrap();
        }
    }

    fn rig() -> (Htif, BufferBackend, VecMemory) {
        let console = BufferBackend::new();
        let htif = Htif::new(Box::new(console.clone()));
        (htif, console, VecMemory::new(0x8000_0000, 0x10000))
    }

    #[test]
    fn decoder_splits_fields() {
        let cmd = HtifCommand::from_tohost(0x0101_0000_0000_0041);
        assert_eq!(
            cmd,
            HtifCommand {
                device: 1,
                command: 1,
                payload: 0x41
            }
        );
        assert_eq!(cmd.to_tohost(), 0x0101_0000_0000_0041);
        let cmd = HtifCommand::from_tohost(0xff00_8000_1234_5678);
        assert_eq!(
            (cmd.device, cmd.command, cmd.payload),
            (0xff, 0x00, 0x8000_1234_5678)
        );
        assert_eq!(cmd.response(1), 0xff00_0000_0000_0001);
    }

    #[test]
    fn exit_codes() {
        let (mut htif, _, mut mem) = rig();
        assert_eq!(htif.handle_tohost(1, &mut mem).unwrap(), HtifEvent::Exit(0));
        assert_eq!(
            htif.handle_tohost((5 << 1) | 1, &mut mem).unwrap(),
            HtifEvent::Exit(5)
        );
        assert_eq!(htif.next_fromhost(), None, "exit is not answered");
    }

    #[test]
    fn console_putchar_and_ack() {
        let (mut htif, console, mut mem) = rig();
        for ch in b"ok" {
            let tohost = HtifCommand {
                device: 1,
                command: 1,
                payload: u64::from(*ch),
            }
            .to_tohost();
            assert_eq!(
                htif.handle_tohost(tohost, &mut mem).unwrap(),
                HtifEvent::Continue
            );
        }
        assert_eq!(console.output(), b"ok");
        assert_eq!(htif.next_fromhost(), Some(0x0101_0000_0000_016f));
        assert_eq!(htif.next_fromhost(), Some(0x0101_0000_0000_016b));
        assert_eq!(htif.next_fromhost(), None);
    }

    #[test]
    fn console_getchar_waits_for_input() {
        let (mut htif, console, mut mem) = rig();
        let getchar = HtifCommand {
            device: 1,
            command: 0,
            payload: 0,
        }
        .to_tohost();
        htif.handle_tohost(getchar, &mut mem).unwrap();
        assert_eq!(htif.poll(), HtifEvent::Continue);
        assert!(!htif.has_pending_fromhost(), "nothing typed yet");
        console.push_input(b"ab");
        htif.poll();
        assert_eq!(htif.next_fromhost(), Some(0x0100_0000_0000_0161));
        assert_eq!(htif.next_fromhost(), None, "one answer per request");
        htif.handle_tohost(getchar, &mut mem).unwrap();
        assert_eq!(
            htif.next_fromhost(),
            Some(0x0100_0000_0000_0162),
            "buffered byte answers at once"
        );
    }

    #[test]
    fn syscall_write_to_stdout() {
        let (mut htif, console, mut mem) = rig();
        let magic = 0x8000_1000;
        let text = 0x8000_2000;
        mem.write(text, b"hello from sys_write\n").unwrap();
        put_u64s(&mut mem, magic, &[SYS_WRITE, 1, text, 21, 0, 0, 0, 0]);
        assert_eq!(
            htif.handle_tohost(magic, &mut mem).unwrap(),
            HtifEvent::Continue
        );
        assert_eq!(console.output(), b"hello from sys_write\n");
        assert_eq!(
            mem.read_u64(magic).unwrap(),
            21,
            "return value in magic_mem[0]"
        );
        assert_eq!(htif.next_fromhost(), Some(1));
    }

    #[test]
    fn syscall_write_large_buffer_and_bad_fd() {
        let (mut htif, console, mut mem) = rig();
        let magic = 0x8000_0000;
        let text = 0x8000_0100;
        let big: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        mem.write(text, &big).unwrap();
        put_u64s(&mut mem, magic, &[SYS_WRITE, 2, text, big.len() as u64]);
        htif.handle_tohost(magic, &mut mem).unwrap();
        assert_eq!(console.take_output(), big);
        put_u64s(&mut mem, magic, &[SYS_WRITE, 7, text, 4]);
        htif.handle_tohost(magic, &mut mem).unwrap();
        assert_eq!(mem.read_u64(magic).unwrap() as i64, -EBADF);
        assert!(console.output().is_empty());
        put_u64s(&mut mem, magic, &[1234]);
        htif.handle_tohost(magic, &mut mem).unwrap();
        assert_eq!(mem.read_u64(magic).unwrap() as i64, -ENOSYS);
    }

    #[test]
    fn syscall_exit() {
        let (mut htif, _, mut mem) = rig();
        let magic = 0x8000_0040;
        put_u64s(&mut mem, magic, &[SYS_EXIT, 3]);
        assert_eq!(
            htif.handle_tohost(magic, &mut mem).unwrap(),
            HtifEvent::Exit(3)
        );
        put_u64s(&mut mem, magic, &[SYS_EXIT_GROUP, 0]);
        assert_eq!(
            htif.handle_tohost(magic, &mut mem).unwrap(),
            HtifEvent::Exit(0)
        );
    }

    #[test]
    fn bad_pointers_are_errors_not_panics() {
        let (mut htif, _, mut mem) = rig();
        let err = htif.handle_tohost(0x10, &mut mem).unwrap_err();
        assert!(matches!(
            err,
            HtifError::BadGuestMemory { tohost: 0x10, .. }
        ));
        let magic = 0x8000_0000;
        put_u64s(&mut mem, magic, &[SYS_WRITE, 1, 0x9000_0000, 8]);
        assert!(htif.handle_tohost(magic, &mut mem).is_err());
        assert!(!htif.has_pending_fromhost());
    }

    #[test]
    fn unknown_devices_are_ignored() {
        let (mut htif, _, mut mem) = rig();
        let tohost = HtifCommand {
            device: 9,
            command: 3,
            payload: 0,
        }
        .to_tohost();
        assert_eq!(
            htif.handle_tohost(tohost, &mut mem).unwrap(),
            HtifEvent::Continue
        );
        assert_eq!(htif.next_fromhost(), None);
    }
}
