//! The interpreter tier: wasmi 2 (no_std) running one WASI module per process.
//!
//! - [`compile`]: validation eager, translation to wasmi bytecode lazy
//!   (`CompilationMode::LazyTranslation`), so a large module starts quickly while invalid
//!   modules are still refused up front; a module using a proposal wasmi lacks (exceptions,
//!   threads/atomics, GC, ...) is refused with "needs the native tier".
//! - [`run`]: instantiate with the WASI table (`wasi::wasmi_adapter`, every host call under
//!   [`crate::fault::catch_unwind`]), then call `_start` (or `--invoke`'s export) with
//!   `call_resumable` in slices of [`FUEL_SLICE`] fuel; between slices the per-process kill
//!   flag is checked, so a loop that never calls WASI can still be killed. The timer
//!   preempts the task as any other. A trap, a WASI-raised trap, a panic in a host function
//!   or a CPU fault inside the interpreter ends only this process, with a diagnosis.
//!
//! Neighbours: `super` (process table), `super::host` (clocks, random), `crate::run_mode`.

use super::{ExitStatus, KillFlag, SpawnError, TRAP_EXIT};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasi::{UnknownImports, WasiCtx, WasiView};
use wasmi::{
    CompilationMode, Config, CustomFuelCosts, Engine, Linker, Module, ResumableCall, Store, Val,
};

/// Fuel per slice between kill-flag checks (about one wasm instruction per unit; a few
/// milliseconds of interpretation under QEMU TCG).
pub const FUEL_SLICE: u64 = 1_000_000;

/// How a run reports its end (diagnosis format) and the `clew run` options.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Export to call instead of `_start` (`--invoke`); its arguments come from argv[1..].
    pub invoke: Option<String>,
    /// The arguments for `invoke`'s parameters (argv without argv[0]).
    pub invoke_args: Vec<String>,
    /// Cap on linear memory in bytes (`clew run --memory`, `-W max-memory-size`).
    pub max_memory: Option<u64>,
    /// Unknown-import treatment.
    pub unknown_imports: UnknownImports,
    /// `Some(module name)`: report failures as `wasmtime run` does (run mode), else as a
    /// one-line `clew: <name>: trap: ...` (shell).
    pub wasmtime_style: Option<String>,
    /// Run without fuel (measurements only: such a process cannot be killed while it
    /// computes).
    pub no_fuel: bool,
}

fn config(fuel: bool) -> Config {
    let mut c = Config::default();
    wasi::wasmi_adapter::enable_proposals(&mut c);
    wasi::wasmi_adapter::set_stack_limits(&mut c)
        .consume_fuel(fuel)
        .compilation_mode(CompilationMode::LazyTranslation)
        // Lazy translation charges fuel per byte translated, and wasmi 2.0 reports running
        // out of fuel *during translation* as a plain trap, not as a resumable out-of-fuel
        // (executor `compile_or_get_func_entry` turns it into `DoneReason::Error`): a
        // program whose slice ended while a large function was being compiled died with
        // "all fuel consumed". Translation is bounded by the function's size, so it needs
        // no metering for kill or preemption: charge it nothing.
        //
        // Bulk operations are charged nothing either (one fuel per 4 GiB copied, so 0 for
        // anything a 32-bit program can name), for a wasmi 2.0.0 bug: `table.grow` that runs
        // out of fuel (executor `table_grow`, `done!` without `set_ip`) resumes from a stale
        // instruction pointer, so the code before it ran twice (a test program counted 61
        // iterations of a 60-iteration loop). The cost: a `kill` waits for one bulk
        // instruction (`memory.fill` of at most 4 GiB) to finish.
        .fuel_cost(CustomFuelCosts {
            bytes_copied_per_fuel: u32::MAX,
            fuel_per_bytes_translated: 0,
            fuel_per_bytes_validated: 0,
        });
    c
}

static ENGINE: spin::Once<Engine> = spin::Once::new();
static ENGINE_NO_FUEL: spin::Once<Engine> = spin::Once::new();

