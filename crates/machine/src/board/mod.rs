//! Board construction: the memory map, the devices and their wiring, the
//! images, the device tree and the boot ROM.
//!
//! Building is split in two steps so the harts can be created in between:
//! [`BoardMemory::new`] creates the memory system with DRAM and the address
//! space the harts run in; [`virt::build`] / [`spike::build`] then add the
//! devices (whose interrupt lines go to the harts' pins), load the images and
//! write the boot ROM. The ROM and devices are mapped in one memory
//! transaction, so the flat view is rendered once, not once per device
//! (start-up time matters: a whole run of a tiny guest takes milliseconds).

pub(crate) mod spike;
pub(crate) mod virt;

use std::rc::Rc;

use ferrite_devices::{
    Clint, GoldfishRtc, IrqLine, TestFinisher, TimeSource, Uart16550, VirtioMmio,
};
use ferrite_memory::{AddressSpaceId, GuestAddress, MemorySystem, RegionSize};
use ferrite_riscv::HartIrqPins;
use ferrite_softmmu::VirtualClock;

use crate::config::MachineConfig;
use crate::console::Console;
use crate::error::{MachineError, Result};
use crate::hart::{mip, pin_sink};
use crate::htif::HtifFrontEnd;
use crate::image::{NamedImage, open_image};
use crate::layout::{MemoryRange, PAGE_SIZE};

/// `mtime` read from the shared virtual clock.
pub(crate) struct ClockTime(pub Rc<VirtualClock>);

impl TimeSource for ClockTime {
    fn now(&self) -> u64 {
        self.0.ticks()
    }
}

/// Largest DRAM Ferrite maps. RAM is reserved lazily, but the host must
/// still be able to reserve the address range.
pub(crate) const MAX_RAM_SIZE: u64 = 1 << 40;

/// The memory system with DRAM mapped, before devices exist.
pub(crate) struct BoardMemory {
    pub mem: MemorySystem,
    pub root: ferrite_memory::RegionId,
    pub space: AddressSpaceId,
    pub ram: MemoryRange,
}

impl BoardMemory {
    /// Checks the RAM size and maps DRAM at `dram_base`.
    pub fn new(config: &MachineConfig, dram_base: u64, ram_name: &str) -> Result<Self> {
        let size = config.ram_size;
        let reason = if size == 0 {
            Some("must be greater than 0")
        } else if size % PAGE_SIZE != 0 {
            Some("must be a multiple of 4 KiB")
        } else if size > MAX_RAM_SIZE {
            Some("must be at most 1 TiB")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(MachineError::RamSize { size, reason });
        }
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram(ram_name, size)?;
        mem.add_subregion(root, dram_base, ram)?;
        let space = mem.new_address_space("memory", root);
        // QEMU's global I/O space: no RISC-V device decodes port I/O (the
        // PCIe host has its own window), so it stays empty, as on QEMU.
        let io = mem.new_container("io", RegionSize::Bytes(0x1_0000));
        mem.new_address_space("I/O", io);
        Ok(Self {
            mem,
            root,
            space,
            ram: MemoryRange::new(dram_base, size),
        })
    }

    /// Maps an empty ROM of `size` bytes at `base` (filled later with
    /// [`BoardMemory::fill_rom`], once its contents are known).
    pub fn map_rom(&mut self, name: &str, base: u64, size: u64) -> Result<()> {
        let rom = self.mem.new_rom(name, size)?;
        self.mem.add_subregion(self.root, base, rom)?;
        Ok(())
    }

    /// Writes `contents` into the ROM at `base`.
    pub fn fill_rom(&mut self, name: &str, base: u64, contents: &[u8]) -> Result<()> {
        self.mem
            .write_rom(self.space, GuestAddress(base), contents)
            .map_err(|_| MachineError::UnsupportedImage {
                what: "boot ROM",
                name: name.to_string(),
                reason: "does not fit its region",
            })
    }

    /// Maps device `ops` at `base`.
    pub fn map_io(
        &mut self,
        name: &str,
        base: u64,
        size: u64,
        ops: Rc<dyn ferrite_memory::RegionOps>,
    ) -> Result<()> {
        let io = self.mem.new_io(name, size, ops);
        self.mem.add_subregion(self.root, base, io)?;
        Ok(())
    }

    /// Maps a CLINT for `pins` at `base` (MSWI at base, MTIMER at +0x4000).
    pub fn map_clint(
        &mut self,
        base: u64,
        pins: &[HartIrqPins],
        time: Rc<dyn TimeSource>,
    ) -> Result<Rc<Clint>> {
        let msip = pins
            .iter()
            .map(|p| IrqLine::new(pin_sink(p.clone()), mip::MSIP))
            .collect();
        let mtip = pins
            .iter()
            .map(|p| IrqLine::new(pin_sink(p.clone()), mip::MTIP))
            .collect();
        let clint = Clint::new(time, msip, mtip)?;
        use ferrite_devices::clint::{MTIMER_OFFSET, MTIMER_SIZE, SWI_OFFSET, SWI_SIZE};
        self.map_io(
            "riscv.aclint.swi",
            base + SWI_OFFSET,
            SWI_SIZE,
            Rc::new(clint.swi()),
        )?;
        self.map_io(
            "riscv.aclint.mtimer",
            base + MTIMER_OFFSET,
            MTIMER_SIZE,
            Rc::new(clint.mtimer()),
        )?;
        Ok(clint)
    }
}

