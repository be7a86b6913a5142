//! The host side of a display: a surface of 0x00RRGGBB pixels, the scan-out
//! mode it is converted from, and rectangles.

/// How the guest's framebuffer stores a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 16 bits, red 5, green 6, blue 5, little endian.
    Rgb565,
    /// 32 bits x-r-g-b, little endian (blue in the first byte).
    Xrgb8888,
    /// 32 bits x-r-g-b, big endian (x in the first byte).
    Xrgb8888BigEndian,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes(self) -> u32 {
        match self {
            PixelFormat::Rgb565 => 2,
            PixelFormat::Xrgb8888 | PixelFormat::Xrgb8888BigEndian => 4,
        }
    }

    /// Convert one row of guest pixels (`src`, `out.len()` pixels of this
    /// format) into 0x00RRGGBB.
    pub fn convert_row(self, src: &[u8], out: &mut [u32]) {
        match self {
            PixelFormat::Xrgb8888 => {
                for (o, p) in out.iter_mut().zip(src.chunks_exact(4)) {
                    *o = u32::from_le_bytes([p[0], p[1], p[2], 0]);
                }
            }
            PixelFormat::Xrgb8888BigEndian => {
                for (o, p) in out.iter_mut().zip(src.chunks_exact(4)) {
                    *o = u32::from_be_bytes([0, p[1], p[2], p[3]]);
                }
            }
            PixelFormat::Rgb565 => {
                for (o, p) in out.iter_mut().zip(src.chunks_exact(2)) {
                    let v = u32::from(u16::from_le_bytes([p[0], p[1]]));
                    let (r, g, b) = ((v >> 11) & 0x1f, (v >> 5) & 0x3f, v & 0x1f);
                    let (r, g, b) = (
                        (r << 3) | (r >> 2),
                        (g << 2) | (g >> 4),
                        (b << 3) | (b >> 2),
                    );
                    *o = (r << 16) | (g << 8) | b;
                }
            }
        }
    }
}

/// Where in VRAM a picture is scanned out from, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScanoutMode {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: u32,
    /// Byte offset of the first pixel in the VRAM region.
    pub offset: u64,
    /// Pixel format.
    pub format: PixelFormat,
}

impl ScanoutMode {
    /// Bytes of one row's pixels (without the stride's padding).
    pub fn row_bytes(&self) -> u64 {
        u64::from(self.width) * u64::from(self.format.bytes())
    }

    /// VRAM offset of row `y`.
    pub fn row_offset(&self, y: u32) -> u64 {
        self.offset + u64::from(y) * u64::from(self.stride)
    }

    /// Bytes from the first pixel to the end of the last row.
    pub fn span(&self) -> u64 {
        if self.height == 0 {
            return 0;
        }
        self.row_offset(self.height - 1) + self.row_bytes() - self.offset
    }
}

/// A rectangle of the surface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels.
    pub w: u32,
    /// Height in pixels.
    pub h: u32,
}

impl Rect {
    /// A rectangle.
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Self {
        Rect { x, y, w, h }
    }

    /// Whether it covers nothing.
    pub fn is_empty(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    /// The part of it inside `other`.
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        if x1 <= x0 || y1 <= y0 {
            return Rect::default();
        }
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let x0 = self.x.min(other.x);
        let y0 = self.y.min(other.y);
        let x1 = (self.x + self.w).max(other.x + other.w);
        let y1 = (self.y + self.h).max(other.y + other.h);
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }
}

/// The host's copy of the picture: `width × height` pixels, 0x00RRGGBB,
/// row after row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Surface {
    width: u32,
    height: u32,
    pixels: Vec<u32>,
}

impl Surface {
    /// A black surface.
    pub fn new(width: u32, height: u32) -> Self {
        Surface {
            width,
            height,
            pixels: vec![0; width as usize * height as usize],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The whole surface as a rectangle.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// Every pixel, row after row.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// Row `y`.
    pub fn row(&self, y: u32) -> &[u32] {
        let w = self.width as usize;
        &self.pixels[y as usize * w..(y as usize + 1) * w]
    }

    /// Row `y`, to write.
    pub fn row_mut(&mut self, y: u32) -> &mut [u32] {
        let w = self.width as usize;
        &mut self.pixels[y as usize * w..(y as usize + 1) * w]
    }

    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: u32, y: u32) -> u32 {
        self.pixels[y as usize * self.width as usize + x as usize]
    }

    /// The pixels as 8-bit RGB triples, row after row (what PNG stores).
    pub fn to_rgb8(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.pixels.len() * 3);
        for &p in &self.pixels {
            out.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_convert_to_xrgb() {
        let mut out = [0u32; 2];
        PixelFormat::Xrgb8888.convert_row(&[0x33, 0x22, 0x11, 0xff, 1, 2, 3, 4], &mut out);
        assert_eq!(out, [0x112233, 0x030201]);
        PixelFormat::Xrgb8888BigEndian.convert_row(&[0xff, 0x11, 0x22, 0x33, 0, 1, 2, 3], &mut out);
        assert_eq!(out, [0x112233, 0x010203]);
        // White, and pure green (0x07e0).
        PixelFormat::Rgb565.convert_row(&[0xff, 0xff, 0xe0, 0x07], &mut out);
        assert_eq!(out, [0xffffff, 0x00ff00]);
    }

    #[test]
    fn rectangles_intersect_and_unite() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, 5, 10, 10);
        assert_eq!(a.intersect(&b), Rect::new(5, 5, 5, 5));
        assert_eq!(a.union(&b), Rect::new(0, 0, 15, 15));
        assert!(a.intersect(&Rect::new(20, 20, 1, 1)).is_empty());
        assert_eq!(Rect::default().union(&b), b);
    }

    #[test]
    fn a_mode_knows_its_rows() {
        let m = ScanoutMode {
            width: 100,
            height: 10,
            stride: 512,
            offset: 64,
            format: PixelFormat::Xrgb8888,
        };
        assert_eq!(m.row_bytes(), 400);
        assert_eq!(m.row_offset(2), 64 + 1024);
        assert_eq!(m.span(), 9 * 512 + 400);
    }
}
