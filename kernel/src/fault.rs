//! CPU exceptions and panics: lazy commit, per-task exception handlers ("signals", after
//! Theseus), diagnoses with symbolised backtraces, and killing only the offending task.
//!
//! Path of an exception taken by a task (vectors 0-31, on an IST stack):
//! 1. a #PF inside a lazy reservation commits a zeroed page and returns (`memory`);
//! 2. otherwise the exception is redirected into the task (`hal::trap::redirect`): after
//!    `iretq`, [`task_fault_entry`] runs on the task's alternate stack, in task context;
//! 3. there a handler registered for the exception's [`ExceptionKind`] may fix things and
//!    resume ([`Handled::Resume`]), or the task is reported and unwound (destructors run) up
//!    to the nearest `catch_unwind` (at worst `task_entry`'s), then reaped; every other task
//!    keeps running. Where the unwind may start is planned first (`unwind_from_fault`).
//!
//! An exception in an interrupt handler, in the idle task, or before tasking is fatal: the
//! diagnosis goes to both serial ports and QEMU exits with status 3. A fault while the task
//! is already handling one, or while one of its unwinds is in flight, kills it without
//! unwinding: the unwinder is never re-entered, and a failure of the unwinder ends only the
//! task (see also the panic handler and `resume_failed`).

use crate::diag;
use crate::symbols::Addr;
use crate::task::{self, Exit};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt::Write;
use hal::interrupts::InterruptFrame;
use hal::trap::FaultContext;

/// Classes of CPU exceptions a task can handle (Theseus's "signals").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionKind {
    /// Bad or forbidden address: #PF, #GP, #SS, #NP (SIGSEGV).
    InvalidAddress = 0,
    /// Invalid opcode: #UD (SIGILL).
    IllegalInstruction = 1,
    /// Alignment check: #AC (SIGBUS).
    BusError = 2,
    /// Divide error, x87 or SIMD floating point: #DE, #MF, #XM (SIGFPE).
    ArithmeticError = 3,
}

impl ExceptionKind {
    fn of_vector(v: u64) -> Option<Self> {
        Some(match v {
            0 | 16 | 19 => Self::ArithmeticError,
            6 => Self::IllegalInstruction,
            11..=14 => Self::InvalidAddress,
            17 => Self::BusError,
            _ => return None,
        })
    }
}

/// What a handler decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Resume the task with the (possibly edited) context.
    Resume,
    /// Not handled: the task is reported and killed.
    NotHandled,
}

/// The exception as a handler sees it; registers may be edited before resuming.
pub struct FaultInfo<'a> {
    /// Class of the exception.
    pub kind: ExceptionKind,
    /// Vector number (SDM Vol. 3A Table 6-1).
    pub vector: u8,
    /// Error code (0 when the vector has none).
    pub error_code: u64,
    /// Faulting address for a page fault.
    pub fault_addr: Option<u64>,
    ctx: &'a mut FaultContext,
}

impl FaultInfo<'_> {
    /// Instruction pointer of the faulting instruction.
    pub fn rip(&self) -> u64 {
        self.ctx.frame.rip
    }
    /// Stack pointer at the fault.
    pub fn rsp(&self) -> u64 {
        self.ctx.frame.rsp
    }
    /// Frame pointer (RBP) at the fault.
    pub fn rbp(&self) -> u64 {
        self.ctx.frame.rbp
    }
    /// Resume at another instruction.
    pub fn set_rip(&mut self, rip: u64) {
        self.ctx.frame.rip = rip;
    }
    /// Resume with another stack pointer.
    pub fn set_rsp(&mut self, rsp: u64) {
        self.ctx.frame.rsp = rsp;
    }
    /// Sets the first two integer argument registers (RDI, RSI) for a resume at a function.
    pub fn set_args(&mut self, rdi: u64, rsi: u64) {
        self.ctx.frame.rdi = rdi;
        self.ctx.frame.rsi = rsi;
    }
}

/// Error of [`register_handler`].
#[derive(Debug, PartialEq, Eq)]
pub struct AlreadyRegistered;

