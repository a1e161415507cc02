//! The instrumented module behaves as the original and its global names the function a
//! trap happened in (run under wasmi, the engine the marks are for).

use trap_site::{describe, function_name, instrument, Instrumented, EXPORT_NAME};
use wasmi::{Engine, Linker, Module, Store, Val};

/// Instruments `wat`, runs export `run` with `arg`, and returns the result or the trap
/// message with the named function.
fn run(wat: &str, arg: i32) -> Result<i32, (String, String)> {
    let wasm = wat::parse_str(wat).unwrap();
    let Instrumented {
        bytes,
        export,
        names,
    } = instrument(&wasm).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &bytes[..]).expect("instrumented module is valid");
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap("env", "host", |x: i32| x.wrapping_add(1000))
        .unwrap();
    linker
        .define(
            "env",
            "g",
            wasmi::Global::new(&mut store, Val::I32(7), wasmi::Mutability::Const),
        )
        .unwrap();
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let func = instance.get_func(&store, "run").unwrap();
    let mut out = [Val::I32(0)];
    match func.call(&mut store, &[Val::I32(arg)], &mut out) {
        Ok(()) => Ok(out[0].i32().unwrap()),
        Err(e) => {
            let g = instance.get_global(&store, &export).unwrap();
            let idx = g.get(&store).i32().unwrap();
            Err((
                e.as_trap_code().map(|c| c.to_string()).unwrap_or_default(),
                describe(names.as_deref(), idx as u32),
            ))
        }
    }
}

const PROGRAM: &str = r#"
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (import "env" "g" (global $g i32))
  (table 2 funcref)
  (elem (i32.const 0) $helper)
  (global $counter (mut i32) (i32.const 0))
  (func $helper (param i32) (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.add (local.get 0) (global.get $g)))
  (func $divide (param i32) (result i32)
    (i32.div_s (i32.const 100) (local.get 0)))
  (func $deep (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (unreachable))
      (else (call $deep (i32.sub (local.get 0) (i32.const 1))))))
  (func $forever (param i32) (result i32)
    (call $forever (local.get 0)))
  (func (export "run") (param $mode i32) (result i32)
    (local $x i32)
    ;; calls that return: afterwards the mark must be this function's again
    (local.set $x (call $helper (local.get $mode)))
    (local.set $x (call $host (local.get $x)))
    (local.set $x (i32.add (local.get $x) (call_indirect (param i32) (result i32) (i32.const 5) (i32.const 0))))
    (block
      (br_if 0 (i32.ne (local.get $mode) (i32.const 1)))
      ;; mode 1: trap here, after the calls returned
      (drop (i32.div_u (local.get $x) (i32.const 0))))
    (block
      (br_if 0 (i32.ne (local.get $mode) (i32.const 2)))
      ;; mode 2: trap inside a callee
      (drop (call $divide (i32.const 0))))
    (block
      (br_if 0 (i32.ne (local.get $mode) (i32.const 3)))
      ;; mode 3: indirect call through a null entry traps in the caller
      (drop (call_indirect (param i32) (result i32) (i32.const 0) (i32.const 1))))
    (block
      (br_if 0 (i32.ne (local.get $mode) (i32.const 4)))
      ;; mode 4: unreachable at the bottom of a recursion
      (drop (call $deep (i32.const 50))))
    (block
      (br_if 0 (i32.ne (local.get $mode) (i32.const 5)))
      ;; mode 5: stack exhaustion
      (drop (call $forever (i32.const 0))))
    (i32.add (local.get $x) (global.get $counter)))
)
"#;

#[test]
fn results_are_unchanged() {
    // helper(0) = 7, host → 1007, indirect helper(5) = 12 → 1019, counter 2.
    assert_eq!(run(PROGRAM, 0), Ok(1021));
    let original = wat::parse_str(PROGRAM).unwrap();
    assert!(instrument(&original).unwrap().bytes.len() > original.len() / 2);
}

