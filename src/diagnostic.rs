//! Compile-time diagnostics: one shape for the terminal, JSON, GitHub annotations and WASM.

use std::fmt;

/// Diagnostics reported per file: a hostile mapping can raise one per token, and each costs
/// output and, for unknown names, a search for a suggestion. The rest are counted in a final
/// `scimap::too-many-diagnostics` note.
pub const MAX_DIAGNOSTICS: usize = 1000;

/// Characters of user text (a name, a value, a URN) a message quotes before `…`.
pub const QUOTE_CHARS: usize = 64;

/// A byte range in the mapping source (end exclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(s: pest::Span<'_>) -> Self {
        Span::new(s.start(), s.end())
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end - s.start).into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A secondary location with its own message ("first mapped here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding about a mapping file. `code` is stable (`scimap::unknown-field`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// The message shown under the primary span; defaults to nothing.
    pub label: Option<String>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Only on the `scimap::too-many-diagnostics` note: the diagnostics it stands for.
    pub omitted: Option<Counts>,
}

/// How many errors and warnings a list of diagnostics holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
}

impl Counts {
    /// Counts every diagnostic, those a `scimap::too-many-diagnostics` note stands for included
    /// (the note itself is not one).
    pub fn of<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Counts {
        let mut counts = Counts::default();
        for d in diagnostics {
            match (d.omitted, d.severity) {
                (Some(omitted), _) => {
                    counts.errors += omitted.errors;
                    counts.warnings += omitted.warnings;
                }
                (None, Severity::Error) => counts.errors += 1,
                (None, Severity::Warning) => counts.warnings += 1,
            }
        }
        counts
    }
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            labels: Vec::new(),
            help: None,
            omitted: None,
        }
    }
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.label = Some(message.into());
        self
    }
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts a file's diagnostics by position (a stable sort: those at one place keep the order
/// they were found in) and keeps the first [`MAX_DIAGNOSTICS`]; the rest become one
/// `scimap::too-many-diagnostics` note after them, an error if any of them is one.
pub fn cap(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    if diagnostics.len() <= MAX_DIAGNOSTICS {
        return diagnostics;
    }
    let rest = diagnostics.split_off(MAX_DIAGNOSTICS);
    let omitted = Counts::of(&rest);
    // The note sorts after every kept diagnostic, here and wherever files are merged by offset.
    let at = rest[0].span.start;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let message = format!(
        "{} more diagnostic{} not shown ({} error{}, {} warning{}): only the first {MAX_DIAGNOSTICS} of a file are reported",
        rest.len(),
        plural(rest.len()),
        omitted.errors,
        plural(omitted.errors),
        omitted.warnings,
        plural(omitted.warnings),
    );
    let note = if omitted.errors > 0 {
        Diagnostic::error("scimap::too-many-diagnostics", Span::new(at, at), message)
    } else {
        Diagnostic::warning("scimap::too-many-diagnostics", Span::new(at, at), message)
    };
    diagnostics.push(Diagnostic {
        omitted: Some(omitted),
        ..note.with_help("fix the ones shown (often one mistake repeated) and check again")
    });
    diagnostics
}

/// User text as a message quotes it: its first [`QUOTE_CHARS`] characters, then `…` if there
/// is more. Messages are shared by every output format, and a name may be a megabyte long.
pub fn quote(text: &str) -> Quoted<'_> {
    Quoted(text)
}

/// See [`quote`].
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(QUOTE_CHARS) {
            Some((cut, _)) => write!(f, "{}…", &self.0[..cut]),
            None => f.write_str(self.0),
        }
    }
}

/// The warning codes an allow comment or `--allow` can silence; errors cannot be allowed.
pub const WARNING_CODES: &[&str] = &[
    "scimap::matching-absent",
    "scimap::maybe-nil",
    "scimap::non-canonical",
    "scimap::non-singular-path",
    "scimap::unused-let",
];

