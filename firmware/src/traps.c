/* Exceptions: ecall from each mode, illegal instruction and mtval, breakpoints, access faults,
   delegation to S with medeleg, vectored mtvec. */
#include "ferrite.h"

PROGRAM("traps");

extern char vector_table[];
extern char illegal_custom0_insn[], illegal_c_zero_insn[], illegal_csrw_cycle_insn[];
extern char do_ebreak_insn[], do_c_ebreak_insn[], do_ecall_insn[];
void illegal_custom0(void), illegal_c_zero(void), illegal_csrw_cycle(void);
void do_ebreak(void), do_c_ebreak(void), do_ecall(void);

#define ADDR(sym) ((uint64_t)(uintptr_t)(sym))

static uint64_t lower_ecall(uint64_t arg) { do_ecall(); return 0; }
static uint64_t lower_ebreak(uint64_t arg) { do_ebreak(); return 0; }
static uint64_t lower_illegal(uint64_t arg) { illegal_custom0(); return 0; }
static uint64_t lower_load(uint64_t addr) { return *(volatile uint64_t *)(uintptr_t)addr; }
uint64_t s_sret_to_label(void);
void m_mret_to_label(void);
static uint64_t lower_sret(uint64_t arg) { return s_sret_to_label(); }
static uint64_t lower_bare_sret(uint64_t arg) { __asm__ volatile("sret"); return 0; }
static uint64_t lower_mret(uint64_t arg) { __asm__ volatile("mret"); return 0; }
static uint64_t lower_wfi(uint64_t arg) { __asm__ volatile("wfi"); return 0; }
static uint64_t lower_read_satp(uint64_t arg) { return csr_read(satp); }
static uint64_t lower_sfence(uint64_t arg) { __asm__ volatile("sfence.vma" ::: "memory"); return 0; }

/* Runs fn in mode with the M record armed; returns the number of traps, leaves the record. */
static uint64_t traps_in(uint64_t mode, uint64_t (*fn)(uint64_t))
{
    trap_arm();
    enter_mode(mode, fn, 0, lower_stack_top());
    uint64_t n = m_trap_rec[0].count;
    trap_disarm();
    return n;
}

static void check_m_trap_tvals(uint64_t cause, uint64_t epc, uint64_t tval, uint64_t tval_alt, uint64_t prev,
                              const char *what)
{
    struct trap_record *r = &m_trap_rec[0];
    printf_("%s: mcause=%lu mepc=%lx mtval=%lx from %lu\n", what, r->cause, r->epc, r->tval, r->prev_priv);
    CHECK_EQ(r->count, 1, what);
    CHECK_EQ(r->cause, cause, "  mcause");
    CHECK_EQ(r->epc, epc, "  mepc");
    if (r->tval == tval_alt)
        CHECK_EQ(r->tval, tval_alt, "  mtval (alternative allowed by the spec)");
    else
        CHECK_EQ(r->tval, tval, "  mtval");
    CHECK_EQ(r->prev_priv, prev, "  previous privilege (mstatus.MPP)");
}

static void check_m_trap(uint64_t cause, uint64_t epc, uint64_t tval, uint64_t prev, const char *what)
{
    check_m_trap_tvals(cause, epc, tval, tval, prev, what);
}

