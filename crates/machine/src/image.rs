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
    /// A raw binary (a Linux `Image`, or a file named `*.bin` without the
    /// ELF magic): loaded at an address the board chooses.
    Raw(Vec<u8>),
}

/// Offset of the RISC-V Linux `Image` header's `magic2` field
/// (`Documentation/arch/riscv/boot-image-header.rst`).
const IMAGE_MAGIC2_OFFSET: usize = 0x38;
/// `magic2`: "RSC\x05".
const IMAGE_MAGIC2: &[u8; 4] = b"RSC\x05";
/// Offset of the deprecated 8-byte `magic` field, "RISCV\0\0\0".
const IMAGE_MAGIC_OFFSET: usize = 0x30;
const IMAGE_MAGIC: &[u8; 8] = b"RISCV\0\0\0";
/// Offset of `image_size`: the bytes the kernel occupies once running,
/// its `.bss` included (little endian).
const IMAGE_SIZE_OFFSET: usize = 0x10;

/// Whether `bytes` start with a RISC-V Linux `Image` header (the kernel
/// build's `arch/riscv/boot/Image`, with or without the EFI stub's `MZ`):
/// either magic is enough, as for the kernel's own loaders.
pub(crate) fn is_linux_image(bytes: &[u8]) -> bool {
    let field = |at: usize, len: usize| bytes.get(at..at + len);
    field(IMAGE_MAGIC2_OFFSET, 4) == Some(&IMAGE_MAGIC2[..])
        || field(IMAGE_MAGIC_OFFSET, 8) == Some(&IMAGE_MAGIC[..])
}

/// The `image_size` of a Linux `Image` header, when the bytes have one and
/// it is not smaller than the file.
fn linux_image_size(bytes: &[u8]) -> Option<u64> {
    if !is_linux_image(bytes) {
        return None;
    }
    let field = bytes.get(IMAGE_SIZE_OFFSET..IMAGE_SIZE_OFFSET + 8)?;
    let size = u64::from_le_bytes(field.try_into().ok()?);
    (size >= bytes.len() as u64).then_some(size)
}

/// A parsed image with its name, for messages.
#[derive(Debug)]
pub(crate) struct NamedImage {
    pub what: &'static str,
    pub name: String,
    pub image: Image,
}

/// Reads and parses `src`. A Linux `Image` (told by its header, whatever
/// the file is called) and a file named `*.bin` that lacks the ELF magic
/// are raw binaries (as QEMU falls back to for `-bios` and `-kernel`);
/// everything else must be a valid RISC-V 64-bit ELF, so a mistyped path
/// to something else is an ELF error rather than garbage run as code.
pub(crate) fn open_image(src: &ImageSource, what: &'static str) -> Result<NamedImage> {
    let bytes = read_source(src, what)?;
    let name = src.name();
    let looks_raw =
        !bytes.starts_with(b"\x7fELF") && (name.ends_with(".bin") || is_linux_image(&bytes));
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
    /// The range the image will occupy if a raw image is put at `raw_addr`:
    /// for a Linux `Image`, the header's `image_size` (the running kernel's
    /// extent, `.bss` included), so nothing is placed where it would be
    /// overwritten.
    pub fn footprint(&self, raw_addr: u64) -> MemoryRange {
        match &self.image {
            Image::Elf(elf) => elf.footprint(),
            Image::Raw(bytes) => MemoryRange::new(
                raw_addr,
                linux_image_size(bytes).unwrap_or(bytes.len() as u64),
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 64 bytes of a Linux `Image` (as Debian's riscv64 kernel
    /// begins: the EFI stub's `MZ`, text_offset 2 MiB, both magics).
    fn image_header(image_size: u64, magic: bool, magic2: bool) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..2].copy_from_slice(b"MZ");
        h[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
        h[16..24].copy_from_slice(&image_size.to_le_bytes());
        if magic {
            h[0x30..0x38].copy_from_slice(IMAGE_MAGIC);
        }
        if magic2 {
            h[0x38..0x3c].copy_from_slice(IMAGE_MAGIC2);
        }
        h
    }

    fn open(name: &str, bytes: Vec<u8>) -> Result<NamedImage> {
        open_image(
            &ImageSource::Bytes {
                name: name.into(),
                bytes,
            },
            "kernel",
        )
    }

    #[test]
    fn a_linux_image_is_raw_whatever_its_name() {
        for (magic, magic2) in [(true, true), (false, true), (true, false)] {
            let img = open("vmlinuz-6.12", image_header(0x1e6_c000, magic, magic2)).unwrap();
            assert!(img.elf().is_none());
            assert_eq!(img.entry(0x8020_0000), 0x8020_0000);
            // The running kernel's size, not the file's.
            assert_eq!(
                img.footprint(0x8020_0000),
                MemoryRange::new(0x8020_0000, 0x1e6_c000)
            );
        }
    }

    #[test]
    fn other_files_must_be_elf_unless_named_bin() {
        let err = open("Image", image_header(0x1000, false, false)).unwrap_err();
        assert!(err.to_string().contains("not an ELF"), "{err}");
        let img = open("blob.bin", vec![0x13, 0, 0, 0]).unwrap();
        assert_eq!(img.footprint(0x8000_0000).size(), 4);
        // An image_size below the file's length is ignored.
        let img = open("Image", image_header(8, false, true)).unwrap();
        assert_eq!(img.footprint(0x8020_0000).size(), 64);
    }
}
