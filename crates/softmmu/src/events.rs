//! Memory events that reach a CPU between instructions.
//!
//! The memory API tells its clients about two things through callbacks:
//! dirty bits being cleared (`add_dirty_clear_notifier`) and writes from
//! outside the CPU landing on pages that hold translated code
//! (`set_code_write_hook`). Those callbacks run while the memory system is
//! busy (the CPU may itself be in the middle of an access), so they only
//! queue an event and raise a flag; the CPU drains its queue at block
//! boundaries and after every MMIO access. The flag is a `Cell<bool>`: the
//! check on the hot path is one load, and the `RefCell` queue is only touched
//! when something is pending.
//!
//! A machine has one [`EventHub`] attached to its memory system; each CPU
//! subscribes an [`EventQueue`] to it, so a multi-hart machine needs only the
//! one code-write hook the memory API has room for.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use ferrite_memory::{MemorySystem, RamAddr};

/// One memory event, in ram addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemEvent {
    /// Dirty bits of some client were cleared for `start..start + len`:
    /// re-arm NOTDIRTY on TLB slots mapping those pages.
    DirtyCleared {
        /// First ram address.
        start: u64,
        /// Length in bytes.
        len: u64,
    },
    /// Something other than this CPU wrote `start..start + len` on pages
    /// holding translated code: invalidate the blocks there.
    CodeWritten {
        /// First ram address.
        start: u64,
        /// Length in bytes.
        len: u64,
    },
}

/// A CPU's queue of pending memory events.
#[derive(Debug, Default)]
pub struct EventQueue {
    pending: Cell<bool>,
    events: RefCell<Vec<MemEvent>>,
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Whether any event is waiting. One load: cheap enough for hot paths.
    #[inline(always)]
    pub fn pending(&self) -> bool {
        self.pending.get()
    }

    /// Queue `event`.
    pub fn push(&self, event: MemEvent) {
        if let Ok(mut q) = self.events.try_borrow_mut() {
            // Coalesce a repeat of the last event (page-by-page clears of one range).
            if q.last() != Some(&event) {
                q.push(event);
            }
        }
        self.pending.set(true);
    }

    /// Take every queued event, leaving the queue empty.
    pub fn drain(&self) -> Vec<MemEvent> {
        self.pending.set(false);
        match self.events.try_borrow_mut() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => Vec::new(),
        }
    }
}

/// Fans memory events out to every subscribed CPU queue.
#[derive(Debug, Default)]
pub struct EventHub {
    queues: RefCell<Vec<Weak<EventQueue>>>,
    attached: Cell<bool>,
}

impl EventHub {
    /// A hub with no subscribers, not yet attached to a memory system.
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// Register the hub's callbacks with `mem` (once; later calls do nothing).
    pub fn attach(self: &Rc<Self>, mem: &mut MemorySystem) {
        if self.attached.replace(true) {
            return;
        }
        let hub = Rc::downgrade(self);
        mem.add_dirty_clear_notifier(Box::new(move |start: RamAddr, len: u64| {
            if let Some(h) = hub.upgrade() {
                h.broadcast(MemEvent::DirtyCleared {
                    start: start.0,
                    len,
                });
            }
        }));
        let hub = Rc::downgrade(self);
        mem.set_code_write_hook(Box::new(move |start: RamAddr, len: u64| {
            if let Some(h) = hub.upgrade() {
                h.broadcast(MemEvent::CodeWritten {
                    start: start.0,
                    len,
                });
            }
        }));
    }

    /// Add a CPU's queue.
    pub fn subscribe(&self, queue: &Rc<EventQueue>) {
        let mut qs = self.queues.borrow_mut();
        qs.retain(|q| q.strong_count() > 0);
        qs.push(Rc::downgrade(queue));
    }

    /// Deliver `event` to every live subscriber.
    pub fn broadcast(&self, event: MemEvent) {
        if let Ok(qs) = self.queues.try_borrow() {
            for q in qs.iter().filter_map(Weak::upgrade) {
                q.push(event);
            }
        }
    }

    /// Deliver `event` to every live subscriber except `own` (a CPU telling
    /// the others about something it has already handled itself, such as a
    /// store of its own into translated code).
    pub fn broadcast_except(&self, event: MemEvent, own: &Rc<EventQueue>) {
        if let Ok(qs) = self.queues.try_borrow() {
            for q in qs.iter().filter_map(Weak::upgrade) {
                if !Rc::ptr_eq(&q, own) {
                    q.push(event);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_flags_and_drains() {
        let q = EventQueue::new();
        assert!(!q.pending());
        q.push(MemEvent::DirtyCleared {
            start: 0,
            len: 4096,
        });
        q.push(MemEvent::DirtyCleared {
            start: 0,
            len: 4096,
        });
        q.push(MemEvent::CodeWritten { start: 8, len: 4 });
        assert!(q.pending());
        let ev = q.drain();
        assert_eq!(
            ev,
            vec![
                MemEvent::DirtyCleared {
                    start: 0,
                    len: 4096
                },
                MemEvent::CodeWritten { start: 8, len: 4 }
            ]
        );
        assert!(!q.pending());
        assert!(q.drain().is_empty());
    }

    #[test]
    fn hub_fans_out_and_forgets_dropped_queues() {
        let hub = EventHub::new();
        let a = EventQueue::new();
        let b = EventQueue::new();
        hub.subscribe(&a);
        hub.subscribe(&b);
        drop(b);
        hub.broadcast(MemEvent::CodeWritten { start: 0, len: 1 });
        assert!(a.pending());
        a.drain();
        let c = EventQueue::new();
        hub.subscribe(&c);
        hub.broadcast_except(MemEvent::CodeWritten { start: 0, len: 1 }, &a);
        assert!(!a.pending());
        assert!(c.pending());
        assert_eq!(
            hub.queues
                .borrow()
                .iter()
                .filter(|q| q.upgrade().is_some())
                .count(),
            2
        );
    }
}
