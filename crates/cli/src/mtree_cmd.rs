//! `ferrite mtree`: print a board's memory tree, flat views or dispatch.

use anyhow::Result;
use clap::Args;
use ferrite_machine::{BoardKind, Machine, MachineConfig, MtreeOptions, SerialConfig};

use ferrite_machine::size::parse_mem_size;

/// Options of `ferrite mtree`.
#[derive(Debug, Args)]
pub struct MtreeArgs {
    /// Print the flat views (one per distinct root) instead of the tree.
    #[arg(short = 'f')]
    flat: bool,

    /// With -f (implied), also print each flat view's dispatch table.
    #[arg(short = 'd')]
    dispatch: bool,

    /// In the tree, also print disabled regions, marked `[disabled]`
    /// (QEMU's `info mtree -D`).
    #[arg(short = 'D')]
    disabled: bool,

    /// Board: virt or spike.
    #[arg(
        short = 'M',
        long = "machine",
        value_name = "NAME",
        default_value = "virt"
    )]
    machine: String,

    /// Guest RAM size (as `ferrite run -m`).
    #[arg(short = 'm', long = "memory", value_name = "SIZE", value_parser = parse_mem_size)]
    memory: Option<u64>,

    /// Number of harts (changes the PLIC and CLINT sizes).
    #[arg(long, value_name = "N", default_value_t = 1)]
    smp: u32,

    #[command(flatten)]
    devices: crate::run_cmd::DeviceArgs,
}

/// Runs `ferrite mtree`; returns the exit status.
pub fn run(args: MtreeArgs) -> Result<u8> {
    let board: BoardKind = args.machine.parse()?;
    let mut config = MachineConfig::new(board);
    if let Some(size) = args.memory {
        config.ram_size = size;
    }
    config.harts = args.smp;
    config.serial = SerialConfig::Null;
    args.devices.apply(&mut config)?;
    let machine = Machine::new(config)?;
    let text = machine.mtree(MtreeOptions {
        flatview: args.flat || args.dispatch,
        dispatch: args.dispatch,
        hide_empty: false,
        disabled: args.disabled,
    });
    crate::write_stdout(&text)?;
    Ok(0)
}
