//! The devices mapped into a real `MemorySystem` the way the `virt` board
//! maps them: access-size rules come from each device's descriptor and are
//! enforced by the memory layer, interrupts travel UART -> PLIC -> hart pins.

use std::rc::Rc;

use ferrite_devices::chardev::BufferBackend;
use ferrite_devices::clint::{MTIME_OFFSET, MTIMER_OFFSET, MTIMER_SIZE, SWI_SIZE};
use ferrite_devices::{
    Clint, FinisherRequest, IrqLevels, IrqLine, ManualClock, Plic, PlicConfig, TestFinisher,
    Uart16550,
};
use ferrite_memory::{
    AddressSpaceId, Endianness, GuestAddress, MemTxAttrs, MemTxError, MemTxResult, MemorySystem,
    RegionSize,
};

const FINISHER: u64 = 0x10_0000;
const CLINT: u64 = 0x200_0000;
const PLIC: u64 = 0xc00_0000;
const UART: u64 = 0x1000_0000;
const UART_IRQ: u32 = 10;

/// Hart 0's pins in one sink: 0 = MSIP, 1 = MTIP, 2 = MEIP, 3 = SEIP.
const MSIP: u32 = 0;
const MTIP: u32 = 1;
const MEIP: u32 = 2;
const SEIP: u32 = 3;

struct Board {
    mem: MemorySystem,
    space: AddressSpaceId,
    pins: Rc<IrqLevels>,
    clock: Rc<ManualClock>,
    console: BufferBackend,
    uart: Rc<Uart16550>,
    clint: Rc<Clint>,
    finisher: Rc<TestFinisher>,
}

impl Board {
    fn new() -> Board {
        let pins = IrqLevels::new();
        let plic = Plic::new(PlicConfig::virt(1), vec![pins.line(MEIP), pins.line(SEIP)]).unwrap();
        let console = BufferBackend::new();
        let uart = Rc::new(Uart16550::new(
            IrqLine::new(plic.clone(), UART_IRQ),
            Box::new(console.clone()),
        ));
        let clock = Rc::new(ManualClock::new());
        let clint =
            Clint::new(clock.clone(), vec![pins.line(MSIP)], vec![pins.line(MTIP)]).unwrap();
        let finisher = Rc::new(TestFinisher::new());

        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let regions = [
            (FINISHER, mem.new_io("test", 0x1000, finisher.clone())),
            (
                CLINT,
                mem.new_io("riscv.aclint.swi", SWI_SIZE, Rc::new(clint.swi())),
            ),
            (
                CLINT + MTIMER_OFFSET,
                mem.new_io("riscv.aclint.mtimer", MTIMER_SIZE, Rc::new(clint.mtimer())),
            ),
            (
                PLIC,
                mem.new_io("riscv.sifive.plic", plic.region_size(), plic.clone()),
            ),
            (
                UART,
                mem.new_io("serial", Uart16550::REGION_SIZE, uart.clone()),
            ),
        ];
        for (base, region) in regions {
            mem.add_subregion(root, base, region).unwrap();
        }
        let space = mem.new_address_space("memory", root);
        Board {
            mem,
            space,
            pins,
            clock,
            console,
            uart,
            clint,
            finisher,
        }
    }

    fn load(&mut self, addr: u64, size: u32) -> MemTxResult<u64> {
        self.mem.load(
            self.space,
            GuestAddress(addr),
            size,
            Endianness::Little,
            MemTxAttrs::default(),
        )
    }

    fn store(&mut self, addr: u64, size: u32, value: u64) -> MemTxResult<()> {
        self.mem.store(
            self.space,
            GuestAddress(addr),
            size,
            value,
            Endianness::Little,
            MemTxAttrs::default(),
        )
    }
}

