//! Time: the PIT tick counter (100 Hz) and a TSC rate estimated from it.
//!
//! Clocks: [`monotonic_ns`] (calibrated TSC) and [`realtime_ns`] (CMOS RTC at boot, or the
//! host's clock in `clew run`, + monotonic) serve WASI. Uptime is ticks × 10 ms refined by the TSC since the last tick; CPU-time accounting uses
//! TSC cycles converted with the estimated rate. Neighbours: `task` (preemption on every
//! tick), `shell` (`uptime`).

use core::sync::atomic::{AtomicU64, Ordering};

/// Timer interrupt rate.
pub const HZ: u64 = 100;
/// Milliseconds per tick.
pub const MS_PER_TICK: u64 = 1000 / HZ;

static TICKS: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
static LAST_TICK_TSC: AtomicU64 = AtomicU64::new(0);
/// TSC cycles per millisecond measured at boot (0 if calibration failed).
static CALIBRATED: AtomicU64 = AtomicU64::new(0);

/// Wall-clock time at boot (ns since the Unix epoch), from the CMOS RTC.
static BOOT_UNIX_NS: AtomicU64 = AtomicU64::new(0);

/// Calibrates the TSC against the PIT (5 ms), records the boot TSC, reads the RTC and
/// starts the PIT.
pub fn init() {
    match hal::rtc::unix_seconds() {
        Some(s) => BOOT_UNIX_NS.store(s.saturating_mul(1_000_000_000), Ordering::Relaxed),
        None => log::warn!("RTC unreadable; realtime starts at the epoch"),
    }
    let cycles = hal::interrupts::calibrate_tsc(5);
    CALIBRATED.store(cycles / 5, Ordering::Relaxed);
    log::info!("TSC: {} cycles per ms", cycles / 5);
    let now = hal::cpu::rdtsc();
    BOOT_TSC.store(now, Ordering::Relaxed);
    LAST_TICK_TSC.store(now, Ordering::Relaxed);
    hal::interrupts::init_pit(HZ as u32);
}

/// Called from the IRQ 0 handler; returns the new tick count.
pub fn tick() -> u64 {
    LAST_TICK_TSC.store(hal::cpu::rdtsc(), Ordering::Relaxed);
    TICKS.fetch_add(1, Ordering::Relaxed) + 1
}

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// TSC cycles per millisecond: the boot calibration, else estimated from the ticks so far.
pub fn cycles_per_ms() -> u64 {
    let c = CALIBRATED.load(Ordering::Relaxed);
    if c > 0 {
        return c;
    }
    let t = ticks();
    if t < 5 {
        return 1_000_000;
    }
    let span = LAST_TICK_TSC
        .load(Ordering::Relaxed)
        .saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    (span / (t * MS_PER_TICK)).max(1)
}

/// Converts TSC cycles to microseconds.
pub fn cycles_to_us(cycles: u64) -> u64 {
    (cycles as u128 * 1000 / cycles_per_ms() as u128) as u64
}

/// Nanoseconds since boot from the TSC (monotonic; resolution one TSC cycle).
pub fn monotonic_ns() -> u64 {
    let cycles = hal::cpu::rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed));
    (cycles as u128 * 1_000_000 / cycles_per_ms() as u128) as u64
}

/// Sets the wall clock: it reads `unix_ns` now. `clew run` sets it from the host's clock
/// (the RTC has whole seconds only).
pub fn set_realtime_ns(unix_ns: u64) {
    BOOT_UNIX_NS.store(unix_ns.saturating_sub(monotonic_ns()), Ordering::Relaxed);
}

/// Nanoseconds since the Unix epoch: the RTC at boot (or [`set_realtime_ns`]) plus
/// [`monotonic_ns`].
pub fn realtime_ns() -> u64 {
    BOOT_UNIX_NS
        .load(Ordering::Relaxed)
        .saturating_add(monotonic_ns())
}

/// Converts TSC cycles to nanoseconds.
pub fn cycles_to_ns(cycles: u64) -> u64 {
    (cycles as u128 * 1_000_000 / cycles_per_ms() as u128) as u64
}

/// Milliseconds since boot.
pub fn uptime_ms() -> u64 {
    let since_tick = hal::cpu::rdtsc().saturating_sub(LAST_TICK_TSC.load(Ordering::Relaxed));
    let extra = (since_tick / cycles_per_ms()).min(MS_PER_TICK - 1);
    ticks() * MS_PER_TICK + extra
}
