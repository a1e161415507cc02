//! The filesystem at boot: one global [`wasi::SharedVfs`] (the `vfs` crate's RAM tree),
//! filled from the boot archive (the multiboot module whose string ends in `archive`, a
//! ustar file built by the host tool) at `/`, with `/tmp` and `/bin` created if absent and a
//! size limit derived from free RAM.
//!
//! `clew run` passes the program as a module of its own ([`program_module`]).
//!
//! Key functions: [`init`], [`shared`], [`read_file`]. Neighbours: `crate::process` (every
//! process's WASI context shares this tree), `crate::run_mode` (`/.clew-run`, `/run/dirs`).

use alloc::borrow::Cow;
use alloc::vec;
use hal::boot::BootInfo;
use wasi::SharedVfs;

static VFS: spin::Once<SharedVfs> = spin::Once::new();

/// The bytes of the multiboot module whose string ends in ` program`: the module `clew run`
/// hands over in a file of its own (the user's `.wasm`, or the cached `.cwasm`) rather than
/// in the archive, so the host copies nothing (a `.cwasm` can be hundreds of MB).
static PROGRAM: spin::Once<&'static [u8]> = spin::Once::new();

/// Builds the filesystem: loads the boot archive, creates `/tmp` and `/bin`, sets the size
/// limit. A malformed archive is logged and what was loaded of it is kept.
pub fn init(info: &BootInfo) {
    let mut fs = vfs::Vfs::new(alloc::boxed::Box::new(crate::time::realtime_ns));
    let root = fs.root();
    // Files borrow their bytes from the module, which stays reserved and unwritten for
    // good (`hal::boot::Module::bytes`), until they are first changed (`Vfs::load_tar_static`).
    // Budget the files against what is free now, leaving a quarter (at least 64 MiB) for
    // programs.
    let free = crate::memory::stats().free_frames * 4096;
    let mut loaded = 0usize;
    for m in info.modules().filter(|m| m.name().ends_with("archive")) {
        let bytes = m.bytes();
        loaded += bytes.len();
        let t0 = crate::time::monotonic_ns();
        fs.set_limit_bytes(u64::MAX);
        match fs.load_tar_static(root, bytes) {
            Ok(()) => log::info!(
                "fs: loaded archive '{}' ({} KiB) in {} ms",
                m.name(),
                bytes.len() / 1024,
                (crate::time::monotonic_ns() - t0) / 1_000_000
            ),
            Err(e) => log::error!("fs: archive '{}' is malformed: {e}", m.name()),
        }
    }
    if let Some(m) = info.modules().find(|m| m.name().ends_with(" program")) {
        PROGRAM.call_once(|| m.bytes());
    }
    for dir in ["tmp", "bin"] {
        if fs.lookup(root, dir).is_err() {
            if let Err(e) = fs.mkdir(root, dir) {
                log::error!("fs: cannot create /{dir}: {e}");
            }
        }
    }
    let reserve = (free / 4).max(64 << 20);
    let limit = free
        .saturating_sub(reserve)
        .max(fs.used_bytes() + (16 << 20));
    fs.set_limit_bytes(limit);
    log::info!(
        "fs: {} inodes, {} KiB used, limit {} MiB (archive {} KiB)",
        fs.inode_count(),
        fs.used_bytes() / 1024,
        limit >> 20,
        loaded / 1024
    );
    VFS.call_once(|| wasi::share(fs));
}

/// The program module of `clew run`, read in place (it stays reserved and unwritten like
/// the archive), if the host passed one.
pub fn program_module() -> Option<&'static [u8]> {
    PROGRAM.get().copied()
}

/// The shared filesystem (an empty one if [`init`] has not run, e.g. in early tests).
pub fn shared() -> SharedVfs {
    VFS.call_once(|| {
        wasi::share(vfs::Vfs::new(alloc::boxed::Box::new(
            crate::time::realtime_ns,
        )))
    })
    .clone()
}

/// Reads the whole file at absolute `path` (symlinks followed): borrowed in place while it
/// holds the boot archive's bytes, else a copy.
pub fn read_file(path: &str) -> vfs::Result<Cow<'static, [u8]>> {
    let shared = shared();
    let mut fs = shared.lock();
    let ino = fs.resolve(fs.root(), path, true, false)?;
    let meta = fs.metadata(ino)?;
    if meta.kind == vfs::FileKind::Directory {
        return Err(vfs::Error::IsDir);
    }
    // A file still holding the boot archive's bytes is read in place: copying a 200 MB
    // `.cwasm` costs more than a second under TCG (zeroing, then copying).
    if let Some(bytes) = fs.static_contents(ino)? {
        return Ok(Cow::Borrowed(bytes));
    }
    let len = usize::try_from(meta.size).map_err(|_| vfs::Error::NoSpace)?;
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let n = fs.read_at(ino, done as u64, &mut buf[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(Cow::Owned(buf))
}