#[test]
fn uart_interrupt_reaches_the_hart_through_the_plic() {
    let mut b = Board::new();
    b.store(PLIC + 4 * u64::from(UART_IRQ), 4, 1).unwrap();
    b.store(PLIC + 0x2000, 4, 1 << UART_IRQ).unwrap();
    b.store(UART + 1, 1, 1).unwrap(); // IER.RDI
    assert!(!b.pins.level(MEIP));
    b.uart.push_input(b"z");
    assert!(b.pins.level(MEIP));
    assert!(!b.pins.level(SEIP), "source not enabled for the S context");
    assert_eq!(b.load(PLIC + 0x20_0004, 4).unwrap(), u64::from(UART_IRQ));
    assert!(!b.pins.level(MEIP), "claimed");
    assert_eq!(b.load(UART, 1).unwrap(), u64::from(b'z'));
    b.store(PLIC + 0x20_0004, 4, u64::from(UART_IRQ)).unwrap();
    assert!(!b.pins.level(MEIP), "UART line low at completion");
    b.uart.push_input(b"y");
    b.store(PLIC + 0x20_0004, 4, u64::from(UART_IRQ)).unwrap();
    assert!(b.pins.level(MEIP), "still pending after a stray complete");
}

#[test]
fn uart_accepts_one_to_eight_byte_accesses() {
    let mut b = Board::new();
    b.store(UART, 1, u64::from(b'A')).unwrap();
    b.store(UART, 8, u64::from(b'B')).unwrap();
    assert_eq!(b.console.output(), b"AB");
    assert_eq!(b.load(UART + 5, 1).unwrap(), 0x60);
    assert_eq!(b.load(UART + 4, 4).unwrap(), 0x08, "MCR");
    assert_eq!(b.load(UART + 3, 2), Err(MemTxError::Decode), "unaligned");
    assert_eq!(
        b.load(UART + 0x100, 1),
        Err(MemTxError::Decode),
        "outside the window"
    );
}

#[test]
fn clint_sizes_time_and_interrupts() {
    let mut b = Board::new();
    b.clock.set(0x1_0000_0005);
    assert_eq!(b.load(CLINT + 0xbff8, 8).unwrap(), 0x1_0000_0005);
    assert_eq!(b.load(CLINT + 0xbffc, 4).unwrap(), 1);
    assert_eq!(
        b.load(CLINT + 0xbff8, 2),
        Err(MemTxError::Decode),
        "MTIMER: 4 or 8 bytes"
    );
    assert_eq!(
        b.load(CLINT, 8),
        Err(MemTxError::Decode),
        "MSWI: 4 bytes only"
    );
    b.store(CLINT, 4, 1).unwrap();
    assert!(b.pins.level(MSIP));
    assert_eq!(b.load(CLINT, 4).unwrap(), 1);
    b.store(CLINT + 0x4000, 8, 0x1_0000_0100).unwrap();
    assert!(!b.pins.level(MTIP));
    assert_eq!(b.clint.next_deadline(), Some(0x1_0000_0100));
    b.clock.set(0x1_0000_0100);
    b.clint.update();
    assert!(b.pins.level(MTIP));
    b.store(CLINT + MTIMER_OFFSET + MTIME_OFFSET, 8, 0).unwrap();
    assert!(!b.pins.level(MTIP), "mtime moved back below mtimecmp");
}

#[test]
fn plic_is_four_bytes_only() {
    let mut b = Board::new();
    assert_eq!(b.store(PLIC + 4, 8, 1), Err(MemTxError::Decode));
    assert_eq!(b.load(PLIC + 4, 1), Err(MemTxError::Decode));
    b.store(PLIC + 4, 4, 0xff).unwrap();
    assert_eq!(b.load(PLIC + 4, 4).unwrap(), 7);
}

#[test]
fn finisher_through_memory() {
    let mut b = Board::new();
    assert_eq!(
        b.store(FINISHER, 1, 0x55),
        Err(MemTxError::Decode),
        "2..=4 bytes"
    );
    assert_eq!(b.finisher.request(), None);
    b.store(FINISHER, 4, (3 << 16) | 0x3333).unwrap();
    assert_eq!(b.finisher.take_request(), Some(FinisherRequest::Fail(3)));
    b.store(FINISHER, 2, 0x5555).unwrap();
    assert_eq!(b.finisher.take_request(), Some(FinisherRequest::Pass));
}
