//! RV64 instruction encoders for the raw guests these tests run.
#![allow(dead_code)] // Each test file uses its own part of this.

pub const T0: u32 = 5;
pub const T1: u32 = 6;
pub const T2: u32 = 7;

pub fn lui(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x37
}
pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
}
pub fn slli(rd: u32, rs1: u32, shamt: u32) -> u32 {
    (shamt << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x13
}
pub fn store(width: u32, rs2: u32, rs1: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    (((imm >> 5) & 0x7f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (width << 12)
        | ((imm & 0x1f) << 7)
        | 0x23
}
pub fn csrrs(csr: u32, rs1: u32) -> u32 {
    (csr << 20) | (rs1 << 15) | (2 << 12) | 0x73
}
pub fn csrrw(csr: u32, rs1: u32) -> u32 {
    (csr << 20) | (rs1 << 15) | (1 << 12) | 0x73
}
pub const WFI: u32 = 0x1050_0073;
/// `jal x0, -4`: back to the instruction before.
pub const BACK: u32 = 0xffdf_f06f;

pub fn andi(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (7 << 12) | (rd << 7) | 0x13
}
pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (4 << 12) | (rd << 7) | 0x03
}
/// `beq rs1, x0, offset` (offset a multiple of 2 within ±4 KiB).
pub fn beqz(rs1: u32, offset: i32) -> u32 {
    let o = offset as u32;
    (((o >> 12) & 1) << 31)
        | (((o >> 5) & 0x3f) << 25)
        | (rs1 << 15)
        | (((o >> 1) & 0xf) << 8)
        | (((o >> 11) & 1) << 7)
        | 0x63
}
