//! `clew run` (without `--host`): boots Clew headless and runs one program inside the
//! kernel, behaving like `wasmtime run`. The module, the `--dir` trees and a
//! [`run_protocol::RunSpec`] travel to the guest in the boot archive (a multiboot module);
//! while the program runs, its stdout/stderr come back as frames over the console port
//! and our stdin goes to it the same way (see `run_protocol`); when it ends the guest sends
//! each `--dir` tree back, which `dirsync::apply` writes into the host directory, and the
//! program's exit code becomes ours. Kernel messages go to the log port, never to
//! stdout/stderr. Guest RAM is a file we share with QEMU ([`SharedRam`]): output and the
//! trees are read from it and stdin is written into it, and only their whereabouts cross
//! the serial port, which QEMU feeds us one byte per `write(2)` (about 1 MB/s) and the
//! guest a few bytes per interrupt (about 25 KB/s).
//!
//! SIGINT, SIGTERM and SIGHUP ([`watch_signals`]) stop the program in the guest and bring
//! its `--dir` changes back before `clew` dies of that signal (`crate::signals`): under
//! `wasmtime run` the files a program wrote before Ctrl-C are on the host already.

use crate::archive::Archive;
use crate::cli::RunArgs;
use crate::compile::Chosen;
use crate::qemu::{Launch, RunDir, SharedRam};
use anyhow::{bail, Context};
use run_protocol::{Decoder, Frame, RunSpec, UnknownImports};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};

/// Where the module is put in the guest filesystem.
const GUEST_MODULE_DIR: &str = "run";

/// Exit code when the guest stops without reporting the program's exit (a kernel failure),
/// distinct from any code a trap gives (see `host_run`).
const KERNEL_FAILURE_EXIT: u8 = 70;

/// The most linear memory a wasm32 program can have (65536 pages of 64 KiB).
const WASM32_MEMORY_MIB: u32 = 4096;

/// The largest boot archive QEMU loads as a multiboot module (it reads modules with a
/// signed 32-bit size: 2100 MiB failed with "Failed to open file", 1900 MiB worked).
const MAX_ARCHIVE_BYTES: u64 = (2 << 30) - (1 << 20);

