//! The translated-block cache.
//!
//! A [`Block`] is a run of guest instructions decoded once into the target's
//! executable form `I` (for RISC-V, the decoder's `Insn`), plus metadata.
//! The [`BlockCache`] owns every block of one CPU and finds them three ways:
//!
//! * a **jump cache**: a direct-mapped table indexed by a hash of the virtual
//!   pc, checked first; it holds no physical information, so it is cleared
//!   whenever the TLB is flushed ([`BlockCache::flush_jump_cache`]);
//! * a **hash map** (hashbrown) keyed by [`BlockKey`] (physical pc, virtual
//!   pc, flags), consulted on a jump-cache miss after the pc has been
//!   translated;
//! * **chains**: each block has two successor slots (taken / fall-through)
//!   caching the index of the block that followed it last time. Following a
//!   chain costs one array load. A chain between blocks whose virtual pcs
//!   are on the same page, into a block that spans a single page, stays
//!   valid for as long as both blocks live: the source block is only
//!   reached while its page maps to the ram it was translated from, and so
//!   is every address on that page. Any other chain (into another virtual
//!   page, or into a block spanning two pages) depends on the current
//!   virtual-to-physical mapping exactly as the jump cache does, so it is
//!   cut whenever the jump cache is flushed.
//!
//! Every block is registered on the ram pages its code occupies (two when
//! an instruction or the block crosses a page), and records the byte ranges
//! its code was read from, which it counts in the machine's [`CodeMap`]
//! while it lives. [`BlockCache::invalidate_page`] removes the blocks of a
//! page, [`BlockCache::invalidate_overlapping`] the blocks whose bytes a
//! range overlaps, and removing a block unlinks every chain into it and out
//! of it, clears its jump-cache slot and frees its index.
//!
//! Block storage is an `Rc<[I]>`, and a removed block's instructions are kept
//! in a *graveyard* until the cache's owner collects them: code that runs a
//! block's instructions while a store inside it invalidates that very block
//! (self-modifying code) keeps reading valid memory, without paying for a
//! reference-count update on every block it enters. Collection is
//! crate-private: only the engine's loop ([`crate::cpu`]) does it, between
//! two runs of chained blocks, where no block's code is in use.

pub mod code_map;

use std::rc::Rc;

use hashbrown::HashMap;

use ferrite_memory::RamAddr;

use crate::address::VirtAddr;
use crate::tlb::{PAGE_MASK, PAGE_SIZE};
pub use code_map::{CODE_LINE_BITS, CodeBytes, CodeMap, line_mask};

/// No block: an empty jump-cache slot or successor slot.
pub const NO_BLOCK: u32 = u32::MAX;
/// log2 of the jump-cache size.
pub const JUMP_CACHE_BITS: u32 = 12;
/// Blocks kept before the whole cache is flushed (QEMU flushes when its code
/// buffer is full). Bounds memory against guests that generate code forever.
pub const MAX_BLOCKS: usize = 1 << 18;

/// Index of a block in its cache. Stable while the block lives.
pub type BlockId = u32;

/// What identifies a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// Ram address of the first instruction.
    pub phys_pc: RamAddr,
    /// Virtual address of the first instruction.
    pub pc: VirtAddr,
    /// Target state the translation depends on (for RISC-V, the fetch MMU mode).
    pub flags: u32,
}

/// One translated block.
#[derive(Debug)]
pub struct Block<I> {
    /// The key the block was translated for.
    pub key: BlockKey,
    /// The decoded instructions, in order.
    pub insns: Rc<[I]>,
    /// Bytes of guest code covered (pc of the instruction after the block
    /// is `key.pc + byte_len`).
    pub byte_len: u32,
    /// Target-defined word describing how the block ends when it does not
    /// end with one of `insns` (for RISC-V: the bits of an undecodable
    /// instruction that follows the last decoded one).
    pub terminal: Option<u32>,
    /// The ram pages the block's code occupies (page addresses); the second
    /// is `None` for a single-page block.
    pub pages: [Option<RamAddr>; 2],
    /// The ram byte ranges (start, length) the code was read from, each
    /// within one of `pages`; empty when the translator named none, and the
    /// block then stands for every byte of its pages.
    pub ranges: Vec<(RamAddr, u32)>,
    /// The 64-byte lines of each of `pages` the ranges touch (see
    /// [`line_mask`]).
    lines: [u64; 2],
    succ: [BlockId; 2],
    incoming: Vec<(BlockId, u8)>,
}

