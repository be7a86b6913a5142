//! Decoding of the floating-point major opcodes (F, D, Zfh): LOAD-FP,
//! STORE-FP, MADD/MSUB/NMSUB/NMADD and OP-FP.

use super::base::{bits, funct3, imm_i, imm_s, rd, rs1, rs2};
use super::{Insn, Op};

/// The three formats, indexed by the `fmt` field (0 = S, 1 = D, 2 = H;
/// 3 = Q is not implemented).
#[derive(Clone, Copy)]
struct Ops {
    madd: Op,
    msub: Op,
    nmsub: Op,
    nmadd: Op,
    add: Op,
    sub: Op,
    mul: Op,
    div: Op,
    sqrt: Op,
    sgnj: [Op; 3],
    minmax: [Op; 2],
    /// `fcvt.<this>.<source>` by the source format (`None` for itself).
    from_fmt: [Option<Op>; 3],
    cmp: [Op; 3],
    fmv_x: Op,
    class: Op,
    to_int: [Op; 4],
    from_int: [Op; 4],
    fmv_f: Op,
}

const FORMATS: [Ops; 3] = {
    use Op::*;
    [
        Ops {
            madd: FmaddS,
            msub: FmsubS,
            nmsub: FnmsubS,
            nmadd: FnmaddS,
            add: FaddS,
            sub: FsubS,
            mul: FmulS,
            div: FdivS,
            sqrt: FsqrtS,
            sgnj: [FsgnjS, FsgnjnS, FsgnjxS],
            minmax: [FminS, FmaxS],
            from_fmt: [None, Some(FcvtSD), Some(FcvtSH)],
            cmp: [FleS, FltS, FeqS],
            fmv_x: FmvXS,
            class: FclassS,
            to_int: [FcvtWS, FcvtWuS, FcvtLS, FcvtLuS],
            from_int: [FcvtSW, FcvtSWu, FcvtSL, FcvtSLu],
            fmv_f: FmvSX,
        },
        Ops {
            madd: FmaddD,
            msub: FmsubD,
            nmsub: FnmsubD,
            nmadd: FnmaddD,
            add: FaddD,
            sub: FsubD,
            mul: FmulD,
            div: FdivD,
            sqrt: FsqrtD,
            sgnj: [FsgnjD, FsgnjnD, FsgnjxD],
            minmax: [FminD, FmaxD],
            from_fmt: [Some(FcvtDS), None, Some(FcvtDH)],
            cmp: [FleD, FltD, FeqD],
            fmv_x: FmvXD,
            class: FclassD,
            to_int: [FcvtWD, FcvtWuD, FcvtLD, FcvtLuD],
            from_int: [FcvtDW, FcvtDWu, FcvtDL, FcvtDLu],
            fmv_f: FmvDX,
        },
        Ops {
            madd: FmaddH,
            msub: FmsubH,
            nmsub: FnmsubH,
            nmadd: FnmaddH,
            add: FaddH,
            sub: FsubH,
            mul: FmulH,
            div: FdivH,
            sqrt: FsqrtH,
            sgnj: [FsgnjH, FsgnjnH, FsgnjxH],
            minmax: [FminH, FmaxH],
            from_fmt: [Some(FcvtHS), Some(FcvtHD), None],
            cmp: [FleH, FltH, FeqH],
            fmv_x: FmvXH,
            class: FclassH,
            to_int: [FcvtWH, FcvtWuH, FcvtLH, FcvtLuH],
            from_int: [FcvtHW, FcvtHWu, FcvtHL, FcvtHLu],
            fmv_f: FmvHX,
        },
    ]
};

/// A rounding-mode field that may be used: 0..=4 or 7 (dynamic). 5 and 6
/// are reserved, and an instruction with one is illegal.
fn valid_rm(rm: u32) -> Option<u8> {
    (rm <= 4 || rm == 7).then_some(rm as u8)
}

