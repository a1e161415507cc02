//! The kernel's implementations of the `wasi` crate's host traits: [`KernelClocks`]
//! (monotonic = calibrated TSC, realtime = CMOS RTC at boot + monotonic, CPU-time clocks =
//! the task's accounted CPU time, sleeping blocks the task) and [`KernelRandom`] (RDRAND,
//! else a ChaCha20 generator seeded from TSC jitter). Neighbours: `crate::time`,
//! `crate::task`, `super::engine`.

use crate::sync::SpinLock;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use wasi::{ClockId, Stream, WasiCtx};

/// Clocks and sleep for processes.
pub struct KernelClocks;

impl wasi::Clocks for KernelClocks {
    fn now_ns(&self, clock: ClockId) -> Option<u64> {
        Some(match clock {
            ClockId::Realtime => crate::time::realtime_ns(),
            ClockId::Monotonic => crate::time::monotonic_ns(),
            // A process is one task, so its CPU time and its thread's are the same.
            ClockId::ProcessCputime | ClockId::ThreadCputime => {
                crate::time::cycles_to_ns(crate::task::current_cpu_cycles())
            }
        })
    }

    fn resolution_ns(&self, clock: ClockId) -> Option<u64> {
        Some(match clock {
            // The RTC second plus the TSC: report the TSC's nanosecond granularity.
            ClockId::Realtime | ClockId::Monotonic => 1,
            ClockId::ProcessCputime | ClockId::ThreadCputime => 1,
        })
    }

    fn sleep_until(&self, deadline_ns: u64) {
        loop {
            let now = crate::time::monotonic_ns();
            if now >= deadline_ns || super::current_killed() {
                return;
            }
            let ms = (deadline_ns - now).div_ceil(1_000_000);
            crate::task::sleep_ms(ms.min(1000));
        }
    }

    fn yield_now(&self) {
        crate::task::yield_now();
    }

    fn killed(&self) -> Option<i32> {
        super::current_kill_exit()
    }
}

static CSPRNG: SpinLock<Option<ChaCha20Rng>> = SpinLock::new(None);

/// Random bytes: RDRAND when the CPU has it, else ChaCha20 seeded from TSC jitter.
pub struct KernelRandom;

impl wasi::Random for KernelRandom {
    fn fill(&self, buf: &mut [u8]) {
        if hal::cpu::has_rdrand() {
            let mut ok = true;
            for chunk in buf.chunks_mut(8) {
                match hal::cpu::rdrand64() {
                    Some(v) => chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                return;
            }
        }
        let mut g = CSPRNG.lock();
        g.get_or_insert_with(|| ChaCha20Rng::from_seed(jitter_seed()))
            .fill_bytes(buf);
    }
}

/// 32 seed bytes from the low bits of TSC differences around short, variable work: the
/// interrupt timing and emulation noise make them unpredictable to a guest. (Under TCG
/// the jitter is modest; RDRAND, which QEMU offers with `-cpu max`, is preferred.)
fn jitter_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let mut acc: u64 = hal::cpu::rdtsc();
    for round in 0..(32 * 8 * 4) {
        let t0 = hal::cpu::rdtsc();
        let mut x = acc;
        for _ in 0..(t0 & 0x1f) {
            x = x.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15;
        }
        let dt = hal::cpu::rdtsc().wrapping_sub(t0);
        acc = acc.rotate_left(5) ^ dt ^ x;
        let i = (round / 4) % 32;
        seed[i] ^= (acc & 0xff) as u8;
    }
    seed
}

/// A WASI context with the kernel's host services.
pub fn new_ctx(
    vfs: wasi::SharedVfs,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    stdio: [Box<dyn Stream>; 3],
) -> WasiCtx {
    WasiCtx::new(
        vfs,
        Arc::new(KernelClocks),
        Arc::new(KernelRandom),
        argv,
        env,
        stdio,
    )
}
