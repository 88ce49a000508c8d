//! Diagnostics as data and text (reference §diagnostics-json): the JSON objects shared by the CLI
//! and WASM, GitHub workflow commands, and (with the `cli` feature) miette's graphical report.

use serde_json::{json, Value};

pub use crate::diagnostic::LineIndex;
use crate::diagnostic::{floor_boundary, Diagnostic, Severity, Span};

/// A span made safe for slicing: both ends on char boundaries inside the source, start ≤ end.
fn clamp(span: Span, source: &str) -> Span {
    let start = floor_boundary(source, span.start);
    let end = floor_boundary(source, span.end).max(start);
    Span::new(start, end)
}

/// The location fields of reference §diagnostics-json, in order, for one span.
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

/// The JSON object of reference §diagnostics-json: {"file","code","severity","message","line",
/// "column","end_line","end_column","offset","end_offset","help","labels":[…]} — keys in that order.
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

/// GitHub's escapes for a workflow command's data, and [`visible`]'s for the other unsafe
/// characters: the runner's log shows them to readers.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// [`escape_data`], and `:` and `,`, for a workflow command's properties (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Whether a character must not reach a terminal or a log raw: C0 and C1 control characters
/// (escape sequences, carriage returns; the tab aside) and the bidirectional formatting
/// characters that make a line read differently from what it holds.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// Text with every unsafe character written as its escape, `\u{1b}`.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(is_unsafe) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    out.into()
}

fn push_visible(out: &mut String, c: char) {
    if is_unsafe(c) {
        out.push_str(&c.escape_unicode().to_string());
    } else {
        out.push(c);
    }
}

/// miette's graphical report (colour on/off), with the code, message, primary span and its
/// label, secondary labels and help. Builds the line index: a caller with many diagnostics of
/// one source calls [`human_with`].
#[cfg(feature = "cli")]
pub fn human(d: &Diagnostic, file: &str, source: &str, color: bool) -> String {
    human_with(d, file, &LineIndex::new(source), color)
}

/// [`human`] with the source's line index. The report shows an excerpt: the lines of each span
/// and one line around them, at most [`SPAN_LINES`] lines of a span, and of a line longer
/// than [`LINE_CHARS`] characters only a window around each span end, so that its size does
/// not depend on the source. Unsafe characters (see [`visible`]) are escaped everywhere.
#[cfg(feature = "cli")]
pub fn human_with(d: &Diagnostic, file: &str, index: &LineIndex, color: bool) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};

    let report = Report::new(d, file, index);
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
        let (line, column) = index.line_col(d.span.start);
        out = format!(
            "{}[{}]: {}\n  at {}:{line}:{column}\n",
            d.severity,
            d.code,
            visible(&d.message),
            visible(file)
        );
    }
    out
}

/// The most lines of one span a report shows; a longer span is cut after them.
pub const SPAN_LINES: usize = 6;
/// A line up to this many characters is shown whole.
pub const LINE_CHARS: usize = 120;
/// Characters shown on each side of a span end in a longer line.
#[cfg(feature = "cli")]
const WINDOW_CHARS: usize = 40;

/// The part of a source one report shows, as miette reads it: the shown lines, each escaped
/// and cut to its windows, joined by `\n` into `text`; spans are translated into it, and
/// line numbers and columns back to the source.
#[cfg(feature = "cli")]
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// For each line of `text`, its 0-based line in the source.
    lines: Vec<usize>,
    /// Offsets in `text` where a line starts.
    starts: Vec<usize>,
    /// Span ends: offset in `text` → 0-based column in the source line.
    columns: Vec<(usize, usize)>,
}

