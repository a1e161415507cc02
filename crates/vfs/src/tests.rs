//! Host unit tests: every operation and error path (the conformance base of the WASI
//! layer), path resolution and confinement, open counts, space limits, tar round trips and
//! malformed archives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::{ArchiveError, Error, FileKind, Ino, Vfs, MAX_NAME_LEN, MAX_SYMLINKS};

/// A Vfs whose clock advances by 1 s on every reading, so every update is visible.
fn vfs_with_clock() -> (Vfs, Arc<AtomicU64>) {
    let ticks = Arc::new(AtomicU64::new(1_000_000_000));
    let t = ticks.clone();
    let vfs = Vfs::new(Box::new(move || {
        t.fetch_add(1_000_000_000, Ordering::Relaxed)
    }));
    (vfs, ticks)
}

fn vfs() -> Vfs {
    vfs_with_clock().0
}

fn file(v: &mut Vfs, dir: Ino, name: &str, data: &[u8]) -> Ino {
    let (ino, created) = v.create_file(dir, name, true).expect("create");
    assert!(created);
    v.write_at(ino, 0, data).expect("write");
    ino
}

fn read_all(v: &Vfs, ino: Ino) -> Vec<u8> {
    let size = v.metadata(ino).expect("metadata").size as usize;
    let mut buf = vec![0; size];
    // Not `Vfs::read_at`, which takes `&mut` to fetch remote files: these are local.
    let data = v.file_data(ino).expect("a regular file");
    assert!(data.remote_id().is_none());
    assert_eq!(data.read_at(0, &mut buf), size);
    buf
}

fn names(v: &Vfs, dir: Ino) -> Vec<String> {
    v.read_dir(dir)
        .expect("read_dir")
        .into_iter()
        .map(|e| e.name)
        .collect()
}

/// root/
///   a/ b/ c.txt("c")  a/f("f")  link_c -> a/b/c.txt  link_up -> ../f (in a/b)
fn sample() -> (Vfs, Ino, Ino, Ino) {
    let mut v = vfs();
    let root = v.root();
    let a = v.mkdir(root, "a").unwrap();
    let b = v.mkdir(a, "b").unwrap();
    file(&mut v, b, "c.txt", b"c");
    file(&mut v, a, "f", b"f");
    v.symlink("a/b/c.txt", root, "link_c").unwrap();
    v.symlink("../f", b, "link_up").unwrap();
    (v, root, a, b)
}

// ----- basic tree ------------------------------------------------------------------------

#[test]
fn new_vfs_has_an_empty_root_that_is_its_own_parent() {
    let v = vfs();
    let root = v.root();
    assert_eq!(v.parent(root), Ok(root));
    let m = v.metadata(root).unwrap();
    assert_eq!(m.kind, FileKind::Directory);
    assert_eq!(m.nlink, 2);
    assert_eq!(m.ino, root);
    assert_eq!(m.dev, v.dev());
    assert!(v.read_dir(root).unwrap().is_empty());
}

#[test]
fn each_vfs_has_its_own_device_number() {
    assert_ne!(vfs().dev(), vfs().dev());
}

#[test]
fn create_file_exclusive_and_not() {
    let mut v = vfs();
    let root = v.root();
    let (ino, created) = v.create_file(root, "x", false).unwrap();
    assert!(created);
    assert_eq!(v.create_file(root, "x", false), Ok((ino, false)));
    assert_eq!(v.create_file(root, "x", true), Err(Error::Exists));
    let m = v.metadata(ino).unwrap();
    assert_eq!((m.kind, m.nlink, m.size), (FileKind::RegularFile, 1, 0));
}

#[test]
fn create_file_errors() {
    let (mut v, root, a, _b) = sample();
    assert_eq!(v.create_file(root, "a", false), Err(Error::IsDir));
    assert_eq!(v.create_file(root, "a", true), Err(Error::Exists));
    assert_eq!(v.create_file(root, ".", false), Err(Error::IsDir));
    assert_eq!(v.create_file(root, "..", false), Err(Error::IsDir));
    assert_eq!(v.create_file(root, ".", true), Err(Error::Exists));
    assert_eq!(v.create_file(root, "new/", false), Err(Error::IsDir));
    assert_eq!(v.create_file(root, "link_c", false), Err(Error::Loop));
    assert_eq!(v.create_file(root, "link_c", true), Err(Error::Exists));
    assert_eq!(v.create_file(root, "", false), Err(Error::NotFound));
    assert_eq!(v.create_file(root, "x\0y", false), Err(Error::Invalid));
    assert_eq!(v.create_file(root, "x/y", false), Err(Error::Invalid));
    let long = "n".repeat(MAX_NAME_LEN + 1);
    assert_eq!(v.create_file(root, &long, false), Err(Error::NameTooLong));
    let max = "n".repeat(MAX_NAME_LEN);
    assert!(v.create_file(root, &max, false).is_ok());
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.create_file(f, "x", false), Err(Error::NotDir));
    assert_eq!(v.create_file(9999, "x", false), Err(Error::NotFound));
}

#[test]
fn creating_updates_parent_times() {
    let (mut v, _) = vfs_with_clock();
    let root = v.root();
    let before = v.metadata(root).unwrap();
    v.mkdir(root, "d").unwrap();
    let after = v.metadata(root).unwrap();
    assert!(after.mtime_ns > before.mtime_ns);
    assert!(after.ctime_ns > before.ctime_ns);
    assert_eq!(after.nlink, 3, "a subdirectory adds a link to its parent");
}

#[test]
fn mkdir_and_errors() {
    let (mut v, root, a, _b) = sample();
    let d = v.mkdir(root, "d/").unwrap();
    assert_eq!(v.parent(d), Ok(root));
    assert_eq!(v.lookup(root, "d"), Ok(d));
    assert_eq!(v.mkdir(root, "d"), Err(Error::Exists));
    assert_eq!(v.mkdir(root, "link_c"), Err(Error::Exists));
    assert_eq!(v.mkdir(root, "."), Err(Error::Exists));
    assert_eq!(v.mkdir(root, ".."), Err(Error::Exists));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.mkdir(f, "x"), Err(Error::NotDir));
    assert_eq!(v.mkdir(root, ""), Err(Error::NotFound));
}

#[test]
fn symlink_and_readlink() {
    let (mut v, root, a, _b) = sample();
    let l = v.symlink("whatever/dangling", root, "dl").unwrap();
    assert_eq!(v.readlink(l).unwrap(), "whatever/dangling");
    let m = v.metadata(l).unwrap();
    assert_eq!((m.kind, m.size), (FileKind::Symlink, 17));
    assert_eq!(v.readlink(a), Err(Error::Invalid));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.readlink(f), Err(Error::Invalid));
    assert_eq!(v.symlink("", root, "e"), Err(Error::NotFound));
    assert_eq!(v.symlink("x\0", root, "e"), Err(Error::Invalid));
    assert_eq!(
        v.symlink(&"x".repeat(5000), root, "e"),
        Err(Error::NameTooLong)
    );
    assert_eq!(v.symlink("t", root, "dl"), Err(Error::Exists));
    assert_eq!(v.symlink("t", root, "a"), Err(Error::Exists));
    assert_eq!(v.symlink("t", root, "."), Err(Error::Exists));
    // wasi-testsuite path_symlink_trailing_slashes: a new name with a slash is ENOENT, an
    // existing directory or link EEXIST, an existing regular file ENOTDIR (as wasmtime).
    assert_eq!(v.symlink("t", root, "new/"), Err(Error::NotFound));
    assert_eq!(v.symlink("t", root, "dl/"), Err(Error::Exists));
    assert_eq!(v.symlink("t", root, "a/"), Err(Error::Exists));
    assert_eq!(v.symlink("t", a, "f/"), Err(Error::NotDir));
}

