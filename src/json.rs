//! Writing JSON as Go's `encoding/json` and JavaScript print it: floats in their shortest form
//! without `.0`, exponent form only beyond 1e21 / below 1e-6 (reference §expr-printing).

use crate::record::special::first_special;
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
    escape_into(s, out);
    out.push(b'"');
}

/// The inside of [`write_str`]'s string: `s` escaped, without quotes.
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    if short_and_plain(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    let mut rest = s.as_bytes();
    while let Some(at) = next_escape(rest) {
        let (plain, tail) = rest.split_at(at);
        out.extend_from_slice(plain);
        let Some((&b, tail)) = tail.split_first() else {
            break;
        };
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
        rest = tail;
    }
    out.extend_from_slice(rest);
}

/// Whether `bytes`, at most sixteen of them, needs no escape: tested on words made of two
/// overlapping reads, where [`next_escape`] copies a short string into a padded block first.
/// Most values (a state, a name, a constant) are that short.
#[inline]
fn short_and_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let n = bytes.len();
    let word = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_ne_bytes)
    };
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map_or(0, |w| u64::from(u32::from_ne_bytes(w)))
    };
    // A byte below 0x20, a quote or a backslash sets its high bit in one of these.
    let special = |w: u64| {
        let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
        (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
    };
    match n {
        9..=16 => (special(word(0)) | special(word(n - 8))) == 0,
        4..=8 => special(half(0) | (half(n - 4) << 32)) == 0,
        0..=3 => bytes.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\'),
        _ => false,
    }
}

/// The first byte of `bytes` that JSON must escape, sixteen at a time ([`first_special`]): the
/// last sixteen overlap the chunk before (tested again, still plain), or the few there are
/// are padded to sixteen with a space, which needs none. Payload strings are mostly short and
/// plain: one or two comparisons a string.
fn next_escape(bytes: &[u8]) -> Option<usize> {
    let (chunks, tail) = bytes.as_chunks::<16>();
    let mut at = 0;
    for chunk in chunks {
        if let Some(i) = first_special(chunk) {
            return Some(at + i);
        }
        at += 16;
    }
    if tail.is_empty() {
        return None;
    }
    if let Some(last) = bytes.last_chunk::<16>() {
        return first_special(last).map(|i| bytes.len() - 16 + i);
    }
    let mut last = [b' '; 16];
    last.get_mut(..tail.len())?.copy_from_slice(tail);
    first_special(&last).map(|i| at + i)
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

    /// A byte to escape (or not) at each position of strings across the sixteen-byte edges.
    #[test]
    fn escapes_are_found_at_every_position() {
        for len in 1..50 {
            for at in 0..len {
                for b in [b'"', b'\\', b'\n', 0x00, 0x1f, b' ', b'~'] {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    let s = String::from_utf8(bytes).unwrap();
                    let mut out = Vec::new();
                    write_str(&s, &mut out);
                    assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s:?}");
                }
            }
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
