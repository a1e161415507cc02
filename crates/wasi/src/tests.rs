//! Host unit tests of the preview1 functions over a fake guest memory and fake host
//! services: error paths (bad fds, bad pointers, rights, escapes, invalid flags), the
//! `fd_readdir` cookie protocol, and a no-panic sweep calling every function of the table
//! with pseudo-random arguments.

use crate::preview1 as p;
use crate::types::{rights, Errno};
use crate::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

struct FakeClocks(AtomicU64);
impl Clocks for FakeClocks {
    fn now_ns(&self, c: ClockId) -> Option<u64> {
        match c {
            ClockId::Realtime | ClockId::Monotonic => Some(self.0.load(Ordering::SeqCst)),
            _ => None,
        }
    }
    fn resolution_ns(&self, _c: ClockId) -> Option<u64> {
        Some(1)
    }
    fn sleep_until(&self, deadline_ns: u64) {
        self.0.fetch_max(deadline_ns, Ordering::SeqCst);
    }
}

struct FakeRandom;
impl Random for FakeRandom {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(4);
    }
}

struct Pipe(Arc<Mutex<Vec<u8>>>);
impl Stream for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        let mut v = self.0.lock().unwrap();
        let n = buf.len().min(v.len());
        buf[..n].copy_from_slice(&v[..n]);
        v.drain(..n);
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> core::result::Result<usize, Errno> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
}

struct Setup {
    ctx: WasiCtx,
    mem: Vec<u8>,
    stdout: Arc<Mutex<Vec<u8>>>,
}

fn setup() -> Setup {
    let vfs = vfs::Vfs::new(Box::new(|| 1_000));
    let shared = share(vfs);
    let dir = {
        let mut v = shared.lock();
        let root = v.root();
        let d = v.mkdir(root, "sandbox").unwrap();
        v.mkdir(d, "sub").unwrap();
        let (f, _) = v.create_file(d, "file", true).unwrap();
        v.write_at(f, 0, b"contents").unwrap();
        v.create_file(root, "secret", true).unwrap();
        d
    };
    let stdin = Arc::new(Mutex::new(b"input".to_vec()));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let mut ctx = WasiCtx::new(
        shared,
        Arc::new(FakeClocks(AtomicU64::new(5))),
        Arc::new(FakeRandom),
        vec!["prog".into(), "a".into()],
        vec![("K".into(), "V".into())],
        [
            Box::new(Pipe(stdin)),
            Box::new(Pipe(stdout.clone())),
            Box::new(Pipe(Arc::new(Mutex::new(Vec::new())))),
        ],
    );
    assert_eq!(ctx.preopen_dir(dir, "/sandbox"), 3);
    Setup {
        ctx,
        mem: vec![0; 65536],
        stdout,
    }
}

fn errno(r: Result<()>) -> Errno {
    match r {
        Err(Error::Errno(e)) => e,
        other => panic!("expected an errno, got {other:?}"),
    }
}

/// Writes `s` at `at` and returns (ptr, len).
fn put(mem: &mut [u8], at: u32, s: &[u8]) -> (u32, u32) {
    mem[at as usize..at as usize + s.len()].copy_from_slice(s);
    (at, s.len() as u32)
}

fn u32_at(mem: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(mem[at..at + 4].try_into().unwrap())
}

fn open(s: &mut Setup, path: &[u8], oflags: u32, rights_base: u64) -> Result<u32> {
    let (pp, pl) = put(&mut s.mem, 1000, path);
    p::path_open(
        &mut s.ctx,
        &mut s.mem,
        3,
        1,
        pp,
        pl,
        oflags,
        rights_base,
        0,
        0,
        2000,
    )?;
    Ok(u32_at(&s.mem, 2000))
}

#[test]
fn args_and_env() {
    let mut s = setup();
    p::args_sizes_get(&mut s.ctx, &mut s.mem, 0, 4).unwrap();
    assert_eq!((u32_at(&s.mem, 0), u32_at(&s.mem, 4)), (2, 7));
    p::args_get(&mut s.ctx, &mut s.mem, 100, 200).unwrap();
    assert_eq!(&s.mem[200..207], b"prog\0a\0");
    assert_eq!(u32_at(&s.mem, 104), 205);
    p::environ_get(&mut s.ctx, &mut s.mem, 100, 300).unwrap();
    assert_eq!(&s.mem[300..304], b"K=V\0");
    // A buffer running off the end of memory is a bad pointer, never a panic.
    assert_eq!(
        p::args_get(&mut s.ctx, &mut s.mem, 100, 65534),
        Err(Error::BadPointer)
    );
    assert_eq!(
        p::args_sizes_get(&mut s.ctx, &mut s.mem, 2, 4),
        Err(Error::BadPointer)
    );
}

