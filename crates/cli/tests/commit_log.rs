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

mod common;

use std::path::Path;
use std::process::Output;

use common::{ferrite, stderr, workspace};

const SPIKE_ISA: &str = "rv64imafdc_zicntr_zihpm";

/// `ferrite run -M spike --isa SPIKE_ISA ARGS.. commit_log.elf`: the golden
/// guest on the ISA Spike ran it with.
fn run_guest(args: &[&str]) -> Output {
    let guest = guest();
    let mut all = vec!["run", "-M", "spike", "--isa", SPIKE_ISA];
    all.extend_from_slice(args);
    all.push(&guest);
    ferrite(&all)
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
    let o = run_guest(&["-l", "--log-commits"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
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
    let o = run_guest(&["--log-commits"]);
    assert!(o.status.success());
    assert_same(&stderr(&o), &want);

    let dir = std::env::temp_dir().join(format!("ferrite-commit-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let d_file = dir.join("d.log");
    let d_path = d_file.display().to_string();
    let o = run_guest(&["-d", "commit", "-D", &d_path]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same(&std::fs::read_to_string(&d_file).expect("-D file"), &want);
    let log_file = dir.join("log.log");
    let log_path = log_file.display().to_string();
    let o = run_guest(&["--log-commits", "--log", &log_path]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "the log went to the file, not stderr");
    assert_same(
        &std::fs::read_to_string(&log_file).expect("--log file"),
        &want,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `retired instructions` figure of `--stats`.
fn retired(o: &Output) -> String {
    stderr(o)
        .lines()
        .find(|l| l.contains("retired instructions"))
        .expect("--stats prints the instruction count")
        .to_string()
}

/// Logging changes nothing the guest can see: the same console output and
/// exit status as without it, and on `virt`, where nothing polls a mailbox,
/// the same instruction count. (On `spike` a guest polling HTIF spins for as
/// long as Spike's 5000-instruction slices make it, so its count follows
/// Spike's pacing while a log is on.)
#[test]
fn logging_keeps_the_guest_unchanged() {
    let hello = workspace()
        .join("firmware/bin/hello.elf")
        .display()
        .to_string();
    for board in ["virt", "spike"] {
        let plain = ferrite(&["run", "-M", board, "--stats", &hello]);
        let logged = ferrite(&["run", "-M", board, "--stats", "--log-commits", &hello]);
        assert_eq!(plain.status.code(), Some(0), "{board}");
        assert_eq!(plain.status.code(), logged.status.code(), "{board}");
        assert_eq!(plain.stdout, logged.stdout, "{board}");
        assert!(stderr(&logged).contains("core   0: 3 0x0000000080000000"));
        if board == "virt" {
            assert_eq!(retired(&plain), retired(&logged));
        }
    }
}

#[test]
fn a_full_log_file_is_one_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipped");
        return;
    }
    let o = run_guest(&["--log-commits", "--log", "/dev/full"]);
    assert!(!o.status.success());
    let err = stderr(&o);
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
    assert!(stderr(&o).contains("--log needs -l or --log-commits"));
    let o = ferrite(&["run", "-d", "", &guest()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("at least one log item"));
}
