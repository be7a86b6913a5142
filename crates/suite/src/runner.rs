//! Running tests: each in its own machine, in this process, on a pool of
//! threads; results come back in the suite's order whatever the pool did.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ferrite_machine::{ImageSource, Machine, RunLimits, RunOutcome, TraceConfig, TraceOutput};

use crate::script;
use crate::spec::TestSpec;

/// Why a test failed: one reason each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The board could not be built (a missing image, a bad option).
    Setup(String),
    /// The run ended otherwise than expected.
    End {
        /// What the test expects.
        expected: String,
        /// How the run ended.
        got: String,
    },
    /// A text or pattern the output must hold is missing.
    MissingOutput(String),
    /// A text the output must not hold is there.
    UnwantedOutput(String),
    /// The output differs from the exact output expected.
    OutputDiffers {
        /// The first differing line (1-based).
        line: usize,
        /// What it should be.
        expected: String,
        /// What it is.
        got: String,
    },
    /// The script did not run to its end.
    Script {
        /// The step (1-based) it stopped at.
        step: usize,
        /// The step.
        waiting_for: String,
    },
    /// The signature differs from the reference.
    Signature(String),
    /// Two runs of the test differ (`--check-determinism`).
    Nondeterministic(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Setup(why) => write!(f, "cannot build the board: {why}"),
            Failure::End { expected, got } => write!(f, "expected {expected}, got {got}"),
            Failure::MissingOutput(what) => write!(f, "missing output: {what}"),
            Failure::UnwantedOutput(what) => write!(f, "unwanted output: {what}"),
            Failure::OutputDiffers {
                line,
                expected,
                got,
            } => write!(
                f,
                "output differs at line {line}: expected {expected:?}, got {got:?}"
            ),
            Failure::Script { step, waiting_for } => {
                write!(
                    f,
                    "script stopped at step {step}: {waiting_for} never matched"
                )
            }
            Failure::Signature(why) => write!(f, "signature: {why}"),
            Failure::Nondeterministic(what) => write!(f, "not deterministic: {what}"),
        }
    }
}

/// A test's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything held.
    Passed,
    /// These did not.
    Failed(Vec<Failure>),
    /// Not run, for this reason.
    Skipped(String),
}

/// What one test did.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// How the run ended (none if it never started).
    pub outcome: Option<RunOutcome>,
    /// Instructions retired.
    pub insns: u64,
    /// Each hart's pc when it stopped.
    pub pcs: Vec<u64>,
    /// Everything the guest printed.
    pub output: Vec<u8>,
    /// The signature, when the ELF has one.
    pub signature: Option<String>,
    /// Host time the test took.
    pub duration: Duration,
}

impl TestResult {
    /// True if the test failed.
    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Failed(_))
    }

    fn not_run(name: &str, verdict: Verdict) -> Self {
        Self {
            name: name.to_string(),
            verdict,
            outcome: None,
            insns: 0,
            pcs: Vec::new(),
            output: Vec::new(),
            signature: None,
            duration: Duration::ZERO,
        }
    }
}

/// How a run ended, in words.
pub fn describe_outcome(outcome: RunOutcome) -> String {
    match outcome {
        RunOutcome::Exited(code) => format!("exit {code}"),
        RunOutcome::Reset => "reset".into(),
        RunOutcome::InstructionLimit => "the instruction limit".into(),
        RunOutcome::Timeout => "the host timeout".into(),
        RunOutcome::Stuck => "stuck (every hart waits for an interrupt that cannot come)".into(),
        RunOutcome::InputExhausted => "input-exhausted (the guest waits for console input)".into(),
        RunOutcome::Quit => "quit".into(),
        RunOutcome::OutputMatched => "the output pattern matched".into(),
        RunOutcome::TrapLoop { hart } => format!("a trap loop on hart {hart}"),
        RunOutcome::ConsoleFailed => "a console failure".into(),
    }
}

/// Options of a suite run.
#[derive(Debug, Clone, Default)]
pub struct SuiteOptions {
    /// Threads (0: one per core).
    pub jobs: usize,
    /// Stop starting tests after the first failure.
    pub fail_fast: bool,
    /// Run each test twice and fail on any difference.
    pub check_determinism: bool,
    /// Write each test's signature to `DIR/NAME.signature`.
    pub signature_dir: Option<PathBuf>,
}

/// ELF bytes read once per suite, shared by every test of the same file.
#[derive(Debug, Default)]
pub struct ImageCache {
    files: Mutex<HashMap<PathBuf, Arc<Vec<u8>>>>,
}

