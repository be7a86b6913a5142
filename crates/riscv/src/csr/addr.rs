//! CSR numbers (privileged spec 1.12, tables 2.2 to 2.6) and their names.
//!
//! Bits 11:10 of a CSR number are 0b11 for read-only CSRs; bits 9:8 give
//! the lowest privilege level that may access it.

/// Floating-point accrued exceptions (F; user read/write).
pub const FFLAGS: u16 = 0x001;
/// Floating-point dynamic rounding mode (F).
pub const FRM: u16 = 0x002;
/// Floating-point control and status: `frm` in bits 7:5, `fflags` in 4:0.
pub const FCSR: u16 = 0x003;

/// Cycle counter for `rdcycle` (user, read-only).
pub const CYCLE: u16 = 0xc00;
/// Timer for `rdtime` (user, read-only).
pub const TIME: u16 = 0xc01;
/// Instructions-retired counter for `rdinstret` (user, read-only).
pub const INSTRET: u16 = 0xc02;
/// First performance-monitoring counter (`hpmcounter3`); they run to 0xc1f.
pub const HPMCOUNTER3: u16 = 0xc03;
/// Last performance-monitoring counter (`hpmcounter31`).
pub const HPMCOUNTER31: u16 = 0xc1f;

/// Supervisor status register (a restricted view of `mstatus`).
pub const SSTATUS: u16 = 0x100;
/// Supervisor interrupt-enable register (view of `mie` through `mideleg`).
pub const SIE: u16 = 0x104;
/// Supervisor trap handler base address.
pub const STVEC: u16 = 0x105;
/// Supervisor counter enable.
pub const SCOUNTEREN: u16 = 0x106;
/// Supervisor environment configuration.
pub const SENVCFG: u16 = 0x10a;
/// Scratch register for supervisor trap handlers.
pub const SSCRATCH: u16 = 0x140;
/// Supervisor exception program counter.
pub const SEPC: u16 = 0x141;
/// Supervisor trap cause.
pub const SCAUSE: u16 = 0x142;
/// Supervisor bad address or instruction.
pub const STVAL: u16 = 0x143;
/// Supervisor interrupt pending (view of `mip` through `mideleg`).
pub const SIP: u16 = 0x144;
/// Supervisor timer compare (Sstc).
pub const STIMECMP: u16 = 0x14d;
/// Supervisor address translation and protection.
pub const SATP: u16 = 0x180;

/// Vendor ID.
pub const MVENDORID: u16 = 0xf11;
/// Architecture ID.
pub const MARCHID: u16 = 0xf12;
/// Implementation ID.
pub const MIMPID: u16 = 0xf13;
/// Hardware thread ID.
pub const MHARTID: u16 = 0xf14;
/// Pointer to the configuration data structure.
pub const MCONFIGPTR: u16 = 0xf15;

/// Machine status register.
pub const MSTATUS: u16 = 0x300;
/// ISA and extensions.
pub const MISA: u16 = 0x301;
/// Machine exception delegation.
pub const MEDELEG: u16 = 0x302;
/// Machine interrupt delegation.
pub const MIDELEG: u16 = 0x303;
/// Machine interrupt-enable register.
pub const MIE: u16 = 0x304;
/// Machine trap-handler base address.
pub const MTVEC: u16 = 0x305;
/// Machine counter enable.
pub const MCOUNTEREN: u16 = 0x306;
/// Machine environment configuration.
pub const MENVCFG: u16 = 0x30a;
/// Machine counter-inhibit register.
pub const MCOUNTINHIBIT: u16 = 0x320;
/// First machine performance-monitoring event selector (`mhpmevent3`).
pub const MHPMEVENT3: u16 = 0x323;
/// Last machine performance-monitoring event selector (`mhpmevent31`).
pub const MHPMEVENT31: u16 = 0x33f;
/// Scratch register for machine trap handlers.
pub const MSCRATCH: u16 = 0x340;
/// Machine exception program counter.
pub const MEPC: u16 = 0x341;
/// Machine trap cause.
pub const MCAUSE: u16 = 0x342;
/// Machine bad address or instruction.
pub const MTVAL: u16 = 0x343;
/// Machine interrupt pending.
pub const MIP: u16 = 0x344;
/// PMP configuration for entries 0..=7 (RV64: only even pmpcfg exist).
pub const PMPCFG0: u16 = 0x3a0;
/// PMP configuration for entries 8..=15.
pub const PMPCFG2: u16 = 0x3a2;
/// PMP address register 0; `pmpaddr1..=15` follow.
pub const PMPADDR0: u16 = 0x3b0;
/// PMP address register 15.
pub const PMPADDR15: u16 = 0x3bf;

