//! Generates one `#[test]` per test of `firmware/tests.toml`, so a failure
//! names the program and board. Each calls the suite runner
//! (`ferrite_suite::run_manifest_test`), the code `ferrite suite` runs: the
//! manifest is checked there, this only reads the names.

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
    firmware_packages::mark_missing_linux_guest(&root);
    let manifest = root.join("firmware/tests.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let tests = table
        .get("test")
        .and_then(toml::Value::as_array)
        .unwrap_or_else(|| panic!("{}: no [[test]] tables", manifest.display()));
    let mut out = String::new();
    for (i, test) in tests.iter().enumerate() {
        let name = test
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("{}: test {} has no name", manifest.display(), i + 1));
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{}: test name `{name}` is not an identifier",
            manifest.display()
        );
        writeln!(
            out,
            "#[test]\nfn {name}() {{\n    ferrite_suite::run_manifest_test(std::path::Path::new({path:?}), {name:?});\n}}\n",
            path = manifest.display().to_string(),
        )
        .expect("write to String");
    }
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("firmware_tests.rs");
    std::fs::write(&dest, out).expect("write generated tests");
}