#[test]
fn hard_links_count_and_share_data() {
    let (mut v, root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    v.link(f, root, "f2").unwrap();
    assert_eq!(v.lookup(root, "f2"), Ok(f));
    assert_eq!(v.metadata(f).unwrap().nlink, 2);
    v.write_at(f, 1, b"gh").unwrap();
    assert_eq!(read_all(&v, v.lookup(root, "f2").unwrap()), b"fgh");
    v.unlink(a, "f").unwrap();
    assert_eq!(v.metadata(f).unwrap().nlink, 1);
    assert_eq!(read_all(&v, f), b"fgh");
    v.unlink(root, "f2").unwrap();
    assert_eq!(
        v.metadata(f),
        Err(Error::NotFound),
        "freed with the last name"
    );
}

#[test]
fn link_errors() {
    let (mut v, root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.link(a, root, "adir"), Err(Error::Perm));
    assert_eq!(v.link(f, root, "a"), Err(Error::Exists));
    assert_eq!(v.link(f, root, "."), Err(Error::Exists));
    assert_eq!(v.link(f, root, "new/"), Err(Error::NotFound));
    assert_eq!(v.link(9999, root, "x"), Err(Error::NotFound));
    assert_eq!(v.link(f, f, "x"), Err(Error::NotDir));
    // A symlink can be hard-linked (Linux linkat without AT_SYMLINK_FOLLOW).
    let l = v.lookup(root, "link_c").unwrap();
    v.link(l, root, "link_c2").unwrap();
    assert_eq!(v.metadata(l).unwrap().nlink, 2);
    // An unlinked-but-open file cannot get a new name.
    v.retain(f).unwrap();
    v.unlink(a, "f").unwrap();
    assert_eq!(v.link(f, root, "again"), Err(Error::NotFound));
}

#[test]
fn unlink_semantics() {
    let (mut v, root, a, b) = sample();
    assert_eq!(v.unlink(root, "a"), Err(Error::IsDir));
    assert_eq!(v.unlink(root, "a/"), Err(Error::IsDir));
    assert_eq!(v.unlink(root, "."), Err(Error::IsDir));
    assert_eq!(v.unlink(root, ".."), Err(Error::IsDir));
    assert_eq!(v.unlink(root, "nope"), Err(Error::NotFound));
    assert_eq!(v.unlink(a, "f/"), Err(Error::NotDir));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.unlink(f, "x"), Err(Error::NotDir));
    // Unlinking a symlink removes the link, not its target.
    v.unlink(root, "link_c").unwrap();
    assert!(v.lookup(b, "c.txt").is_ok());
    v.unlink(a, "f").unwrap();
    assert_eq!(names(&v, a), ["b"]);
}

