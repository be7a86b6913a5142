//! Page-table entry bits of Sv39/Sv48/Sv57 (privileged spec 1.12 §4.4-4.6),
//! with Svpbmt's PBMT field and Svnapot's N bit.

/// Valid.
pub const PTE_V: u64 = 1 << 0;
/// Readable.
pub const PTE_R: u64 = 1 << 1;
/// Writable.
pub const PTE_W: u64 = 1 << 2;
/// Executable.
pub const PTE_X: u64 = 1 << 3;
/// Accessible to U-mode.
pub const PTE_U: u64 = 1 << 4;
/// Global mapping.
pub const PTE_G: u64 = 1 << 5;
/// Accessed.
pub const PTE_A: u64 = 1 << 6;
/// Dirty.
pub const PTE_D: u64 = 1 << 7;
/// Shift of the physical page number.
pub const PTE_PPN_SHIFT: u32 = 10;
/// The physical page number field (bits 53:10).
pub const PTE_PPN: u64 = ((1 << 44) - 1) << PTE_PPN_SHIFT;
/// Bits 60:54: reserved, always zero.
pub const PTE_RESERVED: u64 = ((1 << 7) - 1) << 54;
/// Bits 62:61: Svpbmt's page-based memory type (0 PMA, 1 NC, 2 IO, 3
/// reserved).
pub const PTE_PBMT: u64 = 3 << 61;
/// Bit 63: Svnapot's naturally aligned power-of-two mapping.
pub const PTE_N: u64 = 1 << 63;

/// Which of the optional PTE fields the walk accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PteFeatures {
    /// Svnapot: N may be set on a 4 KiB leaf.
    pub napot: bool,
    /// Svpbmt with `menvcfg.PBMTE` set: PBMT 0..=2 may be set on a leaf.
    pub pbmt: bool,
}

/// One page-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte(pub u64);

impl Pte {
    /// Whether bit(s) `mask` are all set.
    pub fn has(self, mask: u64) -> bool {
        self.0 & mask == mask
    }

    /// Whether this is a leaf (any of R, W, X set).
    pub fn is_leaf(self) -> bool {
        self.0 & (PTE_R | PTE_W | PTE_X) != 0
    }

    /// The physical page number.
    pub fn ppn(self) -> u64 {
        (self.0 & PTE_PPN) >> PTE_PPN_SHIFT
    }

    /// Whether the encoding is invalid whatever the access: V clear, a
    /// reserved bit set, the reserved W-without-R combination, PBMT set
    /// without Svpbmt enabled (or set to the reserved 3, or on a pointer),
    /// N set without Svnapot (or on a pointer).
    pub fn is_malformed(self, features: PteFeatures) -> bool {
        let pbmt = (self.0 & PTE_PBMT) >> 61;
        !self.has(PTE_V)
            || self.0 & PTE_RESERVED != 0
            || (self.has(PTE_W) && !self.has(PTE_R))
            || (pbmt != 0 && (!features.pbmt || pbmt == 3 || !self.is_leaf()))
            || (self.has(PTE_N) && (!features.napot || !self.is_leaf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_decoding() {
        let p = Pte((0x8_0123 << PTE_PPN_SHIFT) | PTE_V | PTE_R | PTE_X);
        assert_eq!(p.ppn(), 0x8_0123);
        assert!(p.is_leaf());
        let none = PteFeatures::default();
        let all = PteFeatures {
            napot: true,
            pbmt: true,
        };
        assert!(!p.is_malformed(none));
        assert!(!Pte(PTE_V).is_leaf());
        assert!(Pte(PTE_R).is_malformed(none), "V clear");
        assert!(Pte(PTE_V | PTE_W).is_malformed(all), "W without R");
        assert!(Pte(PTE_V | PTE_W | PTE_X).is_malformed(all), "W without R");
        assert!(
            Pte(PTE_V | PTE_R | PTE_N).is_malformed(none),
            "N without Svnapot"
        );
        assert!(!Pte(PTE_V | PTE_R | PTE_N).is_malformed(all));
        assert!(Pte(PTE_V | PTE_N).is_malformed(all), "N on a pointer");
        assert!(
            Pte(PTE_V | PTE_R | (1 << 61)).is_malformed(none),
            "PBMT without Svpbmt"
        );
        assert!(!Pte(PTE_V | PTE_R | (2 << 61)).is_malformed(all));
        assert!(Pte(PTE_V | PTE_R | (3 << 61)).is_malformed(all), "PBMT = 3");
        assert!(
            Pte(PTE_V | (1 << 61)).is_malformed(all),
            "PBMT on a pointer"
        );
        assert!(Pte(PTE_V | PTE_R | (1 << 54)).is_malformed(all), "reserved");
        assert_eq!(Pte(u64::MAX).ppn(), (1 << 44) - 1);
    }
}
