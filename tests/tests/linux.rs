//! Debian 13's own riscv64 Linux kernel (package `linux-image-riscv64`) on
//! the virt board under Debian's OpenSBI, with an initramfs built here from
//! Debian's `busybox-static`: to a shell on one hart and on four, and with
//! the root on a virtio disk (the kernel's own `virtio_mmio`, `virtio_blk`
//! and `ext4` modules loaded from the initramfs). The expected answers are
//! QEMU's for the same kernel and initramfs (`scripts/linux.sh`).
//!
//! The packages are fetched by `scripts/linux.sh fetch` (`.ci/run` does);
//! until then the tests are built `#[ignore]`d (`tests/build.rs`). Run
//! with `--ignored` they try the fetch themselves and, where it fails,
//! print a notice and skip — except under `CI=true`, where they fail.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use ferrite_machine::{BoardKind, ImageSource, MachineConfig, RunOutcome};
use ferrite_tests::run_session;

const FW_JUMP: &str = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

/// Budgets of one boot (a boot to the shell takes about 1.4 billion
/// instructions on one hart).
const BUDGET: u64 = 30_000_000_000;
const TIMEOUT: Duration = Duration::from_secs(600);

/// The prompt of busybox's shell as root in its home directory.
const PROMPT: &str = "~ # ";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The fetched packages and what `scripts/linux.sh build` made from them.
struct Guest {
    kernel: PathBuf,
    initramfs: PathBuf,
    disk: PathBuf,
}

/// Builds the initramfs and the disk image once for every test of this
/// file (fetching the packages first if they are not there). `None`, with
/// a notice, where that fails — a failure under `CI=true`.
fn guest() -> Option<&'static Guest> {
    static GUEST: OnceLock<Option<Guest>> = OnceLock::new();
    GUEST
        .get_or_init(|| {
            let out = std::env::temp_dir().join(format!("ferrite-linux-{}", std::process::id()));
            let script = workspace().join("scripts/linux.sh");
            let cache = PathBuf::from(env!("FERRITE_DEBIAN_GUEST_DIR"));
            let built = std::process::Command::new("bash")
                .arg(&script)
                .arg("build")
                .arg(&out)
                .env("FERRITE_DEBIAN_DIR", &cache)
                .output();
            let problem = match &built {
                Err(e) => Some(format!("cannot run {}: {e}", script.display())),
                Ok(o) if !o.status.success() => Some(format!(
                    "{} build failed: {}",
                    script.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Ok(_) if !Path::new(FW_JUMP).exists() => {
                    Some(format!("{FW_JUMP} is missing (install opensbi)"))
                }
                Ok(_) => None,
            };
            if let Some(problem) = problem {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but the Linux guest cannot be built: {problem}"
                );
                eprintln!("notice: skipping the Linux boots: {problem}");
                return None;
            }
            Some(Guest {
                kernel: cache.join("Image"),
                initramfs: out.join("initramfs.cpio.gz"),
                disk: out.join("root.ext4"),
            })
        })
        .as_ref()
}

fn config(guest: &Guest, harts: u32, append: &str) -> MachineConfig {
    let mut config = MachineConfig::new(BoardKind::Virt);
    config.ram_size = 512 << 20;
    config.harts = harts;
    config.bios = Some(ImageSource::file(FW_JUMP));
    config.kernel = Some(ImageSource::file(&guest.kernel));
    config.initrd = Some(ImageSource::file(&guest.initramfs));
    config.bootargs = Some(append.to_string());
    config
}

/// The text between the first `command` echoed after a prompt and the
/// next prompt: what the command printed.
fn answer<'a>(out: &'a str, command: &str) -> &'a str {
    let echoed = format!("{command}\n");
    let start = out
        .find(&echoed)
        .unwrap_or_else(|| panic!("{command:?} was not echoed; output:\n{out}"))
        + echoed.len();
    let rest = &out[start..];
    &rest[..rest.find(PROMPT).unwrap_or(rest.len())]
}

