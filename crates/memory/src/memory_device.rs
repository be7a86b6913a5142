//! Memory devices (QEMU's memory-device interface): DIMMs, virtio-mem and
//! similar devices that each own one region (RAM, or a container of RAM
//! aliases mapped on demand) placed in a device-memory window.
//!
//! The window is a container mapped into the system memory at a fixed base.
//! A device is plugged at an explicit, aligned address or at the first
//! aligned gap that fits; two devices never overlap. Memslot accounting
//! decides whether a plug fits: every plugged device uses some memslots
//! (a plain DIMM one, a virtio-mem device as many as it may map), devices
//! may also reserve slots they will use later, and `used + reserved`
//! never exceeds the limit.

use crate::ids::RegionId;

/// Memslot accounting of the device-memory window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemslotStats {
    /// Slots available in total.
    pub limit: u32,
    /// Slots used by plugged devices.
    pub used: u32,
    /// Slots reserved for later use.
    pub reserved: u32,
}

impl MemslotStats {
    /// Slots neither used nor reserved.
    pub fn free(&self) -> u32 {
        self.limit.saturating_sub(self.used + self.reserved)
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
    /// Memslots it uses.
    pub memslots: u32,
}

pub(crate) struct DeviceMemory {
    pub(crate) container: RegionId,
    pub(crate) base: u64,
    pub(crate) size: u64,
    pub(crate) stats: MemslotStats,
    pub(crate) devices: Vec<PluggedMemoryDevice>,
}