/// A built board: everything the run loop polls between slices.
pub(crate) struct Board {
    pub mem: MemorySystem,
    pub space: AddressSpaceId,
    pub clint: Rc<Clint>,
    pub uart: Option<Rc<Uart16550>>,
    pub finisher: Option<Rc<TestFinisher>>,
    pub rtc: Option<Rc<GoldfishRtc>>,
    /// Plugged virtio transports (served between slices).
    pub virtio: Vec<Rc<VirtioMmio>>,
    /// The virtio-mem devices: their host side and their transport.
    pub virtio_mem: Vec<VirtioMemDevice>,
    pub htif: Option<HtifFrontEnd>,
    pub console: Console,
    /// The device tree the guest is handed (generated or `--dtb`).
    pub fdt: Vec<u8>,
    /// Where every hart starts (the boot ROM).
    pub reset_pc: u64,
    /// The PCIe host (`virt`).
    pub pci: Option<Rc<ferrite_devices::PciHost>>,
    /// The display, when a display device is plugged.
    pub display: Option<crate::display::DisplayUnit>,
    /// Flash banks with a file behind them, written back at the end.
    pub flash: Vec<FlashBacking>,
}

/// A virtio-mem device's host side and the transport that notifies its
/// driver.
pub(crate) type VirtioMemDevice = (
    ferrite_devices::virtio::mem::VirtioMemControl,
    Rc<VirtioMmio>,
);

/// A flash bank and the file its contents came from.
#[derive(Debug)]
pub(crate) struct FlashBacking {
    pub bank: Rc<ferrite_devices::CfiFlash>,
    pub path: std::path::PathBuf,
    /// `bank.writes()` when the file was last written.
    pub written: u64,
}

/// The bios and kernel of a configuration, opened and parsed.
pub(crate) struct Images {
    pub bios: Option<NamedImage>,
    pub kernel: Option<NamedImage>,
}

impl Images {
    /// Every symbol of the ELF images (kernel and bios), for `--profile`.
    pub fn symbol_list(&self) -> Vec<(String, u64)> {
        [&self.kernel, &self.bios]
            .into_iter()
            .flatten()
            .flat_map(|named| match &named.image {
                crate::image::Image::Elf(elf) => elf.symbols(),
                crate::image::Image::Raw(_) => Vec::new(),
            })
            .collect()
    }

    /// The symbols the instruction log names (`>>>>  main`): the kernel's
    /// (the program Spike runs), else the bios's; none for raw images.
    pub fn symbol_map(&self) -> ferrite_riscv::SymbolMap {
        let elf = [&self.kernel, &self.bios]
            .into_iter()
            .flatten()
            .find_map(|named| match &named.image {
                crate::image::Image::Elf(elf) => Some(elf),
                crate::image::Image::Raw(_) => None,
            });
        let symbols = elf.map(|e| e.symbols()).unwrap_or_default();
        ferrite_riscv::SymbolMap::from_symbols(symbols.iter().map(|(n, v)| (n.as_str(), *v)))
    }

    /// `begin_signature`..`end_signature` of the kernel ELF (the program
    /// Spike runs), when it has both and they are in order: the memory an
    /// architectural test leaves its results in.
    pub fn signature_range(&self) -> Option<(u64, u64)> {
        let elf = self.kernel.as_ref().and_then(|named| named.elf())?;
        let begin = elf.symbol("begin_signature")?;
        let end = elf.symbol("end_signature")?;
        (begin <= end).then_some((begin, end))
    }

    /// Opens the images `config` names.
    pub fn open(config: &MachineConfig) -> Result<Self> {
        Ok(Self {
            bios: config
                .bios
                .as_ref()
                .map(|s| open_image(s, "bios"))
                .transpose()?,
            kernel: config
                .kernel
                .as_ref()
                .map(|s| open_image(s, "kernel"))
                .transpose()?,
        })
    }
}

/// Rounds `v` up to a multiple of `align` (a power of two), saturating.
pub(crate) fn align_up(v: u64, align: u64) -> u64 {
    v.checked_add(align - 1)
        .map_or(!(align - 1), |x| x & !(align - 1))
}

/// Fails if `a` and `b` share a byte: the kernel would overwrite the bios.
pub(crate) fn check_no_overlap(kernel: MemoryRange, bios: MemoryRange) -> Result<()> {
    if kernel.overlaps(&bios) {
        return Err(MachineError::KernelOverlapsBios {
            kernel_start: kernel.start(),
            kernel_end: kernel.end(),
            bios_start: bios.start(),
            bios_end: bios.end(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_saturates() {
        assert_eq!(align_up(0x8001_c280, 2 << 20), 0x8020_0000);
        assert_eq!(align_up(0x8020_0000, 2 << 20), 0x8020_0000);
        assert_eq!(align_up(u64::MAX - 1, 4096), !4095);
    }

    #[test]
    fn overlap_is_an_error() {
        let bios = MemoryRange::new(0x8000_0000, 0x4_5ac8);
        assert!(check_no_overlap(MemoryRange::new(0x8020_0000, 0x1000), bios).is_ok());
        let err = check_no_overlap(MemoryRange::new(0x8004_0000, 0x1000), bios).unwrap_err();
        assert!(err.to_string().contains("overlaps the bios"), "{err}");
    }
}
