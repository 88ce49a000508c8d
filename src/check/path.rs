//! Direct sources: JSON Paths compiled once and checked against the record schema.

use super::types::Type;
use crate::diagnostic::{quote, Diagnostic, Span};
use crate::ir::{Path, Segment};
use crate::jsonpath::{JsonPath, ParseError};
use crate::limits::Limits;
use crate::suggest::Suggester;

/// Compiles a JSON Path (RFC 9535), nesting at most `limits.depth` deep. Paths of child
/// segments with one name, index or wildcard each (`$.a.b`, `$['a'][0]`, `$.list[*].x`)
/// become segments walked directly; the others run on the JSON Path engine.
// The error is the diagnostic itself, built once per entry at compile time.
#[allow(clippy::result_large_err)]
pub fn compile(text: &str, span: Span, limits: &Limits) -> Result<Path, Diagnostic> {
    let path = JsonPath::parse(text, limits).map_err(|e| bad_path(e, span))?;
    Ok(match path.simple() {
        Some(segments) => Path::Simple(segments),
        None => Path::General(path),
    })
}

/// The diagnostic for a path that does not parse, pointing at the offending character.
fn bad_path(e: ParseError, span: Span) -> Diagnostic {
    let at = |offset: usize| span.start + offset;
    let (code, message) = if e.limit {
        ("scimap::limit", e.message)
    } else {
        (
            "scimap::bad-path",
            format!("invalid JSON Path: {}", e.message),
        )
    };
    let mut d = Diagnostic::error(code, Span::new(at(e.at), at(e.end)), message).with_help(
        e.help.unwrap_or_else(|| {
            "a Direct source is an RFC 9535 JSON Path such as `$.addresses[0].locality`".into()
        }),
    );
    if let Some((offset, label)) = e.opened {
        d = d.with_secondary(Span::new(at(offset), at(offset) + 1), label);
    }
    d
}

/// Whether a path can only ever select one node.
pub fn is_singular(path: &Path) -> bool {
    match path {
        Path::Simple(segments) => !segments.iter().any(|s| matches!(s, Segment::Wildcard)),
        Path::General(p) => p.is_singular(),
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
        match compile(text, Span::default(), &Limits::default()).ok()? {
            Path::Simple(v) => Some(v.iter().map(|s| format!("{s:?}")).collect()),
            Path::General(_) => None,
        }
    }

    #[test]
    fn simple_paths_become_segments() {
        assert_eq!(
            segs("$.addresses[0].locality").unwrap(),
            ["Field(\"addresses\")", "Index(0)", "Field(\"locality\")"]
        );
        assert_eq!(segs("$['first name']").unwrap(), ["Field(\"first name\")"]);
        assert_eq!(segs("$['a\\'b']").unwrap(), ["Field(\"a'b\")"]);
        assert_eq!(segs("$.a[*].b").unwrap().len(), 3);
        assert_eq!(segs("$ [ -1 ]").unwrap(), ["Index(-1)"]);
        assert_eq!(segs("$").unwrap().len(), 0);
    }

    #[test]
    fn other_paths_go_to_the_general_engine() {
        for p in ["$..x", "$.a[?@.b == 1]", "$.a[0:2]", "$.a[0,1]", "$[0]..a"] {
            assert!(
                matches!(
                    compile(p, Span::default(), &Limits::default()),
                    Ok(Path::General(_))
                ),
                "{p}"
            );
        }
    }

    #[test]
    fn errors_point_at_the_offending_character() {
        let span = Span::new(100, 113);
        let d = compile("$.username[?", span, &Limits::default()).unwrap_err();
        assert_eq!(d.code, "scimap::bad-path");
        assert_eq!(d.span, Span::new(111, 112));
        let d = compile("$.a[?@.b == 1", span, &Limits::default()).unwrap_err();
        assert_eq!(d.span, Span::new(113, 113));
        assert_eq!(d.labels[0].span, Span::new(103, 104));
        assert_eq!(d.labels[0].message, "this `[` is not closed");
        let d = compile("$.first-name", Span::new(0, 12), &Limits::default()).unwrap_err();
        assert_eq!(d.span, Span::new(7, 8));
        assert_eq!(
            d.help.as_deref(),
            Some("write the name in brackets: `['first-name']`")
        );
        let d = compile("$.state == 'x'", Span::new(0, 14), &Limits::default()).unwrap_err();
        assert_eq!(d.span, Span::new(8, 10));
        assert!(d
            .message
            .contains("a Direct source is a path, not an expression"));
    }

    #[test]
    fn nesting_over_the_depth_limit_is_a_limit_error() {
        let limits = Limits {
            depth: 3,
            ..Limits::default()
        };
        assert!(compile("$[?@[?@[?@]]]", Span::default(), &limits).is_ok());
        let d = compile("$[?@[?@[?@[?@]]]]", Span::default(), &limits).unwrap_err();
        assert_eq!(d.code, "scimap::limit");
        assert_eq!(d.span, Span::new(11, 12));
    }

    #[test]
    fn singular_paths() {
        let singular =
            |p: &str| is_singular(&compile(p, Span::default(), &Limits::default()).unwrap());
        assert!(singular("$.a[0]['b']"));
        assert!(!singular("$.a[*]"));
        assert!(!singular("$.a[0,1]"));
        assert!(!singular("$..a"));
    }
}
