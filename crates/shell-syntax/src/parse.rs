//! The grammar, over the lexer's tokens (a subset of POSIX XCU 2.10):
//!
//! ```text
//! line      := sep* (pipeline (("&&" | "||") nl* | ";" | "&" | nl) sep*)* [pipeline]
//! pipeline  := command ("|" nl* command)*
//! command   := (assignment | redirect)* (word | redirect)*     -- at least one element
//! redirect  := [N]"<" word | [N]">" word | [N]">>" word | [N]">&" N | [N]"<&" N
//! ```
//!
//! `sep*` is newlines only: an empty command before `;` or `&` is an error, as in sh.

use alloc::string::String;
use alloc::vec::Vec;
use core::iter::Peekable;

use crate::ast::{
    Assignment, Command, Condition, Line, ListItem, Pipeline, Redirect, RedirectTarget, Word,
    WordPart,
};
use crate::lex::{is_name, LexWord, Op, RedirectKind, Token};
use crate::Error;

type Tokens = Peekable<alloc::vec::IntoIter<Token>>;

/// Builds a [`Line`] from tokens.
pub(crate) fn parse_tokens(tokens: Vec<Token>) -> Result<Line, Error> {
    let mut tokens = tokens.into_iter().peekable();
    let mut items = Vec::new();
    let mut condition = Condition::Always;
    // The `&&` / `||` just read, which must be followed by a pipeline.
    let mut pending: Option<&'static str> = None;
    loop {
        skip_newlines(&mut tokens);
        if tokens.peek().is_none() {
            return match pending {
                Some(op) => Err(Error::UnexpectedEnd(op)),
                None => Ok(Line { items }),
            };
        }
        let mut pipeline = pipeline(&mut tokens)?;
        let next_condition = match tokens.next() {
            None | Some(Token::Newline) | Some(Token::Op(Op::Semi)) => Condition::Always,
            Some(Token::Op(Op::Amp)) => {
                pipeline.background = true;
                Condition::Always
            }
            Some(Token::Op(Op::AndIf)) => Condition::IfSucceeded,
            Some(Token::Op(Op::OrIf)) => Condition::IfFailed,
            // `pipeline` stops only at the tokens above; kept as an error, not a panic.
            Some(other) => return Err(Error::UnexpectedToken(other.text())),
        };
        pending = match next_condition {
            Condition::Always => None,
            Condition::IfSucceeded => Some("&&"),
            Condition::IfFailed => Some("||"),
        };
        items.push(ListItem {
            condition,
            pipeline,
        });
        condition = next_condition;
    }
}

fn skip_newlines(tokens: &mut Tokens) {
    while tokens.next_if(|t| matches!(t, Token::Newline)).is_some() {}
}

fn pipeline(tokens: &mut Tokens) -> Result<Pipeline, Error> {
    let mut commands = Vec::new();
    commands.push(command(tokens, None)?);
    while tokens
        .next_if(|t| matches!(t, Token::Op(Op::Pipe)))
        .is_some()
    {
        skip_newlines(tokens);
        commands.push(command(tokens, Some("|"))?);
    }
    Ok(Pipeline {
        commands,
        background: false,
    })
}

/// A non-empty command; `after` is the operator before it, for the error at end of line.
fn command(tokens: &mut Tokens, after: Option<&'static str>) -> Result<Command, Error> {
    let mut cmd = Command {
        assignments: Vec::new(),
        argv: Vec::new(),
        redirects: Vec::new(),
    };
    loop {
        match tokens.peek() {
            Some(Token::Word(_)) => {
                let Some(Token::Word(word)) = tokens.next() else {
                    break;
                };
                if cmd.argv.is_empty() {
                    match assignment(word) {
                        Ok(a) => cmd.assignments.push(a),
                        Err(word) => cmd.argv.push(word.word),
                    }
                } else {
                    cmd.argv.push(word.word);
                }
            }
            Some(&Token::Op(Op::Redirect { fd, kind })) => {
                tokens.next();
                cmd.redirects.push(redirect(tokens, fd, kind)?);
            }
            _ => break,
        }
    }
    if cmd.assignments.is_empty() && cmd.argv.is_empty() && cmd.redirects.is_empty() {
        return Err(match (tokens.peek(), after) {
            (Some(token), _) => Error::UnexpectedToken(token.text()),
            (None, Some(op)) => Error::UnexpectedEnd(op),
            // The caller checked for the end of the tokens before asking for a command.
            (None, None) => Error::UnexpectedEnd("newline"),
        });
    }
    Ok(cmd)
}

/// `NAME=value` if the word is one, else the word back.
fn assignment(word: LexWord) -> Result<Assignment, LexWord> {
    let Some(WordPart::Literal(first)) = word.word.parts.first() else {
        return Err(word);
    };
    let eq = match first.find('=') {
        Some(eq) if eq < word.plain_prefix && is_name(&first[..eq]) => eq,
        _ => return Err(word),
    };
    let name = String::from(&first[..eq]);
    let rest = String::from(&first[eq + 1..]);
    let mut parts = word.word.parts;
    if rest.is_empty() {
        parts.remove(0);
    } else {
        parts[0] = WordPart::Literal(rest);
    }
    Ok(Assignment {
        name,
        value: Word {
            parts,
            quoted: word.word.quoted,
        },
    })
}

/// The operator has been consumed; reads its target.
fn redirect(tokens: &mut Tokens, fd: Option<u32>, kind: RedirectKind) -> Result<Redirect, Error> {
    let target = tokens.next_if(|t| matches!(t, Token::Word(_)));
    let Some(Token::Word(target)) = target else {
        return Err(match kind {
            RedirectKind::DupIn | RedirectKind::DupOut => Error::ExpectedFd(kind.text()),
            _ => Error::MissingRedirectTarget(kind.text()),
        });
    };
    let default_fd = match kind {
        RedirectKind::In | RedirectKind::DupIn => 0,
        _ => 1,
    };
    let target = match kind {
        RedirectKind::In => RedirectTarget::Input(target.word),
        RedirectKind::Out => RedirectTarget::Output {
            path: target.word,
            append: false,
        },
        RedirectKind::Append => RedirectTarget::Output {
            path: target.word,
            append: true,
        },
        RedirectKind::DupIn | RedirectKind::DupOut => {
            // Only a literal number: `>&$FD` or `>&file` (bash's "both to file") are not
            // supported, so refusing them is clearer than guessing.
            let digits = match target.word.literal() {
                Some(digits)
                    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    digits
                }
                _ => return Err(Error::ExpectedFd(kind.text())),
            };
            RedirectTarget::Fd(
                digits
                    .parse()
                    .map_err(|_| Error::FdOutOfRange(String::from(digits)))?,
            )
        }
    };
    Ok(Redirect {
        fd: fd.unwrap_or(default_fd),
        target,
    })
}
