//! Address-range reservations: the bookkeeping of the kernel's dynamic virtual-address area.
//!
//! A [`Region`] is a reserved range with unmapped guard bytes on both sides and an intended
//! protection per page (stored as runs). The kernel's `memory` module maps pages eagerly or
//! commits them lazily on a page fault: a not-present fault inside a lazy region whose page
//! has an intended protection allowing the access gets a fresh zeroed frame; a fault in a guard
//! is a stack overflow or a wild access. Guard bytes are never handed to another region.

use crate::paging::Prot;
use crate::PAGE_SIZE;
use alloc::collections::BTreeMap;

/// How a region's pages get their frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// The owner maps every page itself when reserving (task stacks).
    Eager,
    /// Pages are committed zeroed on the first access (wasm memories, heaps).
    Lazy,
}

/// One reserved range.
#[derive(Clone, Debug)]
pub struct Region {
    /// First byte of the usable range.
    pub base: u64,
    /// Usable length in bytes (a multiple of the page size).
    pub len: u64,
    /// Unmapped bytes kept free below `base` and above `base + len`.
    pub guard: u64,
    /// How pages are committed.
    pub commit: Commit,
    /// Owner's label, shown in diagnoses ("stack", "wasm memory", ...).
    pub label: &'static str,
    /// Intended protection: a run starting at each key (an offset) up to the next key.
    runs: BTreeMap<u64, Prot>,
}

impl Region {
    /// Intended protection of the page holding `addr`, if `addr` is inside the region.
    pub fn prot_at(&self, addr: u64) -> Option<Prot> {
        if !self.contains(addr) {
            return None;
        }
        let off = addr - self.base;
        self.runs.range(..=off).next_back().map(|(_, p)| *p)
    }
    /// True if `addr` is in the usable range.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr - self.base < self.len
    }
    /// True if `addr` is in the guard below or above the usable range.
    pub fn in_guard(&self, addr: u64) -> bool {
        (addr < self.base && self.base - addr <= self.guard)
            || (addr >= self.base + self.len && addr - (self.base + self.len) < self.guard)
    }
    fn span(&self) -> (u64, u64) {
        (self.base - self.guard, self.base + self.len + self.guard)
    }
}

/// Errors of the reservation operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReserveError {
    /// No free virtual range of that size.
    NoSpace,
    /// Length or address not page-aligned, or zero.
    Unaligned,
    /// The range is not inside one region.
    NotReserved,
    /// Writable and executable at once (W^X).
    WriteExecute,
}

/// All regions of a virtual-address area `[start, end)`.
pub struct Reservations {
    start: u64,
    end: u64,
    regions: BTreeMap<u64, Region>,
}

impl Reservations {
    /// An empty area.
    pub const fn new(start: u64, end: u64) -> Self {
        Self {
            start,
            end,
            regions: BTreeMap::new(),
        }
    }

    /// Reserves `len` bytes with `guard` bytes free on both sides (first fit), every page
    /// intended `prot`. Returns the base address.
    pub fn reserve(
        &mut self,
        len: u64,
        guard: u64,
        prot: Prot,
        commit: Commit,
        label: &'static str,
    ) -> Result<u64, ReserveError> {
        if len == 0 || !len.is_multiple_of(PAGE_SIZE) || !guard.is_multiple_of(PAGE_SIZE) {
            return Err(ReserveError::Unaligned);
        }
        if prot.write && prot.exec {
            return Err(ReserveError::WriteExecute);
        }
        let need = len + 2 * guard;
        let mut cursor = self.start;
        let mut found = None;
        for r in self.regions.values() {
            let (lo, hi) = r.span();
            if lo >= cursor && lo - cursor >= need {
                found = Some(cursor);
                break;
            }
            cursor = cursor.max(hi);
        }
        let at = match found {
            Some(a) => a,
            None if self.end >= cursor && self.end - cursor >= need => cursor,
            None => return Err(ReserveError::NoSpace),
        };
        let base = at + guard;
        let mut runs = BTreeMap::new();
        runs.insert(0, prot);
        self.regions.insert(
            base,
            Region {
                base,
                len,
                guard,
                commit,
                label,
                runs,
            },
        );
        Ok(base)
    }

    /// The region whose usable range or guard holds `addr`.
    pub fn find(&self, addr: u64) -> Option<&Region> {
        // The nearest region at or below addr + max guard; check it and its successor.
        let below = self.regions.range(..=addr).next_back().map(|(_, r)| r);
        let above = self
            .regions
            .range(addr.saturating_add(1)..)
            .next()
            .map(|(_, r)| r);
        [below, above]
            .into_iter()
            .flatten()
            .find(|r| r.contains(addr) || r.in_guard(addr))
    }

