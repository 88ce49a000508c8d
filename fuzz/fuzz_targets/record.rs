//! The hand-written record reader against serde_json: any bytes are accepted by both or by
//! neither (within the default depth; `memory` may refuse a record, as a limit), with the same record when both accept.
//! The same bytes read as `bulk` reads them for a mapping that reads two fields, so that every
//! other field goes through the skipping path: the same verdict, and the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{parse_record, Kind, Mapping};
use std::sync::OnceLock;

mod common;

/// Reads `email` and the id field `_id`; everything else in a record is skipped.
const MAPPING: &str = "user {\n  userName = \"u\"\n  title = toJSON(email)\n}";

fuzz_target!(init: common::init(), |data: &[u8]| {
    let ours = parse_record(data, &common::limits());
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    static SKIPPING: OnceLock<Mapping> = OnceLock::new();
    let mapping = SKIPPING.get_or_init(|| {
        Mapping::compile_with(MAPPING, &common::options()).expect("the mapping compiles")
    });
    let mut line = Vec::new();
    mapping.evaluate_line(Kind::User, data, 1, &mut line);
    let line: serde_json::Value = serde_json::from_slice(&line).expect("an output line is JSON");
    let skipped = line["error"]["message"].as_str();
    match &ours {
        // A record read whole and read skipping fails alike (an all-blank line is called
        // empty before it is read; skipping charges less memory).
        Err(e) if !data.iter().all(u8::is_ascii_whitespace) && !e.message().contains("`memory`") => {
            assert_eq!(skipped, Some(e.message()), "skipping disagrees");
        }
        Err(_) => {}
        Ok(_) => assert!(
            !skipped.is_some_and(|m| m.starts_with("the record ")),
            "skipping rejects what reading whole accepts: {skipped:?}"
        ),
    }
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs),
        // serde_json's own nesting limit (128) is not the record's.
        (Ok(_), Err(e)) if e.to_string().starts_with("recursion limit exceeded") => {}
        (Ok(_), Err(e)) => panic!("accepted what serde_json rejects: {e}"),
        (Err(e), Ok(theirs)) => assert!(
            !theirs.is_object() || e.errors[0].code == "scimap::limit",
            "rejected a record serde_json accepts: {}",
            e.message()
        ),
        (Err(_), Err(_)) => {}
    }
});
