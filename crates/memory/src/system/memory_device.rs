//! Memory devices of the memory system: the device-memory window, plugging
//! and unplugging, memslot accounting (the bookkeeping types are in
//! `crate::memory_device`).

use crate::RegionSize;
use crate::error::{MemoryError, Result};
use crate::ids::RegionId;
use crate::memory_device::*;
use crate::region::RegionKind;
use crate::system::MemorySystem;

impl MemorySystem {
    /// Create the device-memory window: a container of `size` bytes mapped at
    /// `base` in `parent`, with `memslot_limit` memslots. Returns the container.
    pub fn init_device_memory(
        &mut self,
        parent: RegionId,
        base: u64,
        size: u64,
        memslot_limit: u32,
    ) -> Result<RegionId> {
        if self.device_memory.is_some() {
            return Err(MemoryError::InUse("device-memory".into()));
        }
        let container = self.new_container("device-memory", RegionSize::Bytes(size));
        self.add_subregion(parent, base, container)?;
        self.device_memory = Some(DeviceMemory {
            container,
            base,
            size,
            stats: MemslotStats {
                limit: memslot_limit,
                used: 0,
                required: 0,
                reserved: 0,
            },
            devices: Vec::new(),
        });
        Ok(container)
    }

    /// Plug the memory device owning `region` at `addr` (absolute, aligned to
    /// `align`) or, with `None`, at the lowest aligned free address. It
    /// requires `memslots` slots (refused when fewer are free). Returns the
    /// address.
    pub fn memory_device_plug(
        &mut self,
        region: RegionId,
        addr: Option<u64>,
        align: u64,
        memslots: u32,
    ) -> Result<u64> {
        let name = self.tree.region(region)?.name.clone();
        let size128 = self.tree.region(region)?.size;
        let dm = self
            .device_memory
            .as_ref()
            .ok_or(MemoryError::NoDeviceMemory)?;
        let align = align.max(1);
        if !align.is_power_of_two() {
            return Err(MemoryError::InvalidSize {
                name,
                size: u128::from(align),
                reason: "alignment must be a power of two",
            });
        }
        if memslots > dm.stats.free() {
            return Err(MemoryError::MemslotsExhausted {
                name,
                needed: memslots,
                free: dm.stats.free(),
            });
        }
        let no_room = || MemoryError::NoRoom {
            name: name.clone(),
            size: size128,
            align,
        };
        if size128 > u128::from(dm.size) {
            return Err(no_room());
        }
        let size = size128 as u64;
        let mut taken: Vec<(u64, u64)> = dm
            .devices
            .iter()
            .map(|d| (d.addr - dm.base, d.size))
            .collect();
        taken.sort();
        let overlaps = |off: u64| taken.iter().any(|&(o, s)| off < o + s && o < off + size);
        let offset = match addr {
            Some(a) => {
                let err = |reason| MemoryError::AddressUnavailable {
                    name: name.clone(),
                    addr: a,
                    reason,
                };
                if a % align != 0 {
                    return Err(err("not aligned"));
                }
                let off = a
                    .checked_sub(dm.base)
                    .ok_or_else(|| err("below the device-memory window"))?;
                if u128::from(off) + size128 > u128::from(dm.size) {
                    return Err(err("past the device-memory window"));
                }
                if overlaps(off) {
                    return Err(err("overlaps a plugged device"));
                }
                off
            }
            None => {
                // First fit: try the window start and the end of every device, aligned.
                let mut candidates = vec![0u64];
                candidates.extend(taken.iter().map(|&(o, s)| o + s));
                let mut found = None;
                for c in candidates {
                    let Some(abs) = dm
                        .base
                        .checked_add(c)
                        .and_then(|a| a.checked_next_multiple_of(align))
                    else {
                        continue;
                    };
                    let off = abs - dm.base;
                    if u128::from(off) + size128 <= u128::from(dm.size) && !overlaps(off) {
                        found = Some(off);
                        break;
                    }
                }
                found.ok_or_else(no_room)?
            }
        };
        let container = dm.container;
        let base = dm.base;
        self.add_subregion(container, offset, region)?;
        if let Some(dm) = self.device_memory.as_mut() {
            dm.stats.required += memslots;
            dm.devices.push(PluggedMemoryDevice {
                region,
                addr: base + offset,
                size,
                memslots,
            });
        }
        Ok(base + offset)
    }

    /// Unplug the memory device owning `region`, freeing its address and memslots.
    pub fn memory_device_unplug(&mut self, region: RegionId) -> Result<()> {
        let dm = self
            .device_memory
            .as_mut()
            .ok_or(MemoryError::NoDeviceMemory)?;
        let Some(pos) = dm.devices.iter().position(|d| d.region == region) else {
            return Err(MemoryError::NotASubregion {
                child: self.tree.name_of(region),
                parent: "device-memory".into(),
            });
        };
        let d = dm.devices.remove(pos);
        dm.stats.required -= d.memslots;
        let container = dm.container;
        self.del_subregion(container, region)
    }

    /// Reserve `n` memslots for later use by a plugged device.
    pub fn memslots_reserve(&mut self, n: u32) -> Result<()> {
        let dm = self
            .device_memory
            .as_mut()
            .ok_or(MemoryError::NoDeviceMemory)?;
        if n > dm.stats.free() {
            return Err(MemoryError::MemslotsExhausted {
                name: "reservation".into(),
                needed: n,
                free: dm.stats.free(),
            });
        }
        dm.stats.reserved += n;
        Ok(())
    }

    /// Give back `n` reserved memslots (at most those reserved).
    pub fn memslots_release(&mut self, n: u32) {
        if let Some(dm) = self.device_memory.as_mut() {
            dm.stats.reserved = dm.stats.reserved.saturating_sub(n);
        }
    }

    /// Memslot accounting, if a device-memory window exists. `used` counts
    /// what is mapped at this moment.
    pub fn memslot_stats(&self) -> Option<MemslotStats> {
        let dm = self.device_memory.as_ref()?;
        let mut stats = dm.stats;
        stats.used = dm
            .devices
            .iter()
            .map(|d| match self.tree.region(d.region) {
                Ok(r) if matches!(r.kind, RegionKind::Container) => {
                    r.subregions
                        .iter()
                        .filter(|&&c| self.tree.region(c).is_ok_and(|c| c.enabled))
                        .count() as u32
                }
                Ok(_) => 1,
                Err(_) => 0,
            })
            .sum();
        Some(stats)
    }

    /// The plugged memory devices, in plug order.
    pub fn memory_devices(&self) -> Vec<PluggedMemoryDevice> {
        self.device_memory
            .as_ref()
            .map_or_else(Vec::new, |d| d.devices.clone())
    }
}
