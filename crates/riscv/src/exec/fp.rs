//! F, D and Zfh: the floating-point instructions other than the loads and
//! stores (which [`super::threaded`] runs with the TLB fast path).
//!
//! Values live in the 64-bit `f` registers NaN-boxed: a single or half
//! value is valid only with all bits above it set; any other pattern reads
//! as the canonical NaN. Results are written boxed. The arithmetic is
//! `ferrite_softfloat`, bit-exact with RISC-V's NaN rules; its flags accrue
//! into `fflags`. Every instruction needs `mstatus.FS` on (else it is
//! illegal) and sets FS to Dirty when it writes an `f` register or
//! `fflags`. A dynamic rounding mode with an invalid `frm` is illegal.

use ferrite_softfloat::{self as sf, DOUBLE, Flags, Format, HALF, IntKind, RoundingMode, SINGLE};

use crate::decode::{FpFormat, Insn, Op};
use crate::hart::Hart;

/// What an instruction computes, apart from its format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A fused multiply-add: (negate the product, negate the addend).
    Fma(bool, bool),
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    Sgnj,
    Sgnjn,
    Sgnjx,
    Min,
    Max,
    Eq,
    Lt,
    Le,
    Class,
    ToInt(IntKind),
    FromInt(IntKind),
    MoveToX,
    MoveFromX,
    /// A conversion from the given format to the instruction's.
    Convert(Format),
}

fn kind(op: Op) -> Option<Kind> {
    use Op::*;
    Some(match op {
        FmaddS | FmaddD | FmaddH => Kind::Fma(false, false),
        FmsubS | FmsubD | FmsubH => Kind::Fma(false, true),
        FnmsubS | FnmsubD | FnmsubH => Kind::Fma(true, false),
        FnmaddS | FnmaddD | FnmaddH => Kind::Fma(true, true),
        FaddS | FaddD | FaddH => Kind::Add,
        FsubS | FsubD | FsubH => Kind::Sub,
        FmulS | FmulD | FmulH => Kind::Mul,
        FdivS | FdivD | FdivH => Kind::Div,
        FsqrtS | FsqrtD | FsqrtH => Kind::Sqrt,
        FsgnjS | FsgnjD | FsgnjH => Kind::Sgnj,
        FsgnjnS | FsgnjnD | FsgnjnH => Kind::Sgnjn,
        FsgnjxS | FsgnjxD | FsgnjxH => Kind::Sgnjx,
        FminS | FminD | FminH => Kind::Min,
        FmaxS | FmaxD | FmaxH => Kind::Max,
        FeqS | FeqD | FeqH => Kind::Eq,
        FltS | FltD | FltH => Kind::Lt,
        FleS | FleD | FleH => Kind::Le,
        FclassS | FclassD | FclassH => Kind::Class,
        FcvtWS | FcvtWD | FcvtWH => Kind::ToInt(IntKind::I32),
        FcvtSW | FcvtDW | FcvtHW => Kind::FromInt(IntKind::I32),
        FcvtWuS | FcvtWuD | FcvtWuH => Kind::ToInt(IntKind::U32),
        FcvtSWu | FcvtDWu | FcvtHWu => Kind::FromInt(IntKind::U32),
        FcvtLS | FcvtLD | FcvtLH => Kind::ToInt(IntKind::I64),
        FcvtSL | FcvtDL | FcvtHL => Kind::FromInt(IntKind::I64),
        FcvtLuS | FcvtLuD | FcvtLuH => Kind::ToInt(IntKind::U64),
        FcvtSLu | FcvtDLu | FcvtHLu => Kind::FromInt(IntKind::U64),
        FmvXS | FmvXD | FmvXH => Kind::MoveToX,
        FmvSX | FmvDX | FmvHX => Kind::MoveFromX,
        FcvtSD | FcvtHD => Kind::Convert(DOUBLE),
        FcvtDS | FcvtHS => Kind::Convert(SINGLE),
        FcvtSH | FcvtDH => Kind::Convert(HALF),
        _ => return None,
    })
}

/// The soft-float format of `f`.
pub(crate) const fn format(f: FpFormat) -> Format {
    match f {
        FpFormat::Half => HALF,
        FpFormat::Single => SINGLE,
        FpFormat::Double => DOUBLE,
    }
}

