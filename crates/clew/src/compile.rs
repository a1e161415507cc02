//! `clew compile prog.wasm [-o prog.cwasm] [--cpu baseline|avx2]`, the host cache of
//! precompiled modules, and the engine choice of `clew run` / `clew boot`.
//!
//! Compilation goes through `aot_config::compile` (the one `wasmtime::Config` shared with
//! the kernel, explicit target, the profile's Cranelift flags, Clew's `.cwasm` header).
//! The cache lives under `$XDG_CACHE_HOME/clew/cwasm` (else `~/.cache/clew/cwasm`), one
//! file per SHA-256 of (wasm bytes, profile, wasmtime version), written atomically. A hit
//! refreshes the file's modification time; after each new entry the cache is pruned, least
//! recently used first, to [`CACHE_LIMIT`] bytes (`CLEW_CACHE_MAX_MB` overrides it), and
//! temporary files left by interrupted writes are removed after an hour.
//!
//! Tier choice for a module ([`choose`]): `--engine interp` ships the `.wasm`;
//! `--engine native` a `.cwasm` (the input itself, or compiled through the cache);
//! `--engine auto` a `.cwasm` when one lies beside the `.wasm` or is cached, or when the
//! interpreter cannot run the module (exceptions, atomics, GC, ...), else the `.wasm`.
//! `/bin` ships precompiled: `clew boot` puts each app's `.cwasm` at
//! `/lib/cwasm/bin/<name>.cwasm` (compiled lazily into the cache at the first boot, in
//! parallel; later boots only read the cache), where the kernel's process layer looks.

use crate::cli::{CompileArgs, Engine};
use anyhow::{bail, Context};
use aot_config::CpuProfile;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the kernel looks for the precompiled form of `/bin/<name>` (see `process`).
pub const GUEST_CWASM_DIR: &str = "/lib/cwasm";

/// `clew compile`.
pub fn run(args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let profile = CpuProfile::from_name(&args.cpu)
        .with_context(|| format!("unknown CPU profile `{}` (baseline or avx2)", args.cpu))?;
    let wasm = read_wasm(&args.module)?;
    let out = match &args.output {
        Some(o) => o.clone(),
        None => args.module.with_extension("cwasm"),
    };
    let cwasm = aot_config::compile(&wasm, profile)
        .with_context(|| format!("failed to compile `{}`", args.module.display()))?;
    std::fs::write(&out, &cwasm).with_context(|| format!("writing `{}`", out.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a module for `clew compile`, accepting the text format too (as `wasmtime
/// compile` does).
fn read_wasm(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = read_module(path)?;
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes);
    }
    if aot_config::header::is_artifact(&bytes) {
        bail!("`{}` is already precompiled", path.display());
    }
    bail!("`{}` is not a WebAssembly binary module", path.display())
}

/// A module file's bytes as the engines take them: a binary module or a `.cwasm` as it
/// is, the text format (WAT) assembled to a binary, as `wasmtime run` and `wasmtime
/// compile` accept `.wat` files. Other bytes are returned as they are, for the engine to
/// refuse in its own words.
pub fn read_module(path: &Path) -> anyhow::Result<Vec<u8>> {
    read_module_verbatim(path).map(|(bytes, _)| bytes)
}

/// [`read_module`], and whether the bytes are the file's own (not assembled from text).
fn read_module_verbatim(path: &Path) -> anyhow::Result<(Vec<u8>, bool)> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("failed to read input file `{}`", path.display()))?;
    let (bytes, verbatim) =
        if bytes.starts_with(b"\0asm") || aot_config::header::is_artifact(&bytes) {
            (bytes, true)
        } else if let Ok(text) = std::str::from_utf8(&bytes) {
            let mut binary = wat::Parser::new().parse_str(Some(path), text);
            if let Err(e) = &mut binary {
                e.set_path(path);
            }
            let binary = binary.with_context(|| format!("failed to parse `{}`", path.display()))?;
            (binary, false)
        } else {
            return Ok((bytes, true));
        };
    // The binary format's preamble: magic, then version 1 (a core module) or the
    // component model's layer 1 (`0d 00 01 00`).
    if bytes.starts_with(b"\0asm\x0d\0\x01\0") {
        bail!(
            "`{}` is a WebAssembly component (WASI 0.2 and later); Clew runs core modules \
             (wasm32-wasip1, imports from `wasi_snapshot_preview1`)",
            path.display()
        );
    }
    Ok((bytes, verbatim))
}

