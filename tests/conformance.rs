//! The Expr dialect, case by case: every file in `tests/conformance/` is a list of expressions
//! with the value or error scimap must give (reference §expressions, §limits;
//! reference §conformance-suite describes the format and the cross-check against the Go
//! engine). A second test runs every example of the function catalogue.

use chrono::DateTime;
use scimap::{eval_expression, Kind, Limits, Options, Phase};
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::path::Path;

/// The clock of every case: `now()` is this instant.
const NOW: &str = "2024-05-06T07:08:09Z";

struct Case {
    line: usize,
    expr: String,
    record: Json,
    kind: Kind,
    limits: Limits,
    want: Option<Want>,
}

enum Want {
    Value(Json),
    Error(Phase, String),
}

fn options(limits: Limits) -> Options {
    Options {
        limits,
        now: Some(DateTime::parse_from_rfc3339(NOW).expect("a valid clock")),
        ..Options::default()
    }
}

/// Reads the case file; a malformed line is reported as a failure of its own.
fn parse(text: &str, failures: &mut Vec<String>, file: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let Some((key, rest)) = raw.split_once(':') else {
            failures.push(format!("{file}:{line}: not `key: value`"));
            continue;
        };
        let value = rest.strip_prefix(' ').unwrap_or(rest);
        if key == "expr" {
            cases.push(Case {
                line,
                expr: value.to_string(),
                record: Json::Object(Default::default()),
                kind: Kind::User,
                limits: Limits::default(),
                want: None,
            });
            continue;
        }
        let Some(case) = cases.last_mut() else {
            failures.push(format!("{file}:{line}: `{key}` before any `expr`"));
            continue;
        };
        let mut bad = |why: String| failures.push(format!("{file}:{line}: {why}"));
        match key {
            // A further line of a multi-line expression.
            "more" => {
                case.expr.push('\n');
                case.expr.push_str(value);
            }
            "record" => match serde_json::from_str(value) {
                Ok(v) => case.record = v,
                Err(e) => bad(format!("bad record JSON: {e}")),
            },
            "kind" => match value {
                "user" => case.kind = Kind::User,
                "group" => case.kind = Kind::Group,
                _ => bad(format!("unknown kind {value}")),
            },
            "limit" => {
                let set = value
                    .split_once('=')
                    .ok_or_else(|| "want NAME=VALUE".to_string())
                    .and_then(|(n, v)| {
                        let v = v.parse().map_err(|e| format!("{e}"))?;
                        case.limits.set(n, v)
                    });
                if let Err(e) = set {
                    bad(e);
                }
            }
            "want" => match serde_json::from_str(value) {
                Ok(v) => case.want = Some(Want::Value(v)),
                Err(e) => bad(format!("bad expected JSON: {e}")),
            },
            "error" => {
                let parsed = value.split_once(':').and_then(|(phase, part)| {
                    let part = part.strip_prefix(' ').unwrap_or(part);
                    let phase = match phase {
                        "compile" => Phase::Compile,
                        "run" => Phase::Run,
                        _ => return None,
                    };
                    Some(Want::Error(phase, part.to_string()))
                });
                match parsed {
                    Some(w) => case.want = Some(w),
                    None => bad("want `error: compile|run: PART OF MESSAGE`".into()),
                }
            }
            // The result of the cross-check against the Go engine (crosscheck.py); not run here.
            "peer" => {}
            _ => bad(format!("unknown key `{key}`")),
        }
    }
    cases
}

/// Runs one case; `None` when it holds.
/// At most 200 characters of a result, so a runaway string does not flood the report.
fn clip(s: String) -> String {
    match s.char_indices().nth(200) {
        Some((at, _)) => format!("{}… ({} bytes)", &s[..at], s.len()),
        None => s,
    }
}

