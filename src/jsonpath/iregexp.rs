//! I-Regexp (RFC 9485) patterns, checked and translated to the `regex` crate's syntax.
//!
//! The translation is one pass without recursion (groups are counted, not descended into):
//! `.` becomes `[^\n\r]`, groups become non-capturing, every literal that is not an ASCII
//! letter or digit is written as `\x{…}` so that no character means more to `regex` than it
//! does to I-Regexp, and `match` is anchored at both ends. `^` and `$` are anchors, as in
//! the RFC 9485 §5.4 mapping the compliance suite follows.

use crate::runtime::pattern::Pattern;
use std::fmt::Write;
use std::iter::Peekable;
use std::str::Chars;

/// Cost units of a `\p{…}` class: Unicode categories compile to many states.
const CATEGORY_COST: u64 = 64;

/// Translates `pattern`; `whole` anchors it at both ends (`match`). Also returns an estimate
/// of the size of the compiled program (in states: atoms, with counted repetitions
/// multiplied out), for charging a pattern that comes from a record.
pub fn translate(pattern: &str, whole: bool) -> Result<(String, u64), String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    if whole {
        out.push_str("^(?:");
    }
    // Per open group: the cost of the pieces before the last one, and of the last one.
    let mut levels: Vec<(u64, u64)> = vec![(0, 0)];
    // Whether a quantifier may follow (an atom was just written).
    let mut quantifiable = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let atom_cost = match c {
            '(' => {
                out.push_str("(?:");
                levels.push((0, 0));
                quantifiable = false;
                continue;
            }
            ')' => {
                if levels.len() == 1 {
                    return Err("`)` without a `(`".into());
                }
                let (before, last) = levels.pop().unwrap_or_default();
                out.push(')');
                before.saturating_add(last).saturating_add(1)
            }
            '|' => {
                let top = top(&mut levels);
                *top = (top.0.saturating_add(top.1), 0);
                out.push('|');
                quantifiable = false;
                continue;
            }
            '*' | '+' | '?' | '{' => {
                if !quantifiable {
                    return Err(format!("`{c}` has nothing to repeat"));
                }
                let factor = match c {
                    '{' => quantity(&mut chars, &mut out)?,
                    '+' => {
                        out.push('+');
                        2
                    }
                    c => {
                        out.push(c);
                        1
                    }
                };
                let top = top(&mut levels);
                top.1 = top.1.saturating_mul(factor);
                quantifiable = false;
                continue;
            }
            '.' => {
                out.push_str(r"[^\n\r]");
                2
            }
            '^' | '$' => {
                out.push(c);
                1
            }
            '\\' => match escape(&mut chars)? {
                Escaped::Char(c) => {
                    literal(&mut out, c);
                    1
                }
                Escaped::Category(class) => {
                    out.push_str(&class);
                    CATEGORY_COST
                }
            },
            '[' => class(&mut chars, &mut out)?,
            ']' | '}' => return Err(format!("`{c}` must be escaped: `\\{c}`")),
            c => {
                literal(&mut out, c);
                1
            }
        };
        let top = top(&mut levels);
        *top = (top.0.saturating_add(top.1), atom_cost);
        quantifiable = true;
    }
    if levels.len() > 1 {
        return Err("a `(` is never closed".into());
    }
    if whole {
        out.push_str(")$");
    }
    let (before, last) = levels[0];
    Ok((out, before.saturating_add(last)))
}

/// Translates and compiles `pattern` within `size_limit` bytes of compiled program (and,
/// when given, `dfa_limit` bytes of lazy DFA cache).
pub fn compile(
    pattern: &str,
    whole: bool,
    size_limit: usize,
    dfa_limit: Option<usize>,
) -> Result<Pattern, String> {
    let (translated, _) = translate(pattern, whole)?;
    build(&translated, size_limit, dfa_limit)
}

/// Compiles a translated pattern.
pub fn build(
    translated: &str,
    size_limit: usize,
    dfa_limit: Option<usize>,
) -> Result<Pattern, String> {
    Pattern::new(translated, size_limit, dfa_limit).map_err(|e| match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("it compiles to more than the limit `regex-bytes` ({limit} bytes)")
        }
        e => e.to_string(),
    })
}

fn top(levels: &mut [(u64, u64)]) -> &mut (u64, u64) {
    let last = levels.len() - 1;
    &mut levels[last]
}

/// Writes `c` so that `regex` reads it as that character, inside or outside a class.
fn literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}

