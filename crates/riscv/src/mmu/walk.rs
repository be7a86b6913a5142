//! The Sv39/Sv48/Sv57 page-table walk, with Svnapot and Svpbmt.

use super::pte::*;
use crate::csr::Csrs;
use crate::csr::fields::{
    MENVCFG_PBMTE, MSTATUS_MXR, MSTATUS_SUM, SATP_MODE_SHIFT, SATP_MODE_SV48, SATP_MODE_SV57,
    SATP_PPN,
};
use crate::pmp::PmpPermissions;
use crate::privilege::{AccessType, Exception, Privilege};
use ferrite_memory::GuestBytes;

/// Bytes per page-table entry.
const PTE_SIZE: u64 = 8;
/// Index bits per level.
const LEVEL_BITS: u32 = 9;
/// Page offset bits.
const PAGE_SHIFT: u32 = 12;
/// Size of a Svnapot mapping: 64 KiB.
const NAPOT_SHIFT: u32 = 16;
/// How often the walk restarts after losing a compare-and-swap race before
/// giving up with a page fault. Harts run one at a time, so a lost race
/// means a device rewrote the PTE between our load and our update; a few
/// tries always suffice, and the bound keeps a pathological guest from
/// hanging the host.
const MAX_WALK_RETRIES: u32 = 16;

/// A virtual-to-physical mapping with the permissions this mode has on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Mapping {
    pub paddr: u64,
    pub size_log2: u32,
    pub perms: PmpPermissions,
}

impl Mapping {
    /// The identity mapping of M-mode and bare translation.
    pub(super) fn identity(vaddr: u64) -> Self {
        Self {
            paddr: vaddr,
            size_log2: PAGE_SHIFT,
            perms: PmpPermissions::ALL,
        }
    }
}

/// Walk the page tables of `satp` for `vaddr` (see the module docs of
/// [`super`] for the rules). `privilege` is the effective privilege, S or U.
pub(super) fn walk(
    csrs: &Csrs,
    privilege: Privilege,
    vaddr: u64,
    access: AccessType,
    mem: &mut dyn GuestBytes,
) -> Result<Mapping, Exception> {
    let satp = csrs.satp();
    let levels: u32 = match satp >> SATP_MODE_SHIFT {
        SATP_MODE_SV57 => 5,
        SATP_MODE_SV48 => 4,
        _ => 3,
    };
    // `-d mmu`: the walk, its PTEs and its result (walks happen on TLB
    // misses only; the check is one load of the call site's interest).
    let log = tracing::enabled!(target: "mmu", tracing::Level::INFO);
    if log {
        tracing::info!(
            target: "mmu",
            "hart {}: walk sv{} {:#x} for {}, satp {satp:#018x}",
            csrs.hart_id(),
            PAGE_SHIFT + LEVEL_BITS * levels,
            vaddr,
            format!("{access:?}").to_lowercase()
        );
    }
    let result = walk_levels(csrs, privilege, vaddr, access, mem, levels, log);
    if log {
        match &result {
            Ok(m) => tracing::info!(
                target: "mmu",
                "  -> {:#x} ({} KiB page)",
                m.paddr,
                (1u64 << m.size_log2) >> 10
            ),
            Err(e) => tracing::info!(target: "mmu", "  -> {e}"),
        }
    }
    result
}

/// [`walk`] after the mode is known: `levels` levels, logging each PTE
/// when `log`.
fn walk_levels(
    csrs: &Csrs,
    privilege: Privilege,
    vaddr: u64,
    access: AccessType,
    mem: &mut dyn GuestBytes,
    levels: u32,
    log: bool,
) -> Result<Mapping, Exception> {
    let va_bits = PAGE_SHIFT + LEVEL_BITS * levels;
    // Canonical form: bits 63..va_bits-1 all equal.
    let top = (vaddr as i64) >> (va_bits - 1);
    if top != 0 && top != -1 {
        return Err(access.page_fault());
    }
    let isa = csrs.isa();
    let walker = Walker {
        csrs,
        privilege,
        vaddr,
        access,
        log,
        features: PteFeatures {
            napot: isa.has_svnapot(),
            pbmt: isa.has_svpbmt() && csrs.menvcfg() & MENVCFG_PBMTE != 0,
        },
    };
    for _ in 0..MAX_WALK_RETRIES {
        if let Some(mapping) = walker.walk_once(mem, levels)? {
            return Ok(mapping);
        }
    }
    Err(access.page_fault())
}

