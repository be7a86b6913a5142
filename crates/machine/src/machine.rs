//! [`Machine`]: a built board with its harts, and the run loop.

use std::rc::Rc;
use std::time::Instant;

use ferrite_devices::TimeSource;
use ferrite_memory::{AddressSpaceId, MemorySystem, MtreeOptions};
use ferrite_softmmu::VirtualClock;

use crate::board::{Board, BoardMemory, ClockTime, Images, spike, virt};
use crate::config::{BoardKind, MAX_HARTS, MachineConfig};
use crate::console::Console;
use crate::cpu::new_hart;
use crate::debug::{DebugAccessError, DebugEvent, HartDebug};
use crate::error::{MachineError, Result};
use crate::fdt;
use crate::hart::{Hart, HartStats};
use crate::image::read_source;
use crate::layout::{spike as spike_map, virt as virt_map};
use crate::outcome::{RunLimits, RunOutcome};
use crate::scheduler::{InputWatch, Round, Scheduler, SchedulerEnd};

/// Retired instructions per `mtime` tick (10 per tick at 10 MHz: a 100 MIPS
/// guest, see `ferrite_softmmu::clock`).
const INSNS_PER_TICK: u64 = ferrite_softmmu::clock::DEFAULT_INSNS_PER_TICK;

/// `marchid` of the spike board's harts: Spike's registered architecture id.
const SPIKE_MARCHID: u64 = 5;

/// A handle on a captured console ([`crate::SerialConfig::Capture`]),
/// from [`Machine::console_capture`]. Clones share the console.
#[derive(Clone, Debug)]
pub struct ConsoleCapture(ferrite_devices::chardev::BufferBackend);

impl ConsoleCapture {
    /// How many bytes the guest has written so far.
    pub fn len(&self) -> usize {
        self.0.output_len()
    }

    /// True if the guest has written nothing yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output from byte offset `from` on.
    pub fn output_from(&self, from: usize) -> Vec<u8> {
        self.0.output_from(from)
    }

    /// Queues `bytes` for the guest to read.
    pub fn push_input(&self, bytes: &[u8]) {
        self.0.push_input(bytes);
    }
}

/// `bytes` in the reference simulator's signature format: `line_size`
/// bytes a line (0 is taken as 1), as two hex digits each, highest address
/// first; a last partial line is padded with zero bytes at its high end.
pub fn format_signature(bytes: &[u8], line_size: usize) -> String {
    use std::fmt::Write as _;
    let line_size = line_size.max(1);
    let mut out = String::with_capacity(bytes.len().div_ceil(line_size) * (2 * line_size + 1));
    for line in bytes.chunks(line_size) {
        for j in (0..line_size).rev() {
            let _ = write!(out, "{:02x}", line.get(j).copied().unwrap_or(0));
        }
        out.push('\n');
    }
    out
}

