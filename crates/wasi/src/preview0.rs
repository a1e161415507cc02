//! `wasi_unstable` (WASI snapshot 0), the import module of programs built before
//! `wasi_snapshot_preview1` (wasi-sdk before 8, Rust's `wasm32-wasi` before late 2019),
//! which `wasmtime run` still runs. Its functions are preview1's, with the same names,
//! signatures and errnos, except that it has no `sock_accept` and that four of them see
//! different bytes (snapshot 0's witx, `phases/old/snapshot_0`):
//! - `fd_seek`: `whence` is `cur` = 0, `end` = 1, `set` = 2 (preview1: set, cur, end);
//! - `fd_filestat_get`, `path_filestat_get`: `filestat` has a u32 `nlink`, so it is 56
//!   bytes ([`layout::FILESTAT0_SIZE`](crate::types::layout::FILESTAT0_SIZE));
//! - `poll_oneoff`: a clock subscription starts with a u64 `identifier`, so a
//!   subscription is 56 bytes ([`layout::SUBSCRIPTION0_SIZE`](crate::types::layout::SUBSCRIPTION0_SIZE)).
//!
//! Every other function here *is* the [`preview1`](crate::preview1) one (re-exported), so
//! there is still one WASI: the engine adapters register this module's functions under
//! [`MODULE0`](crate::MODULE0) from the same [`for_each_function!`](crate::for_each_function)
//! list, leaving out `sock_accept` ([`crate::provides`]).

use crate::ctx::WasiCtx;
use crate::memory::GuestMemory;
use crate::types::Snapshot;
use crate::Result;

pub use crate::preview1::{
    args_get, args_sizes_get, clock_res_get, clock_time_get, environ_get, environ_sizes_get,
    fd_advise, fd_allocate, fd_close, fd_datasync, fd_fdstat_get, fd_fdstat_set_flags,
    fd_fdstat_set_rights, fd_filestat_set_size, fd_filestat_set_times, fd_pread,
    fd_prestat_dir_name, fd_prestat_get, fd_pwrite, fd_read, fd_readdir, fd_renumber, fd_sync,
    fd_tell, fd_write, path_create_directory, path_filestat_set_times, path_link, path_open,
    path_readlink, path_remove_directory, path_rename, path_symlink, path_unlink_file, proc_exit,
    proc_raise, random_get, sched_yield, sock_accept, sock_recv, sock_send, sock_shutdown,
};

type Mem<'a> = &'a mut dyn GuestMemory;

/// `fd_seek(fd, offset, whence) -> filesize` with snapshot 0's `whence` (`cur`, `end`,
/// `set`), translated to preview1's (`set`, `cur`, `end`); other values stay invalid.
pub fn fd_seek(
    ctx: &mut WasiCtx,
    mem: Mem<'_>,
    fd: u32,
    offset: u64,
    whence: u32,
    out: u32,
) -> Result<()> {
    let whence = match whence {
        0 => 1, // cur
        1 => 2, // end
        2 => 0, // set
        other => other,
    };
    crate::preview1::fd_seek(ctx, mem, fd, offset, whence, out)
}

/// `fd_filestat_get(fd) -> filestat` in snapshot 0's layout.
pub fn fd_filestat_get(ctx: &mut WasiCtx, mem: Mem<'_>, fd: u32, out: u32) -> Result<()> {
    crate::preview1::fd_filestat_get_in(Snapshot::Unstable, ctx, mem, fd, out)
}

/// `path_filestat_get(fd, flags, path) -> filestat` in snapshot 0's layout.
#[allow(clippy::too_many_arguments)]
pub fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: Mem<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    out: u32,
) -> Result<()> {
    crate::preview1::path_filestat_get_in(
        Snapshot::Unstable,
        ctx,
        mem,
        fd,
        flags,
        path,
        path_len,
        out,
    )
}

/// `poll_oneoff(in, out, nsubscriptions) -> size` reading snapshot 0's subscriptions.
pub fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: Mem<'_>,
    subs: u32,
    events: u32,
    nsubs: u32,
    nevents: u32,
) -> Result<()> {
    crate::poll::poll_oneoff_in(Snapshot::Unstable, ctx, mem, subs, events, nsubs, nevents)
}
