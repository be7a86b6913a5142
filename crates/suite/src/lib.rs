//! Ferrite's suite runner: many guests, each in its own machine, in one
//! process, on a pool of threads.
//!
//! - [`manifest`]: suites written in TOML (`docs/suites.md`), and suites
//!   made from ELF files and directories of them (riscv-tests).
//! - [`script`]: console scripts (`expect`/`send`) evaluated in virtual
//!   time, for `ferrite suite` and `ferrite run --script`.
//! - [`runner`]: running and judging tests, in parallel, deterministically.
//! - [`report`]: the closing line, failure details, JUnit XML, TAP, JSON.
//!
//! `ferrite suite` is the command-line front end; this repository's own
//! firmware tests call [`run_manifest_test`].
#![warn(missing_docs)]

pub mod manifest;
pub mod report;
pub mod runner;
pub mod script;
pub mod spec;

use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub use manifest::{ManifestError, Overrides};
pub use runner::{Failure, SuiteOptions, TestResult, Verdict, run_suite, run_test};
pub use spec::TestSpec;

/// Which tests of a suite to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only tests whose name matches.
    pub filter: Option<regex::Regex>,
    /// `(k, n)`: only the k-th of n shards (1-based): the tests whose
    /// position among those the filter kept is `k - 1` modulo `n`.
    pub shard: Option<(usize, usize)>,
}

/// A `--shard K/N` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {0}: expected K/N with 1 <= K <= N")]
pub struct BadShard(pub String);

/// Parses `K/N`.
pub fn parse_shard(text: &str) -> Result<(usize, usize), BadShard> {
    let bad = || BadShard(text.to_string());
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

impl Selection {
    /// The tests of `tests` this selection keeps, in order.
    pub fn apply(&self, tests: Vec<TestSpec>) -> Vec<TestSpec> {
        let kept = tests
            .into_iter()
            .filter(|t| self.filter.as_ref().is_none_or(|re| re.is_match(&t.name)));
        match self.shard {
            None => kept.collect(),
            Some((k, n)) => kept
                .enumerate()
                .filter(|(i, _)| i % n == k - 1)
                .map(|(_, t)| t)
                .collect(),
        }
    }
}

/// Manifests already read by [`run_manifest_test`], by path.
type ManifestCache = Mutex<Vec<(std::path::PathBuf, Result<Vec<TestSpec>, String>)>>;

/// Runs test `name` of the manifest at `manifest` (read once per process)
/// and panics with the failure report if it does not pass: what the
/// `#[test]`s generated from `firmware/tests.toml` call. A skipped test
/// prints a notice and passes, except under `CI=true`, where it fails.
pub fn run_manifest_test(manifest: &Path, name: &str) {
    static CACHE: OnceLock<ManifestCache> = OnceLock::new();
    let tests = {
        let mut cache = CACHE
            .get_or_init(|| Mutex::new(Vec::new()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !cache.iter().any(|(p, _)| p == manifest) {
            let loaded = manifest::load(manifest).map_err(|e| e.to_string());
            cache.push((manifest.to_path_buf(), loaded));
        }
        let (_, loaded) = cache
            .iter()
            .find(|(p, _)| p == manifest)
            .expect("inserted above");
        match loaded {
            Ok(tests) => tests.clone(),
            Err(e) => panic!("{e}"),
        }
    };
    let Some(test) = tests.iter().find(|t| t.name == name) else {
        panic!("{}: no test named `{name}`", manifest.display());
    };
    let result = run_test(
        test,
        &SuiteOptions::default(),
        &runner::ImageCache::default(),
    );
    match &result.verdict {
        Verdict::Passed => {}
        Verdict::Skipped(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{name}: CI=true but the test is skipped: {why}"
            );
            eprintln!("notice: {name} skipped: {why}");
        }
        Verdict::Failed(_) => panic!("{}", report::failure_text(&result)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BoardSpec;
    use ferrite_machine::BoardKind;

    #[test]
    fn shards_partition_and_filters_select() {
        let tests: Vec<TestSpec> = (0..10)
            .map(|i| TestSpec::new(format!("t{i}"), "x.elf", BoardSpec::new(BoardKind::Spike)))
            .collect();
        let mut seen = Vec::new();
        for k in 1..=3 {
            let sel = Selection {
                filter: None,
                shard: Some((k, 3)),
            };
            seen.extend(sel.apply(tests.clone()).into_iter().map(|t| t.name));
        }
        seen.sort();
        let mut all: Vec<String> = tests.iter().map(|t| t.name.clone()).collect();
        all.sort();
        assert_eq!(seen, all, "three shards cover every test once");
        let sel = Selection {
            filter: Some(regex::Regex::new("^t[13]$").unwrap()),
            shard: None,
        };
        let names: Vec<String> = sel.apply(tests).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["t1", "t3"]);
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }
}