#[test]
fn bad_fds_and_pointers() {
    let mut s = setup();
    assert_eq!(errno(p::fd_close(&mut s.ctx, &mut s.mem, 99)), Errno::Badf);
    assert_eq!(
        errno(p::fd_write(&mut s.ctx, &mut s.mem, 99, 0, 0, 0)),
        Errno::Badf
    );
    assert_eq!(
        errno(p::fd_read(&mut s.ctx, &mut s.mem, 1, 0, 0, 0)),
        Errno::Badf
    );
    assert_eq!(
        errno(p::fd_seek(&mut s.ctx, &mut s.mem, 1, 0, 0, 8)),
        Errno::Spipe
    );
    assert_eq!(
        errno(p::fd_seek(&mut s.ctx, &mut s.mem, 3, 0, 0, 8)),
        Errno::Badf
    );
    assert_eq!(
        errno(p::fd_seek(&mut s.ctx, &mut s.mem, 1, 0, 9, 8)),
        Errno::Inval
    );
    // iovec array out of bounds; iovec buffer out of bounds.
    assert_eq!(
        p::fd_write(&mut s.ctx, &mut s.mem, 1, 65532, 2, 0),
        Err(Error::BadPointer)
    );
    s.mem[0..8].copy_from_slice(&[0xf0, 0xff, 0, 0, 0x20, 0, 0, 0]);
    assert_eq!(
        p::fd_write(&mut s.ctx, &mut s.mem, 1, 0, 1, 16),
        Err(Error::BadPointer)
    );
    // Misaligned result pointer.
    assert_eq!(
        p::fd_fdstat_get(&mut s.ctx, &mut s.mem, 1, 3),
        Err(Error::BadPointer)
    );
    // EFAULT mode.
    s.ctx.bad_pointer = BadPointer::Efault;
    assert_eq!(
        outcome(&s.ctx, Err(Error::BadPointer)),
        Outcome::Return(Errno::Fault as u16)
    );
}

#[test]
fn stdio_round_trip() {
    let mut s = setup();
    let (b, l) = put(&mut s.mem, 100, b"hi!");
    s.mem[0..8].copy_from_slice(&[b as u8, 0, 0, 0, l as u8, 0, 0, 0]);
    p::fd_write(&mut s.ctx, &mut s.mem, 1, 0, 1, 16).unwrap();
    assert_eq!(u32_at(&s.mem, 16), 3);
    assert_eq!(&*s.stdout.lock().unwrap(), b"hi!");
    s.mem[0..8].copy_from_slice(&[0, 2, 0, 0, 16, 0, 0, 0]);
    p::fd_read(&mut s.ctx, &mut s.mem, 0, 0, 1, 16).unwrap();
    assert_eq!(u32_at(&s.mem, 16), 5);
    assert_eq!(&s.mem[512..517], b"input");
}

#[test]
fn paths_longer_than_path_max_are_too_long() {
    let mut s = setup();
    let long = vec![b'a'; crate::memory::MAX_PATH_BYTES + 1];
    assert_eq!(
        errno(open(&mut s, &long, 0, rights::FD_READ).map(drop)),
        Errno::Nametoolong
    );
    // At the limit (short components) it is an ordinary missing file.
    let mut at_limit = "./"
        .repeat((crate::memory::MAX_PATH_BYTES - 1) / 2)
        .into_bytes();
    at_limit.push(b'x');
    assert_eq!(at_limit.len(), crate::memory::MAX_PATH_BYTES);
    assert_eq!(
        errno(open(&mut s, &at_limit, 0, rights::FD_READ).map(drop)),
        Errno::Noent
    );
}

