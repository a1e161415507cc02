//! `clew run --host`: runs a WASI program on the host through the very same `wasi` and
//! `vfs` crates the kernel uses, with the wasmi adapter (`--engine interp`) or the wasmtime
//! adapter with Cranelift (`--engine native`, the default on the host), behaving like
//! `wasmtime run`: argv, `--env`, `--dir` trees loaded into the VFS (and written back when
//! the program ends), stdio connected byte-exact, the exit code propagated (a trap gives
//! 134, as wasmtime on Unix), `--invoke`, `--memory`, and the unknown-import flags.
//!
//! Key pieces: [`HostClocks`], [`HostRandom`] and [`HostStream`] implement the `wasi`
//! crate's host traits with std; `run_wasmtime` and `run_wasmi` drive one engine each.

use crate::cli::{Engine, RunArgs};
use anyhow::{bail, Context as _};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use wasi::{ClockId, Errno, SharedVfs, WasiCtx, WasiView};

/// Exit status of `wasmtime run` when the guest traps (128 + SIGABRT on Unix).
const TRAP_EXIT: u8 = 134;

/// Stack of the thread that runs the engine.
const ENGINE_STACK_BYTES: usize = 256 << 20;

// ---------------------------------------------------------------------------------------
// Host services
// ---------------------------------------------------------------------------------------

