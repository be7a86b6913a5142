//! Decoding of 32-bit instructions: RV64IMAFD, Zfh, the bit-manipulation
//! extensions, Zicond, Zicbo*, Zicsr, Zifencei and the privileged ones.

use super::{Insn, Op};

/// Bits `hi..=lo` of `x`, shifted down.
#[inline(always)]
pub(super) const fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

#[inline(always)]
pub(super) const fn rd(x: u32) -> u8 {
    bits(x, 11, 7) as u8
}

#[inline(always)]
pub(super) const fn rs1(x: u32) -> u8 {
    bits(x, 19, 15) as u8
}

#[inline(always)]
pub(super) const fn rs2(x: u32) -> u8 {
    bits(x, 24, 20) as u8
}

#[inline(always)]
pub(super) const fn funct3(x: u32) -> u32 {
    bits(x, 14, 12)
}

#[inline(always)]
const fn funct7(x: u32) -> u32 {
    x >> 25
}

/// I-type immediate: `inst[31:20]`, sign-extended.
#[inline(always)]
pub(super) const fn imm_i(x: u32) -> i32 {
    (x as i32) >> 20
}

/// S-type immediate: `inst[31:25] | inst[11:7]`, sign-extended.
#[inline(always)]
pub(super) const fn imm_s(x: u32) -> i32 {
    ((x as i32) >> 25 << 5) | bits(x, 11, 7) as i32
}

/// B-type immediate: `imm[12|10:5]` in `inst[31:25]`, `imm[4:1|11]` in
/// `inst[11:7]`, sign-extended, bit 0 zero.
#[inline(always)]
pub(super) const fn imm_b(x: u32) -> i32 {
    ((x as i32) >> 31 << 12)
        | (bits(x, 7, 7) << 11) as i32
        | (bits(x, 30, 25) << 5) as i32
        | (bits(x, 11, 8) << 1) as i32
}

/// U-type immediate: `inst[31:12] << 12`.
#[inline(always)]
pub(super) const fn imm_u(x: u32) -> i32 {
    (x & 0xffff_f000) as i32
}

/// J-type immediate: `imm[20|10:1|11|19:12]` in `inst[31:12]`,
/// sign-extended, bit 0 zero.
#[inline(always)]
pub(super) const fn imm_j(x: u32) -> i32 {
    ((x as i32) >> 31 << 20)
        | (bits(x, 19, 12) << 12) as i32
        | (bits(x, 20, 20) << 11) as i32
        | (bits(x, 30, 21) << 1) as i32
}