/// The value of format `f` in register contents `raw`: itself if it is
/// properly NaN-boxed (or a double), the canonical NaN otherwise.
#[inline]
pub(crate) fn unbox(f: Format, raw: u64) -> u64 {
    if f.bits == 64 {
        return raw;
    }
    if raw | f.mask() == u64::MAX {
        raw & f.mask()
    } else {
        f.canonical_nan()
    }
}

/// Register contents for a value of format `f`: NaN-boxed.
#[inline]
pub(crate) fn boxed(f: Format, v: u64) -> u64 {
    v | !f.mask()
}

/// The rounding mode of an instruction's `rm` field, with 7 meaning `frm`;
/// `None` when that is invalid.
#[inline]
fn rounding_mode(rm: u8, frm: u8) -> Option<RoundingMode> {
    RoundingMode::from_bits(if rm == 7 { frm } else { rm })
}

/// Run the floating-point instruction `i` (not a load or store). Returns
/// false, changing nothing, when it is illegal here (FS off, invalid
/// dynamic rounding mode).
pub(crate) fn execute(h: &mut Hart, i: &Insn) -> bool {
    let (Some(k), Some(ff)) = (kind(i.op), i.op.fp_format()) else {
        return false;
    };
    if !h.csrs.fp_enabled() {
        return false;
    }
    let rm = if i.op.has_rm() {
        match rounding_mode(i.rm(), h.csrs.frm) {
            Some(rm) => rm,
            None => return false,
        }
    } else {
        RoundingMode::NearestEven
    };
    let f = format(ff);
    let (rd, rs1, rs2) = (usize::from(i.rd), usize::from(i.rs1), usize::from(i.rs2));
    let a = unbox(f, h.f[rs1]);
    let b = unbox(f, h.f[rs2]);
    let mut fl = Flags(h.csrs.fflags);
    let sign = f.sign_mask();
    let result = match k {
        Kind::Fma(neg_product, neg_addend) => {
            let c = unbox(f, h.f[usize::from(i.rs3)]);
            let a = if neg_product { a ^ sign } else { a };
            let c = if neg_addend { c ^ sign } else { c };
            sf::fma(f, a, b, c, rm, &mut fl)
        }
        Kind::Add => sf::add(f, a, b, rm, &mut fl),
        Kind::Sub => sf::sub(f, a, b, rm, &mut fl),
        Kind::Mul => sf::mul(f, a, b, rm, &mut fl),
        Kind::Div => sf::div(f, a, b, rm, &mut fl),
        Kind::Sqrt => sf::sqrt(f, a, rm, &mut fl),
        Kind::Sgnj => (a & !sign) | (b & sign),
        Kind::Sgnjn => (a & !sign) | (!b & sign),
        Kind::Sgnjx => a ^ (b & sign),
        Kind::Min => sf::min(f, a, b, &mut fl),
        Kind::Max => sf::max(f, a, b, &mut fl),
        Kind::Convert(from) => {
            let src = unbox(from, h.f[rs1]);
            sf::convert(from, f, src, rm, &mut fl)
        }
        Kind::FromInt(ik) => sf::from_int(f, h.x[rs1], ik, rm, &mut fl),
        Kind::MoveFromX => h.x[rs1] & f.mask(),
        // The rest write an integer register.
        Kind::Eq | Kind::Lt | Kind::Le | Kind::Class | Kind::ToInt(_) | Kind::MoveToX => {
            let v = match k {
                Kind::Eq => u64::from(sf::eq(f, a, b, &mut fl)),
                Kind::Lt => u64::from(sf::lt(f, a, b, &mut fl)),
                Kind::Le => u64::from(sf::le(f, a, b, &mut fl)),
                Kind::Class => sf::classify(f, a),
                Kind::ToInt(ik) => sf::to_int(f, a, ik, rm, &mut fl),
                // fmv.x.* moves the raw low bits, sign-extended, without
                // unboxing.
                _ => sign_extend(h.f[rs1], f.bits),
            };
            h.x[rd] = v;
            if fl.0 != h.csrs.fflags {
                h.csrs.fflags = fl.0;
                h.csrs.set_fp_dirty();
            }
            return true;
        }
    };
    h.f[rd] = boxed(f, result);
    h.csrs.fflags = fl.0;
    h.csrs.set_fp_dirty();
    true
}

