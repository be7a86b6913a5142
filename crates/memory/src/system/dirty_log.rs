//! The dirty-memory API of [`MemorySystem`]: per-region and per-ram-address
//! queries, clearing with notification, snapshots, and listener sync.

use crate::address::{PAGE_SHIFT, PAGE_SIZE, RamAddr};
use crate::error::{MemoryError, Result};
use crate::ids::AddressSpaceId;
use crate::listener::MemoryRegionSection;
use crate::ram::RamRangeHook;
use crate::ram::dirty::{DIRTY_CLIENTS_ALL, DirtyClient, DirtySnapshot, page_span};
use crate::region::{RegionId, RegionKind};
use crate::system::MemorySystem;

impl MemorySystem {
    /// The RAM block range behind `[offset, offset + len)` of `r` (following
    /// aliases), clipped to the block: `(ram address, len)`.
    pub(crate) fn ram_range(&self, r: RegionId, offset: u64, len: u64) -> Option<(RamAddr, u64)> {
        let mut id = r;
        let mut off = offset;
        for _ in 0..64 {
            let region = self.tree.regions.get(id.index())?;
            match region.kind {
                RegionKind::Alias { target, offset: o } => {
                    off = off.checked_add(o)?;
                    id = target;
                }
                _ => {
                    let block = self.ram.blocks.get(region.ram_block()?)?;
                    if off >= block.used_length {
                        return None;
                    }
                    let len = len.min(block.used_length - off);
                    return Some((RamAddr(block.offset.0 + off), len));
                }
            }
        }
        None
    }

    /// Start or stop dirty logging of `client` on the region (its terminal region
    /// if `r` is an alias). Listeners hear `log_start`/`log_stop` at commit.
    pub fn set_log(&mut self, r: RegionId, client: DirtyClient, on: bool) {
        let t = self.tree.terminal(r);
        if let Ok(region) = self.tree.region_mut(t) {
            let old = region.dirty_log_mask;
            if on {
                region.dirty_log_mask |= client.bit();
            } else {
                region.dirty_log_mask &= !client.bit();
            }
            if old != region.dirty_log_mask {
                self.mark_changed(t);
            }
        }
    }

    /// Whether any page of `[offset, offset + len)` of the region is dirty for `client`.
    pub fn get_dirty(&self, r: RegionId, offset: u64, len: u64, client: DirtyClient) -> bool {
        self.ram_range(r, offset, len)
            .is_some_and(|(ram, len)| self.ram.dirty.any(ram, len, client))
    }

    /// Mark `[offset, offset + len)` of the region dirty for every client.
    pub fn set_dirty(&mut self, r: RegionId, offset: u64, len: u64) {
        if let Some((ram, len)) = self.ram_range(r, offset, len) {
            self.ram.dirty.set(ram, len, DIRTY_CLIENTS_ALL);
        }
    }

    /// Clear `client`'s bits over `[offset, offset + len)` of the region, then
    /// tell the dirty-clear notifiers.
    pub fn reset_dirty(&mut self, r: RegionId, offset: u64, len: u64, client: DirtyClient) {
        if let Some((ram, len)) = self.ram_range(r, offset, len) {
            self.ram_reset_dirty(ram, len, client);
        }
    }

    /// Copy then clear `client`'s bits over `[offset, offset + len)` of the
    /// region (whole pages), telling the dirty-clear notifiers. Query the
    /// result with [`DirtySnapshot::get_dirty`] using region offsets.
    pub fn snapshot_and_clear_dirty(
        &mut self,
        r: RegionId,
        offset: u64,
        len: u64,
        client: DirtyClient,
    ) -> DirtySnapshot {
        let Some((ram, len)) = self.ram_range(r, offset, len) else {
            return DirtySnapshot::empty();
        };
        let (first, end) = page_span(ram.0, len);
        let bits = self.ram.dirty.take(first, end, client);
        self.ram
            .notify_cleared(RamAddr(first << PAGE_SHIFT), (end - first) << PAGE_SHIFT);
        DirtySnapshot::new(
            ram.0.wrapping_sub(offset),
            RamAddr(first << PAGE_SHIFT),
            bits,
        )
    }

