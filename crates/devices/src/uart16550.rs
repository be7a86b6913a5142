//! NS16550A UART, with the register behaviour of QEMU's `hw/char/serial.c`.
//!
//! Registers (offset `reg << reg_shift`, register index `reg` in 0..8; the
//! index wraps every 8 registers like QEMU's `addr & 7`):
//!
//! | reg | read                | write              | DLAB=1      |
//! |-----|---------------------|--------------------|-------------|
//! | 0   | RBR                 | THR                | DLL         |
//! | 1   | IER                 | IER                | DLM         |
//! | 2   | IIR                 | FCR                |             |
//! | 3   | LCR                 | LCR                |             |
//! | 4   | MCR                 | MCR                |             |
//! | 5   | LSR                 | (ignored)          |             |
//! | 6   | MSR                 | (ignored)          |             |
//! | 7   | SCR                 | SCR                |             |
//!
//! Transmission is instant: a THR write goes to the backend at once (or, in
//! loopback, straight into the receiver), then THRE/TEMT are set again and a
//! THRE interrupt becomes pending. Input from the host is flow-controlled the
//! way QEMU's `serial_can_receive` does it: bytes wait in a host-side queue
//! until the receiver has room up to its trigger level, so pasting a long line
//! loses nothing. The FIFO character-timeout interrupt fires at the first
//! [`Uart16550::poll`] after data arrived (or was partly read) with nothing
//! since, standing in for QEMU's four-character timer.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use ferrite_memory::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxResult, RegionOps,
};

use crate::GUEST_ERRORS;
use crate::chardev::{CharBackend, CharInput, ChardevError, NullBackend};
use crate::irq::IrqLine;

mod registers;

pub use registers::FIFO_DEPTH;
use registers::*;

/// Host input bytes buffered while the receiver is full; the backend is not
/// read while this many are already waiting.
const HOST_QUEUE_LIMIT: usize = 256;

/// The modem-status input pins, as the host side of the line drives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModemInputs {
    /// Clear To Send.
    pub cts: bool,
    /// Data Set Ready.
    pub dsr: bool,
    /// Ring Indicator.
    pub ri: bool,
    /// Data Carrier Detect.
    pub dcd: bool,
}

/// What a [`Uart16550::poll`] found at the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartPoll {
    /// Keep running.
    Continue,
    /// The user asked to quit (`Ctrl-A x` on a terminal).
    Quit,
    /// The backend could not take output (a full disk, a closed pipe):
    /// what the guest writes from now on would be lost, so the run should
    /// stop. [`Uart16550::output_error`] says why.
    OutputFailed,
}

/// An NS16550A UART.
pub struct Uart16550 {
    regs: RefCell<UartRegs>,
    irq: IrqLine,
    backend: RefCell<Box<dyn CharBackend>>,
    /// Host bytes not yet taken by the receiver.
    host_queue: RefCell<VecDeque<u8>>,
    reg_shift: u32,
    /// A backend failure has been logged.
    backend_failed: Cell<bool>,
    /// Why output to the backend failed, once it has.
    output_error: RefCell<Option<String>>,
    /// Reads of RBR or LSR that found no received byte: how often the
    /// guest looked for input that was not there.
    empty_reads: Cell<u64>,
}

impl Uart16550 {
    /// The window QEMU's `serial_mm` maps for registers one byte apart:
    /// the eight registers, nothing more (the device tree's `reg` still
    /// names 0x100 bytes, as QEMU's).
    pub const REGION_SIZE: u64 = 8;

    /// A UART with registers one byte apart, interrupt output `irq`, talking to
    /// `backend`.
    pub fn new(irq: IrqLine, backend: Box<dyn CharBackend>) -> Self {
        Uart16550::with_reg_shift(irq, backend, 0)
    }

    /// A UART whose register `n` sits at offset `n << reg_shift`.
    pub fn with_reg_shift(irq: IrqLine, backend: Box<dyn CharBackend>, reg_shift: u32) -> Self {
        Uart16550 {
            regs: RefCell::new(UartRegs::reset()),
            irq,
            backend: RefCell::new(backend),
            host_queue: RefCell::new(VecDeque::new()),
            reg_shift: reg_shift.min(3),
            backend_failed: Cell::new(false),
            output_error: RefCell::new(None),
            empty_reads: Cell::new(0),
        }
    }

