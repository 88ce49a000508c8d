//! Any bytes as a mapping file: the compiler returns a mapping or diagnostics, never panics, and
//! a mapping that compiles evaluates a record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{Kind, Mapping};

mod common;

fuzz_target!(init: common::init(), |data: &[u8]| {
    let options = common::options();
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
            let index = scimap::render::LineIndex::new(&e.source);
            for d in &e.diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end <= e.source.len(),
                    "span {:?} outside a source of {} bytes",
                    d.span,
                    e.source.len()
                );
                let _ = scimap::render::diagnostic_json(d, None, &index);
            }
        }
    }
});
