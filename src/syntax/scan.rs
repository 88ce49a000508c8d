//! The lexical pre-scan that runs before the recursive parser (reference §limits-behaviour): the
//! size limit, the nesting-depth limit and unclosed block comments, in one linear pass that never
//! recurses, so that no input can exhaust the parser's stack.
//!
//! Nesting counts every open bracket `( [ {` plus, per bracket level, the chains the parser
//! handles by recursion: runs of prefix operators and right-associative `**`/`^` (reset by any
//! other binary operator), and ternary `?`, `if` and `let` (reset by `,`; `;` keeps only the
//! `let`s, whose bodies nest). In a mapping file the braces of `user`/`group`/`schema` are not
//! counted and each new entry starts from zero.

use crate::diagnostic::{Diagnostic, Span};
use crate::limits::Limits;

/// What the text is: a whole mapping file or one `scimap expr` expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    File,
    Expression,
}

/// Checks the size and nesting limits and that every `/*` is closed.
pub fn check(source: &str, mode: Mode, limits: &Limits) -> Result<(), Box<Diagnostic>> {
    if source.len() > limits.source_bytes {
        return Err(Box::new(
            Diagnostic::error(
                "scimap::limit",
                Span::new(0, 0),
                format!(
                    "the mapping is larger than the limit `source-bytes` ({} bytes)",
                    limits.source_bytes
                ),
            )
            .with_help("split the mapping, or raise the limit with `--limit source-bytes=N`"),
        ));
    }
    Scanner::new(source, mode, limits.nesting()).run()
}

/// The kind of the last significant token, which decides how the next one reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Start of the text, an opening bracket or an operator: a `-` here is a prefix.
    Operator,
    /// A value ended: a `-` here is binary, a line break ends an entry.
    Operand,
    /// `.` or `?.`: the next word is a property name.
    Dot,
    /// The `=` of an entry or a `let`.
    Assign,
}

#[derive(Default)]
struct Frame {
    /// The braces of a section or schema, and the root: they add no depth of their own.
    structural: bool,
    /// Ternaries, `if`s and `let`s open at this level.
    nest: usize,
    /// `let`s among `nest`: a `;` ends the others but not these.
    lets: usize,
    /// Prefix operators and `**`/`^` in the current operand chain.
    run: usize,
}