/// Registers the current task's handler for `kind` (one per kind per task).
pub fn register_handler(
    kind: ExceptionKind,
    handler: impl FnMut(&mut FaultInfo<'_>) -> Handled + Send + 'static,
) -> Result<(), AlreadyRegistered> {
    let mut g = task::SCHED.lock();
    let s = g.as_mut().ok_or(AlreadyRegistered)?;
    let cur = s.current;
    let t = s.tasks.get_mut(&cur).ok_or(AlreadyRegistered)?;
    let slot = &mut t.handlers[kind as usize];
    if slot.is_some() {
        return Err(AlreadyRegistered);
    }
    *slot = Some(Box::new(handler));
    Ok(())
}

/// Removes the current task's handler for `kind`.
pub fn unregister_handler(kind: ExceptionKind) {
    let mut g = task::SCHED.lock();
    if let Some(s) = g.as_mut() {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.handlers[kind as usize] = None;
        }
    }
}

fn vector_name(v: u64) -> &'static str {
    match v {
        0 => "divide error (#DE)",
        1 => "debug (#DB)",
        2 => "NMI",
        3 => "breakpoint (#BP)",
        4 => "overflow (#OF)",
        5 => "bound range (#BR)",
        6 => "invalid opcode (#UD)",
        7 => "device not available (#NM)",
        8 => "double fault (#DF)",
        10 => "invalid TSS (#TS)",
        11 => "segment not present (#NP)",
        12 => "stack-segment fault (#SS)",
        13 => "general protection (#GP)",
        14 => "page fault (#PF)",
        16 => "x87 floating point (#MF)",
        17 => "alignment check (#AC)",
        18 => "machine check (#MC)",
        19 => "SIMD floating point (#XM)",
        _ => "exception",
    }
}

/// Why a page fault happened, for the diagnosis.
fn page_fault_note(addr: u64, error: u64) -> String {
    let access = if error & 16 != 0 {
        "fetch"
    } else if error & 2 != 0 {
        "write"
    } else {
        "read"
    };
    let what = if error & 1 != 0 {
        "protection violation"
    } else {
        "not present"
    };
    let region = match crate::memory::region_of(addr) {
        Some(r) if r.in_guard(addr) && r.label == "stack" => " (stack overflow: guard page)",
        Some(r) if r.in_guard(addr) => " (guard page)",
        Some(_) => " (in a reservation)",
        None => "",
    };
    alloc::format!("{what} {access}{region}")
}

/// One-line description of an exception.
fn describe(frame: &InterruptFrame, cr2: u64) -> String {
    let mut s = alloc::format!(
        "{}, vector {}, error {:#x}, rip {}",
        vector_name(frame.vector),
        frame.vector,
        frame.error_code,
        Addr(frame.rip)
    );
    if frame.vector == 14 {
        let _ = write!(
            s,
            ", cr2 {:#x} [{}]",
            cr2,
            page_fault_note(cr2, frame.error_code)
        );
    }
    s
}

fn fatal(frame: &InterruptFrame, cr2: u64, why: &str) -> ! {
    diag!("");
    diag!("KERNEL FAULT ({why}): {}", describe(frame, cr2));
    diag!(
        "  rsp {:#x} rbp {:#x} rflags {:#x} cr2 {:#x}",
        frame.rsp,
        frame.rbp,
        frame.rflags,
        cr2
    );
    hal::cpu::exit_qemu(1)
}

/// The exception vectors 0-31 (called by the interrupt dispatcher).
pub(crate) fn on_exception(frame: &mut InterruptFrame) {
    let cr2 = if frame.vector == 14 {
        hal::cpu::cr2()
    } else {
        0
    };
    if frame.vector == 14 {
        if let crate::memory::FaultClass::Committed =
            crate::memory::handle_page_fault(cr2, frame.error_code)
        {
            return;
        }
    }
    if frame.vector == 2 {
        log::warn!("NMI at {}", Addr(frame.rip));
        return;
    }
    if matches!(frame.vector, 8 | 18) {
        fatal(frame, cr2, "unrecoverable");
    }
    if hal::interrupts::nesting() > 1 {
        fatal(frame, cr2, "in an interrupt handler");
    }
    let Some(mut guard) = task::SCHED.try_lock() else {
        fatal(frame, cr2, "scheduler lock held");
    };
    let Some(s) = guard.as_mut() else {
        fatal(frame, cr2, "before tasking");
    };
    let cur = s.current;
    if cur == task::IDLE {
        drop(guard);
        fatal(frame, cr2, "in the idle task");
    }
    let Some(t) = s.tasks.get_mut(&cur) else {
        drop(guard);
        fatal(frame, cr2, "no current task");
    };
    if t.in_fault || t.unwinding > 0 || t.alt.is_none() {
        let name = t.name.clone();
        let why = if t.in_fault {
            "fault while handling a fault"
        } else if t.unwinding > 0 {
            "fault while unwinding"
        } else {
            "no alternate stack"
        };
        let line = describe(frame, cr2);
        diag!("task {cur} '{name}' killed without unwinding ({why}): {line}");
        drop(guard);
        task::kill_current_in_handler(frame, Exit::Faulted(line));
        return;
    }
    t.in_fault = true;
    if let Some(alt) = t.alt.as_mut() {
        hal::trap::redirect(frame, cr2, alt, task_fault_entry);
    }
}

