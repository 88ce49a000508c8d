//! Property tests over adversarial input: mappings with deep and long constructs in every
//! syntactic position (lets and let chains, entries, targets with filters, element-wise
//! targets, Direct paths with filters, descendants and unions, predicates and closures,
//! ternaries, `if`/`else`, pipes, member/index/slice chains, maps and arrays, string literals
//! with escapes, comments), sized around small limits, against records with deep, long and odd
//! values. Through the library API: no panic, no abort, no hang; compiling and evaluating are
//! deterministic; every diagnostic span lies inside the source; a bulk line gives exactly one
//! output line.
//!
//! Each case runs in a forked child with a timeout (proptest's `fork`/`timeout`), so a stack
//! overflow or a hang fails the case, and is shrunk, instead of taking the suite down.
//! `SCIMAP_ADVERSARIAL_CASES=N` raises the case count (the default keeps CI fast).

use proptest::prelude::*;
use proptest::test_runner::Config;
use scimap::{eval_expression, Diagnostic, Kind, Limits, Mapping, Options};
use serde_json::{Map, Value};

#[path = "adversarial/shapes.rs"]
mod shapes;

use shapes::{build, ATOMS, LINKS, LIST_TARGETS, SCALAR_TARGETS, SEGMENTS, TYPED, UNTYPED};

/// Small limits, so that constructs at and past each limit stay small and quick.
const DEPTH: usize = 24;
const STRING_BYTES: usize = 16 << 10;
const LIST_ITEMS: usize = 1_000;

fn options() -> Options {
    Options {
        limits: Limits {
            source_bytes: 64 << 10,
            depth: DEPTH,
            steps: 20_000,
            string_bytes: STRING_BYTES,
            list_items: LIST_ITEMS,
            line_bytes: 64 << 10,
            memory: 1 << 20,
            ..Limits::default()
        },
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05+01:00").ok(),
        allow: Vec::new(),
    }
}

/// Address space of the forked child that runs the cases: far above what the limits allow
/// (a 1 MiB budget per record), so a case that passes it has escaped its budget; it aborts
/// that child instead of exhausting the shared machine.
const ADDRESS_SPACE: u64 = 1 << 30;

fn cap_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cap = libc::rlimit {
            rlim_cur: ADDRESS_SPACE,
            rlim_max: ADDRESS_SPACE,
        };
        // SAFETY: a plain system call on this process, with a valid pointer.
        let done = unsafe { libc::setrlimit(libc::RLIMIT_AS, &cap) };
        assert_eq!(done, 0, "setrlimit: {}", std::io::Error::last_os_error());
    });
}

fn config() -> Config {
    let cases = std::env::var("SCIMAP_ADVERSARIAL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    Config {
        cases,
        fork: true,
        // Generous for a debug build on a shared machine (passing cases take milliseconds); a
        // hang is minutes or forever. Shrinking a hang costs a timeout per step: few steps.
        timeout: 10_000,
        max_shrink_time: 60_000,
        max_shrink_iters: 24,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes: mostly around the limit under test, sometimes small, sometimes far past it.

fn nesting() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 0..=4usize,
        4 => (DEPTH - 3)..=(DEPTH + 3),
        1 => 0..=(3 * DEPTH),
    ]
}

fn length() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 1..=8usize,
        2 => (LIST_ITEMS - 2)..=(LIST_ITEMS + 2),
        1 => 2_000..=5_000usize,
    ]
}

// ---------------------------------------------------------------------------------------------
// Expressions

fn wrapper() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        4 => prop::sample::select(TYPED),
        1 => prop::sample::select(UNTYPED),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ATOMS),
        nesting().prop_flat_map(|n| prop::collection::vec(wrapper(), n)),
        prop::option::weighted(0.3, (prop::sample::select(LINKS), length())),
    )
        .prop_map(|(atom, wrappers, link)| build(atom, &wrappers, link))
}

