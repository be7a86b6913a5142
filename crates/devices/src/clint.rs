//! CLINT as on QEMU `virt`: an ACLINT MSWI (software interrupts) followed by
//! an ACLINT MTIMER (timer compare registers and `mtime`).
//!
//! Layout from the CLINT base:
//!
//! | offset              | register                         | sizes |
//! |---------------------|----------------------------------|-------|
//! | `0x0000 + 4*hart`   | `msip` (bit 0; other bits read 0)| 4     |
//! | `0x4000 + 8*hart`   | `mtimecmp` (or its 32-bit halves)| 4, 8  |
//! | `0xbff8`            | `mtime` (or its 32-bit halves)   | 4, 8  |
//!
//! QEMU maps the two halves as separate regions with different access rules
//! (MSWI: 4 bytes only; MTIMER: 4 or 8), and so should a board: map
//! [`Clint::swi`] at the base and [`Clint::mtimer`] at base + 0x4000. For a
//! board that wants one region, [`Clint`] itself covers the whole 0x10000
//! window with 4- or 8-byte accesses.
//!
//! `mtime` is the [`TimeSource`]'s tick count plus an offset that guest
//! writes to `mtime` adjust. A hart's `mtimecmp` starts at 0 but takes effect
//! only once written (QEMU arms a hart's timer on the first write; at reset
//! MTIP is low). The machine calls [`Clint::update`] between execution slices
//! to re-evaluate MTIP, and bounds slices (or warps idle time) with
//! [`Clint::next_deadline`].

use std::cell::Cell;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxResult, RegionOps,
};

use crate::irq::IrqLine;
use crate::time::TimeSource;
use crate::{DeviceError, GUEST_ERRORS, Result};

/// Offset of the MSWI block in the CLINT window.
pub const SWI_OFFSET: u64 = 0x0;
/// Size of the MSWI region.
pub const SWI_SIZE: u64 = 0x4000;
/// Offset of the MTIMER block in the CLINT window.
pub const MTIMER_OFFSET: u64 = 0x4000;
/// Size of the MTIMER region (QEMU's default ACLINT MTIMER size).
pub const MTIMER_SIZE: u64 = 0x8000;
/// `mtime`'s offset inside the MTIMER region (0xbff8 from the CLINT base).
pub const MTIME_OFFSET: u64 = 0x7ff8;
/// The whole CLINT window on `virt`.
pub const CLINT_SIZE: u64 = 0x10000;
/// Most harts one CLINT serves (the MSWI block holds 4095 `msip` words).
pub const MAX_HARTS: usize = 4095;

/// Per-hart timer state.
#[derive(Debug)]
struct HartTimer {
    mtimecmp: Cell<u64>,
    /// Set by the first write to `mtimecmp` (or `mtime`); until then MTIP is
    /// not evaluated.
    armed: Cell<bool>,
}

/// A CLINT for `harts` harts.
pub struct Clint {
    time: Rc<dyn TimeSource>,
    /// `mtime - time.now()`, wrapping.
    time_delta: Cell<u64>,
    timers: Vec<HartTimer>,
    msip: Vec<IrqLine>,
    mtip: Vec<IrqLine>,
}

impl Clint {
    /// A CLINT driving `msip[h]` and `mtip[h]` for each hart `h`, with
    /// `mtime` read from `time`. Both vectors need one line per hart.
    pub fn new(
        time: Rc<dyn TimeSource>,
        msip: Vec<IrqLine>,
        mtip: Vec<IrqLine>,
    ) -> Result<Rc<Self>> {
        if msip.len() != mtip.len() {
            return Err(DeviceError::IrqLineCount {
                device: "clint",
                expected: msip.len(),
                got: mtip.len(),
            });
        }
        if msip.len() > MAX_HARTS {
            return Err(DeviceError::OutOfRange {
                device: "clint",
                what: "harts",
                value: msip.len() as u64,
                max: MAX_HARTS as u64,
            });
        }
        let timers = (0..msip.len())
            .map(|_| HartTimer {
                mtimecmp: Cell::new(0),
                armed: Cell::new(false),
            })
            .collect();
        Ok(Rc::new(Clint {
            time,
            time_delta: Cell::new(0),
            timers,
            msip,
            mtip,
        }))
    }

