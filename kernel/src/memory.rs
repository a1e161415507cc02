//! Physical and virtual memory management.
//!
//! - Frames: `kernel_logic::frame::FrameAllocator` over the multiboot memory map, its bitmap in
//!   a static (1 MiB of bits, enough for 32 GiB of physical address space).
//! - Page tables: built and switched to by `hal::paging::init`.
//! - Heap: `hal::heap`, grown by [`grow_heap`] mapping fresh frames.
//! - Reservations (`kernel_logic::reserve`): address ranges in the dynamic area with guard
//!   pages, committed eagerly (task [`Stack`]s) or lazily on page fault ([`reserve`],
//!   [`protect`], [`decommit`], [`release`] — the services wasmtime's `mmap`/`mprotect` glue
//!   will call).
//!
//! Lock order: reservations → page table → frames; the heap lock may be taken before the page
//! table and frames (growth) but never before reservations.

use crate::sync::SpinLock;
use alloc::vec::Vec;
use hal::boot::BootInfo;
use hal::paging::{DYNAMIC_END, DYNAMIC_START};
use kernel_logic::frame::FrameAllocator;
use kernel_logic::paging::{FrameSource, MapError, Prot};
use kernel_logic::reserve::{Commit, Region, Reservations, ReserveError};
use kernel_logic::PAGE_SIZE;

/// Highest physical address managed (32 GiB).
pub const MAX_PHYS: u64 = 32 << 30;
const BITMAP_WORDS: usize = (MAX_PHYS / PAGE_SIZE / 64) as usize;

static BITMAP: spin::Mutex<[u64; BITMAP_WORDS]> = spin::Mutex::new([0; BITMAP_WORDS]);
static FRAMES: SpinLock<Option<FrameAllocator<'static>>> = SpinLock::new(None);
static RESERVATIONS: SpinLock<Reservations> =
    SpinLock::new(Reservations::new(DYNAMIC_START, DYNAMIC_END));
static USABLE_FRAMES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The global frame allocator as a [`FrameSource`].
pub struct Frames;

impl FrameSource for Frames {
    fn alloc_frame(&mut self) -> Option<u64> {
        FRAMES.lock().as_mut().and_then(|f| f.alloc())
    }
    fn free_frame(&mut self, frame: u64) {
        if let Some(f) = FRAMES.lock().as_mut() {
            if f.free(frame).is_err() {
                log::error!("bad frame free {frame:#x}");
            }
        }
    }
}

/// Initial heap size.
const HEAP_INITIAL: u64 = 8 << 20;

/// Sets up frames, the kernel's page tables and the heap.
pub fn init(info: &BootInfo) {
    let max_phys = info
        .regions()
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(0)
        .min(MAX_PHYS);
    let bits = spin::MutexGuard::leak(BITMAP.lock());
    let mut fa = FrameAllocator::new(&mut bits[..], max_phys);
    for r in info.regions() {
        fa.add_free(r.start, r.end.min(max_phys));
    }
    // Real-mode area, BIOS data, and anything below 1 MiB stays untouched.
    fa.reserve(0, 0x10_0000);
    let (ks, ke) = hal::boot::kernel_image_range();
    fa.reserve(ks, ke);
    for m in info.modules() {
        fa.reserve(m.start, m.end);
    }
    USABLE_FRAMES.store(fa.free_frames(), core::sync::atomic::Ordering::Relaxed);
    *FRAMES.lock() = Some(fa);
    if let Err(e) = hal::paging::init(&mut Frames, max_phys) {
        panic!("building the kernel page tables failed: {e:?}");
    }
    if !hal::heap::init(HEAP_INITIAL, grow_heap, shrink_heap) {
        panic!("no memory for the kernel heap");
    }
}

/// Frames a large heap growth must leave free (16 MiB): an allocation sized by a program
/// (a huge write, a table of millions of entries) fails while the kernel still has room to
/// report it and clean up, instead of taking the last frame the next task stack needs.
const HEAP_GROWTH_RESERVE_FRAMES: u64 = (16 << 20) / PAGE_SIZE;

