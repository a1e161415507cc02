//! `clew run` mode (kernel command line word `run`): no shell. The host tool put the module
//! under `/run/`, each `--dir` tree under `/run/dirs/<i>/` and an encoded
//! [`run_protocol::RunSpec`] at `/.clew-run` into the boot archive; this task runs that
//! one program with its stdio on the framed COM1 channel ([`FrameStdin`], [`FrameOut`]),
//! then sends each `--dir` tree back (`Vfs::dump_tar_changes`), then `Frame::Exit(code)`,
//! and powers off. Nothing else reaches COM1 (`console::set_framed`).
//!
//! A tree goes back as `Frame::DirChunk`s over COM1 (about 1 MB/s under TCG: QEMU's 16550
//! hands the host one byte per write), or, when the host shares guest RAM with QEMU
//! (`RunSpec::shared_ram`), as one `Frame::DirInRam`: the physical runs of the archive's
//! buffer, which is then left untouched until power-off, for the host to read from the
//! RAM file after QEMU exits (`memory::physical_runs`).
//!
//! The program's stdout and stderr go the same two ways: as `Frame::Stdout`/`Stderr` over
//! COM1, or, with shared RAM, through [`OutSlots`]: the bytes are copied into one of
//! `run_protocol::OUT_SLOTS` buffers whose place the host learnt at the start
//! (`Frame::OutSlot`), and only a 14-byte `Frame::OutInSlot` crosses COM1. The host
//! frees a slot by writing 0 into its state byte in the RAM file. Stdin likewise comes
//! through [`InSlot`]s the host fills (`Frame::InSlot`, `Frame::StdinInSlot`).
//!
//! Large files of the `--dir` trees come without their contents (`vfs` remote files):
//! [`HostFetcher`] reads them from the host as the program reads them, through a fetch
//! area in shared RAM (`Frame::FetchArea`, `Frame::Fetch`), and before the trees go back
//! `Vfs::fetch_for_dump` brings in whole any the program moved.
//!
//! The module is a `.wasm` (interpreted) or a `.cwasm` (native; the host compiled it for
//! `--engine native` or for a module the interpreter cannot run): its content decides.
//!
//! Preopens are exactly the spec's dirs (`/run/dirs/<i>` under the guest name
//! `spec.dirs[i]`, fds 3, 4, ...), with no `/` or `.`, as `wasmtime run` does.
//! Neighbours: `crate::process` (spawning, options), `crate::fs`, `crate::console`.

use crate::process::{self, RunOptions};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicU64, AtomicU8, Ordering};
use run_protocol::{
    Decoder, Frame, RunSpec, IN_SLOTS, IN_SLOT_LEN, MAX_PAYLOAD, OUT_SLOTS, OUT_SLOT_LEN,
    RUN_SPEC_PATH, SLOT_FILLED, SLOT_FREE,
};
use wasi::{Errno, Stream};

/// Exit code when the kernel cannot even start the program (bad spec, missing module).
const SETUP_FAILURE_EXIT: u32 = 1;

/// The run-mode task's body: run, report, power off.
pub fn run() {
    let t0 = crate::time::monotonic_ns();
    let code = match run_program() {
        Ok(code) => code,
        Err(msg) => {
            send(&Frame::Stderr(msg.into_bytes()));
            SETUP_FAILURE_EXIT
        }
    };
    send(&Frame::Exit(code));
    let fetches = FETCHES.load(Ordering::Relaxed);
    if fetches > 0 {
        log::info!(
            "run: {fetches} fetches brought {} KiB of --dir files from the host in {} us",
            FETCHED_BYTES.load(Ordering::Relaxed) >> 10,
            FETCH_WAIT_NS.load(Ordering::Relaxed) / 1000
        );
    }
    log::info!(
        "run: exit {code} after {} ms in the kernel",
        (crate::time::monotonic_ns() - t0) / 1_000_000
    );
    crate::power::off()
}

fn send(frame: &Frame) {
    let mut wire = Vec::new();
    frame.encode_into(&mut wire);
    crate::console::write_frame_bytes(&wire);
}

