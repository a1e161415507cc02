//! Running one expanded pipeline: the stdio of each command (console, pipes between
//! neighbours, then the command's redirections left to right), program lookup, spawning,
//! builtins in the shell itself, and waiting for a foreground pipeline with its last
//! process as the console's foreground (Ctrl-C kills it).
//!
//! Builtins run inside the shell while the pipeline is being set up; their output is
//! buffered and written to their stdout/stderr (console, pipe or file) once every program
//! of the pipeline has started, so a builtin feeding a pipe never blocks the shell on a
//! reader that does not exist yet.

use super::builtins::{self, Output};
use super::paths::{self, LookupError};
use super::Shell;
use crate::println;
use crate::process::{self, ExitStatus, FileStream, OpenMode, Pid, PipeEnd, Spawn, Stdio};
use crate::sync::Mutex;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use shell_syntax::{Command, Pipeline, RedirectTarget, Vars as _};
use wasi::{Errno, Stream};

/// Status when a program cannot be found.
const STATUS_NOT_FOUND: i32 = 127;
/// Status when a program exists but cannot be started.
const STATUS_NOT_RUNNABLE: i32 = 126;

/// One of a command's standard streams while the shell wires it up. Unlike
/// [`process::Stdio`] it can be duplicated (`2>&1`): a file opened by a redirection is shared
/// by every descriptor that refers to it, with one position, as after `dup2`.
#[derive(Clone)]
pub(super) enum Slot {
    Console,
    Null,
    Pipe(PipeEnd),
    File(Arc<Mutex<FileStream>>),
}

impl Slot {
    /// The stream to hand to `process::spawn`.
    fn into_stdio(self) -> Stdio {
        match self {
            Slot::Console => Stdio::Console,
            Slot::Null => Stdio::Null,
            Slot::Pipe(end) => Stdio::Pipe(end),
            Slot::File(file) => match Arc::try_unwrap(file) {
                Ok(file) => Stdio::File(file.into_inner()),
                Err(shared) => Stdio::Custom(Box::new(SharedFile(shared))),
            },
        }
    }

    /// Writes a builtin's output here. Errors (a closed pipe, a full disk) are reported.
    pub(super) fn write_all(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        let result = match self {
            Slot::Console => {
                crate::console::write_str(text);
                Ok(())
            }
            Slot::Null => Ok(()),
            Slot::Pipe(end) => write_stream(&mut end.clone(), text.as_bytes()),
            Slot::File(file) => write_stream(&mut *file.lock(), text.as_bytes()),
        };
        if let Err(e) = result {
            // A reader that went away is not worth a message (sh stays silent on SIGPIPE).
            if e != Errno::Pipe {
                println!("clew: write error: {}", errno_text(e));
            }
        }
    }
}

fn write_stream(stream: &mut dyn Stream, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let n = stream.write(bytes)?;
        if n == 0 {
            return Err(Errno::Io);
        }
        bytes = &bytes[n..];
    }
    Ok(())
}

/// A redirection file used by several descriptors (`> f 2>&1`).
struct SharedFile(Arc<Mutex<FileStream>>);

impl Stream for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.0.lock().read(buf)
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        self.0.lock().write(buf)
    }
}

/// A short `strerror` for the errors opening a redirection can give.
pub(super) fn errno_text(e: Errno) -> &'static str {
    match e {
        Errno::Noent => "no such file or directory",
        Errno::Exist => "file exists",
        Errno::Notdir => "not a directory",
        Errno::Isdir => "is a directory",
        Errno::Acces | Errno::Perm | Errno::Notcapable => "permission denied",
        Errno::Nospc => "no space left on device",
        Errno::Fbig => "file too large",
        Errno::Loop => "too many levels of symbolic links",
        Errno::Nametoolong => "file name too long",
        Errno::Inval => "invalid argument",
        Errno::Pipe => "broken pipe",
        Errno::Badf => "bad file descriptor",
        Errno::Intr => "interrupted",
        _ => "input/output error",
    }
}

