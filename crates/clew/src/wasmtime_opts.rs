//! `wasmtime run`'s option groups `-W`/`--wasm KEY[=VAL[,..]]` and `-S`/`--wasi
//! KEY[=VAL[,..]]`, so that a wasmtime user's command line works with `clew run`. Keys and
//! value syntax are wasmtime's (`crates/cli-flags`: booleans `y|yes|true|n|no|false` or
//! nothing for yes, sizes in bytes, decimal or `0x` hex, durations `N` seconds or with
//! units such as `300ms`). A key Clew implements takes effect ([`WasmOpt`], [`WasiOpt`]);
//! one that asks for what Clew cannot do is a usage error naming it, never silently
//! ignored. `cli` puts them on [`crate::cli::RunArgs`], which resolves them with its own
//! flags (`--memory`, `--trap-unknown-imports`...).

use std::time::Duration;

/// One `-W` setting Clew acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmOpt {
    /// `max-memory-size=BYTES`: `memory.grow` beyond it returns -1.
    MaxMemorySize(u64),
    /// `timeout=DUR`: the program stops with the trap "interrupt" after this long.
    Timeout(Duration),
    /// `unknown-imports-trap[=y|n]`.
    UnknownImportsTrap(bool),
    /// `unknown-imports-default[=y|n]`.
    UnknownImportsDefault(bool),
    /// A proposal setting that matches what Clew's engines support (no effect).
    Proposal,
}

/// One `-S` setting Clew acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasiOpt {
    /// `inherit-env[=y|n]`: the program gets the host's environment (then `--env`).
    InheritEnv(bool),
    /// A setting with no effect on a preview1 program under Clew (e.g. `preview2`, the
    /// choice of wasmtime's implementation, or `tcp`, which only `wasi:sockets` has).
    NoEffect,
}

/// Every `-W` setting of one occurrence of the option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasmOpts(pub Vec<WasmOpt>);

/// Every `-S` setting of one occurrence of the option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasiOpts(pub Vec<WasiOpt>);

/// Proposals both engines of Clew (or its native tier, which `--engine auto` picks for a
/// module the interpreter cannot run) always have on (`aot-config::config`); they cannot
/// be turned off.
const PROPOSALS_ON: &[&str] = &[
    "bulk-memory",
    "multi-memory",
    "multi-value",
    "reference-types",
    "simd",
    "relaxed-simd",
    "tail-call",
    "threads",
    "function-references",
    "gc",
    "gc-support",
    "extended-const",
    "exceptions",
];

/// Proposals and features wasmtime has and Clew does not; turning them off is a no-op.
const PROPOSALS_OFF: &[&str] = &[
    "shared-memory",
    "shared-everything-threads",
    "memory64",
    "component-model",
    "component-model-async",
    "component-model-async-builtins",
    "component-model-async-stackful",
    "component-model-threading",
    "component-model-error-context",
    "component-model-gc",
    "component-model-fixed-length-lists",
    "stack-switching",
    "custom-page-sizes",
    "wide-arithmetic",
    "concurrency-support",
];

/// `-W` keys wasmtime has whose effect Clew does not offer.
const WASM_UNSUPPORTED: &[&str] = &[
    "nan-canonicalization",
    "fuel",
    "epoch-interruption",
    "max-wasm-stack",
    "async-stack-size",
    "async-stack-zeroing",
    "unknown-exports-allow",
    "wmemcheck",
    "max-table-elements",
    "max-instances",
    "max-tables",
    "max-memories",
    "trap-on-grow-failure",
    "relaxed-simd-deterministic",
];

/// `-S` keys with no effect on a preview1 program: wasmtime's implementation choice, and
/// the `wasi:sockets` and `wasi:cli` switches of components.
const WASI_NO_EFFECT: &[&str] = &[
    "preview2",
    "cli-exit-with-code",
    "inherit-network",
    "allow-ip-name-lookup",
    "tcp",
    "udp",
    "network-error-code",
];

/// `-S` keys naming WASI interfaces or host resources Clew does not provide.
const WASI_UNSUPPORTED: &[&str] = &[
    "nn",
    "threads",
    "http",
    "http-outgoing-body-buffer-chunks",
    "http-outgoing-body-chunk-size",
    "config",
    "keyvalue",
    "listenfd",
    "tcplisten",
    "tls",
    "nn-graph",
    "config-var",
    "keyvalue-in-memory-data",
    "p3",
    "max-resources",
    "hostcall-fuel",
    "max-random-size",
    "max-http-fields-size",
];

