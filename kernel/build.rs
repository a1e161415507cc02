//! Links the kernel binary with `link.ld` as a static, non-PIE image without the C runtime,
//! and assembles the in-kernel tests' wasm modules from `tests-wasm/*.wat`.
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
    for name in ["exit42", "divzero", "spin", "count", "throw"] {
        let src = format!("{dir}/tests-wasm/{name}.wat");
        println!("cargo:rerun-if-changed={src}");
        let wasm = wat::parse_file(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        std::fs::write(format!("{out}/{name}.wasm"), wasm).expect("writing OUT_DIR");
    }
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
