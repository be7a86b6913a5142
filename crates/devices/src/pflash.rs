//! A CFI parallel flash bank with the Intel/Sharp command set (CFI primary
//! command set 0x0001), as QEMU's virt board has two of (`virt.flash0`,
//! `virt.flash1`: 32 MiB each, 256 KiB sectors, bank width 4).
//!
//! The bank is a **ROM device** region: in read-array mode (ROMD) guest
//! reads go straight to host memory, and execution from flash runs at RAM
//! speed; every write goes to the command decoder, and a command that
//! leaves read-array mode (status, query, identifier, program, erase)
//! switches the region to callbacks, which answer the status register, the
//! CFI query table or the identifier codes. Reading the array again
//! (`0xff`) switches back. Mode switches, programs and erases are memory
//! operations the device cannot make from inside its own callback, so it
//! queues them on [`DeferredChanges`]; the memory system applies them as
//! soon as the access returns.
//!
//! The bank is modelled as one device of the bank's width: commands are
//! the low byte of a write of any width, query and identifier addresses
//! count 32-bit words, and programs write the bytes the access carries.
//! U-Boot's CFI driver reports it as "16 x 16" with the full 32 MiB in 128
//! sectors of 256 KiB, and erases and programs it. (QEMU models two x16
//! devices side by side; U-Boot there sees each bank as 16 MiB in 128
//! sectors of 128 KiB, half the bank.)
//!
//! Commands: read array `0xff`/`0xf0`, read status `0x70`, clear status
//! `0x50`, read identifier `0x90` (manufacturer 0x89, device 0x18),
//! CFI query `0x98`, word program `0x40`/`0x10` (programming clears bits
//! only: the new contents are the old AND the data), buffered program
//! `0xe8` (count, data, `0xd0`), block erase `0x20` `0xd0`, and the lock
//! commands `0x60` `0x01`/`0xd0`/`0x2f` (accepted; blocks are never locked).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, DeferredChanges, IoDescriptor, MemTxAttrs, MemTxResult, MemorySystem,
    RegionId, RegionOps,
};

use crate::GUEST_ERRORS;

/// The status register's "ready" bit.
const STATUS_READY: u8 = 0x80;
/// Erase error and program error: a command sequence error.
const STATUS_SEQUENCE_ERROR: u8 = 0x30;
/// Bytes one buffered program may write.
pub const WRITE_BUFFER: u64 = 2048;
/// The bank's width in bytes.
pub const BANK_WIDTH: u64 = 4;

/// What the bank answers and takes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    ReadArray,
    Status,
    Query,
    ReadId,
    ProgramSetup,
    EraseSetup,
    /// `0xe8` taken: the next write is the word count less one.
    BufferCount,
    /// Data words still to come.
    BufferData {
        left: u32,
    },
    /// All data in: `0xd0` programs it.
    BufferConfirm,
    LockSetup,
}

/// A flash bank's geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashGeometry {
    /// Bytes.
    pub size: u64,
    /// Bytes per erase block.
    pub sector: u64,
}

impl FlashGeometry {
    /// QEMU virt's banks: 32 MiB in 256 KiB sectors.
    pub const VIRT: FlashGeometry = FlashGeometry {
        size: 32 << 20,
        sector: 256 << 10,
    };
}

/// The command state.
struct State {
    mode: Mode,
    status: u8,
    /// Pending buffered program: (offset, data, bytes).
    buffer: Vec<(u64, u64, u32)>,
}

/// One flash bank.
pub struct CfiFlash {
    geometry: FlashGeometry,
    region: Cell<Option<RegionId>>,
    changes: DeferredChanges,
    state: RefCell<State>,
    /// Programs and erases taken: a board writes the contents back when
    /// this moved.
    writes: Cell<u64>,
}

impl std::fmt::Debug for CfiFlash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfiFlash")
            .field("geometry", &self.geometry)
            .field("writes", &self.writes.get())
            .finish()
    }
}

impl CfiFlash {
    /// A bank named `name` with `geometry`, its ROM device region created
    /// in `mem` (read-array mode, contents zero: QEMU's empty flash).
    pub fn new(
        mem: &mut MemorySystem,
        name: &str,
        geometry: FlashGeometry,
    ) -> Result<Rc<Self>, ferrite_memory::MemoryError> {
        let dev = Rc::new(CfiFlash {
            geometry,
            region: Cell::new(None),
            changes: mem.deferred_changes(),
            state: RefCell::new(State {
                mode: Mode::ReadArray,
                status: STATUS_READY,
                buffer: Vec::new(),
            }),
            writes: Cell::new(0),
        });
        let region = mem.new_rom_device(name, geometry.size, Rc::new(FlashOps(dev.clone())))?;
        dev.region.set(Some(region));
        Ok(dev)
    }