/// A boolean value as wasmtime reads it.
fn boolean(key: &str, val: Option<&str>) -> Result<bool, String> {
    match val {
        None | Some("y") | Some("yes") | Some("true") => Ok(true),
        Some("n") | Some("no") | Some("false") => Ok(false),
        Some(s) => Err(format!(
            "failed to parse option `{key}={s}`: unknown boolean flag `{s}`, only yes,no,<nothing> accepted"
        )),
    }
}

/// An integer as wasmtime reads it (decimal, or hexadecimal after `0x`).
fn integer(key: &str, val: Option<&str>) -> Result<u64, String> {
    let s = val
        .ok_or_else(|| format!("option `{key}`: value must be specified with `key=val` syntax"))?;
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("failed to parse option `{key}={s}`: {e}"))
}

/// A duration as wasmtime reads it: whole seconds, or a number with units (`300ms`).
fn duration(key: &str, val: Option<&str>) -> Result<Duration, String> {
    let s = val
        .ok_or_else(|| format!("option `{key}`: value must be specified with `key=val` syntax"))?;
    if let Ok(secs) = s.parse() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("failed to parse option `{key}={s}`: {e}"))
}

/// Splits `a=1,b` into `(key, value)` pairs.
fn pairs(s: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    s.split(',').map(|kv| match kv.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (kv, None),
    })
}

/// What `-W help` prints: the keys Clew acts on, those it accepts without effect, and
/// those it refuses.
fn wasm_help() -> String {
    let mut h =
        String::from("Available wasm options (as `wasmtime run`'s; Clew acts on these):\n\n");
    for (key, what) in [
        ("max-memory-size=N", "Maximum size, in bytes, that a linear memory is allowed to reach."),
        ("timeout=N|Ns|Nms|..", "Maximum execution time of wasm code before it stops with the trap \"interrupt\" (not with --host)."),
        ("unknown-imports-trap[=y|n]", "Unknown function imports trap when called."),
        ("unknown-imports-default[=y|n]", "Unknown imports get default values (functions return zeros)."),
        ("all-proposals[=y|n]", "No effect: Clew has every proposal it supports on."),
    ] {
        h += &format!("  -W {key:>32} -- {what}\n");
    }
    h += &format!(
        "\nAlways on (=y no effect, =n refused): {}\n",
        PROPOSALS_ON.join(", ")
    );
    h += &format!(
        "Not in Clew (=n no effect, =y refused): {}\n",
        PROPOSALS_OFF.join(", ")
    );
    h += &format!("Refused: {}\n", WASM_UNSUPPORTED.join(", "));
    h
}

/// What `-S help` prints (see [`wasm_help`]).
fn wasi_help() -> String {
    let mut h =
        String::from("Available wasi options (as `wasmtime run`'s; Clew acts on these):\n\n");
    for (key, what) in [
        (
            "inherit-env[=y|n]",
            "Pass the host's environment to the program (then --env's variables).",
        ),
        (
            "cli[=y|n]",
            "No effect: programs always get WASI (=n refused).",
        ),
        (
            "preview0[=y|n]",
            "No effect: `wasi_unstable` is always provided (=n refused).",
        ),
    ] {
        h += &format!("  -S {key:>32} -- {what}\n");
    }
    h += &format!(
        "\nNo effect on a preview1 program: {}\n",
        WASI_NO_EFFECT.join(", ")
    );
    h += &format!("Refused: {}\n", WASI_UNSUPPORTED.join(", "));
    h
}

