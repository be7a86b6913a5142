//! `ferrite run`: build a board from the options and run it.

use ferrite_machine::Isa;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use ferrite_machine::{
    BoardKind, ImageSource, Machine, MachineConfig, OutputPattern, PciDeviceConfig, RunLimits,
    RunOutcome, SerialConfig, TraceConfig, TraceOutput,
};

use crate::logging;
use ferrite_machine::size::parse_mem_size;
use ferrite_machine::virtio_mem::VirtioMemSpec;

/// The guest run when no ELF, `--kernel` or `--bios` is given: the
/// firmware's `welcome` program (the board, a short benchmark, a
/// self-modifying-code check, the next commands to try; exits 0).
const DEFAULT_GUEST: &[u8] = include_bytes!("../../../firmware/bin/welcome.elf");

/// Options of `ferrite run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Board: `virt` (QEMU's virt) or `spike` (HTIF through tohost/fromhost).
    #[arg(
        short = 'M',
        long = "machine",
        value_name = "NAME",
        default_value = "virt"
    )]
    machine: String,

    /// Guest RAM size: a number with an optional K/M/G/T suffix; a bare
    /// number is MiB (as QEMU's -m). Default: 128M on virt, 256M on spike.
    #[arg(short = 'm', long = "memory", value_name = "SIZE", value_parser = parse_mem_size)]
    memory: Option<u64>,

    /// Number of harts, run round-robin in one thread.
    #[arg(long, value_name = "N", default_value_t = 1)]
    smp: u32,

    /// First-stage firmware ELF loaded at its own addresses (e.g. OpenSBI's
    /// fw_jump.elf), or `none` (the default): the kernel's entry runs
    /// directly.
    #[arg(long, value_name = "FILE|none")]
    bios: Option<String>,

    /// Kernel: an ELF, a Linux `Image` (told by its header, whatever the
    /// file's name) or a raw `.bin`. With a bios it goes at the next 2
    /// MiB-aligned address after it (0x80200000 for a bios at DRAM start).
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,

    /// Initial RAM disk (QEMU's -initrd), loaded where QEMU loads it (the
    /// kernel's start plus half of RAM, at most 128 MiB) and named in the
    /// device tree's /chosen (virt only; needs --kernel).
    #[arg(long, value_name = "FILE")]
    initrd: Option<PathBuf>,

    /// Device tree blob to pass instead of the generated one.
    #[arg(long, value_name = "FILE")]
    dtb: Option<PathBuf>,

    /// Write the board's device tree blob to FILE and exit without running.
    #[arg(long = "dump-dtb", value_name = "FILE")]
    dump_dtb: Option<PathBuf>,

    /// Kernel command line (`/chosen/bootargs` in the device tree).
    #[arg(long, value_name = "ARGS")]
    append: Option<String>,

    /// virtio-blk disk from a raw image: PATH, with `,readonly` and
    /// `,bus=N` (virtio-mmio slot N, 0-7; QEMU's bus=virtio-mmio-bus.N)
    /// options (virt only; repeatable). Drives without `bus=` fill the free
    /// slots from the last one down, as QEMU.
    #[arg(long = "drive", value_name = "FILE[,readonly][,bus=N]")]
    drives: Vec<String>,

    /// Add a virtio entropy device whose bytes follow SEED (virt only).
    #[arg(long = "virtio-rng", value_name = "SEED")]
    virtio_rng: Option<u64>,

    /// Contents of a CFI flash bank (virt: two banks of 32 MiB at
    /// 0x20000000; at most twice): a file of exactly 32 MiB, written back
    /// when the run ends; `unit=N` picks the bank (default: the next).
    /// With bank 0 given the guest starts there, as on QEMU.
    #[arg(long = "pflash", value_name = "FILE[,unit=N]")]
    pflash: Vec<String>,

    #[command(flatten)]
    devices: DeviceArgs,

    /// Where the display's pictures go (repeatable): none, png:FILE
    /// (written at exit), vnc:HOST:PORT (a VNC server; an empty host is
    /// 127.0.0.1, port 0 picks one) or window (a build with the `window`
    /// feature). Needs --device bochs-display.
    #[arg(long = "display", value_name = "SPEC")]
    displays: Vec<String>,

    /// Milliseconds of guest time between display refreshes.
    #[arg(long = "display-refresh", value_name = "MS", default_value_t = ferrite_machine::DEFAULT_DISPLAY_REFRESH_MS)]
    display_refresh: u64,

    /// The harts' ISA in the reference simulator's form (`rv64imac`,
    /// `rv64gc`, `rv64gc_zba_zbb_zicond`). Default: everything Ferrite
    /// implements (`ferrite run --isa help` lists it).
    #[arg(long, value_name = "STRING")]
    isa: Option<String>,

    /// Console backend: stdio, file:PATH, unix:PATH or null.
    #[arg(long, value_name = "BACKEND", default_value = "stdio")]
    serial: String,

    /// Stop after N retired instructions (all harts together); exit status 123.
    #[arg(long = "max-insns", value_name = "N")]
    max_insns: Option<u64>,

    /// Stop after SECS seconds of host time; exit status 124.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,

    /// End the run (exit status 0) as soon as the console prints a match of
    /// REGEX (the `regex` crate's syntax, matched within the last 4 KiB of
    /// output), e.g. a shell prompt.
    #[arg(long = "stop-on-output", value_name = "REGEX")]
    stop_on_output: Option<String>,

    /// When the guest asks for a reset, build the machine afresh and boot
    /// again (the console stays), instead of ending the run with exit
    /// status 120. The limits count the whole run.
    #[arg(long)]
    reboot: bool,

    /// Print retired instructions, translated blocks, TLB fills and flushes
    /// and MIPS on stderr at exit.
    #[arg(long)]
    stats: bool,

    /// Count per translated block how often it ran and the instructions it
    /// retired, and print the hottest blocks (with their ELF symbols) and
    /// the engine's counters on stderr at exit. Blocks then run one at a
    /// time: slower, the same run.
    #[arg(long)]
    profile: bool,

    /// Log items, comma separated: in_asm, int, guest_errors, cpu, exec
    /// (`-d help` lists them).
    #[arg(short = 'd', value_name = "ITEMS")]
    log_items: Option<String>,

    /// Write the log to FILE instead of stderr.
    #[arg(short = 'D', value_name = "FILE")]
    log_file: Option<PathBuf>,
    /// Instruction log as the reference simulator's `-l`: each instruction
    /// disassembled before it runs, `>>>>  SYMBOL` at ELF symbols, traps.
    #[arg(short = 'l')]
    log_instructions: bool,
    /// Commit log as the reference simulator's `--log-commits` (also
    /// `-d commit`): what each completed instruction wrote.
    #[arg(long = "log-commits")]
    log_commits: bool,
    /// Write the `-l`/`--log-commits` log to FILE instead of stderr.
    #[arg(long = "log", value_name = "FILE")]
    trace_file: Option<PathBuf>,
    /// Limit `-d in_asm,exec,cpu` to blocks whose pc is in RANGES, QEMU's
    /// syntax: comma-separated START+LEN, START-LEN (ending at START) or
    /// START..END (also spelled `-dfilter`).
    #[arg(long = "dfilter", value_name = "RANGES")]
    dfilter: Option<String>,
    /// Translate one instruction per block (QEMU's one-insn-per-tb), so
    /// `-d in_asm,exec,cpu` show each instruction.
    #[arg(long = "one-insn-per-block")]
    one_insn_per_block: bool,

    /// Listen for gdb on DEV: tcp:HOST:PORT, tcp::PORT (localhost) or
    /// unix:PATH (QEMU's -gdb).
    #[arg(long = "gdb", value_name = "DEV")]
    gdb: Option<String>,

    /// Listen for gdb on tcp::1234 (QEMU's -s).
    #[arg(short = 's')]
    gdb_default: bool,

    /// Do not start the guest until gdb or the monitor says so (QEMU's -S).
    #[arg(short = 'S')]
    wait_for_debugger: bool,

    /// The monitor on stdio, unix:PATH or tcp:HOST:PORT (QEMU's -monitor);
    /// `none` for none.
    #[arg(long = "monitor", value_name = "DEV")]
    monitor: Option<String>,

    /// Drive the console with the expect/send script in FILE, in virtual
    /// time (`docs/suites.md`, "Console scripts"); output still goes to
    /// standard output.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,

    /// End the run (exit status 121) once the guest has waited SECS of
    /// virtual time for console input that cannot come: input from a file,
    /// `/dev/null`, `--serial null` or a finished script. 0 turns it off.
    #[arg(long = "input-wait", value_name = "SECS", default_value_t = 2.0)]
    input_wait: f64,

    /// At exit, write the memory between the ELF's `begin_signature` and
    /// `end_signature` to FILE in the reference simulator's format (also
    /// spelled `+signature=FILE`).
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,

    /// Bytes per signature line (also `+signature-granularity=N`).
    #[arg(long = "signature-granularity", value_name = "N", default_value_t = 16)]
    signature_granularity: usize,

    /// ELF to run (same as --kernel).
    #[arg(value_name = "ELF")]
    elf: Option<PathBuf>,
}

