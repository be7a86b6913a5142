//! Real firmware nobody here wrote: Debian's OpenSBI (`fw_jump`) and
//! U-Boot for QEMU `virt` in S-mode, driven through a scripted console as a
//! person would type at it. The expected text is what QEMU prints for the
//! same session (`qemu-system-riscv64 -M virt -nographic -bios fw_jump.elf
//! -kernel uboot.elf`).
//!
//! Without the `opensbi` and `u-boot-qemu` packages the tests are built
//! `#[ignore]`d, so the run reports them as ignored (`tests/build.rs`),
//! except under CI (`CI=true`), where they run and fail.

use std::path::Path;
use std::time::Duration;

use ferrite_machine::{BoardKind, ImageSource, MachineConfig, RunOutcome};
use ferrite_tests::run_session;

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const FW_DYNAMIC: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf";
const UBOOT: &str = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf";

/// Instruction and host-time budgets of one session.
const BUDGET: u64 = 20_000_000_000;
const TIMEOUT: Duration = Duration::from_secs(600);

/// True if both images exist. When they do not: a notice and `false`, or a
/// failure under CI.
fn firmware_present() -> bool {
    let missing: Vec<&str> = [FW_JUMP, FW_DYNAMIC, UBOOT]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {missing:?} are missing (install the opensbi and u-boot-qemu packages)"
    );
    eprintln!("notice: skipping: {missing:?} missing (install opensbi and u-boot-qemu)");
    false
}

/// The session: (text to wait for, line to type then). Expected answers
/// are checked as the session goes; the texts are what QEMU prints.
const SESSION: &[(&str, &str)] = &[
    ("Hit any key to stop autoboot", "\n"),
    ("=> ", "version\n"),
    ("=> ", "bdinfo\n"),
    ("=> ", "md 0x80200000 4\n"),
    ("=> ", "poweroff\n"),
];

/// Lines the whole session must print, in this order.
const EXPECT_IN_ORDER: &[&str] = &[
    "OpenSBI v",
    "Platform Name             : riscv-virtio,qemu",
    "Platform HART Count       : 1",
    "Platform IPI Device       : aclint-mswi",
    "Platform Timer Device     : aclint-mtimer @ 10000000Hz",
    "Platform Console Device   : uart8250",
    "Platform Reboot Device    : sifive_test",
    "Platform Shutdown Device  : sifive_test",
    "Domain0 Next Address      : 0x0000000080200000",
    "Boot HART ID              : 0",
    "U-Boot 20",
    "Model: riscv-virtio,qemu",
    "DRAM:  128 MiB",
    "In:    serial@10000000",
    "=> version",
    "U-Boot 20",
    "=> bdinfo",
    "-> start    = 0x0000000080000000",
    "-> size     = 0x0000000008000000",
    "=> md 0x80200000 4",
    "80200000: 84ae822a 00000193 00085297 db02b283",
    "=> poweroff",
    "poweroff ...",
];

#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn opensbi_boots_uboot_and_answers_commands() {
    if !firmware_present() {
        return;
    }
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.bios = Some(ImageSource::file(FW_JUMP));
    config.kernel = Some(ImageSource::file(UBOOT));
    let (outcome, out) =
        run_session(config, SESSION, BUDGET, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let out = out.replace('\r', "");
    let mut rest = out.as_str();
    for want in EXPECT_IN_ORDER {
        match rest.find(want) {
            Some(at) => rest = &rest[at + want.len()..],
            None => panic!("missing {want:?} (in order); output:\n{out}"),
        }
    }
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
}

/// A raw disk image with a marker in sector 0, unique to this process.
fn disk_image() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("ferrite-uboot-disk-{}.img", std::process::id()));
    let mut image = vec![0u8; 4 << 20];
    image[..20].copy_from_slice(b"FERRITE-DISK-SECTOR0");
    std::fs::write(&path, image).expect("write disk image");
    path
}

