//! Writing JSON as Go's `encoding/json` and JavaScript print it: floats in their shortest form
//! without `.0`, exponent form only beyond 1e21 / below 1e-6 (LANGUAGE §3).

use crate::eval::format::json_float;
use serde_json::Value as Json;

/// Compact JSON.
pub fn write(v: &Json, out: &mut Vec<u8>) {
    write_value(v, out, None, 0);
}

/// JSON with a two-space indent, as `scimap eval` prints payloads.
pub fn pretty(v: &Json) -> String {
    let mut out = Vec::new();
    write_value(v, &mut out, Some(2), 0);
    String::from_utf8(out).unwrap_or_default()
}

/// Compact JSON as a string.
pub fn to_string(v: &Json) -> String {
    let mut out = Vec::new();
    write(v, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

fn newline(out: &mut Vec<u8>, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push(b'\n');
        out.resize(out.len() + n * level, b' ');
    }
}

fn write_value(v: &Json, out: &mut Vec<u8>, indent: Option<usize>, level: usize) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => out.extend_from_slice(i.to_string().as_bytes()),
            (None, Some(u)) => out.extend_from_slice(u.to_string().as_bytes()),
            _ => out.extend_from_slice(json_float(n.as_f64().unwrap_or(0.0)).as_bytes()),
        },
        Json::String(s) => write_str(s, out),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, indent, level + 1);
                write_value(item, out, indent, level + 1);
            }
            if !items.is_empty() {
                newline(out, indent, level);
            }
            out.push(b']');
        }
        Json::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, indent, level + 1);
                write_str(k, out);
                out.push(b':');
                if indent.is_some() {
                    out.push(b' ');
                }
                write_value(item, out, indent, level + 1);
            }
            if !map.is_empty() {
                newline(out, indent, level);
            }
            out.push(b'}');
        }
    }
}

/// A JSON string, escaped as serde_json escapes it.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping never fails when writing to a Vec.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_go_and_javascript_do() {
        assert_eq!(
            to_string(&json!([1.0, 0.5, 1e21, 1e-7, 123456789.0, -0.25])),
            "[1,0.5,1e+21,1e-7,123456789,-0.25]"
        );
    }

    #[test]
    fn pretty_indents_by_two() {
        assert_eq!(
            pretty(&json!({"a": [1], "b": {}})),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}"
        );
    }
}
