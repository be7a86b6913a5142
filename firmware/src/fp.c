/*
 * F and D: every operation class in every rounding mode (results and fflags
 * against values recorded on QEMU, hashed per operation and mode), static and
 * reserved rounding modes, NaN-boxing, canonical NaNs, mstatus.FS states and
 * the trap when FS is Off, and FP state saved and restored by a trap handler.
 *
 * Built with -DFP_GENERATE it prints the expected table instead of checking
 * it: scripts/fp-expected.sh runs that build on QEMU to make fp_expected.h.
 */
#include "ferrite.h"

PROGRAM("fp");

struct fp_op {
    const char *name;
    uint64_t (*fn)(uint64_t a, uint64_t b, uint64_t c);
    int single;
};

/* Each operation as a function of three raw operands: move them into fa0,
   fa1 and fa3 (boxing singles), run the instruction with the dynamic
   rounding mode, move the result out (fmv.x.w sign-extends a single). */
#define MVF_D "fmv.d.x"
#define MVX_D "fmv.x.d"
#define MVF_S "fmv.w.x"
#define MVX_S "fmv.x.w"
/* The other format, for fcvt.s.d / fcvt.d.s results. */
#define MVX_OTHER_D MVX_S
#define MVX_OTHER_S MVX_D
#define FP_FN(fn, body, ...)                                                                  \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c)                                    \
    {                                                                                         \
        uint64_t r;                                                                           \
        (void)a;                                                                              \
        (void)b;                                                                              \
        (void)c;                                                                              \
        __asm__ volatile(body : "=r"(r) : __VA_ARGS__ : "fa0", "fa1", "fa2", "fa3");          \
        return r;                                                                             \
    }
/* fd = op fs1, fs2 */
#define FF_F(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" MVF_##F " fa1, %2\n" insn " fa2, fa0, fa1\n" \
                                MVX_##F " %0, fa2", "r"(a), "r"(b))
/* fd = op fs1, fs2, fs3 */
#define FFF_F(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" MVF_##F " fa1, %2\n" MVF_##F " fa3, %3\n" \
                                 insn " fa2, fa0, fa1, fa3\n" MVX_##F " %0, fa2", "r"(a), "r"(b), "r"(c))
/* fd = op fs1 */
#define F_F(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" insn " fa2, fa0\n" MVX_##F " %0, fa2", "r"(a))
/* fd (the other format) = op fs1 */
#define F_G(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" insn " fa2, fa0\n" MVX_OTHER_##F " %0, fa2", "r"(a))
/* xd = op fs1, fs2 */
#define FF_X(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" MVF_##F " fa1, %2\n" insn " %0, fa0, fa1", "r"(a), "r"(b))
/* xd = op fs1 */
#define F_X(F, fn, insn) FP_FN(fn, MVF_##F " fa0, %1\n" insn " %0, fa0", "r"(a))
/* fd = op xs1 */
#define X_F(F, fn, insn) FP_FN(fn, insn " fa2, %1\n" MVX_##F " %0, fa2", "r"(a))

