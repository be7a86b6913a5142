//! The operation of a decoded instruction ([`Op`]) and the compressed form it
//! came from ([`Form`]).

/// One variant per RV64IMAC + Zicsr + Zifencei + privileged instruction.
///
/// Compressed instructions decode to the base-ISA operation they expand to
/// (`c.addi` is [`Op::Addi`]); [`Form`] remembers the compressed mnemonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The variant names are the instruction mnemonics.
pub enum Op {
    // RV32I / RV64I upper immediates and jumps.
    Lui,
    Auipc,
    Jal,
    Jalr,
    // Conditional branches.
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    // Loads.
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    // Stores.
    Sb,
    Sh,
    Sw,
    Sd,
    // Register-immediate arithmetic.
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    // Register-register arithmetic.
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    // RV64I word arithmetic.
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    // M extension.
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    // A extension, word.
    LrW,
    ScW,
    AmoswapW,
    AmoaddW,
    AmoxorW,
    AmoandW,
    AmoorW,
    AmominW,
    AmomaxW,
    AmominuW,
    AmomaxuW,
    // A extension, doubleword.
    LrD,
    ScD,
    AmoswapD,
    AmoaddD,
    AmoxorD,
    AmoandD,
    AmoorD,
    AmominD,
    AmomaxD,
    AmominuD,
    AmomaxuD,
    // Fences.
    Fence,
    FenceI,
    // Environment and privileged.
    Ecall,
    Ebreak,
    Mret,
    Sret,
    Wfi,
    SfenceVma,
    // Zicsr.
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,
}

