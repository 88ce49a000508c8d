//! pest's syntax errors in words: "expected …, found …" from the grammar's rules, the token
//! found named (control characters by code point), and the shorter error past `PEST_WINDOW`.

use pest::error::{ErrorVariant, InputLocation};

use super::{Rule, PEST_WINDOW};
use crate::diagnostic::{quote, Diagnostic, Span};

/// A syntax error more than `PEST_WINDOW` bytes into an entry (or an expression): where, and
/// what was found, without the grammar's list of what was expected.
pub(super) fn long_syntax_error(source: &str, at: usize, start: usize, what: &str) -> Diagnostic {
    let (found, span) = found_token(source, at);
    Diagnostic::error("scimap::syntax", span, format!("unexpected {found}")).with_help(format!(
        "this is {} bytes into {what}; scimap says what it expected only within the first {} KiB",
        at.saturating_sub(start),
        PEST_WINDOW >> 10
    ))
}

pub(super) fn syntax_error(src: &str, err: &pest::error::Error<Rule>, file: bool) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let (found, span) = found_token(src, pos);
    if src.get(pos..).is_some_and(|r| r.starts_with('#')) && !positives.contains(&Rule::pointer) {
        return Diagnostic::error("scimap::hash-comment", span, "`#` is not a comment here")
            .with_help("use `//` for comments");
    }
    let expected = expected(positives, file);
    let mut d = Diagnostic::error("scimap::syntax", span, format!("{expected}, found {found}"));
    let operator_first = src
        .get(pos..)
        .and_then(|r| r.chars().next())
        .is_some_and(|c| "+-*/%^=!<>&|?:.".contains(c));
    let entry_expected = positives.contains(&Rule::target) || positives.contains(&Rule::entry);
    if entry_expected && operator_first {
        d = d.with_help(
            "a line cannot start with an operator: to continue an expression, end the previous line with the operator",
        );
    }
    d
}

/// What the parser expected, from the rules pest tried at the failure position.
fn expected(positives: &[Rule], file: bool) -> String {
    let has = |r: Rule| positives.contains(&r);
    let expression = [
        Rule::seq,
        Rule::ternary,
        Rule::binary,
        Rule::prefix,
        Rule::operand,
        Rule::paren,
        Rule::number,
        Rule::str_lit,
        Rule::literal,
        Rule::ident,
        Rule::call,
        Rule::predicate,
    ]
    .iter()
    .any(|r| has(*r));
    let simple = [
        (Rule::assign, "expected `=` after the target"),
        (
            Rule::setting,
            "expected a setting `key = value` or the `}` closing the app profile",
        ),
        (
            Rule::profile_path,
            "expected a value: a word such as `patch`, a count, or a list `[attribute, …]`",
        ),
        (
            Rule::target,
            "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section",
        ),
        // An entry may start with `create`: pest names the entry rather than its first rule.
        (
            Rule::entry,
            "expected an entry `TARGET = SOURCE`, a `let` or the `}` closing the section",
        ),
        (
            Rule::section_kw,
            "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`",
        ),
        (Rule::json_value, "expected a JSON value"),
        (
            Rule::json_member,
            "expected a JSON object member `\"key\": value`",
        ),
        (
            Rule::filter_eq,
            "expected `eq`: a target filter can only test equality",
        ),
        (
            Rule::filter_value,
            "expected a JSON literal: a string, a number, `true`, `false` or `null`",
        ),
        (Rule::filter_term, "expected a filter `attribute eq value`"),
        (Rule::attr_name, "expected an attribute name"),
        (Rule::pipe_call, "expected a function call after `|`"),
        (Rule::prop_name, "expected a name after `.`"),
    ];
    if [Rule::file, Rule::section, Rule::app, Rule::schema]
        .iter()
        .any(|r| has(*r))
    {
        return "expected `app \"…\"`, `schema \"…\"`, `user {` or `group {`".into();
    }
    if let Some((_, message)) = simple.iter().find(|(r, _)| has(*r)) {
        return (*message).to_string();
    }
    if expression {
        return "expected an expression".into();
    }
    if has(Rule::ident) {
        return "expected a name".into();
    }
    if has(Rule::kw_else) {
        return "expected `else`: an `if` needs an `else` branch".into();
    }
    if has(Rule::str_lit) {
        return "expected a string".into();
    }
    if positives == [Rule::open_paren] {
        return "expected `(`".into();
    }
    let mut closers: Vec<&str> = [
        (Rule::comma, "`,`"),
        (Rule::colon, "`:`"),
        (Rule::semi, "`;`"),
        (Rule::close_paren, "`)`"),
        (Rule::close_bracket, "`]`"),
        (Rule::close_brace, "`}`"),
        (Rule::open_brace, "`{`"),
        (Rule::filter_and, "`and`"),
    ]
    .iter()
    .filter(|(r, _)| has(*r))
    .map(|(_, s)| *s)
    .collect();
    // A `;` continues a sequence anywhere; name it only when nothing else fits.
    let operator = has(Rule::infix) || has(Rule::question) || has(Rule::pipe);
    if closers.len() > 1 || has(Rule::EOI) {
        closers.retain(|c| *c != "`;`");
    }
    match closers.as_slice() {
        ["`;`"] if operator => "expected an operator or `;`".into(),
        [one] if one.starts_with("`)") || one.starts_with("`]") || one.starts_with("`}") => {
            format!("expected a closing {one}")
        }
        [] if operator && !file => "expected an operator or the end of the expression".into(),
        [] if operator => "expected an operator or the end of the line".into(),
        [] if has(Rule::EOI) => "expected the end of the file".into(),
        [] => "unexpected text".into(),
        [init @ .., last] => {
            if init.is_empty() {
                format!("expected {last}")
            } else {
                format!("expected {} or {last}", init.join(", "))
            }
        }
    }
}

/// Names the token at `pos` for a message, with its span.
fn found_token(src: &str, pos: usize) -> (String, Span) {
    let rest = src.get(pos..).unwrap_or_default();
    let Some(c) = rest.chars().next() else {
        return ("the end of the file".into(), Span::new(pos, pos));
    };
    if c == '\n' || rest.starts_with("\r\n") {
        return ("the end of the line".into(), Span::new(pos, pos));
    }
    let word_len = |pred: fn(char) -> bool| {
        rest.char_indices()
            .find(|&(_, ch)| !pred(ch))
            .map_or(rest.len(), |(i, _)| i)
    };
    let len = if c.is_alphanumeric() || c == '_' || c == '$' {
        word_len(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
    } else if [
        "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "**", "..", "::",
    ]
    .iter()
    .any(|op| rest.starts_with(op))
    {
        2
    } else {
        c.len_utf8()
    };
    let token = &rest[..len];
    // Control characters are named, not echoed: a hostile mapping must not write escape
    // sequences to a terminal or a CI log through a diagnostic.
    if c.is_control() {
        return (
            format!("the control character U+{:04X}", c as u32),
            Span::new(pos, pos + len),
        );
    }
    (format!("`{}`", quote(token)), Span::new(pos, pos + len))
}
