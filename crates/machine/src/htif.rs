//! The HTIF front end of the `spike` board: what Spike's `fesvr` does on the
//! host side of the `tohost`/`fromhost` mailbox.
//!
//! The guest writes a 64-bit command to `tohost`:
//! `device[63:56] | command[55:48] | payload[47:0]`. The front end reads
//! it, writes `tohost` back to zero (which tells the guest the command was
//! taken) and acts:
//!
//! - device 0 (syscall proxy), payload with bit 0 set: the guest exits with
//!   status `payload >> 1` (riscv-tests: `1` passes, `(n << 1) | 1` fails
//!   test `n`).
//! - device 0, payload with bit 0 clear: the payload is the address of a
//!   "magic memory" block of eight 64-bit words `[n, a0, a1, ...]`; the front
//!   end serves system call `n` (`write` to stdout/stderr, `exit`,
//!   `exit_group`; anything else returns `-ENOSYS`), stores the result in
//!   word 0 and answers `fromhost = 1`.
//! - device 1 (console), command 1: output the payload's low byte and
//!   answer `0x100 | byte` (as QEMU's HTIF does; guests that print through
//!   HTIF wait for that answer). Command 0 (read a character) waits, as in
//!   Spike, until the console has a byte, then answers `0x100 | byte`;
//!   reads are answered in the order they came. Without a console input
//!   ([`HtifFrontEnd::with_console_input`]: the spike board has one; on
//!   `virt` the UART owns the console's input) they wait for ever.
//!
//! Answers go through a queue and are written to `fromhost` only while
//! `fromhost` reads zero (the guest clears it after consuming an answer), as
//! Spike does.
//!
//! **Polling rule.** The mailbox is plain RAM, not MMIO, so other data on
//! the same page runs at full speed. The board calls [`HtifFrontEnd::poll`]
//! at every scheduling-slice boundary and whenever a hart stops (wfi, budget
//! exhausted, halt). A guest that writes `tohost` therefore sees its command
//! taken at the end of the current slice. Slices are counted in retired
//! instructions, so the moment of the poll (and all output) is the same on
//! every run. While the guest is talking (the last poll took a command),
//! slices shrink to [`crate::scheduler::HTIF_ACTIVE_QUANTUM`] instructions
//! so byte-by-byte console output does not spin a whole quantum per byte;
//! the choice depends only on guest actions, so it is deterministic too.

use std::collections::VecDeque;

use ferrite_memory::GuestBytes;

/// What a poll found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtifStatus {
    /// Nothing final: keep running.
    Running,
    /// The guest asked to exit with this status.
    Exit(u32),
}

/// HTIF device numbers.
const DEVICE_SYSCALL: u8 = 0;
const DEVICE_CONSOLE: u8 = 1;

/// Console commands.
const CONSOLE_GETCHAR: u8 = 0;
const CONSOLE_PUTCHAR: u8 = 1;

/// Linux/newlib system call numbers the proxy serves.
const SYS_WRITE: u64 = 64;
const SYS_EXIT: u64 = 93;
const SYS_EXIT_GROUP: u64 = 94;

/// Error returns (negated errno).
const ENOSYS: u64 = 38;
const EBADF: u64 = 9;
const EFAULT: u64 = 14;

/// Largest single `write` the proxy copies at once; longer writes are served
/// in pieces of this size (the guest sees the full length written).
const WRITE_CHUNK: usize = 64 * 1024;

/// Bound on queued answers: a guest that never clears `fromhost` cannot
/// make the host grow a queue without end. Further answers are dropped (and
/// logged as a guest error).
const MAX_PENDING_ANSWERS: usize = 64;

/// Where the front end sends console bytes.
pub type ConsoleWriter = Box<dyn FnMut(&[u8])>;

/// Where the front end takes console input from: fills the buffer with
/// what is ready and returns how many bytes that was (0: nothing yet).
pub type ConsoleReader = Box<dyn FnMut(&mut [u8]) -> usize>;

/// The host side of the HTIF mailbox.
pub struct HtifFrontEnd {
    /// Console input, if the front end owns it.
    input: Option<ConsoleReader>,
    /// Console reads waiting for a byte: the commands, to answer in order.
    pending_reads: VecDeque<u64>,
    tohost: u64,
    fromhost: Option<u64>,
    answers: VecDeque<u64>,
    console: ConsoleWriter,
    exit: Option<u32>,
    /// The last poll found a command (the guest is talking to the host).
    active: bool,
}

