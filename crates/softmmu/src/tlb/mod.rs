//! The per-CPU software TLB.
//!
//! One [`Tlb`] per CPU holds, for every MMU mode (an *mmu index*, chosen by
//! the target: privilege level and the translation-affecting state that goes
//! with it), a direct-mapped fast table of [`TlbEntry`] slots with their cold
//! [`TlbFull`] halves, and a small fully-associative victim table.
//!
//! * **Fast path** ([`Tlb::load_fast`], [`Tlb::store_fast`],
//!   [`Tlb::rmw_fast`], [`Tlb::fetch_fast`]): index the mode's table by
//!   virtual page, compare one tag, add the addend. No hashing, no locks,
//!   no allocation, no calls.
//! * **Slow path** ([`slow`]): the victim table, then the target's
//!   [`TlbFill`] (page walk), then [`Tlb::install`] (QEMU's `tlb_set_page`)
//!   which resolves the physical page through the memory API's dispatch and
//!   sets the tag flags; flagged accesses (MMIO, NOTDIRTY, ROM) are carried
//!   out there.
//! * **Coherence**: [`Tlb::flush`], [`Tlb::flush_page`] (by mode mask),
//!   [`Tlb::rearm_notdirty`] (dirty bits were cleared). The CPU that owns
//!   the TLB is a memory listener of its address space and flushes it when
//!   a commit changes the view ([`crate::cpu`]).
//!
//! # Why the host pointers are valid
//!
//! A RAM slot's `addend` turns a guest virtual address into a host pointer
//! that the fast paths dereference. [`Tlb::install`] only writes such an
//! addend for a page that lies whole inside one RAM section, and before it
//! does, it takes a [`RamHostRef`] on the RAM block's host mapping and keeps
//! it in the TLB (`pins`). A mapping is unmapped only when its last
//! reference is dropped, so every pointer a slot can produce stays inside
//! live host memory for as long as the TLB exists, even if the memory
//! system that made the mapping is gone: a stale slot (a flush not yet
//! processed) may read outdated guest data, never freed memory. The pins
//! are dropped with the TLB, or by [`Tlb::flush_all`] (after which no slot
//! holds a pointer).

pub mod entry;
pub mod sizing;
pub mod slow;

use ferrite_memory::{
    AddressSpaceId, GuestAddress, MemorySystem, RamAddr, RamHostRef, SectionKind,
};

use crate::address::{MmuIdx, VirtAddr};
use crate::block::CodeBytes;
use crate::debug::{WatchHit, Watchpoint};

pub use entry::{
    IoSection, MmuAccess, NO_CODE_BYTES, PAGE_MASK, PAGE_SIZE, PageKind, PageMapping, Prot,
    TLB_DISCARD_WRITE, TLB_FLAGS_MASK, TLB_INVALID, TLB_MMIO, TLB_NOTDIRTY, TLB_RECHECK,
    TLB_WATCHPOINT, TlbEntry, TlbFull,
};
pub use slow::TlbFill;

use entry::{PAGE_BITS, TAG_EMPTY, tag_maps_page};
use sizing::{DEFAULT_BITS, TableSizing};

/// How many MMU modes a TLB has room for. Targets use indices below this.
pub const MAX_MMU_MODES: usize = 8;
/// A mode mask naming every mode.
pub const ALL_MODES: u32 = (1 << MAX_MMU_MODES) - 1;
/// Slots in each mode's victim table.
pub const VICTIM_SIZE: usize = 8;

/// Counters for `-d`-style statistics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Target fills (page walks) that installed a slot.
    pub fills: u64,
    /// Hits in the victim table.
    pub victim_hits: u64,
    /// Full flushes of one or more modes.
    pub flushes: u64,
    /// Single-page flushes.
    pub page_flushes: u64,
    /// Accesses that took the slow path.
    pub slow_accesses: u64,
    /// Stores made beside translated code on its page without the slow
    /// path ([`Tlb::store_beside_code`]).
    pub beside_code_stores: u64,
}

/// At most this many pages keep slots allowing stores beside their code
/// before the TLB forgets them all (see [`Tlb::forget_code_bytes`]).
const MAX_BESIDE_CODE_PAGES: usize = 32;

