//! The language service (reference §editors): what an editor asks about a mapping, answered
//! over its text as plain data — diagnostics, completion, hover, definitions and references,
//! symbols, folding, code actions, inlay hints, formatting. No transport here: `scimap lsp`
//! speaks LSP over it, and the preview page can call it through WASM. Positions in and out are
//! [`Position`]s (UTF-16 columns, as editors count); `position.rs` converts.

mod actions;
mod complete;
mod hints;
mod hover;
mod navigate;
mod position;

pub use actions::{CodeAction, TextEdit};
pub use complete::{Completion, CompletionKind};
pub use hints::InlayHint;
pub use hover::Hover;
pub use navigate::{Symbol, SymbolKind};
pub use position::{Position, Range};

use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::mapping::{Mapping, Options};
use crate::schema::{self, Mutability, ScimAttribute, ScimSchema, ScimType};
use crate::syntax::ast::{self, Expr, SectionKind};
use crate::syntax::parser;
use position::Lines;
use std::sync::OnceLock;

/// One diagnostic of [`Analysis::problems`]: `scimap check`'s, with ranges for an editor.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub range: Range,
    pub severity: Severity,
    /// `scimap::unknown-field`.
    pub code: &'static str,
    pub message: String,
    /// What `check` writes under the primary span.
    pub label: Option<String>,
    pub help: Option<String>,
    /// The secondary spans ("first mapped here").
    pub related: Vec<(Range, String)>,
}

/// One version of a mapping's text, analysed: compiled once (its diagnostics), parsed for
/// navigation, and asked questions by position.
pub struct Analysis {
    text: String,
    lines: Lines,
    options: Options,
    diagnostics: Vec<Diagnostic>,
    /// The compiled mapping, when the text compiles (inlay hints evaluate it).
    mapping: Option<Mapping>,
    /// The syntax tree; a text that does not parse is parsed once more with the line of the
    /// question blanked (see [`Analysis::tree_at`]).
    tree: OnceLock<Option<ast::File>>,
}

