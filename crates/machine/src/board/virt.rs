//! The `virt` board: QEMU's memory map and boot protocol.
//!
//! | range                     | device                                  |
//! |---------------------------|-----------------------------------------|
//! | `0x0000_1000 + 0xf000`    | boot ROM (reset vector, fw_dynamic_info)|
//! | `0x0010_0000 + 0x1000`    | SiFive test finisher                    |
//! | `0x0010_1000 + 0x24`      | Goldfish RTC, PLIC source 11            |
//! | `0x0200_0000 + 0x10000`   | CLINT (ACLINT MSWI + MTIMER)            |
//! | `0x0300_0000 + 0x10000`   | PCIe I/O window                         |
//! | `0x0c00_0000 + ...`       | PLIC (96 sources, M and S context/hart) |
//! | `0x0400_0000 + 32 MiB`    | platform bus (empty)                    |
//! | `0x1000_0000 + 0x100`     | UART0 ns16550a, PLIC source 10          |
//! | `0x1000_1000 + 0x1000*n`  | virtio-mmio slot n (0..8), source n + 1 |
//! | `0x1010_0000 + 0x18`      | fw_cfg (data, selector, DMA)            |
//! | `0x2000_0000 + 2×32 MiB`  | CFI flash banks `virt.flash0`, `flash1` |
//! | `0x3000_0000 + 256 MiB`   | PCIe ECAM (alias `pcie-ecam`)           |
//! | `0x4000_0000 + 1 GiB`     | PCIe 32-bit window (alias `pcie-mmio`)  |
//! | `0x8000_0000 + ram_size`  | DRAM                                    |
//! | DRAM end, 16 GiB aligned  | PCIe 64-bit window (`pcie-mmio-high`)   |
//!
//! Image placement follows QEMU: the bios (an ELF at its own addresses, or
//! a raw `.bin` at the start of DRAM) runs first; the kernel goes at the
//! next 2 MiB boundary after the bios (for a raw image; an ELF kernel at its
//! own addresses) and is handed to the bios through `fw_dynamic_info` and
//! by convention (fw_jump's 0x80200000). With no bios, the kernel's entry is
//! where the ROM jumps. The device tree goes at the top of DRAM (below
//! 3 GiB), aligned down to 2 MiB.

use std::rc::Rc;

use ferrite_devices::fw_cfg::{FwCfg, FwCfgConfig};
use ferrite_devices::pci::HostBridge;
use ferrite_devices::pflash::{CfiFlash, FlashGeometry};
use ferrite_devices::virtio::block::{FileDisk, VirtioBlock};
use ferrite_devices::virtio::mem::VirtioMem;
use ferrite_devices::virtio::rng::VirtioRng;
use ferrite_devices::{
    BochsDisplay, GoldfishRtc, IrqLine, PciHost, Plic, PlicConfig, TestFinisher, TimeSource,
    Uart16550, VirtioMmio, VirtioMmioEmpty,
};
use ferrite_memory::{GuestAddress, MemTxAttrs, RegionSize};
use ferrite_riscv::HartIrqPins;

use super::{
    Board, BoardMemory, FlashBacking, Images, VirtioMemDevice, align_up, check_no_overlap,
};
use crate::boot_rom::virt_rom;
use crate::config::{MachineConfig, PciDeviceConfig};
use crate::console::Console;
use crate::display::DisplayUnit;
use crate::error::{MachineError, Result};
use crate::fdt::{DeviceTreeSpec, TreeKind, generate};
use crate::hart::{mip, pin_sink};
use crate::htif::HtifFrontEnd;
use crate::image::{Image, NamedImage, read_source};
use crate::layout::{MIB, MemoryRange, PAGE_SIZE, virt};

/// Where QEMU puts the next stage after the bios on rv64: the bios end
/// rounded up to 2 MiB.
const KERNEL_ALIGN: u64 = 2 * MIB;

