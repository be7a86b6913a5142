//! Loads, stores, misaligned accesses, AMOs and LR/SC.

use super::asm::*;
use super::*;
use crate::csr::addr::*;
use crate::privilege::Exception;

const DATA: u64 = RAM + 0x4000;

#[test]
fn loads_and_stores_of_every_size() {
    let mut rig = Rig::new();
    rig.program(&[
        store(3, 2, 1, 0),  // sd x2, 0(x1)
        load(0, 10, 1, 7),  // lb  (0x80) -> sign-extended
        load(4, 11, 1, 7),  // lbu
        load(1, 12, 1, 6),  // lh  0x8081
        load(5, 13, 1, 6),  // lhu
        load(2, 14, 1, 4),  // lw  0x80818283
        load(6, 15, 1, 4),  // lwu
        load(3, 16, 1, 0),  // ld
        store(0, 2, 1, 8),  // sb
        store(1, 2, 1, 16), // sh
        store(2, 2, 1, 24), // sw
        SPIN,
    ]);
    rig.cpu.set_xreg(1, DATA);
    rig.cpu.set_xreg(2, 0x8081_8283_8485_8687);
    rig.run(50);
    assert_eq!(rig.x(10), 0xffff_ffff_ffff_ff80);
    assert_eq!(rig.x(11), 0x80);
    assert_eq!(rig.x(12), 0xffff_ffff_ffff_8081);
    assert_eq!(rig.x(13), 0x8081);
    assert_eq!(rig.x(14), 0xffff_ffff_8081_8283);
    assert_eq!(rig.x(15), 0x8081_8283);
    assert_eq!(rig.x(16), 0x8081_8283_8485_8687);
    assert_eq!(rig.read_u64(DATA + 8), 0x87);
    assert_eq!(rig.read_u64(DATA + 16), 0x8687);
    assert_eq!(rig.read_u64(DATA + 24), 0x8485_8687);
}

#[test]
fn misaligned_ram_accesses_do_not_trap() {
    let mut rig = Rig::new();
    let edge = RAM + 0x5000 - 3; // crosses a page
    rig.write_u64(RAM + 0x5000 - 8, 0x0706_0504_0302_0100);
    rig.write_u64(RAM + 0x5000, 0x0f0e_0d0c_0b0a_0908);
    rig.program(&[
        load(3, 10, 1, 0), // ld across the page boundary
        load(2, 11, 2, 0), // lw misaligned inside a page
        store(3, 3, 1, 0), // sd across the page boundary
        load(3, 12, 1, 0),
        SPIN,
    ]);
    rig.cpu.set_xreg(1, edge);
    rig.cpu.set_xreg(2, RAM + 0x5000 - 7);
    rig.cpu.set_xreg(3, 0x1122_3344_5566_7788);
    rig.run(10);
    assert_eq!(rig.x(10), 0x0c0b_0a09_0807_0605);
    assert_eq!(rig.x(11), 0x0403_0201);
    assert_eq!(rig.x(12), 0x1122_3344_5566_7788);
    assert_eq!(rig.cpu.stats().exceptions, 0);
}

#[test]
fn amos_and_word_sign_extension() {
    let mut rig = Rig::new();
    rig.write_u64(DATA, 0x0000_0000_7fff_ffff);
    rig.write_u64(DATA + 8, 5);
    rig.program(&[
        amo(0, false, 10, 1, 3),  // amoadd.w: old 0x7fffffff, new 0x80000000
        load(2, 11, 1, 0),        // lw -> sign-extended 0x80000000
        amo(1, false, 12, 1, 0),  // amoswap.w x12 <- 0x80000000 (sext), mem <- 0
        amo(16, true, 13, 2, 4),  // amomin.d: min(5, -2) = -2
        amo(28, true, 14, 2, 3),  // amomaxu.d: maxu(-2, 1) = -2
        amo(24, true, 15, 2, 3),  // amominu.d: minu(-2, 1) = 1
        amo(4, true, 16, 2, 3),   // amoxor.d: 1 ^ 1 = 0
        amo(8, true, 17, 2, 4),   // amoor.d: 0 | -2
        amo(12, true, 18, 2, 5),  // amoand.d: -2 & 0xff
        amo(20, false, 19, 2, 4), // amomax.w: max(0xfe, -2) = 0xfe
        SPIN,
    ]);
    rig.cpu.set_xreg(1, DATA);
    rig.cpu.set_xreg(2, DATA + 8);
    rig.cpu.set_xreg(3, 1);
    rig.cpu.set_xreg(4, (-2i64) as u64);
    rig.cpu.set_xreg(5, 0xff);
    rig.run(20);
    assert_eq!(rig.x(10), 0x7fff_ffff);
    assert_eq!(rig.x(11), 0xffff_ffff_8000_0000);
    assert_eq!(rig.x(12), 0xffff_ffff_8000_0000);
    assert_eq!(rig.read_u64(DATA) & 0xffff_ffff, 0);
    assert_eq!(rig.x(13), 5);
    assert_eq!(rig.x(14), (-2i64) as u64);
    assert_eq!(rig.x(15), (-2i64) as u64);
    assert_eq!(rig.x(16), 1);
    assert_eq!(rig.x(17), 0);
    assert_eq!(rig.x(18), (-2i64) as u64);
    assert_eq!(rig.x(19), 0xfe);
    assert_eq!(rig.read_u64(DATA + 8), 0xfe);
}

