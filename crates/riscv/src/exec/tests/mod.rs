//! Executor tests: small programs assembled as raw words into RAM, run on a
//! real memory system through the whole softmmu.

mod asm;
mod control;
mod fuzz;
mod integer;
mod listener;
mod memory;
mod mmio;
mod skips;
mod smc;
mod timer;
mod trap_loop;
mod vm;

use std::cell::RefCell;
use std::rc::Rc;

use ferrite_memory::{
    AccessConstraints, Endianness, GuestAddress, IoDescriptor, MemTxAttrs, MemTxResult,
    MemorySystem, RegionOps, RegionSize,
};
use ferrite_softmmu::VirtualClock;

use crate::cpu::{CpuConfig, RiscvCpu, RiscvCpuExt, RunExit, new_cpu};
use crate::decode::decode;

pub const RAM: u64 = 0x8000_0000;
pub const RAM_SIZE: u64 = 0x10_0000;
pub const IO: u64 = 0x1000_0000;
pub const IO_SIZE: u64 = 0x1_0000;
/// Trap handler installed by `Rig::new`: an endless loop.
pub const HANDLER: u64 = RAM + 0x8_0000;

/// An MMIO region backed by a byte buffer that logs every access.
pub struct LoggedIo {
    pub bytes: RefCell<Vec<u8>>,
    /// (is_write, offset, size)
    pub log: RefCell<Vec<(bool, u64, u32)>>,
}

impl RegionOps for LoggedIo {
    fn read(&self, offset: u64, size: u32, _: MemTxAttrs) -> MemTxResult<u64> {
        self.log.borrow_mut().push((false, offset, size));
        let b = self.bytes.borrow();
        let mut v = 0u64;
        for k in 0..size as usize {
            v |= u64::from(b[offset as usize + k]) << (8 * k);
        }
        Ok(v)
    }
    fn write(&self, offset: u64, value: u64, size: u32, _: MemTxAttrs) -> MemTxResult<()> {
        self.log.borrow_mut().push((true, offset, size));
        let mut b = self.bytes.borrow_mut();
        for k in 0..size as usize {
            b[offset as usize + k] = (value >> (8 * k)) as u8;
        }
        Ok(())
    }
    fn descriptor(&self) -> IoDescriptor {
        IoDescriptor {
            valid: AccessConstraints::sizes(1, 8),
            implementation: AccessConstraints::sizes(1, 8),
            endianness: Endianness::Little,
        }
    }
}

pub struct Rig {
    pub mem: MemorySystem,
    pub cpu: RiscvCpu,
    pub io: Rc<LoggedIo>,
    pub clock: Rc<VirtualClock>,
}

impl Rig {
    /// RAM at [`RAM`], a logged MMIO window at [`IO`], the hart in M-mode at
    /// `RAM` with `mtvec` = [`HANDLER`] (a spin loop).
    pub fn new() -> Self {
        Self::with_config(CpuConfig::default())
    }

    /// As [`Rig::new`], with the hart built from `config`.
    pub fn with_config(config: CpuConfig) -> Self {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram("ram", RAM_SIZE).unwrap();
        let io = Rc::new(LoggedIo {
            bytes: RefCell::new(vec![0; IO_SIZE as usize]),
            log: RefCell::new(Vec::new()),
        });
        let ior = mem.new_io("logged", IO_SIZE, io.clone());
        mem.add_subregion(root, RAM, ram).unwrap();
        mem.add_subregion(root, IO, ior).unwrap();
        let space = mem.new_address_space("cpu", root);
        let clock = VirtualClock::new(10);
        let mut cpu = new_cpu(config, &mut mem, space, clock.clone());
        cpu.reset(RAM);
        let mut rig = Rig {
            mem,
            cpu,
            io,
            clock,
        };
        rig.load(HANDLER, &[asm::SPIN]);
        rig.set_csr(crate::csr::addr::MTVEC, HANDLER);
        rig
    }

    pub fn space(&self) -> ferrite_memory::AddressSpaceId {
        self.cpu.address_space()
    }

    /// Write instruction words at `addr` (through the memory API, as a loader would).
    pub fn load(&mut self, addr: u64, words: &[u32]) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let space = self.space();
        self.mem
            .write(space, GuestAddress(addr), &bytes, MemTxAttrs::default())
            .unwrap();
    }

    /// Load `words` at `RAM` and check each decodes (catches encoder slips).
    pub fn program(&mut self, words: &[u32]) {
        for w in words {
            assert!(
                decode(*w).is_ok(),
                "test program word {w:#010x} does not decode"
            );
        }
        self.load(RAM, words);
    }

    pub fn write_u64(&mut self, addr: u64, v: u64) {
        let space = self.space();
        self.mem
            .write(
                space,
                GuestAddress(addr),
                &v.to_le_bytes(),
                MemTxAttrs::default(),
            )
            .unwrap();
    }

    pub fn read_u64(&mut self, addr: u64) -> u64 {
        let space = self.space();
        let mut b = [0u8; 8];
        self.mem
            .read(space, GuestAddress(addr), &mut b, MemTxAttrs::default())
            .unwrap();
        u64::from_le_bytes(b)
    }

    pub fn set_csr(&mut self, csr: u16, v: u64) {
        let ctx = crate::csr::CsrContext::default();
        let h = self.cpu.hart_mut();
        let p = h.privilege();
        h.csrs_mut().write(csr, v, p, &ctx).unwrap();
    }

    pub fn csr(&mut self, csr: u16) -> u64 {
        let ctx = crate::csr::CsrContext::default();
        let h = self.cpu.hart_mut();
        h.csrs_mut()
            .read(csr, crate::privilege::Privilege::Machine, &ctx)
            .unwrap()
    }

    pub fn run(&mut self, n: u64) -> RunExit {
        self.cpu.run(&mut self.mem, n)
    }

    pub fn x(&self, i: usize) -> u64 {
        self.cpu.xreg(i)
    }
}