/// QEMU keeps the device tree below 3 GiB so 32-bit kernels can reach it.
const FDT_CEILING: u64 = 3072 * MIB;

/// The device tree's alignment at the top of DRAM.
const FDT_ALIGN: u64 = 2 * MIB;

/// Builds the `virt` board on `memory`, for harts with `pins`.
pub(crate) fn build(
    config: &MachineConfig,
    mut memory: BoardMemory,
    pins: &[HartIrqPins],
    time: Rc<dyn TimeSource>,
    images: Images,
    console: Console,
    user_dtb: Option<(String, Vec<u8>)>,
) -> Result<Board> {
    // Devices and the (still empty) boot ROM, in one transaction.
    memory.mem.begin();
    memory.map_rom(
        "riscv_virt_board.mrom",
        virt::MROM.start(),
        virt::MROM.size(),
    )?;
    let clint = memory.map_clint(virt::CLINT.start(), pins, time.clone())?;
    let plic_outputs = pins
        .iter()
        .flat_map(|p| {
            [
                IrqLine::new(pin_sink(p.clone()), mip::MEIP),
                IrqLine::new(pin_sink(p.clone()), mip::SEIP),
            ]
        })
        .collect();
    let plic_config = PlicConfig::virt(pins.len() as u32);
    let plic = Plic::new(plic_config, plic_outputs)?;
    // QEMU maps the PLIC's whole aperture for its largest hart count;
    // addresses past the last context are reserved (read 0, logged).
    let plic_size = virt::PLIC.size().max(plic.region_size());
    memory.map_io(
        "riscv.sifive.plic",
        virt::PLIC.start(),
        plic_size,
        plic.clone(),
    )?;
    let uart = Rc::new(Uart16550::new(
        IrqLine::new(plic.clone(), virt::UART0_IRQ),
        Box::new(console.backend.clone()),
    ));
    memory.map_io(
        "serial",
        virt::UART0.start(),
        Uart16550::REGION_SIZE,
        uart.clone(),
    )?;
    // QEMU's platform bus, where dynamic sysbus devices would go: an
    // empty container on virt (nothing Ferrite has plugs there).
    let platform_bus = memory
        .mem
        .new_container("platform bus", RegionSize::Bytes(virt::PLATFORM_BUS.size()));
    memory
        .mem
        .add_subregion(memory.root, virt::PLATFORM_BUS.start(), platform_bus)?;
    let rtc = Rc::new(GoldfishRtc::new(
        time,
        RTC_START_NS,
        IrqLine::new(plic.clone(), virt::RTC_IRQ),
    ));
    memory.map_io(
        "goldfish_rtc",
        virt::RTC.start(),
        GoldfishRtc::REGION_SIZE,
        rtc.clone(),
    )?;
    let device_memory = map_device_memory(config, &mut memory)?;
    let (virtio, virtio_mem) = map_virtio(config, &mut memory, &plic)?;
    let (pci, display_device, pcie_high) = map_pcie(config, &mut memory, &plic, device_memory)?;
    let flash = map_flash(config, &mut memory)?;
    map_fw_cfg(config, &mut memory, pins.len())?;
    let finisher = Rc::new(TestFinisher::new());
    memory.map_io(
        "riscv.sifive.test",
        virt::TEST.start(),
        virt::TEST.size(),
        finisher.clone(),
    )?;

    memory.mem.commit();

    // Images.
    let dram = memory.ram;
    let loadable = [dram];
    let mut start = dram.start();
    let mut next_stage = 0;
    let mut occupied: Vec<MemoryRange> = Vec::new();
    let mut kernel_raw_addr = dram.start();
    if let Some(bios) = &images.bios {
        let fp = bios.footprint(dram.start());
        bios.load(&mut memory.mem, memory.space, &loadable, dram.start())?;
        start = bios.entry(dram.start());
        kernel_raw_addr = align_up(u64::try_from(fp.end()).unwrap_or(u64::MAX), KERNEL_ALIGN);
        occupied.push(fp);
    }
    if let Some(kernel) = &images.kernel {
        let fp = kernel.footprint(kernel_raw_addr);
        if let Some(bios_fp) = occupied.first() {
            check_no_overlap(fp, *bios_fp)?;
        }
        kernel.load(&mut memory.mem, memory.space, &loadable, kernel_raw_addr)?;
        let entry = kernel.entry(kernel_raw_addr);
        if images.bios.is_some() {
            next_stage = entry;
        } else {
            start = entry;
        }
        occupied.push(fp);
    }
    let kernel_start = images.kernel.as_ref().map(|k| k.entry(kernel_raw_addr));
    let initrd = load_initrd(config, &mut memory, kernel_start, &mut occupied)?;

    // Device tree.
    let (fdt_name, fdt) = match user_dtb {
        Some((name, blob)) => (name, blob),
        None => {
            let spec = DeviceTreeSpec {
                kind: TreeKind::Virt,
                harts: pins.len() as u32,
                ram: dram,
                isa: config.isa.to_string(),
                bootargs: config.bootargs.clone(),
                plic_size,
                initrd,
                pcie_high: Some(pcie_high),
            };
            let blob = generate(&spec).map_err(|source| MachineError::DeviceTree {
                name: "generated".into(),
                source,
            })?;
            ("generated".to_string(), blob)
        }
    };
    let fdt_addr = fdt_address(dram, fdt.len() as u64).ok_or(MachineError::RamSize {
        size: dram.size(),
        reason: "too small to hold the device tree",
    })?;
    let fdt_range = MemoryRange::new(fdt_addr, fdt.len() as u64);
    if occupied.iter().any(|r| r.overlaps(&fdt_range)) {
        return Err(MachineError::RamSize {
            size: dram.size(),
            reason: "too small: the device tree at the top of RAM would overlap a loaded image",
        });
    }
    memory
        .mem
        .write(
            memory.space,
            GuestAddress(fdt_addr),
            &fdt,
            MemTxAttrs::default(),
        )
        .map_err(|_| MachineError::RamSize {
            size: dram.size(),
            reason: "too small to hold the device tree",
        })?;
    tracing::debug!(
        "virt: fdt {fdt_name} at {fdt_addr:#x}, start {start:#x}, next {next_stage:#x}"
    );

    // QEMU: with flash bank 0 given, the reset vector jumps to it.
    if config.pflash[0].is_some() {
        start = virt::FLASH.start();
    }

    // Boot ROM.
    memory.fill_rom(
        "riscv_virt_board.mrom",
        virt::MROM.start(),
        &virt_rom(start, fdt_addr, next_stage),
    )?;

    // A bare-metal program built for the HTIF mailbox (riscv-tests style:
    // it has `tohost`) would spin for ever on a board without one; its
    // mailbox is served here too, exactly as on spike. Programs that use the
    // UART and the test finisher never write it, so nothing changes for them.
    let htif = match (&images.bios, &images.kernel) {
        (None, Some(kernel)) => kernel.elf().and_then(|elf| {
            elf.symbol("tohost")
                .map(|tohost| HtifFrontEnd::new(tohost, elf.symbol("fromhost"), console.writer()))
        }),
        _ => None,
    };

    Ok(Board {
        mem: memory.mem,
        space: memory.space,
        clint,
        uart: Some(uart),
        finisher: Some(finisher),
        rtc: Some(rtc),
        virtio,
        virtio_mem,
        htif,
        console,
        fdt,
        reset_pc: virt::MROM.start(),
        pci: Some(pci),
        flash,
        display: match display_device {
            Some(device) => Some(DisplayUnit::new(
                device,
                &config.displays,
                config.display_refresh_ms,
            )?),
            None => None,
        },
    })
}

