//! x86_64 4-level paging (Intel SDM Vol. 3A §4.5, "4-Level Paging and 5-Level Paging"):
//! walking, mapping, unmapping and re-protecting 4 KiB pages, plus 2 MiB mappings for the
//! physical-memory window.
//!
//! Physical memory is reached through the [`PhysMem`] trait: the kernel implements it over its
//! physical-memory window (`kernel/hal`), host tests over a `Vec` of tables. New page-table
//! frames come from a [`FrameSource`]. Intermediate entries are always present + writable
//! without NX, so the leaf entry alone decides the access rights (SDM §4.6.1: rights combine as
//! the most restrictive along the walk).

use crate::PAGE_SIZE;

/// Entry bit: present (SDM Table 4-19, bit 0).
pub const PRESENT: u64 = 1 << 0;
/// Entry bit: writable (bit 1).
pub const WRITABLE: u64 = 1 << 1;
/// Entry bit: page size, a 2 MiB page in a page-directory entry (bit 7).
pub const HUGE: u64 = 1 << 7;
/// Software bit (bit 9, ignored by the CPU): a committed page currently protected to "none";
/// the frame stays attached but the entry is not present.
pub const SOFT_NONE: u64 = 1 << 9;
/// Entry bit: execute-disable (bit 63, requires IA32_EFER.NXE).
pub const NO_EXECUTE: u64 = 1 << 63;
/// Physical-address bits of an entry (bits 12..51).
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Access rights of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    /// Readable (every present page is readable on x86_64).
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Prot {
    /// No access.
    pub const NONE: Prot = Prot::new(false, false, false);
    /// Read-only data.
    pub const R: Prot = Prot::new(true, false, false);
    /// Read-write data.
    pub const RW: Prot = Prot::new(true, true, false);
    /// Code.
    pub const RX: Prot = Prot::new(true, false, true);

    /// Builds a protection from its three rights.
    pub const fn new(read: bool, write: bool, exec: bool) -> Self {
        Self { read, write, exec }
    }
    /// True for "no access".
    pub fn is_none(self) -> bool {
        !self.read && !self.write && !self.exec
    }
    /// Leaf-entry bits for this protection (`SOFT_NONE` for no access).
    pub fn entry_bits(self) -> u64 {
        if self.is_none() {
            return SOFT_NONE | NO_EXECUTE;
        }
        let mut bits = PRESENT;
        if self.write {
            bits |= WRITABLE;
        }
        if !self.exec {
            bits |= NO_EXECUTE;
        }
        bits
    }
    /// Protection described by a leaf entry.
    pub fn from_entry(entry: u64) -> Self {
        if entry & PRESENT == 0 {
            return Prot::NONE;
        }
        Prot::new(true, entry & WRITABLE != 0, entry & NO_EXECUTE == 0)
    }
}

/// Access to page-table frames by physical address.
pub trait PhysMem {
    /// Reads entry `index` of the table in frame `table`.
    fn read(&self, table: u64, index: usize) -> u64;
    /// Writes entry `index` of the table in frame `table`.
    fn write(&mut self, table: u64, index: usize, value: u64);
    /// Fills a frame with zeroes.
    fn zero_frame(&mut self, frame: u64);
}

/// A supply of physical frames.
pub trait FrameSource {
    /// A fresh frame (not necessarily zeroed).
    fn alloc_frame(&mut self) -> Option<u64>;
    /// Gives a frame back.
    fn free_frame(&mut self, frame: u64);
}

/// Errors of the mapping operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The page is already mapped.
    AlreadyMapped,
    /// The page is not mapped.
    NotMapped,
    /// No frame left for a page table.
    OutOfFrames,
    /// The address lies inside a 2 MiB mapping.
    HugePage,
    /// Writable and executable at once is refused (W^X).
    WriteExecute,
    /// The address is not aligned to the page size.
    Unaligned,
}

/// Result of a translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Physical address corresponding to the virtual address.
    pub phys: u64,
    /// Protection of the page (`NONE` for a committed page protected to none).
    pub prot: Prot,
    /// Page size in bytes (4 KiB or 2 MiB).
    pub page_size: u64,
}

/// The four table indices of a virtual address, PML4 first (SDM Figure 4-8).
pub fn indices(virt: u64) -> [usize; 4] {
    [
        ((virt >> 39) & 511) as usize,
        ((virt >> 30) & 511) as usize,
        ((virt >> 21) & 511) as usize,
        ((virt >> 12) & 511) as usize,
    ]
}

