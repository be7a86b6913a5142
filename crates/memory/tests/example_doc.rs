//! The worked example of docs/memory.md, kept true by a test.

use std::rc::Rc;

use ferrite_memory::*;

struct Uart;
impl RegionOps for Uart {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
}

#[test]
fn worked_example() {
    let mut m = MemorySystem::new();
    let system = m.new_container("system", RegionSize::Max);
    let rom = m.new_rom("boot-rom", 0x1000).unwrap();
    let ram = m.new_ram("dram", 0x1000_0000).unwrap();
    let uart = m.new_io("uart", 0x100, Rc::new(Uart));
    let mirror = m.new_alias("dram-mirror", ram, 0x2000, 0x2000).unwrap();
    m.add_subregion(system, 0x1000, rom).unwrap();
    m.add_subregion(system, 0x8000_0000, ram).unwrap();
    m.add_subregion_overlap(system, 0x8000_0800, uart, 1)
        .unwrap();
    m.add_subregion(system, 0x4000_0000, mirror).unwrap();
    let space = m.new_address_space("memory", system);
    let tree = m.mtree(MtreeOptions::default());
    let flat = m.mtree(MtreeOptions {
        flatview: true,
        dispatch: true,
        ..Default::default()
    });
    println!("{tree}\n{flat}");
    assert!(tree.contains("    0000000040000000-0000000040001fff (prio 0, ram): alias dram-mirror @dram 0000000000002000-0000000000003fff"));
    assert!(
        flat.contains("  0000000080000900-000000008fffffff (prio 0, ram): dram @0000000000000900")
    );
    let t = m.lookup_section(space, GuestAddress(0x8000_0904));
    assert_eq!(
        (t.region, t.offset_in_region, t.len),
        (ram, 0x904, 0x1000_0000 - 0x904)
    );
    let t = m.lookup_section(space, GuestAddress(0x4000_0010));
    assert_eq!((t.region, t.offset_in_region, t.len), (ram, 0x2010, 0x1ff0));
}
