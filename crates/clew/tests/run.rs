//! End-to-end tests of `clew run`, which boots Clew headless and runs one program inside
//! the kernel: for the same program, arguments, environment, stdin and `--dir` tree, the
//! guest must give exactly what `clew run --host` gives (itself checked against the
//! reference wasmtime by `wasi_host.rs`): stdout and stderr byte for byte and apart, the
//! exit code, and the host directory afterwards. Also traps, and a program that is not
//! WebAssembly.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh scratch directory for `name`, under Cargo's per-target temporary directory
/// (so that runs never pile up in the system's `/tmp`).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("run-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `tests/run/NAME.c` with clang for wasm32-wasi into `dir`.
fn compile(name: &str, dir: &Path) -> PathBuf {
    let src = repo_root().join("tests/run").join(format!("{name}.c"));
    let out = dir.join(format!("{name}.wasm"));
    let status = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Werror"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("cannot run clang (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)");
    assert!(status.success(), "compiling {} failed", src.display());
    out
}

/// The ways `clew run` can run a module: each engine, in the guest and on the host.
const ENGINES: [&[&str]; 4] = [
    &["--engine", "interp"],
    &["--engine", "native"],
    &["--host", "--engine", "interp"],
    &["--host", "--engine", "native"],
];

/// WAT for the hand-written test modules: `$say` writes one byte to stdout (through
/// memory 0's first bytes and byte 100), with the `fd_write` import it needs.
const SAY: &str = r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (func $say (param $c i32)
    (i32.store8 (i32.const 100) (local.get $c))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))"#;

fn clew(args: &[&str], stdin: &[u8]) -> Output {
    clew_env(args, stdin, &[])
}

fn clew_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    common::clew(args, stdin, env)
}

/// Assembles `wat_text` into `dir/NAME.wasm` and returns that path.
fn assemble(dir: &Path, name: &str, wat_text: &str) -> String {
    let path = dir.join(format!("{name}.wasm"));
    let wasm = wat::parse_str(wat_text).expect("assembling the test module");
    std::fs::write(&path, wasm).unwrap();
    path.to_str().unwrap().to_string()
}

/// `clew run OPTIONS... MODULE ARGS...`, options given as groups (a mode, then more).
fn clew_run(options: &[&[&str]], module: &str, args: &[&str]) -> Output {
    let mut line = vec!["run"];
    for group in options {
        line.extend_from_slice(group);
    }
    line.push(module);
    line.extend_from_slice(args);
    clew(&line, b"")
}

/// Files of `dir` (relative path → contents; directories as "<dir>").
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                walk(root, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn fixture(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("delete-me.txt"), "bye\n").unwrap();
    std::fs::write(dir.join("append.txt"), "one\n").unwrap();
    std::fs::write(dir.join("old-name.txt"), "moved\n").unwrap();
}

#[test]
fn guest_matches_host_for_io_dirs_and_exit_code() {
    let work = scratch("io");
    let wasm = compile("io", &work);
    let wasm = wasm.to_str().unwrap();
    // Binary stdin with the bytes a terminal would interpret (^C, ^D, CR, DEL, NUL).
    let stdin: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect();

    let mut results = Vec::new();
    // "guest-serial": `--dir` trees back through the serial port instead of shared RAM.
    for mode in ["host", "guest", "guest-serial"] {
        let data = work.join(format!("data-{mode}"));
        fixture(&data);
        let dir_arg = format!("{}::/data", data.display());
        let mut args = vec!["run"];
        if mode == "host" {
            args.extend(["--host", "--engine", "interp"]);
        } else {
            args.extend(["--engine", "interp"]);
        }
        args.extend([
            "--dir",
            &dir_arg,
            "--env",
            "GREETING=hello world",
            wasm,
            "7",
            "two words",
            "--not-an-option",
        ]);
        let env: &[(&str, &str)] = if mode == "guest-serial" {
            &[("CLEW_NO_SHARED_RAM", "1")]
        } else {
            &[]
        };
        let out = clew_env(&args, &stdin, env);
        results.push((mode, out, tree(&data)));
    }
    let (_, serial, serial_tree) = &results[2];
    assert_eq!(serial.status.code(), Some(7), "serial run: {serial:?}");
    assert!(
        serial.stdout == results[0].1.stdout,
        "stdout differs (serial)"
    );
    assert_eq!(serial_tree, &results[0].2, "--dir differs (serial)");
    let (_, host, host_tree) = &results[0];
    let (_, guest, guest_tree) = &results[1];
    assert_eq!(host.status.code(), Some(7), "host run: {host:?}");
    assert_eq!(
        String::from_utf8_lossy(&guest.stderr),
        String::from_utf8_lossy(&host.stderr),
        "stderr differs"
    );
    assert!(
        guest.stdout == host.stdout,
        "stdout differs:\nguest: {:?}\nhost:  {:?}",
        String::from_utf8_lossy(&guest.stdout),
        String::from_utf8_lossy(&host.stdout)
    );
    assert_eq!(guest.status.code(), host.status.code(), "exit code differs");
    assert_eq!(guest_tree, host_tree, "--dir contents differ after the run");
    assert!(host_tree.contains_key("newdir/new-name.txt"));
    assert!(!host_tree.contains_key("delete-me.txt"));
}

/// The line `wasmtime run` (48, 49) ends a trap's backtrace with when the module carries
/// DWARF it did not parse.
const DWARF_NOTE: &str = "note: using the `WASMTIME_BACKTRACE_DETAILS=1` environment variable may show more debugging information";

