//! The mapping parser. `grammar/mapping.pest` is the grammar; the hand-written parser of
//! `descent.rs` reads it from the text into the syntax tree, and the pest parser generated from
//! it reports syntax errors (and, in debug builds, checks every parse). Both build the tree
//! through the same `Lower` steps below, so they produce the same tree and diagnostics.
//!
//! The scan of `scan.rs` runs first, so the recursive parsers and this lowering never nest
//! deeper than the `depth` limit allows; the lowering also keeps every expression tree within
//! that many levels (long left-associative chains included), so later passes may recurse.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;
use std::collections::HashMap;

use super::ast::{
    BinaryOp, Entry, Expr, ExprKind, File, FilterTerm, Item, LetDecl, Pointer, ProfileDecl,
    SchemaDecl, Section, SectionKind, Selector, Setting, SettingValue, Source, Spanned, Target,
    UnaryOp,
};
use super::scan::{self, Mode};

mod descent;
use crate::diagnostic::{self, quote, Diagnostic, Span};
use crate::limits::Limits;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mapping.pest"]
struct MappingParser;

/// Parses a whole mapping file (reference §file).
pub fn parse_file(source: &str, limits: &Limits) -> Result<File, Vec<Diagnostic>> {
    scan::check(source, Mode::File, limits).map_err(|d| vec![*d])?;
    match descent::file(source, limits.nesting()) {
        Ok(parsed) => oracle(source, parsed, |s| pest_file(s, limits)),
        Err(resume) if resume.at.saturating_sub(resume.start) > PEST_WINDOW => {
            Err(vec![long_syntax_error(
                source,
                resume.at,
                resume.start,
                "an entry",
            )])
        }
        Err(resume) => match resumed_syntax_error(source, resume) {
            Some(error) => oracle(source, Err(vec![error]), |s| pest_file(s, limits)),
            None => pest_file(source, limits),
        },
    }
}

/// The longest text before a syntax error that pest is asked to explain. pest takes about
/// 1.5 s of CPU per MiB of deeply bracketed text, and the compile-time budget is 1 s per MiB
/// whatever the content; the hand-written parser is 10–40 times faster but does not know what
/// the grammar expected.
const PEST_WINDOW: usize = 64 << 10;

/// A syntax error more than `PEST_WINDOW` bytes into an entry (or an expression): where, and
/// what was found, without the grammar's list of what was expected.
fn long_syntax_error(source: &str, at: usize, start: usize, what: &str) -> Diagnostic {
    let (found, span) = found_token(source, at);
    Diagnostic::error("scimap::syntax", span, format!("unexpected {found}")).with_help(format!(
        "this is {} bytes into {what}; scimap says what it expected only within the first {} KiB",
        at.saturating_sub(start),
        PEST_WINDOW >> 10
    ))
}

/// The grammar's syntax error from where the hand-written parser gave up, if there is one
/// there (else the text may well parse, and the whole of it goes to pest).
fn resumed_syntax_error(source: &str, resume: descent::Resume) -> Option<Diagnostic> {
    let text = resume.blanked(source)?;
    let error = MappingParser::parse(Rule::file, &text).err()?;
    let pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    (pos >= resume.start).then(|| syntax_error(&text, &error, true))
}

/// The pest path: the grammar's verdict and its "expected …, found …" message.
fn pest_file(source: &str, limits: &Limits) -> Result<File, Vec<Diagnostic>> {
    let mut pairs = MappingParser::parse(Rule::file, source)
        .map_err(|e| vec![syntax_error(source, &e, true)])?;
    let mut lower = Lower::new(source, limits.nesting());
    let file = pairs.next().map(|p| lower.file(p));
    lower.finish(file)
}

/// Parses one whole Expr expression (`scimap expr`); line breaks are blanks everywhere.
pub fn parse_expression(source: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    scan::check(source, Mode::Expression, limits).map_err(|d| vec![*d])?;
    match descent::expression(source, limits.nesting()) {
        Ok(parsed) => oracle(source, parsed, |s| pest_expression(s, limits)),
        Err(at) if at > PEST_WINDOW => {
            Err(vec![long_syntax_error(source, at, 0, "the expression")])
        }
        Err(_) => pest_expression(source, limits),
    }
}

fn pest_expression(source: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    let mut pairs = MappingParser::parse(Rule::expression, source)
        .map_err(|e| vec![syntax_error(source, &e, false)])?;
    let mut lower = Lower::new(source, limits.nesting());
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().find(|c| c.as_rule() == Rule::seq))
        .map(|seq| lower.expr0(seq).expr);
    lower.finish(expr)
}

/// Debug builds (every test) check the hand-written parser against the grammar: the same
/// tree and the same diagnostics. Large inputs are left out so that the hostile-size tests
/// stay fast in debug builds.
#[cfg(debug_assertions)]
fn oracle<T: PartialEq + std::fmt::Debug>(
    source: &str,
    parsed: Result<T, Vec<Diagnostic>>,
    pest: impl FnOnce(&str) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    const ORACLE_BYTES: usize = 64 * 1024;
    if source.len() <= ORACLE_BYTES {
        let expected = pest(source);
        assert!(
            parsed == expected,
            "the hand-written parser disagrees with grammar/mapping.pest on {source:?}:\n\
             descent: {parsed:#?}\npest: {expected:#?}"
        );
    }
    parsed
}

#[cfg(not(debug_assertions))]
fn oracle<T>(
    _source: &str,
    parsed: Result<T, Vec<Diagnostic>>,
    _pest: impl FnOnce(&str) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    parsed
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    pair.as_span().into()
}

fn spanned(pair: &Pair<'_, Rule>) -> Spanned<String> {
    Spanned::new(pair.as_str().to_string(), span_of(pair))
}

/// Punctuation and keywords: kept as rules for error messages, skipped when lowering.
fn is_punct(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::open_paren
            | Rule::close_paren
            | Rule::close_bracket
            | Rule::open_brace
            | Rule::close_brace
            | Rule::comma
            | Rule::colon
            | Rule::semi
            | Rule::question
            | Rule::assign
            | Rule::kw_let
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_const
            | Rule::kw_app
            | Rule::kw_schema
            | Rule::dcolon
            | Rule::EOI
    )
}

fn significant<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|c| !is_punct(c.as_rule()))
}

/// The builtins whose second argument is a predicate, with their arity (Expr's `predicates`).
fn predicate_arity(name: &str) -> Option<(usize, usize)> {
    match name {
        "all" | "any" | "one" | "none" | "map" | "filter" | "find" | "findIndex" | "findLast"
        | "findLastIndex" | "groupBy" => Some((2, 2)),
        "count" | "sum" => Some((1, 2)),
        "sortBy" | "reduce" => Some((2, 3)),
        _ => None,
    }
}

/// An expression with the height of its tree.
struct E {
    expr: Expr,
    height: usize,
}

impl E {
    fn duplicate(&self) -> E {
        E {
            expr: self.expr.clone(),
            height: self.height,
        }
    }
    fn span(&self) -> Span {
        self.expr.span
    }
}

/// One element of the flat operator sequence of a `binary` rule.
enum Piece {
    Prefix(UnaryOp, Span),
    Operand(E),
    Infix(BinaryOp, Span),
    /// `| name(args)`: the call, still without its implicit first argument.
    Pipe(PipeCall),
}

struct PipeCall {
    name: Spanned<String>,
    args: Vec<E>,
    end: usize,
}

fn binding_power(op: BinaryOp) -> u32 {
    use BinaryOp::*;
    match op {
        Coalesce => 500,
        Pow => 100,
        Mul | Div | Mod => 60,
        Add | Sub => 30,
        Range => 25,
        Eq | Ne | Lt | Le | Gt | Ge | In | NotIn | Matches | NotMatches | Contains
        | NotContains | StartsWith | NotStartsWith | EndsWith | NotEndsWith => 20,
        And => 15,
        Or => 10,
    }
}

fn infix_op(text: &str) -> BinaryOp {
    use BinaryOp::*;
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or_default();
    if first == "not" {
        return match words.last().unwrap_or_default() {
            "in" => NotIn,
            "matches" => NotMatches,
            "contains" => NotContains,
            "startsWith" => NotStartsWith,
            _ => NotEndsWith,
        };
    }
    match first {
        "??" => Coalesce,
        "**" | "^" => Pow,
        "*" => Mul,
        "/" => Div,
        "%" => Mod,
        "+" => Add,
        "-" => Sub,
        ".." => Range,
        "==" => Eq,
        "!=" => Ne,
        "<=" => Le,
        ">=" => Ge,
        "<" => Lt,
        ">" => Gt,
        "&&" | "and" => And,
        "||" | "or" => Or,
        "in" => In,
        "matches" => Matches,
        "contains" => Contains,
        "startsWith" => StartsWith,
        _ => EndsWith,
    }
}

fn is_ordering(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
    )
}

struct Lower<'s> {
    src: &'s str,
    limit: usize,
    errors: Vec<Diagnostic>,
    /// The depth error is reported once.
    too_deep: bool,
}

impl<'s> Lower<'s> {
    fn new(src: &'s str, limit: usize) -> Self {
        Lower {
            src,
            limit,
            errors: Vec::new(),
            too_deep: false,
        }
    }

