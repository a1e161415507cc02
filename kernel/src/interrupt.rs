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
