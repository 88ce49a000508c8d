//! Inlay hints: each entry's value for a sample record, at the end of the entry (the
//! per-attribute preview of `eval --explain`, inside the editor).

use super::{Analysis, Position};
use crate::diagnostic::LineIndex;
use crate::mapping::Kind;
use crate::syntax::ast::{self, SectionKind};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Characters of a value a hint shows before `…`.
const HINT_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    pub position: Position,
    pub label: String,
}

impl Analysis {
    /// `⇒ value` after each entry of the section for `kind`, evaluated on `record`; none when
    /// the mapping does not compile.
    pub fn inlay_hints(&self, kind: Kind, record: &Json) -> Vec<InlayHint> {
        let (Some(mapping), Some(file)) = (&self.mapping, self.tree()) else {
            return Vec::new();
        };
        let section_kind = match kind {
            Kind::User => SectionKind::User,
            Kind::Group => SectionKind::Group,
        };
        let index = LineIndex::new(&self.text);
        // Where each entry's source starts (as `explain` reports it) → where the entry ends.
        let mut ends = HashMap::new();
        for section in file.sections.iter().filter(|s| s.kind == section_kind) {
            for item in &section.items {
                if let ast::Item::Entry(e) = item {
                    let start = match &e.source {
                        ast::Source::Direct(p) => p.span.start,
                        ast::Source::Const(c) => self.text[..c.span.start]
                            .rfind("const")
                            .unwrap_or(c.span.start),
                        ast::Source::Expr(x) => x.span.start,
                    };
                    ends.insert(index.line_col(start), e.span.end);
                }
            }
        }
        mapping
            .explain(kind, record)
            .into_iter()
            .filter_map(|x| {
                let end = *ends.get(&(x.line, x.column))?;
                let label = match (&x.value, &x.error) {
                    (_, Some(e)) => format!("⇒ error: {}", e.message),
                    (Some(v), None) => format!("⇒ {v}"),
                    (None, None) => "⇒ absent".to_string(),
                };
                Some(InlayHint {
                    position: self.range(crate::diagnostic::Span::new(end, end)).start,
                    label: shorten(&label),
                })
            })
            .collect()
    }
}

fn shorten(label: &str) -> String {
    match label.char_indices().nth(HINT_CHARS) {
        Some((cut, _)) => format!("{}…", &label[..cut]),
        None => label.to_string(),
    }
}
