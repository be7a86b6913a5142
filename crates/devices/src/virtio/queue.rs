//! Split virtqueues: the descriptor table, the available ring the driver
//! fills and the used ring the device fills (virtio 1.x, section 2.7).
//!
//! Every guest-supplied index and length is checked: chains are bounded by
//! the queue size (a loop in the `next` links is an error, not a hang), and
//! guest addresses go through [`GuestBytes`], which refuses what is not
//! there. Through a memory system the three rings are reached through
//! region caches (QEMU's `MemoryRegionCache`): while a ring is plain RAM,
//! its accesses are host-memory copies without a flat-view lookup, and any
//! memory-map change makes the cache translate again.

use ferrite_memory::{
    AddressSpaceId, GuestAddress, GuestBytes, GuestBytesError, MemTxAttrs, MemorySystem,
    RegionCache,
};

const VIRTQ_DESC_F_NEXT: u16 = 1;
const VIRTQ_DESC_F_WRITE: u16 = 2;
const VIRTQ_DESC_F_INDIRECT: u16 = 4;
/// Bytes per descriptor-table entry.
const DESC_SIZE: u64 = 16;

/// Errors that stop a queue: the driver broke the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// A ring or buffer address is not guest memory.
    #[error(transparent)]
    Memory(#[from] GuestBytesError),
    /// A descriptor index past the end of the table.
    #[error("descriptor index {index} out of range (queue size {size})")]
    DescriptorIndex {
        /// The index.
        index: u16,
        /// The queue size.
        size: u16,
    },
    /// A chain longer than the queue: the `next` links loop.
    #[error("descriptor chain from {head} loops or exceeds the queue size")]
    ChainTooLong {
        /// The chain's head.
        head: u16,
    },
    /// An indirect descriptor, which this device did not offer.
    #[error("indirect descriptor in chain from {head}, not negotiated")]
    Indirect {
        /// The chain's head.
        head: u16,
    },
    /// A readable buffer after a writable one.
    #[error("readable descriptor after a writable one in chain from {head}")]
    Order {
        /// The chain's head.
        head: u16,
    },
    /// The driver published more buffers than the queue holds.
    #[error(
        "available index {avail_idx} runs {pending} entries ahead of the device (queue size {size})"
    )]
    AvailOverrun {
        /// The available ring's index.
        avail_idx: u16,
        /// Entries published and not yet taken.
        pending: u16,
        /// The queue size.
        size: u16,
    },
    /// A request too short for its header or status.
    #[error("request in chain from {head} is malformed: {what}")]
    Malformed {
        /// The chain's head.
        head: u16,
        /// What is wrong.
        what: &'static str,
    },
}

/// Result of a queue operation.
pub type Result<T> = std::result::Result<T, QueueError>;

/// One buffer of a descriptor chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// Guest physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u32,
}

/// A descriptor chain taken from the available ring: the device reads the
/// `readable` buffers and writes the `writable` ones, each in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorChain {
    /// Index of the first descriptor (what goes back in the used ring).
    pub head: u16,
    /// Buffers the device reads.
    pub readable: Vec<Buffer>,
    /// Buffers the device writes.
    pub writable: Vec<Buffer>,
}

/// Streams bytes out of a list of buffers.
#[derive(Debug)]
pub struct ChainReader<'a> {
    buffers: &'a [Buffer],
    index: usize,
    offset: u32,
}

impl<'a> ChainReader<'a> {
    /// A reader at the start of `buffers`.
    pub fn new(buffers: &'a [Buffer]) -> Self {
        ChainReader {
            buffers,
            index: 0,
            offset: 0,
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> u64 {
        let rest: u64 = self
            .buffers
            .iter()
            .skip(self.index)
            .map(|b| u64::from(b.len))
            .sum();
        rest - u64::from(self.offset)
    }

    /// Fills `out` from the buffers; false (and nothing consumed past the
    /// end) if fewer bytes remain.
    pub fn read_exact(&mut self, mem: &mut dyn GuestBytes, out: &mut [u8]) -> Result<bool> {
        if self.remaining() < out.len() as u64 {
            return Ok(false);
        }
        let mut done = 0;
        while done < out.len() {
            let buffer = self.buffers[self.index];
            let available = (buffer.len - self.offset) as usize;
            let n = available.min(out.len() - done);
            mem.read(
                buffer.addr.wrapping_add(u64::from(self.offset)),
                &mut out[done..done + n],
            )?;
            done += n;
            self.advance(n as u32);
        }
        Ok(true)
    }

    fn advance(&mut self, n: u32) {
        self.offset += n;
        while self.index < self.buffers.len() && self.offset >= self.buffers[self.index].len {
            self.offset -= self.buffers[self.index].len;
            self.index += 1;
        }
    }
}

/// Streams bytes into a list of buffers.
#[derive(Debug)]
pub struct ChainWriter<'a> {
    reader: ChainReader<'a>,
    written: u32,
}

impl<'a> ChainWriter<'a> {
    /// A writer at the start of `buffers`.
    pub fn new(buffers: &'a [Buffer]) -> Self {
        ChainWriter {
            reader: ChainReader::new(buffers),
            written: 0,
        }
    }

