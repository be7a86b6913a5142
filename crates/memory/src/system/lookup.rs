//! Looking addresses up in an address space (the view part does it).

use crate::address::GuestAddress;
use crate::ids::AddressSpaceId;
use crate::system::MemorySystem;
use crate::view::flatview::FlatRange;
use crate::view::lookup::SectionLookup;

impl MemorySystem {
    /// Resolve `addr` in `space`: the flat-view section that serves it. This
    /// is the softmmu's TLB-fill lookup: the MRU section, else the dispatch
    /// table. An unknown space resolves to `Unassigned`.
    #[inline]
    pub fn lookup_section(&self, space: AddressSpaceId, addr: GuestAddress) -> SectionLookup {
        self.spaces.lookup_section(space, addr)
    }

    /// A counter that changes whenever the space's flat view changes (0 for an unknown space).
    pub fn generation(&self, space: AddressSpaceId) -> u64 {
        self.spaces.generation(space)
    }

    /// The current flat ranges of `space` (empty for an unknown space).
    pub fn flat_ranges(&self, space: AddressSpaceId) -> Vec<FlatRange> {
        self.spaces.flat_ranges(space)
    }

    /// The flat range serving `addr` in `space`, found by binary search rather
    /// than the dispatch table (a cross-check for tests and debuggers).
    pub fn flat_range_at(&self, space: AddressSpaceId, addr: GuestAddress) -> Option<FlatRange> {
        self.spaces.flat_range_at(space, addr)
    }
}
