//! Pixels in a client's format, and the rectangle encodings: raw, and ZRLE
//! (RFC 6143 §7.7.6: 64×64 tiles, each solid, packed-palette or raw, in one
//! zlib stream per connection).

use flate2::{Compress, Compression, FlushCompress};

use crate::{Rect, Surface};

/// Encoding numbers (RFC 6143 §7.7 and the pseudo-encodings).
pub mod encoding {
    /// Raw pixels.
    pub const RAW: i32 = 0;
    /// ZRLE.
    pub const ZRLE: i32 = 16;
    /// The DesktopSize pseudo-encoding: the framebuffer changed size.
    pub const DESKTOP_SIZE: i32 = -223;
}

/// A client's pixel format (the PIXEL_FORMAT structure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelFormat {
    /// Bits per pixel: 8, 16 or 32.
    pub bpp: u8,
    /// Useful bits.
    pub depth: u8,
    /// Multi-byte pixels are big endian.
    pub big_endian: bool,
    /// True colour (colour maps are not supported).
    pub true_colour: bool,
    /// Largest red value.
    pub red_max: u16,
    /// Largest green value.
    pub green_max: u16,
    /// Largest blue value.
    pub blue_max: u16,
    /// Red's shift.
    pub red_shift: u8,
    /// Green's shift.
    pub green_shift: u8,
    /// Blue's shift.
    pub blue_shift: u8,
}

impl PixelFormat {
    /// The server's own format: 32 bits, depth 24, little endian, x-r-g-b.
    pub const SERVER: PixelFormat = PixelFormat {
        bpp: 32,
        depth: 24,
        big_endian: false,
        true_colour: true,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 16,
        green_shift: 8,
        blue_shift: 0,
    };

    /// The 16 bytes of PIXEL_FORMAT.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0] = self.bpp;
        b[1] = self.depth;
        b[2] = u8::from(self.big_endian);
        b[3] = u8::from(self.true_colour);
        b[4..6].copy_from_slice(&self.red_max.to_be_bytes());
        b[6..8].copy_from_slice(&self.green_max.to_be_bytes());
        b[8..10].copy_from_slice(&self.blue_max.to_be_bytes());
        b[10] = self.red_shift;
        b[11] = self.green_shift;
        b[12] = self.blue_shift;
        b
    }

    /// Parse PIXEL_FORMAT; `Err` with the reason for a format this server
    /// cannot produce.
    pub fn from_bytes(b: &[u8; 16]) -> Result<Self, String> {
        let f = PixelFormat {
            bpp: b[0],
            depth: b[1],
            big_endian: b[2] != 0,
            true_colour: b[3] != 0,
            red_max: u16::from_be_bytes([b[4], b[5]]),
            green_max: u16::from_be_bytes([b[6], b[7]]),
            blue_max: u16::from_be_bytes([b[8], b[9]]),
            red_shift: b[10],
            green_shift: b[11],
            blue_shift: b[12],
        };
        if !matches!(f.bpp, 8 | 16 | 32) {
            return Err(format!("{} bits per pixel", f.bpp));
        }
        if !f.true_colour {
            return Err("colour-map pixel formats are not supported".into());
        }
        let fits =
            |max: u16, shift: u8| u32::from(shift) + (16 - max.leading_zeros()) <= u32::from(f.bpp);
        if !fits(f.red_max, f.red_shift)
            || !fits(f.green_max, f.green_shift)
            || !fits(f.blue_max, f.blue_shift)
        {
            return Err("a colour does not fit in the pixel".into());
        }
        Ok(f)
    }

    /// Bytes per pixel.
    pub fn bytes(&self) -> usize {
        usize::from(self.bpp / 8)
    }

    /// A 0x00RRGGBB pixel as this format's value.
    pub fn value(&self, p: u32) -> u32 {
        let scale = |c: u32, max: u16| (c * u32::from(max) + 127) / 255;
        (scale((p >> 16) & 0xff, self.red_max) << self.red_shift)
            | (scale((p >> 8) & 0xff, self.green_max) << self.green_shift)
            | (scale(p & 0xff, self.blue_max) << self.blue_shift)
    }

    /// Append pixel `p` as a PIXEL.
    pub fn put(&self, out: &mut Vec<u8>, p: u32) {
        let v = self.value(p);
        match (self.bytes(), self.big_endian) {
            (1, _) => out.push(v as u8),
            (2, false) => out.extend_from_slice(&(v as u16).to_le_bytes()),
            (2, true) => out.extend_from_slice(&(v as u16).to_be_bytes()),
            (_, false) => out.extend_from_slice(&v.to_le_bytes()),
            (_, true) => out.extend_from_slice(&v.to_be_bytes()),
        }
    }

    /// Which bytes of a PIXEL a ZRLE CPIXEL keeps: `Some(first)` for the
    /// 3 bytes from `first` when the colour bits fit in 3 of the 4 bytes of
    /// a true-colour 32-bit pixel of depth 24 or less.
    fn cpixel_bytes(&self) -> Option<usize> {
        if self.bpp != 32 || self.depth > 24 {
            return None;
        }
        let mask = self.value(0xffffff);
        let low3 = mask & 0xff00_0000 == 0;
        let high3 = mask & 0x0000_00ff == 0;
        match (low3, high3, self.big_endian) {
            (true, _, false) => Some(0),
            (true, _, true) => Some(1),
            (_, true, false) => Some(1),
            (_, true, true) => Some(0),
            _ => None,
        }
    }

    /// Append pixel `p` as a CPIXEL.
    fn put_cpixel(&self, out: &mut Vec<u8>, p: u32, cpixel: Option<usize>) {
        match cpixel {
            None => self.put(out, p),
            Some(first) => {
                let mut b = Vec::with_capacity(4);
                self.put(&mut b, p);
                out.extend_from_slice(&b[first..first + 3]);
            }
        }
    }
}