/// A string literal near `string-bytes`, with every kind of escape.
fn long_string_literal() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(STRING_BYTES - 1), Just(STRING_BYTES + 1), 1..40usize],
        prop::sample::select(vec!["a", "\\n", "\\u00e9", "\\\"", "é", "\\t"]),
    )
        .prop_map(|(n, piece)| format!("\"{}\"", piece.repeat(n / piece.len().max(1) + 1)))
}

// ---------------------------------------------------------------------------------------------
// Direct paths (JSONPath)

fn direct_path() -> impl Strategy<Value = String> {
    prop_oneof![
        // A chain of segments, long or short.
        prop::collection::vec(prop::sample::select(SEGMENTS), 1..12)
            .prop_map(|s| format!("${}", s.concat())),
        length().prop_map(|n| format!("${}", "..*".repeat(n.min(50)))),
        length().prop_map(|n| format!("$.x{}", "[0]".repeat(n))),
        // Filters nested in filters, and parentheses nested in one filter.
        nesting().prop_map(|n| format!("${}{}", "[?@".repeat(n), "]".repeat(n))),
        nesting().prop_map(|n| format!("$.x{}.a{}", "[?@".repeat(n), "]".repeat(n))),
        nesting().prop_map(|n| format!("$[?{}@.a{} == 1]", "(".repeat(n), ")".repeat(n))),
        nesting().prop_map(|n| format!("$[?{}@.a]", "!".repeat(n))),
        length().prop_map(|n| format!("$[?{}]", vec!["@.a == 1"; n].join(" || "))),
        length().prop_map(|n| format!("$[{}]", vec!["'a'"; n].join(","))),
    ]
}

// ---------------------------------------------------------------------------------------------
// Targets and mappings

/// A filtered multi-valued target with `n` `and` terms and odd values.
fn filtered_target() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => 0..3usize, 1 => length()],
        prop::sample::select(vec![
            "\"work\"",
            "\"\\u00e9\\\"\"",
            "1e3",
            "true",
            "null",
            "\"\"",
        ]),
    )
        .prop_map(|(n, value)| {
            let mut s = String::from("emails[type eq \"work\"");
            for i in 0..n {
                s.push_str(&format!(
                    " and display eq {}",
                    if i % 2 == 0 { value } else { "\"d\"" }
                ));
            }
            s.push_str("].value");
            s
        })
}

#[derive(Debug, Clone)]
enum Item {
    /// `let a0 = E`, then `let aI = aI-1` up to `n`, used by one entry.
    LetChain(String, usize),
    Entry(String, String),
    Comment(String),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        3 => (prop::sample::select(SCALAR_TARGETS), expression())
            .prop_map(|(t, e)| Item::Entry(t.to_string(), e)),
        1 => (prop::sample::select(SCALAR_TARGETS), long_string_literal())
            .prop_map(|(t, e)| Item::Entry(t.to_string(), e)),
        2 => (
            prop_oneof![prop::sample::select(SCALAR_TARGETS), prop::sample::select(LIST_TARGETS)],
            direct_path(),
        )
            .prop_map(|(t, p)| Item::Entry(t.to_string(), p)),
        1 => (prop::sample::select(LIST_TARGETS), expression())
            .prop_map(|(t, e)| Item::Entry(t.to_string(), format!("[{e}, {e}]"))),
        1 => (filtered_target(), expression()).prop_map(|(t, e)| Item::Entry(t, e)),
        1 => (expression(), prop_oneof![nesting(), length()])
            .prop_map(|(e, n)| Item::LetChain(e, n)),
        1 => prop_oneof![
            length().prop_map(|n| format!("// {}", "c".repeat(n))),
            length().prop_map(|n| format!("/* {} */", "*/ /*".repeat(n.min(3)) + &"x".repeat(n))),
            Just("# not a comment".to_string()),
        ]
        .prop_map(Item::Comment),
    ]
}

