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
    let deleg = if cause.is_interrupt() { csrs.mideleg } else { csrs.medeleg };
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
    if tvec & 3 == 1 && cause.is_interrupt() { base.wrapping_add(4 * cause.code()) } else { base }
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
    let target =
        if status & MSTATUS_SPP != 0 { Privilege::Supervisor } else { Privilege::User };
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
