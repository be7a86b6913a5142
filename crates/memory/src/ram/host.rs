//! Host memory: one anonymous mapping per RAM block (and per large lookup
//! table), and the counted references that keep a mapping alive.

use std::rc::Rc;

use crate::address::PAGE_SIZE;
use crate::error::{MemoryError, Result};

/// One anonymous host mapping.
#[derive(Debug)]
pub(crate) struct HostMapping {
    ptr: *mut u8,
    len: usize,
}

impl HostMapping {
    /// Reserve `len` bytes (rounded up to a page, at least one page), zero-filled,
    /// backed lazily.
    pub(crate) fn new(name: &str, len: u64) -> Result<Self> {
        let err = |reason: String| MemoryError::HostMemory {
            name: name.to_string(),
            size: len,
            reason,
        };
        let rounded = len
            .max(1)
            .checked_next_multiple_of(PAGE_SIZE)
            .ok_or_else(|| err("size overflows".into()))?;
        let rounded = usize::try_from(rounded)
            .map_err(|_| err("larger than the host address space".into()))?;
        // SAFETY: an anonymous private mapping with a null hint touches no existing
        // memory; the result is checked against MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                rounded,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(err(std::io::Error::last_os_error().to_string()));
        }
        Ok(HostMapping {
            ptr: ptr.cast(),
            len: rounded,
        })
    }

    /// The host address of byte 0.
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Give the pages of `[offset, offset + len)` back to the host; they read as
    /// zero afterwards. The range is shrunk to whole pages.
    pub(crate) fn discard(&self, offset: u64, len: u64) {
        let start = offset.next_multiple_of(PAGE_SIZE);
        let end = offset.saturating_add(len) / PAGE_SIZE * PAGE_SIZE;
        if end <= start || end > self.len as u64 {
            return;
        }
        // SAFETY: [start, end) is page aligned and inside our own mapping; the
        // mapping stays valid, MADV_DONTNEED only drops its contents.
        unsafe {
            libc::madvise(
                self.ptr.add(start as usize).cast(),
                (end - start) as usize,
                libc::MADV_DONTNEED,
            );
        }
    }
}

impl Drop for HostMapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len came from a successful mmap and are unmapped exactly once.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// A counted reference to the host memory of one RAM block.
///
/// Whoever keeps a raw host pointer into guest RAM beyond the call that
/// produced it (the softmmu TLB, a region cache) keeps one of these beside
/// it: the mapping is unmapped only when the last reference goes, so such a
/// pointer can never outlive the memory it points at, whatever happens to
/// the [`MemorySystem`](crate::MemorySystem) that made it.
#[derive(Clone, Debug)]
pub struct RamHostRef(Rc<HostMapping>);

impl RamHostRef {
    /// A reference keeping `mapping` alive.
    pub(crate) fn new(mapping: Rc<HostMapping>) -> Self {
        RamHostRef(mapping)
    }

    /// Whether `len` bytes from host address `p` lie inside this mapping.
    pub fn contains(&self, p: *const u8, len: usize) -> bool {
        let base = self.0.ptr as usize;
        let p = p as usize;
        p >= base
            && p.checked_add(len)
                .is_some_and(|end| end <= base + self.0.len)
    }

    /// Whether two references keep the same mapping alive.
    pub fn same_mapping(&self, other: &RamHostRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