/// A page-table hierarchy identified by the physical address of its PML4.
#[derive(Clone, Copy, Debug)]
pub struct PageTable {
    /// Physical address of the PML4 frame (the CR3 value).
    pub root: u64,
}

impl PageTable {
    /// Allocates an empty hierarchy.
    pub fn new(mem: &mut impl PhysMem, frames: &mut impl FrameSource) -> Result<Self, MapError> {
        let root = frames.alloc_frame().ok_or(MapError::OutOfFrames)?;
        mem.zero_frame(root);
        Ok(Self { root })
    }

    /// Walks to the table at `depth` (1 = PDPT, 2 = PD, 3 = PT) for `virt`, creating missing
    /// intermediate tables.
    fn table_for(
        &self,
        mem: &mut impl PhysMem,
        frames: &mut impl FrameSource,
        virt: u64,
        depth: usize,
    ) -> Result<u64, MapError> {
        let idx = indices(virt);
        let mut table = self.root;
        for &i in idx.iter().take(depth) {
            let entry = mem.read(table, i);
            table = if entry & PRESENT == 0 {
                let frame = frames.alloc_frame().ok_or(MapError::OutOfFrames)?;
                mem.zero_frame(frame);
                mem.write(table, i, frame | PRESENT | WRITABLE);
                frame
            } else if entry & HUGE != 0 {
                return Err(MapError::HugePage);
            } else {
                entry & ADDR_MASK
            };
        }
        Ok(table)
    }

    /// Finds the leaf entry for `virt` without creating tables: (table, index, entry, size).
    fn leaf(&self, mem: &impl PhysMem, virt: u64) -> Option<(u64, usize, u64, u64)> {
        let idx = indices(virt);
        let mut table = self.root;
        for (depth, &i) in idx.iter().enumerate() {
            let entry = mem.read(table, i);
            if depth == 3 || (depth == 2 && entry & HUGE != 0) {
                let size = if depth == 3 { PAGE_SIZE } else { 2 << 20 };
                return Some((table, i, entry, size));
            }
            if entry & PRESENT == 0 {
                return None;
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// Maps the 4 KiB page at `virt` to the frame `phys` with `prot`.
    pub fn map(
        &self,
        mem: &mut impl PhysMem,
        frames: &mut impl FrameSource,
        virt: u64,
        phys: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || !phys.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Unaligned);
        }
        if prot.write && prot.exec {
            return Err(MapError::WriteExecute);
        }
        let pt = self.table_for(mem, frames, virt, 3)?;
        let i = indices(virt)[3];
        if mem.read(pt, i) & (PRESENT | SOFT_NONE) != 0 {
            return Err(MapError::AlreadyMapped);
        }
        mem.write(pt, i, phys | prot.entry_bits());
        Ok(())
    }

    /// Maps the 2 MiB page at `virt` to `phys` (both 2 MiB aligned).
    pub fn map_2m(
        &self,
        mem: &mut impl PhysMem,
        frames: &mut impl FrameSource,
        virt: u64,
        phys: u64,
        prot: Prot,
    ) -> Result<(), MapError> {
        if !virt.is_multiple_of(2 << 20) || !phys.is_multiple_of(2 << 20) {
            return Err(MapError::Unaligned);
        }
        if prot.write && prot.exec {
            return Err(MapError::WriteExecute);
        }
        let pd = self.table_for(mem, frames, virt, 2)?;
        let i = indices(virt)[2];
        if mem.read(pd, i) & PRESENT != 0 {
            return Err(MapError::AlreadyMapped);
        }
        mem.write(pd, i, phys | prot.entry_bits() | HUGE);
        Ok(())
    }

    /// Unmaps the 4 KiB page at `virt` and returns the frame it mapped. The caller flushes the
    /// TLB entry (`invlpg`).
    pub fn unmap(&self, mem: &mut impl PhysMem, virt: u64) -> Result<u64, MapError> {
        let (table, i, entry, size) = self.leaf(mem, virt).ok_or(MapError::NotMapped)?;
        if size != PAGE_SIZE {
            return Err(MapError::HugePage);
        }
        if entry & (PRESENT | SOFT_NONE) == 0 {
            return Err(MapError::NotMapped);
        }
        mem.write(table, i, 0);
        Ok(entry & ADDR_MASK)
    }

    /// Changes the protection of the mapped 4 KiB page at `virt`. `Prot::NONE` keeps the frame
    /// attached but makes the entry not present.
    pub fn protect(&self, mem: &mut impl PhysMem, virt: u64, prot: Prot) -> Result<(), MapError> {
        if prot.write && prot.exec {
            return Err(MapError::WriteExecute);
        }
        let (table, i, entry, size) = self.leaf(mem, virt).ok_or(MapError::NotMapped)?;
        if size != PAGE_SIZE {
            return Err(MapError::HugePage);
        }
        if entry & (PRESENT | SOFT_NONE) == 0 {
            return Err(MapError::NotMapped);
        }
        mem.write(table, i, (entry & ADDR_MASK) | prot.entry_bits());
        Ok(())
    }

    /// The first 4 KiB page in `[from, end)` whose leaf entry is mapped (present or
    /// protected to none), skipping absent tables wholesale, so scanning a sparse 4 GiB
    /// reservation costs a few table reads rather than a million.
    pub fn next_mapped(&self, mem: &impl PhysMem, from: u64, end: u64) -> Option<u64> {
        const SPAN: [u64; 4] = [1 << 39, 1 << 30, 1 << 21, 1 << 12];
        let mut va = from & !(PAGE_SIZE - 1);
        'outer: while va < end {
            let idx = indices(va);
            let mut table = self.root;
            for depth in 0..4 {
                let entry = mem.read(table, idx[depth]);
                let live = if depth == 3 {
                    entry & (PRESENT | SOFT_NONE) != 0
                } else {
                    entry & PRESENT != 0
                };
                if !live || (depth < 3 && entry & HUGE != 0) {
                    // Skip to the next entry at this level.
                    let span = SPAN[depth];
                    va = (va & !(span - 1)).checked_add(span)?;
                    continue 'outer;
                }
                if depth == 3 {
                    return Some(va);
                }
                table = entry & ADDR_MASK;
            }
        }
        None
    }

