//! Threaded code: the executable form of a translated block.
//!
//! A block is an array of [`Slot`]s, one per instruction plus a final
//! *sentinel*. A slot holds the function that runs its instruction, the
//! instruction's pc and its decoded fields. Each handler does its work and
//! then calls the next slot's handler in tail position, so the optimiser
//! turns the call into a jump: dispatch is one indirect jump per
//! instruction, made from the end of each handler (which the host's branch
//! predictor tracks separately), and each handler is a small function whose
//! state (the CPU, the memory system, the slot pointer) lives in registers.
//!
//! A handler that leaves the block through a chain slot (a taken branch or
//! `jal`, a not-taken branch or the sentinel falling off the end) enters the
//! chained successor directly when there is one and the run's budget covers
//! it; an indirect jump likewise enters the block the jump cache holds.
//! Otherwise it returns a [`Step`]: those exits, and every other exit (a
//! trap, an undecodable instruction after the last one, a CSR access, a
//! slow-path access that must end the block), whose [`Exit`] is left in
//! `Riscv::exit`. Retired instructions are counted by decrementing
//! `ChainState::left` once per block; anything that reads `instret` or the
//! clock (a slow-path access, a CSR, a system instruction) settles them
//! first (`Cpu::settle`).
//!
//! Without the tail-call optimisation (an unoptimised build) every handler
//! call is a stack frame, so such builds bound how many blocks a run enters
//! from handlers (`ChainState::MAX_LINKED_BLOCKS`) before unwinding to the engine's loop.

use ferrite_memory::MemorySystem;
use ferrite_softmmu::block::BlockId;

use super::alu::{self, sext32};
use super::bits;
use super::fp;
use super::memory::{amo, cache_block_op, load_reserved, load_slow, store_conditional, store_slow};
use super::system::{exec_csr, exec_system};
use super::{Exit, STEP_FALL, STEP_INDIRECT, STEP_OTHER, STEP_TAKEN};
use crate::cpu::RiscvCpu;
use crate::decode::{Insn, Op};
use crate::privilege::{Exception, Trap};
use ferrite_softmmu::{Target, VirtAddr};

/// Runs the instruction of one slot and, unless it leaves the block, the
/// slots after it.
///
/// # Safety
///
/// The slot pointer must point into a slot array that ends with a sentinel
/// (see [`Slot::sentinel`]).
pub(crate) type Handler = unsafe fn(&mut RiscvCpu, &mut MemorySystem, *const Slot) -> Step;

/// One instruction of a translated block, ready to run (the RISC-V
/// target's [`Target::Code`](ferrite_softmmu::Target::Code)).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Slot {
    /// The handler of `insn.op` (or of the sentinel).
    pub(crate) run: Handler,
    /// The instruction's pc (for the sentinel: the pc after the block).
    pub(crate) pc: u64,
    /// The decoded instruction (for a sentinel with an undecodable
    /// instruction, `imm` holds that instruction's bits).
    pub(crate) insn: Insn,
    /// The slot's index in its block: how many instructions of the block
    /// come before it.
    pub(crate) before: u32,
}

// A slot fills half a cache line.
const _: () = assert!(std::mem::size_of::<Slot>() == 32);

impl Slot {
    /// The slot running `insn` (already prepared for execution) at `pc`,
    /// with `before` instructions of its block before it.
    pub(crate) fn new(insn: Insn, pc: u64, before: u32) -> Slot {
        Slot {
            run: handler_for(insn.op),
            pc,
            insn,
            before,
        }
    }

    /// The slot of a `jal` that translation followed: it writes the link
    /// register and goes on with the next slot (the jump's target).
    pub(crate) fn inline_jump(insn: Insn, pc: u64, before: u32) -> Slot {
        Slot {
            run: op_jal_inline,
            pc,
            insn,
            before,
        }
    }

    /// The slot of a conditional branch that skips the `skip` slots after
    /// it when taken (a short forward branch whose target translation
    /// reached in the same block): taken, it gives the skipped instructions
    /// back to the budget and goes on with the slot after them; not taken,
    /// with the next slot. The block goes on past it either way.
    pub(crate) fn skip(insn: Insn, pc: u64, before: u32, skip: u8) -> Slot {
        let run: Handler = match insn.op {
            Op::Beq => op_beq_skip,
            Op::Bne => op_bne_skip,
            Op::Blt => op_blt_skip,
            Op::Bge => op_bge_skip,
            Op::Bltu => op_bltu_skip,
            Op::Bgeu => op_bgeu_skip,
            _ => handler_for(insn.op),
        };
        Slot {
            run,
            pc,
            insn: Insn { rd: skip, ..insn },
            before,
        }
    }

    /// The skip's length if this is a skipping branch ([`Slot::skip`]).
    pub(crate) fn skip_len(&self) -> Option<usize> {
        (self.insn.op.is_branch() && self.insn.rd < crate::hart::X0_SINK)
            .then_some(usize::from(self.insn.rd))
    }

    /// A skipping branch turned into one that leaves the block when taken
    /// (through the jump cache), for a copy of the block that ends before
    /// the skip's target.
    pub(crate) fn skip_as_exit(self) -> Slot {
        let run: Handler = match self.insn.op {
            Op::Beq => op_beq_side,
            Op::Bne => op_bne_side,
            Op::Blt => op_blt_side,
            Op::Bge => op_bge_side,
            Op::Bltu => op_bltu_side,
            Op::Bgeu => op_bgeu_side,
            _ => self.run,
        };
        Slot { run, ..self }
    }

    /// The slot that ends a block whose next instruction is at `pc`: it
    /// leaves through the fall-through exit, or, when `terminal` holds the
    /// bits of an undecodable instruction at `pc`, raises an
    /// illegal-instruction exception.
    pub(crate) fn sentinel(pc: u64, terminal: Option<u32>, before: u32) -> Slot {
        let (run, imm): (Handler, i32) = match terminal {
            Some(raw) => (end_illegal, raw as i32),
            None => (end_fall, 0),
        };
        Slot {
            run,
            pc,
            insn: Insn::new(Op::Fence, 0, 0, 0, imm),
            before,
        }
    }

