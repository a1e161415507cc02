//! The kernel heap: the `talc` allocator behind an interrupt-disabling spin lock (an
//! interrupt handler could otherwise deadlock on a lock held by the task it interrupted),
//! placed at [`crate::paging::HEAP_START`] and grown on demand through a callback the kernel's
//! `memory` module installs (it maps fresh frames at the heap's end).
//!
//! Talc keeps free blocks in size-segregated bins, so an allocation costs about the same
//! with a few blocks or millions of them. (`linked_list_allocator`, used before, searched
//! one list of every free block: after a program unlinked a million files in the VFS, each
//! allocation walked hundreds of thousands of holes and unlinking took minutes.)

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use talc::{ErrOnOom, Span, Talc};
use x86_64::instructions::interrupts::without_interrupts;

/// Maps `[start, start + len)` for the heap; returns false when out of memory.
pub type GrowFn = fn(start: u64, len: u64) -> bool;

/// Unmaps `[start, start + len)` of the heap and frees its frames (nothing lives there).
pub type ShrinkFn = fn(start: u64, len: u64);

struct State {
    talc: Talc<ErrOnOom>,
    /// The heap as talc knows it (empty until [`init`]).
    heap: Span,
    /// End of the memory mapped for the heap so far.
    mapped_end: u64,
    /// The heap never shrinks below this end (its initial size).
    floor: u64,
    grow: Option<GrowFn>,
    shrink: Option<ShrinkFn>,
}

/// The global allocator type.
pub struct KernelHeap {
    state: spin::Mutex<State>,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap {
    state: spin::Mutex::new(State {
        talc: Talc::new(ErrOnOom),
        heap: Span::empty(),
        mapped_end: crate::paging::HEAP_START,
        floor: crate::paging::HEAP_START,
        grow: None,
        shrink: None,
    }),
};

/// Smallest growth step.
pub const GROW_STEP: u64 = 1 << 20;

/// Freeing a block at least this large checks whether the heap's top can be given back.
const SHRINK_CHECK_SIZE: usize = 1 << 20;

/// Free memory kept mapped at the top when the heap shrinks (so a program freeing and
/// allocating a large buffer in turn does not map and unmap it each time).
const SHRINK_SLACK: u64 = 8 << 20;

/// Starts the heap over `[HEAP_START, HEAP_START + initial_len)`, which `grow` maps; the
/// heap grows through `grow` and gives memory above its highest allocation back through
/// `shrink` when large blocks are freed.
pub fn init(initial_len: u64, grow: GrowFn, shrink: ShrinkFn) -> bool {
    if !grow(crate::paging::HEAP_START, initial_len) {
        return false;
    }
    without_interrupts(|| {
        let mut s = HEAP.state.lock();
        let span = Span::from_base_size(crate::paging::HEAP_START as *mut u8, initial_len as usize);
        // SAFETY: the range was just mapped RW by `grow`, lies in the heap area reserved for
        // this allocator, and is handed over exactly once; nothing else uses it.
        match unsafe { s.talc.claim(span) } {
            Ok(heap) => {
                s.heap = heap;
                s.mapped_end = crate::paging::HEAP_START + initial_len;
                s.floor = s.mapped_end;
                s.grow = Some(grow);
                s.shrink = Some(shrink);
                true
            }
            Err(()) => false,
        }
    })
}

/// (bytes in use, bytes managed).
pub fn stats() -> (usize, usize) {
    without_interrupts(|| {
        let s = HEAP.state.lock();
        (s.talc.get_counters().allocated_bytes, s.heap.size())
    })
}

impl State {
    /// Maps at least `need` more bytes at the heap's end and hands them to talc; false when
    /// the heap area or memory is exhausted.
    fn grow_by(&mut self, need: usize) -> bool {
        let Some(grow) = self.grow else {
            return false;
        };
        let step = (need as u64 + 4096).div_ceil(GROW_STEP) * GROW_STEP;
        let top = self.mapped_end;
        if top + step > crate::paging::HEAP_START + crate::paging::HEAP_MAX || !grow(top, step) {
            return false;
        }
        self.mapped_end = top + step;
        let Some((base, _)) = self.heap.get_base_acme() else {
            return false;
        };
        let wanted = Span::new(base, self.mapped_end as *mut u8);
        // SAFETY: `grow` mapped [top, top + step) RW right after the memory already given to
        // talc (`self.heap` ends at or before `top`), and only talc uses it from now on.
        self.heap = unsafe { self.talc.extend(self.heap, wanted) };
        true
    }

