//! End-to-end tests of Clew's shell through `clew boot`, typed over a pipe as a user types
//! at `clew> `: programs from `/bin` with pipes and redirections, `$?`, variables, `cd`,
//! background jobs and `kill`, Ctrl-C, traps that leave the shell alive (test programs from
//! `tests/shell/*.c`, compiled here with clang and shared with `--dir`), and the adventure
//! game won from scripted input.

mod common;

use common::Guest;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The userland every Clew has in `/bin` (issue 4).
const USERLAND: &[&str] = &[
    "ls",
    "cat",
    "echo",
    "wc",
    "grep",
    "head",
    "tail",
    "hexdump",
    "mkdir",
    "rm",
    "cp",
    "mv",
    "touch",
    "env",
    "sleep",
    "true",
    "false",
    "adventure",
];

/// The non-empty lines of `text`, trimmed.
fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Compiles `tests/shell/NAME.c` into `dir/NAME.wasm` with clang (as `apps/` are built).
fn compile_test_program(name: &str, dir: &Path, native: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let src = root.join("tests/shell").join(format!("{name}.c"));
    let out = dir.join(format!("{name}.wasm"));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let status = std::process::Command::new(&clang)
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {clang} (needs clang, lld, wasi-libc): {e}"));
    assert!(status.success(), "compiling {} failed", src.display());
    // Under `CLEW_SHELL_ENGINE=native` the guest runs only precompiled programs.
    if native || std::env::var("CLEW_SHELL_ENGINE").as_deref() == Ok("native") {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_clew"))
            .arg("compile")
            .arg(&out)
            .status()
            .expect("running clew compile");
        assert!(status.success(), "clew compile {} failed", out.display());
    }
}

/// A fresh host directory holding the compiled test programs, shared as `/t`.
/// `native`: with their `.cwasm` beside them (`clew compile`).
fn test_programs(native: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("shell-tests")
        .join(format!("{}-{native}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["spin", "trap"] {
        compile_test_program(name, &dir, native);
    }
    dir
}

#[test]
fn pipes_status_and_variables() {
    let mut g = Guest::boot_to_prompt(&[]);

    let out = g.command("echo hello | wc -c");
    assert_eq!(lines(&out), ["6"], "echo hello | wc -c:\n{out}");

    let out = g.command("ls /bin");
    // On the console `ls` prints columns (filled top to bottom): sort the names back.
    let mut listed: Vec<&str> = out.split_whitespace().collect();
    listed.sort_unstable();
    for name in USERLAND {
        assert!(listed.contains(name), "ls /bin lacks {name}:\n{out}");
    }

    // A three-stage pipeline with grep, checked against the listing itself.
    let with_e = listed.iter().filter(|n| n.contains('e')).count();
    let out = g.command("ls /bin | grep e | wc -l");
    assert_eq!(lines(&out), [with_e.to_string()], "ls | grep | wc:\n{out}");
    let out = g.command("ls /bin | grep -v e | head -n 2");
    let expected: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|n| !n.contains('e'))
        .take(2)
        .collect();
    assert_eq!(lines(&out), expected, "ls | grep -v | head:\n{out}");

    g.command("false");
    assert_eq!(lines(&g.command("echo $?")), ["1"]);
    assert_eq!(lines(&g.command("true; echo $?")), ["0"]);
    assert_eq!(lines(&g.command("false; echo $?")), ["1"]);
    let out = g.command("frobnicate");
    assert!(
        out.contains("clew: frobnicate: command not found"),
        "no error line:\n{out}"
    );
    assert_eq!(lines(&g.command("echo $?")), ["127"]);
    assert_eq!(
        lines(&g.command("false && echo no || echo yes")),
        ["yes"],
        "&& / ||"
    );
    assert_eq!(
        lines(&g.command("X=1; echo $X \"${X}2\" '$X'")),
        ["1 12 $X"]
    );

    // Shell variables stay in the shell; exported ones reach programs.
    g.command("LOCAL=1");
    let out = g.command("env");
    assert!(
        !out.contains("LOCAL="),
        "unexported variable leaked:\n{out}"
    );
    g.command("export GREETING='hi there'");
    let out = g.command("env | grep GREETING");
    assert_eq!(lines(&out), ["GREETING=hi there"], "{out}");
    assert_eq!(lines(&g.command("echo $GREETING")), ["hi there"]);
    let out = g.command("ONLY=once env | grep ONLY");
    assert_eq!(lines(&out), ["ONLY=once"], "{out}");
    assert_eq!(lines(&g.command("echo [$ONLY]")), ["[]"]);
    g.command("unset GREETING");
    assert!(lines(&g.command("env | grep GREETING")).is_empty());

    // Builtins write into pipes and files too.
    let out = g.command("help | grep poweroff");
    assert!(out.contains("poweroff"), "help | grep:\n{out}");
    let out = g.command("help");
    for builtin in [
        "cd", "pwd", "export", "unset", "jobs", "kill", "ps", "mem", "uptime", "help", "poweroff",
        "exit",
    ] {
        assert!(out.contains(builtin), "help lacks {builtin}:\n{out}");
    }

    // Syntax errors are one line; the shell goes on.
    let out = g.command("echo 'unterminated");
    assert!(out.contains("syntax error"), "{out}");
    assert_eq!(lines(&g.command("echo still here")), ["still here"]);
    g.poweroff();
}

