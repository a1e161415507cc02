//! Interrupt entry: the IDT, one 16-byte stub per vector, the common entry/exit path, the
//! 8259A PIC and the 8254 PIT.
//!
//! Every vector enters through an interrupt gate (IF cleared) on an IST stack (see
//! [`crate::gdt`]). The stub pushes a zero error code when the CPU does not (SDM Vol. 3A
//! §6.13, Table 6-1), the vector number, the 15 general registers and a 512-byte FXSAVE image,
//! which together with the CPU's frame form an [`InterruptFrame`]. The kernel's single
//! handler gets `&mut InterruptFrame` and may overwrite it entirely: that is how a context
//! switch happens (the saved state of the outgoing task is copied out, the incoming task's
//! state copied in) and how a fault is redirected into the faulting task (see
//! [`crate::trap`]). The exit path restores whatever the frame then holds and `iretq`s.

use crate::gdt;
use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Once;
use x86_64::instructions::port::Port;

/// Vector of the first PIC IRQ after remapping.
pub const IRQ_BASE: u8 = 32;
/// Software vector used to enter the scheduler voluntarily.
pub const YIELD_VECTOR: u8 = 0x81;

/// The state saved on interrupt entry, lowest address first (matches the entry stub).
#[repr(C, align(16))]
#[derive(Clone)]
pub struct InterruptFrame {
    /// Upper halves of YMM0-15 (bits 255:128), saved only once AVX is enabled
    /// ([`crate::cpu::enable_avx`]); the lower halves are in `fx`.
    pub ymmh: [u8; 256],
    /// FXSAVE64 image (x87, MMX, SSE state; SDM Vol. 1 §10.5.1).
    pub fx: [u8; 512],
    #[allow(missing_docs)]
    pub r15: u64,
    #[allow(missing_docs)]
    pub r14: u64,
    #[allow(missing_docs)]
    pub r13: u64,
    #[allow(missing_docs)]
    pub r12: u64,
    #[allow(missing_docs)]
    pub r11: u64,
    #[allow(missing_docs)]
    pub r10: u64,
    #[allow(missing_docs)]
    pub r9: u64,
    #[allow(missing_docs)]
    pub r8: u64,
    #[allow(missing_docs)]
    pub rbp: u64,
    #[allow(missing_docs)]
    pub rdi: u64,
    #[allow(missing_docs)]
    pub rsi: u64,
    #[allow(missing_docs)]
    pub rdx: u64,
    #[allow(missing_docs)]
    pub rcx: u64,
    #[allow(missing_docs)]
    pub rbx: u64,
    #[allow(missing_docs)]
    pub rax: u64,
    /// Vector number pushed by the stub.
    pub vector: u64,
    /// Error code (pushed by the CPU, or 0).
    pub error_code: u64,
    /// Interrupted instruction pointer.
    pub rip: u64,
    /// Interrupted code segment.
    pub cs: u64,
    /// Interrupted RFLAGS.
    pub rflags: u64,
    /// Interrupted stack pointer.
    pub rsp: u64,
    /// Interrupted stack segment.
    pub ss: u64,
}

/// RFLAGS.IF.
pub const RFLAGS_IF: u64 = 1 << 9;