    /// A sentinel that stops a partial run before the instruction at `pc`
    /// (the budget ran out): leaves without a chain slot.
    pub(crate) fn stop(pc: u64, before: u32) -> Slot {
        Slot {
            run: end_stop,
            pc,
            insn: Insn::new(Op::Fence, 0, 0, 0, 0),
            before,
        }
    }
}

/// How a block (or a run of blocks entered one from another) was left:
/// the pc to continue at and how. The instructions retired are in
/// `ChainState::left`.
///
/// One 128-bit integer (pc in the low half, kind above), so that a handler
/// returning what the next block's handler returned stays a plain tail call
/// (the optimiser splits a two-field struct and re-assembles it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Step(u128);

impl Step {
    /// Continue at `pc`, through `kind` (one of the `STEP_*` constants).
    #[inline(always)]
    pub(crate) fn new(pc: u64, kind: u8) -> Step {
        Step(u128::from(pc) | u128::from(kind) << 64)
    }

    /// Where execution continues (unused for [`STEP_OTHER`]).
    #[inline(always)]
    pub(crate) fn pc(self) -> u64 {
        self.0 as u64
    }

    /// One of the `STEP_*` constants.
    #[inline(always)]
    pub(crate) fn kind(self) -> u8 {
        (self.0 >> 64) as u8
    }
}

/// Count `n` retired instructions of the running block against the run
/// (see `Cpu::settle`).
#[inline(always)]
fn count(cpu: &mut RiscvCpu, n: u64) {
    // `n` never exceeds what the block was allowed to run.
    cpu.chain.left -= n;
}

/// Leave the running block after `n` instructions towards `pc` through
/// `kind` (a `STEP_*` other than [`STEP_OTHER`]). Through a chain slot, and
/// while the run allows it, go straight on into the chained successor.
///
/// # Safety
///
/// As for [`Handler`] (the running block's slots stay valid).
#[inline(always)]
unsafe fn exit_to(cpu: &mut RiscvCpu, mem: &mut MemorySystem, pc: u64, n: u64, kind: u8) -> Step {
    count(cpu, n);
    if kind != STEP_INDIRECT {
        let (id, code) = cpu
            .blocks
            .successor_code(cpu.chain.cur_block, usize::from(kind));
        // SAFETY: `code` is the code of a live block of `cpu.blocks`, or
        // empty (no successor), which `enter` refuses.
        return unsafe { enter(cpu, mem, id, code, Step::new(pc, kind)) };
    }
    Step::new(pc, kind)
}

/// Leave the running block after `n` instructions by an indirect jump to
/// `target`; while the run allows it, go straight on into the block the
/// jump cache holds for `target`.
///
/// # Safety
///
/// As for [`Handler`].
#[inline(always)]
unsafe fn exit_indirect(cpu: &mut RiscvCpu, mem: &mut MemorySystem, target: u64, n: u64) -> Step {
    count(cpu, n);
    let otherwise = Step::new(target, STEP_INDIRECT);
    match cpu
        .blocks
        .lookup_jump_code(VirtAddr(target), cpu.arch.block_flags())
    {
        // SAFETY: `code` is the code of a live block of `cpu.blocks`.
        Some((id, code)) => unsafe { enter(cpu, mem, id, code, otherwise) },
        None => otherwise,
    }
}

/// Enter block `id` (whose slots are `code`) from the end of the running
/// block if the run's budget covers it whole; otherwise return `otherwise`.
/// The entry is a call in tail position (a jump once optimised).
///
/// # Safety
///
/// `code` is the code of a live block of `cpu.blocks`, or empty (then
/// `otherwise` is returned).
#[inline(always)]
unsafe fn enter(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    id: BlockId,
    code: *const [Slot],
    otherwise: Step,
) -> Step {
    // A block's last slot is the sentinel, so its code has `len + 1`
    // slots for `len` instructions. Enter only a block the budget covers
    // whole, and not an empty one (a lone sentinel) once the budget is used
    // up: `len - 1 < left`. Empty code (no block) wraps to `len - 1 ==
    // u64::MAX - 1`, above any `left` (at most `ChainState::MAX_LEFT`).
    let len = (code.len() as u64).wrapping_sub(1);
    if len.wrapping_sub(1) >= cpu.chain.left {
        return otherwise;
    }
    // Unoptimised builds make every handler call a stack frame: bound how
    // many blocks a run enters from handlers before unwinding.
    if cfg!(debug_assertions) {
        if cpu.chain.links_left == 0 {
            return otherwise;
        }
        cpu.chain.links_left -= 1;
    }
    cpu.chain.cur_block = id;
    let first = code as *const Slot;
    // SAFETY: `code` points at the slots of a live block of the cache
    // (nothing removes blocks while handlers run except a slow-path access,
    // which ends the run, and removed blocks keep their slots until
    // `collect_garbage`); its first slot exists (there is always the
    // sentinel), and the array ends with a sentinel.
    unsafe { ((*first).run)(cpu, mem, first) }
}

/// Leave the running block after `retired` instructions with `exit`.
#[inline(always)]
fn leave(cpu: &mut RiscvCpu, retired: u64, exit: Exit) -> Step {
    count(cpu, retired);
    cpu.arch.exit = exit;
    Step::new(0, STEP_OTHER)
}

/// Run the slot after `s`.
///
/// # Safety
///
/// As for [`Handler`]; `s` is not the sentinel (a sentinel never continues).
#[inline(always)]
unsafe fn next(cpu: &mut RiscvCpu, mem: &mut MemorySystem, s: *const Slot) -> Step {
    // SAFETY: `s` is not the last slot of its array (only sentinels are, and
    // they never continue), so `s + 1` is a slot of the same array.
    let n = unsafe { s.add(1) };
    // SAFETY: `n` is a slot of an array ending with a sentinel, as the
    // caller's contract requires of `s`.
    unsafe { ((*n).run)(cpu, mem, n) }
}

/// Defines a handler: `$body` runs with `$cpu`, `$mem`, the slot `$s` and
/// its instruction `$i`; it `return`s a [`Step`] to leave the block, or
/// ends, and the handler goes on with the next slot. (Exits `return` a
/// call's result as it is, never wrapped in another value, so that each
/// stays a tail call.)
macro_rules! handler {
    ($name:ident, |$cpu:ident, $mem:ident, $s:ident, $i:ident| $body:expr) => {
        #[allow(unused_variables, unreachable_code)]
        unsafe fn $name($cpu: &mut RiscvCpu, $mem: &mut MemorySystem, $s: *const Slot) -> Step {
            // SAFETY: the handler contract: `$s` points at a live slot.
            let $i: Insn = unsafe { (*$s).insn };
            $body;
            // SAFETY: this slot is not a sentinel (sentinels have their own
            // handlers), and the contract passes on.
            unsafe { next($cpu, $mem, $s) }
        }
    };
}

