//! The instruction log and the commit log, in the reference simulator's
//! (Spike's) format, and the one-instruction-at-a-time execution they need.
//!
//! With a [`Trace`] installed ([`RiscvCpuExt::set_trace`]), the engine runs
//! the hart through [`exec_stepped`] instead of translated blocks: each
//! instruction is fetched, decoded and run on its own, and what it did is
//! written out as Spike writes it:
//!
//! ```text
//! core   0: >>>>  _start                                         (-l, a symbol)
//! core   0: 0x0000000080000000 (0x00000297) auipc   t0, 0x0      (-l)
//! core   0: 3 0x0000000080000000 (0x00000297) x5  0x0000000080000000   (--log-commits)
//! core   0: exception trap_illegal_instruction, epc 0x0000000080000004  (-l)
//! core   0:           tval 0x0000000000000000                     (-l)
//! ```
//!
//! A commit line holds the privilege the instruction ran in, its pc, its
//! bits (4 hex digits when compressed), then every register it wrote in
//! Spike's order (by register number, integer before floating-point before
//! CSR of the same number: the order of Spike's map keyed by
//! `number << 4 | kind`), then `mem ADDR` for each load and `mem ADDR VALUE`
//! for each store, the value as wide as the store. CSRs are written as
//! `cNNN_name` with the decimal number. What counts as a write follows
//! Spike: an explicit CSR write logs the CSRs Spike's CSR objects log
//! (`sstatus` as `mstatus`, `sie` as `sie` and `mie`, `fcsr` as `frm` and
//! `fflags`), a floating-point instruction that raises flags logs `fflags`,
//! one that makes `mstatus.FS` Dirty logs `mstatus`, `mret` and `sret` log
//! `mstatus`. An instruction that traps prints no commit line.
//!
//! Pacing follows Spike too (see [`exec_stepped`]): interrupts are taken
//! when a slice starts, before a CSR instruction and after `mret`/`sret`,
//! and a trap or `wfi` ends the slice, so with the scheduler's slices of
//! [`SPIKE_SLICE`] instructions the log matches Spike's to the last line
//! of a riscv-tests run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::rc::Rc;

use ferrite_memory::MemorySystem;
use ferrite_softmmu::BlockExit;

use crate::block_builder::{exec_one, fetch_insn, illegal_bits};
use crate::cpu::{Riscv, RiscvCpu};
use crate::csr::fields::MSTATUS_FS;
use crate::csr::{CsrContext, addr};
use crate::decode::{Insn, Op};
use crate::disasm::spike_csr_names::spike_csr_name;
use crate::disasm::spike_disassemble;
use crate::exec::Exit;
use crate::hart::{Hart, X0_SINK};
use crate::privilege::{Exception, Trap, TrapCause};

/// Spike's slice (its `INTERLEAVE`): instructions a hart runs before the
/// simulator looks at the HTIF mailbox and the next hart.
pub const SPIKE_SLICE: u64 = 5000;

/// Where log lines go: one buffered writer shared by every hart of a
/// machine, which keeps the first write error and drops everything after it
/// (so a full disk gives one error, reported by [`TraceOutput::finish`]).
pub struct TraceOutput {
    out: Box<dyn Write>,
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for TraceOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceOutput")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl TraceOutput {
    /// Lines to `out` (buffered here: pass an unbuffered writer).
    pub fn new(out: Box<dyn Write>) -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self {
            out: Box::new(std::io::BufWriter::with_capacity(1 << 16, out)),
            error: None,
        }))
    }

    /// Append `text` (whole lines).
    pub fn write_str(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.error = Some(e);
        }
    }

    /// Flush; the first error any write met, if one did.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
        match self.error.take() {
            Some(e) => {
                // Keep refusing further lines.
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
                Err(e)
            }
            None => Ok(()),
        }
    }
}

/// ELF symbols by address, as Spike picks them: every `.symtab` entry by
/// name (a later entry of the same name replaces an earlier one), then for
/// each address the first name in byte order.
#[derive(Clone, Debug, Default)]
pub struct SymbolMap {
    by_addr: HashMap<u64, String>,
}

impl SymbolMap {
    /// Build from `(name, value)` pairs in symbol-table order.
    pub fn from_symbols<'a>(symbols: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut by_name: std::collections::BTreeMap<&str, u64> = Default::default();
        for (name, value) in symbols {
            by_name.insert(name, value);
        }
        let mut by_addr = HashMap::new();
        for (name, value) in by_name {
            by_addr.entry(value).or_insert_with(|| name.to_string());
        }
        Self { by_addr }
    }

    /// The symbol at exactly `addr`.
    pub fn get(&self, addr: u64) -> Option<&str> {
        self.by_addr.get(&addr).map(String::as_str)
    }
}

