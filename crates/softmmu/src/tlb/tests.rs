//! TLB tests against a real memory system.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, DirtyClient, Endianness, GuestAddress, IoDescriptor, MemTxAttrs, MemTxError,
    MemTxResult, MemorySystem, RamAddr, RegionOps, RegionSize,
};

use super::*;
use crate::address::{MmuIdx, VirtAddr};
use crate::block::CodeBytes;

const RAM_BASE: u64 = 0x8000_0000;
const RAM_SIZE: u64 = 0x20_0000;
const IO_BASE: u64 = 0x1000_0000;

/// A device that logs every access as (is_write, offset, size).
#[derive(Default)]
struct Log(RefCell<Vec<(bool, u64, u32)>>);

impl RegionOps for Log {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        self.0.borrow_mut().push((false, offset, size));
        Ok(0x1122_3344_5566_7788 & (u64::MAX >> (64 - 8 * size)))
    }
    fn write(&self, offset: u64, _value: u64, size: u32, _: MemTxAttrs) -> MemTxResult<()> {
        self.0.borrow_mut().push((true, offset, size));
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

/// Identity translation with fixed permissions; records calls.
struct Filler {
    prot: Prot,
    fills: usize,
    /// Ram address and length of each store into a code page.
    code_writes: Vec<(u64, u32)>,
    /// What `code_written` answers: the bytes still holding code.
    code_left: Option<CodeBytes>,
    page_size_log2: u32,
    cacheable: bool,
    /// Virtual = physical + this.
    offset: u64,
}

impl Filler {
    fn new() -> Self {
        Self {
            prot: Prot::RWX,
            fills: 0,
            code_writes: Vec::new(),
            code_left: None,
            page_size_log2: 12,
            cacheable: true,
            offset: 0,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Fault {
    Page(u64),
    Bus(u64, MemTxError),
}

impl TlbFill for Filler {
    type Fault = Fault;
    fn tlb_fill(
        &mut self,
        _: &mut MemorySystem,
        vaddr: VirtAddr,
        _: u32,
        access: MmuAccess,
        _: MmuIdx,
    ) -> Result<PageMapping, Fault> {
        self.fills += 1;
        if !self.prot.contains(access.prot()) {
            return Err(Fault::Page(vaddr.0));
        }
        Ok(PageMapping {
            vaddr,
            paddr: GuestAddress(vaddr.0.wrapping_sub(self.offset)),
            prot: self.prot,
            page_size_log2: self.page_size_log2,
            attrs: MemTxAttrs::default(),
            cacheable: self.cacheable,
        })
    }
    fn bus_fault(&mut self, vaddr: VirtAddr, _: u32, _: MmuAccess, error: MemTxError) -> Fault {
        Fault::Bus(vaddr.0, error)
    }
    fn code_written(&mut self, _: &mut MemorySystem, ram: RamAddr, len: u32) -> Option<CodeBytes> {
        self.code_writes.push((ram.0, len));
        self.code_left
    }
}

struct Fixture {
    mem: MemorySystem,
    tlb: Tlb,
    log: Rc<Log>,
    ram_addr: u64,
}

fn fixture() -> Fixture {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("root", RegionSize::Max);
    let ram = mem.new_ram("ram", RAM_SIZE).unwrap();
    let rom = mem.new_rom("rom", 0x1000).unwrap();
    let log = Rc::new(Log::default());
    let io = mem.new_io("log", 0x1000, log.clone());
    mem.add_subregion(root, RAM_BASE, ram).unwrap();
    mem.add_subregion(root, 0x1000, rom).unwrap();
    mem.add_subregion(root, IO_BASE, io).unwrap();
    let space = mem.new_address_space("cpu", root);
    let ram_addr = mem.ram_addr_of(ram).unwrap().0;
    let tlb = Tlb::new(space);
    Fixture {
        mem,
        tlb,
        log,
        ram_addr,
    }
}

impl Fixture {
    fn poke(&mut self, addr: u64, v: u64) {
        let space = self.tlb.space();
        self.mem
            .write(
                space,
                GuestAddress(addr),
                &v.to_le_bytes(),
                MemTxAttrs::default(),
            )
            .unwrap();
    }
    fn peek(&mut self, addr: u64) -> u64 {
        let space = self.tlb.space();
        let mut b = [0u8; 8];
        self.mem
            .read(space, GuestAddress(addr), &mut b, MemTxAttrs::default())
            .unwrap();
        u64::from_le_bytes(b)
    }
}

#[test]
fn miss_fill_then_fast_hit() {
    let mut fx = fixture();
    let mut f = Filler::new();
    fx.poke(RAM_BASE + 0x10, 0xdead_beef_cafe_f00d);
    assert_eq!(
        fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(RAM_BASE + 0x10)),
        None
    );
    let v = fx
        .tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0x10),
            8,
            MmuAccess::Load,
        )
        .unwrap();
    assert_eq!(v, 0xdead_beef_cafe_f00d);
    assert_eq!(f.fills, 1);
    assert_eq!(
        fx.tlb.load_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x14)),
        Some(0xdead_beef)
    );
    assert_eq!(
        fx.tlb.load_fast::<1>(MmuIdx(0), VirtAddr(RAM_BASE + 0x10)),
        Some(0x0d)
    );
    // Misaligned never hits the fast path; other modes are separate.
    assert_eq!(
        fx.tlb.load_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x12)),
        None
    );
    assert_eq!(
        fx.tlb.load_fast::<4>(MmuIdx(1), VirtAddr(RAM_BASE + 0x14)),
        None
    );
    // The slow path finds the present slot without a new fill.
    let v = fx
        .tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0x12),
            4,
            MmuAccess::Load,
        )
        .unwrap();
    assert_eq!(v, 0xbeef_cafe);
    assert_eq!(f.fills, 1);
}