impl ImageCache {
    /// The bytes of `path`, read on first use.
    pub fn get(&self, path: &Path) -> std::io::Result<Arc<Vec<u8>>> {
        if let Some(bytes) = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(path)
        {
            return Ok(Arc::clone(bytes));
        }
        let bytes = Arc::new(std::fs::read(path)?);
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_path_buf(), Arc::clone(&bytes));
        Ok(bytes)
    }
}

/// One run of a test's guest.
struct Run {
    outcome: RunOutcome,
    steps_done: usize,
    insns: u64,
    pcs: Vec<u64>,
    output: Vec<u8>,
    signature: Option<String>,
}

/// Builds and runs the guest of `test` once; `trace` logs it.
fn run_guest(
    test: &TestSpec,
    images: &ImageCache,
    trace: Option<TraceConfig>,
) -> Result<Run, String> {
    let bytes = images
        .get(&test.elf)
        .map_err(|e| format!("cannot read {}: {e}", test.elf.display()))?;
    let mut config = test.machine_config(ImageSource::Bytes {
        name: test.elf.display().to_string(),
        bytes: bytes.as_ref().clone(),
    });
    config.trace = trace;
    let mut machine = Machine::new(config).map_err(|e| e.to_string())?;
    let limits = RunLimits {
        max_insns: Some(test.max_insns),
        timeout: Some(test.timeout),
    };
    let run = script::run(&mut machine, &test.script, &limits, None).map_err(|e| e.to_string())?;
    let signature = machine
        .signature(test.signature_granularity)
        .map_err(|e| e.to_string())?;
    Ok(Run {
        outcome: run.outcome,
        steps_done: run.steps_done,
        insns: machine.stats().insns,
        pcs: machine.pcs(),
        output: machine.captured_output(),
        signature,
    })
}

/// The checks of `test` against one run.
fn check(test: &TestSpec, run: &Run) -> Vec<Failure> {
    let mut failures = Vec::new();
    if !test.end.matches(run.outcome) {
        failures.push(Failure::End {
            expected: test.end.describe(),
            got: describe_outcome(run.outcome),
        });
    }
    if run.steps_done < test.script.len() {
        failures.push(Failure::Script {
            step: run.steps_done + 1,
            waiting_for: test.script[run.steps_done].describe(),
        });
    }
    let text = String::from_utf8_lossy(&run.output).replace("\r\n", "\n");
    if let Some(exact) = &test.output.exact {
        let exact = exact.replace("\r\n", "\n");
        if text != exact {
            let mut want = exact.split('\n');
            let mut got = text.split('\n');
            let mut line = 1;
            loop {
                match (want.next(), got.next()) {
                    (Some(w), Some(g)) if w == g => line += 1,
                    (w, g) => {
                        failures.push(Failure::OutputDiffers {
                            line,
                            expected: w.unwrap_or("(end of output)").to_string(),
                            got: g.unwrap_or("(end of output)").to_string(),
                        });
                        break;
                    }
                }
            }
        }
    }
    for want in &test.output.contains {
        if !text.contains(want.as_str()) {
            failures.push(Failure::MissingOutput(format!("{want:?}")));
        }
    }
    for unwanted in &test.output.not_contains {
        if text.contains(unwanted.as_str()) {
            failures.push(Failure::UnwantedOutput(format!("{unwanted:?}")));
        }
    }
    for re in &test.output.matches {
        if !re.is_match(&run.output) {
            failures.push(Failure::MissingOutput(format!("/{}/", re.as_str())));
        }
    }
    if let Some(reference) = &test.signature {
        match (std::fs::read_to_string(reference), &run.signature) {
            (Err(e), _) => failures.push(Failure::Signature(format!(
                "cannot read the reference {}: {e}",
                reference.display()
            ))),
            (Ok(_), None) => failures.push(Failure::Signature(
                "the ELF has no begin_signature and end_signature symbols".into(),
            )),
            (Ok(want), Some(got)) => {
                let want: Vec<&str> = want.lines().map(str::trim).collect();
                let got: Vec<&str> = got.lines().collect();
                if let Some(i) = (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i))
                {
                    failures.push(Failure::Signature(format!(
                        "line {} is {} where {} has {}",
                        i + 1,
                        got.get(i).unwrap_or(&"(nothing)"),
                        reference.display(),
                        want.get(i).unwrap_or(&"(nothing)")
                    )));
                }
            }
        }
    }
    failures
}

/// Why a test is not run, if it is not.
fn skip_reason(test: &TestSpec) -> Option<String> {
    if let Some(why) = &test.skip {
        return Some(why.clone());
    }
    test.requires
        .iter()
        .find(|p| !p.exists())
        .map(|p| format!("{} is missing", p.display()))
}

