/* Loads and stores: widths, sign/zero extension, offsets, partial stores, misaligned accesses. */
#include "ferrite.h"
#include "asmops.h"

PROGRAM("isa_mem");

static volatile uint64_t buf[8] __attribute__((aligned(64)));

int main(void)
{
    uint8_t *b = (uint8_t *)buf;
    section("load extension");
    buf[0] = 0x8081828384858687UL;
    CHECK_EQ(LOAD("lb", b), 0xffffffffffffff87UL, "lb sign-extends");
    CHECK_EQ(LOAD("lbu", b), 0x87, "lbu zero-extends");
    CHECK_EQ(LOAD("lh", b), 0xffffffffffff8687UL, "lh sign-extends");
    CHECK_EQ(LOAD("lhu", b), 0x8687, "lhu zero-extends");
    CHECK_EQ(LOAD("lw", b), 0xffffffff84858687UL, "lw sign-extends");
    CHECK_EQ(LOAD("lwu", b), 0x84858687UL, "lwu zero-extends");
    CHECK_EQ(LOAD("ld", b), 0x8081828384858687UL, "ld");
    buf[1] = 0x0000000070007f7fUL;
    CHECK_EQ(LOAD("lb", b + 8), 0x7f, "lb positive");
    CHECK_EQ(LOAD("lh", b + 8), 0x7f7f, "lh positive");
    CHECK_EQ(LOAD("lw", b + 8), 0x70007f7f, "lw positive");
    {
        uint64_t r;
        __asm__ volatile("lw %0, -4(%1)" : "=r"(r) : "r"(b + 12) : "memory");
        CHECK_EQ(r, 0x70007f7f, "lw with negative offset");
        __asm__ volatile("ld %0, 8(%1)" : "=r"(r) : "r"(b) : "memory");
        CHECK_EQ(r, 0x70007f7fUL, "ld with positive offset");
    }

    section("partial stores");
    buf[2] = 0;
    STORE("sb", b + 16, 0x1ff);
    CHECK_EQ(buf[2], 0xff, "sb stores the low byte only");
    STORE("sh", b + 18, 0x12345678);
    CHECK_EQ(buf[2], 0x567800ff, "sh stores the low half");
    STORE("sw", b + 20, 0xdeadbeefcafef00dUL);
    CHECK_EQ(buf[2], 0xcafef00d567800ffUL, "sw stores the low word");
    STORE("sd", b + 24, 0x0123456789abcdefUL);
    CHECK_EQ(buf[3], 0x0123456789abcdefUL, "sd");
    CHECK_EQ(b[24], 0xef, "little endian byte order");

    section("misaligned loads and stores (handled without a trap)");
    for (int i = 0; i < 4; i++)
        buf[i] = 0x0706050403020100UL + 0x0808080808080808UL * i;
    trap_arm();
    uint64_t h = LOAD("lhu", b + 1);
    uint64_t w = LOAD("lwu", b + 3);
    uint64_t d = LOAD("ld", b + 5);
    uint64_t dx = LOAD("ld", b + 7);
    uint64_t lw = LOAD("lw", b + 13);
    CHECK_EQ(m_trap_rec[0].count, 0, "misaligned loads do not trap");
    CHECK_EQ(h, 0x0201, "lhu at +1");
    CHECK_EQ(w, 0x06050403, "lwu at +3");
    CHECK_EQ(d, 0x0c0b0a0908070605UL, "ld at +5");
    CHECK_EQ(dx, 0x0e0d0c0b0a090807UL, "ld at +7 across a doubleword");
    CHECK_EQ(lw, 0x100f0e0d, "lw at +13");
    STORE("sd", b + 33, 0x1122334455667788UL);
    STORE("sw", b + 46, 0xaabbccdd);
    STORE("sh", b + 51, 0xeeff);
    CHECK_EQ(m_trap_rec[0].count, 0, "misaligned stores do not trap");
    trap_disarm();
    CHECK_EQ(b[33], 0x88, "sd at +33 first byte");
    CHECK_EQ(b[40], 0x11, "sd at +33 last byte");
    CHECK_EQ(LOAD("lwu", b + 46), 0xaabbccdd, "sw at +46 reads back");
    CHECK_EQ(LOAD("lhu", b + 51), 0xeeff, "sh at +51 reads back");
    {
        /* a misaligned access that crosses a page boundary */
        static uint8_t pages[8192] __attribute__((aligned(4096)));
        for (int i = 0; i < 16; i++)
            pages[4088 + i] = (uint8_t)(0xa0 + i);
        trap_arm();
        uint64_t x = LOAD("ld", pages + 4092);
        STORE("sw", pages + 4094, 0x01020304);
        uint64_t n = m_trap_rec[0].count;
        trap_disarm();
        CHECK_EQ(n, 0, "page-crossing misaligned accesses do not trap");
        CHECK_EQ(x, 0xabaaa9a8a7a6a5a4UL, "ld across a page boundary");
        CHECK_EQ(pages[4095], 0x03, "sw across a page boundary, byte before");
        CHECK_EQ(pages[4096], 0x02, "sw across a page boundary, byte after");
    }

    section("x0 as destination and base");
    {
        uint64_t r;
        __asm__ volatile("lw x0, 0(%1)\n\tmv %0, x0" : "=r"(r) : "r"(b) : "memory");
        CHECK_EQ(r, 0, "load to x0 is discarded");
    }
    PASS();
}
