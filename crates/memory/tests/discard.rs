//! RAM discard managers: populate/discard, listeners, replay and refusal.

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::*;

const MIB: u64 = 1 << 20;

struct Rec {
    log: Rc<RefCell<Vec<String>>>,
    refuse_at: Option<u64>,
}

impl RamDiscardListener for Rec {
    fn notify_populate(
        &mut self,
        _: RegionId,
        offset: u64,
        len: u64,
    ) -> std::result::Result<(), String> {
        if self.refuse_at == Some(offset) {
            return Err("no room".into());
        }
        self.log
            .borrow_mut()
            .push(format!("populate {offset:#x}+{len:#x}"));
        Ok(())
    }
    fn notify_discard(&mut self, _: RegionId, offset: u64, len: u64) {
        self.log
            .borrow_mut()
            .push(format!("discard {offset:#x}+{len:#x}"));
    }
}

#[test]
fn populate_discard_and_listeners() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("vmem", 8 * MIB).unwrap();
    m.set_ram_discard_manager(ram, 2 * MIB).unwrap();
    assert!(matches!(
        m.set_ram_discard_manager(ram, 2 * MIB),
        Err(MemoryError::InUse(_))
    ));
    m.add_subregion(root, 0x1_0000_0000, ram).unwrap();
    let s = m.new_address_space("memory", root);
    assert!(!m.ram_is_populated(ram, 0, 2 * MIB));
    m.ram_discard_populate(ram, 2 * MIB, 4 * MIB).unwrap();
    assert_eq!(m.ram_populated_ranges(ram), vec![(2 * MIB, 4 * MIB)]);
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let id = m
        .register_ram_discard_listener(
            ram,
            Box::new(Rec {
                log: log.clone(),
                refuse_at: None,
            }),
        )
        .unwrap();
    assert_eq!(*log.borrow(), vec!["populate 0x200000+0x400000"]);
    log.borrow_mut().clear();
    // Populating an already-populated run tells only about the new part.
    m.ram_discard_populate(ram, 0, 4 * MIB).unwrap();
    assert_eq!(*log.borrow(), vec!["populate 0x0+0x200000"]);
    log.borrow_mut().clear();
    m.write(
        s,
        GuestAddress(0x1_0000_0000 + 3 * MIB),
        &[9; 8],
        MemTxAttrs::default(),
    )
    .unwrap();
    m.ram_discard_discard(ram, 2 * MIB, 2 * MIB).unwrap();
    assert_eq!(*log.borrow(), vec!["discard 0x200000+0x200000"]);
    let mut buf = [1u8; 8];
    m.read(
        s,
        GuestAddress(0x1_0000_0000 + 3 * MIB),
        &mut buf,
        MemTxAttrs::default(),
    )
    .unwrap();
    assert_eq!(buf, [0; 8], "discarded memory went back to the host");
    assert_eq!(
        m.ram_populated_ranges(ram),
        vec![(0, 2 * MIB), (4 * MIB, 2 * MIB)]
    );
    // Misaligned requests are errors.
    assert!(matches!(
        m.ram_discard_populate(ram, MIB, 2 * MIB),
        Err(MemoryError::OutOfRange { .. })
    ));
    assert!(matches!(
        m.ram_discard_populate(ram, 8 * MIB, 2 * MIB),
        Err(MemoryError::OutOfRange { .. })
    ));
    log.borrow_mut().clear();
    assert!(m.unregister_ram_discard_listener(id).is_some());
    assert_eq!(
        *log.borrow(),
        vec!["discard 0x0+0x200000", "discard 0x400000+0x200000"]
    );
}

#[test]
fn a_refusal_rolls_back() {
    let mut m = MemorySystem::new();
    let ram = m.new_ram("vmem", 8 * MIB).unwrap();
    m.set_ram_discard_manager(ram, 2 * MIB).unwrap();
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    m.register_ram_discard_listener(
        ram,
        Box::new(Rec {
            log: log.clone(),
            refuse_at: None,
        }),
    )
    .unwrap();
    m.register_ram_discard_listener(
        ram,
        Box::new(Rec {
            log: log.clone(),
            refuse_at: Some(6 * MIB),
        }),
    )
    .unwrap();
    m.ram_discard_populate(ram, 0, 2 * MIB).unwrap();
    log.borrow_mut().clear();
    // The second listener refuses the granule at 6 MiB after the first accepted it.
    m.ram_discard_discard(ram, 0, 2 * MIB).unwrap();
    log.borrow_mut().clear();
    let r = m.ram_discard_populate(ram, 6 * MIB, 2 * MIB);
    assert!(r.is_err());
    assert_eq!(
        *log.borrow(),
        vec!["populate 0x600000+0x200000", "discard 0x600000+0x200000"]
    );
    assert!(!m.ram_is_populated(ram, 6 * MIB, 2 * MIB));
    // Only RAM, only unmapped, sane granularity.
    let rom = m.new_rom("rom", 4 * MIB).unwrap();
    assert!(m.set_ram_discard_manager(rom, 2 * MIB).is_err());
    let r2 = m.new_ram("r2", 4 * MIB).unwrap();
    assert!(m.set_ram_discard_manager(r2, 3 * MIB).is_err());
    let root = m.new_container("system", RegionSize::Max);
    m.add_subregion(root, 0, r2).unwrap();
    assert!(matches!(
        m.set_ram_discard_manager(r2, 2 * MIB),
        Err(MemoryError::InUse(_))
    ));
}
