//! The crate's error type: everything that stops a board from being built
//! or run, each variant naming the problem.

use std::path::PathBuf;

use crate::elf::ElfError;
use crate::fdt::FdtError;

/// Why a board cannot be built or run.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The architectural-test signature cannot be written.
    #[error("signature: {0}")]
    Signature(String),
    /// A host file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        /// Which image ("kernel", "bios", "device tree").
        what: &'static str,
        /// The path given.
        path: PathBuf,
        /// The host error.
        #[source]
        source: std::io::Error,
    },
    /// An ELF image is unusable.
    #[error("{what} {name}: {source}")]
    Elf {
        /// Which image.
        what: &'static str,
        /// Its name (path).
        name: String,
        /// What is wrong with it.
        #[source]
        source: ElfError,
    },
    /// A raw (non-ELF) image does not fit where it must go.
    #[error("{what} {name}: {size:#x}-byte image at {addr:#x} does not fit in guest memory")]
    RawImageOutsideMemory {
        /// Which image.
        what: &'static str,
        /// Its name.
        name: String,
        /// Its size.
        size: u64,
        /// Where it was to be loaded.
        addr: u64,
    },
    /// The device tree blob (given or generated) is unusable.
    #[error("device tree {name}: {source}")]
    DeviceTree {
        /// The blob's name (path, or "generated").
        name: String,
        /// What is wrong with it.
        #[source]
        source: FdtError,
    },
    /// The memory size cannot work.
    #[error("invalid memory size {}: {reason}", human_size(*size))]
    RamSize {
        /// The size asked for.
        size: u64,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// The hart count cannot work.
    #[error("invalid hart count {harts}: must be between 1 and {max}")]
    HartCount {
        /// The count asked for.
        harts: u32,
        /// The largest count accepted.
        max: u32,
    },
    /// The kernel would overwrite the bios.
    #[error(
        "kernel ({kernel_start:#x}..{kernel_end:#x}) overlaps the bios ({bios_start:#x}..{bios_end:#x})"
    )]
    KernelOverlapsBios {
        /// First byte of the kernel.
        kernel_start: u64,
        /// One past its last byte.
        kernel_end: u128,
        /// First byte of the bios.
        bios_start: u64,
        /// One past its last byte.
        bios_end: u128,
    },
    /// The spike board needs an ELF with a `tohost` symbol for HTIF.
    #[error("{name}: no `tohost` symbol; the spike board talks HTIF through it")]
    NoTohost {
        /// The image's name.
        name: String,
    },
    /// A raw binary cannot be used where an ELF is needed.
    #[error("{what} {name}: {reason}")]
    UnsupportedImage {
        /// Which image.
        what: &'static str,
        /// Its name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Building the memory map failed (a bug in the board description, or a
    /// size the host cannot map).
    #[error("building guest memory: {0}")]
    Memory(#[from] ferrite_memory::MemoryError),
    /// A device refused its configuration.
    #[error("building devices: {0}")]
    Device(#[from] ferrite_devices::DeviceError),
    /// A PCI device could not be plugged.
    #[error("PCI: {0}")]
    Pci(#[from] ferrite_devices::pci::PciError),
    /// The bochs-display refused its configuration.
    #[error("{0}")]
    BochsDisplay(#[from] ferrite_devices::bochs_display::BochsError),
    /// A display back-end could not start.
    #[error("{0}")]
    Display(#[from] ferrite_display::DisplayError),
    /// A `--pflash` file that cannot be a bank's contents.
    #[error("pflash {path}: {reason}")]
    Pflash {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// More PCI devices than bus 0 has slots.
    #[error("too many PCI devices: {count} (bus 0 has slots 1 to 31)")]
    TooManyPciDevices {
        /// Devices asked for.
        count: usize,
    },
    /// More than one display device.
    #[error("one display device at most (--device bochs-display once)")]
    TooManyDisplays,
    /// `--display` without a display device to show.
    #[error("--display {what}: the machine has no display device (add --device bochs-display)")]
    NoDisplayDevice {
        /// The back-end asked for.
        what: String,
    },
    /// A virtio-blk disk image could not be opened.
    #[error("drive: {0}")]
    Drive(#[from] ferrite_devices::virtio::block::DiskOpenError),
    /// No device has this id.
    #[error("no device with id `{id}`")]
    NoSuchDevice {
        /// The id asked for.
        id: String,
    },
    /// A virtio-mem device could not be built or plugged.
    #[error("{0}")]
    VirtioMem(#[from] ferrite_devices::virtio::mem::VirtioMemError),
    /// The memory-size options do not fit together.
    #[error("--maxmem: {reason}")]
    MaxMem {
        /// What is wrong.
        reason: String,
    },
    /// More virtio devices than the board has slots.
    #[error("too many virtio devices: {count} (the virt board has 8 slots)")]
    TooManyVirtioDevices {
        /// Devices asked for.
        count: usize,
    },
    /// A drive asks for a virtio-mmio slot it cannot have.
    #[error("virtio-mmio slot {slot}: {reason}")]
    VirtioSlot {
        /// The slot asked for (`bus=N`).
        slot: u32,
        /// Why not.
        reason: &'static str,
    },
    /// The initial RAM disk cannot be placed.
    #[error("initrd {name}: {reason}")]
    Initrd {
        /// The file.
        name: String,
        /// Why not.
        reason: String,
    },
    /// A device only the `virt` board has was asked for on another board.
    #[error("{what} needs the virt board")]
    VirtOnly {
        /// The device.
        what: &'static str,
    },
    /// The console backend could not be opened.
    #[error("serial backend: {0}")]
    Serial(#[from] ferrite_devices::ChardevError),
}

/// Result of building or running a board.
pub type Result<T> = std::result::Result<T, MachineError>;

/// `bytes` in binary units, as a person reads them: `128 MiB`, `1.5 GiB`,
/// `10000 TiB`, `4097 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 5] = [
        ("EiB", 60),
        ("PiB", 50),
        ("TiB", 40),
        ("GiB", 30),
        ("MiB", 20),
    ];
    for (unit, shift) in UNITS.into_iter().chain([("KiB", 10)]) {
        let unit_bytes = 1u64 << shift;
        if bytes >= unit_bytes {
            if bytes % unit_bytes == 0 {
                return format!("{} {unit}", bytes >> shift);
            }
            if bytes % (unit_bytes / 2) == 0 && shift >= 20 {
                return format!("{}.5 {unit}", bytes >> shift);
            }
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod human_size_tests {
    use super::human_size;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(128 << 20), "128 MiB");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
        assert_eq!(human_size(10_000 << 40), "10000 TiB");
        assert_eq!(human_size(4097), "4097 bytes");
        assert_eq!(human_size(8 << 10), "8 KiB");
    }
}