/// Decode a 32-bit instruction (`x & 3 == 3`); `None` if illegal.
pub(super) fn decode_base(x: u32) -> Option<Insn> {
    let (d, s1, s2, f3) = (rd(x), rs1(x), rs2(x), funct3(x));
    let insn = match bits(x, 6, 2) {
        // LOAD
        0b00000 => {
            const LOADS: [Option<Op>; 8] = [
                Some(Op::Lb),
                Some(Op::Lh),
                Some(Op::Lw),
                Some(Op::Ld),
                Some(Op::Lbu),
                Some(Op::Lhu),
                Some(Op::Lwu),
                None,
            ];
            Insn::new(LOADS[f3 as usize]?, d, s1, 0, imm_i(x))
        }
        // MISC-MEM. Reserved fields (rd, rs1, and fm for FENCE) are ignored,
        // as the base ISA requires and as QEMU and Spike do.
        0b00011 => {
            let op = match f3 {
                0 => Op::Fence,
                1 => Op::FenceI,
                // Zicbom/Zicboz: the operation is in imm[11:0], rd is 0.
                2 if d == 0 => match bits(x, 31, 20) {
                    0 => Op::CboInval,
                    1 => Op::CboClean,
                    2 => Op::CboFlush,
                    4 => Op::CboZero,
                    _ => return None,
                },
                _ => return None,
            };
            if op.is_cbo() {
                return Some(Insn::new(op, 0, s1, 0, 0));
            }
            Insn::new(op, d, s1, 0, bits(x, 31, 20) as i32)
        }
        // OP-IMM
        0b00100 => {
            let imm = imm_i(x);
            let shamt = bits(x, 25, 20) as i32;
            let unary = |op| Some(Insn::new(op, d, s1, 0, 0));
            match (f3, bits(x, 31, 26)) {
                (0, _) => Insn::new(Op::Addi, d, s1, 0, imm),
                (1, 0b000000) => Insn::new(Op::Slli, d, s1, 0, shamt),
                (1, 0b001010) => Insn::new(Op::Bseti, d, s1, 0, shamt),
                (1, 0b010010) => Insn::new(Op::Bclri, d, s1, 0, shamt),
                (1, 0b011010) => Insn::new(Op::Binvi, d, s1, 0, shamt),
                (1, 0b011000) => match bits(x, 25, 20) {
                    0 => unary(Op::Clz)?,
                    1 => unary(Op::Ctz)?,
                    2 => unary(Op::Cpop)?,
                    4 => unary(Op::SextB)?,
                    5 => unary(Op::SextH)?,
                    _ => return None,
                },
                (2, _) => Insn::new(Op::Slti, d, s1, 0, imm),
                (3, _) => Insn::new(Op::Sltiu, d, s1, 0, imm),
                (4, _) => Insn::new(Op::Xori, d, s1, 0, imm),
                (5, 0b000000) => Insn::new(Op::Srli, d, s1, 0, shamt),
                (5, 0b010000) => Insn::new(Op::Srai, d, s1, 0, shamt),
                (5, 0b010010) => Insn::new(Op::Bexti, d, s1, 0, shamt),
                (5, 0b011000) => Insn::new(Op::Rori, d, s1, 0, shamt),
                (5, _) => match bits(x, 31, 20) {
                    0x287 => unary(Op::OrcB)?,
                    0x6b8 => unary(Op::Rev8)?,
                    0x687 => unary(Op::Brev8)?,
                    _ => return None,
                },
                (6, _) => Insn::new(Op::Ori, d, s1, 0, imm),
                (7, _) => Insn::new(Op::Andi, d, s1, 0, imm),
                _ => return None,
            }
        }
        // AUIPC
        0b00101 => Insn::new(Op::Auipc, d, 0, 0, imm_u(x)),
        // OP-IMM-32
        0b00110 => {
            let shamt = bits(x, 24, 20) as i32;
            match (f3, funct7(x)) {
                (0, _) => Insn::new(Op::Addiw, d, s1, 0, imm_i(x)),
                (1, 0) => Insn::new(Op::Slliw, d, s1, 0, shamt),
                // slli.uw has a 6-bit shift amount: funct6 = 000010.
                (1, 0b0000100 | 0b0000101) => {
                    Insn::new(Op::SlliUw, d, s1, 0, bits(x, 25, 20) as i32)
                }
                (1, 0b0110000) => match s2 {
                    0 => Insn::new(Op::Clzw, d, s1, 0, 0),
                    1 => Insn::new(Op::Ctzw, d, s1, 0, 0),
                    2 => Insn::new(Op::Cpopw, d, s1, 0, 0),
                    _ => return None,
                },
                (5, 0) => Insn::new(Op::Srliw, d, s1, 0, shamt),
                (5, 0b0100000) => Insn::new(Op::Sraiw, d, s1, 0, shamt),
                (5, 0b0110000) => Insn::new(Op::Roriw, d, s1, 0, shamt),
                _ => return None,
            }
        }
        // STORE
        0b01000 => {
            const STORES: [Option<Op>; 8] = [
                Some(Op::Sb),
                Some(Op::Sh),
                Some(Op::Sw),
                Some(Op::Sd),
                None,
                None,
                None,
                None,
            ];
            Insn::new(STORES[f3 as usize]?, 0, s1, s2, imm_s(x))
        }
        // AMO
        0b01011 => Insn::new(decode_amo(x)?, d, s1, s2, bits(x, 26, 25) as i32),
        // OP
        0b01100 => Insn::new(decode_op(f3, funct7(x))?, d, s1, s2, 0),
        // LUI
        0b01101 => Insn::new(Op::Lui, d, 0, 0, imm_u(x)),
        // OP-32. zext.h is packw with rs2 = x0 (the same result).
        0b01110 => match decode_op32(f3, funct7(x))? {
            Op::Packw if s2 == 0 => Insn::new(Op::ZextH, d, s1, 0, 0),
            op => Insn::new(op, d, s1, s2, 0),
        },
        // LOAD-FP, STORE-FP, the fused multiply-adds and OP-FP.
        0b00001 | 0b01001 | 0b10000..=0b10011 | 0b10100 => super::float::decode_float(x)?,
        // BRANCH
        0b11000 => {
            const BRANCHES: [Option<Op>; 8] = [
                Some(Op::Beq),
                Some(Op::Bne),
                None,
                None,
                Some(Op::Blt),
                Some(Op::Bge),
                Some(Op::Bltu),
                Some(Op::Bgeu),
            ];
            Insn::new(BRANCHES[f3 as usize]?, 0, s1, s2, imm_b(x))
        }
        // JALR
        0b11001 if f3 == 0 => Insn::new(Op::Jalr, d, s1, 0, imm_i(x)),
        // JAL
        0b11011 => Insn::new(Op::Jal, d, 0, 0, imm_j(x)),
        // SYSTEM
        0b11100 => decode_system(x)?,
        _ => return None,
    };
    Some(insn)
}

