//! The protocol between `clew run` on the host and the Clew kernel running one program
//! headless (no_std + alloc, shared by both sides and tested on the host).
//!
//! Two things cross the boundary:
//! - a [`RunSpec`] (what to run: argv, environment, preopened directories, options), which
//!   the host puts into the boot archive as [`RUN_SPEC_PATH`] and the kernel reads at boot;
//! - [`Frame`]s over the console serial port once the program runs: the guest sends its
//!   stdout and stderr bytes, the final state of each `--dir` tree and its exit status; the
//!   host sends stdin bytes and the end of stdin. Framing keeps stdout and stderr separate
//!   and byte-exact over one port, and keeps kernel messages (which go to the log port)
//!   out of them.
//!
//! Wire format of a frame: `kind: u8`, `len: u32` little endian, then `len` payload bytes.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

/// Where the host puts the encoded [`RunSpec`] in the boot archive.
pub const RUN_SPEC_PATH: &str = ".clew-run";

/// Where `clew boot` puts a [`RunSpec`] whose `dirs` lists the guest paths of its `--dir`
/// trees (the other fields are unused): at power-off the kernel sends each tree back as
/// [`Frame::DirChunk`]s followed by [`Frame::Exit`] on the bulk-data port (COM3).
pub const BOOT_SPEC_PATH: &str = ".clew-boot";

/// Largest payload a frame may carry; larger data is sent as several frames. Bounds the
/// memory a malformed or hostile stream can make a decoder reserve.
pub const MAX_PAYLOAD: usize = 1 << 20;

const HEADER_LEN: usize = 5;

