//! Conversion and encoding builtins (reference §functions-conversion).

use super::{arg, go_type, step_bytes, str_arg, Budget};
use crate::runtime::error::{excerpt, EvalError, EvalResult};
use crate::runtime::format::{go_string, to_json_pretty};
use crate::runtime::value::Value;
use base64::Engine;
use indexmap::IndexMap;

type R<'a> = EvalResult<Value<'a>>;

/// Expr's message for a value that cannot be converted: "invalid operation: int(bool)".
fn cannot(name: &str, what: impl std::fmt::Display) -> String {
    format!("invalid operation: {name}({what})")
}

/// Go's `int(f)` on amd64: truncation toward zero; NaN and out-of-range values give the
/// smallest int (the hardware's "integer indefinite").
fn float_to_int(f: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&f) {
        f as i64
    } else {
        i64::MIN
    }
}

/// Ints as they are, floats truncated, strings by Go's `Atoi` (digits with an optional sign),
/// durations as nanoseconds.
pub(super) fn int<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    match arg(args, 0) {
        Value::Int(i) | Value::Duration(i) => Ok(Value::Int(i)),
        Value::Float(f) => Ok(Value::Int(float_to_int(f))),
        Value::Str(s) => s
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| EvalError::invalid(cannot("int", excerpt(&s)))),
        other => Err(EvalError::type_error(cannot("int", go_type(&other)))),
    }
}

/// Numbers as floats, strings by Go's `ParseFloat` (a value out of range is an error there).
pub(super) fn float<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    match arg(args, 0) {
        Value::Int(i) | Value::Duration(i) => Ok(Value::Float(i as f64)),
        Value::Float(f) => Ok(Value::Float(f)),
        Value::Str(s) => {
            let bad = || EvalError::invalid(cannot("float", excerpt(&s)));
            let f: f64 = s.parse().map_err(|_| bad())?;
            let word = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
            if f.is_infinite() && word != "inf" && word != "infinity" {
                return Err(bad());
            }
            Ok(Value::Float(f))
        }
        other => Err(EvalError::type_error(cannot("float", go_type(&other)))),
    }
}

/// Go's `%v` (see `format::go_string`).
pub(super) fn string<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let v = arg(args, 0);
    if let Value::Str(_) = v {
        return Ok(v);
    }
    let text = go_string(&v, budget)?;
    step_bytes(budget, text.len())?;
    Value::string(text, budget)
}

pub(super) fn to_json<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let text = to_json_pretty(&arg(args, 0), budget)?;
    step_bytes(budget, text.len())?;
    Value::string(text, budget)
}

/// Go's `json.Unmarshal` into `any`: objects become maps, and every number a float
/// (`type(fromJSON("1"))` is `"float"`, as in Expr).
pub(super) fn from_json<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("fromJSON", args, 0)?;
    step_bytes(budget, s.len())?;
    // The `depth` limit, checked before parsing; serde_json parses at most 127 levels, which
    // also bounds the recursion below.
    let depth = budget.limits().nesting().min(127);
    if nesting(s) > depth {
        return Err(EvalError::limit("depth", depth));
    }
    let parsed: serde_json::Value = serde_json::from_str(s).map_err(|e| {
        EvalError::invalid(if e.is_eof() {
            "unexpected end of JSON input".to_string()
        } else {
            e.to_string()
        })
    })?;
    owned_value(&parsed, budget)
}

