//! `-d ITEMS` and `-D FILE`: QEMU-style log items mapped to tracing targets.
//!
//! Each item names a `tracing` target the emulator logs to; `-d in_asm,int`
//! builds an `EnvFilter` of `in_asm=trace,int=trace` and everything else off.
//! Logs go to stderr, or to the file `-D` names. With no `-d`, the
//! `RUST_LOG` variable (if set) is used as the filter; otherwise no
//! subscriber is installed at all, which keeps start-up cheap.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use tracing_subscriber::EnvFilter;

/// The `-d` items: (name, what it logs).
pub const LOG_ITEMS: &[(&str, &str)] = &[
    ("in_asm", "each newly translated block, disassembled once"),
    ("int", "traps and interrupts taken (cause, pc, tval)"),
    (
        "guest_errors",
        "accesses to unassigned memory, bad device registers, bad HTIF commands",
    ),
    ("cpu", "register state before each executed block"),
    ("exec", "each block executed (pc)"),
    (
        "mmu",
        "each page walk: vaddr, satp, every PTE read, the result or fault",
    ),
    (
        "unimp",
        "instructions and CSRs the guest used that the hart does not implement",
    ),
    (
        "commit",
        "the commit log, as the reference simulator's --log-commits",
    ),
    (
        "nochain",
        "do not chain translated blocks: -d exec and cpu see every block",
    ),
];

/// A `-d` list taken apart: the items that are tracing targets, and the
/// two that are not (`commit`, the commit log; `nochain`, an engine
/// setting).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LogItems {
    /// The tracing targets, comma separated (`None` if there are none).
    pub tracing: Option<String>,
    /// `commit` was given.
    pub commit: bool,
    /// `nochain` was given.
    pub nochain: bool,
}

/// Take a `-d` list apart (see [`LogItems`]). An empty list is refused.
pub fn split_items(items: Option<&str>) -> Result<LogItems> {
    let Some(items) = items else {
        return Ok(LogItems::default());
    };
    let list: Vec<&str> = items
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        bail!("-d needs at least one log item (`-d help` lists them)");
    }
    let rest: Vec<&str> = list
        .iter()
        .copied()
        .filter(|i| !NOT_TARGETS.contains(i))
        .collect();
    Ok(LogItems {
        tracing: (!rest.is_empty()).then(|| rest.join(",")),
        commit: list.contains(&"commit"),
        nochain: list.contains(&"nochain"),
    })
}

/// `-d` items that are not tracing targets.
const NOT_TARGETS: [&str; 2] = ["commit", "nochain"];

/// Text printed for `-d help`.
pub fn help_text() -> String {
    let mut s = String::from("Log items (comma separated):\n");
    for (name, what) in LOG_ITEMS {
        s.push_str(&format!("  {name:<14}{what}\n"));
    }
    s
}

/// Builds the filter directive for a `-d` list, checking every item.
pub fn filter_for_items(items: &str) -> Result<String> {
    let mut directives = vec!["off".to_string()];
    for item in items.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if NOT_TARGETS.contains(&item) || !LOG_ITEMS.iter().any(|(name, _)| *name == item) {
            let known: Vec<&str> = LOG_ITEMS.iter().map(|(n, _)| *n).collect();
            bail!(
                "unknown log item `{item}` (available: {}; `-d help` lists them)",
                known.join(", ")
            );
        }
        directives.push(format!("{item}=trace"));
    }
    Ok(directives.join(","))
}

/// The `-D` file: buffered, and failing once. After the first error (a full
/// disk, a closed pipe) every further event is dropped instead of each one
/// printing an error, and [`finish`] reports the failure once.
struct LogSink {
    out: BufWriter<File>,
    path: PathBuf,
    failed: Option<String>,
}

static LOG_FILE: OnceLock<Mutex<LogSink>> = OnceLock::new();

/// What the subscriber writes through: the `-D` file.
struct LogFileWriter;

impl Write for LogFileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(sink) = LOG_FILE.get()
            && let Ok(mut s) = sink.lock()
            && s.failed.is_none()
            && let Err(e) = s.out.write_all(buf)
        {
            s.failed = Some(e.to_string());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Flushes the `-D` file; an error if any write to it failed (once, with
/// the reason).
pub fn finish() -> Result<()> {
    let Some(sink) = LOG_FILE.get() else {
        return Ok(());
    };
    let mut s = sink
        .lock()
        .map_err(|_| anyhow::anyhow!("the log file writer panicked"))?;
    if s.failed.is_none()
        && let Err(e) = s.out.flush()
    {
        s.failed = Some(e.to_string());
    }
    match &s.failed {
        Some(reason) => bail!("cannot write the log to {}: {reason}", s.path.display()),
        None => Ok(()),
    }
}

/// Installs the subscriber for `-d`/`-D` (or `RUST_LOG`).
pub fn init(items: Option<&str>, file: Option<&Path>) -> Result<()> {
    let filter = match items {
        Some(items) => EnvFilter::try_new(filter_for_items(items)?)?,
        None => match std::env::var("RUST_LOG") {
            Ok(spec) if !spec.is_empty() => {
                EnvFilter::try_new(&spec).with_context(|| format!("bad RUST_LOG `{spec}`"))?
            }
            _ => {
                if file.is_some() {
                    // -D without -d: nothing would be logged; say so rather than
                    // silently creating an empty file.
                    bail!("-D needs -d ITEMS to say what to log");
                }
                return Ok(());
            }
        },
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_level(false)
        .with_target(false);
    match file {
        Some(path) => {
            let f = File::create(path)
                .with_context(|| format!("cannot create log file {}", path.display()))?;
            let sink = LogSink {
                out: BufWriter::with_capacity(1 << 16, f),
                path: path.to_owned(),
                failed: None,
            };
            if LOG_FILE.set(Mutex::new(sink)).is_err() {
                bail!("the log is already set up");
            }
            builder
                .with_ansi(false)
                .with_writer(|| LogFileWriter)
                .try_init()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        None => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .try_init()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_map_to_targets() {
        assert_eq!(
            filter_for_items("in_asm,int").unwrap(),
            "off,in_asm=trace,int=trace"
        );
        assert_eq!(filter_for_items("").unwrap(), "off");
        let err = filter_for_items("in_asm,bogus").unwrap_err().to_string();
        assert!(err.contains("unknown log item `bogus`"), "{err}");
    }

    #[test]
    fn commit_and_nochain_are_not_tracing_targets() {
        let items = split_items(Some("in_asm,commit,nochain")).unwrap();
        assert_eq!(items.tracing.as_deref(), Some("in_asm"));
        assert!(items.commit && items.nochain);
        let items = split_items(Some("nochain")).unwrap();
        assert_eq!(items.tracing, None);
        assert!(!items.commit && items.nochain);
        assert!(split_items(Some(" , ")).is_err());
        assert!(filter_for_items("nochain").is_err());
    }

    #[test]
    fn help_lists_every_item() {
        let help = help_text();
        for (name, _) in LOG_ITEMS {
            assert!(help.contains(name));
        }
    }
}