FF_F(D, op_fadd_d, "fadd.d")
FF_F(D, op_fsub_d, "fsub.d")
FF_F(D, op_fmul_d, "fmul.d")
FF_F(D, op_fdiv_d, "fdiv.d")
FF_F(D, op_fmin_d, "fmin.d")
FF_F(D, op_fmax_d, "fmax.d")
FF_F(D, op_fsgnj_d, "fsgnj.d")
FF_F(D, op_fsgnjn_d, "fsgnjn.d")
FF_F(D, op_fsgnjx_d, "fsgnjx.d")
FFF_F(D, op_fmadd_d, "fmadd.d")
FFF_F(D, op_fmsub_d, "fmsub.d")
FFF_F(D, op_fnmsub_d, "fnmsub.d")
FFF_F(D, op_fnmadd_d, "fnmadd.d")
F_F(D, op_fsqrt_d, "fsqrt.d")
F_G(D, op_fcvt_s_d, "fcvt.s.d")
FF_X(D, op_feq_d, "feq.d")
FF_X(D, op_flt_d, "flt.d")
FF_X(D, op_fle_d, "fle.d")
F_X(D, op_fclass_d, "fclass.d")
F_X(D, op_fcvt_w_d, "fcvt.w.d")
X_F(D, op_fcvt_d_w, "fcvt.d.w")
F_X(D, op_fcvt_wu_d, "fcvt.wu.d")
X_F(D, op_fcvt_d_wu, "fcvt.d.wu")
F_X(D, op_fcvt_l_d, "fcvt.l.d")
X_F(D, op_fcvt_d_l, "fcvt.d.l")
F_X(D, op_fcvt_lu_d, "fcvt.lu.d")
X_F(D, op_fcvt_d_lu, "fcvt.d.lu")
FF_F(S, op_fadd_s, "fadd.s")
FF_F(S, op_fsub_s, "fsub.s")
FF_F(S, op_fmul_s, "fmul.s")
FF_F(S, op_fdiv_s, "fdiv.s")
FF_F(S, op_fmin_s, "fmin.s")
FF_F(S, op_fmax_s, "fmax.s")
FF_F(S, op_fsgnj_s, "fsgnj.s")
FF_F(S, op_fsgnjn_s, "fsgnjn.s")
FF_F(S, op_fsgnjx_s, "fsgnjx.s")
FFF_F(S, op_fmadd_s, "fmadd.s")
FFF_F(S, op_fmsub_s, "fmsub.s")
FFF_F(S, op_fnmsub_s, "fnmsub.s")
FFF_F(S, op_fnmadd_s, "fnmadd.s")
F_F(S, op_fsqrt_s, "fsqrt.s")
F_G(S, op_fcvt_d_s, "fcvt.d.s")
FF_X(S, op_feq_s, "feq.s")
FF_X(S, op_flt_s, "flt.s")
FF_X(S, op_fle_s, "fle.s")
F_X(S, op_fclass_s, "fclass.s")
F_X(S, op_fcvt_w_s, "fcvt.w.s")
X_F(S, op_fcvt_s_w, "fcvt.s.w")
F_X(S, op_fcvt_wu_s, "fcvt.wu.s")
X_F(S, op_fcvt_s_wu, "fcvt.s.wu")
F_X(S, op_fcvt_l_s, "fcvt.l.s")
X_F(S, op_fcvt_s_l, "fcvt.s.l")
F_X(S, op_fcvt_lu_s, "fcvt.lu.s")
X_F(S, op_fcvt_s_lu, "fcvt.s.lu")

static const struct fp_op fp_ops[] = {
    { "fadd.d", op_fadd_d, 0 },
    { "fsub.d", op_fsub_d, 0 },
    { "fmul.d", op_fmul_d, 0 },
    { "fdiv.d", op_fdiv_d, 0 },
    { "fmin.d", op_fmin_d, 0 },
    { "fmax.d", op_fmax_d, 0 },
    { "fsgnj.d", op_fsgnj_d, 0 },
    { "fsgnjn.d", op_fsgnjn_d, 0 },
    { "fsgnjx.d", op_fsgnjx_d, 0 },
    { "fmadd.d", op_fmadd_d, 0 },
    { "fmsub.d", op_fmsub_d, 0 },
    { "fnmsub.d", op_fnmsub_d, 0 },
    { "fnmadd.d", op_fnmadd_d, 0 },
    { "fsqrt.d", op_fsqrt_d, 0 },
    { "fcvt.s.d", op_fcvt_s_d, 0 },
    { "feq.d", op_feq_d, 0 },
    { "flt.d", op_flt_d, 0 },
    { "fle.d", op_fle_d, 0 },
    { "fclass.d", op_fclass_d, 0 },
    { "fcvt.w.d", op_fcvt_w_d, 0 },
    { "fcvt.d.w", op_fcvt_d_w, 0 },
    { "fcvt.wu.d", op_fcvt_wu_d, 0 },
    { "fcvt.d.wu", op_fcvt_d_wu, 0 },
    { "fcvt.l.d", op_fcvt_l_d, 0 },
    { "fcvt.d.l", op_fcvt_d_l, 0 },
    { "fcvt.lu.d", op_fcvt_lu_d, 0 },
    { "fcvt.d.lu", op_fcvt_d_lu, 0 },
    { "fadd.s", op_fadd_s, 1 },
    { "fsub.s", op_fsub_s, 1 },
    { "fmul.s", op_fmul_s, 1 },
    { "fdiv.s", op_fdiv_s, 1 },
    { "fmin.s", op_fmin_s, 1 },
    { "fmax.s", op_fmax_s, 1 },
    { "fsgnj.s", op_fsgnj_s, 1 },
    { "fsgnjn.s", op_fsgnjn_s, 1 },
    { "fsgnjx.s", op_fsgnjx_s, 1 },
    { "fmadd.s", op_fmadd_s, 1 },
    { "fmsub.s", op_fmsub_s, 1 },
    { "fnmsub.s", op_fnmsub_s, 1 },
    { "fnmadd.s", op_fnmadd_s, 1 },
    { "fsqrt.s", op_fsqrt_s, 1 },
    { "fcvt.d.s", op_fcvt_d_s, 1 },
    { "feq.s", op_feq_s, 1 },
    { "flt.s", op_flt_s, 1 },
    { "fle.s", op_fle_s, 1 },
    { "fclass.s", op_fclass_s, 1 },
    { "fcvt.w.s", op_fcvt_w_s, 1 },
    { "fcvt.s.w", op_fcvt_s_w, 1 },
    { "fcvt.wu.s", op_fcvt_wu_s, 1 },
    { "fcvt.s.wu", op_fcvt_s_wu, 1 },
    { "fcvt.l.s", op_fcvt_l_s, 1 },
    { "fcvt.s.l", op_fcvt_s_l, 1 },
    { "fcvt.lu.s", op_fcvt_lu_s, 1 },
    { "fcvt.s.lu", op_fcvt_s_lu, 1 },
};

