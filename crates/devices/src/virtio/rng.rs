//! virtio-rng (entropy device): fills every writable buffer the driver
//! offers with pseudo-random bytes.
//!
//! The bytes come from a seeded generator, not the host's entropy pool, so
//! a run is reproducible: same seed, same bytes, same guest behaviour. A
//! board that wants real randomness seeds it from the host.

use super::VirtioDevice;
use super::queue::{ChainWriter, Result, Virtqueue};
use ferrite_memory::GuestBytes;

/// virtio device id of an entropy source.
pub const DEVICE_ID: u32 = 4;

/// Bytes handed out per request at most (Linux asks for small amounts).
const MAX_REQUEST: u64 = 64 * 1024;

/// A virtio entropy device.
#[derive(Debug, Clone)]
pub struct VirtioRng {
    state: u64,
}

impl VirtioRng {
    /// An entropy device whose byte stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        // xorshift must not start at 0.
        VirtioRng {
            state: seed ^ 0x9e37_79b9_7f4a_7c15 | 1,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*: fast, and plenty for a guest's entropy pool seed.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

impl VirtioDevice for VirtioRng {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn device_features(&self) -> u64 {
        0
    }

    fn num_queues(&self) -> usize {
        1
    }

    /// No configuration space.
    fn read_config(&self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }

    fn process_queue(
        &mut self,
        _index: usize,
        queue: &mut Virtqueue,
        mem: &mut dyn GuestBytes,
    ) -> Result<bool> {
        let mut used = false;
        while let Some(chain) = queue.pop(mem)? {
            let mut writer = ChainWriter::new(&chain.writable);
            let len = writer.remaining().min(MAX_REQUEST) as usize;
            let mut bytes = vec![0u8; len];
            self.fill(&mut bytes);
            writer.write_all(mem, &bytes)?;
            queue.push_used(mem, chain.head, writer.written())?;
            used = true;
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virtio::queue::tests::{AVAIL, DESC, USED, publish, put_desc};
    use ferrite_memory::VecMemory;

    fn queue() -> Virtqueue {
        let mut q = Virtqueue::new();
        q.size = 4;
        q.desc_table = DESC;
        q.avail_ring = AVAIL;
        q.used_ring = USED;
        q.set_ready(true);
        q
    }

    fn request(rng: &mut VirtioRng, len: u32) -> Vec<u8> {
        let mut mem = VecMemory::new(0, 0x20000);
        let mut q = queue();
        put_desc(&mut mem, 0, 0x8000, len, 2, 0);
        publish(&mut mem, 4, 0);
        assert!(rng.process_queue(0, &mut q, &mut mem).unwrap());
        assert_eq!(mem.read_u32(USED + 8).unwrap(), len, "used length");
        let mut out = vec![0u8; len as usize];
        mem.read(0x8000, &mut out).unwrap();
        out
    }

    #[test]
    fn fills_buffers_reproducibly() {
        let a = request(&mut VirtioRng::new(7), 37);
        let b = request(&mut VirtioRng::new(7), 37);
        let c = request(&mut VirtioRng::new(8), 37);
        assert_eq!(a, b, "same seed, same bytes");
        assert_ne!(a, c);
        assert!(a.iter().any(|&x| x != 0));
        let mut rng = VirtioRng::new(7);
        let first = request(&mut rng, 16);
        let second = request(&mut rng, 16);
        assert_ne!(first, second, "the stream moves on");
    }

    #[test]
    fn identity_and_empty_config() {
        let rng = VirtioRng::new(0);
        assert_eq!(rng.device_id(), 4);
        let mut config = [0xffu8; 4];
        rng.read_config(0, &mut config);
        assert_eq!(config, [0; 4]);
    }
}
