//! ELF images: parse a RISC-V 64-bit ELF file and load its `PT_LOAD`
//! segments into guest memory.
//!
//! Parsing checks everything a loader relies on before anything is written:
//! the magic, the class (64-bit), the byte order (little endian), the machine
//! (RISC-V), that every header table and every segment's file bytes lie inside
//! the file, and that no segment wraps around the top of the address space.
//! A bad file is an [`ElfError`], never a panic.
//!
//! Segments are placed at their physical address (`p_paddr`), as QEMU's ELF
//! loader does; the bytes past `p_filesz` up to `p_memsz` (the `.bss`) are
//! written as zeros. Loading goes through [`GuestBytes`], which the boards
//! give as the memory API's [`ferrite_memory::SpaceBytes`] so that dirty and
//! code tracking see every byte the loader puts in memory.

use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{PT_LOAD, ProgramHeader};
use goblin::elf::section_header::{SHT_SYMTAB, SectionHeader};
use goblin::elf::sym::Symtab;
use goblin::strtab::Strtab;

use ferrite_memory::GuestBytes;

use crate::layout::MemoryRange;

/// Why an ELF file cannot be loaded. Each message names the problem.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    /// The file does not start with the ELF magic `\x7fELF`.
    #[error("not an ELF file (bad magic)")]
    NotElf,
    /// The file is shorter than the structure it claims to contain.
    #[error(
        "truncated ELF: {what} needs bytes {start:#x}..{end:#x} but the file is {file_len:#x} bytes"
    )]
    Truncated {
        /// What was being read (header, program headers, segment N).
        what: String,
        /// First byte needed.
        start: u64,
        /// One past the last byte needed.
        end: u64,
        /// Length of the file.
        file_len: u64,
    },
    /// The ELF class is not ELFCLASS64.
    #[error("not a 64-bit ELF (class {0})")]
    WrongClass(u8),
    /// The ELF data encoding is not little endian.
    #[error("not a little-endian ELF (data encoding {0})")]
    WrongEndianness(u8),
    /// The ELF machine is not EM_RISCV.
    #[error("not a RISC-V ELF (machine {machine:#x}, {name})")]
    WrongMachine {
        /// The `e_machine` field.
        machine: u16,
        /// Its conventional name.
        name: &'static str,
    },
    /// A header field is inconsistent (sizes, counts, wrapping addresses).
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// The file has no `PT_LOAD` segment with bytes to load.
    #[error("ELF has no loadable segments")]
    NoLoadableSegments,
    /// A segment does not fit in any memory of the board.
    #[error(
        "segment {index} ({start:#x}..{end:#x}) lies outside guest memory (the board has {memory})"
    )]
    SegmentOutsideMemory {
        /// Index of the program header.
        index: usize,
        /// First guest-physical byte of the segment.
        start: u64,
        /// One past its last byte (as u128: a segment may end at 2^64).
        end: u128,
        /// The memory ranges the board offers, for the message.
        memory: String,
    },
    /// Guest memory refused the write (nothing mapped, or a device said no).
    #[error("writing segment {index} to guest memory at {addr:#x} failed")]
    WriteFailed {
        /// Index of the program header.
        index: usize,
        /// Guest-physical address of the refused write.
        addr: u64,
    },
}

/// Result of ELF parsing and loading.
pub type Result<T> = std::result::Result<T, ElfError>;

/// One `PT_LOAD` segment: `file_size` bytes from the file at `file_offset`,
/// then zeros up to `mem_size`, placed at `paddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// Index of the program header (for messages).
    pub index: usize,
    /// Guest-physical load address (`p_paddr`).
    pub paddr: u64,
    /// Offset of the segment's bytes in the file.
    pub file_offset: usize,
    /// Bytes taken from the file.
    pub file_size: usize,
    /// Bytes occupied in memory (`>= file_size`; the rest is zero-filled).
    pub mem_size: u64,
}

impl LoadSegment {
    /// The guest-physical range the segment occupies in memory.
    pub fn range(&self) -> MemoryRange {
        MemoryRange::new(self.paddr, self.mem_size)
    }
}

/// A parsed, validated ELF file ready to be loaded.
#[derive(Debug, Clone)]
pub struct ElfImage {
    bytes: Vec<u8>,
    entry: u64,
    segments: Vec<LoadSegment>,
    /// One past the last byte of the ELF header and the program headers.
    headers_end: u64,
}