/// The host cache directory of precompiled modules.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("clew").join("cwasm"))
}

/// The cache key of `wasm` compiled for `profile`.
fn cache_key(wasm: &[u8], profile: CpuProfile) -> String {
    let mut h = Sha256::new();
    h.update(aot_config::WASMTIME_VERSION.as_bytes());
    h.update(aot_config::CONFIG_ID.as_bytes());
    h.update([0, profile.code()]);
    h.update(wasm);
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.cwasm")
}

/// The cached `.cwasm` of `wasm` and its path, if present and valid (marked as just used).
pub fn cached(wasm: &[u8], profile: CpuProfile) -> Option<(Vec<u8>, PathBuf)> {
    let path = cache_dir()?.join(cache_key(wasm, profile));
    let bytes = std::fs::read(&path).ok()?;
    aot_config::header::unwrap(&bytes).ok()?;
    // The modification time is the cache's "last used": `prune` drops the oldest first.
    if let Ok(f) = std::fs::File::options().append(true).open(&path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
    Some((bytes, path))
}

/// Default size limit of the host cache (1 GiB: CPython's `.cwasm` is about 40 MB).
pub const CACHE_LIMIT: u64 = 1 << 30;

/// The cache's size limit: `CLEW_CACHE_MAX_MB` if set, else [`CACHE_LIMIT`].
fn cache_limit() -> u64 {
    std::env::var("CLEW_CACHE_MAX_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(CACHE_LIMIT, |mb| mb << 20)
}

/// Removes least recently used `.cwasm` files of `dir` until they total at most `limit`
/// bytes, and temporary files older than an hour (an interrupted write's). Entries of
/// another wasmtime version or configuration are never used again, so they age out too.
/// Returns the number of files removed. Errors (a file that vanished, a concurrent
/// prune) are skipped: the cache is only a cache.
fn prune(dir: &Path, limit: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if name.ends_with(".tmp") {
            let age = now.duration_since(modified).unwrap_or_default();
            if age.as_secs() > 3600 && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        } else if name.ends_with(".cwasm") && meta.is_file() {
            files.push((modified, meta.len(), entry.path()));
        }
    }
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= limit {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
            removed += 1;
        }
    }
    removed
}

/// Compiles `wasm` through the cache.
pub fn compile_cached(wasm: &[u8], profile: CpuProfile) -> anyhow::Result<Vec<u8>> {
    compile_cached_at(wasm, profile).map(|(cwasm, _)| cwasm)
}

/// [`compile_cached`], and the cache file holding the result (`None` when the cache could
/// not keep it).
fn compile_cached_at(
    wasm: &[u8],
    profile: CpuProfile,
) -> anyhow::Result<(Vec<u8>, Option<PathBuf>)> {
    if let Some((c, path)) = cached(wasm, profile) {
        return Ok((c, Some(path)));
    }
    let cwasm = aot_config::compile(wasm, profile)?;
    let mut kept = None;
    if let Some(dir) = cache_dir() {
        if std::fs::create_dir_all(&dir).is_ok() {
            let path = dir.join(cache_key(wasm, profile));
            let tmp = dir.join(format!(
                ".{}.{}.tmp",
                cache_key(wasm, profile),
                std::process::id()
            ));
            if std::fs::write(&tmp, &cwasm).is_ok() && std::fs::rename(&tmp, &path).is_ok() {
                kept = Some(path);
            }
            prune(&dir, cache_limit());
        }
    }
    Ok((cwasm, kept))
}

/// Whether the interpreter (wasmi, configured as in the kernel) refuses `wasm`, for a
/// proposal it lacks or a limit of its translation (wasmi allows fewer locals and a
/// shallower operand stack than wasmtime), so only the native tier can run it. The module
/// is translated eagerly here: the kernel translates each function on its first call, so a
/// function over wasmi's limits would otherwise fail the program only when called.
pub fn needs_native(wasm: &[u8]) -> bool {
    let mut c = wasmi::Config::default();
    wasi::wasmi_adapter::enable_proposals(&mut c);
    wasi::wasmi_adapter::set_stack_limits(&mut c);
    c.compilation_mode(wasmi::CompilationMode::Eager);
    let engine = wasmi::Engine::new(&c);
    match wasmi::Module::new(&engine, wasm) {
        Ok(_) => false,
        Err(e) => {
            matches!(e.kind(), wasmi::errors::ErrorKind::Translation(_))
                || wasi::wasmi_adapter::needs_native_tier(&e.to_string())
        }
    }
}