#[test]
fn escapes_are_not_capable() {
    let mut s = setup();
    for path in [&b"../secret"[..], b"/secret", b"sub/../../secret"] {
        assert_eq!(
            errno(open(&mut s, path, 0, rights::FD_READ).map(drop)),
            Errno::Notcapable
        );
    }
    let (t, tl) = put(&mut s.mem, 1000, b"../secret");
    let (n, nl) = put(&mut s.mem, 1100, b"up");
    p::path_symlink(&mut s.ctx, &mut s.mem, t, tl, 3, n, nl).unwrap();
    assert_eq!(
        errno(open(&mut s, b"up", 0, rights::FD_READ).map(drop)),
        Errno::Notcapable
    );
    let (t, tl) = put(&mut s.mem, 1000, b"/secret");
    let (n, nl) = put(&mut s.mem, 1100, b"abs");
    assert_eq!(
        errno(p::path_symlink(&mut s.ctx, &mut s.mem, t, tl, 3, n, nl)),
        Errno::Notcapable
    );
    // A directory opened inside the preopen is a sandbox of its own.
    let sub = open(&mut s, b"sub", 2, rights::FD_READDIR).unwrap();
    let (pp, pl) = put(&mut s.mem, 1000, b"../file");
    let r = p::path_open(
        &mut s.ctx,
        &mut s.mem,
        sub,
        0,
        pp,
        pl,
        0,
        rights::FD_READ,
        0,
        0,
        2000,
    );
    assert_eq!(errno(r), Errno::Notcapable);
}

#[test]
fn open_flags_and_rights() {
    let mut s = setup();
    assert_eq!(
        errno(open(&mut s, b"file", 1 | 4, 0).map(drop)),
        Errno::Exist
    );
    assert_eq!(errno(open(&mut s, b"file", 2, 0).map(drop)), Errno::Notdir);
    assert_eq!(
        errno(open(&mut s, b"sub", 0, rights::FD_WRITE).map(drop)),
        Errno::Isdir
    );
    assert_eq!(
        errno(open(&mut s, b"sub", 2 | 1, 0).map(drop)),
        Errno::Inval
    );
    assert_eq!(
        errno(open(&mut s, b"missing", 0, 0).map(drop)),
        Errno::Noent
    );
    assert_eq!(errno(open(&mut s, b"file", 16, 0).map(drop)), Errno::Inval);
    // Read-only, with every other file right (a descriptor holds the rights asked for).
    let fd = open(&mut s, b"file", 0, rights::REGULAR_FILE & !rights::FD_WRITE).unwrap();
    assert_eq!(fd, 4);
    // Read-only: writing is EBADF (the access mode), as on Linux.
    s.mem[0..8].copy_from_slice(&[0, 2, 0, 0, 4, 0, 0, 0]);
    assert_eq!(
        errno(p::fd_write(&mut s.ctx, &mut s.mem, fd, 0, 1, 16)),
        Errno::Badf
    );
    // Rights can be dropped, never added; a dropped right is ENOTCAPABLE.
    let all = rights::REGULAR_FILE & !rights::FD_WRITE;
    let r = p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, fd, all | rights::FD_WRITE, 0);
    assert_eq!(errno(r), Errno::Notcapable);
    p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, fd, all & !rights::FD_READ, 0).unwrap();
    assert_eq!(
        errno(p::fd_read(&mut s.ctx, &mut s.mem, fd, 0, 1, 16)),
        Errno::Notcapable
    );
    assert_eq!(
        errno(p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, 1, 0, 0)),
        Errno::Badf
    );
    // Closed numbers are reused.
    p::fd_close(&mut s.ctx, &mut s.mem, fd).unwrap();
    assert_eq!(open(&mut s, b"file", 0, rights::FD_READ).unwrap(), fd);
}

