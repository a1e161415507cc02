//! Unwinding support on top of the `unwinding` crate (DWARF CFI from `.eh_frame`, found via
//! `.eh_frame_hdr`): starting an unwind with a Rust payload, `catch_unwind`, and backtraces.
//!
//! `unwinding`'s own `panic` feature does not build with rustc 1.95 (the `catch_unwind`
//! intrinsic now returns `i32`), so this module is the small glue std would normally provide
//! (compare std's `panic_unwind::gcc`). The kernel's panic handler calls [`begin_unwind`];
//! task entry and every host function wrap their bodies in [`catch_unwind`].
//!
//! For faults, [`fault_frames`] walks the interrupted stack (bounded, without unwinding) and
//! reads each frame's landing-pad [`Verdict`] from its LSDA, so that the kernel can choose a
//! sound starting frame and never lets the unwinder loose on a corrupted stack; and
//! `clew_unwind_resume` (the `_Unwind_Resume` every landing pad calls, via `link.ld`) runs
//! the rest of an unwind on the task's alternate stack and reports failure instead of
//! panicking inside the unwinder.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::any::Any;
use core::arch::global_asm;
use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use unwinding::abi::{
    _Unwind_Backtrace, _Unwind_DeleteException, _Unwind_GetGR, _Unwind_GetIP, _Unwind_GetIPInfo,
    _Unwind_GetLanguageSpecificData, _Unwind_GetRegionStart, _Unwind_RaiseException, UnwindContext,
    UnwindException, UnwindReasonCode,
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

/// What Rust's personality routine does with a frame during an unwind (its LSDA entry for the
/// frame's instruction pointer), computed here without unwinding anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No landing pad at this point: the frame is passed through.
    Continue,
    /// A landing pad that runs destructors, then resumes the unwind.
    Cleanup,
    /// A landing pad that stops the unwind (`catch_unwind`).
    Catch,
    /// The instruction is not an unwind point of a function that has landing pads (a call
    /// Rust compiled as `nounwind`, or a non-call instruction): the personality refuses, so an
    /// unwind through this frame fails in its search phase.
    Terminate,
}

/// One frame of a faulted task's stack, innermost (the faulting frame) first.
#[derive(Clone, Copy, Debug)]
pub struct FaultFrame {
    /// The faulting instruction for frame 0, else the return address into the frame.
    pub ip: u64,
    /// The frame's stack pointer and callee-saved registers at `ip`.
    pub regs: CallerRegs,
    /// What the personality routine would do here.
    pub verdict: Verdict,
}

/// Why [`fault_frames`] could not produce a trustworthy list of frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkError {
    /// No signal frame (the fault trampoline) on the current stack.
    NoSignalFrame,
    /// A frame's stack pointer left the allowed range or did not grow (corrupted stack).
    BadStackPointer(u64),
    /// More frames than the limit (a loop in a corrupted stack).
    TooDeep,
}

/// Walks the current stack (which must run on a fault trampoline, see `hal::trap`) and lists
/// the frames of the interrupted code, starting at the faulting frame, with each frame's
/// [`Verdict`]. Every frame's stack pointer must lie in `[lo, hi]` and grow strictly from one
/// frame to the next, and there must be at most `max` frames: a walk over a corrupted stack
/// stops with an error instead of following garbage. The walk reads memory only through the
/// unwinder, like a backtrace.
pub fn fault_frames(lo: u64, hi: u64, max: usize) -> Result<Vec<FaultFrame>, WalkError> {
    struct Walk {
        lo: u64,
        hi: u64,
        max: usize,
        seen_signal: bool,
        frames: Vec<FaultFrame>,
        error: Option<WalkError>,
    }
    extern "C" fn trace(ctx: &UnwindContext<'_>, arg: *mut c_void) -> UnwindReasonCode {
        // SAFETY: `arg` is the `Walk` passed below, alive for the whole call.
        let w = unsafe { &mut *(arg as *mut Walk) };
        let mut before = 0;
        let ip = _Unwind_GetIPInfo(ctx, &mut before) as u64;
        if !w.seen_signal {
            // The frame after the trampoline (a signal frame) reports its exact IP.
            if before == 0 {
                return UnwindReasonCode::NO_REASON;
            }
            w.seen_signal = true;
        }
        if ip == 0 {
            return UnwindReasonCode::END_OF_STACK;
        }
        let gr = |r: i32| _Unwind_GetGR(ctx, r) as u64;
        let regs = CallerRegs {
            rip: ip,
            rsp: gr(7),
            rbx: gr(3),
            rbp: gr(6),
            r12: gr(12),
            r13: gr(13),
            r14: gr(14),
            r15: gr(15),
        };
        // The faulting frame's RSP may already point below the stack (a stack overflow after
        // `sub rsp`); every caller's must lie in it, above the previous frame's.
        let prev = w.frames.last().map(|f| f.regs.rsp);
        let below = prev.is_some_and(|p| regs.rsp < w.lo || regs.rsp <= p);
        if below || regs.rsp > w.hi {
            w.error = Some(WalkError::BadStackPointer(regs.rsp));
            return UnwindReasonCode::END_OF_STACK;
        }
        if w.frames.len() >= w.max {
            w.error = Some(WalkError::TooDeep);
            return UnwindReasonCode::END_OF_STACK;
        }
        let lsda = _Unwind_GetLanguageSpecificData(ctx) as u64;
        let func = _Unwind_GetRegionStart(ctx) as u64;
        let at = if before != 0 { ip } else { ip - 1 };
        let verdict = if func == 0 {
            // No FDE for this IP: the unwinder stops here.
            Verdict::Terminate
        } else if lsda == 0 {
            Verdict::Continue
        } else {
            lsda_verdict(lsda, func, at).unwrap_or(Verdict::Terminate)
        };
        w.frames.push(FaultFrame { ip, regs, verdict });
        UnwindReasonCode::NO_REASON
    }
    let mut w = Walk {
        lo,
        hi,
        max,
        seen_signal: false,
        frames: Vec::new(),
        error: None,
    };
    _Unwind_Backtrace(trace, core::ptr::addr_of_mut!(w) as *mut c_void);
    if let Some(e) = w.error {
        return Err(e);
    }
    if !w.seen_signal {
        return Err(WalkError::NoSignalFrame);
    }
    Ok(w.frames)
}

