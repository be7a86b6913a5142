//! Reports of a suite run: the closing line, failure details, JUnit XML,
//! TAP and JSON. Every report lists the tests in the suite's order, so
//! two runs of the same suite give the same report but for host times.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::runner::{TestResult, Verdict, describe_outcome};

/// Console lines a failure report shows.
pub const FAILURE_LINES: usize = 10;

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
    /// Tests skipped.
    pub skipped: usize,
}

impl Totals {
    /// The counts of `results`.
    pub fn of(results: &[TestResult]) -> Self {
        let mut t = Totals::default();
        for r in results {
            match r.verdict {
                Verdict::Passed => t.passed += 1,
                Verdict::Failed(_) => t.failed += 1,
                Verdict::Skipped(_) => t.skipped += 1,
            }
        }
        t
    }

    /// `N passed, N failed, N skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The last `n` lines of a guest's output.
pub fn last_lines(output: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

/// Where the guest stopped: `pc 0x… after N instructions` (each hart's pc).
pub fn stop_point(r: &TestResult) -> String {
    let pcs: Vec<String> = r.pcs.iter().map(|pc| format!("{pc:#x}")).collect();
    let pc = match pcs.len() {
        0 => "no pc".to_string(),
        1 => format!("pc {}", pcs[0]),
        _ => format!("pcs {}", pcs.join(" ")),
    };
    let ended = r
        .outcome
        .map(|o| format!(", ended with {}", describe_outcome(o)))
        .unwrap_or_default();
    format!("{pc} after {} instructions{ended}", r.insns)
}

/// Why `r` failed, with the last console lines and where it stopped;
/// empty for a test that did not fail.
pub fn failure_text(r: &TestResult) -> String {
    let Verdict::Failed(failures) = &r.verdict else {
        return String::new();
    };
    let mut text = format!("---- {} ----\n", r.name);
    for f in failures {
        text.push_str(&format!("  {f}\n"));
    }
    if r.outcome.is_some() {
        text.push_str(&format!("  stopped at {}\n", stop_point(r)));
        let lines = last_lines(&r.output, FAILURE_LINES);
        if lines.is_empty() {
            text.push_str("  the guest printed nothing\n");
        } else {
            text.push_str(&format!("  last {} console lines:\n", lines.len()));
            for l in lines {
                text.push_str(&format!("  | {l}\n"));
            }
        }
    }
    text
}

/// The results as JUnit XML (one `testsuite` named `suite`), as CI systems
/// read it.
pub fn junit(suite: &str, results: &[TestResult]) -> Result<String, String> {
    let mut ts = TestSuite::new(suite);
    for r in results {
        let status = match &r.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Skipped(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.as_str());
                s
            }
            Verdict::Failed(failures) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
                s.set_message(reasons.join("; "));
                s.set_description(failure_text(r));
                s
            }
        };
        let mut case = TestCase::new(r.name.as_str(), status);
        case.set_classname(suite);
        case.set_time(r.duration);
        if r.failed() {
            case.set_system_out_lossy(&r.output);
        }
        ts.add_test_case(case);
    }
    let mut report = Report::new("ferrite");
    report.add_test_suite(ts);
    report.to_string().map_err(|e| e.to_string())
}

/// The results as TAP version 14.
pub fn tap(results: &[TestResult]) -> String {
    let mut out = format!("TAP version 14\n1..{}\n", results.len());
    for (i, r) in results.iter().enumerate() {
        let n = i + 1;
        match &r.verdict {
            Verdict::Passed => out.push_str(&format!("ok {n} - {}\n", r.name)),
            Verdict::Skipped(why) => {
                out.push_str(&format!("ok {n} - {} # SKIP {why}\n", r.name));
            }
            Verdict::Failed(failures) => {
                out.push_str(&format!("not ok {n} - {}\n  ---\n", r.name));
                out.push_str("  reasons:\n");
                for f in failures {
                    out.push_str(&format!("    - {}\n", yaml_string(&f.to_string())));
                }
                out.push_str(&format!("  stopped: {}\n", yaml_string(&stop_point(r))));
                out.push_str("  output:\n");
                for l in last_lines(&r.output, FAILURE_LINES) {
                    out.push_str(&format!("    - {}\n", yaml_string(&l)));
                }
                out.push_str("  ...\n");
            }
        }
    }
    out
}

