//! Memory events that reach a CPU between instructions.
//!
//! The memory API tells its clients about three things through callbacks:
//! dirty bits being cleared (`add_dirty_clear_notifier`), writes from
//! outside the CPU landing on pages that hold translated code
//! (`set_code_write_hook`), and commits that change a CPU's flat view (the
//! CPU's [`MemoryListener`](ferrite_memory::MemoryListener), see
//! [`crate::cpu`]). Those callbacks run while the memory system is busy
//! (the CPU may itself be in the middle of an access), so they only queue an
//! event and raise a flag; the CPU drains its queue at block boundaries and
//! after every slow-path access. The flag is a `Cell<bool>`: the check on
//! the hot path is one load.
//!
//! Delivery cannot fail: the queue is a `Cell<Vec<_>>` that is taken, pushed
//! to and put back within one call that calls nothing else, so there is no
//! borrow that a re-entrant push could find held, and no event is ever
//! dropped.
//!
//! A machine has one [`EventHub`] attached to its memory system; each CPU
//! subscribes an [`EventQueue`] to it, so a multi-hart machine needs only the
//! one code-write hook the memory API has room for.

use std::cell::Cell;
use std::rc::{Rc, Weak};

use ferrite_memory::{MemorySystem, RamAddr};

use crate::block::CodeMap;

/// One memory event, in ram addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemEvent {
    /// Dirty bits of some client were cleared for `start..start + len`:
    /// re-arm NOTDIRTY on TLB slots mapping those pages.
    DirtyCleared {
        /// First ram address.
        start: RamAddr,
        /// Length in bytes.
        len: u64,
    },
    /// Something other than this CPU wrote `start..start + len` on pages
    /// holding translated code: invalidate the blocks there.
    CodeWritten {
        /// First ram address.
        start: RamAddr,
        /// Length in bytes.
        len: u64,
    },
    /// Another CPU stored to `start..start + len` (within one page), bytes
    /// that lines of translated code share: invalidate the blocks whose
    /// code those bytes overlap, and only those.
    CodeStored {
        /// First ram address.
        start: RamAddr,
        /// Length in bytes.
        len: u64,
    },
    /// A block's code took bytes of ram page `page` that held none: TLB
    /// slots that let stores beside the page's code through must learn the
    /// new bytes first.
    CodeGrew {
        /// The page.
        page: RamAddr,
    },
    /// A commit changed the flat view of the CPU's address space: every
    /// TLB entry and jump-cache slot may be stale.
    MapChanged,
}

/// A CPU's queue of pending memory events.
#[derive(Default)]
pub struct EventQueue {
    pending: Cell<bool>,
    events: Cell<Vec<MemEvent>>,
}

impl std::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("pending", &self.pending.get())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub")
            .field("subscribers", &self.live_subscribers())
            .finish_non_exhaustive()
    }
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

    /// Queue `event`. Never fails and never drops an event.
    pub fn push(&self, event: MemEvent) {
        let mut q = self.events.take();
        // Coalesce a repeat of the last event (page-by-page clears of one range).
        if q.last() != Some(&event) {
            q.push(event);
        }
        self.events.set(q);
        self.pending.set(true);
    }

    /// Take every queued event, leaving the queue empty.
    pub fn drain(&self) -> Vec<MemEvent> {
        self.pending.set(false);
        self.events.take()
    }
}

/// Fans memory events out to every subscribed CPU queue.
#[derive(Default)]
pub struct EventHub {
    /// Subscribers. Taken out and put back by each call (nothing a call
    /// makes can reach the hub again), like [`EventQueue`]'s list.
    queues: Cell<Vec<Weak<EventQueue>>>,
    attached: Cell<bool>,
    /// The code lines of every page, shared by the CPUs' block caches.
    code: Rc<CodeMap>,
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
                h.broadcast(MemEvent::DirtyCleared { start, len });
            }
        }));
        let hub = Rc::downgrade(self);
        mem.set_code_write_hook(Box::new(move |start: RamAddr, len: u64| {
            if let Some(h) = hub.upgrade() {
                h.broadcast(MemEvent::CodeWritten { start, len });
            }
        }));
    }

    /// The machine's code map, for a CPU's block cache.
    pub fn code_map(&self) -> Rc<CodeMap> {
        Rc::clone(&self.code)
    }

    /// Add a CPU's queue.
    pub fn subscribe(&self, queue: &Rc<EventQueue>) {
        let mut qs = self.queues.take();
        qs.retain(|q| q.strong_count() > 0);
        qs.push(Rc::downgrade(queue));
        self.queues.set(qs);
    }

    /// Deliver `event` to every live subscriber.
    pub fn broadcast(&self, event: MemEvent) {
        self.deliver(event, None);
    }

    /// Deliver `event` to every live subscriber except `own` (a CPU telling
    /// the others about something it has already handled itself, such as a
    /// store of its own into translated code).
    pub fn broadcast_except(&self, event: MemEvent, own: &Rc<EventQueue>) {
        self.deliver(event, Some(own));
    }

    fn deliver(&self, event: MemEvent, except: Option<&Rc<EventQueue>>) {
        let qs = self.queues.take();
        for q in qs.iter().filter_map(Weak::upgrade) {
            if except.is_none_or(|own| !Rc::ptr_eq(&q, own)) {
                q.push(event);
            }
        }
        self.queues.set(qs);
    }

    /// How many subscribed queues are still alive.
    pub fn live_subscribers(&self) -> usize {
        let qs = self.queues.take();
        let n = qs.iter().filter(|q| q.strong_count() > 0).count();
        self.queues.set(qs);
        n
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
            start: RamAddr(0),
            len: 4096,
        });
        q.push(MemEvent::DirtyCleared {
            start: RamAddr(0),
            len: 4096,
        });
        q.push(MemEvent::CodeWritten {
            start: RamAddr(8),
            len: 4,
        });
        assert!(q.pending());
        let ev = q.drain();
        assert_eq!(
            ev,
            vec![
                MemEvent::DirtyCleared {
                    start: RamAddr(0),
                    len: 4096
                },
                MemEvent::CodeWritten {
                    start: RamAddr(8),
                    len: 4
                }
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
        hub.broadcast(MemEvent::CodeWritten {
            start: RamAddr(0),
            len: 1,
        });
        assert!(a.pending());
        a.drain();
        let c = EventQueue::new();
        hub.subscribe(&c);
        hub.broadcast_except(
            MemEvent::CodeWritten {
                start: RamAddr(0),
                len: 1,
            },
            &a,
        );
        assert!(!a.pending());
        assert!(c.pending());
        assert_eq!(hub.live_subscribers(), 2);
    }
}
