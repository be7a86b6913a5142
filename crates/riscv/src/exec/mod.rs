//! Instruction semantics: running a block's decoded [`Insn`]s.
//!
//! `RiscvCpu::exec_block` is the interpreter's inner loop: a `for` over
//! the block's instruction slice with one `match` on the operation. The pc
//! is a local advanced by each instruction's length; registers are an array
//! indexed without bounds checks (`rd = x0` was redirected to a sink at
//! translation); loads and stores try the TLB fast path inline and call the
//! cold slow path on a miss. An exception ends the block with the precise pc
//! of the faulting instruction and the count of instructions retired before
//! it.

pub mod alu;
pub(crate) mod memory;
mod system;

use ferrite_memory::MemorySystem;
use ferrite_softmmu::block::BlockId;
use ferrite_softmmu::tlb::PAGE_MASK;

use crate::cpu::RiscvCpu;
use crate::decode::{Insn, Op};
use crate::privilege::{Exception, Trap};
use alu::sext32;

/// How a block (or part of one) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Continue at `pc`. `slot` is the chain slot for a direct successor
    /// (0 = taken branch or `jal`, 1 = fall-through); `None` for indirect
    /// jumps and for blocks cut short by the budget.
    Next { pc: u64, slot: Option<u8> },
    /// Continue at `pc` after re-evaluating privilege-dependent state and
    /// interrupts (CSR access, xRET, fences, code invalidation, MMIO events).
    Sync { pc: u64 },
    /// The instruction at `pc` raised `trap` (it did not retire).
    Trap { trap: Trap, pc: u64 },
    /// The instruction of `len` bytes at `pc` is illegal in this context
    /// (`xtval` gets its bits).
    Illegal { pc: u64, len: u8 },
    /// `wfi` retired; continue at `pc` once an interrupt is pending.
    Wfi { pc: u64 },
}

/// `exec_body` left the block through a taken branch or `jal`: continue
/// at the returned pc; chain slot 0.
pub(crate) const STEP_TAKEN: u8 = 0;
/// `exec_body` ran off the end of the block: continue at the returned pc;
/// chain slot 1.
pub(crate) const STEP_FALL: u8 = 1;
/// `exec_body` left through an indirect jump, or stopped at its limit:
/// continue at the returned pc, no chain slot.
pub(crate) const STEP_INDIRECT: u8 = 2;
/// `exec_body` ended in any other way; the exit is in `RiscvCpu::exit`.
pub(crate) const STEP_OTHER: u8 = 3;

/// How a run of chained blocks ended (see `RiscvCpu::exec_chain`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChainEnd {
    /// Instructions retired by the run (already counted in `instret` and the
    /// clock).
    pub retired: u64,
    /// How the last block ended.
    pub exit: Exit,
    /// The last block that ran.
    pub last: BlockId,
    /// The block cache's epoch when that block started.
    pub epoch: u64,
}

impl RiscvCpu {
    /// Run block `id` at `pc` and, when `chain` is set, the blocks that
    /// follow it (through its chain slots, else the jump cache), for at most
    /// `left` instructions. Instructions are retired block by block, so a
    /// CSR read or device access in a later block sees the count of the
    /// earlier ones. The run stops at the first exit other than a plain
    /// jump, when `left` is used up, or at a successor not yet known; a
    /// successor found in the jump cache is chained for next time.
    ///
    /// Nothing but a slow-path access can invalidate code or queue memory
    /// events in the middle of a run, and such an access ends its block with
    /// [`Exit::Sync`], so the run needs no per-block event or epoch test.
    #[inline(always)]
    pub(crate) fn exec_chain(
        &mut self,
        mem: &mut MemorySystem,
        mut id: BlockId,
        mut pc: u64,
        mut left: u64,
        chain: bool,
    ) -> ChainEnd {
        let flags = self.fetch_idx as u32;
        let mut retired = 0u64;
        loop {
            let (code, terminal) = self.blocks.code(id);
            // SAFETY: `code` points at the instructions of a block of
            // `self.blocks`; removed blocks keep their instructions in the
            // cache's graveyard until `collect_garbage`, which the run loop
            // calls only between runs, never while this slice is in use.
            let insns = unsafe { &*code };
            let epoch = self.blocks.epoch();
            let limit = if insns.len() as u64 <= left {
                insns.len()
            } else {
                left as usize
            };
            let (n, next, kind) = self.exec_body(mem, insns, pc, limit, terminal);
            let n = n as u64;
            self.retire(n, n);
            retired += n;
            // `n <= limit <= left`: no underflow.
            left -= n;
            let slot = match kind {
                STEP_TAKEN | STEP_FALL => Some(kind),
                STEP_INDIRECT => None,
                _ => {
                    return ChainEnd {
                        retired,
                        exit: self.exit,
                        last: id,
                        epoch,
                    };
                }
            };
            let succ = match slot {
                Some(s) if chain && left > 0 => self.blocks.successor(id, usize::from(s)),
                _ => None,
            };
            id = match succ {
                Some(s) => s,
                None => match self.blocks.lookup_jump(next, flags) {
                    Some(found) if chain && left > 0 => {
                        // Chains stay within one virtual page; do not ask
                        // again and again for a jump that cannot be chained.
                        if let Some(s) = slot {
                            if (next ^ pc) & PAGE_MASK == 0 {
                                self.blocks.link(id, usize::from(s), found);
                            }
                        }
                        found
                    }
                    _ => {
                        return ChainEnd {
                            retired,
                            exit: Exit::Next { pc: next, slot },
                            last: id,
                            epoch,
                        };
                    }
                },
            };
            pc = next;
        }
    }

