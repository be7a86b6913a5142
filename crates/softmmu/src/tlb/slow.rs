//! The TLB slow path: victim lookup, target fill, and accesses whose tags
//! carry flags (MMIO, NOTDIRTY, ROM, recheck), plus misaligned accesses that
//! cross a page.
//!
//! Everything here runs only after a fast-path miss, so it may call into the
//! memory API and the target freely.

use ferrite_memory::{DirtyClient, Endianness, GuestAddress, MemTxError, MemorySystem, RamAddr};

use super::entry::{MmuAccess, PAGE_SIZE, PageKind, PageMapping, TlbFull, tag_maps_page};
use super::{
    TLB_DISCARD_WRITE, TLB_MMIO, TLB_NOTDIRTY, TLB_RECHECK, TLB_WATCHPOINT, Tlb, read_host,
    write_host,
};
use crate::address::{MmuIdx, VirtAddr};
use crate::block::CodeBytes;

/// What the TLB needs from the target (QEMU's `tlb_fill` and friends).
pub trait TlbFill {
    /// The target's fault type (a guest exception).
    type Fault;

    /// Translate `vaddr` for an access of `size` bytes and kind `access` in
    /// MMU mode `mmu_idx`: a page walk and permission/PMP checks. Either the
    /// guest fault to raise, or the mapping to install.
    fn tlb_fill(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        mmu_idx: MmuIdx,
    ) -> Result<PageMapping, Self::Fault>;

    /// The fault for a bus error (`error`) on an access that translated fine
    /// (unassigned physical address, device error).
    fn bus_fault(
        &mut self,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
        error: MemTxError,
    ) -> Self::Fault;

    /// The fault that stops an access that hit a watchpoint before it is
    /// made (the target's finish sees [`Tlb::watch_hit_pending`] and returns
    /// to the debugger instead of raising it). By default the bus fault.
    fn watch_fault(&mut self, vaddr: VirtAddr, size: u32, access: MmuAccess) -> Self::Fault {
        self.bus_fault(vaddr, size, access, MemTxError::Decode)
    }

    /// A store of `len` bytes at ram address `ram` is about to be made on a
    /// page whose CODE dirty bit is clean: translated code those bytes
    /// overlap must be invalidated now, before the write. Returns the bytes
    /// of the page that may still hold translated code (a superset), `None`
    /// when none is left; the page's CODE bit stays clean while any is.
    fn code_written(&mut self, mem: &mut MemorySystem, ram: RamAddr, len: u32)
    -> Option<CodeBytes>;
}

/// Where the code at a virtual address lives, for block translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLocation {
    /// Physical address of the byte at the virtual address.
    pub paddr: GuestAddress,
    /// Its ram address, if the page is plain memory (code there can be
    /// cached); `None` for code in MMIO, which is executed uncached.
    pub ram: Option<RamAddr>,
}

