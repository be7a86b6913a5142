//! The CSR instruction interface: access checks and per-CSR read/write rules.
//!
//! Checks, in the order the spec and QEMU apply them (all raise an illegal
//! instruction exception):
//! 1. a write to a read-only CSR (number bits 11:10 == 0b11);
//! 2. a privilege below the CSR's level (number bits 9:8);
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

    /// The value of `csr` without access checks or side effects, for
    /// debuggers, monitors and traces; `None` if the CSR does not exist.
    pub fn peek(&self, csr: u16, ctx: &CsrContext) -> Option<u64> {
        self.read_value(csr, ctx).ok()
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
            // The FP CSRs trap while mstatus.FS is Off (and do not exist
            // without F: the read match falls through).
            FFLAGS | FRM | FCSR if self.isa.has_fp() && !self.fp_enabled() => Err(ILLEGAL),
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
    /// The value of CSR `csr` as a debugger reads it: no privilege or
    /// counter-enable checks, no side effects; `None` if it does not exist.
    pub fn debug_read(&self, csr: u16, ctx: &CsrContext) -> Option<u64> {
        self.read_value(csr, ctx).ok()
    }

    fn read_value(&self, csr: u16, ctx: &CsrContext) -> CsrResult<u64> {
        Ok(match csr {
            CYCLE | MCYCLE => self.counters.cycle(ctx),
            INSTRET | MINSTRET => self.counters.instret(ctx),
            TIME => ctx.time,
            HPMCOUNTER3..=HPMCOUNTER31 | MHPMCOUNTER3..=MHPMCOUNTER31 => 0,
            MHPMEVENT3..=MHPMEVENT31 => 0,

            FFLAGS if self.isa.has_fp() => u64::from(self.fflags),
            FRM if self.isa.has_fp() => u64::from(self.frm),
            FCSR if self.isa.has_fp() => u64::from(self.frm << 5 | self.fflags),

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

            MARCHID => self.marchid,
            MVENDORID | MIMPID | MCONFIGPTR => 0,
            MHARTID => self.hart_id,

            MSTATUS => self.mstatus(),
            MISA => self.isa.misa(),
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
        let interrupts = CsrWriteEffect {
            flush_tlb: false,
            check_interrupts: true,
        };
        let fs = if self.isa.has_fp() { MSTATUS_FS } else { 0 };
        match csr {
            FFLAGS | FRM | FCSR => {
                match csr {
                    FFLAGS => self.fflags = (value & 0x1f) as u8,
                    FRM => self.frm = (value & 7) as u8,
                    _ => {
                        self.fflags = (value & 0x1f) as u8;
                        self.frm = ((value >> 5) & 7) as u8;
                    }
                }
                self.set_fp_dirty();
                CsrWriteEffect::NONE
            }
            SSTATUS => self.write_mstatus(value, SSTATUS_WRITABLE | fs),
            MSTATUS => self.write_mstatus(value, MSTATUS_WRITABLE | fs),
            MEDELEG => {
                // With C no fetch can be misaligned: bit 0 is read-only
                // zero then (Spike's choice; the field is WARL).
                let fixed = u64::from(self.isa.has(crate::decode::Extension::C));
                self.medeleg = value & MEDELEG_WRITABLE & !fixed;
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
                let pbmte = if self.isa.has_svpbmt() {
                    MENVCFG_PBMTE
                } else {
                    0
                };
                self.menvcfg = legalize_cbie(value & (MENVCFG_WRITABLE | pbmte));
                self.stimecmp_reached = ctx.time >= self.stimecmp;
                interrupts
            }
            SENVCFG => store(&mut self.senvcfg, legalize_cbie(value & SENVCFG_WRITABLE)),
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
                let changed = self
                    .pmp
                    .write_cfg_csr(usize::from(csr - PMPCFG0) / 2, value);
                CsrWriteEffect {
                    flush_tlb: changed,
                    check_interrupts: false,
                }
            }
            PMPADDR0..=PMPADDR15 => {
                let changed = self.pmp.write_addr(usize::from(csr - PMPADDR0), value);
                CsrWriteEffect {
                    flush_tlb: changed,
                    check_interrupts: false,
                }
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
        new = (new & (MSTATUS_WRITABLE | MSTATUS_FS)) | MSTATUS_XLEN_FIELDS;
        self.mstatus = new;
        let changed = old ^ new;
        CsrWriteEffect {
            flush_tlb: changed & MSTATUS_TRANSLATION_BITS != 0,
            check_interrupts: changed & (MSTATUS_MIE | MSTATUS_SIE) != 0,
        }
    }

    /// `satp` is WARL: a write with a MODE other than Bare, Sv39, Sv48 or
    /// Sv57 is ignored entirely (the spec allows it; Linux probes the
    /// modes this way).
    fn write_satp(&mut self, value: u64) -> CsrWriteEffect {
        let mode = value >> SATP_MODE_SHIFT;
        if !matches!(
            mode,
            SATP_MODE_BARE | SATP_MODE_SV39 | SATP_MODE_SV48 | SATP_MODE_SV57
        ) {
            return CsrWriteEffect::NONE;
        }
        let changed = self.satp != value;
        self.satp = value;
        CsrWriteEffect {
            flush_tlb: changed,
            check_interrupts: false,
        }
    }
}

/// `xenvcfg.CBIE` is WARL: the reserved value 10 becomes 00.
fn legalize_cbie(value: u64) -> u64 {
    if value & ENVCFG_CBIE == 2 << 4 {
        value & !ENVCFG_CBIE
    } else {
        value
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Isa;

    const M: Privilege = Privilege::Machine;
    const S: Privilege = Privilege::Supervisor;
    const U: Privilege = Privilege::User;
    const CTX: CsrContext = CsrContext {
        instret: 1000,
        cycle: 2000,
        time: 300,
    };

    fn csrs() -> Csrs {
        Csrs::new(3)
    }

    #[test]
    fn privilege_and_read_only_checks() {
        let mut c = csrs();
        assert_eq!(c.read(MSTATUS, S, &CTX), Err(ILLEGAL));
        assert_eq!(c.read(SSTATUS, U, &CTX), Err(ILLEGAL));
        assert!(c.read(SSTATUS, S, &CTX).is_ok());
        assert_eq!(c.read(MHARTID, M, &CTX), Ok(3));
        assert_eq!(c.write(MHARTID, 0, M, &CTX), Err(ILLEGAL));
        assert_eq!(c.write(CYCLE, 0, M, &CTX), Err(ILLEGAL));
        assert_eq!(
            c.read_modify_write(MISA, CsrOp::Set, 0, M, &CTX)
                .map(|r| r.0),
            Ok(Isa::full().misa())
        );
        // Nonexistent CSRs: RV32-only, H, debug-mode, seed, mseccfg.
        for csr in [0x310, 0x600, 0x7b0, 0x015, 0x747, 0x3a1, 0x3a4, 0x3c0] {
            assert_eq!(c.read(csr, M, &CTX), Err(ILLEGAL), "csr {csr:#x}");
            assert_eq!(c.write(csr, 0, M, &CTX), Err(ILLEGAL), "csr {csr:#x}");
        }
    }

    #[test]
    fn mstatus_warl_and_fixed_fields() {
        let mut c = csrs();
        let fixed = MSTATUS_XLEN_FIELDS;
        assert_eq!(c.read(MSTATUS, M, &CTX), Ok(fixed));
        c.write(MSTATUS, u64::MAX, M, &CTX).unwrap();
        let v = c.read(MSTATUS, M, &CTX).unwrap();
        assert_eq!(
            v,
            MSTATUS_WRITABLE | MSTATUS_FS | MSTATUS_SD | fixed,
            "VS/XS/UBE/SBE/MBE stay 0; FS Dirty sets SD"
        );
        c.write(MSTATUS, MSTATUS_FS & (2 << 13), M, &CTX).unwrap();
        assert_eq!(
            c.read(MSTATUS, M, &CTX).unwrap() & MSTATUS_SD,
            0,
            "FS Clean"
        );
        // Without F, FS is read-only zero.
        let mut imac = Csrs::with_isa(0, Isa::parse("rv64imac").unwrap());
        imac.write(MSTATUS, u64::MAX, M, &CTX).unwrap();
        assert_eq!(
            imac.read(MSTATUS, M, &CTX).unwrap() & (MSTATUS_FS | MSTATUS_SD),
            0
        );
        assert_eq!(imac.read(FCSR, M, &CTX), Err(ILLEGAL));
        // MPP = 2 is reserved: the old MPP stays.
        c.write(MSTATUS, 1 << MSTATUS_MPP_SHIFT, M, &CTX).unwrap();
        assert_eq!(c.mpp(), Privilege::Supervisor);
        c.write(MSTATUS, 2 << MSTATUS_MPP_SHIFT, M, &CTX).unwrap();
        assert_eq!(c.mpp(), Privilege::Supervisor);
        // UXL/SXL cannot change.
        c.write(MSTATUS, 0, M, &CTX).unwrap();
        assert_eq!(c.read(MSTATUS, M, &CTX), Ok(fixed));
    }

    #[test]
    fn sstatus_is_a_masked_view() {
        let mut c = csrs();
        c.write(
            MSTATUS,
            MSTATUS_MIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_SIE,
            M,
            &CTX,
        )
        .unwrap();
        let s = c.read(SSTATUS, S, &CTX).unwrap();
        assert_eq!(s, MSTATUS_SIE | (2 << 32), "only SIE and UXL visible");
        c.write(SSTATUS, u64::MAX, S, &CTX).unwrap();
        let m = c.read(MSTATUS, M, &CTX).unwrap();
        assert_eq!(
            m & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR),
            MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
        );
        assert_ne!(m & MSTATUS_MIE, 0, "M bits untouched by sstatus writes");
        c.write(SSTATUS, 0, S, &CTX).unwrap();
        let m = c.read(MSTATUS, M, &CTX).unwrap();
        assert_eq!(m & MSTATUS_MPP, MSTATUS_MPP);
        assert_ne!(m & MSTATUS_TVM, 0);
    }

    #[test]
    fn write_effects() {
        let mut c = csrs();
        let e = c.write(MSTATUS, MSTATUS_SUM, M, &CTX).unwrap();
        assert!(e.flush_tlb && !e.check_interrupts);
        let e = c
            .write(MSTATUS, MSTATUS_SUM | MSTATUS_MIE, M, &CTX)
            .unwrap();
        assert!(!e.flush_tlb && e.check_interrupts);
        let e = c.write(SATP, (8 << 60) | 0x8_0000, M, &CTX).unwrap();
        assert!(e.flush_tlb);
        let e = c.write(SATP, (8 << 60) | 0x8_0000, M, &CTX).unwrap();
        assert!(!e.flush_tlb, "same value");
        assert!(c.write(PMPADDR0, 0x100, M, &CTX).unwrap().flush_tlb);
        assert!(c.write(MIE, MIP_MTIP, M, &CTX).unwrap().check_interrupts);
        assert_eq!(c.write(MSCRATCH, 5, M, &CTX), Ok(CsrWriteEffect::NONE));
    }

    #[test]
    fn delegation_registers_warl() {
        let mut c = csrs();
        c.write(MEDELEG, u64::MAX, M, &CTX).unwrap();
        assert_eq!(
            c.read(MEDELEG, M, &CTX),
            Ok(0xb3fe),
            "bit 0 (no misaligned fetch with C), 11, 10, 14 and 16+ read 0"
        );
        let mut imac = Csrs::with_isa(0, "rv64ima".parse().unwrap());
        imac.write(MEDELEG, u64::MAX, M, &CTX).unwrap();
        assert_eq!(
            imac.read(MEDELEG, M, &CTX),
            Ok(0xb3ff),
            "without C, bit 0 is writable"
        );
        c.write(MIDELEG, u64::MAX, M, &CTX).unwrap();
        assert_eq!(c.read(MIDELEG, M, &CTX), Ok(S_INTERRUPTS));
        c.write(MIE, u64::MAX, M, &CTX).unwrap();
        assert_eq!(c.read(MIE, M, &CTX), Ok(ALL_INTERRUPTS));
    }

    #[test]
    fn sie_sip_views_follow_mideleg() {
        let mut c = csrs();
        c.write(MIE, ALL_INTERRUPTS, M, &CTX).unwrap();
        assert_eq!(c.read(SIE, S, &CTX), Ok(0));
        c.write(MIDELEG, MIP_SSIP | MIP_STIP, M, &CTX).unwrap();
        assert_eq!(c.read(SIE, S, &CTX), Ok(MIP_SSIP | MIP_STIP));
        c.write(SIE, 0, S, &CTX).unwrap();
        assert_eq!(
            c.read(MIE, M, &CTX),
            Ok(ALL_INTERRUPTS & !(MIP_SSIP | MIP_STIP))
        );
        // sip: SSIP writable when delegated; STIP read-only through sip.
        c.write(SIP, MIP_SSIP | MIP_STIP, S, &CTX).unwrap();
        assert_eq!(c.read(SIP, S, &CTX), Ok(MIP_SSIP));
        c.write(MIP, MIP_STIP | MIP_SSIP, M, &CTX).unwrap();
        assert_eq!(c.read(SIP, S, &CTX), Ok(MIP_SSIP | MIP_STIP));
        c.irq_pins().set(MIP_SEIP | MIP_MTIP);
        assert_eq!(
            c.read(SIP, S, &CTX),
            Ok(MIP_SSIP | MIP_STIP),
            "SEIP not delegated"
        );
        c.write(MIDELEG, S_INTERRUPTS, M, &CTX).unwrap();
        assert_eq!(c.read(SIP, S, &CTX), Ok(S_INTERRUPTS));
    }

    #[test]
    fn mip_pins_are_read_only_and_seip_is_ored() {
        let mut c = csrs();
        c.irq_pins().set(MIP_MTIP | MIP_MSIP);
        c.write(MIP, 0, M, &CTX).unwrap();
        assert_eq!(
            c.read(MIP, M, &CTX),
            Ok(MIP_MTIP | MIP_MSIP),
            "pins survive writes"
        );
        c.write(MIP, MIP_MEIP | MIP_SEIP, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(MIP_MTIP | MIP_MSIP | MIP_SEIP));
        c.write(MIP, 0, M, &CTX).unwrap();
        // External SEIP high, software bit clear: csrrs of SSIP must not latch SEIP.
        c.irq_pins().set(MIP_SEIP);
        let (old, _) = c
            .read_modify_write(MIP, CsrOp::Set, MIP_SSIP, M, &CTX)
            .unwrap();
        assert_ne!(old & MIP_SEIP, 0, "rd sees the OR");
        c.irq_pins().clear(MIP_SEIP);
        assert_eq!(c.read(MIP, M, &CTX).unwrap() & MIP_SEIP, 0);
        // csrrs of SEIP itself does set the software bit.
        c.read_modify_write(MIP, CsrOp::Set, MIP_SEIP, M, &CTX)
            .unwrap();
        assert_ne!(c.read(MIP, M, &CTX).unwrap() & MIP_SEIP, 0);
        c.read_modify_write(MIP, CsrOp::Clear, MIP_SEIP, M, &CTX)
            .unwrap();
        assert_eq!(c.read(MIP, M, &CTX).unwrap() & MIP_SEIP, 0);
    }

    #[test]
    fn stip_belongs_to_sstc_when_stce_is_set() {
        let mut c = csrs();
        c.write(MIP, MIP_STIP, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(MIP_STIP));
        c.write(STIMECMP, u64::MAX, M, &CTX).unwrap();
        c.write(MENVCFG, MENVCFG_STCE, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(0), "comparator not reached");
        c.write(MIP, MIP_STIP, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(0), "STIP not writable with STCE");
        c.write(STIMECMP, CTX.time, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(MIP_STIP));
    }

    #[test]
    fn enabling_sstc_after_reset_raises_nothing() {
        let mut c = csrs();
        assert_eq!(c.read(STIMECMP, M, &CTX), Ok(u64::MAX));
        c.write(MENVCFG, MENVCFG_STCE, M, &CTX).unwrap();
        assert_eq!(c.read(MIP, M, &CTX), Ok(0));
        assert!(!c.update_stimecmp(u64::MAX - 1));
        // The reset value, all ones, is "no timer": no deadline at all.
        assert_eq!(c.next_stimecmp_deadline(), None);
        c.write(STIMECMP, u64::MAX - 1, M, &CTX).unwrap();
        assert_eq!(c.next_stimecmp_deadline(), Some(u64::MAX - 1));
    }

    #[test]
    fn tvec_warl() {
        let mut c = csrs();
        c.write(MTVEC, 0x8000_0101, M, &CTX).unwrap();
        assert_eq!(c.read(MTVEC, M, &CTX), Ok(0x8000_0101));
        c.write(MTVEC, 0x9000_0002, M, &CTX).unwrap();
        assert_eq!(c.read(MTVEC, M, &CTX), Ok(0x8000_0101), "mode 2 reserved");
        c.write(STVEC, 0x1003, S, &CTX).unwrap();
        assert_eq!(c.read(STVEC, S, &CTX), Ok(0));
        c.write(STVEC, 0x1000, S, &CTX).unwrap();
        assert_eq!(c.read(STVEC, S, &CTX), Ok(0x1000));
    }

    #[test]
    fn epc_clears_bit_zero_only() {
        let mut c = csrs();
        c.write(MEPC, 0x8000_0003, M, &CTX).unwrap();
        assert_eq!(c.read(MEPC, M, &CTX), Ok(0x8000_0002));
        c.write(SEPC, u64::MAX, S, &CTX).unwrap();
        assert_eq!(c.read(SEPC, S, &CTX), Ok(u64::MAX - 1));
    }

    #[test]
    fn satp_warl_and_tvm() {
        let mut c = csrs();
        let sv39 = (8u64 << 60) | (0x1234 << 44) | 0x8_0123;
        c.write(SATP, sv39, S, &CTX).unwrap();
        assert_eq!(c.read(SATP, S, &CTX), Ok(sv39));
        for mode in [1u64, 7, 11, 15] {
            c.write(SATP, (mode << 60) | 5, S, &CTX).unwrap();
            assert_eq!(c.read(SATP, S, &CTX), Ok(sv39), "mode {mode} ignored");
        }
        let sv57 = (10u64 << 60) | 0xa_0000;
        c.write(SATP, sv57, S, &CTX).unwrap();
        assert_eq!(c.satp(), sv57);
        let sv48 = (9u64 << 60) | 0x9_0000;
        c.write(SATP, sv48, S, &CTX).unwrap();
        assert_eq!(c.satp(), sv48);
        c.write(MSTATUS, MSTATUS_TVM, M, &CTX).unwrap();
        assert_eq!(c.read(SATP, S, &CTX), Err(ILLEGAL));
        assert_eq!(c.write(SATP, 0, S, &CTX), Err(ILLEGAL));
        assert_eq!(c.read(SATP, M, &CTX), Ok(sv48), "TVM does not bind M");
    }

    #[test]
    fn counters_and_their_gating() {
        let mut c = csrs();
        assert_eq!(c.read(CYCLE, M, &CTX), Ok(2000));
        assert_eq!(c.read(INSTRET, M, &CTX), Ok(1000));
        assert_eq!(c.read(TIME, M, &CTX), Ok(300));
        assert_eq!(c.read(TIME, S, &CTX), Err(ILLEGAL));
        c.write(MCOUNTEREN, COUNTER_TM | COUNTER_IR, M, &CTX)
            .unwrap();
        assert_eq!(c.read(TIME, S, &CTX), Ok(300));
        assert_eq!(c.read(CYCLE, S, &CTX), Err(ILLEGAL));
        assert_eq!(c.read(TIME, U, &CTX), Err(ILLEGAL), "scounteren clear");
        c.write(SCOUNTEREN, COUNTER_TM | COUNTER_CY, S, &CTX)
            .unwrap();
        assert_eq!(c.read(TIME, U, &CTX), Ok(300));
        assert_eq!(c.read(CYCLE, U, &CTX), Err(ILLEGAL), "mcounteren.CY clear");
        assert_eq!(
            c.read(INSTRET, U, &CTX),
            Err(ILLEGAL),
            "scounteren.IR clear"
        );
        assert_eq!(c.read(HPMCOUNTER3 + 1, S, &CTX), Err(ILLEGAL));
        c.write(MCOUNTEREN, u64::MAX, M, &CTX).unwrap();
        assert_eq!(c.read(HPMCOUNTER3 + 1, S, &CTX), Ok(0));
        // Writes to mcycle/minstret are offsets (the writer's own increment
        // suppressed); hpm counters stay zero.
        c.write(MINSTRET, 10, M, &CTX).unwrap();
        let later = CsrContext {
            instret: 1005,
            ..CTX
        };
        assert_eq!(c.read(MINSTRET, M, &later), Ok(14));
        assert_eq!(c.read(INSTRET, S, &later), Ok(14));
        c.write(MHPMCOUNTER3, 77, M, &CTX).unwrap();
        c.write(MHPMEVENT3 + 5, 77, M, &CTX).unwrap();
        assert_eq!(c.read(MHPMCOUNTER3, M, &CTX), Ok(0));
        assert_eq!(c.read(MHPMEVENT3 + 5, M, &CTX), Ok(0));
        // The unprivileged counters are read-only.
        assert_eq!(c.write(INSTRET, 0, M, &CTX), Err(ILLEGAL));
    }

    #[test]
    fn stimecmp_gating() {
        let mut c = csrs();
        assert!(c.read(STIMECMP, M, &CTX).is_ok());
        assert_eq!(c.read(STIMECMP, S, &CTX), Err(ILLEGAL));
        c.write(MENVCFG, MENVCFG_STCE, M, &CTX).unwrap();
        assert_eq!(
            c.read(STIMECMP, S, &CTX),
            Err(ILLEGAL),
            "needs mcounteren.TM too"
        );
        c.write(MCOUNTEREN, COUNTER_TM, M, &CTX).unwrap();
        assert!(c.write(STIMECMP, 5, S, &CTX).unwrap().check_interrupts);
        assert_eq!(c.read(STIMECMP, S, &CTX), Ok(5));
        assert_eq!(c.read(STIMECMP, U, &CTX), Err(ILLEGAL));
    }

    #[test]
    fn floating_point_csrs() {
        let mut c = csrs();
        assert_eq!(c.read(FFLAGS, U, &CTX), Err(ILLEGAL), "FS is Off at reset");
        c.write(MSTATUS, 1 << 13, M, &CTX).unwrap(); // FS = Initial
        c.write(FCSR, 0xff, U, &CTX).unwrap();
        assert_eq!(c.read(FRM, U, &CTX), Ok(7));
        assert_eq!(c.read(FFLAGS, U, &CTX), Ok(0x1f));
        assert_eq!(
            c.mstatus() & MSTATUS_FS,
            MSTATUS_FS_DIRTY,
            "a write dirties FS"
        );
        c.write(FRM, 0x1ff, U, &CTX).unwrap();
        assert_eq!(c.read(FCSR, U, &CTX), Ok(0xff));
        c.write(FFLAGS, 0x21, U, &CTX).unwrap();
        assert_eq!(c.read(FCSR, U, &CTX), Ok(0xe1));
        c.write(SSTATUS, 0, S, &CTX).unwrap();
        assert_eq!(
            c.read(FCSR, U, &CTX),
            Err(ILLEGAL),
            "FS Off through sstatus"
        );
    }

    #[test]
    fn envcfg_misa_ids_and_triggers() {
        let mut c = csrs();
        c.write(MENVCFG, u64::MAX, M, &CTX).unwrap();
        assert_eq!(
            c.read(MENVCFG, M, &CTX),
            Ok(MENVCFG_WRITABLE | MENVCFG_PBMTE)
        );
        c.write(SENVCFG, u64::MAX, S, &CTX).unwrap();
        assert_eq!(c.read(SENVCFG, S, &CTX), Ok(SENVCFG_WRITABLE));
        // CBIE = 10 is reserved: it reads back as 00.
        c.write(SENVCFG, 2 << 4, S, &CTX).unwrap();
        assert_eq!(c.read(SENVCFG, S, &CTX), Ok(0));
        c.write(MISA, 0, M, &CTX).unwrap();
        assert_eq!(c.read(MISA, M, &CTX), Ok(Isa::full().misa()));
        for csr in [MVENDORID, MARCHID, MIMPID, MCONFIGPTR] {
            assert_eq!(c.read(csr, M, &CTX), Ok(0));
        }
        c.write(TSELECT, 3, M, &CTX).unwrap();
        assert_eq!(c.read(TSELECT, M, &CTX), Ok(0));
        assert_eq!(c.read(TDATA1, M, &CTX), Ok(0));
        assert_eq!(c.read(TINFO, M, &CTX), Ok(1));
        assert_eq!(c.read(TSELECT, S, &CTX), Err(ILLEGAL));
    }

    #[test]
    fn pmp_csrs() {
        let mut c = csrs();
        c.write(PMPCFG2, 0x1f << 8, M, &CTX).unwrap();
        assert_eq!(c.read(PMPCFG2, M, &CTX), Ok(0x1f << 8));
        assert_eq!(c.pmp().cfg(9), 0x1f);
        c.write(PMPADDR15, 0x1234, M, &CTX).unwrap();
        assert_eq!(c.read(PMPADDR15, M, &CTX), Ok(0x1234));
        assert_eq!(c.read(PMPADDR0, S, &CTX), Err(ILLEGAL));
    }

    #[test]
    fn peek_ignores_privilege_and_gates() {
        let c = csrs();
        assert_eq!(c.peek(MHARTID, &CTX), Some(3));
        assert_eq!(c.peek(CYCLE, &CTX), Some(2000));
        assert_eq!(c.peek(0x7b0, &CTX), None);
    }

    #[test]
    fn reset_keeps_pins_and_hart_id() {
        let mut c = csrs();
        let pins = c.irq_pins();
        c.write(MSCRATCH, 9, M, &CTX).unwrap();
        c.reset();
        assert_eq!(c.read(MSCRATCH, M, &CTX), Ok(0));
        pins.set(MIP_MEIP);
        assert_eq!(c.read(MIP, M, &CTX), Ok(MIP_MEIP));
        assert_eq!(c.hart_id(), 3);
    }

    /// A tiny deterministic generator for the exhaustive sweeps below.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn every_csr_number_at_every_privilege_keeps_the_invariants() {
        let mut c = csrs();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..4 {
            for csr in 0..0x1000u16 {
                for p in [U, S, M] {
                    let value = if round == 0 {
                        u64::MAX
                    } else {
                        xorshift(&mut seed)
                    };
                    let read = c.read(csr, p, &CTX);
                    let write = c.write(csr, value, p, &CTX);
                    if min_privilege_bits(csr) > p.bits() {
                        assert_eq!(read, Err(ILLEGAL), "{csr:#x} at {p:?}");
                        assert_eq!(write, Err(ILLEGAL), "{csr:#x} at {p:?}");
                    }
                    if is_read_only(csr) {
                        assert_eq!(write, Err(ILLEGAL), "{csr:#x} is read-only");
                    }
                    // The FP CSRs exist but trap while mstatus.FS is Off.
                    let fp_off = matches!(csr, FFLAGS | FRM | FCSR) && !c.fp_enabled();
                    if read == Err(ILLEGAL) && p == M && !fp_off {
                        assert_eq!(write, Err(ILLEGAL), "{csr:#x}: writable but unreadable");
                        assert_eq!(c.peek(csr, &CTX), None, "{csr:#x}");
                    }
                    let st = c.mstatus();
                    assert_ne!((st & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, 2);
                    let allowed = MSTATUS_WRITABLE | MSTATUS_FS | MSTATUS_SD | MSTATUS_XLEN_FIELDS;
                    assert_eq!(st & !allowed, 0);
                    assert_eq!(st & MSTATUS_SD != 0, st & MSTATUS_FS == MSTATUS_FS_DIRTY);
                    assert_eq!(st & (MSTATUS_UXL | MSTATUS_SXL), MSTATUS_XLEN_FIELDS);
                    assert_eq!(c.medeleg() & !MEDELEG_WRITABLE, 0);
                    assert_eq!(c.mideleg() & !S_INTERRUPTS, 0);
                    assert_eq!(c.mie() & !ALL_INTERRUPTS, 0);
                    assert!(c.mtvec() & 3 < 2 && c.stvec() & 3 < 2);
                    assert_eq!(c.mepc() & 1, 0);
                    assert!(matches!(c.satp() >> 60, 0 | 8 | 9 | 10));
                }
            }
            c.reset();
        }
    }
}
