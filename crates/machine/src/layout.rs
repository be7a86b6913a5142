//! Guest-physical ranges and the boards' memory maps.
//!
//! A [`MemoryRange`] stores its start and size and computes its end as a
//! `u128`, so a range that ends exactly at 2^64 is representable and no
//! arithmetic on it overflows.

/// A guest-physical range `[start, start + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryRange {
    start: u64,
    size: u64,
}

impl MemoryRange {
    /// The range of `size` bytes at `start`. A range whose end would pass
    /// 2^64 is clamped to end at 2^64.
    pub const fn new(start: u64, size: u64) -> Self {
        let room = u64::MAX - start;
        // `room + 1` bytes fit above start; clamp without overflowing.
        let size = if size > room && room != u64::MAX {
            room + 1
        } else {
            size
        };
        Self { start, size }
    }

    /// The range `[start, end)`; an `end` below `start` gives an empty range.
    pub fn from_bounds(start: u64, end: u128) -> Self {
        let size = end.saturating_sub(u128::from(start));
        Self::new(start, u64::try_from(size).unwrap_or(u64::MAX))
    }

    /// First byte.
    pub const fn start(&self) -> u64 {
        self.start
    }

    /// Number of bytes.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// One past the last byte (may be 2^64).
    pub const fn end(&self) -> u128 {
        self.start as u128 + self.size as u128
    }

    /// True if `addr` lies inside the range.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && u128::from(addr) < self.end()
    }

    /// True if all of `other` lies inside this range (an empty `other` fits
    /// anywhere inside or at the end of this range).
    pub fn contains_range(&self, other: &MemoryRange) -> bool {
        other.start >= self.start && other.end() <= self.end()
    }

    /// True if the two ranges share at least one byte.
    pub fn overlaps(&self, other: &MemoryRange) -> bool {
        self.size > 0
            && other.size > 0
            && u128::from(self.start) < other.end()
            && u128::from(other.start) < self.end()
    }
}

/// QEMU `virt` memory map (hw/riscv/virt.c), the part Ferrite implements.
pub mod virt {
    use super::MemoryRange;

    /// Boot ROM holding the reset vector, `fw_dynamic_info` and nothing else
    /// (QEMU places the device tree in DRAM).
    pub const MROM: MemoryRange = MemoryRange::new(0x1000, 0xf000);
    /// SiFive test finisher (poweroff/reboot).
    pub const TEST: MemoryRange = MemoryRange::new(0x10_0000, 0x1000);
    /// Goldfish RTC.
    pub const RTC: MemoryRange = MemoryRange::new(0x10_1000, 0x1000);
    /// PLIC source of the RTC.
    pub const RTC_IRQ: u32 = 11;
    /// First of the eight virtio-mmio slots (each 0x1000 apart).
    pub const VIRTIO_BASE: u64 = 0x1000_1000;
    /// Distance between virtio-mmio slots.
    pub const VIRTIO_STRIDE: u64 = 0x1000;
    /// Number of virtio-mmio slots.
    pub const VIRTIO_COUNT: u32 = 8;
    /// PLIC source of slot 0 (slot n uses `VIRTIO_IRQ + n`).
    pub const VIRTIO_IRQ: u32 = 1;
    /// CLINT: msip, mtimecmp, mtime.
    pub const CLINT: MemoryRange = MemoryRange::new(0x200_0000, 0x1_0000);
    /// PLIC, sized as QEMU sizes it for the maximum hart count.
    pub const PLIC: MemoryRange = MemoryRange::new(0xc00_0000, 0x60_0000);
    /// UART0 (ns16550a).
    pub const UART0: MemoryRange = MemoryRange::new(0x1000_0000, 0x100);
    /// QEMU's fw_cfg device: data at +0, selector at +8, DMA at +16.
    pub const FW_CFG: MemoryRange = MemoryRange::new(0x1010_0000, 0x18);
    /// QEMU's platform bus for dynamic sysbus devices (empty here).
    pub const PLATFORM_BUS: MemoryRange = MemoryRange::new(0x400_0000, 0x200_0000);
    /// Start of DRAM.
    pub const DRAM_BASE: u64 = 0x8000_0000;
    /// PLIC source number of UART0.
    pub const UART0_IRQ: u32 = 10;
    /// Number of PLIC sources QEMU's virt declares (`riscv,ndev`).
    pub const PLIC_NDEV: u32 = 96;
    /// Clock of the UART as QEMU declares it (3.6864 MHz).
    pub const UART_CLOCK_HZ: u32 = 3_686_400;
    /// The two CFI flash banks (`virt.flash0`, `virt.flash1`), 32 MiB each.
    pub const FLASH: MemoryRange = MemoryRange::new(0x2000_0000, 0x400_0000);
    /// The PCIe host's I/O window (`gpex_ioport_window`).
    pub const PCIE_PIO: MemoryRange = MemoryRange::new(0x300_0000, 0x1_0000);
    /// The PCIe host's ECAM (`pcie-ecam`: buses 0 to 255).
    pub const PCIE_ECAM: MemoryRange = MemoryRange::new(0x3000_0000, 0x1000_0000);
    /// The PCIe host's 32-bit memory window (`pcie-mmio`), at the same
    /// addresses in the PCI memory space.
    pub const PCIE_MMIO: MemoryRange = MemoryRange::new(0x4000_0000, 0x4000_0000);
    /// Size of the 64-bit window (`pcie-mmio-high`); it starts at the end of
    /// DRAM rounded up to its size, as QEMU places it on rv64.
    pub const PCIE_MMIO_HIGH_SIZE: u64 = 0x4_0000_0000;
    /// PLIC source of the host's INTA (INTB..INTD follow).
    pub const PCIE_IRQ: u32 = 0x20;
    /// The device-memory window starts at the end of DRAM rounded up to
    /// this (QEMU's riscv virt).
    pub const DEVICE_MEMORY_ALIGN: u64 = 1 << 30;
    /// Memslots the device-memory window offers memory devices (QEMU's
    /// soft limit for all memory devices together).
    pub const MEMSLOT_LIMIT: u32 = 256;
}