fn mapping() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(item(), 1..6),
        prop::bool::weighted(0.9),
        prop::option::of(length()),
        any::<bool>(),
    )
        .prop_map(|(items, user_name, declared, group)| {
            let mut s = String::from("// adversarial\napp \"a \\\"b\\\" \\u00e9\"\n");
            if let Some(n) = declared {
                let attrs: Vec<String> =
                    (0..n.min(2_000)).map(|i| format!("a{i}: string")).collect();
                s.push_str(&format!(
                    "schema \"urn:x:y:User\" {{ {} }}\n",
                    attrs.join(", ")
                ));
            }
            s.push_str("user {\n");
            if user_name {
                s.push_str("  userName = username\n");
            }
            // Distinct targets, so that most mappings get past the checker.
            let mut targets = std::collections::HashSet::new();
            for (i, item) in items.iter().enumerate() {
                let target = match item {
                    Item::Entry(target, _) => Some(target.as_str()),
                    Item::LetChain(..) => Some("externalId"),
                    Item::Comment(_) => None,
                };
                if target.is_some_and(|t| !targets.insert(t)) {
                    continue;
                }
                match item {
                    Item::Entry(target, source) => s.push_str(&format!("  {target} = {source}\n")),
                    Item::Comment(c) => s.push_str(&format!("  {c}\n")),
                    Item::LetChain(e, n) => {
                        s.push_str(&format!("  let c{i}_0 = {e}\n"));
                        for j in 1..=*n {
                            s.push_str(&format!("  let c{i}_{j} = c{i}_{}\n", j - 1));
                        }
                        s.push_str(&format!("  externalId = string(c{i}_{n})\n"));
                    }
                }
            }
            s.push_str("}\n");
            if group {
                s.push_str("group {\n  displayName = $.name\n  externalId = $..id\n}\n");
            }
            s
        })
}

// ---------------------------------------------------------------------------------------------
// Records

/// A value nested `n` deep: arrays and objects alternating, a string at the bottom.
fn deep_value(n: usize, leaf: &str) -> Value {
    let mut v = Value::String(leaf.to_string());
    for i in 0..n {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            let mut m = Map::new();
            m.insert("a".into(), v);
            Value::Object(m)
        };
    }
    v
}

fn record() -> impl Strategy<Value = Value> {
    (
        nesting(),
        length(),
        prop_oneof![Just(STRING_BYTES - 1), Just(STRING_BYTES + 1), 0..40usize],
        prop::sample::select(vec![
            "ada",
            "",
            "é\u{0}\u{1F600}",
            "a.b",
            "$",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
        ]),
        any::<bool>(),
    )
        .prop_map(|(depth, items, text_len, text, odd)| {
            let text = text.repeat(text_len / text.len().max(1) + 1);
            let mut r = Map::new();
            r.insert("_id".into(), Value::from("5f1b"));
            r.insert("username".into(), Value::from(text.clone()));
            r.insert("description".into(), Value::from(text.clone()));
            r.insert("email".into(), Value::from("Ada@Example.com"));
            r.insert("x".into(), deep_value(depth, &text));
            r.insert(
                "list".into(),
                Value::Array((0..items).map(|i| Value::from(i as u64)).collect()),
            );
            r.insert(
                "attributes".into(),
                Value::Array(
                    (0..items.min(2 * LIST_ITEMS))
                        .map(|i| serde_json::json!({"name": format!("n{i}"), "value": "v"}))
                        .collect(),
                ),
            );
            if odd {
                r.insert("odd key".into(), Value::from(f64::MAX));
                r.insert(String::new(), Value::from(i64::MIN));
                r.insert("$".into(), Value::Null);
                r.insert("a.b".into(), deep_value(3, "\u{2028}"));
            }
            Value::Object(r)
        })
}

