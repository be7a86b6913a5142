/*
 * A signature guest, as the architectural tests leave results: stores a few
 * computed values between begin_signature and end_signature, then exits
 * through HTIF. Runs on Ferrite's spike board and on Spike itself. The
 * signature is 40 bytes, not a multiple of 16, so Spike's default lines of
 * 16 bytes end with a padded one.
 */
    .option norelax
    .section .text.init, "ax"
    .globl _start
_start:
    la      a0, begin_signature
    li      t0, 0x0123456789abcdef
    sd      t0, 0(a0)
    li      t1, -7
    li      t2, 3
    mul     t3, t1, t2
    sd      t3, 8(a0)
    div     t3, t1, t2
    sw      t3, 16(a0)
    sb      t2, 20(a0)
    srli    t4, t0, 36
    sh      t4, 22(a0)
    addw    t5, t0, t1
    sd      t5, 24(a0)
    sd      zero, 32(a0)
    li      t0, 1
    la      t1, tohost
1:  sd      t0, 0(t1)
    j       1b

    .data
    .balign 16
    .globl begin_signature
begin_signature:
    .fill   40, 1, 0xee
    .globl end_signature
end_signature:
    .dword  0x5555555555555555      /* past the end: not in the signature */

    .section .tohost, "aw", @progbits
    .balign 64
    .globl tohost
tohost: .dword 0
    .balign 64
    .globl fromhost
fromhost: .dword 0
