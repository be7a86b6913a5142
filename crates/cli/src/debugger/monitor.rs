//! The monitor: QEMU's human monitor commands over a stopped machine.
//!
//! [`Monitor::execute`] runs one command line and returns its text and
//! what the session should do next (go on running, stop, step, quit). The
//! session calls it with the guest stopped (a command typed while the guest
//! runs stops it for the command and resumes it exactly, so the guest
//! cannot tell); gdb's `monitor CMD` calls it too.

use ferrite_machine::{HartDebug, Machine, MtreeOptions};

/// What the session does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorAction {
    /// Stop the guest (`stop`).
    Stop,
    /// Run the guest (`cont`).
    Continue,
    /// Execute N instructions of the current hart, then stop (`step N`).
    Step(u64),
    /// End the session and the run (`quit`).
    Quit,
}

/// The result of one command.
#[derive(Debug, Default)]
pub struct MonitorReply {
    /// What to print (ends with a newline unless empty).
    pub text: String,
    /// What to do next.
    pub action: Option<MonitorAction>,
}

impl MonitorReply {
    fn text(text: String) -> Self {
        Self { text, action: None }
    }
    fn action(action: MonitorAction, text: String) -> Self {
        Self {
            text,
            action: Some(action),
        }
    }
}

/// The monitor's own state: which hart commands apply to (QEMU's `cpu N`).
#[derive(Debug, Default)]
pub struct Monitor {
    /// The current hart.
    pub hart: u32,
}

const HELP: &str = "\
cont|c                  resume the guest
cpu N                   make hart N the current hart
help|?                  this list
info blocks             translated-block cache statistics per hart
info cpus               the harts, their pc and privilege
info display            the display's mode, refreshes and back-ends
info memory-devices     the virtio-mem devices: address, sizes, memdev
info memory_size_summary base memory and plugged memory
info memslots           memslot accounting of the device-memory window
info mtree [-f] [-d] [-D] the memory tree; -f flat views, -d dispatch
                        tables, -D disabled regions too
info pci                the PCI functions and their BARs
info registers [-a]     the current hart's registers (-a: every hart)
info tlb                the current hart's software TLB
qom-set ID requested-size SIZE
                        ask virtio-mem device ID to hold SIZE bytes
quit|q                  end the run
screendump FILE         write the display's picture to FILE (PNG)
step [N]                execute N instructions (1) of the current hart
stop                    stop the guest
system_reset            reset every hart to the boot ROM
x/FMT ADDR              virtual memory as the current hart sees it
xp/FMT ADDR             physical memory
                        FMT: [count][x|d|u|o|c|i][b|h|w|g], as QEMU's
                        ADDR: a number, $pc, $REG, and + or - between them
";

impl Monitor {
    /// Run one command line.
    pub fn execute(&mut self, machine: &mut Machine, line: &str) -> MonitorReply {
        let line = line.trim();
        let (cmd, rest) = match line.find(|c: char| c.is_whitespace() || c == '/') {
            Some(i) => (&line[..i], line[i..].trim_start()),
            None => (line, ""),
        };
        match cmd {
            "" => MonitorReply::default(),
            "help" | "?" => MonitorReply::text(HELP.to_string()),
            "c" | "cont" => MonitorReply::action(MonitorAction::Continue, String::new()),
            "stop" => MonitorReply::action(MonitorAction::Stop, String::new()),
            "q" | "quit" => MonitorReply::action(MonitorAction::Quit, String::new()),
            "system_reset" => {
                machine.reset_harts();
                MonitorReply::text(String::new())
            }
            "step" => match parse_count(rest) {
                Ok(n) => MonitorReply::action(MonitorAction::Step(n), String::new()),
                Err(e) => MonitorReply::text(e),
            },
            "cpu" => match rest.parse::<u32>() {
                Ok(n) if n < machine.hart_count() => {
                    self.hart = n;
                    MonitorReply::default()
                }
                _ => MonitorReply::text(format!("invalid CPU index `{rest}'\n")),
            },
            "info" => MonitorReply::text(self.info(machine, rest)),
            "screendump" => MonitorReply::text(match rest {
                "" => "screendump: missing file name\n".to_string(),
                path => match machine.screendump(std::path::Path::new(path)) {
                    Ok(()) => String::new(),
                    Err(e) => format!("{e}\n"),
                },
            }),
            "qom-set" => MonitorReply::text(qom_set(machine, rest)),
            "x" | "xp" => MonitorReply::text(
                self.examine(machine, cmd == "xp", rest)
                    .unwrap_or_else(|e| format!("{e}\n")),
            ),
            _ => MonitorReply::text(format!("unknown command: '{cmd}'\n")),
        }
    }

