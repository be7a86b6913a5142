//! The two halves of a TLB slot: the hot [`TlbEntry`] the fast path compares
//! against, and the cold [`TlbFull`] the slow path consults.
//!
//! # Tag layout
//!
//! A tag is the virtual page address (low [`PAGE_BITS`] bits zero) with flag
//! bits ORed into bits 3..=11. The fast path compares the tag with
//! `vaddr & (PAGE_MASK | (size - 1))`, a value whose bits 3..=11 are always
//! zero and whose bits 0..=2 are non-zero only for a misaligned access, so a
//! single compare checks "same page, access aligned, no flag set". Any flag
//! therefore sends the access to the slow path, which reads the flags and
//! acts on them.

use ferrite_memory::{GuestAddress, MemTxAttrs, RamAddr, RegionId};

use crate::address::VirtAddr;

/// log2 of the target page size the TLB works in (4 KiB).
pub const PAGE_BITS: u32 = 12;
/// The target page size in bytes.
pub const PAGE_SIZE: u64 = 1 << PAGE_BITS;
/// Mask selecting the page address of a virtual or physical address.
pub const PAGE_MASK: u64 = !(PAGE_SIZE - 1);

/// The entry grants nothing for this access type (an empty slot, or a page
/// without the permission). Set in an empty tag together with every other bit.
pub const TLB_INVALID: u64 = 1 << 11;
/// The page is not plain RAM for this access: dispatch through the region's
/// callbacks (MMIO, ROM-device writes, unassigned space, sub-page sections).
pub const TLB_MMIO: u64 = 1 << 10;
/// Write tag only: the RAM page is not yet dirty for every dirty client, so a
/// store must go through the slow path to invalidate translated code on the
/// page and mark it dirty.
pub const TLB_NOTDIRTY: u64 = 1 << 9;
/// Reserved for guest watchpoints: an access must be checked against them.
pub const TLB_WATCHPOINT: u64 = 1 << 8;
/// The translation is valid for one access only (a PMP region smaller than a
/// page covers part of it): every access re-runs the target's fill, which
/// checks the exact address and size.
pub const TLB_RECHECK: u64 = 1 << 7;
/// Write tag only: the page is ROM; stores are dropped (QEMU behaviour).
pub const TLB_DISCARD_WRITE: u64 = 1 << 6;
/// Every flag bit.
pub const TLB_FLAGS_MASK: u64 =
    TLB_INVALID | TLB_MMIO | TLB_NOTDIRTY | TLB_WATCHPOINT | TLB_RECHECK | TLB_DISCARD_WRITE;

/// The tag of an empty slot: matches no address (INVALID is set).
pub const TAG_EMPTY: u64 = u64::MAX;

/// Access permissions of a mapping (read, write, execute).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Prot(u8);

impl Prot {
    /// Nothing allowed.
    pub const NONE: Prot = Prot(0);
    /// Loads allowed.
    pub const READ: Prot = Prot(1);
    /// Stores allowed.
    pub const WRITE: Prot = Prot(2);
    /// Instruction fetches allowed.
    pub const EXEC: Prot = Prot(4);
    /// Everything allowed.
    pub const RWX: Prot = Prot(7);

    /// The union of two permission sets.
    pub const fn union(self, other: Prot) -> Prot {
        Prot(self.0 | other.0)
    }

    /// Whether every permission in `other` is in `self`.
    pub const fn contains(self, other: Prot) -> bool {
        self.0 & other.0 == other.0
    }
}

/// A target-independent access type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MmuAccess {
    /// A data load.
    Load,
    /// A data store (also the write half of an atomic read-modify-write).
    Store,
    /// An instruction fetch.
    Fetch,
}

impl MmuAccess {
    /// The permission this access needs.
    pub const fn prot(self) -> Prot {
        match self {
            Self::Load => Prot::READ,
            Self::Store => Prot::WRITE,
            Self::Fetch => Prot::EXEC,
        }
    }
}

/// The hot part of a TLB slot: three tags and the addend. 32 bytes, aligned so
/// that one slot never straddles a cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct TlbEntry {
    /// Tag for loads.
    pub addr_read: u64,
    /// Tag for stores.
    pub addr_write: u64,
    /// Tag for instruction fetches.
    pub addr_code: u64,
    /// `host page pointer - virtual page address` (wrapping): adding a
    /// virtual address inside the page gives the host pointer for it. Only
    /// meaningful for tags without [`TLB_MMIO`].
    pub addend: usize,
}

impl TlbEntry {
    /// An empty slot.
    pub const EMPTY: TlbEntry = TlbEntry {
        addr_read: TAG_EMPTY,
        addr_write: TAG_EMPTY,
        addr_code: TAG_EMPTY,
        addend: 0,
    };

    /// The tag for `access`.
    #[inline]
    pub fn tag(&self, access: MmuAccess) -> u64 {
        match access {
            MmuAccess::Load => self.addr_read,
            MmuAccess::Store => self.addr_write,
            MmuAccess::Fetch => self.addr_code,
        }
    }

    /// Whether any tag of this slot maps the virtual page of `vaddr`.
    #[inline]
    pub fn maps_page(&self, vaddr: u64) -> bool {
        let page = vaddr & PAGE_MASK;
        tag_maps_page(self.addr_read, page)
            || tag_maps_page(self.addr_write, page)
            || tag_maps_page(self.addr_code, page)
    }

    /// Whether the slot holds anything.
    pub fn is_empty(&self) -> bool {
        self.addr_read & TLB_INVALID != 0
            && self.addr_write & TLB_INVALID != 0
            && self.addr_code & TLB_INVALID != 0
    }
}

