//! std::fs on a preopened directory (the first argument, e.g. `/data`), which the test fills
//! with `input.txt` ("alpha\nbeta\ngamma\n"), `link.txt` (a symlink to `input.txt`) and
//! `sub/old.txt`. Leaves `made/` behind for the host to check; `made/a` and `sub/old.txt`
//! are removed.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2020-01-01T00:00:00Z.
const YEAR_2020: u64 = 1_577_836_800;

fn kind<T: std::fmt::Debug>(result: std::io::Result<T>) -> ErrorKind {
    match result {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.kind(),
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    out.sort();
    out
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("usage: fs.wasm ROOT"));
    let at = |rel: &str| root.join(rel);

    // The host's fixture, and a symlink made on the host.
    let input = fs::read_to_string(at("input.txt")).unwrap();
    assert_eq!(input, "alpha\nbeta\ngamma\n");
    println!("input: {} lines, {} bytes", input.lines().count(), input.len());
    let link = at("link.txt");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(fs::metadata(&link).unwrap().is_file());
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("input.txt"));
    assert_eq!(fs::read_to_string(&link).unwrap(), input);
    println!("link: -> {}", fs::read_link(&link).unwrap().display());

    // Directories.
    fs::create_dir_all(at("made/a/b/c")).unwrap();
    fs::create_dir_all(at("made/a/b")).unwrap();
    assert_eq!(kind(fs::create_dir(at("made/a"))), ErrorKind::AlreadyExists);
    assert!(fs::metadata(at("made/a/b/c")).unwrap().is_dir());
    assert!(!fs::metadata(at("made/a/b/c")).unwrap().is_file());

    // Write, append, read back.
    let notes = at("made/a/notes.txt");
    fs::write(&notes, "first line\n").unwrap();
    {
        let mut f = OpenOptions::new().append(true).open(&notes).unwrap();
        f.write_all(b"second line\n").unwrap();
        writeln!(f, "third line, {}", 3).unwrap();
    }
    let text = fs::read_to_string(&notes).unwrap();
    assert_eq!(text, "first line\nsecond line\nthird line, 3\n");
    println!("notes: {:?}", text.lines().collect::<Vec<_>>());

    // Metadata.
    let meta = fs::metadata(&notes).unwrap();
    assert_eq!(meta.len(), text.len() as u64);
    assert!(meta.is_file() && !meta.is_dir());
    let modified = meta.modified().unwrap();
    let secs = modified.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs > YEAR_2020, "mtime {secs} is before 2020");
    let now = SystemTime::now();
    assert!(modified <= now + Duration::from_secs(60), "mtime in the future");
    println!("metadata: len {}, file, mtime after 2020", meta.len());

    // set_len shrinks, then grows with zeros.
    {
        let f = OpenOptions::new().write(true).open(&notes).unwrap();
        f.set_len(5).unwrap();
        assert_eq!(fs::read(&notes).unwrap(), b"first");
        f.set_len(8).unwrap();
    }
    assert_eq!(fs::read(&notes).unwrap(), b"first\0\0\0");
    assert_eq!(fs::metadata(&notes).unwrap().len(), 8);
    println!("set_len: 5 then 8");

    // Seeking.
    let seek_path = at("made/seek.bin");
    {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&seek_path)
            .unwrap();
        f.write_all(b"0123456789").unwrap();
        let mut two = [0u8; 2];
        assert_eq!(f.seek(SeekFrom::Start(3)).unwrap(), 3);
        f.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"34");
        assert_eq!(f.seek(SeekFrom::Current(2)).unwrap(), 7);
        let mut one = [0u8; 1];
        f.read_exact(&mut one).unwrap();
        assert_eq!(&one, b"7");
        assert_eq!(f.seek(SeekFrom::End(-1)).unwrap(), 9);
        f.read_exact(&mut one).unwrap();
        assert_eq!(&one, b"9");
        assert_eq!(f.read(&mut one).unwrap(), 0, "read at the end");
        assert_eq!(f.seek(SeekFrom::End(5)).unwrap(), 15);
        f.write_all(b"X").unwrap();
        assert_eq!(f.stream_position().unwrap(), 16);
        assert_eq!(kind(f.seek(SeekFrom::Current(-100))), ErrorKind::InvalidInput);
        f.seek(SeekFrom::Start(0)).unwrap();
        f.write_all(b"ab").unwrap();
    }
    let bytes = fs::read(&seek_path).unwrap();
    assert_eq!(bytes, b"ab23456789\0\0\0\0\0X");
    println!("seek: {:?}", String::from_utf8_lossy(&bytes));

    // Rename, hard link.
    let renamed = at("made/renamed.txt");
    fs::rename(&notes, &renamed).unwrap();
    assert_eq!(kind(fs::metadata(&notes)), ErrorKind::NotFound);
    fs::write(&renamed, "renamed\n").unwrap();
    let hard = at("made/hard.txt");
    fs::hard_link(&renamed, &hard).unwrap();
    OpenOptions::new()
        .append(true)
        .open(&hard)
        .unwrap()
        .write_all(b"via the hard link\n")
        .unwrap();
    assert_eq!(
        fs::read_to_string(&renamed).unwrap(),
        "renamed\nvia the hard link\n"
    );
    assert_eq!(kind(fs::hard_link(&renamed, &hard)), ErrorKind::AlreadyExists);
    println!("rename and hard_link: ok");

    // Copy.
    assert_eq!(fs::copy(at("input.txt"), at("made/copy.txt")).unwrap(), 17);

    // create_new, NotFound.
    let fresh = at("made/new.txt");
    File::options()
        .write(true)
        .create_new(true)
        .open(&fresh)
        .unwrap()
        .write_all(b"new\n")
        .unwrap();
    let again = File::options().write(true).create_new(true).open(&fresh);
    assert_eq!(kind(again), ErrorKind::AlreadyExists);
    assert_eq!(kind(File::open(at("missing.txt"))), ErrorKind::NotFound);
    assert_eq!(kind(File::open(at("nope/x.txt"))), ErrorKind::NotFound);
    assert_eq!(kind(fs::read_dir(at("nope"))), ErrorKind::NotFound);
    assert_eq!(kind(fs::remove_file(at("missing.txt"))), ErrorKind::NotFound);
    println!("errors: AlreadyExists, NotFound");

    // Removing.
    fs::remove_file(at("sub/old.txt")).unwrap();
    assert_eq!(kind(fs::metadata(at("sub/old.txt"))), ErrorKind::NotFound);
    assert!(names(&at("sub")).is_empty());
    assert!(fs::remove_dir(at("made/a")).is_err(), "removed a non-empty directory");
    fs::remove_dir_all(at("made/a")).unwrap();
    assert_eq!(kind(fs::metadata(at("made/a"))), ErrorKind::NotFound);

    // Listing.
    let listed = names(&at("made"));
    assert_eq!(
        listed,
        ["copy.txt", "hard.txt", "new.txt", "renamed.txt", "seek.bin"]
    );
    println!("made: {}", listed.join(" "));
    let top = names(&root);
    assert_eq!(top, ["input.txt", "link.txt", "made", "sub"]);
    println!("root: {}", top.join(" "));
}
