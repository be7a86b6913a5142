//! `ferrite suite`: run many guests, in parallel, and report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use ferrite_machine::size::parse_mem_size;
use ferrite_machine::{BoardKind, Isa};
use ferrite_suite::report::{self, Totals};
use ferrite_suite::spec::BoardSpec;
use ferrite_suite::{Overrides, Selection, SuiteOptions, TestResult, TestSpec, Verdict};

/// Exit status of a suite with a failing test.
const FAILED_STATUS: u8 = 1;

/// Instructions a `--trace-failures` re-run logs at most.
const TRACE_MAX_INSNS: u64 = 10_000_000;

/// Options of `ferrite suite`.
#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// Manifests (`*.toml`), directories of ELF files (riscv-tests:
    /// each must exit 0) and ELF files.
    #[arg(value_name = "MANIFEST|DIR|ELF", required = true)]
    paths: Vec<PathBuf>,

    /// Tests run at once (default: one per core).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,

    /// Board of every test (default for directories and ELF files: spike).
    #[arg(short = 'M', long = "machine", value_name = "NAME")]
    machine: Option<String>,

    /// Harts of every test.
    #[arg(long, value_name = "N")]
    smp: Option<u32>,

    /// ISA of every test's harts.
    #[arg(long, value_name = "STRING")]
    isa: Option<String>,

    /// RAM of every test (as `run -m`).
    #[arg(short = 'm', long = "memory", value_name = "SIZE", value_parser = parse_mem_size)]
    memory: Option<u64>,

    /// Instruction limit of every test.
    #[arg(long = "max-insns", value_name = "N")]
    max_insns: Option<u64>,

    /// Host-time limit of every test, in seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,

    /// Only tests whose name matches REGEX.
    #[arg(long, value_name = "REGEX")]
    filter: Option<String>,

    /// Only the K-th of N shards (1-based) of the selected tests.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,

    /// List the selected tests and exit.
    #[arg(long)]
    list: bool,

    /// Start no more tests after the first failure.
    #[arg(long = "fail-fast")]
    fail_fast: bool,

    /// Run each test twice; fail on any difference in outcome, output,
    /// instruction count or signature.
    #[arg(long = "check-determinism")]
    check_determinism: bool,

    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Write a TAP report to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    tap: Option<PathBuf>,

    /// Write a JSON report to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,

    /// Re-run each failing test with the instruction and commit logs into
    /// DIR/NAME.log (and its console output into DIR/NAME.out).
    #[arg(long = "trace-failures", value_name = "DIR")]
    trace_failures: Option<PathBuf>,

    /// Write each test's signature (begin_signature..end_signature) to
    /// DIR/NAME.signature.
    #[arg(long = "signature-dir", value_name = "DIR")]
    signature_dir: Option<PathBuf>,

    /// Bytes per signature line for tests from directories and ELF files.
    #[arg(long = "signature-granularity", value_name = "N", default_value_t = 16)]
    signature_granularity: usize,
}

