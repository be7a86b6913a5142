//! Sv39 translation through the TLB fill: page walk, page faults, sfence.vma.

use super::asm::*;
use super::*;
use crate::csr::addr::*;
use crate::privilege::{Exception, Privilege};

const ROOT: u64 = RAM + 0x1_0000;
const L1: u64 = RAM + 0x1_1000;
const L0: u64 = RAM + 0x1_2000;
const PAGE_A: u64 = RAM + 0x2_0000;
const PAGE_B: u64 = RAM + 0x2_1000;
const VA: u64 = 0x4000_0000;
const V: u64 = 1;
const RWX_AD: u64 = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | V;

fn pte(pa: u64, flags: u64) -> u64 {
    (pa >> 12) << 10 | flags
}

/// S-mode with Sv39: RAM identity-mapped by a gigapage, `VA` mapped to `PAGE_A`.
fn sv39_rig(s_code: &[u32]) -> Rig {
    let mut rig = Rig::new();
    rig.write_u64(ROOT + 8, pte(L1, V));
    rig.write_u64(ROOT + 16, pte(RAM, RWX_AD));
    rig.write_u64(L1, pte(L0, V));
    rig.write_u64(L0, pte(PAGE_A, RWX_AD));
    rig.write_u64(PAGE_A, 0x1111);
    rig.write_u64(PAGE_B, 0x2222);
    rig.set_csr(PMPADDR0, u64::MAX >> 10);
    rig.set_csr(PMPCFG0, 0x1f);
    rig.set_csr(MSTATUS, 1 << 11); // MPP = S
    rig.set_csr(MEPC, RAM + 0x100);
    rig.program(&[csr(1, 0, u32::from(SATP), 5), MRET]);
    rig.cpu.set_xreg(5, (8 << 60) | (ROOT >> 12));
    rig.load(RAM + 0x100, s_code);
    rig
}

#[test]
fn sv39_loads_stores_and_page_faults() {
    let mut rig = sv39_rig(&[
        load(3, 10, 1, 0), // ld x10, 0(VA)
        store(3, 2, 1, 8), // sd x2, 8(VA)
        load(3, 11, 3, 0), // ld from an unmapped VA: load page fault
        SPIN,
    ]);
    rig.cpu.set_xreg(1, VA);
    rig.cpu.set_xreg(2, 0xabcd);
    rig.cpu.set_xreg(3, 0x5000_0000);
    rig.run(20);
    assert_eq!(rig.x(10), 0x1111);
    assert_eq!(rig.read_u64(PAGE_A + 8), 0xabcd);
    assert_eq!(rig.csr(MCAUSE), Exception::LoadPageFault.code());
    assert_eq!(rig.csr(MTVAL), 0x5000_0000);
    assert_eq!(rig.csr(MEPC), RAM + 0x108);
    assert_eq!(rig.cpu.hart().privilege(), Privilege::Machine);
    assert!(rig.cpu.stats().tlb_fills >= 3);
}

#[test]
fn sfence_vma_makes_a_remapped_page_visible() {
    // Remap VA from PAGE_A to PAGE_B by rewriting the leaf PTE, then sfence.vma.
    let mut rig = sv39_rig(&[
        load(3, 10, 1, 0), // 0x1111 through the old mapping
        store(3, 4, 3, 0), // L0[0] = pte(PAGE_B)
        0x1200_8073,       // sfence.vma x1, x0
        load(3, 11, 1, 0), // 0x2222 through the new mapping
        SPIN,
    ]);
    rig.cpu.set_xreg(1, VA);
    rig.cpu.set_xreg(3, L0);
    rig.cpu.set_xreg(4, pte(PAGE_B, RWX_AD));
    rig.run(20);
    assert_eq!(rig.x(10), 0x1111);
    assert_eq!(rig.x(11), 0x2222);
    assert_eq!(rig.cpu.hart().privilege(), Privilege::Supervisor);
}

#[test]
fn fetch_from_a_non_executable_page_is_an_instruction_page_fault() {
    let mut rig = sv39_rig(&[jalr(0, 1, 0)]);
    rig.write_u64(L0, pte(PAGE_A, RWX_AD & !0x8)); // no X
    rig.cpu.set_xreg(1, VA);
    rig.run(10);
    assert_eq!(rig.csr(MCAUSE), Exception::InstructionPageFault.code());
    assert_eq!(rig.csr(MTVAL), VA);
    assert_eq!(rig.csr(MEPC), VA);
}

#[test]
fn a_chain_into_a_remapped_page_is_cut_by_sfence_vma() {
    // VA (PAGE_A) jumps to VA + 0x1000 (PAGE_B) and back, a cross-page chain
    // in both directions. On the third pass PAGE_A remaps VA + 0x1000 to
    // PAGE_C and executes sfence.vma: from then on the jump must reach
    // PAGE_C's code, not the chained block translated from PAGE_B.
    const PAGE_C: u64 = RAM + 0x2_2000;
    let mut rig = sv39_rig(&[jalr(0, 1, 0)]);
    rig.write_u64(L0 + 8, pte(PAGE_B, RWX_AD));
    rig.load(
        PAGE_A,
        &[
            addi(13, 13, 1),     // VA+0: pass counter
            bne(13, 14, 12),     // VA+4: not the third pass: skip the remap
            store(3, 4, 3, 8),   // VA+8: L0[1] = pte(PAGE_C)
            0x1200_0073,         // VA+12: sfence.vma x0, x0
            jal(0, 0x1000 - 16), // VA+16: to VA + 0x1000
        ],
    );
    rig.load(PAGE_B, &[addi(11, 11, 1), jal(0, -0x1004)]);
    rig.load(PAGE_C, &[addi(12, 12, 1), jal(0, -0x1004)]);
    rig.cpu.set_xreg(1, VA);
    rig.cpu.set_xreg(3, L0);
    rig.cpu.set_xreg(4, pte(PAGE_C, RWX_AD));
    rig.cpu.set_xreg(14, 3);
    rig.run(300);
    let passes = rig.x(13);
    assert!(passes > 10, "ran {passes} passes");
    assert_eq!(rig.x(11), 2, "PAGE_B ran only before the remap");
    let c = rig.x(12);
    assert!(
        c + 2 == passes || c + 3 == passes,
        "PAGE_C ran after: {c} of {passes}"
    );
    assert!(rig.cpu.stats().blocks_chained >= 2);
}
