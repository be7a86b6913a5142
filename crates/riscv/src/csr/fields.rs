//! Bit fields of `mstatus`, `mip`/`mie`, `satp`, `menvcfg` and `misa`, and
//! the masks that say which of them software may write.

/// `mstatus.SIE`: supervisor interrupt enable.
pub const MSTATUS_SIE: u64 = 1 << 1;
/// `mstatus.MIE`: machine interrupt enable.
pub const MSTATUS_MIE: u64 = 1 << 3;
/// `mstatus.SPIE`: SIE before the last trap into S-mode.
pub const MSTATUS_SPIE: u64 = 1 << 5;
/// `mstatus.UBE`: U-mode big-endian (read-only zero here).
pub const MSTATUS_UBE: u64 = 1 << 6;
/// `mstatus.MPIE`: MIE before the last trap into M-mode.
pub const MSTATUS_MPIE: u64 = 1 << 7;
/// `mstatus.SPP`: privilege before the last trap into S-mode (1 bit).
pub const MSTATUS_SPP: u64 = 1 << 8;
/// `mstatus.VS`: vector state (read-only zero: no V).
pub const MSTATUS_VS: u64 = 3 << 9;
/// Shift of `mstatus.MPP`.
pub const MSTATUS_MPP_SHIFT: u32 = 11;
/// `mstatus.MPP`: privilege before the last trap into M-mode (2 bits).
pub const MSTATUS_MPP: u64 = 3 << MSTATUS_MPP_SHIFT;
/// `mstatus.FS`: floating-point state, Off (0), Initial (1), Clean (2) or
/// Dirty (3); writable when the hart has F, read-only zero otherwise.
pub const MSTATUS_FS: u64 = 3 << 13;
/// `mstatus.FS` = Dirty.
pub const MSTATUS_FS_DIRTY: u64 = 3 << 13;
/// `mstatus.XS`: extension state (read-only zero).
pub const MSTATUS_XS: u64 = 3 << 15;
/// `mstatus.MPRV`: loads and stores use the privilege in MPP.
pub const MSTATUS_MPRV: u64 = 1 << 17;
/// `mstatus.SUM`: S-mode may load/store U pages.
pub const MSTATUS_SUM: u64 = 1 << 18;
/// `mstatus.MXR`: loads from executable pages succeed.
pub const MSTATUS_MXR: u64 = 1 << 19;
/// `mstatus.TVM`: trap S-mode `satp` accesses and `sfence.vma`.
pub const MSTATUS_TVM: u64 = 1 << 20;
/// `mstatus.TW`: trap `wfi` below M-mode.
pub const MSTATUS_TW: u64 = 1 << 21;
/// `mstatus.TSR`: trap `sret` in S-mode.
pub const MSTATUS_TSR: u64 = 1 << 22;
/// `mstatus.UXL`: U-mode XLEN (read-only 2 = 64 bits).
pub const MSTATUS_UXL: u64 = 3 << 32;
/// `mstatus.SXL`: S-mode XLEN (read-only 2 = 64 bits).
pub const MSTATUS_SXL: u64 = 3 << 34;
/// `mstatus.SD`: some dirty state (read-only: set when FS is Dirty).
pub const MSTATUS_SD: u64 = 1 << 63;

/// The fixed XLEN fields: UXL = SXL = 2 (64-bit).
pub const MSTATUS_XLEN_FIELDS: u64 = (2 << 32) | (2 << 34);

/// Bits of `mstatus` that M-mode may write. MPP is further legalised (WARL).
pub const MSTATUS_WRITABLE: u64 = MSTATUS_SIE
    | MSTATUS_MIE
    | MSTATUS_SPIE
    | MSTATUS_MPIE
    | MSTATUS_SPP
    | MSTATUS_MPP
    | MSTATUS_MPRV
    | MSTATUS_SUM
    | MSTATUS_MXR
    | MSTATUS_TVM
    | MSTATUS_TW
    | MSTATUS_TSR;

/// Bits of `mstatus` visible through `sstatus`.
pub const SSTATUS_VISIBLE: u64 = MSTATUS_SIE
    | MSTATUS_SPIE
    | MSTATUS_UBE
    | MSTATUS_SPP
    | MSTATUS_VS
    | MSTATUS_FS
    | MSTATUS_XS
    | MSTATUS_SUM
    | MSTATUS_MXR
    | MSTATUS_UXL
    | MSTATUS_SD;

/// Bits of `mstatus` writable through `sstatus`.
pub const SSTATUS_WRITABLE: u64 =
    MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;

/// `mstatus` bits whose change alters address translation.
pub const MSTATUS_TRANSLATION_BITS: u64 = MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR;

