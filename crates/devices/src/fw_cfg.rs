//! QEMU's firmware configuration device (fw_cfg), memory-mapped as on the
//! virt board, with its DMA interface (QEMU's `docs/specs/fw_cfg.rst`).
//!
//! | region       | offset | what                                               |
//! |--------------|--------|----------------------------------------------------|
//! | `fwcfg.data` | 0x00   | the selected item's next bytes (1 to 8 per read)   |
//! | `fwcfg.ctl`  | 0x08   | the selector (16-bit write)                        |
//! | `fwcfg.dma`  | 0x10   | a `FWCfgDmaAccess` address (reads `"QEMU CFG"`)    |
//!
//! All three are big-endian, so data reads land in guest memory in item
//! order. The items are the ones QEMU 7.2's virt has without options: the
//! signature `QEMU`, the feature bits (traditional and DMA), a zero UUID,
//! `nographic`, the hart count, the boot-menu flag, and a file directory
//! sorted by name with `bios-geometry` and `bootorder` (empty: nothing has
//! a boot index) and `etc/boot-fail-wait` (-1). Writes to items are
//! refused, as QEMU refuses them for read-only items.
//!
//! A DMA request runs as a deferred memory operation right after the write
//! that starts it returns, so it is done before the guest's next access, as
//! QEMU's is; while it runs the device's regions refuse accesses (a request
//! that points at the device cannot re-enter it).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, AddressSpaceId, DeferredChanges, Endianness, GuestAddress, IoDescriptor,
    MemTxAttrs, MemTxError, MemTxResult, MemorySystem, ReentrancyGuard, RegionId, RegionOps,
};

use crate::GUEST_ERRORS;

/// Item keys.
pub mod key {
    /// `"QEMU"`.
    pub const SIGNATURE: u16 = 0x00;
    /// Feature bits, little-endian u32.
    pub const ID: u16 = 0x01;
    /// The machine's UUID, 16 bytes.
    pub const UUID: u16 = 0x02;
    /// Whether the machine has no graphics, little-endian u16.
    pub const NOGRAPHIC: u16 = 0x04;
    /// Hart count, little-endian u16.
    pub const NB_CPUS: u16 = 0x05;
    /// Whether a boot menu is wanted, little-endian u16.
    pub const BOOT_MENU: u16 = 0x0e;
    /// The file directory.
    pub const FILE_DIR: u16 = 0x19;
    /// The first file's key.
    pub const FILE_FIRST: u16 = 0x20;
}

/// Feature bit: the traditional interface.
pub const FEATURE_TRADITIONAL: u32 = 1;
/// Feature bit: the DMA interface.
pub const FEATURE_DMA: u32 = 2;
/// What the DMA register reads as: `"QEMU CFG"`.
pub const DMA_SIGNATURE: u64 = 0x5145_4d55_2043_4647;
/// File slots in the directory (QEMU's default).
pub const FILE_SLOTS: u16 = 0x20;
/// Bytes of a directory entry's name field.
const FILE_NAME_LEN: usize = 56;
/// Key bits that select the item (the rest: write channel, arch-local).
const ENTRY_MASK: u16 = 0x3fff;
const ARCH_LOCAL: u16 = 0x8000;

/// DMA control bits.
pub mod dma {
    /// The request failed.
    pub const ERROR: u32 = 0x01;
    /// Copy item bytes to memory.
    pub const READ: u32 = 0x02;
    /// Skip item bytes.
    pub const SKIP: u32 = 0x04;
    /// Select the item in the top 16 bits first.
    pub const SELECT: u32 = 0x08;
    /// Copy memory into the item.
    pub const WRITE: u32 = 0x10;
}

/// What the board tells the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwCfgConfig {
    /// The hart count.
    pub harts: u16,
    /// Whether the machine runs without a graphical display.
    pub nographic: bool,
}

#[derive(Debug)]
struct State {
    /// Items by key (arch-local ones have bit 15 set).
    items: BTreeMap<u16, Vec<u8>>,
    /// The selected key, `None` when the selector named no item slot.
    selected: Option<u16>,
    offset: usize,
    dma_high: u64,
}

/// The fw_cfg device. Its three regions are made by [`FwCfg::new`].
pub struct FwCfg {
    state: RefCell<State>,
    changes: DeferredChanges,
    dma_space: AddressSpaceId,
    guard: ReentrancyGuard,
}

/// The device's regions, to be mapped at base, base + 8 and base + 16.
#[derive(Debug, Clone, Copy)]
pub struct FwCfgRegions {
    /// `fwcfg.data`, 8 bytes.
    pub data: RegionId,
    /// `fwcfg.ctl`, 2 bytes.
    pub ctl: RegionId,
    /// `fwcfg.dma`, 8 bytes.
    pub dma: RegionId,
}