#[test]
fn store_fast_path_writes_ram() {
    let mut fx = fixture();
    let mut f = Filler::new();
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), VirtAddr(RAM_BASE), 8, 1)
        .unwrap();
    assert!(
        fx.tlb
            .store_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 8), 0x1234_5678)
    );
    assert!(
        fx.tlb
            .store_fast::<2>(MmuIdx(0), VirtAddr(RAM_BASE + 12), 0xabcd)
    );
    assert_eq!(fx.peek(RAM_BASE + 8), 0xabcd_1234_5678);
    assert_eq!(
        fx.tlb
            .rmw_fast::<8>(MmuIdx(0), VirtAddr(RAM_BASE + 8), |v| v + 1),
        Some(0xabcd_1234_5678)
    );
    assert_eq!(fx.peek(RAM_BASE + 8), 0xabcd_1234_5679);
}

#[test]
fn victim_table_catches_conflicts() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let stride = fx.tlb.table_len(MmuIdx(0)) as u64 * PAGE_SIZE;
    assert!(stride * 2 <= RAM_SIZE);
    let a = RAM_BASE;
    let b = RAM_BASE + stride;
    fx.poke(a, 11);
    fx.poke(b, 22);
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(a),
            8,
            MmuAccess::Load
        ),
        Ok(11)
    );
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(b),
            8,
            MmuAccess::Load
        ),
        Ok(22)
    );
    assert_eq!(f.fills, 2);
    // `b` evicted `a` into the victim table.
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(a)), None);
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(b)), Some(22));
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(a),
            8,
            MmuAccess::Load
        ),
        Ok(11)
    );
    assert_eq!(f.fills, 2, "victim hit needs no fill");
    assert_eq!(fx.tlb.stats().victim_hits, 1);
    // Swapped: now `a` is fast and `b` is the victim.
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(a)), Some(11));
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(b)), None);
}

#[test]
fn flush_page_and_flush_by_mode() {
    let mut fx = fixture();
    let mut f = Filler::new();
    for mode in [0, 1, 3] {
        fx.tlb
            .load_slow(
                &mut fx.mem,
                &mut f,
                MmuIdx(mode),
                VirtAddr(RAM_BASE),
                8,
                MmuAccess::Load,
            )
            .unwrap();
        fx.tlb
            .load_slow(
                &mut fx.mem,
                &mut f,
                MmuIdx(mode),
                VirtAddr(RAM_BASE + 0x1000),
                8,
                MmuAccess::Load,
            )
            .unwrap();
    }
    fx.tlb.flush_page(VirtAddr(RAM_BASE + 0x123), 1 << 0);
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(0), VirtAddr(RAM_BASE)), None);
    assert!(
        fx.tlb
            .load_fast::<8>(MmuIdx(0), VirtAddr(RAM_BASE + 0x1000))
            .is_some()
    );
    assert!(
        fx.tlb
            .load_fast::<8>(MmuIdx(1), VirtAddr(RAM_BASE))
            .is_some()
    );
    fx.tlb.flush(1 << 1);
    assert_eq!(
        fx.tlb
            .load_fast::<8>(MmuIdx(1), VirtAddr(RAM_BASE + 0x1000)),
        None
    );
    assert!(
        fx.tlb
            .load_fast::<8>(MmuIdx(3), VirtAddr(RAM_BASE + 0x1000))
            .is_some()
    );
    fx.tlb.flush_all();
    assert_eq!(
        fx.tlb
            .load_fast::<8>(MmuIdx(3), VirtAddr(RAM_BASE + 0x1000)),
        None
    );
}

