//! The boot archive: a ustar (POSIX.1-1988 / pax) reader and writer over the inode tree.
//!
//! Written here rather than taken from crates.io because the maintained tar crates (`tar`,
//! `tokio-tar`) need std and the no_std ones read but do not write (or the reverse); the
//! format subset we need is small. Reading accepts ustar and GNU headers, pax extended
//! headers (`x`: `path`, `linkpath`, `mtime` with fractions, `size`; `g` is skipped) and
//! GNU long names (`L`, `K`), base-256 numbers, and the entry types regular file (`0`, NUL,
//! `7`), hard link (`1`), symlink (`2`) and directory (`5`); devices and FIFOs are skipped.
//! Writing produces ustar with a pax `x` header whenever a name or link target exceeds 100
//! bytes, a size exceeds the 11 octal digits, or the mtime has a fractional second (so
//! nanosecond mtimes survive a round trip, which `dirsync` relies on).
//!
//! Every read is bounds-checked: a truncated or garbage archive is an
//! [`ArchiveError::Malformed`], never a panic. Names with a `..` component are refused, so
//! an archive cannot place anything outside the directory it is loaded into.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::tree::{Body, Ino, Vfs};
use crate::{ArchiveError, Error, FileKind};

const BLOCK: usize = 512;
const NS_PER_S: u64 = 1_000_000_000;

fn malformed(what: &'static str, offset: usize) -> ArchiveError {
    ArchiveError::Malformed { what, offset }
}

/// Bytes of a header field up to its first NUL.
fn field_str(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// A numeric header field: octal digits (leading spaces, ended by NUL or space), or GNU
/// base-256 when the high bit of the first byte is set.
fn parse_number(field: &[u8], offset: usize) -> Result<u64, ArchiveError> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            if first & 0x40 != 0 {
                return Err(malformed("negative base-256 number", offset));
            }
            let mut value: u64 = u64::from(first & 0x3f);
            for &byte in &field[1..] {
                value = value
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(byte)))
                    .ok_or(malformed("number out of range", offset))?;
            }
            return Ok(value);
        }
    }
    let mut value: u64 = 0;
    for &byte in field.iter().skip_while(|&&b| b == b' ') {
        match byte {
            b'0'..=b'7' => {
                value = value
                    .checked_mul(8)
                    .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                    .ok_or(malformed("number out of range", offset))?;
            }
            0 | b' ' => break,
            _ => return Err(malformed("bad octal number", offset)),
        }
    }
    Ok(value)
}

fn utf8(bytes: &[u8], offset: usize) -> Result<String, ArchiveError> {
    core::str::from_utf8(bytes)
        .map(String::from)
        .map_err(|_| malformed("name is not UTF-8", offset))
}

/// Overrides carried by pax `x` and GNU `L`/`K` entries for the entry that follows.
#[derive(Default)]
struct Overrides {
    path: Option<String>,
    link: Option<String>,
    mtime_ns: Option<u64>,
    size: Option<u64>,
    unchanged: bool,
    /// `CLEW.remote`: remote file number and size.
    remote: Option<(u64, u64)>,
}

/// The pax key of Clew's "this file is unchanged since it was loaded" marker (pax reserves
/// upper-case vendor prefixes for such extensions; other readers ignore the record and see
/// an empty file).
const UNCHANGED_KEY: &str = "CLEW.unchanged";

/// The pax key of Clew's remote files (`remote.rs`): "<number>:<size>" for an entry with no
/// contents whose bytes a [`crate::Fetcher`] reads (other readers see an empty file).
const REMOTE_KEY: &str = "CLEW.remote";

/// Parses pax `mtime` ("seconds[.fraction]", possibly negative: clamped to 0).
fn parse_pax_time(value: &str) -> Option<u64> {
    if value.starts_with('-') {
        return Some(0);
    }
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: u64 = secs.parse().ok()?;
    let mut nanos: u64 = 0;
    let mut scale = NS_PER_S / 10;
    for c in frac.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        nanos += u64::from(c - b'0') * scale;
        scale /= 10;
    }
    secs.checked_mul(NS_PER_S)?.checked_add(nanos)
}