/// A page whose slots let stores beside its code through, with the code
/// bytes the slow path last saw there.
#[derive(Debug)]
struct BesideCode {
    page: RamAddr,
    bytes: Box<CodeBytes>,
}

/// One MMU mode's tables.
#[derive(Debug)]
struct ModeTable {
    table: Box<[TlbEntry]>,
    full: Box<[TlbFull]>,
    /// `table.len() - 1`; the table length is a power of two.
    mask: usize,
    bits: u32,
    victim: [TlbEntry; VICTIM_SIZE],
    victim_full: [TlbFull; VICTIM_SIZE],
    victim_next: usize,
    /// Superpage range seen since the last flush (`large_page_mask == 0`: none).
    large_page_addr: u64,
    large_page_mask: u64,
    sizing: TableSizing,
}

impl ModeTable {
    fn new(bits: u32) -> Self {
        let len = 1usize << bits;
        Self {
            table: vec![TlbEntry::EMPTY; len].into_boxed_slice(),
            full: vec![TlbFull::EMPTY; len].into_boxed_slice(),
            mask: len - 1,
            bits,
            victim: [TlbEntry::EMPTY; VICTIM_SIZE],
            victim_full: [TlbFull::EMPTY; VICTIM_SIZE],
            victim_next: 0,
            large_page_addr: 0,
            large_page_mask: 0,
            sizing: TableSizing::new(),
        }
    }

    #[inline(always)]
    fn index(&self, vaddr: u64) -> usize {
        (vaddr >> PAGE_BITS) as usize & self.mask
    }

    #[inline(always)]
    fn entry(&self, vaddr: u64) -> &TlbEntry {
        let i = self.index(vaddr);
        // SAFETY: `index` masks with `mask == table.len() - 1` and the length
        // is a power of two, so `i < table.len()`.
        unsafe { self.table.get_unchecked(i) }
    }

    #[inline(always)]
    fn entry_mut(&mut self, vaddr: u64) -> &mut TlbEntry {
        let i = self.index(vaddr);
        // SAFETY: as in `entry`.
        unsafe { self.table.get_unchecked_mut(i) }
    }

    /// Whether anything was filled since the last flush.
    fn in_use(&self) -> bool {
        self.sizing.used > 0
            || self.victim.iter().any(|v| !v.is_empty())
            || self.large_page_mask != 0
    }

    /// Empty the mode, resizing it first according to its use.
    fn flush(&mut self) {
        let bits = self.sizing.on_flush(self.bits);
        if bits != self.bits {
            let sizing = self.sizing;
            *self = ModeTable::new(bits);
            self.sizing = sizing;
            return;
        }
        self.table.fill(TlbEntry::EMPTY);
        self.full.fill(TlbFull::EMPTY);
        self.victim = [TlbEntry::EMPTY; VICTIM_SIZE];
        self.victim_full = [TlbFull::EMPTY; VICTIM_SIZE];
        self.large_page_addr = 0;
        self.large_page_mask = 0;
    }

    fn record_large_page(&mut self, vaddr: u64, size_log2: u32) {
        let mut mask = !((1u64 << size_log2.min(63)) - 1);
        if self.large_page_mask != 0 {
            // Widen the recorded range until it covers both pages.
            mask &= self.large_page_mask;
            while (self.large_page_addr ^ vaddr) & mask != 0 {
                mask <<= 1;
            }
        }
        self.large_page_addr = vaddr & mask;
        self.large_page_mask = mask;
    }

    fn flush_page(&mut self, vaddr: u64) -> bool {
        if self.large_page_mask != 0 && (vaddr & self.large_page_mask) == self.large_page_addr {
            self.flush();
            return true;
        }
        let e = self.entry_mut(vaddr);
        if e.maps_page(vaddr) {
            *e = TlbEntry::EMPTY;
        }
        for v in &mut self.victim {
            if v.maps_page(vaddr) {
                *v = TlbEntry::EMPTY;
            }
        }
        false
    }
}

/// One mapped TLB slot, as [`Tlb::mapped_slots`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappedSlot {
    /// The slot's MMU mode.
    pub mmu_idx: MmuIdx,
    /// The virtual page it maps.
    pub vpage: u64,
    /// The read tag's flags, if reads are granted.
    pub read: Option<u64>,
    /// The write tag's flags, if writes are granted.
    pub write: Option<u64>,
    /// The fetch tag's flags, if fetches are granted.
    pub fetch: Option<u64>,
    /// The cold half (physical page, kind, permissions).
    pub full: TlbFull,
}