/// Clocks from std: realtime is `SystemTime`, monotonic counts from process start. The
/// CPU-time clocks (witx `process_cputime_id`, `thread_cputime_id`) are the host's
/// `CLOCK_PROCESS_CPUTIME_ID` and `CLOCK_THREAD_CPUTIME_ID` through rustix's safe
/// `clock_gettime`/`clock_getres`; WASI calls run on the guest's one engine thread, so the
/// thread clock is the guest's. (DEVIATION from wasmtime, which answers EBADF for both.)
struct HostClocks {
    start: Instant,
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The host CPU-time clock behind a WASI CPU-time clock id.
fn cpu_clock(clock: ClockId) -> rustix::time::ClockId {
    match clock {
        ClockId::ThreadCputime => rustix::time::ClockId::ThreadCPUTime,
        _ => rustix::time::ClockId::ProcessCPUTime,
    }
}

/// Nanoseconds of a host `timespec` (`None` if negative or out of range).
fn timespec_ns(t: rustix::time::Timespec) -> Option<u64> {
    let s = u64::try_from(t.tv_sec).ok()?;
    let ns = u64::try_from(t.tv_nsec).ok()?;
    s.checked_mul(1_000_000_000)?.checked_add(ns)
}

impl wasi::Clocks for HostClocks {
    fn now_ns(&self, clock: ClockId) -> Option<u64> {
        match clock {
            ClockId::Realtime => Some(wall_ns()),
            ClockId::Monotonic => {
                Some(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
            }
            ClockId::ProcessCputime | ClockId::ThreadCputime => {
                timespec_ns(rustix::time::clock_gettime(cpu_clock(clock)))
            }
        }
    }
    fn resolution_ns(&self, clock: ClockId) -> Option<u64> {
        match clock {
            ClockId::Realtime | ClockId::Monotonic => Some(1),
            // witx: the resolution is positive; a host answering 0 gets 1 ns.
            ClockId::ProcessCputime | ClockId::ThreadCputime => {
                timespec_ns(rustix::time::clock_getres(cpu_clock(clock))).map(|ns| ns.max(1))
            }
        }
    }
    fn sleep_until(&self, deadline_ns: u64) {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if deadline_ns > now {
            std::thread::sleep(std::time::Duration::from_nanos(deadline_ns - now));
        }
    }
    fn yield_now(&self) {
        std::thread::yield_now();
    }
}

/// Random bytes from the host kernel.
struct HostRandom(std::fs::File);

impl wasi::Random for HostRandom {
    fn fill(&self, buf: &mut [u8]) {
        if (&self.0).read_exact(buf).is_err() {
            // Never hand out predictable bytes silently: a failing /dev/urandom is fatal.
            panic!("reading /dev/urandom failed");
        }
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => Errno::Pipe,
        std::io::ErrorKind::Interrupted => Errno::Intr,
        std::io::ErrorKind::WouldBlock => Errno::Again,
        _ => Errno::Io,
    }
}

/// The host's stdin, stdout or stderr. Output is written through and flushed at once.
enum HostStream {
    Stdin,
    Stdout,
    Stderr,
}

impl wasi::Stream for HostStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            // Straight from fd 0, unbuffered: `read_ready` polls the descriptor, which
            // would not see bytes held in std's stdin buffer.
            HostStream::Stdin => loop {
                match rustix::io::read(std::io::stdin(), &mut *buf) {
                    Ok(n) => return Ok(n),
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(io_errno(&std::io::Error::from(e))),
                }
            },
            _ => Err(Errno::Badf),
        }
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        let r = match self {
            HostStream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(buf).and_then(|()| out.flush())
            }
            HostStream::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(buf).and_then(|()| err.flush())
            }
            HostStream::Stdin => return Err(Errno::Badf),
        };
        match r {
            // As the wasmtime CLI (49): a reader that went away (`| head`) fails the
            // program's writes with EIO, so that a program writing forever ends.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Errno::Io),
            r => r.map(|()| buf.len()).map_err(|e| io_errno(&e)),
        }
    }
    fn read_ready(&mut self) -> bool {
        match self {
            // Ready when a read would not block: data, end of file, or an error.
            HostStream::Stdin => {
                let stdin = std::io::stdin();
                let mut fds = [rustix::event::PollFd::new(
                    &stdin,
                    rustix::event::PollFlags::IN,
                )];
                let now = rustix::time::Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                rustix::event::poll(&mut fds, Some(&now)).map_or(true, |n| n > 0)
            }
            _ => true,
        }
    }
    fn is_tty(&self) -> bool {
        match self {
            HostStream::Stdin => std::io::stdin().is_terminal(),
            HostStream::Stdout => std::io::stdout().is_terminal(),
            HostStream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// Catches a panic in a WASI host function so it never unwinds through an engine.
fn catch_panic(f: &mut dyn FnMut()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_ok()
}

// ---------------------------------------------------------------------------------------
// Setup shared by both engines
// ---------------------------------------------------------------------------------------

/// A `--dir` loaded into the VFS: where it came from and its directory inode.
struct LoadedDir {
    host: PathBuf,
    ino: vfs::Ino,
    /// What was packed, for `dirsync::apply` to write back only the program's changes.
    packed: crate::dirsync::Snapshot,
}

/// The store data of either engine: the WASI context and the memory limiter.
struct State<L> {
    wasi: WasiCtx,
    limits: L,
}

impl<L> WasiView for State<L> {
    fn wasi_ctx(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }
}

/// The size limit of `--host`'s VFS, which holds the `--dir` trees and what the program
/// writes, in this process's memory: three quarters of the host's available memory (from
/// `/proc/meminfo`), as the kernel allows three quarters of the guest's free RAM; the
/// `vfs` default (1 GiB) when that cannot be read. (It was always 1 GiB: a larger `--dir`
/// failed to load.)
fn vfs_limit(meminfo: Option<&str>) -> u64 {
    meminfo
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().strip_suffix("kB"))
                .and_then(|kb| kb.trim().parse::<u64>().ok())
        })
        .map_or(vfs::DEFAULT_LIMIT_BYTES, |kb| {
            kb.saturating_mul(1024) / 4 * 3
        })
}

