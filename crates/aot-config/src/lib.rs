//! The one `wasmtime::Config` of Clew's native tier, shared by the kernel (which only
//! loads precompiled code) and `clew compile` (which runs Cranelift on the host), so that
//! every setting `Module::deserialize` checks (target, Cranelift flags, tunables, wasm
//! features) agrees on both sides by construction (GUIDE §2).
//!
//! - [`config`]: the shared settings: wasm proposals (exceptions with the GC features,
//!   SIMD, atomics on non-shared memories through `WasmFeatures::THREADS`, multi-value,
//!   reference types, bulk memory, tail calls, extended-const), signals-based traps with
//!   guard regions sized for the kernel's reservations, no epoch or fuel checks (the kernel
//!   stops a killed process's code from its timer interrupt), no copy-on-write images.
//! - [`CpuProfile`]: `baseline` (SSE3: QEMU's default CPU) or `avx2` (QEMU `-cpu max`).
//! - [`header`]: the small container Clew puts in front of wasmtime's ELF artifact
//!   (magic, format and wasmtime versions, profile, payload length and checksum), so a
//!   corrupt, truncated, foreign-version or other-profile `.cwasm` is refused with a
//!   one-line error before wasmtime ever looks at it.
//! - [`compile`] (feature `compile`, host only): wasm bytes → `.cwasm` bytes.
//!
//! Neighbours: the kernel's `wasmtime_platform` (loads artifacts), `crates/clew/src/compile.rs`
//! (the `clew compile` command and the host cache).
#![cfg_attr(not(any(test, feature = "compile")), no_std)]

extern crate alloc;

pub mod header;

use wasmtime::{Collector, Config, WasmFeatures};

/// The target every artifact is compiled for (the kernel is itself built for it).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// The wasmtime version artifacts are made by and for.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Identifies the settings of [`config`] and what [`compile`] records in the header: part
/// of every cache key, so changing either (and bumping this) never reuses stale artifacts
/// (`clew-3`: the header's DWARF flag; `clew-4`: header format 2, the word-wise checksum).
pub const CONFIG_ID: &str = "clew-4";

/// Virtual address space reserved per linear memory (4 GiB: a 32-bit memory never moves
/// and needs no bounds checks).
pub const MEMORY_RESERVATION: u64 = 4 << 30;

/// Guard region after (and before) each linear memory, in bytes.
pub const MEMORY_GUARD: u64 = 32 << 20;

/// Maximum wasm stack per call into wasm (as `wasmtime run`'s default).
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The CPU features compiled code may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CpuProfile {
    /// x86-64 with SSE3 (QEMU's default `qemu64` CPU); the default.
    #[default]
    Baseline,
    /// Up to AVX2, BMI, LZCNT, POPCNT, FMA (QEMU `-cpu max`; the kernel enables XSAVE/AVX).
    Avx2,
}

impl CpuProfile {
    /// The profile's name on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            CpuProfile::Baseline => "baseline",
            CpuProfile::Avx2 => "avx2",
        }
    }

    /// Parses a profile name.
    pub fn from_name(name: &str) -> Option<CpuProfile> {
        match name {
            "baseline" => Some(CpuProfile::Baseline),
            "avx2" => Some(CpuProfile::Avx2),
            _ => None,
        }
    }

    /// The byte stored in the artifact header.
    pub fn code(self) -> u8 {
        match self {
            CpuProfile::Baseline => 0,
            CpuProfile::Avx2 => 1,
        }
    }

    /// The profile for a header byte.
    pub fn from_code(code: u8) -> Option<CpuProfile> {
        match code {
            0 => Some(CpuProfile::Baseline),
            1 => Some(CpuProfile::Avx2),
            _ => None,
        }
    }

    /// Cranelift x86-64 ISA flags enabled for this profile.
    pub fn cranelift_flags(self) -> &'static [&'static str] {
        match self {
            CpuProfile::Baseline => &["has_sse3"],
            CpuProfile::Avx2 => &[
                "has_sse3",
                "has_ssse3",
                "has_sse41",
                "has_sse42",
                "has_popcnt",
                "has_avx",
                "has_avx2",
                "has_fma",
                "has_bmi1",
                "has_bmi2",
                "has_lzcnt",
            ],
        }
    }

    /// The CPU features (Rust names, as wasmtime asks `detect_host_feature`) a CPU must
    /// have to run this profile's code.
    pub fn required_features(self) -> &'static [&'static str] {
        match self {
            CpuProfile::Baseline => &["sse3"],
            CpuProfile::Avx2 => &[
                "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "bmi1",
                "bmi2", "lzcnt",
            ],
        }
    }
}

