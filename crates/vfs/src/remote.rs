//! Remote files: regular files whose bytes the host keeps. `clew run` packs the large
//! files of a `--dir` tree without their contents (a tar entry with Clew's `CLEW.remote`
//! pax record, written by [`Vfs::dump_tar`] for such a file and read back by the loaders
//! in `tar.rs`), so a tree of any size boots at once and only what a program reads crosses
//! into the guest. A [`Fetcher`] (the kernel's asks the host through `clew run`'s fetch
//! area) reads the bytes chunk by chunk, a megabyte ahead; they stay as a cache charged
//! against the size limit and are dropped when room is needed. The first change makes
//! the file an ordinary one of its own (fetched whole first, or as far as a truncation
//! keeps). Neighbours: `filedata.rs` (the chunks), `tree.rs` (charging), `tar.rs`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::filedata::{FileData, CHUNK};
use crate::tree::{Body, Ino, Vfs};
use crate::{Error, Result};

/// A [`Fetcher`] could not read a remote file (gone, replaced, unreadable on the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchFailed;

/// Reads the bytes of remote files for a [`Vfs`].
pub trait Fetcher: Send {
    /// Fills `bufs` (consecutive pieces of the file: each but the last [`CHUNK_BYTES`]
    /// long) with the bytes of remote file `id` from `offset` on; bytes past the end of
    /// the host's file read as zeros (the size the tree shows is the one packed). `Err` if
    /// the file cannot be read.
    fn fetch(
        &mut self,
        id: u64,
        offset: u64,
        bufs: &mut [Vec<u8>],
    ) -> core::result::Result<(), FetchFailed>;
}

/// Bytes per piece handed to [`Fetcher::fetch`] (the file chunk size).
pub const CHUNK_BYTES: usize = CHUNK;

/// The most one [`Fetcher::fetch`] asks for: 16 chunks, 1 MiB (the size of `clew run`'s
/// fetch area, `run_protocol::FETCH_LEN`). A read fetches from its first missing chunk
/// up to this much, so reading a file in small pieces costs one fetch per megabyte.
pub const FETCH_BYTES: usize = 16 * CHUNK;

impl Vfs {
    /// Sets how remote files' bytes are read.
    pub fn set_fetcher(&mut self, fetcher: Box<dyn Fetcher>) {
        self.fetcher = Some(fetcher);
    }

    /// Creates regular file `name` in `dir` as remote file `id` of `len` bytes (for
    /// packing a host tree: nothing is read until a [`Fetcher`] asks). Errors as
    /// [`Vfs::create_file`] with `exclusive`, and FileTooBig.
    pub fn create_remote_file(&mut self, dir: Ino, name: &str, id: u64, len: u64) -> Result<Ino> {
        let (ino, _) = self.create_file(dir, name, true)?;
        self.set_remote(ino, id, len)?;
        Ok(ino)
    }

    /// Makes empty regular file `ino` remote file `id` of `len` bytes (nothing charged:
    /// its bytes are charged as they are fetched). FileTooBig past the largest file.
    pub(crate) fn set_remote(&mut self, ino: Ino, id: u64, len: u64) -> Result<()> {
        if len > crate::MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        let data = self.file_data_mut(ino)?;
        if data.len() != 0 {
            return Err(Error::Invalid);
        }
        *data = FileData::Remote {
            id,
            len,
            chunks: Vec::new(),
        };
        Ok(())
    }

    /// [`Vfs::read_at`] without fetching: Io when a remote file's bytes in the range are not
    /// all here (the host tool reads the trees the guest sends back this way: they hold no
    /// remote files, and one that does must not be read from anywhere).
    pub fn read_cached_at(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let data = self.file_data(ino)?;
        if data.missing(offset, buf.len() as u64, 1).is_some() {
            return Err(Error::Io);
        }
        Ok(data.read_at(offset, buf))
    }

    /// [`Vfs::read_at`] of a remote file: a megabyte at a time, fetched then copied, so
    /// that a read larger than the size limit still goes through the cache.
    pub(crate) fn read_remote(&mut self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset.saturating_add(done as u64);
            let step = (buf.len() - done).min(FETCH_BYTES);
            self.fetch_range(ino, at, step as u64)?;
            let n = self
                .file_data(ino)?
                .read_at(at, &mut buf[done..done + step]);
            done += n;
            if n < step {
                break;
            }
        }
        Ok(done)
    }

    /// Fetches the chunks of remote file `ino` that bytes `[offset, offset + n)` need (a
    /// megabyte ahead at most); nothing for other files. When the size limit has no room,
    /// drops every other remote file's cache and this one's outside the range, then
    /// gives up with NoSpace; a failed fetch is Io.
    pub(crate) fn fetch_range(&mut self, ino: Ino, offset: u64, n: u64) -> Result<()> {
        let most = (FETCH_BYTES / CHUNK) as u64;
        while let Some((first, count)) = self.file_data(ino)?.missing(offset, n, most) {
            let growth = self.file_data(ino)?.fetch_growth(first, count);
            if self.charge(growth).is_err() {
                self.drop_remote_caches(ino, offset, n);
                self.charge(growth)?;
            }
            let data = self.file_data(ino)?;
            let before = data.stored();
            let (Some(id), Some(mut bufs)) = (data.remote_id(), data.fetch_buffers(first, count))
            else {
                self.uncharge(growth);
                return Err(Error::NoSpace);
            };
            let fetched = match self.fetcher.as_mut() {
                Some(fetcher) => fetcher.fetch(id, first * CHUNK as u64, &mut bufs),
                None => Err(FetchFailed),
            };
            if fetched.is_err() {
                self.uncharge(growth);
                return Err(Error::Io);
            }
            let placed = self.file_data_mut(ino)?.place(first, bufs);
            self.settle(ino, before, growth)?;
            if placed.is_err() {
                return Err(Error::NoSpace);
            }
        }
        Ok(())
    }

    /// Drops the cached chunks of every remote file but `keep`, and `keep`'s outside bytes
    /// `[offset, offset + n)`, giving their charge back.
    fn drop_remote_caches(&mut self, keep: Ino, offset: u64, n: u64) {
        let mut freed = 0;
        for (&ino, node) in self.nodes.iter_mut() {
            if let Body::File(data) = &mut node.body {
                if data.remote_id().is_none() || self.pinned.contains(&ino) {
                    continue;
                }
                freed += if ino == keep {
                    data.drop_cache_outside(offset, n)
                } else {
                    data.drop_cache()
                };
            }
        }
        self.uncharge(freed);
    }

    /// Before [`Vfs::dump_tar_changes`] of `dir`: fetches whole every remote file the dump
    /// will write with its contents (one that is not where it was loaded from, so no
    /// "unchanged" marker can stand for it). Errors as [`Vfs::read_at`]; NoSpace if they
    /// do not all fit at once.
    ///
    /// The files fetched stay until the dump: later fetches (of this tree or another)
    /// drop other caches to make room, never theirs.
    pub fn fetch_for_dump(&mut self, dir: Ino) -> Result<()> {
        // Without a name changed, every file is where it was loaded from: an unchanged
        // remote file goes back as a marker. (Looking means a dump's walk: 1 s of guest
        // time for 35,000 files.)
        if !self.names_changed {
            return Ok(());
        }
        for ino in self.dump_missing(dir)? {
            let len = self.file_data(ino)?.len();
            self.fetch_range(ino, 0, len)?;
            self.pinned.push(ino);
        }
        Ok(())
    }
}
