//! Processes: a process is a kernel task running one WASI preview1 module, either under the
//! wasmi interpreter (`.wasm`) or as native code under wasmtime (a `.cwasm` precompiled by
//! `clew compile`), with its own `wasi::WasiCtx` (fd table, preopens, argv, environment) over
//! the shared VFS (`crate::fs`).
//!
//! Public API (used by the shell, run mode and the in-kernel tests):
//! [`spawn`] a [`Spawn`] description → [`Pid`]; [`wait`] / [`try_wait`] for its
//! [`ExitStatus`]; [`kill`] (works on a process in a pure compute loop: the interpreter runs
//! in fuel slices and checks a per-process kill flag between them); [`list`];
//! [`set_foreground`] (Ctrl-C on the console kills that process). Standard streams are
//! [`Stdio`] values: the console, nothing, a [`pipe`] end or a file from [`open_file`].
//!
//! Tier choice ([`load_program`], [`spawn`]): a `.cwasm` (by content) runs natively; a
//! `.wasm` runs natively when a `.cwasm` of the same name lies beside it or under
//! [`NATIVE_CACHE`] (`/bin` ships precompiled there), else in the interpreter.
//!
//! Loaded programs are reused by content ([`load_program`] through `cache`).
//!
//! Submodules: `stdio` (streams), `host` (clocks, random), `engine` (wasmi: compile with
//! `trap_site` marks, instantiate, run, trap diagnoses), `native` (wasmtime: load, run),
//! `cache` (loaded programs). Neighbours: `crate::task` (each process is a task),
//! `crate::tty` (console line discipline), `crate::run_mode` (`clew run`),
//! `crate::wasmtime_platform` (native traps and kill).

mod cache;
mod engine;
mod host;
pub mod native;
mod stdio;

pub use engine::{compile, compile_no_fuel, RunOptions, FUEL_SLICE};
pub use host::new_ctx;
pub use stdio::{join_path, open_file, pipe, FileStream, NullStream, OpenMode, PipeEnd, Stdio};

use crate::sync::{SpinLock, WaitQueue};
use crate::task::TaskId;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The pipe buffer size (tests).
pub fn stdio_pipe_capacity() -> usize {
    stdio::PIPE_CAPACITY
}

/// Identifies a process (distinct from its task id).
pub type Pid = u32;

/// Exit code of a process ended by a trap (as `wasmtime run` on Unix: 128 + SIGABRT).
pub const TRAP_EXIT: i32 = 134;
/// Exit code of a process killed by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT: i32 = 130;
/// Exit code of a process ended by [`kill`] (128 + SIGTERM).
pub const KILLED_EXIT: i32 = 143;
/// Kernel stack of a process task (host calls, lazy compilation; wasm values live in
/// wasmi's own heap stack).
pub const PROCESS_STACK: u64 = 2 << 20;

/// What to run and how.
pub struct Spawn {
    /// Absolute VFS path of the module.
    pub program: String,
    /// argv, argv[0] included.
    pub argv: Vec<String>,
    /// Environment.
    pub env: Vec<(String, String)>,
    /// Absolute working directory (preopened as `.`, fd 4).
    pub cwd: String,
    /// fds 0, 1, 2.
    pub stdio: [Stdio; 3],
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// Exit code: the program's, [`TRAP_EXIT`] for a trap, [`INTERRUPTED_EXIT`] /
    /// [`KILLED_EXIT`] when killed.
    pub code: i32,
    /// For a trap, its one-line diagnosis (e.g. `trap: integer divide by zero`). The kernel
    /// has already written `clew: <name>: <diagnosis>` to the process's stderr: callers
    /// need not print it again.
    pub trap: Option<String>,
}

