//! virtio-mem through a real memory system, wired as the virt board wires
//! it: a device-memory window, the device plugged in it through the
//! memory-device interface, a driver talking to it over the virtio-mmio
//! transport. Checks the specification's answers, what guest accesses see,
//! what memory listeners and discard listeners hear, memslot accounting and
//! the host memory given back on unplug.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_devices::IrqLevels;
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::mem::{
    self, VirtioMem, VirtioMemControl, VirtioMemSpec, request, response, state,
};
use ferrite_memory::{
    AddressSpaceId, GuestAddress, GuestBytes, MemTxAttrs, MemoryListener, MemoryRegionSection,
    MemorySystem, RamDiscardListener, RegionId, RegionOps, RegionSize, SpaceBytes,
};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const RAM: u64 = 0x8000_0000;
const WINDOW: u64 = 0x1000_1000;
const DEVICE_MEMORY: u64 = 0x1_0000_0000;
const DESC: u64 = RAM + 0x1000;
const AVAIL: u64 = RAM + 0x2000;
const USED: u64 = RAM + 0x3000;
const REQ: u64 = RAM + 0x4000;
const RESP: u64 = RAM + 0x5000;

const DEVICE_ID: u64 = 0x008;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const INTERRUPT_STATUS: u64 = 0x060;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const CONFIG_GENERATION: u64 = 0x0fc;
const CONFIG: u64 = 0x100;

/// Records region_add/region_del of one address space.
struct Recorder(Rc<RefCell<Vec<String>>>);

impl MemoryListener for Recorder {
    fn region_add(&mut self, s: &MemoryRegionSection) {
        self.0.borrow_mut().push(format!(
            "add {:#x}+{:#x}",
            s.offset_within_address_space.0, s.size
        ));
    }
    fn region_del(&mut self, s: &MemoryRegionSection) {
        self.0.borrow_mut().push(format!(
            "del {:#x}+{:#x}",
            s.offset_within_address_space.0, s.size
        ));
    }
}

/// Records populate/discard notifications of the backend.
struct DiscardRecorder(Rc<RefCell<Vec<String>>>);

impl RamDiscardListener for DiscardRecorder {
    fn notify_populate(&mut self, _r: RegionId, offset: u64, len: u64) -> Result<(), String> {
        self.0
            .borrow_mut()
            .push(format!("populate {offset:#x}+{len:#x}"));
        Ok(())
    }
    fn notify_discard(&mut self, _r: RegionId, offset: u64, len: u64) {
        self.0
            .borrow_mut()
            .push(format!("discard {offset:#x}+{len:#x}"));
    }
}

struct Rig {
    mem: MemorySystem,
    space: AddressSpaceId,
    transport: Rc<VirtioMmio>,
    control: VirtioMemControl,
    addr: u64,
    requests: u16,
    irqs: Rc<IrqLevels>,
}

fn spec(size: u64, requested: u64) -> VirtioMemSpec {
    VirtioMemSpec {
        id: "vm0".into(),
        memdev: "mem0".into(),
        size,
        requested_size: requested,
        block_size: mem::DEFAULT_BLOCK_SIZE,
        addr: None,
    }
}

impl Rig {
    fn new(spec: VirtioMemSpec) -> Rig {
        let mut m = MemorySystem::new();
        let root = m.new_container("system", RegionSize::Max);
        let ram = m.new_ram("ram", MIB).unwrap();
        m.add_subregion(root, RAM, ram).unwrap();
        m.init_device_memory(root, DEVICE_MEMORY, 8 * GIB, 256)
            .unwrap();
        let free = m.memslot_stats().unwrap().free();
        let (device, control) = VirtioMem::new(&mut m, &spec, free).unwrap();
        let addr = m
            .memory_device_plug(
                control.device_region(),
                spec.addr,
                spec.block_size,
                control.memslots(),
            )
            .unwrap();
        control.set_address(addr);
        let irqs = IrqLevels::new();
        let transport = Rc::new(VirtioMmio::new(Box::new(device), irqs.line(1)));
        let io = m.new_io("virtio-mmio", VirtioMmio::REGION_SIZE, transport.clone());
        m.add_subregion(root, WINDOW, io).unwrap();
        let space = m.new_address_space("memory", root);
        Rig {
            mem: m,
            space,
            transport,
            control,
            addr,
            requests: 0,
            irqs,
        }
    }