/// A YAML double-quoted string.
fn yaml_string(s: &str) -> String {
    // JSON strings are YAML double-quoted strings.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[derive(Serialize)]
struct JsonTest<'r> {
    name: &'r str,
    status: &'static str,
    reasons: Vec<String>,
    outcome: Option<String>,
    exit_status: Option<u8>,
    instructions: u64,
    pcs: Vec<String>,
    output: String,
    signature: Option<&'r str>,
    seconds: f64,
}

#[derive(Serialize)]
struct JsonReport<'r> {
    totals: Totals,
    tests: Vec<JsonTest<'r>>,
}

/// The results as JSON: `{"totals": {...}, "tests": [...]}`, each test
/// with its status, reasons, outcome, instruction count, pcs and output.
pub fn json(results: &[TestResult]) -> String {
    let tests = results
        .iter()
        .map(|r| JsonTest {
            name: &r.name,
            status: match r.verdict {
                Verdict::Passed => "passed",
                Verdict::Failed(_) => "failed",
                Verdict::Skipped(_) => "skipped",
            },
            reasons: match &r.verdict {
                Verdict::Passed => Vec::new(),
                Verdict::Failed(f) => f.iter().map(ToString::to_string).collect(),
                Verdict::Skipped(why) => vec![why.clone()],
            },
            outcome: r.outcome.map(describe_outcome),
            exit_status: r.outcome.map(|o| o.exit_status()),
            instructions: r.insns,
            pcs: r.pcs.iter().map(|pc| format!("{pc:#x}")).collect(),
            output: String::from_utf8_lossy(&r.output).into_owned(),
            signature: r.signature.as_deref(),
            seconds: r.duration.as_secs_f64(),
        })
        .collect();
    let report = JsonReport {
        totals: Totals::of(results),
        tests,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into()) + "\n"
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ferrite_machine::RunOutcome;

    use super::*;
    use crate::runner::Failure;

    fn results() -> Vec<TestResult> {
        let base = TestResult {
            name: "a".into(),
            verdict: Verdict::Passed,
            outcome: Some(RunOutcome::Exited(0)),
            insns: 10,
            pcs: vec![0x8000_0000],
            output: b"hello\r\nworld\n".to_vec(),
            signature: None,
            duration: Duration::from_millis(1),
        };
        let mut failed = base.clone();
        failed.name = "b/c".into();
        failed.verdict = Verdict::Failed(vec![Failure::End {
            expected: "exit 0".into(),
            got: "exit 3".into(),
        }]);
        failed.outcome = Some(RunOutcome::Exited(3));
        let mut skipped = base.clone();
        skipped.name = "d".into();
        skipped.verdict = Verdict::Skipped("x is missing".into());
        vec![base, failed, skipped]
    }

    #[test]
    fn totals_and_failure_text() {
        let r = results();
        assert_eq!(Totals::of(&r).line(), "1 passed, 1 failed, 1 skipped");
        let text = failure_text(&r[1]);
        assert!(text.contains("expected exit 0, got exit 3"), "{text}");
        assert!(
            text.contains("stopped at pc 0x80000000 after 10 instructions, ended with exit 3"),
            "{text}"
        );
        assert!(text.contains("  | hello\n  | world\n"), "{text}");
        assert_eq!(failure_text(&r[0]), "");
    }

    #[test]
    fn tap_json_junit() {
        let r = results();
        let tap = tap(&r);
        assert!(
            tap.starts_with("TAP version 14\n1..3\nok 1 - a\nnot ok 2 - b/c\n"),
            "{tap}"
        );
        assert!(tap.contains("ok 3 - d # SKIP x is missing\n"), "{tap}");
        let json: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(json["totals"]["failed"], 1);
        assert_eq!(json["tests"][1]["exit_status"], 3);
        assert_eq!(json["tests"][1]["pcs"][0], "0x80000000");
        let xml = junit("firmware", &r).unwrap();
        assert!(xml.contains("tests=\"3\""), "{xml}");
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("skipped=\"1\""), "{xml}");
        assert!(
            xml.contains("<testcase name=\"b/c\" classname=\"firmware\""),
            "{xml}"
        );
    }
}
