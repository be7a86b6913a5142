//! The virtio-mmio transport, version 2 (virtio 1.x) register layout.
//!
//! | offset | register                  | offset | register                |
//! |--------|---------------------------|--------|-------------------------|
//! | 0x000  | MagicValue (R)            | 0x050  | QueueNotify (W)         |
//! | 0x004  | Version = 2 (R)           | 0x060  | InterruptStatus (R)     |
//! | 0x008  | DeviceID (R)              | 0x064  | InterruptACK (W)        |
//! | 0x00c  | VendorID (R)              | 0x070  | Status (RW; 0 = reset)  |
//! | 0x010  | DeviceFeatures (R)        | 0x080  | QueueDescLow/High       |
//! | 0x014  | DeviceFeaturesSel (W)     | 0x090  | QueueDriverLow/High     |
//! | 0x020  | DriverFeatures (W)        | 0x0a0  | QueueDeviceLow/High     |
//! | 0x024  | DriverFeaturesSel (W)     | 0x0fc  | ConfigGeneration (R)    |
//! | 0x030  | QueueSel (W)              | 0x100+ | device configuration    |
//! | 0x034  | QueueNumMax (R)           |        |                         |
//! | 0x038  | QueueNum (W)              |        |                         |
//! | 0x044  | QueueReady (RW)           |        |                         |
//!
//! Registers below 0x100 are 32 bits wide; other access sizes there are guest
//! errors (reads give 0, writes are dropped), as in QEMU. Configuration space
//! takes any size the memory API delivers (1, 2 or 4 bytes).

use std::cell::RefCell;

use ferrite_memory::{IoDescriptor, MemTxAttrs, MemTxResult, ReentrancyGuard, RegionOps};

use super::queue::Virtqueue;
use super::{MAGIC_VALUE, QEMU_VENDOR_ID, VIRTIO_F_VERSION_1, VirtioDevice, status};
use crate::GUEST_ERRORS;
use crate::irq::IrqLine;
use ferrite_memory::GuestBytes;

const MAGIC: u64 = 0x000;
const VERSION: u64 = 0x004;
const DEVICE_ID: u64 = 0x008;
const VENDOR_ID: u64 = 0x00c;
const DEVICE_FEATURES: u64 = 0x010;
const DEVICE_FEATURES_SEL: u64 = 0x014;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM_MAX: u64 = 0x034;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const INTERRUPT_STATUS: u64 = 0x060;
const INTERRUPT_ACK: u64 = 0x064;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DESC_HIGH: u64 = 0x084;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DRIVER_HIGH: u64 = 0x094;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
const CONFIG_GENERATION: u64 = 0x0fc;
const CONFIG: u64 = 0x100;

/// InterruptStatus bit: a used buffer was returned.
const INT_USED_BUFFER: u32 = 1;
/// InterruptStatus bit: the configuration (or device status) changed.
const INT_CONFIG_CHANGE: u32 = 2;

#[derive(Debug)]
struct TransportState {
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    queues: Vec<Virtqueue>,
    notified: Vec<bool>,
    interrupt_status: u32,
    /// Bumped on every configuration change the device announces.
    config_generation: u32,
}

impl TransportState {
    fn new(num_queues: usize) -> Self {
        TransportState {
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            queues: vec![Virtqueue::new(); num_queues],
            notified: vec![false; num_queues],
            interrupt_status: 0,
            config_generation: 0,
        }
    }

    fn selected_queue(&mut self) -> Option<&mut Virtqueue> {
        self.queues.get_mut(self.queue_sel as usize)
    }

    fn running(&self) -> bool {
        self.status & status::DRIVER_OK != 0 && self.status & status::DEVICE_NEEDS_RESET == 0
    }
}

/// Bytes of buffers one service of the transport's kicked queues may take
/// before it yields to the run loop (the rest waits for the next service,
/// one execution slice later). 8 MiB is a few milliseconds of copying.
pub const BYTES_PER_ROUND: u64 = 8 << 20;