/// The two CFI flash banks as QEMU's virt has them (`virt.flash0` at
/// 0x20000000, `virt.flash1` 32 MiB above), ROM devices reading as zero
/// unless `--pflash` gives their contents. Returns the banks with a file.
fn map_flash(config: &MachineConfig, memory: &mut BoardMemory) -> Result<Vec<FlashBacking>> {
    let geometry = FlashGeometry::VIRT;
    let mut backed = Vec::new();
    for unit in 0..2u64 {
        let name = format!("virt.flash{unit}");
        let bank = CfiFlash::new(&mut memory.mem, &name, geometry)?;
        let base = virt::FLASH.start() + unit * geometry.size;
        memory.mem.add_subregion(memory.root, base, bank.region())?;
        if let Some(path) = &config.pflash[unit as usize] {
            let bad = |reason: String| MachineError::Pflash {
                path: path.clone(),
                reason,
            };
            let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            if bytes.len() as u64 != geometry.size {
                return Err(bad(format!(
                    "the bank holds {} bytes, the file has {} (QEMU requires the same; `truncate -s 32M FILE`)",
                    geometry.size,
                    bytes.len()
                )));
            }
            memory
                .mem
                .write_ram_region(bank.region(), 0, &bytes)
                .map_err(|e| bad(e.to_string()))?;
            backed.push(FlashBacking {
                bank,
                path: path.clone(),
                written: 0,
            });
        }
    }
    Ok(backed)
}

