//! scimap against the expression engines a Rust program would embed instead (issue 14's goal:
//! ≥ 3× faster per expression than `cel-interpreter` and `rhai`). Figures in BENCHMARKS.md,
//! "Against embeddable engines".
//!
//! Four expressions, and a constant under them, each compiled once per engine and evaluated
//! once per record:
//!
//! | bench | scimap | CEL (`cel` 0.15, `cel-interpreter` renamed) | Rhai 1.27 |
//! |---|---|---|---|
//! | `concat` | `firstname + " " + lastname` | the same | the same |
//! | `lower` | `lower(email)` | `email.lowerAscii()` | `email.to_lower()` |
//! | `ternary` | `state == "ACTIVATED" ? "active" : "inactive"` | the same | `if state == "ACTIVATED" { "active" } else { "inactive" }` |
//! | `constant` (not a goal: the floor under the others) | `"active"` | the same | the same |
//! | `filter_map` | `map(filter(attributes, .name == "costCenter"), .value)` | `attributes.filter(a, a.name == "costCenter").map(a, a.value)` | `attributes.filter(\|a\| a.name == "costCenter").map(\|a\| a.value)` |
//!
//! The records are the users of tests/fixtures/users.ndjson whose `firstname`, `lastname`,
//! `email` and `state` are strings and `attributes` a list (the engines differ on missing and
//! null fields by design: scimap's nil, CEL's "no such key", Rhai's unknown variable). Each
//! engine gets the record in its own natural form, built beforehand (not timed), holding every
//! field of the record:
//!
//! * scimap: a [`Record`] (`Record::parse`, as `bulk` reads it: strings borrowed from the
//!   line), evaluated by an [`Expression`] compiled once: what an engine embeds for one
//!   computed value, as CEL's `Program` and Rhai's `AST` are. `NAME/scimap` writes the answer
//!   as JSON text into a reused buffer (`Expression::write_json`, the goal's figure);
//!   `NAME/scimap-value` returns it as a `serde_json::Value` (`Expression::evaluate`), which
//!   allocates its strings. `NAME/scimap-payload` evaluates the same expression as the entry
//!   `displayName = EXPR` (the list: `roles[].value = EXPR`) of a mapping beside the required
//!   `userName`, a constant, with [`Mapping::write_payload`] into a reused buffer: the
//!   per-record path of a whole mapping, whose time includes writing the payload JSON
//!   (`{"schemas":[…],"userName":"bench","displayName":"…"}`); `floor/scimap` measures that
//!   part alone (the mapping of the constant `userName` only).
//! * CEL: a `Context` per record with each top-level field a variable (`cel::to_value` of the
//!   JSON), `Program::execute` returning a `cel::Value`.
//! * Rhai: a `Scope` per record with each top-level field a constant (`Engine::parse_json`),
//!   `Engine::eval_ast_with_scope` returning a `Dynamic`.
//!
//! Before measuring, every engine's answer on every record is checked against the others
//! (same JSON value), so a bench cannot time a wrong or failing evaluation. (CEL's standard
//! library lowers ASCII only, scimap and Rhai all of Unicode: the same on these records.)
//!
//! `cargo bench --bench embed` measures (one iteration evaluates every record; criterion's
//! time divided by the record count is the time per expression); `-- --test` runs each bench
//! once; `-- embed/lower` filters.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scimap::{Expression, Kind, Limits, Mapping, Options, Record};
use serde_json::{json, Value as Json};
use std::hint::black_box;
use std::sync::Arc;

const USERS: &str = include_str!("../tests/fixtures/users.ndjson");