/// The software TLB of one CPU. See the [module documentation](self).
#[derive(Debug)]
pub struct Tlb {
    modes: [ModeTable; MAX_MMU_MODES],
    space: AddressSpaceId,
    /// The host mappings that slots point into (see the module
    /// documentation): at most one per RAM block.
    pins: Vec<RamHostRef>,
    stats: TlbStats,
    /// The CPU's watchpoints (see [`crate::debug`]): pages they overlap get
    /// [`TLB_WATCHPOINT`] in the tags of the accesses they watch.
    watchpoints: Vec<Watchpoint>,
    /// The first watchpoint an access hit since it was last taken.
    watch_hit: Option<WatchHit>,
    /// Watchpoints are ignored for now (see [`Tlb::suppress_watchpoints`]).
    watch_suppressed: bool,
    /// The code bytes of pages whose slots allow stores beside code, which
    /// [`TlbFull::code_bytes`] indexes (a free entry is `None`; an entry may
    /// outlive the slots naming it, which a flush empties).
    beside_code: Vec<Option<BesideCode>>,
}

/// Read `N` (1, 2, 4 or 8) little-endian bytes at `p`, zero-extended.
///
/// # Safety
/// `p..p + N` must be readable host memory.
#[inline(always)]
pub(crate) unsafe fn read_host<const N: usize>(p: *const u8) -> u64 {
    // SAFETY: the caller guarantees `p..p+N` is readable; unaligned reads are allowed.
    unsafe {
        match N {
            1 => u64::from(*p),
            2 => u64::from(u16::from_le(std::ptr::read_unaligned(p.cast::<u16>()))),
            4 => u64::from(u32::from_le(std::ptr::read_unaligned(p.cast::<u32>()))),
            _ => u64::from_le(std::ptr::read_unaligned(p.cast::<u64>())),
        }
    }
}

/// Write the low `N` (1, 2, 4 or 8) bytes of `v` little-endian at `p`.
///
/// # Safety
/// `p..p + N` must be writable host memory.
#[inline(always)]
pub(crate) unsafe fn write_host<const N: usize>(p: *mut u8, v: u64) {
    // SAFETY: the caller guarantees `p..p+N` is writable; unaligned writes are allowed.
    unsafe {
        match N {
            1 => *p = v as u8,
            2 => std::ptr::write_unaligned(p.cast::<u16>(), (v as u16).to_le()),
            4 => std::ptr::write_unaligned(p.cast::<u32>(), (v as u32).to_le()),
            _ => std::ptr::write_unaligned(p.cast::<u64>(), v.to_le()),
        }
    }
}

impl Tlb {
    /// An empty TLB for a CPU whose physical accesses go to `space`.
    pub fn new(space: AddressSpaceId) -> Self {
        Self {
            modes: std::array::from_fn(|_| ModeTable::new(DEFAULT_BITS)),
            space,
            pins: Vec::new(),
            stats: TlbStats::default(),
            watchpoints: Vec::new(),
            watch_hit: None,
            watch_suppressed: false,
            beside_code: Vec::new(),
        }
    }

    /// Every slot that maps a page (fast and victim tables), for a
    /// debugger's `info tlb`: its mode, virtual page, the flags of its read,
    /// write and fetch tags (`None` where the slot grants no such access),
    /// and its cold half.
    pub fn mapped_slots(&self) -> Vec<MappedSlot> {
        let mut out = Vec::new();
        for (idx, m) in self.modes.iter().enumerate() {
            let entries = m.table.iter().zip(m.full.iter());
            let victims = m.victim.iter().zip(m.victim_full.iter());
            for (e, full) in entries.chain(victims) {
                let tags = [e.addr_read, e.addr_write, e.addr_code];
                let Some(page) = tags
                    .iter()
                    .find(|t| *t & TLB_INVALID == 0)
                    .map(|t| t & PAGE_MASK)
                else {
                    continue;
                };
                let flags = |t: u64| (t & TLB_INVALID == 0).then_some(t & TLB_FLAGS_MASK);
                out.push(MappedSlot {
                    mmu_idx: MmuIdx(idx as u8),
                    vpage: page,
                    read: flags(e.addr_read),
                    write: flags(e.addr_write),
                    fetch: flags(e.addr_code),
                    full: *full,
                });
            }
        }
        out
    }

