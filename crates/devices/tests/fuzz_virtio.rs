//! A guest-driven fuzzer of the virtio transport and its devices, as a
//! hostile guest would drive them: random queue sizes, ring placements
//! (RAM, ROM, another device's MMIO, the device's own window, unmapped
//! space, the top of the 64-bit space), descriptor chains with random
//! flags, links, lengths and addresses, request types and sector numbers,
//! and random register writes in between.
//!
//! It asserts what the host promises: no panic, every service returns (the
//! work of one kick is bounded), host memory stays bounded, and the disk
//! changes only inside sectors that some write request named. Seeds are
//! fixed, so a failure reproduces; `FERRITE_FUZZ_ROUNDS=N` runs longer than
//! the default run's few hundred rounds.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use ferrite_devices::IrqLevels;
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::block::{BlockBackend, VirtioBlock};
use ferrite_devices::virtio::rng::VirtioRng;
use ferrite_memory::{
    AccessConstraints, AddressSpaceId, Endianness, GuestBytes, IoDescriptor, MemTxAttrs,
    MemTxResult, MemorySystem, RegionOps, RegionSize, SpaceBytes,
};

const RAM: u64 = 0x8000_0000;
const RAM_SIZE: u64 = 0x4_0000;
const ROM: u64 = 0x1000;
const OTHER_IO: u64 = 0x2000_0000;
const BLK: u64 = 0x1000_1000;
const RNG: u64 = 0x1000_2000;
const DISK_SIZE: usize = 64 * 1024;

/// xorshift64*: deterministic, good enough to vary everything.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A disk the test can inspect after the device took it.
#[derive(Clone)]
struct SharedDisk(Rc<RefCell<Vec<u8>>>);

impl BlockBackend for SharedDisk {
    fn size_bytes(&self) -> u64 {
        self.0.borrow().len() as u64
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let d = self.0.borrow();
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let src = d
            .get(start..start + buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut d = self.0.borrow_mut();
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let dst = d
            .get_mut(start..start + data.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        dst.copy_from_slice(data);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Another device's window: answers everything, remembers nothing.
struct Scratch;

impl RegionOps for Scratch {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0x5a5a_5a5a_5a5a_5a5a)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 8),
            implementation: AccessConstraints::sizes(1, 8),
            endianness: Endianness::Little,
        }
    }
}

struct Machine {
    mem: MemorySystem,
    space: AddressSpaceId,
    blk: Rc<VirtioMmio>,
    rng: Rc<VirtioMmio>,
    disk: SharedDisk,
}

fn machine() -> Machine {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let ram = mem.new_ram("ram", RAM_SIZE).unwrap();
    let rom = mem.new_rom("rom", 0x1000).unwrap();
    let scratch = mem.new_io("scratch", 0x1000, Rc::new(Scratch));
    mem.add_subregion(root, RAM, ram).unwrap();
    mem.add_subregion(root, ROM, rom).unwrap();
    mem.add_subregion(root, OTHER_IO, scratch).unwrap();
    let irqs = IrqLevels::new();
    let disk = SharedDisk(Rc::new(RefCell::new(
        (0..DISK_SIZE).map(|i| (i * 7 + 3) as u8).collect(),
    )));
    let blk = Rc::new(VirtioMmio::new(
        Box::new(VirtioBlock::new(Box::new(disk.clone()), "fuzz")),
        irqs.line(1),
    ));
    let rng = Rc::new(VirtioMmio::new(Box::new(VirtioRng::new(3)), irqs.line(2)));
    let blk_io = mem.new_io("virtio-blk", VirtioMmio::REGION_SIZE, blk.clone());
    let rng_io = mem.new_io("virtio-rng", VirtioMmio::REGION_SIZE, rng.clone());
    mem.add_subregion(root, BLK, blk_io).unwrap();
    mem.add_subregion(root, RNG, rng_io).unwrap();
    let space = mem.new_address_space("memory", root);
    Machine {
        mem,
        space,
        blk,
        rng,
        disk,
    }
}

