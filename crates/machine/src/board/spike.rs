//! The `spike` board: DRAM, a CLINT and HTIF, as Spike provides them.
//!
//! | range                     | device                                  |
//! |---------------------------|-----------------------------------------|
//! | `0x0000_1000 + ...`       | boot ROM (reset vector, device tree)    |
//! | `0x0200_0000 + 0xc0000`   | CLINT                                   |
//! | `0x8000_0000 + ram_size`  | DRAM                                    |
//!
//! The program is one ELF (`--kernel` or the positional argument) loaded at
//! its own addresses; the ROM passes `a0 = hartid`, `a1 = device tree` and
//! jumps to its entry. HTIF goes through the ELF's `tohost` and `fromhost`
//! symbols (see [`crate::htif`] for the protocol and the polling rule).

use std::rc::Rc;

use ferrite_devices::TimeSource;
use ferrite_riscv::HartIrqPins;

use super::{Board, BoardMemory, Images, align_up};
use crate::boot_rom::{SPIKE_FDT_OFFSET, spike_rom};
use crate::config::MachineConfig;
use crate::console::Console;
use crate::error::{MachineError, Result};
use crate::fdt::{DeviceTreeSpec, TreeKind, generate};
use crate::htif::HtifFrontEnd;
use crate::layout::{PAGE_SIZE, spike};

/// Where Spike's boot ROM lives.
const ROM_BASE: u64 = 0x1000;

/// Builds the `spike` board on `memory`, for harts with `pins`.
pub(crate) fn build(
    config: &MachineConfig,
    mut memory: BoardMemory,
    pins: &[HartIrqPins],
    time: Rc<dyn TimeSource>,
    images: Images,
    console: Console,
    user_dtb: Option<(String, Vec<u8>)>,
) -> Result<Board> {
    if let Some(bios) = &images.bios {
        return Err(MachineError::UnsupportedImage {
            what: "bios",
            name: bios.name.clone(),
            reason: "the spike board takes one program ELF (use --kernel or the ELF argument)",
        });
    }
    if !config.drives.is_empty() {
        return Err(MachineError::VirtOnly { what: "--drive" });
    }
    if config.initrd.is_some() {
        return Err(MachineError::VirtOnly { what: "--initrd" });
    }
    if config.virtio_rng.is_some() {
        return Err(MachineError::VirtOnly {
            what: "--virtio-rng",
        });
    }
    if config.pflash.iter().any(Option::is_some) {
        return Err(MachineError::VirtOnly { what: "--pflash" });
    }
    if !config.pci_devices.is_empty() {
        return Err(MachineError::VirtOnly { what: "--device" });
    }
    if config.maxmem.is_some() {
        return Err(MachineError::VirtOnly { what: "--maxmem" });
    }
    if !config.virtio_mem.is_empty() {
        return Err(MachineError::VirtOnly {
            what: "--virtio-mem",
        });
    }
    if config
        .displays
        .iter()
        .any(|d| *d != ferrite_display::BackendSpec::None)
    {
        return Err(MachineError::VirtOnly { what: "--display" });
    }
    let fdt = match user_dtb {
        Some((_, blob)) => blob,
        None => generate(&DeviceTreeSpec {
            kind: TreeKind::Spike,
            harts: pins.len() as u32,
            ram: memory.ram,
            isa: config.isa.to_string(),
            bootargs: config.bootargs.clone(),
            plic_size: 0,
            initrd: None,
            pcie_high: None,
        })
        .map_err(|source| MachineError::DeviceTree {
            name: "generated".into(),
            source,
        })?,
    };
    let rom_size = align_up(SPIKE_FDT_OFFSET + fdt.len() as u64, PAGE_SIZE);
    memory.mem.begin();
    memory.map_rom("riscv.spike.mrom", ROM_BASE, rom_size)?;
    let clint = memory.map_clint(spike::CLINT.start(), pins, time)?;
    // Spike's timers compare from reset (MTIP is high until software moves
    // mtimecmp).
    clint.arm_from_reset();
    memory.mem.commit();

    let dram = memory.ram;
    let mut start = dram.start();
    let mut htif = None;
    if let Some(kernel) = &images.kernel {
        let Some(elf) = kernel.elf() else {
            return Err(MachineError::UnsupportedImage {
                what: "kernel",
                name: kernel.name.clone(),
                reason: "the spike board needs an ELF (HTIF is found through its symbols)",
            });
        };
        kernel.load(&mut memory.mem, memory.space, &[dram], dram.start())?;
        start = elf.entry();
        let tohost = elf.symbol("tohost").ok_or_else(|| MachineError::NoTohost {
            name: kernel.name.clone(),
        })?;
        htif = Some(
            HtifFrontEnd::new(tohost, elf.symbol("fromhost"), console.writer())
                .with_console_input(console.reader()),
        );
    }

    memory.fill_rom("riscv.spike.mrom", ROM_BASE, &spike_rom(start, &fdt))?;

    Ok(Board {
        mem: memory.mem,
        space: memory.space,
        clint,
        uart: None,
        finisher: None,
        rtc: None,
        virtio: Vec::new(),
        virtio_mem: Vec::new(),
        htif,
        console,
        fdt,
        reset_pc: ROM_BASE,
        pci: None,
        display: None,
        flash: Vec::new(),
    })
}
