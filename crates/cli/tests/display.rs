//! The display end to end: `firmware/bin/display_demo.elf` finds the
//! bochs-display on PCIe, sets a mode and draws; the picture is checked
//! against QEMU's screendump of the same guest (`golden/display_demo_qemu.png`,
//! from `qemu-system-riscv64 -M virt -bios none -kernel display_demo.elf
//! -device bochs-display` and the monitor's `screendump`), through the PNG
//! back-end, the monitor's `screendump`, and a VNC client nobody here wrote
//! (vncdotool, from PyPI). Without vncdotool the VNC test is built
//! `#[ignore]`d (reported as ignored, see `build.rs`), except under
//! `CI=true`, where `.ci/run` installs it and the test runs.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{FERRITE, ferrite, stderr, stdout, workspace};
use ferrite_display::Surface;
use ferrite_display::png::read_png;

fn demo() -> String {
    workspace()
        .join("firmware/bin/display_demo.elf")
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrite-display-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn qemu_picture() -> Surface {
    read_png(&workspace().join("crates/cli/tests/golden/display_demo_qemu.png"))
        .expect("the golden picture reads")
}

/// `a` and `b` are the same picture; on a difference, where.
fn assert_same(a: &Surface, b: &Surface, what: &str) {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "{what}: size"
    );
    if let Some(i) = a.pixels().iter().zip(b.pixels()).position(|(x, y)| x != y) {
        let (x, y) = (i as u32 % a.width(), i as u32 / a.width());
        panic!(
            "{what}: first difference at ({x}, {y}): {:06x} against {:06x}",
            a.pixels()[i],
            b.pixels()[i]
        );
    }
}

#[test]
fn the_demo_draws_what_qemu_draws_and_the_png_is_written_at_exit() {
    let png = scratch("exit.png");
    let spec = format!("png:{}", png.display());
    let args = [
        "run",
        "--device",
        "bochs-display",
        "--display",
        &spec,
        "--stop-on-output",
        "demo: done",
        &demo(),
    ];
    let o = ferrite(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "demo: pci 00:00.0 1b36:0008 class 060000",
        "demo: pci 00:01.0 1234:1111 class 038000",
        "demo: BAR0 vram 40000000 (16384 KiB), BAR2 mmio 41000000 (4096 bytes)",
        "demo: dispi id b0c5, 16384 KiB of video memory",
        "demo: mode 640x480x32",
        "demo: moved vram to 42000000",
        "demo: done after 90 frames",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let picture = read_png(&png).expect("the PNG was written");
    assert_same(&picture, &qemu_picture(), "png: against QEMU");
    // The same run again: the same bytes.
    let first = std::fs::read(&png).unwrap();
    let o = ferrite(&args);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&png).unwrap(), first, "deterministic");
}

