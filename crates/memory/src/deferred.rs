//! Topology changes a device asks for from inside its own callbacks.
//!
//! A device's [`RegionOps`](crate::RegionOps) callbacks get `&self` and no
//! access to the [`MemorySystem`](crate::MemorySystem) that is dispatching
//! to them, yet some register writes change the memory map: a PCI BAR
//! write moves the device's region, a command-register write maps or
//! unmaps all of them, a flash command switches a ROM device's mode. QEMU
//! makes such changes from inside the callback (its memory API is
//! re-entrant under the big lock); here the device queues the change on a
//! [`DeferredChanges`] handle and the memory system applies the queue, in
//! one transaction, as soon as the access that queued it returns: before
//! the access's caller sees the result, so the next access (the next guest
//! instruction) already sees the new map.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use crate::system::MemorySystem;

/// One queued change.
type Change = Box<dyn FnOnce(&mut MemorySystem)>;

/// A cheap, cloneable handle to a memory system's queue of deferred
/// topology changes (see the module docs). Devices keep one, obtained from
/// [`MemorySystem::deferred_changes`].
#[derive(Clone, Default)]
pub struct DeferredChanges {
    queue: Rc<RefCell<Vec<Change>>>,
}

impl DeferredChanges {
    /// Queue `change`; it runs inside a transaction right after the access
    /// being dispatched returns (or at the next [`MemorySystem::apply_deferred`]
    /// when queued outside an access).
    pub fn push(&self, change: impl FnOnce(&mut MemorySystem) + 'static) {
        self.queue.borrow_mut().push(Box::new(change));
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.borrow().is_empty()
    }

    fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }
}

impl fmt::Debug for DeferredChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredChanges")
            .field("queued", &self.queue.borrow().len())
            .finish()
    }
}

impl MemorySystem {
    /// The handle devices queue topology changes on.
    pub fn deferred_changes(&self) -> DeferredChanges {
        self.deferred.clone()
    }

    /// Apply every queued change, in queue order, in one transaction per
    /// batch (a change may queue more; they form the next batch). Called
    /// after every access dispatched to callbacks; a no-op when nothing is
    /// queued.
    pub fn apply_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        loop {
            let batch = self.deferred.take();
            if batch.is_empty() {
                break;
            }
            self.begin();
            for change in batch {
                change(self);
            }
            self.commit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use crate::{
        GuestAddress, MemTxAttrs, MemTxResult, MemorySystem, RegionOps, RegionSize, ops::Endianness,
    };

    /// A register whose write maps (1) or unmaps (0) a RAM region at 0x1000.
    struct Switch {
        changes: crate::DeferredChanges,
        parent: crate::RegionId,
        ram: crate::RegionId,
        mapped: Cell<bool>,
    }

    impl RegionOps for Switch {
        fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
            Ok(u64::from(self.mapped.get()))
        }
        fn write(&self, _: u64, value: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
            let on = value != 0;
            if on == self.mapped.replace(on) {
                return Ok(());
            }
            let (parent, ram) = (self.parent, self.ram);
            self.changes.push(move |mem| {
                let r = if on {
                    mem.add_subregion(parent, 0x1000, ram)
                } else {
                    mem.del_subregion(parent, ram)
                };
                r.expect("the test's region exists");
            });
            Ok(())
        }
    }

    #[test]
    fn a_change_queued_by_a_register_write_is_seen_by_the_next_access() {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("root", RegionSize::Max);
        let space = mem.new_address_space("space", root);
        let ram = mem.new_ram("ram", 0x1000).unwrap();
        let switch = std::rc::Rc::new(Switch {
            changes: mem.deferred_changes(),
            parent: root,
            ram,
            mapped: Cell::new(false),
        });
        let io = mem.new_io("switch", 4, switch);
        mem.add_subregion(root, 0, io).unwrap();
        let attrs = MemTxAttrs::default();
        let le = Endianness::Little;
        let at = GuestAddress(0x1000);
        assert!(mem.load(space, at, 4, le, attrs).is_err(), "not mapped yet");
        mem.store(space, GuestAddress(0), 4, 1, le, attrs).unwrap();
        mem.store(space, at, 4, 0xabcd, le, attrs).unwrap();
        assert_eq!(mem.load(space, at, 4, le, attrs), Ok(0xabcd));
        mem.store(space, GuestAddress(0), 4, 0, le, attrs).unwrap();
        assert!(mem.load(space, at, 4, le, attrs).is_err(), "unmapped again");
        assert!(mem.deferred_changes().is_empty());
    }
}
