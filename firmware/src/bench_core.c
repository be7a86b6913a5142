/*
 * A CoreMark-like integer workload: each iteration runs linked-list processing (find, reverse,
 * merge sort), 16-bit matrix operations (add, scale, vector and matrix products, bit extraction),
 * a character-class state machine over a buffer of numbers, and folds every result into a
 * CRC-16, as CoreMark mixes its kernels. The code is ours; only the mix follows CoreMark.
 *
 * Built twice: bench_core.elf with code and data on separate pages (the usual layout), and
 * bench_core_shared.elf (SHARED_PAGE) whose kernels and their whole working set share one
 * 4 KiB page, so nearly every store lands on a page holding translated code.
 *
 * ITERATIONS is fixed at build time so every run retires the same instruction count; the
 * program prints minstret and the CRC and checks it against the known value.
 */
#include "ferrite.h"

#ifdef SHARED_PAGE
PROGRAM("bench_core_shared");
/* Kernels and data in .shared, which the linker script keeps on one page. */
#define HOT __attribute__((noinline, section(".shared.text")))
#define HOT_DATA __attribute__((section(".shared.data")))
#else
PROGRAM("bench_core");
#define HOT __attribute__((noinline))
#define HOT_DATA
#endif

#define ITERATIONS 20000
/* Instructions retired between the two minstret reads, measured with QEMU -icount shift=0. */
#define REFERENCE_INSTRUCTIONS 683987397UL
#define EXPECTED_CRC 0xcf47U  /* from a reference run on QEMU */

#define LIST_NODES 24
#define MATRIX_N 8
#define STATE_BYTES 96

struct node {
    struct node *next;
    int16_t value;
    int16_t index;
};

/* The whole working set: about 1.2 KiB. */
struct work {
    struct node nodes[LIST_NODES];
    int16_t a[MATRIX_N * MATRIX_N];
    int16_t b[MATRIX_N * MATRIX_N];
    int32_t c[MATRIX_N * MATRIX_N];
    uint8_t text[STATE_BYTES];
    uint32_t seed;
};

static struct work w HOT_DATA;

/* ---- CRC-16 (CCITT polynomial, reflected), bit by bit as CoreMark computes it ---- */

static HOT uint16_t crc8(uint8_t data, uint16_t crc)
{
    for (int i = 0; i < 8; i++) {
        uint8_t x16 = (uint8_t)((data & 1) ^ (crc & 1));
        data >>= 1;
        if (x16 == 1) {
            crc ^= 0x4002;
            crc = (uint16_t)((crc >> 1) | 0x8000);
        } else {
            crc = (uint16_t)(crc >> 1);
        }
    }
    return crc;
}

static HOT uint16_t crc16(uint16_t v, uint16_t crc)
{
    crc = crc8((uint8_t)v, crc);
    return crc8((uint8_t)(v >> 8), crc);
}

static HOT uint32_t next_random(void)
{
    w.seed = w.seed * 1103515245u + 12345u;
    return w.seed >> 8;
}

/* ---- list processing ---- */

static HOT struct node *list_reverse(struct node *l)
{
    struct node *r = 0;
    while (l) {
        struct node *n = l->next;
        l->next = r;
        r = l;
        l = n;
    }
    return r;
}

static HOT struct node *list_find(struct node *l, int16_t value)
{
    while (l && l->value != value)
        l = l->next;
    return l;
}

static HOT int node_less(const struct node *a, const struct node *b, int by_value)
{
    return by_value ? a->value < b->value : a->index < b->index;
}