/// The deepest nesting of `[` and `{` outside JSON strings (a bad document is left to the parser).
fn nesting(s: &str) -> usize {
    let (mut depth, mut deepest, mut in_str, mut escaped) = (0usize, 0, false, false);
    for b in s.bytes() {
        match (in_str, b) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') | (false, b'"') => in_str = !in_str,
            (false, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn owned_value<'a>(v: &serde_json::Value, budget: &mut Budget) -> R<'a> {
    budget.step(1)?;
    Ok(match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::string(s.as_str(), budget)?,
        serde_json::Value::Array(items) => {
            budget.fits_list(items.len())?;
            let items = items
                .iter()
                .map(|item| owned_value(item, budget))
                .collect::<EvalResult<_>>()?;
            Value::list(items, budget)?
        }
        serde_json::Value::Object(entries) => {
            let mut map = IndexMap::with_capacity(entries.len());
            for (k, item) in entries {
                map.insert(k.clone(), owned_value(item, budget)?);
            }
            Value::map(map, budget)?
        }
    })
}

/// Standard alphabet, with padding.
pub(super) fn to_base64<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("toBase64", args, 0)?;
    step_bytes(budget, s.len())?;
    budget.fits_string(s.len().div_ceil(3).saturating_mul(4))?;
    Value::string(
        base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        budget,
    )
}

pub(super) fn from_base64<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("fromBase64", args, 0)?;
    step_bytes(budget, s.len())?;
    let bytes = go_base64_decode(s.as_bytes())
        .map_err(|at| EvalError::invalid(format!("illegal base64 data at input byte {at}")))?;
    // Go would return the bytes as they are; scimap strings are always valid UTF-8.
    let text = String::from_utf8(bytes)
        .map_err(|_| EvalError::invalid("fromBase64: the decoded data is not UTF-8 text"))?;
    Value::string(text, budget)
}

fn base64_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn skip_newlines(src: &[u8], mut si: usize) -> usize {
    while matches!(src.get(si), Some(b'\n' | b'\r')) {
        si += 1;
    }
    si
}

