//! Privilege levels and the causes of traps.
//!
//! Guest traps are values, never host errors: an [`Exception`] travels in a
//! `Result` from the CSR file, the page walk or the executor up to
//! [`crate::trap::take_trap`], which turns it into architectural state.

use std::fmt;

/// A RISC-V privilege level. The discriminants are the architectural
/// encodings used in `mstatus.MPP`, `mstatus.SPP` and CSR numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    /// U-mode (encoding 0).
    User = 0,
    /// S-mode (encoding 1).
    Supervisor = 1,
    /// M-mode (encoding 3).
    Machine = 3,
}

impl Privilege {
    /// The privilege level encoded by `bits` (the low two bits are used), or
    /// `None` for the reserved encoding 2 (there is no hypervisor mode).
    pub fn from_bits(bits: u64) -> Option<Self> {
        match bits & 3 {
            0 => Some(Self::User),
            1 => Some(Self::Supervisor),
            3 => Some(Self::Machine),
            _ => None,
        }
    }

    /// The architectural encoding (0, 1 or 3).
    pub fn bits(self) -> u64 {
        self as u64
    }

    /// The conventional one-letter name (`U`, `S`, `M`).
    pub fn letter(self) -> char {
        match self {
            Self::User => 'U',
            Self::Supervisor => 'S',
            Self::Machine => 'M',
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// A synchronous exception of RV64 (privileged spec 1.12, table 3.6),
/// without the hypervisor causes. The discriminant is the `xcause` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Exception {
    /// Instruction address misaligned (0).
    #[error("instruction address misaligned")]
    InstructionMisaligned = 0,
    /// Instruction access fault (1).
    #[error("instruction access fault")]
    InstructionAccessFault = 1,
    /// Illegal instruction (2).
    #[error("illegal instruction")]
    IllegalInstruction = 2,
    /// Breakpoint (3).
    #[error("breakpoint")]
    Breakpoint = 3,
    /// Load address misaligned (4).
    #[error("load address misaligned")]
    LoadMisaligned = 4,
    /// Load access fault (5).
    #[error("load access fault")]
    LoadAccessFault = 5,
    /// Store/AMO address misaligned (6).
    #[error("store/AMO address misaligned")]
    StoreMisaligned = 6,
    /// Store/AMO access fault (7).
    #[error("store/AMO access fault")]
    StoreAccessFault = 7,
    /// Environment call from U-mode (8).
    #[error("environment call from U-mode")]
    EcallFromU = 8,
    /// Environment call from S-mode (9).
    #[error("environment call from S-mode")]
    EcallFromS = 9,
    /// Environment call from M-mode (11).
    #[error("environment call from M-mode")]
    EcallFromM = 11,
    /// Instruction page fault (12).
    #[error("instruction page fault")]
    InstructionPageFault = 12,
    /// Load page fault (13).
    #[error("load page fault")]
    LoadPageFault = 13,
    /// Store/AMO page fault (15).
    #[error("store/AMO page fault")]
    StorePageFault = 15,
}

impl Exception {
    /// Every exception, in cause-code order.
    pub const ALL: [Exception; 14] = [
        Self::InstructionMisaligned,
        Self::InstructionAccessFault,
        Self::IllegalInstruction,
        Self::Breakpoint,
        Self::LoadMisaligned,
        Self::LoadAccessFault,
        Self::StoreMisaligned,
        Self::StoreAccessFault,
        Self::EcallFromU,
        Self::EcallFromS,
        Self::EcallFromM,
        Self::InstructionPageFault,
        Self::LoadPageFault,
        Self::StorePageFault,
    ];

    /// The exception code written to `mcause`/`scause` (interrupt bit clear).
    pub fn code(self) -> u64 {
        self as u64
    }

    /// The exception with cause code `code`, if there is one.
    pub fn from_code(code: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// The environment-call exception raised by `ecall` at `privilege`.
    pub fn ecall_from(privilege: Privilege) -> Self {
        match privilege {
            Privilege::User => Self::EcallFromU,
            Privilege::Supervisor => Self::EcallFromS,
            Privilege::Machine => Self::EcallFromM,
        }
    }
}

/// An interrupt cause (without Sscofpmf or AIA). The discriminant is the
/// `xcause` code and the bit number in `mip`/`mie`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interrupt {
    /// Supervisor software interrupt (1).
    SupervisorSoftware = 1,
    /// Machine software interrupt (3).
    MachineSoftware = 3,
    /// Supervisor timer interrupt (5).
    SupervisorTimer = 5,
    /// Machine timer interrupt (7).
    MachineTimer = 7,
    /// Supervisor external interrupt (9).
    SupervisorExternal = 9,
    /// Machine external interrupt (11).
    MachineExternal = 11,
}

impl Interrupt {
    /// All interrupts in the standard priority order, highest first:
    /// MEI, MSI, MTI, SEI, SSI, STI.
    pub const BY_PRIORITY: [Interrupt; 6] = [
        Self::MachineExternal,
        Self::MachineSoftware,
        Self::MachineTimer,
        Self::SupervisorExternal,
        Self::SupervisorSoftware,
        Self::SupervisorTimer,
    ];

    /// The interrupt code (cause value without the interrupt bit).
    pub fn code(self) -> u64 {
        self as u64
    }

    /// This interrupt's bit in `mip`/`mie`.
    pub fn mask(self) -> u64 {
        1 << self.code()
    }

    /// The interrupt with code `code`, if there is one.
    pub fn from_code(code: u64) -> Option<Self> {
        Self::BY_PRIORITY.into_iter().find(|i| i.code() == code)
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::SupervisorSoftware => "supervisor software interrupt",
            Self::MachineSoftware => "machine software interrupt",
            Self::SupervisorTimer => "supervisor timer interrupt",
            Self::MachineTimer => "machine timer interrupt",
            Self::SupervisorExternal => "supervisor external interrupt",
            Self::MachineExternal => "machine external interrupt",
        };
        f.write_str(name)
    }
}

/// Why a trap is taken: a synchronous exception or an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCause {
    /// A synchronous exception.
    Exception(Exception),
    /// An asynchronous interrupt.
    Interrupt(Interrupt),
}