impl Analysis {
    /// Compiles `text` as `scimap check` does with these options.
    pub fn new(text: &str, options: &Options) -> Analysis {
        // `check` skips a leading BOM; blanked, it keeps every offset where the editor has it.
        let compiled = match text.strip_prefix('\u{feff}') {
            Some(rest) => Mapping::compile_with(&format!("   {rest}"), options),
            None => Mapping::compile_with(text, options),
        };
        let (diagnostics, mapping) = match compiled {
            Ok(m) => (m.warnings().to_vec(), Some(m)),
            Err(e) => (e.diagnostics, None),
        };
        Analysis {
            text: text.to_string(),
            lines: Lines::new(text),
            options: options.clone(),
            diagnostics,
            mapping,
            tree: OnceLock::new(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// `scimap check`'s diagnostics, in source order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The diagnostics with editor ranges.
    pub fn problems(&self) -> Vec<Problem> {
        self.diagnostics
            .iter()
            .map(|d| Problem {
                range: self.range(d.span),
                severity: d.severity,
                code: d.code,
                message: d.message.clone(),
                label: d.label.clone(),
                help: d.help.clone(),
                related: d
                    .labels
                    .iter()
                    .map(|l| (self.range(l.span), l.message.clone()))
                    .collect(),
            })
            .collect()
    }

    pub fn range(&self, span: Span) -> Range {
        self.lines.range(&self.text, span)
    }

    pub fn offset(&self, position: Position) -> usize {
        self.lines.offset(&self.text, position)
    }

    pub fn span(&self, range: Range) -> Span {
        self.lines.span(&self.text, range)
    }

    /// The canonical layout (`scimap fmt`), or `None` when the text does not parse.
    pub fn format(&self) -> Option<String> {
        crate::fmt::format_with(&self.text, &self.options.limits).ok()
    }

    /// `scimap fmt`'s layout as edits of the lines it changes, each where it is, so that an
    /// editor keeps the cursor and marks of the lines it leaves alone; `None` when the text
    /// does not parse, no edit when it is laid out already.
    pub fn format_edits(&self) -> Option<Vec<TextEdit>> {
        let formatted = self.format()?;
        Some(
            line_edits(&self.text, &formatted)
                .into_iter()
                .map(|(span, new_text)| TextEdit {
                    range: self.range(span),
                    new_text: new_text.to_string(),
                })
                .collect(),
        )
    }

    /// The syntax tree of the text, if it parses.
    fn tree(&self) -> Option<&ast::File> {
        self.tree
            .get_or_init(|| parser::parse_file(&self.source(), &self.options.limits).ok())
            .as_ref()
    }

    /// The text as the compiler reads it: a leading BOM blanked.
    fn source(&self) -> std::borrow::Cow<'_, str> {
        match self.text.strip_prefix('\u{feff}') {
            Some(rest) => format!("   {rest}").into(),
            None => self.text.as_str().into(),
        }
    }

    /// The syntax tree for a question at `offset`: the text's own, or — while the line being
    /// typed does not parse — the text's with that line blanked (offsets unchanged), so that the
    /// rest of the file still answers.
    fn tree_at(&self, offset: usize) -> Option<std::borrow::Cow<'_, ast::File>> {
        if let Some(tree) = self.tree() {
            return Some(std::borrow::Cow::Borrowed(tree));
        }
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let mut blanked = self.source().into_owned();
        blanked.replace_range(start..end, &" ".repeat(end - start));
        parser::parse_file(&blanked, &self.options.limits)
            .ok()
            .map(std::borrow::Cow::Owned)
    }

    /// The types of the expressions around `offset`, outermost first.
    fn types_at(&self, file: &ast::File, offset: usize) -> Vec<(Span, crate::types::Type)> {
        let mut found = self.probe(file, offset).around;
        found.sort_by_key(|(s, _)| (s.start, std::cmp::Reverse(s.end)));
        found
    }

    /// The type of every section `let`, by its name's span (one check of the file).
    fn let_types(&self, file: &ast::File) -> Vec<(Span, crate::types::Type)> {
        self.probe(file, usize::MAX).lets
    }

    fn probe(&self, file: &ast::File, offset: usize) -> crate::check::Probed {
        crate::check::probe(file, &self.source(), &self.options.limits, offset)
    }
}

/// The edits turning `old` into `new`, by whole lines: the lines both share at the start and at
/// the end are kept; between them, when both have as many lines (a re-layout changes lines in
/// place), each changed line is its own edit, else one edit replaces them all.
fn line_edits<'n>(old: &str, new: &'n str) -> Vec<(Span, &'n str)> {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle = &new_lines[prefix..new_lines.len() - suffix];
    let mut start: usize = old_lines[..prefix].iter().map(|l| l.len()).sum();
    if old_middle.len() != new_middle.len() {
        let end = start + old_middle.iter().map(|l| l.len()).sum::<usize>();
        let from: usize = new_lines[..prefix].iter().map(|l| l.len()).sum();
        let to = from + new_middle.iter().map(|l| l.len()).sum::<usize>();
        return vec![(Span::new(start, end), &new[from..to])];
    }
    let mut edits = Vec::new();
    for (a, b) in old_middle.iter().zip(new_middle) {
        if a != b {
            edits.push((Span::new(start, start + a.len()), *b));
        }
        start += a.len();
    }
    edits
}

/// Applies an editor's change to a text: `range` of the text as it is now, replaced.
pub fn edit(text: &mut String, range: Range, new_text: &str) {
    let span = Lines::new(text).span(text, range);
    text.replace_range(span.start..span.end, new_text);
}

/// A section's record type.
fn record_of(kind: SectionKind) -> &'static crate::types::Type {
    match kind {
        SectionKind::User => schema::user_record(),
        SectionKind::Group => schema::group_record(),
    }
}

