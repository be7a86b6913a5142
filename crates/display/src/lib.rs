//! Ferrite's displays: the host's picture of a guest framebuffer, kept up
//! to date from the **VGA dirty bitmap**, and the back-ends that show it.
//!
//! # The one rule
//!
//! **A refresh converts only what the guest wrote.** The framebuffer is a
//! RAM region with VGA dirty logging on; each [`Display::refresh`] takes
//! `snapshot_and_clear_dirty(VGA)` over the scanned-out part of it and
//! re-converts only the rows whose bytes lie on a dirty page (QEMU's
//! `bochs_display_update`). A mode change (size, format, stride, offset)
//! re-converts everything. The rows converted become the [`Update`]'s
//! rectangles, which the back-ends use in turn: the VNC server sends only
//! them to its clients.
//!
//! This crate depends on the memory API alone: it knows a VRAM region and
//! a [`ScanoutMode`], not which device produced them.
//!
//! # Back-ends
//!
//! * [`png`]: a screendump, written at exit and on demand.
//! * [`vnc`]: a VNC server (RFB 3.8; raw and ZRLE encodings; several
//!   clients; incremental updates from the dirty rectangles).
//! * `window` (cargo feature `window`, off by default): a host window.
//!
//! Refreshes are paced by the caller (the machine refreshes every N ms of
//! *guest* time), so what a run shows is deterministic.

#![warn(missing_docs)]

pub mod png;
mod surface;
pub mod vnc;
#[cfg(feature = "window")]
pub mod window;

use ferrite_memory::{DirtyClient, MemorySystem, RegionId};

pub use surface::{PixelFormat, Rect, ScanoutMode, Surface};

/// Errors of the display back-ends.
#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    /// Writing a screendump failed.
    #[error("screendump {path}: {source}")]
    Png {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The VNC server could not start.
    #[error("vnc {addr}: {source}")]
    Vnc {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A `--display` specification that means nothing.
    #[error("display {spec:?}: {reason}")]
    Spec {
        /// The text given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// The host window could not open.
    #[error("window: {0}")]
    Window(String),
}

/// What one refresh changed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Update {
    /// The surface was made anew (a mode change): everything changed.
    pub resized: bool,
    /// The rectangles whose pixels changed (full-width runs of rows).
    pub rects: Vec<Rect>,
}

impl Update {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.resized && self.rects.is_empty()
    }
}

/// Counts of a display's work, for tests and `info display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RefreshStats {
    /// Refreshes made.
    pub refreshes: u64,
    /// Refreshes that re-converted everything (mode changes).
    pub full: u64,
    /// Rows converted in all.
    pub rows_converted: u64,
    /// Rows converted by the last refresh.
    pub last_rows: u64,
}

/// The host's picture of one scan-out, refreshed from VRAM.
#[derive(Debug, Default)]
pub struct Display {
    mode: Option<ScanoutMode>,
    surface: Option<Surface>,
    row: Vec<u8>,
    stats: RefreshStats,
}

impl Display {
    /// A display showing nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current picture; `None` while no valid mode is set.
    pub fn surface(&self) -> Option<&Surface> {
        self.surface.as_ref()
    }

    /// The mode of the current picture.
    pub fn mode(&self) -> Option<ScanoutMode> {
        self.mode
    }

    /// What the refreshes have done.
    pub fn stats(&self) -> RefreshStats {
        self.stats
    }