/// Boots to the shell, runs the commands, powers off; returns the output
/// (carriage returns dropped).
fn session(config: MachineConfig, commands: &[&str]) -> String {
    let mut steps: Vec<(&str, String)> = commands
        .iter()
        .map(|c| (PROMPT, format!("{c}\n")))
        .collect();
    steps.push((PROMPT, "poweroff -f\n".into()));
    let steps: Vec<(&str, &str)> = steps.iter().map(|(w, s)| (*w, s.as_str())).collect();
    let (outcome, out) =
        run_session(config, &steps, BUDGET, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let out = out.replace('\r', "");
    // `poweroff -f`: SBI system reset, OpenSBI's write to the test finisher.
    assert_eq!(outcome, RunOutcome::Exited(0), "output:\n{out}");
    out
}

/// The counts of the `/proc/interrupts` line ending in `name`, one a CPU.
fn interrupt_counts(interrupts: &str, name: &str) -> Vec<u64> {
    let line = interrupts
        .lines()
        .find(|l| l.trim_end().ends_with(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{interrupts}"));
    line.split_whitespace()
        .skip(1)
        .map_while(|w| w.parse().ok())
        .collect()
}

#[test]
#[cfg_attr(
    linux_guest_missing,
    ignore = "Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch)"
)]
fn debian_linux_boots_to_a_busybox_shell() {
    let Some(guest) = guest() else { return };
    let out = session(
        config(guest, 1, "console=ttyS0 panic=1"),
        &["uname -a", "cat /proc/cpuinfo", "nproc"],
    );
    for want in [
        "OpenSBI v1.1",
        "Platform Name             : riscv-virtio,qemu",
        "Linux version 6.12.117+deb13-riscv64",
        "Machine model: riscv-virtio,qemu",
        "Trying to unpack rootfs image as initramfs",
        "Run /init as init process",
        "initramfs shell",
        "BusyBox v1.37.0 (Debian 1:1.37.0-6+b9) built-in shell (ash)",
    ] {
        assert!(out.contains(want), "missing {want:?}; output:\n{out}");
    }
    let uname = answer(&out, "uname -a");
    assert!(
        uname.starts_with("Linux (none) 6.12.117+deb13-riscv64 #1 SMP Debian 6.12.117-1 (")
            && uname.trim_end().ends_with(") riscv64 GNU/Linux"),
        "{uname:?}"
    );
    let cpuinfo = answer(&out, "cat /proc/cpuinfo");
    for want in [
        "processor\t: 0\n",
        "hart\t\t: 0\n",
        "isa\t\t: rv64imafdc_",
        "mmu\t\t: sv57\n",
        "mvendorid\t: 0x0\n",
    ] {
        assert!(cpuinfo.contains(want), "missing {want:?} in:\n{cpuinfo}");
    }
    assert!(!cpuinfo.contains("processor\t: 1"), "{cpuinfo}");
    assert_eq!(answer(&out, "nproc").trim(), "1");
}

#[test]
#[cfg_attr(
    linux_guest_missing,
    ignore = "Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch)"
)]
fn four_harts_all_come_up_and_take_interrupts() {
    let Some(guest) = guest() else { return };
    let out = session(
        config(guest, 4, "console=ttyS0 panic=1"),
        &["nproc", "cat /proc/interrupts", "cat /proc/cpuinfo"],
    );
    assert!(out.contains("Platform HART Count       : 4"), "{out}");
    assert!(out.contains("smp: Brought up 1 node, 4 CPUs"), "{out}");
    assert_eq!(answer(&out, "nproc").trim(), "4");
    let interrupts = answer(&out, "cat /proc/interrupts");
    // Every hart's timer fires, and every hart has been sent IPIs.
    for name in [
        "riscv-timer",
        "Rescheduling interrupts",
        "Function call interrupts",
    ] {
        let counts = interrupt_counts(interrupts, name);
        assert_eq!(counts.len(), 4, "{name}: {interrupts}");
        if name == "riscv-timer" {
            assert!(counts.iter().all(|&c| c > 0), "{name}: {interrupts}");
        } else {
            assert!(counts.iter().sum::<u64>() > 0, "{name}: {interrupts}");
        }
    }
    let cpuinfo = answer(&out, "cat /proc/cpuinfo");
    for hart in 0..4 {
        assert!(
            cpuinfo.contains(&format!("hart\t\t: {hart}\n")),
            "hart {hart}:\n{cpuinfo}"
        );
    }
}

