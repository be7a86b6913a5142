//! The register layout gdb sees, QEMU's for a riscv64 CPU: `x0`–`x31` and
//! `pc` (numbers 0–32, the `g` packet), `ft0`–`ft11`… (`f0`–`f31`, 33–64)
//! with `fflags`, `frm`, `fcsr` (66–68) in `org.gnu.gdb.riscv.fpu`, `priv`
//! (69) in `org.gnu.gdb.riscv.virtual`, and every CSR the hart has as
//! number 70 + its CSR number in `org.gnu.gdb.riscv.csr`. The target
//! description is generated per hart configuration (the CSR list depends on
//! the ISA), so it is served through gdbstub's description override.

use std::fmt::Write as _;
use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};

/// The first floating-point register's number.
pub const FIRST_FPR: usize = 33;
/// `fflags`, `frm`, `fcsr` in the FPU feature.
pub const FFLAGS: usize = 66;
/// See [`FFLAGS`].
pub const FRM: usize = 67;
/// See [`FFLAGS`].
pub const FCSR: usize = 68;
/// The privilege level (`org.gnu.gdb.riscv.virtual`).
pub const PRIV: usize = 69;
/// CSR `n` is register `FIRST_CSR + n`.
pub const FIRST_CSR: usize = 70;

/// A RISC-V hart as gdb sees it (see the module documentation).
#[derive(Debug)]
pub enum FerriteRiscv {}

impl Arch for FerriteRiscv {
    type Usize = u64;
    type Registers = CoreRegs;
    type BreakpointKind = usize;
    type RegId = RegNum;
}

/// The registers of the `g` packet: `x0`–`x31` and `pc`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoreRegs {
    /// `x0`–`x31`.
    pub x: [u64; 32],
    /// The pc.
    pub pc: u64,
}

impl Registers for CoreRegs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for v in self.x.iter().chain(std::iter::once(&self.pc)) {
            for b in v.to_le_bytes() {
                write_byte(Some(b));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        if bytes.len() < 33 * 8 {
            return Err(());
        }
        let mut words = bytes.chunks_exact(8).map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        });
        for x in &mut self.x {
            *x = words.next().ok_or(())?;
        }
        self.pc = words.next().ok_or(())?;
        Ok(())
    }
}

/// A register number of the target description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegNum(pub usize);

impl RegId for RegNum {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let size = match id {
            FFLAGS..=FCSR => 4,
            0..=PRIV => 8,
            n if (FIRST_CSR..FIRST_CSR + 4096).contains(&n) => 8,
            _ => return None,
        };
        Some((RegNum(id), NonZeroUsize::new(size)))
    }
}

/// The FPU register names gdb's RISC-V description uses (ABI names).
const FPR_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// The target description for a hart with an FPU or not and the CSRs
/// `csrs` (number, name).
pub fn target_description(fpu: bool, csrs: &[(u16, String)]) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n<feature name=\"org.gnu.gdb.riscv.cpu\">\n",
    );
    for r in 0..32u8 {
        let name = ferrite_machine::reg_name(r);
        let ty = match r {
            1 => "code_ptr",
            2 | 8 => "data_ptr",
            _ => "int",
        };
        let _ = writeln!(
            x,
            "<reg name=\"{name}\" bitsize=\"64\" type=\"{ty}\" regnum=\"{r}\"/>"
        );
    }
    x.push_str("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n");
    if fpu {
        x.push_str(
            "<feature name=\"org.gnu.gdb.riscv.fpu\">\n<union id=\"riscv_double\">\n<field name=\"float\" type=\"ieee_single\"/>\n<field name=\"double\" type=\"ieee_double\"/>\n</union>\n",
        );
        for (i, name) in FPR_NAMES.iter().enumerate() {
            let _ = writeln!(
                x,
                "<reg name=\"{name}\" bitsize=\"64\" type=\"riscv_double\" regnum=\"{}\"/>",
                FIRST_FPR + i
            );
        }
        for (n, name) in [(FFLAGS, "fflags"), (FRM, "frm"), (FCSR, "fcsr")] {
            let _ = writeln!(
                x,
                "<reg name=\"{name}\" bitsize=\"32\" type=\"int\" regnum=\"{n}\"/>"
            );
        }
        x.push_str("</feature>\n");
    }
    let _ = write!(
        x,
        "<feature name=\"org.gnu.gdb.riscv.virtual\">\n<reg name=\"priv\" bitsize=\"64\" regnum=\"{PRIV}\"/>\n</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n"
    );
    for (n, name) in csrs {
        // The FPU feature already has these three.
        if fpu && (1..=3).contains(n) {
            continue;
        }
        let _ = writeln!(
            x,
            "<reg name=\"{name}\" bitsize=\"64\" regnum=\"{}\"/>",
            FIRST_CSR + usize::from(*n)
        );
    }
    x.push_str("</feature>\n</target>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_numbers_registers_as_qemu() {
        let xml = target_description(true, &[(0x300, "mstatus".into()), (1, "fflags".into())]);
        assert!(xml.contains("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>"));
        assert!(xml.contains("name=\"ft0\" bitsize=\"64\" type=\"riscv_double\" regnum=\"33\""));
        assert!(xml.contains("name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"68\""));
        assert!(xml.contains("name=\"priv\" bitsize=\"64\" regnum=\"69\""));
        assert!(xml.contains(&format!(
            "name=\"mstatus\" bitsize=\"64\" regnum=\"{}\"",
            70 + 0x300
        )));
        // fflags appears once, in the FPU feature.
        assert_eq!(xml.matches("name=\"fflags\"").count(), 1);
        let no_fpu = target_description(false, &[]);
        assert!(!no_fpu.contains("riscv.fpu"));
    }

    #[test]
    fn core_registers_round_trip() {
        let mut r = CoreRegs::default();
        r.x[5] = 0x1122_3344_5566_7788;
        r.pc = 0x8000_0000;
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap_or(0)));
        assert_eq!(bytes.len(), 33 * 8);
        let mut back = CoreRegs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, r);
        assert!(back.gdb_deserialize(&bytes[..100]).is_err());
    }
}
