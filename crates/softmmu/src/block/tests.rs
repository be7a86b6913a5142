//! Block cache tests.

use super::*;

fn key(pc: u64) -> BlockKey {
    BlockKey {
        phys_pc: RamAddr(0x8000_0000 + pc),
        pc: VirtAddr(pc),
        flags: 3,
    }
}

/// A block's successor, checking the executor's packed copy agrees.
fn succ(c: &BlockCache<u32>, id: BlockId, slot: usize) -> Option<BlockId> {
    let s = c.block(id).successor(slot);
    assert_eq!(s, c.successor(id, slot));
    s
}

fn add(c: &mut BlockCache<u32>, pc: u64, n: u32) -> BlockId {
    let k = key(pc);
    c.insert(k, (0..n).collect(), n * 4, None, &[k.phys_pc], &[])
}

/// A block of `n` four-byte instructions at `pc`, with its byte range.
fn add_exact(c: &mut BlockCache<u32>, pc: u64, n: u32) -> BlockId {
    let k = key(pc);
    c.insert(
        k,
        (0..n).collect(),
        n * 4,
        None,
        &[k.phys_pc],
        &[(k.phys_pc, n * 4)],
    )
}

#[test]
fn lookup_by_jump_cache_and_map() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 3);
    assert_eq!(c.lookup_jump(VirtAddr(0x1000), 3), Some(a));
    assert_eq!(
        c.lookup_jump(VirtAddr(0x1000), 1),
        None,
        "flags are part of the identity"
    );
    assert_eq!(c.lookup_jump(VirtAddr(0x1004), 3), None);
    c.flush_jump_cache();
    assert_eq!(c.lookup_jump(VirtAddr(0x1000), 3), None);
    assert_eq!(c.lookup(key(0x1000), |_| None), Some(a));
    assert_eq!(
        c.lookup_jump(VirtAddr(0x1000), 3),
        Some(a),
        "map hit refills the jump cache"
    );
    assert_eq!(
        c.lookup(
            BlockKey {
                phys_pc: RamAddr(1),
                ..key(0x1000)
            },
            |_| None
        ),
        None
    );
    assert_eq!(&c.block(a).insns[..], &[0, 1, 2]);
    assert_eq!(c.len(), 1);
}

#[test]
fn chains_to_other_pages_last_until_the_jump_cache_is_flushed() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 2);
    let b = add(&mut c, 0x1100, 2);
    let far = add(&mut c, 0x2000, 2);
    assert!(c.link(a, 0, b));
    assert!(c.link(b, 1, a));
    assert!(c.link(a, 1, far), "different virtual page");
    assert_eq!(succ(&c, a, 0), Some(b));
    assert_eq!(succ(&c, a, 1), Some(far));
    assert_eq!(succ(&c, b, 1), Some(a));
    assert_eq!(c.stats().chained, 3);
    // A mapping change (signalled by the jump-cache flush) cuts only the
    // chain that leaves the page.
    c.flush_jump_cache();
    assert_eq!(succ(&c, a, 0), Some(b));
    assert_eq!(succ(&c, a, 1), None);
    assert_eq!(succ(&c, b, 1), Some(a));
    // Removing the target later does not disturb the re-made chain's
    // bookkeeping.
    assert!(c.link(a, 1, far));
    c.remove(far);
    assert_eq!(succ(&c, a, 1), None);
    c.flush_jump_cache();
    assert_eq!(succ(&c, a, 0), Some(b));
    // A slot chained across pages and then re-chained within its page keeps
    // the new chain through the flush.
    let far = add(&mut c, 0x2000, 2);
    assert!(c.link(a, 1, far));
    assert!(c.link(a, 1, b));
    c.flush_jump_cache();
    assert_eq!(succ(&c, a, 1), Some(b));
}

#[test]
fn invalidate_page_removes_blocks_and_unlinks_chains() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 2);
    let b = add(&mut c, 0x1100, 2);
    let other = add(&mut c, 0x5000, 2);
    c.link(a, 0, b);
    c.link(b, 0, a);
    c.link(a, 1, a);
    let epoch = c.epoch();
    assert_eq!(c.invalidate_page(RamAddr(0x8000_1100 + 0x10)), 2);
    assert!(c.epoch() > epoch);
    assert!(c.get(a).is_none() && c.get(b).is_none());
    assert!(c.get(other).is_some());
    assert_eq!(c.lookup(key(0x1000), |_| None), None);
    assert_eq!(c.lookup_jump(VirtAddr(0x1100), 3), None);
    assert!(!c.page_has_code(RamAddr(0x8000_1000)));
    assert_eq!(c.len(), 1);
    // A block on another page linked into a victim loses the chain.
    let x = add(&mut c, 0x5100, 1);
    let y = add(&mut c, 0x5200, 1);
    c.link(x, 0, y);
    c.link(other, 1, y);
    c.remove(y);
    assert_eq!(succ(&c, x, 0), None);
    assert_eq!(succ(&c, other, 1), None);
}

#[test]
fn reused_ids_do_not_inherit_chains() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 1);
    let b = add(&mut c, 0x1010, 1);
    c.link(a, 0, b);
    c.remove(a);
    // `b`'s incoming list must not make it unlink a new block reusing `a`'s id.
    let n = add(&mut c, 0x1020, 1);
    assert_eq!(n, a, "the freed id is reused");
    let d = add(&mut c, 0x1030, 1);
    assert!(c.link(n, 0, d));
    c.remove(b);
    assert_eq!(succ(&c, n, 0), Some(d));
}

