/* Run one instruction on register operands, out of the compiler's reach (no constant folding). */
#ifndef FERRITE_ASMOPS_H
#define FERRITE_ASMOPS_H
#include <stdint.h>

#define OP_RR(op, a, b) ({ uint64_t r_; __asm__ volatile(op " %0, %1, %2" : "=r"(r_) \
    : "r"((uint64_t)(a)), "r"((uint64_t)(b))); r_; })
#define OP_RI(op, a, imm) ({ uint64_t r_; __asm__ volatile(op " %0, %1, %2" : "=r"(r_) \
    : "r"((uint64_t)(a)), "i"(imm)); r_; })
#define OP_I(op, imm) ({ uint64_t r_; __asm__ volatile(op " %0, %1" : "=r"(r_) : "i"(imm)); r_; })
/* load: op rd, off(base) */
#define LOAD(op, addr) ({ uint64_t r_; __asm__ volatile(op " %0, 0(%1)" : "=r"(r_) \
    : "r"((uintptr_t)(addr)) : "memory"); r_; })
#define STORE(op, addr, val) __asm__ volatile(op " %0, 0(%1)" :: "r"((uint64_t)(val)), \
    "r"((uintptr_t)(addr)) : "memory")
/* AMO: op rd, rs2, (rs1) */
#define AMO(op, addr, val) ({ uint64_t r_; __asm__ volatile(op " %0, %1, (%2)" : "=r"(r_) \
    : "r"((uint64_t)(val)), "r"((uintptr_t)(addr)) : "memory"); r_; })

#endif
