//! Ferrite's target-independent execution engine.
//!
//! The one rule: **nothing in a CPU touches guest memory except through its
//! [`Tlb`]**. Every load, store, atomic and instruction fetch indexes the
//! per-mode fast table, and everything that is not plain, already-dirty RAM
//! (MMIO, ROM, pages holding translated code, sub-page protection) is routed
//! to the slow path, which talks to the memory API.
//!
//! * [`tlb`]: the software TLB (fast tables with dynamic sizing, victim
//!   tables, fill through a target's [`TlbFill`], flush by page and by mode,
//!   NOTDIRTY re-arm).
//! * [`cpu`]: the engine: a [`Cpu`] generic over a [`Target`], owning the
//!   TLB, the block cache and the execution loop.
//! * [`block`]: the translated-block cache (hash map, jump cache, chaining,
//!   page registration and invalidation).
//! * [`events`]: memory events (dirty clears, outside writes to code) queued
//!   for the CPU to handle at block boundaries.
//! * [`clock`]: virtual time derived from retired instructions.
//! * [`debug`]: breakpoints, watchpoints (through the TLB's WATCHPOINT
//!   flag) and single-step for a debugger.
//!
//! The path of a store, the TLB tag layout and the block-cache invariants are
//! documented in the modules.
#![warn(missing_docs)]

pub mod address;
pub mod block;
pub mod clock;
pub mod cpu;
pub mod debug;
pub mod events;
pub mod log_filter;
pub mod tlb;

pub use address::{MmuIdx, VirtAddr};
pub use block::{Block, BlockCache, BlockId, BlockKey, BlockStats};
pub use clock::{TIMER_HORIZON_TICKS, VirtualClock};
pub use cpu::{
    ArchState, BlockExit, BlockProfile, ChainState, Cpu, CpuStats, Finish, RunExit, StateError,
    Target, Translated, TranslatedBlock,
};
pub use debug::{DebugStop, WatchHit, WatchKind, Watchpoint};
pub use events::{EventHub, EventQueue, MemEvent};
pub use tlb::{MmuAccess, PageKind, PageMapping, Prot, Tlb, TlbFill, TlbStats};
