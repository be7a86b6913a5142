/* Conditional branches (signed and unsigned edges), jal/jalr links, jalr clearing bit 0. */
#include "ferrite.h"

PROGRAM("isa_branch");

/* 1 if "op a, b" branches, else 0 */
#define TAKEN(op, a, b) ({ uint64_t t_; __asm__ volatile( \
    "li %0, 1\n\t" op " %1, %2, 1f\n\tli %0, 0\n1:" : "=&r"(t_) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); t_; })

extern char jalr_target[], jal_ret[];

int main(void)
{
    section("conditional branches");
    CHECK_EQ(TAKEN("beq", 5, 5), 1, "beq equal taken");
    CHECK_EQ(TAKEN("beq", 5, 6), 0, "beq unequal not taken");
    CHECK_EQ(TAKEN("bne", 5, 6), 1, "bne taken");
    CHECK_EQ(TAKEN("bne", ~0UL, ~0UL), 0, "bne equal not taken");
    CHECK_EQ(TAKEN("blt", ~0UL, 0), 1, "blt -1 < 0");
    CHECK_EQ(TAKEN("blt", 0, ~0UL), 0, "blt 0 < -1 false");
    CHECK_EQ(TAKEN("blt", 3, 3), 0, "blt equal false");
    CHECK_EQ(TAKEN("bge", 3, 3), 1, "bge equal");
    CHECK_EQ(TAKEN("bge", 0, 0x8000000000000000UL), 1, "bge 0 >= INT64_MIN");
    CHECK_EQ(TAKEN("bge", 0x8000000000000000UL, 0), 0, "bge INT64_MIN >= 0 false");
    CHECK_EQ(TAKEN("bltu", 0, ~0UL), 1, "bltu 0 < max");
    CHECK_EQ(TAKEN("bltu", ~0UL, 0), 0, "bltu max < 0 false");
    CHECK_EQ(TAKEN("bgeu", ~0UL, 0), 1, "bgeu max >= 0");
    CHECK_EQ(TAKEN("bgeu", 0x7fffffffffffffffUL, 0x8000000000000000UL), 0, "bgeu unsigned edge");
    CHECK_EQ(TAKEN("bgeu", 7, 7), 1, "bgeu equal");

    section("backward branch loop");
    {
        uint64_t n;
        __asm__ volatile("li %0, 0\n\tli t0, 1000\n1:\taddi %0, %0, 3\n\taddi t0, t0, -1\n\tbnez t0, 1b"
                         : "=&r"(n) :: "t0");
        CHECK_EQ(n, 3000, "1000 iterations of a backward bne");
    }

    section("jal / jalr");
    {
        uint64_t link, expect;
        __asm__ volatile(".option push\n.option norvc\n\tjal %0, 1f\n2:\tnop\n1:\tla %1, 2b\n.option pop"
                         : "=r"(link), "=r"(expect));
        CHECK_EQ(link, expect, "jal links pc+4");
    }
    {
        uint64_t link, hit;
        /* jalr to an odd address: bit 0 of the target is cleared */
        __asm__ volatile(".option push\n.option norvc\n"
                         "\tla t0, jalr_target\n\taddi t0, t0, 1\n\tli %1, 0\n"
                         "\tjalr %0, 0(t0)\n\tj 2f\n"
                         "jalr_target:\n\tli %1, 1\n\tjr %0\n"
                         "2:\n.option pop" : "=&r"(link), "=&r"(hit) :: "t0");
        CHECK_EQ(hit, 1, "jalr to target|1 lands on target");
    }
    {
        uint64_t r, hit;
        /* jalr with a negative offset and odd sum */
        __asm__ volatile(".option push\n.option norvc\n"
                         "\tla t0, 3f\n\taddi t0, t0, 9\n\tli %1, 0\n"
                         "\tjalr %0, -8(t0)\n\tj 4f\n"
                         "3:\tli %1, 2\n\tjr %0\n"
                         "4:\n.option pop" : "=&r"(r), "=&r"(hit) :: "t0");
        CHECK_EQ(hit, 2, "jalr offset -8 from target+9 clears bit 0");
    }
    {
        uint64_t r;
        /* jalr with rd == rs1: the target is read before the link is written */
        __asm__ volatile(".option push\n.option norvc\n"
                         "\tla %0, 5f\n\tjalr %0, 0(%0)\n6:\tj 7f\n"
                         "5:\tla t1, 6b\n\tsub %0, %0, t1\n"
                         "7:\n.option pop" : "=&r"(r) :: "t1");
        CHECK_EQ(r, 0, "jalr rd == rs1 uses the old value, links pc+4");
    }
    {
        uint64_t r;
        __asm__ volatile("li %0, 0\n\tjal x0, 1f\n\tli %0, 9\n1:" : "=&r"(r));
        CHECK_EQ(r, 0, "jal x0 skips without linking");
    }
    PASS();
}