    fn reg(&self, offset: u64, value: u32) {
        self.transport
            .write(offset, u64::from(value), 4, MemTxAttrs::default())
            .unwrap();
    }

    fn read_reg(&self, offset: u64) -> u32 {
        self.transport
            .read(offset, 4, MemTxAttrs::default())
            .unwrap() as u32
    }

    fn config_u64(&self, at: u64) -> u64 {
        let lo = self.read_reg(CONFIG + at) as u64;
        let hi = self.read_reg(CONFIG + at + 4) as u64;
        lo | hi << 32
    }

    fn bytes(&mut self) -> SpaceBytes<'_> {
        SpaceBytes::new(&mut self.mem, self.space)
    }

    /// Negotiates `features` (low word, high word); returns the status.
    fn negotiate(&self, low: u32) -> u32 {
        self.reg(STATUS, 0);
        self.reg(STATUS, 1 | 2);
        self.reg(DRIVER_FEATURES_SEL, 0);
        self.reg(DRIVER_FEATURES, low);
        self.reg(DRIVER_FEATURES_SEL, 1);
        self.reg(DRIVER_FEATURES, 1); // VIRTIO_F_VERSION_1
        self.reg(STATUS, 1 | 2 | 8);
        self.read_reg(STATUS)
    }

    fn start(&mut self) {
        assert_eq!(self.negotiate(2) & 8, 8, "FEATURES_OK accepted");
        self.reg(QUEUE_SEL, 0);
        self.reg(QUEUE_NUM, 8);
        self.reg(QUEUE_DESC_LOW, DESC as u32);
        self.reg(QUEUE_DRIVER_LOW, AVAIL as u32);
        self.reg(QUEUE_DEVICE_LOW, USED as u32);
        self.reg(QUEUE_READY, 1);
        self.reg(STATUS, 1 | 2 | 8 | 4);
        let mut b = self.bytes();
        // desc 0: the request, then desc 1: the response.
        b.write_u64(DESC, REQ).unwrap();
        b.write_u32(DESC + 8, mem::REQUEST_LEN as u32).unwrap();
        b.write_u16(DESC + 12, 1).unwrap();
        b.write_u16(DESC + 14, 1).unwrap();
        b.write_u64(DESC + 16, RESP).unwrap();
        b.write_u32(DESC + 24, mem::RESPONSE_LEN as u32).unwrap();
        b.write_u16(DESC + 28, 2).unwrap();
    }

    /// Sends one request; returns (response type, state).
    fn request(&mut self, kind: u16, addr: u64, blocks: u16) -> (u16, u16) {
        let n = self.requests;
        let mut b = self.bytes();
        let mut req = [0u8; mem::REQUEST_LEN];
        req[0..2].copy_from_slice(&kind.to_le_bytes());
        req[8..16].copy_from_slice(&addr.to_le_bytes());
        req[16..18].copy_from_slice(&blocks.to_le_bytes());
        b.write(REQ, &req).unwrap();
        b.write(RESP, &[0xff; mem::RESPONSE_LEN]).unwrap();
        b.write_u16(AVAIL + 4 + 2 * u64::from(n % 8), 0).unwrap();
        b.write_u16(AVAIL + 2, n.wrapping_add(1)).unwrap();
        self.requests += 1;
        self.reg(QUEUE_NOTIFY, 0);
        assert!(self.transport.needs_processing());
        let transport = self.transport.clone();
        transport.process(&mut self.bytes());
        let sent = self.requests;
        let mut b = self.bytes();
        assert_eq!(b.read_u16(USED + 2).unwrap(), sent, "used");
        (b.read_u16(RESP).unwrap(), b.read_u16(RESP + 8).unwrap())
    }

    fn readable(&mut self, addr: u64) -> bool {
        let mut buf = [0u8; 8];
        self.mem
            .read(
                self.space,
                GuestAddress(addr),
                &mut buf,
                MemTxAttrs::default(),
            )
            .is_ok()
    }

    fn read_u64(&mut self, addr: u64) -> u64 {
        self.bytes().read_u64(addr).unwrap()
    }
}

