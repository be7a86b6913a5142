//! Suite manifests (TOML): a `[defaults]` table and one `[[test]]` table a
//! test, with the options of `ferrite run` and what the run must show.
//! `docs/suites.md` documents every field. An error names the file, the
//! line and the field.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrite_machine::size::parse_mem_size;
use ferrite_machine::{BoardKind, Isa};
use serde::Deserialize;
use toml::Spanned;

use crate::script::{self, Pattern, Step};
use crate::spec::{self, BoardSpec, EndKind, ExpectedEnd, Origin, OutputChecks, TestSpec};

/// A manifest (or a file it names) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A field is wrong.
    #[error("{}:{line}: {field}: {message}", file.display())]
    Field {
        /// The manifest.
        file: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The field (or table) at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// One value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A script: a file's name, or the steps inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ScriptValue {
    File(String),
    Steps(Vec<RawStep>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    expect: Option<String>,
    expect_re: Option<String>,
    send: Option<String>,
    sendline: Option<String>,
}

/// A memory size: `"128M"`, or a number of MiB.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Text(String),
    Mib(u64),
}

/// An expected end: a status or a name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ExitValue {
    Code(i64),
    Name(String),
}

/// The fields of a `[[test]]` (and of `[defaults]`), as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTest {
    name: Option<Spanned<String>>,
    elf: Option<Spanned<String>>,
    machine: Option<Spanned<String>>,
    memory: Option<Spanned<SizeValue>>,
    smp: Option<Spanned<u32>>,
    isa: Option<Spanned<String>>,
    bios: Option<Spanned<String>>,
    dtb: Option<Spanned<String>>,
    append: Option<String>,
    drives: Option<Vec<Spanned<String>>>,
    virtio_rng: Option<u64>,
    one_insn_per_block: Option<bool>,
    exit: Option<Spanned<ExitValue>>,
    output: Option<String>,
    contains: Option<OneOrMany>,
    not_contains: Option<OneOrMany>,
    matches: Option<Spanned<OneOrMany>>,
    script: Option<Spanned<ScriptValue>>,
    max_insns: Option<Spanned<u64>>,
    timeout: Option<Spanned<f64>>,
    input_wait: Option<Spanned<f64>>,
    signature: Option<Spanned<String>>,
    signature_granularity: Option<Spanned<usize>>,
    skip: Option<String>,
    requires: Option<Vec<String>>,
}

