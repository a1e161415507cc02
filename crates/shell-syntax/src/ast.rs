//! The data a parsed line becomes, and variable expansion.
//!
//! Every structure is generic over its word type `W`: the parser produces `W = `[`Word`]
//! (quoting already resolved, `$NAME` / `$?` still pending), and `expand` turns a
//! [`Pipeline`] or [`Command`] into the same shape with `W = String`, ready to execute.
//! One set of types for both stages keeps the executor's code the same before and after.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The values `$NAME`, `${NAME}` and `$?` expand to; implemented by the kernel shell over
/// its variable table.
pub trait Vars {
    /// The value of variable `name` (shell or environment variable; the shell decides), or
    /// `None` if unset. Unset variables expand to the empty string, as in POSIX sh.
    fn var(&self, name: &str) -> Option<String>;
    /// The exit status of the most recent foreground pipeline, for `$?`.
    fn last_status(&self) -> i32;
}

/// A parsed command line: pipelines to run in order. An empty or comment-only line has no
/// items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// The pipelines, in the order they appear.
    pub items: Vec<ListItem>,
}

/// One pipeline of a [`Line`] and the condition under which it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Whether to run, given the status left by the items before (see [`Condition`]).
    pub condition: Condition,
    /// What to run.
    pub pipeline: Pipeline,
}

/// How a pipeline is joined to the one before it.
///
/// `&&` and `||` have equal precedence and associate to the left, as in POSIX sh, which
/// comes out right when the executor walks the items in order, skips those whose condition
/// fails, and updates the last status only when it runs something: in `false || true && echo
/// x`, `true` runs and succeeds, so `echo` runs; in `true || false && echo x`, `false` is
/// skipped and the status is still `true`'s 0, so `echo` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// First item, or after `;`, `&` or a newline.
    Always,
    /// After `&&`: runs if the last status is 0.
    IfSucceeded,
    /// After `||`: runs if the last status is not 0.
    IfFailed,
}

impl Condition {
    /// Whether a pipeline with this condition runs when the last status is `last_status`.
    pub fn should_run(self, last_status: i32) -> bool {
        match self {
            Condition::Always => true,
            Condition::IfSucceeded => last_status == 0,
            Condition::IfFailed => last_status != 0,
        }
    }
}

/// Commands joined by `|`: each one's stdout feeds the next one's stdin; all run
/// concurrently. The pipeline's status is the last command's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline<W = Word> {
    /// At least one command.
    pub commands: Vec<Command<W>>,
    /// Ended with `&`: start it as a background job and do not wait. (`&` applies to this
    /// pipeline only, not to a whole `a && b` list as in POSIX; see the crate docs.)
    pub background: bool,
}

/// One simple command: `NAME=value`... assignments, then words and redirections in any
/// order (redirections may come first, between or after the words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<W = Word> {
    /// `NAME=value` words before the first ordinary word. With a non-empty `argv` they are
    /// the environment of that command only; with an empty `argv` they set shell variables.
    pub assignments: Vec<Assignment<W>>,
    /// The program and its arguments. May be empty: a line of only assignments or only
    /// redirections (`> file` creates or truncates the file), or, after expansion, a command
    /// whose words all expanded to nothing (`$UNSET`).
    pub argv: Vec<W>,
    /// Redirections, in the order written; apply them left to right (`>out 2>&1` sends both
    /// to `out`, `2>&1 >out` sends stderr to the old stdout).
    pub redirects: Vec<Redirect<W>>,
}

/// A `NAME=value` word. `NAME` matches `[A-Za-z_][A-Za-z0-9_]*` and was typed unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment<W = Word> {
    /// The variable name.
    pub name: String,
    /// The value (may be empty: `NAME=`).
    pub value: W,
}

/// A redirection of one file descriptor of the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect<W = Word> {
    /// The descriptor being redirected: the number typed before the operator (`2>`), else 0
    /// for `<` / `<&` and 1 for `>`, `>>`, `>&`.
    pub fd: u32,
    /// Where it goes.
    pub target: RedirectTarget<W>,
}