    fn finish<T>(mut self, value: Option<T>) -> Result<T, Vec<Diagnostic>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => {
                if self.errors.is_empty() {
                    self.error(Span::new(0, 0), "the text could not be parsed");
                }
                Err(diagnostic::cap(self.errors))
            }
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Diagnostic::error("scimap::syntax", span, message))
    }

    fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        self.errors.push(diagnostic);
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    /// Builds a node one level above children of height `below`, within the depth limit.
    fn make(&mut self, kind: ExprKind, span: Span, below: usize) -> E {
        let height = below + 1;
        if below > self.limit {
            if !self.too_deep {
                self.too_deep = true;
                self.push(
                    Diagnostic::error(
                        "scimap::limit",
                        span,
                        format!("nesting is deeper than the limit `depth` ({})", self.limit),
                    )
                    .with_label("too deeply nested")
                    .with_help(
                        "simplify the expression, or raise the limit with `--limit depth=N`",
                    ),
                );
            }
            return E {
                expr: Expr {
                    kind: ExprKind::Nil,
                    span,
                },
                height: 1,
            };
        }
        E {
            expr: Expr { kind, span },
            height,
        }
    }

    fn leaf(&mut self, kind: ExprKind, span: Span) -> E {
        self.make(kind, span, 0)
    }

    /// A placeholder after an error was reported.
    fn invalid(span: Span) -> E {
        E {
            expr: Expr {
                kind: ExprKind::Nil,
                span,
            },
            height: 1,
        }
    }

    // -----------------------------------------------------------------------------------------
    // File structure

    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let mut file = File {
            app: None,
            profile: None,
            schemas: Vec::new(),
            sections: Vec::new(),
        };
        let mut seen_decl = false;
        let mut had_duplicate = false;
        for decl in significant(pair) {
            match decl.as_rule() {
                Rule::hash_line => self.hash_line(decl.as_span().start()),
                Rule::app => {
                    let span = span_of(&decl);
                    let mut name = None;
                    let mut profile = None;
                    for part in significant(decl) {
                        match part.as_rule() {
                            Rule::str_lit => {
                                name = Some(self.string(part.as_str(), span_of(&part)));
                            }
                            Rule::profile => profile = Some(self.profile(part)),
                            _ => {}
                        }
                    }
                    if let Some(name) = name {
                        self.app(&mut file, seen_decl, span, &name, profile);
                    }
                    seen_decl = true;
                }
                Rule::schema => {
                    seen_decl = true;
                    let schema = self.schema(decl);
                    file.schemas.push(schema);
                }
                Rule::section => {
                    seen_decl = true;
                    let section = self.section(decl);
                    self.add_section(&mut file, section, &mut had_duplicate);
                }
                _ => {}
            }
        }
        self.file_end(&file, had_duplicate);
        file
    }

    fn app(
        &mut self,
        file: &mut File,
        seen_decl: bool,
        span: Span,
        name: &E,
        profile: Option<ProfileDecl>,
    ) {
        if file.app.is_some() || seen_decl {
            self.error(span, "the `app` header must come first, and only once");
        } else {
            file.app = Some(Spanned::new(name.expr_string(), name.span()));
            file.profile = profile;
        }
    }

    fn profile(&mut self, pair: Pair<'_, Rule>) -> ProfileDecl {
        let span = span_of(&pair);
        let mut settings = Vec::new();
        for part in significant(pair) {
            match part.as_rule() {
                Rule::hash_line => self.hash_line(part.as_span().start()),
                Rule::setting => {
                    let setting_span = span_of(&part);
                    let mut parts = significant(part);
                    let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let value = match value.as_rule() {
                        Rule::path_list => {
                            let list_span = span_of(&value);
                            SettingValue::List(
                                significant(value).map(|p| spanned(&p)).collect(),
                                list_span,
                            )
                        }
                        Rule::profile_count => SettingValue::Count(spanned(&value)),
                        _ => SettingValue::Word(spanned(&value)),
                    };
                    settings.push(Setting {
                        key: spanned(&key),
                        value,
                        span: setting_span,
                    });
                }
                _ => {}
            }
        }
        ProfileDecl { settings, span }
    }

    fn add_section(&mut self, file: &mut File, section: Section, had_duplicate: &mut bool) {
        match file.sections.iter().find(|s| s.kind == section.kind) {
            Some(first) => {
                *had_duplicate = true;
                let word = section_word(section.kind);
                let first_span = first.keyword;
                self.push(
                    Diagnostic::error(
                        "scimap::duplicate-section",
                        section.keyword,
                        format!("a second `{word}` section"),
                    )
                    .with_secondary(first_span, format!("the first `{word}` section"))
                    .with_help(format!("merge the entries into one `{word}` section")),
                );
            }
            None => file.sections.push(section),
        }
    }

    fn file_end(&mut self, file: &File, had_duplicate: bool) {
        if file.sections.is_empty() && !had_duplicate {
            self.push(
                Diagnostic::error(
                    "scimap::no-section",
                    Span::new(0, 0),
                    "the mapping has no `user` or `group` section",
                )
                .with_help(
                    "add a section: `user {` on one line, entries `TARGET = SOURCE` below, `}`",
                ),
            );
        }
    }

    fn hash_line(&mut self, start: usize) {
        self.push(
            Diagnostic::error(
                "scimap::hash-comment",
                Span::new(start, start + 1),
                "`#` is not a comment here",
            )
            .with_help("use `//` for comments"),
        );
    }

    fn schema(&mut self, pair: Pair<'_, Rule>) -> SchemaDecl {
        let span = span_of(&pair);
        let mut urn = Spanned::new(String::new(), span);
        let mut attributes = Vec::new();
        for part in significant(pair) {
            match part.as_rule() {
                Rule::str_lit => {
                    let s = self.string(part.as_str(), span_of(&part));
                    urn = Spanned::new(s.expr_string(), s.span());
                }
                Rule::schema_attrs => {
                    for attr in significant(part) {
                        let mut words = significant(attr).map(|w| spanned(&w));
                        if let (Some(name), Some(ty)) = (words.next(), words.next()) {
                            attributes.push((name, ty));
                        }
                    }
                }
                _ => {}
            }
        }
        SchemaDecl {
            urn,
            attributes,
            span,
        }
    }

    fn section(&mut self, pair: Pair<'_, Rule>) -> Section {
        let span = span_of(&pair);
        let mut kind = SectionKind::User;
        let mut keyword = span;
        let mut items = Vec::new();
        for part in significant(pair) {
            match part.as_rule() {
                Rule::section_kw => {
                    keyword = span_of(&part);
                    if part.as_str() == "group" {
                        kind = SectionKind::Group;
                    }
                }
                Rule::hash_line => self.hash_line(part.as_span().start()),
                Rule::let_decl => items.push(Item::Let(self.let_decl(part))),
                Rule::entry => items.push(Item::Entry(self.entry(part))),
                _ => {}
            }
        }
        Section {
            kind,
            keyword,
            items,
            span,
        }
    }

    fn let_decl(&mut self, pair: Pair<'_, Rule>) -> LetDecl {
        let start = pair.as_span().start();
        let mut parts = significant(pair);
        let name = parts.next().map_or_else(
            || Spanned::new(String::new(), Span::new(start, start)),
            |p| spanned(&p),
        );
        let value = parts.next().map_or_else(
            || Lower::invalid(Span::new(start, start)).expr,
            |p| self.expr0(p).expr,
        );
        let span = Span::new(start, value.span.end);
        LetDecl { name, value, span }
    }

    fn entry(&mut self, pair: Pair<'_, Rule>) -> Entry {
        let start = pair.as_span().start();
        let mut create = None;
        let mut target = None;
        let mut source = None;
        for part in significant(pair) {
            match part.as_rule() {
                // The word, without the blanks the rule takes after it.
                Rule::kw_create => {
                    let start = part.as_span().start();
                    create = Some(Span::new(start, start + "create".len()));
                }
                Rule::target => target = Some(self.target(part)),
                Rule::direct => {
                    source = Some(direct(part.as_str(), part.as_span().start()));
                }
                Rule::constant => {
                    if let Some(value) = part.into_inner().find(|c| c.as_rule() == Rule::json_value)
                    {
                        let span = span_of(&value);
                        let json = self.json(value);
                        source = Some(self.constant(json, span));
                    }
                }
                Rule::seq => {
                    let expr = self.expr0(part).expr;
                    source = Some(self.expr_source(expr));
                }
                _ => {}
            }
        }
        self.entry_node(start, create, target, source)
    }

    fn constant(&mut self, json: serde_json::Value, span: Span) -> Source {
        if json.is_null() {
            self.push(
                Diagnostic::error("scimap::const-null", span, "a constant cannot be `null`")
                    .with_help(
                    "leave the attribute unmapped, or map it from an expression that may be nil",
                ),
            );
        }
        Source::Const(Spanned::new(json, span))
    }

    fn expr_source(&mut self, expr: Expr) -> Source {
        let rest = self.src.get(expr.span.start..).unwrap_or_default();
        if rest.starts_with("$.") || rest.starts_with("$[") {
            self.error(
                expr.span,
                "a JSON Path source must start on the line of its `=`",
            )
            .help = Some("move the path up to the `=` line".into());
        }
        Source::Expr(expr)
    }

    fn entry_node(
        &mut self,
        start: usize,
        create: Option<Span>,
        target: Option<Target>,
        source: Option<Source>,
    ) -> Entry {
        let target = target.unwrap_or_else(|| Target {
            urn: None,
            attr: Spanned::new(String::new(), Span::new(start, start)),
            selector: Selector::None,
            sub: None,
            span: Span::new(start, start),
        });
        let source = source.unwrap_or_else(|| Source::Expr(Lower::invalid(target.span).expr));
        let end = match &source {
            Source::Direct(s) => s.span.end,
            Source::Const(c) => c.span.end,
            Source::Expr(e) => e.span.end,
        };
        let allow = self.allow_comment(end);
        Entry {
            create,
            target,
            source,
            allow,
            span: Span::new(start, end),
        }
    }

    /// `// scimap:allow(CODE, …)` after the source on its last line.
    #[inline(never)]
    fn allow_comment(&mut self, end: usize) -> Vec<String> {
        let rest = self.src.get(end..).unwrap_or_default();
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let mut text = line;
        loop {
            text = text.trim_start();
            match text
                .strip_prefix("/*")
                .and_then(|r| r.find("*/").map(|i| &r[i + 2..]))
            {
                Some(after) => text = after,
                None => break,
            }
        }
        let Some(comment) = text.strip_prefix("//") else {
            return Vec::new();
        };
        let Some(args) = comment.trim().strip_prefix("scimap:allow") else {
            return Vec::new();
        };
        let comment_start = end + (line.len() - text.len());
        let span = Span::new(comment_start, end + line.trim_end().len());
        let codes = args
            .trim()
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .map(|list| {
                list.split(',')
                    .map(|code| code.trim().trim_start_matches("scimap::"))
                    .collect::<Vec<_>>()
            })
            .filter(|codes| {
                codes.iter().all(|c| {
                    !c.is_empty()
                        && c.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
            });
        match codes {
            Some(codes) => codes
                .iter()
                .filter_map(|c| match diagnostic::warning_code(c) {
                    Ok(code) => Some(code.to_string()),
                    Err(why) => {
                        self.error(span, format!("`{c}` in `scimap:allow`: {why}"));
                        None
                    }
                })
                .collect(),
            None => {
                self.error(span, "malformed `scimap:allow` comment").help = Some(
                    "write `// scimap:allow(scimap::CODE)` or `// scimap:allow(CODE1, CODE2)`"
                        .into(),
                );
                Vec::new()
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Targets

    #[inline(never)]
    fn target(&mut self, pair: Pair<'_, Rule>) -> Target {
        let span = span_of(&pair);
        let mut urn = None;
        let mut attr = Spanned::new(String::new(), span);
        let mut selector = Selector::None;
        let mut sub: Option<Spanned<String>> = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::urn_head => {
                    let (u, a, s) = self.split_qualified(part.as_str(), part.as_span().start());
                    urn = Some(u);
                    attr = a;
                    sub = s;
                }
                Rule::attr_name => attr = spanned(&part),
                Rule::selector => {
                    if sub.is_some() {
                        self.error(
                            span_of(&part),
                            "a filter belongs after the attribute, before its sub-attribute",
                        );
                    }
                    selector = self.selector(part);
                }
                Rule::sub_attr => {
                    let name = part.into_inner().next().map(|n| spanned(&n));
                    if sub.is_some() {
                        if let Some(n) = &name {
                            self.error(n.span, "a target has at most one sub-attribute");
                        }
                    }
                    sub = name;
                }
                _ => {}
            }
        }
        Target {
            urn,
            attr,
            selector,
            sub,
            span,
        }
    }

    /// Splits `urn:…:Schema:attr.sub` at its last `:`.
    fn split_qualified(
        &mut self,
        text: &str,
        start: usize,
    ) -> (Spanned<String>, Spanned<String>, Option<Spanned<String>>) {
        let colon = text.rfind(':').unwrap_or(0);
        let urn = Spanned::new(text[..colon].to_string(), Span::new(start, start + colon));
        let path = &text[colon + 1..];
        let path_start = start + colon + 1;
        let (attr_text, sub_text) = match path.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (path, None),
        };
        let attr = Spanned::new(
            attr_text.to_string(),
            Span::new(path_start, path_start + attr_text.len()),
        );
        let valid = |name: &str| {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
        };
        if !valid(attr_text) || urn.node.len() <= "urn:".len() {
            self.error(
                Span::new(start, start + text.len()),
                "a qualified target is a schema URN, `:` and an attribute name",
            )
            .help = Some("write it like `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`".into());
        }
        let sub = sub_text.map(|s| {
            let sub_start = path_start + attr_text.len() + 1;
            if !valid(s) {
                self.error(
                    Span::new(sub_start, sub_start + s.len()),
                    "invalid sub-attribute name",
                );
            }
            Spanned::new(s.to_string(), Span::new(sub_start, sub_start + s.len()))
        });
        (urn, attr, sub)
    }

    fn selector(&mut self, pair: Pair<'_, Rule>) -> Selector {
        let Some(inner) = pair.into_inner().next() else {
            return Selector::None;
        };
        if inner.as_rule() == Rule::element_wise {
            return Selector::ElementWise(span_of(&inner));
        }
        let mut terms = Vec::new();
        for term in inner
            .into_inner()
            .filter(|t| t.as_rule() == Rule::filter_term)
        {
            let span = span_of(&term);
            let mut attr = None;
            let mut value = None;
            for part in term.into_inner() {
                match part.as_rule() {
                    Rule::attr_name => attr = Some(spanned(&part)),
                    Rule::filter_value => {
                        if let Some(v) = part.into_inner().next() {
                            let vspan = span_of(&v);
                            value = Some(Spanned::new(self.json(v), vspan));
                        }
                    }
                    _ => {}
                }
            }
            if let (Some(attr), Some(value)) = (attr, value) {
                terms.push(FilterTerm { attr, value, span });
            }
        }
        Selector::Filter(terms)
    }

    // -----------------------------------------------------------------------------------------
    // JSON constants

    #[inline(never)]
    fn json(&mut self, pair: Pair<'_, Rule>) -> serde_json::Value {
        use serde_json::Value;
        let pair = if pair.as_rule() == Rule::json_value {
            match pair.into_inner().next() {
                Some(inner) => inner,
                None => return Value::Null,
            }
        } else {
            pair
        };
        match pair.as_rule() {
            Rule::json_object => {
                let mut map = serde_json::Map::new();
                // By key, not a scan: a constant may have a hundred thousand keys.
                let mut first_spans: HashMap<String, Span> = HashMap::new();
                for member in pair
                    .into_inner()
                    .filter(|m| m.as_rule() == Rule::json_member)
                {
                    let mut parts = significant(member);
                    let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let key_span = span_of(&key);
                    let key = self.json_string(key.as_str(), key_span);
                    if let Some(&first) = first_spans.get(&key) {
                        self.duplicate_key(&key, key_span, first);
                        continue;
                    }
                    first_spans.insert(key.clone(), key_span);
                    let value = self.json(value);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            Rule::json_array => Value::Array(
                pair.into_inner()
                    .filter(|v| v.as_rule() == Rule::json_value)
                    .map(|v| self.json(v))
                    .collect(),
            ),
            Rule::json_string => Value::String(self.json_string(pair.as_str(), span_of(&pair))),
            Rule::json_number => self.json_number(pair.as_str(), span_of(&pair)),
            Rule::json_true => Value::Bool(true),
            Rule::json_false => Value::Bool(false),
            _ => Value::Null,
        }
    }

    fn duplicate_key(&mut self, key: &str, span: Span, first: Span) {
        self.push(
            Diagnostic::error(
                "scimap::duplicate-key",
                span,
                format!(
                    "duplicate key {} in the constant",
                    quote(&serde_json::Value::String(key.to_string()).to_string())
                ),
            )
            .with_secondary(first, "first used here"),
        );
    }

    fn json_number(&mut self, text: &str, span: Span) -> serde_json::Value {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => v,
            Err(_) => {
                self.push(Diagnostic::error(
                    "scimap::number-range",
                    span,
                    format!("the number `{}` is out of range", quote(text)),
                ));
                serde_json::Value::Null
            }
        }
    }

    #[inline(never)]
    fn json_string(&mut self, text: &str, span: Span) -> String {
        serde_json::from_str::<String>(text).unwrap_or_else(|_| {
            self.push(
                Diagnostic::error("scimap::bad-escape", span, "invalid escape in a JSON string")
                    .with_help("JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX (surrogates only as pairs)"),
            );
            String::new()
        })
    }

    // -----------------------------------------------------------------------------------------
    // Statements: sequences, `let`, `if`, the ternary

    #[inline(never)]
    fn seq(&mut self, pair: Pair<'_, Rule>) -> E {
        let items: Vec<E> = significant(pair).map(|p| self.expr0(p)).collect();
        self.sequence(items)
    }

    fn sequence(&mut self, mut items: Vec<E>) -> E {
        if items.len() == 1 {
            if let Some(only) = items.pop() {
                return only;
            }
        }
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return Lower::invalid(Span::new(0, 0));
        };
        let span = first.span().to(last.span());
        let below = items.iter().map(|e| e.height).max().unwrap_or(0);
        let kind = ExprKind::Sequence(items.into_iter().map(|e| e.expr).collect());
        self.make(kind, span, below)
    }

    /// Lowers any expression rule. Wrappers with a single child (a one-item sequence, a ternary
    /// without `?`, an operand without postfix, parentheses) are stepped through in a loop, so
    /// the native recursion per nesting level stays small.
    fn expr0(&mut self, mut pair: Pair<'_, Rule>) -> E {
        let mut parens: Option<Span> = None;
        loop {
            let rule = pair.as_rule();
            if rule == Rule::paren {
                parens.get_or_insert(span_of(&pair));
            }
            let step = matches!(
                rule,
                Rule::seq | Rule::ternary | Rule::binary | Rule::operand | Rule::paren
            );
            match Lower::only_child(&pair) {
                Some(only) if step && only.as_rule() != Rule::prefix => pair = only,
                _ => break,
            }
        }
        let mut lowered = self.dispatch(pair);
        if let Some(span) = parens {
            lowered.expr.span = span;
        }
        lowered
    }

    #[inline(never)]
    fn dispatch(&mut self, pair: Pair<'_, Rule>) -> E {
        match pair.as_rule() {
            Rule::let_expr => self.let_expr(pair),
            Rule::if_expr => self.if_expr(pair),
            Rule::ternary => self.ternary(pair),
            Rule::seq => self.seq(pair),
            Rule::binary => self.binary(pair),
            Rule::operand => self.operand(pair),
            _ => self.primary(pair),
        }
    }

    fn unexpected(&mut self, pair: &Pair<'_, Rule>) -> E {
        let span = span_of(pair);
        self.error(span, format!("unexpected `{}`", quote(pair.as_str())));
        Lower::invalid(span)
    }

    /// The single significant child of a sequence, if it has only one.
    fn only_child<'i>(pair: &Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
        let mut children = significant(pair.clone());
        match (children.next(), children.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// `let a = 1; let b = 2; body`: the chain is walked in a loop, then folded.
    #[inline(never)]
    fn let_expr(&mut self, pair: Pair<'_, Rule>) -> E {
        let mut links = Vec::new();
        let mut pair = pair;
        let body = loop {
            let start = pair.as_span().start();
            let mut parts = significant(pair);
            let (Some(name), Some(value), Some(body)) = (parts.next(), parts.next(), parts.next())
            else {
                break Lower::invalid(Span::new(start, start));
            };
            links.push((start, spanned(&name), self.expr0(value)));
            match Lower::only_child(&body) {
                Some(next) if next.as_rule() == Rule::let_expr => pair = next,
                _ => break self.expr0(body),
            }
        };
        self.fold_lets(links, body)
    }

    fn fold_lets(&mut self, mut links: Vec<(usize, Spanned<String>, E)>, mut body: E) -> E {
        while let Some((start, name, value)) = links.pop() {
            let span = Span::new(start, body.span().end);
            let below = value.height.max(body.height);
            let kind = ExprKind::Let {
                name,
                value: Box::new(value.expr),
                body: Box::new(body.expr),
            };
            body = self.make(kind, span, below);
        }
        body
    }

    /// `if a { … } else if b { … } else { … }`: the chain is walked in a loop, then folded.
    #[inline(never)]
    fn if_expr(&mut self, pair: Pair<'_, Rule>) -> E {
        let mut links = Vec::new();
        let mut pair = pair;
        let last = loop {
            let start = pair.as_span().start();
            let mut parts = significant(pair);
            let (Some(cond), Some(then), Some(otherwise)) =
                (parts.next(), parts.next(), parts.next())
            else {
                break Lower::invalid(Span::new(start, start));
            };
            links.push((start, self.expr0(cond), self.block(then)));
            match otherwise.as_rule() {
                Rule::if_expr => pair = otherwise,
                _ => break self.block(otherwise),
            }
        };
        self.fold_ifs(links, last)
    }

    fn fold_ifs(&mut self, mut links: Vec<(usize, E, E)>, mut otherwise: E) -> E {
        while let Some((start, cond, then)) = links.pop() {
            let span = Span::new(start, otherwise.span().end);
            let below = cond.height.max(then.height).max(otherwise.height);
            otherwise = self.conditional(cond, then, otherwise, span, below);
        }
        otherwise
    }

    /// The block of `if`/`else`, with its braces in the span.
    fn block(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        match significant(pair).next() {
            Some(seq) => self.expr0(seq),
            None => Lower::invalid(span),
        }
    }

    fn conditional(&mut self, cond: E, then: E, otherwise: E, span: Span, below: usize) -> E {
        let kind = ExprKind::Conditional {
            cond: Box::new(cond.expr),
            then: Box::new(then.expr),
            otherwise: Box::new(otherwise.expr),
        };
        self.make(kind, span, below)
    }

    /// `a ? b : c ? d : e` nests to the right: the chain is walked in a loop, then folded.
    #[inline(never)]
    fn ternary(&mut self, pair: Pair<'_, Rule>) -> E {
        let mut links = Vec::new();
        let mut pair = pair;
        let last = loop {
            // `c ?: b` has the `:` right after the `?`.
            let mut rules = pair.clone().into_inner().map(|p| p.as_rule()).skip(1);
            let elvis = rules.next() == Some(Rule::question) && rules.next() == Some(Rule::colon);
            let start = pair.as_span().start();
            let mut parts = significant(pair);
            let Some(cond) = parts.next() else {
                break Lower::invalid(Span::new(start, start));
            };
            let cond = self.expr0(cond);
            let (then, otherwise) = match (elvis, parts.next(), parts.next()) {
                (false, Some(then), Some(otherwise)) => (self.expr0(then), otherwise),
                (true, Some(otherwise), None) => (cond.duplicate(), otherwise),
                _ => break cond,
            };
            links.push((cond, then));
            let chained =
                otherwise.as_rule() == Rule::ternary && Lower::only_child(&otherwise).is_none();
            if chained {
                pair = otherwise;
            } else {
                break self.expr0(otherwise);
            }
        };
        self.fold_ternaries(links, last)
    }

    fn fold_ternaries(&mut self, mut links: Vec<(E, E)>, mut otherwise: E) -> E {
        while let Some((cond, then)) = links.pop() {
            let span = cond.span().to(otherwise.span());
            let below = cond.height.max(then.height).max(otherwise.height);
            otherwise = self.conditional(cond, then, otherwise, span, below);
        }
        otherwise
    }

    // -----------------------------------------------------------------------------------------
    // Operators

    #[inline(never)]
    fn binary(&mut self, pair: Pair<'_, Rule>) -> E {
        let start = pair.as_span().start();
        let mut pieces = Vec::new();
        for part in pair.into_inner() {
            let span = span_of(&part);
            match part.as_rule() {
                Rule::prefix => {
                    let op = match part.as_str() {
                        "-" => UnaryOp::Neg,
                        "+" => UnaryOp::Plus,
                        _ => UnaryOp::Not,
                    };
                    pieces.push(Piece::Prefix(op, span));
                }
                Rule::operand => pieces.push(Piece::Operand(self.operand(part))),
                Rule::infix => pieces.push(Piece::Infix(infix_op(part.as_str()), span)),
                Rule::pipe_call => {
                    if let Some(call) = self.pipe_call(part) {
                        pieces.push(Piece::Pipe(call));
                    }
                }
                _ => {}
            }
        }
        self.climb(start, pieces)
    }

    /// Climbs the flat pieces of one `binary` rule into a tree.
    fn climb(&mut self, start: usize, mut pieces: Vec<Piece>) -> E {
        if let [Piece::Operand(_)] = pieces.as_slice() {
            if let Some(Piece::Operand(only)) = pieces.pop() {
                return only;
            }
        }
        let errors = self.errors.len();
        let mut climber = Climber {
            lower: self,
            pieces: pieces.into_iter().peekable(),
        };
        match climber.expr(0) {
            Some(e) => e,
            None => {
                let span = Span::new(start, start);
                if self.errors.len() == errors {
                    self.error(span, "expected an expression");
                }
                Lower::invalid(span)
            }
        }
    }

    fn unary(&mut self, op: UnaryOp, op_span: Span, operand: E) -> E {
        let span = op_span.to(operand.span());
        let below = operand.height;
        self.make(ExprKind::Unary(op, Box::new(operand.expr)), span, below)
    }

    fn binary_node(&mut self, op: BinaryOp, left: E, right: E) -> E {
        let span = left.span().to(right.span());
        let below = left.height.max(right.height);
        self.make(
            ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr)),
            span,
            below,
        )
    }

    fn call_node(&mut self, name: Spanned<String>, args: Vec<E>, span: Span) -> E {
        let below = args.iter().map(|a| a.height).max().unwrap_or(0);
        let args = args.into_iter().map(|a| a.expr).collect();
        self.make(ExprKind::Call { name, args }, span, below)
    }

    /// Checks the arity of a predicate builtin (Expr rejects it while parsing).
    fn check_predicate_arity(&mut self, name: &Spanned<String>, count: usize, span: Span) {
        let Some((min, max)) = predicate_arity(&name.node) else {
            return;
        };
        if count < min || count > max {
            let wanted = if min == max {
                format!("{min} arguments")
            } else {
                format!("{min} to {max} arguments")
            };
            let name = quote(&name.node);
            self.error(span, format!("`{name}` takes {wanted}, not {count}"))
                .help = Some(format!(
                "the predicate comes second: `{name}(list, {{ … }})`, or `list | {name}({{ … }})`"
            ));
        }
    }

    fn pipe_call(&mut self, pair: Pair<'_, Rule>) -> Option<PipeCall> {
        let call = pair.into_inner().find(|p| p.as_rule() != Rule::dcolon)?;
        let end = call.as_span().end();
        let (name, args) = self.call_parts(call);
        Some(PipeCall { name, args, end })
    }

    /// The name and lowered arguments of `pred_call`, `pipe_pred_call` or `plain_call`.
    #[inline(never)]
    fn call_parts(&mut self, pair: Pair<'_, Rule>) -> (Spanned<String>, Vec<E>) {
        let span = span_of(&pair);
        let mut name = Spanned::new(String::new(), span);
        let mut args = Vec::new();
        for part in significant(pair) {
            match part.as_rule() {
                Rule::pred_name | Rule::ident => name = spanned(&part),
                Rule::call_args => args.extend(significant(part).map(|a| self.expr0(a))),
                Rule::predicate => args.push(self.predicate(part)),
                _ => args.push(self.expr0(part)),
            }
        }
        (name, args)
    }

    fn predicate(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        let braced = pair.as_str().starts_with('{');
        let Some(body) = significant(pair).next() else {
            return Lower::invalid(span);
        };
        let body = self.expr0(body);
        self.closure(body, span, braced)
    }

    /// A predicate argument: a braced one spans its braces.
    fn closure(&mut self, body: E, span: Span, braced: bool) -> E {
        let span = if braced { span } else { body.span() };
        let below = body.height;
        self.make(ExprKind::Closure(Box::new(body.expr)), span, below)
    }

    // -----------------------------------------------------------------------------------------
    // Operands

    #[inline(never)]
    fn operand(&mut self, pair: Pair<'_, Rule>) -> E {
        let mut parts = pair.into_inner();
        let Some(primary) = parts.next() else {
            return Lower::invalid(Span::new(0, 0));
        };
        let mut value = self.expr0(primary);
        for postfix in parts {
            value = match postfix.as_rule() {
                Rule::member => self.member(value, postfix),
                _ => self.index(value, postfix),
            };
        }
        value
    }

    fn member(&mut self, object: E, pair: Pair<'_, Rule>) -> E {
        let mut end = pair.as_span().end();
        let mut optional = false;
        let mut name = None;
        let mut args = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::member_dot => optional = part.as_str() == "?.",
                Rule::prop_name => {
                    end = part.as_span().end();
                    name = Some(spanned(&part));
                }
                _ => {
                    end = part.as_span().end();
                    args = Some(significant(part).map(|a| self.expr0(a)).collect::<Vec<_>>());
                }
            }
        }
        let Some(name) = name else {
            return object;
        };
        self.member_node(object, optional, name, args, end)
    }

    /// `object.name` or `object.name(args)` (`?.` when `optional`), ending at `end`.
    fn member_node(
        &mut self,
        object: E,
        optional: bool,
        name: Spanned<String>,
        args: Option<Vec<E>>,
        end: usize,
    ) -> E {
        let span = Span::new(object.span().start, end);
        match args {
            Some(args) => self.method(object, name, args, optional, span),
            None => {
                let below = object.height;
                let index = Expr {
                    kind: ExprKind::Str(name.node),
                    span: name.span,
                };
                let kind = ExprKind::Member {
                    object: Box::new(object.expr),
                    index: Box::new(index),
                    optional,
                };
                self.make(kind, span, below)
            }
        }
    }

    fn method(
        &mut self,
        receiver: E,
        name: Spanned<String>,
        args: Vec<E>,
        optional: bool,
        span: Span,
    ) -> E {
        let below = args
            .iter()
            .map(|a| a.height)
            .max()
            .unwrap_or(0)
            .max(receiver.height);
        let kind = ExprKind::Method {
            receiver: Box::new(receiver.expr),
            name,
            args: args.into_iter().map(|a| a.expr).collect(),
            optional,
        };
        self.make(kind, span, below)
    }

    fn index(&mut self, object: E, pair: Pair<'_, Rule>) -> E {
        let end = pair.as_span().end();
        let mut optional = false;
        let mut before = None;
        let mut after = None;
        let mut colon = false;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::index_open => optional = part.as_str().starts_with('?'),
                Rule::slice_colon => colon = true,
                Rule::close_bracket => {}
                _ => {
                    let e = self.expr0(part);
                    if colon {
                        after = Some(e);
                    } else {
                        before = Some(e);
                    }
                }
            }
        }
        self.index_node(object, optional, before, after, colon, end)
    }

    /// `object[before]`, or the slice `object[before:after]` when `colon`.
    fn index_node(
        &mut self,
        object: E,
        optional: bool,
        before: Option<E>,
        after: Option<E>,
        colon: bool,
        end: usize,
    ) -> E {
        let span = Span::new(object.span().start, end);
        let below = [Some(&object), before.as_ref(), after.as_ref()]
            .into_iter()
            .flatten()
            .map(|e| e.height)
            .max()
            .unwrap_or(0);
        let kind = if colon {
            ExprKind::Slice {
                object: Box::new(object.expr),
                from: before.map(|e| Box::new(e.expr)),
                to: after.map(|e| Box::new(e.expr)),
            }
        } else {
            let Some(index) = before else {
                return object;
            };
            ExprKind::Member {
                object: Box::new(object.expr),
                index: Box::new(index.expr),
                optional,
            }
        };
        self.make(kind, span, below)
    }

    #[inline(never)]
    fn primary(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::array => {
                let items: Vec<E> = significant(pair).map(|p| self.expr0(p)).collect();
                self.array(items, span)
            }
            Rule::map_lit => self.map_literal(pair),
            Rule::number => {
                let junk = pair
                    .clone()
                    .into_inner()
                    .any(|p| p.as_rule() == Rule::num_junk);
                self.number(pair.as_str(), span, junk)
            }
            Rule::str_lit => self.string(pair.as_str(), span),
            Rule::raw_str => self.raw_string(pair.as_str(), span),
            Rule::bytes_lit => self.bytes_literal(span),
            Rule::pointer => self.pointer(pair.as_str(), span),
            Rule::pointer_field => {
                let mut parts = pair.into_inner();
                let Some(dot_name) = parts.next() else {
                    return Lower::invalid(span);
                };
                let name_span = span_of(&dot_name);
                let args = parts
                    .next()
                    .map(|args| significant(args).map(|a| self.expr0(a)).collect());
                self.pointer_field(dot_name.as_str(), name_span, args, span)
            }
            Rule::literal => self.literal(pair.as_str(), span),
            Rule::call => {
                let Some(call) = pair.into_inner().find(|p| p.as_rule() != Rule::dcolon) else {
                    return Lower::invalid(span);
                };
                let (name, args) = self.call_parts(call);
                self.call(name, args, span)
            }
            Rule::ident => self.leaf(ExprKind::Ident(pair.as_str().to_string()), span),
            _ => self.unexpected(&pair),
        }
    }

    fn array(&mut self, items: Vec<E>, span: Span) -> E {
        let below = items.iter().map(|e| e.height).max().unwrap_or(0);
        let kind = ExprKind::Array(items.into_iter().map(|e| e.expr).collect());
        self.make(kind, span, below)
    }

    fn call(&mut self, name: Spanned<String>, args: Vec<E>, span: Span) -> E {
        self.check_predicate_arity(&name, args.len(), span);
        self.call_node(name, args, span)
    }

    fn raw_string(&mut self, text: &str, span: Span) -> E {
        let body = &text[1..text.len() - 1];
        let value = body
            .replace("``", "`")
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        self.leaf(ExprKind::Str(value), span)
    }

    fn bytes_literal(&mut self, span: Span) -> E {
        self.push(
            Diagnostic::error(
                "scimap::bytes-literal",
                span,
                "byte strings are not supported: scimap has no bytes type",
            )
            .with_help("drop the `b` prefix to write a string"),
        );
        Lower::invalid(span)
    }

    fn pointer(&mut self, text: &str, span: Span) -> E {
        let pointer = match text {
            "#" => Pointer::Element,
            "#index" => Pointer::Index,
            "#acc" => Pointer::Acc,
            other => {
                self.error(span, format!("unknown pointer `{}`", quote(other))).help =
                    Some("inside a predicate, `#` is the element, `#index` its index and `#acc` the accumulator".into());
                return Lower::invalid(span);
            }
        };
        self.leaf(ExprKind::Pointer(pointer), span)
    }

    /// `.name` (a member of `#`) or `.Name(args)` (a method of `#`); `dot_name` is `.name`.
    fn pointer_field(
        &mut self,
        dot_name: &str,
        name_span: Span,
        args: Option<Vec<E>>,
        span: Span,
    ) -> E {
        let name = dot_name[1..].to_string();
        match args {
            Some(args) => {
                let element = self.leaf(
                    ExprKind::Pointer(Pointer::Element),
                    Span::new(span.start, span.start),
                );
                let name = Spanned::new(name, Span::new(name_span.start + 1, name_span.end));
                self.method(element, name, args, false, span)
            }
            None => self.leaf(ExprKind::PointerField(name), span),
        }
    }

    fn literal(&mut self, text: &str, span: Span) -> E {
        let kind = match text {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            _ => ExprKind::Nil,
        };
        self.leaf(kind, span)
    }

    #[inline(never)]
    fn map_literal(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        let mut entries = Vec::new();
        for entry in significant(pair) {
            let mut parts = significant(entry);
            let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            let key = match key.into_inner().next() {
                Some(k) => self.map_key(k),
                None => continue,
            };
            let value = self.expr0(value);
            entries.push((key, value));
        }
        self.map(entries, span)
    }

    fn map(&mut self, entries: Vec<(E, E)>, span: Span) -> E {
        let below = entries
            .iter()
            .map(|(k, v)| k.height.max(v.height))
            .max()
            .unwrap_or(0);
        let entries = entries.into_iter().map(|(k, v)| (k.expr, v.expr)).collect();
        self.make(ExprKind::Map(entries), span, below)
    }

    fn map_key(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::str_lit => self.string(pair.as_str(), span),
            Rule::raw_str => self.raw_string(pair.as_str(), span),
            // Expr keys a number by its literal text: `{1_0: "a"}` has the key "1_0".
            Rule::number | Rule::key_word => {
                self.leaf(ExprKind::Str(pair.as_str().to_string()), span)
            }
            _ => self.expr0(pair),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Literals

    #[inline(never)]
    fn number(&mut self, text: &str, span: Span, junk: bool) -> E {
        if junk {
            self.error(span, format!("invalid number `{}`", quote(text)))
                .help = Some("a number cannot be followed directly by a letter".into());
            return Lower::invalid(span);
        }
        match parse_number(text) {
            Ok(kind) => self.leaf(kind, span),
            Err(NumberError::Range) => {
                self.push(
                    Diagnostic::error(
                        "scimap::number-range",
                        span,
                        format!("the number `{}` is out of range", quote(text)),
                    )
                    .with_help(
                        "integers are 64-bit: from -9223372036854775808 to 9223372036854775807",
                    ),
                );
                Lower::invalid(span)
            }
            Err(NumberError::Syntax) => {
                self.error(span, format!("invalid number `{}`", quote(text)));
                Lower::invalid(span)
            }
        }
    }

    /// A `"…"` or `'…'` literal with Expr's escapes.
    #[inline(never)]
    fn string(&mut self, text: &str, span: Span) -> E {
        let quote = text.chars().next().unwrap_or('"');
        let body = text
            .get(1..text.len().saturating_sub(1))
            .unwrap_or_default();
        let mut value = String::with_capacity(body.len());
        let mut rest = body;
        let mut offset = span.start + 1;
        let mut ok = true;
        while let Some(i) = rest.find('\\') {
            value.push_str(&rest[..i]);
            let escape = &rest[i..];
            match decode_escape(escape, quote) {
                Ok((ch, len)) => {
                    value.push(ch);
                    rest = &escape[len..];
                    offset += i + len;
                }
                Err((len, message)) => {
                    ok = false;
                    let at = offset + i;
                    self.push(
                        Diagnostic::error("scimap::bad-escape", Span::new(at, at + len), message)
                            .with_help("string escapes: \\a \\b \\f \\n \\r \\t \\v \\\\, a backslash before the opening quote, \\ooo (octal up to \\377), \\xHH, \\uHHHH, \\u{H…} and \\UHHHHHHHH"),
                    );
                    rest = &escape[len..];
                    offset += i + len;
                }
            }
        }
        value.push_str(rest);
        if ok {
            self.leaf(ExprKind::Str(value), span)
        } else {
            Lower::invalid(span)
        }
    }
}

