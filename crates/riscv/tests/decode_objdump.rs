//! Cross-check of the decoder and the disassembler against GNU objdump for
//! the extensions capstone's tables lack (`tests/decode_capstone.rs` covers
//! the rest): Zfh/Zfhmin, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zicbom, Zicboz.
//! Zicond is newer than Debian 12's binutils 2.40 and is checked by the
//! riscv-tests and the `bitmanip` guest instead.
//!
//! Every word of a sweep over the major opcodes, funct3 and funct7 (and
//! every OP-IMM immediate) that this decoder decodes to one of those
//! extensions is assembled as data into an ELF whose architecture attribute
//! names the extensions, disassembled by objdump, and compared: same
//! mnemonic, same operands (spacing ignored, immediates compared by value).
//! Needs `riscv64-unknown-elf-as` and `-objdump` (Debian's
//! `binutils-riscv64-unknown-elf`); without them the test says so and
//! passes, except under `CI=true`, where it fails.

use std::fmt::Write as _;
use std::process::Command;

use ferrite_riscv::decode::{Extension, decode};
use ferrite_riscv::disasm::disassemble;

const ARCH: &str = "rv64gc_zfh_zba_zbb_zbc_zbs_zbkb_zbkx_zicbom_zicboz";

fn tool(name: &str) -> Option<String> {
    let path = format!("riscv64-unknown-elf-{name}");
    Command::new(&path)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| path)
}

/// Words of the sweep that decode to an instruction of the checked
/// extensions.
fn words() -> Vec<u32> {
    use Extension::*;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut candidates = Vec::new();
    for opcode in 0..32u32 {
        for funct3 in 0..8u32 {
            for funct7 in 0..128u32 {
                for _ in 0..3 {
                    let r = next();
                    let rs2 = match r % 4 {
                        0 => 0,
                        1 => 1,
                        _ => ((r >> 8) % 32) as u32,
                    };
                    let rs1 = ((r >> 16) % 32) as u32;
                    let rd = ((r >> 24) % 32) as u32;
                    candidates.push(
                        funct7 << 25
                            | rs2 << 20
                            | rs1 << 15
                            | funct3 << 12
                            | rd << 7
                            | opcode << 2
                            | 3,
                    );
                }
            }
        }
    }
    // Every OP-IMM and OP-IMM-32 immediate with funct3 1 and 5 (the shifts,
    // bit operations and unary Zbb forms), and every MISC-MEM immediate.
    for imm in 0..4096u32 {
        for (opcode, funct3) in [(0x13, 1), (0x13, 5), (0x1b, 1), (0x1b, 5), (0x0f, 2)] {
            candidates.push(imm << 20 | 11 << 15 | funct3 << 12 | 10 << 7 | opcode);
        }
    }
    candidates
        .into_iter()
        .filter(|&w| {
            decode(w).is_ok_and(|i| {
                matches!(
                    i.op.extension(),
                    Zfh | Zfhmin | Zba | Zbb | Zbc | Zbs | Zbkb | Zbkx | Zicbom | Zicboz
                )
            })
        })
        .collect()
}

/// Operands compared by value where they are numbers (also the offset of
/// `offset(reg)`; `0(reg)` is `(reg)`); objdump's `# target` comments
/// dropped.
fn normalize(text: &str) -> Vec<String> {
    let text = text.split('#').next().unwrap_or("").replace(' ', "");
    let (mnemonic, operands) = text
        .split_once('\t')
        .map(|(m, o)| (m.to_string(), o.to_string()))
        .unwrap_or_else(|| (text.clone(), String::new()));
    let mut out = vec![mnemonic];
    for op in operands.trim_end().split(',').filter(|o| !o.is_empty()) {
        let (number, base) = match op.find('(') {
            Some(i) => (&op[..i], &op[i..]),
            None => (op, ""),
        };
        let value = if number.is_empty() {
            Some(0)
        } else if let Some(h) = number.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if let Some(h) = number.strip_prefix("-0x") {
            i64::from_str_radix(h, 16).ok().map(|v| -v)
        } else {
            number.parse::<i64>().ok()
        };
        out.push(match value {
            Some(v) if base.is_empty() => v.to_string(),
            Some(v) => format!("{v}{base}"),
            None => op.to_string(),
        });
    }
    // objdump names the immediate forms of the Zbs operations and the
    // rotates by their register forms (`bset a0, a1, 3`); the
    // specification's names (`bseti`), which this disassembler prints, are
    // the same instructions.
    let immediate_last = out.len() == 4 && out[3].parse::<i64>().is_ok();
    if immediate_last {
        match out[0].as_str() {
            "bset" | "bclr" | "binv" | "bext" | "ror" => out[0].push('i'),
            "rorw" => out[0] = "roriw".to_string(),
            _ => {}
        }
    }
    out
}

#[test]
fn new_extensions_match_objdump() {
    let (Some(asm), Some(objdump)) = (tool("as"), tool("objdump")) else {
        let msg = "decode_objdump: riscv64-unknown-elf-as/objdump not found \
                   (Debian's binutils-riscv64-unknown-elf); skipped";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("{msg}");
        return;
    };
    let words = words();
    assert!(
        words.len() > 3_000,
        "the sweep found only {} words",
        words.len()
    );
    let dir = std::env::temp_dir().join(format!("ferrite-objdump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (src, obj) = (dir.join("w.s"), dir.join("w.o"));
    let mut text = String::from(".text\n");
    for w in &words {
        let _ = writeln!(text, ".insn {w:#010x}");
    }
    std::fs::write(&src, text).expect("write source");
    let st = Command::new(&asm)
        .arg(format!("-march={ARCH}"))
        .arg("-o")
        .arg(&obj)
        .arg(&src)
        .status()
        .expect("run as");
    assert!(st.success(), "as failed");
    let out = Command::new(&objdump)
        .arg("-d")
        .arg(&obj)
        .output()
        .expect("run objdump");
    let _ = std::fs::remove_dir_all(&dir);
    let listing = String::from_utf8_lossy(&out.stdout);
    // Lines: "   4:\t08c5853b          \tadd.uw\ta0,a1,a2"
    let theirs: Vec<&str> = listing
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let addr = parts.next()?;
            addr.trim().strip_suffix(':')?;
            parts.next()?;
            parts.next()
        })
        .collect();
    assert_eq!(
        theirs.len(),
        words.len(),
        "objdump listed a different number of words"
    );
    let mut failures = Vec::new();
    for (w, t) in words.iter().zip(&theirs) {
        let insn = decode(*w).expect("filtered to decodable words");
        let ours = disassemble(&insn, 0).replacen(' ', "\t", 1);
        if normalize(&ours) != normalize(t) {
            failures.push(format!("{w:#010x}: ours {ours:?}, objdump {t:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} words differ from objdump:\n{}",
        failures.len(),
        words.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}