#[test]
fn redirections_and_cd() {
    let mut g = Guest::boot_to_prompt(&[]);

    let out = g.command("echo a > /tmp/f; echo b >> /tmp/f; cat < /tmp/f");
    assert_eq!(lines(&out), ["a", "b"], "{out}");
    g.command("echo c > /tmp/f");
    assert_eq!(lines(&g.command("cat /tmp/f")), ["c"], "> truncates");

    // 2> sends only stderr to the file.
    let out = g.command("cat /tmp/f /nonexistent 2> /tmp/err");
    assert_eq!(lines(&out), ["c"], "stdout stays on the console:\n{out}");
    assert_ne!(lines(&g.command("echo $?")), ["0"]);
    let err = g.command("cat /tmp/err");
    assert!(err.contains("nonexistent"), "2> file:\n{err}");
    g.command("cat /nonexistent 2>> /tmp/err");
    let out = g.command("wc -l < /tmp/err");
    assert_eq!(lines(&out), ["2"], "2>> appends:\n{out}");

    // 2>&1 into a file and into a pipe.
    g.command("cat /tmp/f /nonexistent > /tmp/both 2>&1");
    let both = g.command("cat /tmp/both");
    assert!(
        both.contains('c') && both.contains("nonexistent"),
        "> f 2>&1:\n{both}"
    );
    let out = g.command("cat /nonexistent 2>&1 | wc -l");
    assert_eq!(lines(&out), ["1"], "2>&1 |:\n{out}");
    let out = g.command("echo to-stderr >&2 | wc -c");
    let l = lines(&out);
    assert!(
        l.contains(&"to-stderr") && l.contains(&"0"),
        ">&2 bypasses the pipe:\n{out}"
    );
    let out = g.command("cat < /nonexistent");
    assert!(out.contains("/nonexistent"), "{out}");
    assert_eq!(lines(&g.command("echo $?")), ["1"]);

    // cd, pwd, relative paths.
    let out = g.command("cd /tmp; pwd; ls");
    let l = lines(&out);
    assert_eq!(l.first(), Some(&"/tmp"), "{out}");
    for f in ["f", "err", "both"] {
        assert!(
            out.split_whitespace().any(|w| w == f),
            "ls lacks {f}:\n{out}"
        );
    }
    g.command("mkdir sub; echo deep > sub/x");
    assert_eq!(
        lines(&g.command("cd sub; pwd; cat x")),
        ["/tmp/sub", "deep"]
    );
    assert_eq!(lines(&g.command("cd ..; pwd")), ["/tmp"]);
    let out = g.command("cd /nonexistent");
    assert!(out.contains("clew: cd: /nonexistent"), "{out}");
    assert_eq!(lines(&g.command("echo $?; pwd")), ["1", "/tmp"]);
    let out = g.command("cd f");
    assert!(out.contains("not a directory"), "{out}");
    assert_eq!(lines(&g.command("cd; pwd")), ["/"]);
    g.poweroff();
}

