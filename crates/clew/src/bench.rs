//! `clew bench`: the compute benchmarks of `bench/*.c` (a CoreMark-like mix of list,
//! matrix, state-machine and CRC work; SHA-256; n-body; a memory-bound pointer chase)
//! under both tiers in one boot. The boot archive carries each program as
//! `/bench/NAME.wasm` and its precompiled form as `/lib/cwasm/bench/NAME.cwasm` (through
//! the host cache, `baseline` profile, or `avx2` with `--cpu avx2`, which boots QEMU's
//! `max` CPU); the kernel's bench mode (`kernel/src/bench_mode.rs`,
//! command line word `bench`) runs them, checks that both tiers print the same output,
//! and prints the table (per-benchmark times, native/interp ratio, geometric mean, spawn
//! latency of a precompiled hello) on the console, which this command forwards.

use crate::archive::Archive;
use crate::qemu::{Launch, RunDir};
use anyhow::Context;
use std::process::ExitCode;

/// The benchmarks compiled from `bench/*.c` by build.rs.
mod programs {
    include!(concat!(env!("OUT_DIR"), "/bench.rs"));
}

/// Runs the benchmark suite in one boot and returns QEMU's mapped exit status.
pub fn run(args: &crate::cli::BenchArgs) -> anyhow::Result<ExitCode> {
    let profile = aot_config::CpuProfile::from_name(&args.cpu)
        .with_context(|| format!("unknown CPU profile `{}` (baseline or avx2)", args.cpu))?;
    if programs::BENCH.is_empty() {
        anyhow::bail!("this clew was built without clang: no benchmarks");
    }
    let dir = RunDir::new()?;
    let mut archive = Archive::new();
    archive.add_userland()?;
    for (name, wasm) in programs::BENCH {
        archive.add_file(&format!("/bench/{name}.wasm"), wasm)?;
        let cwasm = crate::compile::compile_cached(wasm, profile)
            .with_context(|| format!("precompiling bench/{name}.c"))?;
        archive.add_file(
            &format!("{}/bench/{name}.cwasm", crate::compile::GUEST_CWASM_DIR),
            &cwasm,
        )?;
    }
    let archive_path = dir.path().join("boot.tar");
    let bytes = archive.finish()?;
    std::fs::write(&archive_path, &bytes).context("writing the boot archive")?;
    let launch = Launch {
        dir: &dir,
        memory_mib: 1024 + 3 * (bytes.len() >> 20) as u32,
        cmdline: "bench",
        console: "stdio,signal=off",
        modules: vec![(archive_path, "archive")],
        shared_ram: None,
    };
    let mut command = launch.command()?;
    if profile == aot_config::CpuProfile::Avx2 {
        command.args(["-cpu", "max"]);
    }
    let status = command
        .stdin(std::process::Stdio::null())
        .status()
        .context("starting qemu-system-x86_64")?;
    if let Some(log) = &args.log {
        std::fs::copy(launch.log_path(), log)
            .with_context(|| format!("copying the kernel log to {}", log.display()))?;
    }
    Ok(ExitCode::from(launch.guest_exit_code(status)?))
}
