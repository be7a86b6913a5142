//! Marks the CLI's boots of real firmware `#[ignore]`d when Debian's
//! packages are missing (the rule is shared with the end-to-end tests),
//! and the VNC client test when vncdotool is not installed.

#[path = "../../tests/firmware_packages.rs"]
mod firmware_packages;

fn main() {
    firmware_packages::mark_missing_firmware();
    mark_missing_vncdotool();
}

/// vncdotool's Python: `FERRITE_VNC_PYTHON`, or the virtual environment
/// `.ci/run` makes in `.cache/vnc-venv`. Missing (and not under
/// `CI=true`, where the test must run): the test is built ignored.
fn mark_missing_vncdotool() {
    println!("cargo::rustc-check-cfg=cfg(vncdotool_missing)");
    println!("cargo::rerun-if-env-changed=FERRITE_VNC_PYTHON");
    println!("cargo::rerun-if-env-changed=CI");
    let manifest =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let python = match std::env::var_os("FERRITE_VNC_PYTHON") {
        Some(p) => std::path::PathBuf::from(p),
        None => manifest.join("../../.cache/vnc-venv/bin/python"),
    };
    if let Some(dir) = python.parent() {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    let ok = std::process::Command::new(&python)
        .args(["-c", "import vncdotool"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").as_deref() != Ok("true") {
        println!("cargo::rustc-cfg=vncdotool_missing");
        println!(
            "cargo::warning=vncdotool is not installed ({}): the VNC client test is ignored",
            python.display()
        );
    }
}
