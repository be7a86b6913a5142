//! Disassembly of decoded instructions, in capstone's text.
//!
//! Traces print what the decoder produced, so the text is exactly what
//! executes. The conventions follow capstone's RISC-V printer so that traces
//! read like capstone (and, mostly, objdump) output; the cross-check test in
//! `tests/decode_capstone.rs` holds the two together:
//!
//! - ABI register names (`zero`, `ra`, `sp`, .., `s0`, .., `t6`).
//! - The usual aliases for 32-bit instructions: `nop`, `mv`, `not`, `neg`,
//!   `negw`, `sext.w`, `seqz`, `snez`, `sltz`, `sgtz`, `beqz`, `bnez`,
//!   `blez`, `bgez`, `bltz`, `bgtz`, `j`, `jal off`, `jr`, `jalr rs`, `ret`,
//!   `fence`, `csrr`, `csrw`, `csrs`, `csrc`, `csrwi`, `csrsi`, `csrci`,
//!   `rdcycle` and friends, the floating-point CSR aliases (`frcsr`,
//!   `fsflags`, ..), `unimp`, `sfence.vma` with optional operands. `li` is
//!   not used (`addi a0, zero, 5`).
//! - Compressed instructions print their own `c.` mnemonic and operands
//!   (`c.addi a0, 1`, `c.ldsp a0, 8(sp)`), with no aliases.
//! - Immediates in decimal up to 9 in magnitude and in hexadecimal above
//!   (`8`, `0x10`, `-0x800`). Branch and jump targets are printed as the
//!   signed offset from the instruction, not as an absolute address.
//! - `lui`/`auipc`/`c.lui` print the 20-bit immediate field (`lui a0, 0xfffff`).
//! - CSRs by name when capstone knows one, otherwise as a decimal number.
//! - Fence sets as `iorw` subsets; an empty set prints as `unknown`.

mod csr_names;
mod spike;
pub(crate) mod spike_csr_names;

pub use spike::spike_disassemble;

use std::fmt::{self, Write as _};

use crate::decode::{Form, Insn, Op};

/// ABI names of the integer registers.
const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// The name of CSR `number` as the privileged specification (and Spike
/// and gdb) spell it, if it has one.
pub fn csr_name(number: u16) -> Option<&'static str> {
    spike_csr_names::spike_csr_name(number)
}

/// The ABI name of integer register `r` (`x0` is `zero`, `x8` is `s0`).
pub fn reg_name(r: u8) -> &'static str {
    REG_NAMES[(r & 31) as usize]
}

/// ABI names of the floating-point registers.
const FREG_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// The ABI name of floating-point register `r` (`f10` is `fa0`).
pub fn freg_name(r: u8) -> &'static str {
    FREG_NAMES[(r & 31) as usize]
}

/// Disassemble `insn`, located at `pc`, as capstone prints it: the
/// mnemonic, and if there are operands a space and the operands separated by
/// `", "` (`"addi a0, a0, 1"`, `"ret"`).
///
/// `pc` is accepted for callers that trace by address; capstone prints
/// branch targets as offsets, and so does this.
pub fn disassemble(insn: &Insn, pc: u64) -> String {
    let _ = pc;
    let (mnemonic, operands) = render(insn);
    let mut text = mnemonic.to_string();
    if !operands.is_empty() {
        text.push(' ');
        text.push_str(&operands);
    }
    text
}

/// An instruction mnemonic as printed: a base name plus an optional memory
/// ordering suffix (`amoadd.w` + `.aqrl`). Display it to get the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mnemonic {
    /// The mnemonic proper (`"c.addi"`, `"mv"`, `"amoadd.w"`).
    pub base: &'static str,
    /// `""`, `".aq"`, `".rl"` or `".aqrl"`.
    pub suffix: &'static str,
}

impl fmt::Display for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base)?;
        f.write_str(self.suffix)
    }
}

impl Insn {
    /// The mnemonic the disassembler prints for this instruction, aliases
    /// included (`mv`, `ret`, `c.addi`, `lr.w.aq`).
    pub fn mnemonic(&self) -> Mnemonic {
        render(self).0
    }
}

