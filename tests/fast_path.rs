//! The bulk fast path (`evaluate_line`: reads only the fields a mapping uses, writes the payload
//! straight to bytes) and `write_payload` on a record read once must give exactly what the
//! library gives on a whole `serde_json::Value`.

use scimap::{Kind, Limits, Mapping, Record};
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Thousands of users: every fixture user, and variants of each with one field set to `null`,
/// a number, or removed — the shapes that exercise absent values and errors.
fn users() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/users.ndjson")).unwrap();
    let base: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut out = Vec::new();
    for user in &base {
        out.push(user.clone());
        let Value::Object(fields) = user else {
            continue;
        };
        for key in fields.keys() {
            for replacement in [Some(Value::Null), Some(Value::from(42)), None] {
                let mut variant = fields.clone();
                match replacement {
                    Some(v) => variant.insert(key.clone(), v),
                    None => variant.remove(key),
                };
                out.push(Value::Object(variant));
            }
        }
    }
    out
}

fn mappings() -> Vec<(String, Mapping)> {
    let mut files: Vec<PathBuf> = ["trello", "monday", "miro", "trelica"]
        .iter()
        .map(|app| root().join("examples").join(format!("{app}.scimap")))
        .collect();
    files.push(root().join("benches/trello15.scimap"));
    files
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            let m = Mapping::compile(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), m)
        })
        .collect()
}

#[test]
fn bulk_lines_equal_the_library_payloads() {
    let users = users();
    assert!(users.len() > 2000, "{} users", users.len());
    for (name, mapping) in mappings() {
        for (i, user) in users.iter().enumerate() {
            let line = serde_json::to_vec(user).unwrap();
            let mut out = Vec::new();
            let ok = mapping.evaluate_line(Kind::User, &line, i + 1, &mut out);
            let expected = match mapping.evaluate_user(user) {
                Ok(payload) => payload,
                Err(e) => {
                    let id = user.get("_id").and_then(Value::as_str);
                    e.to_json(Some(i + 1), id)
                }
            };
            assert_eq!(
                String::from_utf8(out).unwrap(),
                scimap::json::to_string(&expected),
                "{name}: user {i}"
            );
            assert_eq!(ok, expected.get("error").is_none(), "{name}: user {i}");
            // A record read once with every field, then evaluated: the same payload.
            let record = Record::parse(&line, &Limits::default()).unwrap();
            let mut written = Vec::new();
            match mapping.write_payload(Kind::User, &record, &mut written) {
                Ok(()) => assert_eq!(
                    String::from_utf8(written).unwrap(),
                    scimap::json::to_string(&expected),
                    "{name}: user {i}"
                ),
                Err(e) => assert_eq!(
                    e.to_json(Some(i + 1), expected["id"].as_str()),
                    expected,
                    "{name}: user {i}"
                ),
            }
        }
    }
}