impl E {
    /// The text of a string literal (header strings), or nothing after an error.
    fn expr_string(&self) -> String {
        match &self.expr.kind {
            ExprKind::Str(s) => s.clone(),
            _ => String::new(),
        }
    }
}

/// A JSON Path source: its text without trailing blanks.
fn direct(text: &str, begin: usize) -> Source {
    let text = text.trim_end();
    let span = Span::new(begin, begin + text.len());
    Source::Direct(Spanned::new(text.to_string(), span))
}

fn section_word(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::User => "user",
        SectionKind::Group => "group",
    }
}

/// Decodes the escape at the start of `s` (which begins with `\`): the character and the
/// escape's byte length, or the length to blame and a message.
fn decode_escape(s: &str, quote: char) -> Result<(char, usize), (usize, String)> {
    let mut chars = s.chars().skip(1);
    let Some(c) = chars.next() else {
        return Err((1, "a string cannot end with a lone `\\`".into()));
    };
    let simple = match c {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        _ if c == quote => Some(c),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch, 1 + c.len_utf8()));
    }
    let bad = |len: usize| {
        Err((
            len,
            format!("invalid escape `{}` in a string literal", &s[..len]),
        ))
    };
    let (digits, radix, skip, close) = match c {
        '0'..='7' => (3, 8, 1, 0),
        'x' => (2, 16, 2, 0),
        'U' => (8, 16, 2, 0),
        'u' if s[2..].starts_with('{') => {
            let n = s[3..].bytes().take_while(u8::is_ascii_hexdigit).count();
            if n == 0 || n > 6 || s.as_bytes().get(3 + n) != Some(&b'}') {
                return bad(3 + n.min(6));
            }
            (n, 16, 3, 1)
        }
        'u' => (4, 16, 2, 0),
        _ => return bad(1 + c.len_utf8()),
    };
    let len = skip + digits + close;
    let Some(text) = s.get(skip..skip + digits) else {
        return bad(2);
    };
    let Ok(code) = u32::from_str_radix(text, radix) else {
        return bad(2);
    };
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) || (radix == 8 && code > 0o377) {
        return bad(len);
    }
    match char::from_u32(code) {
        Some(ch) => Ok((ch, len)),
        None => Err((
            len,
            format!("`{}` is not a Unicode scalar value", &s[..len]),
        )),
    }
}

