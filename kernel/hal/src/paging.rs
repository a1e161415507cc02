//! Page tables of the single address space, through `kernel_logic::paging`.
//!
//! Virtual layout (see kernel/NOTES.md for the full map):
//! - `0x0010_0000..` the kernel image, identity mapped with 4 KiB pages: text RX, rodata R,
//!   data+bss RW (W^X, NX enforced through IA32_EFER.NXE set at boot);
//! - [`DYNAMIC_START`]..[`DYNAMIC_END`]: reservations (task stacks, lazily committed ranges);
//! - [`PHYS_WINDOW`]: all physical memory, 2 MiB pages, RW + NX (page tables, modules, frames);
//! - [`HEAP_START`]..: the kernel heap, grown on demand.
//!
//! Safe entry points only touch the dynamic and heap areas, so the kernel cannot unmap its
//! own image or the window through them.

use core::sync::atomic::{AtomicBool, Ordering};
use kernel_logic::paging::{FrameSource, MapError, PageTable, PhysMem, Prot, Translation};
use x86_64::instructions::interrupts::without_interrupts;

/// Base of the physical-memory window.
pub const PHYS_WINDOW: u64 = 0xffff_8000_0000_0000;
/// Start of the reservation area (PML4 slot 32).
pub const DYNAMIC_START: u64 = 0x0000_1000_0000_0000;
/// End of the reservation area (the lower canonical half).
pub const DYNAMIC_END: u64 = 0x0000_7fff_0000_0000;
/// Start of the kernel heap.
pub const HEAP_START: u64 = 0xffff_c000_0000_0000;
/// Maximal size of the kernel heap.
pub const HEAP_MAX: u64 = 1 << 40;

static WINDOW_ACTIVE: AtomicBool = AtomicBool::new(false);
static TABLE: spin::Mutex<Option<PageTable>> = spin::Mutex::new(None);

/// Virtual address at which physical address `phys` can be accessed (identity before the
/// kernel's own tables are active, the window afterwards).
pub fn phys_to_virt(phys: u64) -> u64 {
    if WINDOW_ACTIVE.load(Ordering::Relaxed) {
        phys + PHYS_WINDOW
    } else {
        phys
    }
}

/// Page-table frames accessed through [`phys_to_virt`].
struct Phys;

impl PhysMem for Phys {
    fn read(&self, table: u64, index: usize) -> u64 {
        let p = (phys_to_virt(table) as *const u64).wrapping_add(index);
        // SAFETY: `table` is a page-table frame of this hierarchy (allocated from the frame
        // allocator and only reachable through `TABLE`), mapped by the window/identity map.
        unsafe { p.read_volatile() }
    }
    fn write(&mut self, table: u64, index: usize, value: u64) {
        let p = (phys_to_virt(table) as *mut u64).wrapping_add(index);
        // SAFETY: as in `read`; page-table frames are never Rust objects, so no reference
        // aliases them, and `TABLE`'s lock serialises writers.
        unsafe { p.write_volatile(value) }
    }
    fn zero_frame(&mut self, frame: u64) {
        zero_frame(frame);
    }
}

/// Zeroes a frame just obtained from the frame allocator.
fn zero_frame(frame: u64) {
    let p = phys_to_virt(frame) as *mut u8;
    // SAFETY: the frame was just allocated (owned by the caller, not referenced by Rust
    // objects) and is mapped through the window or the boot identity map.
    unsafe { core::ptr::write_bytes(p, 0, 4096) }
}

fn round_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// Builds the kernel's page tables and switches to them. `max_phys` is the end of RAM.
/// Must run while the boot identity map (first 4 GiB) is active, with frames below 4 GiB.
pub fn init(frames: &mut impl FrameSource, max_phys: u64) -> Result<(), MapError> {
    let mut mem = Phys;
    let pt = PageTable::new(&mut mem, frames)?;
    let two_mib = 2 << 20;
    let mut p = 0;
    while p < round_up(max_phys.max(1 << 32), two_mib) {
        pt.map_2m(&mut mem, frames, PHYS_WINDOW + p, p, Prot::RW)?;
        p += two_mib;
    }
    let [text, rodata, data] = crate::boot::kernel_sections();
    for ((start, end), prot) in [(text, Prot::RX), (rodata, Prot::R), (data, Prot::RW)] {
        let mut a = start & !0xfff;
        while a < end {
            pt.map(&mut mem, frames, a, a, prot)?;
            a += 4096;
        }
    }
    // SAFETY: the new hierarchy maps the whole kernel image (code, data, the current boot
    // stack in .bss, IST stacks) at the same addresses as the boot tables, so execution
    // continues; loader memory is reached through the window from now on.
    unsafe {
        x86_64::registers::control::Cr3::write(
            x86_64::structures::paging::PhysFrame::containing_address(x86_64::PhysAddr::new(
                pt.root,
            )),
            x86_64::registers::control::Cr3Flags::empty(),
        );
    }
    WINDOW_ACTIVE.store(true, Ordering::Relaxed);
    *TABLE.lock() = Some(pt);
    Ok(())
}

