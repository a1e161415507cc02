//! Command-line interface of the `clew` host tool: the argument structs for every
//! subcommand, shaped after `wasmtime run` so that a wasmtime user's command line works
//! unchanged. `main.rs` dispatches them to `boot` (QEMU launcher) and `host_run`
//! (`clew run --host`, the same WASI code on the host).

use crate::wasmtime_opts::{WasiOpt, WasiOpts, WasmOpt, WasmOpts};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Top-level parser.
#[derive(Parser, Debug)]
#[command(
    name = "clew",
    version,
    about = "Clew: a WebAssembly-native operating system"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Boot an interactive Clew in this terminal (serial console on stdin/stdout).
    Boot(BootArgs),
    /// Run one WebAssembly program, like `wasmtime run`.
    Run(RunArgs),
    /// Precompile a WebAssembly module to native code for Clew (`.cwasm`).
    Compile(CompileArgs),
    /// Run the benchmark suite under both engines in one boot and print the ratios.
    Bench(BenchArgs),
}

/// Options of `clew bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// CPU profile of the native code: `baseline`, or `avx2` (boots QEMU with `-cpu max`).
    #[arg(long, value_name = "PROFILE", default_value = "baseline")]
    pub cpu: String,
    /// Copy the kernel log (COM2) to this file when the guest stops.
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Options of `clew compile`.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Output file (default: the input with the extension `.cwasm`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// CPU profile: `baseline` (QEMU's default CPU) or `avx2` (needs `-cpu max`).
    #[arg(long, value_name = "PROFILE", default_value = "baseline")]
    pub cpu: String,
    /// The WebAssembly module (.wasm).
    pub module: PathBuf,
}

/// A `--dir HOST[::GUEST]` mapping: the host directory `host` appears to the guest as
/// `guest` (the same path as on the host when `::GUEST` is absent, as in `wasmtime run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirMapping {
    /// Directory on the host.
    pub host: PathBuf,
    /// Path the guest sees it as.
    pub guest: String,
}

impl std::str::FromStr for DirMapping {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (host, guest) = match s.split_once("::") {
            Some((h, g)) => (h, g),
            None => (s, s),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!("invalid --dir `{s}`: expected HOST[::GUEST]"));
        }
        Ok(DirMapping {
            host: PathBuf::from(host),
            guest: guest.to_string(),
        })
    }
}

/// The execution engine for a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Engine {
    /// Native code when a precompiled module is available (beside the module or in the
    /// cache), native code compiled first for a module the interpreter cannot run
    /// (exceptions, atomics, too many locals), else the interpreter.
    #[default]
    Auto,
    /// The wasmi interpreter.
    Interp,
    /// wasmtime native code (Cranelift).
    Native,
}

/// Options of `clew boot`.
#[derive(Args, Debug)]
pub struct BootArgs {
    /// Make host directory HOST visible in the guest at GUEST (HOST[::GUEST]); repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<DirMapping>,
    /// Guest RAM in MiB.
    #[arg(long = "memory", value_name = "MiB", default_value_t = 1024)]
    pub memory_mib: u32,
    /// Kernel command line passed to Clew (e.g. `test` runs the in-kernel tests, `test
    /// only=NAME` those whose name contains NAME).
    #[arg(long = "cmdline", default_value = "")]
    pub cmdline: String,
    /// Copy the kernel log (COM2) to this file when the guest stops.
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Boot QEMU's `max` CPU (AVX2: the kernel enables AVX state, and `avx2`-profile
    /// `.cwasm` files run) instead of its default CPU. `/bin` stays `baseline` code.
    #[arg(long = "cpu-max")]
    pub cpu_max: bool,
}

/// Options of `clew run`, following `wasmtime run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Run on the host through the same WASI and VFS code instead of booting Clew.
    #[arg(long)]
    pub host: bool,
    /// Which engine runs the program.
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
    /// Grant access to host directory HOST, seen by the guest as GUEST (HOST[::GUEST]).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<DirMapping>,
    /// Set an environment variable for the program (NAME=VAL, or NAME to inherit it).
    #[arg(long = "env", value_name = "NAME[=VAL]")]
    pub envs: Vec<String>,
    /// Copy the kernel log (COM2) to this file when the guest stops (not with --host).
    #[arg(long = "log", value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Call this export instead of `_start` (after `_initialize` for a reactor).
    #[arg(long, value_name = "EXPORT")]
    pub invoke: Option<String>,
    /// Override argv[0] (by default the program's path as given).
    #[arg(long, value_name = "NAME")]
    pub argv0: Option<String>,
    /// Satisfy unknown imports with functions returning default values (zeros).
    #[arg(long)]
    pub default_values_unknown_imports: bool,
    /// Satisfy unknown imports with functions that trap when called.
    #[arg(long)]
    pub trap_unknown_imports: bool,
    /// Maximum linear memory of the guest program in MiB (and guest RAM under QEMU). At
    /// least 1: the run protocol's 0 means "no limit", so 0 is refused rather than taken
    /// as that.
    #[arg(long = "memory", value_name = "MiB", value_parser = clap::value_parser!(u32).range(1..))]
    pub memory_mib: Option<u32>,
    /// `wasmtime run`'s WebAssembly options, e.g. `-W max-memory-size=BYTES`,
    /// `-W timeout=10s`, `-W unknown-imports-trap`, proposals such as `-W exceptions` (Clew
    /// has them on); what Clew cannot honour is refused.
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]", value_parser = crate::wasmtime_opts::parse_wasm)]
    pub wasm: Vec<WasmOpts>,
    /// `wasmtime run`'s WASI options, e.g. `-S inherit-env` (the host's environment,
    /// then `--env`'s variables after it); what Clew cannot honour is refused.
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL[,..]]", value_parser = crate::wasmtime_opts::parse_wasi)]
    pub wasi: Vec<WasiOpts>,
    /// Accepted for `wasmtime run` compatibility: Clew always runs `.cwasm` files made by
    /// `clew compile`.
    #[arg(long, hide = true)]
    pub allow_precompiled: bool,
    /// The WebAssembly module (.wasm, or .cwasm precompiled by `clew compile`), then the
    /// arguments passed to the program: everything after the module is the program's,
    /// `-h` and `--help` included, as with `wasmtime run`.
    #[arg(
        value_name = "MODULE [ARGS]...",
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    pub module_and_args: Vec<String>,
}

