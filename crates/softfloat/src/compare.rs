//! Comparisons, minimum/maximum and classification.

use crate::{Flags, Format};

/// A key that orders non-NaN values numerically, with −0 just below +0.
fn order_key(f: Format, x: u64) -> i128 {
    let mag = i128::from(x & f.mask() & !f.sign_mask());
    if f.sign(x) { -mag - 1 } else { mag }
}

/// `a == b`, a quiet comparison: invalid only for a signalling NaN
/// operand; false when either is a NaN; `+0 == -0`.
pub fn eq(f: Format, a: u64, b: u64, flags: &mut Flags) -> bool {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_nan(a) || f.is_nan(b) {
        if f.is_signaling_nan(a) || f.is_signaling_nan(b) {
            flags.raise(Flags::INVALID);
        }
        return false;
    }
    a == b || (f.is_zero(a) && f.is_zero(b))
}

/// `a < b`, a signalling comparison: invalid for any NaN operand.
pub fn lt(f: Format, a: u64, b: u64, flags: &mut Flags) -> bool {
    compare(f, a, b, flags).is_some_and(|o| o.is_lt())
}

/// `a <= b`, a signalling comparison: invalid for any NaN operand.
pub fn le(f: Format, a: u64, b: u64, flags: &mut Flags) -> bool {
    compare(f, a, b, flags).is_some_and(|o| o.is_le())
}

/// The numeric order of `a` and `b` (zeros equal), or `None` with invalid
/// raised when either is a NaN.
fn compare(f: Format, a: u64, b: u64, flags: &mut Flags) -> Option<std::cmp::Ordering> {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_nan(a) || f.is_nan(b) {
        flags.raise(Flags::INVALID);
        return None;
    }
    if f.is_zero(a) && f.is_zero(b) {
        return Some(std::cmp::Ordering::Equal);
    }
    Some(order_key(f, a).cmp(&order_key(f, b)))
}

/// The minimum (`want_max` false) or maximum of `a` and `b`.
fn min_max(f: Format, a: u64, b: u64, want_max: bool, flags: &mut Flags) -> u64 {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_signaling_nan(a) || f.is_signaling_nan(b) {
        flags.raise(Flags::INVALID);
    }
    match (f.is_nan(a), f.is_nan(b)) {
        (true, true) => f.canonical_nan(),
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            let a_first = order_key(f, a) < order_key(f, b);
            if a_first != want_max { a } else { b }
        }
    }
}

/// IEEE 754-2019 minimumNumber, as RISC-V's `fmin`: a single NaN operand
/// is ignored, two give the canonical NaN, a signalling NaN raises invalid,
/// and −0 is less than +0.
pub fn min(f: Format, a: u64, b: u64, flags: &mut Flags) -> u64 {
    min_max(f, a, b, false, flags)
}

/// IEEE 754-2019 maximumNumber, as RISC-V's `fmax` (see [`min`]).
pub fn max(f: Format, a: u64, b: u64, flags: &mut Flags) -> u64 {
    min_max(f, a, b, true, flags)
}

/// RISC-V's `fclass` mask: exactly one of bits 0..=9 set, for −∞,
/// negative normal, negative subnormal, −0, +0, positive subnormal,
/// positive normal, +∞, signalling NaN and quiet NaN.
pub fn classify(f: Format, x: u64) -> u64 {
    let x = x & f.mask();
    let negative = f.sign(x);
    let field = (x >> f.frac_bits) & f.max_exp_field();
    let bit = if f.is_nan(x) {
        if f.is_signaling_nan(x) { 8 } else { 9 }
    } else if f.is_infinite(x) {
        if negative { 0 } else { 7 }
    } else if f.is_zero(x) {
        if negative { 3 } else { 4 }
    } else if field == 0 {
        if negative { 2 } else { 5 }
    } else if negative {
        1
    } else {
        6
    };
    1 << bit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SINGLE;

    fn s(x: f32) -> u64 {
        x.to_bits().into()
    }

    #[test]
    fn comparisons_and_nans() {
        let mut fl = Flags::default();
        assert!(eq(SINGLE, s(0.0), s(-0.0), &mut fl));
        assert!(le(SINGLE, s(-0.0), s(0.0), &mut fl) && !lt(SINGLE, s(-0.0), s(0.0), &mut fl));
        assert!(lt(SINGLE, s(-2.0), s(-1.0), &mut fl));
        assert_eq!(fl.0, 0);
        assert!(!eq(SINGLE, 0x7fc0_0000, 0x7fc0_0000, &mut fl));
        assert_eq!(fl.0, 0);
        assert!(!lt(SINGLE, 0x7fc0_0000, s(1.0), &mut fl));
        assert_eq!(fl.0, Flags::INVALID);
        let mut fl = Flags::default();
        assert!(!eq(SINGLE, 0x7f80_0001, s(1.0), &mut fl));
        assert_eq!(fl.0, Flags::INVALID);
    }

    #[test]
    fn min_max_rules() {
        let mut fl = Flags::default();
        assert_eq!(min(SINGLE, s(0.0), s(-0.0), &mut fl), s(-0.0));
        assert_eq!(max(SINGLE, s(-0.0), s(0.0), &mut fl), s(0.0));
        assert_eq!(min(SINGLE, 0x7fc0_0001, s(3.0), &mut fl), s(3.0));
        assert_eq!(fl.0, 0);
        assert_eq!(max(SINGLE, 0x7f80_0001, s(3.0), &mut fl), s(3.0));
        assert_eq!(fl.0, Flags::INVALID);
        assert_eq!(max(SINGLE, 0x7f80_0001, 0xffc0_0000, &mut fl), 0x7fc0_0000);
    }

    #[test]
    fn classes() {
        let c = |x| classify(SINGLE, x);
        assert_eq!(c(s(f32::NEG_INFINITY)), 1);
        assert_eq!(c(s(-1.0)), 2);
        assert_eq!(c(0x8000_0001), 4);
        assert_eq!(c(s(-0.0)), 8);
        assert_eq!(c(0), 16);
        assert_eq!(c(1), 32);
        assert_eq!(c(s(1.0)), 64);
        assert_eq!(c(s(f32::INFINITY)), 128);
        assert_eq!(c(0x7f80_0001), 256);
        assert_eq!(c(0x7fc0_0000), 512);
    }
}
