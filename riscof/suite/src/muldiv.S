# Multiplication and division, including division by zero and overflow.
#include "model_test.h"
#include "arch_test.h"
RVTEST_ISA("RV64IM")

.section .text.init
.globl rvtest_entry_point
rvtest_entry_point:
RVMODEL_BOOT
RVTEST_CODE_BEGIN
#ifdef TEST_CASE_1
RVTEST_CASE(0,"//check ISA:=regex(.*64.*);check ISA:=regex(.*I.*M.*);def TEST_CASE_1=True;",muldiv)
RVTEST_SIGBASE(x1, signature_x1_1)
  li x2, 0x8000000000000000
  li x3, -1
  li x9, 0x123456789abcdef1
  mul x4, x9, x9;     RVTEST_SIGUPD(x1, x4, 0)
  mulh x4, x9, x3;    RVTEST_SIGUPD(x1, x4, 8)
  mulhu x4, x9, x3;   RVTEST_SIGUPD(x1, x4, 16)
  mulhsu x4, x3, x9;  RVTEST_SIGUPD(x1, x4, 24)
  mulw x4, x9, x9;    RVTEST_SIGUPD(x1, x4, 32)
  div x4, x2, x3;     RVTEST_SIGUPD(x1, x4, 40)
  rem x4, x2, x3;     RVTEST_SIGUPD(x1, x4, 48)
  div x4, x9, x0;     RVTEST_SIGUPD(x1, x4, 56)
  remu x4, x9, x0;    RVTEST_SIGUPD(x1, x4, 64)
  li x5, -7
  li x6, 2
  div x4, x5, x6;     RVTEST_SIGUPD(x1, x4, 72)
  rem x4, x5, x6;     RVTEST_SIGUPD(x1, x4, 80)
  divuw x4, x5, x6;   RVTEST_SIGUPD(x1, x4, 88)
  remw x4, x5, x0;    RVTEST_SIGUPD(x1, x4, 96)
#endif
RVTEST_CODE_END
RVMODEL_HALT

RVTEST_DATA_BEGIN
rvtest_data:
  .word 0xbabecafe
RVTEST_DATA_END

RVMODEL_DATA_BEGIN
signature_x1_1:
  .fill 14, 8, 0xdeadbeefdeadbeef
trap_signature:
  .fill 4, 8, 0xdeadbeefdeadbeef
RVMODEL_DATA_END
