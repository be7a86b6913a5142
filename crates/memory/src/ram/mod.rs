//! RAM: the host memory behind RAM, ROM, ROM-device and RAM-device regions,
//! laid out in one ram-address space ([`RamAddr`]), and the dirty bitmaps
//! over that space.
//!
//! * [`host`]: anonymous host mappings, and the counted references that
//!   keep them mapped while anything holds a pointer into them.
//! * [`blocks`]: RAM blocks and the layout of the ram-address space.
//! * [`dirty`]: the dirty bitmaps of the VGA, CODE and MIGRATION clients.

pub(crate) mod blocks;
pub(crate) mod dirty;
pub(crate) mod host;

use crate::address::{PAGE_SHIFT, RamAddr};
use blocks::RamBlocks;
use dirty::{DIRTY_CLIENTS_ALL, DirtyClient, DirtyMemory, page_span};

/// A callback told of a range of ram addresses.
pub type RamRangeHook = Box<dyn FnMut(RamAddr, u64)>;

/// RAM as a whole: the blocks in the ram-address space, the dirty bitmaps
/// over it, and who is told when code pages are written or bits cleared.
#[derive(Default)]
pub(crate) struct RamMemory {
    pub(crate) blocks: RamBlocks,
    pub(crate) dirty: DirtyMemory,
    /// Told of writes from outside the CPU to pages holding translated code.
    pub(crate) code_write_hook: Option<RamRangeHook>,
    /// Told of every range whose dirty bits were cleared.
    pub(crate) dirty_clear_notifiers: Vec<RamRangeHook>,
    /// Global dirty logging (migration) is on.
    pub(crate) global_dirty_log: bool,
}

impl RamMemory {
    /// Whether the page holding `ram` is dirty for `client`.
    #[inline]
    pub(crate) fn page_dirty(&self, ram: RamAddr, client: DirtyClient) -> bool {
        self.dirty.page(ram.page(), client)
    }

    /// Whether the page holding `ram` is dirty for every client.
    #[inline]
    pub(crate) fn page_dirty_for_all(&self, ram: RamAddr) -> bool {
        let p = ram.page();
        self.dirty.page(p, DirtyClient::Vga)
            && self.dirty.page(p, DirtyClient::Code)
            && self.dirty.page(p, DirtyClient::Migration)
    }

    /// A write from outside the CPU to `[ram, ram + len)`: the code-write
    /// hook first if any page still holds translated code, then dirty for
    /// every client.
    pub(crate) fn note_write(&mut self, ram: RamAddr, len: u64) {
        if len == 0 {
            return;
        }
        if !self.dirty.all(ram, len, DirtyClient::Code)
            && let Some(hook) = self.code_write_hook.as_mut()
        {
            hook(ram, len);
        }
        self.dirty.set(ram, len, DIRTY_CLIENTS_ALL);
    }

    /// Clear `client`'s bits over `[ram, ram + len)` and tell the dirty-clear
    /// notifiers, in whole pages.
    pub(crate) fn reset_dirty(&mut self, ram: RamAddr, len: u64, client: DirtyClient) {
        if len == 0 {
            return;
        }
        self.dirty.clear(ram, len, client);
        let (first, end) = page_span(ram.0, len);
        self.notify_cleared(RamAddr(first << PAGE_SHIFT), (end - first) << PAGE_SHIFT);
    }

    /// Tell the dirty-clear notifiers that `[start, start + len)` was cleared.
    pub(crate) fn notify_cleared(&mut self, start: RamAddr, len: u64) {
        if len == 0 {
            return;
        }
        for n in &mut self.dirty_clear_notifiers {
            n(start, len);
        }
    }
}
