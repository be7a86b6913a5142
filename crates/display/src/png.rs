//! Screendumps: a surface as a PNG file (the `png` crate), written at exit
//! by `--display png:FILE` and at any time by the monitor's `screendump`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::{Backend, DisplayError, Surface, Update};

/// The picture written when the guest has set no mode: QEMU's console is
/// 640×480 before a guest draws.
pub const BLANK_SIZE: (u32, u32) = (640, 480);

/// Write `surface` (a black 640×480 picture for `None`) to `path` as an
/// 8-bit RGB PNG.
pub fn write_png(surface: Option<&Surface>, path: &Path) -> Result<(), DisplayError> {
    let blank;
    let surface = match surface {
        Some(s) => s,
        None => {
            blank = Surface::new(BLANK_SIZE.0, BLANK_SIZE.1);
            &blank
        }
    };
    let err = |source: std::io::Error| DisplayError::Png {
        path: path.display().to_string(),
        source,
    };
    let file = File::create(path).map_err(err)?;
    let mut enc = ::png::Encoder::new(BufWriter::new(file), surface.width(), surface.height());
    enc.set_color(::png::ColorType::Rgb);
    enc.set_depth(::png::BitDepth::Eight);
    let to_io = |e: ::png::EncodingError| match e {
        ::png::EncodingError::IoError(e) => e,
        e => std::io::Error::other(e.to_string()),
    };
    let mut w = enc.write_header().map_err(|e| err(to_io(e)))?;
    w.write_image_data(&surface.to_rgb8())
        .map_err(|e| err(to_io(e)))?;
    w.finish().map_err(|e| err(to_io(e)))
}

/// Read a PNG written by [`write_png`] (or any 8-bit RGB or RGBA PNG) back
/// into a surface: what tests compare screendumps with.
pub fn read_png(path: &Path) -> Result<Surface, DisplayError> {
    let err = |source: std::io::Error| DisplayError::Png {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(err)?;
    let dec = ::png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = dec
        .read_info()
        .map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let channels = match (info.color_type, info.bit_depth) {
        (::png::ColorType::Rgb, ::png::BitDepth::Eight) => 3,
        (::png::ColorType::Rgba, ::png::BitDepth::Eight) => 4,
        other => {
            return Err(err(std::io::Error::other(format!(
                "unsupported PNG layout {other:?}"
            ))));
        }
    };
    let mut s = Surface::new(info.width, info.height);
    for y in 0..info.height {
        let line = &buf[y as usize * info.line_size..][..info.width as usize * channels];
        for (o, p) in s.row_mut(y).iter_mut().zip(line.chunks_exact(channels)) {
            *o = (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2]);
        }
    }
    Ok(s)
}

/// `--display png:FILE`: the last picture, written when the run ends.
#[derive(Debug)]
pub struct PngBackend {
    path: String,
}

impl PngBackend {
    /// A back-end writing `path` at exit.
    pub fn new(path: &str) -> Self {
        PngBackend { path: path.into() }
    }
}

impl Backend for PngBackend {
    fn describe(&self) -> String {
        format!("png:{}", self.path)
    }
    fn update(&mut self, _: Option<&Surface>, _: &Update) {}
    fn finish(&mut self, surface: Option<&Surface>) -> Result<(), DisplayError> {
        write_png(surface, Path::new(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_reads_back_as_written() {
        let dir = std::env::temp_dir().join(format!("ferrite-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.png");
        let mut s = Surface::new(3, 2);
        s.row_mut(0)
            .copy_from_slice(&[0xff0000, 0x00ff00, 0x0000ff]);
        s.row_mut(1).copy_from_slice(&[0x123456, 0, 0xffffff]);
        write_png(Some(&s), &path).unwrap();
        assert_eq!(read_png(&path).unwrap(), s);
        write_png(None, &path).unwrap();
        let blank = read_png(&path).unwrap();
        assert_eq!((blank.width(), blank.height()), BLANK_SIZE);
        assert!(blank.pixels().iter().all(|&p| p == 0));
        let e = write_png(Some(&s), &dir.join("no/such/dir.png")).unwrap_err();
        assert!(e.to_string().contains("no/such/dir.png"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
