//! Direct sources: JSON Paths compiled once and checked against the record schema.

use super::types::Type;
use crate::diagnostic::{quote, Diagnostic, Span};
use crate::ir::{Path, Segment};
use crate::suggest::Suggester;

/// Compiles a JSON Path. Simple paths (`$.a.b`, `$['a'][0]`, `$.list[*].x`) become segments;
/// the rest of RFC 9535 goes to serde_json_path.
// The error is the diagnostic itself, built once per entry at compile time.
#[allow(clippy::result_large_err)]
pub fn compile(text: &str, span: Span) -> Result<Path, Diagnostic> {
    if let Some(segments) = simple(text) {
        return Ok(Path::Simple(segments));
    }
    serde_json_path::JsonPath::parse(text)
        .map(Path::General)
        .map_err(|e| {
            // The parser's message names a context per nesting level: cut like user text.
            let message = format!("invalid JSON Path: {}", quote(&e.to_string()));
            Diagnostic::error("scimap::bad-path", span, message).with_help(
                "a Direct source is an RFC 9535 JSON Path such as `$.addresses[0].locality`",
            )
        })
}

/// Parses the simple subset, or None when the path needs the general engine.
fn simple(text: &str) -> Option<Vec<Segment>> {
    let mut rest = text.strip_prefix('$')?;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(".*") {
            segments.push(Segment::Wildcard);
            rest = r;
        } else if let Some(r) = rest.strip_prefix('.') {
            if r.starts_with('.') {
                return None;
            }
            let end = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                return None;
            }
            segments.push(Segment::Field(name.to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = r[..close].trim();
            rest = &r[close + 1..];
            if inner == "*" {
                segments.push(Segment::Wildcard);
            } else if let Ok(i) = inner.parse::<i64>() {
                if inner.starts_with('+')
                    || (inner.len() > 1 && inner.trim_start_matches('-').starts_with('0'))
                {
                    return None;
                }
                segments.push(Segment::Index(i));
            } else {
                let quote = inner.chars().next()?;
                if !(quote == '\'' || quote == '"') || inner.len() < 2 || !inner.ends_with(quote) {
                    return None;
                }
                let name = &inner[1..inner.len() - 1];
                if name.contains(['\\', '\'', '"', ']']) {
                    return None;
                }
                segments.push(Segment::Field(name.to_string()));
            }
        } else {
            return None;
        }
    }
    Some(segments)
}

/// Whether a path can only ever select one node.
pub fn is_singular(path: &Path) -> bool {
    match path {
        Path::Simple(segments) => !segments.iter().any(|s| matches!(s, Segment::Wildcard)),
        Path::General(_) => false,
    }
}

/// Checks each name segment against the schema while the parent's type is known and returns
/// the type of what the path finds (Any when unknown).
pub fn check(
    path: &Path,
    record: &Type,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
    suggest: &Suggester,
) -> Type {
    let Path::Simple(segments) = path else {
        return Type::Any;
    };
    let mut ty = record.clone();
    let mut list = false;
    for (i, seg) in segments.iter().enumerate() {
        ty = match (seg, ty.non_nil()) {
            (Segment::Field(name), Type::Object(o)) => match o.field(name) {
                Some(t) => t.clone(),
                None => {
                    let owner = if i == 0 {
                        format!("the JumpCloud {} record", o.name)
                    } else {
                        format!("`{}`", o.name)
                    };
                    let mut d = Diagnostic::error(
                        "scimap::unknown-field",
                        span,
                        format!("{owner} has no field `{}`", quote(name)),
                    )
                    .with_label("in this path");
                    let fields = o.fields.iter().map(|(n, _)| n.as_str());
                    if let Some(s) = suggest.did_you_mean(name, fields) {
                        d = d.with_help(format!("did you mean `{}`?", quote(s)));
                    }
                    diagnostics.push(d);
                    return Type::Any;
                }
            },
            (Segment::Index(_), Type::Array(t)) => t.as_ref().clone().nullable(),
            (Segment::Wildcard, Type::Array(t)) => {
                list = true;
                t.as_ref().clone()
            }
            _ => return Type::Any,
        };
    }
    if list {
        Type::Array(Box::new(ty))
    } else {
        ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(text: &str) -> Option<Vec<String>> {
        simple(text).map(|v| v.iter().map(|s| format!("{s:?}")).collect())
    }

    #[test]
    fn simple_paths_become_segments() {
        assert_eq!(
            segs("$.addresses[0].locality").unwrap(),
            ["Field(\"addresses\")", "Index(0)", "Field(\"locality\")"]
        );
        assert_eq!(segs("$['first name']").unwrap(), ["Field(\"first name\")"]);
        assert_eq!(segs("$.a[*].b").unwrap().len(), 3);
        assert_eq!(segs("$").unwrap().len(), 0);
    }

    #[test]
    fn other_paths_go_to_the_general_engine() {
        for p in [
            "$..x",
            "$.a[?@.b == 1]",
            "$.a[0:2]",
            "$.a[0,1]",
            "$['a\\'b']",
        ] {
            assert!(simple(p).is_none(), "{p}");
        }
        assert!(matches!(
            compile("$.a[?@.b == 1]", Span::default()),
            Ok(Path::General(_))
        ));
        assert!(compile("$.a[?", Span::default()).is_err());
    }
}
