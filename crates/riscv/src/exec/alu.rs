//! Integer arithmetic with RISC-V's corner cases: the M extension's
//! division rules (no traps: division by zero gives all ones / the dividend,
//! signed overflow gives the dividend / zero) and 32-bit `*w` results
//! sign-extended to 64 bits.

/// Sign-extend the low 32 bits.
#[inline(always)]
pub fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

/// `mulh`: high 64 bits of signed x signed.
#[inline(always)]
pub fn mulh(a: u64, b: u64) -> u64 {
    ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64
}

/// `mulhsu`: high 64 bits of signed x unsigned.
#[inline(always)]
pub fn mulhsu(a: u64, b: u64) -> u64 {
    ((i128::from(a as i64).wrapping_mul(b as i128)) >> 64) as u64
}

/// `mulhu`: high 64 bits of unsigned x unsigned.
#[inline(always)]
pub fn mulhu(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

/// `div`: division by zero gives -1; `MIN / -1` gives `MIN`.
#[inline(always)]
pub fn div(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        u64::MAX
    } else {
        a.wrapping_div(b) as u64
    }
}

/// `divu`: division by zero gives all ones.
#[inline(always)]
pub fn divu(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(u64::MAX)
}

/// `rem`: remainder by zero gives the dividend; `MIN % -1` gives 0.
#[inline(always)]
pub fn rem(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i64, b as i64);
    if b == 0 {
        a as u64
    } else {
        a.wrapping_rem(b) as u64
    }
}

/// `remu`: remainder by zero gives the dividend.
#[inline(always)]
pub fn remu(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { a % b }
}

/// `divw`.
#[inline(always)]
pub fn divw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        u64::MAX
    } else {
        i64::from(a.wrapping_div(b)) as u64
    }
}

/// `divuw`.
#[inline(always)]
pub fn divuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    a.checked_div(b).map_or(u64::MAX, |q| sext32(u64::from(q)))
}

/// `remw`.
#[inline(always)]
pub fn remw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    if b == 0 {
        i64::from(a) as u64
    } else {
        i64::from(a.wrapping_rem(b)) as u64
    }
}

/// `remuw`.
#[inline(always)]
pub fn remuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    if b == 0 {
        sext32(u64::from(a))
    } else {
        sext32(u64::from(a % b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = i64::MIN as u64;
    const NEG1: u64 = u64::MAX;

    #[test]
    fn division_by_zero() {
        assert_eq!(div(7, 0), NEG1);
        assert_eq!(divu(7, 0), NEG1);
        assert_eq!(rem(7, 0), 7);
        assert_eq!(remu(7, 0), 7);
        assert_eq!(divw(7, 0), NEG1);
        assert_eq!(divuw(7, 0), NEG1);
        assert_eq!(remw(0x8000_0000, 0), 0xffff_ffff_8000_0000);
        assert_eq!(remuw(0x8000_0000, 0), 0xffff_ffff_8000_0000);
    }

    #[test]
    fn signed_overflow() {
        assert_eq!(div(MIN, NEG1), MIN);
        assert_eq!(rem(MIN, NEG1), 0);
        assert_eq!(divw(0x8000_0000, NEG1), 0xffff_ffff_8000_0000);
        assert_eq!(remw(0x8000_0000, NEG1), 0);
    }

    #[test]
    fn ordinary_division_rounds_toward_zero() {
        assert_eq!(div(-7i64 as u64, 2), -3i64 as u64);
        assert_eq!(rem(-7i64 as u64, 2), -1i64 as u64);
        assert_eq!(divu(-7i64 as u64, 2), (u64::MAX - 6) / 2);
        assert_eq!(divw(0xffff_fff9, 2), -3i64 as u64);
        assert_eq!(divuw(0xffff_fff9, 2), 0x7fff_fffc);
        assert_eq!(remuw(0xffff_fff9, 2), 1);
    }

    #[test]
    fn high_multiplies() {
        assert_eq!(mulh(NEG1, NEG1), 0);
        assert_eq!(mulhu(NEG1, NEG1), NEG1 - 1);
        assert_eq!(mulhsu(NEG1, NEG1), NEG1);
        assert_eq!(mulh(MIN, MIN), 0x4000_0000_0000_0000);
        assert_eq!(mulhsu(MIN, 2), NEG1);
    }
}
