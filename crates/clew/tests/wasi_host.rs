//! WASI preview1 on the host: runs every case of `tests/wasi/cases.toml` (C programs from
//! `tests/wasi/*.c`, compiled with clang for wasm32-wasi) through `clew run --host`, once with
//! `--engine interp` (wasmi) and once with `--engine native` (wasmtime), and compares stdout,
//! stderr, the exit code and the state of the `--dir` trees on the host afterwards, byte for
//! byte, with `tests/wasi/expected/`; then once more inside the kernel through `clew run`
//! (`guest-interp`, `guest-native`), with the same expectations. The expectations come from the reference runtime
//! (`tests/tools/gen_expected.py`, wasmtime from PyPI) or, where it departs from the witx,
//! were written by hand (see `tests/wasi/COVERAGE.md`). Every mismatch of every case is
//! reported, not just the first.
//!
//! Compiled modules are cached by content hash under the cargo target dir; clang is only
//! needed when a program or `common.h` changed. Set `CLEW_WASI_CASES=a,b` to run only some
//! cases.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CLANG_FLAGS: [&str; 2] = ["--target=wasm32-wasi", "-O2"];
/// Files whose mtime is older than this (2001-01-01, in ns) had it set by the test: the tree
/// shows it.
const OLD_MTIME_NS: i128 = 978_307_200 * 1_000_000_000;
/// Longest a single case may run.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wasi_dir() -> PathBuf {
    repo_root().join("tests/wasi")
}

fn scratch_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wasi-tests")
}

/// One `[[case]]` of the manifest.
#[derive(Debug, Default, Clone)]
struct Case {
    name: String,
    wasm: String,
    args: Vec<String>,
    env: Vec<String>,
    dirs: Vec<String>,
    stdin: Option<String>,
    argv0: Option<String>,
    flags: Vec<String>,
    stderr_any: bool,
}

/// Parses the TOML subset `cases.toml` is written in: `[[case]]` headers, `key = "string"`
/// and `key = ["string", ...]` on one line, `#` comments.
fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let mut cases: Vec<Case> = Vec::new();
    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |m: &str| format!("cases.toml:{}: {m}: {raw}", lineno + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[case]]" {
            cases.push(Case::default());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| err("expected key = value"))?;
        let (key, value) = (key.trim(), value.trim());
        let case = cases.last_mut().ok_or_else(|| err("key before [[case]]"))?;
        let mut rest = value;
        let mut strings = Vec::new();
        let is_array = rest.starts_with('[');
        if is_array {
            rest = rest[1..].trim_start();
        }
        loop {
            if is_array && rest.starts_with(']') {
                rest = rest[1..].trim_start();
                break;
            }
            let (s, after) = parse_string(rest).ok_or_else(|| err("bad string"))?;
            strings.push(s);
            rest = after.trim_start();
            if !is_array {
                break;
            }
            if let Some(r) = rest.strip_prefix(',') {
                rest = r.trim_start();
            } else if !rest.starts_with(']') {
                return Err(err("expected , or ]"));
            }
        }
        if !rest.is_empty() && !rest.starts_with('#') {
            return Err(err("trailing characters"));
        }
        let one = || -> Result<String, String> {
            if is_array {
                Err(err("expected a string"))
            } else {
                Ok(strings[0].clone())
            }
        };
        match key {
            "name" => case.name = one()?,
            "wasm" => case.wasm = one()?,
            "stdin" => case.stdin = Some(one()?),
            "argv0" => case.argv0 = Some(one()?),
            "stderr" => case.stderr_any = one()? == "any",
            "reference_differs" | "note" => {
                one()?;
            }
            "args" | "env" | "dirs" | "flags" if is_array => {
                let v = match key {
                    "args" => &mut case.args,
                    "env" => &mut case.env,
                    "flags" => &mut case.flags,
                    _ => &mut case.dirs,
                };
                *v = strings;
            }
            _ => return Err(err("unknown key or wrong type")),
        }
    }
    for c in &cases {
        if c.name.is_empty() || c.wasm.is_empty() {
            return Err(format!("a case lacks name or wasm: {c:?}"));
        }
    }
    Ok(cases)
}