/// One message on the console channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Guest → host: bytes the program wrote to stdout.
    Stdout(Vec<u8>),
    /// Guest → host: bytes the program wrote to stderr.
    Stderr(Vec<u8>),
    /// Guest → host: a chunk of the archive of one `--dir` tree (index into
    /// `RunSpec::dirs`), sent after the program ends.
    DirChunk {
        /// Which preopened directory.
        index: u32,
        /// The next bytes of its tar archive.
        data: Vec<u8>,
    },
    /// Guest → host: the whole archive of one `--dir` tree lies in guest RAM, which the
    /// host shares with QEMU (`RunSpec::shared_ram`): these (guest-physical address,
    /// length) runs, in order. The guest leaves them untouched until it powers off; the
    /// host reads them from the RAM file after QEMU exits. Sent instead of `DirChunk`s;
    /// a long list comes in several frames, whose runs follow each other.
    DirInRam {
        /// Which preopened directory.
        index: u32,
        /// Where the archive's bytes are, in order.
        runs: Vec<(u64, u64)>,
    },
    /// Guest → host, once per slot before the program runs, when the host shares guest
    /// RAM (`RunSpec::shared_ram`): output slot `index` (of [`OUT_SLOTS`]) holds up to
    /// [`OUT_SLOT_LEN`] bytes at these guest-physical runs, and the byte at `state_at` is
    /// its state. The guest sets the state to 1 when it fills the slot and sends
    /// [`Frame::OutInSlot`]; the host writes 0 once it has copied the bytes out, and only
    /// then may the guest fill the slot again. One byte, so that the host's write cannot be
    /// seen half done.
    OutSlot {
        /// Which slot.
        index: u32,
        /// Guest-physical address of the slot's state byte.
        state_at: u64,
        /// Where the slot's bytes are, in order.
        runs: Vec<(u64, u64)>,
    },
    /// Guest → host: the first `len` bytes of output slot `index` are the program's next
    /// stdout (or stderr) bytes. Output goes this way instead of [`Frame::Stdout`] /
    /// [`Frame::Stderr`] when RAM is shared: QEMU's 16550 hands the host one byte per
    /// `write(2)`, about 1 MB/s, where this frame is 14 bytes whatever `len`.
    OutInSlot {
        /// stderr rather than stdout.
        stderr: bool,
        /// Which slot.
        index: u32,
        /// How many of its bytes.
        len: u32,
    },
    /// Guest → host, once per slot at the start of a run, when the host shares guest RAM:
    /// input slot `index` (of [`IN_SLOTS`]) holds up to [`IN_SLOT_LEN`] bytes at these
    /// guest-physical runs, and the byte at `state_at` is its state, as for
    /// [`Frame::OutSlot`] with the roles swapped: the host fills a free slot (state 0)
    /// with stdin bytes, sets the state to 1 and sends [`Frame::StdinInSlot`]; the guest
    /// writes 0 once it has copied the bytes out. The serial port carries about 25 KB/s
    /// towards the guest (QEMU's 16550 takes a byte or a FIFO's worth per interrupt).
    InSlot {
        /// Which slot.
        index: u32,
        /// Guest-physical address of the slot's state byte.
        state_at: u64,
        /// Where the slot's bytes are, in order.
        runs: Vec<(u64, u64)>,
    },
    /// Host → guest: the first `len` bytes of input slot `index` are the program's next
    /// stdin bytes (instead of [`Frame::Stdin`]).
    StdinInSlot {
        /// Which slot.
        index: u32,
        /// How many of its bytes.
        len: u32,
    },
    /// Guest → host, once before the program runs, with the output slots: the byte at
    /// `state_at` is where the host records that writing the program's stdout or stderr
    /// failed ([`OUT_CLOSED_STDOUT`], [`OUT_CLOSED_STDERR`]: its reader has gone, as
    /// with `| head`). The guest then fails the program's writes to that stream with
    /// `EIO`, as `wasmtime run` does, so that a program writing forever ends. The host
    /// also asks there for the program to be stopped ([`OUT_STOP`]).
    OutStatus {
        /// Guest-physical address of the status byte.
        state_at: u64,
    },
    /// Guest → host: the program ended with this exit code (last frame of a run).
    Exit(u32),
    /// Host → guest: bytes for the program's stdin.
    Stdin(Vec<u8>),
    /// Host → guest: stdin reached its end.
    StdinEof,
    /// Guest → host, once before the program runs: asks for the host's wall-clock time
    /// (answered with [`Frame::Time`]). The guest's CMOS clock has whole seconds only, so
    /// its realtime clock would start up to a second behind the host's, which `wasmtime
    /// run` reads directly.
    TimeRequest,
    /// Host → guest: the host's wall-clock time (ns since the Unix epoch) when it read
    /// the [`Frame::TimeRequest`].
    Time(u64),
    /// Guest → host, once before the program runs, when the host shares guest RAM and
    /// packed some `--dir` files without their contents (*remote* files, read on demand:
    /// see [`Frame::Fetch`]): the fetch area is [`FETCH_LEN`] bytes at these
    /// guest-physical runs, and `control_at` is the guest-physical address of its two
    /// 8-byte words: the state ([`FETCH_IDLE`], [`FETCH_ASKED`], [`FETCH_DONE`]) and the
    /// result (bytes read, or [`FETCH_FAILED`]).
    FetchArea {
        /// Guest-physical address of the state word (the result word follows it).
        control_at: u64,
        /// Where the area's bytes are, in order.
        runs: Vec<(u64, u64)>,
    },
    /// Guest → host: read up to `len` bytes (at most [`FETCH_LEN`]) of remote file `file`
    /// from `offset` into the fetch area. The guest set the state to [`FETCH_ASKED`]; the
    /// host writes the bytes, then the result word, then the state [`FETCH_DONE`]. No
    /// frame answers: the guest watches the state word, which spares a round trip through
    /// the serial port's slow way towards the guest.
    Fetch {
        /// The remote file's number (given by the host when it packed the tree).
        file: u64,
        /// Where in the file.
        offset: u64,
        /// How many bytes at most.
        len: u32,
    },
}

/// Bytes in the fetch area ([`Frame::FetchArea`]): the most one [`Frame::Fetch`] reads.
pub const FETCH_LEN: usize = 1 << 20;

/// Fetch state: no request outstanding.
pub const FETCH_IDLE: u64 = 0;

