//! The streams behind a process's fds 0, 1 and 2: the console (cooked tty input, COM1
//! output), nothing (`/dev/null`-like), a pipe end, a VFS file opened for a redirection, or
//! the `clew run` frame channel. Each becomes a `Box<dyn wasi::Stream>` in the process's
//! `WasiCtx`.
//!
//! Key types: [`Stdio`], [`PipeEnd`] (from [`pipe`]), [`FileStream`] (from [`open_file`]).
//! Neighbours: `crate::tty` (line discipline), `crate::fs` (the VFS), `crate::run_mode`
//! (framed stdio), `super` (kill flags interrupt blocking reads and writes).

use crate::sync::{SpinLock, WaitQueue};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use wasi::{Errno, Stream};

/// Bytes a pipe buffers before writers block.
pub const PIPE_CAPACITY: usize = 64 * 1024;

/// What a standard stream of a new process is connected to.
pub enum Stdio {
    /// The serial console: cooked line input, output to COM1.
    Console,
    /// Reads see end-of-file, writes are discarded.
    Null,
    /// One end of a [`pipe`].
    Pipe(PipeEnd),
    /// A VFS file (redirection).
    File(FileStream),
    /// A stream the kernel made (the `clew run` frame channel, tests).
    Custom(Box<dyn Stream>),
}

impl Stdio {
    /// The stream object for the process's WASI context.
    pub(crate) fn into_stream(self) -> Box<dyn Stream> {
        match self {
            Stdio::Console => Box::new(crate::tty::ConsoleStream),
            Stdio::Null => Box::new(NullStream),
            Stdio::Pipe(p) => Box::new(p),
            Stdio::File(f) => Box::new(f),
            Stdio::Custom(s) => s,
        }
    }
}

/// Reads give end-of-file, writes succeed and vanish.
pub struct NullStream;

impl Stream for NullStream {
    fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }
    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
}

struct PipeState {
    data: VecDeque<u8>,
    readers: usize,
    writers: usize,
}

struct PipeShared {
    state: SpinLock<PipeState>,
    /// Readers wait here for data or the last writer going away.
    readable: WaitQueue,
    /// Writers wait here for room or the last reader going away.
    writable: WaitQueue,
}

/// One end of a pipe. Reading from the read end blocks until data arrives, and gives
/// end-of-file once every write end is dropped; writing to the write end blocks while the
/// buffer ([`PIPE_CAPACITY`]) is full and fails with `EPIPE` once every read end is
/// dropped. Cloning an end adds a reader or writer (e.g. for `2>&1`).
pub struct PipeEnd {
    shared: Arc<PipeShared>,
    writer: bool,
}

/// A new pipe: (read end, write end).
pub fn pipe() -> (PipeEnd, PipeEnd) {
    let shared = Arc::new(PipeShared {
        state: SpinLock::new(PipeState {
            data: VecDeque::new(),
            readers: 1,
            writers: 1,
        }),
        readable: WaitQueue::new(),
        writable: WaitQueue::new(),
    });
    (
        PipeEnd {
            shared: shared.clone(),
            writer: false,
        },
        PipeEnd {
            shared,
            writer: true,
        },
    )
}

impl PipeEnd {
    /// Whether this is the write end.
    pub fn is_writer(&self) -> bool {
        self.writer
    }
}

