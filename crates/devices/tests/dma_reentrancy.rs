//! A virtio device whose DMA reaches its own register window is refused by
//! the memory API's re-entrancy guard and fails the request cleanly
//! (DEVICE_NEEDS_RESET), never panicking on its own `RefCell`s. Each of the
//! four placements — a data buffer, the request header (for the entropy
//! device, which has none: the descriptor table), the available ring and
//! the used ring — is tried for virtio-blk and virtio-rng, through a real
//! memory system as the machine wires it.

use std::rc::Rc;

use ferrite_devices::IrqLevels;
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::block::{MemDisk, VirtioBlock};
use ferrite_devices::virtio::rng::VirtioRng;
use ferrite_devices::virtio::status;
use ferrite_memory::{
    AddressSpaceId, GuestAddress, GuestBytes, MemTxAttrs, MemorySystem, RegionOps, RegionSize,
    SpaceBytes,
};

const RAM: u64 = 0x8000_0000;
const WINDOW: u64 = 0x1000_1000;
const DESC: u64 = RAM + 0x1000;
const AVAIL: u64 = RAM + 0x2000;
const USED: u64 = RAM + 0x3000;
const HEADER: u64 = RAM + 0x4000;
const DATA: u64 = RAM + 0x5000;
const STATUS_BYTE: u64 = RAM + 0x6000;

/// Register offsets of the version-2 transport.
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placement {
    Data,
    Header,
    Avail,
    Used,
}

struct Rig {
    mem: MemorySystem,
    space: AddressSpaceId,
    transport: Rc<VirtioMmio>,
}

impl Rig {
    fn new(device: Box<dyn ferrite_devices::virtio::VirtioDevice>) -> Rig {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram("ram", 0x10_0000).unwrap();
        mem.add_subregion(root, RAM, ram).unwrap();
        let irqs = IrqLevels::new();
        let transport = Rc::new(VirtioMmio::new(device, irqs.line(1)));
        let io = mem.new_io("virtio-mmio", VirtioMmio::REGION_SIZE, transport.clone());
        mem.add_subregion(root, WINDOW, io).unwrap();
        let space = mem.new_address_space("memory", root);
        Rig {
            mem,
            space,
            transport,
        }
    }

    fn bytes(&mut self) -> SpaceBytes<'_> {
        SpaceBytes::new(&mut self.mem, self.space)
    }

    fn reg(&self, offset: u64, value: u32) {
        self.transport
            .write(offset, u64::from(value), 4, MemTxAttrs::default())
            .unwrap();
    }

    /// The used ring's index: how many buffers the device returned.
    fn used_idx(&mut self) -> u16 {
        let mut b = [0u8; 2];
        self.mem
            .read(
                self.space,
                GuestAddress(USED + 2),
                &mut b,
                MemTxAttrs::default(),
            )
            .unwrap();
        u16::from_le_bytes(b)
    }

    fn status(&self) -> u32 {
        self.transport
            .read(STATUS, 4, MemTxAttrs::default())
            .unwrap() as u32
    }

    /// A running driver with queue 0 of 8 entries, its rings where
    /// `placement` says (in the device's window or in RAM).
    fn start(&self, placement: Placement, rng: bool) {
        let at = |p: Placement, ram: u64| {
            if p == placement { WINDOW + 0x100 } else { ram }
        };
        self.reg(STATUS, 0);
        self.reg(STATUS, 0x0f);
        self.reg(QUEUE_SEL, 0);
        self.reg(QUEUE_NUM, 8);
        let desc = if rng {
            at(Placement::Header, DESC)
        } else {
            DESC
        };
        self.reg(QUEUE_DESC_LOW, desc as u32);
        self.reg(QUEUE_DRIVER_LOW, at(Placement::Avail, AVAIL) as u32);
        self.reg(QUEUE_DEVICE_LOW, at(Placement::Used, USED) as u32);
        self.reg(QUEUE_READY, 1);
    }
}

fn put_desc(m: &mut dyn GuestBytes, i: u64, addr: u64, len: u32, flags: u16, next: u16) {
    let at = DESC + 16 * i;
    m.write_u64(at, addr).unwrap();
    m.write_u32(at + 8, len).unwrap();
    m.write_u16(at + 12, flags).unwrap();
    m.write_u16(at + 14, next).unwrap();
}

fn publish_head_0(m: &mut dyn GuestBytes) {
    m.write_u16(AVAIL + 4, 0).unwrap();
    m.write_u16(AVAIL + 2, 1).unwrap();
}

