//! `ferrite run` with OpenSBI and U-Boot, typed at through a pipe: each
//! line is written once the prompt it answers has appeared on stdout, as a
//! person (or `expect`) would type. Built `#[ignore]`d when Debian's
//! `opensbi` and `u-boot-qemu` packages are absent (`build.rs`), except
//! under `CI=true`, where it runs and fails.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf";

#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn uboot_session_through_a_pipe() {
    if !Path::new(FW_JUMP).exists() || !Path::new(UBOOT).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but OpenSBI/U-Boot are missing (install opensbi and u-boot-qemu)"
        );
        eprintln!("notice: skipping: OpenSBI/U-Boot packages missing");
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args([
            "run",
            "--bios",
            FW_JUMP,
            "--kernel",
            UBOOT,
            "--timeout",
            "300",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite starts");
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let sink = output.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&buf[..n]);
        }
    });
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut seen = 0usize;
    let mut wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let out = String::from_utf8_lossy(&output.lock().expect("lock")).into_owned();
            if let Some(at) = out[seen.min(out.len())..].find(text) {
                seen += at + text.len();
                return;
            }
            assert!(Instant::now() < deadline, "no {text:?} in:\n{out}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    for (wait, send) in [
        ("Hit any key to stop autoboot", "\n"),
        ("=> ", "version\n"),
        ("=> ", "bdinfo\n"),
        ("=> ", "md 0x80200000 4\n"),
        ("80200000: 84ae822a 00000193 00085297 db02b283", ""),
        ("=> ", "poweroff\n"),
        ("poweroff ...", ""),
    ] {
        wait_for(wait);
        stdin.write_all(send.as_bytes()).expect("write to ferrite");
        stdin.flush().expect("flush");
    }
    let status = child.wait().expect("ferrite exits");
    reader.join().expect("reader thread");
    let out = String::from_utf8_lossy(&output.lock().expect("lock")).replace('\r', "");
    assert_eq!(status.code(), Some(0), "output:\n{out}");
    for want in [
        "Platform Console Device   : uart8250",
        "Platform Timer Device     : aclint-mtimer @ 10000000Hz",
        "Platform Reboot Device    : sifive_test",
        "=> version\nU-Boot 20",
        "-> size     = 0x0000000008000000",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}
