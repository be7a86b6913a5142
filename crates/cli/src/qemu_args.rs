//! QEMU's command line: the `qemu-system-riscv64` spellings a QEMU user
//! types, rewritten into Ferrite's options before parsing.
//!
//! `ferrite run -M virt -m 1.5G -bios none -kernel prog.elf -nographic`
//! works, and so does `ferrite -M virt -kernel prog.elf` (arguments that
//! start with an option are a `run`). Each QEMU option maps to Ferrite's own
//! (see `docs/usage.md`, "QEMU options"); an option Ferrite cannot honour is
//! refused by name rather than ignored, and Ferrite's own options pass
//! through unchanged.

use std::collections::HashMap;
use std::ffi::OsString;

/// Why a QEMU-style command line cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QemuArgError {
    /// A QEMU option Ferrite does not have.
    #[error("QEMU option `{option}` is not supported by Ferrite{hint}")]
    Unsupported {
        /// The option as typed.
        option: String,
        /// What to do instead, starting with a separator, or empty.
        hint: &'static str,
    },
    /// A value or property of a supported option that Ferrite cannot honour.
    #[error("`{option} {value}`: {reason}")]
    BadValue {
        /// The option.
        option: String,
        /// Its value as typed.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// An option given without its value.
    #[error("QEMU option `{0}` needs a value")]
    MissingValue(String),
}

/// The subcommands and top-level flags that mean "not a QEMU command line".
const OWN_FIRST_WORDS: &[&str] = &["run", "mtree", "help", "--help", "-h", "--version", "-V"];

/// Rewrite `args` (the whole command line, program name first).
pub fn rewrite(args: Vec<OsString>) -> Result<Vec<OsString>, QemuArgError> {
    let mut it = args.into_iter();
    let Some(program) = it.next() else {
        return Ok(Vec::new());
    };
    let rest: Vec<OsString> = it.collect();
    let first = rest.first().and_then(|a| a.to_str()).unwrap_or("");
    let (prefix, tail) = if first == "run" {
        (vec!["run".into()], rest[1..].to_vec())
    } else if first.starts_with('-') && !OWN_FIRST_WORDS.contains(&first) {
        // QEMU-style arguments straight after the program name: a run.
        (vec!["run".into()], rest)
    } else {
        let mut all = vec![program];
        all.extend(rest);
        return Ok(all);
    };
    let mut out = vec![program];
    out.extend(prefix);
    out.extend(rewrite_run_args(tail)?);
    Ok(out)
}

