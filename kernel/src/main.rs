//! The Clew kernel: init order and wiring.
//!
//! Boot (`hal::boot`) → [`kernel_main`]: logger, GDT/TSS, IDT, memory (frames, page tables,
//! heap), symbols, tasks (the boot context becomes the idle task), PIC + PIT timer, serial
//! input, the filesystem (`fs`, from the boot archive), then the shell task (or the
//! in-kernel tests with the command line word `test`, or `clew run`'s program with `run`),
//! and the idle loop. Modules: `memory`, `task`, `sync`, `fault`, `interrupt`, `time`,
//! `console`, `logger`, `symbols`, `shell`, `ktest`, `fs`, `process`, `tty`, `run_mode`.
//! All hardware access goes through the
//! `hal` crate; this crate has no `unsafe` (workspace lint `unsafe_code = "deny"`) except
//! the one exported entry symbol below.
#![no_std]
#![no_main]
#![feature(panic_can_unwind)]

extern crate alloc;

pub mod bench_mode;
pub mod console;
pub mod fault;
pub mod fs;
pub mod interrupt;
pub mod ktest;
pub mod logger;
pub mod memory;
pub mod power;
pub mod process;
pub mod run_mode;
pub mod shell;
pub mod symbols;
pub mod sync;
pub mod task;
pub mod time;
pub mod tty;
pub mod wasmtime_platform;

use hal::boot::BootInfo;

/// Kernel entry, called by `hal::boot` with the parsed multiboot information.
#[allow(unsafe_code)]
// SAFETY: `no_mangle` only exports the symbol `hal::boot` declares and calls with this exact
// signature; no unsafe operation happens here.
#[unsafe(no_mangle)]
pub fn kernel_main(info: BootInfo) -> ! {
    logger::init();
    hal::gdt::init();
    hal::interrupts::init(interrupt::handle);
    memory::init(&info);
    // AVX state for native code compiled with the `avx2` profile (QEMU `-cpu max`).
    let avx = hal::cpu::enable_avx();
    symbols::init(&info);
    task::init();
    hal::interrupts::init_pic();
    time::init();
    hal::interrupts::unmask_irq(0);
    console::init();

    // QEMU (and GRUB) pass the kernel's path as the first word of the command line.
    let args: alloc::vec::Vec<&str> = info.cmdline().split_whitespace().skip(1).collect();
    let test_mode = args.contains(&"test");
    let run_mode = args.contains(&"run");
    if run_mode {
        // COM1 carries only `clew run` frames from here on.
        console::set_framed();
    }
    fs::init(&info);
    for a in &args {
        match *a {
            "engine=interp" => process::set_engine_policy(process::EnginePolicy::Interp),
            "engine=native" => process::set_engine_policy(process::EnginePolicy::Native),
            _ => {}
        }
    }
    let ram_mib: u64 = info.regions().iter().map(|r| r.end - r.start).sum::<u64>() >> 20;
    log::info!(
        "cmdline {:?}, {} MiB usable RAM, AVX {}",
        info.cmdline(),
        ram_mib,
        if avx { "on" } else { "off" }
    );
    let s = memory::stats();
    log::info!(
        "frames: {} usable, heap {} KiB",
        s.usable_frames,
        s.heap_size / 1024
    );
    if !run_mode {
        println!(
            "Clew {} on x86_64: {} MiB RAM{}",
            env!("CARGO_PKG_VERSION"),
            ram_mib,
            if test_mode {
                ", running in-kernel tests"
            } else {
                "; type 'help'"
            }
        );
    }
    let spawned = if args.contains(&"bench") {
        task::spawn_with_stack("bench", process::PROCESS_STACK, bench_mode::run)
    } else if test_mode {
        let only = args
            .iter()
            .find_map(|a| a.strip_prefix("only="))
            .map(alloc::string::String::from);
        task::spawn("ktest", move || ktest::run(only.as_deref()))
    } else if run_mode {
        task::spawn_with_stack("run", process::PROCESS_STACK, run_mode::run)
    } else {
        task::spawn("shell", shell::run)
    };
    if let Err(e) = spawned {
        panic!("cannot start the first task: {e:?}");
    }
    hal::cpu::enable_interrupts();
    task::idle_loop()
}
