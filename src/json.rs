//! Writing JSON as Go's `encoding/json` and JavaScript print it: floats in their shortest form
//! without `.0`, exponent form only beyond 1e21 / below 1e-6 (reference §expr-printing).

use crate::runtime::format::json_float;
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

/// A JSON string, escaped as serde_json escapes it: `"`, `\\` and control characters only.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(at) = next_escape(bytes, start) {
        out.extend_from_slice(&bytes[start..at]);
        let b = bytes[at];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The first byte at or after `from` that JSON must escape. Eight bytes at a time: payload
/// strings are mostly plain, and this runs once per string written.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        // A byte is flagged when it is below 0x20, or equal to `"` or `\\` (zero after xor).
        let control = v.wrapping_sub(ONES * 0x20);
        let quote = (v ^ (ONES * b'"' as u64)).wrapping_sub(ONES);
        let backslash = (v ^ (ONES * b'\\' as u64)).wrapping_sub(ONES);
        if (control | quote | backslash) & !v & HIGH != 0 {
            break;
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|p| i + p)
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
    fn strings_escape_as_serde_json_does() {
        let mut every: String = (0u8..0x80).map(char::from).collect();
        every.push_str("é😀\u{2028}\"\\ plain text that runs past eight bytes\u{7f}\u{1f}");
        for s in [
            String::new(),
            every.clone(),
            every[1..].to_string(),
            "a\"".repeat(9),
        ] {
            let mut out = Vec::new();
            write_str(&s, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    #[test]
    fn pretty_indents_by_two() {
        assert_eq!(
            pretty(&json!({"a": [1], "b": {}})),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}"
        );
    }
}
