//! The CSR file of one hart: all machine- and supervisor-level state.
//!
//! [`Csrs`] holds the architectural state; [`Csrs::read`], [`Csrs::write`]
//! and [`Csrs::read_modify_write`] are what the CSR instructions use, with
//! every access check (privilege from the CSR number, read-only CSRs,
//! counter enables, `mstatus.TVM`, Sstc gating). The trap, interrupt, MMU and
//! PMP logic reads the same state through crate-internal fields and the
//! accessors below.
//!
//! The hart is RV64 with S and U modes, Zicsr, Sstc and 16 PMP entries
//! (4-byte granularity); its [`Isa`] decides the rest: with F, `fflags`,
//! `frm`, `fcsr` and `mstatus.FS` exist (SD follows FS); without it they
//! are absent and FS reads zero. `mstatus.VS`/`XS` read as zero, UXL = SXL
//! = 2 are read-only, `misa` reflects the ISA and ignores writes.
//!
//! How an executor drives this module (and the sibling modules):
//! - `csrrs`/`csrrc` (and `csrrsi`/`csrrci`) with a zero source: [`Csrs::read`];
//!   every other CSR instruction: [`Csrs::read_modify_write`] with the
//!   matching [`CsrOp`] (`csrrw` with `rd = x0` may use [`Csrs::write`]).
//!   An `Err` is raised as an illegal instruction with `tval` = the
//!   instruction bits.
//! - After a write, honour [`CsrWriteEffect`]: flush the TLB of every MMU
//!   mode, and end the block to look for interrupts.
//! - Pass the current counts in a [`CsrContext`] on every access, and call
//!   [`Csrs::update_stimecmp`] with the current time before
//!   [`crate::interrupt::pending_interrupt`].
//! - `wfi`: [`crate::trap::check_wfi`], then sleep until
//!   [`Csrs::wfi_wakeup`] holds (devices raise pins through
//!   [`HartIrqPins`]; [`Csrs::next_stimecmp_deadline`] says when Sstc will).

mod access;
pub mod addr;
mod counters;
pub mod fields;
mod irq_pins;

pub(crate) use counters::Counters;
pub use counters::CsrContext;
pub use irq_pins::HartIrqPins;

use crate::isa::Isa;
use crate::pmp::Pmp;
use crate::privilege::Privilege;
use fields::*;

/// What the executor must do after a successful CSR write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsrWriteEffect {
    /// Address translation or PMP permissions may have changed (`satp`,
    /// `mstatus` MPRV/MPP/SUM/MXR, `pmpcfg*`, `pmpaddr*`): flush the TLB.
    pub flush_tlb: bool,
    /// An interrupt may have become pending and enabled (`mstatus`/`sstatus`
    /// interrupt enables, `mie`/`sie`, `mip`/`sip`, `mideleg`, `menvcfg`,
    /// `stimecmp`): check for interrupts before the next instruction.
    pub check_interrupts: bool,
}

impl CsrWriteEffect {
    /// No follow-up needed.
    pub const NONE: Self = Self {
        flush_tlb: false,
        check_interrupts: false,
    };

    /// Both effects combined.
    pub fn merge(self, other: Self) -> Self {
        Self {
            flush_tlb: self.flush_tlb || other.flush_tlb,
            check_interrupts: self.check_interrupts || other.check_interrupts,
        }
    }
}

/// The read-modify-write operation of a CSR instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrOp {
    /// `csrrw`/`csrrwi`: the CSR becomes the operand.
    Write,
    /// `csrrs`/`csrrsi`: the operand's one bits are set.
    Set,
    /// `csrrc`/`csrrci`: the operand's one bits are cleared.
    Clear,
}