/// Runs `args.module` inside Clew and returns the program's exit code.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let dir = RunDir::new()?;
    // Output and `--dir` trees come back through guest RAM shared with QEMU (see
    // `SharedRam`) when this host can share it; the spec in the archive tells the guest.
    let mut shared_ram = SharedRam::create();
    let hosts: Vec<&std::path::Path> = args.dirs.iter().map(|d| d.host.as_path()).collect();
    let shared_mounts = crate::dirsync::shared_mounts(&hosts)?;
    // Refuse a tree QEMU could not load before spending seconds and gigabytes packing it.
    let mut tree_bytes = 0u64;
    for (d, shared) in args.dirs.iter().zip(&shared_mounts) {
        if shared.is_none() {
            tree_bytes = tree_bytes.saturating_add(crate::dirsync::tree_bytes(
                &d.host,
                // With shared RAM, large files stay on the host until read.
                shared_ram
                    .is_some()
                    .then_some(crate::dirsync::Remotes::LAZY_FROM),
            )?);
        }
    }
    if tree_bytes >= MAX_ARCHIVE_BYTES {
        anyhow::bail!(
            "the --dir trees hold {} MiB; QEMU loads at most {} MiB as the boot archive \
             (grant a smaller directory)",
            tree_bytes >> 20,
            MAX_ARCHIVE_BYTES >> 20
        );
    }
    let Built {
        archive,
        spec,
        chosen,
        snapshots,
        mut remotes,
    } = build_archive(args, &shared_mounts, shared_ram.is_some())?;
    let needs_max_cpu = chosen.native
        && aot_config::header::unwrap(&chosen.bytes)
            .is_ok_and(|(h, _)| h.profile == aot_config::CpuProfile::Avx2);
    let boot_bytes = archive.len() as u64 + chosen.bytes.len() as u64;
    if boot_bytes >= MAX_ARCHIVE_BYTES {
        anyhow::bail!(
            "the module and --dir trees make {} MiB of boot modules; QEMU loads at most {} MiB \
             (grant a smaller directory)",
            boot_bytes >> 20,
            MAX_ARCHIVE_BYTES >> 20
        );
    }
    let archive_path = dir.path().join("boot.tar");
    std::fs::write(&archive_path, &archive).context("writing the boot archive")?;
    let program = ProgramModule::new(&chosen, &dir)?;
    // Guest RAM: the boot modules stay where QEMU put them (files are read in place), the
    // program's code or translation takes as much again, the kernel needs room, and the
    // program gets its linear memory: `--memory` caps it; without it, as under `wasmtime
    // run`, a program may grow to a whole 32-bit memory (4 GiB). RAM QEMU is given costs
    // the host nothing until the guest touches it (the memfd, or QEMU's own anonymous RAM,
    // is sparse), so sizing for the most is free.
    let archive_mib = (boot_bytes >> 20) as u32;
    let memory_cap_mib = spec.max_memory.map_or(WASM32_MEMORY_MIB, |b| {
        b.div_ceil(1 << 20).min(WASM32_MEMORY_MIB.into()) as u32
    });
    // The interpreter keeps linear memory in a heap vector, which grows by doubling its
    // capacity and moving: growing past 2 GiB held the old 2 GiB and a new 4 GiB at once,
    // so with room for one copy `memory.grow` stopped at 2 GiB where `wasmtime run` (and
    // the native tier, which reserves virtual memory) reach 4 GiB. The worst case is the
    // old block plus one twice its size: three times the cap.
    let program_mib = if chosen.native {
        memory_cap_mib
    } else {
        3 * memory_cap_mib
    };
    // Files left on the host take guest RAM as they are read: a cache the guest drops
    // when it needs room, but a file a program changes must fit whole, as when it was
    // in the archive.
    let remote_mib = (remotes.total_bytes() >> 20).min(4096) as u32;
    let memory_mib = (512 + 3 * archive_mib + remote_mib + program_mib).max(1024);
    if let Some(ram) = shared_ram.as_mut() {
        ram.set_size(memory_mib)?;
    }
    // Read here and by the stdin thread.
    let shared_ram = shared_ram.map(Arc::new);
    let launch = Launch {
        dir: &dir,
        memory_mib,
        cmdline: "run",
        console: "stdio,signal=off",
        modules: vec![(archive_path, "archive"), (program.path(), "program")],
        shared_ram: shared_ram.as_deref(),
    };
    let mut command = launch.command()?;
    // Not in our process group: the terminal's Ctrl-C (SIGINT to the foreground group)
    // must reach us, which stop the program and write its changes back, and not QEMU,
    // which would end the guest at once. QEMU still dies with us (`Launch::command`).
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    if needs_max_cpu {
        // Code compiled for the `avx2` profile: QEMU's `max` CPU has AVX2 (the kernel
        // enables AVX state when the CPU offers it).
        command.args(["-cpu", "max"]);
    }
    let child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting qemu-system-x86_64")?;
    // Whatever ends this function early (our stdout closed, a malformed frame), QEMU
    // must not outlive us.
    let mut qemu = KillOnDrop(child);
    let child = &mut qemu.0;
    // The byte the guest watches (`Frame::OutStatus`), written from here and from the
    // signal thread.
    let status_byte = Arc::new(Mutex::new(StatusByte::default()));
    if let Some(ram) = &shared_ram {
        watch_signals(status_byte.clone(), ram.clone())?;
    }
    let qemu_alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
    crate::signals::forward_job_control(child, qemu_alive.clone())?;

    // Frames to the guest: stdin from the stdin thread, the time from here (whole frames
    // under the lock, so that they never interleave).
    let to_guest = Arc::new(std::sync::Mutex::new(
        child.stdin.take().context("QEMU stdin")?,
    ));
    // Input slots the guest announces go to the stdin thread, which fills them.
    let (in_slot_tx, in_slot_rx) = std::sync::mpsc::channel::<(usize, Slot)>();
    let stdin_ram = shared_ram.clone();
    let stdin_to_guest = to_guest.clone();
    std::thread::spawn(move || forward_stdin(&stdin_to_guest, stdin_ram.as_deref(), &in_slot_rx));
    let mut qemu_stderr = child.stderr.take().context("QEMU stderr")?;
    let stderr_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = qemu_stderr.read_to_string(&mut text);
        text
    });

    let mut from_guest = child.stdout.take().context("QEMU stdout")?;
    let mut decoder = Decoder::new();
    let mut dirs: Vec<Vec<u8>> = vec![Vec::new(); spec.dirs.len()];
    let mut in_ram: Vec<Vec<(u64, u64)>> = vec![Vec::new(); spec.dirs.len()];
    let mut exit = None;
    let mut slots: Vec<Option<Slot>> = vec![None; run_protocol::OUT_SLOTS];
    let mut fetch_area: Option<Slot> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let mut output = Output {
        closed: [false; 2],
        status: status_byte,
    };
    loop {
        let n = from_guest.read(&mut buf).context("reading from QEMU")?;
        if n == 0 {
            break;
        }
        decoder.push(&buf[..n]);
        while let Some(frame) = decoder.next_frame().map_err(|e| anyhow::anyhow!("{e}"))? {
            match frame {
                Frame::Stdout(data) => {
                    output.write(false, &data, shared_ram.as_deref());
                }
                Frame::Stderr(data) => {
                    output.write(true, &data, shared_ram.as_deref());
                }
                Frame::OutStatus { state_at } => {
                    let Some(ram) = &shared_ram else {
                        bail!("guest announced an output status it cannot have");
                    };
                    lock(&output.status).announce(state_at, ram);
                }
                Frame::DirChunk { index, data } => {
                    let slot = dirs
                        .get_mut(index as usize)
                        .context("guest sent a directory that was not shared")?;
                    slot.extend_from_slice(&data);
                }
                Frame::DirInRam { index, runs } => {
                    if index as usize >= dirs.len() || shared_ram.is_none() {
                        bail!("guest sent a directory that was not shared");
                    }
                    in_ram[index as usize].extend(runs);
                }
                Frame::OutSlot {
                    index,
                    state_at,
                    runs,
                } => {
                    let slot = slots
                        .get_mut(index as usize)
                        .filter(|_| shared_ram.is_some())
                        .context("guest announced an output slot it cannot have")?;
                    *slot = Some((state_at, runs));
                }
                Frame::InSlot {
                    index,
                    state_at,
                    runs,
                } => {
                    if shared_ram.is_none() || index as usize >= run_protocol::IN_SLOTS {
                        bail!("guest announced an input slot it cannot have");
                    }
                    // The stdin thread may have ended (our stdin is closed): no matter.
                    let _ = in_slot_tx.send((index as usize, (state_at, runs)));
                }
                Frame::OutInSlot { stderr, index, len } => {
                    let (Some(ram), Some(Some((state_at, runs)))) =
                        (&shared_ram, slots.get(index as usize))
                    else {
                        bail!("guest wrote to an output slot it did not announce");
                    };
                    let part = run_protocol::prefix_runs(runs, u64::from(len))
                        .context("guest wrote past the end of an output slot")?;
                    let data = ram.read_runs(&part)?;
                    // The copy is taken: the guest may fill the slot again.
                    ram.write_byte(*state_at, 0)?;
                    output.write(stderr, &data, shared_ram.as_deref());
                }
                Frame::Exit(code) => exit = Some(code),
                Frame::TimeRequest => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                    // A guest that no longer reads (it gave up waiting) is no error.
                    let _ = send_to_guest(&to_guest, &Frame::Time(now));
                }
                Frame::FetchArea { control_at, runs } => {
                    if shared_ram.is_none()
                        || run_protocol::prefix_runs(&runs, run_protocol::FETCH_LEN as u64)
                            .is_none()
                    {
                        bail!("guest announced a fetch area it cannot have");
                    }
                    fetch_area = Some((control_at, runs));
                }
                Frame::Fetch { file, offset, len } => {
                    let (Some(ram), Some((control_at, runs))) = (&shared_ram, &fetch_area) else {
                        bail!("guest fetched without a fetch area");
                    };
                    serve_fetch(ram, *control_at, runs, &mut remotes, file, offset, len)?;
                }
                Frame::Stdin(_) | Frame::StdinEof | Frame::StdinInSlot { .. } | Frame::Time(_) => {
                    bail!("guest sent a host-only frame")
                }
            }
        }
    }
    let status = child.wait().context("waiting for QEMU")?;
    qemu_alive.store(false, std::sync::atomic::Ordering::SeqCst);
    // QEMU is gone: the RAM file holds the guest's last memory, the archives included.
    if let Some(ram) = &shared_ram {
        for (slot, runs) in dirs.iter_mut().zip(&in_ram) {
            if !runs.is_empty() {
                *slot = ram.read_runs(runs)?;
            }
        }
    }
    if let Some(log) = &args.log {
        std::fs::copy(launch.log_path(), log)
            .with_context(|| format!("copying the kernel log to {}", log.display()))?;
    }
    let qemu_messages = stderr_thread.join().unwrap_or_default();
    let Some(code) = exit else {
        let log = std::fs::read_to_string(launch.log_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        eprintln!(
            "clew: the guest stopped before the program finished ({status}){}{}",
            if qemu_messages.is_empty() {
                ""
            } else {
                "\nQEMU: "
            },
            qemu_messages.trim_end()
        );
        for line in tail.iter().rev() {
            eprintln!("clew:   {line}");
        }
        return Ok(ExitCode::from(KERNEL_FAILURE_EXIT));
    };
    // A tree the guest sent nothing for was not touched: the program never started (a
    // module that does not load) or the kernel could not read it back (it said so on
    // stderr). An archive, even of no changes, always has its end marker.
    // A tree mounted inside another (or twice) comes back with the outer one.
    for ((((mapping, archive), runs), shared), packed) in args
        .dirs
        .iter()
        .zip(&dirs)
        .zip(&in_ram)
        .zip(&shared_mounts)
        .zip(&snapshots)
    {
        if (archive.is_empty() && runs.is_empty()) || shared.is_some() {
            continue;
        }
        crate::dirsync::apply(archive, &mapping.host, packed)
            .with_context(|| format!("writing back {}", mapping.host.display()))?;
    }
    // Exit codes above 255 are truncated by the host OS as wasmtime's are.
    Ok(ExitCode::from((code & 0xff) as u8))
}

