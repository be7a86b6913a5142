//! Listener call sequences for every kind of change, and the unmergeable seed example.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::*;

type Log = Rc<RefCell<Vec<String>>>;

struct Recorder {
    name: &'static str,
    priority: i32,
    log: Log,
    names: Rc<RefCell<Vec<(RegionId, String)>>>,
}

impl Recorder {
    fn push(&self, what: String) {
        self.log.borrow_mut().push(format!("{}:{what}", self.name));
    }
    fn sec(&self, s: &MemoryRegionSection) -> String {
        let name = self
            .names
            .borrow()
            .iter()
            .find(|(r, _)| *r == s.region)
            .map_or_else(|| format!("{:?}", s.region), |x| x.1.clone());
        let last = s.offset_within_address_space.0 as u128 + s.size - 1;
        format!(
            "{name}@{:#x}-{:#x}+{:#x}{}",
            s.offset_within_address_space.0,
            last,
            s.offset_within_region,
            if s.readonly { " ro" } else { "" }
        )
    }
}

impl MemoryListener for Recorder {
    fn priority(&self) -> i32 {
        self.priority
    }
    fn begin(&mut self) {
        self.push("begin".into());
    }
    fn commit(&mut self) {
        self.push("commit".into());
    }
    fn region_add(&mut self, s: &MemoryRegionSection) {
        self.push(format!("add {}", self.sec(s)));
    }
    fn region_del(&mut self, s: &MemoryRegionSection) {
        self.push(format!("del {}", self.sec(s)));
    }
    fn region_nop(&mut self, s: &MemoryRegionSection) {
        self.push(format!("nop {}", self.sec(s)));
    }
    fn log_start(&mut self, s: &MemoryRegionSection, old: u8, new: u8) {
        self.push(format!("log_start {} {old:#x}->{new:#x}", self.sec(s)));
    }
    fn log_stop(&mut self, s: &MemoryRegionSection, old: u8, new: u8) {
        self.push(format!("log_stop {} {old:#x}->{new:#x}", self.sec(s)));
    }
    fn log_global_start(&mut self) {
        self.push("log_global_start".into());
    }
    fn log_global_stop(&mut self) {
        self.push("log_global_stop".into());
    }
    fn coalesced_io_add(&mut self, s: &MemoryRegionSection, addr: GuestAddress, len: u64) {
        self.push(format!(
            "coalesced_add {} {:#x}+{len:#x}",
            self.sec(s),
            addr.0
        ));
    }
    fn coalesced_io_del(&mut self, s: &MemoryRegionSection, addr: GuestAddress, len: u64) {
        self.push(format!(
            "coalesced_del {} {:#x}+{len:#x}",
            self.sec(s),
            addr.0
        ));
    }
    fn log_sync(&mut self, s: &MemoryRegionSection) -> Vec<(u64, u64)> {
        self.push(format!("log_sync {}", self.sec(s)));
        vec![(PAGE_SIZE, 1)]
    }
}

struct Nop;
impl RegionOps for Nop {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(0)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Ok(())
    }
}

struct Fixture {
    m: MemorySystem,
    root: RegionId,
    space: AddressSpaceId,
    log: Log,
    names: Rc<RefCell<Vec<(RegionId, String)>>>,
}

impl Fixture {
    fn new() -> Self {
        let mut m = MemorySystem::new();
        let root = m.new_container("system", RegionSize::Max);
        let space = m.new_address_space("memory", root);
        Fixture {
            m,
            root,
            space,
            log: Rc::default(),
            names: Rc::default(),
        }
    }
    fn name(&self, r: RegionId, n: &str) {
        self.names.borrow_mut().push((r, n.to_string()));
    }
    fn ram(&mut self, n: &str, size: u64) -> RegionId {
        let r = self.m.new_ram(n, size).unwrap();
        self.name(r, n);
        r
    }
    fn listen(&mut self, name: &'static str, priority: i32) {
        let l = Recorder {
            name,
            priority,
            log: self.log.clone(),
            names: self.names.clone(),
        };
        self.m.register_listener(self.space, Box::new(l));
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.borrow_mut())
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn registering_replays_the_view_and_add_remove_are_reported() {
    let mut f = Fixture::new();
    let a = f.ram("a", 0x1000);
    f.m.add_subregion(f.root, 0x1000, a).unwrap();
    f.listen("L", 0);
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:add a@0x1000-0x1fff+0x0",
            "L:log_start a@0x1000-0x1fff+0x0 0x0->0x2",
            "L:commit"
        ])
    );
    let b = f.ram("b", 0x2000);
    f.m.add_subregion(f.root, 0x4000, b).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:nop a@0x1000-0x1fff+0x0",
            "L:add b@0x4000-0x5fff+0x0",
            "L:commit"
        ])
    );
    f.m.del_subregion(f.root, a).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:del a@0x1000-0x1fff+0x0",
            "L:nop b@0x4000-0x5fff+0x0",
            "L:commit"
        ])
    );
    assert!(f.m.del_subregion(f.root, a).is_err());
}

