//! Dynamic sizing of the per-mode fast table.
//!
//! # Rationale
//!
//! A direct-mapped table wants to be large enough that the working set of
//! pages fits without conflict misses, and small enough that a flush (which
//! clears every slot: guests flush on every context switch and `satp`
//! write) stays cheap. No single size serves a bare-metal loop touching
//! three pages and an OS touching thousands, so, like QEMU's `cputlb.c`, the
//! table is resized at flush time from its observed use:
//!
//! * At each flush the *use rate* is the number of slots filled since the
//!   previous flush divided by the table size. Above 70% the table is
//!   crowded (many conflict misses are likely): double it at once.
//! * Shrinking is deliberate and slow: only when the *peak* use over a whole
//!   window stayed below 30% is the table shrunk, to the smallest power of two
//!   that keeps that peak under 70%. A single quiet interval (a burst of
//!   flushes during a context switch) therefore never throws away a table a
//!   busy workload needs a moment later.
//! * QEMU measures its window in host time (100 ms); here the window is a
//!   number of flushes ([`WINDOW_FLUSHES`]) so that a run stays deterministic.
//! * A workload that never flushes (bare-metal code with translation off)
//!   would never be resized, so a fill that evicts a live slot counts as a
//!   conflict; when the conflicts since the last flush exceed the table size
//!   the table is grown on the spot (a flush of that mode, then double).
//!
//! Sizes are powers of two between [`MIN_BITS`] and [`MAX_BITS`] (64 to
//! 32768 slots of 32 bytes: 2 KiB to 1 MiB per mode).

/// Smallest table: 2^6 slots.
pub const MIN_BITS: u32 = 6;
/// Initial table: 2^8 slots (1 MiB of guest memory without conflicts).
pub const DEFAULT_BITS: u32 = 8;
/// Largest table: 2^15 slots.
pub const MAX_BITS: u32 = 15;
/// Flushes per shrink window.
pub const WINDOW_FLUSHES: u32 = 16;
/// Use rate (percent) above which the table grows.
pub const GROW_PERCENT: usize = 70;
/// Peak use rate (percent) over a window below which the table shrinks.
pub const SHRINK_PERCENT: usize = 30;

/// The use statistics of one mode's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSizing {
    /// Slots filled since the last flush (a fill of an empty slot).
    pub used: usize,
    /// Fills that evicted a live slot since the last flush.
    pub conflicts: usize,
    /// Peak of `used` over the current window.
    pub window_peak: usize,
    /// Flushes seen in the current window.
    pub window_flushes: u32,
}

impl Default for TableSizing {
    fn default() -> Self {
        Self::new()
    }
}

impl TableSizing {
    /// Fresh statistics.
    pub const fn new() -> Self {
        Self {
            used: 0,
            conflicts: 0,
            window_peak: 0,
            window_flushes: 0,
        }
    }

    /// Decide the table size (as log2) to use after a flush of a table of
    /// `1 << bits` slots, and reset the per-flush counters.
    pub fn on_flush(&mut self, bits: u32) -> u32 {
        let size = 1usize << bits;
        self.window_peak = self.window_peak.max(self.used);
        self.window_flushes += 1;
        let mut new_bits = bits;
        if self.used * 100 > size * GROW_PERCENT && bits < MAX_BITS {
            new_bits = bits + 1;
            self.reset_window();
        } else if self.window_flushes >= WINDOW_FLUSHES {
            if self.window_peak * 100 < size * SHRINK_PERCENT && bits > MIN_BITS {
                new_bits = fitting_bits(self.window_peak);
            }
            self.reset_window();
        }
        self.used = 0;
        self.conflicts = 0;
        new_bits
    }

    /// Whether conflict evictions since the last flush ask for a larger
    /// table right now.
    pub fn wants_growth(&self, bits: u32) -> bool {
        bits < MAX_BITS && self.conflicts > (1usize << bits)
    }

    fn reset_window(&mut self) {
        self.window_peak = 0;
        self.window_flushes = 0;
    }
}

/// The smallest size (log2, clamped to the limits) whose use rate for `peak`
/// slots stays under [`GROW_PERCENT`].
fn fitting_bits(peak: usize) -> u32 {
    let mut bits = MIN_BITS;
    while bits < MAX_BITS && peak * 100 > (1usize << bits) * GROW_PERCENT {
        bits += 1;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_table_doubles() {
        let mut s = TableSizing::new();
        s.used = 200; // 78% of 256
        assert_eq!(s.on_flush(8), 9);
        assert_eq!(s.used, 0);
    }

    #[test]
    fn never_grows_past_max() {
        let mut s = TableSizing::new();
        s.used = 1 << MAX_BITS;
        assert_eq!(s.on_flush(MAX_BITS), MAX_BITS);
    }

    #[test]
    fn shrinks_only_after_a_quiet_window() {
        let mut s = TableSizing::new();
        let mut bits = 12;
        for i in 0..WINDOW_FLUSHES - 1 {
            s.used = 10;
            bits = s.on_flush(bits);
            assert_eq!(bits, 12, "flush {i}");
        }
        s.used = 10;
        bits = s.on_flush(bits);
        assert_eq!(bits, MIN_BITS);
    }

    #[test]
    fn busy_window_keeps_size() {
        let mut s = TableSizing::new();
        let mut bits = 10;
        for i in 0..WINDOW_FLUSHES {
            s.used = if i == 3 { 600 } else { 5 };
            bits = s.on_flush(bits);
        }
        assert_eq!(bits, 10);
    }

    #[test]
    fn conflicts_trigger_growth() {
        let mut s = TableSizing::new();
        s.conflicts = 300;
        assert!(s.wants_growth(8));
        assert!(!s.wants_growth(MAX_BITS));
        assert_eq!(fitting_bits(100), 8);
    }
}
