//! ALU and M-extension edge cases through the whole executor.

use super::asm::*;
use super::*;

#[test]
fn alu_edge_cases() {
    let mut rig = Rig::new();
    rig.program(&[
        lui(5, 0x8000_0000), // x5 = 0xffff_ffff_8000_0000 (sign-extended)
        addiw(6, 5, -1),     // x6 = 0x7fff_ffff (32-bit wrap)
        sltiu(7, 0, -1),     // x7 = 1 (0 < 0xffff...ffff)
        srai(8, 5, 63),      // x8 = -1
        sraiw(9, 6, 31),     // x9 = 0
        add(0, 5, 5),        // write to x0 ignored
        sllw(10, 11, 12),    // (x11 << (x12 & 31)) sign-extended
        sra(13, 5, 14),      // shift amount masked to 6 bits
        sub(15, 0, 11),      // -x11
        sltu(16, 0, 15),     // x16 = (0 < -x11) = 1
        auipc(17, 0x1000),   // x17 = pc + 0x1000
        addw(18, 6, 7),      // 0x7fff_ffff + 1 wraps to 0xffff_ffff_8000_0000
        SPIN,
    ]);
    rig.cpu.set_xreg(11, 3);
    rig.cpu.set_xreg(12, 30 + 64);
    rig.cpu.set_xreg(14, 64 + 4);
    assert_eq!(rig.run(100), RunExit::BudgetExhausted);
    assert_eq!(rig.x(5), 0xffff_ffff_8000_0000);
    assert_eq!(rig.x(6), 0x7fff_ffff);
    assert_eq!(rig.x(7), 1);
    assert_eq!(rig.x(8), u64::MAX);
    assert_eq!(rig.x(9), 0);
    assert_eq!(rig.x(0), 0);
    assert_eq!(rig.x(10), 0xffff_ffff_c000_0000);
    assert_eq!(rig.x(13), 0xffff_ffff_f800_0000);
    assert_eq!(rig.x(15), (-3i64) as u64);
    assert_eq!(rig.x(16), 1);
    assert_eq!(rig.x(17), RAM + 40 + 0x1000);
    assert_eq!(rig.x(18), 0xffff_ffff_8000_0000);
}

#[test]
fn m_extension_rules() {
    let mut rig = Rig::new();
    let min = i64::MIN as u64;
    rig.program(&[
        m(4, 10, 1, 0),  // div x1 / 0 = -1
        m(5, 11, 1, 0),  // divu / 0 = all ones
        m(6, 12, 1, 0),  // rem / 0 = dividend
        m(7, 13, 1, 0),  // remu / 0 = dividend
        m(4, 14, 2, 3),  // MIN / -1 = MIN
        m(6, 15, 2, 3),  // MIN % -1 = 0
        mw(4, 16, 4, 3), // divw 0x8000_0000 / -1 = sext(MIN32)
        mw(6, 17, 4, 3), // remw = 0
        mw(5, 18, 1, 0), // divuw / 0 = all ones
        mw(7, 19, 4, 0), // remuw 0x8000_0000 % 0 = sext(0x8000_0000)
        m(1, 20, 3, 3),  // mulh(-1, -1) = 0
        m(3, 21, 3, 3),  // mulhu(-1, -1) = 0xffff...fffe
        m(2, 22, 3, 3),  // mulhsu(-1, 2^64-1) = -1
        mw(0, 23, 4, 4), // mulw: (0x8000_0000)^2 low 32 bits = 0
        m(0, 24, 1, 3),  // mul 7 * -1
        SPIN,
    ]);
    rig.cpu.set_xreg(1, 7);
    rig.cpu.set_xreg(2, min);
    rig.cpu.set_xreg(3, u64::MAX);
    rig.cpu.set_xreg(4, 0x8000_0000);
    rig.run(100);
    assert_eq!(rig.x(10), u64::MAX);
    assert_eq!(rig.x(11), u64::MAX);
    assert_eq!(rig.x(12), 7);
    assert_eq!(rig.x(13), 7);
    assert_eq!(rig.x(14), min);
    assert_eq!(rig.x(15), 0);
    assert_eq!(rig.x(16), 0xffff_ffff_8000_0000);
    assert_eq!(rig.x(17), 0);
    assert_eq!(rig.x(18), u64::MAX);
    assert_eq!(rig.x(19), 0xffff_ffff_8000_0000);
    assert_eq!(rig.x(20), 0);
    assert_eq!(rig.x(21), u64::MAX - 1);
    assert_eq!(rig.x(22), u64::MAX);
    assert_eq!(rig.x(23), 0);
    assert_eq!(rig.x(24), (-7i64) as u64);
}

