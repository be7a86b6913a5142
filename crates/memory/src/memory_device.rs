//! Memory devices (QEMU's memory-device interface): DIMMs, virtio-mem and
//! similar devices that each own one region (RAM, or a container of RAM
//! aliases mapped on demand) placed in a device-memory window.
//!
//! The window is a container mapped into the system memory at a fixed base.
//! A device is plugged at an explicit, aligned address or at the first
//! aligned gap that fits; two devices never overlap. Memslot accounting
//! decides whether a plug fits: every plugged device requires some memslots
//! (a plain DIMM one, a virtio-mem device as many as it may map), of which
//! it uses those that are mapped right now (a virtio-mem device maps its
//! memslots on demand); slots may also be reserved for later, and
//! `required + reserved` never exceeds the limit.

use crate::ids::RegionId;

/// Memslot accounting of the device-memory window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemslotStats {
    /// Slots available in total (the board's limit).
    pub limit: u32,
    /// Slots mapped now: one per plugged RAM device, and for a device whose
    /// region is a container (virtio-mem), one per mapped subregion.
    pub used: u32,
    /// Slots the plugged devices may use: the sum of what each asked for
    /// when it was plugged. `required - used` are held for on-demand maps.
    pub required: u32,
    /// Slots reserved explicitly ([`crate::MemorySystem::memslots_reserve`]).
    pub reserved: u32,
}

impl MemslotStats {
    /// Slots neither required by a plugged device nor reserved.
    pub fn free(&self) -> u32 {
        self.limit
            .saturating_sub(self.required.saturating_add(self.reserved))
    }
}

/// A plugged memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluggedMemoryDevice {
    /// The device's region.
    pub region: RegionId,
    /// Its address in the system address space.
    pub addr: u64,
    /// Its size.
    pub size: u64,
    /// Memslots it requires (may map).
    pub memslots: u32,
}

pub(crate) struct DeviceMemory {
    pub(crate) container: RegionId,
    pub(crate) base: u64,
    pub(crate) size: u64,
    pub(crate) stats: MemslotStats,
    pub(crate) devices: Vec<PluggedMemoryDevice>,
}