impl RunArgs {
    /// The module's path.
    pub fn module(&self) -> &Path {
        Path::new(&self.module_and_args[0])
    }

    /// The arguments passed to the program (after its argv[0]).
    pub fn program_args(&self) -> &[String] {
        &self.module_and_args[1..]
    }

    /// The program's argv: `--argv0`, else the module's file name (its path's last
    /// component: the wasmtime CLI passes no more, "to avoid leaking path information"),
    /// then the arguments.
    pub fn argv(&self) -> Vec<String> {
        let argv0 = match &self.argv0 {
            Some(a) => a.clone(),
            None => self
                .module()
                .components()
                .next_back()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        std::iter::once(argv0)
            .chain(self.program_args().iter().cloned())
            .collect()
    }

    /// The program's environment: with `-S inherit-env`, the host's (variables whose name
    /// or value is not UTF-8 left out: WASI strings are UTF-8); then `--env`: `NAME=VAL` as
    /// given, a bare `NAME` inherits the host's value (and is left out when the host has
    /// none), as in `wasmtime run`. Like the wasmtime CLI (49), a `--env` is appended after
    /// the inherited variables even when one has its name, so `getenv` finds the
    /// inherited value first.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Vec::new();
        if self.inherit_env() {
            env.extend(
                std::env::vars_os()
                    .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            );
        }
        for e in &self.envs {
            match e.split_once('=') {
                Some((k, v)) => env.push((k.to_string(), v.to_string())),
                None => {
                    if let Ok(v) = std::env::var(e) {
                        env.push((e.clone(), v));
                    }
                }
            }
        }
        env
    }

    /// `-W` settings in command-line order.
    fn wasm_opts(&self) -> impl Iterator<Item = &WasmOpt> {
        self.wasm.iter().flat_map(|o| &o.0)
    }

    /// Whether `-S inherit-env` is on (the last setting counts).
    fn inherit_env(&self) -> bool {
        let mut on = false;
        for o in self.wasi.iter().flat_map(|o| &o.0) {
            if let WasiOpt::InheritEnv(b) = o {
                on = *b;
            }
        }
        on
    }

    /// The cap on linear memory in bytes: the smaller of `--memory` and
    /// `-W max-memory-size` (the last one given).
    pub fn max_memory(&self) -> Option<u64> {
        let mut w = None;
        for o in self.wasm_opts() {
            if let WasmOpt::MaxMemorySize(b) = o {
                w = Some(*b);
            }
        }
        let m = self.memory_mib.map(|m| u64::from(m) << 20);
        match (m, w) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `-W timeout`: how long the program may run before it is stopped with the trap
    /// "interrupt" (the last one given).
    pub fn timeout(&self) -> Option<Duration> {
        let mut t = None;
        for o in self.wasm_opts() {
            if let WasmOpt::Timeout(d) = o {
                t = Some(*d);
            }
        }
        t
    }

    /// How unknown imports are satisfied: `--trap-unknown-imports` or
    /// `-W unknown-imports-trap` win over the default-values forms, as in `wasmtime run`.
    pub fn unknown_imports(&self) -> wasi::UnknownImports {
        let (mut trap, mut default) = (
            self.trap_unknown_imports,
            self.default_values_unknown_imports,
        );
        for o in self.wasm_opts() {
            match o {
                WasmOpt::UnknownImportsTrap(b) => trap = *b,
                WasmOpt::UnknownImportsDefault(b) => default = *b,
                _ => {}
            }
        }
        if trap {
            wasi::UnknownImports::Trap
        } else if default {
            wasi::UnknownImports::DefaultValues
        } else {
            wasi::UnknownImports::Reject
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(line: &[&str]) -> RunArgs {
        match Cli::try_parse_from(line).unwrap().command {
            Command::Run(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn everything_after_the_module_is_the_programs() {
        let args = run_args(&[
            "clew",
            "run",
            "--env",
            "A=1",
            "prog.wasm",
            "-h",
            "--help",
            "--dir",
            "x",
            "--",
        ]);
        assert_eq!(args.module(), Path::new("prog.wasm"));
        assert_eq!(args.program_args(), ["-h", "--help", "--dir", "x", "--"]);
        assert_eq!(args.envs, ["A=1"]);
        assert!(args.dirs.is_empty());
        assert_eq!(
            args.argv(),
            ["prog.wasm", "-h", "--help", "--dir", "x", "--"]
        );
        // argv[0] is the module's file name, as the wasmtime CLI passes it.
        assert_eq!(
            run_args(&["clew", "run", "./dir/x.wasm", "a"]).argv(),
            ["x.wasm", "a"]
        );
        assert_eq!(run_args(&["clew", "run", "/abs/y.wat"]).argv(), ["y.wat"]);
        // Before the module, `-h` is ours; a module is required.
        assert!(Cli::try_parse_from(["clew", "run", "-h", "prog.wasm"]).is_err());
        assert!(Cli::try_parse_from(["clew", "run"]).is_err());
    }
}
