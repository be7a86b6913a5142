//! Region caches: a device that accesses one range many times (a virtqueue
//! ring) caches its translation. The cache remembers the address space's
//! generation and translates again when the flat view changed, so it is never
//! stale; while the range is plain writable RAM in one section, accesses are
//! host-memory copies with the usual dirty bookkeeping, otherwise they take
//! the ordinary access path.

use crate::address::{GuestAddress, RamAddr};
use crate::ids::AddressSpaceId;
use crate::ops::{MemTxAttrs, MemTxError, MemTxResult};
use crate::ram::host::RamHostRef;
use crate::system::MemorySystem;
use crate::view::lookup::SectionKind;

/// A cached translation of `[addr, addr + len)` in one address space.
#[derive(Clone, Debug)]
pub struct RegionCache {
    space: AddressSpaceId,
    addr: GuestAddress,
    len: u64,
    generation: u64,
    /// Host memory and ram address of `addr`, when the whole range is
    /// writable RAM, with the reference that keeps that memory mapped for as
    /// long as the cache holds the pointer.
    direct: Option<(*mut u8, RamAddr, RamHostRef)>,
}

impl RegionCache {
    /// Whether accesses currently go straight to host memory.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Length of the cached range.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the cached range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl MemorySystem {
    /// Cache the translation of `[addr, addr + len)` in `space`.
    pub fn region_cache_init(
        &self,
        space: AddressSpaceId,
        addr: GuestAddress,
        len: u64,
    ) -> RegionCache {
        let mut c = RegionCache {
            space,
            addr,
            len,
            generation: 0,
            direct: None,
        };
        self.region_cache_refresh(&mut c);
        c
    }

    fn region_cache_refresh(&self, c: &mut RegionCache) {
        c.generation = self.generation(c.space);
        let t = self.lookup_section(c.space, c.addr);
        c.direct = match t.kind {
            SectionKind::Ram {
                host,
                ram_addr,
                readonly: false,
            } if t.len >= c.len => self
                .ram_host_ref(ram_addr)
                .filter(|keep| keep.contains(host, c.len as usize))
                .map(|keep| (host, ram_addr, keep)),
            _ => None,
        };
    }

    /// Read `buf.len()` bytes at `offset` inside the cached range.
    pub fn region_cache_read(
        &mut self,
        c: &mut RegionCache,
        offset: u64,
        buf: &mut [u8],
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .ok_or(MemTxError::Decode)?;
        if end > c.len {
            return Err(MemTxError::Decode);
        }
        if c.generation != self.generation(c.space) {
            self.region_cache_refresh(c);
        }
        match c.direct {
            Some((host, _, _)) => {
                // SAFETY: `host..host + c.len` lies inside the mapping that the
                // cache's `RamHostRef` keeps alive (checked when it was
                // cached), and `offset + buf.len() = end <= c.len`.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        host.add(offset as usize),
                        buf.as_mut_ptr(),
                        buf.len(),
                    )
                };
                Ok(())
            }
            None => self.read(
                c.space,
                GuestAddress(c.addr.0.wrapping_add(offset)),
                buf,
                attrs,
            ),
        }
    }

    /// Write `data` at `offset` inside the cached range.
    pub fn region_cache_write(
        &mut self,
        c: &mut RegionCache,
        offset: u64,
        data: &[u8],
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(MemTxError::Decode)?;
        if end > c.len {
            return Err(MemTxError::Decode);
        }
        if c.generation != self.generation(c.space) {
            self.region_cache_refresh(c);
        }
        match c.direct {
            Some((host, ram, _)) => {
                self.note_ram_write(RamAddr(ram.0 + offset), data.len() as u64);
                // SAFETY: as in `region_cache_read`; the range is writable RAM.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        data.as_ptr(),
                        host.add(offset as usize),
                        data.len(),
                    )
                };
                Ok(())
            }
            None => self.write(
                c.space,
                GuestAddress(c.addr.0.wrapping_add(offset)),
                data,
                attrs,
            ),
        }
    }
}