/// Reads the LSDA (`.gcc_except_table`) like Rust's personality routine (`unwinding`'s
/// `find_eh_action`): the call-site entry covering `ip`, then its first action. Reads stay
/// inside the kernel image's read-only data; `None` for anything unexpected.
fn lsda_verdict(lsda: u64, func: u64, ip: u64) -> Option<Verdict> {
    let (ro_start, ro_end) = crate::boot::kernel_sections()[1];
    if !(ro_start..ro_end).contains(&lsda) {
        return None;
    }
    let mut r = Reader {
        pos: lsda,
        end: ro_end,
    };
    let lpstart_enc = r.u8()?;
    if lpstart_enc != 0xff {
        r.encoded(lpstart_enc)?;
    }
    let ttype_enc = r.u8()?;
    if ttype_enc != 0xff {
        r.uleb()?;
    }
    let cs_enc = r.u8()?;
    let cs_len = r.uleb()?;
    let actions = r.pos.checked_add(cs_len)?;
    while r.pos < actions {
        let start = r.encoded(cs_enc)?;
        let len = r.encoded(cs_enc)?;
        let lpad = r.encoded(cs_enc)?;
        let action = r.uleb()?;
        if ip < func.wrapping_add(start) {
            break;
        }
        if ip < func.wrapping_add(start).wrapping_add(len) {
            if lpad == 0 {
                return Some(Verdict::Continue);
            }
            if action == 0 {
                return Some(Verdict::Cleanup);
            }
            let mut a = Reader {
                pos: actions.checked_add(action - 1)?,
                end: ro_end,
            };
            let ttype_index = a.sleb()?;
            return Some(if ttype_index == 0 {
                Verdict::Cleanup
            } else {
                // A catch clause (> 0) or a filter (< 0): both stop the search phase.
                Verdict::Catch
            });
        }
    }
    Some(Verdict::Terminate)
}

/// Bounded little-endian reader over the kernel image's read-only data.
struct Reader {
    pos: u64,
    end: u64,
}

impl Reader {
    fn u8(&mut self) -> Option<u8> {
        if self.pos >= self.end {
            return None;
        }
        // SAFETY: `pos` lies in the kernel image's rodata range (checked against `end`, the
        // end of that range, by every caller's construction), which is mapped readable.
        let b = unsafe { (self.pos as *const u8).read() };
        self.pos += 1;
        Some(b)
    }
    fn uleb(&mut self) -> Option<u64> {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }
    fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.u8()?;
        }
        Some(out)
    }
    /// A DW_EH_PE-encoded value; only the absolute and data-relative forms LLVM emits for
    /// call-site tables (the value, without applying a base).
    fn encoded(&mut self, enc: u8) -> Option<u64> {
        Some(match enc & 0x0f {
            0x00 => u64::from_le_bytes(self.bytes::<8>()?),
            0x01 => self.uleb()?,
            0x02 => u64::from(u16::from_le_bytes(self.bytes::<2>()?)),
            0x03 => u64::from(u32::from_le_bytes(self.bytes::<4>()?)),
            0x04 => u64::from_le_bytes(self.bytes::<8>()?),
            0x09 => self.sleb()? as u64,
            0x0a => i16::from_le_bytes(self.bytes::<2>()?) as u64,
            0x0b => i32::from_le_bytes(self.bytes::<4>()?) as u64,
            0x0c => i64::from_le_bytes(self.bytes::<8>()?) as u64,
            _ => return None,
        })
    }
}

