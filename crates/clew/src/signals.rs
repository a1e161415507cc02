//! SIGINT, SIGTERM and SIGHUP during `clew run`. `wasmtime run` dies of them with the
//! files its program wrote already on the host; Clew's program works on a copy of each
//! `--dir` (`dirsync`), so the first of these signals must bring the copy's changes back
//! before `clew` dies of it. [`on_first`] runs a run path's way of doing that
//! (`guest_run`: ask the guest to stop the program; `host_run`: write the trees back
//! from the signal thread), and `main` dies of the signal once the run has returned
//! ([`stopped_by`]). A second signal takes its default action at once, so that a run
//! that cannot stop does not hold the terminal (QEMU dies with us: `qemu::Launch`).

use anyhow::Context;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

/// The signal that stopped the run, 0 for none.
static STOPPED_BY: AtomicI32 = AtomicI32::new(0);

/// The signal (SIGINT, SIGTERM, SIGHUP) that stopped `clew run`, if one did: once the
/// run has ended and its changes are written back, `main` dies of it ([`die_of`]), as
/// `wasmtime run` would have (a shell then shows 130 for Ctrl-C, 143 for SIGTERM).
pub fn stopped_by() -> Option<i32> {
    match STOPPED_BY.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Ends this process by `signal`'s default action (after flushing stdout); returns only
/// if that fails.
pub fn die_of(signal: i32) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = signal_hook::low_level::emulate_default_handler(signal);
}

/// From now on, the first SIGINT, SIGTERM or SIGHUP calls `stop` with it (on a thread of
/// its own) and is remembered for [`stopped_by`]; a second one ends the process by its
/// default action. A signal we were started with ignored (`nohup` ignores SIGHUP, a
/// shell's background job SIGINT) stays ignored.
pub fn on_first(stop: impl FnOnce(i32) + Send + 'static) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let ignored = ignored_signals();
    let signals: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|s| ignored & (1 << (s - 1)) == 0)
        .collect();
    let armed = Arc::new(AtomicBool::new(false));
    for &signal in &signals {
        // In this order: the first signal finds `armed` false (nothing happens), then
        // sets it, so the second takes the default action.
        signal_hook::flag::register_conditional_default(signal, armed.clone())
            .context("handling signals")?;
        signal_hook::flag::register(signal, armed.clone()).context("handling signals")?;
    }
    let mut signals = signal_hook::iterator::Signals::new(signals).context("handling signals")?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            STOPPED_BY.store(signal, Ordering::SeqCst);
            stop(signal);
        }
    });
    Ok(())
}

/// The signals this process ignores (bit `n - 1` for signal `n`), from the `SigIgn` line
/// of `/proc/self/status` (asking `sigaction` would take `unsafe`); none if unreadable.
fn ignored_signals() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .unwrap_or(0)
}

/// Ctrl-Z (SIGTSTP) stops QEMU before stopping us, and SIGCONT continues it: QEMU runs
/// in a process group of its own (so that the terminal's Ctrl-C reaches only us), which
/// the terminal's job control does not reach either, and a guest left running would go
/// on computing while its `clew` is suspended. Until `alive` is false (QEMU reaped: its
/// pid may be another process's then). A SIGTSTP we were started with ignored stays so.
pub fn forward_job_control(
    qemu: &std::process::Child,
    alive: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    use rustix::process::{kill_process, Pid, Signal};
    use signal_hook::consts::{SIGCONT, SIGTSTP};
    let qemu = Pid::from_child(qemu);
    let mut wanted = vec![SIGCONT];
    if ignored_signals() & (1 << (SIGTSTP - 1)) == 0 {
        wanted.push(SIGTSTP);
    }
    let mut signals = signal_hook::iterator::Signals::new(wanted).context("handling signals")?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if !alive.load(Ordering::SeqCst) {
                continue;
            }
            if signal == SIGTSTP {
                let _ = kill_process(qemu, Signal::STOP);
                // SIGTSTP's default action: stop (until the SIGCONT that resumes QEMU).
                let _ = signal_hook::low_level::emulate_default_handler(SIGTSTP);
            } else {
                let _ = kill_process(qemu, Signal::CONT);
            }
        }
    });
    Ok(())
}