impl std::fmt::Debug for HtifFrontEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HtifFrontEnd")
            .field("tohost", &format_args!("{:#x}", self.tohost))
            .field("fromhost", &self.fromhost)
            .field("answers", &self.answers.len())
            .field("exit", &self.exit)
            .finish()
    }
}

impl HtifFrontEnd {
    /// A front end for the mailbox at `tohost` (and `fromhost`, if the ELF
    /// has that symbol), sending console output to `console`.
    pub fn new(tohost: u64, fromhost: Option<u64>, console: ConsoleWriter) -> Self {
        Self {
            input: None,
            pending_reads: VecDeque::new(),
            tohost,
            fromhost,
            answers: VecDeque::new(),
            console,
            exit: None,
            active: false,
        }
    }

    /// This front end, answering console reads with bytes from `input`.
    pub fn with_console_input(mut self, input: ConsoleReader) -> Self {
        self.input = Some(input);
        self
    }

    /// True if a console read is waiting for input: the guest waits for a
    /// key.
    pub fn waiting_for_input(&self) -> bool {
        !self.pending_reads.is_empty()
    }

    /// Address of `tohost`.
    pub fn tohost(&self) -> u64 {
        self.tohost
    }

    /// True if the last [`HtifFrontEnd::poll`] took a command: the guest is
    /// likely to send another soon (console output goes one byte per
    /// command), so the board polls again sooner.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Reads `tohost`; if a command is there, takes it and acts on it; then
    /// delivers a queued answer if `fromhost` is free. Deterministic: the
    /// result depends only on guest memory and the front end's state.
    pub fn poll(&mut self, bus: &mut dyn GuestBytes) -> HtifStatus {
        if let Some(code) = self.exit {
            return HtifStatus::Exit(code);
        }
        self.active = false;
        if let Some(cmd) = bus.read_u64(self.tohost).ok().filter(|&c| c != 0) {
            let _ = bus.write_u64(self.tohost, 0);
            self.handle(cmd, bus);
            self.active = true;
        }
        self.serve_reads();
        self.deliver_answer(bus);
        match self.exit {
            Some(code) => HtifStatus::Exit(code),
            None => HtifStatus::Running,
        }
    }

    fn handle(&mut self, cmd: u64, bus: &mut dyn GuestBytes) {
        let device = (cmd >> 56) as u8;
        let command = (cmd >> 48) as u8;
        let payload = cmd & 0xffff_ffff_ffff;
        match (device, command) {
            (DEVICE_SYSCALL, _) if payload & 1 == 1 => {
                // A code wider than 32 bits saturates: it must never wrap to 0.
                self.exit = Some(u32::try_from(payload >> 1).unwrap_or(u32::MAX));
            }
            (DEVICE_SYSCALL, _) => {
                self.syscall(payload, bus);
                self.answer(cmd & !0xffff_ffff_ffff | 1);
            }
            (DEVICE_CONSOLE, CONSOLE_PUTCHAR) => {
                (self.console)(&[payload as u8]);
                self.answer(cmd & !0xffff_ffff_ffff | 0x100 | (payload & 0xff));
            }
            (DEVICE_CONSOLE, CONSOLE_GETCHAR) => {
                if self.pending_reads.len() < MAX_PENDING_ANSWERS {
                    self.pending_reads.push_back(cmd);
                } else {
                    tracing::warn!(target: "guest_errors", "htif: too many console reads waiting; read dropped");
                }
            }
            _ => {
                tracing::warn!(target: "guest_errors", "htif: unknown command {cmd:#018x} ignored");
            }
        }
    }

    /// Answers waiting console reads with the bytes the input has, one each.
    fn serve_reads(&mut self) {
        let Some(mut input) = self.input.take() else {
            return;
        };
        while let Some(&cmd) = self.pending_reads.front() {
            let mut byte = [0u8; 1];
            if input(&mut byte) == 0 {
                break;
            }
            self.pending_reads.pop_front();
            self.answer(cmd & !0xffff_ffff_ffff | 0x100 | u64::from(byte[0]));
        }
        self.input = Some(input);
    }