/// Payload of an unwind started for a fault.
struct TaskFault(String);
/// Payload of an unwind started by a panic.
struct PanicMessage(String);

/// Converts an unwind payload caught at task entry into an exit status.
pub(crate) fn exit_from_payload(payload: Box<dyn Any + Send>) -> Exit {
    if let Some(f) = payload.downcast_ref::<TaskFault>() {
        Exit::Faulted(f.0.clone())
    } else if let Some(p) = payload.downcast_ref::<PanicMessage>() {
        Exit::Panicked(p.0.clone())
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        Exit::Panicked(s.to_string())
    } else {
        Exit::Panicked("unknown payload".into())
    }
}

/// A panic payload's message, for `catch_unwind` users.
pub fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(f) = payload.downcast_ref::<TaskFault>() {
        f.0.clone()
    } else if let Some(p) = payload.downcast_ref::<PanicMessage>() {
        p.0.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "unknown payload".into()
    }
}

/// Prints the current stack's frames, starting at the frame whose IP is `from` if given.
fn print_backtrace(from: Option<u64>) {
    let mut ips = Vec::new();
    hal::unwind::backtrace(|ip| {
        ips.push(ip);
        ips.len() < 64
    });
    let start = from
        .and_then(|rip| ips.iter().position(|&ip| ip == rip))
        .unwrap_or(0);
    diag!("  backtrace:");
    let frames = &ips[start..];
    let mut i = 0;
    while i < frames.len() {
        let ip = frames[i];
        let repeats = frames[i..].iter().take_while(|&&x| x == ip).count();
        // Return addresses point after the call; name the call instruction's function.
        let lookup = if i == 0 && from.is_some() { ip } else { ip - 1 };
        match crate::symbols::lookup(lookup) {
            Some((name, _)) => diag!("    {i:2}: {ip:#x} {name:#}"),
            None => diag!("    {i:2}: {ip:#x} ?"),
        }
        if repeats > 2 {
            diag!("        ... same frame {} more times", repeats - 1);
            i += repeats;
        } else {
            i += 1;
        }
    }
}

/// Clears the task's "handling a fault" mark when fault handling ends, by resuming or by
/// unwinding out of [`task_fault_entry`] (after which the alternate stack is free again).
struct FaultScope;

impl Drop for FaultScope {
    fn drop(&mut self) {
        let mut g = task::SCHED.lock();
        if let Some(s) = g.as_mut() {
            let cur = s.current;
            if let Some(t) = s.tasks.get_mut(&cur) {
                t.in_fault = false;
            }
        }
    }
}

/// Runs in the faulting task, on its alternate stack (see the module documentation). A
/// handler that unwinds (panics) is dropped, i.e. unregistered.
extern "C-unwind" fn task_fault_entry(ctx: &mut FaultContext) {
    let _scope = FaultScope;
    let vector = ctx.frame.vector;
    let cr2 = ctx.cr2;
    if let Some(kind) = ExceptionKind::of_vector(vector) {
        let handler = {
            let mut g = task::SCHED.lock();
            g.as_mut().and_then(|s| {
                let cur = s.current;
                s.tasks
                    .get_mut(&cur)
                    .and_then(|t| t.handlers[kind as usize].take())
            })
        };
        if let Some(mut h) = handler {
            let mut info = FaultInfo {
                kind,
                vector: vector as u8,
                error_code: ctx.frame.error_code,
                fault_addr: (vector == 14).then_some(cr2),
                ctx: &mut *ctx,
            };
            let verdict = match hal::unwind::catch_unwind(|| h(&mut info)) {
                Ok(v) => v,
                // The handler panicked: continue that unwind from the faulting frame.
                Err(payload) => {
                    drop(h);
                    // That panic's unwind ends here; `unwind_from_fault` starts the next.
                    task::end_unwinding();
                    unwind_from_fault(ctx, payload, || Exit::Panicked("fault handler".into()))
                }
            };
            let mut g = task::SCHED.lock();
            if let Some(s) = g.as_mut() {
                let cur = s.current;
                if let Some(t) = s.tasks.get_mut(&cur) {
                    if t.handlers[kind as usize].is_none() {
                        t.handlers[kind as usize] = Some(h);
                    }
                }
            }
            if verdict == Handled::Resume {
                return;
            }
        }
    }
    let line = describe(&ctx.frame, cr2);
    diag!(
        "task {} '{}' killed: {}",
        task::current(),
        task::current_name(),
        line
    );
    diag!(
        "  rsp {:#x} rbp {:#x} rflags {:#x}",
        ctx.frame.rsp,
        ctx.frame.rbp,
        ctx.frame.rflags
    );
    print_backtrace(Some(ctx.frame.rip));
    let exit = Exit::Faulted(line.clone());
    unwind_from_fault(ctx, Box::new(TaskFault(line)), || exit)
}

