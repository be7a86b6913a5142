//! The CSR instruction interface: access checks and per-CSR read/write rules.
//!
//! Checks, in the order the spec and QEMU apply them (all raise an illegal
//! instruction exception):
//! 1. a write to a read-only CSR (number bits [11:10] == 0b11);
//! 2. a privilege below the CSR's level (number bits [9:8]);
//! 3. the CSR does not exist in this hart;
//! 4. per-CSR gates: counters by `mcounteren`/`scounteren`, `satp` from S
//!    with `mstatus.TVM`, `stimecmp` from S without `menvcfg.STCE` and
//!    `mcounteren.TM`.
//!
//! `csrrs`/`csrrc` with `rs1 = x0` (and the immediate forms with a zero
//! immediate) do not write: the executor calls [`Csrs::read`] alone, so no
//! read-only or write-side check applies. Every other CSR instruction is a
//! write, even when the written value equals the old one; the executor uses
//! [`Csrs::read_modify_write`] (or [`Csrs::write`] for `csrrw` with
//! `rd = x0`).

use super::addr::*;
use super::fields::*;
use super::{CsrContext, CsrOp, CsrWriteEffect, Csrs};
use crate::privilege::{Exception, Privilege};

/// The result of a CSR access.
pub type CsrResult<T> = Result<T, Exception>;

const ILLEGAL: Exception = Exception::IllegalInstruction;

impl Csrs {
    /// Read CSR `csr` as a CSR instruction at `privilege` would (the value
    /// for `rd`). `mip`/`sip` include the externally driven pins.
    pub fn read(&mut self, csr: u16, privilege: Privilege, ctx: &CsrContext) -> CsrResult<u64> {
        self.check_access(csr, privilege, false)?;
        self.read_value(csr, ctx)
    }

    /// Write `value` to CSR `csr` as `csrrw` at `privilege` would.
    pub fn write(
        &mut self,
        csr: u16,
        value: u64,
        privilege: Privilege,
        ctx: &CsrContext,
    ) -> CsrResult<CsrWriteEffect> {
        self.check_access(csr, privilege, true)?;
        // Existence check: reading is free of side effects for every CSR here.
        self.read_value(csr, ctx)?;
        Ok(self.write_value(csr, value, u64::MAX, ctx))
    }

    /// One CSR instruction that writes: returns the old value (for `rd`) and
    /// the effect of the write. For `mip`/`sip`, the read-modify-write of
    /// `csrrs`/`csrrc` uses only the software-writable SEIP bit, as the spec
    /// requires, so setting SSIP while the external SEIP line is high does
    /// not latch SEIP.
    pub fn read_modify_write(
        &mut self,
        csr: u16,
        op: CsrOp,
        operand: u64,
        privilege: Privilege,
        ctx: &CsrContext,
    ) -> CsrResult<(u64, CsrWriteEffect)> {
        self.check_access(csr, privilege, true)?;
        let old = self.read_value(csr, ctx)?;
        let base = match csr {
            MIP | SIP => (old & !MIP_SEIP) | (self.mip_sw & MIP_SEIP),
            _ => old,
        };
        let (value, mask) = match op {
            CsrOp::Write => (operand, u64::MAX),
            CsrOp::Set => (base | operand, operand),
            CsrOp::Clear => (base & !operand, operand),
        };
        Ok((old, self.write_value(csr, value, mask, ctx)))
    }

