//! Diagnostics as data and text (INTERFACES §2): the JSON objects shared by the CLI and WASM,
//! GitHub workflow commands, and (with the `cli` feature) miette's graphical report.

use serde_json::{json, Value};

use crate::diagnostic::{Diagnostic, Severity, Span};

/// Line/column lookup for a source; columns count Unicode scalar values; 1-based.
pub struct LineIndex {
    source: Box<str>,
    /// Byte offset where each line starts; the first is always 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex {
            source: source.into(),
            starts,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The 1-based line and column of a byte offset. An offset past the end means the end; one
    /// inside a multi-byte character means that character.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(&self.source, offset);
        // `starts[0] == 0`, so at least one start is ≤ offset.
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .source
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line, column + 1)
    }
}

/// The largest char boundary ≤ `offset` (clamped to the source length).
fn floor_boundary(s: &str, offset: usize) -> usize {
    let mut i = offset.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A span made safe for slicing: both ends on char boundaries inside the source, start ≤ end.
fn clamp(span: Span, source: &str) -> Span {
    let start = floor_boundary(source, span.start);
    let end = floor_boundary(source, span.end).max(start);
    Span::new(start, end)
}

/// The location fields of §2, in order, for one span.
fn location(span: Span, index: &LineIndex, into: &mut serde_json::Map<String, Value>) {
    let (line, column) = index.line_col(span.start);
    let (end_line, end_column) = index.line_col(span.end);
    into.insert("line".into(), json!(line));
    into.insert("column".into(), json!(column));
    into.insert("end_line".into(), json!(end_line));
    into.insert("end_column".into(), json!(end_column));
    into.insert("offset".into(), json!(span.start));
    into.insert("end_offset".into(), json!(span.end));
}

/// The §2 JSON object: {"file","code","severity","message","line","column","end_line",
/// "end_column","offset","end_offset","help","labels":[…]} — keys in that order.
/// `labels` holds the secondary labels; the primary span is the object's own location.
/// `index` is built once per source: a file may have thousands of diagnostics.
pub fn diagnostic_json(d: &Diagnostic, file: Option<&str>, index: &LineIndex) -> Value {
    let source = index.source();
    let mut obj = serde_json::Map::new();
    obj.insert("file".into(), json!(file));
    obj.insert("code".into(), json!(d.code));
    obj.insert("severity".into(), json!(d.severity.to_string()));
    obj.insert("message".into(), json!(d.message));
    location(clamp(d.span, source), index, &mut obj);
    obj.insert("help".into(), json!(d.help));
    let labels = d
        .labels
        .iter()
        .map(|l| {
            let mut o = serde_json::Map::new();
            o.insert("message".into(), json!(l.message));
            location(clamp(l.span, source), index, &mut o);
            Value::Object(o)
        })
        .collect();
    obj.insert("labels".into(), Value::Array(labels));
    Value::Object(obj)
}

/// `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::MESSAGE` (`::warning` for
/// warnings), escaped per GitHub's workflow-command rules.
pub fn github_line(d: &Diagnostic, file: &str, index: &LineIndex) -> String {
    let source = index.source();
    let span = clamp(d.span, source);
    let (line, col) = index.line_col(span.start);
    let (end_line, end_col) = index.line_col(span.end);
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "::{command} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
        escape_property(file),
        escape_property(d.code),
        escape_data(&d.message)
    )
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// miette's graphical report (colour on/off), with the code, message, primary span and its
/// label, secondary labels and help.
#[cfg(feature = "cli")]
pub fn human(d: &Diagnostic, file: &str, source: &str, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};

    let report = Report::new(d, file, source);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let rendered = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .render_report(&mut out, &report);
    if rendered.is_err() {
        // miette only fails on a span it cannot place; say where it was instead.
        let (line, column) = LineIndex::new(source).line_col(d.span.start);
        out = format!(
            "{}[{}]: {}\n  at {file}:{line}:{column}\n",
            d.severity, d.code, d.message
        );
    }
    out
}

/// Adapter giving a [`Diagnostic`] the shape miette renders.
#[cfg(feature = "cli")]
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: miette::NamedSource<String>,
    labels: Vec<miette::LabeledSpan>,
}