#[test]
fn cross_page_blocks_register_both_pages() {
    let mut c: BlockCache<u32> = BlockCache::new();
    let k = BlockKey {
        phys_pc: RamAddr(0x8000_0ffc),
        pc: VirtAddr(0xffc),
        flags: 3,
    };
    let id = c.insert(
        k,
        vec![1, 2],
        8,
        None,
        &[RamAddr(0x8000_0ffc), RamAddr(0x9000_0000)],
        &[],
    );
    assert!(c.block(id).spans_two_pages());
    assert_eq!(c.blocks_on_page(RamAddr(0x8000_0000)), vec![id]);
    assert_eq!(c.blocks_on_page(RamAddr(0x9000_0abc)), vec![id]);
    // Found only while the second page still maps to the same ram page.
    assert_eq!(
        c.lookup(k, |v| Some(RamAddr(v.0 + 0x9000_0000 - 0x1000))),
        Some(id)
    );
    assert_eq!(c.lookup(k, |_| Some(RamAddr(0x7000_0000))), None);
    assert_eq!(c.lookup(k, |_| None), None);
    // A block spanning two pages is a chain target only until the mappings
    // may have changed.
    let a = add(&mut c, 0x100, 1);
    assert!(c.link(a, 0, id));
    assert_eq!(succ(&c, a, 0), Some(id));
    c.flush_jump_cache();
    assert_eq!(succ(&c, a, 0), None);
    // Invalidating the second page removes it from the first page's list too.
    assert_eq!(c.invalidate_page(RamAddr(0x9000_0000)), 1);
    assert_eq!(c.blocks_on_page(RamAddr(0x8000_0000)), vec![a]);
}

#[test]
fn invalidate_range_and_flush() {
    let mut c = BlockCache::new();
    for i in 0..4 {
        add(&mut c, 0x1000 * (i + 1), 1);
    }
    assert_eq!(c.invalidate_range(RamAddr(0x8000_1800), 0x1000), 2);
    assert_eq!(c.len(), 2);
    c.flush();
    assert!(c.is_empty());
    assert_eq!(c.lookup_jump(VirtAddr(0x3000), 3), None);
}

#[test]
fn stores_invalidate_exactly_the_blocks_they_overlap() {
    let code = Rc::new(CodeMap::new());
    let mut c = BlockCache::with_code_map(Rc::clone(&code));
    let page = RamAddr(0x8000_1000);
    let a = add_exact(&mut c, 0x1000, 4); // bytes 0x00..0x10
    let b = add_exact(&mut c, 0x1010, 2); // bytes 0x10..0x18
    let far = add_exact(&mut c, 0x1400, 2);
    assert_eq!(code.lines(page), 1 | 1 << (0x400 >> 6));
    // Data right after `b`, on the same line: nothing goes.
    assert_eq!(c.invalidate_overlapping(RamAddr(0x8000_1018), 8), 0);
    assert_eq!(c.len(), 3);
    // The last byte of `a`.
    assert_eq!(c.invalidate_overlapping(RamAddr(0x8000_100f), 1), 1);
    assert!(c.get(a).is_none() && c.get(b).is_some() && c.get(far).is_some());
    // A range across both remaining blocks' pages and lines.
    assert_eq!(c.invalidate_overlapping(RamAddr(0x8000_1014), 0x3f0), 2);
    assert!(c.is_empty());
    assert_eq!(code.lines(page), 0);
    assert_eq!(code.pages(), 0);
}

#[test]
fn caches_sharing_a_code_map_count_together() {
    let code = Rc::new(CodeMap::new());
    let mut c0 = BlockCache::with_code_map(Rc::clone(&code));
    let mut c1 = BlockCache::with_code_map(Rc::clone(&code));
    let page = RamAddr(0x8000_2000);
    add_exact(&mut c0, 0x2000, 2);
    add_exact(&mut c1, 0x2000, 2);
    c0.flush();
    assert_eq!(
        code.lines(page),
        1,
        "the other cache's block is still there"
    );
    drop(c1);
    assert_eq!(code.lines(page), 0, "a dropped cache takes its blocks off");
    // A block without ranges stands for all of its page.
    let k = key(0x3000);
    c0.insert(k, vec![1], 4, None, &[k.phys_pc], &[]);
    assert_eq!(code.lines(RamAddr(0x8000_3000)), u64::MAX);
    assert_eq!(c0.invalidate_overlapping(RamAddr(0x8000_3ff8), 8), 1);
}

#[test]
fn reinserting_a_key_replaces_the_block() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 1);
    let b = add(&mut c, 0x1000, 2);
    assert!(c.get(a).is_none() || a == b);
    assert_eq!(c.len(), 1);
    assert_eq!(c.lookup(key(0x1000), |_| None), Some(b));
    assert_eq!(c.block(b).insns.len(), 2);
}

#[test]
fn removed_code_stays_readable_until_garbage_collection() {
    let mut c = BlockCache::new();
    let a = add(&mut c, 0x1000, 3);
    let code = c.code(a);
    assert_eq!(c.block(a).terminal, None);
    c.invalidate_page(RamAddr(0x8000_1000));
    c.flush();
    // SAFETY: no collect_garbage since `code` was taken.
    assert_eq!(unsafe { &*code }, &[0, 1, 2]);
    assert_eq!(c.graveyard.len(), 1);
    c.collect_garbage();
    assert!(c.graveyard.is_empty());
}
