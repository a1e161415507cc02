//! The shell's builtin commands. They run inside the shell task and write into an
//! [`Output`] that the executor delivers to the command's stdout and stderr (console, pipe
//! or file), so `ps | grep sleep` and `jobs > f` work. `poweroff` and `exit` do not return.

use super::paths;
use super::Shell;
use crate::process;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt::Write as _;
use shell_syntax::{JobRef, Vars as _};

/// What a builtin printed.
#[derive(Default)]
pub struct Output {
    /// For stdout.
    pub out: String,
    /// For stderr.
    pub err: String,
}

/// Every builtin, with its one-line description for `help`.
const BUILTINS: &[(&str, &str)] = &[
    (
        "cd [DIR]",
        "change the working directory (default $HOME, which is /; `cd -` = back)",
    ),
    ("pwd", "print the working directory"),
    (
        "export [NAME[=VALUE]]...",
        "export variables to programs (no operand: list them)",
    ),
    ("unset NAME...", "remove variables"),
    ("jobs", "list background jobs"),
    (
        "kill %N | PID...",
        "kill background job N, or a process by id",
    ),
    ("ps", "processes (pid, state, program) and kernel tasks"),
    ("mem", "physical frames used/free, kernel heap"),
    ("uptime", "time since boot"),
    ("help", "this text"),
    ("poweroff", "turn the machine off"),
    (
        "exit [N]",
        "end the session: power off (N != 0: QEMU exits with status N)",
    ),
];

/// Whether `name` is a builtin.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS
        .iter()
        .any(|(usage, _)| usage.split(' ').next() == Some(name))
}

/// Runs builtin `argv[0]`; returns its status.
pub fn run(shell: &mut Shell, argv: &[String], output: &mut Output) -> i32 {
    let name = argv.first().map(String::as_str).unwrap_or_default();
    let args = argv.get(1..).unwrap_or_default();
    match name {
        "cd" => cd(shell, args, output),
        "pwd" => {
            output.out.push_str(&shell.cwd);
            output.out.push('\n');
            0
        }
        "export" => export(shell, args, output),
        "unset" => unset(shell, args, output),
        "jobs" => {
            output.out.push_str(&shell.jobs.list());
            0
        }
        "kill" => kill(shell, args, output),
        "ps" => {
            ps(&mut output.out);
            0
        }
        "mem" => {
            mem(&mut output.out);
            0
        }
        "uptime" => {
            let ms = crate::time::uptime_ms();
            let _ = writeln!(output.out, "up {}.{:02} s", ms / 1000, (ms % 1000) / 10);
            0
        }
        "help" => {
            help(&mut output.out);
            0
        }
        "poweroff" => {
            crate::println!("powering off");
            crate::power::off();
        }
        "exit" => exit(args, output),
        _ => {
            let _ = writeln!(output.err, "clew: {name}: not a builtin");
            1
        }
    }
}

/// Whether `name` is a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

fn cd(shell: &mut Shell, args: &[String], output: &mut Output) -> i32 {
    let (target, announce) = match args {
        [] => (shell.var("HOME").unwrap_or_else(|| "/".to_string()), false),
        [dash] if dash == "-" => match shell.var("OLDPWD") {
            Some(old) => (old, true),
            None => {
                output.err.push_str("clew: cd: OLDPWD not set\n");
                return 1;
            }
        },
        [dir] => (dir.clone(), false),
        _ => {
            output.err.push_str("clew: cd: too many arguments\n");
            return 2;
        }
    };
    match paths::directory(&shell.cwd, &target) {
        Ok(dir) => {
            let old = core::mem::replace(&mut shell.cwd, dir.clone());
            shell.set_var("OLDPWD", old);
            shell.set_var("PWD", dir.clone());
            if announce {
                output.out.push_str(&dir);
                output.out.push('\n');
            }
            0
        }
        Err(e) => {
            let _ = writeln!(output.err, "clew: cd: {target}: {e}");
            1
        }
    }
}

fn export(shell: &mut Shell, args: &[String], output: &mut Output) -> i32 {
    if args.is_empty() {
        for (name, value) in shell.environment() {
            let _ = writeln!(output.out, "export {name}={}", quote(&value));
        }
        return 0;
    }
    let mut status = 0;
    for arg in args {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg.as_str(), None),
        };
        if !valid_name(name) {
            let _ = writeln!(output.err, "clew: export: `{arg}': not a valid name");
            status = 1;
            continue;
        }
        if let Some(value) = value {
            shell.set_var(name, value.to_string());
        }
        shell.export(name);
    }
    status
}

/// `value` quoted for `export` listings so it can be typed back.
fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:,+@%".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

fn unset(shell: &mut Shell, args: &[String], output: &mut Output) -> i32 {
    let mut status = 0;
    for name in args {
        if valid_name(name) {
            shell.unset(name);
        } else {
            let _ = writeln!(output.err, "clew: unset: `{name}': not a valid name");
            status = 1;
        }
    }
    status
}

