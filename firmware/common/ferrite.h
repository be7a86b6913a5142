/*
 * Runtime shared by every Ferrite guest program: console, exit, CSR access,
 * trap recording and a tiny check framework. See firmware/README.md.
 */
#ifndef FERRITE_H
#define FERRITE_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include "frame.h"

/* ---- board ---- */
#define UART0_BASE      0x10000000UL
#define FINISHER_BASE   0x100000UL
#define CLINT_BASE      0x2000000UL
#define CLINT_MSIP(h)   (CLINT_BASE + 4 * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000 + 8 * (h))
#define CLINT_MTIME     (CLINT_BASE + 0xbff8)
#define PLIC_BASE       0xc000000UL
#define RAM_BASE        0x80000000UL

enum board { BOARD_VIRT = 1, BOARD_HTIF = 2 };
extern enum board board;            /* set by runtime_init before main */
static inline int have_uart(void) { return board == BOARD_VIRT; }

/* ---- exit codes ---- */
#define EXIT_UNEXPECTED_TRAP 222    /* an exception nobody expected */
#define EXIT_CHECK_MAX       199    /* a failed check exits with its ordinal, at most this */

/* ---- MMIO ---- */
#define MMIO8(a)  (*(volatile uint8_t  *)(uintptr_t)(a))
#define MMIO32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define MMIO64(a) (*(volatile uint64_t *)(uintptr_t)(a))

/* ---- CSRs ---- */
#define STR_(x) #x
#define STR(x) STR_(x)
#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " STR(csr) : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, val) ({ __asm__ volatile("csrw " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory"); })
#define csr_set(csr, val) ({ __asm__ volatile("csrs " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory"); })
#define csr_clear(csr, val) ({ __asm__ volatile("csrc " STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory"); })
#define csr_swap(csr, val) ({ uint64_t v_; __asm__ volatile("csrrw %0, " STR(csr) ", %1" : "=r"(v_) : "rK"((uint64_t)(val)) : "memory"); v_; })

/* CSR numbers the assembler may not know by name */
#define CSR_MENVCFG   0x30a
#define CSR_SENVCFG   0x10a
#define CSR_STIMECMP  0x14d

#define MSTATUS_SIE   (1UL << 1)
#define MSTATUS_MIE   (1UL << 3)
#define MSTATUS_SPIE  (1UL << 5)
#define MSTATUS_MPIE  (1UL << 7)
#define MSTATUS_SPP   (1UL << 8)
#define MSTATUS_MPP   (3UL << 11)
#define MSTATUS_MPRV  (1UL << 17)
#define MSTATUS_SUM   (1UL << 18)
#define MSTATUS_MXR   (1UL << 19)
#define MSTATUS_TVM   (1UL << 20)
#define MSTATUS_TW    (1UL << 21)
#define MSTATUS_TSR   (1UL << 22)

#define IRQ_S_SOFT 1
#define IRQ_M_SOFT 3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT 9
#define IRQ_M_EXT 11
#define MIP_SSIP (1UL << IRQ_S_SOFT)
#define MIP_MSIP (1UL << IRQ_M_SOFT)
#define MIP_STIP (1UL << IRQ_S_TIMER)
#define MIP_MTIP (1UL << IRQ_M_TIMER)
#define MIP_SEIP (1UL << IRQ_S_EXT)
#define MIP_MEIP (1UL << IRQ_M_EXT)
#define CAUSE_INTERRUPT (1UL << 63)

enum exc_cause {
    CAUSE_MISALIGNED_FETCH = 0, CAUSE_FETCH_ACCESS = 1, CAUSE_ILLEGAL_INSN = 2,
    CAUSE_BREAKPOINT = 3, CAUSE_MISALIGNED_LOAD = 4, CAUSE_LOAD_ACCESS = 5,
    CAUSE_MISALIGNED_STORE = 6, CAUSE_STORE_ACCESS = 7, CAUSE_ECALL_U = 8,
    CAUSE_ECALL_S = 9, CAUSE_ECALL_M = 11, CAUSE_FETCH_PAGE_FAULT = 12,
    CAUSE_LOAD_PAGE_FAULT = 13, CAUSE_STORE_PAGE_FAULT = 15,
};

