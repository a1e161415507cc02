//! In-kernel tests of processes: pipe semantics, spawn to exit, traps and panics ending only
//! their process, kill of a compute loop, spawn errors; and two measurements printed as
//! `bench` lines (spawn-to-exit time, the cost of fuel metering).

use super::TestResult;
use crate::println;
use crate::process::{self, OpenMode, RunOptions, Spawn, Stdio};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use wasi::{Errno, Stream};

const EXIT42: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/exit42.wasm"));
const DIVZERO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/divzero.wasm"));
const SPIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/spin.wasm"));
const COUNT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/count.wasm"));
const THROW: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/throw.wasm"));

/// Writes the test modules into `/tmp/ktest/` (once).
fn install() -> Result<(), String> {
    for (name, bytes) in [
        ("exit42", EXIT42),
        ("divzero", DIVZERO),
        ("spin", SPIN),
        ("count", COUNT),
        ("throw", THROW),
        ("notwasm", b"#!/bin/sh\necho hi\n".as_slice()),
    ] {
        super::write_file(&format!("/tmp/ktest/{name}"), bytes)?;
    }
    Ok(())
}

fn spec(name: &str, stdio: [Stdio; 3]) -> Spawn {
    Spawn {
        program: format!("/tmp/ktest/{name}"),
        argv: vec![name.to_string()],
        env: Vec::new(),
        cwd: "/".to_string(),
        stdio,
    }
}

/// Reads a pipe's read end to EOF.
fn drain(mut r: process::PipeEnd) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

pub(super) fn pipe_semantics() -> TestResult {
    let (mut r, mut w) = process::pipe();
    check!(w.write(b"abc") == Ok(3), "write to an open pipe");
    let mut buf = [0u8; 8];
    check!(
        r.read(&mut buf) == Ok(3) && &buf[..3] == b"abc",
        "read back"
    );
    // A second writer keeps the pipe open; EOF only when both are gone.
    let w2 = w.clone();
    drop(w);
    check!(!r.read_ready(), "no data, a writer left: not ready");
    drop(w2);
    check!(r.read(&mut buf) == Ok(0), "EOF after every writer dropped");
    // EPIPE once the reader is gone.
    let (r, mut w) = process::pipe();
    drop(r);
    check!(w.write(b"x") == Err(Errno::Pipe), "EPIPE without a reader");
    // A writer blocks when the buffer is full until a reader drains it (concurrently).
    let (r, mut w) = process::pipe();
    let total = process::stdio_pipe_capacity() * 3 + 123;
    let t = crate::task::spawn("pipe-writer", move || {
        let data = vec![7u8; total];
        let _ = w.write(&data);
    })
    .map_err(|e| format!("{e:?}"))?;
    let got = drain(r).map_err(|e| format!("{e:?}"))?;
    let _ = crate::task::join(t);
    check!(got.len() == total, "read {} of {total} bytes", got.len());
    Ok(())
}

pub(super) fn spawn_to_exit() -> TestResult {
    install()?;
    let (r, w) = process::pipe();
    let pid = process::spawn(spec("exit42", [Stdio::Null, Stdio::Pipe(w), Stdio::Null]))
        .map_err(|e| e.to_string())?;
    let out = drain(r).map_err(|e| format!("{e:?}"))?;
    let st = process::wait(pid);
    check!(st.code == 42, "exit code {} (want 42)", st.code);
    check!(st.trap.is_none(), "unexpected trap {:?}", st.trap);
    check!(out == b"hi\n", "stdout {:?}", String::from_utf8_lossy(&out));
    // Measurement: spawn-to-exit of this small program, averaged.
    let runs = 20;
    let t0 = crate::time::monotonic_ns();
    for _ in 0..runs {
        let pid = process::spawn(spec("exit42", [Stdio::Null, Stdio::Null, Stdio::Null]))
            .map_err(|e| e.to_string())?;
        check!(
            process::wait(pid).code == 42,
            "exit code in the timing loop"
        );
    }
    let per = (crate::time::monotonic_ns() - t0) / runs;
    println!(
        "bench spawn_to_exit: {}.{:03} ms per spawn+wait of a small module ({runs} runs)",
        per / 1_000_000,
        (per / 1000) % 1000
    );
    Ok(())
}

