/* Trap test helpers: a vectored mtvec table and instructions whose encodings the test checks. */
    .text
    .balign 256
    .globl vector_table
vector_table:
    .option push
    .option norvc
    j       m_trap_entry        /* 0: exceptions go to BASE */
    j       vec_s_soft          /* 1: supervisor software interrupt at BASE + 4 */
    .rept 14
    j       m_trap_entry
    .endr
    .option pop

/* Needs no register: the test sees mie.SSIE and mip.SSIP both cleared. */
vec_s_soft:
    csrci   mie, 2
    csrci   mip, 2
    mret

    .globl illegal_custom0, illegal_custom0_insn
illegal_custom0:
    .option push
    .option norvc
illegal_custom0_insn:
    .word   0x0000600b          /* custom-0 opcode: illegal here */
    ret
    .option pop

    .globl illegal_c_zero, illegal_c_zero_insn
illegal_c_zero:
illegal_c_zero_insn:
    .half   0x0000              /* all-zero 16-bit parcel: defined illegal */
    ret

    .globl illegal_csrw_cycle, illegal_csrw_cycle_insn
illegal_csrw_cycle:
    .option push
    .option norvc
illegal_csrw_cycle_insn:
    csrw    cycle, x0           /* 0xc0001073 */
    ret
    .option pop

    .globl do_ebreak, do_ebreak_insn
do_ebreak:
    .option push
    .option norvc
do_ebreak_insn:
    ebreak
    ret
    .option pop

    .globl do_c_ebreak, do_c_ebreak_insn
do_c_ebreak:
    .option push
    .option rvc
do_c_ebreak_insn:
    c.ebreak
    ret
    .option pop

    .globl do_ecall, do_ecall_insn
do_ecall:
    li      a7, 0
do_ecall_insn:
    ecall
    ret

/* uint64_t s_sret_to_label(void): in S, sret to the label just after; returns 1 if it got there. */
    .globl s_sret_to_label
s_sret_to_label:
    la      t0, 1f
    csrw    sepc, t0
    li      t1, 1 << 8          /* SPP = S */
    csrs    sstatus, t1
    li      a0, 0
    sret
    li      a0, 9               /* skipped if sret trapped and was stepped over */
    ret
1:  li      a0, 1
    ret

/* void m_mret_to_label(void): in M, mret with MPP = M to the label just after. */
    .globl m_mret_to_label
m_mret_to_label:
    la      t0, 1f
    csrw    mepc, t0
    li      t1, 3 << 11
    csrs    mstatus, t1
    mret
1:  ret