int main(void)
{
    section("ecall from M, S, U");
    trap_arm();
    do_ecall();
    check_m_trap(CAUSE_ECALL_M, ADDR(do_ecall_insn), 0, PRV_M, "ecall from M");
    trap_arm();
    enter_mode(PRV_S, lower_ecall, 0, lower_stack_top());
    check_m_trap(CAUSE_ECALL_S, ADDR(do_ecall_insn), 0, PRV_S, "ecall from S");
    trap_arm();
    enter_mode(PRV_U, lower_ecall, 0, lower_stack_top());
    check_m_trap(CAUSE_ECALL_U, ADDR(do_ecall_insn), 0, PRV_U, "ecall from U");

    section("illegal instructions (mtval = the instruction bits)");
    trap_arm();
    illegal_custom0();
    check_m_trap(CAUSE_ILLEGAL_INSN, ADDR(illegal_custom0_insn), 0x0000600b, PRV_M, "custom-0 opcode");
    trap_arm();
    illegal_csrw_cycle();
    check_m_trap(CAUSE_ILLEGAL_INSN, ADDR(illegal_csrw_cycle_insn), 0xc0001073, PRV_M, "csrw cycle");
    trap_arm();
    illegal_c_zero();
    check_m_trap(CAUSE_ILLEGAL_INSN, ADDR(illegal_c_zero_insn), 0, PRV_M, "16-bit zero parcel");
    trap_arm();
    enter_mode(PRV_U, lower_illegal, 0, lower_stack_top());
    check_m_trap(CAUSE_ILLEGAL_INSN, ADDR(illegal_custom0_insn), 0x0000600b, PRV_U, "illegal from U");

    /* mtval for a breakpoint is the pc (Spike) or 0 (QEMU 7.2); both are allowed by the spec. */
    section("breakpoints (mtval = pc or 0)");
    trap_arm();
    do_ebreak();
    check_m_trap_tvals(CAUSE_BREAKPOINT, ADDR(do_ebreak_insn), ADDR(do_ebreak_insn), 0, PRV_M, "ebreak");
    trap_arm();
    do_c_ebreak();
    check_m_trap_tvals(CAUSE_BREAKPOINT, ADDR(do_c_ebreak_insn), ADDR(do_c_ebreak_insn), 0, PRV_M, "c.ebreak");
    trap_disarm();

    section("access faults on unmapped physical addresses");
    {
        uint64_t v;
        uint64_t pc_load, pc_store;
        trap_arm();
        __asm__ volatile("la %1, 1f\n1: ld %0, 0(%2)" : "=r"(v), "=&r"(pc_load) : "r"(8UL) : "memory");
        check_m_trap(CAUSE_LOAD_ACCESS, pc_load, 8, PRV_M, "load from 0x8");
        trap_arm();
        __asm__ volatile("la %0, 1f\n1: sw %1, 0(%2)" : "=&r"(pc_store) : "r"(1UL), "r"(0x800UL) : "memory");
        check_m_trap(CAUSE_STORE_ACCESS, pc_store, 0x800, PRV_M, "store to 0x800");
        trap_arm();
        enter_mode(PRV_S, lower_load, 0x10, lower_stack_top());
        CHECK_EQ(m_trap_rec[0].cause, CAUSE_LOAD_ACCESS, "load from 0x10 in S: load access fault");
        CHECK_EQ(m_trap_rec[0].tval, 0x10, "  mtval = address");
        trap_disarm();
    }

    section("delegation to S with medeleg");
    install_s_trap_vector();
    csr_write(medeleg, (1UL << CAUSE_ILLEGAL_INSN) | (1UL << CAUSE_BREAKPOINT) | (1UL << CAUSE_ECALL_U));
    CHECK_EQ(csr_read(medeleg) & 0x10c, 0x10c, "medeleg keeps bits 2, 3, 8");
    trap_arm();
    strap_arm();
    enter_mode(PRV_U, lower_ebreak, 0, lower_stack_top());
    CHECK_EQ(m_trap_rec[0].count, 0, "delegated ebreak from U does not reach M");
    CHECK_EQ(s_trap_rec[0].count, 1, "delegated ebreak from U reaches S");
    CHECK_EQ(s_trap_rec[0].cause, CAUSE_BREAKPOINT, "  scause = breakpoint");
    CHECK_EQ(s_trap_rec[0].epc, ADDR(do_ebreak_insn), "  sepc");
    CHECK_EQ(s_trap_rec[0].prev_priv, PRV_U, "  sstatus.SPP = U");
    strap_arm();
    enter_mode(PRV_U, lower_illegal, 0, lower_stack_top());
    CHECK_EQ(s_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "delegated illegal instruction: scause");
    CHECK_EQ(s_trap_rec[0].tval, 0x0000600b, "  stval = instruction bits");
    strap_arm();
    enter_mode(PRV_U, lower_ecall, 0, lower_stack_top());
    CHECK_EQ(s_trap_rec[0].cause, CAUSE_ECALL_U, "delegated ecall from U: scause 8");
    CHECK_EQ(m_trap_rec[0].count, 0, "  M saw nothing");
    strap_arm();
    enter_mode(PRV_S, lower_ecall, 0, lower_stack_top());
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ECALL_S, "ecall from S (not delegated) goes to M");
    CHECK_EQ(s_trap_rec[0].count, 0, "  S saw nothing");
    trap_arm();
    strap_arm();
    do_ebreak();
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_BREAKPOINT, "ebreak in M stays in M despite medeleg");
    CHECK_EQ(s_trap_rec[0].count, 0, "  S saw nothing");
    strap_arm();
    enter_mode(PRV_S, lower_ebreak, 0, lower_stack_top());
    CHECK_EQ(s_trap_rec[0].cause, CAUSE_BREAKPOINT, "delegated ebreak from S reaches S");
    CHECK_EQ(s_trap_rec[0].prev_priv, PRV_S, "  sstatus.SPP = S");
    trap_disarm();
    strap_disarm();
    csr_write(medeleg, 0);

    section("xRET and the mstatus trap bits (TSR, TVM, TW)");
    csr_clear(mstatus, MSTATUS_MIE);
    csr_set(mstatus, MSTATUS_MPIE);
    m_mret_to_label();
    {
        uint64_t st = csr_read(mstatus);
        csr_clear(mstatus, MSTATUS_MIE);
        CHECK_EQ(st & MSTATUS_MIE, MSTATUS_MIE, "mret: MIE = old MPIE");
        CHECK_EQ(st & MSTATUS_MPIE, MSTATUS_MPIE, "mret: MPIE = 1");
        CHECK_EQ(st & MSTATUS_MPP, 0, "mret: MPP = U");
    }
    CHECK_EQ(traps_in(PRV_S, lower_sret), 0, "sret in S with TSR = 0 works");
    CHECK_EQ(enter_mode(PRV_S, lower_sret, 0, lower_stack_top()), 1, "  and lands on sepc");
    csr_set(mstatus, MSTATUS_TSR);
    CHECK_EQ(traps_in(PRV_S, lower_sret), 1, "sret in S with TSR = 1 traps");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "  illegal instruction");
    csr_clear(mstatus, MSTATUS_TSR);
    CHECK_EQ(traps_in(PRV_U, lower_bare_sret), 1, "sret in U traps");
    CHECK_EQ(traps_in(PRV_S, lower_mret), 1, "mret in S traps");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "  illegal instruction");
    CHECK_EQ(traps_in(PRV_S, lower_read_satp), 0, "satp from S with TVM = 0");
    CHECK_EQ(traps_in(PRV_S, lower_sfence), 0, "sfence.vma in S with TVM = 0");
    csr_set(mstatus, MSTATUS_TVM);
    CHECK_EQ(traps_in(PRV_S, lower_read_satp), 1, "satp from S with TVM = 1 traps");
    CHECK_EQ(traps_in(PRV_S, lower_sfence), 1, "sfence.vma in S with TVM = 1 traps");
    csr_clear(mstatus, MSTATUS_TVM);
    csr_set(mstatus, MSTATUS_TW);
    CHECK_EQ(traps_in(PRV_S, lower_wfi), 1, "wfi in S with TW = 1 traps");
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ILLEGAL_INSN, "  illegal instruction");
    csr_clear(mstatus, MSTATUS_TW);
    CHECK_EQ(traps_in(PRV_U, lower_wfi), 1, "wfi in U traps");

    section("vectored mtvec");
    csr_write(mtvec, ADDR(vector_table) | 1);
    CHECK_EQ(csr_read(mtvec), ADDR(vector_table) | 1, "mtvec holds a vectored base");
    trap_arm();
    do_ecall();
    CHECK_EQ(m_trap_rec[0].cause, CAUSE_ECALL_M, "exception in vectored mode goes to BASE");
    trap_disarm();
    csr_write(mideleg, 0);
    csr_set(mie, MIP_SSIP);
    csr_set(mip, MIP_SSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (volatile int i = 0; i < 100; i++)
        ;
    csr_clear(mstatus, MSTATUS_MIE);
    CHECK_EQ(csr_read(mie) & MIP_SSIP, 0, "SSI was taken at BASE + 4 (its handler cleared mie.SSIE)");
    CHECK_EQ(csr_read(mip) & MIP_SSIP, 0, "  and mip.SSIP");
    csr_write(mtvec, ADDR(m_trap_entry));
    PASS();
}
