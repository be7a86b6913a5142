//! QEMU's `bochs-display`: a PCI display (1234:1111, class 0x0380) with a
//! linear framebuffer and the Bochs DISPI registers, without VGA.
//!
//! * BAR 0 (32-bit, prefetchable): the VRAM, a RAM region
//!   (`bochs-display-vram`, 16 MiB by default) whose writes the VGA dirty
//!   bitmap logs, so a display refresh converts only what changed.
//! * BAR 6, the expansion ROM (32 KiB, empty: see [`ROM_SIZE`]).
//! * BAR 2 (32-bit, 4 KiB): `bochs-display-mmio`, holding an EDID block
//!   at 0 (`edid`, 256 bytes, when enabled: QEMU 7.2's default), the DISPI
//!   registers (`bochs dispi interface`, 16 bits each at 0x500 + 2 * index)
//!   and QEMU's extended registers (`qemu extended regs` at 0x600: the
//!   region size, and the framebuffer byte order, 0x1e1e1e1e little endian
//!   or 0xbebebebe big endian).
//!
//! The mode is in the registers: enable bit 0 of `ENABLE`, `XRES`, `YRES`,
//! `BPP` (16 or 32), `VIRT_WIDTH` (the stride in pixels, at least `XRES`),
//! and `X_OFFSET`/`Y_OFFSET` (where scan-out starts). [`BochsDisplay::mode`]
//! decodes them as QEMU does, refusing modes under 64×64 or past the VRAM.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, DirtyClient, IoDescriptor, MemTxAttrs, MemTxResult, MemorySystem, RegionId,
    RegionOps, RegionSize,
};

use crate::GUEST_ERRORS;
use crate::pci::{BarKind, BarSpec, PciDevice, PciIdentity, SUBSYSTEM_QEMU, SUBSYSTEM_VENDOR_QEMU};

/// DISPI register indices.
pub mod dispi {
    /// Interface id (reads 0xb0c5).
    pub const ID: usize = 0;
    /// Horizontal resolution.
    pub const XRES: usize = 1;
    /// Vertical resolution.
    pub const YRES: usize = 2;
    /// Bits per pixel.
    pub const BPP: usize = 3;
    /// Enable (bit 0).
    pub const ENABLE: usize = 4;
    /// Bank (unused with a linear framebuffer).
    pub const BANK: usize = 5;
    /// Stride in pixels.
    pub const VIRT_WIDTH: usize = 6;
    /// Virtual height.
    pub const VIRT_HEIGHT: usize = 7;
    /// First scanned-out column.
    pub const X_OFFSET: usize = 8;
    /// First scanned-out row.
    pub const Y_OFFSET: usize = 9;
    /// VRAM size in 64 KiB units (read-only).
    pub const VIDEO_MEMORY_64K: usize = 10;
    /// Registers that hold values.
    pub const COUNT: usize = 10;
    /// What `ID` reads.
    pub const ID5: u16 = 0xb0c5;
    /// `ENABLE` bit 0.
    pub const ENABLED: u16 = 0x01;
}

/// The EDID window at the start of the MMIO BAR.
pub const EDID_REGION_SIZE: u64 = 0x100;
/// Where the DISPI registers sit in the MMIO BAR.
pub const DISPI_OFFSET: u64 = 0x500;
/// Their window: 11 registers of 2 bytes.
pub const DISPI_SIZE: u64 = 0x0b * 2;
/// Where QEMU's extended registers sit in the MMIO BAR.
pub const QEXT_OFFSET: u64 = 0x600;
/// Their window (and what the size register reads).
pub const QEXT_SIZE: u64 = 8;
/// The MMIO BAR's size.
pub const MMIO_SIZE: u64 = 0x1000;
/// The expansion ROM's size. QEMU fills it with its x86 VGA BIOS
/// (`vgabios-bochs-display.bin`), which no RISC-V guest runs; here it is
/// an empty ROM of the same size, so firmware sizing BARs sees QEMU's
/// layout.
pub const ROM_SIZE: u64 = 32 << 10;
/// The default VRAM size (QEMU's `vgamem`).
pub const DEFAULT_VRAM: u64 = 16 << 20;
/// Extended register: byte order, little endian.
pub const QEXT_LITTLE_ENDIAN: u32 = 0x1e1e_1e1e;
/// Extended register: byte order, big endian.
pub const QEXT_BIG_ENDIAN: u32 = 0xbebe_bebe;