/// `path_open` through a directory fd grants at most its inheriting rights: asking for an
/// applicable right it lacks is ENOTCAPABLE, rights that do not apply are dropped (what
/// wasi-libc relies on), and dropped rights stay dropped below an opened directory.
#[test]
fn path_open_bounded_by_inheriting_rights() {
    let mut s = setup();
    let fdstat = |s: &mut Setup, fd: u32| {
        p::fd_fdstat_get(&mut s.ctx, &mut s.mem, fd, 3000).unwrap();
        let r = |at: usize| u64::from_le_bytes(s.mem[at..at + 8].try_into().unwrap());
        (r(3008), r(3016))
    };
    // Every bit asked for (sockets, rights of the other file type): granted what applies.
    let fd = open(&mut s, b"file", 0, rights::ALL).unwrap();
    let (base, _) = fdstat(&mut s, fd);
    assert_eq!(base & rights::REGULAR_FILE, rights::REGULAR_FILE);
    assert_eq!(base & !rights::PREOPEN_INHERITING, 0);
    // A directory opened with broad inheriting rights passes them on to what it opens.
    let (pp, pl) = put(&mut s.mem, 1000, b"sub");
    p::path_open(
        &mut s.ctx,
        &mut s.mem,
        3,
        1,
        pp,
        pl,
        2,
        rights::DIRECTORY,
        u64::MAX >> 34,
        0,
        2000,
    )
    .unwrap();
    let dfd = u32_at(&s.mem, 2000);
    assert_eq!(fdstat(&mut s, dfd).1, rights::PREOPEN_INHERITING);
    let open_in = |s: &mut Setup, dir: u32, path: &[u8], oflags: u32, base: u64| {
        let (pp, pl) = put(&mut s.mem, 1000, path);
        p::path_open(
            &mut s.ctx, &mut s.mem, dir, 1, pp, pl, oflags, base, 0, 0, 2000,
        )
        .map(|()| u32_at(&s.mem, 2000))
    };
    let f = open_in(&mut s, dfd, b"new", 1, rights::FD_READ | rights::FD_WRITE).unwrap();
    assert_ne!(fdstat(&mut s, f).0 & rights::FD_WRITE, 0);
    // Drop FD_WRITE from the directory's inheriting rights: asking for it is refused
    // (before anything is created), and what is opened lacks it.
    let dbase = fdstat(&mut s, dfd).0;
    let inh = rights::PREOPEN_INHERITING & !rights::FD_WRITE;
    p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, dfd, dbase, inh).unwrap();
    let r = open_in(&mut s, dfd, b"new", 0, rights::FD_WRITE).map(drop);
    assert_eq!(errno(r), Errno::Notcapable);
    let r = open_in(&mut s, dfd, b"other", 1, rights::FD_WRITE).map(drop);
    assert_eq!(errno(r), Errno::Notcapable);
    assert_eq!(
        errno(open_in(&mut s, dfd, b"other", 0, 0).map(drop)),
        Errno::Noent
    );
    let f = open_in(&mut s, dfd, b"new", 0, rights::FD_READ).unwrap();
    assert_eq!(fdstat(&mut s, f).0 & rights::FD_WRITE, 0);
    // A directory right (PATH_OPEN) asked for a regular file does not apply: dropped.
    open_in(&mut s, dfd, b"new", 0, rights::FD_READ | rights::PATH_OPEN).unwrap();
    // Without PATH_OPEN in the inheriting rights, a subdirectory cannot be opened with it.
    let inh = inh & !rights::PATH_OPEN;
    p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, dfd, dbase, inh).unwrap();
    let r = open_in(&mut s, 3, b"sub", 2, rights::PATH_OPEN).map(drop);
    assert_eq!(r, Ok(()));
    assert_eq!(
        errno(open_in(&mut s, dfd, b".", 2, rights::PATH_OPEN).map(drop)),
        Errno::Notcapable
    );
}