    fn info(&self, machine: &mut Machine, args: &str) -> String {
        let mut words = args.split_whitespace();
        let what = words.next().unwrap_or("");
        let flags: Vec<&str> = words.collect();
        match what {
            "registers" | "r" => {
                let harts: Vec<u32> = if flags.contains(&"-a") {
                    (0..machine.hart_count()).collect()
                } else {
                    vec![self.hart]
                };
                let mut out = String::new();
                for h in harts {
                    if let Some(d) = machine.hart_ref(h) {
                        if flags.contains(&"-a") {
                            out.push_str(&format!("\nCPU#{h}\n"));
                        }
                        out.push_str(&d.register_dump());
                        if !out.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                }
                out
            }
            "mtree" => {
                let opts = MtreeOptions {
                    flatview: flags.contains(&"-f"),
                    dispatch: flags.contains(&"-d"),
                    hide_empty: false,
                    disabled: flags.contains(&"-D"),
                };
                machine.mtree(opts)
            }
            "cpus" => {
                let mut out = String::new();
                for h in 0..machine.hart_count() {
                    if let Some(d) = machine.hart_ref(h) {
                        let mark = if h == self.hart { '*' } else { ' ' };
                        out.push_str(&format!(
                            "{mark} CPU #{h}: pc={:#018x} priv={}\n",
                            d.state().pc(),
                            d.state().privilege()
                        ));
                    }
                }
                out
            }
            "tlb" => match machine.hart_ref(self.hart) {
                Some(d) => tlb_text(d),
                None => String::new(),
            },
            "blocks" => {
                let mut out = String::new();
                for h in 0..machine.hart_count() {
                    if let Some(d) = machine.hart_ref(h) {
                        let (s, cached) = d.engine_stats();
                        out.push_str(&format!(
                            "CPU#{h}: {cached} blocks cached; {} translated, {} invalidated, {} chains made; {} TLB fills, {} TLB flushes, {} slow-path accesses\n",
                            s.blocks_translated,
                            s.blocks_invalidated,
                            s.blocks_chained,
                            s.tlb_fills,
                            s.tlb_flushes,
                            s.tlb_slow_accesses
                        ));
                    }
                }
                out
            }
            "display" => machine
                .display_info()
                .unwrap_or_else(|| "no display device\n".to_string()),
            "pci" => pci_info(machine),
            "memory-devices" => memory_devices_info(machine),
            "memory_size_summary" => {
                let plugged: u64 = machine
                    .virtio_mem_info()
                    .iter()
                    .map(|d| d.plugged_size)
                    .sum();
                format!(
                    "base memory: {}\nplugged memory: {plugged}\n",
                    machine.ram_size()
                )
            }
            "memslots" => match machine.memslot_stats() {
                Some(s) => format!(
                    "limit {}, used {}, required {}, reserved {}, free {}\n",
                    s.limit,
                    s.used,
                    s.required,
                    s.reserved,
                    s.free()
                ),
                None => "no device-memory window (--maxmem)\n".to_string(),
            },
            "" => "info blocks|cpus|display|memory-devices|memory_size_summary|memslots|mtree|pci|registers|tlb\n".to_string(),
            other => format!("unknown info item: '{other}'\n"),
        }
    }

    /// `x/FMT ADDR` and `xp/FMT ADDR`.
    fn examine(&self, machine: &mut Machine, physical: bool, args: &str) -> Result<String, String> {
        let (fmt, addr) = match args.strip_prefix('/') {
            Some(rest) => match rest.split_once(char::is_whitespace) {
                Some((f, a)) => (f, a.trim()),
                None => return Err("x: missing address".into()),
            },
            None => ("", args.trim()),
        };
        let fmt = Format::parse(fmt)?;
        let addr = self.evaluate(machine, addr)?;
        let total = fmt.count.saturating_mul(u64::from(fmt.size));
        if total > 1 << 20 {
            return Err("x: at most 1 MiB at a time".into());
        }
        let mut bytes = vec![0u8; total as usize];
        let read = if physical {
            machine.read_physical(addr, &mut bytes)
        } else {
            machine.read_virtual(self.hart, addr, &mut bytes)
        };
        read.map_err(|e| e.to_string())?;
        if fmt.letter == 'i' {
            return self.disassembly(machine, physical, addr, fmt.count);
        }
        Ok(dump(addr, &bytes, &fmt))
    }

    fn disassembly(
        &self,
        machine: &mut Machine,
        physical: bool,
        addr: u64,
        count: u64,
    ) -> Result<String, String> {
        let mut out = String::new();
        let mut pc = addr;
        for _ in 0..count {
            let mut b = [0u8; 4];
            let r = if physical {
                machine.read_physical(pc, &mut b)
            } else {
                machine.read_virtual(self.hart, pc, &mut b)
            };
            if r.is_err() {
                // A 2-byte instruction at the end of mapped memory.
                let mut half = [0u8; 2];
                let r2 = if physical {
                    machine.read_physical(pc, &mut half)
                } else {
                    machine.read_virtual(self.hart, pc, &mut half)
                };
                r2.map_err(|e| e.to_string())?;
                b[..2].copy_from_slice(&half);
            }
            let Some(d) = machine.hart_ref(self.hart) else {
                break;
            };
            let Some((len, text)) = d.disassemble(&b, pc) else {
                break;
            };
            let raw = if len == 4 {
                format!("{:08x}", u32::from_le_bytes(b))
            } else {
                format!("{:04x}    ", u16::from_le_bytes([b[0], b[1]]))
            };
            out.push_str(&format!("0x{pc:016x}:  {raw}  {text}\n"));
            pc = pc.wrapping_add(len as u64);
        }
        Ok(out)
    }

    /// An address expression: terms (numbers, `$pc`, `$REG`) joined by `+`
    /// and `-`.
    pub fn evaluate(&self, machine: &mut Machine, expr: &str) -> Result<u64, String> {
        let mut total = 0u64;
        let mut sign_minus = false;
        let mut term = String::new();
        let mut apply = |term: &str, minus: bool, total: &mut u64| -> Result<(), String> {
            let t = term.trim();
            if t.is_empty() {
                return Err(format!("bad address expression `{expr}`"));
            }
            let v = self.term(machine, t)?;
            *total = if minus {
                total.wrapping_sub(v)
            } else {
                total.wrapping_add(v)
            };
            Ok(())
        };
        for c in expr.chars() {
            if (c == '+' || c == '-') && !term.trim().is_empty() {
                apply(&term, sign_minus, &mut total)?;
                term.clear();
                sign_minus = c == '-';
            } else {
                term.push(c);
            }
        }
        apply(&term, sign_minus, &mut total)?;
        Ok(total)
    }

    fn term(&self, machine: &mut Machine, t: &str) -> Result<u64, String> {
        if let Some(reg) = t.strip_prefix('$') {
            let d = machine
                .hart_ref(self.hart)
                .ok_or_else(|| format!("no hart {}", self.hart))?;
            let s = d.state();
            if reg == "pc" {
                return Ok(s.pc());
            }
            return register_number(reg)
                .and_then(|n| s.register(n))
                .ok_or_else(|| format!("unknown register `{reg}`"));
        }
        parse_number(t).ok_or_else(|| format!("bad number `{t}`"))
    }
}

/// `info memory-devices` as QEMU's HMP prints it.
fn memory_devices_info(machine: &Machine) -> String {
    let mut out = String::new();
    for d in machine.virtio_mem_info() {
        out.push_str(&format!(
            "Memory device [virtio-mem]: \"{}\"\n  memaddr: {:#x}\n  node: 0\n  requested-size: {}\n  size: {}\n  max-size: {}\n  block-size: {}\n  memdev: /objects/{}\n",
            d.id, d.addr, d.requested_size, d.plugged_size, d.region_size, d.block_size, d.memdev
        ));
    }
    out
}

/// `qom-set ID requested-size SIZE`: the one property Ferrite's devices
/// change at run time.
fn qom_set(machine: &mut Machine, args: &str) -> String {
    let words: Vec<&str> = args.split_whitespace().collect();
    let [id, property, value] = words[..] else {
        return "usage: qom-set ID requested-size SIZE\n".to_string();
    };
    if property != "requested-size" {
        return format!("qom-set: property `{property}` cannot be set (requested-size can)\n");
    }
    let size = if value == "0" {
        Ok(0)
    } else {
        ferrite_machine::size::parse_mem_size(value)
    };
    match size {
        Ok(size) => match machine.set_virtio_mem_requested_size(id, size) {
            Ok(()) => String::new(),
            Err(e) => format!("{e}\n"),
        },
        Err(e) => format!("qom-set: {e}\n"),
    }
}

/// The number of an integer register by name: `x5`, or its ABI name.
pub fn register_number(name: &str) -> Option<usize> {
    if let Some(n) = name.strip_prefix('x').and_then(|n| n.parse::<usize>().ok()) {
        return (n < 32).then_some(n);
    }
    if name == "fp" {
        return Some(8);
    }
    (0..32u8)
        .find(|&r| ferrite_machine::reg_name(r) == name)
        .map(usize::from)
}

/// A number as QEMU's monitor reads it: `0x` hex, else decimal.
pub fn parse_number(t: &str) -> Option<u64> {
    let t = t.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

fn parse_count(t: &str) -> Result<u64, String> {
    if t.trim().is_empty() {
        return Ok(1);
    }
    match parse_number(t) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("step: bad count `{t}`\n")),
    }
}

