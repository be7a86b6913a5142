/* Sv48 paging: see vm_common.h; adds a 512 GiB leaf and the 48-bit canonical check. */
#define LEVELS 4
#include "vm_common.h"

PROGRAM("vm_sv48");

#define VA_512G 0x8000000000UL   /* 512 GiB leaf -> PA 0 */

int main(void)
{
    vm_tests();
    section("Sv48 address range");
    map(VA_512G, 0, 3, PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, VA_512G + PA(data_pages[4]) + 8), 0x4001, "512 GiB leaf maps RAM at its offset");
    map(VA_512G * 2, 0x40000000UL, 3, PTE_V | PTE_R | PTE_A);
    expect_fault(PRV_S, s_load, VA_512G * 2 + 8, CAUSE_LOAD_PAGE_FAULT, "misaligned 512 GiB leaf faults");
    expect_fault(PRV_S, s_load, 0x0000800000000000UL, CAUSE_LOAD_PAGE_FAULT,
                 "VA with bit 47 set but bits 63:48 clear is not canonical");
    map(0x0000004000000000UL, PA(data_pages[3]), 0, PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, 0x0000004000000000UL + 24), 0x3003, "VA with bit 38 set is fine in Sv48");
    vm_finish();
    PASS();
}