enum NumberError {
    Syntax,
    Range,
}

/// Converts a number literal the way Expr does: `_` dropped, `0x`/`0o`/`0b` prefixes, a `.` or
/// an `e` makes a float.
fn parse_number(text: &str) -> Result<ExprKind, NumberError> {
    use std::num::IntErrorKind;
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let lower = digits.to_ascii_lowercase();
    let int = |s: &str, radix: u32| {
        i64::from_str_radix(s, radix)
            .map(ExprKind::Int)
            .map_err(|e| match e.kind() {
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => NumberError::Range,
                _ => NumberError::Syntax,
            })
    };
    if let Some(hex) = lower.strip_prefix("0x") {
        int(hex, 16)
    } else if lower.contains(['.', 'e']) {
        match lower.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(ExprKind::Float(f)),
            Ok(_) => Err(NumberError::Range),
            Err(_) => Err(NumberError::Syntax),
        }
    } else if let Some(bin) = lower.strip_prefix("0b") {
        int(bin, 2)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        int(oct, 8)
    } else {
        int(&lower, 10)
    }
}

/// Climbs the flat operator sequence of one `binary` rule the way Expr's parser does.
struct Climber<'l, 's> {
    lower: &'l mut Lower<'s>,
    pieces: std::iter::Peekable<std::vec::IntoIter<Piece>>,
}

impl Climber<'_, '_> {
    /// Expr's parseExpression(precedence), minus the statements and the ternary. A run of
    /// prefix operators is unwound in a loop: each one's operand continues at its own level.
    fn expr(&mut self, min: u32) -> Option<E> {
        let mut prefixes = Vec::new();
        let mut left = loop {
            match self.pieces.next()? {
                Piece::Prefix(op, span) => prefixes.push((op, span)),
                Piece::Operand(e) => break e,
                Piece::Infix(_, span)
                | Piece::Pipe(PipeCall {
                    name: Spanned { span, .. },
                    ..
                }) => {
                    self.lower.error(span, "expected an expression");
                    return None;
                }
            }
        };
        while let Some((op, span)) = prefixes.pop() {
            let power = if op == UnaryOp::Not { 50 } else { 90 };
            left = self.climb(left, power)?;
            left = self.lower.unary(op, span, left);
        }
        self.climb(left, min)
    }

