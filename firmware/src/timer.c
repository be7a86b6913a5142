/* Timer interrupts: CLINT mtimecmp in M mode; in S mode through Sstc (stimecmp, menvcfg.STCE)
   when the board has it, and through M-mode forwarding of STIP. */
#include "ferrite.h"

PROGRAM("timer");

#define TICKS 2000          /* 200 us of the 10 MHz timebase */
#define SBI_CLEAR_STIP 0x54494d45   /* a7 of the S -> M ecall asking M to clear mip.STIP */

static volatile uint64_t m_timer_irqs, s_timer_irqs, last_mcause, last_scause;

static int m_timer_hook(struct trap_frame *f)
{
    if (f->cause != (CAUSE_INTERRUPT | IRQ_M_TIMER))
        return 0;
    last_mcause = f->cause;
    m_timer_irqs++;
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    return 1;
}

/* Forwarding: M turns its timer interrupt into a supervisor timer interrupt. */
static int m_forward_hook(struct trap_frame *f)
{
    if (f->cause != (CAUSE_INTERRUPT | IRQ_M_TIMER))
        return 0;
    m_timer_irqs++;
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    csr_set(mip, MIP_STIP);
    return 1;
}

static int m_clear_stip_ecall(struct trap_frame *f)
{
    if (f->cause != CAUSE_ECALL_S || f->x[17] != SBI_CLEAR_STIP)
        return 0;
    csr_clear(mip, MIP_STIP);
    f->pc += 4;
    return 1;
}

static int s_sstc_hook(struct trap_frame *f)
{
    if (f->cause != (CAUSE_INTERRUPT | IRQ_S_TIMER))
        return 0;
    last_scause = f->cause;
    s_timer_irqs++;
    csr_write(CSR_STIMECMP, ~0UL);
    return 1;
}

static int s_forwarded_hook(struct trap_frame *f)
{
    if (f->cause != (CAUSE_INTERRUPT | IRQ_S_TIMER))
        return 0;
    last_scause = f->cause;
    s_timer_irqs++;
    register uint64_t a7 __asm__("a7") = SBI_CLEAR_STIP;
    __asm__ volatile("ecall" :: "r"(a7) : "memory");
    return 1;
}

/* S mode: arm stimecmp and wait (bounded) for the interrupt. */
static uint64_t s_sstc_wait(uint64_t arg)
{
    csr_set(sie, MIP_STIP);
    csr_write(CSR_STIMECMP, csr_read(time) + TICKS);
    csr_set(sstatus, MSTATUS_SIE);
    for (uint64_t i = 0; i < 50000000 && s_timer_irqs == 0; i++)
        ;
    csr_clear(sstatus, MSTATUS_SIE);
    return s_timer_irqs;
}

/* S mode: wait (bounded) for a forwarded timer interrupt. */
static uint64_t s_forward_wait(uint64_t arg)
{
    csr_set(sie, MIP_STIP);
    csr_set(sstatus, MSTATUS_SIE);
    for (uint64_t i = 0; i < 50000000 && s_timer_irqs == 0; i++)
        ;
    csr_clear(sstatus, MSTATUS_SIE);
    return s_timer_irqs;
}

static void wait_m_timer(void)
{
    uint64_t deadline = mtime() + 100 * TICKS;
    while (m_timer_irqs == 0 && mtime() < deadline)
        wfi_then_take_interrupt();
}

static volatile uint64_t order[4], norder;

static int order_hook(struct trap_frame *f)
{
    if (norder < 4)
        order[norder++] = f->cause & ~CAUSE_INTERRUPT;
    if (f->cause == (CAUSE_INTERRUPT | IRQ_M_TIMER))
        MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    else if (f->cause == (CAUSE_INTERRUPT | IRQ_M_SOFT))
        MMIO32(CLINT_MSIP(0)) = 0;
    else if (f->cause == (CAUSE_INTERRUPT | IRQ_S_SOFT))
        csr_clear(mip, MIP_SSIP);
    else
        return 0;
    return 1;
}

