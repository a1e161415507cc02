//! The CMOS real-time clock (MC146818 compatible, ports 0x70/0x71): the wall-clock time at
//! boot, from which the kernel derives realtime by adding its monotonic clock.

use x86_64::instructions::port::Port;

fn read_reg(reg: u8) -> u8 {
    // SAFETY: 0x70 selects a CMOS register (bit 7 = NMI disable, kept clear), 0x71 reads it;
    // port I/O on the RTC touches no memory.
    unsafe {
        Port::<u8>::new(0x70).write(reg & 0x7f);
        Port::<u8>::new(0x71).read()
    }
}

fn update_in_progress() -> bool {
    read_reg(0x0a) & 0x80 != 0
}

fn snapshot() -> [u8; 7] {
    while update_in_progress() {
        core::hint::spin_loop();
    }
    [
        read_reg(0x00), // seconds
        read_reg(0x02), // minutes
        read_reg(0x04), // hours
        read_reg(0x07), // day of month
        read_reg(0x08), // month
        read_reg(0x09), // year (2 digits)
        read_reg(0x32), // century (ACPI FADT default register; QEMU provides it)
    ]
}

/// Seconds since the Unix epoch (UTC, as QEMU's default `-rtc base=utc`), read twice until
/// two consecutive reads agree (no update in between). `None` if the values make no sense.
pub fn unix_seconds() -> Option<u64> {
    let mut a = snapshot();
    for _ in 0..8 {
        let b = snapshot();
        if a == b {
            break;
        }
        a = b;
    }
    let status_b = read_reg(0x0b);
    let binary = status_b & 0x04 != 0;
    let h24 = status_b & 0x02 != 0;
    let bcd = |v: u8| {
        if binary {
            v
        } else {
            (v & 0x0f) + (v >> 4) * 10
        }
    };
    let sec = bcd(a[0]) as u64;
    let min = bcd(a[1]) as u64;
    let pm = a[2] & 0x80 != 0;
    let mut hour = bcd(a[2] & 0x7f) as u64;
    if !h24 {
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    let day = bcd(a[3]) as u64;
    let month = bcd(a[4]) as u64;
    let century = match bcd(a[6]) as u64 {
        c @ 19..=30 => c,
        _ => 20,
    };
    let year = century * 100 + bcd(a[5]) as u64;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468).max(0) as u64
}
