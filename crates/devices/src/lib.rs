//! Ferrite's platform devices: the NS16550A UART, the CLINT/ACLINT timer and
//! software interrupts, the SiFive PLIC, the SiFive test finisher, the
//! Goldfish RTC, virtio-mmio (block, entropy and memory devices, and empty slots),
//! a PCI Express host bridge with QEMU's bochs-display, CFI flash, fw_cfg,
//! and the character-backend interface a UART talks through (the host's
//! terminal, file and socket back-ends live in `ferrite-chardev`, so this
//! crate has no `unsafe` and does no host I/O).
//!
//! # The one rule
//!
//! **Devices see offsets, never CPUs or absolute addresses.** Every device is a
//! struct that keeps its state in `Cell`/`RefCell` and implements
//! [`ferrite_memory::RegionOps`]; the memory API hands it the offset inside its
//! own window and the access size. Which sizes and alignments are legal is said
//! once, in the device's [`ferrite_memory::IoDescriptor`], and enforced by the
//! memory layer, so device code never re-checks it. A device reaches the rest
//! of the machine only through:
//!
//! - [`IrqLine`]s (output wires into an [`IrqSink`] such as the PLIC or the
//!   board's per-hart interrupt pins),
//! - a [`TimeSource`] (the virtual 10 MHz `mtime` clock),
//! - a [`CharBackend`] (host terminal, file, socket, nothing),
//! - and, for devices that move data (virtio), a [`GuestBytes`] the
//!   board passes in when it asks them to do the work.
//!
//! Guest mistakes (bad offsets, bad values) are logged on the `guest_errors`
//! tracing target and never panic the host.
//!
//! # Wiring
//!
//! A board builds the interrupt controllers first, hands the devices lines
//! into them, and maps each device's ops as an I/O region:
//!
//! ```
//! use std::rc::Rc;
//! use ferrite_devices::chardev::BufferBackend;
//! use ferrite_devices::{IrqLevels, IrqLine, Plic, PlicConfig, Uart16550};
//! use ferrite_memory::{Endianness, GuestAddress, MemTxAttrs, MemorySystem, RegionSize};
//!
//! // A stand-in for hart 0's mip pins: line 0 = MEIP, line 1 = SEIP.
//! let pins = IrqLevels::new();
//! let plic = Plic::new(PlicConfig::virt(1), vec![pins.line(0), pins.line(1)])?;
//! let console = BufferBackend::new();
//! // The UART is PLIC source 10: its line number is the source id.
//! let uart = Rc::new(Uart16550::new(IrqLine::new(plic.clone(), 10), Box::new(console.clone())));
//!
//! let mut mem = MemorySystem::new();
//! let root = mem.new_container("system", RegionSize::Max);
//! let serial = mem.new_io("serial", Uart16550::REGION_SIZE, uart.clone());
//! mem.add_subregion(root, 0x1000_0000, serial)?;
//! let space = mem.new_address_space("memory", root);
//!
//! let (le, attrs) = (Endianness::Little, MemTxAttrs::default());
//! mem.store(space, GuestAddress(0x1000_0000), 1, u64::from(b'!'), le, attrs)?;
//! assert_eq!(console.output(), b"!");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod bochs_display;
pub mod chardev;
pub mod clint;
pub mod edid;
pub mod fw_cfg;
pub mod goldfish_rtc;
pub mod irq;
pub mod pci;
pub mod pflash;
pub mod plic;
pub mod test_finisher;
pub mod time;
pub mod uart16550;
pub mod virtio;

pub use bochs_display::BochsDisplay;
pub use chardev::{CharBackend, CharInput, ChardevError};
pub use clint::{Clint, ClintMtimer, ClintSwi};
pub use ferrite_memory::{GuestBytes, GuestBytesError, VecMemory};
pub use goldfish_rtc::GoldfishRtc;
pub use irq::{IrqLevels, IrqLine, IrqSink};
pub use pci::{PciDevice, PciHost};
pub use pflash::CfiFlash;
pub use plic::{Plic, PlicConfig};
pub use test_finisher::{FinisherRequest, TestFinisher};
pub use time::{ManualClock, TimeSource};
pub use uart16550::Uart16550;
pub use virtio::{VirtioMmio, VirtioMmioEmpty};

/// Errors from building a device with a configuration that cannot work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeviceError {
    /// A device was given a different number of interrupt lines than it needs.
    #[error("{device}: expected {expected} interrupt lines, got {got}")]
    IrqLineCount {
        /// The device being built.
        device: &'static str,
        /// How many lines it needs.
        expected: usize,
        /// How many it was given.
        got: usize,
    },
    /// A device parameter is outside the range the register layout can hold.
    #[error("{device}: {what} = {value} is out of range (at most {max})")]
    OutOfRange {
        /// The device being built.
        device: &'static str,
        /// The parameter.
        what: &'static str,
        /// The value given.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
}

/// Result of building a device.
pub type Result<T> = std::result::Result<T, DeviceError>;

/// Tracing target for accesses a guest should not make (QEMU's `guest_errors`).
pub const GUEST_ERRORS: &str = "guest_errors";
