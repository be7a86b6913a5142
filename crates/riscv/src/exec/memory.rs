//! Guest memory accesses of the executor: the TLB fast path inline, the slow
//! path through [`Filler`] (the RISC-V `tlb_fill`: page walk and PMP), LR/SC
//! and AMOs.
//!
//! Nothing here touches guest memory except through the [`Tlb`]; the page
//! walk reads and updates PTEs through the memory API's physical accessors
//! ([`PhysBus`]), as QEMU's walker does.

use ferrite_memory::{
    AddressSpaceId, Endianness, GuestAddress, MemTxAttrs, MemTxError, MemorySystem,
};
use std::rc::Rc;

use ferrite_softmmu::tlb::{MmuAccess, PageMapping, Prot, TlbFill};
use ferrite_softmmu::{BlockCache, EventHub, EventQueue, MemEvent};

use crate::cpu::RiscvCpu;
use crate::exec::threaded::Slot;
use crate::hart::Hart;
use crate::mmu::{PhysAccess, translate};
use crate::pmp::pmp_check;
use crate::privilege::{AccessType, Exception, Trap};

/// Physical memory for the page walk: aligned 8-byte accesses through the
/// memory API (outside the TLB).
pub(crate) struct PhysBus<'a> {
    mem: &'a mut MemorySystem,
    space: AddressSpaceId,
    attrs: MemTxAttrs,
}

impl PhysAccess for PhysBus<'_> {
    fn load_u64(&mut self, paddr: u64) -> Option<u64> {
        self.mem
            .load(
                self.space,
                GuestAddress(paddr),
                8,
                Endianness::Little,
                self.attrs,
            )
            .ok()
    }

    fn cas_u64(&mut self, paddr: u64, old: u64, new: u64) -> Option<bool> {
        let cur = self.load_u64(paddr)?;
        if cur != old {
            return Some(false);
        }
        self.mem
            .store(
                self.space,
                GuestAddress(paddr),
                8,
                new,
                Endianness::Little,
                self.attrs,
            )
            .ok()?;
        Some(true)
    }
}

fn access_type(access: MmuAccess) -> AccessType {
    match access {
        MmuAccess::Load => AccessType::Load,
        MmuAccess::Store => AccessType::Store,
        MmuAccess::Fetch => AccessType::Fetch,
    }
}

/// The RISC-V side of the TLB slow path.
pub(crate) struct Filler<'a> {
    hart: &'a Hart,
    blocks: &'a mut BlockCache<Slot>,
    end_block: &'a mut bool,
    space: AddressSpaceId,
    hub: &'a EventHub,
    own_events: &'a Rc<EventQueue>,
}

impl<'a> Filler<'a> {
    pub(crate) fn new(
        hart: &'a Hart,
        blocks: &'a mut BlockCache<Slot>,
        end_block: &'a mut bool,
        space: AddressSpaceId,
        hub: &'a EventHub,
        own_events: &'a Rc<EventQueue>,
    ) -> Self {
        Self {
            hart,
            blocks,
            end_block,
            space,
            hub,
            own_events,
        }
    }
}

impl TlbFill for Filler<'_> {
    type Fault = Trap;

    fn tlb_fill(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
        access: MmuAccess,
        _mmu_idx: usize,
    ) -> Result<PageMapping, Trap> {
        let at = access_type(access);
        let attrs = MemTxAttrs {
            requester_id: self.hart.csrs.hart_id() as u16,
            ..MemTxAttrs::default()
        };
        let mut bus = PhysBus {
            mem,
            space: self.space,
            attrs,
        };
        let t = translate(&self.hart.csrs, self.hart.privilege, vaddr, at, &mut bus)
            .map_err(|e| Trap::new(e, vaddr))?;
        if !t.cacheable_page
            && !pmp_check(
                &self.hart.csrs,
                t.pmp_privilege,
                t.paddr,
                u64::from(size),
                at,
            )
        {
            return Err(Trap::new(at.access_fault(), vaddr));
        }
        let mut prot = Prot::NONE;
        if t.readable {
            prot = prot.union(Prot::READ);
        }
        if t.writable {
            prot = prot.union(Prot::WRITE);
        }
        if t.executable {
            prot = prot.union(Prot::EXEC);
        }
        if !prot.contains(access.prot()) {
            // The walk succeeded for this access, so it is allowed; make sure
            // the slot says so (e.g. a store to a page whose D bit was just set).
            prot = prot.union(access.prot());
        }
        Ok(PageMapping {
            vaddr,
            paddr: t.paddr,
            prot,
            page_size_log2: t.page_size_log2,
            attrs,
            cacheable: t.cacheable_page,
        })
    }

    fn bus_fault(&mut self, vaddr: u64, size: u32, access: MmuAccess, error: MemTxError) -> Trap {
        tracing::info!(
            target: "guest_errors",
            "hart {}: {:?} of {} bytes at {:#x}: {}",
            self.hart.csrs.hart_id(),
            access,
            size,
            vaddr,
            error
        );
        Trap::new(access_type(access).access_fault(), vaddr)
    }

    fn code_written(&mut self, _mem: &mut MemorySystem, ram_page: u64) {
        if self.blocks.invalidate_page(ram_page) > 0 {
            *self.end_block = true;
        }
        // Other harts have their own block caches: they drop the page's
        // blocks before they run again.
        self.hub.broadcast_except(
            MemEvent::CodeWritten {
                start: ram_page,
                len: ferrite_softmmu::tlb::PAGE_SIZE,
            },
            self.own_events,
        );
    }
}