/// OP (register-register) major opcode: RV64I and M.
fn decode_op(f3: u32, f7: u32) -> Option<Op> {
    const BASE: [Op; 8] = [
        Op::Add,
        Op::Sll,
        Op::Slt,
        Op::Sltu,
        Op::Xor,
        Op::Srl,
        Op::Or,
        Op::And,
    ];
    const MULDIV: [Op; 8] = [
        Op::Mul,
        Op::Mulh,
        Op::Mulhsu,
        Op::Mulhu,
        Op::Div,
        Op::Divu,
        Op::Rem,
        Op::Remu,
    ];
    use Op::*;
    Some(match (f7, f3) {
        (0b0000000, _) => BASE[f3 as usize],
        (0b0000001, _) => MULDIV[f3 as usize],
        (0b0100000, 0) => Sub,
        (0b0100000, 5) => Sra,
        (0b0100000, 7) => Andn,
        (0b0100000, 6) => Orn,
        (0b0100000, 4) => Xnor,
        (0b0000100, 4) => Pack,
        (0b0000100, 7) => Packh,
        (0b0000101, 1) => Clmul,
        (0b0000101, 2) => Clmulr,
        (0b0000101, 3) => Clmulh,
        (0b0000101, 4) => Min,
        (0b0000101, 5) => Minu,
        (0b0000101, 6) => Max,
        (0b0000101, 7) => Maxu,
        (0b0000111, 5) => CzeroEqz,
        (0b0000111, 7) => CzeroNez,
        (0b0010000, 2) => Sh1add,
        (0b0010000, 4) => Sh2add,
        (0b0010000, 6) => Sh3add,
        (0b0010100, 1) => Bset,
        (0b0010100, 2) => Xperm4,
        (0b0010100, 4) => Xperm8,
        (0b0100100, 1) => Bclr,
        (0b0100100, 5) => Bext,
        (0b0110100, 1) => Binv,
        (0b0110000, 1) => Rol,
        (0b0110000, 5) => Ror,
        _ => return None,
    })
}