/// Go's `base64.StdEncoding.DecodeString`, quantum by quantum (its `decodeQuantum`): `\r` and
/// `\n` are skipped, padding is required, unused trailing bits are ignored (not strict).
/// The error is the byte offset Go reports.
fn go_base64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    while si < src.len() {
        let mut quantum = [0u8; 4];
        let mut filled = 0;
        let mut late_error = None;
        while filled < 4 {
            let Some(&c) = src.get(si) else {
                if filled == 0 {
                    return Ok(out);
                }
                return Err(si - filled);
            };
            si += 1;
            if let Some(d) = base64_digit(c) {
                quantum[filled] = d;
                filled += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || filled < 2 {
                return Err(si - 1);
            }
            if filled == 2 {
                // "==" is expected; the first '=' is consumed.
                si = skip_newlines(src, si);
                match src.get(si) {
                    None => return Err(src.len()),
                    Some(b'=') => si += 1,
                    Some(_) => return Err(si - 1),
                }
            }
            si = skip_newlines(src, si);
            if si < src.len() {
                late_error = Some(si);
            }
            break;
        }
        let val = u32::from(quantum[0]) << 18
            | u32::from(quantum[1]) << 12
            | u32::from(quantum[2]) << 6
            | u32::from(quantum[3]);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(bytes.get(..filled.saturating_sub(1)).unwrap_or(&[]));
        if let Some(at) = late_error {
            return Err(at);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{call, err, ok};
    use super::*;
    use serde_json::json;

    #[test]
    fn int_conversion() {
        ok("int", json!([-12.9]), "-12");
        ok("int", json!([12.9]), "12");
        ok("int", json!(["42"]), "42");
        ok("int", json!(["-7"]), "-7");
        ok("int", json!(["+7"]), "7");
        ok("int", json!([5]), "5");
        ok("int", json!([1e300]), &i64::MIN.to_string());
        err("int", json!(["12.5"]), "invalid operation: int(12.5)");
        err("int", json!([" 42"]), "invalid operation: int( 42)");
        err("int", json!(["1_000"]), "invalid operation: int(1_000)");
        err(
            "int",
            json!(["99999999999999999999"]),
            "invalid operation: int(99999999999999999999)",
        );
        assert_eq!(
            err("int", json!([true]), "invalid operation: int(bool)"),
            "scimap::type-error"
        );
        err("int", json!([null]), "invalid operation: int(<nil>)");
        assert!(matches!(
            int(&[Value::Duration(1_000_000_000)], &mut budget()),
            Ok(Value::Int(1_000_000_000))
        ));
    }

    fn budget() -> Budget<'static> {
        Budget::new(&crate::limits::Limits::DEFAULT)
    }

    #[test]
    fn float_conversion() {
        let f = |args| match call("float", args).unwrap() {
            Value::Float(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(f(json!(["1e3"])), 1000.0);
        assert_eq!(f(json!([".5"])), 0.5);
        assert_eq!(f(json!(["-2.25"])), -2.25);
        assert_eq!(f(json!([3])), 3.0);
        assert_eq!(f(json!(["1e-400"])), 0.0);
        assert_eq!(f(json!(["-Inf"])), f64::NEG_INFINITY);
        assert!(f(json!(["NaN"])).is_nan());
        err("float", json!(["abc"]), "invalid operation: float(abc)");
        err("float", json!(["1e400"]), "invalid operation: float(1e400)");
        err("float", json!([""]), "invalid operation: float()");
        err(
            "float",
            json!([[1]]),
            "invalid operation: float([]interface {})",
        );
    }

    #[test]
    fn string_conversion() {
        ok("string", json!([1234567.5]), r#""1.2345675e+06""#);
        ok("string", json!([1e-05]), r#""1e-05""#);
        ok("string", json!([123456.0]), r#""123456""#);
        ok("string", json!([42]), r#""42""#);
        ok("string", json!([null]), r#""<nil>""#);
        ok("string", json!([true]), r#""true""#);
        ok("string", json!(["x"]), r#""x""#);
        ok("string", json!([[1, "a", null]]), r#""[1 a <nil>]""#);
        ok(
            "string",
            json!([{"b": null, "a": 1}]),
            r#""map[a:1 b:<nil>]""#,
        );
    }

    #[test]
    fn json_round_trip() {
        ok(
            "toJSON",
            json!([{"b": [1, 2.5], "a": "<&>"}]),
            r#""{\n  \"a\": \"\\u003c\\u0026\\u003e\",\n  \"b\": [\n    1,\n    2.5\n  ]\n}""#,
        );
        ok("toJSON", json!([1e21]), r#""1e+21""#);
        ok("toJSON", json!([100000000.0]), r#""100000000""#);
        ok("toJSON", json!([[]]), r#""[]""#);
        ok("toJSON", json!([null]), r#""null""#);
        ok(
            "fromJSON",
            json!([r#"{"a": [1, "x", null, true], "b": {}}"#]),
            r#"{"a":[1,"x",null,true],"b":{}}"#,
        );
        assert!(matches!(call("fromJSON", json!(["1"])).unwrap(), Value::Float(f) if f == 1.0));
        err("fromJSON", json!([""]), "unexpected end of JSON input");
        err("fromJSON", json!(["{"]), "unexpected end of JSON input");
        err("fromJSON", json!(["[1,]"]), "trailing comma");
        err("fromJSON", json!(["1e400"]), "out of range");
        err(
            "fromJSON",
            json!([format!("{}{}", "[".repeat(200), "]".repeat(200))]),
            "limit `depth` exceeded",
        );
        ok(
            "fromJSON",
            json!([r#"["[[[[", "\\\"{{"]"#]),
            r#"["[[[[","\\\"{{"]"#,
        );
    }

    #[test]
    fn base64() {
        ok("toBase64", json!(["hello"]), r#""aGVsbG8=""#);
        ok("toBase64", json!([""]), r#""""#);
        ok("toBase64", json!(["héllo!"]), r#""aMOpbGxvIQ==""#);
        ok("fromBase64", json!(["aGVsbG8="]), r#""hello""#);
        ok("fromBase64", json!(["aMOp\r\nbGxvIQ=="]), r#""héllo!""#);
        ok("fromBase64", json!([""]), r#""""#);
        ok("fromBase64", json!(["YR=="]), r#""a""#);
        err(
            "fromBase64",
            json!(["aGVsbG8"]),
            "illegal base64 data at input byte 4",
        );
        err(
            "fromBase64",
            json!(["YQ"]),
            "illegal base64 data at input byte 0",
        );
        err(
            "fromBase64",
            json!(["Y"]),
            "illegal base64 data at input byte 0",
        );
        err(
            "fromBase64",
            json!(["YQ=x"]),
            "illegal base64 data at input byte 2",
        );
        err(
            "fromBase64",
            json!(["YQ="]),
            "illegal base64 data at input byte 3",
        );
        err(
            "fromBase64",
            json!(["YQ==YQ=="]),
            "illegal base64 data at input byte 4",
        );
        err(
            "fromBase64",
            json!(["a!bc"]),
            "illegal base64 data at input byte 1",
        );
        err(
            "fromBase64",
            json!(["=abc"]),
            "illegal base64 data at input byte 0",
        );
        err("fromBase64", json!(["/w=="]), "not UTF-8");
    }
}
