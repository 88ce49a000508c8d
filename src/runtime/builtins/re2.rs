//! `matches` patterns with Go's RE2 meaning (reference §expr-regex) on Rust's `regex` engine.
//!
//! Both engines share the syntax family, but Rust makes `\d \w \s \b` Unicode-aware where RE2
//! keeps them ASCII, reads `&&`, `~~` and `[` inside a class as set operations, rejects a `{`
//! that does not start a repetition (RE2: a literal) and allows counts above RE2's 1000. The
//! pattern is rewritten to the RE2 meaning before it is compiled.

use crate::runtime::pattern::Pattern;

/// RE2's largest repetition count (`a{1001}` is an error in Go).
const MAX_REPEAT: u32 = 1000;

/// Compiles `pattern` as Go's `regexp.Compile` reads it, within `size_limit` compiled bytes.
pub fn compile(pattern: &str, size_limit: usize) -> Result<Pattern, regex::Error> {
    Pattern::new(&translate(pattern)?, size_limit, None)
}

fn translate(pattern: &str) -> Result<String, regex::Error> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.char_indices().peekable();
    // Inside `[…]`; `first` while a `]` would still be a literal (`[]a]`, `[^]a]`).
    let mut in_class = false;
    let mut first = false;
    while let Some((at, c)) = chars.next() {
        let was_first = std::mem::take(&mut first);
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    // A trailing backslash: let the engine report it.
                    out.push('\\');
                    break;
                };
                match (e, in_class) {
                    ('d', false) => out.push_str("[0-9]"),
                    ('d', true) => out.push_str("0-9"),
                    ('D', _) => out.push_str("[^0-9]"),
                    ('w', false) => out.push_str("[0-9A-Za-z_]"),
                    ('w', true) => out.push_str("0-9A-Za-z_"),
                    ('W', _) => out.push_str("[^0-9A-Za-z_]"),
                    ('s', false) => out.push_str(r"[\t\n\f\r ]"),
                    ('s', true) => out.push_str(r"\t\n\f\r "),
                    ('S', _) => out.push_str(r"[^\t\n\f\r ]"),
                    ('b', false) => out.push_str(r"(?-u:\b)"),
                    ('B', false) => out.push_str(r"(?-u:\B)"),
                    ('Q', false) => {
                        // `\Q…\E`: everything up to `\E` (or the end) is literal.
                        let rest = &pattern[at + 2..];
                        let (literal, skip) = match rest.find(r"\E") {
                            Some(end) => (&rest[..end], end + 2),
                            None => (rest, rest.len()),
                        };
                        out.push_str(&regex::escape(literal));
                        while chars.peek().is_some_and(|&(i, _)| i < at + 2 + skip) {
                            chars.next();
                        }
                    }
                    ('p' | 'P' | 'x', _) if chars.peek().is_some_and(|&(_, c)| c == '{') => {
                        // `\p{Greek}`, `\x{263a}`: the braces are not a repetition.
                        out.push('\\');
                        out.push(e);
                        for (_, c) in chars.by_ref() {
                            out.push(c);
                            if c == '}' {
                                break;
                            }
                        }
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                first = true;
                out.push('[');
                if let Some(&(_, '^')) = chars.peek() {
                    chars.next();
                    out.push('^');
                }
            }
            '[' => {
                if let Some(&(_, ':')) = chars.peek() {
                    // A POSIX class `[:alpha:]` (ASCII in both engines): copied whole.
                    let rest = &pattern[at..];
                    let end = rest.find(":]").map_or(rest.len(), |e| e + 2);
                    out.push_str(&rest[..end]);
                    while chars.peek().is_some_and(|&(i, _)| i < at + end) {
                        chars.next();
                    }
                } else {
                    out.push_str(r"\[");
                }
            }
            ']' if in_class && was_first => out.push_str(r"\]"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '{' if !in_class => {
                let rest = &pattern[at + 1..];
                match repetition(rest) {
                    Some((len, counts)) => {
                        if counts.iter().any(|&n| n > MAX_REPEAT) {
                            return Err(regex::Error::Syntax(format!(
                                "invalid repeat count: `{{{}`",
                                &rest[..len]
                            )));
                        }
                        out.push('{');
                    }
                    None => out.push_str(r"\{"),
                }
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// The counts of a repetition `n}`, `n,}` or `n,m}` at the start of `s` (after its `{`), and
/// the length up to and including the `}`; `None` when `s` does not start one.
fn repetition(s: &str) -> Option<(usize, Vec<u32>)> {
    let end = s.find('}')?;
    let body = &s[..end];
    let (lo, hi) = match body.split_once(',') {
        Some((lo, hi)) => (lo, Some(hi)),
        None => (body, None),
    };
    let count = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().unwrap_or(u32::MAX))
    };
    let mut counts = vec![count(lo)?];
    match hi {
        Some("") | None => {}
        Some(hi) => counts.push(count(hi)?),
    }
    Some((end + 1, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(pattern: &str, s: &str) -> bool {
        compile(pattern, 1 << 20)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(s)
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(!is_match(r"\d", "٣"));
        assert!(is_match(r"^\d+$", "042"));
        assert!(!is_match(r"\w", "é"));
        assert!(is_match(r"^\W$", "é"));
        assert!(!is_match(r"\s", "\u{a0}"));
        assert!(!is_match(r"\s", "\u{b}"));
        assert!(is_match(r"^\S$", "\u{a0}"));
        assert!(is_match(r"^[\d\s]+$", "1 2"));
        assert!(is_match(r"^[^\d]$", "é"));
        // An ASCII boundary: between `a` (a word character) and `é` (not one), not before `é`.
        assert!(is_match(r"\bé", "aé"));
        assert!(!is_match(r"\bé", "éa"));
        assert!(!is_match(r"\Bé", "aé"));
        assert!(is_match(r"^[[:alpha:]]+$", "abc"));
        assert!(!is_match(r"[[:alpha:]]", "é"));
        assert!(is_match(r"^.$", "é"));
        assert!(is_match(r"^\pL$", "é"));
        assert!(is_match(r"^\p{Latin}\P{L}\x{263a}$", "é1☺"));
    }

    #[test]
    fn class_and_brace_literals_follow_re2() {
        assert!(is_match(r"^[a&&b]+$", "a&b"));
        assert!(is_match(r"^[~~]$", "~"));
        assert!(is_match(r"^[a[]+$", "a["));
        assert!(is_match(r"^[]a]+$", "]a"));
        assert!(is_match(r"^[^]a]$", "b"));
        assert!(is_match(r"^a{$", "a{"));
        assert!(is_match(r"^a{x}$", "a{x}"));
        assert!(is_match(r"^a{2}$", "aa"));
        assert!(is_match(r"^a{1,2}b{2,}$", "abb"));
        assert!(is_match(r"^\Qa.b\E$", "a.b"));
        assert!(!is_match(r"^\Qa.b\E$", "axb"));
        assert!(is_match(r"^\Q[x$", "[x$"));
        assert!(is_match(r"^\\d$", "\\d"));
    }

    #[test]
    fn re2_limits_and_errors() {
        assert!(compile("a{1000}", 1 << 20).is_ok());
        let e = compile("a{1001}", 1 << 20).unwrap_err().to_string();
        assert!(e.contains("invalid repeat count"), "{e}");
        assert!(compile("a{2,1001}", 1 << 20).is_err());
        assert!(compile("(?=a)", 1 << 20).is_err());
        assert!(compile("(", 1 << 20).is_err());
        assert!(compile(r"x\", 1 << 20).is_err());
        assert!(matches!(
            compile("a{1000}{1000}", 1 << 20),
            Err(regex::Error::CompiledTooBig(_))
        ));
    }
}
