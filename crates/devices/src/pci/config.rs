//! The configuration space of one PCI function: 4 KiB of registers with
//! per-byte write masks (QEMU's `config`, `wmask` and `w1cmask`), the type 0
//! header, BAR sizing, and where each BAR should be mapped.

use ferrite_memory::RegionId;

/// Bytes of PCI Express configuration space per function.
pub const CONFIG_SPACE_SIZE: usize = 4096;

/// Register offsets of the type 0 header.
pub mod reg {
    /// Vendor id (16 bits).
    pub const VENDOR_ID: usize = 0x00;
    /// Device id (16 bits).
    pub const DEVICE_ID: usize = 0x02;
    /// Command (16 bits).
    pub const COMMAND: usize = 0x04;
    /// Status (16 bits).
    pub const STATUS: usize = 0x06;
    /// Revision id (8 bits), then the 24-bit class code.
    pub const REVISION_ID: usize = 0x08;
    /// Cache line size (8 bits).
    pub const CACHE_LINE_SIZE: usize = 0x0c;
    /// Latency timer (8 bits).
    pub const LATENCY_TIMER: usize = 0x0d;
    /// Header type (8 bits).
    pub const HEADER_TYPE: usize = 0x0e;
    /// Base address register 0; BAR n is at `BAR0 + 4 * n`.
    pub const BAR0: usize = 0x10;
    /// Subsystem vendor id (16 bits).
    pub const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
    /// Subsystem id (16 bits).
    pub const SUBSYSTEM_ID: usize = 0x2e;
    /// Expansion ROM base address (32 bits).
    pub const ROM_ADDRESS: usize = 0x30;
    /// First capability's offset (8 bits).
    pub const CAPABILITY_LIST: usize = 0x34;
    /// Interrupt line (8 bits, software's scratch register).
    pub const INTERRUPT_LINE: usize = 0x3c;
    /// Interrupt pin (8 bits: 0 none, 1..=4 INTA..INTD).
    pub const INTERRUPT_PIN: usize = 0x3d;
}

/// Command register bits.
pub mod command {
    /// Decode I/O BARs.
    pub const IO: u16 = 1 << 0;
    /// Decode memory BARs.
    pub const MEMORY: u16 = 1 << 1;
    /// May master the bus (DMA).
    pub const BUS_MASTER: u16 = 1 << 2;
    /// Report parity errors.
    pub const PARITY: u16 = 1 << 6;
    /// Report system errors.
    pub const SERR: u16 = 1 << 8;
    /// INTx messages disabled.
    pub const INTX_DISABLE: u16 = 1 << 10;
    /// The bits software may write.
    pub const WRITABLE: u16 = IO | MEMORY | BUS_MASTER | PARITY | SERR | INTX_DISABLE;
}

/// Status register bits.
pub mod status {
    /// An INTx interrupt is pending (read-only).
    pub const INTERRUPT: u16 = 1 << 3;
    /// The function has a capability list.
    pub const CAP_LIST: u16 = 1 << 4;
    /// Error bits, cleared by writing 1.
    pub const W1C: u16 = 0xf900;
}

/// What a BAR decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// Memory below 4 GiB.
    Memory32,
    /// Prefetchable memory below 4 GiB.
    Memory32Prefetchable,
    /// Prefetchable memory anywhere in 64 bits (takes this BAR and the next).
    Memory64Prefetchable,
    /// I/O space.
    Io,
    /// The expansion ROM (register 0x30, BAR number 6): memory, decoded
    /// while its enable bit and memory decoding are on.
    Rom,
}

impl BarKind {
    /// The read-only low bits of the BAR register.
    fn flags(self) -> u32 {
        match self {
            BarKind::Memory32 => 0x0,
            BarKind::Memory32Prefetchable => 0x8,
            BarKind::Memory64Prefetchable => 0x4 | 0x8,
            BarKind::Io => 0x1,
            BarKind::Rom => 0x0,
        }
    }

    /// The register offset of BAR `index` of this kind.
    pub fn register(self, index: usize) -> usize {
        match self {
            BarKind::Rom => reg::ROM_ADDRESS,
            _ => reg::BAR0 + 4 * index,
        }
    }

    /// Whether the BAR takes two registers.
    pub fn is_64bit(self) -> bool {
        self == BarKind::Memory64Prefetchable
    }

    /// Whether the BAR is in the I/O space.
    pub fn is_io(self) -> bool {
        self == BarKind::Io
    }
}

