//! Rounding an exact value to a format: the one place results are rounded.

use crate::{Flags, Format, RoundingMode, infinity, zero};

/// What a right shift discarded, relative to half of the new last place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rest {
    /// Nothing: the shift was exact.
    Exact,
    /// Less than half a unit in the last place.
    Below,
    /// Exactly half.
    Half,
    /// More than half.
    Above,
}

/// `sig >> shift` (a left shift when `shift` is negative; the caller makes
/// sure nothing is lost) and what the shift discarded.
pub(crate) fn shift_right(sig: u128, shift: i32) -> (u128, Rest) {
    if shift <= 0 {
        return (sig << -shift, Rest::Exact);
    }
    if shift > 128 {
        return (0, if sig == 0 { Rest::Exact } else { Rest::Below });
    }
    let (q, rest) = if shift == 128 {
        (0, sig)
    } else {
        (sig >> shift, sig & ((1u128 << shift) - 1))
    };
    let half = 1u128 << (shift - 1);
    let class = match rest.cmp(&half) {
        _ if rest == 0 => Rest::Exact,
        std::cmp::Ordering::Less => Rest::Below,
        std::cmp::Ordering::Equal => Rest::Half,
        std::cmp::Ordering::Greater => Rest::Above,
    };
    (q, class)
}

/// Whether a value whose truncation is `q` (of sign `sign`) and whose
/// discarded part is `rest` rounds up in magnitude under `rm`.
pub(crate) fn rounds_up(rm: RoundingMode, sign: bool, q: u128, rest: Rest) -> bool {
    match rm {
        RoundingMode::NearestEven => rest == Rest::Above || (rest == Rest::Half && q & 1 == 1),
        RoundingMode::TowardZero => false,
        RoundingMode::Down => sign && rest != Rest::Exact,
        RoundingMode::Up => !sign && rest != Rest::Exact,
        RoundingMode::NearestMaxMagnitude => matches!(rest, Rest::Half | Rest::Above),
    }
}

/// Round the exact value `(-1)^sign × sig × 2^exp` to format `f` under
/// `rm`, raising inexact, underflow (tiny after rounding, and inexact) and
/// overflow in `flags`. A zero `sig` gives a zero of the given sign.
pub fn round(
    f: Format,
    sign: bool,
    exp: i32,
    sig: u128,
    rm: RoundingMode,
    flags: &mut Flags,
) -> u64 {
    if sig == 0 {
        return zero(f, sign);
    }
    let p = f.precision() as i32;
    let emin = 1 - f.bias();
    // The exponent of the value's leading bit.
    let lead = exp + (127 - sig.leading_zeros() as i32);
    let subnormal = lead < emin;
    // The exponent of the last place kept: p bits from the leading bit, or
    // the subnormal grid's fixed last place.
    let last = if subnormal {
        emin - (p - 1)
    } else {
        lead - (p - 1)
    };
    let (mut q, rest) = shift_right(sig, last - exp);
    if rounds_up(rm, sign, q, rest) {
        q += 1;
    }
    let inexact = rest != Rest::Exact;
    if subnormal && inexact && is_tiny_after_rounding(f, sign, exp, sig, lead, rm) {
        flags.raise(Flags::UNDERFLOW);
    }
    let mut result_lead = last + (p - 1);
    if q >> p != 0 {
        // Rounding carried into a new leading bit (normal grid only: on the
        // subnormal grid `q` reaches at most 2^(p-1), the smallest normal).
        q >>= 1;
        result_lead += 1;
    }
    if result_lead > f.bias() {
        flags.raise(Flags::OVERFLOW | Flags::INEXACT);
        let to_infinity = match rm {
            RoundingMode::NearestEven | RoundingMode::NearestMaxMagnitude => true,
            RoundingMode::TowardZero => false,
            RoundingMode::Down => sign,
            RoundingMode::Up => !sign,
        };
        return if to_infinity {
            infinity(f, sign)
        } else {
            zero(f, sign) | f.max_finite()
        };
    }
    if inexact {
        flags.raise(Flags::INEXACT);
    }
    // `q` holds the leading bit at position p-1 for a normal result, so
    // adding it to the exponent field minus one sets the field; on the
    // subnormal grid the field is 0, and a `q` of 2^(p-1) is exactly the
    // smallest normal's encoding.
    let magnitude = if subnormal {
        q as u64
    } else {
        (((result_lead + f.bias() - 1) as u64) << f.frac_bits) + q as u64
    };
    zero(f, sign) | magnitude
}