/// Most frames a fault unwind is planned over (deeper stacks are treated as corrupted).
const MAX_UNWIND_FRAMES: usize = 4096;

/// Unwinds the faulted task with `payload`, running the destructors of its frames, up to the
/// nearest `catch_unwind` (at worst `task_entry`'s); never returns.
///
/// The unwinder is not let loose on the stack as it is. First the stack is walked
/// ([`hal::unwind::fault_frames`]: stack pointers inside the task's stack and growing, at most
/// [`MAX_UNWIND_FRAMES`]) and every frame's landing-pad verdict is read from its LSDA, exactly
/// as the personality routine will. Then the unwind starts at the innermost frame from which
/// it is both sound and certain to reach a catch:
/// - the faulting frame itself only if the fault is at a `call` instruction (the frame is then
///   exactly as at that call site, e.g. a stack overflow pushing the return address) or the
///   frame has no landing pad there. At any other instruction the frame may be mid-update
///   (LLVM merges call-site ranges, so a landing pad may cover non-call instructions) or not
///   even set up (a shrink-wrapped prologue runs in the landing pad, which then executes on a
///   stack 8 bytes off, clobbers a callee-saved register of its caller, and makes the
///   unwinder crash: the old `unhandled_illegal_instruction` hang). Rust has no asynchronous
///   unwind tables, so such a frame's own locals are skipped (leaked);
/// - otherwise a caller's call site (the state "the callee returned", from the CFI);
/// - past any frame whose call site the personality refuses (a call compiled `nounwind`, e.g.
///   into `memset` or a function LLVM proved cannot unwind): those frames are skipped too.
///
/// If no catch is reachable, or the walk finds a corrupted stack, nothing is unwound: the
/// task ends without cleanup (its stacks and record are still reclaimed by the scheduler).
fn unwind_from_fault(
    ctx: &mut FaultContext,
    payload: Box<dyn Any + Send>,
    exit: impl FnOnce() -> Exit,
) -> ! {
    match plan_unwind(ctx) {
        Ok(skipped) => {
            if skipped > 0 {
                diag!("  unwinding from frame {skipped} (inner frames have no unwind point here; their locals leak)");
            }
            task::begin_unwinding();
            // The trampoline is a signal frame: the unwinder takes the context's RIP as is.
            let (code, _) = hal::unwind::begin_unwind(payload);
            task::end_unwinding();
            diag!("  unwinding failed (code {code}); task ends without cleanup");
        }
        Err(why) => diag!("  not unwinding ({why}); task ends without cleanup"),
    }
    task::exit_current(exit())
}

