//! Disassembly in the reference simulator's text: what Spike's `-l`
//! instruction log prints after `(0x........)`.
//!
//! Spike's disassembler is a list of (mnemonic, match, mask, operands)
//! entries searched in order, so a pseudo-instruction listed before its base
//! instruction wins when its extra fields match. This module reproduces the
//! entries that apply to the instructions Ferrite decodes, from the decoded
//! form (so the text is still what executes):
//!
//! - The mnemonic is padded with spaces to 8 columns (at least one space)
//!   when operands follow; operands are separated by `", "`.
//! - ABI register names; no rounding mode on floating-point instructions.
//! - Immediates in decimal, except `lui`/`auipc`/`c.lui` (`0x` and the 20-bit
//!   field) and `jal` targets (`pc + 0x50`); branch and compressed jump
//!   targets are decimal (`pc + 12`, `pc - 8`).
//! - Pseudo-instructions: `nop`, `li`, `mv`, `sext.w`, `seqz`, `not`,
//!   `snez`, `j`, `jal` (with `rd = ra`), `ret`, `jr`, `jalr rs`, `beqz`,
//!   `bnez`, `bltz`, `bgez`, `csrr`, `csrw`, `csrs`, `csrc`, `csrwi`,
//!   `csrsi`, `csrci`, `zext.w`, `zext.h`, `unimp`, `c.unimp`, `pause`,
//!   `prefetch.i/r/w`; compressed instructions keep their `c.` names
//!   (`c.ret` and `c.ebreak` included).
//! - AMO and SC ordering suffixes (`.aq`, `.rl`, `.aqrl`); LR has none.
//! - Instructions Spike decodes but has no operand format for print as
//!   `name (args unknown)` (`xperm4`, `xperm8`); words nothing decodes
//!   print as `unknown`.

use super::spike_csr_names::spike_csr_name;
use super::{freg_name, reg_name};
use crate::decode::{Form, Insn, Op, decode};

/// Spike's disassembly of the instruction word `raw` (a 16-bit parcel in
/// the low half for a compressed instruction).
pub fn spike_disassemble(raw: u32) -> String {
    if raw & 0xffff == 0 {
        return "c.unimp".to_string();
    }
    if raw == 0xc000_1073 {
        return "unimp".to_string();
    }
    match decode(raw) {
        Ok(insn) => {
            let (name, args) = render(&insn, raw);
            join(&name, &args)
        }
        Err(_) => "unknown".to_string(),
    }
}

/// The name padded as Spike pads it, then the operands.
fn join(name: &str, args: &[String]) -> String {
    let mut s = name.to_string();
    if !args.is_empty() {
        let pad = 8usize.saturating_sub(name.len()).max(1);
        s.extend(std::iter::repeat_n(' ', pad));
        s.push_str(&args.join(", "));
    }
    s
}

fn x(r: u8) -> String {
    reg_name(r).to_string()
}

fn f(r: u8) -> String {
    freg_name(r).to_string()
}

fn dec(v: i64) -> String {
    v.to_string()
}

fn mem(offset: i32, base: u8) -> String {
    format!("{offset}({})", reg_name(base))
}

fn base_only(base: u8) -> String {
    format!("({})", reg_name(base))
}

/// `pc + 12` / `pc - 8`: a decimal offset.
fn target_dec(offset: i32) -> String {
    if offset >= 0 {
        format!("pc + {offset}")
    } else {
        format!("pc - {}", offset.unsigned_abs())
    }
}

/// `pc + 0x50`: a hexadecimal offset (`jal`).
fn target_hex(offset: i32) -> String {
    let sign = if offset >= 0 { '+' } else { '-' };
    format!("pc {sign} {:#x}", offset.unsigned_abs())
}

fn csr(number: i32) -> String {
    let n = (number & 0xfff) as u16;
    match spike_csr_name(n) {
        Some(name) => name.to_string(),
        None => format!("unknown_{n:03x}"),
    }
}