/// The CSR state of one hart. See the module documentation.
#[derive(Clone, Debug)]
pub struct Csrs {
    pub(crate) hart_id: u64,
    /// `mstatus` as stored: only writable bits plus the fixed XLEN fields.
    pub(crate) mstatus: u64,
    pub(crate) medeleg: u64,
    pub(crate) mideleg: u64,
    pub(crate) mie: u64,
    /// Software-written `mip` bits: SSIP, STIP (used while `menvcfg.STCE`
    /// is clear) and the software copy of SEIP.
    pub(crate) mip_sw: u64,
    pub(crate) pins: HartIrqPins,
    pub(crate) mtvec: u64,
    pub(crate) stvec: u64,
    pub(crate) mepc: u64,
    pub(crate) sepc: u64,
    pub(crate) mcause: u64,
    pub(crate) scause: u64,
    pub(crate) mtval: u64,
    pub(crate) stval: u64,
    pub(crate) mscratch: u64,
    pub(crate) sscratch: u64,
    pub(crate) satp: u64,
    pub(crate) mcounteren: u64,
    pub(crate) scounteren: u64,
    pub(crate) menvcfg: u64,
    pub(crate) senvcfg: u64,
    pub(crate) counters: Counters,
    pub(crate) stimecmp: u64,
    /// Sstc comparison result (`time >= stimecmp`) as of the last update.
    pub(crate) stimecmp_reached: bool,
    pub(crate) pmp: Pmp,
    /// `fflags` (5 bits).
    pub(crate) fflags: u8,
    /// `frm` (3 bits; 5..=7 are invalid, and make dynamic-rounding
    /// instructions illegal).
    pub(crate) frm: u8,
    /// The extensions the hart implements.
    pub(crate) isa: Isa,
    /// `marchid` (0 = not implemented; 5 is Spike's registered id).
    pub(crate) marchid: u64,
}

impl Csrs {
    /// The reset state of hart `hart_id`: M-mode fields cleared, no
    /// delegation, bare translation, no PMP entries, `stimecmp` all ones,
    /// fresh interrupt pins.
    pub fn new(hart_id: u64) -> Self {
        Self {
            hart_id,
            mstatus: MSTATUS_XLEN_FIELDS,
            medeleg: 0,
            mideleg: 0,
            mie: 0,
            mip_sw: 0,
            pins: HartIrqPins::new(),
            mtvec: 0,
            stvec: 0,
            mepc: 0,
            sepc: 0,
            mcause: 0,
            scause: 0,
            mtval: 0,
            stval: 0,
            mscratch: 0,
            sscratch: 0,
            satp: 0,
            mcounteren: 0,
            scounteren: 0,
            menvcfg: 0,
            senvcfg: 0,
            counters: Counters::default(),
            // The reset value is unspecified; all ones keeps a hart that
            // turns on Sstc from seeing a timer interrupt it never armed.
            stimecmp: u64::MAX,
            stimecmp_reached: false,
            pmp: Pmp::default(),
            fflags: 0,
            frm: 0,
            isa: Isa::full(),
            marchid: 0,
        }
    }

    /// The reset state of hart `hart_id` implementing `isa`.
    pub fn with_isa(hart_id: u64, isa: Isa) -> Self {
        let mut c = Self::new(hart_id);
        c.isa = isa;
        c
    }

    /// The extensions the hart implements.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// `fflags`.
    pub fn fflags(&self) -> u8 {
        self.fflags
    }

    /// `frm`.
    pub fn frm(&self) -> u8 {
        self.frm
    }

    /// Whether floating-point instructions may run: the hart has F and
    /// `mstatus.FS` is not Off.
    #[inline]
    pub fn fp_enabled(&self) -> bool {
        self.mstatus & MSTATUS_FS != 0
    }

    /// Whether `mstatus.FS` is Dirty: floating-point instructions may run,
    /// and writing FP state needs no further bookkeeping (the fast paths'
    /// one check).
    #[inline]
    pub(crate) fn fp_dirty(&self) -> bool {
        self.mstatus & MSTATUS_FS == MSTATUS_FS_DIRTY
    }

    /// Record that floating-point state changed: `mstatus.FS` = Dirty.
    #[inline]
    pub(crate) fn set_fp_dirty(&mut self) {
        self.mstatus |= MSTATUS_FS_DIRTY;
    }

    /// Reset every CSR as [`Csrs::new`] does, keeping the hart id and the
    /// interrupt pins (devices keep driving them across a hart reset).
    pub fn reset(&mut self) {
        let pins = self.pins.clone();
        let marchid = self.marchid;
        *self = Self::with_isa(self.hart_id, self.isa);
        self.pins = pins;
        self.marchid = marchid;
    }

    /// A handle on the externally driven interrupt lines of this hart.
    pub fn irq_pins(&self) -> HartIrqPins {
        self.pins.clone()
    }