/// `mip.SSIP`.
pub const MIP_SSIP: u64 = 1 << 1;
/// `mip.MSIP`.
pub const MIP_MSIP: u64 = 1 << 3;
/// `mip.STIP`.
pub const MIP_STIP: u64 = 1 << 5;
/// `mip.MTIP`.
pub const MIP_MTIP: u64 = 1 << 7;
/// `mip.SEIP`.
pub const MIP_SEIP: u64 = 1 << 9;
/// `mip.MEIP`.
pub const MIP_MEIP: u64 = 1 << 11;

/// The supervisor-level interrupts: the only delegable ones.
pub const S_INTERRUPTS: u64 = MIP_SSIP | MIP_STIP | MIP_SEIP;
/// The machine-level interrupts.
pub const M_INTERRUPTS: u64 = MIP_MSIP | MIP_MTIP | MIP_MEIP;
/// Every implemented interrupt bit (also the writable bits of `mie`).
pub const ALL_INTERRUPTS: u64 = S_INTERRUPTS | M_INTERRUPTS;
/// The `mip` bits driven from outside the hart ([`super::HartIrqPins`]).
pub const PIN_INTERRUPTS: u64 = MIP_MSIP | MIP_MTIP | MIP_MEIP | MIP_SEIP;

/// Delegable exceptions: every implemented cause except ecall from M
/// (bit 11 is read-only zero) — causes 0-9, 12, 13 and 15.
pub const MEDELEG_WRITABLE: u64 = 0b1011_0011_1111_1111;

/// `satp.MODE` shift (bits 63:60).
pub const SATP_MODE_SHIFT: u32 = 60;
/// `satp.MODE` value for bare (no translation).
pub const SATP_MODE_BARE: u64 = 0;
/// `satp.MODE` value for Sv39.
pub const SATP_MODE_SV39: u64 = 8;
/// `satp.MODE` value for Sv48.
pub const SATP_MODE_SV48: u64 = 9;
/// `satp.MODE` value for Sv57.
pub const SATP_MODE_SV57: u64 = 10;
/// `satp.ASID` (16 bits implemented: 59:44).
pub const SATP_ASID: u64 = 0xffff << 44;
/// `satp.PPN` (bits 43:0).
pub const SATP_PPN: u64 = (1 << 44) - 1;

/// `menvcfg.FIOM` / `senvcfg.FIOM`: fence of I/O implies memory.
pub const ENVCFG_FIOM: u64 = 1;
/// `menvcfg.PBMTE`: Svpbmt's PBMT field enabled (writable with Svpbmt).
pub const MENVCFG_PBMTE: u64 = 1 << 62;
/// `menvcfg.STCE`: Sstc `stimecmp` enabled.
pub const MENVCFG_STCE: u64 = 1 << 63;
/// `menvcfg.CBIE`/`senvcfg.CBIE` (2 bits): what `cbo.inval` may do below
/// this level: 00 illegal, 01 flush, 11 invalidate (10 is reserved and
/// reads back as 00).
pub const ENVCFG_CBIE: u64 = 3 << 4;
/// `menvcfg.CBCFE`/`senvcfg.CBCFE`: `cbo.clean` and `cbo.flush` allowed.
pub const ENVCFG_CBCFE: u64 = 1 << 6;
/// `menvcfg.CBZE`/`senvcfg.CBZE`: `cbo.zero` allowed.
pub const ENVCFG_CBZE: u64 = 1 << 7;
/// Writable bits of `menvcfg`: FIOM, the Zicbo* enables and STCE (no
/// Svpbmt or Svadu).
pub const MENVCFG_WRITABLE: u64 =
    ENVCFG_FIOM | ENVCFG_CBIE | ENVCFG_CBCFE | ENVCFG_CBZE | MENVCFG_STCE;
/// Writable bits of `senvcfg`: FIOM and the Zicbo* enables.
pub const SENVCFG_WRITABLE: u64 = ENVCFG_FIOM | ENVCFG_CBIE | ENVCFG_CBCFE | ENVCFG_CBZE;

/// `mcounteren`/`scounteren`/`mcountinhibit` bit of the cycle counter.
pub const COUNTER_CY: u64 = 1 << 0;
/// `mcounteren`/`scounteren` bit of the time counter.
pub const COUNTER_TM: u64 = 1 << 1;
/// `mcounteren`/`scounteren`/`mcountinhibit` bit of instret.
pub const COUNTER_IR: u64 = 1 << 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medeleg_excludes_reserved_and_m_ecall() {
        for code in [10u32, 11, 14, 16] {
            assert_eq!(MEDELEG_WRITABLE & (1 << code), 0, "cause {code}");
        }
        for code in [0u32, 2, 8, 9, 12, 13, 15] {
            assert_ne!(MEDELEG_WRITABLE & (1 << code), 0, "cause {code}");
        }
    }
}