#[test]
fn trap_reports_and_exits_134() {
    let work = scratch("trap");
    let wasm = compile("trap", &work);
    // Both tiers, in the guest and on the host, worded as `wasmtime run` words a trap: the
    // causes, a backtrace whose innermost frame is the function (name section), then the
    // trap.
    for mode in ENGINES {
        let engine = format!("{mode:?}");
        let mut args = vec!["run"];
        args.extend(mode);
        args.push(wasm.to_str().unwrap());
        let out = clew(&args, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "before the trap\n");
        assert_eq!(out.status.code(), Some(134), "stderr: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
        let (Some(bt), Some(trap)) = (
            at("1: error while executing at wasm backtrace:"),
            at("2: wasm trap: integer divide by zero"),
        ) else {
            panic!("{engine}: not the wasmtime wording:\n{stderr}");
        };
        assert!(
            lines[bt + 1].trim_start().starts_with("0:") && lines[bt + 1].ends_with("!main"),
            "{engine}: innermost frame is not main:\n{stderr}"
        );
        assert!(bt + 1 < trap, "{engine}:\n{stderr}");
        // The program carries DWARF (Debian's wasi-libc objects do): wasmtime ends the
        // backtrace with its note about WASMTIME_BACKTRACE_DETAILS.
        assert_eq!(lines[trap - 1], DWARF_NOTE, "{engine}:\n{stderr}");
    }
    // Native code knows the faulting address: wasmtime names it between backtrace and
    // trap, and so does Clew (on the host and in the guest).
    for mode in [
        &["--engine", "native"][..],
        &["--host", "--engine", "native"],
    ] {
        let mut args = vec!["run"];
        args.extend(mode);
        args.extend([wasm.to_str().unwrap(), "oob"]);
        let out = clew(&args, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(134), "{mode:?}: {stderr}");
        assert!(
            stderr.contains(
                "\n    2: memory fault at wasm address 0xfffffff0 in linear memory of size 0x"
            ) && stderr.ends_with("\n    3: wasm trap: out of bounds memory access\n\n"),
            "{mode:?}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("\n{DWARF_NOTE}\n    2: memory fault")),
            "{mode:?}: {stderr}"
        );
    }
}

#[test]
fn not_webassembly_is_an_error_not_a_crash() {
    let work = scratch("bad");
    let bad = work.join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0\x05garbage").unwrap();
    let out = clew(&["run", bad.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.wasm"),
        "message should name the module: {stderr}"
    );
    // With a --dir (left as it was: the program never ran), and natively (the host's
    // compile fails): the same status as `wasmtime run`, 1.
    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("kept.txt"), "kept").unwrap();
    let dir_arg = format!("{}::/data", data.display());
    for engine in ["interp", "native"] {
        let out = clew(
            &[
                "run",
                "--engine",
                engine,
                "--dir",
                &dir_arg,
                bad.to_str().unwrap(),
            ],
            b"",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{engine}: {stderr}");
        assert!(!stderr.contains("writing back"), "{engine}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(data.join("kept.txt")).unwrap(),
        "kept"
    );
}

/// A `--dir` tree QEMU could not load as the boot archive (over 2 GiB; here one sparse
/// file) is refused at once, before it is packed (that took seconds and gigabytes), when
/// its files must all go into the archive: without shared RAM. (With it, large files stay
/// on the host: `large_dir_files_are_read_on_demand_and_changes_come_back`.)
#[test]
fn too_large_a_dir_is_refused_before_packing() {
    let work = scratch("too-large");
    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::File::create(data.join("sparse.bin"))
        .unwrap()
        .set_len(2500 << 20)
        .unwrap();
    let wasm = compile("io", &work);
    let dir_arg = format!("{}::/data", data.display());
    let out = clew_env(
        &["run", "--dir", &dir_arg, wasm.to_str().unwrap()],
        b"",
        &[("CLEW_NO_SHARED_RAM", "1")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2500 MiB"), "{stderr}");
    let _ = std::fs::remove_dir_all(&work);
}

/// Large `--dir` files stay on the host until the program reads them (`vfs` remote files,
/// `Frame::Fetch`): a tree with a 3 GiB file, more than QEMU could load, runs, the file's
/// last bytes and a whole file read right, and every kind of change to such files comes
/// back (the moved one whole, the one only read untouched), in both tiers.
#[test]
fn large_dir_files_are_read_on_demand_and_changes_come_back() {
    use std::os::unix::fs::MetadataExt;
    let work = scratch("bigdir");
    let wasm = compile("bigdir", &work);
    let content = |seed: u32| -> Vec<u8> {
        (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
            .collect()
    };
    let names = ["append", "move", "cut", "gone", "patch", "keep"];
    let fnv = |data: &[u8]| {
        data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    };
    for engine in ["interp", "native"] {
        let data = work.join(format!("data-{engine}"));
        std::fs::create_dir_all(&data).unwrap();
        for (i, name) in names.iter().enumerate() {
            std::fs::write(data.join(name), content(i as u32)).unwrap();
        }
        let mut huge = std::fs::File::create(data.join("huge")).unwrap();
        huge.set_len(3 << 30).unwrap();
        use std::io::{Seek, Write};
        huge.seek(std::io::SeekFrom::End(0)).unwrap();
        huge.write_all(b"tail").unwrap();
        drop(huge);
        let keep_before = std::fs::metadata(data.join("keep")).unwrap();

        let dir_arg = format!("{}::/d", data.display());
        let out = clew(
            &[
                "run",
                "--engine",
                engine,
                "--dir",
                &dir_arg,
                wasm.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(out.status.code(), Some(0), "{engine}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "huge: {} bytes, ends with tail\nkeep: 300000 bytes, fnv {:016x}\n",
                (3u64 << 30) + 4,
                fnv(&content(5))
            ),
            "{engine}"
        );
        let read = |name: &str| std::fs::read(data.join(name)).unwrap();
        let mut appended = content(0);
        appended.extend_from_slice(b"appended");
        assert_eq!(read("append"), appended, "{engine}");
        assert_eq!(read("moved"), content(1), "{engine}");
        assert!(!data.join("move").exists(), "{engine}");
        assert_eq!(read("cut"), &content(2)[..10], "{engine}");
        assert!(!data.join("gone").exists(), "{engine}");
        let mut patched = content(4);
        patched[70_000..70_005].copy_from_slice(b"PATCH");
        assert_eq!(read("patch"), patched, "{engine}");
        let keep = std::fs::metadata(data.join("keep")).unwrap();
        assert_eq!(
            (keep.ino(), keep.mtime(), keep.mtime_nsec()),
            (
                keep_before.ino(),
                keep_before.mtime(),
                keep_before.mtime_nsec()
            ),
            "{engine}: the file only read was rewritten"
        );
        let link = std::fs::metadata(data.join("keep-link")).unwrap();
        assert_eq!(link.ino(), keep.ino(), "{engine}");
        assert_eq!(
            std::fs::metadata(data.join("huge")).unwrap().blocks(),
            8,
            "{engine}"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The memory devices of a `--dir /dev::/dev` work as under `wasmtime run` (its output for
/// `devices.c` is the expected text): random bytes, writes into `null`, zeros, ENOSPC from
/// `full`, character-device file types, both tiers. A device the program removes stays
/// on the host: the write-back never creates or removes a device (`wasmtime run` would
/// remove it).
#[test]
fn memory_devices_of_a_dir_work_and_stay_on_the_host() {
    use std::os::unix::fs::FileTypeExt;
    let work = scratch("devices");
    let wasm = compile("devices", &work);
    let wasm = wasm.to_str().unwrap();
    let expected = "urandom: read 64, random, chr 1\nnull: write 5, read 0\n\
                    zero: read 64, zeros, lseek 100\nfull: flush ENOSPC\n";
    for engine in ["interp", "native"] {
        let out = clew(
            &["run", "--engine", engine, "--dir", "/dev::/dev", wasm],
            b"",
        );
        assert_eq!(out.status.code(), Some(0), "{engine}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{engine}");
    }
    // A tree of our own holding devices, which the program removes. `mknod` needs
    // privileges (CI runs as root); without them this part cannot run.
    let dir = work.join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    let mknod = |name: &str, minor: &str| {
        Command::new("mknod")
            .arg(dir.join(name))
            .args(["c", "1", minor])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ![
        ("null", "3"),
        ("zero", "5"),
        ("full", "7"),
        ("urandom", "9"),
    ]
    .iter()
    .all(|(name, minor)| mknod(name, minor))
    {
        eprintln!("memory devices: mknod not permitted here, the removal part is skipped");
        return;
    }
    let mapping = format!("{}::/dev", dir.display());
    let out = clew(&["run", "--dir", &mapping, wasm, "unlink"], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{expected}unlink: 0 0\n")
    );
    for name in ["null", "full"] {
        let meta = std::fs::symlink_metadata(dir.join(name)).unwrap();
        assert!(meta.file_type().is_char_device(), "{name} left the host");
    }
}

/// Sizes real programs have: 250 MiB of linear memory and a 96 MiB input under `--dir`.
/// The input goes in through the boot archive and must not come back through the serial
/// port (it is unchanged): the host file keeps its inode and mtime.
#[test]
fn large_memory_and_large_input() {
    let work = scratch("big");
    let wasm = compile("big", &work);
    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let input: Vec<u8> = (0..96u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(data.join("input.bin"), &input).unwrap();
    let before = std::fs::metadata(data.join("input.bin")).unwrap();
    let dir_arg = format!("{}::/data", data.display());
    let guest = clew(&["run", "--dir", &dir_arg, wasm.to_str().unwrap()], b"");
    let host = clew(
        &[
            "run",
            "--host",
            "--engine",
            "interp",
            "--dir",
            &dir_arg,
            wasm.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(guest.status.code(), Some(0), "{guest:?}");
    assert_eq!(
        String::from_utf8_lossy(&guest.stdout),
        String::from_utf8_lossy(&host.stdout)
    );
    assert!(String::from_utf8_lossy(&guest.stdout).contains("read 100663296 bytes"));
    assert_eq!(
        std::fs::read_to_string(data.join("result.txt")).unwrap(),
        "100663296\n"
    );
    let after = std::fs::metadata(data.join("input.bin")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((after.ino(), after.mtime()), (before.ino(), before.mtime()));
}

/// Without `--memory` a program may grow its linear memory as far as under `wasmtime run`
/// (here 1200 MiB, more than the 1 GiB of RAM the guest once had); `--memory` caps it.
#[test]
fn linear_memory_beyond_a_gib_unless_capped() {
    let work = scratch("bigalloc");
    let wasm = compile("bigalloc", &work);
    let wasm = wasm.to_str().unwrap();
    let out = clew(&["run", "--engine", "native", wasm, "1200"], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1200 MiB touched, checksum 39168000\n"
    );
    let out = clew(&["run", "--memory", "64", wasm, "100"], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "malloc of 100 MiB failed\n"
    );
    // 0 is not a limit (the run protocol's 0 means none): refused as a usage error.
    let out = clew(&["run", "--memory", "0", wasm, "1"], b"");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// WASI calls with valid arguments that name more memory than the guest machine has get
/// answers, not a kernel failure: a write of 1100 iovecs naming one 1 MiB buffer (more
/// than the 1 GiB of RAM `--memory 64` boots with) is streamed, never gathered into one
/// kernel buffer; millions of `poll_oneoff` subscriptions are `ENOMEM` (as `wasmtime
/// run` answers); a program opening a file forever gets `EMFILE` and goes on.
#[test]
fn huge_wasi_requests_get_answers_not_kernel_failures() {
    let work = scratch("heapbomb");
    let wasm = compile("heapbomb", &work);
    let wasm = wasm.to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(["run", "--memory", "64", wasm, "write", "1100"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("running clew");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "wrote 1153433600\n");

    let out = clew(&["run", wasm, "poll", "3000000"], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "poll errno 48\n");

    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("f"), "x").unwrap();
    let dir_arg = format!("{}::/d", data.display());
    let out = clew(&["run", "--dir", &dir_arg, wasm, "open", "/d/f"], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "opened 65532, then No file descriptors available; close 0; reopen same fd\n"
    );
}

/// `table.grow` in the interpreter runs each instruction once: 60 grows of 300,000
/// elements need more fuel than one slice, and wasmi 2.0.0 resumed a `table.grow` that ran
/// out of fuel from a stale instruction pointer, running the loop's counter increment
/// again (the program printed `BS`: 61 iterations). `wasmtime run` prints `AS`.
#[test]
fn table_grow_in_the_interpreter_runs_code_once() {
    let work = scratch("tablegrow");
    let path = assemble(
        &work,
        "tablegrow",
        &format!(
            r#"(module
  {SAY}
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (global $n (mut i32) (i32.const 0))
  (func (export "_start")
    (local $i i32)
    (loop $l
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (drop (table.grow $t (ref.null func) (i32.const 300000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
    ;; 'A' plus the iterations beyond 60, then 'S' if the table has the size it should
    (call $say (i32.add (i32.const 65) (i32.sub (global.get $n) (i32.const 60))))
    (if (i32.eq (table.size $t) (i32.const 18000000))
      (then (call $say (i32.const 83))))
    (call $say (i32.const 10))))"#
        ),
    );
    for engine in ["interp", "native"] {
        let out = clew(&["run", "--engine", engine, &path], b"");
        assert_eq!(out.status.code(), Some(0), "{engine}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "AS\n", "{engine}");
    }
}

/// A segment that does not fit traps during instantiation, which `wasmtime run` reports as
/// a trap of the command's call (exit 134). Both tiers, in the guest and on the host, say
/// so in wasmtime's words (the interpreter used to exit 1 with wasmi's table handle).
#[test]
fn instantiation_traps_exit_as_wasmtime() {
    let work = scratch("instantiation");
    let cases = [
        (
            "elem",
            "(module (table 1 funcref) (func $f) (elem (i32.const 5) $f) (func (export \"_start\")))",
            134,
            "1: wasm trap: undefined element: out of bounds table access",
        ),
        (
            "data",
            "(module (memory 1) (data (i32.const 70000) \"abc\") (func (export \"_start\")))",
            134,
            "1: wasm trap: out of bounds memory access",
        ),
        // Not an instantiation trap: wasmi words this one "uninitialized element 2".
        (
            "null",
            "(module (type $t (func)) (table 1 funcref) (func (export \"_start\") (call_indirect (type $t) (i32.const 0))))",
            134,
            "wasm trap: uninitialized element",
        ),
    ];
    for (name, wat_text, code, last) in cases {
        let path = assemble(&work, name, wat_text);
        for mode in ENGINES {
            let out = clew_run(&[mode], &path, &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{name} {mode:?}: {stderr}");
            assert!(
                stderr.contains("0: failed to invoke command default\n")
                    && stderr.trim_end().ends_with(last),
                "{name} {mode:?}: {stderr}"
            );
        }
    }
}

/// `--default-values-unknown-imports` gives every kind of unknown import its default, as
/// wasmtime's `define_unknown_imports_as_default_values` does: a function returning 0, a
/// global holding 0, a table of its minimum size (2), a memory of its minimum size (1);
/// the interpreter used to define functions only, failing instantiation.
/// `--trap-unknown-imports` defines functions only, so the global fails instantiation.
#[test]
fn unknown_imports_of_every_kind() {
    let work = scratch("unknown-imports");
    let path = assemble(
        &work,
        "unknown",
        &format!(
            r#"(module
  (import "env" "f" (func $f (result i32)))
  (import "env" "g" (global $g i32))
  (import "env" "t" (table 2 funcref))
  (import "env" "m" (memory 1))
  {SAY}
  (export "memory" (memory 0))
  (func (export "_start")
    (call $say (i32.add (i32.const 48) (call $f)))
    (call $say (i32.add (i32.const 48) (global.get $g)))
    (call $say (i32.add (i32.const 48) (table.size 0)))
    (call $say (i32.add (i32.const 48) (memory.size)))
    (call $say (i32.const 10))))"#
        ),
    );
    for mode in ENGINES {
        let out = clew_run(&[&["--default-values-unknown-imports"], mode], &path, &[]);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "0021\n", "{mode:?}");
        let out = clew_run(&[&["--trap-unknown-imports"], mode], &path, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode:?}: {stderr}");
        assert!(
            stderr.contains("0: failed to instantiate")
                && stderr.contains("1: unknown import: `env::"),
            "{mode:?}: {stderr}"
        );
    }
}

/// `--engine auto` runs natively a module the interpreter cannot translate: wasmi allows
/// fewer locals than wasmtime (a function with 50,000), and the kernel translates lazily,
/// so the program used to fail at the function's first call ("too many function
/// parameters", exit 134) where `wasmtime run` runs it. An empty cache, so nothing
/// precompiled earlier decides it.
#[test]
fn auto_runs_natively_what_the_interpreter_cannot_translate() {
    let work = scratch("locals");
    let locals = vec!["i32"; 50_000].join(" ");
    let wat_text = format!(
        "(module (func (export \"_start\") (local {locals}) (local.set 49999 (i32.const 1))))"
    );
    let path = assemble(&work, "locals", &wat_text);
    let cache = work.join("cache");
    let out = clew_env(
        &["run", "--engine", "auto", &path],
        b"",
        &[("XDG_CACHE_HOME", cache.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// One host directory mounted twice, and a directory inside it mounted too, are one tree
/// to the program, as the host's own file system is under `wasmtime run`: a write through
/// one mount is read through the others, and every change reaches the host. Each `--dir`
/// used to get a copy of its own, written back one after another, so changes were lost.
#[test]
fn overlapping_dirs_are_one_tree() {
    let work = scratch("twomount");
    let wasm = compile("twomount", &work);
    let expected = "/b/new.txt: via a\n/a/sub/inner.txt: via s\n/s/outer.txt: via b\n\
                    unlink /a/old.txt: 0\n/b/old.txt after: gone\n";
    for mode in [&[][..], &["--host"]] {
        let data = work.join(format!("data{}", mode.len()));
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("old.txt"), "old").unwrap();
        let a = format!("{}::/a", data.display());
        let b = format!("{}::/b", data.display());
        let s = format!("{}::/s", data.join("sub").display());
        let mut args = vec!["run"];
        args.extend_from_slice(mode);
        args.extend([
            "--dir",
            &s,
            "--dir",
            &a,
            "--dir",
            &b,
            wasm.to_str().unwrap(),
        ]);
        let out = clew(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{mode:?}");
        let mut files = tree(&data);
        files.retain(|_, v| v.as_slice() != b"<dir>");
        let files: Vec<(String, String)> = files
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        assert_eq!(
            files,
            [
                ("new.txt".to_string(), "via a".to_string()),
                ("sub/inner.txt".to_string(), "via s".to_string()),
                ("sub/outer.txt".to_string(), "via b".to_string()),
            ],
            "{mode:?}"
        );
    }
}

/// A program's large output file comes back through guest RAM shared with QEMU (the
/// serial port would carry it at about 1 MB/s), byte-exact, read where it lies in the
/// guest's file tree: 400 MiB in the 1 GiB guest `--memory 64` boots. Before files were
/// kept in 64 KiB chunks, a file stopped growing at 256 MiB there (ENOSPC: its one buffer
/// could not double), and a 250 MiB one could not also be copied into an archive (the
/// kernel said "cannot read back directory" and the file was lost, with exit code 0).
#[test]
fn large_output_comes_back_through_shared_ram() {
    let work = scratch("bigout");
    let wasm = compile("bigout", &work);
    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let log = work.join("kernel.log");
    let dir_arg = format!("{}::/data", data.display());
    let out = clew(
        &[
            "run",
            "--log",
            log.to_str().unwrap(),
            "--memory",
            "64",
            "--engine",
            "native",
            "--dir",
            &dir_arg,
            wasm.to_str().unwrap(),
            "400",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "wrote 400 MiB\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let got = std::fs::read(data.join("out.bin")).unwrap();
    assert_eq!(got.len(), 400 << 20);
    for (m, chunk) in got.chunks(1 << 20).enumerate() {
        for (i, b) in chunk.iter().enumerate() {
            assert_eq!(*b, (i * 7 + m) as u8, "byte {i} of MiB {m}");
        }
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("goes back through shared RAM"), "{log}");
    // 400 MiB a run: not left in the temporary directory.
    let _ = std::fs::remove_dir_all(&work);
}

/// Output goes through shared guest RAM (output slots; the serial port carries about
/// 1 MB/s): writes of every size around the slot and inline limits, to stdout and stderr
/// in turn, arrive byte-exact, on the right stream and, through one pipe (`2>&1`), in the
/// program's order: the same as `--host` gives, and the same over the serial fallback.
#[test]
fn output_through_shared_ram_is_exact_apart_and_in_order() {
    let work = scratch("spray");
    let wasm = compile("spray", &work);
    let wasm = wasm.to_str().unwrap();
    let clew_bin = env!("CARGO_BIN_EXE_clew");
    // One pipe for both streams: order across them is kept.
    let merged = |extra: &[&str], env: &[(&str, &str)]| -> Output {
        Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 2>&1")
            .arg(clew_bin)
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("starting sh")
    };
    let host = merged(&["run", "--host", "--engine", "interp", wasm, "3"], &[]);
    assert_eq!(host.status.code(), Some(5), "{host:?}");
    assert!(host.stdout.len() > 3 << 20);
    assert!(host.stdout.ends_with(b"\nend\n"));
    for engine in ["interp", "native"] {
        let guest = merged(&["run", "--engine", engine, wasm, "3"], &[]);
        assert_eq!(guest.status.code(), Some(5), "{engine}");
        assert!(
            guest.stdout == host.stdout,
            "{engine}: merged output differs ({} bytes against {})",
            guest.stdout.len(),
            host.stdout.len()
        );
    }
    // Apart: each stream on its own pipe.
    let host = clew(&["run", "--host", "--engine", "interp", wasm, "1"], b"");
    for env in [&[][..], &[("CLEW_NO_SHARED_RAM", "1")][..]] {
        let guest = clew_env(&["run", wasm, "1"], b"", env);
        assert_eq!(guest.status.code(), Some(5), "{env:?}");
        assert!(guest.stdout == host.stdout, "stdout differs {env:?}");
        assert!(guest.stderr == host.stderr, "stderr differs {env:?}");
    }
}

/// A reader that goes away (`clew run prog | head -c 10`): the program's later writes fail
/// (EIO, as under the wasmtime CLI 49: 2036 of these 2048 failed there), it runs to
/// its end, and the exit code is its own (QEMU is not left behind waiting for a reader).
#[test]
fn closed_stdout_does_not_stop_the_program() {
    use std::io::Read;
    let work = scratch("closed");
    let wasm = compile("closed_stdout", &work);
    let wasm = wasm.to_str().unwrap();
    for args in [
        &["run", "--host", "--engine", "interp", wasm][..],
        &["run", "--engine", "interp", wasm][..],
        &["run", "--engine", "native", wasm][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clew"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting clew");
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The pipe's read end is dropped here: further writes to it fail with EPIPE.
        assert_eq!(&head, b"yyyyyyyyyy");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let failed: u32 = stderr
            .strip_prefix("failed writes: ")
            .and_then(|n| n.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("{args:?}: {stderr}"));
        // Writes already on their way when the reader left succeed.
        assert!((1..2048).contains(&failed), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

/// Large stdin goes through input slots in shared guest RAM (the serial port carries
/// about 25 KB/s towards the guest) and arrives exact, through reads of any size; the
/// serial fallback gives the same bytes.
#[test]
fn large_stdin_arrives_exact() {
    let work = scratch("stdin");
    let wasm = compile("echo_stdin", &work);
    let wasm = wasm.to_str().unwrap();
    let input: Vec<u8> = (0..5u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for engine in ["interp", "native"] {
        let out = clew(&["run", "--engine", engine, wasm], &input);
        assert_eq!(out.status.code(), Some(0), "{engine}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("{} bytes\n", input.len())
        );
        assert!(out.stdout == input, "{engine}: stdout is not the input");
    }
    let small = &input[..40_000];
    let out = clew_env(&["run", wasm], small, &[("CLEW_NO_SHARED_RAM", "1")]);
    assert_eq!(out.status.code(), Some(0), "serial: {out:?}");
    assert!(out.stdout == small, "serial: stdout is not the input");
}

/// A `clew run` killed from outside (a harness's timeout sends SIGTERM, or SIGKILL) takes
/// QEMU with it instead of leaving the guest running forever and dies of that signal as
/// `wasmtime run` would (SIGTERM after stopping the program: see
/// `a_signal_stops_clew_run_after_writing_the_changes_back`), and the next `clew run`
/// removes the temporary directory a killed one could not remove itself.
#[test]
fn killed_clew_run_leaves_no_qemu_behind() {
    use std::os::unix::process::ExitStatusExt;
    let work = scratch("killed");
    let wasm = compile("forever", &work);
    let wasm = wasm.to_str().unwrap();
    let hello = compile("io", &work);
    for (signal, name) in [(15, "TERM"), (9, "KILL")] {
        let mut child = start_forever(&["--engine", "native", wasm], false);
        // QEMU is clew's only child process.
        let pid = child.id();
        let qemu = children_of(pid);
        assert_eq!(qemu.len(), 1, "SIG{name}: children {qemu:?}");
        let run_dir = std::env::temp_dir().join(format!("clew-{pid}-0"));
        assert!(run_dir.is_dir(), "SIG{name}: {}", run_dir.display());
        send_signal(name, &pid.to_string());
        let status = wait_within(&mut child);
        assert_eq!(status.signal(), Some(signal), "SIG{name}: {status:?}");
        // Gone, or a zombie nobody reaps (its parent is dead): either way not running.
        assert!(
            !still_running(qemu[0]),
            "SIG{name}: QEMU {} still runs",
            qemu[0]
        );
        let out = clew(&["run", hello.to_str().unwrap()], b"");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(!run_dir.exists(), "SIG{name}: {} left", run_dir.display());
    }
}

/// The process ids of the children of process `pid` (QEMU is `clew run`'s only one).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Whether process `pid` runs (exists and is not a zombie: one whose parent died and
/// nobody reaps does not run), waiting up to 10 s for it to stop.
fn still_running(pid: u32) -> bool {
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.rsplit(')').next().unwrap_or("").starts_with(" Z"))
            .unwrap_or(false)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    running()
}

/// Starts `clew run` with `args` (the program being `forever`), in a process group of its
/// own (as a shell runs a command), with SIGINT ignored if `ignoring_int` (as a shell
/// starts a background job), and waits until the program says it has started. The
/// signals the tests send have their default handling whatever ours is (CI may run us
/// under `nohup` in a background job, which ignore SIGHUP and SIGINT): coreutils' `env`
/// sets it (a shell cannot reset a signal ignored on entry).
fn start_forever(args: &[&str], ignoring_int: bool) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("env");
    if ignoring_int {
        command.args(["--default-signal=TERM,HUP,TSTP,CONT", "--ignore-signal=INT"]);
    } else {
        command.arg("--default-signal=INT,TERM,HUP,TSTP,CONT");
    }
    command.arg(env!("CARGO_BIN_EXE_clew"));
    let mut child = command
        .arg("run")
        .args(args)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting clew");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "started\n", "{args:?}");
    child
}

/// Waits for `child` to end, for at most a minute (then kills it and fails): a signal
/// that does not stop `clew` must fail the test, not hang it.
fn wait_within(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("clew {} did not end", child.id());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Sends `signal` (a name: INT, TERM...) to `target` (a pid, or `-pgid` for a group).
fn send_signal(signal: &str, target: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, "--", target])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {target}");
}

/// [`start_forever`] of `forever write /d/out.txt` with `--dir dir::/d`: the program has
/// written the file and computes.
fn start_forever_writer(
    wasm: &Path,
    dir: &Path,
    options: &[&str],
    ignoring_int: bool,
) -> std::process::Child {
    let mapping = format!("{}::/d", dir.display());
    let mut args = options.to_vec();
    args.extend([
        "--dir",
        &mapping,
        wasm.to_str().unwrap(),
        "write",
        "/d/out.txt",
    ]);
    start_forever(&args, ignoring_int)
}

/// SIGINT (the terminal's Ctrl-C, sent to the whole foreground process group), SIGTERM
/// and SIGHUP stop a `clew run` as they stop `wasmtime run`, which dies of the signal with
/// the program's files already on the host: Clew stops the program, writes its `--dir`
/// changes back, then dies of that signal. QEMU is not in `clew`'s process group (Ctrl-C
/// would end the guest before it could send the changes). A second signal ends `clew`
/// at once, even when the guest cannot answer (QEMU stopped), and takes QEMU with it.
/// `--host` writes the trees back from the signal thread. Ctrl-Z suspends QEMU with
/// `clew`.
#[test]
fn a_signal_stops_clew_run_after_writing_the_changes_back() {
    use std::os::unix::process::ExitStatusExt;
    let work = scratch("stopped");
    let wasm = compile("forever", &work);
    for (signal, name, options) in [
        (2, "INT", &["--engine", "native"][..]),
        (15, "TERM", &["--engine", "interp"]),
        (1, "HUP", &["--engine", "native"]),
        (2, "INT", &["--host", "--engine", "interp"]),
        (15, "TERM", &["--host", "--engine", "native"]),
    ] {
        let engine = options.join(" ");
        let dir = work.join(format!("dir-{name}-{}", options.len()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kept.txt"), "kept\n").unwrap();
        let mut child = start_forever_writer(&wasm, &dir, options, false);
        let qemu = children_of(child.id());
        let host = options.contains(&"--host");
        assert_eq!(
            qemu.len(),
            usize::from(!host),
            "SIG{name}: children {qemu:?}"
        );
        send_signal(name, &format!("-{}", child.id()));
        let status = wait_within(&mut child);
        assert_eq!(status.signal(), Some(signal), "SIG{name}: {status:?}");
        let got = tree(&dir);
        assert_eq!(
            got.get("out.txt").map(Vec::as_slice),
            Some(&b"written\n"[..]),
            "SIG{name} {engine}: {got:?}"
        );
        assert_eq!(got.len(), 2, "SIG{name}: {got:?}");
        for pid in qemu {
            assert!(!still_running(pid), "SIG{name}: QEMU {pid} runs");
        }
    }

    // Started with SIGINT ignored, clew leaves it ignored (and answers SIGTERM).
    let dir = work.join("dir-ignoring");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = start_forever_writer(&wasm, &dir, &["--engine", "interp"], true);
    let pgid = format!("-{}", child.id());
    for signal in ["INT", "TERM"] {
        send_signal(signal, &pgid);
        if signal == "INT" {
            std::thread::sleep(std::time::Duration::from_millis(500));
            assert!(
                child.try_wait().unwrap().is_none(),
                "SIGINT was not ignored"
            );
        }
    }
    assert_eq!(wait_within(&mut child).signal(), Some(15));
    assert_eq!(std::fs::read(dir.join("out.txt")).unwrap(), b"written\n");

    // Ctrl-Z (SIGTSTP to the group) stops QEMU too, though not in the group; SIGCONT
    // continues both.
    let dir = work.join("dir-suspended");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = start_forever_writer(&wasm, &dir, &["--engine", "native"], false);
    let qemu = children_of(child.id());
    assert_eq!(qemu.len(), 1, "children {qemu:?}");
    let state = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .next()
                    .map(String::from)
            })
            .unwrap_or_default()
    };
    let pgid = format!("-{}", child.id());
    for (signal, stopped) in [("TSTP", true), ("CONT", false), ("TERM", false)] {
        send_signal(signal, &pgid);
        if signal == "TERM" {
            break;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while (state(qemu[0]) == "T") != stopped || (state(child.id()) == "T") != stopped {
            assert!(
                std::time::Instant::now() < deadline,
                "after SIG{signal}: clew {}, QEMU {}",
                state(child.id()),
                state(qemu[0])
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    assert_eq!(wait_within(&mut child).signal(), Some(15));
    assert_eq!(std::fs::read(dir.join("out.txt")).unwrap(), b"written\n");

    // A second SIGINT while the guest cannot answer the first.
    let dir = work.join("dir-twice");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = start_forever_writer(&wasm, &dir, &["--engine", "native"], false);
    let qemu = children_of(child.id());
    assert_eq!(qemu.len(), 1, "children {qemu:?}");
    send_signal("STOP", &qemu[0].to_string());
    send_signal("INT", &child.id().to_string());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "clew ended before the guest answered"
    );
    send_signal("INT", &child.id().to_string());
    let status = wait_within(&mut child);
    assert_eq!(status.signal(), Some(2), "{status:?}");
    assert!(!still_running(qemu[0]), "QEMU {} runs", qemu[0]);
    assert!(
        !dir.join("out.txt").exists(),
        "written back without the guest"
    );
}

/// `wasmtime run`'s `-W` and `-S` option groups: `-W timeout` stops a program computing
/// (in both engines) or sleeping forever with the trap "interrupt" (exit 134); `-W max-memory-size`
/// caps linear memory as `--memory` does; `-S inherit-env` passes the host's environment,
/// then `--env`'s; what Clew cannot honour is a usage error (exit 2).
#[test]
fn wasmtime_option_groups() {
    use std::time::{Duration, Instant};
    let work = scratch("wopts");
    let forever = compile("forever", &work);
    // Computing, in each engine, and asleep in `poll_oneoff`.
    for (engine, arg) in [
        ("interp", "compute"),
        ("native", "compute"),
        ("native", "sleep"),
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_clew"))
            .args(["run", "--engine", engine, "-W", "timeout=1s"])
            .arg(&forever)
            .arg(arg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting clew");
        // Without a working timeout the program would run forever: give up (and kill
        // it, QEMU with it) long after the second it was given.
        let id = child.id();
        let start = Instant::now();
        let watchdog = std::thread::spawn(move || {
            while start.elapsed() < Duration::from_secs(300) {
                std::thread::sleep(Duration::from_millis(200));
                if !Path::new(&format!("/proc/{id}")).exists() {
                    return;
                }
            }
            let _ = Command::new("kill").arg(id.to_string()).status();
        });
        let out = child.wait_with_output().unwrap();
        watchdog.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(134), "{engine}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "started\n",
            "{engine}"
        );
        assert!(
            stderr.starts_with("Error: failed to run main module")
                && stderr.ends_with("wasm trap: interrupt\n\n"),
            "{engine}: {stderr}"
        );
    }

    let bigalloc = compile("bigalloc", &work);
    let bigalloc = bigalloc.to_str().unwrap();
    let out = clew(
        &["run", "-W", "max-memory-size=0x4000000", bigalloc, "100"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "malloc of 100 MiB failed\n"
    );

    let io = compile("io", &work);
    let io = io.to_str().unwrap();
    // As under the wasmtime CLI (49), `--env` comes after the inherited variables, so
    // `getenv` finds the host's value first; a variable the host lacks is there.
    let host_env: &[(&str, &str)] = &[("GREETING", "from the host")];
    let env_args: &[&str] = &["-Sinherit-env", "--env", "GREETING=from --env"];
    for (opts, env, seen) in [
        (&["-S", "inherit-env"][..], host_env, "from the host"),
        (env_args, host_env, "from the host"),
        (env_args, &[], "from --env"),
    ] {
        let mut args = vec!["run"];
        args.extend(opts);
        args.extend([io, "0"]);
        let out = clew_env(&args, b"", env);
        assert_eq!(out.status.code(), Some(0), "{opts:?}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("GREETING={seen}\n")),
            "{opts:?}: {stdout}"
        );
    }

    // A cap of 0 bytes is a cap (the run protocol once took 0 for "none"): the module's
    // one page does not fit, as under wasmtime.
    let out = clew(&["run", "-W", "max-memory-size=0", io], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failed to instantiate"),
        "{out:?}"
    );

    for refused in [
        &["-W", "fuel=100"][..],
        &["-W", "exceptions=n"],
        &["-W", "max-memory-size=1M"],
        &["-S", "threads"],
        &["-S", "no-such-option"],
        &["-S", "preview0=n"],
    ] {
        let mut args = vec!["run"];
        args.extend(refused);
        args.push(io);
        let out = clew(&args, b"");
        assert_eq!(out.status.code(), Some(2), "{refused:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{refused:?} ran the program");
    }
    let out = clew(&["run", "--host", "-W", "timeout=5s", io], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported with --host"));
    // `help` lists the keys and exits 0, without a module, as under wasmtime.
    for (group, key) in [("-W", "max-memory-size=N"), ("-S", "inherit-env[=y|n]")] {
        let out = clew(&["run", group, "help"], b"");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(key),
            "{out:?}"
        );
    }
}

/// A module in the text format runs as under `wasmtime run` (which assembles `.wat`
/// files), in every mode; text that is not a module is an error naming the file and the
/// place, exit 1.
#[test]
fn text_format_modules_run() {
    let work = scratch("wat");
    let wat = work.join("say.wat");
    std::fs::write(
        &wat,
        format!(
            r#"(module {SAY}
  (memory (export "memory") 1)
  (func (export "_start") (call $say (i32.const 87)) (call $say (i32.const 10))))"#
        ),
    )
    .unwrap();
    for engine in ENGINES {
        let mut args = vec!["run"];
        args.extend(engine);
        args.push(wat.to_str().unwrap());
        let out = clew(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{engine:?}: {out:?}");
        assert_eq!(out.stdout, b"W\n", "{engine:?}");
    }
    // A component (the text format's `(component)`, or a binary one) is named as such.
    let component = work.join("component.wat");
    std::fs::write(&component, "(component)").unwrap();
    let out = clew(&["run", component.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is a WebAssembly component"), "{stderr}");
    let broken = work.join("broken.wat");
    std::fs::write(&broken, "(module (func").unwrap();
    let out = clew(&["run", broken.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.wat:1:"), "{stderr}");
}

/// The module reaches the guest as a boot module of its own, handed to QEMU by descriptor
/// (`/proc/self/fd/N`): a path QEMU's `-initrd` list cannot hold (commas split it, a
/// space ends the name) still runs, the `.wasm` itself (interpreter), the cached `.cwasm`
/// (native) and a `.cwasm` given by path alike.
#[test]
fn modules_at_paths_qemu_cannot_take_run() {
    let work = scratch("odd-path");
    let odd = work.join("a dir, with commas");
    std::fs::create_dir_all(&odd).unwrap();
    let wasm = odd.join("say it,1.wasm");
    std::fs::write(
        &wasm,
        wat::parse_str(format!(
            r#"(module {SAY}
  (memory (export "memory") 1)
  (func (export "_start") (call $say (i32.const 79)) (call $say (i32.const 10))))"#
        ))
        .unwrap(),
    )
    .unwrap();
    let cwasm = odd.join("say it,1.cwasm");
    let out = clew(
        &[
            "compile",
            wasm.to_str().unwrap(),
            "-o",
            cwasm.to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success(), "{out:?}");
    for (engine, module) in [("interp", &wasm), ("native", &wasm), ("auto", &cwasm)] {
        let out = clew(&["run", "--engine", engine, module.to_str().unwrap()], b"");
        assert_eq!(out.status.code(), Some(0), "{engine}: {out:?}");
        assert_eq!(out.stdout, b"O\n", "{engine}");
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// Linear memory grows up to its cap in every mode. The interpreter's memory is a heap
/// vector that doubles its capacity and moves when it grows: from 614 MiB, one more page
/// needs the old block and a 1.2 GiB one at once. With guest RAM sized for one copy of
/// the cap that grow returned -1 (and an uncapped program stopped at 2 GiB, where
/// `wasmtime run` reaches 4 GiB).
#[test]
fn memory_grows_to_its_cap_past_a_doubling() {
    let work = scratch("grow-cap");
    let module = assemble(
        &work,
        "grow",
        &format!(
            r#"(module {SAY}
  (memory (export "memory") 1)
  (func (export "_start")
    (call $say (select (i32.const 89) (i32.const 78)
      (i32.eq (memory.grow (i32.const 9829)) (i32.const 1))))
    (call $say (select (i32.const 89) (i32.const 78)
      (i32.eq (memory.grow (i32.const 1)) (i32.const 9830))))
    (i32.store (i32.const 644218876) (i32.const 7))
    (call $say (i32.const 10))))"#
        ),
    );
    for mode in ENGINES {
        let out = clew_run(&[mode, &["-W", "max-memory-size=1073741824"]], &module, &[]);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {out:?}");
        assert_eq!(out.stdout, b"YY\n", "{mode:?}");
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The program's wall clock is the host's, as under `wasmtime run`: it reads between the
/// moments `clew run` was started and returned. (Set from the CMOS clock, which has whole
/// seconds, it read up to a second early: before `clew run` had even started.)
#[test]
fn the_wall_clock_is_the_hosts() {
    let work = scratch("realtime");
    let wasm = compile("realtime", &work);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    };
    for mode in ENGINES {
        for _ in 0..2 {
            let before = now();
            let out = clew_run(&[mode], wasm.to_str().unwrap(), &[]);
            let after = now();
            assert_eq!(out.status.code(), Some(0), "{mode:?}: {out:?}");
            let t: u128 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            assert!(
                before <= t && t <= after,
                "{mode:?}: the program read {t}, not within [{before}, {after}] ({} ms early)",
                before.saturating_sub(t) / 1_000_000
            );
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// An argument that is not UTF-8 is refused as `wasmtime run` (49) refuses it: its
/// message, status 1 (not a usage error).
#[test]
fn arguments_that_are_not_utf8_are_refused_like_wasmtime() {
    use std::os::unix::ffi::OsStrExt;
    let work = scratch("non-utf8");
    let module = assemble(&work, "nop", r#"(module (func (export "_start")))"#);
    let out = Command::new(env!("CARGO_BIN_EXE_clew"))
        .args(["run", &module])
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: failed to convert \"\\xFF\\xFE\" to utf-8\n"
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// The export `wasmtime run` calls (checked against the wasmtime 49 CLI): `_initialize`
/// first whenever it is exported, then `--invoke NAME`, else the default export `""`,
/// else `_start`, else nothing (exit 0: a reactor run for its initializer). The entry's
/// parameters come from the command line, `--invoke` or not. In every mode.
#[test]
fn the_entry_point_is_chosen_as_by_wasmtime() {
    let work = scratch("entry");
    // (name, exports, arguments, exit code, stdout, end of stderr)
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], i32, &'a str, &'a str);
    let cases: [Case; 8] = [
        (
            "default",
            r#"(func (export "") (call $say (i32.const 68))) (func (export "_start") (call $say (i32.const 83)))"#,
            &[],
            0,
            "D",
            "",
        ),
        (
            "reactor",
            r#"(func (export "_initialize") (call $say (i32.const 73)))"#,
            &[],
            0,
            "I",
            "",
        ),
        (
            "both",
            r#"(func (export "_initialize") (call $say (i32.const 73))) (func (export "_start") (call $say (i32.const 83)))"#,
            &[],
            0,
            "IS",
            "",
        ),
        (
            "invoke-default",
            r#"(func (export "") (call $say (i32.const 68))) (func (export "_start") (call $say (i32.const 83)))"#,
            &["--invoke", ""],
            0,
            "D",
            "",
        ),
        (
            "params",
            r#"(func (export "_start") (param i32) (call $say (local.get 0)))"#,
            &[],
            1,
            "",
            "\n\nCaused by:\n    not enough arguments for command default\n\n",
        ),
        (
            "params-given",
            r#"(func (export "_start") (param i32) (call $say (local.get 0)))"#,
            &["--", "0x41"],
            0,
            "A",
            "",
        ),
        // References print as the CLI prints them, never their contents.
        (
            "refs",
            r#"(elem declare func $f) (func $f) (func (export "r") (result externref funcref funcref) (ref.null extern) (ref.null func) (ref.func $f))"#,
            &["--invoke", "r"],
            0,
            "<null externref>\n<null funcref>\n<funcref>\n",
            "",
        ),
        (
            "no-such",
            r#"(func (export "_start"))"#,
            &["--invoke", "f"],
            1,
            "",
            "\n\nCaused by:\n    no func export named `f` found\n\n",
        ),
    ];
    for (name, exports, extra, code, stdout, stderr_end) in cases {
        let wat_text = format!(r#"(module {SAY} (memory (export "memory") 1) {exports})"#);
        let path = assemble(&work, name, &wat_text);
        // Options before the module, the program's arguments after it.
        let (opts, prog_args) = match extra.first() {
            Some(&"--") => (&[][..], &extra[1..]),
            _ => (extra, &[][..]),
        };
        for mode in ENGINES {
            let out = clew_run(&[mode, opts], &path, prog_args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{name} {mode:?}: {stderr}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                stdout,
                "{name} {mode:?}"
            );
            assert!(stderr.ends_with(stderr_end), "{name} {mode:?}: {stderr}");
        }
    }
}

/// A program writing forever into a pipe whose reader has gone (`| head`) ends: its
/// writes fail with EIO, as under `wasmtime run` (Clew used to drop the bytes and report
/// success, so such a program never ended). In the guest (through the shared-RAM status
/// byte) and on the host.
#[test]
fn writes_to_a_departed_reader_fail_with_eio() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let work = scratch("yes");
    let wasm = compile("yes", &work);
    for mode in [
        &["--engine", "interp"][..],
        &["--engine", "native"],
        &["--host"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clew"))
            .arg("run")
            .args(mode)
            .arg(&wasm)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting clew");
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is gone (dropped above). Without EIO the program would write
        // forever: give up (and kill it) long after it should have ended.
        assert_eq!(&first, b"y\ny\ny\ny\ny\n");
        let id = child.id();
        let start = Instant::now();
        let watchdog = std::thread::spawn(move || {
            while start.elapsed() < Duration::from_secs(300) {
                std::thread::sleep(Duration::from_millis(200));
                if !Path::new(&format!("/proc/{id}")).exists() {
                    return;
                }
            }
            let _ = Command::new("kill").arg(id.to_string()).status();
        });
        let out = child.wait_with_output().unwrap();
        watchdog.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{mode:?}: {stderr}");
        assert!(stderr.ends_with(": I/O error\n"), "{mode:?}: {stderr}");
    }
}

/// A stdio stream that is a terminal on the host is a character device in the guest (so
/// `isatty` is true, C's stdout is line-buffered and CPython starts its prompt), any other
/// is of unknown type: as under `wasmtime run`, in every mode. The terminal is a pty from
/// `script` (util-linux); stdout goes to a file, so the program sees stdin and stderr as
/// terminals and stdout not.
#[test]
fn terminals_are_character_devices_as_under_wasmtime() {
    let work = scratch("tty");
    let wasm = compile("tty", &work);
    let line = |fd: u32, tty: bool| {
        let (isatty, filetype) = if tty { (1, 2) } else { (0, 0) };
        format!(
            "fd {fd}: isatty {isatty} fdstat filetype {filetype} filestat filetype {filetype}\n"
        )
    };
    for mode in [
        &["--engine", "interp"][..],
        &["--engine", "native"],
        &["--host"],
    ] {
        let out_file = work.join("out.txt");
        let _ = std::fs::remove_file(&out_file);
        let command = format!(
            "{} run {} {} > {}",
            env!("CARGO_BIN_EXE_clew"),
            mode.join(" "),
            wasm.display(),
            out_file.display()
        );
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("cannot run script (install bsdutils)");
        let terminal = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {terminal}");
        let expected = [line(0, true), line(1, false), line(2, true)].concat();
        assert_eq!(terminal, expected, "{mode:?}");
        assert_eq!(
            std::fs::read_to_string(&out_file).unwrap(),
            "out\n",
            "{mode:?}"
        );

        // Without a terminal: pipes all three.
        let out = clew_run(&[mode], wasm.to_str().unwrap(), &[]);
        assert_eq!(out.status.code(), Some(0), "{mode:?}");
        assert_eq!(out.stdout, b"out\n", "{mode:?}");
        let expected = [line(0, false), line(1, false), line(2, false)].concat();
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{mode:?}");
    }
}

/// Programs built for `wasi_unstable` (WASI snapshot 0, before preview1) run, as under
/// `wasmtime run`: the same functions with snapshot 0's layouts where they differ
/// (`tests/run/unstable.wat`), in every mode; snapshot 0 has no `sock_accept`.
#[test]
fn wasi_unstable_programs_run() {
    let work = scratch("unstable");
    let module = repo_root().join("tests/run/unstable.wat");
    for mode in ENGINES {
        let dir = work.join("dir");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mapping = format!("{}::.", dir.display());
        let out = clew_run(&[mode, &["--dir", &mapping]], module.to_str().unwrap(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{mode:?}: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "YYYYYYYYYYYYYYYY\n",
            "{mode:?}: {stderr}"
        );
        assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"0123456789");
    }
    let no_accept = assemble(
        &work,
        "accept",
        r#"(module
  (import "wasi_unstable" "sock_accept" (func (param i32 i32 i32) (result i32)))
  (func (export "_start")))"#,
    );
    for mode in ENGINES {
        let out = clew_run(&[mode], &no_accept, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode:?}: {stderr}");
        assert!(
            stderr.contains("unknown import: `wasi_unstable::sock_accept` has not been defined"),
            "{mode:?}: {stderr}"
        );
    }
}

/// Backtraces show Rust and C++ names demangled, as wasmtime shows them; native code has
/// every frame, the interpreter the innermost.
#[test]
fn backtraces_demangle_names() {
    let work = scratch("demangle");
    let module = assemble(
        &work,
        "mangled",
        r#"(module
  (func $_ZN4core9panicking5panic17h0123456789abcdefE unreachable)
  (func $_ZN3foo3barEv (call $_ZN4core9panicking5panic17h0123456789abcdefE))
  (func (export "_start") (call $_ZN3foo3barEv)))"#,
    );
    for mode in ENGINES {
        let out = clew_run(&[mode], &module, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(134), "{mode:?}: {stderr}");
        assert!(
            stderr.contains("0: <unknown>!core::panicking::panic::h0123456789abcdef\n")
                || stderr.contains(" - <unknown>!core::panicking::panic::h0123456789abcdef\n"),
            "{mode:?}: {stderr}"
        );
        if mode.contains(&"native") {
            assert!(
                stderr.contains(" - <unknown>!foo::bar()\n"),
                "{mode:?}: {stderr}"
            );
        }
    }
}

/// An error raised by a host function (an invalid `proc_exit` status, an unknown import
/// made to trap) is reported with the wasm backtrace at the call, as `wasmtime run` does,
/// and exits 1: natively every frame, in the interpreter the calling function.
#[test]
fn host_function_errors_carry_the_wasm_backtrace() {
    let work = scratch("host-errors");
    let module = assemble(
        &work,
        "host-errors",
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "env" "host_print" (func $print))
  (memory (export "memory") 1)
  (func $leave (call $exit (i32.const 208)))
  (func $show (call $print))
  (func (export "_start") (call $leave))
  (func (export "show") (call $show)))"#,
    );
    for mode in ENGINES {
        for (extra, func, cause) in [
            (
                &["--trap-unknown-imports"][..],
                "leave",
                "exit with invalid exit status outside of [0..126)",
            ),
            (
                &["--trap-unknown-imports", "--invoke", "show"][..],
                "show",
                "unknown import: `env::host_print` has not been defined",
            ),
        ] {
            let out = clew_run(&[mode, extra], &module, &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{mode:?} {extra:?}: {stderr}");
            let lines: Vec<&str> = stderr.lines().collect();
            let at = lines
                .iter()
                .position(|l| *l == "    1: error while executing at wasm backtrace:")
                .unwrap_or_else(|| panic!("{mode:?} {extra:?}: no backtrace:\n{stderr}"));
            assert!(
                lines[at + 1].starts_with("    0: ")
                    && lines[at + 1].ends_with(&format!("<unknown>!{func}")),
                "{mode:?} {extra:?}: {stderr}"
            );
            assert!(
                stderr.ends_with(&format!("\n    2: {cause}\n\n")),
                "{mode:?} {extra:?}: {stderr}"
            );
            // No DWARF in this module: no note about it (wasmtime prints none either).
            assert!(!stderr.contains("note:"), "{mode:?} {extra:?}: {stderr}");
        }
    }
}

#[test]
fn directories_list_in_the_hosts_order() {
    // `wasmtime run` lists a `--dir` in the host's `readdir` order (ext4: hash order), and
    // so must Clew's copy of it: programs that print a listing without sorting it show
    // the same lines under both.
    let work = scratch("listdir");
    let wasm = compile("listdir", &work);
    let data = work.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    for name in ["zeta", "alpha", "mid", "9", "Beta", "émoji-✓", "a.b", "_x"] {
        std::fs::write(data.join(name), name).unwrap();
        std::fs::write(data.join("sub").join(name), name).unwrap();
    }
    let host_order = |dir: &Path| -> String {
        let mut line = String::from(". .. ");
        for entry in std::fs::read_dir(dir).unwrap() {
            line.push_str(entry.unwrap().file_name().to_str().unwrap());
            line.push(' ');
        }
        line
    };
    let expected = format!("{}\n{}\n", host_order(&data), host_order(&data.join("sub")));
    let dir_arg = format!("{}::/d", data.display());
    for engine in ENGINES {
        let out = clew_run(
            &[engine, &["--dir", &dir_arg]],
            wasm.to_str().unwrap(),
            &["/d", "/d/sub"],
        );
        assert_eq!(out.status.code(), Some(0), "{engine:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{engine:?}");
    }
}
