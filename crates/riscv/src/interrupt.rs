//! Selection of the interrupt to take next.
//!
//! An interrupt is taken when it is pending (`mip`), enabled (`mie`) and
//! globally enabled for the privilege it is destined to:
//! - not delegated (`mideleg` bit clear): goes to M-mode; taken when the hart
//!   runs below M, or in M with `mstatus.MIE`;
//! - delegated: goes to S-mode; taken when the hart runs in U, or in S with
//!   `mstatus.SIE`; never while in M.
//!
//! Interrupts for M-mode win over those for S-mode; within a mode the
//! standard order applies: MEI, MSI, MTI, SEI, SSI, STI.
//!
//! The Sstc comparator's STIP is the value last computed by
//! [`Csrs::update_stimecmp`]: the executor calls that with the current time
//! before asking (at block boundaries, and after waking from `wfi`).

use crate::csr::Csrs;
use crate::csr::fields::{MSTATUS_MIE, MSTATUS_SIE};
use crate::privilege::{Interrupt, Privilege};

/// The highest-priority interrupt among the `mip`-format bits in `set`.
fn highest_priority(set: u64) -> Option<Interrupt> {
    Interrupt::BY_PRIORITY
        .into_iter()
        .find(|i| set & i.mask() != 0)
}

/// The interrupt the hart must take now at `privilege`, if any.
pub fn pending_interrupt(csrs: &Csrs, privilege: Privilege) -> Option<Interrupt> {
    let pending = csrs.mip() & csrs.mie();
    if pending == 0 {
        return None;
    }
    let status = csrs.mstatus();
    let m_enabled = privilege < Privilege::Machine || status & MSTATUS_MIE != 0;
    let s_enabled = privilege < Privilege::Supervisor
        || (privilege == Privilege::Supervisor && status & MSTATUS_SIE != 0);
    let to_m = pending & !csrs.mideleg();
    let to_s = pending & csrs.mideleg();
    if m_enabled && to_m != 0 {
        return highest_priority(to_m);
    }
    if s_enabled && to_s != 0 {
        return highest_priority(to_s);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::CsrContext;
    use crate::csr::addr::*;
    use crate::csr::fields::*;

    const M: Privilege = Privilege::Machine;
    const S: Privilege = Privilege::Supervisor;
    const U: Privilege = Privilege::User;

    fn csrs(mstatus: u64, mie: u64, mideleg: u64, sw_mip: u64, pins: u64) -> Csrs {
        let ctx = CsrContext::default();
        let mut c = Csrs::new(0);
        c.write(MSTATUS, mstatus, M, &ctx).unwrap();
        c.write(MIE, mie, M, &ctx).unwrap();
        c.write(MIDELEG, mideleg, M, &ctx).unwrap();
        c.write(MIP, sw_mip, M, &ctx).unwrap();
        c.irq_pins().set(pins);
        c
    }

    #[test]
    fn nothing_pending_or_nothing_enabled() {
        let c = csrs(MSTATUS_MIE, ALL_INTERRUPTS, 0, 0, 0);
        assert_eq!(pending_interrupt(&c, M), None);
        let c = csrs(MSTATUS_MIE, 0, 0, MIP_SSIP, MIP_MTIP);
        assert_eq!(pending_interrupt(&c, M), None);
    }

    #[test]
    fn priority_order_within_m() {
        let all_pins = MIP_MEIP | MIP_MSIP | MIP_MTIP | MIP_SEIP;
        let c = csrs(
            MSTATUS_MIE,
            ALL_INTERRUPTS,
            0,
            MIP_SSIP | MIP_STIP,
            all_pins,
        );
        assert_eq!(pending_interrupt(&c, M), Some(Interrupt::MachineExternal));
        c.irq_pins().clear(MIP_MEIP);
        assert_eq!(pending_interrupt(&c, M), Some(Interrupt::MachineSoftware));
        c.irq_pins().clear(MIP_MSIP);
        assert_eq!(pending_interrupt(&c, M), Some(Interrupt::MachineTimer));
        c.irq_pins().clear(MIP_MTIP);
        assert_eq!(
            pending_interrupt(&c, M),
            Some(Interrupt::SupervisorExternal)
        );
        c.irq_pins().clear(MIP_SEIP);
        assert_eq!(
            pending_interrupt(&c, M),
            Some(Interrupt::SupervisorSoftware)
        );
    }

    #[test]
    fn sti_is_lowest() {
        let c = csrs(MSTATUS_MIE, MIP_STIP | MIP_SSIP, 0, MIP_STIP, 0);
        assert_eq!(pending_interrupt(&c, M), Some(Interrupt::SupervisorTimer));
        let c = csrs(MSTATUS_MIE, MIP_STIP | MIP_SSIP, 0, MIP_STIP | MIP_SSIP, 0);
        assert_eq!(
            pending_interrupt(&c, M),
            Some(Interrupt::SupervisorSoftware)
        );
    }

    #[test]
    fn m_level_global_enable_table() {
        // MTI not delegated: (privilege, MIE) -> taken?
        let table = [
            (M, false, false),
            (M, true, true),
            (S, false, true),
            (U, false, true),
        ];
        for (p, mie, taken) in table {
            let c = csrs(if mie { MSTATUS_MIE } else { 0 }, MIP_MTIP, 0, 0, MIP_MTIP);
            let want = taken.then_some(Interrupt::MachineTimer);
            assert_eq!(pending_interrupt(&c, p), want, "{p:?} MIE={mie}");
        }
    }

    #[test]
    fn s_level_global_enable_table() {
        // STI delegated: (privilege, SIE, MIE) -> taken?
        let table = [
            (M, true, true, false),
            (S, false, true, false),
            (S, true, false, true),
            (U, false, false, true),
        ];
        for (p, sie, mie, taken) in table {
            let status = if sie { MSTATUS_SIE } else { 0 } | if mie { MSTATUS_MIE } else { 0 };
            let c = csrs(status, MIP_STIP, MIP_STIP, MIP_STIP, 0);
            let want = taken.then_some(Interrupt::SupervisorTimer);
            assert_eq!(pending_interrupt(&c, p), want, "{p:?} SIE={sie} MIE={mie}");
        }
    }

    #[test]
    fn m_destined_interrupts_beat_s_destined_ones_of_higher_rank() {
        // SEI delegated and pending in U; MTI for M pending too: MTI first,
        // even though a delegated SEI alone would be taken.
        let c = csrs(0, MIP_SEIP | MIP_MTIP, MIP_SEIP, 0, MIP_SEIP | MIP_MTIP);
        assert_eq!(pending_interrupt(&c, U), Some(Interrupt::MachineTimer));
        c.irq_pins().clear(MIP_MTIP);
        assert_eq!(
            pending_interrupt(&c, U),
            Some(Interrupt::SupervisorExternal)
        );
        // In S with SIE clear the delegated SEI waits; a non-delegated one
        // would still preempt.
        assert_eq!(pending_interrupt(&c, S), None);
    }

    #[test]
    fn sstc_timer_drives_stip() {
        let ctx = CsrContext {
            time: 100,
            ..Default::default()
        };
        let mut c = csrs(0, MIP_STIP, MIP_STIP, 0, 0);
        c.write(MENVCFG, MENVCFG_STCE, M, &ctx).unwrap();
        c.write(STIMECMP, 150, M, &ctx).unwrap();
        assert_eq!(pending_interrupt(&c, U), None);
        assert_eq!(c.next_stimecmp_deadline(), Some(150));
        assert!(c.update_stimecmp(150));
        assert_eq!(pending_interrupt(&c, U), Some(Interrupt::SupervisorTimer));
        assert_eq!(c.next_stimecmp_deadline(), None);
        // Moving the comparator into the future clears STIP.
        c.write(STIMECMP, 1000, M, &ctx).unwrap();
        assert_eq!(pending_interrupt(&c, U), None);
    }
}