/// The slot's index in its block: the block's instructions before it.
macro_rules! before {
    ($s:ident) => {
        // SAFETY: the handler contract: `$s` points at a live slot.
        u64::from(unsafe { (*$s).before })
    };
}

/// The slot's pc.
macro_rules! pc {
    ($s:ident) => {
        // SAFETY: the handler contract: `$s` points at a live slot.
        unsafe { (*$s).pc }
    };
}

macro_rules! x {
    ($cpu:ident, $r:expr) => {
        $cpu.arch.hart.x[usize::from($r)]
    };
}

macro_rules! alu_rr {
    ($name:ident, |$a:ident, $b:ident| $e:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let $a = x!(cpu, i.rs1);
            let $b = x!(cpu, i.rs2);
            x!(cpu, i.rd) = $e;
        });
    };
}

macro_rules! alu_ri {
    ($name:ident, |$a:ident, $imm:ident| $e:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let $a = x!(cpu, i.rs1);
            let $imm = i64::from(i.imm) as u64;
            x!(cpu, i.rd) = $e;
        });
    };
}

macro_rules! branch {
    ($name:ident, |$a:ident, $b:ident| $cond:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let $a = x!(cpu, i.rs1);
            let $b = x!(cpu, i.rs2);
            let pc = pc!(s);
            let n = before!(s) + 1;
            // A branch ends its block, so the next slot is the sentinel: the
            // fall-through exit is taken here rather than there.
            let (target, kind) = if $cond {
                (pc.wrapping_add(i64::from(i.imm) as u64), STEP_TAKEN)
            } else {
                (pc.wrapping_add(u64::from(i.len)), STEP_FALL)
            };
            // SAFETY: the handler contract passes on.
            return unsafe { exit_to(cpu, mem, target, n, kind) };
        });
    };
}

/// A conditional branch that skips the next `i.rd` slots of its block when
/// taken (see [`Slot::skip`]).
macro_rules! skip_branch {
    ($name:ident, |$a:ident, $b:ident| $cond:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let $a = x!(cpu, i.rs1);
            let $b = x!(cpu, i.rs2);
            if $cond {
                let k = usize::from(i.rd);
                // The skipped instructions do not retire: the exit's count
                // (the slot's index) includes them.
                cpu.chain.left += k as u64;
                // SAFETY: translation made `k` the number of slots between
                // the branch and its target's slot, which lies in the same
                // array at or before the sentinel (a copy of the block that
                // ends earlier turns the slot into `skip_as_exit`).
                let t = unsafe { s.add(1 + k) };
                // SAFETY: `t` is a slot of an array ending with a sentinel.
                return unsafe { ((*t).run)(cpu, mem, t) };
            }
        });
    };
}

/// A conditional branch that leaves the block when taken, through the jump
/// cache (see [`Slot::skip_as_exit`]).
macro_rules! side_branch {
    ($name:ident, |$a:ident, $b:ident| $cond:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let $a = x!(cpu, i.rs1);
            let $b = x!(cpu, i.rs2);
            if $cond {
                let target = pc!(s).wrapping_add(i64::from(i.imm) as u64);
                let n = before!(s) + 1;
                // SAFETY: the handler contract passes on.
                return unsafe { exit_indirect(cpu, mem, target, n) };
            }
        });
    };
}

macro_rules! load {
    ($name:ident, $n:literal, $ext:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let a = x!(cpu, i.rs1).wrapping_add(i64::from(i.imm) as u64);
            match cpu.tlb.load_fast::<$n>(cpu.arch.data_idx, VirtAddr(a)) {
                Some(v) => {
                    x!(cpu, i.rd) = $ext(v);
                }
                // SAFETY: the handler contract passes on.
                None => return unsafe { load_slow_then_next(cpu, mem, s, a, $n, $ext) },
            }
        });
    };
}

macro_rules! store {
    ($name:ident, $n:literal) => {
        handler!($name, |cpu, mem, s, i| {
            let a = x!(cpu, i.rs1).wrapping_add(i64::from(i.imm) as u64);
            let v = x!(cpu, i.rs2);
            if cpu.tlb.store_fast::<$n>(cpu.arch.data_idx, VirtAddr(a), v) {
            } else {
                // SAFETY: the handler contract passes on.
                return unsafe { store_slow_then_next::<$n>(cpu, mem, s, a, v) };
            }
        });
    };
}

/// The slow path of a load of `size` bytes at `a` by slot `s`, then the
/// rest of the block. Out of line, so that the handlers' fast paths need
/// no stack frame.
///
/// # Safety
///
/// As for [`Handler`].
#[cold]
#[inline(never)]
unsafe fn load_slow_then_next(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    s: *const Slot,
    a: u64,
    size: u32,
    ext: impl Fn(u64) -> u64,
) -> Step {
    // SAFETY: the handler contract: `s` points at a live slot.
    let i = unsafe { (*s).insn };
    cpu.settle();
    match load_slow(cpu, mem, a, size) {
        Ok((v, stop)) => {
            x!(cpu, i.rd) = ext(v);
            if stop {
                return sync_after(cpu, s, &i);
            }
            // SAFETY: a load is not a sentinel; the contract passes on.
            unsafe { next(cpu, mem, s) }
        }
        Err(t) => trap(cpu, s, t),
    }
}