/// Rewrite the arguments of a run.
fn rewrite_run_args(args: Vec<OsString>) -> Result<Vec<OsString>, QemuArgError> {
    let mut out: Vec<OsString> = Vec::new();
    // `-drive if=none,id=X,file=...` waits for a `-device ...,drive=X`.
    let mut pending_drives: HashMap<String, String> = HashMap::new();
    // `-object memory-backend-ram,id=X,size=S` waits for a
    // `-device virtio-mem-device,memdev=X`.
    let mut pending_memdevs: HashMap<String, String> = HashMap::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        let option = text.to_string();
        let mut value = || {
            it.next()
                .map(|v| v.to_string_lossy().into_owned())
                .ok_or_else(|| QemuArgError::MissingValue(option.clone()))
        };
        let mut push = |flag: &str, v: String| {
            out.push(flag.into());
            out.push(v.into());
        };
        match text {
            "-machine" | "-M" => {
                let v = value()?;
                push("--machine", machine_name(text, &v)?);
            }
            "-m" => {
                let v = value()?;
                let (size, maxmem) = memory_size(&v)?;
                push("--memory", size);
                if let Some(max) = maxmem {
                    push("--maxmem", max);
                }
            }
            "-object" => {
                let v = value()?;
                memory_backend(&v, &mut pending_memdevs)?;
            }
            "-smp" => {
                let v = value()?;
                push("--smp", smp_count(&v)?);
            }
            "-bios" => push("--bios", value()?),
            "-kernel" => push("--kernel", value()?),
            "-initrd" => push("--initrd", value()?),
            "-append" => push("--append", value()?),
            "-dtb" => push("--dtb", value()?),
            "-serial" => {
                let v = value()?;
                if v == "mon:stdio" {
                    // The console and the monitor share the terminal.
                    push("--serial", "stdio".into());
                    push("--monitor", "stdio".into());
                } else {
                    push("--serial", v);
                }
            }
            "-dfilter" => push("--dfilter", value()?),
            "-drive" => {
                let v = value()?;
                if let Some((flag, spec)) = drive(&v, &mut pending_drives)? {
                    push(flag, spec);
                }
            }
            "-device" => {
                let v = value()?;
                for (flag, val) in device(&v, &mut pending_drives, &mut pending_memdevs)? {
                    push(flag, val);
                }
            }
            "-nographic" | "-no-reboot" => {
                // Ferrite's console is on stdio unless told otherwise, and a
                // guest reset ends the run: both are what these ask for.
            }
            "-display" => {
                let v = value()?;
                let kind = v.split(',').next().unwrap_or("");
                match kind {
                    "none" => {}
                    "gtk" | "sdl" | "cocoa" => push("--display", "window".into()),
                    _ => {
                        return Err(QemuArgError::BadValue {
                            option: option.clone(),
                            value: v,
                            reason: "Ferrite's displays are `-display none|gtk|sdl`, `-vnc HOST:N` and its own --display png:FILE".into(),
                        });
                    }
                }
            }
            "-vnc" => {
                let v = value()?;
                push("--display", vnc_display(&v)?);
            }
            "-icount" => {
                // Guest time always follows retired instructions in Ferrite,
                // so every `-icount` setting is how it already runs.
                value()?;
            }
            "-monitor" => {
                let v = value()?;
                if v != "none" {
                    push("--monitor", chardev_address(&v));
                }
            }
            "-gdb" => {
                let v = value()?;
                push("--gdb", chardev_address(&v));
            }
            // Ferrite's own spellings too.
            "-s" | "-S" => out.push(arg),
            // The reference simulator's signature options.
            _ if text.starts_with("+signature=") => {
                push("--signature", text["+signature=".len()..].to_string());
            }
            _ if text.starts_with("+signature-granularity=") => {
                push(
                    "--signature-granularity",
                    text["+signature-granularity=".len()..].to_string(),
                );
            }
            "-cpu"
            | "-accel"
            | "-enable-kvm"
            | "-netdev"
            | "-nic"
            | "-net"
            | "-usb"
            | "-vga"
            | "-global"
            | "-rtc"
            | "-chardev"
            | "-semihosting"
            | "-semihosting-config" => {
                return Err(QemuArgError::Unsupported { option, hint: "" });
            }
            _ => out.push(arg),
        }
    }
    if let Some(id) = pending_memdevs.keys().next() {
        return Err(QemuArgError::BadValue {
            option: "-object".into(),
            value: format!("id={id}"),
            reason: "no `-device virtio-mem-device,memdev=...` uses this memory backend".into(),
        });
    }
    if let Some(id) = pending_drives.keys().next() {
        return Err(QemuArgError::BadValue {
            option: "-drive".into(),
            value: format!("id={id}"),
            reason: "no `-device virtio-blk-device,drive=...` uses this drive".into(),
        });
    }
    Ok(out)
}

/// QEMU's `-vnc [HOST]:N` (display N, port 5900 + N) as `vnc:HOST:PORT`;
/// an empty host is 127.0.0.1 (Ferrite's VNC server has no password, so it
/// does not listen on every interface unless told to).
fn vnc_display(value: &str) -> Result<String, QemuArgError> {
    let addr = value.split(',').next().unwrap_or("");
    let (host, display) = addr
        .rsplit_once(':')
        .ok_or_else(|| QemuArgError::BadValue {
            option: "-vnc".into(),
            value: value.into(),
            reason: "expected [HOST]:DISPLAY".into(),
        })?;
    let port = display
        .parse::<u16>()
        .ok()
        .and_then(|n| n.checked_add(5900))
        .ok_or_else(|| QemuArgError::BadValue {
            option: "-vnc".into(),
            value: value.into(),
            reason: format!("display {display:?} is not a number from 0 to 59635"),
        })?;
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    Ok(format!("vnc:{host}:{port}"))
}

/// A chardev address without QEMU's socket options (`server`, `nowait`,
/// `wait=off`): Ferrite's gdb and monitor sockets always listen and never
/// wait for a client before the guest runs (`-S` says when to wait).
fn chardev_address(value: &str) -> String {
    let mut parts = value.split(',');
    let addr = parts.next().unwrap_or("");
    addr.to_string()
}

