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