/// A virtio device on the MMIO transport.
///
/// No `RefCell` borrow is held while the device moves data through guest
/// memory: [`VirtioMmio::process`] copies the queue out of the transport
/// state and takes the device out of its cell for the duration, and engages
/// the transport's [`ReentrancyGuard`], so DMA that reaches the transport's
/// own registers is refused by the memory API instead of re-entering it.
pub struct VirtioMmio {
    state: RefCell<TransportState>,
    /// The device; `None` only while [`VirtioMmio::process`] runs it.
    device: RefCell<Option<Box<dyn VirtioDevice>>>,
    irq: IrqLine,
    guard: ReentrancyGuard,
}

impl VirtioMmio {
    /// Size of the transport's register window (QEMU's).
    pub const REGION_SIZE: u64 = 0x200;

    /// `device` behind a transport interrupting through `irq`.
    pub fn new(device: Box<dyn VirtioDevice>, irq: IrqLine) -> Self {
        let queues = device.num_queues();
        VirtioMmio {
            state: RefCell::new(TransportState::new(queues)),
            device: RefCell::new(Some(device)),
            irq,
            guard: ReentrancyGuard::new(),
        }
    }

    /// True when the driver has kicked a queue that [`VirtioMmio::process`]
    /// has not served yet.
    pub fn needs_processing(&self) -> bool {
        let s = self.state.borrow();
        s.running() && s.notified.iter().any(|&n| n)
    }

    /// Serves every kicked queue, moving data through `mem`, and interrupts
    /// the driver if buffers were used. A driver that breaks the queue
    /// protocol gets DEVICE_NEEDS_RESET and a configuration interrupt. A
    /// queue with more buffers than [`BYTES_PER_ROUND`] stays kicked and is
    /// served further on the next call.
    pub fn process(&self, mem: &mut dyn GuestBytes) {
        // Re-entered (a device's DMA cannot reach here through the memory
        // API, but a caller could): the outer call is serving the queues.
        let Some(_engaged) = self.guard.engage() else {
            return;
        };
        let Some(mut device) = self.device.borrow_mut().take() else {
            return;
        };
        let mut raise = false;
        let queues = self.state.borrow().queues.len();
        for index in 0..queues {
            let mut queue = {
                let mut s = self.state.borrow_mut();
                if !s.running() || !std::mem::take(&mut s.notified[index]) {
                    continue;
                }
                s.queues[index].clone()
            };
            queue.begin_round(BYTES_PER_ROUND);
            let result = device.process_queue(index, &mut queue, mem);
            let mut s = self.state.borrow_mut();
            match result {
                Ok(used) => {
                    if used {
                        s.interrupt_status |= INT_USED_BUFFER;
                        raise = true;
                    }
                    if queue.yielded() {
                        s.notified[index] = true;
                    }
                }
                Err(err) => {
                    tracing::warn!(target: GUEST_ERRORS, "virtio: queue {index}: {err}");
                    s.status |= status::DEVICE_NEEDS_RESET;
                    s.interrupt_status |= INT_CONFIG_CHANGE;
                    raise = true;
                }
            }
            s.queues[index] = queue;
            if s.status & status::DEVICE_NEEDS_RESET != 0 {
                break;
            }
        }
        *self.device.borrow_mut() = Some(device);
        if raise {
            self.irq.raise();
        }
    }

    /// The device's configuration changed (a host request): the driver gets
    /// a configuration-change interrupt and a new `ConfigGeneration`, as
    /// QEMU's `virtio_notify_config`. Nothing happens before the driver set
    /// DRIVER_OK.
    pub fn notify_config(&self) {
        let mut s = self.state.borrow_mut();
        s.config_generation = s.config_generation.wrapping_add(1);
        if s.status & status::DRIVER_OK == 0 {
            return;
        }
        s.interrupt_status |= INT_CONFIG_CHANGE;
        drop(s);
        self.irq.raise();
    }

    /// Runs `f` on the device (`default` while [`VirtioMmio::process`] has
    /// it out, which a guarded access never observes).
    fn with_device<R>(&self, default: R, f: impl FnOnce(&mut dyn VirtioDevice) -> R) -> R {
        match self.device.borrow_mut().as_deref_mut() {
            Some(d) => f(d),
            None => default,
        }
    }

