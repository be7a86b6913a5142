//! Trap entry (`take_trap`) and return (`mret`, `sret`), plus the checks of
//! the other privileged instructions (`wfi`, `sfence.vma`).
//!
//! Which checks live here: `mret` and `sret` check the current privilege
//! and `mstatus.TSR` themselves and return an illegal-instruction exception;
//! [`check_wfi`] and [`check_sfence_vma`] apply `mstatus.TW`/`TVM`. The
//! executor raises the returned exception with `tval` = the instruction bits
//! (as QEMU does for illegal instructions).

use crate::csr::Csrs;
use crate::csr::fields::*;
use crate::privilege::{Exception, Privilege, TrapCause};

/// The privilege a trap with `cause` taken at `privilege` goes to: S-mode
/// when the cause is delegated through `medeleg`/`mideleg` and the hart is
/// not in M-mode (traps never go to a lower privilege), otherwise M-mode.
pub fn trap_target(csrs: &Csrs, privilege: Privilege, cause: TrapCause) -> Privilege {
    let deleg = if cause.is_interrupt() {
        csrs.mideleg
    } else {
        csrs.medeleg
    };
    if privilege <= Privilege::Supervisor && (deleg >> cause.code()) & 1 != 0 {
        Privilege::Supervisor
    } else {
        Privilege::Machine
    }
}

/// The handler address in `tvec` for `cause`: `base + 4 * code` for
/// interrupts in vectored mode (MODE = 1), otherwise `base`.
fn handler_address(tvec: u64, cause: TrapCause) -> u64 {
    let base = tvec & !3;
    if tvec & 3 == 1 && cause.is_interrupt() {
        base.wrapping_add(4 * cause.code())
    } else {
        base
    }
}