/// Somewhere a guest might point a ring or a buffer.
fn place(r: &mut Rng, own: u64) -> u64 {
    match r.below(10) {
        0 => ROM + r.below(0x1000),
        1 => OTHER_IO + r.below(0x1000),
        2 => own + r.below(VirtioMmio::REGION_SIZE),
        3 => 0x4000_0000 + r.below(0x1000), // unmapped
        4 => u64::MAX - r.below(0x40),      // wraps at the top
        _ => RAM + (r.below(RAM_SIZE) & !1),
    }
}

fn status(dev: &VirtioMmio) -> u64 {
    dev.read(0x070, 4, MemTxAttrs::default()).unwrap()
}

/// Resident host memory in bytes (Linux), or 0 where unknown.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// One round: set up a random queue on `dev` at `base`, fill it with random
/// chains, kick, serve, and poke random registers. Returns the disk ranges
/// write requests named (blk only).
fn round(m: &mut Machine, r: &mut Rng, blk: bool, named: &mut Vec<(u64, u64)>) -> bool {
    let (dev, base) = if blk {
        (m.blk.clone(), BLK)
    } else {
        (m.rng.clone(), RNG)
    };
    let a = MemTxAttrs::default();
    let reg = |offset: u64, value: u64| dev.write(offset, value, 4, a).unwrap();
    // Half the rounds are plausible drivers with random requests, half are
    // hostile everywhere.
    let hostile = r.below(2) == 0;
    let size = r.pick(&[1u64, 2, 4, 8, 16, 256, 1024, 0xffff]);
    let (desc, avail, used) = if hostile {
        (
            place(r, base) & !15,
            place(r, base) & !1,
            place(r, base) & !3,
        )
    } else {
        (RAM + 0x1000, RAM + 0x2000, RAM + 0x3000)
    };
    reg(0x070, 0);
    reg(0x070, 0x0f);
    reg(0x030, 0);
    reg(0x038, size);
    reg(0x080, desc & 0xffff_ffff);
    reg(0x084, desc >> 32);
    reg(0x090, avail & 0xffff_ffff);
    reg(0x094, avail >> 32);
    reg(0x0a0, used & 0xffff_ffff);
    reg(0x0a4, used >> 32);
    reg(0x044, 1);
    let mut g = SpaceBytes::new(&mut m.mem, m.space);
    // Descriptors: mostly into RAM, some anywhere; random flags and links.
    let entries = size.min(16);
    let mut writes = Vec::new();
    let mut total_len = 0u64;
    for i in 0..entries {
        let at = desc.wrapping_add(16 * i);
        if !hostile {
            // Requests of three buffers (header, data, status) for blk, one
            // writable buffer for rng, all in RAM past the rings.
            let buf = RAM + 0x4000 + i * 0x1000;
            let (addr, len, flags, next) = match (blk, i % 3) {
                (false, _) => (buf, r.below(4096) as u32 + 1, 2, 0),
                (true, 0) => (buf, 16, 1, i + 1),
                (true, 1) => (
                    buf + 16,
                    512 * (r.below(4) as u32 + 1),
                    1 | (r.below(2) as u16) << 1,
                    i + 1,
                ),
                (true, _) => (buf + 0xff0, 1, 2, 0),
            };
            let _ = g.write_u64(at, addr);
            let _ = g.write_u32(at + 8, len);
            let _ = g.write_u16(at + 12, flags);
            let _ = g.write_u16(at + 14, next.min(entries.saturating_sub(1)) as u16);
            total_len = total_len.saturating_add(u64::from(len));
            if blk && i % 3 == 0 {
                let kind = r.pick(&[0u32, 1, 4, 8]);
                let sector = r.below((DISK_SIZE / 512) as u64 + 4);
                let _ = g.write_u32(addr, kind);
                let _ = g.write_u64(addr + 8, sector);
                if kind == 1 {
                    writes.push(sector * 512);
                }
            }
            continue;
        }
        let addr = if r.below(4) == 0 {
            place(r, base)
        } else {
            RAM + r.below(RAM_SIZE)
        };
        let len = match r.below(6) {
            0 => r.next() as u32,
            1 => 0,
            _ => r.below(4096) as u32 + 1,
        };
        let flags = r.below(8) as u16;
        let next = if r.below(3) == 0 {
            r.next() as u16
        } else {
            r.below(entries) as u16
        };
        total_len = total_len.saturating_add(u64::from(len));
        let _ = g.write_u64(at, addr);
        let _ = g.write_u32(at.wrapping_add(8), len);
        let _ = g.write_u16(at.wrapping_add(12), flags);
        let _ = g.write_u16(at.wrapping_add(14), next);
        if blk && len >= 16 && addr >= RAM && addr.saturating_add(16) <= RAM + RAM_SIZE {
            // Make some readable buffers look like request headers.
            let odd = r.next() as u32;
            let kind = r.pick(&[0u32, 1, 4, 8, odd]);
            let sector = match r.below(3) {
                0 => r.next(),
                _ => r.below((DISK_SIZE / 512) as u64 + 4),
            };
            let _ = g.write_u32(addr, kind);
            let _ = g.write_u64(addr + 8, sector);
            if kind == 1 {
                writes.push(sector.saturating_mul(512));
            }
        }
    }
    // A write request names at most its chain's buffers from its sector
    // on, and a chain is made of this round's descriptors.
    for start in writes {
        named.push((start, start.saturating_add(total_len)));
    }
    for i in 0..entries {
        let head = if hostile {
            r.below(entries + 2)
        } else if blk {
            (i * 3) % entries
        } else {
            i
        };
        let _ = g.write_u16(avail.wrapping_add(4 + 2 * i), head as u16);
    }
    let idx = match (hostile, r.below(4)) {
        (true, 0) => r.next() as u16,
        (true, _) => r.below(entries + 1) as u16,
        (false, _) => (if blk { entries / 3 } else { entries }).max(1) as u16,
    };
    let _ = g.write_u16(avail.wrapping_add(2), idx);
    reg(0x050, 0);
    // Serve until the device says it has nothing left; one kick must not
    // take more than a few rounds.
    let mut services = 0;
    while dev.needs_processing() {
        dev.process(&mut SpaceBytes::new(&mut m.mem, m.space));
        services += 1;
        assert!(services < 64, "one kick kept the device busy for ever");
    }
    // Whether the device used a buffer (the fuzz must reach real work).
    let served = SpaceBytes::new(&mut m.mem, m.space)
        .read_u16(used.wrapping_add(2))
        .is_ok_and(|i| i != 0)
        && status(&dev) & 0x40 == 0;
    // Random register traffic of every width and offset.
    for _ in 0..8 {
        let offset = r.below(VirtioMmio::REGION_SIZE);
        let width = r.pick(&[1u32, 2, 4, 8]);
        let value = r.next();
        let _ = dev.write(offset & !u64::from(width - 1), value, width, a);
        let _ = dev.read(r.below(VirtioMmio::REGION_SIZE) & !3, 4, a);
    }
    // Either the device works or it asks for a reset; it never wedges the
    // transport.
    let _ = status(&dev);
    served
}