#[test]
fn superpage_flush_page_flushes_the_mode() {
    let mut fx = fixture();
    let mut f = Filler::new();
    f.page_size_log2 = 21;
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(1),
            VirtAddr(RAM_BASE),
            8,
            MmuAccess::Load,
        )
        .unwrap();
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(1),
            VirtAddr(RAM_BASE + 0x5000),
            8,
            MmuAccess::Load,
        )
        .unwrap();
    // An address of the superpage whose slot holds nothing still flushes all of it.
    fx.tlb.flush_page(VirtAddr(RAM_BASE + 0x9000), 1 << 1);
    assert_eq!(fx.tlb.load_fast::<8>(MmuIdx(1), VirtAddr(RAM_BASE)), None);
    assert_eq!(
        fx.tlb
            .load_fast::<8>(MmuIdx(1), VirtAddr(RAM_BASE + 0x5000)),
        None
    );
}

#[test]
fn mmio_goes_to_the_device_with_the_access_size() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let v = fx
        .tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(IO_BASE + 4),
            4,
            MmuAccess::Load,
        )
        .unwrap();
    assert_eq!(v, 0x5566_7788);
    assert_eq!(
        fx.tlb.load_fast::<4>(MmuIdx(0), VirtAddr(IO_BASE + 4)),
        None,
        "MMIO never takes the fast path"
    );
    assert!(fx.tlb.entry(MmuIdx(0), VirtAddr(IO_BASE)).addr_read & TLB_MMIO != 0);
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), VirtAddr(IO_BASE + 8), 2, 7)
        .unwrap();
    assert!(!fx.tlb.store_fast::<1>(MmuIdx(0), VirtAddr(IO_BASE), 1));
    let old = fx
        .tlb
        .rmw_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(IO_BASE + 16),
            8,
            |v| v + 1,
        )
        .unwrap();
    assert_eq!(old, 0x1122_3344_5566_7788);
    assert_eq!(
        *fx.log.0.borrow(),
        vec![(false, 4, 4), (true, 8, 2), (false, 16, 8), (true, 16, 8)]
    );
}

#[test]
fn unassigned_access_is_a_bus_fault() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let r = fx.tlb.load_slow(
        &mut fx.mem,
        &mut f,
        MmuIdx(0),
        VirtAddr(0x4000_0000),
        4,
        MmuAccess::Load,
    );
    assert_eq!(r, Err(Fault::Bus(0x4000_0000, MemTxError::Decode)));
    let r = fx.tlb.load_slow(
        &mut fx.mem,
        &mut f,
        MmuIdx(0),
        VirtAddr(0x4000_0000),
        2,
        MmuAccess::Fetch,
    );
    assert_eq!(r, Err(Fault::Bus(0x4000_0000, MemTxError::Decode)));
}

#[test]
fn rom_writes_are_dropped() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let before = fx
        .tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(0x1000),
            8,
            MmuAccess::Load,
        )
        .unwrap();
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), VirtAddr(0x1000), 8, !before)
        .unwrap();
    assert!(fx.tlb.entry(MmuIdx(0), VirtAddr(0x1000)).addr_write & TLB_DISCARD_WRITE != 0);
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(0x1000),
            8,
            MmuAccess::Load
        ),
        Ok(before)
    );
}

