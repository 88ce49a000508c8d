//! Mapping text → syntax tree with spans (the grammar is `grammar/mapping.pest`).

pub mod ast;
pub mod parser;
mod scan;

/// An expression's source text as an operand of a binary operator: wrapped in parentheses
/// unless it is a name, a literal, or a chain of members and calls (nothing outside brackets
/// and strings but name characters, `.`, `?`, and the `…` of a text cut short). `c ? xs : []` becomes `(c ? xs : [])`, so
/// that a suggested `(… ?? [])` defaults the whole of it and not its last operand.
pub fn grouped(text: &str) -> std::borrow::Cow<'_, str> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    let mut tight = true;
    for c in text.chars() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            // `…`: where a message cut a long text short.
            (None, c) if depth == 0 && !(c.is_alphanumeric() || "_.?$#…".contains(c)) => {
                tight = false;
                break;
            }
            (None, _) => {}
        }
    }
    if tight {
        text.into()
    } else {
        format!("({text})").into()
    }
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn grouped_wraps_what_binds_looser_than_an_operator() {
        for tight in [
            "addresses",
            "mfa?.configured",
            "lower(a + b)",
            "xs[0]",
            "\"a b\"",
            "$env.x",
            "#.name",
            "(c ? mfa : nil).conf…",
        ] {
            assert_eq!(grouped(tight), tight);
        }
        for loose in [
            "c ? xs : []",
            "a + b",
            "!x",
            "-n",
            "a ?? b ?? c",
            "f(x) + \")\"",
        ] {
            assert_eq!(grouped(loose), format!("({loose})"));
        }
    }
}