#[test]
fn requests_are_answered_as_the_specification_says() {
    let mut r = Rig::new(spec(4 * GIB, 64 * MIB));
    assert_eq!(r.read_reg(DEVICE_ID), 24);
    let bs = mem::DEFAULT_BLOCK_SIZE;
    let a = r.addr;
    assert_eq!(a, DEVICE_MEMORY, "first fit in the window");
    assert_eq!(r.config_u64(0), bs, "block_size");
    assert_eq!(r.config_u64(16), a, "addr");
    assert_eq!(r.config_u64(24), 4 * GIB, "region_size");
    assert_eq!(r.config_u64(32), 64 * MIB + mem::USABLE_EXTENT, "usable");
    assert_eq!(r.config_u64(40), 0, "plugged_size");
    assert_eq!(r.config_u64(48), 64 * MIB, "requested_size");
    r.start();

    // Nothing plugged: every memslot unmapped, the device's memory absent.
    assert!(!r.readable(a));
    assert_eq!(
        r.request(request::STATE, a, 4),
        (response::ACK, state::UNPLUGGED)
    );
    // Plug 4 blocks: they read and write.
    assert_eq!(r.request(request::PLUG, a, 4).0, response::ACK);
    assert!(r.readable(a));
    r.bytes().write_u64(a + bs + 8, 0x1234_5678).unwrap();
    assert_eq!(r.read_u64(a + bs + 8), 0x1234_5678);
    assert_eq!(r.config_u64(40), 4 * bs, "plugged_size");
    assert_eq!(
        r.request(request::STATE, a, 4),
        (response::ACK, state::PLUGGED)
    );
    assert_eq!(
        r.request(request::STATE, a, 5),
        (response::ACK, state::MIXED)
    );
    // Errors: already plugged, unaligned, empty, outside the usable region.
    assert_eq!(r.request(request::PLUG, a, 1).0, response::ERROR);
    assert_eq!(
        r.request(request::PLUG, a + 4 * bs + 4096, 1).0,
        response::ERROR
    );
    assert_eq!(r.request(request::PLUG, a + 4 * bs, 0).0, response::ERROR);
    let usable_end = a + 64 * MIB + mem::USABLE_EXTENT;
    assert_eq!(r.request(request::PLUG, usable_end, 1).0, response::ERROR);
    assert_eq!(
        r.request(request::PLUG, usable_end - bs, 2).0,
        response::ERROR
    );
    assert_eq!(r.request(request::STATE, a - bs, 1).0, response::ERROR);
    assert_eq!(r.request(request::UNPLUG, a + 4 * bs, 1).0, response::ERROR);
    // Beyond the requested size: NACK (28 more blocks fit, 29 do not).
    assert_eq!(r.request(request::PLUG, a + 4 * bs, 29).0, response::NACK);
    assert_eq!(r.request(request::PLUG, a + 4 * bs, 28).0, response::ACK);
    assert_eq!(r.request(request::PLUG, a + 32 * bs, 1).0, response::NACK);
    // Unplug one block inside the mapped memslot: it reads as zero.
    assert_eq!(r.request(request::UNPLUG, a + bs, 1).0, response::ACK);
    assert_eq!(r.read_u64(a + bs + 8), 0, "discarded block reads zero");
    assert_eq!(
        r.request(request::STATE, a, 3),
        (response::ACK, state::MIXED)
    );
    assert_eq!(r.config_u64(40), 31 * bs);
    // Unplug all: every memslot goes, the memory is refused again.
    assert_eq!(r.request(request::UNPLUG_ALL, 0, 0).0, response::ACK);
    assert_eq!(r.config_u64(40), 0);
    assert!(!r.readable(a));
    assert_eq!(r.control.info().memslots_mapped, 0);
}

