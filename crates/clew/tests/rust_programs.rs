//! Rust's std on Clew: the programs of `tests/rust/*.rs` (std only, self-checking with
//! `assert!`, so a failure is a panic and a trap) compiled by Debian's rustc 1.63 for
//! wasm32-wasi (`/usr/bin/rustc`, packages `rustc libstd-rust-dev-wasm32`; rustup's
//! toolchain builds everything else), each run in the four ways `clew run` can run a module
//! (`run.rs`'s ENGINES) with a fresh `--dir` per run. Exit codes, stdout and the files left
//! on the host are those `wasmtime run` (49) gives for the same programs.
//!
//! Modules are cached under Cargo's CARGO_TARGET_TMPDIR by a hash of the source, the flags
//! and `rustc -vV`. A missing rustc or wasm32-wasi std fails the tests (it is not a skip).

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const RUSTC: &str = "/usr/bin/rustc";
const RUSTC_FLAGS: [&str; 8] = [
    "--edition",
    "2021",
    "--target",
    "wasm32-wasi",
    "-C",
    "opt-level=2",
    "-C",
    "debug-assertions=on",
];
const INSTALL: &str = "apt-get install --no-install-recommends rustc libstd-rust-dev-wasm32";

/// The ways `clew run` can run a module, named: each engine, in the guest and on the host.
const ENGINES: [(&str, &[&str]); 4] = [
    ("guest-interp", &["--engine", "interp"]),
    ("guest-native", &["--engine", "native"]),
    ("host-interp", &["--host", "--engine", "interp"]),
    ("host-native", &["--host", "--engine", "native"]),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-programs")
}

/// A fresh scratch directory for `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = tmp_root()
        .join("runs")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `rustc -vV` of Debian's rustc, part of the cache key.
fn rustc_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let out = Command::new(RUSTC).arg("-vV").output().unwrap_or_else(|e| {
            panic!("cannot run {RUSTC} ({e}): the Rust program tests need Debian's rustc with the wasm32-wasi std: {INSTALL}")
        });
        assert!(out.status.success(), "{RUSTC} -vV failed: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// Compiles `tests/rust/NAME.rs` unless a module for the same source, flags and rustc is
/// cached.
fn compile(name: &str) -> PathBuf {
    let src_path = repo_root().join("tests/rust").join(format!("{name}.rs"));
    let src = std::fs::read(&src_path).unwrap();
    let mut keyed = rustc_version().as_bytes().to_vec();
    keyed.extend_from_slice(RUSTC_FLAGS.join(" ").as_bytes());
    keyed.push(0);
    keyed.extend_from_slice(name.as_bytes());
    keyed.push(0);
    keyed.extend_from_slice(&src);
    common::build_cached(&tmp_root(), name, &keyed, |tmp| {
        build(name, &src_path, tmp);
        Ok(())
    })
    .unwrap()
}

/// Builds `tests/rust/NAME.rs` (at `src_path`) into `tmp`; panics with the reason.
fn build(name: &str, src_path: &Path, tmp: &Path) {
    // Run from tests/rust, so that panic messages name `NAME.rs` wherever the checkout is.
    let result = Command::new(RUSTC)
        .current_dir(repo_root().join("tests/rust"))
        .args(RUSTC_FLAGS)
        .arg(format!("{name}.rs"))
        .arg("-o")
        .arg(tmp)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {RUSTC} ({e}): {INSTALL}"));
    let stderr = String::from_utf8_lossy(&result.stderr);
    if !result.status.success() {
        let hint = if stderr.contains("can't find crate for `std`") {
            format!("the wasm32-wasi std is missing: {INSTALL}\n")
        } else {
            String::new()
        };
        panic!("{hint}{RUSTC} failed on {}:\n{stderr}", src_path.display());
    }
    assert!(
        !stderr.contains("warning"),
        "{} compiles with warnings:\n{stderr}",
        src_path.display()
    );
}

/// One `clew run MODE OPTIONS... MODULE ARGS...` with `stdin` piped in.
fn clew_run(mode: &[&str], options: &[&str], wasm: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let wasm = wasm.to_str().expect("UTF-8 path");
    let mut line = vec!["run"];
    line.extend_from_slice(mode);
    line.extend_from_slice(options);
    line.push(wasm);
    line.extend_from_slice(args);
    common::clew(&line, stdin, &[])
}

/// Checks the exit code and stdout of `out` (a run in mode `label`).
fn check(label: &str, out: &Output, code: i32, stdout: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{label}: stderr:\n{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        stdout,
        "{label}: stdout differs; stderr:\n{stderr}"
    );
}

const FS_STDOUT: &str = r#"input: 3 lines, 17 bytes
link: -> input.txt
notes: ["first line", "second line", "third line, 3"]
metadata: len 37, file, mtime after 2020
set_len: 5 then 8
seek: "ab23456789\0\0\0\0\0X"
rename and hard_link: ok
errors: AlreadyExists, NotFound
made: copy.txt hard.txt new.txt renamed.txt seek.bin
root: input.txt link.txt made sub
"#;

#[test]
fn std_fs() {
    let wasm = compile("fs");
    let work = scratch("fs");
    for (label, mode) in ENGINES {
        let data = work.join(label);
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("input.txt"), "alpha\nbeta\ngamma\n").unwrap();
        std::fs::write(data.join("sub/old.txt"), "old\n").unwrap();
        std::os::unix::fs::symlink("input.txt", data.join("link.txt")).unwrap();
        let dir_arg = format!("{}::/data", data.display());
        let out = clew_run(mode, &["--dir", &dir_arg], &wasm, &["/data"], b"");
        check(label, &out, 0, FS_STDOUT);

        // What the program left on the host.
        let read = |rel: &str| std::fs::read(data.join(rel)).unwrap();
        let names = |rel: &str| {
            let mut v: Vec<String> = std::fs::read_dir(data.join(rel))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names(""),
            ["input.txt", "link.txt", "made", "sub"],
            "{label}"
        );
        assert!(names("sub").is_empty(), "{label}");
        assert_eq!(
            names("made"),
            ["copy.txt", "hard.txt", "new.txt", "renamed.txt", "seek.bin"],
            "{label}"
        );
        assert_eq!(read("input.txt"), b"alpha\nbeta\ngamma\n", "{label}");
        assert_eq!(
            std::fs::read_link(data.join("link.txt")).unwrap(),
            Path::new("input.txt"),
            "{label}"
        );
        assert_eq!(read("made/copy.txt"), b"alpha\nbeta\ngamma\n", "{label}");
        assert_eq!(read("made/new.txt"), b"new\n", "{label}");
        assert_eq!(read("made/seek.bin"), b"ab23456789\0\0\0\0\0X", "{label}");
        assert_eq!(
            read("made/renamed.txt"),
            b"renamed\nvia the hard link\n",
            "{label}"
        );
        // The hard link comes back as one: as under wasmtime, one inode with two names.
        let renamed = std::fs::metadata(data.join("made/renamed.txt")).unwrap();
        let hard = std::fs::metadata(data.join("made/hard.txt")).unwrap();
        assert_eq!(renamed.ino(), hard.ino(), "{label}: hard.txt is a copy");
        assert_eq!(renamed.nlink(), 2, "{label}");
    }
    let _ = std::fs::remove_dir_all(&work);
}

