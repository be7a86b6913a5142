//! virtio-mem (device id 24): memory a guest plugs and unplugs block by
//! block, in a region of the device-memory window, as the virtio
//! specification's memory device section describes and QEMU builds it with
//! `dynamic-memslots=on`.
//!
//! The device owns three kinds of regions:
//!
//! - its memory backend, a RAM region (`mem0`, …) with a RAM discard
//!   manager of the device's block size: unplugged blocks are discarded and
//!   their host memory given back, discard listeners hear of every plug and
//!   unplug;
//! - the device region `virtio-mem`, an empty container of the backend's
//!   size that the board plugs into the device-memory window through the
//!   memory-device interface (which also accounts for its memslots);
//! - the memslots `memslot-N`: unmergeable aliases of the backend, at least
//!   1 GiB each, mapped into the container when a block inside is plugged
//!   and unmapped when the last block inside is unplugged. A plug adds one
//!   flat-view section, never touching its neighbours.
//!
//! Unplugged memory is inaccessible (`VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE`,
//! which a driver must accept): an address in an unmapped memslot reaches
//! no region, so a guest access faults. Unplugged blocks inside a mapped
//! memslot read as zero, as on QEMU.
//!
//! Requests (PLUG, UNPLUG, UNPLUG_ALL, STATE) are answered as the
//! specification says: ERROR for a range that is unaligned, empty, outside
//! the usable region or not wholly in the opposite state; NACK for a plug
//! beyond the requested size; BUSY when the memory system refuses. The host
//! changes the requested size through [`VirtioMemControl`]; the transport
//! then sends a configuration-change interrupt.

use std::cell::RefCell;
use std::rc::Rc;

use bitvec::prelude::*;
use ferrite_memory::{GuestBytes, MemoryError, MemorySystem, RegionId, RegionSize};

use super::VirtioDevice;
use super::queue::{ChainReader, ChainWriter, QueueError, Result, Virtqueue};
use crate::GUEST_ERRORS;

/// The virtio device id of a memory device.
pub const DEVICE_ID: u32 = 24;
/// Feature bit: the driver must not touch unplugged memory.
pub const F_UNPLUGGED_INACCESSIBLE: u64 = 1 << 1;
/// The smallest block size (QEMU's, to keep the plug bitmap small).
pub const MIN_BLOCK_SIZE: u64 = 1 << 20;
/// The default block size: QEMU's on hosts with 2 MiB transparent huge
/// pages. Fixed rather than probed, so runs do not depend on the host.
pub const DEFAULT_BLOCK_SIZE: u64 = 2 << 20;
/// Every memslot but the last is at least this large (QEMU's value).
pub const MIN_MEMSLOT_SIZE: u64 = 1 << 30;
/// How far the usable region reaches past the requested size: two Linux
/// memory sections (128 MiB on RISC-V), so a driver can add whole sections
/// and plug part of them.
pub const USABLE_EXTENT: u64 = 2 * (128 << 20);

/// Request types.
pub mod request {
    /// Plug blocks.
    pub const PLUG: u16 = 0;
    /// Unplug blocks.
    pub const UNPLUG: u16 = 1;
    /// Unplug every block.
    pub const UNPLUG_ALL: u16 = 2;
    /// Ask whether blocks are plugged.
    pub const STATE: u16 = 3;
}

/// Response types.
pub mod response {
    /// Done.
    pub const ACK: u16 = 0;
    /// Refused for now (a plug beyond the requested size).
    pub const NACK: u16 = 1;
    /// The device cannot do it now; try again later.
    pub const BUSY: u16 = 2;
    /// The request is wrong (bad range, wrong state).
    pub const ERROR: u16 = 3;
}

/// Block states in a STATE response.
pub mod state {
    /// Every block in the range is plugged.
    pub const PLUGGED: u16 = 0;
    /// Every block in the range is unplugged.
    pub const UNPLUGGED: u16 = 1;
    /// Some of each.
    pub const MIXED: u16 = 2;
}

/// Bytes of a request (`struct virtio_mem_req`).
pub const REQUEST_LEN: usize = 24;
/// Bytes of a response (`struct virtio_mem_resp`).
pub const RESPONSE_LEN: usize = 10;

