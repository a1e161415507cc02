//! The preview1 data types of `wasi_snapshot_preview1.witx` that cross the guest boundary:
//! the `errno` enum, flag sets and enums as plain integer constants, and the byte layouts
//! (offsets and sizes) of the structs the guest reads and writes.

/// `errno` (witx `enum (@witx tag u16)`): the error codes every preview1 function returns.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Errno {
    Success = 0,
    TooBig = 1,
    Acces = 2,
    Addrinuse = 3,
    Addrnotavail = 4,
    Afnosupport = 5,
    Again = 6,
    Already = 7,
    Badf = 8,
    Badmsg = 9,
    Busy = 10,
    Canceled = 11,
    Child = 12,
    Connaborted = 13,
    Connrefused = 14,
    Connreset = 15,
    Deadlk = 16,
    Destaddrreq = 17,
    Dom = 18,
    Dquot = 19,
    Exist = 20,
    Fault = 21,
    Fbig = 22,
    Hostunreach = 23,
    Idrm = 24,
    Ilseq = 25,
    Inprogress = 26,
    Intr = 27,
    Inval = 28,
    Io = 29,
    Isconn = 30,
    Isdir = 31,
    Loop = 32,
    Mfile = 33,
    Mlink = 34,
    Msgsize = 35,
    Multihop = 36,
    Nametoolong = 37,
    Netdown = 38,
    Netreset = 39,
    Netunreach = 40,
    Nfile = 41,
    Nobufs = 42,
    Nodev = 43,
    Noent = 44,
    Noexec = 45,
    Nolck = 46,
    Nolink = 47,
    Nomem = 48,
    Nomsg = 49,
    Noprotoopt = 50,
    Nospc = 51,
    Nosys = 52,
    Notconn = 53,
    Notdir = 54,
    Notempty = 55,
    Notrecoverable = 56,
    Notsock = 57,
    Notsup = 58,
    Notty = 59,
    Nxio = 60,
    Overflow = 61,
    Ownerdead = 62,
    Perm = 63,
    Pipe = 64,
    Proto = 65,
    Protonosupport = 66,
    Prototype = 67,
    Range = 68,
    Rofs = 69,
    Spipe = 70,
    Srch = 71,
    Stale = 72,
    Timedout = 73,
    Txtbsy = 74,
    Xdev = 75,
    Notcapable = 76,
}

/// `rights` (witx `flags (@witx repr u64)`), one bit per operation.
pub mod rights {
    #![allow(missing_docs)]
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    /// Every defined right.
    pub const ALL: u64 = (1 << 30) - 1;

    /// Base rights of a preopened directory (what wasmtime reports).
    pub const PREOPEN_BASE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;
    /// Rights that apply to a regular file. witx `path_open`: the new descriptor may lack
    /// requested rights "if and only if those rights do not apply to the type of file being
    /// opened".
    pub const REGULAR_FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// Rights that apply to a directory (those a preopen holds).
    pub const DIRECTORY: u64 = PREOPEN_BASE;
    /// Inheriting rights of a preopened directory: what directories and regular files
    /// opened below it may hold.
    pub const PREOPEN_INHERITING: u64 = PREOPEN_BASE | REGULAR_FILE;
}

/// `filetype` (witx `enum (@witx tag u8)`).
pub mod filetype {
    #![allow(missing_docs)]
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags` (witx `flags (@witx repr u16)`).
pub mod fdflags {
    #![allow(missing_docs)]
    pub const APPEND: u16 = 1;
    pub const DSYNC: u16 = 2;
    pub const NONBLOCK: u16 = 4;
    pub const RSYNC: u16 = 8;
    pub const SYNC: u16 = 16;
    pub const ALL: u16 = 31;
}

/// `oflags` (witx `flags (@witx repr u16)`).
pub mod oflags {
    #![allow(missing_docs)]
    pub const CREAT: u16 = 1;
    pub const DIRECTORY: u16 = 2;
    pub const EXCL: u16 = 4;
    pub const TRUNC: u16 = 8;
    pub const ALL: u16 = 15;
}

/// `fstflags` (witx `flags (@witx repr u16)`).
pub mod fstflags {
    #![allow(missing_docs)]
    pub const ATIM: u16 = 1;
    pub const ATIM_NOW: u16 = 2;
    pub const MTIM: u16 = 4;
    pub const MTIM_NOW: u16 = 8;
    pub const ALL: u16 = 15;
}

/// `lookupflags` (witx `flags (@witx repr u32)`): bit 0 is `symlink_follow`.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `clockid` (witx `enum (@witx tag u32)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockId {
    /// Wall clock time (ns since 1970-01-01 UTC).
    Realtime,
    /// A clock that never goes backwards.
    Monotonic,
    /// CPU time used by this process.
    ProcessCputime,
    /// CPU time used by this thread.
    ThreadCputime,
}

impl ClockId {
    /// Decodes a guest value; unknown ids are `EINVAL` (an invalid enum value).
    pub fn from_raw(raw: u32) -> Result<Self, Errno> {
        Ok(match raw {
            0 => ClockId::Realtime,
            1 => ClockId::Monotonic,
            2 => ClockId::ProcessCputime,
            3 => ClockId::ThreadCputime,
            _ => return Err(Errno::Inval),
        })
    }
}

/// Byte layouts of the witx structs (wasm32: pointers and `size` are 4 bytes).
pub mod layout {
    #![allow(missing_docs)]
    /// `iovec`/`ciovec`: `buf: u32 @0`, `buf_len: u32 @4`.
    pub const IOVEC_SIZE: u32 = 8;
    /// `fdstat`: filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16.
    pub const FDSTAT_SIZE: u32 = 24;
    /// `filestat`: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48,
    /// ctim @56.
    pub const FILESTAT_SIZE: u32 = 64;
    /// `prestat`: tag u8 @0, `pr_name_len: u32 @4`.
    pub const PRESTAT_SIZE: u32 = 8;
    /// `dirent`: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20.
    pub const DIRENT_SIZE: u32 = 24;
    /// `subscription`: userdata u64 @0, tag u8 @8, union @16 (clock: id u32 @16,
    /// timeout u64 @24, precision u64 @32, flags u16 @40; fd_readwrite: fd u32 @16).
    pub const SUBSCRIPTION_SIZE: u32 = 48;
    /// `event`: userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24.
    pub const EVENT_SIZE: u32 = 32;
    /// `wasi_unstable`'s `filestat` (snapshot 0: `linkcount` is u32): dev @0, ino @8,
    /// filetype u8 @16, nlink u32 @20, size @24, atim @32, mtim @40, ctim @48.
    pub const FILESTAT0_SIZE: u32 = 56;
    /// `wasi_unstable`'s `subscription` (its clock has an `identifier` first):
    /// userdata u64 @0, tag u8 @8, union @16 (clock: identifier u64 @16, id u32 @24,
    /// timeout u64 @32, precision u64 @40, flags u16 @48; fd_readwrite: fd u32 @16).
    pub const SUBSCRIPTION0_SIZE: u32 = 56;
}

/// The two snapshots of WASI before the component model, whose functions are the same
/// but for three struct layouts and one enum: `wasi_snapshot_preview1`, and its
/// predecessor `wasi_unstable` (snapshot 0, what toolchains emitted until late 2019,
/// which `wasmtime run` still runs). See [`crate::preview0`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Snapshot {
    /// `wasi_snapshot_preview1`.
    Preview1,
    /// `wasi_unstable`.
    Unstable,
}