/// Parses one `-W` argument (clap value parser). `-W help` (or `help-long`) prints the
/// keys and exits 0, as `wasmtime run -W help` does while parsing its command line.
pub fn parse_wasm(s: &str) -> Result<WasmOpts, String> {
    if s == "help" || s == "help-long" {
        print!("{}", wasm_help());
        std::process::exit(0);
    }
    let mut out = Vec::new();
    for (key, val) in pairs(s) {
        let opt = match key {
            "max-memory-size" => WasmOpt::MaxMemorySize(integer(key, val)?),
            "timeout" => WasmOpt::Timeout(duration(key, val)?),
            "unknown-imports-trap" => WasmOpt::UnknownImportsTrap(boolean(key, val)?),
            "unknown-imports-default" => WasmOpt::UnknownImportsDefault(boolean(key, val)?),
            // Clew has no more proposals to turn on, and none it has can be turned off.
            "all-proposals" => {
                boolean(key, val)?;
                WasmOpt::Proposal
            }
            k if PROPOSALS_ON.contains(&k) => {
                if !boolean(key, val)? {
                    return Err(format!(
                        "-W {k}=n is not supported by Clew: its engines always enable {k}"
                    ));
                }
                WasmOpt::Proposal
            }
            k if PROPOSALS_OFF.contains(&k) => {
                if boolean(key, val)? {
                    return Err(format!("-W {k} is not supported by Clew"));
                }
                WasmOpt::Proposal
            }
            k if WASM_UNSUPPORTED.contains(&k) => {
                return Err(format!("-W {k} is not supported by Clew"))
            }
            k => return Err(format!("unknown -W / --wasm option: {k}")),
        };
        out.push(opt);
    }
    Ok(WasmOpts(out))
}

/// Parses one `-S` argument (clap value parser); `-S help` prints the keys and exits 0.
pub fn parse_wasi(s: &str) -> Result<WasiOpts, String> {
    if s == "help" || s == "help-long" {
        print!("{}", wasi_help());
        std::process::exit(0);
    }
    let mut out = Vec::new();
    for (key, val) in pairs(s) {
        let opt = match key {
            "inherit-env" => WasiOpt::InheritEnv(boolean(key, val)?),
            // WASI itself: always there for a preview1 program.
            "cli" | "common" => {
                if !boolean(key, val)? {
                    return Err(format!(
                        "-S {key}=n is not supported by Clew: programs always get WASI"
                    ));
                }
                WasiOpt::NoEffect
            }
            // `wasi_unstable` (preview0) imports: on by default, as in wasmtime; Clew
            // always provides them.
            "preview0" => {
                if !boolean(key, val)? {
                    return Err(
                        "-S preview0=n is not supported by Clew: `wasi_unstable` is always provided"
                            .into(),
                    );
                }
                WasiOpt::NoEffect
            }
            k if WASI_NO_EFFECT.contains(&k) => {
                boolean(key, val)?;
                WasiOpt::NoEffect
            }
            k if WASI_UNSUPPORTED.contains(&k) => {
                return Err(format!("-S {k} is not supported by Clew"))
            }
            k => return Err(format!("unknown -S / --wasi option: {k}")),
        };
        out.push(opt);
    }
    Ok(WasiOpts(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_options_parse_as_wasmtime_reads_them() {
        assert_eq!(
            parse_wasm("max-memory-size=0x100000,timeout=300ms")
                .unwrap()
                .0,
            [
                WasmOpt::MaxMemorySize(1 << 20),
                WasmOpt::Timeout(Duration::from_millis(300))
            ]
        );
        assert_eq!(
            parse_wasm("timeout=2").unwrap().0,
            [WasmOpt::Timeout(Duration::from_secs(2))]
        );
        assert_eq!(
            parse_wasm("unknown-imports-trap,unknown-imports-default=n")
                .unwrap()
                .0,
            [
                WasmOpt::UnknownImportsTrap(true),
                WasmOpt::UnknownImportsDefault(false)
            ]
        );
        assert_eq!(
            parse_wasm("exceptions=y,simd,memory64=n").unwrap().0,
            [WasmOpt::Proposal; 3]
        );
        for bad in [
            "exceptions=n",
            "memory64",
            "fuel=100",
            "max-memory-size",
            "max-memory-size=1M",
            "timeout=soon",
            "simd=maybe",
            "no-such-thing",
        ] {
            assert!(parse_wasm(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wasi_options_parse_as_wasmtime_reads_them() {
        assert_eq!(
            parse_wasi("inherit-env").unwrap().0,
            [WasiOpt::InheritEnv(true)]
        );
        assert_eq!(
            parse_wasi("inherit-env=no,cli,preview2=n,inherit-network")
                .unwrap()
                .0,
            [
                WasiOpt::InheritEnv(false),
                WasiOpt::NoEffect,
                WasiOpt::NoEffect,
                WasiOpt::NoEffect
            ]
        );
        assert_eq!(parse_wasi("preview0").unwrap().0, [WasiOpt::NoEffect]);
        for bad in [
            "cli=n",
            "preview0=n",
            "threads",
            "http",
            "tcplisten=127.0.0.1:80",
            "bogus",
        ] {
            assert!(parse_wasi(bad).is_err(), "{bad}");
        }
    }
}
