//! wasmtime's platform layer for Clew: the `wasmtime_*` C-ABI symbols of wasmtime 48's
//! custom platform (`runtime/vm/sys/custom/capi.rs`), CPU exceptions delivered to
//! wasmtime's trap handler, CPUID answers for `Config::detect_host_feature`, and loading
//! precompiled modules. This is the only module of the kernel crate besides `kernel_main`
//! that opts out of `unsafe_code = "deny"`; everything it exports is safe to call.
//!
//! - Virtual memory: `wasmtime_mmap_new` is a lazy reservation (`memory::reserve`: zeroed
//!   pages committed on first touch), `wasmtime_mprotect` is `memory::protect` (W^X refused,
//!   NX enforced), `wasmtime_mmap_remap` decommits and re-protects, `wasmtime_munmap`
//!   releases. Executable ranges are remembered, so a fault can be attributed to wasm code.
//! - Memory images (copy-on-write initialisation): unsupported (`memory_init_cow(false)` in
//!   `aot_config`), `wasmtime_memory_image_new` returns no image.
//! - Locks: wasmtime's mutexes and read-write locks (`custom-sync-primitives`) are words
//!   it owns; a contended lock yields the CPU until the holder releases it.
//! - TLS: slots 0/1 are per-task slots (`task::tls_get/tls_set`), so each process task has
//!   its own wasmtime activation state across preemption.
//! - Traps: [`NativeTraps`] registers, for the current task, handlers for invalid address
//!   (#PF, #GP), illegal instruction (#UD) and arithmetic (#DE, #MF, #XM) exceptions with
//!   `fault::register_handler`. A handler runs in the faulting task, after the exception
//!   returned; when the faulting RIP is in wasm code it rewrites the context so that the
//!   task, on its own stack below the red zone, calls wasmtime's trap handler (which
//!   resumes at the wasm entry's landing pad: the call into wasm returns a `Trap`), like a
//!   Unix signal handler (GUIDE §4). Faults outside wasm code are not handled here.
//! - [`load_module`]: checks Clew's `.cwasm` header (`aot_config::header`: magic, format,
//!   wasmtime version, CPU profile, checksum) and the CPU, then `Module::deserialize`.
//!
//! Exported symbols (`#[unsafe(no_mangle)]`): SAFETY: (1) each name is one that wasmtime
//! 48's `capi.rs` declares, defined with exactly the declared signature and C ABI; (2) no
//! other symbol of the kernel image uses these names; (3) none of them unwinds.
//!
//! Neighbours: `crate::memory`, `crate::fault`, `crate::task`, `crate::process::native`.
#![allow(unsafe_code)]

use crate::fault::{self, ExceptionKind, FaultInfo, Handled};
use crate::sync::SpinLock;
use crate::task::TaskId;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use aot_config::header;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_logic::paging::Prot;
use kernel_logic::PAGE_SIZE;

// ---------------------------------------------------------------------------------------
// Virtual memory
// ---------------------------------------------------------------------------------------

const PROT_READ: u32 = 1 << 0;
const PROT_WRITE: u32 = 1 << 1;
const PROT_EXEC: u32 = 1 << 2;

/// Error codes returned to wasmtime (it only formats them as "os error N").
const ERR_INVALID: i32 = 22;
const ERR_NO_MEMORY: i32 = 12;

fn prot_of(flags: u32) -> Prot {
    Prot::new(
        flags & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0,
        flags & PROT_WRITE != 0,
        flags & PROT_EXEC != 0,
    )
}

/// Executable ranges handed to wasm code (start → end): a fault there is a wasm trap.
static CODE: SpinLock<BTreeMap<u64, u64>> = SpinLock::new(BTreeMap::new());

/// The wasm function bodies inside [`CODE`] (start → end), registered by [`load_module`]:
/// the only code a kill may interrupt (see [`on_timer_tick`]); trampolines are left out.
static BODIES: SpinLock<BTreeMap<u64, u64>> = SpinLock::new(BTreeMap::new());

