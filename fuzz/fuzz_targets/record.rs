//! The hand-written record reader against serde_json: any bytes are accepted by both or by
//! neither (within the default depth; `memory` may refuse a record, as a limit), with the same record when both accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::parse_record;

mod common;

fuzz_target!(init: common::init(), |data: &[u8]| {
    let ours = parse_record(data, &common::limits());
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
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