/// A rectangle header.
pub fn rect_header(out: &mut Vec<u8>, r: &Rect, encoding: i32) {
    for v in [r.x, r.y, r.w, r.h] {
        out.extend_from_slice(&(v as u16).to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
}

/// A raw rectangle's pixels.
pub fn raw(out: &mut Vec<u8>, s: &Surface, r: &Rect, f: &PixelFormat) {
    out.reserve(r.w as usize * r.h as usize * f.bytes());
    for y in r.y..r.y + r.h {
        for &p in &s.row(y)[r.x as usize..(r.x + r.w) as usize] {
            f.put(out, p);
        }
    }
}

/// One connection's ZRLE encoder: its zlib stream lives as long as the
/// connection (the protocol requires one stream per connection).
pub struct ZrleEncoder {
    z: Compress,
    tiles: Vec<u8>,
}

impl Default for ZrleEncoder {
    fn default() -> Self {
        ZrleEncoder {
            z: Compress::new(Compression::fast(), true),
            tiles: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ZrleEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZrleEncoder")
    }
}

/// Size of a ZRLE tile's side.
const TILE: u32 = 64;

impl ZrleEncoder {
    /// Append a ZRLE rectangle's data (its length, then the compressed tiles).
    pub fn encode(&mut self, out: &mut Vec<u8>, s: &Surface, r: &Rect, f: &PixelFormat) {
        self.tiles.clear();
        let cpixel = f.cpixel_bytes();
        let mut palette: Vec<u32> = Vec::with_capacity(17);
        for ty in (r.y..r.y + r.h).step_by(TILE as usize) {
            let th = TILE.min(r.y + r.h - ty);
            for tx in (r.x..r.x + r.w).step_by(TILE as usize) {
                let tw = TILE.min(r.x + r.w - tx);
                let tile = Rect::new(tx, ty, tw, th);
                palette.clear();
                'scan: for y in ty..ty + th {
                    for &p in &s.row(y)[tx as usize..(tx + tw) as usize] {
                        if !palette.contains(&p) {
                            palette.push(p);
                            if palette.len() > 16 {
                                break 'scan;
                            }
                        }
                    }
                }
                self.tile(s, &tile, f, cpixel, &palette);
            }
        }
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        let mut input = &self.tiles[..];
        loop {
            out.reserve(input.len() / 2 + 64);
            let before_in = self.z.total_in();
            let before_out = self.z.total_out();
            let spare = out.capacity() - out.len();
            self.z
                .compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate into a growing buffer cannot fail");
            let consumed = (self.z.total_in() - before_in) as usize;
            input = &input[consumed..];
            let produced = (self.z.total_out() - before_out) as usize;
            // Done once all input is in and the flush left room to spare.
            if input.is_empty() && produced < spare {
                break;
            }
        }
        let len = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn tile(
        &mut self,
        s: &Surface,
        t: &Rect,
        f: &PixelFormat,
        cpixel: Option<usize>,
        palette: &[u32],
    ) {
        let out = &mut self.tiles;
        match palette.len() {
            1 => {
                out.push(1);
                f.put_cpixel(out, palette[0], cpixel);
            }
            n @ 2..=16 => {
                out.push(n as u8);
                for &p in palette {
                    f.put_cpixel(out, p, cpixel);
                }
                let bits = match n {
                    2 => 1,
                    3..=4 => 2,
                    _ => 4,
                };
                for y in t.y..t.y + t.h {
                    let (mut byte, mut used) = (0u8, 0);
                    for &p in &s.row(y)[t.x as usize..(t.x + t.w) as usize] {
                        let i = palette.iter().position(|&q| q == p).unwrap_or(0) as u8;
                        byte |= i << (8 - bits - used);
                        used += bits;
                        if used == 8 {
                            out.push(byte);
                            (byte, used) = (0, 0);
                        }
                    }
                    if used > 0 {
                        out.push(byte);
                    }
                }
            }
            _ => {
                out.push(0);
                for y in t.y..t.y + t.h {
                    for &p in &s.row(y)[t.x as usize..(t.x + t.w) as usize] {
                        f.put_cpixel(out, p, cpixel);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// vncdotool's default format: 32 bits, red in the low byte.
    const RGBX: PixelFormat = PixelFormat {
        red_shift: 0,
        green_shift: 8,
        blue_shift: 16,
        ..PixelFormat::SERVER
    };

    #[test]
    fn pixels_follow_the_client_format() {
        let mut out = Vec::new();
        PixelFormat::SERVER.put(&mut out, 0x112233);
        assert_eq!(out, [0x33, 0x22, 0x11, 0]);
        out.clear();
        RGBX.put(&mut out, 0x112233);
        assert_eq!(out, [0x11, 0x22, 0x33, 0]);
        let rgb565_be = PixelFormat {
            bpp: 16,
            depth: 16,
            big_endian: true,
            red_max: 31,
            green_max: 63,
            blue_max: 31,
            red_shift: 11,
            green_shift: 5,
            blue_shift: 0,
            ..PixelFormat::SERVER
        };
        out.clear();
        rgb565_be.put(&mut out, 0xffffff);
        assert_eq!(out, [0xff, 0xff]);
        let parsed = PixelFormat::from_bytes(&rgb565_be.to_bytes()).unwrap();
        assert_eq!(parsed, rgb565_be);
        let mut bad = rgb565_be.to_bytes();
        bad[3] = 0;
        assert!(PixelFormat::from_bytes(&bad).is_err(), "colour map");
        assert_eq!(RGBX.cpixel_bytes(), Some(0));
        assert_eq!(rgb565_be.cpixel_bytes(), None);
    }

    /// Inflate a ZRLE rectangle and walk its tiles: the decoder's view.
    fn decode(data: &[u8], r: &Rect, f: &PixelFormat) -> Surface {
        let len = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        assert_eq!(len, data.len() - 4);
        let mut z = flate2::Decompress::new(true);
        let mut raw = Vec::with_capacity(1 << 20);
        z.decompress_vec(&data[4..], &mut raw, flate2::FlushDecompress::Sync)
            .unwrap();
        let mut s = Surface::new(r.x + r.w, r.y + r.h);
        let mut it = raw.iter().copied();
        let cp = |it: &mut dyn Iterator<Item = u8>| {
            let b: Vec<u8> = (0..3).map(|_| it.next().unwrap()).collect();
            // RGBX: red in byte 0.
            (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
        };
        assert_eq!(f, &RGBX);
        for ty in (r.y..r.y + r.h).step_by(64) {
            let th = 64.min(r.y + r.h - ty);
            for tx in (r.x..r.x + r.w).step_by(64) {
                let tw = 64.min(r.x + r.w - tx);
                let sub = it.next().unwrap();
                match sub {
                    0 => {
                        for y in ty..ty + th {
                            for x in tx..tx + tw {
                                s.row_mut(y)[x as usize] = cp(&mut it);
                            }
                        }
                    }
                    1 => {
                        let c = cp(&mut it);
                        for y in ty..ty + th {
                            s.row_mut(y)[tx as usize..(tx + tw) as usize].fill(c);
                        }
                    }
                    n @ 2..=16 => {
                        let pal: Vec<u32> = (0..n).map(|_| cp(&mut it)).collect();
                        let bits = if n == 2 {
                            1
                        } else if n <= 4 {
                            2
                        } else {
                            4
                        };
                        for y in ty..ty + th {
                            let mut used = 8;
                            let mut byte = 0u8;
                            for x in tx..tx + tw {
                                if used == 8 {
                                    byte = it.next().unwrap();
                                    used = 0;
                                }
                                let i = (byte >> (8 - bits - used)) & ((1 << bits) - 1);
                                used += bits;
                                s.row_mut(y)[x as usize] = pal[i as usize];
                            }
                        }
                    }
                    other => panic!("subencoding {other}"),
                }
            }
        }
        assert!(it.next().is_none(), "no bytes left over");
        s
    }

    #[test]
    fn zrle_round_trips_solid_palette_and_raw_tiles() {
        let mut s = Surface::new(200, 70);
        for y in 0..70 {
            for x in 0..200u32 {
                let p = match x {
                    0..64 => 0x102030,                                               // solid tile
                    64..128 => [0xff0000, 0x00ff00, 0x0000ff][(x + y) as usize % 3], // palette
                    _ => x * 0x010203 + y,                                           // raw
                };
                s.row_mut(y)[x as usize] = p;
            }
        }
        let mut enc = ZrleEncoder::default();
        for r in [Rect::new(0, 0, 200, 70), Rect::new(10, 5, 100, 60)] {
            let mut out = Vec::new();
            enc.encode(&mut out, &s, &r, &RGBX);
            // A fresh decoder only works for the first rectangle of the
            // stream, so check the second against a fresh encoder.
            let mut fresh = ZrleEncoder::default();
            let mut out2 = Vec::new();
            fresh.encode(&mut out2, &s, &r, &RGBX);
            let d = decode(&out2, &r, &RGBX);
            for y in r.y..r.y + r.h {
                assert_eq!(
                    &d.row(y)[r.x as usize..(r.x + r.w) as usize],
                    &s.row(y)[r.x as usize..(r.x + r.w) as usize]
                );
            }
            assert!(out.len() < (r.w * r.h * 3) as usize, "it compresses");
        }
    }
}
