/* Sv57 paging: see vm_common.h; adds a 256 TiB leaf and the 57-bit canonical check. */
#define LEVELS 5
#include "vm_common.h"

PROGRAM("vm_sv57");

#define VA_256T 0x1000000000000UL   /* 256 TiB leaf at level 4 -> PA 0 */

int main(void)
{
    vm_tests();
    section("Sv57 address range");
    map(VA_256T, 0, 4, PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, VA_256T + PA(data_pages[4]) + 8), 0x4001, "256 TiB leaf maps RAM at its offset");
    map(VA_256T * 2, 0x40000000UL, 4, PTE_V | PTE_R | PTE_A);
    expect_fault(PRV_S, s_load, VA_256T * 2 + 8, CAUSE_LOAD_PAGE_FAULT, "misaligned 256 TiB leaf faults");
    expect_fault(PRV_S, s_load, 0x0100000000000000UL, CAUSE_LOAD_PAGE_FAULT,
                 "VA with bit 56 set but bits 63:57 clear is not canonical");
    map(0x0000800000000000UL, PA(data_pages[3]), 0, PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, 0x0000800000000000UL + 24), 0x3003, "VA with bit 47 set is fine in Sv57");
    vm_finish();
    PASS();
}
