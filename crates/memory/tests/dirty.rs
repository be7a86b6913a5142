//! Dirty memory per client: logging, snapshots across blocks and bitmap words,
//! and clear notifications.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::*;

fn setup() -> (MemorySystem, AddressSpaceId, RegionId, RegionId) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let lo = m.new_ram("lo", 0x10_0000).unwrap();
    let fb = m.new_ram("fb", 0x40_0000).unwrap();
    m.add_subregion(root, 0x8000_0000, lo).unwrap();
    m.add_subregion(root, 0x9000_0000, fb).unwrap();
    let s = m.new_address_space("memory", root);
    (m, s, lo, fb)
}

#[test]
fn clients_are_independent_and_new_ram_starts_dirty() {
    let (mut m, _, _, fb) = setup();
    for c in DirtyClient::ALL {
        assert!(m.get_dirty(fb, 0, 0x40_0000, c));
    }
    m.reset_dirty(fb, 0, 0x40_0000, DirtyClient::Vga);
    assert!(!m.get_dirty(fb, 0, 0x40_0000, DirtyClient::Vga));
    assert!(m.get_dirty(fb, 0, 0x40_0000, DirtyClient::Migration));
    m.set_dirty(fb, 0x5000, 1);
    assert!(m.get_dirty(fb, 0x5fff, 1, DirtyClient::Vga));
    assert!(!m.get_dirty(fb, 0x6000, 0x1000, DirtyClient::Vga));
    assert!(!m.get_dirty(fb, 0x4000, 0x1000, DirtyClient::Vga));
    // An alias answers for its target's pages at the shifted offset.
    let al = m.new_alias("fb-win", fb, 0x4000, 0x4000).unwrap();
    assert!(m.get_dirty(al, 0x1000, 1, DirtyClient::Vga));
    assert!(!m.get_dirty(al, 0, 0x1000, DirtyClient::Vga));
}

#[test]
fn guest_writes_mark_pages_dirty_for_every_client() {
    let (mut m, s, _, fb) = setup();
    m.reset_dirty(fb, 0, 0x40_0000, DirtyClient::Vga);
    m.reset_dirty(fb, 0, 0x40_0000, DirtyClient::Migration);
    m.write(
        s,
        GuestAddress(0x9000_2ffe),
        &[1, 2, 3, 4],
        MemTxAttrs::default(),
    )
    .unwrap();
    let snap = m.snapshot_and_clear_dirty(fb, 0, 0x40_0000, DirtyClient::Vga);
    assert_eq!(snap.dirty_pages().collect::<Vec<_>>(), vec![0x2000, 0x3000]);
    assert!(snap.get_dirty(0x2000, 0x2000));
    assert!(!snap.get_dirty(0x4000, 0x3c_0000));
    assert!(
        !m.get_dirty(fb, 0, 0x40_0000, DirtyClient::Vga),
        "snapshot cleared the bits"
    );
    assert!(
        m.get_dirty(fb, 0x2000, 1, DirtyClient::Migration),
        "other clients untouched"
    );
}

#[test]
fn snapshot_of_an_unaligned_window_across_bitmap_words() {
    let (mut m, _, _, fb) = setup();
    m.reset_dirty(fb, 0, 0x40_0000, DirtyClient::Vga);
    // Pages 63, 64 (a 64-bit word boundary) and 200.
    for page in [63u64, 64, 200] {
        m.set_dirty(fb, page * PAGE_SIZE + 7, 1);
    }
    let snap =
        m.snapshot_and_clear_dirty(fb, 62 * PAGE_SIZE + 5, 140 * PAGE_SIZE, DirtyClient::Vga);
    assert_eq!(
        snap.dirty_pages().collect::<Vec<_>>(),
        vec![63 * PAGE_SIZE, 64 * PAGE_SIZE, 200 * PAGE_SIZE]
    );
    assert!(snap.get_dirty(64 * PAGE_SIZE + 100, 1));
    assert!(!snap.get_dirty(65 * PAGE_SIZE, 135 * PAGE_SIZE));
    assert!(
        !snap.get_dirty(0, 62 * PAGE_SIZE),
        "outside the snapshot reads clean"
    );
    // Only the snapshotted pages were cleared.
    m.set_dirty(fb, 300 * PAGE_SIZE, 1);
    assert!(m.get_dirty(fb, 300 * PAGE_SIZE, 1, DirtyClient::Vga));
}