#[test]
fn a_display_needs_a_display_device_and_specs_are_checked() {
    let o = ferrite(&["run", "--display", "png:x.png", &demo()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("add --device bochs-display"),
        "{}",
        stderr(&o)
    );
    let o = ferrite(&[
        "run",
        "--device",
        "bochs-display",
        "--display",
        "sdl",
        &demo(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("expected none, png:FILE"),
        "{}",
        stderr(&o)
    );
    let o = ferrite(&["run", "--device", "bochs-display,vgamem=1M", &demo()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("too small"), "{}", stderr(&o));
    let o = ferrite(&["run", "--device", "e1000", &demo()]);
    assert!(stderr(&o).contains("unknown device"), "{}", stderr(&o));
    // Without the device the guest says so and fails.
    let o = ferrite(&["run", &demo()]);
    assert!(stdout(&o).contains("no bochs-display"), "{}", stdout(&o));
    assert!(!o.status.success());
}

/// vncdotool's Python, installed by `.ci/run` into `.cache/vnc-venv`.
fn vnc_python() -> PathBuf {
    match std::env::var_os("FERRITE_VNC_PYTHON") {
        Some(p) => p.into(),
        None => workspace().join(".cache/vnc-venv/bin/python"),
    }
}

/// Two clients at once (one asks for raw pixels, one for ZRLE) capture the
/// screen; the first then types a key and moves the pointer.
const VNC_CLIENTS: &str = r#"
import sys
from vncdotool import api, client, rfb
addr, raw_png, zrle_png = sys.argv[1:4]
raw = api.connect(addr, timeout=60)
raw.captureScreen(raw_png)
client.VNCDoToolClient.encoding = rfb.Encoding.ZRLE
zrle = api.connect(addr, timeout=60)
zrle.captureScreen(zrle_png)
raw.keyPress("a")
raw.mouseMove(10, 20)
raw.captureScreen(raw_png)
zrle.disconnect()
raw.disconnect()
api.shutdown()
"#;

#[test]
#[cfg_attr(
    vncdotool_missing,
    ignore = "vncdotool is not installed (.ci/run installs it)"
)]
fn vnc_clients_see_what_the_screendump_shows() {
    let console = scratch("console.txt");
    let dump = scratch("dump.png");
    let mut child = Command::new(FERRITE)
        .args([
            "run",
            "--device",
            "bochs-display",
            "--display",
            "vnc:127.0.0.1:0",
        ])
        .arg("--serial")
        .arg(format!("file:{}", console.display()))
        .args(["--monitor", "stdio", &demo()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite starts");
    let mut err = BufReader::new(child.stderr.take().expect("piped"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert_ne!(err.read_line(&mut line).expect("stderr"), 0, "no VNC line");
        if let Some(a) = line
            .trim()
            .strip_prefix("ferrite: VNC server listening on ")
        {
            break a.to_string();
        }
    };
    // The last frame is on screen once the guest says so.
    let start = Instant::now();
    while !std::fs::read_to_string(&console)
        .unwrap_or_default()
        .contains("demo: done")
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the demo never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (host, port) = addr.rsplit_once(':').expect("HOST:PORT");
    let (raw, zrle) = (scratch("raw.png"), scratch("zrle.png"));
    let py = Command::new(vnc_python())
        .args(["-c", VNC_CLIENTS, &format!("{host}::{port}")])
        .arg(&raw)
        .arg(&zrle)
        .output()
        .expect("vncdotool's python runs");
    assert!(
        py.status.success(),
        "vncdotool: {}",
        String::from_utf8_lossy(&py.stderr)
    );

    let mut stdin = child.stdin.take().expect("piped");
    writeln!(stdin, "screendump {}", dump.display()).unwrap();
    writeln!(stdin, "info display").unwrap();
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let o = child.wait_with_output().expect("ferrite ends");
    let monitor = stdout(&o);
    assert!(
        monitor.contains("bochs-display: 640x480 Xrgb8888"),
        "{monitor}"
    );
    assert!(monitor.contains("0 client(s) now, 2 in all"), "{monitor}");
    assert!(
        monitor.contains("2 key event(s), 1 pointer event(s)"),
        "{monitor}"
    );
    // Each client's captures: the raw one's two, the ZRLE one's one.
    assert!(
        monitor.contains("rectangles sent: 2 raw, 1 ZRLE"),
        "{monitor}"
    );

    let golden = qemu_picture();
    assert_same(&read_png(&dump).expect("screendump"), &golden, "screendump");
    assert_same(&read_png(&raw).expect("raw capture"), &golden, "VNC raw");
    assert_same(&read_png(&zrle).expect("ZRLE capture"), &golden, "VNC ZRLE");
}

#[test]
fn the_monitor_lists_pci_and_dumps_the_screen() {
    let dump = scratch("monitor.png");
    let mut child = Command::new(FERRITE)
        .args(["run", "--device", "bochs-display", "--serial", "null"])
        .args(["--monitor", "stdio", "-S", &demo()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite starts");
    let mut stdin = child.stdin.take().expect("piped");
    // Before the guest has run: no mode, a blank picture.
    writeln!(stdin, "info pci").unwrap();
    writeln!(stdin, "screendump {}", dump.display()).unwrap();
    writeln!(stdin, "quit").unwrap();
    drop(stdin);
    let o = child.wait_with_output().expect("ferrite ends");
    let text = stdout(&o);
    assert!(text.contains("Host bridge: PCI device 1b36:0008"), "{text}");
    assert!(
        text.contains("Display controller: PCI device 1234:1111"),
        "{text}"
    );
    assert!(
        text.contains("BAR0: 32 bit prefetchable memory at 0xffffffffffffffff [0x00fffffe]."),
        "{text}"
    );
    let blank = read_png(&dump).expect("screendump written");
    assert_eq!((blank.width(), blank.height()), (640, 480));
    assert!(blank.pixels().iter().all(|&p| p == 0), "no mode yet: black");
}
