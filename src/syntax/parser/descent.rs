//! The hand-written parser: `grammar/mapping.pest` read directly from the bytes, building the
//! syntax tree through the same `Lower` steps as the pest path, with no token queue.
//!
//! It follows the grammar's ordered choices, greedy repetitions and implicit blanks (line
//! breaks are blanks only inside brackets and after the tokens that need a continuation).
//! Where the grammar backtracks after a partial match (an entry whose target is named `let-x`,
//! an expression on a field named `const`), it rewinds too. Where the grammar would fail, it
//! gives up with [`Bail`] and the caller runs the pest parser instead, from the declaration or
//! item where it stopped, which reports the syntax error. So an accepted text always has the
//! grammar's tree, and every error message still comes from the grammar. Unicode classes (`LETTER`, `WHITE_SPACE`) are
//! pest's own tables.
//!
//! The pre-scan has bounded nesting before this runs: recursion here follows the same
//! brackets and chains as the grammar's.

use super::lower::{direct, Lower, Piece, PipeCall, E};
use crate::diagnostic::Diagnostic;
use crate::diagnostic::Span;
use crate::syntax::ast::{
    BinaryOp, Entry, Expr, ExprKind, File, FilterTerm, Item, LetDecl, ProfileDecl, SchemaDecl,
    Section, SectionKind, Selector, Setting, SettingValue, Source, Spanned, Target, UnaryOp,
};
use pest::unicode;
use std::collections::HashMap;

/// The text needs the pest parser: a syntax error, or a case decided there.
#[derive(Debug)]
pub struct Bail;

type R<T> = Result<T, Bail>;

/// Parses a mapping file, or gives up at a declaration or section item.
pub fn file(source: &str, limit: usize) -> Result<Result<File, Vec<Diagnostic>>, Resume> {
    let mut p = Descent::new(source, limit, 0);
    match p.file() {
        Ok(file) => Ok(p.lower.finish(Some(file))),
        Err(Bail) => Err(Resume {
            at: p.pos.max(p.far),
            ..p.resume
        }),
    }
}

/// The declaration or section item where the hand-written parser gave up. Everything before
/// it parsed, so the grammar reaches it in the same state from blank lines in their place:
/// the syntax error is found without parsing the text before again.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resume {
    /// The `user {` of the enclosing section: `(start, end)`.
    header: Option<(usize, usize)>,
    /// Where the declaration or item starts.
    pub start: usize,
    /// Where the parser gave up: at or near the syntax error.
    pub at: usize,
}

impl Resume {
    /// The source with every byte before `start` but the section header turned into a blank
    /// (line breaks kept, so offsets, lines and columns stay).
    pub fn blanked(&self, source: &str) -> Option<String> {
        let b = source.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let blank = |out: &mut Vec<u8>, range: std::ops::Range<usize>| {
            out.extend(
                b.get(range)?
                    .iter()
                    .map(|&c| if c == b'\n' { c } else { b' ' }),
            );
            Some(())
        };
        match self.header {
            Some((start, end)) => {
                blank(&mut out, 0..start)?;
                out.extend(b.get(start..end)?);
                blank(&mut out, end..self.start)?;
            }
            None => blank(&mut out, 0..self.start)?,
        }
        out.extend(b.get(self.start..)?);
        String::from_utf8(out).ok()
    }
}

/// Parses one `scimap expr` expression (line breaks are blanks everywhere), or gives up.
/// Parses a whole expression, or says where it gave up.
pub fn expression(source: &str, limit: usize) -> Result<Result<Expr, Vec<Diagnostic>>, usize> {
    let mut p = Descent::new(source, limit, 1);
    match p.whole_expression() {
        Ok(expr) => Ok(p.lower.finish(Some(expr))),
        Err(Bail) => Err(p.pos.max(p.far)),
    }
}

/// Words that are never an identifier (`reserved` in the grammar).
fn reserved(word: &str) -> bool {
    matches!(word, "true" | "false" | "nil") || op_word(word)
}

fn op_word(word: &str) -> bool {
    matches!(
        word,
        "not"
            | "and"
            | "or"
            | "in"
            | "matches"
            | "contains"
            | "startsWith"
            | "endsWith"
            | "let"
            | "if"
            | "else"
    )
}

fn compare_word(word: &str) -> Option<(BinaryOp, BinaryOp)> {
    use BinaryOp::*;
    Some(match word {
        "in" => (In, NotIn),
        "matches" => (Matches, NotMatches),
        "contains" => (Contains, NotContains),
        "startsWith" => (StartsWith, NotStartsWith),
        "endsWith" => (EndsWith, NotEndsWith),
        _ => return None,
    })
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

/// `attr_name`: an ASCII name of a target or a schema attribute.
fn attr_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'$'
}

fn attr_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'$')
}

/// A character of `urn_head` after `urn:`.
fn urn_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-' | b'$')
}

#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    open: usize,
    errors: usize,
    too_deep: bool,
}

struct Descent<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// Open brackets (the grammar's pushed stack): line breaks are blanks inside them.
    open: usize,
    lower: Lower<'s>,
    resume: Resume,
    /// The furthest position a rewound attempt reached: where a syntax error is, when the
    /// attempt that rewound got further than the one that failed last.
    far: usize,
}

impl<'s> Descent<'s> {
    fn new(src: &'s str, limit: usize, open: usize) -> Self {
        Descent {
            src,
            b: src.as_bytes(),
            pos: 0,
            open,
            lower: Lower::new(src, limit),
            resume: Resume::default(),
            far: 0,
        }
    }

    fn whole_expression(&mut self) -> R<Expr> {
        self.ws()?;
        let e = self.seq()?;
        self.ws()?;
        if self.peek() == b';' {
            self.pos += 1;
            self.ws()?;
        }
        if self.pos != self.b.len() {
            return Err(Bail);
        }
        Ok(e.expr)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    /// The byte at `i`, or 0 past the end (a NUL byte never starts a token either).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn eat(&mut self, c: u8) -> R<()> {
        if self.peek() == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    fn span(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    /// Where to come back to when an alternative the grammar tries first fails.
    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            open: self.open,
            errors: self.lower.errors.len(),
            too_deep: self.lower.too_deep,
        }
    }

    /// Forgets everything read and reported since `mark`.
    fn rewind(&mut self, mark: Mark) {
        self.far = self.far.max(self.pos);
        self.pos = mark.pos;
        self.open = mark.open;
        self.lower.errors.truncate(mark.errors);
        self.lower.too_deep = mark.too_deep;
    }

