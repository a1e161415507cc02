//! The inode tree: nodes, link and open counts, space accounting and every operation that
//! changes the tree. Path walking lives in `path`, the archive format in `tar`.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::filedata::FileData;
use crate::{Error, Result};

/// An inode number, unique within one [`Vfs`] and never reused.
pub type Ino = u64;

/// The time source: "now" in nanoseconds since the Unix epoch.
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

/// Longest path component, in bytes (POSIX `NAME_MAX` on Linux).
pub const MAX_NAME_LEN: usize = 255;
/// Longest symlink target, in bytes (Linux `PATH_MAX` minus the NUL).
pub const MAX_SYMLINK_TARGET_LEN: usize = 4095;
/// Symlink expansions allowed in one resolution (Linux `MAXSYMLINKS`).
pub const MAX_SYMLINKS: u32 = 40;
/// Largest file size, in bytes (the largest `off_t`).
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;
/// Default total size limit of a [`Vfs`] ([`Vfs::set_limit_bytes`]), in bytes.
pub const DEFAULT_LIMIT_BYTES: u64 = 1 << 30;

/// Bytes charged against the size limit per inode, per directory (besides its inode) and
/// per directory entry (plus the name), so that creating empty files cannot exhaust memory
/// uncounted. They are what the tree really takes from a heap like the kernel's, measured by
/// `tests/charge.rs` (which fails if the charge falls below it): an inode is an entry of
/// the inode map, whose B-tree nodes sequential inode numbers leave about half full (about
/// 285 bytes with its name's entry); a directory's entries live in a B-tree leaf of their
/// own (about 370 bytes from the first entry on); a name is a B-tree entry plus its string.
const NODE_COST: u64 = 256;
const DIR_COST: u64 = 384;
const ENTRY_COST: u64 = 80;

/// Device numbers: each `Vfs` gets its own, so `(dev, ino)` identifies a file.
static NEXT_DEV: AtomicU64 = AtomicU64::new(1);

/// The kind of an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A regular file.
    RegularFile,
    /// A symbolic link.
    Symlink,
    /// A character device ([`Device`]).
    CharacterDevice,
}

/// A character device a tree may hold: Linux's memory devices (major 1 in the kernel's
/// `Documentation/admin-guide/devices.txt`), which need no hardware behind them, so that
/// a program given the host's `/dev` (`--dir /dev::/dev`) can read `/dev/urandom` and
/// write `/dev/null` as under `wasmtime run`. Their bytes are not the filesystem's: the
/// WASI layer reads and writes them (`Vfs::device` tells which); for the filesystem they
/// are empty and cannot be resized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// `/dev/null`: reads end at once, writes vanish.
    Null,
    /// `/dev/zero`: reads give zeros, writes vanish.
    Zero,
    /// `/dev/full`: reads give zeros, writes fail with ENOSPC.
    Full,
    /// `/dev/random`: reads give random bytes, writes vanish.
    Random,
    /// `/dev/urandom`: as `Random` (Linux has them alike since 5.6).
    Urandom,
}

impl Device {
    /// The device with these Linux device numbers, if it is one of these.
    pub fn from_numbers(major: u32, minor: u32) -> Option<Device> {
        match (major, minor) {
            (1, 3) => Some(Device::Null),
            (1, 5) => Some(Device::Zero),
            (1, 7) => Some(Device::Full),
            (1, 8) => Some(Device::Random),
            (1, 9) => Some(Device::Urandom),
            _ => None,
        }
    }

    /// Its Linux device numbers (major, minor).
    pub fn numbers(self) -> (u32, u32) {
        match self {
            Device::Null => (1, 3),
            Device::Zero => (1, 5),
            Device::Full => (1, 7),
            Device::Random => (1, 8),
            Device::Urandom => (1, 9),
        }
    }
}

/// What `stat` reports about an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Device number of the [`Vfs`].
    pub dev: u64,
    /// Inode number.
    pub ino: Ino,
    /// Kind of the inode.
    pub kind: FileKind,
    /// Hard links: for a directory 2 + its subdirectories (0 once removed), as in POSIX
    /// file systems; for others the number of names (0 once unlinked while open).
    pub nlink: u64,
    /// Bytes of a file, length of a symlink target, number of entries of a directory.
    pub size: u64,
    /// Last access (ns since the Unix epoch); only `set_times` changes it.
    pub atime_ns: u64,
    /// Last data modification.
    pub mtime_ns: u64,
    /// Last status change.
    pub ctime_ns: u64,
}

/// One directory entry as [`Vfs::read_dir`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (never `.` or `..`).
    pub name: String,
    /// The inode it names.
    pub ino: Ino,
    /// The inode's kind.
    pub kind: FileKind,
}