/// A `/FMT` of `x` and `xp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format {
    count: u64,
    letter: char,
    size: u32,
}

impl Format {
    fn parse(text: &str) -> Result<Format, String> {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        let count = if digits.is_empty() {
            1
        } else {
            digits
                .parse()
                .map_err(|_| format!("bad count in `/{text}`"))?
        };
        let mut letter = 'x';
        let mut size = None;
        for c in text[digits.len()..].chars() {
            match c {
                'x' | 'd' | 'u' | 'o' | 'c' | 'i' => letter = c,
                'b' => size = Some(1),
                'h' => size = Some(2),
                'w' => size = Some(4),
                'g' => size = Some(8),
                _ => return Err(format!("invalid char in format: '{c}'")),
            }
        }
        let size = if letter == 'c' { 1 } else { size.unwrap_or(4) };
        Ok(Format {
            count,
            letter,
            size,
        })
    }
}

/// QEMU's `memory_dump`: the address (16 hex digits), then 16 bytes a line
/// (8 for bytes), each item as the format says.
fn dump(addr: u64, bytes: &[u8], fmt: &Format) -> String {
    let w = fmt.size as usize;
    let line = if w == 1 { 8 } else { 16 };
    let digits = match fmt.letter {
        'o' => (w * 8).div_ceil(3),
        'u' | 'd' => (w * 8 * 10).div_ceil(33),
        _ => w * 2,
    };
    let mut out = String::new();
    for (k, chunk) in bytes.chunks(line).enumerate() {
        out.push_str(&format!("{:016x}:", addr.wrapping_add((k * line) as u64)));
        for item in chunk.chunks(w) {
            let mut v = [0u8; 8];
            v[..item.len()].copy_from_slice(item);
            let v = u64::from_le_bytes(v);
            out.push(' ');
            match fmt.letter {
                'o' => out.push_str(&format!("{:#0width$o}", v, width = digits)),
                'u' => out.push_str(&format!("{v:>digits$}")),
                'd' => {
                    let shift = 64 - 8 * w as u32;
                    let s = ((v << shift) as i64) >> shift;
                    out.push_str(&format!("{s:>digits$}"));
                }
                'c' => out.push_str(&printable(v as u8)),
                _ => out.push_str(&format!("0x{v:0digits$x}")),
            }
        }
        out.push('\n');
    }
    out
}