pub(super) fn redirect_to_file() -> TestResult {
    install()?;
    let f = process::open_file("out.txt", "/tmp/ktest", OpenMode::Truncate)
        .map_err(|e| format!("{e:?}"))?;
    let pid = process::spawn(spec("exit42", [Stdio::Null, Stdio::File(f), Stdio::Null]))
        .map_err(|e| e.to_string())?;
    check!(process::wait(pid).code == 42, "exit code");
    let f = process::open_file("/tmp/ktest/out.txt", "/", OpenMode::Append)
        .map_err(|e| format!("{e:?}"))?;
    let pid = process::spawn(spec("exit42", [Stdio::Null, Stdio::File(f), Stdio::Null]))
        .map_err(|e| e.to_string())?;
    check!(process::wait(pid).code == 42, "exit code");
    let text = crate::fs::read_file("/tmp/ktest/out.txt").map_err(|e| e.to_string())?;
    check!(
        *text == *b"hi\nhi\n",
        "file holds {:?}",
        String::from_utf8_lossy(&text)
    );
    check!(
        process::open_file("missing", "/tmp", OpenMode::Read).err() == Some(Errno::Noent),
        "< of a missing file is ENOENT"
    );
    Ok(())
}

pub(super) fn trap_dies_alone() -> TestResult {
    install()?;
    let (r, w) = process::pipe();
    let pid = process::spawn(spec("divzero", [Stdio::Null, Stdio::Null, Stdio::Pipe(w)]))
        .map_err(|e| e.to_string())?;
    let err = drain(r).map_err(|e| format!("{e:?}"))?;
    let st = process::wait(pid);
    check!(st.code == process::TRAP_EXIT, "exit code {}", st.code);
    let line = String::from_utf8_lossy(&err).to_string();
    check!(
        line.starts_with("clew: divzero: trap: integer divide by zero"),
        "diagnosis {line:?}"
    );
    check!(
        st.trap
            .as_deref()
            .is_some_and(|t| t.contains("divide by zero")),
        "status trap {:?}",
        st.trap
    );
    // The kernel (this task) and other processes carry on.
    let pid = process::spawn(spec("exit42", [Stdio::Null, Stdio::Null, Stdio::Null]))
        .map_err(|e| e.to_string())?;
    check!(process::wait(pid).code == 42, "a process after the trap");
    Ok(())
}

pub(super) fn kill_compute_loop() -> TestResult {
    install()?;
    let pid = process::spawn(spec("spin", [Stdio::Null, Stdio::Null, Stdio::Null]))
        .map_err(|e| e.to_string())?;
    crate::task::sleep_ms(50);
    check!(process::try_wait(pid).is_none(), "spin ended by itself");
    check!(
        process::list()
            .iter()
            .any(|p| p.pid == pid && p.name == "spin"),
        "spin not listed"
    );
    let t0 = crate::time::monotonic_ns();
    process::kill(pid).map_err(|e| e.to_string())?;
    let st = process::wait(pid);
    let ms = (crate::time::monotonic_ns() - t0) / 1_000_000;
    check!(st.code == process::KILLED_EXIT, "exit code {}", st.code);
    check!(process::kill(pid).is_err(), "kill of a reaped process");
    println!("bench kill_latency: {ms} ms from kill() to wait() returning");
    // Ctrl-C path: the foreground process is interrupted.
    let pid = process::spawn(spec("spin", [Stdio::Null, Stdio::Null, Stdio::Null]))
        .map_err(|e| e.to_string())?;
    process::set_foreground(Some(pid));
    crate::task::sleep_ms(20);
    check!(process::interrupt_foreground(), "no foreground process");
    let st = process::wait(pid);
    check!(
        st.code == process::INTERRUPTED_EXIT,
        "Ctrl-C exit code {}",
        st.code
    );
    check!(process::foreground().is_none(), "foreground cleared");
    Ok(())
}

