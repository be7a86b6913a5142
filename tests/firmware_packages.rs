//! Shared by the build scripts of `ferrite-tests` and `ferrite-cli`: the
//! tests that boot Debian's firmware are built `#[ignore]`d when the
//! packages are not installed.

/// Debian's firmware the end-to-end boots use.
const FIRMWARE_PACKAGES: &[&str] = &[
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf",
    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf",
    "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf",
];

/// Marks the boots of real firmware `#[ignore]`d (so the test run reports
/// them as ignored, not as passed) when Debian's packages are missing —
/// except under `CI=true`, where they run and fail.
pub fn mark_missing_firmware() {
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

/// The Debian riscv64 packages the Linux boots use, fetched by
/// `scripts/linux.sh fetch` into this directory (`FERRITE_DEBIAN_DIR`, or
/// `.cache/debian-riscv64` in the workspace).
#[allow(dead_code)] // Not every build script including this marks Linux boots.
fn debian_guest_dir(workspace: &std::path::Path) -> std::path::PathBuf {
    match std::env::var_os("FERRITE_DEBIAN_DIR") {
        Some(dir) => dir.into(),
        None => workspace.join(".cache/debian-riscv64"),
    }
}

/// Marks the Linux boots `#[ignore]`d when the packages have not been
/// fetched (or OpenSBI is missing) — except under `CI=true`, where
/// `.ci/run` fetches them and the boots run and fail without them.
#[allow(dead_code)] // Not every build script including this marks Linux boots.
pub fn mark_missing_linux_guest(workspace: &std::path::Path) {
    println!("cargo::rustc-check-cfg=cfg(linux_guest_missing)");
    println!("cargo::rerun-if-env-changed=FERRITE_DEBIAN_DIR");
    let dir = debian_guest_dir(workspace);
    // The tests find the packages where this looked for them.
    println!(
        "cargo::rustc-env=FERRITE_DEBIAN_GUEST_DIR={}",
        dir.display()
    );
    let ready = dir.join("ready");
    // A missing file makes cargo run this again each build, so the mark goes
    // as soon as the packages are there.
    println!("cargo::rerun-if-changed={}", ready.display());
    let missing = !ready.exists() || !std::path::Path::new(FIRMWARE_PACKAGES[0]).exists();
    if missing && std::env::var("CI").as_deref() != Ok("true") {
        println!("cargo::rustc-cfg=linux_guest_missing");
        println!(
            "cargo::warning=Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch): the Linux boots are ignored"
        );
    }
}
