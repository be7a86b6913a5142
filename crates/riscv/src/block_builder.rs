//! Building translated blocks: fetch through the TLB's code path, decode
//! once, store the decoded [`Insn`]s as threaded-code slots
//! ([`crate::exec::threaded`]) in the block cache.
//!
//! A block ends after an instruction that transfers control or may change
//! privileged state ([`crate::decode::Op::ends_block`]: branches, jumps,
//! CSR accesses, `fence.i`, `sfence.vma`, xRET, `wfi`, `ecall`, `ebreak`),
//! before an undecodable instruction (whose bits become the block's
//! terminal), before an instruction whose fetch faults, at the end of the
//! first page (an instruction straddling the boundary is the last one, and
//! the block is then registered on both pages), and after
//! [`MAX_BLOCK_INSNS`] instructions (one with
//! [`crate::CpuConfig::one_insn_per_block`]). A `jal` whose target lies on the
//! block's first page, and is not already part of the block, is the
//! exception among jumps: translation follows it (the slot writes the link
//! register and execution goes straight on with the target's instructions),
//! so a call to a nearby function and its body form one block. The block's
//! slots carry their own pcs, so traps and `auipc` inside the followed code
//! see the right pc.
//!
//! A conditional branch a few instructions forward (at most
//! `MAX_SKIP_BYTES`) on the page is the exception among branches: if
//! translation, going on in order past it, reaches its target, the branch
//! becomes a *skip* ([`Slot::skip`]) and the block goes on; taken, it jumps
//! over the skipped slots inside the block and gives their count back to
//! the budget. Short `if` bodies then cost no block exit. If the target is
//! not reached (a block end, a jump or a breakpoint comes first), the block
//! ends at the branch as usual. One skip is pending at a time.
//!
//! The engine inserts the block and clears the CODE dirty bit of its pages,
//! so the next store to them takes the NOTDIRTY slow path and invalidates
//! the page's blocks first; the TLB's write tags for those pages are
//! re-armed before the block runs.
//!
//! Code in MMIO (a ROM device outside ROMD mode, a sub-page section) is
//! never cached: each visit fetches and runs one instruction.

use ferrite_memory::{MemorySystem, RamAddr};
use ferrite_softmmu::tlb::PAGE_MASK;
use ferrite_softmmu::{BlockExit, BlockKey, Translated, TranslatedBlock, VirtAddr};

use crate::cpu::RiscvCpu;
use crate::decode::{Insn, Op, decode};
use crate::exec::threaded::Slot;
use crate::exec::{Exit, exec_slots, step_exit};
use crate::hart::X0_SINK;
use crate::privilege::{Exception, Trap};

/// The most instructions in one block. Long enough that block overhead is
/// small for straight-line code; the budget of a `run` still stops exactly.
pub const MAX_BLOCK_INSNS: usize = 128;

/// One fetched and decoded instruction.
pub(crate) struct Fetched {
    /// The instruction word (the parcel in the low half if compressed).
    pub(crate) raw: u32,
    /// The decoded instruction, or the word when it does not decode.
    pub(crate) decoded: Result<Insn, u32>,
    /// Its length in bytes.
    pub(crate) len: u64,
}

/// Fetch and decode the instruction at `pc` (QEMU's order: the first
/// parcel, then the second for a 32-bit instruction).
pub(crate) fn fetch_insn(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    pc: u64,
) -> Result<Fetched, Trap> {
    let lo = cpu.fetch_code::<2>(mem, VirtAddr(pc))?;
    let raw = if lo & 3 == 3 {
        let hi = cpu.fetch_code::<2>(mem, VirtAddr(pc.wrapping_add(2)))?;
        (lo | hi << 16) as u32
    } else {
        lo as u32
    };
    let decoded = decode(raw).map_err(|e| e.raw);
    let len = if raw & 3 == 3 { 4 } else { 2 };
    Ok(Fetched { raw, decoded, len })
}