/// The ELF magic bytes.
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// Size of an ELF64 file header.
const ELF64_HEADER_SIZE: u64 = 64;

/// Size of one ELF64 program header.
const ELF64_PHDR_SIZE: u64 = 56;

/// Size of one ELF64 section header.
const ELF64_SHDR_SIZE: u64 = 64;

/// Size of one ELF64 symbol.
const ELF64_SYM_SIZE: u64 = 24;

/// Zero-fill is written in chunks of this many bytes (one page), so a large
/// `.bss` needs no large temporary buffer.
const ZERO_CHUNK: usize = 4096;

impl ElfImage {
    /// Parses and validates `bytes` as a RISC-V 64-bit little-endian ELF.
    ///
    /// Promises: on `Ok`, every segment's file bytes lie inside `bytes` and
    /// every segment's memory range ends at or below 2^64.
    pub fn parse(bytes: Vec<u8>) -> Result<Self> {
        let file_len = bytes.len() as u64;
        if bytes.len() < 4 || &bytes[..4] != ELF_MAGIC {
            return Err(ElfError::NotElf);
        }
        check_in_file("ELF identification", 0, 16, file_len)?;
        let class = bytes[header::EI_CLASS];
        if class != header::ELFCLASS64 {
            return Err(ElfError::WrongClass(class));
        }
        let data = bytes[header::EI_DATA];
        if data != header::ELFDATA2LSB {
            return Err(ElfError::WrongEndianness(data));
        }
        check_in_file("ELF header", 0, ELF64_HEADER_SIZE, file_len)?;
        let hdr: Header = goblin::elf::Elf::parse_header(&bytes)
            .map_err(|e| ElfError::Malformed(format!("ELF header: {e}")))?;
        if hdr.e_machine != header::EM_RISCV {
            return Err(ElfError::WrongMachine {
                machine: hdr.e_machine,
                name: header::machine_to_str(hdr.e_machine),
            });
        }
        if hdr.e_phnum > 0 && u64::from(hdr.e_phentsize) != ELF64_PHDR_SIZE {
            return Err(ElfError::Malformed(format!(
                "program header size {} (expected {ELF64_PHDR_SIZE})",
                hdr.e_phentsize
            )));
        }
        let ph_len = u64::from(hdr.e_phnum) * ELF64_PHDR_SIZE;
        check_in_file("program headers", hdr.e_phoff, ph_len, file_len)?;
        let ctx = goblin::container::Ctx::new(
            goblin::container::Container::Big,
            goblin::container::Endian::Little,
        );
        let phdrs = ProgramHeader::parse(&bytes, hdr.e_phoff as usize, hdr.e_phnum.into(), ctx)
            .map_err(|e| ElfError::Malformed(format!("program headers: {e}")))?;

        let mut segments = Vec::new();
        for (index, ph) in phdrs.iter().enumerate() {
            if ph.p_type != PT_LOAD || ph.p_memsz == 0 {
                continue;
            }
            if ph.p_filesz > ph.p_memsz {
                return Err(ElfError::Malformed(format!(
                    "segment {index}: file size {:#x} exceeds memory size {:#x}",
                    ph.p_filesz, ph.p_memsz
                )));
            }
            check_in_file(
                &format!("segment {index}"),
                ph.p_offset,
                ph.p_filesz,
                file_len,
            )?;
            if u128::from(ph.p_paddr) + u128::from(ph.p_memsz) > 1u128 << 64 {
                return Err(ElfError::Malformed(format!(
                    "segment {index} at {:#x} of size {:#x} wraps around the address space",
                    ph.p_paddr, ph.p_memsz
                )));
            }
            segments.push(LoadSegment {
                index,
                paddr: ph.p_paddr,
                // Both fit: checked against the file length above.
                file_offset: ph.p_offset as usize,
                file_size: ph.p_filesz as usize,
                mem_size: ph.p_memsz,
            });
        }
        if segments.is_empty() {
            return Err(ElfError::NoLoadableSegments);
        }
        Ok(Self {
            entry: hdr.e_entry,
            bytes,
            segments,
            headers_end: (hdr.e_phoff + ph_len).max(ELF64_HEADER_SIZE),
        })
    }

