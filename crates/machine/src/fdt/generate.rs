//! Device tree generation for the `virt` and `spike` boards.
//!
//! The `virt` tree follows what QEMU's `hw/riscv/virt.c` emits for the
//! devices Ferrite implements (cpus with their interrupt controllers,
//! memory, CLINT, PLIC, UART0, the test finisher with its poweroff and reboot
//! nodes, `/chosen`), so firmware that parses QEMU's tree (OpenSBI, U-Boot,
//! Linux) finds the same nodes with the same compatible strings. The `spike`
//! tree follows Spike's (cpus, memory, CLINT, an `ucb,htif0` node).

use vm_fdt::FdtWriter;

use super::Result;
use crate::layout::{MemoryRange, TIMEBASE_HZ, spike, virt};

/// Which board's tree to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    /// QEMU `virt`.
    Virt,
    /// Spike.
    Spike,
}

/// Everything the tree describes that varies between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTreeSpec {
    /// Which board.
    pub kind: TreeKind,
    /// Number of harts (ids 0..harts).
    pub harts: u32,
    /// Guest DRAM.
    pub ram: MemoryRange,
    /// The `riscv,isa` string, e.g. `rv64imac_zicsr_zifencei_zicntr_sstc`.
    pub isa: String,
    /// `/chosen/bootargs`, if any.
    pub bootargs: Option<String>,
    /// Size of the PLIC's register window (`virt`; depends on the hart count).
    pub plic_size: u64,
    /// The initial RAM disk's guest-physical range, if one is loaded.
    pub initrd: Option<MemoryRange>,
    /// The PCIe host's 64-bit memory window (`virt`; its place depends on
    /// the RAM size). `None`: no PCIe host node.
    pub pcie_high: Option<MemoryRange>,
}

/// The CPU interrupt numbers used in `interrupts-extended` (mip bits).
const IRQ_M_SOFT: u32 = 3;
const IRQ_M_TIMER: u32 = 7;
const IRQ_S_EXT: u32 = 9;
const IRQ_M_EXT: u32 = 11;

/// Phandle numbering: fixed small numbers for the board devices, then two per
/// hart (cpu node, its interrupt controller). Deterministic, so dumped trees
/// compare byte for byte between runs.
const PHANDLE_PLIC: u32 = 1;
const PHANDLE_TEST: u32 = 2;
const PHANDLE_FIRST_CPU: u32 = 16;

fn cpu_phandle(hart: u32) -> u32 {
    PHANDLE_FIRST_CPU + 2 * hart
}

fn intc_phandle(hart: u32) -> u32 {
    PHANDLE_FIRST_CPU + 2 * hart + 1
}

/// Splits a 64-bit value into the two cells of a `#address-cells = 2` pair.
fn cells64(v: u64) -> [u32; 2] {
    [(v >> 32) as u32, v as u32]
}

fn reg(range: &MemoryRange) -> Vec<u32> {
    let mut r = Vec::with_capacity(4);
    r.extend_from_slice(&cells64(range.start()));
    r.extend_from_slice(&cells64(range.size()));
    r
}

/// Splits `rv64imac_zicsr_zifencei` into `riscv,isa-base` (`rv64i`) and the
/// `riscv,isa-extensions` list (`i`, `m`, `a`, `c`, `zicsr`, `zifencei`), as
/// QEMU 8+ emits them next to the legacy `riscv,isa` string.
fn split_isa(isa: &str) -> (String, Vec<String>) {
    let mut parts = isa.split('_');
    let head = parts.next().unwrap_or("rv64i");
    let (base, letters) = if let Some(rest) = head.strip_prefix("rv64") {
        ("rv64i", rest)
    } else if let Some(rest) = head.strip_prefix("rv32") {
        ("rv32i", rest)
    } else {
        ("rv64i", head)
    };
    let mut exts: Vec<String> = letters.chars().map(|c| c.to_string()).collect();
    exts.extend(parts.filter(|p| !p.is_empty()).map(str::to_string));
    (base.to_string(), exts)
}

/// The cache-block size of `cbo.*` (`ferrite_riscv`'s block size).
const CACHE_BLOCK_SIZE: u32 = ferrite_riscv::exec::CACHE_BLOCK_SIZE as u32;