/// What a virtio-mem device is made of (QEMU's `-object
/// memory-backend-ram,size=…` plus `-device virtio-mem,…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtioMemSpec {
    /// The device's id (`vm0`, …), which the monitor names it by.
    pub id: String,
    /// The memory backend's name (its RAM region: `mem0`, …).
    pub memdev: String,
    /// The backend's size: the most the guest can plug.
    pub size: u64,
    /// How much the host asks the guest to plug at start.
    pub requested_size: u64,
    /// The plug granularity (a power of two, at least [`MIN_BLOCK_SIZE`]).
    pub block_size: u64,
    /// Where in the device-memory window; `None` lets the board choose.
    pub addr: Option<u64>,
}

/// A specification the device cannot be built from, or a memory-system
/// refusal while building it.
#[derive(Debug, thiserror::Error)]
pub enum VirtioMemError {
    /// A property is wrong; the message says which and why.
    #[error("virtio-mem {id}: {reason}")]
    Invalid {
        /// The device id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The memory system refused a region.
    #[error("virtio-mem: {0}")]
    Memory(#[from] MemoryError),
}

/// A snapshot of a device's state, as QEMU's `info memory-devices` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtioMemInfo {
    /// The device id.
    pub id: String,
    /// The memory backend's name.
    pub memdev: String,
    /// The device's guest physical address.
    pub addr: u64,
    /// The size the host asks for.
    pub requested_size: u64,
    /// The size plugged now.
    pub plugged_size: u64,
    /// The backend's size.
    pub region_size: u64,
    /// The part of the region the guest may plug in now.
    pub usable_region_size: u64,
    /// The block size.
    pub block_size: u64,
    /// The number of memslots and the size of each but the last.
    pub memslots: (u32, u64),
    /// Memslots mapped now.
    pub memslots_mapped: u32,
}

struct MemState {
    spec: VirtioMemSpec,
    ram: RegionId,
    container: RegionId,
    memslots: Vec<RegionId>,
    memslot_size: u64,
    mapped: Vec<bool>,
    addr: u64,
    plugged_size: u64,
    requested_size: u64,
    usable_region_size: u64,
    /// One bit per block: plugged.
    plugged: BitVec<u64, Lsb0>,
}

impl MemState {
    fn blocks(&self, gpa: u64, size: u64) -> std::ops::Range<usize> {
        let first = ((gpa - self.addr) / self.spec.block_size) as usize;
        first..first + (size / self.spec.block_size) as usize
    }

    /// The specification's range rule: aligned, not empty, inside the
    /// usable region.
    fn valid_range(&self, gpa: u64, size: u64) -> bool {
        let bs = self.spec.block_size;
        gpa % bs == 0
            && size != 0
            && gpa.checked_add(size).is_some()
            && gpa >= self.addr
            && gpa - self.addr < self.usable_region_size
            && gpa + size <= self.addr + self.usable_region_size
    }

    fn resize_usable_region(&mut self, requested: u64, can_shrink: bool) {
        let bs = self.spec.block_size;
        let mut size = self
            .spec
            .size
            .min(requested.saturating_add(USABLE_EXTENT))
            .next_multiple_of(bs);
        if requested == 0 {
            size = 0;
        }
        if size < self.usable_region_size && !can_shrink {
            return;
        }
        self.usable_region_size = size;
    }

    fn memslot_span(&self, offset: u64, size: u64) -> std::ops::Range<usize> {
        let first = (offset / self.memslot_size) as usize;
        let end = (offset + size).div_ceil(self.memslot_size) as usize;
        first..end.min(self.memslots.len())
    }

    fn memslot_range(&self, idx: usize) -> (u64, u64) {
        let start = idx as u64 * self.memslot_size;
        (start, self.memslot_size.min(self.spec.size - start))
    }

    /// Maps every memslot that `[offset, offset + size)` touches, in one
    /// transaction.
    fn activate(&mut self, mem: &mut MemorySystem, offset: u64, size: u64) -> bool {
        mem.begin();
        let mut ok = true;
        for idx in self.memslot_span(offset, size) {
            if !self.mapped[idx] {
                let (start, _) = self.memslot_range(idx);
                match mem.add_subregion(self.container, start, self.memslots[idx]) {
                    Ok(()) => self.mapped[idx] = true,
                    Err(e) => {
                        tracing::warn!("virtio-mem {}: memslot {idx}: {e}", self.spec.id);
                        ok = false;
                    }
                }
            }
        }
        mem.commit();
        ok
    }