/// A stream whose writes panic: stands for a bug in kernel code serving a process.
struct PanickingStream;

impl Stream for PanickingStream {
    fn write(&mut self, _buf: &[u8]) -> Result<usize, Errno> {
        panic!("deliberate panic in a host call (test)");
    }
}

pub(super) fn host_panic_becomes_trap() -> TestResult {
    install()?;
    let (r, w) = process::pipe();
    let pid = process::spawn(spec(
        "exit42",
        [
            Stdio::Null,
            Stdio::Custom(Box::new(PanickingStream)),
            Stdio::Pipe(w),
        ],
    ))
    .map_err(|e| e.to_string())?;
    let err = drain(r).map_err(|e| format!("{e:?}"))?;
    let st = process::wait(pid);
    check!(st.code != 42 && st.code != 0, "exit code {}", st.code);
    check!(
        st.trap.as_deref().is_some_and(|t| t.contains("panic")),
        "status trap {:?}",
        st.trap
    );
    let line = String::from_utf8_lossy(&err).to_string();
    check!(
        line.contains("panic in a WASI host function"),
        "diagnosis {line:?}"
    );
    Ok(())
}

pub(super) fn spawn_errors() -> TestResult {
    install()?;
    let null = || [Stdio::Null, Stdio::Null, Stdio::Null];
    let e = process::spawn(spec("missing", null())).err();
    check!(e == Some(process::SpawnError::NotFound), "missing: {e:?}");
    let e = process::spawn(spec("notwasm", null())).err();
    check!(e == Some(process::SpawnError::NotWasm), "notwasm: {e:?}");
    match process::spawn(spec("throw", null())) {
        Err(e @ process::SpawnError::NeedsNative(_)) => {
            let text = e.to_string();
            check!(text.starts_with("needs the native tier"), "message {text}");
        }
        other => return Err(format!("throw: {other:?}")),
    }
    Ok(())
}

/// Runs `count` (5M-iteration loop) with and without fuel metering, same module bytes,
/// same boot; prints the times and the ratio.
pub(super) fn fuel_cost() -> TestResult {
    let time = |fuel: bool| -> Result<u64, String> {
        let module = if fuel {
            process::compile(COUNT)
        } else {
            process::compile_no_fuel(COUNT)
        }
        .map_err(|e| e.to_string())?;
        let ctx = process::new_ctx(
            crate::fs::shared(),
            vec!["count".to_string()],
            Vec::new(),
            [
                Box::new(process::NullStream),
                Box::new(process::NullStream),
                Box::new(process::NullStream),
            ],
        );
        let opts = RunOptions {
            no_fuel: !fuel,
            ..RunOptions::default()
        };
        let t0 = crate::time::monotonic_ns();
        let pid =
            process::start("count".to_string(), module, ctx, opts).map_err(|e| e.to_string())?;
        let st = process::wait(pid);
        let ns = crate::time::monotonic_ns() - t0;
        if st.code != 0 {
            return Err(format!("count exited {}", st.code));
        }
        Ok(ns)
    };
    // Interleave to even out noise from the shared host; keep the best of three each.
    let mut on = u64::MAX;
    let mut off = u64::MAX;
    for _ in 0..3 {
        off = off.min(time(false)?);
        on = on.min(time(true)?);
    }
    println!(
        "bench fuel_cost: 5M-iteration loop {} ms without fuel, {} ms with fuel (slice {}): {}.{:02}x",
        off / 1_000_000,
        on / 1_000_000,
        process::FUEL_SLICE,
        on / off.max(1),
        (on * 100 / off.max(1)) % 100
    );
    Ok(())
}
