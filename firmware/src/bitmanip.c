/*
 * Bit manipulation: every Zba, Zbb, Zbc, Zbs, Zbkb and Zbkx instruction on
 * values chosen to reach the edges (sign bits, zero, all ones, the upper
 * word), and Zicond's czero.eqz / czero.nez. Each check names the
 * instruction and its operands.
 */
#include "ferrite.h"

PROGRAM("bitmanip");

#define ARCH ".option push\n.option arch, +zba, +zbb, +zbc, +zbs, +zbkb, +zbkx\n"

/* rd = op rs1, rs2 */
#define RR(op, a, b, want) do { uint64_t r_; \
    __asm__ volatile(ARCH op " %0, %1, %2\n.option pop" : "=r"(r_) : "r"(a), "r"(b)); \
    CHECK_EQ(r_, want, op " " #a ", " #b); } while (0)
/* rd = op rs1 */
#define R1(op, a, want) do { uint64_t r_; \
    __asm__ volatile(ARCH op " %0, %1\n.option pop" : "=r"(r_) : "r"(a)); \
    CHECK_EQ(r_, want, op " " #a); } while (0)
/* rd = op rs1, imm */
#define RI(op, imm, a, want) do { uint64_t r_; \
    __asm__ volatile(ARCH op " %0, %1, " #imm "\n.option pop" : "=r"(r_) : "r"(a)); \
    CHECK_EQ(r_, want, op " " #a ", " #imm); } while (0)
/* Zicond by encoding (the assembler may predate it): funct7 0000111. */
#define CZ(f3, name, a, b, want) do { uint64_t r_; \
    __asm__ volatile(".insn r 0x33, " #f3 ", 7, %0, %1, %2" : "=r"(r_) : "r"(a), "r"(b)); \
    CHECK_EQ(r_, want, name " " #a ", " #b); } while (0)

int main(void)
{
    section("Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zicond");
    RR("add.uw", 0x8123456789abcdefUL, 0xfedcba98UL, 0x188888887UL);
    RR("add.uw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456888888887UL);
    RR("add.uw", 0x8123456789abcdefUL, 0x5UL, 0x89abcdf4UL);
    RR("add.uw", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("add.uw", 0xffffffffffffffffUL, 0x3fUL, 0x10000003eUL);
    RR("sh1add", 0x8123456789abcdefUL, 0xfedcba98UL, 0x2468ad012345676UL);
    RR("sh1add", 0xfedcba98UL, 0x8123456789abcdefUL, 0x812345698765431fUL);
    RR("sh1add", 0x8123456789abcdefUL, 0x5UL, 0x2468acf13579be3UL);
    RR("sh1add", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh1add", 0xffffffffffffffffUL, 0x3fUL, 0x3dUL);
    RR("sh2add", 0x8123456789abcdefUL, 0xfedcba98UL, 0x48d159f258bf254UL);
    RR("sh2add", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456b851eb84fUL);
    RR("sh2add", 0x8123456789abcdefUL, 0x5UL, 0x48d159e26af37c1UL);
    RR("sh2add", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh2add", 0xffffffffffffffffUL, 0x3fUL, 0x3bUL);
    RR("sh3add", 0x8123456789abcdefUL, 0xfedcba98UL, 0x91a2b3d4c3b2a10UL);
    RR("sh3add", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456f8091a2afUL);
    RR("sh3add", 0x8123456789abcdefUL, 0x5UL, 0x91a2b3c4d5e6f7dUL);
    RR("sh3add", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh3add", 0xffffffffffffffffUL, 0x3fUL, 0x37UL);
    RR("sh1add.uw", 0x8123456789abcdefUL, 0xfedcba98UL, 0x212345676UL);
    RR("sh1add.uw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x812345698765431fUL);
    RR("sh1add.uw", 0x8123456789abcdefUL, 0x5UL, 0x113579be3UL);
    RR("sh1add.uw", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh1add.uw", 0xffffffffffffffffUL, 0x3fUL, 0x20000003dUL);
    RR("sh2add.uw", 0x8123456789abcdefUL, 0xfedcba98UL, 0x3258bf254UL);
    RR("sh2add.uw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456b851eb84fUL);
    RR("sh2add.uw", 0x8123456789abcdefUL, 0x5UL, 0x226af37c1UL);
    RR("sh2add.uw", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh2add.uw", 0xffffffffffffffffUL, 0x3fUL, 0x40000003bUL);
    RR("sh3add.uw", 0x8123456789abcdefUL, 0xfedcba98UL, 0x54c3b2a10UL);
    RR("sh3add.uw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456f8091a2afUL);
    RR("sh3add.uw", 0x8123456789abcdefUL, 0x5UL, 0x44d5e6f7dUL);
    RR("sh3add.uw", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("sh3add.uw", 0xffffffffffffffffUL, 0x3fUL, 0x800000037UL);
    RR("andn", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456701234567UL);
    RR("andn", 0xfedcba98UL, 0x8123456789abcdefUL, 0x76543210UL);
    RR("andn", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdeaUL);
    RR("andn", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("andn", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffc0UL);
    RR("orn", 0x8123456789abcdefUL, 0xfedcba98UL, 0xffffffff89abcdefUL);
    RR("orn", 0xfedcba98UL, 0x8123456789abcdefUL, 0x7edcba98fedcba98UL);
    RR("orn", 0x8123456789abcdefUL, 0x5UL, 0xffffffffffffffffUL);
    RR("orn", 0x0UL, 0x8123456789abcdefUL, 0x7edcba9876543210UL);
    RR("orn", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("xnor", 0x8123456789abcdefUL, 0xfedcba98UL, 0x7edcba9888888888UL);
    RR("xnor", 0xfedcba98UL, 0x8123456789abcdefUL, 0x7edcba9888888888UL);
    RR("xnor", 0x8123456789abcdefUL, 0x5UL, 0x7edcba9876543215UL);
    RR("xnor", 0x0UL, 0x8123456789abcdefUL, 0x7edcba9876543210UL);
    RR("xnor", 0xffffffffffffffffUL, 0x3fUL, 0x3fUL);
    RR("max", 0x8123456789abcdefUL, 0xfedcba98UL, 0xfedcba98UL);
    RR("max", 0xfedcba98UL, 0x8123456789abcdefUL, 0xfedcba98UL);
    RR("max", 0x8123456789abcdefUL, 0x5UL, 0x5UL);
    RR("max", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("max", 0xffffffffffffffffUL, 0x3fUL, 0x3fUL);
    RR("maxu", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456789abcdefUL);
    RR("maxu", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("maxu", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdefUL);
    RR("maxu", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("maxu", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("min", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456789abcdefUL);
    RR("min", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("min", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdefUL);
    RR("min", 0x0UL, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RR("min", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("minu", 0x8123456789abcdefUL, 0xfedcba98UL, 0xfedcba98UL);
    RR("minu", 0xfedcba98UL, 0x8123456789abcdefUL, 0xfedcba98UL);
    RR("minu", 0x8123456789abcdefUL, 0x5UL, 0x5UL);
    RR("minu", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("minu", 0xffffffffffffffffUL, 0x3fUL, 0x3fUL);
    RR("rol", 0x8123456789abcdefUL, 0xfedcba98UL, 0x6789abcdef812345UL);
    RR("rol", 0xfedcba98UL, 0x8123456789abcdefUL, 0x5d4c000000007f6eUL);
    RR("rol", 0x8123456789abcdefUL, 0x5UL, 0x2468acf13579bdf0UL);
    RR("rol", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("rol", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("ror", 0x8123456789abcdefUL, 0xfedcba98UL, 0xabcdef8123456789UL);
    RR("ror", 0xfedcba98UL, 0x8123456789abcdefUL, 0x1fdb975300000UL);
    RR("ror", 0x8123456789abcdefUL, 0x5UL, 0x7c091a2b3c4d5e6fUL);
    RR("ror", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("ror", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("rolw", 0x8123456789abcdefUL, 0xfedcba98UL, 0xffffffffef89abcdUL);
    RR("rolw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x5d4c7f6eUL);
    RR("rolw", 0x8123456789abcdefUL, 0x5UL, 0x3579bdf1UL);
    RR("rolw", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("rolw", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("rorw", 0x8123456789abcdefUL, 0xfedcba98UL, 0xffffffffabcdef89UL);
    RR("rorw", 0xfedcba98UL, 0x8123456789abcdefUL, 0x7531fdb9UL);
    RR("rorw", 0x8123456789abcdefUL, 0x5UL, 0x7c4d5e6fUL);
    RR("rorw", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("rorw", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("clmul", 0x8123456789abcdefUL, 0xfedcba98UL, 0x68f048d068107008UL);
    RR("clmul", 0xfedcba98UL, 0x8123456789abcdefUL, 0x68f048d068107008UL);
    RR("clmul", 0x8123456789abcdefUL, 0x5UL, 0x85ae50f9af04fa53UL);
    RR("clmul", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("clmul", 0xffffffffffffffffUL, 0x3fUL, 0x15UL);
    RR("clmulh", 0x8123456789abcdefUL, 0xfedcba98UL, 0x7f8e6594UL);
    RR("clmulh", 0xfedcba98UL, 0x8123456789abcdefUL, 0x7f8e6594UL);
    RR("clmulh", 0x8123456789abcdefUL, 0x5UL, 0x2UL);
    RR("clmulh", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("clmulh", 0xffffffffffffffffUL, 0x3fUL, 0x15UL);
    RR("clmulr", 0x8123456789abcdefUL, 0xfedcba98UL, 0xff1ccb28UL);
    RR("clmulr", 0xfedcba98UL, 0x8123456789abcdefUL, 0xff1ccb28UL);
    RR("clmulr", 0x8123456789abcdefUL, 0x5UL, 0x5UL);
    RR("clmulr", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("clmulr", 0xffffffffffffffffUL, 0x3fUL, 0x2aUL);
    RR("bclr", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456788abcdefUL);
    RR("bclr", 0xfedcba98UL, 0x8123456789abcdefUL, 0xfedcba98UL);
    RR("bclr", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdcfUL);
    RR("bclr", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("bclr", 0xffffffffffffffffUL, 0x3fUL, 0x7fffffffffffffffUL);
    RR("bext", 0x8123456789abcdefUL, 0xfedcba98UL, 0x1UL);
    RR("bext", 0xfedcba98UL, 0x8123456789abcdefUL, 0x0UL);
    RR("bext", 0x8123456789abcdefUL, 0x5UL, 0x1UL);
    RR("bext", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("bext", 0xffffffffffffffffUL, 0x3fUL, 0x1UL);
    RR("binv", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456788abcdefUL);
    RR("binv", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8000fedcba98UL);
    RR("binv", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdcfUL);
    RR("binv", 0x0UL, 0x8123456789abcdefUL, 0x800000000000UL);
    RR("binv", 0xffffffffffffffffUL, 0x3fUL, 0x7fffffffffffffffUL);
    RR("bset", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456789abcdefUL);
    RR("bset", 0xfedcba98UL, 0x8123456789abcdefUL, 0x8000fedcba98UL);
    RR("bset", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdefUL);
    RR("bset", 0x0UL, 0x8123456789abcdefUL, 0x800000000000UL);
    RR("bset", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("pack", 0x8123456789abcdefUL, 0xfedcba98UL, 0xfedcba9889abcdefUL);
    RR("pack", 0xfedcba98UL, 0x8123456789abcdefUL, 0x89abcdeffedcba98UL);
    RR("pack", 0x8123456789abcdefUL, 0x5UL, 0x589abcdefUL);
    RR("pack", 0x0UL, 0x8123456789abcdefUL, 0x89abcdef00000000UL);
    RR("pack", 0xffffffffffffffffUL, 0x3fUL, 0x3fffffffffUL);
    RR("packh", 0x8123456789abcdefUL, 0xfedcba98UL, 0x98efUL);
    RR("packh", 0xfedcba98UL, 0x8123456789abcdefUL, 0xef98UL);
    RR("packh", 0x8123456789abcdefUL, 0x5UL, 0x5efUL);
    RR("packh", 0x0UL, 0x8123456789abcdefUL, 0xef00UL);
    RR("packh", 0xffffffffffffffffUL, 0x3fUL, 0x3fffUL);
    RR("packw", 0x8123456789abcdefUL, 0xfedcba98UL, 0xffffffffba98cdefUL);
    RR("packw", 0xfedcba98UL, 0x8123456789abcdefUL, 0xffffffffcdefba98UL);
    RR("packw", 0x8123456789abcdefUL, 0x5UL, 0x5cdefUL);
    RR("packw", 0x0UL, 0x8123456789abcdefUL, 0xffffffffcdef0000UL);
    RR("packw", 0xffffffffffffffffUL, 0x3fUL, 0x3fffffUL);
    RR("xperm4", 0x8123456789abcdefUL, 0xfedcba98UL, 0xffffffff81234567UL);
    RR("xperm4", 0xfedcba98UL, 0x8123456789abcdefUL, 0x9abcdef00000000UL);
    RR("xperm4", 0x8123456789abcdefUL, 0x5UL, 0xfffffffffffffffaUL);
    RR("xperm4", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("xperm4", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    RR("xperm8", 0x8123456789abcdefUL, 0xfedcba98UL, 0xefefefef00000000UL);
    RR("xperm8", 0xfedcba98UL, 0x8123456789abcdefUL, 0x0UL);
    RR("xperm8", 0x8123456789abcdefUL, 0x5UL, 0xefefefefefefef45UL);
    RR("xperm8", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    RR("xperm8", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffff00UL);
    R1("clz", 0x8123456789abcdefUL, 0x0UL);
    R1("clz", 0xfedcba98UL, 0x20UL);
    R1("clz", 0x0UL, 0x40UL);
    R1("clz", 0xffffffffffffffffUL, 0x0UL);
    R1("clz", 0x80UL, 0x38UL);
    R1("clzw", 0x8123456789abcdefUL, 0x0UL);
    R1("clzw", 0xfedcba98UL, 0x0UL);
    R1("clzw", 0x0UL, 0x20UL);
    R1("clzw", 0xffffffffffffffffUL, 0x0UL);
    R1("clzw", 0x80UL, 0x18UL);
    R1("ctz", 0x8123456789abcdefUL, 0x0UL);
    R1("ctz", 0xfedcba98UL, 0x3UL);
    R1("ctz", 0x0UL, 0x40UL);
    R1("ctz", 0xffffffffffffffffUL, 0x0UL);
    R1("ctz", 0x80UL, 0x7UL);
    R1("ctzw", 0x8123456789abcdefUL, 0x0UL);
    R1("ctzw", 0xfedcba98UL, 0x3UL);
    R1("ctzw", 0x0UL, 0x20UL);
    R1("ctzw", 0xffffffffffffffffUL, 0x0UL);
    R1("ctzw", 0x80UL, 0x7UL);
    R1("cpop", 0x8123456789abcdefUL, 0x21UL);
    R1("cpop", 0xfedcba98UL, 0x14UL);
    R1("cpop", 0x0UL, 0x0UL);
    R1("cpop", 0xffffffffffffffffUL, 0x40UL);
    R1("cpop", 0x80UL, 0x1UL);
    R1("cpopw", 0x8123456789abcdefUL, 0x14UL);
    R1("cpopw", 0xfedcba98UL, 0x14UL);
    R1("cpopw", 0x0UL, 0x0UL);
    R1("cpopw", 0xffffffffffffffffUL, 0x20UL);
    R1("cpopw", 0x80UL, 0x1UL);
    R1("sext.b", 0x8123456789abcdefUL, 0xffffffffffffffefUL);
    R1("sext.b", 0xfedcba98UL, 0xffffffffffffff98UL);
    R1("sext.b", 0x0UL, 0x0UL);
    R1("sext.b", 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    R1("sext.b", 0x80UL, 0xffffffffffffff80UL);
    R1("sext.h", 0x8123456789abcdefUL, 0xffffffffffffcdefUL);
    R1("sext.h", 0xfedcba98UL, 0xffffffffffffba98UL);
    R1("sext.h", 0x0UL, 0x0UL);
    R1("sext.h", 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    R1("sext.h", 0x80UL, 0x80UL);
    R1("zext.h", 0x8123456789abcdefUL, 0xcdefUL);
    R1("zext.h", 0xfedcba98UL, 0xba98UL);
    R1("zext.h", 0x0UL, 0x0UL);
    R1("zext.h", 0xffffffffffffffffUL, 0xffffUL);
    R1("zext.h", 0x80UL, 0x80UL);
    R1("orc.b", 0x8123456789abcdefUL, 0xffffffffffffffffUL);
    R1("orc.b", 0xfedcba98UL, 0xffffffffUL);
    R1("orc.b", 0x0UL, 0x0UL);
    R1("orc.b", 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    R1("orc.b", 0x80UL, 0xffUL);
    R1("rev8", 0x8123456789abcdefUL, 0xefcdab8967452381UL);
    R1("rev8", 0xfedcba98UL, 0x98badcfe00000000UL);
    R1("rev8", 0x0UL, 0x0UL);
    R1("rev8", 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    R1("rev8", 0x80UL, 0x8000000000000000UL);
    R1("brev8", 0x8123456789abcdefUL, 0x81c4a2e691d5b3f7UL);
    R1("brev8", 0xfedcba98UL, 0x7f3b5d19UL);
    R1("brev8", 0x0UL, 0x0UL);
    R1("brev8", 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    R1("brev8", 0x80UL, 0x1UL);
    RI("slli.uw", 35, 0x8123456789abcdefUL, 0x4d5e6f7800000000UL);
    RI("slli.uw", 35, 0xfedcba98UL, 0xf6e5d4c000000000UL);
    RI("slli.uw", 35, 0xffffffffffffffffUL, 0xfffffff800000000UL);
    RI("rori", 13, 0x8123456789abcdefUL, 0x6f7c091a2b3c4d5eUL);
    RI("rori", 13, 0xfedcba98UL, 0xd4c000000007f6e5UL);
    RI("rori", 13, 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    RI("roriw", 7, 0x8123456789abcdefUL, 0xffffffffdf13579bUL);
    RI("roriw", 7, 0xfedcba98UL, 0x31fdb975UL);
    RI("roriw", 7, 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    RI("bclri", 63, 0x8123456789abcdefUL, 0x123456789abcdefUL);
    RI("bclri", 63, 0xfedcba98UL, 0xfedcba98UL);
    RI("bclri", 63, 0xffffffffffffffffUL, 0x7fffffffffffffffUL);
    RI("bexti", 63, 0x8123456789abcdefUL, 0x1UL);
    RI("bexti", 63, 0xfedcba98UL, 0x0UL);
    RI("bexti", 63, 0xffffffffffffffffUL, 0x1UL);
    RI("binvi", 2, 0x8123456789abcdefUL, 0x8123456789abcdebUL);
    RI("binvi", 2, 0xfedcba98UL, 0xfedcba9cUL);
    RI("binvi", 2, 0xffffffffffffffffUL, 0xfffffffffffffffbUL);
    RI("bseti", 40, 0x8123456789abcdefUL, 0x8123456789abcdefUL);
    RI("bseti", 40, 0xfedcba98UL, 0x100fedcba98UL);
    RI("bseti", 40, 0xffffffffffffffffUL, 0xffffffffffffffffUL);
    CZ(5, "czero.eqz", 0x8123456789abcdefUL, 0xfedcba98UL, 0x8123456789abcdefUL);
    CZ(7, "czero.nez", 0x8123456789abcdefUL, 0xfedcba98UL, 0x0UL);
    CZ(5, "czero.eqz", 0xfedcba98UL, 0x8123456789abcdefUL, 0xfedcba98UL);
    CZ(7, "czero.nez", 0xfedcba98UL, 0x8123456789abcdefUL, 0x0UL);
    CZ(5, "czero.eqz", 0x8123456789abcdefUL, 0x5UL, 0x8123456789abcdefUL);
    CZ(7, "czero.nez", 0x8123456789abcdefUL, 0x5UL, 0x0UL);
    CZ(5, "czero.eqz", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    CZ(7, "czero.nez", 0x0UL, 0x8123456789abcdefUL, 0x0UL);
    CZ(5, "czero.eqz", 0xffffffffffffffffUL, 0x3fUL, 0xffffffffffffffffUL);
    CZ(7, "czero.nez", 0xffffffffffffffffUL, 0x3fUL, 0x0UL);
    CZ(5, "czero.eqz", 0x8123456789abcdefUL, 0x0UL, 0x0UL);
    CZ(7, "czero.nez", 0x8123456789abcdefUL, 0x0UL, 0x8123456789abcdefUL);
    PASS();
}