/// The shared engine (fuel metering on).
fn engine() -> &'static Engine {
    ENGINE.call_once(|| Engine::new(&config(true)))
}

/// An engine without fuel, for measuring what fuel costs.
fn engine_no_fuel() -> &'static Engine {
    ENGINE_NO_FUEL.call_once(|| Engine::new(&config(false)))
}

/// A module ready for the interpreter: wasmi's module of a copy marked by `trap_site`
/// (the running function's index in an exported global), with what turns that index into
/// a name after a trap.
#[derive(Clone)]
pub struct InterpModule(trap_site::Marked);

impl InterpModule {
    /// wasmi's module.
    pub fn module(&self) -> &Module {
        &self.0.module
    }
}

/// Validates `bytes` and prepares them for lazy translation.
pub fn compile(bytes: &[u8]) -> Result<InterpModule, SpawnError> {
    compile_with(engine(), bytes)
}

/// As [`compile`], for the fuel-less engine (measurements).
pub fn compile_no_fuel(bytes: &[u8]) -> Result<InterpModule, SpawnError> {
    compile_with(engine_no_fuel(), bytes)
}

fn compile_with(engine: &Engine, bytes: &[u8]) -> Result<InterpModule, SpawnError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(SpawnError::NotWasm);
    }
    if bytes[4..8] != [1, 0, 0, 0] {
        // Components (layer 1) and other versions.
        return Err(SpawnError::NotWasm);
    }
    let t0 = crate::time::monotonic_ns();
    let marked = trap_site::Marked::compile(engine, bytes)
        .map_err(|e| classify_compile_error(&e.to_string()))?;
    log::info!(
        "interp: {} KiB module marked and validated in {} us",
        bytes.len() >> 10,
        (crate::time::monotonic_ns() - t0) / 1000
    );
    Ok(InterpModule(marked))
}

/// A module wasmi refuses: "needs the native tier" for a proposal it lacks, else invalid.
fn classify_compile_error(msg: &str) -> SpawnError {
    if wasi::wasmi_adapter::needs_native_tier(msg) {
        SpawnError::NeedsNative(msg.trim().to_string())
    } else {
        SpawnError::Invalid(msg.trim().to_string())
    }
}

/// Store data: the WASI context and the memory limiter.
pub(crate) struct ProcData {
    wasi: WasiCtx,
    limits: wasmi::StoreLimits,
}

impl WasiView for ProcData {
    fn wasi_ctx(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }
}

/// The kernel's panic catcher for the WASI adapter: a panic (or a CPU fault, which the
/// fault layer turns into an unwind) in a host function becomes a trap of the process.
pub(super) fn catch_panic(f: &mut dyn FnMut()) -> bool {
    crate::fault::catch_unwind(f).is_ok()
}

/// How a run ended, before formatting.
pub(super) enum End {
    /// `_start` returned (0) or `proc_exit(code)`.
    Exit(i32),
    /// A wasm trap: its message (e.g. "integer divide by zero").
    Trap(String),
    /// A wasm trap, the function it happened in (name section, else its index) and the
    /// backtrace in `wasmtime run`'s words (the interpreter knows the innermost frame only).
    TrapIn {
        msg: String,
        func: String,
        backtrace: String,
    },
    /// Any other failure (instantiation, WASI-raised trap): exit 1, as `wasmtime run` does
    /// for errors that are not wasm traps.
    Error(String),
    /// An error a host function raised while wasm code called it (a WASI-raised trap, an
    /// unknown import trapping), with the wasm backtrace at the call, as `wasmtime run`
    /// shows it: exit 1.
    ErrorIn { msg: String, backtrace: String },
    /// Nothing was called: no such export, or command-line arguments that do not fit its
    /// parameters. Exit 1, the message as the only cause, as `wasmtime run` prints it.
    Refused(String),
    /// Killed (Ctrl-C or `kill`).
    Killed,
}

