//! What a board is given to boot and how QEMU places it: the initrd in RAM
//! and in `/chosen`, drives in the virtio-mmio slot they ask for, and the
//! run endings Linux boots need (`--stop-on-output`, reset, reboot).

use ferrite_machine::{
    BoardKind, ImageSource, Machine, MachineConfig, MachineError, OutputPattern, RunLimits,
    RunOutcome,
};

mod common;
use common::*;

const LIMITS: RunLimits = RunLimits {
    max_insns: Some(2_000_000),
    timeout: None,
};

/// `jal x0, 0`: spin on the spot.
const SPIN: u32 = 0x0000_006f;

fn raw(program: &[u32]) -> ImageSource {
    ImageSource::Bytes {
        name: "kernel.bin".into(),
        bytes: program.iter().flat_map(|w| w.to_le_bytes()).collect(),
    }
}

fn config(program: &[u32]) -> MachineConfig {
    MachineConfig::new(BoardKind::Virt)
        .with_kernel(raw(program))
        .with_captured_serial(b"")
}

/// Prints each byte of `text` on UART0, then runs `tail`.
fn print(text: &[u8], tail: &[u32]) -> Vec<u32> {
    let mut p = vec![lui(T0, 0x10000)];
    for &b in text {
        p.push(addi(T1, 0, i32::from(b)));
        p.push(store(0, T1, T0, 0));
    }
    p.extend_from_slice(tail);
    p
}

/// Asks the test finisher (0x100000) for a reset.
fn reset() -> Vec<u32> {
    vec![
        lui(T0, 0x100),
        lui(T1, 0x7),
        addi(T1, T1, 0x777),
        store(2, T1, T0, 0),
        BACK,
    ]
}

/// The value of property `name` of node `path` (`/chosen`) in a flattened
/// device tree: enough of the format to check what a board wrote.
fn fdt_property(blob: &[u8], path: &str, name: &str) -> Option<Vec<u8>> {
    let be32 = |at: usize| u32::from_be_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let (structure, strings) = (be32(8), be32(12));
    let mut at = structure;
    let mut nodes: Vec<String> = Vec::new();
    loop {
        let token = be32(at);
        at += 4;
        match token {
            1 => {
                let end = at + blob[at..].iter().position(|&b| b == 0)?;
                nodes.push(String::from_utf8_lossy(&blob[at..end]).into_owned());
                at = (end + 4) & !3;
            }
            2 => {
                nodes.pop();
            }
            3 => {
                let (len, nameoff) = (be32(at), be32(at + 4));
                let value = &blob[at + 8..at + 8 + len];
                let pname = &blob[strings + nameoff..];
                let pname = &pname[..pname.iter().position(|&b| b == 0)?];
                if nodes.join("/") == path && pname == name.as_bytes() {
                    return Some(value.to_vec());
                }
                at = (at + 8 + len + 3) & !3;
            }
            4 => {}
            _ => return None,
        }
    }
}

fn initrd_machine(ram: u64, initrd: &[u8]) -> Machine {
    let mut c = config(&[BACK]);
    c.ram_size = ram;
    c.initrd = Some(ImageSource::Bytes {
        name: "initrd".into(),
        bytes: initrd.to_vec(),
    });
    Machine::new(c).expect("board builds")
}

#[test]
fn the_initrd_is_placed_as_qemu_places_it_and_named_in_chosen() {
    // The kernel (raw, no bios) starts at 0x80000000; the initrd goes half
    // of RAM above it on small boards, 128 MiB above it from 256 MiB on.
    for (ram, at) in [(128u64 << 20, 0x8400_0000u32), (1 << 30, 0x8800_0000)] {
        let initrd: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mut m = initrd_machine(ram, &initrd);
        let mut back = vec![0; initrd.len()];
        m.read_physical(u64::from(at), &mut back).unwrap();
        assert_eq!(back, initrd, "initrd at {at:#x}");
        let dtb = m.device_tree().unwrap().to_vec();
        assert_eq!(
            fdt_property(&dtb, "/chosen", "linux,initrd-start"),
            Some(at.to_be_bytes().to_vec())
        );
        assert_eq!(
            fdt_property(&dtb, "/chosen", "linux,initrd-end"),
            Some((at + 5000).to_be_bytes().to_vec())
        );
    }
    let m = Machine::new(config(&[BACK])).unwrap();
    assert_eq!(
        fdt_property(m.device_tree().unwrap(), "/chosen", "linux,initrd-start"),
        None
    );
}