impl RawTest {
    /// Fills what this test leaves out from `defaults`.
    fn inherit(&mut self, defaults: &RawTest) {
        macro_rules! inherit {
            ($($field:ident),*) => {
                $(if self.$field.is_none() {
                    self.$field = defaults.$field.clone();
                })*
            };
        }
        inherit!(
            machine,
            memory,
            smp,
            isa,
            bios,
            dtb,
            append,
            drives,
            virtio_rng,
            one_insn_per_block,
            exit,
            output,
            contains,
            not_contains,
            matches,
            script,
            max_insns,
            timeout,
            input_wait,
            signature_granularity,
            skip,
            requires
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    defaults: Option<RawTest>,
    #[serde(default, rename = "test")]
    tests: Vec<Spanned<RawTest>>,
}

/// Options given for every test, from the command line: they win over
/// what a manifest says.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--machine`.
    pub machine: Option<BoardKind>,
    /// `--smp`.
    pub smp: Option<u32>,
    /// `--isa`.
    pub isa: Option<Isa>,
    /// `--memory`, bytes.
    pub memory: Option<u64>,
    /// `--max-insns`.
    pub max_insns: Option<u64>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
}

impl Overrides {
    /// Applies the overrides to `test`.
    pub fn apply(&self, test: &mut TestSpec) {
        if let Some(m) = self.machine {
            test.board.machine = m;
        }
        if let Some(n) = self.smp {
            test.board.smp = n;
        }
        if let Some(isa) = self.isa {
            test.board.isa = Some(isa);
        }
        if let Some(size) = self.memory {
            test.board.memory = Some(size);
        }
        if let Some(n) = self.max_insns {
            test.max_insns = n;
        }
        if let Some(t) = self.timeout {
            test.timeout = t;
        }
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).map_or(1, |t| t.matches('\n').count() + 1)
}

/// Reads and checks the manifest at `path`: its tests, in file order, with
/// paths made relative to the manifest's directory and globs expanded.
pub fn load(path: &Path) -> Result<Vec<TestSpec>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Checks the manifest `text`, read from `path` (for messages and relative
/// paths).
pub fn parse(text: &str, path: &Path) -> Result<Vec<TestSpec>, ManifestError> {
    let ctx = Context {
        text,
        file: path.to_path_buf(),
        dir: path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    let raw: RawManifest = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
    let defaults = raw.defaults.unwrap_or_default();
    for (field, present) in [
        ("name", defaults.name.as_ref().map(Spanned::span)),
        ("elf", defaults.elf.as_ref().map(Spanned::span)),
        ("signature", defaults.signature.as_ref().map(Spanned::span)),
    ] {
        if let Some(span) = present {
            return Err(ctx.error(span, field, "belongs to one test, not to [defaults]".into()));
        }
    }
    let mut tests: Vec<TestSpec> = Vec::new();
    for spanned in raw.tests {
        let span = spanned.span();
        let mut t = spanned.into_inner();
        t.inherit(&defaults);
        for test in ctx.tests_of(t, span)? {
            if let Some(prev) = tests.iter().find(|p| p.name == test.name) {
                let line = test.origin.as_ref().map_or(1, |o| o.line);
                return Err(ManifestError::Field {
                    file: ctx.file.clone(),
                    line,
                    field: "name".into(),
                    message: format!(
                        "`{}` is already the name of the test at line {}",
                        test.name,
                        prev.origin.as_ref().map_or(1, |o| o.line)
                    ),
                });
            }
            tests.push(test);
        }
    }
    Ok(tests)
}

/// What a manifest's checks need to know.
struct Context<'t> {
    text: &'t str,
    file: PathBuf,
    dir: PathBuf,
}

impl Context<'_> {
    fn error(&self, span: std::ops::Range<usize>, field: &str, message: String) -> ManifestError {
        ManifestError::Field {
            file: self.file.clone(),
            line: line_of(self.text, span.start),
            field: field.to_string(),
            message,
        }
    }

    /// A TOML or type error, with the field read off the line it points at.
    fn toml_error(&self, e: &toml::de::Error) -> ManifestError {
        let start = e.span().map_or(0, |s| s.start);
        let line = line_of(self.text, start);
        let line_text = self.text.lines().nth(line - 1).unwrap_or("").trim();
        let field = match line_text.split_once('=') {
            Some((key, _)) => key.trim().to_string(),
            None if line_text.starts_with('[') => line_text.to_string(),
            None => "manifest".to_string(),
        };
        ManifestError::Field {
            file: self.file.clone(),
            line,
            field,
            message: e.message().trim().to_string(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// The tests one `[[test]]` table makes: one, or one per file its
    /// `elf` glob matches.
    fn tests_of(
        &self,
        t: RawTest,
        span: std::ops::Range<usize>,
    ) -> Result<Vec<TestSpec>, ManifestError> {
        let Some(elf) = &t.elf else {
            return Err(self.error(span, "elf", "every test needs an `elf`".into()));
        };
        let elf_text = elf.get_ref();
        let is_glob = elf_text.contains(['*', '?', '[']);
        let elves: Vec<PathBuf> = if is_glob {
            let pattern = self.path(elf_text);
            let found = glob::glob(&pattern.to_string_lossy())
                .map_err(|e| self.error(elf.span(), "elf", format!("bad glob: {e}")))?;
            // As for directories: only ELF files (a riscv-tests build puts
            // `.dump` files beside its binaries).
            let mut files: Vec<PathBuf> = found
                .filter_map(Result::ok)
                .filter(|p| p.is_file() && is_elf(p))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(self.error(
                    elf.span(),
                    "elf",
                    format!("`{elf_text}` matches no ELF file"),
                ));
            }
            files
        } else {
            vec![self.path(elf_text)]
        };
        let base = self.spec_of(&t, span.clone())?;
        let mut out = Vec::with_capacity(elves.len());
        for path in elves {
            let stem = path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = match (&t.name, is_glob) {
                (Some(n), true) => format!("{}/{stem}", n.get_ref()),
                (Some(n), false) => n.get_ref().clone(),
                (None, _) => stem.clone(),
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                let span = t.name.as_ref().map_or(span.clone(), Spanned::span);
                return Err(self.error(
                    span,
                    "name",
                    format!("`{name}` is not a test name (no spaces, not empty)"),
                ));
            }
            let mut test = base.clone();
            test.name = name;
            test.elf = path;
            out.push(test);
        }
        Ok(out)
    }

    /// Everything of a test but its name and ELF.
    fn spec_of(
        &self,
        t: &RawTest,
        span: std::ops::Range<usize>,
    ) -> Result<TestSpec, ManifestError> {
        let machine = match &t.machine {
            Some(m) => m
                .get_ref()
                .parse::<BoardKind>()
                .map_err(|e| self.error(m.span(), "machine", e.to_string()))?,
            None => BoardKind::Virt,
        };
        let mut board = BoardSpec::new(machine);
        if let Some(m) = &t.memory {
            board.memory = Some(match m.get_ref() {
                SizeValue::Text(s) => {
                    parse_mem_size(s).map_err(|e| self.error(m.span(), "memory", e))?
                }
                SizeValue::Mib(n) => {
                    n.checked_mul(1 << 20).filter(|&b| b > 0).ok_or_else(|| {
                        self.error(m.span(), "memory", format!("{n} MiB is not a size"))
                    })?
                }
            });
        }
        if let Some(n) = &t.smp {
            board.smp = *n.get_ref();
            if board.smp == 0 || board.smp > ferrite_machine::MAX_HARTS {
                return Err(self.error(
                    n.span(),
                    "smp",
                    format!("between 1 and {} harts", ferrite_machine::MAX_HARTS),
                ));
            }
        }
        if let Some(isa) = &t.isa {
            board.isa = Some(
                isa.get_ref()
                    .parse::<Isa>()
                    .map_err(|e| self.error(isa.span(), "isa", e.to_string()))?,
            );
        }
        board.bios = t
            .bios
            .as_ref()
            .filter(|b| b.get_ref() != "none")
            .map(|b| self.path(b.get_ref()));
        board.dtb = t.dtb.as_ref().map(|d| self.path(d.get_ref()));
        board.append = t.append.clone();
        for d in t.drives.iter().flatten() {
            let mut drive: ferrite_machine::config::DriveConfig = d
                .get_ref()
                .parse()
                .map_err(|e: String| self.error(d.span(), "drives", e))?;
            drive.path = self.path(&drive.path.to_string_lossy());
            board.drives.push(drive);
        }
        board.virtio_rng = t.virtio_rng;
        board.one_insn_per_block = t.one_insn_per_block.unwrap_or(false);

        let mut spec = TestSpec::new(String::new(), PathBuf::new(), board);
        spec.origin = Some(Origin {
            file: self.file.clone(),
            line: line_of(self.text, span.start),
        });
        if let Some(e) = &t.exit {
            spec.end = match e.get_ref() {
                ExitValue::Code(c) => ExpectedEnd::Exit(u32::try_from(*c).map_err(|_| {
                    self.error(e.span(), "exit", format!("{c} is not an exit status"))
                })?),
                ExitValue::Name(name) => ExpectedEnd::Outcome(
                    EndKind::ALL
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, k)| *k)
                        .ok_or_else(|| {
                            let names: Vec<&str> = EndKind::ALL.iter().map(|(n, _)| *n).collect();
                            self.error(
                                e.span(),
                                "exit",
                                format!(
                                    "`{name}` is neither a status nor one of {}",
                                    names.join(", ")
                                ),
                            )
                        })?,
                ),
            };
        }
        spec.output = OutputChecks {
            exact: t.output.clone(),
            contains: t
                .contains
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            not_contains: t
                .not_contains
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            matches: match &t.matches {
                None => Vec::new(),
                Some(m) => m
                    .get_ref()
                    .clone()
                    .into_vec()
                    .iter()
                    .map(|re| {
                        script::compile_regex(re).map_err(|e| self.error(m.span(), "matches", e))
                    })
                    .collect::<Result<_, _>>()?,
            },
        };
        if let Some(s) = &t.script {
            spec.script = self.script_of(s)?;
        }
        if let Some(n) = &t.max_insns {
            spec.max_insns = *n.get_ref();
        }
        if let Some(secs) = &t.timeout {
            spec.timeout = self.seconds(secs, "timeout")?;
        }
        if let Some(secs) = &t.input_wait {
            spec.input_wait = spec::ticks(self.seconds(secs, "input-wait")?);
        }
        spec.signature = t.signature.as_ref().map(|s| self.path(s.get_ref()));
        if let Some(g) = &t.signature_granularity {
            spec.signature_granularity = *g.get_ref();
            if spec.signature_granularity == 0 {
                return Err(self.error(
                    g.span(),
                    "signature-granularity",
                    "at least one byte a line".into(),
                ));
            }
        }
        spec.skip = t.skip.clone();
        spec.requires = t.requires.iter().flatten().map(|p| self.path(p)).collect();
        Ok(spec)
    }

    fn seconds(&self, secs: &Spanned<f64>, field: &str) -> Result<Duration, ManifestError> {
        spec::seconds(*secs.get_ref()).map_err(|e| self.error(secs.span(), field, e))
    }

    fn script_of(&self, s: &Spanned<ScriptValue>) -> Result<Vec<Step>, ManifestError> {
        match s.get_ref() {
            ScriptValue::File(file) => {
                let path = self.path(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(
                        s.span(),
                        "script",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                script::parse(&text).map_err(|e| {
                    self.error(
                        s.span(),
                        "script",
                        format!("{}:{}: {}", path.display(), e.line, e.message),
                    )
                })
            }
            ScriptValue::Steps(steps) => steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let bad =
                        |m: String| self.error(s.span(), "script", format!("step {}: {m}", i + 1));
                    let given = [&step.expect, &step.expect_re, &step.send, &step.sendline]
                        .iter()
                        .filter(|f| f.is_some())
                        .count();
                    if given != 1 {
                        return Err(bad(
                            "give exactly one of expect, expect-re, send, sendline".into()
                        ));
                    }
                    Ok(if let Some(t) = &step.expect {
                        Step::Expect(Pattern::Text(script::unescape(t).map_err(bad)?))
                    } else if let Some(re) = &step.expect_re {
                        Step::Expect(Pattern::Regex(script::compile_regex(re).map_err(bad)?))
                    } else if let Some(t) = &step.send {
                        Step::Send(script::unescape(t).map_err(bad)?)
                    } else {
                        let mut bytes = script::unescape(step.sendline.as_deref().unwrap_or(""))
                            .map_err(bad)?;
                        bytes.push(b'\n');
                        Step::Send(bytes)
                    })
                })
                .collect(),
        }
    }
}

/// Tests for ELF files and directories named on the command line: each
/// ELF is a test that must exit 0 (a riscv-tests binary passes by HTIF
/// exit 0, fails with the failing case's number). A directory contributes
/// every ELF file directly in it (by the magic number), in name order.
pub fn tests_from_paths(
    paths: &[PathBuf],
    board: &BoardSpec,
) -> Result<Vec<TestSpec>, ManifestError> {
    let mut tests = Vec::new();
    for path in paths {
        let read = |p: &Path, source| ManifestError::Read {
            path: p.to_path_buf(),
            source,
        };
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| read(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_elf(p))
                .collect();
            files.sort();
            files
        } else {
            std::fs::metadata(path).map_err(|e| read(path, e))?;
            vec![path.clone()]
        };
        for file in files {
            let name = file
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            tests.push(TestSpec::new(name, file, board.clone()));
        }
    }
    Ok(tests)
}

