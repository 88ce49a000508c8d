//! The function catalogue: `stdlib/functions.md`, parsed once (format described at its top).

use std::sync::OnceLock;

/// One documented function: what `scimap functions` and the WASM `functions()` export show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDoc {
    pub name: String,
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
    for line in source.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            docs.extend(current.take().map(|(n, body)| entry(n, &body)));
            current = Some((name.trim().to_string(), Vec::new()));
        } else if line.starts_with("# ") || line.starts_with("## ") {
            docs.extend(current.take().map(|(n, body)| entry(n, &body)));
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    docs.extend(current.map(|(n, body)| entry(n, &body)));
    docs
}

/// Signature (first line, backticks removed), summary (first paragraph), details (the rest),
/// examples (wherever they are).
fn entry(name: String, body: &[&str]) -> FunctionDoc {
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
        signature,
        summary,
        details,
        examples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::budget::Budget;
    use crate::eval::builtins::{all, lookup};
    use crate::eval::error::EvalResult;
    use crate::eval::format::write_json;
    use crate::eval::value::Value;
    use crate::limits::Limits;
    use indexmap::IndexMap;

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

    /// Evaluates the examples that are nested calls of this module's builtins on literals, so
    /// the catalogue and the implementation cannot drift apart. (The full evaluator's test runs
    /// every example.)
    #[test]
    fn examples_of_native_calls_hold() {
        let mut checked = 0;
        for doc in catalogue() {
            for (expr, want) in &doc.examples {
                // `string()` of a month or weekday needs the static type (the evaluator's job).
                let named = expr.contains(".Month())") || expr.contains(".Weekday())");
                let Some(tokens) = lex(expr).filter(|_| !named) else {
                    continue;
                };
                let mut p = Parser { tokens, pos: 0 };
                let Some(call) = p.expr().filter(|_| p.pos == p.tokens.len()) else {
                    continue;
                };
                let mut budget = Budget::new(Limits::default());
                let got = eval(&call, &mut budget);
                match (got, want.strip_prefix("error: ")) {
                    (Err(e), Some(part)) => {
                        assert!(
                            e.message.contains(part),
                            "{expr}: {:?} lacks {part:?}",
                            e.message
                        )
                    }
                    (Ok(v), None) => {
                        let mut out = String::new();
                        write_json(&v, &mut out, &budget).unwrap();
                        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
                        let want: serde_json::Value = serde_json::from_str(want)
                            .unwrap_or_else(|e| panic!("{expr}: bad expected JSON {want}: {e}"));
                        assert_eq!(got, want, "{expr}");
                    }
                    (got, _) => panic!(
                        "{expr}: got {:?}, want {want}",
                        got.map(|v| format!("{v:?}"))
                    ),
                }
                checked += 1;
            }
        }
        assert!(checked > 200, "only {checked} examples checked");
    }

    /// A literal or a call of a native builtin.
    enum Expr {
        Lit(Value<'static>),
        List(Vec<Expr>),
        Map(Vec<(String, Expr)>),
        Call(String, Vec<Expr>),
        Method(Box<Expr>, String, Vec<Expr>),
    }

    fn eval(e: &Expr, budget: &mut Budget) -> EvalResult<Value<'static>> {
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::List(items) => Value::list(
                items
                    .iter()
                    .map(|i| eval(i, budget))
                    .collect::<EvalResult<_>>()?,
            ),
            Expr::Map(entries) => {
                let mut m = IndexMap::new();
                for (k, v) in entries {
                    m.insert(k.clone(), eval(v, budget)?);
                }
                Value::map(m)
            }
            Expr::Call(name, args) => {
                let args = args
                    .iter()
                    .map(|a| eval(a, budget))
                    .collect::<EvalResult<Vec<_>>>()?;
                let native = lookup(name).expect("checked by the parser");
                (native.call)(&args, budget)?
            }
            Expr::Method(receiver, name, args) => {
                let receiver = eval(receiver, budget)?;
                let args = args
                    .iter()
                    .map(|a| eval(a, budget))
                    .collect::<EvalResult<Vec<_>>>()?;
                crate::eval::time::call_method(&receiver, name, &args, budget).expect("a method")?
            }
        })
    }

    #[derive(Clone, Debug)]
    enum Tok {
        Ident(String),
        Num(Value<'static>),
        Str(String),
        Punct(char),
    }

    /// Tokens of the literal subset; `None` for anything else (operators, methods, closures).
    fn lex(s: &str) -> Option<Vec<Tok>> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c.is_ascii_alphabetic() {
                let mut id = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric()) {
                    id.push(c);
                    chars.next();
                }
                out.push(Tok::Ident(id));
            } else if c.is_ascii_digit() || c == '-' {
                let mut n = String::new();
                n.push(c);
                chars.next();
                while let Some(&c) = chars.peek().filter(|c| {
                    c.is_ascii_alphanumeric()
                        || **c == '.'
                        || (n.ends_with('e') && "+-".contains(**c))
                }) {
                    n.push(c);
                    chars.next();
                }
                let v = match n.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(n.parse().ok()?),
                };
                out.push(Tok::Num(v));
            } else if c == '"' || c == '\'' {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next()? {
                        q if q == c => break,
                        '\\' => text.push(match chars.next()? {
                            'n' => '\n',
                            't' => '\t',
                            'u' => {
                                let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                            }
                            c @ ('"' | '\'' | '\\') => c,
                            _ => return None,
                        }),
                        c => text.push(c),
                    }
                }
                out.push(Tok::Str(text));
            } else if "()[]{},:.".contains(c) {
                out.push(Tok::Punct(c));
                chars.next();
            } else {
                return None;
            }
        }
        Some(out)
    }

    struct Parser {
        tokens: Vec<Tok>,
        pos: usize,
    }

    impl Parser {
        fn next(&mut self) -> Option<Tok> {
            let t = self.tokens.get(self.pos).cloned();
            self.pos += 1;
            t
        }

        fn eat(&mut self, c: char) -> bool {
            let hit = matches!(self.tokens.get(self.pos), Some(Tok::Punct(p)) if *p == c);
            if hit {
                self.pos += 1;
            }
            hit
        }

        /// Items up to `close`, comma-separated, a trailing comma allowed.
        fn items<T>(
            &mut self,
            close: char,
            mut item: impl FnMut(&mut Self) -> Option<T>,
        ) -> Option<Vec<T>> {
            let mut out = Vec::new();
            while !self.eat(close) {
                out.push(item(self)?);
                if !self.eat(',') {
                    return self.eat(close).then_some(out);
                }
            }
            Some(out)
        }

        /// A primary expression followed by method calls.
        fn expr(&mut self) -> Option<Expr> {
            let mut e = self.primary()?;
            while self.eat('.') {
                let Some(Tok::Ident(name)) = self.next() else {
                    return None;
                };
                self.eat('(').then_some(())?;
                e = Expr::Method(Box::new(e), name, self.items(')', Self::expr)?);
            }
            Some(e)
        }

        fn primary(&mut self) -> Option<Expr> {
            Some(match self.next()? {
                Tok::Num(v) => Expr::Lit(v),
                Tok::Str(s) => Expr::Lit(Value::string(s)),
                Tok::Ident(id) if id == "nil" => Expr::Lit(Value::Nil),
                Tok::Ident(id) if id == "true" || id == "false" => {
                    Expr::Lit(Value::Bool(id == "true"))
                }
                Tok::Ident(id) if lookup(&id).is_some() && self.eat('(') => {
                    Expr::Call(id, self.items(')', Self::expr)?)
                }
                Tok::Punct('[') => Expr::List(self.items(']', Self::expr)?),
                Tok::Punct('{') => Expr::Map(self.items('}', |p| {
                    let key = match p.next()? {
                        Tok::Ident(k) | Tok::Str(k) => k,
                        _ => return None,
                    };
                    p.eat(':').then_some(())?;
                    Some((key, p.expr()?))
                })?),
                _ => return None,
            })
        }
    }
}
