//! Piped stdin: `stdin.wasm lines` reads it with BufRead::lines, `stdin.wasm all` with
//! read_to_string. The input is lines "NAME VALUE" (the last without a newline); both modes
//! print the same summary.

use std::io::{self, BufRead, Read};

struct Summary {
    lines: usize,
    sum: u64,
    longest: String,
    unicode: usize,
}

impl Summary {
    fn new() -> Summary {
        Summary {
            lines: 0,
            sum: 0,
            longest: String::new(),
            unicode: 0,
        }
    }

    fn add(&mut self, line: &str) {
        let mut fields = line.split(' ');
        let name = fields.next().unwrap();
        let value: u64 = fields.next().expect(line).parse().expect(line);
        assert!(fields.next().is_none(), "{line:?}");
        self.lines += 1;
        self.sum += value;
        if name.chars().count() > self.longest.chars().count() {
            self.longest = name.to_string();
        }
        if !name.is_ascii() {
            self.unicode += 1;
        }
    }
}

fn main() {
    let mode = std::env::args().nth(1).expect("usage: stdin.wasm lines|all");
    let mut summary = Summary::new();
    match mode.as_str() {
        "lines" => {
            let stdin = io::stdin();
            for line in stdin.lock().lines() {
                summary.add(&line.unwrap());
            }
        }
        "all" => {
            let mut text = String::new();
            let n = io::stdin().read_to_string(&mut text).unwrap();
            assert_eq!(n, text.len());
            assert!(!text.ends_with('\n'));
            for line in text.split('\n') {
                summary.add(line);
            }
            // At the end, reads return nothing.
            let mut rest = Vec::new();
            assert_eq!(io::stdin().read_to_end(&mut rest).unwrap(), 0);
        }
        other => panic!("unknown mode {other:?}"),
    }
    println!("lines: {}", summary.lines);
    println!("sum: {}", summary.sum);
    println!("longest name: {}", summary.longest);
    println!("non-ascii names: {}", summary.unicode);
}