/// A TOML basic string at the start of `s`; returns it and the rest.
fn parse_string(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// The clang flags for program `name`: a `reactor_*` program is a reactor (`_initialize`
/// instead of `_start`), as `tests/tools/gen_expected.py` compiles it.
fn clang_flags(name: &str) -> Vec<&'static str> {
    let mut flags = CLANG_FLAGS.to_vec();
    if name.starts_with("reactor_") {
        flags.push("-mexec-model=reactor");
    }
    flags
}

/// Compiles `tests/wasi/NAME.c` unless a module for the same flags, source and `common.h` is
/// cached (the key is the same as `tests/tools/gen_expected.py`'s).
fn compile(name: &str) -> Result<PathBuf, String> {
    let src_path = wasi_dir().join(format!("{name}.c"));
    let src = std::fs::read(&src_path).map_err(|e| format!("{}: {e}", src_path.display()))?;
    let common = std::fs::read(wasi_dir().join("common.h")).map_err(|e| e.to_string())?;
    let flags = clang_flags(name);
    let mut keyed = flags.join(" ").into_bytes();
    keyed.push(0);
    keyed.extend_from_slice(&src);
    keyed.push(0);
    keyed.extend_from_slice(&common);
    common::build_cached(&scratch_dir(), name, &keyed, |tmp| {
        build(&flags, &src_path, tmp)
    })
}

