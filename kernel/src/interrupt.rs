//! The kernel's single interrupt handler, installed into `hal::interrupts`: routes exceptions
//! to `fault`, the timer (IRQ 0) to `time` and `task`, COM1 (IRQ 4) to `console`, and the
//! software yield vector to `task`.

use hal::interrupts::{end_of_interrupt, InterruptFrame, IRQ_BASE, YIELD_VECTOR};

/// Handles one interrupt or exception; may replace the frame (context switch).
pub fn handle(frame: &mut InterruptFrame) {
    let v = frame.vector as u8;
    match v {
        0..=31 => crate::fault::on_exception(frame),
        YIELD_VECTOR => crate::task::on_yield(frame),
        _ if (IRQ_BASE..IRQ_BASE + 16).contains(&v) => {
            let irq = v - IRQ_BASE;
            match irq {
                0 => {
                    let now = crate::time::tick();
                    // QEMU's software TLB starts at 256 entries (1 MiB) and is resized
                    // only when the guest flushes it whole (accel/tcg/cputlb.c,
                    // `tlb_mmu_resize_locked`). Clew has one address space and never
                    // reloads CR3, so without this every program with a working set over
                    // 1 MiB pays a page walk per access; one flush per tick lets the TLB
                    // grow to the working set (and shrink after). On hardware it costs a
                    // few hundred TLB refills per 10 ms.
                    hal::cpu::flush_tlb();
                    // A killed native process stops here if it is in wasm code.
                    crate::wasmtime_platform::on_timer_tick(frame);
                    end_of_interrupt(0);
                    crate::task::on_tick(frame, now);
                }
                4 => {
                    crate::console::on_rx_interrupt();
                    end_of_interrupt(4);
                }
                7 | 15 => {} // spurious (8259A): no EOI for the spurious line itself
                _ => end_of_interrupt(irq),
            }
        }
        _ => log::warn!("unexpected interrupt vector {v}"),
    }
}