/// One translation request.
struct Walker<'a> {
    csrs: &'a Csrs,
    /// Effective privilege (S or U).
    privilege: Privilege,
    vaddr: u64,
    access: AccessType,
    features: PteFeatures,
    /// `-d mmu` is on.
    log: bool,
}

impl Walker<'_> {
    /// Whether PMP lets the walk access the PTE at `pte_addr`. Implicit
    /// accesses are S-mode accesses for PMP (QEMU does the same).
    fn pte_access_allowed(&self, pte_addr: u64, kind: AccessType) -> bool {
        self.csrs
            .pmp()
            .check(Privilege::Supervisor, pte_addr, PTE_SIZE, kind)
    }

    /// One walk from the root. `Ok(None)` means the A/D update lost a race
    /// and the walk must restart.
    fn walk_once(
        &self,
        mem: &mut dyn GuestBytes,
        levels: u32,
    ) -> Result<Option<Mapping>, Exception> {
        let access = self.access;
        let mut table = (self.csrs.satp() & SATP_PPN) << PAGE_SHIFT;
        for level in (0..levels).rev() {
            let shift = PAGE_SHIFT + LEVEL_BITS * level;
            let index = (self.vaddr >> shift) & ((1 << LEVEL_BITS) - 1);
            let pte_addr = table + index * PTE_SIZE;
            if !self.pte_access_allowed(pte_addr, AccessType::Load) {
                return Err(access.access_fault());
            }
            let pte = Pte(mem.read_u64(pte_addr).map_err(|_| access.access_fault())?);
            if self.log {
                tracing::info!(
                    target: "mmu",
                    "  level {level}: pte at {pte_addr:#x} = {:#018x}",
                    pte.0
                );
            }
            if pte.is_malformed(self.features) {
                return Err(access.page_fault());
            }
            if pte.is_leaf() {
                // Svnapot: only 64 KiB mappings (a 4 KiB-level leaf whose
                // PPN ends in 0b1000) exist; anything else with N faults.
                if pte.has(PTE_N) {
                    if level != 0 || pte.ppn() & 0xf != 0b1000 {
                        return Err(access.page_fault());
                    }
                    return self.leaf(mem, pte, pte_addr, NAPOT_SHIFT);
                }
                return self.leaf(mem, pte, pte_addr, shift);
            }
            // D, A and U are reserved in pointers; QEMU faults on them.
            if level == 0 || pte.0 & (PTE_D | PTE_A | PTE_U) != 0 {
                return Err(access.page_fault());
            }
            table = pte.ppn() << PAGE_SHIFT;
        }
        // A pointer at level 0 returned above; this is not reached.
        Err(access.page_fault())
    }

    /// Finish the walk at a leaf found at the level whose pages are
    /// `1 << shift` bytes: alignment, permissions, A/D update.
    fn leaf(
        &self,
        mem: &mut dyn GuestBytes,
        pte: Pte,
        pte_addr: u64,
        shift: u32,
    ) -> Result<Option<Mapping>, Exception> {
        let access = self.access;
        let page_mask = (1u64 << shift) - 1;
        // A NAPOT PPN's low bits encode the size, not an address.
        if shift != NAPOT_SHIFT && pte.ppn() & (page_mask >> PAGE_SHIFT) != 0 {
            return Err(access.page_fault()); // misaligned superpage
        }
        let mut perms = permissions(self.csrs, self.privilege, pte);
        if !perms.allows(access) {
            return Err(access.page_fault());
        }
        let mut updated = pte.0 | PTE_A;
        if access == AccessType::Store {
            updated |= PTE_D;
        }
        if updated != pte.0 {
            if !self.pte_access_allowed(pte_addr, AccessType::Store) {
                return Err(access.access_fault());
            }
            match mem.compare_exchange_u64(pte_addr, pte.0, updated).ok() {
                None => return Err(access.access_fault()),
                Some(false) => return Ok(None),
                Some(true) => {}
            }
        }
        // Stores need D set; report writable only when it is.
        perms.write &= updated & PTE_D != 0;
        let paddr = ((pte.ppn() << PAGE_SHIFT) & !page_mask) | (self.vaddr & page_mask);
        Ok(Some(Mapping {
            paddr,
            size_log2: shift,
            perms,
        }))
    }
}

