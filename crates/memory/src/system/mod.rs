//! The memory system: the region arena, address spaces, RAM blocks, dirty
//! memory and listeners, and the constructors of regions.

use std::rc::Rc;

use crate::address::RegionSize;
use crate::discard::DiscardManagers;
use crate::error::{MemoryError, Result};
use crate::iommu::IommuNotifiers;
use crate::listener::Listeners;
use crate::ops::RegionOps;
use crate::ram::RamMemory;
use crate::region::{Region, RegionId, RegionKind};
use crate::tree::RegionTree;
use crate::view::{AddressSpace, AddressSpaceId, AddressSpaces};

mod access;
mod dirty_log;
mod discard;
pub(crate) mod guest_bytes;
mod iommu;
mod lookup;
mod memory_device;
pub(crate) mod mtree;
pub(crate) mod region_cache;
mod topology;

/// Everything the memory API manages, as parts with one job each: the
/// region tree, the address spaces with their flat views and dispatch, RAM
/// with its dirty memory, the listeners, IOMMU notifiers, RAM discard
/// managers and the device-memory window. The parts know nothing of each
/// other; the methods of this type coordinate them.
pub struct MemorySystem {
    /// Regions and how they nest; what changed since the last commit.
    pub(crate) tree: RegionTree,
    /// Address spaces, their flat views and dispatch tables.
    pub(crate) spaces: AddressSpaces,
    /// RAM blocks, dirty bitmaps and their notifications.
    pub(crate) ram: RamMemory,
    /// Memory listeners.
    pub(crate) listeners: Listeners,
    /// IOMMU notifiers and the nesting of IOMMU translations.
    pub(crate) iommu: IommuNotifiers,
    /// RAM discard managers.
    pub(crate) discard: DiscardManagers,
    /// The device-memory window, once initialised.
    pub(crate) device_memory: Option<crate::memory_device::DeviceMemory>,
    /// Topology changes queued by device callbacks.
    pub(crate) deferred: crate::deferred::DeferredChanges,
}

impl Default for MemorySystem {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemorySystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySystem")
            .field("regions", &self.tree.regions.len())
            .field("spaces", &self.spaces.list.len())
            .field("listeners", &self.listeners.entries.len())
            .finish()
    }
}

impl MemorySystem {
    /// An empty memory system (holding only the built-in `unassigned` region).
    pub fn new() -> Self {
        MemorySystem {
            tree: RegionTree::new(),
            spaces: AddressSpaces::default(),
            ram: RamMemory::default(),
            listeners: Listeners::default(),
            iommu: IommuNotifiers::default(),
            discard: DiscardManagers::default(),
            device_memory: None,
            deferred: Default::default(),
        }
    }

    fn check_size(name: &str, size: u64) -> Result<()> {
        if size == 0 {
            return Err(MemoryError::InvalidSize {
                name: name.into(),
                size: 0,
                reason: "must not be zero",
            });
        }
        Ok(())
    }

    fn new_backed(
        &mut self,
        name: &str,
        size: u64,
        max: u64,
        kind: impl FnOnce(usize) -> RegionKind,
    ) -> Result<RegionId> {
        Self::check_size(name, size)?;
        let block = self.ram.blocks.alloc(name, size, max)?;
        self.ram.dirty.grow(self.ram.blocks.ram_space_size());
        Ok(self
            .tree
            .push(Region::new(name, u128::from(size), kind(block))))
    }

    /// A container of `size` bytes: holds subregions, serves nothing itself.
    pub fn new_container(&mut self, name: &str, size: RegionSize) -> RegionId {
        self.tree
            .push(Region::new(name, size.get(), RegionKind::Container))
    }

    /// RAM of `size` bytes: an anonymous host mapping, zero-filled, backed lazily,
    /// at a host address that never changes while the region lives.
    pub fn new_ram(&mut self, name: &str, size: u64) -> Result<RegionId> {
        self.new_backed(name, size, size, |block| RegionKind::Ram { block })
    }

    /// RAM of `size` bytes that [`MemorySystem::ram_resize`] may grow up to `max_size`
    /// (QEMU's resizeable RAM). Host memory for `max_size` is reserved up front.
    pub fn new_ram_resizeable(&mut self, name: &str, size: u64, max_size: u64) -> Result<RegionId> {
        if max_size < size {
            return Err(MemoryError::InvalidSize {
                name: name.into(),
                size: u128::from(size),
                reason: "larger than the maximum size",
            });
        }
        self.new_backed(name, size, max_size, |block| RegionKind::Ram { block })
    }

    /// ROM of `size` bytes: reads from host memory, writes ignored (debug
    /// writes and [`MemorySystem::write_rom`] fill it).
    pub fn new_rom(&mut self, name: &str, size: u64) -> Result<RegionId> {
        self.new_backed(name, size, size, |block| RegionKind::Rom { block })
    }

