//! Virtual-memory translation: bare mode, Sv39 and Sv48, followed by PMP.
//!
//! [`translate`] is what the softmmu calls on a TLB miss. It works on one
//! virtual address and reports what the current mode may do on the 4 KiB
//! page holding it, so the softmmu can cache the result per page:
//!
//! - the effective privilege of loads and stores honours `mstatus.MPRV`
//!   (M-mode with MPRV = 1 uses MPP); fetches never do;
//! - M-mode and `satp.MODE = Bare` map virtual to physical one to one;
//! - Sv39/Sv48 walks read PTEs through [`GuestBytes`] (aligned 8-byte accesses, outside the TLB), check each PTE
//!   address against PMP as an S-mode load (and as an S-mode store before
//!   updating A/D), set A on every access and D on stores with a
//!   compare-and-swap, and retry the walk from the root if the PTE changed
//!   underneath;
//! - a permission the PTE grants is reported only if using it needs no PTE
//!   update: `writable` is false until D is set, so the first store to a
//!   clean page walks again and sets D;
//! - finally the physical page is checked against PMP. If a PMP boundary
//!   falls inside the 4 KiB page, [`Translated::cacheable_page`] is false
//!   and the softmmu must call [`crate::pmp::pmp_check`] with
//!   [`Translated::pmp_privilege`] on every access to it.
//!
//! The cached translation depends on the effective privilege, `satp`,
//! `mstatus.SUM`/`MXR`/`MPRV`/`MPP` and PMP. The CSR file reports changes to
//! all of these through [`crate::csr::CsrWriteEffect::flush_tlb`]; the
//! executor keys its TLBs by effective privilege.
//!
//! Faults: a malformed PTE, a permission failure or a non-canonical address
//! gives the page fault matching the access; a PTE access that PMP denies
//! or that [`GuestBytes`] (aligned 8-byte accesses, outside the TLB) cannot perform, and a final physical access PMP
//! denies, give the matching access fault.

pub mod pte;
mod walk;

use ferrite_memory::GuestBytes;

use crate::csr::Csrs;
use crate::csr::fields::{MSTATUS_MPRV, SATP_MODE_BARE, SATP_MODE_SHIFT};
use crate::pmp::PmpPermissions;
use crate::privilege::{AccessType, Exception, Privilege};

/// The result of a successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The physical address of the byte at the virtual address.
    pub paddr: u64,
    /// log2 of the mapping's size: 12, or 21/30/39 for superpages. Bare and
    /// M-mode translations report 12.
    pub page_size_log2: u32,
    /// Loads allowed on this page in this mode (MXR applied).
    pub readable: bool,
    /// Stores allowed on this page in this mode without a PTE update.
    pub writable: bool,
    /// Fetches allowed on this page in this mode.
    pub executable: bool,
    /// Whether the permissions above hold for every byte of the 4 KiB page
    /// (PMP included). When false, check PMP on each access.
    pub cacheable_page: bool,
    /// The privilege PMP checks of accesses through this translation use.
    pub pmp_privilege: Privilege,
}

/// The privilege a load, store or fetch at `privilege` is checked with:
/// loads and stores in M-mode with `mstatus.MPRV` set use `mstatus.MPP`.
pub fn effective_privilege(csrs: &Csrs, privilege: Privilege, access: AccessType) -> Privilege {
    if privilege == Privilege::Machine
        && access != AccessType::Fetch
        && csrs.mstatus() & MSTATUS_MPRV != 0
    {
        csrs.mpp()
    } else {
        privilege
    }
}

/// Translate `vaddr` for an access of kind `access` by a hart running at
/// `privilege`. See the module documentation for the rules.
pub fn translate_vaddr(
    csrs: &Csrs,
    privilege: Privilege,
    vaddr: u64,
    access: AccessType,
    mem: &mut dyn GuestBytes,
) -> Result<Translated, Exception> {
    let effective = effective_privilege(csrs, privilege, access);
    let mode = csrs.satp() >> SATP_MODE_SHIFT;
    let page = if effective == Privilege::Machine || mode == SATP_MODE_BARE {
        walk::Mapping::identity(vaddr)
    } else {
        walk::walk(csrs, effective, vaddr, access, mem)?
    };
    apply_pmp(csrs, effective, access, page)
}

/// Restrict a page-table mapping by PMP and build the [`Translated`].
fn apply_pmp(
    csrs: &Csrs,
    effective: Privilege,
    access: AccessType,
    page: walk::Mapping,
) -> Result<Translated, Exception> {
    let pmp = csrs.pmp();
    let (perms, cacheable_page) = match pmp.page_permissions(effective, page.paddr) {
        Some(pmp_perms) => {
            if !pmp_perms.allows(access) {
                return Err(access.access_fault());
            }
            (intersect(page.perms, pmp_perms), true)
        }
        None => {
            if !pmp.check(effective, page.paddr, 1, access) {
                return Err(access.access_fault());
            }
            (page.perms, false)
        }
    };
    Ok(Translated {
        paddr: page.paddr,
        page_size_log2: page.size_log2,
        readable: perms.read,
        writable: perms.write,
        executable: perms.execute,
        cacheable_page,
        pmp_privilege: effective,
    })
}

