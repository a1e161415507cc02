//! A regular file's bytes: its own, in chunks of [`CHUNK`] bytes, or a slice of an archive
//! that stays in memory for good ([`crate::Vfs::load_tar_static`]: the kernel's boot
//! archive), copied into chunks on the first change, or the host's (a *remote* file:
//! `clew run` packs large `--dir` files without their contents), of which the chunks
//! read so far are kept as a cache that can be dropped (`remote.rs` fetches them).
//!
//! Chunks keep a large file from needing one contiguous buffer (a 600 MiB file would need
//! a 1 GiB vector, and both while it grows), and let a file have holes, as sparse files
//! on Linux do: bytes never written read as zeros and take no memory, so `ftruncate` to
//! gigabytes or a write far past the end costs only the chunk slots in between (24 bytes
//! per 64 KiB). Used by `tree.rs` (which charges [`FileData::stored`] against the size
//! limit) and `tar.rs` (which writes [`FileData::segments`]).

use alloc::vec::Vec;

/// Bytes per chunk (and the most a chunk's vector holds).
pub(crate) const CHUNK: usize = 64 << 10;

/// What one chunk slot costs besides the chunk's bytes (its vector header).
const SLOT_COST: u64 = core::mem::size_of::<Vec<u8>>() as u64;

/// Zeros to hand out for holes.
static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// An allocation for the file's bytes failed; nothing changed.
#[derive(Debug)]
pub(crate) struct NoMemory;

/// A regular file's bytes.
pub(crate) enum FileData {
    /// The file's own bytes: chunk `i` holds bytes `[i * CHUNK, (i + 1) * CHUNK)`, as far
    /// as its vector goes; past that (up to `len`) they are zeros. There is one chunk per
    /// `CHUNK` bytes of `len`, and none holds bytes at or past `len`.
    Owned { len: u64, chunks: Vec<Vec<u8>> },
    /// Bytes of an archive that stays in memory for good.
    Static(&'static [u8]),
    /// Bytes kept by the host, remote file number `id` (see [`crate::Fetcher`]): chunk
    /// `i` has been fetched when its vector is not empty, and then holds all the bytes of
    /// its slot (a slot of a file is never empty). `chunks` is empty until the first fetch.
    Remote {
        id: u64,
        len: u64,
        chunks: Vec<Vec<u8>>,
    },
}

/// Chunks needed for `len` bytes.
fn slots(len: u64) -> u64 {
    len.div_ceil(CHUNK as u64)
}

/// The capacity a chunk of capacity `cap` grows to for `upto` bytes: doubling keeps small
/// appends cheap; a chunk never exceeds CHUNK.
fn chunk_target(cap: usize, upto: usize) -> usize {
    cap.saturating_mul(2).clamp(upto, CHUNK)
}

/// How many bytes of chunk `index` lie within a file of `len` bytes.
fn slot_len(len: u64, index: u64) -> usize {
    (len - index * CHUNK as u64).min(CHUNK as u64) as usize
}

impl FileData {
    /// An empty file of its own.
    pub(crate) const fn empty() -> Self {
        FileData::Owned {
            len: 0,
            chunks: Vec::new(),
        }
    }

    /// The file's size.
    pub(crate) fn len(&self) -> u64 {
        match self {
            FileData::Owned { len, .. } => *len,
            FileData::Static(s) => s.len() as u64,
            FileData::Remote { len, .. } => *len,
        }
    }

    /// Bytes the file holds in memory, as charged against the size limit: its chunks'
    /// bytes and slots (for archive bytes, what their copy will take, so a file costs the
    /// same borrowed or copied).
    pub(crate) fn stored(&self) -> u64 {
        match self {
            FileData::Owned { chunks, .. } | FileData::Remote { chunks, .. } => {
                chunks.iter().map(|c| c.capacity() as u64).sum::<u64>()
                    + chunks.capacity() as u64 * SLOT_COST
            }
            FileData::Static(s) => s.len() as u64 + slots(s.len() as u64) * SLOT_COST,
        }
    }

