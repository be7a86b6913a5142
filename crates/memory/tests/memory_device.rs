//! Memory devices: placement in the device-memory window and memslot accounting.

use ferrite_memory::*;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

#[test]
fn plug_auto_and_explicit_with_memslots() {
    let mut m = MemorySystem::new();
    let root = m.new_container("system", RegionSize::Max);
    let s = m.new_address_space("memory", root);
    assert!(matches!(
        m.memory_device_plug(root, None, MIB, 1),
        Err(MemoryError::NoDeviceMemory)
    ));
    m.init_device_memory(root, 4 * GIB, GIB, 4).unwrap();
    let d0 = m.new_ram("dimm0", 256 * MIB).unwrap();
    let d1 = m.new_ram("dimm1", 128 * MIB).unwrap();
    let d2 = m.new_ram("dimm2", 64 * MIB).unwrap();
    assert_eq!(m.memory_device_plug(d0, None, 2 * MIB, 1).unwrap(), 4 * GIB);
    // Explicit address: must be aligned, inside, and free.
    assert!(matches!(
        m.memory_device_plug(d1, Some(4 * GIB + MIB), 2 * MIB, 1),
        Err(MemoryError::AddressUnavailable { .. })
    ));
    assert!(matches!(
        m.memory_device_plug(d1, Some(4 * GIB + 128 * MIB), 2 * MIB, 1),
        Err(MemoryError::AddressUnavailable { .. })
    ));
    assert!(matches!(
        m.memory_device_plug(d1, Some(5 * GIB - 64 * MIB), 2 * MIB, 1),
        Err(MemoryError::AddressUnavailable { .. })
    ));
    assert_eq!(
        m.memory_device_plug(d1, Some(4 * GIB + 512 * MIB), 2 * MIB, 1)
            .unwrap(),
        4 * GIB + 512 * MIB
    );
    // Auto placement finds the gap after d0, aligned.
    assert_eq!(
        m.memory_device_plug(d2, None, 256 * MIB, 1).unwrap(),
        4 * GIB + 256 * MIB
    );
    assert_eq!(
        m.lookup_section(s, GuestAddress(4 * GIB + 256 * MIB))
            .region,
        d2
    );
    assert_eq!(
        m.memslot_stats().unwrap(),
        MemslotStats {
            limit: 4,
            used: 3,
            required: 3,
            reserved: 0
        }
    );
    // Memslots run out before space does.
    let vmem = m.new_ram("virtio-mem", 64 * MIB).unwrap();
    assert!(matches!(
        m.memory_device_plug(vmem, None, MIB, 2),
        Err(MemoryError::MemslotsExhausted {
            needed: 2,
            free: 1,
            ..
        })
    ));
    m.memory_device_unplug(d1).unwrap();
    assert_eq!(
        m.lookup_section(s, GuestAddress(4 * GIB + 512 * MIB)).kind,
        SectionKind::Unassigned
    );
    m.memslots_reserve(1).unwrap();
    assert_eq!(m.memslot_stats().unwrap().free(), 1);
    assert!(m.memory_device_plug(vmem, None, MIB, 2).is_err());
    m.memslots_release(1);
    let at = m.memory_device_plug(vmem, None, MIB, 2).unwrap();
    assert_eq!(at, 4 * GIB + 320 * MIB);
    // No room for something larger than what is left.
    let huge = m.new_ram("huge", 900 * MIB).unwrap();
    m.memslots_release(0);
    m.memory_device_unplug(vmem).unwrap();
    assert!(matches!(
        m.memory_device_plug(huge, None, MIB, 1),
        Err(MemoryError::NoRoom { .. })
    ));
    assert_eq!(m.memory_devices().len(), 2);
    assert!(m.memory_device_unplug(d1).is_err());
}
