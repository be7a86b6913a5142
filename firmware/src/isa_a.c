/* A extension: LR/SC success and failure, every AMO in .w and .d, sign extension, misaligned AMOs. */
#include "ferrite.h"
#include "asmops.h"

PROGRAM("isa_a");

static volatile uint64_t mem[4] __attribute__((aligned(64)));

#define LR(op, addr) ({ uint64_t r_; __asm__ volatile(op " %0, (%1)" : "=r"(r_) : "r"(addr) : "memory"); r_; })
#define SC(op, addr, v) ({ uint64_t r_; __asm__ volatile(op " %0, %1, (%2)" : "=&r"(r_) \
    : "r"((uint64_t)(v)), "r"(addr) : "memory"); r_; })

struct amo_case { const char *name; uint64_t init, operand, want_mem; };

/* Each AMO returns the old value (sign-extended for .w) and stores the result. */
#define AMO_CHECK(op, init_, operand_, want_mem_, is_w) do { \
    mem[0] = (init_); \
    uint64_t old_ = AMO(op, &mem[0], operand_); \
    uint64_t want_old_ = (is_w) ? (uint64_t)(int64_t)(int32_t)(init_) : (init_); \
    CHECK_EQ(old_, want_old_, op " returns the old value"); \
    CHECK_EQ(mem[0], (want_mem_), op " memory"); \
} while (0)