/// Sends `data` as frames made by `make`, each within [`MAX_PAYLOAD`].
fn send_chunked(data: &[u8], make: impl Fn(Vec<u8>) -> Frame) {
    for chunk in data.chunks(MAX_PAYLOAD - 4) {
        send(&make(chunk.to_vec()));
    }
}

fn run_program() -> Result<u32, String> {
    let spec_bytes = crate::fs::read_file(&format!("/{RUN_SPEC_PATH}"))
        .map_err(|e| format!("clew: no run spec in the boot archive ({e})\n"))?;
    let spec =
        RunSpec::decode(&spec_bytes).map_err(|e| format!("clew: malformed run spec: {}\n", e.0))?;
    let module_path = if spec.module.starts_with('/') {
        spec.module.clone()
    } else {
        format!("/{}", spec.module)
    };
    let module_name = module_path
        .rsplit('/')
        .next()
        .unwrap_or(&module_path)
        .to_string();
    // Messages name the module as the user typed it on the host, as `wasmtime run` does.
    let display = if spec.display_name.is_empty() {
        module_name.clone()
    } else {
        spec.display_name.clone()
    };
    // The host chose the tier: it ships a `.cwasm` for native runs, a `.wasm` otherwise;
    // the content decides here.
    let bytes = match crate::fs::program_module() {
        Some(bytes) => alloc::borrow::Cow::Borrowed(bytes),
        None => crate::fs::read_file(&module_path)
            .map_err(|e| format!("Error: failed to read input file `{display}`: {e}\n"))?,
    };
    let t_load = crate::time::monotonic_ns();
    let module = process::load_program(&bytes)
        .map_err(|e| trap_site::main_module_error(&display, &e.to_string()))?;
    log::info!(
        "run: {} ({} bytes) loaded for the {} tier in {} us",
        module_path,
        bytes.len(),
        module.tier(),
        (crate::time::monotonic_ns() - t_load) / 1000
    );
    drop(bytes);

    let vfs = crate::fs::shared();
    let mut dir_inos = Vec::new();
    {
        let mut fs = vfs.lock();
        let root = fs.root();
        for i in 0..spec.dirs.len() {
            let path = format!("/run/dirs/{i}");
            let ino = match fs.resolve(root, &path, true, false) {
                Ok(ino) => ino,
                // An empty host directory may have no entry in the archive.
                Err(_) => {
                    let run = match fs.resolve(root, "/run", true, false) {
                        Ok(ino) => ino,
                        Err(_) => fs.mkdir(root, "run").map_err(|e| format!("clew: {e}\n"))?,
                    };
                    let dirs = match fs.lookup(run, "dirs") {
                        Ok(ino) => ino,
                        Err(_) => fs.mkdir(run, "dirs").map_err(|e| format!("clew: {e}\n"))?,
                    };
                    fs.mkdir(dirs, &i.to_string())
                        .map_err(|e| format!("clew: {e}\n"))?
                }
            };
            dir_inos.push(ino);
        }
    }
    let env = spec
        .env
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        })
        .collect();
    let slots = if spec.shared_ram {
        Some(Arc::new(crate::sync::Mutex::new(OutSlots::announce()?)))
    } else {
        None
    };
    // Where the host asks for the program to be stopped (`run_protocol::OUT_STOP`).
    let stop = slots.as_ref().map(|s| s.lock().status);
    let in_slots = if spec.shared_ram {
        announce_in_slots()?
    } else {
        Vec::new()
    };
    if spec.shared_ram {
        vfs.lock().set_fetcher(Box::new(HostFetcher::default()));
    }
    let mut stdin = FrameStdin {
        in_slots,
        tty: spec.terminals & run_protocol::TTY_STDIN != 0,
        ..FrameStdin::default()
    };
    sync_clock(&mut stdin);
    let stdio: [Box<dyn Stream>; 3] = [
        Box::new(stdin),
        Box::new(FrameOut {
            stderr: false,
            slots: slots.clone(),
            tty: spec.terminals & run_protocol::TTY_STDOUT != 0,
        }),
        Box::new(FrameOut {
            stderr: true,
            slots,
            tty: spec.terminals & run_protocol::TTY_STDERR != 0,
        }),
    ];
    let mut ctx = process::new_ctx(vfs.clone(), spec.argv.clone(), env, stdio);
    for (ino, guest) in dir_inos.iter().zip(&spec.dirs) {
        ctx.preopen_dir(*ino, guest);
    }
    let opts = RunOptions {
        invoke: spec.invoke.clone(),
        invoke_args: spec.argv.iter().skip(1).cloned().collect(),
        max_memory: spec.max_memory,
        unknown_imports: match spec.unknown_imports {
            run_protocol::UnknownImports::Reject => wasi::UnknownImports::Reject,
            run_protocol::UnknownImports::DefaultValues => wasi::UnknownImports::DefaultValues,
            run_protocol::UnknownImports::Trap => wasi::UnknownImports::Trap,
        },
        wasmtime_style: Some(display.clone()),
        no_fuel: false,
    };
    let pid = process::start(module_name, module, ctx, opts)
        .map_err(|e| format!("clew: cannot start the program: {e}\n"))?;
    let status = wait_for(pid, spec.timeout_ms, stop);

    let mut lost = false;
    if spec.shared_ram {
        // The host reads file contents in place, by physical address, after power-off; the
        // program is gone, and nothing but reads (`power::off`) touches the tree until then.
        // Remote files the dumps carry whole are fetched first, for every tree, so that
        // no fetch drops what a dump already pointed the host at.
        let mut fs = vfs.lock();
        let mut fetched = Vec::new();
        for ino in &dir_inos {
            fetched.push(fs.fetch_for_dump(*ino));
        }
        let fs = fs;
        for (i, ino) in dir_inos.iter().enumerate() {
            if let Err(e) = fetched[i] {
                lost |= report_lost_dir(&spec.dirs[i], e);
                continue;
            }
            match fs.dump_tar_changes_parts(*ino, BORROW_FROM) {
                Ok(parts) => {
                    let mut runs = Vec::new();
                    let mut len = 0;
                    for part in parts {
                        len += part.bytes().len();
                        match part {
                            // Leaked: the bytes must stay where the host will read them.
                            vfs::TarPart::Owned(v) => {
                                runs.extend(crate::memory::physical_runs(v.leak()));
                            }
                            vfs::TarPart::Borrowed(b) => {
                                runs.extend(crate::memory::physical_runs(b));
                            }
                        }
                    }
                    log::info!(
                        "run: --dir {i} goes back through shared RAM ({} KiB in {} runs)",
                        len >> 10,
                        runs.len()
                    );
                    for frame in run_protocol::dir_in_ram_frames(i as u32, &runs) {
                        send(&frame);
                    }
                }
                Err(e) => lost |= report_lost_dir(&spec.dirs[i], e),
            }
        }
    } else {
        for (i, ino) in dir_inos.iter().enumerate() {
            let tar = vfs.lock().dump_tar_changes(*ino);
            match tar {
                Ok(tar) => {
                    let index = i as u32;
                    send_chunked(&tar, |data| Frame::DirChunk { index, data });
                }
                Err(e) => lost |= report_lost_dir(&spec.dirs[i], e),
            }
        }
    }
    // A program that succeeded but whose files did not reach the host must not look like
    // a success (`wasmtime run` exits 1 on an error of its own).
    Ok(if lost && status.code == 0 {
        1
    } else {
        status.code as u32
    })
}

