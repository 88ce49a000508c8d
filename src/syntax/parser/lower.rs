//! Lowering into the syntax tree: the steps both parsers build it with (nodes, their heights
//! within the `depth` limit, and the diagnostics found on the way), and the walk of pest's
//! parse tree that drives them on the pest path.

use pest::iterators::Pair;
use std::collections::HashMap;

use super::climb::infix_op;
use super::literal::{decode_escape, parse_number, NumberError};
use super::Rule;
use crate::diagnostic::{self, quote, Diagnostic, Span};
use crate::syntax::ast::{
    BinaryOp, Entry, Expr, ExprKind, File, FilterTerm, Item, LetDecl, Pointer, ProfileDecl,
    SchemaDecl, Section, SectionKind, Selector, Setting, SettingValue, Source, Spanned, Target,
    UnaryOp,
};

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
    crate::syntax::ast::Predicate::from_name(name).map(crate::syntax::ast::Predicate::arity)
}

/// An expression with the height of its tree.
pub(super) struct E {
    pub(super) expr: Expr,
    pub(super) height: usize,
}

impl E {
    pub(super) fn duplicate(&self) -> E {
        E {
            expr: self.expr.clone(),
            height: self.height,
        }
    }
    pub(super) fn span(&self) -> Span {
        self.expr.span
    }
}

/// One element of the flat operator sequence of a `binary` rule.
pub(super) enum Piece {
    Prefix(UnaryOp, Span),
    Operand(E),
    Infix(BinaryOp, Span),
    /// `| name(args)`: the call, still without its implicit first argument.
    Pipe(PipeCall),
}

pub(super) struct PipeCall {
    pub(super) name: Spanned<String>,
    pub(super) args: Vec<E>,
    pub(super) end: usize,
}

pub(super) struct Lower<'s> {
    pub(super) src: &'s str,
    pub(super) limit: usize,
    pub(super) errors: Vec<Diagnostic>,
    /// The depth error is reported once.
    pub(super) too_deep: bool,
}

impl<'s> Lower<'s> {
    pub(super) fn new(src: &'s str, limit: usize) -> Self {
        Lower {
            src,
            limit,
            errors: Vec::new(),
            too_deep: false,
        }
    }