#[test]
fn hostile_queues_never_crash_hang_or_corrupt() {
    let rounds: u64 = std::env::var("FERRITE_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let before = resident_bytes();
    for seed in [0x9e37_79b9_7f4a_7c15u64, 0x1234_5678_9abc_def1, 42] {
        let mut m = machine();
        let original = m.disk.0.borrow().clone();
        let mut r = Rng(seed);
        let mut named = Vec::new();
        let mut served = 0;
        for i in 0..rounds {
            // Used rings start clean, so a non-zero index is this round's.
            let zero = vec![0u8; RAM_SIZE as usize];
            m.mem
                .write(
                    m.space,
                    ferrite_memory::GuestAddress(RAM),
                    &zero,
                    MemTxAttrs::default(),
                )
                .unwrap();
            served += u64::from(round(&mut m, &mut r, i % 3 != 2, &mut named));
        }
        assert!(
            served * 20 >= rounds,
            "seed {seed:#x}: only {served} of {rounds} rounds reached a device's work"
        );
        let disk = m.disk.0.borrow();
        for (offset, (now, was)) in disk.iter().zip(&original).enumerate() {
            let offset = offset as u64;
            let named_here = named.iter().any(|&(s, e)| s <= offset && offset < e);
            assert!(
                now == was || named_here,
                "seed {seed:#x}: disk byte {offset:#x} changed outside every write request"
            );
        }
    }
    let growth = resident_bytes().saturating_sub(before);
    assert!(
        growth < 256 << 20,
        "host memory grew by {growth} bytes over the fuzz"
    );
}
