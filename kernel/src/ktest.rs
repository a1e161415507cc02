//! In-kernel tests (kernel command line `test`): each prints `test NAME ... ok|FAILED`, then
//! a final `N passed, M failed` line on COM1; QEMU then powers off (status 0) if all passed,
//! else exits through isa-debug-exit with 1 (status 3). Process tests live in `process`.
//!
//! Each test runs in a task of its own under a watchdog: a test still running
//! [`TEST_DEADLINE_MS`] after it started is killed ([`task::kill`]) and reported FAILED, and
//! the suite goes on, so it always ends with its summary line (unless a test stops the whole
//! CPU, e.g. spinning with interrupts disabled).

use crate::fault::{self, ExceptionKind, Handled};
use crate::sync::Mutex;
use crate::task::{self, Exit};
use crate::{memory, println, time};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel_logic::paging::Prot;

/// Fails the test with a formatted reason unless `cond` holds (also used by the
/// `native` and `process` submodules, declared below it).
macro_rules! check {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return Err(format!($($msg)*));
        }
    };
}

mod native;
mod process;

/// Writes `bytes` to the file at `path` in the shared VFS, making its directories (for
/// the tests' modules).
fn write_file(path: &str, bytes: &[u8]) -> Result<(), String> {
    let vfs = crate::fs::shared();
    let mut fs = vfs.lock();
    let root = fs.root();
    let mut dir = root;
    let (parent, name) = path.rsplit_once('/').ok_or("bad path")?;
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        dir = match fs.lookup(dir, part) {
            Ok(i) => i,
            Err(_) => fs.mkdir(dir, part).map_err(|e| e.to_string())?,
        };
    }
    let (ino, _) = fs
        .create_file(dir, name, false)
        .map_err(|e| e.to_string())?;
    fs.set_len(ino, 0).map_err(|e| e.to_string())?;
    fs.write_at(ino, 0, bytes).map_err(|e| e.to_string())?;
    Ok(())
}