/// Builds the VFS with every `--dir` tree and the WASI context with its preopens.
fn setup(args: &RunArgs) -> anyhow::Result<(WasiCtx, Vec<LoadedDir>)> {
    let mut fs = vfs::Vfs::new(Box::new(wall_ns));
    fs.set_limit_bytes(vfs_limit(
        std::fs::read_to_string("/proc/meminfo").ok().as_deref(),
    ));
    let shared: SharedVfs = wasi::share(fs);
    let mut dirs = Vec::new();
    let preopens: Vec<vfs::Ino>;
    {
        let mut fs = shared.lock();
        let root = fs.root();
        let hosts: Vec<&std::path::Path> = args.dirs.iter().map(|d| d.host.as_path()).collect();
        let shared_mounts = crate::dirsync::shared_mounts(&hosts)?;
        // Trees of their own first: a tree inside another is found in it.
        let mut inos = vec![None; args.dirs.len()];
        for (i, d) in args.dirs.iter().enumerate() {
            if shared_mounts[i].is_some() {
                continue;
            }
            let (tar, packed) = crate::dirsync::pack_dir(&d.host)
                .with_context(|| format!("failed to open directory `{}`", d.host.display()))?;
            let ino = fs.mkdir(root, &format!("preopen{i}")).map_err(|e| {
                anyhow::anyhow!("creating the VFS directory for `{}`: {e}", d.host.display())
            })?;
            fs.load_tar(ino, &tar)
                .map_err(|e| anyhow::anyhow!("loading `{}` into the VFS: {e}", d.host.display()))?;
            inos[i] = Some(ino);
            dirs.push(LoadedDir {
                host: d.host.clone(),
                ino,
                packed,
            });
        }
        for (i, shared) in shared_mounts.iter().enumerate() {
            if let Some((root_index, rel)) = shared {
                let base = inos[*root_index].context("a shared --dir without its tree")?;
                let path = if rel.is_empty() { "." } else { rel.as_str() };
                inos[i] =
                    Some(fs.resolve(base, path, true, false).map_err(|e| {
                        anyhow::anyhow!("--dir {}: {e}", args.dirs[i].host.display())
                    })?);
            }
        }
        preopens = inos.into_iter().flatten().collect();
    }
    let argv = args.argv();
    let env = args.environment();
    let random = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    let mut ctx = WasiCtx::new(
        shared,
        Arc::new(HostClocks {
            start: Instant::now(),
        }),
        Arc::new(HostRandom(random)),
        argv,
        env,
        [
            Box::new(HostStream::Stdin),
            Box::new(HostStream::Stdout),
            Box::new(HostStream::Stderr),
        ],
    );
    for (d, ino) in args.dirs.iter().zip(&preopens) {
        ctx.preopen_dir(*ino, &d.guest);
    }
    Ok((ctx, dirs))
}

/// Writes every `--dir` tree back to the host, once: whoever comes first (the end of the
/// program, or the first SIGINT, SIGTERM or SIGHUP: `crate::signals`) takes the trees and
/// holds the lock until they are written, so the other finds nothing left to write.
fn write_back(shared: &SharedVfs, dirs: &Mutex<Option<Vec<LoadedDir>>>) -> anyhow::Result<()> {
    let mut dirs = dirs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for d in dirs.take().iter().flatten() {
        let tar = shared.lock().dump_tar(d.ino).map_err(|e| {
            anyhow::anyhow!("reading back `{}` from the VFS: {e}", d.host.display())
        })?;
        crate::dirsync::apply(&tar, &d.host, &d.packed)
            .with_context(|| format!("writing changes back to `{}`", d.host.display()))?;
    }
    Ok(())
}

/// How the program ended.
enum End {
    /// `_start` returned, or `proc_exit(code)`.
    Exit(i32),
    /// A wasm trap: the message for stderr.
    Trap(String),
    /// Any other failure (instantiation, a WASI-raised trap): the message; exit status 1
    /// as `wasmtime run` gives for errors that are not wasm traps.
    Error(String),
}