#[cfg(feature = "cli")]
impl Excerpt {
    /// The excerpt showing `spans`, and those spans translated into it.
    fn new(name: &str, index: &LineIndex, spans: &[Span]) -> (Excerpt, Vec<Span>) {
        let source = index.source();
        let last_line = index.starts.len() - 1;
        let line_of = |offset: usize| index.starts.partition_point(|&s| s <= offset) - 1;
        // Clamp, and cut spans longer than SPAN_LINES lines at the end of their last shown line.
        let spans: Vec<Span> = spans
            .iter()
            .map(|&s| {
                let s = clamp(s, source);
                let first = line_of(s.start);
                let last = line_of(s.end.saturating_sub(1).max(s.start));
                if last - first < SPAN_LINES {
                    return s;
                }
                let cut = index.starts[first + SPAN_LINES] - 1;
                Span::new(s.start, cut.max(s.start))
            })
            .collect();
        // Each span's lines and one line on either side (miette's context), merged.
        let mut ranges: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let first = line_of(s.start);
                let last = line_of(s.end.saturating_sub(1).max(s.start));
                (first.saturating_sub(1), (last + 1).min(last_line))
            })
            .collect();
        ranges.sort_unstable();
        let mut shown: Vec<usize> = Vec::new();
        for (a, b) in ranges {
            let from = shown.last().map_or(a, |&l| a.max(l + 1));
            shown.extend(from..=b);
        }
        // Span ends per line, as byte offsets in the line.
        let mut ends: Vec<(usize, usize)> = spans
            .iter()
            .flat_map(|s| [s.start, s.end])
            .map(|o| {
                let line = line_of(o);
                (line, o - index.starts[line])
            })
            .collect();
        ends.sort_unstable();
        ends.dedup();

        let mut excerpt = Excerpt {
            name: visible(name).into_owned(),
            text: String::new(),
            lines: Vec::with_capacity(shown.len()),
            starts: Vec::with_capacity(shown.len()),
            columns: Vec::new(),
        };
        // Source offset → text offset, for the span ends.
        let mut moved: Vec<(usize, usize)> = Vec::with_capacity(ends.len());
        for &line in &shown {
            let start = index.starts[line];
            let end = index.starts.get(line + 1).map_or(source.len(), |&n| n - 1);
            let raw = &source[start..end];
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let lo = ends.partition_point(|&(l, _)| l < line);
            let hi = ends.partition_point(|&(l, _)| l <= line);
            let at: Vec<usize> = ends[lo..hi].iter().map(|&(_, o)| o).collect();
            excerpt.lines.push(line);
            excerpt.starts.push(excerpt.text.len());
            excerpt.push_line(raw, &at, start, &mut moved);
            if line < last_line {
                excerpt.text.push('\n');
            }
        }
        let translate = |offset: usize| {
            moved
                .iter()
                .find(|&&(o, _)| o == offset)
                .map_or(excerpt.text.len(), |&(_, t)| t)
        };
        let spans = spans
            .iter()
            .map(|s| {
                let start = translate(s.start);
                Span::new(start, translate(s.end).max(start))
            })
            .collect();
        (excerpt, spans)
    }

    /// Appends one source line: whole if short, else a window around each offset of `at` (in
    /// the line, sorted), with `…` where text is left out. Records where the offsets of `at`
    /// land. Reads the line only around those offsets, but for counting characters.
    fn push_line(
        &mut self,
        raw: &str,
        at: &[usize],
        line_start: usize,
        moved: &mut Vec<(usize, usize)>,
    ) {
        // Offsets past the text (its line break) are its end; each with its character column.
        let marks: Vec<(usize, usize, usize)> = at
            .iter()
            .map(|&o| {
                let b = o.min(raw.len());
                (o, b, raw[..b].chars().count())
            })
            .collect();
        // Byte ranges shown, merged where they meet.
        let mut windows: Vec<(usize, usize)> = Vec::new();
        if raw.len() <= LINE_CHARS || raw.chars().count() <= LINE_CHARS {
            windows.push((0, raw.len()));
        } else {
            for &(_, b, _) in &marks {
                let from = raw[..b]
                    .char_indices()
                    .rev()
                    .nth(WINDOW_CHARS - 1)
                    .map_or(0, |(i, _)| i);
                let to = raw[b..]
                    .char_indices()
                    .nth(WINDOW_CHARS)
                    .map_or(raw.len(), |(i, _)| b + i);
                match windows.last_mut() {
                    Some(last) if from <= last.1 => last.1 = last.1.max(to),
                    _ => windows.push((from, to)),
                }
            }
        }
        let mut shown_to = 0;
        let mut mark = marks.iter().peekable();
        for &(from, to) in &windows {
            if from > shown_to {
                self.text.push('…');
            }
            let chars = raw[from..to]
                .char_indices()
                .map(|(i, c)| (from + i, Some(c)));
            for (b, c) in chars.chain([(to, None)]) {
                while let Some(&&(o, at, column)) = mark.peek() {
                    if at != b {
                        break;
                    }
                    moved.push((line_start + o, self.text.len()));
                    self.columns.push((self.text.len(), column));
                    mark.next();
                }
                if let Some(c) = c {
                    push_visible(&mut self.text, c);
                }
            }
            shown_to = to;
        }
        if shown_to < raw.len() {
            self.text.push('…');
        }
    }
}

#[cfg(feature = "cli")]
impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let offset = inner.span().offset();
        let data = inner.data();
        // Line numbers and the column come from the source; the count is the lines this read
        // covers, so that miette joins two reads only where the excerpt's lines are adjacent
        // in the source too.
        let first = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let last_byte = offset + data.len().saturating_sub(1);
        let last = self.starts.partition_point(|&s| s <= last_byte).max(1) - 1;
        let line = self.lines.get(first).copied().unwrap_or(0);
        let column = match self.columns.iter().find(|&&(o, _)| o == offset) {
            Some(&(_, c)) => c,
            None => inner.column(),
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            data,
            *inner.span(),
            line,
            column,
            last - first + 1,
        )))
    }
}

/// Adapter giving a [`Diagnostic`] the shape miette renders.
#[cfg(feature = "cli")]
#[derive(Debug)]
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    message: String,
    help: Option<String>,
    source: Excerpt,
    labels: Vec<miette::LabeledSpan>,
}

#[cfg(feature = "cli")]
impl<'a> Report<'a> {
    fn new(d: &'a Diagnostic, file: &str, index: &LineIndex) -> Self {
        let spans: Vec<Span> = std::iter::once(d.span)
            .chain(d.labels.iter().map(|l| l.span))
            .collect();
        let (source, spans) = Excerpt::new(file, index, &spans);
        let to_miette = |s: Span| miette::SourceSpan::from((s.start, s.end - s.start));
        let text = |t: &str| visible(t).into_owned();
        let labels = std::iter::once(miette::LabeledSpan::new_primary_with_span(
            d.label.as_deref().map(text),
            to_miette(spans[0]),
        ))
        .chain(d.labels.iter().zip(&spans[1..]).map(|(l, &s)| {
            miette::LabeledSpan::new_with_span(Some(text(&l.message)), to_miette(s))
        }))
        .collect();
        Report {
            diagnostic: d,
            message: text(&d.message),
            help: d.help.as_deref().map(text),
            source,
            labels,
        }
    }
}

#[cfg(feature = "cli")]
impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
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
        self.help
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
