//! The engine is target-independent: a toy target of a few dozen lines of
//! semantics runs on it, with chaining, the budget, faults, waiting,
//! self-modifying code (the NOTDIRTY path invalidates blocks inside the
//! engine) and the memory listener, none of which the toy implements.
//!
//! The toy ISA: 8-byte little-endian instructions, the opcode in the low
//! byte and a 56-bit operand above it, one accumulator.
//!
//! | opcode | instruction |
//! |---|---|
//! | 1 | `add imm`: acc += imm |
//! | 2 | `store addr`: the 8 bytes at virtual `addr` become acc |
//! | 3 | `jump target` (ends the block, chain slot 0) |
//! | 4 | `wait` (ends the block; the CPU waits until `irq` is set) |
//! | other | undefined: a fault at its pc |

use std::cell::Cell;
use std::rc::Rc;

use ferrite_memory::{GuestAddress, MemTxAttrs, MemTxError, MemorySystem, RegionSize};
use ferrite_softmmu::tlb::{MmuAccess, PAGE_SIZE, PageMapping, Prot};
use ferrite_softmmu::{
    ArchState, BlockExit, BlockKey, Cpu, Finish, MmuIdx, RunExit, StateError, Target, Translated,
    TranslatedBlock, VirtAddr, VirtualClock,
};

const RAM: u64 = 0x1000_0000;
/// The toy's one MMU mode.
const MODE: MmuIdx = MmuIdx(0);
/// Where a fault sends the toy (its one trap vector).
const VECTOR: u64 = RAM;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add(u64),
    Store(u64),
    Jump(u64),
    Wait,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ToyExit {
    Fault {
        pc: u64,
    },
    Wait {
        pc: u64,
    },
    /// A store changed code or memory events: continue at `pc` after the
    /// loop's checks.
    Sync {
        pc: u64,
    },
}

/// The toy's executable form: an op and its pc.
#[derive(Clone, Copy, Debug)]
struct Slot {
    pc: u64,
    op: Op,
}

#[derive(Debug, Default)]
struct Toy {
    pc: u64,
    acc: u64,
    retired: u64,
    faults: u64,
    irq: Rc<Cell<bool>>,
}

fn encode(op: Option<Op>) -> u64 {
    match op {
        Some(Op::Add(v)) => 1 | v << 8,
        Some(Op::Store(a)) => 2 | a << 8,
        Some(Op::Jump(t)) => 3 | t << 8,
        Some(Op::Wait) => 4,
        None => 0xff,
    }
}

fn decode(word: u64) -> Option<Op> {
    let arg = word >> 8;
    match word & 0xff {
        1 => Some(Op::Add(arg)),
        2 => Some(Op::Store(arg)),
        3 => Some(Op::Jump(arg)),
        4 => Some(Op::Wait),
        _ => None,
    }
}

impl ArchState for Toy {
    fn cpu_index(&self) -> u64 {
        0
    }
    fn pc(&self) -> u64 {
        self.pc
    }
    fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }
    fn register_count(&self) -> usize {
        1
    }
    fn register(&self, n: usize) -> Option<u64> {
        (n == 0).then_some(self.acc)
    }
    fn set_register(&mut self, n: usize, value: u64) -> bool {
        if n == 0 {
            self.acc = value;
        }
        n == 0
    }
    fn privilege(&self) -> u8 {
        0
    }
    fn read_control(&self, _: u16) -> Option<u64> {
        None
    }
    fn write_control(&mut self, _: u16, _: u64) -> bool {
        false
    }
    fn save_state(&self) -> Vec<u8> {
        [self.pc, self.acc]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }
    fn restore_state(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        if bytes.len() != 16 {
            return Err(StateError::WrongLength {
                found: bytes.len(),
                expected: 16,
            });
        }
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            u64::from_le_bytes(b)
        };
        self.pc = word(0);
        self.acc = word(1);
        Ok(())
    }
}