    /// MMIO: every access goes to `ops`, shaped by `ops.descriptor()`.
    pub fn new_io(&mut self, name: &str, size: u64, ops: Rc<dyn RegionOps>) -> RegionId {
        self.tree
            .push(Region::new(name, u128::from(size), RegionKind::Io { ops }))
    }

    /// MMIO of a [`RegionSize`], so a window may span the whole 64-bit space
    /// (QEMU's `gpex_mmio_window`, whose unclaimed addresses the callbacks
    /// answer).
    pub fn new_io_sized(
        &mut self,
        name: &str,
        size: RegionSize,
        ops: Rc<dyn RegionOps>,
    ) -> RegionId {
        self.tree
            .push(Region::new(name, size.get(), RegionKind::Io { ops }))
    }

    /// A ROM device: in ROMD mode (the initial mode) reads come from host memory
    /// and writes go to `ops`; outside ROMD mode every access goes to `ops`.
    pub fn new_rom_device(
        &mut self,
        name: &str,
        size: u64,
        ops: Rc<dyn RegionOps>,
    ) -> Result<RegionId> {
        self.new_backed(name, size, size, |block| RegionKind::RomDevice {
            block,
            ops,
            romd: true,
        })
    }

    /// A RAM device: host memory reached only through sized accesses (never
    /// copied as bytes, never mapped into a TLB).
    pub fn new_ram_device(&mut self, name: &str, size: u64) -> Result<RegionId> {
        self.new_backed(name, size, size, |block| RegionKind::RamDevice { block })
    }

    /// An alias: a window of `size` bytes onto `target` starting at `offset`.
    /// The target may itself be an alias.
    pub fn new_alias(
        &mut self,
        name: &str,
        target: RegionId,
        offset: u64,
        size: u64,
    ) -> Result<RegionId> {
        self.new_alias_sized(name, target, offset, RegionSize::Bytes(size))
    }

    /// An alias of `size` as a [`RegionSize`], so it can cover all 2^64
    /// bytes of a target such as a system container (a PCI function's
    /// `bus master` alias of the DMA root).
    pub fn new_alias_sized(
        &mut self,
        name: &str,
        target: RegionId,
        offset: u64,
        size: RegionSize,
    ) -> Result<RegionId> {
        let t = self.tree.region(target)?;
        let size = size.get();
        if u128::from(offset) + size > t.size {
            return Err(MemoryError::AliasOutOfBounds {
                alias: name.into(),
                target: t.name.clone(),
                offset,
                size,
                target_size: t.size,
            });
        }
        let id = self.tree.push(Region::new(
            name,
            size,
            RegionKind::Alias { target, offset },
        ));
        self.tree.regions[target.index()].alias_users.push(id);
        Ok(id)
    }

    /// A new address space rooted at `root`. Spaces with the same root share
    /// one flat view.
    pub fn new_address_space(&mut self, name: &str, root: RegionId) -> AddressSpaceId {
        if let Some(r) = self.tree.regions.get_mut(root.index()) {
            r.is_root = true;
        }
        let view = match self.spaces.views.get(&root) {
            Some(v) => v.clone(),
            None => {
                let v = Rc::new(self.render_view(root));
                self.spaces.views.insert(root, v.clone());
                v
            }
        };
        self.spaces.list.push(AddressSpace {
            name: name.to_string(),
            root,
            view,
            generation: 0,
        });
        AddressSpaceId((self.spaces.list.len() - 1) as u32)
    }

    pub(crate) fn space(&self, s: AddressSpaceId) -> Result<&AddressSpace> {
        self.spaces
            .list
            .get(s.0 as usize)
            .ok_or(MemoryError::NoSuchAddressSpace)
    }

    /// The root region of an address space.
    pub fn address_space_root(&self, s: AddressSpaceId) -> Result<RegionId> {
        Ok(self.space(s)?.root)
    }

    /// The name of an address space.
    pub fn address_space_name(&self, s: AddressSpaceId) -> Result<&str> {
        Ok(&self.space(s)?.name)
    }

    /// The region's name.
    pub fn region_name(&self, r: RegionId) -> Result<&str> {
        Ok(&self.tree.region(r)?.name)
    }

    /// The region's size in bytes (up to 2^64).
    pub fn region_size(&self, r: RegionId) -> Result<u128> {
        Ok(self.tree.region(r)?.size)
    }

    /// The region's address within its parent.
    pub fn region_address(&self, r: RegionId) -> Result<u64> {
        Ok(self.tree.region(r)?.addr)
    }

    /// The region's parent, if mapped.
    pub fn region_parent(&self, r: RegionId) -> Result<Option<RegionId>> {
        Ok(self.tree.region(r)?.parent)
    }

    /// Whether the region is enabled.
    pub fn region_enabled(&self, r: RegionId) -> Result<bool> {
        Ok(self.tree.region(r)?.enabled)
    }

    /// Find a region by name (the first created with that name).
    pub fn find_region(&self, name: &str) -> Option<RegionId> {
        self.tree.find(name)
    }
}
