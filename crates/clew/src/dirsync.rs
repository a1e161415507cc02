//! Moves `--dir` trees between the host and Clew: [`pack_dir`] packs a host directory into
//! the boot archive format of the `vfs` crate (ustar, written by `vfs::Vfs::dump_tar`: the
//! one implementation of the format), and [`apply`] makes a host directory equal to an
//! archive the guest sends back (`vfs::Vfs::dump_tar` of the same tree after the program
//! ran). Used by `clew run --host` (`host_run`) and by the in-guest `clew run` (`guest_run`):
//! host dir → `pack_dir` → `Vfs::load_tar` → program → `Vfs::dump_tar_changes` → `apply`
//! (files the program did not touch come back as markers and are left alone).
//!
//! The program works on a copy, so `apply` writes back only what the program changed,
//! judged against the [`Snapshot`] `pack_dir` took: what changed on the host meanwhile
//! stays (a file created there is kept, one deleted or edited there is not restored),
//! unless the program changed the same entry, whose version then wins. `wasmtime run`
//! shows the program the live host directory; a copy cannot, but it must not undo the
//! host's own changes either.
//!
//! `apply` changes as little as it can: files whose content is unchanged are not rewritten
//! (only their mtime is set, if it differs), new entries are created, entries the program
//! deleted are deleted (a directory keeps what the host added to it meanwhile), a changed
//! kind replaces the entry. It never follows a symlink: host
//! entries are examined with `lstat`, only real directories are descended into, and a
//! symlink in the way is removed (its target untouched), so nothing outside `host` changes.
//! Sockets, FIFOs and devices, which `pack_dir` cannot represent and skips, are left alone
//! by `apply` unless the archive puts something else at their name. Entries whose names are
//! not UTF-8 (which WASI cannot express) are skipped by `pack_dir` and left alone by
//! `apply`; a symlink whose target is not UTF-8 makes `pack_dir` fail.
//! Symlink mtimes are not carried back: std cannot set them without following the link.
//!
//! `clew run` packs the larger files of a tree without their contents ([`pack_dir_lazy`]:
//! `vfs` remote files, numbered in [`Remotes`]), so that a tree of any size boots at
//! once; the guest asks for their bytes as the program reads them (`Frame::Fetch`,
//! answered by [`Remotes::read`]), and sends back only those it changed.

use std::collections::HashMap;
use std::fs;
use std::hash::Hasher;
use std::io;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use vfs::{FileKind, Ino, Vfs};

/// Where each of `hosts` (the `--dir` host directories, in order) is mounted from: `None`
/// for a tree of its own, `Some((j, rel))` for one that is `hosts[j]` or lies inside it at
/// the relative path `rel` ("" for the same directory), `hosts[j]` being the outermost such
/// tree (the first of equal ones). Mounting the same host directory twice, or one inside
/// another, must show the program one tree, as the host's own file system does under
/// `wasmtime run`: packed separately, each copy saw only its own changes, and writing them
/// back one after another lost the others.
pub fn shared_mounts(hosts: &[&Path]) -> Result<Vec<Option<(usize, String)>>> {
    let canon: Vec<PathBuf> = hosts
        .iter()
        .map(|h| fs::canonicalize(h).with_context(|| format!("--dir {}", h.display())))
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for (i, c) in canon.iter().enumerate() {
        // The outermost tree holding this one; among equal ones the first.
        let root = (0..canon.len())
            .filter(|&j| c.starts_with(&canon[j]))
            .min_by_key(|&j| (canon[j].components().count(), j))
            .unwrap_or(i);
        if root == i {
            out.push(None);
            continue;
        }
        let rel = c
            .strip_prefix(&canon[root])
            .ok()
            .and_then(|r| r.to_str())
            .with_context(|| format!("--dir {}: name is not UTF-8", c.display()))?;
        out.push(Some((root, rel.to_string())));
    }
    Ok(out)
}

/// What [`pack_dir`] packed, by path relative to the tree's root (`a/b`), for [`apply`] to
/// tell the program's changes from the host's (see the module docs).
#[derive(Debug, Default)]
pub struct Snapshot(HashMap<String, Packed>);

/// One packed entry: enough to tell whether the program changed it.
#[derive(Debug, Clone, PartialEq)]
enum Packed {
    /// `entries`: how many entries were packed in it.
    Dir {
        mtime_ns: u64,
        entries: usize,
    },
    File {
        len: u64,
        /// `None` for a remote file (its bytes were not read).
        hash: Option<u64>,
        mtime_ns: u64,
    },
    Symlink {
        target: String,
    },
    /// A memory device (`vfs::Device`): the program may read and write it, and its name
    /// is never written back (no device is created or removed on the host).
    Device,
}

/// A digest of a file's content. SipHash (std's, fixed keys): a program that forges a
/// collision with its own input only keeps its own change from being written back.
fn content_hash(data: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(data);
    h.finish()
}

/// `rel` joined with `name`: the [`Snapshot`] key of an entry.
fn rel_join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// A scratch `Vfs` for packing and comparing: host trees are as large as the host allows.
fn scratch_vfs() -> Vfs {
    let mut vfs = Vfs::new(Box::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }));
    vfs.set_limit_bytes(u64::MAX);
    vfs
}

/// Host mtime in ns since the Unix epoch (times before 1970 clamp to 0, as the archive
/// cannot hold them).
fn host_mtime_ns(meta: &fs::Metadata) -> u64 {
    let secs = u64::try_from(meta.mtime()).unwrap_or(0);
    let nanos = u64::try_from(meta.mtime_nsec()).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// Packs the host directory `host` (not itself, its contents) into a vfs archive:
/// directories, regular files, symlinks (targets verbatim), hard links among its files,
/// and mtimes. Other file types are skipped.
pub fn pack_dir(host: &Path) -> Result<(Vec<u8>, Snapshot)> {
    pack_dir_with(host, None)
}

/// [`pack_dir`], but files larger than [`Remotes::LAZY_FROM`] go in as remote files
/// (numbered in `remotes`), without their contents.
pub fn pack_dir_lazy(host: &Path, remotes: &mut Remotes) -> Result<(Vec<u8>, Snapshot)> {
    pack_dir_with(host, Some(remotes))
}

fn pack_dir_with(host: &Path, remotes: Option<&mut Remotes>) -> Result<(Vec<u8>, Snapshot)> {
    let meta = fs::metadata(host).with_context(|| format!("{}", host.display()))?;
    if !meta.is_dir() {
        bail!("{}: not a directory", host.display());
    }
    let mut vfs = scratch_vfs();
    let root = vfs.root();
    let mut packing = Packing {
        seen: HashMap::new(),
        snapshot: Snapshot::default(),
        remotes,
    };
    pack_into(&mut vfs, root, host, "", &mut packing)?;
    Ok((vfs.dump_tar(root)?, packing.snapshot))
}

/// [`pack_into`]'s state: hard-linked host files already packed ((dev, ino) → the vfs file
/// and its snapshot entry), and the snapshot being taken.
struct Packing<'a> {
    seen: HashMap<(u64, u64), (Ino, Packed)>,
    snapshot: Snapshot,
    /// Where large files go as remote files ([`pack_dir_lazy`]).
    remotes: Option<&'a mut Remotes>,
}