impl Clone for PipeEnd {
    fn clone(&self) -> Self {
        {
            let mut s = self.shared.state.lock();
            if self.writer {
                s.writers += 1;
            } else {
                s.readers += 1;
            }
        }
        PipeEnd {
            shared: self.shared.clone(),
            writer: self.writer,
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        {
            let mut s = self.shared.state.lock();
            if self.writer {
                s.writers = s.writers.saturating_sub(1);
            } else {
                s.readers = s.readers.saturating_sub(1);
            }
        }
        self.shared.readable.wake_all();
        self.shared.writable.wake_all();
    }
}

impl Stream for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.writer {
            return Err(Errno::Badf);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        let mut killed = false;
        self.shared.readable.wait_until(|| {
            let mut s = self.shared.state.lock();
            if !s.data.is_empty() {
                n = buf.len().min(s.data.len());
                for (dst, src) in buf.iter_mut().zip(s.data.drain(..n)) {
                    *dst = src;
                }
                return true;
            }
            if s.writers == 0 {
                return true;
            }
            killed = super::current_killed();
            killed
        });
        if n > 0 {
            self.shared.writable.wake_all();
        } else if killed {
            return Err(Errno::Intr);
        }
        Ok(n)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        if !self.writer {
            return Err(Errno::Badf);
        }
        let mut done = 0;
        while done < buf.len() {
            let mut err = None;
            self.shared.writable.wait_until(|| {
                let mut s = self.shared.state.lock();
                if s.readers == 0 {
                    err = Some(Errno::Pipe);
                    return true;
                }
                let room = PIPE_CAPACITY.saturating_sub(s.data.len());
                if room > 0 {
                    let k = room.min(buf.len() - done);
                    s.data.extend(&buf[done..done + k]);
                    done += k;
                    return true;
                }
                if super::current_killed() {
                    err = Some(Errno::Intr);
                    return true;
                }
                false
            });
            self.shared.readable.wake_all();
            if let Some(e) = err {
                // A partial write reports what went through, as POSIX does.
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
        Ok(done)
    }

    fn read_ready(&mut self) -> bool {
        let s = self.shared.state.lock();
        !self.writer && (!s.data.is_empty() || s.writers == 0)
    }
}

/// How [`open_file`] opens a file for a redirection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// `<`: read from the start; the file must exist.
    Read,
    /// `>` / `2>`: create or truncate, write.
    Truncate,
    /// `>>`: create if missing, write at the end.
    Append,
}

/// A VFS file behind a standard stream (shell redirection). Holds the inode open
/// (`Vfs::retain`) until dropped, so an unlinked file keeps working.
pub struct FileStream {
    ino: vfs::Ino,
    pos: u64,
    mode: OpenMode,
    vfs: wasi::SharedVfs,
}

/// Opens `path` (absolute, or relative to the absolute directory `cwd`) for a redirection.
pub fn open_file(path: &str, cwd: &str, mode: OpenMode) -> Result<FileStream, Errno> {
    let vfs = crate::fs::shared();
    let full = join_path(cwd, path);
    let ino = {
        let mut fs = vfs.lock();
        let root = fs.root();
        let ino = match mode {
            OpenMode::Read => fs.resolve(root, &full, true, false),
            OpenMode::Truncate | OpenMode::Append => fs
                .create_file_at(root, &full, true, false, false)
                .map(|(ino, _)| ino),
        }
        .map_err(wasi::preview1::fs_errno)?;
        let meta = fs.metadata(ino).map_err(wasi::preview1::fs_errno)?;
        if meta.kind == vfs::FileKind::Directory {
            return Err(Errno::Isdir);
        }
        if mode == OpenMode::Truncate {
            fs.set_len(ino, 0).map_err(wasi::preview1::fs_errno)?;
        }
        fs.retain(ino).map_err(wasi::preview1::fs_errno)?;
        ino
    };
    Ok(FileStream {
        ino,
        pos: 0,
        mode,
        vfs,
    })
}

/// `cwd` joined with `path` (`path` itself when absolute).
pub fn join_path(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        return String::from(path);
    }
    let mut s = String::from(cwd);
    if !s.ends_with('/') {
        s.push('/');
    }
    s.push_str(path);
    s
}

impl Drop for FileStream {
    fn drop(&mut self) {
        self.vfs.lock().release(self.ino);
    }
}

impl Stream for FileStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.mode != OpenMode::Read {
            return Err(Errno::Badf);
        }
        let n = self
            .vfs
            .lock()
            .read_at(self.ino, self.pos, buf)
            .map_err(wasi::preview1::fs_errno)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        let mut fs = self.vfs.lock();
        let at = match self.mode {
            OpenMode::Read => return Err(Errno::Badf),
            OpenMode::Truncate => self.pos,
            OpenMode::Append => {
                fs.metadata(self.ino)
                    .map_err(wasi::preview1::fs_errno)?
                    .size
            }
        };
        let n = fs
            .write_at(self.ino, at, buf)
            .map_err(wasi::preview1::fs_errno)?;
        self.pos = at + n as u64;
        Ok(n)
    }
}