/// Maps `[start, start + len)` of the heap area (the heap's growth callback). A growth
/// beyond one step must leave [`HEAP_GROWTH_RESERVE_FRAMES`] free; one that fails part way
/// unmaps and frees what it mapped (the heap does not know of them, so nothing else would).
fn grow_heap(start: u64, len: u64) -> bool {
    let pages = len / PAGE_SIZE;
    if len > hal::heap::GROW_STEP {
        let free = FRAMES.lock().as_ref().map_or(0, |f| f.free_frames());
        if free < pages + HEAP_GROWTH_RESERVE_FRAMES {
            return false;
        }
    }
    let mut a = start;
    while a < start + len {
        if hal::paging::map_zeroed(&mut Frames, a, Prot::RW).is_err() {
            // The pages were mapped just now by this call; nothing lives in them yet.
            shrink_heap(start, a - start);
            return false;
        }
        a += PAGE_SIZE;
    }
    true
}

/// Unmaps `[start, start + len)` of the heap area and frees its frames (the heap's shrink
/// callback: nothing lives there any more).
fn shrink_heap(start: u64, len: u64) {
    let mut a = start;
    while a < start + len {
        if let Ok(frame) = hal::paging::unmap(a) {
            Frames.free_frame(frame);
        }
        a += PAGE_SIZE;
    }
}

/// Memory figures for `mem`.
pub struct MemStats {
    /// Usable RAM frames at boot (after the kernel image and modules).
    pub usable_frames: u64,
    /// Frames free now.
    pub free_frames: u64,
    /// Heap bytes allocated.
    pub heap_used: usize,
    /// Heap bytes managed (mapped).
    pub heap_size: usize,
    /// Number of reservations.
    pub reservations: usize,
}

/// Current memory figures.
pub fn stats() -> MemStats {
    let free_frames = FRAMES.lock().as_ref().map_or(0, |f| f.free_frames());
    let (heap_used, heap_size) = hal::heap::stats();
    MemStats {
        usable_frames: USABLE_FRAMES.load(core::sync::atomic::Ordering::Relaxed),
        free_frames,
        heap_used,
        heap_size,
        reservations: RESERVATIONS.lock().count(),
    }
}

/// Errors of the reservation services.
#[derive(Debug, PartialEq, Eq)]
pub enum MemError {
    /// Bookkeeping refused the request.
    Reserve(ReserveError),
    /// The page tables refused it.
    Map(MapError),
}

/// Reserves `len` bytes (page multiple) with `guard` bytes unmapped on both sides, committed
/// lazily with `prot` on first touch. Returns the base address.
pub fn reserve(len: u64, guard: u64, prot: Prot, label: &'static str) -> Result<u64, MemError> {
    RESERVATIONS
        .lock()
        .reserve(len, guard, prot, Commit::Lazy, label)
        .map_err(MemError::Reserve)
}

/// Unmaps and frees every committed page in `[addr, addr + len)`.
fn unmap_range(addr: u64, len: u64) {
    let end = addr + len;
    let mut a = addr;
    while let Some(page) = hal::paging::next_mapped(a, end) {
        if let Ok(frame) = hal::paging::unmap(page) {
            Frames.free_frame(frame);
        }
        a = page + PAGE_SIZE;
    }
}

/// Releases a reservation made by [`reserve`], freeing its committed frames.
pub fn release(base: u64) -> Result<(), MemError> {
    let region = RESERVATIONS
        .lock()
        .release(base)
        .ok_or(MemError::Reserve(ReserveError::NotReserved))?;
    unmap_range(region.base, region.len);
    Ok(())
}