    fn reset(&self) {
        let mut s = self.state.borrow_mut();
        let queues = s.queues.len();
        *s = TransportState::new(queues);
        self.with_device((), |d| d.reset());
        drop(s);
        self.irq.lower();
    }

    fn device_features(&self) -> u64 {
        self.with_device(0, |d| d.device_features()) | VIRTIO_F_VERSION_1
    }

    fn read_register(&self, offset: u64) -> Option<u32> {
        let s = self.state.borrow();
        let queue = s.queues.get(s.queue_sel as usize).cloned();
        Some(match offset {
            MAGIC => MAGIC_VALUE,
            VERSION => 2,
            DEVICE_ID => self.with_device(0, |d| d.device_id()),
            VENDOR_ID => QEMU_VENDOR_ID,
            DEVICE_FEATURES => match s.device_features_sel {
                0 => self.device_features() as u32,
                1 => (self.device_features() >> 32) as u32,
                _ => 0,
            },
            QUEUE_NUM_MAX => {
                if queue.is_some() {
                    u32::from(self.with_device(0, |d| d.queue_max_size()))
                } else {
                    0
                }
            }
            QUEUE_NUM => queue.map_or(0, |q| u32::from(q.size)),
            QUEUE_READY => queue.is_some_and(|q| q.ready).into(),
            INTERRUPT_STATUS => s.interrupt_status,
            STATUS => s.status,
            QUEUE_DESC_LOW => queue.map_or(0, |q| q.desc_table as u32),
            QUEUE_DESC_HIGH => queue.map_or(0, |q| (q.desc_table >> 32) as u32),
            QUEUE_DRIVER_LOW => queue.map_or(0, |q| q.avail_ring as u32),
            QUEUE_DRIVER_HIGH => queue.map_or(0, |q| (q.avail_ring >> 32) as u32),
            QUEUE_DEVICE_LOW => queue.map_or(0, |q| q.used_ring as u32),
            QUEUE_DEVICE_HIGH => queue.map_or(0, |q| (q.used_ring >> 32) as u32),
            CONFIG_GENERATION => s.config_generation,
            _ => return None,
        })
    }

    fn write_register(&self, offset: u64, value: u32) -> bool {
        if offset == STATUS {
            self.write_status(value);
            return true;
        }
        let mut s = self.state.borrow_mut();
        let max_size = self.with_device(0, |d| d.queue_max_size());
        match offset {
            DEVICE_FEATURES_SEL => s.device_features_sel = value,
            DRIVER_FEATURES_SEL => s.driver_features_sel = value,
            DRIVER_FEATURES => match s.driver_features_sel {
                0 => s.driver_features = (s.driver_features & !0xffff_ffff) | u64::from(value),
                1 => {
                    s.driver_features = (s.driver_features & 0xffff_ffff) | (u64::from(value) << 32)
                }
                _ => {}
            },
            QUEUE_SEL => s.queue_sel = value,
            QUEUE_NUM => {
                if let Some(q) = s.selected_queue()
                    && value <= u32::from(max_size)
                {
                    q.size = value as u16;
                }
            }
            QUEUE_READY => {
                if let Some(q) = s.selected_queue() {
                    q.set_ready(value & 1 != 0);
                }
            }
            QUEUE_NOTIFY => {
                if let Some(flag) = s.notified.get_mut(value as usize) {
                    *flag = true;
                }
            }
            INTERRUPT_ACK => {
                s.interrupt_status &= !value;
                let level = s.interrupt_status != 0;
                drop(s);
                self.irq.set(level);
            }
            QUEUE_DESC_LOW | QUEUE_DESC_HIGH | QUEUE_DRIVER_LOW | QUEUE_DRIVER_HIGH
            | QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH => {
                if let Some(q) = s.selected_queue() {
                    let field = match offset & !7 {
                        QUEUE_DESC_LOW => &mut q.desc_table,
                        QUEUE_DRIVER_LOW => &mut q.avail_ring,
                        _ => &mut q.used_ring,
                    };
                    *field = if offset & 4 == 0 {
                        (*field & !0xffff_ffff) | u64::from(value)
                    } else {
                        (*field & 0xffff_ffff) | (u64::from(value) << 32)
                    };
                }
            }
            _ => return false,
        }
        true
    }