/* Bottom-up merge sort of a singly linked list (stable). */
static HOT struct node *list_sort(struct node *l, int by_value)
{
    for (int width = 1;; width *= 2) {
        struct node *p = l, *head = 0, *tail = 0;
        int merges = 0;
        while (p) {
            merges++;
            struct node *q = p;
            int psize = 0;
            for (int i = 0; i < width && q; i++) {
                psize++;
                q = q->next;
            }
            int qsize = width;
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) {
                    e = q;
                    q = q->next;
                    qsize--;
                } else if (qsize == 0 || !q || !node_less(q, p, by_value)) {
                    e = p;
                    p = p->next;
                    psize--;
                } else {
                    e = q;
                    q = q->next;
                    qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    head = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        l = head;
        if (merges <= 1)
            return l;
    }
}

static HOT uint16_t list_bench(uint16_t crc)
{
    struct node *l = 0;
    for (int i = LIST_NODES - 1; i >= 0; i--) {
        w.nodes[i].value = (int16_t)(next_random() & 0x3ff);
        w.nodes[i].index = (int16_t)i;
        w.nodes[i].next = l;
        l = &w.nodes[i];
    }
    for (int k = 0; k < 4; k++) {
        struct node *f = list_find(l, (int16_t)(next_random() & 0x3ff));
        crc = crc16(f ? (uint16_t)f->index : 0xffff, crc);
        l = list_reverse(l);
    }
    l = list_sort(l, 1);
    for (struct node *n = l; n; n = n->next)
        crc = crc16((uint16_t)n->value, crc);
    l = list_sort(l, 0);
    crc = crc16((uint16_t)l->value, crc);
    return crc;
}

/* ---- matrix operations ---- */

static HOT void matrix_add_const(int16_t *m, int16_t v)
{
    for (int i = 0; i < MATRIX_N * MATRIX_N; i++)
        m[i] = (int16_t)(m[i] + v);
}

static HOT void matrix_mul_const(int32_t *c, const int16_t *a, int16_t v)
{
    for (int i = 0; i < MATRIX_N * MATRIX_N; i++)
        c[i] = (int32_t)a[i] * v;
}

static HOT void matrix_mul_vect(int32_t *c, const int16_t *a, const int16_t *b)
{
    for (int i = 0; i < MATRIX_N; i++) {
        int32_t s = 0;
        for (int j = 0; j < MATRIX_N; j++)
            s += (int32_t)a[i * MATRIX_N + j] * b[j];
        c[i] = s;
    }
}

static HOT void matrix_mul_matrix(int32_t *c, const int16_t *a, const int16_t *b, int bits)
{
    for (int i = 0; i < MATRIX_N; i++)
        for (int j = 0; j < MATRIX_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MATRIX_N; k++) {
                int32_t p = (int32_t)a[i * MATRIX_N + k] * b[k * MATRIX_N + j];
                s += bits ? (p >> 2) & 0xf : p;
            }
            c[i * MATRIX_N + j] = s;
        }
}

static HOT uint16_t matrix_sum(const int32_t *c, int n, int32_t clip)
{
    int32_t tmp = 0, prev = 0, ret = 0;
    for (int i = 0; i < n; i++) {
        int32_t cur = c[i];
        tmp += cur;
        if (tmp > clip) {
            ret += 10;
            tmp = 0;
        } else {
            ret += cur > prev ? 1 : 0;
        }
        prev = cur;
    }
    return (uint16_t)ret;
}

static HOT uint16_t matrix_bench(uint16_t crc)
{
    int16_t v = (int16_t)(next_random() & 0xff);
    for (int i = 0; i < MATRIX_N * MATRIX_N; i++) {
        w.a[i] = (int16_t)(next_random() & 0x7ff);
        w.b[i] = (int16_t)((next_random() & 0x7ff) - 0x400);
    }
    int32_t clip = (int32_t)v << 8;
    matrix_add_const(w.a, v);
    matrix_mul_const(w.c, w.a, v);
    crc = crc16(matrix_sum(w.c, MATRIX_N * MATRIX_N, clip), crc);
    matrix_mul_vect(w.c, w.a, w.b);
    crc = crc16(matrix_sum(w.c, MATRIX_N, clip), crc);
    matrix_mul_matrix(w.c, w.a, w.b, 0);
    crc = crc16(matrix_sum(w.c, MATRIX_N * MATRIX_N, clip), crc);
    matrix_mul_matrix(w.c, w.a, w.b, 1);
    crc = crc16(matrix_sum(w.c, MATRIX_N * MATRIX_N, clip), crc);
    matrix_add_const(w.a, (int16_t)-v);
    return crc;
}