    /// A UART with no backend: output is dropped, input comes only from
    /// [`Uart16550::push_input`].
    pub fn without_backend(irq: IrqLine) -> Self {
        Uart16550::new(irq, Box::new(NullBackend))
    }

    /// Replaces the backend.
    pub fn set_backend(&self, backend: Box<dyn CharBackend>) {
        *self.backend.borrow_mut() = backend;
    }

    /// Device reset: registers to power-on values and FIFOs emptied; the
    /// host-side queue is kept (input typed before a reset still arrives);
    /// interrupt lowered.
    pub fn reset(&self) {
        *self.regs.borrow_mut() = UartRegs::reset();
        self.irq.lower();
    }

    /// Queues bytes from the host; they enter the receiver as it has room.
    pub fn push_input(&self, bytes: &[u8]) {
        self.host_queue.borrow_mut().extend(bytes.iter().copied());
        self.deliver_host_input();
    }

    /// Host bytes still waiting for room in the receiver.
    pub fn queued_input(&self) -> usize {
        self.host_queue.borrow().len()
    }

    /// A break condition on the line: a NUL byte with BI set.
    pub fn receive_break(&self) {
        let mut regs = self.regs.borrow_mut();
        regs.rbr = 0;
        if regs.fifo_enabled() {
            if regs.recv_fifo.len() < FIFO_DEPTH {
                regs.recv_fifo.push_back(0);
            } else {
                regs.lsr |= UART_LSR_OE;
            }
        }
        regs.lsr |= UART_LSR_BI | UART_LSR_DR;
        self.update_irq(&mut regs);
    }

    /// Drives the modem-status inputs (ignored by the MSR while in loopback).
    /// Changes set the MSR delta bits and may raise the modem-status interrupt.
    pub fn set_modem_inputs(&self, inputs: ModemInputs) {
        let mut regs = self.regs.borrow_mut();
        let mut status = 0;
        for (on, bit) in [
            (inputs.cts, UART_MSR_CTS),
            (inputs.dsr, UART_MSR_DSR),
            (inputs.ri, UART_MSR_RI),
            (inputs.dcd, UART_MSR_DCD),
        ] {
            if on {
                status |= bit;
            }
        }
        let old = regs.msr;
        let changed = (old ^ status) & 0xf0;
        // DCTS, DDSR and DDCD flag any change; TERI only the end of a ring.
        let mut delta = (changed >> 4) & !UART_MSR_TERI;
        if old & UART_MSR_RI != 0 && status & UART_MSR_RI == 0 {
            delta |= UART_MSR_TERI;
        }
        regs.msr = status | (old & UART_MSR_ANY_DELTA) | delta;
        self.update_irq(&mut regs);
    }

    /// Services time and the host side: fires a pending FIFO character
    /// timeout, then reads what the backend has ready into the receiver. The
    /// machine calls this between execution slices.
    pub fn poll(&self) -> UartPoll {
        {
            let mut regs = self.regs.borrow_mut();
            if regs.timeout_armed {
                regs.timeout_armed = false;
                if !regs.recv_fifo.is_empty() && regs.fifo_enabled() {
                    regs.timeout_ipending = true;
                    self.update_irq(&mut regs);
                }
            }
        }
        let mut outcome = UartPoll::Continue;
        if self.host_queue.borrow().len() < HOST_QUEUE_LIMIT {
            let mut buf = [0u8; 64];
            let input = self.backend.borrow_mut().read_input(&mut buf);
            match input {
                Ok(CharInput::Data(n)) => self.host_queue.borrow_mut().extend(&buf[..n]),
                Ok(CharInput::Idle) => {}
                Ok(CharInput::Quit) => outcome = UartPoll::Quit,
                Err(err) => self.report_backend_error("input", &err),
            }
        }
        self.deliver_host_input();
        if outcome == UartPoll::Continue && self.output_error.borrow().is_some() {
            outcome = UartPoll::OutputFailed;
        }
        outcome
    }

    /// How many reads of RBR or LSR found no received byte since the UART
    /// was made (a guest polling for input counts up; reset does not clear
    /// it).
    pub fn empty_reads(&self) -> u64 {
        self.empty_reads.get()
    }