/// QEMU's fw_cfg device at 0x10100000: data, selector and DMA registers,
/// its DMA into system memory. `nographic` is set unless a display
/// back-end shows pictures, as QEMU sets it for `-nographic`.
fn map_fw_cfg(config: &MachineConfig, memory: &mut BoardMemory, harts: usize) -> Result<()> {
    let nographic = config
        .displays
        .iter()
        .all(|d| *d == ferrite_display::BackendSpec::None);
    let (_, regions) = FwCfg::new(
        &mut memory.mem,
        memory.space,
        FwCfgConfig {
            harts: u16::try_from(harts).unwrap_or(u16::MAX),
            nographic,
        },
    );
    let base = virt::FW_CFG.start();
    for (offset, region) in [(0, regions.data), (8, regions.ctl), (16, regions.dma)] {
        memory
            .mem
            .add_subregion(memory.root, base + offset, region)?;
    }
    Ok(())
}

/// Where QEMU puts the 64-bit PCIe window on rv64: the end of DRAM (or of
/// the device-memory window above it) rounded up to the window's size.
fn pcie_high_window(dram: MemoryRange, device_memory: Option<MemoryRange>) -> MemoryRange {
    let size = virt::PCIE_MMIO_HIGH_SIZE;
    let top = device_memory.map_or(dram.end(), |d| d.end().max(dram.end()));
    let end = u64::try_from(top).unwrap_or(u64::MAX);
    MemoryRange::new(align_up(end, size), size)
}

/// The physical address space of Sv57 and PMP on rv64: 56 bits.
const MAX_PHYS_ADDR: u64 = 1 << 56;

