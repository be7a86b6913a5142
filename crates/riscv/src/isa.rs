//! The ISA a hart implements: which extensions it has, parsed from the
//! reference simulator's `--isa` strings (`rv64imac`, `rv64gc`,
//! `rv64gc_zba_zbb_zicond`), and what follows from the choice: `misa`, the
//! device tree's `riscv,isa` strings, and which decoded instructions
//! execute ([`Isa::allows`]; the others raise illegal-instruction).

use std::fmt;

use crate::decode::{Extension, Insn, Op};

/// The multi-letter extensions Ferrite knows, in canonical order, with
/// whether each is one the decoder tells apart (`Some`) or one that is
/// always there once named (counters, hints, Sstc).
const MULTI_LETTER: [(&str, Option<Extension>); 21] = [
    ("zicbom", Some(Extension::Zicbom)),
    ("zicbop", None),
    ("zicboz", Some(Extension::Zicboz)),
    ("zicntr", None),
    ("zicond", Some(Extension::Zicond)),
    ("zicsr", Some(Extension::Zicsr)),
    ("zifencei", Some(Extension::Zifencei)),
    ("zihintntl", None),
    ("zihintpause", None),
    ("zihpm", None),
    ("zfh", Some(Extension::Zfh)),
    ("zfhmin", Some(Extension::Zfhmin)),
    ("zba", Some(Extension::Zba)),
    ("zbb", Some(Extension::Zbb)),
    ("zbc", Some(Extension::Zbc)),
    ("zbkb", Some(Extension::Zbkb)),
    ("zbkx", Some(Extension::Zbkx)),
    ("zbs", Some(Extension::Zbs)),
    ("sstc", None),
    ("svnapot", None),
    ("svpbmt", None),
];

/// Indices in [`MULTI_LETTER`] of the extensions the page walk asks about
/// on every walk (a bit test, not a name search).
const SVNAPOT: usize = 19;
const SVPBMT: usize = 20;

/// The single-letter extensions Ferrite implements, in canonical order.
const SINGLE_LETTER: [(char, Extension); 6] = [
    ('i', Extension::I),
    ('m', Extension::M),
    ('a', Extension::A),
    ('f', Extension::F),
    ('d', Extension::D),
    ('c', Extension::C),
];

/// Extensions that exist but that Ferrite does not implement: naming one
/// is an error that says so, rather than "unknown".
const UNSUPPORTED: [&str; 14] = [
    "e", "q", "v", "h", "p", "j", "l", "n", "t", "zfinx", "zdinx", "zvl128b", "zfa", "svinval",
];

/// Why an ISA string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    /// The string does not start with `rv64`.
    #[error("ISA string `{0}` must start with `rv64` (Ferrite's harts are RV64)")]
    NotRv64(String),
    /// The base is missing (`rv64` must be followed by `i` or `g`).
    #[error("ISA string `{0}` must name the base integer ISA: `rv64i...` or `rv64g...`")]
    NoBase(String),
    /// An extension Ferrite does not implement.
    #[error("extension `{0}` is not supported by Ferrite")]
    Unsupported(String),
    /// A name that is no RISC-V extension Ferrite knows.
    #[error("unknown extension `{0}`")]
    Unknown(String),
    /// An extension whose prerequisite is missing (`d` without `f`).
    #[error("extension `{0}` requires `{1}`")]
    Requires(&'static str, &'static str),
}

/// A set of extensions a hart implements. See the module documentation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Isa {
    /// Bit `e as u32` for each [`Extension`] `e`.
    decoded: u32,
    /// Bit `i` for `MULTI_LETTER[i]` named (including the decoded ones).
    named: u32,
}

impl Isa {
    /// Everything Ferrite implements, as QEMU's default rv64 CPU enables
    /// all it has: `rv64imafdc` with every multi-letter extension above.
    pub fn full() -> Isa {
        let mut isa = Isa {
            decoded: 0,
            named: 0,
        };
        for (_, e) in SINGLE_LETTER {
            isa.decoded |= bit(e);
        }
        for (i, (_, e)) in MULTI_LETTER.iter().enumerate() {
            isa.named |= 1 << i;
            if let Some(e) = e {
                isa.decoded |= bit(*e);
            }
        }
        isa
    }

