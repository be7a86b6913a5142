//! An EDID 1.4 base block describing a virtual monitor, as a display
//! device exposes it to the guest's driver (QEMU's bochs-display puts one
//! at offset 0 of its MMIO BAR; Linux's bochs driver reads it there).
//!
//! Written from the VESA EDID 1.4 layout: header, vendor and product,
//! version, a digital input, the size that gives 100 dpi at the preferred
//! mode, sRGB chromaticity, the 640×480, 800×600 and 1024×768 established
//! timings, the preferred mode as detailed timing descriptor 1 (reduced
//! blanking at 60 Hz), then range limits and the monitor's name, no
//! extension blocks, and the checksum.

/// Bytes of the block.
pub const EDID_SIZE: usize = 128;

/// The monitor a display device describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitorInfo {
    /// Preferred width in pixels (QEMU's default: 1280).
    pub width: u16,
    /// Preferred height in pixels (QEMU's default: 800).
    pub height: u16,
}

impl Default for MonitorInfo {
    fn default() -> Self {
        MonitorInfo {
            width: 1280,
            height: 800,
        }
    }
}

/// Reduced blanking (CVT-RB): horizontal blank, front porch, sync width.
const H_BLANK: u32 = 160;
const H_FRONT: u32 = 48;
const H_SYNC: u32 = 32;
/// Vertical blank, front porch and sync width, in lines.
const V_BLANK: u32 = 23;
const V_FRONT: u32 = 3;
const V_SYNC: u32 = 6;
const REFRESH_HZ: u32 = 60;
const DPI: u32 = 100;

