//! Benchmarks: dispatch lookup against region count, commit in a large tree,
//! and snapshot-and-clear over 4 GiB of guest RAM.

use std::hint::black_box;
use std::rc::Rc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
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

/// Size of the window the regions are spread over: 4 GiB, like a board's
/// low memory map. Every tree size uses the same window, so lookups walk the
/// same number of radix levels and only the number of regions differs.
const WINDOW: u64 = 4 << 30;

/// A flat tree of `n` one-page I/O regions spread evenly over [`WINDOW`]
/// (`dense`: one every other page from 0 instead).
fn tree_of(n: usize, dense: bool) -> (MemorySystem, AddressSpaceId, RegionId) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ops: Rc<dyn RegionOps> = Rc::new(Nop);
    m.begin();
    for i in 0..n {
        let r = m.new_io(&format!("dev{i}"), PAGE_SIZE, ops.clone());
        let stride = if dense {
            2 * PAGE_SIZE
        } else {
            WINDOW / n as u64 / PAGE_SIZE * PAGE_SIZE
        };
        m.add_subregion(root, i as u64 * stride, r).unwrap();
    }
    m.commit();
    let s = m.new_address_space("memory", root);
    (m, s, root)
}

/// `count` addresses spread over the whole populated range, so the MRU
/// cache misses. 256 addresses are a TLB's worth of pages (the tables they
/// touch stay in the CPU caches, so this measures the walk itself); 4096
/// random ones over 100,000 regions touch more table memory than the L1
/// cache and the host TLB hold (this measures the cache hierarchy too).
fn probes(n: usize, dense: bool, count: usize) -> Vec<GuestAddress> {
    let span = if dense {
        n as u64 * 2 * PAGE_SIZE
    } else {
        WINDOW
    };
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            GuestAddress(x % span)
        })
        .collect()
}

fn dispatch_lookup(c: &mut Criterion) {
    for (name, dense, count) in [
        ("dispatch_lookup", true, 256usize),
        ("dispatch_lookup_spread", false, 256),
        ("dispatch_lookup_cold", true, 4096),
    ] {
        let mut g = c.benchmark_group(name);
        for n in [10usize, 1_000, 100_000] {
            let (m, s, _) = tree_of(n, dense);
            let addrs = probes(n, dense, count);
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) & (count - 1);
                    black_box(m.lookup_section(s, black_box(addrs[i])))
                })
            });
        }
        g.finish();
    }
}

fn commit_one_change(c: &mut Criterion) {
    let (mut m, _, root) = tree_of(10_000, true);
    let extra = m.new_ram("extra", PAGE_SIZE).unwrap();
    let at = 10_000u64 * 2 * PAGE_SIZE;
    m.add_subregion(root, at, extra).unwrap();
    let mut on = true;
    c.bench_function("commit_one_change_10k_regions", |b| {
        b.iter(|| {
            on = !on;
            m.set_enabled(extra, on);
        })
    });
}

fn snapshot_4gib(c: &mut Criterion) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 4 << 30).unwrap();
    m.add_subregion(root, 0x8000_0000, ram).unwrap();
    m.new_address_space("memory", root);
    c.bench_function("snapshot_and_clear_4GiB", |b| {
        b.iter(|| {
            // Dirty a page every 1 MiB, then take and clear the whole bitmap.
            for off in (0..(4u64 << 30)).step_by(1 << 20) {
                m.set_dirty(ram, off, 1);
            }
            let snap = m.snapshot_and_clear_dirty(ram, 0, 4 << 30, DirtyClient::Migration);
            black_box(snap.get_dirty(0, PAGE_SIZE))
        })
    });
}

fn dirty_queries(c: &mut Criterion) {
    let mut m = MemorySystem::new();
    let ram = m.new_ram("ram", 1 << 30).unwrap();
    let base = m.ram_addr_of(ram).unwrap();
    let pages: Vec<RamAddr> = probes(1 << 17, true, 4096)
        .iter()
        .map(|a| RamAddr(base.0 + a.0))
        .collect();
    let mut i = 0;
    c.bench_function("ram_all_clients_dirty", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(m.ram_all_clients_dirty(black_box(pages[i])))
        })
    });
    c.bench_function("ram_dirty_code", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            black_box(m.ram_dirty(black_box(pages[i]), DirtyClient::Code))
        })
    });
}

criterion_group!(
    benches,
    dispatch_lookup,
    commit_one_change,
    snapshot_4gib,
    dirty_queries
);
criterion_main!(benches);