/// Runs one test and judges it.
pub fn run_test(test: &TestSpec, options: &SuiteOptions, images: &ImageCache) -> TestResult {
    if let Some(why) = skip_reason(test) {
        return TestResult::not_run(&test.name, Verdict::Skipped(why));
    }
    let started = Instant::now();
    let run = match run_guest(test, images, None) {
        Ok(run) => run,
        Err(why) => {
            let mut r = TestResult::not_run(&test.name, Verdict::Failed(vec![Failure::Setup(why)]));
            r.duration = started.elapsed();
            return r;
        }
    };
    let mut failures = check(test, &run);
    if options.check_determinism {
        match run_guest(test, images, None) {
            Err(why) => failures.push(Failure::Nondeterministic(format!(
                "the second run could not start: {why}"
            ))),
            Ok(again) => {
                let differences = [
                    (again.outcome != run.outcome).then(|| {
                        format!(
                            "ended with {} then {}",
                            describe_outcome(run.outcome),
                            describe_outcome(again.outcome)
                        )
                    }),
                    (again.insns != run.insns)
                        .then(|| format!("{} instructions then {}", run.insns, again.insns)),
                    (again.output != run.output).then(|| {
                        let at = run
                            .output
                            .iter()
                            .zip(&again.output)
                            .position(|(a, b)| a != b)
                            .unwrap_or(run.output.len().min(again.output.len()));
                        format!("the output differs from byte {at}")
                    }),
                    (again.signature != run.signature).then(|| "the signature differs".to_string()),
                ];
                failures.extend(
                    differences
                        .into_iter()
                        .flatten()
                        .map(Failure::Nondeterministic),
                );
            }
        }
    }
    let duration = started.elapsed();
    if let (Some(dir), Some(sig)) = (&options.signature_dir, &run.signature) {
        let path = dir.join(format!("{}.signature", file_name(&test.name)));
        if let Err(e) = std::fs::write(&path, sig) {
            failures.push(Failure::Signature(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
    }
    TestResult {
        name: test.name.clone(),
        verdict: if failures.is_empty() {
            Verdict::Passed
        } else {
            Verdict::Failed(failures)
        },
        outcome: Some(run.outcome),
        insns: run.insns,
        pcs: run.pcs,
        output: run.output,
        signature: run.signature,
        duration,
    }
}

/// A test name as a file name (`/` becomes `_`).
pub fn file_name(test: &str) -> String {
    test.chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect()
}

/// Runs `tests` on `options.jobs` threads (one per core if 0), calling
/// `on_result` on the calling thread as each finishes (in finishing order,
/// with its index in `tests`);
/// returns every result in the order of `tests`. With `fail_fast`, tests
/// not yet started when one fails are reported as skipped (tests already
/// running on other threads finish).
pub fn run_suite(
    tests: &[TestSpec],
    options: &SuiteOptions,
    mut on_result: impl FnMut(usize, &TestResult),
) -> Vec<TestResult> {
    let jobs = match options.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(tests.len().max(1));
    let images = ImageCache::default();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<TestResult>> = vec![None; tests.len()];
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, TestResult)>();
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, images) = (&next, &stop, &images);
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(test) = tests.get(i) else { break };
                    let result = run_test(test, options, images);
                    // Before this worker takes another test.
                    if options.fail_fast && result.failed() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            on_result(i, &result);
            results[i] = Some(result);
        }
    });
    results
        .into_iter()
        .zip(tests)
        .map(|(r, t)| {
            r.unwrap_or_else(|| {
                TestResult::not_run(
                    &t.name,
                    Verdict::Skipped("not started: an earlier test failed (--fail-fast)".into()),
                )
            })
        })
        .collect()
}

/// Re-runs `test` with the instruction log and the commit log (the
/// reference simulator's `-l --log-commits`) into `DIR/NAME.log` and its
/// console output into `DIR/NAME.out`, for at most `max_insns`
/// instructions (a log takes about 100 bytes an instruction); returns the
/// log's path.
pub fn trace_test(test: &TestSpec, dir: &Path, max_insns: u64) -> Result<PathBuf, String> {
    let mut test = test.clone();
    test.max_insns = test.max_insns.min(max_insns);
    let test = &test;
    let base = file_name(&test.name);
    let log = dir.join(format!("{base}.log"));
    let file =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let trace = TraceConfig {
        instructions: true,
        commits: true,
        output: TraceOutput::new(Box::new(std::io::BufWriter::new(file))),
    };
    let output = trace.output.clone();
    let run = run_guest(test, &ImageCache::default(), Some(trace))?;
    output
        .borrow_mut()
        .finish()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let out = dir.join(format!("{base}.out"));
    std::fs::write(&out, &run.output)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(log)
}