    /// Checks 1, 2 and 4 of the module documentation (3 is the fall-through
    /// of the read/write matches).
    fn check_access(&self, csr: u16, privilege: Privilege, write: bool) -> CsrResult<()> {
        if write && is_read_only(csr) {
            return Err(ILLEGAL);
        }
        if min_privilege_bits(csr) > privilege.bits() {
            return Err(ILLEGAL);
        }
        match csr {
            CYCLE..=HPMCOUNTER31 => self.check_counter_enabled(u32::from(csr - CYCLE), privilege),
            SATP if privilege == Privilege::Supervisor && self.mstatus & MSTATUS_TVM != 0 => {
                Err(ILLEGAL)
            }
            STIMECMP if privilege != Privilege::Machine => {
                if self.mcounteren & COUNTER_TM != 0 && self.sstc_enabled() {
                    Ok(())
                } else {
                    Err(ILLEGAL)
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether the user-level counter `index` (0 = cycle, 1 = time, 2 =
    /// instret, 3.. = hpmcounterN) may be read at `privilege`.
    fn check_counter_enabled(&self, index: u32, privilege: Privilege) -> CsrResult<()> {
        let bit = 1u64 << index;
        let allowed = match privilege {
            Privilege::Machine => true,
            Privilege::Supervisor => self.mcounteren & bit != 0,
            Privilege::User => self.mcounteren & self.scounteren & bit != 0,
        };
        if allowed { Ok(()) } else { Err(ILLEGAL) }
    }

    /// The value of an existing CSR, or an illegal-instruction exception.
    fn read_value(&self, csr: u16, ctx: &CsrContext) -> CsrResult<u64> {
        Ok(match csr {
            CYCLE | MCYCLE => self.counters.cycle(ctx),
            INSTRET | MINSTRET => self.counters.instret(ctx),
            TIME => ctx.time,
            HPMCOUNTER3..=HPMCOUNTER31 | MHPMCOUNTER3..=MHPMCOUNTER31 => 0,
            MHPMEVENT3..=MHPMEVENT31 => 0,

            SSTATUS => self.mstatus() & SSTATUS_VISIBLE,
            SIE => self.mie & self.mideleg,
            STVEC => self.stvec,
            SCOUNTEREN => self.scounteren,
            SENVCFG => self.senvcfg,
            SSCRATCH => self.sscratch,
            SEPC => self.sepc,
            SCAUSE => self.scause,
            STVAL => self.stval,
            SIP => self.mip() & self.mideleg,
            STIMECMP => self.stimecmp,
            SATP => self.satp,

            MVENDORID | MARCHID | MIMPID | MCONFIGPTR => 0,
            MHARTID => self.hart_id,

            MSTATUS => self.mstatus(),
            MISA => MISA_RV64IMACSU,
            MEDELEG => self.medeleg,
            MIDELEG => self.mideleg,
            MIE => self.mie,
            MTVEC => self.mtvec,
            MCOUNTEREN => self.mcounteren,
            MENVCFG => self.menvcfg,
            MCOUNTINHIBIT => self.counters.inhibit(),
            MSCRATCH => self.mscratch,
            MEPC => self.mepc,
            MCAUSE => self.mcause,
            MTVAL => self.mtval,
            MIP => self.mip(),
            PMPCFG0 | PMPCFG2 => self.pmp.read_cfg_csr(usize::from(csr - PMPCFG0) / 2),
            PMPADDR0..=PMPADDR15 => self.pmp.read_addr(usize::from(csr - PMPADDR0)),

            // Sdtrig with no triggers: tselect can only hold 0, tdata1 reads
            // type 0 ("no trigger here"), tinfo reads 1 (only type 0).
            TSELECT | TDATA1 | TDATA2 | TDATA3 => 0,
            TINFO => 1,

            _ => return Err(ILLEGAL),
        })
    }

    /// Apply a checked write of an existing CSR. Only the bits in `mask` are
    /// the instruction's to change; the mask matters for `mip`/`sip` SEIP
    /// and is otherwise already folded into `value`.
    fn write_value(&mut self, csr: u16, value: u64, mask: u64, ctx: &CsrContext) -> CsrWriteEffect {
        let interrupts = CsrWriteEffect { flush_tlb: false, check_interrupts: true };
        match csr {
            SSTATUS => self.write_mstatus(value, SSTATUS_WRITABLE),
            MSTATUS => self.write_mstatus(value, MSTATUS_WRITABLE),
            MEDELEG => {
                self.medeleg = value & MEDELEG_WRITABLE;
                CsrWriteEffect::NONE
            }
            MIDELEG => {
                self.mideleg = value & S_INTERRUPTS;
                interrupts
            }
            MIE => {
                self.mie = value & ALL_INTERRUPTS;
                interrupts
            }
            SIE => {
                let m = self.mideleg & S_INTERRUPTS;
                self.mie = (self.mie & !m) | (value & m);
                interrupts
            }
            MIP => {
                // STIP belongs to the Sstc comparator while STCE is set.
                let mut m = MIP_SSIP | MIP_SEIP;
                if !self.sstc_enabled() {
                    m |= MIP_STIP;
                }
                let m = m & mask;
                self.mip_sw = (self.mip_sw & !m) | (value & m);
                interrupts
            }
            SIP => {
                let m = MIP_SSIP & self.mideleg & mask;
                self.mip_sw = (self.mip_sw & !m) | (value & m);
                interrupts
            }
            MTVEC => {
                self.mtvec = legalize_tvec(self.mtvec, value);
                CsrWriteEffect::NONE
            }
            STVEC => {
                self.stvec = legalize_tvec(self.stvec, value);
                CsrWriteEffect::NONE
            }
            MEPC => {
                self.mepc = value & !1;
                CsrWriteEffect::NONE
            }
            SEPC => {
                self.sepc = value & !1;
                CsrWriteEffect::NONE
            }
            MCAUSE => store(&mut self.mcause, value),
            SCAUSE => store(&mut self.scause, value),
            MTVAL => store(&mut self.mtval, value),
            STVAL => store(&mut self.stval, value),
            MSCRATCH => store(&mut self.mscratch, value),
            SSCRATCH => store(&mut self.sscratch, value),
            SATP => self.write_satp(value),
            MCOUNTEREN => store(&mut self.mcounteren, value & 0xffff_ffff),
            SCOUNTEREN => store(&mut self.scounteren, value & 0xffff_ffff),
            MENVCFG => {
                self.menvcfg = value & MENVCFG_WRITABLE;
                self.stimecmp_reached = ctx.time >= self.stimecmp;
                interrupts
            }
            SENVCFG => store(&mut self.senvcfg, value & SENVCFG_WRITABLE),
            MCOUNTINHIBIT => {
                self.counters.set_inhibit(ctx, value);
                CsrWriteEffect::NONE
            }
            MCYCLE => {
                self.counters.set_cycle(ctx, value);
                CsrWriteEffect::NONE
            }
            MINSTRET => {
                self.counters.set_instret(ctx, value);
                CsrWriteEffect::NONE
            }
            STIMECMP => {
                self.stimecmp = value;
                self.stimecmp_reached = ctx.time >= value;
                interrupts
            }
            PMPCFG0 | PMPCFG2 => {
                let changed = self.pmp.write_cfg_csr(usize::from(csr - PMPCFG0) / 2, value);
                CsrWriteEffect { flush_tlb: changed, check_interrupts: false }
            }
            PMPADDR0..=PMPADDR15 => {
                let changed = self.pmp.write_addr(usize::from(csr - PMPADDR0), value);
                CsrWriteEffect { flush_tlb: changed, check_interrupts: false }
            }
            // misa (fixed), hpm counters/events (hard-wired zero), debug
            // triggers (none), and anything else that exists: writes ignored.
            _ => CsrWriteEffect::NONE,
        }
    }

    /// Write the bits of `mstatus` in `writable`; MPP is WARL: the reserved
    /// encoding 2 keeps the old MPP, as QEMU does.
    fn write_mstatus(&mut self, value: u64, writable: u64) -> CsrWriteEffect {
        let old = self.mstatus;
        let mut new = (old & !writable) | (value & writable);
        if (new & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT == 2 {
            new = (new & !MSTATUS_MPP) | (old & MSTATUS_MPP);
        }
        new = (new & MSTATUS_WRITABLE) | MSTATUS_XLEN_FIELDS;
        self.mstatus = new;
        let changed = old ^ new;
        CsrWriteEffect {
            flush_tlb: changed & MSTATUS_TRANSLATION_BITS != 0,
            check_interrupts: changed & (MSTATUS_MIE | MSTATUS_SIE) != 0,
        }
    }

    /// `satp` is WARL: a write with a MODE other than Bare, Sv39 or Sv48 is
    /// ignored entirely (the spec allows it and Linux probes Sv57 this way).
    fn write_satp(&mut self, value: u64) -> CsrWriteEffect {
        let mode = value >> SATP_MODE_SHIFT;
        if !matches!(mode, SATP_MODE_BARE | SATP_MODE_SV39 | SATP_MODE_SV48) {
            return CsrWriteEffect::NONE;
        }
        let changed = self.satp != value;
        self.satp = value;
        CsrWriteEffect { flush_tlb: changed, check_interrupts: false }
    }
}

/// Plain register store with no follow-up effect.
fn store(reg: &mut u64, value: u64) -> CsrWriteEffect {
    *reg = value;
    CsrWriteEffect::NONE
}

/// `mtvec`/`stvec` WARL: MODE 0 (direct) and 1 (vectored) are accepted;
/// MODE >= 2 is reserved and the write is ignored, as QEMU does.
fn legalize_tvec(old: u64, value: u64) -> u64 {
    if value & 3 < 2 { value } else { old }
}