type TestResult = Result<(), String>;
type Test = (&'static str, fn() -> TestResult);

const TESTS: &[Test] = &[
    ("heap", heap),
    ("mem_routines", mem_routines),
    ("heap_exhaustion_contained", heap_exhaustion_contained),
    ("heap_many_holes", heap_many_holes),
    ("heap_gives_memory_back", heap_gives_memory_back),
    ("paging_lazy_commit", paging_lazy_commit),
    ("protect_wx", protect_wx),
    ("nx_enforced", nx_enforced),
    ("timer_ticks", timer_ticks),
    ("preemption_busy_loop", preemption_busy_loop),
    ("blocking_mutex", blocking_mutex),
    ("tls_slots", tls_slots),
    ("catch_unwind", catch_unwind),
    ("panicking_task_dies_alone", panicking_task_dies_alone),
    ("page_fault_task_dies_alone", page_fault_task_dies_alone),
    ("gp_fault_task_dies_alone", gp_fault_task_dies_alone),
    ("stack_overflow_guard", stack_overflow_guard),
    (
        "fault_during_unwind_kills_task",
        fault_during_unwind_kills_task,
    ),
    (
        "corrupt_stack_fault_contained",
        corrupt_stack_fault_contained,
    ),
    ("watchdog_kills_hung_test", watchdog_kills_hung_test),
    ("handler_resume_after_fix", handler_resume_after_fix),
    ("handler_unwinds_into_catch", handler_unwinds_into_catch),
    (
        "unhandled_illegal_instruction",
        unhandled_illegal_instruction,
    ),
    ("pipe_semantics", process::pipe_semantics),
    ("spawn_to_exit", process::spawn_to_exit),
    ("redirect_to_file", process::redirect_to_file),
    ("trap_dies_alone", process::trap_dies_alone),
    ("kill_compute_loop", process::kill_compute_loop),
    ("host_panic_becomes_trap", process::host_panic_becomes_trap),
    ("spawn_errors", process::spawn_errors),
    ("fuel_cost", process::fuel_cost),
    ("native_hello", native::native_hello),
    ("native_features", native::native_features),
    ("native_bad_cwasm", native::native_bad_cwasm),
    ("native_fault_classes", native::native_fault_classes),
    ("native_trap_repetitions", native::native_trap_repetitions),
    ("interp_trap_repetitions", native::interp_trap_repetitions),
    ("native_concurrent", native::native_concurrent),
    ("native_avx_preemption", native::native_avx_preemption),
    ("program_cache", native::program_cache),
    ("native_kill_loop", native::native_kill_loop),
    ("native_bench", native::native_bench),
];

/// How long (uptime) a test may run before the watchdog fails it.
pub const TEST_DEADLINE_MS: u64 = 20_000;

/// Tests that may run longer: 1000 native stack overflows take 8-15 s under TCG (each
/// recurses through 512 KiB of stack, about 8 ms per trap against 20-25 us for the other
/// fault classes), so a busy host could push them past [`TEST_DEADLINE_MS`]; 1000
/// interpreter stack overflows go 100,000 calls deep each
/// (`wasi::wasmi_adapter::MAX_RECURSION_DEPTH`) and take about as long.
const LONG_DEADLINES_MS: &[(&str, u64)] = &[
    ("native_trap_repetitions", 60_000),
    ("interp_trap_repetitions", 60_000),
];

/// Runs every test (or, with `only=NAME` on the kernel command line, those whose name
/// contains NAME) and ends the machine.
pub fn run(only: Option<&str>) {
    let mut passed = 0;
    let mut failed = 0;
    for (name, test) in TESTS {
        if only.is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let deadline_ms = LONG_DEADLINES_MS
            .iter()
            .find(|(n, _)| n == name)
            .map_or(TEST_DEADLINE_MS, |(_, ms)| *ms);
        match run_one(name, *test, deadline_ms) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED: {why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        crate::power::off();
    } else {
        hal::cpu::exit_qemu(1);
    }
}

/// Runs `test` in a task of its own and waits for it at most `deadline_ms`; past that the
/// task is killed and the test fails. A panic or fault of the test task fails it too.
fn run_one(name: &str, test: fn() -> TestResult, deadline_ms: u64) -> TestResult {
    let slot: Arc<spin::Mutex<Option<TestResult>>> = Arc::new(spin::Mutex::new(None));
    let s2 = slot.clone();
    let id = task::spawn(&format!("test:{name}"), move || {
        let r = match fault::catch_unwind(test) {
            Ok(r) => r,
            Err(p) => Err(format!("panicked: {}", fault::payload_message(&*p))),
        };
        *s2.lock() = Some(r);
    })
    .map_err(|e| format!("spawning the test task: {e:?}"))?;
    let deadline = time::uptime_ms() + deadline_ms;
    while !task::is_dead(id) {
        if time::uptime_ms() >= deadline {
            task::kill(id, "test watchdog");
            let _ = task::join(id);
            return Err(format!(
                "timed out after {} ms (watchdog killed the test task)",
                deadline_ms
            ));
        }
        task::sleep_ms(10);
    }
    let exit = task::join(id);
    // try_lock: a test task killed while holding the slot must not hang the runner.
    let result = slot.try_lock().and_then(|mut r| r.take());
    result.unwrap_or_else(|| Err(format!("the test task ended without a result: {exit:?}")))
}

fn heap() -> TestResult {
    let (used0, _) = hal::heap::stats();
    let v: Vec<u64> = (0..200_000).collect();
    check!(
        v.iter().sum::<u64>() == 199_999 * 200_000 / 2,
        "vector contents"
    );
    let big = alloc::vec![0xa5u8; 24 << 20]; // larger than the initial heap: forces growth
    check!(big.iter().all(|&b| b == 0xa5), "big block contents");
    let (used1, size1) = hal::heap::stats();
    check!(used1 >= used0 + (24 << 20), "heap accounting");
    check!(size1 >= 24 << 20, "heap grew");
    drop(big);
    let boxes: Vec<Box<[u8; 100]>> = (0..1000).map(|i| Box::new([i as u8; 100])).collect();
    check!(
        boxes.iter().enumerate().all(|(i, b)| b[99] == i as u8),
        "boxes"
    );
    Ok(())
}

/// `memcpy`, `memmove` and `memset` (hal::mem, reached here through `copy_from_slice`,
/// `copy_within` and `fill`) against the byte-by-byte definition: every length up to 100
/// (below, at and across the 32-byte block), every alignment up to 8, overlaps in both
/// directions at distances below and above a block; bytes outside the range stay.
fn mem_routines() -> TestResult {
    const LEN: usize = 208;
    // Distinct values with period 251 (prime), so a shifted or misplaced byte is seen.
    let pattern = |i: usize| (i * 7 % 251) as u8;
    let fresh = || (0..LEN).map(pattern).collect::<Vec<u8>>();
    let offsets = [0usize, 1, 3, 7, 8, 31, 32, 33, 40, 64];
    for n in 0..=100usize {
        for &src in &offsets {
            for &dst in &offsets {
                // memmove (overlapping whenever |src - dst| < n).
                let mut buf = fresh();
                core::hint::black_box(&mut buf).copy_within(src..src + n, dst);
                for (i, &b) in buf.iter().enumerate() {
                    let want = if (dst..dst + n).contains(&i) {
                        pattern(i - dst + src)
                    } else {
                        pattern(i)
                    };
                    check!(
                        b == want,
                        "memmove n={n} src={src} dst={dst}: byte {i} is {b}, want {want}"
                    );
                }
            }
            // memcpy between two buffers, and memset.
            let from = fresh();
            let mut to = alloc::vec![0xeeu8; LEN];
            let dst = (src * 5) % 9;
            core::hint::black_box(&mut to)[dst..dst + n].copy_from_slice(&from[src..src + n]);
            for (i, &b) in to.iter().enumerate() {
                let want = if (dst..dst + n).contains(&i) {
                    pattern(i - dst + src)
                } else {
                    0xee
                };
                check!(
                    b == want,
                    "memcpy n={n} src={src} dst={dst}: byte {i} is {b}, want {want}"
                );
            }
            let mut buf = fresh();
            let value = core::hint::black_box(0xa5u8);
            core::hint::black_box(&mut buf)[src..src + n].fill(value);
            for (i, &b) in buf.iter().enumerate() {
                let want = if (src..src + n).contains(&i) {
                    0xa5
                } else {
                    pattern(i)
                };
                check!(
                    b == want,
                    "memset n={n} at={src}: byte {i} is {b}, want {want}"
                );
            }
        }
    }
    Ok(())
}

/// An allocation larger than the memory left fails as an error the caller sees
/// (`try_reserve`), takes no frames with it, and leaves the heap usable; one that would eat
/// into the reserve kept for the kernel fails too.
fn heap_exhaustion_contained() -> TestResult {
    let free0 = memory::stats().free_frames;
    let (_, size0) = hal::heap::stats();
    for bytes in [
        (free0 + 1) * 4096,
        free0.saturating_sub(1024) * 4096,
        (free0 * 4096).saturating_mul(4),
    ] {
        let mut v: Vec<u8> = Vec::new();
        check!(
            v.try_reserve_exact(bytes as usize).is_err(),
            "{bytes} bytes granted with {free0} frames free"
        );
        let after = memory::stats().free_frames;
        check!(
            after == free0,
            "a failed {bytes}-byte allocation took {} frames",
            free0 - after
        );
    }
    check!(hal::heap::stats().1 == size0, "the heap grew");
    let v = alloc::vec![7u8; 4 << 20];
    check!(v.iter().all(|&b| b == 7), "the heap still works");
    Ok(())
}

/// With 200,000 holes in the heap too small for the blocks asked for (every other 16-byte
/// block of 400,000 freed, as when a program unlinks files), allocation still works and
/// still costs about what it costs in a tidy heap; prints both (a measurement, not a
/// check: `linked_list_allocator`, used before talc, walked every hole on each allocation).
fn heap_many_holes() -> TestResult {
    let time_allocs = |n: usize| {
        let t0 = crate::time::monotonic_ns();
        let v: Vec<Box<[u64; 6]>> = (0..n).map(|i| Box::new([i as u64; 6])).collect();
        let ns = crate::time::monotonic_ns() - t0;
        (v, ns / n as u64)
    };
    let (tidy, tidy_ns) = time_allocs(20_000);
    drop(tidy);
    let mut blocks: Vec<Option<Box<[u64; 12]>>> = (0..400_000)
        .map(|i| Some(Box::new([i as u64; 12])))
        .collect();
    for b in blocks.iter_mut().step_by(2) {
        *b = None;
    }
    let (fresh, holes_ns) = time_allocs(20_000);
    check!(
        fresh.iter().enumerate().all(|(i, b)| b[5] == i as u64),
        "blocks allocated among holes"
    );
    check!(
        blocks
            .iter()
            .enumerate()
            .skip(1)
            .step_by(2)
            .all(|(i, b)| b.as_ref().is_some_and(|b| b[1] == i as u64)),
        "the kept blocks are intact"
    );
    crate::println!(
        "bench heap_alloc: {tidy_ns} ns per 48-byte allocation in a tidy heap, {holes_ns} ns with 200,000 holes"
    );
    Ok(())
}

/// A large block freed at the top of the heap gives its frames back (all but the 8 MiB
/// the heap keeps mapped above its highest allocation), so memory an interpreted
/// program's linear memory took serves native code and later programs once it is gone.
fn heap_gives_memory_back() -> TestResult {
    let free0 = memory::stats().free_frames;
    let big = alloc::vec![1u8; 256 << 20];
    let during = memory::stats().free_frames;
    check!(
        free0 - during >= (256 << 20) / 4096,
        "256 MiB took only {} frames",
        free0 - during
    );
    check!(big.iter().step_by(4096).all(|&b| b == 1), "contents");
    drop(big);
    let after = memory::stats().free_frames;
    check!(
        after + (10 << 20) / 4096 >= free0,
        "{} of {} frames came back",
        after.saturating_sub(during),
        free0 - during
    );
    let again = alloc::vec![2u8; 64 << 20];
    check!(
        again.iter().step_by(4096).all(|&b| b == 2),
        "the heap grows again"
    );
    Ok(())
}

fn paging_lazy_commit() -> TestResult {
    let four_gib = 4u64 << 30;
    let free0 = memory::stats().free_frames;
    let base = memory::reserve(four_gib, 2 << 30, Prot::RW, "test")
        .map_err(|e| format!("reserve: {e:?}"))?;
    check!(
        hal::paging::translate(base).is_none(),
        "not committed up front"
    );
    check!(
        memory::stats().free_frames + 2 >= free0,
        "reserving 4 GiB must not use frames"
    );
    for (i, off) in [0, 1 << 30, four_gib - 8].into_iter().enumerate() {
        hal::paging::poke_u64(base + off, 0x1000 + i as u64);
    }
    for (i, off) in [0, 1 << 30, four_gib - 8].into_iter().enumerate() {
        check!(
            hal::paging::peek_u64(base + off) == 0x1000 + i as u64,
            "value at {off:#x}"
        );
    }
    check!(
        hal::paging::peek_u64(base + 4096 * 7) == 0,
        "fresh pages are zero"
    );
    let t = hal::paging::translate(base).ok_or("committed page not mapped")?;
    check!(
        t.prot == Prot::RW,
        "committed with the reservation's protection"
    );
    let used = free0.saturating_sub(memory::stats().free_frames);
    check!(
        (4..=16).contains(&used),
        "4 pages + tables committed, got {used}"
    );
    memory::decommit(base, 4096).map_err(|e| format!("{e:?}"))?;
    check!(
        hal::paging::peek_u64(base) == 0,
        "decommitted page reads zero"
    );
    memory::release(base).map_err(|e| format!("{e:?}"))?;
    check!(
        hal::paging::translate(base + (1 << 30)).is_none(),
        "released"
    );
    let leaked = free0 as i64 - memory::stats().free_frames as i64;
    check!(
        leaked <= 8,
        "frames returned (only page tables kept), leaked {leaked}"
    );
    Ok(())
}

fn protect_wx() -> TestResult {
    let base = memory::reserve(4 * 4096, 4096, Prot::RW, "test").map_err(|e| format!("{e:?}"))?;
    hal::paging::poke_u64(base, 42);
    check!(
        memory::protect(base, 4096, Prot::new(true, true, true)).is_err(),
        "W+X refused"
    );
    memory::protect(base, 4096, Prot::RX).map_err(|e| format!("{e:?}"))?;
    let t = hal::paging::translate(base).ok_or("mapped")?;
    check!(t.prot == Prot::RX, "now read+exec");
    memory::protect(base, 2 * 4096, Prot::R).map_err(|e| format!("{e:?}"))?;
    check!(hal::paging::peek_u64(base) == 42, "contents kept");
    memory::release(base).map_err(|e| format!("{e:?}"))?;
    Ok(())
}

fn nx_enforced() -> TestResult {
    let base = memory::reserve(4096, 4096, Prot::RW, "test").map_err(|e| format!("{e:?}"))?;
    hal::paging::poke_u64(base, 0xc3); // `ret`
    let data_page = base;
    let r = dies_alone(
        move || hal::cpu::probe_execute(data_page),
        |e| matches!(e, Exit::Faulted(m) if m.contains("protection violation fetch")),
        task::DEFAULT_STACK,
    );
    // Flipped to code (W^X: no longer writable), the same bytes run.
    memory::protect(base, 4096, Prot::RX).map_err(|e| format!("{e:?}"))?;
    let ran = task::spawn("exec", move || hal::cpu::probe_execute(data_page))
        .map_err(|e| format!("{e:?}"))?;
    let ran = task::join(ran);
    memory::release(base).map_err(|e| format!("{e:?}"))?;
    r?;
    check!(ran == Some(Exit::Returned), "RX page executed: {ran:?}");
    Ok(())
}

fn timer_ticks() -> TestResult {
    let t0 = time::ticks();
    let u0 = time::uptime_ms();
    task::sleep_ms(100);
    let dt = time::ticks() - t0;
    check!(dt >= 10, "ticks advanced by {dt} in 100 ms");
    check!(time::uptime_ms() >= u0 + 100, "uptime advanced");
    Ok(())
}

fn preemption_busy_loop() -> TestResult {
    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<AtomicU64>> = (0..2).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let mut ids = Vec::new();
    for (i, c) in counters.iter().enumerate() {
        let (stop, c) = (stop.clone(), c.clone());
        // Never yields, never blocks: only the timer can take the CPU away.
        ids.push(
            task::spawn(&format!("busy{i}"), move || {
                while !stop.load(Ordering::Relaxed) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| format!("{e:?}"))?,
        );
    }
    task::sleep_ms(100);
    let a = [
        counters[0].load(Ordering::Relaxed),
        counters[1].load(Ordering::Relaxed),
    ];
    task::sleep_ms(100);
    let b = [
        counters[0].load(Ordering::Relaxed),
        counters[1].load(Ordering::Relaxed),
    ];
    stop.store(true, Ordering::Relaxed);
    for id in ids {
        check!(task::join(id) == Some(Exit::Returned), "busy task ended");
    }
    check!(a[0] > 0 && a[1] > 0, "both busy loops ran: {a:?}");
    check!(
        b[0] > a[0] && b[1] > a[1],
        "both kept running: {a:?} -> {b:?}"
    );
    Ok(())
}

fn blocking_mutex() -> TestResult {
    let shared = Arc::new(Mutex::new(0u64));
    // Hold the lock while the workers start: they must block, not spin.
    let holder = shared.clone();
    let g = holder.lock();
    let mut ids = Vec::new();
    for i in 0..4 {
        let shared = shared.clone();
        ids.push(
            task::spawn(&format!("mutex{i}"), move || {
                for _ in 0..50 {
                    let mut g = shared.lock();
                    let v = *g;
                    task::yield_now(); // others must block, not see a torn update
                    *g = v + 1;
                }
            })
            .map_err(|e| format!("{e:?}"))?,
        );
    }
    task::sleep_ms(30);
    let blocked = task::list()
        .iter()
        .filter(|t| t.name.starts_with("mutex") && t.state == task::State::Blocked)
        .count();
    drop(g);
    for id in ids {
        check!(task::join(id) == Some(Exit::Returned), "mutex task ended");
    }
    check!(*shared.lock() == 200, "count is {}", *shared.lock());
    check!(blocked >= 1, "waiters were blocked ({blocked})");
    Ok(())
}

fn tls_slots() -> TestResult {
    let ok = Arc::new(AtomicU64::new(0));
    let mut ids = Vec::new();
    for i in 1..=3usize {
        let ok = ok.clone();
        ids.push(
            task::spawn("tls", move || {
                task::tls_set(0, i * 100);
                for _ in 0..5 {
                    task::yield_now();
                    task::sleep_ms(10);
                }
                if task::tls_get(0) == i * 100 {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            })
            .map_err(|e| format!("{e:?}"))?,
        );
    }
    for id in ids {
        task::join(id);
    }
    check!(ok.load(Ordering::Relaxed) == 3, "slots kept per task");
    Ok(())
}

/// Sets a flag when dropped: shows destructors ran during an unwind.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn catch_unwind() -> TestResult {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let r = fault::catch_unwind(move || {
        let _guard = DropFlag(d);
        if time::ticks() < u64::MAX {
            panic!("expected test panic");
        }
        7
    });
    let msg = match r {
        Err(p) => fault::payload_message(&*p),
        Ok(_) => return Err("no panic caught".into()),
    };
    check!(msg == "expected test panic", "payload '{msg}'");
    check!(dropped.load(Ordering::SeqCst), "destructor ran");
    check!(fault::catch_unwind(|| 5).ok() == Some(5), "ok path");
    Ok(())
}

/// Spawns `victim` next to a counting bystander; checks the victim dies with an exit
/// matching `expect`, its destructors ran, and the bystander kept running.
fn dies_alone(
    victim: impl FnOnce() + Send + 'static,
    expect: fn(&Exit) -> bool,
    stack: u64,
) -> TestResult {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (s2, c2) = (stop.clone(), count.clone());
    let bystander = task::spawn("bystander", move || {
        while !s2.load(Ordering::Relaxed) {
            c2.fetch_add(1, Ordering::Relaxed);
            task::sleep_ms(5);
        }
    })
    .map_err(|e| format!("{e:?}"))?;
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    task::sleep_ms(20);
    let victim_id = task::spawn_with_stack("victim", stack, move || {
        let _guard = DropFlag(d);
        victim();
    })
    .map_err(|e| format!("{e:?}"))?;
    let exit = task::join(victim_id).ok_or("victim vanished")?;
    let before = count.load(Ordering::Relaxed);
    task::sleep_ms(50);
    let after = count.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    check!(
        task::join(bystander) == Some(Exit::Returned),
        "bystander ended normally"
    );
    check!(expect(&exit), "unexpected exit {exit:?}");
    check!(dropped.load(Ordering::SeqCst), "victim's destructors ran");
    check!(
        after > before,
        "bystander kept running ({before} -> {after})"
    );
    Ok(())
}

fn panicking_task_dies_alone() -> TestResult {
    dies_alone(
        || {
            if time::ticks() > 0 {
                panic!("deliberate panic in a task");
            }
        },
        |e| matches!(e, Exit::Panicked(m) if m.contains("deliberate")),
        task::DEFAULT_STACK,
    )
}

fn page_fault_task_dies_alone() -> TestResult {
    dies_alone(
        || {
            let v = hal::cpu::probe_read(0x0000_5eed_dead_0000);
            crate::diag!("read {v}");
        },
        |e| matches!(e, Exit::Faulted(m) if m.contains("page fault") && m.contains("cr2 0x5eeddead0000")),
        task::DEFAULT_STACK,
    )
}

fn gp_fault_task_dies_alone() -> TestResult {
    dies_alone(
        || {
            let v = hal::cpu::probe_read(0x8000_0000_0000_0000); // non-canonical: #GP
            crate::diag!("read {v}");
        },
        |e| matches!(e, Exit::Faulted(m) if m.contains("general protection")),
        task::DEFAULT_STACK,
    )
}

/// Counts frame guards created and dropped by [`recurse`].
#[derive(Default)]
struct FrameCount {
    created: AtomicU64,
    dropped: AtomicU64,
}

/// A local with a destructor in every frame of [`recurse`].
struct FrameGuard<'a>(&'a FrameCount);