impl Op {
    /// The base-ISA mnemonic, as the specification spells it (`"amoadd.w"`,
    /// `"sfence.vma"`), without aliases or ordering suffixes.
    pub const fn name(self) -> &'static str {
        use Op::*;
        match self {
            Lui => "lui",
            Auipc => "auipc",
            Jal => "jal",
            Jalr => "jalr",
            Beq => "beq",
            Bne => "bne",
            Blt => "blt",
            Bge => "bge",
            Bltu => "bltu",
            Bgeu => "bgeu",
            Lb => "lb",
            Lh => "lh",
            Lw => "lw",
            Ld => "ld",
            Lbu => "lbu",
            Lhu => "lhu",
            Lwu => "lwu",
            Sb => "sb",
            Sh => "sh",
            Sw => "sw",
            Sd => "sd",
            Addi => "addi",
            Slti => "slti",
            Sltiu => "sltiu",
            Xori => "xori",
            Ori => "ori",
            Andi => "andi",
            Slli => "slli",
            Srli => "srli",
            Srai => "srai",
            Add => "add",
            Sub => "sub",
            Sll => "sll",
            Slt => "slt",
            Sltu => "sltu",
            Xor => "xor",
            Srl => "srl",
            Sra => "sra",
            Or => "or",
            And => "and",
            Addiw => "addiw",
            Slliw => "slliw",
            Srliw => "srliw",
            Sraiw => "sraiw",
            Addw => "addw",
            Subw => "subw",
            Sllw => "sllw",
            Srlw => "srlw",
            Sraw => "sraw",
            Mul => "mul",
            Mulh => "mulh",
            Mulhsu => "mulhsu",
            Mulhu => "mulhu",
            Div => "div",
            Divu => "divu",
            Rem => "rem",
            Remu => "remu",
            Mulw => "mulw",
            Divw => "divw",
            Divuw => "divuw",
            Remw => "remw",
            Remuw => "remuw",
            LrW => "lr.w",
            ScW => "sc.w",
            AmoswapW => "amoswap.w",
            AmoaddW => "amoadd.w",
            AmoxorW => "amoxor.w",
            AmoandW => "amoand.w",
            AmoorW => "amoor.w",
            AmominW => "amomin.w",
            AmomaxW => "amomax.w",
            AmominuW => "amominu.w",
            AmomaxuW => "amomaxu.w",
            LrD => "lr.d",
            ScD => "sc.d",
            AmoswapD => "amoswap.d",
            AmoaddD => "amoadd.d",
            AmoxorD => "amoxor.d",
            AmoandD => "amoand.d",
            AmoorD => "amoor.d",
            AmominD => "amomin.d",
            AmomaxD => "amomax.d",
            AmominuD => "amominu.d",
            AmomaxuD => "amomaxu.d",
            Fence => "fence",
            FenceI => "fence.i",
            Ecall => "ecall",
            Ebreak => "ebreak",
            Mret => "mret",
            Sret => "sret",
            Wfi => "wfi",
            SfenceVma => "sfence.vma",
            Csrrw => "csrrw",
            Csrrs => "csrrs",
            Csrrc => "csrrc",
            Csrrwi => "csrrwi",
            Csrrsi => "csrrsi",
            Csrrci => "csrrci",
        }
    }

    /// A conditional branch (`beq` .. `bgeu`): target `pc + imm` when taken.
    pub const fn is_branch(self) -> bool {
        matches!(
            self,
            Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu
        )
    }

    /// An unconditional jump (`jal`, `jalr`).
    pub const fn is_jump(self) -> bool {
        matches!(self, Op::Jal | Op::Jalr)
    }

    /// A conditional branch or an unconditional jump: the instruction may
    /// set the pc to something other than the next instruction.
    pub const fn is_branch_or_jump(self) -> bool {
        self.is_branch() || self.is_jump()
    }

    /// A Zicsr instruction (`csrrw` .. `csrrci`). The CSR number is in
    /// `imm`; it may trap (unknown CSR, privilege, read-only) and its write
    /// may change translation or interrupt state.
    pub const fn is_csr(self) -> bool {
        matches!(
            self,
            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
        )
    }

    /// A Zicsr instruction whose source is the 5-bit `zimm` held in `rs1`
    /// (`csrrwi`, `csrrsi`, `csrrci`) rather than a register.
    pub const fn is_csr_imm(self) -> bool {
        matches!(self, Op::Csrrwi | Op::Csrrsi | Op::Csrrci)
    }

    /// A system instruction that always or conditionally traps, or changes
    /// privilege, translation or the instruction stream: `ecall`, `ebreak`,
    /// `mret`, `sret`, `wfi`, `sfence.vma`, `fence.i`. CSR accesses are
    /// reported by [`Op::is_csr`].
    pub const fn is_system(self) -> bool {
        matches!(
            self,
            Op::Ecall | Op::Ebreak | Op::Mret | Op::Sret | Op::Wfi | Op::SfenceVma | Op::FenceI
        )
    }

    /// The instruction must be the last one of a translated block: it
    /// transfers control ([`Op::is_branch_or_jump`]), is a system
    /// instruction ([`Op::is_system`]), or accesses a CSR ([`Op::is_csr`],
    /// whose write may change privilege state, translation, or enable an
    /// interrupt that must be taken before the next instruction).
    pub const fn ends_block(self) -> bool {
        self.is_branch_or_jump() || self.is_system() || self.is_csr()
    }

    /// A plain load (`lb` .. `lwu`); LR is an atomic ([`Op::is_atomic`]).
    pub const fn is_load(self) -> bool {
        matches!(
            self,
            Op::Lb | Op::Lh | Op::Lw | Op::Ld | Op::Lbu | Op::Lhu | Op::Lwu
        )
    }

    /// A plain store (`sb` .. `sd`); SC and AMOs are atomics.
    pub const fn is_store(self) -> bool {
        matches!(self, Op::Sb | Op::Sh | Op::Sw | Op::Sd)
    }

    /// An A-extension instruction: LR, SC or an AMO. Address in `rs1`,
    /// aq/rl in `imm` (bit 1 = aq, bit 0 = rl).
    pub const fn is_atomic(self) -> bool {
        matches!(
            self,
            Op::LrW
                | Op::ScW
                | Op::AmoswapW
                | Op::AmoaddW
                | Op::AmoxorW
                | Op::AmoandW
                | Op::AmoorW
                | Op::AmominW
                | Op::AmomaxW
                | Op::AmominuW
                | Op::AmomaxuW
                | Op::LrD
                | Op::ScD
                | Op::AmoswapD
                | Op::AmoaddD
                | Op::AmoxorD
                | Op::AmoandD
                | Op::AmoorD
                | Op::AmominD
                | Op::AmomaxD
                | Op::AmominuD
                | Op::AmomaxuD
        )
    }

    /// A load whose value is sign-extended to 64 bits (`lb`, `lh`, `lw`,
    /// and `ld`, where extension is moot). False for the unsigned loads and
    /// for everything that is not a load.
    pub const fn load_is_signed(self) -> bool {
        matches!(self, Op::Lb | Op::Lh | Op::Lw | Op::Ld)
    }

    /// The number of bytes a memory access of this instruction touches
    /// (loads, stores, LR/SC, AMOs), or `None` if it touches no data memory.
    pub const fn access_size(self) -> Option<u8> {
        use Op::*;
        match self {
            Lb | Lbu | Sb => Some(1),
            Lh | Lhu | Sh => Some(2),
            Lw | Lwu | Sw | LrW | ScW | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW
            | AmominW | AmomaxW | AmominuW | AmomaxuW => Some(4),
            Ld | Sd | LrD | ScD | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD
            | AmomaxD | AmominuD | AmomaxuD => Some(8),
            _ => None,
        }
    }

    /// The instruction writes `rd` (a write to `x0` is discarded by the
    /// executor). False for stores, branches, fences and the system
    /// instructions other than the CSR accesses.
    pub const fn writes_rd(self) -> bool {
        !(self.is_store()
            || self.is_branch()
            || matches!(
                self,
                Op::Fence
                    | Op::FenceI
                    | Op::Ecall
                    | Op::Ebreak
                    | Op::Mret
                    | Op::Sret
                    | Op::Wfi
                    | Op::SfenceVma
            ))
    }

    /// The instruction may raise a synchronous exception when executed:
    /// memory accesses (misaligned, access and page faults), CSR accesses
    /// (illegal CSR or privilege), `ecall`/`ebreak` (always), and
    /// `mret`/`sret`/`wfi`/`sfence.vma` (privilege, TSR, TW, TVM).
    /// Branches and jumps cannot: with the C extension every target is
    /// 2-byte aligned, and fetch faults belong to the next instruction.
    pub const fn can_trap(self) -> bool {
        self.access_size().is_some()
            || self.is_csr()
            || matches!(
                self,
                Op::Ecall | Op::Ebreak | Op::Mret | Op::Sret | Op::Wfi | Op::SfenceVma
            )
    }

    /// A shift by an immediate amount (the shamt is in `imm`).
    pub const fn is_shift_imm(self) -> bool {
        matches!(
            self,
            Op::Slli | Op::Srli | Op::Srai | Op::Slliw | Op::Srliw | Op::Sraiw
        )
    }
}