/// Machine cycle counter.
pub const MCYCLE: u16 = 0xb00;
/// Machine instructions-retired counter.
pub const MINSTRET: u16 = 0xb02;
/// First machine performance-monitoring counter (`mhpmcounter3`).
pub const MHPMCOUNTER3: u16 = 0xb03;
/// Last machine performance-monitoring counter (`mhpmcounter31`).
pub const MHPMCOUNTER31: u16 = 0xb1f;

/// Debug/trace trigger register select.
pub const TSELECT: u16 = 0x7a0;
/// First debug/trace trigger data register.
pub const TDATA1: u16 = 0x7a1;
/// Second debug/trace trigger data register.
pub const TDATA2: u16 = 0x7a2;
/// Third debug/trace trigger data register.
pub const TDATA3: u16 = 0x7a3;
/// Trigger info.
pub const TINFO: u16 = 0x7a4;

/// Whether CSR `csr` is read-only by its number (bits 11:10 == 0b11).
pub fn is_read_only(csr: u16) -> bool {
    (csr >> 10) & 3 == 3
}

/// The lowest privilege encoding that may access `csr` (bits 9:8).
pub fn min_privilege_bits(csr: u16) -> u64 {
    u64::from((csr >> 8) & 3)
}

/// The conventional name of an implemented CSR, for traces and disassembly.
pub fn name(csr: u16) -> Option<&'static str> {
    Some(match csr {
        CYCLE => "cycle",
        TIME => "time",
        INSTRET => "instret",
        SSTATUS => "sstatus",
        SIE => "sie",
        STVEC => "stvec",
        SCOUNTEREN => "scounteren",
        SENVCFG => "senvcfg",
        SSCRATCH => "sscratch",
        SEPC => "sepc",
        SCAUSE => "scause",
        STVAL => "stval",
        SIP => "sip",
        STIMECMP => "stimecmp",
        SATP => "satp",
        MVENDORID => "mvendorid",
        MARCHID => "marchid",
        MIMPID => "mimpid",
        MHARTID => "mhartid",
        MCONFIGPTR => "mconfigptr",
        MSTATUS => "mstatus",
        MISA => "misa",
        MEDELEG => "medeleg",
        MIDELEG => "mideleg",
        MIE => "mie",
        MTVEC => "mtvec",
        MCOUNTEREN => "mcounteren",
        MENVCFG => "menvcfg",
        MCOUNTINHIBIT => "mcountinhibit",
        MSCRATCH => "mscratch",
        MEPC => "mepc",
        MCAUSE => "mcause",
        MTVAL => "mtval",
        MIP => "mip",
        PMPCFG0 => "pmpcfg0",
        PMPCFG2 => "pmpcfg2",
        MCYCLE => "mcycle",
        MINSTRET => "minstret",
        TSELECT => "tselect",
        TDATA1 => "tdata1",
        TDATA2 => "tdata2",
        TDATA3 => "tdata3",
        TINFO => "tinfo",
        _ => return indexed_name(csr),
    })
}

