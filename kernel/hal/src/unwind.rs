//! Unwinding support on top of the `unwinding` crate (DWARF CFI from `.eh_frame`, found via
//! `.eh_frame_hdr`): starting an unwind with a Rust payload, `catch_unwind`, and backtraces.
//!
//! `unwinding`'s own `panic` feature does not build with rustc 1.95 (the `catch_unwind`
//! intrinsic now returns `i32`), so this module is the small glue std would normally provide
//! (compare std's `panic_unwind::gcc`). The kernel's panic handler calls [`begin_unwind`];
//! task entry and every host function wrap their bodies in [`catch_unwind`].

use alloc::boxed::Box;
use core::any::Any;
use core::ffi::c_void;
use core::mem::ManuallyDrop;
use unwinding::abi::{
    _Unwind_Backtrace, _Unwind_DeleteException, _Unwind_GetIP, _Unwind_RaiseException,
    UnwindContext, UnwindException, UnwindReasonCode,
};

/// Exception class of Clew's Rust panics ("CLEWRUST").
const CLASS: u64 = u64::from_ne_bytes(*b"CLEWRUST");

/// The in-flight exception: the ABI header first, then the payload.
#[repr(C)]
struct Exception {
    header: UnwindException,
    payload: Box<dyn Any + Send>,
}

unsafe extern "C" fn cleanup(_code: UnwindReasonCode, ex: *mut UnwindException) {
    // SAFETY: only exceptions of class CLASS get this cleanup, and those were created by
    // `Box::into_raw` of an `Exception` in `begin_unwind`.
    drop(unsafe { Box::from_raw(ex as *mut Exception) });
}

/// Unwinds the current stack with `payload` up to the nearest [`catch_unwind`], running
/// destructors on the way. Returns only if the search phase found no catching frame (the
/// stack is then untouched): the raw reason code and the payload.
pub fn begin_unwind(payload: Box<dyn Any + Send>) -> (i32, Box<dyn Any + Send>) {
    // SAFETY: an all-zero UnwindException is valid (None cleanup, zero private words); the
    // unwinder fills the private words.
    let header: UnwindException = unsafe { core::mem::zeroed() };
    let mut ex = Box::new(Exception { header, payload });
    ex.header.exception_class = CLASS;
    ex.header.exception_cleanup = Some(cleanup);
    let raw = Box::into_raw(ex);
    // SAFETY: `raw` is a valid exception object whose first field is the ABI header; on
    // success control never returns here.
    let code = unsafe { _Unwind_RaiseException(raw as *mut UnwindException) };
    // SAFETY: the unwind failed, so the exception is still ours.
    let ex = unsafe { Box::from_raw(raw) };
    (code.0, ex.payload)
}

/// Runs `f`, returning `Err(payload)` if it unwinds.
pub fn catch_unwind<R, F: FnOnce() -> R>(f: F) -> Result<R, Box<dyn Any + Send>> {
    union Data<F, R> {
        f: ManuallyDrop<F>,
        r: ManuallyDrop<R>,
        p: ManuallyDrop<Box<dyn Any + Send>>,
    }

    fn do_call<F: FnOnce() -> R, R>(data: *mut u8) {
        // SAFETY: `data` points at the `Data` below, whose `f` field is initialised.
        unsafe {
            let data = &mut *(data as *mut Data<F, R>);
            let f = ManuallyDrop::take(&mut data.f);
            data.r = ManuallyDrop::new(f());
        }
    }

    fn do_catch<F: FnOnce() -> R, R>(data: *mut u8, payload: *mut u8) {
        // SAFETY: `data` points at the `Data` below (its `f` was consumed by do_call);
        // `payload` is the exception object handed to the landing pad by the personality
        // routine; ours carry CLASS and were made by `begin_unwind`.
        unsafe {
            let data = &mut *(data as *mut Data<F, R>);
            let ex = payload as *mut UnwindException;
            if (*ex).exception_class == CLASS {
                let ex = Box::from_raw(ex as *mut Exception);
                data.p = ManuallyDrop::new(ex.payload);
            } else {
                _Unwind_DeleteException(ex);
                data.p = ManuallyDrop::new(Box::new("foreign exception"));
            }
        }
    }

    let mut data = Data::<F, R> {
        f: ManuallyDrop::new(f),
    };
    let ptr = core::ptr::addr_of_mut!(data) as *mut u8;
    // SAFETY: do_call/do_catch match the intrinsic's contract; exactly one of `r` (return
    // value 0) or `p` (non-zero) is initialised afterwards.
    unsafe {
        if core::intrinsics::catch_unwind(do_call::<F, R>, ptr, do_catch::<F, R>) == 0 {
            Ok(ManuallyDrop::into_inner(data.r))
        } else {
            Err(ManuallyDrop::into_inner(data.p))
        }
    }
}