impl<'a> FrameGuard<'a> {
    fn new(c: &'a FrameCount) -> Self {
        c.created.fetch_add(1, Ordering::SeqCst);
        Self(c)
    }
}

impl Drop for FrameGuard<'_> {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Recurses until the stack overflows. Each frame holds a [`FrameGuard`] and calls the next
/// through an opaque function pointer, so the call may unwind and keeps its landing pad (a
/// call LLVM proves `nounwind` gets none, and no unwinder can run destructors there).
#[inline(never)]
fn recurse(depth: u64, count: &FrameCount) -> u64 {
    let frame = core::hint::black_box([depth as u8; 512]);
    let _guard = FrameGuard::new(count);
    let next: fn(u64, &FrameCount) -> u64 = core::hint::black_box(recurse);
    next(depth + 1, count) + frame[7] as u64
}

fn stack_overflow_guard() -> TestResult {
    let count = Arc::new(FrameCount::default());
    let c2 = count.clone();
    dies_alone(
        move || {
            let first: fn(u64, &FrameCount) -> u64 = core::hint::black_box(recurse);
            core::hint::black_box(first(0, &c2));
        },
        |e| matches!(e, Exit::Faulted(m) if m.contains("stack overflow")),
        64 * 1024,
    )?;
    let created = count.created.load(Ordering::SeqCst);
    let dropped = count.dropped.load(Ordering::SeqCst);
    // Every caller frame's guard ran; the faulting frame's own guard only if the fault hit a
    // call instruction (see fault::unwind_from_fault).
    check!(created > 50, "recursed {created} frames deep");
    check!(
        dropped + 1 >= created && dropped <= created,
        "frame destructors: {dropped} of {created} ran"
    );
    Ok(())
}