#define N_OPS (sizeof fp_ops / sizeof fp_ops[0])

/* Operands: zeros, ordinary and inexact values, ties, huge and tiny values,
   subnormals, infinities, quiet and signalling NaNs, integer-range edges. */
static const uint64_t d_operands[] = {
    0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff8000000000000,
    0x4008000000000000, 0x3fb999999999999a, 0x3fd5555555555555, 0x4340000000000001,
    0x7fe1ccf385ebc8a0, 0x7fefffffffffffff, 0x0010000000000000, 0x0000000000000001,
    0x800fffffffffffff, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
    0x7ff0000000000001, 0xc1e0000000100000, 0x43e0000000000000, 0xc202a05f20000000,
    0x41efffffffe00000, 0x3fe0000000000000,
};
static const uint64_t s_operands[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x40400000, 0x3dcccccd,
    0x3eaaaaab, 0x4b800001, 0x7f000000, 0x7f7fffff, 0x00800000, 0x00000001,
    0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xcf000001,
    0x5f000000, 0xd0153e10, 0x4f7fffff, 0x3f000000,
};
#define N_D (sizeof d_operands / sizeof d_operands[0])
#define N_S (sizeof s_operands / sizeof s_operands[0])

static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3UL;
    }
    return h;
}

/* Every operand pair (and a third operand for the fused ops) through `op`
   with frm = rm: the results and the flags each raised, hashed. */
static uint64_t hash_op(const struct fp_op *op, unsigned rm)
{
    const uint64_t *v = op->single ? s_operands : d_operands;
    unsigned n = op->single ? N_S : N_D;
    uint64_t h = 0xcbf29ce484222325UL;
    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            uint64_t c = v[(i * 7 + j * 3) % n];
            csr_write(frm, rm);
            csr_write(fflags, 0);
            uint64_t r = op->fn(v[i], v[j], c);
            h = mix(mix(h, r), csr_read(fflags));
        }
    }
    return h;
}

#ifdef FP_GENERATE
int main(void)
{
    printf_("/* Generated by scripts/fp-expected.sh on QEMU: do not edit. */\n");
    printf_("static const uint64_t fp_expected[%u][5] = {\n", (unsigned)N_OPS);
    for (unsigned k = 0; k < N_OPS; k++) {
        printf_("    {");
        for (unsigned rm = 0; rm < 5; rm++)
            printf_(" 0x%016lx,", hash_op(&fp_ops[k], rm));
        printf_(" }, /* %s */\n", fp_ops[k].name);
    }
    printf_("};\n");
    return 0;
}
#else
#include "fp_expected.h"