/// Calls `f` with the instruction pointer of each frame of the current stack, innermost
/// first, until it returns false or the stack ends.
pub fn backtrace(mut f: impl FnMut(u64) -> bool) {
    let mut f: &mut dyn FnMut(u64) -> bool = &mut f;
    extern "C" fn trace(ctx: &UnwindContext<'_>, arg: *mut c_void) -> UnwindReasonCode {
        // SAFETY: `arg` is the `&mut dyn FnMut` passed below, alive for the whole call.
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut(u64) -> bool) };
        let ip = _Unwind_GetIP(ctx);
        if ip == 0 || !f(ip as u64) {
            UnwindReasonCode::END_OF_STACK
        } else {
            UnwindReasonCode::NO_REASON
        }
    }
    _Unwind_Backtrace(trace, core::ptr::addr_of_mut!(f) as *mut c_void);
}

/// Callee-saved registers of a frame, as the unwinder reconstructs them.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallerRegs {
    /// Return address into the caller (the instruction after the call).
    pub rip: u64,
    /// The caller's stack pointer after the call returned (the callee's CFA).
    pub rsp: u64,
    #[allow(missing_docs)]
    pub rbx: u64,
    #[allow(missing_docs)]
    pub rbp: u64,
    #[allow(missing_docs)]
    pub r12: u64,
    #[allow(missing_docs)]
    pub r13: u64,
    #[allow(missing_docs)]
    pub r14: u64,
    #[allow(missing_docs)]
    pub r15: u64,
}

/// Walks the current stack to the frame executing at `rip` (reached through a signal
/// trampoline) and returns the registers of its caller, i.e. the state as if that function
/// had returned. Used to unwind out of a faulting function: a CPU exception is not a call
/// site in the function's LSDA, so the personality routine would refuse to unwind from the
/// faulting instruction itself (Rust has no asynchronous unwind tables); starting from the
/// caller's call site runs every caller's destructors (the faulting function's own locals
/// are skipped).
pub fn caller_of(rip: u64) -> Option<CallerRegs> {
    struct Search {
        rip: u64,
        found_at: Option<usize>,
        index: usize,
        regs: Option<CallerRegs>,
    }
    extern "C" fn trace(ctx: &UnwindContext<'_>, arg: *mut c_void) -> UnwindReasonCode {
        // SAFETY: `arg` is the `Search` passed below, alive for the whole call.
        let s = unsafe { &mut *(arg as *mut Search) };
        let ip = _Unwind_GetIP(ctx) as u64;
        match s.found_at {
            None if ip == s.rip => s.found_at = Some(s.index),
            Some(_) => {
                let gr = |r: i32| unwinding::abi::_Unwind_GetGR(ctx, r) as u64;
                s.regs = Some(CallerRegs {
                    rip: ip,
                    rsp: gr(7),
                    rbx: gr(3),
                    rbp: gr(6),
                    r12: gr(12),
                    r13: gr(13),
                    r14: gr(14),
                    r15: gr(15),
                });
                return UnwindReasonCode::END_OF_STACK;
            }
            None => {}
        }
        s.index += 1;
        if ip == 0 || s.index > 256 {
            UnwindReasonCode::END_OF_STACK
        } else {
            UnwindReasonCode::NO_REASON
        }
    }
    let mut s = Search {
        rip,
        found_at: None,
        index: 0,
        regs: None,
    };
    _Unwind_Backtrace(trace, core::ptr::addr_of_mut!(s) as *mut c_void);
    s.regs.filter(|r| r.rip != 0)
}