#[cfg(feature = "cli")]
impl<'a> Report<'a> {
    fn new(d: &'a Diagnostic, file: &str, source: &str) -> Self {
        let to_miette = |s: Span| {
            let s = clamp(s, source);
            miette::SourceSpan::from((s.start, s.end - s.start))
        };
        let labels = std::iter::once(miette::LabeledSpan::new_primary_with_span(
            d.label.clone(),
            to_miette(d.span),
        ))
        .chain(d.labels.iter().map(|l| {
            miette::LabeledSpan::new_with_span(Some(l.message.clone()), to_miette(l.span))
        }))
        .collect();
        Report {
            diagnostic: d,
            source: miette::NamedSource::new(file, source.to_string()),
            labels,
        }
    }
}

#[cfg(feature = "cli")]
impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

#[cfg(feature = "cli")]
impl std::error::Error for Report<'_> {}

#[cfg(feature = "cli")]
impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (&'static str, Diagnostic) {
        let source = "user {\n  usrName = $.username\n}\n";
        let start = source.find("usrName").unwrap_or(0);
        let d = Diagnostic::error(
            "scimap::unknown-target",
            Span::new(start, start + 7),
            "unknown target `usrName`",
        )
        .with_label("not a SCIM attribute")
        .with_secondary(Span::new(0, 4), "in this section")
        .with_help("did you mean `userName`?");
        (source, d)
    }

    #[test]
    fn line_col_counts_scalar_values_and_clamps() {
        let idx = LineIndex::new("ab\né😀x\r\ny");
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(2), (1, 3));
        assert_eq!(idx.line_col(3), (2, 1));
        // "é" is 2 bytes and "😀" 4: x starts at byte 3 + 2 + 4 = 9, column 3.
        assert_eq!(idx.line_col(9), (2, 3));
        // Inside the emoji: the emoji's own column.
        assert_eq!(idx.line_col(6), (2, 2));
        // "\r\n" is one break; y is on line 3.
        assert_eq!(idx.line_col(12), (3, 1));
        assert_eq!(idx.line_col(1000), (3, 2));
        assert_eq!(LineIndex::new("").line_col(5), (1, 1));
    }

    #[test]
    fn json_has_every_key_in_order() {
        let (source, d) = sample();
        let v = diagnostic_json(&d, Some("m.scimap"), &LineIndex::new(source));
        let expected = json!({
            "file": "m.scimap", "code": "scimap::unknown-target", "severity": "error",
            "message": "unknown target `usrName`",
            "line": 2, "column": 3, "end_line": 2, "end_column": 10,
            "offset": 9, "end_offset": 16,
            "help": "did you mean `userName`?",
            "labels": [{"message": "in this section", "line": 1, "column": 1,
                        "end_line": 1, "end_column": 5, "offset": 0, "end_offset": 4}]
        });
        assert_eq!(v.to_string(), expected.to_string());
        let w = diagnostic_json(
            &Diagnostic::warning("scimap::maybe-nil", Span::new(50, 60), "m"),
            None,
            &LineIndex::new(source),
        );
        assert_eq!(
            w.to_string(),
            r#"{"file":null,"code":"scimap::maybe-nil","severity":"warning","message":"m","line":4,"column":1,"end_line":4,"end_column":1,"offset":32,"end_offset":32,"help":null,"labels":[]}"#
        );
    }

    #[test]
    fn github_escapes_properties_and_message() {
        let (source, d) = sample();
        assert_eq!(
            github_line(&d, "a,b:c.scimap", &LineIndex::new(source)),
            "::error file=a%2Cb%3Ac.scimap,line=2,col=3,endLine=2,endColumn=10,\
             title=scimap%3A%3Aunknown-target::unknown target `usrName`"
        );
        let w = Diagnostic::warning("x", Span::new(0, 1), "100%\r\nsure: a, b");
        assert_eq!(
            github_line(&w, "f", &LineIndex::new("u")),
            "::warning file=f,line=1,col=1,endLine=1,endColumn=2,title=x::100%25%0D%0Asure: a, b"
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn human_shows_code_labels_and_help() {
        let (source, d) = sample();
        let text = human(&d, "m.scimap", source, false);
        for needle in [
            "scimap::unknown-target",
            "unknown target `usrName`",
            "m.scimap:2:3",
            "not a SCIM attribute",
            "in this section",
            "did you mean `userName`?",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
        }
        assert!(!text.contains('\u{1b}'), "no colour codes expected");
        assert!(human(&d, "m.scimap", source, true).contains('\u{1b}'));
    }

    #[cfg(feature = "cli")]
    #[test]
    fn human_survives_spans_outside_the_source() {
        let d = Diagnostic::error("c", Span::new(40, 10), "bad span");
        let text = human(&d, "f", "é", false);
        assert!(text.contains("bad span"), "{text}");
    }
}