    /// Room left.
    pub fn remaining(&self) -> u64 {
        self.reader.remaining()
    }

    /// Moves past `n` bytes without writing them; false if there is less room.
    pub fn skip(&mut self, n: u64) -> bool {
        if self.remaining() < n {
            return false;
        }
        let mut left = n;
        while left > 0 {
            let buffer = self.reader.buffers[self.reader.index];
            let step = u64::from(buffer.len - self.reader.offset).min(left);
            self.reader.advance(step as u32);
            left -= step;
        }
        true
    }

    /// Bytes written so far (the used-ring length).
    pub fn written(&self) -> u32 {
        self.written
    }

    /// Writes all of `data`; false (nothing written) if it does not fit.
    pub fn write_all(&mut self, mem: &mut dyn GuestBytes, data: &[u8]) -> Result<bool> {
        if self.remaining() < data.len() as u64 {
            return Ok(false);
        }
        let mut done = 0;
        while done < data.len() {
            let buffer = self.reader.buffers[self.reader.index];
            let available = (buffer.len - self.reader.offset) as usize;
            let n = available.min(data.len() - done);
            let at = buffer.addr.wrapping_add(u64::from(self.reader.offset));
            mem.write(at, &data[done..done + n])?;
            done += n;
            self.reader.advance(n as u32);
        }
        self.written = self.written.saturating_add(data.len() as u32);
        Ok(true)
    }
}

/// One split virtqueue as the transport configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Virtqueue {
    /// Number of entries the driver chose.
    pub size: u16,
    /// Whether the driver enabled the queue.
    pub ready: bool,
    /// Guest address of the descriptor table.
    pub desc_table: u64,
    /// Guest address of the available ring.
    pub avail_ring: u64,
    /// Guest address of the used ring.
    pub used_ring: u64,
    next_avail: u16,
    next_used: u16,
    /// Bytes of buffers the current round may still take (see
    /// [`Virtqueue::begin_round`]).
    round_bytes: u64,
    /// A pop found buffers waiting but the round's budget spent.
    yielded: bool,
    /// Cached translations of the three rings (QEMU's `MemoryRegionCache`
    /// for the vring), made on first use through a memory system.
    caches: RingCaches,
}

/// The region caches of a queue's descriptor table, available ring and
/// used ring, with the configuration they were made for: a queue moved or
/// resized makes new ones, and each cache translates again by itself after
/// any memory-map change (it watches the address space's generation). Not
/// part of the queue's value: two queues that differ only in their caches
/// are equal.
#[derive(Debug, Clone, Default)]
struct RingCaches(Option<(RingKey, [RegionCache; 3])>);

/// What a queue's caches were made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RingKey {
    space: AddressSpaceId,
    desc_table: u64,
    avail_ring: u64,
    used_ring: u64,
    size: u16,
}

impl PartialEq for RingCaches {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RingCaches {}

/// The rings, as indexes into [`RingCaches`].
#[derive(Clone, Copy, Debug)]
enum Ring {
    Desc = 0,
    Avail = 1,
    Used = 2,
}

/// What one chain costs against a round's budget at the least, so that
/// rounds of empty buffers are bounded too.
const MIN_CHAIN_COST: u64 = 4096;

impl Default for Virtqueue {
    /// No configuration; a round without limit until
    /// [`Virtqueue::begin_round`] sets one.
    fn default() -> Self {
        Virtqueue {
            size: 0,
            ready: false,
            desc_table: 0,
            avail_ring: 0,
            used_ring: 0,
            next_avail: 0,
            next_used: 0,
            round_bytes: u64::MAX,
            yielded: false,
            caches: RingCaches::default(),
        }
    }
}

impl Virtqueue {
    /// A queue with no configuration.
    pub fn new() -> Self {
        Virtqueue::default()
    }

    /// Back to the unconfigured state.
    pub fn reset(&mut self) {
        *self = Virtqueue::default();
    }

    /// Enables or disables the queue; enabling starts both rings at index 0.
    pub fn set_ready(&mut self, ready: bool) {
        if ready && !self.ready {
            self.next_avail = 0;
            self.next_used = 0;
        }
        self.ready = ready;
    }