/// The file directory's contents for `files` (name, bytes), sorted by name.
fn directory(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut dir = Vec::with_capacity(4 + 64 * usize::from(FILE_SLOTS));
    dir.extend_from_slice(&(files.len() as u32).to_be_bytes());
    for (i, (name, data)) in files.iter().enumerate() {
        dir.extend_from_slice(&(data.len() as u32).to_be_bytes());
        dir.extend_from_slice(&(key::FILE_FIRST + i as u16).to_be_bytes());
        dir.extend_from_slice(&[0, 0]);
        let mut field = [0u8; FILE_NAME_LEN];
        field[..name.len()].copy_from_slice(name.as_bytes());
        dir.extend_from_slice(&field);
    }
    dir.resize(4 + 64 * usize::from(FILE_SLOTS), 0);
    dir
}

impl FwCfg {
    /// A device with QEMU virt's items for `config`; its DMA goes to
    /// `dma_space` of `mem`. Returns it with its regions (not mapped).
    pub fn new(
        mem: &mut MemorySystem,
        dma_space: AddressSpaceId,
        config: FwCfgConfig,
    ) -> (Rc<FwCfg>, FwCfgRegions) {
        let mut items = BTreeMap::new();
        items.insert(key::SIGNATURE, b"QEMU".to_vec());
        items.insert(
            key::ID,
            (FEATURE_TRADITIONAL | FEATURE_DMA).to_le_bytes().to_vec(),
        );
        items.insert(key::UUID, vec![0; 16]);
        items.insert(
            key::NOGRAPHIC,
            u16::from(config.nographic).to_le_bytes().to_vec(),
        );
        items.insert(key::NB_CPUS, config.harts.to_le_bytes().to_vec());
        items.insert(key::BOOT_MENU, 0u16.to_le_bytes().to_vec());
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("bios-geometry", Vec::new()),
            ("bootorder", Vec::new()),
            ("etc/boot-fail-wait", u32::MAX.to_le_bytes().to_vec()),
        ];
        items.insert(key::FILE_DIR, directory(&files));
        for (i, (_, data)) in files.into_iter().enumerate() {
            items.insert(key::FILE_FIRST + i as u16, data);
        }
        let device = Rc::new(FwCfg {
            state: RefCell::new(State {
                items,
                selected: Some(key::SIGNATURE),
                offset: 0,
                dma_high: 0,
            }),
            changes: mem.deferred_changes(),
            dma_space,
            guard: ReentrancyGuard::new(),
        });
        let data = mem.new_io("fwcfg.data", 8, Rc::new(DataPort(device.clone())));
        let ctl = mem.new_io("fwcfg.ctl", 2, Rc::new(ControlPort(device.clone())));
        let dma = mem.new_io("fwcfg.dma", 8, Rc::new(DmaPort(device.clone())));
        (device, FwCfgRegions { data, ctl, dma })
    }

    /// Selects `key`: an item slot (which may hold nothing) or, past the
    /// slots, no item at all.
    fn select(&self, key: u16) {
        let mut s = self.state.borrow_mut();
        s.offset = 0;
        s.selected = ((key & ENTRY_MASK) < key::FILE_FIRST + FILE_SLOTS)
            .then_some(key & (ENTRY_MASK | ARCH_LOCAL));
    }

    /// Up to `n` bytes of the selected item from the current offset.
    fn take(&self, n: usize) -> Vec<u8> {
        let mut s = self.state.borrow_mut();
        let offset = s.offset;
        let bytes: Vec<u8> = match s.selected.and_then(|k| s.items.get(&k)) {
            Some(item) if offset < item.len() => item[offset..item.len().min(offset + n)].to_vec(),
            _ => Vec::new(),
        };
        s.offset += bytes.len();
        bytes
    }

    /// Whether the selected item has bytes left.
    fn remaining(&self) -> usize {
        let s = self.state.borrow();
        s.selected
            .and_then(|k| s.items.get(&k))
            .map_or(0, |item| item.len().saturating_sub(s.offset))
    }

    /// Runs the `FWCfgDmaAccess` at `addr` (QEMU's `fw_cfg_dma_transfer`).
    fn dma_transfer(&self, mem: &mut MemorySystem, addr: u64) {
        let Some(_engaged) = self.guard.engage() else {
            return;
        };
        let attrs = MemTxAttrs::default();
        let space = self.dma_space;
        let mut desc = [0u8; 16];
        let put_control = |mem: &mut MemorySystem, control: u32| {
            if mem
                .write(space, GuestAddress(addr), &control.to_be_bytes(), attrs)
                .is_err()
            {
                tracing::warn!(target: GUEST_ERRORS, "fw_cfg: DMA request at {addr:#x} unreachable");
            }
        };
        if mem
            .read(space, GuestAddress(addr), &mut desc, attrs)
            .is_err()
        {
            put_control(mem, dma::ERROR);
            return;
        }
        let control = u32::from_be_bytes([desc[0], desc[1], desc[2], desc[3]]);
        let mut length = u32::from_be_bytes([desc[4], desc[5], desc[6], desc[7]]);
        let mut address = u64::from_be_bytes([
            desc[8], desc[9], desc[10], desc[11], desc[12], desc[13], desc[14], desc[15],
        ]);
        if control & dma::SELECT != 0 {
            self.select((control >> 16) as u16);
        }
        let (read, write) = if control & dma::READ != 0 {
            (true, false)
        } else if control & dma::WRITE != 0 {
            (false, true)
        } else if control & dma::SKIP != 0 {
            (false, false)
        } else {
            length = 0;
            (false, false)
        };
        let mut status = 0;
        while length > 0 && status & dma::ERROR == 0 {
            let left = self.remaining();
            let n = if left == 0 {
                // Past the item: reads give zeros, writes fail.
                if read {
                    // In pieces: the guest chooses the length (up to 4 GiB).
                    let zeros = [0u8; 4096];
                    let mut done = 0u64;
                    while done < u64::from(length) && status & dma::ERROR == 0 {
                        let n = (u64::from(length) - done).min(zeros.len() as u64) as usize;
                        let at = GuestAddress(address.wrapping_add(done));
                        if mem.write(space, at, &zeros[..n], attrs).is_err() {
                            status |= dma::ERROR;
                        }
                        done += n as u64;
                    }
                }
                if write {
                    status |= dma::ERROR;
                }
                length as usize
            } else {
                let n = (length as usize).min(left);
                let bytes = self.take(n);
                if read
                    && mem
                        .write(space, GuestAddress(address), &bytes, attrs)
                        .is_err()
                {
                    status |= dma::ERROR;
                }
                if write {
                    // Every item is read-only, as QEMU's are on virt.
                    status |= dma::ERROR;
                }
                n
            };
            address = address.wrapping_add(n as u64);
            length -= n as u32;
        }
        put_control(mem, status);
    }

    /// Starts a DMA request at `addr` once the current access returns.
    fn start_dma(self: &Rc<Self>, addr: u64) {
        let device = self.clone();
        self.changes.push(move |mem| device.dma_transfer(mem, addr));
    }
}

