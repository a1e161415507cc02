//! The serial console on COM1: output for the shell and diagnoses, and interrupt-driven input.
//!
//! IRQ 4 drains the UART into a ring buffer and wakes the reader; when the buffer is full the
//! receive interrupt is switched off, so further bytes wait in the UART and in QEMU's
//! character backend (which stops reading its input) instead of being dropped: piped input
//! that arrives before the shell runs is never lost. [`read_byte`] blocks on a wait queue.
//! [`diag`] writes to both COM1 and the COM2 log (panic and fault diagnoses).
//!
//! Ctrl-C (0x03) received while a foreground process is set is taken out of the input and
//! interrupts that process (`crate::process::interrupt_foreground`). In `clew run` mode
//! ([`set_framed`]) COM1 carries only protocol frames: [`write_str`] and [`diag`] then go
//! to COM2 alone, and [`write_frame_bytes`] sends frames with `rep outsb`.

use crate::sync::{SpinLock, WaitQueue};
use alloc::collections::VecDeque;
use core::fmt::{self, Write};
use hal::serial::{COM1, COM2};

const RX_CAPACITY: usize = 16 * 1024;

static OUT: SpinLock<()> = SpinLock::new(());
static RX: SpinLock<Rx> = SpinLock::new(Rx {
    buf: VecDeque::new(),
    paused: false,
});
static RX_READY: WaitQueue = WaitQueue::new();
/// COM1 carries `clew run` frames only.
static FRAMED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Switches to `clew run` mode: from now on only [`write_frame_bytes`] writes to COM1.
pub fn set_framed() {
    FRAMED.store(true, core::sync::atomic::Ordering::Relaxed);
}

/// Whether COM1 carries frames ([`set_framed`]).
pub fn is_framed() -> bool {
    FRAMED.load(core::sync::atomic::Ordering::Relaxed)
}

/// Writes encoded frames to COM1, unmodified. QEMU's emulated UART passes every byte to
/// its character device without loss, so the bytes go out with `rep outsb` and no status
/// polling (see `hal::serial`): this is what makes `clew run`'s output fast.
/// Frames are written whole under a blocking lock (no interleaving between writers), in
/// chunks with interrupts enabled between them so the timer keeps ticking during a long
/// frame (QEMU emulates each `out` separately: about 2 µs per byte under TCG).
pub fn write_frame_bytes(bytes: &[u8]) {
    let _frame = FRAME_OUT.lock();
    for chunk in bytes.chunks(256) {
        let _g = OUT.lock();
        COM1.write_bulk_emulated(chunk);
    }
}

/// Serializes whole frames on COM1 (a sleeping lock: frames can be long).
static FRAME_OUT: crate::sync::Mutex<()> = crate::sync::Mutex::new(());

/// Wakes tasks blocked in [`read_byte_until`] so they re-check their condition (a kill).
pub fn wake_readers() {
    RX_READY.wake_all();
}

struct Rx {
    buf: VecDeque<u8>,
    paused: bool,
}

/// Enables the receive interrupt (IRQ 4).
pub fn init() {
    RX.lock().buf.reserve(RX_CAPACITY);
    COM1.set_rx_interrupt(true);
    hal::interrupts::unmask_irq(4);
}

/// IRQ 4: move received bytes into the buffer.
pub(crate) fn on_rx_interrupt() {
    let mut rx = RX.lock();
    while rx.buf.len() < RX_CAPACITY {
        match COM1.try_read() {
            Some(0x03) if !is_framed() && crate::process::interrupt_foreground() => {
                crate::tty::on_interrupt();
            }
            Some(b) => rx.buf.push_back(b),
            None => break,
        }
    }
    if rx.buf.len() >= RX_CAPACITY {
        rx.paused = true;
        COM1.set_rx_interrupt(false);
    }
    drop(rx);
    RX_READY.wake_all();
}

/// Blocks until a byte of console input is available and returns it.
pub fn read_byte() -> u8 {
    let mut byte = None;
    RX_READY.wait_until(|| {
        let mut rx = RX.lock();
        byte = rx.buf.pop_front();
        if rx.paused && rx.buf.len() < RX_CAPACITY / 2 {
            rx.paused = false;
            COM1.set_rx_interrupt(true);
        }
        byte.is_some()
    });
    byte.unwrap_or(0)
}

/// Blocks until a byte of console input is available (returns it) or `give_up` holds
/// (returns `None`; checked whenever the task is woken, e.g. by [`wake_readers`]).
pub fn read_byte_until(mut give_up: impl FnMut() -> bool) -> Option<u8> {
    let mut byte = None;
    RX_READY.wait_until(|| {
        let mut rx = RX.lock();
        byte = rx.buf.pop_front();
        if rx.paused && rx.buf.len() < RX_CAPACITY / 2 {
            rx.paused = false;
            COM1.set_rx_interrupt(true);
        }
        byte.is_some() || give_up()
    });
    byte
}

/// Takes one byte of console input if one is buffered.
pub fn try_read_byte() -> Option<u8> {
    let mut rx = RX.lock();
    let b = rx.buf.pop_front();
    if rx.paused && rx.buf.len() < RX_CAPACITY / 2 {
        rx.paused = false;
        COM1.set_rx_interrupt(true);
    }
    b
}

/// Whether console input is waiting.
pub fn input_pending() -> bool {
    !RX.lock().buf.is_empty()
}

/// Writes to COM1 (LF becomes CRLF for terminals); to COM2 in `clew run` mode.
pub fn write_str(s: &str) {
    write_bytes(s.as_bytes());
}

/// Writes bytes to COM1 (LF becomes CRLF for terminals); to COM2 in `clew run` mode.
pub fn write_bytes(bytes: &[u8]) {
    let port = if is_framed() { COM2 } else { COM1 };
    let _g = OUT.lock();
    for &b in bytes {
        if b == b'\n' {
            port.write_byte(b'\r');
        }
        port.write_byte(b);
    }
}

/// `fmt::Write` for COM1.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_str(s);
        Ok(())
    }
}

/// `fmt::Write` for diagnoses: COM1 and COM2. Takes no locks (usable while panicking with
/// a lock held); lines may interleave with other output in that case.
pub struct Diag;

impl Write for Diag {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let framed = is_framed();
        for b in s.bytes() {
            if !framed {
                if b == b'\n' {
                    COM1.write_byte(b'\r');
                }
                COM1.write_byte(b);
            }
            COM2.write_byte(b);
        }
        Ok(())
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::console::Console, $($arg)*);
    }};
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::write_str("\n") };
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Console, $($arg)*);
    }};
}

/// Prints a diagnosis line to both serial ports.
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Diag, $($arg)*);
    }};
}