/// Serve the kick and check the request failed cleanly.
fn serve_and_check(rig: &mut Rig, what: &str) {
    rig.reg(QUEUE_NOTIFY, 0);
    assert!(rig.transport.needs_processing(), "{what}: kick not seen");
    let transport = rig.transport.clone();
    transport.process(&mut rig.bytes());
    assert_ne!(
        rig.status() & status::DEVICE_NEEDS_RESET,
        0,
        "{what}: the request should fail with DEVICE_NEEDS_RESET"
    );
    // The transport still answers its registers, and a reset recovers it.
    rig.reg(STATUS, 0);
    assert_eq!(rig.status(), 0, "{what}: reset");
}

#[test]
fn blk_dma_into_its_own_window_is_refused() {
    for placement in [
        Placement::Data,
        Placement::Header,
        Placement::Avail,
        Placement::Used,
    ] {
        let disk = MemDisk::new(vec![0x5a; 64 * 1024]);
        let mut rig = Rig::new(Box::new(VirtioBlock::new(Box::new(disk), "blk")));
        rig.start(placement, false);
        let header = if placement == Placement::Header {
            WINDOW + 0x100
        } else {
            HEADER
        };
        let data = if placement == Placement::Data {
            WINDOW + 0x100
        } else {
            DATA
        };
        let mut m = rig.bytes();
        // A read request (type 0) of one sector: header, data, status.
        m.write(HEADER, &[0u8; 16]).unwrap();
        put_desc(&mut m, 0, header, 16, 1, 1);
        put_desc(&mut m, 1, data, 512, 1 | 2, 2);
        put_desc(&mut m, 2, STATUS_BYTE, 1, 2, 0);
        publish_head_0(&mut m);
        serve_and_check(&mut rig, &format!("blk {placement:?}"));
    }
}

#[test]
fn rng_dma_into_its_own_window_is_refused() {
    for placement in [
        Placement::Data,
        Placement::Header,
        Placement::Avail,
        Placement::Used,
    ] {
        let mut rig = Rig::new(Box::new(VirtioRng::new(7)));
        rig.start(placement, true);
        let data = if placement == Placement::Data {
            WINDOW + 0x100
        } else {
            DATA
        };
        let mut m = rig.bytes();
        put_desc(&mut m, 0, data, 64, 2, 0);
        publish_head_0(&mut m);
        serve_and_check(&mut rig, &format!("rng {placement:?}"));
    }
}

#[test]
fn a_request_in_ram_still_completes() {
    let mut rig = Rig::new(Box::new(VirtioRng::new(7)));
    rig.start(Placement::Data, true);
    let mut m = rig.bytes();
    put_desc(&mut m, 0, DATA, 64, 2, 0);
    publish_head_0(&mut m);
    // Overwrite the window-placed data pointer: a plain RAM request.
    put_desc(&mut m, 0, DATA, 64, 2, 0);
    rig.reg(QUEUE_NOTIFY, 0);
    let transport = rig.transport.clone();
    transport.process(&mut rig.bytes());
    assert_eq!(rig.status() & status::DEVICE_NEEDS_RESET, 0);
    assert_eq!(rig.used_idx(), 1, "the buffer was used");
}

#[test]
fn an_available_index_far_ahead_of_the_device_needs_reset() {
    let mut rig = Rig::new(Box::new(VirtioRng::new(7)));
    rig.start(Placement::Data, true);
    let mut m = rig.bytes();
    put_desc(&mut m, 0, DATA, 64, 2, 0);
    // 0xffff entries published on a queue of 8.
    m.write_u16(AVAIL + 2, 0xffff).unwrap();
    rig.reg(QUEUE_NOTIFY, 0);
    let transport = rig.transport.clone();
    transport.process(&mut rig.bytes());
    assert_ne!(rig.status() & status::DEVICE_NEEDS_RESET, 0);
    assert_eq!(rig.used_idx(), 0, "nothing was served");
}

#[test]
fn one_kick_does_a_bounded_amount_of_work() {
    // Eight requests of 4 MiB each: one service takes about
    // BYTES_PER_ROUND of them and leaves the queue kicked for the next.
    let mut rig = Rig::new(Box::new(VirtioRng::new(7)));
    rig.start(Placement::Data, true);
    let mut m = rig.bytes();
    for i in 0..8u16 {
        put_desc(&mut m, u64::from(i), DATA, 4 << 20, 2, 0);
        m.write_u16(AVAIL + 4 + 2 * u64::from(i), i).unwrap();
    }
    m.write_u16(AVAIL + 2, 8).unwrap();
    rig.reg(QUEUE_NOTIFY, 0);
    let transport = rig.transport.clone();
    let mut rounds = 0;
    while transport.needs_processing() {
        transport.process(&mut rig.bytes());
        rounds += 1;
        assert!(rounds < 10, "the queue never drained");
    }
    assert!(
        rounds >= 3,
        "one service did all the work ({rounds} rounds)"
    );
    assert_eq!(rig.used_idx(), 8);
}
