//! Marks the CLI's boots of real firmware `#[ignore]`d when Debian's
//! packages are missing (the rule is shared with the end-to-end tests).

#[path = "../../tests/firmware_packages.rs"]
mod firmware_packages;

fn main() {
    firmware_packages::mark_missing_firmware();
}