    /// The entry point (`e_entry`).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// The loadable segments, in program-header order.
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// The lowest and highest guest-physical bytes any segment occupies, as
    /// a range (used to check that a kernel does not overlap a bios).
    pub fn footprint(&self) -> MemoryRange {
        let start = self.segments.iter().map(|s| s.paddr).min().unwrap_or(0);
        let end = self
            .segments
            .iter()
            .map(|s| u128::from(s.paddr) + u128::from(s.mem_size))
            .max()
            .unwrap_or(0);
        MemoryRange::from_bounds(start, end)
    }

    /// Checks that every segment lies inside one of `memory` (the board's RAM
    /// and ROM ranges), and gives each segment as it will be written.
    ///
    /// A segment that starts with the file's own headers may begin below
    /// memory: `gcc -nostdlib -Wl,-Ttext=0x80000000` puts the ELF header and
    /// program headers on the page before `.text`, at 0x7ffff000. QEMU writes
    /// those bytes to unmapped space, where they vanish, and runs the
    /// program; here the part outside memory is cut off, provided it holds
    /// nothing but the headers and the zero padding after them.
    pub fn placed_segments(&self, memory: &[MemoryRange]) -> Result<Vec<LoadSegment>> {
        self.segments
            .iter()
            .map(|seg| {
                let range = seg.range();
                if memory.iter().any(|m| m.contains_range(&range)) {
                    return Ok(*seg);
                }
                self.without_leading_headers(seg, memory).ok_or_else(|| {
                    ElfError::SegmentOutsideMemory {
                        index: seg.index,
                        start: seg.paddr,
                        end: range.end(),
                        memory: describe_ranges(memory),
                    }
                })
            })
            .collect()
    }

    /// `seg` without the part before the start of the memory range its end
    /// lies in, if that part is only headers and zero padding.
    fn without_leading_headers(
        &self,
        seg: &LoadSegment,
        memory: &[MemoryRange],
    ) -> Option<LoadSegment> {
        if seg.file_offset != 0 {
            return None;
        }
        let end = u128::from(seg.paddr) + u128::from(seg.mem_size);
        let target = memory
            .iter()
            .find(|m| m.start() > seg.paddr && u128::from(m.start()) < end && m.end() >= end)?;
        let cut = target.start() - seg.paddr;
        let cut_in_file = usize::try_from(cut).ok()?.min(seg.file_size);
        let headers_end = usize::try_from(self.headers_end).ok()?.min(cut_in_file);
        let padding = &self.bytes[headers_end..cut_in_file];
        if cut > seg.file_size as u64 || padding.iter().any(|&b| b != 0) {
            return None;
        }
        Some(LoadSegment {
            index: seg.index,
            paddr: target.start(),
            file_offset: cut_in_file,
            file_size: seg.file_size - cut_in_file,
            mem_size: seg.mem_size - cut,
        })
    }

    /// Writes every segment through `mem`: the file bytes, then zeros up to
    /// the memory size. Checks [`ElfImage::placed_segments`] against `memory`
    /// first, so nothing is written when any segment is out of place.
    pub fn load(&self, mem: &mut dyn GuestBytes, memory: &[MemoryRange]) -> Result<()> {
        let zeros = [0u8; ZERO_CHUNK];
        for seg in &self.placed_segments(memory)? {
            let data = &self.bytes[seg.file_offset..seg.file_offset + seg.file_size];
            mem.write(seg.paddr, data)
                .map_err(|_| ElfError::WriteFailed {
                    index: seg.index,
                    addr: seg.paddr,
                })?;
            let mut addr = seg.paddr + seg.file_size as u64;
            let mut left = seg.mem_size - seg.file_size as u64;
            while left > 0 {
                let n = left.min(ZERO_CHUNK as u64) as usize;
                mem.write(addr, &zeros[..n])
                    .map_err(|_| ElfError::WriteFailed {
                        index: seg.index,
                        addr,
                    })?;
                addr = addr.wrapping_add(n as u64);
                left -= n as u64;
            }
        }
        Ok(())
    }