#[test]
fn region_del_runs_in_reverse_priority_order() {
    let mut f = Fixture::new();
    let a = f.ram("a", 0x1000);
    f.m.add_subregion(f.root, 0, a).unwrap();
    f.listen("hi", 10);
    f.listen("lo", -5);
    f.listen("mid", 0);
    f.take();
    f.m.del_subregion(f.root, a).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "lo:begin",
            "mid:begin",
            "hi:begin",
            "hi:del a@0x0-0xfff+0x0",
            "mid:del a@0x0-0xfff+0x0",
            "lo:del a@0x0-0xfff+0x0",
            "lo:commit",
            "mid:commit",
            "hi:commit"
        ])
    );
    f.m.add_subregion(f.root, 0, a).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "lo:begin",
            "mid:begin",
            "hi:begin",
            "lo:add a@0x0-0xfff+0x0",
            "mid:add a@0x0-0xfff+0x0",
            "hi:add a@0x0-0xfff+0x0",
            "lo:commit",
            "mid:commit",
            "hi:commit"
        ])
    );
}

#[test]
fn move_and_enable_disable() {
    let mut f = Fixture::new();
    let a = f.ram("a", 0x1000);
    f.m.add_subregion(f.root, 0x1000, a).unwrap();
    f.listen("L", 0);
    f.take();
    let g = f.m.generation(f.space);
    f.m.set_address(a, 0x3000).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:del a@0x1000-0x1fff+0x0",
            "L:add a@0x3000-0x3fff+0x0",
            "L:commit"
        ])
    );
    assert!(f.m.generation(f.space) > g);
    f.m.set_enabled(a, false);
    assert_eq!(
        f.take(),
        s(&["L:begin", "L:del a@0x3000-0x3fff+0x0", "L:commit"])
    );
    f.m.set_enabled(a, false);
    assert_eq!(f.take(), Vec::<String>::new(), "no change, no calls");
    f.m.set_enabled(a, true);
    assert_eq!(
        f.take(),
        s(&["L:begin", "L:add a@0x3000-0x3fff+0x0", "L:commit"])
    );
    // Moving out of the container is an error and changes nothing.
    let c = f.m.new_container("c", RegionSize::Bytes(0x2000));
    let d = f.ram("d", 0x1000);
    f.m.add_subregion(c, 0, d).unwrap();
    assert!(matches!(
        f.m.set_address(d, 0x1800),
        Err(MemoryError::OutOfContainer { .. })
    ));
}

#[test]
fn priority_change_swaps_what_is_visible() {
    let mut f = Fixture::new();
    let a = f.ram("a", 0x2000);
    let b = f.ram("b", 0x1000);
    f.m.add_subregion_overlap(f.root, 0, a, 1).unwrap();
    f.m.add_subregion_overlap(f.root, 0x1000, b, 0).unwrap();
    f.listen("L", 0);
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:add a@0x0-0x1fff+0x0",
            "L:log_start a@0x0-0x1fff+0x0 0x0->0x2",
            "L:commit"
        ])
    );
    f.m.set_priority(b, 2).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:del a@0x0-0x1fff+0x0",
            "L:add a@0x0-0xfff+0x0",
            "L:add b@0x1000-0x1fff+0x0",
            "L:commit"
        ])
    );
}

#[test]
fn alias_offset_change_is_a_del_and_add() {
    let mut f = Fixture::new();
    let ram = f.ram("ram", 0x4000);
    let al = f.m.new_alias("win", ram, 0x1000, 0x1000).unwrap();
    f.m.add_subregion(f.root, 0x10000, al).unwrap();
    f.listen("L", 0);
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:add ram@0x10000-0x10fff+0x1000",
            "L:log_start ram@0x10000-0x10fff+0x1000 0x0->0x2",
            "L:commit"
        ])
    );
    f.m.set_alias_offset(al, 0x3000).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:del ram@0x10000-0x10fff+0x1000",
            "L:add ram@0x10000-0x10fff+0x3000",
            "L:commit"
        ])
    );
    assert!(matches!(
        f.m.set_alias_offset(al, 0x3001),
        Err(MemoryError::AliasOutOfBounds { .. })
    ));
}

