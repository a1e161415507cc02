//! Clew's hardware layer: everything that needs `unsafe` lives here, behind safe APIs.
//!
//! - [`boot`]: multiboot1 header, 32-bit entry, long-mode switch, multiboot info parsing.
//! - [`cpu`]: interrupt flag, halting, TSC, control registers, QEMU exit and ACPI power-off.
//! - [`rtc`]: the CMOS real-time clock (wall time at boot).
//! - [`serial`]: 16550 UART port I/O (COM1 console, COM2 log).
//! - [`gdt`]: GDT and TSS with one IST stack per class of vectors.
//! - [`interrupts`]: IDT, the 256 entry stubs (saving GPRs and FXSAVE state into an
//!   [`interrupts::InterruptFrame`]), the 8259 PIC and the 8254 PIT.
//! - [`paging`]: physical-memory window, page-table access for `kernel_logic::paging`, CR3.
//! - [`heap`]: the `#[global_allocator]` (talc, grown on demand).
//! - [`unwind`]: `catch_unwind`, starting an unwind, backtraces, fault-unwind planning and
//!   `_Unwind_Resume` on the alternate stack (over the `unwinding` crate).
//! - [`trap`]: delivering a CPU exception to the faulting task's own context (signal style).
//! - [`mem`]: `memcpy` and friends, which `core` expects the platform to provide.
//!
//! The kernel proper (`kernel/src`) is `unsafe_code = "deny"` and uses only these APIs.
//! Every `unsafe` block carries a `// SAFETY:` argument, every unsafe fn a `# Safety` section.
#![no_std]
#![allow(unsafe_code)]
#![allow(internal_features)]
#![feature(core_intrinsics)]
#![feature(asm_unwind)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod boot;
pub mod cpu;
pub mod gdt;
pub mod heap;
pub mod interrupts;
pub mod mem;
pub mod paging;
pub mod rtc;
pub mod serial;
pub mod trap;
pub mod unwind;
