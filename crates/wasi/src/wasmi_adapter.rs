//! Registers the preview1 table with a wasmi 2 [`wasmi::Linker`] (no_std).
//!
//! Every closure is generated from [`crate::for_each_function!`]; each one finds the
//! instance's exported `memory`, splits the store into (memory bytes, store data), and runs
//! the preview1 function under the [`CatchPanic`] hook. `proc_exit` becomes
//! [`wasmi::Error::i32_exit`], a WASI-raised trap a [`WasiTrap`] host error.

use crate::table::ReturnValue;
use crate::{
    call_guarded, preview0, preview1, CatchPanic, GuestMemory, Outcome, UnknownImports, WasiCtx,
    WasiView, MODULE, MODULE0,
};
use alloc::format;
use alloc::string::String;
use core::fmt;
use wasmi::{Caller, Extern, Linker, Module, Val};

/// A trap raised by the WASI layer (not by the wasm code): a bad guest pointer, a panic
/// caught in a host function, an invalid `proc_exit` status, a trapping unknown import.
#[derive(Debug, Clone)]
pub struct WasiTrap(pub String);

impl fmt::Display for WasiTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl wasmi::errors::HostError for WasiTrap {}

type CallFn<'a> = &'a mut dyn FnMut(&mut WasiCtx, &mut dyn GuestMemory) -> crate::Result<()>;

fn call<T: WasiView, R: ReturnValue>(
    caller: &mut Caller<'_, T>,
    catch: CatchPanic,
    f: CallFn<'_>,
) -> Result<R, wasmi::Error> {
    let outcome = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            let (bytes, data) = m.data_and_store_mut(&mut *caller);
            call_guarded(catch, data.wasi_ctx(), bytes, f)
        }
        _ => call_guarded(catch, caller.data_mut().wasi_ctx(), &mut [], f),
    };
    match outcome {
        Outcome::Return(e) => Ok(R::from_errno(e)),
        Outcome::Exit(code) => Err(wasmi::Error::i32_exit(code)),
        Outcome::Trap(msg) => Err(wasmi::Error::host(WasiTrap(String::from(msg)))),
    }
}

