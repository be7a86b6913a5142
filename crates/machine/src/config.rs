//! What a board is built from: [`MachineConfig`] and its parts.

use ferrite_riscv::TraceOutput;
use ferrite_riscv::isa::Isa;
use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use crate::layout::MIB;

/// The boards Ferrite provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoardKind {
    /// QEMU's `virt`: boot ROM, test finisher, CLINT, PLIC, UART0, DRAM, a
    /// generated device tree.
    Virt,
    /// Spike: boot ROM, CLINT, DRAM, HTIF through `tohost`/`fromhost`.
    Spike,
}

impl BoardKind {
    /// Every board, in the order `--machine help` lists them.
    pub const ALL: [BoardKind; 2] = [BoardKind::Virt, BoardKind::Spike];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BoardKind::Virt => "virt",
            BoardKind::Spike => "spike",
        }
    }

    /// DRAM size when `-m` is not given. QEMU's `virt` defaults to 128 MiB;
    /// Spike to 2 GiB. Ferrite uses 128 MiB for `virt` (so device-tree and
    /// firmware placement match QEMU's default run) and 256 MiB for `spike`
    /// (RAM is allocated lazily, so the size costs nothing until touched, but
    /// a smaller default keeps page tables of sparse guests small).
    pub fn default_ram_size(self) -> u64 {
        match self {
            BoardKind::Virt => 128 * MIB,
            BoardKind::Spike => 256 * MIB,
        }
    }
}

impl fmt::Display for BoardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown board name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown machine `{0}` (available: virt, spike)")]
pub struct UnknownBoard(pub String);

impl FromStr for BoardKind {
    type Err = UnknownBoard;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "virt" => Ok(BoardKind::Virt),
            "spike" => Ok(BoardKind::Spike),
            other => Err(UnknownBoard(other.to_string())),
        }
    }
}

/// A guest image: a file to read, or bytes already in memory (the built-in
/// default guest, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// Read from this host path.
    File(PathBuf),
    /// These bytes, with a name for messages.
    Bytes {
        /// Name used in messages.
        name: String,
        /// The image.
        bytes: Vec<u8>,
    },
}

impl ImageSource {
    /// An image read from `path`.
    pub fn file(path: impl AsRef<Path>) -> Self {
        ImageSource::File(path.as_ref().to_path_buf())
    }

    /// The name used in messages (the path, or the given name).
    pub fn name(&self) -> String {
        match self {
            ImageSource::File(p) => p.display().to_string(),
            ImageSource::Bytes { name, .. } => name.clone(),
        }
    }
}

/// Where the board's console goes (UART0 on `virt`, the HTIF console and
/// syscall proxy on `spike`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SerialConfig {
    /// The process's stdin/stdout (raw mode when stdin is a terminal).
    #[default]
    Stdio,
    /// Output to a file (created or truncated); no input.
    File(PathBuf),
    /// A Unix socket the board listens on. With `wait` (the default, as
    /// QEMU's server sockets), the run starts once a client has connected, so
    /// no output is lost; `unix:PATH,wait=off` starts at once.
    Unix {
        /// The socket's path.
        path: PathBuf,
        /// Wait for a client before running.
        wait: bool,
    },
    /// Output discarded; no input.
    Null,
    /// In memory: output captured, input scripted. For tests and embedding;
    /// read it back with [`crate::Machine::captured_output`].
    Capture {
        /// Bytes the guest will read as input.
        input: Vec<u8>,
    },
}

impl FromStr for SerialConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stdio" | "mon:stdio" => Ok(SerialConfig::Stdio),
            "null" | "none" => Ok(SerialConfig::Null),
            _ => {
                if let Some(p) = s.strip_prefix("file:").filter(|p| !p.is_empty()) {
                    Ok(SerialConfig::File(PathBuf::from(p)))
                } else if let Some(p) = s.strip_prefix("unix:").filter(|p| !p.is_empty()) {
                    // QEMU's option suffixes: `server` (what Ferrite does),
                    // `wait=off` / `nowait`.
                    let mut parts = p.split(',');
                    let path = parts.next().unwrap_or(p);
                    let mut wait = true;
                    for opt in parts {
                        match opt {
                            "server" | "server=on" => {}
                            "wait" | "wait=on" => wait = true,
                            "nowait" | "wait=off" => wait = false,
                            _ => {
                                return Err(format!(
                                    "unknown unix socket option `{opt}` in `{s}` (server, wait=on|off)"
                                ));
                            }
                        }
                    }
                    Ok(SerialConfig::Unix {
                        path: PathBuf::from(path),
                        wait,
                    })
                } else {
                    Err(format!(
                        "unknown serial backend `{s}` (expected stdio, file:PATH, unix:PATH or null)"
                    ))
                }
            }
        }
    }
}