const ARGS: [&str; 5] = [
    "plain",
    "two words",
    "ünïcödé ✓ 日本",
    "",
    "--not-an-option",
];

const ARGS_ENV_STDOUT: &str = r#"arg 1: "plain" (5 bytes, 5 chars)
arg 2: "two words" (9 bytes, 9 chars)
arg 3: "ünïcödé ✓ 日本" (22 bytes, 12 chars)
arg 4: "" (0 bytes, 0 chars)
arg 5: "--not-an-option" (15 bytes, 15 chars)
env CLEW_EMPTY=""
env CLEW_EQ="a=b=c"
env CLEW_UNICODE="ζ∑ x"
set_var and remove_var: ok
"#;

#[test]
fn std_env_args_and_vars() {
    let wasm = compile("args_env");
    let env = [
        "--env",
        "CLEW_EMPTY=",
        "--env",
        "CLEW_EQ=a=b=c",
        "--env",
        "CLEW_UNICODE=ζ∑ x",
    ];
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &env, &wasm, &ARGS, b"");
        check(label, &out, 0, ARGS_ENV_STDOUT);
    }
}

/// 5000 lines "NAME VALUE", the last without a newline.
fn stdin_text() -> String {
    let names = [
        "alpha",
        "βeta",
        "gamma",
        "δelta",
        "épsilon",
        "zeta_long_name_here",
        "日本語",
    ];
    let lines: Vec<String> = (0..5000)
        .map(|i| format!("{}{i} {}", names[i % 7], i * 37 % 1000))
        .collect();
    lines.join("\n")
}

#[test]
fn std_io_stdin() {
    let wasm = compile("stdin");
    let input = stdin_text();
    let expected = "lines: 5000\nsum: 2497500\nlongest name: zeta_long_name_here1006\n\
                    non-ascii names: 2857\n";
    for (label, mode) in ENGINES {
        for how in ["lines", "all"] {
            let out = clew_run(mode, &[], &wasm, &[how], input.as_bytes());
            check(&format!("{label} {how}"), &out, 0, expected);
        }
    }
}