impl Target for Toy {
    type Code = Slot;
    type Fault = u64;
    type Exit = ToyExit;

    fn tlb_fill(
        &mut self,
        _: &mut MemorySystem,
        vaddr: VirtAddr,
        _: u32,
        _: MmuAccess,
        _: MmuIdx,
    ) -> Result<PageMapping, u64> {
        // Identity mapping with every permission.
        Ok(PageMapping {
            vaddr,
            paddr: GuestAddress(vaddr.0),
            prot: Prot::RWX,
            page_size_log2: 12,
            attrs: MemTxAttrs::default(),
            cacheable: true,
        })
    }

    fn bus_fault(&mut self, vaddr: VirtAddr, _: u32, _: MmuAccess, _: MemTxError) -> u64 {
        vaddr.0
    }

    fn fetch_mmu_idx(&self) -> MmuIdx {
        MODE
    }

    fn block_flags(&self) -> u32 {
        0
    }

    fn mmu_state_changed(&mut self) {}

    fn irq_inputs(&self) -> u64 {
        u64::from(self.irq.get())
    }

    fn check_pc(&self, pc: VirtAddr) -> Result<(), u64> {
        if pc.0 % 8 == 0 { Ok(()) } else { Err(pc.0) }
    }

    fn translate_block(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        key: BlockKey,
    ) -> Result<Translated<Slot>, u64> {
        let mut code = Vec::new();
        let mut pc = key.pc.0;
        loop {
            let lo = cpu.fetch_code::<4>(mem, VirtAddr(pc))?;
            let hi = cpu.fetch_code::<4>(mem, VirtAddr(pc + 4))?;
            let Some(op) = decode(lo | hi << 32) else {
                if code.is_empty() {
                    return Err(pc);
                }
                break;
            };
            code.push(Slot { pc, op });
            pc += 8;
            if matches!(op, Op::Jump(_) | Op::Wait) || pc % PAGE_SIZE == 0 {
                break;
            }
        }
        Ok(Translated::Block(TranslatedBlock {
            byte_len: (pc - key.pc.0) as u32,
            code,
            terminal: None,
            pages: vec![key.phys_pc],
            code_ranges: Vec::new(),
        }))
    }

    fn insn_count(code: &[Slot]) -> u64 {
        code.len() as u64
    }

    fn exec_block(
        cpu: &mut Cpu<Self>,
        mem: &mut MemorySystem,
        code: &[Slot],
    ) -> BlockExit<ToyExit> {
        for s in code {
            if cpu.chain.left == 0 {
                return BlockExit::Jump {
                    pc: s.pc,
                    slot: None,
                };
            }
            match s.op {
                Op::Add(v) => cpu.arch.acc = cpu.arch.acc.wrapping_add(v),
                Op::Store(a) => {
                    let acc = cpu.arch.acc;
                    if !cpu.tlb.store_fast::<8>(MODE, VirtAddr(a), acc) {
                        cpu.settle();
                        match cpu.store_slow(mem, MODE, VirtAddr(a), 8, acc) {
                            Ok(true) => {
                                cpu.chain.left -= 1;
                                return BlockExit::Other(ToyExit::Sync { pc: s.pc + 8 });
                            }
                            Ok(false) => {}
                            Err(_) => return BlockExit::Other(ToyExit::Fault { pc: s.pc }),
                        }
                    }
                }
                Op::Jump(t) => {
                    cpu.chain.left -= 1;
                    return BlockExit::Jump {
                        pc: t,
                        slot: Some(0),
                    };
                }
                Op::Wait => {
                    cpu.chain.left -= 1;
                    return BlockExit::Other(ToyExit::Wait { pc: s.pc + 8 });
                }
            }
            cpu.chain.left -= 1;
        }
        let next = code.last().map_or(0, |s| s.pc + 8);
        BlockExit::Jump {
            pc: next,
            slot: Some(1),
        }
    }

