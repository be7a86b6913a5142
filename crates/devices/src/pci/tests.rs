use std::rc::Rc;

use ferrite_memory::{
    AddressSpaceId, Endianness, GuestAddress, MemTxAttrs, MemorySystem, RegionId, RegionSize,
};

use super::*;
use crate::IrqLevels;

const ECAM: u64 = 0x3000_0000;
const MMIO: u64 = 0x4000_0000;

/// A function with one 4 KiB RAM BAR and INTA.
struct TestDevice {
    ram: RegionId,
    pin: u8,
}

impl PciDevice for TestDevice {
    fn identity(&self) -> PciIdentity {
        PciIdentity {
            vendor: 0x1af4,
            device: 0x10f0,
            class: 0xff_00_00,
            revision: 1,
            subsystem_vendor: SUBSYSTEM_VENDOR_QEMU,
            subsystem: SUBSYSTEM_QEMU,
            interrupt_pin: self.pin,
            express_endpoint: true,
        }
    }
    fn bars(&self) -> Vec<BarSpec> {
        vec![BarSpec {
            index: 0,
            size: 4096,
            kind: BarKind::Memory32,
            region: self.ram,
        }]
    }
}

struct Bus {
    mem: MemorySystem,
    space: AddressSpaceId,
    host: Rc<PciHost>,
    levels: Rc<IrqLevels>,
}

impl Bus {
    fn new() -> Self {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let space = mem.new_address_space("memory", root);
        let levels = IrqLevels::new();
        let (host, regions) = PciHost::new(&mut mem, levels.lines(4)).unwrap();
        let ecam = mem
            .new_alias("pcie-ecam", regions.ecam, 0, ECAM_SIZE)
            .unwrap();
        let mmio = mem
            .new_alias("pcie-mmio", regions.mmio_window, MMIO, 0x4000_0000)
            .unwrap();
        mem.add_subregion(root, ECAM, ecam).unwrap();
        mem.add_subregion(root, MMIO, mmio).unwrap();
        host.plug(0, "gpex-root", &HostBridge).unwrap();
        Bus {
            mem,
            space,
            host,
            levels,
        }
    }

    fn plug(&mut self, devfn: u8, pin: u8) -> RegionId {
        let ram = self.mem.new_ram("test-bar", 4096).unwrap();
        self.host
            .plug(devfn, "test", &TestDevice { ram, pin })
            .unwrap();
        ram
    }

    fn cfg_write(&mut self, devfn: u8, at: u64, size: u32, v: u64) {
        let addr = ECAM + (u64::from(devfn) << 12) + at;
        self.store(addr, size, v);
    }

    fn cfg_read(&mut self, devfn: u8, at: u64, size: u32) -> u64 {
        self.load(ECAM + (u64::from(devfn) << 12) + at, size)
    }

    fn store(&mut self, addr: u64, size: u32, v: u64) {
        self.mem
            .store(
                self.space,
                GuestAddress(addr),
                size,
                v,
                Endianness::Little,
                MemTxAttrs::default(),
            )
            .unwrap();
    }

    fn load(&mut self, addr: u64, size: u32) -> u64 {
        self.mem
            .load(
                self.space,
                GuestAddress(addr),
                size,
                Endianness::Little,
                MemTxAttrs::default(),
            )
            .unwrap()
    }
}

#[test]
fn ecam_shows_the_functions_and_all_ones_elsewhere() {
    let mut bus = Bus::new();
    bus.plug(0x08, 1);
    assert_eq!(bus.cfg_read(0, 0, 4), 0x0008_1b36);
    assert_eq!(bus.cfg_read(0x08, 0, 4), 0x10f0_1af4);
    assert_eq!(bus.cfg_read(0x08, 0x0a, 2), 0xff00);
    assert_eq!(bus.cfg_read(0x10, 0, 4), 0xffff_ffff, "no device 2");
    assert_eq!(bus.cfg_read(0x08, 0, 1), 0xf4);
    assert_eq!(bus.load(ECAM + (1 << 20), 2), 0xffff, "no bus 1");
    assert_eq!(
        bus.load(MMIO + 0x1234, 4),
        0xffff_ffff,
        "the window answers unclaimed addresses"
    );
}

