//! Any text as a `scimap expr` expression against a fixed record: a value or an error, never a
//! panic, within the default limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimap::{eval_expression, Kind};
use std::sync::OnceLock;

mod common;

fn record() -> &'static serde_json::Value {
    static RECORD: OnceLock<serde_json::Value> = OnceLock::new();
    RECORD.get_or_init(|| {
        serde_json::json!({
            "_id": "5f1b", "username": "ada.lovelace", "email": "Ada@Example.com",
            "firstname": "Ada", "lastname": "Lovelace", "state": "ACTIVATED",
            "created": "2020-07-24T18:25:43.511Z", "employeeIdentifier": "070707",
            "addresses": [{"type": "work", "locality": "London", "streetAddress": "1 St"}],
            "phoneNumbers": [{"type": "mobile", "number": "+44 1"}],
            "attributes": [{"name": "dept", "value": "R&D"}],
            "n": 12, "f": 1.5, "big": 9007199254740993i64, "b": true, "z": null, "e": "",
            "list": [1, "two", null, [3], {"k": "v"}],
        })
    })
}

fuzz_target!(init: common::init(), |data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let options = common::options();
    for kind in [Kind::User, Kind::Group] {
        let first = eval_expression(source, kind, record(), &options);
        let second = eval_expression(source, kind, record(), &options);
        match (first, second) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "evaluation is not deterministic"),
            (Err(a), Err(b)) => assert_eq!(a.message, b.message),
            _ => panic!("the same expression both succeeded and failed"),
        }
    }
});