enum priv_mode { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* ---- traps ---- */
struct trap_frame { uint64_t x[32]; uint64_t pc, cause, tval, status; };

/*
 * What the last expected trap looked like. Armed with trap_arm(); while
 * armed, every exception is recorded here and execution resumes at
 * `resume_pc` if set, else at the return address (x1) for instruction-fetch
 * faults, else after the faulting instruction.
 */
struct trap_record {
    volatile uint64_t armed, count, cause, epc, tval, prev_priv, resume_pc;
};
extern struct trap_record m_trap_rec[MAX_HARTS];  /* traps taken in M mode */
extern struct trap_record s_trap_rec[MAX_HARTS];  /* traps taken in S mode (delegated) */

/* Optional interrupt hooks; return nonzero when the interrupt was handled. */
extern int (*m_irq_hook)(struct trap_frame *f);
extern int (*s_irq_hook)(struct trap_frame *f);
/* Optional M exception hook, asked first; returns nonzero when it handled the exception (and set f->pc). */
extern int (*m_exc_hook)(struct trap_frame *f);

uint64_t hartid(void);
void trap_arm(void);                 /* arm the M record of this hart */
void trap_disarm(void);
void strap_arm(void);                /* arm the S record of this hart (handler must be installed) */
void strap_disarm(void);
void install_s_trap_vector(void);    /* stvec = s_trap_entry */
extern char m_trap_entry[], s_trap_entry[], lower_return[];

/* Runs fn(arg) in U (mode 0) or S (mode 1) on `stack_top`; returns fn's result. */
uint64_t enter_mode(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t stack_top);
/* A lower-mode stack per hart, usable by enter_mode. */
uint64_t lower_stack_top(void);
/* Hand control back to M from S or U without returning (works from any page). */
#define LOWER_EXIT(v) do { register uint64_t a0_ __asm__("a0") = (v); \
    register uint64_t a7_ __asm__("a7") = LOWER_EXIT_MAGIC; \
    __asm__ volatile("ecall" :: "r"(a0_), "r"(a7_) : "memory"); __builtin_unreachable(); } while (0)

/* ---- console and exit ---- */
void putchar_(int c);
void puts_(const char *s);           /* prints s and a newline */
void print_str(const char *s);
void print_hex(uint64_t v);          /* 0x%016lx */
void print_dec(int64_t v);
void print_udec(uint64_t v);
void printf_(const char *fmt, ...);  /* %s %c %d %u %x %lx %ld %lu %p %%, with l/ll, width and 0 */
__attribute__((noreturn)) void exit(int code);

/* ---- checks ---- */
extern const char prog_name[];
/* Every program names itself once: PROGRAM("isa_int"); */
#define PROGRAM(name) const char prog_name[] = name
extern unsigned check_count;
void check_impl(int ok, const char *name, int line);
void check_eq_impl(uint64_t got, uint64_t want, const char *name, int line);
#define CHECK(cond, name) check_impl(!!(cond), (name), __LINE__)
#define CHECK_EQ(got, want, name) check_eq_impl((uint64_t)(got), (uint64_t)(want), (name), __LINE__)
__attribute__((noreturn)) void pass(void);
#define PASS() pass()
void section(const char *title);     /* prints "== title" */

/* ---- small helpers ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }
static inline void sfence_vma(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static inline uint64_t rdcycle(void) { return csr_read(mcycle); }
static inline uint64_t rdinstret(void) { return csr_read(minstret); }
static inline uint64_t mtime(void) { return MMIO64(CLINT_MTIME); }

/*
 * Sleep until an interrupt enabled in mie is pending, then take it. wfi runs with mstatus.MIE
 * clear (it still wakes), so an interrupt arriving just before the wfi cannot be lost;
 * MIE is then opened for one instruction. Call in M mode with MIE clear.
 */
static inline void wfi_then_take_interrupt(void)
{
    __asm__ volatile("wfi\n\tcsrsi mstatus, 8\n\tcsrci mstatus, 8" ::: "memory");
}

#endif