    /// Compare every hart's `mtimecmp` from now on, written or not, as
    /// Spike's CLINT does: with `mtimecmp` at its reset value 0, MTIP is
    /// high at once (QEMU's CLINT waits for the first write).
    pub fn arm_from_reset(&self) {
        for t in &self.timers {
            t.armed.set(true);
        }
        self.update();
    }

    /// The MSWI region (map at the CLINT base, size [`SWI_SIZE`]).
    pub fn swi(self: &Rc<Self>) -> ClintSwi {
        ClintSwi(self.clone())
    }

    /// The MTIMER region (map at base + [`MTIMER_OFFSET`], size [`MTIMER_SIZE`]).
    pub fn mtimer(self: &Rc<Self>) -> ClintMtimer {
        ClintMtimer(self.clone())
    }

    /// Number of harts served.
    pub fn num_harts(&self) -> usize {
        self.timers.len()
    }

    /// The current `mtime`.
    pub fn mtime(&self) -> u64 {
        self.time.now().wrapping_add(self.time_delta.get())
    }

    /// Hart `hart`'s `mtimecmp`, if the hart exists.
    pub fn mtimecmp(&self, hart: usize) -> Option<u64> {
        self.timers.get(hart).map(|t| t.mtimecmp.get())
    }

    /// Re-evaluates every armed hart's MTIP against the current `mtime`,
    /// driving a line only when its level changes.
    pub fn update(&self) {
        let now = self.mtime();
        for (timer, line) in self.timers.iter().zip(&self.mtip) {
            if timer.armed.get() {
                let level = now >= timer.mtimecmp.get();
                if level != line.level() {
                    line.set(level);
                }
            }
        }
    }

    /// The earliest time, in [`TimeSource`] ticks, at which some armed hart's
    /// `mtimecmp` will be reached; `None` if none is still in the future.
    ///
    /// A compare value the time base can never reach before it runs out —
    /// `mtimecmp = 2^64 - 1` (what software writes to mean "no timer"), or
    /// one further ahead than the time source's remaining range — is no
    /// deadline at all, as on QEMU, so a hart waiting for it sleeps instead
    /// of time jumping to the end of the 64-bit range.
    pub fn next_deadline(&self) -> Option<u64> {
        let now = self.time.now();
        let mtime = self.mtime();
        self.timers
            .iter()
            .filter(|t| t.armed.get() && t.mtimecmp.get() > mtime && t.mtimecmp.get() != u64::MAX)
            .filter_map(|t| now.checked_add(t.mtimecmp.get() - mtime))
            .filter(|&deadline| deadline != u64::MAX)
            .min()
    }

    /// Device reset: `mtime` reads 0 again (the ACLINT spec clears it; QEMU
    /// does the same), `msip` cleared; `mtimecmp` values are kept as QEMU keeps
    /// them, and MTIP is re-evaluated for armed harts.
    pub fn reset(&self) {
        self.time_delta.set(0u64.wrapping_sub(self.time.now()));
        for line in &self.msip {
            line.lower();
        }
        self.update();
    }

    fn write_mtimecmp(&self, hart: usize, value: u64) {
        let timer = &self.timers[hart];
        timer.mtimecmp.set(value);
        timer.armed.set(true);
        self.mtip[hart].set(self.mtime() >= value);
    }

    fn swi_read(&self, offset: u64) -> u64 {
        let hart = (offset >> 2) as usize;
        if hart < self.msip.len() && offset & 3 == 0 {
            return u64::from(self.msip[hart].level());
        }
        tracing::warn!(target: GUEST_ERRORS, "clint: invalid msip read at offset 0x{offset:x}");
        0
    }

    fn swi_write(&self, offset: u64, value: u64) {
        let hart = (offset >> 2) as usize;
        if hart < self.msip.len() && offset & 3 == 0 {
            self.msip[hart].set(value & 1 != 0);
            return;
        }
        tracing::warn!(target: GUEST_ERRORS, "clint: invalid msip write at offset 0x{offset:x}");
    }

