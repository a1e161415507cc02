//! The size limit counts what the tree really costs: for many small files, directories,
//! symlinks and hard links, the heap bytes the `Vfs` holds stay within what it charged
//! (`used_bytes`). The kernel sizes the limit from free RAM, so an undercharge lets a
//! program creating millions of empty files exhaust the kernel heap before `ENOSPC`.
//! Heap bytes are counted by a global allocator wrapping the system one (this test binary
//! only).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

/// What a block of `size` bytes takes from the kernel's heap (`linked_list_allocator`:
/// at least 16 bytes, rounded up to 8).
fn cost(size: usize) -> usize {
    size.max(16).next_multiple_of(8)
}

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting the bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(cost(layout.size()), Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(cost(layout.size()), Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(cost(new_size), Ordering::SeqCst);
        LIVE.fetch_sub(cost(layout.size()), Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Creates what `make` creates and compares the heap growth with the charge.
fn measure(what: &str, make: impl FnOnce(&mut vfs::Vfs)) {
    let mut fs = vfs::Vfs::new(Box::new(|| 0));
    fs.set_limit_bytes(u64::MAX);
    let heap0 = LIVE.load(Ordering::SeqCst);
    let used0 = fs.used_bytes();
    make(&mut fs);
    let heap = (LIVE.load(Ordering::SeqCst) - heap0) as u64;
    let charged = fs.used_bytes() - used0;
    eprintln!("{what}: heap {heap} bytes, charged {charged}");
    assert!(
        std::env::var_os("CHARGE_REPORT").is_some() || heap <= charged,
        "{what}: the tree holds {heap} heap bytes but charged only {charged}"
    );
    drop(fs);
}

#[test]
fn the_limit_charges_at_least_what_the_tree_costs() {
    const N: u32 = 100_000;
    measure("empty files, short names", |fs| {
        let root = fs.root();
        for i in 0..N {
            fs.create_file(root, &format!("{i}"), true).unwrap();
        }
    });
    measure("empty files, long names", |fs| {
        let root = fs.root();
        for i in 0..N {
            fs.create_file(root, &format!("{i:0>200}"), true).unwrap();
        }
    });
    measure("directories", |fs| {
        let root = fs.root();
        for i in 0..N {
            fs.mkdir(root, &format!("d{i}")).unwrap();
        }
    });
    measure("nested directories", |fs| {
        let mut dir = fs.root();
        for i in 0..10_000 {
            dir = fs.mkdir(dir, &format!("d{i}")).unwrap();
        }
    });
    measure("symlinks", |fs| {
        let root = fs.root();
        for i in 0..N {
            fs.symlink("t", root, &format!("s{i}")).unwrap();
        }
    });
    measure("hard links", |fs| {
        let root = fs.root();
        let (f, _) = fs.create_file(root, "f", true).unwrap();
        for i in 0..N {
            fs.link(f, root, &format!("l{i}")).unwrap();
        }
    });
    measure("files of 200,000 bytes written 1000 at a time", |fs| {
        let root = fs.root();
        for i in 0..200 {
            let (f, _) = fs.create_file(root, &format!("{i}"), true).unwrap();
            for k in 0..200u64 {
                fs.write_at(f, k * 1000, &[7; 1000]).unwrap();
            }
        }
    });
    measure("sparse files", |fs| {
        let root = fs.root();
        for i in 0..1000 {
            let (f, _) = fs.create_file(root, &format!("{i}"), true).unwrap();
            fs.write_at(f, 1 << 30, b"x").unwrap();
            fs.set_len(f, 3 << 20).unwrap();
        }
    });
    measure("files of one byte", |fs| {
        let root = fs.root();
        for i in 0..N {
            let (f, _) = fs.create_file(root, &format!("{i}"), true).unwrap();
            fs.write_at(f, 0, b"x").unwrap();
        }
    });
}
