//! Processor control: interrupt flag, halt, time-stamp counter, CR2/CR3, and the two ways
//! out of QEMU (isa-debug-exit and ACPI power-off). Neighbours: [`crate::interrupts`] (uses
//! these around dispatch), the kernel's `time` and `task` modules.

use core::arch::asm;
use x86_64::instructions::port::Port;

/// Enables maskable interrupts (`sti`).
pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

/// Disables maskable interrupts (`cli`).
pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

/// True if RFLAGS.IF is set.
pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

/// Atomically enables interrupts and halts until the next one (`sti; hlt`, SDM Vol. 2 STI:
/// the interrupt window opens only after the next instruction).
pub fn enable_and_halt() {
    x86_64::instructions::interrupts::enable_and_hlt();
}

/// Halts forever with interrupts disabled.
pub fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        x86_64::instructions::hlt();
    }
}

/// Reads the time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects; CR4.TSD is clear at ring 0 anyway.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Faulting linear address of the last page fault (CR2, SDM Vol. 3A §4.7).
pub fn cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

/// Invalidates the TLB entry of one page (`invlpg`); harmless for any address.
pub fn flush_page(virt: u64) {
    // SAFETY: INVLPG only drops a cached translation; it cannot break memory safety.
    unsafe { asm!("invlpg [{}]", in(reg) virt, options(nostack, preserves_flags)) };
}

/// Flushes the whole TLB by reloading CR3 with its current value (SDM Vol. 3A §4.10.4.1:
/// a MOV to CR3 invalidates all non-global translations).
pub fn flush_tlb() {
    let (frame, flags) = x86_64::registers::control::Cr3::read();
    // SAFETY: the same root table and flags are written back: every mapping stays as it
    // is; only cached translations are dropped.
    unsafe { x86_64::registers::control::Cr3::write(frame, flags) };
}

/// Enters the scheduler through the software "yield" vector (`int 0x81`), which goes
/// through the same entry stub as the timer, so a voluntary switch saves exactly what a
/// preemption saves.
pub fn yield_interrupt() {
    // SAFETY: vector 0x81 has a handler installed by `interrupts::init`; it returns here.
    unsafe { asm!("int 0x81") };
}

/// Exits QEMU through the isa-debug-exit device (iobase 0xf4): QEMU exits with
/// `(code << 1) | 1`. Returns (and halts) if the device is absent.
pub fn exit_qemu(code: u32) -> ! {
    let mut port = Port::<u32>::new(0xf4);
    // SAFETY: port 0xf4 is the isa-debug-exit device, or nothing; writing cannot corrupt memory.
    unsafe { port.write(code) };
    halt_forever()
}

/// Powers off through the ACPI PM1a control register QEMU's default PC machine decodes at
/// port 0x604 (SLP_TYPa = 0 | SLP_EN), which makes QEMU exit with status 0.
pub fn power_off() -> ! {
    let mut port = Port::<u16>::new(0x604);
    // SAFETY: port 0x604 is the PIIX4 PM1a control block on QEMU `pc`; no memory effects.
    unsafe { port.write(0x2000u16) };
    halt_forever()
}

/// CPUID leaf 1 ECX bit 30: RDRAND available.
pub fn has_rdrand() -> bool {
    let r = core::arch::x86_64::__cpuid(1);
    r.ecx & (1 << 30) != 0
}

/// One 64-bit value from RDRAND, retried up to 10 times as Intel recommends (SDM vol. 1
/// §7.3.17 "Random Number Generator Instructions"); `None` without RDRAND or on failure.
pub fn rdrand64() -> Option<u64> {
    if !has_rdrand() {
        return None;
    }
    for _ in 0..10 {
        let mut v = 0u64;
        // SAFETY: RDRAND is present (CPUID checked above); it writes only `v` and returns
        // 1 when the value is valid.
        if unsafe { core::arch::x86_64::_rdrand64_step(&mut v) } == 1 {
            return Some(v);
        }
    }
    None
}