/// The device-memory window of `--maxmem` (QEMU's `-m SIZE,maxmem=MAX`):
/// `maxmem - ram` bytes from the end of DRAM rounded up to 1 GiB, where
/// memory devices (virtio-mem) are plugged. `None` without `--maxmem` or
/// when it equals the RAM size.
fn map_device_memory(
    config: &MachineConfig,
    memory: &mut BoardMemory,
) -> Result<Option<MemoryRange>> {
    let Some(maxmem) = config.maxmem else {
        if config.virtio_mem.is_empty() {
            return Ok(None);
        }
        return Err(MachineError::MaxMem {
            reason: "virtio-mem needs a device-memory window: give --maxmem (QEMU's -m SIZE,maxmem=MAX) larger than the RAM by the devices' sizes".into(),
        });
    };
    let ram = config.ram_size;
    if maxmem < ram {
        return Err(MachineError::MaxMem {
            reason: format!(
                "{} is less than the RAM size ({})",
                crate::error::human_size(maxmem),
                crate::error::human_size(ram)
            ),
        });
    }
    if maxmem % PAGE_SIZE != 0 {
        return Err(MachineError::MaxMem {
            reason: "must be a multiple of 4 KiB".into(),
        });
    }
    let size = maxmem - ram;
    if size == 0 {
        return Ok(None);
    }
    let end = u64::try_from(memory.ram.end()).unwrap_or(u64::MAX);
    let base = align_up(end, virt::DEVICE_MEMORY_ALIGN);
    if base.checked_add(size).is_none_or(|e| e > MAX_PHYS_ADDR) {
        return Err(MachineError::MaxMem {
            reason: format!(
                "a {} window at {base:#x} passes the end of the physical address space",
                crate::error::human_size(size)
            ),
        });
    }
    memory
        .mem
        .init_device_memory(memory.root, base, size, virt::MEMSLOT_LIMIT)?;
    Ok(Some(MemoryRange::new(base, size)))
}

/// The PCIe host as QEMU's virt builds its `gpex`: the host's own regions
/// reached through aliases placed in system memory (`pcie-ecam`,
/// `pcie-mmio`, `pcie-mmio-high`) and its I/O window; the host bridge at
/// 00.0 and the `--device`s from slot 1 on. Returns the host, the display
/// device if one was plugged, and the 64-bit window.
fn map_pcie(
    config: &MachineConfig,
    memory: &mut BoardMemory,
    plic: &Rc<Plic>,
    device_memory: Option<MemoryRange>,
) -> Result<(Rc<PciHost>, Option<Rc<BochsDisplay>>, MemoryRange)> {
    let lines = (0..4)
        .map(|i| IrqLine::new(plic.clone(), virt::PCIE_IRQ + i))
        .collect();
    let mem = &mut memory.mem;
    let (host, regions) = PciHost::new(mem, lines)?;
    let high = pcie_high_window(memory.ram, device_memory);
    mem.add_subregion(memory.root, virt::PCIE_PIO.start(), regions.io_window)?;
    let ecam = mem.new_alias("pcie-ecam", regions.ecam, 0, virt::PCIE_ECAM.size())?;
    mem.add_subregion(memory.root, virt::PCIE_ECAM.start(), ecam)?;
    for (name, range) in [("pcie-mmio", virt::PCIE_MMIO), ("pcie-mmio-high", high)] {
        let alias = mem.new_alias(name, regions.mmio_window, range.start(), range.size())?;
        mem.add_subregion(memory.root, range.start(), alias)?;
    }
    host.plug(0, "gpex-root", &HostBridge)?;
    host.add_bus_master(mem, 0, memory.root)?;
    let mut display = None;
    for (i, device) in config.pci_devices.iter().enumerate() {
        let slot = i + 1;
        if slot > 31 {
            return Err(MachineError::TooManyPciDevices {
                count: config.pci_devices.len(),
            });
        }
        let devfn = (slot << 3) as u8;
        match device {
            PciDeviceConfig::BochsDisplay { vram_size, edid } => {
                if display.is_some() {
                    return Err(MachineError::TooManyDisplays);
                }
                let monitor = edid.then(ferrite_devices::edid::MonitorInfo::default);
                let d = BochsDisplay::new(mem, *vram_size, monitor)?;
                host.plug(devfn, "bochs-display", &*d)?;
                host.add_bus_master(mem, devfn, memory.root)?;
                display = Some(d);
            }
        }
    }
    if display.is_none() {
        if let Some(spec) = config
            .displays
            .iter()
            .find(|s| **s != ferrite_display::BackendSpec::None)
        {
            return Err(MachineError::NoDisplayDevice {
                what: format!("{spec:?}"),
            });
        }
    }
    Ok((host, display, high))
}

