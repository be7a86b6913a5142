//! The instruction log (`-l`) and commit log (`--log-commits`) against the
//! reference simulator's own output.
//!
//! `golden/commit_log.spike.log` is what Spike printed for
//! `spike -l --log-commits firmware/bin/commit_log.elf` (its default ISA,
//! rv64imafdc_zicntr_zihpm): the boot ROM, integer, compressed, load and
//! store, AMO and LR/SC, CSR (with Spike's side effects), floating-point,
//! ecall, illegal-instruction, interrupt and wfi lines, and the HTIF exit
//! loop to the end of Spike's last slice. Regenerate it with
//! `scripts/spike-golden.sh` after changing the guest.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FERRITE: &str = env!("CARGO_BIN_EXE_ferrite");
const SPIKE_ISA: &str = "rv64imafdc_zicntr_zihpm";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/cli sits two levels below the workspace")
        .to_path_buf()
}

fn guest() -> String {
    workspace()
        .join("firmware/bin/commit_log.elf")
        .display()
        .to_string()
}

fn golden() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/commit_log.spike.log"),
    )
    .expect("golden log")
}

fn ferrite(args: &[&str]) -> Output {
    Command::new(FERRITE)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ferrite runs")
}

/// The first line where `got` and `want` differ, for the failure message.
fn first_difference(got: &str, want: &str) -> String {
    for (n, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}:\n  ferrite: {g}\n  spike:   {w}", n + 1);
        }
    }
    format!(
        "one log is a prefix of the other ({} vs {} lines)",
        got.lines().count(),
        want.lines().count()
    )
}

fn assert_same(got: &str, want: &str) {
    assert!(got == want, "{}", first_difference(got, want));
}

#[test]
fn instruction_and_commit_log_match_spike_line_for_line() {
    let o = ferrite(&[
        "run",
        "-M",
        "spike",
        "--isa",
        SPIKE_ISA,
        "-l",
        "--log-commits",
        &guest(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8_lossy(&o.stderr);
    let want = golden();
    assert!(want.lines().count() > 10_000);
    assert_same(&log, &want);
}

/// The commit lines alone (`--log-commits` without `-l`, also `-d commit`
/// with `-D FILE`, and `--log FILE`) are the golden log's commit lines.
#[test]
fn commit_log_alone_to_stderr_and_to_files() {
    let want: String = golden()
        .lines()
        .filter(|l| {
            // "core   0: 3 0x..." — a privilege digit after the core.
            l.split_once(": ").is_some_and(|(_, rest)| {
                rest.as_bytes().get(1) == Some(&b' ') && rest.as_bytes()[0].is_ascii_digit()
            })
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(want.contains("c768_mstatus") && want.contains(" mem 0x"));
    let o = ferrite(&[
        "run",
        "-M",
        "spike",
        "--isa",
        SPIKE_ISA,
        "--log-commits",
        &guest(),
    ]);
    assert!(o.status.success());
    assert_same(&String::from_utf8_lossy(&o.stderr), &want);

    let dir = std::env::temp_dir().join(format!("ferrite-commit-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let d_file = dir.join("d.log");
    let o = ferrite(&[
        "run",
        "-M",
        "spike",
        "--isa",
        SPIKE_ISA,
        "-d",
        "commit",
        "-D",
        &d_file.display().to_string(),
        &guest(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same(&std::fs::read_to_string(&d_file).expect("-D file"), &want);
    let log_file = dir.join("log.log");
    let o = ferrite(&[
        "run",
        "-M",
        "spike",
        "--isa",
        SPIKE_ISA,
        "--log-commits",
        "--log",
        &log_file.display().to_string(),
        &guest(),
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "the log went to the file, not stderr");
    assert_same(
        &std::fs::read_to_string(&log_file).expect("--log file"),
        &want,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Logging changes nothing the guest can see: the same console output and
/// exit status as without it.
#[test]
fn logging_keeps_the_guest_unchanged() {
    let hello = workspace()
        .join("firmware/bin/hello.elf")
        .display()
        .to_string();
    let plain = ferrite(&["run", "-M", "spike", &hello]);
    let logged = ferrite(&["run", "-M", "spike", "--log-commits", &hello]);
    assert_eq!(plain.status.code(), logged.status.code());
    assert_eq!(plain.stdout, logged.stdout);
    assert!(String::from_utf8_lossy(&logged.stderr).contains("core   0: 3 0x0000000080000000"));
}

#[test]
fn a_full_log_file_is_one_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipped");
        return;
    }
    let o = ferrite(&[
        "run",
        "-M",
        "spike",
        "--log-commits",
        "--log",
        "/dev/full",
        &guest(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot write the instruction log to /dev/full"),
        "{err}"
    );
}

#[test]
fn log_without_items_and_empty_d_are_refused() {
    let o = ferrite(&["run", "--log", "x.log", &guest()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--log needs -l or --log-commits"));
    let o = ferrite(&["run", "-d", "", &guest()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least one log item"));
}