/// Runs `ferrite run`; returns the process exit status.
pub fn run(args: RunArgs) -> Result<u8> {
    if args.isa.as_deref() == Some("help") {
        crate::write_stdout(&format!(
            "The default ISA (everything Ferrite implements):\n  {}\n",
            Isa::full()
        ))?;
        return Ok(0);
    }
    if args.log_items.as_deref() == Some("help") {
        crate::write_stdout(&logging::help_text())?;
        return Ok(0);
    }
    if let Some(spec) = &args.dfilter {
        ferrite_machine::log_filter::set(ferrite_machine::log_filter::parse(spec)?);
    }
    let items = logging::split_items(args.log_items.as_deref())?;
    let (log_items, commit_item) = (items.tracing, items.commit);
    if commit_item && log_items.is_some() && args.log_file.is_some() && args.trace_file.is_none() {
        bail!(
            "-D cannot hold both `-d commit` and other log items: give the commit log its own file with --log FILE"
        );
    }
    if log_items.is_none() && !commit_item && args.log_file.is_some() {
        bail!("-D needs -d ITEMS to say what to log");
    }
    let trace = trace_config(&args, commit_item)?;
    // `-d commit` (or `nochain`) alone with `-D`: the file is not the
    // tracing log's.
    let tracing_file = if log_items.is_none() {
        None
    } else {
        args.log_file.as_deref()
    };
    logging::init(log_items.as_deref(), tracing_file)?;
    let debug = debug_options(&args)?;
    let mut config = build_config(&args)?;
    if let Some(crate::debugger::DebugOptions {
        monitor: Some(crate::debugger::MonitorAt::Mux(mux)),
        ..
    }) = &debug
    {
        config.console_mux = Some(mux.clone());
    }
    config.trace = trace.clone();
    config.chain_blocks = !items.nochain;
    config.profile = args.profile;
    config.input_wait = input_wait_ticks(args.input_wait)?;
    if args.signature_granularity == 0 {
        bail!("--signature-granularity must be at least 1");
    }
    let script = match &args.script {
        None => None,
        Some(path) => {
            if debug.is_some() {
                bail!("--script drives the console itself: it cannot be combined with a debugger");
            }
            if args.serial != "stdio" {
                bail!(
                    "--script drives the console: it cannot be combined with --serial {}",
                    args.serial
                );
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read script {}", path.display()))?;
            let steps = ferrite_suite::script::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?;
            config = config.with_captured_serial(b"");
            Some(steps)
        }
    };
    let mut machine = Machine::new(config)?;
    for backend in machine.display_backends() {
        if let Some(addr) = backend.strip_prefix("vnc:") {
            eprintln!("ferrite: VNC server listening on {addr}");
        }
    }

    if let Some(path) = &args.dump_dtb {
        let blob = machine
            .device_tree()
            .context("this board has no device tree")?;
        std::fs::write(path, blob)
            .with_context(|| format!("cannot write device tree to {}", path.display()))?;
        return Ok(0);
    }

    let timeout = args
        .timeout
        .map(ferrite_suite::spec::seconds)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--timeout: {e}"))?;
    let limits = RunLimits {
        max_insns: args.max_insns,
        timeout,
    };
    if args.reboot && (debug.is_some() || script.is_some()) {
        bail!("--reboot cannot be combined with a debugger or --script");
    }
    let started = Instant::now();
    // Instructions retired in boots before the current one (--reboot).
    let mut earlier_insns = 0u64;
    let outcome = loop {
        let outcome = match (&debug, &script) {
            (Some(options), _) => crate::debugger::run_session(&mut machine, &limits, options)?,
            (None, Some(steps)) => run_script(&mut machine, steps, &limits)?,
            (None, None) => machine.run(&remaining(&limits, earlier_insns, started))?,
        };
        if outcome != RunOutcome::Reset || !args.reboot {
            break outcome;
        }
        earlier_insns += machine.stats().insns;
        eprintln!("ferrite: the guest asked for a reset; rebooting");
        machine
            .reboot()
            .context("cannot build the machine again for the reboot")?;
    };
    let elapsed = started.elapsed();
    machine.finish()?;
    if let Some(path) = &args.signature {
        match machine.signature(args.signature_granularity)? {
            Some(text) => std::fs::write(path, text)
                .with_context(|| format!("cannot write the signature to {}", path.display()))?,
            None => eprintln!(
                "ferrite: the ELF has no begin_signature and end_signature symbols; no signature written"
            ),
        }
    }
    logging::finish()?;
    if let Some(t) = &trace {
        let path = trace_path(&args, commit_item);
        t.output.borrow_mut().finish().with_context(|| match path {
            Some(p) => format!("cannot write the instruction log to {}", p.display()),
            None => "cannot write the instruction log to stderr".to_string(),
        })?;
    }

    match outcome {
        RunOutcome::InstructionLimit => {
            eprintln!(
                "ferrite: instruction limit reached ({} instructions)",
                earlier_insns + machine.stats().insns
            )
        }
        RunOutcome::Reset => {
            eprintln!("ferrite: the guest asked for a reset; stopping (--reboot boots again)")
        }
        RunOutcome::Timeout => eprintln!("ferrite: timeout after {:.3}s", elapsed.as_secs_f64()),
        RunOutcome::Stuck => {
            eprintln!("ferrite: every hart waits for an interrupt that nothing can raise; stopping")
        }
        RunOutcome::TrapLoop { hart } => eprintln!(
            "ferrite: hart {hart} is caught in a trap loop: {}; stopping",
            machine
                .trap_loop(hart)
                .unwrap_or_else(|| "the same fault over and over".into())
        ),
        RunOutcome::InputExhausted => {
            eprintln!("ferrite: the guest waits for console input and none can come; stopping")
        }
        RunOutcome::ConsoleFailed => eprintln!(
            "ferrite: cannot write the guest's console output: {}",
            machine
                .console_error()
                .unwrap_or_else(|| "unknown error".into())
        ),
        _ => {}
    }
    if let Some(report) = machine.profile_report(PROFILE_TOP_BLOCKS) {
        eprint!("{report}");
    }
    if args.stats {
        print_stats(&machine, earlier_insns, elapsed);
    } else if builtin_guest(&args) && matches!(outcome, RunOutcome::Exited(_)) {
        // The built-in guest's benchmark cannot time itself (guest time is
        // virtual): the host says how fast it ran.
        let insns = machine.stats().insns;
        let secs = elapsed.as_secs_f64();
        eprintln!(
            "ferrite: the built-in guest ran {insns} instructions in {:.0} ms: {:.0} MIPS",
            secs * 1e3,
            if secs > 0.0 {
                insns as f64 / secs / 1e6
            } else {
                0.0
            }
        );
    }
    Ok(outcome.exit_status())
}

/// `--input-wait SECS` in `mtime` ticks; `None` for 0.
fn input_wait_ticks(secs: f64) -> Result<Option<u64>> {
    if secs == 0.0 {
        return Ok(None);
    }
    let span = ferrite_suite::spec::seconds(secs)
        .map_err(|e| anyhow::anyhow!("--input-wait (0 for never): {e}"))?;
    Ok(Some(ferrite_suite::spec::ticks(span)))
}

/// Runs under a console script, the output echoed to standard output as
/// it appears.
fn run_script(
    machine: &mut Machine,
    steps: &[ferrite_suite::script::Step],
    limits: &RunLimits,
) -> Result<RunOutcome> {
    use std::io::Write;
    let mut stdout = std::io::stdout();
    let mut failed = None;
    let mut echo = |bytes: &[u8]| {
        if failed.is_none() {
            if let Err(e) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
                failed = Some(e);
            }
        }
    };
    let run = ferrite_suite::script::run(machine, steps, limits, Some(&mut echo))?;
    if let Some(e) = failed {
        bail!("cannot write the guest's console output: {e}");
    }
    if let Some(step) = steps.get(run.steps_done) {
        eprintln!(
            "ferrite: the script stopped at step {}: {} never matched",
            run.steps_done + 1,
            step.describe()
        );
    }
    Ok(run.outcome)
}