    /// Add a watchpoint (an identical one already present is not added
    /// twice). Every mode is flushed so watched pages are refilled with
    /// their flags.
    pub fn insert_watchpoint(&mut self, wp: Watchpoint) {
        if !self.watchpoints.contains(&wp) {
            self.watchpoints.push(wp);
        }
        self.flush_all();
    }

    /// Remove a watchpoint; false if there was none like it.
    pub fn remove_watchpoint(&mut self, wp: Watchpoint) -> bool {
        let before = self.watchpoints.len();
        self.watchpoints.retain(|w| *w != wp);
        let removed = self.watchpoints.len() != before;
        if removed {
            self.flush_all();
        }
        removed
    }

    /// Whether an access hit a watchpoint that has not been taken yet.
    #[inline]
    pub fn watch_hit_pending(&self) -> bool {
        self.watch_hit.is_some()
    }

    /// The pending watchpoint hit, if any, cleared.
    pub fn take_watch_hit(&mut self) -> Option<WatchHit> {
        self.watch_hit.take()
    }

    /// Record the pc of the instruction whose access hit a watchpoint, if
    /// a hit without one is pending.
    pub fn note_watch_pc(&mut self, pc: u64) {
        if let Some(hit) = &mut self.watch_hit {
            hit.pc.get_or_insert(pc);
        }
    }

    /// The watchpoint flags for the read and write tags of virtual page
    /// `vpage`.
    fn watch_flags(&self, vpage: u64) -> (u64, u64) {
        let mut flags = (0, 0);
        for w in self
            .watchpoints
            .iter()
            .filter(|w| w.overlaps(vpage, PAGE_SIZE))
        {
            if w.kind.matches(MmuAccess::Load) {
                flags.0 = TLB_WATCHPOINT;
            }
            if w.kind.matches(MmuAccess::Store) {
                flags.1 = TLB_WATCHPOINT;
            }
        }
        flags
    }

    /// Ignore watchpoints (while the instruction a watchpoint stopped
    /// before is run), or heed them again.
    pub fn suppress_watchpoints(&mut self, suppress: bool) {
        self.watch_suppressed = suppress;
    }

    /// A slow-path access of `size` bytes at `vaddr` of kind `access`, on
    /// a page flagged for watchpoints: whether it hits one (recorded; the
    /// access is then not made).
    pub(crate) fn check_watchpoints(
        &mut self,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
    ) -> bool {
        if self.watch_hit.is_some() || self.watch_suppressed {
            return false;
        }
        let hit = self
            .watchpoints
            .iter()
            .find(|w| w.kind.matches(access) && w.overlaps(vaddr.0, u64::from(size)));
        let Some(&watchpoint) = hit else {
            return false;
        };
        self.watch_hit = Some(WatchHit {
            watchpoint,
            access_addr: vaddr.0,
            size,
            store: access == MmuAccess::Store,
            pc: None,
        });
        true
    }

    /// Keep the host mapping behind `host..host + PAGE_SIZE` (ram address
    /// `ram`) alive for as long as slots may point into it. False when no
    /// RAM block holds the page whole (the page is then not installed as
    /// host memory).
    fn pin(&mut self, mem: &MemorySystem, host: *mut u8, ram: RamAddr) -> bool {
        let len = PAGE_SIZE as usize;
        if self.pins.iter().any(|p| p.contains(host, len)) {
            return true;
        }
        match mem.ram_host_ref(ram) {
            Some(keep) if keep.contains(host, len) => {
                self.pins.push(keep);
                true
            }
            _ => false,
        }
    }

    /// The address space the TLB resolves physical addresses in.
    pub fn space(&self) -> AddressSpaceId {
        self.space
    }

    /// Statistics so far.
    pub fn stats(&self) -> TlbStats {
        self.stats
    }

    /// The current fast-table size (slots) of `mmu_idx`.
    pub fn table_len(&self, mmu_idx: MmuIdx) -> usize {
        self.modes[mmu_idx.index()].table.len()
    }

