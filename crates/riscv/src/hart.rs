//! The architectural state of one hart: integer and floating-point
//! registers, pc, privilege, CSRs, the LR/SC reservation and the
//! retired-instruction count.

use crate::csr::Csrs;
use crate::isa::Isa;
use crate::privilege::Privilege;

/// Index of the scratch register that writes to `x0` are redirected to.
///
/// Block translation rewrites `rd = 0` to this index for every instruction
/// whose only effect on `rd` is the write (the CSR instructions keep `rd = 0`,
/// which changes what they do), so the executor writes registers
/// unconditionally and `x0` stays zero without a check per instruction.
pub const X0_SINK: u8 = 32;

/// Registers in the register array: 32 architectural ones, the sink, and
/// padding so that any `u8` index is in bounds (no bounds check on the hot
/// path).
pub const REG_SLOTS: usize = 256;

/// One hart's architectural state.
#[derive(Clone, Debug)]
pub struct Hart {
    /// `x0..x31`, then [`X0_SINK`]; `x[0]` is always 0.
    pub(crate) x: [u64; REG_SLOTS],
    /// `f0..f31`, raw: single and half values NaN-boxed.
    pub(crate) f: [u64; 32],
    /// The pc of the next instruction to execute.
    pub(crate) pc: u64,
    /// The current privilege level.
    pub(crate) privilege: Privilege,
    /// The CSR file.
    pub(crate) csrs: Csrs,
    /// Address reserved by the last LR, cleared by SC, traps and xRET.
    pub(crate) reservation: Option<u64>,
    /// The value the last LR loaded (zero-extended to the access size). An
    /// SC succeeds only if memory still holds it, which is how a store by
    /// another hart between LR and SC breaks the reservation (QEMU's rule).
    pub(crate) reservation_value: u64,
    /// Instructions retired since reset.
    pub(crate) instret: u64,
}

impl Hart {
    /// A hart in its reset state at `pc`: M-mode, registers zero,
    /// implementing everything ([`Isa::full`]).
    pub fn new(hart_id: u64, pc: u64) -> Self {
        Self::with_isa(hart_id, pc, Isa::full())
    }

    /// A hart implementing `isa`, in its reset state at `pc`.
    pub fn with_isa(hart_id: u64, pc: u64, isa: Isa) -> Self {
        Self {
            x: [0; REG_SLOTS],
            f: [0; 32],
            pc,
            privilege: Privilege::Machine,
            csrs: Csrs::with_isa(hart_id, isa),
            reservation: None,
            reservation_value: 0,
            instret: 0,
        }
    }

    /// Reset to `pc` (registers cleared, M-mode, CSRs reset, keeping the
    /// hart id and interrupt pins).
    pub fn reset(&mut self, pc: u64) {
        self.x = [0; REG_SLOTS];
        self.f = [0; 32];
        self.pc = pc;
        self.privilege = Privilege::Machine;
        self.csrs.reset();
        self.reservation = None;
        self.instret = 0;
    }

    /// Register `x[i]` (`i` modulo 32).
    pub fn xreg(&self, i: usize) -> u64 {
        self.x[i % 32]
    }

    /// Set `x[i]` (`i` modulo 32); writes to `x0` are ignored.
    pub fn set_xreg(&mut self, i: usize, v: u64) {
        let i = i % 32;
        if i != 0 {
            self.x[i] = v;
        }
    }

    /// Floating-point register `f[i]` (`i` modulo 32), raw (NaN-boxed).
    pub fn freg(&self, i: usize) -> u64 {
        self.f[i % 32]
    }

    /// Set `f[i]` (`i` modulo 32) to the raw value `v`.
    pub fn set_freg(&mut self, i: usize, v: u64) {
        self.f[i % 32] = v;
    }

    /// The pc.
    pub fn pc(&self) -> u64 {
        self.pc
    }

    /// Set the pc.
    pub fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }

    /// The current privilege level.
    pub fn privilege(&self) -> Privilege {
        self.privilege
    }

    /// The CSR file.
    pub fn csrs(&self) -> &Csrs {
        &self.csrs
    }

    /// The CSR file, mutably (for machine set-up such as firmware handoff).
    pub fn csrs_mut(&mut self) -> &mut Csrs {
        &mut self.csrs
    }

    /// The LR/SC reservation, if one is held.
    pub fn reservation(&self) -> Option<u64> {
        self.reservation
    }

    /// Instructions retired since reset.
    pub fn instret(&self) -> u64 {
        self.instret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x0_ignores_writes_and_indices_wrap() {
        let mut h = Hart::new(0, 0x1000);
        h.set_xreg(0, 5);
        h.set_xreg(33, 7);
        assert_eq!(h.xreg(0), 0);
        assert_eq!(h.xreg(1), 7);
        assert_eq!(h.pc(), 0x1000);
        assert_eq!(h.privilege(), Privilege::Machine);
        h.reservation = Some(8);
        h.reset(0x2000);
        assert_eq!((h.xreg(1), h.pc(), h.reservation()), (0, 0x2000, None));
    }
}
