//! Deliberate power-off. Before the machine goes off, the `--dir` trees of `clew boot` are
//! sent back to the host tool on COM3 (listed in `/.clew-boot`, see `run_protocol`; when
//! the host shares guest RAM, as `Frame::DirInRam` descriptions of where the archives lie
//! in RAM, else as the archives themselves), and a
//! marker line is logged on COM2: the host tool cannot tell QEMU's exit after an ACPI
//! power-off from its exit after a guest reset (both are status 0 with `-no-reboot`), so it
//! looks for `clew: power off` in the log (`crates/clew`'s `qemu::POWEROFF_MARKER`).

use alloc::format;
use alloc::vec::Vec;
use run_protocol::{encode_chunked, Frame, RunSpec, BOOT_SPEC_PATH};

/// Sends the boot `--dir` trees home, logs the power-off marker and turns the machine off.
pub fn off() -> ! {
    write_back_boot_dirs();
    log::info!("clew: power off");
    hal::cpu::power_off()
}

/// Dumps every directory named in `/.clew-boot` as frames on COM3, then an `Exit` frame
/// that tells the host the list is complete. Nothing happens without that file (no
/// `--dir`, or not booted by `clew boot`).
fn write_back_boot_dirs() {
    let Ok(spec_bytes) = crate::fs::read_file(&format!("/{BOOT_SPEC_PATH}")) else {
        return;
    };
    let Ok(spec) = RunSpec::decode(&spec_bytes) else {
        log::error!("power: malformed {BOOT_SPEC_PATH}; --dir trees not written back");
        return;
    };
    let shared = crate::fs::shared();
    for (index, path) in spec.dirs.iter().enumerate() {
        let dump = {
            let fs = shared.lock();
            fs.resolve(fs.root(), path, true, false)
                .and_then(|ino| fs.dump_tar_changes(ino))
        };
        match dump {
            Ok(tar) => {
                let mut wire = Vec::new();
                let len = tar.len();
                if spec.shared_ram {
                    // Where the archive lies in RAM (the host shares it with QEMU and reads
                    // it after the power-off); leaked so nothing overwrites it before.
                    let runs = crate::memory::physical_runs(tar.leak());
                    for frame in run_protocol::dir_in_ram_frames(index as u32, &runs) {
                        frame.encode_into(&mut wire);
                    }
                } else {
                    encode_chunked(&tar, &mut wire, |data| Frame::DirChunk {
                        index: index as u32,
                        data,
                    });
                }
                hal::serial::COM3.write_bulk_emulated(&wire);
                log::info!(
                    "power: sent {path} back ({} KiB{})",
                    len / 1024,
                    if spec.shared_ram {
                        ", in shared RAM"
                    } else {
                        ""
                    }
                );
            }
            Err(e) => log::error!("power: cannot read back {path}: {e}"),
        }
    }
    let mut wire = Vec::new();
    Frame::Exit(0).encode_into(&mut wire);
    hal::serial::COM3.write_bulk_emulated(&wire);
}
