//! Tree operations: errors instead of panics, priorities and holes, the top of
//! the 64-bit space, and window bounds.

use std::rc::Rc;

use ferrite_memory::*;

struct Nop;
impl RegionOps for Nop {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0x5a)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
}

#[test]
fn bad_trees_are_errors() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let c = m.new_container("c", RegionSize::Bytes(0x1000));
    let ram = m.new_ram("ram", 0x2000).unwrap();
    m.add_subregion(root, 0, ram).unwrap();
    assert!(matches!(
        m.add_subregion(c, 0, ram),
        Err(MemoryError::AlreadyMapped { .. })
    ));
    assert!(matches!(
        m.new_alias("a", ram, 0x1000, 0x1001),
        Err(MemoryError::AliasOutOfBounds { .. })
    ));
    assert!(matches!(
        m.new_ram("zero", 0),
        Err(MemoryError::InvalidSize { .. })
    ));
    let small = m.new_ram("small", 0x800).unwrap();
    assert!(matches!(
        m.add_subregion(c, 0x900, small),
        Err(MemoryError::OutOfContainer { .. })
    ));
    m.add_subregion(c, 0x800, small).unwrap();
    // A container aliased into itself is a cycle, as is a container inside itself.
    let loop_alias = m.new_alias("loop", c, 0, 0x100).unwrap();
    assert!(matches!(
        m.add_subregion(c, 0, loop_alias),
        Err(MemoryError::Cycle { .. })
    ));
    let inner = m.new_container("inner", RegionSize::Bytes(0x100));
    m.add_subregion(c, 0, inner).unwrap();
    let alias_of_alias = m.new_alias("aa", loop_alias, 0, 0x10).unwrap();
    assert!(matches!(
        m.add_subregion(inner, 0, alias_of_alias),
        Err(MemoryError::Cycle { .. })
    ));
    assert!(matches!(
        m.add_subregion(c, 0, c),
        Err(MemoryError::Cycle { .. })
    ));
    assert!(matches!(
        m.del_subregion(root, small),
        Err(MemoryError::NotASubregion { .. })
    ));
    assert!(matches!(
        m.set_alias_offset(ram, 0),
        Err(MemoryError::WrongKind { .. })
    ));
    // Errors left the tree as it was.
    assert_eq!(m.region_parent(small).unwrap(), Some(c));
    assert_eq!(m.region_parent(alias_of_alias).unwrap(), None);
}

#[test]
fn a_region_ending_at_the_top_of_the_space() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let top = m.new_ram("top", 0x2000).unwrap();
    m.add_subregion(root, u64::MAX - 0x1fff, top).unwrap();
    let io = m.new_io("io", 0x10, Rc::new(Nop));
    m.add_subregion(root, 0, io).unwrap();
    let s = m.new_address_space("memory", root);
    let t = m.lookup_section(s, GuestAddress(u64::MAX));
    assert_eq!((t.region, t.offset_in_region, t.len), (top, 0x1fff, 1));
    let t = m.lookup_section(s, GuestAddress(u64::MAX - 0x1fff));
    assert_eq!((t.region, t.len), (top, 0x2000));
    assert_eq!(
        m.lookup_section(s, GuestAddress(u64::MAX - 0x2000)).kind,
        SectionKind::Unassigned
    );
    let a = MemTxAttrs::default();
    m.store(
        s,
        GuestAddress(u64::MAX - 7),
        8,
        0x1122_3344_5566_7788,
        Endianness::Little,
        a,
    )
    .unwrap();
    assert_eq!(
        m.load(s, GuestAddress(u64::MAX - 7), 8, Endianness::Little, a),
        Ok(0x1122_3344_5566_7788)
    );
    // Running off the top is a decode error, not a wrap to zero.
    let mut buf = [0u8; 2];
    assert_eq!(
        m.read(s, GuestAddress(u64::MAX), &mut buf, a),
        Err(MemTxError::Decode)
    );
    let ranges = m.flat_ranges(s);
    assert_eq!(ranges.last().unwrap().last, u64::MAX);
    // Not enough room: one byte past the top.
    let r2 = m.new_ram("r2", 0x1000).unwrap();
    assert!(matches!(
        m.add_subregion(root, u64::MAX - 0xffe, r2),
        Err(MemoryError::OutOfContainer { .. })
    ));
    // A 2^64 container aliased whole into another space.
    let whole = m.new_container("whole", RegionSize::Max);
    let s2 = m.new_address_space("empty", whole);
    assert_eq!(
        m.lookup_section(s2, GuestAddress(0)).kind,
        SectionKind::Unassigned
    );
    assert_eq!(m.lookup_section(s2, GuestAddress(0)).len, u64::MAX);
}

