/*
 * The built-in guest of `ferrite run`: what the board looks like, a short
 * integer benchmark (the host prints its speed), and a self-modifying-code
 * check, then the next commands to try. Exits 0 when every check holds.
 */
#include "ferrite.h"

PROGRAM("welcome");

/* ---- the benchmark: a CRC, a sort and a small matrix product ---- */

#define N_WORDS 2048
#define MAT 24

static uint32_t words[N_WORDS];
static int64_t mat_a[MAT][MAT], mat_b[MAT][MAT], mat_c[MAT][MAT];

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

static void shell_sort(uint32_t *a, size_t n)
{
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++) {
            uint32_t v = a[i];
            size_t j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
}

static uint64_t benchmark(void)
{
    uint64_t x = 0x9e3779b97f4a7c15u, sum = 0;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < N_WORDS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            words[i] = (uint32_t)x;
        }
        sum += crc32((const uint8_t *)words, sizeof words);
        shell_sort(words, N_WORDS);
        for (size_t i = 1; i < N_WORDS; i++)
            if (words[i - 1] > words[i])
                return 0; /* not sorted: reported as a failure */
        for (int i = 0; i < MAT; i++)
            for (int j = 0; j < MAT; j++) {
                mat_a[i][j] = (int64_t)(words[i * MAT + j] & 0xff) - 128;
                mat_b[i][j] = (int64_t)(words[N_WORDS - 1 - i * MAT - j] & 0xff) - 128;
            }
        for (int i = 0; i < MAT; i++)
            for (int j = 0; j < MAT; j++) {
                int64_t s = 0;
                for (int k = 0; k < MAT; k++)
                    s += mat_a[i][k] * mat_b[k][j];
                mat_c[i][j] = s;
            }
        for (int i = 0; i < MAT; i++)
            sum += (uint64_t)mat_c[i][(i * 7) % MAT];
    }
    return sum;
}

/* ---- self-modifying code: a function written into a buffer ---- */

static uint32_t code_buf[16] __attribute__((aligned(64)));

#define ADDI_A0_ZERO(imm) ((((uint32_t)(imm) & 0xfff) << 20) | (10u << 7) | 0x13u)
#define RET 0x00008067u

static uint64_t run_written_code(int value)
{
    code_buf[0] = ADDI_A0_ZERO(value);
    code_buf[1] = RET;
    fence_i();
    uint64_t (*fn)(void) = (uint64_t (*)(void))(uintptr_t)code_buf;
    return fn();
}

int main(void)
{
    puts_("Ferrite: a RISC-V system emulator, all in software.");
    if (have_uart()) {
        puts_("Board: virt (QEMU's memory map). This program sees:");
        printf_("  0x%08lx  boot ROM (reset vector, device tree pointer)\n", 0x1000UL);
        printf_("  0x%08lx  SiFive test finisher (exit)\n", FINISHER_BASE);
        printf_("  0x%08lx  CLINT (timer, software interrupts)\n", CLINT_BASE);
        printf_("  0x%08lx  PLIC (external interrupts)\n", PLIC_BASE);
        printf_("  0x%08lx  UART 16550 (this console)\n", UART0_BASE);
        printf_("  0x%08lx  DRAM (this program)\n", RAM_BASE);
    } else {
        puts_("Board: spike (HTIF console and exit through tohost). This program sees:");
        printf_("  0x%08lx  CLINT (timer, software interrupts)\n", CLINT_BASE);
        printf_("  0x%08lx  DRAM (this program)\n", RAM_BASE);
    }

    uint64_t before = rdinstret();
    uint64_t result = benchmark();
    uint64_t insns = rdinstret() - before;
    printf_("Integer benchmark (CRC, sort, matrix product): %lu instructions, checksum %lx\n",
            insns, result);
    CHECK(result != 0, "the benchmark's sort produced sorted output");

    uint64_t first = run_written_code(42);
    uint64_t second = run_written_code(43);
    CHECK_EQ(first, 42, "code written to memory runs");
    CHECK_EQ(second, 43, "rewritten code runs anew after fence.i");
    puts_("Self-modifying code: written, run, rewritten, run again: ok");

    puts_("");
    puts_("Next:");
    puts_("  ferrite run --help                          every option (QEMU's spellings work too)");
    puts_("  ferrite run --stats firmware/bin/smc.elf     a guest of your own, with statistics");
    puts_("  ferrite run --machine spike ELF             riscv-tests-style programs (HTIF)");
    puts_("  ferrite run -bios fw_jump.elf -kernel uboot.elf   OpenSBI and U-Boot (docs/boards.md)");
    puts_("  ferrite mtree -f                            the board's memory map, as QEMU's info mtree");
    return 0;
}