impl<I> Block<I> {
    /// Whether the block's code spans two pages.
    pub fn spans_two_pages(&self) -> bool {
        self.pages[1].is_some()
    }

    /// The 64-byte lines of ram page `page` the block's code occupies.
    fn page_lines(&self, page: RamAddr) -> u64 {
        (0..2)
            .filter(|&k| self.pages[k] == Some(page))
            .fold(0, |m, k| m | self.lines[k])
    }

    /// Take the block's lines off the code map.
    fn release_code(&self, code: &CodeMap) {
        for (k, p) in self.pages.iter().enumerate() {
            if let Some(p) = p {
                code.remove(*p, self.lines[k]);
            }
        }
    }

    /// Whether the block's code was read from any byte of ram addresses
    /// `start..start + len`.
    pub fn overlaps(&self, start: RamAddr, len: u64) -> bool {
        let end = start.0.saturating_add(len.max(1));
        if self.ranges.is_empty() {
            return self
                .pages
                .iter()
                .flatten()
                .any(|p| start.0 < p.0 + PAGE_SIZE && p.0 < end);
        }
        self.ranges
            .iter()
            .any(|&(s, n)| start.0 < s.0 + u64::from(n) && s.0 < end)
    }

    /// The chained successor in `slot` (0 = taken/jump, 1 = fall-through).
    pub fn successor(&self, slot: usize) -> Option<BlockId> {
        let s = self.succ[slot & 1];
        (s != NO_BLOCK).then_some(s)
    }
}

/// The per-block data the executor touches, kept apart from [`Block`]: one
/// cache line per block, so that an index is a shift and a lookup touches
/// one line. Slices are kept as pointer and `u32` length to fit.
#[derive(Debug)]
#[repr(C, align(64))]
struct Hot<I> {
    /// The code of the blocks in `succ` (empty where `succ` is `NO_BLOCK`):
    /// following a chain reads one entry, not two.
    succ_ptr: [*const I; 2],
    succ_len: [u32; 2],
    succ: [BlockId; 2],
    code_ptr: *const I,
    code_len: u32,
    flags: u32,
    pc: VirtAddr,
}

impl<I> Hot<I> {
    #[inline(always)]
    fn code(&self) -> *const [I] {
        std::ptr::slice_from_raw_parts(self.code_ptr, self.code_len as usize)
    }

    #[inline(always)]
    fn succ_code(&self, slot: usize) -> *const [I] {
        std::ptr::slice_from_raw_parts(self.succ_ptr[slot], self.succ_len[slot] as usize)
    }

    /// Chain `slot` to the block `to` whose code is `code`, or to nothing.
    fn set_succ(&mut self, slot: usize, to: BlockId, code: *const [I]) {
        self.succ[slot] = to;
        self.succ_ptr[slot] = code as *const I;
        // A block has at most a few hundred slots.
        self.succ_len[slot] = code.len() as u32;
    }
}

const _: () = assert!(std::mem::size_of::<Hot<u64>>() == 64);

impl<I> Clone for Hot<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for Hot<I> {}

/// Counters for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Blocks inserted.
    pub translated: u64,
    /// Blocks removed by invalidation.
    pub invalidated: u64,
    /// Chains made.
    pub chained: u64,
    /// Whole-cache flushes.
    pub flushes: u64,
}

/// The block cache of one CPU. See the [module documentation](self).
#[derive(Debug)]
pub struct BlockCache<I> {
    slots: Vec<Option<Block<I>>>,
    free: Vec<BlockId>,
    graveyard: Vec<Rc<[I]>>,
    /// What the executor reads on every block, packed per id: code,
    /// successors, pc and flags mirrored from the blocks (no `Option` test).
    hot: Vec<Hot<I>>,
    map: HashMap<BlockKey, BlockId>,
    jump: Box<[BlockId; 1 << JUMP_CACHE_BITS]>,
    pages: HashMap<RamAddr, Vec<BlockId>>,
    /// The code lines of every page, shared with the other CPUs' caches.
    code: Rc<CodeMap>,
    /// Pages where inserted blocks gave bytes their first code bit, since
    /// [`BlockCache::take_grown_pages`].
    grown_pages: Vec<RamAddr>,
    /// Chains that depend on the current mappings (see the module
    /// documentation), cut by [`BlockCache::flush_jump_cache`]. May name
    /// chains already cut by a removal.
    mapped_links: Vec<(BlockId, u8)>,
    live: usize,
    epoch: u64,
    stats: BlockStats,
}

