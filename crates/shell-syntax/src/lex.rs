//! The lexer: characters to words and operators, resolving quotes, escapes and comments.
//!
//! Quoting follows POSIX sh (XCU 2.2): inside `'...'` everything is literal; inside `"..."`
//! `$` expansions work and `\` escapes only `"`, `\`, `$`, `` ` `` and newline (before any
//! other character it stays a backslash); outside quotes `\` makes the next character
//! literal, and `\` + newline is removed (line continuation). `#` starts a comment only at the
//! start of a word. Blanks are space, tab and carriage return; an unquoted newline is a
//! command separator like `;`.

use alloc::string::String;
use alloc::vec::Vec;
use core::iter::Peekable;
use core::str::Chars;

use crate::ast::{Word, WordPart};
use crate::Error;

/// A lexical token.
#[derive(Debug)]
pub(crate) enum Token {
    Word(LexWord),
    Op(Op),
    Newline,
}

/// A word plus what the parser needs to know about how it was typed.
#[derive(Debug)]
pub(crate) struct LexWord {
    pub word: Word,
    /// How many bytes at the start of the first literal part were typed unquoted (before any
    /// quote, escape or `$`). `NAME=` must lie inside this prefix to be an assignment, so
    /// `"A"=1` and `A\=1` stay ordinary words, as in POSIX.
    pub plain_prefix: usize,
}

/// An operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Pipe,
    AndIf,
    OrIf,
    Amp,
    Semi,
    /// A redirection; `fd` is the number typed right before it (`2>`), if any.
    Redirect {
        fd: Option<u32>,
        kind: RedirectKind,
    },
}

/// The redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedirectKind {
    In,
    Out,
    Append,
    DupIn,
    DupOut,
}

impl RedirectKind {
    pub fn text(self) -> &'static str {
        match self {
            RedirectKind::In => "<",
            RedirectKind::Out => ">",
            RedirectKind::Append => ">>",
            RedirectKind::DupIn => "<&",
            RedirectKind::DupOut => ">&",
        }
    }
}

impl Op {
    /// The operator as typed, for error messages.
    pub fn text(self) -> &'static str {
        match self {
            Op::Pipe => "|",
            Op::AndIf => "&&",
            Op::OrIf => "||",
            Op::Amp => "&",
            Op::Semi => ";",
            Op::Redirect { kind, .. } => kind.text(),
        }
    }
}

impl Token {
    /// The token as typed, for error messages about a token in the wrong place.
    pub fn text(&self) -> &'static str {
        match self {
            Token::Word(_) => "word",
            Token::Op(op) => op.text(),
            Token::Newline => "newline",
        }
    }
}