/// Faults from its destructor, i.e. while the task is unwinding.
struct FaultOnDrop;
impl Drop for FaultOnDrop {
    fn drop(&mut self) {
        let v = hal::cpu::probe_read(0x0000_5eed_dead_0000);
        crate::diag!("read {v}");
    }
}

fn fault_during_unwind_kills_task() -> TestResult {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let id = task::spawn("victim", move || {
        let _outer = DropFlag(d);
        let _inner = FaultOnDrop;
        if time::ticks() < u64::MAX {
            panic!("deliberate panic; the cleanup faults");
        }
    })
    .map_err(|e| format!("{e:?}"))?;
    let exit = task::join(id).ok_or("victim vanished")?;
    check!(
        matches!(&exit, Exit::Faulted(m) if m.contains("page fault")),
        "unexpected exit {exit:?}"
    );
    // The unwind stopped at the fault: frames above it are not cleaned up (documented).
    let _ = dropped.load(Ordering::SeqCst);
    check!(task::spawn("after", || {}).is_ok(), "kernel still spawns");
    Ok(())
}

fn corrupt_stack_fault_contained() -> TestResult {
    let free0 = memory::stats().free_frames;
    // A fake stack of garbage "return addresses": the unwinder must not be let loose on it.
    let fake: Vec<u64> = (0..512).map(|i| 0x4141_4141_0000_0000 | i).collect();
    let top = fake.as_ptr() as u64 + 256 * 8;
    let r = dies_alone_no_cleanup(
        move || hal::cpu::fault_on_stack(top),
        |e| matches!(e, Exit::Faulted(m) if m.contains("invalid opcode")),
    );
    drop(fake);
    r?;
    let leaked = free0 as i64 - memory::stats().free_frames as i64;
    check!(
        leaked <= 8,
        "task stacks reclaimed ({leaked} frames missing)"
    );
    Ok(())
}

