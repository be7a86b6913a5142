//! The NS16550A register file and its state machine: everything that does
//! not touch the outside world (interrupt line, backend, host queue).

use std::collections::VecDeque;

pub(super) const UART_IER_RDI: u8 = 0x01;
pub(super) const UART_IER_THRI: u8 = 0x02;
pub(super) const UART_IER_RLSI: u8 = 0x04;
pub(super) const UART_IER_MSI: u8 = 0x08;

pub(super) const UART_IIR_NO_INT: u8 = 0x01;
pub(super) const UART_IIR_ID: u8 = 0x06;
pub(super) const UART_IIR_MSI: u8 = 0x00;
pub(super) const UART_IIR_THRI: u8 = 0x02;
pub(super) const UART_IIR_RDI: u8 = 0x04;
pub(super) const UART_IIR_RLSI: u8 = 0x06;
pub(super) const UART_IIR_CTI: u8 = 0x0c;
pub(super) const UART_IIR_FE: u8 = 0xc0;

pub(super) const UART_FCR_FE: u8 = 0x01;
pub(super) const UART_FCR_RFR: u8 = 0x02;
pub(super) const UART_FCR_XFR: u8 = 0x04;
/// FCR bits that stick (enable, DMA mode, trigger level); the reset bits act once.
pub(super) const UART_FCR_STICKY: u8 = 0xc9;

pub(super) const UART_LCR_DLAB: u8 = 0x80;
pub(super) const UART_MCR_LOOP: u8 = 0x10;
pub(super) const UART_MCR_OUT2: u8 = 0x08;

pub(super) const UART_LSR_DR: u8 = 0x01;
pub(super) const UART_LSR_OE: u8 = 0x02;
pub(super) const UART_LSR_BI: u8 = 0x10;
pub(super) const UART_LSR_THRE: u8 = 0x20;
pub(super) const UART_LSR_TEMT: u8 = 0x40;
/// Line-status conditions that raise the receiver-line-status interrupt: OE, PE, FE, BI.
pub(super) const UART_LSR_INT_ANY: u8 = 0x1e;

pub(super) const UART_MSR_DCD: u8 = 0x80;
pub(super) const UART_MSR_RI: u8 = 0x40;
pub(super) const UART_MSR_DSR: u8 = 0x20;
pub(super) const UART_MSR_CTS: u8 = 0x10;
pub(super) const UART_MSR_TERI: u8 = 0x04;
pub(super) const UART_MSR_ANY_DELTA: u8 = 0x0f;

/// Depth of the receive and transmit FIFOs.
pub const FIFO_DEPTH: usize = 16;

/// The UART's registers, FIFO and interrupt-pending flags.
#[derive(Debug)]
pub(super) struct UartRegs {
    pub(super) rbr: u8,
    pub(super) ier: u8,
    pub(super) iir: u8,
    pub(super) fcr: u8,
    pub(super) lcr: u8,
    pub(super) mcr: u8,
    pub(super) lsr: u8,
    pub(super) msr: u8,
    pub(super) scr: u8,
    pub(super) divider: u16,
    pub(super) recv_fifo: VecDeque<u8>,
    pub(super) recv_fifo_itl: usize,
    pub(super) thr_ipending: bool,
    pub(super) timeout_ipending: bool,
    /// Data arrived (or remains after a read) since the last poll.
    pub(super) timeout_armed: bool,
}

impl UartRegs {
    pub(super) fn reset() -> Self {
        UartRegs {
            rbr: 0,
            ier: 0,
            iir: UART_IIR_NO_INT,
            fcr: 0,
            lcr: 0,
            mcr: UART_MCR_OUT2,
            lsr: UART_LSR_TEMT | UART_LSR_THRE,
            msr: UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS,
            scr: 0,
            // 9600 baud from the 1.8432 MHz reference clock.
            divider: 0x0c,
            recv_fifo: VecDeque::with_capacity(FIFO_DEPTH),
            recv_fifo_itl: 1,
            thr_ipending: false,
            timeout_ipending: false,
            timeout_armed: false,
        }
    }

    pub(super) fn fifo_enabled(&self) -> bool {
        self.fcr & UART_FCR_FE != 0
    }

    pub(super) fn loopback(&self) -> bool {
        self.mcr & UART_MCR_LOOP != 0
    }

    /// The highest-priority pending interrupt, as an IIR identification code.
    pub(super) fn pending_interrupt(&self) -> u8 {
        if self.ier & UART_IER_RLSI != 0 && self.lsr & UART_LSR_INT_ANY != 0 {
            UART_IIR_RLSI
        } else if self.ier & UART_IER_RDI != 0 && self.timeout_ipending {
            // Masked by RDI, as on real parts (not in the datasheet).
            UART_IIR_CTI
        } else if self.ier & UART_IER_RDI != 0
            && self.lsr & UART_LSR_DR != 0
            && (!self.fifo_enabled() || self.recv_fifo.len() >= self.recv_fifo_itl)
        {
            UART_IIR_RDI
        } else if self.ier & UART_IER_THRI != 0 && self.thr_ipending {
            UART_IIR_THRI
        } else if self.ier & UART_IER_MSI != 0 && self.msr & UART_MSR_ANY_DELTA != 0 {
            UART_IIR_MSI
        } else {
            UART_IIR_NO_INT
        }
    }