/// Waits for process `pid`. Once it has run `ms` milliseconds (`-W timeout`), stops it
/// with the trap "interrupt" (`process::time_out`); when the host sets `OUT_STOP` in the
/// status byte `stop` (`clew run` got SIGINT, SIGTERM or SIGHUP), kills it, so that its
/// `--dir` changes go back as after any end. Checks every tick: the program is the only
/// one running, and this task sleeps in between.
fn wait_for(pid: process::Pid, ms: Option<u64>, stop: Option<&AtomicU8>) -> process::ExitStatus {
    if ms.is_none() && stop.is_none() {
        // Nothing to watch (no shared RAM, no timeout): block until it ends.
        return process::wait(pid);
    }
    let deadline = ms.map(|ms| crate::time::uptime_ms().saturating_add(ms));
    loop {
        if let Some(status) = process::try_wait(pid) {
            return status;
        }
        // It may end meanwhile: then there is nothing to stop, and `wait` has its status.
        if stop.is_some_and(|s| s.load(Ordering::Acquire) & run_protocol::OUT_STOP != 0) {
            log::info!("run: the host asked for the program to stop");
            let _ = process::kill(pid);
            return process::wait(pid);
        }
        let now = crate::time::uptime_ms();
        let mut nap = crate::time::MS_PER_TICK;
        if let Some(deadline) = deadline {
            if now >= deadline {
                let _ = process::time_out(pid);
                return process::wait(pid);
            }
            nap = nap.min(deadline - now);
        }
        crate::task::sleep_ms(nap);
    }
}