/// Applies a command's redirections, left to right, to its three streams.
fn apply_redirects(cmd: &Command<String>, slots: &mut [Slot; 3], cwd: &str) -> Result<(), String> {
    for r in &cmd.redirects {
        let fd = r.fd as usize;
        if fd > 2 {
            return Err(format!(
                "{}: bad file descriptor (programs have only 0, 1 and 2)",
                r.fd
            ));
        }
        slots[fd] = match &r.target {
            RedirectTarget::Input(path) => open(path, cwd, OpenMode::Read)?,
            RedirectTarget::Output { path, append } => {
                let mode = if *append {
                    OpenMode::Append
                } else {
                    OpenMode::Truncate
                };
                open(path, cwd, mode)?
            }
            RedirectTarget::Fd(n) => match slots.get(*n as usize) {
                Some(slot) => slot.clone(),
                None => return Err(format!("{n}: bad file descriptor")),
            },
        };
    }
    Ok(())
}

fn open(path: &str, cwd: &str, mode: OpenMode) -> Result<Slot, String> {
    if path.is_empty() {
        return Err("ambiguous redirect: empty file name".to_string());
    }
    process::open_file(path, cwd, mode)
        .map(|f| Slot::File(Arc::new(Mutex::new(f))))
        .map_err(|e| format!("{path}: {}", errno_text(e)))
}

/// The text of a pipeline as `jobs` shows it.
pub(super) fn describe(p: &Pipeline<String>) -> String {
    let mut out = String::new();
    for (i, cmd) in p.commands.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        let mut words: Vec<String> = Vec::new();
        words.extend(
            cmd.assignments
                .iter()
                .map(|a| format!("{}={}", a.name, a.value)),
        );
        words.extend(cmd.argv.iter().cloned());
        for r in &cmd.redirects {
            let default_fd = matches!(r.target, RedirectTarget::Input(_)) as u32 ^ 1;
            let fd = if r.fd == default_fd {
                String::new()
            } else {
                r.fd.to_string()
            };
            words.push(match &r.target {
                RedirectTarget::Input(path) => format!("{fd}< {path}"),
                RedirectTarget::Output { path, append } => {
                    format!("{fd}{} {path}", if *append { ">>" } else { ">" })
                }
                RedirectTarget::Fd(n) => format!("{fd}>&{n}"),
            });
        }
        out.push_str(&words.join(" "));
    }
    out
}

/// What became of one command of a pipeline.
enum Started {
    /// A process is running.
    Process(Pid),
    /// Nothing is running: a builtin ran, or the command failed to start; its status.
    Done(i32),
}

impl Shell {
    /// Runs a pipeline and waits for it; returns its status (the last command's).
    pub(super) fn run_foreground(&mut self, p: &Pipeline<String>) -> i32 {
        let started = self.start(p, false);
        let mut status = match started.last() {
            Some(Started::Done(s)) => *s,
            _ => 0,
        };
        let pids: Vec<Pid> = started
            .iter()
            .filter_map(|s| match s {
                Started::Process(pid) => Some(*pid),
                Started::Done(_) => None,
            })
            .collect();
        let mut rest = pids.clone();
        if let Some(Started::Process(last)) = started.last() {
            let last = *last;
            rest.retain(|&pid| pid != last);
            process::set_foreground(Some(last));
            let exit = process::wait(last);
            status = status_of(&exit);
            if status == process::INTERRUPTED_EXIT || status == process::KILLED_EXIT {
                // Ctrl-C ends the whole pipeline, as SIGINT to the process group does.
                for &pid in &rest {
                    let _ = process::kill(pid);
                }
            }
        }
        for pid in rest {
            process::set_foreground(Some(pid));
            process::wait(pid);
        }
        process::set_foreground(None);
        status
    }

    /// Starts a pipeline as a background job; returns the status for `$?` (0 once started).
    pub(super) fn start_background(&mut self, p: &Pipeline<String>, text: String) -> i32 {
        let started = self.start(p, true);
        let pids: Vec<Pid> = started
            .iter()
            .filter_map(|s| match s {
                Started::Process(pid) => Some(*pid),
                Started::Done(_) => None,
            })
            .collect();
        let Some(&last) = pids.last() else {
            // Only builtins or failures: nothing to wait for.
            return match started.last() {
                Some(Started::Done(s)) => *s,
                _ => 0,
            };
        };
        let id = self.jobs.add(pids, text);
        println!("[{id}] {last}");
        0
    }

