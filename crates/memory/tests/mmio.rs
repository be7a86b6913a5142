//! MMIO splitting and widening for every combination of valid/impl sizes and
//! alignment, in both device and access byte orders.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::*;

/// A device whose registers are a byte array read and written in its own byte order.
struct ByteDevice {
    bytes: RefCell<[u8; 32]>,
    calls: RefCell<Vec<(char, u64, u32)>>,
    desc: IoDescriptor,
}

fn assemble(b: &[u8], e: Endianness) -> u64 {
    let mut v = 0u64;
    match e {
        Endianness::Little => b.iter().rev().for_each(|&x| v = (v << 8) | u64::from(x)),
        Endianness::Big => b.iter().for_each(|&x| v = (v << 8) | u64::from(x)),
    }
    v
}

fn scatter(v: u64, size: usize, e: Endianness) -> Vec<u8> {
    let le = v.to_le_bytes();
    (0..size)
        .map(|i| {
            if e == Endianness::Little {
                le[i]
            } else {
                le[size - 1 - i]
            }
        })
        .collect()
}

impl RegionOps for ByteDevice {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        self.calls.borrow_mut().push(('r', offset, size));
        let b = self.bytes.borrow();
        let o = offset as usize;
        Ok(assemble(&b[o..o + size as usize], self.desc.endianness))
    }
    fn write(&self, offset: u64, value: u64, size: u32, _: MemTxAttrs) -> MemTxResult<()> {
        self.calls.borrow_mut().push(('w', offset, size));
        let o = offset as usize;
        let bytes = scatter(value, size as usize, self.desc.endianness);
        self.bytes.borrow_mut()[o..o + size as usize].copy_from_slice(&bytes);
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        self.desc
    }
}

fn setup(desc: IoDescriptor) -> (MemorySystem, AddressSpaceId, Rc<ByteDevice>) {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let mut init = [0u8; 32];
    for (i, b) in init.iter_mut().enumerate() {
        *b = 0x10 + i as u8;
    }
    let dev = Rc::new(ByteDevice {
        bytes: RefCell::new(init),
        calls: RefCell::default(),
        desc,
    });
    let io = m.new_io("dev", 32, dev.clone());
    m.add_subregion(root, 0x1000, io).unwrap();
    let s = m.new_address_space("memory", root);
    (m, s, dev)
}

const ENDIANS: [Endianness; 2] = [Endianness::Little, Endianness::Big];

fn expected_valid(v: &AccessConstraints, offset: u64, size: u32) -> bool {
    let aligned = offset % u64::from(size) == 0;
    let size_ok = if v.max_access_size == 0 {
        true
    } else {
        size >= v.min_access_size.max(1) && size <= v.max_access_size
    };
    size_ok && (aligned || v.unaligned)
}

fn expected_calls(
    imp: &AccessConstraints,
    offset: u64,
    size: u32,
    kind: char,
) -> Vec<(char, u64, u32)> {
    let min = if imp.min_access_size == 0 {
        1
    } else {
        imp.min_access_size
    };
    let max = if imp.max_access_size == 0 {
        4
    } else {
        imp.max_access_size
    };
    let access = size.min(max).max(min);
    (0..size)
        .step_by(access as usize)
        .map(|i| (kind, offset + u64::from(i), access))
        .collect()
}

