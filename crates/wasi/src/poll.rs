//! `poll_oneoff` (witx: "Concurrently poll for the occurrence of a set of events"): clock
//! subscriptions (relative or `subscription_clock_abstime`, realtime or monotonic) and
//! `fd_read`/`fd_write` subscriptions on files (always ready) and stdio (stdin asks its
//! [`crate::Stream`]). Blocks until at least one subscription is ready, then reports every
//! ready one in subscription order, with the event fields wasmtime writes.

use crate::ctx::{Handle, StdioKind, WasiCtx};
use crate::memory::{GuestMemory, GuestMemoryExt};
use crate::types::{layout, ClockId, Errno, Snapshot};
use crate::{Error, Result};
use alloc::vec::Vec;

/// How long to sleep between readiness checks while waiting on a stream (1 ms).
const POLL_STEP_NS: u64 = 1_000_000;
const EVENTRW_HANGUP: u16 = 1;
/// The most subscriptions one call may name (64 MiB of kernel bookkeeping, about 2.8M); more is
/// `ENOMEM`, as `wasmtime run` answers a list of hundreds of MiB. Without a bound, one call
/// could make the kernel heap take most of the machine's memory, and keep it.
const MAX_SUBSCRIPTIONS: u32 = (64 << 20) / core::mem::size_of::<Parsed>() as u32;

enum Sub {
    Clock { deadline: u64 },
    Read { fd: u32 },
    Write,
}

struct Parsed {
    userdata: u64,
    sub: Sub,
}

fn now(ctx: &WasiCtx, id: ClockId) -> u64 {
    ctx.clocks.now_ns(id).unwrap_or(0)
}

/// A subscription's size and the offsets of its clock's `id`, `timeout` and `flags` in
/// `snapshot`'s layout (`wasi_unstable`'s clock starts with a u64 `identifier`).
fn subscription_layout(snapshot: Snapshot) -> (u32, [usize; 3]) {
    match snapshot {
        Snapshot::Preview1 => (layout::SUBSCRIPTION_SIZE, [16, 24, 40]),
        Snapshot::Unstable => (layout::SUBSCRIPTION0_SIZE, [24, 32, 48]),
    }
}

fn parse(snapshot: Snapshot, ctx: &mut WasiCtx, mem: &dyn GuestMemory, at: u32) -> Result<Parsed> {
    let (size, [id_at, timeout_at, flags_at]) = subscription_layout(snapshot);
    let b = mem.slice(at, size)?;
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(a)
    };
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let userdata = u64_at(0);
    let sub = match b[8] {
        0 => {
            let id = ClockId::from_raw(u32_at(id_at))?;
            let timeout = u64_at(timeout_at);
            let flags = u16::from_le_bytes([b[flags_at], b[flags_at + 1]]);
            if flags & !1 != 0 {
                return Err(Errno::Inval.into());
            }
            let absolute = flags & 1 != 0;
            let mono = now(ctx, ClockId::Monotonic);
            let deadline = match (id, absolute) {
                (ClockId::Monotonic, true) => timeout,
                (ClockId::Monotonic | ClockId::Realtime, false) => mono.saturating_add(timeout),
                (ClockId::Realtime, true) => {
                    let wall = now(ctx, ClockId::Realtime);
                    mono.saturating_add(timeout.saturating_sub(wall))
                }
                _ => return Err(Errno::Inval.into()),
            };
            Sub::Clock { deadline }
        }
        tag @ (1 | 2) => {
            let fd = u32_at(16);
            let d = ctx.fds.get(&fd).ok_or(Errno::Badf)?;
            let ok = match (&d.handle, tag) {
                (Handle::File { .. }, _) => true,
                (Handle::Stdio { kind, .. }, 1) => *kind == StdioKind::Stdin,
                (Handle::Stdio { kind, .. }, _) => *kind != StdioKind::Stdin,
                _ => false,
            };
            if !ok {
                return Err(Errno::Badf.into());
            }
            if tag == 1 {
                Sub::Read { fd }
            } else {
                Sub::Write
            }
        }
        _ => return Err(Errno::Inval.into()),
    };
    Ok(Parsed { userdata, sub })
}

fn ready(ctx: &mut WasiCtx, s: &Sub, mono: u64) -> bool {
    match s {
        Sub::Clock { deadline, .. } => mono >= *deadline,
        Sub::Write => true,
        Sub::Read { fd } => match ctx.fds.get_mut(fd).map(|d| &mut d.handle) {
            Some(Handle::Stdio { stream, .. }) => stream.read_ready(),
            _ => true,
        },
    }
}

