//! Short forward branches that skip instructions inside their block: the
//! same results, the same instruction counts and the same stops as one
//! instruction per block.

use super::asm::*;
use super::*;
use crate::csr::addr::*;

/// `beq x1, x0, +12` over two `addi`s, then one more `addi`, then a spin.
fn skip_program(rig: &mut Rig) {
    rig.program(&[
        beq(1, 0, 12),
        addi(10, 10, 1),
        addi(11, 11, 1),
        addi(12, 12, 1),
        SPIN,
    ]);
}

#[test]
fn a_taken_skip_retires_only_what_runs() {
    let mut rig = Rig::new();
    skip_program(&mut rig);
    rig.cpu.set_xreg(1, 0);
    rig.run(2);
    assert_eq!((rig.x(10), rig.x(11), rig.x(12)), (0, 0, 1));
    assert_eq!(rig.cpu.stats().insns, 2);
    assert_eq!(rig.cpu.pc(), RAM + 16);
    // One block holds the branch, the skipped instructions and the rest up
    // to the spin (whose jump to itself starts a block of its own).
    assert_eq!(rig.cpu.stats().blocks_translated, 2);
}

#[test]
fn an_untaken_skip_runs_everything() {
    let mut rig = Rig::new();
    skip_program(&mut rig);
    rig.cpu.set_xreg(1, 5);
    rig.run(4);
    assert_eq!((rig.x(10), rig.x(11), rig.x(12)), (1, 1, 1));
    assert_eq!(rig.cpu.stats().insns, 4);
    assert_eq!(rig.cpu.pc(), RAM + 16);
}

#[test]
fn a_budget_ending_inside_the_skipped_stretch_stops_exactly() {
    // Taken with a budget of one: the branch alone, then the target.
    let mut rig = Rig::new();
    skip_program(&mut rig);
    rig.cpu.set_xreg(1, 0);
    rig.run(1);
    assert_eq!(rig.cpu.pc(), RAM + 12);
    assert_eq!(rig.cpu.stats().insns, 1);
    rig.run(1);
    assert_eq!((rig.x(10), rig.x(11), rig.x(12)), (0, 0, 1));
    assert_eq!(rig.cpu.pc(), RAM + 16);
    // Not taken, budget two: the branch and the first skippable one.
    let mut rig = Rig::new();
    skip_program(&mut rig);
    rig.cpu.set_xreg(1, 5);
    rig.run(2);
    assert_eq!((rig.x(10), rig.x(11)), (1, 0));
    assert_eq!(rig.cpu.pc(), RAM + 8);
}

#[test]
fn a_slow_path_and_a_trap_after_a_taken_skip_count_right() {
    let mut rig = Rig::new();
    // Skip one instruction, read MMIO (the slow path settles the counters),
    // then trap on an illegal word.
    rig.load(
        RAM,
        &[
            beq(1, 0, 8),
            addi(10, 10, 1),
            load(2, 11, 2, 0),
            0xffff_ffff,
            SPIN,
        ],
    );
    rig.cpu.set_xreg(1, 0);
    rig.cpu.set_xreg(2, IO);
    rig.run(10);
    assert_eq!(rig.x(10), 0);
    assert_eq!(
        rig.csr(MCAUSE),
        crate::privilege::Exception::IllegalInstruction.code()
    );
    assert_eq!(rig.csr(MEPC), RAM + 12);
    // The branch and the load retired; the trap does not (then the
    // handler's spin runs out the budget).
    assert_eq!(rig.cpu.stats().exceptions, 1);
    assert_eq!(rig.io.log.borrow().len(), 1, "one MMIO read");
    assert_eq!(rig.cpu.stats().insns, 10 - 1);
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A random loop body of ALU operations, loads, stores and short forward
/// branches (some reaching past the body's end), run 30 times by a counted
/// loop in x31.
fn random_loop(rng: &mut Lcg) -> Vec<u32> {
    let n = 40;
    let mut body = Vec::new();
    for k in 0..n {
        let rd = 1 + rng.next(8) as u32;
        let rs1 = 1 + rng.next(8) as u32;
        let rs2 = 1 + rng.next(8) as u32;
        let w = match rng.next(9) {
            0 => addi(rd, rs1, rng.next(64) as i32 - 32),
            1 => add(rd, rs1, rs2),
            2 => sub(rd, rs1, rs2),
            3 => sltu(rd, rs1, rs2),
            4 => store(3, rs2, 9, 8 * rng.next(16) as i32),
            5 => load(3, rd, 9, 8 * rng.next(16) as i32),
            // Forward by 1 to 9 instructions, never past the loop's end.
            _ => {
                let skip = (1 + rng.next(9) as i32).min(n - k);
                match rng.next(3) {
                    0 => beq(rs1, rs2, 4 * skip),
                    1 => bne(rs1, rs2, 4 * skip),
                    _ => blt(rs1, rs2, 4 * skip),
                }
            }
        };
        body.push(w);
    }
    body.push(addi(31, 31, -1));
    body.push(bne(31, 0, -4 * (n + 1)));
    body.push(SPIN);
    body
}

#[test]
fn random_skips_match_one_instruction_per_block_at_every_budget() {
    let mut rng = Lcg(0x5eed_0051);
    for _ in 0..40 {
        let program = random_loop(&mut rng);
        let mut fast = Rig::new();
        let mut reference = Rig::with_config(CpuConfig {
            one_insn_per_block: true,
            ..CpuConfig::default()
        });
        for rig in [&mut fast, &mut reference] {
            rig.program(&program);
            for r in 1..=8 {
                rig.cpu.set_xreg(r, (r as u64 * 0x9e37_79b9) % 7);
            }
            rig.cpu.set_xreg(9, RAM + 0x8000);
            rig.cpu.set_xreg(31, 30);
        }
        let mut seed = rng.next(1 << 20);
        for _ in 0..200 {
            seed = seed * 1103515245 % 2147483648 + 12345;
            let budget = 1 + seed % 37;
            fast.run(budget);
            reference.run(budget);
            assert_eq!(fast.cpu.pc(), reference.cpu.pc());
            assert_eq!(fast.cpu.stats().insns, reference.cpu.stats().insns);
            for r in 1..=31 {
                assert_eq!(fast.x(r), reference.x(r), "x{r}");
            }
        }
        for off in (0..128).step_by(8) {
            assert_eq!(
                fast.read_u64(RAM + 0x8000 + off),
                reference.read_u64(RAM + 0x8000 + off)
            );
        }
        assert_eq!(
            fast.cpu.pc(),
            RAM + 4 * (program.len() as u64 - 1),
            "the loop ended"
        );
    }
}
