//! Property tests: generated mappings and arbitrary records never panic, evaluation is
//! deterministic, arbitrary bytes never panic the compiler or `evaluate_line`, and `fmt` is
//! idempotent and keeps payloads. Case counts keep the whole file well under a minute.

use proptest::prelude::*;
use scimap::{Kind, Mapping, Options};
use serde_json::{Map, Value};

/// Record fields the generator reads (nullable and not), plus `$env` paths outside the schema.
const FIELDS: [&str; 10] = [
    "username",
    "email",
    "firstname",
    "lastname",
    "displayname",
    "state",
    "employeeIdentifier",
    "$env.x",
    "$env.list",
    "$env[\"odd key\"]",
];

/// String-typed targets, so most generated entries can compile.
const TARGETS: [&str; 12] = [
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "profileUrl",
    "externalId",
    "name.givenName",
    "name.formatted",
    "emails[type eq \"work\"].value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

fn options() -> Options {
    Options {
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").ok(),
        ..Options::default()
    }
}

fn string_literal() -> impl Strategy<Value = String> {
    // Any Unicode text, escaped as a JSON string (Expr's string syntax accepts JSON escapes).
    any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default())
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(FIELDS.to_vec()).prop_map(str::to_string),
        any::<i32>().prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|f| format!("{f:?}")),
        string_literal(),
        Just("true".to_string()),
        Just("nil".to_string()),
        (0i32..20, 0i32..20).prop_map(|(a, b)| format!("{a}..{b}")),
        Just("now()".to_string()),
    ]
}

/// Random expressions over operators, builtins and fields; many do not type-check, which is
/// fine: the properties hold for whatever compiles and for every compile error too.
fn expression() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 48, 3, |inner| {
        let binary = prop::sample::select(vec![
            "+",
            "-",
            "*",
            "/",
            "%",
            "**",
            "==",
            "!=",
            "<",
            ">=",
            "&&",
            "||",
            "??",
            "in",
            "contains",
            "startsWith",
            "matches",
            "..",
        ]);
        let unary = prop::sample::select(vec![
            "lower",
            "upper",
            "trim",
            "len",
            "string",
            "int",
            "float",
            "abs",
            "toJSON",
            "titleCase",
            "normalizeDiacritics",
            "emailDomain",
            "emailLocal",
            "reverse",
            "keys",
            "first",
            "last",
            "sum",
            "max",
            "trimPrefix",
            "type",
            "toBase64",
            "fromJSON",
        ]);
        prop_oneof![
            (inner.clone(), binary, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (unary, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("split({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("repeat({a}, {b})")),
            inner.clone().prop_map(|a| format!("map({a}, string(#))")),
            inner.clone().prop_map(|a| format!("filter({a}, # != nil)")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("join({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{\"k\": {a}, \"v\": {b}}}")),
            inner.clone().prop_map(|a| format!("({a})?.k")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("let t = {a}; t ?? {b}")),
        ]
    })
}

/// Well-typed string expressions, so that most generated mappings compile and evaluate.
fn string_expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "username",
            "email",
            "firstname ?? \"\"",
            "lastname ?? \"\"",
            "displayname ?? \"\"",
            "state",
            "employeeIdentifier ?? \"\"",
            "string($env.x)",
            "toJSON($env.list)",
        ])
        .prop_map(str::to_string),
        string_literal(),
        any::<i32>().prop_map(|i| format!("string({i})")),
        (-1e9f64..1e9).prop_map(|f| format!("string({f:?})")),
    ];
    leaf.prop_recursive(4, 32, 3, |s| {
        let f = prop::sample::select(vec![
            "lower",
            "upper",
            "trim",
            "titleCase",
            "normalizeDiacritics",
            "toBase64",
            "string",
        ]);
        prop_oneof![
            (f, s.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("join(split({a}, {b}), \"-\")")),
            (s.clone(), 0u8..4).prop_map(|(a, n)| format!("repeat({a}, {n})")),
            (s.clone(), s.clone(), s.clone())
                .prop_map(|(c, a, b)| format!("({c} contains \"a\" ? {a} : {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("({a} == {b} ? \"eq\" : {b})")),
            s.clone().prop_map(|a| format!("string(len({a}) * 3 % 7)")),
            s.clone()
                .prop_map(|a| format!("(emailDomain({a}) ?? \"none\")")),
            s.clone()
                .prop_map(|a| format!("string({a} matches \"^[a-z]+$\")")),
            s.clone()
                .prop_map(|a| format!("join(map(split({a}, \"\"), upper(#)), \"\")")),
            (s.clone(), s).prop_map(|(a, b)| format!("(let t = {a}; t + {b})")),
        ]
    })
}