/// Kills QEMU (and reaps it) when dropped, unless it has already exited.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Our stdout and stderr as the program's. A stream that fails (its reader went away, as
/// with `| head`) takes no more writes, and the program is not told: its writes still
/// succeed, as under `wasmtime run` (whose stdio streams count a broken pipe as written),
/// and it runs on to its own end.
struct Output {
    closed: [bool; 2],
    /// Where the guest reads which streams failed.
    status: Arc<Mutex<StatusByte>>,
}

impl Output {
    /// Writes `data` to stderr or stdout, unless that stream has failed. When it fails
    /// (its reader has gone), tells the guest through the status byte, which then fails
    /// the program's writes to it with EIO, as `wasmtime run` does.
    fn write(&mut self, stderr: bool, data: &[u8], ram: Option<&SharedRam>) {
        let closed = &mut self.closed[usize::from(stderr)];
        if *closed {
            return;
        }
        let result = if stderr {
            let mut err = std::io::stderr().lock();
            err.write_all(data).and_then(|_| err.flush())
        } else {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|_| out.flush())
        };
        *closed = result.is_err();
        if let (true, Some(ram)) = (*closed, ram) {
            let bit = if stderr {
                run_protocol::OUT_CLOSED_STDERR
            } else {
                run_protocol::OUT_CLOSED_STDOUT
            };
            lock(&self.status).set(bit, ram);
        }
    }
}