/// Forgets executable ranges overlapping `[addr, addr + len)`.
fn forget_code(addr: u64, len: u64) {
    let end = addr.saturating_add(len);
    CODE.lock().retain(|&s, &mut e| e <= addr || s >= end);
    BODIES.lock().retain(|&s, &mut e| e <= addr || s >= end);
}

/// Whether `rip` lies inside a wasm function body of a loaded module.
fn in_wasm_body(rip: u64) -> bool {
    let Some(bodies) = BODIES.try_lock() else {
        return false;
    };
    bodies
        .range(..=rip)
        .next_back()
        .is_some_and(|(_, &e)| rip < e)
}

/// Whether `rip` lies in code mapped executable through `wasmtime_mprotect`.
pub fn is_wasm_code(rip: u64) -> bool {
    let Some(code) = CODE.try_lock() else {
        return false;
    };
    code.range(..=rip)
        .next_back()
        .is_some_and(|(_, &e)| rip < e)
}

fn round_up(len: usize) -> Option<u64> {
    let len = u64::try_from(len).ok()?;
    len.checked_add(PAGE_SIZE - 1).map(|l| l & !(PAGE_SIZE - 1))
}

/// `mmap(0, size, prot, MAP_PRIVATE | MAP_ANONYMOUS)`: a reservation, committed at once
/// when writable, else lazily.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mmap_new(size: usize, prot_flags: u32, ret: &mut *mut u8) -> i32 {
    let Some(len) = round_up(size).filter(|&l| l > 0) else {
        return ERR_INVALID;
    };
    let prot = prot_of(prot_flags);
    match crate::memory::reserve(len, PAGE_SIZE, prot, "wasmtime") {
        Ok(base) => {
            // wasmtime asks for an accessible mapping only to fill it at once (`MmapVec`:
            // the copy of a `.cwasm` it loads); linear memories are reservations made
            // accessible by `wasmtime_mprotect`. Committing in one pass, as mprotect does,
            // spares a page fault per 4 KiB: loading a 220 MB `.cwasm` took 0.1 s less.
            if prot.write && crate::memory::commit(base, len, prot).is_err() {
                let _ = crate::memory::release(base);
                return ERR_NO_MEMORY;
            }
            *ret = base as *mut u8;
            0
        }
        Err(e) => {
            log::warn!("wasmtime_mmap_new({size:#x}): {e:?}");
            ERR_NO_MEMORY
        }
    }
}

/// `mmap(addr, size, prot, MAP_FIXED)` over part of an existing mapping: fresh zero pages.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mmap_remap(addr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    let Some(len) = round_up(size).filter(|&l| l > 0) else {
        return 0;
    };
    let a = addr as u64;
    forget_code(a, len);
    if crate::memory::decommit(a, len).is_err() {
        return ERR_INVALID;
    }
    match crate::memory::protect(a, len, prot_of(prot_flags)) {
        Ok(()) => 0,
        Err(_) => ERR_INVALID,
    }
}

/// `munmap`: releases a whole reservation, or makes part of one inaccessible again.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_munmap(ptr: *mut u8, size: usize) -> i32 {
    let Some(len) = round_up(size).filter(|&l| l > 0) else {
        return 0;
    };
    let a = ptr as u64;
    forget_code(a, len);
    match crate::memory::region_of(a) {
        Some(r) if r.base == a && r.len == len => match crate::memory::release(a) {
            Ok(()) => 0,
            Err(_) => ERR_INVALID,
        },
        Some(_) => {
            if crate::memory::decommit(a, len).is_err() {
                return ERR_INVALID;
            }
            match crate::memory::protect(a, len, Prot::NONE) {
                Ok(()) => 0,
                Err(_) => ERR_INVALID,
            }
        }
        None => ERR_INVALID,
    }
}

