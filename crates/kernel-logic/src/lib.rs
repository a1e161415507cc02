//! Pure logic of the Clew kernel, kept free of hardware access so that it runs in host unit
//! tests (`cargo test -p kernel-logic`) as well as inside the bare-metal kernel (`kernel/`).
//!
//! - [`frame`]: a bitmap allocator of 4 KiB physical frames built from the multiboot memory map.
//! - [`paging`]: x86_64 4-level page-table walking, mapping, unmapping and protection over an
//!   abstract [`paging::PhysMem`], so host tests can run it over a plain buffer.
//! - [`reserve`]: address-range reservations with per-page intended protection (the
//!   bookkeeping behind lazily committed memory and guard pages).
//! - [`sched`]: the round-robin run queue and the sleep timer list.
//! - [`line`]: the serial console's line editor (backspace, Ctrl-U, CR/LF handling).
//!
//! The kernel's hardware layer (`kernel/hal`) supplies the real physical memory; the kernel
//! proper (`kernel/src`) wires these pieces together.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod frame;
pub mod line;
pub mod paging;
pub mod reserve;
pub mod sched;

/// Size of a small page and of a physical frame, in bytes.
pub const PAGE_SIZE: u64 = 4096;