    /// The bank's region.
    pub fn region(&self) -> RegionId {
        self.region.get().expect("set at creation")
    }

    /// The bank's geometry.
    pub fn geometry(&self) -> FlashGeometry {
        self.geometry
    }

    /// Programs and erases so far.
    pub fn writes(&self) -> u64 {
        self.writes.get()
    }

    /// The CFI query table entry at word `index`.
    fn query(&self, index: u64) -> u8 {
        let g = self.geometry;
        let blocks = g.size / g.sector - 1;
        let block_units = g.sector / 256;
        match index {
            0x10 => b'Q',
            0x11 => b'R',
            0x12 => b'Y',
            0x13 => 0x01, // Intel/Sharp extended command set
            0x15 => 0x31, // its extended table at 0x31
            0x1b => 0x45, // Vcc 4.5 V to 5.5 V
            0x1c => 0x55,
            0x1f => 7,        // word program: 2^7 us typical
            0x20 => 7,        // buffer program: 2^7 us typical
            0x21 => 10,       // block erase: 2^10 ms typical
            0x23..=0x25 => 4, // maxima: 2^4 times the typical
            0x27 => g.size.trailing_zeros() as u8,
            0x28 => 0x03, // x32
            0x2a => WRITE_BUFFER.trailing_zeros() as u8,
            0x2c => 1, // one erase-block region
            0x2d => blocks as u8,
            0x2e => (blocks >> 8) as u8,
            0x2f => block_units as u8,
            0x30 => (block_units >> 8) as u8,
            0x31 => b'P',
            0x32 => b'R',
            0x33 => b'I',
            0x34 => b'1',
            0x35 => b'0',
            _ => 0,
        }
    }

    fn read(&self, offset: u64, size: u32) -> u64 {
        let st = self.state.borrow();
        let word = offset / BANK_WIDTH;
        let value: u32 = match st.mode {
            Mode::Query => u32::from(self.query(word & 0xff)),
            Mode::ReadId => match word % (self.geometry.sector / BANK_WIDTH) {
                0 => 0x89,
                1 => 0x18,
                _ => 0, // block lock status: unlocked
            },
            // Read array outside ROMD happens only while a switch back is
            // queued; everything else reads the status register.
            Mode::ReadArray => 0,
            _ => u32::from(st.status),
        };
        let shifted = u64::from(value) >> (8 * (offset % BANK_WIDTH));
        if size >= 8 {
            shifted
        } else {
            shifted & ((1 << (8 * size)) - 1)
        }
    }

    fn write(&self, offset: u64, value: u64, size: u32) {
        let mut st = self.state.borrow_mut();
        let cmd = value as u8;
        let before = st.mode;
        match st.mode {
            Mode::ProgramSetup => {
                self.program(offset, value, size);
                st.status = STATUS_READY;
                st.mode = Mode::Status;
            }
            Mode::EraseSetup => {
                if cmd == 0xd0 {
                    self.erase(offset);
                    st.status = STATUS_READY;
                } else {
                    st.status |= STATUS_SEQUENCE_ERROR;
                }
                st.mode = Mode::Status;
            }
            Mode::BufferCount => {
                let words = (value as u32 & 0xffff) + 1;
                if u64::from(words) * BANK_WIDTH > WRITE_BUFFER {
                    st.status |= STATUS_SEQUENCE_ERROR;
                    st.mode = Mode::Status;
                } else {
                    st.buffer.clear();
                    st.mode = Mode::BufferData { left: words };
                }
            }
            Mode::BufferData { left } => {
                st.buffer.push((offset, value, size));
                st.mode = if left > 1 {
                    Mode::BufferData { left: left - 1 }
                } else {
                    Mode::BufferConfirm
                };
            }
            Mode::BufferConfirm => {
                if cmd == 0xd0 {
                    for (o, v, s) in std::mem::take(&mut st.buffer) {
                        self.program(o, v, s);
                    }
                    st.status = STATUS_READY;
                } else {
                    st.status |= STATUS_SEQUENCE_ERROR;
                }
                st.mode = Mode::Status;
            }
            Mode::LockSetup => {
                if !matches!(cmd, 0x01 | 0xd0 | 0x2f) {
                    st.status |= STATUS_SEQUENCE_ERROR;
                }
                st.mode = Mode::Status;
            }
            Mode::ReadArray | Mode::Status | Mode::Query | Mode::ReadId => match cmd {
                0xff | 0xf0 => st.mode = Mode::ReadArray,
                0x10 | 0x40 => st.mode = Mode::ProgramSetup,
                0x20 => st.mode = Mode::EraseSetup,
                0x50 => st.status = STATUS_READY,
                0x60 => st.mode = Mode::LockSetup,
                0x70 => st.mode = Mode::Status,
                0x90 => st.mode = Mode::ReadId,
                0x98 => st.mode = Mode::Query,
                0xe8 => st.mode = Mode::BufferCount,
                0x00 => {}
                other => {
                    tracing::debug!(target: GUEST_ERRORS, "pflash: unknown command {other:#04x} at {offset:#x}");
                }
            },
        }
        let (was, now) = (before == Mode::ReadArray, st.mode == Mode::ReadArray);
        if was != now {
            let region = self.region();
            self.changes.push(move |mem| {
                if let Err(e) = mem.set_rom_device_mode(region, now) {
                    tracing::error!("pflash: mode switch failed: {e}");
                }
            });
        }
    }

