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
    // The flags this instruction raises (accrued into fflags at the end).
    let mut fl = Flags(0);
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
            // Raising a flag writes fflags (even one already set), which
            // dirties the FP state, as in Spike.
            if fl.0 != 0 {
                h.csrs.fflags |= fl.0;
                h.csrs.set_fp_dirty();
            }
            return true;
        }
    };
    h.f[rd] = boxed(f, result);
    h.csrs.fflags |= fl.0;
    h.csrs.set_fp_dirty();
    true
}

/// An operation the host FPU may compute ([`fast`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostOp {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    /// A fused multiply-add: (negate the product, negate the addend).
    Fma(bool, bool),
}

/// A host floating-point type the fast path computes in.
trait HostFloat: Copy + PartialEq + PartialOrd {
    const ZERO: Self;
    const MIN_NORMAL: Self;
    fn from_reg(raw: u64) -> Option<Self>;
    fn to_reg(self) -> u64;
    fn finite(self) -> bool;
    fn abs(self) -> Self;
    /// The host's correctly rounded result, or `None` where the host has
    /// no fast fused multiply-add.
    fn compute(op: HostOp, a: Self, b: Self, c: Self) -> Option<Self>;
}

/// A host fused multiply-add where one instruction does it: always on
/// aarch64, on x86_64 when the CPU has FMA3 (`$fma3` is `mul_add` compiled
/// with FMA3 enabled). Elsewhere `None`: the library's `fma` is a software
/// routine slower than the soft-float path.
macro_rules! host_fma {
    ($a:expr, $b:expr, $c:expr, $fma3:ident) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the function only needs the FMA3 instructions,
                // which the check above found on this CPU.
                Some(unsafe { $fma3($a, $b, $c) })
            } else {
                None
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            Some($a.mul_add($b, $c))
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let _ = ($a, $b, $c);
            None
        }
    }};
}

/// `a * b + c` with one rounding, as one `vfmadd` instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn fma3_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// `a * b + c` with one rounding, as one `vfmadd` instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn fma3_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

