//! IEEE 754-2008 binary16, binary32 and binary64 arithmetic in software,
//! with the choices the RISC-V F, D and Zfh extensions make where the
//! standard leaves them open.
//!
//! Every operation takes and returns raw bit patterns (`u64`, the low
//! [`Format::bits`] bits used), a rounding mode, and a [`Flags`] accumulator
//! into which it ORs the exceptions it raises, laid out as the `fflags` CSR.
//! Results are bit-exact: every operation computes the exact result and
//! rounds it once ([`round`]); the fused multiply-add rounds the exact
//! `a * b + c`.
//!
//! The RISC-V choices:
//! - any NaN result is the canonical NaN ([`Format::canonical_nan`]); NaN
//!   payloads never propagate;
//! - tininess is detected after rounding; underflow is raised when a result
//!   is tiny and inexact;
//! - `∞ × 0 + c` raises invalid even when `c` is a quiet NaN;
//! - conversions to integers saturate, and raise invalid (not inexact) when
//!   the value is out of range or NaN ([`to_int`]);
//! - `min`/`max` follow IEEE 754-2019 minimumNumber/maximumNumber (a single
//!   NaN operand is ignored, `-0 < +0`).
//!
//! Written here rather than taken from a crate: the bindings of Berkeley
//! SoftFloat need a C compiler and CMake for the target, which a fresh
//! machine and the cross-host checks do not have; the pure-Rust crates are
//! either arbitrary-precision (microseconds per operation) or lack square
//! root and after-rounding tininess. The tests compare every operation with
//! `rustc_apfloat` (LLVM's APFloat) and the host FPU on random operands in
//! every rounding mode.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod arith;
mod compare;
mod convert;
mod round;

pub use arith::{add, div, fma, mul, sqrt, sub};
pub use compare::{classify, eq, le, lt, max, min};
pub use convert::{IntKind, convert, from_int, to_int};
pub use round::round;

/// A binary interchange format: its width and field sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    /// Width of the encoding in bits.
    pub bits: u32,
    /// Width of the biased exponent field.
    pub exp_bits: u32,
    /// Width of the trailing significand (fraction) field.
    pub frac_bits: u32,
}

/// IEEE 754 binary16 (half precision, Zfh).
pub const HALF: Format = Format {
    bits: 16,
    exp_bits: 5,
    frac_bits: 10,
};
/// IEEE 754 binary32 (single precision, F).
pub const SINGLE: Format = Format {
    bits: 32,
    exp_bits: 8,
    frac_bits: 23,
};
/// IEEE 754 binary64 (double precision, D).
pub const DOUBLE: Format = Format {
    bits: 64,
    exp_bits: 11,
    frac_bits: 52,
};

impl Format {
    /// The exponent bias.
    pub const fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    /// The precision in bits, counting the implicit leading bit.
    pub const fn precision(self) -> u32 {
        self.frac_bits + 1
    }

    /// The all-ones exponent field value (infinities and NaNs).
    pub const fn max_exp_field(self) -> u64 {
        (1 << self.exp_bits) - 1
    }

    /// The sign bit.
    pub const fn sign_mask(self) -> u64 {
        1 << (self.bits - 1)
    }

    /// The fraction field mask.
    pub const fn frac_mask(self) -> u64 {
        (1 << self.frac_bits) - 1
    }

    /// All the bits of an encoding.
    pub const fn mask(self) -> u64 {
        if self.bits == 64 {
            u64::MAX
        } else {
            (1 << self.bits) - 1
        }
    }

    /// The canonical NaN RISC-V returns for every NaN result: positive,
    /// quiet, payload zero (`0x7fc00000` for binary32).
    pub const fn canonical_nan(self) -> u64 {
        (self.max_exp_field() << self.frac_bits) | (1 << (self.frac_bits - 1))
    }

    /// Positive infinity.
    pub const fn infinity(self) -> u64 {
        self.max_exp_field() << self.frac_bits
    }

    /// The largest finite value, positive.
    pub const fn max_finite(self) -> u64 {
        self.infinity() - 1
    }

    /// `x` (bits of this format) is a NaN.
    pub const fn is_nan(self, x: u64) -> bool {
        (x & !self.sign_mask() & self.mask()) > self.infinity()
    }

    /// `x` is a signalling NaN (a NaN with the quiet bit clear).
    pub const fn is_signaling_nan(self, x: u64) -> bool {
        self.is_nan(x) && x & (1 << (self.frac_bits - 1)) == 0
    }

    /// `x` is an infinity of either sign.
    pub const fn is_infinite(self, x: u64) -> bool {
        (x & !self.sign_mask() & self.mask()) == self.infinity()
    }

    /// `x` is a zero of either sign.
    pub const fn is_zero(self, x: u64) -> bool {
        (x & !self.sign_mask() & self.mask()) == 0
    }