    /// Turn what [`RiscvCpu::exec_body`] returned into an [`Exit`].
    pub(crate) fn step_exit(&self, next: u64, kind: u8) -> Exit {
        match kind {
            STEP_TAKEN | STEP_FALL => Exit::Next {
                pc: next,
                slot: Some(kind),
            },
            STEP_INDIRECT => Exit::Next {
                pc: next,
                slot: None,
            },
            _ => self.exit,
        }
    }

    /// Run `insns[..limit]` starting at `pc`. Returns the number of retired
    /// instructions, the pc to continue at and a `STEP_*` kind saying how
    /// the block ended (for [`STEP_OTHER`], the exit is left in
    /// `self.exit`). When all of `insns` ran and `terminal` is set, the
    /// undecodable instruction after them raises an illegal-instruction
    /// exception with `terminal` as `xtval`.
    #[inline(always)]
    pub(crate) fn exec_body(
        &mut self,
        mem: &mut MemorySystem,
        insns: &[Insn],
        mut pc: u64,
        limit: usize,
        terminal: Option<u32>,
    ) -> (usize, u64, u8) {
        macro_rules! x {
            ($r:expr) => {
                self.hart.x[usize::from($r)]
            };
        }
        macro_rules! imm {
            ($i:expr) => {
                i64::from($i.imm) as u64
            };
        }
        let limit = limit.min(insns.len());
        let base = insns.as_ptr();
        let mut cur = base;
        // SAFETY: `limit <= insns.len()`, so `base + limit` is within (or one
        // past the end of) the slice.
        let mut end = unsafe { base.add(limit) };
        // Instructions up to and including the one being executed.
        macro_rules! done {
            () => {
                // SAFETY: `cur` and `base` point into the same slice and
                // `cur >= base`.
                (unsafe { cur.offset_from(base) }) as usize
            };
        }
        macro_rules! leave {
            ($n:expr, $exit:expr) => {{
                self.exit = $exit;
                return ($n, pc, STEP_OTHER);
            }};
        }
        macro_rules! trap {
            ($t:expr) => {
                leave!(done!() - 1, Exit::Trap { trap: $t, pc })
            };
        }
        // A slow-path access that must end the block (its code was
        // invalidated, an interrupt pin moved, memory events are queued)
        // pulls `end` in, so the loop ends after this instruction without a
        // per-instruction flag test.
        let mut stopped = false;
        while cur < end {
            // SAFETY: `base <= cur < end <= base + limit`.
            let insn = unsafe { &*cur };
            // SAFETY: `cur < end`, so `cur + 1` is at most one past the end.
            cur = unsafe { cur.add(1) };
            macro_rules! stop_if {
                ($s:expr) => {
                    if $s {
                        stopped = true;
                        end = cur;
                    }
                };
            }
            let rd = usize::from(insn.rd);
            macro_rules! load {
                ($n:literal, $ext:expr) => {{
                    let a = x!(insn.rs1).wrapping_add(imm!(insn));
                    let v = match self.tlb.load_fast::<$n>(self.data_idx, a) {
                        Some(v) => v,
                        None => match self.load_slow(mem, a, $n) {
                            Ok((v, s)) => {
                                stop_if!(s);
                                v
                            }
                            Err(t) => trap!(t),
                        },
                    };
                    self.hart.x[rd] = $ext(v);
                }};
            }
            macro_rules! store {
                ($n:literal) => {{
                    let a = x!(insn.rs1).wrapping_add(imm!(insn));
                    let v = x!(insn.rs2);
                    if !self.tlb.store_fast::<$n>(self.data_idx, a, v) {
                        match self.store_slow(mem, a, $n, v) {
                            Ok(s) => stop_if!(s),
                            Err(t) => trap!(t),
                        }
                    }
                }};
            }
            macro_rules! amo {
                ($n:literal, $f:expr) => {{
                    let a = x!(insn.rs1);
                    let src = x!(insn.rs2);
                    let f = $f;
                    match self.amo(mem, a, $n, move |old| f(old, src)) {
                        Ok((old, s)) => {
                            stop_if!(s);
                            self.hart.x[rd] = if $n == 4 { sext32(old) } else { old };
                        }
                        Err(t) => trap!(t),
                    }
                }};
            }
            let a = x!(insn.rs1);
            let b = x!(insn.rs2);
            let next = pc.wrapping_add(u64::from(insn.len));
            match insn.op {
                Op::Lui => self.hart.x[rd] = imm!(insn),
                Op::Auipc => self.hart.x[rd] = pc.wrapping_add(imm!(insn)),
                Op::Jal => {
                    self.hart.x[rd] = next;
                    return (done!(), pc.wrapping_add(imm!(insn)), STEP_TAKEN);
                }
                Op::Jalr => {
                    let target = a.wrapping_add(imm!(insn)) & !1;
                    self.hart.x[rd] = next;
                    return (done!(), target, STEP_INDIRECT);
                }
                Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu => {
                    let taken = match insn.op {
                        Op::Beq => a == b,
                        Op::Bne => a != b,
                        Op::Blt => (a as i64) < (b as i64),
                        Op::Bge => (a as i64) >= (b as i64),
                        Op::Bltu => a < b,
                        _ => a >= b,
                    };
                    if taken {
                        return (done!(), pc.wrapping_add(imm!(insn)), STEP_TAKEN);
                    }
                }
                Op::Lb => load!(1, |v: u64| v as i8 as i64 as u64),
                Op::Lh => load!(2, |v: u64| v as i16 as i64 as u64),
                Op::Lw => load!(4, sext32),
                Op::Ld => load!(8, |v: u64| v),
                Op::Lbu => load!(1, |v: u64| v),
                Op::Lhu => load!(2, |v: u64| v),
                Op::Lwu => load!(4, |v: u64| v),
                Op::Sb => store!(1),
                Op::Sh => store!(2),
                Op::Sw => store!(4),
                Op::Sd => store!(8),
                Op::Addi => self.hart.x[rd] = a.wrapping_add(imm!(insn)),
                Op::Slti => self.hart.x[rd] = u64::from((a as i64) < i64::from(insn.imm)),
                Op::Sltiu => self.hart.x[rd] = u64::from(a < imm!(insn)),
                Op::Xori => self.hart.x[rd] = a ^ imm!(insn),
                Op::Ori => self.hart.x[rd] = a | imm!(insn),
                Op::Andi => self.hart.x[rd] = a & imm!(insn),
                Op::Slli => self.hart.x[rd] = a << (insn.imm & 63),
                Op::Srli => self.hart.x[rd] = a >> (insn.imm & 63),
                Op::Srai => self.hart.x[rd] = ((a as i64) >> (insn.imm & 63)) as u64,
                Op::Add => self.hart.x[rd] = a.wrapping_add(b),
                Op::Sub => self.hart.x[rd] = a.wrapping_sub(b),
                Op::Sll => self.hart.x[rd] = a << (b & 63),
                Op::Slt => self.hart.x[rd] = u64::from((a as i64) < (b as i64)),
                Op::Sltu => self.hart.x[rd] = u64::from(a < b),
                Op::Xor => self.hart.x[rd] = a ^ b,
                Op::Srl => self.hart.x[rd] = a >> (b & 63),
                Op::Sra => self.hart.x[rd] = ((a as i64) >> (b & 63)) as u64,
                Op::Or => self.hart.x[rd] = a | b,
                Op::And => self.hart.x[rd] = a & b,
                Op::Addiw => self.hart.x[rd] = sext32(a.wrapping_add(imm!(insn))),
                Op::Slliw => self.hart.x[rd] = sext32(u64::from((a as u32) << (insn.imm & 31))),
                Op::Srliw => self.hart.x[rd] = sext32(u64::from((a as u32) >> (insn.imm & 31))),
                Op::Sraiw => self.hart.x[rd] = i64::from((a as i32) >> (insn.imm & 31)) as u64,
                Op::Addw => self.hart.x[rd] = sext32(a.wrapping_add(b)),
                Op::Subw => self.hart.x[rd] = sext32(a.wrapping_sub(b)),
                Op::Sllw => self.hart.x[rd] = sext32(u64::from((a as u32) << (b & 31))),
                Op::Srlw => self.hart.x[rd] = sext32(u64::from((a as u32) >> (b & 31))),
                Op::Sraw => self.hart.x[rd] = i64::from((a as i32) >> (b & 31)) as u64,
                Op::Mul => self.hart.x[rd] = a.wrapping_mul(b),
                Op::Mulh => self.hart.x[rd] = alu::mulh(a, b),
                Op::Mulhsu => self.hart.x[rd] = alu::mulhsu(a, b),
                Op::Mulhu => self.hart.x[rd] = alu::mulhu(a, b),
                Op::Div => self.hart.x[rd] = alu::div(a, b),
                Op::Divu => self.hart.x[rd] = alu::divu(a, b),
                Op::Rem => self.hart.x[rd] = alu::rem(a, b),
                Op::Remu => self.hart.x[rd] = alu::remu(a, b),
                Op::Mulw => self.hart.x[rd] = sext32(a.wrapping_mul(b)),
                Op::Divw => self.hart.x[rd] = alu::divw(a, b),
                Op::Divuw => self.hart.x[rd] = alu::divuw(a, b),
                Op::Remw => self.hart.x[rd] = alu::remw(a, b),
                Op::Remuw => self.hart.x[rd] = alu::remuw(a, b),
                Op::LrW | Op::LrD => {
                    let n = if insn.op == Op::LrW { 4 } else { 8 };
                    match self.load_reserved(mem, a, n) {
                        Ok((v, s)) => {
                            stop_if!(s);
                            self.hart.x[rd] = if n == 4 { sext32(v) } else { v };
                        }
                        Err(t) => trap!(t),
                    }
                }
                Op::ScW | Op::ScD => {
                    let n = if insn.op == Op::ScW { 4 } else { 8 };
                    match self.store_conditional(mem, a, n, b) {
                        Ok((r, s)) => {
                            stop_if!(s);
                            self.hart.x[rd] = r;
                        }
                        Err(t) => trap!(t),
                    }
                }
                Op::AmoswapW => amo!(4, |_old: u64, s: u64| s),
                Op::AmoaddW => amo!(4, |o: u64, s: u64| o.wrapping_add(s)),
                Op::AmoxorW => amo!(4, |o: u64, s: u64| o ^ s),
                Op::AmoandW => amo!(4, |o: u64, s: u64| o & s),
                Op::AmoorW => amo!(4, |o: u64, s: u64| o | s),
                Op::AmominW => amo!(4, |o: u64, s: u64| if (o as i32) < (s as i32) {
                    o
                } else {
                    s
                }),
                Op::AmomaxW => amo!(4, |o: u64, s: u64| if (o as i32) > (s as i32) {
                    o
                } else {
                    s
                }),
                Op::AmominuW => amo!(4, |o: u64, s: u64| if (o as u32) < (s as u32) {
                    o
                } else {
                    s
                }),
                Op::AmomaxuW => amo!(4, |o: u64, s: u64| if (o as u32) > (s as u32) {
                    o
                } else {
                    s
                }),
                Op::AmoswapD => amo!(8, |_old: u64, s: u64| s),
                Op::AmoaddD => amo!(8, |o: u64, s: u64| o.wrapping_add(s)),
                Op::AmoxorD => amo!(8, |o: u64, s: u64| o ^ s),
                Op::AmoandD => amo!(8, |o: u64, s: u64| o & s),
                Op::AmoorD => amo!(8, |o: u64, s: u64| o | s),
                Op::AmominD => amo!(8, |o: u64, s: u64| if (o as i64) < (s as i64) {
                    o
                } else {
                    s
                }),
                Op::AmomaxD => amo!(8, |o: u64, s: u64| if (o as i64) > (s as i64) {
                    o
                } else {
                    s
                }),
                Op::AmominuD => amo!(8, |o: u64, s: u64| o.min(s)),
                Op::AmomaxuD => amo!(8, |o: u64, s: u64| o.max(s)),
                Op::Fence => {}
                Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                    let before = done!() - 1;
                    let exit = self.exec_csr(insn, pc, before as u64);
                    leave!(
                        before + usize::from(!matches!(exit, Exit::Illegal { .. })),
                        exit
                    );
                }
                Op::Ecall
                | Op::Ebreak
                | Op::Mret
                | Op::Sret
                | Op::Wfi
                | Op::SfenceVma
                | Op::FenceI => {
                    let exit = self.exec_system(insn, pc);
                    let retired = !matches!(exit, Exit::Illegal { .. } | Exit::Trap { .. });
                    leave!(done!() - 1 + usize::from(retired), exit);
                }
            }
            pc = next;
        }
        let n = done!();
        if stopped {
            leave!(n, Exit::Sync { pc });
        }
        if limit == insns.len() {
            if let Some(raw) = terminal {
                leave!(
                    limit,
                    Exit::Trap {
                        trap: Trap::new(Exception::IllegalInstruction, u64::from(raw)),
                        pc,
                    }
                );
            }
            (limit, pc, STEP_FALL)
        } else {
            (limit, pc, STEP_INDIRECT)
        }
    }
}

#[cfg(test)]
mod tests;