/// `{n}`, `{n,}` or `{n,m}` after its `{`; returns the repetition factor for the cost.
fn quantity(chars: &mut Peekable<Chars<'_>>, out: &mut String) -> Result<u64, String> {
    let min = digits(chars)?;
    let mut max = Some(min);
    if chars.peek() == Some(&',') {
        chars.next();
        max = match chars.peek() {
            Some(c) if c.is_ascii_digit() => Some(digits(chars)?),
            _ => None,
        };
    }
    if chars.next() != Some('}') {
        return Err("a repetition `{…}` must close with `}`".into());
    }
    match max {
        Some(max) if max == min => {
            let _ = write!(out, "{{{min}}}");
        }
        Some(max) => {
            if max < min {
                return Err(format!("the repetition `{{{min},{max}}}` is out of order"));
            }
            let _ = write!(out, "{{{min},{max}}}");
        }
        None => {
            let _ = write!(out, "{{{min},}}");
        }
    }
    Ok(u64::from(max.unwrap_or(min)).max(1) + 1)
}

fn digits(chars: &mut Peekable<Chars<'_>>) -> Result<u32, String> {
    let mut value: u32 = 0;
    let mut any = false;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        any = true;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or("a repetition count is too large")?;
    }
    if !any {
        return Err("a repetition `{…}` needs a number".into());
    }
    Ok(value)
}

enum Escaped {
    Char(char),
    /// `\p{…}` or `\P{…}`, as `regex` writes it.
    Category(String),
}

/// An escape after its backslash: `SingleCharEsc` or a category escape.
fn escape(chars: &mut Peekable<Chars<'_>>) -> Result<Escaped, String> {
    let Some(c) = chars.next() else {
        return Err("the pattern ends with a lone `\\`".into());
    };
    Ok(Escaped::Char(match c {
        '(' | ')' | '*' | '+' | '-' | '.' | '?' | '[' | '\\' | ']' | '^' | '{' | '|' | '}' => c,
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'p' | 'P' => {
            if chars.next() != Some('{') {
                return Err(format!("`\\{c}` must be followed by `{{`"));
            }
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(n) if name.len() < 2 => name.push(n),
                    _ => return Err(format!("`\\{c}{{…}}` is not closed after a category name")),
                }
            }
            if !category(&name) {
                return Err(format!("`{name}` is not a Unicode general category"));
            }
            return Ok(Escaped::Category(format!("\\{c}{{{name}}}")));
        }
        c => return Err(format!("`\\{c}` is not an I-Regexp escape")),
    }))
}

/// RFC 9485 `IsCategory`.
fn category(name: &str) -> bool {
    let mut chars = name.chars();
    let (Some(major), minor) = (chars.next(), chars.next()) else {
        return false;
    };
    let minors = match major {
        'L' => "lmotu",
        'M' => "cen",
        'N' => "dlo",
        'P' => "cdefios",
        'Z' => "lps",
        'S' => "ckmo",
        'C' => "cfno",
        _ => return false,
    };
    minor.is_none_or(|m| minors.contains(m))
}

/// A character class after its `[`: `[^]?` then `-` or an item, items, an optional final
/// `-`, and `]`. Returns its cost.
fn class(chars: &mut Peekable<Chars<'_>>, out: &mut String) -> Result<u64, String> {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    let mut cost = 1u64;
    let mut first = true;
    loop {
        let Some(c) = chars.next() else {
            return Err("a `[` is never closed".into());
        };
        let low = match c {
            ']' if !first => break,
            ']' => return Err("a class `[…]` cannot be empty".into()),
            '-' if first => '-',
            '-' => {
                if chars.peek() != Some(&']') {
                    return Err("`-` inside a class must be first, last or escaped".into());
                }
                '-'
            }
            '[' => return Err("`[` inside a class must be escaped: `\\[`".into()),
            '\\' => match escape(chars)? {
                Escaped::Char(c) => c,
                Escaped::Category(class) => {
                    out.push_str(&class);
                    cost = cost.saturating_add(CATEGORY_COST);
                    first = false;
                    continue;
                }
            },
            c => c,
        };
        first = false;
        cost = cost.saturating_add(1);
        literal(out, low);
        // A range, unless the `-` is the class's last character.
        if chars.peek() == Some(&'-') {
            let mut ahead = chars.clone();
            ahead.next();
            if ahead.peek().is_some_and(|c| *c != ']') {
                chars.next();
                let high = match chars.next() {
                    Some('\\') => match escape(chars)? {
                        Escaped::Char(c) => c,
                        Escaped::Category(_) => {
                            return Err("a range cannot end with a category".into())
                        }
                    },
                    Some(c @ ('[' | '-')) => {
                        return Err(format!("`{c}` cannot end a range unescaped"))
                    }
                    Some(c) => c,
                    None => return Err("a `[` is never closed".into()),
                };
                if high < low {
                    return Err(format!("the range `{low}-{high}` is out of order"));
                }
                out.push('-');
                literal(out, high);
            }
        }
    }
    out.push(']');
    Ok(cost)
}