    fn syscall(&mut self, magic: u64, bus: &mut dyn GuestBytes) {
        let mut words = [0u64; 8];
        for (i, w) in words.iter_mut().enumerate() {
            match bus.read_u64(magic.wrapping_add(8 * i as u64)).ok() {
                Some(v) => *w = v,
                None => {
                    tracing::warn!(target: "guest_errors", "htif: syscall block at {magic:#x} unreadable");
                    return;
                }
            }
        }
        let [number, a0, a1, a2, ..] = words;
        let ret = match number {
            SYS_WRITE => self.sys_write(a0, a1, a2, bus),
            SYS_EXIT | SYS_EXIT_GROUP => {
                // exit(-1) and other wide values saturate rather than wrap.
                self.exit = Some(u32::try_from(a0).unwrap_or(u32::MAX));
                0
            }
            other => {
                tracing::warn!(target: "guest_errors", "htif: unsupported syscall {other}");
                ENOSYS.wrapping_neg()
            }
        };
        let _ = bus.write_u64(magic, ret);
    }

    fn sys_write(&mut self, fd: u64, buf: u64, len: u64, bus: &mut dyn GuestBytes) -> u64 {
        if fd != 1 && fd != 2 {
            return EBADF.wrapping_neg();
        }
        let mut chunk = vec![0u8; (len as usize).min(WRITE_CHUNK)];
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(WRITE_CHUNK);
            if bus.read(buf.wrapping_add(done), &mut chunk[..n]).is_err() {
                return if done == 0 {
                    EFAULT.wrapping_neg()
                } else {
                    done
                };
            }
            (self.console)(&chunk[..n]);
            done += n as u64;
        }
        len
    }

    fn answer(&mut self, value: u64) {
        if self.fromhost.is_none() {
            return;
        }
        if self.answers.len() >= MAX_PENDING_ANSWERS {
            tracing::warn!(target: "guest_errors", "htif: fromhost never cleared; answer dropped");
            return;
        }
        self.answers.push_back(value);
    }

    fn deliver_answer(&mut self, bus: &mut dyn GuestBytes) {
        let Some(fromhost) = self.fromhost else {
            return;
        };
        if let Some(&next) = self.answers.front()
            && bus.read_u64(fromhost) == Ok(0)
        {
            let _ = bus.write_u64(fromhost, next);
            self.answers.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    #[derive(Default)]
    struct Bus {
        words: HashMap<u64, u64>,
        bytes: HashMap<u64, u8>,
    }

    /// Words for the mailbox and magic memory, bytes for `write` buffers.
    impl GuestBytes for Bus {
        fn read(
            &mut self,
            addr: u64,
            buf: &mut [u8],
        ) -> Result<(), ferrite_memory::GuestBytesError> {
            for (i, b) in buf.iter_mut().enumerate() {
                match self.bytes.get(&(addr + i as u64)) {
                    Some(v) => *b = *v,
                    None => {
                        return Err(ferrite_memory::GuestBytesError {
                            addr,
                            len: buf.len(),
                        });
                    }
                }
            }
            Ok(())
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ferrite_memory::GuestBytesError> {
            for (i, b) in data.iter().enumerate() {
                self.bytes.insert(addr + i as u64, *b);
            }
            Ok(())
        }
        fn read_u64(&mut self, addr: u64) -> Result<u64, ferrite_memory::GuestBytesError> {
            Ok(*self.words.get(&addr).unwrap_or(&0))
        }
        fn write_u64(
            &mut self,
            addr: u64,
            value: u64,
        ) -> Result<(), ferrite_memory::GuestBytesError> {
            self.words.insert(addr, value);
            Ok(())
        }
    }

    const TOHOST: u64 = 0x8000_1000;
    const FROMHOST: u64 = 0x8000_1040;

    fn front_end() -> (HtifFrontEnd, Rc<RefCell<Vec<u8>>>) {
        let out = Rc::new(RefCell::new(Vec::new()));
        let sink = out.clone();
        let fe = HtifFrontEnd::new(
            TOHOST,
            Some(FROMHOST),
            Box::new(move |b| sink.borrow_mut().extend_from_slice(b)),
        );
        (fe, out)
    }

    #[test]
    fn idle_mailbox_keeps_running() {
        let (mut fe, out) = front_end();
        let mut bus = Bus::default();
        assert_eq!(fe.poll(&mut bus), HtifStatus::Running);
        assert!(out.borrow().is_empty());
    }

    #[test]
    fn exit_codes_follow_riscv_tests() {
        let (mut fe, _) = front_end();
        let mut bus = Bus::default();
        bus.words.insert(TOHOST, 1);
        assert_eq!(fe.poll(&mut bus), HtifStatus::Exit(0));
        assert_eq!(bus.words[&TOHOST], 0, "tohost cleared");

        let (mut fe, _) = front_end();
        bus.words.insert(TOHOST, (5 << 1) | 1);
        assert_eq!(fe.poll(&mut bus), HtifStatus::Exit(5));
        // Stays exited.
        assert_eq!(fe.poll(&mut bus), HtifStatus::Exit(5));

        // A code of 2^32 must not wrap to a passing 0.
        let (mut fe, _) = front_end();
        bus.words.insert(TOHOST, (1 << 33) | 1);
        assert_eq!(fe.poll(&mut bus), HtifStatus::Exit(u32::MAX));
    }

    #[test]
    fn console_putchar() {
        let (mut fe, out) = front_end();
        let mut bus = Bus::default();
        for c in b"hi" {
            bus.words
                .insert(TOHOST, (1 << 56) | (1 << 48) | u64::from(*c));
            assert_eq!(fe.poll(&mut bus), HtifStatus::Running);
            assert_eq!(bus.words[&TOHOST], 0);
        }
        assert_eq!(&*out.borrow(), b"hi");
        assert_eq!(
            bus.words[&FROMHOST],
            (1 << 56) | (1 << 48) | 0x100 | u64::from(b'h'),
            "first answer delivered, the second waits for fromhost to be cleared"
        );
        bus.words.insert(FROMHOST, 0);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&FROMHOST] & 0xfff, 0x100 | u64::from(b'i'));
    }

    #[test]
    fn console_getchar_waits_for_input() {
        let (fe, _out) = front_end();
        let input = Rc::new(RefCell::new(std::collections::VecDeque::<u8>::new()));
        let source = Rc::clone(&input);
        let mut fe =
            fe.with_console_input(Box::new(move |buf| match source.borrow_mut().pop_front() {
                Some(b) if !buf.is_empty() => {
                    buf[0] = b;
                    1
                }
                _ => 0,
            }));
        let mut bus = Bus::default();
        bus.words.insert(TOHOST, 1 << 56);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&TOHOST], 0, "the read is taken");
        assert!(fe.waiting_for_input());
        assert_eq!(
            bus.words.get(&FROMHOST).copied().unwrap_or(0),
            0,
            "no answer yet"
        );
        fe.poll(&mut bus);
        assert!(fe.waiting_for_input(), "still nothing to read");
        input.borrow_mut().extend(b"k");
        fe.poll(&mut bus);
        assert!(!fe.waiting_for_input());
        assert_eq!(bus.words[&FROMHOST], (1 << 56) | 0x100 | u64::from(b'k'));
    }

    #[test]
    fn syscall_write_and_answer() {
        let (mut fe, out) = front_end();
        let mut bus = Bus::default();
        let magic = 0x8000_2000;
        for (i, b) in b"hello\n".iter().enumerate() {
            bus.bytes.insert(0x8000_3000 + i as u64, *b);
        }
        for (i, w) in [SYS_WRITE, 1, 0x8000_3000, 6].iter().enumerate() {
            bus.words.insert(magic + 8 * i as u64, *w);
        }
        bus.words.insert(TOHOST, magic);
        assert_eq!(fe.poll(&mut bus), HtifStatus::Running);
        assert_eq!(&*out.borrow(), b"hello\n");
        assert_eq!(bus.words[&magic], 6, "return value in magic[0]");
        assert_eq!(bus.words[&FROMHOST], 1);

        // A second call while fromhost is still set queues the answer.
        bus.words.insert(magic, 12345); // unknown syscall
        bus.words.insert(TOHOST, magic);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&magic], ENOSYS.wrapping_neg());
        assert_eq!(bus.words[&FROMHOST], 1);
        bus.words.insert(FROMHOST, 0);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&FROMHOST], 1, "queued answer delivered once free");
    }

    #[test]
    fn syscall_exit_and_bad_buffers() {
        let (mut fe, _) = front_end();
        let mut bus = Bus::default();
        let magic = 0x8000_2000;
        for (i, w) in [SYS_WRITE, 1, 0xdead_0000, 4].iter().enumerate() {
            bus.words.insert(magic + 8 * i as u64, *w);
        }
        bus.words.insert(TOHOST, magic);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&magic], EFAULT.wrapping_neg());

        bus.words.insert(magic, SYS_WRITE);
        bus.words.insert(magic + 8, 7); // bad fd
        bus.words.insert(TOHOST, magic);
        fe.poll(&mut bus);
        assert_eq!(bus.words[&magic], EBADF.wrapping_neg());

        bus.words.insert(magic, SYS_EXIT);
        bus.words.insert(magic + 8, 3);
        bus.words.insert(TOHOST, magic);
        assert_eq!(fe.poll(&mut bus), HtifStatus::Exit(3));
    }
}