/// Translate the block at `key.pc` (the engine inserts it and protects its
/// pages).
pub(crate) fn translate_block(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    key: BlockKey,
) -> Result<Translated<Slot>, Trap> {
    let pc = key.pc.0;
    let first_page = pc & PAGE_MASK;
    let trace = tracing::enabled!(target: "in_asm", tracing::Level::INFO)
        && ferrite_softmmu::log_filter::allows(pc);
    let mut listing = String::new();
    let mut insns: Vec<Slot> = Vec::with_capacity(16);
    let mut pages = vec![RamAddr(key.phys_pc.0 & PAGE_MASK)];
    let mut terminal = None;
    let mut cur = pc;
    let mut byte_len = 0u32;
    // The virtual byte ranges the block's code (and its terminal) came from.
    let mut spans = CodeSpans::default();
    // A short forward branch whose target translation has not reached yet.
    let mut pending: Option<PendingSkip> = None;
    while insns.len() < cpu.arch.max_block_insns {
        // A debugger's breakpoint starts a block of its own.
        if !insns.is_empty() && cpu.breakpoint_at(cur) {
            break;
        }
        if let Some(p) = pending {
            if cur == p.target {
                // Reached in order: taken, the branch skips to here.
                let skipped = (insns.len() - p.index - 1) as u8;
                insns[p.index] = Slot::skip(prepare(p.insn), p.pc, p.index as u32, skipped);
                pending = None;
            } else if cur > p.target {
                break;
            }
        }
        let fetched = match fetch_insn(cpu, mem, cur) {
            Ok(f) => f,
            Err(t) if insns.is_empty() => return Err(t),
            Err(_) => break,
        };
        // An instruction reaching into the next page: that page's code
        // must be cacheable too, and the block registers it.
        let last_byte = cur.wrapping_add(fetched.len - 1);
        if last_byte & PAGE_MASK != first_page {
            match cpu.code_ram_fast(VirtAddr(last_byte)) {
                Some(r) => pages.push(RamAddr(r.0 & PAGE_MASK)),
                None if insns.is_empty() => return Ok(Translated::Uncached),
                None => break,
            }
        }
        if trace {
            listing.push_str(&listing_line(cur, &fetched));
        }
        // Read, so it is code of the block (an undecodable word decides the
        // terminal): a store to it must invalidate the block.
        spans.add(cur, fetched.len);
        let insn = match fetched.decoded {
            Ok(insn) if cpu.arch.hart.csrs.isa.allows(&insn) => insn,
            // Not an instruction of this hart's ISA: illegal, as an
            // undecodable word is.
            Ok(_) => {
                terminal = Some(illegal_bits(&fetched));
                break;
            }
            Err(raw) => {
                terminal = Some(raw);
                break;
            }
        };
        let before = insns.len() as u32;
        byte_len += fetched.len as u32;
        // A `jal` to the block's own page, to code not already in the
        // block, does not end it: translation goes on at the target.
        if insn.op == Op::Jal && last_byte & PAGE_MASK == first_page && pending.is_none() {
            let target = cur.wrapping_add(i64::from(insn.imm) as u64);
            if target & PAGE_MASK == first_page
                && target != cur
                && !insns.iter().any(|s| s.pc == target)
            {
                insns.push(Slot::inline_jump(prepare(insn), cur, before));
                cur = target;
                continue;
            }
        }
        insns.push(Slot::new(prepare(insn), cur, before));
        let next = cur.wrapping_add(fetched.len);
        // A branch a few instructions forward on the page may skip them
        // inside the block, if translation reaches its target in order.
        let target = cur.wrapping_add(i64::from(insn.imm) as u64);
        if insn.op.is_branch()
            && pending.is_none()
            && insn.imm > 0
            && i64::from(insn.imm) <= MAX_SKIP_BYTES
            && target & PAGE_MASK == first_page
            && insns.len() + 1 < cpu.arch.max_block_insns
        {
            pending = Some(PendingSkip {
                index: insns.len() - 1,
                insn,
                pc: cur,
                target,
                fall: next,
                byte_len,
                listing_len: listing.len(),
            });
            cur = next;
            continue;
        }
        cur = next;
        if insn.op.ends_block() || cur & PAGE_MASK != first_page {
            break;
        }
    }
    // A skip whose target was not reached: the block ends at the branch.
    if let Some(p) = pending {
        insns.truncate(p.index + 1);
        cur = p.fall;
        byte_len = p.byte_len;
        terminal = None;
        listing.truncate(p.listing_len);
    }
    if trace {
        tracing::info!(
            target: "in_asm",
            "----------------\nIN: \nPriv: {}; Virt: 0\n{listing}",
            cpu.arch.hart.privilege as u8
        );
    }
    insns.push(Slot::sentinel(cur, terminal, insns.len() as u32));
    let code_ranges = spans.ram_ranges(first_page, &pages);
    Ok(Translated::Block(TranslatedBlock {
        code: insns,
        byte_len,
        terminal,
        pages,
        code_ranges,
    }))
}

/// How far forward a branch may skip inside its block, in bytes.
const MAX_SKIP_BYTES: i64 = 32;

/// A branch that may become a skip ([`Slot::skip`]) once translation
/// reaches its target; until then its slot is an ordinary branch.
#[derive(Clone, Copy)]
struct PendingSkip {
    /// Its slot.
    index: usize,
    insn: Insn,
    pc: u64,
    target: u64,
    /// The pc after it, and the block's bytes and listing up to it: where
    /// the block ends if the target is never reached.
    fall: u64,
    byte_len: u32,
    listing_len: usize,
}

/// The virtual byte ranges a block's instructions were fetched from, merged
/// where they touch (a followed `jal` starts a new one).
#[derive(Default)]
struct CodeSpans {
    spans: Vec<(u64, u64)>,
}

impl CodeSpans {
    /// The `len` bytes at `pc` belong to the block.
    fn add(&mut self, pc: u64, len: u64) {
        let end = pc.wrapping_add(len);
        match self.spans.last_mut() {
            Some(last) if last.1 == pc => last.1 = end,
            _ => self.spans.push((pc, end)),
        }
    }