#[test]
fn unlinked_but_open_files_stay_alive_until_released() {
    let (mut v, _root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    v.retain(f).unwrap();
    v.retain(f).unwrap();
    v.unlink(a, "f").unwrap();
    assert_eq!(v.metadata(f).unwrap().nlink, 0);
    v.write_at(f, 0, b"still here").unwrap();
    assert_eq!(read_all(&v, f), b"still here");
    v.release(f);
    assert!(v.metadata(f).is_ok());
    let used = v.used_bytes();
    v.release(f);
    assert_eq!(v.metadata(f), Err(Error::NotFound));
    assert!(v.used_bytes() < used, "space is returned");
    // Releasing something unknown is harmless.
    v.release(f);
    v.release(123456);
    assert_eq!(v.retain(123456), Err(Error::NotFound));
}

#[test]
fn release_without_unlink_keeps_the_file() {
    let (mut v, _root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    v.retain(f).unwrap();
    v.release(f);
    assert!(v.metadata(f).is_ok());
    // The root can never be freed.
    let root = v.root();
    v.release(root);
    v.release(root);
    assert!(v.metadata(root).is_ok());
}

#[test]
fn rmdir_semantics() {
    let (mut v, root, a, b) = sample();
    assert_eq!(v.rmdir(root, "a"), Err(Error::NotEmpty));
    assert_eq!(v.rmdir(a, "f"), Err(Error::NotDir));
    assert_eq!(v.rmdir(a, "f/"), Err(Error::NotDir));
    assert_eq!(v.rmdir(root, "link_c"), Err(Error::NotDir));
    assert_eq!(v.rmdir(root, "."), Err(Error::Invalid));
    assert_eq!(v.rmdir(root, ".."), Err(Error::NotEmpty));
    assert_eq!(v.rmdir(root, "nope"), Err(Error::NotFound));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.rmdir(f, "x"), Err(Error::NotDir));
    v.unlink(b, "c.txt").unwrap();
    v.unlink(b, "link_up").unwrap();
    v.rmdir(a, "b/").unwrap();
    assert_eq!(v.metadata(b), Err(Error::NotFound));
    assert_eq!(v.metadata(a).unwrap().nlink, 2);
}

#[test]
fn removed_but_open_directory_is_empty_and_refuses_entries() {
    let mut v = vfs();
    let root = v.root();
    let d = v.mkdir(root, "d").unwrap();
    v.retain(d).unwrap();
    v.rmdir(root, "d").unwrap();
    let m = v.metadata(d).unwrap();
    assert_eq!((m.kind, m.nlink), (FileKind::Directory, 0));
    assert!(v.read_dir(d).unwrap().is_empty());
    assert_eq!(v.parent(d), Ok(d));
    assert_eq!(v.create_file(d, "x", false), Err(Error::NotFound));
    assert_eq!(v.mkdir(d, "x"), Err(Error::NotFound));
    assert_eq!(v.symlink("t", d, "x"), Err(Error::NotFound));
    assert_eq!(v.resolve(d, "x", true, true), Err(Error::NotFound));
    assert_eq!(v.resolve(d, ".", true, true), Ok(d));
    v.release(d);
    assert_eq!(v.metadata(d), Err(Error::NotFound));
}

// ----- rename ----------------------------------------------------------------------------

#[test]
fn rename_file_moves_and_replaces() {
    let (mut v, root, a, b) = sample();
    let f = v.lookup(a, "f").unwrap();
    v.rename(a, "f", root, "g").unwrap();
    assert_eq!(v.lookup(root, "g"), Ok(f));
    assert_eq!(v.lookup(a, "f"), Err(Error::NotFound));
    // Replacing a file: the old one is freed.
    let c = v.lookup(b, "c.txt").unwrap();
    v.rename(root, "g", b, "c.txt").unwrap();
    assert_eq!(v.lookup(b, "c.txt"), Ok(f));
    assert_eq!(v.metadata(c), Err(Error::NotFound));
    assert_eq!(v.metadata(f).unwrap().nlink, 1);
    // A file can replace a symlink.
    v.rename(b, "c.txt", root, "link_c").unwrap();
    assert_eq!(v.lookup(root, "link_c"), Ok(f));
}

#[test]
fn rename_replaced_file_that_is_open_stays_alive() {
    let (mut v, root, a, b) = sample();
    let c = v.lookup(b, "c.txt").unwrap();
    v.retain(c).unwrap();
    v.rename(a, "f", b, "c.txt").unwrap();
    assert_eq!(read_all(&v, c), b"c");
    assert_eq!(v.metadata(c).unwrap().nlink, 0);
    v.release(c);
    assert_eq!(v.metadata(c), Err(Error::NotFound));
    let _ = root;
}

#[test]
fn rename_same_inode_is_a_no_op() {
    let (mut v, root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    v.rename(a, "f", a, "f").unwrap();
    v.link(f, root, "f2").unwrap();
    // POSIX: both names link to the same file → nothing happens, both stay.
    v.rename(a, "f", root, "f2").unwrap();
    assert_eq!(v.lookup(a, "f"), Ok(f));
    assert_eq!(v.lookup(root, "f2"), Ok(f));
    assert_eq!(v.metadata(f).unwrap().nlink, 2);
}

#[test]
fn rename_directories() {
    let (mut v, root, a, b) = sample();
    let e = v.mkdir(root, "e").unwrap();
    // A directory over an empty directory.
    v.rename(a, "b", root, "e").unwrap();
    assert_eq!(v.lookup(root, "e"), Ok(b));
    assert_eq!(v.metadata(e), Err(Error::NotFound));
    assert_eq!(v.parent(b), Ok(root));
    assert_eq!(v.resolve(b, "..", true, false), Ok(root));
    assert_eq!(names(&v, a), ["f"]);
    // Trailing slashes are fine for directories (path_rename_dir_trailing_slashes).
    v.rename(root, "e/", root, "e2/").unwrap();
    assert_eq!(v.lookup(root, "e2"), Ok(b));
}

#[test]
fn rename_errors() {
    let (mut v, root, a, b) = sample();
    let empty = v.mkdir(root, "empty").unwrap();
    assert_eq!(v.rename(a, "f", root, "empty"), Err(Error::IsDir));
    assert_eq!(v.rename(root, "empty", a, "f"), Err(Error::NotDir));
    assert_eq!(v.rename(root, "empty", root, "a"), Err(Error::NotEmpty));
    assert_eq!(v.rename(root, "a", b, "x"), Err(Error::Invalid));
    assert_eq!(v.rename(root, "a", a, "x"), Err(Error::Invalid));
    assert_eq!(v.rename(root, "empty", empty, "x"), Err(Error::Invalid));
    // Moving an ancestor's child onto the ancestor: the target is not empty.
    assert_eq!(v.rename(a, "b", root, "a"), Err(Error::NotEmpty));
    assert_eq!(v.rename(root, ".", root, "x"), Err(Error::Busy));
    assert_eq!(v.rename(root, "a", root, ".."), Err(Error::Busy));
    assert_eq!(v.rename(root, "nope", root, "x"), Err(Error::NotFound));
    // path_rename_file_trailing_slashes: ENOTDIR for a file with a slash on either side.
    assert_eq!(v.rename(a, "f/", a, "g"), Err(Error::NotDir));
    assert_eq!(v.rename(a, "f", a, "g/"), Err(Error::NotDir));
    assert_eq!(v.rename(a, "f/", a, "g/"), Err(Error::NotDir));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.rename(f, "x", root, "y"), Err(Error::NotDir));
    assert_eq!(v.rename(a, "f", f, "y"), Err(Error::NotDir));
    assert_eq!(v.rename(a, "f", root, "x\0"), Err(Error::Invalid));
    // Nothing changed.
    assert_eq!(names(&v, root), ["a", "link_c", "empty"]);
    assert_eq!(names(&v, a), ["b", "f"]);
}

#[test]
fn rename_into_removed_directory_fails() {
    let (mut v, root, a, _b) = sample();
    let d = v.mkdir(root, "d").unwrap();
    v.retain(d).unwrap();
    v.rmdir(root, "d").unwrap();
    assert_eq!(v.rename(a, "f", d, "f"), Err(Error::NotFound));
}

#[test]
fn rename_updates_times() {
    let (mut v, root, a, _b) = sample();
    let f = v.lookup(a, "f").unwrap();
    let before_f = v.metadata(f).unwrap();
    let before_root = v.metadata(root).unwrap();
    v.rename(a, "f", root, "f").unwrap();
    assert!(v.metadata(f).unwrap().ctime_ns > before_f.ctime_ns);
    assert_eq!(v.metadata(f).unwrap().mtime_ns, before_f.mtime_ns);
    assert!(v.metadata(root).unwrap().mtime_ns > before_root.mtime_ns);
}

// ----- data ------------------------------------------------------------------------------

#[test]
fn read_and_write_at_offsets() {
    let mut v = vfs();
    let root = v.root();
    let f = file(&mut v, root, "f", b"hello");
    let mut buf = [0u8; 3];
    assert_eq!(v.read_at(f, 1, &mut buf), Ok(3));
    assert_eq!(&buf, b"ell");
    assert_eq!(v.read_at(f, 4, &mut buf), Ok(1));
    assert_eq!(v.read_at(f, 5, &mut buf), Ok(0));
    assert_eq!(v.read_at(f, u64::MAX, &mut buf), Ok(0));
    assert_eq!(v.read_at(f, 0, &mut []), Ok(0));
    // Writing past the end zero-fills the gap.
    assert_eq!(v.write_at(f, 8, b"!"), Ok(1));
    assert_eq!(read_all(&v, f), b"hello\0\0\0!");
    assert_eq!(v.write_at(f, 0, b"J"), Ok(1));
    assert_eq!(read_all(&v, f), b"Jello\0\0\0!");
    assert_eq!(v.write_at(f, 100, b""), Ok(0));
    assert_eq!(v.metadata(f).unwrap().size, 9, "empty writes do not extend");
}

#[test]
fn data_operations_on_wrong_kinds() {
    let (mut v, root, a, _b) = sample();
    let l = v.lookup(root, "link_c").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(v.read_at(a, 0, &mut buf), Err(Error::IsDir));
    assert_eq!(v.read_at(l, 0, &mut buf), Err(Error::Invalid));
    assert_eq!(v.write_at(a, 0, b"x"), Err(Error::IsDir));
    assert_eq!(v.write_at(l, 0, b"x"), Err(Error::Invalid));
    assert_eq!(v.set_len(a, 0), Err(Error::IsDir));
    assert_eq!(v.set_len(l, 0), Err(Error::Invalid));
    assert_eq!(v.read_at(999, 0, &mut buf), Err(Error::NotFound));
    assert_eq!(v.write_at(999, 0, b"x"), Err(Error::NotFound));
}

#[test]
fn write_updates_mtime_and_ctime_but_read_does_not_touch_atime() {
    let (mut v, _) = vfs_with_clock();
    let root = v.root();
    let f = file(&mut v, root, "f", b"x");
    let m0 = v.metadata(f).unwrap();
    v.write_at(f, 0, b"y").unwrap();
    let m1 = v.metadata(f).unwrap();
    assert!(m1.mtime_ns > m0.mtime_ns && m1.ctime_ns > m0.ctime_ns);
    let mut buf = [0u8; 1];
    v.read_at(f, 0, &mut buf).unwrap();
    assert_eq!(v.metadata(f).unwrap().atime_ns, m1.atime_ns);
}

#[test]
fn set_len_truncates_and_extends() {
    let mut v = vfs();
    let root = v.root();
    let f = file(&mut v, root, "f", b"hello");
    v.set_len(f, 2).unwrap();
    assert_eq!(read_all(&v, f), b"he");
    v.set_len(f, 4).unwrap();
    assert_eq!(read_all(&v, f), b"he\0\0");
    v.set_len(f, 0).unwrap();
    assert_eq!(v.metadata(f).unwrap().size, 0);
}

#[test]
fn huge_offsets_are_file_too_big_or_no_space() {
    let mut v = vfs();
    let root = v.root();
    let f = file(&mut v, root, "f", b"x");
    assert_eq!(v.write_at(f, u64::MAX, b"x"), Err(Error::FileTooBig));
    assert_eq!(
        v.write_at(f, crate::MAX_FILE_SIZE, b"x"),
        Err(Error::FileTooBig)
    );
    assert_eq!(v.set_len(f, u64::MAX), Err(Error::FileTooBig));
    // Holes take no memory, only a slot per 64 KiB: 2^50 bytes would need 400 GB of slots.
    assert_eq!(v.write_at(f, 1 << 50, b"x"), Err(Error::NoSpace));
    assert_eq!(v.set_len(f, 1 << 50), Err(Error::NoSpace));
    assert_eq!(read_all(&v, f), b"x", "failed writes change nothing");
}

/// A write far past the end, or a `set_len` far beyond it, makes a sparse file: the hole
/// reads as zeros and costs only chunk slots, not its size (as on Linux under wasmtime);
/// truncating it gives the memory back.
#[test]
fn holes_read_as_zeros_and_cost_no_data() {
    let mut v = vfs();
    let root = v.root();
    let f = file(&mut v, root, "sparse", b"head");
    let used0 = v.used_bytes();
    let far = 10u64 << 30;
    assert_eq!(v.write_at(f, far, b"tail"), Ok(4));
    assert_eq!(v.metadata(f).unwrap().size, far + 4);
    assert!(
        v.used_bytes() - used0 < 8 << 20,
        "{} bytes",
        v.used_bytes() - used0
    );
    let mut buf = [7u8; 12];
    assert_eq!(v.read_at(f, far - 8, &mut buf), Ok(12));
    assert_eq!(&buf, b"\0\0\0\0\0\0\0\0tail");
    assert_eq!(v.read_at(f, 0, &mut buf), Ok(12));
    assert_eq!(&buf, b"head\0\0\0\0\0\0\0\0");
    // Data written across a chunk boundary, then a truncation inside it and regrowth:
    // the cut bytes do not come back.
    let g = file(&mut v, root, "g", &[5u8; 70_000]);
    v.set_len(g, 65_000).unwrap();
    v.set_len(g, 140_000).unwrap();
    let all = read_all(&v, g);
    assert_eq!(all.len(), 140_000);
    assert!(all[..65_000].iter().all(|&b| b == 5));
    assert!(all[65_000..].iter().all(|&b| b == 0));
    let used1 = v.used_bytes();
    v.set_len(f, 4).unwrap();
    v.set_len(g, 0).unwrap();
    assert!(
        v.used_bytes() + 65_000 < used1,
        "truncation gives memory back"
    );
}

#[test]
fn size_limit_gives_no_space_and_is_returned_on_delete() {
    let mut v = vfs();
    let root = v.root();
    v.set_limit_bytes(v.used_bytes() + 3000);
    assert_eq!(v.limit_bytes(), v.used_bytes() + 3000);
    let f = file(&mut v, root, "f", &[1; 1000]);
    assert_eq!(v.write_at(f, 1000, &[2; 2000]), Err(Error::NoSpace));
    assert_eq!(v.metadata(f).unwrap().size, 1000);
    let mut created = 0;
    loop {
        match v.mkdir(root, &format!("d{created}")) {
            Ok(_) => created += 1,
            Err(e) => {
                assert_eq!(e, Error::NoSpace);
                break;
            }
        }
    }
    assert!(created > 0);
    v.unlink(root, "f").unwrap();
    let g = v.create_file(root, "g", true).unwrap().0;
    v.write_at(g, 0, &[3; 900]).unwrap();
}

#[test]
fn set_times_sets_what_is_given_and_ctime() {
    let (mut v, _) = vfs_with_clock();
    let root = v.root();
    let f = file(&mut v, root, "f", b"x");
    let m0 = v.metadata(f).unwrap();
    v.set_times(f, Some(5), None).unwrap();
    let m1 = v.metadata(f).unwrap();
    assert_eq!((m1.atime_ns, m1.mtime_ns), (5, m0.mtime_ns));
    assert!(m1.ctime_ns > m0.ctime_ns);
    v.set_times(f, None, Some(7)).unwrap();
    let m2 = v.metadata(f).unwrap();
    assert_eq!((m2.atime_ns, m2.mtime_ns), (5, 7));
    v.set_times(root, Some(1), Some(2)).unwrap();
    assert_eq!(v.metadata(root).unwrap().mtime_ns, 2);
    assert_eq!(v.set_times(999, None, None), Err(Error::NotFound));
}

#[test]
fn read_dir_is_in_creation_order_without_dots() {
    let (mut v, root, _a, _b) = sample();
    v.mkdir(root, "Z").unwrap();
    file(&mut v, root, "m", b"");
    let entries = v.read_dir(root).unwrap();
    let got: Vec<(&str, FileKind)> = entries.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        got,
        [
            ("a", FileKind::Directory),
            ("link_c", FileKind::Symlink),
            ("Z", FileKind::Directory),
            ("m", FileKind::RegularFile)
        ]
    );
    // A renamed entry keeps its place; a new one comes last.
    v.rename(root, "link_c", root, "renamed").unwrap();
    file(&mut v, root, "0", b"");
    assert_eq!(names(&v, root), ["a", "renamed", "Z", "m", "0"]);
    let f = v.lookup(root, "m").unwrap();
    assert_eq!(v.read_dir(f), Err(Error::NotDir));
    assert_eq!(v.parent(f), Err(Error::NotDir));
}

