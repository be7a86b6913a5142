//! Refresh cost for a 1920×1080×32 surface with 0%, 1% and 100% of the
//! scanned-out VRAM dirty: the cost must follow the dirty pages.

use criterion::{Criterion, criterion_group, criterion_main};
use ferrite_display::{Display, PixelFormat, ScanoutMode};
use ferrite_memory::{DirtyClient, GuestAddress, MemTxAttrs, MemorySystem, RegionSize};

fn refresh(c: &mut Criterion) {
    let mut mem = MemorySystem::new();
    let root = mem.new_container("system", RegionSize::Max);
    let space = mem.new_address_space("memory", root);
    let vram = mem.new_ram("vram", 16 << 20).unwrap();
    mem.set_log(vram, DirtyClient::Vga, true);
    mem.add_subregion(root, 0x4000_0000, vram).unwrap();
    let mode = ScanoutMode {
        width: 1920,
        height: 1080,
        stride: 1920 * 4,
        offset: 0,
        format: PixelFormat::Xrgb8888,
    };
    let pages = mode.span().div_ceil(4096);
    let mut display = Display::new();
    display.refresh(&mut mem, vram, Some(mode));
    let mut group = c.benchmark_group("refresh_1920x1080x32");
    for (name, percent) in [("0%", 0u64), ("1%", 1), ("100%", 100)] {
        let dirty = pages * percent / 100;
        group.bench_function(name, |b| {
            b.iter(|| {
                for p in 0..dirty {
                    // Spread the dirty pages over the picture.
                    let page = p * pages / dirty.max(1);
                    mem.write(
                        space,
                        GuestAddress(0x4000_0000 + page * 4096),
                        &[1],
                        MemTxAttrs::default(),
                    )
                    .unwrap();
                }
                display.refresh(&mut mem, vram, Some(mode))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, refresh);
criterion_main!(benches);