/// The settings shared by the compiler and the kernel's runtime. The kernel adds
/// `detect_host_feature` (CPUID); [`compile`] adds the target and the profile's flags.
pub fn config() -> Config {
    let mut c = Config::new();
    c.wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_function_references(true)
        .wasm_gc(true)
        .wasm_exceptions(true)
        .wasm_multi_memory(true)
        // Atomics on non-shared memories (wasi-sdk's default libc); the cargo feature
        // `threads` needs std, the wasm feature alone does not.
        .wasm_features(WasmFeatures::THREADS, true)
        .collector(Collector::DeferredReferenceCounting)
        .signals_based_traps(true)
        .memory_reservation(MEMORY_RESERVATION)
        .memory_guard_size(MEMORY_GUARD)
        .memory_reservation_for_growth(0)
        .guard_before_linear_memory(true)
        .memory_may_move(false)
        .memory_init_cow(false)
        .table_lazy_init(true)
        // No epoch checks: the kernel stops a killed process's wasm code from the timer
        // interrupt (kernel/src/wasmtime_platform.rs, `on_timer_tick`).
        .epoch_interruption(false)
        .consume_fuel(false)
        .max_wasm_stack(MAX_WASM_STACK)
        // wasmtime's default (20 frames), so a trap's backtrace is the CLI's; a deep
        // recursion's full backtrace would cost more than the trap itself.
        .wasm_backtrace_max_frames(core::num::NonZeroUsize::new(20));
    c
}

/// Why compiling failed.
#[cfg(feature = "compile")]
#[derive(Debug)]
pub struct CompileError(pub String);

#[cfg(feature = "compile")]
impl core::fmt::Display for CompileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "compile")]
impl std::error::Error for CompileError {}

/// The compiler's configuration for `profile`: [`config`] plus the explicit target (never
/// the build host's CPU) and the profile's ISA flags.
#[cfg(feature = "compile")]
pub fn compiler_config(profile: CpuProfile) -> Result<Config, CompileError> {
    let mut c = config();
    c.target(TARGET)
        .map_err(|e| CompileError(format!("target {TARGET}: {e}")))?;
    for flag in profile.cranelift_flags() {
        c = enable_flag(c, flag);
    }
    Ok(c)
}

#[cfg(feature = "compile")]
#[allow(unsafe_code)]
fn enable_flag(mut c: Config, flag: &str) -> Config {
    // SAFETY: (1) the flag is one of Cranelift's x86-64 ISA feature flags listed in
    // `CpuProfile::cranelift_flags`; (2) code compiled with it is never run on this host by
    // this crate, only serialized; (3) the loader (Clew's kernel) checks every ISA flag
    // against CPUID through `detect_host_feature` before running the code.
    unsafe {
        c.cranelift_flag_enable(flag);
    }
    c
}

/// Compiles `wasm` (a core module, binary) into a Clew `.cwasm`: [`header`] + wasmtime's
/// serialized module.
#[cfg(feature = "compile")]
pub fn compile(wasm: &[u8], profile: CpuProfile) -> Result<Vec<u8>, CompileError> {
    compile_adjusted(wasm, profile, |_| {})
}

/// As [`compile`], with the configuration adjusted first (measurements only, e.g. with
/// epoch checks: such an artifact loads only into an engine adjusted the same way).
#[cfg(feature = "compile")]
pub fn compile_adjusted(
    wasm: &[u8],
    profile: CpuProfile,
    adjust: impl FnOnce(&mut Config),
) -> Result<Vec<u8>, CompileError> {
    let mut config = compiler_config(profile)?;
    adjust(&mut config);
    let engine = wasmtime::Engine::new(&config)
        .map_err(|e| CompileError(format!("creating the compiler: {e}")))?;
    let payload = engine
        .precompile_module(wasm)
        .map_err(|e| CompileError(format!("{e:#}")))?;
    let header = header::Header {
        profile,
        dwarf: trap_site::has_dwarf(wasm),
    };
    Ok(header::wrap(header, &payload))
}

/// Loads a Clew `.cwasm` on the build host (`clew run --host prog.cwasm`): header checks as
/// in the kernel, an engine with the compiler's configuration for the artifact's profile,
/// then wasmtime's own checks (target, flags against this CPU, tunables, features).
#[cfg(feature = "compile")]
#[allow(unsafe_code)]
pub fn load_on_host(
    bytes: &[u8],
) -> Result<(wasmtime::Engine, wasmtime::Module, header::Header), CompileError> {
    let (head, payload) = header::unwrap(bytes).map_err(|e| CompileError(format!("{e}")))?;
    let engine = wasmtime::Engine::new(&compiler_config(head.profile)?)
        .map_err(|e| CompileError(format!("creating the engine: {e}")))?;
    if !matches!(
        wasmtime::Engine::detect_precompiled(payload),
        Some(wasmtime::Precompiled::Module)
    ) {
        return Err(CompileError(
            "precompiled artifact is not a core module".into(),
        ));
    }
    // SAFETY: (1) the payload is wasmtime's serialization made by `compile` (Clew header
    // with this wasmtime version and an intact checksum over exactly these bytes, ELF kind
    // checked above); (2) `deserialize` checks target, Cranelift flags (against this CPU,
    // with std's feature detection), tunables and features against `engine`, which has
    // the compiler's own configuration for the artifact's profile; (3) the bytes are
    // copied, so they need not outlive the module.
    let module = unsafe { wasmtime::Module::deserialize(&engine, payload) }
        .map_err(|e| CompileError(format!("{e:#}")))?;
    Ok((engine, module, head))
}