/// A warning code written with or without its `scimap::` prefix, in full; or why it is none,
/// with the code it probably meant.
pub fn warning_code(name: &str) -> Result<&'static str, String> {
    let bare = name.strip_prefix("scimap::").unwrap_or(name);
    if let Some(code) = WARNING_CODES
        .iter()
        .find(|c| c.strip_prefix("scimap::") == Some(bare))
    {
        return Ok(code);
    }
    let bare_codes = WARNING_CODES
        .iter()
        .filter_map(|c| c.strip_prefix("scimap::"));
    let known = WARNING_CODES.join(", ");
    Err(match crate::suggest::did_you_mean(bare, bare_codes) {
        Some(near) => {
            format!("unknown warning code; did you mean `scimap::{near}`? (known: {known})")
        }
        None => format!("not a warning code (known: {known})"),
    })
}

/// Line/column lookup for a source; columns count Unicode scalar values; 1-based.
pub struct LineIndex {
    source: Box<str>,
    /// Byte offset where each line starts; the first is always 0.
    pub(crate) starts: Vec<usize>,
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
pub(crate) fn floor_boundary(s: &str, offset: usize) -> usize {
    let mut i = offset.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_keeps_short_text_and_cuts_long_text() {
        assert_eq!(quote("userName").to_string(), "userName");
        assert_eq!(quote("").to_string(), "");
        let exact = "é".repeat(QUOTE_CHARS);
        assert_eq!(quote(&exact).to_string(), exact);
        let long = "é".repeat(300_000);
        assert_eq!(
            quote(&long).to_string(),
            format!("{}…", "é".repeat(QUOTE_CHARS))
        );
    }

    #[test]
    fn cap_keeps_the_first_in_source_order_and_counts_the_rest() {
        let few: Vec<Diagnostic> = (0..3)
            .rev()
            .map(|i| Diagnostic::warning("w", Span::new(i, i + 1), "m"))
            .collect();
        let kept = cap(few);
        assert_eq!(
            kept.iter().map(|d| d.span.start).collect::<Vec<_>>(),
            [0, 1, 2]
        );

        // Warnings first in the file, errors after them, found in reverse order.
        let many: Vec<Diagnostic> = (0..MAX_DIAGNOSTICS + 10)
            .rev()
            .map(|i| {
                if i < MAX_DIAGNOSTICS + 4 {
                    Diagnostic::warning("w", Span::new(i, i + 1), "m")
                } else {
                    Diagnostic::error("e", Span::new(i, i + 1), "m")
                }
            })
            .collect();
        let all = Counts::of(&many);
        assert_eq!(
            all,
            Counts {
                errors: 6,
                warnings: MAX_DIAGNOSTICS + 4
            }
        );
        let kept = cap(many);
        assert_eq!(kept.len(), MAX_DIAGNOSTICS + 1);
        assert!(kept.windows(2).all(|w| w[0].span.start <= w[1].span.start));
        let note = &kept[MAX_DIAGNOSTICS];
        assert_eq!(note.code, "scimap::too-many-diagnostics");
        assert!(note.is_error(), "errors are among the omitted");
        assert_eq!(note.span, Span::new(MAX_DIAGNOSTICS, MAX_DIAGNOSTICS));
        assert_eq!(
            note.message,
            "10 more diagnostics not shown (6 errors, 4 warnings): only the first 1000 of a file are reported"
        );
        assert_eq!(Counts::of(&kept), all, "the counts stay true");

        let warnings: Vec<Diagnostic> = (0..MAX_DIAGNOSTICS + 1)
            .map(|i| Diagnostic::warning("w", Span::new(i, i), "m"))
            .collect();
        let kept = cap(warnings);
        assert_eq!(kept[MAX_DIAGNOSTICS].severity, Severity::Warning);
        assert!(kept[MAX_DIAGNOSTICS]
            .message
            .starts_with("1 more diagnostic not shown (0 errors, 1 warning)"));
    }
}