fn intersect(a: PmpPermissions, b: PmpPermissions) -> PmpPermissions {
    PmpPermissions {
        read: a.read && b.read,
        write: a.write && b.write,
        execute: a.execute && b.execute,
    }
}

#[cfg(test)]
pub(crate) mod test_memory;

#[cfg(test)]
mod tests {
    use super::test_memory::TestMemory;
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

    fn allow_all_pmp(c: &mut Csrs) {
        c.write(PMPADDR0, u64::MAX, M, &CTX).unwrap();
        c.write(PMPCFG0, 0x1f, M, &CTX).unwrap();
    }

    #[test]
    fn m_mode_and_bare_are_identity_mapped() {
        let mut c = Csrs::new(0);
        let mut mem = TestMemory::default();
        let t = translate_vaddr(&c, M, 0x8000_1234, AccessType::Store, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8000_1234);
        assert!(t.readable && t.writable && t.executable && t.cacheable_page);
        assert_eq!(t.page_size_log2, 12);
        // Bare mode in S: identity, but PMP with no entries denies S.
        let s = Privilege::Supervisor;
        assert_eq!(
            translate_vaddr(&c, s, 0x8000_0000, AccessType::Fetch, &mut mem),
            Err(Exception::InstructionAccessFault)
        );
        allow_all_pmp(&mut c);
        let t = translate_vaddr(&c, s, 0x8000_0000, AccessType::Fetch, &mut mem).unwrap();
        assert_eq!(t.paddr, 0x8000_0000);
        assert_eq!(t.pmp_privilege, s);
        assert_eq!(mem.loads, 0, "no walk in bare mode");
    }

    #[test]
    fn mprv_applies_to_loads_and_stores_not_fetches() {
        let mut c = Csrs::new(0);
        c.write(MSTATUS, MSTATUS_MPRV | (1 << MSTATUS_MPP_SHIFT), M, &CTX)
            .unwrap();
        assert_eq!(
            effective_privilege(&c, M, AccessType::Load),
            Privilege::Supervisor
        );
        assert_eq!(
            effective_privilege(&c, M, AccessType::Store),
            Privilege::Supervisor
        );
        assert_eq!(effective_privilege(&c, M, AccessType::Fetch), M);
        let s = Privilege::Supervisor;
        assert_eq!(effective_privilege(&c, s, AccessType::Load), s);
        let mut mem = TestMemory::default();
        // MPRV with MPP = S and no PMP entries: the load is an S access.
        assert_eq!(
            translate_vaddr(&c, M, 0x8000_0000, AccessType::Load, &mut mem),
            Err(Exception::LoadAccessFault)
        );
        assert!(translate_vaddr(&c, M, 0x8000_0000, AccessType::Fetch, &mut mem).is_ok());
    }

    #[test]
    fn pmp_restricts_and_splits_pages() {
        let mut c = Csrs::new(0);
        // Entry 0: NA4 read-only at 0x8000_0100; entry 1: everything RWX.
        c.write(PMPADDR0, 0x8000_0100 >> 2, M, &CTX).unwrap();
        c.write(PMPADDR0 + 1, u64::MAX, M, &CTX).unwrap();
        c.write(PMPCFG0, (0x1f << 8) | 0x11, M, &CTX).unwrap();
        let s = Privilege::Supervisor;
        let mut mem = TestMemory::default();
        let t = translate_vaddr(&c, s, 0x8000_0000, AccessType::Store, &mut mem).unwrap();
        assert!(!t.cacheable_page);
        assert_eq!(
            translate_vaddr(&c, s, 0x8000_0100, AccessType::Store, &mut mem),
            Err(Exception::StoreAccessFault)
        );
        let t = translate_vaddr(&c, s, 0x8000_1000, AccessType::Store, &mut mem).unwrap();
        assert!(t.cacheable_page && t.writable);
        // A read-only PMP page reports writable = false.
        c.write(PMPADDR0, (0x8000_2000 >> 2) | 0x1ff, M, &CTX)
            .unwrap();
        c.write(PMPCFG0, (0x1f << 8) | 0x19, M, &CTX).unwrap();
        let t = translate_vaddr(&c, s, 0x8000_2008, AccessType::Load, &mut mem).unwrap();
        assert!(t.cacheable_page && t.readable && !t.writable && !t.executable);
    }
}
