//! Page-table entry bits of Sv39/Sv48 (privileged spec 1.12 §4.4-4.5).

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
/// Bits 63:54: reserved (bits 60:54), PBMT (62:61) and N (63). None of
/// Svnapot, Svpbmt is implemented, so any of them set makes the PTE invalid.
pub const PTE_RESERVED: u64 = !((1 << 54) - 1);

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
    /// reserved bit set, or the reserved W-without-R combination.
    pub fn is_malformed(self) -> bool {
        !self.has(PTE_V) || self.0 & PTE_RESERVED != 0 || (self.has(PTE_W) && !self.has(PTE_R))
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
        assert!(!p.is_malformed());
        assert!(!Pte(PTE_V).is_leaf());
        assert!(Pte(PTE_R).is_malformed(), "V clear");
        assert!(Pte(PTE_V | PTE_W).is_malformed(), "W without R");
        assert!(Pte(PTE_V | PTE_W | PTE_X).is_malformed(), "W without R");
        assert!(
            Pte(PTE_V | PTE_R | (1 << 63)).is_malformed(),
            "N without Svnapot"
        );
        assert!(
            Pte(PTE_V | PTE_R | (1 << 61)).is_malformed(),
            "PBMT without Svpbmt"
        );
        assert!(Pte(PTE_V | PTE_R | (1 << 54)).is_malformed(), "reserved");
        assert_eq!(Pte(u64::MAX).ppn(), (1 << 44) - 1);
    }
}
