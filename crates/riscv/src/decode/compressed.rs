//! Decoding of 16-bit compressed instructions (RV64C, with the D loads and
//! stores), each expanded to its base instruction.

use super::{Form, Insn, Op};

/// Bit `n` of `x`, in place at bit `to` of the result.
#[inline(always)]
const fn bit(x: u32, n: u32, to: u32) -> u32 {
    ((x >> n) & 1) << to
}

/// Bits `hi..=lo` of `x`, shifted down.
#[inline(always)]
const fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Sign-extend the low `width` bits of `v`.
#[inline(always)]
const fn sext(v: u32, width: u32) -> i32 {
    ((v << (32 - width)) as i32) >> (32 - width)
}

/// Full register number from a 3-bit `rd'`/`rs1'`/`rs2'` field (x8..x15).
#[inline(always)]
const fn creg(x: u32, lo: u32) -> u8 {
    (bits(x, lo + 2, lo) + 8) as u8
}

/// `imm[5] = inst[12]`, `imm[4:0] = inst[6:2]`, sign-extended (CI format).
#[inline(always)]
pub(super) const fn imm_ci(x: u32) -> i32 {
    sext(bit(x, 12, 5) | bits(x, 6, 2), 6)
}

/// The 6-bit shift amount of c.slli / c.srli / c.srai.
#[inline(always)]
const fn shamt(x: u32) -> i32 {
    (bit(x, 12, 5) | bits(x, 6, 2)) as i32
}

/// c.addi4spn: `nzuimm[5:4|9:6|2|3]` in `inst[12:5]`.
#[inline(always)]
pub(super) const fn imm_addi4spn(x: u32) -> i32 {
    (bits(x, 12, 11) << 4 | bits(x, 10, 7) << 6 | bit(x, 6, 2) | bit(x, 5, 3)) as i32
}

/// c.lw / c.sw: `uimm[5:3]` in `inst[12:10]`, `uimm[2|6]` in `inst[6:5]`.
#[inline(always)]
pub(super) const fn imm_cl_w(x: u32) -> i32 {
    (bits(x, 12, 10) << 3 | bit(x, 6, 2) | bit(x, 5, 6)) as i32
}

/// c.ld / c.sd: `uimm[5:3]` in `inst[12:10]`, `uimm[7:6]` in `inst[6:5]`.
#[inline(always)]
pub(super) const fn imm_cl_d(x: u32) -> i32 {
    (bits(x, 12, 10) << 3 | bits(x, 6, 5) << 6) as i32
}

/// c.addi16sp: `nzimm[9]` in `inst[12]`, `nzimm[4|6|8:7|5]` in `inst[6:2]`.
#[inline(always)]
pub(super) const fn imm_addi16sp(x: u32) -> i32 {
    sext(
        bit(x, 12, 9) | bit(x, 6, 4) | bit(x, 5, 6) | bits(x, 4, 3) << 7 | bit(x, 2, 5),
        10,
    )
}

/// c.j: `imm[11|4|9:8|10|6|7|3:1|5]` in `inst[12:2]`.
#[inline(always)]
pub(super) const fn imm_cj(x: u32) -> i32 {
    sext(
        bit(x, 12, 11)
            | bit(x, 11, 4)
            | bits(x, 10, 9) << 8
            | bit(x, 8, 10)
            | bit(x, 7, 6)
            | bit(x, 6, 7)
            | bits(x, 5, 3) << 1
            | bit(x, 2, 5),
        12,
    )
}

/// c.beqz / c.bnez: `imm[8|4:3]` in `inst[12:10]`, `imm[7:6|2:1|5]` in
/// `inst[6:2]`.
#[inline(always)]
pub(super) const fn imm_cb(x: u32) -> i32 {
    sext(
        bit(x, 12, 8)
            | bits(x, 11, 10) << 3
            | bits(x, 6, 5) << 6
            | bits(x, 4, 3) << 1
            | bit(x, 2, 5),
        9,
    )
}

