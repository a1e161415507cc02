//! The shell's line editor, fed one byte at a time from the serial console.
//!
//! Backspace (0x7f DEL, 0x08 BS) erases one character, Ctrl-U (0x15) the whole line; CR or LF
//! ends a line, and the LF of a CRLF pair is swallowed so it does not end a second, empty line.

use alloc::string::String;

/// What the console must do after a byte was fed.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// Nothing visible changes.
    None,
    /// Echo this character.
    Echo(char),
    /// Erase this many characters before the cursor (`"\x08 \x08"` each).
    Erase(usize),
    /// A complete line (without its terminator); echo a newline.
    Line(String),
}

/// Line editor state.
#[derive(Default)]
pub struct LineEditor {
    buf: String,
    after_cr: bool,
}

impl LineEditor {
    /// An empty editor.
    pub const fn new() -> Self {
        Self {
            buf: String::new(),
            after_cr: false,
        }
    }

    /// Feeds one input byte.
    pub fn feed(&mut self, byte: u8) -> Edit {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => Edit::None,
            b'\r' | b'\n' => Edit::Line(core::mem::take(&mut self.buf)),
            0x7f | 0x08 => {
                if self.buf.pop().is_some() {
                    Edit::Erase(1)
                } else {
                    Edit::None
                }
            }
            0x15 => {
                let n = self.buf.chars().count();
                self.buf.clear();
                if n > 0 {
                    Edit::Erase(n)
                } else {
                    Edit::None
                }
            }
            0x20..=0x7e => {
                self.buf.push(byte as char);
                Edit::Echo(byte as char)
            }
            _ => Edit::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> Vec<String> {
        let mut e = LineEditor::new();
        input
            .iter()
            .filter_map(|&b| match e.feed(b) {
                Edit::Line(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn crlf_is_one_line() {
        assert_eq!(run(b"ps\r\nmem\nuptime\r"), ["ps", "mem", "uptime"]);
        assert_eq!(run(b"\n\n"), ["", ""]);
    }

    #[test]
    fn editing() {
        assert_eq!(run(b"pz\x7fs\n"), ["ps"]);
        assert_eq!(run(b"junk\x15help\n"), ["help"]);
        assert_eq!(run(b"\x08\x08ab\x08\n"), ["a"]);
        let mut e = LineEditor::new();
        e.feed(b'a');
        e.feed(b'b');
        assert_eq!(e.feed(0x15), Edit::Erase(2));
        assert_eq!(e.feed(0x7f), Edit::None);
    }
}
