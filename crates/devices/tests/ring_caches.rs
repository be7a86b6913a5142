//! Virtqueue rings through region caches stay right when the memory map
//! changes under them: after the RAM holding the rings is replaced by other
//! RAM at the same address, the device reads the new rings (a stale cache
//! would keep reading the old host memory, which stays allocated).

use std::rc::Rc;

use ferrite_devices::IrqLevels;
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::rng::VirtioRng;
use ferrite_memory::{GuestBytes, MemTxAttrs, MemorySystem, RegionOps, RegionSize, SpaceBytes};

const RAM: u64 = 0x8000_0000;
const DESC: u64 = RAM + 0x1000;
const AVAIL: u64 = RAM + 0x2000;
const USED: u64 = RAM + 0x3000;
const BUF: u64 = RAM + 0x4000;

/// Rings of 4 entries with descriptor 0 a 16-byte writable buffer, and
/// `published` chains (all head 0) on the available ring.
fn rings(b: &mut dyn GuestBytes, published: u16) {
    b.write_u64(DESC, BUF).unwrap();
    b.write_u32(DESC + 8, 16).unwrap();
    b.write_u16(DESC + 12, 2).unwrap();
    for i in 0..published {
        b.write_u16(AVAIL + 4 + 2 * u64::from(i % 4), 0).unwrap();
    }
    b.write_u16(AVAIL + 2, published).unwrap();
}

#[test]
fn a_remapped_ring_is_read_afresh() {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let first = mem.new_ram("first", 0x1_0000).unwrap();
    let second = mem.new_ram("second", 0x1_0000).unwrap();
    mem.add_subregion(root, RAM, first).unwrap();
    let space = mem.new_address_space("memory", root);
    let irqs = IrqLevels::new();
    let t = Rc::new(VirtioMmio::new(Box::new(VirtioRng::new(1)), irqs.line(0)));
    let reg = |offset: u64, value: u32| {
        t.write(offset, u64::from(value), 4, MemTxAttrs::default())
            .unwrap();
    };
    reg(0x070, 1 | 2);
    reg(0x024, 1);
    reg(0x020, 1);
    reg(0x070, 1 | 2 | 8);
    reg(0x038, 4);
    reg(0x080, DESC as u32);
    reg(0x090, AVAIL as u32);
    reg(0x0a0, USED as u32);
    reg(0x044, 1);
    reg(0x070, 1 | 2 | 8 | 4);
    rings(&mut SpaceBytes::new(&mut mem, space), 1);
    reg(0x050, 0);
    t.process(&mut SpaceBytes::new(&mut mem, space));
    assert_eq!(SpaceBytes::new(&mut mem, space).read_u16(USED + 2), Ok(1));

    // The same addresses, other RAM: two chains published there, its used
    // ring at index 1 as the device left the first one's.
    mem.write_ram_region(second, 0x3002, &1u16.to_le_bytes())
        .unwrap();
    mem.begin();
    mem.del_subregion(root, first).unwrap();
    mem.add_subregion(root, RAM, second).unwrap();
    mem.commit();
    rings(&mut SpaceBytes::new(&mut mem, space), 2);
    reg(0x050, 0);
    t.process(&mut SpaceBytes::new(&mut mem, space));
    let mut b = SpaceBytes::new(&mut mem, space);
    assert_eq!(b.read_u16(USED + 2), Ok(2), "the new ring's chain served");
    assert_eq!(b.read_u32(USED + 4 + 8), Ok(0), "used entry 1: head 0");
    assert_eq!(b.read_u32(USED + 4 + 8 + 4), Ok(16), "16 bytes written");
    let mut old = [0u8; 2];
    mem.read_ram_region(first, 0x3002, &mut old).unwrap();
    assert_eq!(u16::from_le_bytes(old), 1, "the old RAM is left alone");
}
