//! The Clew filesystem (no_std + alloc): an inode tree in RAM with POSIX semantics where
//! WASI preview1 expects them, path resolution that can be confined to a directory (the
//! capability model of WASI preopens), and the boot archive (ustar) reader and writer.
//!
//! # Key types
//! - [`Vfs`]: owns every inode. Methods take `&self`/`&mut self`; callers (the WASI layer in
//!   `crates/wasi`, the kernel's fs glue, `crates/clew`'s `dirsync`) wrap it in their own
//!   lock. Reads (`read_at`, `metadata`, `read_dir`, `resolve`) take `&self`.
//! - [`Ino`] (`u64`) names an inode; every `Vfs` has its own device number ([`Vfs::dev`]).
//! - [`Metadata`], [`DirEntry`], [`FileKind`]: what `stat` and `readdir` report.
//! - [`Error`]: one variant per errno the operations can produce (see its docs for the
//!   WASI errno of each); [`ArchiveError`] adds malformed-archive errors for [`Vfs::load_tar`].
//!
//! # Model
//! - Node kinds: directories, regular files (`Vec<u8>`; writing past the end zero-fills) and
//!   symlinks (a target string). Directories cannot be hard-linked, so each directory has
//!   exactly one parent, and [`Vfs::parent`] gives it (the root is its own parent).
//! - An inode is freed when its link count is 0 *and* nobody holds it open: open file
//!   descriptions call [`Vfs::retain`] / [`Vfs::release`] so that an unlinked-but-open file
//!   (or a removed-but-open directory) stays usable, as POSIX requires for `unlink`.
//! - Timestamps come from the clock given to [`Vfs::new`] (ns since the Unix epoch). Creating,
//!   writing, truncating, linking, unlinking and renaming update mtime/ctime as POSIX
//!   specifies. Reads do not update atime (the tree behaves as if mounted `noatime`): that
//!   keeps reads on `&self` and is allowed by POSIX ("implementation-defined" for
//!   file systems mounted that way); only [`Vfs::set_times`] sets atime.
//! - A total size limit ([`Vfs::set_limit_bytes`], default [`DEFAULT_LIMIT_BYTES`]) makes
//!   growth fail with [`Error::NoSpace`] instead of aborting in the allocator.
//!
//! # Paths
//! [`Vfs::resolve`] and [`Vfs::resolve_parent`] walk `.`, `..`, repeated and trailing
//! slashes and symlinks (at most [`MAX_SYMLINKS`] expansions, then [`Error::Loop`]). With
//! `confine = true` (what WASI uses: every directory fd is its own sandbox, as in cap-std and
//! wasmtime) an absolute path, a `..` above the base directory or a symlink with an absolute
//! target give [`Error::Escape`]; a relative symlink may use `..` as long as every step stays
//! inside the base. With `confine = false` absolute paths start at the root (kernel shell).
//!
//! The name-taking operations (`create_file`, `mkdir`, `symlink`, `link`, `unlink`, `rmdir`,
//! `rename`, `lookup`) take one path component, optionally followed by a single `/` meaning
//! "the path had a trailing slash" (the object must be a directory), exactly as
//! `resolve_parent` returns it; `.` and `..` are accepted and give the errors Linux gives for
//! them (see each method). So a WASI `path_*` call is `resolve_parent` then the operation;
//! `path_open` with `O_CREAT` is [`Vfs::create_file_at`], which also follows a final
//! (possibly dangling) symlink as POSIX `open` does.
//!
//! # Boot archive
//! [`Vfs::load_tar`] and [`Vfs::dump_tar`] (module `tar`) read and write ustar with pax
//! extended headers; the host tool packs `--dir` trees in this format (`crates/clew`'s
//! `dirsync`), and the kernel loads its root filesystem from it.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod error;
mod filedata;
mod path;
mod remote;
mod tar;
mod tree;

#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod tests;

pub use error::{ArchiveError, Error};
pub use remote::{FetchFailed, Fetcher, CHUNK_BYTES, FETCH_BYTES};
pub use tar::TarPart;
pub use tree::{
    Clock, Device, DirEntry, FileKind, Ino, Metadata, Vfs, DEFAULT_LIMIT_BYTES, MAX_FILE_SIZE,
    MAX_NAME_LEN, MAX_SYMLINKS, MAX_SYMLINK_TARGET_LEN,
};

/// The result type of the filesystem operations.
pub type Result<T, E = Error> = core::result::Result<T, E>;
