//! An empty virtio-mmio transport: what QEMU `virt` shows at each of its
//! eight virtio-mmio slots (0x10001000 + 0x1000*n, PLIC sources 1..=8) when
//! no device is plugged in.
//!
//! The magic value, version and vendor id read as a real transport's, so a
//! driver probing the slot is not confused; the device id reads 0 ("no
//! device"), so no driver claims it. Every other register reads 0 and every
//! write is ignored, as in QEMU's `virtio_mmio_read`/`write` without a
//! backend.

use ferrite_memory::{IoDescriptor, MemTxAttrs, MemTxResult, RegionOps};

use super::{MAGIC_VALUE, QEMU_VENDOR_ID};

/// Offset of the magic value ("virt" in little endian).
const MAGIC_VALUE_OFFSET: u64 = 0x000;
/// Offset of the transport version.
const VERSION_OFFSET: u64 = 0x004;
/// Offset of the vendor id.
const VENDOR_ID_OFFSET: u64 = 0x00c;

/// A virtio-mmio transport with nothing behind it.
#[derive(Debug, Clone, Copy)]
pub struct VirtioMmioEmpty {
    version: u32,
}

impl VirtioMmioEmpty {
    /// Size of one transport's register window.
    pub const REGION_SIZE: u64 = 0x200;

    /// A transport reporting the legacy interface (version 1), as QEMU's
    /// virtio-mmio does by default (`force-legacy=on`).
    pub fn legacy() -> Self {
        VirtioMmioEmpty { version: 1 }
    }

    /// A transport reporting the virtio 1.0 interface (version 2).
    pub fn modern() -> Self {
        VirtioMmioEmpty { version: 2 }
    }
}

impl RegionOps for VirtioMmioEmpty {
    fn read(&self, offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Ok(u64::from(match offset {
            MAGIC_VALUE_OFFSET => MAGIC_VALUE,
            VERSION_OFFSET => self.version,
            VENDOR_ID_OFFSET => QEMU_VENDOR_ID,
            _ => 0,
        }))
    }

    fn write(&self, _offset: u64, _value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }

    /// QEMU's `virtio_mem_ops`: the memory API's defaults, little endian.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offset of the device id (0 = none).
    const DEVICE_ID_OFFSET: u64 = 0x008;

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };

    #[test]
    fn identifies_as_an_empty_slot() {
        let slot = VirtioMmioEmpty::legacy();
        assert_eq!(slot.read(MAGIC_VALUE_OFFSET, 4, A).unwrap(), 0x7472_6976);
        assert_eq!(slot.read(VERSION_OFFSET, 4, A).unwrap(), 1);
        assert_eq!(slot.read(DEVICE_ID_OFFSET, 4, A).unwrap(), 0);
        assert_eq!(slot.read(VENDOR_ID_OFFSET, 4, A).unwrap(), 0x554d_4551);
        assert_eq!(
            VirtioMmioEmpty::modern()
                .read(VERSION_OFFSET, 4, A)
                .unwrap(),
            2
        );
    }

    #[test]
    fn other_registers_read_zero_and_ignore_writes() {
        let slot = VirtioMmioEmpty::modern();
        slot.write(0x070, 0xf, 4, A).unwrap(); // Status
        assert_eq!(slot.read(0x070, 4, A).unwrap(), 0);
        slot.write(DEVICE_ID_OFFSET, 2, 4, A).unwrap();
        assert_eq!(slot.read(DEVICE_ID_OFFSET, 4, A).unwrap(), 0);
        assert_eq!(slot.read(0x100, 4, A).unwrap(), 0, "config space is empty");
    }
}
