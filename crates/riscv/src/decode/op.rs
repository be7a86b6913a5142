//! The operation of a decoded instruction ([`Op`]) and the compressed form it
//! came from ([`Form`]).

/// Defines [`Op`] and [`Op::name`] from one list of `Variant = "mnemonic"`.
macro_rules! ops {
    ($($variant:ident = $name:literal,)*) => {
        /// One variant per instruction the decoder knows: RV64IMAFDC, Zfh,
        /// the bit-manipulation extensions (Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx),
        /// Zicond, Zicbom/Zicboz, Zicsr, Zifencei and the privileged
        /// instructions. Which of them a hart executes is its ISA's choice
        /// ([`crate::isa::Isa::allows`]).
        ///
        /// Compressed instructions decode to the base-ISA operation they
        /// expand to (`c.addi` is [`Op::Addi`]); [`Form`] remembers the
        /// compressed mnemonic.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)] // The variant names are the instruction mnemonics.
        pub enum Op {
            $($variant,)*
        }

        impl Op {
            /// The base-ISA mnemonic, as the specification spells it
            /// (`"amoadd.w"`, `"fcvt.w.s"`), without aliases or ordering
            /// suffixes.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Op::$variant => $name,)*
                }
            }
        }
    };
}

ops! {
    // RV32I / RV64I upper immediates and jumps.
    Lui = "lui",
    Auipc = "auipc",
    Jal = "jal",
    Jalr = "jalr",
    // Conditional branches.
    Beq = "beq",
    Bne = "bne",
    Blt = "blt",
    Bge = "bge",
    Bltu = "bltu",
    Bgeu = "bgeu",
    // Loads.
    Lb = "lb",
    Lh = "lh",
    Lw = "lw",
    Ld = "ld",
    Lbu = "lbu",
    Lhu = "lhu",
    Lwu = "lwu",
    // Stores.
    Sb = "sb",
    Sh = "sh",
    Sw = "sw",
    Sd = "sd",
    // Register-immediate arithmetic.
    Addi = "addi",
    Slti = "slti",
    Sltiu = "sltiu",
    Xori = "xori",
    Ori = "ori",
    Andi = "andi",
    Slli = "slli",
    Srli = "srli",
    Srai = "srai",
    // Register-register arithmetic.
    Add = "add",
    Sub = "sub",
    Sll = "sll",
    Slt = "slt",
    Sltu = "sltu",
    Xor = "xor",
    Srl = "srl",
    Sra = "sra",
    Or = "or",
    And = "and",
    // RV64I word arithmetic.
    Addiw = "addiw",
    Slliw = "slliw",
    Srliw = "srliw",
    Sraiw = "sraiw",
    Addw = "addw",
    Subw = "subw",
    Sllw = "sllw",
    Srlw = "srlw",
    Sraw = "sraw",
    // M extension.
    Mul = "mul",
    Mulh = "mulh",
    Mulhsu = "mulhsu",
    Mulhu = "mulhu",
    Div = "div",
    Divu = "divu",
    Rem = "rem",
    Remu = "remu",
    Mulw = "mulw",
    Divw = "divw",
    Divuw = "divuw",
    Remw = "remw",
    Remuw = "remuw",
    // A extension, word.
    LrW = "lr.w",
    ScW = "sc.w",
    AmoswapW = "amoswap.w",
    AmoaddW = "amoadd.w",
    AmoxorW = "amoxor.w",
    AmoandW = "amoand.w",
    AmoorW = "amoor.w",
    AmominW = "amomin.w",
    AmomaxW = "amomax.w",
    AmominuW = "amominu.w",
    AmomaxuW = "amomaxu.w",
    // A extension, doubleword.
    LrD = "lr.d",
    ScD = "sc.d",
    AmoswapD = "amoswap.d",
    AmoaddD = "amoadd.d",
    AmoxorD = "amoxor.d",
    AmoandD = "amoand.d",
    AmoorD = "amoor.d",
    AmominD = "amomin.d",
    AmomaxD = "amomax.d",
    AmominuD = "amominu.d",
    AmomaxuD = "amomaxu.d",
    // Fences.
    Fence = "fence",
    FenceI = "fence.i",
    // Environment and privileged.
    Ecall = "ecall",
    Ebreak = "ebreak",
    Mret = "mret",
    Sret = "sret",
    Wfi = "wfi",
    SfenceVma = "sfence.vma",
    // Zicsr.
    Csrrw = "csrrw",
    Csrrs = "csrrs",
    Csrrc = "csrrc",
    Csrrwi = "csrrwi",
    Csrrsi = "csrrsi",
    Csrrci = "csrrci",
    // F.
    Flw = "flw",
    Fsw = "fsw",
    FmaddS = "fmadd.s",
    FmsubS = "fmsub.s",
    FnmsubS = "fnmsub.s",
    FnmaddS = "fnmadd.s",
    FaddS = "fadd.s",
    FsubS = "fsub.s",
    FmulS = "fmul.s",
    FdivS = "fdiv.s",
    FsqrtS = "fsqrt.s",
    FsgnjS = "fsgnj.s",
    FsgnjnS = "fsgnjn.s",
    FsgnjxS = "fsgnjx.s",
    FminS = "fmin.s",
    FmaxS = "fmax.s",
    FeqS = "feq.s",
    FltS = "flt.s",
    FleS = "fle.s",
    FclassS = "fclass.s",
    FcvtWS = "fcvt.w.s",
    FcvtWuS = "fcvt.wu.s",
    FcvtLS = "fcvt.l.s",
    FcvtLuS = "fcvt.lu.s",
    FcvtSW = "fcvt.s.w",
    FcvtSWu = "fcvt.s.wu",
    FcvtSL = "fcvt.s.l",
    FcvtSLu = "fcvt.s.lu",
    FmvXS = "fmv.x.w",
    FmvSX = "fmv.w.x",
    // D.
    Fld = "fld",
    Fsd = "fsd",
    FmaddD = "fmadd.d",
    FmsubD = "fmsub.d",
    FnmsubD = "fnmsub.d",
    FnmaddD = "fnmadd.d",
    FaddD = "fadd.d",
    FsubD = "fsub.d",
    FmulD = "fmul.d",
    FdivD = "fdiv.d",
    FsqrtD = "fsqrt.d",
    FsgnjD = "fsgnj.d",
    FsgnjnD = "fsgnjn.d",
    FsgnjxD = "fsgnjx.d",
    FminD = "fmin.d",
    FmaxD = "fmax.d",
    FeqD = "feq.d",
    FltD = "flt.d",
    FleD = "fle.d",
    FclassD = "fclass.d",
    FcvtWD = "fcvt.w.d",
    FcvtWuD = "fcvt.wu.d",
    FcvtLD = "fcvt.l.d",
    FcvtLuD = "fcvt.lu.d",
    FcvtDW = "fcvt.d.w",
    FcvtDWu = "fcvt.d.wu",
    FcvtDL = "fcvt.d.l",
    FcvtDLu = "fcvt.d.lu",
    FmvXD = "fmv.x.d",
    FmvDX = "fmv.d.x",
    // Zfh.
    Flh = "flh",
    Fsh = "fsh",
    FmaddH = "fmadd.h",
    FmsubH = "fmsub.h",
    FnmsubH = "fnmsub.h",
    FnmaddH = "fnmadd.h",
    FaddH = "fadd.h",
    FsubH = "fsub.h",
    FmulH = "fmul.h",
    FdivH = "fdiv.h",
    FsqrtH = "fsqrt.h",
    FsgnjH = "fsgnj.h",
    FsgnjnH = "fsgnjn.h",
    FsgnjxH = "fsgnjx.h",
    FminH = "fmin.h",
    FmaxH = "fmax.h",
    FeqH = "feq.h",
    FltH = "flt.h",
    FleH = "fle.h",
    FclassH = "fclass.h",
    FcvtWH = "fcvt.w.h",
    FcvtWuH = "fcvt.wu.h",
    FcvtLH = "fcvt.l.h",
    FcvtLuH = "fcvt.lu.h",
    FcvtHW = "fcvt.h.w",
    FcvtHWu = "fcvt.h.wu",
    FcvtHL = "fcvt.h.l",
    FcvtHLu = "fcvt.h.lu",
    FmvXH = "fmv.x.h",
    FmvHX = "fmv.h.x",
    // Conversions between floating-point formats (D and Zfh/Zfhmin).
    FcvtSD = "fcvt.s.d",
    FcvtDS = "fcvt.d.s",
    FcvtSH = "fcvt.s.h",
    FcvtHS = "fcvt.h.s",
    FcvtDH = "fcvt.d.h",
    FcvtHD = "fcvt.h.d",
    // Zba.
    AddUw = "add.uw",
    Sh1add = "sh1add",
    Sh2add = "sh2add",
    Sh3add = "sh3add",
    Sh1addUw = "sh1add.uw",
    Sh2addUw = "sh2add.uw",
    Sh3addUw = "sh3add.uw",
    SlliUw = "slli.uw",
    // Zbb (rotates, andn/orn/xnor and rev8 are in Zbkb too).
    Andn = "andn",
    Orn = "orn",
    Xnor = "xnor",
    Clz = "clz",
    Clzw = "clzw",
    Ctz = "ctz",
    Ctzw = "ctzw",
    Cpop = "cpop",
    Cpopw = "cpopw",
    Max = "max",
    Maxu = "maxu",
    Min = "min",
    Minu = "minu",
    SextB = "sext.b",
    SextH = "sext.h",
    ZextH = "zext.h",
    Rol = "rol",
    Rolw = "rolw",
    Ror = "ror",
    Rori = "rori",
    Roriw = "roriw",
    Rorw = "rorw",
    OrcB = "orc.b",
    Rev8 = "rev8",
    // Zbc (clmul and clmulh are in Zbkc too).
    Clmul = "clmul",
    Clmulh = "clmulh",
    Clmulr = "clmulr",
    // Zbs.
    Bclr = "bclr",
    Bclri = "bclri",
    Bext = "bext",
    Bexti = "bexti",
    Binv = "binv",
    Binvi = "binvi",
    Bset = "bset",
    Bseti = "bseti",
    // Zbkb.
    Pack = "pack",
    Packh = "packh",
    Packw = "packw",
    Brev8 = "brev8",
    // Zbkx.
    Xperm4 = "xperm4",
    Xperm8 = "xperm8",
    // Zicond.
    CzeroEqz = "czero.eqz",
    CzeroNez = "czero.nez",
    // Zicbom and Zicboz.
    CboClean = "cbo.clean",
    CboFlush = "cbo.flush",
    CboInval = "cbo.inval",
    CboZero = "cbo.zero",
}

