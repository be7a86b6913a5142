# Exceptions: ecall, ebreak, an illegal instruction and an access to an
# unmapped address, each recorded by the trap handler (mcause, mepc - the
# code's base, mtval).
#include "model_test.h"
#include "arch_test.h"
RVTEST_ISA("RV64I_Zicsr")

.section .text.init
.globl rvtest_entry_point
rvtest_entry_point:
RVMODEL_BOOT
RVTEST_CODE_BEGIN
#ifdef TEST_CASE_1
RVTEST_CASE(0,"//check ISA:=regex(.*64.*);check ISA:=regex(.*I.*Zicsr.*);def TEST_CASE_1=True;",traps)
RVTEST_SIGBASE(x1, signature_x1_1)
  la x9, rvtest_code_begin
  ecall
  .option push
  .option norvc
  ebreak
  .option pop
  .word 0x0000007b      # custom-1: illegal
  li x8, 0x40000000
  ld x4, 0(x8)          # nothing at 0x40000000
  # mepc made relative to the code, so the signature does not depend on
  # where the linker put the code.
  la x8, trap_signature
  li x10, 4
1:
  ld x4, 8(x8)
  sub x4, x4, x9
  sd x4, 8(x8)
  addi x8, x8, 32
  addi x10, x10, -1
  bnez x10, 1b
  csrr x4, mcause;  RVTEST_SIGUPD(x1, x4, 0)
#endif
RVTEST_CODE_END
RVMODEL_HALT

RVTEST_DATA_BEGIN
rvtest_data:
  .word 0xbabecafe
RVTEST_DATA_END

RVMODEL_DATA_BEGIN
signature_x1_1:
  .fill 2, 8, 0xdeadbeefdeadbeef
trap_signature:
  .fill 16, 8, 0xdeadbeefdeadbeef
RVMODEL_DATA_END
