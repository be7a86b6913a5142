//! Flattened device trees: generation for the boards ([`generate`]) and
//! validation of a user-supplied blob ([`validate`]).

mod generate;
mod validate;

pub use generate::{DeviceTreeSpec, TreeKind, generate};
pub use validate::{FDT_MAGIC, validate};

/// Why a device tree cannot be built or used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FdtError {
    /// The FDT writer refused the tree (a library-level inconsistency).
    #[error("building the device tree failed: {0}")]
    Build(String),
    /// The blob does not start with the FDT magic 0xd00dfeed.
    #[error("not a flattened device tree (magic {0:#010x}, expected 0xd00dfeed)")]
    BadMagic(u32),
    /// The blob is shorter than its header says, or a block lies outside it.
    #[error("malformed device tree: {0}")]
    Malformed(String),
    /// The blob is larger than the space reserved for it.
    #[error("device tree is {size:#x} bytes, more than the {limit:#x} bytes available")]
    TooLarge {
        /// Size of the blob.
        size: usize,
        /// Space available.
        limit: usize,
    },
}

/// Result of device tree operations.
pub type Result<T> = std::result::Result<T, FdtError>;

impl From<vm_fdt::Error> for FdtError {
    fn from(e: vm_fdt::Error) -> Self {
        FdtError::Build(e.to_string())
    }
}