    /// The hot entry that `vaddr` indexes in `mmu_idx` (for tests and tracing).
    pub fn entry(&self, mmu_idx: MmuIdx, vaddr: VirtAddr) -> TlbEntry {
        *self.modes[mmu_idx.index()].entry(vaddr.0)
    }

    /// Fast-path load of `N` bytes: `Some(value)` (zero-extended) when the
    /// page is in the table as plain RAM and the access is aligned.
    #[inline(always)]
    pub fn load_fast<const N: usize>(&self, mmu_idx: MmuIdx, vaddr: VirtAddr) -> Option<u64> {
        let vaddr = vaddr.0;
        let e = self.modes[mmu_idx.index()].entry(vaddr);
        if e.addr_read == vaddr & (PAGE_MASK | (N as u64 - 1)) {
            let p = e.addend.wrapping_add(vaddr as usize) as *const u8;
            // SAFETY: a flag-free read tag equal to the page means the slot was
            // installed for a RAM page whose host memory (mapped for the life of
            // the region, and the TLB is flushed when the flat view changes)
            // starts at `addend + page`; the access is aligned, so it stays in
            // the page.
            Some(unsafe { read_host::<N>(p) })
        } else {
            None
        }
    }

    /// Fast-path fetch of `N` bytes through the code tag.
    #[inline(always)]
    pub fn fetch_fast<const N: usize>(&self, mmu_idx: MmuIdx, vaddr: VirtAddr) -> Option<u64> {
        let vaddr = vaddr.0;
        let e = self.modes[mmu_idx.index()].entry(vaddr);
        if e.addr_code == vaddr & (PAGE_MASK | (N as u64 - 1)) {
            let p = e.addend.wrapping_add(vaddr as usize) as *const u8;
            // SAFETY: as in `load_fast`, for the code tag.
            Some(unsafe { read_host::<N>(p) })
        } else {
            None
        }
    }

    /// Fast-path store of the low `N` bytes of `value`: true when done.
    #[inline(always)]
    pub fn store_fast<const N: usize>(
        &mut self,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        value: u64,
    ) -> bool {
        let vaddr = vaddr.0;
        let e = self.modes[mmu_idx.index()].entry(vaddr);
        if e.addr_write == vaddr & (PAGE_MASK | (N as u64 - 1)) {
            let p = e.addend.wrapping_add(vaddr as usize) as *mut u8;
            // SAFETY: a flag-free write tag means writable RAM that is dirty
            // for every client (no translated code to invalidate); see
            // `load_fast` for why the pointer is valid.
            unsafe { write_host::<N>(p, value) };
            true
        } else {
            false
        }
    }

    /// A store of the low `N` bytes of `value` that missed the fast path
    /// only because its page holds translated code (QEMU has no such path;
    /// it sends every store to such a page through its slow path): when the
    /// slot allows stores beside the code ([`TlbFull::code_bytes`]) and none
    /// of the store's bytes holds code, make it and return true. Nothing
    /// else needs doing: the slow path allowed it only while every dirty
    /// client but CODE already had the page dirty, and the CODE bit stays
    /// clean for the code that is still there.
    #[inline]
    pub fn store_beside_code<const N: usize>(
        &mut self,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        value: u64,
    ) -> bool {
        let vaddr = vaddr.0;
        let m = &self.modes[mmu_idx.index()];
        let i = m.index(vaddr);
        // SAFETY: `index` masks with `table.len() - 1`; `full` has the
        // table's length.
        let (e, full) = unsafe { (m.table.get_unchecked(i), m.full.get_unchecked(i)) };
        if e.addr_write != vaddr & (PAGE_MASK | (N as u64 - 1)) | TLB_NOTDIRTY {
            return false;
        }
        let Some(Some(beside)) = self.beside_code.get(full.code_bytes as usize) else {
            return false;
        };
        // An aligned store of at most 8 bytes lies in one word of the bits.
        let offset = vaddr & !PAGE_MASK;
        let bits = (u64::MAX >> (64 - N as u32)) << (offset & 63);
        if beside.bytes[(offset >> 6) as usize] & bits != 0 {
            return false;
        }
        let p = e.addend.wrapping_add(vaddr as usize) as *mut u8;
        // SAFETY: the write tag is the page's with NOTDIRTY as its only flag,
        // so the slot maps a whole writable RAM page at `addend + page` (see
        // `load_fast`); the access is aligned, so it stays in the page.
        unsafe { write_host::<N>(p, value) };
        self.stats.beside_code_stores += 1;
        true
    }

