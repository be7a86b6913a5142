//! The CPU is a memory listener of its address space: a commit that changes
//! the view reaches the TLB before the next instruction; one that changes
//! nothing costs nothing.

use super::asm::*;
use super::*;
use crate::privilege::Exception;

/// Where the test maps its windows: outside RAM and the logged I/O.
const WINDOW: u64 = 0x4000_0000;

/// A RAM region of one page whose first word is `v`, not yet mapped.
fn page_holding(rig: &mut Rig, name: &str, v: u64) -> ferrite_memory::RegionId {
    let r = rig.mem.new_ram(name, 0x1000).unwrap();
    let host = rig.mem.ram_host_ptr(r).unwrap();
    // SAFETY: the region is one page of RAM that nothing else references yet.
    unsafe { host.cast::<u64>().write_unaligned(v) };
    r
}

#[test]
fn a_commit_that_remaps_a_page_reaches_the_tlb_before_the_next_instruction() {
    let mut rig = Rig::new();
    let root = rig.mem.address_space_root(rig.space()).unwrap();
    let a = page_holding(&mut rig, "a", 0x1111);
    let b = page_holding(&mut rig, "b", 0x2222);
    rig.mem.add_subregion(root, WINDOW, a).unwrap();
    // ld x10, 0(x1); spin
    rig.program(&[load(3, 10, 1, 0), SPIN]);
    rig.cpu.set_xreg(1, WINDOW);
    rig.run(2);
    assert_eq!(rig.x(10), 0x1111);
    let flushes = rig.cpu.stats().tlb_flushes;

    // Map `b` over `a`: the TLB still holds `a`'s page until the commit's
    // notification is applied, which happens before the hart runs again.
    rig.mem.add_subregion_overlap(root, WINDOW, b, 1).unwrap();
    rig.cpu.set_pc(RAM);
    rig.run(2);
    assert_eq!(rig.x(10), 0x2222, "the load went through a stale TLB slot");
    assert!(rig.cpu.stats().tlb_flushes > flushes);

    // Unmapping makes the window unassigned: the load faults now.
    rig.mem.del_subregion(root, b).unwrap();
    rig.mem.del_subregion(root, a).unwrap();
    rig.cpu.set_pc(RAM);
    rig.run(1);
    assert_eq!(rig.cpu.pc(), HANDLER);
    assert_eq!(
        rig.csr(crate::csr::addr::MCAUSE),
        Exception::LoadAccessFault.code()
    );
}

#[test]
fn a_commit_that_changes_no_range_does_not_flush() {
    let mut rig = Rig::new();
    let root = rig.mem.address_space_root(rig.space()).unwrap();
    rig.program(&[load(3, 10, 1, 0), SPIN]);
    rig.cpu.set_xreg(1, RAM + 0x1000);
    rig.run(2);
    let flushes = rig.cpu.stats().tlb_flushes;
    // A region added and removed in one transaction: the view is rendered
    // again but no range changes.
    let c = page_holding(&mut rig, "c", 0);
    rig.mem.begin();
    rig.mem.add_subregion(root, WINDOW, c).unwrap();
    rig.mem.del_subregion(root, c).unwrap();
    rig.mem.commit();
    rig.cpu.set_pc(RAM);
    rig.run(2);
    assert_eq!(rig.cpu.stats().tlb_flushes, flushes);
}

#[test]
fn every_hart_space_sharing_the_root_hears_the_commit() {
    let mut rig = Rig::new();
    let root = rig.mem.address_space_root(rig.space()).unwrap();
    let space1 = rig.mem.new_address_space("cpu-memory-1", root);
    let mut other = new_cpu(
        CpuConfig {
            hart_id: 1,
            ..CpuConfig::default()
        },
        &mut rig.mem,
        space1,
        rig.clock.clone(),
    );
    other.reset(RAM);
    other.set_xreg(1, WINDOW);
    let a = page_holding(&mut rig, "a", 0x1111);
    let b = page_holding(&mut rig, "b", 0x2222);
    rig.mem.add_subregion(root, WINDOW, a).unwrap();
    rig.program(&[load(3, 10, 1, 0), SPIN]);
    other.run(&mut rig.mem, 2);
    assert_eq!(other.xreg(10), 0x1111);
    rig.mem.add_subregion_overlap(root, WINDOW, b, 1).unwrap();
    other.set_pc(RAM);
    other.run(&mut rig.mem, 2);
    assert_eq!(other.xreg(10), 0x2222);
}