    /// Whether the guest has the received-data interrupt enabled: it waits
    /// for input by interrupt.
    pub fn listens_for_input(&self) -> bool {
        self.regs.borrow().ier & UART_IER_RDI != 0
    }

    /// Whether input is on its way to the guest: a received byte not yet
    /// read, or host bytes waiting for room in the receiver.
    pub fn has_pending_input(&self) -> bool {
        self.regs.borrow().lsr & UART_LSR_DR != 0 || !self.host_queue.borrow().is_empty()
    }

    fn count_empty_read(&self) {
        self.empty_reads.set(self.empty_reads.get().wrapping_add(1));
    }

    /// Why output to the backend failed, if it has.
    pub fn output_error(&self) -> Option<String> {
        self.output_error.borrow().clone()
    }

    /// Logs a backend failure; only the first, so a closed terminal or pipe
    /// does not log once per byte.
    fn report_backend_error(&self, direction: &str, err: &ChardevError) {
        if !self.backend_failed.replace(true) {
            tracing::warn!("uart: backend {direction} failed: {err}");
        }
    }

    /// Whether the interrupt output is asserted.
    pub fn irq_level(&self) -> bool {
        self.irq.level()
    }

    fn deliver_host_input(&self) {
        let mut queue = self.host_queue.borrow_mut();
        if queue.is_empty() {
            return;
        }
        let mut regs = self.regs.borrow_mut();
        let mut delivered = false;
        loop {
            let room = regs.can_receive().min(queue.len());
            if room == 0 {
                break;
            }
            let bytes: Vec<u8> = queue.drain(..room).collect();
            regs.receive(&bytes);
            delivered = true;
        }
        if delivered {
            self.update_irq(&mut regs);
        }
    }

    /// Recomputes IIR and drives the interrupt line (every time, like QEMU).
    fn update_irq(&self, regs: &mut UartRegs) {
        let id = regs.pending_interrupt();
        regs.iir = id | (regs.iir & 0xf0);
        self.irq.set(id != UART_IIR_NO_INT);
    }

    /// Sends one byte out of the transmit shift register.
    fn transmit(&self, regs: &mut UartRegs, byte: u8) {
        regs.lsr |= UART_LSR_THRE;
        if !regs.thr_ipending {
            regs.thr_ipending = true;
            self.update_irq(regs);
        }
        if regs.loopback() {
            regs.receive(&[byte]);
            self.update_irq(regs);
        } else if let Err(err) = self.backend.borrow_mut().write(&[byte]) {
            self.report_backend_error("output", &err);
            self.output_error
                .borrow_mut()
                .get_or_insert(err.to_string());
        }
        regs.lsr |= UART_LSR_TEMT;
    }

    fn register(&self, offset: u64) -> u64 {
        (offset >> self.reg_shift) & 7
    }

    fn read_register(&self, reg: u64) -> u8 {
        let mut regs = self.regs.borrow_mut();
        let dlab = regs.lcr & UART_LCR_DLAB != 0;
        match reg {
            0 if dlab => regs.divider as u8,
            0 => {
                if regs.lsr & UART_LSR_DR == 0 {
                    self.count_empty_read();
                }
                let value;
                if regs.fifo_enabled() {
                    value = regs.recv_fifo.pop_front().unwrap_or(0);
                    if regs.recv_fifo.is_empty() {
                        regs.lsr &= !(UART_LSR_DR | UART_LSR_BI);
                    } else {
                        regs.timeout_armed = true;
                    }
                    regs.timeout_ipending = false;
                } else {
                    value = regs.rbr;
                    regs.lsr &= !(UART_LSR_DR | UART_LSR_BI);
                }
                self.update_irq(&mut regs);
                let loopback = regs.loopback();
                drop(regs);
                if !loopback {
                    self.deliver_host_input();
                }
                value
            }
            1 if dlab => (regs.divider >> 8) as u8,
            1 => regs.ier,
            2 => {
                let value = regs.iir;
                // Reading IIR while it shows THRE acknowledges that interrupt.
                if value & UART_IIR_ID == UART_IIR_THRI {
                    regs.thr_ipending = false;
                    self.update_irq(&mut regs);
                }
                value
            }
            3 => regs.lcr,
            4 => regs.mcr,
            5 => {
                let value = regs.lsr;
                if value & UART_LSR_DR == 0 {
                    self.count_empty_read();
                }
                // Reading LSR clears break and overrun.
                if regs.lsr & (UART_LSR_BI | UART_LSR_OE) != 0 {
                    regs.lsr &= !(UART_LSR_BI | UART_LSR_OE);
                    self.update_irq(&mut regs);
                }
                value
            }
            6 => {
                if regs.loopback() {
                    regs.loopback_msr()
                } else {
                    let value = regs.msr;
                    if regs.msr & UART_MSR_ANY_DELTA != 0 {
                        regs.msr &= 0xf0;
                        self.update_irq(&mut regs);
                    }
                    value
                }
            }
            _ => regs.scr,
        }
    }