/// Like [`dies_alone`] without requiring the victim's destructors to run.
fn dies_alone_no_cleanup(
    victim: impl FnOnce() + Send + 'static,
    expect: fn(&Exit) -> bool,
) -> TestResult {
    let id = task::spawn("victim", victim).map_err(|e| format!("{e:?}"))?;
    let exit = task::join(id).ok_or("victim vanished")?;
    check!(expect(&exit), "unexpected exit {exit:?}");
    Ok(())
}

fn watchdog_kills_hung_test() -> TestResult {
    fn hangs() -> TestResult {
        loop {
            core::hint::spin_loop();
        }
    }
    let t0 = time::uptime_ms();
    let r = run_one("hangs", hangs, 300);
    let waited = time::uptime_ms() - t0;
    check!(
        matches!(&r, Err(m) if m.contains("timed out")),
        "watchdog verdict {r:?}"
    );
    check!((300..5000).contains(&waited), "waited {waited} ms");
    check!(
        !task::list().iter().any(|t| t.name == "test:hangs"),
        "hung task gone"
    );
    Ok(())
}

fn handler_resume_after_fix() -> TestResult {
    let result = Arc::new(AtomicU64::new(0));
    let r2 = result.clone();
    let id = task::spawn("handler", move || {
        let Ok(base) = memory::reserve(4096, 4096, Prot::NONE, "test") else {
            return;
        };
        let calls = Arc::new(AtomicU64::new(0));
        let c2 = calls.clone();
        let registered = fault::register_handler(ExceptionKind::InvalidAddress, move |info| {
            c2.fetch_add(1, Ordering::SeqCst);
            match info.fault_addr {
                Some(a) if a == base => {
                    // Make the page accessible, then retry the faulting store.
                    if memory::protect(base, 4096, Prot::RW).is_ok() {
                        Handled::Resume
                    } else {
                        Handled::NotHandled
                    }
                }
                _ => Handled::NotHandled,
            }
        });
        if registered.is_err()
            || fault::register_handler(ExceptionKind::InvalidAddress, |_| Handled::NotHandled)
                .is_ok()
        {
            return;
        }
        hal::paging::poke_u64(base, 99);
        let v = hal::paging::peek_u64(base);
        fault::unregister_handler(ExceptionKind::InvalidAddress);
        let _ = memory::release(base);
        r2.store(v * 10 + calls.load(Ordering::SeqCst), Ordering::SeqCst);
    })
    .map_err(|e| format!("{e:?}"))?;
    check!(task::join(id) == Some(Exit::Returned), "task returned");
    let r = result.load(Ordering::SeqCst);
    check!(r == 991, "value*10+handler calls = {r} (want 991)");
    Ok(())
}