    /// Sets up and starts every command of the pipeline.
    fn start(&mut self, p: &Pipeline<String>, background: bool) -> Vec<Started> {
        let count = p.commands.len();
        let mut started = Vec::with_capacity(count);
        // Background jobs do not read the console: it belongs to the shell and the
        // foreground job (sh without job control gives them /dev/null likewise).
        let mut next_stdin = if background {
            Slot::Null
        } else {
            Slot::Console
        };
        let mut pending_output: Vec<(Output, Slot, Slot)> = Vec::new();
        for (i, cmd) in p.commands.iter().enumerate() {
            let stdin = core::mem::replace(&mut next_stdin, Slot::Null);
            let stdout = if i + 1 < count {
                let (read, write) = process::pipe();
                next_stdin = Slot::Pipe(read);
                Slot::Pipe(write)
            } else {
                Slot::Console
            };
            let mut slots = [stdin, stdout, Slot::Console];
            if let Err(msg) = apply_redirects(cmd, &mut slots, &self.cwd) {
                println!("clew: {msg}");
                started.push(Started::Done(1));
                continue;
            }
            let Some(name) = cmd.argv.first() else {
                // Assignments (and redirections) only: shell variables, as in sh; in a
                // longer pipeline this would be a subshell, so nothing is set there.
                if count == 1 {
                    for a in &cmd.assignments {
                        self.set_var(&a.name, a.value.clone());
                    }
                }
                started.push(Started::Done(0));
                continue;
            };
            if builtins::is_builtin(name) {
                let [stdin, stdout, stderr] = slots;
                drop(stdin);
                let mut output = Output::default();
                let status = builtins::run(self, &cmd.argv, &mut output);
                pending_output.push((output, stdout, stderr));
                started.push(Started::Done(status));
                continue;
            }
            started.push(match self.spawn_program(cmd, slots) {
                Ok(pid) => Started::Process(pid),
                Err(status) => Started::Done(status),
            });
        }
        drop(next_stdin);
        for (output, stdout, stderr) in pending_output {
            stdout.write_all(&output.out);
            stderr.write_all(&output.err);
        }
        started
    }

    /// Finds and spawns the program of `cmd`; on failure prints why and returns the status.
    fn spawn_program(&mut self, cmd: &Command<String>, slots: [Slot; 3]) -> Result<Pid, i32> {
        let name = cmd.argv.first().map(String::as_str).unwrap_or_default();
        let path_var = self.var("PATH");
        let program = match paths::program(&self.cwd, name, path_var.as_deref()) {
            Ok(path) => path,
            Err(LookupError::NotFound) => {
                println!("clew: {name}: command not found");
                return Err(STATUS_NOT_FOUND);
            }
            Err(LookupError::NoSuchFile) => {
                println!("clew: {name}: no such file or directory");
                return Err(STATUS_NOT_FOUND);
            }
            Err(LookupError::NotRunnable(why)) => {
                println!("clew: {name}: {why}");
                return Err(STATUS_NOT_RUNNABLE);
            }
        };
        let mut env = self.environment();
        for a in &cmd.assignments {
            match env.iter_mut().find(|(k, _)| *k == a.name) {
                Some(entry) => entry.1 = a.value.clone(),
                None => env.push((a.name.clone(), a.value.clone())),
            }
        }
        let [stdin, stdout, stderr] = slots;
        let spec = Spawn {
            program,
            argv: cmd.argv.clone(),
            env,
            cwd: self.cwd.clone(),
            stdio: [stdin.into_stdio(), stdout.into_stdio(), stderr.into_stdio()],
        };
        process::spawn(spec).map_err(|e| {
            println!("clew: {name}: {e}");
            STATUS_NOT_RUNNABLE
        })
    }
}

/// The shell status of an ended process: its exit code, or the process layer's codes for a
/// trap (`process::TRAP_EXIT`, 134), Ctrl-C (130) and `kill` (143), as sh reports signals.
/// The trap's diagnosis is already on the process's stderr.
pub(super) fn status_of(exit: &ExitStatus) -> i32 {
    if exit.trap.is_some() && exit.code == 0 {
        process::TRAP_EXIT
    } else {
        exit.code
    }
}