/// What to log and where: Spike's `-l` (instructions, traps) and
/// `--log-commits`.
#[derive(Debug)]
pub struct Trace {
    /// `-l`: each instruction disassembled before it runs, symbols, traps.
    pub instructions: bool,
    /// `--log-commits`: what each instruction that completed wrote.
    pub commits: bool,
    /// Symbols for `>>>>` lines.
    pub symbols: Rc<SymbolMap>,
    /// Where lines go.
    pub output: Rc<RefCell<TraceOutput>>,
    /// The last instruction `-l` printed, and how often it ran in a row.
    last: Option<(u64, u32)>,
    executions: u64,
    /// Reused line buffer.
    line: String,
}

impl Trace {
    /// A trace writing to `output`.
    pub fn new(
        instructions: bool,
        commits: bool,
        symbols: Rc<SymbolMap>,
        output: Rc<RefCell<TraceOutput>>,
    ) -> Self {
        Self {
            instructions,
            commits,
            symbols,
            output,
            last: None,
            executions: 1,
            line: String::with_capacity(256),
        }
    }

    fn flush_line(&mut self) {
        self.output.borrow_mut().write_str(&self.line);
        self.line.clear();
    }

    /// The `-l` line of the instruction at `pc`, with the `>>>>` symbol
    /// line before it and, when the previous instruction repeated, Spike's
    /// `Executed N times` line.
    fn log_instruction(&mut self, core: u64, pc: u64, bits: u32) {
        if self.last == Some((pc, bits)) {
            self.executions += 1;
            return;
        }
        if let Some(sym) = self.symbols.get(pc) {
            let _ = writeln!(self.line, "core {core:3}: >>>>  {sym}");
        }
        if self.executions != 1 {
            let _ = writeln!(
                self.line,
                "core {core:3}: Executed {} times",
                self.executions
            );
        }
        let _ = writeln!(
            self.line,
            "core {core:3}: 0x{pc:016x} (0x{bits:08x}) {}",
            spike_disassemble(bits)
        );
        self.last = Some((pc, bits));
        self.executions = 1;
        self.flush_line();
    }

    /// The `-l` lines of a trap taken at `epc`.
    pub(crate) fn log_trap(&mut self, core: u64, cause: TrapCause, epc: u64, tval: u64) {
        if !self.instructions {
            return;
        }
        let _ = writeln!(
            self.line,
            "core {core:3}: exception {}, epc 0x{epc:016x}",
            trap_name(cause)
        );
        if let TrapCause::Exception(e) = cause
            && has_tval(e)
        {
            let _ = writeln!(self.line, "core {core:3}:           tval 0x{tval:016x}");
        }
        self.flush_line();
    }
}

/// Spike's name of a trap (`trap_illegal_instruction`, `interrupt #7`).
fn trap_name(cause: TrapCause) -> String {
    let name = match cause {
        TrapCause::Interrupt(i) => return format!("interrupt #{}", i.code()),
        TrapCause::Exception(e) => match e {
            Exception::InstructionMisaligned => "instruction_address_misaligned",
            Exception::InstructionAccessFault => "instruction_access_fault",
            Exception::IllegalInstruction => "illegal_instruction",
            Exception::Breakpoint => "breakpoint",
            Exception::LoadMisaligned => "load_address_misaligned",
            Exception::LoadAccessFault => "load_access_fault",
            Exception::StoreMisaligned => "store_address_misaligned",
            Exception::StoreAccessFault => "store_access_fault",
            Exception::EcallFromU => "user_ecall",
            Exception::EcallFromS => "supervisor_ecall",
            Exception::EcallFromM => "machine_ecall",
            Exception::InstructionPageFault => "instruction_page_fault",
            Exception::LoadPageFault => "load_page_fault",
            Exception::StorePageFault => "store_page_fault",
        },
    };
    format!("trap_{name}")
}

/// Whether Spike prints a `tval` line for the exception (every one but the
/// environment calls).
fn has_tval(e: Exception) -> bool {
    !matches!(
        e,
        Exception::EcallFromU | Exception::EcallFromS | Exception::EcallFromM
    )
}

/// One register write of a commit line: Spike's key (`number << 4 |
/// kind`, kind 0 = x, 1 = f, 4 = CSR) and the value.
#[derive(Clone, Copy, Debug)]
struct RegWrite {
    key: u32,
    value: u64,
}

