//! The one error type of the crate. Hand-written `Display` (no dependency) so the crate builds
//! in no_std without touching the workspace lock file. Messages are meant to be printed as
//! they are after a `clew: ` (or similar) prefix, so they name the offending piece of syntax
//! the way the user typed it.

use alloc::string::String;
use core::fmt;

/// Why a command line (or a job spec) was rejected. Nothing here is ever a panic: every
/// malformed input ends up as one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A `'` without its closing `'`.
    UnterminatedSingleQuote,
    /// A `"` without its closing `"`.
    UnterminatedDoubleQuote,
    /// A `${` without its closing `}`.
    UnterminatedBrace,
    /// `${...}` whose content is not a variable name or `?` (e.g. `${}`, `${a-b}`); holds the
    /// content between the braces.
    BadSubstitution(String),
    /// A `\` as the last character of the line (there is nothing for it to escape, and the
    /// shell reads one line at a time, so it cannot be a continuation either).
    TrailingBackslash,
    /// A NUL character: it cannot be passed in an argument or environment variable (WASI
    /// strings are NUL-terminated), so it is refused before anything else.
    NulByte,
    /// A file redirection operator (`<`, `>`, `>>`) not followed by a word; holds the
    /// operator.
    MissingRedirectTarget(&'static str),
    /// A descriptor duplication (`>&`, `<&`) not followed by a literal decimal number; holds
    /// the operator.
    ExpectedFd(&'static str),
    /// A descriptor number that does not fit in a `u32`; holds the digits as typed.
    FdOutOfRange(String),
    /// An operator where a command was expected (`| a`, `a ;; b`, `&& a`); holds the
    /// operator.
    UnexpectedToken(&'static str),
    /// The line ended right after an operator that needs a command after it (`a |`,
    /// `a &&`, `a ||`); holds the operator.
    UnexpectedEnd(&'static str),
    /// [`crate::parse_job_spec`] got something other than `%N` or a decimal process id; holds
    /// the spec as given.
    InvalidJobSpec(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnterminatedSingleQuote => {
                f.write_str("syntax error: unterminated single quote (')")
            }
            Error::UnterminatedDoubleQuote => {
                f.write_str("syntax error: unterminated double quote (\")")
            }
            Error::UnterminatedBrace => f.write_str("syntax error: `${` without a closing `}`"),
            Error::BadSubstitution(inner) => write!(f, "${{{inner}}}: bad substitution"),
            Error::TrailingBackslash => f.write_str("syntax error: `\\` at the end of the line"),
            Error::NulByte => f.write_str("syntax error: NUL character in the command line"),
            Error::MissingRedirectTarget(op) => {
                write!(f, "syntax error: `{op}` needs a file name after it")
            }
            Error::ExpectedFd(op) => {
                write!(
                    f,
                    "syntax error: `{op}` needs a file descriptor number after it (as in `2>&1`)"
                )
            }
            Error::FdOutOfRange(digits) => write!(f, "{digits}: file descriptor out of range"),
            Error::UnexpectedToken(op) => write!(f, "syntax error near unexpected `{op}`"),
            Error::UnexpectedEnd(op) => write!(f, "syntax error: `{op}` with no command after it"),
            Error::InvalidJobSpec(spec) => {
                write!(f, "{spec}: not a job (%N) or process id")
            }
        }
    }
}

impl core::error::Error for Error {}
