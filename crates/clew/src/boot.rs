//! `clew boot`: boots an interactive Clew with its serial console on this terminal. QEMU's
//! stdio chardev puts a terminal in raw mode itself (and `signal=off` lets Ctrl-C reach the
//! guest); with pipes it simply forwards bytes, so scripted sessions work too. The boot
//! archive carries the userland as `/bin` and each `--dir` tree at its guest path.

use crate::archive::Archive;
use crate::cli::BootArgs;
use crate::qemu::{Launch, RunDir};
use anyhow::{bail, Context};
use std::process::ExitCode;

/// Boots Clew and returns the guest's exit status.
pub fn boot(args: &BootArgs) -> anyhow::Result<ExitCode> {
    let dir = RunDir::new()?;
    let mut archive = Archive::new();
    if !Archive::has_userland() {
        eprintln!("clew: warning: this clew was built without clang, so /bin is empty");
    }
    archive.add_userland()?;
    archive.mkdir_all("/tmp")?;
    for mapping in &args.dirs {
        let guest = mapping.guest.trim_start_matches("./");
        if !guest.starts_with('/') || guest == "/" {
            bail!(
                "clew boot --dir {}: the guest path must be an absolute directory other than / (e.g. HOST::/data)",
                mapping.guest
            );
        }
        archive.add_host_dir(guest, &mapping.host)?;
    }
    let archive_path = dir.path().join("boot.tar");
    let bytes = archive.finish()?;
    std::fs::write(&archive_path, &bytes).context("writing the boot archive")?;
    // The archive is held twice while the kernel unpacks it; leave room for programs.
    let needed_mib = 256 + 3 * (bytes.len() >> 20) as u32;
    let launch = Launch {
        dir: &dir,
        memory_mib: args.memory_mib.max(needed_mib),
        cmdline: &args.cmdline,
        console: "stdio,signal=off",
        modules: vec![(archive_path, "archive")],
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
