//! Physical memory protection: 16 entries, 4-byte granularity (G = 0).
//!
//! Rules (privileged spec 1.12 §3.7, and QEMU's `pmp.c` where the spec
//! leaves a choice):
//! - the lowest-numbered entry that matches any byte of an access decides;
//!   if it matches only some bytes, the access fails;
//! - a matching entry grants its R/W/X to S/U-mode always, and to M-mode
//!   only when locked (L = 1); unlocked entries do not restrict M-mode;
//! - no match: M-mode succeeds, S/U-mode fails. With 16 entries implemented
//!   this holds even when every entry is OFF (QEMU does the same), so
//!   firmware must grant S/U-mode memory before dropping privilege;
//! - a locked entry ignores writes to its `pmpcfg` byte and `pmpaddr`, and a
//!   locked TOR entry also locks the `pmpaddr` below it;
//! - the reserved R = 0, W = 1 combination is not stored (the byte's write
//!   is ignored, as QEMU does without Smepmp); bits 6:5 read as zero;
//! - `pmpaddr` holds physical address bits 55:2 (54 bits).
//!
//! Ranges are kept as inclusive `[first, last]` byte addresses so the top of
//! the 56-bit physical space is representable.

use crate::csr::Csrs;
use crate::privilege::{AccessType, Privilege};

/// Number of PMP entries.
pub const PMP_ENTRIES: usize = 16;
/// `pmpcfg` R bit.
pub const PMP_R: u8 = 1 << 0;
/// `pmpcfg` W bit.
pub const PMP_W: u8 = 1 << 1;
/// `pmpcfg` X bit.
pub const PMP_X: u8 = 1 << 2;
/// `pmpcfg` A field (address matching), bits 4:3.
pub const PMP_A: u8 = 3 << 3;
/// `pmpcfg` L bit (locked, applies to M-mode).
pub const PMP_L: u8 = 1 << 7;
/// Implemented bits of a `pmpcfg` byte.
const PMP_CFG_BITS: u8 = PMP_R | PMP_W | PMP_X | PMP_A | PMP_L;
/// Implemented bits of `pmpaddr` (address bits 55:2).
const PMP_ADDR_BITS: u64 = (1 << 54) - 1;
/// Size of the pages the softmmu caches translations for.
const PAGE_SIZE: u64 = 4096;

/// The address-matching mode of an entry (`pmpcfg.A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressMatching {
    /// Disabled.
    Off,
    /// Top of range: `pmpaddr[i-1] <= a < pmpaddr[i]` (in 4-byte units).
    Tor,
    /// Naturally aligned four-byte region.
    Na4,
    /// Naturally aligned power-of-two region of at least 8 bytes.
    Napot,
}

impl AddressMatching {
    fn from_cfg(cfg: u8) -> Self {
        match (cfg & PMP_A) >> 3 {
            0 => Self::Off,
            1 => Self::Tor,
            2 => Self::Na4,
            _ => Self::Napot,
        }
    }
}

/// What a PMP decision allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PmpPermissions {
    /// Loads allowed.
    pub read: bool,
    /// Stores and AMOs allowed.
    pub write: bool,
    /// Instruction fetches allowed.
    pub execute: bool,
}

impl PmpPermissions {
    /// Everything allowed.
    pub const ALL: Self = Self {
        read: true,
        write: true,
        execute: true,
    };
    /// Nothing allowed.
    pub const NONE: Self = Self {
        read: false,
        write: false,
        execute: false,
    };

    fn from_cfg(cfg: u8) -> Self {
        Self {
            read: cfg & PMP_R != 0,
            write: cfg & PMP_W != 0,
            execute: cfg & PMP_X != 0,
        }
    }

    /// Whether an access of kind `access` is allowed.
    pub fn allows(self, access: AccessType) -> bool {
        match access {
            AccessType::Fetch => self.execute,
            AccessType::Load => self.read,
            AccessType::Store => self.write,
        }
    }
}

