//! The access API on an address space: byte buffers and sized loads/stores.
//!
//! This is what devices, loaders, debuggers and page-table walks use (not the
//! CPU's load/store fast path, which goes through the softmmu TLB). RAM is
//! copied directly; callback regions get accesses shaped by their descriptor
//! (see [`crate::mmio`]); unassigned addresses fail with
//! [`MemTxError::Decode`]. Writes that land in RAM tell the code-write hook
//! first if any page still holds translated code (CODE bit clean), then mark
//! the pages dirty for every client. Plain writes to ROM are dropped, as a
//! CPU store to ROM is; writes with `attrs.debug` (and [`MemorySystem::write_rom`])
//! fill ROM and ROM-device memory.

use crate::address::{GuestAddress, RamAddr};
use crate::ids::AddressSpaceId;
use crate::ids::RegionId;
use crate::iommu::IommuAccess;
use crate::mmio::{access_size_for, dispatch_read, dispatch_write};
use crate::ops::{Endianness, MemTxAttrs, MemTxError, MemTxResult};
use crate::system::MemorySystem;
use crate::view::lookup::SectionKind;

impl MemorySystem {
    /// Read `buf.len()` bytes at `addr`. Callback regions are read in pieces
    /// no larger than they accept, little endian.
    pub fn read(
        &mut self,
        space: AddressSpaceId,
        addr: GuestAddress,
        buf: &mut [u8],
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr.0.checked_add(done as u64).ok_or(MemTxError::Decode)?;
            let t = self.lookup_section(space, GuestAddress(a));
            let chunk = (buf.len() - done).min(usize::try_from(t.len).unwrap_or(usize::MAX));
            match t.kind {
                SectionKind::Ram { host, .. } | SectionKind::RomDevice { host, .. } => {
                    // SAFETY: `host` is valid for `t.len >= chunk` bytes of a live RAM
                    // block (the lookup's promise); `buf[done..done + chunk]` is in bounds.
                    unsafe { std::ptr::copy_nonoverlapping(host, buf[done..].as_mut_ptr(), chunk) };
                    done += chunk;
                }
                SectionKind::Io if let Some(ops) = self.iommu_of(t.region) => {
                    let (target, out, n) = self.iommu_step(
                        &ops,
                        t.offset_in_region,
                        chunk as u64,
                        IommuAccess::Read,
                        attrs,
                    )?;
                    self.iommu.depth += 1;
                    let r = self.read(target, out, &mut buf[done..done + n as usize], attrs);
                    self.iommu.depth -= 1;
                    r?;
                    done += n as usize;
                }
                SectionKind::Io => {
                    let n = self.io_piece(t.region, t.offset_in_region, chunk as u64);
                    let v = self.load_region(
                        t.region,
                        t.offset_in_region,
                        n,
                        Endianness::Little,
                        attrs,
                    )?;
                    buf[done..done + n as usize].copy_from_slice(&v.to_le_bytes()[..n as usize]);
                    done += n as usize;
                }
                SectionKind::Unassigned => return Err(MemTxError::Decode),
            }
        }
        Ok(())
    }

    /// Write `data` at `addr`. RAM is marked dirty (after the code-write hook
    /// for pages holding translated code); ROM ignores the write unless
    /// `attrs.debug`; callback regions get pieces no larger than they accept.
    pub fn write(
        &mut self,
        space: AddressSpaceId,
        addr: GuestAddress,
        data: &[u8],
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.0.checked_add(done as u64).ok_or(MemTxError::Decode)?;
            let t = self.lookup_section(space, GuestAddress(a));
            let chunk = (data.len() - done).min(usize::try_from(t.len).unwrap_or(usize::MAX));
            match t.kind {
                SectionKind::Ram {
                    host,
                    ram_addr,
                    readonly,
                } => {
                    if !readonly || attrs.debug {
                        self.write_host(host, ram_addr, &data[done..done + chunk]);
                    }
                    done += chunk;
                }
                SectionKind::RomDevice { host, ram_addr } if attrs.debug => {
                    self.write_host(host, ram_addr, &data[done..done + chunk]);
                    done += chunk;
                }
                SectionKind::Io if let Some(ops) = self.iommu_of(t.region) => {
                    let (target, out, n) = self.iommu_step(
                        &ops,
                        t.offset_in_region,
                        chunk as u64,
                        IommuAccess::Write,
                        attrs,
                    )?;
                    self.iommu.depth += 1;
                    let r = self.write(target, out, &data[done..done + n as usize], attrs);
                    self.iommu.depth -= 1;
                    r?;
                    done += n as usize;
                }
                SectionKind::RomDevice { .. } | SectionKind::Io => {
                    let n = self.io_piece(t.region, t.offset_in_region, chunk as u64);
                    let mut bytes = [0u8; 8];
                    bytes[..n as usize].copy_from_slice(&data[done..done + n as usize]);
                    let v = u64::from_le_bytes(bytes);
                    self.store_region(
                        t.region,
                        t.offset_in_region,
                        v,
                        n,
                        Endianness::Little,
                        attrs,
                    )?;
                    done += n as usize;
                }
                SectionKind::Unassigned => return Err(MemTxError::Decode),
            }
        }
        Ok(())
    }

    /// Write `data` into RAM, ROM and ROM-device memory at `addr`, ignoring
    /// read-only marks and skipping callback regions (for firmware loaders).
    pub fn write_rom(
        &mut self,
        space: AddressSpaceId,
        addr: GuestAddress,
        data: &[u8],
    ) -> MemTxResult<()> {
        self.write(
            space,
            addr,
            data,
            MemTxAttrs {
                debug: true,
                ..MemTxAttrs::default()
            },
        )
    }

    /// Load `size` (1, 2, 4 or 8) bytes at `addr` in `endian` byte order.
    pub fn load(
        &mut self,
        space: AddressSpaceId,
        addr: GuestAddress,
        size: u32,
        endian: Endianness,
        attrs: MemTxAttrs,
    ) -> MemTxResult<u64> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(MemTxError::Decode);
        }
        let t = self.lookup_section(space, addr);
        match t.kind {
            SectionKind::Ram { host, .. } | SectionKind::RomDevice { host, .. }
                if t.len >= u64::from(size) =>
            {
                let mut bytes = [0u8; 8];
                // SAFETY: `host` is valid for `t.len >= size` bytes (the lookup's promise).
                unsafe { std::ptr::copy_nonoverlapping(host, bytes.as_mut_ptr(), size as usize) };
                Ok(from_bytes(&bytes[..size as usize], endian))
            }
            SectionKind::Ram { .. } | SectionKind::RomDevice { .. } => {
                let mut bytes = [0u8; 8];
                self.read(space, addr, &mut bytes[..size as usize], attrs)?;
                Ok(from_bytes(&bytes[..size as usize], endian))
            }
            SectionKind::Io => self.load_region(t.region, t.offset_in_region, size, endian, attrs),
            SectionKind::Unassigned => Err(MemTxError::Decode),
        }
    }

    /// Store the low `size` (1, 2, 4 or 8) bytes of `value` at `addr` in `endian` byte order.
    pub fn store(
        &mut self,
        space: AddressSpaceId,
        addr: GuestAddress,
        size: u32,
        value: u64,
        endian: Endianness,
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(MemTxError::Decode);
        }
        let t = self.lookup_section(space, addr);
        match t.kind {
            SectionKind::Ram { .. } => {
                let bytes = to_bytes(value, size, endian);
                self.write(space, addr, &bytes[..size as usize], attrs)
            }
            SectionKind::RomDevice { .. } if attrs.debug => {
                let bytes = to_bytes(value, size, endian);
                self.write(space, addr, &bytes[..size as usize], attrs)
            }
            SectionKind::RomDevice { .. } | SectionKind::Io => {
                self.store_region(t.region, t.offset_in_region, value, size, endian, attrs)
            }
            SectionKind::Unassigned => Err(MemTxError::Decode),
        }
    }

    /// Resolve `addr` and tell whether it is plain RAM (a convenience for page walks).
    pub fn is_ram(&self, space: AddressSpaceId, addr: GuestAddress) -> bool {
        matches!(
            self.lookup_section(space, addr).kind,
            SectionKind::Ram { .. }
        )
    }

    /// Copy into host memory and do the dirty bookkeeping of a RAM write.
    fn write_host(&mut self, host: *mut u8, ram: RamAddr, data: &[u8]) {
        self.note_ram_write(ram, data.len() as u64);
        // SAFETY: `host` is valid for at least `data.len()` bytes of a live RAM
        // block: the caller clipped `data` to the translation's `len`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), host, data.len()) };
    }

    /// A non-CPU write to `[ram, ram + len)`: code-write hook if any page holds
    /// translated code, then dirty for every client.
    pub(crate) fn note_ram_write(&mut self, ram: RamAddr, len: u64) {
        self.ram.note_write(ram, len);
    }

    /// The piece size for a buffer access of `len` bytes at `offset` of a callback region.
    fn io_piece(&self, r: RegionId, offset: u64, len: u64) -> u32 {
        match self.tree.regions.get(r.index()) {
            Some(region) => access_size_for(&region.descriptor, len, offset),
            None => 1,
        }
    }

    /// Load `size` (1, 2, 4 or 8) bytes at `offset` of terminal region `r`
    /// through its callbacks (MMIO, ROM device, RAM device, IOMMU), shaped
    /// by its access constraints: the access an address-space load makes
    /// once it has found the section. A caller that already holds the
    /// section (the softmmu TLB) dispatches once, without a second lookup.
    pub fn load_region(
        &mut self,
        r: RegionId,
        offset: u64,
        size: u32,
        endian: Endianness,
        attrs: MemTxAttrs,
    ) -> MemTxResult<u64> {
        if let Some(ops) = self.iommu_of(r) {
            let (target, out, n) =
                self.iommu_step(&ops, offset, u64::from(size), IommuAccess::Read, attrs)?;
            if n < u64::from(size) {
                return Err(MemTxError::Decode);
            }
            self.iommu.depth += 1;
            let v = self.load(target, out, size, endian, attrs);
            self.iommu.depth -= 1;
            return v;
        }
        let region = self.tree.regions.get(r.index()).ok_or(MemTxError::Decode)?;
        let block = region.ram_block().and_then(|b| self.ram.blocks.get(b));
        let v = dispatch_read(region, block, offset, size, endian, attrs);
        self.apply_deferred();
        v
    }

    /// Store the low `size` bytes of `value` at `offset` of terminal region
    /// `r` through its callbacks: the counterpart of
    /// [`MemorySystem::load_region`].
    pub fn store_region(
        &mut self,
        r: RegionId,
        offset: u64,
        value: u64,
        size: u32,
        endian: Endianness,
        attrs: MemTxAttrs,
    ) -> MemTxResult<()> {
        if let Some(ops) = self.iommu_of(r) {
            let (target, out, n) =
                self.iommu_step(&ops, offset, u64::from(size), IommuAccess::Write, attrs)?;
            if n < u64::from(size) {
                return Err(MemTxError::Decode);
            }
            self.iommu.depth += 1;
            let v = self.store(target, out, size, value, endian, attrs);
            self.iommu.depth -= 1;
            return v;
        }
        let region = self.tree.regions.get(r.index()).ok_or(MemTxError::Decode)?;
        let block = region.ram_block().and_then(|b| self.ram.blocks.get(b));
        let v = dispatch_write(region, block, offset, value, size, endian, attrs);
        self.apply_deferred();
        v
    }
}

fn from_bytes(b: &[u8], endian: Endianness) -> u64 {
    let mut v = 0u64;
    match endian {
        Endianness::Little => b.iter().rev().for_each(|&x| v = (v << 8) | u64::from(x)),
        Endianness::Big => b.iter().for_each(|&x| v = (v << 8) | u64::from(x)),
    }
    v
}

fn to_bytes(value: u64, size: u32, endian: Endianness) -> [u8; 8] {
    let mut out = [0u8; 8];
    let le = value.to_le_bytes();
    for i in 0..size as usize {
        out[i] = match endian {
            Endianness::Little => le[i],
            Endianness::Big => le[size as usize - 1 - i],
        };
    }
    out
}
