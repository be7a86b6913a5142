//! The memory system as [`GuestBytes`]: one address space, through the
//! access API.

use crate::address::GuestAddress;
use crate::guest_bytes::{GuestBytes, GuestBytesError, Result};
use crate::ids::AddressSpaceId;
use crate::ops::{Endianness, MemTxAttrs};
use crate::system::MemorySystem;

/// One address space of a memory system as guest bytes: buffers go through
/// [`MemorySystem::read`]/[`MemorySystem::write`], and the sized
/// accessors make one sized access ([`MemorySystem::load`]/[`MemorySystem::store`]),
/// so a device register reached this way sees a single access of its width.
#[derive(Debug)]
pub struct SpaceBytes<'a> {
    /// The memory system.
    pub mem: &'a mut MemorySystem,
    /// The address space.
    pub space: AddressSpaceId,
    /// The attributes of every access.
    pub attrs: MemTxAttrs,
}

impl<'a> SpaceBytes<'a> {
    /// `space` of `mem`, with default attributes.
    pub fn new(mem: &'a mut MemorySystem, space: AddressSpaceId) -> Self {
        Self {
            mem,
            space,
            attrs: MemTxAttrs::default(),
        }
    }
}

impl GuestBytes for SpaceBytes<'_> {
    fn memory_system(&mut self) -> Option<(&mut MemorySystem, AddressSpaceId)> {
        Some((self.mem, self.space))
    }

    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.mem
            .read(self.space, GuestAddress(addr), buf, self.attrs)
            .map_err(|_| GuestBytesError {
                addr,
                len: buf.len(),
            })
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.mem
            .write(self.space, GuestAddress(addr), data, self.attrs)
            .map_err(|_| GuestBytesError {
                addr,
                len: data.len(),
            })
    }

    fn read_u64(&mut self, addr: u64) -> Result<u64> {
        self.mem
            .load(
                self.space,
                GuestAddress(addr),
                8,
                Endianness::Little,
                self.attrs,
            )
            .map_err(|_| GuestBytesError { addr, len: 8 })
    }

    fn write_u64(&mut self, addr: u64, value: u64) -> Result<()> {
        self.mem
            .store(
                self.space,
                GuestAddress(addr),
                8,
                value,
                Endianness::Little,
                self.attrs,
            )
            .map_err(|_| GuestBytesError { addr, len: 8 })
    }
}