/// A disk image behind a virtio-blk device (`--drive`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveConfig {
    /// Host path of the raw image.
    pub path: PathBuf,
    /// Refuse guest writes.
    pub read_only: bool,
    /// The virtio-mmio slot (QEMU's `virtio-mmio-bus.N`, 0 at 0x10001000),
    /// or `None` for the next free slot counting down from the last, as
    /// QEMU plugs devices without a bus.
    pub slot: Option<u32>,
}

impl FromStr for DriveConfig {
    type Err = String;

    /// `PATH[,readonly][,bus=N]` (`ro` for `readonly`). Options are read
    /// from the end, so a path may hold commas (a part without `=` that is
    /// not `readonly` or `ro` belongs to the path).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut path = s;
        let mut read_only = false;
        let mut slot = None;
        while let Some((head, opt)) = path.rsplit_once(',') {
            match opt {
                "readonly" | "ro" | "readonly=on" => read_only = true,
                _ if opt.starts_with("bus=") => {
                    let n = &opt["bus=".len()..];
                    let n = n.strip_prefix("virtio-mmio-bus.").unwrap_or(n);
                    slot = Some(n.parse::<u32>().map_err(|_| {
                        format!("bad drive option `{opt}` (expected bus=N, a virtio-mmio slot)")
                    })?);
                }
                _ if opt.contains('=') => {
                    return Err(format!(
                        "unknown drive option `{opt}` (expected readonly or bus=N)"
                    ));
                }
                // Not an option: a comma in the file's name.
                _ => break,
            }
            path = head;
        }
        if path.is_empty() {
            return Err("--drive needs a file name".to_string());
        }
        Ok(DriveConfig {
            path: PathBuf::from(path),
            read_only,
            slot,
        })
    }
}

/// A PCI device to plug (`--device`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PciDeviceConfig {
    /// QEMU's `bochs-display` with this much VRAM (`vgamem`).
    BochsDisplay {
        /// VRAM bytes (4 MiB to 256 MiB, rounded up to a power of two).
        vram_size: u64,
        /// An EDID block in the MMIO BAR (QEMU's `edid=on`, its default).
        edid: bool,
    },
}

/// The bochs-display's VRAM unless `vgamem=` says otherwise (QEMU's 16 MiB).
pub const DEFAULT_VGAMEM: u64 = ferrite_devices::bochs_display::DEFAULT_VRAM;

/// [`MachineConfig::display_refresh_ms`]'s default: QEMU's 30 ms.
pub const DEFAULT_DISPLAY_REFRESH_MS: u64 = 30;

