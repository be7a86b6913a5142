//! The arithmetic operations: each finds the exact result of finite
//! operands as an integer significand and exponent, then rounds it once.

use crate::round::round;
use crate::{Flags, Format, RoundingMode, Unpacked, infinity, unpack, zero};

/// The result of an operation with a NaN operand: the canonical NaN, with
/// invalid raised when any operand is a signalling NaN.
fn nan_result(f: Format, operands: &[u64], flags: &mut Flags) -> u64 {
    if operands.iter().any(|&x| f.is_signaling_nan(x)) {
        flags.raise(Flags::INVALID);
    }
    f.canonical_nan()
}

/// Invalid operation: raise NV, return the canonical NaN.
fn invalid(f: Format, flags: &mut Flags) -> u64 {
    flags.raise(Flags::INVALID);
    f.canonical_nan()
}

/// The sign of an exact zero sum of operands of opposite signs: −0 when
/// rounding down, +0 otherwise.
fn cancelled_zero(f: Format, rm: RoundingMode) -> u64 {
    zero(f, rm == RoundingMode::Down)
}

/// `a + b`.
pub fn add(f: Format, a: u64, b: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_nan(a) || f.is_nan(b) {
        return nan_result(f, &[a, b], flags);
    }
    let (sa, sb) = (f.sign(a), f.sign(b));
    if f.is_infinite(a) {
        if f.is_infinite(b) && sa != sb {
            return invalid(f, flags);
        }
        return a;
    }
    if f.is_infinite(b) {
        return b;
    }
    match (f.is_zero(a), f.is_zero(b)) {
        (true, true) if sa == sb => a,
        (true, true) => cancelled_zero(f, rm),
        (true, false) => b,
        (false, true) => a,
        (false, false) => add_exact(f, unpack(f, a), unpack(f, b), rm, flags),
    }
}

/// `a - b`.
pub fn sub(f: Format, a: u64, b: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let b = b & f.mask();
    // Negating a NaN changes nothing observable: NaN results are canonical.
    add(f, a, b ^ f.sign_mask(), rm, flags)
}

/// The exact sum of two finite nonzero values (significands of up to 106
/// bits), rounded to `f`.
fn add_exact(f: Format, x: Unpacked, y: Unpacked, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let lead = |u: &Unpacked| u.exp + (127 - u.sig.leading_zeros() as i32);
    let (x, y) = if lead(&x) >= lead(&y) { (x, y) } else { (y, x) };
    // Put the larger operand's leading bit at bit 125, leaving room for a
    // carry, and the smaller one in the same units. Bits of the smaller one
    // that fall below bit 0 are jammed into bit 0: that happens only when it
    // is at least 2^20 times smaller, so cancellation removes at most one
    // leading bit and bit 0 lies far below the rounding point.
    let up = 125 - (127 - x.sig.leading_zeros() as i32);
    let exp = x.exp - up;
    let xs = x.sig << up;
    let ys = if y.exp >= exp {
        y.sig << (y.exp - exp)
    } else {
        shift_right_jam(y.sig, exp - y.exp)
    };
    let (sign, sum) = if x.sign == y.sign {
        (x.sign, xs + ys)
    } else if xs >= ys {
        (x.sign, xs - ys)
    } else {
        (y.sign, ys - xs)
    };
    if sum == 0 {
        return cancelled_zero(f, rm);
    }
    round(f, sign, exp, sum, rm, flags)
}

/// `sig >> shift`, with any bit shifted out ORed into bit 0.
fn shift_right_jam(sig: u128, shift: i32) -> u128 {
    if shift >= 128 {
        u128::from(sig != 0)
    } else {
        (sig >> shift) | u128::from(sig & ((1u128 << shift) - 1) != 0)
    }
}

/// `a × b`.
pub fn mul(f: Format, a: u64, b: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_nan(a) || f.is_nan(b) {
        return nan_result(f, &[a, b], flags);
    }
    let sign = f.sign(a) != f.sign(b);
    if f.is_infinite(a) || f.is_infinite(b) {
        if f.is_zero(a) || f.is_zero(b) {
            return invalid(f, flags);
        }
        return infinity(f, sign);
    }
    if f.is_zero(a) || f.is_zero(b) {
        return zero(f, sign);
    }
    let (x, y) = (unpack(f, a), unpack(f, b));
    round(f, sign, x.exp + y.exp, x.sig * y.sig, rm, flags)
}

