//! Shared helpers of the end-to-end tests: [`Guest`], a running `clew boot` driven over a
//! pipe as a user drives the serial console; [`clew`], one `clew` command with piped
//! stdin; [`fnv1a64`] and [`build_cached`], the cache of compiled test programs.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs the `clew` under test with `args` and the extra environment `env`, `stdin` written
/// from a thread (so a large input cannot deadlock against unread output); collects its
/// exit status, stdout and stderr.
pub fn clew(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting clew");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("waiting for clew");
    writer.join().unwrap();
    out
}

/// FNV-1a (64-bit): the cache key of compiled test programs (`tests/tools/gen_expected.py`
/// computes the same for the WASI cases).
pub fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The cached build of test program `name`: `ROOT/wasm/<fnv1a64(key)>/NAME.wasm`, made by
/// `build` (given a temporary path to write) only when absent, then renamed into place, so
/// tests running at once never see a half-written module. `key` must cover everything the
/// build depends on (compiler flags and version, sources).
pub fn build_cached(
    root: &std::path::Path,
    name: &str,
    key: &[u8],
    build: impl FnOnce(&std::path::Path) -> Result<(), String>,
) -> Result<std::path::PathBuf, String> {
    let dir = root.join("wasm").join(format!("{:016x}", fnv1a64(key)));
    let out = dir.join(format!("{name}.wasm"));
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!("{name}.wasm.{}.tmp", std::process::id()));
    build(&tmp)?;
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// The shell's prompt.
pub const PROMPT: &str = "clew> ";

/// A running `clew boot` whose console output is collected by a reader thread.
pub struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
}

impl Guest {
    /// Starts `clew boot EXTRA...`.
    pub fn boot(extra: &[&str]) -> Guest {
        Guest::boot_env(extra, &[])
    }

    /// Starts `clew boot EXTRA...` with further environment variables for `clew`.
    pub fn boot_env(extra: &[&str], env: &[(&str, &str)]) -> Guest {
        // `CLEW_SHELL_ENGINE=interp|native` runs the guest's programs under that tier
        // (kernel command line `engine=...`; the default, auto, runs /bin natively).
        let mut engine = Vec::new();
        if let Ok(e) = std::env::var("CLEW_SHELL_ENGINE") {
            if !e.is_empty() && !extra.contains(&"--cmdline") {
                engine = vec!["--cmdline".to_string(), format!("engine={e}")];
            }
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_clew"))
            .arg("boot")
            .args(extra)
            .args(&engine)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Its own process group, so that a failing test can kill QEMU with it.
            .process_group(0)
            .spawn()
            .expect("starting clew boot");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let output = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // The console turns LF into CRLF; the tests compare plain lines.
                let text = String::from_utf8_lossy(&buf[..n]).replace('\r', "");
                sink.lock().unwrap().push_str(&text);
            }
        });
        Guest {
            child,
            stdin,
            output,
        }
    }

    /// Boots and waits for the first prompt.
    pub fn boot_to_prompt(extra: &[&str]) -> Guest {
        Guest::boot_to_prompt_env(extra, &[])
    }

    /// [`Guest::boot_env`], then waits for the first prompt.
    pub fn boot_to_prompt_env(extra: &[&str], env: &[(&str, &str)]) -> Guest {
        let guest = Guest::boot_env(extra, env);
        guest.wait_for(PROMPT, 1, Duration::from_secs(60));
        guest
    }

    /// Everything the console printed so far (without CRs).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the console shows `pattern` at least `count` times.
    pub fn wait_for(&self, pattern: &str, count: usize, timeout: Duration) {
        let start = Instant::now();
        while self.output().matches(pattern).count() < count {
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {count}x {pattern:?}; console so far:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends raw bytes to the console.
    pub fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Number of prompts printed so far.
    pub fn prompts(&self) -> usize {
        self.output().matches(PROMPT).count()
    }

    /// Types a command line and waits for the next prompt. Returns what the console showed
    /// after the echoed line, up to (not including) the new prompt.
    pub fn command(&mut self, line: &str) -> String {
        self.command_timeout(line, Duration::from_secs(60))
    }

    /// [`Guest::command`] with a timeout.
    pub fn command_timeout(&mut self, line: &str, timeout: Duration) -> String {
        let prompts = self.prompts();
        let before = self.output().len();
        self.send(format!("{line}\n").as_bytes());
        self.wait_for(PROMPT, prompts + 1, timeout);
        let text = self.output()[before..].to_string();
        let after_echo = text.split_once('\n').map(|(_, rest)| rest).unwrap_or("");
        after_echo
            .strip_suffix(PROMPT)
            .unwrap_or(after_echo)
            .to_string()
    }

    /// Waits for QEMU to exit and returns the tool's exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > timeout {
                panic!("guest did not exit; console:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `poweroff` and checks that the guest exits with status 0.
    pub fn poweroff(mut self) {
        self.send(b"poweroff\n");
        let code = self.wait_exit(Duration::from_secs(60));
        assert_eq!(code, 0, "poweroff did not exit 0:\n{}", self.output());
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        // Kill the whole group (clew and its QEMU), not just clew: a direct kill(2) of the
        // group. (Not the `kill` command: procps-ng's parsing of `-PGID` after a signal
        // option has killed far more than the group here.)
        if let Some(group) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}
