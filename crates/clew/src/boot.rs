//! `clew boot`: boots an interactive Clew with its serial console on this terminal. QEMU's
//! stdio chardev puts a terminal in raw mode itself (and `signal=off` lets Ctrl-C reach the
//! guest); with pipes it simply forwards bytes, so scripted sessions work too.

use crate::cli::BootArgs;
use crate::qemu::{Launch, RunDir};
use anyhow::Context;
use std::process::ExitCode;

/// Boots Clew and returns the guest's exit status.
pub fn boot(args: &BootArgs) -> anyhow::Result<ExitCode> {
    if !args.dirs.is_empty() {
        anyhow::bail!("clew boot --dir: sharing host directories is not available yet");
    }
    let dir = RunDir::new()?;
    let launch = Launch {
        dir: &dir,
        memory_mib: args.memory_mib,
        cmdline: &args.cmdline,
        console: "stdio,signal=off",
        modules: Vec::new(),
    };
    let status = launch
        .command()?
        .status()
        .context("starting qemu-system-x86_64")?;
    if let Some(log) = &args.log {
        let _ = std::fs::copy(launch.log_path(), log);
    }
    Ok(ExitCode::from(launch.guest_exit_code(status)?))
}