impl fmt::Display for Insn {
    /// Same text as [`disassemble`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mnemonic, operands) = render(self);
        if operands.is_empty() {
            write!(f, "{mnemonic}")
        } else {
            write!(f, "{mnemonic} {operands}")
        }
    }
}

/// Append an immediate the way capstone prints one: decimal when its
/// magnitude is at most 9, hexadecimal otherwise, with a leading `-` for
/// negative values.
fn push_imm(out: &mut String, v: i64) {
    // Writing to a String cannot fail.
    let _ = if v > 9 {
        write!(out, "{v:#x}")
    } else if v >= -9 {
        write!(out, "{v}")
    } else {
        write!(out, "-{:#x}", v.unsigned_abs())
    };
}

/// The printed form of a fence set (`i o r w` in bits 3..0).
fn fence_set(bits: u8) -> &'static str {
    const SETS: [&str; 16] = [
        "unknown", "w", "r", "rw", "o", "ow", "or", "orw", "i", "iw", "ir", "irw", "io", "iow",
        "ior", "iorw",
    ];
    SETS[(bits & 15) as usize]
}

/// Operand list builder: joins with `", "`.
struct Operands(String);

impl Operands {
    fn new() -> Self {
        Operands(String::new())
    }

    fn sep(&mut self) {
        if !self.0.is_empty() {
            self.0.push_str(", ");
        }
    }

    fn reg(mut self, r: u8) -> Self {
        self.sep();
        self.0.push_str(reg_name(r));
        self
    }

    fn freg(mut self, r: u8) -> Self {
        self.sep();
        self.0.push_str(freg_name(r));
        self
    }

    /// `offset(base)` with a floating-point destination or source first.
    fn fmem(self, r: u8, offset: i64, base: u8) -> Self {
        self.freg(r).mem(offset, base)
    }

    /// The rounding-mode operand of an instruction that has one: nothing
    /// for the dynamic mode (7), as capstone prints it.
    fn rm(self, rm: u8) -> Self {
        const NAMES: [&str; 8] = ["rne", "rtz", "rdn", "rup", "rmm", "", "", ""];
        if rm == 7 {
            self
        } else {
            self.text(NAMES[usize::from(rm & 7)])
        }
    }

    fn imm(mut self, v: i64) -> Self {
        self.sep();
        push_imm(&mut self.0, v);
        self
    }

    fn text(mut self, s: &str) -> Self {
        self.sep();
        self.0.push_str(s);
        self
    }

    /// `offset(base)`.
    fn mem(mut self, offset: i64, base: u8) -> Self {
        self.sep();
        push_imm(&mut self.0, offset);
        self.0.push('(');
        self.0.push_str(reg_name(base));
        self.0.push(')');
        self
    }

    /// `(base)`, for LR/SC/AMO.
    fn amo_addr(mut self, base: u8) -> Self {
        self.sep();
        self.0.push('(');
        self.0.push_str(reg_name(base));
        self.0.push(')');
        self
    }

    fn csr(mut self, csr: u16) -> Self {
        self.sep();
        match csr_names::csr_name(csr) {
            Some(name) => self.0.push_str(name),
            None => {
                let _ = write!(self.0, "{csr}");
            }
        }
        self
    }
}

fn plain(base: &'static str) -> Mnemonic {
    Mnemonic { base, suffix: "" }
}

/// The mnemonic and operand text of `insn`.
/// The mnemonic and the operand text of `insn` (what [`disassemble`]
/// joins with a space).
pub(crate) fn parts(insn: &Insn) -> (Mnemonic, String) {
    render(insn)
}

fn render(insn: &Insn) -> (Mnemonic, String) {
    let (m, ops) = match insn.form.compressed_name() {
        Some(name) => (plain(name), render_compressed(insn)),
        None => render_standard(insn),
    };
    (m, ops.0)
}