/// Which encoding an instruction came from: [`Form::Standard`] for 32-bit
/// instructions, otherwise the compressed mnemonic, so the disassembler can
/// print `c.addi` for an [`Op::Addi`] of length 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The variant names are the compressed mnemonics.
pub enum Form {
    /// A 32-bit instruction.
    Standard,
    CAddi4spn,
    CLw,
    CLd,
    CSw,
    CSd,
    CNop,
    CAddi,
    CAddiw,
    CLi,
    CAddi16sp,
    CLui,
    CSrli,
    CSrai,
    CAndi,
    CSub,
    CXor,
    COr,
    CAnd,
    CSubw,
    CAddw,
    CJ,
    CBeqz,
    CBnez,
    CSlli,
    CLwsp,
    CLdsp,
    CJr,
    CMv,
    CEbreak,
    CJalr,
    CAdd,
    CSwsp,
    CSdsp,
}

impl Form {
    /// The compressed mnemonic (`"c.addi"`), or `None` for
    /// [`Form::Standard`].
    pub const fn compressed_name(self) -> Option<&'static str> {
        use Form::*;
        Some(match self {
            Standard => return None,
            CAddi4spn => "c.addi4spn",
            CLw => "c.lw",
            CLd => "c.ld",
            CSw => "c.sw",
            CSd => "c.sd",
            CNop => "c.nop",
            CAddi => "c.addi",
            CAddiw => "c.addiw",
            CLi => "c.li",
            CAddi16sp => "c.addi16sp",
            CLui => "c.lui",
            CSrli => "c.srli",
            CSrai => "c.srai",
            CAndi => "c.andi",
            CSub => "c.sub",
            CXor => "c.xor",
            COr => "c.or",
            CAnd => "c.and",
            CSubw => "c.subw",
            CAddw => "c.addw",
            CJ => "c.j",
            CBeqz => "c.beqz",
            CBnez => "c.bnez",
            CSlli => "c.slli",
            CLwsp => "c.lwsp",
            CLdsp => "c.ldsp",
            CJr => "c.jr",
            CMv => "c.mv",
            CEbreak => "c.ebreak",
            CJalr => "c.jalr",
            CAdd => "c.add",
            CSwsp => "c.swsp",
            CSdsp => "c.sdsp",
        })
    }

    /// True for every compressed form (instruction length 2).
    pub const fn is_compressed(self) -> bool {
        !matches!(self, Form::Standard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_sizes() {
        assert_eq!(Op::Lbu.access_size(), Some(1));
        assert_eq!(Op::Sh.access_size(), Some(2));
        assert_eq!(Op::AmomaxuW.access_size(), Some(4));
        assert_eq!(Op::ScD.access_size(), Some(8));
        assert_eq!(Op::Addi.access_size(), None);
        assert_eq!(Op::Fence.access_size(), None);
    }

    #[test]
    fn classes() {
        assert!(Op::Bgeu.is_branch() && !Op::Bgeu.is_jump());
        assert!(Op::Jalr.is_branch_or_jump() && Op::Jalr.ends_block());
        assert!(Op::Csrrsi.ends_block() && Op::Csrrsi.is_csr_imm());
        assert!(Op::FenceI.ends_block() && !Op::Fence.ends_block());
        assert!(!Op::Add.ends_block());
        assert!(Op::Lwu.is_load() && !Op::Lwu.load_is_signed());
        assert!(Op::Lw.load_is_signed());
        assert!(!Op::LrW.is_load() && Op::LrW.is_atomic());
        assert!(Op::Sd.is_store() && !Op::ScD.is_store());
        assert!(Op::Sraiw.is_shift_imm());
        assert!(Op::Csrrw.writes_rd() && Op::LrD.writes_rd() && Op::Jal.writes_rd());
        assert!(!Op::Sd.writes_rd() && !Op::Bne.writes_rd() && !Op::SfenceVma.writes_rd());
        assert!(Op::Lb.can_trap() && Op::ScW.can_trap() && Op::Wfi.can_trap());
        assert!(Op::Csrrci.can_trap() && !Op::FenceI.can_trap() && !Op::Jalr.can_trap());
        assert!(!Op::Div.can_trap() && !Op::Fence.can_trap());
    }

    #[test]
    fn names() {
        assert_eq!(Op::SfenceVma.name(), "sfence.vma");
        assert_eq!(Op::AmominuD.name(), "amominu.d");
        assert_eq!(Form::CAddi16sp.compressed_name(), Some("c.addi16sp"));
        assert_eq!(Form::Standard.compressed_name(), None);
        assert!(Form::CEbreak.is_compressed() && !Form::Standard.is_compressed());
    }
}