/// The host files [`pack_dir_lazy`] packed as remote files, by number (from 1, across
/// every tree of a run), and an open file to answer the guest's fetches from.
#[derive(Default)]
pub struct Remotes {
    files: Vec<RemoteFile>,
    /// Their sizes added up.
    total_bytes: u64,
    open: Option<(u64, fs::File)>,
}

/// One remote file: where it is and what it was when packed.
struct RemoteFile {
    path: PathBuf,
    /// Device, inode, size and mtime when packed: the guest's tree shows that file.
    identity: (u64, u64, u64, u64),
}

/// What identifies a file's version for [`Remotes`]: an inode number alone may be reused
/// by a file that replaced it.
fn identity(meta: &fs::Metadata) -> (u64, u64, u64, u64) {
    (meta.dev(), meta.ino(), meta.len(), host_mtime_ns(meta))
}

impl Remotes {
    /// Files larger than this are packed as remote files (the vfs sends a file back as
    /// an "unchanged" marker only above 1 KiB, so this must stay above that). A fetch
    /// costs 0.1-0.3 ms (a frame through the serial port, the answer in shared RAM);
    /// every byte packed costs from reading it to the guest parsing it, whether the
    /// program reads it or not. Measured (`clew run --dir D ls.wasm`): /usr/lib (73,750
    /// entries, 4.7 GB) boots in 7.2 s with 4 KiB, 14.3 s with 16 KiB; reading every
    /// file of /usr/lib/python3.11's top directory (205 files, 4.7 MB) takes the same
    /// (0.56-0.66 s) with either.
    pub const LAZY_FROM: u64 = 4 << 10;

    /// The packed sizes of every remote file, added up.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Numbers the regular file at `path` (lstat'ed as `meta`).
    fn add(&mut self, path: &Path, meta: &fs::Metadata) -> u64 {
        self.total_bytes = self.total_bytes.saturating_add(meta.len());
        self.files.push(RemoteFile {
            path: path.to_path_buf(),
            identity: identity(meta),
        });
        self.files.len() as u64
    }