/// Take a trap at `pc` (the faulting instruction, or for an interrupt the
/// next instruction to run): choose M or S through delegation, write
/// `xepc`/`xcause`/`xtval`, push the interrupt-enable stack (xPIE <- xIE,
/// xIE <- 0, xPP <- privilege), switch `privilege` and return the handler
/// address. `tval` is written as given (0 for ecall and interrupts, the
/// address for address faults, the instruction bits for illegal
/// instructions, the pc for breakpoints — the executor chooses).
pub fn take_trap(
    csrs: &mut Csrs,
    privilege: &mut Privilege,
    pc: u64,
    cause: TrapCause,
    tval: u64,
) -> u64 {
    let target = trap_target(csrs, *privilege, cause);
    let status = csrs.mstatus;
    if target == Privilege::Supervisor {
        let sie = status & MSTATUS_SIE != 0;
        let mut s = status & !(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
        if sie {
            s |= MSTATUS_SPIE;
        }
        if *privilege == Privilege::Supervisor {
            s |= MSTATUS_SPP;
        }
        csrs.mstatus = s;
        csrs.sepc = pc & !1;
        csrs.scause = cause.xcause();
        csrs.stval = tval;
        *privilege = Privilege::Supervisor;
        handler_address(csrs.stvec, cause)
    } else {
        let mie = status & MSTATUS_MIE != 0;
        let mut s = status & !(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
        if mie {
            s |= MSTATUS_MPIE;
        }
        s |= privilege.bits() << MSTATUS_MPP_SHIFT;
        csrs.mstatus = s;
        csrs.mepc = pc & !1;
        csrs.mcause = cause.xcause();
        csrs.mtval = tval;
        *privilege = Privilege::Machine;
        handler_address(csrs.mtvec, cause)
    }
}

/// `mret`: illegal below M-mode. Otherwise MIE <- MPIE, MPIE <- 1,
/// privilege <- MPP, MPP <- U, and MPRV <- 0 when the new privilege is
/// below M (priv 1.12). Returns `mepc`.
pub fn mret(csrs: &mut Csrs, privilege: &mut Privilege) -> Result<u64, Exception> {
    if *privilege != Privilege::Machine {
        return Err(Exception::IllegalInstruction);
    }
    let status = csrs.mstatus;
    let target = csrs.mpp();
    let mut s = status & !(MSTATUS_MIE | MSTATUS_MPP);
    if status & MSTATUS_MPIE != 0 {
        s |= MSTATUS_MIE;
    }
    s |= MSTATUS_MPIE;
    if target != Privilege::Machine {
        s &= !MSTATUS_MPRV;
    }
    csrs.mstatus = s;
    *privilege = target;
    Ok(csrs.mepc)
}

/// `sret`: illegal in U-mode, and in S-mode when `mstatus.TSR` is set.
/// Otherwise SIE <- SPIE, SPIE <- 1, privilege <- SPP, SPP <- U, MPRV <- 0
/// (the new privilege is always below M). Returns `sepc`.
pub fn sret(csrs: &mut Csrs, privilege: &mut Privilege) -> Result<u64, Exception> {
    match *privilege {
        Privilege::User => return Err(Exception::IllegalInstruction),
        Privilege::Supervisor if csrs.mstatus & MSTATUS_TSR != 0 => {
            return Err(Exception::IllegalInstruction);
        }
        _ => {}
    }
    let status = csrs.mstatus;
    let target = if status & MSTATUS_SPP != 0 {
        Privilege::Supervisor
    } else {
        Privilege::User
    };
    let mut s = status & !(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
    if status & MSTATUS_SPIE != 0 {
        s |= MSTATUS_SIE;
    }
    s |= MSTATUS_SPIE;
    csrs.mstatus = s;
    *privilege = target;
    Ok(csrs.sepc)
}

/// Whether `wfi` may execute at `privilege` (QEMU's rule with S-mode
/// present): always in M-mode; in S-mode unless `mstatus.TW`; never in
/// U-mode.
pub fn check_wfi(csrs: &Csrs, privilege: Privilege) -> Result<(), Exception> {
    match privilege {
        Privilege::Machine => Ok(()),
        Privilege::Supervisor if csrs.mstatus & MSTATUS_TW == 0 => Ok(()),
        _ => Err(Exception::IllegalInstruction),
    }
}

/// Whether `sfence.vma` may execute at `privilege`: illegal in U-mode, and
/// in S-mode when `mstatus.TVM` is set.
pub fn check_sfence_vma(csrs: &Csrs, privilege: Privilege) -> Result<(), Exception> {
    match privilege {
        Privilege::Machine => Ok(()),
        Privilege::Supervisor if csrs.mstatus & MSTATUS_TVM == 0 => Ok(()),
        _ => Err(Exception::IllegalInstruction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::CsrContext;
    use crate::csr::addr::*;
    use crate::privilege::Interrupt;

    const M: Privilege = Privilege::Machine;
    const S: Privilege = Privilege::Supervisor;
    const U: Privilege = Privilege::User;
    const CTX: CsrContext = CsrContext {
        instret: 0,
        cycle: 0,
        time: 0,
    };

    fn setup(medeleg: u64, mideleg: u64) -> Csrs {
        let mut c = Csrs::new(0);
        c.write(MTVEC, 0x8000_0000, M, &CTX).unwrap();
        c.write(STVEC, 0x8020_0000, M, &CTX).unwrap();
        c.write(MEDELEG, medeleg, M, &CTX).unwrap();
        c.write(MIDELEG, mideleg, M, &CTX).unwrap();
        c
    }

    #[test]
    fn undelegated_exception_goes_to_m() {
        let mut c = setup(0, 0);
        c.write(MSTATUS, MSTATUS_MIE, M, &CTX).unwrap();
        let mut p = S;
        let cause = TrapCause::Exception(Exception::LoadPageFault);
        let pc = take_trap(&mut c, &mut p, 0x1234, cause, 0xdead);
        assert_eq!((pc, p), (0x8000_0000, M));
        assert_eq!((c.mepc(), c.mcause(), c.mtval()), (0x1234, 13, 0xdead));
        assert_eq!(c.mpp(), S);
        let st = c.mstatus();
        assert_eq!(st & MSTATUS_MIE, 0);
        assert_ne!(st & MSTATUS_MPIE, 0);
    }

    #[test]
    fn delegated_exception_goes_to_s_from_u_and_s_but_not_m() {
        let deleg = 1 << Exception::EcallFromU.code() | 1 << Exception::Breakpoint.code();
        let mut c = setup(deleg, 0);
        c.write(MSTATUS, MSTATUS_SIE, M, &CTX).unwrap();
        let mut p = U;
        let pc = take_trap(&mut c, &mut p, 0x400, Exception::EcallFromU.into(), 0);
        assert_eq!((pc, p), (0x8020_0000, S));
        assert_eq!((c.sepc(), c.scause(), c.stval()), (0x400, 8, 0));
        let st = c.mstatus();
        assert_eq!(st & (MSTATUS_SPP | MSTATUS_SIE), 0, "SPP = U, SIE cleared");
        assert_ne!(st & MSTATUS_SPIE, 0);
        // Breakpoint in S: delegated, SPP = S.
        let pc = take_trap(&mut c, &mut p, 0x500, Exception::Breakpoint.into(), 0x500);
        assert_eq!((pc, p), (0x8020_0000, S));
        assert_ne!(c.mstatus() & MSTATUS_SPP, 0);
        assert_eq!(c.mstatus() & MSTATUS_SPIE, 0, "SIE was already 0");
        // Breakpoint in M: never goes down to S.
        let mut p = M;
        let pc = take_trap(&mut c, &mut p, 0x600, Exception::Breakpoint.into(), 0x600);
        assert_eq!((pc, p), (0x8000_0000, M));
        assert_eq!(c.mpp(), M);
        assert_eq!(c.mcause(), 3);
    }

    #[test]
    fn ecall_from_m_cannot_be_delegated() {
        let mut c = setup(u64::MAX, 0);
        let mut p = S;
        take_trap(&mut c, &mut p, 0, Exception::EcallFromS.into(), 0);
        assert_eq!(p, S);
        assert_eq!(trap_target(&c, M, Exception::EcallFromM.into()), M);
        assert_eq!(c.medeleg() & (1 << 11), 0);
    }

    #[test]
    fn interrupt_delegation_and_vectored_mode() {
        let mut c = setup(0, MIP_STIP);
        c.write(MTVEC, 0x8000_0001, M, &CTX).unwrap();
        c.write(STVEC, 0x8020_0001, M, &CTX).unwrap();
        let mut p = U;
        let pc = take_trap(&mut c, &mut p, 0x100, Interrupt::SupervisorTimer.into(), 0);
        assert_eq!((pc, p), (0x8020_0000 + 4 * 5, S));
        assert_eq!(c.scause(), (1 << 63) | 5);
        // Undelegated interrupt: M, vectored.
        let pc = take_trap(&mut c, &mut p, 0x200, Interrupt::MachineExternal.into(), 0);
        assert_eq!((pc, p), (0x8000_0000 + 4 * 11, M));
        assert_eq!(c.mcause(), (1 << 63) | 11);
        // Exceptions ignore vectoring.
        let pc = take_trap(
            &mut c,
            &mut p,
            0x300,
            Exception::IllegalInstruction.into(),
            0x13,
        );
        assert_eq!(pc, 0x8000_0000);
        // Delegated interrupt taken while in M goes to M.
        let mut p = M;
        let pc = take_trap(&mut c, &mut p, 0x300, Interrupt::SupervisorTimer.into(), 0);
        assert_eq!((pc, p), (0x8000_0000 + 4 * 5, M));
    }

    #[test]
    fn mret_pops_the_stack_and_clears_mprv() {
        let mut c = setup(0, 0);
        c.write(
            MSTATUS,
            MSTATUS_MPIE | MSTATUS_MPRV | (1 << MSTATUS_MPP_SHIFT),
            M,
            &CTX,
        )
        .unwrap();
        c.write(MEPC, 0x8040_0000, M, &CTX).unwrap();
        let mut p = M;
        assert_eq!(mret(&mut c, &mut p), Ok(0x8040_0000));
        assert_eq!(p, S);
        let st = c.mstatus();
        assert_ne!(st & MSTATUS_MIE, 0);
        assert_ne!(st & MSTATUS_MPIE, 0);
        assert_eq!(
            st & (MSTATUS_MPP | MSTATUS_MPRV),
            0,
            "MPP = U, MPRV cleared"
        );
        // mret to M keeps MPRV.
        let mut c = setup(0, 0);
        c.write(MSTATUS, MSTATUS_MPRV | MSTATUS_MPP, M, &CTX)
            .unwrap();
        let mut p = M;
        mret(&mut c, &mut p).unwrap();
        assert_eq!(p, M);
        assert_ne!(c.mstatus() & MSTATUS_MPRV, 0);
        assert_eq!(c.mstatus() & MSTATUS_MIE, 0, "MPIE was 0");
        // Below M: illegal.
        for mut p in [S, U] {
            assert_eq!(mret(&mut c, &mut p), Err(Exception::IllegalInstruction));
        }
    }

    #[test]
    fn sret_pops_the_stack_and_honours_tsr() {
        let mut c = setup(0, 0);
        c.write(MSTATUS, MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV, M, &CTX)
            .unwrap();
        c.write(SEPC, 0x1000, M, &CTX).unwrap();
        let mut p = S;
        assert_eq!(sret(&mut c, &mut p), Ok(0x1000));
        assert_eq!(p, S);
        let st = c.mstatus();
        assert_ne!(st & MSTATUS_SIE, 0);
        assert_ne!(st & MSTATUS_SPIE, 0);
        assert_eq!(st & (MSTATUS_SPP | MSTATUS_MPRV), 0);
        assert_eq!(sret(&mut c, &mut p), Ok(0x1000));
        assert_eq!(p, U, "SPP was reset to U");
        let mut u = U;
        assert_eq!(sret(&mut c, &mut u), Err(Exception::IllegalInstruction));
        c.write(MSTATUS, MSTATUS_TSR, M, &CTX).unwrap();
        let mut s = S;
        assert_eq!(sret(&mut c, &mut s), Err(Exception::IllegalInstruction));
        let mut m = M;
        assert_eq!(sret(&mut c, &mut m), Ok(0x1000), "TSR does not bind M");
        assert_eq!(m, U);
    }

    #[test]
    fn trap_then_return_round_trip() {
        let mut c = setup(1 << 8, 0);
        c.write(MSTATUS, MSTATUS_SIE, M, &CTX).unwrap();
        let mut p = U;
        take_trap(&mut c, &mut p, 0x4000, Exception::EcallFromU.into(), 0);
        assert_eq!(c.mstatus() & MSTATUS_SIE, 0);
        let pc = sret(&mut c, &mut p).unwrap();
        assert_eq!((pc, p), (0x4000, U));
        assert_ne!(c.mstatus() & MSTATUS_SIE, 0);
    }

    #[test]
    fn wfi_and_sfence_checks() {
        let mut c = setup(0, 0);
        assert_eq!(check_wfi(&c, M), Ok(()));
        assert_eq!(check_wfi(&c, S), Ok(()));
        assert_eq!(check_wfi(&c, U), Err(Exception::IllegalInstruction));
        assert_eq!(check_sfence_vma(&c, S), Ok(()));
        assert_eq!(check_sfence_vma(&c, U), Err(Exception::IllegalInstruction));
        c.write(MSTATUS, MSTATUS_TW | MSTATUS_TVM, M, &CTX).unwrap();
        assert_eq!(check_wfi(&c, M), Ok(()));
        assert_eq!(check_wfi(&c, S), Err(Exception::IllegalInstruction));
        assert_eq!(check_sfence_vma(&c, S), Err(Exception::IllegalInstruction));
        assert_eq!(check_sfence_vma(&c, M), Ok(()));
    }
}
