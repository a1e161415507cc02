//! `cargo bench -p clew --bench run`: what running a program on Clew costs, measured side
//! by side in one run (never in tests):
//! - time from starting `clew boot` to the first `clew> ` prompt;
//! - wall time of `clew run hello.wasm` end to end (QEMU start, boot, load, run, power-off)
//!   against `clew run --host` of the same module;
//! - the kernel's own figures, printed as `bench ...` lines by the in-kernel suite in one
//!   boot (`clew boot --cmdline test`): spawn-to-exit of a small program, the cost of fuel
//!   metering (the kill mechanism of the interpreter), kill latency, and the native tier's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 9;

fn clew() -> &'static str {
    env!("CARGO_BIN_EXE_clew")
}

fn compile_hello() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("clew-bench-hello-{}.wasm", std::process::id()));
    let status = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2"])
        .arg(root.join("tests/bench/hello.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("clang (install clang, lld, wasi-libc)");
    assert!(status.success());
    out
}

/// Median wall time of `clew ARGS` over `RUNS` runs (the output is checked each time).
fn median_wall(args: &[&str], expect: &str) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(clew())
                .args(args)
                .stdin(Stdio::null())
                .output()
                .expect("running clew");
            let elapsed = start.elapsed();
            assert_eq!(String::from_utf8_lossy(&out.stdout), expect, "{out:?}");
            elapsed
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

/// Median time from starting `clew boot` to its first prompt (then `poweroff`).
fn median_boot_to_prompt() -> Duration {
    use std::io::{Read, Write};
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let mut child = Command::new(clew())
                .arg("boot")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("running clew boot");
            let mut out = child.stdout.take().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 256];
            while !seen.windows(6).any(|w| w == b"clew> ") {
                let n = out.read(&mut buf).expect("reading the console");
                assert!(n > 0, "clew boot ended before its prompt");
                seen.extend_from_slice(&buf[..n]);
            }
            let elapsed = start.elapsed();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"poweroff\n").unwrap();
            drop(stdin);
            let _ = std::io::copy(&mut out, &mut std::io::sink());
            assert!(child.wait().unwrap().success());
            elapsed
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let boot = median_boot_to_prompt();
    println!(
        "clew boot to the first prompt (median of {RUNS}): {:.1} ms",
        boot.as_secs_f64() * 1e3
    );
    let hello = compile_hello();
    let hello = hello.to_str().unwrap();
    let expect = "hello from clew\n";
    println!("clew run, end to end (median of {RUNS}):");
    let guest = median_wall(&["run", "--engine", "interp", hello], expect);
    let host = median_wall(&["run", "--host", "--engine", "interp", hello], expect);
    println!(
        "  clew run hello.wasm (QEMU, boot, run, power-off): {:>8.1} ms",
        guest.as_secs_f64() * 1e3
    );
    println!(
        "  clew run --host hello.wasm (same WASI on the host): {:>6.1} ms",
        host.as_secs_f64() * 1e3
    );
    println!(
        "  ratio guest/host: {:.1}x",
        guest.as_secs_f64() / host.as_secs_f64()
    );

    println!("in-kernel figures (one boot of `clew boot --cmdline test`):");
    let out = Command::new(clew())
        .args(["boot", "--cmdline", "test"])
        .stdin(Stdio::null())
        .output()
        .expect("running clew boot");
    let console = String::from_utf8_lossy(&out.stdout);
    let mut found = 0;
    for line in console
        .lines()
        .filter(|l| l.trim_start().starts_with("bench "))
    {
        println!("  {}", line.trim().trim_start_matches("bench "));
        found += 1;
    }
    assert!(found > 0, "no bench lines from the kernel:\n{console}");
    let _ = std::fs::remove_file(hello);
}