    /// Program `size` bytes of `value` at `offset`: bits only clear.
    fn program(&self, offset: u64, value: u64, size: u32) {
        if offset
            .checked_add(u64::from(size))
            .is_none_or(|end| end > self.geometry.size)
        {
            return;
        }
        let region = self.region();
        self.writes.set(self.writes.get() + 1);
        self.changes.push(move |mem| {
            let mut old = vec![0u8; size as usize];
            let new: Vec<u8> = match mem.read_ram_region(region, offset, &mut old) {
                Ok(()) => old
                    .iter()
                    .zip(value.to_le_bytes())
                    .map(|(o, v)| o & v)
                    .collect(),
                Err(e) => {
                    tracing::error!("pflash: program failed: {e}");
                    return;
                }
            };
            if let Err(e) = mem.write_ram_region(region, offset, &new) {
                tracing::error!("pflash: program failed: {e}");
            }
        });
    }

    /// Erase the block holding `offset` to all ones.
    fn erase(&self, offset: u64) {
        let sector = self.geometry.sector;
        let start = offset & !(sector - 1);
        if start >= self.geometry.size {
            return;
        }
        let region = self.region();
        self.writes.set(self.writes.get() + 1);
        self.changes.push(move |mem| {
            if let Err(e) = mem.write_ram_region(region, start, &vec![0xff; sector as usize]) {
                tracing::error!("pflash: erase failed: {e}");
            }
        });
    }
}

/// The bank's callbacks (writes always; reads outside ROMD mode).
struct FlashOps(Rc<CfiFlash>);