    /// The binary operators after `left` that bind at least as tightly as `min`.
    fn climb(&mut self, mut left: E, min: u32) -> Option<E> {
        let mut after_coalesce = false;
        loop {
            let power = match self.pieces.peek() {
                Some(Piece::Infix(op, _)) => binding_power(*op),
                Some(Piece::Pipe(_)) => 0,
                _ => break,
            };
            if power < min {
                break;
            }
            match self.pieces.next() {
                Some(Piece::Pipe(call)) => {
                    left = self.pipe(left, call);
                    after_coalesce = false;
                }
                Some(Piece::Infix(op, span)) => {
                    if after_coalesce && op != BinaryOp::Coalesce {
                        self.lower
                            .error(
                                span,
                                format!("operator `{}` and `??` cannot be mixed; wrap either in parentheses", op.symbol()),
                            )
                            .help = Some("write `(a ?? b) + c` or `a ?? (b + c)`".into());
                        return None;
                    }
                    left = if is_ordering(op) {
                        self.comparison(left, op)?
                    } else {
                        let right_power = if op == BinaryOp::Pow {
                            power
                        } else {
                            power + 1
                        };
                        let right = self.expr(right_power)?;
                        self.lower.binary_node(op, left, right)
                    };
                    after_coalesce = op == BinaryOp::Coalesce;
                }
                _ => break,
            }
        }
        Some(left)
    }

    /// `a < b < c` is `(a < b) and (b < c)`.
    fn comparison(&mut self, mut left: E, mut op: BinaryOp) -> Option<E> {
        let mut root: Option<E> = None;
        loop {
            let right = self.expr(binding_power(op) + 1)?;
            let middle = right.duplicate();
            let compare = self.lower.binary_node(op, left, right);
            root = Some(match root.take() {
                None => compare,
                Some(r) => self.lower.binary_node(BinaryOp::And, r, compare),
            });
            left = middle;
            match self.pieces.peek() {
                Some(Piece::Infix(next, _)) if is_ordering(*next) => {
                    op = *next;
                    self.pieces.next();
                }
                _ => break,
            }
        }
        root
    }

    fn pipe(&mut self, left: E, call: PipeCall) -> E {
        let span = Span::new(left.span().start, call.end);
        let mut args = Vec::with_capacity(call.args.len() + 1);
        args.push(left);
        args.extend(call.args);
        self.lower
            .check_predicate_arity(&call.name, args.len(), span);
        self.lower.call_node(call.name, args, span)
    }
}

// ---------------------------------------------------------------------------------------------
// pest errors in words

fn syntax_error(src: &str, err: &pest::error::Error<Rule>, file: bool) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let (found, span) = found_token(src, pos);
    if src.get(pos..).is_some_and(|r| r.starts_with('#')) && !positives.contains(&Rule::pointer) {
        return Diagnostic::error("scimap::hash-comment", span, "`#` is not a comment here")
            .with_help("use `//` for comments");
    }
    let expected = expected(positives, file);
    let mut d = Diagnostic::error("scimap::syntax", span, format!("{expected}, found {found}"));
    let operator_first = src
        .get(pos..)
        .and_then(|r| r.chars().next())
        .is_some_and(|c| "+-*/%^=!<>&|?:.".contains(c));
    let entry_expected = positives.contains(&Rule::target) || positives.contains(&Rule::entry);
    if entry_expected && operator_first {
        d = d.with_help(
            "a line cannot start with an operator: to continue an expression, end the previous line with the operator",
        );
    }
    d
}

/// What the parser expected, from the rules pest tried at the failure position.
fn expected(positives: &[Rule], file: bool) -> String {
    let has = |r: Rule| positives.contains(&r);
    let expression = [
        Rule::seq,
        Rule::ternary,
        Rule::binary,
        Rule::prefix,
        Rule::operand,
        Rule::paren,
        Rule::number,
        Rule::str_lit,
        Rule::literal,
        Rule::ident,
        Rule::call,
        Rule::predicate,
    ]
    .iter()
    .any(|r| has(*r));
    let simple = [
        (Rule::assign, "expected `=` after the target"),
        (
            Rule::setting,
            "expected a setting `key = value` or the `}` closing the app profile",
        ),
        (
            Rule::profile_path,
            "expected a value: a word such as `patch`, a count, or a list `[attribute, …]`",
        ),
        (
            Rule::target,
            "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section",
        ),
        // An entry may start with `create`: pest names the entry rather than its first rule.
        (
            Rule::entry,
            "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section",
        ),
        (
            Rule::section_kw,
            "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`",
        ),
        (Rule::json_value, "expected a JSON value"),
        (
            Rule::json_member,
            "expected a JSON object member `\"key\": value`",
        ),
        (
            Rule::filter_eq,
            "expected `eq`: a target filter can only test equality",
        ),
        (
            Rule::filter_value,
            "expected a JSON literal: a string, a number, `true`, `false` or `null`",
        ),
        (Rule::filter_term, "expected a filter `attribute eq value`"),
        (Rule::attr_name, "expected an attribute name"),
        (Rule::pipe_call, "expected a function call after `|`"),
        (Rule::prop_name, "expected a name after `.`"),
    ];
    if [Rule::file, Rule::section, Rule::app, Rule::schema]
        .iter()
        .any(|r| has(*r))
    {
        return "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`".into();
    }
    if let Some((_, message)) = simple.iter().find(|(r, _)| has(*r)) {
        return (*message).to_string();
    }
    if expression {
        return "expected an expression".into();
    }
    if has(Rule::ident) {
        return "expected a name".into();
    }
    if has(Rule::kw_else) {
        return "expected `else`: an `if` needs an `else` branch".into();
    }
    if has(Rule::str_lit) {
        return "expected a string".into();
    }
    if positives == [Rule::open_paren] {
        return "expected `(`".into();
    }
    let mut closers: Vec<&str> = [
        (Rule::comma, "`,`"),
        (Rule::colon, "`:`"),
        (Rule::semi, "`;`"),
        (Rule::close_paren, "`)`"),
        (Rule::close_bracket, "`]`"),
        (Rule::close_brace, "`}`"),
        (Rule::open_brace, "`{`"),
        (Rule::filter_and, "`and`"),
    ]
    .iter()
    .filter(|(r, _)| has(*r))
    .map(|(_, s)| *s)
    .collect();
    // A `;` continues a sequence anywhere; name it only when nothing else fits.
    let operator = has(Rule::infix) || has(Rule::question) || has(Rule::pipe);
    if closers.len() > 1 || has(Rule::EOI) {
        closers.retain(|c| *c != "`;`");
    }
    match closers.as_slice() {
        ["`;`"] if operator => "expected an operator or `;`".into(),
        [one] if one.starts_with("`)") || one.starts_with("`]") || one.starts_with("`}") => {
            format!("expected a closing {one}")
        }
        [] if operator && !file => "expected an operator or the end of the expression".into(),
        [] if operator => "expected an operator or the end of the line".into(),
        [] if has(Rule::EOI) => "expected the end of the file".into(),
        [] => "unexpected text".into(),
        [init @ .., last] => {
            if init.is_empty() {
                format!("expected {last}")
            } else {
                format!("expected {} or {last}", init.join(", "))
            }
        }
    }
}