/// `mvip` (AIA), which Spike's `mip` and `sip` write through.
const MVIP: u16 = 0x309;

/// `menvcfg.STCE`.
const MENVCFG_STCE: u64 = 1 << 63;

const KIND_X: u32 = 0;
const KIND_F: u32 = 1;
const KIND_CSR: u32 = 4;

fn csr_write(n: u16) -> RegWrite {
    RegWrite {
        key: u32::from(n) << 4 | KIND_CSR,
        value: 0,
    }
}

/// What the hart looked like before the instruction, for the commit line.
struct Before {
    privilege: u8,
    rs1: u64,
    rs2: u64,
    frs2: u64,
    fflags: u8,
    fs_dirty: bool,
    /// `mip` before a CSR instruction (for Spike's `mvip` item).
    mip: u64,
}

/// Run the instruction at `pc` on its own, logging it; the engine's
/// stepped execution (see the [module documentation](self)).
///
/// Interrupts are taken here, where Spike takes them: at the first
/// instruction of a slice (`first`), before a CSR instruction and after
/// `mret`/`sret`. A taken interrupt, a trap and `wfi` end the slice.
pub(crate) fn exec_stepped(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    pc: u64,
) -> (u64, BlockExit<Exit>) {
    let Some((instructions, commits)) =
        cpu.arch.trace.as_ref().map(|t| (t.instructions, t.commits))
    else {
        return crate::block_builder::exec_uncached(cpu, mem, pc);
    };
    let core = cpu.arch.hart.csrs.hart_id();
    let fetched = match fetch_insn(cpu, mem, pc) {
        Ok(f) => f,
        Err(trap) => {
            cpu.arch.clock.request_slice_end();
            return (0, BlockExit::Other(Exit::Trap { trap, pc }));
        }
    };
    let bits = if fetched.len == 2 {
        fetched.raw & 0xffff
    } else {
        fetched.raw
    };
    let insn = match fetched.decoded {
        Ok(insn) if cpu.arch.hart.csrs.isa.allows(&insn) => Some(insn),
        _ => None,
    };
    // Spike serialises before a CSR instruction: pending interrupts are
    // taken first, and end the slice.
    if insn.is_some_and(|i| i.op.is_csr()) && cpu.arch.stepped_interrupt() {
        return (
            0,
            BlockExit::Jump {
                pc: cpu.arch.hart.pc,
                slot: None,
            },
        );
    }
    if instructions && let Some(trace) = cpu.arch.trace.as_mut() {
        trace.log_instruction(core, pc, bits);
    }
    let Some(insn) = insn else {
        cpu.arch.clock.request_slice_end();
        let raw = fetched
            .decoded
            .map_or_else(|raw| raw, |_| illegal_bits(&fetched));
        return (
            0,
            BlockExit::Other(Exit::Trap {
                trap: Trap::new(Exception::IllegalInstruction, u64::from(raw)),
                pc,
            }),
        );
    };
    let before = before(&mut cpu.arch, &insn);
    let (retired, exit) = exec_one(cpu, mem, pc, insn, fetched.len);
    let h = &mut cpu.arch.hart;
    let raised = if insn.op.is_fp() {
        let raised = h.csrs.fflags;
        h.csrs.fflags = before.fflags | raised;
        raised
    } else {
        0
    };
    match exit {
        BlockExit::Other(Exit::Trap { .. } | Exit::Illegal { .. }) => {
            cpu.arch.clock.request_slice_end();
            return (retired, exit);
        }
        BlockExit::Other(Exit::Wfi { .. }) => cpu.arch.clock.request_slice_end(),
        _ => {}
    }
    if commits {
        let ctx = cpu.arch.csr_context(0);
        let Riscv { trace, hart, .. } = &mut cpu.arch;
        if let Some(trace) = trace.as_mut() {
            let line = Line {
                core,
                pc,
                bits,
                len: fetched.len,
            };
            commit_line(trace, hart, &ctx, &line, &insn, &before, raised);
        }
    }
    if insn.op.is_csr() || matches!(insn.op, Op::Mret | Op::Sret) {
        // Spike serialises after CSR instructions and xRET: a pending
        // interrupt is taken now.
        if let BlockExit::Other(Exit::Sync { pc: next }) = exit {
            cpu.arch.hart.pc = next;
            cpu.arch.refresh_mmu_idx();
            cpu.arch.stepped_interrupt();
            return (
                retired,
                BlockExit::Jump {
                    pc: cpu.arch.hart.pc,
                    slot: None,
                },
            );
        }
    }
    (retired, exit)
}

