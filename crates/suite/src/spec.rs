//! What one test is: the guest, the board it runs on, its limits and what
//! must be true when it stops.

use std::path::PathBuf;
use std::time::Duration;

use ferrite_machine::config::DriveConfig;
use ferrite_machine::{BoardKind, DEFAULT_INPUT_WAIT, ImageSource, Isa, MachineConfig, RunOutcome};
use regex::bytes::Regex;

use crate::script::Step;

/// Instruction limit of a test that sets none: far above a riscv-tests
/// program (thousands) or a firmware test (millions), so reaching it means
/// the guest hangs.
pub const DEFAULT_MAX_INSNS: u64 = 1_000_000_000;

/// Host-time limit of a test that sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest limit in seconds anything takes: about 31 years, far
/// beyond any run and well inside what the host's clock can add to the
/// present.
pub const MAX_SECONDS: f64 = 1e9;

/// `secs` as a duration: a finite number of seconds above 0 and at most
/// [`MAX_SECONDS`]; otherwise a message saying so. How `--timeout`,
/// `--input-wait` and the manifest's `timeout` and `input-wait` are read.
pub fn seconds(secs: f64) -> Result<Duration, String> {
    if secs.is_finite() && secs > 0.0 && secs <= MAX_SECONDS {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!(
            "{secs} is not a number of seconds: it must be above 0 and at most {MAX_SECONDS} seconds (about 31 years)"
        ))
    }
}

/// A span of virtual time in `mtime` ticks (10 MHz), as
/// [`ferrite_machine::MachineConfig::input_wait`] takes it.
pub fn ticks(span: Duration) -> u64 {
    let hz = u128::from(ferrite_machine::layout::TIMEBASE_HZ);
    u64::try_from(span.as_nanos() * hz / 1_000_000_000).unwrap_or(u64::MAX)
}

/// The board a test runs on: the options of `ferrite run` that build it.
#[derive(Debug, Clone)]
pub struct BoardSpec {
    /// `--machine`.
    pub machine: BoardKind,
    /// `--memory`, in bytes (the board's default when `None`).
    pub memory: Option<u64>,
    /// `--smp`.
    pub smp: u32,
    /// `--isa` (everything Ferrite implements when `None`).
    pub isa: Option<Isa>,
    /// `--bios`.
    pub bios: Option<PathBuf>,
    /// `--dtb`.
    pub dtb: Option<PathBuf>,
    /// `--append`.
    pub append: Option<String>,
    /// `--drive`, each.
    pub drives: Vec<DriveConfig>,
    /// `--virtio-rng`.
    pub virtio_rng: Option<u64>,
    /// `--one-insn-per-block`.
    pub one_insn_per_block: bool,
}

impl BoardSpec {
    /// One hart of `machine` with its defaults.
    pub fn new(machine: BoardKind) -> Self {
        Self {
            machine,
            memory: None,
            smp: 1,
            isa: None,
            bios: None,
            dtb: None,
            append: None,
            drives: Vec::new(),
            virtio_rng: None,
            one_insn_per_block: false,
        }
    }
}

/// How the run must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedEnd {
    /// The guest exits with this status (HTIF, the test finisher).
    Exit(u32),
    /// The run ends this way (`reset`, `input-exhausted`, `stuck`,
    /// `instruction-limit`, `trap-loop`).
    Outcome(EndKind),
}

/// A way for a run to end other than an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// The guest asked for a reset.
    Reset,
    /// The guest waited for console input that could not come.
    InputExhausted,
    /// Every hart waits for an interrupt that cannot come.
    Stuck,
    /// The instruction limit was reached.
    InstructionLimit,
    /// A hart was caught in a trap loop.
    TrapLoop,
}