/// Chooses where the fault unwind starts (see [`unwind_from_fault`]) and rewrites `ctx` to
/// that frame's state; returns the number of inner frames skipped.
fn plan_unwind(ctx: &mut FaultContext) -> Result<usize, String> {
    let (lo, hi) = task::current_stack_range().ok_or("the task has no stack of its own")?;
    let walk = |_: &FaultContext| {
        hal::unwind::fault_frames(lo, hi, MAX_UNWIND_FRAMES)
            .map_err(|e| alloc::format!("stack walk: {e:?}"))
    };
    let mut frames = walk(ctx)?;
    let mut at_call_site = false;
    let f = &ctx.frame;
    // A fetch fault at an address without unwind info (a call to a bad or NX address): the
    // return address is still on top of the stack, the caller is exactly at its call site.
    let no_fde = frames.len() == 1 && frames[0].verdict == hal::unwind::Verdict::Terminate;
    if no_fde
        && f.vector == 14
        && f.error_code & 16 != 0
        && f.rsp.is_multiple_of(8)
        && (lo..hi).contains(&f.rsp)
    {
        let ret = hal::paging::peek_u64(f.rsp);
        let f = &mut ctx.frame;
        f.rip = ret - 1;
        f.rsp += 8;
        frames = walk(ctx)?;
        at_call_site = true;
    }
    let first = frames.first().ok_or("no frames")?;
    use hal::unwind::Verdict;
    let exact = at_call_site
        || first.verdict == Verdict::Continue
        || hal::unwind::is_call_instruction(first.ip);
    let mut start = if exact { 0 } else { 1 };
    let mut catch = None;
    for (k, fr) in frames.iter().enumerate().skip(start) {
        match fr.verdict {
            Verdict::Catch => {
                catch = Some(k);
                break;
            }
            Verdict::Terminate => start = k + 1,
            Verdict::Continue | Verdict::Cleanup => {}
        }
    }
    if catch.is_none() {
        return Err(alloc::format!(
            "no catch_unwind reachable over {} frames",
            frames.len()
        ));
    }
    if start > 0 {
        let c = frames[start].regs;
        let f = &mut ctx.frame;
        // RIP - 1 lies inside the call instruction: the right FDE row and call-site entry.
        f.rip = c.rip - 1;
        f.rsp = c.rsp;
        f.rbx = c.rbx;
        f.rbp = c.rbp;
        f.r12 = c.r12;
        f.r13 = c.r13;
        f.r14 = c.r14;
        f.r15 = c.r15;
    }
    Ok(start)
}

/// The unwinder could not continue after a landing pad (hal's `_Unwind_Resume`): the frames
/// below are already gone, so the task ends here with what the payload says.
pub(crate) fn resume_failed(code: i32, payload: Box<dyn Any + Send>) -> ! {
    diag!(
        "task {} '{}': unwinding failed after a landing pad (code {code}); task ends without further cleanup",
        task::current(),
        task::current_name()
    );
    task::exit_current(exit_from_payload(payload))
}

/// True while the current task is running its own panic (nested panics are fatal).
static PANIC_DEPTH: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let msg = alloc::format!("{}", info.message());
    let loc = info
        .location()
        .map(|l| alloc::format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let current = task::SCHED.try_lock().and_then(|g| {
        g.as_ref()
            .and_then(|s| s.tasks.get(&s.current).map(|t| (s.current, t.name.clone())))
    });
    let in_task =
        hal::interrupts::nesting() == 0 && matches!(current, Some((id, _)) if id != task::IDLE);
    let depth = PANIC_DEPTH.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    if !in_task || depth > 8 {
        diag!("");
        diag!("KERNEL PANIC at {loc}: {msg}");
        print_backtrace(None);
        hal::cpu::exit_qemu(1);
    }
    let (id, name) = current.unwrap_or((0, String::new()));
    diag!("task {id} '{name}' panicked at {loc}: {msg}");
    print_backtrace(None);
    PANIC_DEPTH.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    // A panic that may not unwind (in a destructor during an unwind, or through a `nounwind`
    // boundary) or inside the unwinder itself (its own assertions, e.g. `_Unwind_Resume`
    // finding no frame to resume into) must not start another unwind: only the task ends.
    let in_unwinder = loc.contains("/unwinding-") || loc.contains("/gimli-");
    if !info.can_unwind() || in_unwinder {
        diag!("  cannot unwind from here; task ends without cleanup");
        task::exit_current(Exit::Panicked(msg))
    }
    task::begin_unwinding();
    let (code, _) = hal::unwind::begin_unwind(Box::new(PanicMessage(msg.clone())));
    task::end_unwinding();
    diag!("  unwinding failed (code {code}); task ends without cleanup");
    task::exit_current(Exit::Panicked(msg))
}

/// Runs `f`, catching a panic or a fault-driven unwind inside it.
///
/// Catching ends the unwind that the panic or fault started (the task's unwind count drops),
/// so a later fault of the task is delivered normally again.
pub fn catch_unwind<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    let r = hal::unwind::catch_unwind(f);
    if r.is_err() {
        task::end_unwinding();
    }
    r
}