/// The status byte in shared RAM that the guest watches (`Frame::OutStatus`): which of
/// our output streams failed, and whether to stop the program. Set by the frame loop and
/// by the signal thread, under one lock, so that neither undoes the other's bit.
#[derive(Default)]
struct StatusByte {
    /// Its guest-physical address, once the guest has announced it.
    at: Option<u64>,
    bits: u8,
}

impl StatusByte {
    /// Sets `bit`; the guest sees it now, or once it announces the byte.
    fn set(&mut self, bit: u8, ram: &SharedRam) {
        self.bits |= bit;
        self.write(ram);
    }

    /// The guest announced the byte at `at`: bits set before reach it now.
    fn announce(&mut self, at: u64, ram: &SharedRam) {
        self.at = Some(at);
        self.write(ram);
    }

    fn write(&self, ram: &SharedRam) {
        if let Some(at) = self.at {
            // The guest is gone if this fails: nothing left to tell.
            let _ = ram.write_byte(at, self.bits);
        }
    }
}

/// Locks `m`, whether or not a thread panicked holding it (the byte stays meaningful).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// From now on, the first SIGINT, SIGTERM or SIGHUP asks the guest to stop the program
/// (`run_protocol::OUT_STOP` in the status byte); the guest then sends the `--dir` trees
/// back as after any end, the run finishes as usual and `main` dies of that signal
/// ([`crate::signals`]). Only with shared RAM, where the status byte lives; otherwise the
/// signals keep their default action and what the program wrote under `--dir` is lost.
fn watch_signals(status: Arc<Mutex<StatusByte>>, ram: Arc<SharedRam>) -> anyhow::Result<()> {
    crate::signals::on_first(move |_| lock(&status).set(run_protocol::OUT_STOP, &ram))
}