/// `a ÷ b`.
pub fn div(f: Format, a: u64, b: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let (a, b) = (a & f.mask(), b & f.mask());
    if f.is_nan(a) || f.is_nan(b) {
        return nan_result(f, &[a, b], flags);
    }
    let sign = f.sign(a) != f.sign(b);
    match (f.is_infinite(a), f.is_infinite(b)) {
        (true, true) => return invalid(f, flags),
        (true, false) => return infinity(f, sign),
        (false, true) => return zero(f, sign),
        (false, false) => {}
    }
    match (f.is_zero(a), f.is_zero(b)) {
        (true, true) => return invalid(f, flags),
        (true, false) => return zero(f, sign),
        (false, true) => {
            flags.raise(Flags::DIV_BY_ZERO);
            return infinity(f, sign);
        }
        (false, false) => {}
    }
    let (x, y) = (normalized(f, unpack(f, a)), normalized(f, unpack(f, b)));
    // Both significands have their leading bit at p-1, so the quotient of
    // `x << s` has at least p+2 bits; a nonzero remainder is jammed into
    // its last bit, below the rounding point.
    let s = f.precision() as i32 + 3;
    let num = x.sig << s;
    let q = num / y.sig;
    let q = q | u128::from(num % y.sig != 0);
    round(f, sign, x.exp - y.exp - s, q, rm, flags)
}

/// `√a`.
pub fn sqrt(f: Format, a: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let a = a & f.mask();
    if f.is_nan(a) {
        return nan_result(f, &[a], flags);
    }
    if f.is_zero(a) {
        return a;
    }
    if f.sign(a) {
        return invalid(f, flags);
    }
    if f.is_infinite(a) {
        return a;
    }
    let mut x = normalized(f, unpack(f, a));
    if x.exp % 2 != 0 {
        x.sig <<= 1;
        x.exp -= 1;
    }
    // Scale by an even power of two so the root has at least p+2 bits; a
    // nonzero remainder is jammed into its last bit.
    let shift = ((f.precision() as i32 + 7) / 2) * 2;
    let n = x.sig << shift;
    let root = n.isqrt();
    let root = root | u128::from(root * root != n);
    round(f, false, (x.exp - shift) / 2, root, rm, flags)
}

/// `a × b + c` with one rounding. The negated forms (RISC-V's `fmsub`,
/// `fnmsub`, `fnmadd`) negate the operands, as Spike and QEMU do.
pub fn fma(f: Format, a: u64, b: u64, c: u64, rm: RoundingMode, flags: &mut Flags) -> u64 {
    let (a, b, c) = (a & f.mask(), b & f.mask(), c & f.mask());
    let inf_times_zero = (f.is_infinite(a) && f.is_zero(b)) || (f.is_zero(a) && f.is_infinite(b));
    if f.is_nan(a) || f.is_nan(b) || f.is_nan(c) {
        // ∞ × 0 is invalid even when the addend is a quiet NaN.
        if inf_times_zero {
            flags.raise(Flags::INVALID);
        }
        return nan_result(f, &[a, b, c], flags);
    }
    if inf_times_zero {
        return invalid(f, flags);
    }
    let sign_p = f.sign(a) != f.sign(b);
    let sc = f.sign(c);
    if f.is_infinite(a) || f.is_infinite(b) {
        if f.is_infinite(c) && sc != sign_p {
            return invalid(f, flags);
        }
        return infinity(f, sign_p);
    }
    if f.is_infinite(c) {
        return c;
    }
    if f.is_zero(a) || f.is_zero(b) {
        if !f.is_zero(c) {
            return c;
        }
        return if sc == sign_p {
            zero(f, sc)
        } else {
            cancelled_zero(f, rm)
        };
    }
    let (x, y) = (unpack(f, a), unpack(f, b));
    let product = Unpacked {
        sign: sign_p,
        exp: x.exp + y.exp,
        sig: x.sig * y.sig,
    };
    if f.is_zero(c) {
        return round(f, sign_p, product.exp, product.sig, rm, flags);
    }
    add_exact(f, product, unpack(f, c), rm, flags)
}

