//! Goldfish RTC, as QEMU `virt` provides it (`google,goldfish-rtc` at
//! 0x101000, PLIC source 11): a 64-bit nanosecond wall clock with one alarm.
//!
//! | offset | read                                   | write                       |
//! |--------|----------------------------------------|-----------------------------|
//! | 0x00   | time, low 32 bits (latches the high)   | time, low 32 bits           |
//! | 0x04   | time, high 32 bits (as latched)        | time, high 32 bits          |
//! | 0x08   | alarm, low 32 bits                     | alarm low; arms the alarm   |
//! | 0x0c   | alarm, high 32 bits                    | alarm high (write it first) |
//! | 0x10   | interrupt enable (bit 0)               | interrupt enable            |
//! | 0x14   | —                                      | cancel the alarm            |
//! | 0x18   | alarm running                          | —                           |
//! | 0x1c   | —                                      | clear the interrupt         |
//!
//! The clock is *virtual*: nanoseconds since the Unix epoch are `start_ns`
//! (given by the board: the host's wall clock, or a fixed value for
//! reproducible runs) plus the elapsed [`TimeSource`] ticks at 10 MHz, plus
//! whatever offset guest writes to the time registers add. The machine calls
//! [`GoldfishRtc::update`] between slices to fire a due alarm, and may bound
//! slices with [`GoldfishRtc::next_deadline`].

use std::cell::Cell;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxResult, RegionOps,
};

use crate::GUEST_ERRORS;
use crate::irq::IrqLine;
use crate::time::{TIMEBASE_FREQUENCY, TimeSource};

const RTC_TIME_LOW: u64 = 0x00;
const RTC_TIME_HIGH: u64 = 0x04;
const RTC_ALARM_LOW: u64 = 0x08;
const RTC_ALARM_HIGH: u64 = 0x0c;
const RTC_IRQ_ENABLED: u64 = 0x10;
const RTC_CLEAR_ALARM: u64 = 0x14;
const RTC_ALARM_STATUS: u64 = 0x18;
const RTC_CLEAR_INTERRUPT: u64 = 0x1c;

/// Nanoseconds per [`TimeSource`] tick (10 MHz).
const NS_PER_TICK: u64 = 1_000_000_000 / TIMEBASE_FREQUENCY;

/// The Goldfish RTC.
pub struct GoldfishRtc {
    time: Rc<dyn TimeSource>,
    /// RTC nanoseconds = `offset_ns + ticks * NS_PER_TICK` (wrapping).
    offset_ns: Cell<u64>,
    alarm_next: Cell<u64>,
    alarm_running: Cell<bool>,
    irq_pending: Cell<bool>,
    irq_enabled: Cell<bool>,
    time_high: Cell<u32>,
    irq: IrqLine,
}

impl GoldfishRtc {
    /// Size of QEMU's register window (the board's 0x1000 slot is mostly empty).
    pub const REGION_SIZE: u64 = 0x24;

    /// An RTC reading `start_ns` (nanoseconds since the Unix epoch) when
    /// `time` reads 0, raising `irq` when an enabled alarm fires.
    pub fn new(time: Rc<dyn TimeSource>, start_ns: u64, irq: IrqLine) -> Self {
        GoldfishRtc {
            time,
            offset_ns: Cell::new(start_ns),
            alarm_next: Cell::new(0),
            alarm_running: Cell::new(false),
            irq_pending: Cell::new(false),
            irq_enabled: Cell::new(false),
            time_high: Cell::new(0),
            irq,
        }
    }

    /// The host's wall clock now, in nanoseconds since the Unix epoch (0 if
    /// the host clock is before 1970); a board's usual `start_ns`.
    pub fn host_now_ns() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    /// The RTC's current value in nanoseconds since the epoch.
    pub fn now_ns(&self) -> u64 {
        self.offset_ns
            .get()
            .wrapping_add(self.time.now().wrapping_mul(NS_PER_TICK))
    }

    /// Fires the alarm if it is due.
    pub fn update(&self) {
        if self.alarm_running.get() && self.now_ns() >= self.alarm_next.get() {
            self.fire();
        }
    }

