/* RV64C: each compressed integer encoding computes what its base-ISA expansion would. */
#include "ferrite.h"

PROGRAM("isa_c");

void run_c_tests(uint64_t *out);

static const struct { const char *name; uint64_t want; } cases[] = {
    { "c.li -32", (uint64_t)-32 },
    { "c.li 31", 31 },
    { "c.addi -1", 9 },
    { "c.addiw overflow sign-extends", 0xffffffff80000000UL },
    { "c.addiw 0 = sext.w", 0xffffffff80000000UL },
    { "c.lui 0x1f", 0x1f000 },
    { "c.lui negative", 0xfffffffffffe0000UL },
    { "c.slli 63", 0x8000000000000000UL },
    { "c.srli 60", 0xf },
    { "c.srai 4", (uint64_t)-16 },
    { "c.andi -16", 0x1230 },
    { "c.andi 15", 0x4 },
    { "c.sub", (uint64_t)-42 },
    { "c.xor", 0xf0f0 },
    { "c.or", 0xfff0 },
    { "c.and", 0x0f00 },
    { "c.subw sign-extends", 0xffffffff80000000UL },
    { "c.addw ignores upper bits", 0xffffffff80000000UL },
    { "c.mv", 0x55aa },
    { "c.add", 0x55a9 },
    { "c.addi16sp -64", (uint64_t)-64 },
    { "c.addi4spn 8", 8 },
    { "c.swsp/c.lwsp sign-extends", 0xfffffffffedcba98UL },
    { "c.sdsp/c.ldsp", 0x0123456789abcdefUL },
    { "c.sw/c.lw sign-extends", 0xffffffff80000001UL },
    { "c.sd/c.ld", 0x7766554433221100UL },
    { "c.j skips", 0 },
    { "c.beqz taken, c.bnez not taken", 2 },
    { "c.jr", 5 },
    { "c.jalr links pc+2", 0 },
    { "c.addi is 2 bytes long", 2 },
};

int main(void)
{
    uint64_t out[sizeof cases / sizeof cases[0]];
    memset(out, 0xee, sizeof out);
    run_c_tests(out);
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_EQ(out[i], cases[i].want, cases[i].name);
    PASS();
}
