//! Access API: RAM, ROM, MMIO, unassigned, dirty marking and the code-write hook.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::*;

struct Regs {
    log: RefCell<Vec<(char, u64, u64, u32)>>,
}

impl RegionOps for Regs {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        self.log.borrow_mut().push(('r', offset, 0, size));
        Ok(0x1122_3344_5566_7788u64.rotate_left(offset as u32 * 8))
    }
    fn write(&self, offset: u64, value: u64, size: u32, _: MemTxAttrs) -> MemTxResult<()> {
        self.log.borrow_mut().push(('w', offset, value, size));
        Ok(())
    }
}

fn board() -> (MemorySystem, AddressSpaceId, RegionId, RegionId, Rc<Regs>) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 0x1000_0000).unwrap();
    let rom = m.new_rom("rom", 0x1000).unwrap();
    let regs = Rc::new(Regs {
        log: RefCell::new(Vec::new()),
    });
    let io = m.new_io("uart", 0x100, regs.clone());
    m.add_subregion(root, 0x8000_0000, ram).unwrap();
    m.add_subregion(root, 0x1000, rom).unwrap();
    m.add_subregion(root, 0x1000_0000, io).unwrap();
    let space = m.new_address_space("memory", root);
    (m, space, ram, rom, regs)
}

#[test]
fn ram_round_trips_and_translate_points_at_host_memory() {
    let (mut m, s, ram, _, _) = board();
    let a = MemTxAttrs::default();
    m.write(s, GuestAddress(0x8000_0010), &[1, 2, 3, 4], a)
        .unwrap();
    let mut buf = [0u8; 4];
    m.read(s, GuestAddress(0x8000_0010), &mut buf, a).unwrap();
    assert_eq!(buf, [1, 2, 3, 4]);
    assert_eq!(
        m.load(s, GuestAddress(0x8000_0010), 4, Endianness::Little, a),
        Ok(0x0403_0201)
    );
    assert_eq!(
        m.load(s, GuestAddress(0x8000_0010), 4, Endianness::Big, a),
        Ok(0x0102_0304)
    );
    m.store(
        s,
        GuestAddress(0x8000_0020),
        8,
        0x0102_0304_0506_0708,
        Endianness::Big,
        a,
    )
    .unwrap();
    assert_eq!(
        m.load(s, GuestAddress(0x8000_0020), 1, Endianness::Little, a),
        Ok(1)
    );
    let t = m.lookup_section(s, GuestAddress(0x8000_0010));
    assert_eq!(t.region, ram);
    assert_eq!(t.offset_in_region, 0x10);
    assert_eq!(t.len, 0x1000_0000 - 0x10);
    match t.kind {
        SectionKind::Ram { host, readonly, .. } => {
            assert!(!readonly);
            // SAFETY: translate promises `len` valid bytes at `host`.
            assert_eq!(unsafe { *host }, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unassigned_is_a_decode_error_and_rom_ignores_plain_writes() {
    let (mut m, s, _, _, _) = board();
    let a = MemTxAttrs::default();
    assert_eq!(
        m.load(s, GuestAddress(0x4000_0000), 4, Endianness::Little, a),
        Err(MemTxError::Decode)
    );
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x4000_0000)).kind,
        SectionKind::Unassigned
    );
    m.write(s, GuestAddress(0x1000), &[9], a).unwrap();
    assert_eq!(
        m.load(s, GuestAddress(0x1000), 1, Endianness::Little, a),
        Ok(0)
    );
    m.write_rom(s, GuestAddress(0x1000), &[9]).unwrap();
    assert_eq!(
        m.load(s, GuestAddress(0x1000), 1, Endianness::Little, a),
        Ok(9)
    );
    // A read crossing from RAM's end into nothing fails.
    let mut buf = [0u8; 8];
    assert_eq!(
        m.read(s, GuestAddress(0x8fff_fffc), &mut buf, a),
        Err(MemTxError::Decode)
    );
}

#[test]
fn mmio_gets_offsets_and_default_split() {
    let (mut m, s, _, _, regs) = board();
    let a = MemTxAttrs::default();
    m.store(
        s,
        GuestAddress(0x1000_0008),
        8,
        0xaabb_ccdd_1122_3344,
        Endianness::Little,
        a,
    )
    .unwrap();
    // Default impl max is 4: two 4-byte writes, low half first.
    assert_eq!(
        *regs.log.borrow(),
        vec![('w', 8, 0x1122_3344, 4), ('w', 12, 0xaabb_ccdd, 4)]
    );
}

#[test]
fn writes_call_the_code_hook_only_for_clean_code_pages() {
    let (mut m, s, ram, _, _) = board();
    let hits = Rc::new(RefCell::new(Vec::new()));
    let h = hits.clone();
    m.set_code_write_hook(Box::new(move |r, l| h.borrow_mut().push((r, l))));
    let base = m.ram_addr_of(ram).unwrap();
    m.write(s, GuestAddress(0x8000_0000), &[1], MemTxAttrs::default())
        .unwrap();
    assert!(hits.borrow().is_empty(), "new RAM is dirty for CODE");
    m.ram_reset_dirty(RamAddr(base.0 + PAGE_SIZE), PAGE_SIZE, DirtyClient::Code);
    assert!(!m.ram_dirty(RamAddr(base.0 + PAGE_SIZE), DirtyClient::Code));
    m.write(s, GuestAddress(0x8000_1004), &[1, 2], MemTxAttrs::default())
        .unwrap();
    assert_eq!(*hits.borrow(), vec![(RamAddr(base.0 + PAGE_SIZE + 4), 2)]);
    assert!(m.ram_dirty(RamAddr(base.0 + PAGE_SIZE), DirtyClient::Code));
    assert!(m.ram_all_clients_dirty(RamAddr(base.0 + PAGE_SIZE)));
}

#[test]
fn region_cache_follows_topology_changes() {
    let (mut m, s, ram, _, regs) = board();
    let a = MemTxAttrs::default();
    let mut c = m.region_cache_init(s, GuestAddress(0x8000_1000), 64);
    assert!(c.is_direct());
    m.region_cache_write(&mut c, 8, &[1, 2, 3], a).unwrap();
    assert_eq!(
        m.load(s, GuestAddress(0x8000_1008), 2, Endianness::Little, a),
        Ok(0x0201)
    );
    let mut buf = [0u8; 3];
    m.region_cache_read(&mut c, 8, &mut buf, a).unwrap();
    assert_eq!(buf, [1, 2, 3]);
    assert_eq!(
        m.region_cache_read(&mut c, 62, &mut buf, a),
        Err(MemTxError::Decode)
    );
    // Replace the RAM with other RAM: the cache sees the new memory.
    let root = m.region_parent(ram).unwrap().unwrap();
    m.del_subregion(root, ram).unwrap();
    let other = m.new_ram("other", 0x10_0000).unwrap();
    m.add_subregion(root, 0x8000_0000, other).unwrap();
    m.region_cache_read(&mut c, 8, &mut buf, a).unwrap();
    assert_eq!(buf, [0, 0, 0]);
    // A cache over MMIO takes the ordinary path.
    let mut io = m.region_cache_init(s, GuestAddress(0x1000_0000), 8);
    assert!(!io.is_direct());
    m.region_cache_write(&mut io, 0, &[7], a).unwrap();
    assert_eq!(regs.log.borrow().last(), Some(&('w', 0, 7, 1)));
}