impl Op {
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

    /// The floating-point format of an F, D or Zfh instruction: the format
    /// it computes in, or for a conversion between formats the one it
    /// writes (`fcvt.s.d`: S; `fcvt.w.d`: D; `fcvt.d.w`: D), and for the
    /// loads and stores the width moved. `None` for every
    /// other instruction.
    pub const fn fp_format(self) -> Option<FpFormat> {
        use Op::*;
        match self {
            Flh | Fsh | FmaddH | FmsubH | FnmsubH | FnmaddH | FaddH | FsubH | FmulH | FdivH
            | FsqrtH | FsgnjH | FsgnjnH | FsgnjxH | FminH | FmaxH | FeqH | FltH | FleH
            | FclassH | FcvtWH | FcvtWuH | FcvtLH | FcvtLuH | FcvtHW | FcvtHWu | FcvtHL
            | FcvtHLu | FmvXH | FmvHX | FcvtHS | FcvtHD => Some(FpFormat::Half),
            Flw | Fsw | FmaddS | FmsubS | FnmsubS | FnmaddS | FaddS | FsubS | FmulS | FdivS
            | FsqrtS | FsgnjS | FsgnjnS | FsgnjxS | FminS | FmaxS | FeqS | FltS | FleS
            | FclassS | FcvtWS | FcvtWuS | FcvtLS | FcvtLuS | FcvtSW | FcvtSWu | FcvtSL
            | FcvtSLu | FmvXS | FmvSX | FcvtSD | FcvtSH => Some(FpFormat::Single),
            Fld | Fsd | FmaddD | FmsubD | FnmsubD | FnmaddD | FaddD | FsubD | FmulD | FdivD
            | FsqrtD | FsgnjD | FsgnjnD | FsgnjxD | FminD | FmaxD | FeqD | FltD | FleD
            | FclassD | FcvtWD | FcvtWuD | FcvtLD | FcvtLuD | FcvtDW | FcvtDWu | FcvtDL
            | FcvtDLu | FmvXD | FmvDX | FcvtDS | FcvtDH => Some(FpFormat::Double),
            _ => None,
        }
    }