/// OP-32 major opcode: the RV64 word forms of OP.
fn decode_op32(f3: u32, f7: u32) -> Option<Op> {
    match (f7, f3) {
        (0b0000000, 0) => Some(Op::Addw),
        (0b0000000, 1) => Some(Op::Sllw),
        (0b0000000, 5) => Some(Op::Srlw),
        (0b0100000, 0) => Some(Op::Subw),
        (0b0100000, 5) => Some(Op::Sraw),
        (0b0000001, 0) => Some(Op::Mulw),
        (0b0000001, 4) => Some(Op::Divw),
        (0b0000001, 5) => Some(Op::Divuw),
        (0b0000001, 6) => Some(Op::Remw),
        (0b0000001, 7) => Some(Op::Remuw),
        (0b0000100, 0) => Some(Op::AddUw),
        (0b0000100, 4) => Some(Op::Packw),
        (0b0010000, 2) => Some(Op::Sh1addUw),
        (0b0010000, 4) => Some(Op::Sh2addUw),
        (0b0010000, 6) => Some(Op::Sh3addUw),
        (0b0110000, 1) => Some(Op::Rolw),
        (0b0110000, 5) => Some(Op::Rorw),
        _ => None,
    }
}

/// AMO major opcode: LR, SC and the AMOs, word (funct3 = 2) or doubleword
/// (funct3 = 3). LR requires `rs2 = 0`.
fn decode_amo(x: u32) -> Option<Op> {
    use Op::*;
    let word = match funct3(x) {
        2 => true,
        3 => false,
        _ => return None,
    };
    let pick = |w: Op, d: Op| if word { w } else { d };
    Some(match bits(x, 31, 27) {
        0b00010 if rs2(x) == 0 => pick(LrW, LrD),
        0b00011 => pick(ScW, ScD),
        0b00001 => pick(AmoswapW, AmoswapD),
        0b00000 => pick(AmoaddW, AmoaddD),
        0b00100 => pick(AmoxorW, AmoxorD),
        0b01100 => pick(AmoandW, AmoandD),
        0b01000 => pick(AmoorW, AmoorD),
        0b10000 => pick(AmominW, AmominD),
        0b10100 => pick(AmomaxW, AmomaxD),
        0b11000 => pick(AmominuW, AmominuD),
        0b11100 => pick(AmomaxuW, AmomaxuD),
        _ => return None,
    })
}

/// SYSTEM major opcode: Zicsr, environment calls and the privileged
/// instructions. The non-CSR instructions have fixed encodings apart from
/// the `rs1`/`rs2` of `sfence.vma`.
fn decode_system(x: u32) -> Option<Insn> {
    let (d, s1) = (rd(x), rs1(x));
    let csr = bits(x, 31, 20) as i32;
    let insn = match funct3(x) {
        0 => match x {
            0x0000_0073 => Insn::new(Op::Ecall, 0, 0, 0, 0),
            0x0010_0073 => Insn::new(Op::Ebreak, 0, 0, 0, 0),
            0x1020_0073 => Insn::new(Op::Sret, 0, 0, 0, 0),
            0x3020_0073 => Insn::new(Op::Mret, 0, 0, 0, 0),
            0x1050_0073 => Insn::new(Op::Wfi, 0, 0, 0, 0),
            _ if x & 0xfe00_7fff == 0x1200_0073 => Insn::new(Op::SfenceVma, 0, s1, rs2(x), 0),
            _ => return None,
        },
        1 => Insn::new(Op::Csrrw, d, s1, 0, csr),
        2 => Insn::new(Op::Csrrs, d, s1, 0, csr),
        3 => Insn::new(Op::Csrrc, d, s1, 0, csr),
        5 => Insn::new(Op::Csrrwi, d, s1, 0, csr),
        6 => Insn::new(Op::Csrrsi, d, s1, 0, csr),
        7 => Insn::new(Op::Csrrci, d, s1, 0, csr),
        _ => return None,
    };
    Some(insn)
}