/// `fd_allocate` is `posix_fallocate`: grows to offset+len with zeros, never shrinks.
#[test]
fn fd_allocate_grows_files() {
    let mut s = setup();
    let fd = open(
        &mut s,
        b"file",
        0,
        rights::FD_READ | rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_GET,
    )
    .unwrap();
    let size = |s: &mut Setup| {
        p::fd_filestat_get(&mut s.ctx, &mut s.mem, fd, 3000).unwrap();
        u64::from_le_bytes(s.mem[3032..3040].try_into().unwrap())
    };
    assert_eq!(size(&mut s), 8);
    p::fd_allocate(&mut s.ctx, &mut s.mem, fd, 4, 12).unwrap();
    assert_eq!(size(&mut s), 16);
    p::fd_allocate(&mut s.ctx, &mut s.mem, fd, 0, 3).unwrap();
    assert_eq!(size(&mut s), 16);
    let al = |s: &mut Setup, fd: u32, off: u64, len: u64| {
        errno(p::fd_allocate(&mut s.ctx, &mut s.mem, fd, off, len))
    };
    assert_eq!(al(&mut s, fd, 0, 0), Errno::Inval);
    assert_eq!(al(&mut s, fd, 0, 1 << 63), Errno::Inval);
    assert_eq!(al(&mut s, fd, 1 << 63, 1), Errno::Inval);
    assert_eq!(al(&mut s, fd, i64::MAX as u64, 1), Errno::Fbig);
    assert_eq!(al(&mut s, fd, 0, 1 << 40), Errno::Nospc);
    assert_eq!(al(&mut s, 3, 0, 1), Errno::Badf);
    assert_eq!(al(&mut s, 1, 0, 1), Errno::Badf);
    assert_eq!(al(&mut s, 99, 0, 1), Errno::Badf);
    // Read-only, though holding FD_ALLOCATE: the access mode refuses (EBADF, as POSIX);
    // without the right it would be ENOTCAPABLE.
    let ro = open(&mut s, b"file", 0, rights::REGULAR_FILE & !rights::FD_WRITE).unwrap();
    assert_eq!(al(&mut s, ro, 0, 100), Errno::Badf);
    let bare = open(&mut s, b"file", 0, rights::FD_READ).unwrap();
    assert_eq!(al(&mut s, bare, 0, 100), Errno::Notcapable);
    assert_eq!(size(&mut s), 16);
    let keep = rights::FD_READ | rights::FD_WRITE | rights::FD_FILESTAT_GET;
    p::fd_fdstat_set_rights(&mut s.ctx, &mut s.mem, fd, keep, 0).unwrap();
    assert_eq!(al(&mut s, fd, 0, 100), Errno::Notcapable);
    let mut data = s.ctx.vfs().lock();
    let sandbox = data
        .resolve(data.root(), "sandbox/file", true, false)
        .unwrap();
    let mut buf = [0xffu8; 16];
    assert_eq!(data.read_at(sandbox, 0, &mut buf).unwrap(), 16);
    assert_eq!(&buf, b"contents\0\0\0\0\0\0\0\0");
}

#[test]
fn set_times_both_time_and_now_is_inval() {
    let mut s = setup();
    let r = p::fd_filestat_set_times(&mut s.ctx, &mut s.mem, 3, 1, 1, 1 | 2);
    assert_eq!(errno(r), Errno::Inval);
    p::fd_filestat_set_times(&mut s.ctx, &mut s.mem, 3, 7, 0, 1 | 8).unwrap();
    p::fd_filestat_get(&mut s.ctx, &mut s.mem, 3, 64).unwrap();
    assert_eq!(s.mem[64 + 16], types::filetype::DIRECTORY);
    assert_eq!(u32_at(&s.mem, 64 + 40), 7);
}

#[test]
fn readdir_cookies_and_truncation() {
    let mut s = setup();
    let names = |mem: &[u8], used: usize| {
        let mut out = Vec::new();
        let mut at = 0;
        while at + 24 <= used {
            let next = u64::from_le_bytes(mem[at..at + 8].try_into().unwrap());
            let len = u32_at(mem, at + 16) as usize;
            let end = (at + 24 + len).min(used);
            out.push((
                next,
                String::from_utf8_lossy(&mem[at + 24..end]).into_owned(),
            ));
            at += 24 + len;
        }
        out
    };
    p::fd_readdir(&mut s.ctx, &mut s.mem, 3, 4096, 1024, 0, 0).unwrap();
    let used = u32_at(&s.mem, 0) as usize;
    let got = names(&s.mem[4096..], used);
    // In creation order (setup makes `sub` first), as the vfs lists a directory.
    let want = [(1, "."), (2, ".."), (3, "sub"), (4, "file")];
    assert_eq!(
        got.iter()
            .map(|(n, s)| (*n, s.as_str()))
            .collect::<Vec<_>>(),
        want
    );
    // Resuming at cookie 3 gives the rest.
    p::fd_readdir(&mut s.ctx, &mut s.mem, 3, 4096, 1024, 3, 0).unwrap();
    let got = names(&s.mem[4096..], u32_at(&s.mem, 0) as usize);
    assert_eq!(got, vec![(4, "file".to_string())]);
    // A small buffer is filled completely (result == buf_len: there may be more).
    p::fd_readdir(&mut s.ctx, &mut s.mem, 3, 4096, 30, 0, 0).unwrap();
    assert_eq!(u32_at(&s.mem, 0), 30);
    // Directory only.
    assert_eq!(
        errno(p::fd_readdir(&mut s.ctx, &mut s.mem, 1, 4096, 30, 0, 0)),
        Errno::Badf
    );
}