    /// Looks up a symbol's value in the static symbol table (`.symtab`).
    ///
    /// Returns `None` when the file has no symbol table, the name is absent,
    /// or the table is malformed (a stripped or damaged table is not fatal
    /// for loading; the caller decides whether it needs the symbol).
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.find_symbol(name).ok().flatten()
    }

    fn find_symbol(&self, name: &str) -> std::result::Result<Option<u64>, goblin::error::Error> {
        Ok(self
            .symbol_table()?
            .into_iter()
            .find(|(n, _)| !n.is_empty() && n == name)
            .map(|(_, v)| v))
    }

    /// Every entry of the static symbol table (`.symtab`) as (name, value),
    /// in table order, unnamed entries (sections, the null symbol) with an
    /// empty name. Empty when there is no table or it is malformed.
    pub fn symbols(&self) -> Vec<(String, u64)> {
        self.symbol_table().unwrap_or_default()
    }

    fn symbol_table(&self) -> std::result::Result<Vec<(String, u64)>, goblin::error::Error> {
        let file_len = self.bytes.len() as u64;
        let hdr = goblin::elf::Elf::parse_header(&self.bytes)?;
        let ctx = goblin::container::Ctx::new(
            goblin::container::Container::Big,
            goblin::container::Endian::Little,
        );
        if hdr.e_shnum == 0 || u64::from(hdr.e_shentsize) != ELF64_SHDR_SIZE {
            return Ok(Vec::new());
        }
        let sh_len = u64::from(hdr.e_shnum) * ELF64_SHDR_SIZE;
        if check_in_file("section headers", hdr.e_shoff, sh_len, file_len).is_err() {
            return Ok(Vec::new());
        }
        let shdrs =
            SectionHeader::parse(&self.bytes, hdr.e_shoff as usize, hdr.e_shnum.into(), ctx)?;
        let Some(symtab_hdr) = shdrs.iter().find(|s| s.sh_type == SHT_SYMTAB) else {
            return Ok(Vec::new());
        };
        let Some(strtab_hdr) = shdrs.get(symtab_hdr.sh_link as usize) else {
            return Ok(Vec::new());
        };
        if check_in_file("symtab", symtab_hdr.sh_offset, symtab_hdr.sh_size, file_len).is_err()
            || check_in_file("strtab", strtab_hdr.sh_offset, strtab_hdr.sh_size, file_len).is_err()
        {
            return Ok(Vec::new());
        }
        let count = (symtab_hdr.sh_size / ELF64_SYM_SIZE) as usize;
        let syms = Symtab::parse(&self.bytes, symtab_hdr.sh_offset as usize, count, ctx)?;
        let strtab = Strtab::parse(
            &self.bytes,
            strtab_hdr.sh_offset as usize,
            strtab_hdr.sh_size as usize,
            0,
        )?;
        Ok(syms
            .iter()
            .filter_map(|sym| {
                let name = strtab.get_at(sym.st_name)?;
                Some((name.to_string(), sym.st_value))
            })
            .collect())
    }
}

/// Checks that `len` bytes at `offset` lie inside a file of `file_len` bytes.
fn check_in_file(what: &str, offset: u64, len: u64, file_len: u64) -> Result<()> {
    let end = u128::from(offset) + u128::from(len);
    if end > u128::from(file_len) {
        return Err(ElfError::Truncated {
            what: what.to_string(),
            start: offset,
            end: u64::try_from(end).unwrap_or(u64::MAX),
            file_len,
        });
    }
    Ok(())
}