    /// Bring the picture up to date with `mode` of the VRAM region `vram`
    /// (see the crate docs). A mode that does not fit in the region shows
    /// nothing.
    pub fn refresh(
        &mut self,
        mem: &mut MemorySystem,
        vram: RegionId,
        mode: Option<ScanoutMode>,
    ) -> Update {
        self.stats.refreshes += 1;
        self.stats.last_rows = 0;
        let vram_size = mem.region_size(vram).unwrap_or(0);
        let mode = mode.filter(|m| u128::from(m.offset + m.span()) <= vram_size && m.width > 0);
        if mode != self.mode {
            self.mode = mode;
            let Some(m) = mode else {
                self.surface = None;
                return Update {
                    resized: true,
                    rects: Vec::new(),
                };
            };
            // Everything is converted: the dirty bits so far are spent.
            mem.snapshot_and_clear_dirty(vram, m.offset, m.span(), DirtyClient::Vga);
            let mut surface = Surface::new(m.width, m.height);
            for y in 0..m.height {
                self.convert_row(mem, vram, &m, &mut surface, y);
            }
            self.stats.full += 1;
            self.surface = Some(surface);
            return Update {
                resized: true,
                rects: vec![Rect::new(0, 0, m.width, m.height)],
            };
        }
        let (Some(m), Some(mut surface)) = (mode, self.surface.take()) else {
            return Update::default();
        };
        let snap = mem.snapshot_and_clear_dirty(vram, m.offset, m.span(), DirtyClient::Vga);
        let mut rects = Vec::new();
        let mut run: Option<u32> = None;
        for y in 0..m.height {
            let dirty = snap.get_dirty(m.row_offset(y), m.row_bytes());
            if dirty {
                self.convert_row(mem, vram, &m, &mut surface, y);
                run.get_or_insert(y);
            } else if let Some(start) = run.take() {
                rects.push(Rect::new(0, start, m.width, y - start));
            }
        }
        if let Some(start) = run {
            rects.push(Rect::new(0, start, m.width, m.height - start));
        }
        self.surface = Some(surface);
        Update {
            resized: false,
            rects,
        }
    }

    fn convert_row(
        &mut self,
        mem: &MemorySystem,
        vram: RegionId,
        m: &ScanoutMode,
        surface: &mut Surface,
        y: u32,
    ) {
        self.row.resize(m.row_bytes() as usize, 0);
        if mem
            .read_ram_region(vram, m.row_offset(y), &mut self.row)
            .is_err()
        {
            // The mode was checked against the region's size; a region
            // that is not RAM shows black.
            self.row.fill(0);
        }
        m.format.convert_row(&self.row, surface.row_mut(y));
        self.stats.rows_converted += 1;
        self.stats.last_rows += 1;
    }
}

/// Where a display's pictures go: a back-end.
pub trait Backend {
    /// A short description (`png:FILE`, `vnc:HOST:PORT`, ...).
    fn describe(&self) -> String;
    /// A refresh produced `update` of `surface` (`None`: no mode).
    fn update(&mut self, surface: Option<&Surface>, update: &Update);
    /// Serve the host side (clients, window events) in host time; called
    /// after refreshes and while the guest idles.
    fn poll(&mut self, _surface: Option<&Surface>) {}
    /// The run is over: write what must be written.
    fn finish(&mut self, _surface: Option<&Surface>) -> Result<(), DisplayError> {
        Ok(())
    }
    /// Whether someone on the host may be watching, so an idle guest should
    /// keep running instead of ending the run (VNC, a window).
    fn is_interactive(&self) -> bool {
        false
    }
    /// One line about the back-end's state for `info display`.
    fn status(&self) -> String {
        self.describe()
    }
    /// Whether the user closed it (a window): the run should end.
    fn closed(&self) -> bool {
        false
    }
}

/// One `--display` choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendSpec {
    /// No output.
    None,
    /// A PNG written at exit.
    Png(String),
    /// A VNC server listening on `host:port`.
    Vnc(String),
    /// A host window.
    Window,
}

impl std::str::FromStr for BackendSpec {
    type Err = DisplayError;

    /// `none`, `png:FILE`, `vnc:HOST:PORT` (an empty host is 127.0.0.1:
    /// `vnc::5900`), `window`.
    fn from_str(s: &str) -> Result<Self, DisplayError> {
        let bad = |reason: &str| DisplayError::Spec {
            spec: s.into(),
            reason: reason.into(),
        };
        if s == "none" {
            return Ok(BackendSpec::None);
        }
        if s == "window" {
            return Ok(BackendSpec::Window);
        }
        if let Some(file) = s.strip_prefix("png:") {
            if file.is_empty() {
                return Err(bad("png: needs a file name"));
            }
            return Ok(BackendSpec::Png(file.into()));
        }
        if let Some(addr) = s.strip_prefix("vnc:") {
            return vnc::parse_address(addr)
                .map(BackendSpec::Vnc)
                .map_err(|r| bad(&r));
        }
        Err(bad("expected none, png:FILE, vnc:HOST:PORT or window"))
    }
}

#[cfg(test)]
mod tests;
