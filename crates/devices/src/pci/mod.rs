//! PCI Express: a generic ECAM host bridge (QEMU's `gpex`) and the
//! configuration space of its functions.
//!
//! The host owns two address spaces of its own, each a container, as QEMU
//! builds them: the PCI memory space (`gpex_mmio`, 2^64 bytes, inside the
//! `gpex_mmio_window` that answers unclaimed addresses with all ones) and
//! the PCI I/O space (`gpex_ioport`, 64 KiB, inside `gpex_ioport_window`).
//! A board makes them visible by placing **aliases** of the windows in its
//! system memory (`pcie-mmio`, `pcie-mmio-high`) and maps the ECAM region
//! (`pcie-mmcfg-mmio`, through the alias `pcie-ecam`) and the I/O window.
//!
//! Configuration accesses go through ECAM: offset bits 27..20 are the bus,
//! 19..12 the device and function, 11..0 the register. Only bus 0 holds
//! functions; an absent function reads as all ones. A write to a BAR or to
//! the command register re-evaluates where each BAR of the function
//! decodes, and a BAR that moved, appeared or went away is mapped,
//! re-mapped or unmapped inside the PCI space by a memory transaction
//! queued through [`DeferredChanges`], so the access after the write
//! already sees the new map.
//!
//! INTx: function `devfn` asserting its pin `p` (1..=4) raises host line
//! `(slot + p - 1) % 4`, slot being `devfn >> 3` (QEMU's swizzle on virt,
//! whose device tree `interrupt-map` says the same).

mod config;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use config::{Bar, ConfigSpace};
pub use config::{
    BarKind, BarSpec, CONFIG_SPACE_SIZE, PciIdentity, SUBSYSTEM_QEMU, SUBSYSTEM_VENDOR_QEMU,
    command, reg, status,
};
use ferrite_memory::{
    AccessConstraints, AddressSpaceId, DeferredChanges, IoDescriptor, MemTxAttrs, MemTxResult,
    MemorySystem, RegionId, RegionOps, RegionSize,
};

use crate::{GUEST_ERRORS, IrqLine};

/// Bytes of ECAM: 256 buses of 32 devices of 8 functions of 4 KiB.
pub const ECAM_SIZE: u64 = 256 << 20;
/// Bytes of the PCI I/O space.
pub const IO_SPACE_SIZE: u64 = 64 << 10;
/// The priority of BARs inside the PCI spaces (QEMU's).
const BAR_PRIORITY: i32 = 1;

/// A function on the bus: what it is and which regions its BARs map.
pub trait PciDevice {
    /// Its identity registers.
    fn identity(&self) -> PciIdentity;
    /// Its BARs.
    fn bars(&self) -> Vec<BarSpec>;
}

/// The regions a board places to make the host visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciHostRegions {
    /// ECAM configuration space (`pcie-mmcfg-mmio`, [`ECAM_SIZE`] bytes).
    pub ecam: RegionId,
    /// The PCI memory window (`gpex_mmio_window`, 2^64 bytes): alias ranges
    /// of it into system memory at the same addresses.
    pub mmio_window: RegionId,
    /// The PCI I/O window (`gpex_ioport_window`, [`IO_SPACE_SIZE`] bytes).
    pub io_window: RegionId,
}

/// A function as the host sees it.
struct Function {
    name: String,
    config: ConfigSpace,
    /// Whether its INTx pin is asserted by the device.
    intx: bool,
    /// Its `bus master` alias and address space, once
    /// [`PciHost::add_bus_master`] made them.
    bus_master: Option<(RegionId, AddressSpaceId)>,
}

/// One row of [`PciHost::functions`]: what `lspci` or U-Boot's `pci` show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciFunctionInfo {
    /// Device and function (`slot << 3 | function`) on bus 0.
    pub devfn: u8,
    /// The name it was plugged with.
    pub name: String,
    /// Vendor id.
    pub vendor: u16,
    /// Device id.
    pub device: u16,
    /// Class code (24 bits).
    pub class: u32,
    /// Subsystem vendor id.
    pub subsystem_vendor: u16,
    /// Subsystem id.
    pub subsystem: u16,
    /// Each BAR: its spec and where it decodes now.
    pub bars: Vec<(BarSpec, Option<u64>)>,
}

