//! `--display window`: the picture in a host window (minifb), behind the
//! `window` cargo feature because CI machines have no display. Keys pressed
//! in the window are logged like VNC key events; closing the window ends
//! the run.

use minifb::{Window, WindowOptions};

use crate::{Backend, DisplayError, Surface, Update};

/// The window back-end.
pub struct WindowBackend {
    window: Option<Window>,
    size: (u32, u32),
    closed: bool,
    keys: u64,
}

impl std::fmt::Debug for WindowBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowBackend")
            .field("size", &self.size)
            .finish()
    }
}

impl WindowBackend {
    /// A back-end whose window opens with the first picture.
    pub fn new() -> Result<Self, DisplayError> {
        Ok(WindowBackend {
            window: None,
            size: (0, 0),
            closed: false,
            keys: 0,
        })
    }

    fn show(&mut self, surface: Option<&Surface>) {
        let blank;
        let s = match surface {
            Some(s) => s,
            None => {
                blank = Surface::new(crate::png::BLANK_SIZE.0, crate::png::BLANK_SIZE.1);
                &blank
            }
        };
        if self.window.is_none() || self.size != (s.width(), s.height()) {
            match Window::new(
                "ferrite",
                s.width() as usize,
                s.height() as usize,
                WindowOptions::default(),
            ) {
                Ok(w) => {
                    self.window = Some(w);
                    self.size = (s.width(), s.height());
                }
                Err(e) => {
                    tracing::error!("window: {e}");
                    self.closed = true;
                    return;
                }
            }
        }
        if let Some(w) = &mut self.window {
            if let Err(e) =
                w.update_with_buffer(s.pixels(), s.width() as usize, s.height() as usize)
            {
                tracing::error!("window: {e}");
            }
        }
    }
}

impl Backend for WindowBackend {
    fn describe(&self) -> String {
        "window".into()
    }
    fn update(&mut self, surface: Option<&Surface>, update: &Update) {
        if !update.is_empty() || self.window.is_none() {
            self.show(surface);
        }
    }
    fn poll(&mut self, _surface: Option<&Surface>) {
        if let Some(w) = &mut self.window {
            w.update();
            if !w.is_open() {
                self.closed = true;
            }
            for k in w.get_keys_pressed(minifb::KeyRepeat::No) {
                self.keys += 1;
                tracing::info!(target: "vnc", "window: key {k:?}");
            }
        }
    }
    fn is_interactive(&self) -> bool {
        !self.closed
    }
    fn closed(&self) -> bool {
        self.closed
    }
    fn status(&self) -> String {
        format!(
            "window {}x{}: {} key(s)",
            self.size.0, self.size.1, self.keys
        )
    }
}