#[test]
fn log_start_and_stop() {
    let mut f = Fixture::new();
    let fb = f.ram("fb", 0x2000);
    f.m.add_subregion(f.root, 0, fb).unwrap();
    f.listen("A", 0);
    f.listen("B", 1);
    // RAM always carries the CODE client (bit 1).
    assert_eq!(
        f.take(),
        s(&[
            "A:begin",
            "A:add fb@0x0-0x1fff+0x0",
            "A:log_start fb@0x0-0x1fff+0x0 0x0->0x2",
            "A:commit",
            "B:begin",
            "B:add fb@0x0-0x1fff+0x0",
            "B:log_start fb@0x0-0x1fff+0x0 0x0->0x2",
            "B:commit"
        ])
    );
    f.m.set_log(fb, DirtyClient::Vga, true);
    assert_eq!(
        f.take(),
        s(&[
            "A:begin",
            "B:begin",
            "A:nop fb@0x0-0x1fff+0x0",
            "B:nop fb@0x0-0x1fff+0x0",
            "A:log_start fb@0x0-0x1fff+0x0 0x2->0x3",
            "B:log_start fb@0x0-0x1fff+0x0 0x2->0x3",
            "A:commit",
            "B:commit"
        ])
    );
    f.m.set_log(fb, DirtyClient::Vga, false);
    assert_eq!(
        f.take(),
        s(&[
            "A:begin",
            "B:begin",
            "A:nop fb@0x0-0x1fff+0x0",
            "B:nop fb@0x0-0x1fff+0x0",
            "B:log_stop fb@0x0-0x1fff+0x0 0x3->0x2",
            "A:log_stop fb@0x0-0x1fff+0x0 0x3->0x2",
            "A:commit",
            "B:commit"
        ])
    );
    f.m.global_dirty_log_start();
    let log = f.take();
    assert_eq!(
        &log[..2],
        &s(&["A:log_global_start", "B:log_global_start"])[..]
    );
    assert!(
        log.contains(&"A:log_start fb@0x0-0x1fff+0x0 0x2->0x6".to_string()),
        "{log:?}"
    );
    f.m.global_dirty_log_stop();
    let log = f.take();
    assert_eq!(
        &log[..2],
        &s(&["B:log_global_stop", "A:log_global_stop"])[..]
    );
    // Sync asks listeners, and what they report becomes dirty.
    f.m.reset_dirty(fb, 0, 0x2000, DirtyClient::Vga);
    f.m.sync_dirty_bitmap(f.space);
    assert_eq!(
        f.take(),
        s(&[
            "A:log_sync fb@0x0-0x1fff+0x0",
            "B:log_sync fb@0x0-0x1fff+0x0"
        ])
    );
    assert!(f.m.get_dirty(fb, PAGE_SIZE, 1, DirtyClient::Vga));
    assert!(!f.m.get_dirty(fb, 0, 1, DirtyClient::Vga));
}

#[test]
fn nested_transactions_publish_once_at_the_outer_commit() {
    let mut f = Fixture::new();
    f.listen("L", 0);
    f.take();
    let a = f.ram("a", 0x1000);
    let b = f.ram("b", 0x1000);
    let g = f.m.generation(f.space);
    f.m.begin();
    f.m.add_subregion(f.root, 0, a).unwrap();
    f.m.begin();
    f.m.add_subregion(f.root, 0x1000, b).unwrap();
    f.m.set_enabled(a, false);
    f.m.commit();
    assert_eq!(f.take(), Vec::<String>::new());
    assert_eq!(f.m.generation(f.space), g);
    assert_eq!(
        f.m.lookup_section(f.space, GuestAddress(0x1000)).kind,
        SectionKind::Unassigned
    );
    f.m.set_enabled(a, true);
    f.m.commit();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:add a@0x0-0xfff+0x0",
            "L:add b@0x1000-0x1fff+0x0",
            "L:commit"
        ])
    );
    assert_eq!(f.m.generation(f.space), g + 1);
    // Merged? No: different regions stay separate ranges.
    assert_eq!(f.m.flat_ranges(f.space).len(), 2);
}