/// A slot the guest announced (`Frame::OutSlot`, `Frame::InSlot`): the guest-physical
/// address of its state byte, and the runs of its bytes.
type Slot = (u64, Vec<(u64, u64)>);

/// Answers a `Frame::Fetch`: reads up to `len` bytes of remote file `file` at `offset`
/// into the guest's fetch area (its bytes at `runs`), then the result word and the
/// state (`FETCH_DONE`) at `control_at`. A file the host cannot read (gone, replaced) is
/// `FETCH_FAILED`, which the program sees as EIO; the run goes on.
fn serve_fetch(
    ram: &SharedRam,
    control_at: u64,
    runs: &[(u64, u64)],
    remotes: &mut crate::dirsync::Remotes,
    file: u64,
    offset: u64,
    len: u32,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; (len as usize).min(run_protocol::FETCH_LEN)];
    let result = match remotes.read(file, offset, &mut buf) {
        Ok(n) => {
            let part = run_protocol::prefix_runs(runs, n as u64)
                .context("fetch larger than the fetch area")?;
            ram.write_runs(&part, &buf[..n])?;
            n as u64
        }
        // Not on stderr, which is the program's: it sees EIO, as for a failing disk.
        Err(_) => run_protocol::FETCH_FAILED,
    };
    ram.write_runs(&[(control_at + 8, 8)], &result.to_le_bytes())?;
    // The state last, one byte (it goes from FETCH_ASKED to FETCH_DONE): the guest reads
    // the bytes and the result only once it sees it.
    ram.write_byte(control_at, run_protocol::FETCH_DONE as u8)
}

/// Copies our stdin to the guest, then signals its end. With shared RAM the bytes go into
/// the guest's input slots (announced through `in_slots`), each named by a
/// `Frame::StdinInSlot`; else they travel in `Frame::Stdin`s. Errors (the guest has gone)
/// just end the copy.
/// Writes one frame to the guest's COM1 (QEMU's stdin).
fn send_to_guest(to_guest: &std::sync::Mutex<impl Write>, frame: &Frame) -> std::io::Result<()> {
    let mut wire = Vec::new();
    frame.encode_into(&mut wire);
    let mut w = to_guest
        .lock()
        .map_err(|_| std::io::Error::other("a writer to the guest panicked"))?;
    w.write_all(&wire)?;
    w.flush()
}