/// Builds the flattened device tree blob for `spec`.
pub fn generate(spec: &DeviceTreeSpec) -> Result<Vec<u8>> {
    let mut fdt = FdtWriter::new()?;
    let root = fdt.begin_node("")?;
    fdt.property_u32("#address-cells", 2)?;
    fdt.property_u32("#size-cells", 2)?;
    match spec.kind {
        TreeKind::Virt => {
            fdt.property_string("compatible", "riscv-virtio")?;
            fdt.property_string("model", "riscv-virtio,qemu")?;
        }
        TreeKind::Spike => {
            fdt.property_string("compatible", "ucbbar,spike-bare-dev")?;
            fdt.property_string("model", "ucbbar,spike-bare")?;
        }
    }

    if spec.kind == TreeKind::Virt {
        let node = fdt.begin_node(&format!("fw-cfg@{:x}", virt::FW_CFG.start()))?;
        fdt.property_null("dma-coherent")?;
        fdt.property_array_u32("reg", &reg(&virt::FW_CFG))?;
        fdt.property_string("compatible", "qemu,fw-cfg-mmio")?;
        fdt.end_node(node)?;
    }

    if spec.kind == TreeKind::Virt {
        // QEMU's node for the two CFI flash banks, at the root.
        let half = MemoryRange::new(virt::FLASH.start(), virt::FLASH.size() / 2);
        let second = MemoryRange::new(half.start() + half.size(), half.size());
        let flash = fdt.begin_node(&format!("flash@{:x}", virt::FLASH.start()))?;
        fdt.property_u32("bank-width", 4)?;
        let mut cells = reg(&half);
        cells.extend(reg(&second));
        fdt.property_array_u32("reg", &cells)?;
        fdt.property_string("compatible", "cfi-flash")?;
        fdt.end_node(flash)?;
    }

    let chosen = fdt.begin_node("chosen")?;
    if spec.kind == TreeKind::Virt {
        fdt.property_string(
            "stdout-path",
            &format!("/soc/serial@{:x}", virt::UART0.start()),
        )?;
    }
    if let Some(args) = &spec.bootargs {
        fdt.property_string("bootargs", args)?;
    }
    if let Some(initrd) = &spec.initrd {
        // One cell each where the addresses fit, as QEMU 7.2 writes them;
        // two above 4 GiB. Linux reads either.
        let end = u64::try_from(initrd.end()).unwrap_or(u64::MAX);
        match (u32::try_from(initrd.start()), u32::try_from(end)) {
            (Ok(start), Ok(end)) => {
                fdt.property_u32("linux,initrd-start", start)?;
                fdt.property_u32("linux,initrd-end", end)?;
            }
            _ => {
                fdt.property_u64("linux,initrd-start", initrd.start())?;
                fdt.property_u64("linux,initrd-end", end)?;
            }
        }
    }
    fdt.end_node(chosen)?;

    if spec.kind == TreeKind::Virt {
        for (name, value) in [("poweroff", 0x5555u32), ("reboot", 0x7777)] {
            let node = fdt.begin_node(name)?;
            fdt.property_u32("value", value)?;
            fdt.property_u32("offset", 0)?;
            fdt.property_u32("regmap", PHANDLE_TEST)?;
            fdt.property_string("compatible", &format!("syscon-{name}"))?;
            fdt.end_node(node)?;
        }
    }

    if spec.kind == TreeKind::Virt {
        // QEMU's platform bus: a simple bus over its window, empty here.
        let bus = virt::PLATFORM_BUS;
        let node = fdt.begin_node(&format!("platform-bus@{:x}", bus.start()))?;
        fdt.property_u32("interrupt-parent", PHANDLE_PLIC)?;
        fdt.property_array_u32("ranges", &[0, 0, bus.start() as u32, bus.size() as u32])?;
        fdt.property_u32("#address-cells", 1)?;
        fdt.property_u32("#size-cells", 1)?;
        fdt.property_string_list(
            "compatible",
            vec!["qemu,platform".into(), "simple-bus".into()],
        )?;
        fdt.end_node(node)?;
    }

    let memory = fdt.begin_node(&format!("memory@{:x}", spec.ram.start()))?;
    fdt.property_string("device_type", "memory")?;
    fdt.property_array_u32("reg", &reg(&spec.ram))?;
    fdt.end_node(memory)?;

    write_cpus(&mut fdt, spec)?;

    let soc = fdt.begin_node("soc")?;
    fdt.property_u32("#address-cells", 2)?;
    fdt.property_u32("#size-cells", 2)?;
    match spec.kind {
        TreeKind::Virt => fdt.property_string("compatible", "simple-bus")?,
        TreeKind::Spike => fdt.property_string_list(
            "compatible",
            vec!["ucbbar,spike-bare-soc".into(), "simple-bus".into()],
        )?,
    }
    fdt.property_null("ranges")?;
    match spec.kind {
        TreeKind::Virt => write_virt_soc(&mut fdt, spec)?,
        TreeKind::Spike => write_clint(&mut fdt, spec, spike::CLINT)?,
    }
    fdt.end_node(soc)?;

    if spec.kind == TreeKind::Spike {
        let htif = fdt.begin_node("htif")?;
        fdt.property_string("compatible", "ucb,htif0")?;
        fdt.end_node(htif)?;
    }

    fdt.end_node(root)?;
    Ok(fdt.finish()?)
}