/// Names of the numbered CSR families (`pmpaddrN`, `hpmcounterN`, ...).
fn indexed_name(csr: u16) -> Option<&'static str> {
    const PMPADDR: [&str; 16] = [
        "pmpaddr0",
        "pmpaddr1",
        "pmpaddr2",
        "pmpaddr3",
        "pmpaddr4",
        "pmpaddr5",
        "pmpaddr6",
        "pmpaddr7",
        "pmpaddr8",
        "pmpaddr9",
        "pmpaddr10",
        "pmpaddr11",
        "pmpaddr12",
        "pmpaddr13",
        "pmpaddr14",
        "pmpaddr15",
    ];
    const HPMCOUNTER: [&str; 29] = [
        "hpmcounter3",
        "hpmcounter4",
        "hpmcounter5",
        "hpmcounter6",
        "hpmcounter7",
        "hpmcounter8",
        "hpmcounter9",
        "hpmcounter10",
        "hpmcounter11",
        "hpmcounter12",
        "hpmcounter13",
        "hpmcounter14",
        "hpmcounter15",
        "hpmcounter16",
        "hpmcounter17",
        "hpmcounter18",
        "hpmcounter19",
        "hpmcounter20",
        "hpmcounter21",
        "hpmcounter22",
        "hpmcounter23",
        "hpmcounter24",
        "hpmcounter25",
        "hpmcounter26",
        "hpmcounter27",
        "hpmcounter28",
        "hpmcounter29",
        "hpmcounter30",
        "hpmcounter31",
    ];
    const MHPMCOUNTER: [&str; 29] = [
        "mhpmcounter3",
        "mhpmcounter4",
        "mhpmcounter5",
        "mhpmcounter6",
        "mhpmcounter7",
        "mhpmcounter8",
        "mhpmcounter9",
        "mhpmcounter10",
        "mhpmcounter11",
        "mhpmcounter12",
        "mhpmcounter13",
        "mhpmcounter14",
        "mhpmcounter15",
        "mhpmcounter16",
        "mhpmcounter17",
        "mhpmcounter18",
        "mhpmcounter19",
        "mhpmcounter20",
        "mhpmcounter21",
        "mhpmcounter22",
        "mhpmcounter23",
        "mhpmcounter24",
        "mhpmcounter25",
        "mhpmcounter26",
        "mhpmcounter27",
        "mhpmcounter28",
        "mhpmcounter29",
        "mhpmcounter30",
        "mhpmcounter31",
    ];
    const MHPMEVENT: [&str; 29] = [
        "mhpmevent3",
        "mhpmevent4",
        "mhpmevent5",
        "mhpmevent6",
        "mhpmevent7",
        "mhpmevent8",
        "mhpmevent9",
        "mhpmevent10",
        "mhpmevent11",
        "mhpmevent12",
        "mhpmevent13",
        "mhpmevent14",
        "mhpmevent15",
        "mhpmevent16",
        "mhpmevent17",
        "mhpmevent18",
        "mhpmevent19",
        "mhpmevent20",
        "mhpmevent21",
        "mhpmevent22",
        "mhpmevent23",
        "mhpmevent24",
        "mhpmevent25",
        "mhpmevent26",
        "mhpmevent27",
        "mhpmevent28",
        "mhpmevent29",
        "mhpmevent30",
        "mhpmevent31",
    ];
    let pick =
        |table: &'static [&'static str], first: u16| table.get(usize::from(csr - first)).copied();
    match csr {
        PMPADDR0..=PMPADDR15 => pick(&PMPADDR, PMPADDR0),
        HPMCOUNTER3..=HPMCOUNTER31 => pick(&HPMCOUNTER, HPMCOUNTER3),
        MHPMCOUNTER3..=MHPMCOUNTER31 => pick(&MHPMCOUNTER, MHPMCOUNTER3),
        MHPMEVENT3..=MHPMEVENT31 => pick(&MHPMEVENT, MHPMEVENT3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_and_privilege_bits_come_from_the_number() {
        assert!(is_read_only(CYCLE));
        assert!(is_read_only(MHARTID));
        assert!(!is_read_only(MSTATUS));
        assert_eq!(min_privilege_bits(CYCLE), 0);
        assert_eq!(min_privilege_bits(SATP), 1);
        assert_eq!(min_privilege_bits(MCYCLE), 3);
        assert_eq!(min_privilege_bits(TSELECT), 3);
    }

    #[test]
    fn names() {
        assert_eq!(name(MSTATUS), Some("mstatus"));
        assert_eq!(name(PMPADDR0 + 7), Some("pmpaddr7"));
        assert_eq!(name(HPMCOUNTER31), Some("hpmcounter31"));
        assert_eq!(name(MHPMEVENT3 + 1), Some("mhpmevent4"));
        assert_eq!(name(0x7b0), None);
    }
}