    /// The region starting at `base`.
    pub fn get(&self, base: u64) -> Option<&Region> {
        self.regions.get(&base)
    }

    /// Sets the intended protection of `[addr, addr + len)`, which must lie in one region.
    pub fn set_prot(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), ReserveError> {
        if !addr.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(ReserveError::Unaligned);
        }
        if prot.write && prot.exec {
            return Err(ReserveError::WriteExecute);
        }
        let base = match self.regions.range(..=addr).next_back() {
            Some((b, r)) if r.contains(addr) && r.contains(addr + len - 1) => *b,
            _ => return Err(ReserveError::NotReserved),
        };
        let r = self
            .regions
            .get_mut(&base)
            .ok_or(ReserveError::NotReserved)?;
        let (s, e) = (addr - base, addr - base + len);
        let after = r.runs.range(..=e).next_back().map(|(_, p)| *p);
        let inner: alloc::vec::Vec<u64> = r.runs.range(s..=e).map(|(k, _)| *k).collect();
        for k in inner {
            r.runs.remove(&k);
        }
        r.runs.insert(s, prot);
        if let Some(p) = after {
            if e < r.len {
                r.runs.insert(e, p);
            }
        }
        Ok(())
    }

    /// Removes the region starting at `base` and returns it (the caller unmaps its pages).
    pub fn release(&mut self, base: u64) -> Option<Region> {
        self.regions.remove(&base)
    }

    /// Number of regions.
    pub fn count(&self) -> usize {
        self.regions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: u64 = PAGE_SIZE;

    #[test]
    fn first_fit_with_guards() {
        let mut rs = Reservations::new(0x10_0000, 0x10_0000 + 20 * G);
        let a = rs.reserve(4 * G, G, Prot::RW, Commit::Eager, "a").unwrap();
        assert_eq!(a, 0x10_0000 + G);
        let b = rs.reserve(4 * G, G, Prot::RW, Commit::Lazy, "b").unwrap();
        assert_eq!(b, a + 4 * G + 2 * G);
        assert_eq!(
            rs.reserve(10 * G, G, Prot::RW, Commit::Lazy, "c"),
            Err(ReserveError::NoSpace)
        );
        rs.release(a).unwrap();
        let c = rs.reserve(2 * G, G, Prot::R, Commit::Lazy, "c").unwrap();
        assert_eq!(c, a);
        assert_eq!(rs.count(), 2);
        assert_eq!(
            rs.reserve(G, 0, Prot::new(true, true, true), Commit::Lazy, "x"),
            Err(ReserveError::WriteExecute)
        );
    }

    #[test]
    fn find_and_guards() {
        let mut rs = Reservations::new(0x1000_0000, 0x2000_0000);
        let a = rs
            .reserve(4 * G, G, Prot::RW, Commit::Eager, "stack")
            .unwrap();
        let r = rs.find(a + 5).unwrap();
        assert!(r.contains(a + 5));
        let g = rs.find(a - 8).unwrap();
        assert!(g.in_guard(a - 8) && !g.contains(a - 8));
        assert!(rs.find(a + 4 * G + 10).unwrap().in_guard(a + 4 * G + 10));
        assert!(rs.find(a + 6 * G).is_none());
        assert!(rs.find(0x10).is_none());
    }

    #[test]
    fn protection_runs() {
        let mut rs = Reservations::new(0x1000_0000, 0x2000_0000);
        let a = rs
            .reserve(8 * G, 0, Prot::NONE, Commit::Lazy, "mem")
            .unwrap();
        rs.set_prot(a, 3 * G, Prot::RW).unwrap();
        rs.set_prot(a + 5 * G, G, Prot::R).unwrap();
        let r = rs.get(a).unwrap();
        let p: Vec<Prot> = (0..8).map(|i| r.prot_at(a + i * G).unwrap()).collect();
        use Prot as P;
        assert_eq!(
            p,
            [
                P::RW,
                P::RW,
                P::RW,
                P::NONE,
                P::NONE,
                P::R,
                P::NONE,
                P::NONE
            ]
        );
        rs.set_prot(a + 2 * G, 4 * G, Prot::RX).unwrap();
        let r = rs.get(a).unwrap();
        let p: Vec<Prot> = (0..8).map(|i| r.prot_at(a + i * G).unwrap()).collect();
        assert_eq!(
            p,
            [P::RW, P::RW, P::RX, P::RX, P::RX, P::RX, P::NONE, P::NONE]
        );
        assert_eq!(r.prot_at(a + 8 * G), None);
        assert_eq!(
            rs.set_prot(a + 7 * G, 2 * G, Prot::R),
            Err(ReserveError::NotReserved)
        );
    }
}
