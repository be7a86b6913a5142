//! Behaviour of the `ferrite` binary: options, errors, exit statuses,
//! `--stats`, the default guest.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{FERRITE, ferrite, stderr, stdout, workspace};

fn hello_elf() -> PathBuf {
    workspace().join("firmware/bin/hello.elf")
}

/// A scratch file unique to this test process.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrite-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write scratch file");
    path
}

/// A minimal RISC-V ELF64 whose one segment holds `code` at 0x80000000.
fn tiny_elf(code: &[u32]) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // 64-bit
    f[5] = 1; // little endian
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&0x8000_0000u64.to_le_bytes()); // entry
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    let size = (code.len() * 4) as u64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&7u32.to_le_bytes());
    f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes()); // offset
    f[ph + 16..ph + 24].copy_from_slice(&0x8000_0000u64.to_le_bytes());
    f[ph + 24..ph + 32].copy_from_slice(&0x8000_0000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&size.to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&size.to_le_bytes());
    for word in code {
        f.extend_from_slice(&word.to_le_bytes());
    }
    f
}

/// `j .`
const JUMP_TO_SELF: u32 = 0x0000_006f;
/// `wfi`
const WFI: u32 = 0x1050_0073;
/// `j .-4`
const JUMP_BACK_4: u32 = 0xffdf_f06f;

fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn version() {
    let o = ferrite(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("ferrite {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_option_is_a_usage_error() {
    let o = ferrite(&["run", "--no-such-option"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--no-such-option"), "{}", stderr(&o));
}

#[test]
fn missing_file() {
    let o = ferrite(&["run", "/nonexistent/guest.elf"]);
    assert_one_line_error(&o, "cannot read kernel /nonexistent/guest.elf");
}

#[test]
fn broken_elves() {
    let hello = std::fs::read(hello_elf()).expect("hello.elf");
    let truncated = scratch("truncated.elf", &hello[..hello.len() / 3]);
    let o = ferrite(&["run", truncated.to_str().unwrap()]);
    assert_one_line_error(&o, "truncated ELF");

    let garbage = scratch("garbage.elf", b"this is not an ELF file at all");
    let o = ferrite(&["run", garbage.to_str().unwrap()]);
    assert_one_line_error(&o, "not an ELF");

    let mut x86 = hello.clone();
    x86[18..20].copy_from_slice(&62u16.to_le_bytes());
    let x86 = scratch("x86.elf", &x86);
    let o = ferrite(&["run", x86.to_str().unwrap()]);
    assert_one_line_error(&o, "not a RISC-V ELF");

    let mut elf32 = hello;
    elf32[4] = 1;
    let elf32 = scratch("elf32.elf", &elf32);
    let o = ferrite(&["run", elf32.to_str().unwrap()]);
    assert_one_line_error(&o, "not a 64-bit ELF");
}

#[test]
fn zero_memory_is_refused() {
    let o = ferrite(&["run", "-m", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("greater than 0"), "{}", stderr(&o));
}

#[test]
fn unknown_machine() {
    let o = ferrite(&["run", "--machine", "sifive_u"]);
    assert_one_line_error(&o, "unknown machine `sifive_u`");
    let o = ferrite(&["mtree", "--machine", "pc"]);
    assert_one_line_error(&o, "unknown machine `pc`");
}

#[test]
fn bad_device_tree() {
    let bad = scratch("bad.dtb", b"\xd0\x0d\xfe\xed\x00\x00\xff\xff");
    let o = ferrite(&["run", "--dtb", bad.to_str().unwrap()]);
    assert_one_line_error(&o, "device tree");
    let not_fdt = scratch("not.dtb", b"hello");
    let o = ferrite(&["run", "--dtb", not_fdt.to_str().unwrap()]);
    assert_one_line_error(&o, "not a flattened device tree");
}

#[test]
fn kernel_overlapping_bios() {
    let hello = hello_elf();
    let h = hello.to_str().unwrap();
    let o = ferrite(&["run", "--bios", h, "--kernel", h]);
    assert_one_line_error(&o, "overlaps the bios");
}

#[test]
fn segment_outside_memory() {
    let o = ferrite(&["run", "-m", "4K", hello_elf().to_str().unwrap()]);
    assert_one_line_error(&o, "outside guest memory");
}

#[test]
fn spike_needs_tohost() {
    let elf = scratch("loop-nosyms.elf", &tiny_elf(&[JUMP_TO_SELF]));
    let o = ferrite(&["run", "--machine", "spike", elf.to_str().unwrap()]);
    assert_one_line_error(&o, "no `tohost` symbol");
}

#[test]
fn instruction_limit_exit_status() {
    let elf = scratch("loop.elf", &tiny_elf(&[JUMP_TO_SELF]));
    let o = ferrite(&[
        "run",
        "--max-insns",
        "100000",
        "--serial",
        "null",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(123), "{}", stderr(&o));
    assert!(stderr(&o).contains("instruction limit"), "{}", stderr(&o));
}

#[test]
fn timeout_exit_status() {
    let elf = scratch("loop2.elf", &tiny_elf(&[JUMP_TO_SELF]));
    let o = ferrite(&[
        "run",
        "--timeout",
        "0.2",
        "--serial",
        "null",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(124), "{}", stderr(&o));
    assert!(stderr(&o).contains("timeout"), "{}", stderr(&o));
}

#[test]
fn stuck_guest_exit_status() {
    let elf = scratch("wfi.elf", &tiny_elf(&[WFI, JUMP_BACK_4]));
    let o = ferrite(&[
        "run",
        "--serial",
        "null",
        "--timeout",
        "30",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(122), "{}", stderr(&o));
}

#[test]
fn stats_fields() {
    let o = ferrite(&["run", "--stats", hello_elf().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for field in [
        "retired instructions:",
        "blocks translated:",
        "TLB fills:",
        "TLB flushes:",
        "MIPS:",
    ] {
        assert!(err.contains(field), "missing {field:?} in {err}");
    }
    let insns: u64 = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("retired instructions:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a count");
    assert!(insns > 100, "{insns}");
    for field in [
        "blocks invalidated:",
        "TLB slow accesses:",
        "stores beside code:",
    ] {
        assert!(err.contains(field), "missing {field:?} in {err}");
    }
}

#[test]
fn profile_lists_the_hottest_blocks_by_symbol_and_changes_nothing() {
    let elf = hello_elf();
    let plain = ferrite(&["run", "--stats", elf.to_str().unwrap()]);
    let o = ferrite(&["run", "--stats", "--profile", elf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&plain), "the same run");
    let err = stderr(&o);
    let count = |s: &str| {
        s.lines()
            .find_map(|l| l.trim().strip_prefix("retired instructions:"))
            .map(|v| v.trim().to_string())
    };
    assert_eq!(count(&err), count(&stderr(&plain)));
    let header = err
        .lines()
        .find(|l| l.starts_with("ferrite: profile of hart 0: "))
        .unwrap_or_else(|| panic!("no profile in {err}"));
    assert!(header.ends_with(" blocks"), "{header}");
    // The hottest block is named by the function it lies in, and the rows'
    // shares only grow.
    let rows: Vec<&str> = err.lines().filter(|l| l.contains("  0x0000")).collect();
    assert!(!rows.is_empty() && rows.len() <= 25, "{err}");
    assert!(rows[0].contains('+'), "a symbol: {}", rows[0]);
    let cumul: Vec<f64> = rows
        .iter()
        .filter_map(|r| {
            r.split_whitespace()
                .nth(1)?
                .trim_end_matches('%')
                .parse()
                .ok()
        })
        .collect();
    assert!(cumul.windows(2).all(|w| w[0] <= w[1]), "{cumul:?}");
    assert!(err.contains("  engine: "), "{err}");
}

#[test]
fn the_built_in_guest_shows_the_board_a_benchmark_and_what_next() {
    for machine in ["virt", "spike"] {
        let o = ferrite(&["run", "--machine", machine]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        for line in [
            "Ferrite: a RISC-V system emulator",
            &format!("Board: {machine}"),
            "Integer benchmark (CRC, sort, matrix product):",
            "Self-modifying code: written, run, rewritten, run again: ok",
            "Next:",
        ] {
            assert!(out.contains(line), "{machine}: {line:?} missing in {out}");
        }
        let err = stderr(&o);
        assert!(
            err.contains("instructions in") && err.contains("MIPS"),
            "{machine}: the speed line: {err}"
        );
    }
}

#[test]
fn spike_runs_htif_programs() {
    let o = ferrite(&["run", "--machine", "spike", hello_elf().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Hello from Ferrite!"), "{}", stdout(&o));
}

#[test]
fn failing_guest_status_passes_through() {
    let fail = workspace().join("firmware/bin/fail.elf");
    let o = ferrite(&["run", fail.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn dump_dtb_writes_a_device_tree() {
    let dir = std::env::temp_dir().join(format!("ferrite-cli-dtb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("virt.dtb");
    let o = ferrite(&["run", "--smp", "2", "--dump-dtb", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let blob = std::fs::read(&path).unwrap();
    assert_eq!(&blob[..4], b"\xd0\x0d\xfe\xed");
    // The dumped tree is accepted back.
    let o = ferrite(&["run", "--dtb", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn log_items() {
    let o = ferrite(&["run", "-d", "help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("in_asm"));
    let o = ferrite(&["run", "-d", "bogus"]);
    assert_one_line_error(&o, "unknown log item `bogus`");
}

#[test]
fn mtree_lists_the_virt_map() {
    let o = ferrite(&["mtree"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for name in [
        "riscv_virt_board.mrom",
        "riscv.sifive.test",
        "serial",
        "riscv_virt_board.ram",
    ] {
        assert!(out.contains(name), "{name} missing in {out}");
    }
    let o = ferrite(&["mtree", "-f", "--machine", "spike", "-m", "64M"]);
    assert!(
        stdout(&o).contains("0000000080000000-0000000083ffffff"),
        "{}",
        stdout(&o)
    );
}

/// `info mtree` text as blocks to compare: blank lines dropped, each block (the names of
/// the spaces sharing a root with their tree, or a `memory-region:` tree)
/// kept whole, and the blocks sorted, since QEMU prints the spaces in the
/// order of a hash table.
fn mtree_blocks(text: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    let mut header = false;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("fwcfg."))
    {
        let is_header = line.starts_with("address-space:") || line.starts_with("memory-region:");
        if blocks.is_empty() || (is_header && !header) {
            blocks.push(String::new());
        }
        header = is_header;
        let block = blocks.last_mut().expect("pushed");
        block.push_str(line);
        block.push('\n');
    }
    blocks.sort();
    blocks
}

/// `ferrite mtree` against QEMU 7.2's `info mtree` for the same options,
/// region for region (`golden/qemu-mtree/*.txt`, captured once from
/// `qemu-system-riscv64 -M virt -bios none OPTIONS` with `info mtree`):
/// names, sizes, the PCIe windows as aliases of the host's regions, the
/// flash banks as ROM devices, fw_cfg, the platform bus, the I/O space,
/// each hart's space sharing the system tree, each PCI function's
/// bus-master space.
#[test]
fn mtree_matches_qemus_region_for_region() {
    for (fixture, args) in [
        ("virt", &[][..]),
        ("virt-smp4-1G", &["--smp", "4", "-m", "1G"][..]),
        ("virt-bochs", &["--device", "bochs-display"][..]),
        ("virt-20G", &["-m", "20G"][..]),
    ] {
        let mut cmd = vec!["mtree"];
        cmd.extend(args);
        let o = ferrite(&cmd);
        assert!(o.status.success(), "{}", stderr(&o));
        let ours = stdout(&o);
        let path = workspace().join(format!("crates/cli/tests/golden/qemu-mtree/{fixture}.txt"));
        let qemu = std::fs::read_to_string(&path).expect("QEMU's mtree fixture");
        assert!(
            qemu.contains("fwcfg.data"),
            "{fixture}: a real QEMU capture"
        );
        let (a, b) = (mtree_blocks(&ours), mtree_blocks(&qemu));
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{fixture}: Ferrite's block, then QEMU's");
        }
        assert_eq!(a.len(), b.len(), "{fixture}: blocks\n{ours}");
    }
    // -D shows what the default hides: each function's bus-master alias.
    let o = ferrite(&["mtree", "-D"]);
    assert!(
        stdout(&o).contains(
            "    0000000000000000-ffffffffffffffff (prio 0, i/o): alias bus master @system 0000000000000000-ffffffffffffffff [disabled]"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn each_hart_has_an_address_space_sharing_the_system_flat_view() {
    let o = ferrite(&["mtree", "-f", "--smp", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // One flat view, listed with every space that shares it, as QEMU's
    // `info mtree -f` lists `memory` with `cpu-memory-N`.
    let first_view = out.split("FlatView #1").next().unwrap_or_default();
    for space in [
        "AS \"memory\", root: system",
        "AS \"cpu-memory-0\", root: system",
        "AS \"cpu-memory-1\", root: system",
    ] {
        assert!(first_view.contains(space), "{space} missing in {out}");
    }
}

#[test]
fn serial_to_a_file_and_log_to_a_file() {
    let dir = std::env::temp_dir().join(format!("ferrite-cli-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let console = dir.join("console.txt");
    let log = dir.join("trace.log");
    let o = ferrite(&[
        "run",
        "--serial",
        &format!("file:{}", console.display()),
        "-d",
        "in_asm,int",
        "-D",
        log.to_str().unwrap(),
        hello_elf().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "console went to the file: {}",
        stdout(&o)
    );
    let text = std::fs::read_to_string(&console).unwrap();
    assert_eq!(text, "Hello from Ferrite!\n");
    let trace = std::fs::read_to_string(&log).unwrap();
    assert!(trace.contains("IN:"), "in_asm blocks logged: {trace}");
    assert!(
        trace.contains("auipc"),
        "disassembly of the boot ROM: {trace}"
    );
}

#[test]
fn bad_serial_backend() {
    let o = ferrite(&["run", "--serial", "tcp:1234"]);
    assert_one_line_error(&o, "unknown serial backend");
}

#[test]
fn huge_timeouts_are_refused_in_seconds_not_panics() {
    for t in ["1e20", "9.3e18", "1000000001"] {
        let o = ferrite(&["run", "--timeout", t, "--serial", "null"]);
        assert_one_line_error(&o, "at most 1000000000 seconds");
    }
    let o = ferrite(&["run", "--timeout", "999999999", "--serial", "null"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Runs ferrite with standard output on `/dev/full` (Linux).
fn ferrite_to_full_disk(args: &[&str]) -> Option<Output> {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .ok()?;
    Some(
        Command::new(FERRITE)
            .args(args)
            .stdin(Stdio::null())
            .stdout(full)
            .output()
            .expect("ferrite runs"),
    )
}

#[test]
fn a_full_stdout_is_one_error_not_a_panic() {
    let Some(o) = ferrite_to_full_disk(&["mtree", "-d"]) else {
        eprintln!("no /dev/full here: skipped");
        return;
    };
    assert_one_line_error(&o, "cannot write to standard output");
    let o = ferrite_to_full_disk(&["run", "-d", "help"]).unwrap();
    assert_one_line_error(&o, "cannot write to standard output");
}

#[test]
fn console_output_that_cannot_be_written_is_not_lost_silently() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipped");
        return;
    }
    let o = ferrite(&["run", "--serial", "file:/dev/full"]);
    assert_one_line_error(&o, "cannot write the guest's console output");
}

#[test]
fn a_log_file_that_fills_up_is_one_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("no /dev/full here: skipped");
        return;
    }
    let o = ferrite(&[
        "run",
        "--serial",
        "null",
        "-d",
        "exec,in_asm",
        "-D",
        "/dev/full",
    ]);
    assert_one_line_error(&o, "cannot write the log to /dev/full");
}

#[test]
fn a_qemu_command_line_runs() {
    let elf = hello_elf();
    let o = ferrite(&[
        "-machine",
        "virt",
        "-m",
        "1.5G",
        "-smp",
        "1",
        "-nographic",
        "-bios",
        "none",
        "-kernel",
        elf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Hello from Ferrite!"), "{}", stdout(&o));
    let o = ferrite(&["run", "-machine", "virt", "-initrd", "no-such-rootfs.cpio"]);
    assert_one_line_error(&o, "no-such-rootfs.cpio");
}

#[test]
fn sizes_in_errors_read_in_human_units() {
    let o = ferrite(&["run", "-m", "10000T"]);
    assert_one_line_error(&o, "invalid memory size 10000 TiB");
}

#[cfg(unix)]
#[test]
fn a_unix_socket_console_waits_for_its_client_so_nothing_is_lost() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let dir = std::env::temp_dir().join(format!("ferrite-cli-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("console.sock");
    let mut child = Command::new(FERRITE)
        .args([
            "run",
            "--serial",
            &format!("unix:{},server=on", sock.display()),
            hello_elf().to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite starts");
    // Connect once the socket exists, some time after the start: the guest
    // must not have run (and printed into the void) meanwhile.
    let start = std::time::Instant::now();
    let mut stream = loop {
        if let Ok(s) = UnixStream::connect(&sock) {
            break s;
        }
        assert!(start.elapsed().as_secs() < 20, "no socket appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut got = String::new();
    stream.read_to_string(&mut got).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        got.contains("Hello from Ferrite!"),
        "the client got: {got:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_trap_loop_ends_the_run_with_its_own_status_and_a_bounded_log() {
    // lui t0, 0x40000; csrw mtvec, t0 (unmapped); then an illegal word: the
    // trap vector faults for ever.
    let elf = scratch("trap-loop.elf", &tiny_elf(&[0x4000_02b7, 0x3052_9073, 0]));
    let log = std::env::temp_dir().join(format!("ferrite-trap-loop-{}.log", std::process::id()));
    let o = ferrite(&[
        "run",
        "--serial",
        "null",
        "-d",
        "int",
        "-D",
        log.to_str().unwrap(),
        "--timeout",
        "60",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("caught in a trap loop") && err.contains("at pc 0x40000000"),
        "{err}"
    );
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(size < 1 << 20, "the -d int log grew to {size} bytes");
    let _ = std::fs::remove_file(&log);
}

/// Whether `hay` contains `needle` as bytes.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn isa_option() {
    // One clear error for what Ferrite does not implement or know.
    assert_one_line_error(
        &ferrite(&["run", "--isa", "rv64gcv"]),
        "extension `v` is not supported",
    );
    assert_one_line_error(
        &ferrite(&["run", "--isa", "rv64gc_zfoo"]),
        "unknown extension `zfoo`",
    );
    assert_one_line_error(
        &ferrite(&["run", "--isa", "rv32imac"]),
        "must start with `rv64`",
    );
    let o = ferrite(&["run", "--isa", "help"]);
    assert!(stdout(&o).contains("rv64imafdc_"), "{}", stdout(&o));
    // The device tree follows the ISA.
    let dir = std::env::temp_dir().join(format!("ferrite-cli-isa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("imac.dtb");
    let o = ferrite(&[
        "run",
        "--isa",
        "rv64imac",
        "--dump-dtb",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let blob = std::fs::read(&path).unwrap();
    assert!(contains(&blob, b"rv64imac_zicntr_zicsr_zifencei"));
    assert!(
        !contains(&blob, b"riscv,cboz-block-size"),
        "no Zicboz, no block size"
    );
    let o = ferrite(&["run", "--dump-dtb", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let blob = std::fs::read(&path).unwrap();
    assert!(contains(&blob, b"rv64imafdc_zicbom"));
    assert!(contains(&blob, b"riscv,cboz-block-size"));
    assert!(contains(&blob, b"riscv,sv57"));
    // A program built for rv64gc stops at its first FP instruction on a
    // hart without F.
    let fp = workspace().join("firmware/bin/fp.elf");
    let o = ferrite(&["run", "--isa", "rv64imac", fp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(222), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--one-insn-per-block`: `-d exec` prints one line per instruction (as
/// many as `--stats` counts), and `-d cpu` shows the CSRs and the
/// floating-point registers.
#[test]
fn one_insn_per_block_traces_every_instruction() {
    let hello = hello_elf().display().to_string();
    let dir = std::env::temp_dir().join(format!("ferrite-one-insn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let exec_log = dir.join("exec.log");
    let o = ferrite(&[
        "run",
        "--one-insn-per-block",
        "--stats",
        "-d",
        "exec,nochain",
        "-D",
        &exec_log.display().to_string(),
        &hello,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let retired: usize = stderr(&o)
        .lines()
        .find_map(|l| l.trim().strip_prefix("retired instructions:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("--stats count");
    let log = std::fs::read_to_string(&exec_log).expect("exec log");
    assert_eq!(
        log.lines().filter(|l| l.starts_with("Trace 0: [")).count(),
        retired
    );

    let cpu_log = dir.join("cpu.log");
    let o = ferrite(&[
        "run",
        "-d",
        "cpu",
        "-D",
        &cpu_log.display().to_string(),
        &hello,
    ]);
    assert!(o.status.success());
    let log = std::fs::read_to_string(&cpu_log).expect("cpu log");
    for item in [
        "mstatus  ",
        "mtvec    ",
        "satp     ",
        "x10/a0",
        "f10/fa0",
        "fcsr     ",
    ] {
        assert!(log.contains(item), "-d cpu lacks {item}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    // -D with nothing to write into it.
    let o = ferrite(&["run", "-d", "nochain", "-D", "x.log", &hello]);
    assert_one_line_error(&o, "-D needs -d ITEMS");
}

/// `-d guest_errors`: one line per bad access, addresses in hex, a fetch
/// called a fetch.
#[test]
fn guest_errors_are_one_hex_line_each() {
    let elf = workspace().join("firmware/bin/wild_jump.elf");
    let o = ferrite(&["run", "-d", "guest_errors", &elf.display().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 3, "{err}");
    assert_eq!(lines[0], "hart 0: fetch of 2 bytes at 0x0: decode error");
    assert!(lines.contains(&"hart 0: fetch of 2 bytes at 0x100000000: decode error"));
    for l in &lines {
        assert!(l.starts_with("hart 0: fetch of 2 bytes at 0x"), "{l}");
    }
}

/// `-d in_asm` is laid out as QEMU's: `IN: `, the `Priv:` line, 16-digit
/// pcs, and absolute targets of pc-relative instructions.
#[test]
fn in_asm_is_laid_out_as_qemus() {
    let o = ferrite(&["run", "-d", "in_asm", &hello_elf().display().to_string()]);
    assert!(o.status.success());
    let log = stderr(&o);
    assert!(
        log.starts_with("----------------\nIN: \nPriv: 3; Virt: 0\n0x0000000000001000:  00000297          auipc                   t0, 0                   # 0x1000\n"),
        "{}",
        &log[..log.len().min(400)]
    );
    assert!(log.contains("bgeu                    a0, t0, 0xd4            # 0x800000dc"));
}

/// `-d mmu` logs each walk with its PTEs and result; `-d unimp` names the
/// unimplemented instruction or CSR; `-dfilter` keeps only the blocks in
/// its ranges.
#[test]
fn mmu_unimp_and_dfilter_items() {
    let fw = |name: &str| {
        workspace()
            .join("firmware/bin")
            .join(name)
            .display()
            .to_string()
    };
    let o = ferrite(&["run", "-d", "mmu", &fw("vm_sv39.elf")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    let first: Vec<&str> = log.lines().take(3).collect();
    assert!(
        first[0].starts_with("hart 0: walk sv39 0x") && first[0].contains(", satp 0x8"),
        "{log}"
    );
    assert!(first[1].starts_with("  level 2: pte at 0x"), "{log}");
    assert!(first[2].starts_with("  -> 0x"), "{log}");
    assert!(
        log.contains("-> store page fault") || log.contains("-> load page fault"),
        "the test's faults are walked too"
    );

    let o = ferrite(&["run", "-d", "unimp", &fw("csr.elf")]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("hart 0: unimplemented CSR 0x8c0 accessed at 0x"),
        "{}",
        stderr(&o)
    );
    let o = ferrite(&["run", "--isa", "rv64imac", "-d", "unimp", &fw("fp.elf")]);
    assert!(
        stderr(&o).contains("belongs to an extension this hart lacks"),
        "{}",
        stderr(&o)
    );

    let o = ferrite(&[
        "run",
        "-d",
        "exec",
        "-dfilter",
        "0x1000..0x1004",
        &hello_elf().display().to_string(),
    ]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "Trace 0: [0000000000001000]\n");
    let o = ferrite(&[
        "run",
        "--dfilter",
        "0x10",
        &hello_elf().display().to_string(),
    ]);
    assert_one_line_error(&o, "bad -dfilter range `0x10`");
}

/// Prints `R` on UART0, then asks the test finisher for a reset.
fn print_then_reset_elf() -> PathBuf {
    scratch(
        "reset.elf",
        &tiny_elf(&[
            0x100002b7, // lui t0, 0x10000
            0x05200313, // li t1, 'R'
            0x00628023, // sb t1, 0(t0)
            0x001002b7, // lui t0, 0x100
            0x00007337, // lui t1, 7
            0x77730313, // addi t1, t1, 0x777
            0x0062a023, // sw t1, 0(t0)
            JUMP_TO_SELF,
        ]),
    )
}

#[test]
fn a_reset_ends_with_status_120_and_reboot_boots_again() {
    let elf = print_then_reset_elf();
    let elf = elf.to_str().unwrap();
    let o = ferrite(&["run", elf]);
    assert_eq!(o.status.code(), Some(120), "{}", stderr(&o));
    assert_eq!(stdout(&o), "R");
    assert!(stderr(&o).contains("asked for a reset"), "{}", stderr(&o));
    // With --reboot each boot prints again, until the instruction limit
    // (which counts every boot).
    let o = ferrite(&["run", "--reboot", "--max-insns", "200", elf]);
    assert_eq!(o.status.code(), Some(123), "{}", stderr(&o));
    let boots = stdout(&o).matches('R').count();
    assert!(boots > 3, "{boots} boots: {}", stderr(&o));
    assert!(
        stderr(&o).contains("instruction limit reached (200 instructions)"),
        "{}",
        stderr(&o)
    );
    let o = ferrite(&["run", "--reboot", "--script", "/dev/null", elf]);
    assert_one_line_error(&o, "--reboot cannot be combined");
}

#[test]
fn stop_on_output_ends_the_run_at_the_first_match() {
    let shell = workspace().join("firmware/bin/shell.elf");
    let shell = shell.to_str().unwrap();
    // The shell waits for input at its prompt: 121 without the pattern.
    let o = ferrite(&["run", shell]);
    assert_eq!(o.status.code(), Some(121), "{}", stderr(&o));
    let o = ferrite(&["run", "--stop-on-output", r"ferrite> $", shell]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("ferrite> "), "{}", stdout(&o));
    let o = ferrite(&["run", "--stop-on-output", "(", shell]);
    assert_one_line_error(&o, "bad --stop-on-output pattern");
}

/// A program in flash bank 0 runs from it (QEMU's virt jumps there when
/// bank 0 is given): four instructions that tell the test finisher "pass".
#[test]
fn a_guest_in_flash_bank_0_runs_from_the_flash() {
    let dir = std::env::temp_dir().join(format!("ferrite-pflash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = dir.join("flash0.img");
    // lui a0, 0x100; lui a1, 0x5; addi a1, a1, 0x555; sw a1, 0(a0); j .
    let code: [u32; 5] = [
        0x0010_0537,
        0x0000_55b7,
        0x5555_8593,
        0x00b5_2023,
        0x0000_006f,
    ];
    let mut bytes: Vec<u8> = code.iter().flat_map(|c| c.to_le_bytes()).collect();
    bytes.resize(32 << 20, 0);
    std::fs::write(&image, &bytes).unwrap();
    let path = image.display().to_string();
    let o = ferrite(&["run", "--pflash", &path, "--max-insns", "1000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "no built-in guest: {}", stderr(&o));
    // QEMU's spelling.
    let drive = format!("if=pflash,format=raw,unit=0,file={path}");
    let o = ferrite(&["-M", "virt", "-drive", &drive, "-bios", "none"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Bad files and units are one line each.
    let short = dir.join("short.img");
    std::fs::write(&short, [0u8; 100]).unwrap();
    let o = ferrite(&["run", "--pflash", &short.display().to_string()]);
    assert_one_line_error(&o, "the bank holds 33554432 bytes, the file has 100");
    let o = ferrite(&["run", "--pflash", &format!("{path},unit=2")]);
    assert_one_line_error(&o, "unit must be 0 or 1");
    let o = ferrite(&[
        "run",
        "--pflash",
        &path,
        "--pflash",
        &format!("{path},unit=0"),
    ]);
    assert_one_line_error(&o, "flash unit 0 is given twice");
    let hello = workspace()
        .join("firmware/bin/hello.elf")
        .display()
        .to_string();
    let o = ferrite(&["run", "-M", "spike", "--pflash", &path, &hello]);
    assert_one_line_error(&o, "--pflash needs the virt board");
    std::fs::remove_dir_all(&dir).unwrap();
}