/// `poll_oneoff(in, out, nsubscriptions) -> size`.
pub fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    subs: u32,
    events: u32,
    nsubs: u32,
    nevents: u32,
) -> Result<()> {
    poll_oneoff_in(Snapshot::Preview1, ctx, mem, subs, events, nsubs, nevents)
}

/// [`poll_oneoff`] reading `snapshot`'s `subscription` layout (the `event` layout is the
/// same in both).
pub(crate) fn poll_oneoff_in(
    snapshot: Snapshot,
    ctx: &mut WasiCtx,
    mem: &mut dyn GuestMemory,
    subs: u32,
    events: u32,
    nsubs: u32,
    nevents: u32,
) -> Result<()> {
    let (sub_size, _) = subscription_layout(snapshot);
    // wasmtime: "Indefinite sleeping is not supported in preview1".
    if nsubs == 0 {
        return Err(Errno::Inval.into());
    }
    if !subs.is_multiple_of(8) || !events.is_multiple_of(8) {
        return Err(Error::BadPointer);
    }
    // The whole array must be guest memory before the kernel sizes anything by `nsubs`.
    let subs_bytes = nsubs.checked_mul(sub_size).ok_or(Error::BadPointer)?;
    mem.slice(subs, subs_bytes)?;
    let mut parsed = Vec::new();
    if nsubs > MAX_SUBSCRIPTIONS || parsed.try_reserve_exact(nsubs as usize).is_err() {
        return Err(Errno::Nomem.into());
    }
    for i in 0..nsubs {
        let at = i
            .checked_mul(sub_size)
            .and_then(|o| subs.checked_add(o))
            .ok_or(Error::BadPointer)?;
        parsed.push(parse(snapshot, ctx, mem, at)?);
    }
    // Wait until something is ready.
    let mut ready_set: Vec<bool>;
    loop {
        let mono = now(ctx, ClockId::Monotonic);
        ready_set = parsed.iter().map(|p| ready(ctx, &p.sub, mono)).collect();
        if ready_set.iter().any(|&r| r) {
            break;
        }
        let next_clock = parsed
            .iter()
            .filter_map(|p| match p.sub {
                Sub::Clock { deadline, .. } => Some(deadline),
                _ => None,
            })
            .min();
        let has_stream = parsed.iter().any(|p| !matches!(p.sub, Sub::Clock { .. }));
        let until = match (next_clock, has_stream) {
            (Some(d), false) => d,
            (Some(d), true) => d.min(mono.saturating_add(POLL_STEP_NS)),
            (None, _) => mono.saturating_add(POLL_STEP_NS),
        };
        ctx.clocks.sleep_until(until);
        if let Some(code) = ctx.clocks.killed() {
            return Err(Error::Exit(code));
        }
    }
    let mut count: u32 = 0;
    for (p, _) in parsed.iter().zip(&ready_set).filter(|(_, r)| **r) {
        let mut e = [0u8; layout::EVENT_SIZE as usize];
        e[0..8].copy_from_slice(&p.userdata.to_le_bytes());
        let (ty, nbytes, flags): (u8, u64, u16) = match p.sub {
            Sub::Clock { .. } => (0, 0, 0),
            Sub::Write => (2, 1, 0),
            Sub::Read { fd } => {
                let hangup = match ctx.fds.get(&fd).map(|d| &d.handle) {
                    Some(Handle::File { ino, pos, .. }) => {
                        let vfs = ctx.vfs.lock();
                        let size = vfs.metadata(*ino).map(|m| m.size).unwrap_or(0);
                        // Only `/dev/null` of the devices is at its end.
                        match vfs.device(*ino) {
                            Ok(Some(device)) => device == vfs::Device::Null,
                            _ => size.saturating_sub(*pos) == 0,
                        }
                    }
                    _ => false,
                };
                (1, 1, if hangup { EVENTRW_HANGUP } else { 0 })
            }
        };
        e[10] = ty;
        e[16..24].copy_from_slice(&nbytes.to_le_bytes());
        e[24..26].copy_from_slice(&flags.to_le_bytes());
        let at = count
            .checked_mul(layout::EVENT_SIZE)
            .and_then(|o| events.checked_add(o))
            .ok_or(Error::BadPointer)?;
        mem.write_bytes(at, &e)?;
        count += 1;
    }
    mem.write_u32(nevents, count)?;
    Ok(())
}
