//! Cross-check of the decoder and the disassembler against capstone.
//!
//! For every word tested, `decode` + `disassemble` must give the same
//! verdict (legal or illegal) and the same text as capstone in RV64 mode
//! with the compressed extension. Words where the two differ for a known,
//! legitimate reason are classified by an exact encoding rule ([`Known`]);
//! each class only forgives the expected shape of difference, and the number
//! of words forgiven per class is checked against a bound.

use std::collections::BTreeMap;

use capstone::prelude::*;
use ferrite_riscv::decode::{Extension, decode};
use ferrite_riscv::disasm::disassemble;

/// The pc used for both disassemblers (capstone prints branch offsets, not
/// targets, so its value does not show in the text).
const PC: u64 = 0x1000;

/// Known, legitimate differences between this decoder and capstone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// Instructions of extensions capstone's RISC-V tables (RV64GC) do not
    /// have: Zfh/Zfhmin, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zicond, Zicbom and
    /// Zicboz. capstone finds no instruction; `tests/decode_objdump.rs`
    /// checks these against GNU objdump instead.
    NotInCapstone,
    /// `fcvt.d.s`, `fcvt.d.w` and `fcvt.d.wu` with a rounding mode other
    /// than 0: they are exact, and capstone's tables fix their rm field at
    /// 0; the specification allows any valid rm (Spike and QEMU accept
    /// them).
    ExactConversionRm,
    /// `fence`/`fence.i` with nonzero reserved fields (rd, rs1, an unknown
    /// fm, or the fence.i immediate). The base ISA says implementations
    /// ignore these fields (QEMU and Spike decode them as plain fences);
    /// capstone rejects them.
    FenceReservedFields,
    /// Compressed HINTs that capstone rejects: c.li, c.lui, c.slli, c.mv and
    /// c.add with rd = x0, and c.nop with imm[5] set. The C extension
    /// defines them as legal HINTs (they execute as no-ops).
    CompressedHint,
    /// `c.lui rd, 0` (rd not x0/x2): reserved by the C extension, so
    /// illegal; capstone prints it as `c.lui rd, 0`.
    CLuiZero,
    /// The all-zero parcel: defined illegal by the C extension; capstone
    /// prints `c.unimp`.
    AllZeroParcel,
    /// `uret` (0x00200073), from the withdrawn N extension: not implemented
    /// (misa.N is clear), so illegal; capstone still decodes it.
    Uret,
    /// CSRs 0x3bd and 0x3be: capstone swaps the names pmpaddr13 and
    /// pmpaddr14; the disassembler prints the architectural names.
    PmpaddrNames,
}

fn capstone() -> Capstone {
    match Capstone::new()
        .riscv()
        .mode(arch::riscv::ArchMode::RiscV64)
        .extra_mode([arch::riscv::ArchExtraMode::RiscVC].into_iter())
        .build()
    {
        Ok(cs) => cs,
        Err(e) => panic!("capstone: {e}"),
    }
}

/// capstone's text for `w` (16-bit parcel if `w & 3 != 3`), or `None` if it
/// finds no instruction of the right length.
fn capstone_text(cs: &Capstone, w: u32) -> Option<String> {
    let le = w.to_le_bytes();
    let bytes = if w & 3 != 3 { &le[..2] } else { &le[..] };
    let insns = cs.disasm_count(bytes, PC, 1).ok()?;
    let i = insns.iter().next()?;
    if i.bytes().len() != bytes.len() {
        return Some(format!("<length {}>", i.bytes().len()));
    }
    let m = i.mnemonic().unwrap_or("");
    Some(match i.op_str() {
        Some(o) if !o.is_empty() => format!("{m} {o}"),
        _ => m.to_string(),
    })
}

fn our_text(w: u32) -> Option<String> {
    decode(w).ok().map(|i| disassemble(&i, PC))
}

/// The known-difference class `w` belongs to, judged from the encoding
/// alone.
fn classify(w: u32) -> Option<Known> {
    if let Ok(i) = decode(w) {
        use Extension::*;
        if matches!(
            i.op.extension(),
            Zfh | Zfhmin | Zba | Zbb | Zbc | Zbs | Zbkb | Zbkx | Zicond | Zicbom | Zicboz
        ) {
            return Some(Known::NotInCapstone);
        }
    }
    if w & 3 != 3 {
        let (quadrant, funct3) = (w & 3, (w >> 13) & 7);
        let rd = (w >> 7) & 31;
        let rs2 = (w >> 2) & 31;
        let ci_imm = ((w >> 7) & 0x20) | ((w >> 2) & 0x1f);
        return match (quadrant, funct3) {
            _ if w & 0xffff == 0 => Some(Known::AllZeroParcel),
            (1, 0) if rd == 0 && ci_imm & 0x20 != 0 => Some(Known::CompressedHint),
            (1, 2) if rd == 0 => Some(Known::CompressedHint),
            (1, 3) if rd == 0 && ci_imm != 0 => Some(Known::CompressedHint),
            (1, 3) if rd != 2 && ci_imm == 0 => Some(Known::CLuiZero),
            (2, 0) if rd == 0 => Some(Known::CompressedHint),
            (2, 4) if rd == 0 && rs2 != 0 => Some(Known::CompressedHint),
            _ => None,
        };
    }
    let opcode = w & 0x7f;
    let funct3 = (w >> 12) & 7;
    match opcode {
        0x0f if funct3 <= 1 => Some(Known::FenceReservedFields),
        0x53 if funct3 != 0 && matches!(w >> 20, 0x420 | 0xd20 | 0xd21) => {
            Some(Known::ExactConversionRm)
        }
        0x73 if w == 0x0020_0073 => Some(Known::Uret),
        0x73 if funct3 != 0 && funct3 != 4 && matches!(w >> 20, 0x3bd | 0x3be) => {
            Some(Known::PmpaddrNames)
        }
        _ => None,
    }
}

