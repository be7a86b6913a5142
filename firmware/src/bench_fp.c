/*
 * Floating-point benchmark, not a test: a double-precision matrix product
 * (64 x 64, fused multiply-adds) and a single-precision n-body step (32
 * bodies: products, square roots and divisions), repeated. Prints the
 * instructions retired (minstret delta), the cycles, and a checksum of the
 * results' bits, which it checks against a reference run on QEMU (exit 1 if
 * it differs). scripts/bench-fp.sh runs it on Ferrite and QEMU side by side.
 */
#include "ferrite.h"

PROGRAM("bench_fp");

#define N 64
#define BODIES 32
#define GEMM_ROUNDS 288
#define NBODY_STEPS 19200
#define EXPECTED_CHECKSUM 0x687722d1957d46caUL  /* from a reference run on QEMU */

static double a[N][N], b[N][N], c[N][N];
static float px[BODIES], py[BODIES], pz[BODIES], vx[BODIES], vy[BODIES], vz[BODIES], m[BODIES];

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3UL;
    return h ^ (h >> 29);
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint64_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void gemm(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            double s = c[i][j] * 0.5;
            for (int k = 0; k < N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    }
}

/* fsqrt.s (the library's sqrtf would set errno; there is no library). */
static inline float sqrt_s(float x)
{
    float r;
    __asm__("fsqrt.s %0, %1" : "=f"(r) : "f"(x));
    return r;
}

static void nbody_step(float dt)
{
    for (int i = 0; i < BODIES; i++) {
        float ax = 0, ay = 0, az = 0;
        for (int j = 0; j < BODIES; j++) {
            float dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
            float d2 = dx * dx + dy * dy + dz * dz + 0.01f;
            float inv = 1.0f / sqrt_s(d2);
            float s = m[j] * inv * inv * inv;
            ax += dx * s;
            ay += dy * s;
            az += dz * s;
        }
        vx[i] += ax * dt;
        vy[i] += ay * dt;
        vz[i] += az * dt;
    }
    for (int i = 0; i < BODIES; i++) {
        px[i] += vx[i] * dt;
        py[i] += vy[i] * dt;
        pz[i] += vz[i] * dt;
    }
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            b[i][j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.4;
            c[i][j] = 0.0;
        }
    }
    for (int i = 0; i < BODIES; i++) {
        px[i] = (float)(i % 4) - 1.5f;
        py[i] = (float)((i / 4) % 4) - 1.5f;
        pz[i] = (float)(i / 16) - 0.5f;
        vx[i] = vy[i] = vz[i] = 0.0f;
        m[i] = 1.0f + (float)(i % 3) * 0.25f;
    }
    uint64_t i0 = rdinstret(), c0 = rdcycle();
    for (int r = 0; r < GEMM_ROUNDS; r++)
        gemm();
    for (int s = 0; s < NBODY_STEPS; s++)
        nbody_step(0.001f);
    uint64_t i1 = rdinstret(), c1 = rdcycle();
    uint64_t checksum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            checksum = mix(checksum, dbits(c[i][j]));
    for (int i = 0; i < BODIES; i++)
        checksum = mix(mix(mix(checksum, fbits(px[i])), fbits(py[i])), fbits(pz[i]));
    printf_("instructions: %lu\n", i1 - i0);
    printf_("cycles: %lu\n", c1 - c0);
    printf_("checksum: 0x%016lx\n", checksum);
    if (EXPECTED_CHECKSUM != 0 && checksum != EXPECTED_CHECKSUM) {
        printf_("FAIL: checksum, want 0x%016lx\n", EXPECTED_CHECKSUM);
        return 1;
    }
    return 0;
}
