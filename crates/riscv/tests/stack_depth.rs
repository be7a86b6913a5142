//! Chained execution keeps the host stack flat.
//!
//! Handlers call the next instruction's handler, and a block's last handler
//! enters the next block, in tail position: optimised builds turn those
//! calls into jumps, so a run of any length uses a bounded stack. Builds with
//! debug assertions bound instead how many blocks a run enters before it
//! unwinds to the engine's loop. Both properties are checked here by running
//! 10^8 instructions on a thread with a small stack: a single stack frame
//! left behind per block (let alone per instruction) would need gigabytes
//! and overflow the thread's 256 KiB at once. `.ci/run` runs this file with
//! `cargo test --release` too, since the release profile is what users run.

use std::rc::Rc;

use ferrite_memory::{GuestAddress, MemTxAttrs, MemorySystem, RegionSize};
use ferrite_riscv::{CpuConfig, RiscvCpuExt, RunExit, new_cpu};
use ferrite_softmmu::VirtualClock;

const RAM: u64 = 0x8000_0000;
const RAM_SIZE: u64 = 0x20_0000;
/// Instructions each test runs.
const INSNS: u64 = 100_000_000;
/// Stack of the thread that runs the guest.
const STACK: usize = 256 << 10;

/// `addi rd, rs1, imm`.
fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
}

/// `beq x0, x0, offset`: an always-taken branch (ends its block).
fn branch_always(offset: i32) -> u32 {
    let o = offset as u32;
    ((o >> 12 & 1) << 31)
        | ((o >> 5 & 0x3f) << 25)
        | ((o >> 1 & 0xf) << 8)
        | ((o >> 11 & 1) << 7)
        | 0x63
}

/// `jal x0, offset`.
fn jump(offset: i32) -> u32 {
    let o = offset as u32;
    ((o >> 20 & 1) << 31)
        | ((o >> 1 & 0x3ff) << 21)
        | ((o >> 11 & 1) << 20)
        | ((o >> 12 & 0xff) << 12)
        | 0x6f
}

/// Run `program` (at `RAM`) for [`INSNS`] instructions on a thread with a
/// [`STACK`]-byte stack; return `t0` (x5) and the instructions retired.
fn run_on_small_stack(program: Vec<u32>) -> (u64, u64) {
    let worker = std::thread::Builder::new()
        .name("guest".into())
        .stack_size(STACK)
        .spawn(move || {
            let mut mem = MemorySystem::new();
            let root = mem.new_container("system", RegionSize::Max);
            let ram = mem.new_ram("ram", RAM_SIZE).unwrap();
            mem.add_subregion(root, RAM, ram).unwrap();
            let space = mem.new_address_space("cpu-memory-0", root);
            let bytes: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
            mem.write(space, GuestAddress(RAM), &bytes, MemTxAttrs::default())
                .unwrap();
            let clock = VirtualClock::new(10);
            let mut cpu = new_cpu(CpuConfig::default(), &mut mem, space, Rc::clone(&clock));
            cpu.reset(RAM);
            let exit = cpu.run(&mut mem, INSNS);
            assert_eq!(exit, RunExit::BudgetExhausted);
            (cpu.xreg(5), cpu.stats().insns)
        })
        .unwrap();
    worker
        .join()
        .expect("the guest thread overflowed its stack or panicked")
}

#[test]
fn a_self_chained_loop_runs_on_a_flat_stack() {
    // loop: addi t0, t0, 1; jal x0, loop: one block chained to itself.
    let (t0, insns) = run_on_small_stack(vec![addi(5, 5, 1), jump(-4)]);
    assert_eq!(insns, INSNS);
    assert_eq!(t0, INSNS / 2);
}

#[test]
fn a_long_chain_of_blocks_runs_on_a_flat_stack() {
    // 20,000 blocks over ten pages, each `addi t0, t0, 1` and a taken branch
    // to the next; the last jumps back to the first.
    const BLOCKS: usize = 20_000;
    let mut program = Vec::with_capacity(2 * BLOCKS);
    for _ in 0..BLOCKS - 1 {
        program.push(addi(5, 5, 1));
        program.push(branch_always(4));
    }
    program.push(addi(5, 5, 1));
    program.push(jump(-(8 * (BLOCKS as i32 - 1) + 4)));
    let (t0, insns) = run_on_small_stack(program);
    assert_eq!(insns, INSNS);
    assert_eq!(t0, INSNS / 2);
}