/// Does the difference between `ours` and `theirs` have the shape class
/// `known` forgives?
fn forgiven(known: Known, ours: &Option<String>, theirs: &Option<String>) -> bool {
    match (known, ours, theirs) {
        (Known::NotInCapstone, Some(_), None) => true,
        (Known::ExactConversionRm, Some(o), None) => o.starts_with("fcvt.d."),
        (Known::FenceReservedFields, Some(o), None) => o.starts_with("fence"),
        (Known::CompressedHint, Some(o), None) => o.starts_with("c."),
        (Known::CLuiZero, None, Some(t)) => t.starts_with("c.lui ") && t.ends_with(", 0"),
        (Known::AllZeroParcel, None, Some(t)) => t == "c.unimp",
        (Known::Uret, None, Some(t)) => t == "uret",
        (Known::PmpaddrNames, Some(o), Some(t)) => {
            let swapped = t
                .replace("pmpaddr13", "pmpaddr@")
                .replace("pmpaddr14", "pmpaddr13")
                .replace("pmpaddr@", "pmpaddr14");
            *o == swapped
        }
        _ => false,
    }
}

/// Outcome of a sweep: words compared, words forgiven per class, and the
/// first few unexplained mismatches.
#[derive(Default)]
struct Sweep {
    compared: usize,
    legal: usize,
    forgiven: BTreeMap<Known, usize>,
    failures: Vec<String>,
    failure_count: usize,
}

impl Sweep {
    fn run(words: impl IntoIterator<Item = u32>) -> Sweep {
        let cs = capstone();
        let mut s = Sweep::default();
        for w in words {
            s.compared += 1;
            let ours = our_text(w);
            let theirs = capstone_text(&cs, w);
            if ours.is_some() {
                s.legal += 1;
            }
            if ours == theirs {
                continue;
            }
            match classify(w) {
                Some(k) if forgiven(k, &ours, &theirs) => *s.forgiven.entry(k).or_default() += 1,
                k => {
                    s.failure_count += 1;
                    if s.failures.len() < 40 {
                        s.failures.push(format!(
                            "{w:#010x}: ours {ours:?}, capstone {theirs:?} ({k:?})"
                        ));
                    }
                }
            }
        }
        s
    }

    fn forgiven(&self, k: Known) -> usize {
        self.forgiven.get(&k).copied().unwrap_or(0)
    }

    fn assert_clean(&self) {
        println!(
            "compared {}, legal {}, forgiven {:?}",
            self.compared, self.legal, self.forgiven
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} words differ from capstone:\n{}",
            self.failure_count,
            self.compared,
            self.failures.join("\n")
        );
    }

    /// Assert that no class forgives more than `max_fraction` of the words
    /// compared, and that only the listed classes forgave anything.
    fn assert_bounded(&self, bounds: &[(Known, f64)]) {
        for (k, n) in &self.forgiven {
            let bound = bounds
                .iter()
                .find(|(b, _)| b == k)
                .map(|&(_, f)| (f * self.compared as f64) as usize);
            match bound {
                Some(b) => assert!(*n <= b, "{k:?} forgave {n} words, bound {b}"),
                None => panic!("{k:?} forgave {n} words in a sweep that expects none"),
            }
        }
    }
}

/// xorshift64: a fixed-seed generator, so every run tests the same words.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A register number biased towards the ones aliases care about.
    fn reg(&mut self) -> u32 {
        match self.next() % 8 {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            _ => (self.next() % 32) as u32,
        }
    }
}

