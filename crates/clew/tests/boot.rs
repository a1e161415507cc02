//! End-to-end tests of the kernel core through `clew boot`, as a user drives it: the
//! in-kernel test suite (`--cmdline test`) and a scripted shell session over a pipe
//! (`ps`, `mem`, `uptime` twice two seconds apart, `poweroff`).

mod common;

use common::Guest;
use std::time::Duration;

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

/// Vector state across preemption with AVX on: the in-kernel test that runs
/// `avx2`-profile SIMD code in three processes at once, on QEMU's `max` CPU (under the
/// default CPU the suite above runs it with the baseline code).
#[test]
fn avx_code_survives_preemption_on_the_max_cpu() {
    let mut guest = Guest::boot(&["--cpu-max", "--cmdline", "test only=native_avx"]);
    let code = guest.wait_exit(Duration::from_secs(240));
    let out = guest.output();
    assert!(
        out.contains("avx2 profile: 3 concurrent native runs")
            && out.contains("test native_avx_preemption ... ok")
            && out.contains("1 passed, 0 failed"),
        "{out}"
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn shell_session_over_a_pipe() {
    let mut guest = Guest::boot_to_prompt(&[]);

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

    guest.poweroff();
}

#[test]
fn boot_dir_changes_reach_the_host() {
    // Through guest RAM shared with QEMU, then through the serial port.
    boot_dir_changes_reach_the_host_via(&[]);
    boot_dir_changes_reach_the_host_via(&[("CLEW_NO_SHARED_RAM", "1")]);
}

fn boot_dir_changes_reach_the_host_via(env: &[(&str, &str)]) {
    let host = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("boot-tests")
        .join(format!("dir-{}-{}", std::process::id(), env.len()));
    let _ = std::fs::remove_dir_all(&host);
    std::fs::create_dir_all(host.join("sub")).unwrap();
    std::fs::write(host.join("keep.txt"), "kept\n").unwrap();
    std::fs::write(host.join("sub/gone.txt"), "bye\n").unwrap();
    let dir_arg = format!("{}::/data", host.display());
    let mut guest = Guest::boot_to_prompt_env(&["--dir", &dir_arg], env);
    let listing = guest.command("ls /data/sub");
    assert!(
        listing.contains("gone.txt"),
        "--dir not visible:\n{listing}"
    );
    guest.command("echo made in clew > /data/new.txt");
    guest.command("rm /data/sub/gone.txt");
    guest.command("mkdir /data/made");
    guest.poweroff();
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
    let _ = std::fs::remove_dir_all(&host);
}