/// A store of `N` bytes of `v` at `a` by slot `s` that missed the fast
/// path, then the rest of the block: beside translated code on its page
/// (the common miss of programs whose data shares pages with code), else
/// through the slow path.
///
/// # Safety
///
/// As for [`Handler`].
#[cold]
#[inline(never)]
unsafe fn store_slow_then_next<const N: usize>(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    s: *const Slot,
    a: u64,
    v: u64,
) -> Step {
    if cpu
        .tlb
        .store_beside_code::<N>(cpu.arch.data_idx, VirtAddr(a), v)
    {
        // SAFETY: a store is not a sentinel; the contract passes on.
        return unsafe { next(cpu, mem, s) };
    }
    // SAFETY: the handler contract: `s` points at a live slot.
    let i = unsafe { (*s).insn };
    cpu.settle();
    match store_slow(cpu, mem, a, N as u32, v) {
        Ok(true) => sync_after(cpu, s, &i),
        // SAFETY: a store is not a sentinel; the contract passes on.
        Ok(false) => unsafe { next(cpu, mem, s) },
        Err(t) => trap(cpu, s, t),
    }
}

macro_rules! amo {
    ($name:ident, $n:literal, $f:expr) => {
        handler!($name, |cpu, mem, s, i| {
            let a = x!(cpu, i.rs1);
            let src = x!(cpu, i.rs2);
            let f = $f;
            cpu.settle();
            match amo(cpu, mem, a, $n, move |old: u64| f(old, src)) {
                Ok((old, stop)) => {
                    x!(cpu, i.rd) = if $n == 4 { sext32(old) } else { old };
                    if stop {
                        return sync_after(cpu, s, &i);
                    }
                }
                Err(t) => return trap(cpu, s, t),
            }
        });
    };
}

/// Leave after the instruction of slot `s` retired, re-synchronising
/// (a slow-path access asked the block to end).
#[cold]
fn sync_after(cpu: &mut RiscvCpu, s: *const Slot, i: &Insn) -> Step {
    let pc = pc!(s).wrapping_add(u64::from(i.len));
    let n = before!(s) + 1;
    leave(cpu, n, Exit::Sync { pc })
}

/// Leave with the instruction of slot `s` illegal in this context (FS off,
/// an invalid dynamic rounding mode, a disabled `cbo.*`).
#[cold]
fn illegal(cpu: &mut RiscvCpu, s: *const Slot, i: &Insn) -> Step {
    let pc = pc!(s);
    let n = before!(s);
    leave(cpu, n, Exit::Illegal { pc, len: i.len })
}

/// Leave with the instruction of slot `s` raising `t` (it does not retire).
#[cold]
fn trap(cpu: &mut RiscvCpu, s: *const Slot, t: Trap) -> Step {
    let pc = pc!(s);
    let n = before!(s);
    leave(cpu, n, Exit::Trap { trap: t, pc })
}

// Sentinels.

/// # Safety
///
/// As for [`Handler`].
unsafe fn end_fall(cpu: &mut RiscvCpu, mem: &mut MemorySystem, s: *const Slot) -> Step {
    let n = before!(s);
    let pc = pc!(s);
    // SAFETY: the handler contract passes on.
    unsafe { exit_to(cpu, mem, pc, n, STEP_FALL) }
}

/// # Safety
///
/// As for [`Handler`].
unsafe fn end_stop(cpu: &mut RiscvCpu, mem: &mut MemorySystem, s: *const Slot) -> Step {
    let n = before!(s);
    let pc = pc!(s);
    // SAFETY: the handler contract passes on.
    unsafe { exit_to(cpu, mem, pc, n, STEP_INDIRECT) }
}

/// # Safety
///
/// As for [`Handler`].
unsafe fn end_illegal(cpu: &mut RiscvCpu, _mem: &mut MemorySystem, s: *const Slot) -> Step {
    // SAFETY: the handler contract: `s` points at a live slot.
    let raw = unsafe { (*s).insn.imm } as u32;
    let trap = Trap::new(Exception::IllegalInstruction, u64::from(raw));
    let pc = pc!(s);
    let n = before!(s);
    leave(cpu, n, Exit::Trap { trap, pc })
}

// Control transfer.

handler!(op_lui, |cpu, mem, s, i| {
    x!(cpu, i.rd) = i64::from(i.imm) as u64;
});
handler!(op_auipc, |cpu, mem, s, i| {
    x!(cpu, i.rd) = pc!(s).wrapping_add(i64::from(i.imm) as u64);
});
handler!(op_jal, |cpu, mem, s, i| {
    let pc = pc!(s);
    x!(cpu, i.rd) = pc.wrapping_add(u64::from(i.len));
    let target = pc.wrapping_add(i64::from(i.imm) as u64);
    let n = before!(s) + 1;
    // SAFETY: the handler contract passes on.
    return unsafe { exit_to(cpu, mem, target, n, STEP_TAKEN) };
});
handler!(op_jal_inline, |cpu, mem, s, i| {
    x!(cpu, i.rd) = pc!(s).wrapping_add(u64::from(i.len));
});
handler!(op_jalr, |cpu, mem, s, i| {
    let target = x!(cpu, i.rs1).wrapping_add(i64::from(i.imm) as u64) & !1;
    x!(cpu, i.rd) = pc!(s).wrapping_add(u64::from(i.len));
    let n = before!(s) + 1;
    // SAFETY: the handler contract passes on.
    return unsafe { exit_indirect(cpu, mem, target, n) };
});
/// The three handlers of one branch condition: ending the block, skipping
/// inside it, leaving it from the middle.
macro_rules! branches {
    ($end:ident, $skip:ident, $side:ident, |$a:ident, $b:ident| $cond:expr) => {
        branch!($end, |$a, $b| $cond);
        skip_branch!($skip, |$a, $b| $cond);
        side_branch!($side, |$a, $b| $cond);
    };
}

branches!(op_beq, op_beq_skip, op_beq_side, |a, b| a == b);
branches!(op_bne, op_bne_skip, op_bne_side, |a, b| a != b);
branches!(op_blt, op_blt_skip, op_blt_side, |a, b| (a as i64)
    < (b as i64));
branches!(op_bge, op_bge_skip, op_bge_side, |a, b| (a as i64)
    >= (b as i64));
branches!(op_bltu, op_bltu_skip, op_bltu_side, |a, b| a < b);
branches!(op_bgeu, op_bgeu_skip, op_bgeu_side, |a, b| a >= b);

// Loads and stores.

load!(op_lb, 1, |v: u64| v as i8 as i64 as u64);
load!(op_lh, 2, |v: u64| v as i16 as i64 as u64);
load!(op_lw, 4, sext32);
load!(op_ld, 8, |v: u64| v);
load!(op_lbu, 1, |v: u64| v);
load!(op_lhu, 2, |v: u64| v);
load!(op_lwu, 4, |v: u64| v);
store!(op_sb, 1);
store!(op_sh, 2);
store!(op_sw, 4);
store!(op_sd, 8);

