//! The kernel heap: `linked_list_allocator::Heap` behind an interrupt-disabling spin lock
//! (an interrupt handler could otherwise deadlock on a lock held by the task it interrupted),
//! placed at [`crate::paging::HEAP_START`] and grown on demand through a callback the kernel's
//! `memory` module installs (it maps fresh frames at the heap's end).

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use linked_list_allocator::Heap;
use x86_64::instructions::interrupts::without_interrupts;

/// Maps `[start, start + len)` for the heap; returns false when out of memory.
pub type GrowFn = fn(start: u64, len: u64) -> bool;

struct State {
    heap: Heap,
    grow: Option<GrowFn>,
}

/// The global allocator type.
pub struct KernelHeap {
    state: spin::Mutex<State>,
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap {
    state: spin::Mutex::new(State {
        heap: Heap::empty(),
        grow: None,
    }),
};

/// Smallest growth step.
pub const GROW_STEP: u64 = 1 << 20;

/// Starts the heap over `[HEAP_START, HEAP_START + initial_len)`, which `grow` has mapped.
pub fn init(initial_len: u64, grow: GrowFn) -> bool {
    if !grow(crate::paging::HEAP_START, initial_len) {
        return false;
    }
    without_interrupts(|| {
        let mut s = HEAP.state.lock();
        // SAFETY: the range was just mapped RW by `grow`, lies in the heap area reserved for
        // this allocator, and is handed over exactly once.
        unsafe {
            s.heap
                .init(crate::paging::HEAP_START as *mut u8, initial_len as usize)
        };
        s.grow = Some(grow);
    });
    true
}

/// (bytes in use, bytes managed).
pub fn stats() -> (usize, usize) {
    without_interrupts(|| {
        let s = HEAP.state.lock();
        (s.heap.used(), s.heap.size())
    })
}

// SAFETY: allocation and deallocation are serialised by the lock with interrupts disabled;
// `linked_list_allocator` returns blocks that fit `layout` inside memory it owns.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        without_interrupts(|| {
            let mut s = self.state.lock();
            loop {
                if let Ok(p) = s.heap.allocate_first_fit(layout) {
                    return p.as_ptr();
                }
                let Some(grow) = s.grow else {
                    return core::ptr::null_mut();
                };
                let need = (layout.size() + layout.align() + 64) as u64;
                let step = need.div_ceil(GROW_STEP) * GROW_STEP;
                let top = s.heap.top() as u64;
                if top + step > crate::paging::HEAP_START + crate::paging::HEAP_MAX
                    || !grow(top, step)
                {
                    return core::ptr::null_mut();
                }
                // SAFETY: `grow` mapped [top, top + step) RW right after the heap's end.
                unsafe { s.heap.extend(step as usize) };
            }
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        without_interrupts(|| {
            if let Some(p) = NonNull::new(ptr) {
                // SAFETY: per GlobalAlloc's contract `ptr` came from `alloc` with `layout`.
                unsafe { self.state.lock().heap.deallocate(p, layout) }
            }
        })
    }
}
