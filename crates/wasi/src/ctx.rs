//! The per-process WASI state: the fd table (with rights), preopened directories, argv,
//! environment, and handles to the host services and the shared [`vfs::Vfs`].
//!
//! Descriptor numbers follow wasmtime's preview1 adapter: 0, 1, 2 are stdio, preopens
//! follow in order from 3, a closed number is reused (highest freed first), otherwise the
//! next number after the highest in use.

use crate::host::{Clocks, Random, Stream};
use crate::types::rights;
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The shared filesystem, behind a spin lock (usable in no_std and under preemption: a
/// holder never blocks while holding it).
pub type SharedVfs = Arc<spin::Mutex<vfs::Vfs>>;

/// Wraps a filesystem for sharing between processes.
pub fn share(vfs: vfs::Vfs) -> SharedVfs {
    Arc::new(spin::Mutex::new(vfs))
}

/// Which standard stream an fd is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdioKind {
    /// fd 0.
    Stdin,
    /// fd 1.
    Stdout,
    /// fd 2.
    Stderr,
}

/// What an open descriptor refers to.
pub(crate) enum Handle {
    Stdio {
        kind: StdioKind,
        stream: Box<dyn Stream>,
    },
    File {
        ino: vfs::Ino,
        pos: u64,
        append: bool,
        nonblock: bool,
        readable: bool,
        writable: bool,
    },
    Dir {
        ino: vfs::Ino,
        preopen: Option<String>,
    },
}

/// An fd table entry.
pub(crate) struct Descriptor {
    pub handle: Handle,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

/// How bad guest pointers are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BadPointer {
    /// Trap, as wasmtime does (witx docs: out-of-bounds or misaligned pointers trap).
    #[default]
    Trap,
    /// Return `EFAULT`.
    Efault,
}

/// The most descriptors a process may hold (stdio and preopens included); `path_open`
/// beyond it is `EMFILE`, as under `wasmtime run`, whose every open takes a host fd under
/// the host's `RLIMIT_NOFILE`. Each costs kernel memory, so without a limit a program that
/// opens files in a loop would exhaust the kernel heap.
pub const MAX_OPEN_FDS: usize = 65536;

/// Per-process WASI context.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) fds: BTreeMap<u32, Descriptor>,
    pub(crate) free: BTreeSet<u32>,
    pub(crate) vfs: SharedVfs,
    pub(crate) clocks: Arc<dyn Clocks>,
    pub(crate) random: Arc<dyn Random>,
    /// How out-of-bounds guest pointers are reported.
    pub bad_pointer: BadPointer,
    /// The errno for a path that would leave its directory fd (absolute path, `..` above
    /// it, a symlink out of it). Default `notcapable` (witx: "capabilities insufficient");
    /// wasmtime's preview1 answers `perm`.
    pub escape_errno: crate::Errno,
}

impl WasiCtx {
    /// A context with argv, environment, the three stdio streams, no preopens.
    pub fn new(
        vfs: SharedVfs,
        clocks: Arc<dyn Clocks>,
        random: Arc<dyn Random>,
        args: Vec<String>,
        env: Vec<(String, String)>,
        stdio: [Box<dyn Stream>; 3],
    ) -> Self {
        let mut ctx = WasiCtx {
            args,
            env,
            fds: BTreeMap::new(),
            free: BTreeSet::new(),
            vfs,
            clocks,
            random,
            bad_pointer: BadPointer::default(),
            escape_errno: crate::Errno::Notcapable,
        };
        let [stdin, stdout, stderr] = stdio;
        for (kind, stream) in [
            (StdioKind::Stdin, stdin),
            (StdioKind::Stdout, stdout),
            (StdioKind::Stderr, stderr),
        ] {
            let r = if kind == StdioKind::Stdin {
                rights::FD_READ
            } else {
                rights::FD_WRITE
            };
            ctx.push(Descriptor {
                handle: Handle::Stdio { kind, stream },
                rights_base: r,
                rights_inheriting: r,
            });
        }
        ctx
    }

    /// Preopens directory `ino` of the VFS under the name `guest_path` (the next fd, 3...).
    pub fn preopen_dir(&mut self, ino: vfs::Ino, guest_path: &str) -> u32 {
        let _ = self.vfs.lock().retain(ino);
        self.push(Descriptor {
            handle: Handle::Dir {
                ino,
                preopen: Some(String::from(guest_path)),
            },
            rights_base: rights::PREOPEN_BASE,
            rights_inheriting: rights::PREOPEN_INHERITING,
        })
    }

    /// The shared filesystem this context uses.
    pub fn vfs(&self) -> &SharedVfs {
        &self.vfs
    }

    /// Closes every descriptor (releasing VFS open counts); done on drop too.
    pub fn close_all(&mut self) {
        let fds = core::mem::take(&mut self.fds);
        self.free.clear();
        // Streams are dropped after the VFS lock is released: a stream may itself be a
        // VFS file (a shell redirection) whose drop takes that lock.
        let mut streams = Vec::new();
        let mut vfs = self.vfs.lock();
        for d in fds.into_values() {
            match d.handle {
                Handle::File { ino, .. } | Handle::Dir { ino, .. } => vfs.release(ino),
                Handle::Stdio { stream, .. } => streams.push(stream),
            }
        }
        drop(vfs);
        drop(streams);
    }

    pub(crate) fn push(&mut self, d: Descriptor) -> u32 {
        let fd = match self.free.pop_last() {
            Some(fd) => fd,
            None => match self.fds.last_key_value() {
                Some((&last, _)) => match last.checked_add(1) {
                    Some(fd) => fd,
                    None => (0..u32::MAX)
                        .rev()
                        .find(|fd| !self.fds.contains_key(fd))
                        .unwrap_or(u32::MAX),
                },
                None => 0,
            },
        };
        self.fds.insert(fd, d);
        fd
    }
}

impl Drop for WasiCtx {
    fn drop(&mut self) {
        self.close_all();
    }
}

/// Gives the adapters the [`WasiCtx`] inside an engine's store data.
pub trait WasiView {
    /// The WASI context of this store.
    fn wasi_ctx(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn wasi_ctx(&mut self) -> &mut WasiCtx {
        self
    }
}