// Integer computation.

alu_ri!(op_addi, |a, imm| a.wrapping_add(imm));
alu_ri!(op_slti, |a, imm| u64::from((a as i64) < (imm as i64)));
alu_ri!(op_sltiu, |a, imm| u64::from(a < imm));
alu_ri!(op_xori, |a, imm| a ^ imm);
alu_ri!(op_ori, |a, imm| a | imm);
alu_ri!(op_andi, |a, imm| a & imm);
alu_ri!(op_slli, |a, imm| a << (imm & 63));
alu_ri!(op_srli, |a, imm| a >> (imm & 63));
alu_ri!(op_srai, |a, imm| ((a as i64) >> (imm & 63)) as u64);
alu_rr!(op_add, |a, b| a.wrapping_add(b));
alu_rr!(op_sub, |a, b| a.wrapping_sub(b));
alu_rr!(op_sll, |a, b| a << (b & 63));
alu_rr!(op_slt, |a, b| u64::from((a as i64) < (b as i64)));
alu_rr!(op_sltu, |a, b| u64::from(a < b));
alu_rr!(op_xor, |a, b| a ^ b);
alu_rr!(op_srl, |a, b| a >> (b & 63));
alu_rr!(op_sra, |a, b| ((a as i64) >> (b & 63)) as u64);
alu_rr!(op_or, |a, b| a | b);
alu_rr!(op_and, |a, b| a & b);
alu_ri!(op_addiw, |a, imm| sext32(a.wrapping_add(imm)));
alu_ri!(op_slliw, |a, imm| sext32(u64::from(
    (a as u32) << (imm & 31)
)));
alu_ri!(op_srliw, |a, imm| sext32(u64::from(
    (a as u32) >> (imm & 31)
)));
alu_ri!(op_sraiw, |a, imm| i64::from((a as i32) >> (imm & 31))
    as u64);
alu_rr!(op_addw, |a, b| sext32(a.wrapping_add(b)));
alu_rr!(op_subw, |a, b| sext32(a.wrapping_sub(b)));
alu_rr!(op_sllw, |a, b| sext32(u64::from((a as u32) << (b & 31))));
alu_rr!(op_srlw, |a, b| sext32(u64::from((a as u32) >> (b & 31))));
alu_rr!(op_sraw, |a, b| i64::from((a as i32) >> (b & 31)) as u64);

// M.

alu_rr!(op_mul, |a, b| a.wrapping_mul(b));
alu_rr!(op_mulh, |a, b| alu::mulh(a, b));
alu_rr!(op_mulhsu, |a, b| alu::mulhsu(a, b));
alu_rr!(op_mulhu, |a, b| alu::mulhu(a, b));
alu_rr!(op_div, |a, b| alu::div(a, b));
alu_rr!(op_divu, |a, b| alu::divu(a, b));
alu_rr!(op_rem, |a, b| alu::rem(a, b));
alu_rr!(op_remu, |a, b| alu::remu(a, b));
alu_rr!(op_mulw, |a, b| sext32(a.wrapping_mul(b)));
alu_rr!(op_divw, |a, b| alu::divw(a, b));
alu_rr!(op_divuw, |a, b| alu::divuw(a, b));
alu_rr!(op_remw, |a, b| alu::remw(a, b));
alu_rr!(op_remuw, |a, b| alu::remuw(a, b));

// A.

handler!(op_lr, |cpu, mem, s, i| {
    cpu.settle();
    let n = if i.op == Op::LrW { 4 } else { 8 };
    match load_reserved(cpu, mem, x!(cpu, i.rs1), n) {
        Ok((v, stop)) => {
            x!(cpu, i.rd) = if n == 4 { sext32(v) } else { v };
            if stop {
                return sync_after(cpu, s, &i);
            }
        }
        Err(t) => return trap(cpu, s, t),
    }
});
handler!(op_sc, |cpu, mem, s, i| {
    cpu.settle();
    let n = if i.op == Op::ScW { 4 } else { 8 };
    let (a, v) = (x!(cpu, i.rs1), x!(cpu, i.rs2));
    match store_conditional(cpu, mem, a, n, v) {
        Ok((r, stop)) => {
            x!(cpu, i.rd) = r;
            if stop {
                return sync_after(cpu, s, &i);
            }
        }
        Err(t) => return trap(cpu, s, t),
    }
});
// The operation's result is what memory receives (its low 4 bytes for
// the W forms).
amo!(op_amoswap_w, 4, |_o: u64, s: u64| s);
amo!(op_amoadd_w, 4, |o: u64, s: u64| o.wrapping_add(s));
amo!(op_amoxor_w, 4, |o: u64, s: u64| o ^ s);
amo!(op_amoand_w, 4, |o: u64, s: u64| o & s);
amo!(op_amoor_w, 4, |o: u64, s: u64| o | s);
amo!(op_amomin_w, 4, |o: u64, s: u64| (o as i32).min(s as i32)
    as u64);
amo!(op_amomax_w, 4, |o: u64, s: u64| (o as i32).max(s as i32)
    as u64);
amo!(op_amominu_w, 4, |o: u64, s: u64| u64::from(
    (o as u32).min(s as u32)
));
amo!(op_amomaxu_w, 4, |o: u64, s: u64| u64::from(
    (o as u32).max(s as u32)
));
amo!(op_amoswap_d, 8, |_o: u64, s: u64| s);
amo!(op_amoadd_d, 8, |o: u64, s: u64| o.wrapping_add(s));
amo!(op_amoxor_d, 8, |o: u64, s: u64| o ^ s);
amo!(op_amoand_d, 8, |o: u64, s: u64| o & s);
amo!(op_amoor_d, 8, |o: u64, s: u64| o | s);
amo!(op_amomin_d, 8, |o: u64, s: u64| (o as i64).min(s as i64)
    as u64);
amo!(op_amomax_d, 8, |o: u64, s: u64| (o as i64).max(s as i64)
    as u64);
amo!(op_amominu_d, 8, |o: u64, s: u64| o.min(s));
amo!(op_amomaxu_d, 8, |o: u64, s: u64| o.max(s));

