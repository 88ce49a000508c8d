//! Mappings built by the adversarial generator of `tests/adversarial.rs` (its shapes, chosen by
//! the fuzzer's bytes instead of proptest): deep wrappers, long chains, let chains, Direct
//! paths, in every position, under small limits, evaluated on a record with deep and long
//! values. Checks: no panic; compile errors have spans inside the source; one JSON output line,
//! deterministic.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Limits, Mapping, Options};

mod common;

#[path = "../../tests/adversarial/shapes.rs"]
mod shapes;

/// Small limits (the oracle's bound in xtask/src/fuzz.rs counts on `memory` and `line_bytes`).
const DEPTH: usize = 24;

fn options() -> Options {
    Options {
        limits: Limits {
            source_bytes: 64 << 10,
            depth: DEPTH,
            steps: 20_000,
            string_bytes: 16 << 10,
            list_items: 1_000,
            line_bytes: 64 << 10,
            memory: 1 << 20,
            ..Limits::default()
        },
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").ok(),
        allow: Vec::new(),
    }
}

/// A size around the depth limit, or a long one.
fn size(u: &mut Unstructured<'_>) -> Result<usize> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => u.int_in_range(0..=4)?,
        1 => u.int_in_range(DEPTH - 3..=DEPTH + 3)?,
        2 => u.int_in_range(0..=3 * DEPTH)?,
        _ => u.int_in_range(500..=3_000)?,
    })
}

fn expression(u: &mut Unstructured<'_>) -> Result<String> {
    let atom = *u.choose(shapes::ATOMS)?;
    let mut wrappers = Vec::new();
    for _ in 0..size(u)?.min(3 * DEPTH) {
        wrappers.push(if u.ratio(4, 5)? {
            *u.choose(shapes::TYPED)?
        } else {
            *u.choose(shapes::UNTYPED)?
        });
    }
    let link = if u.ratio(1, 3)? {
        Some((*u.choose(shapes::LINKS)?, size(u)?))
    } else {
        None
    };
    Ok(shapes::build(atom, &wrappers, link))
}

fn direct_path(u: &mut Unstructured<'_>) -> Result<String> {
    let n = size(u)?;
    Ok(match u.int_in_range(0..=3u8)? {
        0 => {
            let mut p = String::from("$");
            for _ in 0..u.int_in_range(1..=12)? {
                p.push_str(u.choose(shapes::SEGMENTS)?);
            }
            p
        }
        1 => format!("${}{}", "[?@".repeat(n), "]".repeat(n)),
        2 => format!("$[?{}@.a{} == 1]", "(".repeat(n), ")".repeat(n)),
        _ => format!("${}", "..*".repeat(n.min(50))),
    })
}

fn mapping(u: &mut Unstructured<'_>) -> Result<String> {
    let mut s = String::from("user {\n  userName = username\n");
    let mut used = std::collections::HashSet::new();
    for i in 0..u.int_in_range(1..=5)? {
        let (target, source) = match u.int_in_range(0..=3u8)? {
            0 => (*u.choose(shapes::SCALAR_TARGETS)?, expression(u)?),
            1 => (*u.choose(shapes::SCALAR_TARGETS)?, direct_path(u)?),
            2 => (*u.choose(shapes::LIST_TARGETS)?, direct_path(u)?),
            _ => {
                let n = size(u)?;
                s.push_str(&format!("  let c{i}_0 = {}\n", expression(u)?));
                for j in 1..=n {
                    s.push_str(&format!("  let c{i}_{j} = c{i}_{}\n", j - 1));
                }
                ("externalId", format!("string(c{i}_{n})"))
            }
        };
        if used.insert(target) {
            s.push_str(&format!("  {target} = {source}\n"));
        }
    }
    s.push_str("}\n");
    Ok(s)
}

/// A record whose `x` nests `depth` deep and whose lists and strings are `long`.
fn record(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let depth = size(u)?;
    let long = size(u)?;
    let text = if u.arbitrary()? { "a" } else { "é\\u0000" };
    let x = format!(
        "{}\"{}\"{}",
        "[".repeat(depth),
        text.repeat(long),
        "]".repeat(depth)
    );
    let list: Vec<String> = (0..long).map(|i| i.to_string()).collect();
    Ok(format!(
        "{{\"_id\":\"1\",\"username\":\"{}\",\"description\":\"{}\",\"x\":{x},\"list\":[{}],\
         \"attributes\":[{{\"name\":\"dept\",\"value\":\"v\"}}]}}",
        text.repeat(long.min(64)),
        text.repeat(long),
        list.join(",")
    )
    .into_bytes())
}

fuzz_target!(init: common::init(), |data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(source), Ok(line)) = (mapping(&mut u), record(&mut u)) else {
        return;
    };
    // Triage: `SCIMAP_FUZZ_SHOW=1 …/adversarial ARTIFACT` prints what the bytes generated.
    if std::env::var_os("SCIMAP_FUZZ_SHOW").is_some() {
        eprintln!("{source}\n{}", String::from_utf8_lossy(&line));
    }
    let mapping = match Mapping::compile_with(&source, &options()) {
        Ok(mapping) => mapping,
        Err(e) => {
            for d in &e.diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= e.source.len(),
                    "span {:?} outside a source of {} bytes",
                    d.span,
                    e.source.len()
                );
            }
            return;
        }
    };
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let ok = mapping.evaluate_line(Kind::User, &line, 1, &mut first);
    mapping.evaluate_line(Kind::User, &line, 1, &mut second);
    assert!(!first.contains(&b'\n'), "an output line holds a newline");
    let parsed: serde_json::Value =
        serde_json::from_slice(&first).expect("every output line is JSON");
    assert_eq!(ok, parsed.get("error").is_none());
    assert_eq!(first, second, "evaluation is not deterministic");
});