/// One expression in each engine's syntax; `target` is the scimap entry's target, whose value
/// in the payload is the expression's answer.
struct Case {
    name: &'static str,
    target: &'static str,
    scimap: &'static str,
    cel: &'static str,
    rhai: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "concat",
        target: "displayName",
        scimap: r#"firstname + " " + lastname"#,
        cel: r#"firstname + " " + lastname"#,
        rhai: r#"firstname + " " + lastname"#,
    },
    Case {
        name: "lower",
        target: "displayName",
        scimap: "lower(email)",
        cel: "email.lowerAscii()",
        rhai: "email.to_lower()",
    },
    Case {
        name: "ternary",
        target: "displayName",
        scimap: r#"state == "ACTIVATED" ? "active" : "inactive""#,
        cel: r#"state == "ACTIVATED" ? "active" : "inactive""#,
        rhai: r#"if state == "ACTIVATED" { "active" } else { "inactive" }"#,
    },
    // Not one of the goal's four: the floor under each of them, what returning a constant costs
    // (scimap's `serde_json::Value` owns its string; CEL and Rhai share theirs).
    Case {
        name: "constant",
        target: "displayName",
        scimap: r#""active""#,
        cel: r#""active""#,
        rhai: r#""active""#,
    },
    Case {
        name: "filter_map",
        target: "roles",
        scimap: r#"map(filter(attributes, .name == "costCenter"), .value)"#,
        cel: r#"attributes.filter(a, a.name == "costCenter").map(a, a.value)"#,
        rhai: r#"attributes.filter(|a| a.name == "costCenter").map(|a| a.value)"#,
    },
];

/// The fixture lines every engine evaluates alike (see the header).
fn lines() -> Vec<&'static str> {
    USERS
        .lines()
        .filter(|line| {
            let Ok(Json::Object(user)) = serde_json::from_str::<Json>(line) else {
                return false;
            };
            ["firstname", "lastname", "email", "state"]
                .iter()
                .all(|f| user.get(*f).is_some_and(Json::is_string))
                && user.get("attributes").is_some_and(Json::is_array)
        })
        .collect()
}

/// The user mapping of one expression: `displayName = EXPR` (a list: `roles[].value = EXPR`)
/// beside the required `userName`, a constant: the entry [`FLOOR`] measures alone.
fn scimap_mapping(case: &Case) -> Mapping {
    let target = if case.target == "roles" {
        "roles[].value"
    } else {
        case.target
    };
    compile_user(&format!("{FLOOR}\n  {target} = {}", case.scimap))
}

/// The entry of the `floor/scimap` bench: what `write_payload` costs around an expression
/// (the payload's braces and `schemas`, one constant string).
const FLOOR: &str = r#"userName = const "bench""#;

fn compile_user(entries: &str) -> Mapping {
    let source = format!("user {{\n  {entries}\n}}\n");
    Mapping::compile(&source).unwrap_or_else(|e| panic!("{source} does not compile: {e}"))
}

/// The answer in a payload: the target's value, a list of `roles[].value`. An empty string or
/// list is left out of a payload (SCIM's "unassigned"): read back as `""` or `[]`.
fn scimap_answer(case: &Case, payload: &[u8]) -> Json {
    let payload: Json = serde_json::from_slice(payload).expect("a payload is JSON");
    match &payload[case.target] {
        Json::Null if case.target == "roles" => json!([]),
        Json::Null => json!(""),
        Json::Array(roles) => roles.iter().map(|r| r["value"].clone()).collect(),
        value => value.clone(),
    }
}

fn cel_answer(value: &cel::Value) -> Json {
    match value {
        cel::Value::String(s) => json!(s.as_str()),
        cel::Value::List(items) => items.iter().map(cel_answer).collect(),
        other => panic!("CEL answered {other:?}"),
    }
}

fn rhai_answer(value: rhai::Dynamic) -> Json {
    if value.is_array() {
        let items = value.into_array().expect("an array");
        return items.into_iter().map(rhai_answer).collect();
    }
    match value.into_string() {
        Ok(s) => json!(s),
        Err(other) => panic!("Rhai answered a {other}"),
    }
}

