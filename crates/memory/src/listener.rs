//! Memory listeners: observers of an address space's flat view.
//!
//! On every commit that re-renders a view, listeners of that address space
//! hear `begin`, then `region_del` for ranges that went away (in reverse
//! priority order), then `region_add` / `region_nop` / `log_start` /
//! `log_stop` in address order, then `commit`.

use crate::address::GuestAddress;
use crate::ids::AddressSpaceId;
use crate::ids::RegionId;
use crate::view::flatview::FlatRange;

/// Names a registered listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(pub(crate) u64);

/// One flat range as listeners see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegionSection {
    /// The address space.
    pub space: AddressSpaceId,
    /// The terminal region serving the range.
    pub region: RegionId,
    /// Offset in `region` of the first byte.
    pub offset_within_region: u64,
    /// Address of the first byte in the address space.
    pub offset_within_address_space: GuestAddress,
    /// Size in bytes (up to 2^64).
    pub size: u128,
    /// Writes refused.
    pub readonly: bool,
    /// Non-volatile memory.
    pub nonvolatile: bool,
    /// A ROM device in ROMD mode.
    pub romd: bool,
}

impl MemoryRegionSection {
    pub(crate) fn from_range(space: AddressSpaceId, r: &FlatRange) -> Self {
        MemoryRegionSection {
            space,
            region: r.region,
            offset_within_region: r.offset_in_region,
            offset_within_address_space: GuestAddress(r.start),
            size: r.size(),
            readonly: r.readonly,
            nonvolatile: r.nonvolatile,
            romd: r.romd,
        }
    }
}

/// An observer of an address space. Every method does nothing by default.
pub trait MemoryListener {
    /// Order among listeners: lower first for forward calls, last for reverse ones.
    fn priority(&self) -> i32 {
        0
    }
    /// A transaction that changes the view starts.
    fn begin(&mut self) {}
    /// A range appeared.
    fn region_add(&mut self, _section: &MemoryRegionSection) {}
    /// A range went away (called in reverse priority order).
    fn region_del(&mut self, _section: &MemoryRegionSection) {}
    /// A range survived a re-render unchanged.
    fn region_nop(&mut self, _section: &MemoryRegionSection) {}
    /// Dirty logging started for clients in `new & !old`.
    fn log_start(&mut self, _section: &MemoryRegionSection, _old: u8, _new: u8) {}
    /// Dirty logging stopped for clients in `old & !new` (reverse order).
    fn log_stop(&mut self, _section: &MemoryRegionSection, _old: u8, _new: u8) {}
    /// Copy any dirty information the listener holds into the bitmaps. The
    /// listener cannot reach the bitmaps from here; it returns the ranges
    /// `(offset in section, len)` it saw written, which are marked dirty.
    fn log_sync(&mut self, _section: &MemoryRegionSection) -> Vec<(u64, u64)> {
        Vec::new()
    }
    /// Global dirty logging (migration) started.
    fn log_global_start(&mut self) {}
    /// Global dirty logging stopped (reverse order).
    fn log_global_stop(&mut self) {}
    /// A coalesced MMIO range `[addr, addr + len)` within `section` appeared.
    fn coalesced_io_add(&mut self, _section: &MemoryRegionSection, _addr: GuestAddress, _len: u64) {
    }
    /// A coalesced MMIO range went away (reverse order).
    fn coalesced_io_del(&mut self, _section: &MemoryRegionSection, _addr: GuestAddress, _len: u64) {
    }
    /// The transaction is over; the view is final.
    fn commit(&mut self) {}
}

/// A registered listener.
pub(crate) struct ListenerEntry {
    pub(crate) id: ListenerId,
    pub(crate) space: AddressSpaceId,
    pub(crate) priority: i32,
    pub(crate) listener: Box<dyn MemoryListener>,
}

/// The registered listeners, in priority order.
#[derive(Default)]
pub(crate) struct Listeners {
    pub(crate) entries: Vec<ListenerEntry>,
    /// The id the next registration gets.
    pub(crate) next: u64,
}
