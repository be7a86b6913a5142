//! Address spaces, their flat views, and the dispatch tables behind them.
//!
//! * [`flatview`]: flat ranges and the rendered view of one root.
//! * [`section`]: the partition of the address space that dispatch indexes.
//! * [`dispatch`]: the radix table from page number to section.
//! * [`table`]: huge-page backed lookup tables.
//! * [`lookup`]: what an address resolves to.

pub(crate) mod dispatch;
pub(crate) mod flatview;
pub(crate) mod lookup;
pub(crate) mod section;
pub(crate) mod table;

use std::collections::HashMap;
use std::rc::Rc;

pub(crate) use crate::ids::AddressSpaceId;
use crate::ids::RegionId;
use flatview::FlatView;

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

/// Every address space of a memory system, and the flat views they show.
#[derive(Debug, Default)]
pub(crate) struct AddressSpaces {
    /// The spaces, indexed by [`AddressSpaceId`].
    pub(crate) list: Vec<AddressSpace>,
    /// Flat views by root region, shared by the spaces of that root.
    pub(crate) views: HashMap<RegionId, Rc<FlatView>>,
}
