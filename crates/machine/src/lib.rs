//! Ferrite boards: `virt` (QEMU's memory map, device tree, boot ROM) and
//! `spike` (HTIF through the ELF's `tohost`/`fromhost` symbols).
//!
//! The crate's one rule: a board is built from a [`MachineConfig`] whose
//! every problem (missing file, broken ELF, impossible memory size, kernel
//! overlapping the bios, malformed device tree) is a typed [`MachineError`]
//! before any guest instruction runs; once built, running is deterministic:
//! the same images, configuration and console input give the same output,
//! instruction count and exit status.
//!
//! ```no_run
//! use ferrite_machine::{BoardKind, ImageSource, Machine, MachineConfig, RunLimits};
//! let config = MachineConfig::new(BoardKind::Virt)
//!     .with_kernel(ImageSource::file("firmware/bin/hello.elf"))
//!     .with_captured_serial(b"");
//! let mut machine = Machine::new(config)?;
//! let outcome = machine.run(&RunLimits::default())?;
//! println!("{:?}: {}", outcome, String::from_utf8_lossy(&machine.captured_output()));
//! # Ok::<(), ferrite_machine::MachineError>(())
//! ```
#![warn(missing_docs)]

mod board;
pub mod boot_rom;
pub mod config;
mod console;
mod cpu;
pub mod debug;
mod display;
pub mod elf;
mod error;
pub mod fdt;
pub mod hart;
pub mod htif;
mod image;
pub mod layout;
mod machine;
pub mod outcome;
pub mod profile;
mod scheduler;
pub mod size;

pub use config::{
    BoardKind, DEFAULT_DISPLAY_REFRESH_MS, DEFAULT_INPUT_WAIT, ImageSource, MAX_HARTS,
    MachineConfig, OUTPUT_WINDOW, OutputPattern, PciDeviceConfig, SerialConfig, TraceConfig,
    UnknownBoard,
};
pub use debug::{DebugAccessError, DebugEvent, HartDebug};
pub use error::{MachineError, Result};
pub use ferrite_chardev::ConsoleMux;
/// PCI types the machine's [`Machine::pci_functions`] reports.
pub use ferrite_devices::pci;
/// virtio-mem: the device specification (`--virtio-mem`) and its state.
pub use ferrite_devices::virtio::mem as virtio_mem;
pub use ferrite_memory::MtreeOptions;
pub use ferrite_riscv::isa::{Isa, IsaError};
pub use ferrite_riscv::{SPIKE_SLICE, TraceOutput};
pub use ferrite_softmmu::log_filter;
pub use hart::HartStats;
pub use machine::{ConsoleCapture, Machine, format_signature};
pub use outcome::{RunLimits, RunOutcome, exit_status};
pub use scheduler::QUANTUM;

/// The RISC-V register and CSR names a debugger shows.
pub use ferrite_riscv::disasm::{csr_name, freg_name, reg_name};

/// The software TLB's tag flags, for a debugger's `info tlb`.
pub mod tlb_flags {
    pub use ferrite_softmmu::tlb::{
        TLB_DISCARD_WRITE, TLB_MMIO, TLB_NOTDIRTY, TLB_RECHECK, TLB_WATCHPOINT,
    };
}