    fn write_status(&self, value: u32) {
        if value == 0 {
            self.reset();
            return;
        }
        let mut value = value;
        let mut s = self.state.borrow_mut();
        let newly_features_ok =
            value & status::FEATURES_OK != 0 && s.status & status::FEATURES_OK == 0;
        if newly_features_ok {
            let offered = self.device_features();
            let wanted = s.driver_features;
            if wanted & !offered != 0
                || wanted & VIRTIO_F_VERSION_1 == 0
                || !self.with_device(false, |d| d.features_acceptable(wanted))
            {
                // Refuse: the driver sees FEATURES_OK stay clear.
                value &= !status::FEATURES_OK;
            } else {
                self.with_device((), |d| d.set_driver_features(wanted));
            }
        }
        s.status = value | (s.status & status::DEVICE_NEEDS_RESET);
    }
}

impl RegionOps for VirtioMmio {
    fn read(&self, offset: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        if offset >= CONFIG {
            let mut bytes = [0u8; 8];
            let n = (size as usize).min(8);
            self.with_device((), |d| d.read_config(offset - CONFIG, &mut bytes[..n]));
            return Ok(u64::from_le_bytes(bytes));
        }
        if size != 4 {
            tracing::warn!(target: GUEST_ERRORS, "virtio-mmio: {size}-byte read of register 0x{offset:x}");
            return Ok(0);
        }
        Ok(match self.read_register(offset) {
            Some(value) => u64::from(value),
            None => {
                tracing::warn!(target: GUEST_ERRORS, "virtio-mmio: read of register 0x{offset:x}");
                0
            }
        })
    }

    fn write(&self, offset: u64, value: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        if offset >= CONFIG {
            let bytes = value.to_le_bytes();
            let n = (size as usize).min(8);
            self.with_device((), |d| d.write_config(offset - CONFIG, &bytes[..n]));
            return Ok(());
        }
        if size != 4 {
            tracing::warn!(target: GUEST_ERRORS, "virtio-mmio: {size}-byte write of register 0x{offset:x}");
            return Ok(());
        }
        if !self.write_register(offset, value as u32) {
            tracing::warn!(target: GUEST_ERRORS, "virtio-mmio: write 0x{value:x} to register 0x{offset:x}");
        }
        Ok(())
    }