    /// Copy then clear `client`'s bits over `[ram, ram + len)` of the
    /// ram-address space, which may span several RAM blocks. The snapshot's
    /// offsets are ram addresses.
    pub fn ram_snapshot_and_clear_dirty(
        &mut self,
        ram: RamAddr,
        len: u64,
        client: DirtyClient,
    ) -> DirtySnapshot {
        let (first, end) = page_span(ram.0, len);
        let bits = self.ram.dirty.take(first, end, client);
        self.ram
            .notify_cleared(RamAddr(first << PAGE_SHIFT), (end - first) << PAGE_SHIFT);
        DirtySnapshot::new(0, RamAddr(first << PAGE_SHIFT), bits)
    }

    /// Ask the listeners of `space` for the dirty information they hold
    /// (`log_sync` on every logged range) and merge it into the bitmaps.
    pub fn sync_dirty_bitmap(&mut self, space: AddressSpaceId) {
        let Ok(sp) = self.space(space) else { return };
        let view = sp.view.clone();
        let mut marks: Vec<(RegionId, u64, u64)> = Vec::new();
        for fr in view.ranges.iter().filter(|fr| fr.dirty_log_mask != 0) {
            let s = MemoryRegionSection::from_range(space, fr);
            self.for_listeners(space, false, |l| {
                for (off, len) in l.log_sync(&s) {
                    marks.push((fr.region, fr.offset_in_region.saturating_add(off), len));
                }
            });
        }
        for (r, off, len) in marks {
            self.set_dirty(r, off, len);
        }
    }

    /// Whether the page holding `ram` is dirty for `client`.
    #[inline]
    pub fn ram_dirty(&self, ram: RamAddr, client: DirtyClient) -> bool {
        self.ram.page_dirty(ram, client)
    }

    /// Whether the page holding `ram` is dirty for every client.
    #[inline]
    pub fn ram_all_clients_dirty(&self, ram: RamAddr) -> bool {
        self.ram.page_dirty_for_all(ram)
    }

    /// Whether the page holding `ram` is dirty for every client but
    /// `except` (a CPU store beside translated code needs nothing recorded
    /// for the others).
    #[inline]
    pub fn ram_dirty_except(&self, ram: RamAddr, except: DirtyClient) -> bool {
        DirtyClient::ALL
            .iter()
            .all(|&c| c == except || self.ram.page_dirty(ram, c))
    }

    /// Mark `[ram, ram + len)` dirty for VGA, CODE and MIGRATION.
    pub fn ram_set_dirty(&mut self, ram: RamAddr, len: u64) {
        self.ram.dirty.set(ram, len, DIRTY_CLIENTS_ALL);
    }

    /// Mark `[ram, ram + len)` dirty for every client but `except`: a CPU
    /// store that left the translated code on its page valid keeps the
    /// page's CODE bit clean.
    pub fn ram_set_dirty_except(&mut self, ram: RamAddr, len: u64, except: DirtyClient) {
        self.ram
            .dirty
            .set(ram, len, DIRTY_CLIENTS_ALL & !except.bit());
    }

    /// Clear `client`'s bits over `[ram, ram + len)` and tell the dirty-clear
    /// notifiers (the softmmu re-arms its slow write path for those pages).
    pub fn ram_reset_dirty(&mut self, ram: RamAddr, len: u64, client: DirtyClient) {
        self.ram.reset_dirty(ram, len, client);
    }

    /// Be told `(start, len)` (whole pages) of every clear of dirty bits.
    pub fn add_dirty_clear_notifier(&mut self, f: RamRangeHook) {
        self.ram.dirty_clear_notifiers.push(f);
    }

    /// Be told `(start, len)` when a write from outside the CPU (through
    /// `write`/`store`) hits pages whose CODE bit is clean, before the bits are set.
    pub fn set_code_write_hook(&mut self, f: RamRangeHook) {
        self.ram.code_write_hook = Some(f);
    }