static const char *const rm_names[5] = { "rne", "rtz", "rdn", "rup", "rmm" };

/* Every f register to and from memory, for the trap handler. (A function
   whose asm clobbers fs0-fs11 saves and restores them itself, so these only
   make sense within one function: the handler's.) */
static void fregs_save(uint64_t *area)
{
    __asm__ volatile("fsd f0, 0(%0)\nfsd f1, 8(%0)\nfsd f2, 16(%0)\nfsd f3, 24(%0)\nfsd f4, 32(%0)\nfsd f5, 40(%0)\nfsd f6, 48(%0)\nfsd f7, 56(%0)\nfsd f8, 64(%0)\nfsd f9, 72(%0)\nfsd f10, 80(%0)\nfsd f11, 88(%0)\nfsd f12, 96(%0)\nfsd f13, 104(%0)\nfsd f14, 112(%0)\nfsd f15, 120(%0)\nfsd f16, 128(%0)\nfsd f17, 136(%0)\nfsd f18, 144(%0)\nfsd f19, 152(%0)\nfsd f20, 160(%0)\nfsd f21, 168(%0)\nfsd f22, 176(%0)\nfsd f23, 184(%0)\nfsd f24, 192(%0)\nfsd f25, 200(%0)\nfsd f26, 208(%0)\nfsd f27, 216(%0)\nfsd f28, 224(%0)\nfsd f29, 232(%0)\nfsd f30, 240(%0)\nfsd f31, 248(%0)" :: "r"(area) : "memory");
}