    /// When the running alarm is due, in [`TimeSource`] ticks (rounded up).
    ///
    /// An alarm the RTC can never reach — its nanosecond counter would wrap
    /// past 2^64 - 1 before reading the alarm time, or the tick would be past
    /// the time source's range — is no deadline: the alarm can never fire,
    /// so a guest waiting for it sleeps (QEMU idles) rather than time
    /// jumping to the end of its range.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.alarm_running.get() {
            return None;
        }
        let now_ns = self.now_ns();
        let remaining_ns = self.alarm_next.get().saturating_sub(now_ns);
        let ticks = remaining_ns.div_ceil(NS_PER_TICK);
        let ns_then = u128::from(now_ns) + u128::from(ticks) * u128::from(NS_PER_TICK);
        if ns_then > u128::from(u64::MAX) {
            return None;
        }
        self.time
            .now()
            .checked_add(ticks)
            .filter(|&deadline| deadline != u64::MAX)
    }

    /// Device reset: alarm and interrupt state cleared; the time keeps going.
    pub fn reset(&self) {
        self.alarm_next.set(0);
        self.alarm_running.set(false);
        self.irq_pending.set(false);
        self.irq_enabled.set(false);
        self.update_irq();
    }

    fn fire(&self) {
        self.alarm_running.set(false);
        self.irq_pending.set(true);
        self.update_irq();
    }

    fn update_irq(&self) {
        self.irq
            .set(self.irq_pending.get() && self.irq_enabled.get());
    }

    fn set_time(&self, new_ns: u64) {
        let delta = new_ns.wrapping_sub(self.now_ns());
        self.offset_ns.set(self.offset_ns.get().wrapping_add(delta));
    }

    fn arm_alarm(&self) {
        if self.alarm_next.get() <= self.now_ns() {
            self.fire();
        } else {
            self.alarm_running.set(true);
        }
    }
}

fn with_low(value: u64, low: u64) -> u64 {
    (value & !0xffff_ffff) | (low & 0xffff_ffff)
}

fn with_high(value: u64, high: u64) -> u64 {
    (value & 0xffff_ffff) | (high << 32)
}

impl RegionOps for GoldfishRtc {
    fn read(&self, offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(match offset {
            RTC_TIME_LOW => {
                let now = self.now_ns();
                self.time_high.set((now >> 32) as u32);
                now & 0xffff_ffff
            }
            RTC_TIME_HIGH => u64::from(self.time_high.get()),
            RTC_ALARM_LOW => self.alarm_next.get() & 0xffff_ffff,
            RTC_ALARM_HIGH => self.alarm_next.get() >> 32,
            RTC_IRQ_ENABLED => u64::from(self.irq_enabled.get()),
            RTC_ALARM_STATUS => u64::from(self.alarm_running.get()),
            _ => {
                tracing::warn!(target: GUEST_ERRORS, "goldfish rtc: read of offset 0x{offset:x}");
                0
            }
        })
    }

    fn write(&self, offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        match offset {
            RTC_TIME_LOW => self.set_time(with_low(self.now_ns(), value)),
            RTC_TIME_HIGH => self.set_time(with_high(self.now_ns(), value)),
            RTC_ALARM_LOW => {
                self.alarm_next.set(with_low(self.alarm_next.get(), value));
                self.arm_alarm();
            }
            RTC_ALARM_HIGH => self.alarm_next.set(with_high(self.alarm_next.get(), value)),
            RTC_IRQ_ENABLED => {
                self.irq_enabled.set(value & 1 != 0);
                self.update_irq();
            }
            RTC_CLEAR_ALARM => self.alarm_running.set(false),
            RTC_CLEAR_INTERRUPT => {
                self.irq_pending.set(false);
                self.update_irq();
            }
            _ => tracing::warn!(
                target: GUEST_ERRORS,
                "goldfish rtc: write 0x{value:x} to offset 0x{offset:x}"
            ),
        }
        Ok(())
    }

