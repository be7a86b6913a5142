/* Jumps into unmapped memory must raise an instruction access fault with mepc = mtval = the
   target, from M, S and U mode. (Jumps into MMIO are not checked: QEMU executes from MMIO.) */
#include "ferrite.h"

PROGRAM("wild_jump");

typedef void (*fn_t)(void);

static uint64_t lower_jump(uint64_t target) { ((fn_t)(uintptr_t)target)(); return 0; }

static void jump_and_check(uint64_t mode, uint64_t target, const char *what)
{
    trap_arm();
    if (mode == PRV_M)
        ((fn_t)(uintptr_t)target)();
    else
        enter_mode(mode, lower_jump, target, lower_stack_top());
    struct trap_record *r = &m_trap_rec[0];
    uint64_t count = r->count, cause = r->cause, epc = r->epc, tval = r->tval, prev = r->prev_priv;
    trap_disarm();
    printf_("%s: count=%lu mcause=%lu mepc=%lx mtval=%lx\n", what, count, cause, epc, tval);
    CHECK_EQ(count, 1, what);
    CHECK_EQ(cause, CAUSE_FETCH_ACCESS, "  mcause = instruction access fault");
    CHECK_EQ(epc, target, "  mepc = target");
    CHECK_EQ(tval, target, "  mtval = target");
    CHECK_EQ(prev, mode, "  taken from the jumping mode");
}

int main(void)
{
    jump_and_check(PRV_M, 0x0, "M jumps to 0x0");
    jump_and_check(PRV_M, 0x104, "M jumps to 0x104");
    jump_and_check(PRV_M, 0x100000000UL, "M jumps to 0x100000000");
    jump_and_check(PRV_S, 0x0, "S jumps to 0x0");
    jump_and_check(PRV_U, 0x800, "U jumps to 0x800");
    jump_and_check(PRV_U, 0x100000000UL, "U jumps to 0x100000000");
    PASS();
}
