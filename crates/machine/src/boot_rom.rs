//! Boot ROM contents: the reset vector every hart starts at.
//!
//! `virt` follows QEMU's `riscv_setup_rom_reset_vec`: at the ROM base,
//!
//! ```text
//! 0x00: auipc t0, 0              ; t0 = ROM base
//! 0x04: addi  a2, t0, 40         ; a2 = &fw_dynamic_info
//! 0x08: csrr  a0, mhartid        ; a0 = hart id
//! 0x0c: ld    a1, 32(t0)         ; a1 = device tree address
//! 0x10: ld    t0, 24(t0)         ; t0 = firmware entry
//! 0x14: jr    t0
//! 0x18: .dword start_addr
//! 0x20: .dword fdt_addr
//! 0x28: fw_dynamic_info { magic "OSBI", version 2, next_addr, next_mode S,
//!                         options 0, boot_hart 0 }
//! ```
//!
//! so OpenSBI's `fw_dynamic` finds the next stage, and `fw_jump`, bare-metal
//! programs and kernels get `a0 = hartid`, `a1 = fdt` as they expect.
//!
//! `spike` follows Spike's boot ROM: `a0 = hartid`, `a1 = fdt` (the tree is
//! placed in the ROM right after the vector), then a jump to the entry.

/// `fw_dynamic_info.magic`: "OSBI" read as a little-endian word.
pub const FW_DYNAMIC_INFO_MAGIC: u64 = 0x4942_534f;
/// `fw_dynamic_info.version` QEMU passes.
pub const FW_DYNAMIC_INFO_VERSION: u64 = 2;
/// `fw_dynamic_info.next_mode` for S-mode.
pub const FW_DYNAMIC_NEXT_MODE_S: u64 = 1;

/// Offset of `fw_dynamic_info` inside the `virt` ROM.
pub const VIRT_FW_DYNAMIC_INFO_OFFSET: u64 = 0x28;

/// Builds the `virt` boot ROM image: reset vector, then `fw_dynamic_info`.
///
/// `start` is where the first stage begins (the bios entry, or the kernel
/// entry with `--bios none`), `fdt` the device tree address, `next` the
/// address OpenSBI's `fw_dynamic` jumps to (the kernel start, or 0).
pub fn virt_rom(start: u64, fdt: u64, next: u64) -> Vec<u8> {
    let code: [u32; 6] = [
        0x0000_0297, // auipc t0, 0
        0x0282_8613, // addi  a2, t0, 40
        0xf140_2573, // csrr  a0, mhartid
        0x0202_b583, // ld    a1, 32(t0)
        0x0182_b283, // ld    t0, 24(t0)
        0x0002_8067, // jr    t0
    ];
    let mut rom = Vec::with_capacity(0x58);
    for word in code {
        rom.extend_from_slice(&word.to_le_bytes());
    }
    for dword in [
        start,
        fdt,
        FW_DYNAMIC_INFO_MAGIC,
        FW_DYNAMIC_INFO_VERSION,
        next,
        FW_DYNAMIC_NEXT_MODE_S,
        0, // options
        0, // boot_hart
    ] {
        rom.extend_from_slice(&dword.to_le_bytes());
    }
    rom
}

/// Offset of the device tree inside the `spike` ROM: right after the
/// vector and its start address, where Spike puts it (so the reset code,
/// `addi a1, t0, 32` included, is Spike's word for word).
pub const SPIKE_FDT_OFFSET: u64 = 0x20;

/// Builds the `spike` boot ROM image: reset vector, then the device tree at
/// [`SPIKE_FDT_OFFSET`].
pub fn spike_rom(start: u64, fdt_blob: &[u8]) -> Vec<u8> {
    let code: [u32; 6] = [
        0x0000_0297,                                     // auipc t0, 0
        0x0002_8593 | ((SPIKE_FDT_OFFSET as u32) << 20), // addi a1, t0, fdt
        0xf140_2573,                                     // csrr  a0, mhartid
        0x0182_b283,                                     // ld    t0, 24(t0)
        0x0002_8067,                                     // jr    t0
        0,                                               // padding
    ];
    let mut rom = Vec::with_capacity(SPIKE_FDT_OFFSET as usize + fdt_blob.len());
    for word in code {
        rom.extend_from_slice(&word.to_le_bytes());
    }
    rom.extend_from_slice(&start.to_le_bytes());
    rom.resize(SPIKE_FDT_OFFSET as usize, 0);
    rom.extend_from_slice(fdt_blob);
    rom
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dword(rom: &[u8], at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&rom[at..at + 8]);
        u64::from_le_bytes(b)
    }

    #[test]
    fn virt_rom_layout_matches_the_loads() {
        let rom = virt_rom(0x8000_0000, 0x87e0_0000, 0x8020_0000);
        // ld a1, 32(t0): imm field of the I-type word.
        let ld_a1 = u32::from_le_bytes([rom[12], rom[13], rom[14], rom[15]]);
        assert_eq!(ld_a1 >> 20, 32);
        let ld_t0 = u32::from_le_bytes([rom[16], rom[17], rom[18], rom[19]]);
        assert_eq!(ld_t0 >> 20, 24);
        assert_eq!(dword(&rom, 24), 0x8000_0000);
        assert_eq!(dword(&rom, 32), 0x87e0_0000);
        let info = VIRT_FW_DYNAMIC_INFO_OFFSET as usize;
        assert_eq!(dword(&rom, info), FW_DYNAMIC_INFO_MAGIC);
        assert_eq!(dword(&rom, info + 8), 2);
        assert_eq!(dword(&rom, info + 16), 0x8020_0000);
        assert_eq!(dword(&rom, info + 24), 1);
    }

    #[test]
    fn spike_rom_points_a1_at_the_tree() {
        let rom = spike_rom(0x8000_0000, b"\xd0\x0d\xfe\xed");
        let addi = u32::from_le_bytes([rom[4], rom[5], rom[6], rom[7]]);
        assert_eq!(u64::from(addi >> 20), SPIKE_FDT_OFFSET);
        assert_eq!(dword(&rom, 24), 0x8000_0000);
        assert_eq!(&rom[0x20..0x24], b"\xd0\x0d\xfe\xed");
    }
}
