//! `Marked` (feature `wasmi`): compiles the marked copy and names a trap's function; a
//! module the copy cannot be made of is compiled as it is, and its error is wasmi's own.

use trap_site::Marked;
use wasmi::{Engine, Linker, Store};

/// Compiles `wasm` marked, calls its export `run` (which must trap) and returns what
/// `locate` says: the function and the backtrace.
fn trap_in_run(engine: &Engine, wasm: &[u8]) -> (String, String) {
    let marked = Marked::compile(engine, wasm).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Linker::<()>::new(engine)
        .instantiate_and_start(&mut store, &marked.module)
        .unwrap();
    let run = instance.get_func(&store, "run").unwrap();
    assert!(run.call(&mut store, &[], &mut []).is_err());
    marked.locate(&store, &instance).unwrap()
}

#[test]
fn locates_the_trap_and_falls_back_to_the_original() {
    let wasm = wat::parse_str(
        r#"(module (func $inner (unreachable)) (func $outer (export "run") (call $inner)))"#,
    )
    .unwrap();
    let engine = Engine::default();
    let (func, backtrace) = trap_in_run(&engine, &wasm);
    assert_eq!(func, "inner");
    assert!(backtrace.ends_with("0: <unknown>!inner"), "{backtrace}");

    // Not a module the pass can read: wasmi's error about these bytes, not about a copy.
    let err = Marked::compile(&engine, b"\0asm\x01\0\0\0\x05garbage").unwrap_err();
    assert!(!err.to_string().is_empty());
}

/// DWARF, recognised as wasmtime 48 does (a custom section named `.debug_*`, a split
/// `.dwo` one too), puts wasmtime's note after the backtrace; other custom sections don't.
#[test]
fn dwarf_adds_wasmtimes_note() {
    let module = |custom: &str| {
        wat::parse_str(format!(
            r#"(module {custom} (func $inner (unreachable)) (func (export "run") (call $inner)))"#
        ))
        .unwrap()
    };
    let cases = [
        (r#"(@custom ".debug_info" "\01\02")"#, true),
        (r#"(@custom ".debug_line.dwo" "")"#, true),
        (r#"(@custom "debug_info" "x")"#, false),
        (r#"(@custom ".debugx" "x")"#, false),
        ("", false),
    ];
    let engine = Engine::default();
    for (custom, dwarf) in cases {
        let wasm = module(custom);
        assert_eq!(trap_site::has_dwarf(&wasm), dwarf, "{custom}");
        let (_, backtrace) = trap_in_run(&engine, &wasm);
        let expected = if dwarf {
            format!("0: <unknown>!inner\n{}", trap_site::DWARF_NOTE)
        } else {
            "0: <unknown>!inner".to_string()
        };
        assert!(backtrace.ends_with(&expected), "{custom}: {backtrace}");
    }
    assert!(!trap_site::has_dwarf(b"\0asm\x01\0\0\0\x05garbage"));
    assert!(!trap_site::has_dwarf(b"not wasm"));
}
