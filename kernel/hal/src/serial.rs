//! 16550 UART driver by port I/O: COM1 (0x3F8) is the user console, COM2 (0x2F8) the kernel
//! log, COM3 (0x3E8) bulk data for the host tool. Output polls the transmitter-empty bit; input is read by the kernel's IRQ 4 handler
//! while the line-status "data ready" bit is set. Locking is the caller's job (the kernel's
//! `console` and `logger` modules wrap ports in spin locks).

use x86_64::instructions::port::Port;

/// One UART, identified by its I/O base.
#[derive(Clone, Copy)]
pub struct SerialPort {
    base: u16,
}

/// The console UART.
pub const COM1: SerialPort = SerialPort { base: 0x3f8 };
/// The log UART.
pub const COM2: SerialPort = SerialPort { base: 0x2f8 };
/// The bulk-data UART: `clew boot` sends the final state of its `--dir` trees here at
/// power-off (QEMU writes it to a file the host tool reads).
pub const COM3: SerialPort = SerialPort { base: 0x3e8 };

impl SerialPort {
    fn out(self, reg: u16, v: u8) {
        // SAFETY: the 8 registers at `base` belong to this UART; port writes cannot touch memory.
        unsafe { Port::<u8>::new(self.base + reg).write(v) }
    }
    fn inp(self, reg: u16) -> u8 {
        // SAFETY: as in `out`; reading RBR/LSR only affects the UART.
        unsafe { Port::<u8>::new(self.base + reg).read() }
    }

    /// Programs 115200 8N1, interrupts off, OUT2 on (routes the UART's interrupt line to the
    /// PIC on PC hardware). The FCR is left alone: switching the FIFOs on flushes the receive
    /// side (16550 datasheet, FCR bit 0; QEMU does the same), which would drop a byte typed or
    /// piped before the kernel started. Without FIFOs QEMU hands over one byte at a time and
    /// holds the rest of its input until RBR is read, so nothing is lost.
    pub fn init(self) {
        self.out(1, 0x00); // IER: off
        self.out(3, 0x80); // LCR: DLAB
        self.out(0, 0x01); // divisor 1 = 115200 baud
        self.out(1, 0x00);
        self.out(3, 0x03); // 8N1
        self.out(4, 0x0b); // MCR: DTR, RTS, OUT2
    }

    /// Writes one byte, waiting for the transmit holding register to empty.
    pub fn write_byte(self, b: u8) {
        while self.inp(5) & 0x20 == 0 {
            core::hint::spin_loop();
        }
        self.out(0, b);
    }

    /// Writes `bytes` with `rep outsb`, without polling the line status between bytes.
    /// Only for an emulated UART whose backend never drops a byte (QEMU's 16550 hands every
    /// THR write straight to its character device); real hardware needs [`Self::write_byte`].
    pub fn write_bulk_emulated(self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // SAFETY: `rep outsb` reads `rcx` bytes from `rsi` (a valid slice) and writes them to
        // port `dx` (this UART's THR); it writes no memory. DF is clear per the ABI.
        unsafe {
            core::arch::asm!(
                "rep outsb",
                in("dx") self.base,
                inout("rsi") bytes.as_ptr() => _,
                inout("rcx") bytes.len() => _,
                options(nostack, preserves_flags, readonly)
            );
        }
    }

    /// Reads one received byte if any (LSR bit 0 "data ready").
    pub fn try_read(self) -> Option<u8> {
        if self.inp(5) & 1 != 0 {
            Some(self.inp(0))
        } else {
            None
        }
    }

    /// Turns the "received data available" interrupt on or off (IER bit 0).
    pub fn set_rx_interrupt(self, on: bool) {
        self.out(1, on as u8);
    }
}