/// What `privilege` may do on a page mapped by leaf `pte`, given SUM/MXR.
fn permissions(csrs: &Csrs, privilege: Privilege, pte: Pte) -> PmpPermissions {
    let status = csrs.mstatus();
    let user_page = pte.has(PTE_U);
    match (privilege, user_page) {
        // S-mode pages are never accessible from U-mode.
        (Privilege::User, false) => return PmpPermissions::NONE,
        // U-mode pages: S-mode may load/store with SUM, never execute.
        (Privilege::Supervisor, true) if status & MSTATUS_SUM == 0 => {
            return PmpPermissions::NONE;
        }
        _ => {}
    }
    let executable = pte.has(PTE_X);
    PmpPermissions {
        read: pte.has(PTE_R) || (status & MSTATUS_MXR != 0 && executable),
        write: pte.has(PTE_W),
        execute: executable && !(privilege == Privilege::Supervisor && user_page),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_memory::{TestMemory, leaf as leaf_pte, pointer};
    use super::super::{Translated, translate_vaddr};
    use super::*;
    use crate::csr::CsrContext;
    use crate::csr::addr::*;
    use crate::csr::fields::*;

    const CTX: CsrContext = CsrContext {
        instret: 0,
        cycle: 0,
        time: 0,
    };
    const M: Privilege = Privilege::Machine;
    const S: Privilege = Privilege::Supervisor;
    const U: Privilege = Privilege::User;
    const ROOT: u64 = 0x8000_0000;
    const L1: u64 = 0x8000_1000;
    const L0: u64 = 0x8000_2000;
    const RWX: u64 = PTE_R | PTE_W | PTE_X;
    const AD: u64 = PTE_A | PTE_D;

    /// A hart in Sv39 (or Sv48) with root table at ROOT and PMP allowing all.
    fn hart(mode: u64) -> Csrs {
        let mut c = Csrs::new(0);
        c.write(PMPADDR0, u64::MAX, M, &CTX).unwrap();
        c.write(PMPCFG0, 0x1f, M, &CTX).unwrap();
        c.write(SATP, (mode << 60) | (ROOT >> 12), M, &CTX).unwrap();
        c
    }

    fn set_status(c: &mut Csrs, bits: u64) {
        c.write(MSTATUS, bits, M, &CTX).unwrap();
    }

    /// Sv39 tables mapping the 4 KiB page at `vaddr` to `paddr`.
    fn map_4k(mem: &mut TestMemory, vaddr: u64, paddr: u64, flags: u64) -> u64 {
        mem.map(ROOT, 2, vaddr, pointer(L1));
        mem.map(L1, 1, vaddr, pointer(L0));
        mem.map(L0, 0, vaddr, leaf_pte(paddr, flags))
    }

    fn tr(
        c: &Csrs,
        p: Privilege,
        v: u64,
        a: AccessType,
        m: &mut TestMemory,
    ) -> Result<Translated, Exception> {
        translate_vaddr(c, p, v, a, m)
    }

    #[test]
    fn sv39_4k_leaf() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x4000_1000, 0x8010_0000, RWX | AD);
        let t = tr(&c, S, 0x4000_1234, AccessType::Load, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8010_0234);
        assert_eq!(t.page_size_log2, 12);
        assert!(t.readable && t.writable && t.executable && t.cacheable_page);
        assert_eq!(mem.loads, 3);
        assert_eq!(mem.cas_calls, 0, "A and D already set");
        // The neighbouring page is not mapped.
        assert_eq!(
            tr(&c, S, 0x4000_2000, AccessType::Fetch, &mut mem),
            Err(Exception::InstructionPageFault)
        );
    }

    #[test]
    fn sv39_superpages() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        // 2 MiB at level 1.
        mem.map(ROOT, 2, 0x4000_0000, pointer(L1));
        mem.map(L1, 1, 0x4020_0000, leaf_pte(0x8020_0000, RWX | AD));
        let t = tr(&c, S, 0x4030_5678, AccessType::Store, &mut mem).unwrap();
        assert_eq!((t.paddr, t.page_size_log2), (0x8030_5678, 21));
        let t = tr(&c, S, 0x4045_6789, AccessType::Store, &mut mem);
        assert_eq!(
            t,
            Err(Exception::StorePageFault),
            "the next 2 MiB slot is unmapped"
        );
        mem.map(L1, 1, 0x4040_0000, leaf_pte(0x8040_0000, RWX | AD));
        let t = tr(&c, S, 0x4045_6789, AccessType::Store, &mut mem).unwrap();
        assert_eq!((t.paddr, t.page_size_log2), (0x8045_6789, 21));
        // 1 GiB at the root.
        mem.map(
            ROOT,
            2,
            0xc000_0000,
            leaf_pte(0x8000_0000, PTE_R | PTE_X | PTE_A),
        );
        let t = tr(&c, S, 0xc123_4567, AccessType::Fetch, &mut mem).unwrap();
        assert_eq!((t.paddr, t.page_size_log2), (0x8123_4567, 30));
        assert!(t.readable && !t.writable && t.executable);
    }

    #[test]
    fn misaligned_superpages_fault() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        mem.map(ROOT, 2, 0x4000_0000, pointer(L1));
        mem.map(L1, 1, 0x4000_0000, leaf_pte(0x8020_1000, RWX | AD));
        assert_eq!(
            tr(&c, S, 0x4000_0000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        mem.map(ROOT, 2, 0xc000_0000, leaf_pte(0x8020_0000, RWX | AD));
        assert_eq!(
            tr(&c, S, 0xc000_0000, AccessType::Store, &mut mem),
            Err(Exception::StorePageFault)
        );
    }

    #[test]
    fn accessed_and_dirty_are_set_through_cas() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        let pte_addr = map_4k(&mut mem, 0x1000, 0x8010_0000, PTE_R | PTE_W);
        let t = tr(&c, S, 0x1008, AccessType::Load, &mut mem).unwrap();
        assert!(
            t.readable && !t.writable,
            "D clear: a store must walk again"
        );
        assert_eq!(
            mem.get(pte_addr),
            leaf_pte(0x8010_0000, PTE_R | PTE_W | PTE_A)
        );
        let t = tr(&c, S, 0x1008, AccessType::Store, &mut mem).unwrap();
        assert!(t.writable);
        assert_eq!(mem.get(pte_addr), leaf_pte(0x8010_0000, PTE_R | PTE_W | AD));
        assert_eq!(mem.cas_calls, 2);
        // A faulting access leaves the PTE alone.
        let ro = map_4k(&mut mem, 0x3000, 0x8011_0000, PTE_R);
        assert_eq!(
            tr(&c, S, 0x3000, AccessType::Store, &mut mem),
            Err(Exception::StorePageFault)
        );
        assert_eq!(mem.get(ro), leaf_pte(0x8011_0000, PTE_R));
    }

    #[test]
    fn lost_cas_race_restarts_the_walk() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        let pte_addr = map_4k(&mut mem, 0x1000, 0x8010_0000, PTE_R | PTE_W);
        // Someone remaps the page to another frame between load and update.
        mem.interfere = Some((pte_addr, leaf_pte(0x8050_0000, PTE_R | PTE_W)));
        let t = tr(&c, S, 0x1010, AccessType::Store, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8050_0010, "the second walk sees the new PTE");
        assert_eq!(mem.cas_calls, 2);
        assert_eq!(mem.get(pte_addr), leaf_pte(0x8050_0000, PTE_R | PTE_W | AD));
        // If the new PTE is invalid the retried walk faults.
        let other = map_4k(&mut mem, 0x2000, 0x8010_0000, PTE_R);
        mem.interfere = Some((other, 0));
        assert_eq!(
            tr(&c, S, 0x2000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
    }

    #[test]
    fn user_pages_sum_and_mxr() {
        let mut c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | PTE_U | AD);
        map_4k(&mut mem, 0x2000, 0x8011_0000, PTE_X | PTE_A);
        map_4k(&mut mem, 0x3000, 0x8012_0000, RWX | AD);
        // U page from U: everything.
        let t = tr(&c, U, 0x1000, AccessType::Fetch, &mut mem).unwrap();
        assert!(t.readable && t.writable && t.executable);
        // U page from S without SUM: nothing.
        for a in [AccessType::Load, AccessType::Store, AccessType::Fetch] {
            assert_eq!(tr(&c, S, 0x1000, a, &mut mem), Err(a.page_fault()));
        }
        // With SUM: loads and stores, never fetches.
        set_status(&mut c, MSTATUS_SUM);
        let t = tr(&c, S, 0x1000, AccessType::Load, &mut mem).unwrap();
        assert!(t.readable && t.writable && !t.executable);
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Fetch, &mut mem),
            Err(Exception::InstructionPageFault)
        );
        // S page from U: never.
        assert_eq!(
            tr(&c, U, 0x3000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        // Execute-only page: loads need MXR.
        assert_eq!(
            tr(&c, S, 0x2000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        set_status(&mut c, MSTATUS_MXR);
        let t = tr(&c, S, 0x2000, AccessType::Load, &mut mem).unwrap();
        assert!(t.readable && !t.writable && t.executable);
    }

    #[test]
    fn mprv_walks_with_mpp() {
        let mut c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, PTE_R | PTE_W | PTE_U | AD);
        // M-mode itself: identity.
        assert_eq!(
            tr(&c, M, 0x1000, AccessType::Load, &mut mem).unwrap().paddr,
            0x1000
        );
        set_status(&mut c, MSTATUS_MPRV); // MPP = U
        let t = tr(&c, M, 0x1000, AccessType::Load, &mut mem).unwrap();
        assert_eq!((t.paddr, t.pmp_privilege), (0x8010_0000, U));
        assert_eq!(
            tr(&c, M, 0x1000, AccessType::Fetch, &mut mem)
                .unwrap()
                .paddr,
            0x1000
        );
        set_status(&mut c, MSTATUS_MPRV | (1 << MSTATUS_MPP_SHIFT)); // MPP = S, no SUM
        assert_eq!(
            tr(&c, M, 0x1000, AccessType::Store, &mut mem),
            Err(Exception::StorePageFault)
        );
    }

    #[test]
    fn non_canonical_addresses_fault() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        for v in [
            1u64 << 38,
            1 << 39,
            0x8000_0000_0000_0000,
            0xffff_ff00_0000_0000 ^ (1 << 39),
        ] {
            assert_eq!(
                tr(&c, S, v, AccessType::Load, &mut mem),
                Err(Exception::LoadPageFault)
            );
        }
        assert_eq!(mem.loads, 0, "no walk for non-canonical addresses");
        // The top half is canonical and indexes the upper root entries.
        mem.map(
            ROOT,
            2,
            0xffff_ffc0_0000_0000,
            leaf_pte(0x8000_0000, RWX | AD),
        );
        assert_eq!(
            ROOT + 256 * 8,
            ROOT + ((0xffff_ffc0_0000_0000u64 >> 30) & 0x1ff) * 8
        );
        let t = tr(&c, S, 0xffff_ffc0_0000_0040, AccessType::Load, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8000_0040);
    }

    #[test]
    fn malformed_ptes_fault() {
        let c = hart(SATP_MODE_SV39);
        let cases = [
            (RWX | AD | (1 << 54), "reserved bit"),
            (RWX | AD | (1 << 62), "PBMT without Svpbmt"),
            (RWX | AD | (1 << 63), "N without Svnapot"),
            (PTE_W | AD, "W without R"),
        ];
        for (flags, what) in cases {
            let mut mem = TestMemory::default();
            map_4k(&mut mem, 0x1000, 0x8010_0000, flags);
            assert_eq!(
                tr(&c, S, 0x1000, AccessType::Load, &mut mem),
                Err(Exception::LoadPageFault),
                "{what}"
            );
        }
        // V clear.
        let mut mem = TestMemory::default();
        let a = map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD);
        mem.set(a, mem.get(a) & !PTE_V);
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Fetch, &mut mem),
            Err(Exception::InstructionPageFault)
        );
        // A pointer with A set, and a pointer at level 0.
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD);
        mem.map(L1, 1, 0x1000, pointer(L0) | PTE_A);
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD);
        mem.map(L0, 0, 0x1000, pointer(0x8000_3000));
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Store, &mut mem),
            Err(Exception::StorePageFault)
        );
    }

    #[test]
    fn pte_access_faults_are_access_faults() {
        // Root table outside memory.
        let mut c = Csrs::new(0);
        c.write(PMPADDR0, u64::MAX, M, &CTX).unwrap();
        c.write(PMPCFG0, 0x1f, M, &CTX).unwrap();
        c.write(SATP, (SATP_MODE_SV39 << 60) | 0x10, M, &CTX)
            .unwrap();
        let mut mem = TestMemory::default();
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Fetch, &mut mem),
            Err(Exception::InstructionAccessFault)
        );
        assert_eq!(
            tr(&c, U, 0x1000, AccessType::Store, &mut mem),
            Err(Exception::StoreAccessFault)
        );
        // PMP denies the page-table page to S-mode.
        let mut c = hart(SATP_MODE_SV39);
        c.write(PMPADDR0, (ROOT >> 2) | 0x1ff, M, &CTX).unwrap(); // 4 KiB NAPOT
        c.write(PMPADDR0 + 1, u64::MAX, M, &CTX).unwrap();
        c.write(PMPCFG0, (0x1f << 8) | 0x18, M, &CTX).unwrap();
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD);
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Load, &mut mem),
            Err(Exception::LoadAccessFault)
        );
        // A read-only PMP region over the leaf table: walks work while
        // A/D are set, updating them is a store access fault.
        c.write(PMPADDR0, (L0 >> 2) | 0x1ff, M, &CTX).unwrap();
        c.write(PMPCFG0, (0x1f << 8) | 0x19, M, &CTX).unwrap();
        assert!(tr(&c, S, 0x1000, AccessType::Load, &mut mem).is_ok());
        map_4k(&mut mem, 0x2000, 0x8010_0000, RWX);
        assert_eq!(
            tr(&c, S, 0x2000, AccessType::Load, &mut mem),
            Err(Exception::LoadAccessFault)
        );
        // PTE in memory that cannot be written (cas fails with None).
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x2000, 0x8010_0000, RWX);
        mem.ram = 0x8000_0000..0x8000_2000; // the leaf table is now outside RAM
        assert_eq!(
            tr(&c, S, 0x2000, AccessType::Store, &mut mem),
            Err(Exception::StoreAccessFault)
        );
    }

    #[test]
    fn sv48_walks_four_levels() {
        let c = hart(SATP_MODE_SV48);
        let mut mem = TestMemory::default();
        let l2 = 0x8000_3000;
        let v = 0x0000_7f12_3456_7000u64;
        mem.map(ROOT, 3, v, pointer(l2));
        mem.map(l2, 2, v, pointer(L1));
        mem.map(L1, 1, v, pointer(L0));
        mem.map(L0, 0, v, leaf_pte(0x8060_0000, PTE_R | PTE_U | PTE_A));
        let t = tr(&c, U, v | 0xabc, AccessType::Load, &mut mem).unwrap();
        assert_eq!((t.paddr, t.page_size_log2), (0x8060_0abc, 12));
        assert_eq!(mem.loads, 4);
        // 512 GiB superpage at the root must be 512 GiB aligned.
        let big = 0x0000_0080_0000_0000u64;
        mem.map(ROOT, 3, big, leaf_pte(0, RWX | AD));
        let t = tr(&c, S, big + 0x1234_5678, AccessType::Load, &mut mem).unwrap();
        assert_eq!((t.paddr, t.page_size_log2), (0x1234_5678, 39));
        // Sv48 canonical check is at bit 47; Sv39's limit no longer applies.
        assert_eq!(
            tr(&c, S, 1 << 47, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        assert_eq!(
            tr(&c, S, 1 << 40, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault),
            "canonical but unmapped"
        );
    }

    #[test]
    fn sv57_walks_five_levels() {
        let c = hart(SATP_MODE_SV57);
        let mut mem = TestMemory::default();
        let (l3, l2) = (0x8000_4000, 0x8000_3000);
        let v = 0x00ff_ff12_3456_7000u64;
        mem.map(ROOT, 4, v, pointer(l3));
        mem.map(l3, 3, v, pointer(l2));
        mem.map(l2, 2, v, pointer(L1));
        mem.map(L1, 1, v, pointer(L0));
        mem.map(L0, 0, v, leaf_pte(0x8060_0000, PTE_R | PTE_A));
        let t = tr(&c, S, v | 0x123, AccessType::Load, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8060_0123);
        assert_eq!(mem.loads, 5);
        // Canonical at bit 56.
        assert_eq!(
            tr(&c, S, 1 << 56, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
    }

    #[test]
    fn svnapot_64k_mappings() {
        let c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        // PPN 0x80108 with N: the 64 KiB page at 0x8010_0000.
        let napot = ((0x80108u64 << PTE_PPN_SHIFT) | PTE_V | RWX | AD) | PTE_N;
        mem.map(ROOT, 2, 0x4000_0000, pointer(L1));
        mem.map(L1, 1, 0x4000_0000, pointer(L0));
        mem.map(L0, 0, 0x4000_3000, napot);
        let t = tr(&c, S, 0x4000_3456, AccessType::Store, &mut mem).unwrap();
        assert_eq!(
            t.paddr, 0x8010_3456,
            "the offset inside 64 KiB comes from the address"
        );
        // A NAPOT PPN not ending in 0b1000 is reserved.
        mem.map(
            L0,
            0,
            0x4000_3000,
            napot & !(8 << PTE_PPN_SHIFT) | (4 << PTE_PPN_SHIFT),
        );
        assert_eq!(
            tr(&c, S, 0x4000_3000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        // N on a 2 MiB leaf faults.
        mem.map(L1, 1, 0x4020_0000, leaf_pte(0x8020_0000, RWX | AD) | PTE_N);
        assert_eq!(
            tr(&c, S, 0x4020_0000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
        // Without Svnapot in the ISA, N makes the PTE invalid.
        let mut c = hart(SATP_MODE_SV39);
        c.isa = crate::isa::Isa::parse("rv64gc").unwrap();
        mem.map(L0, 0, 0x4000_3000, napot);
        assert_eq!(
            tr(&c, S, 0x4000_3000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault)
        );
    }

    #[test]
    fn svpbmt_needs_menvcfg_pbmte() {
        let mut c = hart(SATP_MODE_SV39);
        let mut mem = TestMemory::default();
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD | (2 << 61));
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault),
            "PBMT set while menvcfg.PBMTE is clear"
        );
        c.write(MENVCFG, MENVCFG_PBMTE, M, &CTX).unwrap();
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Load, &mut mem).unwrap().paddr,
            0x8010_0000
        );
        map_4k(&mut mem, 0x1000, 0x8010_0000, RWX | AD | (3 << 61));
        assert_eq!(
            tr(&c, S, 0x1000, AccessType::Load, &mut mem),
            Err(Exception::LoadPageFault),
            "PBMT = 3 is reserved"
        );
    }

    #[test]
    fn random_page_tables_never_panic_or_loop() {
        // Fill the first 64 KiB of RAM with random words biased towards
        // valid PTEs that point back into the same 64 KiB, then translate
        // random addresses in every mode.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for mode in [SATP_MODE_SV39, SATP_MODE_SV48, SATP_MODE_SV57] {
            let mut c = hart(mode);
            let mut mem = TestMemory::default();
            for i in 0..8192u64 {
                let r = next();
                let target = ROOT + (r % 16) * 0x1000;
                let pte = match r % 4 {
                    0 => r,
                    1 => pointer(target),
                    _ => leaf_pte(target, (r >> 8) & 0xff),
                };
                mem.set(ROOT + i * 8, pte);
            }
            for status in [0, MSTATUS_SUM, MSTATUS_MXR | MSTATUS_SUM] {
                set_status(&mut c, status);
                for _ in 0..2000 {
                    let v = next();
                    let v = if v & 1 == 0 { v & 0x7f_ffff_ffff } else { v };
                    for p in [S, U] {
                        for a in [AccessType::Fetch, AccessType::Load, AccessType::Store] {
                            match tr(&c, p, v, a, &mut mem) {
                                Ok(t) => {
                                    assert!(t.paddr >> 56 == 0, "{v:#x} -> {:#x}", t.paddr);
                                    assert!(matches!(t.page_size_log2, 12 | 21 | 30 | 39));
                                    match a {
                                        AccessType::Fetch => assert!(t.executable),
                                        AccessType::Load => assert!(t.readable),
                                        AccessType::Store => assert!(t.writable),
                                    }
                                }
                                Err(e) => assert!(e == a.page_fault() || e == a.access_fault()),
                            }
                        }
                    }
                }
            }
        }
    }
}