/// Whether `tag` is valid and names the page `page` (flags other than
/// INVALID ignored).
#[inline]
pub fn tag_maps_page(tag: u64, page: u64) -> bool {
    tag & (PAGE_MASK | TLB_INVALID) == page
}

/// What a physical page turned out to be when the slot was filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// RAM (or ROM) with host memory behind it; `ram` is the ram address of
    /// the page start.
    Ram {
        /// Ram address of the page.
        ram: RamAddr,
        /// ROM or read-only RAM.
        readonly: bool,
    },
    /// A ROM device in ROMD mode: reads and fetches from host memory, writes
    /// through callbacks.
    RomDevice {
        /// Ram address of the page.
        ram: RamAddr,
    },
    /// Callbacks, or a page shared between sections.
    Io,
    /// Nothing mapped: every access is a bus error.
    Unassigned,
}

impl PageKind {
    /// The ram address of the page, if it has host memory.
    pub fn ram(self) -> Option<RamAddr> {
        match self {
            Self::Ram { ram, .. } | Self::RomDevice { ram } => Some(ram),
            Self::Io | Self::Unassigned => None,
        }
    }
}

/// The flat-view section that serves a whole page through callbacks: the
/// terminal region and the offset of the page's first byte in it. A slot
/// that has one dispatches MMIO straight to the region (QEMU's
/// `CPUTLBEntryFull::xlat_section`), without looking the address up again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoSection {
    /// The terminal region.
    pub region: RegionId,
    /// Offset in `region` of the page's first byte.
    pub offset: u64,
}

/// The cold part of a TLB slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbFull {
    /// Physical address of the page.
    pub paddr: GuestAddress,
    /// What the page is.
    pub kind: PageKind,
    /// For a page served through callbacks by one section (MMIO, a ROM
    /// device's writes): that section. `None` for RAM, unassigned space and
    /// pages split between sections (those are looked up per access).
    pub section: Option<IoSection>,
    /// Permissions granted by the target's fill.
    pub prot: Prot,
    /// Transaction attributes for accesses through this slot.
    pub attrs: MemTxAttrs,
    /// For a writable RAM page whose write tag carries [`TLB_NOTDIRTY`] only
    /// because it holds translated code: which of the TLB's copies of code
    /// byte bits describes the page (a superset of its code bytes), so that
    /// a store to other bytes is made at once
    /// ([`crate::tlb::Tlb::store_beside_code`]). [`NO_CODE_BYTES`]: every
    /// store takes the slow path.
    pub code_bytes: u32,
}

/// [`TlbFull::code_bytes`] of a slot whose stores all take the slow path.
pub const NO_CODE_BYTES: u32 = u32::MAX;

impl TlbFull {
    /// The cold half of an empty slot.
    pub const EMPTY: TlbFull = TlbFull {
        paddr: GuestAddress(0),
        kind: PageKind::Io,
        section: None,
        prot: Prot::NONE,
        attrs: MemTxAttrs {
            requester_id: 0,
            secure: false,
            debug: false,
        },
        code_bytes: NO_CODE_BYTES,
    };
}

/// A translation produced by a target's fill, to be installed in the TLB
/// (QEMU's `tlb_set_page` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageMapping {
    /// The virtual address that was translated (any address in the page).
    pub vaddr: VirtAddr,
    /// The physical address `vaddr` translates to.
    pub paddr: GuestAddress,
    /// What the mode may do with the page.
    pub prot: Prot,
    /// log2 of the size of the leaf mapping (12, or a superpage size). Only
    /// 4 KiB of it is installed; the size makes `flush_page` of any address in
    /// the superpage flush correctly.
    pub page_size_log2: u32,
    /// Attributes of accesses through the mapping.
    pub attrs: MemTxAttrs,
    /// False when the mapping may not be cached for the whole page (a PMP
    /// region smaller than the page applies): the slot is installed with
    /// [`TLB_RECHECK`] and every access fills again.
    pub cacheable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_one_half_cache_line() {
        assert_eq!(std::mem::size_of::<TlbEntry>(), 32);
        assert_eq!(std::mem::align_of::<TlbEntry>(), 32);
    }

    #[test]
    fn flags_never_match_an_access_compare_value() {
        for flag in [
            TLB_INVALID,
            TLB_MMIO,
            TLB_NOTDIRTY,
            TLB_WATCHPOINT,
            TLB_RECHECK,
            TLB_DISCARD_WRITE,
        ] {
            let tag = 0x8000_0000 | flag;
            for off in 0..PAGE_SIZE {
                for size in [1u64, 2, 4, 8] {
                    let vaddr = 0x8000_0000 + off;
                    assert_ne!(vaddr & (PAGE_MASK | (size - 1)), tag);
                }
            }
        }
    }

    #[test]
    fn empty_maps_nothing() {
        assert!(TlbEntry::EMPTY.is_empty());
        assert!(!TlbEntry::EMPTY.maps_page(0));
        assert!(!TlbEntry::EMPTY.maps_page(u64::MAX));
        let e = TlbEntry {
            addr_read: 0x1000,
            ..TlbEntry::EMPTY
        };
        assert!(e.maps_page(0x1fff));
        assert!(!e.maps_page(0x2000));
        assert!(tag_maps_page(0x1000 | TLB_NOTDIRTY, 0x1000));
        assert!(!tag_maps_page(0x1000 | TLB_INVALID, 0x1000));
    }

    #[test]
    fn prot_sets() {
        let rw = Prot::READ.union(Prot::WRITE);
        assert!(rw.contains(Prot::READ));
        assert!(!rw.contains(Prot::EXEC));
        assert!(Prot::RWX.contains(rw));
        assert_eq!(MmuAccess::Fetch.prot(), Prot::EXEC);
    }
}
