//! The native tier: wasmtime 48 (no compiler in the kernel) running host-precompiled
//! `.cwasm` modules under the same WASI table as the interpreter
//! (`wasi::wasmtime_adapter`, every host call under [`crate::fault::catch_unwind`]).
//!
//! - [`load`]: `.cwasm` bytes → `wasmtime::Module`, through
//!   `crate::wasmtime_platform::load_module` (header, CPU profile and wasmtime checks; a
//!   bad artifact is a one-line error, never a crash).
//! - [`run`]: instantiate and call `_start` (or `--invoke`'s export). CPU exceptions in wasm
//!   code become wasmtime traps in the task itself (`wasmtime_platform::NativeTraps`); the
//!   timer preempts native code like any other; `kill` sets the process's flag and the
//!   next timer tick that finds the task in wasm code sends it to a trap site
//!   (`wasmtime_platform::on_timer_tick`), so the call returns a trap reported as killed.
//!   Compiled code carries no epoch or fuel checks.
//!
//! Neighbours: `super::engine` (the interpreter, shared end-of-run reporting), `super`
//! (process table, kill flags).

use super::engine::{catch_panic, report, write_fd, End, RunOptions};
use super::{ExitStatus, KillFlag, SpawnError};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use wasi::{UnknownImports, WasiCtx, WasiView};
use wasmtime::{Engine, Linker, Module, Store, Val};

static ENGINE: spin::Once<Result<Engine, String>> = spin::Once::new();

/// The kernel's one wasmtime engine.
pub fn engine() -> Result<&'static Engine, SpawnError> {
    ENGINE
        .call_once(|| {
            let engine = crate::wasmtime_platform::new_engine()?;
            // Where `kill` sends a task's wasm code (loaded once, kept registered).
            if crate::wasmtime_platform::prepare_kill_site(&engine).is_none() {
                log::warn!("native tier: no kill site; native processes cannot be killed");
            }
            Ok(engine)
        })
        .as_ref()
        .map_err(|e| SpawnError::Invalid(format!("native engine: {e}")))
}

/// A loaded precompiled module and what its `.cwasm` header says about it.
#[derive(Clone)]
pub struct NativeModule {
    /// The module, ready to instantiate.
    pub module: Module,
    /// It carries DWARF: a trap's backtrace ends with wasmtime's note about it
    /// (`trap_site::DWARF_NOTE`), as under `wasmtime run`.
    pub dwarf: bool,
}

/// Loads a precompiled module (`.cwasm` bytes).
pub fn load(bytes: &[u8]) -> Result<NativeModule, SpawnError> {
    let engine = engine()?;
    let (module, header) =
        crate::wasmtime_platform::load_module(engine, bytes).map_err(SpawnError::BadNative)?;
    Ok(NativeModule {
        module,
        dwarf: header.dwarf,
    })
}

/// Store data: the WASI context and the memory limiter.
struct NativeData {
    wasi: WasiCtx,
    limits: wasmtime::StoreLimits,
}

impl WasiView for NativeData {
    fn wasi_ctx(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }
}

/// Runs the module to its end and returns the status. Never panics or unwinds out.
pub(crate) fn run(
    name: &str,
    program: &NativeModule,
    ctx: WasiCtx,
    opts: &RunOptions,
    kill: &Arc<KillFlag>,
) -> ExitStatus {
    let flag = kill.clone();
    let traps = crate::wasmtime_platform::NativeTraps::install(Arc::new(move || flag.is_set()));
    let mut wasi_back: Option<WasiCtx> = None;
    let caught = crate::fault::catch_unwind(|| execute(program, ctx, opts, kill, &mut wasi_back));
    drop(traps);
    report(name, caught, wasi_back, opts, kill, "native code")
}

fn classify(e: wasmtime::Error, kill: &KillFlag, dwarf: bool) -> End {
    if let Some(exit) = e.downcast_ref::<wasi::wasmtime_adapter::I32Exit>() {
        return End::Exit(exit.0);
    }
    if kill.is_set() && e.downcast_ref::<wasmtime::Trap>().is_some() {
        return End::Killed;
    }
    // wasmtime attaches the wasm backtrace to a trap and to a host function's error alike.
    let bt = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .filter(|bt| !bt.frames().is_empty());
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        let msg = format!("{trap}");
        let msg = if msg.starts_with("wasm trap") {
            msg
        } else {
            format!("wasm trap: {msg}")
        };
        let Some((bt, first)) = bt.and_then(|bt| Some((bt, bt.frames().first()?))) else {
            return End::Trap(msg);
        };
        let func = match first.func_name() {
            Some(n) => n.to_string(),
            None => format!("<wasm function {}>", first.func_index()),
        };
        // wasmtime names the faulting address between backtrace and trap.
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        let fault = trap_site::memory_fault(chain.iter().map(String::as_str));
        return End::TrapIn {
            msg: trap_site::with_memory_fault(fault, &msg),
            func,
            backtrace: trap_site::with_dwarf_note(&format!("{bt}"), dwarf),
        };
    }
    // A host function's error: WASI's own trap, or any other (an unknown import trapping).
    let msg = match e.downcast_ref::<wasi::wasmtime_adapter::WasiTrap>() {
        Some(t) => t.to_string(),
        None => format!("{}", e.root_cause()),
    };
    match bt {
        Some(bt) => End::ErrorIn {
            msg,
            backtrace: trap_site::with_dwarf_note(&format!("{bt}"), dwarf),
        },
        None => End::Error(msg),
    }
}