/// Fetch state: the guest sent a [`Frame::Fetch`] and waits.
pub const FETCH_ASKED: u64 = 1;

/// Fetch state: the host has written the bytes and the result word.
pub const FETCH_DONE: u64 = 2;

/// Fetch result: the host could not read the file (gone, replaced, unreadable).
pub const FETCH_FAILED: u64 = u64::MAX;

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Stdout(_) => 1,
            Frame::Stderr(_) => 2,
            Frame::DirChunk { .. } => 3,
            Frame::Exit(_) => 4,
            Frame::Stdin(_) => 5,
            Frame::StdinEof => 6,
            Frame::DirInRam { .. } => 7,
            Frame::OutSlot { .. } => 8,
            Frame::OutInSlot { .. } => 9,
            Frame::InSlot { .. } => 10,
            Frame::StdinInSlot { .. } => 11,
            Frame::OutStatus { .. } => 12,
            Frame::TimeRequest => 13,
            Frame::Time(_) => 14,
            Frame::FetchArea { .. } => 15,
            Frame::Fetch { .. } => 16,
        }
    }

    /// Appends the encoded frame to `out`. Payloads over [`MAX_PAYLOAD`] must be split by
    /// the caller (see [`encode_chunked`]).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut payload = Vec::new();
        let body: &[u8] = match self {
            Frame::Stdout(d) | Frame::Stderr(d) | Frame::Stdin(d) => d,
            Frame::DirChunk { index, data } => {
                payload.extend_from_slice(&index.to_le_bytes());
                payload.extend_from_slice(data);
                &payload
            }
            Frame::Exit(code) => {
                payload.extend_from_slice(&code.to_le_bytes());
                &payload
            }
            Frame::DirInRam { index, runs } => {
                payload.extend_from_slice(&index.to_le_bytes());
                for (addr, len) in runs {
                    payload.extend_from_slice(&addr.to_le_bytes());
                    payload.extend_from_slice(&len.to_le_bytes());
                }
                &payload
            }
            Frame::OutSlot {
                index,
                state_at,
                runs,
            }
            | Frame::InSlot {
                index,
                state_at,
                runs,
            } => {
                payload.extend_from_slice(&index.to_le_bytes());
                payload.extend_from_slice(&state_at.to_le_bytes());
                for (addr, len) in runs {
                    payload.extend_from_slice(&addr.to_le_bytes());
                    payload.extend_from_slice(&len.to_le_bytes());
                }
                &payload
            }
            Frame::OutInSlot { stderr, index, len } => {
                payload.push(u8::from(*stderr));
                payload.extend_from_slice(&index.to_le_bytes());
                payload.extend_from_slice(&len.to_le_bytes());
                &payload
            }
            Frame::StdinInSlot { index, len } => {
                payload.extend_from_slice(&index.to_le_bytes());
                payload.extend_from_slice(&len.to_le_bytes());
                &payload
            }
            Frame::OutStatus { state_at: word } | Frame::Time(word) => {
                payload.extend_from_slice(&word.to_le_bytes());
                &payload
            }
            Frame::StdinEof | Frame::TimeRequest => &[],
            Frame::FetchArea { control_at, runs } => {
                payload.extend_from_slice(&control_at.to_le_bytes());
                for (addr, len) in runs {
                    payload.extend_from_slice(&addr.to_le_bytes());
                    payload.extend_from_slice(&len.to_le_bytes());
                }
                &payload
            }
            Frame::Fetch { file, offset, len } => {
                payload.extend_from_slice(&file.to_le_bytes());
                payload.extend_from_slice(&offset.to_le_bytes());
                payload.extend_from_slice(&len.to_le_bytes());
                &payload
            }
        };
        out.push(self.kind());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
    }
}

/// The [`Frame::DirInRam`]s describing directory `index`'s archive at `runs`: as many as
/// keep each payload within [`MAX_PAYLOAD`], their runs in order.
pub fn dir_in_ram_frames(index: u32, runs: &[(u64, u64)]) -> impl Iterator<Item = Frame> + '_ {
    runs.chunks((MAX_PAYLOAD - 4) / 16)
        .map(move |part| Frame::DirInRam {
            index,
            runs: part.to_vec(),
        })
}

