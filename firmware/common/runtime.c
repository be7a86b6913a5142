/* Console, exit, board detection, trap handlers and checks shared by every guest program. */
#include "ferrite.h"

enum board board;
struct trap_record m_trap_rec[MAX_HARTS];
struct trap_record s_trap_rec[MAX_HARTS];
int (*m_irq_hook)(struct trap_frame *f);
int (*s_irq_hook)(struct trap_frame *f);
int (*m_exc_hook)(struct trap_frame *f);
unsigned check_count;
extern uint64_t enter_mode_saved_sp[MAX_HARTS];
extern char enter_mode_resume[];

/* HTIF mailbox, found by the host through the ELF symbols (riscv-tests layout). */
volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64), used));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64), used));

static uint8_t lower_stacks[MAX_HARTS][8192] __attribute__((aligned(16)));

uint64_t hartid(void) { return csr_read(mhartid); }
uint64_t lower_stack_top(void) { return (uint64_t)(uintptr_t)&lower_stacks[hartid() + 1][0]; }

/* ---- HTIF ---- */
static void htif_send(uint64_t cmd)
{
    while (tohost != 0)
        ;
    tohost = cmd;
}

static void htif_putchar(int c)
{
    htif_send((1UL << 56) | (1UL << 48) | (uint8_t)c);
    while (fromhost == 0)
        ;
    fromhost = 0;
}

/* ---- NS16550 ---- */
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static void uart_putchar(int c)
{
    while ((MMIO8(UART0_BASE + UART_LSR) & UART_LSR_THRE) == 0)
        ;
    MMIO8(UART0_BASE + UART_THR) = (uint8_t)c;
}

void putchar_(int c)
{
    if (board == BOARD_VIRT)
        uart_putchar(c);
    else
        htif_putchar(c);
}

void exit(int code)
{
    if (board == BOARD_VIRT) {
        MMIO32(FINISHER_BASE) = code == 0 ? 0x5555 : (((uint32_t)code << 16) | 0x3333);
    } else {
        htif_send(((uint64_t)code << 1) | 1);
    }
    for (;;)
        __asm__ volatile("wfi");
}

/*
 * Board detection: read the UART line status register with the trap record
 * armed. On virt the read succeeds; on a board without a device there
 * (spike) it raises a load access fault, so the console and exit go
 * through HTIF.
 */
static int probe_readable(uintptr_t addr)
{
    trap_arm();
    (void)MMIO8(addr);
    uint64_t faults = m_trap_rec[hartid()].count;
    trap_disarm();
    return faults == 0;
}

/*
 * Allow S and U modes all of memory through the lowest-priority PMP entry
 * (entry 15), as firmware does before running a kernel, so lower modes work
 * whether or not PMP treats "no entries" as deny. Tests use entries 0..14.
 */
static void pmp_open_all(void)
{
    trap_arm();
    csr_write(pmpaddr15, ~0UL);
    csr_write(pmpcfg2, 0x1fUL << 56); /* entry 15: NAPOT, R W X */
    trap_disarm();
}

void runtime_init(void)
{
    board = BOARD_HTIF;
    if (probe_readable(UART0_BASE + UART_LSR))
        board = BOARD_VIRT;
    pmp_open_all();
}

/* ---- traps ---- */
void trap_arm(void)
{
    struct trap_record *r = &m_trap_rec[hartid()];
    r->count = r->cause = r->epc = r->tval = r->prev_priv = r->resume_pc = 0;
    __asm__ volatile("" ::: "memory");
    r->armed = 1;
    __asm__ volatile("" ::: "memory");
}

void trap_disarm(void)
{
    __asm__ volatile("" ::: "memory");
    m_trap_rec[hartid()].armed = 0;
}

/* S-mode code cannot read mhartid; the S records are only used from hart 0. */
void strap_arm(void)
{
    struct trap_record *r = &s_trap_rec[0];
    r->count = r->cause = r->epc = r->tval = r->prev_priv = r->resume_pc = 0;
    __asm__ volatile("" ::: "memory");
    r->armed = 1;
    __asm__ volatile("" ::: "memory");
}

void strap_disarm(void)
{
    __asm__ volatile("" ::: "memory");
    s_trap_rec[0].armed = 0;
}

void install_s_trap_vector(void) { csr_write(stvec, (uint64_t)(uintptr_t)s_trap_entry); }

static int is_fetch_fault(uint64_t cause)
{
    return cause == CAUSE_MISALIGNED_FETCH || cause == CAUSE_FETCH_ACCESS ||
           cause == CAUSE_FETCH_PAGE_FAULT;
}

/* Where an armed record resumes: explicit pc, the return address after a bad fetch, or the next instruction. */
static uint64_t resume_pc(struct trap_record *r, struct trap_frame *f)
{
    if (r->resume_pc)
        return r->resume_pc;
    if (is_fetch_fault(f->cause))
        return f->x[1];
    uint16_t parcel = *(volatile uint16_t *)(uintptr_t)f->pc;
    return f->pc + ((parcel & 3) == 3 ? 4 : 2);
}

