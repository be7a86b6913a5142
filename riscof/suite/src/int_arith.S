# Integer arithmetic, logic and shifts at the edges of their ranges.
#include "model_test.h"
#include "arch_test.h"
RVTEST_ISA("RV64I")

.section .text.init
.globl rvtest_entry_point
rvtest_entry_point:
RVMODEL_BOOT
RVTEST_CODE_BEGIN
#ifdef TEST_CASE_1
RVTEST_CASE(0,"//check ISA:=regex(.*64.*);check ISA:=regex(.*I.*);def TEST_CASE_1=True;",int_arith)
RVTEST_SIGBASE(x1, signature_x1_1)
  li x2, 0x7fffffffffffffff
  li x3, 1
  add x4, x2, x3;   RVTEST_SIGUPD(x1, x4, 0)
  sub x4, x3, x2;   RVTEST_SIGUPD(x1, x4, 8)
  addw x4, x2, x3;  RVTEST_SIGUPD(x1, x4, 16)
  li x5, 0x80000000
  subw x4, x0, x5;  RVTEST_SIGUPD(x1, x4, 24)
  li x6, -1
  sra x4, x6, x3;   RVTEST_SIGUPD(x1, x4, 32)
  srl x4, x6, x3;   RVTEST_SIGUPD(x1, x4, 40)
  li x7, 65
  sll x4, x3, x7;   RVTEST_SIGUPD(x1, x4, 48)
  sraiw x4, x5, 31; RVTEST_SIGUPD(x1, x4, 56)
  slt x4, x2, x6;   RVTEST_SIGUPD(x1, x4, 64)
  sltu x4, x2, x6;  RVTEST_SIGUPD(x1, x4, 72)
  xori x4, x2, -1;  RVTEST_SIGUPD(x1, x4, 80)
  lui x4, 0x80000;  RVTEST_SIGUPD(x1, x4, 88)
  RVTEST_SIGUPD(x1, x7, 96)
  la x8, rvtest_data
  lb x4, 3(x8);     RVTEST_SIGUPD(x1, x4, 104)
  lhu x4, 2(x8);    RVTEST_SIGUPD(x1, x4, 112)
  lwu x4, 0(x8);    RVTEST_SIGUPD(x1, x4, 120)
#endif
RVTEST_CODE_END
RVMODEL_HALT

RVTEST_DATA_BEGIN
.align 4
rvtest_data:
  .word 0xbabecafe
  .word 0x01234567
RVTEST_DATA_END

RVMODEL_DATA_BEGIN
signature_x1_1:
  .fill 16, 8, 0xdeadbeefdeadbeef
trap_signature:
  .fill 4, 8, 0xdeadbeefdeadbeef
RVMODEL_DATA_END
