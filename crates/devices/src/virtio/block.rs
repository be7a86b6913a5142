//! virtio-blk: a disk of 512-byte sectors backed by host memory or a file.
//!
//! Requests are descriptor chains: a 16-byte header (type, reserved, sector)
//! in readable buffers, data (readable for writes, writable for reads), and a
//! status byte as the last writable byte. Supported: read, write, flush and
//! get-id. Bad sectors or lengths answer IOERR; unknown types UNSUPP.

use std::fs::{File, OpenOptions};
use std::io;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use super::VirtioDevice;
use super::queue::{ChainReader, ChainWriter, QueueError, Result, Virtqueue};
use ferrite_memory::GuestBytes;

/// virtio device id of a block device.
pub const DEVICE_ID: u32 = 2;
/// Bytes per sector.
pub const SECTOR_SIZE: u64 = 512;
/// Feature: `seg_max` in the configuration says how many data buffers one
/// request may use.
pub const VIRTIO_BLK_F_SEG_MAX: u64 = 1 << 2;
/// Feature: the disk is read-only.
pub const VIRTIO_BLK_F_RO: u64 = 1 << 5;
/// Feature: the device accepts flush requests.
pub const VIRTIO_BLK_F_FLUSH: u64 = 1 << 9;

const VIRTIO_BLK_T_IN: u32 = 0;
const VIRTIO_BLK_T_OUT: u32 = 1;
const VIRTIO_BLK_T_FLUSH: u32 = 4;
const VIRTIO_BLK_T_GET_ID: u32 = 8;

const VIRTIO_BLK_S_OK: u8 = 0;
const VIRTIO_BLK_S_IOERR: u8 = 1;
const VIRTIO_BLK_S_UNSUPP: u8 = 2;

/// Length of the device id string a get-id request returns.
const ID_LEN: usize = 20;
/// Bytes moved between disk and guest per step.
const CHUNK: usize = 64 * 1024;

/// Errors opening a disk image.
#[derive(Debug, thiserror::Error)]
#[error("cannot open disk image {path}: {source}")]
pub struct DiskOpenError {
    /// The image path.
    pub path: PathBuf,
    /// The host error.
    #[source]
    pub source: io::Error,
}

/// Storage behind a virtio-blk device.
pub trait BlockBackend {
    /// Size in bytes.
    fn size_bytes(&self) -> u64;
    /// Whether the storage refuses writes.
    fn read_only(&self) -> bool;
    /// Fills `buf` from byte `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Writes `data` at byte `offset`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes written data durable.
    fn flush(&mut self) -> io::Result<()>;
}

/// A disk held in host memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemDisk {
    data: Vec<u8>,
    read_only: bool,
}

impl MemDisk {
    /// A writable disk with these contents.
    pub fn new(data: Vec<u8>) -> Self {
        MemDisk {
            data,
            read_only: false,
        }
    }

    /// A read-only disk with these contents.
    pub fn read_only(data: Vec<u8>) -> Self {
        MemDisk {
            data,
            read_only: true,
        }
    }