// F, D, Zfh: loads and stores take the TLB fast path; the rest run in
// `fp::execute`.

macro_rules! fp_load {
    ($name:ident, $n:literal, $fmt:expr) => {
        handler!($name, |cpu, mem, s, i| {
            // FS Dirty is the common case: enabled, nothing to record.
            let dirty = cpu.arch.hart.csrs.fp_dirty();
            if !dirty && !cpu.arch.hart.csrs.fp_enabled() {
                return illegal(cpu, s, &i);
            }
            let a = x!(cpu, i.rs1).wrapping_add(i64::from(i.imm) as u64);
            match cpu.tlb.load_fast::<$n>(cpu.arch.data_idx, VirtAddr(a)) {
                Some(v) => {
                    cpu.arch.hart.f[usize::from(i.rd & 31)] = fp::boxed($fmt, v);
                    if !dirty {
                        cpu.arch.hart.csrs.set_fp_dirty();
                    }
                }
                // SAFETY: the handler contract passes on.
                None => return unsafe { fp_load_slow_then_next(cpu, mem, s, a, $n, $fmt) },
            }
        });
    };
}

macro_rules! fp_store {
    ($name:ident, $n:literal) => {
        handler!($name, |cpu, mem, s, i| {
            if !cpu.arch.hart.csrs.fp_enabled() {
                return illegal(cpu, s, &i);
            }
            let a = x!(cpu, i.rs1).wrapping_add(i64::from(i.imm) as u64);
            // The low bits of the register, boxed or not.
            let v = cpu.arch.hart.f[usize::from(i.rs2 & 31)];
            if !cpu.tlb.store_fast::<$n>(cpu.arch.data_idx, VirtAddr(a), v) {
                // SAFETY: the handler contract passes on.
                return unsafe { store_slow_then_next::<$n>(cpu, mem, s, a, v) };
            }
        });
    };
}

/// The slow path of a floating-point load of `size` bytes at `a`, boxed as
/// format `fmt`, then the rest of the block.
///
/// # Safety
///
/// As for [`Handler`].
#[cold]
#[inline(never)]
unsafe fn fp_load_slow_then_next(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    s: *const Slot,
    a: u64,
    size: u32,
    fmt: ferrite_softfloat::Format,
) -> Step {
    // SAFETY: the handler contract: `s` points at a live slot.
    let i = unsafe { (*s).insn };
    cpu.settle();
    match load_slow(cpu, mem, a, size) {
        Ok((v, stop)) => {
            cpu.arch.hart.f[usize::from(i.rd & 31)] = fp::boxed(fmt, v);
            cpu.arch.hart.csrs.set_fp_dirty();
            if stop {
                return sync_after(cpu, s, &i);
            }
            // SAFETY: a load is not a sentinel; the contract passes on.
            unsafe { next(cpu, mem, s) }
        }
        Err(t) => trap(cpu, s, t),
    }
}

fp_load!(op_flh, 2, ferrite_softfloat::HALF);
fp_load!(op_flw, 4, ferrite_softfloat::SINGLE);
fp_load!(op_fld, 8, ferrite_softfloat::DOUBLE);
fp_store!(op_fsh, 2);
fp_store!(op_fsw, 4);
fp_store!(op_fsd, 8);
handler!(op_fp, |cpu, mem, s, i| {
    if !fp::execute(&mut cpu.arch.hart, &i) {
        return illegal(cpu, s, &i);
    }
});

/// A handler for an arithmetic instruction the host FPU may run: the fast
/// path when it applies ([`fp::fast`]), the soft-float otherwise (out of
/// line, so the fast path needs no stack frame).
macro_rules! fp_arith {
    ($name:ident, $op:expr, $fmt:expr) => {
        handler!($name, |cpu, mem, s, i| {
            if !fp::fast(&mut cpu.arch.hart, &i, $op, $fmt) {
                // SAFETY: the handler contract passes on.
                return unsafe { fp_soft_then_next(cpu, mem, s) };
            }
        });
    };
}

/// The soft-float path of the instruction of slot `s`, then the rest of
/// the block.
///
/// # Safety
///
/// As for [`Handler`].
#[cold]
#[inline(never)]
unsafe fn fp_soft_then_next(cpu: &mut RiscvCpu, mem: &mut MemorySystem, s: *const Slot) -> Step {
    // SAFETY: the handler contract: `s` points at a live slot.
    let i = unsafe { (*s).insn };
    if !fp::execute(&mut cpu.arch.hart, &i) {
        return illegal(cpu, s, &i);
    }
    // SAFETY: an FP instruction is not a sentinel; the contract passes on.
    unsafe { next(cpu, mem, s) }
}

use crate::decode::FpFormat::{Double as D64, Single as S32};
use fp::HostOp;
fp_arith!(op_fadd_d, HostOp::Add, D64);
fp_arith!(op_fsub_d, HostOp::Sub, D64);
fp_arith!(op_fmul_d, HostOp::Mul, D64);
fp_arith!(op_fdiv_d, HostOp::Div, D64);
fp_arith!(op_fsqrt_d, HostOp::Sqrt, D64);
fp_arith!(op_fmadd_d, HostOp::Fma(false, false), D64);
fp_arith!(op_fmsub_d, HostOp::Fma(false, true), D64);
fp_arith!(op_fnmsub_d, HostOp::Fma(true, false), D64);
fp_arith!(op_fnmadd_d, HostOp::Fma(true, true), D64);
fp_arith!(op_fadd_s, HostOp::Add, S32);
fp_arith!(op_fsub_s, HostOp::Sub, S32);
fp_arith!(op_fmul_s, HostOp::Mul, S32);
fp_arith!(op_fdiv_s, HostOp::Div, S32);
fp_arith!(op_fsqrt_s, HostOp::Sqrt, S32);
fp_arith!(op_fmadd_s, HostOp::Fma(false, false), S32);
fp_arith!(op_fmsub_s, HostOp::Fma(false, true), S32);
fp_arith!(op_fnmsub_s, HostOp::Fma(true, false), S32);
fp_arith!(op_fnmadd_s, HostOp::Fma(true, true), S32);

// Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zicond.