/// The PMP registers of one hart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pmp {
    cfg: [u8; PMP_ENTRIES],
    addr: [u64; PMP_ENTRIES],
}

impl Pmp {
    /// The entries as words (16 configuration bytes, then 16 addresses),
    /// for saved state.
    pub(crate) fn to_words(&self) -> [u64; 2 * PMP_ENTRIES] {
        let mut w = [0; 2 * PMP_ENTRIES];
        for i in 0..PMP_ENTRIES {
            w[i] = u64::from(self.cfg[i]);
            w[PMP_ENTRIES + i] = self.addr[i];
        }
        w
    }

    /// Entries from [`Pmp::to_words`]; `None` if a configuration word is
    /// not a byte.
    pub(crate) fn from_words(w: &[u64]) -> Option<Self> {
        let mut p = Pmp::default();
        for i in 0..PMP_ENTRIES {
            p.cfg[i] = u8::try_from(*w.get(i)?).ok()?;
            p.addr[i] = *w.get(PMP_ENTRIES + i)?;
        }
        Some(p)
    }

    /// The configuration byte of entry `i` (0 for `i >= 16`).
    pub fn cfg(&self, i: usize) -> u8 {
        self.cfg.get(i).copied().unwrap_or(0)
    }

    /// `pmpaddr[i]` (0 for `i >= 16`).
    pub fn read_addr(&self, i: usize) -> u64 {
        self.addr.get(i).copied().unwrap_or(0)
    }

    /// The address-matching mode of entry `i`.
    pub fn matching(&self, i: usize) -> AddressMatching {
        AddressMatching::from_cfg(self.cfg(i))
    }

    /// Whether entry `i` is locked.
    pub fn is_locked(&self, i: usize) -> bool {
        self.cfg(i) & PMP_L != 0
    }

    /// Number of entries whose A field is not OFF.
    pub fn active_entries(&self) -> usize {
        (0..PMP_ENTRIES)
            .filter(|&i| self.matching(i) != AddressMatching::Off)
            .count()
    }

    /// The bytes entry `i` matches, as an inclusive range, or `None` when it
    /// is OFF or empty (a TOR whose top is not above the previous address).
    pub fn range(&self, i: usize) -> Option<(u64, u64)> {
        let addr = self.read_addr(i);
        match self.matching(i) {
            AddressMatching::Off => None,
            AddressMatching::Tor => {
                let first = if i == 0 {
                    0
                } else {
                    self.read_addr(i - 1) << 2
                };
                let end = addr << 2; // exclusive; at most 2^56
                (end > first).then(|| (first, end - 1))
            }
            AddressMatching::Na4 => Some((addr << 2, (addr << 2) + 3)),
            AddressMatching::Napot => {
                // The number of trailing ones gives the size: 2^(ones + 3).
                let ones = addr.trailing_ones();
                let size_log2 = ones + 3;
                let base = (addr << 2) & !((1u64 << size_log2).wrapping_sub(1));
                let last = base | ((1u64 << size_log2) - 1);
                Some((base, last))
            }
        }
    }

    /// `pmpcfg0` (`reg` = 0) or `pmpcfg2` (`reg` = 1): eight bytes each.
    pub(crate) fn read_cfg_csr(&self, reg: usize) -> u64 {
        (0..8).fold(0, |acc, b| {
            acc | (u64::from(self.cfg(reg * 8 + b)) << (8 * b))
        })
    }

    /// Write `pmpcfg0`/`pmpcfg2` byte by byte under the locking rules.
    /// Returns whether anything changed.
    pub(crate) fn write_cfg_csr(&mut self, reg: usize, value: u64) -> bool {
        let mut changed = false;
        for b in 0..8 {
            let i = reg * 8 + b;
            if i >= PMP_ENTRIES || self.is_locked(i) {
                continue;
            }
            let byte = (value >> (8 * b)) as u8 & PMP_CFG_BITS;
            if byte & PMP_W != 0 && byte & PMP_R == 0 {
                continue; // reserved R=0 W=1: keep the old configuration
            }
            changed |= self.cfg[i] != byte;
            self.cfg[i] = byte;
        }
        changed
    }