    /// Parse an ISA string in the reference simulator's form: `rv64`, the
    /// base (`i`, or `g` for `imafd_zicsr_zifencei`), more single letters,
    /// then multi-letter extensions each after an underscore. Case does not
    /// matter. `b` stands for `zba_zbb_zbs`. Zicsr, Zifencei, Zicntr,
    /// Zihpm, Zihintpause, Zihintntl and Sstc are always present, as on
    /// QEMU's CPUs; naming them changes nothing.
    pub fn parse(text: &str) -> Result<Isa, IsaError> {
        let lower = text.trim().to_ascii_lowercase();
        let rest = lower
            .strip_prefix("rv64")
            .ok_or_else(|| IsaError::NotRv64(text.to_string()))?;
        let mut parts = rest.split('_').filter(|p| !p.is_empty());
        let letters = parts.next().unwrap_or("");
        let mut isa = Isa::always();
        let mut chars = letters.chars();
        match chars.next() {
            Some('i') => {}
            Some('g') => isa.add_letters("imafd")?,
            _ => return Err(IsaError::NoBase(text.to_string())),
        }
        let singles: String = chars.collect();
        // Spike accepts multi-letter extensions run on after the letters
        // only with an underscore; a `z` or `s` here starts one.
        let (singles, run_on) = match singles.find(['z', 's', 'x']) {
            Some(i) => (&singles[..i], Some(&singles[i..])),
            None => (singles.as_str(), None),
        };
        isa.add_letters(singles)?;
        for name in run_on.into_iter().chain(parts) {
            isa.add_named(name)?;
        }
        isa.check_requirements()?;
        Ok(isa)
    }

    /// The extensions every hart has whatever the string says.
    fn always() -> Isa {
        let mut isa = Isa {
            decoded: bit(Extension::I) | bit(Extension::Zicsr) | bit(Extension::Zifencei),
            named: 0,
        };
        for name in [
            "zicsr",
            "zifencei",
            "zicntr",
            "zihpm",
            "zihintntl",
            "zihintpause",
            "sstc",
        ] {
            // These are all in the table.
            let _ = isa.add_named(name);
        }
        isa
    }

    fn add_letters(&mut self, letters: &str) -> Result<(), IsaError> {
        for c in letters.chars() {
            if c == 'b' {
                for name in ["zba", "zbb", "zbs"] {
                    self.add_named(name)?;
                }
                continue;
            }
            match SINGLE_LETTER.iter().find(|(l, _)| *l == c) {
                Some((_, e)) => self.decoded |= bit(*e),
                None if UNSUPPORTED.contains(&c.to_string().as_str()) => {
                    return Err(IsaError::Unsupported(c.to_string()));
                }
                None => return Err(IsaError::Unknown(c.to_string())),
            }
        }
        Ok(())
    }

    fn add_named(&mut self, name: &str) -> Result<(), IsaError> {
        if name.len() == 1 {
            return self.add_letters(name);
        }
        match MULTI_LETTER.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                self.named |= 1 << i;
                if let Some(e) = MULTI_LETTER[i].1 {
                    self.decoded |= bit(e);
                }
                Ok(())
            }
            None if UNSUPPORTED.contains(&name) || name.starts_with("zv") => {
                Err(IsaError::Unsupported(name.to_string()))
            }
            None => Err(IsaError::Unknown(name.to_string())),
        }
    }

    fn check_requirements(&mut self) -> Result<(), IsaError> {
        if self.has(Extension::D) && !self.has(Extension::F) {
            return Err(IsaError::Requires("d", "f"));
        }
        if self.has(Extension::Zfh) {
            self.add_named("zfhmin")?;
        }
        if self.has(Extension::Zfhmin) && !self.has(Extension::F) {
            return Err(IsaError::Requires("zfhmin", "f"));
        }
        Ok(())
    }

    /// The hart has extension `e`.
    pub fn has(&self, e: Extension) -> bool {
        self.decoded & bit(e) != 0
    }

    /// The hart has Svnapot (64 KiB NAPOT page-table leaves).
    pub fn has_svnapot(&self) -> bool {
        self.named & (1 << SVNAPOT) != 0
    }

    /// The hart has Svpbmt (`menvcfg.PBMTE` and the PTE's PBMT field).
    pub fn has_svpbmt(&self) -> bool {
        self.named & (1 << SVPBMT) != 0
    }

    /// The hart has F (and so `fcsr` and `mstatus.FS`).
    pub fn has_fp(&self) -> bool {
        self.has(Extension::F)
    }

    /// Whether the hart executes `insn`: its extension (or, for the
    /// instructions two extensions share, either of them) is present, and
    /// for a compressed encoding C too.
    pub fn allows(&self, insn: &Insn) -> bool {
        use Op::*;
        if insn.form.is_compressed() && !self.has(Extension::C) {
            return false;
        }
        let ext = insn.op.extension();
        if self.has(ext) {
            // The H conversions from and to D need D as well.
            return !matches!(insn.op, FcvtDH | FcvtHD) || self.has(Extension::D);
        }
        match ext {
            Extension::Zbb => {
                self.has(Extension::Zbkb)
                    && matches!(
                        insn.op,
                        Andn | Orn | Xnor | Rol | Rolw | Ror | Rori | Roriw | Rev8 | ZextH
                    )
            }
            Extension::Zfhmin => self.has(Extension::Zfh),
            _ => false,
        }
    }

    /// The `misa` value: MXL = 2 (RV64), the single-letter extensions, and
    /// S and U (the hart has both privilege modes).
    pub fn misa(&self) -> u64 {
        let mut misa = 2u64 << 62;
        for (c, e) in SINGLE_LETTER {
            if self.has(e) {
                misa |= 1 << (c as u8 - b'a');
            }
        }
        misa | 1 << (b's' - b'a') | 1 << (b'u' - b'a')
    }

    /// The device tree's `riscv,isa-extensions`: each extension's name, in
    /// canonical order.
    pub fn extensions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (c, e) in SINGLE_LETTER {
            if self.has(e) {
                out.push(match c {
                    'i' => "i",
                    'm' => "m",
                    'a' => "a",
                    'f' => "f",
                    'd' => "d",
                    _ => "c",
                });
            }
        }
        for (i, (name, _)) in MULTI_LETTER.iter().enumerate() {
            if self.named & (1 << i) != 0 {
                out.push(*name);
            }
        }
        out
    }
}