/// Whether the instruction at `ip` (in the kernel image's text) is a `call` (E8 rel32 or
/// FF /2, after legacy and REX prefixes). A fault at a call (pushing the return address into a
/// stack guard page, or reading a bad function pointer) leaves the frame exactly as at that
/// call site, so its landing pad may run; at any other instruction it may not.
pub fn is_call_instruction(ip: u64) -> bool {
    let (text_start, text_end) = crate::boot::kernel_sections()[0];
    let mut r = Reader {
        pos: ip,
        end: text_end,
    };
    if !(text_start..text_end).contains(&ip) {
        return false;
    }
    for _ in 0..15 {
        let Some(b) = r.u8() else { return false };
        match b {
            0x66 | 0x67 | 0x2e | 0x36 | 0x3e | 0x26 | 0x64 | 0x65 | 0xf2 | 0xf3 => continue,
            0x40..=0x4f => continue,
            0xe8 => return true,
            0xff => return r.u8().is_some_and(|modrm| (modrm >> 3) & 7 == 2),
            _ => return false,
        }
    }
    false
}

/// The stack `_Unwind_Resume` switches to (the current task's alternate stack), `[lo, hi)`.
static RESUME_LO: AtomicU64 = AtomicU64::new(0);
static RESUME_HI: AtomicU64 = AtomicU64::new(0);
/// The kernel's `fn(i32, Box<dyn Any + Send>) -> !` for a failed resume (as a usize).
static RESUME_FAILED: AtomicUsize = AtomicUsize::new(0);

/// Sets the stack on which unwinds resume after a landing pad (call on every context switch
/// with the incoming task's alternate stack; `None` for none). See [`clew_unwind_resume`].
pub fn set_resume_stack(range: Option<(u64, u64)>) {
    let (lo, hi) = range.unwrap_or((0, 0));
    RESUME_LO.store(lo, Ordering::Relaxed);
    RESUME_HI.store(hi & !15, Ordering::Relaxed);
}

/// Sets what happens when an unwind cannot continue after a landing pad: `f` gets the
/// unwinder's reason code and the payload, and must end the task.
pub fn set_resume_failed_hook(f: fn(i32, Box<dyn Any + Send>) -> !) {
    RESUME_FAILED.store(f as usize, Ordering::Relaxed);
}

extern "C" fn resume_failed(code: i32, ex: *mut UnwindException) -> ! {
    // SAFETY: `ex` is the exception the landing pad was resuming; ours carry CLASS and were
    // made by `begin_unwind` (a foreign one is deleted through its own cleanup).
    let payload: Box<dyn Any + Send> = unsafe {
        if (*ex).exception_class == CLASS {
            Box::from_raw(ex as *mut Exception).payload
        } else {
            _Unwind_DeleteException(ex);
            Box::new("foreign exception")
        }
    };
    let hook = RESUME_FAILED.load(Ordering::Relaxed);
    if hook == 0 {
        crate::cpu::halt_forever();
    }
    // SAFETY: the only value ever stored is a `fn(i32, Box<dyn Any + Send>) -> !`.
    let hook: fn(i32, Box<dyn Any + Send>) -> ! = unsafe { core::mem::transmute(hook) };
    hook(code, payload)
}

// `_Unwind_Resume` (the call at the end of every landing pad), replacing `unwinding`'s: the
// link script points the symbol here. Two changes:
// - it runs the unwinder on the task's alternate stack when the landing pad runs on another
//   stack. Landing pads run in their own frames; after a stack overflow the innermost ones
//   sit just above the guard page, where the unwinder (~16 KiB of stack per call) would fault
//   again. Once the unwind has reached the task's stack the alternate stack is free: every
//   frame on it (fault handler, trampoline) is already unwound. The frame carries CFI for the
//   switch (CFA = saved RSP + 8), so the unwinder walks back into the landing pad's frame;
// - it resumes with `_Unwind_Resume_or_Rethrow`, i.e. a new search from the landing pad's
//   frame, and if that fails returns here: `resume_failed` ends the task instead of the
//   assertion (a panic inside the unwinder) that `unwinding`'s version would hit.
global_asm!(
    r#"
    .section .text.unwind_resume, "ax"
    .balign 16
    .global clew_unwind_resume
    .type clew_unwind_resume, @function
clew_unwind_resume:
    .cfi_startproc
    mov {hi}(%rip), %rax
    test %rax, %rax
    jz 1f
    cmp %rax, %rsp
    jae 2f
    cmp {lo}(%rip), %rsp
    jae 1f
2:
    .cfi_remember_state
    mov %rsp, %rcx
    mov %rax, %rsp
    push %rcx
    .cfi_escape 0x0f, 5, 0x77, 0x00, 0x06, 0x23, 0x08
    push %rdi
    .cfi_escape 0x0f, 5, 0x77, 0x08, 0x06, 0x23, 0x08
    call _Unwind_Resume_or_Rethrow
    mov %eax, %edi
    mov (%rsp), %rsi
    call {failed}
    ud2
1:
    .cfi_restore_state
    push %rdi
    .cfi_adjust_cfa_offset 8
    call _Unwind_Resume_or_Rethrow
    mov %eax, %edi
    mov (%rsp), %rsi
    call {failed}
    ud2
    .size clew_unwind_resume, . - clew_unwind_resume
    .cfi_endproc
    "#,
    lo = sym RESUME_LO,
    hi = sym RESUME_HI,
    failed = sym resume_failed,
    options(att_syntax)
);