/// Runs `args.module` on the host and returns the program's exit code.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if args.timeout().is_some() {
        // The kernel stops a program from its timer; here native code has no epoch checks
        // to stop it at (the engines share the kernel's configuration).
        bail!("-W timeout is not supported with --host");
    }
    let bytes = crate::compile::read_module(args.module())?;
    let (ctx, dirs) = setup(args)?;
    let shared = ctx.vfs().clone();
    let dirs = Arc::new(Mutex::new(Some(dirs)));
    // A signal writes the trees back as they are (the VFS lock makes that a state between
    // two WASI calls) and ends us: native code here has nothing to stop it at.
    let (signal_vfs, signal_dirs) = (shared.clone(), dirs.clone());
    crate::signals::on_first(move |signal| {
        if let Err(e) = write_back(&signal_vfs, &signal_dirs) {
            eprintln!("clew: {e:#}");
        }
        crate::signals::die_of(signal);
    })?;
    // The engines run on a thread of their own with a large stack: wasmi's executor and
    // Cranelift-compiled deep recursion both want more than the main thread's 8 MiB.
    let end = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("wasm".into())
            .stack_size(ENGINE_STACK_BYTES)
            .spawn_scoped(s, || match args.engine {
                Engine::Interp => run_wasmi(args, &bytes, ctx),
                Engine::Native | Engine::Auto => run_wasmtime(args, &bytes, ctx),
            })
            .map_err(anyhow::Error::from)
            .and_then(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("the engine thread panicked"))
            })
    })?;
    let wb = write_back(&shared, &dirs);
    let module = args.module().display().to_string();
    let code = match end {
        End::Exit(code) => ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)),
        End::Trap(msg) => {
            eprint!("{}", trap_site::main_module_error(&module, &msg));
            ExitCode::from(TRAP_EXIT)
        }
        End::Error(msg) => {
            eprint!("{}", trap_site::main_module_error(&module, &msg));
            ExitCode::from(1)
        }
    };
    wb?;
    Ok(code)
}

fn invoke_context(args: &RunArgs) -> String {
    match &args.invoke {
        Some(name) => format!("failed to invoke `{name}`"),
        None => "failed to invoke command default".to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// wasmtime (native)
// ---------------------------------------------------------------------------------------

fn run_wasmtime(args: &RunArgs, bytes: &[u8], ctx: WasiCtx) -> End {
    match try_wasmtime(args, bytes, ctx) {
        Ok(end) => end,
        Err(e) => End::Error(format!("{e:#}")),
    }
}

fn try_wasmtime(args: &RunArgs, bytes: &[u8], ctx: WasiCtx) -> anyhow::Result<End> {
    use wasmtime::{Linker, Store, Val};
    // A `.cwasm` from `clew compile` runs with the configuration it was compiled with.
    // A `.wasm` goes through the cache `clew run --engine native` uses: compiled once, and
    // the same code as in the guest.
    let cwasm;
    let artifact = if aot_config::header::is_artifact(bytes) {
        bytes
    } else {
        cwasm = crate::compile::compile_cached(bytes, aot_config::CpuProfile::Baseline)?;
        &cwasm
    };
    let (engine, module, header) = aot_config::load_on_host(artifact)?;
    let mut store = Store::new(
        &engine,
        State {
            wasi: ctx,
            limits: wasi::wasmtime_adapter::memory_limits(args.max_memory()),
        },
    );
    store.limiter(|s| &mut s.limits);
    let mut linker: Linker<State<wasmtime::StoreLimits>> = Linker::new(&engine);
    wasi::wasmtime_adapter::add_to_linker(&mut linker, catch_panic)?;
    wasi::wasmtime_adapter::define_unknown_imports(
        &mut linker,
        &mut store,
        &module,
        args.unknown_imports(),
    )?;
    let classify = |e: wasmtime::Error, what: String| -> End {
        if let Some(exit) = e.downcast_ref::<wasi::wasmtime_adapter::I32Exit>() {
            return End::Exit(exit.0);
        }
        if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
            let bt = e
                .downcast_ref::<wasmtime::WasmBacktrace>()
                .map(|bt| trap_site::with_dwarf_note(&bt.to_string(), header.dwarf));
            let msg = format!("{trap}");
            // wasmtime names the faulting address between backtrace and trap.
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            let fault =
                trap_site::memory_fault(chain.iter().map(String::as_str)).filter(|_| bt.is_some());
            let msg = trap_site::with_memory_fault(fault, &msg);
            return End::Trap(trap_site::caused_by(&what, bt.as_deref(), &msg));
        }
        // wasmtime attaches the wasm backtrace to a host function's error too.
        let bt = e
            .downcast_ref::<wasmtime::WasmBacktrace>()
            .filter(|bt| !bt.frames().is_empty())
            .map(|bt| trap_site::with_dwarf_note(&bt.to_string(), header.dwarf));
        End::Error(trap_site::caused_by(
            &what,
            bt.as_deref(),
            &e.root_cause().to_string(),
        ))
    };
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(instance) => instance,
        // A segment that does not fit traps while instantiating; `wasmtime run`
        // instantiates a command when it calls it, so it reports the trap as the call's.
        Err(e) if e.downcast_ref::<wasmtime::Trap>().is_some() => {
            return Ok(classify(e, invoke_context(args)));
        }
        Err(e) => bail!(
            "failed to instantiate {:?}\n    1: {}",
            args.module().display().to_string(),
            anyhow::Error::from(e).root_cause()
        ),
    };

    // `wasmtime run` calls `_initialize` whenever the module exports it (a reactor).
    if let Some(init) = instance.get_func(&mut store, "_initialize") {
        if let Err(e) = init.call(&mut store, &[], &mut []) {
            return Ok(classify(e, "failed to invoke `_initialize`".to_string()));
        }
    }
    let Some(entry) = wasi::invoke::Entry::choose(args.invoke.as_deref(), |n| {
        instance.get_func(&mut store, n).is_some()
    })
    .map_err(anyhow::Error::msg)?
    else {
        return Ok(End::Exit(0));
    };
    let Some(func) = instance.get_func(&mut store, &entry.name) else {
        bail!("no func export named `{}` found", entry.name);
    };
    let ty = func.ty(&store);
    // The entry's parameters come from the command line, `--invoke` or not.
    if ty.params().len() > 0 {
        eprint!("{}", wasi::invoke::ARGS_WARNING);
    }
    let params = wasi::wasmtime_adapter::invoke_params(&ty, &entry.label(), args.program_args())
        .map_err(anyhow::Error::msg)?;
    let mut results = vec![Val::I32(0); ty.results().len()];
    if let Err(e) = func.call(&mut store, &params, &mut results) {
        return Ok(classify(e, entry.context()));
    }
    if !results.is_empty() {
        eprint!("{}", wasi::invoke::RESULTS_WARNING);
    }
    for line in wasi::wasmtime_adapter::invoke_results(&results) {
        print!("{line}");
    }
    Ok(End::Exit(0))
}

