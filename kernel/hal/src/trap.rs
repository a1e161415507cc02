//! Delivering a CPU exception to the faulting task itself, like a Unix signal (GUIDE §4).
//!
//! The exception handler (on an IST stack) calls [`redirect`]: the full interrupted state is
//! copied as a [`FaultContext`] onto the task's [`AltStack`], and the exception frame is
//! rewritten so that `iretq` enters `fault_trampoline` on that stack, in the task's own
//! context (interrupt flag as it was). The trampoline resets the x87/SSE control state and
//! calls the kernel's handler with `&mut FaultContext`:
//! - if the handler returns, the (possibly edited) context is restored exactly and execution
//!   resumes there (`fxrstor`, register pops, `iretq`);
//! - the handler may instead never return: unwind (kill the task, running destructors) or
//!   jump elsewhere (wasmtime's trap handling).
//!
//! The trampoline carries DWARF CFI describing every register as saved in the context
//! (`DW_CFA_def_cfa_expression`, `DW_CFA_expression`) and is marked a signal frame, so the
//! unwinder walks from the handler through the trampoline into the faulting function and its
//! callers, exactly like glibc's `__restore_rt`. The alternate stack is what makes a stack
//! overflow (a fault in the guard page) survivable: unwinding needs stack, the task's own
//! stack has none left.

use crate::interrupts::InterruptFrame;
use alloc::boxed::Box;
use core::arch::global_asm;
use core::mem::offset_of;

/// Everything the task had at the time of the exception.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FaultContext {
    /// The registers, FPU state, vector, error code and iret frame.
    pub frame: InterruptFrame,
    /// CR2 at the time of the exception (the faulting address of a #PF).
    pub cr2: u64,
    _pad: u64,
}

/// The kernel's fault handler, called on the alternate stack.
pub type FaultHandler = extern "C-unwind" fn(&mut FaultContext);

/// Size of a task's alternate stack.
pub const ALT_STACK_SIZE: usize = 64 * 1024;

/// A task's alternate stack for fault handling (heap allocated, owned by the task).
#[repr(C, align(16))]
pub struct AltStack([u8; ALT_STACK_SIZE]);

