//! Address spaces: a root region and its current flat view.

use std::rc::Rc;

use crate::flatview::FlatView;
use crate::region::RegionId;

/// Names an address space of one [`MemorySystem`](crate::MemorySystem).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressSpaceId(pub(crate) u32);

/// One address space.
#[derive(Debug)]
pub(crate) struct AddressSpace {
    pub(crate) name: String,
    pub(crate) root: RegionId,
    /// The current view (shared with every space of the same root).
    pub(crate) view: Rc<FlatView>,
    /// Bumped whenever `view` changes.
    pub(crate) generation: u64,
}