impl<I> Default for BlockCache<I> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a chain from `from` into `to` depends on the current mappings
/// (see the module documentation): it leaves the virtual page, or enters a
/// block spanning two pages.
fn depends_on_mappings<I>(from: &Block<I>, to: &Block<I>) -> bool {
    from.key.pc.page() != to.key.pc.page() || to.spans_two_pages()
}

/// The code of no block: an empty slice (a successor slot without a
/// successor holds it).
fn no_code<I>() -> *const [I] {
    std::ptr::slice_from_raw_parts(std::ptr::null(), 0)
}

/// The page of ram address `r`.
fn page_of(r: RamAddr) -> RamAddr {
    RamAddr(r.0 & PAGE_MASK)
}

#[inline(always)]
fn jump_hash(pc: VirtAddr) -> usize {
    let pc = pc.0;
    ((pc >> 1) ^ (pc >> (1 + JUMP_CACHE_BITS))) as usize & ((1 << JUMP_CACHE_BITS) - 1)
}

impl<I> BlockCache<I> {
    /// An empty cache with a code map of its own.
    pub fn new() -> Self {
        Self::with_code_map(Rc::new(CodeMap::new()))
    }

    /// An empty cache that counts its blocks' code in `code` (the map of
    /// the machine, shared by its CPUs).
    pub fn with_code_map(code: Rc<CodeMap>) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            graveyard: Vec::new(),
            hot: Vec::new(),
            map: HashMap::new(),
            jump: Box::new([NO_BLOCK; 1 << JUMP_CACHE_BITS]),
            pages: HashMap::new(),
            code,
            grown_pages: Vec::new(),
            mapped_links: Vec::new(),
            live: 0,
            epoch: 0,
            stats: BlockStats::default(),
        }
    }

    /// The code map the cache counts its blocks in.
    pub fn code_map(&self) -> &Rc<CodeMap> {
        &self.code
    }

    /// The pages on which blocks inserted since the last call gave bytes
    /// their first code bit (copies of those pages' code bytes are stale).
    pub fn take_grown_pages(&mut self) -> Vec<RamAddr> {
        std::mem::take(&mut self.grown_pages)
    }

    /// Statistics so far.
    pub fn stats(&self) -> BlockStats {
        self.stats
    }

    /// Number of live blocks.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether there are no blocks.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// A counter bumped by every invalidation or flush. An executor that
    /// remembers it across a block can tell whether any block (possibly the
    /// one it ran, whose index may since have been reused) went away.
    #[inline(always)]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The block `id`. Panics if `id` is not live (a caller bug, never
    /// guest-controlled: ids come from this cache).
    #[inline(always)]
    pub fn block(&self, id: BlockId) -> &Block<I> {
        match self.slots.get(id as usize) {
            Some(Some(b)) => b,
            _ => panic!("block {id} is not live"),
        }
    }

    /// The block `id` if it is live.
    pub fn get(&self, id: BlockId) -> Option<&Block<I>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// Jump-cache lookup by virtual pc and flags.
    #[inline(always)]
    pub fn lookup_jump(&self, pc: VirtAddr, flags: u32) -> Option<BlockId> {
        self.lookup_jump_code(pc, flags).map(|(id, _)| id)
    }

    /// Hash-map lookup; on a hit the jump cache is updated. A block that
    /// spans two pages is only returned if `second_page` (called with the
    /// virtual address of its second page) still yields the ram page it was
    /// translated from.
    pub fn lookup(
        &mut self,
        key: BlockKey,
        second_page: impl FnOnce(VirtAddr) -> Option<RamAddr>,
    ) -> Option<BlockId> {
        let id = *self.map.get(&key)?;
        let b = self.block(id);
        if let Some(p2) = b.pages[1] {
            let vpage2 = key.pc.page().wrapping_add(PAGE_SIZE);
            if second_page(vpage2).map(page_of) != Some(p2) {
                return None;
            }
        }
        self.jump[jump_hash(key.pc)] = id;
        Some(id)
    }

    /// Add a block (replacing any block with the same key) and return its id.
    /// `pages` are the ram page addresses its code occupies (one or two);
    /// `ranges` the ram byte ranges (start, length) it was read from, each
    /// within one of the pages (empty: all of them).
    pub fn insert(
        &mut self,
        key: BlockKey,
        insns: Vec<I>,
        byte_len: u32,
        terminal: Option<u32>,
        pages: &[RamAddr],
        ranges: &[(RamAddr, u32)],
    ) -> BlockId {
        if self.live >= MAX_BLOCKS {
            self.flush();
        }
        if let Some(&old) = self.map.get(&key) {
            self.remove(old);
        }
        let page_list = [
            pages.first().copied().map(page_of),
            pages
                .get(1)
                .copied()
                .map(page_of)
                .filter(|p| Some(*p) != pages.first().copied().map(page_of)),
        ];
        let mut lines = [0u64; 2];
        for (k, page) in page_list.iter().enumerate() {
            let Some(page) = *page else { continue };
            lines[k] = if ranges.is_empty() {
                u64::MAX
            } else {
                ranges
                    .iter()
                    .filter(|(s, _)| page_of(*s) == page)
                    .fold(0, |m, &(s, n)| m | line_mask(s.0, u64::from(n)))
            };
            // A page the ranges miss still counts whole: nothing about it
            // is known.
            if lines[k] == 0 {
                lines[k] = u64::MAX;
            }
            if self.code.add(page, lines[k], ranges) {
                self.grown_pages.push(page);
            }
        }
        let block = Block {
            key,
            insns: insns.into(),
            byte_len,
            terminal,
            pages: page_list,
            ranges: ranges.to_vec(),
            lines,
            succ: [NO_BLOCK; 2],
            incoming: Vec::new(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(block);
                id
            }
            None => {
                self.slots.push(Some(block));
                (self.slots.len() - 1) as BlockId
            }
        };
        let code = Rc::as_ptr(&self.block(id).insns);
        let hot = Hot {
            succ_ptr: [std::ptr::null(); 2],
            succ_len: [0; 2],
            succ: [NO_BLOCK; 2],
            code_ptr: code as *const I,
            // A block has at most a few hundred slots.
            code_len: code.len() as u32,
            flags: key.flags,
            pc: key.pc,
        };
        if self.hot.len() <= id as usize {
            self.hot.resize(id as usize + 1, hot);
        }
        self.hot[id as usize] = hot;
        for p in page_list.into_iter().flatten() {
            self.pages.entry(p).or_default().push(id);
        }
        self.map.insert(key, id);
        self.jump[jump_hash(key.pc)] = id;
        self.live += 1;
        self.stats.translated += 1;
        id
    }

    /// Chain `from`'s successor `slot` to `to`, if allowed: both live, same
    /// flags. A chain to another virtual page or into a block spanning two
    /// pages lasts only until the next [`BlockCache::flush_jump_cache`].
    /// Returns whether the chain was made.
    pub fn link(&mut self, from: BlockId, slot: usize, to: BlockId) -> bool {
        let slot = slot & 1;
        let (Some(f), Some(t)) = (self.get(from), self.get(to)) else {
            return false;
        };
        if f.key.flags != t.key.flags {
            return false;
        }
        if f.succ[slot] == to {
            return true;
        }
        let mapped = depends_on_mappings(f, t);
        self.unlink(from, slot);
        if let Some(Some(f)) = self.slots.get_mut(from as usize) {
            f.succ[slot] = to;
        }
        let to_code = self.hot.get(to as usize).map(Hot::code);
        if let (Some(h), Some(code)) = (self.hot.get_mut(from as usize), to_code) {
            h.set_succ(slot, to, code);
        }
        if let Some(Some(t)) = self.slots.get_mut(to as usize) {
            t.incoming.push((from, slot as u8));
        }
        if mapped {
            if self.mapped_links.len() > 2 * self.live + 1024 {
                // Drop entries whose chain a removal already cut.
                let hot = &self.hot;
                self.mapped_links.retain(|&(b, k)| {
                    hot.get(b as usize)
                        .is_some_and(|h| h.succ[usize::from(k)] != NO_BLOCK)
                });
            }
            self.mapped_links.push((from, slot as u8));
        }
        self.stats.chained += 1;
        true
    }

    /// Cut the chain in `from`'s successor `slot`, if any.
    fn unlink(&mut self, from: BlockId, slot: usize) {
        let Some(Some(f)) = self.slots.get_mut(from as usize) else {
            return;
        };
        let old = std::mem::replace(&mut f.succ[slot], NO_BLOCK);
        if let Some(h) = self.hot.get_mut(from as usize) {
            h.set_succ(slot, NO_BLOCK, no_code());
        }
        if old != NO_BLOCK {
            if let Some(Some(o)) = self.slots.get_mut(old as usize) {
                o.incoming
                    .retain(|&(s, k)| !(s == from && usize::from(k) == slot));
            }
        }
    }

    /// The ids of the blocks registered on ram page `page` (any address in it).
    pub fn blocks_on_page(&self, page: RamAddr) -> Vec<BlockId> {
        self.pages.get(&page_of(page)).cloned().unwrap_or_default()
    }

    /// Whether any block is registered on the ram page holding `addr`.
    pub fn page_has_code(&self, addr: RamAddr) -> bool {
        self.pages
            .get(&page_of(addr))
            .is_some_and(|v| !v.is_empty())
    }

    /// Remove every block on the ram page holding `addr`; returns how many.
    pub fn invalidate_page(&mut self, addr: RamAddr) -> usize {
        let Some(ids) = self.pages.remove(&page_of(addr)) else {
            return 0;
        };
        let n = ids.len();
        for id in ids {
            self.remove(id);
        }
        n
    }

    /// Remove every block whose code was read from a byte of ram addresses
    /// `start..start + len` (a store into code); returns how many. Blocks
    /// on the same pages that the range misses stay.
    pub fn invalidate_overlapping(&mut self, start: RamAddr, len: u64) -> usize {
        let mut n = 0;
        let mut page = start.0 & PAGE_MASK;
        let end = start.0.saturating_add(len.max(1));
        while page < end {
            // The part of the range on this page.
            let from = start.0.max(page);
            let to = end.min(page.saturating_add(PAGE_SIZE));
            if !self.code.overlaps(RamAddr(from), to - from) {
                page = match page.checked_add(PAGE_SIZE) {
                    Some(p) => p,
                    None => break,
                };
                continue;
            }
            let lines = line_mask(from, to - from);
            let hit: Vec<BlockId> = self
                .pages
                .get(&RamAddr(page))
                .map(|ids| {
                    ids.iter()
                        .copied()
                        .filter(|&id| {
                            self.get(id).is_some_and(|b| {
                                b.page_lines(RamAddr(page)) & lines != 0 && b.overlaps(start, len)
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            n += hit.len();
            for id in hit {
                self.remove(id);
            }
            page = match page.checked_add(PAGE_SIZE) {
                Some(p) => p,
                None => break,
            };
        }
        n
    }

    /// Remove every block on the pages of ram addresses `start..start + len`.
    pub fn invalidate_range(&mut self, start: RamAddr, len: u64) -> usize {
        let mut n = 0;
        let mut page = start.0 & PAGE_MASK;
        let end = start.0.saturating_add(len.max(1));
        while page < end {
            n += self.invalidate_page(RamAddr(page));
            page = match page.checked_add(PAGE_SIZE) {
                Some(p) => p,
                None => break,
            };
        }
        n
    }

    /// Remove one block: unlink chains into and out of it, drop it from the
    /// map, its pages and the jump cache, and free its id.
    pub fn remove(&mut self, id: BlockId) {
        let Some(block) = self.slots.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        self.epoch += 1;
        self.live -= 1;
        self.stats.invalidated += 1;
        if self.map.get(&block.key) == Some(&id) {
            self.map.remove(&block.key);
        }
        block.release_code(&self.code);
        for p in block.pages.into_iter().flatten() {
            if let Some(list) = self.pages.get_mut(&p) {
                list.retain(|&b| b != id);
                if list.is_empty() {
                    self.pages.remove(&p);
                }
            }
        }
        let j = jump_hash(block.key.pc);
        if self.jump[j] == id {
            self.jump[j] = NO_BLOCK;
        }
        for (src, slot) in block.incoming {
            if let Some(Some(s)) = self.slots.get_mut(src as usize) {
                if s.succ[usize::from(slot)] == id {
                    s.succ[usize::from(slot)] = NO_BLOCK;
                    if let Some(h) = self.hot.get_mut(src as usize) {
                        h.set_succ(usize::from(slot), NO_BLOCK, no_code());
                    }
                }
            }
        }
        for (slot, succ) in block.succ.into_iter().enumerate() {
            if succ != NO_BLOCK {
                if let Some(Some(t)) = self.slots.get_mut(succ as usize) {
                    t.incoming
                        .retain(|&(s, k)| !(s == id && usize::from(k) == slot));
                }
            }
        }
        if let Some(h) = self.hot.get_mut(id as usize) {
            h.set_succ(0, NO_BLOCK, no_code());
            h.set_succ(1, NO_BLOCK, no_code());
        }
        self.graveyard.push(block.insns);
        self.free.push(id);
    }

    /// Free the instructions of blocks removed since the last call. Until
    /// then they stay valid, so code may keep running a block that was
    /// removed under it. Only the engine's loop calls this, where no code
    /// runs (see the module documentation).
    #[inline]
    pub(crate) fn collect_garbage(&mut self) {
        if !self.graveyard.is_empty() {
            self.graveyard.clear();
        }
    }

    /// The instructions of block `id`, for the executor.
    ///
    /// The slice stays valid after the block is removed (by invalidation or
    /// flush) until the engine's loop collects removed blocks between two
    /// runs of chained blocks ([`crate::cpu`]); the pointer lets code keep it
    /// across calls that need `&mut self`.
    #[inline(always)]
    pub fn code(&self, id: BlockId) -> *const [I] {
        self.hot[id as usize].code()
    }

    /// The chained successor of block `id` in `slot` (0 = taken/jump,
    /// 1 = fall-through): the executor's per-block read, one packed entry.
    #[inline(always)]
    pub fn successor(&self, id: BlockId, slot: usize) -> Option<BlockId> {
        let s = self.hot[id as usize].succ[slot & 1];
        (s != NO_BLOCK).then_some(s)
    }

    /// The successor of block `id` in `slot` and its code, the one read of
    /// the executor's step into the next block: without a successor (or a
    /// live `id`) the code is empty, which the executor's budget test
    /// refuses like a block too long to enter, so no other test is needed.
    #[inline(always)]
    pub fn successor_code(&self, id: BlockId, slot: usize) -> (BlockId, *const [I]) {
        match self.hot.get(id as usize) {
            Some(h) => (h.succ[slot & 1], h.succ_code(slot & 1)),
            None => (NO_BLOCK, no_code()),
        }
    }

    /// Jump-cache lookup returning the block's code too (see
    /// [`BlockCache::lookup_jump`] and [`BlockCache::code`]).
    #[inline(always)]
    pub fn lookup_jump_code(&self, pc: VirtAddr, flags: u32) -> Option<(BlockId, *const [I])> {
        // A jump-cache slot only ever names a live block: removing a block
        // clears the one slot its pc hashes to, and a flush clears them all.
        let id = self.jump[jump_hash(pc)];
        match self.hot.get(id as usize) {
            Some(h) if h.pc == pc && h.flags == flags => Some((id, h.code())),
            _ => None,
        }
    }

    /// Forget the jump-cache entry of `pc`, if it names a block there: code
    /// leaving another block for `pc` then returns to the execution loop
    /// (which checks breakpoints) instead of entering the block itself.
    pub fn forget_jump(&mut self, pc: VirtAddr) {
        let slot = jump_hash(pc);
        let id = self.jump[slot];
        if self.hot.get(id as usize).is_some_and(|h| h.pc == pc) {
            self.jump[slot] = NO_BLOCK;
        }
    }

    /// Forget every jump-cache entry (after a TLB flush: virtual-to-physical
    /// mappings may have changed). Chains that depend on the mappings (see
    /// the module documentation) are cut at the same time.
    pub fn flush_jump_cache(&mut self) {
        self.jump.fill(NO_BLOCK);
        for (from, slot) in std::mem::take(&mut self.mapped_links) {
            // The entry may be stale: the chain cut by a removal and the
            // slot (or a reused id's slot) since chained within its page.
            let still_mapped = self.get(from).is_some_and(|f| {
                let to = f.succ[usize::from(slot)];
                self.get(to).is_some_and(|t| depends_on_mappings(f, t))
            });
            if still_mapped {
                self.unlink(from, usize::from(slot));
            }
        }
    }

    /// Remove every block.
    pub fn flush(&mut self) {
        for b in self.slots.drain(..).flatten() {
            b.release_code(&self.code);
            self.graveyard.push(b.insns);
        }
        self.hot.clear();
        self.free.clear();
        self.map.clear();
        self.pages.clear();
        self.mapped_links.clear();
        self.jump.fill(NO_BLOCK);
        self.live = 0;
        self.epoch += 1;
        self.stats.flushes += 1;
    }
}

impl<I> Drop for BlockCache<I> {
    /// The blocks' code leaves the shared code map with the cache.
    fn drop(&mut self) {
        for b in self.slots.iter().flatten() {
            b.release_code(&self.code);
        }
    }
}

#[cfg(test)]
mod tests;