    /// Copies bytes from `offset` into `buf`; returns how many (0 at or past the end). Of a
    /// remote file, the chunks in that range must have been fetched ([`FileData::missing`]).
    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let len = self.len();
        if offset >= len {
            return 0;
        }
        let n = (len - offset).min(buf.len() as u64) as usize;
        match self {
            FileData::Static(s) => buf[..n].copy_from_slice(&s[offset as usize..][..n]),
            FileData::Owned { chunks, .. } | FileData::Remote { chunks, .. } => {
                let mut done = 0;
                while done < n {
                    let at = offset + done as u64;
                    let index = at / CHUNK as u64;
                    let within = (at % CHUNK as u64) as usize;
                    let take = (CHUNK - within).min(n - done);
                    let chunk = chunks.get(index as usize).map_or(&[][..], |c| &c[..]);
                    let have = chunk.len().saturating_sub(within).min(take);
                    buf[done..done + have]
                        .copy_from_slice(&chunk[within.min(chunk.len())..][..have]);
                    buf[done + have..done + take].fill(0);
                    done += take;
                }
            }
        }
        n
    }

    /// The file's bytes in order, as slices (its chunks, and zeros for holes). A remote
    /// file must have been fetched whole.
    pub(crate) fn segments(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let (statics, owned) = match self {
            FileData::Static(s) => (Some(*s).filter(|s| !s.is_empty()), None),
            FileData::Owned { len, chunks } | FileData::Remote { len, chunks, .. } => {
                (None, Some((*len, chunks)))
            }
        };
        let chunked = owned.into_iter().flat_map(|(len, chunks)| {
            chunks.iter().enumerate().flat_map(move |(i, c)| {
                let want = slot_len(len, i as u64);
                let data = &c[..c.len().min(want)];
                let zeros = &ZEROS[..want - data.len()];
                [data, zeros].into_iter().filter(|s| !s.is_empty())
            })
        });
        statics.into_iter().chain(chunked)
    }

    /// Makes the bytes the file's own (copying at most the first `keep` of an archive's,
    /// or keeping the fetched chunks of a remote file's first `keep`, which must all have
    /// been fetched; they become the whole file). Returns the change in
    /// [`FileData::stored`].
    pub(crate) fn make_owned(&mut self, keep: u64) -> Result<i64, NoMemory> {
        let before = self.stored() as i64;
        if let FileData::Remote { len, chunks, .. } = self {
            let new_len = keep.min(*len);
            let mut chunks = core::mem::take(chunks);
            let keep_slots = slots(new_len) as usize;
            chunks.truncate(keep_slots);
            // An unfetched file has no slots yet: give it its (empty) ones.
            chunks.resize_with(keep_slots, Vec::new);
            if let Some(last) = chunks.last_mut() {
                last.truncate(slot_len(new_len, keep_slots as u64 - 1));
            }
            *self = FileData::Owned {
                len: new_len,
                chunks,
            };
            return Ok(self.stored() as i64 - before);
        }
        let FileData::Static(s) = *self else {
            return Ok(0);
        };
        let part = &s[..keep.min(s.len() as u64) as usize];
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        chunks
            .try_reserve_exact(part.len().div_ceil(CHUNK))
            .map_err(|_| NoMemory)?;
        for piece in part.chunks(CHUNK) {
            let mut c = Vec::new();
            c.try_reserve_exact(piece.len()).map_err(|_| NoMemory)?;
            c.extend_from_slice(piece);
            chunks.push(c);
        }
        *self = FileData::Owned {
            len: part.len() as u64,
            chunks,
        };
        Ok(self.stored() as i64 - before)
    }

    /// About how much [`FileData::stored`] grows if `n` bytes are written at `offset` (the
    /// file must be owned): the chunks' new capacity exactly, the slots at most.
    pub(crate) fn write_growth(&self, offset: u64, n: u64) -> u64 {
        let FileData::Owned { len, chunks } = self else {
            return 0;
        };
        if n == 0 {
            return 0;
        }
        let end = offset.saturating_add(n);
        let new_slots = slots(end.max(*len)).saturating_sub(chunks.capacity() as u64);
        // Doubling may reserve as many slots again.
        let mut growth = new_slots.saturating_mul(2 * SLOT_COST);
        for index in offset / CHUNK as u64..=(end - 1) / CHUNK as u64 {
            let upto = (end - index * CHUNK as u64).min(CHUNK as u64) as usize;
            let cap = chunks.get(index as usize).map_or(0, |c| c.capacity());
            if upto > cap {
                growth = growth.saturating_add((chunk_target(cap, upto) - cap) as u64);
            }
        }
        growth
    }