/// `mprotect`. Write together with execute is refused (W^X).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_mprotect(ptr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    let Some(len) = round_up(size).filter(|&l| l > 0) else {
        return 0;
    };
    let a = ptr as u64;
    let prot = prot_of(prot_flags);
    if prot.write && prot.exec {
        return ERR_INVALID;
    }
    match crate::memory::protect(a, len, prot) {
        Ok(()) => {
            forget_code(a, len);
            if prot.exec {
                CODE.lock().insert(a, a + len);
            }
            // Read-write pages are linear memory (and tables) wasmtime just made accessible,
            // at instantiation or `memory.grow`: commit them now. One pass costs less than a
            // page fault per 4 KiB at first touch (under TCG each fault is tens of
            // microseconds), and a grow the RAM cannot back fails here, as `memory.grow`
            // returning -1, instead of trapping later at the first touch.
            if prot.write && crate::memory::commit(a, len, prot).is_err() {
                let _ = crate::memory::protect(a, len, Prot::NONE);
                return ERR_NO_MEMORY;
            }
            0
        }
        Err(e) => {
            log::warn!("wasmtime_mprotect({a:#x}, {len:#x}, {prot_flags}): {e:?}");
            ERR_INVALID
        }
    }
}

/// The page size.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_page_size() -> usize {
    PAGE_SIZE as usize
}

/// Opaque memory image (never created: see the module documentation).
pub enum MemoryImage {}

/// No copy-on-write images: stores NULL ("cannot create an image", not an error).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_new(
    _ptr: *const u8,
    _len: usize,
    ret: &mut *mut MemoryImage,
) -> i32 {
    *ret = core::ptr::null_mut();
    0
}

/// Never called (no image is ever created); refuses.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_map_at(
    _image: *mut MemoryImage,
    _addr: *mut u8,
    _len: usize,
) -> i32 {
    ERR_INVALID
}

/// Never called with a real image.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_memory_image_free(_image: *mut MemoryImage) {}

// ---------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------

/// wasmtime's per-thread pointer: a slot of the current task.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_get(slot: usize) -> *mut u8 {
    crate::task::tls_get(slot) as *mut u8
}

/// Sets wasmtime's per-thread pointer of the current task.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_set(slot: usize, ptr: *mut u8) {
    crate::task::tls_set(slot, ptr as usize);
}

// ---------------------------------------------------------------------------------------
// Locks (`custom-sync-primitives`)
// ---------------------------------------------------------------------------------------
//
// wasmtime's global registries (code, types) are shared by every process task, and the
// timer preempts tasks anywhere, so a lock can be contended. Each lock is one word owned
// by wasmtime, zero when free. A contended acquire yields the CPU (the holder runs again
// and releases it); there is one CPU, so spinning would only burn the holder's slice.
// Mutex: 0 free, 1 held. RwLock: 0 free, n readers, `usize::MAX` a writer.

/// The lock word at `lock` as an atomic.
fn lock_word<'a>(lock: *mut usize) -> &'a core::sync::atomic::AtomicUsize {
    // SAFETY: (1) wasmtime passes a pointer to a `usize` it owns, aligned and live for as
    // long as the lock is used (the C API contract of `wasmtime_sync_*`), and accesses it
    // only through these functions, so every access is atomic; (2) `AtomicUsize` has the
    // size and alignment of `usize`.
    unsafe { core::sync::atomic::AtomicUsize::from_ptr(lock) }
}

const WRITER: usize = usize::MAX;

/// Acquires a mutex, yielding while another task holds it.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_lock_acquire(lock: *mut usize) {
    let w = lock_word(lock);
    while w
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        crate::task::yield_now();
    }
}

/// Releases a mutex.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_lock_release(lock: *mut usize) {
    lock_word(lock).store(0, Ordering::Release);
}

/// Frees a mutex (nothing to free: the word is wasmtime's).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_lock_free(_lock: *mut usize) {}

/// Takes a read lock, yielding while a writer holds it.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_rwlock_read(lock: *mut usize) {
    let w = lock_word(lock);
    loop {
        let s = w.load(Ordering::Relaxed);
        if s != WRITER
            && s < WRITER - 1
            && w.compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return;
        }
        crate::task::yield_now();
    }
}

/// Releases a read lock.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_rwlock_read_release(lock: *mut usize) {
    lock_word(lock).fetch_sub(1, Ordering::Release);
}