/// Compiles the C program at `src_path` into `tmp` with clang `flags`.
fn build(flags: &[&str], src_path: &Path, tmp: &Path) -> Result<(), String> {
    let result = Command::new("clang")
        .args(flags)
        .arg("-I")
        .arg(wasi_dir())
        .arg(src_path)
        .arg("-o")
        .arg(tmp)
        .output();
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            return Err(format!(
                "cannot run clang ({e}): the WASI tests need clang with the wasm32-wasi target \
                 and wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32 \
                 or the clang-N/wasi-libc packages); CI installs them"
            ))
        }
    };
    if !output.status.success() {
        return Err(format!(
            "clang failed on {} (is wasi-libc installed?):\n{}",
            src_path.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// Copies a directory tree, recreating symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ft.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

fn escape(data: &[u8]) -> String {
    let mut out = String::new();
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// The host tree under `root`, in the format of `tests/tools/gen_expected.py`'s `tree()`.
fn tree(root: &Path) -> std::io::Result<String> {
    fn walk(root: &Path, rel: &Path, out: &mut String) -> std::io::Result<()> {
        let full = root.join(rel);
        let mut names: Vec<_> = std::fs::read_dir(&full)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let p = rel.join(&name);
            let fp = full.join(&name);
            let md = std::fs::symlink_metadata(&fp)?;
            let shown = p.to_string_lossy();
            let mtime = i128::from(md.mtime()) * 1_000_000_000 + i128::from(md.mtime_nsec());
            let extra = if mtime < OLD_MTIME_NS {
                format!(" mtime={mtime}")
            } else {
                String::new()
            };
            if md.file_type().is_symlink() {
                let target = std::fs::read_link(&fp)?;
                let _ = writeln!(out, "l {shown} -> {}", target.to_string_lossy());
            } else if md.is_dir() {
                let _ = writeln!(out, "d {shown}{extra}");
                walk(root, &p, out)?;
            } else {
                let data = std::fs::read(&fp)?;
                let body = if data.len() <= 512 {
                    format!("\"{}\"", escape(&data))
                } else {
                    format!("#{:016x}", common::fnv1a64(&data))
                };
                let links = if md.nlink() > 1 {
                    format!(" links={}", md.nlink())
                } else {
                    String::new()
                };
                let _ = writeln!(out, "f {shown} {} {body}{extra}{links}", data.len());
            }
        }
        Ok(())
    }
    let mut out = String::new();
    walk(root, Path::new(""), &mut out)?;
    Ok(out)
}

/// What a run produced.
struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: String,
    tree: Option<String>,
}

/// The `clew` arguments before the case's own for `engine`: `interp`/`native` run on the
/// host (`clew run --host`), `guest-interp`/`guest-native` inside Clew (`clew run`).
fn command_prefix(engine: &str) -> Vec<&str> {
    match engine.strip_prefix("guest-") {
        Some(tier) => vec!["run", "--engine", tier],
        None => vec!["run", "--host", "--engine", engine],
    }
}

/// Runs one case under `engine` in a fresh copy of the fixtures.
fn run_case(case: &Case, engine: &str, wasm: &Path) -> Result<Outcome, String> {
    let root =
        scratch_dir()
            .join("runs")
            .join(format!("{engine}-{}-{}", case.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    copy_tree(&wasi_dir().join("fixtures"), &root).map_err(|e| format!("fixtures: {e}"))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clew"));
    cmd.args(command_prefix(engine));
    for d in &case.dirs {
        let (host, guest) = d.split_once("::").ok_or("dirs entries are HOST::GUEST")?;
        cmd.arg("--dir")
            .arg(format!("{}::{guest}", root.join(host).display()));
    }
    for e in &case.env {
        cmd.arg("--env").arg(e);
    }
    if let Some(a) = &case.argv0 {
        cmd.arg("--argv0").arg(a);
    }
    cmd.args(&case.flags);
    cmd.arg(wasm).args(&case.args);
    cmd.stdin(match &case.stdin {
        Some(f) => {
            let path = wasi_dir().join("stdin").join(f);
            Stdio::from(std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Stdio::null(),
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run clew: {e}"))?;
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > CASE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let exit = match status {
        None => format!("timeout after {}s", CASE_TIMEOUT.as_secs()),
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match (s.code(), s.signal()) {
                (Some(c), _) => c.to_string(),
                // A runtime that aborts on a trap (as `wasmtime run` does) is seen by the
                // shell as 128 + signal.
                (None, Some(sig)) => (128 + sig).to_string(),
                _ => format!("{s:?}"),
            }
        }
    };
    let tree = if case.dirs.is_empty() {
        None
    } else {
        Some(tree(&root).map_err(|e| format!("reading the tree back: {e}"))?)
    };
    let _ = std::fs::remove_dir_all(&root);
    Ok(Outcome {
        stdout,
        stderr,
        exit,
        tree,
    })
}

/// A line diff (longest common subsequence), `-` expected, `+` actual, with a little
/// context, for a mismatch message.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.split_inclusive('\n').collect();
    let b: Vec<&str> = actual.split_inclusive('\n').collect();
    if a.len() * b.len() > 4_000_000 {
        return format!("(too long to diff)\n--- expected\n{expected}\n+++ actual\n{actual}");
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("    ...\n");
                skipped = false;
            }
            let line = line.strip_suffix('\n').unwrap_or(line);
            let _ = writeln!(out, "  {c} {line}");
        } else {
            skipped = true;
        }
    }
    out
}

fn read_expected(case: &str, kind: &str) -> Option<Vec<u8>> {
    std::fs::read(wasi_dir().join("expected").join(format!("{case}.{kind}"))).ok()
}

/// Compares one outcome with the expected files; returns the mismatches.
fn check(case: &Case, got: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let mut compare = |kind: &str, actual: &[u8]| match read_expected(&case.name, kind) {
        None => problems.push(format!(
            "{kind}: tests/wasi/expected/{}.{kind} missing",
            case.name
        )),
        Some(exp) if exp != actual => problems.push(format!(
            "{kind} differs:\n{}",
            diff(
                &String::from_utf8_lossy(&exp),
                &String::from_utf8_lossy(actual)
            )
        )),
        Some(_) => {}
    };
    compare("stdout", &got.stdout);
    if !case.stderr_any {
        compare("stderr", &got.stderr);
    }
    compare("exit", format!("{}\n", got.exit).as_bytes());
    if let Some(t) = &got.tree {
        compare("tree", t.as_bytes());
    }
    if !problems.is_empty() && case.stderr_any && !got.stderr.is_empty() {
        let s = String::from_utf8_lossy(&got.stderr);
        let first: String = s.lines().take(6).collect::<Vec<_>>().join("\n    ");
        problems.push(format!("(stderr, not compared:\n    {first})"));
    }
    problems
}

fn selected_cases() -> Vec<Case> {
    let text =
        std::fs::read_to_string(wasi_dir().join("cases.toml")).expect("tests/wasi/cases.toml");
    let cases = parse_cases(&text).unwrap_or_else(|e| panic!("{e}"));
    match std::env::var("CLEW_WASI_CASES") {
        Ok(only) if !only.is_empty() => {
            let only: Vec<&str> = only.split(',').collect();
            cases
                .into_iter()
                .filter(|c| only.contains(&c.name.as_str()))
                .collect()
        }
        _ => cases,
    }
}

/// Compiles every program once (shared by both engines' tests).
fn modules(cases: &[Case]) -> BTreeMap<String, PathBuf> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = BTreeMap::new();
    for c in cases {
        if !out.contains_key(&c.wasm) {
            let path = compile(&c.wasm).unwrap_or_else(|e| panic!("{e}"));
            out.insert(c.wasm.clone(), path);
        }
    }
    out
}

/// Runs every selected case under `engine`, a few at a time, and fails with every mismatch.
fn run_all(engine: &str) {
    let cases = selected_cases();
    let wasm = modules(&cases);
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let problems = match run_case(case, engine, &wasm[&case.wasm]) {
                    Ok(got) => check(case, &got),
                    Err(e) => vec![e],
                };
                if !problems.is_empty() {
                    let mut msg =
                        format!("--- case {} ({}.c {:?})\n", case.name, case.wasm, case.args);
                    for p in problems {
                        msg.push_str(&p);
                        if !msg.ends_with('\n') {
                            msg.push('\n');
                        }
                    }
                    failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, msg));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    if !failures.is_empty() {
        let names: Vec<&str> = failures
            .iter()
            .map(|(i, _)| cases[*i].name.as_str())
            .collect();
        let mut report = String::new();
        for (_, m) in &failures {
            report.push_str(m);
        }
        panic!(
            "clew {}: {} of {} WASI cases failed: {}\n\n{report}",
            command_prefix(engine).join(" "),
            failures.len(),
            cases.len(),
            names.join(", ")
        );
    }
    eprintln!(
        "clew {}: {} WASI cases passed",
        command_prefix(engine).join(" "),
        cases.len()
    );
}

#[test]
fn wasi_cases_interp() {
    run_all("interp");
}

#[test]
fn wasi_cases_native() {
    run_all("native");
}

/// The same cases inside the kernel, through `clew run` (issue 4: the per-function WASI
/// tests run inside Clew with the same expectations as on the host).
#[test]
fn wasi_cases_inside_clew_interp() {
    run_all("guest-interp");
}

/// The same cases inside the kernel as native code (`clew run --engine native`: compiled
/// on the host by `clew compile`'s code, run by the kernel's wasmtime; issue 5).
#[test]
fn wasi_cases_inside_clew_native() {
    run_all("guest-native");
}

/// The manifest and the expectations agree: every program is used, every case has its
/// expected files, and nothing in expected/ is stale.
#[test]
fn wasi_manifest_consistent() {
    let text = std::fs::read_to_string(wasi_dir().join("cases.toml")).expect("cases.toml");
    let cases = parse_cases(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        if !names.insert(c.name.clone()) {
            problems.push(format!("duplicate case {}", c.name));
        }
        if !wasi_dir().join(format!("{}.c", c.wasm)).exists() {
            problems.push(format!("{}: no tests/wasi/{}.c", c.name, c.wasm));
        }
        let mut kinds = vec!["stdout", "exit"];
        if !c.stderr_any {
            kinds.push("stderr");
        }
        if !c.dirs.is_empty() {
            kinds.push("tree");
        }
        for k in kinds {
            if read_expected(&c.name, k).is_none() {
                problems.push(format!("{}: no expected/{}.{k}", c.name, c.name));
            }
        }
    }
    for entry in std::fs::read_dir(wasi_dir()).expect("tests/wasi") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "c") {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !cases.iter().any(|c| c.wasm == stem) {
                problems.push(format!("tests/wasi/{stem}.c is in no case"));
            }
        }
    }
    for entry in std::fs::read_dir(wasi_dir().join("expected")).expect("expected/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let case = name.split('.').next().unwrap_or("");
        if !names.contains(case) {
            problems.push(format!("expected/{name} belongs to no case"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn manifest_parser() {
    let cases = parse_cases(
        "# c\n[[case]]\nname = \"a\"\nwasm = \"w\" # x\nargs = [\"x y\", \"\", \"q\\\"\"]\nstderr = \"any\"\n\
         [[case]]\nname = \"b\"\nwasm = \"w\"\nargs = []\n",
    )
    .expect("parses");
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].args, ["x y", "", "q\""]);
    assert!(cases[0].stderr_any && !cases[1].stderr_any && cases[1].args.is_empty());
    assert!(parse_cases("[[case]]\nname = 3\n").is_err());
    assert_eq!(
        diff("a\nb\nc\n", "a\nB\nc\n"),
        "    a\n  - b\n  + B\n    c\n"
    );
}
