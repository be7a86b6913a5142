//! Sstc, interrupt delegation and PMP at sub-page granularity.

use super::asm::*;
use super::*;
use crate::csr::addr::*;
use crate::csr::fields::{MIP_SSIP, MIP_STIP, MSTATUS_MIE};
use crate::privilege::{Exception, Privilege};

const STCE: u64 = 1 << 63;

#[test]
fn sstc_timer_fires_at_its_virtual_time() {
    let mut rig = Rig::new();
    rig.set_csr(MENVCFG, STCE);
    rig.set_csr(MIE, MIP_STIP);
    rig.set_csr(MSTATUS, MSTATUS_MIE);
    // stimecmp = 50 ticks = 500 instructions at 10 instructions per tick.
    rig.set_csr(STIMECMP, 50);
    rig.program(&[addi(1, 1, 1), jal(0, -4)]);
    assert_eq!(rig.cpu.next_timer_deadline(), Some(50));
    rig.run(10_000);
    assert_eq!(rig.csr(MCAUSE), (1 << 63) | 5);
    assert_eq!(rig.cpu.stats().interrupts, 1);
    // Taken as soon as time reached 50: after 500 instructions (x1 counts
    // every other one).
    assert_eq!(rig.x(1), 250);
    assert_eq!(rig.cpu.next_timer_deadline(), None, "fired");
}

#[test]
fn wfi_with_an_armed_sstc_timer_wakes_after_the_clock_skips_ahead() {
    let mut rig = Rig::new();
    rig.set_csr(MENVCFG, STCE);
    rig.set_csr(MIE, MIP_STIP);
    rig.set_csr(STIMECMP, 1_000);
    rig.program(&[WFI, addi(5, 0, 1), SPIN]);
    assert_eq!(rig.run(100), RunExit::WaitingForInterrupt);
    let deadline = rig.cpu.next_timer_deadline().unwrap();
    assert_eq!(deadline, 1_000);
    rig.clock.advance_to_tick(deadline);
    assert_eq!(rig.run(10), RunExit::BudgetExhausted);
    assert_eq!(
        rig.x(5),
        1,
        "woke up (MIE clear: no trap, execution continues)"
    );
}

fn allow_all_pmp(rig: &mut Rig, entry: u16) {
    rig.set_csr(PMPADDR0 + entry, u64::MAX >> 10);
    let cfg = rig.csr(PMPCFG0) | 0x1f << (8 * entry);
    rig.set_csr(PMPCFG0, cfg);
}

#[test]
fn delegated_interrupt_goes_to_supervisor_mode() {
    let mut rig = Rig::new();
    allow_all_pmp(&mut rig, 0);
    let s_handler = RAM + 0x3000;
    rig.load(s_handler, &[csr(2, 20, u32::from(SCAUSE), 0), SPIN]);
    rig.set_csr(STVEC, s_handler);
    rig.set_csr(MIDELEG, MIP_SSIP);
    rig.set_csr(MIE, MIP_SSIP);
    rig.set_csr(MSTATUS, 1 << 11); // MPP = S, SIE clear
    rig.set_csr(MEPC, RAM + 0x100);
    rig.program(&[MRET]);
    // S-mode: set SIE, then raise SSIP through sip.
    rig.load(
        RAM + 0x100,
        &[
            csr(6, 0, u32::from(SSTATUS), 2),
            csr(6, 0, u32::from(SIP), 2),
            addi(9, 0, 1),
            SPIN,
        ],
    );
    rig.run(20);
    assert_eq!(rig.x(9), 0, "taken right after the csrs that raised it");
    assert_eq!(rig.x(20), (1 << 63) | 1);
    assert_eq!(rig.cpu.hart().privilege(), Privilege::Supervisor);
    assert_eq!(rig.csr(SEPC), RAM + 0x108);
}

#[test]
fn pmp_region_smaller_than_a_page_is_checked_per_access() {
    let mut rig = Rig::new();
    let data = RAM + 0x6000;
    // Entry 0: 16 bytes at `data`, no permissions; entry 1: everything.
    rig.set_csr(PMPADDR0, (data >> 2) | 1);
    rig.set_csr(PMPADDR0 + 1, u64::MAX >> 10);
    rig.set_csr(PMPCFG0, 0x18 | (0x1f << 8));
    rig.set_csr(MEPC, RAM + 0x100);
    rig.program(&[MRET]);
    rig.load(
        RAM + 0x100,
        &[
            load(3, 10, 1, 16),
            load(3, 11, 1, 24),
            load(3, 12, 1, 8),
            SPIN,
        ],
    );
    rig.write_u64(data + 16, 0x16);
    rig.write_u64(data + 24, 0x24);
    rig.cpu.set_xreg(1, data);
    rig.run(20);
    assert_eq!(rig.x(10), 0x16);
    assert_eq!(rig.x(11), 0x24);
    assert_eq!(rig.csr(MCAUSE), Exception::LoadAccessFault.code());
    assert_eq!(rig.csr(MTVAL), data + 8);
    assert_eq!(rig.csr(MEPC), RAM + 0x108);
}
