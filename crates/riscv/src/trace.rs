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
//! when a slice starts, before and after a CSR instruction and after
//! `mret`/`sret`, a trap or `wfi` ends the slice, and the LR reservation is
//! dropped between slices, so with the scheduler's slices of
//! [`SPIKE_SLICE`] instructions the log matches Spike's to the last line
//! of a riscv-tests run.

use std::cell::RefCell;
use std::collections::HashMap;
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
    pub fn write_bytes(&mut self, text: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(text)
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
    /// Reused line buffer (ASCII).
    line: Vec<u8>,
    /// `core   N: ` of this trace's hart, made on its first line.
    prefix: Vec<u8>,
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
            line: Vec::with_capacity(256),
            prefix: Vec::new(),
        }
    }

    /// Start a line with `core   N: `.
    fn start_line(&mut self, core: u64) {
        if self.prefix.is_empty() {
            push_core(&mut self.prefix, core);
        }
        self.line.extend_from_slice(&self.prefix);
    }

    fn flush_line(&mut self) {
        self.output.borrow_mut().write_bytes(&self.line);
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
        self.start_line(core);
        push_hex(&mut self.line, pc, 16);
        self.line.extend_from_slice(b" (");
        push_hex(&mut self.line, u64::from(bits), 8);
        self.line.extend_from_slice(b") ");
        self.line
            .extend_from_slice(spike_disassemble(bits).as_bytes());
        self.line.push(b'\n');
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

/// Spike's key of a register write in a commit line: `number << 4 | kind`
/// (kind 0 = x, 1 = f, 4 = CSR); sorting by it gives Spike's order.
type RegKey = u32;

const KIND_X: u32 = 0;
const KIND_F: u32 = 1;
const KIND_CSR: u32 = 4;

/// `mvip` (AIA), which Spike's `mip` and `sip` write through.
const MVIP: u16 = 0x309;

/// `menvcfg.STCE`.
const MENVCFG_STCE: u64 = 1 << 63;

/// The most register writes one instruction logs (rd, `mstatus`, `fflags`
/// and two CSRs of an explicit write).
const MAX_REG_WRITES: usize = 6;

/// The register writes of one commit line, deduplicated in Spike's order.
struct RegWrites {
    keys: [RegKey; MAX_REG_WRITES],
    len: usize,
}

impl RegWrites {
    fn new() -> Self {
        Self {
            keys: [0; MAX_REG_WRITES],
            len: 0,
        }
    }

    fn push(&mut self, key: RegKey) {
        if self.len < MAX_REG_WRITES && !self.keys[..self.len].contains(&key) {
            self.keys[self.len] = key;
            self.len += 1;
        }
    }

    fn csr(&mut self, n: u16) {
        self.push(u32::from(n) << 4 | KIND_CSR);
    }

    fn sorted(&mut self) -> &[RegKey] {
        let keys = &mut self.keys[..self.len];
        keys.sort_unstable();
        keys
    }
}

/// The 16 hex digits of `v`, most significant first, computed in
/// registers: each nibble spread into a byte, then turned into ASCII
/// without a branch (`'0'..'9'`, `'a'..'f'`). The commit log prints
/// several such numbers per instruction.
fn hex16(v: u64) -> [u8; 16] {
    fn spread(x: u32) -> u64 {
        let x = u64::from(x);
        let x = (x | x << 16) & 0x0000_ffff_0000_ffff;
        let x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
        (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f
    }
    fn ascii(x: u64) -> u64 {
        let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
        x + 0x3030_3030_3030_3030 + letters * (b'a' - b'0' - 10) as u64
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&ascii(spread((v >> 32) as u32)).to_be_bytes());
    out[8..].copy_from_slice(&ascii(spread(v as u32)).to_be_bytes());
    out
}

/// Append `0x` and the low `digits` (at most 16) hex digits of `v`,
/// zero-padded, as `{:#0N$x}` would.
fn push_hex(line: &mut Vec<u8>, v: u64, digits: usize) {
    let digits = digits.min(16);
    line.extend_from_slice(b"0x");
    line.extend_from_slice(&hex16(v)[16 - digits..]);
}

/// Append `n` in decimal.
fn push_dec(line: &mut Vec<u8>, mut n: u64) {
    if n < 10 {
        line.push(b'0' + n as u8);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend_from_slice(&buf[i..]);
}

/// Append `core   N: ` (the hart id right-aligned in three columns).
fn push_core(line: &mut Vec<u8>, core: u64) {
    line.extend_from_slice(b"core ");
    for _ in 0..3usize.saturating_sub(decimal_len(core)) {
        line.push(b' ');
    }
    push_dec(line, core);
    line.extend_from_slice(b": ");
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
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
/// Interrupts are taken here where Spike takes them inside a slice (the
/// engine takes those pending when the slice starts): before and after a
/// CSR instruction and after `mret`/`sret`. A taken interrupt, a trap and
/// `wfi` end the slice.
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
    let mut regs = RegWrites::new();
    // The destination register.
    let fp_dest = op.is_fp() && !op.fp_writes_xreg();
    if op.writes_rd() && (insn.rd != 0 || fp_dest) {
        let kind = if fp_dest { KIND_F } else { KIND_X };
        regs.push(u32::from(insn.rd) << 4 | kind);
    }
    let fs_dirty_now = h.csrs.mstatus() & MSTATUS_FS == MSTATUS_FS;
    let fp_state_written = op.is_fp() || (op.is_csr() && is_fp_csr(insn.imm));
    if fp_state_written && !before.fs_dirty && fs_dirty_now {
        regs.csr(addr::MSTATUS);
    }
    if op.is_fp() && raised != 0 {
        regs.csr(addr::FFLAGS);
    }
    if op.is_csr() && csr_writes(insn) {
        let n = (insn.imm & 0xfff) as u16;
        match n {
            addr::SSTATUS => regs.csr(addr::MSTATUS),
            addr::SIE => {
                regs.csr(addr::SIE);
                regs.csr(addr::MIE);
            }
            addr::SIP | addr::MIP => {
                regs.csr(MVIP);
                regs.csr(addr::MIP);
            }
            addr::FCSR => {
                regs.csr(addr::FRM);
                regs.csr(addr::FFLAGS);
            }
            _ => regs.csr(n),
        }
    }
    if matches!(op, Op::Mret | Op::Sret) {
        regs.csr(addr::MSTATUS);
    }
    trace.start_line(core);
    let line = &mut trace.line;
    push_dec(line, u64::from(before.privilege));
    line.push(b' ');
    push_hex(line, pc, 16);
    line.extend_from_slice(b" (");
    push_hex(line, u64::from(bits), if len == 2 { 4 } else { 8 });
    line.push(b')');
    for &key in regs.sorted() {
        let n = key >> 4;
        let value = match key & 0xf {
            KIND_X | KIND_F => {
                line.extend_from_slice(if key & 0xf == KIND_X { b" x" } else { b" f" });
                push_dec(line, u64::from(n));
                line.extend_from_slice(if n < 10 { b"  " } else { b" " });
                let r = n as usize;
                if key & 0xf == KIND_X { h.x[r] } else { h.f[r] }
            }
            _ => {
                let csr = n as u16;
                line.extend_from_slice(b" c");
                push_dec(line, u64::from(n));
                line.push(b'_');
                line.extend_from_slice(spike_csr_name(csr).unwrap_or("unknown-csr").as_bytes());
                line.push(b' ');
                if csr == MVIP {
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
                }
            }
        };
        push_hex(line, value, 16);
    }
    memory_items(line, h, insn, before);
    line.push(b'\n');
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
fn memory_items(line: &mut Vec<u8>, h: &Hart, insn: &Insn, before: &Before) {
    let op = insn.op;
    let addr = before.rs1.wrapping_add(i64::from(insn.imm) as u64);
    let load = |line: &mut Vec<u8>, a: u64| {
        line.extend_from_slice(b" mem ");
        push_hex(line, a, 16);
    };
    let store = |line: &mut Vec<u8>, a: u64, value: u64, size: u8| {
        load(line, a);
        line.push(b' ');
        push_hex(line, value, usize::from(size) * 2);
    };
    if op.is_load() || op.is_fp_load() {
        load(line, addr);
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
            Op::LrW | Op::LrD => load(line, a),
            Op::ScW | Op::ScD => {
                if result == 0 {
                    store(line, a, before.rs2, size);
                }
            }
            _ => {
                load(line, a);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_decimal_match_the_formatter() {
        for v in [
            0u64,
            1,
            9,
            10,
            15,
            0xdead_beef,
            0x8000_0000_0000_0000,
            u64::MAX,
            0x0123_4567_89ab_cdef,
        ] {
            for digits in [2usize, 4, 8, 16] {
                let mut line = Vec::new();
                push_hex(&mut line, v, digits);
                let mask = if digits == 16 {
                    u64::MAX
                } else {
                    (1 << (4 * digits)) - 1
                };
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    format!("0x{:0digits$x}", v & mask)
                );
            }
            let mut line = Vec::new();
            push_dec(&mut line, v);
            assert_eq!(String::from_utf8(line).unwrap(), v.to_string());
        }
        let mut line = Vec::new();
        push_core(&mut line, 7);
        push_core(&mut line, 123);
        assert_eq!(line, b"core   7: core 123: ");
    }

    #[test]
    fn symbols_follow_spikes_choice() {
        // The later entry of a name wins; at one address the first name in
        // byte order does (the empty name of a section symbol included).
        let map = SymbolMap::from_symbols([
            ("main", 0x10),
            ("loop", 0x20),
            ("main", 0x30),
            ("", 0x30),
            ("b", 0x40),
            ("a", 0x40),
        ]);
        assert_eq!(map.get(0x10), None);
        assert_eq!(map.get(0x20), Some("loop"));
        assert_eq!(map.get(0x30), Some(""));
        assert_eq!(map.get(0x40), Some("a"));
    }

    #[test]
    fn trap_names_are_spikes() {
        assert_eq!(
            trap_name(TrapCause::Exception(Exception::EcallFromM)),
            "trap_machine_ecall"
        );
        assert_eq!(
            trap_name(TrapCause::Interrupt(
                crate::privilege::Interrupt::MachineTimer
            )),
            "interrupt #7"
        );
        assert!(!has_tval(Exception::EcallFromU));
        assert!(has_tval(Exception::IllegalInstruction));
    }

    #[test]
    fn amo_results() {
        assert_eq!(amo_result(Op::AmoaddW, 0xffff_ffff, 1), 0);
        assert_eq!(amo_result(Op::AmominW, 1, 0xffff_ffff) as u32, 0xffff_ffff);
        assert_eq!(amo_result(Op::AmominuW, 1, 0xffff_ffff), 1);
        assert_eq!(amo_result(Op::AmomaxD, 5, 3), 5);
        assert_eq!(amo_result(Op::AmoswapD, 5, 3), 3);
    }
}