impl RiscvCpu {
    /// Whether the running block must stop after the current instruction:
    /// its code was invalidated, memory events await processing, or an MMIO
    /// access moved an interrupt pin (`pins_before`), so the loop must look
    /// for interrupts now.
    #[inline]
    fn after_slow_path(&mut self, pins_before: u64) -> bool {
        let stop = self.end_block
            || self.events.pending()
            || self.clock.slice_end_requested()
            || self.hart.csrs.irq_pins().get() != pins_before;
        self.end_block = false;
        stop
    }

    /// Load `size` bytes at `vaddr` through the slow path. Returns the value
    /// and whether the block must end after this instruction.
    #[cold]
    #[inline(never)]
    pub(crate) fn load_slow(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
    ) -> Result<(u64, bool), Trap> {
        let pins = self.hart.csrs.irq_pins().get();
        let mut f = Filler::new(
            &self.hart,
            &mut self.blocks,
            &mut self.end_block,
            self.space,
            &self.hub,
            &self.events,
        );
        let v = self
            .tlb
            .load_slow(mem, &mut f, self.data_idx, vaddr, size, MmuAccess::Load)?;
        Ok((v, self.after_slow_path(pins)))
    }

    /// Store through the slow path; returns whether the block must end.
    #[cold]
    #[inline(never)]
    pub(crate) fn store_slow(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
        value: u64,
    ) -> Result<bool, Trap> {
        let pins = self.hart.csrs.irq_pins().get();
        let mut f = Filler::new(
            &self.hart,
            &mut self.blocks,
            &mut self.end_block,
            self.space,
            &self.hub,
            &self.events,
        );
        self.tlb
            .store_slow(mem, &mut f, self.data_idx, vaddr, size, value)?;
        Ok(self.after_slow_path(pins))
    }

    /// An AMO of `size` bytes (4 or 8) at `vaddr`: `op(old)` is stored and
    /// `old` returned (zero-extended), plus whether the block must end.
    /// Misaligned AMOs raise store/AMO address misaligned, as in QEMU.
    #[inline]
    pub(crate) fn amo(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
        op: impl Fn(u64) -> u64 + Copy,
    ) -> Result<(u64, bool), Trap> {
        if vaddr & (u64::from(size) - 1) != 0 {
            return Err(Trap::new(Exception::StoreMisaligned, vaddr));
        }
        let fast = if size == 4 {
            self.tlb.rmw_fast::<4>(self.data_idx, vaddr, op)
        } else {
            self.tlb.rmw_fast::<8>(self.data_idx, vaddr, op)
        };
        match fast {
            Some(old) => Ok((old, false)),
            None => self.amo_slow(mem, vaddr, size, op),
        }
    }

    #[cold]
    #[inline(never)]
    fn amo_slow(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
        op: impl Fn(u64) -> u64,
    ) -> Result<(u64, bool), Trap> {
        let pins = self.hart.csrs.irq_pins().get();
        let mut f = Filler::new(
            &self.hart,
            &mut self.blocks,
            &mut self.end_block,
            self.space,
            &self.hub,
            &self.events,
        );
        let old = self
            .tlb
            .rmw_slow(mem, &mut f, self.data_idx, vaddr, size, op)?;
        Ok((old, self.after_slow_path(pins)))
    }

    /// LR: load with a reservation.
    pub(crate) fn load_reserved(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
    ) -> Result<(u64, bool), Trap> {
        if vaddr & (u64::from(size) - 1) != 0 {
            return Err(Trap::new(Exception::LoadMisaligned, vaddr));
        }
        let fast = if size == 4 {
            self.tlb.load_fast::<4>(self.data_idx, vaddr)
        } else {
            self.tlb.load_fast::<8>(self.data_idx, vaddr)
        };
        let r = match fast {
            Some(v) => (v, false),
            None => self.load_slow(mem, vaddr, size)?,
        };
        self.hart.reservation = Some(vaddr);
        self.hart.reservation_value = r.0;
        Ok(r)
    }

    /// SC: store if the reservation holds for `vaddr` and memory still holds
    /// the value LR loaded (a compare-and-swap, so a store by another hart in
    /// between makes it fail); returns (rd value: 0 on success, 1 on failure,
    /// end block). The reservation is cleared either way. Faults are
    /// store/AMO faults.
    pub(crate) fn store_conditional(
        &mut self,
        mem: &mut MemorySystem,
        vaddr: u64,
        size: u32,
        value: u64,
    ) -> Result<(u64, bool), Trap> {
        if vaddr & (u64::from(size) - 1) != 0 {
            return Err(Trap::new(Exception::StoreMisaligned, vaddr));
        }
        if self.hart.reservation.take() != Some(vaddr) {
            return Ok((1, false));
        }
        let expected = self.hart.reservation_value;
        let (old, stop) = self.amo(
            mem,
            vaddr,
            size,
            move |old| if old == expected { value } else { old },
        )?;
        Ok((u64::from(old != expected), stop))
    }
}
