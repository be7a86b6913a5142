//! The RISC-V target of Ferrite (RV64GC and the extensions in [`isa`],
//! privileged architecture 1.12).
//!
//! The privileged architecture lives in pure-logic modules that know nothing
//! of memory or the execution loop: [`privilege`] (privilege levels and trap
//! causes), [`csr`] (the CSR file), [`trap`] (trap entry and return),
//! [`interrupt`] (pending-interrupt selection), [`mmu`] (the Sv39/Sv48 page
//! walk) and [`pmp`] (physical memory protection).
//!
//! Instructions are decoded once, by [`decode::decode`], into the compact
//! [`decode::Insn`] form that execution, block translation and the trace
//! disassembler ([`disasm`]) all consume.
//!
//! Execution: [`cpu::Riscv`] is the target the engine
//! (`ferrite_softmmu::Cpu`) runs: [`block_builder`] builds blocks, [`exec`]
//! runs them, and the engine owns the TLB, the block cache and the loop.
#![warn(missing_docs)]

pub mod block_builder;
pub mod cpu;
pub mod csr;
pub mod decode;
pub mod disasm;
pub mod exec;
pub mod hart;
pub mod interrupt;
pub mod isa;
pub mod mmu;
pub mod pmp;
pub mod privilege;
mod state;
pub mod trace;
pub mod trap;

pub use cpu::{CpuConfig, CpuStats, Riscv, RiscvCpu, RiscvCpuExt, RunExit, new_cpu};
pub use csr::{CsrContext, CsrOp, CsrWriteEffect, Csrs, HartIrqPins};
pub use interrupt::pending_interrupt;
pub use mmu::{Translated, translate_vaddr};
pub use pmp::{pmp_check, pmp_page_is_uniform};
pub use privilege::{AccessType, Exception, Interrupt, Privilege, Trap, TrapCause};
pub use trace::{SPIKE_SLICE, SymbolMap, Trace, TraceOutput};
pub use trap::{mret, sret, take_trap};