#[test]
fn ram_level_snapshot_spans_two_blocks() {
    let (mut m, _, lo, fb) = setup();
    let lo_ram = m.ram_addr_of(lo).unwrap();
    let fb_ram = m.ram_addr_of(fb).unwrap();
    assert_eq!(
        fb_ram.0,
        lo_ram.0 + 0x10_0000,
        "blocks laid out back to back"
    );
    m.ram_reset_dirty(lo_ram, 0x50_0000, DirtyClient::Migration);
    m.ram_set_dirty(RamAddr(lo_ram.0 + 0xf_f000), 0x2000); // last page of lo, first of fb
    let snap = m.ram_snapshot_and_clear_dirty(
        RamAddr(lo_ram.0 + 0xf_0000),
        0x2_0000,
        DirtyClient::Migration,
    );
    assert_eq!(
        snap.dirty_pages().collect::<Vec<_>>(),
        vec![lo_ram.0 + 0xf_f000, fb_ram.0]
    );
    assert!(!m.ram_dirty(fb_ram, DirtyClient::Migration));
    assert!(m.ram_dirty(fb_ram, DirtyClient::Vga));
    assert!(!m.ram_all_clients_dirty(fb_ram));
}

#[test]
fn clearing_notifies_with_whole_pages() {
    let (mut m, _, _, fb) = setup();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = seen.clone();
    m.add_dirty_clear_notifier(Box::new(move |r, l| s2.borrow_mut().push((r, l))));
    let base = m.ram_addr_of(fb).unwrap();
    m.reset_dirty(fb, 0x1800, 0x1000, DirtyClient::Code);
    m.ram_reset_dirty(RamAddr(base.0 + 0x10000), 1, DirtyClient::Vga);
    let _ = m.snapshot_and_clear_dirty(fb, 0x20000, 0x3000, DirtyClient::Migration);
    assert_eq!(
        *seen.borrow(),
        vec![
            (RamAddr(base.0 + 0x1000), 0x2000),
            (RamAddr(base.0 + 0x10000), 0x1000),
            (RamAddr(base.0 + 0x20000), 0x3000)
        ]
    );
}

#[test]
fn set_log_changes_the_flat_range_mask() {
    let (mut m, s, _, fb) = setup();
    let mask = |m: &MemorySystem| {
        m.flat_range_at(s, GuestAddress(0x9000_0000))
            .unwrap()
            .dirty_log_mask
    };
    assert_eq!(mask(&m), DirtyClient::Code.bit());
    let g = m.generation(s);
    m.set_log(fb, DirtyClient::Vga, true);
    assert_eq!(mask(&m), DirtyClient::Code.bit() | DirtyClient::Vga.bit());
    assert!(m.generation(s) > g);
    m.global_dirty_log_start();
    assert_eq!(mask(&m), DIRTY_CLIENTS_ALL);
    m.global_dirty_log_stop();
    m.set_log(fb, DirtyClient::Vga, false);
    assert_eq!(mask(&m), DirtyClient::Code.bit());
}

#[test]
fn resize_and_discard() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let r = m.new_ram_resizeable("acpi", 0x1000, 0x4000).unwrap();
    m.add_subregion(root, 0x1000_0000, r).unwrap();
    let s = m.new_address_space("memory", root);
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x1000_1000)).kind,
        SectionKind::Unassigned
    );
    let host = m.ram_host_ptr(r).unwrap();
    m.ram_resize(r, 0x3000).unwrap();
    assert_eq!(
        m.ram_host_ptr(r).unwrap(),
        host,
        "resizing never moves host memory"
    );
    assert_eq!(m.lookup_section(s, GuestAddress(0x1000_2fff)).region, r);
    assert!(matches!(
        m.ram_resize(r, 0x5000),
        Err(MemoryError::InvalidSize { .. })
    ));
    let plain = m.new_ram("plain", 0x1000).unwrap();
    assert!(
        m.ram_resize(plain, 0x800).is_ok(),
        "shrinking within the maximum is allowed"
    );
    m.write(
        s,
        GuestAddress(0x1000_1000),
        &[7; 16],
        MemTxAttrs::default(),
    )
    .unwrap();
    m.ram_discard(r, 0x1000, 0x1000).unwrap();
    let mut buf = [1u8; 16];
    m.read(
        s,
        GuestAddress(0x1000_1000),
        &mut buf,
        MemTxAttrs::default(),
    )
    .unwrap();
    assert_eq!(buf, [0; 16]);
}

#[test]
fn snapshot_through_an_alias_at_an_unaligned_offset() {
    let (mut m, _, _, fb) = setup();
    let al = m.new_alias("fb-odd", fb, 0x1800, 0x4000).unwrap();
    m.reset_dirty(fb, 0, 0x40_0000, DirtyClient::Vga);
    m.set_dirty(fb, 0x3000, 1); // alias offset 0x1800
    let snap = m.snapshot_and_clear_dirty(al, 0x100, 0x3000, DirtyClient::Vga);
    assert!(snap.get_dirty(0x1800, 1));
    assert!(snap.get_dirty(0x17ff + 0x801, 0x100));
    assert!(!snap.get_dirty(0x100, 0x1000));
    assert_eq!(snap.dirty_pages().collect::<Vec<_>>(), vec![0x1800]);
    assert!(!m.get_dirty(fb, 0x3000, 1, DirtyClient::Vga));
}
