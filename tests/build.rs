//! Generates one `#[test]` per line of `firmware/tests.txt`, so a failure
//! names the program and board. The manifest's fields: name, elf (relative
//! to firmware/), machine, smp, expected exit code, expected output line
//! prefix (the rest of the line).

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    mark_missing_firmware();
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

/// Debian's firmware the end-to-end boots use.
const FIRMWARE_PACKAGES: &[&str] = &[
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf",
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf",
    "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf",
];

/// Marks the boots of real firmware `#[ignore]`d (so the test run reports
/// them as ignored, not as passed) when Debian's packages are missing —
/// except under `CI=true`, where they run and fail.
fn mark_missing_firmware() {
    println!("cargo::rustc-check-cfg=cfg(firmware_packages_missing)");
    println!("cargo::rerun-if-env-changed=CI");
    // The directories, not the files: a package installed or removed
    // changes them, whatever the files' own dates.
    for p in FIRMWARE_PACKAGES {
        if let Some(dir) = std::path::Path::new(p).parent() {
            println!("cargo::rerun-if-changed={}", dir.display());
        }
    }
    let missing = FIRMWARE_PACKAGES
        .iter()
        .any(|p| !std::path::Path::new(p).exists());
    if missing && std::env::var("CI").as_deref() != Ok("true") {
        println!("cargo::rustc-cfg=firmware_packages_missing");
        println!(
            "cargo::warning=Debian's opensbi and u-boot-qemu are not installed: the firmware boots are ignored"
        );
    }
}