/// c.lwsp: `uimm[5]` in `inst[12]`, `uimm[4:2|7:6]` in `inst[6:2]`.
#[inline(always)]
pub(super) const fn imm_lwsp(x: u32) -> i32 {
    (bit(x, 12, 5) | bits(x, 6, 4) << 2 | bits(x, 3, 2) << 6) as i32
}

/// c.ldsp: `uimm[5]` in `inst[12]`, `uimm[4:3|8:6]` in `inst[6:2]`.
#[inline(always)]
pub(super) const fn imm_ldsp(x: u32) -> i32 {
    (bit(x, 12, 5) | bits(x, 6, 5) << 3 | bits(x, 4, 2) << 6) as i32
}

/// c.swsp: `uimm[5:2|7:6]` in `inst[12:7]`.
#[inline(always)]
pub(super) const fn imm_swsp(x: u32) -> i32 {
    (bits(x, 12, 9) << 2 | bits(x, 8, 7) << 6) as i32
}

/// c.sdsp: `uimm[5:3|8:6]` in `inst[12:7]`.
#[inline(always)]
pub(super) const fn imm_sdsp(x: u32) -> i32 {
    (bits(x, 12, 10) << 3 | bits(x, 9, 7) << 6) as i32
}

/// Decode a 16-bit parcel (`parcel & 3 != 3`); `None` if illegal or
/// reserved.
pub(super) fn decode_compressed(parcel: u16) -> Option<Insn> {
    let x = parcel as u32;
    let funct3 = bits(x, 15, 13);
    // Full-width register fields (CR/CI/CSS formats).
    let r = bits(x, 11, 7) as u8;
    let r2 = bits(x, 6, 2) as u8;
    // Compressed register fields (CIW/CL/CS/CA/CB formats).
    let rp_hi = creg(x, 7);
    let rp_lo = creg(x, 2);
    let c = Insn::compressed;
    let insn = match (x & 3, funct3) {
        // Quadrant 0.
        (0, 0b000) => {
            let imm = imm_addi4spn(x);
            if imm == 0 {
                return None; // includes the all-zero parcel
            }
            c(Form::CAddi4spn, Op::Addi, rp_lo, 2, 0, imm)
        }
        (0, 0b010) => c(Form::CLw, Op::Lw, rp_lo, rp_hi, 0, imm_cl_w(x)),
        (0, 0b011) => c(Form::CLd, Op::Ld, rp_lo, rp_hi, 0, imm_cl_d(x)),
        (0, 0b110) => c(Form::CSw, Op::Sw, 0, rp_hi, rp_lo, imm_cl_w(x)),
        (0, 0b111) => c(Form::CSd, Op::Sd, 0, rp_hi, rp_lo, imm_cl_d(x)),
        (0, 0b001) => c(Form::CFld, Op::Fld, rp_lo, rp_hi, 0, imm_cl_d(x)),
        (0, 0b101) => c(Form::CFsd, Op::Fsd, 0, rp_hi, rp_lo, imm_cl_d(x)),
        // 100 is reserved.
        (0, _) => return None,

        // Quadrant 1.
        (1, 0b000) if r == 0 => c(Form::CNop, Op::Addi, 0, 0, 0, imm_ci(x)),
        (1, 0b000) => c(Form::CAddi, Op::Addi, r, r, 0, imm_ci(x)),
        (1, 0b001) if r == 0 => return None,
        (1, 0b001) => c(Form::CAddiw, Op::Addiw, r, r, 0, imm_ci(x)),
        (1, 0b010) => c(Form::CLi, Op::Addi, r, 0, 0, imm_ci(x)),
        (1, 0b011) if r == 2 => {
            let imm = imm_addi16sp(x);
            if imm == 0 {
                return None;
            }
            c(Form::CAddi16sp, Op::Addi, 2, 2, 0, imm)
        }
        (1, 0b011) => {
            let imm = imm_ci(x);
            if imm == 0 {
                return None;
            }
            c(Form::CLui, Op::Lui, r, 0, 0, imm << 12)
        }
        (1, 0b100) => match (bits(x, 11, 10), bit(x, 12, 0), bits(x, 6, 5)) {
            (0b00, _, _) => c(Form::CSrli, Op::Srli, rp_hi, rp_hi, 0, shamt(x)),
            (0b01, _, _) => c(Form::CSrai, Op::Srai, rp_hi, rp_hi, 0, shamt(x)),
            (0b10, _, _) => c(Form::CAndi, Op::Andi, rp_hi, rp_hi, 0, imm_ci(x)),
            (_, 0, 0b00) => c(Form::CSub, Op::Sub, rp_hi, rp_hi, rp_lo, 0),
            (_, 0, 0b01) => c(Form::CXor, Op::Xor, rp_hi, rp_hi, rp_lo, 0),
            (_, 0, 0b10) => c(Form::COr, Op::Or, rp_hi, rp_hi, rp_lo, 0),
            (_, 0, _) => c(Form::CAnd, Op::And, rp_hi, rp_hi, rp_lo, 0),
            (_, _, 0b00) => c(Form::CSubw, Op::Subw, rp_hi, rp_hi, rp_lo, 0),
            (_, _, 0b01) => c(Form::CAddw, Op::Addw, rp_hi, rp_hi, rp_lo, 0),
            _ => return None, // reserved
        },
        (1, 0b101) => c(Form::CJ, Op::Jal, 0, 0, 0, imm_cj(x)),
        (1, 0b110) => c(Form::CBeqz, Op::Beq, 0, rp_hi, 0, imm_cb(x)),
        (1, 0b111) => c(Form::CBnez, Op::Bne, 0, rp_hi, 0, imm_cb(x)),

        // Quadrant 2.
        (2, 0b000) => c(Form::CSlli, Op::Slli, r, r, 0, shamt(x)),
        (2, 0b001) => c(Form::CFldsp, Op::Fld, r, 2, 0, imm_ldsp(x)),
        (2, 0b101) => c(Form::CFsdsp, Op::Fsd, 0, 2, r2, imm_sdsp(x)),
        (2, 0b010) if r == 0 => return None,
        (2, 0b010) => c(Form::CLwsp, Op::Lw, r, 2, 0, imm_lwsp(x)),
        (2, 0b011) if r == 0 => return None,
        (2, 0b011) => c(Form::CLdsp, Op::Ld, r, 2, 0, imm_ldsp(x)),
        (2, 0b100) => match (bit(x, 12, 0), r, r2) {
            (0, 0, 0) => return None, // c.jr x0 is reserved
            (0, _, 0) => c(Form::CJr, Op::Jalr, 0, r, 0, 0),
            (0, _, _) => c(Form::CMv, Op::Add, r, 0, r2, 0),
            (_, 0, 0) => c(Form::CEbreak, Op::Ebreak, 0, 0, 0, 0),
            (_, _, 0) => c(Form::CJalr, Op::Jalr, 1, r, 0, 0),
            _ => c(Form::CAdd, Op::Add, r, r, r2, 0),
        },
        (2, 0b110) => c(Form::CSwsp, Op::Sw, 0, 2, r2, imm_swsp(x)),
        (2, 0b111) => c(Form::CSdsp, Op::Sd, 0, 2, r2, imm_sdsp(x)),
        _ => return None,
    };
    Some(insn)
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn d(x: u16) -> Insn {
        decode(x as u32).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ok(form: Form, op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Insn {
        Insn::compressed(form, op, rd, rs1, rs2, imm)
    }

    #[test]
    fn quadrant0() {
        // c.addi4spn a0, sp, 4 (nzuimm[2] = inst[6])
        assert_eq!(d(0x0048), ok(Form::CAddi4spn, Op::Addi, 10, 2, 0, 4));
        // c.addi4spn s0, sp, 1020 (all immediate bits set)
        assert_eq!(d(0x1fe0).imm, 1020);
        assert!(decode(0x0000).is_err());
        assert!(decode(0x0008).is_err()); // nzuimm = 0, rd' = a0
        // c.lw a0, 0(a0); c.lw a0, 124(a1) (all bits)
        assert_eq!(d(0x4108), ok(Form::CLw, Op::Lw, 10, 10, 0, 0));
        assert_eq!(d(0x5de8), ok(Form::CLw, Op::Lw, 10, 11, 0, 124));
        // c.ld a0, 248(a1)
        assert_eq!(d(0x7de8), ok(Form::CLd, Op::Ld, 10, 11, 0, 248));
        // c.sw a0, 64(a1): uimm[6] = inst[5]
        assert_eq!(d(0xc1a8), ok(Form::CSw, Op::Sw, 0, 11, 10, 64));
        // c.sd a0, 128(a1): uimm[7] = inst[6]
        assert_eq!(d(0xe1c8), ok(Form::CSd, Op::Sd, 0, 11, 10, 128));
        // c.fld fa0, 8(a1); c.fsd fa0, 8(a1)
        assert_eq!(d(0x2588), ok(Form::CFld, Op::Fld, 10, 11, 0, 8));
        assert_eq!(d(0xa588), ok(Form::CFsd, Op::Fsd, 0, 11, 10, 8));
        assert!(decode(0x8008).is_err()); // reserved
    }

    #[test]
    fn quadrant1_immediates() {
        assert_eq!(d(0x0001), ok(Form::CNop, Op::Addi, 0, 0, 0, 0));
        assert_eq!(d(0x0505), ok(Form::CAddi, Op::Addi, 10, 10, 0, 1));
        assert_eq!(d(0x157d), ok(Form::CAddi, Op::Addi, 10, 10, 0, -1));
        assert_eq!(d(0x1501).imm, -32); // c.addi a0, -32
        assert_eq!(d(0x2505), ok(Form::CAddiw, Op::Addiw, 10, 10, 0, 1));
        assert_eq!(d(0x2501), ok(Form::CAddiw, Op::Addiw, 10, 10, 0, 0));
        assert!(decode(0x2001).is_err()); // c.addiw x0
        assert_eq!(d(0x4515), ok(Form::CLi, Op::Addi, 10, 0, 0, 5));
        assert_eq!(d(0x557d).imm, -1); // c.li a0, -1
        assert_eq!(d(0x6105), ok(Form::CAddi16sp, Op::Addi, 2, 2, 0, 32));
        assert_eq!(d(0x7101).imm, -512);
        assert_eq!(d(0x617d).imm, 496); // all positive bits
        assert!(decode(0x6101).is_err()); // c.addi16sp 0
        assert_eq!(d(0x6505), ok(Form::CLui, Op::Lui, 10, 0, 0, 0x1000));
        assert_eq!(d(0x757d).imm, -4096); // c.lui a0, 0xfffff
        assert_eq!(d(0x7501).imm, -32 << 12);
        assert!(decode(0x6501).is_err()); // c.lui 0
    }

    #[test]
    fn quadrant1_alu() {
        assert_eq!(d(0x8105), ok(Form::CSrli, Op::Srli, 10, 10, 0, 1));
        assert_eq!(d(0x9105), ok(Form::CSrli, Op::Srli, 10, 10, 0, 33));
        assert_eq!(d(0x8505), ok(Form::CSrai, Op::Srai, 10, 10, 0, 1));
        assert_eq!(d(0x8905), ok(Form::CAndi, Op::Andi, 10, 10, 0, 1));
        assert_eq!(d(0x997d).imm, -1); // c.andi a0, -1
        assert_eq!(d(0x8d0d), ok(Form::CSub, Op::Sub, 10, 10, 11, 0));
        assert_eq!(d(0x8d2d), ok(Form::CXor, Op::Xor, 10, 10, 11, 0));
        assert_eq!(d(0x8d4d), ok(Form::COr, Op::Or, 10, 10, 11, 0));
        assert_eq!(d(0x8d6d), ok(Form::CAnd, Op::And, 10, 10, 11, 0));
        assert_eq!(d(0x9d0d), ok(Form::CSubw, Op::Subw, 10, 10, 11, 0));
        assert_eq!(d(0x9d2d), ok(Form::CAddw, Op::Addw, 10, 10, 11, 0));
        assert!(decode(0x9d4d).is_err());
        assert!(decode(0x9d6d).is_err());
    }

    #[test]
    fn quadrant1_control() {
        assert_eq!(d(0xa001), ok(Form::CJ, Op::Jal, 0, 0, 0, 0));
        assert_eq!(d(0xaffd).imm, 2046); // all positive bits
        assert_eq!(d(0xb001).imm, -2048);
        assert_eq!(d(0xa011).imm, 4); // imm[3:1] lsb
        assert_eq!(d(0xa801).imm, 16); // imm[4] = inst[11]
        assert_eq!(d(0xa005).imm, 32); // imm[5] = inst[2]
        assert_eq!(d(0xa081).imm, 64); // imm[6] = inst[7]
        assert_eq!(d(0xa041).imm, 128); // imm[7] = inst[6]
        assert_eq!(d(0xa101).imm, 1024); // imm[10] = inst[8]
        assert_eq!(d(0xa201).imm, 256); // imm[8] = inst[9]
        assert_eq!(d(0xc111), ok(Form::CBeqz, Op::Beq, 0, 10, 0, 4));
        assert_eq!(d(0xfd7d).imm, -2); // c.bnez a0, -2
        assert_eq!(d(0xed7d).imm, 254);
        assert_eq!(d(0xf101).imm, -256);
        assert_eq!(d(0xe105).imm, 32); // imm[5] = inst[2]
        assert_eq!(d(0xe141).imm, 128); // imm[7] = inst[6]
        assert_eq!(d(0xe509).imm, 10); // imm[2:1]=01, imm[3]=inst[10]
    }

    #[test]
    fn quadrant2() {
        assert_eq!(d(0x0506), ok(Form::CSlli, Op::Slli, 10, 10, 0, 1));
        assert_eq!(d(0x157e).imm, 63);
        assert_eq!(d(0x4522), ok(Form::CLwsp, Op::Lw, 10, 2, 0, 8));
        assert_eq!(d(0x557e).imm, 252);
        assert!(decode(0x4002).is_err());
        assert_eq!(d(0x6522), ok(Form::CLdsp, Op::Ld, 10, 2, 0, 8));
        assert_eq!(d(0x757e).imm, 504);
        assert!(decode(0x6002).is_err());
        assert_eq!(d(0x8082), ok(Form::CJr, Op::Jalr, 0, 1, 0, 0));
        assert!(decode(0x8002).is_err());
        assert_eq!(d(0x852e), ok(Form::CMv, Op::Add, 10, 0, 11, 0));
        assert_eq!(d(0x9002), ok(Form::CEbreak, Op::Ebreak, 0, 0, 0, 0));
        assert_eq!(d(0x9502), ok(Form::CJalr, Op::Jalr, 1, 10, 0, 0));
        assert_eq!(d(0x952e), ok(Form::CAdd, Op::Add, 10, 10, 11, 0));
        assert_eq!(d(0xc02a), ok(Form::CSwsp, Op::Sw, 0, 2, 10, 0));
        assert_eq!(d(0xdfaa).imm, 252);
        assert_eq!(d(0xe02a), ok(Form::CSdsp, Op::Sd, 0, 2, 10, 0));
        assert_eq!(d(0xffaa).imm, 504);
        // c.fldsp f0, 0(sp) (rd = 0 is f0, legal); c.fsdsp fa0, 8(sp)
        assert_eq!(d(0x2002), ok(Form::CFldsp, Op::Fld, 0, 2, 0, 0));
        assert_eq!(d(0xa42a), ok(Form::CFsdsp, Op::Fsd, 0, 2, 10, 8));
    }

    /// Encode a 32-bit instruction from decoded fields, for the expansion
    /// check below (covers only the ops compressed instructions expand to).
    fn encode(i: &Insn) -> u32 {
        let (rd, rs1, rs2) = (i.rd as u32, i.rs1 as u32, i.rs2 as u32);
        let imm = i.imm as u32;
        let itype = |f3: u32, op: u32| imm << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
        let stype =
            |f3: u32| (imm >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 31) << 7 | 0x23;
        let rtype =
            |f7: u32, f3: u32, op: u32| f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
        let btype = |f3: u32| {
            ((imm >> 12) & 1) << 31
                | ((imm >> 5) & 0x3f) << 25
                | rs2 << 20
                | rs1 << 15
                | f3 << 12
                | ((imm >> 1) & 0xf) << 8
                | ((imm >> 11) & 1) << 7
                | 0x63
        };
        match i.op {
            Op::Addi => itype(0, 0x13),
            Op::Andi => itype(7, 0x13),
            Op::Slli => itype(1, 0x13),
            Op::Srli => itype(5, 0x13),
            Op::Srai => itype(5, 0x13) | 0x4000_0000,
            Op::Addiw => itype(0, 0x1b),
            Op::Lw => itype(2, 0x03),
            Op::Ld => itype(3, 0x03),
            Op::Jalr => itype(0, 0x67),
            Op::Sw => stype(2),
            Op::Sd => stype(3),
            Op::Fld => itype(3, 0x07),
            Op::Fsd => stype(3) ^ 0x23 ^ 0x27,
            Op::Add => rtype(0, 0, 0x33),
            Op::Sub => rtype(0x20, 0, 0x33),
            Op::Xor => rtype(0, 4, 0x33),
            Op::Or => rtype(0, 6, 0x33),
            Op::And => rtype(0, 7, 0x33),
            Op::Addw => rtype(0, 0, 0x3b),
            Op::Subw => rtype(0x20, 0, 0x3b),
            Op::Lui => (imm & 0xffff_f000) | rd << 7 | 0x37,
            Op::Beq => btype(0),
            Op::Bne => btype(1),
            Op::Jal => {
                ((imm >> 20) & 1) << 31
                    | ((imm >> 1) & 0x3ff) << 21
                    | ((imm >> 11) & 1) << 20
                    | ((imm >> 12) & 0xff) << 12
                    | rd << 7
                    | 0x6f
            }
            Op::Ebreak => 0x0010_0073,
            op => panic!("{op:?} is not a compressed expansion"),
        }
    }

    #[test]
    fn every_parcel_expands_to_its_base_instruction() {
        let mut legal = 0;
        for parcel in (0..=u16::MAX).filter(|p| p & 3 != 3) {
            let Ok(c) = decode(parcel as u32) else {
                continue;
            };
            legal += 1;
            assert_eq!(c.len, 2);
            assert!(c.form.is_compressed());
            let expanded = encode(&c);
            let base = decode(expanded).unwrap_or_else(|e| panic!("{parcel:#06x}: {e}"));
            assert_eq!(
                (base.op, base.rd, base.rs1, base.rs2, base.imm),
                (c.op, c.rd, c.rs1, c.rs2, c.imm),
                "{parcel:#06x} expands to {expanded:#010x}"
            );
        }
        // Of the 49,152 parcels, 2,409 are illegal (reserved, the RV32-only
        // c.flw/c.fsw family's slots, c.unimp); c.fld, c.fsd, c.fldsp and
        // c.fsdsp take 2,048 each.
        assert_eq!(legal, 46_743);
    }

    #[test]
    fn hints_are_legal() {
        assert_eq!(d(0x0005).form, Form::CNop); // c.nop 1
        assert_eq!(d(0x4005), ok(Form::CLi, Op::Addi, 0, 0, 0, 1)); // c.li x0, 1
        assert_eq!(d(0x6005).form, Form::CLui); // c.lui x0, 1
        assert_eq!(d(0x802e).form, Form::CMv); // c.mv x0, a1
        assert_eq!(d(0x0502).imm, 0); // c.slli a0, 0
    }
}
