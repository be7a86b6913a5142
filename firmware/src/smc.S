/* Self-modifying code. Everything here sits on its own page (.text.page), with data beside it. */
    .section .text.page, "ax"
    .option push
    .option norvc

/* uint64_t smc_loop(uint64_t n, uint64_t k): sums 1 per iteration, and after iteration k
   rewrites its own "addi a2, a2, 1" into "addi a2, a2, 2" (then fence.i). */
    .globl smc_loop, smc_patch_site
smc_loop:
    li      t0, 0
    li      a2, 0
1:
smc_patch_site:
    addi    a2, a2, 1
    addi    t0, t0, 1
    bne     t0, a1, 2f
    la      t1, smc_patch_site
    li      t2, 0x00260613          /* addi a2, a2, 2 */
    sw      t2, 0(t1)
    fence.i
2:  blt     t0, a0, 1b
    mv      a0, a2
    ret

/* uint64_t smc_ret_imm(void): "addi a0, zero, imm"; the test rewrites the immediate. */
    .globl smc_ret_imm
smc_ret_imm:
    addi    a0, zero, 0
    ret

/* void smc_bump(void): increments smc_counter, which lives on this same page. */
    .globl smc_bump, smc_counter
smc_bump:
    la      t0, smc_counter
    ld      t1, 0(t0)
    addi    t1, t1, 1
    sd      t1, 0(t0)
    ret

/* A template copied into a data buffer and run from there: returns a0 * 3 + 7. */
    .globl smc_template, smc_template_end
smc_template:
    slli    t0, a0, 1
    add     a0, a0, t0
    addi    a0, a0, 7
    ret
smc_template_end:

    .balign 8
smc_counter:
    .dword  0
    .option pop