fn write_cpus(fdt: &mut FdtWriter, spec: &DeviceTreeSpec) -> Result<()> {
    let (base, exts) = split_isa(&spec.isa);
    let cpus = fdt.begin_node("cpus")?;
    fdt.property_u32("#address-cells", 1)?;
    fdt.property_u32("#size-cells", 0)?;
    fdt.property_u32("timebase-frequency", TIMEBASE_HZ as u32)?;
    for hart in 0..spec.harts {
        let cpu = fdt.begin_node(&format!("cpu@{hart:x}"))?;
        fdt.property_u32("phandle", cpu_phandle(hart))?;
        fdt.property_string("device_type", "cpu")?;
        fdt.property_u32("reg", hart)?;
        fdt.property_string("status", "okay")?;
        fdt.property_string("compatible", "riscv")?;
        fdt.property_string("riscv,isa", &spec.isa)?;
        fdt.property_string("riscv,isa-base", &base)?;
        fdt.property_string_list("riscv,isa-extensions", exts.clone())?;
        if exts.iter().any(|e| e == "zicbom") {
            fdt.property_u32("riscv,cbom-block-size", CACHE_BLOCK_SIZE)?;
        }
        if exts.iter().any(|e| e == "zicboz") {
            fdt.property_u32("riscv,cboz-block-size", CACHE_BLOCK_SIZE)?;
        }
        fdt.property_string("mmu-type", "riscv,sv57")?;
        let intc = fdt.begin_node("interrupt-controller")?;
        fdt.property_u32("#interrupt-cells", 1)?;
        fdt.property_null("interrupt-controller")?;
        fdt.property_string("compatible", "riscv,cpu-intc")?;
        fdt.property_u32("phandle", intc_phandle(hart))?;
        fdt.end_node(intc)?;
        fdt.end_node(cpu)?;
    }
    let map = fdt.begin_node("cpu-map")?;
    let cluster = fdt.begin_node("cluster0")?;
    for hart in 0..spec.harts {
        let core = fdt.begin_node(&format!("core{hart}"))?;
        fdt.property_u32("cpu", cpu_phandle(hart))?;
        fdt.end_node(core)?;
    }
    fdt.end_node(cluster)?;
    fdt.end_node(map)?;
    fdt.end_node(cpus)?;
    Ok(())
}

/// `interrupts-extended` pairs (intc phandle, irq) for each hart.
fn per_hart_irqs(harts: u32, irqs: &[u32]) -> Vec<u32> {
    let mut cells = Vec::new();
    for hart in 0..harts {
        for irq in irqs {
            cells.push(intc_phandle(hart));
            cells.push(*irq);
        }
    }
    cells
}

fn write_clint(fdt: &mut FdtWriter, spec: &DeviceTreeSpec, range: MemoryRange) -> Result<()> {
    let clint = fdt.begin_node(&format!("clint@{:x}", range.start()))?;
    fdt.property_array_u32(
        "interrupts-extended",
        &per_hart_irqs(spec.harts, &[IRQ_M_SOFT, IRQ_M_TIMER]),
    )?;
    fdt.property_array_u32("reg", &reg(&range))?;
    fdt.property_string_list(
        "compatible",
        vec!["sifive,clint0".into(), "riscv,clint0".into()],
    )?;
    fdt.end_node(clint)?;
    Ok(())
}