#[test]
fn lookup_handles_dots_and_trailing_slash() {
    let (v, root, a, b) = sample();
    assert_eq!(v.lookup(b, "."), Ok(b));
    assert_eq!(v.lookup(b, ".."), Ok(a));
    assert_eq!(v.lookup(root, ".."), Ok(root));
    assert_eq!(v.lookup(root, "a/"), Ok(a));
    assert_eq!(v.lookup(a, "f/"), Err(Error::NotDir));
    assert_eq!(v.lookup(root, "link_c/"), Err(Error::NotDir));
    assert_eq!(v.lookup(root, "x"), Err(Error::NotFound));
}

#[test]
fn metadata_sizes_and_link_counts() {
    let (v, root, a, b) = sample();
    assert_eq!(v.metadata(root).unwrap().nlink, 3);
    assert_eq!(v.metadata(a).unwrap().nlink, 3);
    assert_eq!(v.metadata(b).unwrap().nlink, 2);
    assert_eq!(v.metadata(a).unwrap().size, 2);
    let l = v.lookup(root, "link_c").unwrap();
    assert_eq!(v.metadata(l).unwrap().size, "a/b/c.txt".len() as u64);
    assert_eq!(v.inode_count(), 7);
}

// ----- resolution ------------------------------------------------------------------------

#[test]
fn resolve_plain_paths() {
    let (v, root, a, b) = sample();
    let c = v.lookup(b, "c.txt").unwrap();
    assert_eq!(v.resolve(root, "a/b/c.txt", true, true), Ok(c));
    assert_eq!(v.resolve(root, "a//b///c.txt", true, true), Ok(c));
    assert_eq!(v.resolve(root, "./a/./b/../b/c.txt", true, true), Ok(c));
    assert_eq!(v.resolve(root, ".", true, true), Ok(root));
    assert_eq!(v.resolve(root, "a/b/..", true, true), Ok(a));
    assert_eq!(v.resolve(root, "a/", true, true), Ok(a));
    assert_eq!(v.resolve(root, "a/b/", true, true), Ok(b));
    assert_eq!(v.resolve(a, "b", true, true), Ok(b));
    assert_eq!(v.resolve(b, "..", true, false), Ok(a));
}

