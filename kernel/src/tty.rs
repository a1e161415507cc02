//! The console as a process's terminal: a cooked, tty-like line discipline over
//! `crate::console` input, and COM1 output with LF → CRLF.
//!
//! A process reading the console gets whole lines: typed bytes are echoed, Backspace/DEL
//! erase a character, Ctrl-U the line, Enter ends it (`\n` delivered), Ctrl-D at the start
//! of a line is end-of-file (elsewhere it delivers the partial line). Ctrl-C is handled in
//! the receive interrupt (`crate::console`): it kills the foreground process and discards
//! the partial line here. The shell reads the console itself (its own line editor) only
//! while no foreground process runs, so the two never compete for input.
//!
//! Key type: [`ConsoleStream`] (a `wasi::Stream`). Neighbours: `crate::console`,
//! `crate::process`.

use crate::sync::SpinLock;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use wasi::{Errno, Stream};

struct Tty {
    /// Completed input not yet read.
    ready: VecDeque<u8>,
    /// The line being edited.
    line: Vec<u8>,
    /// Ctrl-D at the start of a line: the next read returns 0.
    eof: bool,
}

static TTY: SpinLock<Tty> = SpinLock::new(Tty {
    ready: VecDeque::new(),
    line: Vec::new(),
    eof: false,
});

/// Ctrl-C interrupted the foreground process (called from the receive interrupt): drop
/// the partial line and echo `^C`.
pub(crate) fn on_interrupt() {
    let mut t = TTY.lock();
    t.line.clear();
    t.ready.clear();
    drop(t);
    crate::console::write_bytes(b"^C\n");
}

/// Wakes console readers so a killed process's read returns.
pub fn wake_readers() {
    crate::console::wake_readers();
}

/// The console as fd 0/1/2 of a process.
pub struct ConsoleStream;

fn echo(bytes: &[u8]) {
    crate::console::write_bytes(bytes);
}

impl Stream for ConsoleStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut t = TTY.lock();
                if !t.ready.is_empty() {
                    let n = buf.len().min(t.ready.len());
                    for (dst, src) in buf.iter_mut().zip(t.ready.drain(..n)) {
                        *dst = src;
                    }
                    return Ok(n);
                }
                if t.eof {
                    t.eof = false;
                    return Ok(0);
                }
            }
            let Some(b) = crate::console::read_byte_until(crate::process::current_killed) else {
                return Err(Errno::Intr);
            };
            let mut t = TTY.lock();
            match b {
                b'\r' | b'\n' => {
                    echo(b"\n");
                    let mut line = core::mem::take(&mut t.line);
                    line.push(b'\n');
                    t.ready.extend(line);
                }
                0x08 | 0x7f => {
                    if !t.line.is_empty() {
                        // Erase one UTF-8 character: continuation bytes, then its lead.
                        while let Some(c) = t.line.pop() {
                            if c & 0xc0 != 0x80 {
                                break;
                            }
                        }
                        echo(b"\x08 \x08");
                    }
                }
                0x15 => {
                    let chars = core::str::from_utf8(&t.line)
                        .map(|s| s.chars().count())
                        .unwrap_or(t.line.len());
                    t.line.clear();
                    for _ in 0..chars {
                        echo(b"\x08 \x08");
                    }
                }
                0x04 => {
                    if t.line.is_empty() {
                        t.eof = true;
                    } else {
                        let line = core::mem::take(&mut t.line);
                        t.ready.extend(line);
                    }
                }
                // A Ctrl-C with no foreground process (a background reader): ignored.
                0x03 => {}
                b => {
                    t.line.push(b);
                    echo(&[b]);
                }
            }
        }
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        crate::console::write_bytes(buf);
        Ok(buf.len())
    }

    fn read_ready(&mut self) -> bool {
        let t = TTY.lock();
        !t.ready.is_empty() || t.eof || crate::console::input_pending()
    }

    fn is_tty(&self) -> bool {
        true
    }
}
