//! SiFive PLIC with the register map and behaviour of QEMU's
//! `hw/intc/sifive_plic.c` as the `virt` board configures it.
//!
//! | offset                          | register                               |
//! |---------------------------------|----------------------------------------|
//! | `0x000000 + 4*source`           | priority of `source` (1..num_sources)  |
//! | `0x001000 + 4*word`             | pending bits (read-only)               |
//! | `0x002000 + 0x80*ctx + 4*word`  | enable bits of context `ctx`           |
//! | `0x200000 + 0x1000*ctx`         | priority threshold of `ctx`            |
//! | `0x200004 + 0x1000*ctx`         | claim (read) / complete (write)        |
//!
//! Contexts come two per hart, machine then supervisor: hart 0 M, hart 0 S,
//! hart 1 M, ... Context `ctx`'s output line is its hart's MEIP (even `ctx`)
//! or SEIP (odd `ctx`); it is high while some source is pending, enabled for
//! the context, not claimed, and of priority above the context's threshold.
//!
//! Inputs arrive through [`IrqSink`]: the device lines wired to the PLIC use
//! the source number as their line number. Sources are level-triggered: a
//! high input makes the source pending, a low one clears it, and completing a
//! claim whose input is still high makes it pending again (the gateway).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, Endianness, IoDescriptor, MemTxAttrs, MemTxResult, RegionOps,
};

use crate::irq::{IrqLine, IrqSink};
use crate::{DeviceError, GUEST_ERRORS, Result};

/// Offset of the priority array.
pub const PRIORITY_BASE: u64 = 0x0;
/// Offset of the pending bit array.
pub const PENDING_BASE: u64 = 0x1000;
/// Offset of context 0's enable bits.
pub const ENABLE_BASE: u64 = 0x2000;
/// Distance between two contexts' enable bits.
pub const ENABLE_STRIDE: u64 = 0x80;
/// Offset of context 0's threshold/claim page.
pub const CONTEXT_BASE: u64 = 0x20_0000;
/// Distance between two contexts' threshold/claim pages.
pub const CONTEXT_STRIDE: u64 = 0x1000;
/// Most sources the register map holds (source 0 included, never used).
pub const MAX_SOURCES: u32 = 1024;
/// Most contexts the register map holds.
pub const MAX_CONTEXTS: u32 = 15872;

/// The shape of a PLIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlicConfig {
    /// Number of interrupt sources *including* the reserved source 0 (QEMU's
    /// `num-sources`); valid source ids are `1..num_sources`.
    pub num_sources: u32,
    /// Largest priority; priorities and thresholds are masked to it when it is
    /// `2^n - 1`, otherwise larger writes are ignored.
    pub max_priority: u32,
    /// Number of contexts (two per hart on `virt`).
    pub num_contexts: u32,
}

impl PlicConfig {
    /// QEMU `virt`: `VIRT_IRQCHIP_NUM_SOURCES` = 96 sources, 3 priority bits,
    /// M and S contexts for each of `harts` harts.
    pub fn virt(harts: u32) -> Self {
        PlicConfig {
            num_sources: 96,
            max_priority: 7,
            num_contexts: harts * 2,
        }
    }

    /// Bytes the register map needs: up to the end of the last context page.
    pub fn region_size(&self) -> u64 {
        CONTEXT_BASE + u64::from(self.num_contexts) * CONTEXT_STRIDE
    }

    fn bitfield_words(&self) -> usize {
        self.num_sources.div_ceil(32) as usize
    }
}

#[derive(Debug)]
struct PlicState {
    priority: Vec<u32>,
    pending: Vec<u32>,
    claimed: Vec<u32>,
    /// Current level of each source's input line.
    input: Vec<u32>,
    /// `enable[ctx * words + word]`.
    enable: Vec<u32>,
    threshold: Vec<u32>,
}

fn bit(words: &[u32], source: u32) -> bool {
    words[(source / 32) as usize] & (1 << (source % 32)) != 0
}

fn set_bit(words: &mut [u32], source: u32, on: bool) {
    let mask = 1 << (source % 32);
    let word = &mut words[(source / 32) as usize];
    if on {
        *word |= mask;
    } else {
        *word &= !mask;
    }
}

