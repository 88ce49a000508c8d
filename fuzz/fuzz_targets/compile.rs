//! Any bytes as a mapping file: the compiler returns a mapping or diagnostics, never panics, and
//! a mapping that compiles evaluates a record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Mapping, Options};

fuzz_target!(|data: &[u8]| {
    // A fixed clock, so that a crash reproduces whatever the time.
    let options = Options {
        now: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").ok(),
        ..Options::default()
    };
    match Mapping::compile_bytes(data, &options) {
        Ok(mapping) => {
            let record = serde_json::json!({
                "_id": "1", "id": "1", "name": "g", "username": "ada",
                "email": "ada@example.com", "firstname": "Ada", "state": "ACTIVATED",
            });
            for kind in [Kind::User, Kind::Group] {
                if mapping.has_section(kind) {
                    let _ = mapping.evaluate(kind, &record);
                }
            }
        }
        Err(e) => {
            for d in &e.diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= e.source.len(),
                    "span {:?} outside a source of {} bytes",
                    d.span,
                    e.source.len()
                );
                let _ = scimap::render::diagnostic_json(d, None, &e.source);
            }
        }
    }
});
