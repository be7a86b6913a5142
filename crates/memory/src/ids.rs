//! Typed ids of the memory system's arenas: regions and address spaces.
//!
//! They are leaves of the crate's module graph: every part names regions and
//! spaces, and none needs the others' types to do so.

/// Names a region of one [`MemorySystem`](crate::MemorySystem).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub(crate) u32);

impl RegionId {
    /// The arena index.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// The built-in region that answers for unassigned addresses.
pub(crate) const UNASSIGNED: RegionId = RegionId(0);

/// Names an address space of one [`MemorySystem`](crate::MemorySystem).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressSpaceId(pub(crate) u32);
