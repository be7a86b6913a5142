//! Interleaved dispatch-lookup timing: how much slower is `translate` with
//! 100,000 regions than with 10? Criterion runs its cases one after another,
//! so on a busy machine load changes between them; this runs the cases in
//! turns and keeps each one's best round, which load can only make worse.
//!
//! `cargo run --release -p ferrite-memory --example dispatch_ratio`

use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

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

fn tree_of(n: usize) -> (MemorySystem, AddressSpaceId) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ops: Rc<dyn RegionOps> = Rc::new(Nop);
    m.begin();
    for i in 0..n {
        let r = m.new_io(&format!("dev{i}"), PAGE_SIZE, ops.clone());
        if m.add_subregion(root, i as u64 * 2 * PAGE_SIZE, r).is_err() {
            eprintln!("cannot map dev{i}");
        }
    }
    m.commit();
    let s = m.new_address_space("memory", root);
    (m, s)
}

fn probes(n: usize, count: usize) -> Vec<GuestAddress> {
    let span = n as u64 * 2 * PAGE_SIZE;
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

fn main() {
    const LOOKUPS: usize = 1 << 20;
    for count in [256usize, 4096] {
        let cases: Vec<(usize, MemorySystem, AddressSpaceId, Vec<GuestAddress>)> =
            [10usize, 1_000, 100_000]
                .into_iter()
                .map(|n| {
                    let (m, s) = tree_of(n);
                    (n, m, s, probes(n, count))
                })
                .collect();
        let mut best = vec![f64::MAX; cases.len()];
        for _round in 0..30 {
            for (k, (_, m, s, addrs)) in cases.iter().enumerate() {
                let t = Instant::now();
                for i in 0..LOOKUPS {
                    black_box(m.lookup_section(*s, black_box(addrs[i & (count - 1)])));
                }
                let ns = t.elapsed().as_nanos() as f64 / LOOKUPS as f64;
                best[k] = best[k].min(ns);
            }
        }
        for (k, (n, ..)) in cases.iter().enumerate() {
            println!(
                "{count:>5} addresses, {n:>6} regions: {:6.2} ns/lookup ({:.2}x the 10-region case)",
                best[k],
                best[k] / best[0]
            );
        }
    }
}
