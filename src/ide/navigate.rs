//! Document symbols, folding ranges, definitions and references (`let`s and `schema`
//! declarations).

use super::{contains, item_expr, walk, Analysis, Range};
use crate::diagnostic::Span;
use crate::syntax::ast::{self, ExprKind, SectionKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    App,
    Setting,
    Schema,
    Attribute,
    Section,
    Let,
    Entry,
}

/// An outline item: `app`, `schema`, `user`/`group` sections and what they hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole item.
    pub range: Range,
    /// Its name.
    pub selection: Range,
    pub children: Vec<Symbol>,
}

/// What a name under the cursor stands for.
enum Named {
    /// A section `let` (its section, its name's span) or an expression `let` (its name's
    /// span, the span of its body).
    SectionLet(usize, Span),
    ExprLet(Span, Span),
    /// A declared schema, by index.
    Schema(usize),
}

impl Analysis {
    /// The outline: app profile, schemas, sections with their `let`s and entries.
    pub fn symbols(&self) -> Vec<Symbol> {
        let Some(file) = self.tree() else {
            return Vec::new();
        };
        let text = &self.text;
        let symbol = |name: String, detail, kind, span: Span, selection: Span, children| Symbol {
            name,
            detail,
            kind,
            range: self.range(span),
            selection: self.range(selection),
            children,
        };
        let mut out = Vec::new();
        if let (Some(app), profile) = (&file.app, &file.profile) {
            let settings = profile.as_ref().map_or(Vec::new(), |p| {
                p.settings
                    .iter()
                    .map(|s| {
                        let value = text.get(s.key.span.end..s.span.end).unwrap_or("");
                        let value = value.trim().trim_start_matches('=').trim();
                        symbol(
                            s.key.node.clone(),
                            Some(value.to_string()),
                            SymbolKind::Setting,
                            s.span,
                            s.key.span,
                            Vec::new(),
                        )
                    })
                    .collect()
            });
            let span = profile.as_ref().map_or(app.span, |p| app.span.to(p.span));
            out.push(symbol(
                format!("app \"{}\"", app.node),
                None,
                SymbolKind::App,
                span,
                app.span,
                settings,
            ));
        }
        for decl in &file.schemas {
            let attributes = decl
                .attributes
                .iter()
                .map(|(n, t)| {
                    symbol(
                        n.node.clone(),
                        Some(t.node.clone()),
                        SymbolKind::Attribute,
                        n.span.to(t.span),
                        n.span,
                        Vec::new(),
                    )
                })
                .collect();
            out.push(symbol(
                decl.urn.node.clone(),
                Some("schema".into()),
                SymbolKind::Schema,
                decl.span,
                decl.urn.span,
                attributes,
            ));
        }
        for section in &file.sections {
            let items = section
                .items
                .iter()
                .map(|item| match item {
                    ast::Item::Let(l) => symbol(
                        l.name.node.clone(),
                        text.get(l.value.span.start..l.value.span.end)
                            .map(super::one_line),
                        SymbolKind::Let,
                        l.span,
                        l.name.span,
                        Vec::new(),
                    ),
                    ast::Item::Entry(e) => {
                        let t = &e.target.span;
                        symbol(
                            text.get(t.start..t.end).unwrap_or("").to_string(),
                            Some(source_text(e, text)),
                            SymbolKind::Entry,
                            e.span,
                            *t,
                            Vec::new(),
                        )
                    }
                })
                .collect();
            let name = match section.kind {
                SectionKind::User => "user",
                SectionKind::Group => "group",
            };
            out.push(symbol(
                name.to_string(),
                None,
                SymbolKind::Section,
                section.span,
                section.keyword,
                items,
            ));
        }
        out
    }

