//! In-kernel tests of the native tier (issue 5): a precompiled module runs and talks WASI;
//! every proposal of `tests-wasm/features.wat` runs natively and `auto` picks native for
//! it; every fault class of `tests-wasm/faults.wat` traps under both tiers, 1000 times
//! each in one store with no leaked frames; bad `.cwasm` files are refused with an error;
//! `kill` stops a native loop; and measurements printed as `bench` lines (native vs
//! interpreter on a compute loop, what epoch checks would cost, spawn latency).

use super::TestResult;
use crate::println;
use crate::process::{self, RunOptions, Spawn, Stdio};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use wasi::Stream;

const EXIT42_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/exit42.cwasm"));
const SPIN_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/spin.cwasm"));
const FEATURES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/features.wasm"));
const FEATURES_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/features.cwasm"));
const FAULTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/faults.wasm"));
const FAULTS_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/faults.cwasm"));
const LOOP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/loop.wasm"));
const LOOP_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/loop.cwasm"));
const LOOP_EPOCH_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/loop-epoch.cwasm"));
const SIMD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/simd.wasm"));
const SIMD_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/simd.cwasm"));
const SIMD_AVX2_CWASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/simd-avx2.cwasm"));

/// The fault classes of `faults.wat`: export, argument, expected words of the trap.
const FAULT_CLASSES: &[(&str, Option<i32>, &str)] = &[
    ("oob_load", None, "out of bounds"),
    ("oob_store", None, "out of bounds"),
    ("div_zero", Some(0), "divide by zero"),
    ("int_overflow", Some(-1), "overflow"),
    ("unreachable", None, "unreachable"),
    ("stack_overflow", Some(0), "stack"),
    ("null_call", None, ""),
    ("mistyped_call", None, ""),
];

fn ctx(argv: &[&str], out: Stdio, err: Stdio) -> wasi::WasiCtx {
    process::new_ctx(
        crate::fs::shared(),
        argv.iter().map(|s| s.to_string()).collect(),
        Vec::new(),
        [
            Stdio::Null.into_stream(),
            out.into_stream(),
            err.into_stream(),
        ],
    )
}