/// "0x80000000..0x90000000, 0x1000..0x2000" for error messages.
fn describe_ranges(memory: &[MemoryRange]) -> String {
    if memory.is_empty() {
        return "no memory".to_string();
    }
    memory
        .iter()
        .map(|m| format!("{:#x}..{:#x}", m.start(), m.end()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ferrite_memory::GuestBytesError;

    /// Builds a minimal valid RISC-V ELF64 with one PT_LOAD segment
    /// (`code` at `paddr`, memory size `memsz`) and a symbol table holding
    /// `tohost` at `paddr + 0x100`.
    pub(crate) fn build_elf(paddr: u64, code: &[u8], memsz: u64) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(ELF_MAGIC);
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // little endian
        f[6] = 1; // EV_CURRENT
        put16(&mut f, 16, 2); // ET_EXEC
        put16(&mut f, 18, header::EM_RISCV);
        put32(&mut f, 20, 1);
        put64(&mut f, 24, paddr); // entry
        put64(&mut f, 32, 64); // phoff
        put16(&mut f, 52, 64); // ehsize
        put16(&mut f, 54, 56); // phentsize
        put16(&mut f, 56, 1); // phnum
        put16(&mut f, 58, 64); // shentsize
        // program header at 64
        let code_off = 64 + 56;
        let mut ph = vec![0u8; 56];
        put32(&mut ph, 0, PT_LOAD);
        put32(&mut ph, 4, 7);
        put64(&mut ph, 8, code_off as u64);
        put64(&mut ph, 16, paddr);
        put64(&mut ph, 24, paddr);
        put64(&mut ph, 32, code.len() as u64);
        put64(&mut ph, 40, memsz);
        put64(&mut ph, 48, 8);
        f.extend_from_slice(&ph);
        f.extend_from_slice(code);
        // strtab: "\0tohost\0"
        let strtab_off = f.len();
        f.extend_from_slice(b"\0tohost\0");
        let symtab_off = f.len();
        f.extend_from_slice(&[0u8; 24]); // null symbol
        let mut sym = vec![0u8; 24];
        put32(&mut sym, 0, 1);
        sym[4] = 0x11; // GLOBAL OBJECT
        put16(&mut sym, 6, 1);
        put64(&mut sym, 8, paddr + 0x100);
        put64(&mut sym, 16, 8);
        f.extend_from_slice(&sym);
        while f.len() % 8 != 0 {
            f.push(0);
        }
        let shoff = f.len();
        f.extend_from_slice(&[0u8; 64]); // null section
        let mut symsh = vec![0u8; 64];
        put32(&mut symsh, 4, SHT_SYMTAB);
        put64(&mut symsh, 24, symtab_off as u64);
        put64(&mut symsh, 32, 48);
        put32(&mut symsh, 40, 2); // link -> strtab
        put64(&mut symsh, 56, 24);
        f.extend_from_slice(&symsh);
        let mut strsh = vec![0u8; 64];
        put32(&mut strsh, 4, 3); // SHT_STRTAB
        put64(&mut strsh, 24, strtab_off as u64);
        put64(&mut strsh, 32, 8);
        f.extend_from_slice(&strsh);
        put64(&mut f, 40, shoff as u64);
        put16(&mut f, 60, 3); // shnum
        f
    }

    fn put16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// A sparse fake memory recording every write.
    #[derive(Default)]
    struct FakeMemory {
        bytes: std::collections::BTreeMap<u64, u8>,
        refuse_at: Option<u64>,
    }

    impl GuestBytes for FakeMemory {
        fn read(&mut self, addr: u64, buf: &mut [u8]) -> std::result::Result<(), GuestBytesError> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = *self.bytes.get(&(addr + i as u64)).unwrap_or(&0);
            }
            Ok(())
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> std::result::Result<(), GuestBytesError> {
            if self.refuse_at == Some(addr) {
                return Err(GuestBytesError {
                    addr,
                    len: data.len(),
                });
            }
            for (i, b) in data.iter().enumerate() {
                self.bytes.insert(addr + i as u64, *b);
            }
            Ok(())
        }
    }

    const DRAM: MemoryRange = MemoryRange::new(0x8000_0000, 0x10_0000);

    #[test]
    fn parses_and_loads_segment_with_bss() {
        let elf = build_elf(0x8000_0000, &[1, 2, 3, 4], 0x20);
        let image = ElfImage::parse(elf).unwrap();
        assert_eq!(image.entry(), 0x8000_0000);
        assert_eq!(image.segments().len(), 1);
        let mut mem = FakeMemory::default();
        mem.bytes.insert(0x8000_0010, 0xff); // stale byte in the bss
        image.load(&mut mem, &[DRAM]).unwrap();
        assert_eq!(mem.bytes[&0x8000_0000], 1);
        assert_eq!(mem.bytes[&0x8000_0003], 4);
        assert_eq!(mem.bytes[&0x8000_0010], 0, "bss is zero-filled");
        assert_eq!(mem.bytes[&0x8000_001f], 0);
        assert!(!mem.bytes.contains_key(&0x8000_0020));
    }

    #[test]
    fn finds_symbols() {
        let image = ElfImage::parse(build_elf(0x8000_0000, &[0; 8], 8)).unwrap();
        assert_eq!(image.symbol("tohost"), Some(0x8000_0100));
        assert_eq!(image.symbol("fromhost"), None);
        assert_eq!(image.symbol(""), None);
    }

    #[test]
    fn rejects_garbage_and_empty() {
        assert_eq!(ElfImage::parse(vec![]).unwrap_err(), ElfError::NotElf);
        assert_eq!(
            ElfImage::parse(b"hello world, not an elf".to_vec()).unwrap_err(),
            ElfError::NotElf
        );
    }

    #[test]
    fn rejects_wrong_class_endianness_and_machine() {
        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        elf[4] = 1;
        assert_eq!(ElfImage::parse(elf).unwrap_err(), ElfError::WrongClass(1));

        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        elf[5] = 2;
        assert_eq!(
            ElfImage::parse(elf).unwrap_err(),
            ElfError::WrongEndianness(2)
        );

        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        put16(&mut elf, 18, header::EM_X86_64);
        let err = ElfImage::parse(elf).unwrap_err();
        assert!(
            matches!(err, ElfError::WrongMachine { machine: 62, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("not a RISC-V ELF"));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let elf = build_elf(0x8000_0000, &[7; 64], 0x100);
        for len in 0..elf.len() {
            // Truncations inside the section data only lose the symbols.
            if let Err(e) = ElfImage::parse(elf[..len].to_vec()) {
                assert!(
                    matches!(e, ElfError::NotElf | ElfError::Truncated { .. }),
                    "len {len}: {e}"
                );
            }
        }
        let err = ElfImage::parse(elf[..100].to_vec()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("truncated ELF: program headers"),
            "{err}"
        );
    }

    #[test]
    fn corrupted_bytes_never_panic() {
        let elf = build_elf(0x8000_0000, &[7; 64], 0x100);
        // Flip each byte of the headers to a few values: parse either fails
        // cleanly or succeeds; symbol lookup never panics.
        for at in 0..elf.len() {
            for v in [0x00u8, 0xff, 0x80, 0x7f] {
                let mut bad = elf.clone();
                bad[at] = v;
                if let Ok(image) = ElfImage::parse(bad) {
                    let _ = image.symbol("tohost");
                    let _ = image.footprint();
                    let mut mem = FakeMemory::default();
                    let _ = image.load(&mut mem, &[DRAM]);
                }
            }
        }
    }

    #[test]
    fn rejects_segment_outside_memory() {
        let image = ElfImage::parse(build_elf(0x1000, &[0; 8], 8)).unwrap();
        let mut mem = FakeMemory::default();
        let err = image.load(&mut mem, &[DRAM]).unwrap_err();
        assert!(matches!(
            err,
            ElfError::SegmentOutsideMemory { start: 0x1000, .. }
        ));
        assert!(mem.bytes.is_empty(), "nothing written");
        assert!(err.to_string().contains("0x80000000..0x80100000"), "{err}");

        // Straddling the end of DRAM.
        let image = ElfImage::parse(build_elf(0x800f_fff0, &[0; 8], 0x20)).unwrap();
        assert!(image.placed_segments(&[DRAM]).is_err());
    }

    /// `build_elf`'s segment moved to file offset 0, so it starts with the
    /// headers, placed `below` bytes before DRAM.
    fn elf_with_headers_below_dram(code: &[u8], below: u64) -> Vec<u8> {
        let mut elf = build_elf(0x8000_0000, code, code.len() as u64);
        let code_off = 64 + 56;
        put64(&mut elf, 64 + 8, 0); // p_offset
        put64(&mut elf, 64 + 16, 0x8000_0000 - below); // p_vaddr
        put64(&mut elf, 64 + 24, 0x8000_0000 - below); // p_paddr
        put64(&mut elf, 64 + 32, code_off + code.len() as u64);
        put64(&mut elf, 64 + 40, code_off + code.len() as u64);
        elf
    }

    #[test]
    fn headers_below_memory_are_cut_off_as_qemu_drops_them() {
        // gcc -nostdlib -Wl,-Ttext=0x80000000: the headers sit just below DRAM.
        let image = ElfImage::parse(elf_with_headers_below_dram(&[1, 2, 3, 4], 120)).unwrap();
        let placed = image.placed_segments(&[DRAM]).unwrap();
        assert_eq!(placed[0].paddr, 0x8000_0000);
        assert_eq!(placed[0].file_offset, 120);
        assert_eq!(placed[0].mem_size, 4);
        let mut mem = FakeMemory::default();
        image.load(&mut mem, &[DRAM]).unwrap();
        assert_eq!(mem.bytes[&0x8000_0000], 1);
        assert_eq!(mem.bytes[&0x8000_0003], 4);
        assert_eq!(mem.bytes.len(), 4, "nothing written outside DRAM");

        // Code bytes below DRAM are not headers: still refused.
        let image = ElfImage::parse(elf_with_headers_below_dram(&[1, 2, 3, 4], 122)).unwrap();
        assert!(matches!(
            image.placed_segments(&[DRAM]),
            Err(ElfError::SegmentOutsideMemory { .. })
        ));
    }

    #[test]
    fn rejects_wrapping_and_inconsistent_segments() {
        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        put64(&mut elf, 64 + 24, u64::MAX - 2); // paddr near the top
        let err = ElfImage::parse(elf).unwrap_err();
        assert!(err.to_string().contains("wraps"), "{err}");

        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        put64(&mut elf, 64 + 40, 4); // memsz < filesz
        assert!(matches!(
            ElfImage::parse(elf).unwrap_err(),
            ElfError::Malformed(_)
        ));

        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        put32(&mut elf, 64, 0); // PT_NULL: nothing to load
        assert_eq!(
            ElfImage::parse(elf).unwrap_err(),
            ElfError::NoLoadableSegments
        );

        let mut elf = build_elf(0x8000_0000, &[0; 8], 8);
        put64(&mut elf, 64 + 32, 0x1_0000); // filesz past the end of the file
        put64(&mut elf, 64 + 40, 0x1_0000);
        assert!(matches!(
            ElfImage::parse(elf).unwrap_err(),
            ElfError::Truncated { .. }
        ));
    }

    #[test]
    fn refused_write_is_reported() {
        let image = ElfImage::parse(build_elf(0x8000_0000, &[0; 8], 0x2000)).unwrap();
        let mut mem = FakeMemory {
            refuse_at: Some(0x8000_0008),
            ..FakeMemory::default()
        };
        let err = image.load(&mut mem, &[DRAM]).unwrap_err();
        assert_eq!(
            err,
            ElfError::WriteFailed {
                index: 0,
                addr: 0x8000_0008
            }
        );
    }

    /// A real program from the firmware suite.
    const HELLO: &[u8] = include_bytes!("../../../firmware/bin/hello.elf");

    #[test]
    fn real_elf_parses_with_symbols() {
        let image = ElfImage::parse(HELLO.to_vec()).unwrap();
        assert_eq!(image.entry(), 0x8000_0000);
        assert!(image.symbol("tohost").is_some());
        assert!(image.symbol("fromhost").is_some());
        assert_ne!(image.symbol("tohost"), image.symbol("fromhost"));
    }

    #[test]
    fn real_elf_truncated_anywhere_never_panics() {
        let phdrs_end = 64 + 56 * usize::from(u16::from_le_bytes([HELLO[56], HELLO[57]]));
        for len in (0..HELLO.len()).step_by(7) {
            match ElfImage::parse(HELLO[..len].to_vec()) {
                Ok(image) => {
                    assert!(len >= phdrs_end, "len {len}");
                    let _ = image.symbol("tohost");
                }
                Err(e) => assert!(
                    matches!(e, ElfError::NotElf | ElfError::Truncated { .. }),
                    "len {len}: {e}"
                ),
            }
        }
    }

    #[test]
    fn real_elf_mutated_headers_never_panic() {
        // Every byte of the file header and program headers, set to values
        // that break sizes, counts and offsets in different ways.
        let phnum = usize::from(u16::from_le_bytes([HELLO[56], HELLO[57]]));
        for at in 0..(64 + 56 * phnum) {
            for v in [0x00u8, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = HELLO.to_vec();
                bad[at] = v;
                if let Ok(image) = ElfImage::parse(bad) {
                    let _ = image.symbol("tohost");
                    let _ = image.placed_segments(&[DRAM]);
                    let _ = image.footprint();
                }
            }
        }
    }

    #[test]
    fn footprint_spans_all_segments() {
        let image = ElfImage::parse(build_elf(0x8000_0000, &[0; 8], 0x3000)).unwrap();
        assert_eq!(image.footprint(), MemoryRange::new(0x8000_0000, 0x3000));
    }
}