/// The module to ship to the guest for `clew run`: its bytes and whether it is native.
pub struct Chosen {
    /// `.wasm` or `.cwasm` bytes.
    pub bytes: Vec<u8>,
    /// True for a `.cwasm`.
    pub native: bool,
    /// A file that held exactly `bytes` when they were read (the module itself, the
    /// `.cwasm` beside it, or the cache entry), which `clew run` hands QEMU as it is;
    /// `None` for bytes of no file (a `.wat` assembled, a compilation the cache did not
    /// keep).
    pub source: Option<PathBuf>,
}

/// Picks the tier for `module` (see the module documentation).
pub fn choose(module: &Path, engine: Engine, profile: CpuProfile) -> anyhow::Result<Chosen> {
    let (bytes, verbatim) = read_module_verbatim(module)?;
    let own = |bytes: Vec<u8>, native: bool| Chosen {
        bytes,
        native,
        source: verbatim.then(|| module.to_path_buf()),
    };
    if aot_config::header::is_artifact(&bytes) {
        if engine == Engine::Interp {
            bail!(
                "`{}` is precompiled native code; the interpreter needs the .wasm",
                module.display()
            );
        }
        return Ok(own(bytes, true));
    }
    let native = |wasm: &[u8]| -> anyhow::Result<Chosen> {
        let (bytes, source) = compile_cached_at(wasm, profile)
            .with_context(|| format!("failed to compile `{}`", module.display()))?;
        Ok(Chosen {
            bytes,
            native: true,
            source,
        })
    };
    match engine {
        Engine::Interp => Ok(own(bytes, false)),
        Engine::Native => native(&bytes),
        Engine::Auto => {
            let beside = module.with_extension("cwasm");
            if let Ok(c) = std::fs::read(&beside) {
                if aot_config::header::unwrap(&c).is_ok() {
                    return Ok(Chosen {
                        bytes: c,
                        native: true,
                        source: Some(beside),
                    });
                }
            }
            if let Some((c, path)) = cached(&bytes, profile) {
                return Ok(Chosen {
                    bytes: c,
                    native: true,
                    source: Some(path),
                });
            }
            if bytes.starts_with(b"\0asm") && needs_native(&bytes) {
                return native(&bytes);
            }
            Ok(own(bytes, false))
        }
    }
}

/// Precompiles every app of the userland (through the cache, several at a time) and
/// returns `(name, cwasm)` pairs. Failures are reported and skipped: the interpreter runs
/// those apps.
pub fn precompile_userland(apps: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((name, wasm)) = apps.get(i) else {
                    return;
                };
                match compile_cached(wasm, CpuProfile::Baseline) {
                    Ok(c) => {
                        if let Ok(mut r) = results.lock() {
                            r.push((name.to_string(), c));
                        }
                    }
                    Err(e) => eprintln!("clew: warning: precompiling /bin/{name}: {e:#}"),
                }
            });
        }
    });
    let mut out = results.into_inner().unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::prune;
    use std::time::{Duration, SystemTime};

    fn file(dir: &std::path::Path, name: &str, len: usize, age_s: u64) {
        let path = dir.join(name);
        std::fs::write(&path, vec![0u8; len]).unwrap();
        let f = std::fs::File::options().append(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_s))
            .unwrap();
    }

    #[test]
    fn prune_drops_least_recently_used_first_and_stale_temporaries() {
        let dir = std::env::temp_dir().join(format!("clew-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        file(&dir, "old.cwasm", 400, 300);
        file(&dir, "mid.cwasm", 400, 200);
        file(&dir, "new.cwasm", 400, 100);
        file(&dir, ".x.cwasm.1.tmp", 10, 7200);
        file(&dir, ".y.cwasm.2.tmp", 10, 10);
        file(&dir, "notes.txt", 5000, 9000);
        // Under the limit: only the stale temporary goes.
        assert_eq!(prune(&dir, 10_000), 1);
        assert!(!dir.join(".x.cwasm.1.tmp").exists());
        assert!(
            dir.join(".y.cwasm.2.tmp").exists(),
            "a write may be in progress"
        );
        // 1200 bytes of entries, limit 800: the oldest one goes.
        assert_eq!(prune(&dir, 800), 1);
        assert!(!dir.join("old.cwasm").exists());
        assert!(dir.join("mid.cwasm").exists() && dir.join("new.cwasm").exists());
        // Limit 0 empties the cache but leaves other files alone.
        assert_eq!(prune(&dir, 0), 2);
        assert!(dir.join("notes.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