    /// The ram address of byte 0 of a RAM-backed region (following aliases).
    pub fn ram_addr_of(&self, r: RegionId) -> Result<RamAddr> {
        self.ram_range(r, 0, 1)
            .map(|x| x.0)
            .ok_or_else(|| MemoryError::WrongKind {
                name: self.tree.name_of(r),
                expected: "RAM-backed",
            })
    }

    /// The host address of byte 0 of a RAM-backed region (following aliases);
    /// valid for the region's size while the region lives.
    pub fn ram_host_ptr(&self, r: RegionId) -> Result<*mut u8> {
        let ram = self.ram_addr_of(r)?;
        self.ram
            .blocks
            .iter()
            .find(|b| b.offset.0 <= ram.0 && ram.0 < b.offset.0 + b.used_length)
            .map(|b| b.mapping.ptr().wrapping_add((ram.0 - b.offset.0) as usize))
            .ok_or(MemoryError::NoSuchRegion(r))
    }

    /// The terminal region behind `r` (aliases followed) and its RAM block;
    /// an error if it has none.
    fn backing_block(
        &self,
        r: RegionId,
    ) -> Result<(&crate::region::Region, &crate::ram::blocks::RamBlock)> {
        let region = self.tree.region(self.tree.terminal(r))?;
        let block = region
            .ram_block()
            .and_then(|b| self.ram.blocks.get(b))
            .ok_or_else(|| MemoryError::WrongKind {
                name: region.name.clone(),
                expected: "RAM-backed",
            })?;
        Ok((region, block))
    }

    /// Copy `buf.len()` bytes at `offset` of a RAM-backed region into `buf`,
    /// wherever the region is mapped and whether it is mapped at all: how a
    /// display reads its VRAM.
    pub fn read_ram_region(&self, r: RegionId, offset: u64, buf: &mut [u8]) -> Result<()> {
        let (region, block) = self.backing_block(r)?;
        block
            .read_bytes(offset, buf)
            .ok_or_else(|| MemoryError::OutOfRange {
                name: region.name.clone(),
                offset,
                len: buf.len() as u64,
            })
    }

    /// Copy `data` into a RAM-backed region (RAM, ROM, a ROM device in any
    /// mode) at `offset`, as a write from outside the CPU: translated code
    /// on the pages is dropped and the pages are dirty for every client.
    /// How a flash device programs and erases its own storage.
    pub fn write_ram_region(&mut self, r: RegionId, offset: u64, data: &[u8]) -> Result<()> {
        let (region, block) = self.backing_block(r)?;
        block
            .write_bytes(offset, data)
            .ok_or_else(|| MemoryError::OutOfRange {
                name: region.name.clone(),
                offset,
                len: data.len() as u64,
            })?;
        let ram = RamAddr(block.offset.0 + offset);
        self.note_ram_write(ram, data.len() as u64);
        Ok(())
    }

    /// A counted reference that keeps the host memory holding ram address
    /// `ram` mapped (see [`RamHostRef`](crate::RamHostRef)); `None` when no
    /// RAM block holds it.
    pub fn ram_host_ref(&self, ram: RamAddr) -> Option<crate::RamHostRef> {
        self.ram.blocks.host_ref(ram)
    }

    /// Give `[offset, offset + len)` of a RAM region back to the host (whole
    /// pages inside the range); it reads as zero afterwards and is marked dirty.
    pub fn ram_discard(&mut self, r: RegionId, offset: u64, len: u64) -> Result<()> {
        let (region, block) = self.backing_block(r)?;
        if !block.contains(offset, len) {
            return Err(MemoryError::OutOfRange {
                name: region.name.clone(),
                offset,
                len,
            });
        }
        block.mapping.discard(offset, len);
        let ram = RamAddr(block.offset.0 + offset);
        // The contents changed (to zeros): as a write, translated code from
        // the range goes and every dirty client sees the pages.
        self.ram.note_write(ram, len);
        Ok(())
    }

    /// Size of the ram-address space laid out so far, in bytes (a multiple of the page size).
    pub fn ram_space_size(&self) -> u64 {
        self.ram.blocks.ram_space_size().next_multiple_of(PAGE_SIZE)
    }
}