fn forward_stdin(
    to_guest: &std::sync::Mutex<impl Write>,
    ram: Option<&SharedRam>,
    in_slots: &std::sync::mpsc::Receiver<(usize, Slot)>,
) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; run_protocol::IN_SLOT_LEN];
    let mut slots: Vec<Option<Slot>> = vec![None; run_protocol::IN_SLOTS];
    let mut next = 0;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        let frame = if n == 0 {
            Frame::StdinEof
        } else if let Some(ram) = ram {
            while slots[next].is_none() {
                match in_slots.recv() {
                    Ok((index, slot)) => slots[index] = Some(slot),
                    Err(_) => return,
                }
            }
            let Some((state_at, runs)) = &slots[next] else {
                return;
            };
            if fill_in_slot(ram, *state_at, runs, &buf[..n]).is_err() {
                return;
            }
            let index = next as u32;
            next = (next + 1) % slots.len();
            Frame::StdinInSlot {
                index,
                len: n as u32,
            }
        } else {
            Frame::Stdin(buf[..n].to_vec())
        };
        if send_to_guest(to_guest, &frame).is_err() || n == 0 {
            return;
        }
    }
}

/// Waits until the guest has taken the bytes out of the input slot at `runs` (state
/// byte at `state_at`), then puts `data` there and marks the slot filled.
fn fill_in_slot(
    ram: &SharedRam,
    state_at: u64,
    runs: &[(u64, u64)],
    data: &[u8],
) -> anyhow::Result<()> {
    let part = run_protocol::prefix_runs(runs, data.len() as u64)
        .context("stdin chunk larger than an input slot")?;
    // The guest frees a slot when the program reads: poll, as a program reading slowly
    // should not make us spin hard.
    while ram.read_byte(state_at)? != run_protocol::SLOT_FREE {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    ram.write_runs(&part, data)?;
    ram.write_byte(state_at, run_protocol::SLOT_FILLED)
}

/// Builds the boot archive: the module under `/run`, each `--dir` tree under
/// `/run/dirs/<index>`, and the encoded run spec at `RUN_SPEC_PATH`.
/// Which of this process's stdin, stdout and stderr are terminals, as
/// [`RunSpec::terminals`] bits: the guest reports those as character devices, as
/// `wasmtime run` does (and `clew run --host`, through `HostStream::is_tty`).
fn host_terminals() -> u8 {
    use std::io::IsTerminal;
    let mut bits = 0;
    if std::io::stdin().is_terminal() {
        bits |= run_protocol::TTY_STDIN;
    }
    if std::io::stdout().is_terminal() {
        bits |= run_protocol::TTY_STDOUT;
    }
    if std::io::stderr().is_terminal() {
        bits |= run_protocol::TTY_STDERR;
    }
    bits
}

/// What [`build_archive`] made: the boot archive, the spec in it, the module chosen, and
/// what each `--dir` tree was packed as (its snapshot; its files left on the host).
struct Built {
    archive: Vec<u8>,
    spec: RunSpec,
    chosen: Chosen,
    snapshots: Vec<crate::dirsync::Snapshot>,
    remotes: crate::dirsync::Remotes,
}

fn build_archive(
    args: &RunArgs,
    shared_mounts: &[Option<(usize, String)>],
    shared_ram: bool,
) -> anyhow::Result<Built> {
    let chosen =
        crate::compile::choose(args.module(), args.engine, aot_config::CpuProfile::Baseline)?;
    let file_name = args
        .module()
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("module.wasm")
        .to_string();
    // The guest decides the engine by content; the name only has to be unique.
    let file_name = if chosen.native && !file_name.ends_with(".cwasm") {
        format!("{file_name}.cwasm")
    } else {
        file_name
    };
    // The module itself is a boot module of its own (`ProgramModule`); the spec names it.
    let mut archive = Archive::new();
    // What each tree of its own was packed as (a shared one comes back with its root).
    let mut snapshots = Vec::new();
    // Large files of the trees stay on the host until the program reads them; only with
    // shared RAM, through which their bytes come (`Frame::Fetch`).
    let mut remotes = crate::dirsync::Remotes::default();
    for (i, (mapping, shared)) in args.dirs.iter().zip(shared_mounts).enumerate() {
        let at = format!("/{GUEST_MODULE_DIR}/dirs/{i}");
        match shared {
            None => snapshots.push(archive.add_host_dir(
                &at,
                &mapping.host,
                shared_ram.then_some(&mut remotes),
            )?),
            // The kernel resolves `/run/dirs/{i}` following symlinks: the same directory
            // inode is preopened for both mappings.
            Some((root, rel)) => {
                let target = format!("/{GUEST_MODULE_DIR}/dirs/{root}/{rel}");
                archive.add_symlink(&at, target.trim_end_matches('/'))?;
                snapshots.push(crate::dirsync::Snapshot::default());
            }
        }
    }

    let spec = RunSpec {
        module: format!("/{GUEST_MODULE_DIR}/{file_name}"),
        display_name: args.module().to_string_lossy().into_owned(),
        argv: args.argv(),
        env: args
            .environment()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        dirs: args.dirs.iter().map(|d| d.guest.clone()).collect(),
        engine: if chosen.native { "native" } else { "interp" }.to_string(),
        invoke: args.invoke.clone(),
        max_memory: args.max_memory(),
        timeout_ms: args
            .timeout()
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX).max(1)),
        unknown_imports: match args.unknown_imports() {
            wasi::UnknownImports::Trap => UnknownImports::Trap,
            wasi::UnknownImports::DefaultValues => UnknownImports::DefaultValues,
            wasi::UnknownImports::Reject => UnknownImports::Reject,
        },
        // Without it (`CLEW_NO_SHARED_RAM=1`, or no memfd) output and `--dir` trees
        // come back over the serial port: the fallback path, kept tested.
        shared_ram,
        terminals: host_terminals(),
    };
    archive.add_file(&format!("/{}", run_protocol::RUN_SPEC_PATH), &spec.encode())?;
    Ok(Built {
        archive: archive.finish()?,
        spec,
        chosen,
        snapshots,
        remotes,
    })
}