impl AltStack {
    /// A zeroed alternate stack on the heap.
    pub fn new_boxed() -> Box<AltStack> {
        let layout = core::alloc::Layout::new::<AltStack>();
        // SAFETY: the layout has non-zero size; an all-zero byte array is a valid AltStack,
        // and the pointer comes from the global allocator with this exact layout.
        unsafe {
            let p = alloc::alloc::alloc_zeroed(layout) as *mut AltStack;
            if p.is_null() {
                alloc::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(p)
        }
    }
    /// The address range of the stack.
    pub fn range(&self) -> (u64, u64) {
        let base = self.0.as_ptr() as u64;
        (base, base + ALT_STACK_SIZE as u64)
    }
}

const fn field(off: usize) -> usize {
    offset_of!(FaultContext, frame) + off
}
const fn sleb_lo(off: usize) -> usize {
    (off & 0x7f) | 0x80
}
const fn sleb_hi(off: usize) -> usize {
    assert!(off >= 128 && off < 8192);
    off >> 7
}

macro_rules! reg_off {
    ($f:ident) => {
        field(offset_of!(InterruptFrame, $f))
    };
}

global_asm!(
    r#"
    .section .text.trap, "ax"
    .balign 16
    .cfi_startproc
    .cfi_signal_frame
    .cfi_escape 0x0f, 4, 0x77, {rsp_lo}, {rsp_hi}, 0x06
    .cfi_escape 0x10, 16, 3, 0x77, {rip_lo}, {rip_hi}
    .cfi_escape 0x10, 0, 3, 0x77, {rax_lo}, {rax_hi}
    .cfi_escape 0x10, 1, 3, 0x77, {rdx_lo}, {rdx_hi}
    .cfi_escape 0x10, 2, 3, 0x77, {rcx_lo}, {rcx_hi}
    .cfi_escape 0x10, 3, 3, 0x77, {rbx_lo}, {rbx_hi}
    .cfi_escape 0x10, 4, 3, 0x77, {rsi_lo}, {rsi_hi}
    .cfi_escape 0x10, 5, 3, 0x77, {rdi_lo}, {rdi_hi}
    .cfi_escape 0x10, 6, 3, 0x77, {rbp_lo}, {rbp_hi}
    .cfi_escape 0x10, 8, 3, 0x77, {r8_lo}, {r8_hi}
    .cfi_escape 0x10, 9, 3, 0x77, {r9_lo}, {r9_hi}
    .cfi_escape 0x10, 10, 3, 0x77, {r10_lo}, {r10_hi}
    .cfi_escape 0x10, 11, 3, 0x77, {r11_lo}, {r11_hi}
    .cfi_escape 0x10, 12, 3, 0x77, {r12_lo}, {r12_hi}
    .cfi_escape 0x10, 13, 3, 0x77, {r13_lo}, {r13_hi}
    .cfi_escape 0x10, 14, 3, 0x77, {r14_lo}, {r14_hi}
    .cfi_escape 0x10, 15, 3, 0x77, {r15_lo}, {r15_hi}
    nop
    .global fault_trampoline
    .type fault_trampoline, @function
fault_trampoline:
    fninit
    ldmxcsr {mxcsr}(%rip)
    call *%rsi
    # The frame is an `InterruptFrame`, laid out as the interrupt stubs leave it: their
    # exit path (`interrupt_return` in interrupts.rs) restores it and returns.
    jmp interrupt_return
    .size fault_trampoline, . - fault_trampoline
    .cfi_endproc
    "#,
    mxcsr = sym DEFAULT_MXCSR,
    rsp_lo = const sleb_lo(reg_off!(rsp)), rsp_hi = const sleb_hi(reg_off!(rsp)),
    rip_lo = const sleb_lo(reg_off!(rip)), rip_hi = const sleb_hi(reg_off!(rip)),
    rax_lo = const sleb_lo(reg_off!(rax)), rax_hi = const sleb_hi(reg_off!(rax)),
    rdx_lo = const sleb_lo(reg_off!(rdx)), rdx_hi = const sleb_hi(reg_off!(rdx)),
    rcx_lo = const sleb_lo(reg_off!(rcx)), rcx_hi = const sleb_hi(reg_off!(rcx)),
    rbx_lo = const sleb_lo(reg_off!(rbx)), rbx_hi = const sleb_hi(reg_off!(rbx)),
    rsi_lo = const sleb_lo(reg_off!(rsi)), rsi_hi = const sleb_hi(reg_off!(rsi)),
    rdi_lo = const sleb_lo(reg_off!(rdi)), rdi_hi = const sleb_hi(reg_off!(rdi)),
    rbp_lo = const sleb_lo(reg_off!(rbp)), rbp_hi = const sleb_hi(reg_off!(rbp)),
    r8_lo = const sleb_lo(reg_off!(r8)), r8_hi = const sleb_hi(reg_off!(r8)),
    r9_lo = const sleb_lo(reg_off!(r9)), r9_hi = const sleb_hi(reg_off!(r9)),
    r10_lo = const sleb_lo(reg_off!(r10)), r10_hi = const sleb_hi(reg_off!(r10)),
    r11_lo = const sleb_lo(reg_off!(r11)), r11_hi = const sleb_hi(reg_off!(r11)),
    r12_lo = const sleb_lo(reg_off!(r12)), r12_hi = const sleb_hi(reg_off!(r12)),
    r13_lo = const sleb_lo(reg_off!(r13)), r13_hi = const sleb_hi(reg_off!(r13)),
    r14_lo = const sleb_lo(reg_off!(r14)), r14_hi = const sleb_hi(reg_off!(r14)),
    r15_lo = const sleb_lo(reg_off!(r15)), r15_hi = const sleb_hi(reg_off!(r15)),
    options(att_syntax)
);

/// MXCSR value the handler runs with (all SSE exceptions masked, round to nearest).
static DEFAULT_MXCSR: u32 = 0x1f80;

// The trampoline's restore path relies on the iret frame closing the context.
const _: () = assert!(offset_of!(FaultContext, frame) == 0);
const _: () = assert!(core::mem::size_of::<FaultContext>().is_multiple_of(16));

/// RFLAGS bits cleared for the handler: TF (8), DF (10), AC (18).
const RFLAGS_CLEAR: u64 = (1 << 8) | (1 << 10) | (1 << 18);

/// Rewrites the exception `frame` so that, once the exception returns, `handler` runs on
/// `stack` with a copy of the interrupted context (see the module documentation). `stack`
/// must not be in use (the kernel refuses nested faults of the same task).
pub fn redirect(frame: &mut InterruptFrame, cr2: u64, stack: &mut AltStack, handler: FaultHandler) {
    extern "C" {
        fn fault_trampoline();
    }
    let size = core::mem::size_of::<FaultContext>();
    let ctx_off = ALT_STACK_SIZE - size - 64;
    let ctx_ptr = stack.0[ctx_off..].as_mut_ptr() as *mut FaultContext;
    assert!((ctx_ptr as usize).is_multiple_of(16));
    let ctx = FaultContext {
        frame: frame.clone(),
        cr2,
        _pad: 0,
    };
    // SAFETY: `ctx_ptr` is 16-byte aligned (asserted) and the `size` bytes from it lie inside
    // `stack`, which we borrow mutably; FaultContext has no drop glue.
    unsafe { ctx_ptr.write(ctx) };
    frame.rsp = ctx_ptr as u64;
    frame.rip = fault_trampoline as *const () as u64;
    frame.rdi = ctx_ptr as u64;
    frame.rsi = handler as *const () as u64;
    frame.rflags &= !RFLAGS_CLEAR;
}