#[test]
fn trap_names_the_innermost_function() {
    let trap = |mode| run(PROGRAM, mode).unwrap_err();
    assert_eq!(
        trap(1).1,
        "<wasm function 5>",
        "an unnamed function: its index"
    );
    let named = PROGRAM.replace("(func (export \"run\")", "(func $main (export \"run\")");
    let trap = |mode| run(&named, mode).unwrap_err();
    assert_eq!(trap(1), ("integer divide by zero".into(), "main".into()));
    assert_eq!(trap(2), ("integer divide by zero".into(), "divide".into()));
    assert_eq!(
        trap(3).1,
        "main",
        "a null indirect call traps in the caller"
    );
    assert!(trap(3).0.contains("uninitialized element"), "{:?}", trap(3));
    assert_eq!(trap(4).1, "deep");
    assert_eq!(trap(5).1, "forever");
    assert_eq!(trap(5).0, "call stack exhausted");
}

#[test]
fn modules_without_globals_or_exports_get_them() {
    let wasm = wat::parse_str(r#"(module (func $f unreachable) (start $f))"#).unwrap();
    let inst = instrument(&wasm).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &inst.bytes[..]).unwrap();
    assert!(module.exports().any(|e| e.name() == EXPORT_NAME));
    let mut store = Store::new(&engine, ());
    let err = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap_err();
    assert!(err.as_trap_code().is_some());
}

#[test]
fn an_existing_export_of_that_name_is_left_alone() {
    let src = format!(r#"(module (func (export "{EXPORT_NAME}")) (func (export "run")))"#);
    let inst = instrument(&wat::parse_str(&src).unwrap()).unwrap();
    assert_ne!(inst.export, EXPORT_NAME);
    Module::new(&Engine::default(), &inst.bytes[..]).expect("still valid");
}

#[test]
fn names_come_from_the_name_section() {
    let wasm = wat::parse_str(
        r#"(module (import "a" "b" (func $imp)) (func $first) (func) (func $third))"#,
    )
    .unwrap();
    let names = instrument(&wasm).unwrap().names.expect("wat writes names");
    assert_eq!(function_name(&names, 0).as_deref(), Some("imp"));
    assert_eq!(function_name(&names, 1).as_deref(), Some("first"));
    assert_eq!(function_name(&names, 2), None);
    assert_eq!(function_name(&names, 3).as_deref(), Some("third"));
    assert_eq!(describe(Some(&names), 2), "<wasm function 2>");
    assert_eq!(
        trap_site::backtrace(Some(&names), 3),
        "error while executing at wasm backtrace:\n    0: <unknown>!third"
    );
    let named = wat::parse_str(r#"(module $prog (func $f))"#).unwrap();
    let names = instrument(&named).unwrap().names.unwrap();
    assert_eq!(trap_site::module_name(&names).as_deref(), Some("prog"));
    // A name that parses as an Itanium C++ type is shown as that type: wasmtime 48 and 49
    // print `prog!float` for a function named `f` too (same demangler, same order).
    assert!(trap_site::backtrace(Some(&names), 0).ends_with("0: prog!float"));
}

#[test]
fn malformed_modules_are_refused_not_mangled() {
    assert!(instrument(b"\0asm\x01\0\0\0\x05garbage").is_err());
    assert!(instrument(b"not wasm").is_err());
    // A code section whose body runs past its end.
    assert!(instrument(b"\0asm\x01\0\0\0\x0a\x04\x01\x10\x00\x0b").is_err());
    // Truncated everywhere: an error or a module, never a panic.
    let wasm = wat::parse_str(PROGRAM).unwrap();
    for cut in 0..wasm.len() {
        let _ = instrument(&wasm[..cut]);
    }
}

#[test]
fn the_chain_is_worded_as_wasmtime_run_words_it() {
    let bt = trap_site::backtrace(None, 3);
    assert_eq!(
        trap_site::caused_by("failed to invoke command default", Some(&bt), "wasm trap: x"),
        "failed to invoke command default\n    1: error while executing at wasm backtrace:\n    0: <unknown>!<wasm function 3>\n    2: wasm trap: x"
    );
    assert_eq!(trap_site::caused_by("w", None, "m"), "w\n    1: m");
}

#[test]
fn names_are_demangled_as_wasmtime_shows_them() {
    assert_eq!(
        trap_site::demangle("_ZN4core9panicking5panic17h0123456789abcdefE"),
        "core::panicking::panic::h0123456789abcdef"
    );
    assert_eq!(trap_site::demangle("_ZN3foo3barEv"), "foo::bar()");
    assert_eq!(trap_site::demangle("main"), "main");
    assert_eq!(trap_site::demangle("recurse"), "recurse");
    assert_eq!(
        trap_site::demangle("_start.command_export"),
        "_start.command_export"
    );
}
