//! Conversions between formats and to and from integers.

use crate::round::{rounds_up, shift_right};
use crate::{Flags, Format, RoundingMode, infinity, round, unpack, zero};

/// An integer type of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// Signed 32-bit (`w`).
    I32,
    /// Unsigned 32-bit (`wu`).
    U32,
    /// Signed 64-bit (`l`).
    I64,
    /// Unsigned 64-bit (`lu`).
    U64,
}

impl IntKind {
    /// The largest magnitude of a positive and of a negative result.
    const fn limits(self) -> (u128, u128) {
        match self {
            IntKind::I32 => (i32::MAX as u128, 1 << 31),
            IntKind::U32 => (u32::MAX as u128, 0),
            IntKind::I64 => (i64::MAX as u128, 1 << 63),
            IntKind::U64 => (u64::MAX as u128, 0),
        }
    }

    /// The 64-bit register value of the integer `neg ? -mag : mag` (in
    /// range): 32-bit results are sign-extended, as RV64 writes them.
    fn register(self, neg: bool, mag: u128) -> u64 {
        let v = if neg {
            (mag as u64).wrapping_neg()
        } else {
            mag as u64
        };
        match self {
            IntKind::I32 | IntKind::U32 => v as u32 as i32 as i64 as u64,
            IntKind::I64 | IntKind::U64 => v,
        }
    }
}

/// Convert `x` to an integer of kind `kind`, rounding under `rm`, as
/// RISC-V's `fcvt.{w,wu,l,lu}`: the result is the register value (32-bit
/// results sign-extended). A NaN, an infinity or a value out of range
/// raises invalid (and not inexact) and saturates: NaN and too-large
/// values give the largest integer, too-small values the smallest (0 for
/// the unsigned kinds). An in-range inexact result raises inexact.
pub fn to_int(f: Format, x: u64, kind: IntKind, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let x = x & f.mask();
    let (max_pos, max_neg) = kind.limits();
    let saturate = |neg: bool, flags: &mut Flags| {
        flags.raise(Flags::INVALID);
        if neg {
            kind.register(true, max_neg)
        } else {
            kind.register(false, max_pos)
        }
    };
    if f.is_nan(x) {
        return saturate(false, flags);
    }
    let neg = f.sign(x);
    if f.is_infinite(x) {
        return saturate(neg, flags);
    }
    if f.is_zero(x) {
        return 0;
    }
    let u = unpack(f, x);
    let lead = u.exp + (127 - u.sig.leading_zeros() as i32);
    if lead >= 64 {
        return saturate(neg, flags);
    }
    let (mut q, rest) = shift_right(u.sig, -u.exp);
    if rounds_up(rm, neg, q, rest) {
        q += 1;
    }
    let limit = if neg { max_neg } else { max_pos };
    if q > limit {
        return saturate(neg, flags);
    }
    if rest != crate::round::Rest::Exact {
        flags.raise(Flags::INEXACT);
    }
    kind.register(neg, q)
}

/// Convert the integer in the low bits of `v` (of kind `kind`: the low 32
/// bits for the 32-bit kinds) to format `f`, rounding under `rm`.
pub fn from_int(f: Format, v: u64, kind: IntKind, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let (neg, mag) = match kind {
        IntKind::I32 => {
            let s = v as i32;
            (s < 0, u128::from(s.unsigned_abs()))
        }
        IntKind::U32 => (false, u128::from(v as u32)),
        IntKind::I64 => {
            let s = v as i64;
            (s < 0, u128::from(s.unsigned_abs()))
        }
        IntKind::U64 => (false, u128::from(v)),
    };
    round(f, neg, 0, mag, rm, flags)
}