    /// The memory API's defaults (aligned, 1 to 4 bytes per callback; wider
    /// accesses are split), little endian.
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor::default()
    }

    fn reentrancy_guard(&self) -> Option<&ReentrancyGuard> {
        Some(&self.guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::IrqLevels;
    use ferrite_memory::VecMemory;
    use std::rc::Rc;

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };

    /// A device with two queues that returns every chain unused-length 0.
    struct Echo {
        resets: Rc<std::cell::Cell<u32>>,
        accepted: Rc<std::cell::Cell<u64>>,
    }

    impl VirtioDevice for Echo {
        fn device_id(&self) -> u32 {
            42
        }
        fn device_features(&self) -> u64 {
            0b101
        }
        fn num_queues(&self) -> usize {
            2
        }
        fn queue_max_size(&self) -> u16 {
            16
        }
        fn read_config(&self, offset: u64, data: &mut [u8]) {
            for (i, b) in data.iter_mut().enumerate() {
                *b = (offset as u8).wrapping_add(i as u8);
            }
        }
        fn set_driver_features(&mut self, features: u64) {
            self.accepted.set(features);
        }
        fn process_queue(
            &mut self,
            _index: usize,
            queue: &mut Virtqueue,
            mem: &mut dyn GuestBytes,
        ) -> super::super::queue::Result<bool> {
            let mut used = false;
            while let Some(chain) = queue.pop(mem)? {
                queue.push_used(mem, chain.head, 0)?;
                used = true;
            }
            Ok(used)
        }
        fn reset(&mut self) {
            self.resets.set(self.resets.get() + 1);
        }
    }

    struct Rig {
        dev: VirtioMmio,
        irq: Rc<IrqLevels>,
        resets: Rc<std::cell::Cell<u32>>,
        accepted: Rc<std::cell::Cell<u64>>,
    }

    fn rig() -> Rig {
        let irq = IrqLevels::new();
        let resets = Rc::new(std::cell::Cell::new(0));
        let accepted = Rc::new(std::cell::Cell::new(0));
        let echo = Echo {
            resets: resets.clone(),
            accepted: accepted.clone(),
        };
        Rig {
            dev: VirtioMmio::new(Box::new(echo), irq.line(1)),
            irq,
            resets,
            accepted,
        }
    }

    impl Rig {
        fn rd(&self, offset: u64) -> u32 {
            self.dev.read(offset, 4, A).unwrap() as u32
        }
        fn wr(&self, offset: u64, value: u32) {
            self.dev.write(offset, u64::from(value), 4, A).unwrap();
        }
    }

    #[test]
    fn identification_and_features() {
        let r = rig();
        assert_eq!(r.rd(MAGIC), 0x7472_6976);
        assert_eq!(r.rd(VERSION), 2);
        assert_eq!(r.rd(DEVICE_ID), 42);
        assert_eq!(r.rd(VENDOR_ID), QEMU_VENDOR_ID);
        assert_eq!(r.rd(DEVICE_FEATURES), 0b101);
        r.wr(DEVICE_FEATURES_SEL, 1);
        assert_eq!(r.rd(DEVICE_FEATURES), 1, "VERSION_1 in the high word");
        r.wr(DEVICE_FEATURES_SEL, 2);
        assert_eq!(r.rd(DEVICE_FEATURES), 0);
        assert_eq!(
            r.dev.read(DEVICE_ID, 2, A).unwrap(),
            0,
            "registers are 32-bit only"
        );
    }

    #[test]
    fn feature_negotiation_accepts_subsets_with_version_1_only() {
        let r = rig();
        r.wr(STATUS, status::ACKNOWLEDGE | status::DRIVER);
        r.wr(DRIVER_FEATURES_SEL, 0);
        r.wr(DRIVER_FEATURES, 0b001);
        r.wr(
            STATUS,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
        );
        assert_eq!(
            r.rd(STATUS) & status::FEATURES_OK,
            0,
            "no VERSION_1: refused"
        );
        r.wr(DRIVER_FEATURES_SEL, 1);
        r.wr(DRIVER_FEATURES, 1);
        r.wr(DRIVER_FEATURES_SEL, 0);
        r.wr(DRIVER_FEATURES, 0b010);
        r.wr(
            STATUS,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
        );
        assert_eq!(
            r.rd(STATUS) & status::FEATURES_OK,
            0,
            "bit 1 was not offered"
        );
        r.wr(DRIVER_FEATURES, 0b100);
        r.wr(
            STATUS,
            status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
        );
        assert_ne!(r.rd(STATUS) & status::FEATURES_OK, 0);
        assert_eq!(r.accepted.get(), VIRTIO_F_VERSION_1 | 0b100);
    }

    #[test]
    fn queue_registers_follow_queue_sel() {
        let r = rig();
        r.wr(QUEUE_SEL, 1);
        assert_eq!(r.rd(QUEUE_NUM_MAX), 16);
        r.wr(QUEUE_NUM, 8);
        r.wr(QUEUE_DESC_LOW, 0x1000);
        r.wr(QUEUE_DESC_HIGH, 0x2);
        r.wr(QUEUE_DRIVER_LOW, 0x3000);
        r.wr(QUEUE_DEVICE_LOW, 0x4000);
        r.wr(QUEUE_READY, 1);
        assert_eq!(r.rd(QUEUE_DESC_HIGH), 2);
        assert_eq!(r.rd(QUEUE_DEVICE_LOW), 0x4000);
        assert_eq!(r.rd(QUEUE_READY), 1);
        r.wr(QUEUE_SEL, 0);
        assert_eq!(r.rd(QUEUE_READY), 0, "queue 0 untouched");
        assert_eq!(r.rd(QUEUE_DESC_LOW), 0);
        r.wr(QUEUE_NUM, 17);
        assert_eq!(r.rd(QUEUE_NUM), 0, "larger than QueueNumMax: ignored");
        r.wr(QUEUE_SEL, 2);
        assert_eq!(r.rd(QUEUE_NUM_MAX), 0, "no queue 2");
    }

    #[test]
    fn notify_process_interrupt_ack_and_reset() {
        use crate::virtio::queue::tests::{AVAIL, DESC, USED, publish, put_desc};
        let r = rig();
        let mut mem = VecMemory::new(0, 0x10000);
        r.wr(QUEUE_SEL, 0);
        r.wr(QUEUE_NUM, 4);
        r.wr(QUEUE_DESC_LOW, DESC as u32);
        r.wr(QUEUE_DRIVER_LOW, AVAIL as u32);
        r.wr(QUEUE_DEVICE_LOW, USED as u32);
        r.wr(QUEUE_READY, 1);
        put_desc(&mut mem, 0, 0x8000, 4, 0, 0);
        publish(&mut mem, 4, 0);
        r.wr(QUEUE_NOTIFY, 0);
        assert!(!r.dev.needs_processing(), "driver not ready yet");
        r.dev.process(&mut mem);
        assert_eq!(mem.read_u16(USED + 2).unwrap(), 0);
        r.wr(
            STATUS,
            status::ACKNOWLEDGE | status::DRIVER | status::DRIVER_OK,
        );
        assert!(r.dev.needs_processing(), "the early kick is still pending");
        r.dev.process(&mut mem);
        assert_eq!(mem.read_u16(USED + 2).unwrap(), 1);
        assert!(r.irq.level(1));
        assert_eq!(r.rd(INTERRUPT_STATUS), INT_USED_BUFFER);
        assert!(!r.dev.needs_processing());
        r.wr(INTERRUPT_ACK, INT_USED_BUFFER);
        assert!(!r.irq.level(1));
        assert_eq!(r.rd(INTERRUPT_STATUS), 0);
        r.wr(STATUS, 0);
        assert_eq!(r.resets.get(), 1);
        assert_eq!(r.rd(QUEUE_READY), 0);
        assert_eq!(r.rd(STATUS), 0);
    }

    #[test]
    fn broken_queue_sets_needs_reset() {
        use crate::virtio::queue::tests::{AVAIL, DESC, USED, publish, put_desc};
        let r = rig();
        let mut mem = VecMemory::new(0, 0x10000);
        r.wr(QUEUE_NUM, 2);
        r.wr(QUEUE_DESC_LOW, DESC as u32);
        r.wr(QUEUE_DRIVER_LOW, AVAIL as u32);
        r.wr(QUEUE_DEVICE_LOW, USED as u32);
        r.wr(QUEUE_READY, 1);
        r.wr(STATUS, status::DRIVER_OK);
        put_desc(&mut mem, 0, 0x8000, 4, 1, 0); // NEXT to itself: a loop
        publish(&mut mem, 2, 0);
        r.wr(QUEUE_NOTIFY, 0);
        r.dev.process(&mut mem);
        assert_ne!(r.rd(STATUS) & status::DEVICE_NEEDS_RESET, 0);
        assert_eq!(r.rd(INTERRUPT_STATUS), INT_CONFIG_CHANGE);
        assert!(r.irq.level(1));
        r.wr(QUEUE_NOTIFY, 0);
        assert!(!r.dev.needs_processing(), "nothing runs until reset");
    }

    #[test]
    fn config_space_any_width() {
        let r = rig();
        assert_eq!(r.dev.read(CONFIG + 4, 1, A).unwrap(), 4);
        assert_eq!(r.dev.read(CONFIG + 4, 2, A).unwrap(), 0x0504);
        assert_eq!(r.dev.read(CONFIG, 4, A).unwrap(), 0x0302_0100);
        assert_eq!(r.rd(CONFIG_GENERATION), 0);
        assert_eq!(r.rd(0x0f0), 0, "unknown register");
    }
}
