//! GDT and TSS (SDM Vol. 3A §3.5, §8.7): a 64-bit code and data segment and a TSS whose
//! Interrupt Stack Table gives every vector a known-good stack. All vectors use an IST
//! stack because the precompiled `core` uses the red zone below RSP, which an interrupt
//! taken on the current stack would clobber (GUIDE §4). Exceptions that may nest inside an
//! IRQ handler get stacks separate from the IRQ stack.

use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST index (1-based as in the IDT gate) for #DF.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST index for #PF.
pub const IST_PAGE_FAULT: u8 = 2;
/// IST index for the other exceptions.
pub const IST_EXCEPTION: u8 = 3;
/// IST index for NMI and #MC.
pub const IST_NMI: u8 = 4;
/// IST index for IRQs and the software yield vector.
pub const IST_IRQ: u8 = 5;

const IST_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct IstStacks([[u8; IST_STACK_SIZE]; 5]);

/// The IST stacks; only the CPU writes them (on interrupt entry), never Rust references.
static mut IST_STACKS: IstStacks = IstStacks([[0; IST_STACK_SIZE]; 5]);

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<(GlobalDescriptorTable, [SegmentSelector; 3])> = Once::new();

/// Selector of the kernel code segment.
pub const KERNEL_CODE: u16 = 0x08;
/// Selector of the kernel data segment.
pub const KERNEL_DATA: u16 = 0x10;

/// Loads the GDT and TSS and reloads the segment registers. Call once, at boot.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        let base = core::ptr::addr_of_mut!(IST_STACKS) as u64;
        for i in 0..5 {
            // The top of stack i; the CPU aligns RSP to 16 bytes on IST entry.
            tss.interrupt_stack_table[i] = VirtAddr::new(base + ((i + 1) * IST_STACK_SIZE) as u64);
        }
        tss
    });
    let (gdt, sel) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(tss));
        (gdt, [code, data, tss_sel])
    });
    gdt.load();
    debug_assert_eq!(sel[0].0, KERNEL_CODE);
    // SAFETY: the selectors come from the GDT just loaded (code, data, TSS descriptors),
    // which lives in a `static` for the kernel's lifetime.
    unsafe {
        CS::set_reg(sel[0]);
        DS::set_reg(sel[1]);
        ES::set_reg(sel[1]);
        SS::set_reg(sel[1]);
        load_tss(sel[2]);
    }
}

/// The address range of all IST stacks (for diagnoses: "fault on an interrupt stack").
pub fn ist_range() -> (u64, u64) {
    let base = core::ptr::addr_of!(IST_STACKS) as u64;
    (base, base + (5 * IST_STACK_SIZE) as u64)
}
