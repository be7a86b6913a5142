//! Structural check of a flattened device tree blob supplied with `--dtb`.
//!
//! Checks the header the way a firmware's `fdt_check_header` does: the magic,
//! a supported version, a total size that fits the file and the header, and
//! the structure, strings and memory-reservation blocks inside the total
//! size. It does not walk the tree: a blob that passes is one the guest's
//! own FDT library can open.

use super::{FdtError, Result};

/// The FDT magic number (big endian at offset 0).
pub const FDT_MAGIC: u32 = 0xd00d_feed;

/// Size of the version-17 FDT header.
const HEADER_SIZE: usize = 40;

/// Oldest layout a guest FDT library still reads (libfdt accepts 16 and 17).
const FIRST_SUPPORTED_VERSION: u32 = 16;

fn be32(blob: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&blob[at..at + 4]);
    u32::from_be_bytes(b)
}

/// Validates `blob`; on success returns its `totalsize` (which may be less
/// than `blob.len()`: trailing bytes are ignored, as QEMU ignores them).
pub fn validate(blob: &[u8]) -> Result<usize> {
    if blob.len() < 4 {
        return Err(FdtError::Malformed(format!(
            "{} bytes, shorter than the 40-byte header",
            blob.len()
        )));
    }
    let magic = be32(blob, 0);
    if magic != FDT_MAGIC {
        return Err(FdtError::BadMagic(magic));
    }
    if blob.len() < HEADER_SIZE {
        return Err(FdtError::Malformed(format!(
            "{} bytes, shorter than the 40-byte header",
            blob.len()
        )));
    }
    let total = be32(blob, 4) as usize;
    let off_struct = be32(blob, 8) as usize;
    let off_strings = be32(blob, 12) as usize;
    let off_rsvmap = be32(blob, 16) as usize;
    let version = be32(blob, 20);
    let last_comp = be32(blob, 24);
    let size_strings = be32(blob, 32) as usize;
    let size_struct = be32(blob, 36) as usize;
    if version < FIRST_SUPPORTED_VERSION || last_comp > 17 {
        return Err(FdtError::Malformed(format!(
            "unsupported version {version} (last compatible {last_comp})"
        )));
    }
    if total < HEADER_SIZE || total > blob.len() {
        return Err(FdtError::Malformed(format!(
            "total size {total:#x} does not fit the {:#x}-byte file",
            blob.len()
        )));
    }
    let within = |name: &str, off: usize, len: usize| -> Result<()> {
        if off < HEADER_SIZE || off.checked_add(len).is_none_or(|end| end > total) {
            return Err(FdtError::Malformed(format!(
                "{name} block at {off:#x} (+{len:#x}) lies outside the {total:#x}-byte tree"
            )));
        }
        Ok(())
    };
    within("structure", off_struct, size_struct)?;
    within("strings", off_strings, size_strings)?;
    // The reservation map is a list of 16-byte entries ending with a zero one.
    within("memory reservation", off_rsvmap, 16)?;
    if off_struct % 4 != 0 || off_rsvmap % 8 != 0 {
        return Err(FdtError::Malformed("misaligned block offset".into()));
    }
    if size_struct < 4 || be32(blob, off_struct) != 1 {
        return Err(FdtError::Malformed(
            "structure block does not start with a node".into(),
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::{DeviceTreeSpec, TreeKind, generate};
    use crate::layout::MemoryRange;

    fn good() -> Vec<u8> {
        generate(&DeviceTreeSpec {
            kind: TreeKind::Virt,
            harts: 1,
            ram: MemoryRange::new(0x8000_0000, 0x800_0000),
            isa: "rv64imac".into(),
            bootargs: None,
            plic_size: 0x60_0000,
            initrd: None,
            pcie_high: None,
        })
        .unwrap()
    }

    #[test]
    fn accepts_generated_tree() {
        let blob = good();
        assert_eq!(validate(&blob).unwrap(), blob.len());
    }

    #[test]
    fn rejects_bad_magic_and_short_blobs() {
        assert_eq!(
            validate(b"\x7fELF\0\0\0\0").unwrap_err(),
            FdtError::BadMagic(0x7f45_4c46)
        );
        assert!(matches!(validate(&[]).unwrap_err(), FdtError::Malformed(_)));
        let blob = good();
        for len in [4, 39, 40, blob.len() - 1] {
            assert!(validate(&blob[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn rejects_inconsistent_header() {
        let mut blob = good();
        blob[8..12].copy_from_slice(&0xffff_fff0u32.to_be_bytes()); // off_dt_struct
        let err = validate(&blob).unwrap_err();
        assert!(err.to_string().contains("structure block"), "{err}");

        let mut blob = good();
        blob[20..24].copy_from_slice(&1u32.to_be_bytes()); // version 1
        assert!(validate(&blob).unwrap_err().to_string().contains("version"));
    }
}
