//! QEMU launcher: writes out the kernel image this binary carries and boots it.

use crate::cli::BootArgs;
use std::process::ExitCode;

/// Boots Clew interactively with the serial console on this terminal.
pub fn boot(_args: &BootArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("clew boot: not built yet")
}
