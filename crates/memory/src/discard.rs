//! RAM discard managers (QEMU's `RamDiscardManager`): sparse RAM.
//!
//! A RAM region with a discard manager is populated only in some granules
//! (a virtio-mem device plugs and unplugs memory this way). The manager
//! records which granules are populated; discard listeners (a VFIO-like
//! consumer that must map only populated memory) are told of every populate
//! and discard, and are replayed the populated granules when they register.
//! Discarded granules give their memory back to the host. A manager is set
//! before the region is mapped and stays for the region's life.

use bitvec::prelude::*;

use crate::ids::RegionId;

/// Told of populate/discard events of one RAM region. Offsets are region offsets.
pub trait RamDiscardListener {
    /// `[offset, offset + len)` is about to be populated; an error vetoes it.
    fn notify_populate(
        &mut self,
        region: RegionId,
        offset: u64,
        len: u64,
    ) -> std::result::Result<(), String>;
    /// `[offset, offset + len)` was discarded.
    fn notify_discard(&mut self, region: RegionId, offset: u64, len: u64);
}

/// Names a registered discard listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RamDiscardListenerId(pub(crate) u64);

/// The discard state of one region.
pub(crate) struct RamDiscardManager {
    pub(crate) region: RegionId,
    pub(crate) granularity: u64,
    /// One bit per granule: populated.
    pub(crate) populated: BitVec<u64, Lsb0>,
    pub(crate) listeners: Vec<(RamDiscardListenerId, Box<dyn RamDiscardListener>)>,
}

impl RamDiscardManager {
    /// Populated runs `(offset, len)` in `[first, end)` granules.
    pub(crate) fn runs(&self, first: usize, end: usize, populated: bool) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut i = first;
        while i < end {
            if self.populated[i] != populated {
                i += 1;
                continue;
            }
            let start = i;
            while i < end && self.populated[i] == populated {
                i += 1;
            }
            out.push((
                start as u64 * self.granularity,
                (i - start) as u64 * self.granularity,
            ));
        }
        out
    }
}

/// The RAM discard managers of a memory system.
#[derive(Default)]
pub(crate) struct DiscardManagers {
    pub(crate) managers: Vec<RamDiscardManager>,
}