/// The host bridge and bus 0 (QEMU's `gpex` with its root bus).
pub struct PciHost {
    functions: RefCell<BTreeMap<u8, Function>>,
    mem_space: RegionId,
    io_space: RegionId,
    changes: DeferredChanges,
    lines: Vec<IrqLine>,
}

impl std::fmt::Debug for PciHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PciHost")
            .field("functions", &self.functions.borrow().len())
            .finish()
    }
}

/// Errors from plugging a function.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PciError {
    /// The slot and function are taken.
    #[error("PCI {devfn:02x}.{fun}: already taken by {by}", devfn = .devfn >> 3, fun = .devfn & 7)]
    Occupied {
        /// Device and function.
        devfn: u8,
        /// The function there.
        by: String,
    },
    /// A BAR that cannot exist.
    #[error("PCI {name}: BAR {index}: {reason}")]
    BadBar {
        /// The function.
        name: String,
        /// BAR number.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The host needs four INTx lines.
    #[error("PCI host: expected 4 INTx lines, got {0}")]
    IntxLines(usize),
}

impl PciHost {
    /// A host with an empty bus 0, its regions created in `mem` (not yet
    /// placed anywhere), raising `lines` (INTA..INTD of the host, in order)
    /// for INTx. Plug the host bridge function and devices with
    /// [`PciHost::plug`].
    pub fn new(
        mem: &mut MemorySystem,
        lines: Vec<IrqLine>,
    ) -> Result<(Rc<Self>, PciHostRegions), PciError> {
        if lines.len() != 4 {
            return Err(PciError::IntxLines(lines.len()));
        }
        let mem_space = mem.new_container("gpex_mmio", RegionSize::Max);
        let mmio_window = mem.new_io_sized("gpex_mmio_window", RegionSize::Max, Rc::new(Unclaimed));
        let io_space = mem.new_container("gpex_ioport", RegionSize::Bytes(IO_SPACE_SIZE));
        let io_window = mem.new_io("gpex_ioport_window", IO_SPACE_SIZE, Rc::new(Unclaimed));
        // The containers cover their windows wholly, at offset 0.
        mem.add_subregion(mmio_window, 0, mem_space)
            .and_then(|()| mem.add_subregion(io_window, 0, io_space))
            .expect("fresh regions nest");
        let host = Rc::new(PciHost {
            functions: RefCell::new(BTreeMap::new()),
            mem_space,
            io_space,
            changes: mem.deferred_changes(),
            lines,
        });
        let ecam = mem.new_io("pcie-mmcfg-mmio", ECAM_SIZE, Rc::new(Ecam(host.clone())));
        Ok((
            host,
            PciHostRegions {
                ecam,
                mmio_window,
                io_window,
            },
        ))
    }

    /// Plug `device` as function `devfn` of bus 0, named `name`.
    pub fn plug(&self, devfn: u8, name: &str, device: &dyn PciDevice) -> Result<(), PciError> {
        let mut functions = self.functions.borrow_mut();
        if let Some(f) = functions.get(&devfn) {
            return Err(PciError::Occupied {
                devfn,
                by: f.name.clone(),
            });
        }
        let bars = device.bars();
        for b in &bars {
            let reason = if (b.kind == BarKind::Rom) != (b.index == 6)
                || b.index > 6
                || (b.kind.is_64bit() && b.index > 4)
            {
                Some("no such BAR register")
            } else if !b.size.is_power_of_two() {
                Some("size is not a power of two")
            } else if b.size
                < match b.kind {
                    BarKind::Io => 4,
                    BarKind::Rom => 2048,
                    _ => 16,
                }
            {
                Some("smaller than the smallest BAR")
            } else if !b.kind.is_64bit() && b.size > 1 << 31 {
                Some("too large for a 32-bit BAR")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(PciError::BadBar {
                    name: name.into(),
                    index: b.index,
                    reason,
                });
            }
        }
        functions.insert(
            devfn,
            Function {
                name: name.into(),
                config: ConfigSpace::new(&device.identity(), &bars),
                intx: false,
                bus_master: None,
            },
        );
        Ok(())
    }

