//! Host unit tests of remote files (`remote.rs`): packing and loading them, reading through
//! a fetcher a megabyte at a time, the cache under the size limit, changes making them
//! local, dumps, and fetch failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::{Error, FetchFailed, Fetcher, Ino, Vfs, FETCH_BYTES};

/// The host's side: remote file contents by number, and every fetch asked (id, offset,
/// bytes). A missing number fails the fetch.
#[derive(Clone, Default)]
struct Host {
    files: Arc<Mutex<HashMap<u64, Vec<u8>>>>,
    asked: Arc<Mutex<Vec<(u64, u64, u64)>>>,
}

impl Fetcher for Host {
    fn fetch(&mut self, id: u64, offset: u64, bufs: &mut [Vec<u8>]) -> Result<(), FetchFailed> {
        let files = self.files.lock().unwrap();
        let data = files.get(&id).ok_or(FetchFailed)?;
        let total: usize = bufs.iter().map(Vec::len).sum();
        self.asked.lock().unwrap().push((id, offset, total as u64));
        let mut at = offset as usize;
        for buf in bufs.iter_mut() {
            for b in buf.iter_mut() {
                // Past the host file's end: zeros, as the trait says.
                *b = data.get(at).copied().unwrap_or(0);
                at += 1;
            }
        }
        Ok(())
    }
}

fn vfs() -> Vfs {
    Vfs::new(Box::new(|| 1_000_000_000))
}

/// Bytes that differ at every offset within a few megabytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

/// A guest tree loaded from a host archive holding `files` as remote files `d/<name>`
/// (numbered from 1), with a fetcher serving them.
fn guest_with(files: &[(&str, Vec<u8>)]) -> (Vfs, Host) {
    let mut packer = vfs();
    let root = packer.root();
    let d = packer.mkdir(root, "d").unwrap();
    let host = Host::default();
    for (i, (name, data)) in files.iter().enumerate() {
        let id = i as u64 + 1;
        packer
            .create_remote_file(d, name, id, data.len() as u64)
            .unwrap();
        host.files.lock().unwrap().insert(id, data.clone());
    }
    let archive = packer.dump_tar(root).unwrap();
    // The archive holds no contents: only headers and pax records.
    let total: usize = files.iter().map(|(_, d)| d.len()).sum();
    assert!(archive.len() < 2048 * (files.len() + 2) && archive.len() < total.max(1));
    let mut guest = vfs();
    let groot = guest.root();
    guest.load_tar(groot, &archive).unwrap();
    guest.set_fetcher(Box::new(host.clone()));
    (guest, host)
}

fn ino(v: &Vfs, path: &str) -> Ino {
    let root = v.root();
    v.resolve(root, path, false, false).unwrap()
}