/// The low `bits` bits of `v`, sign-extended.
fn sign_extend(v: u64, bits: u32) -> u64 {
    let shift = 64 - bits;
    (((v << shift) as i64) >> shift) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::fields::{MSTATUS_FS, MSTATUS_FS_DIRTY};
    use crate::decode::decode;

    fn hart() -> Hart {
        let mut h = Hart::new(0, 0);
        h.csrs.mstatus |= 1 << 13; // FS = Initial
        h
    }

    fn run(h: &mut Hart, word: u32) -> bool {
        let i = decode(word).unwrap_or_else(|e| panic!("{e}"));
        execute(h, &i)
    }

    #[test]
    fn nan_boxing() {
        let mut h = hart();
        h.f[11] = 0xffff_ffff_3f80_0000; // 1.0f, boxed
        h.f[12] = 0x0000_0000_4000_0000; // 2.0f, not boxed: reads as NaN
        assert!(run(&mut h, 0x00c5_8553)); // fadd.s fa0, fa1, fa2, rne
        assert_eq!(h.f[10], 0xffff_ffff_7fc0_0000);
        assert_eq!(h.csrs.fflags, 0, "a quiet NaN operand raises nothing");
        h.f[12] = 0xffff_ffff_4000_0000;
        assert!(run(&mut h, 0x00c5_8553));
        assert_eq!(h.f[10], 0xffff_ffff_4040_0000);
        // fmv.x.w sign-extends the raw low bits, boxed or not.
        h.f[11] = 0x0000_0000_8000_0001;
        assert!(run(&mut h, 0xe005_8553));
        assert_eq!(h.x[10], 0xffff_ffff_8000_0001);
        // fmv.w.x boxes.
        h.x[11] = 0x1234_5678_3f80_0000;
        assert!(run(&mut h, 0xf005_8553));
        assert_eq!(h.f[10], 0xffff_ffff_3f80_0000);
    }

    #[test]
    fn fs_state_and_rounding_modes() {
        let mut h = hart();
        h.csrs.mstatus &= !MSTATUS_FS;
        assert!(!run(&mut h, 0x02c5_8553), "FS off: illegal");
        h.csrs.mstatus |= 1 << 13;
        // feq.d writing no flags leaves FS Initial.
        assert!(run(&mut h, 0xa2c5_a553));
        assert_eq!(h.csrs.mstatus & MSTATUS_FS, 1 << 13);
        assert!(run(&mut h, 0x02c5_8553)); // fadd.d rne
        assert_eq!(h.csrs.mstatus & MSTATUS_FS, MSTATUS_FS_DIRTY);
        h.csrs.frm = 5;
        assert!(!run(&mut h, 0x02c5_f553), "dynamic rm with frm = 5");
        h.csrs.frm = 1;
        h.f[11] = 1f64.to_bits();
        h.f[12] = 3f64.to_bits();
        assert!(run(&mut h, 0x1ac5_f553)); // fdiv.d fa0, fa1, fa2 (dyn = rtz)
        assert_eq!(h.f[10], 0x3fd5_5555_5555_5555);
        assert_eq!(h.csrs.fflags, Flags::INEXACT);
    }

    #[test]
    fn fused_negations() {
        let mut h = hart();
        h.f[11] = 2f64.to_bits();
        h.f[12] = 3f64.to_bits();
        h.f[13] = 1f64.to_bits();
        let cases = [
            (0x6ac5_8543, 7.0),  // fmadd.d:  2*3 + 1
            (0x6ac5_8547, 5.0),  // fmsub.d:  2*3 - 1
            (0x6ac5_854b, -5.0), // fnmsub.d: -(2*3) + 1
            (0x6ac5_854f, -7.0), // fnmadd.d: -(2*3) - 1
        ];
        for (w, want) in cases {
            assert!(run(&mut h, w));
            assert_eq!(f64::from_bits(h.f[10]), want, "{w:#x}");
        }
    }
}