    /// Unmaps every memslot in the span of `[offset, offset + size)` that
    /// holds no plugged block any more, in one transaction.
    fn deactivate_unplugged(&mut self, mem: &mut MemorySystem, offset: u64, size: u64) {
        mem.begin();
        for idx in self.memslot_span(offset, size) {
            let (start, len) = self.memslot_range(idx);
            let blocks = self.blocks(self.addr + start, len);
            if self.mapped[idx]
                && self.plugged[blocks].not_any()
                && mem
                    .del_subregion(self.container, self.memslots[idx])
                    .is_ok()
            {
                self.mapped[idx] = false;
            }
        }
        mem.commit();
    }

    /// Plugs or unplugs `[gpa, gpa + size)` (already checked to be in the
    /// opposite state); `false` when the memory system refused.
    fn set_block_state(&mut self, mem: &mut MemorySystem, gpa: u64, size: u64, plug: bool) -> bool {
        let offset = gpa - self.addr;
        let blocks = self.blocks(gpa, size);
        if !plug {
            if mem.ram_discard_discard(self.ram, offset, size).is_err() {
                return false;
            }
            self.plugged[blocks].fill(false);
            self.deactivate_unplugged(mem, offset, size);
            return true;
        }
        // Map first, so a listener that registers on the new section is
        // replayed the blocks already plugged, then told of these.
        let mapped = self.activate(mem, offset, size);
        if !mapped || mem.ram_discard_populate(self.ram, offset, size).is_err() {
            self.deactivate_unplugged(mem, offset, size);
            return false;
        }
        self.plugged[blocks].fill(true);
        true
    }

    fn state_change(
        &mut self,
        mem: Option<&mut MemorySystem>,
        gpa: u64,
        nb: u16,
        plug: bool,
    ) -> u16 {
        let Some(size) = u64::from(nb).checked_mul(self.spec.block_size) else {
            return response::ERROR;
        };
        if !self.valid_range(gpa, size) {
            return response::ERROR;
        }
        if plug && self.plugged_size + size > self.requested_size {
            return response::NACK;
        }
        let blocks = &self.plugged[self.blocks(gpa, size)];
        let opposite = if plug { blocks.not_any() } else { blocks.all() };
        if !opposite {
            return response::ERROR;
        }
        let Some(mem) = mem else {
            return response::BUSY;
        };
        if !self.set_block_state(mem, gpa, size, plug) {
            return response::BUSY;
        }
        if plug {
            self.plugged_size += size;
        } else {
            self.plugged_size -= size;
        }
        response::ACK
    }

    fn unplug_all(&mut self, mem: Option<&mut MemorySystem>) -> u16 {
        if self.plugged_size != 0 {
            let Some(mem) = mem else {
                return response::BUSY;
            };
            if mem
                .ram_discard_discard(self.ram, 0, self.spec.size)
                .is_err()
            {
                return response::BUSY;
            }
            self.plugged.fill(false);
            self.plugged_size = 0;
            self.deactivate_unplugged(mem, 0, self.spec.size);
        }
        self.resize_usable_region(self.requested_size, true);
        response::ACK
    }

    fn state_of(&self, gpa: u64, nb: u16) -> (u16, u16) {
        let Some(size) = u64::from(nb).checked_mul(self.spec.block_size) else {
            return (response::ERROR, 0);
        };
        if !self.valid_range(gpa, size) {
            return (response::ERROR, 0);
        }
        let blocks = &self.plugged[self.blocks(gpa, size)];
        let st = if blocks.all() {
            state::PLUGGED
        } else if blocks.not_any() {
            state::UNPLUGGED
        } else {
            state::MIXED
        };
        (response::ACK, st)
    }