/// The pixel layouts a mode can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PixelLayout {
    /// 16 bits, 5-6-5, host (little-endian) order.
    Rgb565,
    /// 32 bits x-r-g-b, little endian (blue in the first byte).
    Xrgb8888,
    /// 32 bits x-r-g-b, big endian (x in the first byte).
    Xrgb8888BigEndian,
}

impl PixelLayout {
    /// Bytes per pixel.
    pub fn bytes(self) -> u32 {
        match self {
            PixelLayout::Rgb565 => 2,
            _ => 4,
        }
    }
}

/// A valid video mode, as QEMU's `bochs_display_get_mode` computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BochsMode {
    /// Pixels per row shown.
    pub width: u32,
    /// Rows shown.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: u32,
    /// Byte offset in VRAM of the first pixel shown.
    pub offset: u64,
    /// The pixel layout.
    pub layout: PixelLayout,
}

impl BochsMode {
    /// Bytes of VRAM scanned out.
    pub fn size(&self) -> u64 {
        u64::from(self.stride) * u64::from(self.height)
    }
}

/// Errors from building the device.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BochsError {
    /// VRAM size outside QEMU's bounds (4 MiB to 256 MiB).
    #[error("bochs-display: video memory of {0} bytes is {1}")]
    VramSize(u64, &'static str),
    /// The memory system refused a region.
    #[error("bochs-display: {0}")]
    Memory(#[from] ferrite_memory::MemoryError),
}

/// The device's registers.
struct Registers {
    vbe: [u16; dispi::COUNT],
    big_endian: bool,
}

/// A bochs-display: its registers and its regions.
pub struct BochsDisplay {
    regs: RefCell<Registers>,
    vram: RegionId,
    vram_size: u64,
    mmio: RegionId,
    rom: RegionId,
}

impl std::fmt::Debug for BochsDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BochsDisplay")
            .field("vram_size", &self.vram_size)
            .field("mode", &self.mode())
            .finish()
    }
}

impl BochsDisplay {
    /// A display with `vram_size` bytes of VRAM (rounded up to a power of
    /// two, as QEMU does; 4 MiB to 256 MiB), its regions created in `mem`
    /// and VGA dirty logging switched on for the VRAM; `edid` describes the
    /// monitor in the MMIO BAR (QEMU's `edid=on`), `None` leaves it out.
    pub fn new(
        mem: &mut MemorySystem,
        vram_size: u64,
        edid: Option<crate::edid::MonitorInfo>,
    ) -> Result<Rc<Self>, BochsError> {
        if vram_size < 4 << 20 {
            return Err(BochsError::VramSize(
                vram_size,
                "too small (at least 4 MiB)",
            ));
        }
        if vram_size > 256 << 20 {
            return Err(BochsError::VramSize(vram_size, "too big (at most 256 MiB)"));
        }
        let vram_size = vram_size.next_power_of_two();
        let vram = mem.new_ram("bochs-display-vram", vram_size)?;
        let mmio = mem.new_container("bochs-display-mmio", RegionSize::Bytes(MMIO_SIZE));
        let rom = mem.new_rom("bochs-display.rom", ROM_SIZE)?;
        let dev = Rc::new(BochsDisplay {
            regs: RefCell::new(Registers {
                vbe: [0; dispi::COUNT],
                big_endian: false,
            }),
            vram,
            vram_size,
            mmio,
            rom,
        });
        let vbe = mem.new_io(
            "bochs dispi interface",
            DISPI_SIZE,
            Rc::new(Dispi(dev.clone())),
        );
        let qext = mem.new_io("qemu extended regs", QEXT_SIZE, Rc::new(Qext(dev.clone())));
        if let Some(monitor) = edid {
            let blob = Rc::new(EdidBlob(crate::edid::edid(&monitor)));
            let region = mem.new_io("edid", EDID_REGION_SIZE, blob);
            mem.add_subregion(mmio, 0, region)?;
        }
        mem.add_subregion(mmio, DISPI_OFFSET, vbe)?;
        mem.add_subregion(mmio, QEXT_OFFSET, qext)?;
        mem.set_log(vram, DirtyClient::Vga, true);
        Ok(dev)
    }

    /// The VRAM region (BAR 0).
    pub fn vram(&self) -> RegionId {
        self.vram
    }

    /// VRAM bytes.
    pub fn vram_size(&self) -> u64 {
        self.vram_size
    }