    pub(super) fn finish<T>(mut self, value: Option<T>) -> Result<T, Vec<Diagnostic>> {
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

    pub(super) fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Diagnostic::error("scimap::syntax", span, message))
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        self.errors.push(diagnostic);
        let last = self.errors.len() - 1;
        &mut self.errors[last]
    }

    /// Builds a node one level above children of height `below`, within the depth limit.
    pub(super) fn make(&mut self, kind: ExprKind, span: Span, below: usize) -> E {
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

    pub(super) fn leaf(&mut self, kind: ExprKind, span: Span) -> E {
        self.make(kind, span, 0)
    }

    /// A placeholder after an error was reported.
    pub(super) fn invalid(span: Span) -> E {
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

    pub(super) fn file(&mut self, pair: Pair<'_, Rule>) -> File {
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

    pub(super) fn app(
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

    pub(super) fn profile(&mut self, pair: Pair<'_, Rule>) -> ProfileDecl {
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

    pub(super) fn add_section(
        &mut self,
        file: &mut File,
        section: Section,
        had_duplicate: &mut bool,
    ) {
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

    pub(super) fn file_end(&mut self, file: &File, had_duplicate: bool) {
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

    pub(super) fn hash_line(&mut self, start: usize) {
        self.push(
            Diagnostic::error(
                "scimap::hash-comment",
                Span::new(start, start + 1),
                "`#` is not a comment here",
            )
            .with_help("use `//` for comments"),
        );
    }

    pub(super) fn schema(&mut self, pair: Pair<'_, Rule>) -> SchemaDecl {
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

    pub(super) fn section(&mut self, pair: Pair<'_, Rule>) -> Section {
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

    pub(super) fn let_decl(&mut self, pair: Pair<'_, Rule>) -> LetDecl {
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

    pub(super) fn entry(&mut self, pair: Pair<'_, Rule>) -> Entry {
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

    pub(super) fn constant(&mut self, json: serde_json::Value, span: Span) -> Source {
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

    pub(super) fn expr_source(&mut self, expr: Expr) -> Source {
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

    pub(super) fn entry_node(
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
    pub(super) fn allow_comment(&mut self, end: usize) -> Vec<String> {
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
    pub(super) fn target(&mut self, pair: Pair<'_, Rule>) -> Target {
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
    pub(super) fn split_qualified(
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

    pub(super) fn selector(&mut self, pair: Pair<'_, Rule>) -> Selector {
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
    pub(super) fn json(&mut self, pair: Pair<'_, Rule>) -> serde_json::Value {
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

    pub(super) fn duplicate_key(&mut self, key: &str, span: Span, first: Span) {
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

    pub(super) fn json_number(&mut self, text: &str, span: Span) -> serde_json::Value {
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
    pub(super) fn json_string(&mut self, text: &str, span: Span) -> String {
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
    pub(super) fn seq(&mut self, pair: Pair<'_, Rule>) -> E {
        let items: Vec<E> = significant(pair).map(|p| self.expr0(p)).collect();
        self.sequence(items)
    }

    pub(super) fn sequence(&mut self, mut items: Vec<E>) -> E {
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
    pub(super) fn expr0(&mut self, mut pair: Pair<'_, Rule>) -> E {
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
    pub(super) fn dispatch(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn unexpected(&mut self, pair: &Pair<'_, Rule>) -> E {
        let span = span_of(pair);
        self.error(span, format!("unexpected `{}`", quote(pair.as_str())));
        Lower::invalid(span)
    }

    /// The single significant child of a sequence, if it has only one.
    pub(super) fn only_child<'i>(pair: &Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
        let mut children = significant(pair.clone());
        match (children.next(), children.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// `let a = 1; let b = 2; body`: the chain is walked in a loop, then folded.
    #[inline(never)]
    pub(super) fn let_expr(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn fold_lets(
        &mut self,
        mut links: Vec<(usize, Spanned<String>, E)>,
        mut body: E,
    ) -> E {
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
    pub(super) fn if_expr(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn fold_ifs(&mut self, mut links: Vec<(usize, E, E)>, mut otherwise: E) -> E {
        while let Some((start, cond, then)) = links.pop() {
            let span = Span::new(start, otherwise.span().end);
            let below = cond.height.max(then.height).max(otherwise.height);
            otherwise = self.conditional(cond, then, otherwise, span, below);
        }
        otherwise
    }

    /// The block of `if`/`else`, with its braces in the span.
    pub(super) fn block(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        match significant(pair).next() {
            Some(seq) => self.expr0(seq),
            None => Lower::invalid(span),
        }
    }

    pub(super) fn conditional(
        &mut self,
        cond: E,
        then: E,
        otherwise: E,
        span: Span,
        below: usize,
    ) -> E {
        let kind = ExprKind::Conditional {
            cond: Box::new(cond.expr),
            then: Box::new(then.expr),
            otherwise: Box::new(otherwise.expr),
        };
        self.make(kind, span, below)
    }

    /// `a ? b : c ? d : e` nests to the right: the chain is walked in a loop, then folded.
    #[inline(never)]
    pub(super) fn ternary(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn fold_ternaries(&mut self, mut links: Vec<(E, E)>, mut otherwise: E) -> E {
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
    pub(super) fn binary(&mut self, pair: Pair<'_, Rule>) -> E {
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
    pub(super) fn unary(&mut self, op: UnaryOp, op_span: Span, operand: E) -> E {
        let span = op_span.to(operand.span());
        let below = operand.height;
        self.make(ExprKind::Unary(op, Box::new(operand.expr)), span, below)
    }

    pub(super) fn binary_node(&mut self, op: BinaryOp, left: E, right: E) -> E {
        let span = left.span().to(right.span());
        let below = left.height.max(right.height);
        self.make(
            ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr)),
            span,
            below,
        )
    }

    pub(super) fn call_node(&mut self, name: Spanned<String>, args: Vec<E>, span: Span) -> E {
        let below = args.iter().map(|a| a.height).max().unwrap_or(0);
        let args = args.into_iter().map(|a| a.expr).collect();
        self.make(ExprKind::Call { name, args }, span, below)
    }

    /// Checks the arity of a predicate builtin (Expr rejects it while parsing).
    pub(super) fn check_predicate_arity(
        &mut self,
        name: &Spanned<String>,
        count: usize,
        span: Span,
    ) {
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

    pub(super) fn pipe_call(&mut self, pair: Pair<'_, Rule>) -> Option<PipeCall> {
        let call = pair.into_inner().find(|p| p.as_rule() != Rule::dcolon)?;
        let end = call.as_span().end();
        let (name, args) = self.call_parts(call);
        Some(PipeCall { name, args, end })
    }

    /// The name and lowered arguments of `pred_call`, `pipe_pred_call` or `plain_call`.
    #[inline(never)]
    pub(super) fn call_parts(&mut self, pair: Pair<'_, Rule>) -> (Spanned<String>, Vec<E>) {
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

    pub(super) fn predicate(&mut self, pair: Pair<'_, Rule>) -> E {
        let span = span_of(&pair);
        let braced = pair.as_str().starts_with('{');
        let Some(body) = significant(pair).next() else {
            return Lower::invalid(span);
        };
        let body = self.expr0(body);
        self.closure(body, span, braced)
    }

    /// A predicate argument: a braced one spans its braces.
    pub(super) fn closure(&mut self, body: E, span: Span, braced: bool) -> E {
        let span = if braced { span } else { body.span() };
        let below = body.height;
        self.make(ExprKind::Closure(Box::new(body.expr)), span, below)
    }

    // -----------------------------------------------------------------------------------------
    // Operands

    #[inline(never)]
    pub(super) fn operand(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn member(&mut self, object: E, pair: Pair<'_, Rule>) -> E {
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
    pub(super) fn member_node(
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

    pub(super) fn method(
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

    pub(super) fn index(&mut self, object: E, pair: Pair<'_, Rule>) -> E {
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
    pub(super) fn index_node(
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
    pub(super) fn primary(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn array(&mut self, items: Vec<E>, span: Span) -> E {
        let below = items.iter().map(|e| e.height).max().unwrap_or(0);
        let kind = ExprKind::Array(items.into_iter().map(|e| e.expr).collect());
        self.make(kind, span, below)
    }

    pub(super) fn call(&mut self, name: Spanned<String>, args: Vec<E>, span: Span) -> E {
        self.check_predicate_arity(&name, args.len(), span);
        self.call_node(name, args, span)
    }

    pub(super) fn raw_string(&mut self, text: &str, span: Span) -> E {
        let body = &text[1..text.len() - 1];
        let value = body
            .replace("``", "`")
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        self.leaf(ExprKind::Str(value), span)
    }

    pub(super) fn bytes_literal(&mut self, span: Span) -> E {
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

    pub(super) fn pointer(&mut self, text: &str, span: Span) -> E {
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
    pub(super) fn pointer_field(
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

    pub(super) fn literal(&mut self, text: &str, span: Span) -> E {
        let kind = match text {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            _ => ExprKind::Nil,
        };
        self.leaf(kind, span)
    }

    #[inline(never)]
    pub(super) fn map_literal(&mut self, pair: Pair<'_, Rule>) -> E {
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

    pub(super) fn map(&mut self, entries: Vec<(E, E)>, span: Span) -> E {
        let below = entries
            .iter()
            .map(|(k, v)| k.height.max(v.height))
            .max()
            .unwrap_or(0);
        let entries = entries.into_iter().map(|(k, v)| (k.expr, v.expr)).collect();
        self.make(ExprKind::Map(entries), span, below)
    }

    pub(super) fn map_key(&mut self, pair: Pair<'_, Rule>) -> E {
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
    pub(super) fn number(&mut self, text: &str, span: Span, junk: bool) -> E {
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
    pub(super) fn string(&mut self, text: &str, span: Span) -> E {
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
    pub(super) fn expr_string(&self) -> String {
        match &self.expr.kind {
            ExprKind::Str(s) => s.clone(),
            _ => String::new(),
        }
    }
}

/// A JSON Path source: its text without trailing blanks.
pub(super) fn direct(text: &str, begin: usize) -> Source {
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
