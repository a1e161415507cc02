//! Deliberate power-off. The host tool cannot tell QEMU's exit after an ACPI power-off
//! from its exit after a guest reset (both are status 0 with `-no-reboot`), so the kernel
//! logs a marker line on COM2 first (`crates/clew`'s `qemu::POWEROFF_MARKER`).

/// Logs the power-off marker and turns the machine off.
pub fn off() -> ! {
    log::info!("clew: power off");
    hal::cpu::power_off()
}
