//! Self-modifying code and writes to code from outside the CPU.

use super::asm::*;
use super::*;

#[test]
fn store_into_the_running_block_takes_effect_without_fence_i() {
    let mut rig = Rig::new();
    let patched = addi(10, 0, 2);
    // The store rewrites the instruction right after it, inside the same block.
    rig.program(&[store(2, 2, 1, 8), NOP, addi(10, 0, 1), SPIN]);
    rig.cpu.set_xreg(1, RAM);
    rig.cpu.set_xreg(2, u64::from(patched));
    rig.run(10);
    assert_eq!(rig.x(10), 2);
    assert!(rig.cpu.stats().blocks_invalidated >= 1);
}

#[test]
fn patching_a_translated_loop_with_fence_i() {
    let mut rig = Rig::new();
    // A subroutine at SUB returns 1; the program calls it, patches it to return
    // 2, executes fence.i, calls it again.
    let sub = RAM + 0x800;
    rig.load(sub, &[addi(10, 0, 1), jalr(0, 1, 0)]);
    rig.program(&[
        jal(1, 0x800),     // call sub
        add(11, 10, 0),    // x11 = first result
        store(2, 3, 2, 0), // patch sub's first instruction
        FENCE_I,
        jal(1, 0x800 - 16), // call sub again
        add(12, 10, 0),
        SPIN,
    ]);
    rig.cpu.set_xreg(2, sub);
    rig.cpu.set_xreg(3, u64::from(addi(10, 0, 2)));
    rig.run(20);
    assert_eq!(rig.x(11), 1);
    assert_eq!(rig.x(12), 2);
}

#[test]
fn writes_from_outside_invalidate_code() {
    let mut rig = Rig::new();
    rig.program(&[addi(10, 0, 1), SPIN]);
    rig.run(5);
    assert_eq!(rig.x(10), 1);
    // A loader (or DMA) rewrites the program through the memory API.
    rig.load(RAM, &[addi(10, 0, 5)]);
    rig.cpu.set_pc(RAM);
    rig.run(5);
    assert_eq!(rig.x(10), 5);
}

#[test]
fn invalidate_code_drops_blocks_of_a_range() {
    let mut rig = Rig::new();
    rig.program(&[addi(10, 10, 1), jal(0, -4)]);
    rig.run(10);
    let before = rig.cpu.stats().blocks_invalidated;
    rig.cpu
        .invalidate_code(&rig.mem, ferrite_memory::GuestAddress(RAM), 8);
    assert!(rig.cpu.stats().blocks_invalidated > before);
    rig.run(10);
    assert_eq!(rig.x(10), 10);
}

#[test]
fn data_stores_to_a_code_page_keep_working() {
    let mut rig = Rig::new();
    // Code and data on the same page: the stores leave the loop's block
    // alone, and after the first they take no slow path.
    rig.program(&[
        store(3, 10, 1, 0x100),
        addi(10, 10, 1),
        blt(10, 2, -8),
        SPIN,
    ]);
    rig.cpu.set_xreg(1, RAM);
    rig.cpu.set_xreg(2, 50);
    rig.run(1000);
    assert_eq!(rig.x(10), 50);
    assert_eq!(rig.read_u64(RAM + 0x100), 49);
    assert_eq!(rig.cpu.stats().blocks_invalidated, 0);
    assert_eq!(rig.cpu.tlb.stats().beside_code_stores, 49);
}

#[test]
fn a_store_beside_code_on_its_own_line_leaves_the_code() {
    let mut rig = Rig::new();
    // The data word right after the loop's last instruction (bytes 16..24,
    // the line of the code): stored to 50 times, the loop stays translated.
    rig.program(&[store(3, 10, 1, 16), addi(10, 10, 1), blt(10, 2, -8), SPIN]);
    rig.cpu.set_xreg(1, RAM);
    rig.cpu.set_xreg(2, 50);
    rig.run(1000);
    assert_eq!(rig.x(10), 50);
    assert_eq!(rig.read_u64(RAM + 16), 49);
    assert_eq!(rig.cpu.stats().blocks_invalidated, 0);
    assert_eq!(rig.cpu.stats().blocks_translated, 2);
    assert!(rig.cpu.tlb.stats().beside_code_stores >= 48);
}

