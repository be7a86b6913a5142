/* M extension: multiply high parts, division by zero, signed overflow, W forms. */
#include "ferrite.h"
#include "asmops.h"

PROGRAM("isa_m");

#define MIN64 0x8000000000000000UL
#define M1 (~0UL)

int main(void)
{
    section("multiply");
    CHECK_EQ(OP_RR("mul", 3, 7), 21, "mul");
    CHECK_EQ(OP_RR("mul", M1, M1), 1, "mul -1 * -1");
    CHECK_EQ(OP_RR("mul", 0x100000000UL, 0x100000000UL), 0, "mul keeps the low 64 bits");
    CHECK_EQ(OP_RR("mulh", M1, M1), 0, "mulh -1 * -1");
    CHECK_EQ(OP_RR("mulh", MIN64, MIN64), 0x4000000000000000UL, "mulh MIN * MIN");
    CHECK_EQ(OP_RR("mulh", MIN64, 1), M1, "mulh MIN * 1");
    CHECK_EQ(OP_RR("mulhu", M1, M1), 0xfffffffffffffffeUL, "mulhu max * max");
    CHECK_EQ(OP_RR("mulhu", 0x100000000UL, 0x100000000UL), 1, "mulhu 2^32 * 2^32");
    CHECK_EQ(OP_RR("mulhsu", M1, M1), M1, "mulhsu -1 * max");
    CHECK_EQ(OP_RR("mulhsu", 2, M1), 1, "mulhsu 2 * max");
    CHECK_EQ(OP_RR("mulhsu", MIN64, 2), M1, "mulhsu MIN * 2");
    CHECK_EQ(OP_RR("mulw", 0x7fffffff, 2), 0xfffffffffffffffeUL, "mulw sign-extends");
    CHECK_EQ(OP_RR("mulw", 0x123400010000UL, 0x10000), 0, "mulw uses low 32 bits");

    section("divide");
    CHECK_EQ(OP_RR("div", -7L, 2), (uint64_t)-3L, "div rounds toward zero");
    CHECK_EQ(OP_RR("rem", -7L, 2), (uint64_t)-1L, "rem has the dividend's sign");
    CHECK_EQ(OP_RR("divu", M1, 2), 0x7fffffffffffffffUL, "divu");
    CHECK_EQ(OP_RR("remu", M1, 10), 5, "remu");
    CHECK_EQ(OP_RR("div", 42, 0), M1, "div by zero = -1");
    CHECK_EQ(OP_RR("divu", 42, 0), M1, "divu by zero = max");
    CHECK_EQ(OP_RR("rem", 42, 0), 42, "rem by zero = dividend");
    CHECK_EQ(OP_RR("remu", (uint64_t)-42L, 0), (uint64_t)-42L, "remu by zero = dividend");
    CHECK_EQ(OP_RR("div", MIN64, M1), MIN64, "div MIN / -1 = MIN");
    CHECK_EQ(OP_RR("rem", MIN64, M1), 0, "rem MIN % -1 = 0");

    section("divide, W forms");
    CHECK_EQ(OP_RR("divw", 0xffffffff80000000UL, M1), 0xffffffff80000000UL, "divw INT32_MIN / -1");
    CHECK_EQ(OP_RR("remw", 0x80000000UL, M1), 0, "remw INT32_MIN % -1");
    CHECK_EQ(OP_RR("divw", 5, 0), M1, "divw by zero = -1");
    CHECK_EQ(OP_RR("divuw", 5, 0), M1, "divuw by zero = sext(0xffffffff)");
    CHECK_EQ(OP_RR("remw", 0x1ffffff9UL | (7UL << 40), 0), 0x1ffffff9, "remw by zero = sext(dividend)");
    CHECK_EQ(OP_RR("remw", 0x80000005UL, 0), 0xffffffff80000005UL, "remw by zero sign-extends");
    CHECK_EQ(OP_RR("remuw", 0x80000005UL, 0), 0xffffffff80000005UL, "remuw by zero = sext(dividend)");
    CHECK_EQ(OP_RR("divuw", 0xffffffffUL, 1), M1, "divuw result sign-extended");
    CHECK_EQ(OP_RR("divw", 0x100000006UL, 0x100000003UL), 2, "divw ignores upper bits");
    CHECK_EQ(OP_RR("remuw", 0xfffffff7UL, 10), 7, "remuw");
    PASS();
}