    /// Write `pmpaddr[i]` unless entry `i` is locked or entry `i + 1` is a
    /// locked TOR. Returns whether anything changed.
    pub(crate) fn write_addr(&mut self, i: usize, value: u64) -> bool {
        if i >= PMP_ENTRIES || self.is_locked(i) {
            return false;
        }
        if i + 1 < PMP_ENTRIES
            && self.is_locked(i + 1)
            && self.matching(i + 1) == AddressMatching::Tor
        {
            return false;
        }
        let value = value & PMP_ADDR_BITS;
        let changed = self.addr[i] != value;
        self.addr[i] = value;
        changed
    }

    /// The permissions granted by matching entry `i` at `privilege`.
    fn entry_permissions(&self, i: usize, privilege: Privilege) -> PmpPermissions {
        if privilege == Privilege::Machine && !self.is_locked(i) {
            PmpPermissions::ALL
        } else {
            PmpPermissions::from_cfg(self.cfg(i))
        }
    }

    /// The permissions when no entry matches.
    fn default_permissions(privilege: Privilege) -> PmpPermissions {
        if privilege == Privilege::Machine {
            PmpPermissions::ALL
        } else {
            PmpPermissions::NONE
        }
    }

    /// The permissions for the bytes `[first, last]`, or `None` when the
    /// deciding entry covers only part of them (such an access fails).
    pub fn permissions(
        &self,
        privilege: Privilege,
        first: u64,
        last: u64,
    ) -> Option<PmpPermissions> {
        for i in 0..PMP_ENTRIES {
            let Some((lo, hi)) = self.range(i) else {
                continue;
            };
            if last < lo || first > hi {
                continue;
            }
            if first >= lo && last <= hi {
                return Some(self.entry_permissions(i, privilege));
            }
            return None;
        }
        Some(Self::default_permissions(privilege))
    }

    /// Whether an access of `size` bytes (at least 1) at `paddr` is allowed.
    pub fn check(&self, privilege: Privilege, paddr: u64, size: u64, access: AccessType) -> bool {
        let Some(last) = paddr.checked_add(size.max(1) - 1) else {
            return false;
        };
        self.permissions(privilege, paddr, last)
            .is_some_and(|p| p.allows(access))
    }

    /// The permissions shared by every byte of the 4 KiB page holding
    /// `page_base`, or `None` when a PMP boundary falls inside the page (the
    /// softmmu must then check each access with [`Pmp::check`]).
    pub fn page_permissions(&self, privilege: Privilege, page_base: u64) -> Option<PmpPermissions> {
        let first = page_base & !(PAGE_SIZE - 1);
        self.permissions(privilege, first, first + (PAGE_SIZE - 1))
    }
}

/// Whether `csrs`' PMP allows an access of `size` bytes at `paddr` by
/// `privilege` (the effective privilege of the access, after MPRV).
pub fn pmp_check(
    csrs: &Csrs,
    privilege: Privilege,
    paddr: u64,
    size: u64,
    access: AccessType,
) -> bool {
    csrs.pmp().check(privilege, paddr, size, access)
}