fn in_managed_area(virt: u64) -> bool {
    (DYNAMIC_START..DYNAMIC_END).contains(&virt)
        || (HEAP_START..HEAP_START + HEAP_MAX).contains(&virt)
}

fn with_table<R>(f: impl FnOnce(&PageTable) -> Result<R, MapError>) -> Result<R, MapError> {
    without_interrupts(|| match TABLE.lock().as_ref() {
        Some(pt) => f(pt),
        None => Err(MapError::NotMapped),
    })
}

/// Maps a fresh zeroed frame from `frames` at `virt` (dynamic or heap area only).
pub fn map_zeroed(frames: &mut impl FrameSource, virt: u64, prot: Prot) -> Result<(), MapError> {
    if !in_managed_area(virt) {
        return Err(MapError::NotMapped);
    }
    let frame = frames.alloc_frame().ok_or(MapError::OutOfFrames)?;
    zero_frame(frame);
    let r = with_table(|pt| pt.map(&mut Phys, frames, virt, frame, prot));
    if r.is_err() {
        frames.free_frame(frame);
    }
    r
}

/// Unmaps the page at `virt` (dynamic or heap area), flushes it from the TLB and returns its
/// frame, which the caller frees. The caller guarantees no live Rust object is in the page.
pub fn unmap(virt: u64) -> Result<u64, MapError> {
    if !in_managed_area(virt) {
        return Err(MapError::NotMapped);
    }
    let r = with_table(|pt| pt.unmap(&mut Phys, virt));
    crate::cpu::flush_page(virt);
    r
}

/// Changes the protection of the mapped page at `virt` (dynamic area only).
pub fn protect(virt: u64, prot: Prot) -> Result<(), MapError> {
    if !(DYNAMIC_START..DYNAMIC_END).contains(&virt) {
        return Err(MapError::NotMapped);
    }
    let r = with_table(|pt| pt.protect(&mut Phys, virt, prot));
    crate::cpu::flush_page(virt);
    r
}

/// Translates any virtual address.
pub fn translate(virt: u64) -> Option<Translation> {
    with_table(|pt| pt.translate(&Phys, virt).ok_or(MapError::NotMapped)).ok()
}

/// Reads a byte at a virtual address if it is mapped (for tests and diagnoses).
pub fn peek(virt: u64) -> Option<u8> {
    let t = translate(virt)?;
    if t.prot.is_none() {
        return None;
    }
    // SAFETY: the page is mapped and readable (checked just above); a byte read through the
    // physical window does not create a reference to any Rust object.
    Some(unsafe { (phys_to_virt(t.phys) as *const u8).read_volatile() })
}

/// The first mapped page in `[from, end)`, skipping absent page tables.
pub fn next_mapped(from: u64, end: u64) -> Option<u64> {
    with_table(|pt| pt.next_mapped(&Phys, from, end).ok_or(MapError::NotMapped)).ok()
}

fn check_dynamic(addr: u64) {
    assert!(
        (DYNAMIC_START..DYNAMIC_END - 8).contains(&addr) && addr.is_multiple_of(8),
        "access outside the reservation area"
    );
}

/// Writes a `u64` into the reservation area, which holds no Rust objects other than task
/// stacks (never handed out as slices). The access may fault: a lazily committed page is
/// committed by the kernel's page-fault handler, any other fault is delivered to the task.
/// Panics for addresses outside the reservation area or unaligned.
pub fn poke_u64(addr: u64, value: u64) {
    check_dynamic(addr);
    // SAFETY: aligned, inside the reservation area (checked), which Rust code only reaches
    // through these volatile accessors; a fault is handled by the exception path.
    unsafe { (addr as *mut u64).write_volatile(value) }
}

/// Reads a `u64` from the reservation area (same rules as [`poke_u64`]).
pub fn peek_u64(addr: u64) -> u64 {
    check_dynamic(addr);
    // SAFETY: as in `poke_u64`.
    unsafe { (addr as *const u64).read_volatile() }
}
