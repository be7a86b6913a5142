//! virtio over MMIO: the transport ([`VirtioMmio`], virtio 1.x "version 2"
//! register layout), split virtqueues ([`queue`]), a block device
//! ([`block::VirtioBlock`]), an entropy device ([`rng::VirtioRng`]), a
//! memory device ([`mem::VirtioMem`], which changes the memory map through
//! [`GuestBytes::memory_system`]) and the
//! empty slot QEMU shows where nothing is plugged in ([`VirtioMmioEmpty`]).
//!
//! Guest memory is reached only through a [`crate::GuestBytes`] the machine
//! passes to [`VirtioMmio::process`]: a write to `QueueNotify` just records
//! the kick, and the machine calls `process` between execution slices (or
//! right after the MMIO access) when [`VirtioMmio::needs_processing`] says so.

pub mod block;
mod empty_slot;
pub mod mem;
mod mmio;
pub mod queue;
pub mod rng;

pub use empty_slot::VirtioMmioEmpty;
pub use mmio::VirtioMmio;

use ferrite_memory::GuestBytes;
use queue::Virtqueue;

/// `"virt"` as a little-endian word: the transport's magic value.
pub const MAGIC_VALUE: u32 = 0x7472_6976;
/// QEMU's vendor id: `"QEMU"` as a little-endian word.
pub const QEMU_VENDOR_ID: u32 = 0x554d_4551;
/// Feature bit: the device follows virtio 1.0 or later (required by the
/// version-2 transport).
pub const VIRTIO_F_VERSION_1: u64 = 1 << 32;

/// Device status bits the driver writes.
pub mod status {
    /// The driver found the device.
    pub const ACKNOWLEDGE: u32 = 1;
    /// The driver knows how to drive it.
    pub const DRIVER: u32 = 2;
    /// The driver is ready: queues may be used.
    pub const DRIVER_OK: u32 = 4;
    /// Feature negotiation is complete (cleared by the device if refused).
    pub const FEATURES_OK: u32 = 8;
    /// The device hit an error and needs a reset.
    pub const DEVICE_NEEDS_RESET: u32 = 0x40;
    /// The driver gave up on the device.
    pub const FAILED: u32 = 0x80;
}

/// One kind of virtio device behind a transport.
pub trait VirtioDevice {
    /// The virtio device id (2 = block, 4 = entropy, ...).
    fn device_id(&self) -> u32;

    /// Feature bits the device offers (the transport adds
    /// [`VIRTIO_F_VERSION_1`]).
    fn device_features(&self) -> u64;

    /// Number of virtqueues.
    fn num_queues(&self) -> usize;

    /// Largest size of each queue.
    fn queue_max_size(&self) -> u16 {
        256
    }

    /// Reads device configuration space at `offset` into `data` (bytes past
    /// the end read as 0).
    fn read_config(&self, offset: u64, data: &mut [u8]);

    /// Writes device configuration space (ignored by default).
    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}

    /// Whether the device can work with the driver's `features` (asked when
    /// FEATURES_OK is written; `false` leaves FEATURES_OK clear, as QEMU's
    /// `validate_features`). Every subset of the offer by default.
    fn features_acceptable(&self, _features: u64) -> bool {
        true
    }

    /// The driver accepted `features` (set when FEATURES_OK is written).
    fn set_driver_features(&mut self, _features: u64) {}

    /// Serves the available buffers of queue `index`; true if any buffer was
    /// put in the used ring (the transport then interrupts the driver).
    fn process_queue(
        &mut self,
        index: usize,
        queue: &mut Virtqueue,
        mem: &mut dyn GuestBytes,
    ) -> queue::Result<bool>;

    /// Device reset (the driver wrote 0 to `Status`).
    fn reset(&mut self) {}
}