/// The fence set of `pred`/`succ` (the `iorw` bits, `i` highest), as Spike
/// prints it: `iorw,iorw`, `rw,w`, or just the successor set when the
/// predecessor set is empty.
fn fence_sets(imm: i32) -> String {
    const TYPE: [char; 4] = ['w', 'r', 'o', 'i'];
    let bits = imm & 0xff;
    let mut s = String::new();
    let mut has_pre = false;
    for i in (4..8).rev() {
        if bits & (1 << i) != 0 {
            s.push(TYPE[i - 4]);
            has_pre = true;
        }
    }
    if has_pre {
        s.push(',');
    }
    for i in (0..4).rev() {
        if bits & (1 << i) != 0 {
            s.push(TYPE[i]);
        }
    }
    s
}

/// The ordering suffix Spike appends to AMOs and SC (bit 1 of `imm` is aq,
/// bit 0 rl).
fn amo_suffix(imm: i32) -> &'static str {
    match imm & 3 {
        0 => "",
        1 => ".rl",
        2 => ".aq",
        _ => ".aqrl",
    }
}

/// (mnemonic, operands) of a decoded instruction.
fn render(insn: &Insn, raw: u32) -> (String, Vec<String>) {
    if insn.form != Form::Standard {
        return render_compressed(insn);
    }
    let Insn {
        op,
        rd,
        rs1,
        rs2,
        rs3,
        imm,
        ..
    } = *insn;
    let name = |s: &str| s.to_string();
    let imm64 = i64::from(imm);
    use Op::*;
    let r = match op {
        // Hints that Spike lists before their base instructions.
        Ori if rd == 0 && matches!((raw >> 20) & 0x1f, 0 | 1 | 3) => {
            let which = match (raw >> 20) & 0x1f {
                0 => "prefetch.i",
                1 => "prefetch.r",
                _ => "prefetch.w",
            };
            // The store-format offset: imm[11:5] with imm[4:0] = rd = 0.
            let offset = (raw as i32 >> 25) << 5;
            (name(which), vec![mem(offset, rs1)])
        }
        Fence if raw == 0x0100_000f => (name("pause"), vec![]),
        Lui | Auipc => (
            name(op.name()),
            vec![x(rd), format!("{:#x}", (imm as u32) >> 12)],
        ),
        Jal => match rd {
            0 => (name("j"), vec![target_hex(imm)]),
            1 => (name("jal"), vec![target_hex(imm)]),
            _ => (name("jal"), vec![x(rd), target_hex(imm)]),
        },
        Jalr => match (rd, rs1, imm) {
            (0, 1, 0) => (name("ret"), vec![]),
            (0, _, 0) => (name("jr"), vec![x(rs1)]),
            (1, _, 0) => (name("jalr"), vec![x(rs1)]),
            _ => (name("jalr"), vec![x(rd), x(rs1), dec(imm64)]),
        },
        Beq | Bne | Blt | Bge if rs2 == 0 => {
            let n = match op {
                Beq => "beqz",
                Bne => "bnez",
                Blt => "bltz",
                _ => "bgez",
            };
            (name(n), vec![x(rs1), target_dec(imm)])
        }
        Beq | Bne | Blt | Bge | Bltu | Bgeu => {
            (name(op.name()), vec![x(rs1), x(rs2), target_dec(imm)])
        }
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => (name(op.name()), vec![x(rd), mem(imm, rs1)]),
        Sb | Sh | Sw | Sd => (name(op.name()), vec![x(rs2), mem(imm, rs1)]),
        Addi if rd == 0 && rs1 == 0 && imm == 0 => (name("nop"), vec![]),
        Addi if rs1 == 0 => (name("li"), vec![x(rd), dec(imm64)]),
        Addi if imm == 0 => (name("mv"), vec![x(rd), x(rs1)]),
        Addiw if imm == 0 => (name("sext.w"), vec![x(rd), x(rs1)]),
        Sltiu if imm == 1 => (name("seqz"), vec![x(rd), x(rs1)]),
        Xori if imm == -1 => (name("not"), vec![x(rd), x(rs1)]),
        Sltu if rs1 == 0 => (name("snez"), vec![x(rd), x(rs2)]),
        AddUw if rs2 == 0 => (name("zext.w"), vec![x(rd), x(rs1)]),
        Packw if rs2 == 0 => (name("zext.h"), vec![x(rd), x(rs1)]),
        Ecall | Ebreak | Mret | Sret | Wfi | FenceI => (name(op.name()), vec![]),
        Fence => (name("fence"), vec![fence_sets(imm)]),
        SfenceVma => (name("sfence.vma"), vec![x(rs1), x(rs2)]),
        Csrrs if rs1 == 0 => (name("csrr"), vec![x(rd), csr(imm)]),
        Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci if rd == 0 => {
            let n = match op {
                Csrrw => "csrw",
                Csrrs => "csrs",
                Csrrc => "csrc",
                Csrrwi => "csrwi",
                Csrrsi => "csrsi",
                _ => "csrci",
            };
            let src = if op.is_csr_imm() {
                rs1.to_string()
            } else {
                x(rs1)
            };
            (name(n), vec![csr(imm), src])
        }
        Csrrw | Csrrs | Csrrc => (name(op.name()), vec![x(rd), csr(imm), x(rs1)]),
        Csrrwi | Csrrsi | Csrrci => (name(op.name()), vec![x(rd), csr(imm), rs1.to_string()]),
        LrW | LrD => (name(op.name()), vec![x(rd), base_only(rs1)]),
        _ if op.is_atomic() => (
            format!("{}{}", op.name(), amo_suffix(imm)),
            vec![x(rd), x(rs2), base_only(rs1)],
        ),
        CboClean | CboFlush | CboInval | CboZero => (name(op.name()), vec![base_only(rs1)]),
        Xperm4 | Xperm8 => (format!("{} (args unknown)", op.name()), vec![]),
        _ if op.is_fp_load() => (name(op.name()), vec![f(rd), mem(imm, rs1)]),
        _ if op.is_fp_store() => (name(op.name()), vec![f(rs2), mem(imm, rs1)]),
        _ if op.is_fp() => (name(op.name()), fp_operands(insn)),
        _ if op.is_shift_imm() || is_bit_shift_imm(op) => {
            (name(op.name()), vec![x(rd), x(rs1), dec(imm64)])
        }
        _ if is_unary(op) => (name(op.name()), vec![x(rd), x(rs1)]),
        _ if is_itype(op) => (name(op.name()), vec![x(rd), x(rs1), dec(imm64)]),
        // Everything else is a register-register operation.
        _ => (name(op.name()), vec![x(rd), x(rs1), x(rs2)]),
    };
    let _ = rs3;
    r
}