#[test]
fn a_store_into_one_block_leaves_the_other_blocks_of_its_page() {
    let mut rig = Rig::new();
    // Two subroutines on one page, each called once; then the first is
    // patched and both are called again.
    let one = RAM + 0x400;
    let two = RAM + 0x440;
    rig.load(one, &[addi(10, 0, 1), jalr(0, 1, 0)]);
    rig.load(two, &[addi(11, 0, 2), jalr(0, 1, 0)]);
    rig.program(&[
        jal(1, 0x400),     // call one
        jal(1, 0x440 - 4), // call two
        store(2, 3, 2, 0), // patch one's first instruction
        jal(1, 0x400 - 12),
        jal(1, 0x440 - 16),
        SPIN,
    ]);
    rig.cpu.set_xreg(2, one);
    rig.cpu.set_xreg(3, u64::from(addi(10, 0, 9)));
    // Both calls, up to the patch.
    rig.run(6);
    assert_eq!((rig.x(10), rig.x(11)), (1, 2));
    let before = rig.cpu.stats().blocks_invalidated;
    rig.run(20);
    assert_eq!((rig.x(10), rig.x(11)), (9, 2));
    // Only the blocks holding `one`'s first instruction went: the call
    // into it (translation follows `jal`) and `one` itself.
    let gone = rig.cpu.stats().blocks_invalidated - before;
    assert!((1..=2).contains(&gone), "{gone} blocks invalidated");
}

#[test]
fn a_store_by_one_hart_invalidates_another_harts_blocks() {
    let mut rig = Rig::new();
    let space = rig.space();
    let mut other = new_cpu(
        CpuConfig {
            hart_id: 1,
            ..CpuConfig::default()
        },
        &mut rig.mem,
        space,
        rig.clock.clone(),
    );
    // Hart 0 translates and runs a subroutine that sets x10 = 1.
    let sub = RAM + 0x2000;
    rig.load(sub, &[addi(10, 0, 1), SPIN]);
    rig.cpu.set_pc(sub);
    rig.run(5);
    assert_eq!(rig.x(10), 1);
    // Hart 1 patches it with an ordinary store.
    rig.load(RAM + 0x3000, &[store(2, 2, 1, 0), SPIN]);
    other.reset(RAM + 0x3000);
    other.set_xreg(1, sub);
    other.set_xreg(2, u64::from(addi(10, 0, 7)));
    other.run(&mut rig.mem, 5);
    // Hart 0 runs the subroutine again and sees the new code.
    rig.cpu.set_pc(sub);
    rig.run(5);
    assert_eq!(rig.x(10), 7);
    // Hart 1 stores beside the code, on the same page: hart 0's block stays.
    let translated = rig.cpu.stats().blocks_translated;
    other.reset(RAM + 0x3000);
    other.set_xreg(1, sub + 0x80);
    other.run(&mut rig.mem, 5);
    assert_eq!(other.stats().blocks_invalidated, 0);
    rig.cpu.set_pc(sub);
    rig.run(5);
    assert_eq!(rig.x(10), 7);
    assert_eq!(rig.cpu.stats().blocks_translated, translated);
}

