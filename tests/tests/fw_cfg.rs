//! fw_cfg on the virt board against QEMU 7.2: `firmware/bin/fw_cfg.elf`
//! reads every item and file through the data register and through DMA and
//! prints what it finds; the output must equal QEMU's for the same program
//! (`fixtures/fw_cfg.qemu-smpN.txt`, captured once with
//! `qemu-system-riscv64 -M virt -smp N -nographic -bios none -kernel
//! firmware/bin/fw_cfg.elf`).

use std::path::PathBuf;

use ferrite_machine::{BoardKind, ImageSource, MachineConfig, RunLimits, RunOutcome};
use ferrite_tests::{FIRMWARE_MAX_INSNS, run_captured};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn fw_cfg_reads_as_on_qemu() {
    for harts in [1, 4] {
        let elf = root().join("../firmware/bin/fw_cfg.elf");
        let mut config = MachineConfig::new(BoardKind::Virt).with_kernel(ImageSource::File(elf));
        config.harts = harts;
        let run = run_captured(
            config,
            b"",
            RunLimits {
                max_insns: Some(FIRMWARE_MAX_INSNS),
                timeout: None,
            },
        )
        .expect("board builds");
        assert_eq!(run.outcome, RunOutcome::Exited(0), "{}", run.output);
        let qemu =
            std::fs::read_to_string(root().join(format!("fixtures/fw_cfg.qemu-smp{harts}.txt")))
                .expect("QEMU's output");
        assert_eq!(run.output, qemu, "{harts} harts");
    }
}