fn classify(e: wasmi::Error) -> End {
    if let Some(code) = e.i32_exit_status() {
        return End::Exit(code);
    }
    if let Some(t) = e.downcast_ref::<wasi::wasmi_adapter::WasiTrap>() {
        return End::Error(t.to_string());
    }
    if let Some(code) = e.as_trap_code() {
        return End::Trap(wasi::wasmi_adapter::trap_message(code));
    }
    End::Trap(e.to_string())
}

/// Writes `bytes` to the process's fd `fd` through the WASI layer itself (so it reaches
/// whatever the fd is: console, pipe, file, frame channel).
pub(crate) fn write_fd(ctx: &mut WasiCtx, fd: u32, bytes: &[u8]) {
    // Scratch guest memory: an iovec at 0 (ptr 16, len), nwritten at 8, the data at 16.
    let mut mem: Vec<u8> = Vec::with_capacity(16 + bytes.len());
    mem.extend_from_slice(&16u32.to_le_bytes());
    mem.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    mem.extend_from_slice(&[0; 8]);
    mem.extend_from_slice(bytes);
    let _ = wasi::preview1::fd_write(ctx, &mut mem, fd, 0, 1, 8);
}

/// Runs the module to its end and returns the status. Never panics or unwinds out.
pub(crate) fn run(
    name: &str,
    module: &InterpModule,
    ctx: WasiCtx,
    opts: &RunOptions,
    kill: &KillFlag,
) -> ExitStatus {
    let mut wasi_back: Option<WasiCtx> = None;
    let caught = crate::fault::catch_unwind(|| execute(module, ctx, opts, kill, &mut wasi_back));
    report(name, caught, wasi_back, opts, kill, "the interpreter")
}

/// Turns how a run ended (either engine) into the exit status, writing `--invoke` results
/// to stdout and the diagnosis to the process's stderr. `where_` names the engine for a
/// CPU fault that unwound out of it.
pub(super) fn report(
    name: &str,
    caught: Result<(End, Vec<String>), alloc::boxed::Box<dyn core::any::Any + Send>>,
    wasi_back: Option<WasiCtx>,
    opts: &RunOptions,
    kill: &KillFlag,
    where_: &str,
) -> ExitStatus {
    let (end, stdout_lines) = match caught {
        Ok(r) => r,
        Err(payload) => (
            End::Trap(format!(
                "CPU fault in {where_}: {}",
                crate::fault::payload_message(&*payload)
            )),
            Vec::new(),
        ),
    };
    // A blocking `poll_oneoff` ends a stopped process as `proc_exit` with the stop's exit
    // code (`WasiHost::killed`): that is the stop, reported as such.
    let end = match end {
        End::Exit(code) if kill.is_set() && code == kill.exit_code() => End::Killed,
        end => end,
    };
    let mut ctx = wasi_back;
    if let Some(ctx) = ctx.as_mut() {
        for line in &stdout_lines {
            write_fd(ctx, 1, line.as_bytes());
        }
    }
    let refused = matches!(end, End::Refused(_));
    let (code, diag, place, backtrace) = match end {
        End::Exit(code) => (code, None, None, None),
        // `wasmtime run -W timeout` stops the program with this trap (its epoch deadline).
        End::Killed if kill.timed_out() => (
            TRAP_EXIT,
            Some(String::from("wasm trap: interrupt")),
            None,
            None,
        ),
        End::Killed => (kill.exit_code(), None, None, None),
        End::Trap(msg) => (TRAP_EXIT, Some(msg), None, None),
        End::TrapIn {
            msg,
            func,
            backtrace,
        } => (TRAP_EXIT, Some(msg), Some(func), Some(backtrace)),
        End::Error(msg) | End::Refused(msg) => (1, Some(msg), None, None),
        End::ErrorIn { msg, backtrace } => (1, Some(msg), None, Some(backtrace)),
    };
    let line_of = |msg: &str| match &place {
        Some(func) => format!("{} (in function `{func}`)", shell_line(msg)),
        None => shell_line(msg),
    };
    if let Some(msg) = &diag {
        let text = match &opts.wasmtime_style {
            Some(module_name) => {
                let what = match &opts.invoke {
                    Some(n) => format!("failed to invoke `{n}`"),
                    None => "failed to invoke command default".to_string(),
                };
                let body = if refused || msg.starts_with("failed to ") {
                    msg.clone()
                } else {
                    trap_site::caused_by(&what, backtrace.as_deref(), msg)
                };
                trap_site::main_module_error(module_name, &body)
            }
            None => format!("clew: {name}: {}\n", line_of(msg)),
        };
        match ctx.as_mut() {
            Some(ctx) => write_fd(ctx, 2, text.as_bytes()),
            None => log::warn!("{}", text.trim_end()),
        }
        log::info!("process {name} ended: {}", text.trim_end());
    }
    drop(ctx);
    ExitStatus {
        code,
        trap: diag.map(|m| line_of(&m)),
    }
}