#[test]
#[cfg_attr(
    linux_guest_missing,
    ignore = "Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch)"
)]
fn the_root_moves_to_a_virtio_disk_and_writes_reach_the_image() {
    let Some(guest) = guest() else { return };
    let disk = std::env::temp_dir().join(format!("ferrite-linux-disk-{}.ext4", std::process::id()));
    std::fs::copy(&guest.disk, &disk).expect("copy the disk image");
    let mut config = config(guest, 1, "console=ttyS0 root=/dev/vda panic=1");
    config.drives = vec![disk.display().to_string().parse().expect("drive")];
    let out = session(
        config,
        &[
            "cat /proc/mounts",
            "echo written-in-the-guest > /note.txt && sync",
        ],
    );
    assert!(out.contains("virtio_blk virtio0: [vda]"), "{out}");
    assert!(out.contains("disk root shell"), "{out}");
    let mounts = answer(&out, "cat /proc/mounts");
    assert!(mounts.contains("/dev/vda / ext4 rw"), "{mounts}");
    let dumped = std::process::Command::new("debugfs")
        .args(["-R", "cat /note.txt"])
        .arg(&disk)
        .output()
        .expect("debugfs (e2fsprogs) runs");
    let _ = std::fs::remove_file(&disk);
    assert_eq!(
        String::from_utf8_lossy(&dumped.stdout),
        "written-in-the-guest\n",
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
}

#[test]
#[cfg_attr(
    linux_guest_missing,
    ignore = "Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch)"
)]
fn a_panicked_boot_with_panic_1_ends_in_a_reset() {
    let Some(guest) = guest() else { return };
    // No initramfs and no disk: the kernel cannot mount a root, panics,
    // and with panic=1 asks for a reset a second later.
    let mut config = config(guest, 1, "console=ttyS0 panic=1");
    config.initrd = None;
    let limits = ferrite_machine::RunLimits {
        max_insns: Some(BUDGET),
        timeout: Some(TIMEOUT),
    };
    let run = ferrite_tests::run_captured(config, b"", limits).expect("board builds");
    assert!(
        run.output
            .contains("Kernel panic - not syncing: VFS: Unable to mount root fs"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("Rebooting in 1 seconds"),
        "{}",
        run.output
    );
    assert_eq!(run.outcome, RunOutcome::Reset, "{}", run.output);
    assert_eq!(run.outcome.exit_status(), 120);
}

/// Linux's own bochs DRM driver on `--device bochs-display`: it finds the
/// device, reads the EDID block (whose 1280×800 becomes the preferred
/// mode), starts its frame-buffer console, and what the shell writes to
/// `/dev/fb0` reaches the screen. QEMU 7.2 prints the same driver lines
/// and shows the same picture for this kernel and initramfs (only its
/// longer EDID mode list differs).
#[test]
#[cfg_attr(
    linux_guest_missing,
    ignore = "Debian's riscv64 kernel and busybox are not fetched (scripts/linux.sh fetch)"
)]
fn linux_drives_the_bochs_display() {
    let Some(guest) = guest() else { return };
    let png = std::env::temp_dir().join(format!("ferrite-linux-bochs-{}.png", std::process::id()));
    let mut config = config(guest, 1, "console=ttyS0 panic=1 display");
    config.pci_devices = vec![ferrite_machine::PciDeviceConfig::BochsDisplay {
        vram_size: ferrite_machine::config::DEFAULT_VGAMEM,
        edid: true,
    }];
    config.displays = vec![ferrite_display::BackendSpec::Png(png.display().to_string())];
    // 40 rows of red pixels (x-r-g-b, little endian), then a pause for the
    // driver's deferred flush of the frame-buffer console's shadow.
    let draw = "i=0; while [ $i -lt 200 ]; do printf '\\000\\000\\377\\000%.0s' $(seq 1 256); i=$((i+1)); done > /dev/fb0; sleep 1";
    let out = session(
        config,
        &[
            "dmesg | grep -E 'drm|0000:00:01.0'",
            "cat /sys/class/drm/card0-*/modes",
            "cat /sys/class/graphics/fb0/virtual_size",
            draw,
        ],
    );
    let dmesg = answer(&out, "dmesg | grep -E 'drm|0000:00:01.0'");
    for want in [
        "pci 0000:00:01.0: [1234:1111] type 00 class 0x038000 PCIe Root Complex Integrated Endpoint",
        "pci 0000:00:01.0: BAR 0 [mem 0x40000000-0x40ffffff pref]: assigned",
        "bochs-drm 0000:00:01.0: enabling device (0000 -> 0002)",
        "[drm] Found bochs VGA, ID 0xb0c5.",
        "[drm] Framebuffer size 16384 kB @ 0x40000000, mmio @ 0x41008000.",
        "[drm] Found EDID data blob.",
        "[drm] Initialized bochs-drm 1.0.0 for 0000:00:01.0 on minor 0",
        "bochs-drm 0000:00:01.0: [drm] fb0: bochs-drmdrmfb frame buffer device",
    ] {
        assert!(dmesg.contains(want), "missing {want:?} in:\n{dmesg}");
    }
    let modes = answer(&out, "cat /sys/class/drm/card0-*/modes");
    assert!(modes.trim_start().starts_with("1280x800"), "{modes}");
    for m in ["1024x768", "800x600", "640x480"] {
        assert!(modes.contains(m), "{m} missing in {modes}");
    }
    assert_eq!(
        answer(&out, "cat /sys/class/graphics/fb0/virtual_size").trim(),
        "1280,800"
    );
    let picture = ferrite_display::png::read_png(&png).expect("the PNG written at exit");
    let _ = std::fs::remove_file(&png);
    assert_eq!((picture.width(), picture.height()), (1280, 800));
    assert_eq!(picture.pixel(500, 20), 0xff0000, "the shell's red rows");
    assert_eq!(picture.pixel(500, 200), 0, "black below them");
}