/// Operands of a compressed instruction, in the order of its assembly
/// syntax (which refers to the compressed fields, not the expansion).
fn render_compressed(i: &Insn) -> Operands {
    let o = Operands::new();
    let imm = i.imm as i64;
    match i.form {
        Form::Standard | Form::CNop | Form::CEbreak => o,
        Form::CAddi4spn => o.reg(i.rd).reg(2).imm(imm),
        Form::CLw | Form::CLd | Form::CLwsp | Form::CLdsp => o.reg(i.rd).mem(imm, i.rs1),
        Form::CSw | Form::CSd | Form::CSwsp | Form::CSdsp => o.reg(i.rs2).mem(imm, i.rs1),
        Form::CAddi | Form::CAddiw | Form::CLi | Form::CAndi => o.reg(i.rd).imm(imm),
        Form::CSrli | Form::CSrai | Form::CSlli => o.reg(i.rd).imm(imm),
        Form::CAddi16sp => o.reg(2).imm(imm),
        Form::CLui => o.reg(i.rd).imm(((i.imm as u32) >> 12) as i64),
        Form::CSub | Form::CXor | Form::COr | Form::CAnd | Form::CSubw | Form::CAddw => {
            o.reg(i.rd).reg(i.rs2)
        }
        Form::CMv | Form::CAdd => o.reg(i.rd).reg(i.rs2),
        Form::CJ => o.imm(imm),
        Form::CBeqz | Form::CBnez => o.reg(i.rs1).imm(imm),
        Form::CJr | Form::CJalr => o.reg(i.rs1),
        Form::CFld | Form::CFldsp => o.fmem(i.rd, imm, i.rs1),
        Form::CFsd | Form::CFsdsp => o.fmem(i.rs2, imm, i.rs1),
    }
}

/// Mnemonic and operands of a 32-bit instruction, aliases applied.
fn render_standard(i: &Insn) -> (Mnemonic, Operands) {
    use Op::*;
    let o = Operands::new();
    let (rd, rs1, rs2) = (i.rd, i.rs1, i.rs2);
    let imm = i.imm as i64;
    let alias = |name: &'static str, o: Operands| (plain(name), o);
    let base = |o: Operands| (plain(i.op.name()), o);
    match i.op {
        Lui | Auipc => base(o.reg(rd).imm(((i.imm as u32) >> 12) as i64)),
        Jal => match rd {
            0 => alias("j", o.imm(imm)),
            1 => alias("jal", o.imm(imm)),
            _ => base(o.reg(rd).imm(imm)),
        },
        Jalr => match (rd, rs1, imm) {
            (0, 1, 0) => alias("ret", o),
            (0, _, 0) => alias("jr", o.reg(rs1)),
            (1, _, 0) => alias("jalr", o.reg(rs1)),
            _ => base(o.reg(rd).reg(rs1).imm(imm)),
        },
        Beq | Bne | Blt | Bge | Bltu | Bgeu => render_branch(i),
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => base(o.reg(rd).mem(imm, rs1)),
        Sb | Sh | Sw | Sd => base(o.reg(rs2).mem(imm, rs1)),
        Addi if rd == 0 && rs1 == 0 && imm == 0 => alias("nop", o),
        Addi if imm == 0 => alias("mv", o.reg(rd).reg(rs1)),
        Xori if imm == -1 => alias("not", o.reg(rd).reg(rs1)),
        Sltiu if imm == 1 => alias("seqz", o.reg(rd).reg(rs1)),
        Addiw if imm == 0 => alias("sext.w", o.reg(rd).reg(rs1)),
        Addi | Slti | Sltiu | Xori | Ori | Andi | Addiw => base(o.reg(rd).reg(rs1).imm(imm)),
        Slli | Srli | Srai | Slliw | Srliw | Sraiw => base(o.reg(rd).reg(rs1).imm(imm)),
        Sub if rs1 == 0 => alias("neg", o.reg(rd).reg(rs2)),
        Subw if rs1 == 0 => alias("negw", o.reg(rd).reg(rs2)),
        Sltu if rs1 == 0 => alias("snez", o.reg(rd).reg(rs2)),
        Slt if rs2 == 0 => alias("sltz", o.reg(rd).reg(rs1)),
        Slt if rs1 == 0 => alias("sgtz", o.reg(rd).reg(rs2)),
        Add | Sub | Sll | Slt | Sltu | Xor | Srl | Sra | Or | And | Addw | Subw | Sllw | Srlw
        | Sraw | Mul | Mulh | Mulhsu | Mulhu | Div | Divu | Rem | Remu | Mulw | Divw | Divuw
        | Remw | Remuw => base(o.reg(rd).reg(rs1).reg(rs2)),
        LrW | LrD => (amo_mnemonic(i), o.reg(rd).amo_addr(rs1)),
        ScW | ScD | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
        | AmominuW | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD
        | AmomaxD | AmominuD | AmomaxuD => (amo_mnemonic(i), o.reg(rd).reg(rs2).amo_addr(rs1)),
        Fence => render_fence(i),
        FenceI | Ecall | Ebreak | Mret | Sret | Wfi => base(o),
        SfenceVma => match (rs1, rs2) {
            (0, 0) => base(o),
            (_, 0) => base(o.reg(rs1)),
            _ => base(o.reg(rs1).reg(rs2)),
        },
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => render_csr(i),
        AddUw if rs2 == 0 => alias("zext.w", o.reg(rd).reg(rs1)),
        AddUw | Sh1add | Sh2add | Sh3add | Sh1addUw | Sh2addUw | Sh3addUw | Andn | Orn | Xnor
        | Max | Maxu | Min | Minu | Rol | Rolw | Ror | Rorw | Clmul | Clmulh | Clmulr | Bclr
        | Bext | Binv | Bset | Pack | Packh | Packw | Xperm4 | Xperm8 | CzeroEqz | CzeroNez => {
            base(o.reg(rd).reg(rs1).reg(rs2))
        }
        SlliUw | Rori | Roriw | Bclri | Bexti | Binvi | Bseti => base(o.reg(rd).reg(rs1).imm(imm)),
        Clz | Clzw | Ctz | Ctzw | Cpop | Cpopw | SextB | SextH | ZextH | OrcB | Rev8 | Brev8 => {
            base(o.reg(rd).reg(rs1))
        }
        CboClean | CboFlush | CboInval | CboZero => base(o.amo_addr(rs1)),
        _ => render_float(i),
    }
}