#[test]
fn an_initrd_too_big_for_ram_or_without_a_kernel_is_refused() {
    let mut c = config(&[BACK]);
    c.initrd = Some(ImageSource::Bytes {
        name: "big.cpio".into(),
        bytes: vec![0; 65 << 20],
    });
    let e = Machine::new(c).unwrap_err();
    assert!(
        matches!(
            e,
            MachineError::RawImageOutsideMemory { what: "initrd", .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("big.cpio"), "{e}");
    let mut c = MachineConfig::new(BoardKind::Virt);
    c.initrd = Some(ImageSource::Bytes {
        name: "i".into(),
        bytes: vec![1],
    });
    let e = Machine::new(c).unwrap_err();
    assert!(e.to_string().contains("needs a kernel"), "{e}");
}

/// The virtio device id in slot `slot` (0 for an empty slot).
fn virtio_id(m: &mut Machine, slot: u64) -> u32 {
    let mut b = [0; 4];
    m.read_physical(0x1000_1000 + slot * 0x1000 + 8, &mut b)
        .unwrap();
    u32::from_le_bytes(b)
}

#[test]
fn a_drive_goes_in_the_slot_it_names_and_the_others_count_down() {
    let dir = std::env::temp_dir().join(format!("ferrite-slots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let disk = dir.join("disk.img");
    std::fs::write(&disk, vec![0u8; 4096]).unwrap();
    let d = disk.display();
    let mut c = config(&[BACK]);
    c.drives = vec![
        format!("{d},bus=0").parse().unwrap(),
        format!("{d},readonly").parse().unwrap(),
        format!("{d},bus=virtio-mmio-bus.7").parse().unwrap(),
    ];
    let mut m = Machine::new(c.clone()).unwrap();
    let ids: Vec<u32> = (0..8).map(|s| virtio_id(&mut m, s)).collect();
    // bus=0 in slot 0, bus=7 in slot 7, the drive without a bus in the
    // highest free slot.
    assert_eq!(ids, [2, 0, 0, 0, 0, 0, 2, 2]);
    c.drives[2] = format!("{d},bus=0").parse().unwrap();
    let e = Machine::new(c.clone()).unwrap_err();
    assert!(e.to_string().contains("two drives"), "{e}");
    c.drives[2] = format!("{d},bus=8").parse().unwrap();
    let e = Machine::new(c).unwrap_err();
    assert!(e.to_string().contains("slots 0 to 7"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_ends_when_the_console_prints_a_match() {
    let program = print(b"boot\n~ # ", &[SPIN]);
    let mut c = config(&program);
    c.stop_on_output = Some(OutputPattern::new(r"~ # $").unwrap());
    let mut m = Machine::new(c.clone()).unwrap();
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::OutputMatched);
    assert_eq!(m.captured_output(), b"boot\n~ # ");
    // A match is reported once: going on runs to the limit.
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InstructionLimit);
    c.stop_on_output = Some(OutputPattern::new("login:").unwrap());
    let mut m = Machine::new(c).unwrap();
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::InstructionLimit);
}

#[test]
fn a_reset_ends_the_run_and_a_reboot_boots_again_on_the_same_console() {
    let program = print(b"hi\n", &reset());
    let mut m = Machine::new(config(&program)).unwrap();
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::Reset);
    assert_eq!(RunOutcome::Reset.exit_status(), 120);
    let first = m.stats().insns;
    m.reboot().unwrap();
    assert_eq!(m.stats().insns, 0);
    assert_eq!(m.run(&LIMITS).unwrap(), RunOutcome::Reset);
    assert_eq!(m.stats().insns, first);
    assert_eq!(m.captured_output(), b"hi\nhi\n");
}
