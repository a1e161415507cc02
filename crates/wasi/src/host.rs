//! What a WASI process needs from the system under it: clocks and sleeping ([`Clocks`]),
//! random bytes ([`Random`]) and byte streams for stdin/stdout/stderr ([`Stream`]).
//! The host tool implements them with std; the kernel with its TSC/RTC clock, scheduler,
//! RDRAND and console/pipe objects.

use crate::types::{ClockId, Errno};

/// Clocks, sleeping and yielding (witx `clock_*`, `poll_oneoff`, `sched_yield`).
pub trait Clocks: Send + Sync {
    /// Current time of `clock` in nanoseconds, or `None` if the clock is not provided
    /// (`clock_time_get` then returns `EBADF`, as wasmtime does for the CPU-time clocks).
    fn now_ns(&self, clock: ClockId) -> Option<u64>;
    /// Resolution of `clock` in nanoseconds, or `None` if not provided.
    fn resolution_ns(&self, clock: ClockId) -> Option<u64>;
    /// Blocks the calling process until the monotonic clock reaches `deadline_ns`
    /// (returns at once if it already has). May return early; callers re-check.
    fn sleep_until(&self, deadline_ns: u64);
    /// Gives up the CPU for a moment (`sched_yield`).
    fn yield_now(&self) {}
    /// If the calling process has been killed, the exit code it must end with: a blocking
    /// `poll_oneoff` then ends the program (as `proc_exit`) instead of waiting on.
    fn killed(&self) -> Option<i32> {
        None
    }
}

/// A source of random bytes (`random_get`).
pub trait Random: Send + Sync {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// A byte stream behind fds 0, 1, 2 (or a pipe).
pub trait Stream: Send {
    /// Reads up to `buf.len()` bytes, blocking until at least one is available or the
    /// stream is at its end (then `Ok(0)`).
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::Badf)
    }
    /// Writes the bytes (all of them, blocking), returning how many were written.
    fn write(&mut self, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::Badf)
    }
    /// Whether a `read` would not block (for `poll_oneoff`).
    fn read_ready(&mut self) -> bool {
        true
    }
    /// Whether this stream is a terminal (fdstat reports `character_device`, else `unknown`,
    /// like wasmtime).
    fn is_tty(&self) -> bool {
        false
    }
}
