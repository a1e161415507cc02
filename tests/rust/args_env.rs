//! std::env: the arguments (unicode, an empty one, one that looks like an option) and the
//! variables given with `--env`, exactly those and in full.

use std::env::{self, VarError};

const ARGS: [&str; 5] = ["plain", "two words", "ünïcödé ✓ 日本", "", "--not-an-option"];

fn main() {
    let args: Vec<String> = env::args().collect();
    assert_eq!(args.len(), 1 + ARGS.len(), "{args:?}");
    assert!(args[0].ends_with("args_env.wasm"), "argv[0] is {:?}", args[0]);
    assert_eq!(args[1..], ARGS);
    assert_eq!(env::args_os().count(), args.len());
    for (i, arg) in args.iter().enumerate().skip(1) {
        println!(
            "arg {i}: {arg:?} ({} bytes, {} chars)",
            arg.len(),
            arg.chars().count()
        );
    }

    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    let expected = [
        ("CLEW_EMPTY", ""),
        ("CLEW_EQ", "a=b=c"),
        ("CLEW_UNICODE", "ζ∑ x"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(vars, expected);
    for (k, v) in &vars {
        println!("env {k}={v:?}");
    }
    assert_eq!(env::var("CLEW_EQ").as_deref(), Ok("a=b=c"));
    assert_eq!(env::var("CLEW_EMPTY").as_deref(), Ok(""));
    assert_eq!(env::var("CLEW_UNSET"), Err(VarError::NotPresent));
    assert!(env::var_os("PATH").is_none(), "the host's environment leaked in");

    // The program's own changes.
    env::set_var("CLEW_SET", "by the program");
    assert_eq!(env::var("CLEW_SET").as_deref(), Ok("by the program"));
    env::remove_var("CLEW_EQ");
    assert_eq!(env::var("CLEW_EQ"), Err(VarError::NotPresent));
    assert_eq!(env::vars().count(), 3);
    println!("set_var and remove_var: ok");
}
