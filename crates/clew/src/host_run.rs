//! `clew run --host`: runs a WASI program on the host through the very same `wasi` and
//! `vfs` crates the kernel uses, with the wasmi (interp) or wasmtime (native) adapter.

use crate::cli::RunArgs;
use std::process::ExitCode;

/// Runs `args.module` on the host and returns the program's exit code.
pub fn run(_args: &RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("clew run --host: not built yet")
}
