//! Golden `mtree`, `mtree -f` and `mtree -f -d` outputs.

use std::rc::Rc;

use ferrite_memory::*;

struct Nop;
impl RegionOps for Nop {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
}

fn board() -> MemorySystem {
    let mut m = MemorySystem::new();
    let system = m.new_container("system", RegionSize::Max);
    let mrom = m.new_rom("riscv.mrom", 0xf000).unwrap();
    let uart = m.new_io("serial", 0x100, Rc::new(Nop));
    let ram = m.new_ram("ram", 0x800_0000).unwrap();
    let hole = m.new_container("hole", RegionSize::Bytes(0x2000));
    let clint = m.new_io("clint", 0x10, Rc::new(Nop));
    m.add_subregion(hole, 0x1000, clint).unwrap();
    let lowmem = m.new_alias("ram-low", ram, 0x10_0000, 0x1_0000).unwrap();
    m.add_subregion(system, 0x1000, mrom).unwrap();
    m.add_subregion(system, 0x1000_0000, uart).unwrap();
    m.add_subregion(system, 0x8000_0000, ram).unwrap();
    m.add_subregion_overlap(system, 0x8000_0000, hole, 1)
        .unwrap();
    m.add_subregion(system, 0x2000_0000, lowmem).unwrap();
    let flash = m.new_rom("flash", 0x4000).unwrap();
    let flash_win = m.new_alias("flash-win", flash, 0x1000, 0x1000).unwrap();
    m.add_subregion(system, 0x4000_0000, flash_win).unwrap();
    let off = m.new_ram("disabled-ram", 0x1000).unwrap();
    m.add_subregion(system, 0x3000_0000, off).unwrap();
    m.set_enabled(off, false);
    m.new_address_space("memory", system);
    m.new_address_space("cpu-memory-0", system);
    let io = m.new_container("io", RegionSize::Bytes(0x1_0000));
    m.new_address_space("I/O", io);
    m
}

/// As QEMU's `info mtree`: spaces sharing a root listed by name, disabled
/// regions left out, then every alias target (mapped or not) in the order
/// the walk met it, each from its own address.
#[test]
fn golden_tree() {
    let m = board();
    let got = m.mtree(MtreeOptions::default());
    let want = "\
address-space: cpu-memory-0
address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, i/o): system
    0000000000001000-000000000000ffff (prio 0, rom): riscv.mrom
    0000000010000000-00000000100000ff (prio 0, i/o): serial
    0000000020000000-000000002000ffff (prio 0, ram): alias ram-low @ram 0000000000100000-000000000010ffff
    0000000040000000-0000000040000fff (prio 0, rom): alias flash-win @flash 0000000000001000-0000000000001fff
    0000000080000000-0000000080001fff (prio 1, i/o): hole
      0000000080001000-000000008000100f (prio 0, i/o): clint
    0000000080000000-0000000087ffffff (prio 0, ram): ram

address-space: I/O
  0000000000000000-000000000000ffff (prio 0, i/o): io

memory-region: ram
  0000000080000000-0000000087ffffff (prio 0, ram): ram

memory-region: flash
  0000000000000000-0000000000003fff (prio 0, rom): flash

";
    assert_eq!(got, want, "\n{got}");
    // -D: the disabled region too, marked.
    let got = m.mtree(MtreeOptions {
        disabled: true,
        ..MtreeOptions::default()
    });
    assert!(
        got.contains(
            "    0000000030000000-0000000030000fff (prio 0, ram): disabled-ram [disabled]\n    0000000040000000"
        ),
        "\n{got}"
    );
}

#[test]
fn golden_flat_views() {
    let m = board();
    let got = m.mtree(MtreeOptions {
        flatview: true,
        ..MtreeOptions::default()
    });
    let want = "\
FlatView #0
 AS \"memory\", root: system
 AS \"cpu-memory-0\", root: system
 Root memory region: system
  0000000000001000-000000000000ffff (prio 0, rom): riscv.mrom
  0000000010000000-00000000100000ff (prio 0, i/o): serial
  0000000020000000-000000002000ffff (prio 0, ram): ram @0000000000100000
  0000000040000000-0000000040000fff (prio 0, rom): flash @0000000000001000
  0000000080000000-0000000080000fff (prio 0, ram): ram
  0000000080001000-000000008000100f (prio 0, i/o): clint
  0000000080001010-0000000087ffffff (prio 0, ram): ram @0000000000001010

FlatView #1
 AS \"I/O\", root: io
 Root memory region: io
  No rendered FlatView

";
    assert_eq!(got, want, "\n{got}");
}

#[test]
fn golden_dispatch() {
    let mut m = MemorySystem::new();
    let system = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 0x2000).unwrap();
    let uart = m.new_io("uart", 0x8, Rc::new(Nop));
    m.add_subregion(system, 0x8000_0000, ram).unwrap();
    m.add_subregion_overlap(system, 0x8000_0100, uart, 1)
        .unwrap();
    m.new_address_space("memory", system);
    let got = m.mtree(MtreeOptions {
        flatview: true,
        dispatch: true,
        ..MtreeOptions::default()
    });
    let want = "\
FlatView #0
 AS \"memory\", root: system
 Root memory region: system
  0000000080000000-00000000800000ff (prio 0, ram): ram
  0000000080000100-0000000080000107 (prio 1, i/o): uart
  0000000080000108-0000000080001fff (prio 0, ram): ram @0000000000000108
  Dispatch
    Physical sections
      #0 @0000000000000000..000000007fffffff (noname) [unassigned]
      #1 @0000000080000000..00000000800000ff ram [ram]
      #2 @0000000080000100..0000000080000107 uart [i/o]
      #3 @0000000080000108..0000000080001fff ram [ram]
      #4 @0000000080002000..ffffffffffffffff (noname) [unassigned]
    Nodes (9 bits per level, 6 levels): 6 nodes, 1 subpages
      lookups start at node 3 (level 3) when the top 25 bits of the page number are 0x0, else section 4
      [0] 0          node 1
      [0] 1..127     section 4
      lookup 0000000080000000 (range 0): node 4 -> node 5 -> subpage 0
      lookup 0000000080000100 (range 1): node 4 -> node 5 -> subpage 0
      lookup 0000000080000108 (range 2): node 4 -> node 5 -> subpage 0
      subpage 0: sections #1 #2 #3

";
    assert_eq!(got, want, "\n{got}");
}