/// Adds all 46 `wasi_snapshot_preview1` functions to `linker`, and the 45 of
/// `wasi_unstable` when `module` imports from it (the kernel builds a linker per
/// interpreted process: most never need the old snapshot). Every call runs under `catch`,
/// so a panic in WASI code becomes a trap instead of unwinding through wasmi.
pub fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
    module: &Module,
    catch: CatchPanic,
) -> Result<(), wasmi::Error> {
    let unstable_too = module.imports().any(|i| i.module() == MODULE0);
    macro_rules! register {
        ($($name:ident ( $($p:ident : $t:ty),* ) -> $ret:ty;)*) => {$(
            // Both snapshots, from one closure: `wasi_unstable` only where it has the
            // function, and through `preview0` (which is `preview1` but for four layouts).
            for (module, unstable) in [(MODULE, false), (MODULE0, true)] {
                if (unstable && !unstable_too) || !crate::provides(module, stringify!($name)) {
                    continue;
                }
                linker.func_wrap(
                    module,
                    stringify!($name),
                    move |mut caller: Caller<'_, T>, $($p: $t),*| -> Result<$ret, wasmi::Error> {
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

/// The first import of `module` that neither [`add_to_linker`] nor
/// [`define_unknown_imports`] in `mode` provides, as (module, name): with
/// [`UnknownImports::Reject`] any unknown import, with [`UnknownImports::Trap`] an unknown
/// one that is not a function (wasmtime's `define_unknown_imports_as_traps` defines
/// functions only). Instantiation fails on it with "unknown import: `m::n` has not been
/// defined", as `wasmtime run` words it.
pub fn first_undefined_import(module: &Module, mode: UnknownImports) -> Option<(String, String)> {
    module
        .imports()
        .filter(|i| !crate::provides(i.module(), i.name()))
        .find(|i| match mode {
            UnknownImports::Reject => true,
            UnknownImports::Trap => !matches!(i.ty(), wasmi::ExternType::Func(_)),
            UnknownImports::DefaultValues => false,
        })
        .map(|i| (String::from(i.module()), String::from(i.name())))
}

/// Defines the unknown imports of `module` per `mode`, as wasmtime's `Linker` does for
/// `wasmtime run`: `--default-values-unknown-imports` (`define_unknown_imports_as_default_
/// values`) gives every kind its default: functions that return zeros, globals holding
/// zero, tables of their minimum size filled with null, memories of their minimum size;
/// `--trap-unknown-imports` (`define_unknown_imports_as_traps`) gives functions that trap
/// when called and leaves other kinds to fail instantiation. With
/// [`UnknownImports::Reject`] nothing is defined and instantiation reports them.
pub fn define_unknown_imports<T: 'static>(
    linker: &mut Linker<T>,
    mut store: impl wasmi::AsContextMut<Data = T>,
    module: &Module,
    mode: UnknownImports,
) -> Result<(), wasmi::Error> {
    use wasmi::ExternType;
    if mode == UnknownImports::Reject {
        return Ok(());
    }
    for import in module.imports() {
        if crate::provides(import.module(), import.name()) {
            continue;
        }
        let (m, n) = (import.module(), import.name());
        match (import.ty(), mode) {
            (ExternType::Func(ty), UnknownImports::DefaultValues) => {
                linker.func_new(m, n, ty.clone(), |_, _, results: &mut [Val]| {
                    for r in results.iter_mut() {
                        *r = Val::default_for_ty(r.ty());
                    }
                    Ok(())
                })?;
            }
            (ExternType::Func(ty), _) => {
                let what = format!("unknown import: `{m}::{n}` has not been defined");
                linker.func_new(m, n, ty.clone(), move |_, _, _| {
                    Err(wasmi::Error::host(WasiTrap(what.clone())))
                })?;
            }
            (ExternType::Global(g), UnknownImports::DefaultValues) => {
                let value = Val::default_for_ty(g.content());
                let global = wasmi::Global::new(&mut store, value, g.mutability());
                linker.define(m, n, global)?;
            }
            (ExternType::Table(t), UnknownImports::DefaultValues) => {
                let null = wasmi::Ref::null(t.element());
                let table = wasmi::Table::new(&mut store, *t, null)?;
                linker.define(m, n, table)?;
            }
            (ExternType::Memory(t), UnknownImports::DefaultValues) => {
                let memory = wasmi::Memory::new(&mut store, *t)?;
                linker.define(m, n, memory)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A wasmi trap as `wasmtime run` words it ("wasm trap: ..."). wasmi 2.0.0 words a call
/// through a null table entry "uninitialized element 2" (a leftover its source marks
/// TODO); wasmtime says "uninitialized element".
pub fn trap_message(code: wasmi::TrapCode) -> String {
    match code {
        wasmi::TrapCode::IndirectCallToNull => String::from("wasm trap: uninitialized element"),
        code => format!("wasm trap: {code}"),
    }
}

/// The trap an instantiation error stands for, worded as `wasmtime run` words it, or None
/// for other failures. The spec makes a data or element segment that does not fit a trap
/// of instantiation (wasmtime: "wasm trap: out of bounds memory access", "wasm trap:
/// undefined element: out of bounds table access", exit 134); wasmi reports the element
/// case as an `InstantiationError` whose text dumps its table handle.
pub fn instantiation_trap(e: &wasmi::Error) -> Option<String> {
    use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
    if let Some(code) = e.as_trap_code() {
        return Some(trap_message(code));
    }
    match e.kind() {
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. })
        | ErrorKind::Table(TableError::InitOutOfBounds) => Some(String::from(
            "wasm trap: undefined element: out of bounds table access",
        )),
        ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => {
            Some(String::from("wasm trap: out of bounds memory access"))
        }
        _ => None,
    }
}

/// The arguments of the call `label` names (`invoke::Entry::label`) for `ty`'s parameters
/// (see [`crate::invoke`]).
pub fn invoke_params(
    ty: &wasmi::FuncType,
    label: &str,
    args: &[String],
) -> Result<alloc::vec::Vec<wasmi::Val>, String> {
    use crate::invoke::{Scalar, ScalarType};
    use wasmi::{Val, ValType};
    let types = ty.params().iter().map(|t| match t {
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
            Scalar::F32(v) => Val::F32(v.into()),
            Scalar::F64(v) => Val::F64(v.into()),
        })
        .collect())
}

/// `--invoke`'s results, one line each (see [`crate::invoke`]).
pub fn invoke_results(results: &[wasmi::Val]) -> alloc::vec::Vec<String> {
    use crate::invoke::{result_line, Scalar};
    use wasmi::Val;
    results
        .iter()
        .map(|r| match r {
            Val::I32(v) => result_line(Scalar::I32(*v)),
            Val::I64(v) => result_line(Scalar::I64(*v)),
            Val::F32(v) => result_line(Scalar::F32(f32::from(*v))),
            Val::F64(v) => result_line(Scalar::F64(f64::from(*v))),
            // References as the wasmtime CLI prints them (it never shows their contents).
            Val::FuncRef(f) if f.is_null() => String::from("<null funcref>\n"),
            Val::FuncRef(_) => String::from("<funcref>\n"),
            Val::ExternRef(e) if e.is_null() => String::from("<null externref>\n"),
            Val::ExternRef(_) => String::from("<externref>\n"),
            other => alloc::format!("{other:?}\n"),
        })
        .collect()
}

/// Store limits for a cap of `max_bytes` on linear memory (`clew run --memory MiB`,
/// `-W max-memory-size=BYTES`): memories may not grow past it (no limit without it).
pub fn memory_limits(max_bytes: Option<u64>) -> wasmi::StoreLimits {
    let mut limits = wasmi::StoreLimitsBuilder::new();
    if let Some(bytes) = max_bytes {
        limits = limits.memory_size(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    limits.build()
}

/// Turns on the wasm proposals Clew's interpreter runs beyond wasmi's defaults (the kernel,
/// `clew run --host` and `clew`'s tier choice configure wasmi alike).
pub fn enable_proposals(c: &mut wasmi::Config) -> &mut wasmi::Config {
    c.wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_simd(true)
        .wasm_multi_memory(true)
}

/// Most nested wasm calls the interpreter allows. wasmi's default (1000) let a plain
/// recursive function trap at depth 1000 where `wasmtime run` (512 KiB of native stack, as
/// Clew's native tier) reaches about 32,700, and real programs (a C compiler parsing
/// nested expressions) trapped under the interpreter only. wasmi keeps its frames on the
/// heap (a few dozen bytes each), so a deeper limit costs memory only when used.
pub const MAX_RECURSION_DEPTH: usize = 100_000;

/// Most bytes of wasmi's value stack (locals and temporaries of every live frame; its
/// default is 1 MB), sized with [`MAX_RECURSION_DEPTH`] so that programs with large frames
/// also get at least the depth wasmtime gives them. Grown on demand up to this bound.
pub const MAX_VALUE_STACK_BYTES: usize = 16 << 20;

/// Sets the interpreter's call-depth and value-stack limits (see [`MAX_RECURSION_DEPTH`]);
/// exceeding them is the trap "call stack exhausted", as in wasmtime.
pub fn set_stack_limits(c: &mut wasmi::Config) -> &mut wasmi::Config {
    c.set_max_recursion_depth(MAX_RECURSION_DEPTH)
        .set_max_stack_height(MAX_VALUE_STACK_BYTES)
}

/// Whether wasmi refused a module (its error `message`) for a proposal it cannot run at
/// all (exceptions, threads and atomics, GC), which is what the native tier is for.
/// wasmparser's messages for a feature that is off end in "... not enabled" or "...
/// support is not enabled".
pub fn needs_native_tier(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "not enabled",
        "exception",
        "shared memor",
        "atomic",
        "threads",
        "gc proposal",
    ]
    .iter()
    .any(|n| lower.contains(n))
}