    /// The implicit blanks between tokens: comments, and line breaks inside brackets.
    fn ws(&mut self) -> R<usize> {
        self.skip(self.open > 0)
    }

    /// Blanks, comments and line breaks (`nl*`); the number of line breaks.
    fn ws_nl(&mut self) -> R<usize> {
        self.skip(true)
    }

    fn skip(&mut self, lines: bool) -> R<usize> {
        let mut breaks = 0;
        loop {
            match self.peek() {
                b' ' | b'\t' | b'\r' | 0x0B | 0x0C => self.pos += 1,
                b'\n' if lines => {
                    self.pos += 1;
                    breaks += 1;
                }
                b'/' if self.at(self.pos + 1) == b'/' => {
                    let rest = &self.b[self.pos..];
                    self.pos += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                }
                b'/' if self.at(self.pos + 1) == b'*' => {
                    let end = self.src[self.pos + 2..].find("*/").ok_or(Bail)?;
                    self.pos += 2 + end + 2;
                }
                c if c >= 0x80 => match self.src[self.pos..].chars().next() {
                    Some(ch) if unicode::WHITE_SPACE(ch) => self.pos += ch.len_utf8(),
                    _ => return Ok(breaks),
                },
                _ => return Ok(breaks),
            }
        }
    }

    /// The length of the identifier character at `i` (`LETTER | DECIMAL_NUMBER | "_" | "$"`,
    /// no digit when `start`), or 0.
    fn ident_char_len(&self, i: usize, start: bool) -> usize {
        let c = self.at(i);
        if c < 0x80 {
            return usize::from(if start { ident_start(c) } else { ident_char(c) });
        }
        match self.src[i..].chars().next() {
            Some(ch) if unicode::LETTER(ch) || (!start && unicode::DECIMAL_NUMBER(ch)) => {
                ch.len_utf8()
            }
            _ => 0,
        }
    }

    /// The end of the run of identifier characters from `i`.
    fn word_end(&self, mut i: usize) -> usize {
        loop {
            match self.ident_char_len(i, false) {
                0 => return i,
                n => i += n,
            }
        }
    }