/// Where a redirected descriptor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectTarget<W = Word> {
    /// `< path`: open `path` for reading.
    Input(W),
    /// `> path` (create or truncate) or `>> path` (`append: true`: create, write at the end).
    Output {
        /// The file to open (after expansion it may be empty: `> $UNSET`; opening it fails).
        path: W,
        /// `>>` rather than `>`.
        append: bool,
    },
    /// `>&N` or `<&N`: `fd` becomes a copy of descriptor `N` as it is at that point of the
    /// left-to-right application (POSIX `dup2(N, fd)`). The operator's direction only chose
    /// the default `fd`.
    Fd(u32),
}

/// A word as parsed: quotes and escapes are gone, variable references are not yet
/// substituted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    /// The pieces, concatenated on expansion. Adjacent literal text is merged into one
    /// [`WordPart::Literal`]; `''` gives no parts at all.
    pub parts: Vec<WordPart>,
    /// The word contained quotes or a backslash escape. An argument that expands to the empty
    /// string is dropped unless it was quoted (`$UNSET` vanishes, `"$UNSET"` and `''` are
    /// empty arguments), as POSIX sh does.
    pub quoted: bool,
}

/// A piece of a [`Word`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPart {
    /// Text as typed, quoting removed.
    Literal(String),
    /// `$NAME` or `${NAME}`.
    Var(String),
    /// `$?` or `${?}`.
    Status,
}

impl Word {
    /// The word's value: literal text plus the current values of its variables. Unset
    /// variables contribute nothing. The value is never split or globbed.
    pub fn expand(&self, vars: &dyn Vars) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                WordPart::Literal(text) => out.push_str(text),
                WordPart::Var(name) => {
                    if let Some(value) = vars.var(name) {
                        out.push_str(&value);
                    }
                }
                WordPart::Status => out.push_str(&vars.last_status().to_string()),
            }
        }
        out
    }

    /// The word's text if it has no variable references (the same before and after
    /// expansion), e.g. to recognise a builtin's name early.
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [WordPart::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Expansion as an argument: `None` when the word is unquoted and expands to nothing.
    fn expand_field(&self, vars: &dyn Vars) -> Option<String> {
        let value = self.expand(vars);
        (self.quoted || !value.is_empty()).then_some(value)
    }
}

impl Pipeline<Word> {
    /// Expands every command (see [`Command::expand`]). Call it right before running the
    /// pipeline, so that `$?` and variables set by earlier items of the line are current.
    pub fn expand(&self, vars: &dyn Vars) -> Pipeline<String> {
        Pipeline {
            commands: self.commands.iter().map(|c| c.expand(vars)).collect(),
            background: self.background,
        }
    }
}

impl Command<Word> {
    /// Substitutes variables in every word, assignment value and redirection path.
    /// Unquoted arguments that expand to the empty string are dropped (so `argv` may become
    /// empty); assignment values and paths are kept even when empty.
    pub fn expand(&self, vars: &dyn Vars) -> Command<String> {
        Command {
            assignments: self
                .assignments
                .iter()
                .map(|a| Assignment {
                    name: a.name.clone(),
                    value: a.value.expand(vars),
                })
                .collect(),
            argv: self
                .argv
                .iter()
                .filter_map(|w| w.expand_field(vars))
                .collect(),
            redirects: self
                .redirects
                .iter()
                .map(|r| Redirect {
                    fd: r.fd,
                    target: match &r.target {
                        RedirectTarget::Input(path) => RedirectTarget::Input(path.expand(vars)),
                        RedirectTarget::Output { path, append } => RedirectTarget::Output {
                            path: path.expand(vars),
                            append: *append,
                        },
                        RedirectTarget::Fd(n) => RedirectTarget::Fd(*n),
                    },
                })
                .collect(),
        }
    }
}