int main(void)
{
    volatile uint64_t *p = &mem[0];
    volatile uint64_t *q = &mem[1];
    section("LR/SC");
    mem[0] = 0x80000001UL;
    CHECK_EQ(LR("lr.w", p), 0xffffffff80000001UL, "lr.w sign-extends");
    CHECK_EQ(SC("sc.w", p, 0x1234), 0, "sc.w after lr.w succeeds");
    CHECK_EQ(mem[0], 0x1234, "sc.w stored");
    CHECK(SC("sc.w", p, 0x5678) != 0, "second sc.w without reservation fails");
    CHECK_EQ(mem[0], 0x1234, "failed sc.w stores nothing");
    mem[0] = 0x1111111122222222UL;
    CHECK_EQ(LR("lr.d", p), 0x1111111122222222UL, "lr.d");
    CHECK_EQ(SC("sc.d", p, 0xabcdUL), 0, "sc.d after lr.d succeeds");
    CHECK_EQ(mem[0], 0xabcd, "sc.d stored");
    (void)LR("lr.d", p);
    CHECK(SC("sc.d", q, 7) != 0, "sc.d to another address than the lr fails");
    CHECK_EQ(mem[1], 0, "failed sc.d stores nothing");
    CHECK(SC("sc.d", p, 8) != 0, "sc.d after a failed sc fails");
    {
        /* retry loop: atomic increment with lr/sc */
        mem[2] = 41;
        uint64_t tmp, fail;
        __asm__ volatile("1: lr.d %0, (%2)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%2)\n\tbnez %1, 1b"
                         : "=&r"(tmp), "=&r"(fail) : "r"(&mem[2]) : "memory");
        CHECK_EQ(mem[2], 42, "lr/sc increment loop");
    }

    section("AMO .w (old value sign-extended, upper memory word untouched)");
    mem[1] = 0x5555555555555555UL;
    AMO_CHECK("amoswap.w", 0x80000000UL, 0x7fffffffUL, 0x7fffffffUL, 1);
    AMO_CHECK("amoadd.w", 0xffffffffUL, 2, 1, 1);
    AMO_CHECK("amoand.w", 0xf0f0f0f0UL, 0xff00ff00UL, 0xf000f000UL, 1);
    AMO_CHECK("amoor.w", 0x80000000UL, 1, 0x80000001UL, 1);
    AMO_CHECK("amoxor.w", 0xffffffffUL, 0x0f0f0f0fUL, 0xf0f0f0f0UL, 1);
    AMO_CHECK("amomin.w", 5, 0x80000000UL, 0x80000000UL, 1);
    AMO_CHECK("amomax.w", 0x80000000UL, 5, 5, 1);
    AMO_CHECK("amominu.w", 5, 0x80000000UL, 5, 1);
    AMO_CHECK("amomaxu.w", 5, 0x80000000UL, 0x80000000UL, 1);
    CHECK_EQ(mem[1], 0x5555555555555555UL, ".w AMOs leave the neighbouring word alone");
    {
        /* .w on the upper word of a doubleword */
        mem[0] = 0x00000001ffffffffUL;
        uint64_t old = AMO("amoadd.w", (uint8_t *)&mem[0] + 4, 0xffffffffUL);
        CHECK_EQ(old, 1, "amoadd.w on the upper half returns its old value");
        CHECK_EQ(mem[0], 0x00000000ffffffffUL, "amoadd.w on the upper half wraps in 32 bits");
    }

    section("AMO .d");
    AMO_CHECK("amoswap.d", 0x8000000000000000UL, 1, 1, 0);
    AMO_CHECK("amoadd.d", ~0UL, 2, 1, 0);
    AMO_CHECK("amoand.d", 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0x0f000f000f000f00UL, 0);
    AMO_CHECK("amoor.d", 0x8000000000000000UL, 1, 0x8000000000000001UL, 0);
    AMO_CHECK("amoxor.d", ~0UL, 0xf0f0UL, ~0xf0f0UL, 0);
    AMO_CHECK("amomin.d", 1, ~0UL, ~0UL, 0);
    AMO_CHECK("amomax.d", 0x8000000000000000UL, 0x7fffffffffffffffUL, 0x7fffffffffffffffUL, 0);
    AMO_CHECK("amominu.d", 1, ~0UL, 1, 0);
    AMO_CHECK("amomaxu.d", 1, ~0UL, ~0UL, 0);
    {
        mem[0] = 9;
        uint64_t r;
        __asm__ volatile("amoadd.d x0, %1, (%2)\n\tmv %0, x0" : "=r"(r) : "r"(1UL), "r"(&mem[0]) : "memory");
        CHECK_EQ(mem[0], 10, "amoadd.d with rd = x0 still stores");
        CHECK_EQ(AMO("amoswap.d.aqrl", &mem[0], 3), 10, "amoswap.d.aqrl");
    }

    section("misaligned AMO / LR raise address-misaligned");
    {
        uint8_t *b = (uint8_t *)&mem[0];
        trap_arm();
        (void)AMO("amoadd.w", b + 2, 1);
        /* The spec names store/AMO-misaligned (6); QEMU 7.2 reports load-misaligned (4): accept both. */
        printf_("misaligned amoadd.w raised cause %lu\n", m_trap_rec[0].cause);
        CHECK(m_trap_rec[0].cause == CAUSE_MISALIGNED_STORE || m_trap_rec[0].cause == CAUSE_MISALIGNED_LOAD,
              "misaligned amoadd.w: address-misaligned");
        CHECK_EQ(m_trap_rec[0].tval, (uint64_t)(uintptr_t)(b + 2), "misaligned amoadd.w: mtval = address");
        trap_arm();
        (void)AMO("amoswap.d", b + 4, 1);
        CHECK(m_trap_rec[0].cause == CAUSE_MISALIGNED_STORE || m_trap_rec[0].cause == CAUSE_MISALIGNED_LOAD,
              "misaligned amoswap.d: address-misaligned");
        CHECK_EQ(m_trap_rec[0].count, 1, "misaligned amoswap.d traps once");
        trap_arm();
        (void)LR("lr.d", b + 4);
        CHECK_EQ(m_trap_rec[0].cause, CAUSE_MISALIGNED_LOAD, "misaligned lr.d: load misaligned");
        CHECK_EQ(m_trap_rec[0].tval, (uint64_t)(uintptr_t)(b + 4), "misaligned lr.d: mtval = address");
        /* A misaligned sc without a reservation may fail without trapping (QEMU 7.2 does): not checked. */
        trap_disarm();
    }
    PASS();
}