/// Convert `x` from format `from` to format `to`, rounding under `rm`. A
/// NaN gives `to`'s canonical NaN (invalid when it was signalling).
pub fn convert(from: Format, to: Format, x: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let x = x & from.mask();
    let sign = from.sign(x);
    if from.is_nan(x) {
        if from.is_signaling_nan(x) {
            flags.raise(Flags::INVALID);
        }
        return to.canonical_nan();
    }
    if from.is_infinite(x) {
        return infinity(to, sign);
    }
    if from.is_zero(x) {
        return zero(to, sign);
    }
    let u = unpack(from, x);
    round(to, sign, u.exp, u.sig, rm, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DOUBLE, HALF, SINGLE};

    const RNE: RoundingMode = RoundingMode::NearestEven;
    const RTZ: RoundingMode = RoundingMode::TowardZero;

    fn d(x: f64) -> u64 {
        x.to_bits()
    }

    fn cvt(x: f64, kind: IntKind, rm: RoundingMode) -> (u64, u8) {
        let mut fl = Flags::default();
        (to_int(DOUBLE, d(x), kind, rm, &mut fl), fl.0)
    }

    #[test]
    fn to_int_rounding_and_saturation() {
        assert_eq!(cvt(2.5, IntKind::I32, RNE), (2, Flags::INEXACT));
        assert_eq!(
            cvt(-2.5, IntKind::I64, RoundingMode::NearestMaxMagnitude),
            (-3i64 as u64, 1)
        );
        assert_eq!(cvt(-0.5, IntKind::U32, RTZ), (0, Flags::INEXACT));
        assert_eq!(cvt(-1.0, IntKind::U64, RTZ), (0, Flags::INVALID));
        assert_eq!(
            cvt(3e9, IntKind::I32, RTZ),
            (i32::MAX as u64, Flags::INVALID)
        );
        assert_eq!(
            cvt(-3e9, IntKind::I32, RTZ),
            (i32::MIN as i64 as u64, Flags::INVALID)
        );
        // 32-bit unsigned results are sign-extended into the register.
        assert_eq!(
            cvt(3e9, IntKind::U32, RTZ),
            (3_000_000_000u32 as i32 as i64 as u64, 0)
        );
        assert_eq!(cvt(f64::NAN, IntKind::U32, RTZ), (u64::MAX, Flags::INVALID));
        assert_eq!(
            cvt(f64::NAN, IntKind::I64, RTZ),
            (i64::MAX as u64, Flags::INVALID)
        );
        assert_eq!(
            cvt(f64::NEG_INFINITY, IntKind::I64, RTZ),
            (i64::MIN as u64, Flags::INVALID)
        );
        assert_eq!(
            cvt(i64::MIN as f64, IntKind::I64, RTZ),
            (i64::MIN as u64, 0)
        );
        assert_eq!(
            cvt(u64::MAX as f64, IntKind::U64, RTZ),
            (u64::MAX, Flags::INVALID)
        );
        // Rounding up past the limit is out of range.
        assert_eq!(
            cvt(4294967295.5, IntKind::U32, RoundingMode::Up),
            (u64::MAX, Flags::INVALID)
        );
    }

    #[test]
    fn from_int_rounds() {
        let mut fl = Flags::default();
        assert_eq!(
            from_int(SINGLE, 16_777_217, IntKind::I32, RNE, &mut fl),
            0x4b80_0000
        );
        assert_eq!(fl.0, Flags::INEXACT);
        assert_eq!(
            from_int(DOUBLE, u64::MAX, IntKind::I64, RNE, &mut fl),
            d(-1.0)
        );
        assert_eq!(
            from_int(DOUBLE, u64::MAX, IntKind::U64, RTZ, &mut fl),
            d(1.844_674_407_370_955e19)
        );
        assert_eq!(
            from_int(DOUBLE, 0xffff_ffff_0000_0000, IntKind::U32, RNE, &mut fl),
            0
        );
    }

    #[test]
    fn format_conversions() {
        let mut fl = Flags::default();
        assert_eq!(convert(SINGLE, DOUBLE, 0x3fc0_0000, RNE, &mut fl), d(1.5));
        assert_eq!(convert(DOUBLE, SINGLE, d(1e300), RNE, &mut fl), 0x7f80_0000);
        assert_eq!(fl.0, Flags::OVERFLOW | Flags::INEXACT);
        let mut fl = Flags::default();
        assert_eq!(
            convert(SINGLE, DOUBLE, 0x7f80_0001, RNE, &mut fl),
            DOUBLE.canonical_nan()
        );
        assert_eq!(fl.0, Flags::INVALID);
        assert_eq!(convert(DOUBLE, HALF, d(65520.0), RNE, &mut fl), 0x7c00);
        assert_eq!(convert(HALF, SINGLE, 0x3c00, RNE, &mut fl), 0x3f80_0000);
    }
}