#[test]
fn memslots_map_on_demand_one_section_each() {
    let mut r = Rig::new(spec(4 * GIB, 4 * GIB));
    let info = r.control.info();
    assert_eq!(info.memslots, (4, GIB), "4 GiB in 1 GiB memslots");
    let stats = r.mem.memslot_stats().unwrap();
    assert_eq!((stats.required, stats.used, stats.limit), (4, 0, 256));
    r.start();
    let log = Rc::new(RefCell::new(Vec::new()));
    r.mem
        .register_listener(r.space, Box::new(Recorder(log.clone())));
    let discards = Rc::new(RefCell::new(Vec::new()));
    r.mem
        .register_ram_discard_listener(
            r.control.ram_region(),
            Box::new(DiscardRecorder(discards.clone())),
        )
        .unwrap();
    log.borrow_mut().clear();
    let a = r.addr;
    let bs = mem::DEFAULT_BLOCK_SIZE;
    assert_eq!(r.request(request::PLUG, a, 1).0, response::ACK);
    assert_eq!(*log.borrow(), vec![format!("add {a:#x}+{GIB:#x}")]);
    log.borrow_mut().clear();
    // A block in memslot 2: one section added, its neighbours untouched.
    assert_eq!(r.request(request::PLUG, a + 2 * GIB, 1).0, response::ACK);
    assert_eq!(
        *log.borrow(),
        vec![format!("add {:#x}+{GIB:#x}", a + 2 * GIB)]
    );
    assert!(r.readable(a + 2 * GIB) && !r.readable(a + GIB) && !r.readable(a + 3 * GIB));
    assert_eq!(r.mem.memslot_stats().unwrap().used, 2);
    // A second block in memslot 0 maps nothing new.
    log.borrow_mut().clear();
    assert_eq!(r.request(request::PLUG, a + bs, 1).0, response::ACK);
    assert!(log.borrow().is_empty(), "{:?}", log.borrow());
    // Unplugging the last block of memslot 2 removes exactly that section.
    assert_eq!(r.request(request::UNPLUG, a + 2 * GIB, 1).0, response::ACK);
    assert_eq!(
        *log.borrow(),
        vec![format!("del {:#x}+{GIB:#x}", a + 2 * GIB)]
    );
    assert_eq!(r.mem.memslot_stats().unwrap().used, 1);
    assert_eq!(
        *discards.borrow(),
        vec![
            "populate 0x0+0x200000".to_string(),
            format!("populate {:#x}+0x200000", 2 * GIB),
            "populate 0x200000+0x200000".to_string(),
            format!("discard {:#x}+0x200000", 2 * GIB),
        ]
    );
}

#[test]
fn the_host_changes_the_requested_size() {
    let mut r = Rig::new(spec(GIB, 0));
    assert_eq!(
        r.config_u64(32),
        0,
        "nothing usable while nothing is requested"
    );
    r.start();
    let a = r.addr;
    assert_eq!(r.request(request::PLUG, a, 1).0, response::ERROR);
    let generation = r.read_reg(CONFIG_GENERATION);
    r.control.set_requested_size(16 * MIB).unwrap();
    r.transport.notify_config();
    assert_eq!(
        r.read_reg(INTERRUPT_STATUS) & 2,
        2,
        "config-change interrupt"
    );
    assert!(r.irqs.level(1));
    assert_ne!(r.read_reg(CONFIG_GENERATION), generation);
    assert_eq!(r.config_u64(48), 16 * MIB);
    assert_eq!(r.config_u64(32), 16 * MIB + mem::USABLE_EXTENT);
    assert_eq!(r.request(request::PLUG, a, 8).0, response::ACK);
    assert_eq!(r.request(request::PLUG, a + 16 * MIB, 1).0, response::NACK);
    // Shrinking asks the guest to unplug; the usable region stays.
    r.control.set_requested_size(0).unwrap();
    assert_eq!(r.config_u64(32), 16 * MIB + mem::USABLE_EXTENT);
    assert!(
        r.control.set_requested_size(MIB).is_err(),
        "not a block multiple"
    );
    assert!(
        r.control.set_requested_size(2 * GIB).is_err(),
        "beyond the backend"
    );
    // UNPLUG_ALL shrinks the usable region to what is requested.
    assert_eq!(r.request(request::UNPLUG_ALL, 0, 0).0, response::ACK);
    assert_eq!(r.config_u64(32), 0);
}

#[test]
fn a_driver_must_accept_unplugged_inaccessible() {
    let r = Rig::new(spec(GIB, 0));
    assert_eq!(r.negotiate(0) & 8, 0, "FEATURES_OK refused");
    assert_eq!(r.negotiate(2) & 8, 8);
}

