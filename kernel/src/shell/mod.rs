//! The serial shell (`clew> `): reads a line with `kernel_logic::line`'s editor, parses it
//! with the `shell-syntax` crate and runs it.
//!
//! # What a line can do (see `help`)
//! - Lists `a; b`, `a && b`, `a || b`, run in order; each pipeline is expanded (`$NAME`,
//!   `$?`) right before it runs, so `false; echo $?` prints 1 and `X=1; echo $X` prints 1.
//! - Pipelines `a | b | c`: real processes running concurrently, joined by kernel pipes;
//!   the status is the last command's. Redirections `<`, `>`, `>>`, `2>`, `2>>`, `2>&1`,
//!   `>&2`, applied left to right after the pipe connections.
//! - `&` starts a pipeline as background job `%N`; `jobs`, `kill %N` / `kill PID`; finished
//!   jobs are reported before the next prompt. Ctrl-C kills the foreground process.
//! - Variables: shell variables and the exported environment that programs receive.
//!
//! # Modules
//! - `exec`: running an expanded pipeline: program lookup, stdio wiring, waiting.
//! - `builtins`: `cd`, `pwd`, `export`, `unset`, `jobs`, `kill`, `ps`, `mem`, `uptime`,
//!   `help`, `poweroff`, `exit` (= `poweroff`).
//! - `jobs`: the background job table.
//! - `paths`: the working directory and path resolution over the global VFS (`crate::fs`).
//!
//! The shell never dies because of a program: every error becomes one line on the console
//! (`clew: NAME: ...`) and a nonzero `$?`. Neighbours: `crate::process` (spawn, pipes,
//! files, wait, kill, foreground), `crate::console` (input bytes, output), `crate::fs`.

mod builtins;
mod exec;
mod jobs;
mod paths;

use crate::{print, println};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use kernel_logic::line::{Edit, LineEditor};

/// The prompt.
pub const PROMPT: &str = "clew> ";

/// Ctrl-C as the console delivers it.
const CTRL_C: u8 = 0x03;

/// The shell task's body.
pub fn run() {
    let mut shell = Shell::new();
    let mut editor = LineEditor::new();
    shell.jobs.report_finished();
    print!("{PROMPT}");
    loop {
        let byte = crate::console::read_byte();
        if byte == CTRL_C {
            // Abandon the line being typed, as sh does.
            editor = LineEditor::new();
            println!("^C");
            shell.jobs.report_finished();
            print!("{PROMPT}");
            continue;
        }
        match editor.feed(byte) {
            Edit::None => {}
            Edit::Echo(c) => print!("{c}"),
            Edit::Erase(n) => {
                for _ in 0..n {
                    print!("\x08 \x08");
                }
            }
            Edit::Line(line) => {
                println!();
                shell.execute_line(&line);
                shell.jobs.report_finished();
                print!("{PROMPT}");
            }
        }
    }
}

/// A shell variable; `exported` ones go into every program's environment.
#[derive(Clone, Debug, Default)]
struct Var {
    /// `None`: marked for export by `export NAME` but never set.
    value: Option<String>,
    exported: bool,
}

/// The shell's state: working directory, variables, `$?`, jobs.
pub struct Shell {
    /// Absolute, normalized path of the working directory (no `.`/`..`, no trailing `/`
    /// except for the root itself).
    cwd: String,
    vars: BTreeMap<String, Var>,
    last_status: i32,
    jobs: jobs::Jobs,
}

impl shell_syntax::Vars for Shell {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).and_then(|v| v.value.clone())
    }

    fn last_status(&self) -> i32 {
        self.last_status
    }
}

impl Shell {
    fn new() -> Shell {
        let mut shell = Shell {
            cwd: "/".to_string(),
            vars: BTreeMap::new(),
            last_status: 0,
            jobs: jobs::Jobs::default(),
        };
        for (name, value) in [("PATH", "/bin"), ("HOME", "/"), ("PWD", "/")] {
            shell.set_var(name, value.to_string());
            shell.export(name);
        }
        shell
    }

    /// Sets a variable, keeping its export flag.
    fn set_var(&mut self, name: &str, value: String) {
        self.vars.entry(name.to_string()).or_default().value = Some(value);
    }

    /// Marks a variable for export (it need not be set yet).
    fn export(&mut self, name: &str) {
        self.vars.entry(name.to_string()).or_default().exported = true;
    }

    fn unset(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The exported environment, in name order.
    fn environment(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(_, v)| v.exported)
            .filter_map(|(k, v)| v.value.as_ref().map(|value| (k.clone(), value.clone())))
            .collect()
    }

    /// Parses and runs one input line.
    pub fn execute_line(&mut self, input: &str) {
        let line = match shell_syntax::parse(input) {
            Ok(line) => line,
            Err(e) => {
                println!("clew: {e}");
                self.last_status = 2;
                return;
            }
        };
        for item in &line.items {
            if !item.condition.should_run(self.last_status) {
                continue;
            }
            let pipeline = item.pipeline.expand(self);
            let text = exec::describe(&pipeline);
            if pipeline.background {
                self.last_status = self.start_background(&pipeline, text);
            } else {
                self.last_status = self.run_foreground(&pipeline);
            }
        }
    }
}