    /// Writes `data` at `offset`, zero-filling any gap, extending the file as needed (the
    /// file must be owned; the caller has charged [`FileData::write_growth`]). On
    /// [`NoMemory`] nothing changed.
    pub(crate) fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), NoMemory> {
        if data.is_empty() {
            return Ok(());
        }
        self.materialize(offset, data.len() as u64)?;
        let FileData::Owned { chunks, .. } = self else {
            return Err(NoMemory);
        };
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let index = (at / CHUNK as u64) as usize;
            let within = (at % CHUNK as u64) as usize;
            let take = (CHUNK - within).min(data.len() - done);
            chunks[index][within..within + take].copy_from_slice(&data[done..done + take]);
            done += take;
        }
        Ok(())
    }

    /// Gives bytes `[offset, offset + n)` memory of their own (zeros where they were a hole
    /// or past the end), extending the file as needed: `fd_allocate`, and the first half of
    /// a write (the file must be owned; the caller has charged [`FileData::write_growth`]).
    /// On [`NoMemory`] nothing changed.
    pub(crate) fn materialize(&mut self, offset: u64, n: u64) -> Result<(), NoMemory> {
        let FileData::Owned { len, chunks } = self else {
            return Err(NoMemory);
        };
        if n == 0 {
            return Ok(());
        }
        let end = offset.checked_add(n).ok_or(NoMemory)?;
        let first = offset / CHUNK as u64;
        let last = (end - 1) / CHUNK as u64;
        let old_slots = chunks.len();
        let new_slots = usize::try_from(slots(end.max(*len))).map_err(|_| NoMemory)?;
        // Make every allocation first, so that a failure leaves the file as it was. A
        // small file gets exactly its slots; a growing one the vector's usual doubling.
        let more = new_slots - old_slots;
        if old_slots == 0 {
            chunks.try_reserve_exact(more)
        } else {
            chunks.try_reserve(more)
        }
        .map_err(|_| NoMemory)?;
        chunks.resize_with(new_slots, Vec::new);
        for index in first..=last {
            let upto = (end - index * CHUNK as u64).min(CHUNK as u64) as usize;
            let c = &mut chunks[index as usize];
            if upto > c.capacity() {
                let target = chunk_target(c.capacity(), upto);
                if c.try_reserve_exact(target - c.len()).is_err() {
                    chunks.truncate(old_slots);
                    return Err(NoMemory);
                }
            }
        }
        for index in first..=last {
            let upto = (end - index * CHUNK as u64).min(CHUNK as u64) as usize;
            let c = &mut chunks[index as usize];
            if c.len() < upto {
                c.resize(upto, 0);
            }
        }
        *len = (*len).max(end);
        Ok(())
    }

    /// At most how much [`FileData::stored`] grows if the file becomes `new_len` bytes long
    /// (the file must be owned; only chunk slots for the new holes).
    pub(crate) fn set_len_growth(&self, new_len: u64) -> u64 {
        match self {
            FileData::Owned { chunks, .. } => slots(new_len)
                .saturating_sub(chunks.capacity() as u64)
                .saturating_mul(2 * SLOT_COST),
            FileData::Static(_) | FileData::Remote { .. } => 0,
        }
    }

    /// Truncates or extends (with a hole) the file to `new_len` (the file must be owned;
    /// the caller has charged [`FileData::set_len_growth`]). On [`NoMemory`] nothing
    /// changed.
    pub(crate) fn set_len(&mut self, new_len: u64) -> Result<(), NoMemory> {
        let FileData::Owned { len, chunks } = self else {
            return Err(NoMemory);
        };
        let new_slots = usize::try_from(slots(new_len)).map_err(|_| NoMemory)?;
        if new_slots > chunks.len() {
            let more = new_slots - chunks.len();
            if chunks.is_empty() {
                chunks.try_reserve_exact(more)
            } else {
                chunks.try_reserve(more)
            }
            .map_err(|_| NoMemory)?;
            chunks.resize_with(new_slots, Vec::new);
        } else {
            chunks.truncate(new_slots);
            if chunks.capacity() > 2 * chunks.len() + 16 {
                chunks.shrink_to_fit();
            }
        }
        if new_len < *len {
            if let Some(c) = chunks.last_mut() {
                c.truncate(slot_len(new_len, new_slots as u64 - 1));
                if c.capacity() > 2 * c.len() + 4096 {
                    c.shrink_to_fit();
                }
            }
        }
        *len = new_len;
        Ok(())
    }
}

