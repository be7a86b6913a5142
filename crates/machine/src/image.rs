//! Guest images (bios, kernel): reading them, telling ELF from raw, and
//! writing them into guest memory through the memory API.

use ferrite_memory::{AddressSpaceId, GuestBytes, MemorySystem, SpaceBytes};

use crate::config::ImageSource;
use crate::elf::ElfImage;
use crate::error::{MachineError, Result};
use crate::layout::MemoryRange;

/// Reads the bytes of `src`; a missing or unreadable file is
/// [`MachineError::Read`] naming `what` and the path.
pub(crate) fn read_source(src: &ImageSource, what: &'static str) -> Result<Vec<u8>> {
    match src {
        ImageSource::File(path) => std::fs::read(path).map_err(|source| MachineError::Read {
            what,
            path: path.clone(),
            source,
        }),
        ImageSource::Bytes { bytes, .. } => Ok(bytes.clone()),
    }
}

/// A parsed image.
#[derive(Debug)]
pub(crate) enum Image {
    /// An ELF: loaded at its segments' physical addresses.
    Elf(ElfImage),
    /// A raw binary (a file named `*.bin` without the ELF magic): loaded at
    /// an address the board chooses.
    Raw(Vec<u8>),
}

/// A parsed image with its name, for messages.
#[derive(Debug)]
pub(crate) struct NamedImage {
    pub what: &'static str,
    pub name: String,
    pub image: Image,
}

/// Reads and parses `src`. Files whose name ends in `.bin` and that lack
/// the ELF magic are raw binaries (as QEMU falls back to for `-bios` and
/// `-kernel`); everything else must be a valid RISC-V 64-bit ELF.
pub(crate) fn open_image(src: &ImageSource, what: &'static str) -> Result<NamedImage> {
    let bytes = read_source(src, what)?;
    let name = src.name();
    let looks_raw = name.ends_with(".bin") && !bytes.starts_with(b"\x7fELF");
    let image = if looks_raw {
        Image::Raw(bytes)
    } else {
        Image::Elf(ElfImage::parse(bytes).map_err(|source| MachineError::Elf {
            what,
            name: name.clone(),
            source,
        })?)
    };
    Ok(NamedImage { what, name, image })
}

impl NamedImage {
    /// The range the image will occupy if a raw image is put at `raw_addr`.
    pub fn footprint(&self, raw_addr: u64) -> MemoryRange {
        match &self.image {
            Image::Elf(elf) => elf.footprint(),
            Image::Raw(bytes) => MemoryRange::new(raw_addr, bytes.len() as u64),
        }
    }

    /// Where execution of the image begins if a raw image is put at `raw_addr`.
    pub fn entry(&self, raw_addr: u64) -> u64 {
        match &self.image {
            Image::Elf(elf) => elf.entry(),
            Image::Raw(_) => raw_addr,
        }
    }

    /// The ELF, if it is one.
    pub fn elf(&self) -> Option<&ElfImage> {
        match &self.image {
            Image::Elf(elf) => Some(elf),
            Image::Raw(_) => None,
        }
    }

    /// Writes the image into guest memory, raw images at `raw_addr`; every
    /// byte must land inside `memory`.
    pub fn load(
        &self,
        mem: &mut MemorySystem,
        space: AddressSpaceId,
        memory: &[MemoryRange],
        raw_addr: u64,
    ) -> Result<()> {
        let mut writer = SpaceBytes::new(mem, space);
        match &self.image {
            Image::Elf(elf) => elf
                .load(&mut writer, memory)
                .map_err(|source| MachineError::Elf {
                    what: self.what,
                    name: self.name.clone(),
                    source,
                }),
            Image::Raw(bytes) => {
                let range = MemoryRange::new(raw_addr, bytes.len() as u64);
                let fits = memory.iter().any(|m| m.contains_range(&range))
                    && range.size() == bytes.len() as u64;
                if !fits || writer.write(raw_addr, bytes).is_err() {
                    return Err(MachineError::RawImageOutsideMemory {
                        what: self.what,
                        name: self.name.clone(),
                        size: bytes.len() as u64,
                        addr: raw_addr,
                    });
                }
                Ok(())
            }
        }
    }
}
