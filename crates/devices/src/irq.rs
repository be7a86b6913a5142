//! Interrupt wires between devices and interrupt controllers.
//!
//! A device owns [`IrqLine`]s; each line is one input of an [`IrqSink`] (the
//! PLIC for device interrupts, the board's per-hart pins for the CLINT and the
//! PLIC outputs). Lines are level-triggered: the device says the level every
//! time its interrupt condition is re-evaluated, and the sink decides what a
//! repeated level means (the PLIC's gateway, for example, re-pends a source
//! whose line is still high when its claim completes).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

/// Something with numbered level-triggered interrupt inputs.
pub trait IrqSink {
    /// Input `line` is now at `level` (true = asserted). Called on every
    /// re-evaluation by the driving device, not only on changes.
    fn set_level(&self, line: u32, level: bool);
}

/// Any `Fn(line, level)` closure is a sink, so a board can wire a line to
/// whatever it likes (for example a bit in a hart's `mip`).
impl<F: Fn(u32, bool)> IrqSink for F {
    fn set_level(&self, line: u32, level: bool) {
        self(line, level)
    }
}

/// One output wire of a device: input `line` of `sink`.
///
/// Cloning a line gives a second handle to the same wire; the last level set
/// through a handle is what that handle's [`IrqLine::level`] reports.
#[derive(Clone)]
pub struct IrqLine {
    sink: Rc<dyn IrqSink>,
    line: u32,
    level: Cell<bool>,
}

impl IrqLine {
    /// A wire into input `line` of `sink`, initially low (nothing is sent).
    pub fn new(sink: Rc<dyn IrqSink>, line: u32) -> Self {
        IrqLine {
            sink,
            line,
            level: Cell::new(false),
        }
    }

    /// A wire connected to nothing: levels are remembered and dropped.
    pub fn disconnected() -> Self {
        IrqLine::new(Rc::new(|_: u32, _: bool| {}), 0)
    }

    /// Drives the line to `level` and tells the sink.
    pub fn set(&self, level: bool) {
        self.level.set(level);
        self.sink.set_level(self.line, level);
    }

    /// Asserts the line.
    pub fn raise(&self) {
        self.set(true);
    }

    /// Deasserts the line.
    pub fn lower(&self) {
        self.set(false);
    }

    /// The level last driven through this handle.
    pub fn level(&self) -> bool {
        self.level.get()
    }

    /// The sink input number this line drives.
    pub fn line(&self) -> u32 {
        self.line
    }
}

impl fmt::Debug for IrqLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrqLine")
            .field("line", &self.line)
            .field("level", &self.level.get())
            .finish()
    }
}

/// A sink that records the level of each input and how many times each was
/// driven; for tests and for boards that poll levels instead of reacting.
#[derive(Debug, Default)]
pub struct IrqLevels {
    levels: RefCell<Vec<bool>>,
    updates: RefCell<Vec<u64>>,
}

impl IrqLevels {
    /// A sink with all inputs low; inputs grow on first use.
    pub fn new() -> Rc<Self> {
        Rc::new(IrqLevels::default())
    }

    /// A line into input `line` of this sink.
    pub fn line(self: &Rc<Self>, line: u32) -> IrqLine {
        IrqLine::new(self.clone(), line)
    }

    /// `count` lines into inputs `0..count`.
    pub fn lines(self: &Rc<Self>, count: u32) -> Vec<IrqLine> {
        (0..count).map(|i| self.line(i)).collect()
    }

    /// The current level of input `line` (low if never driven).
    pub fn level(&self, line: u32) -> bool {
        self.levels
            .borrow()
            .get(line as usize)
            .copied()
            .unwrap_or(false)
    }

    /// How many times input `line` has been driven (either level).
    pub fn update_count(&self, line: u32) -> u64 {
        self.updates
            .borrow()
            .get(line as usize)
            .copied()
            .unwrap_or(0)
    }
}

impl IrqSink for IrqLevels {
    fn set_level(&self, line: u32, level: bool) {
        let index = line as usize;
        let mut levels = self.levels.borrow_mut();
        let mut updates = self.updates.borrow_mut();
        if levels.len() <= index {
            levels.resize(index + 1, false);
            updates.resize(index + 1, 0);
        }
        levels[index] = level;
        updates[index] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_drives_its_input_only() {
        let sink = IrqLevels::new();
        let a = sink.line(3);
        let b = sink.line(5);
        a.raise();
        assert!(sink.level(3));
        assert!(!sink.level(5));
        assert!(a.level());
        b.set(true);
        a.lower();
        assert!(!sink.level(3));
        assert!(sink.level(5));
        assert_eq!(sink.update_count(3), 2);
        assert_eq!(sink.update_count(5), 1);
        assert_eq!(a.line(), 3);
    }

    #[test]
    fn closure_is_a_sink() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let line = IrqLine::new(
            Rc::new(move |n: u32, l: bool| log.borrow_mut().push((n, l))),
            7,
        );
        line.raise();
        line.lower();
        assert_eq!(*seen.borrow(), vec![(7, true), (7, false)]);
    }

    #[test]
    fn disconnected_line_remembers_level() {
        let line = IrqLine::disconnected();
        line.raise();
        assert!(line.level());
        line.lower();
        assert!(!line.level());
    }
}