/// The built-in schemas of a section, core first.
fn builtin_schemas(kind: SectionKind) -> Vec<&'static ScimSchema> {
    match kind {
        SectionKind::User => vec![schema::core_user(), schema::enterprise_user()],
        SectionKind::Group => vec![schema::core_group()],
    }
}

/// The schemas a file declares (those that declare well).
fn declared_schemas(file: &ast::File) -> Vec<ScimSchema> {
    file.schemas
        .iter()
        .filter_map(|d| {
            let attrs: Vec<(&str, &str)> = d
                .attributes
                .iter()
                .map(|(n, t)| (n.node.as_str(), t.node.as_str()))
                .collect();
            ScimSchema::declared(&d.urn.node, &attrs).ok()
        })
        .collect()
}

/// One attribute path a section may map: `userName`, `name.givenName`,
/// `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:employeeNumber`.
pub struct TargetPath<'s> {
    pub path: String,
    pub attribute: &'s ScimAttribute,
    /// The complex attribute a sub-attribute is of.
    pub parent: Option<&'s ScimAttribute>,
    pub schema: &'s ScimSchema,
}

/// Whether a section may map an attribute (reference §targets-forbidden).
fn mappable(a: &ScimAttribute, kind: SectionKind) -> bool {
    a.mutability != Mutability::ReadOnly
        && a.name != "schemas"
        && !(kind == SectionKind::Group && a.name == "members")
}

/// Every attribute path of a schema a section may map: simple attributes, each sub-attribute
/// of a complex one, and for a multi-valued one whose `type` has canonical values, each
/// sub-attribute of each typed element. Extension attributes are qualified with their URN.
pub fn target_paths(schema: &ScimSchema, kind: SectionKind) -> Vec<TargetPath<'_>> {
    let core = matches!(schema.urn.as_str(), schema::CORE_USER | schema::CORE_GROUP);
    let prefix = if core {
        String::new()
    } else {
        format!("{}:", schema.urn)
    };
    let mut out = Vec::new();
    for attr in schema.attributes.iter().filter(|a| mappable(a, kind)) {
        if attr.ty != ScimType::Complex {
            out.push(TargetPath {
                path: format!("{prefix}{}", attr.name),
                attribute: attr,
                parent: None,
                schema,
            });
            continue;
        }
        let subs: Vec<&ScimAttribute> = attr
            .sub_attributes
            .iter()
            .filter(|a| mappable(a, kind))
            .collect();
        for sub in &subs {
            out.push(TargetPath {
                path: format!("{prefix}{}.{}", attr.name, sub.name),
                attribute: sub,
                parent: Some(attr),
                schema,
            });
        }
        let types = attr.sub("type").map_or(&[][..], |t| &t.canonical_values);
        if attr.multi_valued {
            for ty in types {
                for sub in subs.iter().filter(|s| s.name != "type") {
                    out.push(TargetPath {
                        path: format!("{prefix}{}[type eq \"{ty}\"].{}", attr.name, sub.name),
                        attribute: sub,
                        parent: Some(attr),
                        schema,
                    });
                }
            }
        }
    }
    out
}

/// Calls `visit` on every expression of `e`, outer before inner (iteratively: the tree is
/// bounded by `depth`, but the service should not add to the stack).
fn walk<'e>(e: &'e Expr, visit: &mut impl FnMut(&'e Expr)) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        visit(e);
        e.for_each_child(|c| stack.push(c));
    }
}

/// The expressions of a section item: a `let`'s value, an entry's expression source.
fn item_expr(item: &ast::Item) -> Option<&Expr> {
    match item {
        ast::Item::Let(l) => Some(&l.value),
        ast::Item::Entry(ast::Entry {
            source: ast::Source::Expr(e),
            ..
        }) => Some(e),
        ast::Item::Entry(_) => None,
    }
}

fn item_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::Let(l) => l.span,
        ast::Item::Entry(e) => e.span,
    }
}

fn contains(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

/// Source text for a heading or an outline: on one line, at most 60 characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