    fn config(&self) -> [u8; 56] {
        let mut c = [0u8; 56];
        c[0..8].copy_from_slice(&self.spec.block_size.to_le_bytes());
        // 8: node_id (0), 10: padding
        c[16..24].copy_from_slice(&self.addr.to_le_bytes());
        c[24..32].copy_from_slice(&self.spec.size.to_le_bytes());
        c[32..40].copy_from_slice(&self.usable_region_size.to_le_bytes());
        c[40..48].copy_from_slice(&self.plugged_size.to_le_bytes());
        c[48..56].copy_from_slice(&self.requested_size.to_le_bytes());
        c
    }
}

/// The guest side of a virtio-mem device, behind a virtio transport.
pub struct VirtioMem {
    state: Rc<RefCell<MemState>>,
}

/// The host side of a virtio-mem device: the requested size and the
/// device's state. Shares the device's state.
#[derive(Clone)]
pub struct VirtioMemControl {
    state: Rc<RefCell<MemState>>,
}

/// QEMU's `virtio_mem_decide_memslots`: memslots of at least
/// [`MIN_MEMSLOT_SIZE`] (and the block size), aligned to the block size,
/// no more than `limit` of them. Returns (count, size of each but the last).
pub fn decide_memslots(region_size: u64, block_size: u64, limit: u32) -> (u32, u64) {
    if limit <= 1 {
        return (1, region_size);
    }
    let size = (region_size / u64::from(limit))
        .next_multiple_of(block_size)
        .max(block_size.max(MIN_MEMSLOT_SIZE));
    let count = region_size.div_ceil(size) as u32;
    if count == 1 {
        (1, region_size)
    } else {
        (count, size)
    }
}

impl VirtioMem {
    /// Builds the device's regions in `mem` (none mapped yet) after checking
    /// `spec` as QEMU does; `memslot_limit` caps its memslots (the free
    /// slots of the device-memory window). The board then plugs
    /// [`VirtioMemControl::device_region`] with
    /// [`MemorySystem::memory_device_plug`] and tells the device its address
    /// with [`VirtioMemControl::set_address`].
    pub fn new(
        mem: &mut MemorySystem,
        spec: &VirtioMemSpec,
        memslot_limit: u32,
    ) -> std::result::Result<(VirtioMem, VirtioMemControl), VirtioMemError> {
        let bad = |reason: String| VirtioMemError::Invalid {
            id: spec.id.clone(),
            reason,
        };
        let bs = spec.block_size;
        if bs < MIN_BLOCK_SIZE || !bs.is_power_of_two() {
            return Err(bad(format!(
                "block-size must be a power of two of at least 1 MiB, not {bs:#x}"
            )));
        }
        if spec.size == 0 || spec.size % bs != 0 {
            return Err(bad(format!(
                "size ({:#x}) must be a non-zero multiple of block-size ({bs:#x})",
                spec.size
            )));
        }
        if spec.requested_size % bs != 0 {
            return Err(bad(format!(
                "requested-size ({:#x}) must be a multiple of block-size ({bs:#x})",
                spec.requested_size
            )));
        }
        if spec.requested_size > spec.size {
            return Err(bad(format!(
                "requested-size ({:#x}) cannot exceed size ({:#x})",
                spec.requested_size, spec.size
            )));
        }
        if let Some(addr) = spec.addr
            && addr % bs != 0
        {
            return Err(bad(format!(
                "addr ({addr:#x}) must be a multiple of block-size ({bs:#x})"
            )));
        }
        let ram = mem.new_ram(&spec.memdev, spec.size)?;
        mem.set_ram_discard_manager(ram, bs)?;
        let container = mem.new_container("virtio-mem", RegionSize::Bytes(spec.size));
        let (count, memslot_size) = decide_memslots(spec.size, bs, memslot_limit);
        let mut memslots = Vec::with_capacity(count as usize);
        for idx in 0..u64::from(count) {
            let start = idx * memslot_size;
            let len = memslot_size.min(spec.size - start);
            let alias = mem.new_alias(&format!("memslot-{idx}"), ram, start, len)?;
            mem.set_unmergeable(alias, true);
            memslots.push(alias);
        }
        let mut st = MemState {
            spec: spec.clone(),
            ram,
            container,
            mapped: vec![false; memslots.len()],
            memslots,
            memslot_size,
            addr: spec.addr.unwrap_or(0),
            plugged_size: 0,
            requested_size: spec.requested_size,
            usable_region_size: 0,
            plugged: bitvec![u64, Lsb0; 0; (spec.size / bs) as usize],
        };
        st.resize_usable_region(spec.requested_size, true);
        let state = Rc::new(RefCell::new(st));
        Ok((
            VirtioMem {
                state: state.clone(),
            },
            VirtioMemControl { state },
        ))
    }
}

impl VirtioMemControl {
    /// The region the board plugs into the device-memory window.
    pub fn device_region(&self) -> RegionId {
        self.state.borrow().container
    }

    /// The memory backend's RAM region.
    pub fn ram_region(&self) -> RegionId {
        self.state.borrow().ram
    }

    /// Memslots the device requires (what its plug must account for).
    pub fn memslots(&self) -> u32 {
        self.state.borrow().memslots.len() as u32
    }

    /// Records where the device was plugged (before the guest runs).
    pub fn set_address(&self, addr: u64) {
        self.state.borrow_mut().addr = addr;
    }

    /// The device's id.
    pub fn id(&self) -> String {
        self.state.borrow().spec.id.clone()
    }