/// Parses pax records: `"<len> <key>=<value>\n"`, `len` counting the whole record.
fn parse_pax(data: &[u8], into: &mut Overrides, offset: usize) -> Result<(), ArchiveError> {
    let bad = || malformed("bad pax record", offset);
    let mut rest = data;
    while !rest.is_empty() {
        // Some writers pad the data with NULs.
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
        let len: usize = core::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let record = &rest[space + 1..len - 1];
        rest = &rest[len..];
        let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
        let key = &record[..eq];
        let value = core::str::from_utf8(&record[eq + 1..]).map_err(|_| bad())?;
        match key {
            b"path" => into.path = Some(String::from(value)),
            b"linkpath" => into.link = Some(String::from(value)),
            b"mtime" => into.mtime_ns = Some(parse_pax_time(value).ok_or_else(bad)?),
            b"size" => into.size = Some(value.parse().map_err(|_| bad())?),
            k if k == UNCHANGED_KEY.as_bytes() => into.unchanged = value == "1",
            k if k == REMOTE_KEY.as_bytes() => {
                let (id, size) = value.split_once(':').ok_or_else(bad)?;
                into.remote = Some((
                    id.parse().map_err(|_| bad())?,
                    size.parse().map_err(|_| bad())?,
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Splits an archive path into components, dropping `.`, empty ones and a leading `/`;
/// refuses `..` so an entry cannot land outside the directory being loaded.
fn archive_components(path: &str, offset: usize) -> Result<Vec<&str>, ArchiveError> {
    let mut out = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(malformed("entry name contains '..'", offset)),
            c if c.len() > crate::MAX_NAME_LEN => {
                return Err(malformed("entry name component too long", offset))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl Vfs {
    /// Finds or creates (like `mkdir -p`) the directories `components` under `dir`,
    /// without following symlinks.
    fn archive_dirs(&mut self, dir: Ino, components: &[&str]) -> Result<Ino, Error> {
        let mut current = dir;
        for &component in components {
            current = match self.entries(current)?.get(component).copied() {
                Some(ino) => {
                    // `kind_of`, not `metadata`: a directory's metadata counts its
                    // subdirectories, which made loading a large directory quadratic.
                    if self.kind_of(ino)? != FileKind::Directory {
                        return Err(Error::NotDir);
                    }
                    ino
                }
                None => self.mkdir(current, component)?,
            };
        }
        Ok(current)
    }

    /// Removes a non-directory `name` in `dir` so that a later archive entry replaces it,
    /// as `tar -x` does.
    fn archive_replace(&mut self, dir: Ino, name: &str) -> Result<(), Error> {
        if let Some(&ino) = self.entries(dir)?.get(name) {
            if self.kind_of(ino)? == FileKind::Directory {
                return Err(Error::IsDir);
            }
            self.unlink(dir, name)?;
        }
        Ok(())
    }

    /// Builds the tree of a ustar archive under directory `dir`: directories, files,
    /// symlinks and hard links, with their mtimes (modes, owners and device entries are
    /// ignored). Entries replace existing non-directories of the same name; directories
    /// merge. Parents missing from the archive are created. A malformed archive is an
    /// error, possibly after some entries were created.
    pub fn load_tar(&mut self, dir: Ino, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.load_archive(dir, bytes, None)
    }

    /// [`Vfs::load_tar`] from an archive that stays in memory, unchanged, for good (the
    /// kernel's boot archive): files borrow their bytes from it instead of copying them,
    /// until they are first changed. A 100 MB `--dir` tree loads in a fraction of the time
    /// and is not held twice.
    pub fn load_tar_static(&mut self, dir: Ino, bytes: &'static [u8]) -> Result<(), ArchiveError> {
        self.load_archive(dir, bytes, Some(bytes))
    }

    /// The loader of both: `bytes`, and the same bytes as `'static` when files may borrow.
    fn load_archive(
        &mut self,
        dir: Ino,
        bytes: &[u8],
        borrow: Option<&'static [u8]>,
    ) -> Result<(), ArchiveError> {
        self.entries(dir)?;
        // Loading links and replaces names; that moves nothing from where it was loaded.
        let names_changed = self.names_changed;
        let loaded = self.load_entries(dir, bytes, borrow);
        self.names_changed = names_changed;
        loaded
    }

    fn load_entries(
        &mut self,
        dir: Ino,
        bytes: &[u8],
        borrow: Option<&'static [u8]>,
    ) -> Result<(), ArchiveError> {
        let base_prefix = self.dir_prefix(dir)?;
        let mut pos = 0usize;
        let mut overrides = Overrides::default();
        // Directory mtimes are applied last: creating their entries would change them.
        let mut dir_times: Vec<(Ino, u64)> = Vec::new();
        loop {
            let header_at = pos;
            let header = bytes
                .get(pos..pos + BLOCK)
                .ok_or(malformed("truncated archive (no end marker)", pos))?;
            if header.iter().all(|&b| b == 0) {
                break;
            }
            let stored_sum = parse_number(&header[148..156], pos)?;
            let sum: u64 = header
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(b)
                    }
                })
                .sum();
            if sum != stored_sum {
                return Err(malformed("header checksum mismatch", pos));
            }
            if &header[257..262] != b"ustar" {
                return Err(malformed("not a ustar header", pos));
            }
            let typeflag = header[156];
            let mut size = parse_number(&header[124..136], pos)?;
            if matches!(typeflag, b'0' | 0 | b'7') {
                if let Some(pax_size) = overrides.size {
                    size = pax_size;
                }
            }
            pos += BLOCK;
            let size_usize =
                usize::try_from(size).map_err(|_| malformed("entry too large", pos))?;
            let data_end = pos
                .checked_add(size_usize)
                .filter(|&end| end <= bytes.len())
                .ok_or(malformed("truncated entry data", header_at))?;
            let data_start = pos;
            let data = &bytes[data_start..data_end];
            let padded = size_usize.div_ceil(BLOCK) * BLOCK;
            pos = pos
                .checked_add(padded)
                .ok_or(malformed("entry too large", header_at))?;
            match typeflag {
                b'x' => parse_pax(data, &mut overrides, header_at)?,
                b'g' => {}
                b'L' => overrides.path = Some(utf8(field_str(data), header_at)?),
                b'K' => overrides.link = Some(utf8(field_str(data), header_at)?),
                _ => {
                    let taken = core::mem::take(&mut overrides);
                    let path = match taken.path {
                        Some(path) => path,
                        None => {
                            let name = utf8(field_str(&header[0..100]), header_at)?;
                            // POSIX ustar ("ustar\0") splits long names into prefix/name;
                            // GNU ("ustar  ") uses those bytes for other things.
                            let prefix = field_str(&header[345..500]);
                            if &header[257..263] == b"ustar\0" && !prefix.is_empty() {
                                format!("{}/{}", utf8(prefix, header_at)?, name)
                            } else {
                                name
                            }
                        }
                    };
                    let link = match taken.link {
                        Some(link) => link,
                        None => utf8(field_str(&header[157..257]), header_at)?,
                    };
                    let mtime_ns = match taken.mtime_ns {
                        Some(t) => t,
                        None => {
                            parse_number(&header[136..148], header_at)?.saturating_mul(NS_PER_S)
                        }
                    };
                    let device = if typeflag == b'3' {
                        (
                            parse_number(&header[329..337], header_at)?,
                            parse_number(&header[337..345], header_at)?,
                        )
                    } else {
                        (0, 0)
                    };
                    let entry = Entry {
                        device,
                        typeflag,
                        path: &path,
                        link: &link,
                        data,
                        static_data: borrow.map(|b| &b[data_start..data_end]),
                        mtime_ns,
                        offset: header_at,
                        unchanged: taken.unchanged,
                        remote: taken.remote,
                    };
                    self.load_entry(dir, &base_prefix, &entry, &mut dir_times)
                        .map_err(|e| match e {
                            ArchiveError::Fs { error, .. } => ArchiveError::Fs {
                                path: path.clone(),
                                error,
                            },
                            other => other,
                        })?;
                }
            }
        }
        for (ino, mtime) in dir_times.into_iter().rev() {
            // A directory replaced later in the archive may be gone: ignore it.
            let _ = self.set_times(ino, Some(mtime), Some(mtime));
        }
        Ok(())
    }

    fn load_entry(
        &mut self,
        root: Ino,
        base_prefix: &str,
        entry: &Entry<'_>,
        dir_times: &mut Vec<(Ino, u64)>,
    ) -> Result<(), ArchiveError> {
        let components = archive_components(entry.path, entry.offset)?;
        let Some((&name, parents)) = components.split_last() else {
            // "./" names the directory being loaded into.
            if entry.typeflag == b'5' {
                dir_times.push((root, entry.mtime_ns));
            }
            return Ok(());
        };
        let mtime = Some(entry.mtime_ns);
        match entry.typeflag {
            b'5' => {
                let parent = self.archive_dirs(root, parents)?;
                let ino = match self.entries(parent)?.get(name).copied() {
                    Some(ino) if self.kind_of(ino)? == FileKind::Directory => ino,
                    _ => {
                        self.archive_replace(parent, name)?;
                        self.mkdir(parent, name)?
                    }
                };
                dir_times.push((ino, entry.mtime_ns));
            }
            b'0' | 0 | b'7' => {
                let parent = self.archive_dirs(root, parents)?;
                self.archive_replace(parent, name)?;
                let (ino, _) = self.create_file(parent, name, true)?;
                match (entry.remote, entry.static_data) {
                    (Some((id, len)), _) if entry.data.is_empty() => {
                        self.set_remote(ino, id, len)?
                    }
                    (Some(_), _) => {
                        return Err(malformed("remote entry with contents", entry.offset))
                    }
                    (None, Some(data)) => self.set_static_data(ino, data)?,
                    (None, None) => {
                        self.write_at(ino, 0, entry.data)?;
                    }
                }
                self.set_times(ino, mtime, mtime)?;
                let node = self.node_mut(ino)?;
                node.unchanged_marker = entry.unchanged;
                node.origin = Some(format!("{base_prefix}{}", components.join("/")).into());
            }
            b'2' => {
                let parent = self.archive_dirs(root, parents)?;
                self.archive_replace(parent, name)?;
                let ino = self.symlink(entry.link, parent, name)?;
                self.set_times(ino, mtime, mtime)?;
            }
            b'1' => {
                let target_components = archive_components(entry.link, entry.offset)?;
                let mut target = root;
                for &component in &target_components {
                    target = *self
                        .entries(target)?
                        .get(component)
                        .ok_or(Error::NotFound)?;
                }
                let parent = self.archive_dirs(root, parents)?;
                if self.entries(parent)?.get(name) == Some(&target) {
                    return Ok(());
                }
                self.archive_replace(parent, name)?;
                self.link(target, parent, name)?;
            }
            // Character devices the tree can hold (`Device`); others, block devices, FIFOs
            // and unknown types have no place here.
            b'3' => {
                let (major, minor) = entry.device;
                let device = u32::try_from(major)
                    .ok()
                    .zip(u32::try_from(minor).ok())
                    .and_then(|(major, minor)| crate::Device::from_numbers(major, minor));
                if let Some(device) = device {
                    let parent = self.archive_dirs(root, parents)?;
                    self.archive_replace(parent, name)?;
                    let ino = self.mknod(parent, name, device)?;
                    self.set_times(ino, mtime, mtime)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes the subtree under directory `dir` as a ustar archive (entries relative to
    /// `dir`, parents before children, a directory's entries in [`Vfs::read_dir`]'s order
    /// (so loading the archive keeps it), two zero blocks at
    /// the end). A file with several names inside the subtree is written once as a regular
    /// file and then as hard links (`1`) to that first path.
    pub fn dump_tar(&self, dir: Ino) -> Result<Vec<u8>, Error> {
        self.dump(dir, false, None, false)
            .map(|out| TarPart::concat(out.parts))
    }

    /// As [`Vfs::dump_tar`], but a regular file that was loaded by [`Vfs::load_tar`] at the
    /// same path and whose content has not changed since is written without its content,
    /// with a `CLEW.unchanged=1` pax record instead: the receiver already has it (files of
    /// two blocks or less are always sent whole, which costs no more than the marker). This is
    /// how the kernel sends a `--dir` tree back to the host through a slow serial port
    /// without resending large inputs; `crates/clew`'s `dirsync::apply` understands it
    /// ([`Vfs::is_unchanged_marker`]).
    pub fn dump_tar_changes(&self, dir: Ino) -> Result<Vec<u8>, Error> {
        self.dump(dir, true, None, false)
            .map(|out| TarPart::concat(out.parts))
    }

    /// [`Vfs::dump_tar_changes`] in parts, where the contents of files of `borrow_from`
    /// bytes or more are borrowed from the tree instead of copied: the archive then costs
    /// little more memory than its headers, however large the files. The kernel hands the
    /// parts' physical addresses to the host, so a `--dir` a program filled with most of
    /// the machine's memory still goes back.
    pub fn dump_tar_changes_parts(
        &self,
        dir: Ino,
        borrow_from: usize,
    ) -> Result<Vec<TarPart<'_>>, Error> {
        self.dump(dir, true, Some(borrow_from), false)
            .map(|out| out.parts)
    }

    /// The remote files [`Vfs::dump_tar_changes`] of `dir` would write with contents that
    /// are not all fetched (see [`Vfs::fetch_for_dump`]).
    pub(crate) fn dump_missing(&self, dir: Ino) -> Result<Vec<Ino>, Error> {
        self.dump(dir, true, Some(0), true)
            .map(|out| out.missing.unwrap_or_default())
    }

    fn dump(
        &self,
        dir: Ino,
        mark_unchanged: bool,
        borrow_from: Option<usize>,
        collect_missing: bool,
    ) -> Result<TarOut<'_>, Error> {
        self.entries(dir)?;
        let base_prefix = if mark_unchanged {
            self.dir_prefix(dir)?
        } else {
            String::new()
        };
        let mut out = TarOut {
            parts: Vec::new(),
            borrow_from,
            missing: collect_missing.then(Vec::new),
        };
        let mut first_path: BTreeMap<Ino, String> = BTreeMap::new();
        // An explicit work list instead of recursion: a guest can nest directories deeply.
        let mut pending: Vec<(Ino, String)> = alloc::vec![(dir, String::new())];
        while let Some((current, prefix)) = pending.pop() {
            let mut subdirs = Vec::new();
            for entry in self.read_dir(current)? {
                let (name, ino) = (entry.name, entry.ino);
                let path = format!("{prefix}{name}");
                let meta = self.metadata(ino)?;
                match &self.node(ino)?.body {
                    Body::Dir { .. } => {
                        let dir_path = format!("{path}/");
                        write_entry(&mut out, b'5', &dir_path, "", meta.mtime_ns)?;
                        subdirs.push((ino, dir_path));
                    }
                    Body::File(data) => {
                        if meta.nlink > 1 {
                            if let Some(first) = first_path.get(&ino) {
                                write_entry(&mut out, b'1', &path, first, meta.mtime_ns)?;
                                continue;
                            }
                            first_path.insert(ino, path.clone());
                        }
                        // A marker costs a pax header block and its data block: only
                        // worth it for files larger than that.
                        let unchanged = mark_unchanged
                            && data.len() > 2 * BLOCK as u64
                            && self.node(ino)?.origin.as_deref()
                                == Some(format!("{base_prefix}{path}").as_str());
                        let remote = data.remote_id();
                        if unchanged {
                            write_marker(&mut out, &path, meta.mtime_ns)?;
                        } else if let (Some(id), false) = (remote, mark_unchanged) {
                            // Packing a host tree: the bytes stay on the host.
                            write_remote(&mut out, &path, id, data.len(), meta.mtime_ns)?;
                        } else if remote.is_some() && !data.fetched_whole() {
                            // Not all here: `Vfs::fetch_for_dump` fetches these first.
                            match &mut out.missing {
                                Some(missing) => missing.push(ino),
                                None => return Err(Error::Io),
                            }
                        } else {
                            write_entry_with(
                                &mut out,
                                b'0',
                                &path,
                                "",
                                data.len(),
                                data.segments(),
                                meta.mtime_ns,
                                String::new(),
                            )?;
                        }
                    }
                    Body::Symlink(target) => {
                        write_entry(&mut out, b'2', &path, target, meta.mtime_ns)?;
                    }
                    Body::Device(device) => {
                        write_device(&mut out, &path, *device, meta.mtime_ns)?;
                    }
                }
            }
            // Reversed so the work list pops them in directory order.
            pending.extend(subdirs.into_iter().rev());
        }
        out.push_bytes(&[0; 2 * BLOCK])?;
        Ok(out)
    }
}

struct Entry<'a> {
    /// A character device's numbers (devmajor, devminor).
    device: (u64, u64),
    unchanged: bool,
    remote: Option<(u64, u64)>,
    typeflag: u8,
    path: &'a str,
    link: &'a str,
    data: &'a [u8],
    /// `data` itself, when the archive lives for good and files may borrow it.
    static_data: Option<&'static [u8]>,
    mtime_ns: u64,
    offset: usize,
}

/// Largest value of an 11-digit octal field (size, mtime).
const MAX_OCTAL_11: u64 = 0o77777777777;

fn put_octal(field: &mut [u8], value: u64) {
    // Zero-padded octal digits, then a NUL.
    let width = field.len() - 1;
    let mut v = value;
    for i in (0..width).rev() {
        field[i] = b'0' + (v & 7) as u8;
        v >>= 3;
    }
    field[width] = 0;
}

fn put_str(field: &mut [u8], value: &str) {
    let bytes = value.as_bytes();
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
}

fn pax_record(records: &mut String, key: &str, value: &str) {
    // The length counts its own digits: iterate to the fixed point.
    let base = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = base + 1;
    loop {
        let with_digits = base + format!("{len}").len();
        if with_digits == len {
            break;
        }
        len = with_digits;
    }
    records.push_str(&format!("{len} {key}={value}\n"));
}

fn header_block(typeflag: u8, name: &str, link: &str, size: u64, mtime_s: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put_str(&mut h[0..100], name);
    let mode = match typeflag {
        b'5' => 0o755,
        b'2' => 0o777,
        _ => 0o644,
    };
    put_octal(&mut h[100..108], mode);
    put_octal(&mut h[108..116], 0);
    put_octal(&mut h[116..124], 0);
    put_octal(&mut h[124..136], if size > MAX_OCTAL_11 { 0 } else { size });
    put_octal(&mut h[136..148], mtime_s.min(MAX_OCTAL_11));
    h[156] = typeflag;
    put_str(&mut h[157..257], link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    seal(&mut h);
    h
}

/// Writes header `h`'s checksum: computed with its own field as spaces; six octal digits,
/// NUL, space.
fn seal(h: &mut [u8; BLOCK]) {
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    put_octal(&mut h[148..155], sum);
    h[155] = b' ';
}

/// A piece of a tar archive written by [`Vfs::dump_tar_changes_parts`]: bytes of its own
/// (headers, small files, padding) or a file's contents borrowed from the tree. The archive
/// is the parts' bytes in order.
#[derive(Debug, PartialEq, Eq)]
pub enum TarPart<'a> {
    /// Bytes written for the archive.
    Owned(Vec<u8>),
    /// A file's contents, in place.
    Borrowed(&'a [u8]),
}

impl TarPart<'_> {
    /// The bytes of the part.
    pub fn bytes(&self) -> &[u8] {
        match self {
            TarPart::Owned(v) => v,
            TarPart::Borrowed(b) => b,
        }
    }

    /// The archive the parts make up, as one vector (taken over when there is one part).
    fn concat(mut parts: Vec<TarPart<'_>>) -> Vec<u8> {
        match parts.as_mut_slice() {
            [TarPart::Owned(v)] => core::mem::take(v),
            _ => parts
                .iter()
                .flat_map(|p| p.bytes().iter().copied())
                .collect(),
        }
    }
}

/// A tar archive being written as [`TarPart`]s.
struct TarOut<'a> {
    parts: Vec<TarPart<'a>>,
    /// File contents of at least this many bytes are borrowed, not copied.
    borrow_from: Option<usize>,
    /// Where [`Vfs::dump_missing`] collects remote files not fetched whole that the dump
    /// would write with contents (without it they are an Io error).
    missing: Option<Vec<Ino>>,
}

impl<'a> TarOut<'a> {
    /// Appends `bytes`, copied (never failing the whole kernel: `NoSpace` when memory for the
    /// copy is short).
    fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if !matches!(self.parts.last(), Some(TarPart::Owned(_))) {
            self.parts.try_reserve(1).map_err(|_| Error::NoSpace)?;
            self.parts.push(TarPart::Owned(Vec::new()));
        }
        let Some(TarPart::Owned(v)) = self.parts.last_mut() else {
            unreachable!("an owned part was just ensured")
        };
        v.try_reserve(bytes.len()).map_err(|_| Error::NoSpace)?;
        v.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends an entry's contents, given as consecutive slices of `size` bytes in all,
    /// padded with zeros to a whole block.
    fn push_contents(
        &mut self,
        size: u64,
        segments: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(), Error> {
        for data in segments {
            if self.borrow_from.is_some_and(|min| data.len() >= min) {
                self.parts.try_reserve(1).map_err(|_| Error::NoSpace)?;
                self.parts.push(TarPart::Borrowed(data));
            } else {
                self.push_bytes(data)?;
            }
        }
        let pad = (size.div_ceil(BLOCK as u64) * BLOCK as u64 - size) as usize;
        self.push_bytes(&[0; BLOCK][..pad])
    }
}

/// An entry without contents (directory, link, symlink, marker).
fn write_entry(
    out: &mut TarOut<'_>,
    typeflag: u8,
    path: &str,
    link: &str,
    mtime_ns: u64,
) -> Result<(), Error> {
    write_entry_with(
        out,
        typeflag,
        path,
        link,
        0,
        core::iter::empty(),
        mtime_ns,
        String::new(),
    )
}

/// An entry with contents of `size` bytes, given as consecutive slices, and extra pax
/// records (already encoded).
#[allow(clippy::too_many_arguments)]
fn write_entry_with<'a>(
    out: &mut TarOut<'a>,
    typeflag: u8,
    path: &str,
    link: &str,
    size: u64,
    contents: impl Iterator<Item = &'a [u8]>,
    mtime_ns: u64,
    mut pax: String,
) -> Result<(), Error> {
    let mtime_s = mtime_ns / NS_PER_S;
    let nanos = mtime_ns % NS_PER_S;
    if path.len() > 100 {
        pax_record(&mut pax, "path", path);
    }
    if link.len() > 100 {
        pax_record(&mut pax, "linkpath", link);
    }
    if nanos != 0 {
        pax_record(&mut pax, "mtime", &format!("{mtime_s}.{nanos:09}"));
    }
    if size > MAX_OCTAL_11 {
        pax_record(&mut pax, "size", &format!("{size}"));
    }
    push_pax(out, &pax, mtime_s)?;
    out.push_bytes(&header_block(typeflag, path, link, size, mtime_s))?;
    out.push_contents(size, contents)
}

/// The pax extended header carrying `pax` (encoded records), if there are any.
fn push_pax(out: &mut TarOut<'_>, pax: &str, mtime_s: u64) -> Result<(), Error> {
    if !pax.is_empty() {
        let header = header_block(b'x', "././@PaxHeader", "", pax.len() as u64, mtime_s);
        out.push_bytes(&header)?;
        out.push_bytes(pax.as_bytes())?;
        let pad = pax.len().div_ceil(BLOCK) * BLOCK - pax.len();
        out.push_bytes(&[0; BLOCK][..pad])?;
    }
    Ok(())
}

/// A character-device entry (ustar typeflag `3`) with the device's numbers in the
/// header's `devmajor` and `devminor` fields.
fn write_device(
    out: &mut TarOut<'_>,
    path: &str,
    device: crate::Device,
    mtime_ns: u64,
) -> Result<(), Error> {
    let mtime_s = mtime_ns / NS_PER_S;
    let nanos = mtime_ns % NS_PER_S;
    let mut pax = String::new();
    if path.len() > 100 {
        pax_record(&mut pax, "path", path);
    }
    if nanos != 0 {
        pax_record(&mut pax, "mtime", &format!("{mtime_s}.{nanos:09}"));
    }
    push_pax(out, &pax, mtime_s)?;
    let mut h = header_block(b'3', path, "", 0, mtime_s);
    let (major, minor) = device.numbers();
    put_octal(&mut h[329..337], u64::from(major));
    put_octal(&mut h[337..345], u64::from(minor));
    seal(&mut h);
    out.push_bytes(&h)
}

/// Writes an empty regular-file entry with the `CLEW.remote` pax record of remote file `id`
/// of `len` bytes.
fn write_remote(
    out: &mut TarOut<'_>,
    path: &str,
    id: u64,
    len: u64,
    mtime_ns: u64,
) -> Result<(), Error> {
    let mut pax = String::new();
    pax_record(&mut pax, REMOTE_KEY, &format!("{id}:{len}"));
    write_entry_with(out, b'0', path, "", 0, core::iter::empty(), mtime_ns, pax)
}

/// Writes an empty regular-file entry with the `CLEW.unchanged=1` pax record.
fn write_marker(out: &mut TarOut<'_>, path: &str, mtime_ns: u64) -> Result<(), Error> {
    let mut pax = String::new();
    pax_record(&mut pax, UNCHANGED_KEY, "1");
    write_entry_with(out, b'0', path, "", 0, core::iter::empty(), mtime_ns, pax)
}