/// A mapping: `userName` plus up to six distinct targets, some through a section `let`.
fn mapping_source() -> impl Strategy<Value = String> {
    (
        prop::sample::subsequence(TARGETS.to_vec(), 0..6),
        prop::collection::vec(prop_oneof![4 => string_expression(), 1 => expression()], 6),
        prop::option::of(expression()),
        any::<bool>(),
    )
        .prop_map(|(targets, exprs, shared, wrap)| {
            let mut s = String::from("user {\n");
            if let Some(e) = &shared {
                s.push_str(&format!("  let shared = {e}\n"));
            }
            s.push_str("  userName = coalesce(username, \"anonymous\")\n");
            for (i, (target, e)) in targets.iter().zip(&exprs).enumerate() {
                let e = if shared.is_some() && i == 0 {
                    format!("string(shared) + string({e})")
                } else if wrap {
                    format!("string({e})")
                } else {
                    e.clone()
                };
                s.push_str(&format!("  {target} = {e}\n"));
            }
            s.push_str("}\n");
            s
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        prop::sample::select(vec![
            "",
            "ACTIVATED",
            "a@b.c",
            "Ærøskøbing",
            "\u{0}",
            "2020-01-02T03:04:05Z"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A record: some schema fields, some `$env` ones, any values (nulls and Unicode included).
fn record() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "username",
        "email",
        "firstname",
        "lastname",
        "displayname",
        "state",
        "employeeIdentifier",
        "x",
        "list",
        "odd key",
        "_id",
    ]);
    prop::collection::vec((names, json_value()), 0..8).prop_map(|fields| {
        let mut m = Map::new();
        for (k, v) in fields {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_mappings_evaluate_deterministically(source in mapping_source(), rec in record()) {
        let options = options();
        if let Ok(mapping) = Mapping::compile_with(&source, &options) {
            let first = mapping.evaluate_user(&rec);
            let second = mapping.evaluate_user(&rec);
            prop_assert_eq!(&first, &second);
            // The bulk path gives the same answer, byte for byte, as the library path.
            let line = serde_json::to_vec(&rec).expect("a record serialises");
            let mut out = Vec::new();
            let ok = mapping.evaluate_line(Kind::User, &line, 1, &mut out);
            prop_assert_eq!(ok, first.is_ok());
            let expected = match &first {
                Ok(payload) => scimap::json::to_string(payload),
                Err(e) => {
                    let id = rec.get("_id").and_then(Value::as_str);
                    scimap::json::to_string(&e.to_json(Some(1), id))
                }
            };
            prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
        }
    }

    #[test]
    fn formatting_is_idempotent_and_keeps_payloads(source in mapping_source(), rec in record()) {
        let Ok(once) = scimap::fmt::format(&source) else {
            return Ok(());
        };
        let twice = scimap::fmt::format(&once).expect("formatted text parses");
        prop_assert_eq!(&twice, &once);
        let options = options();
        match (Mapping::compile_with(&source, &options), Mapping::compile_with(&once, &options)) {
            (Ok(a), Ok(b)) => {
                let (pa, pb) = (a.evaluate_user(&rec), b.evaluate_user(&rec));
                match (&pa, &pb) {
                    (Ok(x), Ok(y)) => prop_assert_eq!(x, y),
                    (Err(x), Err(y)) => {
                        let codes = |e: &scimap::RecordError| -> Vec<(Option<String>, String)> {
                            e.errors.iter().map(|e| (e.target.clone(), e.code.clone())).collect()
                        };
                        prop_assert_eq!(codes(x), codes(y));
                    }
                    _ => prop_assert!(false, "formatting changed success: {:?} vs {:?}", pa, pb),
                }
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "formatting changed compilation: {} vs {}", a.is_ok(), b.is_ok()),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_compiler(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Mapping::compile_bytes(&bytes, &options());
    }

    #[test]
    fn mutated_mappings_never_panic_the_compiler(
        source in mapping_source(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = source.into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len() + 1);
            bytes.insert(i, b);
        }
        if let Err(e) = Mapping::compile_bytes(&bytes, &options()) {
            for d in &e.diagnostics {
                prop_assert!(d.span.start <= d.span.end && d.span.end <= e.source.len());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_as_a_bulk_line_give_exactly_one_line(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            record().prop_map(|r| serde_json::to_vec(&r).unwrap_or_default()),
        ].prop_filter("a line holds no newline", |b| !b.contains(&b'\n')),
    ) {
        let mapping = Mapping::compile_with(
            "user {\n  userName = $.username\n  title = toJSON($env)\n  nickName = string($env.x ?? \"\")\n}",
            &options(),
        ).expect("compiles");
        let mut out = Vec::new();
        let ok = mapping.evaluate_line(Kind::User, &bytes, 9, &mut out);
        prop_assert!(!out.contains(&b'\n'));
        let v: Value = serde_json::from_slice(&out).expect("one JSON value");
        prop_assert_eq!(ok, v.get("error").is_none());
        if !ok {
            prop_assert_eq!(&v["line"], &Value::from(9));
        }
    }
}