    /// Gives the memory above the highest allocation back (keeping [`SHRINK_SLACK`] and
    /// never going below the initial size): a program's large buffers (an interpreted
    /// program's linear memory lives here) would otherwise keep their frames from native
    /// code and later programs once it exits.
    fn shrink_top(&mut self) {
        let Some(shrink) = self.shrink else {
            return;
        };
        let Some((base, _)) = self.heap.get_base_acme() else {
            return;
        };
        // SAFETY: `self.heap` is the span talc last returned for this heap.
        let used = unsafe { self.talc.get_allocated_span(self.heap) };
        let used_end = used
            .get_base_acme()
            .map_or(self.floor, |(_, acme)| acme as u64);
        let keep_end = (used_end + SHRINK_SLACK)
            .div_ceil(GROW_STEP)
            .saturating_mul(GROW_STEP)
            .max(self.floor);
        if keep_end >= self.mapped_end {
            return;
        }
        let wanted = Span::new(base, keep_end as *mut u8);
        // SAFETY: `wanted` lies within the heap and holds every allocation (it reaches past
        // the allocated span's end); talc leaves everything above the returned span.
        self.heap = unsafe { self.talc.truncate(self.heap, wanted) };
        shrink(keep_end, self.mapped_end - keep_end);
        self.mapped_end = keep_end;
    }

    /// Allocates `layout` (nonzero size), growing the heap as needed.
    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        loop {
            // SAFETY: GlobalAlloc callers never ask for a zero size.
            if let Ok(p) = unsafe { self.talc.malloc(layout) } {
                return p.as_ptr();
            }
            if !self.grow_by(layout.size() + layout.align()) {
                return core::ptr::null_mut();
            }
        }
    }
}

// SAFETY: allocation and deallocation are serialised by the lock with interrupts disabled;
// talc returns blocks that fit `layout` inside memory it owns.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        without_interrupts(|| self.state.lock().alloc(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        without_interrupts(|| {
            if let Some(p) = NonNull::new(ptr) {
                let mut s = self.state.lock();
                // SAFETY: per GlobalAlloc's contract `ptr` came from `alloc` with `layout`.
                unsafe { s.talc.free(p, layout) };
                if layout.size() >= SHRINK_CHECK_SIZE {
                    s.shrink_top();
                }
            }
        })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(p) = NonNull::new(ptr) else {
            return core::ptr::null_mut();
        };
        let in_place = without_interrupts(|| {
            let mut s = self.state.lock();
            if new_size <= layout.size() {
                // SAFETY: per GlobalAlloc's contract `ptr` came from `alloc` with `layout`,
                // and `new_size` (nonzero) is not larger.
                unsafe { s.talc.shrink(p, layout, new_size) };
                return true;
            }
            // SAFETY: as above, with `new_size` larger.
            unsafe { s.talc.grow_in_place(p, layout, new_size) }.is_ok()
        });
        if in_place {
            return ptr;
        }
        // Moved: the copy runs outside the lock with interrupts on (it may be hundreds of
        // MiB, an interpreted program's linear memory).
        // SAFETY: `new_size` with `layout`'s alignment is a valid layout per
        // GlobalAlloc::realloc's contract.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a nonzero size.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least `layout.size()` long; the
            // old one came from `alloc` with `layout` and is freed once copied.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
