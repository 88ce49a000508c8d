//! Quick fixes from diagnostics: apply a "did you mean", give a maybe-nil value a default,
//! qualify an extension attribute with its URN, silence a warning on its entry.

use super::{Analysis, Range};
use crate::diagnostic::{Diagnostic, Span, WARNING_CODES};
use crate::syntax::ast;

/// Replace `range` with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range,
    pub new_text: String,
}

/// A fix for one diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    /// The code of the diagnostic it answers, and where that diagnostic is.
    pub code: &'static str,
    pub diagnostic: Range,
    pub edits: Vec<TextEdit>,
    /// The fix the diagnostic itself suggests (an editor may apply it with one key).
    pub preferred: bool,
}

impl Analysis {
    /// The fixes of the diagnostics that touch `range`.
    pub fn code_actions(&self, range: Range) -> Vec<CodeAction> {
        let want = self.span(range);
        let mut out = Vec::new();
        for d in &self.diagnostics {
            if d.span.end < want.start || want.end < d.span.start {
                continue;
            }
            let mut action = |title: String, edits: Vec<(Span, String)>, preferred: bool| {
                out.push(CodeAction {
                    title,
                    code: d.code,
                    diagnostic: self.range(d.span),
                    edits: edits
                        .into_iter()
                        .map(|(span, new_text)| TextEdit {
                            range: self.range(span),
                            new_text,
                        })
                        .collect(),
                    preferred,
                })
            };
            let written = self.text.get(d.span.start..d.span.end).unwrap_or("");
            if let Some(name) = suggestion(d) {
                if let Some(wrong) = self.misspelled(d, &name) {
                    action(format!("Replace with `{name}`"), vec![(wrong, name)], true);
                }
            }
            if let Some(qualified) = extension(d) {
                if is_name(written) {
                    action(
                        format!("Qualify with its schema: `{qualified}`"),
                        vec![(d.span, qualified)],
                        true,
                    );
                }
            }
            if let Some(default) = nil_default(d) {
                action(
                    format!("Default to `{default}` when nil"),
                    vec![(
                        d.span,
                        format!("({} ?? {default})", crate::syntax::grouped(written)),
                    )],
                    true,
                );
            }
            if let Some(edit) = self.allow_edit(d) {
                action(
                    format!("Allow `{}` on this entry", d.code),
                    vec![edit],
                    false,
                );
            }
        }
        out
    }

    /// Where the name a "did you mean" is about is written: of the names the message quotes,
    /// the nearest to the suggestion that the diagnostic's span holds (a sub-attribute is the
    /// end of its path; "`address` has no field `localty`" names the owner too).
    fn misspelled(&self, d: &Diagnostic, suggestion: &str) -> Option<Span> {
        let written = self.text.get(d.span.start..d.span.end)?;
        let quoted = d.message.split('`').skip(1).step_by(2);
        let (at, name) = quoted
            .filter(|q| !q.is_empty() && !q.ends_with('…') && is_name(q))
            .filter_map(|q| written.rfind(q).map(|at| (at, q)))
            .min_by_key(|(_, q)| strsim::osa_distance(q, suggestion))?;
        let start = d.span.start + at;
        Some(Span::new(start, start + name.len()))
    }

    /// `// scimap:allow(CODE)` at the end of the entry a warning is in (added to the entry's
    /// allow comment if it has one; none when another comment ends the line).
    fn allow_edit(&self, d: &Diagnostic) -> Option<(Span, String)> {
        if d.is_error() || !WARNING_CODES.contains(&d.code) || d.code == "scimap::unused-let" {
            return None;
        }
        let file = self.tree()?;
        let entry = file
            .sections
            .iter()
            .flat_map(|s| &s.items)
            .find_map(|i| match i {
                ast::Item::Entry(e) if e.span.start <= d.span.start && d.span.end <= e.span.end => {
                    Some(e)
                }
                _ => None,
            })?;
        let rest = &self.text[entry.span.end..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let line = line.strip_suffix('\r').unwrap_or(line).trim_end();
        let end = entry.span.end + line.len();
        if line.trim().is_empty() {
            return Some((Span::new(end, end), format!(" // scimap:allow({})", d.code)));
        }
        let comment = line.trim_start().strip_prefix("//")?.trim_start();
        if comment.starts_with("scimap:allow(") && comment.ends_with(')') {
            return Some((Span::new(end - 1, end - 1), format!(", {}", d.code)));
        }
        None
    }
}

/// The name of a "did you mean `NAME`?" help, when the message quotes it whole.
fn suggestion(d: &Diagnostic) -> Option<String> {
    let help = d.help.as_deref()?;
    let at = help.find("did you mean `")? + "did you mean `".len();
    let name = &help[at..at + help[at..].find('`')?];
    (!name.ends_with('…')).then(|| name.to_string())
}

/// `URN:name` of "`name` belongs to an extension: write `URN:name`".
fn extension(d: &Diagnostic) -> Option<String> {
    let help = d.help.as_deref()?;
    let at =
        help.find("belongs to an extension: write `")? + "belongs to an extension: write `".len();
    let qualified = &help[at..at + help[at..].find('`')?];
    (!qualified.contains('…')).then(|| qualified.to_string())
}

/// The default of a maybe-nil value: its help's "give it a default, `(x ?? D)`".
fn nil_default(d: &Diagnostic) -> Option<&str> {
    if d.code != "scimap::maybe-nil" {
        return None;
    }
    let help = d.help.as_deref()?;
    let at = help.find("give it a default, `(")?;
    let after = &help[at..];
    let default = &after[after.find(" ?? ")? + 4..after.find(")`")?];
    (default != "…").then_some(default)
}

/// A name or an attribute path with no blanks: what a suggestion may replace.
fn is_name(text: &str) -> bool {
    !text.is_empty() && !text.contains(char::is_whitespace)
}
