//! Registers the preview1 table with a wasmtime 48 [`wasmtime::Linker`] (works with the
//! no_std `runtime` feature set).
//!
//! Every closure is generated from [`crate::for_each_function!`], the same list the wasmi
//! adapter expands. `proc_exit` becomes an [`I32Exit`] error, a WASI-raised trap a
//! [`WasiTrap`] error; both come back out of `Func::call` and can be downcast.

use crate::table::ReturnValue;
use crate::{
    call_guarded, preview0, preview1, CatchPanic, GuestMemory, Outcome, UnknownImports, WasiCtx,
    WasiView, MODULE, MODULE0,
};
use alloc::string::String;
use core::fmt;
use wasmtime::{Caller, Extern, Linker, Module, Store};

/// `proc_exit(code)`: the error value that unwinds the guest out of wasmtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit with status {}", self.0)
    }
}

impl core::error::Error for I32Exit {}

/// A trap raised by the WASI layer (bad guest pointer, caught panic, invalid exit status).
#[derive(Debug, Clone)]
pub struct WasiTrap(pub String);

impl fmt::Display for WasiTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for WasiTrap {}

type CallFn<'a> = &'a mut dyn FnMut(&mut WasiCtx, &mut dyn GuestMemory) -> crate::Result<()>;

fn call<T: WasiView + 'static, R: ReturnValue>(
    caller: &mut Caller<'_, T>,
    catch: CatchPanic,
    f: CallFn<'_>,
) -> wasmtime::Result<R> {
    let outcome = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            let (bytes, data) = m.data_and_store_mut(&mut *caller);
            call_guarded(catch, data.wasi_ctx(), bytes, f)
        }
        _ => call_guarded(catch, caller.data_mut().wasi_ctx(), &mut [], f),
    };
    match outcome {
        Outcome::Return(e) => Ok(R::from_errno(e)),
        Outcome::Exit(code) => Err(wasmtime::Error::new(I32Exit(code))),
        Outcome::Trap(msg) => Err(wasmtime::Error::new(WasiTrap(String::from(msg)))),
    }
}

/// Adds all 46 `wasi_snapshot_preview1` functions and the 45 of `wasi_unstable` to `linker`, each run under `catch`.
pub fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    catch: CatchPanic,
) -> wasmtime::Result<()> {
    macro_rules! register {
        ($($name:ident ( $($p:ident : $t:ty),* ) -> $ret:ty;)*) => {$(
            // Both snapshots, from one closure: `wasi_unstable` only where it has the
            // function, and through `preview0` (which is `preview1` but for four layouts).
            for (module, unstable) in [(MODULE, false), (MODULE0, true)] {
                if !crate::provides(module, stringify!($name)) {
                    continue;
                }
                linker.func_wrap(
                    module,
                    stringify!($name),
                    move |mut caller: Caller<'_, T>, $($p: $t),*| -> wasmtime::Result<$ret> {
                        call::<T, $ret>(&mut caller, catch, &mut |ctx, mem| {
                            if unstable {
                                preview0::$name(ctx, mem, $($p as _),*)
                            } else {
                                preview1::$name(ctx, mem, $($p as _),*)
                            }
                        })
                    },
                )?;
            }
        )*};
    }
    crate::for_each_function!(register);
    Ok(())
}

/// Defines the unknown imports of `module` per `mode`, with wasmtime's own
/// `define_unknown_imports_as_*` (so messages and default values are wasmtime's).
pub fn define_unknown_imports<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    module: &Module,
    mode: UnknownImports,
) -> wasmtime::Result<()> {
    match mode {
        UnknownImports::Reject => Ok(()),
        UnknownImports::DefaultValues => {
            linker.define_unknown_imports_as_default_values(store, module)
        }
        UnknownImports::Trap => linker.define_unknown_imports_as_traps(module),
    }
}

/// The arguments of the call `label` names (`invoke::Entry::label`) for `ty`'s parameters
/// (see [`crate::invoke`]).
pub fn invoke_params(
    ty: &wasmtime::FuncType,
    label: &str,
    args: &[String],
) -> Result<alloc::vec::Vec<wasmtime::Val>, String> {
    use crate::invoke::{Scalar, ScalarType};
    use wasmtime::{Val, ValType};
    let types = ty.params().map(|t| match t {
        ValType::I32 => Some(ScalarType::I32),
        ValType::I64 => Some(ScalarType::I64),
        ValType::F32 => Some(ScalarType::F32),
        ValType::F64 => Some(ScalarType::F64),
        _ => None,
    });
    Ok(crate::invoke::params(label, types, args)?
        .into_iter()
        .map(|v| match v {
            Scalar::I32(v) => Val::I32(v),
            Scalar::I64(v) => Val::I64(v),
            Scalar::F32(v) => Val::F32(v.to_bits()),
            Scalar::F64(v) => Val::F64(v.to_bits()),
        })
        .collect())
}

/// `--invoke`'s results, one line each (see [`crate::invoke`]).
pub fn invoke_results(results: &[wasmtime::Val]) -> alloc::vec::Vec<String> {
    use crate::invoke::{result_line, Scalar};
    use wasmtime::Val;
    results
        .iter()
        .map(|r| match r {
            Val::I32(v) => result_line(Scalar::I32(*v)),
            Val::I64(v) => result_line(Scalar::I64(*v)),
            Val::F32(v) => result_line(Scalar::F32(f32::from_bits(*v))),
            Val::F64(v) => result_line(Scalar::F64(f64::from_bits(*v))),
            Val::V128(v) => alloc::format!("{}\n", v.as_u128()),
            // References as the wasmtime CLI prints them (it never shows their contents).
            Val::FuncRef(None) => String::from("<null funcref>\n"),
            Val::FuncRef(Some(_)) => String::from("<funcref>\n"),
            Val::ExternRef(None) => String::from("<null externref>\n"),
            Val::ExternRef(Some(_)) => String::from("<externref>\n"),
            Val::AnyRef(None) => String::from("<null anyref>\n"),
            Val::AnyRef(Some(_)) => String::from("<anyref>\n"),
            Val::ExnRef(None) => String::from("<null exnref>\n"),
            Val::ExnRef(Some(_)) => String::from("<exnref>\n"),
            #[allow(unreachable_patterns)]
            _ => String::from("<ref>\n"),
        })
        .collect()
}

/// Store limits for a cap of `max_bytes` on linear memory (`clew run --memory MiB`,
/// `-W max-memory-size=BYTES`): memories may not grow past it (no limit without it).
pub fn memory_limits(max_bytes: Option<u64>) -> wasmtime::StoreLimits {
    let mut limits = wasmtime::StoreLimitsBuilder::new();
    if let Some(bytes) = max_bytes {
        limits = limits.memory_size(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    limits.build()
}