struct Scanner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    mode: Mode,
    limit: usize,
    frames: Vec<Frame>,
    /// The current nesting: open non-structural frames plus every frame's chains.
    depth: usize,
    last: Last,
    /// Nothing significant yet on this line.
    line_start: bool,
    /// A line break after a complete value at entry level: the next token starts a new entry
    /// unless it is one that may continue the expression (`:`, `;`, `{`, `else`).
    pending_reset: bool,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str, mode: Mode, limit: usize) -> Self {
        Scanner {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            mode,
            limit,
            frames: vec![Frame {
                structural: true,
                ..Frame::default()
            }],
            depth: 0,
            last: Last::Operator,
            line_start: true,
            pending_reset: false,
        }
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    fn too_deep(&self, start: usize, end: usize) -> Box<Diagnostic> {
        Box::new(
            Diagnostic::error(
                "scimap::limit",
                Span::new(start, end),
                format!("nesting is deeper than the limit `depth` ({})", self.limit),
            )
            .with_label("too deeply nested")
            .with_help("simplify the expression, or raise the limit with `--limit depth=N`"),
        )
    }

    /// Adds one level of chain (`nest` or `run`) to the innermost frame.
    fn chain(&mut self, start: usize, nest: bool, is_let: bool) -> Result<(), Box<Diagnostic>> {
        if let Some(frame) = self.frames.last_mut() {
            if nest {
                frame.nest += 1;
                if is_let {
                    frame.lets += 1;
                }
            } else {
                frame.run += 1;
            }
            self.depth += 1;
        }
        if self.depth > self.limit {
            return Err(self.too_deep(start, self.pos.max(start + 1)));
        }
        Ok(())
    }

    /// Ends the prefix/power run of the innermost frame (a binary operator was seen).
    fn end_run(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            self.depth -= frame.run;
            frame.run = 0;
        }
    }

    /// Ends the chains of the innermost frame, keeping its `let`s when `keep_lets`.
    fn end_chains(&mut self, keep_lets: bool) {
        if let Some(frame) = self.frames.last_mut() {
            let kept = if keep_lets { frame.lets } else { 0 };
            self.depth -= frame.run + frame.nest - kept;
            frame.run = 0;
            frame.nest = kept;
            frame.lets = kept;
        }
    }

    fn at_entry_level(&self) -> bool {
        self.mode == Mode::File && self.frames.last().is_some_and(|f| f.structural)
    }

    fn run(mut self) -> Result<(), Box<Diagnostic>> {
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let c = self.bytes[start];
            match c {
                b'\n' => {
                    self.pos += 1;
                    if self.at_entry_level() && self.last == Last::Operand {
                        self.pending_reset = true;
                    }
                    if self.at_entry_level() {
                        self.line_start = true;
                    }
                    continue;
                }
                b' ' | b'\t' | b'\r' => {
                    self.pos += 1;
                    continue;
                }
                b'/' if self.peek(1) == b'/' => {
                    self.skip_line();
                    continue;
                }
                b'/' if self.peek(1) == b'*' => {
                    match self.src[start + 2..].find("*/") {
                        Some(i) => self.pos = start + 2 + i + 2,
                        None => {
                            return Err(Box::new(
                                Diagnostic::error(
                                    "scimap::syntax",
                                    Span::new(start, start + 2),
                                    "this `/*` comment is never closed",
                                )
                                .with_help("close it with `*/`"),
                            ))
                        }
                    }
                    continue;
                }
                _ => {}
            }
            if self.pending_reset {
                self.pending_reset = false;
                let continues = matches!(c, b':' | b';' | b'{') || self.word_at(start) == "else";
                if !continues {
                    self.end_chains(false);
                }
            }
            let line_start = std::mem::replace(&mut self.line_start, false);
            self.token(start, c, line_start)?;
        }
        Ok(())
    }

    fn token(&mut self, start: usize, c: u8, line_start: bool) -> Result<(), Box<Diagnostic>> {
        match c {
            b'#' if line_start && self.at_entry_level() => {
                // A `#` line where an entry should start: the parser reports it.
                self.skip_line();
                self.last = Last::Operand;
            }
            b'"' | b'\'' => {
                if !self.skip_string(c) {
                    return Err(Box::new(Diagnostic::error(
                        "scimap::syntax",
                        Span::new(start, self.pos),
                        "string literal not terminated",
                    )
                    .with_help("close it with the same quote on the same line; a `…` raw string may span lines")));
                }
                self.last = Last::Operand;
            }
            b'`' => {
                if !self.skip_raw_string() {
                    return Err(Box::new(
                        Diagnostic::error(
                            "scimap::syntax",
                            Span::new(start, start + 1),
                            "raw string literal not terminated",
                        )
                        .with_help("close it with a backtick"),
                    ));
                }
                self.last = Last::Operand;
            }
            b'$' if self.mode == Mode::File
                && self.last == Last::Assign
                && self.starts_direct() =>
            {
                self.skip_direct();
                self.last = Last::Operand;
            }
            b'(' | b'[' | b'{' => {
                self.pos += 1;
                let structural = self.mode == Mode::File && c == b'{' && self.frames.len() == 1;
                self.frames.push(Frame {
                    structural,
                    ..Frame::default()
                });
                if !structural {
                    self.depth += 1;
                    if self.depth > self.limit {
                        return Err(self.too_deep(start, start + 1));
                    }
                }
                self.last = Last::Operator;
            }
            b')' | b']' | b'}' => {
                self.pos += 1;
                if self.frames.len() > 1 {
                    self.end_chains(false);
                    if let Some(frame) = self.frames.pop() {
                        if !frame.structural {
                            self.depth -= 1;
                        }
                    }
                }
                self.last = Last::Operand;
            }
            b',' => {
                self.pos += 1;
                self.end_chains(false);
                self.last = Last::Operator;
            }
            b';' => {
                self.pos += 1;
                self.end_chains(true);
                self.last = Last::Operator;
            }
            b'?' => match self.peek(1) {
                b'?' => self.binary(2),
                b'.' if !self.peek(2).is_ascii_digit() => {
                    self.pos += 2;
                    self.last = Last::Dot;
                }
                _ => {
                    self.pos += 1;
                    self.end_run();
                    self.chain(start, true, false)?;
                    self.last = Last::Operator;
                }
            },
            b'*' if self.peek(1) == b'*' => {
                self.pos += 2;
                self.chain(start, false, false)?;
                self.last = Last::Operator;
            }
            b'^' => {
                self.pos += 1;
                self.chain(start, false, false)?;
                self.last = Last::Operator;
            }
            b'-' | b'+' | b'!'
                if self.last != Last::Operand && !(c == b'!' && self.peek(1) == b'=') =>
            {
                self.pos += 1;
                self.chain(start, false, false)?;
                self.last = Last::Operator;
            }
            b'.' if self.peek(1) == b'.' => self.binary(2),
            b'.' if self.peek(1).is_ascii_digit() && self.last != Last::Operand => {
                self.skip_number();
                self.last = Last::Operand;
            }
            b'.' => {
                self.pos += 1;
                self.last = Last::Dot;
            }
            b'=' if self.peek(1) != b'=' => {
                self.pos += 1;
                self.end_run();
                self.last = Last::Assign;
            }
            b'0'..=b'9' => {
                self.skip_number();
                self.last = Last::Operand;
            }
            b':' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b'%' | b'*' | b'/' | b'-' | b'+' => {
                let len = if matches!(self.peek(1), b'=' | b'&' | b'|' | b':') {
                    2
                } else {
                    1
                };
                self.binary(len);
            }
            _ => self.word_or_other(start)?,
        }
        Ok(())
    }

    fn binary(&mut self, len: usize) {
        self.pos += len;
        self.end_run();
        self.last = Last::Operator;
    }

    fn word_at(&self, start: usize) -> &'a str {
        let rest = &self.src[start..];
        let end = rest
            .char_indices()
            .find(|&(_, ch)| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
            .map_or(rest.len(), |(i, _)| i);
        &rest[..end]
    }

    fn word_or_other(&mut self, start: usize) -> Result<(), Box<Diagnostic>> {
        let word = self.word_at(start);
        if word.is_empty() {
            // Any other character: one step, the parser judges it.
            let len = self.src[start..].chars().next().map_or(1, char::len_utf8);
            self.pos += len;
            self.last = Last::Operator;
            return Ok(());
        }
        self.pos += word.len();
        if self.last == Last::Dot {
            self.last = Last::Operand;
            return Ok(());
        }
        match word {
            "not" if self.last != Last::Operand => {
                self.chain(start, false, false)?;
                self.last = Last::Operator;
            }
            "not" | "and" | "or" | "in" | "matches" | "contains" | "startsWith" | "endsWith" => {
                self.end_run();
                self.last = Last::Operator;
            }
            "let" | "if" => {
                self.end_run();
                self.chain(start, true, word == "let")?;
                self.last = Last::Operator;
            }
            "else" => self.last = Last::Operator,
            "const" if self.last == Last::Assign => self.last = Last::Operator,
            _ => self.last = Last::Operand,
        }
        Ok(())
    }

    fn skip_line(&mut self) {
        self.pos = self.src[self.pos..]
            .find('\n')
            .map_or(self.bytes.len(), |i| self.pos + i);
    }

    /// Skips a quoted string; false when the line ends before the closing quote.
    fn skip_string(&mut self, quote: u8) -> bool {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'\\' if !matches!(self.peek(1), b'\n' | b'\r') => self.pos += 2,
                b'\n' | b'\r' => return false,
                ch if ch == quote => {
                    self.pos += 1;
                    return true;
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.bytes.len();
        false
    }

    /// Skips a backtick string; false when the text ends before the closing backtick.
    fn skip_raw_string(&mut self) -> bool {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'`' {
                if self.peek(1) == b'`' {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return true;
            }
            self.pos += 1;
        }
        false
    }

    fn skip_number(&mut self) {
        let hex = self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X');
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let ch = self.bytes[self.pos];
            let prev = self.bytes[self.pos - 1];
            let takes = ch.is_ascii_alphanumeric()
                || ch == b'_'
                || (ch == b'.' && self.peek(1) != b'.' && prev != b'.')
                || (matches!(ch, b'+' | b'-') && matches!(prev, b'e' | b'E') && !hex);
            if !takes {
                break;
            }
            self.pos += 1;
        }
    }

    /// A `$` right after an entry's `=` that starts a JSON Path (reference §sources).
    fn starts_direct(&self) -> bool {
        matches!(self.peek(1), b'.' | b'[' | b' ' | b'\t' | b'\r' | b'\n' | 0)
            || (self.peek(1) == b'/' && matches!(self.peek(2), b'/' | b'*'))
    }

    /// Skips a JSON Path: to a comment outside a path string, or to the end of the line.
    fn skip_direct(&mut self) {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'\n' => return,
                b'/' if matches!(self.peek(1), b'/' | b'*') => return,
                q @ (b'\'' | b'"') => {
                    self.skip_string(q);
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(src: &str, mode: Mode, limit: usize) -> Option<Span> {
        let limits = Limits {
            depth: limit,
            ..Limits::default()
        };
        check(src, mode, &limits).err().map(|d| {
            assert_eq!(d.code, "scimap::limit");
            d.span
        })
    }

    #[test]
    fn brackets_count_up_to_the_limit() {
        assert_eq!(depth_error("((((1))))", Mode::Expression, 4), None);
        assert_eq!(
            depth_error("(((((1)))))", Mode::Expression, 4),
            Some(Span::new(4, 5))
        );
        assert_eq!(depth_error("[{(1)}]", Mode::Expression, 3), None);
        assert_eq!(depth_error("(1) + (2) + ((3))", Mode::Expression, 2), None);
    }

    #[test]
    fn prefix_runs_and_power_chains_count() {
        assert_eq!(depth_error("- - - x", Mode::Expression, 3), None);
        assert_eq!(
            depth_error("- - - - x", Mode::Expression, 3),
            Some(Span::new(6, 7))
        );
        assert_eq!(
            depth_error("!!!!x", Mode::Expression, 3),
            Some(Span::new(3, 4))
        );
        assert_eq!(
            depth_error("not not not not x", Mode::Expression, 3),
            Some(Span::new(12, 15))
        );
        assert_eq!(
            depth_error("a ** b ** c ** d ** e", Mode::Expression, 3),
            Some(Span::new(17, 19))
        );
        assert_eq!(depth_error("a ^ b ^ c", Mode::Expression, 3), None);
        // Binary minus and other binary operators end a run.
        assert_eq!(
            depth_error("a - b - c - d - e - f", Mode::Expression, 1),
            None
        );
        assert_eq!(depth_error("-a * -b * -c * -d", Mode::Expression, 1), None);
        assert_eq!(depth_error("a not in b and c", Mode::Expression, 0), None);
    }

    #[test]
    fn conditional_chains_count_and_reset() {
        assert_eq!(
            depth_error("a ? b : c ? d : e ? f : g", Mode::Expression, 2),
            Some(Span::new(18, 19))
        );
        assert_eq!(
            depth_error("f(a ? b : c, d ? e : f)", Mode::Expression, 2),
            None
        );
        assert_eq!(
            depth_error("let a = 1; let b = 2; let c = 3; a", Mode::Expression, 2),
            Some(Span::new(22, 25))
        );
        assert_eq!(
            depth_error("a ? b : c; d ? e : f; g ? h : i", Mode::Expression, 1),
            None
        );
        // Each `if` and each block counts: the third block is level 4.
        let ifs = "if a {1} else if b {2} else if c {3} else {4}";
        assert_eq!(
            depth_error(ifs, Mode::Expression, 3),
            Some(Span::new(33, 34))
        );
    }

    #[test]
    fn file_entries_start_from_zero_and_section_braces_are_free() {
        let file = "user {\n  a = x ? 1 : 2\n  b = y ? 1 : 2\n  c = (z)\n}\n";
        assert_eq!(depth_error(file, Mode::File, 1), None);
        // A continued line keeps counting.
        let continued = "user {\n  a = x ? 1 :\n  y ? 2 :\n  z ? 3 : 4\n}\n";
        assert_eq!(
            depth_error(continued, Mode::File, 2),
            Some(Span::new(35, 36))
        );
        // `else` on the next line continues the `if`.
        let chain = "user {\n  a = if a {1}\n else if b {2}\n else if c {3} else {4}\n}";
        assert!(depth_error(chain, Mode::File, 2).is_some());
    }

    #[test]
    fn strings_comments_and_paths_are_skipped() {
        assert_eq!(
            depth_error(
                "\"((((\" + '((' + `((\n(` // ((((\n + 1 /* (((( */",
                Mode::Expression,
                0
            ),
            None
        );
        let file = "user {\n  a = $.x[?(@.y == '(((')] // ((((\n  # ((((\n}";
        assert_eq!(depth_error(file, Mode::File, 0), None);
    }

    #[test]
    fn a_hundred_thousand_parentheses_fail_fast() {
        let src = "(".repeat(100_000) + "1" + &")".repeat(100_000);
        assert_eq!(
            depth_error(&src, Mode::Expression, 128),
            Some(Span::new(128, 129))
        );
    }

    #[test]
    fn unterminated_strings() {
        let err = check("a + \"abc\nd\"", Mode::Expression, &Limits::default()).unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.span),
            ("string literal not terminated", Span::new(4, 8))
        );
        let err = check("'a\\'", Mode::Expression, &Limits::default()).unwrap_err();
        assert_eq!(err.span, Span::new(0, 4));
        let err = check("1 + `abc", Mode::Expression, &Limits::default()).unwrap_err();
        assert_eq!(
            (err.message.as_str(), err.span),
            ("raw string literal not terminated", Span::new(4, 5))
        );
        // A quote inside a JSON Path, a comment or a `#` line is not a string.
        let file = "user {\n  a = $['it''s'] // it's\n  # it's\n}";
        assert!(check(file, Mode::File, &Limits::default()).is_ok());
    }

    #[test]
    fn unclosed_block_comment() {
        let err = check("1 /* x", Mode::Expression, &Limits::default()).unwrap_err();
        assert_eq!((err.code, err.span), ("scimap::syntax", Span::new(2, 4)));
    }

    #[test]
    fn source_size_limit() {
        let limits = Limits {
            source_bytes: 4,
            ..Limits::default()
        };
        let err = check("12345", Mode::Expression, &limits).unwrap_err();
        assert_eq!(err.code, "scimap::limit");
        assert!(err.message.contains("`source-bytes` (4 bytes)"));
    }
}