/// `key=value` properties after an optional leading bare word.
fn properties(value: &str) -> (Option<&str>, Vec<(&str, &str)>) {
    let mut parts = value.split(',');
    let mut head = None;
    let mut props = Vec::new();
    if let Some(first) = parts.next() {
        match first.split_once('=') {
            Some(kv) => props.push(kv),
            None => head = Some(first),
        }
    }
    for p in parts {
        props.push(p.split_once('=').unwrap_or((p, "")));
    }
    (head, props)
}

fn bad(option: &str, value: &str, reason: impl Into<String>) -> QemuArgError {
    QemuArgError::BadValue {
        option: option.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

/// `-machine virt[,prop=...]`: the board; properties Ferrite has as fixed
/// behaviour are accepted, others refused.
fn machine_name(option: &str, value: &str) -> Result<String, QemuArgError> {
    let (head, props) = properties(value);
    let mut name = head.map(str::to_string);
    for (k, v) in props {
        match (k, v) {
            ("type", v) => name = Some(v.to_string()),
            // Ferrite's virt always has the ACLINT timer and software
            // interrupts and no AIA; these ask for what it has.
            ("aclint", "on") | ("aia", "none") | ("accel", "tcg") => {}
            _ => {
                return Err(bad(
                    option,
                    value,
                    format!("unsupported machine property `{k}`"),
                ));
            }
        }
    }
    name.ok_or_else(|| bad(option, value, "no machine name"))
}

/// `-m [size=]SIZE[,slots=N][,maxmem=SIZE]`: the RAM size and the most
/// memory with hot-pluggable memory (the device-memory window, for
/// virtio-mem). `slots` counts DIMM slots, which Ferrite has none of.
fn memory_size(value: &str) -> Result<(String, Option<String>), QemuArgError> {
    let (head, props) = properties(value);
    let mut size = head.map(str::to_string);
    let mut maxmem = None;
    for (k, v) in props {
        match k {
            "size" => size = Some(v.to_string()),
            "maxmem" => maxmem = Some(v.to_string()),
            "slots" => {}
            _ => return Err(bad("-m", value, format!("unknown property `{k}`"))),
        }
    }
    Ok((size.ok_or_else(|| bad("-m", value, "no size"))?, maxmem))
}

/// `-object memory-backend-ram,id=ID,size=SIZE`: the memory a
/// `-device virtio-mem-device,memdev=ID` will be made of (kept by id).
fn memory_backend(value: &str, pending: &mut HashMap<String, String>) -> Result<(), QemuArgError> {
    let (head, props) = properties(value);
    match head {
        Some("memory-backend-ram") => {}
        Some(other) => {
            return Err(QemuArgError::Unsupported {
                option: format!("-object {other}"),
                hint: " (objects: memory-backend-ram, for virtio-mem)",
            });
        }
        None => return Err(bad("-object", value, "no object type")),
    }
    let (mut id, mut size) = (None, None);
    for (k, v) in props {
        match k {
            "id" => id = Some(v),
            "size" => size = Some(v),
            // Ferrite's RAM is always private and reserved lazily.
            "share" | "prealloc" | "reserve" if v == "off" => {}
            "merge" | "dump" => {}
            _ => return Err(bad("-object", value, format!("unsupported property `{k}`"))),
        }
    }
    let id = id.ok_or_else(|| bad("-object", value, "no id="))?;
    let size = size.ok_or_else(|| bad("-object", value, "no size="))?;
    pending.insert(id.to_string(), size.to_string());
    Ok(())
}

/// `-smp N[,cpus=N,...]`: the hart count. Topology properties must agree
/// with one socket of N cores of one thread.
fn smp_count(value: &str) -> Result<String, QemuArgError> {
    let (head, props) = properties(value);
    let mut cpus = head.map(str::to_string);
    for (k, v) in props {
        match k {
            "cpus" | "maxcpus" => cpus = Some(v.to_string()),
            "sockets" | "dies" | "clusters" | "threads" | "books" | "drawers" if v == "1" => {}
            "cores" => {}
            _ => {
                return Err(bad(
                    "-smp",
                    value,
                    format!("unsupported topology `{k}={v}`"),
                ));
            }
        }
    }
    cpus.ok_or_else(|| bad("-smp", value, "no hart count"))
}

/// `-drive file=PATH[,format=raw][,if=virtio|none|pflash][,unit=N][,id=ID][,readonly=on]`:
/// a Ferrite `--drive` (or `--pflash` for `if=pflash`) now, or later for
/// `if=none` (kept by id).
fn drive(
    value: &str,
    pending: &mut HashMap<String, String>,
) -> Result<Option<(&'static str, String)>, QemuArgError> {
    let (head, props) = properties(value);
    if let Some(h) = head {
        return Err(bad(
            "-drive",
            value,
            format!("`{h}`: expected key=value properties"),
        ));
    }
    let (mut file, mut interface, mut id, mut readonly) = (None, "virtio", None, false);
    let mut unit = None;
    for (k, v) in props {
        match (k, v) {
            ("file", v) => file = Some(v),
            ("format", "raw") | ("media", "disk") | ("cache", _) | ("discard", _) => {}
            ("format", f) => {
                return Err(bad(
                    "-drive",
                    value,
                    format!("format `{f}` is not supported (only raw)"),
                ));
            }
            ("if", i @ ("virtio" | "none" | "pflash")) => interface = i,
            ("unit", u) => unit = Some(u),
            ("if", i) => {
                return Err(bad(
                    "-drive",
                    value,
                    format!("interface `{i}` is not supported (virtio, pflash or none)"),
                ));
            }
            ("id", v) => id = Some(v),
            ("readonly", "on" | "true" | "yes") => readonly = true,
            ("readonly", "off" | "false" | "no") => readonly = false,
            _ => return Err(bad("-drive", value, format!("unsupported property `{k}`"))),
        }
    }
    let file = file.ok_or_else(|| bad("-drive", value, "no file="))?;
    if interface == "pflash" {
        return Ok(Some((
            "--pflash",
            match unit {
                Some(u) => format!("{file},unit={u}"),
                None => file.to_string(),
            },
        )));
    }
    let spec = if readonly {
        format!("{file},readonly")
    } else {
        file.to_string()
    };
    if interface == "none" {
        let id = id.ok_or_else(|| bad("-drive", value, "if=none needs an id="))?;
        pending.insert(id.to_string(), spec);
        return Ok(None);
    }
    Ok(Some(("--drive", spec)))
}

/// `-device virtio-blk-device,drive=ID`, `-device virtio-rng-device`,
/// `-device virtio-mem-device,memdev=ID,...` and `-device bochs-display`.
fn device(
    value: &str,
    pending: &mut HashMap<String, String>,
    memdevs: &mut HashMap<String, String>,
) -> Result<Vec<(&'static str, String)>, QemuArgError> {
    let (head, props) = properties(value);
    match head {
        Some("virtio-mem-device" | "virtio-mem-pci") => {
            let mut spec = Vec::new();
            let mut memdev = None;
            for (k, v) in props {
                match k {
                    "memdev" => memdev = Some(v),
                    "id" | "requested-size" | "block-size" | "addr" => {
                        spec.push(format!("{k}={v}"))
                    }
                    "node" if v == "0" => {}
                    _ => return Err(bad("-device", value, format!("unsupported property `{k}`"))),
                }
            }
            let id = memdev.ok_or_else(|| bad("-device", value, "no memdev="))?;
            let size = memdevs.remove(id).ok_or_else(|| {
                bad(
                    "-device",
                    value,
                    format!("no `-object memory-backend-ram,id={id},size=...` before it"),
                )
            })?;
            spec.insert(0, format!("size={size},memdev={id}"));
            Ok(vec![("--virtio-mem", spec.join(","))])
        }
        Some("virtio-blk-device") => {
            let (mut drive, mut slot) = (None, None);
            for (k, v) in props {
                match k {
                    "drive" => drive = Some(v),
                    "bus" => {
                        // QEMU's bus names for the virt board's slots.
                        let n = v
                            .strip_prefix("virtio-mmio-bus.")
                            .and_then(|n| n.parse::<u32>().ok())
                            .ok_or_else(|| {
                                bad(
                                    "-device",
                                    value,
                                    format!("bus `{v}`: expected virtio-mmio-bus.N"),
                                )
                            })?;
                        slot = Some(n);
                    }
                    _ => return Err(bad("-device", value, format!("unsupported property `{k}`"))),
                }
            }
            let id = drive.ok_or_else(|| bad("-device", value, "no drive="))?;
            let mut spec = pending.remove(id).ok_or_else(|| {
                bad(
                    "-device",
                    value,
                    format!("no `-drive if=none,id={id}` before it"),
                )
            })?;
            if let Some(n) = slot {
                spec.push_str(&format!(",bus={n}"));
            }
            Ok(vec![("--drive", spec)])
        }
        Some("virtio-rng-device") => Ok(vec![("--virtio-rng", "0".to_string())]),
        Some("bochs-display") => Ok(vec![("--device", value.to_string())]),
        Some(other) => Err(QemuArgError::Unsupported {
            option: format!("-device {other}"),
            hint: " (devices: virtio-blk-device, virtio-rng-device, virtio-mem-device, bochs-display)",
        }),
        None => Err(bad("-device", value, "no device name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(args: &[&str]) -> Result<Vec<String>, QemuArgError> {
        let mut v: Vec<OsString> = vec!["ferrite".into()];
        v.extend(args.iter().map(OsString::from));
        rewrite(v).map(|out| {
            out.into_iter()
                .skip(1)
                .map(|s| s.into_string().unwrap())
                .collect()
        })
    }

    #[test]
    fn spike_signature_options() {
        assert_eq!(
            rw(&[
                "run",
                "--machine",
                "spike",
                "+signature=out.sig",
                "+signature-granularity=4",
                "t.elf"
            ])
            .unwrap(),
            [
                "run",
                "--machine",
                "spike",
                "--signature",
                "out.sig",
                "--signature-granularity",
                "4",
                "t.elf"
            ]
        );
    }

    #[test]
    fn a_qemu_command_line_becomes_a_run() {
        assert_eq!(
            rw(&[
                "-machine",
                "virt",
                "-m",
                "1.5G",
                "-smp",
                "2",
                "-bios",
                "none",
                "-kernel",
                "k.elf",
                "-nographic",
                "-serial",
                "mon:stdio",
            ])
            .unwrap(),
            [
                "run",
                "--machine",
                "virt",
                "--memory",
                "1.5G",
                "--smp",
                "2",
                "--bios",
                "none",
                "--kernel",
                "k.elf",
                "--serial",
                "stdio",
                "--monitor",
                "stdio",
            ]
        );
        assert_eq!(
            rw(&["run", "-M", "spike", "-append", "console=ttyS0", "x.elf"]).unwrap(),
            [
                "run",
                "--machine",
                "spike",
                "--append",
                "console=ttyS0",
                "x.elf"
            ]
        );
        // Ferrite's own command lines are untouched.
        assert_eq!(rw(&["mtree", "-f"]).unwrap(), ["mtree", "-f"]);
        assert_eq!(rw(&["--version"]).unwrap(), ["--version"]);
        assert_eq!(
            rw(&["run", "--machine", "virt", "-d", "int", "-D", "log"]).unwrap(),
            ["run", "--machine", "virt", "-d", "int", "-D", "log"]
        );
    }

    #[test]
    fn properties_map_or_are_refused_by_name() {
        assert_eq!(
            rw(&[
                "-machine",
                "virt,aclint=on",
                "-m",
                "size=256M,slots=2,maxmem=1G",
                "-smp",
                "cpus=4,sockets=1"
            ])
            .unwrap(),
            [
                "run",
                "--machine",
                "virt",
                "--memory",
                "256M",
                "--maxmem",
                "1G",
                "--smp",
                "4"
            ]
        );
        let e = rw(&["-machine", "virt,acpi=off"]).unwrap_err().to_string();
        assert!(e.contains("unsupported machine property `acpi`"), "{e}");
        let e = rw(&["-smp", "4,sockets=2"]).unwrap_err().to_string();
        assert!(e.contains("sockets=2"), "{e}");
    }

    #[test]
    fn virtio_mem_takes_qemus_object_and_device() {
        assert_eq!(
            rw(&[
                "-m",
                "1G,maxmem=5G",
                "-object",
                "memory-backend-ram,id=mem0,size=4G",
                "-device",
                "virtio-mem-device,id=vm0,memdev=mem0,requested-size=1G"
            ])
            .unwrap(),
            [
                "run",
                "--memory",
                "1G",
                "--maxmem",
                "5G",
                "--virtio-mem",
                "size=4G,memdev=mem0,id=vm0,requested-size=1G"
            ]
        );
        let e = rw(&["-device", "virtio-mem-device,memdev=m"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `-object memory-backend-ram,id=m"), "{e}");
        let e = rw(&["-object", "memory-backend-ram,id=m,size=1G"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `-device virtio-mem-device"), "{e}");
        let e = rw(&["-object", "memory-backend-file,id=m,size=1G"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("-object memory-backend-file"), "{e}");
    }

    #[test]
    fn drives_and_devices() {
        assert_eq!(
            rw(&["-drive", "file=d.img,format=raw,if=virtio"]).unwrap(),
            ["run", "--drive", "d.img"]
        );
        assert_eq!(
            rw(&[
                "-drive",
                "if=none,id=hd0,file=d.img,format=raw,readonly=on",
                "-device",
                "virtio-blk-device,drive=hd0",
                "-device",
                "virtio-rng-device",
            ])
            .unwrap(),
            ["run", "--drive", "d.img,readonly", "--virtio-rng", "0"]
        );
        assert_eq!(
            rw(&[
                "-drive",
                "if=none,id=x0,file=fs.img,format=raw",
                "-device",
                "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
                "-kernel",
                "kernel",
                "-initrd",
                "rootfs.cpio",
            ])
            .unwrap(),
            [
                "run",
                "--drive",
                "fs.img,bus=0",
                "--kernel",
                "kernel",
                "--initrd",
                "rootfs.cpio"
            ]
        );
        let e = rw(&[
            "-drive",
            "if=none,id=x0,file=fs.img",
            "-device",
            "virtio-blk-device,drive=x0,bus=pcie.0",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("expected virtio-mmio-bus.N"), "{e}");
        let e = rw(&["-drive", "file=d.qcow2,format=qcow2"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("only raw"), "{e}");
        let e = rw(&["-drive", "if=none,id=x,file=d.img"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `-device virtio-blk-device"), "{e}");
        let e = rw(&["-device", "virtio-blk-device,drive=nope"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("if=none,id=nope"), "{e}");
        let e = rw(&["-device", "e1000"]).unwrap_err().to_string();
        assert!(e.contains("`-device e1000` is not supported"), "{e}");
    }

    #[test]
    fn debugger_options_map_to_ferrites() {
        assert_eq!(
            rw(&[
                "-s",
                "-S",
                "-gdb",
                "unix:/tmp/g,server,nowait",
                "-monitor",
                "stdio"
            ])
            .unwrap(),
            [
                "run",
                "-s",
                "-S",
                "--gdb",
                "unix:/tmp/g",
                "--monitor",
                "stdio"
            ]
        );
    }

    #[test]
    fn displays_take_qemus_spellings() {
        assert_eq!(
            rw(&[
                "-device",
                "bochs-display,vgamem=8M",
                "-vnc",
                ":1",
                "-display",
                "gtk"
            ])
            .unwrap(),
            [
                "run",
                "--device",
                "bochs-display,vgamem=8M",
                "--display",
                "vnc:127.0.0.1:5901",
                "--display",
                "window"
            ]
        );
        assert_eq!(
            rw(&["-vnc", "0.0.0.0:3"]).unwrap(),
            ["run", "--display", "vnc:0.0.0.0:5903"]
        );
    }

    #[test]
    fn unsupported_options_are_named() {
        for (args, needle) in [
            (&["-netdev", "user"][..], "`-netdev` is not supported"),
            (&["-cpu", "rv64"], "`-cpu` is not supported"),
            (&["-display", "curses"], "Ferrite's displays are"),
            (&["-vnc", "5900"], "expected [HOST]:DISPLAY"),
            (&["-kernel"], "needs a value"),
        ] {
            let e = rw(args).unwrap_err().to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        assert_eq!(
            rw(&[
                "-display",
                "none",
                "-monitor",
                "none",
                "-icount",
                "shift=0",
                "-no-reboot"
            ])
            .unwrap(),
            ["run"]
        );
    }
}