fn bench_embed(c: &mut Criterion) {
    let lines = lines();
    assert!(lines.len() >= 40, "the fixture lost its users");
    let limits = Limits::default();
    let records: Vec<Record> = lines
        .iter()
        .map(|l| Record::parse(l.as_bytes(), &limits).expect("fixture users are records"))
        .collect();

    let mut cel_env = cel::Env::stdlib();
    cel_env
        .add_extension(cel::extensions::strings)
        .expect("the strings extension loads");
    let cel_env = Arc::new(cel_env);
    let cel_contexts: Vec<cel::Context> = lines
        .iter()
        .map(|line| {
            let Ok(Json::Object(user)) = serde_json::from_str::<Json>(line) else {
                unreachable!("lines() keeps objects")
            };
            let mut context = cel::Context::with_env(Arc::clone(&cel_env));
            for (name, value) in &user {
                let value = cel::to_value(value).expect("JSON is a CEL value");
                context.add_variable_from_value(name.as_str(), value);
            }
            context
        })
        .collect();

    let rhai = rhai::Engine::new();
    let mut rhai_scopes: Vec<rhai::Scope> = lines
        .iter()
        .map(|line| {
            let user = rhai.parse_json(line, true).expect("JSON is a Rhai map");
            let mut scope = rhai::Scope::new();
            for (name, value) in user {
                scope.push_constant_dynamic(name, value);
            }
            scope
        })
        .collect();

    let mut out = Vec::with_capacity(1 << 12);
    let mut group = c.benchmark_group("embed");
    group.throughput(Throughput::Elements(records.len() as u64));
    let floor = compile_user(FLOOR);
    group.bench_function("floor/scimap", |b| {
        b.iter(|| {
            for record in &records {
                out.clear();
                let written = floor.write_payload(Kind::User, black_box(record), &mut out);
                written.expect("a constant entry cannot fail");
                black_box(out.len());
            }
        })
    });
    for case in CASES {
        let mapping = scimap_mapping(case);
        let expression = Expression::compile(case.scimap, Kind::User, &Options::default())
            .unwrap_or_else(|e| panic!("scimap `{}`: {e}", case.scimap));
        let program = cel_env
            .compile(case.cel)
            .unwrap_or_else(|e| panic!("CEL `{}`: {e:?}", case.cel));
        let ast = rhai
            .compile(case.rhai)
            .unwrap_or_else(|e| panic!("Rhai `{}`: {e}", case.rhai));

        for (i, record) in records.iter().enumerate() {
            out.clear();
            mapping
                .write_payload(Kind::User, record, &mut out)
                .unwrap_or_else(|e| panic!("scimap {} on user {i}: {e}", case.name));
            let expected = scimap_answer(case, &out);
            let value = expression
                .evaluate(record)
                .unwrap_or_else(|e| panic!("scimap {} on user {i}: {e}", case.name));
            assert_eq!(
                value, expected,
                "scimap's Expression {} on user {i}",
                case.name
            );
            out.clear();
            expression
                .write_json(record, &mut out)
                .unwrap_or_else(|e| panic!("scimap {} on user {i}: {e}", case.name));
            let written: Json = serde_json::from_slice(&out).expect("write_json writes JSON");
            assert_eq!(
                written, expected,
                "scimap's write_json {} on user {i}",
                case.name
            );
            let cel = program
                .execute(&cel_contexts[i])
                .unwrap_or_else(|e| panic!("CEL {} on user {i}: {e:?}", case.name));
            assert_eq!(cel_answer(&cel), expected, "CEL {} on user {i}", case.name);
            let rhai_value = rhai
                .eval_ast_with_scope::<rhai::Dynamic>(&mut rhai_scopes[i], &ast)
                .unwrap_or_else(|e| panic!("Rhai {} on user {i}: {e}", case.name));
            assert_eq!(
                rhai_answer(rhai_value),
                expected,
                "Rhai {} on user {i}",
                case.name
            );
        }

        group.bench_function(format!("{}/scimap", case.name), |b| {
            b.iter(|| {
                for record in &records {
                    out.clear();
                    let written = expression.write_json(black_box(record), &mut out);
                    written.expect("checked above");
                    black_box(out.len());
                }
            })
        });
        group.bench_function(format!("{}/scimap-value", case.name), |b| {
            b.iter(|| {
                for record in &records {
                    black_box(
                        expression
                            .evaluate(black_box(record))
                            .expect("checked above"),
                    );
                }
            })
        });
        group.bench_function(format!("{}/scimap-payload", case.name), |b| {
            b.iter(|| {
                for record in &records {
                    out.clear();
                    let written = mapping.write_payload(Kind::User, black_box(record), &mut out);
                    written.expect("checked above");
                    black_box(out.len());
                }
            })
        });
        group.bench_function(format!("{}/cel", case.name), |b| {
            b.iter(|| {
                for context in &cel_contexts {
                    black_box(program.execute(black_box(context)).expect("checked above"));
                }
            })
        });
        group.bench_function(format!("{}/rhai", case.name), |b| {
            b.iter(|| {
                for scope in rhai_scopes.iter_mut() {
                    let value = rhai.eval_ast_with_scope::<rhai::Dynamic>(black_box(scope), &ast);
                    let _ = black_box(value.expect("checked above"));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_embed);
criterion_main!(benches);
