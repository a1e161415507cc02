//! Loaded programs by content. Spawning bytes that were loaded before reuses the loaded
//! program: a `.cwasm` is not deserialized again and its code stays at the same
//! addresses (QEMU keeps its translations of that code), a `.wasm` is not validated,
//! marked (`trap_site`) or translated again. Shell commands run over and over (`ls`,
//! `cat`) and `clew bench`'s repeated runs start faster in both tiers.
//!
//! Programs are shared, not copied: a wasmi or wasmtime module is immutable once loaded
//! and instantiated anew in each process's own store. The cache holds at most
//! [`CAPACITY`] programs and forgets the least recently used; their memory (code, wasmi's
//! translated functions) stays in use while cached, which `mem` shows.
//!
//! Neighbours: `super` (`load_program`, tier choice), `super::engine`, `super::native`.

use super::{Program, SpawnError};
use crate::sync::SpinLock;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// Most programs kept.
pub const CAPACITY: usize = 8;

struct Entry {
    len: usize,
    hash: u64,
    program: Program,
    last_use: u64,
}

static CACHE: SpinLock<Vec<Entry>> = SpinLock::new(Vec::new());
static CLOCK: AtomicU64 = AtomicU64::new(0);

/// With the length, the key of the bytes: the word-wise FNV-1a of `.cwasm` checksums
/// (modules reach hundreds of MB and this runs on every load).
fn hash(bytes: &[u8]) -> u64 {
    aot_config::header::fnv1a64(bytes)
}

/// The program loaded from `bytes` before, else `load(bytes)`, remembered if it loads.
pub(super) fn get_or_load(
    bytes: &[u8],
    load: impl FnOnce(&[u8]) -> Result<Program, SpawnError>,
) -> Result<Program, SpawnError> {
    let (len, h) = (bytes.len(), hash(bytes));
    let now = CLOCK.fetch_add(1, Ordering::Relaxed);
    {
        let mut cache = CACHE.lock();
        if let Some(e) = cache.iter_mut().find(|e| e.len == len && e.hash == h) {
            e.last_use = now;
            return Ok(e.program.clone());
        }
    }
    // Loading runs unlocked: it may take a second (CPython) and other tasks may load too.
    let program = load(bytes)?;
    let mut cache = CACHE.lock();
    let mut evicted = None;
    if !cache.iter().any(|e| e.len == len && e.hash == h) {
        if cache.len() >= CAPACITY {
            if let Some(oldest) = (0..cache.len()).min_by_key(|&i| cache[i].last_use) {
                evicted = Some(cache.swap_remove(oldest));
            }
        }
        cache.push(Entry {
            len,
            hash: h,
            program: program.clone(),
            last_use: now,
        });
    }
    // An evicted module is dropped unlocked: its drop unmaps code, which takes locks.
    drop(cache);
    drop(evicted);
    Ok(program)
}