impl Default for Isa {
    fn default() -> Self {
        Isa::full()
    }
}

/// The canonical ISA string (`rv64imafdc_zicbom_..._sstc`), as the device
/// tree's `riscv,isa` holds it.
impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rv64")?;
        let exts = self.extensions();
        for e in exts.iter().filter(|e| e.len() == 1) {
            f.write_str(e)?;
        }
        for e in exts.iter().filter(|e| e.len() > 1) {
            write!(f, "_{e}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Isa({self})")
    }
}

impl std::str::FromStr for Isa {
    type Err = IsaError;

    fn from_str(s: &str) -> Result<Isa, IsaError> {
        Isa::parse(s)
    }
}

const fn bit(e: Extension) -> u32 {
    1 << e as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    #[test]
    fn parses_the_reference_forms() {
        let imac = Isa::parse("rv64imac").unwrap();
        assert_eq!(
            imac.to_string(),
            "rv64imac_zicntr_zicsr_zifencei_zihintntl_zihintpause_zihpm_sstc"
        );
        assert_eq!(imac.misa(), 0x8000_0000_0014_1105);
        let gc = Isa::parse("RV64GC").unwrap();
        assert!(gc.has(Extension::D) && gc.has(Extension::C) && !gc.has(Extension::Zba));
        assert_eq!(gc.misa(), 0x8000_0000_0014_112d);
        let b = Isa::parse("rv64gc_zba_zbb_zicond").unwrap();
        assert!(b.has(Extension::Zba) && b.has(Extension::Zicond) && !b.has(Extension::Zbs));
        assert!(Isa::parse("rv64gcb").unwrap().has(Extension::Zbs));
        assert!(Isa::parse("rv64gc_zfh").unwrap().has(Extension::Zfhmin));
        assert_eq!(Isa::parse(&Isa::full().to_string()), Ok(Isa::full()));
    }

    #[test]
    fn page_walk_extension_indices_name_them() {
        assert_eq!(MULTI_LETTER[SVNAPOT].0, "svnapot");
        assert_eq!(MULTI_LETTER[SVPBMT].0, "svpbmt");
        assert!(Isa::full().has_svnapot() && Isa::full().has_svpbmt());
        let gc = Isa::parse("rv64gc").unwrap();
        assert!(!gc.has_svnapot() && !gc.has_svpbmt());
        assert!(Isa::parse("rv64gc_svpbmt").unwrap().has_svpbmt());
    }

    #[test]
    fn refuses_with_one_clear_reason() {
        assert_eq!(
            Isa::parse("rv32imac"),
            Err(IsaError::NotRv64("rv32imac".into()))
        );
        assert_eq!(Isa::parse("rv64"), Err(IsaError::NoBase("rv64".into())));
        assert_eq!(
            Isa::parse("rv64gcv"),
            Err(IsaError::Unsupported("v".into()))
        );
        assert_eq!(
            Isa::parse("rv64gc_zvl128b"),
            Err(IsaError::Unsupported("zvl128b".into()))
        );
        assert_eq!(
            Isa::parse("rv64gc_zfoo"),
            Err(IsaError::Unknown("zfoo".into()))
        );
        assert_eq!(Isa::parse("rv64imadc"), Err(IsaError::Requires("d", "f")));
    }

    #[test]
    fn gates_instructions() {
        let imac = Isa::parse("rv64imac").unwrap();
        let ins = |w| decode(w).unwrap();
        assert!(imac.allows(&ins(0x0015_0513))); // addi
        assert!(!imac.allows(&ins(0x02c5_f553))); // fadd.d
        assert!(!imac.allows(&ins(0x2588))); // c.fld
        assert!(!imac.allows(&ins(0x08c5_853b))); // add.uw
        let zbkb = Isa::parse("rv64i_zbkb").unwrap();
        assert!(zbkb.allows(&ins(0x6b85_d513))); // rev8
        assert!(!zbkb.allows(&ins(0x6005_9513))); // clz
        let i = Isa::parse("rv64i").unwrap();
        assert!(!i.allows(&ins(0x0505))); // c.addi without C
        assert!(!i.allows(&ins(0x02b5_4533))); // div without M
        assert!(Isa::full().allows(&ins(0x0045_200f))); // cbo.zero
    }
}