/// The bytes of a record as bulk reads them, sometimes written oddly (a duplicate key, a BOM,
/// escapes where plain characters would do, trailing blanks).
fn line_of(record: &Value, odd: u8) -> Vec<u8> {
    let plain = serde_json::to_vec(record).unwrap_or_default();
    match odd % 4 {
        0 => plain,
        1 => [b"\xEF\xBB\xBF".as_slice(), &plain, b" \t\r"].concat(),
        2 => [&plain[..plain.len() - 1], b",\"username\":\"dup\"}"].concat(),
        _ => String::from_utf8_lossy(&plain)
            .replace("a", "\\u0061")
            .into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

fn assert_spans_inside(diagnostics: &[Diagnostic], source: &str) -> Result<(), TestCaseError> {
    for d in diagnostics {
        let spans = std::iter::once(d.span).chain(d.labels.iter().map(|l| l.span));
        for span in spans {
            prop_assert!(
                span.start <= span.end
                    && span.end <= source.len()
                    && source.is_char_boundary(span.start)
                    && source.is_char_boundary(span.end),
                "{}: span {:?} outside a source of {} bytes",
                d.code,
                span,
                source.len()
            );
        }
        let _ = scimap::render::human(d, "adversarial.scimap", source, false);
        let _ = scimap::render::diagnostic_json(d, None, &scimap::render::LineIndex::new(source));
    }
    Ok(())
}

fn compiles_and_evaluates_soundly(
    source: &str,
    record: &Value,
    line: &[u8],
) -> Result<(), TestCaseError> {
    let options = options();
    let first = Mapping::compile_with(source, &options);
    let second = Mapping::compile_with(source, &options);
    let mapping = match (first, second) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a.warnings(), b.warnings());
            assert_spans_inside(a.warnings(), a.source())?;
            a
        }
        (Err(a), Err(b)) => {
            prop_assert_eq!(&a.diagnostics, &b.diagnostics);
            assert_spans_inside(&a.diagnostics, &a.source)?;
            return Ok(());
        }
        (a, b) => {
            return Err(TestCaseError::fail(format!(
                "compiling twice: {} then {}",
                a.is_ok(),
                b.is_ok()
            )))
        }
    };
    for kind in [Kind::User, Kind::Group] {
        if !mapping.has_section(kind) {
            continue;
        }
        let (mut out, mut again) = (Vec::new(), Vec::new());
        let ok = mapping.evaluate_line(kind, line, 3, &mut out);
        mapping.evaluate_line(kind, line, 3, &mut again);
        prop_assert!(!out.contains(&b'\n'), "the output line holds a newline");
        let parsed: Value = serde_json::from_slice(&out)
            .map_err(|e| TestCaseError::fail(format!("the output line is not JSON: {e}")))?;
        prop_assert_eq!(ok, parsed.get("error").is_none());
        prop_assert!(out == again, "evaluate_line is not deterministic");
        prop_assert_eq!(
            mapping.evaluate(kind, record),
            mapping.evaluate(kind, record)
        );
        prop_assert_eq!(mapping.explain(kind, record), mapping.explain(kind, record));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn adversarial_mappings_compile_and_evaluate_soundly(
        source in mapping(),
        record in record(),
        odd in any::<u8>(),
    ) {
        cap_memory();
        compiles_and_evaluates_soundly(&source, &record, &line_of(&record, odd))?;
    }

    #[test]
    fn adversarial_mappings_format_idempotently(source in mapping()) {
        cap_memory();
        if let Ok(once) = scimap::fmt::format(&source) {
            let twice = scimap::fmt::format(&once)
                .map_err(|e| TestCaseError::fail(format!("formatted text does not parse: {e}")))?;
            prop_assert_eq!(twice, once);
        }
    }

    #[test]
    fn adversarial_expressions_evaluate_deterministically(
        expression in prop_oneof![expression(), long_string_literal()],
        record in record(),
    ) {
        cap_memory();
        let options = options();
        let first = eval_expression(&expression, Kind::User, &record, &options);
        let second = eval_expression(&expression, Kind::User, &record, &options);
        match (first, second) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => {
                prop_assert_eq!(&a.message, &b.message);
                prop_assert_eq!(&a.diagnostics, &b.diagnostics);
                assert_spans_inside(&a.diagnostics, &expression)?;
            }
            (a, b) => prop_assert!(false, "evaluating twice: {} then {}", a.is_ok(), b.is_ok()),
        }
    }
}