#[test]
fn bad_specifications_are_refused() {
    let mut m = MemorySystem::new();
    for (s, what) in [
        (
            VirtioMemSpec {
                block_size: 3 * MIB,
                ..spec(GIB, 0)
            },
            "block-size",
        ),
        (spec(GIB + MIB, 0), "size"),
        (spec(GIB, 3 * MIB), "requested-size"),
        (spec(GIB, 2 * GIB), "cannot exceed"),
        (
            VirtioMemSpec {
                addr: Some(DEVICE_MEMORY + MIB),
                ..spec(GIB, 0)
            },
            "addr",
        ),
    ] {
        let err = VirtioMem::new(&mut m, &s, 256)
            .err()
            .expect(what)
            .to_string();
        assert!(err.contains(what), "{err}");
    }
    assert_eq!(mem::decide_memslots(4 * GIB, 2 * MIB, 256), (4, GIB));
    assert_eq!(
        mem::decide_memslots(512 * GIB, 2 * MIB, 256),
        (256, 2 * GIB)
    );
    assert_eq!(
        mem::decide_memslots(512 * MIB, 2 * MIB, 256),
        (1, 512 * MIB)
    );
    assert_eq!(mem::decide_memslots(4 * GIB, 2 * MIB, 1), (1, 4 * GIB));
}

/// Resident pages of this process, in bytes.
#[cfg(target_os = "linux")]
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[cfg(target_os = "linux")]
#[test]
fn unplugged_memory_goes_back_to_the_host() {
    let mut r = Rig::new(spec(GIB, 512 * MIB));
    r.start();
    let a = r.addr;
    let blocks = (256 * MIB / mem::DEFAULT_BLOCK_SIZE) as u16;
    assert_eq!(r.request(request::PLUG, a, blocks).0, response::ACK);
    let before = resident();
    let page = [0x5au8; 4096];
    for off in (0..256 * MIB).step_by(4096) {
        r.bytes().write(a + off, &page).unwrap();
    }
    let touched = resident();
    assert!(
        touched >= before + 240 * MIB,
        "writing 256 MiB made {} MiB resident",
        (touched - before) / MIB
    );
    assert_eq!(r.request(request::UNPLUG, a, blocks).0, response::ACK);
    let after = resident();
    assert!(
        after + 240 * MIB <= touched,
        "unplugging 256 MiB gave back {} MiB",
        touched.saturating_sub(after) / MIB
    );
}

/// A discard listener that refuses to populate while `veto` is set (as a
/// VFIO-like consumer that cannot map more would).
struct Veto(Rc<std::cell::Cell<bool>>);

impl RamDiscardListener for Veto {
    fn notify_populate(&mut self, _r: RegionId, _offset: u64, _len: u64) -> Result<(), String> {
        if self.0.get() {
            Err("no room".into())
        } else {
            Ok(())
        }
    }
    fn notify_discard(&mut self, _r: RegionId, _offset: u64, _len: u64) {}
}

/// The specification's rules, kept by the test: what each request must
/// answer and which blocks are plugged.
struct Model {
    addr: u64,
    bs: u64,
    size: u64,
    requested: u64,
    usable: u64,
    plugged: Vec<bool>,
}

impl Model {
    fn resize(&mut self, requested: u64, can_shrink: bool) {
        let size = if requested == 0 {
            0
        } else {
            self.size
                .min(requested + mem::USABLE_EXTENT)
                .next_multiple_of(self.bs)
        };
        if size >= self.usable || can_shrink {
            self.usable = size;
        }
    }

    fn plugged_size(&self) -> u64 {
        self.plugged.iter().filter(|&&p| p).count() as u64 * self.bs
    }

    fn range(&self, gpa: u64, nb: u16) -> Option<std::ops::Range<usize>> {
        let size = u64::from(nb) * self.bs;
        let ok = gpa % self.bs == 0
            && size != 0
            && gpa >= self.addr
            && gpa + size <= self.addr + self.usable;
        ok.then(|| {
            let first = ((gpa - self.addr) / self.bs) as usize;
            first..first + usize::from(nb)
        })
    }