#[test]
fn missing_permission_faults_and_fill_is_asked_again() {
    let mut fx = fixture();
    let mut f = Filler::new();
    f.prot = Prot::READ;
    assert_eq!(
        fx.tlb
            .store_slow(&mut fx.mem, &mut f, MmuIdx(0), VirtAddr(RAM_BASE), 4, 0),
        Err(Fault::Page(RAM_BASE))
    );
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE),
            4,
            MmuAccess::Fetch
        ),
        Err(Fault::Page(RAM_BASE))
    );
    assert!(
        fx.tlb
            .load_slow(
                &mut fx.mem,
                &mut f,
                MmuIdx(0),
                VirtAddr(RAM_BASE),
                4,
                MmuAccess::Load
            )
            .is_ok()
    );
    assert!(
        !fx.tlb.store_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE), 0),
        "read-only slot has no write tag"
    );
}

#[test]
fn page_crossing_accesses_split() {
    let mut fx = fixture();
    let mut f = Filler::new();
    fx.poke(RAM_BASE + 0xff8, 0x0706_0504_0302_0100);
    fx.poke(RAM_BASE + 0x1000, 0x0f0e_0d0c_0b0a_0908);
    let v = fx
        .tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0xffd),
            8,
            MmuAccess::Load,
        )
        .unwrap();
    assert_eq!(v, 0x0c0b_0a09_0807_0605);
    fx.tlb
        .store_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0xffe),
            4,
            0xaabb_ccdd,
        )
        .unwrap();
    assert_eq!(fx.peek(RAM_BASE + 0xff8), 0xccdd_0504_0302_0100);
    assert_eq!(fx.peek(RAM_BASE + 0x1000) & 0xffff, 0xaabb);
    // A crossing store into an unwritable page writes nothing.
    let last = RAM_BASE + RAM_SIZE;
    let r = fx.tlb.store_slow(
        &mut fx.mem,
        &mut f,
        MmuIdx(0),
        VirtAddr(last - 2),
        4,
        0xffff_ffff,
    );
    assert_eq!(r, Err(Fault::Bus(last, MemTxError::Decode)));
    assert_eq!(fx.peek(last - 8) >> 48, 0);
}

#[test]
fn notdirty_invalidates_code_then_goes_fast() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let page = fx.ram_addr + 0x3000;
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0x3000),
            4,
            MmuAccess::Fetch,
        )
        .unwrap();
    // Translated code now lives on the page: clear its CODE bit and re-arm.
    fx.mem
        .ram_reset_dirty(RamAddr(page), PAGE_SIZE, DirtyClient::Code);
    fx.tlb.rearm_notdirty(RamAddr(page), PAGE_SIZE);
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0x3000),
            4,
            MmuAccess::Load,
        )
        .unwrap();
    let e = fx.tlb.entry(MmuIdx(0), VirtAddr(RAM_BASE + 0x3000));
    assert!(e.addr_write & TLB_NOTDIRTY != 0 || e.addr_write & TLB_INVALID != 0);
    assert!(
        !fx.tlb
            .store_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x3004), 1)
    );
    fx.tlb
        .store_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE + 0x3004),
            4,
            1,
        )
        .unwrap();
    assert_eq!(f.code_writes, vec![(page + 4, 4)]);
    assert!(fx.mem.ram_dirty(RamAddr(page), DirtyClient::Code));
    // Dirty for every client again (VGA and migration were never cleared): fast.
    assert!(
        fx.tlb
            .store_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x3008), 2)
    );
    assert_eq!(f.code_writes.len(), 1);
}