impl std::fmt::Debug for FwCfg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FwCfg").finish_non_exhaustive()
    }
}

fn big_endian(valid: AccessConstraints) -> IoDescriptor {
    IoDescriptor {
        valid,
        implementation: valid,
        endianness: Endianness::Big,
    }
}

/// `fwcfg.data`: reads the selected item, big-endian, padded with zeros.
struct DataPort(Rc<FwCfg>);

impl RegionOps for DataPort {
    fn read(&self, offset: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        if offset != 0 {
            return Err(MemTxError::Decode);
        }
        let bytes = self.0.take(size as usize);
        let mut value = 0u64;
        for i in 0..size as usize {
            value = (value << 8) | u64::from(bytes.get(i).copied().unwrap_or(0));
        }
        Ok(value)
    }

    fn write(&self, offset: u64, _value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        if offset != 0 {
            return Err(MemTxError::Decode);
        }
        // Writes through the data register were removed in QEMU 2.4.
        tracing::warn!(target: GUEST_ERRORS, "fw_cfg: write to the data register ignored");
        Ok(())
    }

    fn descriptor(&self) -> IoDescriptor {
        big_endian(AccessConstraints::sizes(1, 8))
    }

    fn reentrancy_guard(&self) -> Option<&ReentrancyGuard> {
        Some(&self.0.guard)
    }
}

/// `fwcfg.ctl`: the selector, written as one big-endian u16.
struct ControlPort(Rc<FwCfg>);

impl RegionOps for ControlPort {
    fn read(&self, _offset: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        Err(MemTxError::Decode)
    }

    fn write(&self, _offset: u64, value: u64, _size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        self.0.select(value as u16);
        Ok(())
    }

    fn descriptor(&self) -> IoDescriptor {
        big_endian(AccessConstraints::sizes(2, 2))
    }

    fn reentrancy_guard(&self) -> Option<&ReentrancyGuard> {
        Some(&self.0.guard)
    }
}