/// The floating-point operands as Spike lists them: `frd, frs1, frs2` for
/// arithmetic, `frd, frs1` for one-operand forms and format conversions,
/// `xrd, frs1` / `frd, xrs1` across the register files, `xrd, frs1, frs2`
/// for compares, four registers for the fused multiply-adds.
fn fp_operands(insn: &Insn) -> Vec<String> {
    let op = insn.op;
    let (rd, rs1, rs2, rs3) = (insn.rd, insn.rs1, insn.rs2, insn.rs3);
    if op.is_fma() {
        return vec![f(rd), f(rs1), f(rs2), f(rs3)];
    }
    let writes_x = op.fp_writes_xreg();
    let reads_x = op.fp_reads_xreg();
    let two_sources = fp_has_rs2(op);
    match (writes_x, reads_x, two_sources) {
        (true, _, true) => vec![x(rd), f(rs1), f(rs2)],
        (true, _, false) => vec![x(rd), f(rs1)],
        (false, true, _) => vec![f(rd), x(rs1)],
        (false, false, true) => vec![f(rd), f(rs1), f(rs2)],
        (false, false, false) => vec![f(rd), f(rs1)],
    }
}

/// A floating-point operation with a second register source (arithmetic,
/// sign injection, min/max, compares).
fn fp_has_rs2(op: Op) -> bool {
    let n = op.name();
    [
        "fadd.", "fsub.", "fmul.", "fdiv.", "fsgnj", "fmin.", "fmax.", "feq.", "flt.", "fle.",
    ]
    .iter()
    .any(|p| n.starts_with(p))
}

/// Bit-manipulation shifts and bit operations by an immediate (shamt).
fn is_bit_shift_imm(op: Op) -> bool {
    matches!(
        op,
        Op::SlliUw | Op::Rori | Op::Roriw | Op::Bclri | Op::Binvi | Op::Bseti | Op::Bexti
    )
}

/// One-source bit-manipulation instructions (`xrd, xrs1`).
fn is_unary(op: Op) -> bool {
    matches!(
        op,
        Op::Clz
            | Op::Ctz
            | Op::Cpop
            | Op::Clzw
            | Op::Ctzw
            | Op::Cpopw
            | Op::SextB
            | Op::SextH
            | Op::ZextH
            | Op::Rev8
            | Op::OrcB
            | Op::Brev8
    )
}

