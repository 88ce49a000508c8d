//! `Expression`: one expression compiled once, evaluated against many records, through the
//! library API; the same answers and errors as `eval_expression` (`scimap expr`).

use scimap::{eval_expression, Expression, Kind, Limits, Options, Phase, Record};
use serde_json::{json, Value};

const USERS: &str = include_str!("fixtures/users.ndjson");

const SOURCES: &[&str] = &[
    r#"firstname + " " + lastname"#,
    "lower(email)",
    r#"state == "ACTIVATED" ? "active" : "inactive""#,
    r#"map(filter(attributes, .name == "costCenter"), .value)"#,
    r#"displayname ?? username"#,
    "len(attributes ?? []) * 2 + 0.5",
    r#"date(created).Format("2006-01-02")"#,
    "{name: username, n: 1}",
    "$env.nosuchfield == nil",
    // Sums written as JSON text straight from their buffer: escapes, a sum that is not of
    // strings, and one that fails on the users without a display name.
    r#"(displayname ?? "") + "\"\\\n" + username"#,
    r#"$env.firstname + $env.lastname"#,
    r#"len(attributes ?? []) + 1 + 0.5"#,
    r#"displayname + "!""#,
];

#[test]
fn a_compiled_expression_answers_as_eval_expression_on_every_fixture_user() {
    let options = Options::default();
    for source in SOURCES {
        let compiled = Expression::compile(source, Kind::User, &options)
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        for line in USERS.lines() {
            let user: Value = serde_json::from_str(line).expect("fixture JSON");
            let want = eval_expression(source, Kind::User, &user, &options);
            let record = Record::parse(line.as_bytes(), &options.limits).expect("a record");
            // `write_json` appends the answer's JSON text, and leaves `out` as it was on an
            // error.
            let mut out = b"before".to_vec();
            let written = compiled.write_json(&record, &mut out).map(|()| {
                let text = out.strip_prefix(b"before").expect("appended");
                serde_json::from_slice(text).expect("write_json writes JSON")
            });
            if written.is_err() {
                assert_eq!(out, b"before", "{source} on {line}");
            }
            for got in [
                compiled.evaluate(&record),
                compiled.evaluate_json(&user),
                written,
            ] {
                match (&want, &got) {
                    (Ok(w), Ok(g)) => assert_eq!(w, g, "{source} on {line}"),
                    (Err(w), Err(g)) => {
                        assert_eq!((w.phase, &w.message), (g.phase, &g.message), "{source}")
                    }
                    _ => panic!("{source} on {line}: {want:?} against {got:?}"),
                }
            }
        }
    }
}

#[test]
fn errors_say_whether_the_expression_or_the_record_failed() {
    let options = Options::default();
    let e = Expression::compile("lower(1)", Kind::User, &options).expect_err("not a string");
    assert_eq!(e.phase, Phase::Compile);
    assert!(!e.diagnostics.is_empty());
    let upper = Expression::compile("upper(firstname)", Kind::User, &options).expect("compiles");
    let e = upper
        .evaluate_json(&json!({"firstname": null}))
        .expect_err("nil");
    assert_eq!(e.phase, Phase::Run);
    assert_eq!(
        upper.evaluate_json(&json!({"firstname": "ada"})).unwrap(),
        "ADA"
    );
    let e = upper.evaluate_json(&json!([1])).expect_err("not an object");
    assert_eq!(e.message, "the record is not a JSON object");
}

#[test]
fn every_evaluation_has_the_whole_budget() {
    // The limits hold per evaluation: the hundredth evaluation is not refused for the work of
    // the ninety-nine before it.
    let options = Options {
        limits: Limits {
            steps: 400,
            ..Limits::default()
        },
        ..Options::default()
    };
    let e = Expression::compile("len(map(1..50, # * 2))", Kind::User, &options).expect("ok");
    for _ in 0..100 {
        assert_eq!(e.evaluate_json(&json!({})).unwrap(), 50);
    }
    let over = Expression::compile("len(map(1..500, # * 2))", Kind::User, &options).expect("ok");
    let err = over.evaluate_json(&json!({})).expect_err("over the steps");
    assert!(err.message.contains("limit `steps`"), "{}", err.message);
}

