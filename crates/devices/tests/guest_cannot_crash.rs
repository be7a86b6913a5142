//! Every device answers every access its descriptor allows, at every offset of
//! its region, with any value, without panicking: a guest cannot crash the
//! host through a device. Values come from a fixed-seed generator, so a
//! failure reproduces.

use std::rc::Rc;

use ferrite_devices::GuestBytes;
use ferrite_devices::IrqSink;
use ferrite_devices::chardev::BufferBackend;
use ferrite_devices::clint::{MTIMER_SIZE, SWI_SIZE};
use ferrite_devices::virtio::VirtioMmio;
use ferrite_devices::virtio::block::{MemDisk, VirtioBlock};
use ferrite_devices::{
    Clint, GoldfishRtc, IrqLevels, IrqLine, ManualClock, Plic, PlicConfig, TestFinisher, Uart16550,
    VirtioMmioEmpty,
};
use ferrite_memory::VecMemory;
use ferrite_memory::{MemTxAttrs, RegionOps};

/// xorshift64*: small, deterministic, good enough to vary values.
struct Values(u64);

impl Values {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Reads and writes every `step`-th offset of a `size`-byte region with every
/// size its descriptor calls valid and the device implements.
fn sweep(name: &str, ops: &dyn RegionOps, size: u64, step: u64, values: &mut Values) {
    let d = ops.descriptor();
    let min = d
        .valid
        .min_access_size
        .max(d.implementation.min_access_size)
        .max(1);
    let max = match (d.valid.max_access_size, d.implementation.max_access_size) {
        (0, 0) => 4,
        (0, i) => i,
        (v, 0) => v.min(4),
        (v, i) => v.min(i),
    };
    let attrs = MemTxAttrs::default();
    let mut access = min;
    while access <= max {
        let mut offset = 0;
        while offset + u64::from(access) <= size {
            if offset % u64::from(access) == 0 {
                let value = values.next() & (u64::MAX >> (64 - 8 * access));
                assert!(
                    ops.write(offset, value, access, attrs).is_ok(),
                    "{name} write 0x{offset:x}"
                );
                let read = ops.read(offset, access, attrs);
                assert!(read.is_ok(), "{name} read 0x{offset:x}");
            }
            offset += step;
        }
        access *= 2;
    }
}

#[test]
fn every_device_survives_a_full_sweep() {
    let mut values = Values(0x9e37_79b9_7f4a_7c15);
    let irqs = IrqLevels::new();
    let clock = Rc::new(ManualClock::new());

    let plic = Plic::new(PlicConfig::virt(2), irqs.lines(4)).unwrap();
    for source in 0..100 {
        plic.set_level(source % 97, source % 3 == 0);
    }
    sweep("plic", plic.as_ref(), plic.region_size(), 4, &mut values);

    let clint = Clint::new(clock.clone(), irqs.lines(2), irqs.lines(2)).unwrap();
    sweep("clint swi", &clint.swi(), SWI_SIZE, 4, &mut values);
    sweep("clint mtimer", &clint.mtimer(), MTIMER_SIZE, 4, &mut values);
    sweep("clint", clint.as_ref(), 0x10000, 4, &mut values);
    clint.update();
    let _ = clint.next_deadline();

    let console = BufferBackend::new();
    let uart = Uart16550::new(IrqLine::new(plic.clone(), 10), Box::new(console.clone()));
    for round in 0..4 {
        console.push_input(&[round; 40]);
        uart.poll();
        sweep("uart", &uart, Uart16550::REGION_SIZE, 1, &mut values);
    }

    let finisher = TestFinisher::new();
    sweep("finisher", &finisher, 0x1000, 2, &mut values);

    let rtc = GoldfishRtc::new(clock.clone(), u64::MAX - 5, irqs.line(11));
    clock.set(u64::MAX / 2);
    sweep("rtc", &rtc, GoldfishRtc::REGION_SIZE, 4, &mut values);
    rtc.update();
    let _ = rtc.next_deadline();

    sweep(
        "virtio",
        &VirtioMmioEmpty::legacy(),
        VirtioMmioEmpty::REGION_SIZE,
        1,
        &mut values,
    );

    // A block device whose driver writes random register values, then has
    // its (random) queues processed against a small guest memory.
    let disk = MemDisk::new(vec![0x5a; 64 * 1024]);
    let blk = VirtioMmio::new(
        Box::new(VirtioBlock::new(Box::new(disk), "sweep")),
        irqs.line(1),
    );
    let mut mem = VecMemory::new(0, 0x10000);
    for round in 0..50u32 {
        sweep("virtio-blk", &blk, VirtioMmio::REGION_SIZE, 4, &mut values);
        // Reset, then a running driver with one small queue at known
        // places, over memory full of small random numbers: chains with
        // random flags, links, lengths and addresses inside guest memory.
        let a = MemTxAttrs::default();
        for (offset, value) in [
            (0x070, 0),
            (0x070, 0x0f),
            (0x030, 0),
            (0x038, 8),
            (0x080, 0x1000),
            (0x090, 0x2000),
            (0x0a0, 0x3000),
            (0x044, 1),
            (0x050, 0),
        ] {
            blk.write(offset, value, 4, a).unwrap();
        }
        for word in 0..0x4000u64 {
            let small = (values.next() as u32 & 0x0000_fff7).wrapping_add(round);
            mem.write_u32(4 * word, small).unwrap();
        }
        blk.process(&mut mem);
    }
}

#[test]
fn random_timer_values_give_deadlines_ahead_or_none() {
    use ferrite_devices::TimeSource;
    let mut values = Values(0x2545_f491_4f6c_dd1d);
    let irqs = IrqLevels::new();
    let clock = Rc::new(ManualClock::new());
    let clint = Clint::new(clock.clone(), irqs.lines(2), irqs.lines(2)).unwrap();
    let mtimer = clint.mtimer();
    let rtc = GoldfishRtc::new(clock.clone(), values.next(), irqs.line(11));
    let a = MemTxAttrs::default();
    for round in 0..2000u64 {
        // Clock, mtime, compare values and alarms anywhere in 64 bits,
        // with the edges of the range over-represented.
        let edge = |v: u64, r: u64| match r % 4 {
            0 => u64::MAX - (v & 0xff),
            1 => v & 0xffff,
            _ => v,
        };
        clock.set(edge(values.next(), round));
        mtimer
            .write(0x7ff8, edge(values.next(), round + 1), 8, a)
            .unwrap();
        mtimer
            .write(8 * (round % 2), edge(values.next(), round + 2), 8, a)
            .unwrap();
        clint.update();
        let alarm = edge(values.next(), round + 3);
        rtc.write(0x0c, alarm >> 32, 4, a).unwrap();
        rtc.write(0x08, alarm & 0xffff_ffff, 4, a).unwrap();
        rtc.update();
        let now = clock.now();
        for deadline in [clint.next_deadline(), rtc.next_deadline()]
            .into_iter()
            .flatten()
        {
            assert!(
                deadline > now && deadline != u64::MAX,
                "round {round}: deadline {deadline:#x} at time {now:#x}"
            );
        }
    }
}
