/*
 * A guest for the commit-log golden test: runs on Ferrite's spike board and
 * on Spike itself (no devices, HTIF exit), and touches every kind of
 * commit-log item: integer and compressed instructions, loads and stores of
 * every width, AMOs and LR/SC, CSR writes with Spike's side effects,
 * floating point (FS Initial to Dirty, raised flags, loads, stores, moves),
 * an ecall, an illegal instruction, a software interrupt and wfi.
 */
    .option norelax
    .option norelax
    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    la      t0, trap_vector
    csrw    mtvec, t0
    li      t0, 0x2000              /* FS = Initial */
    csrs    mstatus, t0
    csrwi   mscratch, 7
    csrr    a0, mscratch

integer:
    li      a0, 5
    li      a1, -3
    add     a2, a0, a1
    sub     a3, a0, a1
    mul     a4, a0, a1
    div     a5, a4, a1
    slli    a6, a0, 40
    sraiw   a7, a6, 3
    lui     s2, 0x80000
    auipc   s3, 0
    sltu    s4, a1, a0
    xori    s5, a0, -1
    .option rvc
    c.li    s0, 12
    c.addi  s0, -2
    c.mv    s1, s0
    c.add   s1, s0
    c.slli  s1, 3
    c.nop
    .option norvc

memory:
    la      s0, data
    li      t0, 0x1122334455667788
    sd      t0, 0(s0)
    sw      t0, 8(s0)
    sh      t0, 12(s0)
    sb      t0, 14(s0)
    ld      t1, 0(s0)
    lw      t2, 8(s0)
    lhu     t3, 12(s0)
    lb      t4, 14(s0)
    .option rvc
    c.ld    a0, 0(s0)
    c.sd    a0, 16(s0)
    .option norvc
    li      t0, 9
    amoadd.d t1, t0, (s0)
    amoswap.w.aq t2, t0, (s0)
    amomax.w x0, t0, (s0)
    lr.d    t3, (s0)
    sc.d    t4, t0, (s0)
    sc.d    t5, t0, (s0)

csrs:
    li      t0, 0x22
    csrw    sie, t0
    csrw    mideleg, t0
    csrw    sie, t0
    csrr    t1, sie
    csrs    sstatus, 2
    csrc    sstatus, 2
    csrwi   medeleg, 0
    li      t0, 0x1ff
    csrw    medeleg, t0
    csrr    t1, medeleg
    csrw    medeleg, zero
    csrw    mideleg, zero
    csrw    sie, zero

float:
    la      s0, data
    li      t0, 3
    fcvt.d.l f1, t0
    li      t0, 0x3ff8000000000000  /* 1.5 */
    fmv.d.x f2, t0
    fadd.d  f3, f1, f2
    fdiv.d  f4, f3, f1              /* inexact */
    fsd     f4, 24(s0)
    fld     f5, 24(s0)
    flw     f6, 24(s0)
    feq.d   t1, f4, f5
    fcvt.w.d t2, f4, rtz            /* inexact again */
    fmv.x.d t3, f3
    csrr    t4, fflags
    fsflags t5, zero
    fsrmi   2
    fcsr_write:
    li      t0, 0x41
    fscsr   t1, t0
    frcsr   t2
    fmin.d  f0, f1, f2

traps:
    ecall
    unimp                           /* illegal: a write to cycle */
    csrr    t0, mcause

interrupt:
    li      t0, 2                   /* SSIP */
    csrs    mie, t0
    csrs    mip, t0
    csrsi   mstatus, 8              /* MIE: taken after this instruction */
    nop
    csrsi   mip, 2                  /* pending and enabled, MIE off: */
    wfi                             /* wakes at once */
    csrci   mip, 2
    csrc    mie, t0

pass:
    li      t0, 1
    la      t1, tohost
1:  sd      t0, 0(t1)
    j       1b

    .balign 4
trap_vector:
    csrr    t6, mcause
    bltz    t6, irq
    csrr    t6, mepc
    addi    t6, t6, 4
    csrw    mepc, t6
    mret
irq:
    csrci   mip, 2
    li      t6, 0x80                /* MPIE off: mret leaves MIE off */
    csrc    mstatus, t6
    li      t6, 0x1800              /* return in M-mode */
    csrs    mstatus, t6
    mret

    .data
    .balign 64
data:
    .dword  0, 0, 0, 0

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost: .dword 0
    .balign 64
    .globl fromhost
fromhost: .dword 0