/// Takes the write lock, yielding while anyone holds the lock.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_rwlock_write(lock: *mut usize) {
    let w = lock_word(lock);
    while w
        .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        crate::task::yield_now();
    }
}

/// Releases the write lock.
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_rwlock_write_release(lock: *mut usize) {
    lock_word(lock).store(0, Ordering::Release);
}

/// Frees a read-write lock (nothing to free).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_sync_rwlock_free(_lock: *mut usize) {}

// ---------------------------------------------------------------------------------------
// Traps
// ---------------------------------------------------------------------------------------

/// wasmtime's `wasmtime_trap_handler_t`.
type TrapHandler =
    extern "C" fn(ip: usize, fp: usize, has_faulting_addr: bool, faulting_addr: usize);

/// The handler given to `wasmtime_init_traps` (0 until then).
static TRAP_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Stores wasmtime's trap handler (called once per engine).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_init_traps(handler: TrapHandler) -> i32 {
    TRAP_HANDLER.store(handler as usize, Ordering::Release);
    0
}

/// What the trampoline passes to wasmtime's handler, written on the task's stack.
#[repr(C)]
struct TrapCall {
    pc: u64,
    fp: u64,
    has_addr: u64,
    addr: u64,
    handler: u64,
    vector: u64,
}

core::arch::global_asm!(
    r#"
    .section .text.wasm_trap, "ax"
    .balign 16
    .global clew_wasm_trap_trampoline
    .type clew_wasm_trap_trampoline, @function
clew_wasm_trap_trampoline:
    mov rbx, rdi
    mov rdi, [rbx]
    mov rsi, [rbx + 8]
    movzx edx, byte ptr [rbx + 16]
    mov rcx, [rbx + 24]
    call qword ptr [rbx + 32]
    mov rdi, rbx
    call {unhandled}
    ud2
    .size clew_wasm_trap_trampoline, . - clew_wasm_trap_trampoline
    "#,
    unhandled = sym trap_not_handled,
);

unsafe extern "C" {
    fn clew_wasm_trap_trampoline();
}

/// wasmtime's handler returned: the fault in wasm code was not a wasm trap (a wasmtime or
/// kernel bug). The task cannot resume the faulting instruction: it ends with a panic.
extern "C" fn trap_not_handled(call: &TrapCall) -> ! {
    panic!(
        "CPU exception {} at {:#x} in wasm code not recognised by wasmtime (address {:#x})",
        call.vector, call.pc, call.addr
    )
}

/// Bytes of red zone below the interrupted RSP the System V ABI lets code use.
const RED_ZONE: u64 = 128;

/// The exception handler registered for a task running wasm: see the module docs.
fn on_exception(info: &mut FaultInfo<'_>) -> Handled {
    let rip = info.rip();
    let handler = TRAP_HANDLER.load(Ordering::Acquire);
    if handler == 0 || !is_wasm_code(rip) {
        return Handled::NotHandled;
    }
    let call = TrapCall {
        pc: rip,
        fp: info.rbp(),
        has_addr: u64::from(info.fault_addr.is_some()),
        addr: info.fault_addr.unwrap_or(0),
        handler: handler as u64,
        vector: u64::from(info.vector),
    };
    let Some(sp) = push_trap_call(info.rsp(), call) else {
        return Handled::NotHandled;
    };
    info.set_rsp(sp);
    info.set_rip(clew_wasm_trap_trampoline as *const () as u64);
    info.set_args(sp, 0);
    Handled::Resume
}