/// Everything a board is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConfig {
    /// Which board.
    pub board: BoardKind,
    /// DRAM size in bytes (must be > 0 and a multiple of 4 KiB).
    pub ram_size: u64,
    /// Number of harts (1..=[`MAX_HARTS`]).
    pub harts: u32,
    /// First-stage firmware (`--bios`). `None` = no bios (`--bios none`).
    pub bios: Option<ImageSource>,
    /// Kernel (`--kernel`, or the positional ELF).
    pub kernel: Option<ImageSource>,
    /// Device tree blob replacing the generated one (`--dtb`).
    pub dtb: Option<ImageSource>,
    /// An initial RAM disk (`--initrd`, QEMU's `-initrd`), placed in RAM as
    /// QEMU places it and named in `/chosen` (`linux,initrd-start`,
    /// `linux,initrd-end`); needs a kernel, and the virt board.
    pub initrd: Option<ImageSource>,
    /// `/chosen/bootargs` (`--append`).
    pub bootargs: Option<String>,
    /// Console backend.
    pub serial: SerialConfig,
    /// With [`SerialConfig::Stdio`]: share the terminal with a monitor
    /// (QEMU's `mon:stdio`; `Ctrl-A c` switches).
    pub console_mux: Option<ferrite_chardev::ConsoleMux>,
    /// virtio-blk disks (`virt` only), in the order given.
    pub drives: Vec<DriveConfig>,
    /// Add a virtio entropy device (`virt` only) with this seed.
    pub virtio_rng: Option<u64>,
    /// Contents of the virt board's two CFI flash banks, by unit
    /// (`--pflash FILE[,unit=N]`, QEMU's `-drive if=pflash,unit=N`); each
    /// file must be exactly 32 MiB and is written back when the run ends.
    /// With bank 0 given, the boot ROM jumps to it (0x20000000), as QEMU's
    /// does.
    pub pflash: [Option<std::path::PathBuf>; 2],
    /// The most memory the board may hold, hot-pluggable memory included
    /// (`--maxmem`, QEMU's `-m SIZE,maxmem=MAX`): the device-memory window
    /// above DRAM is `maxmem - ram_size` bytes. `None`: no window.
    pub maxmem: Option<u64>,
    /// virtio-mem devices (`--virtio-mem`, `virt` only), plugged into the
    /// device-memory window (which `maxmem` must make large enough) and
    /// into free virtio-mmio slots after the drives and the entropy device.
    pub virtio_mem: Vec<ferrite_devices::virtio::mem::VirtioMemSpec>,
    /// PCI devices (`--device`, `virt` only), plugged in order from slot 1
    /// (slot 0 is the host bridge), as QEMU plugs `-device`.
    pub pci_devices: Vec<PciDeviceConfig>,
    /// Where the display's pictures go (`--display`, repeatable). Empty:
    /// nowhere, though the monitor's `screendump` still works.
    pub displays: Vec<ferrite_display::BackendSpec>,
    /// Milliseconds of guest time between display refreshes (QEMU's GUI
    /// refresh interval, 30 ms by default).
    pub display_refresh_ms: u64,
    /// The extensions every hart implements (`--isa`; everything by
    /// default). `misa`, the device tree's `riscv,isa*` properties and what
    /// executes follow it.
    pub isa: Isa,
    /// The instruction and commit logs in the reference simulator's format
    /// (`-l`, `--log-commits`). With one, harts run one instruction at a
    /// time and are scheduled as Spike schedules them (slices of
    /// [`ferrite_riscv::SPIKE_SLICE`] instructions, a trap or `wfi` ending
    /// a slice), so the log matches Spike's line for line.
    pub trace: Option<TraceConfig>,
    /// Translate one instruction per block (`--one-insn-per-block`, QEMU's
    /// `one-insn-per-tb`), so `-d in_asm,exec,cpu` show each instruction.
    pub one_insn_per_block: bool,
    /// Chain translated blocks (the default; off is QEMU's `-d nochain`).
    pub chain_blocks: bool,
    /// Count per block how often it runs and what it retires
    /// (`--profile`; see [`crate::Machine::profile_report`]). Blocks then
    /// run one at a time through the loop: slower, but the same run.
    pub profile: bool,
    /// End the run as [`crate::RunOutcome::InputExhausted`] once the guest
    /// has waited this many `mtime` ticks (10 MHz) for console input that
    /// cannot come (the console is not interactive and nothing is queued).
    /// `None` (the default): a waiting guest runs on until a limit.
    /// [`DEFAULT_INPUT_WAIT`] is two seconds of virtual time.
    pub input_wait: Option<u64>,
    /// End the run as [`crate::RunOutcome::OutputMatched`] once the console
    /// output matches this pattern (`--stop-on-output`). The output is
    /// searched as it arrives, within its last [`OUTPUT_WINDOW`] bytes.
    pub stop_on_output: Option<OutputPattern>,
}

/// How much of the console's most recent output
/// [`MachineConfig::stop_on_output`] searches: a match must fit in it.
pub const OUTPUT_WINDOW: usize = 4096;

/// A regular expression over console output bytes
/// ([`MachineConfig::stop_on_output`]). Two patterns are equal when their
/// source text is.
#[derive(Debug, Clone)]
pub struct OutputPattern(regex::bytes::Regex);

impl OutputPattern {
    /// Compiles `pattern` (the `regex` crate's syntax).
    pub fn new(pattern: &str) -> std::result::Result<Self, regex::Error> {
        regex::bytes::Regex::new(pattern).map(Self)
    }

    /// The pattern's source text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// True if `output` holds a match.
    pub fn is_match(&self, output: &[u8]) -> bool {
        self.0.is_match(output)
    }
}

impl PartialEq for OutputPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for OutputPattern {}

/// Two seconds of virtual time in `mtime` ticks: the usual
/// [`MachineConfig::input_wait`]. Longer than the gaps of a boot countdown
/// (U-Boot prints each second), so a guest that polls for a key while it
/// counts down is not taken for one that waits.
pub const DEFAULT_INPUT_WAIT: u64 = 2 * crate::layout::TIMEBASE_HZ;

