//! The command language of Clew's shell (no_std + alloc): turns one line typed at `clew> `
//! into plain data. It knows nothing about processes, files or the console; the kernel's
//! shell (`kernel/src/shell.rs`) executes what [`parse`] returns, and implements [`Vars`]
//! over its variables.
//!
//! # Key types and functions
//! - [`parse`]`(line) -> Result<`[`Line`]`, `[`Error`]`>`: lexing and grammar in one call.
//! - [`Line`] = [`ListItem`]s (a [`Condition`] plus a [`Pipeline`]); a [`Pipeline`] =
//!   [`Command`]s joined by `|`, maybe `background`; a [`Command`] = [`Assignment`]s, `argv`
//!   and [`Redirect`]s ([`RedirectTarget`]: input file, output file (truncate/append) or
//!   another descriptor).
//! - [`Word`] / [`WordPart`]: an argument with quoting removed but `$NAME`/`$?` not yet
//!   substituted; [`Pipeline::expand`] / [`Command::expand`] / [`Word::expand`] substitute
//!   through a [`Vars`] and give the same structures over `String`.
//! - [`parse_job_spec`] -> [`JobRef`]: the argument of `kill`, `fg`, `bg` (`%2`, `1234`).
//! - [`Error`]: every rejection, with a message for the user (`Display`).
//!
//! # How the executor uses it
//! ```text
//! let line = parse(input)?;                       // print the Error and prompt again
//! for item in &line.items {
//!     if !item.condition.should_run(last_status) { continue }
//!     let pipeline = item.pipeline.expand(&vars);  // now, not before: see below
//!     ... run it; if !pipeline.background { last_status = its status }
//!     //  (a background start sets last_status = 0, as in sh)
//! }
//! ```
//! Expansion is deferred to the moment each pipeline runs so that `false; echo $?` prints 1
//! and `X=1; echo $X` prints 1, as in sh; parsing the whole line first still reports syntax
//! errors before anything runs.
//!
//! # Semantics the executor must know
//! - **No word splitting**: a variable's value is never split into several arguments
//!   (`X="a b"; ls $X` passes one argument `a b`), like zsh rather than sh. Clew has no `IFS`
//!   and this removes the classic quoting trap. The one part of field splitting kept: an
//!   unquoted word that expands to the empty string is dropped (`ls $UNSET` is `ls`), while
//!   `""`, `''` and `"$UNSET"` are empty arguments.
//! - **No globbing**: `*`, `?` and `[` are ordinary characters, passed to the program as typed.
//! - **Only `$NAME`, `${NAME}`, `$?`**: `$` followed by anything else (`$1`, `$$`, `$`, `a$`)
//!   is literal text. No `~`, command substitution, arithmetic or `${X:-default}` forms
//!   (`${X:-y}` is a [`Error::BadSubstitution`]).
//! - **Assignments**: `NAME=value` words before the first other word. With a program
//!   (`argv` non-empty after expansion) they go into that program's environment only; with
//!   no program (`X=1`, `X=1 > f`, or `X=1 $UNSET`) they set shell variables, as in sh. A
//!   value is never dropped or split (`X=` sets `X` to the empty string). Words of the form
//!   `NAME=value` after the program name are ordinary arguments (`env A=1`).
//! - **Redirections** apply left to right, after the pipe connections (so `a 2>&1 | b` sends
//!   `a`'s stderr into the pipe). The descriptor number before an operator must touch it
//!   (`2>f`); `2 > f` is the argument `2` plus `> f`. The target of `>&`/`<&` must be a
//!   literal number. A command may consist of redirections only (`> f` truncates `f`).
//!   Supported: `<`, `>`, `>>`, `>&`, `<&`, each with an optional number in front (`2>`,
//!   `2>>`, `2>&1`, `1>&2`, `3<`); not `<<`, `<>`, `>|`, `&>`, `>&-`.
//! - **Lists**: `;`, newline, `&&`, `||` ([`Condition`]); `&&`/`||` have equal precedence and
//!   left associativity, which in-order evaluation gives for free. `&` backgrounds the one
//!   pipeline before it (in POSIX it backgrounds the whole `a && b` list; running a list as
//!   one job would need a subshell, which Clew's shell does not have) and separates like `;`.
//! - **Comments**: `#` at the start of a word, to the end of the line (`a#b` is one word).

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod ast;
mod error;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

pub use ast::{
    Assignment, Command, Condition, Line, ListItem, Pipeline, Redirect, RedirectTarget, Vars, Word,
    WordPart,
};
pub use error::Error;

use alloc::string::String;

/// Parses one command line (or several lines of a script, separated by newlines).
pub fn parse(line: &str) -> Result<Line, Error> {
    parse::parse_tokens(lex::lex(line)?)
}

/// What a job spec names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRef {
    /// `%N`: job number `N`, as listed by `jobs`.
    Job(u32),
    /// `N`: process id `N`.
    Pid(u32),
}

/// Parses the argument of `kill` (and `fg`/`bg`, if the shell grows them): `%N` is a job
/// number, plain decimal digits a process id. No sign, spaces or other forms (`%%`, `%+`,
/// `%name`); whether the job or process exists is for the caller to check.
pub fn parse_job_spec(spec: &str) -> Result<JobRef, Error> {
    let (digits, is_job) = match spec.strip_prefix('%') {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    // `u32::from_str` alone would also accept a leading `+`.
    let number = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse::<u32>().ok())
        .flatten()
        .ok_or_else(|| Error::InvalidJobSpec(String::from(spec)))?;
    Ok(if is_job {
        JobRef::Job(number)
    } else {
        JobRef::Pid(number)
    })
}