/// One BAR a function declares: its size (a power of two), what it decodes,
/// and the region it maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarSpec {
    /// BAR number, 0..=5 (a 64-bit BAR also takes the next number); 6 for
    /// the expansion ROM.
    pub index: usize,
    /// Bytes; a power of two, at least 16 for memory and 4 for I/O.
    pub size: u64,
    /// What it decodes.
    pub kind: BarKind,
    /// The region mapped at the BAR's address while decoding is on.
    pub region: RegionId,
}

/// The identity registers of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciIdentity {
    /// Vendor id.
    pub vendor: u16,
    /// Device id.
    pub device: u16,
    /// Base class, sub-class and programming interface (24 bits).
    pub class: u32,
    /// Revision id.
    pub revision: u8,
    /// Subsystem vendor id.
    pub subsystem_vendor: u16,
    /// Subsystem id.
    pub subsystem: u16,
    /// Interrupt pin: 0 none, 1..=4 INTA..INTD.
    pub interrupt_pin: u8,
    /// Whether the function has a PCI Express capability (at 0x80, as a
    /// root complex integrated endpoint).
    pub express_endpoint: bool,
}

/// QEMU's subsystem ids for its own devices (Red Hat, QEMU).
pub const SUBSYSTEM_VENDOR_QEMU: u16 = 0x1af4;
/// See [`SUBSYSTEM_VENDOR_QEMU`].
pub const SUBSYSTEM_QEMU: u16 = 0x1100;

/// Where the PCI Express capability sits, as in QEMU's devices.
const EXPRESS_CAP: usize = 0x80;
/// Its length (a PCIe v2 endpoint capability): it fits in the
/// conventional 256-byte space.
const EXPRESS_CAP_LEN: usize = 0x3c;
const _: () = assert!(EXPRESS_CAP + EXPRESS_CAP_LEN <= 0x100);

/// A BAR as programmed: where it decodes now, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bar {
    pub spec: BarSpec,
    pub mapped: Option<u64>,
}

/// One function's configuration space.
pub(crate) struct ConfigSpace {
    bytes: Box<[u8; CONFIG_SPACE_SIZE]>,
    wmask: Box<[u8; CONFIG_SPACE_SIZE]>,
    w1c: Box<[u8; CONFIG_SPACE_SIZE]>,
    pub bars: Vec<Bar>,
}

impl ConfigSpace {
    /// The header of a function with `id` and `bars`.
    pub fn new(id: &PciIdentity, bars: &[BarSpec]) -> Self {
        let mut c = ConfigSpace {
            bytes: Box::new([0; CONFIG_SPACE_SIZE]),
            wmask: Box::new([0; CONFIG_SPACE_SIZE]),
            w1c: Box::new([0; CONFIG_SPACE_SIZE]),
            bars: bars
                .iter()
                .map(|&spec| Bar { spec, mapped: None })
                .collect(),
        };
        c.set16(reg::VENDOR_ID, id.vendor);
        c.set16(reg::DEVICE_ID, id.device);
        c.bytes[reg::REVISION_ID] = id.revision;
        c.bytes[reg::REVISION_ID + 1..reg::REVISION_ID + 4]
            .copy_from_slice(&id.class.to_le_bytes()[..3]);
        c.set16(reg::SUBSYSTEM_VENDOR_ID, id.subsystem_vendor);
        c.set16(reg::SUBSYSTEM_ID, id.subsystem);
        c.bytes[reg::INTERRUPT_PIN] = id.interrupt_pin;
        c.mask16(reg::COMMAND, command::WRITABLE);
        c.w1c[reg::STATUS..reg::STATUS + 2].copy_from_slice(&status::W1C.to_le_bytes());
        // The latency timer is hardwired to 0 (PCI Express; QEMU too).
        c.wmask[reg::CACHE_LINE_SIZE] = 0xff;
        c.wmask[reg::INTERRUPT_LINE] = 0xff;
        for bar in bars {
            let at = bar.kind.register(bar.index);
            let addr_mask = !(bar.size - 1);
            c.set32(at, bar.kind.flags());
            if bar.kind == BarKind::Rom {
                // Address bits and the enable bit.
                c.mask32(at, (addr_mask as u32 & !0x7ff) | 1);
                continue;
            }
            let low_flags = if bar.kind.is_io() { 0x3 } else { 0xf };
            c.mask32(at, addr_mask as u32 & !low_flags);
            if bar.kind.is_64bit() {
                c.mask32(at + 4, (addr_mask >> 32) as u32);
            }
        }
        if id.express_endpoint {
            c.set16(reg::STATUS, status::CAP_LIST);
            c.bytes[reg::CAPABILITY_LIST] = EXPRESS_CAP as u8;
            // Capability id 0x10 (PCI Express), no next capability;
            // version 2, device/port type 9: a root complex integrated
            // endpoint, which a function on the host's own bus is (QEMU's
            // choice there too).
            c.bytes[EXPRESS_CAP] = 0x10;
            c.set16(EXPRESS_CAP + 2, 0x0092);
            // Device control (+8) and link control (+0x10) are writable.
            c.mask16(EXPRESS_CAP + 8, 0xffff);
            c.mask16(EXPRESS_CAP + 0x10, 0xffff);
        }
        c
    }

