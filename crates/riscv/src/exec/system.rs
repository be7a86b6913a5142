//! Zicsr and the system instructions: `csrr*`, `ecall`, `ebreak`, `mret`,
//! `sret`, `wfi`, `sfence.vma`, `fence.i`. Each ends its block; the exit
//! tells the loop what to do next.

use ferrite_softmmu::VirtAddr;
use ferrite_softmmu::tlb::ALL_MODES;

use super::Exit;
use crate::cpu::RiscvCpu;
use crate::csr::{CsrOp, CsrWriteEffect};
use crate::decode::{Insn, Op};
use crate::privilege::{Exception, Trap};
use crate::trap::{check_sfence_vma, check_wfi, mret, sret};

/// A CSR instruction at `pc`, the `retired`-th instruction of its block.
pub(crate) fn exec_csr(cpu: &mut RiscvCpu, insn: &Insn, pc: u64, retired: u64) -> Exit {
    let next = pc.wrapping_add(u64::from(insn.len));
    let ctx = cpu.arch.csr_context(retired);
    let src = if insn.op.is_csr_imm() {
        u64::from(insn.rs1)
    } else {
        cpu.arch.hart.x[usize::from(insn.rs1)]
    };
    let (op, writes) = match insn.op {
        Op::Csrrw | Op::Csrrwi => (CsrOp::Write, true),
        Op::Csrrs | Op::Csrrsi => (CsrOp::Set, insn.rs1 != 0),
        _ => (CsrOp::Clear, insn.rs1 != 0),
    };
    let csr = insn.csr();
    let p = cpu.arch.hart.privilege;
    let csrs = &mut cpu.arch.hart.csrs;
    let result = if !writes {
        csrs.read(csr, p, &ctx).map(|v| (v, CsrWriteEffect::NONE))
    } else if op == CsrOp::Write && insn.rd == 0 {
        // csrrw with rd = x0 does not read the CSR (no read side effects).
        csrs.write(csr, src, p, &ctx).map(|e| (0, e))
    } else {
        csrs.read_modify_write(csr, op, src, p, &ctx)
    };
    match result {
        Err(_) => Exit::Illegal { pc, len: insn.len },
        Ok((old, effect)) => {
            if insn.rd != 0 {
                cpu.arch.hart.x[usize::from(insn.rd)] = old;
            }
            if effect.flush_tlb {
                cpu.flush_tlb();
            }
            Exit::Sync { pc: next }
        }
    }
}

/// A system instruction (`ecall` .. `fence.i`) at `pc`.
pub(crate) fn exec_system(cpu: &mut RiscvCpu, insn: &Insn, pc: u64) -> Exit {
    let next = pc.wrapping_add(u64::from(insn.len));
    let illegal = Exit::Illegal { pc, len: insn.len };
    let h = &mut cpu.arch.hart;
    match insn.op {
        Op::Ecall => Exit::Trap {
            trap: Trap::new(Exception::ecall_from(h.privilege), 0),
            pc,
        },
        Op::Ebreak => Exit::Trap {
            trap: Trap::new(Exception::Breakpoint, pc),
            pc,
        },
        Op::Mret | Op::Sret => {
            let from = h.privilege;
            let r = if insn.op == Op::Mret {
                mret(&mut h.csrs, &mut h.privilege)
            } else {
                sret(&mut h.csrs, &mut h.privilege)
            };
            match r {
                Ok(target) => {
                    h.reservation = None;
                    tracing::info!(
                        target: "int",
                        "hart {}: {} at pc {:#x}, {} -> {}, to {:#x}",
                        h.csrs.hart_id(),
                        insn.op.name(),
                        pc,
                        from,
                        h.privilege,
                        target
                    );
                    Exit::Sync { pc: target }
                }
                Err(_) => illegal,
            }
        }
        Op::Wfi => match check_wfi(&h.csrs, h.privilege) {
            Ok(()) => Exit::Wfi { pc: next },
            Err(_) => illegal,
        },
        Op::SfenceVma => match check_sfence_vma(&h.csrs, h.privilege) {
            Ok(()) => {
                if insn.rs1 == 0 {
                    cpu.flush_tlb();
                } else {
                    let va = h.x[usize::from(insn.rs1)];
                    cpu.flush_tlb_page(VirtAddr(va), ALL_MODES);
                }
                Exit::Sync { pc: next }
            }
            Err(_) => illegal,
        },
        // Blocks are kept coherent with memory through the CODE dirty
        // bitmap, so fence.i only has to end the block: the next
        // instruction is fetched from the (already invalidated) cache.
        _ => Exit::Sync { pc: next },
    }
}
