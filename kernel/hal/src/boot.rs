//! Boot: the multiboot1 header, the 32-bit entry that enters long mode, and the parsing of
//! the multiboot information into a plain [`BootInfo`] handed to the kernel's `kernel_main`.
//!
//! Multiboot spec 0.6.96 §3.1: the header uses the "a.out kludge" (flag bit 16) because QEMU
//! refuses ELF64 images otherwise; the loader copies `[load_addr, load_end_addr)` from the file
//! and zeroes up to `bss_end_addr`. The entry runs in 32-bit protected mode with paging off,
//! EAX = 0x2BADB002 and EBX = the physical address of the information structure (§3.2).
//! It identity-maps the first 4 GiB with 2 MiB pages, enables PAE, SSE (CR4.OSFXSR,
//! OSXMMEXCPT), long mode and NX (IA32_EFER.LME, NXE), paging and write protection
//! (CR0.PG, WP, MP, clearing EM) — SDM Vol. 3A §9.8.5 "Initializing IA-32e Mode" — and
//! far-jumps to 64-bit code. The kernel replaces these page tables in its `memory` module.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long 0x1BADB002
    .long 0x00010003
    .long -(0x1BADB002 + 0x00010003)
    .long multiboot_header
    .long __kernel_start
    .long __load_end
    .long __bss_end
    .long boot_entry32

    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096 * 4
    .balign 16
boot_stack_bottom: .skip 65536
boot_stack_top:

    .section .rodata.boot, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .text.boot, "ax"
    .code32
    .global boot_entry32
boot_entry32:
    cli
    mov $boot_stack_top, %esp
    mov %eax, %edi
    mov %ebx, %esi

    mov $boot_pdpt, %eax
    or $3, %eax
    mov %eax, boot_pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jne 1b

    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $0xC0000080, %ecx
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | (1 << 1)), %eax
    and $~(1 << 2), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_entry64

    .code64
boot_entry64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    mov %edi, %edi
    mov %esi, %esi
    xor %ebp, %ebp
    push $0
    jmp {entry}
    "#,
    entry = sym hal_entry64,
    options(att_syntax)
);

/// Magic value a multiboot1 loader leaves in EAX (spec §3.2).
pub const MULTIBOOT_LOADER_MAGIC: u32 = 0x2BAD_B002;

/// A usable RAM range from the memory map (type 1 entries).
#[derive(Clone, Copy, Default, Debug)]
pub struct MemoryRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// A boot module (multiboot spec §3.3 `mods_*`).
#[derive(Clone, Copy)]
pub struct Module {
    /// Physical start.
    pub start: u64,
    /// Physical end (exclusive).
    pub end: u64,
    name: [u8; 128],
    name_len: usize,
}

impl Module {
    /// The module's string (command line), lossily truncated to 128 bytes.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("")
    }

    /// The module's bytes. Sound because the kernel reserves module frames in its frame
    /// allocator before any allocation and never frees them, and nothing writes them.
    pub fn bytes(&self) -> &'static [u8] {
        let len = (self.end - self.start) as usize;
        let ptr = crate::paging::phys_to_virt(self.start) as *const u8;
        // SAFETY: [start, end) is RAM the loader filled; it is mapped through the
        // physical-memory window (or the boot identity map) for the kernel's lifetime, and
        // per the contract above it is never written or freed, so no `&mut` aliases it.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }
}

/// Everything the kernel needs from the boot loader, copied out of loader memory.
pub struct BootInfo {
    /// Usable RAM regions.
    pub regions: [MemoryRegion; 64],
    /// Number of valid entries in `regions`.
    pub region_count: usize,
    /// Boot modules.
    pub modules: [Option<Module>; 16],
    /// Lowest and highest physical byte occupied by the multiboot info structures.
    pub info_range: (u64, u64),
    cmdline: [u8; 512],
    cmdline_len: usize,
}

impl BootInfo {
    /// The kernel command line (QEMU `-append`), lossily truncated to 512 bytes.
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }
    /// The usable RAM regions.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.region_count]
    }
    /// The boot modules.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().flatten()
    }
}

/// Physical range of the kernel image (from the link script symbols).
pub fn kernel_image_range() -> (u64, u64) {
    extern "C" {
        static __kernel_start: u8;
        static __kernel_end: u8;
    }
    (
        core::ptr::addr_of!(__kernel_start) as u64,
        core::ptr::addr_of!(__kernel_end) as u64,
    )
}