/// `fwcfg.dma`: the address of a request (high word then low word, or all
/// 64 bits at once); reads give the DMA signature.
struct DmaPort(Rc<FwCfg>);

impl RegionOps for DmaPort {
    fn read(&self, offset: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<u64> {
        let Some(shift) = 8u64
            .checked_sub(offset + u64::from(size))
            .map(|bytes| bytes * 8)
        else {
            return Err(MemTxError::Decode);
        };
        let mask = if size >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        Ok((DMA_SIGNATURE >> shift) & mask)
    }

    fn write(&self, offset: u64, value: u64, size: u32, _attrs: MemTxAttrs) -> MemTxResult<()> {
        match (size, offset) {
            (4, 0) => self.0.state.borrow_mut().dma_high = value << 32,
            (4, 4) => {
                let addr = self.0.state.borrow().dma_high | value;
                self.0.state.borrow_mut().dma_high = 0;
                self.0.start_dma(addr);
            }
            (8, 0) => self.0.start_dma(value),
            _ => return Err(MemTxError::Decode),
        }
        Ok(())
    }

    fn descriptor(&self) -> IoDescriptor {
        big_endian(AccessConstraints::sizes(1, 8))
    }

    fn reentrancy_guard(&self) -> Option<&ReentrancyGuard> {
        Some(&self.0.guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrite_memory::RegionSize;

    const BASE: u64 = 0x1010_0000;
    const RAM: u64 = 0x8000_0000;

    fn rig() -> (MemorySystem, AddressSpaceId) {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram("ram", 0x1_0000).unwrap();
        mem.add_subregion(root, RAM, ram).unwrap();
        let space = mem.new_address_space("memory", root);
        let (_, r) = FwCfg::new(
            &mut mem,
            space,
            FwCfgConfig {
                harts: 4,
                nographic: true,
            },
        );
        mem.add_subregion(root, BASE, r.data).unwrap();
        mem.add_subregion(root, BASE + 8, r.ctl).unwrap();
        mem.add_subregion(root, BASE + 16, r.dma).unwrap();
        (mem, space)
    }

    fn store(mem: &mut MemorySystem, s: AddressSpaceId, addr: u64, size: u32, v: u64) {
        mem.store(
            s,
            GuestAddress(addr),
            size,
            v,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap();
    }

    fn load(mem: &mut MemorySystem, s: AddressSpaceId, addr: u64, size: u32) -> u64 {
        mem.load(
            s,
            GuestAddress(addr),
            size,
            Endianness::Little,
            MemTxAttrs::default(),
        )
        .unwrap()
    }

    /// The selector as a little-endian guest writes it: swapped.
    fn select(mem: &mut MemorySystem, s: AddressSpaceId, key: u16) {
        store(mem, s, BASE + 8, 2, u64::from(key.swap_bytes()));
    }

    #[test]
    fn items_read_in_order_through_the_data_register() {
        let (mut m, s) = rig();
        // At reset the signature is selected.
        assert_eq!(load(&mut m, s, BASE, 4).to_le_bytes()[..4], *b"QEMU");
        select(&mut m, s, key::ID);
        assert_eq!(load(&mut m, s, BASE, 4), 3, "traditional and DMA");
        select(&mut m, s, key::NB_CPUS);
        assert_eq!(load(&mut m, s, BASE, 1), 4);
        assert_eq!(load(&mut m, s, BASE, 1), 0);
        assert_eq!(load(&mut m, s, BASE, 8), 0, "past the end: zeros");
        select(&mut m, s, key::NOGRAPHIC);
        assert_eq!(load(&mut m, s, BASE, 2), 1);
        // An 8-byte read of the directory: the count (big-endian) then the
        // first entry's size.
        select(&mut m, s, key::FILE_DIR);
        let first = load(&mut m, s, BASE, 8).to_le_bytes();
        assert_eq!(first[..4], 3u32.to_be_bytes(), "three files");
        // Keys past the slots select nothing; the control register cannot be read.
        select(&mut m, s, 0x3fff);
        assert_eq!(load(&mut m, s, BASE, 8), 0);
        assert!(
            m.load(
                s,
                GuestAddress(BASE + 8),
                2,
                Endianness::Little,
                MemTxAttrs::default()
            )
            .is_err()
        );
        assert!(
            m.load(
                s,
                GuestAddress(BASE + 4),
                4,
                Endianness::Little,
                MemTxAttrs::default()
            )
            .is_err(),
            "the data register answers at offset 0 only"
        );
        assert_eq!(
            load(&mut m, s, BASE + 16, 8).to_le_bytes(),
            *b"QEMU CFG",
            "the DMA register's signature, in memory order"
        );
    }

    #[test]
    fn dma_reads_selects_skips_and_refuses_writes() {
        let (mut m, s) = rig();
        let req = RAM + 0x100;
        let buf = RAM + 0x1000;
        let put = |m: &mut MemorySystem, control: u32, len: u32, addr: u64| {
            let mut d = Vec::new();
            d.extend_from_slice(&control.to_be_bytes());
            d.extend_from_slice(&len.to_be_bytes());
            d.extend_from_slice(&addr.to_be_bytes());
            m.write(s, GuestAddress(req), &d, MemTxAttrs::default())
                .unwrap();
        };
        let control = |m: &mut MemorySystem| {
            let mut c = [0u8; 4];
            m.read(s, GuestAddress(req), &mut c, MemTxAttrs::default())
                .unwrap();
            u32::from_be_bytes(c)
        };
        let kick = |m: &mut MemorySystem| {
            // As Linux writes it: the high word, then the low word (which
            // starts the request), each big-endian.
            store(
                m,
                s,
                BASE + 16,
                4,
                u64::from(((req >> 32) as u32).swap_bytes()),
            );
            store(m, s, BASE + 20, 4, u64::from((req as u32).swap_bytes()));
        };
        // Select the directory and read 4 + 64 bytes: the count and entry 0.
        put(
            &mut m,
            dma::SELECT | dma::READ | (u32::from(key::FILE_DIR) << 16),
            68,
            buf,
        );
        kick(&mut m);
        assert_eq!(control(&mut m), 0, "done, no error");
        let mut dir = [0u8; 68];
        m.read(s, GuestAddress(buf), &mut dir, MemTxAttrs::default())
            .unwrap();
        assert_eq!(dir[..4], 3u32.to_be_bytes());
        assert_eq!(&dir[12..25], b"bios-geometry");
        // Skip entry 1, read entry 2's name: etc/boot-fail-wait at key 0x22.
        put(&mut m, dma::SKIP, 64, 0);
        kick(&mut m);
        put(&mut m, dma::READ, 64, buf);
        kick(&mut m);
        let mut e = [0u8; 64];
        m.read(s, GuestAddress(buf), &mut e, MemTxAttrs::default())
            .unwrap();
        assert_eq!(e[..4], 4u32.to_be_bytes(), "4 bytes");
        assert_eq!(e[4..6], 0x22u16.to_be_bytes());
        assert_eq!(&e[8..26], b"etc/boot-fail-wait");
        // Its contents, read past the end: the rest zero-filled.
        m.write(s, GuestAddress(buf), &[0x77; 8], MemTxAttrs::default())
            .unwrap();
        put(&mut m, dma::SELECT | dma::READ | (0x22 << 16), 8, buf);
        kick(&mut m);
        let mut v = [0u8; 8];
        m.read(s, GuestAddress(buf), &mut v, MemTxAttrs::default())
            .unwrap();
        assert_eq!(v, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        // A long read past the end fills the whole buffer with zeros.
        m.write(s, GuestAddress(buf), &[0x77; 0x9000], MemTxAttrs::default())
            .unwrap();
        put(&mut m, dma::SELECT | dma::READ | (0x22 << 16), 0x9000, buf);
        kick(&mut m);
        assert_eq!(control(&mut m), 0);
        let mut long = vec![0u8; 0x9000];
        m.read(s, GuestAddress(buf), &mut long, MemTxAttrs::default())
            .unwrap();
        assert_eq!(long[..4], [0xff; 4]);
        assert!(long[4..].iter().all(|&b| b == 0), "zeros to the end");
        // Writes are refused; so is a request the device cannot read.
        put(&mut m, dma::SELECT | dma::WRITE | (0x22 << 16), 4, buf);
        kick(&mut m);
        assert_eq!(control(&mut m), dma::ERROR);
        // A request pointing at the device itself cannot re-enter it.
        put(&mut m, dma::SELECT | dma::READ, 8, BASE + 16);
        kick(&mut m);
        assert_eq!(control(&mut m), dma::ERROR, "the guard refused the write");
        // One 64-bit write starts a request too.
        put(
            &mut m,
            dma::SELECT | dma::READ | (u32::from(key::SIGNATURE) << 16),
            4,
            buf,
        );
        store(&mut m, s, BASE + 16, 8, req.swap_bytes());
        assert_eq!(control(&mut m), 0);
        let mut sig = [0u8; 4];
        m.read(s, GuestAddress(buf), &mut sig, MemTxAttrs::default())
            .unwrap();
        assert_eq!(&sig, b"QEMU");
    }
}