    /// The word at the cursor (empty if none).
    fn word(&self) -> &'s str {
        if self.ident_char_len(self.pos, true) == 0 {
            return "";
        }
        &self.src[self.pos..self.word_end(self.pos)]
    }

    /// An `ident`: a name that is not a reserved word.
    fn ident(&mut self) -> R<Spanned<String>> {
        let word = self.word();
        if word.is_empty() || reserved(word) {
            return Err(Bail);
        }
        let start = self.pos;
        self.pos += word.len();
        Ok(Spanned::new(word.to_string(), self.span(start)))
    }

    /// `assign`: `=` but not `==`.
    fn assign(&mut self) -> R<()> {
        if self.peek() == b'=' && self.at(self.pos + 1) != b'=' {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// After an opening bracket: blanks, then line breaks are blanks too.
    fn open(&mut self) -> R<()> {
        self.ws()?;
        self.open += 1;
        self.ws()?;
        Ok(())
    }

    /// Blanks (line breaks included), the end of the bracket, and its closing `c`.
    fn close(&mut self, c: u8) -> R<()> {
        self.ws()?;
        self.open -= 1;
        self.ws()?;
        self.eat(c)
    }

    /// Whether an expression can start here; false only where none can.
    fn expr_can_start(&self) -> bool {
        !matches!(
            self.peek(),
            b')' | b']' | b'}' | b',' | b':' | b';' | b'\n' | 0
        ) || (self.peek() == 0 && self.pos < self.b.len())
    }

    // -----------------------------------------------------------------------------------------
    // File structure

    fn file(&mut self) -> R<File> {
        let mut file = File {
            app: None,
            profile: None,
            schemas: Vec::new(),
            sections: Vec::new(),
        };
        let mut seen_decl = false;
        let mut had_duplicate = false;
        let mut breaks = 1;
        self.ws_nl()?;
        while self.pos < self.b.len() {
            if breaks == 0 {
                return Err(Bail);
            }
            let start = self.pos;
            self.resume = Resume {
                header: None,
                start,
                at: start,
            };
            match self.peek() {
                b'#' => self.hash_line(),
                _ => match self.word() {
                    "app" => {
                        self.pos += 3;
                        self.ws()?;
                        let name = self.str_lit()?;
                        // The grammar's span takes the blanks before an absent profile in.
                        self.ws()?;
                        let profile = if self.peek() == b'{' {
                            Some(self.profile()?)
                        } else {
                            None
                        };
                        self.lower
                            .app(&mut file, seen_decl, self.span(start), &name, profile);
                        seen_decl = true;
                    }
                    "schema" => {
                        seen_decl = true;
                        let schema = self.schema()?;
                        file.schemas.push(schema);
                    }
                    "user" | "group" => {
                        seen_decl = true;
                        let section = self.section()?;
                        self.lower
                            .add_section(&mut file, section, &mut had_duplicate);
                    }
                    _ => return Err(Bail),
                },
            }
            breaks = self.ws_nl()?;
        }
        self.lower.file_end(&file, had_duplicate);
        Ok(file)
    }

    /// `#…` to the end of the line: not a comment, kept to say so.
    fn hash_line(&mut self) {
        let start = self.pos;
        let rest = &self.b[start..];
        self.pos += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
        self.lower.hash_line(start);
    }

    fn schema(&mut self) -> R<SchemaDecl> {
        let start = self.pos;
        self.pos += "schema".len();
        self.ws()?;
        let name = self.str_lit()?;
        let urn = Spanned::new(name.expr_string(), name.span());
        let mut attributes = Vec::new();
        // The grammar's span takes the blanks before an absent `{ … }` in.
        self.ws()?;
        if self.peek() == b'{' {
            self.pos += 1;
            self.open()?;
            if attr_start(self.peek()) {
                loop {
                    let name = self.attr_name()?;
                    self.ws()?;
                    self.eat(b':')?;
                    self.ws()?;
                    let ty = self.attr_name()?;
                    attributes.push((name, ty));
                    self.ws()?;
                    if self.peek() != b',' {
                        break;
                    }
                    self.pos += 1;
                    self.ws()?;
                    if !attr_start(self.peek()) {
                        break;
                    }
                }
            }
            self.close(b'}')?;
        }
        Ok(SchemaDecl {
            urn,
            attributes,
            span: self.span(start),
        })
    }

    /// `{ key = value … }` after the app's name.
    fn profile(&mut self) -> R<ProfileDecl> {
        let start = self.pos;
        self.eat(b'{')?;
        let mut settings = Vec::new();
        loop {
            let breaks = self.ws_nl()?;
            if self.peek() == b'}' {
                self.pos += 1;
                break;
            }
            if breaks == 0 {
                return Err(Bail);
            }
            if self.peek() == b'#' {
                self.hash_line();
            } else {
                settings.push(self.setting()?);
            }
            self.ws()?;
            if !matches!(self.peek(), b'\n' | 0) || (self.peek() == 0 && self.pos < self.b.len()) {
                return Err(Bail);
            }
        }
        Ok(ProfileDecl {
            settings,
            span: self.span(start),
        })
    }

    fn setting(&mut self) -> R<Setting> {
        let start = self.pos;
        let key = self.attr_name()?;
        self.ws()?;
        self.assign()?;
        self.ws()?;
        let value = if self.peek() == b'[' {
            let list_start = self.pos;
            self.pos += 1;
            self.open()?;
            let mut paths = Vec::new();
            if attr_start(self.peek()) {
                loop {
                    paths.push(self.profile_path()?);
                    self.ws()?;
                    if self.peek() != b',' {
                        break;
                    }
                    self.pos += 1;
                    self.ws()?;
                    if !attr_start(self.peek()) {
                        break;
                    }
                }
            }
            self.close(b']')?;
            SettingValue::List(paths, self.span(list_start))
        } else if self.peek().is_ascii_digit() {
            let count_start = self.pos;
            while self.peek().is_ascii_digit() {
                self.pos += 1;
            }
            SettingValue::Count(Spanned::new(
                self.src[count_start..self.pos].to_string(),
                self.span(count_start),
            ))
        } else {
            SettingValue::Word(self.profile_path()?)
        };
        Ok(Setting {
            key,
            value,
            span: self.span(start),
        })
    }

    /// `profile_path`: `active`, `name.givenName`, `urn:…:User:employeeNumber`.
    fn profile_path(&mut self) -> R<Spanned<String>> {
        let start = self.pos;
        if self.b[start..].starts_with(b"urn:") && urn_char(self.at(start + 4)) {
            self.pos += 4;
            while urn_char(self.peek()) {
                self.pos += 1;
            }
        } else {
            self.attr_name()?;
        }
        if self.peek() == b'.' && attr_start(self.at(self.pos + 1)) {
            self.pos += 1;
            self.attr_name()?;
        }
        Ok(Spanned::new(
            self.src[start..self.pos].to_string(),
            self.span(start),
        ))
    }

    fn attr_name(&mut self) -> R<Spanned<String>> {
        let start = self.pos;
        if !attr_start(self.peek()) {
            return Err(Bail);
        }
        self.pos += 1;
        while attr_char(self.peek()) {
            self.pos += 1;
        }
        Ok(Spanned::new(
            self.src[start..self.pos].to_string(),
            self.span(start),
        ))
    }

    fn section(&mut self) -> R<Section> {
        let start = self.pos;
        let word = self.word();
        let kind = if word == "group" {
            SectionKind::Group
        } else {
            SectionKind::User
        };
        self.pos += word.len();
        let keyword = self.span(start);
        self.ws()?;
        self.eat(b'{')?;
        let header = Some((start, self.pos));
        let mut items = Vec::new();
        loop {
            let breaks = self.ws_nl()?;
            if self.peek() == b'}' {
                self.pos += 1;
                break;
            }
            if breaks == 0 {
                return Err(Bail);
            }
            self.resume = Resume {
                header,
                start: self.pos,
                at: self.pos,
            };
            if self.peek() == b'#' {
                self.hash_line();
            } else if self.word() == "let" {
                // A `let` that is no declaration may be an entry: `let-x = 1`.
                let mark = self.mark();
                match self.let_decl() {
                    Ok(decl) => items.push(Item::Let(decl)),
                    Err(Bail) => {
                        self.rewind(mark);
                        items.push(Item::Entry(self.entry()?));
                    }
                }
            } else {
                items.push(Item::Entry(self.entry()?));
            }
            self.ws()?;
            if !matches!(self.peek(), b'\n' | 0) || (self.peek() == 0 && self.pos < self.b.len()) {
                return Err(Bail);
            }
        }
        Ok(Section {
            kind,
            keyword,
            items,
            span: self.span(start),
        })
    }

    /// `let NAME = EXPRESSION` at section level (a failure may still be an entry `let = …`).
    fn let_decl(&mut self) -> R<LetDecl> {
        let start = self.pos;
        self.pos += "let".len();
        self.ws()?;
        let name = self.ident()?;
        self.ws()?;
        self.assign()?;
        self.ws_nl()?;
        let value = self.seq()?.expr;
        let span = Span::new(start, value.span.end);
        Ok(LetDecl { name, value, span })
    }

    fn entry(&mut self) -> R<Entry> {
        let start = self.pos;
        // `create = …` is an entry whose target is `create`.
        let mut create = self.kw_create();
        let target = match self.target() {
            Ok(target) => target,
            Err(Bail) if create.is_some() => {
                create = None;
                self.pos = start;
                self.target()?
            }
            Err(Bail) => return Err(Bail),
        };
        self.ws()?;
        self.assign()?;
        self.ws()?;
        let source = if self.peek() == b'$' && self.direct_follows() {
            self.direct()
        } else {
            self.ws_nl()?;
            // `const x` that is no constant is an expression on a field `const`.
            let mark = self.mark();
            match self.constant() {
                Ok(source) => source,
                Err(Bail) => {
                    self.rewind(mark);
                    let expr = self.seq()?.expr;
                    self.lower.expr_source(expr)
                }
            }
        };
        Ok(self
            .lower
            .entry_node(start, create, Some(target), Some(source)))
    }

    /// `kw_create`: `create` and the blanks after it; the span covers the word.
    fn kw_create(&mut self) -> Option<Span> {
        let start = self.pos;
        let word = start + "create".len();
        if !self.b[start..].starts_with(b"create") || !matches!(self.at(word), b' ' | b'\t') {
            return None;
        }
        self.pos = word;
        while matches!(self.peek(), b' ' | b'\t') {
            self.pos += 1;
        }
        Some(Span::new(start, word))
    }

    fn constant(&mut self) -> R<Source> {
        if self.word() != "const" {
            return Err(Bail);
        }
        self.pos += "const".len();
        self.ws_nl()?;
        let begin = self.pos;
        let json = self.json_value()?;
        Ok(self.lower.constant(json, self.span(begin)))
    }

    /// What may follow the `$` of a JSON Path source.
    fn direct_follows(&self) -> bool {
        let next = self.at(self.pos + 1);
        matches!(next, b'.' | b'[' | b' ' | b'\t' | b'\r' | b'\n')
            || self.pos + 1 == self.b.len()
            || (next == b'/' && matches!(self.at(self.pos + 2), b'/' | b'*'))
    }

    /// A JSON Path source: up to a comment outside a path string, or the end of the line.
    fn direct(&mut self) -> Source {
        let begin = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                b'\n' => break,
                b'/' if matches!(self.at(self.pos + 1), b'/' | b'*') => break,
                q @ (b'\'' | b'"') => match self.path_string_end(q) {
                    Some(end) => self.pos = end,
                    None => self.pos += 1,
                },
                0 if self.pos == self.b.len() => break,
                _ => self.pos += 1,
            }
        }
        direct(&self.src[begin..self.pos], begin)
    }

    /// The end of a quoted path string at the cursor, if it closes on its line.
    fn path_string_end(&self, quote: u8) -> Option<usize> {
        let mut i = self.pos + 1;
        loop {
            match *self.b.get(i)? {
                b'\\' if !matches!(self.b.get(i + 1), None | Some(b'\n')) => i += 2,
                c if c == quote => return Some(i + 1),
                b'\n' => return None,
                _ => i += 1,
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Targets

    fn target(&mut self) -> R<Target> {
        let start = self.pos;
        let mut urn = None;
        let mut sub = None;
        let attr = if self.b[start..].starts_with(b"urn:") && urn_char(self.at(start + 4)) {
            self.pos += 4;
            while urn_char(self.peek()) {
                self.pos += 1;
            }
            let (u, a, s) = self
                .lower
                .split_qualified(&self.src[start..self.pos], start);
            urn = Some(u);
            sub = s;
            a
        } else {
            self.attr_name()?
        };
        let mut selector = Selector::None;
        if self.peek() == b'[' {
            let selector_start = self.pos;
            let errors = self.lower.errors.len();
            selector = self.selector()?;
            if sub.is_some() {
                // Known once the selector is read, reported before its own errors.
                let misplaced = Diagnostic::error(
                    "scimap::syntax",
                    self.span(selector_start),
                    "a filter belongs after the attribute, before its sub-attribute",
                );
                self.lower.errors.insert(errors, misplaced);
            }
        }
        if self.peek() == b'.' && attr_start(self.at(self.pos + 1)) {
            self.pos += 1;
            let name = self.attr_name()?;
            if sub.is_some() {
                self.lower
                    .error(name.span, "a target has at most one sub-attribute");
            }
            sub = Some(name);
        }
        Ok(Target {
            urn,
            attr,
            selector,
            sub,
            span: self.span(start),
        })
    }

    fn selector(&mut self) -> R<Selector> {
        let start = self.pos;
        if self.at(start + 1) == b']' {
            self.pos += 2;
            return Ok(Selector::ElementWise(self.span(start)));
        }
        self.pos += 1;
        self.blanks();
        let mut terms = vec![self.filter_term()?];
        loop {
            let save = self.pos;
            if self.blanks() == 0 || !self.keyword_ci(b"and") {
                self.pos = save;
                break;
            }
            self.pos += 3;
            if self.blanks() == 0 {
                self.pos = save;
                break;
            }
            terms.push(self.filter_term()?);
        }
        self.blanks();
        self.eat(b']')?;
        Ok(Selector::Filter(terms))
    }

    /// Spaces and tabs (a filter's blanks); how many.
    fn blanks(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), b' ' | b'\t') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// An ASCII-case-insensitive keyword at the cursor.
    fn keyword_ci(&self, word: &[u8]) -> bool {
        self.b
            .get(self.pos..self.pos + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    }

    fn filter_term(&mut self) -> R<FilterTerm> {
        let start = self.pos;
        let attr = self.attr_name()?;
        if self.blanks() == 0 || !self.keyword_ci(b"eq") {
            return Err(Bail);
        }
        self.pos += 2;
        if self.blanks() == 0 {
            return Err(Bail);
        }
        let vstart = self.pos;
        let value = match self.peek() {
            b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => self.json_value()?,
            _ => return Err(Bail),
        };
        Ok(FilterTerm {
            attr,
            value: Spanned::new(value, self.span(vstart)),
            span: self.span(start),
        })
    }

    // -----------------------------------------------------------------------------------------
    // JSON constants

    fn jws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\r' | b'\n') {
            self.pos += 1;
        }
    }

    fn json_value(&mut self) -> R<serde_json::Value> {
        use serde_json::Value;
        let start = self.pos;
        match self.peek() {
            b'{' => {
                self.pos += 1;
                self.jws();
                let mut map = serde_json::Map::new();
                // By key, not a scan: a constant may have a hundred thousand keys.
                let mut first_spans: HashMap<String, Span> = HashMap::new();
                if self.peek() != b'}' {
                    loop {
                        let key_start = self.pos;
                        let end = self.json_string_end()?;
                        let key_span = Span::new(key_start, end);
                        let key = self.lower.json_string(&self.src[key_start..end], key_span);
                        self.pos = end;
                        self.jws();
                        self.eat(b':')?;
                        self.jws();
                        if let Some(&first) = first_spans.get(&key) {
                            self.lower.duplicate_key(&key, key_span, first);
                            // The pest path does not look into a duplicate's value.
                            let errors = self.lower.errors.len();
                            self.json_value()?;
                            self.lower.errors.truncate(errors);
                        } else {
                            first_spans.insert(key.clone(), key_span);
                            let value = self.json_value()?;
                            map.insert(key, value);
                        }
                        self.jws();
                        if self.peek() != b',' {
                            break;
                        }
                        self.pos += 1;
                        self.jws();
                    }
                }
                self.eat(b'}')?;
                Ok(Value::Object(map))
            }
            b'[' => {
                self.pos += 1;
                self.jws();
                let mut items = Vec::new();
                if self.peek() != b']' {
                    loop {
                        items.push(self.json_value()?);
                        self.jws();
                        if self.peek() != b',' {
                            break;
                        }
                        self.pos += 1;
                        self.jws();
                    }
                }
                self.eat(b']')?;
                Ok(Value::Array(items))
            }
            b'"' => {
                let end = self.json_string_end()?;
                self.pos = end;
                let text = &self.src[start..end];
                Ok(Value::String(
                    self.lower.json_string(text, self.span(start)),
                ))
            }
            b'-' | b'0'..=b'9' => {
                self.json_number()?;
                let text = &self.src[start..self.pos];
                Ok(self.lower.json_number(text, self.span(start)))
            }
            _ => {
                for (word, value) in [
                    (&b"true"[..], Value::Bool(true)),
                    (b"false", Value::Bool(false)),
                    (b"null", Value::Null),
                ] {
                    if self.b[start..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                Err(Bail)
            }
        }
    }

    /// The end of the `json_string` at the cursor (its escapes are checked when decoded).
    fn json_string_end(&self) -> R<usize> {
        if self.peek() != b'"' {
            return Err(Bail);
        }
        let mut i = self.pos + 1;
        loop {
            match *self.b.get(i).ok_or(Bail)? {
                b'"' => return Ok(i + 1),
                b'\\' if i + 1 < self.b.len() => i += 2,
                c if c < 0x20 || c == b'\\' => return Err(Bail),
                _ => i += 1,
            }
        }
    }

    fn json_number(&mut self) -> R<()> {
        let digits = |p: &mut Self| {
            let start = p.pos;
            while p.peek().is_ascii_digit() {
                p.pos += 1;
            }
            p.pos - start
        };
        if self.peek() == b'-' {
            self.pos += 1;
        }
        match self.peek() {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return Err(Bail),
        }
        if self.peek() == b'.' && self.at(self.pos + 1).is_ascii_digit() {
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek(), b'e' | b'E') {
            let sign = usize::from(matches!(self.at(self.pos + 1), b'+' | b'-'));
            if self.at(self.pos + 1 + sign).is_ascii_digit() {
                self.pos += 1 + sign;
                digits(self);
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Statements: sequences, `let`, `if`, the ternary

    // The functions on the path of every nesting level (`seq` … `primary`) keep their frames
    // small, with the rarer continuations in functions of their own: the nesting limit is
    // then reached within a small thread stack, even in a debug build.

    /// `e1; e2; …` (a trailing `;` is left to the caller).
    fn seq(&mut self) -> R<E> {
        let first = self.expr0()?;
        let save = self.pos;
        self.ws()?;
        let semi = self.peek() == b';';
        self.pos = save;
        if semi {
            self.seq_rest(first)
        } else {
            Ok(first)
        }
    }

    #[inline(never)]
    fn seq_rest(&mut self, first: E) -> R<E> {
        let mut items: Vec<E> = Vec::new();
        loop {
            let save = self.pos;
            self.ws()?;
            if self.peek() != b';' {
                self.pos = save;
                break;
            }
            self.pos += 1;
            self.ws_nl()?;
            if !self.expr_can_start() {
                self.pos = save;
                break;
            }
            let next = self.expr0()?;
            items.push(next);
        }
        if items.is_empty() {
            return Ok(first);
        }
        items.insert(0, first);
        Ok(self.lower.sequence(items))
    }

    fn expr0(&mut self) -> R<E> {
        match self.word() {
            "let" => self.let_expr(),
            "if" => self.if_expr(),
            _ => self.ternary(),
        }
    }

    /// `let a = 1; let b = 2; body`: the chain is read in a loop, then folded.
    fn let_expr(&mut self) -> R<E> {
        let mut links = Vec::new();
        loop {
            let start = self.pos;
            self.pos += "let".len();
            self.ws_nl()?;
            let name = self.ident()?;
            self.ws_nl()?;
            self.assign()?;
            self.ws_nl()?;
            let value = self.expr0()?;
            self.ws_nl()?;
            self.eat(b';')?;
            self.ws_nl()?;
            links.push((start, name, value));
            if self.word() != "let" {
                break;
            }
        }
        let body = self.seq()?;
        Ok(self.lower.fold_lets(links, body))
    }

    /// `if a { … } else if b { … } else { … }`: the chain is read in a loop, then folded.
    fn if_expr(&mut self) -> R<E> {
        let mut links = Vec::new();
        let last = loop {
            let start = self.pos;
            self.pos += "if".len();
            self.ws_nl()?;
            let cond = self.expr0()?;
            self.ws_nl()?;
            let then = self.block()?;
            self.ws_nl()?;
            if self.word() != "else" {
                return Err(Bail);
            }
            self.pos += "else".len();
            self.ws_nl()?;
            links.push((start, cond, then));
            if self.word() != "if" {
                break self.block()?;
            }
        };
        Ok(self.lower.fold_ifs(links, last))
    }

    fn block(&mut self) -> R<E> {
        self.eat(b'{')?;
        self.open()?;
        let body = self.seq()?;
        self.close(b'}')?;
        Ok(body)
    }

    /// `a ? b : c ? d : e` nests to the right: the chain is read in a loop, then folded.
    fn ternary(&mut self) -> R<E> {
        let cond = self.binary()?;
        if self.question()? {
            self.ternary_rest(cond)
        } else {
            Ok(cond)
        }
    }

    /// Whether a ternary `?` follows (the cursor stays).
    fn question(&mut self) -> R<bool> {
        let save = self.pos;
        self.ws()?;
        // `?` but not `??`, nor `?.` unless a number follows (`a ?.5 : b`).
        let next = self.at(self.pos + 1);
        let question = self.peek() == b'?'
            && next != b'?'
            && (next != b'.' || self.at(self.pos + 2).is_ascii_digit());
        self.pos = save;
        Ok(question)
    }

    #[inline(never)]
    fn ternary_rest(&mut self, first: E) -> R<E> {
        let mut links = Vec::new();
        let mut cond = first;
        let last = loop {
            self.ws()?;
            self.pos += 1;
            self.ws_nl()?;
            // `?:` (but `? ::f() : b` is a call).
            let then = if self.peek() == b':' && self.at(self.pos + 1) != b':' {
                self.pos += 1;
                cond.duplicate()
            } else {
                let then = self.expr0()?;
                self.ws_nl()?;
                self.eat(b':')?;
                then
            };
            self.ws_nl()?;
            links.push((cond, then));
            if matches!(self.word(), "let" | "if") {
                break self.expr0()?;
            }
            cond = self.binary()?;
            if !self.question()? {
                break cond;
            }
        };
        Ok(self.lower.fold_ternaries(links, last))
    }

    // -----------------------------------------------------------------------------------------
    // Operators

    /// Prefix operators, operands, infix operators and pipes in source order, then climbed
    /// like the pest path's flat `binary` rule.
    fn binary(&mut self) -> R<E> {
        let start = self.pos;
        if self.prefix()?.is_some() {
            return self.binary_rest(start, None);
        }
        let first = self.operand()?;
        if self.operator_follows()? {
            self.binary_rest(start, Some(first))
        } else {
            Ok(first)
        }
    }

    #[inline(never)]
    fn binary_rest(&mut self, start: usize, first: Option<E>) -> R<E> {
        let mut pieces = Vec::new();
        let first = match first {
            Some(first) => first,
            None => {
                self.prefix_run(&mut pieces)?;
                self.operand()?
            }
        };
        pieces.push(Piece::Operand(first));
        loop {
            let save = self.pos;
            self.ws()?;
            if let Some((op, len)) = self.infix()? {
                let span = Span::new(self.pos, self.pos + len);
                self.pos += len;
                pieces.push(Piece::Infix(op, span));
                self.ws_nl()?;
                self.prefix_run(&mut pieces)?;
                let operand = self.operand()?;
                pieces.push(Piece::Operand(operand));
            } else if self.peek() == b'|' && self.at(self.pos + 1) != b'|' {
                self.pos += 1;
                self.ws_nl()?;
                let call = self.pipe_call()?;
                pieces.push(Piece::Pipe(call));
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(self.lower.climb(start, pieces))
    }

    /// Whether an infix operator or a pipe follows (the cursor stays).
    fn operator_follows(&mut self) -> R<bool> {
        let save = self.pos;
        self.ws()?;
        let found =
            self.infix()?.is_some() || (self.peek() == b'|' && self.at(self.pos + 1) != b'|');
        self.pos = save;
        Ok(found)
    }

    fn prefix_run(&mut self, pieces: &mut Vec<Piece>) -> R<()> {
        while let Some((op, len)) = self.prefix()? {
            pieces.push(Piece::Prefix(op, Span::new(self.pos, self.pos + len)));
            self.pos += len;
            self.ws_nl()?;
        }
        Ok(())
    }

    /// The prefix operator at the cursor and its length.
    fn prefix(&self) -> R<Option<(UnaryOp, usize)>> {
        Ok(match self.peek() {
            b'-' => Some((UnaryOp::Neg, 1)),
            b'+' => Some((UnaryOp::Plus, 1)),
            b'!' if self.at(self.pos + 1) != b'=' => Some((UnaryOp::Not, 1)),
            b'n' if self.word() == "not" => Some((UnaryOp::Not, 3)),
            _ => None,
        })
    }

    /// The infix operator at the cursor and its length.
    fn infix(&self) -> R<Option<(BinaryOp, usize)>> {
        use BinaryOp::*;
        let two = [self.peek(), self.at(self.pos + 1)];
        let symbol = match &two {
            b"??" => Some((Coalesce, 2)),
            b"**" => Some((Pow, 2)),
            [b'^', _] => Some((Pow, 1)),
            [b'*', _] => Some((Mul, 1)),
            [b'/', _] => Some((Div, 1)),
            [b'%', _] => Some((Mod, 1)),
            [b'+', _] => Some((Add, 1)),
            [b'-', _] => Some((Sub, 1)),
            b".." => Some((Range, 2)),
            b"==" => Some((Eq, 2)),
            b"!=" => Some((Ne, 2)),
            b"<=" => Some((Le, 2)),
            b">=" => Some((Ge, 2)),
            [b'<', _] => Some((Lt, 1)),
            [b'>', _] => Some((Gt, 1)),
            b"&&" => Some((And, 2)),
            b"||" => Some((Or, 2)),
            _ => None,
        };
        if symbol.is_some() {
            return Ok(symbol);
        }
        let word = self.word();
        if word == "not" {
            // `not` + blanks (line breaks too) + a comparison word.
            let mut i = self.pos + 3;
            while let Some(ch) = self.src[i..]
                .chars()
                .next()
                .filter(|&c| unicode::WHITE_SPACE(c))
            {
                i += ch.len_utf8();
            }
            if i == self.pos + 3 {
                return Ok(None);
            }
            let end = self.word_end(i);
            return Ok(
                compare_word(&self.src[i..end]).map(|(_, negated)| (negated, end - self.pos))
            );
        }
        Ok(match word {
            "and" => Some((And, 3)),
            "or" => Some((Or, 2)),
            _ => compare_word(word).map(|(op, _)| (op, word.len())),
        })
    }

    /// `| name(args)` after the `|`: the call, still without its implicit first argument.
    fn pipe_call(&mut self) -> R<PipeCall> {
        if self.b[self.pos..].starts_with(b"::") {
            self.pos += 2;
            self.ws()?;
        }
        let (name, args) = self.call_parts(true)?;
        Ok(PipeCall {
            name,
            args,
            end: self.pos,
        })
    }

    /// `name(args)` at the cursor: a predicate builtin takes a predicate second (first after
    /// a pipe), any other function plain arguments.
    fn call_parts(&mut self, piped: bool) -> R<(Spanned<String>, Vec<E>)> {
        let word = self.word();
        let predicate = crate::syntax::ast::Predicate::from_name(word).is_some() && {
            let save = self.pos;
            self.pos += word.len();
            let paren = self.ws().map(|_| self.peek() == b'(');
            self.pos = save;
            paren?
        };
        if !predicate {
            let name = self.ident()?;
            self.ws()?;
            let args = self.call_args()?;
            return Ok((name, args));
        }
        self.predicate_call(word, piped)
    }

    /// The arguments of a predicate builtin `word`.
    #[inline(never)]
    fn predicate_call(&mut self, word: &str, piped: bool) -> R<(Spanned<String>, Vec<E>)> {
        let start = self.pos;
        self.pos += word.len();
        let name = Spanned::new(word.to_string(), self.span(start));
        self.ws()?;
        self.eat(b'(')?;
        self.open()?;
        let mut args = Vec::new();
        match self.peek() {
            b')' => {}
            b',' => {
                self.pos += 1;
                self.ws()?;
            }
            _ => {
                // `all(xs, pred, …)`, or `xs | all(pred, …)`.
                args.push(if piped {
                    self.predicate()?
                } else {
                    self.expr0()?
                });
                let mut predicate_next = !piped;
                loop {
                    self.ws()?;
                    if self.peek() != b',' {
                        break;
                    }
                    self.pos += 1;
                    self.ws()?;
                    if self.peek() == b')' {
                        break;
                    }
                    args.push(if predicate_next {
                        self.predicate()?
                    } else {
                        self.expr0()?
                    });
                    predicate_next = false;
                }
            }
        }
        self.close(b')')?;
        Ok((name, args))
    }

    /// A call at the cursor (after its `::`, from `start`).
    fn call(&mut self, start: usize) -> R<E> {
        let (name, args) = self.call_parts(false)?;
        Ok(self.lower.call(name, args, self.span(start)))
    }

    fn predicate(&mut self) -> R<E> {
        let start = self.pos;
        if self.peek() == b'{' {
            let body = self.block()?;
            Ok(self.lower.closure(body, self.span(start), true))
        } else {
            let body = self.expr0()?;
            Ok(self.lower.closure(body, self.span(start), false))
        }
    }

    /// Items separated by `,`, a trailing `,` allowed, up to (not past) `close`: the lists of
    /// arguments, arrays and maps.
    #[inline]
    fn separated<T>(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        let mut items = Vec::new();
        if self.peek() != close {
            loop {
                items.push(item(self)?);
                self.ws()?;
                if self.peek() != b',' {
                    break;
                }
                self.pos += 1;
                self.ws()?;
                if self.peek() == close {
                    break;
                }
            }
        }
        Ok(items)
    }

    /// `( args )` at the cursor.
    fn call_args(&mut self) -> R<Vec<E>> {
        self.eat(b'(')?;
        self.open()?;
        let args = self.separated(b')', Self::expr0)?;
        self.close(b')')?;
        Ok(args)
    }

    // -----------------------------------------------------------------------------------------
    // Operands

    fn operand(&mut self) -> R<E> {
        let value = self.primary()?;
        let save = self.pos;
        self.ws()?;
        let postfix = matches!(self.peek(), b'[' | b'?' | b'.');
        self.pos = save;
        if postfix {
            self.postfix(value)
        } else {
            Ok(value)
        }
    }

    /// Indexes, members and method calls after an operand.
    #[inline(never)]
    fn postfix(&mut self, mut value: E) -> R<E> {
        loop {
            let save = self.pos;
            self.ws()?;
            let c = self.peek();
            let next = self.at(self.pos + 1);
            if c == b'[' {
                self.pos += 1;
                value = self.index(value, false)?;
            } else if c == b'?' && next == b'.' {
                let mut i = self.pos + 2;
                while matches!(self.at(i), b' ' | b'\t') {
                    i += 1;
                }
                if self.at(i) == b'[' {
                    self.pos = i + 1;
                    value = self.index(value, true)?;
                } else if self.at(self.pos + 2).is_ascii_digit() {
                    self.pos = save;
                    break;
                } else {
                    self.pos += 2;
                    value = self.member(value, true)?;
                }
            } else if c == b'.' && next != b'.' {
                self.pos += 1;
                value = self.member(value, false)?;
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(value)
    }

    /// After `.` or `?.`: a property or a method call.
    fn member(&mut self, object: E, optional: bool) -> R<E> {
        self.ws_nl()?;
        let start = self.pos;
        let word = self.word();
        if word.is_empty() {
            return Err(Bail);
        }
        self.pos += word.len();
        let name = Spanned::new(word.to_string(), self.span(start));
        let (args, _) = self.optional_args()?;
        let end = self.pos;
        Ok(self.lower.member_node(object, optional, name, args, end))
    }

    /// `call_args?`: arguments if a `(` follows; without them, also where the blanks before
    /// the absent `(` end (the grammar's span of `.name` takes them in).
    fn optional_args(&mut self) -> R<(Option<Vec<E>>, usize)> {
        let save = self.pos;
        self.ws()?;
        if self.peek() == b'(' {
            let args = self.call_args()?;
            Ok((Some(args), self.pos))
        } else {
            let end = self.pos;
            self.pos = save;
            Ok((None, end))
        }
    }

    /// After `[` or `?.[`: an index or a slice.
    fn index(&mut self, object: E, optional: bool) -> R<E> {
        self.open()?;
        let mut before = None;
        let mut after = None;
        let mut colon = false;
        if self.peek() != b':' {
            before = Some(self.expr0()?);
            self.ws()?;
        }
        if self.peek() == b':' {
            colon = true;
            self.pos += 1;
            self.ws()?;
            if self.peek() != b']' {
                after = Some(self.expr0()?);
            }
        }
        self.close(b']')?;
        let end = self.pos;
        Ok(self
            .lower
            .index_node(object, optional, before, after, colon, end))
    }

    fn primary(&mut self) -> R<E> {
        match self.peek() {
            b'(' => self.paren(),
            b'[' => self.array(),
            b'{' => self.map_literal(),
            _ => self.atom(),
        }
    }

    /// `( … )`: the inner expression, spanning the parentheses.
    fn paren(&mut self) -> R<E> {
        let start = self.pos;
        self.pos += 1;
        self.open()?;
        let mut inner = self.seq()?;
        self.close(b')')?;
        inner.expr.span = self.span(start);
        Ok(inner)
    }

    #[inline(never)]
    fn array(&mut self) -> R<E> {
        let start = self.pos;
        self.pos += 1;
        self.open()?;
        let items = self.separated(b']', Self::expr0)?;
        self.close(b']')?;
        Ok(self.lower.array(items, self.span(start)))
    }

    /// Every other primary: literals, pointers, names and calls.
    #[inline(never)]
    fn atom(&mut self) -> R<E> {
        let start = self.pos;
        let c = self.peek();
        let next = self.at(start + 1);
        match c {
            b'0'..=b'9' => self.number(),
            b'.' if next.is_ascii_digit() => self.number(),
            b'"' | b'\'' => self.str_lit(),
            b'`' => {
                let mut i = start + 1;
                loop {
                    match *self.b.get(i).ok_or(Bail)? {
                        b'`' if self.at(i + 1) == b'`' => i += 2,
                        b'`' => break,
                        _ => i += 1,
                    }
                }
                self.pos = i + 1;
                Ok(self
                    .lower
                    .raw_string(&self.src[start..self.pos], self.span(start)))
            }
            b'b' if matches!(next, b'"' | b'\'') => {
                self.pos += 1;
                self.pos = self.str_end()?;
                Ok(self.lower.bytes_literal(self.span(start)))
            }
            b'#' => {
                self.pos += 1;
                if self.ident_char_len(self.pos, true) > 0 {
                    self.pos = self.word_end(self.pos);
                }
                Ok(self
                    .lower
                    .pointer(&self.src[start..self.pos], self.span(start)))
            }
            b'.' => {
                self.pos += 1;
                if self.ident_char_len(self.pos, true) == 0 {
                    return Err(Bail);
                }
                self.pos = self.word_end(self.pos);
                let dot_name = &self.src[start..self.pos];
                let name_span = self.span(start);
                let (args, end) = self.optional_args()?;
                Ok(self
                    .lower
                    .pointer_field(dot_name, name_span, args, Span::new(start, end)))
            }
            b':' if next == b':' => {
                self.pos += 2;
                self.ws()?;
                self.call(start)
            }
            _ => self.name(),
        }
    }

    /// A literal word, a call or an identifier.
    fn name(&mut self) -> R<E> {
        let start = self.pos;
        let word = self.word();
        if word.is_empty() {
            return Err(Bail);
        }
        if matches!(word, "true" | "false" | "nil") {
            self.pos += word.len();
            return Ok(self.lower.literal(word, self.span(start)));
        }
        // `name (` is a call (`call_start` in the grammar).
        self.pos += word.len();
        self.ws()?;
        let call = self.peek() == b'(';
        self.pos = start;
        if call {
            return self.call(start);
        }
        let name = self.ident()?;
        Ok(self.lower.leaf(ExprKind::Ident(name.node), name.span))
    }

    #[inline(never)]
    fn map_literal(&mut self) -> R<E> {
        let start = self.pos;
        self.pos += 1;
        self.open()?;
        let entries = self.separated(b'}', |p| {
            let key = p.map_key()?;
            p.ws()?;
            p.eat(b':')?;
            p.ws()?;
            Ok((key, p.expr0()?))
        })?;
        self.close(b'}')?;
        Ok(self.lower.map(entries, self.span(start)))
    }

    fn map_key(&mut self) -> R<E> {
        let start = self.pos;
        let text_key = |p: &mut Self| {
            let text = p.src[start..p.pos].to_string();
            p.lower.leaf(ExprKind::Str(text), p.span(start))
        };
        match self.peek() {
            b'"' | b'\'' => self.str_lit(),
            b'`' => self.primary(),
            b'0'..=b'9' => {
                self.number_end()?;
                Ok(text_key(self))
            }
            b'.' if self.at(start + 1).is_ascii_digit() => {
                self.number_end()?;
                Ok(text_key(self))
            }
            b'(' => self.expr0(),
            _ => {
                let word = self.word();
                if word.is_empty() || op_word(word) {
                    return Err(Bail);
                }
                self.pos += word.len();
                Ok(text_key(self))
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Literals

    fn number(&mut self) -> R<E> {
        let start = self.pos;
        let junk = self.number_end()?;
        Ok(self
            .lower
            .number(&self.src[start..self.pos], self.span(start), junk))
    }

    /// Moves past the number at the cursor (Expr's scanner); whether letters are glued to it.
    fn number_end(&mut self) -> R<bool> {
        let b = self.b;
        let run = |i: &mut usize, ok: fn(u8) -> bool| {
            while b.get(*i).is_some_and(|&c| ok(c) || c == b'_') {
                *i += 1;
            }
        };
        let mut i = self.pos;
        let prefix = if self.peek() == b'0' {
            self.at(i + 1).to_ascii_lowercase()
        } else {
            0
        };
        let (digit, exponent): (fn(u8) -> bool, bool) = match prefix {
            b'x' => (|c| c.is_ascii_hexdigit(), false),
            b'o' => (|c| matches!(c, b'0'..=b'7'), true),
            b'b' => (|c| matches!(c, b'0' | b'1'), true),
            _ => (|c| c.is_ascii_digit(), true),
        };
        if matches!(prefix, b'x' | b'o' | b'b') {
            i += 2;
        } else if b[i].is_ascii_digit() {
            i += 1;
        }
        run(&mut i, digit);
        if self.at(i) == b'.' && self.at(i + 1) != b'.' {
            i += 1;
            run(&mut i, digit);
        }
        if exponent && matches!(self.at(i), b'e' | b'E') {
            i += 1;
            if matches!(self.at(i), b'+' | b'-') {
                i += 1;
            }
            run(&mut i, digit);
        }
        let core = i;
        self.pos = self.word_end(core);
        Ok(self.pos > core)
    }

    /// A `"…"` or `'…'` literal on one line.
    fn str_lit(&mut self) -> R<E> {
        let start = self.pos;
        self.pos = self.str_end()?;
        Ok(self
            .lower
            .string(&self.src[start..self.pos], self.span(start)))
    }

    /// Past the string literal that starts here, its content not looked at (a byte string's
    /// escapes are not reported: the whole literal is).
    fn str_end(&self) -> R<usize> {
        let quote = self.peek();
        if !matches!(quote, b'"' | b'\'') {
            return Err(Bail);
        }
        let mut i = self.pos + 1;
        loop {
            match *self.b.get(i).ok_or(Bail)? {
                b'\\' if !matches!(self.b.get(i + 1), None | Some(b'\n' | b'\r')) => i += 2,
                c if c == quote => break,
                b'\n' | b'\r' => return Err(Bail),
                _ => i += 1,
            }
        }
        Ok(i + 1)
    }
}
#[cfg(test)]
mod tests {
    use super::{expression, file};
    use crate::limits::Limits;

    /// The grammar is the oracle for every parse in a debug build; this checks that valid
    /// text does take the fast path, so that a parser which always gave up would fail here.
    #[test]
    fn valid_mappings_take_the_fast_path() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("examples/") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "scimap") {
                let source = std::fs::read_to_string(&path).expect("readable");
                let parsed = file(&source, Limits::default().nesting());
                assert!(
                    matches!(parsed, Ok(Ok(_))),
                    "{} left to the pest parser",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen > 0);
        for text in [
            "a.b?.c[1:2] | f(x, y) ?? 1",
            "let x = 1; if x > 0 { [x, {k: x}] } else { nil }",
            "filter(xs, .a > 1 and .b not in [1, 2]) | map({# * 2})",
            "-2 ** 3 ** 2 < a <= b ? c ?: d : `raw`",
            "a ? ::f() : b ?: ::g()",
            "naïve\u{a0}not\u{2003}in\u{85}[\"é\", .ñ]",
        ] {
            assert!(matches!(expression(text, 128), Ok(Ok(_))), "{text}");
        }
    }

    #[test]
    fn syntax_errors_are_left_to_the_grammar_from_their_item() {
        for text in ["a +", "(a", "f(,)", "a ? :"] {
            assert!(expression(text, 128).is_err(), "{text}");
        }
        let text = "user {\n  let-x = 1\n  let = const [x]\n}\n";
        assert!(matches!(file(text, 128), Ok(Ok(_))), "{text}");
        for (text, resume) in [
            ("user {\n  let x\n}\n", 9),
            ("user { a = b }\n", 0),
            ("app \"a\" user {\n}\n", 0),
            ("app \"é\"\nuser {\n  a = b // c\n  d = (\n}\n", 31),
        ] {
            let Err(at) = file(text, 128) else {
                panic!("{text} parsed");
            };
            assert_eq!(at.start, resume, "{text}");
            let blanked = at.blanked(text).expect("blanked");
            assert_eq!(blanked.len(), text.len());
            assert_eq!(blanked[resume..], text[resume..]);
            assert_eq!(blanked.lines().count(), text.lines().count());
        }
    }
}