#[test]
fn poll_and_proc() {
    let mut s = setup();
    assert_eq!(
        errno(p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, 0, 8)),
        Errno::Inval
    );
    // One relative monotonic clock of 100 ns: the fake clock advances, one event.
    s.mem[0..8].copy_from_slice(&9u64.to_le_bytes());
    s.mem[8] = 0;
    s.mem[16..20].copy_from_slice(&1u32.to_le_bytes());
    s.mem[24..32].copy_from_slice(&100u64.to_le_bytes());
    p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, 1, 200).unwrap();
    assert_eq!(u32_at(&s.mem, 200), 1);
    assert_eq!(s.mem[64], 9);
    assert_eq!(s.ctx.clocks.now_ns(ClockId::Monotonic), Some(105));
    // A CPU-time clock in a subscription is EINVAL; an fd_read on a bad fd EBADF.
    s.mem[16..20].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        errno(p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, 1, 200)),
        Errno::Inval
    );
    s.mem[8] = 1;
    s.mem[16..20].copy_from_slice(&77u32.to_le_bytes());
    assert_eq!(
        errno(p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, 1, 200)),
        Errno::Badf
    );
    assert_eq!(p::proc_exit(&mut s.ctx, &mut s.mem, 3), Err(Error::Exit(3)));
    assert!(matches!(
        p::proc_exit(&mut s.ctx, &mut s.mem, 200),
        Err(Error::Trap(_))
    ));
    assert_eq!(
        errno(p::proc_raise(&mut s.ctx, &mut s.mem, 15)),
        Errno::Notsup
    );
    assert_eq!(
        errno(p::sock_shutdown(&mut s.ctx, &mut s.mem, 1, 1)),
        Errno::Notsock
    );
    assert_eq!(
        errno(p::sock_shutdown(&mut s.ctx, &mut s.mem, 50, 1)),
        Errno::Badf
    );
    assert_eq!(
        errno(p::clock_time_get(&mut s.ctx, &mut s.mem, 2, 0, 0)),
        Errno::Badf
    );
    assert_eq!(
        errno(p::clock_time_get(&mut s.ctx, &mut s.mem, 9, 0, 0)),
        Errno::Inval
    );
}

/// Every function of the table, in both snapshots, called with pseudo-random arguments (biased towards small
/// values and the edges) over a memory of random bytes, returns instead of panicking.
#[test]
fn no_panic_sweep() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut s = setup();
    for round in 0..3000u32 {
        if round % 100 == 0 {
            s = setup();
            for b in s.mem.iter_mut() {
                *b = (next() % 7) as u8;
            }
        }
        let mut arg32 = || -> i32 {
            match next() % 6 {
                0 => 0,
                1 => (next() % 8) as i32,
                2 => (next() % 65536) as i32,
                3 => -1,
                4 => 65530,
                _ => next() as i32,
            }
        };
        macro_rules! sweep {
            ($($name:ident ( $($p:ident : $t:ty),* ) -> $ret:ty;)*) => {$({
                $(let $p: $t = arg32() as $t;)*
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _ = p::$name(&mut s.ctx, &mut s.mem, $($p as _),*);
                    // The same arguments through snapshot 0's layouts.
                    let _ = crate::preview0::$name(&mut s.ctx, &mut s.mem, $($p as _),*);
                }));
                assert!(r.is_ok(), "{} panicked", stringify!($name));
            })*};
        }
        crate::for_each_function!(sweep);
    }
}

#[test]
fn table_has_46_functions() {
    assert_eq!(crate::table::NAMES.len(), 46);
}

/// `wasi_unstable` has preview1's functions but `sock_accept` (snapshot 0's witx).
#[test]
fn snapshot_0_provides_all_but_sock_accept() {
    for name in crate::table::NAMES {
        assert!(crate::provides(crate::MODULE, name));
        assert_eq!(
            crate::provides(crate::MODULE0, name),
            *name != "sock_accept"
        );
    }
    assert!(!crate::provides("wasi", "fd_write"));
    assert!(!crate::provides(crate::MODULE0, "fd_frobnicate"));
}