    /// QEMU's `goldfish_rtc_ops`: 4-byte accesses, little endian.
    fn descriptor(&self) -> IoDescriptor {
        let four = AccessConstraints {
            min_access_size: 4,
            max_access_size: 4,
            unaligned: false,
        };
        IoDescriptor {
            valid: four,
            implementation: four,
            endianness: Endianness::Little,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::IrqLevels;
    use crate::time::ManualClock;

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };
    const START: u64 = 1_700_000_000_000_000_000;

    fn rig() -> (GoldfishRtc, Rc<ManualClock>, Rc<IrqLevels>) {
        let clock = Rc::new(ManualClock::new());
        let irq = IrqLevels::new();
        (
            GoldfishRtc::new(clock.clone(), START, irq.line(11)),
            clock,
            irq,
        )
    }

    fn read_time(rtc: &GoldfishRtc) -> u64 {
        let low = rtc.read(RTC_TIME_LOW, 4, A).unwrap();
        let high = rtc.read(RTC_TIME_HIGH, 4, A).unwrap();
        (high << 32) | low
    }

    #[test]
    fn an_alarm_the_counter_cannot_reach_is_no_deadline() {
        let (rtc, clock, _) = rig();
        clock.set(5);
        rtc.write(RTC_ALARM_HIGH, 0xffff_ffff, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, 0xffff_ffff, 4, A).unwrap();
        assert_eq!(rtc.read(RTC_ALARM_STATUS, 4, A).unwrap(), 1, "armed");
        assert_eq!(rtc.next_deadline(), None, "2^64 - 1 ns is never reached");
        // One a microsecond ahead is 10 ticks ahead.
        let soon = rtc.now_ns() + 1000;
        rtc.write(RTC_ALARM_HIGH, soon >> 32, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, soon & 0xffff_ffff, 4, A).unwrap();
        assert_eq!(rtc.next_deadline(), Some(5 + 10));
    }

    #[test]
    fn time_counts_virtual_nanoseconds_and_high_half_is_latched() {
        let (rtc, clock, _) = rig();
        assert_eq!(read_time(&rtc), START);
        clock.advance(10_000_000); // one virtual second
        assert_eq!(read_time(&rtc), START + 1_000_000_000);
        let low = rtc.read(RTC_TIME_LOW, 4, A).unwrap();
        clock.advance(u64::from(u32::MAX)); // the high half moves on...
        let high = rtc.read(RTC_TIME_HIGH, 4, A).unwrap();
        assert_eq!(
            (high << 32) | low,
            START + 1_000_000_000,
            "...but reads as latched"
        );
    }

    #[test]
    fn writing_time_moves_the_clock() {
        let (rtc, clock, _) = rig();
        rtc.write(RTC_TIME_HIGH, 0, 4, A).unwrap();
        rtc.write(RTC_TIME_LOW, 5000, 4, A).unwrap();
        assert_eq!(rtc.now_ns(), 5000);
        clock.advance(3);
        assert_eq!(rtc.now_ns(), 5300);
    }

    #[test]
    fn alarm_fires_when_due_and_interrupts_only_when_enabled() {
        let (rtc, clock, irq) = rig();
        let alarm = START + 1_000;
        rtc.write(RTC_ALARM_HIGH, alarm >> 32, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, alarm & 0xffff_ffff, 4, A).unwrap();
        assert_eq!(rtc.read(RTC_ALARM_STATUS, 4, A).unwrap(), 1);
        assert_eq!(rtc.next_deadline(), Some(10));
        clock.set(9);
        rtc.update();
        assert_eq!(rtc.read(RTC_ALARM_STATUS, 4, A).unwrap(), 1, "not yet");
        clock.set(10);
        rtc.update();
        assert_eq!(rtc.read(RTC_ALARM_STATUS, 4, A).unwrap(), 0);
        assert!(!irq.level(11), "interrupt disabled");
        rtc.write(RTC_IRQ_ENABLED, 1, 4, A).unwrap();
        assert!(irq.level(11), "pending interrupt shows once enabled");
        rtc.write(RTC_CLEAR_INTERRUPT, 0, 4, A).unwrap();
        assert!(!irq.level(11));
        assert_eq!(rtc.next_deadline(), None);
    }

    #[test]
    fn past_alarm_fires_at_once_and_clear_alarm_cancels() {
        let (rtc, clock, irq) = rig();
        rtc.write(RTC_IRQ_ENABLED, 1, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, 0, 4, A).unwrap(); // alarm at 0 ns: long past
        assert!(irq.level(11));
        rtc.write(RTC_CLEAR_INTERRUPT, 0, 4, A).unwrap();
        let later = START + 50_000;
        rtc.write(RTC_ALARM_HIGH, later >> 32, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, later & 0xffff_ffff, 4, A).unwrap();
        assert_eq!(rtc.read(RTC_ALARM_LOW, 4, A).unwrap(), later & 0xffff_ffff);
        rtc.write(RTC_CLEAR_ALARM, 0, 4, A).unwrap();
        clock.set(1_000_000);
        rtc.update();
        assert!(!irq.level(11), "cancelled alarms do not fire");
    }

    #[test]
    fn unknown_offsets_and_reset() {
        let (rtc, _, irq) = rig();
        assert_eq!(rtc.read(0x20, 4, A).unwrap(), 0);
        rtc.write(0x20, 1, 4, A).unwrap();
        rtc.write(RTC_IRQ_ENABLED, 1, 4, A).unwrap();
        rtc.write(RTC_ALARM_LOW, 0, 4, A).unwrap();
        assert!(irq.level(11));
        rtc.reset();
        assert!(!irq.level(11));
        assert_eq!(rtc.read(RTC_IRQ_ENABLED, 4, A).unwrap(), 0);
        assert_eq!(rtc.descriptor().valid.max_access_size, 4);
    }
}