    fn write_register(&self, reg: u64, value: u8) {
        let mut regs = self.regs.borrow_mut();
        let dlab = regs.lcr & UART_LCR_DLAB != 0;
        match reg {
            0 if dlab => regs.divider = (regs.divider & 0xff00) | u16::from(value),
            0 => {
                regs.thr_ipending = false;
                regs.lsr &= !(UART_LSR_THRE | UART_LSR_TEMT);
                self.update_irq(&mut regs);
                self.transmit(&mut regs, value);
            }
            1 if dlab => regs.divider = (regs.divider & 0x00ff) | (u16::from(value) << 8),
            1 => {
                let changed = (regs.ier ^ value) & 0x0f;
                regs.ier = value & 0x0f;
                // Enabling THRI while THR is empty makes a THRE interrupt
                // pending again even if an IIR read had acknowledged it (QEMU
                // and Bochs do this; Windows relies on it).
                if changed & UART_IER_THRI != 0 {
                    regs.thr_ipending =
                        regs.ier & UART_IER_THRI != 0 && regs.lsr & UART_LSR_THRE != 0;
                }
                if changed != 0 {
                    self.update_irq(&mut regs);
                }
            }
            2 => {
                regs.write_fcr(value);
                self.update_irq(&mut regs);
                drop(regs);
                self.deliver_host_input();
            }
            3 => regs.lcr = value,
            4 => {
                let was_loopback = regs.loopback();
                regs.mcr = value & 0x1f;
                let now_loopback = regs.loopback();
                drop(regs);
                if was_loopback && !now_loopback {
                    self.deliver_host_input();
                }
            }
            5 | 6 => {
                tracing::warn!(target: GUEST_ERRORS, "uart: write 0x{value:02x} to read-only register {reg}");
            }
            _ => regs.scr = value,
        }
    }
}

impl RegionOps for Uart16550 {
    fn read(&self, offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(u64::from(self.read_register(self.register(offset))))
    }

    fn write(&self, offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        self.write_register(self.register(offset), value as u8);
        Ok(())
    }