    /// The answer to a request, applying it.
    fn answer(&mut self, kind: u16, gpa: u64, nb: u16, veto: bool) -> (u16, u16) {
        match kind {
            request::UNPLUG_ALL => {
                self.plugged.fill(false);
                let r = self.requested;
                self.resize(r, true);
                (response::ACK, 0)
            }
            request::STATE => match self.range(gpa, nb) {
                None => (response::ERROR, 0),
                Some(r) => {
                    let blocks = &self.plugged[r];
                    let st = if blocks.iter().all(|&p| p) {
                        state::PLUGGED
                    } else if blocks.iter().all(|&p| !p) {
                        state::UNPLUGGED
                    } else {
                        state::MIXED
                    };
                    (response::ACK, st)
                }
            },
            _ => {
                let plug = kind == request::PLUG;
                let Some(r) = self.range(gpa, nb) else {
                    return (response::ERROR, 0);
                };
                if plug && self.plugged_size() + u64::from(nb) * self.bs > self.requested {
                    return (response::NACK, 0);
                }
                if self.plugged[r.clone()].contains(&plug) {
                    return (response::ERROR, 0);
                }
                if plug && veto {
                    return (response::BUSY, 0);
                }
                self.plugged[r].fill(plug);
                (response::ACK, 0)
            }
        }
    }
}

/// Thousands of requests from a fixed-seed generator, near and across every
/// boundary, with the host changing its request now and then: every answer
/// is the specification's, the device's sizes follow, and memory is
/// reachable exactly in the memslots that hold a plugged block.
#[test]
fn random_requests_follow_the_specification() {
    let size = 4 * GIB;
    let mut r = Rig::new(spec(size, 64 * MIB));
    r.start();
    let bs = mem::DEFAULT_BLOCK_SIZE;
    let mut m = Model {
        addr: r.addr,
        bs,
        size,
        requested: 64 * MIB,
        usable: 0,
        plugged: vec![false; (size / bs) as usize],
    };
    m.resize(64 * MIB, true);
    let veto = Rc::new(std::cell::Cell::new(false));
    r.mem
        .register_ram_discard_listener(r.control.ram_region(), Box::new(Veto(veto.clone())))
        .unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut seen = [0u32; 4];
    let mut states = [0u32; 3];
    for step in 0..3000 {
        let roll = next();
        if roll % 97 == 0 {
            let requested = (next() % (size / bs + 1)) * bs / 4 * 4 % (size + bs);
            let requested = requested.min(size) / bs * bs;
            r.control.set_requested_size(requested).unwrap();
            r.transport.notify_config();
            m.resize(requested, false);
            m.requested = requested;
            continue;
        }
        let kind = [
            request::PLUG,
            request::PLUG,
            request::UNPLUG,
            request::STATE,
            request::UNPLUG_ALL,
        ][(next() % 5) as usize];
        let kind = if kind == request::UNPLUG_ALL && next() % 8 != 0 {
            request::UNPLUG
        } else {
            kind
        };
        // Mostly inside the usable region, sometimes past it or unaligned.
        let span = (m.usable / bs).max(1) + 4;
        let mut gpa = m.addr + (next() % span) * bs;
        if next() % 16 == 0 {
            gpa += 4096;
        }
        if next() % 32 == 0 {
            gpa = gpa.wrapping_sub(m.addr);
        }
        let nb = (next() % 24) as u16;
        veto.set(next() % 10 == 0);
        let want = m.answer(kind, gpa, nb, veto.get());
        let got = r.request(kind, gpa, nb);
        let got = if kind == request::STATE {
            got
        } else {
            (got.0, 0)
        };
        assert_eq!(
            got, want,
            "step {step}: request {kind} at {gpa:#x}, {nb} blocks"
        );
        seen[usize::from(got.0)] += 1;
        if kind == request::STATE && got.0 == response::ACK {
            states[usize::from(got.1)] += 1;
        }
        let info = r.control.info();
        assert_eq!(info.plugged_size, m.plugged_size(), "step {step}");
        assert_eq!(info.usable_region_size, m.usable, "step {step}");
        // Memslots are mapped exactly where a block is plugged.
        let per_slot = (GIB / bs) as usize;
        let mut mapped = 0;
        for (slot, blocks) in m.plugged.chunks(per_slot).enumerate() {
            let any = blocks.iter().any(|&p| p);
            mapped += u32::from(any);
            let at = m.addr + slot as u64 * GIB;
            assert_eq!(r.readable(at), any, "step {step}: memslot {slot}");
        }
        assert_eq!(info.memslots_mapped, mapped, "step {step}");
    }
    // Every answer and every state came up often enough to be tested.
    assert!(
        seen.iter().all(|&n| n >= 20),
        "answers ACK/NACK/BUSY/ERROR: {seen:?}"
    );
    assert!(states.iter().all(|&n| n >= 20), "states: {states:?}");
}