    /// An F, D or Zfh instruction: it needs `mstatus.FS` on.
    pub const fn is_fp(self) -> bool {
        self.fp_format().is_some()
    }

    /// A floating-point load (`flh`, `flw`, `fld`).
    pub const fn is_fp_load(self) -> bool {
        matches!(self, Op::Flh | Op::Flw | Op::Fld)
    }

    /// A floating-point store (`fsh`, `fsw`, `fsd`).
    pub const fn is_fp_store(self) -> bool {
        matches!(self, Op::Fsh | Op::Fsw | Op::Fsd)
    }

    /// A floating-point instruction whose `rd` is an integer register:
    /// comparisons, `fclass`, `fmv.x.*` and conversions to integers.
    pub const fn fp_writes_xreg(self) -> bool {
        use Op::*;
        matches!(
            self,
            FeqS | FltS
                | FleS
                | FclassS
                | FcvtWS
                | FcvtWuS
                | FcvtLS
                | FcvtLuS
                | FmvXS
                | FeqD
                | FltD
                | FleD
                | FclassD
                | FcvtWD
                | FcvtWuD
                | FcvtLD
                | FcvtLuD
                | FmvXD
                | FeqH
                | FltH
                | FleH
                | FclassH
                | FcvtWH
                | FcvtWuH
                | FcvtLH
                | FcvtLuH
                | FmvXH
        )
    }