fn write_virt_soc(fdt: &mut FdtWriter, spec: &DeviceTreeSpec) -> Result<()> {
    let rtc = fdt.begin_node(&format!("rtc@{:x}", virt::RTC.start()))?;
    fdt.property_u32("interrupts", virt::RTC_IRQ)?;
    fdt.property_u32("interrupt-parent", PHANDLE_PLIC)?;
    fdt.property_array_u32("reg", &reg(&virt::RTC))?;
    fdt.property_string("compatible", "google,goldfish-rtc")?;
    fdt.end_node(rtc)?;

    // QEMU lists the slots from the last to the first.
    for slot in (0..virt::VIRTIO_COUNT).rev() {
        let base = virt::VIRTIO_BASE + u64::from(slot) * virt::VIRTIO_STRIDE;
        let node = fdt.begin_node(&format!("virtio_mmio@{base:x}"))?;
        fdt.property_u32("interrupts", virt::VIRTIO_IRQ + slot)?;
        fdt.property_u32("interrupt-parent", PHANDLE_PLIC)?;
        fdt.property_array_u32("reg", &reg(&MemoryRange::new(base, virt::VIRTIO_STRIDE)))?;
        fdt.property_string("compatible", "virtio,mmio")?;
        fdt.end_node(node)?;
    }

    let serial = fdt.begin_node(&format!("serial@{:x}", virt::UART0.start()))?;
    fdt.property_u32("interrupts", virt::UART0_IRQ)?;
    fdt.property_u32("interrupt-parent", PHANDLE_PLIC)?;
    fdt.property_u32("clock-frequency", virt::UART_CLOCK_HZ)?;
    fdt.property_array_u32("reg", &reg(&virt::UART0))?;
    fdt.property_string("compatible", "ns16550a")?;
    fdt.end_node(serial)?;

    let test = fdt.begin_node(&format!("test@{:x}", virt::TEST.start()))?;
    fdt.property_u32("phandle", PHANDLE_TEST)?;
    fdt.property_array_u32("reg", &reg(&virt::TEST))?;
    fdt.property_string_list(
        "compatible",
        vec![
            "sifive,test1".into(),
            "sifive,test0".into(),
            "syscon".into(),
        ],
    )?;
    fdt.end_node(test)?;

    let plic = fdt.begin_node(&format!("plic@{:x}", virt::PLIC.start()))?;
    fdt.property_u32("phandle", PHANDLE_PLIC)?;
    fdt.property_u32("riscv,ndev", virt::PLIC_NDEV)?;
    fdt.property_array_u32(
        "reg",
        &reg(&MemoryRange::new(virt::PLIC.start(), spec.plic_size)),
    )?;
    fdt.property_array_u32(
        "interrupts-extended",
        &per_hart_irqs(spec.harts, &[IRQ_M_EXT, IRQ_S_EXT]),
    )?;
    fdt.property_null("interrupt-controller")?;
    fdt.property_string_list(
        "compatible",
        vec!["sifive,plic-1.0.0".into(), "riscv,plic0".into()],
    )?;
    fdt.property_u32("#address-cells", 0)?;
    fdt.property_u32("#interrupt-cells", 1)?;
    fdt.end_node(plic)?;

    if let Some(high) = spec.pcie_high {
        write_pcie(fdt, high)?;
    }
    write_clint(fdt, spec, virt::CLINT)
}

/// PCI address space codes of the first `ranges` cell.
const PCI_SPACE_IO: u32 = 0x0100_0000;
const PCI_SPACE_MEM32: u32 = 0x0200_0000;
const PCI_SPACE_MEM64: u32 = 0x0300_0000;

