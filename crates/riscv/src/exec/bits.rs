//! The bit-manipulation extensions' less obvious operations: carry-less
//! multiplication (Zbc), `orc.b` and `brev8` (Zbb, Zbkb) and the crossbar
//! permutations (Zbkx). The one-line operations are in the handlers.

/// The full 128-bit carry-less product of `a` and `b`.
#[inline]
fn clmul128(a: u64, b: u64) -> u128 {
    let mut acc = 0u128;
    let mut b = b;
    while b != 0 {
        let i = b.trailing_zeros();
        acc ^= u128::from(a) << i;
        b &= b - 1;
    }
    acc
}

/// `clmul`: the low 64 bits of the carry-less product.
pub fn clmul(a: u64, b: u64) -> u64 {
    clmul128(a, b) as u64
}

/// `clmulh`: the high 64 bits of the carry-less product.
pub fn clmulh(a: u64, b: u64) -> u64 {
    (clmul128(a, b) >> 64) as u64
}

/// `clmulr`: bits 126..63 of the carry-less product (the reversed product).
pub fn clmulr(a: u64, b: u64) -> u64 {
    (clmul128(a, b) >> 63) as u64
}

/// `orc.b`: each byte becomes 0xff if it is nonzero, else 0.
pub fn orc_b(a: u64) -> u64 {
    let mut r = 0;
    for i in 0..8 {
        if (a >> (8 * i)) & 0xff != 0 {
            r |= 0xff << (8 * i);
        }
    }
    r
}

/// `brev8`: the bits of each byte reversed.
pub fn brev8(a: u64) -> u64 {
    u64::from_le_bytes(a.to_le_bytes().map(u8::reverse_bits))
}

/// `xperm4`: each nibble of `b` selects a nibble of `a` (all 16 exist).
pub fn xperm4(a: u64, b: u64) -> u64 {
    let mut r = 0;
    for i in 0..16 {
        let idx = (b >> (4 * i)) & 15;
        r |= ((a >> (4 * idx)) & 15) << (4 * i);
    }
    r
}

/// `xperm8`: each byte of `b` selects a byte of `a`, or 0 if it is 8 or
/// more.
pub fn xperm8(a: u64, b: u64) -> u64 {
    let mut r = 0;
    for i in 0..8 {
        let idx = (b >> (8 * i)) & 0xff;
        if idx < 8 {
            r |= ((a >> (8 * idx)) & 0xff) << (8 * i);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carry_less_products() {
        assert_eq!(clmul(0b101, 0b11), 0b1111);
        assert_eq!(clmul(u64::MAX, 2), u64::MAX - 1);
        assert_eq!(clmulh(u64::MAX, 2), 1);
        assert_eq!(clmulh(1 << 63, 1 << 63), 1 << 62);
        assert_eq!(clmulr(1 << 63, 1 << 63), 1 << 63);
        assert_eq!(clmulr(1, 1), 0);
    }

    #[test]
    fn bytes_and_permutations() {
        assert_eq!(orc_b(0x0100_0000_00ff_0010), 0xff00_0000_00ff_00ff);
        assert_eq!(brev8(0x0102_0380), 0x8040_c001);
        assert_eq!(
            xperm8(0x8877_6655_4433_2211, 0x0001_0203_0405_0607),
            0x1122_3344_5566_7788
        );
        assert_eq!(xperm8(0x8877_6655_4433_2211, 0x0808_0808_0808_ff00), 0x11);
        assert_eq!(
            xperm4(0xfedc_ba98_7654_3210, 0x0123_4567_89ab_cdef),
            0x0123_4567_89ab_cdef
        );
        assert_eq!(xperm4(0xfedc_ba98_7654_3210, 0), 0);
    }
}
