//! `clew`, the host tool of Clew: boots the kernel it carries in QEMU (`boot`), runs one
//! WASI program like `wasmtime run` (`run`, in the guest or with `--host` on the host
//! through the same WASI code), and precompiles modules. Argument structs live in `cli`.

mod archive;
mod bench;
mod boot;
mod cli;
mod compile;
mod dirsync;
mod guest_run;
mod host_run;
mod qemu;
mod signals;
mod wasmtime_opts;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // An argument that is not UTF-8 (WASI's arguments are strings) fails `clew run` as it
    // fails `wasmtime run`: its message, status 1 (clap would print a usage error, 2).
    if args.get(1).is_some_and(|a| a == "run") {
        if let Some(bad) = args.iter().skip(2).find(|a| a.to_str().is_none()) {
            eprintln!("Error: failed to convert {bad:?} to utf-8");
            return ExitCode::from(1);
        }
    }
    let cli = cli::Cli::parse_from(args);
    // `clew run` fails as `wasmtime run` does, with status 1 (a module that cannot be
    // compiled or loaded, a missing file); the other commands use 2.
    let (result, failure) = match cli.command {
        cli::Command::Boot(args) => (boot::boot(&args), 2),
        cli::Command::Run(args) if args.host => (host_run::run(&args), 1),
        cli::Command::Run(args) => (guest_run::run(&args), 1),
        cli::Command::Compile(args) => (compile::run(&args), 2),
        cli::Command::Bench(args) => (bench::run(&args), 2),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("clew: {e:#}");
            ExitCode::from(failure)
        }
    };
    // A run stopped by SIGINT, SIGTERM or SIGHUP ends by that signal, as `wasmtime run`
    // does, now that the program's changes are written back and the run's files removed.
    if let Some(signal) = signals::stopped_by() {
        signals::die_of(signal);
    }
    code
}