    /// Let stores to slot `i` of `mmu_idx` beside the code bytes `bytes` of
    /// its page go without the slow path (see [`Tlb::store_beside_code`]).
    pub(crate) fn allow_beside_code(&mut self, mmu_idx: MmuIdx, i: usize, bytes: &CodeBytes) {
        let Some(page) = self.modes[mmu_idx.index()].full[i].kind.ram() else {
            return;
        };
        let known = self
            .beside_code
            .iter()
            .position(|b| b.as_ref().is_some_and(|b| b.page == page));
        let free = || self.beside_code.iter().position(Option::is_none);
        let k = match known.or_else(free) {
            Some(k) => k,
            None => {
                if self.beside_code.len() >= MAX_BESIDE_CODE_PAGES {
                    self.forget_all_code_bytes();
                }
                self.beside_code.push(None);
                self.beside_code.len() - 1
            }
        };
        self.beside_code[k] = Some(BesideCode {
            page,
            bytes: Box::new(*bytes),
        });
        self.modes[mmu_idx.index()].full[i].code_bytes = k as u32;
    }

    /// Code on ram page `page` gained bytes: slots that allowed stores beside
    /// the old code send every store to the slow path again.
    pub fn forget_code_bytes(&mut self, page: RamAddr) {
        let page = RamAddr(page.0 & PAGE_MASK);
        let Some(k) = self
            .beside_code
            .iter()
            .position(|b| b.as_ref().is_some_and(|b| b.page == page))
        else {
            return;
        };
        self.beside_code[k] = None;
        let k = k as u32;
        self.for_each_slot_of(page, page, |_, f| {
            if f.code_bytes == k {
                f.code_bytes = NO_CODE_BYTES;
            }
        });
    }

    fn forget_all_code_bytes(&mut self) {
        for m in &mut self.modes {
            for f in m.full.iter_mut().chain(m.victim_full.iter_mut()) {
                f.code_bytes = NO_CODE_BYTES;
            }
        }
        self.beside_code.clear();
    }

    /// Call `f` on every slot (fast and victim tables of modes in use)
    /// mapping writable RAM between ram pages `first` and `last`.
    fn for_each_slot_of(
        &mut self,
        first: RamAddr,
        last: RamAddr,
        mut f: impl FnMut(&mut TlbEntry, &mut TlbFull),
    ) {
        let hit = |full: &TlbFull| match full.kind {
            PageKind::Ram {
                ram,
                readonly: false,
            } => ram >= first && ram <= last,
            _ => false,
        };
        for m in &mut self.modes {
            if !m.in_use() {
                continue;
            }
            let entries = m.table.iter_mut().zip(m.full.iter_mut());
            let victims = m.victim.iter_mut().zip(m.victim_full.iter_mut());
            for (e, full) in entries.chain(victims) {
                if hit(full) {
                    f(e, full);
                }
            }
        }
    }

    /// Fast-path atomic read-modify-write of `N` bytes: when both the read and
    /// the write tag allow it, replace the value `old` with `op(old)` and
    /// return `Some(old)`.
    #[inline(always)]
    pub fn rmw_fast<const N: usize>(
        &mut self,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        op: impl FnOnce(u64) -> u64,
    ) -> Option<u64> {
        let vaddr = vaddr.0;
        let e = self.modes[mmu_idx.index()].entry(vaddr);
        let cmp = vaddr & (PAGE_MASK | (N as u64 - 1));
        if e.addr_write == cmp && e.addr_read == cmp {
            let p = e.addend.wrapping_add(vaddr as usize) as *mut u8;
            // SAFETY: as in `store_fast` and `load_fast`.
            unsafe {
                let old = read_host::<N>(p);
                write_host::<N>(p, op(old));
                Some(old)
            }
        } else {
            None
        }
    }