static void fregs_load(const uint64_t *area)
{
    __asm__ volatile("fld f0, 0(%0)\nfld f1, 8(%0)\nfld f2, 16(%0)\nfld f3, 24(%0)\nfld f4, 32(%0)\nfld f5, 40(%0)\nfld f6, 48(%0)\nfld f7, 56(%0)\nfld f8, 64(%0)\nfld f9, 72(%0)\nfld f10, 80(%0)\nfld f11, 88(%0)\nfld f12, 96(%0)\nfld f13, 104(%0)\nfld f14, 112(%0)\nfld f15, 120(%0)\nfld f16, 128(%0)\nfld f17, 136(%0)\nfld f18, 144(%0)\nfld f19, 152(%0)\nfld f20, 160(%0)\nfld f21, 168(%0)\nfld f22, 176(%0)\nfld f23, 184(%0)\nfld f24, 192(%0)\nfld f25, 200(%0)\nfld f26, 208(%0)\nfld f27, 216(%0)\nfld f28, 224(%0)\nfld f29, 232(%0)\nfld f30, 240(%0)\nfld f31, 248(%0)" :: "r"(area) : "memory", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31");
}

static void fregs_fill(uint64_t junk)
{
    __asm__ volatile("fmv.d.x f0, %0\nfmv.d.x f1, %0\nfmv.d.x f2, %0\nfmv.d.x f3, %0\nfmv.d.x f4, %0\nfmv.d.x f5, %0\nfmv.d.x f6, %0\nfmv.d.x f7, %0\nfmv.d.x f8, %0\nfmv.d.x f9, %0\nfmv.d.x f10, %0\nfmv.d.x f11, %0\nfmv.d.x f12, %0\nfmv.d.x f13, %0\nfmv.d.x f14, %0\nfmv.d.x f15, %0\nfmv.d.x f16, %0\nfmv.d.x f17, %0\nfmv.d.x f18, %0\nfmv.d.x f19, %0\nfmv.d.x f20, %0\nfmv.d.x f21, %0\nfmv.d.x f22, %0\nfmv.d.x f23, %0\nfmv.d.x f24, %0\nfmv.d.x f25, %0\nfmv.d.x f26, %0\nfmv.d.x f27, %0\nfmv.d.x f28, %0\nfmv.d.x f29, %0\nfmv.d.x f30, %0\nfmv.d.x f31, %0" :: "r"(junk) : "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31");
}

#define MSTATUS_FS (3UL << 13)
#define FS_INITIAL (1UL << 13)
#define FS_CLEAN (2UL << 13)
#define FS_DIRTY (3UL << 13)
#define MSTATUS_SD (1UL << 63)

static uint64_t fs(void) { return csr_read(mstatus) & MSTATUS_FS; }

static void set_fs(uint64_t state)
{
    csr_clear(mstatus, MSTATUS_FS);
    csr_set(mstatus, state);
}

static void every_class_in_every_mode(void)
{
    section("every operation class in every rounding mode, with flags");
    for (unsigned k = 0; k < N_OPS; k++) {
        for (unsigned rm = 0; rm < 5; rm++) {
            uint64_t got = hash_op(&fp_ops[k], rm);
            if (got != fp_expected[k][rm])
                printf_("%s in %s: results or flags differ from QEMU's\n", fp_ops[k].name, rm_names[rm]);
            CHECK_EQ(got, fp_expected[k][rm], fp_ops[k].name);
        }
    }
}

static void static_and_reserved_modes(void)
{
    section("static rounding modes, reserved modes");
    uint64_t one = 0x3ff0000000000000, tiny = 0x3c30000000000000; /* 1 + 2^-60 */
    uint64_t r;
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.d.x fa1, %2\nfadd.d fa2, fa0, fa1, rtz\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(one), "r"(tiny) : "fa0", "fa1", "fa2");
    CHECK_EQ(r, one, "fadd.d rtz truncates 1 + 2^-60");
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.d.x fa1, %2\nfadd.d fa2, fa0, fa1, rup\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(one), "r"(tiny) : "fa0", "fa1", "fa2");
    CHECK_EQ(r, one + 1, "fadd.d rup rounds 1 + 2^-60 up");
    /* A static rm field overrides frm. */
    csr_write(frm, 3);
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.d.x fa1, %2\nfadd.d fa2, fa0, fa1, rne\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(one), "r"(tiny) : "fa0", "fa1", "fa2");
    CHECK_EQ(r, one, "static rne ignores frm = rup");
    trap_arm();
    /* fadd.d fa2, fa0, fa1 with rm = 5 (reserved) */
    __asm__ volatile(".insn r 0x53, 5, 1, fa2, fa0, fa1" ::: "fa2");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "static rm = 5 is illegal");
    CHECK_EQ(m_trap_rec[0].tval, 0x02b55653, "... with mtval = the instruction");
    csr_write(frm, 5);
    m_trap_rec[0].cause = 0;
    __asm__ volatile("fadd.d fa2, fa0, fa1" ::: "fa2");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "dynamic rm with frm = 5 is illegal");
    m_trap_rec[0].cause = 0;
    __asm__ volatile("fsgnj.d fa2, fa0, fa1" ::: "fa2");
    CHECK_EQ(m_trap_rec[0].cause, 0, "... but not for an instruction without rm");
    trap_disarm();
    csr_write(frm, 0);
}

