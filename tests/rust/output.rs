//! Large output: `output.wasm N` writes N numbered lines of 64 bytes to stdout through a
//! BufWriter, a line to stderr every 1000 lines, and then unbuffered writes of both.

use std::io::{self, BufWriter, Write};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .expect("usage: output.wasm N")
        .parse()
        .unwrap();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut stderr = io::stderr();
    for i in 0..n {
        // 8 digits, a space, 53 letters of a rotating alphabet, '.', newline: 64 bytes.
        let letters: String = (0..53)
            .map(|k| (b'a' + ((i + k) % 26) as u8) as char)
            .collect();
        writeln!(out, "{i:08} {letters}.").unwrap();
        if i % 1000 == 999 {
            writeln!(stderr, "progress {}", i + 1).unwrap();
        }
    }
    out.flush().unwrap();
    drop(out);
    print!("done: {n} lines");
    println!(", {} bytes", n * 64);
    eprintln!("stderr done");
}