/// Writes `call` below the red zone under `rsp` (the stack pointer of the current task,
/// interrupted in wasm code) and returns the new, 16-byte aligned stack pointer for the
/// trampoline; `None` if that would not lie in the task's own stack.
fn push_trap_call(rsp: u64, call: TrapCall) -> Option<u64> {
    let size = core::mem::size_of::<TrapCall>() as u64;
    // Below the red zone, 16-byte aligned: the trampoline then calls with an ABI-aligned
    // stack (RSP % 16 == 0 at the call instruction).
    let sp = (rsp.wrapping_sub(RED_ZONE + size)) & !15;
    // The whole TrapCall must lie in the current task's own (eagerly mapped) stack.
    let in_stack = crate::memory::region_of(sp)
        .is_some_and(|r| r.label == "stack" && r.contains(sp) && r.contains(sp + size - 1));
    if !in_stack {
        return None;
    }
    // SAFETY: (1) `sp` is 16-byte aligned and `[sp, sp + size)` lies inside a reservation
    // labelled "stack", checked above; stacks are committed eagerly, so the write cannot
    // fault. (2) That stack belongs to the current task: both callers run for the task
    // that was executing wasm code (RIP in a wasm code range) on its own stack (the fault
    // handler in that task, the timer hook in an interrupt that stopped it on an IST
    // stack), and `sp` is below that code's RSP and its red zone, so no live data of the
    // task is overwritten. (3) `TrapCall` is plain old data without drop glue.
    unsafe { (sp as *mut TrapCall).write(call) };
    Some(sp)
}

/// Whether a task's process has been asked to stop (read in interrupt context: atomics only).
pub type KillCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// Tasks running native code, each with its kill check (see [`on_timer_tick`]).
static NATIVE_TASKS: SpinLock<Vec<(TaskId, KillCheck)>> = SpinLock::new(Vec::new());

/// While alive, CPU exceptions of the current task in wasm code become wasmtime traps, and
/// a kill request stops its wasm code at the next timer tick. Create one in a task before
/// calling into native wasm code.
pub struct NativeTraps {
    kinds: [Option<ExceptionKind>; 3],
    task: TaskId,
}

impl NativeTraps {
    /// Registers the handlers for the current task (kinds already handled by someone else
    /// are left alone); `killed` says when the task's wasm code must stop.
    pub fn install(killed: KillCheck) -> NativeTraps {
        let task = crate::task::current();
        NATIVE_TASKS.lock().push((task, killed));
        let mut kinds = [None; 3];
        for (slot, kind) in kinds.iter_mut().zip([
            ExceptionKind::InvalidAddress,
            ExceptionKind::IllegalInstruction,
            ExceptionKind::ArithmeticError,
        ]) {
            if fault::register_handler(kind, on_exception).is_ok() {
                *slot = Some(kind);
            }
        }
        NativeTraps { kinds, task }
    }
}

impl Drop for NativeTraps {
    fn drop(&mut self) {
        for kind in self.kinds.iter().flatten() {
            fault::unregister_handler(*kind);
        }
        let mut tasks = NATIVE_TASKS.lock();
        if let Some(i) = tasks.iter().position(|(t, _)| *t == self.task) {
            tasks.swap_remove(i);
        }
    }
}

/// Where a killed task's wasm code is sent: the `unreachable` trap site of a one-function
/// module precompiled by build.rs (`tests-wasm`-free: it is in `OUT_DIR/kill.cwasm`, with
/// the site's offset in its text section read from wasmtime's own trap table there).
/// Loaded once and kept, so the site stays registered with wasmtime.
static KILL_SITE: spin::Once<Option<(wasmtime::Module, u64)>> = spin::Once::new();

mod kill_site {
    include!(concat!(env!("OUT_DIR"), "/kill_site.rs"));
}

/// The address of the kill trap site, loading its module into `engine` the first time.
pub fn prepare_kill_site(engine: &wasmtime::Engine) -> Option<u64> {
    KILL_SITE
        .call_once(|| {
            let (module, _) = load_module(engine, kill_site::CWASM)
                .map_err(|e| log::warn!("kill site: {e}"))
                .ok()?;
            let text = module.text();
            let offset = usize::try_from(kill_site::TRAP_OFFSET).ok()?;
            // The site must be a `ud2` (0f 0b): anything else means the trap table was
            // misread, and sending a task there would not be a wasm trap.
            if text.get(offset..offset + 2) != Some(&[0x0f, 0x0b][..]) {
                log::warn!("kill site: no ud2 at text offset {offset:#x}; kill is disabled");
                return None;
            }
            let pc = text.as_ptr() as u64 + offset as u64;
            Some((module, pc))
        })
        .as_ref()
        .map(|(_, pc)| *pc)
}

