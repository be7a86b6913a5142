//! RAM is backed lazily: a 4 GiB guest that touches 1 MiB costs about 1 MiB.

use ferrite_memory::*;

/// Resident set size of this process in bytes, from /proc (Linux).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn four_gib_touching_one_mib_costs_about_one_mib() {
    let Some(before) = rss() else { return }; // not on Linux: nothing to measure
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 4 << 30).unwrap();
    m.add_subregion(root, 0x8000_0000, ram).unwrap();
    let s = m.new_address_space("memory", root);
    let chunk = vec![0xa5u8; 64 << 10];
    for i in 0..16u64 {
        // 16 x 64 KiB spread over the 4 GiB.
        m.write(
            s,
            GuestAddress(0x8000_0000 + i * (256 << 20)),
            &chunk,
            MemTxAttrs::default(),
        )
        .unwrap();
    }
    let after = rss().unwrap_or(before);
    let grown = after.saturating_sub(before);
    // 1 MiB touched; a host that backs anonymous memory with 2 MiB transparent
    // huge pages may fault in 16 x 2 MiB. Either way far below 4 GiB.
    assert!(grown < 64 << 20, "RSS grew by {} KiB", grown >> 10);
    assert!(
        grown >= 1 << 20,
        "RSS grew by only {} KiB: touched memory not counted?",
        grown >> 10
    );
}
