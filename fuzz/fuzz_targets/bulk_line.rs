//! Any bytes as bulk input, split into lines as `scimap bulk` splits them: exactly one output
//! line per input line, in order, never a panic; and the bulk engine's output the same on one
//! thread and on two. The first byte picks small limits so that every limit's edge is reached
//! with short inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Limits, Mapping, Options};

mod common;

const MAPPING: &str = r#"user {
  userName = $.username
  displayName = repeat(displayname ?? "", len(username ?? ""))
  nickName = string(map(1..len($env.list ?? []), # * 2))
  title = toJSON($env)
}"#;

fuzz_target!(init: common::init(), |data: &[u8]| {
    let Some((&knob, input)) = data.split_first() else {
        return;
    };
    let small = usize::from(knob % 64) + 1;
    let options = Options {
        limits: Limits {
            // Room for the mapping's own nesting; records still meet the limit early.
            depth: small + 16,
            steps: 40 * small as u64,
            string_bytes: 8 * small,
            list_items: small,
            line_bytes: 16 * small,
            // The oracle's bound (xtask/src/fuzz.rs) counts on this budget.
            memory: 1 << 20,
            ..Limits::default()
        },
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").ok(),
        ..Options::default()
    };
    let mapping = Mapping::compile_with(MAPPING, &options).expect("the fuzz mapping compiles");
    // At most 64 lines, so that an input's CPU has a bound (the oracle's `-timeout`).
    let lines: Vec<&[u8]> = input
        .strip_suffix(b"\n")
        .unwrap_or(input)
        .split(|&b| b == b'\n')
        .take(64)
        .collect();
    let mut out = Vec::new();
    let mut failed = 0;
    for (i, line) in lines.iter().enumerate() {
        if !mapping.evaluate_line(Kind::User, line, i + 1, &mut out) {
            failed += 1;
        }
        out.push(b'\n');
    }
    let outputs: Vec<&[u8]> = out
        .strip_suffix(b"\n")
        .unwrap_or(&out)
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(
        outputs.len(),
        lines.len(),
        "not one output line per input line"
    );
    let mut errors = 0;
    for (i, line) in outputs.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_slice(line).expect("every output line is JSON");
        if let Some(n) = v.get("line") {
            assert_eq!(
                n.as_u64(),
                Some(i as u64 + 1),
                "an error line names the wrong line"
            );
            errors += 1;
        }
    }
    assert_eq!(errors, failed, "the failed count does not add up");
    // The bulk engine gives the same lines on one thread and on two (whose workers read the
    // input in blocks), counts included.
    let run = |threads| {
        let mut out = Vec::new();
        let bulk = scimap::bulk::Options {
            threads,
            line_bytes: options.limits.line_bytes,
            ..Default::default()
        };
        scimap::bulk::evaluate(&mapping, Kind::User, input, &mut out, &bulk)
            .map(|summary| (summary.total, summary.ok, out))
            .map_err(|e| e.to_string())
    };
    assert_eq!(run(1), run(2), "two threads differ from one");
});