fn drain(mut r: process::PipeEnd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn run_program(
    name: &str,
    program: process::Program,
    opts: RunOptions,
) -> Result<(process::ExitStatus, Vec<u8>, Vec<u8>), String> {
    let (ro, wo) = process::pipe();
    let (re, we) = process::pipe();
    let c = ctx(&[name], Stdio::Pipe(wo), Stdio::Pipe(we));
    let pid = process::start(name.to_string(), program, c, opts).map_err(|e| e.to_string())?;
    let out = drain(ro);
    let err = drain(re);
    Ok((process::wait(pid), out, err))
}

/// (a) A precompiled module runs under wasmtime in the kernel, with WASI.
pub(super) fn native_hello() -> TestResult {
    let program = process::load_program(EXIT42_CWASM).map_err(|e| e.to_string())?;
    check!(program.tier() == "native", "tier {}", program.tier());
    let (st, out, _) = run_program("exit42", program, RunOptions::default())?;
    check!(st.code == 42, "exit code {} {:?}", st.code, st.trap);
    check!(out == b"hi\n", "stdout {:?}", String::from_utf8_lossy(&out));
    Ok(())
}

/// Every proposal runs natively; `auto` (spawn of the `.wasm`) picks the native tier
/// because a `.cwasm` lies beside it; without it the interpreter refuses the module.
pub(super) fn native_features() -> TestResult {
    let program = process::load_program(FEATURES_CWASM).map_err(|e| e.to_string())?;
    let (st, _, err) = run_program("features", program, RunOptions::default())?;
    check!(
        st.code == 0,
        "check {} failed ({:?} {})",
        st.code,
        st.trap,
        String::from_utf8_lossy(&err)
    );
    super::write_file("/tmp/knative/features.wasm", FEATURES)?;
    let spawn = |program: &str| {
        process::spawn(Spawn {
            program: program.to_string(),
            argv: vec!["features".to_string()],
            env: Vec::new(),
            cwd: "/".to_string(),
            stdio: [Stdio::Null, Stdio::Null, Stdio::Null],
        })
    };
    match spawn("/tmp/knative/features.wasm") {
        Err(process::SpawnError::NeedsNative(_)) => {}
        other => return Err(format!("interpreter alone: {:?}", other.map(|_| ()))),
    }
    super::write_file("/tmp/knative/features.cwasm", FEATURES_CWASM)?;
    let pid = spawn("/tmp/knative/features.wasm").map_err(|e| e.to_string())?;
    let st = process::wait(pid);
    check!(
        st.code == 0,
        "auto: check {} failed ({:?})",
        st.code,
        st.trap
    );
    Ok(())
}

/// Corrupt, truncated, foreign and non-artifact inputs are errors, never crashes.
pub(super) fn native_bad_cwasm() -> TestResult {
    let mut corrupt = EXIT42_CWASM.to_vec();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x55;
    let mut foreign = EXIT42_CWASM.to_vec();
    foreign[16] = b'9';
    let mut avx = EXIT42_CWASM.to_vec();
    avx[12] = 1; // claims the avx2 profile (the checksum covers only the payload)
    let cases: [(&str, &[u8], &str); 4] = [
        ("corrupt", &corrupt, "corrupt"),
        (
            "truncated",
            &EXIT42_CWASM[..EXIT42_CWASM.len() - 100],
            "truncated",
        ),
        ("foreign version", &foreign, "wasmtime 9"),
        ("other profile", &avx, "avx2"),
    ];
    let cpu_has_avx2 = crate::wasmtime_platform::detect_host_feature("avx2") == Some(true);
    for (what, bytes, want) in cases {
        if what == "other profile" && cpu_has_avx2 {
            continue; // this CPU runs the avx2 profile
        }
        match process::load_program(bytes) {
            Ok(_) => return Err(format!("{what}: loaded")),
            Err(e) => {
                let msg = e.to_string();
                check!(!msg.contains('\n'), "{what}: not one line: {msg}");
                check!(msg.contains(want), "{what}: {msg}");
            }
        }
    }
    Ok(())
}

/// Every fault class traps in both tiers with exit 134 and a one-line diagnosis.
pub(super) fn native_fault_classes() -> TestResult {
    for (export, arg, words) in FAULT_CLASSES {
        for tier in ["interp", "native"] {
            let program = match tier {
                "interp" => process::load_program(FAULTS),
                _ => process::load_program(FAULTS_CWASM),
            }
            .map_err(|e| e.to_string())?;
            let opts = RunOptions {
                invoke: Some(export.to_string()),
                invoke_args: arg.map(|a| vec![a.to_string()]).unwrap_or_default(),
                ..RunOptions::default()
            };
            let (st, _, err) = run_program("faults", program, opts)?;
            let err = String::from_utf8_lossy(&err).to_string();
            check!(
                st.code == process::TRAP_EXIT,
                "{export} ({tier}): exit {} {err}",
                st.code
            );
            let line = st.trap.clone().unwrap_or_default();
            check!(
                line.contains(words) && !line.contains('\n'),
                "{export} ({tier}): diagnosis {line:?}"
            );
            if tier == "native" {
                println!("  {export}: {}", err.trim_end());
            }
        }
    }
    Ok(())
}

/// Frames in use, counting heap growth as use (the heap never shrinks).
fn frames_in_use() -> i64 {
    let s = crate::memory::stats();
    s.usable_frames as i64 - s.free_frames as i64 - (s.heap_size as i64 / 4096)
}

/// 1000 traps of each class in one native store; the kernel stays up, no frames leak.
pub(super) fn native_trap_repetitions() -> TestResult {
    trap_repetitions(true)
}

/// 1000 traps of each class in one interpreter store; the kernel stays up, no frames leak.
pub(super) fn interp_trap_repetitions() -> TestResult {
    trap_repetitions(false)
}

fn trap_repetitions(native: bool) -> TestResult {
    const N: usize = 1000;
    // Warm up (engine, lazy structures), then measure.
    repeat_traps(1, native)?;
    let before = frames_in_use();
    let t0 = crate::time::monotonic_ns();
    repeat_traps(N, native)?;
    let ms = (crate::time::monotonic_ns() - t0) / 1_000_000;
    let after = frames_in_use();
    println!(
        "  {} traps in {ms} ms; frames in use before {before}, after {after}",
        N * FAULT_CLASSES.len()
    );
    check!(after - before <= 16, "{} frames leaked", after - before);
    Ok(())
}

/// Runs the repetitions in a task with a process-sized stack (the wasm stack limit
/// is 512 KiB; test tasks have less).
fn repeat_traps(n: usize, native: bool) -> TestResult {
    let result: alloc::sync::Arc<spin::Mutex<Option<TestResult>>> = Default::default();
    let r2 = result.clone();
    let t = crate::task::spawn_with_stack("trap-loop", process::PROCESS_STACK, move || {
        *r2.lock() = Some(if native {
            repeat_native_traps(n)
        } else {
            repeat_interp_traps(n)
        });
    })
    .map_err(|e| format!("{e:?}"))?;
    let exit = crate::task::join(t);
    let r = result.lock().take();
    r.unwrap_or_else(|| Err(format!("trap loop task ended without a result: {exit:?}")))
}

/// Native: one store, the handlers of this task installed once.
fn repeat_native_traps(n: usize) -> TestResult {
    let engine = process::native::engine().map_err(|e| e.to_string())?;
    let (module, _) = crate::wasmtime_platform::load_module(engine, FAULTS_CWASM)?;
    let _traps = crate::wasmtime_platform::NativeTraps::install(alloc::sync::Arc::new(|| false));
    let mut store = wasmtime::Store::new(engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).map_err(|e| format!("{e}"))?;
    for (export, arg, _) in FAULT_CLASSES {
        let f = instance
            .get_func(&mut store, export)
            .ok_or("missing export")?;
        let params: Vec<wasmtime::Val> = arg.iter().map(|a| wasmtime::Val::I32(*a)).collect();
        let mut results = vec![wasmtime::Val::I32(0); f.ty(&store).results().len()];
        let t0 = crate::time::monotonic_ns();
        for i in 0..n {
            match f.call(&mut store, &params, &mut results) {
                Err(e) if e.downcast_ref::<wasmtime::Trap>().is_some() => {}
                other => return Err(format!("native {export} #{i}: {:?}", other.err())),
            }
        }
        if n > 1 {
            let us = (crate::time::monotonic_ns() - t0) / 1000 / n as u64;
            println!("  {export}: {us} us per trap");
        }
    }
    Ok(())
}

/// Interpreter: one store.
fn repeat_interp_traps(n: usize) -> TestResult {
    let marked = process::compile(FAULTS).map_err(|e| e.to_string())?;
    let wmodule = marked.module();
    let mut wstore = wasmi::Store::new(wmodule.engine(), ());
    let _ = wstore.set_fuel(u64::MAX / 2);
    let winst = wasmi::Linker::<()>::new(wmodule.engine())
        .instantiate_and_start(&mut wstore, wmodule)
        .map_err(|e| format!("{e}"))?;
    for (export, arg, _) in FAULT_CLASSES {
        let f = winst.get_func(&wstore, export).ok_or("missing export")?;
        let params: Vec<wasmi::Val> = arg.iter().map(|a| wasmi::Val::I32(*a)).collect();
        let mut results = vec![wasmi::Val::I32(0); f.ty(&wstore).results().len()];
        let t0 = crate::time::monotonic_ns();
        for i in 0..n {
            if f.call(&mut wstore, &params, &mut results).is_ok() {
                return Err(format!("interp {export} #{i}: no trap"));
            }
        }
        if n > 1 {
            let us = (crate::time::monotonic_ns() - t0) / 1000 / n as u64;
            println!("  {export}: {us} us per trap");
        }
    }
    Ok(())
}

/// Several native processes load, instantiate and run at once (preempted anywhere,
/// wasmtime's locks contended): all finish correctly.
pub(super) fn native_concurrent() -> TestResult {
    let mut tasks = Vec::new();
    let results: alloc::sync::Arc<spin::Mutex<Vec<Result<i32, String>>>> = Default::default();
    for i in 0..8 {
        let r = results.clone();
        let t = crate::task::spawn(&format!("loader{i}"), move || {
            let res = (|| {
                let program = process::load_program(FEATURES_CWASM).map_err(|e| e.to_string())?;
                let c = ctx(&["features"], Stdio::Null, Stdio::Null);
                let pid = process::start("features".to_string(), program, c, RunOptions::default())
                    .map_err(|e| e.to_string())?;
                Ok(process::wait(pid).code)
            })();
            r.lock().push(res);
        })
        .map_err(|e| format!("{e:?}"))?;
        tasks.push(t);
    }
    for t in tasks {
        let _ = crate::task::join(t);
    }
    let results = results.lock();
    check!(results.len() == 8, "{} of 8 finished", results.len());
    for r in results.iter() {
        check!(*r == Ok(0), "a concurrent run: {r:?}");
    }
    Ok(())
}

/// Loading the same bytes twice gives the same program (the kernel's program cache);
/// other bytes give another one.
pub(super) fn program_cache() -> TestResult {
    let a = process::load_program(LOOP_CWASM).map_err(|e| e.to_string())?;
    let b = process::load_program(LOOP_CWASM).map_err(|e| e.to_string())?;
    let c = process::load_program(SPIN_CWASM).map_err(|e| e.to_string())?;
    match (a, b, c) {
        (process::Program::Native(a), process::Program::Native(b), process::Program::Native(c)) => {
            check!(
                wasmtime::Module::same(&a.module, &b.module),
                "same bytes, another module"
            );
            check!(
                !wasmtime::Module::same(&a.module, &c.module),
                "other bytes, the same module"
            );
        }
        _ => return Err("a .cwasm did not load natively".into()),
    }
    // A program still runs after being reused.
    let (st, _, _) = run_program(
        "loop",
        process::load_program(LOOP).map_err(|e| e.to_string())?,
        RunOptions {
            invoke: Some("run".to_string()),
            invoke_args: vec!["1000".to_string()],
            ..RunOptions::default()
        },
    )?;
    check!(st.code == 0, "cached interp program: exit {}", st.code);
    Ok(())
}

/// Vector state survives preemption: three native processes run `simd.wat`'s loop (eight
/// v128 values live across every iteration) at once, so the timer switches between them
/// mid-loop many times, and each must print what the interpreter prints alone. With AVX
/// enabled (QEMU `-cpu max`) the `avx2`-profile code runs (VEX encodings, YMM state saved
/// by the interrupt stubs); otherwise the baseline code (SSE state).
pub(super) fn native_avx_preemption() -> TestResult {
    const ITERATIONS: &str = "500000";
    let avx = crate::wasmtime_platform::detect_host_feature("avx2") == Some(true);
    let (profile, cwasm) = if avx {
        ("avx2", SIMD_AVX2_CWASM)
    } else {
        ("baseline", SIMD_CWASM)
    };
    let opts = || RunOptions {
        invoke: Some("run".to_string()),
        invoke_args: vec![ITERATIONS.to_string()],
        ..RunOptions::default()
    };
    let mut running = Vec::new();
    let t0 = crate::time::monotonic_ns();
    for _ in 0..3 {
        let program = process::load_program(cwasm).map_err(|e| e.to_string())?;
        let (ro, wo) = process::pipe();
        let c = ctx(&["simd"], Stdio::Pipe(wo), Stdio::Null);
        let pid =
            process::start("simd".to_string(), program, c, opts()).map_err(|e| e.to_string())?;
        running.push((pid, ro));
    }
    let mut outputs = Vec::new();
    for (pid, ro) in running {
        let out = drain(ro);
        let st = process::wait(pid);
        check!(st.code == 0, "native simd exit {} {:?}", st.code, st.trap);
        outputs.push(out);
    }
    let native_ms = (crate::time::monotonic_ns() - t0) / 1_000_000;
    let t1 = crate::time::monotonic_ns();
    let interp = process::load_program(SIMD).map_err(|e| e.to_string())?;
    let (st, expected, _) = run_program("simd", interp, opts())?;
    let interp_ms = (crate::time::monotonic_ns() - t1) / 1_000_000;
    check!(
        st.code == 0,
        "interpreted simd exit {} {:?}",
        st.code,
        st.trap
    );
    for out in &outputs {
        check!(
            *out == expected,
            "{profile} code preempted: {:?}, the interpreter: {:?}",
            String::from_utf8_lossy(out),
            String::from_utf8_lossy(&expected)
        );
    }
    println!(
        "  {profile} profile: 3 concurrent native runs in {native_ms} ms ({} ticks), all {} (interpreter alone: {interp_ms} ms)",
        native_ms / crate::time::MS_PER_TICK,
        String::from_utf8_lossy(&expected).trim()
    );
    Ok(())
}

/// `kill` stops a native process in a loop that never calls WASI (the timer sends its
/// code to the kill site: `wasmtime_platform::on_timer_tick`).
pub(super) fn native_kill_loop() -> TestResult {
    let program = process::load_program(SPIN_CWASM).map_err(|e| e.to_string())?;
    let c = ctx(&["spin"], Stdio::Null, Stdio::Null);
    let pid = process::start("spin".to_string(), program, c, RunOptions::default())
        .map_err(|e| e.to_string())?;
    crate::task::sleep_ms(50);
    let t0 = crate::time::monotonic_ns();
    process::kill(pid).map_err(|e| e.to_string())?;
    let st = process::wait(pid);
    let us = (crate::time::monotonic_ns() - t0) / 1000;
    check!(
        st.code == process::KILLED_EXIT,
        "exit {} {:?}",
        st.code,
        st.trap
    );
    println!("bench native_kill_latency: {us} us from kill to wait");
    Ok(())
}

fn time_loop(program: process::Program, n: i32) -> Result<u64, String> {
    let opts = RunOptions {
        invoke: Some("run".to_string()),
        invoke_args: vec![n.to_string()],
        ..RunOptions::default()
    };
    let t0 = crate::time::monotonic_ns();
    let (st, _, _) = run_program("loop", program, opts)?;
    check!(st.code == 0, "loop exit {} {:?}", st.code, st.trap);
    Ok(crate::time::monotonic_ns() - t0)
}

/// Measurements: native vs interpreter on a compute loop, what epoch checks would cost, spawn
/// latency of a precompiled module.
pub(super) fn native_bench() -> TestResult {
    let n = 20_000_000;
    let interp = time_loop(process::load_program(LOOP).map_err(|e| e.to_string())?, n)?;
    let native = time_loop(
        process::load_program(LOOP_CWASM).map_err(|e| e.to_string())?,
        n,
    )?;
    println!(
        "bench native_vs_interp: {n} LCG iterations: interp {} ms, native {} ms, ratio {}.{}x",
        interp / 1_000_000,
        native / 1_000_000,
        interp / native.max(1),
        (interp * 10 / native.max(1)) % 10
    );
    // What epoch checks would cost: the same loop compiled with them, on an engine with
    // them (Clew's code has none; the timer stops killed processes instead).
    let mut config = aot_config::config();
    config.epoch_interruption(true);
    let engine = crate::wasmtime_platform::new_engine_with(config)?;
    let (module, _) = crate::wasmtime_platform::load_module(&engine, LOOP_EPOCH_CWASM)?;
    let native_epoch = {
        let _traps =
            crate::wasmtime_platform::NativeTraps::install(alloc::sync::Arc::new(|| false));
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_epoch_deadline(u64::MAX / 2);
        let instance =
            wasmtime::Instance::new(&mut store, &module, &[]).map_err(|e| format!("{e}"))?;
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, "run")
            .map_err(|e| format!("{e}"))?;
        let t0 = crate::time::monotonic_ns();
        f.call(&mut store, n).map_err(|e| format!("{e}"))?;
        crate::time::monotonic_ns() - t0
    };
    println!(
        "bench epoch_cost: native as Clew runs it (no checks) {} ms, with epoch checks {} ms (+{}%)",
        native / 1_000_000,
        native_epoch / 1_000_000,
        (native_epoch as i64 - native as i64) * 100 / native.max(1) as i64
    );
    // Spawn latency of a precompiled hello (load + task + instantiate + run + wait).
    super::write_file("/tmp/knative/hello.cwasm", EXIT42_CWASM)?;
    let runs = 20;
    let t0 = crate::time::monotonic_ns();
    for _ in 0..runs {
        let pid = process::spawn(Spawn {
            program: "/tmp/knative/hello.cwasm".to_string(),
            argv: vec!["hello".to_string()],
            env: Vec::new(),
            cwd: "/".to_string(),
            stdio: [Stdio::Null, Stdio::Null, Stdio::Null],
        })
        .map_err(|e| e.to_string())?;
        check!(process::wait(pid).code == 42, "hello exit");
    }
    let per = (crate::time::monotonic_ns() - t0) / runs;
    println!(
        "bench native_spawn_to_exit: {}.{:03} ms per spawn+wait of a precompiled hello",
        per / 1_000_000,
        (per / 1000) % 1000
    );
    Ok(())
}