/// Why [`spawn`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The program path does not exist.
    NotFound,
    /// The program path is a directory.
    IsDirectory,
    /// Reading it failed.
    Io(wasi::Errno),
    /// Not a wasm module (bad magic, or a component).
    NotWasm,
    /// Uses a proposal wasmi lacks (exceptions, threads, ...): the detail.
    NeedsNative(String),
    /// Invalid module, or instantiation problem: wasmi's message.
    Invalid(String),
    /// A precompiled module that cannot be loaded (corrupt, other version or CPU profile).
    BadNative(String),
    /// The working directory does not exist.
    BadCwd,
    /// No memory for the task.
    OutOfMemory,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::NotFound => f.write_str("no such file"),
            SpawnError::IsDirectory => f.write_str("is a directory"),
            SpawnError::Io(e) => write!(f, "cannot read: {e:?}"),
            SpawnError::NotWasm => f.write_str("not a WebAssembly module"),
            SpawnError::NeedsNative(why) => write!(f, "needs the native tier ({why})"),
            SpawnError::Invalid(why) => write!(f, "invalid module: {why}"),
            SpawnError::BadNative(why) => f.write_str(why),
            SpawnError::BadCwd => f.write_str("working directory not found"),
            SpawnError::OutOfMemory => f.write_str("out of memory"),
        }
    }
}

/// Why [`kill`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillError {
    /// No such process, or it has already ended.
    NoSuchProcess,
}

impl fmt::Display for KillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such process")
    }
}

/// Lifecycle state for [`list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcState {
    /// Running (or ready, blocked, sleeping: see the task's state).
    Running,
    /// Ended, not yet waited for.
    Exited(ExitStatus),
}

/// One row of [`list`].
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: Pid,
    /// Its task.
    pub task: TaskId,
    /// Program name (argv[0]'s last component).
    pub name: String,
    /// State.
    pub state: ProcState,
}

struct Entry {
    task: TaskId,
    name: String,
    kill: Arc<KillFlag>,
    status: Option<ExitStatus>,
}

/// Why a process should stop, set from outside and read between fuel slices.
#[derive(Default)]
pub(crate) struct KillFlag {
    killed: AtomicBool,
    interrupted: AtomicBool,
    timed_out: AtomicBool,
}

impl KillFlag {
    pub(crate) fn is_set(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
            || self.interrupted.load(Ordering::Relaxed)
            || self.timed_out.load(Ordering::Relaxed)
    }
    /// The exit code the stop gives: [`TRAP_EXIT`] for a time-out (a trap), else that of
    /// Ctrl-C or `kill`.
    pub(crate) fn exit_code(&self) -> i32 {
        if self.timed_out() {
            TRAP_EXIT
        } else if self.interrupted.load(Ordering::Relaxed) {
            INTERRUPTED_EXIT
        } else {
            KILLED_EXIT
        }
    }
    /// Stopped by [`time_out`] alone: reported as the trap `wasmtime run -W timeout`
    /// ends a program with, not as a kill.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
            && !self.killed.load(Ordering::Relaxed)
            && !self.interrupted.load(Ordering::Relaxed)
    }
}

/// Why [`signal`] stops a process.
#[derive(Clone, Copy)]
enum Reason {
    Kill,
    Interrupt,
    Timeout,
}

static TABLE: SpinLock<BTreeMap<Pid, Entry>> = SpinLock::new(BTreeMap::new());
static NEXT_PID: AtomicU32 = AtomicU32::new(1);
static EXITED: WaitQueue = WaitQueue::new();
static FOREGROUND: AtomicU32 = AtomicU32::new(0);

/// Starts a process. The module is read and validated here (so the errors come back at
/// once); it runs in a new task.
pub fn spawn(spec: Spawn) -> Result<Pid, SpawnError> {
    let bytes = crate::fs::read_file(&spec.program).map_err(|e| match e {
        vfs::Error::NotFound | vfs::Error::NotDir => SpawnError::NotFound,
        vfs::Error::IsDir => SpawnError::IsDirectory,
        other => SpawnError::Io(wasi::preview1::fs_errno(other)),
    })?;
    let module = choose_tier(&spec.program, &bytes)?;
    log::info!("spawn {}: {} tier", spec.program, module.tier());
    drop(bytes);
    let name = program_name(&spec.argv, &spec.program);
    let vfs = crate::fs::shared();
    let cwd_ino = {
        let fs = vfs.lock();
        let root = fs.root();
        let ino = fs
            .resolve(root, &spec.cwd, true, false)
            .map_err(|_| SpawnError::BadCwd)?;
        match fs.metadata(ino) {
            Ok(m) if m.kind == vfs::FileKind::Directory => ino,
            _ => return Err(SpawnError::BadCwd),
        }
    };
    let [i, o, e] = spec.stdio;
    let mut ctx = host::new_ctx(
        vfs.clone(),
        spec.argv,
        spec.env,
        [i.into_stream(), o.into_stream(), e.into_stream()],
    );
    let root = vfs.lock().root();
    ctx.preopen_dir(root, "/");
    ctx.preopen_dir(cwd_ino, ".");
    start(name, module, ctx, RunOptions::default())
}