impl InterruptFrame {
    /// The initial state of a new task: it starts at `entry` with interrupts enabled, on a
    /// stack whose top (exclusive, 16-byte aligned) is `stack_top`, with `arg` in RDI, as if
    /// `entry` had just been called (RSP ≡ 8 mod 16, return address 0 ends backtraces).
    /// The caller guarantees the 8 bytes below `stack_top` are zero.
    pub fn new_task(entry: extern "C" fn(u64) -> !, arg: u64, stack_top: u64) -> Self {
        let mut fx = [0u8; 512];
        fx[0..2].copy_from_slice(&0x037fu16.to_le_bytes()); // FCW: default x87 control word
        fx[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR: all exceptions masked
        InterruptFrame {
            ymmh: [0; 256],
            fx,
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rbp: 0,
            rdi: arg,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rbx: 0,
            rax: 0,
            vector: 0,
            error_code: 0,
            rip: entry as *const () as u64,
            cs: gdt::KERNEL_CODE as u64,
            rflags: 0x2 | RFLAGS_IF,
            rsp: stack_top - 8,
            ss: gdt::KERNEL_DATA as u64,
        }
    }
}

global_asm!(
    r#"
    .section .text.interrupts, "ax"
    .balign 16
    .global interrupt_stubs
interrupt_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp interrupt_common
    .set vec, vec + 1
    .endr

interrupt_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    sub $768, %rsp
    fxsave64 256(%rsp)
    cmpb $0, {avx}(%rip)
    je 1f
    vextractf128 $1, %ymm0, 0(%rsp)
    vextractf128 $1, %ymm1, 16(%rsp)
    vextractf128 $1, %ymm2, 32(%rsp)
    vextractf128 $1, %ymm3, 48(%rsp)
    vextractf128 $1, %ymm4, 64(%rsp)
    vextractf128 $1, %ymm5, 80(%rsp)
    vextractf128 $1, %ymm6, 96(%rsp)
    vextractf128 $1, %ymm7, 112(%rsp)
    vextractf128 $1, %ymm8, 128(%rsp)
    vextractf128 $1, %ymm9, 144(%rsp)
    vextractf128 $1, %ymm10, 160(%rsp)
    vextractf128 $1, %ymm11, 176(%rsp)
    vextractf128 $1, %ymm12, 192(%rsp)
    vextractf128 $1, %ymm13, 208(%rsp)
    vextractf128 $1, %ymm14, 224(%rsp)
    vextractf128 $1, %ymm15, 240(%rsp)
1:
    cld
    mov %rsp, %rdi
    call {dispatch}
    .global interrupt_return
interrupt_return:
    fxrstor64 256(%rsp)
    cmpb $0, {avx}(%rip)
    je 2f
    vinsertf128 $1, 0(%rsp), %ymm0, %ymm0
    vinsertf128 $1, 16(%rsp), %ymm1, %ymm1
    vinsertf128 $1, 32(%rsp), %ymm2, %ymm2
    vinsertf128 $1, 48(%rsp), %ymm3, %ymm3
    vinsertf128 $1, 64(%rsp), %ymm4, %ymm4
    vinsertf128 $1, 80(%rsp), %ymm5, %ymm5
    vinsertf128 $1, 96(%rsp), %ymm6, %ymm6
    vinsertf128 $1, 112(%rsp), %ymm7, %ymm7
    vinsertf128 $1, 128(%rsp), %ymm8, %ymm8
    vinsertf128 $1, 144(%rsp), %ymm9, %ymm9
    vinsertf128 $1, 160(%rsp), %ymm10, %ymm10
    vinsertf128 $1, 176(%rsp), %ymm11, %ymm11
    vinsertf128 $1, 192(%rsp), %ymm12, %ymm12
    vinsertf128 $1, 208(%rsp), %ymm13, %ymm13
    vinsertf128 $1, 224(%rsp), %ymm14, %ymm14
    vinsertf128 $1, 240(%rsp), %ymm15, %ymm15
2:
    add $768, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    "#,
    dispatch = sym dispatch,
    avx = sym crate::cpu::AVX_ENABLED,
    options(att_syntax)
);

/// An IDT gate descriptor (SDM Vol. 3A §6.14.1, Figure 6-8).
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static IDT: Once<Idt> = Once::new();
static HANDLER: Once<fn(&mut InterruptFrame)> = Once::new();
static DEPTH: AtomicUsize = AtomicUsize::new(0);

/// Called by the entry stub with the frame it built on the IST stack.
extern "C" fn dispatch(frame: *mut InterruptFrame) {
    DEPTH.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the stub passes a pointer to the frame it just pushed on the current IST stack;
    // it is aligned (16), fully initialised, and nothing else refers to it until we return.
    let frame = unsafe { &mut *frame };
    match HANDLER.get() {
        Some(handler) => handler(frame),
        None => early_exception(frame),
    }
    DEPTH.fetch_sub(1, Ordering::Relaxed);
}

/// An exception before the kernel installed its handler: report raw and stop.
fn early_exception(frame: &InterruptFrame) -> ! {
    use core::fmt::Write;
    struct Raw;
    impl Write for Raw {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for b in s.bytes() {
                crate::serial::COM1.write_byte(b);
                crate::serial::COM2.write_byte(b);
            }
            Ok(())
        }
    }
    let _ = writeln!(
        Raw,
        "early exception: vector {} error {:#x} rip {:#x} cr2 {:#x}",
        frame.vector,
        frame.error_code,
        frame.rip,
        crate::cpu::cr2()
    );
    crate::cpu::exit_qemu(1)
}

