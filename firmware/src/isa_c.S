/* Every RV64C integer encoding, written with explicit c.* mnemonics. Results go to out[] (a0). */
    .option rvc
    .text
    .globl run_c_tests
    .balign 4
#define R(i) sd a1, (i)*8(s1)
run_c_tests:
    addi    sp, sp, -64
    sd      s0, 0(sp)
    sd      s1, 8(sp)
    sd      ra, 16(sp)
    mv      s1, a0

    /* CI: c.li, c.addi, c.addiw, c.lui, c.slli, c.nop */
    c.li    a1, -32
    R(0)
    c.li    a1, 31
    R(1)
    c.li    a1, 10
    c.addi  a1, -1
    R(2)
    li      a1, 0x7fffffff
    c.addiw a1, 1
    R(3)
    li      a1, 0x180000000
    c.addiw a1, 0
    R(4)
    c.lui   a1, 0x1f
    R(5)
    c.lui   a1, 0xfffe0
    R(6)
    c.li    a1, 1
    c.slli  a1, 63
    R(7)
    c.nop
    /* CB: c.srli, c.srai, c.andi */
    li      a1, -16
    c.srli  a1, 60
    R(8)
    li      a1, -256
    c.srai  a1, 4
    R(9)
    li      a1, 0x1234
    c.andi  a1, -16
    R(10)
    li      a1, 0x1234
    c.andi  a1, 0xf
    R(11)
    /* CA: c.sub, c.xor, c.or, c.and, c.subw, c.addw */
    li      a1, 100
    li      a2, 142
    c.sub   a1, a2
    R(12)
    li      a1, 0xff00
    li      a2, 0x0ff0
    c.xor   a1, a2
    R(13)
    li      a1, 0xff00
    c.or    a1, a2
    R(14)
    li      a1, 0xff00
    c.and   a1, a2
    R(15)
    li      a1, 0
    li      a2, 0x80000000
    c.subw  a1, a2
    R(16)
    li      a1, 0x7fffffff
    li      a2, 0x100000001
    c.addw  a1, a2
    R(17)
    /* CR: c.mv, c.add */
    li      a2, 0x55aa
    c.mv    a1, a2
    R(18)
    li      a1, -1
    c.add   a1, a2
    R(19)
    /* stack forms: c.addi16sp, c.addi4spn, c.swsp/c.lwsp, c.sdsp/c.ldsp */
    mv      t0, sp
    c.addi16sp sp, -64
    sub     a1, sp, t0
    c.addi16sp sp, 64
    R(20)
    c.addi4spn a1, sp, 8
    sub     a1, a1, sp
    R(21)
    li      t1, 0xfffffffffedcba98
    c.swsp  t1, 4(sp)
    c.lwsp  a1, 4(sp)
    R(22)
    li      t1, 0x0123456789abcdef
    c.sdsp  t1, 24(sp)
    c.ldsp  a1, 24(sp)
    R(23)
    /* register-based loads and stores: c.sw/c.lw (sign-extend), c.sd/c.ld */
    addi    a2, sp, 32
    li      a3, 0x80000001
    c.sw    a3, 4(a2)
    c.lw    a1, 4(a2)
    R(24)
    li      a3, 0x7766554433221100
    c.sd    a3, 8(a2)
    c.ld    a1, 8(a2)
    R(25)
    /* control flow: c.j, c.beqz, c.bnez, c.jr, c.jalr */
    c.li    a1, 0
    c.j     1f
    c.li    a1, 9
1:  R(26)
    c.li    a2, 0
    c.li    a1, 1
    c.beqz  a2, 2f
    c.li    a1, 9
2:  c.bnez  a2, 3f
    c.addi  a1, 1
3:  R(27)
    la      t0, 4f
    c.li    a1, 5
    c.jr    t0
    c.li    a1, 9
4:  R(28)
    la      t0, 5f
    c.jalr  t0
6:  sub     a1, a1, ra
    j       7f
5:  la      a1, 6b
    c.jr    ra
7:  R(29)
    /* encoding length: one c.addi is 2 bytes */
8:  c.addi  a1, 1
9:  la      a1, 8b
    la      a2, 9b
    sub     a1, a2, a1
    R(30)

    ld      s0, 0(sp)
    ld      s1, 8(sp)
    ld      ra, 16(sp)
    addi    sp, sp, 64
    ret