#[test]
fn every_compressed_parcel() {
    let s = Sweep::run((0..0x1_0000u32).filter(|w| w & 3 != 3));
    s.assert_clean();
    assert_eq!(s.compared, 49152);
    // Exact counts: these classes are fixed sets of encodings.
    assert_eq!(s.forgiven(Known::AllZeroParcel), 1);
    // c.li x0 (64) + c.slli x0 (64) + c.lui x0 (63) + c.mv x0 (31)
    // + c.add x0 (31) + c.nop with imm[5] set (32).
    assert_eq!(s.forgiven(Known::CompressedHint), 285);
    // c.lui rd, 0 for the 30 registers other than x0 and x2.
    assert_eq!(s.forgiven(Known::CLuiZero), 30);
    assert_eq!(s.forgiven.len(), 3);
    // Sanity: most parcels are legal RV64C.
    assert!(s.legal > 30_000, "{} legal parcels", s.legal);
}

#[test]
fn random_words() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let s = Sweep::run((0..1_000_000).map(|_| rng.next() as u32 | 3));
    s.assert_clean();
    // 7 of the 32 major opcodes are F/D; a fence's reserved fields are
    // nonzero in nearly all random fences (2 of 256 opcode/funct3 pairs).
    s.assert_bounded(&[
        (Known::NotInCapstone, 0.05),
        (Known::ExactConversionRm, 1e-3),
        (Known::FenceReservedFields, 2.2 / 256.0),
        (Known::PmpaddrNames, 1e-4),
        (Known::Uret, 1e-5),
    ]);
    assert!(s.legal > 100_000, "{} legal words", s.legal);
}

#[test]
fn every_opcode_and_funct_combination() {
    // Every major opcode x funct3 x funct7, each with several biased
    // choices of rd, rs1 and rs2 (rs2 also forms the low I-immediate bits).
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut words = Vec::new();
    for opcode in 0..32u32 {
        for funct3 in 0..8u32 {
            for funct7 in 0..128u32 {
                for _ in 0..4 {
                    let rs2 = match rng.next() % 4 {
                        0 => 0,
                        1 => 1,
                        2 => 31,
                        _ => (rng.next() % 32) as u32,
                    };
                    words.push(
                        funct7 << 25
                            | rs2 << 20
                            | rng.reg() << 15
                            | funct3 << 12
                            | rng.reg() << 7
                            | opcode << 2
                            | 3,
                    );
                }
            }
        }
    }
    let s = Sweep::run(words);
    s.assert_clean();
    s.assert_bounded(&[
        (Known::NotInCapstone, 0.05),
        (Known::ExactConversionRm, 1e-3),
        (Known::FenceReservedFields, 2.2 / 256.0),
        (Known::PmpaddrNames, 1e-3),
        (Known::Uret, 1e-5),
    ]);
}

#[test]
fn every_csr_with_every_csr_op() {
    // All 4096 CSR numbers x the six Zicsr funct3 values x rd/rs1 in
    // {x0, x1, a0}: covers CSR names and every csr alias.
    let mut words = Vec::new();
    for csr in 0..4096u32 {
        for funct3 in [1u32, 2, 3, 5, 6, 7] {
            for rd in [0u32, 1, 10] {
                for rs1 in [0u32, 1, 11] {
                    words.push(csr << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | 0x73);
                }
            }
        }
    }
    let s = Sweep::run(words);
    s.assert_clean();
    // 2 CSRs x 6 ops x 9 register pairs.
    assert_eq!(s.forgiven(Known::PmpaddrNames), 2 * 6 * 9);
    assert_eq!(s.forgiven.len(), 1);
    assert_eq!(s.legal, 4096 * 6 * 9);
}

#[test]
fn system_and_fence_spaces() {
    // SYSTEM with funct3 = 0: every imm[11:0] with rd/rs1 in {0, 1}, plus
    // sfence.vma with every rs1/rs2 pair.
    let mut words = Vec::new();
    for imm in 0..4096u32 {
        for rd in [0u32, 1] {
            for rs1 in [0u32, 1] {
                words.push(imm << 20 | rs1 << 15 | rd << 7 | 0x73);
            }
        }
    }
    for rs1 in 0..32u32 {
        for rs2 in 0..32u32 {
            words.push(0x09 << 25 | rs2 << 20 | rs1 << 15 | 0x73);
        }
    }
    // Every fence fm/pred/succ with zero rd/rs1, and fence.i immediates.
    for imm in 0..4096u32 {
        words.push(imm << 20 | 0x0f);
        words.push(imm << 20 | 1 << 12 | 0x0f);
    }
    let s = Sweep::run(words);
    s.assert_clean();
    // Legal: ecall, ebreak, sret, mret, wfi; sfence.vma with rd = 0 and
    // rs1 in {x0, x1} in the first loop (64), all 1024 sfence.vma forms in
    // the second; every fence whatever its fm, and every fence.i.
    assert_eq!(s.legal, 5 + 64 + 1024 + 4096 + 4096);
    // capstone rejects fences whose fm is neither 0 nor the TSO form, and
    // fence.i with a nonzero immediate.
    assert_eq!(s.forgiven(Known::FenceReservedFields), 15 * 256 - 1 + 4095);
    assert_eq!(s.forgiven(Known::Uret), 1);
    assert_eq!(s.forgiven.len(), 2);
}
