//! A fuzzed Direct JSON Path in a mapping, evaluated on fuzzed records. The input's first line
//! is the path after its `$`; each further line is a record (four at most). The path is the source of a
//! single-valued and of an element-wise target (`userName = $…`, `emails[].value = $…`).
//! Checks: no panic; compile errors have spans inside the source; one JSON output line per
//! record, deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Mapping};

mod common;

fuzz_target!(init: common::init(), |data: &[u8]| {
    let (path, records) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let source = format!("user {{\n  userName = ${path}\n  emails[].value = ${path}\n}}\n");
    let mapping = match Mapping::compile_with(&source, &common::options()) {
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
    // At most four records, so that an input's CPU has a bound (the oracle's `-timeout`).
    for line in records.split(|&b| b == b'\n').take(4) {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        let ok = mapping.evaluate_line(Kind::User, line, 1, &mut first);
        mapping.evaluate_line(Kind::User, line, 1, &mut second);
        assert!(!first.contains(&b'\n'), "an output line holds a newline");
        let parsed: serde_json::Value =
            serde_json::from_slice(&first).expect("every output line is JSON");
        assert_eq!(ok, parsed.get("error").is_none());
        assert_eq!(first, second, "evaluation is not deterministic");
    }
});