/// How many interrupt/exception handlers are active (0 = task context).
pub fn nesting() -> usize {
    DEPTH.load(Ordering::Relaxed)
}

/// Builds and loads the IDT, and installs the kernel's handler for every vector.
pub fn init(handler: fn(&mut InterruptFrame)) {
    HANDLER.call_once(|| handler);
    extern "C" {
        static interrupt_stubs: u8;
    }
    let stubs = core::ptr::addr_of!(interrupt_stubs) as u64;
    let idt = IDT.call_once(|| {
        let mut gates = [Gate {
            offset_low: 0,
            selector: 0,
            ist: 0,
            attributes: 0,
            offset_mid: 0,
            offset_high: 0,
            reserved: 0,
        }; 256];
        for (v, gate) in gates.iter_mut().enumerate() {
            let addr = stubs + 16 * v as u64;
            let ist = match v {
                8 => gdt::IST_DOUBLE_FAULT,
                14 => gdt::IST_PAGE_FAULT,
                2 | 18 => gdt::IST_NMI,
                0..=31 => gdt::IST_EXCEPTION,
                _ => gdt::IST_IRQ,
            };
            *gate = Gate {
                offset_low: addr as u16,
                selector: gdt::KERNEL_CODE,
                ist,
                attributes: 0x8e, // present, DPL 0, 64-bit interrupt gate
                offset_mid: (addr >> 16) as u16,
                offset_high: (addr >> 32) as u32,
                reserved: 0,
            };
        }
        Idt(gates)
    });
    let ptr = x86_64::structures::DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: x86_64::VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the IDT lives in a `static` forever and every gate points at a stub in
    // `interrupt_stubs` with the kernel code selector.
    unsafe { x86_64::instructions::tables::lidt(&ptr) };
}

fn outb(port: u16, v: u8) {
    // SAFETY: only called with the PIC (0x20/0x21/0xA0/0xA1) and PIT (0x40/0x43) ports.
    unsafe { Port::<u8>::new(port).write(v) }
}

/// Remaps the two 8259A PICs to vectors 32..47 and masks every IRQ.
pub fn init_pic() {
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, IRQ_BASE);
    outb(0xa1, IRQ_BASE + 8);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 1);
    outb(0xa1, 1);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/// Unmasks one IRQ line (0..15).
pub fn unmask_irq(irq: u8) {
    let (port, bit) = if irq < 8 {
        (0x21, irq)
    } else {
        (0xa1, irq - 8)
    };
    // SAFETY: reading a PIC mask register has no side effects.
    let mask = unsafe { Port::<u8>::new(port).read() };
    outb(port, mask & !(1 << bit));
    if irq >= 8 {
        unmask_irq(2);
    }
}

/// Acknowledges an IRQ at the PIC(s).
pub fn end_of_interrupt(irq: u8) {
    if irq >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
}

/// PIT input clock in Hz.
pub const PIT_HZ: u32 = 1_193_182;

/// Programs PIT channel 0 as a rate generator (mode 2) at `hz`.
pub fn init_pit(hz: u32) {
    let divisor = (PIT_HZ / hz).clamp(1, 65535) as u16;
    outb(0x43, 0x34);
    outb(0x40, divisor as u8);
    outb(0x40, (divisor >> 8) as u8);
}

/// Measures TSC cycles during `ms` milliseconds (at most 50) timed by PIT channel 2 in
/// one-shot mode with its gate on port 0x61 (bit 0 gate, bit 5 output; the classic PC
/// speaker-port method). Interrupts play no part. Returns 0 if the PIT never fires.
pub fn calibrate_tsc(ms: u32) -> u64 {
    let count = (PIT_HZ / 1000 * ms.min(50)) as u16;
    // SAFETY: port 0x61 is the PC's system control port B; reading it has no side effects.
    let port_b = unsafe { Port::<u8>::new(0x61).read() };
    outb(0x61, (port_b & !0x02) | 0x01); // gate on, speaker off
    outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count)
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let start = crate::cpu::rdtsc();
    let mut spins = 0u64;
    // SAFETY: as above, reading port B only samples the channel 2 output.
    while unsafe { Port::<u8>::new(0x61).read() } & 0x20 == 0 {
        spins += 1;
        if spins > 100_000_000 {
            return 0;
        }
        core::hint::spin_loop();
    }
    let cycles = crate::cpu::rdtsc() - start;
    outb(0x61, port_b);
    cycles
}
