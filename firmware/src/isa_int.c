/* RV64I integer computation: register and immediate forms, W-ops, shifts, compares, lui/auipc. */
#include "ferrite.h"
#include "asmops.h"

PROGRAM("isa_int");

int main(void)
{
    section("add/sub");
    CHECK_EQ(OP_RR("add", 1, 2), 3, "add");
    CHECK_EQ(OP_RR("add", 0x7fffffffffffffffUL, 1), 0x8000000000000000UL, "add wraps to INT64_MIN");
    CHECK_EQ(OP_RR("add", ~0UL, 1), 0, "add -1 + 1");
    CHECK_EQ(OP_RR("sub", 0, 1), ~0UL, "sub 0 - 1");
    CHECK_EQ(OP_RR("sub", 0x8000000000000000UL, 1), 0x7fffffffffffffffUL, "sub wraps");
    CHECK_EQ(OP_RI("addi", 5, -6), ~0UL, "addi negative imm");
    CHECK_EQ(OP_RI("addi", 0, 2047), 2047, "addi max imm");
    CHECK_EQ(OP_RI("addi", 0, -2048), (uint64_t)-2048, "addi min imm");

    section("W ops sign-extend bit 31");
    CHECK_EQ(OP_RR("addw", 0x7fffffff, 1), 0xffffffff80000000UL, "addw overflow sign-extends");
    CHECK_EQ(OP_RR("addw", 0xffffffff00000001UL, 0x1234), 0x1235, "addw ignores upper bits");
    CHECK_EQ(OP_RR("subw", 0, 1), ~0UL, "subw 0 - 1");
    CHECK_EQ(OP_RR("subw", 0x80000000UL, 1), 0x7fffffff, "subw INT32_MIN - 1");
    CHECK_EQ(OP_RI("addiw", 0x7fffffff, 1), 0xffffffff80000000UL, "addiw overflow");
    CHECK_EQ(OP_RI("addiw", 0x123456789UL, 0), 0x23456789, "addiw 0 = sext.w");
    CHECK_EQ(OP_RI("addiw", 0xfffffffffUL, 0), ~0UL, "sext.w of 0xfffffffff");

    section("shifts");
    CHECK_EQ(OP_RR("sll", 1, 63), 0x8000000000000000UL, "sll 63");
    CHECK_EQ(OP_RR("sll", 1, 64 + 3), 8, "sll uses shamt[5:0]");
    CHECK_EQ(OP_RR("srl", 0x8000000000000000UL, 63), 1, "srl 63");
    CHECK_EQ(OP_RR("sra", 0x8000000000000000UL, 63), ~0UL, "sra 63");
    CHECK_EQ(OP_RR("sra", 0x8000000000000000UL, 64 + 4), 0xf800000000000000UL, "sra uses shamt[5:0]");
    CHECK_EQ(OP_RI("slli", 3, 62), 0xc000000000000000UL, "slli 62");
    CHECK_EQ(OP_RI("srli", ~0UL, 60), 0xf, "srli 60");
    CHECK_EQ(OP_RI("srai", 0x8000000000000000UL, 1), 0xc000000000000000UL, "srai 1");
    CHECK_EQ(OP_RR("sllw", 1, 31), 0xffffffff80000000UL, "sllw 31 sign-extends");
    CHECK_EQ(OP_RR("sllw", 1, 32 + 1), 2, "sllw uses shamt[4:0]");
    CHECK_EQ(OP_RR("srlw", 0xffffffff80000000UL, 31), 1, "srlw 31");
    CHECK_EQ(OP_RR("srlw", 0x80000000UL, 0), 0xffffffff80000000UL, "srlw 0 sign-extends");
    CHECK_EQ(OP_RR("sraw", 0x80000000UL, 31), ~0UL, "sraw 31");
    CHECK_EQ(OP_RR("sraw", 0x1234567880000000UL, 4), 0xfffffffff8000000UL, "sraw ignores upper bits");
    CHECK_EQ(OP_RI("slliw", 0xffffffffUL, 4), 0xfffffffffffffff0UL, "slliw");
    CHECK_EQ(OP_RI("srliw", 0xfffffff0UL, 4), 0x0fffffff, "srliw");
    CHECK_EQ(OP_RI("sraiw", 0x80000000UL, 4), 0xfffffffff8000000UL, "sraiw");

    section("compares");
    CHECK_EQ(OP_RR("slt", ~0UL, 0), 1, "slt -1 < 0");
    CHECK_EQ(OP_RR("slt", 0, ~0UL), 0, "slt 0 < -1 is false");
    CHECK_EQ(OP_RR("sltu", ~0UL, 0), 0, "sltu max < 0 is false");
    CHECK_EQ(OP_RR("sltu", 0, ~0UL), 1, "sltu 0 < max");
    CHECK_EQ(OP_RR("sltu", 0, 0), 0, "sltu equal");
    CHECK_EQ(OP_RR("sltu", 0, 5), 1, "sltu x0, rs2 = snez");
    CHECK_EQ(OP_RI("slti", 0x8000000000000000UL, -1), 1, "slti INT64_MIN < -1");
    CHECK_EQ(OP_RI("sltiu", 0xfffffffffffffffeUL, -1), 1, "sltiu imm -1 is max unsigned");
    CHECK_EQ(OP_RI("sltiu", ~0UL, -1), 0, "sltiu max < max is false");
    CHECK_EQ(OP_RI("sltiu", 0, 1), 1, "sltiu 1 = seqz");

    section("logic");
    CHECK_EQ(OP_RR("and", 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL), 0x0f000f000f000f00UL, "and");
    CHECK_EQ(OP_RR("or", 0xff00000000000000UL, 0xff), 0xff000000000000ffUL, "or");
    CHECK_EQ(OP_RR("xor", 0xaaaaaaaaaaaaaaaaUL, ~0UL), 0x5555555555555555UL, "xor");
    CHECK_EQ(OP_RI("andi", 0x123456789abcdef0UL, -16), 0x123456789abcdef0UL, "andi sign-extended imm");
    CHECK_EQ(OP_RI("andi", 0x123456789abcdef0UL, 0x7f0), 0x6f0, "andi positive imm");
    CHECK_EQ(OP_RI("ori", 0, -1), ~0UL, "ori -1");
    CHECK_EQ(OP_RI("xori", 0x5a, -1), ~0x5aUL, "xori -1 = not");

    section("lui/auipc/x0");
    CHECK_EQ(OP_I("lui", 0x80000), 0xffffffff80000000UL, "lui sign-extends bit 31");
    CHECK_EQ(OP_I("lui", 0x7ffff), 0x7ffff000UL, "lui positive");
    {
        uint64_t pc, val;
        __asm__ volatile("1: auipc %0, 0x1\n\tla %1, 1b" : "=r"(val), "=r"(pc));
        CHECK_EQ(val - pc, 0x1000, "auipc adds imm<<12 to its own pc");
        __asm__ volatile("1: auipc %0, 0xfffff\n\tla %1, 1b" : "=r"(val), "=r"(pc));
        CHECK_EQ(val - pc, (uint64_t)-0x1000, "auipc negative offset");
    }
    {
        uint64_t r;
        __asm__ volatile("li t0, 55\n\taddi x0, t0, 1\n\tadd x0, t0, t0\n\tmv %0, x0" : "=r"(r) :: "t0");
        CHECK_EQ(r, 0, "writes to x0 are discarded");
    }
    PASS();
}