impl EndKind {
    /// Every kind with its manifest spelling.
    pub const ALL: [(&'static str, EndKind); 5] = [
        ("reset", EndKind::Reset),
        ("input-exhausted", EndKind::InputExhausted),
        ("stuck", EndKind::Stuck),
        ("instruction-limit", EndKind::InstructionLimit),
        ("trap-loop", EndKind::TrapLoop),
    ];

    /// Whether `outcome` is of this kind.
    pub fn matches(self, outcome: RunOutcome) -> bool {
        matches!(
            (self, outcome),
            (EndKind::Reset, RunOutcome::Reset)
                | (EndKind::InputExhausted, RunOutcome::InputExhausted)
                | (EndKind::Stuck, RunOutcome::Stuck)
                | (EndKind::InstructionLimit, RunOutcome::InstructionLimit)
                | (EndKind::TrapLoop, RunOutcome::TrapLoop { .. })
        )
    }

    /// The manifest spelling.
    pub fn name(self) -> &'static str {
        EndKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
}

impl ExpectedEnd {
    /// Whether `outcome` is what is expected.
    pub fn matches(self, outcome: RunOutcome) -> bool {
        match self {
            ExpectedEnd::Exit(code) => outcome == RunOutcome::Exited(code),
            ExpectedEnd::Outcome(kind) => kind.matches(outcome),
        }
    }

    /// As a manifest would spell it.
    pub fn describe(self) -> String {
        match self {
            ExpectedEnd::Exit(code) => format!("exit {code}"),
            ExpectedEnd::Outcome(kind) => kind.name().to_string(),
        }
    }
}

/// What the console output must (and must not) hold.
#[derive(Debug, Clone, Default)]
pub struct OutputChecks {
    /// The whole output, exactly (`\r\n` read as `\n`).
    pub exact: Option<String>,
    /// Texts that must each appear.
    pub contains: Vec<String>,
    /// Texts that must not appear.
    pub not_contains: Vec<String>,
    /// Regular expressions (multi-line mode) that must each match.
    pub matches: Vec<Regex>,
}

/// Where a test was written, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The manifest file.
    pub file: PathBuf,
    /// The line of its `[[test]]` header.
    pub line: usize,
}

/// One test.
#[derive(Debug, Clone)]
pub struct TestSpec {
    /// Unique name.
    pub name: String,
    /// Where it was written (none for a test made from a file name).
    pub origin: Option<Origin>,
    /// The guest ELF (`ferrite run ELF`).
    pub elf: PathBuf,
    /// The board.
    pub board: BoardSpec,
    /// How it must end.
    pub end: ExpectedEnd,
    /// What the output must hold.
    pub output: OutputChecks,
    /// Console script (empty: no input).
    pub script: Vec<Step>,
    /// Instruction limit (all harts together).
    pub max_insns: u64,
    /// Host-time limit.
    pub timeout: Duration,
    /// Ticks of virtual time a guest may wait for input that cannot come.
    pub input_wait: u64,
    /// The reference signature the test's must equal.
    pub signature: Option<PathBuf>,
    /// Bytes per signature line.
    pub signature_granularity: usize,
    /// Skipped, for this reason.
    pub skip: Option<String>,
    /// Files that must exist for the test to run (else it is skipped).
    pub requires: Vec<PathBuf>,
}

impl TestSpec {
    /// A test of `elf` on `board` that must exit 0, with the default
    /// limits: how a riscv-tests binary is run.
    pub fn new(name: impl Into<String>, elf: impl Into<PathBuf>, board: BoardSpec) -> Self {
        Self {
            name: name.into(),
            origin: None,
            elf: elf.into(),
            board,
            end: ExpectedEnd::Exit(0),
            output: OutputChecks::default(),
            script: Vec::new(),
            max_insns: DEFAULT_MAX_INSNS,
            timeout: DEFAULT_TIMEOUT,
            input_wait: DEFAULT_INPUT_WAIT,
            signature: None,
            signature_granularity: 16,
            skip: None,
            requires: Vec::new(),
        }
    }

    /// The machine configuration, with the console captured and the
    /// kernel taken from `kernel` (the ELF's bytes, read once for every
    /// run of the suite).
    pub fn machine_config(&self, kernel: ImageSource) -> MachineConfig {
        let b = &self.board;
        let mut config = MachineConfig::new(b.machine)
            .with_kernel(kernel)
            .with_captured_serial(b"");
        if let Some(size) = b.memory {
            config.ram_size = size;
        }
        config.harts = b.smp;
        if let Some(isa) = b.isa {
            config.isa = isa;
        }
        config.bios = b.bios.as_ref().map(ImageSource::file);
        config.dtb = b.dtb.as_ref().map(ImageSource::file);
        config.bootargs = b.append.clone();
        config.drives = b.drives.clone();
        config.virtio_rng = b.virtio_rng;
        config.one_insn_per_block = b.one_insn_per_block;
        config.input_wait = Some(self.input_wait);
        config
    }
}