/// The debugger the options ask for (`--gdb`, `-s`, `-S`, `--monitor`).
fn debug_options(args: &RunArgs) -> Result<Option<crate::debugger::DebugOptions>> {
    use crate::debugger::{DebugOptions, MonitorAt};
    let gdb = match (&args.gdb, args.gdb_default) {
        (Some(_), true) => bail!("give either --gdb DEV or -s, not both"),
        (Some(dev), false) => Some(dev.parse()?),
        (None, true) => Some("tcp::1234".parse()?),
        (None, false) => None,
    };
    let monitor = match args.monitor.as_deref() {
        None | Some("none") => None,
        Some(dev) => Some(dev.parse::<MonitorAt>()?),
    };
    // The console is on the terminal too: share it, as QEMU's mon:stdio.
    let monitor = match monitor {
        Some(MonitorAt::Stdio) if args.serial == "stdio" => {
            Some(MonitorAt::Mux(ferrite_machine::ConsoleMux::new()))
        }
        other => other,
    };
    if gdb.is_none() && monitor.is_none() {
        if args.wait_for_debugger {
            bail!("-S waits for a debugger: give --gdb, -s or --monitor too");
        }
        return Ok(None);
    }
    Ok(Some(DebugOptions {
        gdb,
        wait: args.wait_for_debugger,
        monitor,
    }))
}