#[test]
fn coalesced_ranges_are_reported_with_their_sections() {
    let mut f = Fixture::new();
    let io = f.m.new_io("nic", 0x100, Rc::new(Nop));
    f.name(io, "nic");
    f.m.add_coalescing(io, 0x10, 0x20).unwrap();
    f.listen("L", 0);
    f.take();
    f.m.add_subregion(f.root, 0x9000, io).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:begin",
            "L:add nic@0x9000-0x90ff+0x0",
            "L:coalesced_add nic@0x9000-0x90ff+0x0 0x9010+0x20",
            "L:commit"
        ])
    );
    f.m.add_coalescing(io, 0x80, 0x8).unwrap();
    assert_eq!(
        f.take(),
        s(&["L:coalesced_add nic@0x9000-0x90ff+0x0 0x9080+0x8"])
    );
    f.m.clear_coalescing(io).unwrap();
    assert_eq!(
        f.take(),
        s(&[
            "L:coalesced_del nic@0x9000-0x90ff+0x0 0x9010+0x20",
            "L:coalesced_del nic@0x9000-0x90ff+0x0 0x9080+0x8"
        ])
    );
}

#[test]
fn spaces_sharing_a_root_share_one_view() {
    let mut f = Fixture::new();
    let other = f.m.new_address_space("cpu-memory-0", f.root);
    let a = f.ram("a", 0x1000);
    f.m.add_subregion(f.root, 0, a).unwrap();
    assert_eq!(f.m.flat_ranges(other), f.m.flat_ranges(f.space));
    assert_eq!(f.m.generation(other), f.m.generation(f.space));
    assert_eq!(f.m.lookup_section(other, GuestAddress(0)).region, a);
}

/// The seed example: three unmergeable aliases of one RAM region stay three
/// ranges, and plugging a fourth touches only the fourth.
#[test]
fn virtio_mem_memslots_stay_separate_and_plug_without_churn() {
    for unmergeable in [true, false] {
        let mut f = Fixture::new();
        let backing = f.ram("virtio-mem-ram", 4 * 0x10_0000);
        let vmem =
            f.m.new_container("virtio-mem", RegionSize::Bytes(4 * 0x10_0000));
        f.m.add_subregion(f.root, 0x1_0000_0000, vmem).unwrap();
        let mut slots = Vec::new();
        for i in 0..4u64 {
            let slot =
                f.m.new_alias(&format!("memslot-{i}"), backing, i * 0x10_0000, 0x10_0000)
                    .unwrap();
            f.m.set_unmergeable(slot, unmergeable);
            slots.push(slot);
        }
        for (i, &slot) in slots.iter().enumerate().take(3) {
            f.m.add_subregion(vmem, i as u64 * 0x10_0000, slot).unwrap();
        }
        let ranges = f.m.flat_ranges(f.space);
        if !unmergeable {
            assert_eq!(ranges.len(), 1, "{ranges:?}");
            assert_eq!(ranges[0].size(), 3 * 0x10_0000);
            continue;
        }
        assert_eq!(ranges.len(), 3, "{ranges:?}");
        for (i, r) in ranges.iter().enumerate() {
            assert_eq!(r.start, 0x1_0000_0000 + i as u64 * 0x10_0000);
            assert_eq!(r.offset_in_region, i as u64 * 0x10_0000);
            assert_eq!(r.region, backing);
        }
        f.listen("L", 0);
        f.take();
        f.m.add_subregion(vmem, 3 * 0x10_0000, slots[3]).unwrap();
        let log = f.take();
        let adds: Vec<&String> = log.iter().filter(|l| l.starts_with("L:add")).collect();
        assert_eq!(
            adds,
            vec!["L:add virtio-mem-ram@0x100300000-0x1003fffff+0x300000"]
        );
        assert!(!log.iter().any(|l| l.starts_with("L:del")), "{log:?}");
        assert_eq!(log.iter().filter(|l| l.starts_with("L:nop")).count(), 3);
    }
}

#[test]
fn unregistering_reports_every_range_gone() {
    let mut f = Fixture::new();
    let io = f.m.new_io("io", 0x10, Rc::new(Nop));
    f.name(io, "io");
    f.m.add_subregion(f.root, 0x100, io).unwrap();
    let l = Recorder {
        name: "L",
        priority: 0,
        log: f.log.clone(),
        names: f.names.clone(),
    };
    let id = f.m.register_listener(f.space, Box::new(l));
    f.take();
    assert!(f.m.unregister_listener(id).is_some());
    assert_eq!(
        f.take(),
        s(&["L:begin", "L:del io@0x100-0x10f+0x0", "L:commit"])
    );
    f.m.set_enabled(io, false);
    assert_eq!(f.take(), Vec::<String>::new());
}