alu_rr!(op_add_uw, |a, b| b.wrapping_add(a & 0xffff_ffff));
alu_rr!(op_sh1add, |a, b| b.wrapping_add(a << 1));
alu_rr!(op_sh2add, |a, b| b.wrapping_add(a << 2));
alu_rr!(op_sh3add, |a, b| b.wrapping_add(a << 3));
alu_rr!(op_sh1add_uw, |a, b| b.wrapping_add((a & 0xffff_ffff) << 1));
alu_rr!(op_sh2add_uw, |a, b| b.wrapping_add((a & 0xffff_ffff) << 2));
alu_rr!(op_sh3add_uw, |a, b| b.wrapping_add((a & 0xffff_ffff) << 3));
alu_ri!(op_slli_uw, |a, imm| (a & 0xffff_ffff) << (imm & 63));
alu_rr!(op_andn, |a, b| a & !b);
alu_rr!(op_orn, |a, b| a | !b);
alu_rr!(op_xnor, |a, b| !(a ^ b));
alu_ri!(op_clz, |a, imm| u64::from(a.leading_zeros()));
alu_ri!(op_clzw, |a, imm| u64::from((a as u32).leading_zeros()));
alu_ri!(op_ctz, |a, imm| u64::from(a.trailing_zeros()));
alu_ri!(op_ctzw, |a, imm| u64::from((a as u32).trailing_zeros()));
alu_ri!(op_cpop, |a, imm| u64::from(a.count_ones()));
alu_ri!(op_cpopw, |a, imm| u64::from((a as u32).count_ones()));
alu_rr!(op_max, |a, b| (a as i64).max(b as i64) as u64);
alu_rr!(op_maxu, |a, b| a.max(b));
alu_rr!(op_min, |a, b| (a as i64).min(b as i64) as u64);
alu_rr!(op_minu, |a, b| a.min(b));
alu_ri!(op_sext_b, |a, imm| a as i8 as i64 as u64);
alu_ri!(op_sext_h, |a, imm| a as i16 as i64 as u64);
alu_ri!(op_zext_h, |a, imm| a & 0xffff);
alu_rr!(op_rol, |a, b| a.rotate_left((b & 63) as u32));
alu_rr!(op_rolw, |a, b| sext32(u64::from(
    (a as u32).rotate_left((b & 31) as u32)
)));
alu_rr!(op_ror, |a, b| a.rotate_right((b & 63) as u32));
alu_ri!(op_rori, |a, imm| a.rotate_right((imm & 63) as u32));
alu_ri!(op_roriw, |a, imm| sext32(u64::from(
    (a as u32).rotate_right((imm & 31) as u32)
)));
alu_rr!(op_rorw, |a, b| sext32(u64::from(
    (a as u32).rotate_right((b & 31) as u32)
)));
alu_ri!(op_orc_b, |a, imm| bits::orc_b(a));
alu_ri!(op_rev8, |a, imm| a.swap_bytes());
alu_rr!(op_clmul, |a, b| bits::clmul(a, b));
alu_rr!(op_clmulh, |a, b| bits::clmulh(a, b));
alu_rr!(op_clmulr, |a, b| bits::clmulr(a, b));
alu_rr!(op_bclr, |a, b| a & !(1 << (b & 63)));
alu_ri!(op_bclri, |a, imm| a & !(1 << (imm & 63)));
alu_rr!(op_bext, |a, b| (a >> (b & 63)) & 1);
alu_ri!(op_bexti, |a, imm| (a >> (imm & 63)) & 1);
alu_rr!(op_binv, |a, b| a ^ (1 << (b & 63)));
alu_ri!(op_binvi, |a, imm| a ^ (1 << (imm & 63)));
alu_rr!(op_bset, |a, b| a | (1 << (b & 63)));
alu_ri!(op_bseti, |a, imm| a | (1 << (imm & 63)));
alu_rr!(op_pack, |a, b| (a & 0xffff_ffff) | (b << 32));
alu_rr!(op_packh, |a, b| (a & 0xff) | ((b & 0xff) << 8));
alu_rr!(op_packw, |a, b| sext32((a & 0xffff) | ((b & 0xffff) << 16)));
alu_ri!(op_brev8, |a, imm| bits::brev8(a));
alu_rr!(op_xperm4, |a, b| bits::xperm4(a, b));
alu_rr!(op_xperm8, |a, b| bits::xperm8(a, b));
alu_rr!(op_czero_eqz, |a, b| if b == 0 { 0 } else { a });
alu_rr!(op_czero_nez, |a, b| if b != 0 { 0 } else { a });

// Zicbom, Zicboz.

handler!(op_cbo, |cpu, mem, s, i| {
    cpu.settle();
    match cache_block_op(cpu, mem, i.op, x!(cpu, i.rs1)) {
        Ok(false) => {}
        Ok(true) => return sync_after(cpu, s, &i),
        Err(None) => return illegal(cpu, s, &i),
        Err(Some(t)) => return trap(cpu, s, t),
    }
});

// Fences and system instructions.

handler!(op_fence, |cpu, mem, s, i| {});
handler!(op_csr, |cpu, mem, s, i| {
    cpu.settle();
    let before = before!(s);
    let exit = exec_csr(cpu, &i, pc!(s), before);
    let retired = before + u64::from(!matches!(exit, Exit::Illegal { .. }));
    return leave(cpu, retired, exit);
});
handler!(op_system, |cpu, mem, s, i| {
    cpu.settle();
    let before = before!(s);
    let exit = exec_system(cpu, &i, pc!(s));
    let retired = !matches!(exit, Exit::Illegal { .. } | Exit::Trap { .. });
    return leave(cpu, before + u64::from(retired), exit);
});

