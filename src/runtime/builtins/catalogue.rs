//! The function catalogue: `stdlib/functions.md`, parsed once (format described at its top).

use std::sync::OnceLock;

/// One documented function: what `scimap functions` and the WASM `functions()` export show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDoc {
    pub name: String,
    /// The level-2 heading it is under (`Strings`, `Date and time`): `scimap functions`
    /// groups its listing by it.
    pub group: String,
    pub signature: String,
    pub summary: String,
    /// Markdown paragraphs after the summary; may be empty.
    pub details: String,
    /// `(expression, expected)`: the expected value as JSON, or `error: <part of the message>`.
    pub examples: Vec<(String, String)>,
}

const SOURCE: &str = include_str!("../../../stdlib/functions.md");

/// Every documented function, in catalogue order.
pub fn catalogue() -> &'static [FunctionDoc] {
    static DOCS: OnceLock<Vec<FunctionDoc>> = OnceLock::new();
    DOCS.get_or_init(|| parse(SOURCE))
}

/// An example line: indented four spaces, `EXPRESSION => EXPECTED`.
fn example(line: &str) -> Option<(String, String)> {
    let body = line.strip_prefix("    ")?;
    let (expr, want) = body.split_once(" => ")?;
    Some((expr.trim().to_string(), want.trim().to_string()))
}

fn parse(source: &str) -> Vec<FunctionDoc> {
    let mut docs = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let mut group = "";
    for line in source.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            docs.extend(current.take().map(|(n, body)| entry(n, group, &body)));
            current = Some((name.trim().to_string(), Vec::new()));
        } else if line.starts_with("# ") || line.starts_with("## ") {
            docs.extend(current.take().map(|(n, body)| entry(n, group, &body)));
            group = line.trim_start_matches('#').trim();
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    docs.extend(current.map(|(n, body)| entry(n, group, &body)));
    docs
}

/// Signature (first line, backticks removed), summary (first paragraph), details (the rest),
/// examples (wherever they are).
fn entry(name: String, group: &str, body: &[&str]) -> FunctionDoc {
    let mut examples = Vec::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut open = false;
    for line in body {
        if let Some(ex) = example(line) {
            examples.push(ex);
            open = false;
        } else if line.trim().is_empty() {
            open = false;
        } else if open {
            if let Some(p) = paragraphs.last_mut() {
                p.push('\n');
                p.push_str(line.trim_end());
            }
        } else {
            paragraphs.push(line.trim_end().to_string());
            open = true;
        }
    }
    let mut paragraphs = paragraphs.into_iter();
    let signature = paragraphs.next().unwrap_or_default();
    let signature = signature.trim().trim_matches('`').to_string();
    let summary = paragraphs.next().unwrap_or_default().replace('\n', " ");
    let details = paragraphs.collect::<Vec<_>>().join("\n\n");
    FunctionDoc {
        name,
        group: group.to_string(),
        signature,
        summary,
        details,
        examples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::builtins::all;

    #[test]
    fn parses_the_format() {
        let docs = parse(
            "# T\n\nintro\n\n## Group\n\n### f\n`f(x: int) -> int`\n\nDoes f.\nStill the summary.\n\nMore.\n\n    f(1) => 2\n    f(\"a\") => error: bad\n\n### g\ng()\n\nSummary g.\n    g() => null\n",
        );
        assert_eq!(
            docs,
            vec![
                FunctionDoc {
                    name: "f".into(),
                    group: "Group".into(),
                    signature: "f(x: int) -> int".into(),
                    summary: "Does f. Still the summary.".into(),
                    details: "More.".into(),
                    examples: vec![
                        ("f(1)".into(), "2".into()),
                        ("f(\"a\")".into(), "error: bad".into())
                    ],
                },
                FunctionDoc {
                    name: "g".into(),
                    group: "Group".into(),
                    signature: "g()".into(),
                    summary: "Summary g.".into(),
                    details: String::new(),
                    examples: vec![("g()".into(), "null".into())],
                },
            ]
        );
    }

    #[test]
    fn every_builtin_is_documented_with_examples() {
        let docs = catalogue();
        let mut names: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate entries");
        let others = [
            "all",
            "any",
            "one",
            "none",
            "map",
            "filter",
            "find",
            "findIndex",
            "findLast",
            "findLastIndex",
            "count",
            "sum",
            "groupBy",
            "sortBy",
            "reduce",
            "now",
            "attr",
        ];
        for name in all().iter().map(|n| n.name).chain(others) {
            assert!(
                names.binary_search(&name).is_ok(),
                "{name} is not in the catalogue"
            );
        }
        for d in docs {
            assert!(
                !d.signature.is_empty() && !d.summary.is_empty(),
                "{}",
                d.name
            );
            assert!(!d.examples.is_empty(), "{} has no example", d.name);
            assert!(
                d.signature
                    .contains(d.name.rsplit('.').next().unwrap_or("")),
                "{}",
                d.name
            );
        }
    }
}