/// A SiFive PLIC.
pub struct Plic {
    config: PlicConfig,
    state: RefCell<PlicState>,
    outputs: Vec<IrqLine>,
    /// Set while outputs are being driven, so a sink that feeds back into the
    /// PLIC does not recurse.
    updating: Cell<bool>,
    /// A change arrived while outputs were being driven.
    update_again: Cell<bool>,
}

impl Plic {
    /// A PLIC of shape `config` whose context `ctx` drives `outputs[ctx]`.
    pub fn new(config: PlicConfig, outputs: Vec<IrqLine>) -> Result<Rc<Self>> {
        if config.num_sources > MAX_SOURCES || config.num_sources == 0 {
            return Err(DeviceError::OutOfRange {
                device: "plic",
                what: "num_sources",
                value: u64::from(config.num_sources),
                max: u64::from(MAX_SOURCES),
            });
        }
        if config.num_contexts > MAX_CONTEXTS {
            return Err(DeviceError::OutOfRange {
                device: "plic",
                what: "num_contexts",
                value: u64::from(config.num_contexts),
                max: u64::from(MAX_CONTEXTS),
            });
        }
        if outputs.len() != config.num_contexts as usize {
            return Err(DeviceError::IrqLineCount {
                device: "plic",
                expected: config.num_contexts as usize,
                got: outputs.len(),
            });
        }
        let words = config.bitfield_words();
        let contexts = config.num_contexts as usize;
        let state = PlicState {
            priority: vec![0; config.num_sources as usize],
            pending: vec![0; words],
            claimed: vec![0; words],
            input: vec![0; words],
            enable: vec![0; words * contexts],
            threshold: vec![0; contexts],
        };
        Ok(Rc::new(Plic {
            config,
            state: RefCell::new(state),
            outputs,
            updating: Cell::new(false),
            update_again: Cell::new(false),
        }))
    }

    /// The PLIC's shape.
    pub fn config(&self) -> PlicConfig {
        self.config
    }

    /// Size of the register map (see [`PlicConfig::region_size`]).
    pub fn region_size(&self) -> u64 {
        self.config.region_size()
    }

    /// Whether `source` is pending.
    pub fn is_pending(&self, source: u32) -> bool {
        source < self.config.num_sources && bit(&self.state.borrow().pending, source)
    }

    /// Device reset: all registers zero, inputs keep their levels (and so
    /// re-pend), outputs re-evaluated.
    pub fn reset(&self) {
        {
            let mut s = self.state.borrow_mut();
            s.priority.fill(0);
            s.claimed.fill(0);
            s.enable.fill(0);
            s.threshold.fill(0);
            let input = s.input.clone();
            s.pending.copy_from_slice(&input);
        }
        self.update();
    }

    /// The best claimable source for `ctx` (0 if none): pending, enabled, not
    /// claimed, priority above the threshold; ties go to the lowest id.
    fn best_source(&self, s: &PlicState, ctx: usize) -> u32 {
        let words = self.config.bitfield_words();
        let mut best = 0;
        let mut best_priority = s.threshold[ctx];
        for w in 0..words {
            let candidates = s.pending[w] & !s.claimed[w] & s.enable[ctx * words + w];
            let mut bits = candidates;
            while bits != 0 {
                let source = (w as u32) * 32 + bits.trailing_zeros();
                bits &= bits - 1;
                if source == 0 || source >= self.config.num_sources {
                    continue;
                }
                let priority = s.priority[source as usize];
                if priority > best_priority {
                    best = source;
                    best_priority = priority;
                }
            }
        }
        best
    }

    /// Drives every context's output from the current state.
    fn update(&self) {
        if self.updating.replace(true) {
            // Called back from a sink while driving outputs: the running
            // update goes round once more instead.
            self.update_again.set(true);
            return;
        }
        loop {
            self.update_again.set(false);
            let levels: Vec<bool> = {
                let s = self.state.borrow();
                (0..self.outputs.len())
                    .map(|ctx| self.best_source(&s, ctx) != 0)
                    .collect()
            };
            for (line, level) in self.outputs.iter().zip(levels) {
                line.set(level);
            }
            if !self.update_again.get() {
                break;
            }
        }
        self.updating.set(false);
    }

