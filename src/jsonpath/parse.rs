//! The RFC 9535 grammar, as a recursive descent with one token of look-ahead.
//!
//! Every byte is read a bounded number of times (a run of blanks is looked past at most a
//! few times to see which token follows), so parsing is linear in the path's length. The
//! recursion goes through a filter, a parenthesis, a `!` or a function call at every level,
//! and each of those counts against `max_depth`. Well-typedness (RFC 9535 §2.4.3) is
//! checked while parsing: a comparison takes values, a test takes a query or a logical
//! function, and each function's arguments have their declared types.

use super::{
    iregexp, Comparison, Logical, Op, ParseError, Pattern, Query, RegexTest, Segment, Selector,
    Value,
};
use crate::record::Doc;
use std::borrow::Cow;

/// Errors are boxed: the result of every parsing function stays small, and so does the
/// stack frame of each nesting level.
type PResult<T> = Result<T, Box<ParseError>>;

/// Integers of index and slice selectors: the I-JSON range, ±(2^53 − 1).
const MAX_INT: i64 = (1 << 53) - 1;

pub fn parse(text: &str, max_depth: usize, regex_bytes: usize) -> PResult<Query> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
        max_depth,
        regex_bytes,
    };
    if !text.starts_with('$') {
        let help = if text.starts_with('@') {
            "`@` is the current node inside a filter; a Direct source starts at the root: `$.name`"
        } else {
            "a Direct source is an RFC 9535 JSON Path such as `$.addresses[0].locality`"
        };
        return Err(p.error(0, "a JSON Path starts with `$`").help(help));
    }
    p.pos = 1;
    let segments = p.segments()?;
    if p.pos < text.len() {
        return Err(p.trailing());
    }
    Ok(Query {
        relative: false,
        segments,
    })
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    max_depth: usize,
    regex_bytes: usize,
}

/// A parsed operand of a filter before it is known to be a test or a value.
struct Term {
    kind: Kind,
    at: usize,
    end: usize,
}

enum Kind {
    /// A comparison, a logical operator, `match` or `search`.
    Logical(Logical),
    Literal(Doc<'static>),
    Query(Query),
    /// `length`, `count` or `value`, named for messages.
    Function(Value, &'static str),
}

impl ParseError {
    fn help(mut self: Box<Self>, help: impl Into<String>) -> Box<Self> {
        self.help = Some(help.into());
        self
    }

    fn opened(mut self: Box<Self>, at: usize, what: &'static str) -> Box<Self> {
        self.opened = Some((at, what));
        self
    }
}

/// RFC 9535 blank: space, tab, line feed, carriage return.
fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn name_char(c: char) -> bool {
    name_first(c) || c.is_ascii_digit()
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    /// The position after the blanks that start at `from`.
    fn past_blanks(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut at = from;
        while at < bytes.len() && blank(bytes[at]) {
            at += 1;
        }
        at
    }

    fn skip_blanks(&mut self) {
        self.pos = self.past_blanks(self.pos);
    }

    /// Consumes `token` after optional blanks (and the blanks after it); otherwise consumes
    /// nothing.
    fn eat_after_blanks(&mut self, token: &str) -> bool {
        let at = self.past_blanks(self.pos);
        if self.text[at..].starts_with(token) {
            self.pos = self.past_blanks(at + token.len());
            true
        } else {
            false
        }
    }

    fn error(&self, at: usize, message: impl Into<String>) -> Box<ParseError> {
        let end = self.text[at..]
            .chars()
            .next()
            .map_or(at, |c| at + c.len_utf8());
        self.error_span(at, end, message)
    }

    fn error_span(&self, at: usize, end: usize, message: impl Into<String>) -> Box<ParseError> {
        Box::new(ParseError {
            at,
            end,
            message: message.into(),
            help: None,
            opened: None,
            limit: false,
        })
    }

    /// An error at the current position that names what was found.
    fn unexpected(&self, expected: &str) -> Box<ParseError> {
        self.unexpected_at(self.pos, expected)
    }

    fn unexpected_at(&self, at: usize, expected: &str) -> Box<ParseError> {
        match self.text[at..].chars().next() {
            None => self.error(at, format!("the path ends where {expected} was expected")),
            Some(c) => self.error(
                at,
                format!("unexpected {}: expected {expected}", describe(c)),
            ),
        }
    }

    /// One more level of nesting (filter, parenthesis, `!`, function call) opened at `at`.
    fn enter(&mut self, at: usize) -> PResult<()> {
        if self.depth >= self.max_depth {
            let mut e = self.error(
                at,
                format!(
                    "the path nests deeper than the limit `depth` ({})",
                    self.max_depth
                ),
            );
            e.limit = true;
            return Err(e.help("simplify the filter, or raise the limit with `--limit depth=N`"));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Parses with `f`; an error at the end of the path points back at the innermost
    /// construct left open, `what`, opened at `open`.
    fn within<T>(
        &mut self,
        open: usize,
        what: &'static str,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        f(self).map_err(|e| {
            if e.opened.is_none() && e.at == self.text.len() {
                e.opened(open, what)
            } else {
                e
            }
        })
    }

    /// What follows a complete path: only the end is allowed.
    fn trailing(&self) -> Box<ParseError> {
        let at = self.past_blanks(self.pos);
        let rest = &self.text[at..];
        if rest.is_empty() {
            return self.error_span(self.pos, at, "a JSON Path cannot end with blanks");
        }
        const OPERATORS: [&str; 9] = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "="];
        if let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) {
            return self
                .error_span(
                    at,
                    at + op.len(),
                    format!(
                        "`{op}` is not allowed here: a Direct source is a path, not an expression"
                    ),
                )
                .help("use an expression entry such as `active = state == \"ACTIVATED\"`");
        }
        self.unexpected_at(at, "`.`, `..`, `[` or the end of the path")
    }