pub(crate) enum Body {
    Dir {
        entries: BTreeMap<String, Ino>,
        /// The one directory holding this one (directories cannot be hard-linked).
        parent: Ino,
    },
    File(FileData),
    Symlink(String),
    Device(Device),
}

pub(crate) struct Node {
    pub(crate) body: Body,
    /// Names of a file or symlink; 1 for a live directory, 0 for a removed one.
    pub(crate) nlink: u64,
    /// Open file descriptions holding the inode ([`Vfs::retain`]).
    open: u64,
    atime: u64,
    mtime: u64,
    ctime: u64,
    /// For a regular file loaded from an archive and not written since: its path from the
    /// root at load time (see [`Vfs::dump_tar_changes`]). Cleared by any content change.
    pub(crate) origin: Option<Box<str>>,
    /// The file came from an archive entry marked unchanged (no content was sent).
    pub(crate) unchanged_marker: bool,
}

impl Node {
    fn kind(&self) -> FileKind {
        match self.body {
            Body::Dir { .. } => FileKind::Directory,
            Body::File(_) => FileKind::RegularFile,
            Body::Symlink(_) => FileKind::Symlink,
            Body::Device(_) => FileKind::CharacterDevice,
        }
    }

    /// Bytes charged for this node besides its directory entries.
    fn cost(&self) -> u64 {
        NODE_COST
            + match &self.body {
                Body::Dir { .. } => DIR_COST,
                Body::File(data) => data.stored(),
                Body::Symlink(target) => target.len() as u64,
                Body::Device(_) => 0,
            }
    }
}

/// One name as the name-taking operations accept it: `.`, `..`, or a normal component.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name<'a> {
    Dot,
    DotDot,
    Normal(&'a str),
}

/// Splits a name argument into the component and whether it carried a trailing slash
/// (which demands a directory). See the crate docs, "Paths".
pub(crate) fn parse_name(name: &str) -> Result<(Name<'_>, bool)> {
    let (component, trailing_slash) = match name.strip_suffix('/') {
        Some(stripped) => (stripped, true),
        None => (name, false),
    };
    if component.is_empty() {
        // "" is ENOENT for every POSIX path call.
        return Err(Error::NotFound);
    }
    if component.contains('/') || component.contains('\0') {
        return Err(Error::Invalid);
    }
    if component.len() > MAX_NAME_LEN {
        return Err(Error::NameTooLong);
    }
    Ok((
        match component {
            "." => Name::Dot,
            ".." => Name::DotDot,
            normal => Name::Normal(normal),
        },
        trailing_slash,
    ))
}

fn entry_cost(name: &str) -> u64 {
    ENTRY_COST + name.len() as u64
}

/// The filesystem: every inode, the root, the device number, the clock and the space limit.
pub struct Vfs {
    pub(crate) nodes: BTreeMap<Ino, Node>,
    next_ino: Ino,
    root: Ino,
    dev: u64,
    clock: Clock,
    used_bytes: u64,
    limit_bytes: u64,
    /// Reads remote files' bytes ([`Vfs::set_fetcher`]); without one they fail with Io.
    pub(crate) fetcher: Option<Box<dyn crate::Fetcher>>,
    /// Remote files whose fetched bytes must stay ([`Vfs::fetch_for_dump`]).
    pub(crate) pinned: Vec<Ino>,
    /// A name was renamed, linked or unlinked since the tree was loaded: files may no
    /// longer be at the path they were loaded from ([`Vfs::fetch_for_dump`] then looks).
    pub(crate) names_changed: bool,
}

impl core::fmt::Debug for Vfs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Vfs")
            .field("dev", &self.dev)
            .field("inodes", &self.nodes.len())
            .field("used_bytes", &self.used_bytes)
            .field("limit_bytes", &self.limit_bytes)
            .finish()
    }
}