fn check(case: &Case) -> Option<String> {
    let got = eval_expression(&case.expr, case.kind, &case.record, &options(case.limits));
    let show = |got: &Result<Json, scimap::ExprError>| {
        clip(match got {
            Ok(v) => scimap::json::to_string(v),
            Err(e) => format!("{} error: {}", e.phase.as_str(), e.message),
        })
    };
    match (&case.want, &got) {
        (None, _) => Some(format!("no `want` or `error` (got {})", show(&got))),
        (Some(Want::Value(want)), Ok(v)) => {
            let (want, v) = (scimap::json::to_string(want), scimap::json::to_string(v));
            (want != v).then(|| format!("want {}, got {}", clip(want), clip(v)))
        }
        (Some(Want::Error(phase, part)), Err(e)) => {
            (e.phase != *phase || !e.message.contains(part.as_str())).then(|| {
                format!(
                    "want {} error containing {part:?}, got {}",
                    phase.as_str(),
                    show(&got)
                )
            })
        }
        (Some(Want::Value(want)), Err(_)) => Some(format!(
            "want {}, got {}",
            scimap::json::to_string(want),
            show(&got)
        )),
        (Some(Want::Error(phase, part)), Ok(_)) => Some(format!(
            "want {} error containing {part:?}, got {}",
            phase.as_str(),
            show(&got)
        )),
    }
}

fn run_file(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(format!("{name}.txt"));
    let file = format!("tests/conformance/{name}.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut failures = Vec::new();
    let cases = parse(&text, &mut failures, &file);
    assert!(cases.len() >= 10, "{file}: only {} cases", cases.len());
    for case in &cases {
        if let Some(why) = check(case) {
            failures.push(format!("{file}:{}: {}\n    {why}", case.line, case.expr));
        }
    }
    if !failures.is_empty() {
        let mut report = String::new();
        for f in &failures {
            let _ = writeln!(report, "{f}");
        }
        panic!(
            "{} of {} cases fail:\n{report}",
            failures.len(),
            cases.len()
        );
    }
}

macro_rules! files {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run_file(stringify!($name)); })*

        /// Every file in the directory has a test above, so none is silently skipped.
        #[test]
        fn every_file_runs() {
            let known = [$(stringify!($name)),*];
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
            for entry in std::fs::read_dir(dir).expect("the case directory") {
                let path = entry.expect("a directory entry").path();
                if path.extension().is_some_and(|e| e == "txt") {
                    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                    assert!(known.contains(&stem), "{} has no test", path.display());
                }
            }
        }
    };
}

files!(
    literals,
    arithmetic,
    comparison,
    logic,
    strings_ops,
    membership,
    member_access,
    slices,
    closures,
    control,
    builtins_strings,
    builtins_numbers,
    builtins_collections,
    builtins_conversion,
    builtins_encoding,
    builtins_bitwise,
    dates,
    durations,
    identity,
    differences,
    limits,
);

/// Every example of the catalogue (`scimap functions`, stdlib/functions.md) holds when
/// evaluated against an empty user record.
#[test]
fn catalogue_examples() {
    let record = Json::Object(Default::default());
    let mut failures = Vec::new();
    let mut count = 0;
    for doc in scimap::functions() {
        assert!(!doc.examples.is_empty(), "{} has no example", doc.name);
        for (expr, want) in &doc.examples {
            count += 1;
            let got = eval_expression(expr, Kind::User, &record, &options(Limits::default()));
            let failure = match (want.strip_prefix("error: "), &got) {
                (Some(part), Err(e)) => (!e.message.contains(part))
                    .then(|| format!("error {:?} lacks {part:?}", e.message)),
                (Some(_), Ok(v)) => Some(format!("got {}", scimap::json::to_string(v))),
                (None, Ok(v)) => match serde_json::from_str::<Json>(want) {
                    Ok(w) => {
                        let (w, v) = (scimap::json::to_string(&w), scimap::json::to_string(v));
                        (w != v).then(|| format!("got {v}"))
                    }
                    Err(e) => Some(format!("bad expected JSON: {e}")),
                },
                (None, Err(e)) => Some(format!("{} error: {}", e.phase.as_str(), e.message)),
            };
            if let Some(f) = failure {
                failures.push(format!("{}: {expr} => {want}\n    {f}", doc.name));
            }
        }
    }
    assert!(count > 200, "only {count} examples");
    assert!(
        failures.is_empty(),
        "{} of {count} catalogue examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
