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

impl RiscvCpu {
    /// Run `insns[..limit]` starting at `pc`. Returns the number of retired
    /// instructions and how execution ended. When all of `insns` ran and
    /// `terminal` is set, the undecodable instruction after them raises an
    /// illegal-instruction exception with `terminal` as `xtval`.
    #[inline(always)]
    pub(crate) fn exec_block(
        &mut self,
        mem: &mut MemorySystem,
        insns: &[Insn],
        mut pc: u64,
        limit: usize,
        terminal: Option<u32>,
    ) -> (usize, Exit) {
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
        macro_rules! trap {
            ($i:expr, $t:expr) => {
                return ($i, Exit::Trap { trap: $t, pc })
            };
        }
        // A slow-path access that must end the block (its code was
        // invalidated, an interrupt pin moved) records where and empties the
        // iterator, so the loop ends after this instruction without a
        // per-instruction flag test.
        let mut stopped_after = usize::MAX;
        let mut it = insns[..limit].iter().enumerate();
        while let Some((i, insn)) = it.next() {
            macro_rules! stop_if {
                ($s:expr) => {
                    if $s {
                        stopped_after = i + 1;
                        it = insns[..0].iter().enumerate();
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
                            Err(t) => trap!(i, t),
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
                            Err(t) => trap!(i, t),
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
                        Err(t) => trap!(i, t),
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
                    return (
                        i + 1,
                        Exit::Next {
                            pc: pc.wrapping_add(imm!(insn)),
                            slot: Some(0),
                        },
                    );
                }
                Op::Jalr => {
                    let target = a.wrapping_add(imm!(insn)) & !1;
                    self.hart.x[rd] = next;
                    return (
                        i + 1,
                        Exit::Next {
                            pc: target,
                            slot: None,
                        },
                    );
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
                        return (
                            i + 1,
                            Exit::Next {
                                pc: pc.wrapping_add(imm!(insn)),
                                slot: Some(0),
                            },
                        );
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
                        Err(t) => trap!(i, t),
                    }
                }
                Op::ScW | Op::ScD => {
                    let n = if insn.op == Op::ScW { 4 } else { 8 };
                    match self.store_conditional(mem, a, n, b) {
                        Ok((r, s)) => {
                            stop_if!(s);
                            self.hart.x[rd] = r;
                        }
                        Err(t) => trap!(i, t),
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
                    let exit = self.exec_csr(insn, pc, i as u64);
                    return (i + usize::from(!matches!(exit, Exit::Illegal { .. })), exit);
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
                    return (i + usize::from(retired), exit);
                }
            }
            pc = next;
        }
        if stopped_after != usize::MAX {
            return (stopped_after, Exit::Sync { pc });
        }
        if limit == insns.len() {
            if let Some(raw) = terminal {
                return (
                    limit,
                    Exit::Trap {
                        trap: Trap::new(Exception::IllegalInstruction, u64::from(raw)),
                        pc,
                    },
                );
            }
            (limit, Exit::Next { pc, slot: Some(1) })
        } else {
            (limit, Exit::Next { pc, slot: None })
        }
    }
}

#[cfg(test)]
mod tests;