/// What the RTC reads at tick 0: the Unix epoch. A fixed start keeps runs
/// deterministic (QEMU starts from the host clock).
const RTC_START_NS: u64 = 0;

type VirtioDeviceBox = Box<dyn ferrite_devices::virtio::VirtioDevice>;

/// Maps the eight virtio-mmio slots. A drive with `bus=N` goes in slot N
/// (QEMU's `bus=virtio-mmio-bus.N`); the other devices fill the free slots
/// from the last one down, as QEMU plugs `-device virtio-*-device`: the
/// first such `--drive` sits at 0x10008000 (PLIC source 8). The rest are
/// empty legacy slots.
fn map_virtio(
    config: &MachineConfig,
    memory: &mut BoardMemory,
    plic: &Rc<Plic>,
) -> Result<(Vec<Rc<VirtioMmio>>, Vec<VirtioMemDevice>)> {
    let count =
        config.drives.len() + usize::from(config.virtio_rng.is_some()) + config.virtio_mem.len();
    if count > virt::VIRTIO_COUNT as usize {
        return Err(MachineError::TooManyVirtioDevices { count });
    }
    let mut slots: Vec<Option<VirtioDeviceBox>> = (0..virt::VIRTIO_COUNT).map(|_| None).collect();
    let mut unplaced: Vec<VirtioDeviceBox> = Vec::new();
    for (i, drive) in config.drives.iter().enumerate() {
        let disk = FileDisk::open(&drive.path, drive.read_only)?;
        let device: VirtioDeviceBox =
            Box::new(VirtioBlock::new(Box::new(disk), &format!("drive{i}")));
        match drive.slot {
            None => unplaced.push(device),
            Some(n) => {
                let slot = slots.get_mut(n as usize).ok_or(MachineError::VirtioSlot {
                    slot: n,
                    reason: "the virt board has slots 0 to 7",
                })?;
                if slot.is_some() {
                    return Err(MachineError::VirtioSlot {
                        slot: n,
                        reason: "two drives ask for it",
                    });
                }
                *slot = Some(device);
            }
        }
    }
    if let Some(seed) = config.virtio_rng {
        unplaced.push(Box::new(VirtioRng::new(seed)));
    }
    // virtio-mem: the device's regions, plugged into the device-memory
    // window through the memory-device interface (which accounts for the
    // memslots it may map), then a slot like any virtio device.
    let mut controls = Vec::new();
    for spec in &config.virtio_mem {
        let free = memory.mem.memslot_stats().map_or(0, |s| s.free());
        let (device, control) = VirtioMem::new(&mut memory.mem, spec, free)?;
        let addr = memory.mem.memory_device_plug(
            control.device_region(),
            spec.addr,
            spec.block_size,
            control.memslots(),
        )?;
        control.set_address(addr);
        tracing::debug!(
            "virt: virtio-mem {} at {addr:#x}, {} memslots",
            spec.id,
            control.memslots()
        );
        let device: VirtioDeviceBox = Box::new(device);
        controls.push(control);
        unplaced.push(device);
    }
    let first_mem = unplaced.len() - controls.len();
    // Which slot each unplaced device lands in, so the virtio-mem
    // transports can be found again.
    let mut mem_slots = Vec::new();
    let mut unplaced = unplaced.into_iter().enumerate();
    for (n, slot) in slots.iter_mut().enumerate().rev() {
        if slot.is_none()
            && let Some((i, device)) = unplaced.next()
        {
            if i >= first_mem {
                mem_slots.push(n);
            }
            *slot = Some(device);
        }
    }
    let mut plugged = Vec::new();
    let mut by_slot = Vec::new();
    for (slot, device) in slots.into_iter().enumerate().rev() {
        let slot = slot as u32;
        let base = virt::VIRTIO_BASE + u64::from(slot) * virt::VIRTIO_STRIDE;
        let irq = IrqLine::new(plic.clone(), virt::VIRTIO_IRQ + slot);
        let name = "virtio-mmio";
        match device {
            Some(device) => {
                let transport = Rc::new(VirtioMmio::new(device, irq));
                memory.map_io(name, base, VirtioMmio::REGION_SIZE, transport.clone())?;
                by_slot.push((slot as usize, transport.clone()));
                plugged.push(transport);
            }
            None => memory.map_io(
                name,
                base,
                VirtioMmioEmpty::REGION_SIZE,
                Rc::new(VirtioMmioEmpty::legacy()),
            )?,
        }
    }
    let virtio_mem = controls
        .into_iter()
        .zip(mem_slots)
        .filter_map(|(control, slot)| {
            by_slot
                .iter()
                .find(|(n, _)| *n == slot)
                .map(|(_, t)| (control, t.clone()))
        })
        .collect();
    Ok((plugged, virtio_mem))
}

