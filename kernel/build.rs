//! Links the kernel binary with `link.ld` as a static, non-PIE image without the C runtime,
//! assembles the in-kernel tests' wasm modules from `tests-wasm/*.wat`, and precompiles
//! the native tier's test modules into `.cwasm` with `aot-config` (the same Config as
//! `clew compile`; Cranelift runs here, on the build host, never in the kernel).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,-z,max-page-size=4096",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    // The in-kernel tests' wasm modules, assembled from WAT into OUT_DIR.
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in [
        "exit42", "divzero", "spin", "count", "throw", "features", "faults", "loop", "simd",
    ] {
        let src = format!("{dir}/tests-wasm/{name}.wat");
        println!("cargo:rerun-if-changed={src}");
        let mut wasm = wat::parse_file(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        if name == "features" {
            wasm = pad_call_indirect(&wasm);
        }
        std::fs::write(format!("{out}/{name}.wasm"), &wasm).expect("writing OUT_DIR");
        if name != "count" {
            let cwasm = aot_config::compile(&wasm, aot_config::CpuProfile::Baseline)
                .unwrap_or_else(|e| panic!("precompiling {src}: {e}"));
            std::fs::write(format!("{out}/{name}.cwasm"), cwasm).expect("writing OUT_DIR");
        }
        if name == "simd" {
            // The same code for the `avx2` profile (VEX encodings; runs under -cpu max).
            let cwasm = aot_config::compile(&wasm, aot_config::CpuProfile::Avx2)
                .unwrap_or_else(|e| panic!("precompiling {src}: {e}"));
            std::fs::write(format!("{out}/simd-avx2.cwasm"), cwasm).expect("writing OUT_DIR");
        }
        if name == "loop" {
            // For measuring what epoch checks would cost (Clew's code has none).
            let cwasm =
                aot_config::compile_adjusted(&wasm, aot_config::CpuProfile::Baseline, |c| {
                    c.epoch_interruption(true);
                })
                .unwrap_or_else(|e| panic!("precompiling {src}: {e}"));
            std::fs::write(format!("{out}/loop-epoch.cwasm"), cwasm).expect("writing OUT_DIR");
        }
    }
    kill_site(&out);
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
}

/// The kernel's kill site (`src/wasmtime_platform.rs`, `on_timer_tick`): a module whose one
/// function is `unreachable`, precompiled, and the text-section offset of its `unreachable`
/// trap, read from wasmtime's own trap table (`.wasmtime.traps`) in the artifact, so the
/// kernel never guesses which instruction wasmtime will recognise as a trap.
fn kill_site(out: &str) {
    use wasmtime_environ::object::{self, Object, ObjectSection};
    use wasmtime_environ::{CompiledTrap, Trap};
    let wasm =
        wat::parse_str(r#"(module (func (export "kill") unreachable))"#).expect("kill-site module");
    let cwasm = aot_config::compile(&wasm, aot_config::CpuProfile::Baseline)
        .unwrap_or_else(|e| panic!("precompiling the kill site: {e}"));
    let (_, elf) = aot_config::header::unwrap(&cwasm).expect("own artifact");
    let file = object::File::parse(elf).expect("wasmtime artifact is an ELF file");
    let traps = file
        .section_by_name(wasmtime_environ::obj::ELF_WASMTIME_TRAPS)
        .and_then(|s| s.data().ok())
        .expect("artifact has a trap table");
    let offset = wasmtime_environ::iterate_traps(traps)
        .expect("trap table parses")
        .find(|(_, t)| *t == CompiledTrap::Normal(Trap::UnreachableCodeReached))
        .map(|(pc, _)| pc)
        .expect("the kill site's unreachable is in the trap table");
    std::fs::write(format!("{out}/kill.cwasm"), &cwasm).expect("writing OUT_DIR");
    std::fs::write(
        format!("{out}/kill_site.rs"),
        format!(
            "/// The precompiled kill-site module.\n\
             pub const CWASM: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/kill.cwasm\"));\n\
             /// Offset of its `unreachable` trap in the text section.\n\
             pub const TRAP_OFFSET: u32 = {offset};\n"
        ),
    )
    .expect("writing OUT_DIR");
}

fn read_leb(b: &[u8], at: &mut usize) -> u32 {
    let (mut v, mut shift) = (0u32, 0);
    loop {
        let byte = b[*at];
        *at += 1;
        v |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn write_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Rewrites the one `call_indirect 0 0` of the module so that its table index is a 5-byte
/// LEB128 (`80 80 80 80 00`), as LLVM emits for relocatable table indexes with reference
/// types; fixes up the body and code-section sizes.
fn pad_call_indirect(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    let mut padded = 0;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let len = read_leb(wasm, &mut at) as usize;
        let body = &wasm[at..at + len];
        at += len;
        if id != 10 {
            out.push(id);
            write_leb(&mut out, len as u32);
            out.extend_from_slice(body);
            continue;
        }
        let mut p = 0;
        let count = read_leb(body, &mut p);
        let mut section = Vec::new();
        write_leb(&mut section, count);
        for _ in 0..count {
            let size = read_leb(body, &mut p) as usize;
            let f = &body[p..p + size];
            p += size;
            let mut nf = Vec::new();
            let mut i = 0;
            while i < f.len() {
                if i + 2 < f.len() && f[i] == 0x11 && f[i + 1] == 0x00 && f[i + 2] == 0x00 {
                    nf.extend_from_slice(&[0x11, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00]);
                    i += 3;
                    padded += 1;
                } else {
                    nf.push(f[i]);
                    i += 1;
                }
            }
            write_leb(&mut section, nf.len() as u32);
            section.extend_from_slice(&nf);
        }
        out.push(10);
        write_leb(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
    }
    assert_eq!(
        padded, 1,
        "features.wat must have exactly one call_indirect 0 0"
    );
    out
}
