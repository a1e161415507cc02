//! End-to-end tests of the native tier from the host: `clew compile`, `clew run` of a
//! `.cwasm` inside Clew and on the host, `--engine auto` compiling a module the interpreter
//! cannot run (atomics), refusal of corrupt or foreign artifacts with a one-line error, and
//! the avx2 profile (QEMU `-cpu max`).
//! Each test uses its own cache directory (`XDG_CACHE_HOME`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh scratch directory for `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("native-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch dir");
    dir
}

/// Compiles C source `src` to `dir/name.wasm` with clang (extra flags appended).
fn c_to_wasm(dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).expect("writing C source");
    let out = dir.join(format!("{name}.wasm"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let status = Command::new(&clang)
        .args(["--target=wasm32-wasi", "-O2"])
        .args(flags)
        .arg(&c)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {clang}: {e}"));
    assert!(status.success(), "clang failed for {name}");
    out
}

fn clew(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .stdin(Stdio::null())
        .output()
        .expect("running clew")
}

const HELLO: &str = r#"#include <stdio.h>
int main(int argc, char **argv) {
    printf("hello %d\n", argc);
    volatile int z = argc - argc;
    if (argc > 2) return 100 / z;
    return 7;
}
"#;

const ATOMICS: &str = r#"#include <stdio.h>
#include <stdatomic.h>
int main(void) {
    _Atomic int x = 40;
    atomic_fetch_add(&x, 2);
    printf("atomic %d\n", (int)x);
    return 0;
}
"#;

#[test]
fn compile_then_run_in_clew_and_on_the_host() {
    let dir = scratch("compile");
    c_to_wasm(&dir, "hello", HELLO, &[]);
    let out = clew(&dir, &["compile", "hello.wasm", "-o", "hello.cwasm"]);
    assert!(out.status.success(), "clew compile: {out:?}");
    for host in [false, true] {
        let mut args = vec!["run"];
        if host {
            args.push("--host");
        }
        args.extend(["hello.cwasm", "a"]);
        let out = clew(&dir, &args);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello 2\n",
            "{args:?}"
        );
        // A trap: exit 134 and the wasm trap on stderr.
        args.push("b");
        let out = clew(&dir, &args);
        assert_eq!(out.status.code(), Some(134), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("integer divide by zero"), "{args:?}: {err}");
    }
}

#[test]
fn auto_compiles_what_the_interpreter_cannot_run() {
    let dir = scratch("auto");
    c_to_wasm(&dir, "atom", ATOMICS, &["-matomics", "-mbulk-memory"]);
    let out = clew(&dir, &["run", "--engine", "interp", "atom.wasm"]);
    assert_eq!(out.status.code(), Some(1), "interp: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs the native tier"),
        "interp: {out:?}"
    );
    // `--host` words it the same.
    let host = clew(&dir, &["run", "--host", "--engine", "interp", "atom.wasm"]);
    assert_eq!(host.status.code(), Some(1), "host interp: {host:?}");
    assert_eq!(
        String::from_utf8_lossy(&host.stderr),
        String::from_utf8_lossy(&out.stderr)
    );
    let cached = || {
        std::fs::read_dir(dir.join("cache/clew/cwasm"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(cached(), 0);
    // `--host --engine native` compiles through the same cache.
    let out = clew(&dir, &["run", "--host", "--engine", "native", "atom.wasm"]);
    assert_eq!(out.status.code(), Some(0), "host native: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "atomic 42\n");
    assert_eq!(cached(), 1, "host native did not cache");
    let out = clew(&dir, &["run", "atom.wasm"]);
    assert_eq!(out.status.code(), Some(0), "auto: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "atomic 42\n");
    // The guest used the same compiled module.
    assert_eq!(cached(), 1);
}

#[test]
fn bad_artifacts_are_one_line_errors() {
    let dir = scratch("bad");
    c_to_wasm(&dir, "hello", HELLO, &[]);
    let out = clew(&dir, &["compile", "hello.wasm"]);
    assert!(out.status.success(), "clew compile: {out:?}");
    let good = std::fs::read(dir.join("hello.cwasm")).expect("hello.cwasm");
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    let mut foreign = good.clone();
    foreign[16] = b'9';
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("corrupt", corrupt, "corrupt"),
        ("truncated", good[..good.len() / 3].to_vec(), "truncated"),
        ("foreign", foreign, "wasmtime 9"),
    ];
    for (name, bytes, want) in cases {
        let file = format!("{name}.cwasm");
        std::fs::write(dir.join(&file), bytes).expect("writing");
        for host in [false, true] {
            let mut args = vec!["run"];
            if host {
                args.push("--host");
            }
            args.push(&file);
            let out = clew(&dir, &args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            // The last cause (wasmtime's report ends with an empty line).
            let cause = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            assert!(cause.contains(want), "{args:?}: {err}");
        }
    }
    // The avx2 profile: `clew run` boots QEMU's `max` CPU for it, and the kernel enables
    // AVX state, so it runs.
    let out = clew(
        &dir,
        &["compile", "--cpu", "avx2", "hello.wasm", "-o", "avx2.cwasm"],
    );
    assert!(out.status.success(), "clew compile --cpu avx2: {out:?}");
    let out = clew(&dir, &["run", "avx2.cwasm"]);
    assert_eq!(out.status.code(), Some(7), "avx2 in the guest: {out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello 1\n");
}