    /// `*(S segment)`: stops before blanks that are not followed by a segment.
    fn segments(&mut self) -> PResult<Vec<Segment>> {
        let mut segments = Vec::new();
        loop {
            let at = self.past_blanks(self.pos);
            match self.text.as_bytes().get(at) {
                Some(b'.' | b'[') => {
                    self.pos = at;
                    segments.push(self.segment()?);
                }
                _ => return Ok(segments),
            }
        }
    }

    /// A segment, at its `.` or `[`.
    fn segment(&mut self) -> PResult<Segment> {
        if self.peek() == Some(b'[') {
            return Ok(Segment {
                descendant: false,
                selectors: self.bracketed()?,
            });
        }
        let dot = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let selectors = match self.peek_char() {
                Some('[') => self.bracketed()?,
                Some('*') => {
                    self.pos += 1;
                    vec![Selector::Wildcard]
                }
                Some(c) if name_first(c) => vec![Selector::Name(self.shorthand()?)],
                _ => {
                    return Err(self
                        .unexpected("a name, `*` or `[` after `..`")
                        .opened(dot, "in this `..` segment"))
                }
            };
            return Ok(Segment {
                descendant: true,
                selectors,
            });
        }
        let selector = match self.peek_char() {
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some(c) if name_first(c) => Selector::Name(self.shorthand()?),
            Some(c) if c.is_ascii_digit() => {
                return Err(self
                    .error(self.pos, "a name after `.` cannot start with a digit")
                    .help("write `[0]` for an index, or `['0a']` for such a name"))
            }
            Some(c) if c.is_ascii() && blank(c as u8) => {
                return Err(self.error(self.pos, "no blank is allowed after `.`"))
            }
            Some('\'' | '"') => {
                return Err(self
                    .error(self.pos, "a quoted name goes in brackets")
                    .help("write `['name']`"))
            }
            _ => return Err(self.unexpected("a name or `*` after `.`")),
        };
        Ok(Segment {
            descendant: false,
            selectors: vec![selector],
        })
    }

    /// `member-name-shorthand`, at its first character.
    fn shorthand(&mut self) -> PResult<Box<str>> {
        let start = self.pos;
        let end = self
            .rest()
            .find(|c| !name_char(c))
            .map_or(self.text.len(), |n| self.pos + n);
        self.pos = end;
        if self.peek() == Some(b'-') {
            let whole_end = self.text[start..]
                .find(|c| !(name_char(c) || c == '-'))
                .map_or(self.text.len(), |n| start + n);
            let whole = &self.text[start..whole_end];
            return Err(self
                .error(end, "`-` cannot appear in a name after `.`")
                .help(format!(
                    "write the name in brackets: `['{}']`",
                    short(whole.trim_end_matches('-'))
                )));
        }
        Ok(self.text[start..end].into())
    }

    /// `[` S selector *(S "," S selector) S `]`, at its `[`.
    fn bracketed(&mut self) -> PResult<Vec<Selector>> {
        let open = self.pos;
        self.pos += 1;
        self.skip_blanks();
        let mut selectors = vec![self.within(open, "this `[` is not closed", Self::selector)?];
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_blanks();
                    selectors.push(self.within(open, "this `[` is not closed", Self::selector)?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(selectors);
                }
                _ => {
                    return Err(self
                        .unexpected("`,` or `]` to close the selector")
                        .opened(open, "this `[` is not closed"))
                }
            }
        }
    }

    fn selector(&mut self) -> PResult<Selector> {
        match self.peek_char() {
            Some('\'' | '"') => Ok(Selector::Name(self.string()?.into())),
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('?') => {
                let at = self.pos;
                self.pos += 1;
                self.enter(at)?;
                self.skip_blanks();
                if self.pos == self.text.len() {
                    return Err(self
                        .error(at, "the path ends after `?`: a filter needs a test")
                        .help("e.g. `$.emails[?@.type == 'work'].value`"));
                }
                let term = self.logical_or()?;
                let test = self.test(term)?;
                self.leave();
                Ok(Selector::Filter(Box::new(test)))
            }
            Some('-' | '0'..='9' | ':') => self.index_or_slice(),
            Some(c) if name_first(c) => Err(self
                .unexpected("a selector")
                .help("a name in brackets is quoted: `['name']`")),
            _ => Err(self
                .unexpected("a selector: a quoted name, `*`, an index, a slice or a `?` filter")),
        }
    }

    /// `int` or `[start S] ":" S [end S] [":" [S step]]`.
    fn index_or_slice(&mut self) -> PResult<Selector> {
        let start = match self.peek() {
            Some(b':') => None,
            _ => Some(self.int()?),
        };
        let colon = self.past_blanks(self.pos);
        if self.text.as_bytes().get(colon) != Some(&b':') {
            // `start` is set: a selector that is not a slice started with an integer.
            return Ok(Selector::Index(start.unwrap_or_default()));
        }
        self.pos = colon + 1;
        self.skip_blanks();
        let end = self.optional_int()?;
        let colon = self.past_blanks(self.pos);
        let step = if self.text.as_bytes().get(colon) == Some(&b':') {
            self.pos = colon + 1;
            self.skip_blanks();
            self.optional_int()?
        } else {
            None
        };
        Ok(Selector::Slice { start, end, step })
    }

    fn optional_int(&mut self) -> PResult<Option<i64>> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.int().map(Some),
            _ => Ok(None),
        }
    }

    /// `"0" / (["-"] DIGIT1 *DIGIT)` within ±(2^53 − 1).
    fn int(&mut self) -> PResult<i64> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits = self.pos;
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let text = &self.text[digits..self.pos];
        if text.is_empty() {
            return Err(self.unexpected("a digit"));
        }
        if text.starts_with('0') && (negative || text.len() > 1) {
            return Err(self
                .error_span(
                    start,
                    self.pos,
                    "an index has no leading zero and is not `-0`",
                )
                .help("write `0`, `1`, `-1`…"));
        }
        match text.parse::<i64>() {
            Ok(v) if v <= MAX_INT => Ok(if negative { -v } else { v }),
            _ => Err(self.error_span(
                start,
                self.pos,
                format!("an index or slice bound must lie within ±{MAX_INT}"),
            )),
        }
    }

    /// A string literal in either quote style, at its opening quote; returns its value.
    fn string(&mut self) -> PResult<String> {
        let open = self.pos;
        let Some(quote) = self.peek_char() else {
            return Err(self.unexpected("a string"));
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character at once.
            let rest = self.rest();
            let run = rest
                .find(|c: char| c == quote || c == '\\' || (c as u32) < 0x20)
                .unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            self.pos += run;
            match self.peek_char() {
                None => {
                    return Err(self
                        .error(self.pos, format!("unclosed string: expected `{quote}`"))
                        .opened(open, "this string is not closed"))
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => out.push(self.escape(quote)?),
                Some(c) => {
                    return Err(self
                        .error(
                            self.pos,
                            format!("a raw control character ({}) in a string", describe(c)),
                        )
                        .help(format!("escape it: `\\u{:04x}`", c as u32)))
                }
            }
        }
    }

    /// One escape sequence of a string, at its backslash.
    fn escape(&mut self, quote: char) -> PResult<char> {
        let at = self.pos;
        self.pos += 1;
        let Some(c) = self.peek_char() else {
            return Err(self.unexpected("an escape sequence"));
        };
        self.pos += c.len_utf8();
        Ok(match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '/' => '/',
            '\\' => '\\',
            c if c == quote => c,
            'u' => {
                let high = self.hex4(at)?;
                match high {
                    0xD800..=0xDBFF => {
                        if !self.rest().starts_with("\\u") {
                            return Err(self
                                .error_span(at, self.pos, "a high surrogate escape must be followed by a low one (`\\uDC00`–`\\uDFFF`)"));
                        }
                        self.pos += 2;
                        let low = self.hex4(at)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error_span(
                                at,
                                self.pos,
                                "a high surrogate escape must be followed by a low one (`\\uDC00`–`\\uDFFF`)",
                            ));
                        }
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error_span(
                            at,
                            self.pos,
                            "a low surrogate escape (`\\uDC00`–`\\uDFFF`) must follow a high one",
                        ))
                    }
                    code => char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
                }
            }
            '\'' | '"' => {
                return Err(self
                    .error_span(
                        at,
                        self.pos,
                        format!("`\\{c}` is not an escape inside {quote}…{quote}"),
                    )
                    .help(format!("write {c} without a backslash")))
            }
            c => {
                return Err(self
                    .error_span(at, self.pos, format!("`\\{c}` is not a JSON Path escape"))
                    .help("the escapes are \\b \\f \\n \\r \\t \\/ \\\\ \\uXXXX and the quote"))
            }
        })
    }

    /// Four hexadecimal digits of a `\u` escape that started at `at`.
    fn hex4(&mut self, at: usize) -> PResult<u32> {
        let digits = self
            .rest()
            .get(..4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            let end = self
                .rest()
                .char_indices()
                .nth(4)
                .map_or(self.text.len(), |(i, _)| self.pos + i);
            return Err(self.error_span(at, end, "`\\u` takes four hexadecimal digits"));
        };
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error(at, "bad `\\u` escape"))
    }

    /// `logical-or-expr`. A lone literal, query or function is returned as it is: the caller
    /// types it (a filter wants a test, a function argument its parameter's type).
    fn logical_or(&mut self) -> PResult<Term> {
        let first = self.logical_and()?;
        if !self.eat_after_blanks("||") {
            return Ok(first);
        }
        let at = first.at;
        let mut items = vec![self.test(first)?];
        loop {
            let next = self.logical_and()?;
            items.push(self.test(next)?);
            if !self.eat_after_blanks("||") {
                break;
            }
        }
        Ok(Term {
            kind: Kind::Logical(Logical::Or(items)),
            at,
            end: self.pos,
        })
    }

    fn logical_and(&mut self) -> PResult<Term> {
        let first = self.basic()?;
        if !self.eat_after_blanks("&&") {
            return Ok(first);
        }
        let at = first.at;
        let mut items = vec![self.test(first)?];
        loop {
            let next = self.basic()?;
            items.push(self.test(next)?);
            if !self.eat_after_blanks("&&") {
                break;
            }
        }
        Ok(Term {
            kind: Kind::Logical(Logical::And(items)),
            at,
            end: self.pos,
        })
    }

    /// `basic-expr`: a parenthesised expression, a negation, a comparison or a lone operand.
    fn basic(&mut self) -> PResult<Term> {
        let at = self.pos;
        match self.peek() {
            Some(b'!') => {
                self.pos += 1;
                self.enter(at)?;
                self.skip_blanks();
                let inner = if self.peek() == Some(b'(') {
                    self.paren()?
                } else {
                    let operand = self.operand()?;
                    if let Some((op, _)) = comparison(&self.text[self.past_blanks(self.pos)..]) {
                        return Err(self
                            .error(
                                self.past_blanks(self.pos),
                                format!(
                                    "`!` applies to the test before `{}`, not to the comparison",
                                    op_text(op)
                                ),
                            )
                            .help("put the comparison in parentheses: `!(@.a == 1)`"));
                    }
                    operand
                };
                let test = self.test(inner)?;
                self.leave();
                Ok(Term {
                    kind: Kind::Logical(Logical::Not(Box::new(test))),
                    at,
                    end: self.pos,
                })
            }
            Some(b'(') => self.paren(),
            _ => {
                let left = self.operand()?;
                let op_at = self.past_blanks(self.pos);
                let rest = &self.text[op_at..];
                let Some((op, len)) = comparison(rest) else {
                    if rest.starts_with('=') {
                        return Err(self
                            .error(op_at, "`=` is not a comparison")
                            .help("compare with `==`"));
                    }
                    return Ok(left);
                };
                self.pos = self.past_blanks(op_at + len);
                let right = self.operand()?;
                let (at, end) = (left.at, right.end);
                let left = self.value(left)?;
                let right = self.value(right)?;
                Ok(Term {
                    kind: Kind::Logical(Logical::Compare(Box::new(Comparison { left, op, right }))),
                    at,
                    end,
                })
            }
        }
    }

    /// `"(" S logical-expr S ")"`, at its `(`.
    fn paren(&mut self) -> PResult<Term> {
        let at = self.pos;
        self.enter(at)?;
        self.pos += 1;
        self.skip_blanks();
        let inner = self.within(at, "this `(` is not closed", Self::logical_or)?;
        let test = self.test(inner)?;
        self.skip_blanks();
        if self.peek() != Some(b')') {
            return Err(self
                .unexpected("`)` to close the parenthesis")
                .opened(at, "this `(` is not closed"));
        }
        self.pos += 1;
        self.leave();
        Ok(Term {
            kind: Kind::Logical(test),
            at,
            end: self.pos,
        })
    }

    /// A query, a literal or a function call.
    fn operand(&mut self) -> PResult<Term> {
        let at = self.pos;
        let kind = match self.peek_char() {
            Some(c @ ('@' | '$')) => {
                self.pos += 1;
                Kind::Query(Query {
                    relative: c == '@',
                    segments: self.segments()?,
                })
            }
            Some('\'' | '"') => Kind::Literal(Doc::Str(Cow::Owned(self.string()?))),
            Some('-' | '0'..='9') => Kind::Literal(self.number()?),
            Some('a'..='z') => {
                let len = self
                    .rest()
                    .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(self.rest().len());
                let name = &self.text[at..at + len];
                self.pos += len;
                if self.peek() == Some(b'(') {
                    return self.function(name, at);
                }
                match name {
                    "true" => Kind::Literal(Doc::Bool(true)),
                    "false" => Kind::Literal(Doc::Bool(false)),
                    "null" => Kind::Literal(Doc::Null),
                    _ if self.text[self.past_blanks(self.pos)..].starts_with('(') => {
                        return Err(self.error_span(
                            self.pos,
                            self.past_blanks(self.pos),
                            format!("no blank is allowed between `{}` and `(`", short(name)),
                        ))
                    }
                    _ => {
                        return Err(self
                            .error_span(at, self.pos, format!("unknown name `{}`", short(name)))
                            .help(format!("the current node is `@`: write `@.{}`", short(name))))
                    }
                }
            }
            _ => {
                return Err(self.unexpected(
                    "a query (`@…` or `$…`), a literal (string, number, true, false, null) or a function",
                ))
            }
        };
        Ok(Term {
            kind,
            at,
            end: self.pos,
        })
    }

    /// `number = (int / "-0") [ frac ] [ exp ]`.
    fn number(&mut self) -> PResult<Doc<'static>> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |p: &mut Parser<'_>| {
            let from = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 {
            return Err(self.unexpected("a digit"));
        }
        if bytes[int_start] == b'0' && n > 1 {
            return Err(self.error_span(start, self.pos, "a number has no leading zero"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if digits(self) == 0 {
                return Err(self.unexpected("a digit after `.`"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        let text = &self.text[start..self.pos];
        if integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Doc::Int(i));
            }
        }
        text.parse::<f64>()
            .map(Doc::Float)
            .map_err(|_| self.error_span(start, self.pos, "not a number"))
    }

    /// A function call, at its `(`; its arguments are typed by the function.
    fn function(&mut self, name: &str, at: usize) -> PResult<Term> {
        let open = self.pos;
        self.enter(at)?;
        self.pos += 1;
        self.skip_blanks();
        let mut args = Vec::new();
        if self.peek() != Some(b')') {
            loop {
                args.push(self.within(open, "this `(` is not closed", Self::logical_or)?);
                self.skip_blanks();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_blanks();
                    }
                    Some(b')') => break,
                    _ => {
                        return Err(self
                            .unexpected("`,` or `)` after a function argument")
                            .opened(open, "this `(` is not closed"))
                    }
                }
            }
        }
        self.pos += 1;
        self.leave();
        let end = self.pos;
        let arity = |n: usize, args: &[Term]| -> PResult<()> {
            if args.len() == n {
                return Ok(());
            }
            let what = if n == 1 {
                "one argument"
            } else {
                "two arguments"
            };
            Err(self.error_span(
                at,
                end,
                format!("`{name}` takes {what}, not {}", args.len()),
            ))
        };
        let kind = match name {
            "length" => {
                arity(1, &args)?;
                let arg = self.value(pop(&mut args))?;
                Kind::Function(Value::Length(Box::new(arg)), "length")
            }
            "count" => {
                arity(1, &args)?;
                Kind::Function(Value::Count(self.nodes(pop(&mut args), name)?), "count")
            }
            "value" => {
                arity(1, &args)?;
                Kind::Function(Value::Single(self.nodes(pop(&mut args), name)?), "value")
            }
            "match" | "search" => {
                arity(2, &args)?;
                let whole = name == "match";
                let pattern = pop(&mut args);
                let subject = self.value(pop(&mut args))?;
                let pattern = match pattern.kind {
                    Kind::Literal(Doc::Str(p)) => {
                        match iregexp::compile(&p, whole, self.regex_bytes, None) {
                            Ok(re) => Pattern::Compiled(re),
                            Err(e) => {
                                return Err(self.error_span(
                                    pattern.at,
                                    pattern.end,
                                    format!("invalid I-Regexp pattern: {e}"),
                                ))
                            }
                        }
                    }
                    Kind::Literal(_) => Pattern::Never,
                    _ => Pattern::Dynamic(self.value(pattern)?),
                };
                Kind::Logical(Logical::Regex(Box::new(RegexTest {
                    whole,
                    subject,
                    pattern,
                })))
            }
            _ => {
                return Err(self
                    .error_span(
                        at,
                        at + name.len(),
                        format!("unknown function `{}`", short(name)),
                    )
                    .help("the functions are `length`, `count`, `match`, `search` and `value`"))
            }
        };
        Ok(Term { kind, at, end })
    }

    /// A term where a test is expected (LogicalType): a logical expression, a query (true
    /// when it selects a node), `match` or `search`.
    fn test(&self, term: Term) -> PResult<Logical> {
        match term.kind {
            Kind::Logical(l) => Ok(l),
            Kind::Query(q) => Ok(Logical::Exists(q)),
            Kind::Literal(_) => Err(self
                .error_span(term.at, term.end, "a literal alone is not a test")
                .help("compare it with a value, e.g. `@.active == true`")),
            Kind::Function(_, name) => Err(self
                .error_span(
                    term.at,
                    term.end,
                    format!("`{name}(…)` gives a value, not a test"),
                )
                .help(format!("compare it, e.g. `{name}(@.x) > 0`"))),
        }
    }

    /// A term where a value is expected (ValueType): a literal, a singular query or
    /// `length`, `count`, `value`.
    fn value(&self, term: Term) -> PResult<Value> {
        match term.kind {
            Kind::Literal(d) => Ok(Value::Literal(d)),
            Kind::Query(q) if q.is_singular() => Ok(Value::Query(q)),
            Kind::Query(_) => Err(self
                .error_span(term.at, term.end, "this query can select several nodes, so it has no one value here")
                .help("a singular query has only names and indexes (`@.a[0]`); `value(…)` or `count(…)` turn other queries into values")),
            Kind::Function(v, _) => Ok(v),
            Kind::Logical(_) => Err(self
                .error_span(term.at, term.end, "a test (true or false) is not a value here")
                .help("comparisons, `match`, `search`, `!`, `&&` and `||` are tests: they cannot be compared or passed as values")),
        }
    }

    /// A term where a nodelist is expected (NodesType): a query.
    fn nodes(&self, term: Term, function: &str) -> PResult<Query> {
        match term.kind {
            Kind::Query(q) => Ok(q),
            _ => Err(self
                .error_span(term.at, term.end, format!("`{function}` takes a query"))
                .help(format!("e.g. `{function}(@.items[*])`"))),
        }
    }
}