#[test]
fn stores_beside_code_go_straight_to_memory() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let page = fx.ram_addr + 0x3000;
    let va = |off: u64| VirtAddr(RAM_BASE + 0x3000 + off);
    fx.mem
        .ram_reset_dirty(RamAddr(page), PAGE_SIZE, DirtyClient::Code);
    // Code in bytes 0x30..0x40 only.
    let mut code = [0u64; 64];
    crate::block::code_map::mark_bytes(&mut code, 0x30, 0x10);
    f.code_left = Some(code);
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), va(0x100), 8, 7)
        .unwrap();
    assert_eq!(f.code_writes, vec![(page + 0x100, 8)]);
    // The page keeps its code: CODE stays clean, the others are dirty.
    assert!(!fx.mem.ram_dirty(RamAddr(page), DirtyClient::Code));
    assert!(fx.mem.ram_dirty(RamAddr(page), DirtyClient::Migration));
    // The fast path still refuses the page; the path beside code takes
    // every line but the code's.
    assert!(!fx.tlb.store_fast::<8>(MmuIdx(0), va(0x200), 1));
    assert!(fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x200), 0x55));
    assert!(fx.tlb.store_beside_code::<1>(MmuIdx(0), va(0x40), 0x66));
    assert!(fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x28), 0));
    assert!(!fx.tlb.store_beside_code::<4>(MmuIdx(0), va(0x3c), 1));
    assert!(!fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x30), 1));
    assert!(!fx.tlb.store_beside_code::<1>(MmuIdx(0), va(0x3f), 1));
    // Misaligned: the slow path's business.
    assert!(!fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x204), 1));
    assert_eq!(fx.peek(RAM_BASE + 0x3200), 0x55);
    assert_eq!(fx.peek(RAM_BASE + 0x3040) & 0xff, 0x66);
    assert_eq!(fx.tlb.stats().beside_code_stores, 3);
    assert_eq!(f.code_writes.len(), 1);
    // New code on the page: the slot forgets the lines it knew.
    fx.tlb.forget_code_bytes(RamAddr(page));
    assert!(!fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x200), 1));
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), va(0x200), 8, 1)
        .unwrap();
    assert!(fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x200), 2));
    // Migration clears its bits: stores must be seen again, so the slot
    // sends them to the slow path, which marks the page.
    fx.mem
        .ram_reset_dirty(RamAddr(page), PAGE_SIZE, DirtyClient::Migration);
    fx.tlb.rearm_notdirty(RamAddr(page), PAGE_SIZE);
    assert!(!fx.tlb.store_beside_code::<8>(MmuIdx(0), va(0x200), 3));
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), va(0x200), 8, 3)
        .unwrap();
    assert!(fx.mem.ram_dirty(RamAddr(page), DirtyClient::Migration));
    assert!(!fx.mem.ram_dirty(RamAddr(page), DirtyClient::Code));
    // The code goes: the next store marks the page dirty for CODE too and
    // the fast path takes over.
    f.code_left = None;
    fx.tlb
        .store_slow(&mut fx.mem, &mut f, MmuIdx(0), va(0x10), 4, 9)
        .unwrap();
    assert!(fx.mem.ram_dirty(RamAddr(page), DirtyClient::Code));
    assert!(fx.tlb.store_fast::<4>(MmuIdx(0), va(0x10), 9));
}

#[test]
fn rearm_only_touches_the_cleared_pages() {
    let mut fx = fixture();
    let mut f = Filler::new();
    for p in [0x5000u64, 0x6000] {
        fx.tlb
            .store_slow(&mut fx.mem, &mut f, MmuIdx(2), VirtAddr(RAM_BASE + p), 8, 0)
            .unwrap();
        assert!(fx.tlb.store_fast::<8>(MmuIdx(2), VirtAddr(RAM_BASE + p), 0));
    }
    fx.tlb
        .rearm_notdirty(RamAddr(fx.ram_addr + 0x5000), PAGE_SIZE);
    assert!(
        !fx.tlb
            .store_fast::<8>(MmuIdx(2), VirtAddr(RAM_BASE + 0x5000), 0)
    );
    assert!(
        fx.tlb
            .store_fast::<8>(MmuIdx(2), VirtAddr(RAM_BASE + 0x6000), 0)
    );
    assert!(
        fx.tlb
            .entry(MmuIdx(2), VirtAddr(RAM_BASE + 0x5000))
            .addr_write
            & TLB_NOTDIRTY
            != 0
    );
    // Reads are unaffected.
    assert!(
        fx.tlb
            .load_fast::<8>(MmuIdx(2), VirtAddr(RAM_BASE + 0x5000))
            .is_some()
    );
}

#[test]
fn recheck_slots_fill_on_every_access() {
    let mut fx = fixture();
    let mut f = Filler::new();
    f.cacheable = false;
    for _ in 0..3 {
        fx.tlb
            .load_slow(
                &mut fx.mem,
                &mut f,
                MmuIdx(0),
                VirtAddr(RAM_BASE),
                4,
                MmuAccess::Load,
            )
            .unwrap();
        assert_eq!(fx.tlb.load_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE)), None);
    }
    assert_eq!(f.fills, 3);
}

