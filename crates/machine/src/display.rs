//! The machine's display: the bochs-display's scan-out, a
//! [`ferrite_display::Display`] refreshed from its VRAM every N ms of guest
//! time, and the back-ends `--display` asked for.
//!
//! Refreshes happen when the scheduler services the devices and virtual
//! time has passed the next refresh point, so what the back-ends get
//! depends on the guest's instruction count only. The back-ends' host side
//! (VNC clients) is served after each refresh and while the guest idles.

use std::path::Path;
use std::rc::Rc;

use ferrite_devices::BochsDisplay;
use ferrite_devices::bochs_display::PixelLayout;
use ferrite_display::png::PngBackend;
use ferrite_display::vnc::VncServer;
use ferrite_display::{Backend, BackendSpec, Display, PixelFormat, RefreshStats, ScanoutMode};
use ferrite_memory::MemorySystem;

use crate::error::{MachineError, Result};
use crate::layout::TIMEBASE_HZ;

/// The display of a machine with a display device.
pub(crate) struct DisplayUnit {
    device: Rc<BochsDisplay>,
    display: Display,
    backends: Vec<Box<dyn Backend>>,
    /// Ticks between refreshes.
    period: u64,
    /// The tick of the next refresh.
    next: u64,
    /// The tick of the last paced or idle refresh.
    last: Option<u64>,
}

impl std::fmt::Debug for DisplayUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DisplayUnit")
            .field("backends", &self.backends.len())
            .finish()
    }
}

impl DisplayUnit {
    /// The display of `device`, refreshed every `refresh_ms` of guest time,
    /// starting the back-ends of `specs`.
    pub fn new(device: Rc<BochsDisplay>, specs: &[BackendSpec], refresh_ms: u64) -> Result<Self> {
        let mut backends: Vec<Box<dyn Backend>> = Vec::new();
        for spec in specs {
            match spec {
                BackendSpec::None => {}
                BackendSpec::Png(path) => backends.push(Box::new(PngBackend::new(path))),
                BackendSpec::Vnc(addr) => {
                    let server = VncServer::bind(addr)?;
                    tracing::info!("VNC server on {}", server.local_addr());
                    backends.push(Box::new(server));
                }
                BackendSpec::Window => backends.push(window()?),
            }
        }
        let period = refresh_ms.max(1).saturating_mul(TIMEBASE_HZ / 1000);
        Ok(DisplayUnit {
            device,
            display: Display::new(),
            backends,
            period,
            next: 0,
            last: None,
        })
    }

    /// Hand the back-ends over (a reboot moves them to the new board).
    pub fn take_backends(&mut self) -> Vec<Box<dyn Backend>> {
        std::mem::take(&mut self.backends)
    }

    /// Take over back-ends started by an earlier board.
    pub fn adopt_backends(&mut self, backends: Vec<Box<dyn Backend>>) {
        self.backends.extend(backends);
    }

    /// What each back-end is (a VNC server with the port it got).
    pub fn started(&self) -> Vec<String> {
        self.backends.iter().map(|b| b.describe()).collect()
    }

    /// The scan-out the device's registers describe.
    fn mode(&self) -> Option<ScanoutMode> {
        self.device.mode().map(|m| ScanoutMode {
            width: m.width,
            height: m.height,
            stride: m.stride,
            offset: m.offset,
            format: match m.layout {
                PixelLayout::Rgb565 => PixelFormat::Rgb565,
                PixelLayout::Xrgb8888 => PixelFormat::Xrgb8888,
                PixelLayout::Xrgb8888BigEndian => PixelFormat::Xrgb8888BigEndian,
            },
        })
    }

    /// Refresh if guest time has reached the next refresh.
    pub fn tick(&mut self, mem: &mut MemorySystem, now: u64) {
        if now < self.next {
            return;
        }
        self.next = now.saturating_add(self.period);
        self.last = Some(now);
        self.refresh(mem);
    }

    /// Every hart idles with nothing to wake it before someone on the host
    /// acts: show what the guest drew since the last refresh (once per
    /// idle point, which is a deterministic moment of the run), then serve
    /// the back-ends' host side.
    pub fn idle(&mut self, mem: &mut MemorySystem, now: u64) {
        if self.last != Some(now) {
            self.last = Some(now);
            self.refresh(mem);
        }
        self.poll();
    }

    /// Refresh now and hand the update to every back-end.
    pub fn refresh(&mut self, mem: &mut MemorySystem) {
        let mode = self.mode();
        let update = self.display.refresh(mem, self.device.vram(), mode);
        for b in &mut self.backends {
            b.update(self.display.surface(), &update);
        }
    }

    /// Serve the back-ends' host side (the guest idles).
    pub fn poll(&mut self) {
        for b in &mut self.backends {
            b.poll(self.display.surface());
        }
    }

    /// Whether a back-end has someone watching (an idle guest keeps running).
    pub fn is_interactive(&self) -> bool {
        self.backends.iter().any(|b| b.is_interactive())
    }

    /// Whether the user closed a window.
    pub fn closed(&self) -> bool {
        self.backends.iter().any(|b| b.closed())
    }

    /// Write the picture as it is now to `path`.
    pub fn screendump(&mut self, mem: &mut MemorySystem, path: &Path) -> Result<()> {
        self.refresh(mem);
        ferrite_display::png::write_png(self.display.surface(), path)?;
        Ok(())
    }

    /// The run is over: a last refresh, then what the back-ends write at exit.
    pub fn finish(&mut self, mem: &mut MemorySystem) -> Result<()> {
        self.refresh(mem);
        let mut first_error = None;
        for b in &mut self.backends {
            if let Err(e) = b.finish(self.display.surface()) {
                first_error.get_or_insert(MachineError::from(e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The refreshes' counts.
    pub fn stats(&self) -> RefreshStats {
        self.display.stats()
    }

    /// `info display`: the mode, the refresh counts and each back-end.
    pub fn info(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        match self.display.mode() {
            Some(m) => {
                let _ = writeln!(
                    out,
                    "bochs-display: {}x{} {:?}, stride {}, offset {:#x}",
                    m.width, m.height, m.format, m.stride, m.offset
                );
            }
            None => out.push_str("bochs-display: no mode set\n"),
        }
        let s = self.display.stats();
        let _ = writeln!(
            out,
            "refreshes {} (full {}), rows converted {}, every {} ms of guest time",
            s.refreshes,
            s.full,
            s.rows_converted,
            self.period / (TIMEBASE_HZ / 1000)
        );
        for b in &self.backends {
            let _ = writeln!(out, "{}", b.status());
        }
        out
    }
}

#[cfg(feature = "window")]
fn window() -> Result<Box<dyn Backend>> {
    Ok(Box::new(ferrite_display::window::WindowBackend::new()?))
}

#[cfg(not(feature = "window"))]
fn window() -> Result<Box<dyn Backend>> {
    Err(MachineError::Display(
        ferrite_display::DisplayError::Window(
            "this ferrite was built without the `window` feature (cargo build --features window)"
                .into(),
        ),
    ))
}