/// Where the `-l`/`--log-commits` log goes: `--log FILE`, else the `-D` file
/// of `-d commit`, else stderr (`None`).
fn trace_path(args: &RunArgs, commit_item: bool) -> Option<&std::path::Path> {
    args.trace_file.as_deref().or(if commit_item {
        args.log_file.as_deref()
    } else {
        None
    })
}

/// The trace the options ask for (`-l`, `--log-commits`, `-d commit`).
fn trace_config(args: &RunArgs, commit_item: bool) -> Result<Option<TraceConfig>> {
    let commits = args.log_commits || commit_item;
    if !args.log_instructions && !commits {
        if args.trace_file.is_some() {
            bail!("--log needs -l or --log-commits to say what to log");
        }
        return Ok(None);
    }
    let out: Box<dyn std::io::Write> = match trace_path(args, commit_item) {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create log file {}", path.display()))?,
        ),
        None => Box::new(std::io::stderr()),
    };
    Ok(Some(TraceConfig {
        instructions: args.log_instructions,
        commits,
        output: TraceOutput::new(out),
    }))
}

/// Whether the run is of the built-in guest (nothing to boot was given).
fn builtin_guest(args: &RunArgs) -> bool {
    args.elf.is_none()
        && args.kernel.is_none()
        && args.bios.as_deref().is_none_or(|b| b == "none")
        && args.pflash.is_empty()
}

