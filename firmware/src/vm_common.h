/*
 * Paging tests shared by vm_sv39, vm_sv48 and vm_sv57 (the includer defines LEVELS = 3, 4 or 5).
 * M builds the tables; S and U do the accesses; faults are taken in M and recorded.
 * RAM is identity-mapped with a 1 GiB leaf (RWX, A and D set, not U) so S code,
 * stacks and globals keep working once satp is on.
 */
#include "ferrite.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#define SATP_MODE (LEVELS == 3 ? 8UL : LEVELS == 4 ? 9UL : 10UL)

#define VA_BASE   0x40000000UL            /* 4 KiB test pages: VA_BASE + n * 4 KiB */
#define VA_PAGE(n) (VA_BASE + (n) * 0x1000UL)
#define VA_2M     (VA_BASE + 0x200000UL)  /* 2 MiB leaf -> PA_2M */
#define VA_2M_BAD (VA_BASE + 0x400000UL)  /* 2 MiB leaf with a misaligned PPN */
#define PA_2M     0x80400000UL
#define VA_1G     0xc0000000UL            /* 1 GiB leaf -> 0x80000000 */
#define VA_UCODE  VA_PAGE(16)             /* U-mode alias of the .text.page code page */

/* page 0..7: data pages seen through VA_PAGE(n); page tables come from table_pool */
static uint8_t data_pages[8][4096] __attribute__((section(".pages"), aligned(4096)));
static uint64_t table_pool[16][512] __attribute__((section(".pages"), aligned(4096)));
static unsigned tables_used;
static uint64_t *root;

/* U-mode code, alone on a page: load through a0, then hand back to M. */
__asm__(".section .text.page, \"ax\"\n"
        ".balign 4096\n"
        ".globl u_code_page, u_load, u_exit\n"
        "u_code_page:\n"
        "u_load: ld a0, 0(a0)\n"
        "u_exit: li a7, " STR(LOWER_EXIT_MAGIC) "\n"
        "        ecall\n"
        ".text\n");
extern char u_code_page[], u_load[], u_exit[];
#define U_VA(sym) (VA_UCODE + (uint64_t)((sym) - u_code_page))

#define PA(p) ((uint64_t)(uintptr_t)(p))

static uint64_t *new_table(void)
{
    uint64_t *t = table_pool[tables_used++];
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return t;
}

static unsigned vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 0x1ff; }

/* The PTE slot for va at `level` (0 = 4 KiB leaf), creating tables on the way down. */
static volatile uint64_t *pte_slot(uint64_t va, int level)
{
    uint64_t *t = root;
    for (int l = LEVELS - 1; l > level; l--) {
        uint64_t *e = &t[vpn(va, l)];
        if (!(*e & PTE_V))
            *e = ((PA(new_table()) >> 12) << 10) | PTE_V;
        t = (uint64_t *)(uintptr_t)((*e >> 10) << 12);
    }
    return &t[vpn(va, level)];
}

static void map(uint64_t va, uint64_t pa, int level, uint64_t flags)
{
    *pte_slot(va, level) = ((pa >> 12) << 10) | flags;
    sfence_vma();
}

/* S-mode helpers (identity-mapped code) */
static uint64_t s_load(uint64_t va) { return *(volatile uint64_t *)(uintptr_t)va; }
static uint64_t s_store(uint64_t va) { *(volatile uint64_t *)(uintptr_t)va = 0x77; return 0; }
static uint64_t s_exec(uint64_t va) { return ((uint64_t (*)(void))(uintptr_t)va)(); }

/* S: read through VA_PAGE(5), remap it to data page 2 itself, sfence.vma that page, read again. */
static uint64_t s_remap_and_reread(uint64_t arg)
{
    uint64_t before = s_load(VA_PAGE(5));
    volatile uint64_t *pte = (volatile uint64_t *)(uintptr_t)arg;
    *pte = ((PA(data_pages[2]) >> 12) << 10) | PTE_V | PTE_R | PTE_A;
    __asm__ volatile("sfence.vma %0, zero" :: "r"(VA_PAGE(5)) : "memory");
    uint64_t after = s_load(VA_PAGE(5));
    return (before << 32) | after;
}

static uint64_t run(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t arg)
{
    return enter_mode(mode, fn, arg, lower_stack_top());
}

