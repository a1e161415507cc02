//! Temporary boot smoke test.
#![no_std]
#![no_main]
extern crate alloc;
use hal::boot::BootInfo;

#[allow(unsafe_code)]
// SAFETY: exporting the entry symbol the hal's boot code calls; no unsafe operation.
#[unsafe(no_mangle)]
fn kernel_main(info: BootInfo) -> ! {
    for b in b"hello from clew\n" { hal::serial::COM1.write_byte(*b); }
    for b in info.cmdline().bytes() { hal::serial::COM1.write_byte(b); }
    hal::cpu::power_off()
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { hal::cpu::exit_qemu(1) }