/// A board with its harts, ready to run.
pub struct Machine {
    board: Board,
    harts: Vec<Box<dyn Hart>>,
    clock: Rc<VirtualClock>,
    kind: BoardKind,
    interactive: bool,
    /// Harts run in Spike's slices (a trace is on).
    paced: bool,
    /// The scheduler round a debugger stop interrupted.
    round: Option<Round>,
    /// Harts the debugger holds (they take no turns).
    held: Vec<bool>,
    /// [`MachineConfig::input_wait`].
    input_wait: Option<u64>,
    /// What the input-wait rule has seen.
    input_watch: InputWatch,
    /// `begin_signature`..`end_signature` of the kernel ELF, if it has both.
    signature: Option<(u64, u64)>,
    /// What the machine was built from, for [`Machine::reboot`].
    config: MachineConfig,
    /// The images' symbols, when profiling.
    symbols: Option<crate::profile::SymbolIndex>,
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
        Self::build(config, None)
    }

    /// Builds the machine afresh from the configuration it was built from,
    /// as a power cycle would: RAM cleared, the images loaded again, every
    /// device and hart reset, the virtual clock back at zero. The console
    /// stays (what it printed stays printed, and a file backend is not
    /// truncated). How `ferrite run --reboot` answers a guest's reset. On
    /// an error (an image that can no longer be read) the machine is left
    /// as it was.
    pub fn reboot(&mut self) -> Result<()> {
        // The new board reads the flash files again: what the guest wrote
        // to flash survives the reset, as on QEMU.
        self.write_back_flash()?;
        let console = self.board.console.share();
        // The display's back-ends (a VNC server's socket and its clients)
        // carry over like the console: the new board starts none of its own.
        let backends = self
            .board
            .display
            .as_mut()
            .map(|d| d.take_backends())
            .unwrap_or_default();
        let mut config = self.config.clone();
        config.displays.clear();
        let mut next = Self::build(config, Some(console))?;
        if let Some(display) = &mut next.board.display {
            display.adopt_backends(backends);
        }
        next.config = self.config.clone();
        next.interactive |= next
            .board
            .display
            .as_ref()
            .is_some_and(|d| d.is_interactive());
        *self = next;
        Ok(())
    }

    /// [`Machine::new`], with the console already open when `console` is
    /// given.
    fn build(config: MachineConfig, console: Option<Console>) -> Result<Self> {
        if config.harts == 0 || config.harts > MAX_HARTS {
            return Err(MachineError::HartCount {
                harts: config.harts,
                max: MAX_HARTS,
            });
        }
        let (dram_base, ram_name) = match config.board {
            BoardKind::Virt => (virt_map::DRAM_BASE, "riscv_virt_board.ram"),
            BoardKind::Spike => (spike_map::DRAM_BASE, "riscv.spike.ram"),
        };
        let images = Images::open(&config)?;
        let signature = images.signature_range();
        let symbols = config.trace.as_ref().map(|_| Rc::new(images.symbol_map()));
        let profile_symbols = config
            .profile
            .then(|| crate::profile::SymbolIndex::new(images.symbol_list()));
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
            .map(|id| {
                new_hart(
                    &mut memory.mem,
                    memory.space,
                    clock.clone(),
                    ferrite_riscv::CpuConfig {
                        hart_id: u64::from(id),
                        isa: config.isa,
                        // The spike board is Spike's platform, down to its
                        // registered architecture id.
                        marchid: match config.board {
                            BoardKind::Spike => SPIKE_MARCHID,
                            BoardKind::Virt => 0,
                        },
                        one_insn_per_block: config.one_insn_per_block,
                    },
                    config.chain_blocks,
                )
            })
            .collect::<Result<_>>()?;
        let pins: Vec<_> = harts.iter().map(|h| h.irq_pins()).collect();
        let time: Rc<dyn TimeSource> = Rc::new(ClockTime(clock.clone()));
        let console = match console {
            Some(console) => console,
            None => Console::open(&config.serial, config.console_mux.as_ref())?,
        };
        let board = match config.board {
            BoardKind::Virt => {
                virt::build(&config, memory, &pins, time, images, console, user_dtb)?
            }
            BoardKind::Spike => {
                spike::build(&config, memory, &pins, time, images, console, user_dtb)?
            }
        };
        if let Some(finisher) = &board.finisher {
            // Power-off and reset take effect after the store that asks.
            let clock = Rc::clone(&clock);
            finisher.set_notifier(Box::new(move |_| clock.request_slice_end()));
        }
        let interactive =
            board.console.interactive || board.display.as_ref().is_some_and(|d| d.is_interactive());
        if config.stop_on_output.is_some() {
            board.console.backend.keep_recent();
        }
        let mut harts = harts;
        for hart in &mut harts {
            hart.set_profiling(config.profile);
        }
        if let (Some(trace), Some(symbols)) = (&config.trace, symbols) {
            for hart in &mut harts {
                hart.set_trace(ferrite_riscv::Trace::new(
                    trace.instructions,
                    trace.commits,
                    Rc::clone(&symbols),
                    Rc::clone(&trace.output),
                ));
            }
        }
        let mut machine = Self {
            board,
            harts,
            clock,
            kind: config.board,
            interactive,
            paced: config.trace.is_some(),
            round: None,
            held: Vec::new(),
            input_wait: config.input_wait,
            input_watch: InputWatch::default(),
            signature,
            config,
            symbols: profile_symbols,
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

    /// The DRAM size in bytes (hot-pluggable memory not included).
    pub fn ram_size(&self) -> u64 {
        self.config.ram_size
    }

    /// The device tree blob the guest is handed.
    pub fn device_tree(&self) -> Option<&[u8]> {
        Some(&self.board.fdt)
    }

    /// The display's back-ends as started (`vnc:127.0.0.1:5900`, ...);
    /// empty without a display device.
    pub fn display_backends(&self) -> Vec<String> {
        self.board
            .display
            .as_ref()
            .map(|d| d.started())
            .unwrap_or_default()
    }

    /// Write the display's picture as it is now to `path` as a PNG (the
    /// monitor's `screendump`); a refresh comes first, so it shows the
    /// guest's framebuffer at this instant.
    pub fn screendump(&mut self, path: &std::path::Path) -> Result<()> {
        let display = self
            .board
            .display
            .as_mut()
            .ok_or(MachineError::NoDisplayDevice {
                what: "screendump".into(),
            })?;
        display.screendump(&mut self.board.mem, path)
    }

    /// `info display`: mode, refresh counts and back-ends; `None` without a
    /// display device.
    pub fn display_info(&self) -> Option<String> {
        self.board.display.as_ref().map(|d| d.info())
    }

    /// The display's refresh counts; `None` without a display device.
    pub fn display_stats(&self) -> Option<ferrite_display::RefreshStats> {
        self.board.display.as_ref().map(|d| d.stats())
    }

    /// The run is over: the display's last refresh and what its back-ends
    /// write at exit (`--display png:FILE`), and the flash banks written
    /// back to their `--pflash` files if the guest programmed or erased
    /// them. Call after the last run (again after more runs: only what
    /// changed since is written).
    pub fn finish(&mut self) -> Result<()> {
        let display = match &mut self.board.display {
            Some(d) => d.finish(&mut self.board.mem),
            None => Ok(()),
        };
        self.write_back_flash()?;
        display
    }

    /// Write each programmed or erased flash bank back to its file.
    fn write_back_flash(&mut self) -> Result<()> {
        for backing in &mut self.board.flash {
            let writes = backing.bank.writes();
            if writes == backing.written {
                continue;
            }
            let bad = |reason: String| MachineError::Pflash {
                path: backing.path.clone(),
                reason,
            };
            let mut bytes = vec![0u8; backing.bank.geometry().size as usize];
            self.board
                .mem
                .read_ram_region(backing.bank.region(), 0, &mut bytes)
                .map_err(|e| bad(e.to_string()))?;
            std::fs::write(&backing.path, &bytes)
                .map_err(|e| bad(format!("cannot write it back: {e}")))?;
            backing.written = writes;
        }
        Ok(())
    }

    /// The functions on the PCIe host's bus 0 (`info pci`); empty on a
    /// board without PCIe.
    pub fn pci_functions(&self) -> Vec<ferrite_devices::pci::PciFunctionInfo> {
        self.board
            .pci
            .as_ref()
            .map(|p| p.functions())
            .unwrap_or_default()
    }

    /// The virtio-mem devices' state (`info memory-devices`), in the order
    /// they were given.
    pub fn virtio_mem_info(&self) -> Vec<ferrite_devices::virtio::mem::VirtioMemInfo> {
        self.board
            .virtio_mem
            .iter()
            .map(|(c, _)| c.info())
            .collect()
    }

    /// Ask the guest to make virtio-mem device `id` hold `size` bytes (the
    /// monitor's `qom-set ID requested-size SIZE`): the device's
    /// configuration changes and its driver gets a configuration-change
    /// interrupt; the guest then plugs or unplugs blocks.
    pub fn set_virtio_mem_requested_size(&mut self, id: &str, size: u64) -> Result<()> {
        let (control, transport) = self
            .board
            .virtio_mem
            .iter()
            .find(|(c, _)| c.id() == id)
            .ok_or_else(|| MachineError::NoSuchDevice { id: id.to_string() })?;
        control.set_requested_size(size)?;
        transport.notify_config();
        Ok(())
    }

    /// Memslot accounting of the device-memory window (`--maxmem`);
    /// `None` without one.
    pub fn memslot_stats(&self) -> Option<ferrite_memory::MemslotStats> {
        self.board.mem.memslot_stats()
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

    /// A handle on the captured console, when the console is
    /// [`crate::SerialConfig::Capture`]: it reads the output and queues
    /// input while the machine runs (from the `interrupt` callback of
    /// [`Machine::debug_run`], say). `None` for other consoles.
    pub fn console_capture(&self) -> Option<ConsoleCapture> {
        self.board.console.capture.clone().map(ConsoleCapture)
    }

    /// The memory between `begin_signature` and `end_signature` in the
    /// reference simulator's `+signature` format: `line_size` bytes a line
    /// as hex, the byte at the highest address first, the last line padded
    /// with zero bytes (a `line_size` of 0 is taken as 1). `Ok(None)` when
    /// the ELF has no signature symbols; an error if the memory cannot be
    /// read.
    pub fn signature(&mut self, line_size: usize) -> Result<Option<String>> {
        let Some((begin, end)) = self.signature else {
            return Ok(None);
        };
        let len = usize::try_from(end - begin)
            .map_err(|_| MachineError::Signature(format!("{begin:#x}..{end:#x} is too large")))?;
        let mut bytes = vec![0u8; len];
        self.read_physical(begin, &mut bytes).map_err(|e| {
            MachineError::Signature(format!("cannot read {begin:#x}..{end:#x}: {e}"))
        })?;
        Ok(Some(format_signature(&bytes, line_size)))
    }

    /// The pc of each hart, in hart-id order.
    pub fn pcs(&self) -> Vec<u64> {
        (0..self.hart_count())
            .filter_map(|i| self.hart_ref(i).map(|h| h.state().pc()))
            .collect()
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

    /// The trap loop hart `hart` is caught in, described (the fault and its
    /// pc), after a run that ended with [`RunOutcome::TrapLoop`].
    pub fn trap_loop(&self, hart: u32) -> Option<String> {
        self.harts.get(hart as usize).and_then(|h| h.trap_loop())
    }

    /// Why the console could not take output, after a run that ended with
    /// [`RunOutcome::ConsoleFailed`].
    pub fn console_error(&self) -> Option<String> {
        self.board.uart.as_ref().and_then(|u| u.output_error())
    }

    /// With [`MachineConfig::profile`]: per hart, the `top` blocks that
    /// retired the most instructions, with the symbol each lies in and the
    /// engine's counters (see [`crate::profile`]); `None` without.
    pub fn profile_report(&self, top: usize) -> Option<String> {
        let symbols = self.symbols.as_ref()?;
        let harts: Vec<crate::profile::HartProfile> = self
            .harts
            .iter()
            .enumerate()
            .map(|(hart, h)| crate::profile::HartProfile {
                hart,
                blocks: h.block_profile(),
                stats: h.stats(),
            })
            .collect();
        Some(crate::profile::report(&harts, symbols, top))
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
    /// only through `limits.timeout`). A debugger stop (a breakpoint set
    /// through [`Machine::hart`]) does not end it: the run goes on past it.
    pub fn run(&mut self, limits: &RunLimits) -> Result<RunOutcome> {
        loop {
            match self.debug_run(limits, None)? {
                DebugEvent::Ended(outcome) => return Ok(outcome),
                DebugEvent::Stopped { hart, .. } => {
                    if let Some(h) = self.hart(hart) {
                        h.resume_from_breakpoint();
                    }
                }
                DebugEvent::Interrupted => {}
            }
        }
    }

    /// Runs until the guest exits, a limit is reached, a hart stops for the
    /// debugger, or `interrupt` (asked between scheduler rounds, about every
    /// [`crate::QUANTUM`] instructions per hart) returns true. A run that
    /// stopped resumes exactly where it stopped: the guest cannot tell it
    /// was stopped.
    pub fn debug_run(
        &mut self,
        limits: &RunLimits,
        interrupt: Option<&mut dyn FnMut() -> bool>,
    ) -> Result<DebugEvent> {
        // A time-out too far ahead for the host clock to represent is no
        // deadline at all.
        let deadline = limits.timeout.and_then(|t| Instant::now().checked_add(t));
        let end = self.scheduler(interrupt).run(limits.max_insns, deadline);
        Ok(self.debug_event(end))
    }

    /// The scheduler over this machine's board and harts.
    fn scheduler<'a, 'i>(
        &'a mut self,
        interrupt: Option<&'i mut dyn FnMut() -> bool>,
    ) -> Scheduler<'a, 'i> {
        Scheduler {
            board: &mut self.board,
            harts: &mut self.harts,
            clock: &self.clock,
            interactive: self.interactive,
            paced: self.paced,
            round: &mut self.round,
            held: &self.held,
            interrupt,
            input_wait: self.input_wait,
            input_watch: &mut self.input_watch,
            stop_on_output: self.config.stop_on_output.as_ref(),
        }
    }

    /// Executes one instruction of hart `hart` (the others stay), with
    /// interrupts masked, as QEMU's gdb stub steps: [`DebugStop::Step`], or
    /// the watchpoint the instruction hit, or how the run ended (a
    /// finisher or HTIF exit the instruction made). A hart waiting for an
    /// interrupt that is not pending executes nothing and reports the step.
    ///
    /// [`DebugStop::Step`]: crate::debug::DebugStop::Step
    pub fn debug_step(&mut self, hart: u32) -> Result<DebugEvent> {
        let Some(h) = self.harts.get_mut(hart as usize).and_then(|h| h.debug()) else {
            return Ok(DebugEvent::Ended(RunOutcome::Stuck));
        };
        self.clock.clear_slice_end();
        let exit = h.step(&mut self.board.mem);
        if exit == crate::hart::HartExit::TrapLoop {
            return Ok(DebugEvent::Ended(RunOutcome::TrapLoop { hart }));
        }
        if let Some(outcome) = self.scheduler(None).device_exit() {
            return Ok(DebugEvent::Ended(outcome));
        }
        Ok(self.debug_event(SchedulerEnd::DebugStop {
            hart: hart as usize,
        }))
    }

    /// The event for how a scheduler run ended.
    fn debug_event(&mut self, end: SchedulerEnd) -> DebugEvent {
        match end {
            // Output the console could not take is never lost silently,
            // however the run ended.
            SchedulerEnd::Outcome(_) if self.console_error().is_some() => {
                DebugEvent::Ended(RunOutcome::ConsoleFailed)
            }
            SchedulerEnd::Outcome(outcome) => DebugEvent::Ended(outcome),
            SchedulerEnd::Interrupted => DebugEvent::Interrupted,
            SchedulerEnd::DebugStop { hart } => {
                let stop = self.harts[hart]
                    .debug()
                    .and_then(|h| h.take_stop())
                    .unwrap_or(crate::debug::DebugStop::Step);
                DebugEvent::Stopped {
                    hart: hart as u32,
                    stop,
                }
            }
        }
    }

    /// Hold hart `hart` (it takes no turns in [`Machine::debug_run`]) or
    /// release it: how a debugger's scheduler locking runs some harts and
    /// not others.
    pub fn hold_hart(&mut self, hart: u32, held: bool) {
        let n = self.harts.len();
        self.held.resize(n, false);
        if let Some(h) = self.held.get_mut(hart as usize) {
            *h = held;
        }
    }

    /// With a terminal shared with the monitor ([`MachineConfig::console_mux`]):
    /// read what it has now, the machine stopped (see
    /// [`ferrite_chardev::ConsoleMux::pump`]). True if `Ctrl-A x` asked to
    /// quit.
    pub fn pump_console(&self, mux: &ferrite_chardev::ConsoleMux) -> bool {
        self.board.console.pump(mux)
    }

    /// How many harts the machine has.
    pub fn hart_count(&self) -> u32 {
        self.harts.len() as u32
    }

    /// Debugger access to hart `hart`.
    pub fn hart(&mut self, hart: u32) -> Option<&mut dyn HartDebug> {
        self.harts.get_mut(hart as usize).and_then(|h| h.debug())
    }

    /// Debugger access to hart `hart`, to read.
    pub fn hart_ref(&self, hart: u32) -> Option<&dyn HartDebug> {
        self.harts.get(hart as usize).and_then(|h| h.debug_ref())
    }

    /// Every hart: breakpoint at virtual address `pc` (a debugger's
    /// breakpoints apply to every hart, as QEMU's gdb stub sets them).
    pub fn insert_breakpoint(&mut self, pc: u64) {
        for h in self.harts.iter_mut().filter_map(|h| h.debug()) {
            h.insert_breakpoint(pc);
        }
    }

    /// Every hart: remove the breakpoint at `pc`; false if none had it.
    pub fn remove_breakpoint(&mut self, pc: u64) -> bool {
        let mut any = false;
        for h in self.harts.iter_mut().filter_map(|h| h.debug()) {
            any |= h.remove_breakpoint(pc);
        }
        any
    }

    /// Every hart: add a watchpoint.
    pub fn insert_watchpoint(&mut self, wp: crate::debug::Watchpoint) {
        for h in self.harts.iter_mut().filter_map(|h| h.debug()) {
            h.insert_watchpoint(wp);
        }
    }

    /// Every hart: remove a watchpoint; false if none had it.
    pub fn remove_watchpoint(&mut self, wp: crate::debug::Watchpoint) -> bool {
        let mut any = false;
        for h in self.harts.iter_mut().filter_map(|h| h.debug()) {
            any |= h.remove_watchpoint(wp);
        }
        any
    }

    /// Reads guest memory at virtual address `vaddr` as hart `hart` sees
    /// it now (a side-effect-free page walk per page, then debug reads).
    pub fn read_virtual(
        &mut self,
        hart: u32,
        vaddr: u64,
        buf: &mut [u8],
    ) -> std::result::Result<(), DebugAccessError> {
        self.virtual_pages(hart, vaddr, buf.len(), |m, paddr, range| {
            m.read_physical(paddr, &mut buf[range])
        })
    }

    /// Writes guest memory at virtual address `vaddr` as hart `hart` sees
    /// it (translated as a load is: a debugger may write read-only pages).
    /// Translated code on the pages written is invalidated by the memory
    /// API's dirty tracking.
    pub fn write_virtual(
        &mut self,
        hart: u32,
        vaddr: u64,
        data: &[u8],
    ) -> std::result::Result<(), DebugAccessError> {
        self.virtual_pages(hart, vaddr, data.len(), |m, paddr, range| {
            m.write_physical(paddr, &data[range])
        })
    }

    /// Runs `access` on each page-sized piece of `vaddr..vaddr + len`, with
    /// the piece's physical address and its range in the buffer.
    fn virtual_pages(
        &mut self,
        hart: u32,
        vaddr: u64,
        len: usize,
        mut access: impl FnMut(
            &mut Self,
            u64,
            std::ops::Range<usize>,
        ) -> std::result::Result<(), DebugAccessError>,
    ) -> std::result::Result<(), DebugAccessError> {
        const PAGE: u64 = ferrite_softmmu::tlb::PAGE_SIZE;
        let mut done = 0usize;
        while done < len {
            let va = vaddr.wrapping_add(done as u64);
            let in_page = (PAGE - (va & (PAGE - 1))).min((len - done) as u64) as usize;
            let mem = &mut self.board.mem;
            let paddr = self
                .harts
                .get(hart as usize)
                .and_then(|h| h.debug_ref())
                .ok_or(DebugAccessError::NoHart(hart))?
                .translate(mem, va)
                .ok_or(DebugAccessError::Unmapped(va))?;
            access(self, paddr, done..done + in_page)?;
            done += in_page;
        }
        Ok(())
    }

    /// Reads guest-physical memory (a debug access: no device side effect
    /// beyond what reading the register does, ROM readable).
    pub fn read_physical(
        &mut self,
        paddr: u64,
        buf: &mut [u8],
    ) -> std::result::Result<(), DebugAccessError> {
        self.board
            .mem
            .read(
                self.board.space,
                ferrite_memory::GuestAddress(paddr),
                buf,
                DEBUG_ATTRS,
            )
            .map_err(|_| DebugAccessError::Bus(paddr))
    }

    /// Writes guest-physical memory (a debug access: ROM is written too);
    /// translated code on the pages written is invalidated.
    pub fn write_physical(
        &mut self,
        paddr: u64,
        data: &[u8],
    ) -> std::result::Result<(), DebugAccessError> {
        let addr = ferrite_memory::GuestAddress(paddr);
        self.board
            .mem
            .write(self.board.space, addr, data, DEBUG_ATTRS)
            .map_err(|_| DebugAccessError::Bus(paddr))
    }

    /// Hart reset of every hart, back to the boot ROM, and a fresh
    /// scheduler round (the monitor's `system_reset`). Memory keeps its
    /// contents.
    pub fn reset_harts(&mut self) {
        self.round = None;
        self.reset();
    }
}

/// The attributes of a debugger's accesses.
const DEBUG_ATTRS: ferrite_memory::MemTxAttrs = ferrite_memory::MemTxAttrs {
    requester_id: 0,
    secure: false,
    debug: true,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ImageSource;
    use crate::layout::MIB;
    use ferrite_memory::{GuestAddress, MemTxAttrs};

    const HELLO: &[u8] = include_bytes!("../../../firmware/bin/hello.elf");

    fn read_u64(m: &mut Machine, addr: u64) -> u64 {
        let (mem, space) = m.memory();
        let mut b = [0u8; 8];
        mem.read(space, GuestAddress(addr), &mut b, MemTxAttrs::default())
            .unwrap();
        u64::from_le_bytes(b)
    }

    fn hello() -> ImageSource {
        ImageSource::Bytes {
            name: "hello.elf".into(),
            bytes: HELLO.to_vec(),
        }
    }

    #[test]
    fn virt_rom_and_fdt_follow_qemu() {
        let config = MachineConfig::new(BoardKind::Virt)
            .with_kernel(hello())
            .with_captured_serial(b"");
        let mut m = Machine::new(config).unwrap();
        // start = kernel entry, a1 = fdt at the top of 128 MiB aligned to 2 MiB.
        assert_eq!(read_u64(&mut m, 0x1018), 0x8000_0000);
        assert_eq!(read_u64(&mut m, 0x1020), 0x87e0_0000);
        let magic = read_u64(&mut m, 0x87e0_0000) as u32;
        assert_eq!(magic.swap_bytes(), crate::fdt::FDT_MAGIC);
        // fw_dynamic_info: magic, version, next_addr (no bios: 0), next_mode S.
        assert_eq!(read_u64(&mut m, 0x1028), 0x4942_534f);
        assert_eq!(read_u64(&mut m, 0x1030), 2);
        assert_eq!(read_u64(&mut m, 0x1038), 0);
        assert_eq!(read_u64(&mut m, 0x1040), 1);
    }

    #[test]
    fn raw_kernel_goes_after_the_bios_on_a_2mib_boundary() {
        let mut config = MachineConfig::new(BoardKind::Virt).with_captured_serial(b"");
        config.ram_size = 256 * MIB;
        config.bios = Some(hello());
        config.kernel = Some(ImageSource::Bytes {
            name: "kernel.bin".into(),
            bytes: vec![0x6f, 0, 0, 0, 0x13, 0, 0, 0],
        });
        let mut m = Machine::new(config).unwrap();
        assert_eq!(read_u64(&mut m, 0x1018), 0x8000_0000, "start = bios entry");
        assert_eq!(read_u64(&mut m, 0x1038), 0x8020_0000, "next_addr = kernel");
        assert_eq!(read_u64(&mut m, 0x8020_0000), 0x0000_0013_0000_006f);
        assert_eq!(read_u64(&mut m, 0x1020), 0x8fe0_0000, "fdt under 256 MiB");
    }

    #[test]
    fn an_htif_program_exits_through_tohost_on_virt_too() {
        // auipc t0, 0; addi t1, x0, 7; sd t1, 0x100(t0) (tohost); j .
        let code: Vec<u8> = [0x0000_0297u32, 0x0070_0313, 0x1062_b023, 0x0000_006f]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let elf = crate::elf::tests::build_elf(0x8000_0000, &code, 0x1000);
        let config = MachineConfig::new(BoardKind::Virt)
            .with_kernel(ImageSource::Bytes {
                name: "riscv-test.elf".into(),
                bytes: elf,
            })
            .with_captured_serial(b"");
        let mut m = Machine::new(config).unwrap();
        let outcome = m
            .run(&RunLimits {
                max_insns: Some(1_000_000),
                timeout: None,
            })
            .unwrap();
        assert_eq!(outcome, RunOutcome::Exited(3), "payload 7 is exit code 3");
    }

    #[test]
    fn configuration_errors_are_typed() {
        let mut c = MachineConfig::new(BoardKind::Virt);
        c.ram_size = 0;
        assert!(matches!(
            Machine::new(c).unwrap_err(),
            MachineError::RamSize { .. }
        ));
        let mut c = MachineConfig::new(BoardKind::Virt);
        c.ram_size = 4096 + 1;
        assert!(Machine::new(c).unwrap_err().to_string().contains("4 KiB"));
        let mut c = MachineConfig::new(BoardKind::Virt);
        c.harts = 0;
        assert!(matches!(
            Machine::new(c).unwrap_err(),
            MachineError::HartCount { .. }
        ));
        let mut c = MachineConfig::new(BoardKind::Spike).with_kernel(hello());
        c.bios = Some(hello());
        assert!(matches!(
            Machine::new(c).unwrap_err(),
            MachineError::UnsupportedImage { what: "bios", .. }
        ));
        let c = MachineConfig::new(BoardKind::Virt).with_kernel(ImageSource::file("/no/such"));
        assert!(matches!(
            Machine::new(c).unwrap_err(),
            MachineError::Read { what: "kernel", .. }
        ));
        let mut c = MachineConfig::new(BoardKind::Virt);
        c.dtb = Some(ImageSource::Bytes {
            name: "x.dtb".into(),
            bytes: b"garbage!".to_vec(),
        });
        assert!(matches!(
            Machine::new(c).unwrap_err(),
            MachineError::DeviceTree { .. }
        ));
    }

    #[test]
    fn a_finisher_store_ends_the_run_at_once() {
        // A raw kernel that powers off through the finisher and then counts
        // forever: nothing after the store may run.
        let words: [u32; 6] = [
            0x0010_02b7, // lui t0, 0x100 (the finisher at 0x100000)
            0x0000_5337, // lui t1, 0x5
            0x5553_0313, // addi t1, t1, 0x555
            0x0062_a023, // sw t1, 0(t0)
            0x0015_0513, // addi a0, a0, 1
            0xffdf_f06f, // j -4
        ];
        let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let config = MachineConfig::new(BoardKind::Virt).with_kernel(ImageSource::Bytes {
            name: "poweroff.bin".into(),
            bytes,
        });
        let mut m = Machine::new(config).unwrap();
        let outcome = m.run(&RunLimits::default()).unwrap();
        assert_eq!(outcome, RunOutcome::Exited(0));
        let insns = m.stats().insns;
        // The boot ROM's few instructions, then the four above.
        assert!((4..=16).contains(&insns), "{insns} instructions ran");
    }

    #[test]
    fn hello_runs_on_both_boards_with_the_same_output() {
        for board in BoardKind::ALL {
            let config = MachineConfig::new(board)
                .with_kernel(hello())
                .with_captured_serial(b"");
            let mut m = Machine::new(config).unwrap();
            let outcome = m.run(&RunLimits::default()).unwrap();
            assert_eq!(outcome, RunOutcome::Exited(0), "{board}");
            assert_eq!(m.captured_output(), b"Hello from Ferrite!\n", "{board}");
            assert!(m.stats().insns > 1000);
        }
    }
}

#[cfg(test)]
mod signature_tests {
    use super::format_signature;

    #[test]
    fn lines_hold_the_highest_address_first_and_the_last_is_padded() {
        let bytes: Vec<u8> = (1..=6).collect();
        assert_eq!(format_signature(&bytes, 4), "04030201\n00000605\n");
        assert_eq!(format_signature(&bytes, 2), "0201\n0403\n0605\n");
        assert_eq!(format_signature(&[], 4), "");
    }
}