/// Number of output slots (see [`Frame::OutSlot`]).
pub const OUT_SLOTS: usize = 32;

/// Slot state (input and output slots): free, the writer side may fill it.
pub const SLOT_FREE: u8 = 0;

/// Slot state: filled, the reader side has not copied the bytes out yet.
pub const SLOT_FILLED: u8 = 1;

/// [`Frame::OutStatus`] bit: the host's stdout failed (its reader has gone).
pub const OUT_CLOSED_STDOUT: u8 = 1;

/// [`Frame::OutStatus`] bit: the host's stderr failed.
pub const OUT_CLOSED_STDERR: u8 = 2;

/// [`Frame::OutStatus`] bit: the host asks the guest to stop the program (`clew run` got
/// SIGINT, SIGTERM or SIGHUP). The guest kills it, then sends the `--dir` trees back as
/// after any end, so that what the program wrote reaches the host, as it would have been
/// there already under `wasmtime run`.
pub const OUT_STOP: u8 = 4;

/// Number of input slots (see [`Frame::InSlot`]).
pub const IN_SLOTS: usize = 4;

/// Capacity of one input slot, in bytes.
pub const IN_SLOT_LEN: usize = 64 * 1024;

/// Capacity of one output slot, in bytes.
pub const OUT_SLOT_LEN: usize = 64 * 1024;

/// The first `len` bytes of the bytes at `runs` (in order), as runs; `None` when `runs`
/// hold fewer than `len` bytes.
pub fn prefix_runs(runs: &[(u64, u64)], len: u64) -> Option<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    let mut left = len;
    for &(addr, run_len) in runs {
        if left == 0 {
            break;
        }
        let take = run_len.min(left);
        out.push((addr, take));
        left -= take;
    }
    (left == 0).then_some(out)
}

/// Encodes a stream of bytes as frames made by `make`, each at most [`MAX_PAYLOAD`] bytes.
pub fn encode_chunked(data: &[u8], out: &mut Vec<u8>, make: impl Fn(Vec<u8>) -> Frame) {
    for chunk in data.chunks(MAX_PAYLOAD - 4) {
        make(chunk.to_vec()).encode_into(out);
    }
}

/// Errors of a malformed stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A frame kind this protocol does not define.
    UnknownKind(u8),
    /// A payload longer than [`MAX_PAYLOAD`].
    TooLong(u32),
    /// A payload of the wrong size for its kind.
    BadPayload(u8),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            DecodeError::TooLong(n) => write!(f, "frame payload of {n} bytes is too long"),
            DecodeError::BadPayload(k) => write!(f, "malformed payload for frame kind {k}"),
        }
    }
}