    /// A floating-point instruction whose `rs1` is an integer register:
    /// the loads and stores (the base address), conversions from integers
    /// and `fmv.*.x`.
    pub const fn fp_reads_xreg(self) -> bool {
        use Op::*;
        self.is_fp_load()
            || self.is_fp_store()
            || matches!(
                self,
                FcvtSW
                    | FcvtSWu
                    | FcvtSL
                    | FcvtSLu
                    | FmvSX
                    | FcvtDW
                    | FcvtDWu
                    | FcvtDL
                    | FcvtDLu
                    | FmvDX
                    | FcvtHW
                    | FcvtHWu
                    | FcvtHL
                    | FcvtHLu
                    | FmvHX
            )
    }

    /// A floating-point instruction with a rounding-mode field (`imm`).
    pub const fn has_rm(self) -> bool {
        use Op::*;
        self.is_fp()
            && !self.is_fp_load()
            && !self.is_fp_store()
            && !matches!(
                self,
                FsgnjS
                    | FsgnjnS
                    | FsgnjxS
                    | FminS
                    | FmaxS
                    | FeqS
                    | FltS
                    | FleS
                    | FclassS
                    | FmvXS
                    | FmvSX
                    | FsgnjD
                    | FsgnjnD
                    | FsgnjxD
                    | FminD
                    | FmaxD
                    | FeqD
                    | FltD
                    | FleD
                    | FclassD
                    | FmvXD
                    | FmvDX
                    | FsgnjH
                    | FsgnjnH
                    | FsgnjxH
                    | FminH
                    | FmaxH
                    | FeqH
                    | FltH
                    | FleH
                    | FclassH
                    | FmvXH
                    | FmvHX
            )
    }

    /// A fused multiply-add (reads `rs3`).
    pub const fn is_fma(self) -> bool {
        use Op::*;
        matches!(
            self,
            FmaddS
                | FmsubS
                | FnmsubS
                | FnmaddS
                | FmaddD
                | FmsubD
                | FnmsubD
                | FnmaddD
                | FmaddH
                | FmsubH
                | FnmsubH
                | FnmaddH
        )
    }

    /// A cache-block operation (`cbo.*`): base address in `rs1`.
    pub const fn is_cbo(self) -> bool {
        matches!(
            self,
            Op::CboClean | Op::CboFlush | Op::CboInval | Op::CboZero
        )
    }

