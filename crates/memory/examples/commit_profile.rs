//! Toggle one region in a 10,000-region tree many times (for profiling commits).
//!
//! `cargo run --release -p ferrite-memory --example commit_profile`

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

fn main() -> Result<()> {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ops: Rc<dyn RegionOps> = Rc::new(Nop);
    m.begin();
    for i in 0..10_000u64 {
        let r = m.new_io(&format!("dev{i}"), PAGE_SIZE, ops.clone());
        m.add_subregion(root, i * 2 * PAGE_SIZE, r)?;
    }
    m.commit();
    m.new_address_space("memory", root);
    let extra = m.new_ram("extra", PAGE_SIZE)?;
    m.add_subregion(root, 10_000 * 2 * PAGE_SIZE, extra)?;
    let t = Instant::now();
    for i in 0..500 {
        m.set_enabled(extra, i % 2 == 0);
    }
    println!(
        "{:.3} ms per commit",
        t.elapsed().as_secs_f64() * 1e3 / 500.0
    );
    Ok(())
}