    /// Reads up to `out.len()` bytes of remote file `id` at `offset`; returns how many
    /// (fewer at the file's end). The file is opened without following a symlink and
    /// must be the one packed (same device, inode, size and mtime): one the host
    /// replaced or changed meanwhile (or a symlink put in its place, which could lead out
    /// of the directory) is an error, which the program sees as EIO: the size it was shown
    /// is the packed one, and a mix of old and new bytes would be worse.
    pub fn read(&mut self, id: u64, offset: u64, out: &mut [u8]) -> Result<usize> {
        use std::os::unix::fs::{FileExt, OpenOptionsExt};
        if self.open.as_ref().is_none_or(|(open, _)| *open != id) {
            self.open = None;
            let file = id
                .checked_sub(1)
                .and_then(|i| self.files.get(i as usize))
                .with_context(|| format!("no remote file {id}"))?;
            let f = fs::OpenOptions::new()
                .read(true)
                .custom_flags(
                    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
                )
                .open(&file.path)
                .with_context(|| format!("{}", file.path.display()))?;
            let meta = f.metadata()?;
            if !meta.is_file() || identity(&meta) != file.identity {
                bail!("{}: replaced since it was packed", file.path.display());
            }
            self.open = Some((id, f));
        }
        let Some((_, f)) = &self.open else {
            bail!("no open remote file");
        };
        let mut done = 0;
        while done < out.len() {
            match f.read_at(&mut out[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(done)
    }
}

/// About how many bytes [`pack_dir`]'s archive of `host` takes (with `lazy_from`,
/// [`pack_dir_lazy`]'s, which leaves out files larger than that): every regular file's
/// size (hard links once) plus a header per entry. Walks the tree without reading any
/// file, so a tree too large to send is refused at once instead of after packing it.
pub fn tree_bytes(host: &Path, lazy_from: Option<u64>) -> Result<u64> {
    fn walk(
        dir: &Path,
        seen: &mut std::collections::HashSet<(u64, u64)>,
        lazy_from: u64,
    ) -> Result<u64> {
        let mut total = 0u64;
        for entry in fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
            let entry = entry.with_context(|| format!("{}", dir.display()))?;
            if entry.file_name().to_str().is_none() {
                continue; // not packed (see `pack_into`)
            }
            let path = entry.path();
            let meta =
                fs::symlink_metadata(&path).with_context(|| format!("{}", path.display()))?;
            total = total.saturating_add(512);
            if meta.is_dir() {
                total = total.saturating_add(walk(&path, seen, lazy_from)?);
            } else if meta.is_file()
                && meta.len() <= lazy_from
                && (meta.nlink() == 1 || seen.insert((meta.dev(), meta.ino())))
            {
                total = total.saturating_add(meta.len());
            }
        }
        Ok(total)
    }
    walk(
        host,
        &mut std::collections::HashSet::new(),
        lazy_from.unwrap_or(u64::MAX),
    )
}

/// Packs the entries of `host_dir` into `dir`; returns how many it packed.
fn pack_into(
    vfs: &mut Vfs,
    dir: Ino,
    host_dir: &Path,
    rel: &str,
    packing: &mut Packing,
) -> Result<usize> {
    let mut packed_here = 0;
    let entries = fs::read_dir(host_dir).with_context(|| format!("{}", host_dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}", host_dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        // WASI cannot name it: the program does not see it (under `wasmtime run`, reading
        // this directory fails with EILSEQ; refusing the whole run was worse), and `apply`
        // leaves it alone.
        let Some(name) = name.to_str() else { continue };
        let meta = fs::symlink_metadata(&path).with_context(|| format!("{}", path.display()))?;
        let mtime_ns = host_mtime_ns(&meta);
        let mtime = Some(mtime_ns);
        let kind = meta.file_type();
        let fs_error = |e: vfs::Error| anyhow!("{}: {e}", path.display());
        let rel_path = rel_join(rel, name);
        if kind.is_dir() {
            let ino = vfs.mkdir(dir, name).map_err(fs_error)?;
            let entries = pack_into(vfs, ino, &path, &rel_path, packing)?;
            vfs.set_times(ino, mtime, mtime).map_err(fs_error)?;
            packing
                .snapshot
                .0
                .insert(rel_path, Packed::Dir { mtime_ns, entries });
            packed_here += 1;
        } else if kind.is_file() {
            if meta.nlink() > 1 {
                if let Some((ino, packed)) = packing.seen.get(&(meta.dev(), meta.ino())) {
                    vfs.link(*ino, dir, name).map_err(fs_error)?;
                    packing.snapshot.0.insert(rel_path, packed.clone());
                    packed_here += 1;
                    continue;
                }
            }
            let packed = match packing.remotes.as_deref_mut() {
                Some(remotes) if meta.len() > Remotes::LAZY_FROM => {
                    let id = remotes.add(&path, &meta);
                    let ino = vfs
                        .create_remote_file(dir, name, id, meta.len())
                        .map_err(fs_error)?;
                    vfs.set_times(ino, mtime, mtime).map_err(fs_error)?;
                    (
                        ino,
                        Packed::File {
                            len: meta.len(),
                            hash: None,
                            mtime_ns,
                        },
                    )
                }
                _ => {
                    let data = fs::read(&path).with_context(|| format!("{}", path.display()))?;
                    let (ino, _) = vfs.create_file(dir, name, true).map_err(fs_error)?;
                    vfs.write_at(ino, 0, &data).map_err(fs_error)?;
                    vfs.set_times(ino, mtime, mtime).map_err(fs_error)?;
                    (
                        ino,
                        Packed::File {
                            len: data.len() as u64,
                            hash: Some(content_hash(&data)),
                            mtime_ns,
                        },
                    )
                }
            };
            let (ino, packed) = packed;
            if meta.nlink() > 1 {
                packing
                    .seen
                    .insert((meta.dev(), meta.ino()), (ino, packed.clone()));
            }
            packing.snapshot.0.insert(rel_path, packed);
            packed_here += 1;
        } else if kind.is_symlink() {
            let target = fs::read_link(&path).with_context(|| format!("{}", path.display()))?;
            let target = target
                .to_str()
                .ok_or_else(|| anyhow!("{}: symlink target is not UTF-8", path.display()))?;
            let ino = vfs.symlink(target, dir, name).map_err(fs_error)?;
            vfs.set_times(ino, mtime, mtime).map_err(fs_error)?;
            packing.snapshot.0.insert(
                rel_path,
                Packed::Symlink {
                    target: target.to_string(),
                },
            );
            packed_here += 1;
        } else if kind.is_char_device() {
            let rdev = meta.rdev();
            let numbers = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
            if let Some(device) = vfs::Device::from_numbers(numbers.0, numbers.1) {
                let ino = vfs.mknod(dir, name, device).map_err(fs_error)?;
                vfs.set_times(ino, mtime, mtime).map_err(fs_error)?;
                packing.snapshot.0.insert(rel_path, Packed::Device);
                packed_here += 1;
            }
        }
        // Sockets, FIFOs, block devices and other character devices have no vfs
        // counterpart: skipped.
    }
    Ok(packed_here)
}

/// Writes into the host directory `host` what the program changed in its copy of the
/// tree: `archive` is the vfs archive of the whole tree after the run, `packed` what
/// [`pack_dir`] packed before it; see the module docs. The archive is parsed completely
/// before anything on the host changes, so a malformed archive changes nothing.
pub fn apply(archive: &[u8], host: &Path, packed: &Snapshot) -> Result<()> {
    let mut vfs = scratch_vfs();
    let root = vfs.root();
    vfs.load_tar(root, archive)
        .context("reading the archive of a --dir tree")?;
    let meta = fs::metadata(host).with_context(|| format!("{}", host.display()))?;
    if !meta.is_dir() {
        bail!("{}: not a directory", host.display());
    }
    let mut sync = Sync {
        vfs: &vfs,
        packed,
        written: HashMap::new(),
    };
    sync.dir(root, host, "")
}

/// Removes whatever `path` is, without following it if it is a symlink.
fn remove_entry(path: &Path, meta: &fs::Metadata) -> Result<()> {
    if meta.file_type().is_dir() {
        // Does not follow symlinks inside (std's remove_dir_all is symlink-safe).
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
    .with_context(|| format!("removing {}", path.display()))
}

/// Removes what was packed at `path` (relative path `rel`), which the program deleted: a
/// file or symlink, or a directory with what was packed in it. What the host added to
/// such a directory meanwhile stays, and so does the directory then.
fn remove_packed(path: &Path, rel: &str, packed: &Snapshot) -> Result<()> {
    let Some(meta) = lstat(path)? else {
        return Ok(()); // gone from the host too
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        for entry in fs::read_dir(path).with_context(|| format!("{}", path.display()))? {
            let entry = entry.with_context(|| format!("{}", path.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let child = rel_join(rel, name);
            if packed.0.contains_key(&child) {
                remove_packed(&entry.path(), &child, packed)?;
            }
        }
        match fs::remove_dir(path) {
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(()),
            other => other.with_context(|| format!("removing {}", path.display())),
        }
    } else if kind.is_file() || kind.is_symlink() {
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))
    } else {
        Ok(()) // sockets, FIFOs, devices: never packed
    }
}

fn set_mtime(path: &Path, mtime_ns: u64) -> Result<()> {
    let when = UNIX_EPOCH + Duration::from_nanos(mtime_ns);
    // Opened read-only: futimens needs ownership, not write access. The path was just
    // checked (or created) as a regular file or directory, never a symlink.
    fs::File::open(path)
        .and_then(|f| f.set_modified(when))
        .with_context(|| format!("setting the mtime of {}", path.display()))
}

fn lstat(path: &Path) -> Result<Option<fs::Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}", path.display())),
    }
}

/// [`apply`]'s walk: the program's tree, what was packed, and the host paths written for
/// files with several names (to link the others to).
struct Sync<'a> {
    vfs: &'a Vfs,
    packed: &'a Snapshot,
    written: HashMap<Ino, PathBuf>,
}