/// What [`MachineConfig::trace`] logs, and where.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// Spike's `-l`: each instruction disassembled, symbols, traps.
    pub instructions: bool,
    /// Spike's `--log-commits`: what each completed instruction wrote.
    pub commits: bool,
    /// Where the lines go (shared by every hart).
    pub output: Rc<RefCell<TraceOutput>>,
}

impl PartialEq for TraceConfig {
    /// Same items to the same output.
    fn eq(&self, other: &Self) -> bool {
        self.instructions == other.instructions
            && self.commits == other.commits
            && Rc::ptr_eq(&self.output, &other.output)
    }
}

impl Eq for TraceConfig {}

/// Most harts a board accepts (the firmware runtime and the CLINT/PLIC maps
/// are sized for far more; this bounds the round-robin scheduler's work).
pub const MAX_HARTS: u32 = 64;

impl MachineConfig {
    /// A configuration for `board` with its default RAM size, one hart, no
    /// images and the console on stdio.
    pub fn new(board: BoardKind) -> Self {
        Self {
            board,
            ram_size: board.default_ram_size(),
            harts: 1,
            bios: None,
            kernel: None,
            dtb: None,
            initrd: None,
            bootargs: None,
            serial: SerialConfig::Stdio,
            drives: Vec::new(),
            virtio_rng: None,
            pflash: [None, None],
            maxmem: None,
            virtio_mem: Vec::new(),
            pci_devices: Vec::new(),
            displays: Vec::new(),
            display_refresh_ms: DEFAULT_DISPLAY_REFRESH_MS,
            isa: Isa::full(),
            trace: None,
            console_mux: None,
            one_insn_per_block: false,
            chain_blocks: true,
            profile: false,
            input_wait: None,
            stop_on_output: None,
        }
    }

    /// This configuration with `kernel` as the kernel image.
    pub fn with_kernel(mut self, kernel: ImageSource) -> Self {
        self.kernel = Some(kernel);
        self
    }

    /// This configuration with the console captured in memory, `input`
    /// queued for the guest to read.
    pub fn with_captured_serial(mut self, input: &[u8]) -> Self {
        self.serial = SerialConfig::Capture {
            input: input.to_vec(),
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_names_round_trip() {
        for b in BoardKind::ALL {
            assert_eq!(b.name().parse::<BoardKind>(), Ok(b));
        }
        let err = "sifive_u".parse::<BoardKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown machine `sifive_u` (available: virt, spike)"
        );
    }

    #[test]
    fn serial_specs() {
        assert_eq!("stdio".parse(), Ok(SerialConfig::Stdio));
        assert_eq!("null".parse(), Ok(SerialConfig::Null));
        assert_eq!(
            "file:/tmp/x".parse(),
            Ok(SerialConfig::File("/tmp/x".into()))
        );
        assert_eq!(
            "unix:/tmp/s,server=on".parse(),
            Ok(SerialConfig::Unix {
                path: "/tmp/s".into(),
                wait: true
            })
        );
        assert_eq!(
            "unix:/tmp/s,server=on,wait=off".parse(),
            Ok(SerialConfig::Unix {
                path: "/tmp/s".into(),
                wait: false
            })
        );
        assert!("unix:/tmp/s,telnet".parse::<SerialConfig>().is_err());
        assert!("file:".parse::<SerialConfig>().is_err());
        assert!("tcp:1234".parse::<SerialConfig>().is_err());
    }

    #[test]
    fn drive_specs() {
        let d: DriveConfig = "disk.img".parse().unwrap();
        assert_eq!((d.path.to_str(), d.read_only), (Some("disk.img"), false));
        let d: DriveConfig = "/tmp/a,b.img,readonly".parse().unwrap();
        assert_eq!((d.path.to_str(), d.read_only), (Some("/tmp/a,b.img"), true));
        assert_eq!(d.slot, None);
        let d: DriveConfig = "d.img,bus=0,ro".parse().unwrap();
        assert_eq!(
            (d.path.to_str(), d.read_only, d.slot),
            (Some("d.img"), true, Some(0))
        );
        let d: DriveConfig = "d.img,bus=virtio-mmio-bus.3".parse().unwrap();
        assert_eq!(d.slot, Some(3));
        assert!("d.img,bus=x".parse::<DriveConfig>().is_err());
        assert!("disk.img,cache=none".parse::<DriveConfig>().is_err());
        assert!("".parse::<DriveConfig>().is_err());
    }
}
