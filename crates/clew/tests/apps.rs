//! Clew's userland (`apps/*.c`) against its expectations: `apps/tests/run.sh` builds every
//! program and runs the cases of `apps/tests/cases.txt` (stdout, stderr, exit code and the
//! `--dir` tree afterwards), here through `clew run --host` and through `clew run` inside
//! the kernel, so the same programs are checked on both sides of the WASI layer.

use std::path::Path;
use std::process::Command;

fn run_cases(runner: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(root.join("apps/tests/run.sh"))
        .env("RUNNER", format!("{} {runner}", env!("CARGO_BIN_EXE_clew")))
        .output()
        .expect("running apps/tests/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("apps tests:"))
        .unwrap_or("no summary");
    println!("{summary}");
    assert!(
        out.status.success(),
        "apps cases failed under `clew {runner}`:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn apps_under_clew_run_host() {
    run_cases("run --host --engine interp");
}

#[test]
fn apps_inside_clew() {
    run_cases("run --engine interp");
}