impl Sync<'_> {
    /// Whether the program left the regular file `ino` (at relative path `rel`) as packed:
    /// same content and mtime.
    fn file_unchanged(&self, ino: Ino, rel: &str, mtime_ns: u64) -> Result<bool> {
        let Some(Packed::File {
            len,
            hash,
            mtime_ns: packed_mtime,
        }) = self.packed.0.get(rel)
        else {
            return Ok(false);
        };
        if *packed_mtime != mtime_ns {
            return Ok(false);
        }
        if self.vfs.is_unchanged_marker(ino) {
            return Ok(true);
        }
        let size = self.vfs.metadata(ino)?.size;
        if size != *len {
            return Ok(false);
        }
        let Some(hash) = hash else {
            // A remote file the guest sent whole: it changed it (else a marker came).
            return Ok(false);
        };
        let mut data = vec![0; usize::try_from(size)?];
        let n = self.vfs.read_cached_at(ino, 0, &mut data)?;
        data.truncate(n);
        Ok(content_hash(&data) == *hash)
    }

    /// Whether anything under the directory `dir` (at relative path `rel`) differs from
    /// what was packed there.
    fn subtree_changed(&self, dir: Ino, rel: &str) -> Result<bool> {
        let wanted = self.vfs.read_dir(dir)?;
        let Some(Packed::Dir { entries, .. }) = self.packed.0.get(rel) else {
            return Ok(true);
        };
        if *entries != wanted.len() {
            return Ok(true);
        }
        for entry in &wanted {
            let child = rel_join(rel, &entry.name);
            let meta = self.vfs.metadata(entry.ino)?;
            let same = match (entry.kind, self.packed.0.get(&child)) {
                (FileKind::Directory, Some(Packed::Dir { mtime_ns, .. })) => {
                    *mtime_ns == meta.mtime_ns && !self.subtree_changed(entry.ino, &child)?
                }
                (FileKind::RegularFile, _) => {
                    self.file_unchanged(entry.ino, &child, meta.mtime_ns)?
                }
                (FileKind::Symlink, Some(Packed::Symlink { target })) => {
                    *target == self.vfs.readlink(entry.ino)?
                }
                (FileKind::CharacterDevice, Some(Packed::Device)) => true,
                _ => false,
            };
            if !same {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn dir(&mut self, dir: Ino, host_dir: &Path, rel: &str) -> Result<()> {
        let vfs = self.vfs;
        let wanted = vfs.read_dir(dir)?;
        let wanted_names: std::collections::HashSet<&str> =
            wanted.iter().map(|e| e.name.as_str()).collect();
        let is_wanted = |name: &str| wanted_names.contains(name);
        // Delete what the program deleted: packed, and no longer in its tree. What the
        // host gained meanwhile was never packed, and stays.
        let existing = fs::read_dir(host_dir).with_context(|| format!("{}", host_dir.display()))?;
        for entry in existing {
            let entry = entry.with_context(|| format!("{}", host_dir.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if is_wanted(name) {
                continue;
            }
            let child = rel_join(rel, name);
            if self.packed.0.contains_key(&child) {
                remove_packed(&entry.path(), &child, self.packed)?;
            }
        }
        // Create or update what the program created or changed.
        for entry in &wanted {
            let path = host_dir.join(&entry.name);
            let child = rel_join(rel, &entry.name);
            let was = self.packed.0.get(&child);
            if was == Some(&Packed::Device) {
                continue; // a device's name: never written back
            }
            let existing = lstat(&path)?;
            let meta = vfs.metadata(entry.ino)?;
            match entry.kind {
                // A device given a new name: devices are never created on the host.
                FileKind::CharacterDevice => {}
                FileKind::Directory => {
                    match &existing {
                        Some(m) if m.file_type().is_dir() => {}
                        // Removed or replaced on the host meanwhile, and nothing in it
                        // changed by the program: the host's change stays.
                        _ if matches!(was, Some(Packed::Dir { .. }))
                            && !self.subtree_changed(entry.ino, &child)? =>
                        {
                            continue
                        }
                        other => {
                            if let Some(m) = other {
                                remove_entry(&path, m)?;
                            }
                            fs::create_dir(&path)
                                .with_context(|| format!("creating {}", path.display()))?;
                        }
                    }
                    self.dir(entry.ino, &path, &child)?;
                    // The program's mtime if it changed it (adding or removing entries
                    // does), after the children, whose creation changed the host's.
                    if !matches!(was, Some(Packed::Dir { mtime_ns, .. }) if *mtime_ns == meta.mtime_ns)
                    {
                        let current = lstat(&path)?.map(|m| host_mtime_ns(&m));
                        if current != Some(meta.mtime_ns) {
                            set_mtime(&path, meta.mtime_ns)?;
                        }
                    }
                }
                FileKind::RegularFile => {
                    let host_file = existing.as_ref().is_some_and(|m| m.file_type().is_file());
                    // A new name the program gave an unchanged file is no file the host
                    // removed: it is linked below (`sync_file`).
                    if self.file_unchanged(entry.ino, &child, meta.mtime_ns)?
                        || (vfs.is_unchanged_marker(entry.ino)
                            && !host_file
                            && matches!(was, Some(Packed::File { .. })))
                    {
                        // Untouched by the program (or only its times, for a file the
                        // host removed meanwhile): the host's version, or its absence,
                        // stays. Further names the program gave it link to this one.
                        if meta.nlink > 1 && host_file {
                            self.written.entry(entry.ino).or_insert(path);
                        }
                        continue;
                    }
                    sync_file(
                        vfs,
                        entry.ino,
                        &path,
                        existing.as_ref(),
                        meta.nlink,
                        &mut self.written,
                    )?;
                    let current = lstat(&path)?.map(|m| host_mtime_ns(&m));
                    if current != Some(meta.mtime_ns) {
                        set_mtime(&path, meta.mtime_ns)?;
                    }
                }
                FileKind::Symlink => {
                    let target = vfs.readlink(entry.ino)?;
                    if was
                        == Some(&Packed::Symlink {
                            target: target.clone(),
                        })
                    {
                        continue; // untouched by the program
                    }
                    let same = match &existing {
                        Some(m) if m.file_type().is_symlink() => {
                            fs::read_link(&path).with_context(|| format!("{}", path.display()))?
                                == Path::new(&target)
                        }
                        _ => false,
                    };
                    if !same {
                        if let Some(m) = &existing {
                            remove_entry(&path, m)?;
                        }
                        symlink(&target, &path)
                            .with_context(|| format!("creating symlink {}", path.display()))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Brings the regular file at `path` to the content of `ino`, rewriting it only if the
/// content differs. A file with several names in the archive becomes hard links on the
/// host (to the first path written).
fn sync_file(
    vfs: &Vfs,
    ino: Ino,
    path: &Path,
    existing: Option<&fs::Metadata>,
    nlink: u64,
    written: &mut HashMap<Ino, PathBuf>,
) -> Result<()> {
    if nlink > 1 {
        if let Some(first) = written.get(&ino) {
            let first_meta =
                fs::symlink_metadata(first).with_context(|| format!("{}", first.display()))?;
            if let Some(m) = existing {
                if m.file_type().is_file()
                    && (m.dev(), m.ino()) == (first_meta.dev(), first_meta.ino())
                {
                    return Ok(());
                }
                remove_entry(path, m)?;
            }
            return fs::hard_link(first, path)
                .with_context(|| format!("linking {}", path.display()));
        }
        written.insert(ino, path.to_path_buf());
    }
    if vfs.is_unchanged_marker(ino) {
        // The guest left this file as it loaded it (`Vfs::dump_tar_changes`): keep ours.
        return match existing {
            Some(m) if m.file_type().is_file() => Ok(()),
            _ => bail!(
                "{}: reported unchanged by the guest but no longer a file on the host",
                path.display()
            ),
        };
    }
    let size = vfs.metadata(ino)?.size;
    let mut data = vec![0; usize::try_from(size)?];
    let n = vfs.read_cached_at(ino, 0, &mut data)?;
    data.truncate(n);
    if let Some(m) = existing {
        if m.file_type().is_file() {
            let shared_on_host_only = m.nlink() > 1 && nlink <= 1;
            if !shared_on_host_only
                && m.len() == size
                && fs::read(path).with_context(|| format!("{}", path.display()))? == data
            {
                return Ok(());
            }
            if shared_on_host_only {
                // The guest broke the hard link: write a file of its own rather than
                // through the link into the other names.
                remove_entry(path, m)?;
            }
        } else {
            remove_entry(path, m)?;
        }
    }
    write_sparse(path, &data).with_context(|| format!("writing {}", path.display()))
}

/// Writes `data` to `path` (created or truncated), leaving runs of zeros of
/// [`HOLE_BLOCK`] bytes or more (block aligned) as holes, as `cp --sparse=auto` does: a
/// file the program made sparse (an `ftruncate` to gigabytes, a disk image) stays sparse
/// on the host instead of coming back fully allocated. It reads back the same.
fn write_sparse(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::File::create(path)?;
    let mut at = 0;
    for block in data.chunks(HOLE_BLOCK) {
        if block.len() == HOLE_BLOCK && block.iter().all(|&b| b == 0) {
            at += block.len();
            continue;
        }
        f.seek(SeekFrom::Start(at as u64))?;
        f.write_all(block)?;
        at += block.len();
    }
    f.set_len(data.len() as u64)
}

/// The unit of [`write_sparse`]'s holes (the usual file system block).
const HOLE_BLOCK: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "clew-dirsync-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).expect("temp dir");
            TempDir(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn load(archive: &[u8]) -> Vfs {
        let mut vfs = scratch_vfs();
        let root = vfs.root();
        vfs.load_tar(root, archive).expect("load");
        vfs
    }

    fn write_vfs(vfs: &mut Vfs, path: &str, data: &[u8]) {
        let root = vfs.root();
        let (dir, name) = vfs.resolve_parent(root, path, true).expect("parent");
        let (ino, _) = vfs.create_file(dir, &name, false).expect("create");
        vfs.set_len(ino, 0).expect("truncate");
        vfs.write_at(ino, 0, data).expect("write");
    }

    /// (relative path, kind letter, content or target) of a host tree, sorted.
    fn host_tree(root: &Path) -> Vec<(String, char, Vec<u8>)> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, char, Vec<u8>)>) {
            for entry in fs::read_dir(dir).expect("read_dir") {
                let path = entry.expect("entry").path();
                let rel = path
                    .strip_prefix(root)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                let meta = fs::symlink_metadata(&path).expect("lstat");
                if meta.is_dir() {
                    out.push((rel, 'd', Vec::new()));
                    walk(root, &path, out);
                } else if meta.file_type().is_symlink() {
                    let target = fs::read_link(&path).expect("readlink");
                    out.push((rel, 'l', target.to_string_lossy().into_owned().into_bytes()));
                } else if meta.is_file() {
                    out.push((rel, 'f', fs::read(&path).expect("read")));
                } else {
                    out.push((rel, 's', Vec::new()));
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out.sort();
        out
    }

    fn populate(root: &Path) {
        fs::create_dir_all(root.join("src/deep")).unwrap();
        fs::create_dir(root.join("empty")).unwrap();
        fs::write(root.join("keep.txt"), "unchanged").unwrap();
        fs::write(root.join("modify.txt"), "old content").unwrap();
        fs::write(root.join("rename_me"), "moving").unwrap();
        fs::write(root.join("delete_me"), "bye").unwrap();
        fs::write(root.join("src/deep/code.c"), "int main(){}").unwrap();
        fs::write(root.join("src/gone.c"), "x").unwrap();
        fs::hard_link(root.join("keep.txt"), root.join("keep_link")).unwrap();
        symlink("src/deep/code.c", root.join("sym")).unwrap();
        symlink("nowhere", root.join("dangling")).unwrap();
    }

    #[test]
    fn pack_load_dump_apply_round_trip_with_changes() {
        let host = TempDir::new();
        let root = host.path();
        populate(root);
        let old_mtime = UNIX_EPOCH + Duration::from_nanos(1_600_000_000_123_456_789);
        fs::File::open(root.join("keep.txt"))
            .unwrap()
            .set_modified(old_mtime)
            .unwrap();
        let keep_ino = fs::metadata(root.join("keep.txt")).unwrap().ino();
        let modify_ino = fs::metadata(root.join("modify.txt")).unwrap().ino();

        let (archive, packed) = pack_dir(root).unwrap();
        let mut vfs = load(&archive);
        let vroot = vfs.root();
        // What the guest sees equals the host.
        let keep = vfs.resolve(vroot, "keep.txt", false, true).unwrap();
        assert_eq!(
            vfs.metadata(keep).unwrap().mtime_ns,
            1_600_000_000_123_456_789
        );
        assert_eq!(vfs.lookup(vroot, "keep_link"), Ok(keep));
        let sym = vfs.lookup(vroot, "sym").unwrap();
        assert_eq!(vfs.readlink(sym).unwrap(), "src/deep/code.c");

        // The program: modify, create, rename, delete, replace kinds.
        write_vfs(&mut vfs, "modify.txt", b"new content, longer");
        write_vfs(&mut vfs, "src/new.c", b"fresh");
        vfs.mkdir(vroot, "newdir").unwrap();
        write_vfs(&mut vfs, "newdir/inner", b"inside");
        vfs.rename(vroot, "rename_me", vroot, "renamed").unwrap();
        vfs.unlink(vroot, "delete_me").unwrap();
        let src = vfs.lookup(vroot, "src").unwrap();
        vfs.unlink(src, "gone.c").unwrap();
        vfs.rmdir(vroot, "empty").unwrap();
        write_vfs(&mut vfs, "empty", b"now a file");
        vfs.unlink(vroot, "sym").unwrap();
        vfs.symlink("renamed", vroot, "sym").unwrap();
        vfs.unlink(vroot, "dangling").unwrap();
        vfs.mkdir(vroot, "dangling").unwrap();

        let back = vfs.dump_tar(vroot).unwrap();
        apply(&back, root, &packed).unwrap();

        // The host equals the guest's tree...
        assert_eq!(host_tree(root), host_tree_of_vfs(&vfs));
        assert_eq!(
            fs::read(root.join("modify.txt")).unwrap(),
            b"new content, longer"
        );
        assert_eq!(
            fs::read_link(root.join("sym")).unwrap(),
            Path::new("renamed")
        );
        assert!(!root.join("delete_me").exists());
        assert!(!root.join("rename_me").exists());
        assert!(root.join("dangling").is_dir());
        // ...with minimal changes: untouched files keep inode and mtime, a modified file
        // is rewritten in place.
        let keep_meta = fs::metadata(root.join("keep.txt")).unwrap();
        assert_eq!(keep_meta.ino(), keep_ino);
        assert_eq!(keep_meta.modified().unwrap(), old_mtime);
        assert_eq!(keep_meta.nlink(), 2, "hard link kept");
        assert_eq!(
            fs::metadata(root.join("modify.txt")).unwrap().ino(),
            modify_ino
        );
        // mtimes come from the archive.
        let new_c = vfs.resolve(vroot, "src/new.c", false, true).unwrap();
        assert_eq!(
            host_mtime_ns(&fs::metadata(root.join("src/new.c")).unwrap()),
            vfs.metadata(new_c).unwrap().mtime_ns
        );
        assert_eq!(
            host_mtime_ns(&fs::metadata(root.join("src")).unwrap()),
            vfs.metadata(src).unwrap().mtime_ns
        );

        // Applying the same archive again changes nothing.
        let before: Vec<_> = host_tree(root);
        let modify_mtime = fs::metadata(root.join("modify.txt"))
            .unwrap()
            .modified()
            .unwrap();
        apply(&back, root, &packed).unwrap();
        assert_eq!(host_tree(root), before);
        assert_eq!(
            fs::metadata(root.join("modify.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            modify_mtime
        );
        // And packing the host again gives the guest's tree back.
        assert_eq!(
            host_tree_of_vfs(&load(&pack_dir(root).unwrap().0)),
            host_tree_of_vfs(&vfs)
        );
    }

    /// The vfs tree in the shape of `host_tree`.
    fn host_tree_of_vfs(vfs: &Vfs) -> Vec<(String, char, Vec<u8>)> {
        let mut out = Vec::new();
        let mut pending = vec![(vfs.root(), String::new())];
        while let Some((dir, prefix)) = pending.pop() {
            for e in vfs.read_dir(dir).unwrap() {
                let path = format!("{prefix}{}", e.name);
                match e.kind {
                    FileKind::Directory => {
                        out.push((path.clone(), 'd', Vec::new()));
                        pending.push((e.ino, format!("{path}/")));
                    }
                    FileKind::Symlink => {
                        out.push((path, 'l', vfs.readlink(e.ino).unwrap().into_bytes()))
                    }
                    FileKind::RegularFile => {
                        let size = vfs.metadata(e.ino).unwrap().size as usize;
                        let mut data = vec![0; size];
                        vfs.read_cached_at(e.ino, 0, &mut data).unwrap();
                        out.push((path, 'f', data));
                    }
                    FileKind::CharacterDevice => out.push((path, 'c', Vec::new())),
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn apply_never_follows_symlinks_out_of_the_directory() {
        let outside = TempDir::new();
        fs::write(outside.path().join("secret"), "outside").unwrap();
        fs::create_dir(outside.path().join("sub")).unwrap();
        fs::write(outside.path().join("sub/file"), "outside too").unwrap();
        let host = TempDir::new();
        let root = host.path();
        symlink(outside.path(), root.join("out_dir")).unwrap();
        symlink(outside.path().join("secret"), root.join("out_file")).unwrap();
        symlink(outside.path().join("sub"), root.join("out_gone")).unwrap();
        let (_, packed) = pack_dir(root).unwrap();

        // The guest's tree: a directory and a file where the links were; `out_gone` gone.
        let mut vfs = scratch_vfs();
        let vroot = vfs.root();
        vfs.mkdir(vroot, "out_dir").unwrap();
        write_vfs(&mut vfs, "out_dir/secret", b"overwritten?");
        write_vfs(&mut vfs, "out_file", b"overwritten?");
        apply(&vfs.dump_tar(vroot).unwrap(), root, &packed).unwrap();

        assert_eq!(fs::read(outside.path().join("secret")).unwrap(), b"outside");
        assert_eq!(
            fs::read(outside.path().join("sub/file")).unwrap(),
            b"outside too"
        );
        assert!(fs::symlink_metadata(root.join("out_dir")).unwrap().is_dir());
        assert!(fs::symlink_metadata(root.join("out_file"))
            .unwrap()
            .is_file());
        assert!(!root.join("out_gone").exists());
        assert_eq!(fs::read(root.join("out_file")).unwrap(), b"overwritten?");
    }

    #[test]
    fn pack_preserves_symlinks_to_outside_verbatim_without_following() {
        let outside = TempDir::new();
        fs::write(outside.path().join("big"), vec![7u8; 10_000]).unwrap();
        let host = TempDir::new();
        symlink(outside.path(), host.path().join("escape")).unwrap();
        let vfs = load(&pack_dir(host.path()).unwrap().0);
        let link = vfs.lookup(vfs.root(), "escape").unwrap();
        assert_eq!(
            vfs.readlink(link).unwrap(),
            outside.path().to_str().unwrap()
        );
        // Resolving it confined, as WASI does, is refused.
        assert_eq!(
            vfs.resolve(vfs.root(), "escape/big", true, true),
            Err(vfs::Error::Escape)
        );
    }

    #[test]
    fn special_files_are_skipped_and_left_alone() {
        let host = TempDir::new();
        let sock = host.path().join("sock");
        let _listener = UnixListener::bind(&sock).unwrap();
        fs::write(host.path().join("f"), "x").unwrap();
        let (archive, packed) = pack_dir(host.path()).unwrap();
        let vfs = load(&archive);
        assert_eq!(vfs.lookup(vfs.root(), "sock"), Err(vfs::Error::NotFound));
        apply(&archive, host.path(), &packed).unwrap();
        assert!(fs::symlink_metadata(&sock).is_ok());
    }

    #[test]
    fn tree_bytes_counts_what_the_archive_will_hold() {
        let t = TempDir::new();
        let root = t.path();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("a"), vec![1u8; 1000]).unwrap();
        fs::hard_link(root.join("a"), root.join("sub/a-again")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        // A sparse file is sent whole (zeros included), so its size counts.
        fs::File::create(root.join("sparse"))
            .unwrap()
            .set_len(3 << 30)
            .unwrap();
        // Five entries; the hard-linked data once; the symlink's target not followed.
        assert_eq!(tree_bytes(root, None).unwrap(), 5 * 512 + 1000 + (3 << 30));
        // Lazily, the 3 GiB file is a header; the 1000-byte one is packed.
        assert_eq!(tree_bytes(root, Some(4096)).unwrap(), 5 * 512 + 1000);
        assert!(tree_bytes(&root.join("missing"), None).is_err());
    }

    #[test]
    fn names_that_are_not_utf8_are_skipped_and_left_alone() {
        use std::os::unix::ffi::OsStrExt;
        let host = TempDir::new();
        let bad = host
            .path()
            .join(std::ffi::OsStr::from_bytes(b"bad\xff.bin"));
        fs::write(&bad, "kept").unwrap();
        fs::write(host.path().join("f"), "x").unwrap();
        let (archive, packed) = pack_dir(host.path()).unwrap();
        let mut vfs = load(&archive);
        let root = vfs.root();
        assert_eq!(vfs.read_dir(root).unwrap().len(), 1);
        vfs.unlink(root, "f").unwrap();
        apply(&vfs.dump_tar(root).unwrap(), host.path(), &packed).unwrap();
        assert_eq!(fs::read(&bad).unwrap(), b"kept");
        assert!(!host.path().join("f").exists());
    }

    #[test]
    fn broken_hard_link_in_the_guest_is_broken_on_the_host() {
        let host = TempDir::new();
        let root = host.path();
        fs::write(root.join("a"), "shared").unwrap();
        fs::hard_link(root.join("a"), root.join("b")).unwrap();
        let (archive, packed) = pack_dir(root).unwrap();
        let mut vfs = load(&archive);
        let vroot = vfs.root();
        vfs.unlink(vroot, "b").unwrap();
        write_vfs(&mut vfs, "b", b"separate");
        apply(&vfs.dump_tar(vroot).unwrap(), root, &packed).unwrap();
        assert_eq!(fs::read(root.join("a")).unwrap(), b"shared");
        assert_eq!(fs::read(root.join("b")).unwrap(), b"separate");
        // And a new hard link made in the guest is one on the host.
        let (archive, packed) = pack_dir(root).unwrap();
        let mut vfs = load(&archive);
        let vroot = vfs.root();
        let a = vfs.lookup(vroot, "a").unwrap();
        vfs.link(a, vroot, "c").unwrap();
        apply(&vfs.dump_tar(vroot).unwrap(), root, &packed).unwrap();
        assert_eq!(
            fs::metadata(root.join("a")).unwrap().ino(),
            fs::metadata(root.join("c")).unwrap().ino()
        );
    }

    #[test]
    fn errors_for_bad_inputs_change_nothing() {
        let host = TempDir::new();
        fs::write(host.path().join("f"), "x").unwrap();
        assert!(pack_dir(&host.path().join("f")).is_err());
        assert!(pack_dir(&host.path().join("missing")).is_err());
        let (_, packed) = pack_dir(host.path()).unwrap();
        assert!(apply(b"garbage", host.path(), &packed).is_err());
        let empty_archive = vec![0u8; 1024];
        assert!(apply(&empty_archive, &host.path().join("f"), &packed).is_err());
        assert_eq!(fs::read(host.path().join("f")).unwrap(), b"x");
        // A valid empty archive: the program deleted everything.
        apply(&empty_archive, host.path(), &packed).unwrap();
        assert!(fs::read_dir(host.path()).unwrap().next().is_none());
    }

    #[test]
    fn files_the_program_left_sparse_stay_sparse() {
        let host = TempDir::new();
        let root = host.path();
        let (archive, packed) = pack_dir(root).unwrap();
        let mut vfs = load(&archive);
        // 4 MiB of which 8 KiB (at 1 MiB and at the end, unaligned) hold data.
        let vroot = vfs.root();
        let (ino, _) = vfs.create_file(vroot, "image", false).unwrap();
        vfs.set_len(ino, 4 << 20).unwrap();
        vfs.write_at(ino, 1 << 20, &[7u8; 4096]).unwrap();
        vfs.write_at(ino, (4 << 20) - 4000, &[9u8; 4000]).unwrap();
        apply(&vfs.dump_tar_changes(vroot).unwrap(), root, &packed).unwrap();
        let path = root.join("image");
        let mut want = vec![0u8; 4 << 20];
        want[1 << 20..(1 << 20) + 4096].fill(7);
        want[(4 << 20) - 4000..].fill(9);
        assert!(fs::read(&path).unwrap() == want, "content differs");
        let allocated = fs::metadata(&path).unwrap().blocks() * 512;
        assert!(allocated < 1 << 20, "{allocated} bytes allocated");
    }

    #[test]
    fn changes_made_on_the_host_during_the_run_survive() {
        let host = TempDir::new();
        let root = host.path();
        fs::write(root.join("edited_by_program"), "before").unwrap();
        fs::write(root.join("deleted_by_program"), "x").unwrap();
        fs::write(root.join("deleted_on_host"), "x").unwrap();
        fs::write(root.join("edited_on_host"), "before").unwrap();
        fs::write(root.join("edited_by_both"), "before").unwrap();
        fs::write(root.join("big_deleted_on_host"), vec![5u8; 64 * 1024]).unwrap();
        fs::create_dir_all(root.join("doomed/sub")).unwrap();
        fs::write(root.join("doomed/sub/packed"), "x").unwrap();
        fs::create_dir(root.join("dir_deleted_on_host")).unwrap();
        fs::write(root.join("dir_deleted_on_host/f"), "x").unwrap();
        symlink("edited_on_host", root.join("link")).unwrap();

        let mut vfs = scratch_vfs();
        let vroot = vfs.root();
        let under = vfs.mkdir(vroot, "dirs").unwrap();
        let (archive, packed) = pack_dir(root).unwrap();
        vfs.load_tar(under, &archive).unwrap();
        // The program.
        let edit = |vfs: &mut Vfs, name: &str, data: &[u8]| {
            let ino = vfs.resolve(under, name, true, true).unwrap();
            vfs.set_len(ino, 0).unwrap();
            vfs.write_at(ino, 0, data).unwrap();
        };
        edit(&mut vfs, "edited_by_program", b"program");
        edit(&mut vfs, "edited_by_both", b"program");
        vfs.unlink(under, "deleted_by_program").unwrap();
        let doomed = vfs.lookup(under, "doomed").unwrap();
        let sub = vfs.lookup(doomed, "sub").unwrap();
        vfs.unlink(sub, "packed").unwrap();
        vfs.rmdir(doomed, "sub").unwrap();
        vfs.rmdir(under, "doomed").unwrap();
        vfs.create_file(under, "created_by_program", false).unwrap();
        // Meanwhile, on the host.
        fs::write(root.join("created_on_host"), "host").unwrap();
        fs::remove_file(root.join("deleted_on_host")).unwrap();
        fs::remove_file(root.join("big_deleted_on_host")).unwrap();
        fs::remove_dir_all(root.join("dir_deleted_on_host")).unwrap();
        fs::write(root.join("edited_on_host"), "host").unwrap();
        fs::write(root.join("edited_by_both"), "host").unwrap();
        fs::write(root.join("doomed/sub/added_on_host"), "host").unwrap();
        fs::remove_file(root.join("link")).unwrap();
        symlink("changed_on_host", root.join("link")).unwrap();

        apply(&vfs.dump_tar_changes(under).unwrap(), root, &packed).unwrap();
        let read = |name: &str| fs::read_to_string(root.join(name)).ok();
        // The program's changes arrive...
        assert_eq!(read("edited_by_program").as_deref(), Some("program"));
        assert_eq!(read("edited_by_both").as_deref(), Some("program"));
        assert_eq!(read("created_by_program").as_deref(), Some(""));
        assert!(!root.join("deleted_by_program").exists());
        assert!(!root.join("doomed/sub/packed").exists());
        // ...and the host's stay.
        assert_eq!(read("created_on_host").as_deref(), Some("host"));
        assert_eq!(read("edited_on_host").as_deref(), Some("host"));
        assert!(!root.join("deleted_on_host").exists());
        assert!(!root.join("big_deleted_on_host").exists());
        assert!(!root.join("dir_deleted_on_host").exists());
        assert_eq!(read("doomed/sub/added_on_host").as_deref(), Some("host"));
        assert_eq!(
            fs::read_link(root.join("link")).unwrap(),
            Path::new("changed_on_host")
        );
    }

    #[test]
    fn unchanged_files_come_back_as_markers_and_stay_untouched() {
        let host = TempDir::new();
        let root = host.path();
        fs::create_dir(root.join("data")).unwrap();
        fs::write(root.join("data/big.bin"), vec![3u8; 256 * 1024]).unwrap();
        fs::write(root.join("edit.bin"), vec![1u8; 8192]).unwrap();
        let big_ino = fs::metadata(root.join("data/big.bin")).unwrap().ino();
        let big_mtime = fs::metadata(root.join("data/big.bin"))
            .unwrap()
            .modified()
            .unwrap();

        // As in the guest: the tree is loaded below the root, then dumped from there.
        let mut vfs = scratch_vfs();
        let vroot = vfs.root();
        let under = vfs.mkdir(vroot, "dirs").unwrap();
        let (archive, packed) = pack_dir(root).unwrap();
        vfs.load_tar(under, &archive).unwrap();
        let edit = vfs.resolve(under, "edit.bin", true, true).unwrap();
        vfs.write_at(edit, 0, b"changed").unwrap();
        let changes = vfs.dump_tar_changes(under).unwrap();
        assert!(changes.len() < 64 * 1024, "the big file was resent");

        apply(&changes, root, &packed).unwrap();
        let meta = fs::metadata(root.join("data/big.bin")).unwrap();
        assert_eq!((meta.ino(), meta.modified().unwrap()), (big_ino, big_mtime));
        assert_eq!(
            fs::read(root.join("data/big.bin")).unwrap(),
            vec![3u8; 256 * 1024]
        );
        assert_eq!(&fs::read(root.join("edit.bin")).unwrap()[..7], b"changed");
    }

    /// The guest's side of remote files, on the host: fetches through [`Remotes::read`].
    struct HostFetch(std::sync::Arc<std::sync::Mutex<Remotes>>);

    impl vfs::Fetcher for HostFetch {
        fn fetch(
            &mut self,
            id: u64,
            offset: u64,
            bufs: &mut [Vec<u8>],
        ) -> Result<(), vfs::FetchFailed> {
            let mut remotes = self.0.lock().unwrap();
            let mut at = offset;
            for buf in bufs {
                remotes.read(id, at, buf).map_err(|_| vfs::FetchFailed)?;
                at += buf.len() as u64;
            }
            Ok(())
        }
    }

    #[test]
    fn large_files_stay_on_the_host_until_read_and_changes_come_back() {
        let host = TempDir::new();
        let root = host.path();
        let big = |seed: u8| -> Vec<u8> {
            (0..300_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 ^ seed)
                .collect()
        };
        for (i, name) in ["append", "move", "cut", "gone", "patch", "keep", "replaced"]
            .iter()
            .enumerate()
        {
            fs::write(root.join(name), big(i as u8)).unwrap();
        }
        fs::write(root.join("small"), b"small stays in the archive").unwrap();
        let original = |name: &str| {
            big(["append", "move", "cut", "gone", "patch", "keep"]
                .iter()
                .position(|n| *n == name)
                .unwrap() as u8)
        };
        let keep_ino = fs::metadata(root.join("keep")).unwrap().ino();

        let mut remotes = Remotes::default();
        let (archive, packed) = pack_dir_lazy(root, &mut remotes).unwrap();
        assert!(
            archive.len() < 64 * 1024,
            "contents were packed: {}",
            archive.len()
        );
        assert_eq!(remotes.total_bytes(), 7 * 300_000);
        let remotes = std::sync::Arc::new(std::sync::Mutex::new(remotes));

        let mut vfs = scratch_vfs();
        let vroot = vfs.root();
        let under = vfs.mkdir(vroot, "dirs").unwrap();
        vfs.load_tar(under, &archive).unwrap();
        vfs.set_fetcher(Box::new(HostFetch(remotes.clone())));
        let at = |vfs: &Vfs, name: &str| vfs.resolve(under, name, true, true).unwrap();
        // The program: reads one whole, changes the others in every way.
        let keep = at(&vfs, "keep");
        let mut buf = vec![0; 300_000];
        assert_eq!(vfs.read_at(keep, 0, &mut buf).unwrap(), 300_000);
        assert_eq!(buf, original("keep"));
        let append = at(&vfs, "append");
        vfs.write_at(append, 300_000, b"appended").unwrap();
        vfs.rename(under, "move", under, "moved").unwrap();
        vfs.set_len(at(&vfs, "cut"), 10).unwrap();
        vfs.unlink(under, "gone").unwrap();
        vfs.write_at(at(&vfs, "patch"), 70_000, b"PATCH").unwrap();
        vfs.link(keep, under, "keep-link").unwrap();
        // One the host replaced after packing: its bytes are refused (EIO).
        fs::remove_file(root.join("replaced")).unwrap();
        fs::write(root.join("replaced"), b"new").unwrap();
        let replaced = at(&vfs, "replaced");
        assert_eq!(vfs.read_at(replaced, 0, &mut buf), Err(vfs::Error::Io));

        vfs.fetch_for_dump(under).unwrap();
        let changes = vfs.dump_tar_changes(under).unwrap();
        // The moved file goes back whole; the others that changed too; not `keep`.
        assert!(changes.len() < 4 * 300_000 + 64 * 1024, "{}", changes.len());
        apply(&changes, root, &packed).unwrap();

        let read = |name: &str| fs::read(root.join(name)).unwrap();
        let mut appended = original("append");
        appended.extend_from_slice(b"appended");
        assert_eq!(read("append"), appended);
        assert_eq!(read("moved"), original("move"));
        assert!(!root.join("move").exists());
        assert_eq!(read("cut"), &original("cut")[..10]);
        assert!(!root.join("gone").exists());
        let mut patched = original("patch");
        patched[70_000..70_005].copy_from_slice(b"PATCH");
        assert_eq!(read("patch"), patched);
        // Untouched, and its new name is a link to it.
        assert_eq!(fs::metadata(root.join("keep")).unwrap().ino(), keep_ino);
        assert_eq!(
            fs::metadata(root.join("keep-link")).unwrap().ino(),
            keep_ino
        );
        assert_eq!(read("replaced"), b"new");
        assert_eq!(read("small"), b"small stays in the archive");
    }
}