    /// The spans in ram addresses, split where they leave the first
    /// virtual page (`first_page`, at ram page `pages[0]`) for the second
    /// (`pages[1]`, when an instruction straddles the boundary).
    fn ram_ranges(&self, first_page: u64, pages: &[RamAddr]) -> Vec<(RamAddr, u32)> {
        let page_end = first_page.wrapping_add(!PAGE_MASK + 1);
        let mut out = Vec::with_capacity(self.spans.len() + 1);
        for &(start, end) in &self.spans {
            let first_end = if end.wrapping_sub(first_page) > page_end.wrapping_sub(first_page) {
                page_end
            } else {
                end
            };
            if let Some(&p0) = pages.first() {
                out.push((
                    RamAddr(p0.0 + (start - first_page)),
                    (first_end - start) as u32,
                ));
            }
            if first_end != end {
                if let Some(&p1) = pages.get(1) {
                    out.push((p1, (end - page_end) as u32));
                }
            }
        }
        out
    }
}

/// Fetch, decode and run the one instruction at `pc` without caching it
/// (code in MMIO). Returns the instructions retired (settled) and the exit.
pub(crate) fn exec_uncached(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    pc: u64,
) -> (u64, BlockExit<Exit>) {
    let fetched = match fetch_insn(cpu, mem, pc) {
        Ok(f) => f,
        Err(trap) => return (0, BlockExit::Other(Exit::Trap { trap, pc })),
    };
    if tracing::enabled!(target: "in_asm", tracing::Level::INFO)
        && ferrite_softmmu::log_filter::allows(pc)
    {
        tracing::info!(
            target: "in_asm",
            "----------------\nIN: (uncached)\nPriv: {}; Virt: 0\n{}",
            cpu.arch.hart.privilege as u8,
            listing_line(pc, &fetched)
        );
    }
    match fetched.decoded {
        Ok(insn) if cpu.arch.hart.csrs.isa.allows(&insn) => {
            exec_one(cpu, mem, pc, insn, fetched.len)
        }
        decoded => {
            let raw = decoded.map_or_else(|raw| raw, |_| illegal_bits(&fetched));
            (
                0,
                BlockExit::Other(Exit::Trap {
                    trap: Trap::new(Exception::IllegalInstruction, u64::from(raw)),
                    pc,
                }),
            )
        }
    }
}

/// Run the decoded instruction `insn` (`len` bytes, at `pc`) on its own,
/// through a one-slot block. Returns the instructions retired (settled) and
/// the exit.
pub(crate) fn exec_one(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    pc: u64,
    insn: Insn,
    len: u64,
) -> (u64, BlockExit<Exit>) {
    let slots = [
        Slot::new(prepare(insn), pc, 0),
        Slot::sentinel(pc.wrapping_add(len), None, 1),
    ];
    // A budget of one: the sentinel goes nowhere.
    cpu.chain.left = 1;
    cpu.chain.settled_left = 1;
    cpu.chain.links_left = 0;
    let st = exec_slots(cpu, mem, &slots);
    let n = 1 - cpu.chain.left;
    cpu.settle();
    (n, step_exit(cpu, st))
}

/// The bits `xtval` reports for an illegal instruction: the 16-bit parcel
/// of a compressed one, all 32 bits otherwise.
pub(crate) fn illegal_bits(f: &Fetched) -> u32 {
    if f.len == 2 { f.raw & 0xffff } else { f.raw }
}

/// Rewrite a decoded instruction for execution: an integer destination of
/// `x0` becomes the sink register (except for CSR instructions, where
/// `rd = 0` changes the semantics; a floating-point `rd = 0` is `f0`).
fn prepare(mut insn: Insn) -> Insn {
    let xreg_rd = !insn.op.is_fp() || insn.op.fp_writes_xreg();
    if insn.rd == 0 && xreg_rd && !insn.op.is_csr() && insn.op != Op::SfenceVma {
        insn.rd = X0_SINK;
    }
    insn
}

/// One line of `-d in_asm`, laid out as QEMU lays its out: the 16-digit
/// pc, the instruction bits, the mnemonic and the operands in 24-column
/// fields, and for pc-relative instructions (branches, jumps, `auipc`) the
/// absolute target as a `# 0x…` comment.
fn listing_line(pc: u64, f: &Fetched) -> String {
    let bits = if f.len == 2 {
        format!("{:04x}    ", f.raw & 0xffff)
    } else {
        format!("{:08x}", f.raw)
    };
    let mut line = format!("0x{pc:016x}:  {bits}          ");
    match &f.decoded {
        Ok(insn) => {
            let (mnemonic, operands) = crate::disasm::parts(insn);
            let target = match insn.op {
                op if op.is_branch() || op == Op::Jal || op == Op::Auipc => {
                    Some(pc.wrapping_add(i64::from(insn.imm) as u64))
                }
                _ => None,
            };
            match target {
                Some(t) => line.push_str(&format!(
                    "{:<24}{operands:<24}# {t:#x}",
                    mnemonic.to_string()
                )),
                None if operands.is_empty() => line.push_str(&mnemonic.to_string()),
                None => line.push_str(&format!("{:<24}{operands}", mnemonic.to_string())),
            }
        }
        Err(_) => line.push_str("illegal"),
    }
    line.push('\n');
    line
}