#[test]
fn a_bar_maps_moves_and_unmaps_through_the_pci_space() {
    let mut bus = Bus::new();
    bus.plug(0x08, 1);
    bus.cfg_write(0x08, 0x10, 4, 0xffff_ffff);
    assert_eq!(bus.cfg_read(0x08, 0x10, 4), 0xffff_f000, "sized: 4 KiB");
    bus.cfg_write(0x08, 0x10, 4, MMIO + 0x2000);
    assert_eq!(bus.host.bar_address(0x08, 0), None, "decoding is off");
    bus.cfg_write(0x08, 0x04, 2, u64::from(command::MEMORY));
    assert_eq!(bus.host.bar_address(0x08, 0), Some(MMIO + 0x2000));
    bus.store(MMIO + 0x2010, 4, 0x1234_5678);
    assert_eq!(bus.load(MMIO + 0x2010, 4), 0x1234_5678);

    bus.cfg_write(0x08, 0x10, 4, MMIO + 0x8000);
    assert_eq!(
        bus.load(MMIO + 0x8010, 4),
        0x1234_5678,
        "moved with its data"
    );
    assert_eq!(
        bus.load(MMIO + 0x2010, 4),
        0xffff_ffff,
        "old place unclaimed"
    );

    bus.cfg_write(0x08, 0x04, 2, 0);
    assert_eq!(bus.load(MMIO + 0x8010, 4), 0xffff_ffff, "decoding off");
    assert!(bus.mem.deferred_changes().is_empty());
    let infos = bus.host.functions();
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[1].bars.len(), 1);
    assert_eq!(infos[1].bars[0].1, None);
}

#[test]
fn intx_follows_qemus_swizzle_and_the_disable_bit() {
    let mut bus = Bus::new();
    // Slot 1 pin A -> line 1; slot 2 pin B -> line 3; slot 3 pin D -> line 2.
    bus.plug(0x08, 1);
    bus.plug(0x10, 2);
    bus.plug(0x18, 4);
    bus.host.set_intx(0x08, true);
    assert!(bus.levels.level(1));
    bus.host.set_intx(0x10, true);
    assert!(bus.levels.level(3));
    bus.host.set_intx(0x18, true);
    assert!(bus.levels.level(2));
    assert!(!bus.levels.level(0));
    assert_ne!(
        bus.cfg_read(0x08, 0x06, 2) & u64::from(status::INTERRUPT),
        0
    );
    bus.cfg_write(0x08, 0x04, 2, u64::from(command::INTX_DISABLE));
    assert!(!bus.levels.level(1), "INTx disabled");
    bus.cfg_write(0x08, 0x04, 2, 0);
    assert!(bus.levels.level(1), "enabled again, still asserted");
    bus.host.set_intx(0x08, false);
    assert!(!bus.levels.level(1));
    assert_eq!(intx_line(0x00, 1), 0);
    assert_eq!(intx_line(0x08, 4), 0);
}

#[test]
fn plugging_twice_or_a_bad_bar_is_refused() {
    let mut bus = Bus::new();
    bus.plug(0x08, 1);
    let ram = bus.mem.new_ram("other", 4096).unwrap();
    let e = bus.host.plug(0x08, "again", &TestDevice { ram, pin: 1 });
    assert!(matches!(e, Err(PciError::Occupied { devfn: 0x08, .. })));
    struct Odd(RegionId);
    impl PciDevice for Odd {
        fn identity(&self) -> PciIdentity {
            HostBridge.identity()
        }
        fn bars(&self) -> Vec<BarSpec> {
            vec![BarSpec {
                index: 0,
                size: 3000,
                kind: BarKind::Memory32,
                region: self.0,
            }]
        }
    }
    let e = bus.host.plug(0x10, "odd", &Odd(ram));
    assert!(matches!(e, Err(PciError::BadBar { index: 0, .. })));
}

#[test]
fn dma_reaches_system_memory_only_while_bus_mastering_is_on() {
    let mut b = Bus::new();
    let root = b.mem.address_space_root(b.space).unwrap();
    let ram = b.mem.new_ram("dram", 0x1000).unwrap();
    b.mem.add_subregion(root, 0x8000_0000, ram).unwrap();
    b.mem
        .write(
            b.space,
            GuestAddress(0x8000_0000),
            &[0xa5; 4],
            MemTxAttrs::default(),
        )
        .unwrap();
    b.plug(8, 1);
    assert_eq!(b.host.dma_space(8), None, "no bus-master space yet");
    let dma = b.host.add_bus_master(&mut b.mem, 8, root).unwrap();
    assert_eq!(b.host.dma_space(8), Some(dma));
    assert_eq!(b.mem.address_space_name(dma).unwrap(), "test");
    let mut buf = [0u8; 4];
    let read = |b: &mut Bus, buf: &mut [u8; 4]| {
        b.mem
            .read(dma, GuestAddress(0x8000_0000), buf, MemTxAttrs::default())
    };
    assert!(
        read(&mut b, &mut buf).is_err(),
        "bus mastering is off at reset"
    );
    b.cfg_write(8, reg::COMMAND as u64, 2, u64::from(command::BUS_MASTER));
    read(&mut b, &mut buf).unwrap();
    assert_eq!(buf, [0xa5; 4], "the function's DMA sees system memory");
    b.cfg_write(8, reg::COMMAND as u64, 2, 0);
    assert!(read(&mut b, &mut buf).is_err(), "off again");
    assert!(
        b.host.add_bus_master(&mut b.mem, 0x10, root).is_err(),
        "no function"
    );
}
