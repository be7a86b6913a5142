//! Host memory: one anonymous mapping per RAM block (and per large lookup
//! table), and the counted references that keep a mapping alive.

use std::rc::Rc;

use crate::address::PAGE_SIZE;
use crate::error::{MemoryError, Result};

/// One anonymous host mapping, made with `memmap2` so that it works on
/// every host OS: zero-filled, and on Linux reserved without swap
/// (`MAP_NORESERVE`) and backed only as pages are touched.
#[derive(Debug)]
pub(crate) struct HostMapping {
    /// Owns the mapping (unmapped when dropped). Never dereferenced as a
    /// slice: every access goes through `ptr`, so no Rust reference into
    /// guest memory is ever live while the guest or a device writes it.
    #[cfg_attr(not(unix), allow(dead_code, reason = "only held, for its drop"))]
    map: memmap2::MmapMut,
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
        let mut map = memmap2::MmapOptions::new()
            .len(rounded)
            .no_reserve_swap()
            .map_anon()
            .map_err(|e| err(e.to_string()))?;
        let ptr = map.as_mut_ptr();
        Ok(HostMapping {
            map,
            ptr,
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
        let (start, len) = (start as usize, (end - start) as usize);
        #[cfg(unix)]
        {
            // SAFETY: `[start, start + len)` is page aligned and inside the
            // mapping, which is private and anonymous: MADV_DONTNEED drops the
            // pages' contents (they read as zero afterwards) and keeps the
            // mapping valid. No Rust reference into the mapping exists (see
            // `map`), so none observes the change.
            let advised = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
            };
            if advised.is_ok() {
                return;
            }
        }
        // Elsewhere (or if the advice failed): the same contents, without
        // giving the memory back.
        // SAFETY: the range is inside the live mapping (checked above) and no
        // reference into it exists.
        unsafe { std::ptr::write_bytes(self.ptr.add(start), 0, len) };
    }

    /// Ask for transparent huge pages over `[offset, offset + len)` (Linux;
    /// elsewhere nothing). Only advice: the contents do not change.
    pub(crate) fn advise_huge_pages(&self, offset: usize, len: usize) {
        #[cfg(target_os = "linux")]
        {
            let _ = self
                .map
                .advise_range(memmap2::Advice::HugePage, offset, len);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
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
}