/// Names the token at `pos` for a message, with its span.
fn found_token(src: &str, pos: usize) -> (String, Span) {
    let rest = src.get(pos..).unwrap_or_default();
    let Some(c) = rest.chars().next() else {
        return ("the end of the file".into(), Span::new(pos, pos));
    };
    if c == '\n' || rest.starts_with("\r\n") {
        return ("the end of the line".into(), Span::new(pos, pos));
    }
    let word_len = |pred: fn(char) -> bool| {
        rest.char_indices()
            .find(|&(_, ch)| !pred(ch))
            .map_or(rest.len(), |(i, _)| i)
    };
    let len = if c.is_alphanumeric() || c == '_' || c == '$' {
        word_len(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
    } else if [
        "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "**", "..", "::",
    ]
    .iter()
    .any(|op| rest.starts_with(op))
    {
        2
    } else {
        c.len_utf8()
    };
    let token = &rest[..len];
    // Control characters are named, not echoed: a hostile mapping must not write escape
    // sequences to a terminal or a CI log through a diagnostic.
    if c.is_control() {
        return (
            format!("the control character U+{:04X}", c as u32),
            Span::new(pos, pos + len),
        );
    }
    (format!("`{}`", quote(token)), Span::new(pos, pos + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The tree as an s-expression: `(+ 1 (* 2 3))`, calls `(f a)`, members `(. a "b")`.
    fn sx(e: &Expr) -> String {
        let list = |xs: &[Expr]| xs.iter().map(sx).collect::<Vec<_>>().join(" ");
        match &e.kind {
            ExprKind::Nil => "nil".into(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Float(f) => format!("{f:?}"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Pointer(Pointer::Element) => "#".into(),
            ExprKind::Pointer(Pointer::Index) => "#index".into(),
            ExprKind::Pointer(Pointer::Acc) => "#acc".into(),
            ExprKind::PointerField(n) => format!(".{n}"),
            ExprKind::Array(xs) => format!("[{}]", list(xs)),
            ExprKind::Map(kvs) => {
                let kvs: Vec<String> = kvs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", sx(k), sx(v)))
                    .collect();
                format!("{{{}}}", kvs.join(", "))
            }
            ExprKind::Unary(op, x) => {
                let op = match op {
                    UnaryOp::Neg => "neg",
                    UnaryOp::Plus => "pos",
                    UnaryOp::Not => "not",
                };
                format!("({op} {})", sx(x))
            }
            ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sx(a), sx(b)),
            ExprKind::Member {
                object,
                index,
                optional,
            } => {
                format!(
                    "({} {} {})",
                    if *optional { "?." } else { "." },
                    sx(object),
                    sx(index)
                )
            }
            ExprKind::Slice { object, from, to } => {
                let bound = |b: &Option<Box<Expr>>| b.as_ref().map_or("_".into(), |b| sx(b));
                format!("(slice {} {} {})", sx(object), bound(from), bound(to))
            }
            ExprKind::Call { name, args } if args.is_empty() => format!("({})", name.node),
            ExprKind::Call { name, args } => format!("({} {})", name.node, list(args)),
            ExprKind::Method {
                receiver,
                name,
                args,
                optional,
            } => {
                let dot = if *optional { "?." } else { "." };
                let args = if args.is_empty() {
                    String::new()
                } else {
                    format!(" {}", list(args))
                };
                format!("({dot}{} {}{args})", name.node, sx(receiver))
            }
            ExprKind::Closure(body) => format!("{{{}}}", sx(body)),
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                format!("(if {} {} {})", sx(cond), sx(then), sx(otherwise))
            }
            ExprKind::Let { name, value, body } => {
                format!("(let {} {} {})", name.node, sx(value), sx(body))
            }
            ExprKind::Sequence(xs) => format!("(seq {})", list(xs)),
        }
    }

    fn expr(src: &str) -> Expr {
        match parse_expression(src, &Limits::default()) {
            Ok(e) => e,
            Err(d) => panic!("{src:?} failed: {d:#?}"),
        }
    }

    fn p(src: &str) -> String {
        sx(&expr(src))
    }

    fn expr_err(src: &str) -> Diagnostic {
        match parse_expression(src, &Limits::default()) {
            Ok(e) => panic!("{src:?} parsed as {}", sx(&e)),
            Err(mut d) => d.remove(0),
        }
    }

    fn file(src: &str) -> File {
        match parse_file(src, &Limits::default()) {
            Ok(f) => f,
            Err(d) => panic!("{src:?} failed: {d:#?}"),
        }
    }

    fn file_errs(src: &str) -> Vec<Diagnostic> {
        match parse_file(src, &Limits::default()) {
            Ok(f) => panic!("{src:?} parsed: {f:#?}"),
            Err(d) => d,
        }
    }

    fn file_err(src: &str) -> Diagnostic {
        file_errs(src).remove(0)
    }

    fn entries(src: &str) -> Vec<Entry> {
        file(&format!("user {{\n{src}\n}}\n"))
            .sections
            .remove(0)
            .items
            .into_iter()
            .filter_map(|i| match i {
                Item::Entry(e) => Some(e),
                Item::Let(_) => None,
            })
            .collect()
    }

    fn entry(src: &str) -> Entry {
        entries(src).remove(0)
    }

    fn source_sx(src: &str) -> String {
        match entry(src).source {
            Source::Expr(e) => sx(&e),
            other => panic!("not an expression: {other:?}"),
        }
    }

    fn at(src: &str, d: &Diagnostic) -> String {
        src[d.span.start..d.span.end].to_string()
    }

    #[test]
    fn literals() {
        assert_eq!(p("42"), "42");
        assert_eq!(p("1_000"), "1000");
        assert_eq!(p("1__0"), "10");
        assert_eq!(p("1_"), "1");
        assert_eq!(p("0x2A"), "42");
        assert_eq!(p("0X_ff"), "255");
        assert_eq!(p("0o52"), "42");
        assert_eq!(p("0b101"), "5");
        assert_eq!(p("0.5"), "0.5");
        assert_eq!(p(".5"), "0.5");
        assert_eq!(p("1."), "1.0");
        assert_eq!(p("1e3"), "1000.0");
        assert_eq!(p("1.5e-2"), "0.015");
        assert_eq!(p("1E3"), "1000.0");
        assert_eq!(p("9223372036854775807"), "9223372036854775807");
        assert_eq!(p("1..3"), "(.. 1 3)");
        assert_eq!(p("true"), "true");
        assert_eq!(p("false"), "false");
        assert_eq!(p("nil"), "nil");
        assert_eq!(p("[1, 'a', x,]"), "[1 \"a\" x]");
        assert_eq!(p("[]"), "[]");
        assert_eq!(p("{}"), "{}");
        assert_eq!(
            p("{a: 1, \"b\": 2, 3: \"c\", (k): v,}"),
            "{\"a\": 1, \"b\": 2, \"3\": \"c\", k: v}"
        );
        assert_eq!(
            p("{1_0: 1, 0x1: 2, true: 3, `r`: 4}"),
            "{\"1_0\": 1, \"0x1\": 2, \"true\": 3, \"r\": 4}"
        );
        assert_eq!(p("{(a) + \"x\": 1}"), "{(+ a \"x\"): 1}");
    }

    #[test]
    fn number_errors() {
        let d = expr_err("9223372036854775808");
        assert_eq!((d.code, d.span), ("scimap::number-range", Span::new(0, 19)));
        assert_eq!(
            expr_err("-9223372036854775808").code,
            "scimap::number-range"
        );
        assert_eq!(expr_err("0x8000000000000000").code, "scimap::number-range");
        assert_eq!(expr_err("1e400").code, "scimap::number-range");
        let d = expr_err("1abc");
        assert_eq!(
            (d.code, d.message.as_str()),
            ("scimap::syntax", "invalid number `1abc`")
        );
        assert_eq!(expr_err("1e").message, "invalid number `1e`");
        assert_eq!(expr_err("0x").message, "invalid number `0x`");
        assert_eq!(expr_err("0b12").message, "invalid number `0b12`");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(p(r#""a\"b""#), r#""a\"b""#);
        assert_eq!(p(r"'a\'b'"), r#""a'b""#);
        assert_eq!(
            p(r#""\a\b\f\n\r\t\v\\""#),
            r#""\u{7}\u{8}\u{c}\n\r\t\u{b}\\""#
        );
        assert_eq!(
            p(r#""\101\x41\u0041\U00000041\u{41}\u{1F600}""#),
            "\"AAAAA😀\""
        );
        assert_eq!(p(r#""\377""#), "\"ÿ\"");
        assert_eq!(p("\"héllo\""), "\"héllo\"");
        assert_eq!(p("`a\\n``b`"), r#""a\\n`b""#);
        assert_eq!(p("`line\r\nnext`"), r#""line\nnext""#);
        assert_eq!(p("``"), r#""""#);
        for bad in [
            r#""\'""#,
            r#"'\"'"#,
            r#""\q""#,
            r#""\400""#,
            r#""\8""#,
            r#""\x4""#,
            r#""\u12""#,
            r#""\u{}""#,
            r#""\u{1234567}""#,
            r#""\0""#,
        ] {
            assert_eq!(expr_err(bad).code, "scimap::bad-escape", "{bad}");
        }
        let d = expr_err(r#""ok \q ok""#);
        assert_eq!(
            (d.span, d.message.as_str()),
            (Span::new(4, 6), "invalid escape `\\q` in a string literal")
        );
        let d = expr_err(r#""\uD800""#);
        assert_eq!((d.code, d.span), ("scimap::bad-escape", Span::new(1, 7)));
        assert_eq!(d.message, "`\\uD800` is not a Unicode scalar value");
        assert_eq!(expr_err(r#""\U00110000""#).code, "scimap::bad-escape");
        let d = expr_err("\"abc\ndef\"");
        assert_eq!(
            (d.code, d.message.as_str()),
            ("scimap::syntax", "string literal not terminated")
        );
        assert_eq!(
            expr_err("`abc").message,
            "raw string literal not terminated"
        );
        let d = expr_err("b\"abc\"");
        assert_eq!((d.code, d.span), ("scimap::bytes-literal", Span::new(0, 6)));
        assert_eq!(expr_err("b'x'").code, "scimap::bytes-literal");
        assert_eq!(p("b"), "b");
    }

    #[test]
    fn identifiers_pointers_and_calls() {
        assert_eq!(p("$env"), "$env");
        assert_eq!(p("$env.firstname"), "(. $env \"firstname\")");
        assert_eq!(p("_x1"), "_x1");
        assert_eq!(p("naïve"), "naïve");
        assert_eq!(p("timezone"), "timezone");
        assert_eq!(p("timezone(\"UTC\")"), "(timezone \"UTC\")");
        assert_eq!(p("now()"), "(now)");
        assert_eq!(p("::upper(x)"), "(upper x)");
        assert_eq!(p("f(a, b,)"), "(f a b)");
        assert_eq!(
            p("m.in + m.not + m.let"),
            "(+ (+ (. m \"in\") (. m \"not\")) (. m \"let\"))"
        );
        assert_eq!(p("a?.b.c"), "(. (?. a \"b\") \"c\")");
        assert_eq!(p("a[0]?.[1]"), "(?. (. a 0) 1)");
        assert_eq!(p("a[1:2]"), "(slice a 1 2)");
        assert_eq!(p("a[:2]"), "(slice a _ 2)");
        assert_eq!(p("a[1:]"), "(slice a 1 _)");
        assert_eq!(p("a[:]"), "(slice a _ _)");
        assert_eq!(p("a[b ? 1 : 2]"), "(. a (if b 1 2))");
        assert_eq!(p("\"abc\"[0:1]"), "(slice \"abc\" 0 1)");
        assert_eq!(p("date(x).Format(\"2006\")"), "(.Format (date x) \"2006\")");
        assert_eq!(p("d?.Year()"), "(?.Year d)");
        assert_eq!(p("f(x).y[0]"), "(. (. (f x) \"y\") 0)");
        assert_eq!(p("#"), "#");
        assert_eq!(p("#index + #acc"), "(+ #index #acc)");
        assert_eq!(p(".name"), ".name");
        assert_eq!(p(".a.b"), "(. .a \"b\")");
        assert_eq!(p(".Year()"), "(.Year #)");
        assert_eq!(p("#.a"), "(. # \"a\")");
        assert_eq!(expr_err("#foo").message, "unknown pointer `#foo`");
    }

    #[test]
    fn precedence() {
        assert_eq!(p("1 + 2 * 3"), "(+ 1 (* 2 3))");
        assert_eq!(p("(1 + 2) * 3"), "(* (+ 1 2) 3)");
        assert_eq!(p("1 - 2 - 3"), "(- (- 1 2) 3)");
        assert_eq!(p("a / b % c"), "(% (/ a b) c)");
        assert_eq!(p("2 ** 3 ** 2"), "(** 2 (** 3 2))");
        assert_eq!(p("2 ^ 3 ^ 2"), "(** 2 (** 3 2))");
        assert_eq!(p("-2 ** 2"), "(neg (** 2 2))");
        assert_eq!(p("-a * b"), "(* (neg a) b)");
        assert_eq!(p("+a"), "(pos a)");
        assert_eq!(p("- - a"), "(neg (neg a))");
        assert_eq!(p("!a * b"), "(not (* a b))");
        assert_eq!(p("not a == b"), "(== (not a) b)");
        assert_eq!(p("!a && b"), "(and (not a) b)");
        assert_eq!(p("not not a"), "(not (not a))");
        assert_eq!(p("a + b .. c * d"), "(.. (+ a b) (* c d))");
        assert_eq!(p("a .. b == c"), "(== (.. a b) c)");
        assert_eq!(
            p("a == b and c != d or e"),
            "(or (and (== a b) (!= c d)) e)"
        );
        assert_eq!(p("a || b && c"), "(or a (and b c))");
        assert_eq!(p("a in b"), "(in a b)");
        assert_eq!(p("a not in b"), "(not in a b)");
        assert_eq!(p("a not   matches b"), "(not matches a b)");
        assert_eq!(p("a not\n contains b"), "(not contains a b)");
        assert_eq!(
            p("a not startsWith b or a not endsWith c"),
            "(or (not startsWith a b) (not endsWith a c))"
        );
        assert_eq!(
            p("a matches b and a contains c"),
            "(and (matches a b) (contains a c))"
        );
        assert_eq!(p("a + b not in c"), "(not in (+ a b) c)");
        assert_eq!(p("a == b == c"), "(== (== a b) c)");
    }

    #[test]
    fn chained_comparisons() {
        assert_eq!(p("a < b < c"), "(and (< a b) (< b c))");
        assert_eq!(p("a < b <= c > d"), "(and (and (< a b) (<= b c)) (> c d))");
        assert_eq!(p("1 < x + 1 >= 2"), "(and (< 1 (+ x 1)) (>= (+ x 1) 2))");
        assert_eq!(p("a < b == c"), "(== (< a b) c)");
        assert_eq!(p("a == b < c"), "(< (== a b) c)");
    }

    #[test]
    fn coalesce() {
        assert_eq!(p("a ?? b"), "(?? a b)");
        assert_eq!(p("a ?? b ?? c"), "(?? (?? a b) c)");
        assert_eq!(p("a + b ?? c"), "(+ a (?? b c))");
        assert_eq!(p("a * b ?? c + d"), "(+ (* a (?? b c)) d)");
        assert_eq!(p("-a ?? b"), "(neg (?? a b))");
        assert_eq!(p("a ?? b | lower()"), "(lower (?? a b))");
        assert_eq!(p("(a ?? b) + c"), "(+ (?? a b) c)");
        assert_eq!(p("a ?? (b + c)"), "(?? a (+ b c))");
        assert_eq!(p("a ?? b ? c : d"), "(if (?? a b) c d)");
        let d = expr_err("a ?? b + c");
        assert_eq!(
            d.message,
            "operator `+` and `??` cannot be mixed; wrap either in parentheses"
        );
        assert_eq!(d.span, Span::new(7, 8));
        assert_eq!(
            expr_err("a ?? b == c").message,
            "operator `==` and `??` cannot be mixed; wrap either in parentheses"
        );
        assert_eq!(expr_err("x ?? y and z").code, "scimap::syntax");
    }

    #[test]
    fn pipes() {
        assert_eq!(p("x | lower()"), "(lower x)");
        assert_eq!(p("x | f(a, b)"), "(f x a b)");
        assert_eq!(p("x | trim() | upper()"), "(upper (trim x))");
        assert_eq!(p("a + b | f()"), "(f (+ a b))");
        assert_eq!(p("a or b | f()"), "(f (or a b))");
        assert_eq!(p("a | f() + 1"), "(+ (f a) 1)");
        assert_eq!(p("a | f() ? b : c"), "(if (f a) b c)");
        assert_eq!(p("xs | filter(.a > 1)"), "(filter xs {(> .a 1)})");
        assert_eq!(p("xs | map({# * 2})"), "(map xs {(* # 2)})");
        assert_eq!(p("xs | count()"), "(count xs)");
        assert_eq!(p("xs | reduce(#acc + #, 0)"), "(reduce xs {(+ #acc #)} 0)");
        assert_eq!(
            expr_err("x | lower").message,
            "expected `(`, found the end of the file"
        );
        assert_eq!(
            expr_err("x | 1").message,
            "expected a function call after `|`, found `1`"
        );
    }

    #[test]
    fn predicates_closures_and_maps() {
        assert_eq!(p("filter(xs, .a > 1)"), "(filter xs {(> .a 1)})");
        assert_eq!(p("filter(xs, {.a > 1})"), "(filter xs {(> .a 1)})");
        assert_eq!(p("map(xs, {{a: #}})"), "(map xs {{\"a\": #}})");
        assert_eq!(p("all(xs, # in [1, 2])"), "(all xs {(in # [1 2])})");
        assert_eq!(p("count(xs)"), "(count xs)");
        assert_eq!(p("sum(xs, .n)"), "(sum xs {.n})");
        assert_eq!(
            p("sortBy(xs, .name, \"desc\")"),
            "(sortBy xs {.name} \"desc\")"
        );
        assert_eq!(p("reduce(xs, #acc + #, 0)"), "(reduce xs {(+ #acc #)} 0)");
        assert_eq!(
            p("map(xs, {let y = #; y + 1})"),
            "(map xs {(let y # (+ y 1))})"
        );
        assert_eq!(
            p("map(xs, let y = #; y + 1)"),
            "(map xs {(let y # (+ y 1))})"
        );
        assert_eq!(p("filter(xs, {a; b})"), "(filter xs {(seq a b)})");
        assert_eq!(
            p("map(xs, any(.ys, # == 1))"),
            "(map xs {(any .ys {(== # 1)})})"
        );
        assert_eq!(p("find(xs, .a)?.b"), "(?. (find xs {.a}) \"b\")");
        assert_eq!(p("f(xs, {a: 1})"), "(f xs {\"a\": 1})");
        assert_eq!(p("{a: {b: []}}"), "{\"a\": {\"b\": []}}");
        // A field may share a predicate builtin's name.
        assert_eq!(p("filter + count"), "(+ filter count)");
        let d = expr_err("filter(xs)");
        assert_eq!(d.message, "`filter` takes 2 arguments, not 1");
        assert_eq!(
            expr_err("map(xs, .a, 1)").message,
            "`map` takes 2 arguments, not 3"
        );
        assert_eq!(
            expr_err("xs | filter()").message,
            "`filter` takes 2 arguments, not 1"
        );
        assert_eq!(
            expr_err("sortBy(xs, .a, 1, 2)").message,
            "`sortBy` takes 2 to 3 arguments, not 4"
        );
        assert_eq!(expr_err("filter(xs, {a: 1})").code, "scimap::syntax");
        assert_eq!(
            expr_err("filter(xs, {})").message,
            "expected an expression, found `}`"
        );
    }

    #[test]
    fn ternary_if_let_and_sequences() {
        assert_eq!(p("a ? b : c"), "(if a b c)");
        assert_eq!(p("a ? b : c ? d : e"), "(if a b (if c d e))");
        assert_eq!(p("a ? b ? c : d : e"), "(if a (if b c d) e)");
        assert_eq!(p("a ?: b"), "(if a a b)");
        assert_eq!(p("a ? : b"), "(if a a b)");
        assert_eq!(p("a or b ? c + 1 : d"), "(if (or a b) (+ c 1) d)");
        assert_eq!(p("if a { b } else { c }"), "(if a b c)");
        assert_eq!(
            p("if a { b } else if c { d } else { e }"),
            "(if a b (if c d e))"
        );
        assert_eq!(
            p("if x > 1 { let y = 2; y } else { 0 }"),
            "(if (> x 1) (let y 2 y) 0)"
        );
        assert_eq!(p("let x = 1; x + 1"), "(let x 1 (+ x 1))");
        assert_eq!(
            p("let x = 1; let y = 2; x + y"),
            "(let x 1 (let y 2 (+ x y)))"
        );
        assert_eq!(p("let x = a ? 1 : 2; x"), "(let x (if a 1 2) x)");
        assert_eq!(p("let x = 1; x; x + 1"), "(let x 1 (seq x (+ x 1)))");
        assert_eq!(p("a; b; c"), "(seq a b c)");
        assert_eq!(p("a;"), "a");
        assert_eq!(p("(a; b)"), "(seq a b)");
        assert_eq!(p("[let x = 1; x, 2]"), "[(let x 1 x) 2]");
        assert_eq!(p("f(if a { 1 } else { 2 })"), "(f (if a 1 2))");
        assert_eq!(p("a ? let x = 1; x : 2"), "(if a (let x 1 x) 2)");
        assert_eq!(p("if a {b} else {c}; d"), "(seq (if a b c) d)");
        assert_eq!(
            expr_err("if a { b }").message,
            "expected `else`: an `if` needs an `else` branch, found the end of the file"
        );
        assert_eq!(
            expr_err("1 + let x = 1; x").message,
            "expected an expression, found `let`"
        );
        assert_eq!(
            expr_err("let x = 1").message,
            "expected an operator or `;`, found the end of the file"
        );
    }

    #[test]
    fn control_characters_are_named_not_echoed() {
        let e = parse_file("user {\n  userName = \u{1b}[31m\n}\n", &Limits::default()).unwrap_err();
        assert!(!e[0].message.contains('\u{1b}'), "{}", e[0].message);
        assert!(e[0].message.contains("U+001B"), "{}", e[0].message);
    }

    #[test]
    fn spans() {
        let e = expr("a + f(b, c)");
        assert_eq!(e.span, Span::new(0, 11));
        let ExprKind::Binary(_, l, r) = &e.kind else {
            panic!()
        };
        assert_eq!((l.span, r.span), (Span::new(0, 1), Span::new(4, 11)));
        assert_eq!(expr("  (a)  ").span, Span::new(2, 5));
        assert_eq!(expr("-x.y").span, Span::new(0, 4));
        assert_eq!(expr("a?.b ").span, Span::new(0, 4));
        assert_eq!(expr("x | f() ").span, Span::new(0, 7));
        let ExprKind::Member { index, .. } = expr("abc.def").kind else {
            panic!()
        };
        assert_eq!(index.span, Span::new(4, 7));
        let ExprKind::Call { name, args } = expr("filter(xs, {.a})").kind else {
            panic!()
        };
        assert_eq!(
            (name.span, args[1].span),
            (Span::new(0, 6), Span::new(11, 15))
        );
    }

    #[test]
    fn expression_errors() {
        let d = expr_err("(1 + 2");
        assert_eq!(
            (d.message.as_str(), d.span),
            (
                "expected a closing `)`, found the end of the file",
                Span::new(6, 6)
            )
        );
        let d = expr_err("f(a b)");
        assert_eq!(
            (d.message.as_str(), at("f(a b)", &d)),
            ("expected `,` or `)`, found `b`", "b".into())
        );
        let d = expr_err("1 +");
        assert_eq!(
            d.message,
            "expected an expression, found the end of the file"
        );
        let d = expr_err("1 + * 2");
        assert_eq!(
            (d.message.as_str(), d.span),
            ("expected an expression, found `*`", Span::new(4, 5))
        );
        let d = expr_err("a b");
        assert_eq!(
            d.message,
            "expected an operator or the end of the expression, found `b`"
        );
        let d = expr_err("a.");
        assert_eq!(
            d.message,
            "expected a name after `.`, found the end of the file"
        );
        let d = expr_err("[1, 2");
        assert_eq!(d.message, "expected `,` or `]`, found the end of the file");
        assert_eq!(
            expr_err("x = 1").message,
            "expected an operator or the end of the expression, found `=`"
        );
        assert_eq!(expr_err("a # b").code, "scimap::hash-comment");
        assert_eq!(
            expr_err("").message,
            "expected an expression, found the end of the file"
        );
        assert_eq!(expr_err("1 /* open").code, "scimap::syntax");
    }

    const EXAMPLE: &str = r#"// A Trello-style mapping                    (comments: '//' to end of line, or /* … */)
app "Trello"                                 // optional display name
schema "urn:example:params:scim:schemas:extension:acme:2.0:User" { hireYear: integer }

user {
  let fullName = trim(trim(firstname ?? "") + " " + trim(lastname ?? ""))

  userName                     = $.username              // Direct (JSON Path)
  name.formatted               = fullName                // Expression
  name.givenName               = $.firstname
  name.familyName              = $.lastname
  displayName                  = coalesce(trim(displayname ?? ""), fullName)
  emails[type eq "work"].value = lower(email)
  active                       = state == "ACTIVATED"
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization = const "Acme Corp"   // Constant
  urn:example:params:scim:schemas:extension:acme:2.0:User:hireYear = date(created).Year()
}

group {
  displayName = $.name
}
"#;

    #[test]
    fn the_language_example_parses() {
        let f = file(EXAMPLE);
        assert_eq!(f.app.as_ref().map(|a| a.node.as_str()), Some("Trello"));
        assert_eq!(f.schemas.len(), 1);
        let schema = &f.schemas[0];
        assert_eq!(
            schema.urn.node,
            "urn:example:params:scim:schemas:extension:acme:2.0:User"
        );
        assert_eq!(schema.attributes.len(), 1);
        assert_eq!(
            (
                schema.attributes[0].0.node.as_str(),
                schema.attributes[0].1.node.as_str()
            ),
            ("hireYear", "integer")
        );
        assert_eq!(f.sections.len(), 2);
        let user = &f.sections[0];
        assert_eq!(
            (user.kind, &EXAMPLE[user.keyword.start..user.keyword.end]),
            (SectionKind::User, "user")
        );
        assert_eq!(user.items.len(), 10);
        let Item::Let(full) = &user.items[0] else {
            panic!()
        };
        assert_eq!(full.name.node, "fullName");
        assert_eq!(
            sx(&full.value),
            r#"(trim (+ (+ (trim (?? firstname "")) " ") (trim (?? lastname ""))))"#
        );
        let Item::Entry(user_name) = &user.items[1] else {
            panic!()
        };
        assert_eq!(
            user_name.source,
            Source::Direct(Spanned::new("$.username".into(), user_name.source_span()))
        );
        assert_eq!(
            &EXAMPLE[user_name.span.start..user_name.span.end],
            "userName                     = $.username"
        );
        let Item::Entry(org) = &user.items[8] else {
            panic!()
        };
        assert_eq!(
            org.target.urn.as_ref().map(|u| u.node.as_str()),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(org.target.attr.node, "organization");
        assert!(matches!(&org.source, Source::Const(c) if c.node == json!("Acme Corp")));
        let Item::Entry(hire) = &user.items[9] else {
            panic!()
        };
        assert!(matches!(&hire.source, Source::Expr(e) if sx(e) == "(.Year (date created))"));
        assert_eq!(f.sections[1].kind, SectionKind::Group);
    }

    impl Entry {
        fn source_span(&self) -> Span {
            match &self.source {
                Source::Direct(s) => s.span,
                Source::Const(c) => c.span,
                Source::Expr(e) => e.span,
            }
        }
    }

    #[test]
    fn targets() {
        let t = entry("userName = x").target;
        assert_eq!(
            (t.urn, t.attr.node.as_str(), t.selector, t.sub),
            (None, "userName", Selector::None, None)
        );
        let t = entry("name.givenName = x").target;
        assert_eq!(
            (t.attr.node.as_str(), t.sub.map(|s| s.node)),
            ("name", Some("givenName".into()))
        );
        let src = "emails[type eq \"work\"].value = x";
        let t = entry(src).target;
        let Selector::Filter(terms) = &t.selector else {
            panic!()
        };
        assert_eq!(terms.len(), 1);
        assert_eq!(
            (terms[0].attr.node.as_str(), &terms[0].value.node),
            ("type", &json!("work"))
        );
        assert_eq!(t.sub.map(|s| s.node), Some("value".into()));
        let t = entry("phoneNumbers[type EQ \"mobile\" AND primary eq true and n eq 1.5 and z eq null].value = x").target;
        let Selector::Filter(terms) = &t.selector else {
            panic!()
        };
        let values: Vec<_> = terms.iter().map(|t| t.value.node.clone()).collect();
        assert_eq!(
            values,
            vec![json!("mobile"), json!(true), json!(1.5), json!(null)]
        );
        let src = "addresses[].streetAddress = x";
        let t = entry(src).target;
        let Selector::ElementWise(span) = t.selector else {
            panic!()
        };
        assert_eq!(span, Span::new(16, 18));
        let src = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value = x";
        let t = entry(src).target;
        assert_eq!(
            t.urn.as_ref().map(|u| u.node.as_str()),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (
                t.attr.node.as_str(),
                t.sub.as_ref().map(|s| s.node.as_str())
            ),
            ("manager", Some("value"))
        );
        assert_eq!(t.attr.span, Span::new(66, 73));
        let t = entry("urn:x:y:User:emails[type eq \"work\"].value = x").target;
        assert_eq!(
            (t.urn.map(|u| u.node), t.attr.node.as_str()),
            (Some("urn:x:y:User".into()), "emails")
        );
        assert!(matches!(t.selector, Selector::Filter(_)));
        let t = entry("urn:x:y:User:manager.$ref = x").target;
        assert_eq!(t.sub.map(|s| s.node), Some("$ref".into()));
        let t = entry("members[].$ref = x").target;
        assert_eq!(t.sub.map(|s| s.node), Some("$ref".into()));
    }

    #[test]
    fn target_errors() {
        let src = "user {\n  emails[type co \"x\"].value = a\n}";
        assert_eq!(
            file_err(src).message,
            "expected `eq`: a target filter can only test equality, found `co`"
        );
        let src = "user {\n  emails[type eq work].value = a\n}";
        assert_eq!(
            file_err(src).message,
            "expected a JSON literal: a string, a number, `true`, `false` or `null`, found `work`"
        );
        let src = "user {\n  urn:x:User:manager.value[type eq 1] = a\n}";
        assert_eq!(
            file_err(src).message,
            "a filter belongs after the attribute, before its sub-attribute"
        );
        let src = "user {\n  urn:User = a\n}";
        assert_eq!(
            file_err(src).message,
            "a qualified target is a schema URN, `:` and an attribute name"
        );
    }

    #[test]
    fn sources() {
        let e = entry("userName = $.username   ");
        assert_eq!(
            e.source,
            Source::Direct(Spanned::new("$.username".into(), Span::new(18, 28)))
        );
        let e = entry("a = $['first name'] // a comment");
        assert!(matches!(&e.source, Source::Direct(s) if s.node == "$['first name']"));
        let e = entry("a = $.x[?(@.y == 'a//b')] /* c */");
        assert!(matches!(&e.source, Source::Direct(s) if s.node == "$.x[?(@.y == 'a//b')]"));
        let e = entry("a = $");
        assert!(matches!(&e.source, Source::Direct(s) if s.node == "$"));
        let e = entry("a = $ // root");
        assert!(matches!(&e.source, Source::Direct(s) if s.node == "$"));
        assert_eq!(source_sx("a = $env.firstname"), "(. $env \"firstname\")");
        assert_eq!(source_sx("a = $foo"), "$foo");
        assert_eq!(source_sx("a = $env[\"x y\"]"), "(. $env \"x y\")");
        let c = |src: &str| match entry(src).source {
            Source::Const(c) => c.node,
            other => panic!("{other:?}"),
        };
        assert_eq!(c("a = const 42"), json!(42));
        assert!(c("a = const 42").is_i64());
        assert!(c("a = const 18446744073709551615").is_u64());
        assert!(c("a = const 1.0").is_f64());
        assert!(c("a = const 1e2").is_f64());
        assert_eq!(c("a = const -7"), json!(-7));
        assert_eq!(c("a = const true"), json!(true));
        assert_eq!(c("a = const \"\\u00e9\\n\""), json!("é\n"));
        assert_eq!(
            c("a = const {\"a\": [1, {\"b\": null}],\n  \"c\": \"d\"\n} // done"),
            json!({"a": [1, {"b": null}], "c": "d"})
        );
        assert_eq!(c("a = const []"), json!([]));
        let keys: Vec<String> = match c("a = const {\"z\": 1, \"a\": 2}") {
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            _ => vec![],
        };
        assert_eq!(keys, ["z", "a"]);
    }

    #[test]
    fn constant_errors() {
        let src = "user {\n  a = const {\"k\": 1, \"k\": 2}\n}";
        let d = file_err(src);
        assert_eq!(
            (d.code, at(src, &d).as_str()),
            ("scimap::duplicate-key", "\"k\"")
        );
        assert_eq!(d.span.start, 28);
        assert_eq!(d.labels[0].span, Span::new(20, 23));
        let d = file_err("user {\n  a = const null\n}");
        assert_eq!((d.code, d.span), ("scimap::const-null", Span::new(19, 23)));
        assert!(parse_file("user {\n  a = const [null]\n}", &Limits::default()).is_ok());
        let d = file_err("user {\n  a = const \"\\uD800\"\n}");
        assert_eq!(d.code, "scimap::bad-escape");
        assert_eq!(
            file_err("user {\n  a = const 1e999\n}").code,
            "scimap::number-range"
        );
        assert_eq!(
            file_err("user {\n  a = const {'a': 1}\n}").message,
            "expected a closing `}`, found `'`"
        );
        assert_eq!(
            file_err("user {\n  a = const [1,]\n}").message,
            "expected a JSON value, found `]`"
        );
    }

    #[test]
    fn entries_and_line_breaks() {
        let es = entries("  a = b\n  c = d");
        assert_eq!(es.len(), 2);
        assert_eq!(source_sx("a = b +\n   c"), "(+ b c)");
        assert_eq!(source_sx("a = f(b,\n c\n)"), "(f b c)");
        assert_eq!(source_sx("a =\n  b"), "b");
        assert_eq!(source_sx("a = b ?\n c :\n d"), "(if b c d)");
        assert_eq!(source_sx("a = b ? c\n : d"), "(if b c d)");
        assert_eq!(source_sx("a = if b {\n c\n}\nelse {\n d\n}"), "(if b c d)");
        assert_eq!(source_sx("a = let x = 1;\n x"), "(let x 1 x)");
        assert_eq!(source_sx("a = [\n 1,\n 2,\n]"), "[1 2]");
        assert_eq!(source_sx("a = x | // c\n f()"), "(f x)");
        assert_eq!(source_sx("a = (b\n + c)"), "(+ b c)");
        assert_eq!(source_sx("a = not\n b"), "(not b)");
        let es = entries("a = f(x)\nb = [1]\nc = {k: 1}\nd = (1)");
        assert_eq!(es.len(), 4);
        let src = "user {\n  a = b\n  + c\n}";
        let d = file_err(src);
        assert_eq!(d.message, "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section, found `+`");
        assert_eq!(at(src, &d), "+");
        assert!(d
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("a line cannot start with an operator")));
        let src = "user {\n  a = b c\n}";
        assert_eq!(
            file_err(src).message,
            "expected an operator or the end of the line, found `c`"
        );
        let src = "user {\n  a = b }";
        assert_eq!(
            file_err(src).message,
            "expected an operator or the end of the line, found `}`"
        );
        let src = "user {\n  a = b\n  a = $.x\n  a = const 1\n}";
        assert_eq!(file(src).sections[0].items.len(), 3);
    }

    #[test]
    fn allow_comments() {
        assert_eq!(
            entry("a = b // scimap:allow(scimap::maybe-nil)").allow,
            ["scimap::maybe-nil"]
        );
        assert_eq!(
            entry("a = $.b   //scimap:allow(maybe-nil, scimap::non-singular-path )").allow,
            ["scimap::maybe-nil", "scimap::non-singular-path"]
        );
        assert_eq!(
            entry("a = f(\n b) /* x */ // scimap:allow(unused-let)").allow,
            ["scimap::unused-let"]
        );
        assert_eq!(
            entry("a = const 1 // scimap:allow(non-canonical)").allow,
            ["scimap::non-canonical"]
        );
        assert!(entry("a = b // just a comment").allow.is_empty());
        assert!(entry("a = b").allow.is_empty());
        let d = file_err("user {\n  a = b // scimap:allow()\n}");
        assert_eq!(d.message, "malformed `scimap:allow` comment");
        // Only warnings can be allowed, and a typo is named rather than ignored.
        let d = file_err("user {\n  a = b // scimap:allow(maybe-nill)\n}");
        assert!(
            d.message.contains("did you mean `scimap::maybe-nil`"),
            "{}",
            d.message
        );
        let d = file_err("user {\n  a = b // scimap:allow(scimap::type-mismatch)\n}");
        assert!(d.message.contains("not a warning code"), "{}", d.message);
    }

    #[test]
    fn lets_and_items() {
        let f = file("user {\n  let x = 1 + 2\n  let y = let z = 1; z\n  a = x\n}");
        let items = &f.sections[0].items;
        let Item::Let(x) = &items[0] else { panic!() };
        assert_eq!(
            (x.name.node.as_str(), sx(&x.value), x.span),
            ("x", "(+ 1 2)".into(), Span::new(9, 22))
        );
        let Item::Let(y) = &items[1] else { panic!() };
        assert_eq!(sx(&y.value), "(let z 1 z)");
        assert!(matches!(items[2], Item::Entry(_)));
        let f = file("user {\n  letter = x\n}");
        assert!(
            matches!(&f.sections[0].items[0], Item::Entry(e) if e.target.attr.node == "letter")
        );
    }

    #[test]
    fn file_structure_errors() {
        let src = "user {\n  # a comment\n  a = b\n}";
        let d = file_err(src);
        assert_eq!(
            (d.code, d.span, d.message.as_str()),
            (
                "scimap::hash-comment",
                Span::new(9, 10),
                "`#` is not a comment here"
            )
        );
        assert_eq!(d.help.as_deref(), Some("use `//` for comments"));
        let errs = file_errs("# top\nuser {\n  # one\n  # two\n}");
        assert_eq!(
            errs.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["scimap::hash-comment"; 3]
        );
        let d = file_err("user {\n  a = b # trailing\n}");
        assert_eq!(d.code, "scimap::hash-comment");
        let src = "user {\n  a = b\n}\ngroup {\n}\nuser {\n  c = d\n}";
        let d = file_err(src);
        assert_eq!(
            (d.code, d.span),
            ("scimap::duplicate-section", Span::new(27, 31))
        );
        assert_eq!(d.labels[0].span, Span::new(0, 4));
        for src in ["", "// only a comment\n\n/* and */\n", "app \"x\"\n"] {
            let d = file_err(src);
            assert_eq!(d.code, "scimap::no-section", "{src:?}");
        }
        let src = "user {\n  userName $.x\n}";
        let d = file_err(src);
        assert_eq!(
            (d.message.as_str(), at(src, &d).as_str()),
            ("expected `=` after the target, found `$`", "$")
        );
        let src = "user {\n  a = f(b\n}";
        let d = file_err(src);
        assert_eq!(
            (d.message.as_str(), at(src, &d).as_str()),
            ("expected `,` or `)`, found `}`", "}")
        );
        let src = "user {\n  a = 1 +\n}";
        assert_eq!(file_err(src).message, "expected an expression, found `}`");
        let src = "user {\n  a = 1 @ 2\n}";
        assert_eq!(
            file_err(src).message,
            "expected an operator or the end of the line, found `@`"
        );
        assert_eq!(file_err("user {\n  a = b\n").message, "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section, found the end of the file");
        assert_eq!(
            file_err("users {\n}").message,
            "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`, found `users`"
        );
        assert_eq!(file_err("user { a = b }").code, "scimap::syntax");
        assert_eq!(
            file_err("user {\n}\napp \"x\"").message,
            "the `app` header must come first, and only once"
        );
        let d = file_err("user {\n  a =\n  $.x\n}");
        assert_eq!(
            d.message,
            "a JSON Path source must start on the line of its `=`"
        );
        // Several errors found while lowering are all reported, in source order.
        let errs = file_errs("user {\n  a = \"\\q\"\n  b = 99999999999999999999\n}");
        assert_eq!(
            errs.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["scimap::bad-escape", "scimap::number-range"]
        );
    }

    #[test]
    fn crlf_and_bom_free_offsets() {
        let f = file("user {\r\n  a = b\r\n  c = $.d  \r\n}\r\n");
        let items = &f.sections[0].items;
        assert_eq!(items.len(), 2);
        let Item::Entry(c) = &items[1] else { panic!() };
        assert!(matches!(&c.source, Source::Direct(s) if s.node == "$.d"));
    }

    #[test]
    fn depth_limits() {
        let deep = |n: usize| "(".repeat(n) + "1" + &")".repeat(n);
        assert_eq!(p(&deep(100)), "1");
        let d = expr_err(&deep(100_000));
        assert_eq!(
            (d.code, d.message.as_str()),
            (
                "scimap::limit",
                "nesting is deeper than the limit `depth` (128)"
            )
        );
        assert_eq!(d.span, Span::new(128, 129));
        assert_eq!(
            expr_err(&"-".repeat(200).add_str("x")).code,
            "scimap::limit"
        );
        assert_eq!(
            expr_err(&"not ".repeat(200).add_str("x")).code,
            "scimap::limit"
        );
        assert_eq!(expr_err(&vec!["2"; 200].join(" ** ")).code, "scimap::limit");
        assert_eq!(
            expr_err(&"a ? b : ".repeat(200).add_str("c")).code,
            "scimap::limit"
        );
        // A long left-associative chain is a deep tree too.
        let d = expr_err(&vec!["a"; 200].join(" + "));
        assert_eq!((d.code, d.span.start), ("scimap::limit", 0));
        assert!(parse_expression(&vec!["a"; 120].join(" + "), &Limits::default()).is_ok());
        let small = Limits {
            depth: 2,
            ..Limits::default()
        };
        assert!(parse_expression("f(g(h(1)))", &small).is_err());
        assert!(parse_expression("f(g(1))", &small).is_ok());
        let d = parse_file(
            &format!("user {{\n  a = {}\n}}", deep(500)),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(d[0].code, "scimap::limit");
        let big = Limits {
            source_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            parse_file("user {\n  a = b\n}", &big).unwrap_err()[0].code,
            "scimap::limit"
        );
    }

    #[test]
    fn the_deepest_accepted_nesting_fits_a_small_stack() {
        // 128 levels of every recursive construct, parsed on a 1 MiB thread.
        let src = format!(
            "{}{}{}",
            "f([{a: (if x { let y = 1; y ? ".repeat(10),
            "1",
            " : 2 } else { 3 })}])".repeat(10)
        );
        let ok = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || parse_expression(&src, &Limits::default()).is_ok())
            .map(|h| h.join().unwrap_or(false))
            .unwrap_or(false);
        assert!(ok);
        let parens = "(".repeat(128) + "1" + &")".repeat(128);
        let ok = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || parse_expression(&parens, &Limits::default()).is_ok())
            .map(|h| h.join().unwrap_or(false))
            .unwrap_or(false);
        assert!(ok);
    }

    trait AddStr {
        fn add_str(self, s: &str) -> String;
    }

    impl AddStr for String {
        fn add_str(mut self, s: &str) -> String {
            self.push_str(s);
            self
        }
    }

    #[test]
    fn comments_and_line_breaks_in_expressions() {
        assert_eq!(p("1 + // one\n 2 /* two */ * 3"), "(+ 1 (* 2 3))");
        assert_eq!(p("\n a\n +\n b\n"), "(+ a b)");
        assert_eq!(p("a\n.b"), "(. a \"b\")");
    }

    /// The profile and `create` (reference §profile): both parsers agree (debug builds compare
    /// them on every parse) and build this tree; a target named `create` stays a target.
    #[test]
    fn profile_and_create_only_entries() {
        let f = file(
            "app \"T\" { // the app\n  update = put\n\n  updatable = [active,\n    urn:a:b:User:x, name.givenName,]\n  maxPatchOperations = 100\n}\nuser {\n  create  externalId = $._id\n  create = 1\n  createdAt = 2\n}\n",
        );
        let profile = f.profile.expect("a profile");
        let settings: Vec<String> = profile
            .settings
            .iter()
            .map(|s| match &s.value {
                SettingValue::Word(w) => format!("{}={}", s.key.node, w.node),
                SettingValue::Count(c) => format!("{}#{}", s.key.node, c.node),
                SettingValue::List(l, _) => {
                    let paths: Vec<&str> = l.iter().map(|p| p.node.as_str()).collect();
                    format!("{}={:?}", s.key.node, paths)
                }
            })
            .collect();
        assert_eq!(
            settings,
            [
                "update=put",
                r#"updatable=["active", "urn:a:b:User:x", "name.givenName"]"#,
                "maxPatchOperations#100",
            ]
        );
        let entries: Vec<(bool, &str)> = f.sections[0]
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Entry(e) => Some((e.create.is_some(), e.target.attr.node.as_str())),
                Item::Let(_) => None,
            })
            .collect();
        assert_eq!(
            entries,
            [
                (true, "externalId"),
                (false, "create"),
                (false, "createdAt")
            ]
        );
        assert!(file("app \"T\" {}\nuser {\n  a = 1\n}\n").profile.is_some());
        for bad in [
            "app \"T\" { update = put }\nuser {\n  a = 1\n}\n",
            "app \"T\" {\n  update = put x\n}\nuser {\n  a = 1\n}\n",
            "app \"T\" {\n  maxPatchOperations = 1e3\n}\nuser {\n  a = 1\n}\n",
            "app \"T\"\n{\n}\nuser {\n  a = 1\n}\n",
            "user {\n  create\n  a = 1\n}\n",
        ] {
            assert_eq!(file_errs(bad)[0].code, "scimap::syntax", "{bad:?}");
        }
    }
}