/// Splits `line` into tokens.
pub(crate) fn lex(line: &str) -> Result<Vec<Token>, Error> {
    if line.contains('\0') {
        return Err(Error::NulByte);
    }
    let mut lexer = Lexer {
        chars: line.chars().peekable(),
        tokens: Vec::new(),
        word: WordBuilder::default(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    chars: Peekable<Chars<'a>>,
    tokens: Vec<Token>,
    /// The word being built; emitted at the next blank or operator.
    word: WordBuilder,
}

/// Accumulates one word.
#[derive(Default)]
struct WordBuilder {
    parts: Vec<WordPart>,
    /// Something was typed for this word, even if it adds no text (`''`).
    started: bool,
    quoted: bool,
    /// Set (to the unquoted prefix length) at the first quote, escape or expansion.
    plain_prefix: Option<usize>,
}

impl WordBuilder {
    fn push(&mut self, c: char, quoted: bool) {
        if quoted {
            self.mark_quoted();
        }
        self.started = true;
        match self.parts.last_mut() {
            Some(WordPart::Literal(text)) => text.push(c),
            _ => self.parts.push(WordPart::Literal(String::from(c))),
        }
    }

    fn push_expansion(&mut self, part: WordPart) {
        self.end_plain_prefix();
        self.started = true;
        self.parts.push(part);
    }

    /// A quote or escape was seen.
    fn mark_quoted(&mut self) {
        self.end_plain_prefix();
        self.started = true;
        self.quoted = true;
    }

    fn end_plain_prefix(&mut self) {
        if self.plain_prefix.is_none() {
            self.plain_prefix = Some(self.first_literal_len());
        }
    }

    fn first_literal_len(&self) -> usize {
        match self.parts.first() {
            Some(WordPart::Literal(text)) => text.len(),
            _ => 0,
        }
    }

    /// The word's text if it is nothing but unquoted ASCII digits: then a directly following
    /// `<` or `>` takes it as the descriptor number (`2>`), as POSIX's IO_NUMBER.
    fn fd_digits(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [WordPart::Literal(text)]
                if self.plain_prefix.is_none() && text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(text)
            }
            _ => None,
        }
    }

    fn take(&mut self) -> Option<LexWord> {
        let builder = core::mem::take(self);
        if !builder.started {
            return None;
        }
        let plain_prefix = builder
            .plain_prefix
            .unwrap_or_else(|| builder.first_literal_len());
        Some(LexWord {
            word: Word {
                parts: builder.parts,
                quoted: builder.quoted,
            },
            plain_prefix,
        })
    }
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), Error> {
        while let Some(c) = self.chars.next() {
            match c {
                ' ' | '\t' | '\r' => self.end_word(),
                '\n' => {
                    self.end_word();
                    self.tokens.push(Token::Newline);
                }
                '#' if !self.word.started => while self.chars.next_if(|&c| c != '\n').is_some() {},
                '|' => {
                    let op = if self.eat('|') { Op::OrIf } else { Op::Pipe };
                    self.push_op(op);
                }
                '&' => {
                    let op = if self.eat('&') { Op::AndIf } else { Op::Amp };
                    self.push_op(op);
                }
                ';' => self.push_op(Op::Semi),
                '<' | '>' => self.redirect(c)?,
                '\'' => self.single_quoted()?,
                '"' => self.double_quoted()?,
                '\\' => match self.chars.next() {
                    None => return Err(Error::TrailingBackslash),
                    Some('\n') => {}
                    Some(c) => self.word.push(c, true),
                },
                '$' => self.dollar(false)?,
                c => self.word.push(c, false),
            }
        }
        self.end_word();
        Ok(())
    }

    fn eat(&mut self, c: char) -> bool {
        self.chars.next_if_eq(&c).is_some()
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            self.tokens.push(Token::Word(word));
        }
    }

    fn push_op(&mut self, op: Op) {
        self.end_word();
        self.tokens.push(Token::Op(op));
    }

    /// `<` or `>` has been read.
    fn redirect(&mut self, first: char) -> Result<(), Error> {
        let fd = match self.word.fd_digits() {
            Some(digits) => {
                let fd = digits
                    .parse::<u32>()
                    .map_err(|_| Error::FdOutOfRange(String::from(digits)))?;
                self.word = WordBuilder::default();
                Some(fd)
            }
            None => {
                self.end_word();
                None
            }
        };
        let kind = match first {
            '<' if self.eat('&') => RedirectKind::DupIn,
            '<' => RedirectKind::In,
            _ if self.eat('>') => RedirectKind::Append,
            _ if self.eat('&') => RedirectKind::DupOut,
            _ => RedirectKind::Out,
        };
        self.tokens.push(Token::Op(Op::Redirect { fd, kind }));
        Ok(())
    }

    /// The opening `'` has been read.
    fn single_quoted(&mut self) -> Result<(), Error> {
        self.word.mark_quoted();
        loop {
            match self.chars.next() {
                None => return Err(Error::UnterminatedSingleQuote),
                Some('\'') => return Ok(()),
                Some(c) => self.word.push(c, true),
            }
        }
    }

    /// The opening `"` has been read.
    fn double_quoted(&mut self) -> Result<(), Error> {
        self.word.mark_quoted();
        loop {
            match self.chars.next() {
                None => return Err(Error::UnterminatedDoubleQuote),
                Some('"') => return Ok(()),
                Some('$') => self.dollar(true)?,
                Some('\\') => match self.chars.next() {
                    None => return Err(Error::UnterminatedDoubleQuote),
                    Some('\n') => {}
                    Some(c @ ('"' | '\\' | '$' | '`')) => self.word.push(c, true),
                    Some(c) => {
                        self.word.push('\\', true);
                        self.word.push(c, true);
                    }
                },
                Some(c) => self.word.push(c, true),
            }
        }
    }

    /// `$` has been read. Anything other than a name, `?` or `{` after it leaves the `$`
    /// literal (`$`, `a$`, `$1`, `$$`, `$-` are plain text: Clew's shell has no positional or
    /// other special parameters).
    fn dollar(&mut self, in_quotes: bool) -> Result<(), Error> {
        if self.eat('?') {
            self.word.push_expansion(WordPart::Status);
        } else if self.eat('{') {
            let mut inner = String::new();
            loop {
                match self.chars.next() {
                    None => return Err(Error::UnterminatedBrace),
                    Some('}') => break,
                    Some(c) => inner.push(c),
                }
            }
            let part = if inner == "?" {
                WordPart::Status
            } else if is_name(&inner) {
                WordPart::Var(inner)
            } else {
                return Err(Error::BadSubstitution(inner));
            };
            self.word.push_expansion(part);
        } else if self.chars.peek().is_some_and(|&c| is_name_start(c)) {
            let mut name = String::new();
            while let Some(c) = self.chars.next_if(|&c| is_name_char(c)) {
                name.push(c);
            }
            self.word.push_expansion(WordPart::Var(name));
        } else {
            self.word.push('$', in_quotes);
        }
        Ok(())
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A POSIX variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}