/// Called on every timer tick with the interrupted context. If the interrupted task runs
/// native wasm code (a function body, not a trampoline) and its process has been killed,
/// the context is rewritten exactly as for a CPU exception in wasm code (see
/// [`on_exception`]), with the kill site as the trapping instruction: wasmtime then
/// unwinds to the wasm entry and the call returns a trap, which the process reports as
/// killed. This replaces epoch checks in compiled code (a load and compare on every loop
/// back-edge and function entry, about a third of a tight loop's time under TCG): a kill
/// costs nothing until it is requested, and takes effect within one tick of the task
/// running.
///
/// Why this is sound at any instruction of a body: wasm code holds no kernel locks and has
/// no Rust frames to drop (those are below the wasm entry, which the unwind returns to);
/// wasmtime needs only the frame-pointer chain to collect its backtrace, and Cranelift
/// code keeps RBP as the frame pointer, pointing at the function's own frame or, in its
/// prologue and epilogue, at its caller's.
pub fn on_timer_tick(frame: &mut hal::interrupts::InterruptFrame) {
    if hal::interrupts::nesting() != 1 {
        return;
    }
    // Every tick, usually with nothing killed: a try-lock and an atomic load per native
    // task, before anything else is looked at.
    let any_killed = NATIVE_TASKS
        .try_lock()
        .is_some_and(|tasks| tasks.iter().any(|(_, check)| check()));
    if !any_killed || !in_wasm_body(frame.rip) {
        return;
    }
    let task = crate::task::current();
    let killed = NATIVE_TASKS
        .try_lock()
        .is_some_and(|tasks| tasks.iter().any(|(t, check)| *t == task && check()));
    let handler = TRAP_HANDLER.load(Ordering::Acquire);
    let Some(Some((_, pc))) = KILL_SITE.get() else {
        return;
    };
    if !killed || handler == 0 {
        return;
    }
    let call = TrapCall {
        pc: *pc,
        fp: frame.rbp,
        has_addr: 0,
        addr: 0,
        handler: handler as u64,
        vector: KILL_VECTOR,
    };
    if let Some(sp) = push_trap_call(frame.rsp, call) {
        frame.rsp = sp;
        frame.rip = clew_wasm_trap_trampoline as *const () as u64;
        frame.rdi = sp;
    }
}

/// The `vector` a kill's [`TrapCall`] carries (not a CPU vector).
const KILL_VECTOR: u64 = 0x100;

// ---------------------------------------------------------------------------------------
// CPU features
// ---------------------------------------------------------------------------------------

fn cpuid(leaf: u32, sub: u32) -> core::arch::x86_64::CpuidResult {
    core::arch::x86_64::__cpuid_count(leaf, sub)
}

/// Whether the OS has enabled AVX state (CR4.OSXSAVE and XCR0 bits 1-2).
fn avx_state_enabled() -> bool {
    if cpuid(1, 0).ecx & (1 << 27) == 0 {
        return false;
    }
    // SAFETY: (1) CPUID.1:ECX.OSXSAVE (checked above) means CR4.OSXSAVE is set, so XGETBV
    // is a valid instruction; (2) it only reads XCR0 into registers.
    let xcr0 = unsafe { core::arch::x86_64::_xgetbv(0) };
    xcr0 & 0b110 == 0b110
}