static LINKER: spin::Once<Result<Linker<NativeData>, String>> = spin::Once::new();

/// The WASI table registered once per engine (the kernel has one engine); each process
/// gets a clone (cheap: the host functions are shared).
fn wasi_linker(engine: &Engine) -> Result<Linker<NativeData>, String> {
    let cached = LINKER.call_once(|| {
        let mut linker: Linker<NativeData> = Linker::new(engine);
        wasi::wasmtime_adapter::add_to_linker(&mut linker, catch_panic)
            .map(|_| ())
            .map_err(|e| format!("{e}"))?;
        Ok(linker)
    });
    match cached {
        Ok(l) if Engine::same(l.engine(), engine) => Ok(l.clone()),
        Ok(_) => {
            let mut linker: Linker<NativeData> = Linker::new(engine);
            wasi::wasmtime_adapter::add_to_linker(&mut linker, catch_panic)
                .map_err(|e| format!("{e}"))?;
            Ok(linker)
        }
        Err(e) => Err(e.clone()),
    }
}

fn execute(
    program: &NativeModule,
    ctx: WasiCtx,
    opts: &RunOptions,
    kill: &Arc<KillFlag>,
    wasi_back: &mut Option<WasiCtx>,
) -> (End, Vec<String>) {
    let module = &program.module;
    let engine = module.engine().clone();
    let mut store = Store::new(
        &engine,
        NativeData {
            wasi: ctx,
            limits: wasi::wasmtime_adapter::memory_limits(opts.max_memory),
        },
    );
    store.limiter(|d| &mut d.limits);
    let result = instantiate_and_call(&mut store, program, opts, kill);
    *wasi_back = Some(store.into_data().wasi);
    result
}

fn instantiate_and_call(
    store: &mut Store<NativeData>,
    program: &NativeModule,
    opts: &RunOptions,
    kill: &KillFlag,
) -> (End, Vec<String>) {
    let module = &program.module;
    let mut linker = match wasi_linker(module.engine()) {
        Ok(l) => l,
        Err(e) => return (End::Error(format!("linking WASI: {e}")), Vec::new()),
    };
    let module_label = opts.wasmtime_style.clone().unwrap_or_default();
    if opts.unknown_imports != UnknownImports::Reject {
        if let Err(e) = wasi::wasmtime_adapter::define_unknown_imports(
            &mut linker,
            &mut *store,
            module,
            opts.unknown_imports,
        ) {
            return (End::Error(format!("{e}")), Vec::new());
        }
    }
    let instance = match linker.instantiate(&mut *store, module) {
        Ok(i) => i,
        Err(e) => {
            if e.downcast_ref::<wasmtime::Trap>().is_some()
                || e.downcast_ref::<wasi::wasmtime_adapter::I32Exit>()
                    .is_some()
            {
                return (classify(e, kill, program.dwarf), Vec::new());
            }
            return (
                End::Error(format!(
                    "failed to instantiate {module_label:?}\n    1: {}",
                    e.root_cause()
                )),
                Vec::new(),
            );
        }
    };
    // `wasmtime run` calls `_initialize` whenever the module exports it (a reactor).
    if let Some(init) = instance.get_func(&mut *store, "_initialize") {
        if let Err(e) = init.call(&mut *store, &[], &mut []) {
            return (
                match classify(e, kill, program.dwarf) {
                    End::Trap(m) | End::TrapIn { msg: m, .. } => {
                        End::Trap(format!("failed to invoke `_initialize`\n    1: {m}"))
                    }
                    other => other,
                },
                Vec::new(),
            );
        }
    }
    let entry = match wasi::invoke::Entry::choose(opts.invoke.as_deref(), |n| {
        instance.get_func(&mut *store, n).is_some()
    }) {
        Ok(Some(entry)) => entry,
        Ok(None) => return (End::Exit(0), Vec::new()),
        Err(e) => return (End::Refused(e), Vec::new()),
    };
    let Some(func) = instance.get_func(&mut *store, &entry.name) else {
        return (
            End::Refused(format!("no func export named `{}` found", entry.name)),
            Vec::new(),
        );
    };
    let ty = func.ty(&*store);
    // The entry's parameters come from the command line, `--invoke` or not.
    if ty.params().len() > 0 {
        write_fd(
            &mut store.data_mut().wasi,
            2,
            wasi::invoke::ARGS_WARNING.as_bytes(),
        );
    }
    let params = match wasi::wasmtime_adapter::invoke_params(&ty, &entry.label(), &opts.invoke_args)
    {
        Ok(p) => p,
        Err(e) => return (End::Refused(e), Vec::new()),
    };
    let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
    let end = match func.call(&mut *store, &params, &mut results) {
        Ok(()) => End::Exit(0),
        Err(e) => classify(e, kill, program.dwarf),
    };
    let mut lines = Vec::new();
    if matches!(end, End::Exit(0)) && !results.is_empty() {
        write_fd(
            &mut store.data_mut().wasi,
            2,
            wasi::invoke::RESULTS_WARNING.as_bytes(),
        );
        lines = wasi::wasmtime_adapter::invoke_results(&results);
    }
    (end, lines)
}