/// Capture what the commit line needs from before the instruction, and
/// for a floating-point instruction clear `fflags` so the flags it raises
/// can be told apart (restored, with them, afterwards).
fn before(arch: &mut Riscv, insn: &Insn) -> Before {
    let h = &mut arch.hart;
    let b = Before {
        privilege: h.privilege as u8,
        rs1: h.x[usize::from(insn.rs1)],
        rs2: h.x[usize::from(insn.rs2)],
        frs2: h.f[usize::from(insn.rs2 & 31)],
        fflags: h.csrs.fflags,
        fs_dirty: h.csrs.mstatus() & MSTATUS_FS == MSTATUS_FS,
        mip: if insn.op.is_csr() { h.csrs.mip() } else { 0 },
    };
    if insn.op.is_fp() {
        h.csrs.fflags = 0;
    }
    b
}

/// Where a commit line's instruction was and what it looked like.
struct Line {
    core: u64,
    pc: u64,
    bits: u32,
    len: u64,
}

/// Write the `--log-commits` line of an instruction that completed.
fn commit_line(
    trace: &mut Trace,
    h: &Hart,
    ctx: &CsrContext,
    at: &Line,
    insn: &Insn,
    before: &Before,
    raised: u8,
) {
    let Line {
        core,
        pc,
        bits,
        len,
    } = *at;
    let op = insn.op;
    let mut regs: Vec<RegWrite> = Vec::with_capacity(4);
    // The destination register.
    let fp_dest = op.is_fp() && !op.fp_writes_xreg();
    if op.writes_rd() && (insn.rd != 0 || fp_dest) {
        if fp_dest {
            regs.push(RegWrite {
                key: u32::from(insn.rd) << 4 | KIND_F,
                value: h.f[usize::from(insn.rd)],
            });
        } else {
            regs.push(RegWrite {
                key: u32::from(insn.rd) << 4 | KIND_X,
                value: h.x[usize::from(insn.rd)],
            });
        }
    }
    let fs_dirty_now = h.csrs.mstatus() & MSTATUS_FS == MSTATUS_FS;
    let fp_state_written = op.is_fp() || (op.is_csr() && is_fp_csr(insn.imm));
    if fp_state_written && !before.fs_dirty && fs_dirty_now {
        regs.push(csr_write(addr::MSTATUS));
    }
    if op.is_fp() && raised != 0 {
        regs.push(csr_write(addr::FFLAGS));
    }
    if op.is_csr() && csr_writes(insn) {
        let n = (insn.imm & 0xfff) as u16;
        match n {
            addr::SSTATUS => regs.push(csr_write(addr::MSTATUS)),
            addr::SIE => {
                regs.push(csr_write(addr::SIE));
                regs.push(csr_write(addr::MIE));
            }
            addr::SIP | addr::MIP => {
                regs.push(csr_write(MVIP));
                regs.push(csr_write(addr::MIP));
            }
            addr::FCSR => {
                regs.push(csr_write(addr::FRM));
                regs.push(csr_write(addr::FFLAGS));
            }
            _ => regs.push(csr_write(n)),
        }
    }
    match op {
        Op::Mret => regs.push(csr_write(addr::MSTATUS)),
        Op::Sret => regs.push(csr_write(addr::MSTATUS)),
        _ => {}
    }
    regs.sort_by_key(|r| r.key);
    regs.dedup_by_key(|r| r.key);
    let line = &mut trace.line;
    let _ = write!(line, "core {core:3}: {} 0x{pc:016x} (", before.privilege);
    if len == 2 {
        let _ = write!(line, "0x{bits:04x})");
    } else {
        let _ = write!(line, "0x{bits:08x})");
    }
    for r in &regs {
        let n = r.key >> 4;
        match r.key & 0xf {
            KIND_X => {
                let _ = write!(line, " x{n:<2} 0x{:016x}", r.value);
            }
            KIND_F => {
                let _ = write!(line, " f{n:<2} 0x{:016x}", r.value);
            }
            _ => {
                let csr = n as u16;
                let value = if csr == MVIP {
                    // Spike logs its AIA `mvip` as it reads before the
                    // write reaches `mip`: the old SSIP, and STIP unless
                    // Sstc owns it. Ferrite has no AIA; this is that value.
                    let stip = if h.csrs.menvcfg() & MENVCFG_STCE == 0 {
                        0x20
                    } else {
                        0
                    };
                    before.mip & (0x2 | stip)
                } else {
                    h.csrs.debug_read(csr, ctx).unwrap_or(0)
                };
                let name = spike_csr_name(csr).unwrap_or("unknown-csr");
                let _ = write!(line, " c{n}_{name} 0x{value:016x}");
            }
        }
    }
    memory_items(line, h, insn, before);
    line.push('\n');
    trace.flush_line();
}