/// `wasm trap: integer divide by zero` → `trap: integer divide by zero`, one line.
pub(super) fn shell_line(msg: &str) -> String {
    let first = msg.lines().last().unwrap_or(msg).trim();
    // A later cause of a chain ("3: wasm trap: ..." after a memory fault): drop its number.
    let first = match first.split_once(": ") {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => first,
    };
    match first.strip_prefix("wasm trap: ") {
        Some(t) => format!("trap: {t}"),
        None => first.to_string(),
    }
}

/// Instantiates and calls the entry point. Returns the end and any `--invoke` result
/// lines; leaves the WASI context in `wasi_back` for the final report.
fn execute(
    module: &InterpModule,
    ctx: WasiCtx,
    opts: &RunOptions,
    kill: &KillFlag,
    wasi_back: &mut Option<WasiCtx>,
) -> (End, Vec<String>) {
    let engine = module.module().engine().clone();
    let mut store = Store::new(
        &engine,
        ProcData {
            wasi: ctx,
            limits: wasi::wasmi_adapter::memory_limits(opts.max_memory),
        },
    );
    store.limiter(|d| &mut d.limits);
    let fuel = !opts.no_fuel;
    let result = instantiate_and_call(&mut store, module, opts, kill, fuel);
    *wasi_back = Some(store.into_data().wasi);
    result
}