    /// The extension that defines the instruction. Instructions in more
    /// than one (the rotates and `andn`/`orn`/`xnor`/`rev8`, in Zbb and
    /// Zbkb) report the first; [`crate::isa::Isa::allows`] knows the rest.
    pub const fn extension(self) -> Extension {
        use Op::*;
        if let Some(f) = self.fp_format() {
            return match (self, f) {
                // fcvt between S and D needs only D; the H conversions are
                // Zfhmin, as are flh/fsh and the fmv forms.
                (FcvtSD | FcvtDS, _) => Extension::D,
                (Flh | Fsh | FmvXH | FmvHX | FcvtSH | FcvtHS | FcvtDH | FcvtHD, _) => {
                    Extension::Zfhmin
                }
                (_, FpFormat::Half) => Extension::Zfh,
                (_, FpFormat::Single) => Extension::F,
                (_, FpFormat::Double) => Extension::D,
            };
        }
        match self {
            Mul | Mulh | Mulhsu | Mulhu | Div | Divu | Rem | Remu | Mulw | Divw | Divuw | Remw
            | Remuw => Extension::M,
            AddUw | Sh1add | Sh2add | Sh3add | Sh1addUw | Sh2addUw | Sh3addUw | SlliUw => {
                Extension::Zba
            }
            Andn | Orn | Xnor | Clz | Clzw | Ctz | Ctzw | Cpop | Cpopw | Max | Maxu | Min
            | Minu | SextB | SextH | ZextH | Rol | Rolw | Ror | Rori | Roriw | Rorw | OrcB
            | Rev8 => Extension::Zbb,
            Clmul | Clmulh | Clmulr => Extension::Zbc,
            Bclr | Bclri | Bext | Bexti | Binv | Binvi | Bset | Bseti => Extension::Zbs,
            Pack | Packh | Packw | Brev8 => Extension::Zbkb,
            Xperm4 | Xperm8 => Extension::Zbkx,
            CzeroEqz | CzeroNez => Extension::Zicond,
            CboClean | CboFlush | CboInval => Extension::Zicbom,
            CboZero => Extension::Zicboz,
            FenceI => Extension::Zifencei,
            Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => Extension::Zicsr,
            _ if self.is_atomic() => Extension::A,
            _ => Extension::I,
        }
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
            Lh | Lhu | Sh | Flh | Fsh => Some(2),
            Flw | Fsw => Some(4),
            Fld | Fsd => Some(8),
            Lw | Lwu | Sw | LrW | ScW | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW
            | AmominW | AmomaxW | AmominuW | AmomaxuW => Some(4),
            Ld | Sd | LrD | ScD | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD
            | AmomaxD | AmominuD | AmomaxuD => Some(8),
            _ => None,
        }
    }

    /// The instruction writes `rd` (an integer register, or a floating-point
    /// one for the F/D/Zfh instructions that write one; a write to `x0` is
    /// discarded by the executor). False for stores, branches, fences,
    /// `cbo.*` and the system instructions other than the CSR accesses.
    pub const fn writes_rd(self) -> bool {
        !(self.is_store()
            || self.is_fp_store()
            || self.is_cbo()
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
    /// `mret`/`sret`/`wfi`/`sfence.vma` (privilege, TSR, TW, TVM), every
    /// floating-point instruction (`mstatus.FS` off, a dynamic rounding mode
    /// with an invalid `frm`) and `cbo.*` (permissions and enables).
    /// Branches and jumps cannot: with the C extension every target is
    /// 2-byte aligned, and fetch faults belong to the next instruction.
    pub const fn can_trap(self) -> bool {
        self.access_size().is_some()
            || self.is_fp()
            || self.is_cbo()
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

/// A floating-point format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FpFormat {
    /// binary16 (Zfh).
    Half,
    /// binary32 (F).
    Single,
    /// binary64 (D).
    Double,
}

/// An ISA extension, as far as the decoder tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // The variant names are the extension names.
pub enum Extension {
    I,
    M,
    A,
    F,
    D,
    C,
    Zicsr,
    Zifencei,
    Zfh,
    Zfhmin,
    Zba,
    Zbb,
    Zbc,
    Zbs,
    Zbkb,
    Zbkx,
    Zicond,
    Zicbom,
    Zicboz,
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
    CFld,
    CFsd,
    CFldsp,
    CFsdsp,
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
            CFld => "c.fld",
            CFsd => "c.fsd",
            CFldsp => "c.fldsp",
            CFsdsp => "c.fsdsp",
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