/// Files at least this large go back to the host from where they lie in the tree, not
/// copied into the archive (`Vfs::dump_tar_changes_parts`): a `--dir` that a program filled
/// with most of the machine's memory could not otherwise be sent back.
const BORROW_FROM: usize = 64 << 10;

/// Tells the host's stderr that directory `dir` could not be sent back; returns true.
fn report_lost_dir(dir: &str, e: vfs::Error) -> bool {
    let msg = format!("clew: cannot read back directory {dir}: {e}\n");
    send(&Frame::Stderr(msg.into_bytes()));
    true
}

/// Writes up to this long go inline as `Frame::Stdout`/`Stderr` even when output slots
/// exist: a slot's frame is 14 bytes on the wire whatever its length.
const INLINE_MAX: usize = 32;

/// A program's stdout or stderr in run mode: every write becomes frames, byte-exact,
/// through the output slots when there are any. Both streams share the slots and the
/// port, so the host sees the writes in the program's order.
struct FrameOut {
    stderr: bool,
    slots: Option<Arc<crate::sync::Mutex<OutSlots>>>,
    /// The host's stream is a terminal (`RunSpec::terminals`).
    tty: bool,
}

impl Stream for FrameOut {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        if let Some(slots) = &self.slots {
            let mut slots = slots.lock();
            // The host could not write this stream (its reader has gone, as with `| head`):
            // fail as `wasmtime run` does, with EIO, so that a program writing forever ends.
            if slots.closed(self.stderr) {
                return Err(Errno::Io);
            }
            if buf.len() > INLINE_MAX {
                return slots.write(self.stderr, buf);
            }
        }
        if self.stderr {
            send_chunked(buf, Frame::Stderr);
        } else {
            send_chunked(buf, Frame::Stdout);
        }
        Ok(buf.len())
    }

    fn is_tty(&self) -> bool {
        self.tty
    }
}

/// One output slot: its bytes and its state byte (`SLOT_FREE`, or `SLOT_FILLED` until the
/// host has copied the bytes out), both at addresses the host was told.
struct OutSlot {
    data: &'static mut [u8],
    state: &'static AtomicU8,
}

/// The output slots of `Frame::OutSlot`, used round robin. They live until power-off
/// (leaked), since the host reads and writes them by physical address.
struct OutSlots {
    slots: Vec<OutSlot>,
    next: usize,
    /// Where the host records a failed stdout or stderr (`Frame::OutStatus`).
    status: &'static AtomicU8,
}

impl OutSlots {
    /// Allocates the slots and tells the host where they are.
    fn announce() -> Result<OutSlots, String> {
        let mut slots = Vec::with_capacity(OUT_SLOTS);
        for index in 0..OUT_SLOTS {
            let data: &'static mut [u8] = alloc::vec![0u8; OUT_SLOT_LEN].leak();
            let (state, state_at) = state_byte()?;
            let runs = crate::memory::physical_runs(data);
            send(&Frame::OutSlot {
                index: index as u32,
                state_at,
                runs,
            });
            slots.push(OutSlot { data, state });
        }
        let (status, state_at) = state_byte()?;
        send(&Frame::OutStatus { state_at });
        Ok(OutSlots {
            slots,
            next: 0,
            status,
        })
    }