#[test]
fn resolve_errors() {
    let (v, root, a, _b) = sample();
    assert_eq!(v.resolve(root, "", true, true), Err(Error::NotFound));
    assert_eq!(v.resolve(root, "nope", true, true), Err(Error::NotFound));
    assert_eq!(v.resolve(root, "nope/x", true, true), Err(Error::NotFound));
    assert_eq!(v.resolve(root, "a/f/", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(root, "a/f/x", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(root, "a/f/.", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(root, "a/f/..", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(root, "a\0", true, true), Err(Error::Invalid));
    let long = format!("a/{}", "x".repeat(256));
    assert_eq!(v.resolve(root, &long, true, true), Err(Error::NameTooLong));
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.resolve(f, "x", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(f, ".", true, true), Err(Error::NotDir));
    assert_eq!(v.resolve(999, "x", true, true), Err(Error::NotFound));
}

#[test]
fn resolve_symlinks() {
    let (mut v, root, a, b) = sample();
    let c = v.lookup(b, "c.txt").unwrap();
    let f = v.lookup(a, "f").unwrap();
    let link_c = v.lookup(root, "link_c").unwrap();
    assert_eq!(v.resolve(root, "link_c", true, true), Ok(c));
    assert_eq!(v.resolve(root, "link_c", false, true), Ok(link_c));
    // Relative to the link's directory, `..` inside the base is fine when confined.
    assert_eq!(v.resolve(root, "a/b/link_up", true, true), Ok(f));
    assert_eq!(v.resolve(b, "link_up", true, false), Ok(f));
    // Symlinks in the middle are always followed.
    v.symlink("a/b", root, "lb").unwrap();
    assert_eq!(v.resolve(root, "lb/c.txt", false, true), Ok(c));
    assert_eq!(v.resolve(root, "lb/../f", false, true), Ok(f));
    // A trailing slash follows a final symlink and demands a directory.
    assert_eq!(v.resolve(root, "lb/", false, true), Ok(b));
    assert_eq!(v.resolve(root, "link_c/", true, true), Err(Error::NotDir));
    // A target with a trailing slash demands a directory too.
    v.symlink("a/f/", root, "lf").unwrap();
    assert_eq!(v.resolve(root, "lf", true, true), Err(Error::NotDir));
    // Chains.
    v.symlink("lb", root, "llb").unwrap();
    assert_eq!(v.resolve(root, "llb/c.txt", true, true), Ok(c));
    // Dangling.
    v.symlink("nowhere", root, "dangling").unwrap();
    assert_eq!(
        v.resolve(root, "dangling", true, true),
        Err(Error::NotFound)
    );
    let d = v.lookup(root, "dangling").unwrap();
    assert_eq!(v.resolve(root, "dangling", false, true), Ok(d));
}

#[test]
fn symlink_loops_hit_the_limit() {
    let mut v = vfs();
    let root = v.root();
    v.symlink("l2", root, "l1").unwrap();
    v.symlink("l1", root, "l2").unwrap();
    assert_eq!(v.resolve(root, "l1", true, true), Err(Error::Loop));
    assert_eq!(v.resolve(root, "l1/x", false, true), Err(Error::Loop));
    assert_eq!(v.resolve_parent(root, "l1/x", true), Err(Error::Loop));
    // Not following the final one does not loop.
    assert!(v.resolve(root, "l1", false, true).is_ok());
    v.symlink("self", root, "self").unwrap();
    assert_eq!(v.resolve(root, "self", true, false), Err(Error::Loop));
    // A chain of exactly MAX_SYMLINKS links resolves; one more is a loop.
    v.mkdir(root, "target").unwrap();
    v.symlink("target", root, "c0").unwrap();
    for i in 1..MAX_SYMLINKS {
        v.symlink(&format!("c{}", i - 1), root, &format!("c{i}"))
            .unwrap();
    }
    let last = format!("c{}", MAX_SYMLINKS - 1);
    assert!(v.resolve(root, &last, true, true).is_ok());
    v.symlink(&last, root, "one_more").unwrap();
    assert_eq!(v.resolve(root, "one_more", true, true), Err(Error::Loop));
}

#[test]
fn confined_resolution_refuses_escapes() {
    let (mut v, root, a, b) = sample();
    assert_eq!(v.resolve(a, "..", true, true), Err(Error::Escape));
    assert_eq!(v.resolve(a, "b/../..", true, true), Err(Error::Escape));
    assert_eq!(v.resolve(a, "b/../../a/f", true, true), Err(Error::Escape));
    assert_eq!(v.resolve(a, "/a", true, true), Err(Error::Escape));
    assert_eq!(v.resolve(a, "/", true, true), Err(Error::Escape));
    // `link_up -> ../f` is fine from `a` (stays inside) but escapes from `b`.
    let f = v.lookup(a, "f").unwrap();
    assert_eq!(v.resolve(a, "b/link_up", true, true), Ok(f));
    assert_eq!(v.resolve(b, "link_up", true, true), Err(Error::Escape));
    // ...unless not followed.
    assert!(v.resolve(b, "link_up", false, true).is_ok());
    // Absolute targets escape even when they point inside.
    v.symlink("/a/f", a, "abs").unwrap();
    assert_eq!(v.resolve(a, "abs", true, true), Err(Error::Escape));
    assert!(v.resolve(a, "abs", false, true).is_ok());
    assert_eq!(v.resolve(a, "abs", true, false), Ok(f));
    // A `..` that climbs out and back in still escapes (cap-std behaves the same).
    assert_eq!(v.resolve(b, "../b", true, true), Err(Error::Escape));
    let _ = root;
}

#[test]
fn unconfined_resolution_uses_the_root() {
    let (v, root, a, b) = sample();
    let c = v.lookup(b, "c.txt").unwrap();
    assert_eq!(v.resolve(b, "/a/b/c.txt", true, false), Ok(c));
    assert_eq!(v.resolve(b, "/", true, false), Ok(root));
    assert_eq!(v.resolve(b, "../../../..", true, false), Ok(root));
    assert_eq!(v.resolve(b, "../../../../a", true, false), Ok(a));
    assert_eq!(v.resolve(root, "..", true, false), Ok(root));
}

#[test]
fn resolve_parent_splits_the_last_component() {
    let (v, root, a, b) = sample();
    assert_eq!(
        v.resolve_parent(root, "a/b/new", true),
        Ok((b, "new".into()))
    );
    assert_eq!(v.resolve_parent(root, "x", true), Ok((root, "x".into())));
    assert_eq!(
        v.resolve_parent(root, "a/b//new//", true),
        Ok((b, "new/".into()))
    );
    assert_eq!(v.resolve_parent(root, "a/.", true), Ok((a, ".".into())));
    assert_eq!(v.resolve_parent(root, "a/./", true), Ok((a, ".".into())));
    assert_eq!(v.resolve_parent(root, "a/..", true), Ok((a, "..".into())));
    assert_eq!(v.resolve_parent(root, ".", true), Ok((root, ".".into())));
    assert_eq!(v.resolve_parent(root, "/", false), Ok((root, ".".into())));
    assert_eq!(v.resolve_parent(b, "/a/x", false), Ok((a, "x".into())));
    // The final symlink is not followed; middle ones are.
    assert_eq!(
        v.resolve_parent(root, "link_c", true),
        Ok((root, "link_c".into()))
    );
    assert_eq!(
        v.resolve_parent(root, "a/b/link_up/x", true),
        Err(Error::NotDir)
    );
}

#[test]
fn resolve_parent_errors_and_escapes() {
    let (v, root, a, b) = sample();
    assert_eq!(v.resolve_parent(root, "", true), Err(Error::NotFound));
    assert_eq!(v.resolve_parent(root, "nope/x", true), Err(Error::NotFound));
    assert_eq!(v.resolve_parent(root, "a/f/x", true), Err(Error::NotDir));
    assert_eq!(v.resolve_parent(a, "..", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(a, "b/../..", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(a, "../x", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(a, "/x", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(a, "/", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(b, "link_up/x", true), Err(Error::Escape));
    assert_eq!(v.resolve_parent(a, "b/..", true), Ok((b, "..".into())));
    assert_eq!(v.resolve_parent(a, "..", false), Ok((a, "..".into())));
    let long = "y".repeat(256);
    assert_eq!(v.resolve_parent(root, &long, true), Err(Error::NameTooLong));
}

#[test]
fn resolve_parent_feeds_the_name_operations() {
    // The WASI pattern: resolve_parent, then the operation with the returned name.
    let (mut v, root, a, _b) = sample();
    let (dir, name) = v.resolve_parent(root, "a/newdir/", true).unwrap();
    v.mkdir(dir, &name).unwrap();
    let (dir, name) = v.resolve_parent(root, "a/f/", true).unwrap();
    assert_eq!(v.unlink(dir, &name), Err(Error::NotDir));
    let (dir, name) = v.resolve_parent(root, "a/newdir/", true).unwrap();
    v.rmdir(dir, &name).unwrap();
    let (dir, name) = v.resolve_parent(root, "a/.", true).unwrap();
    assert_eq!(v.rmdir(dir, &name), Err(Error::Invalid));
    let (dir, name) = v.resolve_parent(root, "a/..", true).unwrap();
    assert_eq!(v.mkdir(dir, &name), Err(Error::Exists));
    assert_eq!(names(&v, a), ["b", "f"]);
}

// ----- tar -------------------------------------------------------------------------------

fn build_rich_tree() -> Vfs {
    let mut v = vfs();
    let root = v.root();
    let d = v.mkdir(root, "dir").unwrap();
    let sub = v.mkdir(d, "sub").unwrap();
    v.mkdir(root, "empty").unwrap();
    let f = file(&mut v, d, "file.txt", b"hello tar\n");
    file(
        &mut v,
        sub,
        "big.bin",
        &(0..3000u32).map(|i| i as u8).collect::<Vec<_>>(),
    );
    file(&mut v, root, "zero", b"");
    v.link(f, root, "hardlink").unwrap();
    v.symlink("dir/file.txt", root, "sym").unwrap();
    // Names and targets longer than 100 bytes need pax records.
    let long_dir = "d".repeat(120);
    let ld = v.mkdir(sub, &long_dir).unwrap();
    file(&mut v, ld, &"f".repeat(200), b"long");
    v.symlink(&format!("../{}", "t".repeat(150)), sub, "longlink")
        .unwrap();
    v.set_times(f, Some(0), Some(1_234_567_890_123_456_789))
        .unwrap();
    v.set_times(d, Some(0), Some(1_000_000_000_000_000_000))
        .unwrap();
    file(&mut v, root, "üñïcødé", b"utf8");
    v
}

/// A comparable description of a subtree: (path, kind, content or target, mtime).
fn describe(v: &Vfs, dir: Ino) -> Vec<(String, FileKind, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut pending = vec![(dir, String::new())];
    while let Some((d, prefix)) = pending.pop() {
        for e in v.read_dir(d).unwrap() {
            let path = format!("{prefix}{}", e.name);
            let m = v.metadata(e.ino).unwrap();
            let content = match e.kind {
                FileKind::RegularFile => read_all(v, e.ino),
                FileKind::Symlink => v.readlink(e.ino).unwrap().into_bytes(),
                FileKind::CharacterDevice => format!("{:?}", v.device(e.ino)).into_bytes(),
                FileKind::Directory => {
                    pending.push((e.ino, format!("{path}/")));
                    Vec::new()
                }
            };
            out.push((path, e.kind, content, m.mtime_ns));
        }
    }
    out.sort();
    out
}

#[test]
fn tar_round_trip_preserves_tree_links_and_times() {
    let v = build_rich_tree();
    let archive = v.dump_tar(v.root()).unwrap();
    assert_eq!(archive.len() % 512, 0);
    let mut w = vfs();
    let root = w.root();
    w.load_tar(root, &archive).unwrap();
    assert_eq!(describe(&v, v.root()), describe(&w, root));
    // Hard links survive as links.
    let a = w.resolve(root, "dir/file.txt", false, true).unwrap();
    assert_eq!(w.lookup(root, "hardlink"), Ok(a));
    assert_eq!(w.metadata(a).unwrap().nlink, 2);
    // Loading keeps each directory's order, so dumping again gives the same bytes once
    // hard links are settled: a file is created where the archive first names it (here
    // `hardlink`, at the root, before `dir/`'s entries), which can move its other names
    // ahead within their directories the first time round.
    let again = w.dump_tar(root).unwrap();
    let mut x = vfs();
    let x_root = x.root();
    x.load_tar(x_root, &again).unwrap();
    assert!(x.dump_tar(x_root).unwrap() == again, "dump is not stable");
    let names = |v: &Vfs, dir: Ino| -> Vec<String> {
        v.read_dir(dir)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names(&v, v.root()), names(&w, root));
}

/// Files loaded from a static archive borrow its bytes and behave exactly as copied ones:
/// the same tree, usage, and results of every change, which never reaches the archive.
#[test]
fn static_archive_files_behave_as_copies_and_the_archive_stays_intact() {
    let mut v = build_rich_tree();
    let vroot = v.root();
    file(&mut v, vroot, "big", &vec![9u8; 100_000]);
    let archive = v.dump_tar(vroot).unwrap();
    let pristine = archive.clone();
    let borrowed: &'static [u8] = archive.leak();
    let mut copied = vfs();
    let croot = copied.root();
    copied.load_tar(croot, borrowed).unwrap();
    let mut w = vfs();
    let root = w.root();
    w.load_tar_static(root, borrowed).unwrap();
    assert!(describe(&w, root) == describe(&copied, croot));
    assert_eq!(w.used_bytes(), copied.used_bytes());
    // A borrowed file's bytes can be had in place; a copied one's cannot.
    let big = w.lookup(root, "big").unwrap();
    assert_eq!(
        w.static_contents(big).unwrap(),
        Some(&vec![9u8; 100_000][..])
    );
    let cbig = copied.lookup(croot, "big").unwrap();
    assert_eq!(copied.static_contents(cbig).unwrap(), None);
    assert_eq!(w.static_contents(root), Err(crate::Error::IsDir));
    // The same changes to both trees.
    for t in [&mut w, &mut copied] {
        let r = t.root();
        let f = t.resolve(r, "dir/file.txt", false, true).unwrap();
        t.write_at(f, 2, b"XY").unwrap();
        let big = t.lookup(r, "big").unwrap();
        t.set_len(big, 10).unwrap();
        t.set_len(big, 20).unwrap();
        t.write_at(big, 30, b"end").unwrap();
        t.unlink(r, "zero").unwrap();
    }
    // Contents and kinds (the test clock ticks on every call, so the two trees' later
    // mtimes differ: loading by borrowing reads it less often).
    let strip = |d: Vec<(String, FileKind, Vec<u8>, u64)>| -> Vec<_> {
        d.into_iter().map(|(p, k, c, _)| (p, k, c)).collect()
    };
    assert!(strip(describe(&w, root)) == strip(describe(&copied, croot)));
    // Changed, the file has its own bytes.
    assert_eq!(w.static_contents(big).unwrap(), None);
    // Usage is charged by capacity: a file copied out of the archive has exactly its
    // bytes, one grown by writes the spare room of its vectors (a few slots).
    let (a, b) = (w.used_bytes(), copied.used_bytes());
    assert!(a.abs_diff(b) <= 256, "{a} vs {b}");
    // The hard link sees the change; the archive does not.
    let linked = w.lookup(root, "hardlink").unwrap();
    assert_eq!(&read_all(&w, linked)[2..4], b"XY");
    assert!(borrowed == &pristine[..]);
}

#[test]
fn tar_of_a_subtree_and_into_a_subdirectory() {
    let v = build_rich_tree();
    let dir = v.lookup(v.root(), "dir").unwrap();
    let archive = v.dump_tar(dir).unwrap();
    let mut w = vfs();
    let root = w.root();
    let target = w.mkdir(root, "mnt").unwrap();
    w.load_tar(target, &archive).unwrap();
    assert_eq!(describe(&v, dir), describe(&w, target));
    let f = v.lookup(v.root(), "zero").unwrap();
    assert_eq!(v.dump_tar(f), Err(Error::NotDir));
}

#[test]
fn empty_tree_dumps_to_two_zero_blocks() {
    let v = vfs();
    let archive = v.dump_tar(v.root()).unwrap();
    assert_eq!(archive, vec![0u8; 1024]);
    let mut w = vfs();
    let root = w.root();
    w.load_tar(root, &archive).unwrap();
    assert!(w.read_dir(root).unwrap().is_empty());
}

/// A ustar header as other tools write it, for reader tests.
fn raw_header(name: &str, typeflag: u8, size: usize, link: &str, gnu: bool) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"14000000000");
    h[156] = typeflag;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn with_data(mut header: Vec<u8>, data: &[u8]) -> Vec<u8> {
    header.extend_from_slice(data);
    header.resize(
        header.len() + data.len().div_ceil(512) * 512 - data.len(),
        0,
    );
    header
}

#[test]
fn tar_reads_gnu_long_names_and_links() {
    let long_name = format!("deep/{}", "n".repeat(150));
    let long_target = "t".repeat(130);
    let mut archive = Vec::new();
    archive.extend(with_data(
        raw_header("././@LongLink", b'L', long_name.len() + 1, "", true),
        format!("{long_name}\0").as_bytes(),
    ));
    archive.extend(with_data(raw_header("trunc", b'0', 3, "", true), b"abc"));
    archive.extend(with_data(
        raw_header("././@LongLink", b'K', long_target.len(), "", true),
        long_target.as_bytes(),
    ));
    archive.extend(raw_header("sym", b'2', 0, "short", true));
    // A GNU header's prefix bytes are not a name prefix.
    archive.extend(vec![0u8; 1024]);
    let mut v = vfs();
    let root = v.root();
    v.load_tar(root, &archive).unwrap();
    let f = v.resolve(root, &long_name, false, true).unwrap();
    assert_eq!(read_all(&v, f), b"abc");
    assert_eq!(
        v.metadata(f).unwrap().mtime_ns,
        0o14000000000 * 1_000_000_000
    );
    let s = v.lookup(root, "sym").unwrap();
    assert_eq!(v.readlink(s).unwrap(), long_target);
}

#[test]
fn tar_reads_ustar_prefix_pax_and_skips_devices() {
    let mut h = raw_header("name.txt", b'0', 2, "", false);
    h[345..351].copy_from_slice(b"pre/fx");
    // Recompute the checksum after editing the prefix.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut archive = with_data(h, b"hi");
    let pax = "30 mtime=1700000000.000000123\n18 path=pax/named\n";
    archive.extend(with_data(
        raw_header("PaxHeader", b'x', pax.len(), "", false),
        pax.as_bytes(),
    ));
    archive.extend(with_data(raw_header("ignored", b'0', 1, "", false), b"p"));
    archive.extend(with_data(
        raw_header("global", b'g', 9, "", false),
        b"9 a=b\nxxx",
    ));
    archive.extend(raw_header("dev/null", b'3', 0, "", false));
    archive.extend(raw_header("fifo", b'6', 0, "", false));
    archive.extend(raw_header("./", b'5', 0, "", false));
    archive.extend(vec![0u8; 1024]);
    let mut v = vfs();
    let root = v.root();
    v.load_tar(root, &archive).unwrap();
    let f = v.resolve(root, "pre/fx/name.txt", false, true).unwrap();
    assert_eq!(read_all(&v, f), b"hi");
    let p = v.resolve(root, "pax/named", false, true).unwrap();
    assert_eq!(read_all(&v, p), b"p");
    assert_eq!(v.metadata(p).unwrap().mtime_ns, 1_700_000_000_000_000_123);
    assert_eq!(v.lookup(root, "ignored"), Err(Error::NotFound));
    assert_eq!(v.lookup(root, "fifo"), Err(Error::NotFound));
    // Skipped entries leave no trace, not even their parent directories.
    assert_eq!(v.lookup(root, "dev"), Err(Error::NotFound));
}

#[test]
fn tar_later_entries_replace_earlier_ones() {
    let mut archive = Vec::new();
    archive.extend(with_data(raw_header("x", b'0', 3, "", false), b"old"));
    archive.extend(with_data(raw_header("x", b'0', 3, "", false), b"new"));
    archive.extend(raw_header("y", b'2', 0, "x", false));
    archive.extend(raw_header("y", b'5', 0, "", false));
    archive.extend(raw_header("x", b'1', 0, "x", false));
    archive.extend(vec![0u8; 1024]);
    let mut v = vfs();
    let root = v.root();
    v.load_tar(root, &archive).unwrap();
    let x = v.lookup(root, "x").unwrap();
    assert_eq!(read_all(&v, x), b"new");
    assert_eq!(v.metadata(x).unwrap().nlink, 1);
    assert_eq!(
        v.metadata(v.lookup(root, "y").unwrap()).unwrap().kind,
        FileKind::Directory
    );
}

#[test]
fn tar_refuses_escapes_and_bad_structure() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (raw_header("../evil", b'0', 0, "", false), "dotdot name"),
        (raw_header("a/../../evil", b'5', 0, "", false), "dotdot dir"),
        (raw_header("hl", b'1', 0, "../x", false), "dotdot link"),
    ];
    for (header, what) in cases {
        let mut archive = header;
        archive.extend(vec![0u8; 1024]);
        let mut v = vfs();
        let root = v.root();
        assert!(
            matches!(
                v.load_tar(root, &archive),
                Err(ArchiveError::Malformed { .. })
            ),
            "{what}"
        );
    }
    // Filesystem errors name the entry.
    let mut archive = with_data(raw_header("f", b'0', 1, "", false), b"x");
    archive.extend(with_data(raw_header("f/g", b'0', 1, "", false), b"y"));
    archive.extend(raw_header("missing_link", b'1', 0, "nope", false));
    archive.extend(vec![0u8; 1024]);
    let mut v = vfs();
    let root = v.root();
    match v.load_tar(root, &archive) {
        Err(ArchiveError::Fs { path, error }) => {
            assert_eq!((path.as_str(), error), ("f/g", Error::NotDir));
        }
        other => panic!("{other:?}"),
    }
    let mut archive = raw_header("missing_link", b'1', 0, "nope", false);
    archive.extend(vec![0u8; 1024]);
    assert!(matches!(
        vfs().load_tar(1, &archive),
        Err(ArchiveError::Fs {
            error: Error::NotFound,
            ..
        })
    ));
    // An archive does not fit a too-small filesystem: NoSpace, no abort.
    let big = build_rich_tree().dump_tar(1).unwrap();
    let mut small = vfs();
    small.set_limit_bytes(small.used_bytes() + 1000);
    assert!(matches!(
        small.load_tar(1, &big),
        Err(ArchiveError::Fs {
            error: Error::NoSpace,
            ..
        })
    ));
    // Loading into a file is NotDir.
    let mut v = vfs();
    let root = v.root();
    let f = file(&mut v, root, "f", b"");
    assert!(matches!(
        v.load_tar(f, &big),
        Err(ArchiveError::Fs {
            error: Error::NotDir,
            ..
        })
    ));
}

#[test]
fn tar_malformed_inputs_are_errors_not_panics() {
    let good = build_rich_tree().dump_tar(1).unwrap();
    // Every truncation: an error (never a panic), except cuts inside the end marker.
    let end_marker_start = good.len() - 1024;
    for cut in (0..good.len())
        .step_by(7)
        .chain([good.len() - 1024, 512, 0])
    {
        let result = vfs().load_tar(1, &good[..cut]);
        if cut < end_marker_start {
            assert!(result.is_err(), "truncated at {cut} accepted");
        } else if cut >= end_marker_start + 512 {
            assert!(result.is_ok());
        }
    }
    // Single-byte corruptions anywhere: no panic (most are checksum errors).
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut bad = good.clone();
        let at = (state % bad.len() as u64) as usize;
        bad[at] = (state >> 32) as u8;
        let _ = vfs().load_tar(1, &bad);
    }
    // Garbage and edge values.
    let _ = vfs().load_tar(1, &[0xff; 4096]);
    let _ = vfs().load_tar(1, &[b'7'; 2048]);
    assert!(vfs().load_tar(1, &[]).is_err());
    assert!(vfs().load_tar(1, &[0u8; 100]).is_err());
    // A size field claiming more data than there is.
    let mut archive = raw_header("f", b'0', 5000, "", false);
    archive.extend(vec![0u8; 1024]);
    assert!(matches!(
        vfs().load_tar(1, &archive),
        Err(ArchiveError::Malformed { .. })
    ));
    // Base-256 sizes: huge ones are refused, not allocated.
    let mut h = raw_header("f", b'0', 0, "", true);
    h[124..136].copy_from_slice(&[
        0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h.extend(vec![0u8; 1024]);
    assert!(vfs().load_tar(1, &h).is_err());
    // Bad pax records.
    for pax in [
        "x",
        "99 path=a\n",
        "5 a=b\n",
        "6 ab\n",
        "12 mtime=zz\n",
        "abc path=a\n",
        "0 \n",
    ] {
        let mut archive = with_data(raw_header("p", b'x', pax.len(), "", false), pax.as_bytes());
        archive.extend(with_data(raw_header("f", b'0', 1, "", false), b"x"));
        archive.extend(vec![0u8; 1024]);
        assert!(
            matches!(
                vfs().load_tar(1, &archive),
                Err(ArchiveError::Malformed { .. })
            ),
            "pax {pax:?}"
        );
    }
    // A checksum mismatch and a non-ustar header.
    let mut archive = raw_header("f", b'5', 0, "", false);
    archive[0] = b'g';
    archive.extend(vec![0u8; 1024]);
    assert!(vfs().load_tar(1, &archive).is_err());
    let mut archive = raw_header("f", b'5', 0, "", false);
    archive[257] = b'X';
    archive[148..156].fill(b' ');
    let sum: u32 = archive.iter().map(|&b| u32::from(b)).sum();
    archive[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    archive.extend(vec![0u8; 1024]);
    assert!(vfs().load_tar(1, &archive).is_err());
}

#[test]
fn errors_display() {
    assert_eq!(Error::NotFound.to_string(), "no such file or directory");
    let e = ArchiveError::Malformed {
        what: "x",
        offset: 512,
    };
    assert_eq!(e.to_string(), "malformed archive at byte 512: x");
    let e: ArchiveError = Error::NoSpace.into();
    assert!(e.to_string().contains("no space"));
}

#[test]
fn create_file_at_is_open_with_o_creat() {
    let (mut v, root, a, b) = sample();
    let f = v.lookup(a, "f").unwrap();
    let c = v.lookup(b, "c.txt").unwrap();
    // Existing files are returned, new ones created.
    assert_eq!(
        v.create_file_at(root, "a/f", true, false, true),
        Ok((f, false))
    );
    assert_eq!(
        v.create_file_at(root, "a/f", true, true, true),
        Err(Error::Exists)
    );
    let (n, created) = v
        .create_file_at(root, "a/b/../new", true, false, true)
        .unwrap();
    assert!(created);
    assert_eq!(v.lookup(a, "new"), Ok(n));
    // A final symlink is followed unless told not to or exclusive.
    assert_eq!(
        v.create_file_at(root, "link_c", true, false, true),
        Ok((c, false))
    );
    assert_eq!(
        v.create_file_at(root, "link_c", false, false, true),
        Err(Error::Loop)
    );
    assert_eq!(
        v.create_file_at(root, "link_c", true, true, true),
        Err(Error::Exists)
    );
    // A dangling symlink creates its target, relative to the link's directory.
    v.symlink("../made_by_link", b, "dangling").unwrap();
    let (m, created) = v
        .create_file_at(root, "a/b/dangling", true, false, true)
        .unwrap();
    assert!(created);
    assert_eq!(v.lookup(a, "made_by_link"), Ok(m));
    // ...but not outside the base.
    v.symlink("../../outside", b, "escaping").unwrap();
    assert_eq!(
        v.create_file_at(a, "b/escaping", true, false, true),
        Err(Error::Escape)
    );
    v.symlink("/abs", root, "absolute").unwrap();
    assert_eq!(
        v.create_file_at(root, "absolute", true, false, true),
        Err(Error::Escape)
    );
    let (abs, _) = v.create_file_at(a, "/abs2", true, false, false).unwrap();
    assert_eq!(v.lookup(root, "abs2"), Ok(abs));
    // Directories, dots and trailing slashes are IsDir; escapes and loops as resolve.
    assert_eq!(
        v.create_file_at(root, "a", true, false, true),
        Err(Error::IsDir)
    );
    assert_eq!(
        v.create_file_at(root, "a/", true, false, true),
        Err(Error::IsDir)
    );
    assert_eq!(
        v.create_file_at(root, "x/", true, false, true),
        Err(Error::IsDir)
    );
    assert_eq!(
        v.create_file_at(root, ".", true, false, true),
        Err(Error::IsDir)
    );
    assert_eq!(
        v.create_file_at(a, "..", true, false, true),
        Err(Error::Escape)
    );
    assert_eq!(
        v.create_file_at(a, "../x", true, false, true),
        Err(Error::Escape)
    );
    assert_eq!(
        v.create_file_at(root, "", true, false, true),
        Err(Error::NotFound)
    );
    assert_eq!(
        v.create_file_at(root, "nope/x", true, false, true),
        Err(Error::NotFound)
    );
    assert_eq!(
        v.create_file_at(root, "a/f/x", true, false, true),
        Err(Error::NotDir)
    );
    v.symlink("loop2", root, "loop1").unwrap();
    v.symlink("loop1", root, "loop2").unwrap();
    assert_eq!(
        v.create_file_at(root, "loop1", true, false, true),
        Err(Error::Loop)
    );
    assert_eq!(
        v.create_file_at(root, "loop1/x", true, false, true),
        Err(Error::Loop)
    );
}

#[test]
fn dump_tar_changes_marks_only_untouched_files_at_their_load_path() {
    // The guest's view: an archive loaded under /run/dirs/0 (not at the root).
    let mut src = vfs();
    let sroot = src.root();
    let large = vec![7u8; 64 * 1024];
    for (name, data) in [("big", &large[..]), ("edit", b"v1"), ("move", b"m")] {
        file(&mut src, sroot, name, data);
    }
    let archive = src.dump_tar(sroot).unwrap();
    let mut v = vfs();
    let root = v.root();
    let run = v.mkdir(root, "run").unwrap();
    let dirs = v.mkdir(run, "dirs").unwrap();
    let d = v.mkdir(dirs, "0").unwrap();
    v.load_tar(d, &archive).unwrap();
    let edit = v.lookup(d, "edit").unwrap();
    v.write_at(edit, 0, b"v2").unwrap();
    v.rename(d, "move", d, "moved").unwrap();
    file(&mut v, d, "new", b"fresh");

    let changes = v.dump_tar_changes(d).unwrap();
    assert!(changes.len() < v.dump_tar(d).unwrap().len());
    // The receiver sees markers for untouched files and content for everything else.
    let mut back = vfs();
    let broot = back.root();
    back.load_tar(broot, &changes).unwrap();
    let big = back.lookup(broot, "big").unwrap();
    assert!(back.is_unchanged_marker(big));
    assert_eq!(back.metadata(big).unwrap().size, 0);
    for (name, data) in [("edit", &b"v2"[..]), ("moved", b"m"), ("new", b"fresh")] {
        let ino = back.lookup(broot, name).unwrap();
        assert!(!back.is_unchanged_marker(ino), "{name}");
        let mut buf = [0u8; 16];
        let n = back.read_at(ino, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], data, "{name}");
    }
    // A plain dump never marks, and truncation also counts as a change.
    let big_here = v.lookup(d, "big").unwrap();
    v.set_len(big_here, 32 * 1024).unwrap();
    let mut again = vfs();
    let aroot = again.root();
    again
        .load_tar(aroot, &v.dump_tar_changes(d).unwrap())
        .unwrap();
    let big = again.lookup(aroot, "big").unwrap();
    assert!(!again.is_unchanged_marker(big));
    assert_eq!(again.metadata(big).unwrap().size, 32 * 1024);
}

/// `dump_tar_changes_parts` makes the same archive as `dump_tar_changes`, with the
/// contents of large files borrowed in place (only their headers and padding copied).
#[test]
fn tar_parts_borrow_large_contents_and_make_the_same_archive() {
    let mut v = vfs();
    let root = v.root();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let d = v.mkdir(root, "d").unwrap();
    file(&mut v, d, "big", &big);
    file(&mut v, d, "small", b"tiny");
    file(&mut v, root, &"n".repeat(150), &big[..70_000]);
    let whole = v.dump_tar_changes(root).unwrap();
    let parts = v.dump_tar_changes_parts(root, 65536).unwrap();
    let joined: Vec<u8> = parts.iter().flat_map(|p| p.bytes().to_vec()).collect();
    assert_eq!(joined, whole);
    let borrowed: Vec<usize> = parts
        .iter()
        .filter_map(|p| match p {
            crate::TarPart::Borrowed(b) => Some(b.len()),
            crate::TarPart::Owned(_) => None,
        })
        .collect();
    // Whole 64 KiB chunks are borrowed; the rest of each file is copied.
    assert_eq!(borrowed, [65_536, 65_536]);
    let owned: usize = parts
        .iter()
        .filter_map(|p| match p {
            crate::TarPart::Owned(o) => Some(o.len()),
            crate::TarPart::Borrowed(_) => None,
        })
        .sum();
    assert_eq!(
        owned,
        whole.len() - 131_072,
        "only headers, padding and partial chunks are copied"
    );
}

#[test]
fn memory_devices_are_nodes_without_bytes_and_survive_archives() {
    use crate::Device;
    let mut v = vfs();
    let root = v.root();
    let dev = v.mkdir(root, "dev").unwrap();
    let null = v.mknod(dev, "null", Device::Null).unwrap();
    let urandom = v.mknod(dev, "urandom", Device::Urandom).unwrap();
    assert_eq!(v.mknod(dev, "null", Device::Zero), Err(Error::Exists));
    let meta = v.metadata(null).unwrap();
    assert_eq!(
        (meta.kind, meta.size, meta.nlink),
        (FileKind::CharacterDevice, 0, 1)
    );
    assert_eq!(v.device(null), Ok(Some(Device::Null)));
    assert_eq!(v.device(dev), Ok(None));
    // Opening with O_CREAT opens the device; its bytes are not the filesystem's.
    assert_eq!(v.create_file(dev, "urandom", false), Ok((urandom, false)));
    assert_eq!(v.create_file(dev, "urandom", true), Err(Error::Exists));
    assert_eq!(v.set_len(null, 10), Err(Error::Invalid));
    assert_eq!(v.write_at(null, 0, b"x"), Err(Error::Invalid));
    // Linux's numbers, and only the memory devices.
    for d in [
        Device::Null,
        Device::Zero,
        Device::Full,
        Device::Random,
        Device::Urandom,
    ] {
        let (major, minor) = d.numbers();
        assert_eq!(Device::from_numbers(major, minor), Some(d));
    }
    assert_eq!(Device::from_numbers(4, 1), None);
    assert_eq!(Device::from_numbers(1, 1), None);

    // A tar round trip keeps them (ustar typeflag 3 with devmajor/devminor), even under
    // a long name (a pax path).
    let long = "l".repeat(150);
    v.mknod(dev, &long, Device::Full).unwrap();
    let tar = v.dump_tar(root).unwrap();
    let mut w = vfs();
    let wroot = w.root();
    w.load_tar(wroot, &tar).unwrap();
    let wdev = w.lookup(wroot, "dev").unwrap();
    for (name, device) in [
        ("null", Device::Null),
        ("urandom", Device::Urandom),
        (&long, Device::Full),
    ] {
        let ino = w.lookup(wdev, name).unwrap();
        assert_eq!(w.device(ino), Ok(Some(device)), "{name}");
    }
    assert_eq!(w.read_dir(wdev).unwrap().len(), 3);

    // A device the tree cannot hold (here /dev/sda, block or character) is left out.
    let mut tar = tar;
    let at = tar
        .windows(4)
        .position(|w| w == b"null")
        .expect("the null entry")
        / 512
        * 512;
    let mut h = [0u8; 512];
    h.copy_from_slice(&tar[at..at + 512]);
    h[329..337].copy_from_slice(b"0000010\0");
    h[337..345].copy_from_slice(b"0000000\0");
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar[at..at + 512].copy_from_slice(&h);
    let mut x = vfs();
    let xroot = x.root();
    x.load_tar(xroot, &tar).unwrap();
    let xdev = x.lookup(xroot, "dev").unwrap();
    assert_eq!(x.lookup(xdev, "null"), Err(Error::NotFound));
    assert!(x.lookup(xdev, "urandom").is_ok());
}