/// x1 = 1000; loop: x2 += x1; x1 -= 1; bne x1, x0, loop; spin. Run to
/// the end of the loop, exactly.
fn sum_loop(rig: &mut Rig) {
    rig.program(&[
        addi(1, 0, 1000),
        add(2, 2, 1),
        addi(1, 1, -1),
        bne(1, 0, -8),
        SPIN,
    ]);
    assert_eq!(rig.run(1 + 3 * 1000), RunExit::BudgetExhausted);
    assert_eq!(rig.x(2), 500_500);
    assert_eq!(rig.x(1), 0);
    assert_eq!(
        rig.cpu.pc(),
        RAM + 16,
        "the budget stops exactly after the last bne"
    );
    assert_eq!(rig.cpu.stats().insns, 3001);
    assert_eq!(rig.clock.insns(), 3001);
}

#[test]
fn loops_chain_and_count_exactly() {
    let mut rig = Rig::new();
    sum_loop(&mut rig);
    let st = rig.cpu.stats();
    assert!(st.blocks_chained >= 1, "{st:?}");
    assert!(st.blocks_translated <= 4, "{st:?}");
}

#[test]
fn without_chaining_no_block_is_chained_and_the_result_is_the_same() {
    let mut rig = Rig::new();
    rig.cpu.set_chaining(false);
    sum_loop(&mut rig);
    let st = rig.cpu.stats();
    assert_eq!(st.blocks_chained, 0, "{st:?}");
    assert!(st.blocks_translated <= 4, "{st:?}");
}

#[test]
fn one_instruction_per_block() {
    let mut rig = Rig::with_config(crate::cpu::CpuConfig {
        one_insn_per_block: true,
        ..Default::default()
    });
    sum_loop(&mut rig);
    // addi, add, addi, bne: a block each (the spin is not reached).
    let st = rig.cpu.stats();
    assert_eq!(st.blocks_translated, 4, "{st:?}");
}

#[test]
fn budget_can_stop_inside_a_block() {
    let mut rig = Rig::new();
    rig.program(&[
        addi(1, 1, 1),
        addi(1, 1, 1),
        addi(1, 1, 1),
        addi(1, 1, 1),
        SPIN,
    ]);
    rig.run(2);
    assert_eq!((rig.x(1), rig.cpu.pc()), (2, RAM + 8));
    rig.run(1);
    assert_eq!((rig.x(1), rig.cpu.pc()), (3, RAM + 12));
    rig.run(10);
    assert_eq!((rig.x(1), rig.cpu.pc()), (4, RAM + 16));
}

#[test]
fn jal_jalr_link_and_clear_bit_zero() {
    let mut rig = Rig::new();
    rig.program(&[
        jal(1, 12), // -> RAM+12, x1 = RAM+4
        SPIN,
        SPIN,
        addi(5, 1, 0x11), // x5 = RAM + 4 + 0x11 (odd)
        jalr(6, 5, 0x0b), // target (RAM+0x20) & !1 = RAM + 0x20
        SPIN,
        SPIN,
        SPIN,
        addi(7, 0, 42), // RAM + 0x20
        SPIN,
    ]);
    rig.run(20);
    assert_eq!(rig.x(1), RAM + 4);
    assert_eq!(rig.x(6), RAM + 20);
    assert_eq!(rig.x(7), 42);
    assert_eq!(rig.cpu.pc(), RAM + 0x24);
}