/// The generic ECAM host's node, as QEMU's `create_fdt_pcie`: the three
/// windows in `ranges`, and INTx of slots 0 to 3 routed to PLIC sources
/// `PCIE_IRQ + (slot + pin - 1) % 4` (the mask folds the other slots onto
/// them).
fn write_pcie(fdt: &mut FdtWriter, high: MemoryRange) -> Result<()> {
    let node = fdt.begin_node(&format!("pci@{:x}", virt::PCIE_ECAM.start()))?;
    fdt.property_array_u32("interrupt-map-mask", &[0x1800, 0, 0, 7])?;
    let mut map = Vec::with_capacity(4 * 4 * 6);
    for slot in 0..4u32 {
        for pin in 1..=4u32 {
            let irq = virt::PCIE_IRQ + (slot + pin - 1) % 4;
            map.extend_from_slice(&[slot << 11, 0, 0, pin, PHANDLE_PLIC, irq]);
        }
    }
    fdt.property_array_u32("interrupt-map", &map)?;
    let mut ranges = Vec::with_capacity(21);
    let [pio_hi, pio_lo] = cells64(virt::PCIE_PIO.start());
    let [pio_size_hi, pio_size_lo] = cells64(virt::PCIE_PIO.size());
    ranges.extend_from_slice(&[PCI_SPACE_IO, 0, 0, pio_hi, pio_lo, pio_size_hi, pio_size_lo]);
    for (space, range) in [(PCI_SPACE_MEM32, virt::PCIE_MMIO), (PCI_SPACE_MEM64, high)] {
        let [a_hi, a_lo] = cells64(range.start());
        let [s_hi, s_lo] = cells64(range.size());
        ranges.extend_from_slice(&[space, a_hi, a_lo, a_hi, a_lo, s_hi, s_lo]);
    }
    fdt.property_array_u32("ranges", &ranges)?;
    fdt.property_array_u32("reg", &reg(&virt::PCIE_ECAM))?;
    fdt.property_null("dma-coherent")?;
    fdt.property_array_u32("bus-range", &[0, 0xff])?;
    fdt.property_u32("linux,pci-domain", 0)?;
    fdt.property_string("device_type", "pci")?;
    fdt.property_string("compatible", "pci-host-ecam-generic")?;
    fdt.property_u32("#size-cells", 2)?;
    fdt.property_u32("#interrupt-cells", 1)?;
    fdt.property_u32("#address-cells", 3)?;
    fdt.end_node(node)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::validate;

    fn spec(kind: TreeKind, harts: u32) -> DeviceTreeSpec {
        DeviceTreeSpec {
            kind,
            harts,
            ram: MemoryRange::new(0x8000_0000, 0x1000_0000),
            isa: "rv64imac_zicsr_zifencei_zicntr_sstc".into(),
            bootargs: Some("console=ttyS0".into()),
            plic_size: virt::PLIC.size(),
            initrd: None,
            pcie_high: (kind == TreeKind::Virt)
                .then(|| MemoryRange::new(0x4_0000_0000, 0x4_0000_0000)),
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn virt_tree_is_valid_and_names_the_devices() {
        let blob = generate(&spec(TreeKind::Virt, 2)).unwrap();
        validate(&blob).unwrap();
        for s in [
            &b"ns16550a"[..],
            b"sifive,plic-1.0.0",
            b"riscv,clint0",
            b"sifive,test1",
            b"syscon-poweroff",
            b"syscon-reboot",
            b"/soc/serial@10000000",
            b"riscv,sv57",
            b"rv64imac_zicsr_zifencei_zicntr_sstc",
            b"zifencei",
            b"cpu@1",
            b"memory@80000000",
            b"console=ttyS0",
            b"google,goldfish-rtc",
            b"virtio_mmio@10008000",
            b"virtio_mmio@10001000",
            b"pci@30000000",
            b"flash@20000000",
            b"cfi-flash",
            b"platform-bus@4000000",
            b"fw-cfg@10100000",
            b"qemu,fw-cfg-mmio",
            b"qemu,platform",
            b"pci-host-ecam-generic",
            b"interrupt-map-mask",
        ] {
            assert!(contains(&blob, s), "{}", String::from_utf8_lossy(s));
        }
        assert!(!contains(&blob, b"cpu@2"));
    }

    #[test]
    fn initrd_cells_are_one_each_below_4_gib_and_two_above() {
        let mut s = spec(TreeKind::Virt, 1);
        s.initrd = Some(MemoryRange::new(0x8820_0000, 0x1000));
        let blob = generate(&s).unwrap();
        validate(&blob).unwrap();
        assert!(contains(&blob, b"linux,initrd-start"));
        // A property: its length, the name's offset, then the value.
        let prop = |blob: &[u8], value: &[u8]| {
            let len = (value.len() as u32).to_be_bytes();
            blob.windows(8 + value.len())
                .any(|w| w[..4] == len && &w[8..] == value)
        };
        assert!(prop(&blob, &0x8820_0000u32.to_be_bytes()), "one cell");
        assert!(prop(&blob, &0x8820_1000u32.to_be_bytes()));
        s.initrd = Some(MemoryRange::new(0x1_2000_0000, 0x1000));
        let blob = generate(&s).unwrap();
        assert!(prop(&blob, &0x1_2000_0000u64.to_be_bytes()), "two cells");
        assert!(prop(&blob, &0x1_2000_1000u64.to_be_bytes()));
        assert!(!contains(
            &generate(&spec(TreeKind::Virt, 1)).unwrap(),
            b"linux,initrd"
        ));
    }

    #[test]
    fn spike_tree_has_htif_and_no_uart() {
        let blob = generate(&spec(TreeKind::Spike, 1)).unwrap();
        validate(&blob).unwrap();
        assert!(contains(&blob, b"ucb,htif0"));
        assert!(!contains(&blob, b"ns16550a"));
    }

    #[test]
    fn generation_is_deterministic() {
        let a = generate(&spec(TreeKind::Virt, 4)).unwrap();
        let b = generate(&spec(TreeKind::Virt, 4)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn isa_string_splits_like_qemu() {
        let (base, exts) = split_isa("rv64imac_zicsr_zifencei_sstc");
        assert_eq!(base, "rv64i");
        assert_eq!(exts, ["i", "m", "a", "c", "zicsr", "zifencei", "sstc"]);
    }
}