#[test]
fn a_sum_written_as_text_keeps_the_string_limit() {
    // `write_json` never makes the sum a string value; its length is still held to
    // `string-bytes`, as `evaluate`'s is.
    let options = Options {
        limits: Limits {
            string_bytes: 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let e = Expression::compile(r#"firstname + " " + lastname"#, Kind::User, &options).unwrap();
    let record = |line: &'static str| Record::parse(line.as_bytes(), &options.limits).unwrap();
    let short = record(r#"{"firstname": "Ada", "lastname": "Byron"}"#);
    let mut out = Vec::new();
    e.write_json(&short, &mut out).unwrap();
    assert_eq!(out, br#""Ada Byron""#);
    let long = record(r#"{"firstname": "Augusta", "lastname": "Lovelace"}"#);
    let refused = e
        .write_json(&long, &mut out)
        .expect_err("over string-bytes");
    assert_eq!(refused.message, e.evaluate(&long).expect_err("too").message);
    assert!(
        refused.message.contains("string-bytes"),
        "{}",
        refused.message
    );
    assert_eq!(out, br#""Ada Byron""#);
}

#[test]
fn write_json_takes_the_steps_and_memory_evaluate_takes() {
    // At every `steps` and `memory` limit, `write_json` fails exactly when `evaluate` does,
    // with its message: the sum written from the record's strings, and a builtin's string, are
    // charged as the string values `evaluate` makes, and a sum with a part that is not a string (a number, a null) is
    // redone from where it started.
    let records = [
        r#"{"firstname": "Ada", "lastname": "Lovelace", "email": "Ada@Example.com", "state": "ACTIVATED"}"#,
        r#"{"firstname": "Émile", "lastname": "a \"quoted\"\nname", "email": "x@y.z", "state": "SUSPENDED"}"#,
        r#"{"firstname": 7, "lastname": "Byron", "email": "É@X.COM"}"#,
        r#"{"firstname": "Ada", "lastname": null}"#,
    ];
    let sources = [
        r#"firstname + " " + lastname"#,
        r#"firstname + lastname + "." + email"#,
        r#""a" + "b""#,
        "lower(email)",
        r#"state == "ACTIVATED" ? "active" : "inactive""#,
        // Builtins that build strings, and `Format`, write them without making values.
        "upper(firstname)",
        r#"replace(email, "@", " at ")"#,
        r#"join(split(lastname, " "), ".")"#,
        r#"date("2021-03-04T17:22:05Z").Format("Jan 2, 2006")"#,
        r#"state == "ACTIVATED" ? titleCase(lastname) : repeat(email, 2)"#,
    ];
    let limited = |steps: u64, memory: usize| Options {
        limits: Limits {
            steps,
            memory,
            ..Limits::default()
        },
        ..Options::default()
    };
    for source in sources {
        for line in records {
            let record = Record::parse(line.as_bytes(), &Limits::default()).unwrap();
            // Around the least memory `evaluate` needs for this record (the record's own tree
            // is most of it).
            let fits = |memory| {
                let e = Expression::compile(source, Kind::User, &limited(1000, memory)).unwrap();
                e.evaluate(&record).is_ok()
            };
            let least = (0..1 << 16)
                .collect::<Vec<usize>>()
                .partition_point(|&m| !fits(m));
            let limits = (0..40)
                .map(|steps| (steps, usize::MAX))
                .chain((least.saturating_sub(64)..least + 64).map(|memory| (1000, memory)));
            for (steps, memory) in limits {
                let options = limited(steps, memory);
                let e = Expression::compile(source, Kind::User, &options).unwrap();
                let mut out = Vec::new();
                let written = e.write_json(&record, &mut out);
                let value = e.evaluate(&record);
                let at = format!("{source} on {line} within {steps} steps, {memory} bytes");
                match (value, written) {
                    (Ok(v), Ok(())) => {
                        let text: Value = serde_json::from_slice(&out).expect("JSON");
                        assert_eq!(text, v, "{at}");
                    }
                    (Err(v), Err(w)) => assert_eq!(v.message, w.message, "{at}"),
                    (v, w) => panic!("{at}: evaluate {v:?}, write_json {w:?}"),
                }
            }
        }
    }
}
