//! Expr's own test suite as an oracle: the cases of Expr v1.17.8's test tables and of its
//! `testdata/generated.txt` that scimap's dialect can express, each with the answer the real
//! engine gave (extracted by tests/expr_suite/extract.py; README.md there says how). Every case
//! must give Expr's answer — the same value as Expr prints it, or an error in the same phase —
//! unless `tests/expr_suite/differences.txt` lists it with the section of the book's
//! "Differences from Expr" that explains it; a listed case that agrees, or an entry that names
//! no case, fails too, so the list cannot outlive its reasons.

use chrono::DateTime;
use scimap::{eval_expression, Kind, Options};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expr_suite"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A JSON value with every map's keys in order, as Go's encoder writes them.
fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let keys: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
            Json::Object(keys.into_iter().collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        v => v.clone(),
    }
}

/// One case's verdict: `None` when scimap answers as Expr did, else both answers.
fn verdict(expr: &str, env: &Json, want: &Json) -> Option<String> {
    let options = Options {
        // A fixed clock: no case depends on it, but `now()` must not make a run differ.
        now: Some(DateTime::parse_from_rfc3339("2024-05-06T07:08:09Z").expect("a clock")),
        ..Options::default()
    };
    let got = eval_expression(expr, Kind::User, env, &options);
    let shown = match &got {
        Ok(v) => scimap::json::to_string(&sorted(v)),
        Err(e) => format!("{} error: {}", e.phase.as_str(), e.message),
    };
    let agrees = match (want.get("error").and_then(Json::as_str), &got) {
        (Some(phase), Err(e)) => phase == e.phase.as_str(),
        (None, Ok(_)) => shown == scimap::json::to_string(&sorted(&want["ok"])),
        _ => false,
    };
    let expected = match want.get("error") {
        Some(phase) => format!(
            "{} error: {}",
            phase.as_str().unwrap_or("?"),
            want["message"]
        ),
        None => format!(
            "{} ({})",
            scimap::json::to_string(&want["ok"]),
            want["type"]
        ),
    };
    (!agrees).then(|| format!("Expr: {expected}\n    scimap: {shown}"))
}

/// The listed differences: key (`FILE:LINE` of the case) → the book's section explaining it.
fn listed(sections: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut list = BTreeMap::new();
    for (i, line) in read("differences.txt").lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split('\t');
        let (Some(key), Some(section)) = (parts.next(), parts.next()) else {
            panic!("differences.txt:{}: want KEY<TAB>SECTION<TAB>EXPR", i + 1);
        };
        assert!(
            sections.contains(section),
            "differences.txt:{}: no section {{#{section}}} in expr-differences.md",
            i + 1
        );
        assert!(
            list.insert(key.to_string(), section.to_string()).is_none(),
            "differences.txt:{}: {key} listed twice",
            i + 1
        );
    }
    list
}

/// The anchors of the book's "Differences from Expr".
fn sections() -> BTreeSet<String> {
    let book =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/book/src/reference/expr-differences.md");
    let text = std::fs::read_to_string(book).expect("expr-differences.md");
    text.split("{#")
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(a, _)| a.to_string()))
        .collect()
}

struct Case {
    key: String,
    expr: String,
    want: Json,
}

fn run(file: &str, env: &Json, cases: &[Case]) {
    let list = listed(&sections());
    let mut report = String::new();
    let (mut agree, mut documented) = (0, 0);
    // The cases are independent: shared among the machine's cores, in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = cases.len().div_ceil(threads).max(1);
    let verdicts: Vec<Option<String>> = std::thread::scope(|s| {
        let parts: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|c| verdict(&c.expr, env, &c.want))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("a verdict thread"))
            .collect()
    });
    for (case, verdict) in cases.iter().zip(verdicts) {
        match (verdict, list.get(&case.key)) {
            (None, None) => agree += 1,
            (None, Some(section)) => {
                let _ = writeln!(
                    report,
                    "{}: agrees now; unlist it ({section})\n    {}",
                    case.key, case.expr
                );
            }
            (Some(_), Some(_)) => documented += 1,
            (Some(why), None) => {
                let _ = writeln!(report, "{}: {}\n    {why}", case.key, case.expr);
            }
        }
    }
    // An entry of this file's cases that names no case is stale too.
    let keys: BTreeSet<&str> = cases.iter().map(|c| c.key.as_str()).collect();
    let generated = file == "generated.jsonl";
    for key in list.keys() {
        if key.starts_with("generated.txt:") == generated && !keys.contains(key.as_str()) {
            let _ = writeln!(report, "{key}: listed, but there is no such case");
        }
    }
    eprintln!(
        "{file}: {} cases, {agree} agree, {documented} listed differences",
        cases.len()
    );
    assert!(cases.len() > 100, "{file}: only {} cases", cases.len());
    assert!(report.is_empty(), "{file}:\n{report}");
}

fn parse(line: &str, file: &str) -> Json {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}: {e}: {line}"))
}

#[test]
fn expr_test_tables() {
    let cases: Vec<Case> = read("tables.jsonl")
        .lines()
        .map(|l| parse(l, "tables.jsonl"))
        .map(|c| Case {
            key: c["src"].as_str().expect("src").to_string(),
            expr: c["expr"].as_str().expect("expr").to_string(),
            want: c["want"].clone(),
        })
        .collect();
    run("tables.jsonl", &Json::Object(Default::default()), &cases);
}

#[test]
fn expr_generated() {
    let text = read("generated.jsonl");
    let mut lines = text.lines();
    let head = parse(
        lines.next().expect("the environment line"),
        "generated.jsonl",
    );
    let cases: Vec<Case> = lines
        .map(|l| parse(l, "generated.jsonl"))
        .map(|c| Case {
            key: format!("generated.txt:{}", c["line"]),
            expr: c["expr"].as_str().expect("expr").to_string(),
            want: c["want"].clone(),
        })
        .collect();
    run("generated.jsonl", &head["env"], &cases);
}