/// Incremental decoder: feed it bytes as they arrive, take frames out as they complete.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// A decoder with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Returns the next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let kind = self.buf[0];
        let len = u32::from_le_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
        if len as usize > MAX_PAYLOAD {
            return Err(DecodeError::TooLong(len));
        }
        let end = HEADER_LEN + len as usize;
        if self.buf.len() < end {
            return Ok(None);
        }
        let payload: Vec<u8> = self.buf[HEADER_LEN..end].to_vec();
        self.buf.drain(..end);
        let word = |p: &[u8]| -> Result<u32, DecodeError> {
            let bytes: [u8; 4] = p
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(DecodeError::BadPayload(kind))?;
            Ok(u32::from_le_bytes(bytes))
        };
        let frame = match kind {
            1 => Frame::Stdout(payload),
            2 => Frame::Stderr(payload),
            3 => Frame::DirChunk {
                index: word(&payload)?,
                data: payload[4..].to_vec(),
            },
            4 if payload.len() == 4 => Frame::Exit(word(&payload)?),
            5 => Frame::Stdin(payload),
            6 if payload.is_empty() => Frame::StdinEof,
            7 if payload.len() >= 4 && (payload.len() - 4).is_multiple_of(16) => Frame::DirInRam {
                index: word(&payload)?,
                runs: run_list(&payload[4..]),
            },
            8 if payload.len() >= 12 && (payload.len() - 12).is_multiple_of(16) => Frame::OutSlot {
                index: word(&payload)?,
                state_at: u64_at(&payload[4..]),
                runs: run_list(&payload[12..]),
            },
            9 if payload.len() == 9 && payload[0] <= 1 => Frame::OutInSlot {
                stderr: payload[0] == 1,
                index: word(&payload[1..])?,
                len: word(&payload[5..])?,
            },
            10 if payload.len() >= 12 && (payload.len() - 12).is_multiple_of(16) => Frame::InSlot {
                index: word(&payload)?,
                state_at: u64_at(&payload[4..]),
                runs: run_list(&payload[12..]),
            },
            11 if payload.len() == 8 => Frame::StdinInSlot {
                index: word(&payload)?,
                len: word(&payload[4..])?,
            },
            12 if payload.len() == 8 => Frame::OutStatus {
                state_at: u64_at(&payload),
            },
            13 if payload.is_empty() => Frame::TimeRequest,
            14 if payload.len() == 8 => Frame::Time(u64_at(&payload)),
            15 if payload.len() >= 8 && (payload.len() - 8).is_multiple_of(16) => {
                Frame::FetchArea {
                    control_at: u64_at(&payload),
                    runs: run_list(&payload[8..]),
                }
            }
            16 if payload.len() == 20 => Frame::Fetch {
                file: u64_at(&payload),
                offset: u64_at(&payload[8..]),
                len: word(&payload[16..])?,
            },
            4 | 6..=16 => return Err(DecodeError::BadPayload(kind)),
            other => return Err(DecodeError::UnknownKind(other)),
        };
        Ok(Some(frame))
    }
}

/// The little-endian `u64` at the start of `bytes` (at least 8 long).
fn u64_at(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

/// (address, length) pairs of 16 bytes each (`bytes` holds whole pairs).
fn run_list(bytes: &[u8]) -> Vec<(u64, u64)> {
    bytes
        .chunks_exact(16)
        .map(|c| (u64_at(c), u64_at(&c[8..])))
        .collect()
}

/// How unknown imports of the module are satisfied (as `wasmtime run`'s flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownImports {
    /// Instantiation fails.
    #[default]
    Reject,
    /// Functions returning zero values.
    DefaultValues,
    /// Functions that trap when called.
    Trap,
}

/// What `clew run` asks the kernel to run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RunSpec {
    /// Path of the module inside the guest filesystem.
    pub module: String,
    /// The module's path as the user typed it on the host, for messages (e.g. "failed to
    /// run main module `./prog.wasm`", as `wasmtime run` words them).
    pub display_name: String,
    /// The program's argv, argv[0] included.
    pub argv: Vec<String>,
    /// Environment variables, `NAME=VALUE` each.
    pub env: Vec<String>,
    /// Preopened directories: their guest paths, in `--dir` order (fds 3, 4, ...).
    pub dirs: Vec<String>,
    /// Engine name: `auto`, `interp` or `native`.
    pub engine: String,
    /// Export to call instead of `_start`.
    pub invoke: Option<String>,
    /// Cap on linear memory, in bytes (`--memory`, `-W max-memory-size`).
    pub max_memory: Option<u64>,
    /// Wall-clock milliseconds the program may run before it is stopped with the trap
    /// "interrupt" (`-W timeout`).
    pub timeout_ms: Option<u64>,
    /// Treatment of unknown imports.
    pub unknown_imports: UnknownImports,
    /// The host shares guest RAM with QEMU (QEMU's RAM is a file the host holds): the
    /// program's stdin and output go through input and output slots ([`Frame::InSlot`],
    /// [`Frame::OutSlot`]) and `--dir` trees
    /// come back as [`Frame::DirInRam`], instead of through the serial port.
    pub shared_ram: bool,
    /// Which of the host's stdin, stdout and stderr are terminals (`TTY_STDIN`,
    /// `TTY_STDOUT`, `TTY_STDERR`): `wasmtime run` reports such a stream's filetype as
    /// `character_device` (so wasi-libc's `isatty` is true and stdout is line-buffered, and
    /// CPython starts its interactive prompt), any other as `unknown`.
    pub terminals: u8,
}

