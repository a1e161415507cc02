//! Builds what the `clew` binary carries, so one self-contained binary can boot Clew:
//! - the kernel (`kernel/`, a separate cargo workspace with its own bare-metal flags in
//!   `kernel/.cargo/config.toml`), built into `target/kernel` and embedded as an ELF
//!   (`CLEW_KERNEL=/path/to/clew-kernel` skips the build and embeds that image instead);
//! - the userland: every `apps/*.c` compiled to WASI with clang (`apps/README.md` gives the
//!   one command used for all), embedded as the `/bin` of the boot archive (`apps.rs` in
//!   OUT_DIR lists them);
//! - the benchmarks of `clew bench`: every `bench/*.c`, compiled the same way (`bench.rs`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("crates/clew sits two levels below the repo root")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let embedded = out_dir.join("clew-kernel.elf");

    // The userland takes apps/README.md's flags; the benchmarks need libm.
    build_c_programs(&root, &out_dir, "apps", "APPS", &["-Wextra"]);
    build_c_programs(&root, &out_dir, "bench", "BENCH", &["-lm"]);
    println!("cargo:rerun-if-env-changed=CLEW_KERNEL");
    let built = match env::var_os("CLEW_KERNEL") {
        Some(path) => Ok(PathBuf::from(path)),
        None => build_kernel(&root),
    };
    // A kernel that fails to build must not stop the host-only parts of `clew` (e.g.
    // `clew run --host`) from building: embed an empty image instead, which `clew boot`
    // reports as an error, and say why in a cargo warning.
    match built
        .and_then(|p| std::fs::copy(&p, &embedded).map_err(|e| format!("{}: {e}", p.display())))
    {
        Ok(_) => {}
        Err(why) => {
            println!("cargo:warning=no kernel embedded in clew: {why}");
            std::fs::write(&embedded, b"").expect("writing OUT_DIR");
        }
    }
}

/// Runs `cargo build --release` in `kernel/` (so its `.cargo/config.toml` applies) with a
/// clean environment: the variables cargo sets for this build script (target, rustflags,
/// profile, features) must not leak into the kernel's build.
fn build_kernel(root: &Path) -> Result<PathBuf, String> {
    let kernel_dir = root.join("kernel");
    if !kernel_dir.join("Cargo.toml").is_file() {
        return Err("kernel/Cargo.toml does not exist".into());
    }
    let target_dir = root.join("target").join("kernel");
    watch_sources(root, &kernel_dir);

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&kernel_dir)
        .args(["build", "--release", "--target-dir"])
        .arg(&target_dir);
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let keep = key == "CARGO_HOME"
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTR");
        let leaks = (key.starts_with("CARGO_") && !keep)
            || key.starts_with("RUSTC_")
            || key.starts_with("DEP_")
            || matches!(
                key,
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "OUT_DIR"
                    | "TARGET"
                    | "HOST"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTDOC"
                    | "RUSTC"
            );
        if leaks {
            cmd.env_remove(key);
        }
    }
    // The kernel needs `catch_unwind` and a few other nightly-only features in no_std;
    // like Rust-for-Linux we opt into them on stable for this one build (GUIDE §2).
    cmd.env("RUSTC_BOOTSTRAP", "1");
    let output = cmd
        .output()
        .map_err(|e| format!("running cargo for the kernel failed: {e}"))?;
    if !output.status.success() {
        // Cargo shows a build script's output only when the script fails; this one goes on
        // (see main), so carry the compiler's first error into the warning.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_error: Vec<&str> = stderr
            .lines()
            .skip_while(|l| !l.starts_with("error"))
            .take(6)
            .collect();
        return Err(format!(
            "building the kernel (kernel/) failed: {}",
            first_error.join(" | ")
        ));
    }
    Ok(target_dir
        .join("x86_64-unknown-linux-gnu")
        .join("release")
        .join("clew-kernel"))
}

/// Tells cargo to rerun this script when the kernel's sources, or the shared crates it may
/// depend on, change; `kernel/target` (manual builds) is left out so it cannot trigger it.
fn watch_sources(root: &Path, kernel_dir: &Path) {
    let watch_children = |dir: &Path, skip: &[&str]| {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if skip.iter().any(|s| name == *s) {
                    continue;
                }
                println!("cargo:rerun-if-changed={}", entry.path().display());
            }
        }
    };
    watch_children(kernel_dir, &["target"]);
    watch_children(&root.join("crates"), &["clew"]);
}

/// Compiles every `<dir>/*.c` with clang for wasm32-wasi into OUT_DIR/<dir> and writes
/// `<dir>.rs`, a table `pub static <table>: &[(&str, &[u8])]` of (name, wasm bytes):
/// `apps/` becomes the `/bin` of the boot archive (`archive.rs`), `bench/` the programs of
/// `clew bench` (`bench.rs`). Without clang the table is empty and a cargo warning says so.
fn build_c_programs(root: &Path, out_dir: &Path, dir: &str, table: &str, extra_flags: &[&str]) {
    let src_dir = root.join(dir);
    println!("cargo:rerun-if-changed={}", src_dir.display());
    println!("cargo:rerun-if-env-changed=CLEW_CLANG");
    let clang = env::var("CLEW_CLANG").unwrap_or_else(|_| "clang".into());
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "c"))
                .collect()
        })
        .unwrap_or_default();
    sources.sort();
    let wasm_dir = out_dir.join(dir);
    let _ = std::fs::create_dir_all(&wasm_dir);
    // Start every compiler at once (they are independent), then collect.
    let jobs: Vec<_> = sources
        .iter()
        .map(|src| {
            let name = src
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("program")
                .to_string();
            let out = wasm_dir.join(format!("{name}.wasm"));
            let child = Command::new(&clang)
                .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
                .arg(src)
                .arg("-o")
                .arg(&out)
                // After the source: libraries such as `-lm` must follow what uses them.
                .args(extra_flags)
                .spawn();
            (name, out, child)
        })
        .collect();
    let mut code = format!(
        "/// The programs compiled from `{dir}/*.c`: (name, wasm).\npub static {table}: &[(&str, &[u8])] = &[\n"
    );
    for (name, out, child) in jobs {
        match child.and_then(|mut c| c.wait()) {
            Ok(status) if status.success() => {
                code.push_str(&format!(
                    "    ({name:?}, include_bytes!({:?})),\n",
                    out.display().to_string()
                ));
            }
            Ok(status) => panic!("compiling {dir}/{name}.c failed ({status})"),
            Err(e) => {
                println!("cargo:warning={dir}/{name}.c not built: cannot run {clang}: {e} (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)");
            }
        }
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join(format!("{dir}.rs")), code).expect("writing the program table");
}