    /// Whether the host has found stderr (or stdout) closed.
    fn closed(&self, stderr: bool) -> bool {
        let bit = if stderr {
            run_protocol::OUT_CLOSED_STDERR
        } else {
            run_protocol::OUT_CLOSED_STDOUT
        };
        self.status.load(Ordering::Acquire) & bit != 0
    }

    /// Copies `buf` into the next slots, waiting for the host to free each, and sends a
    /// `Frame::OutInSlot` per slot. A kill while waiting ends the write short (or with
    /// `EINTR` when nothing went out).
    fn write(&mut self, stderr: bool, buf: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        for chunk in buf.chunks(OUT_SLOT_LEN) {
            let index = self.next;
            let slot = &mut self.slots[index];
            // Acquire: pairs with the host's write of 0 after its copy (through the RAM
            // file; x86 orders it like another CPU's store).
            while slot.state.load(Ordering::Acquire) != SLOT_FREE {
                if process::current_killed() {
                    return if done == 0 {
                        Err(Errno::Intr)
                    } else {
                        Ok(done)
                    };
                }
                crate::task::yield_now();
            }
            slot.data[..chunk.len()].copy_from_slice(chunk);
            slot.state.store(SLOT_FILLED, Ordering::Release);
            send(&Frame::OutInSlot {
                stderr,
                index: index as u32,
                len: chunk.len() as u32,
            });
            self.next = (index + 1) % self.slots.len();
            done += chunk.len();
        }
        Ok(done)
    }
}

/// A slot's state byte (`run_protocol::SLOT_*`), leaked (the host writes it by physical
/// address until power-off), and that address.
fn state_byte() -> Result<(&'static AtomicU8, u64), String> {
    let state: &'static AtomicU8 = Box::leak(Box::new(AtomicU8::new(0)));
    let at = crate::memory::physical_address(state as *const AtomicU8 as u64)
        .ok_or_else(|| String::from("clew: slot state byte not mapped\n"))?;
    Ok((state, at))
}

/// One input slot (`Frame::InSlot`): bytes the host writes into our RAM behind the
/// compiler's back, hence read as atomics, eight at a time; and the slot's state byte.
struct InSlot {
    words: &'static [AtomicU64],
    state: &'static AtomicU8,
}

impl InSlot {
    /// Appends the slot's first `len` bytes to `out` and hands the slot back to the host.
    fn take(&self, len: usize, out: &mut VecDeque<u8>) {
        // The host wrote the bytes before it sent the frame that brought us here.
        fence(Ordering::Acquire);
        let mut left = len;
        for word in &self.words[..len.div_ceil(8)] {
            let bytes = word.load(Ordering::Relaxed).to_le_bytes();
            let n = left.min(8);
            out.extend(&bytes[..n]);
            left -= n;
        }
        self.state.store(SLOT_FREE, Ordering::Release);
    }
}

/// Allocates the input slots (leaked, like the output slots) and tells the host where
/// they are.
fn announce_in_slots() -> Result<Vec<InSlot>, String> {
    let mut slots = Vec::with_capacity(IN_SLOTS);
    for index in 0..IN_SLOTS {
        let words: &'static [AtomicU64] =
            Vec::from_iter((0..IN_SLOT_LEN / 8).map(|_| AtomicU64::new(0))).leak();
        let (state, state_at) = state_byte()?;
        let runs = crate::memory::physical_runs_of(words.as_ptr() as u64, IN_SLOT_LEN as u64);
        send(&Frame::InSlot {
            index: index as u32,
            state_at,
            runs,
        });
        slots.push(InSlot { words, state });
    }
    Ok(slots)
}

/// Reads remote files' bytes from the host (`vfs::Fetcher`): one request at a time (the
/// caller holds the tree's lock) through a fetch area of `run_protocol::FETCH_LEN` bytes,
/// announced to the host on the first fetch. The guest sets the state word to
/// `FETCH_ASKED` and sends `Frame::Fetch`; the host writes the bytes, the result word and
/// `FETCH_DONE`, which the guest watches (yielding) instead of waiting for a frame: the
/// serial port's way towards the guest is the slow one.
#[derive(Default)]
struct HostFetcher {
    area: Option<FetchArea>,
}