    /// Give function `devfn` its DMA address space, as QEMU gives every
    /// PCI device one: a space named after the function whose root, the
    /// `bus master container`, holds a `bus master` alias of `dma_root`
    /// (the system memory) that is enabled only while the function's
    /// Command register has Bus Master Enable set. A device's DMA goes
    /// through [`PciHost::dma_space`], so with bus mastering off it reaches
    /// nothing.
    pub fn add_bus_master(
        &self,
        mem: &mut MemorySystem,
        devfn: u8,
        dma_root: RegionId,
    ) -> Result<AddressSpaceId, ferrite_memory::MemoryError> {
        let name = match self.functions.borrow().get(&devfn) {
            Some(f) => f.name.clone(),
            None => {
                return Err(ferrite_memory::MemoryError::InUse(format!(
                    "PCI {devfn:02x}: no function"
                )));
            }
        };
        let container = mem.new_container("bus master container", RegionSize::Max);
        let alias = mem.new_alias_sized("bus master", dma_root, 0, RegionSize::Max)?;
        mem.set_enabled(alias, false);
        mem.add_subregion(container, 0, alias)?;
        let space = mem.new_address_space(&name, container);
        if let Some(f) = self.functions.borrow_mut().get_mut(&devfn) {
            f.bus_master = Some((alias, space));
        }
        Ok(space)
    }

    /// The address space function `devfn`'s DMA goes through, if it has
    /// one ([`PciHost::add_bus_master`]).
    pub fn dma_space(&self, devfn: u8) -> Option<AddressSpaceId> {
        self.functions
            .borrow()
            .get(&devfn)
            .and_then(|f| f.bus_master.map(|(_, s)| s))
    }

    /// The functions on bus 0, in devfn order.
    pub fn functions(&self) -> Vec<PciFunctionInfo> {
        self.functions
            .borrow()
            .iter()
            .map(|(&devfn, f)| PciFunctionInfo {
                devfn,
                name: f.name.clone(),
                vendor: f.config.read16(reg::VENDOR_ID),
                device: f.config.read16(reg::DEVICE_ID),
                class: f.config.read32(reg::REVISION_ID) >> 8,
                subsystem_vendor: f.config.read16(reg::SUBSYSTEM_VENDOR_ID),
                subsystem: f.config.read16(reg::SUBSYSTEM_ID),
                bars: f.config.bars.iter().map(|b| (b.spec, b.mapped)).collect(),
            })
            .collect()
    }

    /// Where BAR `index` of function `devfn` decodes now.
    pub fn bar_address(&self, devfn: u8, index: usize) -> Option<u64> {
        let functions = self.functions.borrow();
        let f = functions.get(&devfn)?;
        f.config
            .bars
            .iter()
            .find(|b| b.spec.index == index)
            .and_then(|b| b.mapped)
    }

    /// Function `devfn` sets its INTx pin to `level`. The host line follows
    /// the OR of every function routed to it whose INTx is not disabled in
    /// its command register; the function's status shows the pin either way.
    pub fn set_intx(&self, devfn: u8, level: bool) {
        let line = {
            let mut functions = self.functions.borrow_mut();
            let Some(f) = functions.get_mut(&devfn) else {
                return;
            };
            let pin = f.config.read(reg::INTERRUPT_PIN, 1) as u8;
            if pin == 0 {
                tracing::warn!(target: GUEST_ERRORS, "PCI {}: INTx without an interrupt pin", f.name);
                return;
            }
            f.intx = level;
            f.config.set_status_bits(status::INTERRUPT, level);
            intx_line(devfn, pin)
        };
        self.update_line(line);
    }

    /// Re-evaluate host line `line` from every function routed to it.
    fn update_line(&self, line: usize) {
        let level = self.functions.borrow().iter().any(|(&devfn, f)| {
            let pin = f.config.read(reg::INTERRUPT_PIN, 1) as u8;
            pin != 0
                && intx_line(devfn, pin) == line
                && f.intx
                && f.config.read16(reg::COMMAND) & command::INTX_DISABLE == 0
        });
        self.lines[line].set(level);
    }

    fn config_read(&self, offset: u64, size: u32) -> u64 {
        let (bus, devfn, at) = ecam_decode(offset);
        let functions = self.functions.borrow();
        match functions.get(&devfn) {
            Some(f) if bus == 0 => f.config.read(at, size as usize),
            _ => all_ones(size),
        }
    }

