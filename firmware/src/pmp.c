/* PMP: TOR, NA4 and NAPOT entries checked against S, U and M accesses, a region smaller than a page,
   priority order, and a locked entry that binds M mode. */
#include "ferrite.h"

PROGRAM("pmp");

#define PMP_R 1
#define PMP_W 2
#define PMP_X 4
#define PMP_TOR (1 << 3)
#define PMP_NA4 (2 << 3)
#define PMP_NAPOT (3 << 3)
#define PMP_L 0x80

/* Four test pages: A (TOR), B (NAPOT), C (NA4 inside), D (locked, last). */
static uint8_t pages[4][4096] __attribute__((section(".pages"), aligned(4096)));
#define PAGE(i) ((uint64_t)(uintptr_t)pages[i])

static uint64_t lower_load(uint64_t addr) { return *(volatile uint64_t *)(uintptr_t)addr; }
static uint64_t lower_store(uint64_t addr) { *(volatile uint64_t *)(uintptr_t)addr = 0x5a5a; return 0; }
static uint64_t lower_exec(uint64_t addr) { return ((uint64_t (*)(void))(uintptr_t)addr)(); }
/* three loads on one page: +0, +8 (inside the NA4 entry), +16 */
static uint64_t lower_three_loads(uint64_t addr)
{
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
    return p[0] + p[1] + p[2];
}

/* entries 0..7 live in pmpcfg0, one byte each */
static void set_cfg(int entry, uint64_t cfg)
{
    uint64_t v = csr_read(pmpcfg0);
    v &= ~(0xffUL << (8 * entry));
    v |= cfg << (8 * entry);
    csr_write(pmpcfg0, v);
    sfence_vma();
}

static uint64_t traps_in(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t arg)
{
    trap_arm();
    if (mode == PRV_M)
        fn(arg);
    else
        enter_mode(mode, fn, arg, lower_stack_top());
    uint64_t n = m_trap_rec[0].count;
    trap_disarm();
    return n;
}

/* M-mode store with MPRV = 1 and MPP = mode: the access is checked as if made in that mode. */
static uint64_t mprv_store_traps(uint64_t mode, uint64_t addr)
{
    trap_arm();
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, mode << 11);
    __asm__ volatile("csrs mstatus, %0\n\tsd zero, 0(%1)\n\tcsrc mstatus, %0"
                     :: "r"(MSTATUS_MPRV), "r"(addr) : "memory");
    uint64_t n = m_trap_rec[0].count;
    trap_disarm();
    return n;
}

static uint64_t napot(uint64_t base, uint64_t size) { return (base >> 2) | ((size / 8) - 1); }