    /// DISPI register `index` as the guest reads it.
    pub fn dispi(&self, index: usize) -> u16 {
        match index {
            dispi::ID => dispi::ID5,
            dispi::VIDEO_MEMORY_64K => (self.vram_size >> 16) as u16,
            i => self.regs.borrow().vbe.get(i).copied().unwrap_or(0xffff),
        }
    }

    /// The mode being scanned out, or `None` when the display is disabled
    /// or the registers describe no valid mode.
    pub fn mode(&self) -> Option<BochsMode> {
        let r = self.regs.borrow();
        let v = &r.vbe;
        if v[dispi::ENABLE] & dispi::ENABLED == 0 {
            return None;
        }
        let layout = match v[dispi::BPP] {
            16 => PixelLayout::Rgb565,
            32 if r.big_endian => PixelLayout::Xrgb8888BigEndian,
            32 => PixelLayout::Xrgb8888,
            _ => return None,
        };
        let bpp = layout.bytes();
        let width = u32::from(v[dispi::XRES]);
        let height = u32::from(v[dispi::YRES]);
        let stride = u32::from(v[dispi::VIRT_WIDTH]).max(width) * bpp;
        let offset = u64::from(v[dispi::X_OFFSET]) * u64::from(bpp)
            + u64::from(v[dispi::Y_OFFSET]) * u64::from(stride);
        let mode = BochsMode {
            width,
            height,
            stride,
            offset,
            layout,
        };
        (width >= 64 && height >= 64 && offset + mode.size() <= self.vram_size).then_some(mode)
    }
}

impl PciDevice for BochsDisplay {
    fn identity(&self) -> PciIdentity {
        PciIdentity {
            vendor: 0x1234,
            device: 0x1111,
            class: 0x03_80_00,
            revision: 2,
            subsystem_vendor: SUBSYSTEM_VENDOR_QEMU,
            subsystem: SUBSYSTEM_QEMU,
            interrupt_pin: 0,
            express_endpoint: true,
        }
    }

    fn bars(&self) -> Vec<BarSpec> {
        vec![
            BarSpec {
                index: 0,
                size: self.vram_size,
                kind: BarKind::Memory32Prefetchable,
                region: self.vram,
            },
            BarSpec {
                index: 2,
                size: MMIO_SIZE,
                kind: BarKind::Memory32,
                region: self.mmio,
            },
            BarSpec {
                index: 6,
                size: ROM_SIZE,
                kind: BarKind::Rom,
                region: self.rom,
            },
        ]
    }
}

/// The DISPI registers' callbacks.
struct Dispi(Rc<BochsDisplay>);

impl RegionOps for Dispi {
    fn read(&self, offset: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(u64::from(self.0.dispi((offset >> 1) as usize)))
    }
    fn write(&self, offset: u64, value: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        let index = (offset >> 1) as usize;
        match self.0.regs.borrow_mut().vbe.get_mut(index) {
            Some(r) => *r = value as u16,
            None => {
                tracing::debug!(target: GUEST_ERRORS, "bochs-display: write to read-only DISPI register {index}")
            }
        }
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 4),
            implementation: AccessConstraints::sizes(2, 2),
            ..IoDescriptor::default()
        }
    }
}

/// The EDID window: the block, then zeros; writes ignored.
struct EdidBlob([u8; crate::edid::EDID_SIZE]);

impl RegionOps for EdidBlob {
    fn read(&self, offset: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(u64::from(self.0.get(offset as usize).copied().unwrap_or(0)))
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 4),
            implementation: AccessConstraints::sizes(1, 1),
            ..IoDescriptor::default()
        }
    }
}

/// QEMU's extended registers' callbacks.
struct Qext(Rc<BochsDisplay>);

