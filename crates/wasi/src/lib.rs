//! WASI preview1 (`wasi_snapshot_preview1`), no_std, written once for every engine.
//!
//! Each of the 46 preview1 functions is one plain Rust function in [`preview1`], taking the
//! per-process [`WasiCtx`] (fd table with rights, preopens, args, env, host services, the
//! shared [`vfs::Vfs`]) and a bounds-checked [`GuestMemory`], and returning the witx
//! [`Errno`] (or an [`Error`] that stops the guest: `proc_exit`, a trap).
//!
//! Layout:
//! - [`types`]: errno, flags, enums and struct layouts of the witx;
//! - [`memory`]: the guest-memory trait;
//! - [`host`]: the traits the system provides (clocks and sleep, random, stdio streams);
//! - [`ctx`]: the per-process context;
//! - [`invoke`]: `--invoke`'s arguments, warnings and results, for every engine;
//! - [`preview1`]: the functions; [`table`]: the one list of their wasm signatures, from
//!   which the engine adapters ([`wasmi_adapter`], [`wasmtime_adapter`], behind the cargo
//!   features `wasmi` and `wasmtime`) generate their `Linker` registrations;
//! - [`preview0`]: the same functions for `wasi_unstable` (snapshot 0) programs, four of
//!   them reading or writing that snapshot's layouts.
//!
//! Behaviour follows wasmtime's preview1 implementation (the reference the official
//! conformance suite is checked against) unless a comment says otherwise.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod ctx;
pub mod host;
pub mod invoke;
pub mod memory;
mod poll;
pub mod preview0;
pub mod preview1;
pub mod table;
pub mod types;

#[cfg(test)]
mod tests;

#[cfg(feature = "wasmi")]
pub mod wasmi_adapter;
#[cfg(feature = "wasmtime")]
pub mod wasmtime_adapter;

pub use ctx::{share, BadPointer, SharedVfs, StdioKind, WasiCtx, WasiView};
pub use host::{Clocks, Random, Stream};
pub use memory::{GuestMemory, GuestMemoryExt, MemError};
pub use types::{ClockId, Errno};

/// The import module name of every preview1 function.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The import module name of the snapshot 0 functions ([`preview0`]).
pub const MODULE0: &str = "wasi_unstable";

/// Whether this crate provides the import `module::name`: a preview1 function, or a
/// snapshot 0 one (preview1's list less `sock_accept`, which snapshot 0 does not have).
pub fn provides(module: &str, name: &str) -> bool {
    match module {
        MODULE => table::NAMES.contains(&name),
        MODULE0 => name != "sock_accept" && table::NAMES.contains(&name),
        _ => false,
    }
}

/// What to do with imports of a module that neither WASI nor the embedder provides (the
/// `wasmtime run` flags `--default-values-unknown-imports`, `--trap-unknown-imports`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownImports {
    /// Instantiation fails ("unknown import: `m::n` has not been defined").
    #[default]
    Reject,
    /// Functions that return zeros.
    DefaultValues,
    /// Functions that trap when called.
    Trap,
}

/// Why a WASI call did not return an errno to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A witx errno for the guest.
    Errno(Errno),
    /// A guest pointer was out of bounds or misaligned.
    BadPointer,
    /// `proc_exit(code)`: unwind out of the engine and end the program with `code`.
    Exit(i32),
    /// End the program with a trap carrying this message.
    Trap(&'static str),
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Error::Errno(e)
    }
}

impl From<MemError> for Error {
    fn from(_: MemError) -> Self {
        Error::BadPointer
    }
}

/// The result type of every preview1 function.
pub type Result<T> = core::result::Result<T, Error>;

/// How a call ended, as the adapters see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Return this errno (0 = success) to the guest.
    Return(u16),
    /// Stop the guest: exit with this code.
    Exit(i32),
    /// Stop the guest with a trap.
    Trap(&'static str),
}

/// Turns a function's result into what the engine must do, applying `ctx.bad_pointer`.
pub fn outcome(ctx: &WasiCtx, r: Result<()>) -> Outcome {
    match r {
        Ok(()) => Outcome::Return(0),
        Err(Error::Errno(e)) => Outcome::Return(e as u16),
        Err(Error::BadPointer) => match ctx.bad_pointer {
            BadPointer::Trap => Outcome::Trap("pointer out of bounds or misaligned"),
            BadPointer::Efault => Outcome::Return(Errno::Fault as u16),
        },
        Err(Error::Exit(code)) => Outcome::Exit(code),
        Err(Error::Trap(msg)) => Outcome::Trap(msg),
    }
}

/// A panic catcher the adapters call every host function through, so that no panic
/// crosses an engine's (nounwind) frames: runs the closure and returns `false` if it
/// panicked. The host passes a wrapper of `std::panic::catch_unwind`; the kernel its own.
pub type CatchPanic = fn(&mut dyn FnMut()) -> bool;

/// A [`CatchPanic`] that catches nothing (for builds with `panic = "abort"`).
pub fn no_catch(f: &mut dyn FnMut()) -> bool {
    f();
    true
}

/// Runs one WASI call under `catch`: the shared body of every adapter closure.
pub fn call_guarded(
    catch: CatchPanic,
    ctx: &mut WasiCtx,
    mem: &mut [u8],
    f: &mut dyn FnMut(&mut WasiCtx, &mut dyn GuestMemory) -> Result<()>,
) -> Outcome {
    let mut out = None;
    let mut mem = mem;
    let ok = catch(&mut || out = Some(f(ctx, &mut mem)));
    match out {
        Some(r) if ok => outcome(ctx, preview1::escape_fixup(ctx, r)),
        _ => Outcome::Trap("panic in a WASI host function"),
    }
}
