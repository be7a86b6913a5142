use ferrite_memory::{
    AddressSpaceId, DirtyClient, GuestAddress, MemTxAttrs, MemorySystem, RegionId, RegionSize,
};

use super::*;

const VRAM_AT: u64 = 0x4000_0000;

fn setup(vram_size: u64) -> (MemorySystem, AddressSpaceId, RegionId) {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let space = mem.new_address_space("memory", root);
    let vram = mem.new_ram("vram", vram_size).unwrap();
    mem.set_log(vram, DirtyClient::Vga, true);
    mem.add_subregion(root, VRAM_AT, vram).unwrap();
    (mem, space, vram)
}

fn mode(w: u32, h: u32) -> ScanoutMode {
    ScanoutMode {
        width: w,
        height: h,
        stride: w * 4,
        offset: 0,
        format: PixelFormat::Xrgb8888,
    }
}

fn poke(mem: &mut MemorySystem, space: AddressSpaceId, offset: u64, pixel: u32) {
    mem.write(
        space,
        GuestAddress(VRAM_AT + offset),
        &pixel.to_le_bytes(),
        MemTxAttrs::default(),
    )
    .unwrap();
}

#[test]
fn a_frame_with_one_dirty_page_converts_only_that_pages_rows() {
    let (mut mem, space, vram) = setup(4 << 20);
    let m = mode(640, 480); // 2560 bytes per row
    let mut d = Display::new();
    let u = d.refresh(&mut mem, vram, Some(m));
    assert!(u.resized);
    assert_eq!(d.stats().last_rows, 480, "a new mode converts everything");
    let u = d.refresh(&mut mem, vram, Some(m));
    assert!(u.is_empty());
    assert_eq!(d.stats().last_rows, 0, "nothing written, nothing converted");

    // One pixel on page 5 (bytes 20480..24576): rows 8 (20480..23040) and
    // 9 (23040..25600) hold bytes of that page.
    poke(&mut mem, space, 5 * 4096 + 100, 0x00ff_8000);
    let u = d.refresh(&mut mem, vram, Some(m));
    assert_eq!(d.stats().last_rows, 2);
    assert_eq!(u.rects, vec![Rect::new(0, 8, 640, 2)]);
    let s = d.surface().unwrap();
    let (x, y) = ((5 * 4096 + 100) % 2560 / 4, (5 * 4096 + 100) / 2560);
    assert_eq!(s.pixel(x as u32, y as u32), 0xff8000);
    // Two separate pages: two rectangles.
    poke(&mut mem, space, 0, 1);
    poke(&mut mem, space, 400 * 2560, 2);
    let u = d.refresh(&mut mem, vram, Some(m));
    assert_eq!(u.rects.len(), 2);
    assert_eq!(u.rects[0].y, 0);
    assert_eq!(d.surface().unwrap().pixel(0, 400), 2);
}

#[test]
fn a_mode_change_converts_everything_and_no_mode_shows_nothing() {
    let (mut mem, space, vram) = setup(4 << 20);
    let mut d = Display::new();
    d.refresh(&mut mem, vram, Some(mode(640, 480)));
    poke(&mut mem, space, 0, 0x123456);
    let u = d.refresh(&mut mem, vram, Some(mode(800, 600)));
    assert!(u.resized);
    assert_eq!(d.stats().last_rows, 600);
    assert_eq!(d.stats().full, 2);
    assert_eq!(d.surface().unwrap().pixel(0, 0), 0x123456);
    let u = d.refresh(&mut mem, vram, None);
    assert!(u.resized && d.surface().is_none());
    // A mode past the end of VRAM is no mode.
    d.refresh(&mut mem, vram, Some(mode(2048, 1024)));
    assert!(d.surface().is_none());
}

#[test]
fn the_offset_and_stride_choose_what_is_scanned_out() {
    let (mut mem, space, vram) = setup(4 << 20);
    let m = ScanoutMode {
        width: 64,
        height: 64,
        stride: 1024,
        offset: 1024 * 100 + 16,
        format: PixelFormat::Xrgb8888,
    };
    poke(&mut mem, space, m.offset, 0xaa);
    poke(&mut mem, space, m.offset + 1024 * 3 + 4 * 5, 0xbb);
    let mut d = Display::new();
    d.refresh(&mut mem, vram, Some(m));
    let s = d.surface().unwrap();
    assert_eq!(s.pixel(0, 0), 0xaa);
    assert_eq!(s.pixel(5, 3), 0xbb);
}

#[test]
fn display_specs_parse() {
    assert_eq!("none".parse::<BackendSpec>().unwrap(), BackendSpec::None);
    assert_eq!(
        "png:out.png".parse::<BackendSpec>().unwrap(),
        BackendSpec::Png("out.png".into())
    );
    assert_eq!(
        "vnc::5905".parse::<BackendSpec>().unwrap(),
        BackendSpec::Vnc("127.0.0.1:5905".into())
    );
    assert_eq!(
        "window".parse::<BackendSpec>().unwrap(),
        BackendSpec::Window
    );
    assert!("png:".parse::<BackendSpec>().is_err());
    assert!("sdl".parse::<BackendSpec>().is_err());
}