    fn exec_uncached(
        _: &mut Cpu<Self>,
        _: &mut MemorySystem,
        pc: u64,
    ) -> (u64, BlockExit<ToyExit>) {
        (0, BlockExit::Other(ToyExit::Fault { pc }))
    }

    fn finish(cpu: &mut Cpu<Self>, _: &mut MemorySystem, exit: ToyExit) -> Finish {
        match exit {
            ToyExit::Fault { pc } => cpu.arch.raise(pc, pc),
            ToyExit::Wait { pc } => {
                cpu.arch.pc = pc;
                if cpu.arch.irq.get() {
                    Finish::Continue
                } else {
                    Finish::Wait
                }
            }
            ToyExit::Sync { pc } => {
                cpu.arch.pc = pc;
                Finish::Continue
            }
        }
    }

    fn raise(&mut self, _fault: u64, _pc: u64) -> Finish {
        self.faults += 1;
        self.pc = VECTOR;
        Finish::Faulted
    }

    fn take_interrupt(&mut self, _: u64) -> bool {
        false
    }

    fn wakeup(&mut self, _: u64) -> bool {
        self.irq.get()
    }

    fn timer_deadline(&self) -> Option<u64> {
        None
    }

    fn retire(&mut self, n: u64) {
        self.retired += n;
    }

    fn log_state(&self) -> String {
        format!("pc {:#x} acc {:#x}", self.pc, self.acc)
    }
}

struct Rig {
    mem: MemorySystem,
    cpu: Cpu<Toy>,
}

impl Rig {
    /// RAM at [`RAM`] holding `program`, the toy at `start`.
    fn new(program: &[(u64, Option<Op>)], start: u64) -> Rig {
        let mut mem = MemorySystem::new();
        let root = mem.new_container("system", RegionSize::Max);
        let ram = mem.new_ram("ram", 0x10_0000).unwrap();
        mem.add_subregion(root, RAM, ram).unwrap();
        let space = mem.new_address_space("cpu-memory-0", root);
        let mut cpu = Cpu::new(Toy::default(), &mut mem, space, VirtualClock::new(10));
        cpu.arch.pc = start;
        let mut rig = Rig { mem, cpu };
        for &(addr, op) in program {
            rig.poke(addr, op);
        }
        rig
    }

    /// Write an instruction through the memory API (as a loader or DMA would).
    fn poke(&mut self, addr: u64, op: Option<Op>) {
        let space = self.cpu.address_space();
        self.mem
            .write(
                space,
                GuestAddress(addr),
                &encode(op).to_le_bytes(),
                MemTxAttrs::default(),
            )
            .unwrap();
    }
}

#[test]
fn a_chained_loop_runs_to_the_exact_budget() {
    let pc = RAM + 0x100;
    let mut r = Rig::new(&[(pc, Some(Op::Add(1))), (pc + 8, Some(Op::Jump(pc)))], pc);
    assert_eq!(r.cpu.run(&mut r.mem, 1001), RunExit::BudgetExhausted);
    assert_eq!(r.cpu.arch.retired, 1001);
    assert_eq!(r.cpu.arch.acc, 501, "the 1001st instruction is an add");
    assert_eq!(r.cpu.arch.pc, pc + 8);
    assert_eq!(r.cpu.clock().insns(), 1001);
    let s = r.cpu.engine_stats();
    assert_eq!(s.blocks_translated, 1);
    assert!(s.blocks_chained >= 1, "the loop chains to itself");
}