/// Takes the last argument (the caller has checked the count).
fn pop(args: &mut Vec<Term>) -> Term {
    args.pop().unwrap_or(Term {
        kind: Kind::Literal(Doc::Null),
        at: 0,
        end: 0,
    })
}

/// The comparison operator `rest` starts with, and its length.
fn comparison(rest: &str) -> Option<(Op, usize)> {
    let b = rest.as_bytes();
    Some(match (b.first()?, b.get(1)) {
        (b'=', Some(b'=')) => (Op::Eq, 2),
        (b'!', Some(b'=')) => (Op::Ne, 2),
        (b'<', Some(b'=')) => (Op::Le, 2),
        (b'>', Some(b'=')) => (Op::Ge, 2),
        (b'<', _) => (Op::Lt, 1),
        (b'>', _) => (Op::Gt, 1),
        _ => return None,
    })
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "==",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

/// A name as messages quote it: at most 40 characters, so that a long one in a hostile path
/// does not make a long message.
fn short(name: &str) -> Cow<'_, str> {
    match name.char_indices().nth(40) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &name[..cut])),
        None => Cow::Borrowed(name),
    }
}

/// A character as messages show it: printable ones quoted, others by code point.
fn describe(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        match c {
            ' ' => "a blank".to_string(),
            '\t' => "a tab".to_string(),
            '\n' => "a line feed".to_string(),
            '\r' => "a carriage return".to_string(),
            c => format!("U+{:04X}", c as u32),
        }
    } else {
        format!("`{c}`")
    }
}
