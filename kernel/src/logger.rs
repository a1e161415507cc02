//! `log` backend writing to COM2 (the kernel log; QEMU's second `-serial`), each line
//! stamped with the uptime.

use crate::sync::SpinLock;
use core::fmt::Write;
use hal::serial::COM2;

static LOCK: SpinLock<()> = SpinLock::new(());

struct Com2;
impl Write for Com2 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            COM2.write_byte(b);
        }
        Ok(())
    }
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let ms = crate::time::uptime_ms();
        let _g = LOCK.lock();
        let _ = writeln!(
            Com2,
            "[{:>4}.{:03}] {:<5} {}: {}",
            ms / 1000,
            ms % 1000,
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Installs the logger.
pub fn init() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Debug);
}