    /// The foldable line ranges (0-based, inclusive): the app profile, schemas, sections and
    /// items over several lines.
    pub fn folding(&self) -> Vec<(u32, u32)> {
        let Some(file) = self.tree() else {
            return Vec::new();
        };
        let mut spans: Vec<Span> = Vec::new();
        spans.extend(file.profile.as_ref().map(|p| p.span));
        spans.extend(file.schemas.iter().map(|s| s.span));
        for section in &file.sections {
            spans.push(section.span);
            spans.extend(section.items.iter().map(super::item_span));
        }
        let mut out: Vec<(u32, u32)> = spans
            .into_iter()
            .map(|s| {
                let r = self.range(s);
                (r.start.line, r.end.line)
            })
            .filter(|(a, b)| b > a)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Where the `let` or `schema` named at `position` is declared.
    pub fn definition(&self, position: super::Position) -> Option<Range> {
        let offset = self.offset(position);
        let file = self.tree()?;
        Some(self.range(match self.named(file, offset)? {
            Named::SectionLet(_, span) | Named::ExprLet(span, _) => span,
            Named::Schema(i) => file.schemas[i].urn.span,
        }))
    }

    /// Every place the `let` or `schema` named at `position` is used, its declaration first
    /// when `declaration` is set.
    pub fn references(&self, position: super::Position, declaration: bool) -> Vec<Range> {
        let offset = self.offset(position);
        let Some(file) = self.tree() else {
            return Vec::new();
        };
        let Some(named) = self.named(file, offset) else {
            return Vec::new();
        };
        let mut spans = Vec::new();
        match named {
            Named::SectionLet(section, decl) => {
                let name = &self.text[decl.start..decl.end];
                spans.push(decl);
                for item in &file.sections[section].items {
                    if super::item_span(item).start > decl.start {
                        if let Some(e) = item_expr(item) {
                            uses(e, name, &mut spans);
                        }
                    }
                }
            }
            Named::ExprLet(decl, body) => {
                let name = &self.text[decl.start..decl.end];
                spans.push(decl);
                let mut scope = None;
                for section in &file.sections {
                    for item in &section.items {
                        if let Some(e) = item_expr(item) {
                            walk(e, &mut |x| {
                                if x.span == body {
                                    scope.get_or_insert(x);
                                }
                            });
                        }
                    }
                }
                if let Some(body) = scope {
                    uses(body, name, &mut spans);
                }
            }
            Named::Schema(i) => {
                let decl = &file.schemas[i].urn;
                spans.push(decl.span);
                for section in &file.sections {
                    for item in &section.items {
                        if let ast::Item::Entry(e) = item {
                            if let Some(urn) = &e.target.urn {
                                if urn.node.eq_ignore_ascii_case(&decl.node) {
                                    spans.push(urn.span);
                                }
                            }
                        }
                    }
                }
            }
        }
        if !declaration {
            spans.remove(0);
        }
        spans.sort_unstable();
        spans.dedup();
        spans.into_iter().map(|s| self.range(s)).collect()
    }

    /// The `let` or schema a name at `offset` is, or uses.
    fn named(&self, file: &ast::File, offset: usize) -> Option<Named> {
        if let Some(i) = file
            .schemas
            .iter()
            .position(|s| contains(s.urn.span, offset))
        {
            return Some(Named::Schema(i));
        }
        for (si, section) in file.sections.iter().enumerate() {
            if !contains(section.span, offset) {
                continue;
            }
            for item in &section.items {
                match item {
                    ast::Item::Let(l) if contains(l.name.span, offset) => {
                        return Some(Named::SectionLet(si, l.name.span));
                    }
                    ast::Item::Entry(e) => {
                        if let Some(urn) =
                            e.target.urn.as_ref().filter(|u| contains(u.span, offset))
                        {
                            let i = file
                                .schemas
                                .iter()
                                .position(|s| s.urn.node.eq_ignore_ascii_case(&urn.node))?;
                            return Some(Named::Schema(i));
                        }
                    }
                    _ => {}
                }
                let Some(e) = item_expr(item).filter(|e| contains(e.span, offset)) else {
                    continue;
                };
                // The innermost expression `let` binding the name, or declaring it here.
                let mut name: Option<&str> = None;
                let mut lets = Vec::new();
                walk(e, &mut |x| match &x.kind {
                    ExprKind::Ident(n) if contains(x.span, offset) => name = Some(n),
                    ExprKind::Let { name: n, body, .. } => {
                        if contains(n.span, offset) {
                            name = Some(&n.node);
                        }
                        lets.push((n, body.span));
                    }
                    _ => {}
                });
                let name = name?;
                if let Some((n, body)) = lets
                    .iter()
                    .filter(|(n, body)| {
                        n.node == name && (contains(n.span, offset) || contains(*body, offset))
                    })
                    .min_by_key(|(_, body)| body.end - body.start)
                {
                    return Some(Named::ExprLet(n.span, *body));
                }
                return section.items.iter().find_map(|i| match i {
                    ast::Item::Let(l) if l.name.node == name && l.span.start < offset => {
                        Some(Named::SectionLet(si, l.name.span))
                    }
                    _ => None,
                });
            }
        }
        None
    }
}

/// The uses of `name` in `e`, leaving out the bodies of expression `let`s that bind it again.
fn uses(e: &ast::Expr, name: &str, out: &mut Vec<Span>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Ident(n) if n == name => out.push(e.span),
            ExprKind::Let { name: n, value, .. } if n.node == name => stack.push(value),
            _ => e.for_each_child(|c| stack.push(c)),
        }
    }
}

fn source_text(e: &ast::Entry, text: &str) -> String {
    let span = match &e.source {
        ast::Source::Direct(p) => p.span,
        ast::Source::Const(c) => c.span,
        ast::Source::Expr(x) => x.span,
    };
    let s = super::one_line(text.get(span.start..span.end).unwrap_or(""));
    match &e.source {
        ast::Source::Const(_) => format!("const {s}"),
        _ => s,
    }
}
