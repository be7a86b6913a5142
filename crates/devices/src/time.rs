//! Virtual time as devices see it.

use std::cell::Cell;

/// The machine's timebase: `mtime` ticks at 10 MHz of *virtual* time (derived
/// from retired instructions), so runs are deterministic.
pub trait TimeSource {
    /// Ticks since the machine started; never decreases.
    fn now(&self) -> u64;
}

/// The mtime frequency QEMU's `virt` and Spike advertise: 10 MHz.
pub const TIMEBASE_FREQUENCY: u64 = 10_000_000;

/// A clock that moves only when told to; for tests and for boards that own
/// time themselves.
#[derive(Debug, Default)]
pub struct ManualClock {
    ticks: Cell<u64>,
}

impl ManualClock {
    /// A clock at tick 0.
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Sets the current tick (callers keep it monotonic).
    pub fn set(&self, ticks: u64) {
        self.ticks.set(ticks);
    }

    /// Moves the clock forward by `ticks`.
    pub fn advance(&self, ticks: u64) {
        self.ticks.set(self.ticks.get().wrapping_add(ticks));
    }
}

impl TimeSource for ManualClock {
    fn now(&self) -> u64 {
        self.ticks.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_when_told() {
        let clock = ManualClock::new();
        assert_eq!(clock.now(), 0);
        clock.advance(25);
        assert_eq!(clock.now(), 25);
        clock.set(1000);
        assert_eq!(clock.now(), 1000);
    }
}