impl RegionOps for Qext {
    fn read(&self, offset: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(match offset {
            0 => QEXT_SIZE,
            4 if self.0.regs.borrow().big_endian => u64::from(QEXT_BIG_ENDIAN),
            4 => u64::from(QEXT_LITTLE_ENDIAN),
            _ => 0,
        })
    }
    fn write(&self, offset: u64, value: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        if offset == 4 {
            let mut r = self.0.regs.borrow_mut();
            match value as u32 {
                QEXT_BIG_ENDIAN => r.big_endian = true,
                QEXT_LITTLE_ENDIAN => r.big_endian = false,
                _ => {}
            }
        }
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(4, 4),
            ..IoDescriptor::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrite_memory::{Endianness, GuestAddress};

    use super::*;

    fn setup() -> (
        MemorySystem,
        ferrite_memory::AddressSpaceId,
        Rc<BochsDisplay>,
    ) {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let space = mem.new_address_space("memory", root);
        let dev = BochsDisplay::new(&mut mem, DEFAULT_VRAM, Some(Default::default())).unwrap();
        mem.add_subregion(root, 0x1000, dev.mmio).unwrap();
        (mem, space, dev)
    }

    fn w(
        mem: &mut MemorySystem,
        space: ferrite_memory::AddressSpaceId,
        at: u64,
        size: u32,
        v: u64,
    ) {
        mem.store(
            space,
            GuestAddress(0x1000 + at),
            size,
            v,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap();
    }

    fn r(mem: &mut MemorySystem, space: ferrite_memory::AddressSpaceId, at: u64, size: u32) -> u64 {
        mem.load(
            space,
            GuestAddress(0x1000 + at),
            size,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap()
    }

    fn set(mem: &mut MemorySystem, space: ferrite_memory::AddressSpaceId, index: usize, v: u16) {
        w(mem, space, DISPI_OFFSET + 2 * index as u64, 2, u64::from(v));
    }

    #[test]
    fn registers_read_as_qemus() {
        let (mut mem, space, _) = setup();
        assert_eq!(r(&mut mem, space, DISPI_OFFSET, 2), 0xb0c5);
        assert_eq!(
            r(&mut mem, space, DISPI_OFFSET + 20, 2),
            256,
            "16 MiB in 64 KiB units"
        );
        assert_eq!(r(&mut mem, space, QEXT_OFFSET, 4), 8);
        assert_eq!(r(&mut mem, space, 0, 4), 0xffff_ff00, "the EDID header");
        assert_eq!(r(&mut mem, space, 0x80, 4), 0, "one block, then zeros");
        assert_eq!(r(&mut mem, space, QEXT_OFFSET + 4, 4), 0x1e1e_1e1e);
        // A 32-bit access covers two registers (split into 16-bit ones).
        set(&mut mem, space, dispi::YRES, 480);
        set(&mut mem, space, dispi::BPP, 32);
        assert_eq!(r(&mut mem, space, DISPI_OFFSET + 4, 4), (32 << 16) | 480);
    }

    #[test]
    fn the_mode_follows_the_registers_as_qemus() {
        let (mut mem, space, dev) = setup();
        set(&mut mem, space, dispi::XRES, 800);
        set(&mut mem, space, dispi::YRES, 600);
        set(&mut mem, space, dispi::BPP, 32);
        assert_eq!(dev.mode(), None, "not enabled");
        set(&mut mem, space, dispi::ENABLE, dispi::ENABLED);
        let m = dev.mode().unwrap();
        assert_eq!((m.width, m.height, m.stride, m.offset), (800, 600, 3200, 0));
        assert_eq!(m.layout, PixelLayout::Xrgb8888);
        set(&mut mem, space, dispi::VIRT_WIDTH, 1024);
        set(&mut mem, space, dispi::Y_OFFSET, 600);
        set(&mut mem, space, dispi::X_OFFSET, 8);
        let m = dev.mode().unwrap();
        assert_eq!((m.stride, m.offset), (4096, 600 * 4096 + 32));
        w(
            &mut mem,
            space,
            QEXT_OFFSET + 4,
            4,
            u64::from(QEXT_BIG_ENDIAN),
        );
        assert_eq!(dev.mode().unwrap().layout, PixelLayout::Xrgb8888BigEndian);
        set(&mut mem, space, dispi::BPP, 16);
        assert_eq!(dev.mode().unwrap().layout, PixelLayout::Rgb565);
        set(&mut mem, space, dispi::BPP, 8);
        assert_eq!(dev.mode(), None, "8 bpp is not supported");
        set(&mut mem, space, dispi::BPP, 32);
        set(&mut mem, space, dispi::Y_OFFSET, 4000);
        assert_eq!(dev.mode(), None, "past the VRAM");
        set(&mut mem, space, dispi::Y_OFFSET, 0);
        set(&mut mem, space, dispi::XRES, 32);
        assert_eq!(dev.mode(), None, "narrower than 64");
    }

    #[test]
    fn vram_size_is_bounded_and_rounded() {
        let mut mem = MemorySystem::new();
        assert!(BochsDisplay::new(&mut mem, 1 << 20, None).is_err());
        assert!(BochsDisplay::new(&mut mem, 512 << 20, None).is_err());
        let d = BochsDisplay::new(&mut mem, 5 << 20, None).unwrap();
        assert_eq!(d.vram_size(), 8 << 20);
    }
}