#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn uboot_reads_a_virtio_block_device() {
    if !firmware_present() {
        return;
    }
    let disk = disk_image();
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.bios = Some(ImageSource::file(FW_JUMP));
    config.kernel = Some(ImageSource::file(UBOOT));
    config.drives = vec![ferrite_machine::config::DriveConfig {
        path: disk.clone(),
        read_only: true,
        slot: None,
    }];
    let steps: &[(&str, &str)] = &[
        ("Hit any key to stop autoboot", "\n"),
        ("=> ", "virtio info\n"),
        ("QEMU VirtIO Block Device", ""),
        ("Capacity: 4.0 MB", ""),
        ("=> ", "virtio read 0x81000000 0 1\n"),
        ("1 blocks read: OK", ""),
        ("=> ", "md.b 0x81000000 10\n"),
        (
            "81000000: 46 45 52 52 49 54 45 2d 44 49 53 4b 2d 53 45 43",
            "",
        ),
        ("=> ", "poweroff\n"),
    ];
    let result = run_session(config, steps, BUDGET, TIMEOUT);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
}

/// Boots `bios` + U-Boot on `harts` harts, stops autoboot, powers off;
/// returns the output after checking the run ended with status 0.
fn boot_and_power_off(bios: &str, harts: u32) -> String {
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.bios = Some(ImageSource::file(bios));
    config.kernel = Some(ImageSource::file(UBOOT));
    config.harts = harts;
    let steps = [
        ("Hit any key to stop autoboot", "\n"),
        ("=> ", "poweroff\n"),
    ];
    let (outcome, out) =
        run_session(config, &steps, BUDGET, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let out = out.replace('\r', "");
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
    out
}

#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn opensbi_brings_up_every_hart() {
    if !firmware_present() {
        return;
    }
    let out = boot_and_power_off(FW_JUMP, 4);
    for want in [
        "Platform HART Count       : 4",
        "Domain0 HARTs             : 0*,1*,2*,3*",
        "poweroff ...",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn fw_dynamic_finds_the_kernel_through_fw_dynamic_info() {
    if !firmware_present() {
        return;
    }
    let out = boot_and_power_off(FW_DYNAMIC, 1);
    for want in [
        "Domain0 Next Address      : 0x0000000080200000",
        "Domain0 Next Arg1         : 0x0000000087e00000",
        "Domain0 Next Mode         : S-mode",
        "U-Boot 20",
        "poweroff ...",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

/// U-Boot's `pci` commands against a bochs-display: the listing, the BARs
/// U-Boot assigned and the header, as QEMU 7.2 shows them for
/// `-device bochs-display` (the same text, captured from QEMU).
#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn uboot_lists_the_pci_devices_as_on_qemu() {
    if !firmware_present() {
        return;
    }
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.bios = Some(ImageSource::file(FW_JUMP));
    config.kernel = Some(ImageSource::file(UBOOT));
    config.pci_devices = vec![ferrite_machine::PciDeviceConfig::BochsDisplay {
        vram_size: ferrite_machine::config::DEFAULT_VGAMEM,
        edid: true,
    }];
    let steps: &[(&str, &str)] = &[
        ("Hit any key to stop autoboot", "\n"),
        ("=> ", "pci\n"),
        ("=> ", "pci bar 00.01.00\n"),
        ("=> ", "pci header 00.01.00\n"),
        ("=> ", "poweroff\n"),
    ];
    let (outcome, out) =
        run_session(config, steps, BUDGET, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let out = out.replace('\r', "");
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
    let qemu = "\
=> pci
BusDevFun  VendorId   DeviceId   Device Class       Sub-Class
_____________________________________________________________
00.00.00   0x1b36     0x0008     Bridge device           0x00
00.01.00   0x1234     0x1111     Display controller      0x80
=> pci bar 00.01.00
ID   Base                Size                Width  Type
----------------------------------------------------------
 0   0x0000000040000000  0x0000000001000000  32     MEM   Prefetchable
 2   0x0000000041000000  0x0000000000001000  32     MEM   
=> pci header 00.01.00
  vendor ID =                   0x1234
  device ID =                   0x1111
  command register ID =         0x0006
  status register =             0x0010
  revision ID =                 0x02
  class code =                  0x03 (Display controller)
  sub class code =              0x80
  programming interface =       0x00
  cache line =                  0x08
  latency time =                0x00
  header type =                 0x00
  BIST =                        0x00
  base address 0 =              0x40000008
  base address 1 =              0x00000000
  base address 2 =              0x41000000
  base address 3 =              0x00000000
  base address 4 =              0x00000000
  base address 5 =              0x00000000
  cardBus CIS pointer =         0x00000000
  sub system vendor ID =        0x1af4
  sub system ID =               0x1100
  expansion ROM base address =  0x41008000
  interrupt line =              0x00
  interrupt pin =               0x00
  min Grant =                   0x00
  max Latency =                 0x00
";
    assert!(
        out.contains(qemu),
        "U-Boot's pci output differs from QEMU's:\n{out}"
    );
}

/// U-Boot's CFI flash driver on the virt board's second flash bank: it
/// finds the bank, reads what the file holds, erases a sector, programs it
/// with `cp`, and the file holds the new bytes after the run.
#[test]
#[cfg_attr(
    firmware_packages_missing,
    ignore = "Debian's opensbi and u-boot-qemu are not installed"
)]
fn uboot_erases_and_programs_the_flash() {
    if !firmware_present() {
        return;
    }
    let image =
        std::env::temp_dir().join(format!("ferrite-uboot-flash-{}.img", std::process::id()));
    let mut bytes = vec![0u8; 32 << 20];
    bytes[..13].copy_from_slice(b"FERRITE-FLASH");
    bytes[0x40000..0x40010].fill(0x5a);
    std::fs::write(&image, &bytes).expect("flash image");
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.bios = Some(ImageSource::file(FW_JUMP));
    config.kernel = Some(ImageSource::file(UBOOT));
    config.pflash[1] = Some(image.clone());
    let steps: &[(&str, &str)] = &[
        ("Hit any key to stop autoboot", "\n"),
        ("=> ", "flinfo\n"),
        ("=> ", "md.b 0x22000000 10\n"),
        ("=> ", "mw.l 0x81000000 0x12345678 4\n"),
        ("=> ", "protect off 0x22040000 +0x40000\n"),
        ("=> ", "erase 0x22040000 +0x40000\n"),
        ("=> ", "cp.b 0x81000000 0x22040000 0x10\n"),
        ("=> ", "md.b 0x22040000 20\n"),
        ("=> ", "poweroff\n"),
    ];
    let result = run_session(config, steps, BUDGET, TIMEOUT);
    let after = std::fs::read(&image).expect("flash image after");
    let _ = std::fs::remove_file(&image);
    let (outcome, out) = result.unwrap_or_else(|e| panic!("{e}"));
    let out = out.replace('\r', "");
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
    for want in [
        // Both banks, 32 MiB each (QEMU's U-Boot sees half of each).
        "Flash: 64 MiB",
        "Bank # 2: CFI conformant flash (16 x 16)  Size: 32 MB in 128 Sectors",
        "  Intel Extended command set, Manufacturer ID: 0x89, Device ID: 0x0018",
        "22000000: 46 45 52 52 49 54 45 2d 46 4c 41 53 48 00 00 00  FERRITE-FLASH...",
        "Erased 1 sectors",
        "22040000: 78 56 34 12 78 56 34 12 78 56 34 12 78 56 34 12  xV4.xV4.xV4.xV4.",
        "22040010: ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff  ................",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert_eq!(&after[..13], b"FERRITE-FLASH", "the rest of the file stays");
    assert_eq!(&after[0x40000..0x40004], &[0x78, 0x56, 0x34, 0x12]);
    assert!(after[0x40010..0x80000].iter().all(|&b| b == 0xff), "erased");
}