/// Fetches answered, bytes they brought and the time spent waiting, for the log.
static FETCHES: AtomicU64 = AtomicU64::new(0);
static FETCHED_BYTES: AtomicU64 = AtomicU64::new(0);
static FETCH_WAIT_NS: AtomicU64 = AtomicU64::new(0);

/// The fetch area: bytes the host writes behind the compiler's back, hence read as
/// atomics (as [`InSlot`]), and the state and result words. Leaked: the host writes
/// them by physical address until power-off.
struct FetchArea {
    words: &'static [AtomicU64],
    control: &'static [AtomicU64; 2],
}

impl FetchArea {
    fn announce() -> Result<FetchArea, vfs::FetchFailed> {
        let words: &'static [AtomicU64] =
            Vec::from_iter((0..run_protocol::FETCH_LEN / 8).map(|_| AtomicU64::new(0))).leak();
        // 16 bytes at a 16-byte alignment: in one page, so physically contiguous.
        let control: &'static [AtomicU64; 2] =
            Box::leak(Box::new([AtomicU64::new(0), AtomicU64::new(0)]));
        let control_at =
            crate::memory::physical_address(control.as_ptr() as u64).ok_or(vfs::FetchFailed)?;
        let runs =
            crate::memory::physical_runs_of(words.as_ptr() as u64, run_protocol::FETCH_LEN as u64);
        send(&Frame::FetchArea { control_at, runs });
        Ok(FetchArea { words, control })
    }
}

impl vfs::Fetcher for HostFetcher {
    fn fetch(
        &mut self,
        id: u64,
        offset: u64,
        bufs: &mut [Vec<u8>],
    ) -> Result<(), vfs::FetchFailed> {
        if self.area.is_none() {
            self.area = Some(FetchArea::announce()?);
        }
        let area = self.area.as_ref().ok_or(vfs::FetchFailed)?;
        let [state, result] = area.control;
        let mut at = offset;
        // The vfs's chunks (`vfs::CHUNK_BYTES`, which divides the area's size), as many
        // per request as fill the area.
        let mut pieces = bufs.iter_mut().map(Vec::as_mut_slice).peekable();
        while pieces.peek().is_some() {
            let mut batch = Vec::new();
            let mut len = 0;
            while let Some(p) = pieces.next_if(|p| len + p.len() <= run_protocol::FETCH_LEN) {
                len += p.len();
                batch.push(p);
            }
            if batch.is_empty() {
                return Err(vfs::FetchFailed);
            }
            let asked = crate::time::monotonic_ns();
            state.store(run_protocol::FETCH_ASKED, Ordering::Release);
            send(&Frame::Fetch {
                file: id,
                offset: at,
                len: len as u32,
            });
            // Acquire: pairs with the host's write of the state after the bytes and result.
            while state.load(Ordering::Acquire) != run_protocol::FETCH_DONE {
                crate::task::yield_now();
            }
            let got = result.load(Ordering::Relaxed);
            state.store(run_protocol::FETCH_IDLE, Ordering::Relaxed);
            FETCHES.fetch_add(1, Ordering::Relaxed);
            FETCH_WAIT_NS.fetch_add(crate::time::monotonic_ns() - asked, Ordering::Relaxed);
            if got != run_protocol::FETCH_FAILED {
                FETCHED_BYTES.fetch_add(got, Ordering::Relaxed);
            }
            if got == run_protocol::FETCH_FAILED || got > len as u64 {
                return Err(vfs::FetchFailed);
            }
            // Bytes past what the host had (its file shrank) stay zeros. Every piece but
            // the last is a whole number of words, so each starts at a word.
            let mut pos = 0;
            for piece in batch {
                let n = piece.len().min((got as usize).saturating_sub(pos));
                for (i, dst) in piece[..n].chunks_mut(8).enumerate() {
                    let word = area.words[pos / 8 + i]
                        .load(Ordering::Relaxed)
                        .to_le_bytes();
                    dst.copy_from_slice(&word[..dst.len()]);
                }
                pos += piece.len();
            }
            at += len as u64;
        }
        Ok(())
    }
}

