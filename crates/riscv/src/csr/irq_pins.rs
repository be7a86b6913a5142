//! Interrupt-pending bits driven from outside the hart.

use std::cell::Cell;
use std::rc::Rc;

use super::fields::PIN_INTERRUPTS;

/// A shared word of `mip` bits that devices drive: MSIP and MTIP (CLINT),
/// MEIP and SEIP (PLIC). Clones share the same word; the [`super::Csrs`]
/// owning one ORs it into `mip` reads and interrupt selection. Bits other than
/// MSIP, MTIP, MEIP and SEIP are ignored.
///
/// Guest software cannot clear these bits: MSIP/MTIP/MEIP are read-only in
/// `mip`, and a software write of SEIP sets a separate bit that is ORed with
/// the pin.
#[derive(Clone, Debug, Default)]
pub struct HartIrqPins {
    level: Rc<Cell<u64>>,
}

impl HartIrqPins {
    /// A new set of pins, all low.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raise the lines in `mask` (a combination of `MIP_*` bits).
    pub fn set(&self, mask: u64) {
        self.level.set(self.level.get() | (mask & PIN_INTERRUPTS));
    }

    /// Lower the lines in `mask`.
    pub fn clear(&self, mask: u64) {
        self.level.set(self.level.get() & !mask);
    }

    /// Raise (`true`) or lower (`false`) the lines in `mask`.
    pub fn set_level(&self, mask: u64, level: bool) {
        if level {
            self.set(mask);
        } else {
            self.clear(mask);
        }
    }

    /// The current pin levels as `mip` bits.
    pub fn get(&self) -> u64 {
        self.level.get()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::{MIP_MEIP, MIP_MTIP, MIP_SSIP};
    use super::*;

    #[test]
    fn clones_share_state_and_only_pin_bits_stick() {
        let a = HartIrqPins::new();
        let b = a.clone();
        a.set(MIP_MTIP | MIP_SSIP);
        assert_eq!(b.get(), MIP_MTIP);
        b.set_level(MIP_MEIP, true);
        assert_eq!(a.get(), MIP_MTIP | MIP_MEIP);
        a.set_level(MIP_MTIP, false);
        assert_eq!(b.get(), MIP_MEIP);
        b.clear(MIP_MEIP);
        assert_eq!(a.get(), 0);
    }
}