#[test]
fn background_jobs_and_kill() {
    let mut g = Guest::boot_to_prompt(&[]);

    let out = g.command("sleep 100 &");
    let first = lines(&out);
    assert!(
        first.first().is_some_and(|l| l.starts_with("[1] ")),
        "no job line:\n{out}"
    );
    let pid = first[0].trim_start_matches("[1] ").to_string();
    let out = g.command("jobs");
    assert!(
        out.contains("[1]") && out.contains("Running") && out.contains("sleep 100"),
        "jobs:\n{out}"
    );
    let out = g.command("ps");
    assert!(out.contains("sleep"), "ps lacks the job:\n{out}");
    g.command("kill %1");
    let out = g.command("jobs");
    assert!(
        !out.contains("Running"),
        "job still running after kill:\n{out}"
    );
    let out = g.command("ps");
    assert!(
        !out.lines().any(|l| l.contains("sleep") && l.contains(&pid)),
        "process still listed after kill:\n{out}"
    );

    // kill PID, and a job that ends by itself is reported before a prompt.
    let out = g.command("sleep 100 &");
    let pid = lines(&out)[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    g.command(&format!("kill {pid}"));
    assert!(!g.command("jobs").contains("Running"));
    g.command("sleep 0.2 &");
    std::thread::sleep(Duration::from_secs(2));
    let out = g.command("echo next");
    assert!(out.contains("Done") && out.contains("sleep 0.2"), "{out}");
    let out = g.command("kill %7");
    assert!(out.contains("no such job"), "{out}");
    g.poweroff();
}

#[test]
fn ctrl_c_ends_the_foreground_program() {
    let mut g = Guest::boot_to_prompt(&[]);
    let prompts = g.prompts();
    g.send(b"sleep 100\n");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(g.prompts(), prompts, "sleep 100 returned early");
    g.send(&[0x03]);
    g.wait_for(common::PROMPT, prompts + 1, Duration::from_secs(20));
    let status = g.command("echo $?");
    assert_ne!(lines(&status), ["0"], "status after Ctrl-C:\n{status}");

    // A pipeline: Ctrl-C ends all of it.
    let prompts = g.prompts();
    g.send(b"sleep 100 | cat\n");
    std::thread::sleep(Duration::from_secs(2));
    g.send(&[0x03]);
    g.wait_for(common::PROMPT, prompts + 1, Duration::from_secs(20));

    // Ctrl-C at the prompt abandons the line being typed.
    let prompts = g.prompts();
    g.send(b"echo never");
    g.send(&[0x03]);
    g.wait_for(common::PROMPT, prompts + 1, Duration::from_secs(20));
    assert_eq!(lines(&g.command("echo alive")), ["alive"]);
    assert!(!g.output().contains("\nnever"));
    g.poweroff();
}

/// Under the interpreter (fuel slices end the loop) and natively (the timer sends the
/// loop's code to a trap site), whatever `CLEW_SHELL_ENGINE` says.
#[test]
fn spinning_job_killed_and_traps_leave_the_shell_alive_interp() {
    spinning_job_killed_and_traps_leave_the_shell_alive("interp");
}

#[test]
fn spinning_job_killed_and_traps_leave_the_shell_alive_native() {
    spinning_job_killed_and_traps_leave_the_shell_alive("native");
}

fn spinning_job_killed_and_traps_leave_the_shell_alive(engine: &str) {
    let dir = test_programs(engine == "native");
    let mapping = format!("{}::/t", dir.display());
    let cmdline = format!("engine={engine}");
    let mut g = Guest::boot_to_prompt(&["--dir", &mapping, "--cmdline", &cmdline]);

    // A background job in a compute loop that makes no WASI calls.
    let out = g.command("/t/spin.wasm &");
    assert!(out.contains("[1] "), "{out}");
    g.wait_for("spinning", 1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    let out = g.command("jobs");
    assert!(out.contains("Running") && out.contains("spin"), "{out}");
    g.command("kill %1");
    let out = g.command("jobs");
    assert!(!out.contains("Running"), "spin survived kill:\n{out}");

    // The same in the foreground, ended by Ctrl-C.
    let prompts = g.prompts();
    let spins = g.output().matches("spinning").count();
    g.send(b"cd /t; ./spin.wasm\n");
    g.wait_for("spinning", spins + 1, Duration::from_secs(30));
    g.send(&[0x03]);
    g.wait_for(common::PROMPT, prompts + 1, Duration::from_secs(30));

    // Every kind of trap ends only the program.
    // The diagnosis names the trap and the function (name section), in either tier.
    for (kind, trap, func) in [
        ("div", "integer divide by zero", "main"),
        ("unreachable", "unreachable", "main"),
        ("oob", "out of bounds memory access", "main"),
        ("stack", "call stack exhausted", "recurse"),
        ("indirect", "undefined element", "main"),
    ] {
        let out = g.command(&format!("./trap.wasm {kind}; echo status=$?"));
        assert!(out.contains(&format!("trap: {kind}")), "{out}");
        let diagnosis = format!("(in function `{func}`)");
        assert!(
            out.lines()
                .any(|l| l.contains(trap) && l.contains(&diagnosis)),
            "trap {kind}: no line naming `{trap}` and {diagnosis}:\n{out}"
        );
        assert!(out.contains("status=134"), "trap {kind}:\n{out}");
        assert_eq!(lines(&g.command("echo alive")), ["alive"], "after {kind}");
    }
    let out = g.command("./nonexistent.wasm");
    assert!(out.contains("nonexistent.wasm"), "{out}");
    assert_eq!(lines(&g.command("echo $?")), ["127"]);
    let out = g.command("/t");
    assert!(out.contains("is a directory"), "{out}");
    assert_eq!(lines(&g.command("echo $?")), ["126"]);
    g.poweroff();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn adventure_won_over_the_console() {
    let mut g = Guest::boot_to_prompt(&[]);
    let walkthrough = [
        "n",
        "w",
        "take key",
        "take thread",
        "e",
        "e",
        "take cake",
        "w",
        "n",
        "n",
        "n",
        "drop cake",
        "n",
        "take crown",
        "s",
        "s",
        "s",
        "s",
        "s",
    ];
    let prompts = g.prompts();
    let mut input = String::from("adventure\n");
    for step in walkthrough {
        input.push_str(step);
        input.push('\n');
    }
    g.send(input.as_bytes());
    g.wait_for("You have won!", 1, Duration::from_secs(120));
    g.wait_for(common::PROMPT, prompts + 1, Duration::from_secs(60));
    let out = g.output();
    assert!(out.contains("Score: 100 of 100"), "{out}");
    assert_eq!(lines(&g.command("echo $?")), ["0"]);
    g.poweroff();
}
