/* The test-side macros of this repository's own small architectural suite,
   in the shape of the RISC-V architectural tests (RVTEST_*), so that
   RISCOF and the Ferrite plugin handle it as they handle the real suite.
   Only what these tests use: a trap handler that records mcause, mepc and
   mtval in the trap signature and resumes after the faulting
   instruction, and 64-bit signature updates. */
#ifndef FERRITE_ARCH_TEST_H
#define FERRITE_ARCH_TEST_H

/* Read by RISCOF's test-list builder, not by the assembler. */
#define RVTEST_ISA(_isa)
#define RVTEST_CASE(_n, _cond, ...)

#define RVTEST_CODE_BEGIN                                                     \
  la t0, ferrite_trap_handler;                                                \
  csrw mtvec, t0;                                                             \
  la t0, trap_signature;                                                      \
  csrw mscratch, t0;                                                          \
  li t0, 0x2000; /* mstatus.FS = Initial */                                   \
  csrs mstatus, t0;                                                           \
  csrwi 0x003, 0; /* fcsr, by number: F may be absent */                     \
  j rvtest_code_begin;                                                        \
  .align 4;                                                                   \
ferrite_trap_handler:                                                         \
  csrrw t6, mscratch, t6;                                                     \
  sd t5, 24(t6);                                                              \
  csrr t5, mcause; sd t5, 0(t6);                                              \
  csrr t5, mepc;   sd t5, 8(t6);                                              \
  csrr t5, mtval;  sd t5, 16(t6);                                             \
  csrr t5, mepc;                                                              \
  addi t5, t5, 4;  /* every trapping instruction here is 4 bytes */           \
  csrw mepc, t5;                                                              \
  ld t5, 24(t6);                                                              \
  sd x0, 24(t6);                                                              \
  addi t6, t6, 32;                                                            \
  csrrw t6, mscratch, t6;                                                     \
  mret;                                                                       \
rvtest_code_begin:

#define RVTEST_CODE_END rvtest_code_end:

#define RVTEST_DATA_BEGIN .data; .align 4; .global rvtest_data_begin; rvtest_data_begin:
#define RVTEST_DATA_END .global rvtest_data_end; rvtest_data_end:

#define RVTEST_SIGBASE(_R, _TAG) la _R, _TAG
#define RVTEST_SIGUPD(_BR, _R, _OFF) sd _R, _OFF(_BR)
#define RVTEST_SIGUPD_F(_BR, _F, _OFF) fsd _F, _OFF(_BR)

#endif