macro_rules! host_float {
    ($t:ty, $fma3:ident, $from_reg:expr, $to_reg:expr) => {
        impl HostFloat for $t {
            const ZERO: Self = 0.0;
            const MIN_NORMAL: Self = <$t>::MIN_POSITIVE;
            #[inline(always)]
            fn from_reg(raw: u64) -> Option<Self> {
                $from_reg(raw)
            }
            #[inline(always)]
            fn to_reg(self) -> u64 {
                $to_reg(self)
            }
            #[inline(always)]
            fn finite(self) -> bool {
                self.is_finite()
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn compute(op: HostOp, a: Self, b: Self, c: Self) -> Option<Self> {
                Some(match op {
                    HostOp::Add => a + b,
                    HostOp::Sub => a - b,
                    HostOp::Mul => a * b,
                    HostOp::Div => a / b,
                    HostOp::Sqrt => a.sqrt(),
                    HostOp::Fma(np, na) => {
                        let a = if np { -a } else { a };
                        let c = if na { -c } else { c };
                        return host_fma!(a, b, c, $fma3);
                    }
                })
            }
        }
    };
}

host_float!(
    f64,
    fma3_f64,
    |raw: u64| Some(f64::from_bits(raw)),
    |v: f64| v.to_bits()
);
host_float!(
    f32,
    fma3_f32,
    |raw: u64| (raw >> 32 == 0xffff_ffff).then(|| f32::from_bits(raw as u32)),
    |v: f32| u64::from(v.to_bits()) | 0xffff_ffff_0000_0000
);

/// Run `op` on the host FPU when that provably gives the soft-float's
/// result and flags (QEMU's "hardfloat" rule): `mstatus.FS` already Dirty
/// (the common state once a program computes), rounding to nearest even
/// (the host's mode), `fflags.NX` already set (so an inexact result adds
/// no flag), single operands properly boxed, and a result that is finite
/// and larger in magnitude than the smallest normal (so no overflow, no
/// tininess, and no invalid operation: those give infinities, NaNs or tiny
/// results), or a zero that no rounding produced (a sum, always exact when
/// it is zero; a product or quotient of a zero operand). NaN operands give
/// NaN results, so they always take the soft-float path. Otherwise returns
/// false, changing nothing, and the caller takes the soft-float path.
/// The tests below check that the two paths agree on random operands.
#[inline(always)]
pub(crate) fn fast(h: &mut Hart, i: &Insn, op: HostOp, f: FpFormat) -> bool {
    match f {
        FpFormat::Double => fast_in::<f64>(h, i, op),
        FpFormat::Single => fast_in::<f32>(h, i, op),
        FpFormat::Half => false,
    }
}

#[inline(always)]
fn fast_in<T: HostFloat>(h: &mut Hart, i: &Insn, op: HostOp) -> bool {
    let c = &h.csrs;
    let rm = if i.rm() == 7 { c.frm } else { i.rm() };
    // FS Dirty (so enabled, and nothing to record), NX accrued, RNE.
    if !c.fp_dirty() || c.fflags & Flags::INEXACT == 0 || rm != 0 {
        return false;
    }
    let fma = matches!(op, HostOp::Fma(..));
    let unary = op == HostOp::Sqrt;
    let operand = |r: u8, used: bool| {
        if used {
            T::from_reg(h.f[usize::from(r)])
        } else {
            Some(T::ZERO)
        }
    };
    let (Some(a), Some(b), Some(addend)) = (
        operand(i.rs1, true),
        operand(i.rs2, !unary),
        operand(i.rs3, fma),
    ) else {
        return false;
    };
    let Some(r) = T::compute(op, a, b, addend) else {
        return false;
    };
    let ok = if r == T::ZERO {
        match op {
            HostOp::Add | HostOp::Sub => true,
            HostOp::Mul => a == T::ZERO || b == T::ZERO,
            HostOp::Div | HostOp::Sqrt => a == T::ZERO,
            HostOp::Fma(..) => (a == T::ZERO || b == T::ZERO) && addend == T::ZERO,
        }
    } else {
        r.finite() && r.abs() > T::MIN_NORMAL
    };
    if ok {
        h.f[usize::from(i.rd)] = r.to_reg();
    }
    ok
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

    /// Bits of a double (or a single, in the low 32 bits) biased towards
    /// the fast path's edges: ordinary values, tiny and huge ones,
    /// subnormals, zeros, infinities and NaNs.
    fn operand(double: bool) -> proptest::strategy::BoxedStrategy<u64> {
        use proptest::prelude::*;
        let (frac, bias, exp_max) = if double {
            (52u32, 1023u64, 2047u64)
        } else {
            (23, 127, 255)
        };
        let sign = 1u64 << (frac + if double { 11 } else { 8 });
        let pack = move |(s, e, m): (bool, u64, u64)| {
            (if s { sign } else { 0 }) | e << frac | (m & ((1 << frac) - 1))
        };
        prop_oneof![
            any::<u64>().prop_map(move |x| if double { x } else { x & 0xffff_ffff }),
            (any::<bool>(), bias - 40..bias + 40, any::<u64>()).prop_map(pack),
            (any::<bool>(), 0u64..3, any::<u64>()).prop_map(pack),
            (any::<bool>(), exp_max - 2..=exp_max, 0u64..4).prop_map(pack),
        ]
        .boxed()
    }

    /// Whenever the host fast path answers, the soft-float gives the same
    /// register value and flags; and it answers often enough for that to
    /// mean something.
    #[test]
    fn fast_path_agrees_with_soft_float() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        // fadd fsub fmul fdiv fsqrt fmadd fmsub fnmsub fnmadd .d, rm = dyn.
        const D: [u32; 9] = [
            0x02c5_f553,
            0x0ac5_f553,
            0x12c5_f553,
            0x1ac5_f553,
            0x5a05_f553,
            0x6ac5_f543,
            0x6ac5_f547,
            0x6ac5_f54b,
            0x6ac5_f54f,
        ];
        const OPS: [HostOp; 9] = [
            HostOp::Add,
            HostOp::Sub,
            HostOp::Mul,
            HostOp::Div,
            HostOp::Sqrt,
            HostOp::Fma(false, false),
            HostOp::Fma(false, true),
            HostOp::Fma(true, false),
            HostOp::Fma(true, true),
        ];
        let cases = 20_000;
        let answered = std::cell::Cell::new(0u32);
        let strategy = (
            any::<bool>(),
            0usize..9,
            [operand(true), operand(true), operand(true)],
            [operand(false), operand(false), operand(false)],
        );
        let mut runner = TestRunner::new(Config::with_cases(cases));
        let result = runner.run(&strategy, |(double, which, d, s)| {
            // The single forms clear fmt bit 25.
            let word = if double {
                D[which]
            } else {
                D[which] & !(1 << 25)
            };
            let i = decode(word).unwrap_or_else(|e| panic!("{e}"));
            let mut h = Hart::new(0, 0);
            h.csrs.mstatus |= MSTATUS_FS_DIRTY;
            h.csrs.fflags = Flags::INEXACT;
            let regs = if double {
                d
            } else {
                s.map(|v| v | !0xffff_ffff)
            };
            h.f[11..14].copy_from_slice(&regs);
            let fmt = if double {
                FpFormat::Double
            } else {
                FpFormat::Single
            };
            let mut fast_h = h.clone();
            if fast(&mut fast_h, &i, OPS[which], fmt) {
                answered.set(answered.get() + 1);
                let mut soft_h = h.clone();
                prop_assert!(execute(&mut soft_h, &i));
                prop_assert_eq!(fast_h.f[10], soft_h.f[10], "{} on {:x?}", i.op.name(), regs);
                prop_assert_eq!(fast_h.csrs.fflags, soft_h.csrs.fflags);
                prop_assert_eq!(fast_h.csrs.mstatus, soft_h.csrs.mstatus);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        assert!(
            answered.get() > cases / 10,
            "the fast path answered only {} of {cases} cases",
            answered.get()
        );
    }

    #[test]
    fn fast_path_declines_what_it_cannot_prove() {
        let mut h = Hart::new(0, 0);
        h.csrs.mstatus |= MSTATUS_FS_DIRTY;
        let i = decode(0x02c5_f553).unwrap_or_else(|e| panic!("{e}")); // fadd.d dyn
        h.f[11] = 1f64.to_bits();
        h.f[12] = 3f64.to_bits();
        assert!(
            !fast(&mut h, &i, HostOp::Add, FpFormat::Double),
            "NX not yet accrued"
        );
        h.csrs.fflags = Flags::INEXACT;
        assert!(fast(&mut h, &i, HostOp::Add, FpFormat::Double));
        h.csrs.frm = 1;
        assert!(
            !fast(&mut h, &i, HostOp::Add, FpFormat::Double),
            "rounding towards zero"
        );
        h.csrs.frm = 0;
        h.f[12] = f64::MAX.to_bits();
        h.f[11] = f64::MAX.to_bits();
        assert!(!fast(&mut h, &i, HostOp::Add, FpFormat::Double), "overflow");
        h.f[11] = f64::MIN_POSITIVE.to_bits();
        h.f[12] = (-f64::MIN_POSITIVE * 0.5).to_bits();
        assert!(
            !fast(&mut h, &i, HostOp::Add, FpFormat::Double),
            "a tiny result"
        );
    }
}