fn handler_unwinds_into_catch() -> TestResult {
    let out = Arc::new(spin::Mutex::new(String::new()));
    let o2 = out.clone();
    let id = task::spawn("divzero", move || {
        let _ = fault::register_handler(ExceptionKind::ArithmeticError, |info| {
            if info.vector == 0 {
                panic!("divide trap caught by handler");
            }
            Handled::NotHandled
        });
        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let r = fault::catch_unwind(move || {
            let _g = DropFlag(d);
            hal::cpu::raw_divide(10, core::hint::black_box(0))
        });
        let msg = match r {
            Err(p) => fault::payload_message(&*p),
            Ok(v) => format!("no trap, got {v}"),
        };
        // The task survives and can fault again (a fresh handler is needed: the one that
        // unwound was dropped).
        let again = fault::catch_unwind(|| hal::cpu::raw_divide(10, 2));
        *o2.lock() = format!(
            "{msg}|{}|{}",
            dropped.load(Ordering::SeqCst),
            again.ok().unwrap_or(0)
        );
    })
    .map_err(|e| format!("{e:?}"))?;
    check!(task::join(id) == Some(Exit::Returned), "task survived");
    let s = out.lock().clone();
    check!(s == "divide trap caught by handler|true|5", "got '{s}'");
    Ok(())
}

fn unhandled_illegal_instruction() -> TestResult {
    dies_alone(
        hal::cpu::illegal_instruction,
        |e| matches!(e, Exit::Faulted(m) if m.contains("invalid opcode")),
        task::DEFAULT_STACK,
    )
}
