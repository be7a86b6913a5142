/* Entry, stacks and trap entries shared by every guest program. */
#include "frame.h"

    .section .text.init, "ax"
    .option norvc
    .globl _start
_start:
    /* a0 = hart id (QEMU and Ferrite reset vectors pass it; read mhartid to be sure). */
    csrr    a0, mhartid
    li      t0, MAX_HARTS
    bgeu    a0, t0, park_forever

    /* Interrupts off; an early trap lands in the M trap entry. */
    csrw    mie, zero
    csrci   mstatus, 0x8
    /* Floating point on (mstatus.FS = Initial), as firmware does before
       running C built for rv64gc; a hart without F ignores the write. */
    li      t0, 1 << 13
    csrs    mstatus, t0
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      t0, m_trap_entry
    csrw    mtvec, t0

    /* sp = top of this hart's stack; mscratch = top of this hart's M trap stack. */
    addi    t1, a0, 1
    li      t2, STACK_SIZE
    mul     t2, t2, t1
    la      sp, hart_stacks
    add     sp, sp, t2
    li      t2, TRAP_STACK_SIZE
    mul     t2, t2, t1
    la      t3, m_trap_stacks
    add     t3, t3, t2
    csrw    mscratch, t3
    la      t3, s_trap_stacks
    add     t3, t3, t2
    csrw    sscratch, t3

    bnez    a0, secondary_wait

    /* Hart 0: clear .bss, then initialise the runtime and run main. */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    runtime_init
    fence   rw, rw
    la      t0, boot_done
    li      t1, 1
    sw      t1, 0(t0)
    csrr    a0, mhartid
    call    main
    call    exit

    /* Other harts wait for hart 0, then run secondary_main if the program has one, else park. */
secondary_wait:
    la      t0, boot_done
1:  lw      t1, 0(t0)
    beqz    t1, 1b
    fence   rw, rw
    la      t0, secondary_main
    beqz    t0, park_forever
    csrr    a0, mhartid
    jalr    t0
park_forever:
    wfi
    j       park_forever

    .weak secondary_main

/*
 * Trap entries. Invariant: mscratch (sscratch) holds the top of this hart's
 * M (S) trap stack whenever no trap is being handled there. The frame is
 * handed to the C handler, which may edit it (pc, status, registers) before
 * the return.
 */
    .macro SAVE_FRAME scratch
    csrrw   sp, \scratch, sp
    addi    sp, sp, -FRAME_SIZE
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\n, FRAME_X(\n)(sp)
    .endr
    csrr    t0, \scratch
    sd      t0, FRAME_X(2)(sp)
    addi    t0, sp, FRAME_SIZE
    csrw    \scratch, t0
    .endm

    .macro RESTORE_FRAME
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\n, FRAME_X(\n)(sp)
    .endr
    ld      sp, FRAME_X(2)(sp)
    .endm

    .text
    .balign 64
    .globl m_trap_entry
m_trap_entry:
    SAVE_FRAME mscratch
    csrr    t0, mepc
    sd      t0, FRAME_PC(sp)
    csrr    t0, mcause
    sd      t0, FRAME_CAUSE(sp)
    csrr    t0, mtval
    sd      t0, FRAME_TVAL(sp)
    csrr    t0, mstatus
    sd      t0, FRAME_STATUS(sp)
    mv      a0, sp
    call    m_trap_handler
    ld      t0, FRAME_PC(sp)
    csrw    mepc, t0
    ld      t0, FRAME_STATUS(sp)
    csrw    mstatus, t0
    RESTORE_FRAME
    mret

    .balign 64
    .globl s_trap_entry
s_trap_entry:
    SAVE_FRAME sscratch
    csrr    t0, sepc
    sd      t0, FRAME_PC(sp)
    csrr    t0, scause
    sd      t0, FRAME_CAUSE(sp)
    csrr    t0, stval
    sd      t0, FRAME_TVAL(sp)
    csrr    t0, sstatus
    sd      t0, FRAME_STATUS(sp)
    mv      a0, sp
    call    s_trap_handler
    ld      t0, FRAME_PC(sp)
    csrw    sepc, t0
    ld      t0, FRAME_STATUS(sp)
    csrw    sstatus, t0
    RESTORE_FRAME
    sret

/*
 * uint64_t enter_mode(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t sp)
 * Runs fn(arg) in mode (0 = U, 1 = S) on the given stack. fn comes back by
 * returning (to lower_return) or by its own ecall with a7 = LOWER_EXIT_MAGIC;
 * the M trap handler then resumes at enter_mode_resume with fn's a0.
 */
    .globl enter_mode
enter_mode:
    addi    sp, sp, -112
    sd      ra, 0(sp)
    sd      s0, 8(sp)
    sd      s1, 16(sp)
    sd      s2, 24(sp)
    sd      s3, 32(sp)
    sd      s4, 40(sp)
    sd      s5, 48(sp)
    sd      s6, 56(sp)
    sd      s7, 64(sp)
    sd      s8, 72(sp)
    sd      s9, 80(sp)
    sd      s10, 88(sp)
    sd      s11, 96(sp)
    sd      gp, 104(sp)
    csrr    t0, mhartid
    slli    t0, t0, 3
    la      t1, enter_mode_saved_sp
    add     t1, t1, t0
    sd      sp, 0(t1)
    li      t0, 3 << 11
    csrc    mstatus, t0
    andi    a0, a0, 3
    slli    a0, a0, 11
    csrs    mstatus, a0
    csrw    mepc, a1
    mv      a0, a2
    mv      sp, a3
    la      ra, lower_return
    mret

    .globl enter_mode_resume
enter_mode_resume:
    ld      ra, 0(sp)
    ld      s0, 8(sp)
    ld      s1, 16(sp)
    ld      s2, 24(sp)
    ld      s3, 32(sp)
    ld      s4, 40(sp)
    ld      s5, 48(sp)
    ld      s6, 56(sp)
    ld      s7, 64(sp)
    ld      s8, 72(sp)
    ld      s9, 80(sp)
    ld      s10, 88(sp)
    ld      s11, 96(sp)
    ld      gp, 104(sp)
    addi    sp, sp, 112
    ret

    .globl lower_return
lower_return:
    li      a7, LOWER_EXIT_MAGIC
    ecall
1:  j       1b

    .bss
    .balign 16
    .globl hart_stacks, m_trap_stacks, s_trap_stacks, enter_mode_saved_sp
hart_stacks:    .skip STACK_SIZE * MAX_HARTS
m_trap_stacks:  .skip TRAP_STACK_SIZE * MAX_HARTS
s_trap_stacks:  .skip TRAP_STACK_SIZE * MAX_HARTS
enter_mode_saved_sp: .skip 8 * MAX_HARTS

    .data
    .balign 8
    .globl boot_done
boot_done:      .word 0