    fn mtimer_read(&self, offset: u64, size: u32) -> u64 {
        let hart = (offset >> 3) as usize;
        if offset < MTIME_OFFSET && hart < self.timers.len() {
            let cmp = self.timers[hart].mtimecmp.get();
            return match (offset & 7, size) {
                (0, 8) => cmp,
                (0, _) => cmp & 0xffff_ffff,
                (4, _) => cmp >> 32,
                _ => {
                    tracing::warn!(target: GUEST_ERRORS, "clint: misaligned mtimecmp read 0x{offset:x}");
                    0
                }
            };
        }
        match (offset, size) {
            (MTIME_OFFSET, 8) => self.mtime(),
            (MTIME_OFFSET, _) => self.mtime() & 0xffff_ffff,
            (o, _) if o == MTIME_OFFSET + 4 => self.mtime() >> 32,
            _ => {
                tracing::warn!(target: GUEST_ERRORS, "clint: invalid mtimer read at offset 0x{offset:x}");
                0
            }
        }
    }

    fn mtimer_write(&self, offset: u64, value: u64, size: u32) {
        let hart = (offset >> 3) as usize;
        if offset < MTIME_OFFSET && hart < self.timers.len() {
            let cmp = self.timers[hart].mtimecmp.get();
            let new = match (offset & 7, size) {
                (0, 8) => value,
                (0, _) => (cmp & !0xffff_ffff) | (value & 0xffff_ffff),
                (4, _) => (cmp & 0xffff_ffff) | (value << 32),
                _ => {
                    tracing::warn!(target: GUEST_ERRORS, "clint: misaligned mtimecmp write 0x{offset:x}");
                    return;
                }
            };
            self.write_mtimecmp(hart, new);
            return;
        }
        let now = self.mtime();
        let new_mtime = match (offset, size) {
            (MTIME_OFFSET, 8) => value,
            (MTIME_OFFSET, _) => (now & !0xffff_ffff) | (value & 0xffff_ffff),
            (o, 4) if o == MTIME_OFFSET + 4 => (now & 0xffff_ffff) | (value << 32),
            _ => {
                tracing::warn!(target: GUEST_ERRORS, "clint: invalid mtimer write at offset 0x{offset:x}");
                return;
            }
        };
        self.time_delta.set(new_mtime.wrapping_sub(self.time.now()));
        // A new mtime re-evaluates (and arms) every hart's timer, as QEMU does.
        for hart in 0..self.timers.len() {
            self.write_mtimecmp(hart, self.timers[hart].mtimecmp.get());
        }
    }
}

fn constraints(min: u32, max: u32) -> AccessConstraints {
    AccessConstraints {
        min_access_size: min,
        max_access_size: max,
        unaligned: false,
    }
}

/// The ACLINT MSWI view of a [`Clint`]: 4-byte `msip` words.
pub struct ClintSwi(Rc<Clint>);

impl RegionOps for ClintSwi {
    fn read(&self, offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(self.0.swi_read(offset))
    }

    fn write(&self, offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        self.0.swi_write(offset, value);
        Ok(())
    }

    /// QEMU's `riscv_aclint_swi_ops`: 4-byte accesses only.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: constraints(4, 4),
            implementation: constraints(4, 4),
            endianness: Endianness::Little,
        }
    }
}

/// The ACLINT MTIMER view of a [`Clint`]: `mtimecmp` array and `mtime`.
pub struct ClintMtimer(Rc<Clint>);

impl RegionOps for ClintMtimer {
    fn read(&self, offset: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(self.0.mtimer_read(offset, size))
    }

    fn write(&self, offset: u64, value: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        self.0.mtimer_write(offset, value, size);
        Ok(())
    }

    /// QEMU's `riscv_aclint_mtimer_ops`: 4- or 8-byte accesses.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: constraints(4, 8),
            implementation: constraints(4, 8),
            endianness: Endianness::Little,
        }
    }
}

/// The whole 0x10000 CLINT window as one region (4- or 8-byte accesses).
impl RegionOps for Clint {
    fn read(&self, offset: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(match offset {
            o if o < SWI_SIZE => self.swi_read(o),
            o if o < MTIMER_OFFSET + MTIMER_SIZE => self.mtimer_read(o - MTIMER_OFFSET, size),
            o => {
                tracing::warn!(target: GUEST_ERRORS, "clint: read of unassigned offset 0x{o:x}");
                0
            }
        })
    }

