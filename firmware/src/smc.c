/* Self-modifying code: an instruction rewritten inside a running loop (then fence.i), code and data
   on one page, and code copied into a data buffer, run, rewritten and run again. */
#include "ferrite.h"

PROGRAM("smc");

extern uint32_t smc_patch_site[], smc_template[], smc_template_end[];
extern volatile uint64_t smc_counter;
uint64_t smc_loop(uint64_t n, uint64_t k);
uint64_t smc_ret_imm(void);
void smc_bump(void);

#define ADDI_A2_1 0x00160613u
#define ADDI_A0_ZERO(imm) ((((uint32_t)(imm) & 0xfff) << 20) | (10u << 7) | 0x13u)

static uint32_t code_buf[64] __attribute__((aligned(64)));

int main(void)
{
    section("instruction rewritten inside a running loop");
    for (uint64_t k = 1; k <= 3; k++) {
        *(volatile uint32_t *)smc_patch_site = ADDI_A2_1;
        fence_i();
        uint64_t n = 1000 * k, at = 300 * k;
        CHECK_EQ(smc_loop(n, at), at + 2 * (n - at), "loop sum reflects the patch from its iteration on");
    }
    CHECK_EQ(smc_loop(10, 0), 20, "the patched loop runs patched from the start");

    section("code and data on one page");
    {
        volatile uint32_t *insn = (volatile uint32_t *)(uintptr_t)smc_ret_imm;
        uint64_t bad = 0;
        for (int i = 0; i < 200; i++) {
            *insn = ADDI_A0_ZERO(i * 7 - 600);
            fence_i();
            if (smc_ret_imm() != (uint64_t)(int64_t)(i * 7 - 600))
                bad++;
        }
        CHECK_EQ(bad, 0, "200 rewrites of an immediate, each seen after fence.i");
        smc_counter = 0;
        for (int i = 0; i < 5000; i++)
            smc_bump();
        CHECK_EQ(smc_counter, 5000, "code updating data on its own page 5000 times");
    }

    section("code copied to a data buffer");
    {
        size_t words = (size_t)(smc_template_end - smc_template);
        for (size_t i = 0; i < words; i++)
            code_buf[i] = smc_template[i];
        fence_i();
        uint64_t (*fn)(uint64_t) = (uint64_t (*)(uint64_t))(uintptr_t)code_buf;
        CHECK_EQ(fn(5), 22, "copied code runs (5 * 3 + 7)");
        code_buf[2] = ADDI_A0_ZERO(1) | (10u << 15);     /* addi a0, a0, 1 */
        fence_i();
        CHECK_EQ(fn(5), 16, "rewritten copy runs the new instruction (5 * 3 + 1)");
        for (int round = 0; round < 50; round++) {
            code_buf[2] = ADDI_A0_ZERO(round) | (10u << 15);
            fence_i();
            if (fn(round) != (uint64_t)(round * 3 + round))
                CHECK(0, "rewrite in a loop");
        }
        CHECK(1, "50 rewrite-and-run rounds");
    }
    PASS();
}