/// The interrupt bit of `xcause` on RV64.
pub const CAUSE_INTERRUPT_BIT: u64 = 1 << 63;

impl TrapCause {
    /// The code without the interrupt bit.
    pub fn code(self) -> u64 {
        match self {
            Self::Exception(e) => e.code(),
            Self::Interrupt(i) => i.code(),
        }
    }

    /// Whether this is an interrupt.
    pub fn is_interrupt(self) -> bool {
        matches!(self, Self::Interrupt(_))
    }

    /// The full value written to `xcause` (bit 63 set for interrupts).
    pub fn xcause(self) -> u64 {
        match self {
            Self::Exception(e) => e.code(),
            Self::Interrupt(i) => CAUSE_INTERRUPT_BIT | i.code(),
        }
    }
}

impl From<Exception> for TrapCause {
    fn from(e: Exception) -> Self {
        Self::Exception(e)
    }
}

impl From<Interrupt> for TrapCause {
    fn from(i: Interrupt) -> Self {
        Self::Interrupt(i)
    }
}

impl fmt::Display for TrapCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exception(e) => e.fmt(f),
            Self::Interrupt(i) => i.fmt(f),
        }
    }
}

/// A synchronous exception together with the value destined for `xtval`
/// (the faulting address, the instruction bits, or 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{cause} (tval {tval:#x})")]
pub struct Trap {
    /// The exception.
    pub cause: Exception,
    /// The value for `mtval`/`stval`.
    pub tval: u64,
}