/// How long [`sync_clock`] waits for the host's answer (a round trip takes a few ms).
const CLOCK_SYNC_WAIT_NS: u64 = 500_000_000;

/// Sets the wall clock from the host's (`Frame::TimeRequest`, `Frame::Time`), as
/// `wasmtime run` reads the host's clock: the RTC has whole seconds, so realtime started
/// up to a second behind and files the program wrote looked older than the command.
/// The answer travels back in about half the round trip, which is added. Frames that
/// come meanwhile (stdin) stay in `stdin`; without an answer the RTC's time stays.
fn sync_clock(stdin: &mut FrameStdin) {
    let asked = crate::time::monotonic_ns();
    send(&Frame::TimeRequest);
    loop {
        // Takes what COM1 holds and decodes it (a `Frame::Time` lands in `host_time`).
        stdin.read_ready();
        let now = crate::time::monotonic_ns();
        if let Some(host_ns) = stdin.host_time.take() {
            crate::time::set_realtime_ns(host_ns.saturating_add((now - asked) / 2));
            log::info!(
                "run: clock set from the host ({} us round trip)",
                (now - asked) / 1000
            );
            return;
        }
        if stdin.broken || now - asked > CLOCK_SYNC_WAIT_NS {
            log::warn!("run: no time from the host; the clock stays the RTC's");
            return;
        }
        crate::task::yield_now();
    }
}

/// A program's stdin in run mode: `Frame::Stdin` / `Frame::StdinEof` decoded from COM1,
/// or `Frame::StdinInSlot`s naming input slots in shared RAM.
#[derive(Default)]
struct FrameStdin {
    decoder: Decoder,
    data: VecDeque<u8>,
    eof: bool,
    broken: bool,
    in_slots: Vec<InSlot>,
    /// The host's stdin is a terminal (`RunSpec::terminals`).
    tty: bool,
    /// A `Frame::Time` received and not yet taken by [`sync_clock`].
    host_time: Option<u64>,
}

impl FrameStdin {
    /// Moves complete frames from the decoder into `data`.
    fn drain_frames(&mut self) {
        loop {
            match self.decoder.next_frame() {
                Ok(Some(Frame::Stdin(d))) => self.data.extend(d),
                Ok(Some(Frame::StdinEof)) => self.eof = true,
                Ok(Some(Frame::Time(ns))) => self.host_time = Some(ns),
                Ok(Some(Frame::StdinInSlot { index, len })) => {
                    match self.in_slots.get(index as usize) {
                        Some(slot) if len as usize <= IN_SLOT_LEN => {
                            slot.take(len as usize, &mut self.data)
                        }
                        _ => {
                            log::error!("run: stdin names input slot {index} with {len} bytes");
                            self.broken = true;
                            return;
                        }
                    }
                }
                Ok(Some(other)) => log::warn!("run: unexpected frame from the host: {other:?}"),
                Ok(None) => return,
                Err(e) => {
                    log::error!("run: stdin stream broken: {e}");
                    self.broken = true;
                    return;
                }
            }
        }
    }
}

impl Stream for FrameStdin {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.drain_frames();
            if !self.data.is_empty() {
                let n = buf.len().min(self.data.len());
                for (dst, src) in buf.iter_mut().zip(self.data.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            if self.broken {
                return Err(Errno::Io);
            }
            let Some(b) = crate::console::read_byte_until(process::current_killed) else {
                return Err(Errno::Intr);
            };
            let mut chunk = Vec::with_capacity(64);
            chunk.push(b);
            while chunk.len() < 4096 {
                match crate::console::try_read_byte() {
                    Some(b) => chunk.push(b),
                    None => break,
                }
            }
            self.decoder.push(&chunk);
        }
    }

    fn read_ready(&mut self) -> bool {
        let mut chunk = Vec::new();
        while chunk.len() < 4096 {
            match crate::console::try_read_byte() {
                Some(b) => chunk.push(b),
                None => break,
            }
        }
        self.decoder.push(&chunk);
        self.drain_frames();
        !self.data.is_empty() || self.eof || self.broken
    }

    fn is_tty(&self) -> bool {
        self.tty
    }
}