    /// Start a round of work (one service of a kick) that may take chains
    /// whose buffers add up to about `bytes`: once they do, [`Virtqueue::pop`]
    /// answers `None` and [`Virtqueue::yielded`] says buffers are left for
    /// the next round. This bounds the host work one notify can cause, so
    /// the run loop (its time-out, its instruction limit) stays in control
    /// during heavy I/O.
    pub fn begin_round(&mut self, bytes: u64) {
        self.round_bytes = bytes;
        self.yielded = false;
    }

    /// Whether the last round stopped with buffers still waiting.
    pub fn yielded(&self) -> bool {
        self.yielded
    }

    /// The ring's base address and length in bytes (split-ring layout).
    fn ring_span(&self, ring: Ring) -> (u64, u64) {
        let n = u64::from(self.size);
        match ring {
            Ring::Desc => (self.desc_table, DESC_SIZE * n),
            Ring::Avail => (self.avail_ring, 6 + 2 * n),
            Ring::Used => (self.used_ring, 6 + 8 * n),
        }
    }

    /// The caches for the current configuration in `space` of `ms`, made
    /// (or made again) if needed.
    fn caches_for(&mut self, ms: &MemorySystem, space: AddressSpaceId) -> &mut [RegionCache; 3] {
        let key = RingKey {
            space,
            desc_table: self.desc_table,
            avail_ring: self.avail_ring,
            used_ring: self.used_ring,
            size: self.size,
        };
        if self.caches.0.as_ref().is_none_or(|(k, _)| *k != key) {
            let make = |ring| {
                let (addr, len) = self.ring_span(ring);
                ms.region_cache_init(space, GuestAddress(addr), len)
            };
            let caches = [make(Ring::Desc), make(Ring::Avail), make(Ring::Used)];
            self.caches.0 = Some((key, caches));
        }
        &mut self.caches.0.as_mut().expect("just made").1
    }