/// [`RunSpec::terminals`] bit: the host's stdin is a terminal.
pub const TTY_STDIN: u8 = 1;
/// [`RunSpec::terminals`] bit: the host's stdout is a terminal.
pub const TTY_STDOUT: u8 = 2;
/// [`RunSpec::terminals`] bit: the host's stderr is a terminal.
pub const TTY_STDERR: u8 = 4;

/// Errors decoding a [`RunSpec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub &'static str);

impl RunSpec {
    /// Encodes as a list of length-prefixed fields (all strings are length-prefixed, so
    /// arguments may contain any byte, newlines and NULs included).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        let put_list = |out: &mut Vec<u8>, l: &[String]| {
            out.extend_from_slice(&(l.len() as u32).to_le_bytes());
            for s in l {
                put(out, s);
            }
        };
        out.extend_from_slice(b"CLEWRUN8");
        put(&mut out, &self.module);
        put(&mut out, &self.display_name);
        put_list(&mut out, &self.argv);
        put_list(&mut out, &self.env);
        put_list(&mut out, &self.dirs);
        put(&mut out, &self.engine);
        // `--invoke ''` calls the default export `""`: presence is its own byte.
        out.push(u8::from(self.invoke.is_some()));
        put(&mut out, self.invoke.as_deref().unwrap_or(""));
        // A cap of 0 is a cap (`-W max-memory-size=0`): presence is its own byte.
        out.push(u8::from(self.max_memory.is_some()));
        out.extend_from_slice(&self.max_memory.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.timeout_ms.unwrap_or(0).to_le_bytes());
        out.push(match self.unknown_imports {
            UnknownImports::Reject => 0,
            UnknownImports::DefaultValues => 1,
            UnknownImports::Trap => 2,
        });
        out.push(u8::from(self.shared_ram));
        out.push(self.terminals);
        out
    }

    /// Decodes what [`RunSpec::encode`] wrote; malformed input is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<RunSpec, SpecError> {
        let mut rest = bytes
            .strip_prefix(b"CLEWRUN8")
            .ok_or(SpecError("not a run spec"))?;
        fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], SpecError> {
            if rest.len() < n {
                return Err(SpecError("truncated run spec"));
            }
            let (head, tail) = rest.split_at(n);
            *rest = tail;
            Ok(head)
        }
        fn word(rest: &mut &[u8]) -> Result<u32, SpecError> {
            let b = take(rest, 4)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        fn dword(rest: &mut &[u8]) -> Result<u64, SpecError> {
            let b = take(rest, 8)?;
            Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
        }
        fn string(rest: &mut &[u8]) -> Result<String, SpecError> {
            let n = word(rest)? as usize;
            let b = take(rest, n)?;
            String::from_utf8(b.to_vec()).map_err(|_| SpecError("string is not UTF-8"))
        }
        fn list(rest: &mut &[u8]) -> Result<Vec<String>, SpecError> {
            let n = word(rest)? as usize;
            // Each entry needs at least its 4-byte length: bound the reservation.
            if n > rest.len() / 4 {
                return Err(SpecError("truncated run spec"));
            }
            (0..n).map(|_| string(rest)).collect()
        }
        let module = string(&mut rest)?;
        let display_name = string(&mut rest)?;
        let argv = list(&mut rest)?;
        let env = list(&mut rest)?;
        let dirs = list(&mut rest)?;
        let engine = string(&mut rest)?;
        let has_invoke = match take(&mut rest, 1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(SpecError("bad invoke flag")),
        };
        let invoke = Some(string(&mut rest)?).filter(|_| has_invoke);
        let has_max_memory = match take(&mut rest, 1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(SpecError("bad memory-cap flag")),
        };
        let max_memory = Some(dword(&mut rest)?).filter(|_| has_max_memory);
        let timeout_ms = Some(dword(&mut rest)?).filter(|m| *m != 0);
        let unknown_imports = match take(&mut rest, 1)?[0] {
            0 => UnknownImports::Reject,
            1 => UnknownImports::DefaultValues,
            2 => UnknownImports::Trap,
            _ => return Err(SpecError("bad unknown-imports mode")),
        };
        let shared_ram = match take(&mut rest, 1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(SpecError("bad shared-RAM flag")),
        };
        let terminals = take(&mut rest, 1)?[0];
        if terminals & !(TTY_STDIN | TTY_STDOUT | TTY_STDERR) != 0 {
            return Err(SpecError("bad terminal flags"));
        }
        if !rest.is_empty() {
            return Err(SpecError("trailing bytes after run spec"));
        }
        Ok(RunSpec {
            module,
            display_name,
            argv,
            env,
            dirs,
            engine,
            invoke,
            max_memory,
            timeout_ms,
            unknown_imports,
            shared_ram,
            terminals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_across_split_reads() {
        let frames = vec![
            Frame::Stdout(b"hello\n".to_vec()),
            Frame::Stderr(vec![0, 255, 10]),
            Frame::DirChunk {
                index: 2,
                data: b"tar".to_vec(),
            },
            Frame::Stdin(Vec::new()),
            Frame::StdinEof,
            Frame::DirInRam {
                index: 1,
                runs: vec![(0x10_0000, 4096), (u64::MAX - 7, 7)],
            },
            Frame::OutSlot {
                index: 31,
                state_at: 0x1234_5678,
                runs: vec![(0x20_0000, 65536)],
            },
            Frame::OutInSlot {
                stderr: true,
                index: 31,
                len: 65536,
            },
            Frame::InSlot {
                index: 3,
                state_at: 0x42,
                runs: vec![(0x30_0000, 4096), (0x50_0000, 61440)],
            },
            Frame::StdinInSlot { index: 3, len: 7 },
            Frame::OutStatus { state_at: 0x77 },
            Frame::TimeRequest,
            Frame::Time(1_763_800_000_123_456_789),
            Frame::FetchArea {
                control_at: 0x9000,
                runs: vec![(0x40_0000, 1 << 20)],
            },
            Frame::Fetch {
                file: 7,
                offset: 3 << 30,
                len: 1 << 20,
            },
            Frame::Exit(42),
        ];
        let mut wire = Vec::new();
        for f in &frames {
            f.encode_into(&mut wire);
        }
        // Feed one byte at a time: frames come out whole and in order.
        let mut dec = Decoder::new();
        let mut got = Vec::new();
        for b in &wire {
            dec.push(core::slice::from_ref(b));
            while let Some(f) = dec.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn chunking_splits_large_payloads() {
        let data = vec![7u8; MAX_PAYLOAD * 2 + 10];
        let mut wire = Vec::new();
        encode_chunked(&data, &mut wire, Frame::Stdout);
        let mut dec = Decoder::new();
        dec.push(&wire);
        let mut total = Vec::new();
        while let Some(Frame::Stdout(d)) = dec.next_frame().unwrap() {
            assert!(d.len() <= MAX_PAYLOAD);
            total.extend(d);
        }
        assert_eq!(total, data);
    }

    #[test]
    fn dir_in_ram_runs_split_into_frames_that_fit() {
        let runs: Vec<(u64, u64)> = (0..200_000u64).map(|i| (i << 12, 4096)).collect();
        let frames: Vec<Frame> = dir_in_ram_frames(3, &runs).collect();
        assert!(frames.len() > 1);
        let mut back = Vec::new();
        for f in frames {
            let mut wire = Vec::new();
            f.encode_into(&mut wire);
            assert!(wire.len() - HEADER_LEN <= MAX_PAYLOAD);
            match f {
                Frame::DirInRam { index: 3, runs } => back.extend(runs),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(back, runs);
    }

    #[test]
    fn malformed_frames_are_errors() {
        let mut dec = Decoder::new();
        dec.push(&[99, 0, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(DecodeError::UnknownKind(99)));
        let mut dec = Decoder::new();
        dec.push(&[1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(dec.next_frame(), Err(DecodeError::TooLong(u32::MAX)));
        let mut dec = Decoder::new();
        dec.push(&[4, 1, 0, 0, 0, 9]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(4)));
        let mut dec = Decoder::new();
        dec.push(&[3, 2, 0, 0, 0, 1, 2]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(3)));
        // A run list that is not whole (address, length) pairs.
        let mut dec = Decoder::new();
        dec.push(&[7, 6, 0, 0, 0, 1, 0, 0, 0, 5, 5]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(7)));
        // An output-slot frame with a stream byte other than 0 and 1, or the wrong size.
        let mut dec = Decoder::new();
        dec.push(&[9, 9, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(9)));
        let mut dec = Decoder::new();
        dec.push(&[8, 4, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(8)));
        let mut dec = Decoder::new();
        dec.push(&[11, 4, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(11)));
        // A time request carries nothing; a time, exactly eight bytes.
        let mut dec = Decoder::new();
        dec.push(&[13, 1, 0, 0, 0, 0]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(13)));
        let mut dec = Decoder::new();
        dec.push(&[14, 4, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(14)));
        let mut dec = Decoder::new();
        dec.push(&[15, 4, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(15)));
        let mut dec = Decoder::new();
        dec.push(&[16, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(dec.next_frame(), Err(DecodeError::BadPayload(16)));
    }

    #[test]
    fn prefix_runs_takes_the_first_bytes() {
        let runs = [(0x1000, 100), (0x5000, 50)];
        assert_eq!(prefix_runs(&runs, 0), Some(vec![]));
        assert_eq!(prefix_runs(&runs, 60), Some(vec![(0x1000, 60)]));
        assert_eq!(
            prefix_runs(&runs, 120),
            Some(vec![(0x1000, 100), (0x5000, 20)])
        );
        assert_eq!(prefix_runs(&runs, 150), Some(runs.to_vec()));
        assert_eq!(prefix_runs(&runs, 151), None);
    }

    #[test]
    fn run_spec_round_trips_and_rejects_garbage() {
        let spec = RunSpec {
            module: "/run/prog.wasm".into(),
            display_name: "./prog.wasm".into(),
            argv: vec!["prog.wasm".into(), "a b\nc".into(), "".into()],
            env: vec!["K=V".into()],
            dirs: vec!["/data".into(), ".".into()],
            engine: "interp".into(),
            invoke: Some("add".into()),
            max_memory: Some(256 << 20),
            timeout_ms: Some(1500),
            unknown_imports: UnknownImports::Trap,
            shared_ram: true,
            terminals: TTY_STDIN | TTY_STDERR,
        };
        let bytes = spec.encode();
        assert_eq!(RunSpec::decode(&bytes), Ok(spec.clone()));
        for cut in 0..bytes.len() {
            assert!(RunSpec::decode(&bytes[..cut]).is_err());
        }
        // `--invoke ''` (the default export) is not the same as no `--invoke`, nor a cap
        // of 0 bytes the same as none.
        for (invoke, max_memory) in [(Some(String::new()), Some(0)), (None, None)] {
            let spec = RunSpec {
                invoke,
                max_memory,
                ..spec.clone()
            };
            assert_eq!(RunSpec::decode(&spec.encode()), Ok(spec));
        }
        // Only the three stdio bits are defined.
        let mut bad_terminals = bytes.clone();
        *bad_terminals.last_mut().unwrap() = 8;
        assert!(RunSpec::decode(&bad_terminals).is_err());
        let mut huge = b"CLEWRUN8".to_vec();
        huge.extend_from_slice(&0u32.to_le_bytes());
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(RunSpec::decode(&huge).is_err());
    }
}
