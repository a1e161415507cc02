//! End-to-end tests of the kernel core through `clew boot`, as a user drives it: the
//! in-kernel test suite (`--cmdline test`) and a scripted shell session over a pipe
//! (`ps`, `mem`, `uptime` twice two seconds apart, `poweroff`).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `clew boot` whose console output is collected by a reader thread.
struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
}

impl Guest {
    fn boot(extra: &[&str]) -> Guest {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clew"))
            .arg("boot")
            .args(extra)
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
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Guest {
            child,
            stdin,
            output,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the console shows `pattern` at least `count` times.
    fn wait_for(&self, pattern: &str, count: usize, timeout: Duration) {
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

    /// Types a command line and waits for the next prompt.
    fn command(&mut self, line: &str) -> String {
        let prompts = self.output().matches("clew> ").count();
        let before = self.output().len();
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        self.wait_for("clew> ", prompts + 1, Duration::from_secs(60));
        self.output()[before..].to_string()
    }

    fn wait_exit(&mut self, timeout: Duration) -> i32 {
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

/// Extracts the seconds figure from `uptime` output such as `up 3.52 s`.
fn uptime_seconds(text: &str) -> f64 {
    let after = text
        .split("up ")
        .nth(1)
        .unwrap_or_else(|| panic!("no uptime in {text:?}"));
    let number: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("bad uptime in {text:?}"))
}

#[test]
fn in_kernel_test_suite_passes() {
    let mut guest = Guest::boot(&["--cmdline", "test"]);
    let code = guest.wait_exit(Duration::from_secs(240));
    let out = guest.output();
    let summary = out
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed") && l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary line in:\n{out}"));
    println!("in-kernel tests: {summary}");
    assert!(summary.trim().ends_with(", 0 failed"), "{out}");
    let passed: u32 = summary.split_whitespace().next().unwrap().parse().unwrap();
    assert!(passed >= 10, "only {passed} in-kernel tests ran:\n{out}");
    assert_eq!(code, 0, "in-kernel tests failed:\n{out}");
}

#[test]
fn shell_session_over_a_pipe() {
    let mut guest = Guest::boot(&[]);
    guest.wait_for("clew> ", 1, Duration::from_secs(60));

    let ps = guest.command("ps");
    for word in ["ID", "NAME", "STATE", "shell", "idle"] {
        assert!(ps.contains(word), "ps lacks {word:?}:\n{ps}");
    }
    let mem = guest.command("mem");
    assert!(
        mem.contains("free") && mem.contains("heap"),
        "mem lacks figures:\n{mem}"
    );
    let first = uptime_seconds(&guest.command("uptime"));
    std::thread::sleep(Duration::from_secs(2));
    let second = uptime_seconds(&guest.command("uptime"));
    assert!(
        second - first >= 1.5,
        "uptime did not grow with time: {first} then {second}"
    );
    let unknown = guest.command("frobnicate");
    assert!(unknown.contains("frobnicate"), "no error line:\n{unknown}");

    let stdin = guest.stdin.as_mut().unwrap();
    stdin.write_all(b"poweroff\n").unwrap();
    let code = guest.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "poweroff did not exit 0:\n{}", guest.output());
}

#[test]
fn boot_dir_changes_reach_the_host() {
    let host = std::env::temp_dir().join(format!("clew-boot-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&host);
    std::fs::create_dir_all(host.join("sub")).unwrap();
    std::fs::write(host.join("keep.txt"), "kept\n").unwrap();
    std::fs::write(host.join("sub/gone.txt"), "bye\n").unwrap();
    let dir_arg = format!("{}::/data", host.display());
    let mut guest = Guest::boot(&["--dir", &dir_arg]);
    guest.wait_for("clew> ", 1, Duration::from_secs(60));
    let listing = guest.command("ls /data/sub");
    assert!(
        listing.contains("gone.txt"),
        "--dir not visible:\n{listing}"
    );
    guest.command("echo made in clew > /data/new.txt");
    guest.command("rm /data/sub/gone.txt");
    guest.command("mkdir /data/made");
    let stdin = guest.stdin.as_mut().unwrap();
    stdin.write_all(b"poweroff\n").unwrap();
    assert_eq!(guest.wait_exit(Duration::from_secs(60)), 0);
    assert_eq!(
        std::fs::read_to_string(host.join("new.txt")).unwrap(),
        "made in clew\n"
    );
    assert_eq!(
        std::fs::read_to_string(host.join("keep.txt")).unwrap(),
        "kept\n"
    );
    assert!(!host.join("sub/gone.txt").exists());
    assert!(host.join("made").is_dir());
}