    /// The hart id (`mhartid`).
    pub fn hart_id(&self) -> u64 {
        self.hart_id
    }

    /// The full `mstatus` value as software reads it (SD set when FS is
    /// Dirty).
    pub fn mstatus(&self) -> u64 {
        let sd = if self.mstatus & MSTATUS_FS == MSTATUS_FS_DIRTY {
            MSTATUS_SD
        } else {
            0
        };
        self.mstatus | MSTATUS_XLEN_FIELDS | sd
    }

    /// `satp` as last accepted.
    pub fn satp(&self) -> u64 {
        self.satp
    }

    /// `mie`.
    pub fn mie(&self) -> u64 {
        self.mie
    }

    /// `mideleg`.
    pub fn mideleg(&self) -> u64 {
        self.mideleg
    }

    /// `medeleg`.
    pub fn medeleg(&self) -> u64 {
        self.medeleg
    }

    /// `mepc` (bit 0 always clear).
    pub fn mepc(&self) -> u64 {
        self.mepc
    }

    /// `sepc` (bit 0 always clear).
    pub fn sepc(&self) -> u64 {
        self.sepc
    }

    /// `mcause`.
    pub fn mcause(&self) -> u64 {
        self.mcause
    }

    /// `scause`.
    pub fn scause(&self) -> u64 {
        self.scause
    }

    /// `mtval`.
    pub fn mtval(&self) -> u64 {
        self.mtval
    }

    /// `stval`.
    pub fn stval(&self) -> u64 {
        self.stval
    }

    /// `mtvec`.
    pub fn mtvec(&self) -> u64 {
        self.mtvec
    }

    /// `stvec`.
    pub fn stvec(&self) -> u64 {
        self.stvec
    }

    /// `menvcfg`.
    pub fn menvcfg(&self) -> u64 {
        self.menvcfg
    }

    /// `stimecmp`.
    pub fn stimecmp(&self) -> u64 {
        self.stimecmp
    }

    /// The effective `mip`: software-written bits, the pins, and STIP from
    /// the Sstc comparator when `menvcfg.STCE` is set.
    pub fn mip(&self) -> u64 {
        let stip = if self.sstc_enabled() {
            if self.stimecmp_reached { MIP_STIP } else { 0 }
        } else {
            self.mip_sw & MIP_STIP
        };
        (self.mip_sw & (MIP_SSIP | MIP_SEIP)) | stip | (self.pins.get() & PIN_INTERRUPTS)
    }

    /// Whether `menvcfg.STCE` enables the Sstc comparator.
    pub fn sstc_enabled(&self) -> bool {
        self.menvcfg & MENVCFG_STCE != 0
    }

    /// Re-evaluate the Sstc comparator at time `now` (mtime ticks). The
    /// executor calls this before checking for interrupts. Returns whether
    /// STIP changed (so the caller knows an interrupt may now be pending).
    pub fn update_stimecmp(&mut self, now: u64) -> bool {
        let reached = now >= self.stimecmp;
        let changed = reached != self.stimecmp_reached;
        self.stimecmp_reached = reached;
        changed && self.sstc_enabled()
    }

    /// The time (mtime ticks) at which the Sstc comparator will raise STIP,
    /// if it is enabled and has not fired yet. The machine uses this to wake
    /// a hart waiting in `wfi`.
    pub fn next_stimecmp_deadline(&self) -> Option<u64> {
        // 2^64 - 1 is what software writes for "no timer": `time` never
        // reaches it, so it is no deadline (the hart sleeps, time does not
        // jump to the end of its range).
        (self.sstc_enabled() && !self.stimecmp_reached && self.stimecmp != u64::MAX)
            .then_some(self.stimecmp)
    }

    /// Whether some interrupt is pending and enabled in `mie`, ignoring the
    /// global enables and delegation: the condition that ends `wfi`.
    pub fn wfi_wakeup(&self) -> bool {
        self.mip() & self.mie & ALL_INTERRUPTS != 0
    }

    /// The privilege in `mstatus.MPP`.
    pub fn mpp(&self) -> Privilege {
        Privilege::from_bits(self.mstatus >> MSTATUS_MPP_SHIFT).unwrap_or(Privilege::User)
    }

    /// The PMP registers.
    pub fn pmp(&self) -> &Pmp {
        &self.pmp
    }
}