/// F, D and Zfh instructions, with capstone's `fmv`/`fneg`/`fabs` aliases
/// of the sign injections.
fn render_float(i: &Insn) -> (Mnemonic, Operands) {
    use Op::*;
    let o = Operands::new();
    let (rd, rs1, rs2, rm) = (i.rd, i.rs1, i.rs2, i.rm());
    let name = i.op.name();
    let imm = i.imm as i64;
    if i.op.is_fp_load() {
        return (plain(name), o.fmem(rd, imm, rs1));
    }
    if i.op.is_fp_store() {
        return (plain(name), o.fmem(rs2, imm, rs1));
    }
    if i.op.is_fma() {
        return (
            plain(name),
            o.freg(rd).freg(rs1).freg(rs2).freg(i.rs3).rm(rm),
        );
    }
    let alias = match (i.op, rs1 == rs2) {
        (FsgnjS, true) => Some("fmv.s"),
        (FsgnjD, true) => Some("fmv.d"),
        (FsgnjH, true) => Some("fmv.h"),
        (FsgnjnS, true) => Some("fneg.s"),
        (FsgnjnD, true) => Some("fneg.d"),
        (FsgnjnH, true) => Some("fneg.h"),
        (FsgnjxS, true) => Some("fabs.s"),
        (FsgnjxD, true) => Some("fabs.d"),
        (FsgnjxH, true) => Some("fabs.h"),
        _ => None,
    };
    if let Some(alias) = alias {
        return (plain(alias), o.freg(rd).freg(rs1));
    }
    let two_sources = matches!(
        i.op,
        FaddS
            | FsubS
            | FmulS
            | FdivS
            | FaddD
            | FsubD
            | FmulD
            | FdivD
            | FaddH
            | FsubH
            | FmulH
            | FdivH
    );
    let o = if two_sources {
        o.freg(rd).freg(rs1).freg(rs2)
    } else if i.op.fp_writes_xreg() {
        let o = o.reg(rd).freg(rs1);
        if matches!(
            i.op,
            FeqS | FltS | FleS | FeqD | FltD | FleD | FeqH | FltH | FleH
        ) {
            o.freg(rs2)
        } else {
            o
        }
    } else if i.op.fp_reads_xreg() {
        o.freg(rd).reg(rs1)
    } else if i.op.has_rm() {
        // fsqrt and the conversions between formats.
        o.freg(rd).freg(rs1)
    } else {
        // fsgnj* with distinct sources, fmin, fmax.
        o.freg(rd).freg(rs1).freg(rs2)
    };
    // The conversions that are always exact print no `rne`, as capstone
    // (whose tables accept only rm = 0 for them) does.
    let exact = matches!(i.op, FcvtDS | FcvtDW | FcvtDWu | FcvtSH | FcvtDH);
    let o = if i.op.has_rm() && !(exact && rm == 0) {
        o.rm(rm)
    } else {
        o
    };
    (plain(name), o)
}