fn build_config(args: &RunArgs) -> Result<MachineConfig> {
    let board: BoardKind = args.machine.parse()?;
    let mut config = MachineConfig::new(board);
    if let Some(size) = args.memory {
        config.ram_size = size;
    }
    config.harts = args.smp;
    config.serial = args
        .serial
        .parse::<SerialConfig>()
        .map_err(anyhow::Error::msg)?;
    config.bootargs = args.append.clone();
    config.initrd = args.initrd.as_ref().map(ImageSource::file);
    config.stop_on_output = args
        .stop_on_output
        .as_deref()
        .map(OutputPattern::new)
        .transpose()
        .context("bad --stop-on-output pattern")?;
    config.drives = args
        .drives
        .iter()
        .map(|d| d.parse().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    config.virtio_rng = args.virtio_rng;
    for spec in &args.pflash {
        let (file, unit) = match spec.rsplit_once(",unit=") {
            Some((f, u)) => (
                f,
                Some(
                    u.parse::<usize>()
                        .ok()
                        .filter(|&u| u < 2)
                        .ok_or_else(|| anyhow::anyhow!("--pflash {spec}: unit must be 0 or 1"))?,
                ),
            ),
            None => (spec.as_str(), None),
        };
        let unit = match unit {
            Some(u) => u,
            None => config
                .pflash
                .iter()
                .position(Option::is_none)
                .ok_or_else(|| {
                    anyhow::anyhow!("--pflash {spec}: the virt board has two flash banks")
                })?,
        };
        if config.pflash[unit].is_some() {
            bail!("--pflash {spec}: flash unit {unit} is given twice");
        }
        config.pflash[unit] = Some(PathBuf::from(file));
    }
    args.devices.apply(&mut config)?;
    config.displays = args
        .displays
        .iter()
        .map(|d| d.parse().map_err(anyhow::Error::from))
        .collect::<Result<_>>()?;
    if args.display_refresh == 0 || args.display_refresh > 60_000 {
        bail!(
            "--display-refresh {}: must be from 1 to 60000 ms",
            args.display_refresh
        );
    }
    config.display_refresh_ms = args.display_refresh;
    config.one_insn_per_block = args.one_insn_per_block;
    if let Some(isa) = &args.isa {
        config.isa = isa
            .parse::<Isa>()
            .with_context(|| format!("bad --isa `{isa}`"))?;
    }
    config.dtb = args.dtb.as_ref().map(ImageSource::file);
    config.bios = match args.bios.as_deref() {
        None | Some("none") => None,
        Some("") => bail!("--bios needs a file name or `none`"),
        Some(path) => Some(ImageSource::file(path)),
    };
    config.kernel = match (&args.elf, &args.kernel) {
        (Some(_), Some(_)) => {
            bail!("give the guest either as the ELF argument or with --kernel, not both")
        }
        (Some(p), None) | (None, Some(p)) => Some(ImageSource::file(p)),
        // With flash bank 0 the guest is what it holds: no built-in guest.
        (None, None) if config.bios.is_none() && config.pflash[0].is_none() => {
            Some(ImageSource::Bytes {
                name: "built-in welcome guest".to_string(),
                bytes: DEFAULT_GUEST.to_vec(),
            })
        }
        (None, None) => None,
    };
    Ok(config)
}

/// The board's optional devices, shared by `ferrite run` and `ferrite mtree`.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The most memory the board may hold, hot-pluggable memory included
    /// (QEMU's `-m SIZE,maxmem=MAX`): a device-memory window of MAX minus
    /// the RAM size above DRAM, for --virtio-mem (virt only).
    #[arg(long = "maxmem", value_name = "SIZE", value_parser = parse_mem_size)]
    pub maxmem: Option<u64>,

    /// Plug a virtio-mem device (virt only, repeatable) into the
    /// device-memory window: `size=SIZE[,requested-size=SIZE]
    /// [,block-size=SIZE][,addr=ADDR][,id=ID][,memdev=NAME]` (QEMU's
    /// memory-backend-ram and virtio-mem properties; 2 MiB blocks, id vmN,
    /// nothing requested by default). The monitor's `qom-set ID
    /// requested-size SIZE` changes the request at run time.
    #[arg(long = "virtio-mem", value_name = "size=SIZE[,PROP=VALUE]")]
    pub virtio_mem: Vec<String>,

    /// Plug a PCI device on the virt board's PCIe host (repeatable, from
    /// slot 1 on): `bochs-display[,vgamem=SIZE][,edid=on|off]` (QEMU's
    /// bochs-display, 16 MiB of VRAM and an EDID block by default).
    #[arg(long = "device", value_name = "DEVICE[,PROP=VALUE]")]
    pub pci_devices: Vec<String>,
}