impl Vfs {
    /// An empty filesystem (just the root directory) with a fresh device number, the given
    /// clock and the default size limit.
    pub fn new(clock: Clock) -> Vfs {
        let now = clock();
        let root: Ino = 1;
        let mut nodes = BTreeMap::new();
        nodes.insert(
            root,
            Node {
                body: Body::Dir {
                    entries: BTreeMap::new(),
                    parent: root,
                },
                nlink: 1,
                // The root can never be freed: it has no name that could be removed, and
                // this extra hold documents that.
                open: 1,
                atime: now,
                mtime: now,
                ctime: now,
                origin: None,
                unchanged_marker: false,
            },
        );
        Vfs {
            nodes,
            next_ino: root + 1,
            root,
            dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed),
            clock,
            used_bytes: NODE_COST + DIR_COST,
            limit_bytes: DEFAULT_LIMIT_BYTES,
            fetcher: None,
            pinned: Vec::new(),
            names_changed: false,
        }
    }

    /// The root directory.
    pub fn root(&self) -> Ino {
        self.root
    }

    /// The device number reported in [`Metadata::dev`].
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// Sets the total size limit (file data, symlink targets, names and a fixed cost per
    /// inode). Lowering it below the current use only makes further growth fail.
    pub fn set_limit_bytes(&mut self, limit_bytes: u64) {
        self.limit_bytes = limit_bytes;
    }

    /// The current size limit.
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// Bytes charged against the limit now.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    /// Number of live inodes (including the root, and unlinked-but-open ones).
    pub fn inode_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }

    // ----- internal helpers -------------------------------------------------------------

    /// Whether regular file `ino` came from an archive entry that said "unchanged" instead
    /// of carrying its content (written by [`Vfs::dump_tar_changes`]): the receiver keeps
    /// its own copy of the file.
    pub fn is_unchanged_marker(&self, ino: Ino) -> bool {
        self.nodes.get(&ino).is_some_and(|n| n.unchanged_marker)
    }

    /// The path of directory `dir` from the root as a prefix: `""` for the root, else
    /// `"a/b/"`. Found by walking up the parents (each directory has exactly one).
    pub(crate) fn dir_prefix(&self, dir: Ino) -> Result<String> {
        let mut names = Vec::new();
        let mut current = dir;
        while current != self.root {
            let parent = self.parent(current)?;
            if parent == current {
                // A removed directory: it has no path.
                return Err(Error::NotFound);
            }
            let name = self
                .entries(parent)?
                .iter()
                .find(|(_, &ino)| ino == current)
                .map(|(name, _)| name.clone())
                .ok_or(Error::NotFound)?;
            names.push(name);
            current = parent;
        }
        let mut prefix = String::new();
        for name in names.iter().rev() {
            prefix.push_str(name);
            prefix.push('/');
        }
        Ok(prefix)
    }

    pub(crate) fn node(&self, ino: Ino) -> Result<&Node> {
        self.nodes.get(&ino).ok_or(Error::NotFound)
    }

    pub(crate) fn node_mut(&mut self, ino: Ino) -> Result<&mut Node> {
        self.nodes.get_mut(&ino).ok_or(Error::NotFound)
    }

    /// The entries of directory `ino` (NotDir for any other kind).
    pub(crate) fn entries(&self, ino: Ino) -> Result<&BTreeMap<String, Ino>> {
        match &self.node(ino)?.body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(Error::NotDir),
        }
    }

    fn entries_mut(&mut self, ino: Ino) -> Result<&mut BTreeMap<String, Ino>> {
        match &mut self.node_mut(ino)?.body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(Error::NotDir),
        }
    }

    /// A directory that may receive new entries: removed directories refuse them with
    /// ENOENT, as Linux does for creating inside a deleted cwd.
    fn check_live_dir(&self, dir: Ino) -> Result<()> {
        let node = self.node(dir)?;
        match node.body {
            Body::Dir { .. } if node.nlink > 0 => Ok(()),
            Body::Dir { .. } => Err(Error::NotFound),
            _ => Err(Error::NotDir),
        }
    }

    pub(crate) fn charge(&mut self, bytes: u64) -> Result<()> {
        match self.used_bytes.checked_add(bytes) {
            Some(total) if total <= self.limit_bytes => {
                self.used_bytes = total;
                Ok(())
            }
            _ => Err(Error::NoSpace),
        }
    }

    pub(crate) fn uncharge(&mut self, bytes: u64) {
        self.used_bytes = self.used_bytes.saturating_sub(bytes);
    }

    pub(crate) fn kind_of(&self, ino: Ino) -> Result<FileKind> {
        Ok(self.node(ino)?.kind())
    }

    fn is_empty_dir(&self, ino: Ino) -> Result<bool> {
        Ok(self.entries(ino)?.is_empty())
    }

    /// Sets mtime and ctime of a directory whose entries changed (POSIX: "shall mark for
    /// update the last data modification and last file status change timestamps of the
    /// parent directory").
    fn touch_dir(&mut self, dir: Ino, now: u64) {
        if let Some(node) = self.nodes.get_mut(&dir) {
            node.mtime = now;
            node.ctime = now;
        }
    }

    fn touch_ctime(&mut self, ino: Ino, now: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.ctime = now;
        }
    }

    /// Creates a node named `name` in live directory `dir` (the caller checked that `name`
    /// is free and normal).
    fn new_node(&mut self, dir: Ino, name: &str, body: Body) -> Result<Ino> {
        let now = self.now();
        let node = Node {
            body,
            nlink: 1,
            open: 0,
            atime: now,
            mtime: now,
            ctime: now,
            origin: None,
            unchanged_marker: false,
        };
        self.charge(node.cost() + entry_cost(name))?;
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        self.touch_dir(dir, now);
        Ok(ino)
    }

    /// Frees `ino` if nothing names it and nothing holds it open.
    fn maybe_free(&mut self, ino: Ino) {
        let free = matches!(self.nodes.get(&ino), Some(n) if n.nlink == 0 && n.open == 0);
        if free {
            if let Some(node) = self.nodes.remove(&ino) {
                self.uncharge(node.cost());
            }
        }
    }

    /// Removes entry `name` of `dir` naming `ino` and drops one link of `ino`.
    fn drop_entry(&mut self, dir: Ino, name: &str, ino: Ino, now: u64) -> Result<()> {
        self.entries_mut(dir)?.remove(name);
        self.uncharge(entry_cost(name));
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.nlink = match node.body {
                // A removed directory has no links at all (its `.` and the parent's entry
                // both went away).
                Body::Dir { .. } => 0,
                _ => node.nlink.saturating_sub(1),
            };
            node.ctime = now;
        }
        self.maybe_free(ino);
        Ok(())
    }

    // ----- lookups and metadata ---------------------------------------------------------

    /// Looks up one name in directory `dir` without following symlinks. `.` is `dir`, `..`
    /// its parent; a trailing slash requires the result to be a directory (a symlink to one
    /// is NotDir here: use [`Vfs::resolve`] to follow).
    pub fn lookup(&self, dir: Ino, name: &str) -> Result<Ino> {
        let (name, must_be_dir) = parse_name(name)?;
        let entries = self.entries(dir)?;
        let ino = match name {
            Name::Dot => dir,
            Name::DotDot => self.parent(dir)?,
            Name::Normal(name) => *entries.get(name).ok_or(Error::NotFound)?,
        };
        if must_be_dir && self.kind_of(ino)? != FileKind::Directory {
            return Err(Error::NotDir);
        }
        Ok(ino)
    }

    /// The parent of directory `dir` (the root is its own parent; a removed directory is
    /// reported as its own parent, since its old parent may be gone). WASI uses it to
    /// synthesize the `..` entry of `fd_readdir`.
    pub fn parent(&self, dir: Ino) -> Result<Ino> {
        let node = self.node(dir)?;
        match node.body {
            Body::Dir { parent, .. } if node.nlink > 0 => Ok(parent),
            Body::Dir { .. } => Ok(dir),
            _ => Err(Error::NotDir),
        }
    }

    /// `stat` of an inode.
    pub fn metadata(&self, ino: Ino) -> Result<Metadata> {
        let node = self.node(ino)?;
        let (nlink, size) = match &node.body {
            Body::Dir { entries, .. } => {
                let nlink = if node.nlink == 0 {
                    0
                } else {
                    let subdirs = entries
                        .values()
                        .filter(|&&child| matches!(self.kind_of(child), Ok(FileKind::Directory)))
                        .count() as u64;
                    2 + subdirs
                };
                (nlink, entries.len() as u64)
            }
            Body::File(data) => (node.nlink, data.len()),
            Body::Symlink(target) => (node.nlink, target.len() as u64),
            Body::Device(_) => (node.nlink, 0),
        };
        Ok(Metadata {
            dev: self.dev,
            ino,
            kind: node.kind(),
            nlink,
            size,
            atime_ns: node.atime,
            mtime_ns: node.mtime,
            ctime_ns: node.ctime,
        })
    }

    /// The entries of directory `dir` without `.` and `..` (see [`Vfs::parent`]), in the
    /// order their inodes were created (names of one inode by name): a stable order, so
    /// WASI `fd_readdir` cookies can be indexes, in which a new entry comes last and a
    /// renamed one keeps its place. A tree loaded from an archive is in the archive's
    /// order, and `clew` packs a host directory in the host's own `readdir` order: a
    /// program lists a `--dir` as it would under `wasmtime run`, which reads the host's.
    pub fn read_dir(&self, dir: Ino) -> Result<Vec<DirEntry>> {
        let entries = self.entries(dir)?;
        let mut out = Vec::new();
        out.try_reserve(entries.len()).map_err(|_| Error::NoSpace)?;
        for (name, &ino) in entries {
            out.push(DirEntry {
                name: name.clone(),
                ino,
                kind: self.kind_of(ino)?,
            });
        }
        // Stable: names of one inode (hard links) stay in name order.
        out.sort_by_key(|e| e.ino);
        Ok(out)
    }

    /// Which device `ino` is, if it is one.
    pub fn device(&self, ino: Ino) -> Result<Option<Device>> {
        Ok(match self.node(ino)?.body {
            Body::Device(d) => Some(d),
            _ => None,
        })
    }

    /// Creates device node `name` in `dir` (as `mknod(2)`; existing names give Exists).
    pub fn mknod(&mut self, dir: Ino, name: &str, device: Device) -> Result<Ino> {
        let (name, trailing_slash) = parse_name(name)?;
        self.check_live_dir(dir)?;
        let name = self.free_name(dir, name, trailing_slash)?;
        self.new_node(dir, name, Body::Device(device))
    }

    /// The target of symlink `ino` (Invalid for other kinds, as `readlink(2)` says EINVAL).
    pub fn readlink(&self, ino: Ino) -> Result<String> {
        match &self.node(ino)?.body {
            Body::Symlink(target) => Ok(target.clone()),
            _ => Err(Error::Invalid),
        }
    }

    // ----- open counts ------------------------------------------------------------------

    /// Records one more open handle on `ino`, keeping it alive after its last name is
    /// removed (POSIX `unlink`: "the removal of the file contents shall be postponed until
    /// all references to the file are closed").
    pub fn retain(&mut self, ino: Ino) -> Result<()> {
        let node = self.node_mut(ino)?;
        node.open = node.open.saturating_add(1);
        Ok(())
    }

    /// Drops one handle taken with [`Vfs::retain`]; frees the inode if it was its last
    /// reference. Releasing an unknown inode does nothing.
    pub fn release(&mut self, ino: Ino) {
        if ino == self.root {
            return;
        }
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.open = node.open.saturating_sub(1);
        }
        self.maybe_free(ino);
    }

    // ----- creating names ---------------------------------------------------------------

    /// Creates an empty regular file `name` in `dir`, or with `exclusive == false` returns
    /// the existing regular file (`created == false`). Follows Linux `open(O_CREAT)`:
    /// `.`/`..` give Exists with `exclusive`, else IsDir; a trailing slash gives IsDir; an
    /// existing directory IsDir; an existing symlink Loop (symlinks are never followed here,
    /// like `O_NOFOLLOW`: resolve first to create through one). Does not truncate.
    pub fn create_file(&mut self, dir: Ino, name: &str, exclusive: bool) -> Result<(Ino, bool)> {
        let (name, trailing_slash) = parse_name(name)?;
        self.check_live_dir(dir)?;
        let name = match name {
            Name::Dot | Name::DotDot if exclusive => return Err(Error::Exists),
            Name::Dot | Name::DotDot => return Err(Error::IsDir),
            Name::Normal(name) => name,
        };
        if trailing_slash {
            return Err(Error::IsDir);
        }
        if let Some(&ino) = self.entries(dir)?.get(name) {
            if exclusive {
                return Err(Error::Exists);
            }
            return match self.kind_of(ino)? {
                // `open(O_CREAT)` of an existing device opens it.
                FileKind::RegularFile | FileKind::CharacterDevice => Ok((ino, false)),
                FileKind::Directory => Err(Error::IsDir),
                FileKind::Symlink => Err(Error::Loop),
            };
        }
        let ino = self.new_node(dir, name, Body::File(FileData::empty()))?;
        Ok((ino, true))
    }

    /// Creates directory `name` in `dir`. `.`, `..` and existing names give Exists; a
    /// trailing slash is allowed (`mkdir("d/")` works in POSIX).
    pub fn mkdir(&mut self, dir: Ino, name: &str) -> Result<Ino> {
        let (name, _trailing_slash) = parse_name(name)?;
        self.check_live_dir(dir)?;
        let name = self.free_name(dir, name, false)?;
        self.new_node(
            dir,
            name,
            Body::Dir {
                entries: BTreeMap::new(),
                parent: dir,
            },
        )
    }

    /// For non-directory creation (`symlink`, `link`): `.`/`..`/existing → Exists; a free
    /// name with a trailing slash → NotFound (Linux `filename_create`: "you had / on the
    /// end, you've been asking for (non-existent) directory").
    fn free_name<'a>(&self, dir: Ino, name: Name<'a>, trailing_slash: bool) -> Result<&'a str> {
        let name = match name {
            Name::Dot | Name::DotDot => return Err(Error::Exists),
            Name::Normal(name) => name,
        };
        if self.entries(dir)?.contains_key(name) {
            return Err(Error::Exists);
        }
        if trailing_slash {
            return Err(Error::NotFound);
        }
        Ok(name)
    }

    /// Creates symlink `name` in `dir` pointing at `target` (stored verbatim, resolved only
    /// when followed). An empty target is NotFound (Linux ENOENT), a NUL byte Invalid, a
    /// target over [`MAX_SYMLINK_TARGET_LEN`] NameTooLong; names as in [`Vfs::link`].
    pub fn symlink(&mut self, target: &str, dir: Ino, name: &str) -> Result<Ino> {
        if target.is_empty() {
            return Err(Error::NotFound);
        }
        if target.contains('\0') {
            return Err(Error::Invalid);
        }
        if target.len() > MAX_SYMLINK_TARGET_LEN {
            return Err(Error::NameTooLong);
        }
        let (name, trailing_slash) = parse_name(name)?;
        self.check_live_dir(dir)?;
        // `file/` naming an existing regular file: NotDir, as wasmtime (cap-std) and
        // wasi-testsuite's `path_symlink_trailing_slashes` (Unix errno mode) have it; Linux
        // itself says Exists, as for every other existing name.
        if let (true, Name::Normal(n)) = (trailing_slash, &name) {
            if let Some(&existing) = self.entries(dir)?.get(*n) {
                if self.node(existing)?.kind() == FileKind::RegularFile {
                    return Err(Error::NotDir);
                }
            }
        }
        let name = self.free_name(dir, name, trailing_slash)?;
        self.new_node(dir, name, Body::Symlink(target.to_owned()))
    }

    /// Adds a hard link `name` in `dir` to `ino`. Existing names, `.` and `..` give Exists;
    /// a directory gives Perm (Linux EPERM: directories cannot be hard-linked); an inode
    /// with no names left (unlinked but open) NotFound, as Linux `linkat` without
    /// `AT_EMPTY_PATH` says.
    pub fn link(&mut self, ino: Ino, dir: Ino, name: &str) -> Result<()> {
        self.names_changed = true;
        let (name, trailing_slash) = parse_name(name)?;
        self.check_live_dir(dir)?;
        let name = self.free_name(dir, name, trailing_slash)?;
        let node = self.node(ino)?;
        if node.kind() == FileKind::Directory {
            return Err(Error::Perm);
        }
        if node.nlink == 0 {
            return Err(Error::NotFound);
        }
        self.charge(entry_cost(name))?;
        let now = self.now();
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        let node = self.node_mut(ino)?;
        node.nlink = node.nlink.saturating_add(1);
        node.ctime = now;
        self.touch_dir(dir, now);
        Ok(())
    }

    // ----- removing names ---------------------------------------------------------------

    /// Removes name `name` (a file or symlink) from `dir`. A directory, `.` or `..` give
    /// IsDir (Linux `unlink(2)` returns EISDIR); `file/` gives NotDir. The inode lives on
    /// while other names or open handles remain.
    pub fn unlink(&mut self, dir: Ino, name: &str) -> Result<()> {
        self.names_changed = true;
        let (name, trailing_slash) = parse_name(name)?;
        let name = match name {
            Name::Dot | Name::DotDot => {
                self.entries(dir)?;
                return Err(Error::IsDir);
            }
            Name::Normal(name) => name,
        };
        let ino = *self.entries(dir)?.get(name).ok_or(Error::NotFound)?;
        if self.kind_of(ino)? == FileKind::Directory {
            return Err(Error::IsDir);
        }
        if trailing_slash {
            return Err(Error::NotDir);
        }
        let now = self.now();
        self.drop_entry(dir, name, ino, now)?;
        self.touch_dir(dir, now);
        Ok(())
    }

    /// Removes the empty directory `name` from `dir`. `.` gives Invalid and `..` NotEmpty
    /// (POSIX `rmdir`, Linux errnos); a non-directory (including a symlink to one) NotDir;
    /// a directory with entries NotEmpty. A removed directory that is still open stays
    /// valid but empty, and refuses new entries (NotFound).
    pub fn rmdir(&mut self, dir: Ino, name: &str) -> Result<()> {
        let (name, _trailing_slash) = parse_name(name)?;
        self.entries(dir)?;
        let name = match name {
            Name::Dot => return Err(Error::Invalid),
            Name::DotDot => return Err(Error::NotEmpty),
            Name::Normal(name) => name,
        };
        let ino = *self.entries(dir)?.get(name).ok_or(Error::NotFound)?;
        if self.kind_of(ino)? != FileKind::Directory {
            return Err(Error::NotDir);
        }
        if !self.is_empty_dir(ino)? {
            return Err(Error::NotEmpty);
        }
        let now = self.now();
        self.drop_entry(dir, name, ino, now)?;
        self.touch_dir(dir, now);
        Ok(())
    }

    /// POSIX `rename`: moves `old_name` in `old_dir` to `new_name` in `new_dir`, atomically
    /// replacing what `new_name` named. Replacing: a file or symlink by anything that is not
    /// a directory; an empty directory by a directory. Errors: `.`/`..` on either side Busy
    /// (Linux EBUSY); a file over a directory IsDir; a directory over a non-directory
    /// NotDir; over a non-empty directory NotEmpty; a directory into itself or its own
    /// subtree Invalid; a trailing slash on either name of a non-directory NotDir. If both
    /// names already name the same inode nothing happens (POSIX).
    pub fn rename(
        &mut self,
        old_dir: Ino,
        old_name: &str,
        new_dir: Ino,
        new_name: &str,
    ) -> Result<()> {
        self.names_changed = true;
        let (old_name, old_slash) = parse_name(old_name)?;
        let (new_name, new_slash) = parse_name(new_name)?;
        self.entries(old_dir)?;
        self.entries(new_dir)?;
        let (Name::Normal(old_name), Name::Normal(new_name)) = (old_name, new_name) else {
            return Err(Error::Busy);
        };
        let src = *self
            .entries(old_dir)?
            .get(old_name)
            .ok_or(Error::NotFound)?;
        self.check_live_dir(new_dir)?;
        let src_is_dir = self.kind_of(src)? == FileKind::Directory;
        if !src_is_dir && (old_slash || new_slash) {
            return Err(Error::NotDir);
        }
        let dst = self.entries(new_dir)?.get(new_name).copied();
        if dst == Some(src) {
            return Ok(());
        }
        if src_is_dir {
            // The destination directory must not be `src` or below it: walk up from it.
            let mut dir = new_dir;
            loop {
                if dir == src {
                    return Err(Error::Invalid);
                }
                let parent = self.parent(dir)?;
                if parent == dir {
                    break;
                }
                dir = parent;
            }
        }
        if let Some(dst) = dst {
            let dst_is_dir = self.kind_of(dst)? == FileKind::Directory;
            match (src_is_dir, dst_is_dir) {
                (true, false) => return Err(Error::NotDir),
                (false, true) => return Err(Error::IsDir),
                (true, true) if !self.is_empty_dir(dst)? => return Err(Error::NotEmpty),
                _ => {}
            }
        }
        // Charge the new name before changing anything, so NoSpace leaves the tree as is.
        self.charge(entry_cost(new_name))?;
        let now = self.now();
        if let Some(dst) = dst {
            self.drop_entry(new_dir, new_name, dst, now)?;
        }
        self.entries_mut(old_dir)?.remove(old_name);
        self.uncharge(entry_cost(old_name));
        self.entries_mut(new_dir)?.insert(new_name.to_owned(), src);
        if let Body::Dir { parent, .. } = &mut self.node_mut(src)?.body {
            *parent = new_dir;
        }
        // Linux updates the moved inode's ctime too; POSIX allows it.
        self.touch_ctime(src, now);
        self.touch_dir(old_dir, now);
        self.touch_dir(new_dir, now);
        Ok(())
    }

    // ----- file data and times ----------------------------------------------------------

    pub(crate) fn file_data(&self, ino: Ino) -> Result<&FileData> {
        match &self.node(ino)?.body {
            Body::File(data) => Ok(data),
            Body::Dir { .. } => Err(Error::IsDir),
            Body::Symlink(_) | Body::Device(_) => Err(Error::Invalid),
        }
    }

    pub(crate) fn file_data_mut(&mut self, ino: Ino) -> Result<&mut FileData> {
        match &mut self.node_mut(ino)?.body {
            Body::File(data) => Ok(data),
            Body::Dir { .. } => Err(Error::IsDir),
            Body::Symlink(_) | Body::Device(_) => Err(Error::Invalid),
        }
    }

    /// Makes regular file `ino` (empty) hold `data`, borrowed for good, charging the limit.
    pub(crate) fn set_static_data(&mut self, ino: Ino, data: &'static [u8]) -> Result<()> {
        if self.file_data(ino)?.len() != 0 {
            return Err(Error::Invalid);
        }
        if data.len() as u64 > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        let before = self.file_data(ino)?.stored();
        self.charge(FileData::Static(data).stored())?;
        self.uncharge(before);
        *self.file_data_mut(ino)? = FileData::Static(data);
        Ok(())
    }

    /// The whole contents of regular file `ino` when they are still the archive's bytes,
    /// borrowed for good (no copy: a program loaded from the boot archive is read in
    /// place); `None` once the file has its own bytes. A directory gives IsDir, a symlink
    /// Invalid.
    pub fn static_contents(&self, ino: Ino) -> Result<Option<&'static [u8]>> {
        Ok(match self.file_data(ino)? {
            FileData::Static(s) => Some(*s),
            FileData::Owned { .. } | FileData::Remote { .. } => None,
        })
    }

    /// Reads from regular file `ino` at `offset` into `buf`; returns the bytes read (0 at or
    /// past the end). A directory gives IsDir, a symlink Invalid. A remote file's bytes are
    /// fetched first as needed ([`crate::Fetcher`]; Io if that fails, NoSpace if no room
    /// is left for them even after dropping what other remote files had cached).
    pub fn read_at(&mut self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        if self.file_data(ino)?.remote_id().is_some() {
            return self.read_remote(ino, offset, buf);
        }
        Ok(self.file_data(ino)?.read_at(offset, buf))
    }

    /// Records a change of file `ino`'s contents: mtime and ctime now, and it no longer
    /// matches what the archive it came from holds.
    fn mark_modified(&mut self, ino: Ino) -> Result<()> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        node.mtime = now;
        node.ctime = now;
        node.origin = None;
        node.unchanged_marker = false;
        Ok(())
    }

    /// After a change to file `ino` that held `before` bytes and for which `charged` was
    /// charged, makes the charge what the file holds now (the estimate may be off by the
    /// spare capacity a vector chose).
    pub(crate) fn settle(&mut self, ino: Ino, before: u64, charged: u64) -> Result<()> {
        let after = self.file_data(ino)?.stored();
        let expected = before + charged;
        if after > expected {
            self.used_bytes += after - expected;
        } else {
            self.uncharge(expected - after);
        }
        Ok(())
    }

    /// Makes file `ino`'s bytes its own (copied out of a static archive, at most the first
    /// `keep`), giving back the charge of what a truncating copy leaves out.
    fn own_file_data(&mut self, ino: Ino, keep: u64) -> Result<()> {
        // A remote file's kept bytes must be here before they become the file's own.
        self.fetch_range(ino, 0, keep)?;
        match self.file_data_mut(ino)?.make_owned(keep) {
            Ok(delta) => {
                self.uncharge(delta.min(0).unsigned_abs());
                Ok(())
            }
            Err(_) => Err(Error::NoSpace),
        }
    }

    /// Writes `data` to regular file `ino` at `offset` (zero-filling any gap past the end)
    /// and returns the bytes written (all of them). Updates mtime and ctime when `data` is
    /// not empty (POSIX `write`). Errors: IsDir, Invalid (symlink), FileTooBig past
    /// [`MAX_FILE_SIZE`], NoSpace. Appending is the caller's business (offset = size).
    /// A write far past the end leaves a hole that takes no memory (a sparse file).
    pub fn write_at(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        self.file_data(ino)?;
        if data.is_empty() {
            return Ok(0);
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(Error::FileTooBig)?;
        if end > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        self.own_file_data(ino, u64::MAX)?;
        let before = self.file_data(ino)?.stored();
        let growth = self.file_data(ino)?.write_growth(offset, data.len() as u64);
        self.charge(growth)?;
        let written = self.file_data_mut(ino)?.write_at(offset, data);
        self.settle(ino, before, growth)?;
        if written.is_err() {
            return Err(Error::NoSpace);
        }
        self.mark_modified(ino)?;
        Ok(data.len())
    }

    /// Gives bytes `[offset, offset + len)` of regular file `ino` memory of their own,
    /// extending the file (with zeros) if they reach past its end, as `posix_fallocate`
    /// does: unlike a hole, the space is taken now (NoSpace if the limit has no room for
    /// it, and then nothing changes). Errors as [`Vfs::write_at`].
    pub fn allocate(&mut self, ino: Ino, offset: u64, len: u64) -> Result<()> {
        self.file_data(ino)?;
        let end = offset.checked_add(len).ok_or(Error::FileTooBig)?;
        if end > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        if len == 0 {
            return Ok(());
        }
        self.own_file_data(ino, u64::MAX)?;
        let old_size = self.file_data(ino)?.len();
        let before = self.file_data(ino)?.stored();
        let growth = self.file_data(ino)?.write_growth(offset, len);
        self.charge(growth)?;
        let grown = self.file_data_mut(ino)?.materialize(offset, len);
        self.settle(ino, before, growth)?;
        if grown.is_err() {
            return Err(Error::NoSpace);
        }
        // Only a change of size is a change of the file (as `ftruncate` would make it).
        if end > old_size {
            self.mark_modified(ino)?;
        }
        Ok(())
    }

    /// Truncates or extends (with zeros, a hole that takes no memory) regular file `ino`
    /// to `len` bytes and updates mtime and ctime (POSIX `ftruncate`). Errors as
    /// [`Vfs::write_at`].
    pub fn set_len(&mut self, ino: Ino, len: u64) -> Result<()> {
        self.file_data(ino)?;
        if len > MAX_FILE_SIZE {
            return Err(Error::FileTooBig);
        }
        self.own_file_data(ino, len)?;
        let before = self.file_data(ino)?.stored();
        let growth = self.file_data(ino)?.set_len_growth(len);
        self.charge(growth)?;
        let resized = self.file_data_mut(ino)?.set_len(len);
        self.settle(ino, before, growth)?;
        if resized.is_err() {
            return Err(Error::NoSpace);
        }
        self.mark_modified(ino)?;
        Ok(())
    }

    /// Sets atime and/or mtime of any inode (`None` leaves one unchanged) and ctime to now,
    /// as `utimensat` does. The WASI caller resolves `*_NOW` flags with its own clock.
    pub fn set_times(
        &mut self,
        ino: Ino,
        atime_ns: Option<u64>,
        mtime_ns: Option<u64>,
    ) -> Result<()> {
        let now = self.now();
        let node = self.node_mut(ino)?;
        if let Some(atime) = atime_ns {
            node.atime = atime;
        }
        if let Some(mtime) = mtime_ns {
            node.mtime = mtime;
        }
        node.ctime = now;
        Ok(())
    }
}