/// Runs `ferrite suite`; returns the process exit status.
pub fn run(args: SuiteArgs) -> Result<u8> {
    let overrides = overrides(&args)?;
    if args.signature_granularity == 0 {
        bail!("--signature-granularity must be at least 1");
    }
    let mut tests = Vec::new();
    let mut board = BoardSpec::new(BoardKind::Spike);
    if let Some(m) = overrides.machine {
        board.machine = m;
    }
    for path in &args.paths {
        let mut found = if path.extension().is_some_and(|e| e == "toml") {
            ferrite_suite::manifest::load(path)?
        } else {
            ferrite_suite::manifest::tests_from_paths(std::slice::from_ref(path), &board)?
        };
        for t in &mut found {
            if t.origin.is_none() {
                t.signature_granularity = args.signature_granularity;
            }
            overrides.apply(t);
        }
        tests.extend(found);
    }
    check_unique(&tests)?;
    let selection = Selection {
        filter: args
            .filter
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .context("bad --filter")?,
        shard: args
            .shard
            .as_deref()
            .map(ferrite_suite::parse_shard)
            .transpose()?,
    };
    let tests = selection.apply(tests);
    if args.list {
        let mut text = String::new();
        for t in &tests {
            text.push_str(&t.name);
            text.push('\n');
        }
        crate::write_stdout(&text)?;
        return Ok(0);
    }
    for dir in [&args.trace_failures, &args.signature_dir]
        .into_iter()
        .flatten()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let options = SuiteOptions {
        jobs: args.jobs.unwrap_or(0),
        fail_fast: args.fail_fast,
        check_determinism: args.check_determinism,
        signature_dir: args.signature_dir.clone(),
    };
    let started = Instant::now();
    let results = run_with_progress(&tests, &options);
    let elapsed = started.elapsed();

    let mut failures = String::new();
    for r in results.iter().filter(|r| r.failed()) {
        failures.push_str(&report::failure_text(r));
    }
    if !failures.is_empty() {
        eprint!("\n{failures}");
    }
    if let Some(dir) = &args.trace_failures {
        for (t, r) in tests.iter().zip(&results).filter(|(_, r)| r.failed()) {
            match ferrite_suite::runner::trace_test(t, dir, TRACE_MAX_INSNS) {
                Ok(log) => eprintln!("ferrite: traced {} into {}", r.name, log.display()),
                Err(e) => eprintln!("ferrite: cannot trace {}: {e}", r.name),
            }
        }
    }
    let suite_name = suite_name(&args.paths);
    if let Some(path) = &args.junit {
        let xml = report::junit(&suite_name, &results).map_err(anyhow::Error::msg)?;
        write_report(path, &xml)?;
    }
    if let Some(path) = &args.tap {
        write_report(path, &report::tap(&results))?;
    }
    if let Some(path) = &args.json {
        write_report(path, &report::json(&results))?;
    }
    let totals = Totals::of(&results);
    let insns: u64 = results.iter().map(|r| r.insns).sum();
    eprintln!(
        "{} ({} tests in {:.2} s, {:.0} tests/s, {insns} instructions)",
        totals.line(),
        results.len(),
        elapsed.as_secs_f64(),
        results.len() as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    Ok(if totals.failed > 0 { FAILED_STATUS } else { 0 })
}

/// The command-line options every test takes.
fn overrides(args: &SuiteArgs) -> Result<Overrides> {
    Ok(Overrides {
        machine: args
            .machine
            .as_deref()
            .map(str::parse::<BoardKind>)
            .transpose()?,
        smp: match args.smp {
            Some(n) if n == 0 || n > ferrite_machine::MAX_HARTS => {
                bail!(
                    "--smp {n}: between 1 and {} harts",
                    ferrite_machine::MAX_HARTS
                )
            }
            other => other,
        },
        isa: args
            .isa
            .as_deref()
            .map(|s| s.parse::<Isa>().with_context(|| format!("bad --isa `{s}`")))
            .transpose()?,
        memory: args.memory,
        max_insns: args.max_insns,
        timeout: args
            .timeout
            .map(ferrite_suite::spec::seconds)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--timeout: {e}"))?,
    })
}

/// Two tests of one name would make every report ambiguous.
fn check_unique(tests: &[TestSpec]) -> Result<()> {
    let mut names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!(
            "two tests are named `{}`: give the suites' tests distinct names",
            w[0]
        );
    }
    Ok(())
}

/// The suite's name in reports: the first path's file stem.
fn suite_name(paths: &[PathBuf]) -> String {
    paths
        .first()
        .and_then(|p| p.file_stem())
        .map_or_else(|| "suite".to_string(), |s| s.to_string_lossy().into_owned())
}

fn write_report(path: &Path, text: &str) -> Result<()> {
    if path == Path::new("-") {
        return crate::write_stdout(text);
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// One line for a finished test.
fn result_line(r: &TestResult) -> String {
    match &r.verdict {
        Verdict::Passed => format!(
            "PASS {} ({} instructions, {:.1} ms)",
            r.name,
            r.insns,
            r.duration.as_secs_f64() * 1e3
        ),
        Verdict::Failed(f) => format!(
            "FAIL {}: {}",
            r.name,
            f.first().map(ToString::to_string).unwrap_or_default()
        ),
        Verdict::Skipped(why) => format!("SKIP {}: {why}", r.name),
    }
}

/// Runs the suite: a progress bar on a terminal (failures printed above
/// it), else one line a test on stderr, in the suite's order.
fn run_with_progress(tests: &[TestSpec], options: &SuiteOptions) -> Vec<TestResult> {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(tests.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} [{elapsed_precise}] {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut failed = 0usize;
        let results = ferrite_suite::run_suite(tests, options, |_, r| {
            if r.failed() {
                failed += 1;
                bar.println(result_line(r));
            }
            bar.set_message(format!("{failed} failed, last: {}", r.name));
            bar.inc(1);
        });
        bar.finish_and_clear();
        results
    } else {
        // Lines come out in the suite's order whatever order tests finish
        // in, so two runs print the same.
        let mut done: Vec<Option<String>> = vec![None; tests.len()];
        let mut printed = 0;
        let results = ferrite_suite::run_suite(tests, options, |i, r| {
            done[i] = Some(result_line(r));
            while let Some(Some(line)) = done.get(printed) {
                eprintln!("{line}");
                printed += 1;
            }
        });
        // Tests --fail-fast kept from starting.
        for r in &results[printed.min(results.len())..] {
            eprintln!("{}", result_line(r));
        }
        results
    }
}
