//! Criterion benchmarks of the softmmu hot paths: TLB fast-path loads and
//! stores (hits), the slow path with a victim hit, and block lookups
//! (jump cache, hash map, chain). `cargo bench -p ferrite-softmmu`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrite_memory::{GuestAddress, MemTxAttrs, MemTxError, MemorySystem, RamAddr, RegionSize};
use ferrite_softmmu::block::BlockKey;
use ferrite_softmmu::tlb::{MmuAccess, PageMapping, Prot, TlbFill};
use ferrite_softmmu::{BlockCache, MmuIdx, Tlb, VirtAddr};

const RAM: u64 = 0x8000_0000;
const RAM_SIZE: u64 = 0x40_0000;

struct Identity;

impl TlbFill for Identity {
    type Fault = ();
    fn tlb_fill(
        &mut self,
        _: &mut MemorySystem,
        vaddr: VirtAddr,
        _: u32,
        _: MmuAccess,
        _: MmuIdx,
    ) -> Result<PageMapping, ()> {
        Ok(PageMapping {
            vaddr,
            paddr: GuestAddress(vaddr.0),
            prot: Prot::RWX,
            page_size_log2: 12,
            attrs: MemTxAttrs::default(),
            cacheable: true,
        })
    }
    fn bus_fault(&mut self, _: VirtAddr, _: u32, _: MmuAccess, _: MemTxError) {}
    fn code_written(
        &mut self,
        _: &mut MemorySystem,
        _: RamAddr,
        _: u32,
    ) -> Option<ferrite_softmmu::block::CodeBytes> {
        None
    }
}

fn setup() -> (MemorySystem, Tlb) {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let ram = mem.new_ram("ram", RAM_SIZE).expect("ram");
    mem.add_subregion(root, RAM, ram).expect("map");
    let space = mem.new_address_space("cpu", root);
    let tlb = Tlb::new(space);
    (mem, tlb)
}

fn tlb_benches(c: &mut Criterion) {
    let (mut mem, mut tlb) = setup();
    // 64 pages, all resident.
    let pages = 64u64;
    for p in 0..pages {
        tlb.store_slow(
            &mut mem,
            &mut Identity,
            MmuIdx(0),
            VirtAddr(RAM + p * 4096),
            8,
            p,
        )
        .expect("fill");
    }
    let addrs: Vec<u64> = (0..1024u64)
        .map(|i| (RAM + (i * 0x1238) % (pages * 4096)) & !7)
        .collect();
    let mut g = c.benchmark_group("tlb");
    g.throughput(Throughput::Elements(addrs.len() as u64));
    g.bench_function("load_fast_u64_hit", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for &a in &addrs {
                sum = sum.wrapping_add(
                    tlb.load_fast::<8>(MmuIdx(0), VirtAddr(black_box(a)))
                        .unwrap_or(0),
                );
            }
            sum
        })
    });
    g.bench_function("store_fast_u32_hit", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for &a in &addrs {
                n += u32::from(tlb.store_fast::<4>(MmuIdx(0), VirtAddr(black_box(a)), a));
            }
            n
        })
    });
    g.finish();

    // Two pages that conflict in the direct-mapped table: every access swaps
    // them through the victim table.
    let stride = tlb.table_len(MmuIdx(1)) as u64 * 4096;
    let (a, b2) = (RAM, RAM + stride);
    tlb.load_slow(
        &mut mem,
        &mut Identity,
        MmuIdx(1),
        VirtAddr(a),
        8,
        MmuAccess::Load,
    )
    .expect("fill");
    tlb.load_slow(
        &mut mem,
        &mut Identity,
        MmuIdx(1),
        VirtAddr(b2),
        8,
        MmuAccess::Load,
    )
    .expect("fill");
    c.bench_function("tlb/slow_victim_swap", |b| {
        b.iter(|| {
            let x = tlb.load_slow(
                &mut mem,
                &mut Identity,
                MmuIdx(1),
                VirtAddr(black_box(a)),
                8,
                MmuAccess::Load,
            );
            let y = tlb.load_slow(
                &mut mem,
                &mut Identity,
                MmuIdx(1),
                VirtAddr(black_box(b2)),
                8,
                MmuAccess::Load,
            );
            (x, y)
        })
    });
}

fn block_benches(c: &mut Criterion) {
    let mut cache: BlockCache<u32> = BlockCache::new();
    let keys: Vec<BlockKey> = (0..4096u64)
        .map(|i| BlockKey {
            phys_pc: RamAddr(0x1000_0000 + i * 0x40),
            pc: VirtAddr(0x8000_0000 + i * 0x40),
            flags: 3,
        })
        .collect();
    for k in &keys {
        cache.insert(*k, vec![0; 8], 32, None, &[k.phys_pc], &[]);
    }
    // A chain of 1000 blocks inside one page (chains never leave a page).
    let chain: Vec<u32> = (0..1000u64)
        .map(|i| {
            let k = BlockKey {
                phys_pc: RamAddr(0x2000_0000 + i * 4),
                pc: VirtAddr(0x9000_0000 + i * 4),
                flags: 3,
            };
            cache.insert(k, vec![0; 1], 4, None, &[k.phys_pc], &[])
        })
        .collect();
    for w in chain.windows(2) {
        assert!(cache.link(w[0], 0, w[1]));
    }
    let mut g = c.benchmark_group("blocks");
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.bench_function("jump_cache_hit", |b| {
        b.iter(|| {
            keys.iter()
                .filter_map(|k| cache.lookup_jump(black_box(k.pc), 3))
                .count()
        })
    });
    g.bench_function("hash_map_lookup", |b| {
        b.iter(|| {
            keys.iter()
                .filter_map(|k| cache.lookup(black_box(*k), |_| None))
                .count()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("blocks");
    g.throughput(Throughput::Elements(chain.len() as u64 - 1));
    g.bench_function("follow_chain", |b| {
        b.iter(|| {
            let mut id = chain[0];
            let mut n = 0;
            while let Some(next) = cache.successor(id, 0) {
                id = next;
                n += 1;
            }
            n
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = tlb_benches, block_benches
}
criterion_main!(benches);
