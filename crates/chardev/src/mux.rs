//! QEMU's `mon:stdio`: one terminal shared by the guest's console and the
//! monitor. `Ctrl-A c` (decoded by [`crate::Stdio`]) switches which of the
//! two the keys go to; the guest's output is printed whichever has them.
//!
//! The terminal back-end puts the keys meant for the monitor here, and
//! keys for the guest that arrived while nobody read the console (the
//! machine stopped) are kept here until the guest reads again.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::{CharBackend, CharInput};

/// The shared state of a multiplexed terminal. Clones share it.
#[derive(Clone, Default)]
pub struct ConsoleMux(Rc<MuxState>);

#[derive(Default)]
struct MuxState {
    monitor_focus: Cell<bool>,
    switched: Cell<bool>,
    monitor_input: RefCell<VecDeque<u8>>,
    guest_pending: RefCell<VecDeque<u8>>,
    /// [`ConsoleMux::pump`] is reading: kept guest keys stay kept.
    pumping: Cell<bool>,
}

impl std::fmt::Debug for ConsoleMux {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleMux")
            .field("monitor_focus", &self.0.monitor_focus.get())
            .finish_non_exhaustive()
    }
}

/// Two handles are equal when they share one terminal.
impl PartialEq for ConsoleMux {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ConsoleMux {}

impl ConsoleMux {
    /// A terminal whose keys go to the guest until `Ctrl-A c`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether keys go to the monitor.
    pub fn monitor_has_focus(&self) -> bool {
        self.0.monitor_focus.get()
    }

    /// `Ctrl-A c`: the keys go to the other side.
    pub fn switch_focus(&self) {
        self.0.monitor_focus.set(!self.0.monitor_focus.get());
        self.0.switched.set(true);
    }

    /// If the focus changed since the last call: whether the monitor has it
    /// now.
    pub fn take_switch(&self) -> Option<bool> {
        self.0
            .switched
            .replace(false)
            .then(|| self.0.monitor_focus.get())
    }

    /// Keys typed for the monitor since the last call.
    pub fn take_monitor_input(&self) -> Vec<u8> {
        self.0.monitor_input.borrow_mut().drain(..).collect()
    }

    /// A key typed for the monitor.
    #[cfg_attr(not(unix), allow(dead_code))] // Only the Unix terminal decodes escapes.
    pub(crate) fn push_monitor_input(&self, byte: u8) {
        self.0.monitor_input.borrow_mut().push_back(byte);
    }

    /// Keys for the guest read while the guest was not reading: it gets
    /// them first when it reads next.
    pub fn keep_guest_input(&self, bytes: &[u8]) {
        self.0.guest_pending.borrow_mut().extend(bytes);
    }

    /// Reads what the terminal `backend` has now, while no device reads it
    /// (the machine is stopped): keys for the guest are kept for it, keys
    /// for the monitor are queued for [`ConsoleMux::take_monitor_input`].
    /// True if `Ctrl-A x` asked to quit.
    pub fn pump(&self, backend: &mut dyn CharBackend) -> bool {
        let mut buf = [0u8; 256];
        self.0.pumping.set(true);
        let quit = loop {
            match backend.read_input(&mut buf) {
                Ok(CharInput::Data(n)) => self.keep_guest_input(&buf[..n]),
                Ok(CharInput::Quit) => break true,
                Ok(CharInput::Idle) | Err(_) => break false,
            }
        };
        self.0.pumping.set(false);
        quit
    }

    /// Moves kept guest keys into `buf`; how many.
    #[cfg_attr(not(unix), allow(dead_code))] // Only the Unix terminal reads them.
    pub(crate) fn take_guest_input(&self, buf: &mut [u8]) -> usize {
        if self.0.pumping.get() {
            return 0;
        }
        let mut q = self.0.guest_pending.borrow_mut();
        let n = q.len().min(buf.len());
        for (slot, b) in buf.iter_mut().zip(q.drain(..n)) {
            *slot = b;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_switches_and_input_is_kept_apart() {
        let m = ConsoleMux::new();
        assert!(!m.monitor_has_focus());
        assert_eq!(m.take_switch(), None);
        m.switch_focus();
        assert_eq!(m.take_switch(), Some(true));
        assert_eq!(m.take_switch(), None);
        m.push_monitor_input(b'i');
        m.keep_guest_input(b"ab");
        assert_eq!(m.take_monitor_input(), b"i");
        let mut buf = [0u8; 1];
        assert_eq!(m.take_guest_input(&mut buf), 1);
        assert_eq!(buf, *b"a");
        let mut buf = [0u8; 4];
        assert_eq!(m.take_guest_input(&mut buf), 1);
        assert_eq!(buf[0], b'b');
        assert_eq!(m.clone(), m);
        assert_ne!(ConsoleMux::new(), m);
    }
}