    /// Reads `buf` at `offset` in `ring`: through the ring's region cache
    /// when `mem` is a memory system, else as plain guest bytes.
    fn ring_read(
        &mut self,
        mem: &mut dyn GuestBytes,
        ring: Ring,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<()> {
        let (base, len) = self.ring_span(ring);
        let addr = base.wrapping_add(offset);
        let err = GuestBytesError {
            addr,
            len: buf.len(),
        };
        if offset + buf.len() as u64 > len {
            return Err(err.into());
        }
        match mem.memory_system() {
            Some((ms, space)) => {
                let cache = &mut self.caches_for(ms, space)[ring as usize];
                ms.region_cache_read(cache, offset, buf, MemTxAttrs::default())
                    .map_err(|_| err.into())
            }
            None => Ok(mem.read(addr, buf)?),
        }
    }

    /// Writes `data` at `offset` in `ring` (see [`Virtqueue::ring_read`]).
    fn ring_write(
        &mut self,
        mem: &mut dyn GuestBytes,
        ring: Ring,
        offset: u64,
        data: &[u8],
    ) -> Result<()> {
        let (base, len) = self.ring_span(ring);
        let addr = base.wrapping_add(offset);
        let err = GuestBytesError {
            addr,
            len: data.len(),
        };
        if offset + data.len() as u64 > len {
            return Err(err.into());
        }
        match mem.memory_system() {
            Some((ms, space)) => {
                let cache = &mut self.caches_for(ms, space)[ring as usize];
                ms.region_cache_write(cache, offset, data, MemTxAttrs::default())
                    .map_err(|_| err.into())
            }
            None => Ok(mem.write(addr, data)?),
        }
    }

    fn ring_u16(&mut self, mem: &mut dyn GuestBytes, ring: Ring, offset: u64) -> Result<u16> {
        let mut b = [0u8; 2];
        self.ring_read(mem, ring, offset, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Takes the next available chain, if the driver has published one and
    /// the round's budget allows. An available index that runs more than
    /// the queue size ahead of the device is an error (the driver cannot
    /// have published that many buffers).
    pub fn pop(&mut self, mem: &mut dyn GuestBytes) -> Result<Option<DescriptorChain>> {
        if !self.ready || self.size == 0 {
            return Ok(None);
        }
        let avail_idx = self.ring_u16(mem, Ring::Avail, 2)?;
        let pending = avail_idx.wrapping_sub(self.next_avail);
        if pending == 0 {
            return Ok(None);
        }
        if pending > self.size {
            return Err(QueueError::AvailOverrun {
                avail_idx,
                pending,
                size: self.size,
            });
        }
        if self.round_bytes == 0 {
            self.yielded = true;
            return Ok(None);
        }
        let slot = u64::from(self.next_avail % self.size);
        let head = self.ring_u16(mem, Ring::Avail, 4 + 2 * slot)?;
        self.next_avail = self.next_avail.wrapping_add(1);
        let chain = self.walk_chain(mem, head)?;
        let bytes: u64 = chain
            .readable
            .iter()
            .chain(&chain.writable)
            .map(|b| u64::from(b.len))
            .sum();
        self.round_bytes = self.round_bytes.saturating_sub(bytes.max(MIN_CHAIN_COST));
        Ok(Some(chain))
    }

    fn walk_chain(&mut self, mem: &mut dyn GuestBytes, head: u16) -> Result<DescriptorChain> {
        let mut chain = DescriptorChain {
            head,
            readable: Vec::new(),
            writable: Vec::new(),
        };
        let mut index = head;
        for _ in 0..self.size {
            if index >= self.size {
                return Err(QueueError::DescriptorIndex {
                    index,
                    size: self.size,
                });
            }
            // Ring addresses wrap as the guest's own arithmetic does; an access
            // that lands nowhere fails.
            let mut d = [0u8; DESC_SIZE as usize];
            self.ring_read(mem, Ring::Desc, DESC_SIZE * u64::from(index), &mut d)?;
            let addr = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
            let len = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
            let flags = u16::from_le_bytes([d[12], d[13]]);
            let next = u16::from_le_bytes([d[14], d[15]]);
            if flags & VIRTQ_DESC_F_INDIRECT != 0 {
                return Err(QueueError::Indirect { head });
            }
            let buffer = Buffer { addr, len };
            if flags & VIRTQ_DESC_F_WRITE != 0 {
                chain.writable.push(buffer);
            } else if chain.writable.is_empty() {
                chain.readable.push(buffer);
            } else {
                return Err(QueueError::Order { head });
            }
            if flags & VIRTQ_DESC_F_NEXT == 0 {
                return Ok(chain);
            }
            index = next;
        }
        Err(QueueError::ChainTooLong { head })
    }

    /// Returns chain `head` to the driver with `len` bytes written into it.
    pub fn push_used(&mut self, mem: &mut dyn GuestBytes, head: u16, len: u32) -> Result<()> {
        let slot = u64::from(self.next_used % self.size.max(1));
        let mut entry = [0u8; 8];
        entry[..4].copy_from_slice(&u32::from(head).to_le_bytes());
        entry[4..].copy_from_slice(&len.to_le_bytes());
        self.ring_write(mem, Ring::Used, 4 + 8 * slot, &entry)?;
        self.next_used = self.next_used.wrapping_add(1);
        // The entry must be visible before the index that publishes it; the
        // guest runs only between our calls, so program order is enough.
        self.ring_write(mem, Ring::Used, 2, &self.next_used.to_le_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ferrite_memory::VecMemory;

    pub(crate) const DESC: u64 = 0x1000;
    pub(crate) const AVAIL: u64 = 0x2000;
    pub(crate) const USED: u64 = 0x3000;

    /// Writes descriptor `index`.
    pub(crate) fn put_desc(
        mem: &mut VecMemory,
        index: u16,
        addr: u64,
        len: u32,
        flags: u16,
        next: u16,
    ) {
        let at = DESC + 16 * u64::from(index);
        mem.write_u64(at, addr).unwrap();
        mem.write_u32(at + 8, len).unwrap();
        mem.write_u16(at + 12, flags).unwrap();
        mem.write_u16(at + 14, next).unwrap();
    }

    /// Publishes `head` as the next available chain.
    pub(crate) fn publish(mem: &mut VecMemory, size: u16, head: u16) {
        let idx = mem.read_u16(AVAIL + 2).unwrap();
        mem.write_u16(AVAIL + 4 + 2 * u64::from(idx % size), head)
            .unwrap();
        mem.write_u16(AVAIL + 2, idx.wrapping_add(1)).unwrap();
    }

    fn queue(size: u16) -> Virtqueue {
        Virtqueue {
            size,
            ready: true,
            desc_table: DESC,
            avail_ring: AVAIL,
            used_ring: USED,
            ..Virtqueue::new()
        }
    }

    #[test]
    fn pops_chains_in_order_and_splits_readable_from_writable() {
        let mut mem = VecMemory::new(0, 0x10000);
        let mut q = queue(8);
        assert_eq!(q.pop(&mut mem).unwrap(), None, "nothing published");
        put_desc(&mut mem, 0, 0x5000, 16, VIRTQ_DESC_F_NEXT, 3);
        put_desc(
            &mut mem,
            3,
            0x6000,
            512,
            VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
            5,
        );
        put_desc(&mut mem, 5, 0x7000, 1, VIRTQ_DESC_F_WRITE, 0);
        put_desc(&mut mem, 1, 0x8000, 4, 0, 0);
        publish(&mut mem, 8, 0);
        publish(&mut mem, 8, 1);
        let first = q.pop(&mut mem).unwrap().unwrap();
        assert_eq!(first.head, 0);
        assert_eq!(
            first.readable,
            vec![Buffer {
                addr: 0x5000,
                len: 16
            }]
        );
        assert_eq!(
            first.writable,
            vec![
                Buffer {
                    addr: 0x6000,
                    len: 512
                },
                Buffer {
                    addr: 0x7000,
                    len: 1
                }
            ]
        );
        let second = q.pop(&mut mem).unwrap().unwrap();
        assert_eq!(
            (second.head, second.readable.len(), second.writable.len()),
            (1, 1, 0)
        );
        assert_eq!(q.pop(&mut mem).unwrap(), None);
    }

    #[test]
    fn used_ring_entries_and_index() {
        let mut mem = VecMemory::new(0, 0x10000);
        let mut q = queue(2);
        for (head, len) in [(1u16, 10u32), (0, 20), (1, 30)] {
            q.push_used(&mut mem, head, len).unwrap();
        }
        assert_eq!(mem.read_u16(USED + 2).unwrap(), 3);
        assert_eq!(
            mem.read_u32(USED + 4).unwrap(),
            1,
            "third entry wrapped onto slot 0"
        );
        assert_eq!(mem.read_u32(USED + 8).unwrap(), 30);
        assert_eq!(mem.read_u32(USED + 12).unwrap(), 0);
        assert_eq!(mem.read_u32(USED + 16).unwrap(), 20);
    }

    #[test]
    fn hostile_chains_are_errors() {
        let mut mem = VecMemory::new(0, 0x10000);
        let mut q = queue(4);
        put_desc(&mut mem, 0, 0x5000, 1, VIRTQ_DESC_F_NEXT, 1);
        put_desc(&mut mem, 1, 0x5000, 1, VIRTQ_DESC_F_NEXT, 0);
        publish(&mut mem, 4, 0);
        assert_eq!(q.pop(&mut mem), Err(QueueError::ChainTooLong { head: 0 }));
        publish(&mut mem, 4, 9);
        assert_eq!(
            q.pop(&mut mem),
            Err(QueueError::DescriptorIndex { index: 9, size: 4 })
        );
        put_desc(
            &mut mem,
            2,
            0x5000,
            1,
            VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
            3,
        );
        put_desc(&mut mem, 3, 0x5000, 1, 0, 0);
        publish(&mut mem, 4, 2);
        assert_eq!(q.pop(&mut mem), Err(QueueError::Order { head: 2 }));
        put_desc(&mut mem, 3, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0);
        publish(&mut mem, 4, 3);
        assert_eq!(q.pop(&mut mem), Err(QueueError::Indirect { head: 3 }));
        let mut far = queue(4);
        far.avail_ring = 0xffff_0000;
        assert!(matches!(far.pop(&mut mem), Err(QueueError::Memory(_))));
    }

    #[test]
    fn reader_and_writer_stream_across_buffers() {
        let mut mem = VecMemory::new(0, 0x1000);
        let buffers = [
            Buffer {
                addr: 0x100,
                len: 3,
            },
            Buffer {
                addr: 0x200,
                len: 0,
            },
            Buffer {
                addr: 0x300,
                len: 5,
            },
        ];
        let mut w = ChainWriter::new(&buffers);
        assert!(w.write_all(&mut mem, b"abcd").unwrap());
        assert!(w.write_all(&mut mem, b"efg").unwrap());
        assert!(
            !w.write_all(&mut mem, b"hi").unwrap(),
            "only one byte of room left"
        );
        assert_eq!(w.written(), 7);
        assert_eq!(w.remaining(), 1);
        assert_eq!(&mem.bytes()[0x100..0x103], b"abc");
        assert_eq!(&mem.bytes()[0x300..0x304], b"defg");
        let mut r = ChainReader::new(&buffers);
        let mut out = [0u8; 6];
        assert!(r.read_exact(&mut mem, &mut out).unwrap());
        assert_eq!(&out, b"abcdef");
        assert_eq!(r.remaining(), 2);
        let mut big = [0u8; 3];
        assert!(!r.read_exact(&mut mem, &mut big).unwrap());
        assert_eq!(r.remaining(), 2, "a short read consumes nothing");
    }
}