/// The program as a multiboot module of its own (the kernel's `fs::program_module`),
/// handed to QEMU without copying it: the file it was read from when there is one (a
/// `.cwasm` can be hundreds of MB; packing it into the archive and writing that out took
/// over a second for YoWASP's 220 MB yosys), else a memory file holding the bytes. QEMU
/// inherits the descriptor and opens it by its `/proc/self/fd` path, so a file renamed
/// or pruned from the cache meanwhile is still the one read. The kernel checks what it
/// gets (header and checksum, or wasm validation), as for any module.
struct ProgramModule {
    /// Held open until QEMU has read it.
    _file: std::fs::File,
    path: PathBuf,
}

impl ProgramModule {
    fn new(chosen: &Chosen, dir: &RunDir) -> anyhow::Result<Self> {
        use std::os::fd::AsRawFd;
        let len = chosen.bytes.len() as u64;
        let same_file = chosen
            .source
            .as_ref()
            .and_then(|p| std::fs::File::open(p).ok())
            .filter(|f| f.metadata().is_ok_and(|m| m.is_file() && m.len() == len));
        let file = match same_file {
            Some(f) => f,
            None => match rustix::fs::memfd_create("clew-program", rustix::fs::MemfdFlags::empty())
            {
                Ok(fd) => {
                    let mut f = std::fs::File::from(fd);
                    f.write_all(&chosen.bytes)
                        .context("writing the program module")?;
                    f
                }
                // No memory files here: a file in the run directory, by its own path.
                Err(_) => {
                    let path = dir.path().join("program");
                    std::fs::write(&path, &chosen.bytes).context("writing the program module")?;
                    let file = std::fs::File::open(&path).context("opening the program module")?;
                    return Ok(ProgramModule { _file: file, path });
                }
            },
        };
        // QEMU (a child) must inherit it.
        rustix::io::fcntl_setfd(&file, rustix::io::FdFlags::empty())
            .context("passing the program module to QEMU")?;
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        Ok(ProgramModule { _file: file, path })
    }

    /// The path QEMU opens.
    fn path(&self) -> PathBuf {
        self.path.clone()
    }
}