impl DeviceArgs {
    /// Puts the devices into `config`.
    pub fn apply(&self, config: &mut MachineConfig) -> Result<()> {
        config.maxmem = self.maxmem;
        config.virtio_mem = self
            .virtio_mem
            .iter()
            .enumerate()
            .map(|(i, spec)| virtio_mem_spec(spec, i))
            .collect::<Result<_>>()?;
        config.pci_devices = self
            .pci_devices
            .iter()
            .map(|d| pci_device(d))
            .collect::<Result<_>>()?;
        Ok(())
    }
}

/// `--virtio-mem size=SIZE[,PROP=VALUE...]`, the `index`th one.
fn virtio_mem_spec(spec: &str, index: usize) -> Result<VirtioMemSpec> {
    let mut out = VirtioMemSpec {
        id: format!("vm{index}"),
        memdev: format!("mem{index}"),
        size: 0,
        requested_size: 0,
        block_size: ferrite_machine::virtio_mem::DEFAULT_BLOCK_SIZE,
        addr: None,
    };
    let size = |what: &str, v: &str| {
        ferrite_machine::size::parse_mem_size(v)
            .map_err(|e| anyhow::anyhow!("--virtio-mem {spec}: {what}: {e}"))
    };
    for prop in spec.split(',') {
        match prop.split_once('=') {
            Some(("size", v)) => out.size = size("size", v)?,
            Some(("requested-size", "0")) => out.requested_size = 0,
            Some(("requested-size", v)) => out.requested_size = size("requested-size", v)?,
            Some(("block-size", v)) => out.block_size = size("block-size", v)?,
            Some(("addr", v)) => {
                out.addr = Some(parse_u64(v).ok_or_else(|| {
                    anyhow::anyhow!("--virtio-mem {spec}: addr `{v}` is not a number")
                })?)
            }
            Some(("id", v)) if !v.is_empty() => out.id = v.to_string(),
            Some(("memdev", v)) if !v.is_empty() => out.memdev = v.to_string(),
            _ => bail!(
                "--virtio-mem {spec}: unknown property `{prop}` (size, requested-size, block-size, addr, id, memdev)"
            ),
        }
    }
    if out.size == 0 {
        bail!("--virtio-mem {spec}: size=SIZE is required (the memory backend's size)");
    }
    Ok(out)
}