/// The block for `m`.
pub fn edid(m: &MonitorInfo) -> [u8; EDID_SIZE] {
    let mut e = [0u8; EDID_SIZE];
    e[0..8].copy_from_slice(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
    // Manufacturer "RHT" (three 5-bit letters, 'A' = 1), big endian.
    let id = b"RHT"
        .iter()
        .fold(0u16, |acc, &c| (acc << 5) | u16::from(c - b'A' + 1));
    e[8..10].copy_from_slice(&id.to_be_bytes());
    e[10..12].copy_from_slice(&0x1234u16.to_le_bytes());
    // Serial number 0; made in week 1 of 2024; EDID 1.4.
    e[16] = 1;
    e[17] = (2024 - 1990) as u8;
    e[18] = 1;
    e[19] = 4;
    // Digital input, 8 bits per colour.
    e[20] = 0xa0;
    // Size in cm at 100 dpi.
    let cm = |px: u16| ((u32::from(px) * 254 / DPI).div_ceil(100)) as u8;
    e[21] = cm(m.width);
    e[22] = cm(m.height);
    // Gamma 2.2; sRGB default colour space, preferred timing native.
    e[23] = 120;
    e[24] = 0x06;
    chromaticity(&mut e);
    // Established timings: 640×480 and 800×600 at 60 Hz; 1024×768 at 60 Hz.
    e[35] = (1 << 5) | (1 << 0);
    e[36] = 1 << 3;
    // No standard timings.
    for i in 0..8 {
        e[38 + 2 * i] = 1;
        e[39 + 2 * i] = 1;
    }
    detailed_timing(&mut e[54..72], m);
    range_limits(&mut e[72..90]);
    text_descriptor(&mut e[90..108], 0xfc, b"FERRITE");
    text_descriptor(&mut e[108..126], 0xff, b"0");
    e[126] = 0;
    let sum = e[..127].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    e[127] = 0u8.wrapping_sub(sum);
    e
}

/// The sRGB primaries and white point, as 10-bit fractions.
fn chromaticity(e: &mut [u8; EDID_SIZE]) {
    let v = |x: f64| (x * 1024.0).round() as u16;
    let (rx, ry, gx, gy) = (v(0.640), v(0.330), v(0.300), v(0.600));
    let (bx, by, wx, wy) = (v(0.150), v(0.060), v(0.3127), v(0.3290));
    let lo = |a: u16, b: u16| (((a & 3) << 2) | (b & 3)) as u8;
    e[25] = (lo(rx, ry) << 4) | lo(gx, gy);
    e[26] = (lo(bx, by) << 4) | lo(wx, wy);
    for (i, c) in [rx, ry, gx, gy, bx, by, wx, wy].into_iter().enumerate() {
        e[27 + i] = (c >> 2) as u8;
    }
}

/// Detailed timing descriptor for the preferred mode.
fn detailed_timing(d: &mut [u8], m: &MonitorInfo) {
    let (w, h) = (u32::from(m.width), u32::from(m.height));
    let clock_10khz = (w + H_BLANK) * (h + V_BLANK) * REFRESH_HZ / 10_000;
    d[0..2].copy_from_slice(&(clock_10khz as u16).to_le_bytes());
    d[2] = w as u8;
    d[3] = H_BLANK as u8;
    d[4] = (((w >> 8) & 0xf) << 4 | ((H_BLANK >> 8) & 0xf)) as u8;
    d[5] = h as u8;
    d[6] = V_BLANK as u8;
    d[7] = (((h >> 8) & 0xf) << 4 | ((V_BLANK >> 8) & 0xf)) as u8;
    d[8] = H_FRONT as u8;
    d[9] = H_SYNC as u8;
    d[10] = (((V_FRONT & 0xf) << 4) | (V_SYNC & 0xf)) as u8;
    d[11] = 0;
    let (wmm, hmm) = (w * 254 / (DPI * 10), h * 254 / (DPI * 10));
    d[12] = wmm as u8;
    d[13] = hmm as u8;
    d[14] = (((wmm >> 8) & 0xf) << 4 | ((hmm >> 8) & 0xf)) as u8;
    // Digital separate sync, +hsync -vsync (CVT-RB).
    d[17] = 0x1a;
}

/// Display range limits: 50–125 Hz, 30–160 kHz, up to 600 MHz.
fn range_limits(d: &mut [u8]) {
    d[3] = 0xfd;
    d[5] = 50;
    d[6] = 125;
    d[7] = 30;
    d[8] = 160;
    d[9] = 60;
    d[10] = 0x01; // range limits only
    d[11] = 0x0a;
    d[12..18].fill(0x20);
}

/// A text descriptor of `tag` (0xfc name, 0xff serial).
fn text_descriptor(d: &mut [u8], tag: u8, text: &[u8]) {
    d[3] = tag;
    let body = &mut d[5..18];
    body.fill(0x20);
    let n = text.len().min(13);
    body[..n].copy_from_slice(&text[..n]);
    if n < 13 {
        body[n] = 0x0a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_has_its_header_checksum_and_preferred_mode() {
        let e = edid(&MonitorInfo::default());
        assert_eq!(&e[..8], &[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(e.iter().fold(0u8, |a, &b| a.wrapping_add(b)), 0);
        // "RHT": R=18, H=8, T=20.
        assert_eq!(u16::from_be_bytes([e[8], e[9]]), (18 << 10) | (8 << 5) | 20);
        assert_eq!((e[18], e[19]), (1, 4));
        let d = &e[54..72];
        let w = u16::from(d[2]) | (u16::from(d[4] >> 4) << 8);
        let h = u16::from(d[5]) | (u16::from(d[7] >> 4) << 8);
        assert_eq!((w, h), (1280, 800));
        let clock = u32::from(u16::from_le_bytes([d[0], d[1]])) * 10_000;
        let total = (1280 + H_BLANK) * (800 + V_BLANK);
        assert_eq!(clock / total, 59, "about 60 Hz");
        assert_eq!(&e[95..103], b"FERRITE\n");
        let e = edid(&MonitorInfo {
            width: 1920,
            height: 1080,
        });
        let d = &e[54..72];
        assert_eq!(u16::from(d[2]) | (u16::from(d[4] >> 4) << 8), 1920);
        assert_eq!((e[21], e[22]), (49, 28), "cm at 100 dpi");
    }
}
