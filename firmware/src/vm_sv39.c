/* Sv39 paging: see vm_common.h; adds the non-canonical address check for 39-bit VAs. */
#define LEVELS 3
#include "vm_common.h"

PROGRAM("vm_sv39");

int main(void)
{
    vm_tests();
    section("Sv39 address range");
    expect_fault(PRV_S, s_load, 0x0000004000000000UL, CAUSE_LOAD_PAGE_FAULT,
                 "VA with bit 38 set but bits 63:39 clear is not canonical");
    expect_fault(PRV_S, s_load, 0xffffffc000000000UL, CAUSE_LOAD_PAGE_FAULT,
                 "canonical high VA, unmapped");
    vm_finish();
    PASS();
}