#[test]
fn an_instruction_straddling_two_pages_is_invalidated_by_a_write_to_either() {
    let mut rig = Rig::new();
    let start = RAM + 0x1ffc;
    // c.nop at 0x1ffc, then a 32-bit `addi x10, x0, 1` at 0x1ffe whose upper
    // half lives on the next page, then a spin.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0x0001u16.to_le_bytes());
    bytes.extend_from_slice(&addi(10, 0, 1).to_le_bytes());
    bytes.extend_from_slice(&SPIN.to_le_bytes());
    let space = rig.space();
    rig.mem
        .write(space, GuestAddress(start), &bytes, MemTxAttrs::default())
        .unwrap();
    let straddler = start + 2;
    assert_eq!(
        straddler + 2,
        RAM + 0x2000,
        "the upper half starts the next page"
    );
    rig.cpu.set_pc(start);
    rig.run(4);
    assert_eq!(rig.x(10), 1);
    // Rewrite only the upper half (on the second page): imm 1 -> imm 9.
    let patched = addi(10, 0, 9);
    rig.mem
        .write(
            space,
            GuestAddress(straddler + 2),
            &((patched >> 16) as u16).to_le_bytes(),
            MemTxAttrs::default(),
        )
        .unwrap();
    rig.cpu.set_pc(start);
    rig.run(4);
    assert_eq!(rig.x(10), 9);
}

#[test]
fn a_followed_jal_keeps_precise_pcs_and_sees_patched_targets() {
    let mut rig = Rig::new();
    // `jal` to a subroutine on the same page: translation follows it, so the
    // call and the subroutine's body are one block.
    let sub = RAM + 0x800;
    rig.load(sub, &[auipc(5, 0), EBREAK]);
    rig.program(&[addi(6, 0, 1), jal(1, 0x800 - 4)]);
    rig.run(10);
    assert_eq!(rig.x(6), 1);
    assert_eq!(rig.x(1), RAM + 8, "link register");
    assert_eq!(rig.x(5), sub, "auipc sees its own pc");
    assert_eq!(rig.csr(crate::csr::addr::MEPC), sub + 4, "ebreak's pc");
    assert_eq!(rig.csr(crate::csr::addr::MCAUSE), 3);
    let translated = rig.cpu.stats().blocks_translated;
    // Patch the followed subroutine from outside, run the call again: the
    // block holding the call was registered on the subroutine's page too.
    rig.load(sub, &[addi(5, 0, 42), EBREAK]);
    rig.cpu.set_pc(RAM);
    rig.run(10);
    assert_eq!(rig.x(5), 42);
    assert!(rig.cpu.stats().blocks_translated > translated);
}

#[test]
fn a_followed_jal_into_the_block_itself_is_not_unrolled() {
    let mut rig = Rig::new();
    // `j` back to the block's own start: the block ends there (and chains to
    // itself) instead of repeating its body.
    rig.program(&[addi(10, 10, 1), jal(0, -4)]);
    rig.run(1001);
    assert_eq!(rig.x(10), 501);
    assert_eq!(rig.cpu.stats().blocks_translated, 1);
}

#[test]
fn code_translated_beside_code_on_its_line_is_still_protected() {
    let mut rig = Rig::new();
    // A loop writes an instruction word to RAM + 24, on the line of its own
    // code (stores there go past the slow path), then runs it.
    rig.load(
        RAM,
        &[
            store(2, 3, 1, 24),
            addi(5, 5, 1),
            blt(5, 6, -8),
            jal(0, 12), // to RAM + 24
            SPIN,
            SPIN,
            NOP, // overwritten by the loop
            SPIN,
        ],
    );
    rig.cpu.set_xreg(1, RAM);
    rig.cpu.set_xreg(3, u64::from(addi(10, 0, 1)));
    rig.cpu.set_xreg(6, 20);
    rig.run(200);
    assert_eq!(rig.x(10), 1);
    assert!(rig.cpu.tlb.stats().beside_code_stores > 0);
    // Again with another word: RAM + 24 now holds translated code, so the
    // first store must drop that block.
    rig.cpu.set_xreg(3, u64::from(addi(10, 0, 2)));
    rig.cpu.set_xreg(5, 0);
    rig.cpu.set_pc(RAM);
    rig.run(200);
    assert_eq!(rig.x(10), 2, "the rewritten instruction ran");
}
