//! No side door: code and data in an MMIO region arrive at the device as
//! sized accesses.

use super::asm::*;
use super::*;

#[test]
fn mmio_sees_every_fetch_load_store_and_amo_with_its_size() {
    let mut rig = Rig::new();
    let code = [
        load(0, 10, 1, 0x100),   // lb
        load(1, 11, 1, 0x102),   // lh
        load(2, 12, 1, 0x104),   // lw
        load(3, 13, 1, 0x108),   // ld
        store(0, 2, 1, 0x110),   // sb
        store(1, 2, 1, 0x112),   // sh
        store(2, 2, 1, 0x114),   // sw
        store(3, 2, 1, 0x118),   // sd
        amo(0, false, 14, 3, 2), // amoadd.w
        amo(0, true, 15, 4, 2),  // amoadd.d
        0x0505,                  // c.addi a0, 1 (16 bits) + c.nop padding below
    ];
    {
        let mut b = rig.io.bytes.borrow_mut();
        for (k, w) in code.iter().enumerate() {
            b[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
        }
        // After the c.addi (at 40) and a c.nop (42): spin forever at 44.
        b[42..44].copy_from_slice(&0x0001u16.to_le_bytes());
        b[44..48].copy_from_slice(&SPIN.to_le_bytes());
        b[0x108] = 0x55;
    }
    rig.cpu.set_pc(IO);
    rig.cpu.set_xreg(1, IO);
    rig.cpu.set_xreg(2, 0x0102_0304_0506_0708);
    rig.cpu.set_xreg(3, IO + 0x120);
    rig.cpu.set_xreg(4, IO + 0x128);
    rig.run(13);
    assert_eq!(rig.cpu.pc(), IO + 44);
    assert_eq!(rig.x(13), 0x55);
    let log = rig.io.log.borrow().clone();
    let f = |off: u64| vec![(false, off, 2), (false, off + 2, 2)];
    let mut want = Vec::new();
    let data: [(bool, u64, u32); 8] = [
        (false, 0x100, 1),
        (false, 0x102, 2),
        (false, 0x104, 4),
        (false, 0x108, 8),
        (true, 0x110, 1),
        (true, 0x112, 2),
        (true, 0x114, 4),
        (true, 0x118, 8),
    ];
    for (k, d) in data.iter().enumerate() {
        want.extend(f(4 * k as u64));
        want.push(*d);
    }
    want.extend(f(32));
    want.extend([(false, 0x120, 4), (true, 0x120, 4)]);
    want.extend(f(36));
    want.extend([(false, 0x128, 8), (true, 0x128, 8)]);
    want.push((false, 40, 2)); // c.addi: one 16-bit parcel
    want.push((false, 42, 2)); // c.nop
    want.extend(f(44)); // the first spin
    assert_eq!(log, want);
    assert_eq!(rig.x(10), 1, "lb of 0 then c.addi");
    // Code in MMIO is never cached: running the spin again fetches again.
    let n = rig.io.log.borrow().len();
    rig.run(2);
    assert_eq!(rig.io.log.borrow().len(), n + 4);
}

#[test]
fn mmio_store_values_reach_the_device() {
    let mut rig = Rig::new();
    rig.program(&[store(2, 2, 1, 0x10), load(5, 5, 1, 0x10), SPIN]);
    rig.cpu.set_xreg(1, IO);
    rig.cpu.set_xreg(2, 0xbeef_cafe);
    rig.run(5);
    assert_eq!(rig.x(5), 0xcafe);
    assert_eq!(rig.io.bytes.borrow()[0x10..0x14], [0xfe, 0xca, 0xef, 0xbe]);
}

#[test]
fn illegal_csr_access_in_mmio_code_reports_its_bits() {
    let mut rig = Rig::new();
    let bad = csr(1, 5, 0xc00 + 0x7ff, 6);
    rig.io.bytes.borrow_mut()[0..4].copy_from_slice(&bad.to_le_bytes());
    rig.cpu.set_pc(IO);
    rig.run(2);
    assert_eq!(
        rig.csr(crate::csr::addr::MCAUSE),
        crate::privilege::Exception::IllegalInstruction.code()
    );
    assert_eq!(rig.csr(crate::csr::addr::MTVAL), u64::from(bad));
    assert_eq!(rig.csr(crate::csr::addr::MEPC), IO);
}