/// The PMP permissions uniform over the 4 KiB page at `page_base`, or `None`
/// when a PMP region boundary falls inside that page.
pub fn pmp_page_is_uniform(
    csrs: &Csrs,
    privilege: Privilege,
    page_base: u64,
) -> Option<PmpPermissions> {
    csrs.pmp().page_permissions(privilege, page_base)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOR: u8 = 1 << 3;
    const NA4: u8 = 2 << 3;
    const NAPOT: u8 = 3 << 3;
    const RWX: u8 = PMP_R | PMP_W | PMP_X;

    fn napot(base: u64, size: u64) -> u64 {
        (base >> 2) | ((size >> 3) - 1)
    }

    fn with(entries: &[(usize, u8, u64)]) -> Pmp {
        let mut p = Pmp::default();
        for &(i, _, a) in entries {
            assert!(p.write_addr(i, a) || a == 0);
        }
        let mut cfg = [0u64; 2];
        for &(i, c, _) in entries {
            cfg[i / 8] |= u64::from(c) << (8 * (i % 8));
        }
        p.write_cfg_csr(0, cfg[0]);
        p.write_cfg_csr(1, cfg[1]);
        p
    }

    #[test]
    fn no_entries_allow_m_and_deny_s_u() {
        let p = Pmp::default();
        assert!(p.check(Privilege::Machine, 0x8000_0000, 8, AccessType::Store));
        assert!(!p.check(Privilege::Supervisor, 0x8000_0000, 8, AccessType::Load));
        assert!(!p.check(Privilege::User, 0, 1, AccessType::Fetch));
        assert_eq!(p.active_entries(), 0);
    }

    #[test]
    fn napot_ranges_decode() {
        let p = with(&[(0, NAPOT | PMP_R, napot(0x8000_0000, 0x20_0000))]);
        assert_eq!(p.range(0), Some((0x8000_0000, 0x801f_ffff)));
        assert!(p.check(Privilege::Supervisor, 0x801f_fff8, 8, AccessType::Load));
        assert!(!p.check(Privilege::Supervisor, 0x801f_fff8, 8, AccessType::Store));
        assert!(!p.check(Privilege::Supervisor, 0x8020_0000, 1, AccessType::Load));
        // All ones: 54 ones: 2^57 bytes, more than the whole physical space (OpenSBI's "allow all" entry).
        let all = with(&[(1, NAPOT | RWX, u64::MAX)]);
        assert_eq!(all.range(1), Some((0, (1 << 57) - 1)));
        assert!(all.check(Privilege::User, 0x1234, 4, AccessType::Fetch));
        // Smallest NAPOT: 8 bytes.
        let eight = with(&[(0, NAPOT | PMP_R, 0x1000 >> 2)]);
        assert_eq!(eight.range(0), Some((0x1000, 0x1007)));
    }

    #[test]
    fn tor_uses_the_previous_address_and_entry_zero_starts_at_zero() {
        let p = with(&[
            (0, TOR | PMP_R, 0x1000 >> 2),
            (1, TOR | PMP_W | PMP_R, 0x3000 >> 2),
        ]);
        assert_eq!(p.range(0), Some((0, 0xfff)));
        assert_eq!(p.range(1), Some((0x1000, 0x2fff)));
        assert!(!p.check(Privilege::Supervisor, 0x800, 4, AccessType::Store));
        assert!(p.check(Privilege::Supervisor, 0x2ffc, 4, AccessType::Store));
        // Empty TOR (top not above bottom) matches nothing.
        let empty = with(&[(0, 0, 0x3000 >> 2), (1, TOR | RWX, 0x1000 >> 2)]);
        assert_eq!(empty.range(1), None);
        assert!(!empty.check(Privilege::Supervisor, 0x2000, 4, AccessType::Load));
    }

    #[test]
    fn na4_and_partial_matches_fail() {
        let p = with(&[(0, NA4 | PMP_R, 0x100 >> 2), (1, NAPOT | RWX, u64::MAX)]);
        assert!(p.check(Privilege::Supervisor, 0x100, 4, AccessType::Load));
        assert!(!p.check(Privilege::Supervisor, 0x100, 4, AccessType::Store));
        // An 8-byte access that covers the NA4 region and more: partial.
        assert!(!p.check(Privilege::Supervisor, 0x100, 8, AccessType::Load));
        assert!(!p.check(Privilege::Supervisor, 0xfe, 4, AccessType::Load));
        assert!(p.check(Privilege::Supervisor, 0x104, 4, AccessType::Store));
        // Partial matches fail for M-mode too.
        assert!(!p.check(Privilege::Machine, 0xfc, 8, AccessType::Load));
    }

    #[test]
    fn lowest_index_wins() {
        let p = with(&[
            (0, NAPOT, napot(0x8000_0000, 0x1000)),
            (1, NAPOT | RWX, napot(0x8000_0000, 0x10_0000)),
        ]);
        assert!(!p.check(Privilege::Supervisor, 0x8000_0000, 4, AccessType::Load));
        assert!(p.check(Privilege::Supervisor, 0x8000_1000, 4, AccessType::Load));
    }

    #[test]
    fn unlocked_entries_do_not_bind_m_mode_but_locked_ones_do() {
        let p = with(&[(0, NAPOT, napot(0x1000, 0x1000))]);
        assert!(p.check(Privilege::Machine, 0x1000, 8, AccessType::Store));
        let l = with(&[(0, NAPOT | PMP_L | PMP_R, napot(0x1000, 0x1000))]);
        assert!(l.check(Privilege::Machine, 0x1000, 8, AccessType::Load));
        assert!(!l.check(Privilege::Machine, 0x1000, 8, AccessType::Store));
        assert!(
            l.check(Privilege::Machine, 0x2000, 8, AccessType::Store),
            "no match: M ok"
        );
    }

    #[test]
    fn locked_entries_ignore_writes_and_locked_tor_locks_previous_address() {
        let mut p = with(&[(0, 0, 0x1000 >> 2), (1, TOR | PMP_L | PMP_R, 0x2000 >> 2)]);
        assert!(!p.write_addr(1, 0x5000 >> 2), "locked entry");
        assert!(!p.write_addr(0, 0x500 >> 2), "below a locked TOR");
        assert_eq!(p.read_addr(0), 0x1000 >> 2);
        // The locked byte ignores writes, its neighbour does not.
        p.write_cfg_csr(0, (u64::from(RWX | NAPOT) << 8) | u64::from(PMP_R | NA4));
        assert_eq!(p.cfg(1), TOR | PMP_L | PMP_R);
        assert_eq!(p.cfg(0), PMP_R | NA4);
        // A locked NAPOT does not lock the address below it.
        let mut q = with(&[(2, NAPOT | PMP_L, napot(0x4000, 0x1000))]);
        assert!(q.write_addr(1, 0x40));
    }

    #[test]
    fn cfg_write_legalisation() {
        let mut p = Pmp::default();
        p.write_cfg_csr(0, u64::from(PMP_R | 0x60)); // reserved bits 6:5 drop
        assert_eq!(p.cfg(0), PMP_R);
        p.write_cfg_csr(0, u64::from(PMP_W)); // R=0 W=1 reserved: ignored
        assert_eq!(p.cfg(0), PMP_R);
        p.write_cfg_csr(1, 0xab << 56);
        assert_eq!(p.cfg(15), 0xab & PMP_CFG_BITS);
        assert_eq!(p.read_cfg_csr(1) >> 56, u64::from(0xab & PMP_CFG_BITS));
        // pmpaddr keeps 54 bits: OpenSBI's granularity probe reads them back.
        p.write_addr(3, u64::MAX);
        assert_eq!(p.read_addr(3), (1 << 54) - 1);
    }

    #[test]
    fn sub_page_regions_make_pages_non_uniform() {
        let p = with(&[
            (0, NA4 | PMP_R, 0x8000_0100 >> 2),
            (1, NAPOT | RWX, napot(0x8000_0000, 0x10_0000)),
        ]);
        assert_eq!(p.page_permissions(Privilege::Supervisor, 0x8000_0000), None);
        assert_eq!(
            p.page_permissions(Privilege::Supervisor, 0x8000_1000),
            Some(PmpPermissions::ALL)
        );
        assert_eq!(
            p.page_permissions(Privilege::Supervisor, 0x9000_0000),
            Some(PmpPermissions::NONE)
        );
        // A TOR ending mid-page splits the page.
        let t = with(&[(0, TOR | RWX, 0x8000_0800 >> 2)]);
        assert_eq!(t.page_permissions(Privilege::User, 0x8000_0000), None);
        assert_eq!(t.page_permissions(Privilege::Machine, 0x8000_0000), None);
    }
}
