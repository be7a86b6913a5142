//! The instruction decoder: one raw instruction word in, one [`Insn`] out.
//!
//! The decoder covers RV64IMAFDC, Zfh, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx,
//! Zicond, Zicbom, Zicboz, Zicsr, Zifencei and the privileged instructions
//! (`mret`, `sret`, `wfi`, `sfence.vma`); it decodes everything it knows,
//! and the hart's ISA ([`crate::isa::Isa`]) decides at translation which
//! of it executes. Its one rule: every
//! consumer (execution, block translation, the disassembler used in traces)
//! reads the same decoded form, so what is printed is what executes.
//!
//! # Field conventions
//!
//! | instructions              | `rd` / `rs1` / `rs2`         | `imm`                                          |
//! |---------------------------|------------------------------|------------------------------------------------|
//! | I/S/B/J formats           | as encoded                   | the sign-extended immediate (byte offset)      |
//! | `lui`, `auipc`            | `rd`                         | `inst & 0xffff_f000` as `i32` (already shifted) |
//! | shifts by immediate       | as encoded                   | shamt (0..=63, 0..=31 for the `*w` forms)      |
//! | `csrr*`                   | `rd`, `rs1`                  | CSR number, 0..=4095                           |
//! | `csrr*i`                  | `rd`, `rs1` = zimm (0..=31)  | CSR number, 0..=4095                           |
//! | LR / SC / AMO             | as encoded (`rs2` = 0 for LR)| bit 1 = aq, bit 0 = rl                         |
//! | `fence`, `fence.i`        | as encoded (ignored)         | `inst[31:20]`: fm in bits 11:8, pred in 7:4, succ in 3:0 (bit order `i o r w`, `i` highest) |
//! | `sfence.vma`              | `rs1` = vaddr, `rs2` = asid  | 0                                              |
//! | `ecall` .. `wfi`          | 0                            | 0                                              |
//! | FP loads and stores       | `rd`/`rs2` are f registers   | the byte offset                                |
//! | FP arithmetic, conversions| f or x registers as the instruction reads them; `rs3` for the fused multiply-adds | the rounding mode field (0..=4, 7 = dynamic; 0 where there is none) |
//! | `cbo.*`                   | `rs1` = base                 | 0                                              |
//!
//! Fields an instruction does not use are 0. Compressed instructions are
//! expanded to the base instruction they stand for (`c.lwsp a0, 8(sp)` is
//! `lw a0, 8(x2)`, `c.mv` is `add rd, x0, rs2`, `c.j` is `jal x0`), with
//! `len == 2` and [`Form`] naming the compressed mnemonic.
//!
//! # What is illegal
//!
//! Everything outside the extensions above (Q, V, RV32-only encodings such
//! as `c.flw`), the reserved static rounding modes 5 and 6, all reserved
//! encodings (the all-zero parcel, `c.addi4spn` with a zero immediate,
//! `c.lui`/`c.addi16sp` with a zero immediate, `c.jr` with `rs1 = 0`,
//! `c.lwsp`/`c.ldsp` with `rd = 0`, `c.addiw` with `rd = 0`, `*w` shifts with
//! shamt bit 5 set) and system instructions with nonzero reserved fields.
//! HINT encodings (for instance `c.li x0, 1`, `slli x0, ..`) are legal: they
//! write `x0`, which ignores the value. As in QEMU and Spike, `fence` and
//! `fence.i` ignore their reserved `rd`, `rs1` and (for `fence`) `fm` fields.

mod base;
mod compressed;
mod float;
mod op;

pub use op::{Extension, Form, FpFormat, Op};

/// A decoded instruction. `Copy` and 12 bytes: blocks store these directly.
///
/// See the [module documentation](self) for what each field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// The operation (for compressed instructions, the base operation).
    pub op: Op,
    /// Destination register, 0..=31.
    pub rd: u8,
    /// First source register, 0..=31 (or the CSR zimm for `csrr*i`).
    pub rs1: u8,
    /// Second source register, 0..=31.
    pub rs2: u8,
    /// Third source register of the fused multiply-adds, 0..=31 (0 for
    /// every other instruction).
    pub rs3: u8,
    /// The immediate, packed as the module documentation describes.
    pub imm: i32,
    /// Instruction length in bytes: 2 or 4.
    pub len: u8,
    /// Which encoding the instruction came from.
    pub form: Form,
}