/// A byte as QEMU's `monitor_printc` shows it.
fn printable(b: u8) -> String {
    match b {
        b'\'' => "\\'".into(),
        b'\\' => "\\\\".into(),
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        32..=126 => format!("'{}'", b as char),
        _ => format!("\\x{b:02x}"),
    }
}

/// `info tlb`: one line per mapped slot.
fn tlb_text(d: &dyn HartDebug) -> String {
    use ferrite_softmmu_flags::describe;
    let mut slots = d.tlb_slots();
    slots.sort_by_key(|s| (s.mmu_idx.0, s.vpage));
    let mut out = String::from("mode vaddr            paddr            read  write fetch\n");
    for s in slots {
        out.push_str(&format!(
            "{:<4} {:016x} {:016x} {:<5} {:<5} {:<5}\n",
            s.mmu_idx.0,
            s.vpage,
            s.full.paddr.0,
            describe(s.read),
            describe(s.write),
            describe(s.fetch),
        ));
    }
    out
}

/// The TLB tag flags as `info tlb` shows them.
mod ferrite_softmmu_flags {
    use ferrite_machine::tlb_flags::{
        TLB_DISCARD_WRITE, TLB_MMIO, TLB_NOTDIRTY, TLB_RECHECK, TLB_WATCHPOINT,
    };