/// Register-immediate arithmetic (`xrd, xrs1, imm`).
fn is_itype(op: Op) -> bool {
    matches!(
        op,
        Op::Addi | Op::Slti | Op::Sltiu | Op::Xori | Op::Ori | Op::Andi | Op::Addiw
    )
}

/// Compressed instructions, with Spike's `c.` operand lists.
fn render_compressed(insn: &Insn) -> (String, Vec<String>) {
    let Insn {
        rd, rs1, rs2, imm, ..
    } = *insn;
    let imm64 = i64::from(imm);
    let sp = || x(2);
    use Form::*;
    let name = insn.form.compressed_name().unwrap_or("c.unknown");
    let args = match insn.form {
        Standard => vec![],
        CEbreak | CNop => vec![],
        CJr if rs1 == 1 => return ("c.ret".to_string(), vec![]),
        CJr | CJalr => vec![x(rs1)],
        CAddi16sp => vec![sp(), dec(imm64)],
        CAddi4spn => vec![x(rd), sp(), dec(imm64)],
        CLi | CAddi | CAddiw => vec![x(rd), dec(imm64)],
        CLui => vec![x(rd), format!("{:#x}", (imm as u32) >> 12)],
        CSlli | CSrli | CSrai => vec![x(rd), dec(imm64 & 0x3f)],
        CAndi => vec![x(rd), dec(imm64)],
        CMv | CAdd => vec![x(rd), x(rs2)],
        CSub | CXor | COr | CAnd | CSubw | CAddw => vec![x(rd), x(rs2)],
        CLwsp | CLdsp | CLw | CLd => vec![x(rd), mem(imm, rs1)],
        CSwsp | CSdsp | CSw | CSd => vec![x(rs2), mem(imm, rs1)],
        CFld | CFldsp => vec![f(rd), mem(imm, rs1)],
        CFsd | CFsdsp => vec![f(rs2), mem(imm, rs1)],
        CBeqz | CBnez => vec![x(rs1), target_dec(imm)],
        CJ => vec![target_dec(imm)],
    };
    (name.to_string(), args)
}

#[cfg(test)]
mod tests {
    use super::spike_disassemble as d;

    #[test]
    fn reset_vector_reads_as_spike_prints_it() {
        assert_eq!(d(0x0000_0297), "auipc   t0, 0x0");
        assert_eq!(d(0x0202_8593), "addi    a1, t0, 32");
        assert_eq!(d(0xf140_2573), "csrr    a0, mhartid");
        assert_eq!(d(0x0182_b283), "ld      t0, 24(t0)");
        assert_eq!(d(0x0002_8067), "jr      t0");
        assert_eq!(d(0x0500_006f), "j       pc + 0x50");
    }

    #[test]
    fn pseudo_instructions_and_operand_forms() {
        assert_eq!(d(0x0000_0013), "nop");
        assert_eq!(d(0x0050_0513), "li      a0, 5");
        assert_eq!(d(0x0005_8513), "mv      a0, a1");
        assert_eq!(d(0x0000_8067), "ret");
        assert_eq!(d(0x3052_9073), "csrw    mtvec, t0");
        assert_eq!(d(0x0ff0_000f), "fence   iorw,iorw");
        assert_eq!(d(0x00b5_0463), "beq     a0, a1, pc + 8");
        assert_eq!(d(0x0005_0463), "beqz    a0, pc + 8");
        assert_eq!(d(0x02b5_0553), "fadd.d  fa0, fa0, fa1");
        assert_eq!(d(0x0405_252f), "amoadd.w.aq a0, zero, (a0)");
        assert_eq!(d(0x4501), "c.li    a0, 0");
        assert_eq!(d(0x8082), "c.ret");
        assert_eq!(d(0x1141), "c.addi  sp, -16");
        assert_eq!(d(0xbfe5), "c.j     pc - 8");
        assert_eq!(d(0x0000), "c.unimp");
        assert_eq!(d(0x2805_2033), "xperm4 (args unknown)");
        assert_eq!(d(0xffff_ffff), "unknown");
    }
}