/// Changes the protection of `[addr, addr + len)` inside one reservation: committed pages
/// change now, uncommitted ones commit with it later. W+X is refused.
pub fn protect(addr: u64, len: u64, prot: Prot) -> Result<(), MemError> {
    let mut res = RESERVATIONS.lock();
    res.set_prot(addr, len, prot).map_err(MemError::Reserve)?;
    let end = addr + len;
    let mut a = addr;
    while let Some(page) = hal::paging::next_mapped(a, end) {
        hal::paging::protect(page, prot).map_err(MemError::Map)?;
        a = page + PAGE_SIZE;
    }
    Ok(())
}

/// Commits every not yet committed page of `[addr, addr + len)` now, zeroed, with `prot`
/// (inside one reservation). Fails without mapping anything when free frames cannot cover
/// the range; a failure midway (page-table frames ran out) leaves the pages mapped so far
/// committed, which callers undo by protecting the range to none.
pub fn commit(addr: u64, len: u64, prot: Prot) -> Result<(), MemError> {
    {
        let res = RESERVATIONS.lock();
        match res.find(addr) {
            Some(r) if r.contains(addr) && r.contains(addr + len - 1) => {}
            _ => return Err(MemError::Reserve(ReserveError::NotReserved)),
        }
    }
    let start = addr & !(PAGE_SIZE - 1);
    let end = addr + len;
    let missing = (start..end)
        .step_by(PAGE_SIZE as usize)
        .filter(|&p| hal::paging::translate(p).is_none())
        .count() as u64;
    if missing > stats().free_frames {
        return Err(MemError::Map(MapError::OutOfFrames));
    }
    let mut page = start;
    while page < end {
        if hal::paging::translate(page).is_none() {
            hal::paging::map_zeroed(&mut Frames, page, prot).map_err(MemError::Map)?;
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// Drops the committed pages of `[addr, addr + len)`: the next access sees zeroes again.
pub fn decommit(addr: u64, len: u64) -> Result<(), MemError> {
    let res = RESERVATIONS.lock();
    match res.find(addr) {
        Some(r) if r.contains(addr) && r.contains(addr + len - 1) => {}
        _ => return Err(MemError::Reserve(ReserveError::NotReserved)),
    }
    unmap_range(addr, len);
    Ok(())
}

/// What the page-fault handler learned about an address.
pub enum FaultClass {
    /// Committed now; retry the access.
    Committed,
    /// In the guard of a region (a stack overflow when the label is "stack").
    Guard(&'static str),
    /// Inside a region but the access is not allowed by its protection.
    Protection(&'static str),
    /// Not in any region.
    Unknown,
}

/// Handles a page fault at `addr` with the #PF error code (SDM Vol. 3A §4.7: bit 0 present,
/// bit 1 write, bit 4 instruction fetch): commits a zeroed page when the address is in a lazy
/// reservation whose intended protection allows the access.
pub fn handle_page_fault(addr: u64, error_code: u64) -> FaultClass {
    let Some(res) = RESERVATIONS.try_lock() else {
        return FaultClass::Unknown;
    };
    let Some(region) = res.find(addr) else {
        return FaultClass::Unknown;
    };
    if region.in_guard(addr) {
        return FaultClass::Guard(region.label);
    }
    let prot = region.prot_at(addr).unwrap_or(Prot::NONE);
    let present = error_code & 1 != 0;
    let write = error_code & 2 != 0;
    let fetch = error_code & 16 != 0;
    let allowed = !prot.is_none() && (!write || prot.write) && (!fetch || prot.exec);
    if present || !allowed || region.commit != Commit::Lazy {
        return FaultClass::Protection(region.label);
    }
    let page = addr & !(PAGE_SIZE - 1);
    // A page protected to none keeps its frame; it is "mapped" and not committed again.
    if hal::paging::translate(page).is_some() {
        return FaultClass::Protection(region.label);
    }
    match hal::paging::map_zeroed(&mut Frames, page, prot) {
        Ok(()) => FaultClass::Committed,
        Err(_) => FaultClass::Protection("out of memory"),
    }
}

/// The guest-physical runs (address, length) holding `bytes`, in order: each page
/// translated, physically adjacent pages merged (for a host that reads guest RAM: `clew
/// run` and `clew boot` write-back). Every byte the kernel can read is mapped, so a page
/// without a translation cannot occur; it would end the list early, and the host would
/// find the data short and say so.
pub fn physical_runs(bytes: &[u8]) -> Vec<(u64, u64)> {
    physical_runs_of(bytes.as_ptr() as u64, bytes.len() as u64)
}

/// [`physical_runs`] of the `len` bytes mapped at virtual address `virt` (for memory that
/// is not a byte slice, such as atomics another agent writes).
pub fn physical_runs_of(virt: u64, len: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut at = virt;
    let end = at + len;
    while at < end {
        let Some(t) = hal::paging::translate(at) else {
            break;
        };
        let page_end = (at | (t.page_size - 1)) + 1;
        let len = page_end.min(end) - at;
        match runs.last_mut() {
            Some((a, l)) if *a + *l == t.phys => *l += len,
            _ => runs.push((t.phys, len)),
        }
        at += len;
    }
    runs
}

/// The guest-physical address of the mapped virtual address `virt`.
pub fn physical_address(virt: u64) -> Option<u64> {
    hal::paging::translate(virt).map(|t| t.phys)
}

/// The region holding `addr`, if any (for diagnoses).
pub fn region_of(addr: u64) -> Option<Region> {
    RESERVATIONS.try_lock()?.find(addr).cloned()
}

/// A task stack: an eagerly mapped reservation with one unmapped guard page on each side.
pub struct Stack {
    base: u64,
    len: u64,
}

/// Freed large stacks kept for the next task of the same size (base, len). Mapping and
/// zeroing a process's 2 MiB stack page by page took about 7 ms under TCG, most of a
/// native process's spawn. A reused stack holds its last task's data; only kernel code
/// runs on stacks (wasm cannot address them), so nothing leaks to a program.
static STACK_POOL: SpinLock<Vec<(u64, u64)>> = SpinLock::new(Vec::new());

/// Stacks at least this large are pooled; smaller ones are cheap to map.
const POOLED_STACK_MIN: u64 = 1 << 20;

/// Most stacks kept in [`STACK_POOL`] (their frames stay in use: at most 4 MiB).
const STACK_POOL_MAX: usize = 2;

impl Stack {
    /// Reserves and maps a stack of at least `bytes`.
    pub fn new(bytes: u64) -> Option<Stack> {
        let len = bytes.div_ceil(PAGE_SIZE).max(1) * PAGE_SIZE;
        if len >= POOLED_STACK_MIN {
            let mut pool = STACK_POOL.lock();
            if let Some(i) = pool.iter().position(|&(_, l)| l == len) {
                let (base, len) = pool.swap_remove(i);
                return Some(Stack { base, len });
            }
        }
        let base = RESERVATIONS
            .lock()
            .reserve(len, PAGE_SIZE, Prot::RW, Commit::Eager, "stack")
            .ok()?;
        let stack = Stack { base, len };
        let mut a = base;
        while a < base + len {
            hal::paging::map_zeroed(&mut Frames, a, Prot::RW).ok()?;
            a += PAGE_SIZE;
        }
        Some(stack)
    }
    /// One past the highest byte (16-byte aligned).
    pub fn top(&self) -> u64 {
        self.base + self.len
    }
    /// The usable range.
    pub fn range(&self) -> (u64, u64) {
        (self.base, self.base + self.len)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.len >= POOLED_STACK_MIN {
            if let Some(mut pool) = STACK_POOL.try_lock() {
                if pool.len() < STACK_POOL_MAX {
                    pool.push((self.base, self.len));
                    return;
                }
            }
        }
        unmap_range(self.base, self.len);
        RESERVATIONS.lock().release(self.base);
    }
}
