/* CLINT with two harts (-smp 2): each hart's msip raises a software interrupt on that hart only,
   each hart's mtimecmp a timer interrupt on that hart only; plus AMO and LR/SC contention. */
#include "ferrite.h"

PROGRAM("dev_clint_smp");

#define ROUNDS 20000
#define TICKS 5000

static volatile uint64_t soft_irqs[MAX_HARTS], timer_irqs[MAX_HARTS];
static volatile uint64_t hart1_id = ~0UL, hart1_stage, hart1_timer_ok;
static volatile uint64_t amo_counter, lrsc_counter, contest_go, contest_done[MAX_HARTS];

static int clint_hook(struct trap_frame *f)
{
    uint64_t h = hartid();
    if (f->cause == (CAUSE_INTERRUPT | IRQ_M_SOFT)) {
        MMIO32(CLINT_MSIP(h)) = 0;
        soft_irqs[h]++;
        return 1;
    }
    if (f->cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
        MMIO64(CLINT_MTIMECMP(h)) = ~0UL;
        timer_irqs[h]++;
        return 1;
    }
    return 0;
}

static void contest(uint64_t h)
{
    while (!contest_go)
        ;
    for (int i = 0; i < ROUNDS; i++) {
        __asm__ volatile("amoadd.d zero, %0, (%1)" :: "r"(1UL), "r"(&amo_counter) : "memory");
        uint64_t tmp, fail;
        __asm__ volatile("1: lr.d %0, (%2)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%2)\n\tbnez %1, 1b"
                         : "=&r"(tmp), "=&r"(fail) : "r"(&lrsc_counter) : "memory");
    }
    contest_done[h] = 1;
}

/* Hart 1: wait for its software interrupt, answer with hart 0's, then take its own timer. */
void secondary_main(uint64_t h)
{
    if (h != 1)
        return;
    hart1_id = csr_read(mhartid);
    MMIO64(CLINT_MTIMECMP(1)) = ~0UL;
    csr_set(mie, MIP_MSIP | MIP_MTIP);
    hart1_stage = 1;
    while (soft_irqs[1] == 0)
        wfi_then_take_interrupt();
    hart1_stage = 2;
    MMIO32(CLINT_MSIP(0)) = 1;
    MMIO64(CLINT_MTIMECMP(1)) = mtime() + TICKS;
    while (timer_irqs[1] == 0)
        wfi_then_take_interrupt();
    hart1_timer_ok = 1;
    hart1_stage = 3;
    contest(1);
}

static int wait_for(volatile uint64_t *v, uint64_t want)
{
    uint64_t deadline = mtime() + 20000000;   /* 2 s */
    while (*v < want && mtime() < deadline)
        ;
    return *v >= want;
}

int main(void)
{
    m_irq_hook = clint_hook;
    MMIO64(CLINT_MTIMECMP(0)) = ~0UL;
    section("second hart");
    if (!wait_for(&hart1_stage, 1)) {
        puts_("hart 1 did not start: run with -smp 2");
        CHECK(0, "hart 1 is running");
    }
    CHECK_EQ(hart1_id, 1, "hart 1 reads mhartid = 1");

    section("software interrupts");
    CHECK_EQ(MMIO32(CLINT_MSIP(1)), 0, "msip[1] reads 0");
    csr_set(mie, MIP_MSIP | MIP_MTIP);
    csr_set(mstatus, MSTATUS_MIE);
    MMIO32(CLINT_MSIP(1)) = 1;
    CHECK(wait_for(&hart1_stage, 2), "hart 1 took the software interrupt hart 0 sent");
    CHECK_EQ(soft_irqs[1], 1, "  exactly once");
    CHECK(wait_for(&soft_irqs[0], 1), "hart 0 took the software interrupt hart 1 sent back");
    CHECK_EQ(soft_irqs[0], 1, "  exactly once");
    CHECK_EQ(MMIO32(CLINT_MSIP(0)), 0, "msip[0] cleared by its handler");

    section("per-hart timers");
    CHECK(wait_for(&hart1_timer_ok, 1), "hart 1 took its own timer interrupt");
    CHECK_EQ(timer_irqs[0], 0, "hart 0 saw no timer interrupt from mtimecmp[1]");
    MMIO64(CLINT_MTIMECMP(0)) = mtime() + TICKS;
    CHECK(wait_for(&timer_irqs[0], 1), "hart 0 took its own timer interrupt");
    CHECK_EQ(timer_irqs[1], 1, "hart 1 saw no timer interrupt from mtimecmp[0]");
    csr_clear(mstatus, MSTATUS_MIE);

    section("AMO and LR/SC contention");
    contest_go = 1;
    contest(0);
    CHECK(wait_for(&contest_done[1], 1), "hart 1 finished its rounds");
    CHECK_EQ(amo_counter, 2 * ROUNDS, "amoadd.d from two harts loses nothing");
    CHECK_EQ(lrsc_counter, 2 * ROUNDS, "lr/sc increments from two harts lose nothing");
    PASS();
}