fn instantiate_and_call(
    store: &mut Store<ProcData>,
    marked: &InterpModule,
    opts: &RunOptions,
    kill: &KillFlag,
    fuel: bool,
) -> (End, Vec<String>) {
    let module = marked.module();
    let mut linker: Linker<ProcData> = Linker::new(module.engine());
    if let Err(e) = wasi::wasmi_adapter::add_to_linker(&mut linker, module, catch_panic) {
        return (End::Error(format!("linking WASI: {e}")), Vec::new());
    }
    let module_label = opts.wasmtime_style.clone().unwrap_or_default();
    if let Some((m, n)) = wasi::wasmi_adapter::first_undefined_import(module, opts.unknown_imports)
    {
        return (
            End::Error(format!(
                "failed to instantiate {module_label:?}\n    1: unknown import: `{m}::{n}` has not been defined"
            )),
            Vec::new(),
        );
    }
    if let Err(e) = wasi::wasmi_adapter::define_unknown_imports(
        &mut linker,
        &mut *store,
        module,
        opts.unknown_imports,
    ) {
        return (End::Error(format!("{e}")), Vec::new());
    }
    // A start function runs under generous fuel in one go (rare in WASI commands).
    if fuel {
        let _ = store.set_fuel(u64::MAX / 4);
    }
    let instance = match linker.instantiate_and_start(&mut *store, module) {
        Ok(i) => i,
        Err(e) => {
            if let Some(trap) = wasi::wasmi_adapter::instantiation_trap(&e) {
                return (End::Trap(trap), Vec::new());
            }
            return (
                End::Error(format!(
                    "failed to instantiate {module_label:?}\n    1: {e}"
                )),
                Vec::new(),
            );
        }
    };
    // `wasmtime run` calls `_initialize` whenever the module exports it (a reactor).
    if let Some(init) = instance.get_func(&*store, "_initialize") {
        let end = call_sliced(store, init, &[], &mut [], kill, fuel);
        if !matches!(end, End::Exit(0)) {
            return (
                match end {
                    End::Trap(m) => {
                        End::Trap(format!("failed to invoke `_initialize`\n    1: {m}"))
                    }
                    other => other,
                },
                Vec::new(),
            );
        }
    }
    let entry = match wasi::invoke::Entry::choose(opts.invoke.as_deref(), |n| {
        instance.get_func(&*store, n).is_some()
    }) {
        Ok(Some(entry)) => entry,
        Ok(None) => return (End::Exit(0), Vec::new()),
        Err(e) => return (End::Refused(e), Vec::new()),
    };
    let Some(func) = instance.get_func(&*store, &entry.name) else {
        return (
            End::Refused(format!("no func export named `{}` found", entry.name)),
            Vec::new(),
        );
    };
    let ty = func.ty(&*store);
    // The entry's parameters come from the command line, `--invoke` or not.
    if !ty.params().is_empty() {
        write_fd(
            &mut store.data_mut().wasi,
            2,
            wasi::invoke::ARGS_WARNING.as_bytes(),
        );
    }
    let params = match wasi::wasmi_adapter::invoke_params(&ty, &entry.label(), &opts.invoke_args) {
        Ok(p) => p,
        Err(e) => return (End::Refused(e), Vec::new()),
    };
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    let end = call_sliced(store, func, &params, &mut results, kill, fuel);
    let end = match end {
        End::Trap(msg) if msg.starts_with("wasm trap") => match marked.0.locate(store, &instance) {
            Some((func, backtrace)) => End::TrapIn {
                msg,
                func,
                backtrace,
            },
            None => End::Trap(msg),
        },
        // A host function's error: the wasm function that called it is the innermost.
        End::Error(msg) => match marked.0.locate(store, &instance) {
            Some((_, backtrace)) => End::ErrorIn { msg, backtrace },
            None => End::Error(msg),
        },
        end => end,
    };
    let mut lines = Vec::new();
    if matches!(end, End::Exit(0)) && !results.is_empty() {
        write_fd(
            &mut store.data_mut().wasi,
            2,
            wasi::invoke::RESULTS_WARNING.as_bytes(),
        );
        lines = wasi::wasmi_adapter::invoke_results(&results);
    }
    (end, lines)
}

/// Calls `func` in fuel slices, checking the kill flag between them.
fn call_sliced(
    store: &mut Store<ProcData>,
    func: wasmi::Func,
    params: &[Val],
    results: &mut [Val],
    kill: &KillFlag,
    fuel: bool,
) -> End {
    if !fuel {
        return match func.call(&mut *store, params, results) {
            Ok(()) => End::Exit(0),
            Err(e) => classify(e),
        };
    }
    let _ = store.set_fuel(FUEL_SLICE);
    let mut call = func.call_resumable(&mut *store, params, results);
    loop {
        match call {
            Ok(ResumableCall::Finished) => return End::Exit(0),
            Ok(ResumableCall::OutOfFuel(inv)) => {
                if kill.is_set() {
                    return End::Killed;
                }
                let _ = store.set_fuel(FUEL_SLICE.max(inv.required_fuel()));
                call = inv.resume(&mut *store, results);
            }
            Ok(ResumableCall::HostTrap(inv)) => {
                if kill.is_set() {
                    return End::Killed;
                }
                return classify(inv.into_host_error());
            }
            Err(e) => {
                if kill.is_set() && e.i32_exit_status().is_none() {
                    return End::Killed;
                }
                return classify(e);
            }
        }
    }
}