    /// Asks the guest for `size` bytes (QEMU's `requested-size` property
    /// set at run time): a multiple of the block size, at most the backend's
    /// size. The usable region grows to cover it and never shrinks here.
    /// The caller then notifies the driver (the transport's `notify_config`).
    pub fn set_requested_size(&self, size: u64) -> std::result::Result<(), VirtioMemError> {
        let mut s = self.state.borrow_mut();
        let bad = |reason: String| VirtioMemError::Invalid {
            id: s.spec.id.clone(),
            reason,
        };
        if size % s.spec.block_size != 0 {
            return Err(bad(format!(
                "requested-size ({size:#x}) must be a multiple of block-size ({:#x})",
                s.spec.block_size
            )));
        }
        if size > s.spec.size {
            return Err(bad(format!(
                "requested-size ({size:#x}) cannot exceed the memory backend's size ({:#x})",
                s.spec.size
            )));
        }
        if size != s.requested_size {
            s.resize_usable_region(size, false);
            s.requested_size = size;
        }
        Ok(())
    }

    /// The device's state now.
    pub fn info(&self) -> VirtioMemInfo {
        let s = self.state.borrow();
        VirtioMemInfo {
            id: s.spec.id.clone(),
            memdev: s.spec.memdev.clone(),
            addr: s.addr,
            requested_size: s.requested_size,
            plugged_size: s.plugged_size,
            region_size: s.spec.size,
            usable_region_size: s.usable_region_size,
            block_size: s.spec.block_size,
            memslots: (s.memslots.len() as u32, s.memslot_size),
            memslots_mapped: s.mapped.iter().filter(|&&m| m).count() as u32,
        }
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

impl VirtioDevice for VirtioMem {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn device_features(&self) -> u64 {
        F_UNPLUGGED_INACCESSIBLE
    }

    /// A driver that would touch unplugged memory cannot drive it.
    fn features_acceptable(&self, features: u64) -> bool {
        features & F_UNPLUGGED_INACCESSIBLE != 0
    }

    fn num_queues(&self) -> usize {
        1
    }

    fn queue_max_size(&self) -> u16 {
        128
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let config = self.state.borrow().config();
        for (i, b) in data.iter_mut().enumerate() {
            *b = usize::try_from(offset)
                .ok()
                .and_then(|o| config.get(o + i))
                .copied()
                .unwrap_or(0);
        }
    }

    fn process_queue(
        &mut self,
        _index: usize,
        queue: &mut Virtqueue,
        mem: &mut dyn GuestBytes,
    ) -> Result<bool> {
        let mut used = false;
        while let Some(chain) = queue.pop(mem)? {
            let mut req = [0u8; REQUEST_LEN];
            if !ChainReader::new(&chain.readable).read_exact(mem, &mut req)? {
                return Err(QueueError::Malformed {
                    head: chain.head,
                    what: "virtio-mem request shorter than 24 bytes",
                });
            }
            let mut writer = ChainWriter::new(&chain.writable);
            if writer.remaining() < RESPONSE_LEN as u64 {
                return Err(QueueError::Malformed {
                    head: chain.head,
                    what: "no room for the 10-byte virtio-mem response",
                });
            }
            let kind = le16(&req, 0);
            let (addr, nb) = (le64(&req, 8), le16(&req, 16));
            let system = mem.memory_system().map(|(m, _)| m);
            let mut st = self.state.borrow_mut();
            let (resp, block_state) = match kind {
                request::PLUG => (st.state_change(system, addr, nb, true), 0),
                request::UNPLUG => (st.state_change(system, addr, nb, false), 0),
                request::UNPLUG_ALL => (st.unplug_all(system), 0),
                request::STATE => st.state_of(addr, nb),
                other => {
                    tracing::warn!(target: GUEST_ERRORS, "virtio-mem: unknown request type {other}");
                    return Err(QueueError::Malformed {
                        head: chain.head,
                        what: "unknown virtio-mem request type",
                    });
                }
            };
            drop(st);
            tracing::debug!(
                "virtio-mem: request {kind} addr {addr:#x} blocks {nb}: response {resp} state {block_state}"
            );
            let mut out = [0u8; RESPONSE_LEN];
            out[0..2].copy_from_slice(&resp.to_le_bytes());
            out[8..10].copy_from_slice(&block_state.to_le_bytes());
            writer.write_all(mem, &out)?;
            queue.push_used(mem, chain.head, RESPONSE_LEN as u32)?;
            used = true;
        }
        Ok(used)
    }
}
