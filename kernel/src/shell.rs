//! The serial shell (`clew> `): line editing via `kernel_logic::line`, and the builtins
//! `help`, `ps`, `mem`, `uptime`, `poweroff`. Running programs comes with the process layer.

use crate::{print, println};
use kernel_logic::line::{Edit, LineEditor};

/// The prompt.
pub const PROMPT: &str = "clew> ";

/// The shell task's body.
pub fn run() {
    let mut editor = LineEditor::new();
    print!("{PROMPT}");
    loop {
        match editor.feed(crate::console::read_byte()) {
            Edit::None => {}
            Edit::Echo(c) => print!("{c}"),
            Edit::Erase(n) => {
                for _ in 0..n {
                    print!("\x08 \x08");
                }
            }
            Edit::Line(line) => {
                println!();
                execute(line.trim());
                print!("{PROMPT}");
            }
        }
    }
}

fn execute(line: &str) {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else { return };
    match cmd {
        "help" => help(),
        "ps" => ps(),
        "mem" => mem(),
        "uptime" => uptime(),
        "poweroff" => {
            println!("powering off");
            crate::power::off();
        }
        _ => println!("clew: unknown command '{cmd}' (try 'help')"),
    }
}

fn help() {
    println!("builtins:");
    println!("  help      this list");
    println!("  ps        tasks: id, name, state, CPU time");
    println!("  mem       physical frames used/free, kernel heap");
    println!("  uptime    time since boot");
    println!("  poweroff  turn the machine off");
}

fn ps() {
    println!("{:>4}  {:<16} {:<9} {:>10}", "ID", "NAME", "STATE", "CPU");
    for t in crate::task::list() {
        println!(
            "{:>4}  {:<16} {:<9} {:>6}.{:03} s",
            t.id,
            t.name,
            t.state.name(),
            t.cpu_us / 1_000_000,
            (t.cpu_us / 1000) % 1000
        );
    }
}

fn mem() {
    let s = crate::memory::stats();
    let used = s.usable_frames.saturating_sub(s.free_frames);
    let mib = |frames: u64| frames * 4096 / (1 << 20);
    println!(
        "frames: {} used ({} MiB), {} free ({} MiB), {} total, 4 KiB each",
        used,
        mib(used),
        s.free_frames,
        mib(s.free_frames),
        s.usable_frames
    );
    println!(
        "heap:   {} KiB used of {} KiB mapped",
        s.heap_used / 1024,
        s.heap_size / 1024
    );
    println!("reservations: {}", s.reservations);
}

fn uptime() {
    let ms = crate::time::uptime_ms();
    println!("up {}.{:02} s", ms / 1000, (ms % 1000) / 10);
}