/// `x` with its significand shifted so its leading bit is at p-1.
fn normalized(f: Format, mut x: Unpacked) -> Unpacked {
    let lead = 127 - x.sig.leading_zeros() as i32;
    let up = f.frac_bits as i32 - lead;
    x.sig <<= up;
    x.exp -= up;
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DOUBLE, SINGLE};

    const RNE: RoundingMode = RoundingMode::NearestEven;

    fn s(x: f32) -> u64 {
        x.to_bits().into()
    }

    #[test]
    fn simple_values() {
        let mut fl = Flags::default();
        assert_eq!(add(SINGLE, s(1.5), s(2.25), RNE, &mut fl), s(3.75));
        assert_eq!(mul(SINGLE, s(-3.0), s(0.5), RNE, &mut fl), s(-1.5));
        assert_eq!(div(SINGLE, s(1.0), s(4.0), RNE, &mut fl), s(0.25));
        assert_eq!(sqrt(SINGLE, s(9.0), RNE, &mut fl), s(3.0));
        assert_eq!(fl.0, 0);
        assert_eq!(div(SINGLE, s(1.0), s(3.0), RNE, &mut fl), s(1.0 / 3.0));
        assert_eq!(fl.0, Flags::INEXACT);
    }

    #[test]
    fn special_cases() {
        let mut fl = Flags::default();
        assert_eq!(div(SINGLE, s(1.0), s(0.0), RNE, &mut fl), s(f32::INFINITY));
        assert_eq!(fl.0, Flags::DIV_BY_ZERO);
        let mut fl = Flags::default();
        assert_eq!(sqrt(SINGLE, s(-1.0), RNE, &mut fl), 0x7fc0_0000);
        assert_eq!(sqrt(SINGLE, s(-0.0), RNE, &mut fl), s(-0.0));
        assert_eq!(fl.0, Flags::INVALID);
        let mut fl = Flags::default();
        let inf = s(f32::INFINITY);
        assert_eq!(
            add(SINGLE, inf, inf ^ 0x8000_0000, RNE, &mut fl),
            0x7fc0_0000
        );
        assert_eq!(fl.0, Flags::INVALID);
        // x - x is +0, or -0 rounding down.
        let mut fl = Flags::default();
        assert_eq!(sub(SINGLE, s(2.0), s(2.0), RNE, &mut fl), 0);
        assert_eq!(
            sub(SINGLE, s(2.0), s(2.0), RoundingMode::Down, &mut fl),
            s(-0.0)
        );
        assert_eq!(fl.0, 0);
    }

    #[test]
    fn fma_invalid_with_quiet_nan_addend() {
        let mut fl = Flags::default();
        let r = fma(
            DOUBLE,
            f64::INFINITY.to_bits(),
            0,
            DOUBLE.canonical_nan(),
            RNE,
            &mut fl,
        );
        assert_eq!((r, fl.0), (DOUBLE.canonical_nan(), Flags::INVALID));
        let mut fl = Flags::default();
        let r = fma(
            DOUBLE,
            1f64.to_bits(),
            2f64.to_bits(),
            DOUBLE.canonical_nan(),
            RNE,
            &mut fl,
        );
        assert_eq!((r, fl.0), (DOUBLE.canonical_nan(), 0));
    }

    #[test]
    fn fma_rounds_once() {
        // (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 exactly; a separate multiply
        // would round the product to 1 and give 0.
        let a = (1.0 + f64::EPSILON).to_bits();
        let b = (1.0 - f64::EPSILON).to_bits();
        let mut fl = Flags::default();
        let r = fma(DOUBLE, a, b, (-1f64).to_bits(), RNE, &mut fl);
        assert_eq!(f64::from_bits(r), -(2f64.powi(-104)));
        assert_eq!(fl.0, 0);
    }
}