/// `fd_write` gathers every iovec into one write (empty ones skipped): all bytes, in
/// order, and `nwritten` counts them all.
#[test]
fn fd_write_gathers_iovecs() {
    let mut s = setup();
    let fd = open(
        &mut s,
        b"gathered",
        1,
        rights::FD_READ | rights::FD_WRITE | rights::FD_SEEK | rights::FD_FILESTAT_GET,
    )
    .unwrap();
    let (a, al) = put(&mut s.mem, 2000, b"one ");
    let (b, bl) = put(&mut s.mem, 2100, b"two\n");
    // iovecs: ("one ", 4), (anything, 0), ("two\n", 4)
    for (i, (ptr, len)) in [(a, al), (0, 0), (b, bl)].into_iter().enumerate() {
        let at = 100 + i * 8;
        s.mem[at..at + 4].copy_from_slice(&ptr.to_le_bytes());
        s.mem[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
    }
    p::fd_write(&mut s.ctx, &mut s.mem, fd, 100, 3, 200).unwrap();
    assert_eq!(u32_at(&s.mem, 200), 8);
    let mut vfs = s.ctx.vfs().lock();
    let ino = vfs
        .resolve(vfs.root(), "sandbox/gathered", true, false)
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(vfs.read_at(ino, 0, &mut buf).unwrap(), 8);
    assert_eq!(&buf[..8], b"one two\n");
}

/// Writes the iovec array `list` at `at`.
fn put_iovecs(mem: &mut [u8], at: usize, list: &[(u32, u32)]) {
    for (i, (ptr, len)) in list.iter().enumerate() {
        let o = at + i * 8;
        mem[o..o + 4].copy_from_slice(&ptr.to_le_bytes());
        mem[o + 4..o + 8].copy_from_slice(&len.to_le_bytes());
    }
}

/// A write of many (here overlapping) iovecs larger than the gathering bound goes out
/// iovec by iovec: every byte, in order, and `nwritten` counts them all.
#[test]
fn fd_write_beyond_the_gather_bound_writes_every_iovec() {
    let mut s = setup();
    let pattern: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    put(&mut s.mem, 2000, &pattern);
    put_iovecs(&mut s.mem, 100, &[(2000, 4000); 40]);
    p::fd_write(&mut s.ctx, &mut s.mem, 1, 100, 40, 8).unwrap();
    assert_eq!(u32_at(&s.mem, 8), 160_000);
    let out = s.stdout.lock().unwrap();
    assert_eq!(out.len(), 160_000);
    assert!(out.chunks(4000).all(|c| c == pattern.as_slice()));
}

/// One bad buffer among good ones fails the whole write with nothing written (Linux
/// `writev` checks every buffer first), and iovecs naming more than `size` can count
/// (4 GiB, here 4097 overlapping MiB) are `EINVAL` before any byte is copied.
#[test]
fn fd_write_checks_every_iovec_first() {
    let mut s = setup();
    s.mem.resize(2 << 20, 0);
    put_iovecs(
        &mut s.mem,
        100,
        &[(2000, 10), (2000, 10), (0xffff_fff0, 0x20)],
    );
    assert_eq!(
        p::fd_write(&mut s.ctx, &mut s.mem, 1, 100, 3, 8),
        Err(Error::BadPointer)
    );
    assert!(s.stdout.lock().unwrap().is_empty());
    put_iovecs(&mut s.mem, 100_000, &[(0, 1 << 20); 4097]);
    assert_eq!(
        errno(p::fd_write(&mut s.ctx, &mut s.mem, 1, 100_000, 4097, 8)),
        Errno::Inval
    );
    assert!(s.stdout.lock().unwrap().is_empty());
}

/// `poll_oneoff` checks that the whole subscription list is guest memory before it sizes
/// anything by `nsubscriptions`.
#[test]
fn poll_oneoff_bounds_the_subscription_list_first() {
    let mut s = setup();
    assert_eq!(
        p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, u32::MAX, 200),
        Err(Error::BadPointer)
    );
    assert_eq!(
        p::poll_oneoff(&mut s.ctx, &mut s.mem, 0, 64, 65536 / 48 + 1, 200),
        Err(Error::BadPointer)
    );
}

/// A process holds at most `MAX_OPEN_FDS` descriptors: `path_open` then answers `EMFILE`
/// (the kernel heap is not a program's to exhaust), and works again after a close.
#[test]
fn path_open_beyond_the_descriptor_limit_is_emfile() {
    let mut s = setup();
    let mut last = 0;
    while s.ctx.fds.len() < crate::ctx::MAX_OPEN_FDS {
        last = open(&mut s, b"file", 0, rights::FD_READ).unwrap();
    }
    assert_eq!(
        errno(open(&mut s, b"file", 0, rights::FD_READ).map(|_| ())),
        Errno::Mfile
    );
    p::fd_close(&mut s.ctx, &mut s.mem, last).unwrap();
    assert_eq!(open(&mut s, b"file", 0, rights::FD_READ).unwrap(), last);
}