/// Spike memory map (riscv-isa-sim), the part Ferrite implements.
pub mod spike {
    use super::MemoryRange;

    /// CLINT: msip, mtimecmp, mtime.
    pub const CLINT: MemoryRange = MemoryRange::new(0x200_0000, 0x1_0000);
    /// Start of DRAM.
    pub const DRAM_BASE: u64 = 0x8000_0000;
}

/// Frequency of `mtime` on both boards (10 MHz), the device tree's
/// `timebase-frequency`.
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// Page size of guest memory (dispatch, dirty tracking, RAM granularity).
pub const PAGE_SIZE: u64 = 4096;

/// 1 MiB.
pub const MIB: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_at_top_of_address_space() {
        let top = MemoryRange::new(u64::MAX - 0xfff, 0x1000);
        assert_eq!(top.end(), 1u128 << 64);
        assert!(top.contains(u64::MAX));
        let clamped = MemoryRange::new(u64::MAX - 0xf, 0x1000);
        assert_eq!(clamped.end(), 1u128 << 64);
        assert_eq!(clamped.size(), 0x10);
        let whole = MemoryRange::new(0, u64::MAX);
        assert!(!whole.contains(u64::MAX));
    }

    #[test]
    fn window_does_not_answer_at_its_end() {
        let r = MemoryRange::new(0x1000, 0x100);
        assert!(r.contains(0x10ff));
        assert!(!r.contains(0x1100));
        assert!(!r.contains(0xfff));
    }

    #[test]
    fn overlap_and_containment() {
        let a = MemoryRange::new(0x8000_0000, 0x1000);
        let b = MemoryRange::new(0x8000_0fff, 0x10);
        let c = MemoryRange::new(0x8000_1000, 0x10);
        assert!(a.overlaps(&b));
        assert!(!a.overlaps(&c));
        assert!(!a.overlaps(&MemoryRange::new(0x8000_0000, 0)));
        assert!(a.contains_range(&MemoryRange::new(0x8000_0f00, 0x100)));
        assert!(!a.contains_range(&b));
        assert_eq!(
            MemoryRange::from_bounds(0x10, 0x8),
            MemoryRange::new(0x10, 0)
        );
    }
}