fn amo_mnemonic(i: &Insn) -> Mnemonic {
    const SUFFIXES: [&str; 4] = ["", ".rl", ".aq", ".aqrl"];
    Mnemonic {
        base: i.op.name(),
        suffix: SUFFIXES[(i.imm & 3) as usize],
    }
}

fn render_branch(i: &Insn) -> (Mnemonic, Operands) {
    use Op::*;
    let o = Operands::new();
    let (rs1, rs2, imm) = (i.rs1, i.rs2, i.imm as i64);
    let (name, o) = match (i.op, rs1, rs2) {
        (Beq, _, 0) => ("beqz", o.reg(rs1)),
        (Bne, _, 0) => ("bnez", o.reg(rs1)),
        (Bge, 0, _) => ("blez", o.reg(rs2)),
        (Bge, _, 0) => ("bgez", o.reg(rs1)),
        (Blt, _, 0) => ("bltz", o.reg(rs1)),
        (Blt, 0, _) => ("bgtz", o.reg(rs2)),
        (op, _, _) => (op.name(), o.reg(rs1).reg(rs2)),
    };
    (plain(name), o.imm(imm))
}

fn render_fence(i: &Insn) -> (Mnemonic, Operands) {
    let o = Operands::new();
    match (i.fence_fm(), i.fence_pred(), i.fence_succ()) {
        (8, 0b0011, 0b0011) => (plain("fence.tso"), o),
        (_, 0b1111, 0b1111) => (plain("fence"), o),
        (_, pred, succ) => (
            plain("fence"),
            o.text(fence_set(pred)).text(fence_set(succ)),
        ),
    }
}