    fn write(&self, offset: u64, value: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        match offset {
            o if o < SWI_SIZE => self.swi_write(o, value),
            o if o < MTIMER_OFFSET + MTIMER_SIZE => {
                self.mtimer_write(o - MTIMER_OFFSET, value, size)
            }
            o => tracing::warn!(target: GUEST_ERRORS, "clint: write of unassigned offset 0x{o:x}"),
        }
        Ok(())
    }

    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: constraints(4, 8),
            implementation: constraints(4, 8),
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

    struct Rig {
        clint: Rc<Clint>,
        clock: Rc<ManualClock>,
        msip: Rc<IrqLevels>,
        mtip: Rc<IrqLevels>,
    }

    fn rig(harts: u32) -> Rig {
        let clock = Rc::new(ManualClock::new());
        let msip = IrqLevels::new();
        let mtip = IrqLevels::new();
        let clint = Clint::new(clock.clone(), msip.lines(harts), mtip.lines(harts)).unwrap();
        Rig {
            clint,
            clock,
            msip,
            mtip,
        }
    }

    #[test]
    fn msip_bit0_per_hart() {
        let r = rig(2);
        let swi = r.clint.swi();
        swi.write(4, 0xffff_ffff, 4, A).unwrap();
        assert!(r.msip.level(1));
        assert!(!r.msip.level(0));
        assert_eq!(swi.read(4, 4, A).unwrap(), 1, "only bit 0 reads back");
        swi.write(4, 2, 4, A).unwrap();
        assert!(!r.msip.level(1), "bit 1 does not set msip");
        assert_eq!(swi.read(8, 4, A).unwrap(), 0, "hart 2 does not exist");
        swi.write(8, 1, 4, A).unwrap();
        assert_eq!(swi.descriptor().valid.max_access_size, 4);
    }

    #[test]
    fn mtime_follows_the_clock_and_writes_adjust_an_offset() {
        let r = rig(1);
        let mt = r.clint.mtimer();
        r.clock.set(1234);
        assert_eq!(mt.read(MTIME_OFFSET, 8, A).unwrap(), 1234);
        mt.write(MTIME_OFFSET, 10_000, 8, A).unwrap();
        r.clock.advance(5);
        assert_eq!(mt.read(MTIME_OFFSET, 8, A).unwrap(), 10_005);
        mt.write(MTIME_OFFSET + 4, 1, 4, A).unwrap();
        assert_eq!(mt.read(MTIME_OFFSET + 4, 4, A).unwrap(), 1);
        assert_eq!(mt.read(MTIME_OFFSET, 4, A).unwrap(), 10_005);
        mt.write(MTIME_OFFSET, 7, 4, A).unwrap();
        assert_eq!(r.clint.mtime(), (1 << 32) | 7);
    }