#[cfg(test)]
mod tests {
    use super::super::{Form, decode};
    use super::*;

    fn d(x: u32) -> Insn {
        decode(x).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn i_type_immediates() {
        assert_eq!(d(0x0015_0513), Insn::new(Op::Addi, 10, 10, 0, 1));
        assert_eq!(d(0xfff5_4513), Insn::new(Op::Xori, 10, 10, 0, -1));
        assert_eq!(d(0x8005_0513).imm, -2048); // addi a0, a0, -2048
        assert_eq!(d(0x7ff5_0513).imm, 2047);
        assert_eq!(d(0x0081_3503), Insn::new(Op::Ld, 10, 2, 0, 8));
        assert_eq!(d(0xff85_8567), Insn::new(Op::Jalr, 10, 11, 0, -8));
    }

    #[test]
    fn s_type_immediates() {
        assert_eq!(d(0x00a1_3423), Insn::new(Op::Sd, 0, 2, 10, 8));
        // sw a1, -4(a0): imm = 0xffc -> [11:5] = 0x7f, [4:0] = 0x1c
        assert_eq!(d(0xfeb5_2e23), Insn::new(Op::Sw, 0, 10, 11, -4));
        // sb a1, 2047(a0)
        assert_eq!(d(0x7eb5_0fa3).imm, 2047);
        // sh a1, -2048(a0)
        assert_eq!(d(0x80b5_1023).imm, -2048);
    }

    #[test]
    fn b_type_immediates() {
        assert_eq!(d(0x00b5_0463), Insn::new(Op::Beq, 0, 10, 11, 8));
        assert_eq!(d(0xfe05_08e3), Insn::new(Op::Beq, 0, 10, 0, -16));
        // Extremes: +4094 and -4096.
        assert_eq!(d(0x7eb5_0fe3).imm, 4094);
        assert_eq!(d(0x80b5_0063).imm, -4096);
        // Bit 11 comes from inst[7].
        assert_eq!(d(0x00b5_00e3).imm, 2048);
        assert_eq!(d(0x00b5_7063).op, Op::Bgeu);
        assert!(decode(0x00b5_2063).is_err()); // funct3 = 2
    }

    #[test]
    fn u_and_j_type_immediates() {
        assert_eq!(d(0x1234_5537), Insn::new(Op::Lui, 10, 0, 0, 0x1234_5000));
        assert_eq!(d(0xffff_f537).imm, -4096);
        assert_eq!(d(0x8000_0517), Insn::new(Op::Auipc, 10, 0, 0, i32::MIN));
        assert_eq!(d(0x0100_00ef), Insn::new(Op::Jal, 1, 0, 0, 16));
        assert_eq!(d(0xfe1f_f0ef).imm, -32);
        // Extremes: +1 MiB - 2 and -1 MiB; bit 11 from inst[20].
        assert_eq!(d(0x7fff_f06f).imm, (1 << 20) - 2);
        assert_eq!(d(0x8000_006f).imm, -(1 << 20));
        assert_eq!(d(0x0010_006f).imm, 2048);
    }

    #[test]
    fn shifts() {
        assert_eq!(d(0x03f5_1513), Insn::new(Op::Slli, 10, 10, 0, 63));
        assert_eq!(d(0x4015_d513), Insn::new(Op::Srai, 10, 11, 0, 1));
        assert_eq!(d(0x43f5_d513).imm, 63);
        assert!(decode(0x0405_1513).is_err()); // funct6 = 1
        assert_eq!(d(0x4015_551b), Insn::new(Op::Sraiw, 10, 10, 0, 1));
        assert!(decode(0x0205_151b).is_err()); // slliw shamt[5]
        assert!(decode(0x4205_551b).is_err()); // sraiw shamt[5]
        assert!(decode(0x4015_151b).is_err()); // slliw with funct7 0100000
    }

    #[test]
    fn register_ops() {
        assert_eq!(d(0x40b5_0533), Insn::new(Op::Sub, 10, 10, 11, 0));
        assert_eq!(d(0x02b5_4533).op, Op::Div);
        assert_eq!(d(0x02b5_7533).op, Op::Remu);
        assert_eq!(d(0x40b5_053b).op, Op::Subw);
        assert_eq!(d(0x02b5_553b).op, Op::Divuw);
        assert!(decode(0x02b5_153b).is_err()); // no mulhw
        assert!(decode(0x40b5_1533).is_err()); // sll with funct7 0100000
    }

    #[test]
    fn atomics() {
        assert_eq!(d(0x1405_a52f), Insn::new(Op::LrW, 10, 11, 0, 2));
        assert!(decode(0x1055_a52f).is_err()); // lr with rs2 != 0
        assert_eq!(d(0x18b5_352f), Insn::new(Op::ScD, 10, 10, 11, 0));
        assert_eq!(d(0xe2b5_a52f), Insn::new(Op::AmomaxuW, 10, 11, 11, 1));
        assert!(decode(0x00b5_c52f).is_err()); // funct3 = 4
        assert!(decode(0x28b5_a52f).is_err()); // funct5 = 00101
    }

    #[test]
    fn fences() {
        assert_eq!(d(0x0ff0_000f), Insn::new(Op::Fence, 0, 0, 0, 0xff));
        assert_eq!(d(0x8330_000f).imm, 0x833);
        // Reserved fields are ignored, as QEMU and Spike do.
        assert_eq!(d(0x0ff5_050f), Insn::new(Op::Fence, 10, 10, 0, 0xff));
        assert_eq!(d(0x0000_100f).op, Op::FenceI);
        assert_eq!(d(0x0000_200f), Insn::new(Op::CboInval, 0, 0, 0, 0));
        assert!(decode(0x0000_300f).is_err());
        assert!(decode(0x0000_2f0f).is_err()); // cbo with rd != 0
    }

    #[test]
    fn system() {
        assert_eq!(d(0x0000_0073).op, Op::Ecall);
        assert_eq!(d(0x0010_0073).op, Op::Ebreak);
        assert_eq!(d(0x3020_0073).op, Op::Mret);
        assert_eq!(d(0x1020_0073).op, Op::Sret);
        assert_eq!(d(0x1050_0073).op, Op::Wfi);
        assert_eq!(d(0x12b5_0073), Insn::new(Op::SfenceVma, 0, 10, 11, 0));
        for bad in [
            0x0010_0573,
            0x0000_8073,
            0x1030_0073,
            0x3050_0073,
            0x12b5_0573,
        ] {
            assert!(decode(bad).is_err(), "{bad:#x}");
        }
        assert!(decode(0x3000_4573).is_err()); // funct3 = 4
    }

    #[test]
    fn csrs() {
        assert_eq!(d(0x3000_2573), Insn::new(Op::Csrrs, 10, 0, 0, 0x300));
        assert_eq!(d(0xfff5_9573), Insn::new(Op::Csrrw, 10, 11, 0, 4095));
        assert_eq!(d(0x305f_f073), Insn::new(Op::Csrrci, 0, 31, 0, 0x305));
        assert_eq!(d(0xc000_2573).form, Form::Standard);
    }

    #[test]
    fn illegal_opcodes() {
        assert!(decode(0x0000_0007).is_err()); // LOAD-FP funct3 = 0
        assert!(decode(0x0600_0053).is_err()); // OP-FP fmt = Q
        assert!(decode(0x0000_001f).is_err()); // 48-bit prefix
        assert!(decode(0x0000_7003).is_err()); // load funct3 = 7
        assert!(decode(0x0000_4023).is_err()); // store funct3 = 4
        assert!(decode(0x0000_1067).is_err()); // jalr funct3 = 1
    }
}
