//! A bitmap allocator of 4 KiB physical frames.
//!
//! One bit per frame from physical address 0 up to the highest usable address in the
//! multiboot memory map (multiboot spec 0.6.96 §3.3, `mmap_*` fields); a set bit means "in use
//! or not RAM". The kernel starts with every frame used, frees the usable regions, then marks
//! its own image, the boot modules and the bitmap itself used again.
//!
//! Allocation is lowest-address first: a freed frame is the next one handed out again
//! rather than fresh RAM further up. Under QEMU (and any VM) guest RAM the guest never
//! touched costs the host a page fault and a zeroed page on first touch: a program that
//! commits 8 MiB, exits and runs again reuses the same warm frames instead of faulting in
//! another 8 MiB of the host each run. On hardware the reused frames are likelier cached.

use crate::PAGE_SIZE;

/// Bitmap frame allocator over caller-provided storage (one `u64` per 64 frames).
pub struct FrameAllocator<'a> {
    bits: &'a mut [u64],
    frames: u64,
    free: u64,
    hint: usize,
}

/// Errors of [`FrameAllocator::free`].
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not 4 KiB aligned or is beyond the managed range.
    OutOfRange,
    /// The frame was already free (a double free).
    NotAllocated,
}

impl<'a> FrameAllocator<'a> {
    /// Number of `u64` words of storage needed to manage `limit` bytes of physical space.
    pub fn words_for(limit: u64) -> usize {
        (limit.div_ceil(PAGE_SIZE)).div_ceil(64) as usize
    }

    /// Creates an allocator over `bits`, managing `limit` bytes of physical address space, with
    /// every frame initially in use.
    pub fn new(bits: &'a mut [u64], limit: u64) -> Self {
        let frames = limit / PAGE_SIZE;
        assert!(bits.len() as u64 * 64 >= frames, "bitmap storage too small");
        bits.fill(u64::MAX);
        Self {
            bits,
            frames,
            free: 0,
            hint: 0,
        }
    }

    /// Marks the whole frames inside `[start, end)` free (a usable memory-map region).
    pub fn add_free(&mut self, start: u64, end: u64) {
        let first = start.div_ceil(PAGE_SIZE);
        let last = (end / PAGE_SIZE).min(self.frames);
        for f in first..last {
            if self.test(f) {
                self.clear(f);
                self.free += 1;
            }
        }
    }

    /// Marks every frame touching `[start, end)` used (kernel image, modules, bitmap).
    pub fn reserve(&mut self, start: u64, end: u64) {
        let first = start / PAGE_SIZE;
        let last = end.div_ceil(PAGE_SIZE).min(self.frames);
        for f in first..last {
            if !self.test(f) {
                self.set(f);
                self.free -= 1;
            }
        }
    }

    /// Allocates the lowest free frame and returns its physical address.
    pub fn alloc(&mut self) -> Option<u64> {
        let words = self.bits.len();
        for i in 0..words {
            let w = (self.hint + i) % words;
            if self.bits[w] != u64::MAX {
                let bit = (!self.bits[w]).trailing_zeros() as u64;
                let f = w as u64 * 64 + bit;
                if f >= self.frames {
                    continue;
                }
                self.set(f);
                self.free -= 1;
                self.hint = w;
                return Some(f * PAGE_SIZE);
            }
        }
        None
    }

    /// Returns a frame obtained from [`alloc`](Self::alloc).
    pub fn free(&mut self, addr: u64) -> Result<(), FrameError> {
        if !addr.is_multiple_of(PAGE_SIZE) || addr / PAGE_SIZE >= self.frames {
            return Err(FrameError::OutOfRange);
        }
        let f = addr / PAGE_SIZE;
        if !self.test(f) {
            return Err(FrameError::NotAllocated);
        }
        self.clear(f);
        self.free += 1;
        // Keeps "every word below `hint` is full", so `alloc` finds the lowest free frame.
        self.hint = self.hint.min((f / 64) as usize);
        Ok(())
    }

    /// Frames currently free.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames managed in total (including holes in the memory map).
    pub fn total_frames(&self) -> u64 {
        self.frames
    }

    fn test(&self, f: u64) -> bool {
        self.bits[(f / 64) as usize] & (1 << (f % 64)) != 0
    }
    fn set(&mut self, f: u64) {
        self.bits[(f / 64) as usize] |= 1 << (f % 64);
    }
    fn clear(&mut self, f: u64) {
        self.bits[(f / 64) as usize] &= !(1 << (f % 64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_only_usable_frames() {
        let mut store = vec![0u64; FrameAllocator::words_for(1 << 20)];
        let mut fa = FrameAllocator::new(&mut store, 1 << 20);
        assert_eq!(fa.alloc(), None);
        fa.add_free(0x1800, 0x5000); // partial first frame is skipped
        fa.reserve(0x3000, 0x3001);
        assert_eq!(fa.free_frames(), 2);
        let a = fa.alloc().unwrap();
        let b = fa.alloc().unwrap();
        assert_eq!((a, b), (0x2000, 0x4000));
        assert_eq!(fa.alloc(), None);
        fa.free(a).unwrap();
        assert_eq!(fa.free(a), Err(FrameError::NotAllocated));
        assert_eq!(fa.free(0x123), Err(FrameError::OutOfRange));
        assert_eq!(fa.alloc(), Some(0x2000));
    }

    #[test]
    fn freed_frames_are_reused_lowest_first() {
        let mut store = vec![0u64; FrameAllocator::words_for(1 << 24)];
        let mut fa = FrameAllocator::new(&mut store, 1 << 24);
        fa.add_free(0, 1 << 24);
        let frames: Vec<u64> = (0..300).map(|_| fa.alloc().unwrap()).collect();
        assert_eq!(frames[299], 299 * PAGE_SIZE, "lowest first from the start");
        // Freed out of order and across bitmap words: handed out again lowest first,
        // before any frame never allocated.
        for &i in &[250usize, 3, 70, 199] {
            fa.free(frames[i]).unwrap();
        }
        let again: Vec<u64> = (0..5).map(|_| fa.alloc().unwrap()).collect();
        assert_eq!(
            again,
            [3, 70, 199, 250, 300].map(|i| i * PAGE_SIZE).to_vec()
        );
    }

    #[test]
    fn all_frames_distinct_until_exhausted() {
        let limit = 300 * PAGE_SIZE;
        let mut store = vec![0u64; FrameAllocator::words_for(limit)];
        let mut fa = FrameAllocator::new(&mut store, limit);
        fa.add_free(0, limit);
        let mut seen = std::collections::HashSet::new();
        while let Some(f) = fa.alloc() {
            assert!(seen.insert(f));
        }
        assert_eq!(seen.len(), 300);
        assert_eq!(fa.free_frames(), 0);
    }
}