    #[test]
    fn mtimecmp_halves_and_whole() {
        let r = rig(2);
        let mt = r.clint.mtimer();
        mt.write(8, 0x1122_3344_5566_7788, 8, A).unwrap();
        assert_eq!(mt.read(8, 8, A).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(mt.read(8, 4, A).unwrap(), 0x5566_7788);
        assert_eq!(mt.read(12, 4, A).unwrap(), 0x1122_3344);
        mt.write(12, 0xaabb_ccdd, 4, A).unwrap();
        assert_eq!(r.clint.mtimecmp(1), Some(0xaabb_ccdd_5566_7788));
        mt.write(8, 0x0102_0304, 4, A).unwrap();
        assert_eq!(r.clint.mtimecmp(1), Some(0xaabb_ccdd_0102_0304));
        assert_eq!(r.clint.mtimecmp(0), Some(0), "hart 0 untouched");
    }

    #[test]
    fn mtip_is_low_at_reset_and_follows_compare_once_written() {
        let r = rig(1);
        let mt = r.clint.mtimer();
        r.clock.set(100);
        r.clint.update();
        assert!(!r.mtip.level(0), "mtimecmp never written: not armed");
        assert_eq!(r.clint.next_deadline(), None);
        mt.write(0, 150, 8, A).unwrap();
        assert!(!r.mtip.level(0));
        assert_eq!(r.clint.next_deadline(), Some(150));
        r.clock.set(149);
        r.clint.update();
        assert!(!r.mtip.level(0));
        r.clock.set(150);
        r.clint.update();
        assert!(r.mtip.level(0), "mtime >= mtimecmp");
        assert_eq!(
            r.clint.next_deadline(),
            None,
            "reached deadlines are not in the future"
        );
        mt.write(0, u64::MAX, 8, A).unwrap();
        assert!(
            !r.mtip.level(0),
            "writing a later compare clears MTIP at once"
        );
        mt.write(0, 10, 8, A).unwrap();
        assert!(
            r.mtip.level(0),
            "writing a past compare raises MTIP at once"
        );
    }

    #[test]
    fn next_deadline_is_the_earliest_future_compare_in_clock_ticks() {
        let r = rig(3);
        let mt = r.clint.mtimer();
        r.clock.set(1000);
        mt.write(MTIME_OFFSET, 50_000, 8, A).unwrap(); // mtime is clock + 49_000
        mt.write(0, 60_000, 8, A).unwrap();
        mt.write(8, 55_000, 8, A).unwrap();
        mt.write(16, 40_000, 8, A).unwrap(); // already due
        assert!(r.mtip.level(2));
        assert_eq!(r.clint.next_deadline(), Some(1000 + 5_000));
        r.clock.set(6_000);
        r.clint.update();
        assert!(r.mtip.level(1));
        assert_eq!(r.clint.next_deadline(), Some(1000 + 10_000));
    }

    #[test]
    fn compare_values_at_the_end_of_time_are_no_deadline() {
        let r = rig(2);
        let mt = r.clint.mtimer();
        r.clock.set(1000);
        // "No timer", as software writes it: never a deadline, never MTIP.
        mt.write(0, u64::MAX, 8, A).unwrap();
        assert_eq!(r.clint.next_deadline(), None);
        // Reachable only past the end of the time source's range: none either.
        mt.write(MTIME_OFFSET, 0, 8, A).unwrap(); // mtime = clock - 1000
        mt.write(8, u64::MAX - 10, 8, A).unwrap();
        assert_eq!(r.clint.next_deadline(), None);
        assert!(!r.mtip.level(0) && !r.mtip.level(1));
        // An ordinary far deadline still counts.
        mt.write(8, 1 << 40, 8, A).unwrap();
        assert_eq!(r.clint.next_deadline(), Some(1000 + (1 << 40)));
        assert_eq!(r.clint.mtime(), 0, "mtime is not moved by any of this");
    }

    #[test]
    fn writing_mtime_re_evaluates_timers() {
        let r = rig(1);
        let mt = r.clint.mtimer();
        mt.write(0, 500, 8, A).unwrap();
        assert!(!r.mtip.level(0));
        mt.write(MTIME_OFFSET, 600, 8, A).unwrap();
        assert!(r.mtip.level(0));
        mt.write(MTIME_OFFSET, 0, 8, A).unwrap();
        assert!(!r.mtip.level(0));
    }

    #[test]
    fn whole_window_dispatches_both_blocks() {
        let r = rig(1);
        r.clock.set(77);
        assert_eq!(r.clint.read(0xbff8, 8, A).unwrap(), 77);
        r.clint.write(0, 1, 4, A).unwrap();
        assert!(r.msip.level(0));
        r.clint.write(0x4000, 10, 8, A).unwrap();
        assert!(r.mtip.level(0));
        assert_eq!(r.clint.read(0xc000, 4, A).unwrap(), 0);
        let d = r.clint.mtimer().descriptor();
        assert_eq!((d.valid.min_access_size, d.valid.max_access_size), (4, 8));
    }

    #[test]
    fn reset_zeroes_mtime_and_msip() {
        let r = rig(1);
        r.clock.set(5000);
        r.clint.swi().write(0, 1, 4, A).unwrap();
        r.clint.reset();
        assert_eq!(r.clint.mtime(), 0);
        assert!(!r.msip.level(0));
        r.clock.advance(3);
        assert_eq!(r.clint.mtime(), 3);
    }

    #[test]
    fn mismatched_lines_are_rejected() {
        let clock = Rc::new(ManualClock::new());
        let sink = IrqLevels::new();
        assert!(matches!(
            Clint::new(clock, sink.lines(2), sink.lines(1)),
            Err(DeviceError::IrqLineCount { .. })
        ));
    }
}