impl Insn {
    /// A 32-bit instruction with the given fields.
    pub const fn new(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Self {
        Insn {
            op,
            rd,
            rs1,
            rs2,
            rs3: 0,
            imm,
            len: 4,
            form: Form::Standard,
        }
    }

    /// A 32-bit floating-point instruction: `imm` is the rounding mode
    /// field (0..=4, or 7 for dynamic) where the instruction has one.
    pub const fn fp(op: Op, rd: u8, rs1: u8, rs2: u8, rs3: u8, rm: u8) -> Self {
        Insn {
            op,
            rd,
            rs1,
            rs2,
            rs3,
            imm: rm as i32,
            len: 4,
            form: Form::Standard,
        }
    }

    /// The rounding-mode field of a floating-point instruction that has
    /// one (0..=4 static, 7 dynamic).
    pub const fn rm(&self) -> u8 {
        (self.imm & 7) as u8
    }

    /// A compressed instruction expanded to `op` with the given fields.
    pub(crate) const fn compressed(form: Form, op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Self {
        Insn {
            op,
            rd,
            rs1,
            rs2,
            rs3: 0,
            imm,
            len: 2,
            form,
        }
    }

    /// The target of a direct control transfer (`jal` and the conditional
    /// branches, compressed or not) located at `pc`: `pc + imm`, wrapping.
    /// `None` for everything else, including `jalr`, whose target depends
    /// on a register.
    pub const fn direct_target(&self, pc: u64) -> Option<u64> {
        if self.op.is_branch() || matches!(self.op, Op::Jal) {
            Some(pc.wrapping_add(self.imm as i64 as u64))
        } else {
            None
        }
    }

    /// The address of the next instruction in sequence: `pc + len`.
    pub const fn next_pc(&self, pc: u64) -> u64 {
        pc.wrapping_add(self.len as u64)
    }

    /// The CSR number of a Zicsr instruction (meaningless for other ops).
    pub const fn csr(&self) -> u16 {
        (self.imm & 0xfff) as u16
    }

    /// The acquire bit of an LR/SC/AMO.
    pub const fn aq(&self) -> bool {
        self.imm & 2 != 0
    }

    /// The release bit of an LR/SC/AMO.
    pub const fn rl(&self) -> bool {
        self.imm & 1 != 0
    }

    /// The predecessor set of a `fence` (bits `i o r w`, `i` = bit 3).
    pub const fn fence_pred(&self) -> u8 {
        ((self.imm >> 4) & 0xf) as u8
    }

    /// The successor set of a `fence` (bits `i o r w`, `i` = bit 3).
    pub const fn fence_succ(&self) -> u8 {
        (self.imm & 0xf) as u8
    }

    /// The fence mode field of a `fence` (0 = normal, 8 = TSO).
    pub const fn fence_fm(&self) -> u8 {
        ((self.imm >> 8) & 0xf) as u8
    }
}

/// The word is not an instruction this hart implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("illegal instruction {raw:#010x}")]
pub struct IllegalInsn {
    /// The instruction bits: the 16-bit parcel for a compressed encoding,
    /// all 32 bits otherwise. This is what `mtval`/`stval` report.
    pub raw: u32,
}

/// Result of decoding.
pub type Result<T> = std::result::Result<T, IllegalInsn>;

/// Decode one instruction.
///
/// If `raw & 3 != 3` the low 16 bits are a compressed instruction and the
/// upper 16 bits are ignored; otherwise all 32 bits are one instruction.
/// Never panics and never allocates.
///
/// ```
/// use ferrite_riscv::decode::{decode, Form, Op};
/// let i = decode(0x0015_0513).unwrap(); // addi a0, a0, 1
/// assert_eq!((i.op, i.rd, i.rs1, i.imm, i.len), (Op::Addi, 10, 10, 1, 4));
/// let c = decode(0x0505).unwrap(); // c.addi a0, 1
/// assert_eq!((c.op, c.rd, c.rs1, c.imm, c.len, c.form), (Op::Addi, 10, 10, 1, 2, Form::CAddi));
/// assert!(decode(0).is_err()); // the all-zero parcel is defined illegal
/// ```
#[inline]
pub fn decode(raw: u32) -> Result<Insn> {
    if raw & 3 == 3 {
        base::decode_base(raw).ok_or(IllegalInsn { raw })
    } else {
        let parcel = raw & 0xffff;
        compressed::decode_compressed(parcel as u16).ok_or(IllegalInsn { raw: parcel })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insn_is_small() {
        assert!(std::mem::size_of::<Insn>() <= 16);
        assert_eq!(std::mem::size_of::<Insn>(), 12);
    }

    #[test]
    fn compressed_uses_low_half_only() {
        let a = decode(0x0505).unwrap();
        let b = decode(0xdead_0505).unwrap();
        assert_eq!(a, b);
        assert_eq!(decode(0xdead_0000), Err(IllegalInsn { raw: 0 }));
    }

    #[test]
    fn illegal_reports_raw() {
        assert_eq!(decode(0xffff_ffff), Err(IllegalInsn { raw: 0xffff_ffff }));
        assert_eq!(
            IllegalInsn { raw: 0x1234 }.to_string(),
            "illegal instruction 0x00001234"
        );
    }

    #[test]
    fn accessors() {
        let f = decode(0x8330_000f).unwrap(); // fence.tso
        assert_eq!((f.fence_fm(), f.fence_pred(), f.fence_succ()), (8, 3, 3));
        let a = decode(0x06b5_352f).unwrap(); // amoadd.d.aqrl a0, a1, (a0)
        assert!(a.aq() && a.rl());
        let c = decode(0x3000_2573).unwrap(); // csrr a0, mstatus
        assert_eq!(c.csr(), 0x300);
        let b = decode(0xfe05_08e3).unwrap(); // beqz a0, -16
        assert_eq!(b.direct_target(0x8000_0010), Some(0x8000_0000));
        assert_eq!(b.direct_target(0), Some(u64::MAX - 15));
        let j = decode(0xa001).unwrap(); // c.j 0
        assert_eq!(
            (j.direct_target(0x100), j.next_pc(0x100)),
            (Some(0x100), 0x102)
        );
        assert_eq!(decode(0x0000_8067).unwrap().direct_target(0x100), None); // ret
    }
}