/// The test helpers below are `#[inline(never)]` functions whose asm is `may_unwind`: a call
/// to them may unwind, so the calling frame keeps its landing pad (its destructors run when
/// the kernel unwinds the task from the fault). Their asm is never `nostack`: with `nostack`
/// LLVM may run the asm before the function's (shrink-wrapped) prologue while its landing pad
/// assumes the prologue ran, so an unwind into that pad would run on a stack 8 bytes off.
///
/// Executes a raw `div` (no Rust zero check): a zero divisor raises #DE, which the kernel
/// delivers to the task as an ArithmeticError. For tests of exception delivery.
#[inline(never)]
pub fn raw_divide(dividend: u64, divisor: u64) -> u64 {
    let q: u64;
    // SAFETY: DIV only reads and writes the named registers; #DE is handled by the kernel.
    unsafe {
        asm!("div {d}", d = in(reg) divisor, inout("rax") dividend => q, inout("rdx") 0u64 => _,
             options(nomem, may_unwind));
    }
    q
}

/// Executes `ud2` (#UD, an IllegalInstruction for the task). For tests.
#[inline(never)]
pub fn illegal_instruction() {
    // SAFETY: UD2 raises #UD, which the kernel delivers to the running task; if a handler
    // resumes after it, execution continues past this asm block's end only by the handler's
    // choice of RIP.
    unsafe { asm!("ud2", options(nomem, may_unwind)) };
}

/// Reads 8 bytes at an arbitrary address with a single `mov`, for tests of fault isolation:
/// an unmapped or non-canonical address faults (#PF/#GP) and the kernel kills the task.
/// Reading mapped memory this way has no effect on Rust objects (a volatile read).
#[inline(never)]
pub fn probe_read(addr: u64) -> u64 {
    let v: u64;
    // SAFETY: a volatile 8-byte load creates no reference; faults are handled by the kernel.
    unsafe {
        asm!("mov {v}, [{a}]", a = in(reg) addr, v = out(reg) v, options(readonly, may_unwind))
    };
    v
}

/// Calls the code at `addr` (for tests of NX/W^X: a data page must not execute). The code
/// must be a bare `ret` or fault; all caller-saved registers are treated as clobbered.
#[inline(never)]
pub fn probe_execute(addr: u64) {
    // SAFETY: the callee is test code (`ret`) or faults at its first fetch; the kernel is
    // built without a red zone, so the pushed return address clobbers nothing live.
    unsafe { asm!("call {f}", f = in(reg) addr, clobber_abi("C"), options(may_unwind)) };
}

/// Switches to the stack at `sp` and executes `ud2`; never returns. For tests of fault
/// handling on a corrupted stack: the kernel must notice that the frames it would unwind are
/// garbage and end the task without unwinding.
#[inline(never)]
pub fn fault_on_stack(sp: u64) -> ! {
    // SAFETY: control never comes back to Rust code after the stack switch (UD2 faults and the
    // kernel ends the task; a handler resuming here faults again); the memory at `sp` is only
    // read by the unwinder, which the kernel bounds to the task's own stack.
    unsafe { asm!("mov rsp, {sp}", "xor ebp, ebp", "ud2", sp = in(reg) sp, options(noreturn)) }
}

/// Set once AVX state is enabled: the interrupt stubs then save and restore the upper
/// halves of YMM0-15 too (read by the entry stub as a byte).
#[unsafe(no_mangle)]
pub static AVX_ENABLED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Enables AVX register state when the CPU has XSAVE and AVX (SDM Vol. 1 §13.3): sets
/// CR4.OSXSAVE and XCR0 = x87 | SSE | AVX. Call once at boot, before any task runs and
/// with interrupts disabled. Returns whether AVX is now usable.
pub fn enable_avx() -> bool {
    let l1 = core::arch::x86_64::__cpuid(1);
    let xsave = l1.ecx & (1 << 26) != 0;
    let avx = l1.ecx & (1 << 28) != 0;
    if !xsave || !avx {
        return false;
    }
    // SAFETY: (1) CPUID reports XSAVE, so CR4.OSXSAVE (bit 18) may be set and XSETBV is
    // valid afterwards; (2) XCR0 = 0b111 enables exactly x87, SSE and AVX state, which
    // CPUID reports; (3) we run at CPL 0 with interrupts disabled (the caller's contract),
    // so no interrupt stub runs half-configured; the stubs start saving YMM upper halves
    // only after `AVX_ENABLED` is set below.
    unsafe {
        let mut cr4: u64;
        core::arch::asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack));
        cr4 |= 1 << 18;
        core::arch::asm!("mov cr4, {}", in(reg) cr4, options(nomem, nostack));
        core::arch::x86_64::_xsetbv(0, 0b111);
    }
    AVX_ENABLED.store(true, core::sync::atomic::Ordering::SeqCst);
    true
}