static __attribute__((noreturn)) void report_unexpected(const char *mode, struct trap_frame *f)
{
    static const char *const names[4] = { "U", "S", "?", "M" };
    uint64_t prev = mode[0] == 'M' ? (f->status >> 11) & 3 : ((f->status & MSTATUS_SPP) ? PRV_S : PRV_U);
    printf_("UNEXPECTED TRAP (%s, from %s): mcause/scause=0x%lx epc=0x%lx tval=0x%lx\n", mode, names[prev],
            f->cause, f->pc, f->tval);
    exit(EXIT_UNEXPECTED_TRAP);
}

void m_trap_handler(struct trap_frame *f)
{
    struct trap_record *r = &m_trap_rec[hartid()];
    if (f->cause & CAUSE_INTERRUPT) {
        if (m_irq_hook && m_irq_hook(f))
            return;
        report_unexpected("M interrupt", f);
    }
    if (m_exc_hook && m_exc_hook(f))
        return;
    uint64_t prev = (f->status >> 11) & 3;
    if ((f->cause == CAUSE_ECALL_U || f->cause == CAUSE_ECALL_S) && f->x[17] == LOWER_EXIT_MAGIC) {
        /* Back to enter_mode's caller, in M mode, with the lower code's a0. */
        f->pc = (uint64_t)(uintptr_t)enter_mode_resume;
        f->x[2] = enter_mode_saved_sp[hartid()];
        f->status |= MSTATUS_MPP;
        f->status &= ~MSTATUS_MPRV;
        return;
    }
    if (!r->armed)
        report_unexpected("M", f);
    r->cause = f->cause;
    r->epc = f->pc;
    r->tval = f->tval;
    r->prev_priv = prev;
    r->count++;
    f->pc = resume_pc(r, f);
}

void s_trap_handler(struct trap_frame *f)
{
    struct trap_record *r = &s_trap_rec[0];
    if (f->cause & CAUSE_INTERRUPT) {
        if (s_irq_hook && s_irq_hook(f))
            return;
        report_unexpected("S interrupt", f);
    }
    if (f->cause == CAUSE_ECALL_U && f->x[17] == LOWER_EXIT_MAGIC)
        LOWER_EXIT(f->x[10]);   /* forward the hand-back to M */
    if (!r->armed)
        report_unexpected("S", f);
    r->cause = f->cause;
    r->epc = f->pc;
    r->tval = f->tval;
    r->prev_priv = (f->status & MSTATUS_SPP) ? PRV_S : PRV_U;
    r->count++;
    f->pc = resume_pc(r, f);
}

/* ---- printing ---- */
void print_str(const char *s)
{
    while (*s)
        putchar_(*s++);
}

void puts_(const char *s)
{
    print_str(s);
    putchar_('\n');
}

static void print_num(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n < width--)
        putchar_(pad);
    while (n)
        putchar_(buf[--n]);
}

void print_hex(uint64_t v)
{
    print_str("0x");
    print_num(v, 16, 16, '0');
}

void print_udec(uint64_t v) { print_num(v, 10, 0, ' '); }

void print_dec(int64_t v)
{
    if (v < 0) {
        putchar_('-');
        print_num(-(uint64_t)v, 10, 0, ' ');
    } else {
        print_num((uint64_t)v, 10, 0, ' ');
    }
}

void printf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putchar_(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 's': print_str(va_arg(ap, const char *)); break;
        case 'c': putchar_(va_arg(ap, int)); break;
        case 'd': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                putchar_('-');
                print_num(-(uint64_t)v, 10, width, pad);
            } else {
                print_num((uint64_t)v, 10, width, pad);
            }
            break;
        }
        case 'u': print_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x': print_num(longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad); break;
        case 'p': print_str("0x"); print_num((uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, ' '); break;
        case '%': putchar_('%'); break;
        case 0: fmt--; break;
        default: putchar_('%'); putchar_(*fmt); break;
        }
    }
    va_end(ap);
}

/* ---- checks ---- */
static __attribute__((noreturn)) void check_failed(void)
{
    exit(check_count > EXIT_CHECK_MAX ? EXIT_CHECK_MAX : (int)check_count);
}

void check_impl(int ok, const char *name, int line)
{
    check_count++;
    if (ok) {
        printf_("ok %u %s\n", check_count, name);
        return;
    }
    printf_("FAIL: %s (check %u, line %d)\n", name, check_count, line);
    check_failed();
}

void check_eq_impl(uint64_t got, uint64_t want, const char *name, int line)
{
    check_count++;
    if (got == want) {
        printf_("ok %u %s\n", check_count, name);
        return;
    }
    printf_("FAIL: %s (check %u, line %d): got 0x%lx, want 0x%lx\n", name, check_count, line, got, want);
    check_failed();
}

void pass(void)
{
    printf_("PASS: %s (%u checks)\n", prog_name, check_count);
    exit(0);
}

void section(const char *title) { printf_("== %s\n", title); }

/* ---- memory ---- */
void *memset(void *d, int c, size_t n)
{
    volatile uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}
