//! virtio-blk through a real memory system: a driver posts 64 read
//! requests per kick (header, data buffer, status byte: three descriptors
//! each) and the transport serves them. `cached` is the transport as the
//! machine runs it (the rings through region caches); `uncached` hides the
//! memory system behind plain guest bytes, so every ring access takes the
//! address-space lookup (the path before region caches). Data buffers go
//! through the ordinary path in both.
//!
//! `cargo bench -p ferrite-devices --bench virtqueue`

use std::rc::Rc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrite_devices::IrqLevels;
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::block::{MemDisk, VirtioBlock};
use ferrite_memory::{
    AddressSpaceId, GuestBytes, GuestBytesError, MemTxAttrs, MemorySystem, RegionOps, RegionSize,
    SpaceBytes,
};

const RAM: u64 = 0x8000_0000;
const DESC: u64 = RAM + 0x1_0000;
const AVAIL: u64 = RAM + 0x2_0000;
const USED: u64 = RAM + 0x3_0000;
const HEADERS: u64 = RAM + 0x4_0000;
const STATUS: u64 = RAM + 0x5_0000;
const DATA: u64 = RAM + 0x10_0000;
const QSIZE: u16 = 256;
const CHAINS: u16 = 64;

/// Guest bytes without the memory system behind them.
struct Plain<'a>(SpaceBytes<'a>);

impl GuestBytes for Plain<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), GuestBytesError> {
        self.0.read(addr, buf)
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), GuestBytesError> {
        self.0.write(addr, data)
    }
}

struct Rig {
    mem: MemorySystem,
    space: AddressSpaceId,
    transport: Rc<VirtioMmio>,
    avail: u16,
}

impl Rig {
    fn new(block: u32) -> Rig {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram("ram", 16 << 20).unwrap();
        mem.add_subregion(root, RAM, ram).unwrap();
        let space = mem.new_address_space("memory", root);
        let disk = MemDisk::new(vec![0x5a; 64 << 20]);
        let device = VirtioBlock::new(Box::new(disk), "bench");
        let irqs = IrqLevels::new();
        let transport = Rc::new(VirtioMmio::new(Box::new(device), irqs.line(1)));
        let reg = |offset: u64, value: u32| {
            transport
                .write(offset, u64::from(value), 4, MemTxAttrs::default())
                .unwrap();
        };
        reg(0x070, 0);
        reg(0x070, 1 | 2);
        reg(0x024, 1);
        reg(0x020, 1);
        reg(0x070, 1 | 2 | 8);
        reg(0x030, 0);
        reg(0x038, u32::from(QSIZE));
        reg(0x080, DESC as u32);
        reg(0x090, AVAIL as u32);
        reg(0x0a0, USED as u32);
        reg(0x044, 1);
        reg(0x070, 1 | 2 | 8 | 4);
        let mut b = SpaceBytes::new(&mut mem, space);
        for c in 0..u64::from(CHAINS) {
            let d = DESC + 48 * c;
            let header = HEADERS + 16 * c;
            b.write_u32(header, 0).unwrap(); // VIRTIO_BLK_T_IN
            b.write_u64(header + 8, c * u64::from(block) / 512).unwrap();
            let descs = [
                (header, 16, 1u16, 3 * c as u16 + 1),
                (DATA + c * u64::from(block), block, 1 | 2, 3 * c as u16 + 2),
                (STATUS + c, 1, 2, 0),
            ];
            for (i, (addr, len, flags, next)) in descs.into_iter().enumerate() {
                let at = d + 16 * i as u64;
                b.write_u64(at, addr).unwrap();
                b.write_u32(at + 8, len).unwrap();
                b.write_u16(at + 12, flags).unwrap();
                b.write_u16(at + 14, next).unwrap();
            }
        }
        Rig {
            mem,
            space,
            transport,
            avail: 0,
        }
    }

    /// Publishes the 64 chains again and serves them.
    fn round(&mut self, cached: bool) {
        let mut b = SpaceBytes::new(&mut self.mem, self.space);
        for c in 0..CHAINS {
            let slot = u64::from(self.avail.wrapping_add(c) % QSIZE);
            b.write_u16(AVAIL + 4 + 2 * slot, 3 * c).unwrap();
        }
        self.avail = self.avail.wrapping_add(CHAINS);
        b.write_u16(AVAIL + 2, self.avail).unwrap();
        self.transport
            .write(0x050, 0, 4, MemTxAttrs::default())
            .unwrap();
        let bytes = SpaceBytes::new(&mut self.mem, self.space);
        if cached {
            let mut bytes = bytes;
            self.transport.process(&mut bytes);
        } else {
            self.transport.process(&mut Plain(bytes));
        }
        let used = SpaceBytes::new(&mut self.mem, self.space)
            .read_u16(USED + 2)
            .unwrap();
        assert_eq!(used, self.avail, "every request served");
    }
}

fn virtqueue(c: &mut Criterion) {
    for block in [512u32, 4096] {
        let mut g = c.benchmark_group(format!("virtio_blk_read_{block}"));
        g.throughput(Throughput::Bytes(u64::from(CHAINS) * u64::from(block)));
        for (name, cached) in [("cached", true), ("uncached", false)] {
            let mut rig = Rig::new(block);
            g.bench_function(name, |b| b.iter(|| rig.round(cached)));
        }
        g.finish();
    }
}

criterion_group!(benches, virtqueue);
criterion_main!(benches);
