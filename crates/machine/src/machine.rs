//! [`Machine`]: a built board with its harts, and the run loop.

use std::rc::Rc;
use std::time::Instant;

use ferrite_devices::TimeSource;
use ferrite_memory::{AddressSpaceId, GuestAddress, MemTxAttrs, MemorySystem, MtreeOptions};
use ferrite_softmmu::VirtualClock;

use crate::board::{Board, BoardMemory, ClockTime, Images, spike, virt};
use crate::config::{BoardKind, MAX_HARTS, MachineConfig};
use crate::cpu::{ISA_STRING, new_hart};
use crate::error::{MachineError, Result};
use crate::fdt;
use crate::hart::{Hart, HartStats};
use crate::htif::HtifBus;
use crate::image::read_source;
use crate::layout::{spike as spike_map, virt as virt_map};
use crate::outcome::{RunLimits, RunOutcome};
use crate::scheduler::Scheduler;

/// Retired instructions per `mtime` tick (10 per tick at 10 MHz: a 100 MIPS
/// guest, see `ferrite_softmmu::clock`).
const INSNS_PER_TICK: u64 = ferrite_softmmu::clock::DEFAULT_INSNS_PER_TICK;

/// A board with its harts, ready to run.
pub struct Machine {
    board: Board,
    harts: Vec<Box<dyn Hart>>,
    clock: Rc<VirtualClock>,
    kind: BoardKind,
    interactive: bool,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("board", &self.kind)
            .field("harts", &self.harts.len())
            .finish()
    }
}

impl Machine {
    /// Builds the board `config` describes: checks the configuration, reads
    /// and loads the images, generates (or reads and validates) the device
    /// tree, writes the boot ROM and resets every hart to it.
    pub fn new(config: MachineConfig) -> Result<Self> {
        if config.harts == 0 || config.harts > MAX_HARTS {
            return Err(MachineError::HartCount {
                harts: config.harts,
                max: MAX_HARTS,
            });
        }
        let (dram_base, ram_name) = match config.board {
            BoardKind::Virt => (virt_map::DRAM_BASE, "riscv.virt.ram"),
            BoardKind::Spike => (spike_map::DRAM_BASE, "riscv.spike.ram"),
        };
        let images = Images::open(&config)?;
        let user_dtb = match &config.dtb {
            None => None,
            Some(src) => {
                let blob = read_source(src, "device tree")?;
                let total = fdt::validate(&blob).map_err(|source| MachineError::DeviceTree {
                    name: src.name(),
                    source,
                })?;
                Some((src.name(), blob[..total].to_vec()))
            }
        };
        let mut memory = BoardMemory::new(&config, dram_base, ram_name)?;
        let clock = VirtualClock::new(INSNS_PER_TICK);
        let harts: Vec<Box<dyn Hart>> = (0..config.harts)
            .map(|id| new_hart(u64::from(id), &mut memory.mem, memory.space, clock.clone()))
            .collect();
        let pins: Vec<_> = harts.iter().map(|h| h.irq_pins()).collect();
        let time: Rc<dyn TimeSource> = Rc::new(ClockTime(clock.clone()));
        let board = match config.board {
            BoardKind::Virt => {
                virt::build(&config, memory, &pins, time, images, ISA_STRING, user_dtb)?
            }
            BoardKind::Spike => {
                spike::build(&config, memory, &pins, time, images, ISA_STRING, user_dtb)?
            }
        };
        let interactive = board.console.interactive;
        let mut machine = Self {
            board,
            harts,
            clock,
            kind: config.board,
            interactive,
        };
        machine.reset();
        Ok(machine)
    }

    /// Resets every hart to the boot ROM.
    pub fn reset(&mut self) {
        let pc = self.board.reset_pc;
        for hart in &mut self.harts {
            hart.reset(pc);
        }
    }

    /// Which board this is.
    pub fn board(&self) -> BoardKind {
        self.kind
    }

    /// The device tree blob the guest is handed.
    pub fn device_tree(&self) -> Option<&[u8]> {
        Some(&self.board.fdt)
    }

    /// The memory tree as text (`mtree`, `mtree -f`, `mtree -f -d`).
    pub fn mtree(&self, opts: MtreeOptions) -> String {
        self.board.mem.mtree(opts)
    }

    /// The memory system (for inspection and tests).
    pub fn memory(&mut self) -> (&mut MemorySystem, AddressSpaceId) {
        (&mut self.board.mem, self.board.space)
    }

    /// Console output so far, when the console is
    /// [`crate::SerialConfig::Capture`]; empty otherwise.
    pub fn captured_output(&self) -> Vec<u8> {
        self.board
            .console
            .capture
            .as_ref()
            .map(|c| c.output())
            .unwrap_or_default()
    }

    /// Queues `bytes` as console input when the console is
    /// [`crate::SerialConfig::Capture`] (a scripted session feeds a guest
    /// line by line this way); returns false, doing nothing, otherwise.
    pub fn push_console_input(&mut self, bytes: &[u8]) -> bool {
        match &self.board.console.capture {
            Some(capture) => {
                capture.push_input(bytes);
                true
            }
            None => false,
        }
    }

    /// Counters summed over all harts; `insns` is the shared clock's count.
    pub fn stats(&self) -> HartStats {
        let mut total = HartStats::default();
        for hart in &self.harts {
            total += hart.stats();
        }
        total.insns = self.clock.insns();
        total
    }

    /// Virtual time in `mtime` ticks.
    pub fn ticks(&self) -> u64 {
        self.clock.ticks()
    }

    /// Runs until the guest exits or a limit is reached. Deterministic: the
    /// outcome, the output and the instruction count depend only on the
    /// images, the configuration and the console input (and on host time
    /// only through `limits.timeout`).
    pub fn run(&mut self, limits: &RunLimits) -> Result<RunOutcome> {
        let deadline = limits.timeout.map(|t| Instant::now() + t);
        let mut scheduler = Scheduler {
            board: &mut self.board,
            harts: &mut self.harts,
            clock: &self.clock,
            interactive: self.interactive,
        };
        Ok(scheduler.run(limits.max_insns, deadline))
    }
}

/// HTIF's view of guest memory: the memory API on the system address space.
pub(crate) struct BoardBus<'a> {
    pub mem: &'a mut MemorySystem,
    pub space: AddressSpaceId,
}

impl HtifBus for BoardBus<'_> {
    fn load_u64(&mut self, addr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.mem
            .read(
                self.space,
                GuestAddress(addr),
                &mut b,
                MemTxAttrs::default(),
            )
            .ok()?;
        Some(u64::from_le_bytes(b))
    }

    fn store_u64(&mut self, addr: u64, value: u64) -> bool {
        self.mem
            .write(
                self.space,
                GuestAddress(addr),
                &value.to_le_bytes(),
                MemTxAttrs::default(),
            )
            .is_ok()
    }

    fn read_bytes(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        self.mem
            .read(self.space, GuestAddress(addr), buf, MemTxAttrs::default())
            .is_ok()
    }
}
