//! IOMMU regions: translated accesses, permissions, notifiers and replay.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use ferrite_memory::*;

/// A page-granular IOMMU: iova page -> (output page, permissions).
struct PageIommu {
    target: RefCell<Option<AddressSpaceId>>,
    map: RefCell<BTreeMap<u64, (u64, IommuPerm)>>,
}

impl IommuOps for PageIommu {
    fn translate(&self, addr: u64, _: IommuAccess, _: MemTxAttrs) -> IommuTlbEntry {
        let page = addr & !0xfff;
        let target = self.target.borrow().unwrap();
        match self.map.borrow().get(&page) {
            Some(&(out, perm)) => IommuTlbEntry {
                target,
                iova: page,
                translated_addr: out,
                addr_mask: 0xfff,
                perm,
            },
            None => IommuTlbEntry {
                target,
                iova: page,
                translated_addr: 0,
                addr_mask: 0xfff,
                perm: IommuPerm::NONE,
            },
        }
    }
}

#[test]
fn dma_through_an_iommu() {
    let mut m = MemorySystem::new();
    let system = m.new_container("system", RegionSize::Max);
    let ram = m.new_ram("ram", 0x10_0000).unwrap();
    m.add_subregion(system, 0x8000_0000, ram).unwrap();
    let memory = m.new_address_space("memory", system);
    let iommu = Rc::new(PageIommu {
        target: RefCell::new(Some(memory)),
        map: RefCell::default(),
    });
    iommu
        .map
        .borrow_mut()
        .insert(0x1000, (0x8000_5000, IommuPerm::RW));
    iommu.map.borrow_mut().insert(
        0x2000,
        (
            0x8000_9000,
            IommuPerm {
                read: true,
                write: false,
            },
        ),
    );
    let dma_root = m.new_container("dma-root", RegionSize::Max);
    let io_mmu = m.new_iommu("iommu", 1 << 40, iommu.clone());
    m.add_subregion(dma_root, 0, io_mmu).unwrap();
    let dma = m.new_address_space("dma", dma_root);
    let a = MemTxAttrs::default();

    m.store(
        dma,
        GuestAddress(0x1008),
        4,
        0xdead_beef,
        Endianness::Little,
        a,
    )
    .unwrap();
    assert_eq!(
        m.load(memory, GuestAddress(0x8000_5008), 4, Endianness::Little, a),
        Ok(0xdead_beef)
    );
    assert_eq!(
        m.load(dma, GuestAddress(0x1008), 4, Endianness::Little, a),
        Ok(0xdead_beef)
    );
    // Read-only mapping: reads pass, writes fail; unmapped pages fail.
    m.write(memory, GuestAddress(0x8000_9000), &[5, 6], a)
        .unwrap();
    let mut buf = [0u8; 2];
    m.read(dma, GuestAddress(0x2000), &mut buf, a).unwrap();
    assert_eq!(buf, [5, 6]);
    assert_eq!(
        m.write(dma, GuestAddress(0x2000), &[1], a),
        Err(MemTxError::Decode)
    );
    assert_eq!(
        m.load(dma, GuestAddress(0x3000), 1, Endianness::Little, a),
        Err(MemTxError::Decode)
    );
    // A buffer spanning two mapped pages lands in two places.
    m.write(dma, GuestAddress(0x1ffe), &[1, 2, 3, 4], a)
        .unwrap_err(); // second page is read-only
    m.read(dma, GuestAddress(0x1ffe), &mut [0u8; 4], a).unwrap();
    let entry = m
        .iommu_translate(io_mmu, 0x1234, IommuAccess::Read, a)
        .unwrap();
    assert_eq!(entry.output(0x1234), 0x8000_5234);
    assert!(m.iommu_translate(ram, 0, IommuAccess::Read, a).is_err());
}

#[test]
fn notifiers_filter_by_kind_and_range_and_replay() {
    let mut m = MemorySystem::new();
    let system = m.new_container("system", RegionSize::Max);
    let memory = m.new_address_space("memory", system);
    let iommu = Rc::new(PageIommu {
        target: RefCell::new(Some(memory)),
        map: RefCell::default(),
    });
    let r = m.new_iommu("iommu", 1 << 20, iommu.clone());
    let seen: Rc<RefCell<Vec<(IommuEventKind, u64)>>> = Rc::default();
    let s1 = seen.clone();
    let maps_low = m
        .iommu_register_notifier(
            r,
            IommuNotifierFlags {
                map: true,
                unmap: false,
            },
            0,
            0x3fff,
            Box::new(move |e| s1.borrow_mut().push((e.kind, e.entry.iova))),
        )
        .unwrap();
    let entry = |iova| IommuTlbEntry {
        target: memory,
        iova,
        translated_addr: 0x8000_0000,
        addr_mask: 0xfff,
        perm: IommuPerm::RW,
    };
    m.iommu_notify(
        r,
        IommuEvent {
            kind: IommuEventKind::Map,
            entry: entry(0x1000),
        },
    );
    m.iommu_notify(
        r,
        IommuEvent {
            kind: IommuEventKind::Map,
            entry: entry(0x8000),
        },
    ); // out of range
    m.iommu_notify(
        r,
        IommuEvent {
            kind: IommuEventKind::Unmap,
            entry: entry(0x1000),
        },
    ); // not wanted
    assert_eq!(*seen.borrow(), vec![(IommuEventKind::Map, 0x1000)]);
    seen.borrow_mut().clear();
    iommu
        .map
        .borrow_mut()
        .insert(0x0000, (0x1000, IommuPerm::RW));
    iommu.map.borrow_mut().insert(
        0x3000,
        (
            0x2000,
            IommuPerm {
                read: false,
                write: true,
            },
        ),
    );
    iommu
        .map
        .borrow_mut()
        .insert(0x5000, (0x3000, IommuPerm::RW)); // outside the notifier's range
    m.iommu_replay(maps_low).unwrap();
    assert_eq!(
        *seen.borrow(),
        vec![(IommuEventKind::Map, 0x0000), (IommuEventKind::Map, 0x3000)]
    );
    assert!(m.iommu_unregister_notifier(maps_low));
    assert!(!m.iommu_unregister_notifier(maps_low));
}