/// A number in decimal or `0x` hexadecimal.
fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `--device NAME[,PROP=VALUE...]`.
fn pci_device(spec: &str) -> Result<PciDeviceConfig> {
    let mut parts = spec.split(',');
    match parts.next().unwrap_or("") {
        "bochs-display" => {
            let mut vram_size = ferrite_machine::config::DEFAULT_VGAMEM;
            let mut edid = true;
            for prop in parts {
                match prop.split_once('=') {
                    Some(("vgamem", v)) => {
                        vram_size = ferrite_machine::size::parse_mem_size(v)
                            .map_err(|e| anyhow::anyhow!("--device {spec}: vgamem: {e}"))?;
                    }
                    Some(("edid", v)) => {
                        edid = match v {
                            "on" | "true" | "yes" => true,
                            "off" | "false" | "no" => false,
                            _ => bail!("--device {spec}: edid must be on or off"),
                        }
                    }
                    // QEMU's device id: nothing refers to it here.
                    Some(("id", _)) => {}
                    _ => bail!(
                        "--device {spec}: unknown property `{prop}` (bochs-display takes vgamem=SIZE and edid=on|off)"
                    ),
                }
            }
            Ok(PciDeviceConfig::BochsDisplay { vram_size, edid })
        }
        other => bail!("--device {other}: unknown device (PCI devices: bochs-display)"),
    }
}

/// What is left of `limits` once `earlier_insns` instructions have retired
/// and the run started at `started`.
fn remaining(limits: &RunLimits, earlier_insns: u64, started: Instant) -> RunLimits {
    RunLimits {
        max_insns: limits.max_insns.map(|m| m.saturating_sub(earlier_insns)),
        timeout: limits.timeout.map(|t| t.saturating_sub(started.elapsed())),
    }
}

/// How many blocks `--profile` lists per hart.
const PROFILE_TOP_BLOCKS: usize = 25;

/// `--stats`: the counts of the current boot, with the instructions of
/// earlier boots (`--reboot`) added to the retired count.
fn print_stats(machine: &Machine, earlier_insns: u64, elapsed: Duration) {
    let mut s = machine.stats();
    s.insns += earlier_insns;
    let secs = elapsed.as_secs_f64();
    let mips = if secs > 0.0 {
        s.insns as f64 / secs / 1e6
    } else {
        0.0
    };
    eprintln!("ferrite: stats:");
    eprintln!("  retired instructions: {}", s.insns);
    eprintln!("  blocks translated:    {}", s.blocks_translated);
    eprintln!("  blocks invalidated:   {}", s.blocks_invalidated);
    eprintln!("  TLB fills:            {}", s.tlb_fills);
    eprintln!("  TLB flushes:          {}", s.tlb_flushes);
    eprintln!("  TLB slow accesses:    {}", s.tlb_slow_accesses);
    eprintln!("  stores beside code:   {}", s.beside_code_stores);
    eprintln!("  host time:            {secs:.6} s");
    eprintln!("  MIPS:                 {mips:.2}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_guest_is_an_elf() {
        assert_eq!(&DEFAULT_GUEST[..4], b"\x7fELF");
    }
}
