/* The target macros of the RISC-V architectural tests for Ferrite's spike
   board: the test halts by writing 1 to HTIF's tohost (Ferrite then exits
   0), the signature lies between begin_signature and end_signature, and the
   machine software interrupt is the CLINT's msip of hart 0. */
#ifndef FERRITE_MODEL_TEST_H
#define FERRITE_MODEL_TEST_H

#define FERRITE_CLINT_MSIP 0x02000000

#define RVMODEL_DATA_SECTION                                                  \
  .pushsection .tohost, "aw", @progbits;                                      \
  .align 8; .global tohost; tohost: .dword 0;                                 \
  .align 8; .global fromhost; fromhost: .dword 0;                             \
  .popsection;                                                                \
  .align 8; .global begin_regstate; begin_regstate: .word 128;                \
  .align 8; .global end_regstate; end_regstate: .word 4;

/* Halt: tell the front end the test is over, and wait for it to stop us. */
#define RVMODEL_HALT                                                          \
  li x1, 1;                                                                   \
  ferrite_halt:                                                               \
    sw x1, tohost, t5;                                                        \
    j ferrite_halt;

#define RVMODEL_BOOT

#define RVMODEL_DATA_BEGIN                                                    \
  RVMODEL_DATA_SECTION                                                        \
  .align 4; .global begin_signature; begin_signature:

#define RVMODEL_DATA_END                                                      \
  .align 4; .global end_signature; end_signature:

/* No console output from the tests. */
#define RVMODEL_IO_INIT
#define RVMODEL_IO_WRITE_STR(_R, _STR)
#define RVMODEL_IO_CHECK()
#define RVMODEL_IO_ASSERT_GPR_EQ(_S, _R, _I)
#define RVMODEL_IO_ASSERT_SFPR_EQ(_F, _R, _I)
#define RVMODEL_IO_ASSERT_DFPR_EQ(_D, _R, _I)

#define RVMODEL_SET_MSW_INT                                                   \
  li t1, 1;                                                                   \
  li t2, FERRITE_CLINT_MSIP;                                                  \
  sw t1, 0(t2);

#define RVMODEL_CLEAR_MSW_INT                                                 \
  li t2, FERRITE_CLINT_MSIP;                                                  \
  sw x0, 0(t2);

#define RVMODEL_CLEAR_MTIMER_INT
#define RVMODEL_CLEAR_MEXT_INT

#endif