/// A loaded program, ready to run in one of the two tiers (clones share the module).
#[derive(Clone)]
pub enum Program {
    /// Interpreted by wasmi.
    Interp(engine::InterpModule),
    /// Native code under wasmtime.
    Native(native::NativeModule),
}

impl Program {
    /// The tier's name (`interp` or `native`).
    pub fn tier(&self) -> &'static str {
        match self {
            Program::Interp(_) => "interp",
            Program::Native(_) => "native",
        }
    }
}

impl From<engine::InterpModule> for Program {
    fn from(m: engine::InterpModule) -> Self {
        Program::Interp(m)
    }
}

impl From<native::NativeModule> for Program {
    fn from(m: native::NativeModule) -> Self {
        Program::Native(m)
    }
}

/// Loads `bytes` by content: a Clew `.cwasm` for the native tier, else a `.wasm` for the
/// interpreter.
/// Programs loaded before are reused (`cache`).
pub fn load_program(bytes: &[u8]) -> Result<Program, SpawnError> {
    cache::get_or_load(bytes, |bytes| {
        if aot_config::header::is_artifact(bytes) {
            native::load(bytes).map(Program::Native)
        } else {
            engine::compile(bytes).map(Program::Interp)
        }
    })
}

/// [`native::load`] through the cache.
fn load_native(bytes: &[u8]) -> Result<Program, SpawnError> {
    cache::get_or_load(bytes, |b| native::load(b).map(Program::Native))
}

/// Which tier [`spawn`] uses (kernel command line `engine=auto|interp|native`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnginePolicy {
    /// A loadable `.cwasm` runs natively, else the interpreter runs the `.wasm`.
    Auto,
    /// Always the interpreter (a `.cwasm` given by path still runs natively).
    Interp,
    /// Always native: a `.wasm` without a loadable `.cwasm` is refused.
    Native,
}

static POLICY: AtomicU32 = AtomicU32::new(0);

/// Sets the tier policy of [`spawn`].
pub fn set_engine_policy(p: EnginePolicy) {
    POLICY.store(p as u32, Ordering::Relaxed);
}

fn engine_policy() -> EnginePolicy {
    match POLICY.load(Ordering::Relaxed) {
        1 => EnginePolicy::Interp,
        2 => EnginePolicy::Native,
        _ => EnginePolicy::Auto,
    }
}

/// Where precompiled forms of programs live in the guest: `/bin/ls` → `/lib/cwasm/bin/ls.cwasm`
/// (`clew boot` fills it from its host cache).
pub const NATIVE_CACHE: &str = "/lib/cwasm";