    /// The ram address of `vaddr` if its code tag is present and flag-free:
    /// what a block lookup keys on, without a fill.
    #[inline]
    pub fn code_ram_fast(&self, mmu_idx: MmuIdx, vaddr: VirtAddr) -> Option<RamAddr> {
        let m = &self.modes[mmu_idx.index()];
        let i = m.index(vaddr.0);
        if m.table[i].addr_code == vaddr.page().0 {
            m.full[i]
                .kind
                .ram()
                .map(|r| RamAddr(r.0 + vaddr.page_offset()))
        } else {
            None
        }
    }

    /// Install `map` in `mmu_idx` (QEMU's `tlb_set_page`): resolve the
    /// physical page through the address space's dispatch and set each tag
    /// and its flags. Returns the slot index.
    pub fn install(&mut self, mem: &MemorySystem, mmu_idx: MmuIdx, map: &PageMapping) -> usize {
        let m = &mut self.modes[mmu_idx.index()];
        if m.sizing.wants_growth(m.bits) {
            let sizing = m.sizing;
            *m = ModeTable::new(m.bits + 1);
            m.sizing = TableSizing {
                conflicts: 0,
                used: 0,
                ..sizing
            };
        }
        let vpage = map.vaddr.page().0;
        let ppage = map.paddr.0 & PAGE_MASK;
        if map.page_size_log2 > PAGE_BITS {
            m.record_large_page(vpage, map.page_size_log2);
        }
        // A stale copy of this page in the victim table must not survive.
        for v in &mut m.victim {
            if v.maps_page(vpage) {
                *v = TlbEntry::EMPTY;
            }
        }

        let t = mem.lookup_section(self.space, GuestAddress(ppage));
        let whole_page = t.len >= PAGE_SIZE;
        let section = whole_page.then_some(IoSection {
            region: t.region,
            offset: t.offset_in_region,
        });
        let (kind, host, section) = match t.kind {
            SectionKind::Ram {
                host,
                ram_addr,
                readonly,
            } if whole_page && self.pin(mem, host, ram_addr) => (
                PageKind::Ram {
                    ram: ram_addr,
                    readonly,
                },
                Some(host),
                None,
            ),
            SectionKind::RomDevice { host, ram_addr }
                if whole_page && self.pin(mem, host, ram_addr) =>
            {
                (PageKind::RomDevice { ram: ram_addr }, Some(host), section)
            }
            SectionKind::Unassigned => (PageKind::Unassigned, None, None),
            SectionKind::Io => (PageKind::Io, None, section),
            // RAM or a ROM device sharing the page with other sections.
            _ => (PageKind::Io, None, None),
        };
        let base = vpage | if map.cacheable { 0 } else { TLB_RECHECK };
        let io = if host.is_some() { 0 } else { TLB_MMIO };
        let tag_if = |allowed: bool, flags: u64| if allowed { base | flags } else { TAG_EMPTY };
        let write_flags = match kind {
            PageKind::Ram { readonly: true, .. } => TLB_DISCARD_WRITE,
            PageKind::Ram {
                ram,
                readonly: false,
            } => {
                if mem.ram_all_clients_dirty(ram) {
                    0
                } else {
                    TLB_NOTDIRTY
                }
            }
            PageKind::RomDevice { .. } | PageKind::Io | PageKind::Unassigned => TLB_MMIO,
        };
        let (watch_read, watch_write) = if self.watchpoints.is_empty() {
            (0, 0)
        } else {
            self.watch_flags(vpage)
        };
        let m = &mut self.modes[mmu_idx.index()];
        let entry = TlbEntry {
            addr_read: tag_if(map.prot.contains(Prot::READ), io | watch_read),
            addr_write: tag_if(map.prot.contains(Prot::WRITE), write_flags | watch_write),
            addr_code: tag_if(map.prot.contains(Prot::EXEC), io),
            addend: host.map_or(0, |h| (h as usize).wrapping_sub(vpage as usize)),
        };
        let full = TlbFull {
            paddr: GuestAddress(ppage),
            kind,
            section,
            prot: map.prot,
            attrs: map.attrs,
            code_bytes: NO_CODE_BYTES,
        };

        let i = m.index(vpage);
        let old = m.table[i];
        if old.is_empty() {
            m.sizing.used += 1;
        } else if !old.maps_page(vpage) {
            // Evict to the victim table, round robin.
            m.sizing.conflicts += 1;
            let k = m.victim_next;
            m.victim[k] = old;
            m.victim_full[k] = m.full[i];
            m.victim_next = (k + 1) % VICTIM_SIZE;
        }
        m.table[i] = entry;
        m.full[i] = full;
        self.stats.fills += 1;
        i
    }

