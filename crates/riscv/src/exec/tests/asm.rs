//! A tiny RV64 assembler for tests: each function returns one instruction word.

#![allow(dead_code)]

pub fn r(op: u32, f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn i(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn s(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}
pub fn b(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 12) & 1) << 31
        | ((imm >> 5) & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | ((imm >> 1) & 0xf) << 8
        | ((imm >> 11) & 1) << 7
        | 0x63
}
pub fn lui(rd: u32, imm: u32) -> u32 {
    (imm & 0xffff_f000) | rd << 7 | 0x37
}
pub fn auipc(rd: u32, imm: u32) -> u32 {
    (imm & 0xffff_f000) | rd << 7 | 0x17
}
pub fn jal(rd: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 20) & 1) << 31
        | ((imm >> 1) & 0x3ff) << 21
        | ((imm >> 11) & 1) << 20
        | ((imm >> 12) & 0xff) << 12
        | rd << 7
        | 0x6f
}
pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x67, 0, rd, rs1, imm)
}
pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 0, rd, rs1, imm)
}
pub fn addiw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x1b, 0, rd, rs1, imm)
}
pub fn sltiu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 3, rd, rs1, imm)
}
pub fn slli(rd: u32, rs1: u32, sh: i32) -> u32 {
    i(0x13, 1, rd, rs1, sh)
}
pub fn srai(rd: u32, rs1: u32, sh: i32) -> u32 {
    i(0x13, 5, rd, rs1, sh | 0x400)
}
pub fn sraiw(rd: u32, rs1: u32, sh: i32) -> u32 {
    i(0x1b, 5, rd, rs1, sh | 0x400)
}
pub fn add(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 0, 0, rd, rs1, rs2)
}
pub fn sub(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 0, 0x20, rd, rs1, rs2)
}
pub fn sltu(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 3, 0, rd, rs1, rs2)
}
pub fn sra(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, 5, 0x20, rd, rs1, rs2)
}
pub fn sllw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x3b, 1, 0, rd, rs1, rs2)
}
pub fn addw(rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x3b, 0, 0, rd, rs1, rs2)
}
/// M extension, 64-bit: f3 0 mul, 1 mulh, 2 mulhsu, 3 mulhu, 4 div, 5 divu, 6 rem, 7 remu.
pub fn m(f3: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, f3, 1, rd, rs1, rs2)
}
/// M extension, word: f3 0 mulw, 4 divw, 5 divuw, 6 remw, 7 remuw.
pub fn mw(f3: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x3b, f3, 1, rd, rs1, rs2)
}
/// Loads: f3 0 lb, 1 lh, 2 lw, 3 ld, 4 lbu, 5 lhu, 6 lwu.
pub fn load(f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, f3, rd, rs1, imm)
}
/// Stores: f3 0 sb, 1 sh, 2 sw, 3 sd.
pub fn store(f3: u32, rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(f3, rs1, rs2, imm)
}
pub fn beq(rs1: u32, rs2: u32, imm: i32) -> u32 {
    b(0, rs1, rs2, imm)
}
pub fn bne(rs1: u32, rs2: u32, imm: i32) -> u32 {
    b(1, rs1, rs2, imm)
}
pub fn blt(rs1: u32, rs2: u32, imm: i32) -> u32 {
    b(4, rs1, rs2, imm)
}
/// AMOs: funct5 (0 add, 1 swap, 2 lr, 3 sc, 4 xor, 8 or, 12 and, 16 min,
/// 20 max, 24 minu, 28 maxu); `d` for the doubleword form.
pub fn amo(funct5: u32, d: bool, rd: u32, rs1: u32, rs2: u32) -> u32 {
    funct5 << 27 | rs2 << 20 | rs1 << 15 | (if d { 3 } else { 2 }) << 12 | rd << 7 | 0x2f
}
/// CSR ops: f3 1 rw, 2 rs, 3 rc, 5 rwi, 6 rsi, 7 rci.
pub fn csr(f3: u32, rd: u32, csr: u32, rs1: u32) -> u32 {
    csr << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x73
}
pub const ECALL: u32 = 0x0000_0073;
pub const EBREAK: u32 = 0x0010_0073;
pub const MRET: u32 = 0x3020_0073;
pub const SRET: u32 = 0x1020_0073;
pub const WFI: u32 = 0x1050_0073;
pub const FENCE_I: u32 = 0x0000_100f;
pub const FENCE: u32 = 0x0ff0_000f;
pub const NOP: u32 = 0x0000_0013;
/// `j .`: an endless loop (one instruction per iteration).
pub const SPIN: u32 = 0x0000_006f;