/// Decode one instruction of the floating-point major opcodes; `None` if
/// illegal.
pub(super) fn decode_float(x: u32) -> Option<Insn> {
    let (d, s1, s2, f3) = (rd(x), rs1(x), rs2(x), funct3(x));
    let major = bits(x, 6, 2);
    // Loads and stores: funct3 is the width.
    if major == 0b00001 || major == 0b01001 {
        let load = major == 0b00001;
        let op = match (f3, load) {
            (1, true) => Op::Flh,
            (2, true) => Op::Flw,
            (3, true) => Op::Fld,
            (1, false) => Op::Fsh,
            (2, false) => Op::Fsw,
            (3, false) => Op::Fsd,
            _ => return None,
        };
        return Some(if load {
            Insn::new(op, d, s1, 0, imm_i(x))
        } else {
            Insn::new(op, 0, s1, s2, imm_s(x))
        });
    }
    let fmt = bits(x, 26, 25) as usize;
    let ops = FORMATS.get(fmt)?;
    let rm = f3;
    if major != 0b10100 {
        // R4 format: rs3 in inst[31:27].
        let op = match major {
            0b10000 => ops.madd,
            0b10001 => ops.msub,
            0b10010 => ops.nmsub,
            _ => ops.nmadd,
        };
        let rs3 = bits(x, 31, 27) as u8;
        return Some(Insn::fp(op, d, s1, s2, rs3, valid_rm(rm)?));
    }
    let arith = |op| Some(Insn::fp(op, d, s1, s2, 0, valid_rm(rm)?));
    let unary = |op| Some(Insn::fp(op, d, s1, 0, 0, valid_rm(rm)?));
    let plain = |op| Some(Insn::fp(op, d, s1, s2, 0, 0));
    match bits(x, 31, 27) {
        0b00000 => arith(ops.add),
        0b00001 => arith(ops.sub),
        0b00010 => arith(ops.mul),
        0b00011 => arith(ops.div),
        0b01011 if s2 == 0 => unary(ops.sqrt),
        0b00100 => plain(*ops.sgnj.get(rm as usize)?),
        0b00101 => plain(*ops.minmax.get(rm as usize)?),
        0b01000 => unary(ops.from_fmt.get(usize::from(s2)).copied().flatten()?),
        0b10100 => plain(*ops.cmp.get(rm as usize)?),
        0b11100 if s2 == 0 => match rm {
            0 => Some(Insn::fp(ops.fmv_x, d, s1, 0, 0, 0)),
            1 => Some(Insn::fp(ops.class, d, s1, 0, 0, 0)),
            _ => None,
        },
        0b11000 => unary(*ops.to_int.get(usize::from(s2))?),
        0b11010 => unary(*ops.from_int.get(usize::from(s2))?),
        0b11110 if s2 == 0 && rm == 0 => Some(Insn::fp(ops.fmv_f, d, s1, 0, 0, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn d(x: u32) -> Insn {
        decode(x).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn loads_stores_and_arithmetic() {
        assert_eq!(d(0x0085_3507), Insn::new(Op::Fld, 10, 10, 0, 8)); // fld fa0, 8(a0)
        assert_eq!(d(0x00a5_2427), Insn::new(Op::Fsw, 0, 10, 10, 8)); // fsw fa0, 8(a0)
        // fadd.d fa0, fa1, fa2, dyn
        assert_eq!(d(0x02c5_f553), Insn::fp(Op::FaddD, 10, 11, 12, 0, 7));
        // fmadd.s fa0, fa1, fa2, fa3, rne: rs3 = 13
        assert_eq!(d(0x68c5_8543), Insn::fp(Op::FmaddS, 10, 11, 12, 13, 0));
        // fcvt.w.d a0, fa1, rtz
        assert_eq!(d(0xc205_9553), Insn::fp(Op::FcvtWD, 10, 11, 0, 0, 1));
        // fcvt.d.s fa0, fa1
        assert_eq!(d(0x4205_8553).op, Op::FcvtDS);
        // fmv.x.d a0, fa1; fclass.s a0, fa1; feq.h a0, fa1, fa2
        assert_eq!(d(0xe205_8553).op, Op::FmvXD);
        assert_eq!(d(0xe005_9553).op, Op::FclassS);
        assert_eq!(d(0xa4c5_a553).op, Op::FeqH);
    }

    #[test]
    fn reserved_encodings() {
        assert!(decode(0x02c5_d553).is_err()); // fadd.d with rm = 5
        assert!(decode(0x02c5_e553).is_err()); // rm = 6
        assert!(decode(0x5a15_8553).is_err()); // fsqrt.d with rs2 = 1
        assert!(decode(0x4005_8553).is_err()); // fcvt.s.s
        assert!(decode(0x22c5_b553).is_err()); // fsgnj.d funct3 = 3
        assert!(decode(0x0605_8553).is_err()); // fadd.q
        assert!(decode(0xe205_a553).is_err()); // fmv.x.d funct3 = 2
        assert!(decode(0xf215_8553).is_err()); // fmv.d.x with rs2 = 1
        assert!(decode(0x0000_4007).is_err()); // flq
    }
}