static void nan_boxing_and_canonical_nans(void)
{
    section("NaN-boxing and canonical NaNs");
    uint64_t r;
    /* A single whose upper 32 bits are not all ones reads as the canonical NaN. */
    __asm__ volatile("fmv.d.x fa0, %1\nfadd.s fa2, fa0, fa0\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(0x000000003f800000UL) : "fa0", "fa2");
    CHECK_EQ(r, 0xffffffff7fc00000UL, "unboxed operand of fadd.s is the canonical NaN; result boxed");
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.w.x fa1, %2\nfsgnj.s fa2, fa0, fa1\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(0x000000003f800000UL), "r"(0xbf800000UL) : "fa0", "fa1", "fa2");
    CHECK_EQ(r, 0xffffffffffc00000UL, "fsgnj.s of an unboxed value: canonical NaN with rs2's sign");
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.x.w %0, fa0" : "=r"(r) : "r"(0x1234567880000001UL) : "fa0");
    CHECK_EQ(r, 0xffffffff80000001UL, "fmv.x.w sign-extends the raw low word");
    static volatile uint32_t word = 0x40490fdb;
    static volatile uint32_t out;
    __asm__ volatile("flw fa0, 0(%1)\nfmv.x.d %0, fa0" : "=r"(r) : "r"(&word) : "fa0", "memory");
    CHECK_EQ(r, 0xffffffff40490fdbUL, "flw boxes");
    __asm__ volatile("fmv.d.x fa0, %0\nfsw fa0, 0(%1)" :: "r"(0x0000000012345678UL), "r"(&out) : "fa0", "memory");
    CHECK_EQ(out, 0x12345678, "fsw stores the raw low word, boxed or not");
    csr_write(fflags, 0);
    __asm__ volatile("fmv.d.x fa0, zero\nfdiv.d fa2, fa0, fa0\nfmv.x.d %0, fa2" : "=r"(r) :: "fa0", "fa2");
    CHECK_EQ(r, 0x7ff8000000000000UL, "0/0 is the canonical NaN");
    CHECK_EQ(csr_read(fflags), 0x10, "... raising NV");
    csr_write(fflags, 0);
    __asm__ volatile("fmv.d.x fa0, %1\nfcvt.s.d fa2, fa0\nfmv.x.w %0, fa2"
                     : "=r"(r) : "r"(0x7ff0000000000001UL) : "fa0", "fa2");
    CHECK_EQ(r, 0x7fc00000, "fcvt.s.d of a signalling NaN: canonical, payload dropped");
    CHECK_EQ(csr_read(fflags), 0x10, "... raising NV");
    csr_write(fflags, 0);
    __asm__ volatile("fmv.d.x fa0, %1\nfmv.d.x fa1, %1\nfmax.d fa2, fa0, fa1\nfmv.x.d %0, fa2"
                     : "=r"(r) : "r"(0xfff8000000000123UL) : "fa0", "fa1", "fa2");
    CHECK_EQ(r, 0x7ff8000000000000UL, "fmax of two quiet NaNs: canonical");
    CHECK_EQ(csr_read(fflags), 0, "... raising nothing");
}

static void fs_states(void)
{
    section("mstatus.FS and SD");
    set_fs(FS_INITIAL);
    CHECK_EQ(csr_read(mstatus) & MSTATUS_SD, 0, "FS Initial: SD clear");
    __asm__ volatile("fmv.d.x fa0, zero" ::: "fa0");
    CHECK_EQ(fs(), FS_DIRTY, "writing an f register makes FS Dirty");
    CHECK(csr_read(mstatus) & MSTATUS_SD, "SD follows FS Dirty");
    set_fs(FS_CLEAN);
    CHECK_EQ(csr_read(mstatus) & MSTATUS_SD, 0, "FS Clean: SD clear");
    uint64_t r;
    __asm__ volatile("fmv.x.d %0, fa0" : "=r"(r));
    CHECK_EQ(fs(), FS_CLEAN, "reading an f register leaves FS Clean");
    csr_write(fflags, 0);
    set_fs(FS_CLEAN);
    __asm__ volatile("csrw fflags, zero");
    CHECK_EQ(fs(), FS_DIRTY, "writing fflags makes FS Dirty");
    set_fs(FS_CLEAN);
    CHECK_EQ(csr_read(sstatus) & MSTATUS_FS, FS_CLEAN, "sstatus shows FS");

    section("FS Off traps every FP instruction and CSR");
    set_fs(0);
    trap_arm();
    static volatile uint64_t mem64;
    m_trap_rec[0].cause = 0;
    __asm__ volatile("fadd.d fa2, fa0, fa1" ::: "fa2");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "fadd.d with FS Off");
    CHECK_EQ(m_trap_rec[0].tval, 0x02b57653, "... mtval = the instruction");
    m_trap_rec[0].cause = 0;
    __asm__ volatile("fld fa0, 0(%0)" :: "r"(&mem64) : "fa0");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "fld with FS Off");
    m_trap_rec[0].cause = 0;
    __asm__ volatile("fmv.x.d %0, fa0" : "=r"(r));
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "fmv.x.d with FS Off");
    m_trap_rec[0].cause = 0;
    __asm__ volatile("frcsr %0" : "=r"(r));
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "reading fcsr with FS Off");
    CHECK_EQ(fs(), 0, "FS stays Off");
    trap_disarm();
    set_fs(FS_INITIAL);
}