fn read_all(v: &mut Vfs, ino: Ino, piece: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; piece];
    loop {
        let n = v.read_at(ino, out.len() as u64, &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn remote_files_read_a_megabyte_at_a_time_on_demand() {
    let data = pattern(3 * FETCH_BYTES + 12_345, 1);
    let (mut v, host) = guest_with(&[("big", data.clone())]);
    let f = ino(&v, "d/big");
    assert_eq!(v.metadata(f).unwrap().size, data.len() as u64);
    let used = v.used_bytes();
    assert!(
        host.asked.lock().unwrap().is_empty(),
        "nothing read at load"
    );

    // A small read in the middle fetches from its chunk a megabyte on.
    let mut buf = [0u8; 100];
    assert_eq!(v.read_at(f, 70_000, &mut buf).unwrap(), 100);
    assert_eq!(&buf[..], &data[70_000..70_100]);
    assert_eq!(
        *host.asked.lock().unwrap(),
        vec![(1, 65_536, FETCH_BYTES as u64)]
    );
    assert!(
        v.used_bytes() >= used + FETCH_BYTES as u64,
        "the cache is charged"
    );

    // Reading it all in 4 KiB pieces fetches each byte once.
    assert_eq!(read_all(&mut v, f, 4096), data);
    let asked = host.asked.lock().unwrap().clone();
    let fetched: u64 = asked.iter().map(|a| a.2).sum();
    assert_eq!(fetched, data.len() as u64);
    assert!(asked.len() <= 5, "{asked:?}");
    // Reads past the end give nothing and fetch nothing.
    assert_eq!(v.read_at(f, data.len() as u64, &mut buf).unwrap(), 0);
    assert_eq!(host.asked.lock().unwrap().len(), asked.len());
}

#[test]
fn the_cache_stays_under_the_limit_and_large_reads_go_through() {
    let a = pattern(4 * FETCH_BYTES, 2);
    let b = pattern(4 * FETCH_BYTES + 5, 3);
    let (mut v, host) = guest_with(&[("a", a.clone()), ("b", b.clone())]);
    v.set_limit_bytes(v.used_bytes() + 3 * FETCH_BYTES as u64);
    let (fa, fb) = (ino(&v, "d/a"), ino(&v, "d/b"));
    for _ in 0..2 {
        assert_eq!(read_all(&mut v, fa, 10_000), a);
        assert!(v.used_bytes() <= v.limit_bytes());
        assert_eq!(read_all(&mut v, fb, 8 * FETCH_BYTES), b);
        assert!(v.used_bytes() <= v.limit_bytes());
    }
    // Both were read twice: the cache could not hold them, so they were fetched again.
    let fetched: u64 = host.asked.lock().unwrap().iter().map(|a| a.2).sum();
    assert!(fetched >= 2 * (a.len() + b.len()) as u64 - 3 * FETCH_BYTES as u64);
    // A change needs the whole file at once: more than the limit holds.
    assert_eq!(v.write_at(fa, 1, b"x"), Err(Error::NoSpace));
    assert_eq!(
        read_all(&mut v, fa, 1 << 16),
        a,
        "unchanged after the failure"
    );
}

#[test]
fn a_change_makes_a_remote_file_local_and_whole() {
    let data = pattern(2 * FETCH_BYTES + 777, 4);
    let (mut v, host) = guest_with(&[("w", data.clone()), ("t", data.clone())]);
    let w = ino(&v, "d/w");
    v.write_at(w, 100_000, b"HELLO").unwrap();
    let mut expect = data.clone();
    expect[100_000..100_005].copy_from_slice(b"HELLO");
    let asked_after_write = host.asked.lock().unwrap().len();
    assert_eq!(read_all(&mut v, w, 1 << 20), expect);
    assert_eq!(
        host.asked.lock().unwrap().len(),
        asked_after_write,
        "a local file fetches nothing"
    );

    // Truncating fetches only what is kept.
    let t = ino(&v, "d/t");
    host.asked.lock().unwrap().clear();
    v.set_len(t, 70_000).unwrap();
    let fetched: u64 = host.asked.lock().unwrap().iter().map(|a| a.2).sum();
    assert!(fetched <= FETCH_BYTES as u64);
    assert_eq!(read_all(&mut v, t, 4096), &data[..70_000]);
    v.set_len(t, 80_000).unwrap();
    let mut grown = data[..70_000].to_vec();
    grown.resize(80_000, 0);
    assert_eq!(read_all(&mut v, t, 4096), grown);
}

#[test]
fn dumps_mark_unchanged_remote_files_and_carry_moved_ones_whole() {
    let data = pattern(FETCH_BYTES + 3, 5);
    let (mut v, _host) = guest_with(&[("stay", data.clone()), ("go", data.clone())]);
    let d = ino(&v, "d");
    // Read part of one (cached, unchanged), move the other (unfetched).
    let mut buf = [0u8; 10];
    v.read_at(ino(&v, "d/stay"), 5, &mut buf).unwrap();
    v.rename(d, "go", d, "gone").unwrap();
    assert_eq!(v.dump_tar_changes(d), Err(Error::Io), "not fetched yet");
    v.fetch_for_dump(d).unwrap();
    let archive = v.dump_tar_changes(d).unwrap();
    assert!(archive.len() > data.len() && archive.len() < 2 * data.len() + 8192);

    let mut back = vfs();
    let root = back.root();
    back.load_tar(root, &archive).unwrap();
    let stay = ino(&back, "stay");
    assert!(back.is_unchanged_marker(stay));
    let gone = ino(&back, "gone");
    assert!(!back.is_unchanged_marker(gone));
    let mut got = vec![0; data.len()];
    assert_eq!(back.read_at(gone, 0, &mut got).unwrap(), data.len());
    assert_eq!(got, data);
}

#[test]
fn a_failed_fetch_is_io_and_charges_nothing() {
    let data = pattern(100_000, 6);
    let (mut v, host) = guest_with(&[("f", data)]);
    let f = ino(&v, "d/f");
    host.files.lock().unwrap().clear();
    let used = v.used_bytes();
    let mut buf = [0u8; 10];
    assert_eq!(v.read_at(f, 0, &mut buf), Err(Error::Io));
    assert_eq!(v.write_at(f, 0, b"x"), Err(Error::Io));
    assert_eq!(v.used_bytes(), used);
    // Without a fetcher at all, the same.
    let mut packer = vfs();
    let root = packer.root();
    packer.create_remote_file(root, "r", 9, 5000).unwrap();
    let r = ino(&packer, "r");
    assert_eq!(packer.read_at(r, 0, &mut buf), Err(Error::Io));
    // Metadata needs no fetch.
    assert_eq!(packer.metadata(r).unwrap().size, 5000);
}

#[test]
fn malformed_remote_entries_are_refused() {
    let mut packer = vfs();
    let root = packer.root();
    packer.create_remote_file(root, "r", 7, 5000).unwrap();
    let archive = packer.dump_tar(root).unwrap();
    let text = String::from_utf8_lossy(&archive).into_owned();
    assert!(text.contains("CLEW.remote=7:5000"), "{text}");
    // Same length, bad number.
    let bad = text.replace("CLEW.remote=7:5000", "CLEW.remote=7;5000");
    let mut v = vfs();
    let r = v.root();
    assert!(v.load_tar(r, bad.as_bytes()).is_err());
    // A size past the largest file (written around `set_remote`'s check).
    let mut packer = vfs();
    let root = packer.root();
    let (f, _) = packer.create_file(root, "r", true).unwrap();
    *packer.file_data_mut(f).unwrap() = crate::filedata::FileData::Remote {
        id: 1,
        len: u64::MAX,
        chunks: Vec::new(),
    };
    let too_big = packer.dump_tar(root).unwrap();
    let mut v = vfs();
    let r = v.root();
    assert!(v.load_tar(r, &too_big).is_err());
}

#[test]
fn without_a_name_changed_the_dump_needs_no_fetch() {
    let data = pattern(FETCH_BYTES + 3, 7);
    let (mut v, host) = guest_with(&[("a", data.clone()), ("b", data)]);
    let d = ino(&v, "d");
    v.fetch_for_dump(d).unwrap();
    assert!(host.asked.lock().unwrap().is_empty());
    let archive = v.dump_tar_changes(d).unwrap();
    assert!(
        archive.len() < 16 * 1024,
        "contents went back: {}",
        archive.len()
    );
    // Any name change, even elsewhere, makes it look (and `b` is still a marker).
    v.rename(d, "a", d, "a2").unwrap();
    v.fetch_for_dump(d).unwrap();
    let fetched: u64 = host.asked.lock().unwrap().iter().map(|a| a.2).sum();
    assert_eq!(fetched, FETCH_BYTES as u64 + 3, "only the moved file");
}
