/* Sv39 paging: see vm_common.h; adds the non-canonical address check for 39-bit VAs,
   Svnapot 64 KiB mappings and Svpbmt memory types. */
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

    section("Svnapot");
    /* A 64 KiB NAPOT mapping of the 64 KiB block holding data_pages[3]: all
       16 PTEs alike, PPN[3:0] = 0b1000, N set. */
    const uint64_t va_napot = VA_BASE + 0x100000UL, pte_n = 1UL << 63;
    uint64_t block = PA(data_pages[3]) & ~0xffffUL;
    for (int i = 0; i < 16; i++)
        *pte_slot(va_napot + i * 0x1000UL, 0) = (((block >> 12) | 8) << 10) | pte_n | PTE_V | PTE_R | PTE_A;
    sfence_vma();
    CHECK_EQ(run(PRV_S, s_load, va_napot + (PA(data_pages[3]) & 0xffff) + 8), 0x3001,
             "a load through a 64 KiB NAPOT mapping");
    *pte_slot(va_napot, 0) = (((block >> 12) | 4) << 10) | pte_n | PTE_V | PTE_R | PTE_A;
    sfence_vma();
    expect_fault(PRV_S, s_load, va_napot, CAUSE_LOAD_PAGE_FAULT, "N with a reserved PPN[3:0] faults");
    *pte_slot(VA_2M + 0x200000UL * 3, 1) = ((PA_2M >> 12) << 10) | pte_n | PTE_V | PTE_R | PTE_A;
    sfence_vma();
    expect_fault(PRV_S, s_load, VA_2M + 0x200000UL * 3, CAUSE_LOAD_PAGE_FAULT, "N on a 2 MiB leaf faults");

    section("Svpbmt");
    const uint64_t pbmt_nc = 1UL << 61, pbmt_io = 2UL << 61, pbmt_bad = 3UL << 61;
    map(VA_PAGE(60), PA(data_pages[3]), 0, pbmt_nc | PTE_V | PTE_R | PTE_A);
    csr_write(CSR_MENVCFG, 0);
    expect_fault(PRV_S, s_load, VA_PAGE(60) + 8, CAUSE_LOAD_PAGE_FAULT, "PBMT set while menvcfg.PBMTE is clear faults");
    csr_write(CSR_MENVCFG, 1UL << 62);
    CHECK_EQ(csr_read(CSR_MENVCFG) >> 62 & 1, 1, "menvcfg.PBMTE is writable");
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(60) + 8), 0x3001, "PBMT = NC with PBMTE set");
    map(VA_PAGE(60), PA(data_pages[3]), 0, pbmt_io | PTE_V | PTE_R | PTE_A);
    CHECK_EQ(run(PRV_S, s_load, VA_PAGE(60) + 8), 0x3001, "PBMT = IO with PBMTE set");
    map(VA_PAGE(60), PA(data_pages[3]), 0, pbmt_bad | PTE_V | PTE_R | PTE_A);
    expect_fault(PRV_S, s_load, VA_PAGE(60) + 8, CAUSE_LOAD_PAGE_FAULT, "PBMT = 3 is reserved");
    csr_write(CSR_MENVCFG, 0);
    vm_finish();
    PASS();
}
