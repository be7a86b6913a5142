//! Virtual time derived from the retired-instruction count.
//!
//! Guest time never looks at the host clock: `mtime` advances by one tick per
//! [`VirtualClock::insns_per_tick`] retired instructions (summed over all
//! harts), so the same binary always sees the same time at the same
//! instruction and a run is deterministic. When every hart waits for an
//! interrupt the machine skips ahead with [`VirtualClock::advance_to_tick`].
//!
//! The clock is the one object every hart of a machine shares, so it also
//! carries the machine's [`EventHub`]: the fan-out of memory events to every
//! hart's queue (the memory API has a single code-write hook).

use std::cell::Cell;
use std::rc::Rc;

use crate::events::EventHub;

/// The frequency of the virtual `mtime` counter: 10 MHz, as on QEMU `virt`.
pub const TICKS_PER_SECOND: u64 = 10_000_000;

/// The default instructions per tick: 10.
///
/// With 10 MHz ticks this models a 100 MIPS guest, a plausible speed for the
/// in-order cores these boards describe and close to the speed at which the
/// interpreter really runs, so timer-driven guests (a 100 Hz scheduler tick,
/// a UART timeout) behave about as they would on QEMU.
pub const DEFAULT_INSNS_PER_TICK: u64 = 10;

/// How far ahead a timer deadline may lie and still count, in ticks: 2^63 - 1
/// nanoseconds, about 292 years, as QEMU's timers (a deadline further out
/// overflows QEMU's signed nanosecond clock and becomes "never"). A guest
/// arming a timer further ahead sleeps as on QEMU, and the clock never has
/// to jump to the end of its 64-bit range.
pub const TIMER_HORIZON_TICKS: u64 = i64::MAX as u64 / (1_000_000_000 / TICKS_PER_SECOND);

/// A shared, instruction-driven clock. Single-threaded: state is in `Cell`s.
#[derive(Debug)]
pub struct VirtualClock {
    insns: Cell<u64>,
    insns_per_tick: u64,
    /// Ticks added by [`VirtualClock::advance_to_tick`] (idle skips).
    skipped_ticks: Cell<u64>,
    hub: Rc<EventHub>,
    /// Set by [`VirtualClock::request_slice_end`].
    slice_end: Cell<bool>,
}

impl VirtualClock {
    /// A clock at tick 0 in which `insns_per_tick` retired instructions make
    /// one tick (0 is treated as 1).
    pub fn new(insns_per_tick: u64) -> Rc<Self> {
        Rc::new(Self {
            insns: Cell::new(0),
            insns_per_tick: insns_per_tick.max(1),
            skipped_ticks: Cell::new(0),
            hub: EventHub::new(),
            slice_end: Cell::new(false),
        })
    }

    /// Ask the harts to end their current slice after the instruction now
    /// running (a device holds a request, such as power-off or reset, that
    /// the machine must act on before more instructions run). A hart sees
    /// the request when that instruction's device access returns.
    pub fn request_slice_end(&self) {
        self.slice_end.set(true);
    }

    /// Whether a slice end was requested and not cleared since.
    #[inline]
    pub fn slice_end_requested(&self) -> bool {
        self.slice_end.get()
    }

    /// Forget a slice-end request (the machine, once it has acted on it).
    pub fn clear_slice_end(&self) {
        self.slice_end.set(false);
    }

    /// The machine-wide hub through which memory events reach every hart.
    pub fn event_hub(&self) -> Rc<EventHub> {
        Rc::clone(&self.hub)
    }

    /// Instructions retired so far by all harts.
    pub fn insns(&self) -> u64 {
        self.insns.get()
    }

    /// How many retired instructions make one tick.
    pub fn insns_per_tick(&self) -> u64 {
        self.insns_per_tick
    }

    /// Record `n` more retired instructions.
    #[inline]
    pub fn retire(&self, n: u64) {
        self.insns.set(self.insns.get().wrapping_add(n));
    }

    /// The current time in ticks (the value of `mtime`).
    #[inline]
    pub fn ticks(&self) -> u64 {
        self.ticks_at(0)
    }

    /// The time in ticks once `extra` more instructions have retired: what a
    /// `rdtime` in the middle of a block sees.
    #[inline]
    pub fn ticks_at(&self, extra: u64) -> u64 {
        (self.insns.get().wrapping_add(extra) / self.insns_per_tick)
            .saturating_add(self.skipped_ticks.get())
    }

    /// How many more instructions must retire before the clock reads `tick`
    /// (0 if it already does).
    pub fn insns_until_tick(&self, tick: u64) -> u64 {
        let now = self.ticks();
        if tick <= now {
            return 0;
        }
        // Instructions to the end of the current tick, then whole ticks.
        let into_tick = self.insns.get() % self.insns_per_tick;
        (tick - now)
            .saturating_mul(self.insns_per_tick)
            .saturating_sub(into_tick)
    }

    /// Move time forward to `tick` without retiring instructions (every hart
    /// is idle). Never moves time backwards.
    pub fn advance_to_tick(&self, tick: u64) {
        let now = self.ticks();
        if tick > now {
            self.skipped_ticks
                .set(self.skipped_ticks.get() + (tick - now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_instructions() {
        let c = VirtualClock::new(10);
        assert_eq!(c.ticks(), 0);
        c.retire(9);
        assert_eq!(c.ticks(), 0);
        c.retire(1);
        assert_eq!(c.ticks(), 1);
        assert_eq!(c.ticks_at(25), 3);
        assert_eq!(c.insns(), 10);
    }

    #[test]
    fn insns_until_tick_is_exact() {
        let c = VirtualClock::new(10);
        c.retire(13);
        assert_eq!(c.insns_until_tick(1), 0);
        let n = c.insns_until_tick(5);
        assert_eq!(n, 37);
        c.retire(n - 1);
        assert_eq!(c.ticks(), 4);
        c.retire(1);
        assert_eq!(c.ticks(), 5);
    }

    #[test]
    fn far_deadlines_saturate() {
        let c = VirtualClock::new(10);
        c.retire(3);
        assert_eq!(c.insns_until_tick(u64::MAX), u64::MAX - 3);
        c.advance_to_tick(u64::MAX - 1);
        assert_eq!(c.insns_until_tick(u64::MAX), 7);
        c.retire(100);
        assert_eq!(c.ticks(), u64::MAX, "time saturates instead of wrapping");
    }

    #[test]
    fn advance_skips_idle_time_and_never_goes_back() {
        let c = VirtualClock::new(10);
        c.retire(20);
        c.advance_to_tick(100);
        assert_eq!(c.ticks(), 100);
        c.advance_to_tick(50);
        assert_eq!(c.ticks(), 100);
        c.retire(10);
        assert_eq!(c.ticks(), 101);
    }
}