/* ---- state machine: classify the numbers in a text buffer ---- */

enum state { S_START, S_INT, S_FLOAT, S_EXP, S_EXP_SIGN, S_SCI, S_INVALID, S_COUNT };

static HOT enum state step(enum state s, uint8_t ch, uint32_t *transitions)
{
    int digit = ch >= '0' && ch <= '9';
    enum state n = s;
    switch (s) {
    case S_START:
        n = digit ? S_INT : (ch == '+' || ch == '-') ? S_INT : ch == '.' ? S_FLOAT : S_INVALID;
        break;
    case S_INT:
        n = digit ? S_INT : ch == '.' ? S_FLOAT : S_INVALID;
        break;
    case S_FLOAT:
        n = digit ? S_FLOAT : (ch == 'e' || ch == 'E') ? S_EXP : S_INVALID;
        break;
    case S_EXP:
        n = (ch == '+' || ch == '-') ? S_EXP_SIGN : digit ? S_SCI : S_INVALID;
        break;
    case S_EXP_SIGN:
        n = digit ? S_SCI : S_INVALID;
        break;
    case S_SCI:
        n = digit ? S_SCI : S_INVALID;
        break;
    default:
        break;
    }
    if (n != s)
        transitions[n]++;
    return n;
}

static HOT uint16_t state_bench(uint16_t crc)
{
    static const char pieces[][8] = {"5012", "1234", "-874", "+122", "35.54", "-.1e-3",
                                     "1.2e9", "x9Z", ".5E+2", "--1", "7e", "0.0"};
    /* Fill the buffer with comma-separated pieces chosen at random. */
    int n = 0;
    while (n < STATE_BYTES - 8) {
        const char *p = pieces[next_random() % (sizeof pieces / sizeof pieces[0])];
        while (*p)
            w.text[n++] = (uint8_t)*p++;
        w.text[n++] = ',';
    }
    w.text[n] = 0;
    uint32_t transitions[S_COUNT] = {0};
    uint32_t finals[S_COUNT] = {0};
    enum state s = S_START;
    for (int i = 0; i < n; i++) {
        if (w.text[i] == ',') {
            finals[s]++;
            s = S_START;
        } else {
            s = step(s, w.text[i], transitions);
        }
    }
    for (int i = 0; i < S_COUNT; i++) {
        crc = crc16((uint16_t)finals[i], crc);
        crc = crc16((uint16_t)transitions[i], crc);
    }
    /* Corrupt and restore the buffer, as CoreMark's state benchmark does. */
    for (int i = 0; i < n; i += 5)
        w.text[i] ^= 0x20;
    for (int i = 0; i < n; i += 5)
        w.text[i] ^= 0x20;
    return crc;
}

int main(void)
{
    w.seed = 0x12345678u;
    uint64_t i0 = csr_read(minstret), c0 = csr_read(mcycle);
    uint16_t crc = 0;
    for (int it = 0; it < ITERATIONS; it++) {
        crc = list_bench(crc);
        crc = matrix_bench(crc);
        crc = state_bench(crc);
    }
    uint64_t i1 = csr_read(minstret), c1 = csr_read(mcycle);
    printf_("%s: iterations %u\n", prog_name, ITERATIONS);
    printf_("instructions: %lu\n", i1 - i0);
    printf_("reference instructions: %lu\n", REFERENCE_INSTRUCTIONS);
    printf_("cycles: %lu\n", c1 - c0);
    printf_("crc: 0x%04x\n", crc);
    if (EXPECTED_CRC != 0 && crc != EXPECTED_CRC) {
        printf_("FAIL: crc, want 0x%04x\n", EXPECTED_CRC);
        exit(1);
    }
    printf_("%s: done\n", prog_name);
    return 0;
}