/// Loads `--initrd` where QEMU's `riscv_load_initrd` puts it: far enough
/// above the kernel's start that the kernel will not run over it, yet low
/// enough for small boards (half of RAM above the kernel for boards under
/// 256 MiB, 128 MiB above it otherwise). It must fit in RAM and miss every
/// `occupied` range; its range joins them and is returned for `/chosen`.
fn load_initrd(
    config: &MachineConfig,
    memory: &mut BoardMemory,
    kernel_start: Option<u64>,
    occupied: &mut Vec<MemoryRange>,
) -> Result<Option<MemoryRange>> {
    let Some(src) = &config.initrd else {
        return Ok(None);
    };
    let Some(kernel_start) = kernel_start else {
        return Err(MachineError::Initrd {
            name: src.name(),
            reason: "needs a kernel (--kernel) to hand it to".into(),
        });
    };
    let dram = memory.ram;
    let at = kernel_start.saturating_add((dram.size() / 2).min(128 * MIB));
    let image = NamedImage {
        what: "initrd",
        name: src.name(),
        image: Image::Raw(read_source(src, "initrd")?),
    };
    let range = image.footprint(at);
    if let Some(r) = occupied.iter().find(|r| r.overlaps(&range)) {
        return Err(MachineError::Initrd {
            name: image.name,
            reason: format!(
                "at {at:#x}..{:#x} it would overlap a loaded image ({:#x}..{:#x})",
                range.end(),
                r.start(),
                r.end()
            ),
        });
    }
    image.load(&mut memory.mem, memory.space, &[dram], at)?;
    occupied.push(range);
    Ok(Some(range))
}

/// QEMU's `riscv_compute_fdt_addr`: the top of DRAM (capped at 3 GiB when
/// DRAM starts below it) minus the tree, aligned down to 2 MiB. `None` if
/// DRAM cannot hold the tree there.
pub(crate) fn fdt_address(dram: MemoryRange, fdt_size: u64) -> Option<u64> {
    let dram_end = u64::try_from(dram.end()).unwrap_or(u64::MAX);
    let top = if dram.start() < FDT_CEILING {
        dram_end.min(FDT_CEILING)
    } else {
        dram_end
    };
    let addr = top.checked_sub(fdt_size)? & !(FDT_ALIGN - 1);
    (addr >= dram.start()).then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdt_goes_where_qemu_puts_it() {
        let dram = MemoryRange::new(0x8000_0000, 128 * MIB);
        assert_eq!(fdt_address(dram, 0x1000), Some(0x87e0_0000));
        let big = MemoryRange::new(0x8000_0000, 4096 * MIB);
        assert_eq!(fdt_address(big, 0x1000), Some(0xbfe0_0000));
        let tiny = MemoryRange::new(0x8000_0000, MIB);
        assert_eq!(fdt_address(tiny, 0x1000), Some(0x8000_0000));
        let too_tiny = MemoryRange::new(0x8000_0000, 0x800);
        assert_eq!(fdt_address(too_tiny, 0x1000), None);
    }
}
