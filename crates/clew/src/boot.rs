//! `clew boot`: boots an interactive Clew with its serial console on this terminal. QEMU's
//! stdio chardev puts a terminal in raw mode itself (and `signal=off` lets Ctrl-C reach the
//! guest); with pipes it simply forwards bytes, so scripted sessions work too. The boot
//! archive carries the userland as `/bin` and each `--dir` tree at its guest path; when
//! the guest powers off, the kernel sends those trees back on COM3 and they are written
//! into the host directories.

use crate::archive::Archive;
use crate::cli::BootArgs;
use crate::qemu::{Launch, RunDir, SharedRam};
use anyhow::{bail, Context};
use run_protocol::{Decoder, Frame, RunSpec, BOOT_SPEC_PATH};
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
    let mut guests = Vec::new();
    let mut snapshots = Vec::new();
    let mut shared_ram = if args.dirs.is_empty() {
        None
    } else {
        SharedRam::create()
    };
    for mapping in &args.dirs {
        let guest = mapping.guest.trim_start_matches("./");
        if !guest.starts_with('/') || guest == "/" {
            bail!(
                "clew boot --dir {}: the guest path must be an absolute directory other than / (e.g. HOST::/data)",
                mapping.guest
            );
        }
        snapshots.push(archive.add_host_dir(guest, &mapping.host, None)?);
        guests.push(guest.to_string());
    }
    if !guests.is_empty() {
        let spec = RunSpec {
            dirs: guests,
            // As for `clew run`: trees come back through shared guest RAM when the host
            // can share it.
            shared_ram: shared_ram.is_some(),
            ..RunSpec::default()
        };
        archive.add_file(&format!("/{BOOT_SPEC_PATH}"), &spec.encode())?;
    }
    let archive_path = dir.path().join("boot.tar");
    let bytes = archive.finish()?;
    std::fs::write(&archive_path, &bytes).context("writing the boot archive")?;
    // The archive is held twice while the kernel unpacks it; leave room for programs.
    let needed_mib = 256 + 3 * (bytes.len() >> 20) as u32;
    let memory_mib = args.memory_mib.max(needed_mib);
    if let Some(ram) = shared_ram.as_mut() {
        ram.set_size(memory_mib)?;
    }
    let launch = Launch {
        dir: &dir,
        memory_mib,
        cmdline: &args.cmdline,
        console: "stdio,signal=off",
        modules: vec![(archive_path, "archive")],
        shared_ram: shared_ram.as_ref(),
    };
    let mut command = launch.command()?;
    if args.cpu_max {
        command.args(["-cpu", "max"]);
    }
    let status = command.status().context("starting qemu-system-x86_64")?;
    if let Some(log) = &args.log {
        let _ = std::fs::copy(launch.log_path(), log);
    }
    let code = launch.guest_exit_code(status)?;
    if !args.dirs.is_empty() {
        write_back(args, &snapshots, &launch.bulk_path(), shared_ram.as_ref())?;
    }
    Ok(ExitCode::from(code))
}

/// Applies the `--dir` trees the kernel sent on COM3 at power-off to the host directories.
fn write_back(
    args: &BootArgs,
    snapshots: &[crate::dirsync::Snapshot],
    bulk: &std::path::Path,
    ram: Option<&SharedRam>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(bulk).unwrap_or_default();
    let mut decoder = Decoder::new();
    decoder.push(&bytes);
    let mut trees = vec![Vec::new(); args.dirs.len()];
    let mut complete = false;
    while let Some(frame) = decoder.next_frame().map_err(|e| anyhow::anyhow!("{e}"))? {
        match frame {
            Frame::DirChunk { index, data } => trees
                .get_mut(index as usize)
                .context("the guest sent back a directory that was not shared")?
                .extend_from_slice(&data),
            Frame::DirInRam { index, runs } => {
                let ram = ram.context("the guest described RAM it does not share")?;
                trees
                    .get_mut(index as usize)
                    .context("the guest sent back a directory that was not shared")?
                    .extend_from_slice(&ram.read_runs(&runs)?);
            }
            Frame::Exit(_) => complete = true,
            _ => bail!("unexpected frame on the bulk-data port"),
        }
    }
    if !complete {
        eprintln!(
            "clew: the guest did not power off cleanly; changes under --dir were not written back"
        );
        return Ok(());
    }
    for ((mapping, tree), packed) in args.dirs.iter().zip(&trees).zip(snapshots) {
        crate::dirsync::apply(tree, &mapping.host, packed)
            .with_context(|| format!("writing back {}", mapping.host.display()))?;
    }
    Ok(())
}