/// The handler of `op`.
fn handler_for(op: Op) -> Handler {
    match op {
        Op::Lui => op_lui,
        Op::Auipc => op_auipc,
        Op::Jal => op_jal,
        Op::Jalr => op_jalr,
        Op::Beq => op_beq,
        Op::Bne => op_bne,
        Op::Blt => op_blt,
        Op::Bge => op_bge,
        Op::Bltu => op_bltu,
        Op::Bgeu => op_bgeu,
        Op::Lb => op_lb,
        Op::Lh => op_lh,
        Op::Lw => op_lw,
        Op::Ld => op_ld,
        Op::Lbu => op_lbu,
        Op::Lhu => op_lhu,
        Op::Lwu => op_lwu,
        Op::Sb => op_sb,
        Op::Sh => op_sh,
        Op::Sw => op_sw,
        Op::Sd => op_sd,
        Op::Addi => op_addi,
        Op::Slti => op_slti,
        Op::Sltiu => op_sltiu,
        Op::Xori => op_xori,
        Op::Ori => op_ori,
        Op::Andi => op_andi,
        Op::Slli => op_slli,
        Op::Srli => op_srli,
        Op::Srai => op_srai,
        Op::Add => op_add,
        Op::Sub => op_sub,
        Op::Sll => op_sll,
        Op::Slt => op_slt,
        Op::Sltu => op_sltu,
        Op::Xor => op_xor,
        Op::Srl => op_srl,
        Op::Sra => op_sra,
        Op::Or => op_or,
        Op::And => op_and,
        Op::Addiw => op_addiw,
        Op::Slliw => op_slliw,
        Op::Srliw => op_srliw,
        Op::Sraiw => op_sraiw,
        Op::Addw => op_addw,
        Op::Subw => op_subw,
        Op::Sllw => op_sllw,
        Op::Srlw => op_srlw,
        Op::Sraw => op_sraw,
        Op::Mul => op_mul,
        Op::Mulh => op_mulh,
        Op::Mulhsu => op_mulhsu,
        Op::Mulhu => op_mulhu,
        Op::Div => op_div,
        Op::Divu => op_divu,
        Op::Rem => op_rem,
        Op::Remu => op_remu,
        Op::Mulw => op_mulw,
        Op::Divw => op_divw,
        Op::Divuw => op_divuw,
        Op::Remw => op_remw,
        Op::Remuw => op_remuw,
        Op::LrW | Op::LrD => op_lr,
        Op::ScW | Op::ScD => op_sc,
        Op::AmoswapW => op_amoswap_w,
        Op::AmoaddW => op_amoadd_w,
        Op::AmoxorW => op_amoxor_w,
        Op::AmoandW => op_amoand_w,
        Op::AmoorW => op_amoor_w,
        Op::AmominW => op_amomin_w,
        Op::AmomaxW => op_amomax_w,
        Op::AmominuW => op_amominu_w,
        Op::AmomaxuW => op_amomaxu_w,
        Op::AmoswapD => op_amoswap_d,
        Op::AmoaddD => op_amoadd_d,
        Op::AmoxorD => op_amoxor_d,
        Op::AmoandD => op_amoand_d,
        Op::AmoorD => op_amoor_d,
        Op::AmominD => op_amomin_d,
        Op::AmomaxD => op_amomax_d,
        Op::AmominuD => op_amominu_d,
        Op::AmomaxuD => op_amomaxu_d,
        Op::Fence => op_fence,
        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => op_csr,
        Op::Ecall | Op::Ebreak | Op::Mret | Op::Sret | Op::Wfi | Op::SfenceVma | Op::FenceI => {
            op_system
        }
        Op::Flh => op_flh,
        Op::Flw => op_flw,
        Op::Fld => op_fld,
        Op::Fsh => op_fsh,
        Op::Fsw => op_fsw,
        Op::Fsd => op_fsd,
        Op::AddUw => op_add_uw,
        Op::Sh1add => op_sh1add,
        Op::Sh2add => op_sh2add,
        Op::Sh3add => op_sh3add,
        Op::Sh1addUw => op_sh1add_uw,
        Op::Sh2addUw => op_sh2add_uw,
        Op::Sh3addUw => op_sh3add_uw,
        Op::SlliUw => op_slli_uw,
        Op::Andn => op_andn,
        Op::Orn => op_orn,
        Op::Xnor => op_xnor,
        Op::Clz => op_clz,
        Op::Clzw => op_clzw,
        Op::Ctz => op_ctz,
        Op::Ctzw => op_ctzw,
        Op::Cpop => op_cpop,
        Op::Cpopw => op_cpopw,
        Op::Max => op_max,
        Op::Maxu => op_maxu,
        Op::Min => op_min,
        Op::Minu => op_minu,
        Op::SextB => op_sext_b,
        Op::SextH => op_sext_h,
        Op::ZextH => op_zext_h,
        Op::Rol => op_rol,
        Op::Rolw => op_rolw,
        Op::Ror => op_ror,
        Op::Rori => op_rori,
        Op::Roriw => op_roriw,
        Op::Rorw => op_rorw,
        Op::OrcB => op_orc_b,
        Op::Rev8 => op_rev8,
        Op::Clmul => op_clmul,
        Op::Clmulh => op_clmulh,
        Op::Clmulr => op_clmulr,
        Op::Bclr => op_bclr,
        Op::Bclri => op_bclri,
        Op::Bext => op_bext,
        Op::Bexti => op_bexti,
        Op::Binv => op_binv,
        Op::Binvi => op_binvi,
        Op::Bset => op_bset,
        Op::Bseti => op_bseti,
        Op::Pack => op_pack,
        Op::Packh => op_packh,
        Op::Packw => op_packw,
        Op::Brev8 => op_brev8,
        Op::Xperm4 => op_xperm4,
        Op::Xperm8 => op_xperm8,
        Op::CzeroEqz => op_czero_eqz,
        Op::CzeroNez => op_czero_nez,
        Op::CboClean | Op::CboFlush | Op::CboInval | Op::CboZero => op_cbo,
        Op::FaddD => op_fadd_d,
        Op::FsubD => op_fsub_d,
        Op::FmulD => op_fmul_d,
        Op::FdivD => op_fdiv_d,
        Op::FsqrtD => op_fsqrt_d,
        Op::FmaddD => op_fmadd_d,
        Op::FmsubD => op_fmsub_d,
        Op::FnmsubD => op_fnmsub_d,
        Op::FnmaddD => op_fnmadd_d,
        Op::FaddS => op_fadd_s,
        Op::FsubS => op_fsub_s,
        Op::FmulS => op_fmul_s,
        Op::FdivS => op_fdiv_s,
        Op::FsqrtS => op_fsqrt_s,
        Op::FmaddS => op_fmadd_s,
        Op::FmsubS => op_fmsub_s,
        Op::FnmsubS => op_fnmsub_s,
        Op::FnmaddS => op_fnmadd_s,
        // Every other floating-point instruction.
        _ => op_fp,
    }
}