/// The engine choice of [`spawn`] (`--engine auto`): the content decides for a `.cwasm`;
/// a `.wasm` with a loadable `.cwasm` of the same name beside it runs natively; otherwise
/// the interpreter runs it. A sibling `.cwasm` that cannot be loaded (other CPU profile,
/// corrupt) is logged and ignored unless the interpreter cannot run the module either.
fn choose_tier(path: &str, bytes: &[u8]) -> Result<Program, SpawnError> {
    if aot_config::header::is_artifact(bytes) {
        return load_native(bytes);
    }
    let cwasm_name = path
        .strip_suffix(".wasm")
        .map(|stem| alloc::format!("{stem}.cwasm"))
        .unwrap_or_else(|| alloc::format!("{path}.cwasm"));
    let beside = cwasm_name.clone();
    let cached = alloc::format!("{NATIVE_CACHE}{cwasm_name}");
    let mut native_err = None;
    let policy = engine_policy();
    let candidates = if policy == EnginePolicy::Interp {
        alloc::vec![]
    } else {
        alloc::vec![beside, cached]
    };
    for candidate in candidates {
        if let Ok(cwasm) = crate::fs::read_file(&candidate) {
            match load_native(&cwasm) {
                Ok(m) => return Ok(m),
                Err(e) => {
                    log::warn!("{candidate}: {e}; interpreting {path}");
                    native_err = Some(e);
                }
            }
        }
    }
    if policy == EnginePolicy::Native {
        return Err(native_err.unwrap_or(SpawnError::BadNative(alloc::format!(
            "no precompiled {cwasm_name} (engine=native)"
        ))));
    }
    match cache::get_or_load(bytes, |b| engine::compile(b).map(Program::Interp)) {
        Ok(m) => Ok(m),
        Err(SpawnError::NeedsNative(why)) => Err(native_err.unwrap_or(SpawnError::NeedsNative(
            alloc::format!("{why}; precompile it with `clew compile`"),
        ))),
        Err(e) => Err(e),
    }
}

/// Starts a process from an already loaded program and a prepared context (run mode).
pub(crate) fn start(
    name: String,
    module: impl Into<Program>,
    ctx: wasi::WasiCtx,
    opts: RunOptions,
) -> Result<Pid, SpawnError> {
    let module: Program = module.into();
    let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
    let kill = Arc::new(KillFlag::default());
    TABLE.lock().insert(
        pid,
        Entry {
            task: 0,
            name: name.clone(),
            kill: kill.clone(),
            status: None,
        },
    );
    let task_name = name.clone();
    let body = move || {
        let status = match &module {
            Program::Interp(m) => engine::run(&name, m, ctx, &opts, &kill),
            Program::Native(m) => native::run(&name, m, ctx, &opts, &kill),
        };
        drop(module);
        finish(pid, status);
    };
    match crate::task::spawn_with_stack(&task_name, PROCESS_STACK, body) {
        Ok(task) => {
            if let Some(e) = TABLE.lock().get_mut(&pid) {
                e.task = task;
            }
            Ok(pid)
        }
        Err(_) => {
            TABLE.lock().remove(&pid);
            Err(SpawnError::OutOfMemory)
        }
    }
}

fn finish(pid: Pid, status: ExitStatus) {
    if let Some(e) = TABLE.lock().get_mut(&pid) {
        e.status = Some(status);
    }
    let _ = FOREGROUND.compare_exchange(pid, 0, Ordering::Relaxed, Ordering::Relaxed);
    EXITED.wake_all();
}

/// The last path component of argv[0] (else of the program path).
fn program_name(argv: &[String], program: &str) -> String {
    let full = argv.first().map(String::as_str).unwrap_or(program);
    full.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(full)
        .to_string()
}

/// Blocks until process `pid` ends and returns its status (removing it from the table).
/// An unknown pid gives status 127 with a diagnosis. Joins the process's task first, so a
/// task that died without publishing a status (a fault that could not even unwind) is
/// still reported, as a trap.
pub fn wait(pid: Pid) -> ExitStatus {
    let task = TABLE.lock().get(&pid).map(|e| e.task);
    let Some(task) = task else {
        return no_such_process();
    };
    let exit = if task != 0 {
        crate::task::join(task)
    } else {
        None
    };
    let mut out = None;
    EXITED.wait_until(|| {
        let mut t = TABLE.lock();
        match t.get(&pid) {
            None => true,
            Some(e) if e.status.is_some() || task != 0 => {
                out = t.remove(&pid).and_then(|e| e.status);
                true
            }
            Some(_) => false,
        }
    });
    out.unwrap_or_else(|| lost_status(exit))
}

fn no_such_process() -> ExitStatus {
    ExitStatus {
        code: 127,
        trap: Some("no such process".to_string()),
    }
}