    fn claim(&self, ctx: usize) -> u32 {
        let source = {
            let mut s = self.state.borrow_mut();
            let source = self.best_source(&s, ctx);
            if source != 0 {
                set_bit(&mut s.pending, source, false);
                set_bit(&mut s.claimed, source, true);
            }
            source
        };
        self.update();
        source
    }

    fn complete(&self, source: u32) {
        if source >= self.config.num_sources {
            tracing::warn!(target: GUEST_ERRORS, "plic: complete of invalid source {source}");
            return;
        }
        {
            let mut s = self.state.borrow_mut();
            set_bit(&mut s.claimed, source, false);
            // Gateway: a source whose line is still high is pending again.
            if source != 0 && bit(&s.input, source) {
                set_bit(&mut s.pending, source, true);
            }
        }
        self.update();
    }

    fn legal_priority(&self, value: u32) -> Option<u32> {
        let max = self.config.max_priority;
        if max.wrapping_add(1) & max == 0 {
            Some(value & max)
        } else if value <= max {
            Some(value)
        } else {
            None
        }
    }

    fn read_register(&self, offset: u64) -> Option<u32> {
        let words = self.config.bitfield_words() as u64;
        let contexts = u64::from(self.config.num_contexts);
        let sources = u64::from(self.config.num_sources);
        if offset < PRIORITY_BASE + 4 * sources {
            return Some(self.state.borrow().priority[(offset / 4) as usize]);
        }
        if (PENDING_BASE..PENDING_BASE + 4 * words).contains(&offset) {
            return Some(self.state.borrow().pending[((offset - PENDING_BASE) / 4) as usize]);
        }
        if (ENABLE_BASE..ENABLE_BASE + ENABLE_STRIDE * contexts).contains(&offset) {
            let ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
            let word = (offset - ENABLE_BASE) % ENABLE_STRIDE / 4;
            if word < words {
                return Some(self.state.borrow().enable[(ctx * words + word) as usize]);
            }
            return None;
        }
        if (CONTEXT_BASE..CONTEXT_BASE + CONTEXT_STRIDE * contexts).contains(&offset) {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            return match (offset - CONTEXT_BASE) % CONTEXT_STRIDE {
                0 => Some(self.state.borrow().threshold[ctx]),
                4 => Some(self.claim(ctx)),
                _ => None,
            };
        }
        None
    }

    /// Applies a register write; false if nothing is there to write.
    fn write_register(&self, offset: u64, value: u32) -> bool {
        let words = self.config.bitfield_words() as u64;
        let contexts = u64::from(self.config.num_contexts);
        let sources = u64::from(self.config.num_sources);
        if offset < PRIORITY_BASE + 4 * sources {
            if let Some(priority) = self.legal_priority(value) {
                self.state.borrow_mut().priority[(offset / 4) as usize] = priority;
                self.update();
            }
            return true;
        }
        if (PENDING_BASE..PENDING_BASE + 4 * words).contains(&offset) {
            tracing::warn!(target: GUEST_ERRORS, "plic: write to read-only pending bits at 0x{offset:x}");
            return true;
        }
        if (ENABLE_BASE..ENABLE_BASE + ENABLE_STRIDE * contexts).contains(&offset) {
            let ctx = (offset - ENABLE_BASE) / ENABLE_STRIDE;
            let word = (offset - ENABLE_BASE) % ENABLE_STRIDE / 4;
            if word >= words {
                return false;
            }
            self.state.borrow_mut().enable[(ctx * words + word) as usize] = value;
            self.update();
            return true;
        }
        if (CONTEXT_BASE..CONTEXT_BASE + CONTEXT_STRIDE * contexts).contains(&offset) {
            let ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) as usize;
            return match (offset - CONTEXT_BASE) % CONTEXT_STRIDE {
                0 => {
                    if let Some(threshold) = self.legal_priority(value) {
                        self.state.borrow_mut().threshold[ctx] = threshold;
                        self.update();
                    }
                    true
                }
                4 => {
                    self.complete(value);
                    true
                }
                _ => false,
            };
        }
        false
    }
}