    fn config_write(&self, offset: u64, size: u32, value: u64) {
        let (bus, devfn, at) = ecam_decode(offset);
        let line = {
            let mut functions = self.functions.borrow_mut();
            let Some(f) = functions.get_mut(&devfn).filter(|_| bus == 0) else {
                tracing::debug!(target: GUEST_ERRORS, "PCI: config write to absent {bus:02x}:{devfn:02x} +{at:#x}");
                return;
            };
            f.config.write(at, size as usize, value);
            let end = at + size as usize;
            let touches = |lo: usize, hi: usize| at < hi && lo < end;
            if touches(reg::COMMAND, reg::COMMAND + 2)
                && let Some((alias, _)) = f.bus_master
            {
                let on = f.config.read16(reg::COMMAND) & command::BUS_MASTER != 0;
                self.changes.push(move |mem| mem.set_enabled(alias, on));
            }
            if touches(reg::COMMAND, reg::COMMAND + 2)
                || touches(reg::BAR0, reg::BAR0 + 24)
                || touches(reg::ROM_ADDRESS, reg::ROM_ADDRESS + 4)
            {
                self.remap(f);
            }
            let pin = f.config.read(reg::INTERRUPT_PIN, 1) as u8;
            (touches(reg::COMMAND, reg::COMMAND + 2) && pin != 0).then(|| intx_line(devfn, pin))
        };
        if let Some(line) = line {
            self.update_line(line);
        }
    }

    /// Queue a map change for every BAR of `f` whose decoding moved.
    fn remap(&self, f: &mut Function) {
        for i in 0..f.config.bars.len() {
            let bar: Bar = f.config.bars[i];
            let now = f.config.bar_address(&bar.spec);
            if now == bar.mapped {
                continue;
            }
            f.config.bars[i].mapped = now;
            let space = if bar.spec.kind.is_io() {
                self.io_space
            } else {
                self.mem_space
            };
            tracing::debug!(target: "pci", "{} BAR {}: {:x?} -> {:x?}", f.name, bar.spec.index, bar.mapped, now);
            let (region, name) = (bar.spec.region, f.name.clone());
            let was_mapped = bar.mapped.is_some();
            self.changes.push(move |mem| {
                let r = (if was_mapped {
                    mem.del_subregion(space, region)
                } else {
                    Ok(())
                })
                .and_then(|()| match now {
                    Some(addr) => mem.add_subregion_overlap(space, addr, region, BAR_PRIORITY),
                    None => Ok(()),
                });
                if let Err(e) = r {
                    tracing::error!("PCI {name}: BAR mapping failed: {e}");
                }
            });
        }
    }
}

/// The host line function `devfn`'s pin `pin` (1..=4) raises.
fn intx_line(devfn: u8, pin: u8) -> usize {
    (usize::from(devfn >> 3) + usize::from(pin) - 1) % 4
}

/// (bus, devfn, register) of an ECAM offset.
fn ecam_decode(offset: u64) -> (u8, u8, usize) {
    (
        (offset >> 20) as u8,
        (offset >> 12) as u8,
        (offset & 0xfff) as usize,
    )
}

fn all_ones(size: u32) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

/// The ECAM window's callbacks.
struct Ecam(Rc<PciHost>);

impl RegionOps for Ecam {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(self.0.config_read(offset, size))
    }
    fn write(&self, offset: u64, value: u64, size: u32, _: MemTxAttrs) -> MemTxResult<()> {
        self.0.config_write(offset, size, value);
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 4),
            implementation: AccessConstraints::sizes(1, 4),
            ..IoDescriptor::default()
        }
    }
}

/// What a window answers where no BAR decodes (QEMU's `unassigned_io_ops`):
/// reads all ones, ignores writes.
struct Unclaimed;

impl RegionOps for Unclaimed {
    fn read(&self, _: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(all_ones(size))
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 8),
            implementation: AccessConstraints::sizes(1, 8),
            ..IoDescriptor::default()
        }
    }
}

/// The host bridge's own function (QEMU's `gpex-root`, 1b36:0008), which
/// sits at 00.0 on virt.
#[derive(Debug, Default)]
pub struct HostBridge;

impl PciDevice for HostBridge {
    fn identity(&self) -> PciIdentity {
        PciIdentity {
            vendor: 0x1b36,
            device: 0x0008,
            class: 0x06_00_00,
            revision: 0,
            subsystem_vendor: SUBSYSTEM_VENDOR_QEMU,
            subsystem: SUBSYSTEM_QEMU,
            interrupt_pin: 0,
            express_endpoint: false,
        }
    }
    fn bars(&self) -> Vec<BarSpec> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
