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

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Boot(args) => boot::boot(&args),
        cli::Command::Run(args) if args.host => host_run::run(&args),
        cli::Command::Run(args) => guest_run::run(&args),
        cli::Command::Compile(args) => compile::run(&args),
        cli::Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("clew: {e:#}");
            ExitCode::from(2)
        }
    }
}