// ---------------------------------------------------------------------------------------
// wasmi (interp)
// ---------------------------------------------------------------------------------------

fn run_wasmi(args: &RunArgs, bytes: &[u8], ctx: WasiCtx) -> End {
    match try_wasmi(args, bytes, ctx) {
        Ok(end) => end,
        Err(e) => End::Error(format!("{e:#}")),
    }
}

fn try_wasmi(args: &RunArgs, bytes: &[u8], ctx: WasiCtx) -> anyhow::Result<End> {
    use wasmi::{Linker, Store, Val};
    let mut config = wasmi::Config::default();
    wasi::wasmi_adapter::enable_proposals(&mut config);
    wasi::wasmi_adapter::set_stack_limits(&mut config);
    let engine = wasmi::Engine::new(&config);
    // The marked copy (`trap_site`) names the function a trap happens in.
    // Worded as the kernel words it (`SpawnError::NeedsNative`).
    let marked = trap_site::Marked::compile(&engine, bytes).map_err(|e| {
        let msg = e.to_string();
        if wasi::wasmi_adapter::needs_native_tier(&msg) {
            anyhow::anyhow!("needs the native tier ({})", msg.trim())
        } else {
            anyhow::anyhow!("{msg}")
        }
    })?;
    let module = &marked.module;
    let mut store = Store::new(
        &engine,
        State {
            wasi: ctx,
            limits: wasi::wasmi_adapter::memory_limits(args.max_memory()),
        },
    );
    store.limiter(|s| &mut s.limits);
    let mut linker: Linker<State<wasmi::StoreLimits>> = Linker::new(&engine);
    let werr = |e: wasmi::Error| anyhow::anyhow!("{e}");
    wasi::wasmi_adapter::add_to_linker(&mut linker, module, catch_panic).map_err(werr)?;
    let mode = args.unknown_imports();
    if let Some((m, n)) = wasi::wasmi_adapter::first_undefined_import(module, mode) {
        bail!(
            "failed to instantiate {:?}\n    1: unknown import: `{m}::{n}` has not been defined",
            args.module().display().to_string()
        );
    }
    wasi::wasmi_adapter::define_unknown_imports(&mut linker, &mut store, module, mode)
        .map_err(werr)?;
    let instance = match linker.instantiate_and_start(&mut store, module) {
        Ok(instance) => instance,
        Err(e) => match wasi::wasmi_adapter::instantiation_trap(&e) {
            Some(trap) => {
                return Ok(End::Trap(trap_site::caused_by(
                    &invoke_context(args),
                    None,
                    &trap,
                )))
            }
            None => bail!(
                "failed to instantiate {:?}\n    1: {e}",
                args.module().display().to_string()
            ),
        },
    };

    let classify = |e: wasmi::Error, what: String, store: &Store<_>| -> End {
        if let Some(code) = e.i32_exit_status() {
            return End::Exit(code);
        }
        if let Some(t) = e.downcast_ref::<wasi::wasmi_adapter::WasiTrap>() {
            // The wasm function that called the host function is the innermost frame.
            let bt = marked.locate(store, &instance).map(|(_, bt)| bt);
            return End::Error(trap_site::caused_by(&what, bt.as_deref(), &t.to_string()));
        }
        if let Some(code) = e.as_trap_code() {
            let bt = marked.locate(store, &instance).map(|(_, bt)| bt);
            let msg = wasi::wasmi_adapter::trap_message(code);
            return End::Trap(trap_site::caused_by(&what, bt.as_deref(), &msg));
        }
        End::Trap(format!("{what}\n    1: {e}"))
    };

    // `wasmtime run` calls `_initialize` whenever the module exports it (a reactor).
    if let Some(init) = instance.get_func(&store, "_initialize") {
        if let Err(e) = init.call(&mut store, &[], &mut []) {
            return Ok(classify(
                e,
                "failed to invoke `_initialize`".to_string(),
                &store,
            ));
        }
    }
    let Some(entry) = wasi::invoke::Entry::choose(args.invoke.as_deref(), |n| {
        instance.get_func(&store, n).is_some()
    })
    .map_err(anyhow::Error::msg)?
    else {
        return Ok(End::Exit(0));
    };
    let Some(func) = instance.get_func(&store, &entry.name) else {
        bail!("no func export named `{}` found", entry.name);
    };
    let ty = func.ty(&store);
    // The entry's parameters come from the command line, `--invoke` or not.
    if !ty.params().is_empty() {
        eprint!("{}", wasi::invoke::ARGS_WARNING);
    }
    let params = wasi::wasmi_adapter::invoke_params(&ty, &entry.label(), args.program_args())
        .map_err(anyhow::Error::msg)?;
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    if let Err(e) = func.call(&mut store, &params, &mut results) {
        return Ok(classify(e, entry.context(), &store));
    }
    if !results.is_empty() {
        eprint!("{}", wasi::invoke::RESULTS_WARNING);
    }
    for line in wasi::wasmi_adapter::invoke_results(&results) {
        print!("{line}");
    }
    Ok(End::Exit(0))
}

#[cfg(test)]
mod tests {
    use super::vfs_limit;

    #[test]
    fn vfs_limit_is_three_quarters_of_available_memory() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   16000000 kB\n";
        assert_eq!(vfs_limit(Some(meminfo)), 16_000_000 * 1024 / 4 * 3);
        assert_eq!(
            vfs_limit(Some("MemTotal: 5 kB\n")),
            vfs::DEFAULT_LIMIT_BYTES
        );
        assert_eq!(vfs_limit(None), vfs::DEFAULT_LIMIT_BYTES);
    }
}
