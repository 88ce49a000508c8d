//! Direct sources: JSON Paths compiled once and checked against the record schema.

use crate::diagnostic::{quote, Diagnostic, Span};
use crate::ir::{Path, Segment};
use crate::jsonpath::{JsonPath, ParseError, Step};
use crate::limits::Limits;
use crate::suggest::Suggester;
use crate::types::Type;

/// Compiles a JSON Path (RFC 9535), nesting at most `limits.depth` deep. Paths of child
/// segments with one name, index or wildcard each (`$.a.b`, `$['a'][0]`, `$.list[*].x`)
/// become segments walked directly; the others run on the JSON Path engine.
// The error is the diagnostic itself, built once per entry at compile time.
#[allow(clippy::result_large_err)]
pub fn compile(text: &str, span: Span, limits: &Limits) -> Result<Path, Diagnostic> {
    let path = JsonPath::parse(text, limits).map_err(|e| {
        path_then_expression(text, &e, span, limits).unwrap_or_else(|| bad_path(e, span))
    })?;
    let simple: Option<Vec<Segment>> = path.simple().map(|steps| {
        steps
            .into_iter()
            .map(|step| match step {
                Step::Name(name) => Segment::Field(name.to_string()),
                Step::Index(i) => Segment::Index(i),
                Step::Wildcard => Segment::Wildcard,
            })
            .collect()
    });
    Ok(match simple {
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

/// `$.state == "ACTIVATED"`: a whole path followed by more expression, which a Direct source
/// cannot be. The error offset is where the path ends; what follows is an operator, or comes
/// after a blank (`$.first-name` is a bad name, answered by the path's own error).
fn path_then_expression(
    text: &str,
    e: &ParseError,
    span: Span,
    limits: &Limits,
) -> Option<Diagnostic> {
    const OPERATORS: [&str; 16] = [
        "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "<", ">", "=", "+", "*", "/", "%", "|",
    ];
    if e.limit {
        return None;
    }
    let (path, rest) = (text.get(..e.at)?, text.get(e.at..)?);
    let blank = path.ends_with(char::is_whitespace);
    let path = path.trim_end();
    if path.len() < 2 || rest.trim().is_empty() {
        return None;
    }
    if !blank && !OPERATORS.iter().any(|op| rest.starts_with(op)) {
        return None;
    }
    JsonPath::parse(path, limits).ok()?;
    Some(
        Diagnostic::error(
            "scimap::bad-path",
            span,
            format!(
                "a Direct path (`$…`) stands alone as a whole source, but `{}` is followed by more",
                quote(path)
            ),
        )
        .with_label("a path, then an expression")
        .with_help(expression_help(text)),
    )
}

/// The help for a `$` path written where an expression is: the expression as it would be with
/// fields named without `$.`, when that is short enough to show.
pub fn expression_help(expression: &str) -> String {
    match expression_form(expression) {
        Some(form) => format!("write it as an expression, naming fields without `$.`: `{form}`"),
        None => {
            "write it as an expression, naming fields without `$.` (`email`, not `$.email`)".into()
        }
    }
}

/// `expression` with each `$.` that starts a path (outside string literals) removed; `None`
/// when that changes nothing, or the text is too long or spans lines to quote in a help.
fn expression_form(expression: &str) -> Option<String> {
    const MOST: usize = 120;
    let expression = expression.trim();
    if expression.len() > MOST || expression.contains('\n') {
        return None;
    }
    let mut out = String::with_capacity(expression.len());
    let mut quote_char: Option<char> = None;
    let mut escaped = false;
    let mut chars = expression.char_indices().peekable();
    let mut changed = false;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote_char {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote_char = None;
            }
            continue;
        }
        let starts_name = |rest: &str| rest.starts_with(|n: char| n.is_alphabetic() || n == '_');
        if c == '$' && expression[i + 1..].starts_with('.') && starts_name(&expression[i + 2..]) {
            chars.next();
            changed = true;
            continue;
        }
        if matches!(c, '"' | '\'' | '`') {
            quote_char = Some(c);
        }
        out.push(c);
    }
    changed.then_some(out)
}

/// What to write instead of a path that finds several nodes into one value: an expression that
/// selects one (an index after `[*]` or a filter applies to each match, so it does not help),
/// computed from the path `text` for the common shapes.
pub fn non_singular_help(path: &Path, text: &str) -> String {
    if let Some(find) = find_form(text) {
        return format!("to pick the item the filter selects, write the expression `{find}`");
    }
    if let Some(first) = first_form(path) {
        return format!(
            "to take the first item, write the expression `{first}`; to pick one by a field, \
             `find(…)`, e.g. `find(phoneNumbers ?? [], .type == \"work\")?.number`"
        );
    }
    "pick one item with an expression, e.g. `find(phoneNumbers ?? [], .type == \"work\")?.number`"
        .to_string()
}

/// `$.a.b[*].c` is `first(a?.b ?? [])?.c`: one wildcard, and plain names around it.
fn first_form(path: &Path) -> Option<String> {
    let Path::Simple(segments) = path else {
        return None;
    };
    let names = |s: &[Segment]| -> Option<Vec<String>> {
        s.iter()
            .map(|s| match s {
                Segment::Field(n) if split_name(n).is_some_and(|(_, rest)| rest.is_empty()) => {
                    Some(n.clone())
                }
                _ => None,
            })
            .collect()
    };
    let at = segments
        .iter()
        .position(|s| matches!(s, Segment::Wildcard))?;
    let (before, after) = (names(&segments[..at])?, names(&segments[at + 1..])?);
    if before.is_empty() {
        return None;
    }
    let rest: String = after.iter().map(|n| format!("?.{n}")).collect();
    Some(format!("first({} ?? []){rest}", before.join("?.")))
}

/// `$.list[?@.field == literal]` (then `[0]` and `.names`) is
/// `find(list ?? [], .field == literal)?.names`.
fn find_form(text: &str) -> Option<String> {
    let (list, rest) = split_name(text.strip_prefix("$.")?)?;
    let rest = rest.strip_prefix("[?")?.trim_start().strip_prefix("@.")?;
    let (field, rest) = split_name(rest)?;
    let rest = rest.trim_start().strip_prefix("==")?.trim_start();
    let close = rest.find(']')?;
    let literal = rest[..close].trim_end();
    let literal = match literal.chars().next()? {
        q @ ('\'' | '"') => {
            let inner = literal.strip_prefix(q)?.strip_suffix(q)?;
            if inner.contains(['"', '\'', '\\']) {
                return None;
            }
            format!("\"{inner}\"")
        }
        _ if literal == "true" || literal == "false" || literal.parse::<i64>().is_ok() => {
            literal.to_string()
        }
        _ => return None,
    };
    let mut rest = &rest[close + 1..];
    rest = rest.strip_prefix("[0]").unwrap_or(rest);
    let mut tail = String::new();
    while let Some(after_dot) = rest.strip_prefix('.') {
        let (name, after) = split_name(after_dot)?;
        tail.push_str("?.");
        tail.push_str(name);
        rest = after;
    }
    rest.is_empty()
        .then(|| format!("find({list} ?? [], .{field} == {literal}){tail}"))
}

/// A leading name an expression can write as is (a letter or `_`, then letters, digits, `_`),
/// and what follows it.
fn split_name(text: &str) -> Option<(&str, &str)> {
    if !text.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return None;
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    Some(text.split_at(end))
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
        assert_eq!(d.span, Span::new(0, 14));
        assert!(d.message.contains("a Direct path (`$…`) stands alone"));
        assert_eq!(
            d.help.as_deref(),
            Some("write it as an expression, naming fields without `$.`: `state == 'x'`")
        );
    }

    #[test]
    fn a_path_followed_by_an_expression_is_shown_as_one() {
        let form = |text: &str| {
            let d = compile(text, Span::new(0, text.len()), &Limits::default()).unwrap_err();
            assert_eq!(d.code, "scimap::bad-path", "{text}");
            d.help.unwrap_or_default()
        };
        assert!(form("$.a+1").ends_with("`a+1`"));
        assert!(form("$.a ?? $.b").ends_with("`a ?? b`"));
        assert!(form("$.a == \"$.b\" && $.c").ends_with("`a == \"$.b\" && c`"));
        assert!(form("$.a == '\\'$.b' || $.c").ends_with("`a == '\\'$.b' || c`"));
        // Not a path then an expression: the path's own errors.
        assert!(form("$.first-name").contains("['first-name']"));
        assert!(!form("$.a[").contains("stands alone"));
        assert!(form("$.a b").ends_with("`a b`"), "after a blank");
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
    fn non_singular_help_gives_an_expression_that_selects_one() {
        let help = |p: &str| {
            non_singular_help(&compile(p, Span::default(), &Limits::default()).unwrap(), p)
        };
        assert!(help("$.addresses[*].locality").contains("`first(addresses ?? [])?.locality`"));
        assert!(help("$.a.b[*]").contains("`first(a?.b ?? [])`"));
        assert!(help("$.phoneNumbers[?@.type == 'work'][0].value")
            .contains("`find(phoneNumbers ?? [], .type == \"work\")?.value`"));
        assert!(help("$.emails[?@.primary==true].value.x")
            .contains("`find(emails ?? [], .primary == true)?.value?.x`"));
        for other in [
            "$.a[?@.b == 'it\\'s'].c",
            "$.a[?@.b > 1].c",
            "$['x-y'][*]",
            "$[*]",
            "$.a[*].b[0]",
        ] {
            let h = help(other);
            assert!(
                h.starts_with("pick one item with an expression"),
                "{other}: {h}"
            );
        }
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
