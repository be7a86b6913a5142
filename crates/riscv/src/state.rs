//! A hart's complete architectural state as bytes, for snapshots and
//! migration ([`ferrite_softmmu::ArchState::save_state`]).
//!
//! The format is a sequence of little-endian 64-bit words: a format word
//! (magic and version), then every field in a fixed order. Written by hand
//! rather than with a serialisation crate because the state is a flat list
//! of integers whose order is the format's whole definition, and the
//! register file (an array of 256 words, see [`crate::hart::REG_SLOTS`])
//! does not fit serde's derive. The interrupt pins are not state of the
//! hart (devices drive them) and are kept as they are on restore.

use ferrite_softmmu::StateError;

use crate::csr::{Counters, Csrs};
use crate::hart::Hart;
use crate::pmp::{PMP_ENTRIES, Pmp};
use crate::privilege::Privilege;

/// "RVHART" and format version 2 (version 1 had no floating-point state).
const FORMAT: u64 = 0x5256_4841_5254_0002;

/// Words before the PMP entries: format, x0..x31, pc, privilege,
/// reservation (flag and address), reservation value, instret, 23 CSR
/// words, 5 counter words.
const FIXED_WORDS: usize = 1 + 32 + 1 + 1 + 2 + 1 + 1 + 23 + 5;
/// Words after the PMP entries: f0..f31, then `fflags | frm << 8`.
const FP_WORDS: usize = 32 + 1;
/// Every word of the format.
const WORDS: usize = FIXED_WORDS + 2 * PMP_ENTRIES + FP_WORDS;

/// The CSR fields, in format order.
fn csr_words(c: &Csrs) -> [u64; 23] {
    [
        c.hart_id,
        c.mstatus,
        c.medeleg,
        c.mideleg,
        c.mie,
        c.mip_sw,
        c.mtvec,
        c.stvec,
        c.mepc,
        c.sepc,
        c.mcause,
        c.scause,
        c.mtval,
        c.stval,
        c.mscratch,
        c.sscratch,
        c.satp,
        c.mcounteren,
        c.scounteren,
        c.menvcfg,
        c.senvcfg,
        c.stimecmp,
        u64::from(c.stimecmp_reached),
    ]
}