    /// `-` when not granted, `ok` for a plain slot, else the flags' letters:
    /// M (MMIO), N (NOTDIRTY), W (watchpoint), R (recheck), D (writes
    /// discarded).
    pub fn describe(tag: Option<u64>) -> String {
        let Some(flags) = tag else {
            return "-".into();
        };
        let mut s = String::new();
        for (bit, c) in [
            (TLB_MMIO, 'M'),
            (TLB_NOTDIRTY, 'N'),
            (TLB_WATCHPOINT, 'W'),
            (TLB_RECHECK, 'R'),
            (TLB_DISCARD_WRITE, 'D'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
        if s.is_empty() { "ok".into() } else { s }
    }
}

/// `info pci`, laid out as QEMU's.
fn pci_info(machine: &Machine) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for f in machine.pci_functions() {
        let class = match f.class >> 8 {
            0x0600 => "Host bridge".to_string(),
            0x0380 => "Display controller".to_string(),
            0x0300 => "VGA controller".to_string(),
            c => format!("Class {c:04x}"),
        };
        let _ = writeln!(
            out,
            "  Bus  0, device {:3}, function {}:\n    {class}: PCI device {:04x}:{:04x}\n      PCI subsystem {:04x}:{:04x}",
            f.devfn >> 3,
            f.devfn & 7,
            f.vendor,
            f.device,
            f.subsystem_vendor,
            f.subsystem
        );
        for (bar, at) in &f.bars {
            use ferrite_machine::pci::BarKind;
            let kind = match bar.kind {
                BarKind::Memory32 => "32 bit memory",
                BarKind::Memory32Prefetchable => "32 bit prefetchable memory",
                BarKind::Memory64Prefetchable => "64 bit prefetchable memory",
                BarKind::Io => "I/O",
                BarKind::Rom => "32 bit memory",
            };
            let (start, last) = match at {
                Some(a) => (*a, a + (bar.size - 1)),
                None => (u64::MAX, bar.size.wrapping_sub(2)),
            };
            let _ = writeln!(
                out,
                "      BAR{}: {kind} at {start:#x} [{last:#010x}].",
                bar.index
            );
        }
        let _ = writeln!(out, "      id \"{}\"", f.name);
    }
    if out.is_empty() {
        out.push_str("no PCI bus\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_as_qemu() {
        assert_eq!(
            Format::parse("8xw").unwrap(),
            Format {
                count: 8,
                letter: 'x',
                size: 4
            }
        );
        assert_eq!(Format::parse("2g").unwrap().size, 8);
        assert_eq!(Format::parse("4c").unwrap().size, 1);
        assert!(Format::parse("3z").is_err());
    }

    #[test]
    fn dumps_look_like_qemu() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let f = Format::parse("5xw").unwrap();
        assert_eq!(
            dump(0x8000_0000, &bytes, &f),
            "0000000080000000: 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c\n\
             0000000080000010: 0x13121110\n"
        );
        let f = Format::parse("2dh").unwrap();
        assert_eq!(
            dump(0x10, &[0xff, 0xff, 2, 0], &f),
            "0000000000000010:    -1     2\n"
        );
        let f = Format::parse("3c").unwrap();
        assert_eq!(dump(0, b"a\n\x01", &f), "0000000000000000: 'a' \\n \\x01\n");
    }

    #[test]
    fn register_names_resolve() {
        assert_eq!(register_number("sp"), Some(2));
        assert_eq!(register_number("x31"), Some(31));
        assert_eq!(register_number("fp"), Some(8));
        assert_eq!(register_number("x32"), None);
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("10"), Some(10));
    }
}
