//! The memory system: the region arena, address spaces, RAM blocks, dirty
//! memory and listeners, and the constructors of regions.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::address::RegionSize;
use crate::address_space::{AddressSpace, AddressSpaceId};
use crate::dirty::DirtyMemory;
use crate::error::{MemoryError, Result};
use crate::flatview::FlatView;
use crate::listener::ListenerEntry;
use crate::ops::RegionOps;
use crate::ram::RamBlocks;
use crate::region::{Region, RegionId, RegionKind, UNASSIGNED};

/// A callback told of a range of ram addresses.
pub type RamRangeHook = Box<dyn FnMut(crate::RamAddr, u64)>;

/// Everything the memory API manages: regions in an arena, address spaces and
/// their flat views, RAM blocks, dirty memory and listeners.
pub struct MemorySystem {
    pub(crate) regions: Vec<Region>,
    pub(crate) spaces: Vec<AddressSpace>,
    /// Flat views by root region, shared by the spaces of that root.
    pub(crate) views: HashMap<RegionId, Rc<FlatView>>,
    pub(crate) ram: RamBlocks,
    pub(crate) dirty: DirtyMemory,
    pub(crate) listeners: Vec<ListenerEntry>,
    pub(crate) next_listener: u64,
    pub(crate) transaction_depth: u32,
    /// Regions changed since the last commit.
    pub(crate) changed: HashSet<RegionId>,
    pub(crate) global_dirty_log: bool,
    pub(crate) code_write_hook: Option<RamRangeHook>,
    pub(crate) dirty_clear_notifiers: Vec<RamRangeHook>,
    pub(crate) iommu_notifiers: Vec<crate::iommu::IommuNotifier>,
    pub(crate) discard_managers: Vec<crate::discard::RamDiscardManager>,
    pub(crate) device_memory: Option<crate::memory_device::DeviceMemory>,
    /// How many IOMMU translations the current access is nested in.
    pub(crate) iommu_depth: u32,
}

impl Default for MemorySystem {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemorySystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySystem")
            .field("regions", &self.regions.len())
            .field("spaces", &self.spaces.len())
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl MemorySystem {
    /// An empty memory system (holding only the built-in `unassigned` region).
    pub fn new() -> Self {
        let unassigned = Region::new("unassigned", 1u128 << 64, RegionKind::Container);
        MemorySystem {
            regions: vec![unassigned],
            spaces: Vec::new(),
            views: HashMap::new(),
            ram: RamBlocks::default(),
            dirty: DirtyMemory::default(),
            listeners: Vec::new(),
            next_listener: 0,
            transaction_depth: 0,
            changed: HashSet::new(),
            global_dirty_log: false,
            code_write_hook: None,
            dirty_clear_notifiers: Vec::new(),
            iommu_notifiers: Vec::new(),
            iommu_depth: 0,
            discard_managers: Vec::new(),
            device_memory: None,
        }
    }

    pub(crate) fn push_region(&mut self, region: Region) -> RegionId {
        self.regions.push(region);
        RegionId((self.regions.len() - 1) as u32)
    }

    pub(crate) fn region(&self, r: RegionId) -> Result<&Region> {
        match self.regions.get(r.index()) {
            Some(region) if r != UNASSIGNED => Ok(region),
            _ => Err(MemoryError::NoSuchRegion(r)),
        }
    }

    pub(crate) fn region_mut(&mut self, r: RegionId) -> Result<&mut Region> {
        match self.regions.get_mut(r.index()) {
            Some(region) if r != UNASSIGNED => Ok(region),
            _ => Err(MemoryError::NoSuchRegion(r)),
        }
    }

    pub(crate) fn name_of(&self, r: RegionId) -> String {
        self.regions
            .get(r.index())
            .map_or_else(|| format!("{r:?}"), |x| x.name.clone())
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
        let block = self.ram.alloc(name, size, max)?;
        self.dirty.grow(self.ram.ram_space_size());
        Ok(self.push_region(Region::new(name, u128::from(size), kind(block))))
    }

    /// A container of `size` bytes: holds subregions, serves nothing itself.
    pub fn new_container(&mut self, name: &str, size: RegionSize) -> RegionId {
        self.push_region(Region::new(name, size.get(), RegionKind::Container))
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
        self.push_region(Region::new(name, u128::from(size), RegionKind::Io { ops }))
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
        let t = self.region(target)?;
        if u128::from(offset) + u128::from(size) > t.size {
            return Err(MemoryError::AliasOutOfBounds {
                alias: name.into(),
                target: t.name.clone(),
                offset,
                size: u128::from(size),
                target_size: t.size,
            });
        }
        let id = self.push_region(Region::new(
            name,
            u128::from(size),
            RegionKind::Alias { target, offset },
        ));
        self.regions[target.index()].alias_users.push(id);
        Ok(id)
    }

    /// A new address space rooted at `root`. Spaces with the same root share
    /// one flat view.
    pub fn new_address_space(&mut self, name: &str, root: RegionId) -> AddressSpaceId {
        if let Some(r) = self.regions.get_mut(root.index()) {
            r.is_root = true;
        }
        let view = match self.views.get(&root) {
            Some(v) => v.clone(),
            None => {
                let v = Rc::new(self.render_view(root));
                self.views.insert(root, v.clone());
                v
            }
        };
        self.spaces.push(AddressSpace {
            name: name.to_string(),
            root,
            view,
            generation: 0,
        });
        AddressSpaceId((self.spaces.len() - 1) as u32)
    }

    pub(crate) fn space(&self, s: AddressSpaceId) -> Result<&AddressSpace> {
        self.spaces
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
        Ok(&self.region(r)?.name)
    }

    /// The region's size in bytes (up to 2^64).
    pub fn region_size(&self, r: RegionId) -> Result<u128> {
        Ok(self.region(r)?.size)
    }

    /// The region's address within its parent.
    pub fn region_address(&self, r: RegionId) -> Result<u64> {
        Ok(self.region(r)?.addr)
    }

    /// The region's parent, if mapped.
    pub fn region_parent(&self, r: RegionId) -> Result<Option<RegionId>> {
        Ok(self.region(r)?.parent)
    }

    /// Whether the region is enabled.
    pub fn region_enabled(&self, r: RegionId) -> Result<bool> {
        Ok(self.region(r)?.enabled)
    }

    /// Find a region by name (the first created with that name).
    pub fn find_region(&self, name: &str) -> Option<RegionId> {
        self.regions
            .iter()
            .skip(1)
            .position(|r| r.name == name)
            .map(|i| RegionId(i as u32 + 1))
    }
}