static void expect_fault(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t va, uint64_t cause, const char *what)
{
    trap_arm();
    run(mode, fn, va);
    struct trap_record *r = &m_trap_rec[0];
    uint64_t count = r->count, got_cause = r->cause, tval = r->tval;
    trap_disarm();
    CHECK_EQ(count, 1, what);
    CHECK_EQ(got_cause, cause, "  cause");
    CHECK_EQ(tval, va, "  mtval = virtual address");
}

static void expect_ok(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t va, const char *what)
{
    trap_arm();
    run(mode, fn, va);
    uint64_t count = m_trap_rec[0].count;
    trap_disarm();
    CHECK_EQ(count, 0, what);
}

/* U mode: load through va with the U alias of u_load; returns the value or traps. */
static uint64_t u_load_via(uint64_t va, uint64_t *traps)
{
    trap_arm();
    m_trap_rec[0].resume_pc = U_VA(u_exit);
    uint64_t v = enter_mode(PRV_U, (uint64_t (*)(uint64_t))(uintptr_t)U_VA(u_load), va, 0);
    *traps = m_trap_rec[0].count;
    trap_disarm();
    return v;
}

static void build_tables(void)
{
    tables_used = 0;
    root = new_table();
    /* identity 1 GiB leaf over RAM */
    *pte_slot(RAM_BASE, 2) = ((RAM_BASE >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 512; j++)
            ((volatile uint64_t *)data_pages[i])[j] = 0x1000UL * i + j;
}

static void vm_tests(void)
{
    build_tables();
    section("enable paging");
    uint64_t satp = (SATP_MODE << 60) | (PA(root) >> 12);
    csr_write(satp, satp);
    sfence_vma();
    CHECK_EQ(csr_read(satp), satp, "satp accepts the mode");
    expect_ok(PRV_S, s_load, PA(data_pages[0]), "S runs through the identity 1 GiB leaf");

    section("4 KiB pages and A/D updates by hardware");
    map(VA_PAGE(0), PA(data_pages[0]), 0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(0) + 8 * 7), 7, "S load through a 4 KiB page");
    map(VA_PAGE(1), PA(data_pages[1]), 0, PTE_V | PTE_R | PTE_W);
    volatile uint64_t *pte1 = pte_slot(VA_PAGE(1), 0);
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(1) + 16), 0x1002, "S load through a page with A = D = 0");
    CHECK_EQ(*pte1 & (PTE_A | PTE_D), PTE_A, "the load set A, not D");
    run(PRV_S, s_store, VA_PAGE(1) + 24);
    CHECK_EQ(*pte1 & (PTE_A | PTE_D), PTE_A | PTE_D, "the store set D");
    CHECK_EQ(((volatile uint64_t *)data_pages[1])[3], 0x77, "the store reached the physical page");

    {
        /* M-mode load with MPRV = 1 and MPP = S goes through the S translation */
        uint64_t v;
        csr_clear(mstatus, MSTATUS_MPP);
        csr_set(mstatus, (uint64_t)PRV_S << 11);
        __asm__ volatile("csrs mstatus, %1\n\tld %0, 0(%2)\n\tcsrc mstatus, %1"
                         : "=&r"(v) : "r"(MSTATUS_MPRV), "r"(VA_PAGE(0) + 8 * 9) : "memory");
        CHECK_EQ(v, 9, "M load with MPRV = 1, MPP = S is translated");
    }

    section("permission faults");
    map(VA_PAGE(2), PA(data_pages[2]), 0, PTE_V | PTE_R | PTE_A | PTE_D);
    expect_fault(PRV_S, s_store, VA_PAGE(2) + 8, CAUSE_STORE_PAGE_FAULT, "S store to a read-only page");
    expect_fault(PRV_S, s_exec, VA_PAGE(2), CAUSE_FETCH_PAGE_FAULT, "S execute from a non-X page");
    map(VA_PAGE(3), PA(data_pages[3]), 0, PTE_V | PTE_X | PTE_A);
    expect_fault(PRV_S, s_load, VA_PAGE(3), CAUSE_LOAD_PAGE_FAULT, "S load from an execute-only page");
    csr_set(mstatus, MSTATUS_MXR);
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(3) + 8), 0x3001, "... allowed with MXR");
    csr_clear(mstatus, MSTATUS_MXR);
    map(VA_PAGE(4), PA(data_pages[4]), 0, PTE_V | PTE_W | PTE_A | PTE_D);
    expect_fault(PRV_S, s_load, VA_PAGE(4), CAUSE_LOAD_PAGE_FAULT, "W without R is reserved");
    map(VA_PAGE(6), PA(data_pages[6]), 0, PTE_R | PTE_W | PTE_A | PTE_D);
    expect_fault(PRV_S, s_load, VA_PAGE(6), CAUSE_LOAD_PAGE_FAULT, "V = 0 faults");
    expect_fault(PRV_S, s_load, VA_PAGE(40), CAUSE_LOAD_PAGE_FAULT, "unmapped VA faults");
    expect_fault(PRV_S, s_exec, VA_PAGE(41), CAUSE_FETCH_PAGE_FAULT, "jump to an unmapped VA");

    section("U pages, SUM, U mode");
    map(VA_PAGE(7), PA(data_pages[7]), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
    expect_fault(PRV_S, s_load, VA_PAGE(7), CAUSE_LOAD_PAGE_FAULT, "S load from a U page without SUM");
    csr_set(mstatus, MSTATUS_SUM);
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(7) + 8), 0x7001, "... allowed with SUM");
    *(volatile uint32_t *)data_pages[7] = 0x00008067; /* ret */
    fence_i();
    expect_fault(PRV_S, s_exec, VA_PAGE(7), CAUSE_FETCH_PAGE_FAULT, "S never executes a U page, even with SUM");
    csr_clear(mstatus, MSTATUS_SUM);
    map(VA_UCODE, PA(u_code_page), 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A);
    uint64_t traps;
    uint64_t v = u_load_via(VA_PAGE(7) + 16, &traps);
    CHECK_EQ(traps, 0, "U code on a U page loads from a U page");
    CHECK_EQ(v, 0x7002, "  value");
    (void)u_load_via(VA_PAGE(0), &traps);
    CHECK_EQ(traps, 1, "U load from a non-U page faults");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_LOAD_PAGE_FAULT, "  load page fault");
    CHECK_EQ(m_trap_rec[0].prev_priv, PRV_U, "  taken from U");

    section("superpages");
    for (int i = 0; i < 8; i++)
        ((volatile uint64_t *)(uintptr_t)(PA_2M + 0x1000 * i))[1] = 0x2000000UL + i;
    map(VA_2M, PA_2M, 1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    CHECK_EQ(run(PRV_S, s_load, VA_2M + 0x5008), 0x2000005, "2 MiB leaf: offset 0x5008");
    CHECK_EQ(run(PRV_S, s_load, VA_2M + 0x8), 0x2000000, "2 MiB leaf: offset 0x8");
    map(VA_2M_BAD, PA_2M + 0x1000, 1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    expect_fault(PRV_S, s_load, VA_2M_BAD + 0x10, CAUSE_LOAD_PAGE_FAULT, "misaligned 2 MiB leaf faults");
    map(VA_1G, RAM_BASE, 2, PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, VA_1G + (PA(data_pages[3]) - RAM_BASE) + 16), 0x3002, "1 GiB leaf aliases RAM");
    map(VA_1G + 0x40000000UL, RAM_BASE + 0x200000UL, 2, PTE_V | PTE_R | PTE_A);
    expect_fault(PRV_S, s_load, VA_1G + 0x40000000UL, CAUSE_LOAD_PAGE_FAULT, "misaligned 1 GiB leaf faults");

    section("sfence.vma");
    map(VA_PAGE(5), PA(data_pages[5]), 0, PTE_V | PTE_R | PTE_A);
    uint64_t both = run(PRV_S, s_remap_and_reread, (uint64_t)(uintptr_t)pte_slot(VA_PAGE(5), 0));
    CHECK_EQ(both >> 32, 0x5000, "before the remap: page 5");
    CHECK_EQ(both & 0xffffffff, 0x2000, "after remap + sfence.vma: page 2");

    section("delegated page fault");
    install_s_trap_vector();
    csr_write(medeleg, 1UL << CAUSE_LOAD_PAGE_FAULT);
    strap_arm();
    run(PRV_S, s_load, VA_PAGE(42));
    CHECK_EQ(s_trap_rec[0].cause, CAUSE_LOAD_PAGE_FAULT, "medeleg sends the load page fault to S");
    CHECK_EQ(s_trap_rec[0].tval, VA_PAGE(42), "  stval = virtual address");
    strap_disarm();
    csr_write(medeleg, 0);
}

static void vm_finish(void)
{
    csr_write(satp, 0);
    sfence_vma();
}
