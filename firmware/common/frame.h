/* Layout of the register frame saved by the trap entries (shared by C and assembly). */
#ifndef FERRITE_FRAME_H
#define FERRITE_FRAME_H

#define FRAME_X(n)      ((n) * 8)   /* x0 slot unused; x2 slot holds the interrupted sp */
#define FRAME_PC        (32 * 8)    /* mepc / sepc */
#define FRAME_CAUSE     (33 * 8)
#define FRAME_TVAL      (34 * 8)
#define FRAME_STATUS    (35 * 8)    /* mstatus / sstatus, written back on return */
#define FRAME_SIZE      (36 * 8)

#define MAX_HARTS       4
#define STACK_SIZE      16384       /* per hart, normal stack */
#define TRAP_STACK_SIZE 8192        /* per hart, M-mode and S-mode trap stacks */

/* a7 value of the ecall with which code running in S or U mode hands control back to enter_mode's caller */
#define LOWER_EXIT_MAGIC 0x4645525249 /* "FERRI" */

#endif