/// Remote files (`remote.rs`): which chunks to fetch, placing them, dropping the cache.
impl FileData {
    /// The first run of unfetched chunks of a remote file that bytes `[offset, offset +
    /// n)` need, as (first chunk, chunks): from the first missing one in the range on, as
    /// many as follow it unfetched, up to `most` (reading ahead past the range), within
    /// the file. `None` when nothing is missing or the file is not remote.
    pub(crate) fn missing(&self, offset: u64, n: u64, most: u64) -> Option<(u64, u64)> {
        let FileData::Remote { len, chunks, .. } = self else {
            return None;
        };
        let end = offset.saturating_add(n).min(*len);
        if offset >= end {
            return None;
        }
        let fetched = |i: u64| chunks.get(i as usize).is_some_and(|c| !c.is_empty());
        let first = (offset / CHUNK as u64..=(end - 1) / CHUNK as u64).find(|&i| !fetched(i))?;
        let total = slots(*len);
        let mut count = 1;
        while count < most && first + count < total && !fetched(first + count) {
            count += 1;
        }
        Some((first, count))
    }

    /// The bytes chunks `[first, first + count)` of a remote file hold (the last may be
    /// short: the file's end).
    pub(crate) fn span_len(&self, first: u64, count: u64) -> u64 {
        let len = self.len();
        ((first + count) * CHUNK as u64).min(len) - first * CHUNK as u64
    }

    /// What giving a remote file fetched chunks `[first, first + count)` will add to
    /// [`FileData::stored`] (their bytes, and the slots on the first fetch).
    pub(crate) fn fetch_growth(&self, first: u64, count: u64) -> u64 {
        let FileData::Remote { len, chunks, .. } = self else {
            return 0;
        };
        let slot_bytes = if chunks.capacity() == 0 {
            slots(*len).saturating_mul(SLOT_COST)
        } else {
            0
        };
        slot_bytes + self.span_len(first, count)
    }

    /// Empty vectors with room for chunks `[first, first + count)` of a remote file, for
    /// the fetcher to fill; `None` if memory ran out.
    pub(crate) fn fetch_buffers(&self, first: u64, count: u64) -> Option<Vec<Vec<u8>>> {
        let len = self.len();
        let mut out = Vec::new();
        out.try_reserve_exact(count as usize).ok()?;
        for i in first..first + count {
            let mut c = Vec::new();
            c.try_reserve_exact(slot_len(len, i)).ok()?;
            c.resize(slot_len(len, i), 0);
            out.push(c);
        }
        Some(out)
    }

    /// Puts fetched chunks (from [`FileData::fetch_buffers`], filled) at `first` of a
    /// remote file; `Err` (nothing changed) if memory for the slots ran out.
    pub(crate) fn place(&mut self, first: u64, fetched: Vec<Vec<u8>>) -> Result<(), NoMemory> {
        let FileData::Remote { len, chunks, .. } = self else {
            return Err(NoMemory);
        };
        if chunks.is_empty() {
            let total = usize::try_from(slots(*len)).map_err(|_| NoMemory)?;
            chunks.try_reserve_exact(total).map_err(|_| NoMemory)?;
            chunks.resize_with(total, Vec::new);
        }
        for (i, c) in fetched.into_iter().enumerate() {
            chunks[first as usize + i] = c;
        }
        Ok(())
    }

    /// Drops a remote file's fetched chunks (they can be fetched again); returns the
    /// bytes [`FileData::stored`] went down by.
    pub(crate) fn drop_cache(&mut self) -> u64 {
        let before = self.stored();
        if let FileData::Remote { chunks, .. } = self {
            *chunks = Vec::new();
        }
        before - self.stored()
    }

    /// Drops a remote file's fetched chunks outside bytes `[offset, offset + n)`; returns
    /// the bytes [`FileData::stored`] went down by.
    pub(crate) fn drop_cache_outside(&mut self, offset: u64, n: u64) -> u64 {
        let FileData::Remote { chunks, .. } = self else {
            return 0;
        };
        let first = offset / CHUNK as u64;
        let end = offset.saturating_add(n).div_ceil(CHUNK as u64);
        let mut freed = 0;
        for (i, c) in chunks.iter_mut().enumerate() {
            if !(first..end).contains(&(i as u64)) {
                freed += c.capacity() as u64;
                *c = Vec::new();
            }
        }
        freed
    }

    /// The remote file number, for a remote file.
    pub(crate) fn remote_id(&self) -> Option<u64> {
        match self {
            FileData::Remote { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether a remote file has been fetched whole (walks its chunks: for dumps, not
    /// for every read).
    pub(crate) fn fetched_whole(&self) -> bool {
        self.missing(0, self.len(), 1).is_none()
    }
}
