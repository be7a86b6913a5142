//! Guest physical bytes: the one trait through which everything that is not
//! a CPU reads and writes guest memory — devices doing DMA, the HTIF front
//! end, loaders, and page-table walks.
//!
//! [`SpaceBytes`] implements it over an address space of a
//! [`MemorySystem`] (so DMA writes mark pages dirty and invalidate
//! translated code), [`VecMemory`] over a plain buffer for tests and tools.
//! Multi-byte values are little endian, as on RISC-V.

/// A guest physical range that could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("guest memory at 0x{addr:x} (+{len} bytes) is not accessible")]
pub struct GuestBytesError {
    /// Start of the access.
    pub addr: u64,
    /// Length of the access.
    pub len: usize,
}

/// Result of a guest memory access.
pub type Result<T> = std::result::Result<T, GuestBytesError>;

/// Guest physical memory: what devices, loaders and page walks read and
/// write through, little endian.
pub trait GuestBytes {
    /// Fills `buf` from guest physical address `addr`.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<()>;

    /// Writes `data` at guest physical address `addr`.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<()>;

    /// Reads a little-endian u16.
    fn read_u16(&mut self, addr: u64) -> Result<u16> {
        let mut b = [0u8; 2];
        self.read(addr, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Reads a little-endian u32.
    fn read_u32(&mut self, addr: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian u64.
    fn read_u64(&mut self, addr: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a little-endian u16.
    fn write_u16(&mut self, addr: u64, value: u16) -> Result<()> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Writes a little-endian u32.
    fn write_u32(&mut self, addr: u64, value: u32) -> Result<()> {
        self.write(addr, &value.to_le_bytes())
    }

    /// Writes a little-endian u64.
    fn write_u64(&mut self, addr: u64, value: u64) -> Result<()> {
        self.write(addr, &value.to_le_bytes())
    }

    /// The memory system and address space behind these bytes, when there
    /// is one: a device that changes the memory map (virtio-mem maps its
    /// memslots) or caches translations (virtqueue rings) needs it. `None`
    /// (the default) for plain buffers, where such a device falls back to
    /// byte accesses or refuses the request.
    fn memory_system(&mut self) -> Option<(&mut crate::MemorySystem, crate::AddressSpaceId)> {
        None
    }

    /// Replaces the u64 at `addr` with `new` if it equals `old`: `Ok(true)`
    /// when replaced, `Ok(false)` when it differed (nothing written). Atomic
    /// with respect to every other access, since a machine's harts and
    /// devices run in one thread (a page walk's A/D update uses it).
    fn compare_exchange_u64(&mut self, addr: u64, old: u64, new: u64) -> Result<bool> {
        if self.read_u64(addr)? != old {
            return Ok(false);
        }
        self.write_u64(addr, new)?;
        Ok(true)
    }
}

/// A flat block of guest memory starting at `base`: for tests and tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMemory {
    base: u64,
    data: Vec<u8>,
}

impl VecMemory {
    /// `size` zero bytes of guest memory at `base`.
    pub fn new(base: u64, size: usize) -> Self {
        VecMemory {
            base,
            data: vec![0; size],
        }
    }

    /// The bytes, from `base` on.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    fn index(&self, addr: u64, len: usize) -> Result<usize> {
        let err = GuestBytesError { addr, len };
        let start = usize::try_from(addr.checked_sub(self.base).ok_or(err)?).map_err(|_| err)?;
        let end = start.checked_add(len).ok_or(err)?;
        if end > self.data.len() {
            return Err(err);
        }
        Ok(start)
    }
}

impl GuestBytes for VecMemory {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let at = self.index(addr, buf.len())?;
        buf.copy_from_slice(&self.data[at..at + buf.len()]);
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let at = self.index(addr, data.len())?;
        self.data[at..at + data.len()].copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_memory_bounds_and_little_endian() {
        let mut mem = VecMemory::new(0x1000, 16);
        mem.write_u32(0x1000, 0x1122_3344).unwrap();
        assert_eq!(&mem.bytes()[..4], &[0x44, 0x33, 0x22, 0x11]);
        mem.write_u64(0x1008, u64::MAX - 1).unwrap();
        assert_eq!(mem.read_u64(0x1008).unwrap(), u64::MAX - 1);
        assert_eq!(mem.read_u16(0x1002).unwrap(), 0x1122);
        assert_eq!(
            mem.read_u32(0x100e),
            Err(GuestBytesError {
                addr: 0x100e,
                len: 4
            })
        );
        assert!(mem.read_u16(0xfff).is_err(), "below the base");
        assert!(
            mem.write(u64::MAX, &[1, 2]).is_err(),
            "no overflow at the top"
        );
        assert_eq!(mem.compare_exchange_u64(0x1008, 1, 2), Ok(false));
        assert_eq!(mem.compare_exchange_u64(0x1008, u64::MAX - 1, 2), Ok(true));
        assert_eq!(mem.read_u64(0x1008), Ok(2));
    }
}