    /// Translates `virt`, if mapped.
    pub fn translate(&self, mem: &impl PhysMem, virt: u64) -> Option<Translation> {
        let (_, _, entry, size) = self.leaf(mem, virt)?;
        if entry & (PRESENT | SOFT_NONE) == 0 {
            return None;
        }
        let base = entry & ADDR_MASK & !(size - 1);
        Some(Translation {
            phys: base + (virt & (size - 1)),
            prot: Prot::from_entry(entry),
            page_size: size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Host "physical memory": frames allocated on demand, as 512-entry tables.
    #[derive(Default)]
    struct HostMem {
        frames: HashMap<u64, Box<[u64; 512]>>,
        freed: Vec<u64>,
    }
    impl PhysMem for HostMem {
        fn read(&self, table: u64, index: usize) -> u64 {
            self.frames[&table][index]
        }
        fn write(&mut self, table: u64, index: usize, value: u64) {
            self.frames.get_mut(&table).unwrap()[index] = value;
        }
        fn zero_frame(&mut self, frame: u64) {
            self.frames.insert(frame, Box::new([0; 512]));
        }
    }
    struct Frames(u64, Option<u64>);
    impl FrameSource for Frames {
        fn alloc_frame(&mut self) -> Option<u64> {
            if self.1 == Some(0) {
                return None;
            }
            self.1 = self.1.map(|n| n - 1);
            self.0 += PAGE_SIZE;
            Some(self.0)
        }
        fn free_frame(&mut self, _frame: u64) {}
    }

    #[test]
    fn map_translate_unmap() {
        let mut mem = HostMem::default();
        let mut fr = Frames(0x10_0000, None);
        let pt = PageTable::new(&mut mem, &mut fr).unwrap();
        let va = 0x0000_1000_0000_3000;
        assert_eq!(pt.translate(&mem, va), None);
        pt.map(&mut mem, &mut fr, va, 0x5000, Prot::RW).unwrap();
        let t = pt.translate(&mem, va + 0x123).unwrap();
        assert_eq!(t.phys, 0x5123);
        assert_eq!(t.prot, Prot::RW);
        assert_eq!(
            pt.map(&mut mem, &mut fr, va, 0x6000, Prot::R),
            Err(MapError::AlreadyMapped)
        );
        // 1 PML4 + PDPT + PD + PT
        assert_eq!(mem.frames.len(), 4);
        // Neighbouring page shares the tables.
        pt.map(&mut mem, &mut fr, va + PAGE_SIZE, 0x6000, Prot::RX)
            .unwrap();
        assert_eq!(mem.frames.len(), 4);
        let raw = mem.read(
            pt.leaf(&mem, va + PAGE_SIZE).unwrap().0,
            indices(va + PAGE_SIZE)[3],
        );
        assert_eq!(raw & NO_EXECUTE, 0);
        assert_eq!(raw & WRITABLE, 0);
        assert_eq!(pt.unmap(&mut mem, va), Ok(0x5000));
        assert_eq!(pt.translate(&mem, va), None);
        assert_eq!(pt.unmap(&mut mem, va), Err(MapError::NotMapped));
        assert!(mem.freed.is_empty());
    }

    #[test]
    fn protect_and_wx() {
        let mut mem = HostMem::default();
        let mut fr = Frames(0x10_0000, None);
        let pt = PageTable::new(&mut mem, &mut fr).unwrap();
        let va = 0xffff_9000_0000_0000;
        assert_eq!(
            pt.map(&mut mem, &mut fr, va, 0x7000, Prot::new(true, true, true)),
            Err(MapError::WriteExecute)
        );
        pt.map(&mut mem, &mut fr, va, 0x7000, Prot::RW).unwrap();
        pt.protect(&mut mem, va, Prot::NONE).unwrap();
        let t = pt.translate(&mem, va).unwrap();
        assert_eq!((t.phys, t.prot), (0x7000, Prot::NONE));
        pt.protect(&mut mem, va, Prot::RX).unwrap();
        assert_eq!(pt.translate(&mem, va).unwrap().prot, Prot::RX);
        assert_eq!(
            pt.protect(&mut mem, va, Prot::new(true, true, true)),
            Err(MapError::WriteExecute)
        );
        assert_eq!(
            pt.protect(&mut mem, va + PAGE_SIZE, Prot::R),
            Err(MapError::NotMapped)
        );
        assert_eq!(pt.unmap(&mut mem, va), Ok(0x7000));
    }

    #[test]
    fn next_mapped_skips_holes() {
        let mut mem = HostMem::default();
        let mut fr = Frames(0x10_0000, None);
        let pt = PageTable::new(&mut mem, &mut fr).unwrap();
        let base = 0x0000_1000_0000_0000u64;
        let end = base + (4u64 << 30);
        assert_eq!(pt.next_mapped(&mem, base, end), None);
        pt.map(&mut mem, &mut fr, base + 0x5000, 0x1000, Prot::RW)
            .unwrap();
        pt.map(
            &mut mem,
            &mut fr,
            base + (3 << 30) + 0x2000,
            0x2000,
            Prot::R,
        )
        .unwrap();
        pt.protect(&mut mem, base + 0x5000, Prot::NONE).unwrap();
        assert_eq!(pt.next_mapped(&mem, base, end), Some(base + 0x5000));
        assert_eq!(
            pt.next_mapped(&mem, base + 0x6000, end),
            Some(base + (3 << 30) + 0x2000)
        );
        assert_eq!(pt.next_mapped(&mem, base + (3 << 30) + 0x3000, end), None);
    }

    #[test]
    fn huge_pages_and_errors() {
        let mut mem = HostMem::default();
        let mut fr = Frames(0x10_0000, None);
        let pt = PageTable::new(&mut mem, &mut fr).unwrap();
        pt.map_2m(&mut mem, &mut fr, 0x4000_0000, 0x20_0000, Prot::RW)
            .unwrap();
        let t = pt.translate(&mem, 0x4000_1234).unwrap();
        assert_eq!((t.phys, t.page_size), (0x20_1234, 2 << 20));
        assert_eq!(
            pt.map(&mut mem, &mut fr, 0x4000_1000, 0x1000, Prot::R),
            Err(MapError::HugePage)
        );
        assert_eq!(pt.unmap(&mut mem, 0x4000_1000), Err(MapError::HugePage));
        assert_eq!(
            pt.map(&mut mem, &mut fr, 0x123, 0x1000, Prot::R),
            Err(MapError::Unaligned)
        );
        let mut empty = Frames(0x90_0000, Some(0));
        assert_eq!(
            pt.map(&mut mem, &mut empty, 0x7000_0000_0000, 0x1000, Prot::R),
            Err(MapError::OutOfFrames)
        );
    }
}
