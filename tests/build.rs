//! Generates one `#[test]` per line of `firmware/tests.txt`, so a failure
//! names the program and board. The manifest's fields: name, elf (relative
//! to firmware/), machine, smp, expected exit code, expected output line
//! prefix (the rest of the line).

#[path = "firmware_packages.rs"]
mod firmware_packages;

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    firmware_packages::mark_missing_firmware();
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf();
    let manifest = root.join("firmware/tests.txt");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let mut out = String::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut rest = line;
        let mut next = |what: &str| {
            rest = rest.trim_start();
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (field, tail) = rest.split_at(end);
            assert!(
                !field.is_empty(),
                "{}:{}: missing {what}",
                manifest.display(),
                lineno + 1
            );
            rest = tail;
            field.to_string()
        };
        let name = next("name");
        let elf = next("elf");
        let machine = next("machine");
        let smp: u32 = next("smp").parse().expect("smp is a number");
        let exit: u32 = next("exit").parse().expect("exit is a number");
        let expect = rest.trim().to_string();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{}:{}: test name `{name}` is not an identifier",
            manifest.display(),
            lineno + 1
        );
        let elf_path = root.join("firmware").join(&elf);
        writeln!(
            out,
            "#[test]\nfn {name}() {{\n    ferrite_tests::run_manifest_test(&ferrite_tests::ManifestTest {{ name: {name:?}, elf: {elf_path:?}, machine: {machine:?}, smp: {smp}, exit: {exit}, expect: {expect:?} }});\n}}\n",
            elf_path = elf_path.display().to_string(),
        )
        .expect("write to String");
    }
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("firmware_tests.rs");
    std::fs::write(&dest, out).expect("write generated tests");
}