/// Whether a CSR instruction writes its CSR (`csrrs`/`csrrc` with a zero
/// source only read).
fn csr_writes(insn: &Insn) -> bool {
    match insn.op {
        Op::Csrrw | Op::Csrrwi => true,
        _ => insn.rs1 != 0,
    }
}

fn is_fp_csr(imm: i32) -> bool {
    matches!((imm & 0xfff) as u16, addr::FFLAGS | addr::FRM | addr::FCSR)
}

/// The `mem` items: loads (`mem ADDR`), then stores (`mem ADDR VALUE`).
fn memory_items(line: &mut String, h: &Hart, insn: &Insn, before: &Before) {
    let op = insn.op;
    let addr = before.rs1.wrapping_add(i64::from(insn.imm) as u64);
    let width = |n: u8| -> (u64, usize) {
        let bits = u32::from(n) * 8;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        (mask, usize::from(n) * 2)
    };
    let store = |line: &mut String, a: u64, value: u64, size: u8| {
        let (mask, digits) = width(size);
        let _ = write!(line, " mem 0x{a:016x} 0x{:0digits$x}", value & mask);
    };
    if op.is_load() || op.is_fp_load() {
        let _ = write!(line, " mem 0x{addr:016x}");
    } else if op.is_store() {
        store(line, addr, before.rs2, op.access_size().unwrap_or(8));
    } else if op.is_fp_store() {
        store(line, addr, before.frs2, op.access_size().unwrap_or(8));
    } else if op == Op::CboZero {
        let base = before.rs1 & !(crate::exec::CACHE_BLOCK_SIZE - 1);
        for i in 0..crate::exec::CACHE_BLOCK_SIZE {
            store(line, base + i, 0, 1);
        }
    } else if op.is_atomic() {
        let a = before.rs1;
        let size = op.access_size().unwrap_or(8);
        // The old value is in rd, or in the sink when rd is x0.
        let rd = if insn.rd == 0 { X0_SINK } else { insn.rd };
        let result = h.x[usize::from(rd)];
        match op {
            Op::LrW | Op::LrD => {
                let _ = write!(line, " mem 0x{a:016x}");
            }
            Op::ScW | Op::ScD => {
                if result == 0 {
                    store(line, a, before.rs2, size);
                }
            }
            _ => {
                let _ = write!(line, " mem 0x{a:016x}");
                store(line, a, amo_result(op, result, before.rs2), size);
            }
        }
    }
}

/// The value an AMO stored, from the old value and `rs2`.
fn amo_result(op: Op, old: u64, src: u64) -> u64 {
    use Op::*;
    let word = matches!(
        op,
        AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW | AmomaxuW
    );
    let (a, b) = if word {
        (i64::from(old as i32) as u64, i64::from(src as i32) as u64)
    } else {
        (old, src)
    };
    let (ua, ub) = if word {
        (u64::from(old as u32), u64::from(src as u32))
    } else {
        (old, src)
    };
    match op {
        AmoswapW | AmoswapD => src,
        AmoaddW | AmoaddD => a.wrapping_add(b),
        AmoxorW | AmoxorD => a ^ b,
        AmoandW | AmoandD => a & b,
        AmoorW | AmoorD => a | b,
        AmominW | AmominD => (a as i64).min(b as i64) as u64,
        AmomaxW | AmomaxD => (a as i64).max(b as i64) as u64,
        AmominuW | AmominuD => ua.min(ub),
        _ => ua.max(ub),
    }
}

impl Riscv {
    /// Take a pending interrupt in stepped execution (logging it as Spike
    /// does) and end the slice; true if one was taken.
    pub(crate) fn stepped_interrupt(&mut self) -> bool {
        use ferrite_softmmu::Target;
        let ticks = self.clock.ticks();
        if self.take_interrupt(ticks) {
            self.clock.request_slice_end();
            true
        } else {
            false
        }
    }

    /// Log a trap for `-l` (a no-op without a trace).
    pub(crate) fn trace_trap(&mut self, cause: TrapCause, epc: u64, tval: u64) {
        let core = self.hart.csrs.hart_id();
        if let Some(t) = self.trace.as_mut() {
            t.log_trap(core, cause, epc, tval);
        }
    }
}
