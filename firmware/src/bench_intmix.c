/*
 * Integer-mix benchmark: strided loads and stores over 256 KiB, calls, data-dependent branches,
 * multiply and divide. PASSES is fixed at build time so every run retires the same instruction
 * count; the program prints minstret and a checksum (and checks it against the known value).
 */
#include "ferrite.h"

PROGRAM("bench_intmix");

#define PASSES 1700
/* Instructions retired between the two minstret reads, measured with QEMU -icount shift=0.
   Printed so that a host whose minstret is not an instruction count can still derive MIPS. */
#define REFERENCE_INSTRUCTIONS 1768745553UL
#define WORDS (256 * 1024 / 8)           /* 256 KiB working set */
#define EXPECTED_CHECKSUM 0x55733eade4af7afbUL  /* from a reference run on QEMU */

static uint64_t data[WORDS];

static __attribute__((noinline)) uint64_t mix(uint64_t a, uint64_t b)
{
    a ^= b >> 7;
    a *= 0x9e3779b97f4a7c15UL;
    return a ^ (a >> 29);
}

static __attribute__((noinline)) uint64_t classify(uint64_t v)
{
    if (v & 1)
        return v >> 3;
    if (v & 2)
        return v * 5;
    if ((int64_t)v < 0)
        return ~v;
    return v + 17;
}

static __attribute__((noinline)) uint64_t one_pass(uint64_t seed)
{
    uint64_t sum = seed;
    for (uint64_t i = 0; i < WORDS; i++) {
        uint64_t j = (i * 769) & (WORDS - 1);
        uint64_t v = mix(data[j], seed + i);
        data[j] = v;
        sum += classify(v);
        if ((i & 63) == 0) {
            uint64_t d = (i & 15) + 3;
            sum += v / d + (uint32_t)v % (uint32_t)d;
            sum ^= (uint64_t)((int64_t)sum / -7);
        }
    }
    return sum;
}

int main(void)
{
    for (uint64_t i = 0; i < WORDS; i++)
        data[i] = i * 0x0101010101010101UL;
    uint64_t i0 = csr_read(minstret), c0 = csr_read(mcycle);
    uint64_t checksum = 0;
    for (uint64_t p = 0; p < PASSES; p++)
        checksum = mix(checksum, one_pass(p * 0x1234567UL + checksum));
    uint64_t i1 = csr_read(minstret), c1 = csr_read(mcycle);
    printf_("bench_intmix: passes %u, working set %u KiB\n", PASSES, WORDS * 8 / 1024);
    printf_("instructions: %lu\n", i1 - i0);
    printf_("reference instructions: %lu\n", REFERENCE_INSTRUCTIONS);
    printf_("cycles: %lu\n", c1 - c0);
    printf_("checksum: 0x%016lx\n", checksum);
    if (EXPECTED_CHECKSUM != 0 && checksum != EXPECTED_CHECKSUM) {
        printf_("FAIL: checksum, want 0x%016lx\n", EXPECTED_CHECKSUM);
        exit(1);
    }
    puts_("bench_intmix: done");
    return 0;
}