#[test]
fn a_window_of_size_n_does_not_answer_at_base_plus_n() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 0x10_0000).unwrap();
    let win = m.new_alias("win", ram, 0x3000, 0x1234).unwrap();
    m.add_subregion(root, 0x4000_0000, win).unwrap();
    let s = m.new_address_space("memory", root);
    let t = m.lookup_section(s, GuestAddress(0x4000_1233));
    assert_eq!((t.region, t.offset_in_region, t.len), (ram, 0x4233, 1));
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x4000_1234)).kind,
        SectionKind::Unassigned
    );
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x3fff_ffff)).kind,
        SectionKind::Unassigned
    );
}

#[test]
fn priorities_holes_and_later_added_wins() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let low = m.new_ram("low", 0x10000).unwrap();
    let high = m.new_container("high", RegionSize::Bytes(0x10000));
    let dev = m.new_io("dev", 0x1000, Rc::new(Nop));
    m.add_subregion(high, 0x4000, dev).unwrap();
    m.add_subregion_overlap(root, 0, low, 0).unwrap();
    m.add_subregion_overlap(root, 0, high, 1).unwrap();
    let s = m.new_address_space("memory", root);
    // The hole in the higher-priority container shows the RAM below.
    assert_eq!(m.lookup_section(s, GuestAddress(0x3fff)).region, low);
    assert_eq!(m.lookup_section(s, GuestAddress(0x4000)).region, dev);
    assert_eq!(m.lookup_section(s, GuestAddress(0x5000)).region, low);
    // Equal priorities: the later-added wins.
    let a = m.new_ram("a", 0x1000).unwrap();
    let b = m.new_ram("b", 0x1000).unwrap();
    m.add_subregion_overlap(root, 0x10_0000, a, 3).unwrap();
    m.add_subregion_overlap(root, 0x10_0000, b, 3).unwrap();
    assert_eq!(m.lookup_section(s, GuestAddress(0x10_0000)).region, b);
    // Priority is local to a container: a priority-100 child of a priority-0
    // container loses to a priority-1 sibling of that container.
    let c0 = m.new_container("c0", RegionSize::Bytes(0x1000));
    let deep = m.new_ram("deep", 0x1000).unwrap();
    m.add_subregion_overlap(c0, 0, deep, 100).unwrap();
    let top = m.new_ram("top", 0x1000).unwrap();
    m.add_subregion_overlap(root, 0x20_0000, c0, 0).unwrap();
    m.add_subregion_overlap(root, 0x20_0000, top, 1).unwrap();
    assert_eq!(m.lookup_section(s, GuestAddress(0x20_0000)).region, top);
    // Disabling a region shows what it hid; read-only applies through aliases.
    m.set_enabled(top, false);
    assert_eq!(m.lookup_section(s, GuestAddress(0x20_0000)).region, deep);
    m.set_readonly(c0, true);
    assert!(
        m.flat_range_at(s, GuestAddress(0x20_0000))
            .unwrap()
            .readonly
    );
    m.store(
        s,
        GuestAddress(0x20_0000),
        1,
        9,
        Endianness::Little,
        MemTxAttrs::default(),
    )
    .unwrap();
    assert_eq!(
        m.load(
            s,
            GuestAddress(0x20_0000),
            1,
            Endianness::Little,
            MemTxAttrs::default()
        ),
        Ok(0)
    );
}

#[test]
fn sub_page_sections_and_mru() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 0x3000).unwrap();
    let uart = m.new_io("uart", 8, Rc::new(Nop));
    m.add_subregion(root, 0x1000, ram).unwrap();
    m.add_subregion_overlap(root, 0x1100, uart, 1).unwrap();
    let s = m.new_address_space("memory", root);
    let t = m.lookup_section(s, GuestAddress(0x10ff));
    assert_eq!((t.region, t.len), (ram, 1));
    let t = m.lookup_section(s, GuestAddress(0x1102));
    assert_eq!((t.region, t.offset_in_region, t.len), (uart, 2, 6));
    let t = m.lookup_section(s, GuestAddress(0x1108));
    assert_eq!((t.region, t.offset_in_region, t.len), (ram, 0x108, 0x2ef8));
    // Repeated lookups (MRU hits) give the same answers.
    for _ in 0..3 {
        assert_eq!(m.lookup_section(s, GuestAddress(0x1103)).region, uart);
        assert_eq!(m.lookup_section(s, GuestAddress(0x3fff)).region, ram);
    }
    assert_eq!(
        m.load(
            s,
            GuestAddress(0x1100),
            1,
            Endianness::Little,
            MemTxAttrs::default()
        ),
        Ok(0x5a)
    );
}
