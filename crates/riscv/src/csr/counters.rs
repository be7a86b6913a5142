//! `mcycle`/`minstret` and their user-level shadows, with `mcountinhibit`.
//!
//! The executor owns the raw counts (retired instructions, cycles, time) and
//! passes them in a [`CsrContext`] on every access. A guest write to `mcycle`
//! or `minstret` is remembered as an offset from the raw count, so counting
//! goes on from the written value. While a counter is inhibited its value is
//! frozen; un-inhibiting it resumes counting from the frozen value.
//!
//! A write of `minstret` (or `mcycle`) suppresses the writing instruction's
//! own increment: the next instruction reads the value written, as the
//! privileged specification's counter rules, Spike, and the ISA test
//! `rv64mi-p-instret_overflow` require. The raw count in the context is the
//! count before the writing instruction retires.

use super::fields::{COUNTER_CY, COUNTER_IR};

/// The raw counts the executor passes to every CSR access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsrContext {
    /// Instructions retired by this hart since reset.
    pub instret: u64,
    /// Cycles elapsed on this hart since reset.
    pub cycle: u64,
    /// The platform timer (`mtime`, 10 MHz ticks).
    pub time: u64,
}

/// One guest-writable counter derived from a raw count.
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    /// Added to the raw count while counting.
    offset: u64,
    /// The value while inhibited.
    frozen: u64,
}

impl Counter {
    fn read(&self, raw: u64, inhibited: bool) -> u64 {
        if inhibited {
            self.frozen
        } else {
            raw.wrapping_add(self.offset)
        }
    }

    fn write(&mut self, raw: u64, inhibited: bool, value: u64) {
        if inhibited {
            self.frozen = value;
        } else {
            // The writer retires (raw + 1) without counting.
            self.offset = value.wrapping_sub(raw.wrapping_add(1));
        }
    }

    fn set_inhibited(&mut self, raw: u64, was: bool, now: bool) {
        match (was, now) {
            (false, true) => self.frozen = raw.wrapping_add(self.offset),
            (true, false) => self.offset = self.frozen.wrapping_sub(raw),
            _ => {}
        }
    }
}

/// The machine counters and `mcountinhibit`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    cycle: Counter,
    instret: Counter,
    inhibit: u64,
}

/// Bits of `mcountinhibit` that exist: CY and IR (no hpm counters; TM is
/// read-only zero by definition).
pub(crate) const MCOUNTINHIBIT_WRITABLE: u64 = COUNTER_CY | COUNTER_IR;

impl Counters {
    /// The counters as words, for saved state.
    pub(crate) fn to_words(&self) -> [u64; 5] {
        [
            self.cycle.offset,
            self.cycle.frozen,
            self.instret.offset,
            self.instret.frozen,
            self.inhibit,
        ]
    }

    /// Counters from [`Counters::to_words`].
    pub(crate) fn from_words(w: [u64; 5]) -> Self {
        Self {
            cycle: Counter {
                offset: w[0],
                frozen: w[1],
            },
            instret: Counter {
                offset: w[2],
                frozen: w[3],
            },
            inhibit: w[4] & MCOUNTINHIBIT_WRITABLE,
        }
    }

    pub(crate) fn cycle(&self, ctx: &CsrContext) -> u64 {
        self.cycle.read(ctx.cycle, self.inhibit & COUNTER_CY != 0)
    }

    pub(crate) fn instret(&self, ctx: &CsrContext) -> u64 {
        self.instret
            .read(ctx.instret, self.inhibit & COUNTER_IR != 0)
    }

    pub(crate) fn set_cycle(&mut self, ctx: &CsrContext, value: u64) {
        self.cycle
            .write(ctx.cycle, self.inhibit & COUNTER_CY != 0, value);
    }

    pub(crate) fn set_instret(&mut self, ctx: &CsrContext, value: u64) {
        self.instret
            .write(ctx.instret, self.inhibit & COUNTER_IR != 0, value);
    }

    pub(crate) fn inhibit(&self) -> u64 {
        self.inhibit
    }

    pub(crate) fn set_inhibit(&mut self, ctx: &CsrContext, value: u64) {
        let new = value & MCOUNTINHIBIT_WRITABLE;
        let old = self.inhibit;
        self.cycle
            .set_inhibited(ctx.cycle, old & COUNTER_CY != 0, new & COUNTER_CY != 0);
        self.instret
            .set_inhibited(ctx.instret, old & COUNTER_IR != 0, new & COUNTER_IR != 0);
        self.inhibit = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(n: u64) -> CsrContext {
        CsrContext {
            instret: n,
            cycle: n * 2,
            time: n / 10,
        }
    }

    #[test]
    fn counters_follow_the_raw_counts_until_written() {
        let mut c = Counters::default();
        assert_eq!(c.instret(&ctx(100)), 100);
        assert_eq!(c.cycle(&ctx(100)), 200);
        // The write suppresses the writer's increment: the next
        // instruction (raw count 101) reads the value written.
        c.set_instret(&ctx(100), 5);
        assert_eq!(c.instret(&ctx(101)), 5);
        assert_eq!(c.instret(&ctx(151)), 55);
        c.set_cycle(&ctx(10), 0);
        assert_eq!(c.cycle(&ctx(21)), 21);
        // Wrapping at 2^64.
        c.set_instret(&ctx(7), u64::MAX);
        assert_eq!(c.instret(&ctx(9)), 0);
    }

    #[test]
    fn inhibit_freezes_and_resumes() {
        let mut c = Counters::default();
        c.set_inhibit(&ctx(10), COUNTER_IR | (1 << 1) | (1 << 5));
        assert_eq!(
            c.inhibit(),
            COUNTER_IR,
            "TM and hpm bits are read-only zero"
        );
        assert_eq!(c.instret(&ctx(50)), 10);
        assert_eq!(c.cycle(&ctx(50)), 100, "cycle still counts");
        c.set_instret(&ctx(60), 1000);
        assert_eq!(c.instret(&ctx(70)), 1000);
        c.set_inhibit(&ctx(70), 0);
        assert_eq!(c.instret(&ctx(75)), 1005);
    }
}
