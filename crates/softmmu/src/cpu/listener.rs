//! The CPU as a memory listener of its address space (QEMU's
//! `tcg_commit`): a commit that adds or removes a range, or starts or stops
//! dirty logging on one, queues [`MemEvent::MapChanged`] for the CPU, which
//! flushes its TLB and jump cache before its next instruction. A commit
//! that re-renders the view without changing it (only `region_nop`s) costs
//! the CPU nothing.

use std::rc::{Rc, Weak};

use ferrite_memory::{AddressSpaceId, MemoryListener, MemoryRegionSection, MemorySystem};

use crate::events::{EventQueue, MemEvent};

/// The listener registered for one CPU.
struct CpuListener {
    events: Weak<EventQueue>,
    changed: bool,
}

impl MemoryListener for CpuListener {
    fn begin(&mut self) {
        self.changed = false;
    }
    fn region_add(&mut self, _: &MemoryRegionSection) {
        self.changed = true;
    }
    fn region_del(&mut self, _: &MemoryRegionSection) {
        self.changed = true;
    }
    fn log_start(&mut self, _: &MemoryRegionSection, _: u8, _: u8) {
        self.changed = true;
    }
    fn log_stop(&mut self, _: &MemoryRegionSection, _: u8, _: u8) {
        self.changed = true;
    }
    fn commit(&mut self) {
        if self.changed {
            if let Some(q) = self.events.upgrade() {
                q.push(MemEvent::MapChanged);
            }
        }
    }
}

/// Register the listener of the CPU whose event queue is `events` on `space`.
pub(super) fn register(mem: &mut MemorySystem, space: AddressSpaceId, events: &Rc<EventQueue>) {
    mem.register_listener(
        space,
        Box::new(CpuListener {
            events: Rc::downgrade(events),
            changed: false,
        }),
    );
}