int main(void)
{
    /* a "ret" on page B, for the execute checks */
    *(volatile uint32_t *)(PAGE(1) + 64) = 0x00008067;
    fence_i();

    section("TOR: page A read-only for S and U");
    csr_write(pmpaddr0, PAGE(0) >> 2);
    csr_write(pmpaddr1, (PAGE(0) + 4096) >> 2);
    set_cfg(0, 0);
    set_cfg(1, PMP_TOR | PMP_R);
    CHECK_EQ((csr_read(pmpcfg0) >> 8) & 0xff, PMP_TOR | PMP_R, "pmpcfg0 reads back entry 1");
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(0)), 0, "S load in TOR region allowed");
    CHECK_EQ(traps_in(PRV_S, lower_store, PAGE(0) + 64), 1, "S store in TOR region denied");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_STORE_ACCESS, "  store access fault");
    CHECK_EQ(m_trap_rec[0].tval, PAGE(0) + 64, "  mtval = address");
    CHECK_EQ(traps_in(PRV_U, lower_store, PAGE(0) + 4088), 1, "U store at the TOR top - 8 denied");
    CHECK_EQ(traps_in(PRV_U, lower_store, PAGE(0) + 4096), 0, "U store just past TOR top allowed (entry 15)");
    CHECK_EQ(traps_in(PRV_M, lower_store, PAGE(0)), 0, "M store ignores unlocked entries");

    CHECK_EQ(mprv_store_traps(PRV_U, PAGE(0) + 16), 1, "M store with MPRV = 1, MPP = U is checked as U");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_STORE_ACCESS, "  store access fault");
    CHECK_EQ(mprv_store_traps(PRV_M, PAGE(0) + 16), 0, "M store with MPRV = 1, MPP = M is not");

    section("NAPOT: page B read/write, no execute");
    csr_write(pmpaddr2, napot(PAGE(1), 4096));
    set_cfg(2, PMP_NAPOT | PMP_R | PMP_W);
    CHECK_EQ(traps_in(PRV_S, lower_store, PAGE(1) + 8), 0, "S store in NAPOT region allowed");
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(1) + 4095 - 7), 0, "S load at its end allowed");
    CHECK_EQ(traps_in(PRV_S, lower_exec, PAGE(1) + 64), 1, "S execute in NAPOT region without X denied");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_FETCH_ACCESS, "  instruction access fault");
    CHECK_EQ(m_trap_rec[0].tval, PAGE(1) + 64, "  mtval = address");
    set_cfg(2, PMP_NAPOT | PMP_R | PMP_X);
    CHECK_EQ(traps_in(PRV_U, lower_exec, PAGE(1) + 64), 0, "U execute once X is granted");
    CHECK_EQ(traps_in(PRV_U, lower_store, PAGE(1)), 1, "U store once W is removed denied");

    section("NA4 inside a page: one 4-byte hole");
    csr_write(pmpaddr3, (PAGE(2) + 8) >> 2);
    set_cfg(3, PMP_NA4);
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(2)), 0, "S load at +0 allowed");
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(2) + 16), 0, "S load at +16 allowed");
    CHECK_EQ(traps_in(PRV_S, lower_three_loads, PAGE(2)), 1, "loads at +0, +8, +16 on one page: only +8 denied");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_LOAD_ACCESS, "  load access fault");
    CHECK_EQ(m_trap_rec[0].tval, PAGE(2) + 8, "  mtval = the address in the hole");
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(2) + 12), 0, "an 8-byte load at +12, right after the hole, is allowed");
    CHECK_EQ(traps_in(PRV_S, lower_load, PAGE(2) + 4), 1, "an 8-byte load at +4 overlapping the hole is denied");

    section("priority: the lowest-numbered matching entry decides");
    csr_write(pmpaddr4, napot(PAGE(2), 4096));
    set_cfg(4, PMP_NAPOT | PMP_R | PMP_W);
    CHECK_EQ(traps_in(PRV_S, lower_store, PAGE(2) + 8), 1, "NA4 entry 3 wins over NAPOT entry 4");
    CHECK_EQ(traps_in(PRV_S, lower_store, PAGE(2) + 32), 0, "NAPOT entry 4 applies elsewhere on the page");
    set_cfg(3, 0);
    CHECK_EQ(traps_in(PRV_S, lower_store, PAGE(2) + 8), 0, "with entry 3 off, entry 4 allows it");

    section("locked entry binds M mode");
    csr_write(pmpaddr5, napot(PAGE(3), 4096));
    set_cfg(5, PMP_NAPOT | PMP_R | PMP_L);
    CHECK_EQ(traps_in(PRV_M, lower_load, PAGE(3)), 0, "M load from a locked R region allowed");
    CHECK_EQ(traps_in(PRV_M, lower_store, PAGE(3)), 1, "M store to a locked R region denied");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_STORE_ACCESS, "  store access fault");
    set_cfg(5, PMP_NAPOT | PMP_R | PMP_W);
    CHECK_EQ((csr_read(pmpcfg0) >> 40) & 0xff, PMP_NAPOT | PMP_R | PMP_L, "a locked pmpcfg ignores writes");
    csr_write(pmpaddr5, 0);
    CHECK_EQ(csr_read(pmpaddr5), napot(PAGE(3), 4096), "a locked pmpaddr ignores writes");
    PASS();
}
