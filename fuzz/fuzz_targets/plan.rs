//! Any bytes as `scimap plan --input` lines, over the four seed apps' mappings (the first byte
//! picks the app and whether the lines are users or groups): exactly one output line per input
//! line, each a JSON array of requests or an error line naming its line, never a panic; and a
//! plan is the same when made twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Mapping};

mod common;

const APPS: [&str; 4] = [
    include_str!("../../examples/trello.scimap"),
    include_str!("../../examples/monday.scimap"),
    include_str!("../../examples/miro.scimap"),
    include_str!("../../examples/trelica.scimap"),
];

fuzz_target!(init: common::init(), |data: &[u8]| {
    let Some((&knob, input)) = data.split_first() else {
        return;
    };
    let mapping = Mapping::compile_with(APPS[usize::from(knob % 4)], &common::options())
        .expect("the seed apps compile");
    let kind = match knob & 4 {
        0 => Kind::User,
        _ if mapping.has_section(Kind::Group) => Kind::Group,
        _ => Kind::User,
    };
    // At most 16 lines, so that an input's CPU has a bound (the oracle's `-timeout`).
    let lines: Vec<&[u8]> = input
        .strip_suffix(b"\n")
        .unwrap_or(input)
        .split(|&b| b == b'\n')
        .take(16)
        .collect();
    for (i, line) in lines.iter().enumerate() {
        let mut out = Vec::new();
        let ok = mapping.plan_line(kind, line, i + 1, &mut out);
        assert!(!out.contains(&b'\n'), "an output line holds a line break");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("every output line is JSON");
        match v.as_array() {
            Some(requests) => {
                assert!(ok, "a plan counted as failed");
                for r in requests {
                    let method = r["method"].as_str().expect("a request has a method");
                    assert!(["POST", "PUT", "PATCH"].contains(&method), "method {method}");
                    let path = r["path"].as_str().expect("a request has a path");
                    assert!(path.starts_with("/Users") || path.starts_with("/Groups"), "{path}");
                    assert!(!path.contains(['?', '#', ' ']), "an id escaped the path: {path}");
                    assert!(r["body"].is_object(), "a body is an object");
                }
            }
            None => {
                assert!(!ok, "an error counted as a plan");
                assert_eq!(v["line"].as_u64(), Some(i as u64 + 1), "an error line names the wrong line");
            }
        }
        let mut again = Vec::new();
        mapping.plan_line(kind, line, i + 1, &mut again);
        assert_eq!(out, again, "the same pair planned twice differs");
    }
});
