//! The one list of the preview1 functions with their wasm signatures (witx
//! `wasi_snapshot_preview1`, lowered to core wasm: handles, pointers, sizes and small
//! enums/flags are `i32`, 64-bit values `i64`, results through pointers, errno returned).
//!
//! [`for_each_function!`](crate::for_each_function) hands this list to a macro of the
//! caller's; each engine adapter expands it into its `Linker` registrations, so the two
//! engines can never disagree about a signature or miss a function.

/// Calls `$m! { name(param: type, ...) -> ret; ... }` with all 46 preview1 functions.
/// `ret` is `i32` (the errno) for every function except `proc_exit` (`()`).
#[macro_export]
macro_rules! for_each_function {
    ($m:ident) => {
        $m! {
            args_get(argv: i32, argv_buf: i32) -> i32;
            args_sizes_get(argc: i32, argv_buf_size: i32) -> i32;
            environ_get(environ: i32, environ_buf: i32) -> i32;
            environ_sizes_get(count: i32, buf_size: i32) -> i32;
            clock_res_get(id: i32, res: i32) -> i32;
            clock_time_get(id: i32, precision: i64, time: i32) -> i32;
            fd_advise(fd: i32, offset: i64, len: i64, advice: i32) -> i32;
            fd_allocate(fd: i32, offset: i64, len: i64) -> i32;
            fd_close(fd: i32) -> i32;
            fd_datasync(fd: i32) -> i32;
            fd_fdstat_get(fd: i32, out: i32) -> i32;
            fd_fdstat_set_flags(fd: i32, flags: i32) -> i32;
            fd_fdstat_set_rights(fd: i32, base: i64, inheriting: i64) -> i32;
            fd_filestat_get(fd: i32, out: i32) -> i32;
            fd_filestat_set_size(fd: i32, size: i64) -> i32;
            fd_filestat_set_times(fd: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32;
            fd_pread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) -> i32;
            fd_prestat_get(fd: i32, out: i32) -> i32;
            fd_prestat_dir_name(fd: i32, path: i32, path_len: i32) -> i32;
            fd_pwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) -> i32;
            fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> i32;
            fd_readdir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) -> i32;
            fd_renumber(fd: i32, to: i32) -> i32;
            fd_seek(fd: i32, offset: i64, whence: i32, newoffset: i32) -> i32;
            fd_sync(fd: i32) -> i32;
            fd_tell(fd: i32, out: i32) -> i32;
            fd_write(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32;
            path_create_directory(fd: i32, path: i32, path_len: i32) -> i32;
            path_filestat_get(fd: i32, flags: i32, path: i32, path_len: i32, out: i32) -> i32;
            path_filestat_set_times(fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32;
            path_link(old_fd: i32, old_flags: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) -> i32;
            path_open(fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, rights_base: i64, rights_inheriting: i64, fdflags: i32, opened: i32) -> i32;
            path_readlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32) -> i32;
            path_remove_directory(fd: i32, path: i32, path_len: i32) -> i32;
            path_rename(fd: i32, old_path: i32, old_len: i32, new_fd: i32, new_path: i32, new_len: i32) -> i32;
            path_symlink(old_path: i32, old_len: i32, fd: i32, new_path: i32, new_len: i32) -> i32;
            path_unlink_file(fd: i32, path: i32, path_len: i32) -> i32;
            poll_oneoff(subs: i32, events: i32, nsubs: i32, nevents: i32) -> i32;
            proc_exit(rval: i32) -> ();
            proc_raise(sig: i32) -> i32;
            sched_yield() -> i32;
            random_get(buf: i32, buf_len: i32) -> i32;
            sock_accept(fd: i32, flags: i32, out: i32) -> i32;
            sock_recv(fd: i32, ri_data: i32, ri_len: i32, ri_flags: i32, datalen: i32, roflags: i32) -> i32;
            sock_send(fd: i32, si_data: i32, si_len: i32, si_flags: i32, datalen: i32) -> i32;
            sock_shutdown(fd: i32, how: i32) -> i32;
        }
    };
}

/// The Rust value an adapter returns to the engine for a call that returned an errno.
pub trait ReturnValue: Sized {
    /// The value for errno `e` (0 = success).
    fn from_errno(e: u16) -> Self;
}

impl ReturnValue for i32 {
    fn from_errno(e: u16) -> Self {
        i32::from(e)
    }
}

impl ReturnValue for () {
    fn from_errno(_: u16) -> Self {}
}

/// Names of all functions in the list (for diagnostics and tests).
pub const NAMES: &[&str] = {
    macro_rules! names {
        ($($name:ident ( $($p:ident : $t:ty),* ) -> $ret:ty;)*) => {
            &[$(stringify!($name)),*]
        };
    }
    for_each_function!(names)
};