#[test]
fn a_store_over_translated_code_runs_the_new_code() {
    // Block A: add 1; jump B. Block B (same page): store acc over A's first
    // instruction; jump A. With acc set so that it holds the encoding of
    // `add 7` once A's add has run, the second pass through A must run
    // `add 7`: the store invalidated A inside the engine.
    let a = RAM + 0x100;
    let b = RAM + 0x200;
    let mut r = Rig::new(
        &[
            (a, Some(Op::Add(1))),
            (a + 8, Some(Op::Jump(b))),
            (b, Some(Op::Store(a))),
            (b + 8, Some(Op::Jump(a))),
        ],
        a,
    );
    let add7 = encode(Some(Op::Add(7)));
    r.cpu.arch.acc = add7 - 1;
    // add, jump, store, jump, add (the new one).
    r.cpu.run(&mut r.mem, 5);
    assert_eq!(r.cpu.arch.acc, add7 + 7, "the stale `add 1` ran");
    assert!(r.cpu.engine_stats().blocks_invalidated >= 1);
    assert_eq!(r.cpu.arch.retired, 5);
}

#[test]
fn an_outside_write_to_code_reaches_the_cpu_before_it_runs_again() {
    let pc = RAM + 0x100;
    let mut r = Rig::new(&[(pc, Some(Op::Add(1))), (pc + 8, Some(Op::Jump(pc)))], pc);
    r.cpu.run(&mut r.mem, 10);
    assert_eq!(r.cpu.arch.acc, 5);
    // DMA-like: the memory API's code-write hook queues an event.
    r.poke(pc, Some(Op::Add(100)));
    r.cpu.arch.pc = pc;
    r.cpu.run(&mut r.mem, 1);
    assert_eq!(r.cpu.arch.acc, 105);
}

#[test]
fn faults_consume_budget_and_waits_end_the_run() {
    // The vector waits; the program jumps into undefined code.
    let pc = RAM + 0x100;
    let mut r = Rig::new(
        &[
            (VECTOR, Some(Op::Wait)),
            (pc, Some(Op::Jump(RAM + 0x300))),
            (RAM + 0x300, None),
        ],
        pc,
    );
    assert_eq!(r.cpu.run(&mut r.mem, 100), RunExit::WaitingForInterrupt);
    assert_eq!(r.cpu.arch.faults, 1);
    // The jump and the wait retired; the fault consumed one unit of time too.
    assert_eq!(r.cpu.arch.retired, 2);
    assert_eq!(r.cpu.clock().insns(), 3);
    assert!(r.cpu.is_halted());
    assert_eq!(r.cpu.run(&mut r.mem, 100), RunExit::WaitingForInterrupt);
    r.cpu.arch.irq.set(true);
    r.poke(VECTOR + 8, Some(Op::Add(5)));
    assert_eq!(r.cpu.run(&mut r.mem, 1), RunExit::BudgetExhausted);
    assert_eq!(r.cpu.arch.acc, 5, "woken, the toy went on after its wait");
}

#[test]
fn a_map_change_flushes_the_tlb_through_the_listener() {
    let pc = RAM + 0x100;
    let mut r = Rig::new(&[(pc, Some(Op::Add(1))), (pc + 8, Some(Op::Jump(pc)))], pc);
    r.cpu.run(&mut r.mem, 4);
    assert!(r.cpu.tlb.fetch_fast::<4>(MODE, VirtAddr(pc)).is_some());
    let root = r.mem.address_space_root(r.cpu.address_space()).unwrap();
    let extra = r.mem.new_ram("extra", 0x1000).unwrap();
    r.mem.add_subregion(root, 0x2000_0000, extra).unwrap();
    r.cpu.process_events();
    assert_eq!(r.cpu.tlb.fetch_fast::<4>(MODE, VirtAddr(pc)), None);
}

#[test]
fn saved_state_round_trips_through_the_interface() {
    let mut r = Rig::new(&[], RAM);
    r.cpu.arch.acc = 42;
    let saved = r.cpu.arch.save_state();
    r.cpu.arch.acc = 0;
    assert!(r.cpu.arch.restore_state(&saved[..3]).is_err());
    assert_eq!(r.cpu.arch.acc, 0, "a refused state changes nothing");
    r.cpu.arch.restore_state(&saved).unwrap();
    assert_eq!(r.cpu.arch.register(0), Some(42));
}