/// Section boundaries used to map the image with the right rights: text, rodata, data+bss.
pub fn kernel_sections() -> [(u64, u64); 3] {
    extern "C" {
        static __kernel_start: u8;
        static __rodata_start: u8;
        static __data_start: u8;
        static __kernel_end: u8;
    }
    let a = core::ptr::addr_of!(__kernel_start) as u64;
    let b = core::ptr::addr_of!(__rodata_start) as u64;
    let c = core::ptr::addr_of!(__data_start) as u64;
    let d = core::ptr::addr_of!(__kernel_end) as u64;
    [(a, b), (b, c), (c, d)]
}

/// Reads a `T` at a physical address below 4 GiB (identity mapped by the boot tables).
///
/// # Safety
/// `addr` must point at `size_of::<T>()` readable bytes of loader-provided memory.
unsafe fn read_phys<T: Copy>(addr: u64) -> T {
    // SAFETY: per the caller's contract; unaligned reads are allowed for loader structures.
    unsafe { core::ptr::read_unaligned(addr as *const T) }
}

/// Copies a NUL-terminated string from loader memory into `out`, returning its length.
///
/// # Safety
/// `addr` must point at a NUL-terminated string in identity-mapped loader memory.
unsafe fn read_cstr(addr: u64, out: &mut [u8]) -> usize {
    let mut n = 0;
    while n < out.len() {
        // SAFETY: within the string, per the caller's contract (stops at the NUL).
        let b: u8 = unsafe { read_phys(addr + n as u64) };
        if b == 0 {
            break;
        }
        out[n] = b;
        n += 1;
    }
    n
}

extern "Rust" {
    /// Defined by the kernel binary (`kernel/src/main.rs`).
    fn kernel_main(info: BootInfo) -> !;
}

/// First Rust code: parses the multiboot info (multiboot spec §3.3) and calls `kernel_main`.
extern "C" fn hal_entry64(magic: u32, info: u32) -> ! {
    crate::serial::COM1.init();
    crate::serial::COM2.init();
    if magic != MULTIBOOT_LOADER_MAGIC {
        for b in b"clew: not started by a multiboot loader\n" {
            crate::serial::COM1.write_byte(*b);
        }
        crate::cpu::halt_forever();
    }
    let info = info as u64;
    let mut boot = BootInfo {
        regions: [MemoryRegion::default(); 64],
        region_count: 0,
        modules: [None; 16],
        info_range: (info, info + 120),
        cmdline: [0; 512],
        cmdline_len: 0,
    };
    // SAFETY: the loader passed a valid multiboot info structure at `info` (magic checked),
    // and every pointer inside it refers to loader memory below 4 GiB, identity mapped by
    // the boot page tables; only the fields whose flag bits are set are read.
    unsafe {
        let flags: u32 = read_phys(info);
        if flags & (1 << 2) != 0 {
            let p: u32 = read_phys(info + 16);
            boot.cmdline_len = read_cstr(p as u64, &mut boot.cmdline);
        }
        if flags & (1 << 3) != 0 {
            let count: u32 = read_phys(info + 20);
            let addr: u32 = read_phys(info + 24);
            for i in 0..(count as usize).min(16) {
                let m = addr as u64 + 16 * i as u64;
                let start: u32 = read_phys(m);
                let end: u32 = read_phys(m + 4);
                let s: u32 = read_phys(m + 8);
                let mut module = Module {
                    start: start as u64,
                    end: end as u64,
                    name: [0; 128],
                    name_len: 0,
                };
                if s != 0 {
                    module.name_len = read_cstr(s as u64, &mut module.name);
                }
                boot.modules[i] = Some(module);
            }
        }
        if flags & (1 << 6) != 0 {
            let len: u32 = read_phys(info + 44);
            let addr: u32 = read_phys(info + 48);
            let mut p = addr as u64;
            while p < addr as u64 + len as u64 && boot.region_count < 64 {
                let size: u32 = read_phys(p);
                let base: u64 = read_phys(p + 4);
                let length: u64 = read_phys(p + 12);
                let kind: u32 = read_phys(p + 20);
                if kind == 1 && length > 0 {
                    boot.regions[boot.region_count] = MemoryRegion {
                        start: base,
                        end: base + length,
                    };
                    boot.region_count += 1;
                }
                p += size as u64 + 4;
            }
        } else if flags & 1 != 0 {
            let upper_kib: u32 = read_phys(info + 8);
            boot.regions[0] = MemoryRegion {
                start: 0x10_0000,
                end: 0x10_0000 + upper_kib as u64 * 1024,
            };
            boot.region_count = 1;
        }
    }
    // SAFETY: `kernel_main` is defined by the kernel binary with exactly this signature.
    unsafe { kernel_main(boot) }
}
