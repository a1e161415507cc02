//! `clew bench` mode (kernel command line word `bench`): runs every `/bench/NAME.wasm`
//! under the interpreter and its precompiled `/lib/cwasm/bench/NAME.cwasm` natively,
//! alternating, [`RUNS`] times each in this boot (the best time of each tier counts), checks
//! that every run prints the same output, and prints a table on the console: per-benchmark
//! wall times (spawn to exit of a loaded program), the native/interp
//! ratio, their geometric mean, and the spawn-to-exit latency of a precompiled hello
//! (`/bin/true`). Then powers off. The host side is `crates/clew/src/bench.rs`.

use crate::println;
use crate::process::{self, Program, RunOptions, Stdio};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use wasi::Stream;

/// One run's wall time (ns), exit code and stdout.
fn run_once(name: &str, program: Program) -> Result<(u64, i32, Vec<u8>), String> {
    let (mut r, w) = process::pipe();
    let ctx = process::new_ctx(
        crate::fs::shared(),
        alloc::vec![name.to_string()],
        Vec::new(),
        [
            Stdio::Null.into_stream(),
            Stdio::Pipe(w).into_stream(),
            Stdio::Null.into_stream(),
        ],
    );
    let t0 = crate::time::monotonic_ns();
    let pid = process::start(name.to_string(), program, ctx, RunOptions::default())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let st = process::wait(pid);
    Ok((crate::time::monotonic_ns() - t0, st.code, out))
}

fn load(path: &str) -> Result<Program, String> {
    let bytes = crate::fs::read_file(path).map_err(|e| format!("{path}: {e}"))?;
    process::load_program(&bytes).map_err(|e| format!("{path}: {e}"))
}

fn ms(ns: u64) -> String {
    format!("{}.{:01}", ns / 1_000_000, (ns / 100_000) % 10)
}

/// Runs per tier and benchmark; the fastest counts (the others met a noisy host).
const RUNS: usize = 3;

/// Loads and runs `name` under both tiers [`RUNS`] times, alternating; returns the best
/// interp and native times and whether every run printed the same and exited 0. Loading
/// is not timed; from the second run on it is a hit of the kernel's program cache in both
/// tiers (wasmi keeps the functions it translated, QEMU its translation of native code).
fn bench_one(name: &str) -> Result<(u64, u64, bool), String> {
    let mut best = (u64::MAX, u64::MAX);
    let mut reference: Option<Vec<u8>> = None;
    let mut same = true;
    for _ in 0..RUNS {
        let interp = load(&format!("/bench/{name}.wasm"))?;
        let (ti, ci, oi) = run_once(name, interp)?;
        let native = load(&format!("{}/bench/{name}.cwasm", process::NATIVE_CACHE))?;
        let (tn, cn, on) = run_once(name, native)?;
        let first = reference.get_or_insert_with(|| oi.clone());
        same &= ci == 0 && cn == 0 && oi == *first && on == *first;
        best = (best.0.min(ti), best.1.min(tn));
    }
    Ok((best.0, best.1, same))
}

/// The bench task's body.
pub fn run() {
    let mut names: Vec<String> = {
        let vfs = crate::fs::shared();
        let fs = vfs.lock();
        let root = fs.root();
        match fs.resolve(root, "/bench", true, false) {
            Ok(dir) => fs
                .read_dir(dir)
                .map(|entries| {
                    entries
                        .into_iter()
                        .filter_map(|e| e.name.strip_suffix(".wasm").map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    };
    names.sort();
    println!(
        "{:<10} {:>11} {:>11} {:>8}  output",
        "benchmark", "interp ms", "native ms", "ratio"
    );
    let mut log_sum = 0.0f64;
    let mut count = 0;
    for name in &names {
        match bench_one(name) {
            Ok((ti, tn, same)) => {
                let ratio = ti as f64 / (tn.max(1)) as f64;
                log_sum += libm::log(ratio);
                count += 1;
                println!(
                    "{:<10} {:>11} {:>11} {:>7.1}x  {}",
                    name,
                    ms(ti),
                    ms(tn),
                    ratio,
                    if same { "identical" } else { "DIFFERENT" }
                );
            }
            Err(e) => println!("{name:<10} error: {e}"),
        }
    }
    if count > 0 {
        println!(
            "geometric mean native/interp: {:.1}x over {count} benchmarks",
            libm::exp(log_sum / count as f64)
        );
    }
    // Spawn latency of a precompiled hello (`/bin/true` natively), loading included: the
    // first run deserializes the `.cwasm`, the next ones find it in the program cache.
    let mut first = None;
    let runs = 20;
    let mut total = 0;
    for _ in 0..=runs {
        let t0 = crate::time::monotonic_ns();
        match load(&format!("{}/bin/true.cwasm", process::NATIVE_CACHE))
            .and_then(|p| run_once("true", p))
        {
            Ok(_) => {
                let t = crate::time::monotonic_ns() - t0;
                if first.is_none() {
                    first = Some(t);
                } else {
                    total += t;
                }
            }
            Err(e) => {
                println!("spawn latency: {e}");
                break;
            }
        }
    }
    println!(
        "spawn latency (load .cwasm + spawn + run + exit of /bin/true, native): {} ms the first time, {} ms loaded",
        ms(first.unwrap_or(0)),
        ms(total / runs)
    );
    crate::power::off()
}
