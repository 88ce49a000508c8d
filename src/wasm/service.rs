//! `LanguageService` (reference §wasm-service): the language service of `scimap lsp`
//! (`crate::ide`) for the preview page — the same completion, hover, diagnostics and quick
//! fixes an editor gets, as plain objects. Positions are `{ line, character }`, 0-based, in
//! UTF-16 code units: CodeMirror's and JavaScript's own counting.

use super::to_js;
use crate::ide::{self, Analysis, CompletionKind, Position, Range};
use crate::Options;
use serde_json::{json, Value as Json};
use wasm_bindgen::prelude::*;

/// One version of a mapping's text, compiled once and asked questions by position.
#[wasm_bindgen]
pub struct LanguageService {
    analysis: Analysis,
}

#[wasm_bindgen]
impl LanguageService {
    /// Compiles `source` as `scimap check` does.
    #[wasm_bindgen(constructor)]
    pub fn new(source: &str) -> LanguageService {
        LanguageService {
            analysis: Analysis::new(source, &Options::default()),
        }
    }

    /// `[{ range, severity, code, message, label, help, related: [{ range, message }] }]`:
    /// `scimap check`'s diagnostics, in source order.
    pub fn problems(&self) -> Result<JsValue, JsError> {
        let problems: Vec<Json> = self
            .analysis
            .problems()
            .into_iter()
            .map(|p| {
                json!({
                    "range": range(p.range),
                    "severity": p.severity.to_string(),
                    "code": p.code,
                    "message": p.message,
                    "label": p.label,
                    "help": p.help,
                    "related": p.related.into_iter()
                        .map(|(r, message)| json!({ "range": range(r), "message": message }))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        to_js(&Json::Array(problems))
    }

    /// `[{ label, kind, detail, documentation, insert, range }]`: what may be written at the
    /// position; `insert` replaces `range`; `documentation` is Markdown.
    pub fn completions(&self, line: u32, character: u32) -> Result<JsValue, JsError> {
        let items: Vec<Json> = self
            .analysis
            .completions(Position { line, character })
            .into_iter()
            .map(|c| {
                json!({
                    "label": c.label,
                    "kind": kind_name(c.kind),
                    "detail": c.detail,
                    "documentation": c.documentation,
                    "insert": c.insert,
                    "range": range(c.range),
                })
            })
            .collect();
        to_js(&Json::Array(items))
    }

    /// `{ markdown, range }` about what is at the position, or `null`.
    pub fn hover(&self, line: u32, character: u32) -> Result<JsValue, JsError> {
        let hover = self.analysis.hover(Position { line, character });
        to_js(&hover.map_or(
            Json::Null,
            |h| json!({ "markdown": h.markdown, "range": range(h.range) }),
        ))
    }

    /// `[{ title, code, diagnostic, edits: [{ range, newText }], preferred }]`: the fixes of
    /// the diagnostics that touch the range; `diagnostic` is the range of the one fixed.
    #[wasm_bindgen(js_name = codeActions)]
    pub fn code_actions(
        &self,
        start_line: u32,
        start_character: u32,
        end_line: u32,
        end_character: u32,
    ) -> Result<JsValue, JsError> {
        let asked = Range {
            start: Position {
                line: start_line,
                character: start_character,
            },
            end: Position {
                line: end_line,
                character: end_character,
            },
        };
        let actions: Vec<Json> = self
            .analysis
            .code_actions(asked)
            .into_iter()
            .map(|a| {
                json!({
                    "title": a.title,
                    "code": a.code,
                    "diagnostic": range(a.diagnostic),
                    "edits": a.edits.into_iter()
                        .map(|e| json!({ "range": range(e.range), "newText": e.new_text }))
                        .collect::<Vec<_>>(),
                    "preferred": a.preferred,
                })
            })
            .collect();
        to_js(&Json::Array(actions))
    }

    /// The text laid out as `scimap fmt` does, or `null` when it does not parse.
    pub fn format(&self) -> Option<String> {
        self.analysis.format()
    }
}

fn kind_name(kind: CompletionKind) -> &'static str {
    match kind {
        CompletionKind::Field => "field",
        CompletionKind::Target => "target",
        CompletionKind::Function => "function",
        CompletionKind::Variable => "variable",
        CompletionKind::Keyword => "keyword",
        CompletionKind::Value => "value",
        CompletionKind::Setting => "setting",
    }
}

fn position(p: Position) -> Json {
    json!({ "line": p.line, "character": p.character })
}

fn range(r: ide::Range) -> Json {
    json!({ "start": position(r.start), "end": position(r.end) })
}