/// Whether the file starts with the ELF magic number.
fn is_elf(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("m/suite.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_apply_and_tests_override() {
        let tests = parse(
            "[defaults]\nmachine = \"spike\"\nmax-insns = 5000\nexit = 3\n\n[[test]]\nname = \"a\"\nelf = \"a.elf\"\n\n[[test]]\nelf = \"bin/b.elf\"\nmachine = \"virt\"\nexit = \"input-exhausted\"\ncontains = \"hi\"\nmatches = [\"^PASS\", \"x+\"]\ntimeout = 2\ninput-wait = 0.5\nsmp = 2\nmemory = \"64M\"\n",
            Path::new("m/suite.toml"),
        )
        .unwrap();
        assert_eq!(tests.len(), 2);
        let (a, b) = (&tests[0], &tests[1]);
        assert_eq!(a.name, "a");
        assert_eq!(a.elf, Path::new("m/a.elf"));
        assert_eq!(a.board.machine, BoardKind::Spike);
        assert_eq!(a.max_insns, 5000);
        assert_eq!(a.end, ExpectedEnd::Exit(3));
        assert_eq!(a.origin.as_ref().map(|o| o.line), Some(6));
        assert_eq!(b.name, "b.elf");
        assert_eq!(b.board.machine, BoardKind::Virt);
        assert_eq!(b.board.smp, 2);
        assert_eq!(b.board.memory, Some(64 << 20));
        assert_eq!(b.end, ExpectedEnd::Outcome(EndKind::InputExhausted));
        assert_eq!(b.output.contains, ["hi"]);
        assert_eq!(b.output.matches.len(), 2);
        assert_eq!(b.timeout, Duration::from_secs(2));
        assert_eq!(b.input_wait, ferrite_machine::layout::TIMEBASE_HZ / 2);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        assert_eq!(
            err("[[test]]\nelf = \"a\"\nmachine = \"sifive_u\"\n"),
            "m/suite.toml:3: machine: unknown machine `sifive_u` (available: virt, spike)"
        );
        let e = err("[[test]]\nelf = \"a\"\n\nsmp = \"two\"\n");
        assert!(e.starts_with("m/suite.toml:4: smp: "), "{e}");
        let e = err("[[test]]\nelf = \"a\"\nsmpp = 2\n");
        assert!(e.starts_with("m/suite.toml:3: smpp: unknown field"), "{e}");
        assert_eq!(
            err("[[test]]\nname = \"x\"\n"),
            "m/suite.toml:1: elf: every test needs an `elf`"
        );
        let e = err("[[test]]\nelf = \"a\"\nexit = \"crash\"\n");
        assert!(
            e.starts_with("m/suite.toml:3: exit: `crash` is neither"),
            "{e}"
        );
        let e = err("[[test]]\nelf = \"a\"\nmatches = \"(\"\n");
        assert!(
            e.starts_with("m/suite.toml:3: matches: bad regular expression"),
            "{e}"
        );
        let e = err("[[test]]\nelf = \"a\"\n[[test]]\nelf = \"b/a\"\n");
        assert!(
            e.contains(":3: name: `a` is already the name of the test at line 1"),
            "{e}"
        );
        let e = err("[defaults]\nelf = \"a\"\n");
        assert!(
            e.starts_with("m/suite.toml:2: elf: belongs to one test"),
            "{e}"
        );
        let e = err("[[test]]\nelf = \"a\"\nscript = [{ expect = \"x\", send = \"y\" }]\n");
        assert!(e.contains(":3: script: step 1: give exactly one"), "{e}");
        let e = err("[[test]]\nelf = \"a\"\ntimeout = -1\n");
        assert!(
            e.starts_with("m/suite.toml:3: timeout: -1 is not a number of seconds"),
            "{e}"
        );
        let e = err("[[test]]\nelf = \"nothing-here-*.elf\"\n");
        assert!(
            e.contains(":2: elf: `nothing-here-*.elf` matches no ELF file"),
            "{e}"
        );
        let e = err("[[test]\n");
        assert!(e.starts_with("m/suite.toml:1: "), "{e}");
    }

    #[test]
    fn inline_scripts() {
        let tests = parse(
            "[[test]]\nelf = \"a\"\nscript = [{ expect = \"=>\\\\s\" }, { sendline = \"version\" }, { expect-re = \"U-Boot \\\\d+\" }, { send = \"\\\\x03\" }]\n",
            Path::new("s.toml"),
        )
        .unwrap();
        let steps: Vec<String> = tests[0].script.iter().map(Step::describe).collect();
        assert_eq!(
            steps,
            [
                "expect \"=> \"",
                "send \"version\\n\"",
                "expect /(?m)U-Boot \\d+/",
                "send \"\\u{3}\""
            ]
        );
    }
}