impl Trap {
    /// A trap with `cause` and `tval`.
    pub fn new(cause: Exception, tval: u64) -> Self {
        Self { cause, tval }
    }
}

/// The kind of a memory access, for permission checks and for choosing the
/// fault cause. AMOs and SC count as [`AccessType::Store`] (their faults are
/// store/AMO faults); LR is a [`AccessType::Load`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessType {
    /// Instruction fetch.
    Fetch,
    /// Data load.
    Load,
    /// Data store or AMO.
    Store,
}

impl AccessType {
    /// The page fault for this kind of access.
    pub fn page_fault(self) -> Exception {
        match self {
            Self::Fetch => Exception::InstructionPageFault,
            Self::Load => Exception::LoadPageFault,
            Self::Store => Exception::StorePageFault,
        }
    }

    /// The access fault for this kind of access.
    pub fn access_fault(self) -> Exception {
        match self {
            Self::Fetch => Exception::InstructionAccessFault,
            Self::Load => Exception::LoadAccessFault,
            Self::Store => Exception::StoreAccessFault,
        }
    }

    /// The misaligned-address exception for this kind of access.
    pub fn misaligned(self) -> Exception {
        match self {
            Self::Fetch => Exception::InstructionMisaligned,
            Self::Load => Exception::LoadMisaligned,
            Self::Store => Exception::StoreMisaligned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_codes_match_the_spec_table() {
        let expected = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15];
        for (e, code) in Exception::ALL.iter().zip(expected) {
            assert_eq!(e.code(), code, "{e:?}");
            assert_eq!(Exception::from_code(code), Some(*e));
        }
        assert_eq!(Exception::from_code(10), None);
        assert_eq!(Exception::from_code(14), None);
    }

    #[test]
    fn interrupt_codes_and_masks() {
        assert_eq!(Interrupt::SupervisorSoftware.code(), 1);
        assert_eq!(Interrupt::MachineSoftware.code(), 3);
        assert_eq!(Interrupt::SupervisorTimer.code(), 5);
        assert_eq!(Interrupt::MachineTimer.mask(), 0x80);
        assert_eq!(Interrupt::SupervisorExternal.mask(), 0x200);
        assert_eq!(Interrupt::MachineExternal.mask(), 0x800);
        assert_eq!(Interrupt::from_code(7), Some(Interrupt::MachineTimer));
        assert_eq!(Interrupt::from_code(13), None);
    }

    #[test]
    fn xcause_sets_the_interrupt_bit_only_for_interrupts() {
        let t = TrapCause::from(Interrupt::MachineTimer);
        assert_eq!(t.xcause(), (1 << 63) | 7);
        assert!(t.is_interrupt());
        let e = TrapCause::from(Exception::StorePageFault);
        assert_eq!(e.xcause(), 15);
        assert!(!e.is_interrupt());
    }

    #[test]
    fn privilege_encodings() {
        assert_eq!(Privilege::from_bits(0), Some(Privilege::User));
        assert_eq!(Privilege::from_bits(1), Some(Privilege::Supervisor));
        assert_eq!(Privilege::from_bits(2), None);
        assert_eq!(Privilege::from_bits(7), Some(Privilege::Machine));
        assert!(Privilege::User < Privilege::Supervisor);
        assert!(Privilege::Supervisor < Privilege::Machine);
        assert_eq!(
            Exception::ecall_from(Privilege::Supervisor),
            Exception::EcallFromS
        );
    }

    #[test]
    fn access_type_fault_mapping() {
        assert_eq!(
            AccessType::Fetch.page_fault(),
            Exception::InstructionPageFault
        );
        assert_eq!(AccessType::Load.access_fault(), Exception::LoadAccessFault);
        assert_eq!(AccessType::Store.misaligned(), Exception::StoreMisaligned);
        assert_eq!(
            Trap::new(Exception::LoadPageFault, 0x1000).to_string(),
            "load page fault (tval 0x1000)"
        );
    }
}