#[test]
fn lr_sc_reservation_rules() {
    let mut rig = Rig::new();
    rig.write_u64(DATA, 10);
    rig.program(&[
        amo(3, true, 10, 1, 3), // sc.d without reservation: fails (1)
        amo(2, true, 11, 1, 0), // lr.d
        amo(3, true, 12, 2, 3), // sc.d to another address: fails, clears reservation
        amo(3, true, 13, 1, 3), // sc.d: reservation gone, fails
        amo(2, true, 14, 1, 0), // lr.d
        amo(3, true, 15, 1, 3), // sc.d: succeeds (0)
        amo(3, true, 16, 1, 3), // sc.d again: fails
        SPIN,
    ]);
    rig.cpu.set_xreg(1, DATA);
    rig.cpu.set_xreg(2, DATA + 8);
    rig.cpu.set_xreg(3, 99);
    rig.run(20);
    assert_eq!(rig.x(10), 1);
    assert_eq!(rig.x(11), 10);
    assert_eq!(rig.x(12), 1);
    assert_eq!(rig.x(13), 1);
    assert_eq!(rig.x(15), 0);
    assert_eq!(rig.x(16), 1);
    assert_eq!(rig.read_u64(DATA), 99);
    assert_eq!(rig.read_u64(DATA + 8), 0);
}

#[test]
fn reservation_is_cleared_by_traps() {
    let mut rig = Rig::new();
    rig.write_u64(DATA, 1);
    rig.program(&[amo(2, true, 11, 1, 0), ECALL]);
    rig.load(HANDLER, &[amo(3, true, 12, 1, 0), SPIN]);
    rig.cpu.set_xreg(1, DATA);
    rig.run(10);
    assert_eq!(rig.x(12), 1, "sc after a trap fails");
}

fn expect_trap(words: &[u32], regs: &[(usize, u64)], cause: Exception, tval: u64, epc: u64) {
    let mut rig = Rig::new();
    rig.program(words);
    for &(r, v) in regs {
        rig.cpu.set_xreg(r, v);
    }
    rig.run(20);
    assert_eq!(rig.csr(MCAUSE), cause.code(), "cause");
    assert_eq!(rig.csr(MTVAL), tval, "tval");
    assert_eq!(rig.csr(MEPC), epc, "epc");
    assert_eq!(rig.cpu.pc(), HANDLER);
}

#[test]
fn misaligned_atomics_trap() {
    let a = DATA + 4;
    expect_trap(
        &[NOP, amo(0, true, 5, 1, 0)],
        &[(1, a)],
        Exception::StoreMisaligned,
        a,
        RAM + 4,
    );
    expect_trap(
        &[amo(2, true, 5, 1, 0)],
        &[(1, a)],
        Exception::LoadMisaligned,
        a,
        RAM,
    );
    expect_trap(
        &[amo(3, false, 5, 1, 0)],
        &[(1, a + 1)],
        Exception::StoreMisaligned,
        a + 1,
        RAM,
    );
}

#[test]
fn unmapped_data_accesses_are_access_faults() {
    expect_trap(
        &[NOP, NOP, load(3, 5, 1, 8)],
        &[(1, 0x4000_0000)],
        Exception::LoadAccessFault,
        0x4000_0008,
        RAM + 8,
    );
    expect_trap(
        &[store(2, 5, 1, 0)],
        &[(1, 0x4000_0000)],
        Exception::StoreAccessFault,
        0x4000_0000,
        RAM,
    );
    expect_trap(
        &[amo(1, false, 5, 1, 0)],
        &[(1, 0x4000_0000)],
        Exception::StoreAccessFault,
        0x4000_0000,
        RAM,
    );
}

#[test]
fn sc_fails_when_another_agent_changed_the_word() {
    let mut rig = Rig::new();
    rig.write_u64(DATA, 10);
    rig.program(&[amo(2, true, 11, 1, 0), amo(3, true, 12, 1, 3), SPIN]);
    rig.cpu.set_xreg(1, DATA);
    rig.cpu.set_xreg(3, 99);
    rig.run(1); // lr.d
    // Another hart (or a device) stores to the reserved word between LR and SC.
    rig.write_u64(DATA, 11);
    rig.run(5);
    assert_eq!(rig.x(12), 1, "sc must fail");
    assert_eq!(rig.read_u64(DATA), 11);
}