/// A value whose leading bit is below the normal range (and which rounds
/// inexactly) is tiny after rounding unless rounding it to full precision
/// with an unbounded exponent reaches the smallest normal magnitude.
fn is_tiny_after_rounding(
    f: Format,
    sign: bool,
    exp: i32,
    sig: u128,
    lead: i32,
    rm: RoundingMode,
) -> bool {
    let emin = 1 - f.bias();
    if lead != emin - 1 {
        return true;
    }
    let p = f.precision() as i32;
    let (q, rest) = shift_right(sig, lead - (p - 1) - exp);
    let q = q + u128::from(rounds_up(rm, sign, q, rest));
    q >> p == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DOUBLE, SINGLE};

    fn r(sign: bool, exp: i32, sig: u128, rm: RoundingMode) -> (u64, u8) {
        let mut fl = Flags::default();
        (round(SINGLE, sign, exp, sig, rm, &mut fl), fl.0)
    }

    #[test]
    fn exact_values() {
        assert_eq!(r(false, 0, 1, RoundingMode::NearestEven), (0x3f80_0000, 0));
        assert_eq!(r(true, -1, 3, RoundingMode::Up), (0xbfc0_0000, 0));
        assert_eq!(r(false, -149, 1, RoundingMode::NearestEven), (1, 0));
        let mut fl = Flags::default();
        assert_eq!(round(DOUBLE, false, 10, 0, RoundingMode::Down, &mut fl), 0);
    }

    #[test]
    fn ties_and_directions() {
        // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
        let v = (1u128 << 24) + 1;
        assert_eq!(r(false, 0, v, RoundingMode::NearestEven).0, 0x4b80_0000);
        assert_eq!(
            r(false, 0, v, RoundingMode::NearestMaxMagnitude).0,
            0x4b80_0001
        );
        assert_eq!(r(false, 0, v, RoundingMode::Up).0, 0x4b80_0001);
        assert_eq!(r(true, 0, v, RoundingMode::Down).0, 0xcb80_0001);
        assert_eq!(r(true, 0, v, RoundingMode::TowardZero), (0xcb80_0000, 1));
    }

    #[test]
    fn overflow_by_mode() {
        let big = 1u128 << 100;
        assert_eq!(
            r(false, 100, big, RoundingMode::NearestEven),
            (0x7f80_0000, 5)
        );
        assert_eq!(
            r(false, 100, big, RoundingMode::TowardZero),
            (0x7f7f_ffff, 5)
        );
        assert_eq!(r(true, 100, big, RoundingMode::Up), (0xff7f_ffff, 5));
        assert_eq!(r(true, 100, big, RoundingMode::Down), (0xff80_0000, 5));
    }

    #[test]
    fn tininess_after_rounding() {
        // (1 - 2^-25) × 2^-126 rounds to the smallest normal both on the
        // subnormal grid and with unbounded exponent: inexact, not tiny.
        let sig = (1u128 << 25) - 1;
        assert_eq!(
            r(false, -126 - 25, sig, RoundingMode::NearestEven),
            (0x0080_0000, 1)
        );
        // (1 - 2^-24) × 2^-126 is a tie on the subnormal grid (rounds up to
        // the smallest normal) but exact at full precision: tiny, and
        // inexact, so underflow.
        let sig = (1u128 << 24) - 1;
        assert_eq!(
            r(false, -126 - 24, sig, RoundingMode::NearestEven),
            (0x0080_0000, 3)
        );
        // Exact subnormals raise nothing.
        assert_eq!(r(false, -149, 5, RoundingMode::NearestEven), (5, 0));
        // Below half the smallest subnormal, towards zero: zero, UF + NX.
        assert_eq!(r(false, -151, 1, RoundingMode::TowardZero), (0, 3));
        assert_eq!(r(false, -151, 1, RoundingMode::Up), (1, 3));
    }

    #[test]
    fn shifts_beyond_the_width() {
        assert_eq!(shift_right(5, 200), (0, Rest::Below));
        assert_eq!(shift_right(1 << 127, 128), (0, Rest::Half));
        assert_eq!(shift_right(3, 1), (1, Rest::Half));
        assert_eq!(shift_right(3, -2), (12, Rest::Exact));
    }
}