/// `Config::detect_host_feature`: CPUID (SDM Vol. 2A, CPUID), with the AVX family only when
/// the kernel has enabled its register state.
pub fn detect_host_feature(name: &str) -> Option<bool> {
    let l1 = cpuid(1, 0);
    let max = cpuid(0, 0).eax;
    let l7 = if max >= 7 { cpuid(7, 0) } else { cpuid(0, 0) };
    let l7b = if max >= 7 { l7.ebx } else { 0 };
    let ext = cpuid(0x8000_0001, 0);
    let avx = avx_state_enabled();
    Some(match name {
        "sse3" => l1.ecx & 1 != 0,
        "ssse3" => l1.ecx & (1 << 9) != 0,
        "sse4.1" => l1.ecx & (1 << 19) != 0,
        "sse4.2" => l1.ecx & (1 << 20) != 0,
        "popcnt" => l1.ecx & (1 << 23) != 0,
        "cmpxchg16b" => l1.ecx & (1 << 13) != 0,
        "fma" => avx && l1.ecx & (1 << 12) != 0,
        "avx" => avx && l1.ecx & (1 << 28) != 0,
        "avx2" => avx && l7b & (1 << 5) != 0,
        "bmi1" => l7b & (1 << 3) != 0,
        "bmi2" => l7b & (1 << 8) != 0,
        "lzcnt" => ext.ecx & (1 << 5) != 0,
        "avxvnni" | "avx512bitalg" | "avx512dq" | "avx512f" | "avx512vl" | "avx512vbmi"
        | "avx512vnni" => false,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Engine and modules
// ---------------------------------------------------------------------------------------

/// The kernel's wasmtime engine: `aot_config::config()` plus CPUID feature detection.
pub fn new_engine() -> Result<wasmtime::Engine, String> {
    new_engine_with(aot_config::config())
}

/// An engine from an adjusted `aot_config::config()` (measurements), with CPUID detection.
pub fn new_engine_with(mut config: wasmtime::Config) -> Result<wasmtime::Engine, String> {
    // SAFETY: (1) `detect_host_feature` answers from CPUID, so every feature it reports is
    // implemented by this CPU; (2) it reports AVX-family features only when the kernel has
    // enabled their register state (CR4.OSXSAVE and XCR0), so their instructions neither
    // fault nor lose state on a context switch; (3) unknown names get `None`, which makes
    // wasmtime refuse the module rather than guess.
    unsafe {
        config.detect_host_feature(detect_host_feature);
    }
    wasmtime::Engine::new(&config).map_err(|e| format!("{e}"))
}

/// Loads a Clew `.cwasm` into `engine`. Every check that can fail does so with a one-line
/// error before any code is mapped: header (magic, format, wasmtime version, checksum),
/// CPU profile against CPUID, wasmtime's artifact kind, then wasmtime's own compatibility
/// checks (target, flags, tunables, features).
pub fn load_module(
    engine: &wasmtime::Engine,
    bytes: &[u8],
) -> Result<(wasmtime::Module, header::Header), String> {
    let (head, payload) = header::unwrap(bytes).map_err(|e| format!("{e}"))?;
    for feature in head.profile.required_features() {
        if detect_host_feature(feature) != Some(true) {
            return Err(format!(
                "precompiled for CPU profile `{}`, but this CPU lacks {feature}: recompile with `clew compile --cpu baseline`",
                head.profile.name()
            ));
        }
    }
    match wasmtime::Engine::detect_precompiled(payload) {
        Some(wasmtime::Precompiled::Module) => {}
        _ => return Err("precompiled artifact is not a core module".into()),
    }
    // SAFETY: (1) the payload is wasmtime's own serialization format, produced by
    // `aot_config::compile` (checked: Clew header with matching wasmtime version and an
    // intact checksum over exactly these bytes, and wasmtime's ELF kind); (2)
    // `deserialize` verifies target, Cranelift flags (each ISA flag against CPUID via
    // `detect_host_feature`), tunables and wasm features against this engine and fails
    // otherwise; (3) it copies the bytes into its own mapping, so `bytes` need not outlive
    // the module. The remaining trust is in the compiler that produced the artifact, as for
    // any native code (`.cwasm` files are trusted, like kernel modules).
    let module = unsafe { wasmtime::Module::deserialize(engine, payload) }.map_err(|e| {
        let mut msg = format!("{e}");
        if let Some(cause) = e.chain().nth(1) {
            msg = format!("{msg}: {cause}");
        }
        msg
    })?;
    // Its function bodies, for `on_timer_tick` (dropped with the code by `forget_code`).
    let text = module.text().as_ptr() as u64;
    let mut bodies = BODIES.lock();
    for f in module.functions() {
        bodies.insert(text + f.offset as u64, text + (f.offset + f.len) as u64);
    }
    drop(bodies);
    Ok((module, head))
}
