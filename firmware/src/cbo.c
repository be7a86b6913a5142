/*
 * Zicboz and Zicbom: cbo.zero clears exactly the 64-byte block holding its
 * address, from M and, when menvcfg/senvcfg enable it, from S and U;
 * disabled it is an illegal instruction. cbo.clean/flush/inval leave memory
 * as it is, follow the CBCFE/CBIE enables, and fault on a block PMP denies
 * (store access fault, mtval = the address).
 */
#include "ferrite.h"

PROGRAM("cbo");

#define ENVCFG_CBIE  (3UL << 4)
#define ENVCFG_CBCFE (1UL << 6)
#define ENVCFG_CBZE  (1UL << 7)

static uint8_t buf[256] __attribute__((aligned(256)));

#define CBO(insn, a) __asm__ volatile(".option push\n.option arch, +zicbom, +zicboz\n" insn " (%0)\n.option pop" :: "r"(a) : "memory")

static uint64_t do_zero(uint64_t a) { CBO("cbo.zero", a); return 0; }
static uint64_t do_clean(uint64_t a) { CBO("cbo.clean", a); return 0; }
static uint64_t do_inval(uint64_t a) { CBO("cbo.inval", a); return 0; }

static int block_is(unsigned from, unsigned len, uint8_t v)
{
    for (unsigned i = from; i < from + len; i++)
        if (buf[i] != v)
            return 0;
    return 1;
}

/* Run fn(a) in `mode`; the illegal-instruction count it raised. */
static uint64_t illegal_in(uint64_t mode, uint64_t (*fn)(uint64_t), uint64_t a)
{
    trap_arm();
    m_trap_rec[0].count = 0;
    m_trap_rec[0].cause = 0;
    enter_mode(mode, fn, a, lower_stack_top());
    trap_disarm();
    return m_trap_rec[0].cause == CAUSE_ILLEGAL_INSN ? m_trap_rec[0].count : 0;
}

int main(void)
{
    uint64_t mid = (uint64_t)(uintptr_t)&buf[64 + 37];

    section("cbo.zero");
    memset(buf, 0xff, sizeof buf);
    do_zero(mid);
    CHECK(block_is(64, 64, 0), "cbo.zero clears the whole block holding the address");
    CHECK(block_is(0, 64, 0xff) && block_is(128, 128, 0xff), "... and nothing around it");

    section("enables");
    memset(buf, 0xff, sizeof buf);
    csr_write(CSR_MENVCFG, 0);
    CHECK_EQ(illegal_in(PRV_S, do_zero, mid), 1, "cbo.zero in S with menvcfg.CBZE clear is illegal");
    CHECK(block_is(64, 64, 0xff), "... and writes nothing");
    csr_write(CSR_MENVCFG, ENVCFG_CBZE);
    CHECK_EQ(illegal_in(PRV_S, do_zero, mid), 0, "cbo.zero in S with CBZE set");
    CHECK(block_is(64, 64, 0), "... clears the block");
    csr_write(CSR_SENVCFG, 0);
    CHECK_EQ(illegal_in(PRV_U, do_zero, mid), 1, "cbo.zero in U needs senvcfg.CBZE too");
    csr_write(CSR_SENVCFG, ENVCFG_CBZE);
    CHECK_EQ(illegal_in(PRV_U, do_zero, mid), 0, "cbo.zero in U with both enables");
    CHECK_EQ(illegal_in(PRV_S, do_clean, mid), 1, "cbo.clean in S with CBCFE clear is illegal");
    CHECK_EQ(illegal_in(PRV_S, do_inval, mid), 1, "cbo.inval in S with CBIE = 00 is illegal");
    csr_write(CSR_MENVCFG, ENVCFG_CBCFE | ENVCFG_CBIE);
    memset(buf, 0x5a, sizeof buf);
    CHECK_EQ(illegal_in(PRV_S, do_clean, mid), 0, "cbo.clean in S with CBCFE set");
    CHECK_EQ(illegal_in(PRV_S, do_inval, mid), 0, "cbo.inval in S with CBIE = 11");
    CHECK(block_is(0, 256, 0x5a), "clean and inval leave memory as it is");
    csr_write(CSR_MENVCFG, 0);
    csr_write(CSR_SENVCFG, 0);

    section("faults");
    /* PMP entry 0: the buffer, no access for S and U. */
    csr_write(pmpaddr0, ((uint64_t)(uintptr_t)buf >> 2) | 0x1f);
    csr_write(pmpcfg0, 0x18);
    csr_write(CSR_MENVCFG, ENVCFG_CBCFE | ENVCFG_CBZE);
    trap_arm();
    m_trap_rec[0].cause = 0;
    enter_mode(PRV_S, do_clean, mid, lower_stack_top());
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_STORE_ACCESS, "cbo.clean of a block PMP denies: store access fault");
    CHECK_EQ(m_trap_rec[0].tval, mid, "... with mtval = the address");
    m_trap_rec[0].cause = 0;
    enter_mode(PRV_S, do_zero, mid, lower_stack_top());
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_STORE_ACCESS, "cbo.zero of a denied block: store access fault");
    trap_disarm();
    csr_write(pmpcfg0, 0);
    csr_write(CSR_MENVCFG, 0);
    PASS();
}
