//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, `strlen`: symbols `core` and the
//! compiler expect from the platform (there is no libc). They are written in `asm!` so LLVM
//! cannot turn them back into calls to themselves; comparisons are plain loops over raw
//! pointers for the same reason.
//!
//! Copies and fills move 32 bytes per loop iteration through general registers and finish
//! the last few bytes with `rep movsb` / `rep stosb`. A plain `rep movsb` is the fastest
//! form on CPUs with ERMSB (SDM Vol. 1 §7.3.9.3), but Clew mostly runs under QEMU's TCG,
//! which executes a `rep` string instruction one element per translated-block exit (QEMU
//! `target/i386/tcg/translate.c`, `gen_repz`): zeroing one 4 KiB frame with `rep stosb`
//! was 4,096 block exits, with this loop it is 128 iterations of one block. On hardware
//! the loop runs at store bandwidth for the sizes the kernel copies (frames, I/O buffers).

use core::arch::asm;

/// # Safety
/// `dest` and `src` must be valid for `n` bytes and not overlap.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: per the caller's contract, every byte of both ranges may be accessed; each
    // 32-byte block is loaded whole before it is stored, which also makes a forward copy
    // correct when `dest` is below an overlapping `src` (`memmove` relies on it). DF is
    // clear per the System V ABI.
    unsafe {
        asm!(
            "cmp rcx, 32",
            "jb 3f",
            "2:",
            "mov {a}, qword ptr [rsi]",
            "mov {b}, qword ptr [rsi + 8]",
            "mov {c}, qword ptr [rsi + 16]",
            "mov {d}, qword ptr [rsi + 24]",
            "mov qword ptr [rdi], {a}",
            "mov qword ptr [rdi + 8], {b}",
            "mov qword ptr [rdi + 16], {c}",
            "mov qword ptr [rdi + 24], {d}",
            "add rsi, 32",
            "add rdi, 32",
            "sub rcx, 32",
            "cmp rcx, 32",
            "jae 2b",
            "3:",
            "rep movsb",
            inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
            a = out(reg) _, b = out(reg) _, c = out(reg) _, d = out(reg) _,
            options(nostack),
        );
    }
    dest
}

/// # Safety
/// `dest` and `src` must be valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize + n) {
        // SAFETY: `memcpy` copies forward block by block (each block loaded before it is
        // stored), correct when dest is below src or the ranges are disjoint.
        unsafe { memcpy(dest, src, n) }
    } else {
        // SAFETY: dest is above an overlapping src: copy backward from the ends, each
        // 32-byte block loaded whole before it is stored (so bytes not yet read are never
        // overwritten), then the remaining head bytes with `rep movsb` under DF=1 (set for
        // that instruction only, restored before returning).
        unsafe {
            asm!(
                "add rsi, rcx",
                "add rdi, rcx",
                "cmp rcx, 32",
                "jb 3f",
                "2:",
                "sub rsi, 32",
                "sub rdi, 32",
                "mov {a}, qword ptr [rsi]",
                "mov {b}, qword ptr [rsi + 8]",
                "mov {c}, qword ptr [rsi + 16]",
                "mov {d}, qword ptr [rsi + 24]",
                "mov qword ptr [rdi], {a}",
                "mov qword ptr [rdi + 8], {b}",
                "mov qword ptr [rdi + 16], {c}",
                "mov qword ptr [rdi + 24], {d}",
                "sub rcx, 32",
                "cmp rcx, 32",
                "jae 2b",
                "3:",
                "dec rsi",
                "dec rdi",
                "std",
                "rep movsb",
                "cld",
                inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
                a = out(reg) _, b = out(reg) _, c = out(reg) _, d = out(reg) _,
                options(nostack),
            );
        }
        dest
    }
}

/// # Safety
/// `dest` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // The byte replicated into all eight lanes of a word.
    let word = u64::from(c as u8) * 0x0101_0101_0101_0101;
    // SAFETY: per the caller's contract, every byte of the range may be written. DF is
    // clear per the System V ABI.
    unsafe {
        asm!(
            "cmp rcx, 32",
            "jb 3f",
            "2:",
            "mov qword ptr [rdi], rax",
            "mov qword ptr [rdi + 8], rax",
            "mov qword ptr [rdi + 16], rax",
            "mov qword ptr [rdi + 24], rax",
            "add rdi, 32",
            "sub rcx, 32",
            "cmp rcx, 32",
            "jae 2b",
            "3:",
            "rep stosb",
            inout("rcx") n => _, inout("rdi") dest => _, in("rax") word,
            options(nostack),
        );
    }
    dest
}

/// # Safety
/// `a` and `b` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, per the caller's contract.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// # Safety
/// `a` and `b` must be valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` must point at a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: reads stop at the terminating NUL, per the caller's contract.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