    /// The contents.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

fn range(len: usize, offset: u64, size: usize) -> io::Result<std::ops::Range<usize>> {
    let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
    let end = start.checked_add(size).ok_or(io::ErrorKind::InvalidInput)?;
    if end > len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(start..end)
}

impl BlockBackend for MemDisk {
    fn size_bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let r = range(self.data.len(), offset, buf.len())?;
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if self.read_only {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        let r = range(self.data.len(), offset, data.len())?;
        self.data[r].copy_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A disk image file on the host.
#[derive(Debug)]
pub struct FileDisk {
    file: File,
    len: u64,
    read_only: bool,
}

impl FileDisk {
    /// Opens `path`, read-only if `read_only`.
    pub fn open(path: &Path, read_only: bool) -> std::result::Result<Self, DiskOpenError> {
        let err = |source| DiskOpenError {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)
            .map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        Ok(FileDisk {
            file,
            len,
            read_only,
        })
    }
}

impl BlockBackend for FileDisk {
    fn size_bytes(&self) -> u64 {
        self.len
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    // Seek, then read or write: portable to every host (the positional
    // `FileExt` calls differ between Unix and Windows).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if self.read_only
            || offset
                .checked_add(data.len() as u64)
                .is_none_or(|end| end > self.len)
        {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// A virtio block device.
pub struct VirtioBlock {
    backend: Box<dyn BlockBackend>,
    id: [u8; ID_LEN],
}

impl VirtioBlock {
    /// A block device on `backend`, identifying itself as `id` (truncated
    /// to 20 bytes).
    pub fn new(backend: Box<dyn BlockBackend>, id: &str) -> Self {
        let mut bytes = [0u8; ID_LEN];
        let n = id.len().min(ID_LEN);
        bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
        VirtioBlock { backend, id: bytes }
    }

    /// Capacity in sectors.
    pub fn capacity(&self) -> u64 {
        self.backend.size_bytes() / SECTOR_SIZE
    }

    /// Byte range of `len` bytes from `sector`, if it lies on the disk.
    fn disk_range(&self, sector: u64, len: u64) -> Option<u64> {
        let start = sector.checked_mul(SECTOR_SIZE)?;
        let end = start.checked_add(len)?;
        (end <= self.capacity() * SECTOR_SIZE).then_some(start)
    }

    fn read_request(
        &mut self,
        mem: &mut dyn GuestBytes,
        writer: &mut ChainWriter<'_>,
        sector: u64,
        len: u64,
    ) -> Result<u8> {
        let Some(mut offset) = self.disk_range(sector, len) else {
            return Ok(VIRTIO_BLK_S_IOERR);
        };
        let mut left = len;
        let mut chunk = vec![0u8; CHUNK.min(len as usize)];
        while left > 0 {
            let n = (left as usize).min(CHUNK);
            if self.backend.read_at(offset, &mut chunk[..n]).is_err() {
                return Ok(VIRTIO_BLK_S_IOERR);
            }
            writer.write_all(mem, &chunk[..n])?;
            offset += n as u64;
            left -= n as u64;
        }
        Ok(VIRTIO_BLK_S_OK)
    }

    fn write_request(
        &mut self,
        mem: &mut dyn GuestBytes,
        reader: &mut ChainReader<'_>,
        sector: u64,
    ) -> Result<u8> {
        let len = reader.remaining();
        if self.backend.read_only() {
            return Ok(VIRTIO_BLK_S_IOERR);
        }
        let Some(mut offset) = self.disk_range(sector, len) else {
            return Ok(VIRTIO_BLK_S_IOERR);
        };
        let mut left = len;
        let mut chunk = vec![0u8; CHUNK.min(len as usize)];
        while left > 0 {
            let n = (left as usize).min(CHUNK);
            reader.read_exact(mem, &mut chunk[..n])?;
            if self.backend.write_at(offset, &chunk[..n]).is_err() {
                return Ok(VIRTIO_BLK_S_IOERR);
            }
            offset += n as u64;
            left -= n as u64;
        }
        Ok(VIRTIO_BLK_S_OK)
    }
}

impl VirtioDevice for VirtioBlock {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn device_features(&self) -> u64 {
        let ro = if self.backend.read_only() {
            VIRTIO_BLK_F_RO
        } else {
            0
        };
        VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX | ro
    }

    fn num_queues(&self) -> usize {
        1
    }

    /// Configuration: `capacity` (u64, sectors) at 0, `size_max` (u32, 0 =
    /// no limit) at 8, `seg_max` (u32) at 12; the rest reads 0.
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let mut config = [0u8; 16];
        config[..8].copy_from_slice(&self.capacity().to_le_bytes());
        // Two descriptors of every chain carry the header and the status.
        let seg_max = u32::from(self.queue_max_size()) - 2;
        config[12..16].copy_from_slice(&seg_max.to_le_bytes());
        for (i, byte) in data.iter_mut().enumerate() {
            let at = offset.saturating_add(i as u64);
            *byte = usize::try_from(at)
                .ok()
                .and_then(|at| config.get(at))
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
            let head = chain.head;
            let mut reader = ChainReader::new(&chain.readable);
            let mut header = [0u8; 16];
            if !reader.read_exact(mem, &mut header)? {
                return Err(QueueError::Malformed {
                    head,
                    what: "header shorter than 16 bytes",
                });
            }
            let mut writer = ChainWriter::new(&chain.writable);
            let Some(data_room) = writer.remaining().checked_sub(1) else {
                return Err(QueueError::Malformed {
                    head,
                    what: "no status byte",
                });
            };
            let kind = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let mut sector_bytes = [0u8; 8];
            sector_bytes.copy_from_slice(&header[8..16]);
            let sector = u64::from_le_bytes(sector_bytes);
            let status = match kind {
                VIRTIO_BLK_T_IN => self.read_request(mem, &mut writer, sector, data_room)?,
                VIRTIO_BLK_T_OUT => self.write_request(mem, &mut reader, sector)?,
                VIRTIO_BLK_T_FLUSH => match self.backend.flush() {
                    Ok(()) => VIRTIO_BLK_S_OK,
                    Err(_) => VIRTIO_BLK_S_IOERR,
                },
                VIRTIO_BLK_T_GET_ID => {
                    let n = (data_room as usize).min(ID_LEN);
                    writer.write_all(mem, &self.id[..n])?;
                    VIRTIO_BLK_S_OK
                }
                _ => VIRTIO_BLK_S_UNSUPP,
            };
            // The status byte is the last writable byte, whatever was written
            // before it.
            writer.skip(writer.remaining().saturating_sub(1));
            writer.write_all(mem, &[status])?;
            queue.push_used(mem, head, writer.written())?;
            used = true;
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::irq::IrqLevels;
    use crate::virtio::VirtioMmio;
    use crate::virtio::queue::tests::{AVAIL, DESC, USED, publish, put_desc};
    use crate::virtio::status;
    use ferrite_memory::VecMemory;
    use ferrite_memory::{MemTxAttrs, RegionOps};
    use std::rc::Rc;

    const A: MemTxAttrs = MemTxAttrs {
        requester_id: 0,
        secure: false,
        debug: false,
    };
    const QUEUE_SIZE: u16 = 8;
    const HEADER: u64 = 0x4000;
    const DATA: u64 = 0x5000;
    const STATUS_BYTE: u64 = 0x9000;
    const NEXT: u16 = 1;
    const WRITE: u16 = 2;

    struct Driver {
        dev: VirtioMmio,
        mem: VecMemory,
        irq: Rc<IrqLevels>,
    }

    impl Driver {
        /// Brings the device up the way Linux does.
        fn new(backend: Box<dyn BlockBackend>) -> Driver {
            let irq = IrqLevels::new();
            let dev = VirtioMmio::new(
                Box::new(VirtioBlock::new(backend, "ferrite-disk-0")),
                irq.line(1),
            );
            let d = Driver {
                dev,
                mem: VecMemory::new(0, 0x20000),
                irq,
            };
            d.wr(0x070, 0);
            d.wr(0x070, status::ACKNOWLEDGE | status::DRIVER);
            d.wr(0x024, 1);
            d.wr(0x020, 1); // VERSION_1
            d.wr(0x024, 0);
            d.wr(0x014, 0);
            let offered = d.rd(0x010);
            d.wr(0x020, offered & VIRTIO_BLK_F_FLUSH as u32);
            d.wr(
                0x070,
                status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK,
            );
            assert_ne!(d.rd(0x070) & status::FEATURES_OK, 0);
            d.wr(0x030, 0);
            d.wr(0x038, u32::from(QUEUE_SIZE));
            d.wr(0x080, DESC as u32);
            d.wr(0x090, AVAIL as u32);
            d.wr(0x0a0, USED as u32);
            d.wr(0x044, 1);
            d.wr(
                0x070,
                status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK,
            );
            d
        }

        fn rd(&self, offset: u64) -> u32 {
            self.dev.read(offset, 4, A).unwrap() as u32
        }

        fn wr(&self, offset: u64, value: u32) {
            self.dev.write(offset, u64::from(value), 4, A).unwrap();
        }

        /// Submits one request; returns (status byte, used length).
        fn request(
            &mut self,
            kind: u32,
            sector: u64,
            data: &[u8],
            data_writable: bool,
        ) -> (u8, u32) {
            self.mem.write_u32(HEADER, kind).unwrap();
            self.mem.write_u32(HEADER + 4, 0).unwrap();
            self.mem.write_u64(HEADER + 8, sector).unwrap();
            self.mem.write(DATA, data).unwrap();
            self.mem.write(STATUS_BYTE, &[0xff]).unwrap();
            put_desc(&mut self.mem, 0, HEADER, 16, NEXT, 1);
            let flags = if data_writable { NEXT | WRITE } else { NEXT };
            put_desc(&mut self.mem, 1, DATA, data.len() as u32, flags, 2);
            put_desc(&mut self.mem, 2, STATUS_BYTE, 1, WRITE, 0);
            publish(&mut self.mem, QUEUE_SIZE, 0);
            let used_before = self.mem.read_u16(USED + 2).unwrap();
            self.wr(0x050, 0);
            assert!(self.dev.needs_processing());
            self.dev.process(&mut self.mem);
            let used_idx = self.mem.read_u16(USED + 2).unwrap();
            assert_eq!(used_idx, used_before.wrapping_add(1), "one chain returned");
            let slot = u64::from(used_before % QUEUE_SIZE);
            assert_eq!(
                self.mem.read_u32(USED + 4 + 8 * slot).unwrap(),
                0,
                "head id"
            );
            let len = self.mem.read_u32(USED + 8 + 8 * slot).unwrap();
            let mut status = [0u8];
            self.mem.read(STATUS_BYTE, &mut status).unwrap();
            (status[0], len)
        }

        fn data(&mut self, len: usize) -> Vec<u8> {
            let mut out = vec![0u8; len];
            self.mem.read(DATA, &mut out).unwrap();
            out
        }
    }

    fn disk(sectors: usize) -> Vec<u8> {
        (0..sectors * 512)
            .map(|i| (i / 512) as u8 ^ (i as u8))
            .collect()
    }

    #[test]
    fn capacity_in_config_space() {
        let d = Driver::new(Box::new(MemDisk::new(disk(2048 + 3))));
        assert_eq!(d.rd(0x100), 2051);
        assert_eq!(d.rd(0x104), 0);
        assert_eq!(d.rd(0x10c), 254, "seg_max");
        assert_eq!(d.rd(0x110), 0, "past the fields we fill");
        assert_ne!(d.rd(0x010) & VIRTIO_BLK_F_SEG_MAX as u32, 0);
        assert_eq!(d.rd(0x008), DEVICE_ID);
        assert_eq!(d.rd(0x010) & VIRTIO_BLK_F_RO as u32, 0);
    }

    #[test]
    fn read_sectors() {
        let image = disk(16);
        let mut d = Driver::new(Box::new(MemDisk::new(image.clone())));
        let (status, len) = d.request(VIRTIO_BLK_T_IN, 3, &[0u8; 1024], true);
        assert_eq!(status, VIRTIO_BLK_S_OK);
        assert_eq!(len, 1024 + 1);
        assert_eq!(d.data(1024), image[3 * 512..5 * 512]);
        assert!(d.irq.level(1));
    }

    #[test]
    fn write_then_read_back_and_flush() {
        let mut d = Driver::new(Box::new(MemDisk::new(disk(16))));
        let payload: Vec<u8> = (0..512).map(|i| (i * 7) as u8).collect();
        let (status, len) = d.request(VIRTIO_BLK_T_OUT, 15, &payload, false);
        assert_eq!((status, len), (VIRTIO_BLK_S_OK, 1));
        let (status, _) = d.request(VIRTIO_BLK_T_IN, 15, &[0u8; 512], true);
        assert_eq!(status, VIRTIO_BLK_S_OK);
        assert_eq!(d.data(512), payload);
        let (status, _) = d.request(VIRTIO_BLK_T_FLUSH, 0, &[], false);
        assert_eq!(status, VIRTIO_BLK_S_OK);
    }

    #[test]
    fn out_of_range_read_only_and_unsupported() {
        let mut d = Driver::new(Box::new(MemDisk::new(disk(4))));
        assert_eq!(
            d.request(VIRTIO_BLK_T_IN, 4, &[0u8; 512], true).0,
            VIRTIO_BLK_S_IOERR
        );
        assert_eq!(
            d.request(VIRTIO_BLK_T_IN, 3, &[0u8; 1024], true).0,
            VIRTIO_BLK_S_IOERR
        );
        assert_eq!(
            d.request(VIRTIO_BLK_T_IN, u64::MAX, &[0u8; 512], true).0,
            VIRTIO_BLK_S_IOERR
        );
        assert_eq!(d.request(99, 0, &[0u8; 512], true).0, VIRTIO_BLK_S_UNSUPP);
        let mut ro = Driver::new(Box::new(MemDisk::read_only(disk(4))));
        assert_ne!(ro.rd(0x010) & VIRTIO_BLK_F_RO as u32, 0);
        assert_eq!(
            ro.request(VIRTIO_BLK_T_OUT, 0, &[1u8; 512], false).0,
            VIRTIO_BLK_S_IOERR
        );
        assert_eq!(
            ro.request(VIRTIO_BLK_T_IN, 0, &[0u8; 512], true).0,
            VIRTIO_BLK_S_OK
        );
    }

    #[test]
    fn data_spread_over_several_descriptors() {
        let image = disk(8);
        let mut d = Driver::new(Box::new(MemDisk::new(image.clone())));
        d.mem.write_u32(HEADER, VIRTIO_BLK_T_IN).unwrap();
        d.mem.write_u64(HEADER + 8, 2).unwrap();
        put_desc(&mut d.mem, 0, HEADER, 16, NEXT, 1);
        put_desc(&mut d.mem, 1, 0x6000, 300, NEXT | WRITE, 2);
        put_desc(&mut d.mem, 2, 0x7000, 724, NEXT | WRITE, 3);
        put_desc(&mut d.mem, 3, STATUS_BYTE, 1, WRITE, 0);
        publish(&mut d.mem, QUEUE_SIZE, 0);
        d.wr(0x050, 0);
        d.dev.process(&mut d.mem);
        let mut got = vec![0u8; 1024];
        d.mem.read(0x6000, &mut got[..300]).unwrap();
        d.mem.read(0x7000, &mut got[300..]).unwrap();
        assert_eq!(got, image[1024..2048]);
        let mut status = [0xffu8];
        d.mem.read(STATUS_BYTE, &mut status).unwrap();
        assert_eq!(status[0], VIRTIO_BLK_S_OK);
    }

    #[test]
    fn get_id() {
        let mut d = Driver::new(Box::new(MemDisk::new(disk(1))));
        let (status, _) = d.request(VIRTIO_BLK_T_GET_ID, 0, &[0u8; 20], true);
        assert_eq!(status, VIRTIO_BLK_S_OK);
        assert_eq!(&d.data(20)[..14], b"ferrite-disk-0");
    }

    #[test]
    fn malformed_request_needs_reset() {
        let mut d = Driver::new(Box::new(MemDisk::new(disk(1))));
        put_desc(&mut d.mem, 0, HEADER, 8, WRITE, 0); // no header, no status
        publish(&mut d.mem, QUEUE_SIZE, 0);
        d.wr(0x050, 0);
        d.dev.process(&mut d.mem);
        assert_ne!(d.rd(0x070) & status::DEVICE_NEEDS_RESET, 0);
    }

    #[test]
    fn file_disk_round_trip() {
        let path = std::env::temp_dir().join(format!("ferrite-blk-{}.img", std::process::id()));
        std::fs::write(&path, disk(8)).unwrap();
        let mut d = Driver::new(Box::new(FileDisk::open(&path, false).unwrap()));
        assert_eq!(
            d.request(VIRTIO_BLK_T_OUT, 1, &[0xab; 512], false).0,
            VIRTIO_BLK_S_OK
        );
        assert_eq!(
            d.request(VIRTIO_BLK_T_IN, 7, &[0; 512], true).0,
            VIRTIO_BLK_S_OK
        );
        assert_eq!(d.data(512), disk(8)[7 * 512..]);
        assert_eq!(
            d.request(VIRTIO_BLK_T_FLUSH, 0, &[], false).0,
            VIRTIO_BLK_S_OK
        );
        drop(d);
        let on_disk = std::fs::read(&path).unwrap();
        assert!(on_disk[512..1024].iter().all(|&b| b == 0xab));
        assert_eq!(on_disk.len(), 8 * 512);
        let missing = FileDisk::open(Path::new("/nonexistent/disk.img"), true);
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/disk.img")
        );
        std::fs::remove_file(&path).unwrap();
    }
}