    /// How many bytes the receiver takes from the host now (QEMU's
    /// `serial_can_receive`: up to the trigger level, then one at a time).
    pub(super) fn can_receive(&self) -> usize {
        if self.loopback() {
            return 0;
        }
        if self.fifo_enabled() {
            let count = self.recv_fifo.len();
            if count >= FIFO_DEPTH {
                0
            } else if count <= self.recv_fifo_itl {
                self.recv_fifo_itl - count
            } else {
                1
            }
        } else if self.lsr & UART_LSR_DR != 0 {
            0
        } else {
            1
        }
    }

    /// Bytes arriving on the serial line (QEMU's `serial_receive1`).
    pub(super) fn receive(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.fifo_enabled() {
            for &byte in bytes {
                if self.recv_fifo.len() < FIFO_DEPTH {
                    self.recv_fifo.push_back(byte);
                } else {
                    // Overruns do not overwrite FIFO contents.
                    self.lsr |= UART_LSR_OE;
                }
            }
            self.lsr |= UART_LSR_DR;
            self.timeout_armed = true;
        } else {
            for &byte in bytes {
                if self.lsr & UART_LSR_DR != 0 {
                    self.lsr |= UART_LSR_OE;
                }
                self.rbr = byte;
                self.lsr |= UART_LSR_DR;
            }
        }
    }

    pub(super) fn write_fcr(&mut self, value: u8) {
        let mut value = value;
        // Changing the enable bit flushes both FIFOs.
        if (value ^ self.fcr) & UART_FCR_FE != 0 {
            value |= UART_FCR_RFR | UART_FCR_XFR;
        }
        if value & UART_FCR_RFR != 0 {
            self.lsr &= !(UART_LSR_DR | UART_LSR_BI);
            self.timeout_ipending = false;
            self.timeout_armed = false;
            self.recv_fifo.clear();
        }
        if value & UART_FCR_XFR != 0 {
            self.lsr |= UART_LSR_THRE;
            self.thr_ipending = true;
        }
        self.fcr = value & UART_FCR_STICKY;
        if self.fifo_enabled() {
            self.iir |= UART_IIR_FE;
            self.recv_fifo_itl = match value >> 6 {
                0 => 1,
                1 => 4,
                2 => 8,
                _ => 14,
            };
        } else {
            self.iir &= !UART_IIR_FE;
        }
    }

    /// MSR as read in loopback: the MCR outputs drive the modem inputs
    /// (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD).
    pub(super) fn loopback_msr(&self) -> u8 {
        ((self.mcr & 0x0c) << 4) | ((self.mcr & 0x02) << 3) | ((self.mcr & 0x01) << 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_priority_order() {
        let mut r = UartRegs::reset();
        r.ier = UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI;
        assert_eq!(r.pending_interrupt(), UART_IIR_NO_INT);
        r.msr |= 0x01;
        assert_eq!(r.pending_interrupt(), UART_IIR_MSI);
        r.thr_ipending = true;
        assert_eq!(r.pending_interrupt(), UART_IIR_THRI);
        r.receive(b"x");
        assert_eq!(r.pending_interrupt(), UART_IIR_RDI);
        r.write_fcr(0xc1);
        r.receive(b"y");
        assert_eq!(
            r.pending_interrupt(),
            UART_IIR_THRI,
            "below trigger level 14"
        );
        r.timeout_ipending = true;
        assert_eq!(r.pending_interrupt(), UART_IIR_CTI);
        r.lsr |= UART_LSR_OE;
        assert_eq!(r.pending_interrupt(), UART_IIR_RLSI);
        r.ier = 0;
        assert_eq!(r.pending_interrupt(), UART_IIR_NO_INT, "everything masked");
    }

    #[test]
    fn can_receive_follows_trigger_level() {
        let mut r = UartRegs::reset();
        assert_eq!(r.can_receive(), 1, "no FIFO: one byte");
        r.receive(b"a");
        assert_eq!(r.can_receive(), 0, "RBR full");
        r.write_fcr(0x41); // trigger 4, flushes
        assert_eq!(r.recv_fifo_itl, 4);
        assert_eq!(r.can_receive(), 4);
        r.receive(b"abcd");
        assert_eq!(r.can_receive(), 0, "at the trigger level exactly");
        r.receive(b"e");
        assert_eq!(r.can_receive(), 1, "above it: one at a time");
        r.receive(&[0; 11]);
        assert_eq!(r.recv_fifo.len(), FIFO_DEPTH);
        assert_eq!(r.can_receive(), 0, "full");
        r.mcr |= UART_MCR_LOOP;
        r.recv_fifo.clear();
        assert_eq!(r.can_receive(), 0, "loopback takes nothing from the host");
    }

    #[test]
    fn fcr_trigger_levels_and_sticky_bits() {
        let mut r = UartRegs::reset();
        for (fcr, level) in [(0x01, 1), (0x41, 4), (0x81, 8), (0xc1, 14)] {
            r.write_fcr(fcr);
            assert_eq!(r.recv_fifo_itl, level);
            assert_eq!(r.fcr, fcr & UART_FCR_STICKY);
        }
        r.write_fcr(0xc7);
        assert_eq!(r.fcr, 0xc1, "reset bits do not stick");
        r.write_fcr(0);
        assert_eq!(r.iir & UART_IIR_FE, 0);
    }
}