impl RegionOps for FlashOps {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        Ok(self.0.read(offset, size))
    }
    fn write(&self, offset: u64, value: u64, size: u32, attrs: MemTxAttrs) -> MemTxResult<()> {
        if attrs.debug {
            // Loaders write the contents directly; a debugger's write to a
            // bank in a command mode changes nothing.
            return Ok(());
        }
        self.0.write(offset, value, size);
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 8),
            implementation: AccessConstraints::sizes(1, 8),
            ..IoDescriptor::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use ferrite_memory::{AddressSpaceId, Endianness, GuestAddress, RegionSize};

    use super::*;

    const BASE: u64 = 0x2000_0000;

    fn bank() -> (MemorySystem, AddressSpaceId, Rc<CfiFlash>) {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let space = mem.new_address_space("memory", root);
        let flash = CfiFlash::new(&mut mem, "virt.flash1", FlashGeometry::VIRT).unwrap();
        mem.add_subregion(root, BASE, flash.region()).unwrap();
        (mem, space, flash)
    }

    fn w(mem: &mut MemorySystem, s: AddressSpaceId, off: u64, size: u32, v: u64) {
        let attrs = MemTxAttrs::default();
        mem.store(
            s,
            GuestAddress(BASE + off),
            size,
            v,
            Endianness::Little,
            attrs,
        )
        .unwrap();
    }

    fn r(mem: &mut MemorySystem, s: AddressSpaceId, off: u64, size: u32) -> u64 {
        let attrs = MemTxAttrs::default();
        mem.load(s, GuestAddress(BASE + off), size, Endianness::Little, attrs)
            .unwrap()
    }

    #[test]
    fn reads_are_the_array_until_a_command_and_again_after_read_array() {
        let (mut mem, s, flash) = bank();
        mem.write_ram_region(flash.region(), 0x100, &[1, 2, 3, 4])
            .unwrap();
        assert_eq!(r(&mut mem, s, 0x100, 4), 0x0403_0201);
        w(&mut mem, s, 0, 4, 0x98);
        assert_eq!(r(&mut mem, s, 0x10 * 4, 4), u64::from(b'Q'));
        assert_eq!(r(&mut mem, s, 0x11 * 4, 4), u64::from(b'R'));
        assert_eq!(r(&mut mem, s, 0x12 * 4, 4), u64::from(b'Y'));
        assert_eq!(r(&mut mem, s, 0x27 * 4, 4), 25, "2^25 bytes");
        assert_eq!(r(&mut mem, s, 0x28 * 4, 4), 3, "x32");
        assert_eq!(r(&mut mem, s, 0x2d * 4, 4), 127, "128 blocks");
        assert_eq!(
            r(&mut mem, s, 0x30 * 4, 4) << 8 | r(&mut mem, s, 0x2f * 4, 4),
            1024
        );
        w(&mut mem, s, 0, 4, 0x90);
        assert_eq!(r(&mut mem, s, 0, 4), 0x89);
        assert_eq!(r(&mut mem, s, 4, 4), 0x18);
        w(&mut mem, s, 0, 4, 0xff);
        assert_eq!(r(&mut mem, s, 0x100, 4), 0x0403_0201, "the array again");
        assert!(mem.deferred_changes().is_empty());
    }

    #[test]
    fn erase_then_program_clears_bits_and_status_says_ready() {
        let (mut mem, s, flash) = bank();
        let sector = FlashGeometry::VIRT.sector;
        w(&mut mem, s, sector + 8, 4, 0x20);
        w(&mut mem, s, sector + 8, 4, 0xd0);
        assert_eq!(r(&mut mem, s, 0, 4), 0x80, "status: ready");
        w(&mut mem, s, 0, 4, 0xff);
        assert_eq!(r(&mut mem, s, sector, 4), 0xffff_ffff, "erased");
        assert_eq!(r(&mut mem, s, sector + sector - 4, 4), 0xffff_ffff);
        assert_eq!(
            r(&mut mem, s, sector - 4, 4),
            0,
            "the block before untouched"
        );
        w(&mut mem, s, sector, 4, 0x40);
        w(&mut mem, s, sector, 4, 0x1234_5678);
        w(&mut mem, s, sector, 4, 0x40);
        w(&mut mem, s, sector, 4, 0xffff_00ff);
        w(&mut mem, s, 0, 4, 0xff);
        assert_eq!(r(&mut mem, s, sector, 4), 0x1234_0078, "old AND new");
        assert_eq!(flash.writes(), 3);
    }

    #[test]
    fn a_buffered_program_writes_its_words_on_confirm() {
        let (mut mem, s, _) = bank();
        let at = 0x40_0000;
        w(&mut mem, s, at, 4, 0x20);
        w(&mut mem, s, at, 4, 0xd0);
        w(&mut mem, s, at, 4, 0xe8);
        assert_eq!(r(&mut mem, s, at, 4) & 0x80, 0x80, "buffer available");
        w(&mut mem, s, at, 4, 3); // four words
        for i in 0..4u64 {
            w(&mut mem, s, at + 4 * i, 4, 0xa0a0_0000 + i);
        }
        w(&mut mem, s, at, 4, 0xff);
        // Not confirmed yet: `0xff` is a sequence error, nothing written.
        assert_eq!(r(&mut mem, s, 0, 4) & 0x30, 0x30);
        w(&mut mem, s, 0, 4, 0x50);
        w(&mut mem, s, 0, 4, 0xff);
        assert_eq!(r(&mut mem, s, at, 4), 0xffff_ffff);
        w(&mut mem, s, at, 4, 0xe8);
        w(&mut mem, s, at, 4, 1);
        w(&mut mem, s, at, 4, 0x1111_1111);
        w(&mut mem, s, at + 4, 4, 0x2222_2222);
        w(&mut mem, s, at, 4, 0xd0);
        w(&mut mem, s, 0, 4, 0xff);
        assert_eq!(r(&mut mem, s, at, 4), 0x1111_1111);
        assert_eq!(r(&mut mem, s, at + 4, 4), 0x2222_2222);
        assert_eq!(r(&mut mem, s, at + 8, 4), 0xffff_ffff);
    }

    #[test]
    fn narrow_probes_do_not_find_the_query_where_x16_would() {
        let (mut mem, s, _) = bank();
        w(&mut mem, s, 0x55 * 2, 2, 0x98);
        assert_ne!(r(&mut mem, s, 0x10 * 2, 2), u64::from(b'Q'));
        w(&mut mem, s, 0, 2, 0xff);
    }
}
