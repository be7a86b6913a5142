//! Guest memory accesses of the executor: the TLB fast path inline, the
//! engine's slow path (whose fill is the RISC-V `tlb_fill`: page walk and
//! PMP, in [`crate::cpu`]), LR/SC and AMOs.
//!
//! Nothing here touches guest memory except through the [`Tlb`]; the page
//! walk reads and updates PTEs through the memory API's physical accessors
//! ([`ferrite_memory::SpaceBytes`]), as QEMU's walker does.

use ferrite_memory::MemorySystem;
use ferrite_softmmu::VirtAddr;
use ferrite_softmmu::tlb::MmuAccess;

use ferrite_softmmu::Target;

use crate::cpu::RiscvCpu;
use crate::csr::fields::{ENVCFG_CBCFE, ENVCFG_CBIE, ENVCFG_CBZE};
use crate::decode::Op;
use crate::privilege::{AccessType, Exception, Privilege, Trap};

/// The RISC-V access type of an engine access.
pub(crate) fn access_type(access: MmuAccess) -> AccessType {
    match access {
        MmuAccess::Load => AccessType::Load,
        MmuAccess::Store => AccessType::Store,
        MmuAccess::Fetch => AccessType::Fetch,
    }
}

/// Load `size` bytes at `vaddr` through the slow path. Returns the value
/// and whether the block must end after this instruction.
#[inline]
pub(crate) fn load_slow(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    vaddr: u64,
    size: u32,
) -> Result<(u64, bool), Trap> {
    let idx = cpu.arch.data_idx;
    cpu.load_slow(mem, idx, VirtAddr(vaddr), size, MmuAccess::Load)
}

/// Store through the slow path; returns whether the block must end.
#[inline]
pub(crate) fn store_slow(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    vaddr: u64,
    size: u32,
    value: u64,
) -> Result<bool, Trap> {
    let idx = cpu.arch.data_idx;
    cpu.store_slow(mem, idx, VirtAddr(vaddr), size, value)
}

/// An AMO of `size` bytes (4 or 8) at `vaddr`: `op(old)` is stored and
/// `old` returned (zero-extended), plus whether the block must end.
/// Misaligned AMOs raise store/AMO address misaligned, as in QEMU.
#[inline]
pub(crate) fn amo(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    vaddr: u64,
    size: u32,
    op: impl Fn(u64) -> u64 + Copy,
) -> Result<(u64, bool), Trap> {
    if vaddr & (u64::from(size) - 1) != 0 {
        return Err(Trap::new(Exception::StoreMisaligned, vaddr));
    }
    let idx = cpu.arch.data_idx;
    let fast = if size == 4 {
        cpu.tlb.rmw_fast::<4>(idx, VirtAddr(vaddr), op)
    } else {
        cpu.tlb.rmw_fast::<8>(idx, VirtAddr(vaddr), op)
    };
    match fast {
        Some(old) => Ok((old, false)),
        None => cpu.rmw_slow(mem, idx, VirtAddr(vaddr), size, op),
    }
}

/// LR: load with a reservation.
pub(crate) fn load_reserved(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    vaddr: u64,
    size: u32,
) -> Result<(u64, bool), Trap> {
    if vaddr & (u64::from(size) - 1) != 0 {
        return Err(Trap::new(Exception::LoadMisaligned, vaddr));
    }
    let idx = cpu.arch.data_idx;
    let fast = if size == 4 {
        cpu.tlb.load_fast::<4>(idx, VirtAddr(vaddr))
    } else {
        cpu.tlb.load_fast::<8>(idx, VirtAddr(vaddr))
    };
    let r = match fast {
        Some(v) => (v, false),
        None => load_slow(cpu, mem, vaddr, size)?,
    };
    cpu.arch.hart.reservation = Some(vaddr);
    cpu.arch.hart.reservation_value = r.0;
    Ok(r)
}

/// SC: store if the reservation holds for `vaddr` and memory still holds
/// the value LR loaded (a compare-and-swap, so a store by another hart in
/// between makes it fail); returns (rd value: 0 on success, 1 on failure,
/// end block). The reservation is cleared either way. Faults are
/// store/AMO faults.
pub(crate) fn store_conditional(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    vaddr: u64,
    size: u32,
    value: u64,
) -> Result<(u64, bool), Trap> {
    if vaddr & (u64::from(size) - 1) != 0 {
        return Err(Trap::new(Exception::StoreMisaligned, vaddr));
    }
    if cpu.arch.hart.reservation.take() != Some(vaddr) {
        return Ok((1, false));
    }
    let expected = cpu.arch.hart.reservation_value;
    let (old, stop) = amo(cpu, mem, vaddr, size, move |old| {
        if old == expected { value } else { old }
    })?;
    Ok((u64::from(old != expected), stop))
}

/// The size of a cache block (`riscv,cbom-block-size` and
/// `riscv,cboz-block-size` in the device tree).
pub const CACHE_BLOCK_SIZE: u64 = 64;

/// Whether `op` (a `cbo.*`) may run at the hart's privilege: always in
/// M-mode; below it the enable bit in `menvcfg`, and in U-mode also in
/// `senvcfg` (CBIE: any nonzero value; there are no caches, so
/// invalidating and flushing are the same).
fn cbo_enabled(cpu: &RiscvCpu, op: Op) -> bool {
    let csrs = &cpu.arch.hart.csrs;
    let allows = |env: u64| match op {
        Op::CboZero => env & ENVCFG_CBZE != 0,
        Op::CboInval => env & ENVCFG_CBIE != 0,
        _ => env & ENVCFG_CBCFE != 0,
    };
    match cpu.arch.hart.privilege {
        Privilege::Machine => true,
        Privilege::Supervisor => allows(csrs.menvcfg),
        Privilege::User => allows(csrs.menvcfg) && allows(csrs.senvcfg),
    }
}

/// A cache-block operation on the block holding `vaddr`. `cbo.zero`
/// stores zeros to the whole 64-byte block through the TLB (faults report
/// the block's address); clean, flush and invalidate change nothing (there
/// are no caches) but must be allowed to access the block: a load or a
/// store permission suffices, and a block with neither raises a store
/// fault, as the Zicbom specification says. `Ok` says whether the block
/// must end; `Err(None)` is an illegal instruction (not enabled).
pub(crate) fn cache_block_op(
    cpu: &mut RiscvCpu,
    mem: &mut MemorySystem,
    op: Op,
    vaddr: u64,
) -> Result<bool, Option<Trap>> {
    if !cbo_enabled(cpu, op) {
        return Err(None);
    }
    let base = vaddr & !(CACHE_BLOCK_SIZE - 1);
    let idx = cpu.arch.data_idx;
    if op == Op::CboZero {
        let mut stop = false;
        for offset in (0..CACHE_BLOCK_SIZE).step_by(8) {
            let a = VirtAddr(base + offset);
            if !cpu.tlb.store_fast::<8>(idx, a, 0) {
                stop |= cpu.store_slow(mem, idx, a, 8, 0).map_err(Some)?;
            }
        }
        return Ok(stop);
    }
    let probe = |cpu: &mut RiscvCpu, mem: &mut MemorySystem, access| {
        cpu.arch.tlb_fill(mem, VirtAddr(vaddr), 1, access, idx)
    };
    match probe(cpu, mem, MmuAccess::Load) {
        Ok(_) => Ok(false),
        Err(_) => probe(cpu, mem, MmuAccess::Store)
            .map(|_| false)
            .map_err(Some),
    }
}