impl IrqSink for Plic {
    /// Input `source` is at `level`: high makes it pending, low withdraws it.
    fn set_level(&self, source: u32, level: bool) {
        if source == 0 || source >= self.config.num_sources {
            tracing::warn!("plic: interrupt on nonexistent source {source}");
            return;
        }
        {
            let mut s = self.state.borrow_mut();
            set_bit(&mut s.input, source, level);
            set_bit(&mut s.pending, source, level);
        }
        self.update();
    }
}

impl RegionOps for Plic {
    fn read(&self, offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(match self.read_register(offset) {
            Some(value) => u64::from(value),
            None => {
                tracing::warn!(target: GUEST_ERRORS, "plic: invalid register read 0x{offset:x}");
                0
            }
        })
    }

    fn write(&self, offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        if !self.write_register(offset, value as u32) {
            tracing::warn!(target: GUEST_ERRORS, "plic: invalid register write 0x{offset:x}");
        }
        Ok(())
    }

    /// QEMU's `sifive_plic_ops`: 4-byte accesses only.
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

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };

    struct Rig {
        plic: Rc<Plic>,
        out: Rc<IrqLevels>,
    }

    fn rig(harts: u32) -> Rig {
        let out = IrqLevels::new();
        let config = PlicConfig::virt(harts);
        let plic = Plic::new(config, out.lines(config.num_contexts)).unwrap();
        Rig { plic, out }
    }

    impl Rig {
        fn rd(&self, offset: u64) -> u32 {
            self.plic.read(offset, 4, A).unwrap() as u32
        }
        fn wr(&self, offset: u64, value: u32) {
            self.plic.write(offset, u64::from(value), 4, A).unwrap();
        }
        fn input(&self, source: u32, level: bool) {
            self.plic.set_level(source, level);
        }
        fn claim(&self, ctx: u64) -> u32 {
            self.rd(CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4)
        }
        fn complete(&self, ctx: u64, source: u32) {
            self.wr(CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4, source);
        }
        fn enable(&self, ctx: u64, source: u32) {
            let offset = ENABLE_BASE + ENABLE_STRIDE * ctx + 4 * u64::from(source / 32);
            let old = self.rd(offset);
            self.wr(offset, old | (1 << (source % 32)));
        }
    }

    #[test]
    fn priority_registers_mask_to_three_bits() {
        let r = rig(1);
        r.wr(4 * 10, 0xff);
        assert_eq!(r.rd(4 * 10), 7);
        r.wr(4 * 95, 3);
        assert_eq!(r.rd(4 * 95), 3);
        assert_eq!(r.rd(4 * 96), 0, "source 96 does not exist on virt");
    }

    #[test]
    fn pending_bits_follow_inputs_and_ignore_writes() {
        let r = rig(1);
        r.input(10, true);
        r.input(33, true);
        assert_eq!(r.rd(PENDING_BASE), 1 << 10);
        assert_eq!(r.rd(PENDING_BASE + 4), 1 << 1);
        r.wr(PENDING_BASE, 0);
        assert_eq!(r.rd(PENDING_BASE), 1 << 10, "pending is read-only");
        r.input(10, false);
        assert_eq!(r.rd(PENDING_BASE), 0, "level-triggered: low withdraws");
    }

    #[test]
    fn claim_picks_highest_priority_then_lowest_id() {
        let r = rig(1);
        for (source, priority) in [(5, 2), (7, 6), (9, 6), (11, 1)] {
            r.wr(4 * source, priority);
            r.enable(0, source as u32);
            r.input(source as u32, true);
        }
        assert!(r.out.level(0));
        assert_eq!(r.claim(0), 7, "priority 6, lower id than 9");
        assert_eq!(r.claim(0), 9);
        assert_eq!(r.claim(0), 5);
        assert_eq!(r.claim(0), 11);
        assert_eq!(r.claim(0), 0, "everything claimed");
        assert!(!r.out.level(0));
        assert_eq!(r.rd(PENDING_BASE), 0, "claim clears pending");
    }

    #[test]
    fn threshold_masks_and_zero_priority_never_interrupts() {
        let r = rig(1);
        let threshold = CONTEXT_BASE;
        r.wr(4 * 3, 0);
        r.enable(0, 3);
        r.input(3, true);
        assert!(!r.out.level(0), "priority 0 is never above a threshold");
        r.wr(4 * 3, 4);
        assert!(r.out.level(0));
        r.wr(threshold, 4);
        assert_eq!(r.rd(threshold), 4);
        assert!(!r.out.level(0), "priority must exceed the threshold");
        assert_eq!(r.claim(0), 0);
        r.wr(threshold, 3);
        assert!(r.out.level(0));
    }

    #[test]
    fn enables_are_per_context_and_outputs_per_hart_mode() {
        let r = rig(2);
        r.wr(4 * 10, 1);
        r.enable(3, 10); // hart 1, S-mode
        r.input(10, true);
        assert_eq!(
            [
                r.out.level(0),
                r.out.level(1),
                r.out.level(2),
                r.out.level(3)
            ],
            [false, false, false, true]
        );
        assert_eq!(r.rd(ENABLE_BASE + ENABLE_STRIDE * 3), 1 << 10);
        assert_eq!(r.claim(0), 0, "not enabled for hart 0 M");
        assert_eq!(r.claim(3), 10);
        assert!(!r.out.level(3));
    }

    #[test]
    fn held_input_re_pends_after_complete() {
        let r = rig(1);
        r.wr(4 * 10, 1);
        r.enable(0, 10);
        r.input(10, true);
        assert_eq!(r.claim(0), 10);
        assert!(!r.out.level(0));
        r.input(10, true); // re-asserted while claimed: not presented yet
        assert!(!r.out.level(0), "claimed sources wait for completion");
        r.complete(0, 10);
        assert!(r.out.level(0), "line still high: pending again");
        assert_eq!(r.claim(0), 10);
        r.input(10, false);
        r.complete(0, 10);
        assert!(!r.out.level(0), "line low at completion: done");
        assert_eq!(r.claim(0), 0);
    }

    #[test]
    fn lowering_a_pending_input_drops_the_output() {
        let r = rig(1);
        r.wr(4, 1);
        r.enable(0, 1);
        r.input(1, true);
        assert!(r.out.level(0));
        r.input(1, false);
        assert!(!r.out.level(0));
    }

    #[test]
    fn bad_accesses_are_guest_errors_not_panics() {
        let r = rig(1);
        assert_eq!(r.rd(CONTEXT_BASE + 8), 0);
        assert_eq!(
            r.rd(ENABLE_BASE + 4 * 3),
            0,
            "past the 3 enable words of 96 sources"
        );
        r.wr(CONTEXT_BASE + CONTEXT_STRIDE * 2, 1); // context 2 does not exist
        r.complete(0, 5000);
        r.input(0, true);
        r.input(96, true);
        assert_eq!(r.rd(PENDING_BASE), 0);
        assert_eq!(r.plic.descriptor().valid.max_access_size, 4);
    }

    #[test]
    fn configuration_is_checked_and_sized() {
        let out = IrqLevels::new();
        let config = PlicConfig::virt(2);
        assert_eq!(config.region_size(), 0x20_4000);
        assert!(matches!(
            Plic::new(config, out.lines(3)),
            Err(DeviceError::IrqLineCount { .. })
        ));
        let too_big = PlicConfig {
            num_sources: 2000,
            ..config
        };
        assert!(matches!(
            Plic::new(too_big, out.lines(4)),
            Err(DeviceError::OutOfRange { .. })
        ));
        let odd = PlicConfig {
            num_sources: 40,
            max_priority: 5,
            num_contexts: 1,
        };
        let plic = Plic::new(odd, out.lines(1)).unwrap();
        plic.write(4, 6, 4, A).unwrap();
        assert_eq!(plic.read(4, 4, A).unwrap(), 0, "6 > 5: ignored");
        plic.write(4, 5, 4, A).unwrap();
        assert_eq!(plic.read(4, 4, A).unwrap(), 5);
    }

    #[test]
    fn reset_clears_registers_but_not_input_levels() {
        let r = rig(1);
        r.wr(4 * 2, 3);
        r.enable(0, 2);
        r.input(2, true);
        assert_eq!(r.claim(0), 2);
        r.plic.reset();
        assert_eq!(r.rd(4 * 2), 0);
        assert!(r.plic.is_pending(2), "held input is pending after reset");
        assert!(!r.out.level(0), "nothing enabled after reset");
    }
}