#[test]
fn translation_with_offset_and_code_location() {
    let mut fx = fixture();
    let mut f = Filler::new();
    f.offset = 0xffff_ffc0_0000_0000u64.wrapping_sub(RAM_BASE);
    let va = 0xffff_ffc0_0000_2000u64;
    fx.poke(RAM_BASE + 0x2000, 0x4242);
    assert_eq!(
        fx.tlb.load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(1),
            VirtAddr(va),
            2,
            MmuAccess::Fetch
        ),
        Ok(0x4242)
    );
    assert_eq!(
        fx.tlb.fetch_fast::<2>(MmuIdx(1), VirtAddr(va)),
        Some(0x4242)
    );
    let loc = fx
        .tlb
        .code_location(&mut fx.mem, &mut f, MmuIdx(1), VirtAddr(va + 6))
        .unwrap();
    assert_eq!(loc.paddr, GuestAddress(RAM_BASE + 0x2006));
    assert_eq!(loc.ram, Some(RamAddr(fx.ram_addr + 0x2006)));
    assert_eq!(
        fx.tlb.code_ram_fast(MmuIdx(1), VirtAddr(va + 6)),
        Some(RamAddr(fx.ram_addr + 0x2006))
    );
    let io_va = IO_BASE.wrapping_add(f.offset);
    let io = fx
        .tlb
        .code_location(&mut fx.mem, &mut f, MmuIdx(1), VirtAddr(io_va))
        .unwrap();
    assert_eq!(io.ram, None);
}

#[test]
fn slots_keep_their_ram_mapped_after_the_memory_system_is_gone() {
    let mut fx = fixture();
    let mut f = Filler::new();
    fx.poke(RAM_BASE + 0x40, 0xfeed_f00d);
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(RAM_BASE),
            4,
            MmuAccess::Load,
        )
        .unwrap();
    let Fixture { tlb, mem, .. } = fx;
    // The memory system (and with it the regions and RAM blocks) goes away;
    // the slot's host pointer must still point into mapped memory, which the
    // TLB's pin keeps alive (under a memory checker this would be a
    // use-after-free otherwise).
    drop(mem);
    assert_eq!(
        tlb.load_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x40)),
        Some(0xfeed_f00d)
    );
    let mut tlb = tlb;
    tlb.flush_all();
    assert_eq!(
        tlb.load_fast::<4>(MmuIdx(0), VirtAddr(RAM_BASE + 0x40)),
        None
    );
}

#[test]
fn mmio_slots_dispatch_to_their_section() {
    let mut fx = fixture();
    let mut f = Filler::new();
    fx.tlb
        .load_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(IO_BASE + 0x10),
            4,
            MmuAccess::Load,
        )
        .unwrap();
    let i = fx.tlb.index(MmuIdx(0), VirtAddr(IO_BASE));
    let (_, full) = fx.tlb.slot(MmuIdx(0), i);
    let section = full
        .section
        .expect("a whole-page MMIO slot keeps its section");
    assert_eq!(section.offset, 0);
    assert_eq!(fx.mem.region_name(section.region).unwrap(), "log");
    fx.tlb
        .store_slow(
            &mut fx.mem,
            &mut f,
            MmuIdx(0),
            VirtAddr(IO_BASE + 0x18),
            2,
            7,
        )
        .unwrap();
    let log = fx.log.0.borrow();
    assert_eq!(&log[log.len() - 2..], &[(false, 0x10, 4), (true, 0x18, 2)]);
}

#[test]
fn heavy_use_grows_the_table() {
    let mut fx = fixture();
    let mut f = Filler::new();
    let before = fx.tlb.table_len(MmuIdx(0));
    // Touch every page of RAM (512 pages) twice over a 256-slot table.
    for round in 0..2 {
        for p in 0..RAM_SIZE / PAGE_SIZE {
            fx.tlb
                .load_slow(
                    &mut fx.mem,
                    &mut f,
                    MmuIdx(0),
                    VirtAddr(RAM_BASE + p * PAGE_SIZE),
                    1,
                    MmuAccess::Load,
                )
                .unwrap();
        }
        let _ = round;
    }
    fx.tlb.flush(1);
    assert!(
        fx.tlb.table_len(MmuIdx(0)) > before,
        "{} -> {}",
        before,
        fx.tlb.table_len(MmuIdx(0))
    );
}