    /// Look for `vaddr`'s page with a valid `access` tag in the victim table;
    /// on a hit swap it into the fast table and return the slot index.
    pub(crate) fn victim_lookup(
        &mut self,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        access: MmuAccess,
    ) -> Option<usize> {
        let m = &mut self.modes[mmu_idx.index()];
        let page = vaddr.page().0;
        let vaddr = vaddr.0;
        let k = m
            .victim
            .iter()
            .position(|v| tag_maps_page(v.tag(access), page))?;
        let i = m.index(vaddr);
        std::mem::swap(&mut m.table[i], &mut m.victim[k]);
        std::mem::swap(&mut m.full[i], &mut m.victim_full[k]);
        self.stats.victim_hits += 1;
        Some(i)
    }

    /// Hot and cold halves of slot `i` of `mmu_idx`.
    pub(crate) fn slot(&self, mmu_idx: MmuIdx, i: usize) -> (TlbEntry, TlbFull) {
        let m = &self.modes[mmu_idx.index()];
        (m.table[i], m.full[i])
    }

    /// Clear `flags` from the write tag of slot `i`.
    pub(crate) fn clear_write_flags(&mut self, mmu_idx: MmuIdx, i: usize, flags: u64) {
        self.modes[mmu_idx.index()].table[i].addr_write &= !flags;
    }

    /// The slot index `vaddr` maps to in `mmu_idx`.
    pub(crate) fn index(&self, mmu_idx: MmuIdx, vaddr: VirtAddr) -> usize {
        self.modes[mmu_idx.index()].index(vaddr.0)
    }

    pub(crate) fn count_slow(&mut self) {
        self.stats.slow_accesses += 1;
    }

    /// Empty every mode named in `mode_mask` (bit `i` = mmu index `i`).
    pub fn flush(&mut self, mode_mask: u32) {
        self.stats.flushes += 1;
        for (i, m) in self.modes.iter_mut().enumerate() {
            if mode_mask & (1 << i) != 0 && m.in_use() {
                m.flush();
            }
        }
    }

    /// Empty every mode, and let go of the host mappings the slots pointed
    /// into.
    pub fn flush_all(&mut self) {
        self.flush(ALL_MODES);
        self.pins.clear();
        self.beside_code.clear();
    }

    /// Drop the translations of the virtual page holding `vaddr` in the modes
    /// named by `mode_mask`. A mode in which a superpage covering `vaddr` was
    /// installed is flushed entirely (only 4 KiB of a superpage is ever in a
    /// slot, so the other slots of the superpage cannot be found cheaply).
    pub fn flush_page(&mut self, vaddr: VirtAddr, mode_mask: u32) {
        self.stats.page_flushes += 1;
        for (i, m) in self.modes.iter_mut().enumerate() {
            if mode_mask & (1 << i) != 0 && m.flush_page(vaddr.0) {
                self.stats.flushes += 1;
            }
        }
    }

    /// Dirty bits were cleared for ram addresses `start..start + len`: put
    /// `NOTDIRTY` back on every writable slot mapping those pages, so the next
    /// store to them takes the slow path (QEMU's `tlb_reset_dirty`).
    /// Slots that allowed stores beside code on those pages no longer do:
    /// a client other than CODE may now need to see the stores.
    pub fn rearm_notdirty(&mut self, start: RamAddr, len: u64) {
        if len == 0 {
            return;
        }
        let first = RamAddr(start.0 & PAGE_MASK);
        let last = RamAddr(start.0.saturating_add(len - 1) & PAGE_MASK);
        for b in &mut self.beside_code {
            if b.as_ref()
                .is_some_and(|b| b.page >= first && b.page <= last)
            {
                *b = None;
            }
        }
        self.for_each_slot_of(first, last, |e, f| {
            if e.addr_write & (TLB_INVALID | TLB_MMIO | TLB_DISCARD_WRITE) == 0 {
                e.addr_write |= TLB_NOTDIRTY;
            }
            f.code_bytes = NO_CODE_BYTES;
        });
    }
}

#[cfg(test)]
mod tests;