/* The M handler an OS-style context switch: save every f register and fcsr,
   clobber them all, restore. */
static uint64_t saved_f[32];
static uint64_t saved_fcsr;

static int save_restore_hook(struct trap_frame *f)
{
    if (f->cause != CAUSE_ECALL_M)
        return 0;
    fregs_save(saved_f);
    saved_fcsr = csr_read(fcsr);
    fregs_fill(0xdeadbeefdeadbeefUL);
    csr_write(fcsr, 0x1f);
    fregs_load(saved_f);
    csr_write(fcsr, saved_fcsr);
    f->pc += 4;
    return 1;
}

static void saved_by_a_trap_handler(void)
{
    section("FP state saved and restored by a trap handler");
    static uint64_t before[32], after[32];
    for (int i = 0; i < 32; i++)
        before[i] = 0x0101010101010101UL * (uint64_t)(i + 1);
    csr_write(fcsr, 0x8a);
    m_exc_hook = save_restore_hook;
    /* One asm statement from the loads to the stores: the compiler's own
       saving of callee-saved f registers cannot come in between. */
    __asm__ volatile("fld f0, 0(%0)\nfld f1, 8(%0)\nfld f2, 16(%0)\nfld f3, 24(%0)\nfld f4, 32(%0)\nfld f5, 40(%0)\nfld f6, 48(%0)\nfld f7, 56(%0)\nfld f8, 64(%0)\nfld f9, 72(%0)\nfld f10, 80(%0)\nfld f11, 88(%0)\nfld f12, 96(%0)\nfld f13, 104(%0)\nfld f14, 112(%0)\nfld f15, 120(%0)\nfld f16, 128(%0)\nfld f17, 136(%0)\nfld f18, 144(%0)\nfld f19, 152(%0)\nfld f20, 160(%0)\nfld f21, 168(%0)\nfld f22, 176(%0)\nfld f23, 184(%0)\nfld f24, 192(%0)\nfld f25, 200(%0)\nfld f26, 208(%0)\nfld f27, 216(%0)\nfld f28, 224(%0)\nfld f29, 232(%0)\nfld f30, 240(%0)\nfld f31, 248(%0)\necall\nfsd f0, 0(%1)\nfsd f1, 8(%1)\nfsd f2, 16(%1)\nfsd f3, 24(%1)\nfsd f4, 32(%1)\nfsd f5, 40(%1)\nfsd f6, 48(%1)\nfsd f7, 56(%1)\nfsd f8, 64(%1)\nfsd f9, 72(%1)\nfsd f10, 80(%1)\nfsd f11, 88(%1)\nfsd f12, 96(%1)\nfsd f13, 104(%1)\nfsd f14, 112(%1)\nfsd f15, 120(%1)\nfsd f16, 128(%1)\nfsd f17, 136(%1)\nfsd f18, 144(%1)\nfsd f19, 152(%1)\nfsd f20, 160(%1)\nfsd f21, 168(%1)\nfsd f22, 176(%1)\nfsd f23, 184(%1)\nfsd f24, 192(%1)\nfsd f25, 200(%1)\nfsd f26, 208(%1)\nfsd f27, 216(%1)\nfsd f28, 224(%1)\nfsd f29, 232(%1)\nfsd f30, 240(%1)\nfsd f31, 248(%1)"
                     :: "r"(before), "r"(after) : "memory", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31");
    m_exc_hook = 0;
    CHECK_EQ(csr_read(fcsr), 0x8a, "fcsr restored");
    int same = 1;
    for (int i = 0; i < 32; i++)
        same &= after[i] == before[i];
    CHECK(same, "all 32 f registers restored");
    CHECK_EQ(saved_f[31], before[31], "the handler saw the interrupted values");
    csr_write(fcsr, 0);
}

int main(void)
{
    CHECK(csr_read(misa) & (1 << 3) && csr_read(misa) & (1 << 5), "misa has F and D");
    CHECK_EQ(fs(), FS_INITIAL, "the runtime starts with FS Initial");
    every_class_in_every_mode();
    static_and_reserved_modes();
    nan_boxing_and_canonical_nans();
    fs_states();
    saved_by_a_trap_handler();
    PASS();
}
#endif