/// CSR instructions, with capstone's aliases: the counter reads, the
/// floating-point CSR shorthands, `unimp`, and `csrr`/`csrw`/`csrs`/..
fn render_csr(i: &Insn) -> (Mnemonic, Operands) {
    use Op::*;
    let o = Operands::new();
    let (rd, rs1, csr) = (i.rd, i.rs1, i.csr());
    let zimm = rs1 as i64;
    let name = match (i.op, csr) {
        (Csrrs, 0xc00) if rs1 == 0 => Some("rdcycle"),
        (Csrrs, 0xc01) if rs1 == 0 => Some("rdtime"),
        (Csrrs, 0xc02) if rs1 == 0 => Some("rdinstret"),
        (Csrrs, 0xc80) if rs1 == 0 => Some("rdcycleh"),
        (Csrrs, 0xc81) if rs1 == 0 => Some("rdtimeh"),
        (Csrrs, 0xc82) if rs1 == 0 => Some("rdinstreth"),
        (Csrrs, 0x001) if rs1 == 0 => Some("frflags"),
        (Csrrs, 0x002) if rs1 == 0 => Some("frrm"),
        (Csrrs, 0x003) if rs1 == 0 => Some("frcsr"),
        _ => None,
    };
    if let Some(name) = name {
        return (plain(name), o.reg(rd));
    }
    if i.op == Csrrw && csr == 0xc00 && rd == 0 && rs1 == 0 {
        return (plain("unimp"), o);
    }
    let fp_write = match (i.op, csr) {
        (Csrrw, 0x001) => Some("fsflags"),
        (Csrrw, 0x002) => Some("fsrm"),
        (Csrrw, 0x003) => Some("fscsr"),
        (Csrrwi, 0x001) => Some("fsflagsi"),
        (Csrrwi, 0x002) => Some("fsrmi"),
        _ => None,
    };
    if let Some(name) = fp_write {
        let o = if rd == 0 { o } else { o.reg(rd) };
        let o = if i.op == Csrrwi {
            o.imm(zimm)
        } else {
            o.reg(rs1)
        };
        return (plain(name), o);
    }
    match (i.op, rd, rs1) {
        (Csrrs, _, 0) => (plain("csrr"), o.reg(rd).csr(csr)),
        (Csrrw, 0, _) => (plain("csrw"), o.csr(csr).reg(rs1)),
        (Csrrs, 0, _) => (plain("csrs"), o.csr(csr).reg(rs1)),
        (Csrrc, 0, _) => (plain("csrc"), o.csr(csr).reg(rs1)),
        (Csrrwi, 0, _) => (plain("csrwi"), o.csr(csr).imm(zimm)),
        (Csrrsi, 0, _) => (plain("csrsi"), o.csr(csr).imm(zimm)),
        (Csrrci, 0, _) => (plain("csrci"), o.csr(csr).imm(zimm)),
        (Csrrw | Csrrs | Csrrc, _, _) => (plain(i.op.name()), o.reg(rd).csr(csr).reg(rs1)),
        _ => (plain(i.op.name()), o.reg(rd).csr(csr).imm(zimm)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    fn dis(raw: u32) -> String {
        match decode(raw) {
            Ok(i) => disassemble(&i, 0x8000_0000),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn immediates() {
        let mut s = String::new();
        for v in [0, 9, 10, -9, -10, -0x800, i32::MIN as i64] {
            push_imm(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 9 0xa -9 -0xa -0x800 -0x80000000 ");
    }

    #[test]
    fn base_instructions() {
        assert_eq!(dis(0x0015_0513), "addi a0, a0, 1");
        assert_eq!(dis(0x0050_0513), "addi a0, zero, 5");
        assert_eq!(dis(0x0000_0013), "nop");
        assert_eq!(dis(0x0005_8513), "mv a0, a1");
        assert_eq!(dis(0x0081_3503), "ld a0, 8(sp)");
        assert_eq!(dis(0x8004_3403), "ld s0, -0x800(s0)");
        assert_eq!(dis(0x00a1_3423), "sd a0, 8(sp)");
        assert_eq!(dis(0xffff_f537), "lui a0, 0xfffff");
        assert_eq!(dis(0x03f5_1513), "slli a0, a0, 0x3f");
        assert_eq!(dis(0x40b0_0533), "neg a0, a1");
        assert_eq!(dis(0x02b5_4533), "div a0, a0, a1");
    }

    #[test]
    fn control_flow() {
        assert_eq!(dis(0x00b5_0463), "beq a0, a1, 8");
        assert_eq!(dis(0xfe05_08e3), "beqz a0, -0x10");
        assert_eq!(dis(0x00a0_4063), "bgtz a0, 0");
        assert_eq!(dis(0x0100_00ef), "jal 0x10");
        assert_eq!(dis(0x0100_006f), "j 0x10");
        assert_eq!(dis(0x0000_8067), "ret");
        assert_eq!(dis(0x0000_80e7), "jalr ra");
        assert_eq!(dis(0x00b5_8567), "jalr a0, a1, 0xb");
    }

    #[test]
    fn system_and_csr() {
        assert_eq!(dis(0x3000_2573), "csrr a0, mstatus");
        assert_eq!(dis(0x3055_1073), "csrw mtvec, a0");
        assert_eq!(dis(0x3052_d073), "csrwi mtvec, 5");
        assert_eq!(dis(0x7c00_2573), "csrr a0, 1984");
        assert_eq!(dis(0xc000_2573), "rdcycle a0");
        assert_eq!(dis(0x0035_9573), "fscsr a0, a1");
        assert_eq!(dis(0x0025_d073), "fsrmi 0xb");
        assert_eq!(dis(0xc000_1073), "unimp");
        assert_eq!(dis(0x0ff0_000f), "fence");
        assert_eq!(dis(0x8330_000f), "fence.tso");
        assert_eq!(dis(0x0010_000f), "fence unknown, w");
        assert_eq!(dis(0x12b5_0073), "sfence.vma a0, a1");
        assert_eq!(dis(0x1205_0073), "sfence.vma a0");
        assert_eq!(dis(0x0000_0073), "ecall");
        assert_eq!(dis(0x06b5_352f), "amoadd.d.aqrl a0, a1, (a0)");
        assert_eq!(dis(0x1405_a52f), "lr.w.aq a0, (a1)");
    }

    #[test]
    fn compressed() {
        assert_eq!(dis(0x0001), "c.nop");
        assert_eq!(dis(0x0048), "c.addi4spn a0, sp, 4");
        assert_eq!(dis(0x5de8), "c.lw a0, 0x7c(a1)");
        assert_eq!(dis(0x6522), "c.ldsp a0, 8(sp)");
        assert_eq!(dis(0xe02a), "c.sdsp a0, 0(sp)");
        assert_eq!(dis(0x7101), "c.addi16sp sp, -0x200");
        assert_eq!(dis(0x757d), "c.lui a0, 0xfffff");
        assert_eq!(dis(0xc111), "c.beqz a0, 4");
        assert_eq!(dis(0xb001), "c.j -0x800");
        assert_eq!(dis(0x8082), "c.jr ra");
        assert_eq!(dis(0x852e), "c.mv a0, a1");
        assert_eq!(dis(0x9d0d), "c.subw a0, a1");
        assert_eq!(dis(0x9002), "c.ebreak");
        assert_eq!(dis(0x2588), "c.fld fa0, 8(a1)");
        assert_eq!(dis(0xa42a), "c.fsdsp fa0, 8(sp)");
    }

    #[test]
    fn floating_point() {
        assert_eq!(dis(0x0085_3507), "fld fa0, 8(a0)");
        assert_eq!(dis(0x00a5_2427), "fsw fa0, 8(a0)");
        assert_eq!(dis(0x02c5_f553), "fadd.d fa0, fa1, fa2");
        assert_eq!(dis(0x02c5_8553), "fadd.d fa0, fa1, fa2, rne");
        assert_eq!(dis(0x68c5_8543), "fmadd.s fa0, fa1, fa2, fa3, rne");
        assert_eq!(dis(0xc205_9553), "fcvt.w.d a0, fa1, rtz");
        assert_eq!(dis(0xe205_8553), "fmv.x.d a0, fa1");
        assert_eq!(dis(0xa2c5_a553), "feq.d a0, fa1, fa2");
        assert_eq!(dis(0x22b5_8553), "fmv.d fa0, fa1");
        assert_eq!(dis(0x22c5_9553), "fsgnjn.d fa0, fa1, fa2");
    }

    #[test]
    fn bit_manipulation() {
        assert_eq!(dis(0x08c5_853b), "add.uw a0, a1, a2");
        assert_eq!(dis(0x0805_853b), "zext.w a0, a1");
        assert_eq!(dis(0x6005_9513), "clz a0, a1");
        assert_eq!(dis(0x6b85_d513), "rev8 a0, a1");
        assert_eq!(dis(0x0805_c53b), "zext.h a0, a1");
        assert_eq!(dis(0x0ec5_d533), "czero.eqz a0, a1, a2");
        assert_eq!(dis(0x0045_200f), "cbo.zero (a0)");
    }

    #[test]
    fn mnemonic_and_display() {
        let i = decode(0x1605_a52f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(i.mnemonic().to_string(), "lr.w.aqrl");
        assert_eq!(i.to_string(), "lr.w.aqrl a0, (a1)");
        let c = decode(0x0505).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.mnemonic().base, "c.addi");
        assert_eq!(reg_name(8), "s0");
    }
}