    /// QEMU's `serial_mm_ops`: any aligned access of 1 to 8 bytes reaches the
    /// device as one access; only the low byte is a register.
    fn descriptor(&self) -> IoDescriptor {
        let sizes = AccessConstraints {
            min_access_size: 1,
            max_access_size: 8,
            unaligned: false,
        };
        IoDescriptor {
            valid: sizes,
            implementation: sizes,
            endianness: Endianness::Little,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chardev::BufferBackend;
    use crate::irq::IrqLevels;
    use std::rc::Rc;

    const RBR: u64 = 0;
    const IER: u64 = 1;
    const IIR: u64 = 2;
    const LCR: u64 = 3;
    const MCR: u64 = 4;
    const LSR: u64 = 5;
    const MSR: u64 = 6;
    const SCR: u64 = 7;

    struct Rig {
        uart: Uart16550,
        irq: Rc<IrqLevels>,
        host: BufferBackend,
    }

    fn rig() -> Rig {
        let irq = IrqLevels::new();
        let host = BufferBackend::new();
        let uart = Uart16550::new(irq.line(10), Box::new(host.clone()));
        Rig { uart, irq, host }
    }

    impl Rig {
        fn rd(&self, reg: u64) -> u8 {
            self.uart.read(reg, 1, MemTxAttrs::default()).unwrap() as u8
        }
        fn wr(&self, reg: u64, value: u8) {
            self.uart
                .write(reg, u64::from(value), 1, MemTxAttrs::default())
                .unwrap();
        }
        fn irq(&self) -> bool {
            self.irq.level(10)
        }
    }

    #[test]
    fn reset_values() {
        let r = rig();
        assert_eq!(r.rd(IER), 0);
        assert_eq!(r.rd(IIR), UART_IIR_NO_INT);
        assert_eq!(r.rd(LCR), 0);
        assert_eq!(r.rd(MCR), UART_MCR_OUT2);
        assert_eq!(r.rd(LSR), UART_LSR_THRE | UART_LSR_TEMT);
        assert_eq!(r.rd(MSR), 0xb0);
        assert_eq!(r.rd(SCR), 0);
        assert!(!r.irq());
    }

    #[test]
    fn thr_goes_to_backend_and_scr_holds_a_byte() {
        let r = rig();
        for b in b"hi\n" {
            r.wr(RBR, *b);
        }
        assert_eq!(r.host.output(), b"hi\n");
        assert_eq!(r.rd(LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0x60);
        r.wr(SCR, 0x5a);
        assert_eq!(r.rd(SCR), 0x5a);
        assert_eq!(r.host.output(), b"hi\n", "SCR is not the data port");
    }

    #[test]
    fn dlab_selects_divisor_latch() {
        let r = rig();
        r.wr(LCR, 0x83);
        r.wr(RBR, 0x01);
        r.wr(IER, 0x02);
        assert_eq!(r.rd(RBR), 0x01);
        assert_eq!(r.rd(IER), 0x02);
        assert!(r.host.output().is_empty(), "DLL writes do not transmit");
        r.wr(LCR, 0x03);
        assert_eq!(r.rd(IER), 0, "IER untouched by DLM writes");
        assert_eq!(r.rd(LCR), 0x03);
        assert_eq!(r.uart.regs.borrow().divider, 0x0201);
    }

    #[test]
    fn rx_without_fifo_sets_dr_and_overrun() {
        let r = rig();
        r.uart.regs.borrow_mut().receive(b"a");
        assert_eq!(r.rd(LSR) & UART_LSR_DR, UART_LSR_DR);
        r.uart.regs.borrow_mut().receive(b"b");
        let lsr = r.rd(LSR);
        assert_eq!(lsr & UART_LSR_OE, UART_LSR_OE);
        assert_eq!(r.rd(LSR) & UART_LSR_OE, 0, "LSR read clears OE");
        assert_eq!(r.rd(RBR), b'b');
        assert_eq!(r.rd(LSR) & UART_LSR_DR, 0);
    }

    #[test]
    fn push_input_is_flow_controlled_without_fifo() {
        let r = rig();
        r.uart.push_input(b"xyz");
        assert_eq!(r.uart.queued_input(), 2, "one byte in RBR, the rest wait");
        let mut got = Vec::new();
        while r.rd(LSR) & UART_LSR_DR != 0 {
            got.push(r.rd(RBR));
        }
        assert_eq!(got, b"xyz");
        assert_eq!(r.rd(LSR) & UART_LSR_OE, 0, "no overrun from host input");
    }

    #[test]
    fn rda_interrupt_and_priority_over_thre() {
        let r = rig();
        r.wr(IER, UART_IER_RDI | UART_IER_THRI);
        assert!(r.irq(), "THRE pending right after enabling THRI");
        assert_eq!(r.rd(IIR) & 0x0f, UART_IIR_THRI);
        assert!(!r.irq(), "IIR read acknowledged THRE");
        r.uart.push_input(b"k");
        assert!(r.irq());
        assert_eq!(r.rd(IIR) & 0x0f, UART_IIR_RDI);
        assert_eq!(r.rd(RBR), b'k');
        assert!(!r.irq());
        assert_eq!(r.rd(IIR), UART_IIR_NO_INT);
    }

    #[test]
    fn thre_after_ier_write_and_after_transmit() {
        let r = rig();
        r.wr(IER, UART_IER_THRI);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), UART_IIR_THRI);
        assert!(!r.irq());
        // Toggling THRI re-arms THRE while THR is empty.
        r.wr(IER, 0);
        assert!(!r.irq());
        r.wr(IER, UART_IER_THRI);
        assert!(r.irq());
        assert_eq!(r.rd(IIR), UART_IIR_THRI);
        // Writing the same IER again is not an edge.
        r.wr(IER, UART_IER_THRI);
        assert!(!r.irq());
        // Transmitting makes THRE pending again.
        r.wr(RBR, b'!');
        assert!(r.irq());
        assert_eq!(r.rd(IIR) & 0x0f, UART_IIR_THRI);
    }

    #[test]
    fn fifo_enable_trigger_level_and_iir_fifo_bits() {
        let r = rig();
        r.wr(IIR, 0x81); // FIFO on, trigger 8
        assert_eq!(r.rd(IIR) & 0xc0, 0xc0);
        r.wr(IER, UART_IER_RDI);
        r.uart.push_input(b"1234567");
        assert!(!r.irq(), "7 bytes are below the trigger level");
        r.uart.push_input(b"89ABCDEFGHIJ");
        assert!(r.irq(), "trigger level reached");
        assert_eq!(r.rd(IIR), 0xc0 | UART_IIR_RDI);
        // Only up to the trigger level entered; the rest waits on the host side.
        assert_eq!(r.uart.regs.borrow().recv_fifo.len(), 8);
        let mut got = Vec::new();
        while r.rd(LSR) & UART_LSR_DR != 0 {
            got.push(r.rd(RBR));
        }
        assert_eq!(got, b"123456789ABCDEFGHIJ");
        r.wr(IIR, 0x00);
        assert_eq!(r.rd(IIR) & 0xc0, 0, "FIFO bits clear when disabled");
    }

    #[test]
    fn fifo_overrun_keeps_contents() {
        let r = rig();
        r.wr(IIR, 0x01);
        let bytes: Vec<u8> = (0..20).collect();
        r.uart.regs.borrow_mut().receive(&bytes);
        assert_eq!(r.rd(LSR) & UART_LSR_OE, UART_LSR_OE);
        let mut got = Vec::new();
        while r.rd(LSR) & UART_LSR_DR != 0 {
            got.push(r.rd(RBR));
        }
        assert_eq!(got, (0..16).collect::<Vec<u8>>());
    }

    #[test]
    fn fifo_reset_bit_flushes_receiver() {
        let r = rig();
        r.wr(IIR, 0x01);
        r.uart.push_input(b"a");
        assert_eq!(r.rd(LSR) & UART_LSR_DR, UART_LSR_DR);
        r.wr(IIR, 0x03);
        assert_eq!(r.rd(LSR) & UART_LSR_DR, 0);
        assert_eq!(
            r.rd(IIR) & 0xc0,
            0xc0,
            "enable stays set, reset bit does not stick"
        );
    }

    #[test]
    fn character_timeout_below_trigger_level() {
        let r = rig();
        r.wr(IIR, 0xc1); // trigger 14
        r.wr(IER, UART_IER_RDI);
        r.uart.push_input(b"ab");
        assert!(!r.irq());
        r.uart.poll();
        assert!(r.irq(), "timeout fires at the next poll");
        assert_eq!(r.rd(IIR), 0xc0 | UART_IIR_CTI);
        assert_eq!(r.rd(RBR), b'a');
        assert!(!r.irq(), "reading RBR clears the timeout");
        r.uart.poll();
        assert!(r.irq(), "data left over re-arms it");
        assert_eq!(r.rd(RBR), b'b');
        r.uart.poll();
        assert!(!r.irq(), "empty FIFO: no timeout");
    }

    #[test]
    fn line_status_interrupt_has_top_priority() {
        let r = rig();
        r.wr(IER, UART_IER_RLSI | UART_IER_RDI | UART_IER_THRI);
        r.uart.regs.borrow_mut().receive(b"a");
        r.uart.regs.borrow_mut().receive(b"b");
        r.uart.receive_break();
        assert!(r.irq());
        assert_eq!(r.rd(IIR), UART_IIR_RLSI);
        let lsr = r.rd(LSR);
        assert_eq!(lsr & (UART_LSR_OE | UART_LSR_BI), UART_LSR_OE | UART_LSR_BI);
        assert_eq!(r.rd(IIR), UART_IIR_RDI, "next priority after LSR read");
    }

    #[test]
    fn loopback_routes_thr_to_rbr_and_mcr_to_msr() {
        let r = rig();
        r.wr(MCR, UART_MCR_LOOP | 0x0a); // RTS + OUT2
        assert_eq!(
            r.rd(MSR),
            0x90,
            "RTS->CTS, OUT2->DCD (Linux's autoconfig probe)"
        );
        r.wr(MCR, UART_MCR_LOOP | 0x05); // DTR + OUT1
        assert_eq!(r.rd(MSR), 0x60, "DTR->DSR, OUT1->RI");
        r.wr(RBR, b'L');
        assert!(
            r.host.output().is_empty(),
            "loopback keeps output off the line"
        );
        assert_eq!(r.rd(LSR) & UART_LSR_DR, UART_LSR_DR);
        assert_eq!(r.rd(RBR), b'L');
        r.uart.push_input(b"h");
        assert_eq!(
            r.rd(LSR) & UART_LSR_DR,
            0,
            "host input waits during loopback"
        );
        r.wr(MCR, 0x08);
        assert_eq!(r.rd(RBR), b'h');
        assert_eq!(r.rd(MCR), 0x08);
    }

    #[test]
    fn modem_status_interrupt_and_deltas() {
        let r = rig();
        r.wr(IER, UART_IER_MSI);
        assert!(!r.irq());
        r.uart.set_modem_inputs(ModemInputs {
            cts: false,
            dsr: true,
            ri: true,
            dcd: true,
        });
        assert!(r.irq());
        assert_eq!(r.rd(IIR), UART_IIR_MSI);
        let msr = r.rd(MSR);
        assert_eq!(msr, 0x20 | 0x40 | 0x80 | 0x01, "CTS dropped: DCTS");
        assert!(!r.irq(), "MSR read clears the deltas");
        r.uart.set_modem_inputs(ModemInputs {
            cts: false,
            dsr: true,
            ri: false,
            dcd: true,
        });
        assert_eq!(r.rd(MSR) & 0x0f, UART_MSR_TERI, "trailing edge of RI");
    }

    #[test]
    fn poll_pulls_backend_input_and_reports_quit() {
        let r = rig();
        r.host.push_input(b"typed");
        assert_eq!(r.uart.poll(), UartPoll::Continue);
        let mut got = Vec::new();
        while r.rd(LSR) & UART_LSR_DR != 0 {
            got.push(r.rd(RBR));
        }
        assert_eq!(got, b"typed");

        struct Quitter;
        impl CharBackend for Quitter {
            fn write(&mut self, _: &[u8]) -> crate::chardev::Result<()> {
                Ok(())
            }
            fn read_input(&mut self, _: &mut [u8]) -> crate::chardev::Result<CharInput> {
                Ok(CharInput::Quit)
            }
        }
        r.uart.set_backend(Box::new(Quitter));
        assert_eq!(r.uart.poll(), UartPoll::Quit);
    }

    #[test]
    fn registers_repeat_and_wide_accesses_see_one_byte() {
        let r = rig();
        r.uart
            .write(0x0f, 0x1234, 8, MemTxAttrs::default())
            .unwrap();
        assert_eq!(
            r.rd(SCR),
            0x34,
            "offset 0xf is SCR again; only the low byte lands"
        );
        assert_eq!(r.uart.read(0x05, 4, MemTxAttrs::default()).unwrap(), 0x60);
        let d = r.uart.descriptor();
        assert_eq!((d.valid.min_access_size, d.valid.max_access_size), (1, 8));
        assert!(!d.valid.unaligned);
    }

    #[test]
    fn reg_shift_spaces_registers() {
        let irq = IrqLevels::new();
        let uart = Uart16550::with_reg_shift(irq.line(0), Box::new(NullBackend), 2);
        uart.write(7 << 2, 0x77, 4, MemTxAttrs::default()).unwrap();
        assert_eq!(uart.read(7 << 2, 4, MemTxAttrs::default()).unwrap(), 0x77);
        assert_eq!(
            uart.read(5 << 2, 4, MemTxAttrs::default()).unwrap(),
            0x60,
            "LSR"
        );
        assert_eq!(
            uart.read(7, 4, MemTxAttrs::default()).unwrap(),
            0,
            "7 >> 2 = IER"
        );
    }

    #[test]
    fn reset_restores_power_on_state() {
        let r = rig();
        r.wr(IER, UART_IER_THRI);
        r.wr(LCR, 0x83);
        assert!(r.irq());
        r.uart.reset();
        assert!(!r.irq());
        assert_eq!(r.rd(LCR), 0);
        assert_eq!(r.rd(IER), 0);
    }
}