int main(void)
{
    section("CLINT timer in M mode");
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    uint64_t t0 = mtime();
    for (volatile int i = 0; i < 10000; i++)
        ;
    CHECK(mtime() > t0, "mtime advances");
    CHECK_EQ(csr_read(mip) & MIP_MTIP, 0, "MTIP clear while mtimecmp is in the future");
    MMIO64(CLINT_MTIMECMP(0)) = 0;
    CHECK(csr_read(mip) & MIP_MTIP, "MTIP pending once mtime >= mtimecmp (interrupts off)");
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    CHECK_EQ(csr_read(mip) & MIP_MTIP, 0, "MTIP drops when mtimecmp moves to the future");

    m_irq_hook = m_timer_hook;
    uint64_t armed_at = mtime();
    MMIO64(CLINT_MTIMECMP(0)) = armed_at + TICKS;
    csr_set(mie, MIP_MTIP);
    wait_m_timer();
    CHECK_EQ(m_timer_irqs, 1, "one machine timer interrupt");
    CHECK_EQ(last_mcause, CAUSE_INTERRUPT | IRQ_M_TIMER, "mcause = interrupt 7");
    CHECK(mtime() >= armed_at + TICKS, "it came no earlier than mtimecmp");

    /* Only MSI against MTI: QEMU 7.2 without AIA takes the lowest-numbered pending interrupt
       (so SSI before MTI), where the spec orders MEI, MSI, MTI, SEI, SSI, STI. */
    section("priority of pending machine interrupts: MSI before MTI");
    m_irq_hook = order_hook;
    csr_write(mideleg, 0);
    MMIO64(CLINT_MTIMECMP(0)) = 0;
    MMIO32(CLINT_MSIP(0)) = 1;
    csr_set(mie, MIP_MTIP | MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (volatile int i = 0; i < 100; i++)
        ;
    csr_clear(mstatus, MSTATUS_MIE);
    csr_clear(mie, MIP_MSIP);
    CHECK_EQ(norder, 2, "two interrupts taken");
    CHECK_EQ(order[0], IRQ_M_SOFT, "  first the machine software interrupt");
    CHECK_EQ(order[1], IRQ_M_TIMER, "  then the machine timer interrupt");

    section("S-mode timer through Sstc (stimecmp)");
    install_s_trap_vector();
    csr_write(CSR_MENVCFG, csr_read(CSR_MENVCFG) | (1UL << 63));
    int have_sstc = (csr_read(CSR_MENVCFG) >> 63) & 1;
    trap_arm();
    (void)csr_read(time);
    int have_time = m_trap_rec[0].count == 0;
    trap_disarm();
    if (have_sstc && have_time) {
        csr_write(mcounteren, 2);                  /* TM: S may read time and stimecmp */
        csr_write(mideleg, MIP_STIP);
        s_irq_hook = s_sstc_hook;
        s_timer_irqs = 0;
        uint64_t n = enter_mode(PRV_S, s_sstc_wait, 0, lower_stack_top());
        CHECK_EQ(n, 1, "one supervisor timer interrupt from stimecmp");
        CHECK_EQ(last_scause, CAUSE_INTERRUPT | IRQ_S_TIMER, "scause = interrupt 5");
        CHECK_EQ(csr_read(mip) & MIP_STIP, 0, "STIP clear after stimecmp moved to the future");
        csr_write(CSR_STIMECMP, 0);
        CHECK(csr_read(mip) & MIP_STIP, "STIP follows stimecmp <= time");
        csr_write(CSR_STIMECMP, ~0UL);
    } else {
        puts_("Sstc or the time CSR not available: Sstc checks skipped");
    }
    csr_write(CSR_MENVCFG, csr_read(CSR_MENVCFG) & ~(1UL << 63));

    section("S-mode timer forwarded by M (mip.STIP)");
    csr_write(mideleg, MIP_STIP);
    m_irq_hook = m_forward_hook;
    m_exc_hook = m_clear_stip_ecall;
    s_irq_hook = s_forwarded_hook;
    m_timer_irqs = 0;
    s_timer_irqs = 0;
    last_scause = 0;
    MMIO64(CLINT_MTIMECMP(0)) = mtime() + TICKS;
    uint64_t n = enter_mode(PRV_S, s_forward_wait, 0, lower_stack_top());
    CHECK_EQ(m_timer_irqs, 1, "M took the machine timer interrupt while S ran");
    CHECK_EQ(n, 1, "S took one forwarded supervisor timer interrupt");
    CHECK_EQ(last_scause, CAUSE_INTERRUPT | IRQ_S_TIMER, "scause = interrupt 5");
    CHECK_EQ(csr_read(mip) & MIP_STIP, 0, "STIP cleared by M on request");
    csr_clear(mie, MIP_MTIP);
    csr_write(mideleg, 0);
    m_exc_hook = 0;
    PASS();
}