/// The memory devices of a `--dir /dev` tree (`vfs::Device`) behave as Linux's: reads of
/// `null` end, `zero`/`full` give zeros, `urandom` gives `random_get`'s bytes; writes to
/// `full` are ENOSPC, to the others taken whole; positions move as a file's (as under
/// `wasmtime run`); the file type is `character_device`; `O_TRUNC` leaves them;
/// `fd_filestat_set_size` is EINVAL.
#[test]
fn memory_devices_read_and_write_as_linux_does() {
    let mut s = setup();
    {
        let mut v = s.ctx.vfs().lock();
        let dir = v.resolve(v.root(), "sandbox", true, false).unwrap();
        for (name, device) in [
            ("null", vfs::Device::Null),
            ("zero", vfs::Device::Zero),
            ("full", vfs::Device::Full),
            ("urandom", vfs::Device::Urandom),
        ] {
            v.mknod(dir, name, device).unwrap();
        }
    }
    let all = rights::FD_READ
        | rights::FD_WRITE
        | rights::FD_SEEK
        | rights::FD_TELL
        | rights::FD_FILESTAT_GET
        | rights::FD_FILESTAT_SET_SIZE;
    let read = |s: &mut Setup, fd: u32| {
        put_iovecs(&mut s.mem, 100, &[(3000, 8)]);
        s.mem[3000..3008].fill(0xee);
        p::fd_read(&mut s.ctx, &mut s.mem, fd, 100, 1, 200).unwrap();
        s.mem[3000..3000 + u32_at(&s.mem, 200) as usize].to_vec()
    };
    let write = |s: &mut Setup, fd: u32| {
        put(&mut s.mem, 3000, b"data");
        put_iovecs(&mut s.mem, 100, &[(3000, 4)]);
        p::fd_write(&mut s.ctx, &mut s.mem, fd, 100, 1, 200).map(|_| u32_at(&s.mem, 200))
    };
    let tell = |s: &mut Setup, fd: u32| {
        p::fd_tell(&mut s.ctx, &mut s.mem, fd, 304).unwrap();
        u64::from_le_bytes(s.mem[304..312].try_into().unwrap())
    };
    // O_CREAT | O_TRUNC: opens the existing device.
    let null = open(&mut s, b"null", 1 | 8, all).unwrap();
    assert_eq!(read(&mut s, null), b"");
    assert_eq!(write(&mut s, null).unwrap(), 4);
    assert_eq!(tell(&mut s, null), 4);
    let zero = open(&mut s, b"zero", 0, all).unwrap();
    assert_eq!(read(&mut s, zero), [0; 8]);
    assert_eq!(write(&mut s, zero).unwrap(), 4);
    assert_eq!(tell(&mut s, zero), 12);
    let full = open(&mut s, b"full", 0, all).unwrap();
    assert_eq!(read(&mut s, full), [0; 8]);
    assert_eq!(errno(write(&mut s, full).map(|_| ())), Errno::Nospc);
    let urandom = open(&mut s, b"urandom", 0, all).unwrap();
    assert_eq!(read(&mut s, urandom), [4; 8]);
    put_iovecs(&mut s.mem, 100, &[(3000, 8)]);
    p::fd_pread(&mut s.ctx, &mut s.mem, urandom, 100, 1, 1 << 40, 200).unwrap();
    assert_eq!(u32_at(&s.mem, 200), 8);
    p::fd_seek(&mut s.ctx, &mut s.mem, zero, 100, 0, 304).unwrap();
    assert_eq!(tell(&mut s, zero), 100);
    assert_eq!(read(&mut s, zero), [0; 8]);
    for fd in [null, zero, full, urandom] {
        p::fd_fdstat_get(&mut s.ctx, &mut s.mem, fd, 400).unwrap();
        assert_eq!(s.mem[400], 2, "fdstat filetype");
        p::fd_filestat_get(&mut s.ctx, &mut s.mem, fd, 400).unwrap();
        assert_eq!(s.mem[416], 2, "filestat filetype");
        assert_eq!(
            errno(p::fd_filestat_set_size(&mut s.ctx, &mut s.mem, fd, 0)),
            Errno::Inval
        );
    }
    assert_eq!(
        errno(open(&mut s, b"null", 2, all).map(|_| ())),
        Errno::Notdir
    );
}