impl Tlb {
    /// Make sure the slot for `vaddr` holds a translation valid for
    /// `access`, filling it if needed; return the slot index.
    fn resolve<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
    ) -> Result<usize, F::Fault> {
        self.count_slow();
        let page = vaddr.page().0;
        let i = self.index(mmu_idx, vaddr);
        let (e, _) = self.slot(mmu_idx, i);
        let tag = e.tag(access);
        if tag_maps_page(tag, page) && tag & TLB_RECHECK == 0 {
            return Ok(i);
        }
        if !tag_maps_page(tag, page) {
            if let Some(i) = self.victim_lookup(mmu_idx, vaddr, access) {
                let (e, _) = self.slot(mmu_idx, i);
                if e.tag(access) & TLB_RECHECK == 0 {
                    return Ok(i);
                }
            }
        }
        let map = f.tlb_fill(mem, vaddr, size, access, mmu_idx)?;
        let map = PageMapping { vaddr, ..map };
        let i = self.install(mem, mmu_idx, &map);
        let (e, _) = self.slot(mmu_idx, i);
        if !tag_maps_page(e.tag(access), page) {
            // The fill granted a mapping without the permission it was asked
            // for: a target bug, reported as a bus error rather than a panic.
            tracing::warn!(target: "guest_errors", vaddr = vaddr.0, ?access, "fill returned a mapping without permission");
            return Err(f.bus_fault(vaddr, size, access, MemTxError::Decode));
        }
        Ok(i)
    }

    /// Ensure `vaddr` is accessible for `access` (faulting like the access
    /// would) without performing it.
    pub fn probe<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
    ) -> Result<(), F::Fault> {
        self.resolve(mem, f, mmu_idx, vaddr, size, access)
            .map(|_| ())
    }

    /// Slow-path load (or fetch, with `access == Fetch`) of `size` bytes
    /// (1, 2, 4 or 8), zero-extended. Misaligned accesses are allowed; one
    /// that crosses a page is split into byte accesses after both pages have
    /// been translated.
    pub fn load_slow<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        access: MmuAccess,
    ) -> Result<u64, F::Fault> {
        if crosses_page(vaddr, size) {
            // The first byte on the second page: what a fault there reports.
            let last = vaddr.wrapping_add(u64::from(size) - 1).page();
            self.probe(mem, f, mmu_idx, vaddr, 1, access)?;
            self.probe(mem, f, mmu_idx, last, 1, access)?;
            let mut v = 0u64;
            for k in 0..size {
                let b =
                    self.load_slow(mem, f, mmu_idx, vaddr.wrapping_add(u64::from(k)), 1, access)?;
                v |= b << (8 * k);
            }
            return Ok(v);
        }
        let i = self.resolve(mem, f, mmu_idx, vaddr, size, access)?;
        let (e, full) = self.slot(mmu_idx, i);
        if e.tag(access) & TLB_WATCHPOINT != 0 && self.check_watchpoints(vaddr, size, access) {
            return Err(f.watch_fault(vaddr, size, access));
        }
        if e.tag(access) & TLB_MMIO != 0 {
            return self
                .io_load(mem, &full, vaddr, size)
                .map_err(|err| f.bus_fault(vaddr, size, access, err));
        }
        let p = e.addend.wrapping_add(vaddr.0 as usize) as *const u8;
        // SAFETY: the tag is valid and not MMIO, so the slot maps a whole RAM
        // page whose host memory starts at `addend + page`; the access does not
        // cross the page.
        Ok(unsafe { read_sized(p, size) })
    }

    /// Slow-path store of the low `size` bytes of `value`. Handles MMIO, ROM
    /// (writes dropped), NOTDIRTY pages (translated code invalidated through
    /// [`TlbFill::code_written`], page marked dirty) and misaligned stores
    /// (a page-crossing store checks both pages before writing any byte).
    pub fn store_slow<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        value: u64,
    ) -> Result<(), F::Fault> {
        if crosses_page(vaddr, size) {
            // The first byte on the second page: what a fault there reports.
            let last = vaddr.wrapping_add(u64::from(size) - 1).page();
            // Both pages must accept the store before any byte is written.
            for a in [vaddr, last] {
                let i = self.resolve(mem, f, mmu_idx, a, 1, MmuAccess::Store)?;
                if self.slot(mmu_idx, i).1.kind == PageKind::Unassigned {
                    return Err(f.bus_fault(a, 1, MmuAccess::Store, MemTxError::Decode));
                }
            }
            for k in 0..size {
                let b = (value >> (8 * k)) & 0xff;
                self.store_slow(mem, f, mmu_idx, vaddr.wrapping_add(u64::from(k)), 1, b)?;
            }
            return Ok(());
        }
        let i = self.resolve(mem, f, mmu_idx, vaddr, size, MmuAccess::Store)?;
        self.store_resolved(mem, f, mmu_idx, i, vaddr, size, value)
    }

    #[allow(clippy::too_many_arguments)]
    fn store_resolved<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        i: usize,
        vaddr: VirtAddr,
        size: u32,
        value: u64,
    ) -> Result<(), F::Fault> {
        let (e, full) = self.slot(mmu_idx, i);
        let tag = e.addr_write;
        if tag & TLB_WATCHPOINT != 0 && self.check_watchpoints(vaddr, size, MmuAccess::Store) {
            return Err(f.watch_fault(vaddr, size, MmuAccess::Store));
        }
        if tag & TLB_MMIO != 0 {
            return self
                .io_store(mem, &full, vaddr, size, value)
                .map_err(|err| f.bus_fault(vaddr, size, MmuAccess::Store, err));
        }
        if tag & TLB_DISCARD_WRITE != 0 {
            tracing::info!(
                target: "guest_errors",
                "store of {size} bytes at {:#x} (physical {:#x}): ROM, ignored",
                vaddr.0,
                full.paddr.0 | vaddr.page_offset()
            );
            return Ok(());
        }
        let ram_page = match full.kind {
            PageKind::Ram { ram, .. } => ram,
            _ => return Err(f.bus_fault(vaddr, size, MmuAccess::Store, MemTxError::Decode)),
        };
        let notdirty = tag & TLB_NOTDIRTY != 0;
        let ram = RamAddr(ram_page.0 + vaddr.page_offset());
        // The bytes of the page that hold translated code after the store.
        let code_left = if notdirty && !mem.ram_dirty(ram_page, DirtyClient::Code) {
            f.code_written(mem, ram, size)
        } else {
            None
        };
        let p = e.addend.wrapping_add(vaddr.0 as usize) as *mut u8;
        // SAFETY: a valid, non-MMIO, non-ROM write tag maps a whole writable RAM
        // page at `addend + page`; the access does not cross the page.
        unsafe { write_sized(p, size, value) };
        if !notdirty {
            return Ok(());
        }
        match code_left {
            None => {
                mem.ram_set_dirty(ram, u64::from(size));
                if mem.ram_all_clients_dirty(ram_page) {
                    self.clear_write_flags(mmu_idx, i, TLB_NOTDIRTY);
                }
            }
            Some(code) => {
                // Code stays on the page: its CODE bit stays clean, and once
                // no other client needs to see stores, those beside the code
                // go straight to memory.
                mem.ram_set_dirty_except(ram, u64::from(size), DirtyClient::Code);
                if mem.ram_dirty_except(ram_page, DirtyClient::Code) {
                    self.allow_beside_code(mmu_idx, i, &code);
                }
            }
        }
        Ok(())
    }

    /// Slow-path atomic read-modify-write of `size` bytes at an aligned
    /// `vaddr`: translate for a store (so faults are store/AMO faults), read
    /// the old value, write `op(old)`, return `old`. On MMIO this is one read
    /// and one write of `size` bytes.
    pub fn rmw_slow<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
        size: u32,
        op: impl FnOnce(u64) -> u64,
    ) -> Result<u64, F::Fault> {
        let i = self.resolve(mem, f, mmu_idx, vaddr, size, MmuAccess::Store)?;
        let (e, full) = self.slot(mmu_idx, i);
        // Both halves of the atomic are checked before either is made.
        if (e.addr_read & TLB_WATCHPOINT != 0
            && self.check_watchpoints(vaddr, size, MmuAccess::Load))
            || (e.addr_write & TLB_WATCHPOINT != 0
                && self.check_watchpoints(vaddr, size, MmuAccess::Store))
        {
            return Err(f.watch_fault(vaddr, size, MmuAccess::Store));
        }
        let old = if e.addr_write & TLB_MMIO != 0 || full.kind.ram().is_none() {
            self.io_load(mem, &full, vaddr, size)
                .map_err(|err| f.bus_fault(vaddr, size, MmuAccess::Store, err))?
        } else {
            let p = e.addend.wrapping_add(vaddr.0 as usize) as *const u8;
            // SAFETY: the slot maps a whole RAM page (ROM or RAM) at
            // `addend + page`; the access is inside it.
            unsafe { read_sized(p, size) }
        };
        self.store_resolved(mem, f, mmu_idx, i, vaddr, size, op(old))?;
        Ok(old)
    }

    /// An access through callbacks: straight to the slot's section when the
    /// page has one (dispatched once, as QEMU's `io_readx`), else looked up
    /// by physical address (a page shared between sections).
    fn io_load(
        &self,
        mem: &mut MemorySystem,
        full: &TlbFull,
        vaddr: VirtAddr,
        size: u32,
    ) -> Result<u64, MemTxError> {
        let in_page = vaddr.page_offset();
        match full.section {
            Some(s) => mem.load_region(
                s.region,
                s.offset + in_page,
                size,
                Endianness::Little,
                full.attrs,
            ),
            None => mem.load(
                self.space(),
                GuestAddress(full.paddr.0 | in_page),
                size,
                Endianness::Little,
                full.attrs,
            ),
        }
    }

    /// The store counterpart of [`Tlb::io_load`].
    fn io_store(
        &self,
        mem: &mut MemorySystem,
        full: &TlbFull,
        vaddr: VirtAddr,
        size: u32,
        value: u64,
    ) -> Result<(), MemTxError> {
        let in_page = vaddr.page_offset();
        match full.section {
            Some(s) => mem.store_region(
                s.region,
                s.offset + in_page,
                value,
                size,
                Endianness::Little,
                full.attrs,
            ),
            None => mem.store(
                self.space(),
                GuestAddress(full.paddr.0 | in_page),
                size,
                value,
                Endianness::Little,
                full.attrs,
            ),
        }
    }

    /// Where the code at `vaddr` lives, translating for a fetch if needed.
    pub fn code_location<F: TlbFill>(
        &mut self,
        mem: &mut MemorySystem,
        f: &mut F,
        mmu_idx: MmuIdx,
        vaddr: VirtAddr,
    ) -> Result<CodeLocation, F::Fault> {
        let i = self.resolve(mem, f, mmu_idx, vaddr, 2, MmuAccess::Fetch)?;
        let (e, full) = self.slot(mmu_idx, i);
        let off = vaddr.page_offset();
        let cached = e.addr_code & (TLB_MMIO | TLB_RECHECK) == 0;
        Ok(CodeLocation {
            paddr: GuestAddress(full.paddr.0 | off),
            ram: if cached {
                full.kind.ram().map(|r| RamAddr(r.0 + off))
            } else {
                None
            },
        })
    }
}

fn crosses_page(vaddr: VirtAddr, size: u32) -> bool {
    vaddr.page_offset() + u64::from(size) > PAGE_SIZE
}

/// # Safety
/// `p..p + size` must be readable.
unsafe fn read_sized(p: *const u8, size: u32) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        match size {
            1 => read_host::<1>(p),
            2 => read_host::<2>(p),
            4 => read_host::<4>(p),
            _ => read_host::<8>(p),
        }
    }
}

/// # Safety
/// `p..p + size` must be writable.
unsafe fn write_sized(p: *mut u8, size: u32, v: u64) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match size {
            1 => write_host::<1>(p, v),
            2 => write_host::<2>(p, v),
            4 => write_host::<4>(p, v),
            _ => write_host::<8>(p, v),
        }
    }
}