#[test]
fn every_combination_of_constraints_sizes_alignments_and_byte_orders() {
    let mut checked = 0;
    for vmin in [0u32, 1, 2, 4] {
        for vmax in [0u32, 2, 4, 8] {
            for vun in [false, true] {
                for imin in [0u32, 1, 2, 4, 8] {
                    for imax in [0u32, 1, 2, 4, 8] {
                        if imax != 0 && imin > imax {
                            continue;
                        }
                        for dev_endian in ENDIANS {
                            let desc = IoDescriptor {
                                valid: AccessConstraints {
                                    min_access_size: vmin,
                                    max_access_size: vmax,
                                    unaligned: vun,
                                },
                                implementation: AccessConstraints {
                                    min_access_size: imin,
                                    max_access_size: imax,
                                    unaligned: false,
                                },
                                endianness: dev_endian,
                            };
                            let (mut m, s, dev) = setup(desc);
                            for size in [1u32, 2, 4, 8] {
                                for offset in [0u64, 1, 2, 4, 8] {
                                    for endian in ENDIANS {
                                        checked += 1;
                                        let ctx = format!(
                                            "{desc:?} size {size} offset {offset} access {endian:?}"
                                        );
                                        let addr = GuestAddress(0x1000 + offset);
                                        dev.calls.borrow_mut().clear();
                                        let got =
                                            m.load(s, addr, size, endian, MemTxAttrs::default());
                                        if !expected_valid(&desc.valid, offset, size) {
                                            assert_eq!(got, Err(MemTxError::Decode), "{ctx}");
                                            assert!(dev.calls.borrow().is_empty(), "{ctx}");
                                            assert_eq!(
                                                m.store(
                                                    s,
                                                    addr,
                                                    size,
                                                    0,
                                                    endian,
                                                    MemTxAttrs::default()
                                                ),
                                                Err(MemTxError::Decode),
                                                "{ctx}"
                                            );
                                            continue;
                                        }
                                        let want = assemble(
                                            &dev.bytes.borrow()[offset as usize
                                                ..(offset + u64::from(size)) as usize],
                                            endian,
                                        );
                                        assert_eq!(got, Ok(want), "{ctx}");
                                        assert_eq!(
                                            *dev.calls.borrow(),
                                            expected_calls(&desc.implementation, offset, size, 'r'),
                                            "{ctx}"
                                        );
                                        // Store a pattern and read the device's bytes back.
                                        dev.calls.borrow_mut().clear();
                                        let value = 0xa1b2_c3d4_e5f6_0718u64
                                            & if size == 8 {
                                                u64::MAX
                                            } else {
                                                (1u64 << (size * 8)) - 1
                                            };
                                        m.store(
                                            s,
                                            addr,
                                            size,
                                            value,
                                            endian,
                                            MemTxAttrs::default(),
                                        )
                                        .unwrap();
                                        assert_eq!(
                                            *dev.calls.borrow(),
                                            expected_calls(&desc.implementation, offset, size, 'w'),
                                            "{ctx}"
                                        );
                                        let stored = assemble(
                                            &dev.bytes.borrow()[offset as usize
                                                ..(offset + u64::from(size)) as usize],
                                            endian,
                                        );
                                        assert_eq!(stored, value, "{ctx}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn pinned_examples() {
    // 8-byte read of a 4-byte big-endian device: the first piece is the high half.
    let desc = IoDescriptor {
        valid: AccessConstraints::sizes(1, 8),
        implementation: AccessConstraints::sizes(4, 4),
        endianness: Endianness::Big,
    };
    let (mut m, s, dev) = setup(desc);
    let v = m
        .load(
            s,
            GuestAddress(0x1000),
            8,
            Endianness::Big,
            MemTxAttrs::default(),
        )
        .unwrap();
    assert_eq!(v, 0x1011_1213_1415_1617);
    assert_eq!(*dev.calls.borrow(), vec![('r', 0, 4), ('r', 4, 4)]);
    let v = m
        .load(
            s,
            GuestAddress(0x1000),
            8,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap();
    assert_eq!(v, 0x1716_1514_1312_1110);
    // A 1-byte read of a device implementing only 4-byte accesses is widened.
    dev.calls.borrow_mut().clear();
    let v = m
        .load(
            s,
            GuestAddress(0x1004),
            1,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap();
    assert_eq!(v, 0x14);
    assert_eq!(*dev.calls.borrow(), vec![('r', 4, 4)]);
    // Unaligned accesses are refused by default.
    let (mut m, s, _) = setup(IoDescriptor::default());
    assert_eq!(
        m.load(
            s,
            GuestAddress(0x1001),
            2,
            Endianness::Little,
            MemTxAttrs::default()
        ),
        Err(MemTxError::Decode)
    );
    assert_eq!(
        m.load(
            s,
            GuestAddress(0x1002),
            2,
            Endianness::Little,
            MemTxAttrs::default()
        ),
        Ok(0x1312)
    );
}

#[test]
fn byte_buffers_are_cut_into_pieces_the_region_accepts() {
    let desc = IoDescriptor {
        valid: AccessConstraints::sizes(1, 4),
        implementation: AccessConstraints::sizes(1, 4),
        endianness: Endianness::Little,
    };
    let (mut m, s, dev) = setup(desc);
    let mut buf = [0u8; 11];
    m.read(s, GuestAddress(0x1001), &mut buf, MemTxAttrs::default())
        .unwrap();
    assert_eq!(buf.to_vec(), (0x11..0x1c).collect::<Vec<u8>>());
    // Pieces are bounded by the address's alignment and the valid maximum.
    assert_eq!(
        *dev.calls.borrow(),
        vec![('r', 1, 1), ('r', 2, 2), ('r', 4, 4), ('r', 8, 4)]
    );
    dev.calls.borrow_mut().clear();
    m.write(s, GuestAddress(0x1003), &[0xee; 6], MemTxAttrs::default())
        .unwrap();
    assert_eq!(
        *dev.calls.borrow(),
        vec![('w', 3, 1), ('w', 4, 4), ('w', 8, 1)]
    );
    assert_eq!(
        &dev.bytes.borrow()[2..10],
        &[0x12, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0x19][..]
    );
}

struct Failing;
impl RegionOps for Failing {
    fn read(&self, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Err(MemTxError::Device)
    }
    fn write(&self, _: u64, _: u64, _: u32, _: MemTxAttrs) -> MemTxResult<()> {
        Err(MemTxError::Device)
    }
}

#[test]
fn device_errors_and_ram_devices() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let bad = m.new_io("bad", 8, Rc::new(Failing));
    let ramd = m.new_ram_device("ramd", 0x1000).unwrap();
    m.add_subregion(root, 0, bad).unwrap();
    m.add_subregion(root, 0x2000, ramd).unwrap();
    let s = m.new_address_space("memory", root);
    let a = MemTxAttrs::default();
    assert_eq!(
        m.load(s, GuestAddress(0), 4, Endianness::Little, a),
        Err(MemTxError::Device)
    );
    assert_eq!(
        m.store(s, GuestAddress(0), 4, 1, Endianness::Little, a),
        Err(MemTxError::Device)
    );
    // A RAM device is reached through sized accesses (kind Io), never a host pointer.
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x2000)).kind,
        SectionKind::Io
    );
    m.store(
        s,
        GuestAddress(0x2001),
        8,
        0x0102_0304_0506_0708,
        Endianness::Big,
        a,
    )
    .unwrap();
    assert_eq!(
        m.load(s, GuestAddress(0x2001), 8, Endianness::Big, a),
        Ok(0x0102_0304_0506_0708)
    );
    assert_eq!(
        m.load(s, GuestAddress(0x2001), 1, Endianness::Little, a),
        Ok(0x01)
    );
    let mut buf = [0u8; 3];
    m.read(s, GuestAddress(0x2001), &mut buf, a).unwrap();
    assert_eq!(buf, [1, 2, 3]);
}

#[test]
fn rom_device_switches_between_romd_and_io_mode() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let dev = Rc::new(ByteDevice {
        bytes: RefCell::new([0xab; 32]),
        calls: RefCell::default(),
        desc: IoDescriptor::default(),
    });
    let flash = m.new_rom_device("flash", 0x1000, dev.clone()).unwrap();
    m.add_subregion(root, 0x2000_0000, flash).unwrap();
    let s = m.new_address_space("memory", root);
    let a = MemTxAttrs::default();
    m.write_rom(s, GuestAddress(0x2000_0000), &[1, 2, 3, 4])
        .unwrap();
    assert!(matches!(
        m.lookup_section(s, GuestAddress(0x2000_0000)).kind,
        SectionKind::RomDevice { .. }
    ));
    assert_eq!(
        m.load(s, GuestAddress(0x2000_0000), 4, Endianness::Little, a),
        Ok(0x0403_0201)
    );
    assert!(dev.calls.borrow().is_empty(), "ROMD reads come from memory");
    m.store(s, GuestAddress(0x2000_0000), 1, 0x90, Endianness::Little, a)
        .unwrap();
    assert_eq!(
        *dev.calls.borrow(),
        vec![('w', 0, 1)],
        "writes go to the callbacks"
    );
    let g = m.generation(s);
    m.set_rom_device_mode(flash, false).unwrap();
    assert!(m.generation(s) > g);
    assert_eq!(
        m.lookup_section(s, GuestAddress(0x2000_0000)).kind,
        SectionKind::Io
    );
    assert_eq!(
        m.load(s, GuestAddress(0x2000_0004), 4, Endianness::Little, a),
        Ok(0xabab_abab)
    );
    assert_eq!(dev.calls.borrow().last(), Some(&('r', 4, 4)));
    assert!(m.set_rom_device_mode(root, true).is_err());
}

#[test]
fn nonsense_descriptors_do_not_panic() {
    for (vmax, imin, imax) in [(16u32, 16u32, 32u32), (0, 3, 3), (8, 8, 2), (32, 0, 64)] {
        let desc = IoDescriptor {
            valid: AccessConstraints {
                min_access_size: 0,
                max_access_size: vmax,
                unaligned: true,
            },
            implementation: AccessConstraints {
                min_access_size: imin,
                max_access_size: imax,
                unaligned: false,
            },
            endianness: Endianness::Big,
        };
        let (mut m, s, _) = setup(desc);
        for size in [1u32, 2, 4, 8] {
            let _ = m.load(
                s,
                GuestAddress(0x1001),
                size,
                Endianness::Little,
                MemTxAttrs::default(),
            );
            let _ = m.store(
                s,
                GuestAddress(0x1001),
                size,
                u64::MAX,
                Endianness::Big,
                MemTxAttrs::default(),
            );
        }
        let mut buf = [0u8; 20];
        let _ = m.read(s, GuestAddress(0x1000), &mut buf, MemTxAttrs::default());
    }
}
