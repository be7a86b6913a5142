//! `ferrite suite` and the console scripts and signatures of `ferrite run`,
//! through the binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{FERRITE, ferrite, stderr, stdout, workspace};

/// A scratch directory unique to this test process and `name`.
fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ferrite-suite-tests-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn firmware(path: &str) -> String {
    workspace()
        .join("firmware")
        .join(path)
        .display()
        .to_string()
}

fn manifest() -> String {
    firmware("tests.toml")
}

#[test]
fn the_firmware_suite_passes_with_every_report() {
    let dir = scratch_dir("reports");
    let junit = dir.join("junit.xml");
    let json = dir.join("report.json");
    let out = ferrite(&[
        "suite",
        &manifest(),
        "--filter",
        "^(hello_virt|hello_spike|fail_virt|fail_spike|shell_.*)$",
        "-j",
        "2",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--tap",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("8 passed, 0 failed, 0 skipped"), "{err}");
    // Plain lines come in the manifest's order.
    let order: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        [
            "hello_virt",
            "hello_spike",
            "fail_virt",
            "fail_spike",
            "shell_script_virt",
            "shell_waits_virt",
            "shell_script_spike",
            "shell_waits_spike"
        ]
    );
    let tap = stdout(&out);
    assert!(
        tap.starts_with("TAP version 14\n1..8\nok 1 - hello_virt\n"),
        "{tap}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"8\""), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(
        xml.contains("<testcase name=\"shell_waits_virt\" classname=\"tests\""),
        "{xml}"
    );
    let json = std::fs::read_to_string(&json).unwrap();
    assert!(json.contains("\"name\": \"fail_spike\""), "{json}");
    assert!(json.contains("\"exit_status\": 121"), "{json}");
}

#[test]
fn failures_say_why_where_and_what_was_printed() {
    let dir = scratch_dir("failures");
    let m = dir.join("m.toml");
    std::fs::write(
        &m,
        format!(
            "[defaults]\nmachine = \"spike\"\n\n[[test]]\nname = \"wrong_exit\"\nelf = {elf:?}\ncontains = \"Failing\"\n\n[[test]]\nname = \"later\"\nelf = {hello:?}\n",
            elf = firmware("bin/fail.elf"),
            hello = firmware("bin/hello.elf"),
        ),
    )
    .unwrap();
    let traces = dir.join("traces");
    let out = ferrite(&[
        "suite",
        m.to_str().unwrap(),
        "-j",
        "1",
        "--fail-fast",
        "--trace-failures",
        traces.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("FAIL wrong_exit: expected exit 0, got exit 3"),
        "{err}"
    );
    assert!(err.contains("stopped at pc 0x8"), "{err}");
    assert!(
        err.contains("  | Failing on purpose with exit code 3"),
        "{err}"
    );
    assert!(
        err.contains("SKIP later: not started: an earlier test failed (--fail-fast)"),
        "{err}"
    );
    assert!(err.contains("0 passed, 1 failed, 1 skipped"), "{err}");
    let log = std::fs::read_to_string(traces.join("wrong_exit.log")).unwrap();
    assert!(
        log.starts_with("core   0: 0x0000000000001000 ("),
        "{}",
        &log[..200.min(log.len())]
    );
    assert!(
        log.contains("core   0: 3 0x"),
        "the commit log is there too"
    );
    let console = std::fs::read_to_string(traces.join("wrong_exit.out")).unwrap();
    assert_eq!(console, "Failing on purpose with exit code 3\n");
}

#[test]
fn a_bad_manifest_names_file_line_and_field() {
    let dir = scratch_dir("bad");
    let m = dir.join("bad.toml");
    std::fs::write(&m, "[[test]]\nelf = \"x.elf\"\n\nsmp = 0\n").unwrap();
    let out = ferrite(&["suite", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        format!("ferrite: {}:4: smp: between 1 and 64 harts", m.display())
    );
}

#[test]
fn list_filter_and_shards() {
    let list = |extra: &[&str]| {
        let mut args = vec!["suite", "--list"];
        let m = manifest();
        args.push(&m);
        args.extend_from_slice(extra);
        let out = ferrite(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).lines().map(str::to_string).collect::<Vec<_>>()
    };
    let all = list(&[]);
    assert!(all.len() > 50, "{all:?}");
    let mut shards = list(&["--shard", "1/3"]);
    let two = list(&["--shard", "2/3"]);
    let three = list(&["--shard", "3/3"]);
    assert!(!two.is_empty() && !three.is_empty());
    shards.extend(two);
    shards.extend(three);
    shards.sort();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(shards, sorted, "the shards cover every test once");
    assert_eq!(
        list(&["--filter", "^isa_m_"]),
        ["isa_m_virt", "isa_m_spike"]
    );
    let out = ferrite(&["suite", &manifest(), "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn two_harts_are_deterministic_run_after_run() {
    let out = ferrite(&[
        "suite",
        &manifest(),
        "--filter",
        "^dev_clint_smp_",
        "--check-determinism",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 passed, 0 failed, 0 skipped"));
}

#[test]
fn a_directory_of_elf_files_runs_on_spike() {
    let dir = scratch_dir("dir");
    for name in ["hello.elf", "fail.elf"] {
        std::fs::copy(firmware(&format!("bin/{name}")), dir.join(name)).unwrap();
    }
    std::fs::write(dir.join("hello.dump"), "not an ELF").unwrap();
    let out = ferrite(&["suite", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("FAIL fail.elf: expected exit 0, got exit 3"),
        "{err}"
    );
    assert!(err.contains("PASS hello.elf"), "{err}");
    assert!(err.contains("1 passed, 1 failed, 0 skipped"), "{err}");
}

#[test]
fn run_drives_the_console_with_a_script() {
    let dir = scratch_dir("script");
    let script = dir.join("s.script");
    std::fs::write(
        &script,
        "expect ferrite>\\s\nsendline add 40 2\nexpect = 42\nexpect ferrite>\\s\nsendline exit 9\n",
    )
    .unwrap();
    let out = ferrite(&[
        "run",
        &firmware("bin/shell.elf"),
        "--script",
        script.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "shell: add A B, echo TEXT, exit N\nferrite> add 40 2\n= 42\nferrite> exit 9\n"
    );
    // A step that never matches: the guest is left waiting for input.
    std::fs::write(&script, "expect nothing like this\nsendline exit 1\n").unwrap();
    let out = ferrite(&[
        "run",
        &firmware("bin/shell.elf"),
        "--script",
        script.to_str().unwrap(),
        "--input-wait",
        "0.05",
    ]);
    assert_eq!(out.status.code(), Some(121));
    let err = stderr(&out);
    assert!(
        err.contains("the script stopped at step 1: expect \"nothing like this\" never matched"),
        "{err}"
    );
    assert!(
        err.contains("waits for console input and none can come"),
        "{err}"
    );
    std::fs::write(&script, "expect x\nwait 5\n").unwrap();
    let out = ferrite(&[
        "run",
        &firmware("bin/shell.elf"),
        "--script",
        script.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("s.script:2: unknown step `wait`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn signatures_in_the_reference_simulators_format() {
    let dir = scratch_dir("sig");
    for (granularity, reference) in [
        (None, "ref/signature.g16.signature"),
        (Some("4"), "ref/signature.g4.signature"),
    ] {
        let sig = dir.join("out.signature");
        let sig_arg = format!("+signature={}", sig.display());
        let mut args = vec!["run", "--machine", "spike", sig_arg.as_str()];
        let g;
        if let Some(n) = granularity {
            g = format!("+signature-granularity={n}");
            args.push(&g);
        }
        let elf = firmware("bin/signature.elf");
        args.push(&elf);
        let out = ferrite(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&sig).unwrap(),
            std::fs::read_to_string(firmware(reference)).unwrap(),
            "granularity {granularity:?}"
        );
    }
    let out = ferrite(&[
        "run",
        "--machine",
        "spike",
        "--signature",
        dir.join("none").to_str().unwrap(),
        &firmware("bin/hello.elf"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("no begin_signature and end_signature symbols"));
}

/// The RISCOF plugin on this repository's own small suite, compared with
/// the signatures Spike writes (riscof/check_plugin.py). Needs python3 and
/// the cross compiler.
#[test]
fn the_riscof_plugin_matches_the_reference_signatures() {
    let gcc = Command::new("riscv64-unknown-elf-gcc")
        .arg("--version")
        .output();
    if gcc.is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but riscv64-unknown-elf-gcc is missing (install gcc-riscv64-unknown-elf)"
        );
        eprintln!("notice: skipping: riscv64-unknown-elf-gcc is not installed");
        return;
    }
    let work = scratch_dir("riscof");
    let out = Command::new("python3")
        .arg(workspace().join("riscof/check_plugin.py"))
        .args(["--ferrite", FERRITE, "--work"])
        .arg(&work)
        .output()
        .expect("python3 runs");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("--- 4 passed, 0 failed"), "{text}");
    assert!(Path::new(&work.join("ferrite-suite.toml")).exists());
}