/// The status of a process whose task ended without publishing one.
fn lost_status(exit: Option<crate::task::Exit>) -> ExitStatus {
    let why = match exit {
        Some(crate::task::Exit::Faulted(m)) => m,
        Some(crate::task::Exit::Panicked(m)) => alloc::format!("kernel panic: {m}"),
        _ => "ended without a status".to_string(),
    };
    let line = why.lines().next().unwrap_or("").to_string();
    log::error!("process task died without unwinding: {line}");
    ExitStatus {
        code: TRAP_EXIT,
        trap: Some(alloc::format!("trap: CPU fault: {line}")),
    }
}

/// The status of `pid` if it has ended (then removed from the table), else `None`.
pub fn try_wait(pid: Pid) -> Option<ExitStatus> {
    let (task, done) = {
        let t = TABLE.lock();
        let Some(e) = t.get(&pid) else {
            return Some(no_such_process());
        };
        (e.task, e.status.is_some())
    };
    let dead = task != 0 && crate::task::is_dead(task);
    if done || dead {
        Some(wait(pid))
    } else {
        None
    }
}

/// Asks process `pid` to end: it stops within one fuel slice if computing, at once if
/// blocked in a read, write or sleep. Its exit code becomes [`KILLED_EXIT`].
pub fn kill(pid: Pid) -> Result<(), KillError> {
    signal(pid, Reason::Kill)
}

/// Stops process `pid` as [`kill`] does, for running past its time (`clew run -W
/// timeout`): it ends with the trap "interrupt" (exit [`TRAP_EXIT`]), as wasmtime's epoch
/// deadline ends it.
pub fn time_out(pid: Pid) -> Result<(), KillError> {
    signal(pid, Reason::Timeout)
}

fn signal(pid: Pid, reason: Reason) -> Result<(), KillError> {
    let task = {
        let t = TABLE.lock();
        let e = t.get(&pid).ok_or(KillError::NoSuchProcess)?;
        if e.status.is_some() {
            return Err(KillError::NoSuchProcess);
        }
        let flag = match reason {
            Reason::Kill => &e.kill.killed,
            Reason::Interrupt => &e.kill.interrupted,
            Reason::Timeout => &e.kill.timed_out,
        };
        flag.store(true, Ordering::Relaxed);
        e.task
    };
    if task != 0 {
        crate::task::wake(task);
    }
    // A native process in a loop that makes no WASI calls is stopped by the timer
    // (`wasmtime_platform::on_timer_tick`), an interpreted one between fuel slices.
    crate::tty::wake_readers();
    Ok(())
}

/// Every process not yet waited for.
pub fn list() -> Vec<ProcessInfo> {
    TABLE
        .lock()
        .iter()
        .map(|(&pid, e)| ProcessInfo {
            pid,
            task: e.task,
            name: e.name.clone(),
            state: match &e.status {
                None => ProcState::Running,
                Some(s) => ProcState::Exited(s.clone()),
            },
        })
        .collect()
}

/// Sets (or clears) the process that Ctrl-C on the console kills.
pub fn set_foreground(pid: Option<Pid>) {
    FOREGROUND.store(pid.unwrap_or(0), Ordering::Relaxed);
}

/// The foreground process, if any.
pub fn foreground() -> Option<Pid> {
    match FOREGROUND.load(Ordering::Relaxed) {
        0 => None,
        p => Some(p),
    }
}

/// Ctrl-C arrived on the console (called from the receive interrupt): interrupts the
/// foreground process. Returns whether there was one.
pub(crate) fn interrupt_foreground() -> bool {
    match foreground() {
        Some(pid) => signal(pid, Reason::Interrupt).is_ok(),
        None => false,
    }
}

/// If the calling task is a process that has been stopped (killed, interrupted, timed
/// out), the exit code that gives ([`KillFlag::exit_code`]).
pub fn current_kill_exit() -> Option<i32> {
    let me = crate::task::current();
    TABLE
        .lock()
        .values()
        .find(|e| e.task == me && e.kill.is_set())
        .map(|e| e.kill.exit_code())
}

/// Whether the calling task is a process that has been killed (blocking stream
/// operations give up with `EINTR`, sleeps end early).
pub fn current_killed() -> bool {
    let me = crate::task::current();
    TABLE
        .lock()
        .values()
        .any(|e| e.task == me && e.kill.is_set())
}
