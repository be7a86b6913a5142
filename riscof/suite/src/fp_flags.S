# Double and single precision results and their exception flags.
#include "model_test.h"
#include "arch_test.h"
RVTEST_ISA("RV64IFD")

.section .text.init
.globl rvtest_entry_point
rvtest_entry_point:
RVMODEL_BOOT
RVTEST_CODE_BEGIN
#ifdef TEST_CASE_1
RVTEST_CASE(0,"//check ISA:=regex(.*64.*);check ISA:=regex(.*I.*F.*D.*);def TEST_CASE_1=True;",fp_flags)
RVTEST_SIGBASE(x1, signature_x1_1)
  la x8, rvtest_data
  fld f1, 0(x8)         # 1.0
  fld f2, 8(x8)         # 3.0
  fld f3, 16(x8)        # 0.0
  fdiv.d f4, f1, f2;    RVTEST_SIGUPD_F(x1, f4, 0)
  frflags x4;           RVTEST_SIGUPD(x1, x4, 8)
  fsflags x0
  fdiv.d f4, f1, f3;    RVTEST_SIGUPD_F(x1, f4, 16)
  frflags x4;           RVTEST_SIGUPD(x1, x4, 24)
  fsflags x0
  fdiv.d f4, f3, f3;    RVTEST_SIGUPD_F(x1, f4, 32)
  frflags x4;           RVTEST_SIGUPD(x1, x4, 40)
  fsflags x0
  fsqrt.d f4, f2;       RVTEST_SIGUPD_F(x1, f4, 48)
  fcvt.s.d f5, f4, rtz
  fmv.x.w x4, f5;       RVTEST_SIGUPD(x1, x4, 56)
  frflags x4;           RVTEST_SIGUPD(x1, x4, 64)
  fsflags x0
  fmadd.d f4, f2, f2, f1, rdn; RVTEST_SIGUPD_F(x1, f4, 72)
  fcvt.w.d x4, f4, rup; RVTEST_SIGUPD(x1, x4, 80)
  fclass.d x4, f4;      RVTEST_SIGUPD(x1, x4, 88)
  csrr x4, fcsr;        RVTEST_SIGUPD(x1, x4, 96)
#endif
RVTEST_CODE_END
RVMODEL_HALT

RVTEST_DATA_BEGIN
.align 4
rvtest_data:
  .double 1.0
  .double 3.0
  .double 0.0
RVTEST_DATA_END

RVMODEL_DATA_BEGIN
signature_x1_1:
  .fill 14, 8, 0xdeadbeefdeadbeef
trap_signature:
  .fill 4, 8, 0xdeadbeefdeadbeef
RVMODEL_DATA_END