fn kill(shell: &mut Shell, args: &[String], output: &mut Output) -> i32 {
    // `-9`, `-KILL`, `-s KILL`: Clew has one way to end a process, accept the usual forms.
    let args: alloc::vec::Vec<&String> = {
        let mut rest = args;
        match rest.first().map(String::as_str) {
            Some("-s") => rest = rest.get(2..).unwrap_or_default(),
            Some(a) if a.starts_with('-') && a.len() > 1 => rest = &rest[1..],
            _ => {}
        }
        rest.iter().collect()
    };
    if args.is_empty() {
        output.err.push_str("clew: kill: usage: kill %N | PID...\n");
        return 2;
    }
    let mut status = 0;
    for arg in args {
        let spec = match shell_syntax::parse_job_spec(arg) {
            Ok(spec) => spec,
            Err(e) => {
                let _ = writeln!(output.err, "clew: kill: {e}");
                status = 1;
                continue;
            }
        };
        let (job, pids) = match spec {
            JobRef::Job(id) => {
                shell.jobs.poll();
                match shell.jobs.get(id) {
                    Some(job) => (Some(id), job.running_pids()),
                    None => {
                        let _ = writeln!(output.err, "clew: kill: %{id}: no such job");
                        status = 1;
                        continue;
                    }
                }
            }
            JobRef::Pid(pid) => (shell.jobs.job_of(pid), alloc::vec![pid]),
        };
        for pid in pids {
            if let Err(e) = process::kill(pid) {
                let _ = writeln!(output.err, "clew: kill: ({pid}): {e}");
                status = 1;
            }
        }
        // Let the job end now, so that `jobs` right after no longer shows it running and
        // its `Killed` line comes before the next prompt.
        if let Some(id) = job {
            shell.jobs.settle(id, 2000);
        }
    }
    status
}

fn ps(out: &mut String) {
    let tasks = crate::task::list();
    let cpu = |us: u64| format!("{}.{:03} s", us / 1_000_000, (us / 1000) % 1000);
    let _ = writeln!(
        out,
        "{:>5} {:>5}  {:<9} {:>11}  COMMAND",
        "PID", "TASK", "STATE", "CPU"
    );
    for p in process::list() {
        let task = tasks.iter().find(|t| t.id == p.task);
        let state = match (&p.state, task) {
            (process::ProcState::Exited(s), _) => format!("exit {}", s.code),
            (process::ProcState::Running, Some(t)) => t.state.name().to_string(),
            (process::ProcState::Running, None) => "starting".to_string(),
        };
        let time = task.map(|t| cpu(t.cpu_us)).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>5} {:>5}  {:<9} {:>11}  {}",
            p.pid, p.task, state, time, p.name
        );
    }
    let _ = writeln!(out, "kernel tasks:");
    let _ = writeln!(
        out,
        "{:>5}  {:<16} {:<9} {:>11}",
        "ID", "NAME", "STATE", "CPU"
    );
    for t in &tasks {
        let _ = writeln!(
            out,
            "{:>5}  {:<16} {:<9} {:>11}",
            t.id,
            t.name,
            t.state.name(),
            cpu(t.cpu_us)
        );
    }
}

fn mem(out: &mut String) {
    let s = crate::memory::stats();
    let used = s.usable_frames.saturating_sub(s.free_frames);
    let mib = |frames: u64| frames * 4096 / (1 << 20);
    let _ = writeln!(
        out,
        "frames: {} used ({} MiB), {} free ({} MiB), {} total, 4 KiB each",
        used,
        mib(used),
        s.free_frames,
        mib(s.free_frames),
        s.usable_frames
    );
    let _ = writeln!(
        out,
        "heap:   {} KiB used of {} KiB mapped",
        s.heap_used / 1024,
        s.heap_size / 1024
    );
    let _ = writeln!(out, "reservations: {}", s.reservations);
}

fn help(out: &mut String) {
    out.push_str("Builtins:\n");
    for (usage, what) in BUILTINS {
        let _ = writeln!(out, "  {usage:<26} {what}");
    }
    out.push_str(
        "Programs: NAME [ARGS] runs /bin/NAME (then each directory of $PATH); a name with\n\
         a `/` is a path from the working directory (`./prog.wasm`, `/data/x`). `ls /bin`\n\
         lists the userland.\n\
         Syntax: 'single' and \"double\" quotes, \\ escapes, $NAME ${NAME} $? (no splitting,\n\
         no globbing); a | b | c pipes; < f, > f, >> f, 2> f, 2>> f, 2>&1, >&2 redirect;\n\
         a; b   a && b   a || b   cmd & (background job); NAME=V sets a shell variable,\n\
         NAME=V cmd sets it for cmd only; # comments. Ctrl-C kills the foreground program.\n",
    );
}

/// `exit`: the shell is the only session, so ending it turns the machine off, through
/// `power::off` so that `clew boot --dir` trees are written back. (An exit status for the
/// host tool would need a `power::off_with(code)`; `clew boot` reports 0.)
fn exit(args: &[String], output: &mut Output) -> i32 {
    if args.len() > 1 {
        output.err.push_str("clew: exit: too many arguments\n");
        return 2;
    }
    crate::println!("powering off");
    crate::power::off();
}