/// `hart`'s state in the format above.
pub(crate) fn save(hart: &Hart) -> Vec<u8> {
    let mut w = Vec::with_capacity(WORDS);
    w.push(FORMAT);
    w.extend_from_slice(&hart.x[..32]);
    w.push(hart.pc);
    w.push(hart.privilege as u64);
    w.push(u64::from(hart.reservation.is_some()));
    w.push(hart.reservation.unwrap_or(0));
    w.push(hart.reservation_value);
    w.push(hart.instret);
    w.extend_from_slice(&csr_words(&hart.csrs));
    w.extend_from_slice(&hart.csrs.counters.to_words());
    w.extend_from_slice(&hart.csrs.pmp.to_words());
    w.extend_from_slice(&hart.f);
    w.push(u64::from(hart.csrs.fflags) | u64::from(hart.csrs.frm) << 8);
    debug_assert_eq!(w.len(), WORDS);
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The hart `bytes` describe, with `current`'s interrupt pins. Refuses
/// anything but a state saved by [`save`] for a hart with the same id.
pub(crate) fn restore(current: &Hart, bytes: &[u8]) -> Result<Hart, StateError> {
    if bytes.len() != WORDS * 8 {
        return Err(StateError::WrongLength {
            found: bytes.len(),
            expected: WORDS * 8,
        });
    }
    let w: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        })
        .collect();
    if w[0] != FORMAT {
        return Err(StateError::WrongFormat {
            found: w[0],
            expected: FORMAT,
        });
    }
    let invalid = |field| StateError::InvalidField { field };
    let mut h = current.clone();
    h.x[..32].copy_from_slice(&w[1..33]);
    h.x[0] = 0;
    h.pc = w[33];
    h.privilege = match w[34] {
        0 => Privilege::User,
        1 => Privilege::Supervisor,
        3 => Privilege::Machine,
        _ => return Err(invalid("privilege")),
    };
    h.reservation = match w[35] {
        0 => None,
        1 => Some(w[36]),
        _ => return Err(invalid("reservation")),
    };
    h.reservation_value = w[37];
    h.instret = w[38];
    let c = &w[39..62];
    if c[0] != current.csrs.hart_id {
        return Err(invalid("hart id"));
    }
    let csrs = &mut h.csrs;
    [
        csrs.mstatus,
        csrs.medeleg,
        csrs.mideleg,
        csrs.mie,
        csrs.mip_sw,
        csrs.mtvec,
        csrs.stvec,
        csrs.mepc,
        csrs.sepc,
        csrs.mcause,
        csrs.scause,
        csrs.mtval,
        csrs.stval,
        csrs.mscratch,
        csrs.sscratch,
        csrs.satp,
        csrs.mcounteren,
        csrs.scounteren,
        csrs.menvcfg,
        csrs.senvcfg,
        csrs.stimecmp,
    ] = c[1..22].try_into().map_err(|_| invalid("csrs"))?;
    csrs.stimecmp_reached = match c[22] {
        0 => false,
        1 => true,
        _ => return Err(invalid("stimecmp state")),
    };
    let mut counters = [0u64; 5];
    counters.copy_from_slice(&w[62..67]);
    csrs.counters = Counters::from_words(counters);
    let fp_start = WORDS - FP_WORDS;
    csrs.pmp = Pmp::from_words(&w[FIXED_WORDS..fp_start]).ok_or(invalid("pmp"))?;
    if !csrs.isa.has_fp() && csrs.mstatus & crate::csr::fields::MSTATUS_FS != 0 {
        return Err(invalid("mstatus.FS (this hart has no F)"));
    }
    h.f.copy_from_slice(&w[fp_start..fp_start + 32]);
    let fcsr = w[WORDS - 1];
    if fcsr & !0x7ff != 0 || fcsr & 0xe0 != 0 {
        return Err(invalid("fcsr"));
    }
    h.csrs.fflags = (fcsr & 0x1f) as u8;
    h.csrs.frm = ((fcsr >> 8) & 7) as u8;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_bad_states_change_nothing() {
        let mut h = Hart::new(3, 0x8000_0000);
        h.set_xreg(5, 0x1234);
        h.set_xreg(31, u64::MAX);
        h.privilege = Privilege::Supervisor;
        h.reservation = Some(0x8000_1000);
        h.instret = 99;
        h.csrs.mepc = 0x8000_0004;
        h.csrs.satp = 8 << 60 | 0x80123;
        h.csrs.stimecmp_reached = true;
        h.f[3] = 0xffff_ffff_3f80_0000;
        h.f[31] = 0x7ff8_0000_0000_0001;
        h.csrs.fflags = 0x11;
        h.csrs.frm = 4;
        let bytes = save(&h);
        assert_eq!(bytes.len(), WORDS * 8);

        let fresh = Hart::new(3, 0);
        let r = restore(&fresh, &bytes).expect("a saved state restores");
        assert_eq!(
            save(&r),
            bytes,
            "restoring and saving again is the identity"
        );
        assert_eq!(
            (r.xreg(5), r.xreg(31), r.pc),
            (0x1234, u64::MAX, 0x8000_0000)
        );
        assert_eq!(r.privilege, Privilege::Supervisor);
        assert_eq!(r.reservation, Some(0x8000_1000));
        assert_eq!((r.csrs.mepc, r.csrs.satp), (0x8000_0004, 8 << 60 | 0x80123));
        assert_eq!((r.f[3], r.f[31]), (h.f[3], h.f[31]));
        assert_eq!((r.csrs.fflags, r.csrs.frm), (0x11, 4));
        let mut bad = bytes.clone();
        bad[(WORDS - 1) * 8] = 0x20; // fflags bit 5 does not exist
        assert_eq!(
            restore(&fresh, &bad).err(),
            Some(StateError::InvalidField { field: "fcsr" })
        );

        assert!(matches!(
            restore(&fresh, &bytes[..8]),
            Err(StateError::WrongLength { .. })
        ));
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert!(matches!(
            restore(&fresh, &bad),
            Err(StateError::WrongFormat { .. })
        ));
        let mut bad = bytes.clone();
        bad[34 * 8] = 2;
        assert_eq!(
            restore(&fresh, &bad).err(),
            Some(StateError::InvalidField { field: "privilege" })
        );
        assert_eq!(
            restore(&Hart::new(4, 0), &bytes).err(),
            Some(StateError::InvalidField { field: "hart id" })
        );
    }
}
