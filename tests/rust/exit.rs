//! std::process::exit with a code of the program's choosing (the first argument), from deep
//! inside the program: destructors do not run, buffered stdout is flushed.

struct Guard(&'static str);

impl Drop for Guard {
    fn drop(&mut self) {
        println!("dropped {} (must not happen)", self.0);
    }
}

fn descend(depth: u32, code: i32) -> u32 {
    let _guard = Guard("a frame");
    if depth == 0 {
        eprintln!("exiting with {code}");
        print!("no newline before exit");
        std::process::exit(code);
    }
    descend(depth - 1, code) + 1
}

fn main() {
    let code: i32 = std::env::args()
        .nth(1)
        .expect("usage: exit.wasm CODE")
        .parse()
        .unwrap();
    let _guard = Guard("main");
    println!("start");
    let depth = descend(20, code);
    println!("returned from depth {depth} (must not happen)");
}