    fn set16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn set32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn mask16(&mut self, at: usize, v: u16) {
        self.wmask[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn mask32(&mut self, at: usize, v: u32) {
        self.wmask[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Read `size` bytes at `at` (little endian).
    pub fn read(&self, at: usize, size: usize) -> u64 {
        let mut v = 0u64;
        for i in (0..size).rev() {
            v = (v << 8) | u64::from(self.bytes.get(at + i).copied().unwrap_or(0xff));
        }
        v
    }

    /// 16 bits at `at`.
    pub fn read16(&self, at: usize) -> u16 {
        self.read(at, 2) as u16
    }

    /// 32 bits at `at`.
    pub fn read32(&self, at: usize) -> u32 {
        self.read(at, 4) as u32
    }

    /// Write `size` bytes of `value` at `at` through the masks: read-only
    /// bits keep their value, write-1-to-clear bits clear where a 1 is
    /// written.
    pub fn write(&mut self, at: usize, size: usize, value: u64) {
        for i in 0..size {
            let Some(old) = self.bytes.get(at + i).copied() else {
                return;
            };
            let b = (value >> (8 * i)) as u8;
            let (wm, w1c) = (self.wmask[at + i], self.w1c[at + i]);
            self.bytes[at + i] = ((old & !wm) | (b & wm)) & !(b & w1c);
        }
    }

    /// Set or clear status bits the function reports (not through a write).
    pub fn set_status_bits(&mut self, bits: u16, on: bool) {
        let s = self.read16(reg::STATUS);
        self.set16(reg::STATUS, if on { s | bits } else { s & !bits });
    }

    /// Where BAR `bar` should decode now, following QEMU's
    /// `pci_bar_address`: nowhere while its kind of decoding is off in the
    /// command register, while its address is 0, or while the range would
    /// wrap or pass the top of its address width (a BAR being sized holds
    /// all ones, so it decodes nowhere).
    pub fn bar_address(&self, bar: &BarSpec) -> Option<u64> {
        let cmd = self.read16(reg::COMMAND);
        let at = bar.kind.register(bar.index);
        let low = u64::from(self.read32(at));
        let (enabled, addr, limit) = match bar.kind {
            BarKind::Rom => (
                cmd & command::MEMORY != 0 && low & 1 != 0,
                low & !0x7ff,
                u64::from(u32::MAX),
            ),
            BarKind::Io => (cmd & command::IO != 0, low & !0x3, u64::from(u32::MAX)),
            BarKind::Memory32 | BarKind::Memory32Prefetchable => {
                (cmd & command::MEMORY != 0, low & !0xf, u64::from(u32::MAX))
            }
            BarKind::Memory64Prefetchable => {
                let high = u64::from(self.read32(at + 4));
                (
                    cmd & command::MEMORY != 0,
                    (high << 32) | (low & !0xf),
                    u64::MAX,
                )
            }
        };
        let last = addr.checked_add(bar.size - 1)?;
        (enabled && addr != 0 && last < limit).then_some(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> PciIdentity {
        PciIdentity {
            vendor: 0x1234,
            device: 0x1111,
            class: 0x038000,
            revision: 2,
            subsystem_vendor: SUBSYSTEM_VENDOR_QEMU,
            subsystem: SUBSYSTEM_QEMU,
            interrupt_pin: 1,
            express_endpoint: true,
        }
    }

    fn bar(index: usize, size: u64, kind: BarKind) -> BarSpec {
        BarSpec {
            index,
            size,
            kind,
            region: ferrite_memory::MemorySystem::new()
                .new_container("bar", ferrite_memory::RegionSize::Bytes(16)),
        }
    }

    #[test]
    fn header_holds_the_identity() {
        let c = ConfigSpace::new(&identity(), &[]);
        assert_eq!(c.read32(0), 0x1111_1234);
        assert_eq!(c.read32(reg::REVISION_ID), 0x0380_0002);
        assert_eq!(c.read32(reg::SUBSYSTEM_VENDOR_ID), 0x1100_1af4);
        assert_eq!(c.read(reg::INTERRUPT_PIN, 1), 1);
        assert_eq!(c.read16(reg::STATUS), status::CAP_LIST);
        assert_eq!(c.read(reg::CAPABILITY_LIST, 1), 0x80);
        assert_eq!(c.read(0x80, 1), 0x10);
        assert_eq!(
            c.read16(0x82) >> 4 & 0xf,
            9,
            "root complex integrated endpoint"
        );
    }

    #[test]
    fn read_only_registers_ignore_writes_and_status_errors_clear_on_one() {
        let mut c = ConfigSpace::new(&identity(), &[]);
        c.write(0, 4, 0xdead_beef);
        assert_eq!(c.read32(0), 0x1111_1234);
        c.write(reg::COMMAND, 2, 0xffff);
        assert_eq!(c.read16(reg::COMMAND), command::WRITABLE);
        c.set_status_bits(0x8000, true);
        c.write(reg::STATUS, 2, 0x8000);
        assert_eq!(c.read16(reg::STATUS), status::CAP_LIST);
    }

    #[test]
    fn sizing_a_bar_reads_back_its_size_and_flags() {
        let mut c = ConfigSpace::new(
            &identity(),
            &[
                bar(0, 16 << 20, BarKind::Memory32Prefetchable),
                bar(2, 4096, BarKind::Memory32),
                bar(3, 1 << 33, BarKind::Memory64Prefetchable),
                bar(5, 32, BarKind::Io),
            ],
        );
        for i in 0..6 {
            c.write(reg::BAR0 + 4 * i, 4, 0xffff_ffff);
        }
        assert_eq!(c.read32(reg::BAR0), 0xff00_0008);
        assert_eq!(c.read32(reg::BAR0 + 4), 0, "no BAR 1");
        assert_eq!(c.read32(reg::BAR0 + 8), 0xffff_f000);
        assert_eq!(c.read32(reg::BAR0 + 12), 0x0000_000c);
        assert_eq!(c.read32(reg::BAR0 + 16), 0xffff_fffe);
        assert_eq!(c.read32(reg::BAR0 + 20), 0xffff_ffe1);
    }

    #[test]
    fn the_expansion_rom_sizes_and_decodes_with_its_enable_bit() {
        let rom = bar(6, 32 << 10, BarKind::Rom);
        let mut c = ConfigSpace::new(&identity(), &[rom]);
        c.write(reg::ROM_ADDRESS, 4, 0xffff_fffe);
        assert_eq!(c.read32(reg::ROM_ADDRESS), 0xffff_8000);
        c.write(reg::ROM_ADDRESS, 4, 0x4100_8000);
        c.write(reg::COMMAND, 2, u64::from(command::MEMORY));
        assert_eq!(c.bar_address(&rom), None, "not enabled");
        c.write(reg::ROM_ADDRESS, 4, 0x4100_8001);
        assert_eq!(c.bar_address(&rom), Some(0x4100_8000));
    }

    #[test]
    fn a_bar_decodes_only_when_enabled_placed_and_in_range() {
        let b = bar(0, 4096, BarKind::Memory32);
        let mut c = ConfigSpace::new(&identity(), &[b]);
        c.write(reg::BAR0, 4, 0x4000_1000);
        assert_eq!(c.bar_address(&b), None, "memory decoding is off");
        c.write(reg::COMMAND, 2, u64::from(command::MEMORY));
        assert_eq!(c.bar_address(&b), Some(0x4000_1000));
        c.write(reg::BAR0, 4, 0xffff_ffff);
        assert_eq!(c.bar_address(&b), None, "being sized");
        c.write(reg::BAR0, 4, 0);
        assert_eq!(c.bar_address(&b), None, "at address 0");
        let b64 = bar(2, 1 << 20, BarKind::Memory64Prefetchable);
        let mut c = ConfigSpace::new(&identity(), &[b64]);
        c.write(reg::COMMAND, 2, u64::from(command::MEMORY));
        c.write(reg::BAR0 + 8, 4, 0x0010_0000);
        c.write(reg::BAR0 + 12, 4, 0x4);
        assert_eq!(c.bar_address(&b64), Some(0x4_0010_0000));
    }
}
