//! Error types of the filesystem. Hand-written `Display` (no dependency) so the crate builds
//! in no_std without touching the workspace lock file.

use core::fmt;

/// A filesystem error. Each variant maps 1:1 to a WASI preview1 errno (witx `$errno`) and
/// to the POSIX errno Linux returns in the same situation:
///
/// | variant        | WASI errno      | POSIX        |
/// |----------------|-----------------|--------------|
/// | `NotFound`     | `noent`         | ENOENT       |
/// | `Exists`       | `exist`         | EEXIST       |
/// | `NotDir`       | `notdir`        | ENOTDIR      |
/// | `IsDir`        | `isdir`         | EISDIR       |
/// | `NotEmpty`     | `notempty`      | ENOTEMPTY    |
/// | `Invalid`      | `inval`         | EINVAL       |
/// | `Loop`         | `loop`          | ELOOP        |
/// | `NameTooLong`  | `nametoolong`   | ENAMETOOLONG |
/// | `Escape`       | `notcapable`    | (none: WASI capability) |
/// | `CrossDevice`  | `xdev`          | EXDEV        |
/// | `FileTooBig`   | `fbig`          | EFBIG        |
/// | `NoSpace`      | `nospc`         | ENOSPC       |
/// | `Busy`         | `busy`          | EBUSY        |
/// | `Perm`         | `perm`          | EPERM        |
/// | `Io`           | `io`            | EIO          |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// No such file or directory, an empty path, a dangling symlink, or an inode that has
    /// been freed.
    NotFound,
    /// The name already exists.
    Exists,
    /// A component used as a directory is not one (including `file/` with a trailing slash).
    NotDir,
    /// The operation needs a non-directory and got a directory.
    IsDir,
    /// The directory is not empty.
    NotEmpty,
    /// Invalid argument: `rmdir` of `.`, readlink of a non-symlink, a NUL byte in a name, a
    /// directory moved into its own subtree.
    Invalid,
    /// Too many symlinks followed during resolution (more than [`crate::MAX_SYMLINKS`]), or
    /// `create_file` met a symlink as the final component (as `O_NOFOLLOW` does).
    Loop,
    /// A component longer than [`crate::MAX_NAME_LEN`] bytes or a symlink target longer
    /// than [`crate::MAX_SYMLINK_TARGET_LEN`].
    NameTooLong,
    /// A confined resolution would leave its base directory (absolute path, `..` above the
    /// base, absolute symlink target).
    Escape,
    /// The operation would cross devices (reserved for mounts).
    CrossDevice,
    /// The file would exceed [`crate::MAX_FILE_SIZE`].
    FileTooBig,
    /// The size limit of the filesystem (or the allocator) is exhausted.
    NoSpace,
    /// The object is in use in a way that forbids the operation (`rename` of `.` or `..`).
    Busy,
    /// Operation not permitted (hard link to a directory).
    Perm,
    /// A file's contents could not be read from where they are kept (a remote file whose
    /// host copy is gone or was replaced: see [`crate::Fetcher`]).
    Io,
}

impl Error {
    /// A short lowercase description, like `strerror`.
    pub fn as_str(self) -> &'static str {
        match self {
            Error::NotFound => "no such file or directory",
            Error::Exists => "file exists",
            Error::NotDir => "not a directory",
            Error::IsDir => "is a directory",
            Error::NotEmpty => "directory not empty",
            Error::Invalid => "invalid argument",
            Error::Loop => "too many levels of symbolic links",
            Error::NameTooLong => "file name too long",
            Error::Escape => "path escapes its base directory",
            Error::CrossDevice => "cross-device link",
            Error::FileTooBig => "file too large",
            Error::NoSpace => "no space left on device",
            Error::Busy => "device or resource busy",
            Error::Perm => "operation not permitted",
            Error::Io => "input/output error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

/// An error while loading or writing a boot archive ([`crate::Vfs::load_tar`],
/// [`crate::Vfs::dump_tar`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// The archive is not well-formed; the text says what was wrong, the offset where.
    Malformed {
        /// What was wrong.
        what: &'static str,
        /// Byte offset of the header of the offending entry.
        offset: usize,
    },
    /// Building the tree failed (for example [`Error::NoSpace`], or an entry whose parent is
    /// a file: [`Error::NotDir`]).
    Fs {
        /// The entry's path as written in the archive (empty when writing).
        path: alloc::string::String,
        /// The filesystem error.
        error: Error,
    },
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Malformed { what, offset } => {
                write!(f, "malformed archive at byte {offset}: {what}")
            }
            ArchiveError::Fs { path, error } => write!(f, "archive entry {path:?}: {error}"),
        }
    }
}

impl core::error::Error for ArchiveError {}

impl From<Error> for ArchiveError {
    fn from(error: Error) -> Self {
        ArchiveError::Fs {
            path: alloc::string::String::new(),
            error,
        }
    }
}