    /// The sign bit of `x` is set.
    pub const fn sign(self, x: u64) -> bool {
        x & self.sign_mask() != 0
    }
}

/// A rounding mode, numbered as RISC-V's `rm` field and `frm` CSR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundingMode {
    /// Round to nearest, ties to even (`rne`, 0).
    NearestEven = 0,
    /// Round towards zero (`rtz`, 1).
    TowardZero = 1,
    /// Round down, towards −∞ (`rdn`, 2).
    Down = 2,
    /// Round up, towards +∞ (`rup`, 3).
    Up = 3,
    /// Round to nearest, ties away from zero (`rmm`, 4).
    NearestMaxMagnitude = 4,
}

impl RoundingMode {
    /// Every rounding mode, in encoding order.
    pub const ALL: [RoundingMode; 5] = [
        RoundingMode::NearestEven,
        RoundingMode::TowardZero,
        RoundingMode::Down,
        RoundingMode::Up,
        RoundingMode::NearestMaxMagnitude,
    ];

    /// The mode numbered `rm` (0..=4); `None` for the reserved values 5 and
    /// 6 and for 7 (dynamic, which the caller resolves through `frm`).
    pub const fn from_bits(rm: u8) -> Option<RoundingMode> {
        match rm {
            0 => Some(RoundingMode::NearestEven),
            1 => Some(RoundingMode::TowardZero),
            2 => Some(RoundingMode::Down),
            3 => Some(RoundingMode::Up),
            4 => Some(RoundingMode::NearestMaxMagnitude),
            _ => None,
        }
    }
}

/// Accrued exception flags, laid out as RISC-V's `fflags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// Inexact (NX).
    pub const INEXACT: u8 = 1;
    /// Underflow (UF).
    pub const UNDERFLOW: u8 = 2;
    /// Overflow (OF).
    pub const OVERFLOW: u8 = 4;
    /// Division by zero (DZ).
    pub const DIV_BY_ZERO: u8 = 8;
    /// Invalid operation (NV).
    pub const INVALID: u8 = 16;

    /// Raise the flags in `bits`.
    #[inline]
    pub fn raise(&mut self, bits: u8) {
        self.0 |= bits;
    }
}

/// A finite nonzero value taken apart: `(-1)^sign × sig × 2^exp`, with
/// `sig` an integer (not normalised).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unpacked {
    pub(crate) sign: bool,
    pub(crate) exp: i32,
    pub(crate) sig: u128,
}

/// Take apart `x`, which must be finite and nonzero.
pub(crate) fn unpack(f: Format, x: u64) -> Unpacked {
    let sign = f.sign(x);
    let field = (x >> f.frac_bits) & f.max_exp_field();
    let frac = x & f.frac_mask();
    let min_exp = 1 - f.bias() - f.frac_bits as i32;
    if field == 0 {
        Unpacked {
            sign,
            exp: min_exp,
            sig: u128::from(frac),
        }
    } else {
        Unpacked {
            sign,
            exp: min_exp + field as i32 - 1,
            sig: u128::from(frac | (1 << f.frac_bits)),
        }
    }
}

/// A signed zero of format `f`.
pub(crate) const fn zero(f: Format, sign: bool) -> u64 {
    if sign { f.sign_mask() } else { 0 }
}

/// A signed infinity of format `f`.
pub(crate) const fn infinity(f: Format, sign: bool) -> u64 {
    zero(f, sign) | f.infinity()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_constants() {
        assert_eq!(SINGLE.canonical_nan(), 0x7fc0_0000);
        assert_eq!(DOUBLE.canonical_nan(), 0x7ff8_0000_0000_0000);
        assert_eq!(HALF.canonical_nan(), 0x7e00);
        assert_eq!(SINGLE.max_finite(), f32::MAX.to_bits().into());
        assert_eq!(DOUBLE.bias(), 1023);
        assert!(SINGLE.is_signaling_nan(0x7f80_0001));
        assert!(!SINGLE.is_signaling_nan(0x7fc0_0000));
        assert!(!SINGLE.is_nan(0x7f80_0000) && SINGLE.is_infinite(0xff80_0000));
    }

    #[test]
    fn unpack_normal_and_subnormal() {
        let one = unpack(DOUBLE, 1f64.to_bits());
        assert_eq!((one.sign, one.sig << -one.exp), (false, 1u128 << 52 << 52));
        let tiny = unpack(SINGLE, 1);
        assert_eq!((tiny.exp, tiny.sig), (-149, 1));
        let m = unpack(SINGLE, (-1.5f32).to_bits().into());
        assert_eq!((m.sign, m.exp, m.sig), (true, -23, 3 << 22));
    }
}