#[test]
fn std_io_large_stdout_and_stderr() {
    let wasm = compile("output");
    let lines = 16_384;
    let mut stdout = String::new();
    let mut stderr = String::new();
    for i in 0..lines {
        let letters: String = (0..53)
            .map(|k| (b'a' + ((i + k) % 26) as u8) as char)
            .collect();
        stdout.push_str(&format!("{i:08} {letters}.\n"));
        if i % 1000 == 999 {
            stderr.push_str(&format!("progress {}\n", i + 1));
        }
    }
    assert_eq!(stdout.len(), 1 << 20);
    stdout.push_str("done: 16384 lines, 1048576 bytes\n");
    stderr.push_str("stderr done\n");
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &["16384"], b"");
        assert_eq!(out.stdout.len(), stdout.len(), "{label}: stdout length");
        check(label, &out, 0, &stdout);
        assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{label}");
    }
}

#[test]
fn std_process_exit() {
    let wasm = compile("exit");
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &["42"], b"");
        check(label, &out, 42, "start\nno newline before exit");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "exiting with 42\n");
    }
}

#[test]
fn std_time_and_thread() {
    let wasm = compile("time");
    let expected = "wall clock: between 2020 and 2100\n\
                    instant: 10000 readings, never decreasing\n\
                    sleep(50 ms): at least 50 ms\n\
                    sleep(10 ms) x3, sleep(0): at least 30 ms\n\
                    thread spawn: Unsupported\n\
                    current thread: main\n";
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &[], b"");
        check(label, &out, 0, expected);
    }
}

#[test]
fn uncaught_panic_traps_with_134() {
    let wasm = compile("panic");
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &[], b"");
        check(label, &out, 134, "before the panic: [5, 10, 15]\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(
                "thread 'main' panicked at 'deliberate panic: dividing 7 by zero', \
                 panic.rs:9:17\n"
            ),
            "{label}:\n{stderr}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
        let bt = at("1: error while executing at wasm backtrace:");
        let trap = at("2: wasm trap: wasm `unreachable` instruction executed");
        let (Some(bt), Some(trap)) = (bt, trap) else {
            panic!("{label}: not the wasmtime wording:\n{stderr}");
        };
        assert!(bt < trap, "{label}:\n{stderr}");
        assert!(
            lines[bt + 1].trim_start().starts_with("0:")
                && lines[bt + 1].ends_with("!__rust_start_panic"),
            "{label}: innermost frame:\n{stderr}"
        );
        if label.ends_with("native") {
            // The whole stack, as wasmtime shows it, down to the program's main.
            assert!(
                lines[bt..trap]
                    .iter()
                    .any(|l| l.contains("!panic::main::h")),
                "{label}:\n{stderr}"
            );
        }
    }
}

#[test]
fn hashmap_with_random_state() {
    let wasm = compile("hashmap");
    let expected = "random states: differ\n\
                    words: 23 distinct of 39\n  the: 9\n  fox: 3\n  and: 2\n  dog: 2\n\
                    big map: 33332 entries, values sum 833316666\n\
                    sets: 500 evens, 334 threes, 167 both, 667 either\n";
    let mut hashes = Vec::new();
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &[], b"");
        check(label, &out, 0, expected);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.starts_with("hash of clew: "), "{label}: {stderr}");
        hashes.push(stderr);
    }
    // random_get seeds the keys: not the same hash in every run.
    hashes.sort();
    hashes.dedup();
    assert!(
        hashes.len() > 1,
        "the same RandomState in every run: {hashes:?}"
    );
}

const COMPUTE_STDOUT: &str = "sorted 100000: 9b4a331371ac9e7c -> 9809fb3c2475bd94
min 000009f7825226d7 median 807e3a51c6edcf88 max ffffeeb624949e72
stable sort: first of each key [14, 40, 21, 26, 7, 29, 4, 8, 2, 37, 15, 35, 0, 3, 32, 1]
u128: product bea2e9dcf1e2a752b9c9b7f6a506b0ad, 3^(1e9+7) mod (1e18+3) = 726773632119384109
sum of sqrt(1..=100000) = 21082008.973918, sum of sin = 1839.343386376
";

#[test]
fn compute() {
    let wasm = compile("compute");
    let max = format!("{}", f64::MAX);
    let expected = format!(
        "{COMPUTE_STDOUT}0.30000000000000004 0.3333333333333333 6.02214076e23 {max}\n\
         formatted 10000 numbers into 169328 bytes\n"
    );
    for (label, mode) in ENGINES {
        let out = clew_run(mode, &[], &wasm, &[], b"");
        check(label, &out, 0, &expected);
    }
}
