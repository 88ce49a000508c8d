//! Printing values as Go prints them: `%v` text (Expr's `string(x)`) and JSON (payloads, `toJSON`).
//!
//! Every printer is iterative (a value may nest deeper than the stack allows) and stops with a
//! `string-bytes` limit error as soon as its output outgrows the limit, so a value that shares
//! sub-lists exponentially cannot make it run away.

use super::budget::Budget;
use super::error::{EvalError, EvalResult};
use super::time;
use super::value::{List, Value};

/// The shortest round-trip decimal digits of a finite non-zero `f` (sign ignored) and the
/// decimal exponent of the first digit: 1234.5 → ("12345", 3).
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest digits that read back to the same f64, as Go's `-1` precision does.
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

/// `d.ddde±XX` with at least `min_exp_digits` exponent digits.
fn exponent_form(out: &mut String, digits: &str, exp: i32, min_exp_digits: usize) {
    let (first, rest) = digits.split_at(digits.len().min(1));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:0min_exp_digits$}", exp.unsigned_abs()));
}

/// Plain decimal notation of the digits, without trailing zeros after the point.
fn fixed_form(out: &mut String, digits: &str, exp: i32) {
    if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', exp.unsigned_abs() as usize - 1));
        out.push_str(digits);
        return;
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', int_len - digits.len()));
    } else {
        let (int_part, frac) = digits.split_at(int_len);
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac);
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest round-trip digits,
/// exponent form when the decimal exponent is < −4 or ≥ 6 (`1.2345675e+06`, `1e-05`, `123456`),
/// `NaN`, `+Inf`, `-Inf`, and `-0` for negative zero.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    finite_float(f, -4..6, 2)
}

/// A float as Go's `encoding/json` (and JavaScript) prints it: shortest round-trip digits, no
/// `.0` on whole values, exponent form only for magnitudes ≥ 1e21 or < 1e-6 (`1e+21`, `1e-7`).
/// Callers refuse NaN and ±Inf first (JSON has no such numbers); they print as `go_float` does.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return go_float(f);
    }
    finite_float(f, -6..21, 1)
}

/// A finite float in shortest round-trip digits: fixed form for decimal exponents in `fixed`,
/// exponent form (with at least `min_exp_digits` exponent digits) outside it.
fn finite_float(f: f64, fixed: std::ops::Range<i32>, min_exp_digits: usize) -> String {
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push('0');
        return out;
    }
    let (digits, exp) = shortest_digits(f);
    if fixed.contains(&exp) {
        fixed_form(&mut out, &digits, exp);
    } else {
        exponent_form(&mut out, &digits, exp, min_exp_digits);
    }
    out
}

/// Refuses output that has grown past the `string-bytes` limit.
fn check_len(out: &str, budget: &Budget) -> EvalResult<()> {
    budget.fits_string(out.len())
}

/// A list or map being printed, with the position of the next element.
enum Frame<'a> {
    List(List<'a>, usize),
    Map(Vec<(String, Value<'a>)>, usize),
}

/// A step per value printed and per 16 bytes of its text.
fn charge(v: &Value, budget: &mut Budget) -> EvalResult<()> {
    let bytes = match v {
        Value::Str(s) => s.len(),
        _ => 0,
    };
    charge_string(bytes, budget)
}

/// Expr's `string(v)`, Go's `%v`: nil `<nil>`, floats by [`go_float`], strings as they are,
/// lists `[1 a <nil>]`, maps `map[a:1 b:<nil>]` with sorted keys, durations `1h30m0s`, times
/// `2006-01-02 15:04:05.999999999 -0700 MST`, zones by name.
pub fn go_string(v: &Value, budget: &mut Budget) -> EvalResult<String> {
    let mut out = String::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending = Some(v.clone());
    loop {
        if let Some(v) = pending.take() {
            charge(&v, budget)?;
            match v {
                Value::Nil => out.push_str("<nil>"),
                Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                Value::Int(i) => out.push_str(&i.to_string()),
                Value::Float(f) => out.push_str(&go_float(f)),
                Value::Str(s) => {
                    budget.fits_string(out.len().saturating_add(s.len()))?;
                    out.push_str(&s);
                }
                Value::Time(t) => out.push_str(&time::go_string(&t)),
                Value::Duration(d) => out.push_str(&time::format_duration(d)),
                Value::Location(z) => out.push_str(&z.to_string()),
                Value::List(l) => {
                    out.push('[');
                    stack.push(Frame::List(l, 0));
                }
                Value::Map(m) => {
                    out.push_str("map[");
                    stack.push(Frame::Map(m.entries(true, budget)?, 0));
                }
            }
            check_len(&out, budget)?;
        }
        let Some(frame) = stack.last_mut() else {
            return Ok(out);
        };
        match frame {
            Frame::List(list, next) => match list.get(*next) {
                Some(item) => {
                    if *next > 0 {
                        out.push(' ');
                    }
                    *next += 1;
                    pending = Some(item);
                }
                None => {
                    out.push(']');
                    stack.pop();
                }
            },
            Frame::Map(entries, next) => match entries.get(*next) {
                Some((key, value)) => {
                    if *next > 0 {
                        out.push(' ');
                    }
                    out.push_str(key);
                    out.push(':');
                    pending = Some(value.clone());
                    *next += 1;
                }
                None => {
                    out.push(']');
                    stack.pop();
                }
            },
        }
    }
}

/// How a JSON printer differs between payloads and Expr's `toJSON`.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// Go's `json.MarshalIndent(v, "", "  ")`: indented, keys sorted, `<>&` and U+2028/U+2029
    /// escaped, durations as integer nanoseconds, zones as `{}` (Go's encoder sees no fields).
    go: bool,
}

fn write_json_string(out: &mut String, s: &str, style: JsonStyle) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.go => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline_indent(out: &mut String, depth: usize, style: JsonStyle) {
    if style.go {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    }
}

fn write_json_styled(
    v: &Value,
    out: &mut String,
    budget: &mut Budget,
    style: JsonStyle,
) -> EvalResult<()> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending = Some(v.clone());
    loop {
        if let Some(v) = pending.take() {
            charge(&v, budget)?;
            match v {
                Value::Nil => out.push_str("null"),
                Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                Value::Int(i) => out.push_str(&i.to_string()),
                Value::Float(f) if f.is_finite() => out.push_str(&json_float(f)),
                Value::Float(f) => {
                    return Err(EvalError::invalid(format!(
                        "{} is not a finite number",
                        go_float(f)
                    )))
                }
                Value::Str(s) => {
                    budget.fits_string(out.len().saturating_add(s.len()))?;
                    write_json_string(out, &s, style);
                }
                Value::Time(t) => write_json_string(out, &time::rfc3339(&t), style),
                Value::Duration(d) if style.go => out.push_str(&d.to_string()),
                Value::Duration(d) => write_json_string(out, &time::format_duration(d), style),
                Value::Location(_) if style.go => out.push_str("{}"),
                Value::Location(z) => write_json_string(out, &z.to_string(), style),
                Value::List(l) if l.is_empty() => out.push_str("[]"),
                Value::List(l) => {
                    out.push('[');
                    stack.push(Frame::List(l, 0));
                }
                Value::Map(m) if m.is_empty() => out.push_str("{}"),
                Value::Map(m) => {
                    out.push('{');
                    stack.push(Frame::Map(m.entries(style.go, budget)?, 0));
                }
            }
            check_len(out, budget)?;
        }
        let depth = stack.len();
        let Some(frame) = stack.last_mut() else {
            return Ok(());
        };
        match frame {
            Frame::List(list, next) => match list.get(*next) {
                Some(item) => {
                    if *next > 0 {
                        out.push(',');
                    }
                    newline_indent(out, depth, style);
                    *next += 1;
                    pending = Some(item);
                }
                None => {
                    newline_indent(out, depth - 1, style);
                    out.push(']');
                    stack.pop();
                }
            },
            Frame::Map(entries, next) => match entries.get(*next) {
                Some((key, value)) => {
                    if *next > 0 {
                        out.push(',');
                    }
                    newline_indent(out, depth, style);
                    write_json_string(out, key, style);
                    out.push_str(if style.go { ": " } else { ":" });
                    pending = Some(value.clone());
                    *next += 1;
                }
                None => {
                    newline_indent(out, depth - 1, style);
                    out.push('}');
                    stack.pop();
                }
            },
        }
    }
}

/// Compact JSON as expressions print values (reference §expr-printing): numbers as Go's
/// `encoding/json`, strings escaped as serde_json does (no HTML escaping), times RFC 3339,
/// durations as Go text, maps in their own order. NaN and ±Inf are an error ("NaN is not a finite
/// number").
pub fn write_json(v: &Value, out: &mut String, budget: &mut Budget) -> EvalResult<()> {
    write_json_styled(v, out, budget, JsonStyle { go: false })
}

/// A value as JSON for the library (`Expression`, `eval_expression`): strings, numbers and
/// the like directly, each charged as printing charges it; anything else printed by the
/// bounded printer and read back (a list can share sub-lists and print as far more text than
/// it occupies, so `string-bytes` caps it).
pub fn to_json(v: &Value, budget: &mut Budget) -> EvalResult<serde_json::Value> {
    use serde_json::Value as Json;
    match v {
        Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Str(_) => {
            charge(v, budget)?;
            Ok(match v {
                Value::Bool(b) => Json::Bool(*b),
                Value::Int(i) => Json::from(*i),
                Value::Str(s) => Json::String(String::from(&**s)),
                _ => Json::Null,
            })
        }
        // A list of strings (what `map` gives most often) needs no JSON text in between; the
        // steps are those of writing it.
        Value::List(items) if items.iter().all(|i| matches!(i, Value::Str(_))) => {
            charge(v, budget)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                charge(&item, budget)?;
                if let Value::Str(s) = item {
                    out.push(Json::String(String::from(&*s)));
                }
            }
            Ok(Json::Array(out))
        }
        _ => {
            let mut text = String::new();
            write_json(v, &mut text, budget)?;
            serde_json::from_str(&text).map_err(|e| EvalError::invalid(e.to_string()))
        }
    }
}

/// `v` as JSON text appended to `out`, charged as [`to_json`] charges it: a string, the answer
/// of most expressions, is escaped straight into `out`.
pub fn write_json_bytes(v: &Value, out: &mut Vec<u8>, budget: &mut Budget) -> EvalResult<()> {
    if let Value::Str(s) = v {
        charge_string(s.len(), budget)?;
        crate::json::write_str(s, out);
        return Ok(());
    }
    let mut text = String::new();
    write_json(v, &mut text, budget)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// What printing a string of `len` bytes costs ([`charge`]'s rule).
pub fn charge_string(len: usize, budget: &mut Budget) -> EvalResult<()> {
    budget.step(1 + (len / 16) as u64)
}

/// Expr's `toJSON(v)`: Go's `json.MarshalIndent` with a two-space indent, map keys sorted,
/// `<`, `>`, `&` escaped as `\u003c`, `\u003e`, `\u0026`, durations as nanoseconds.
pub fn to_json_pretty(v: &Value, budget: &mut Budget) -> EvalResult<String> {
    let mut out = String::new();
    write_json_styled(v, &mut out, budget, JsonStyle { go: true })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::runtime::value::unlimited;
    use indexmap::IndexMap;

    fn budget() -> Budget<'static> {
        Budget::new(&Limits::DEFAULT)
    }

    #[test]
    fn go_float_matches_go_percent_v() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (123456.0, "123456"),
            (1234567.5, "1.2345675e+06"),
            (100000000.0, "1e+08"),
            (0.000001, "1e-06"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "1e+20"),
            (123456789012345680000.0, "1.2345678901234568e+20"),
            (5e-324, "5e-324"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e-7, "1e-07"),
            (2.5, "2.5"),
            (-12.9, "-12.9"),
            (999999.0, "999999"),
            (1e6, "1e+06"),
            (123456.7, "123456.7"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (f, want) in cases {
            assert_eq!(go_float(*f), *want, "go_float({f:e})");
        }
    }

    #[test]
    fn json_float_matches_go_encoding_json() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (100000000.0, "100000000"),
            (1234567.5, "1234567.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (1e-10, "1e-10"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0"),
            (-2.5e22, "-2.5e+22"),
            (0.00001234, "0.00001234"),
        ];
        for (f, want) in cases {
            assert_eq!(json_float(*f), *want, "json_float({f:e})");
        }
    }

    fn sample<'a>() -> Value<'a> {
        let mut inner = IndexMap::new();
        inner.insert("b".to_string(), Value::Nil);
        inner.insert("a".to_string(), Value::Int(1));
        inner.insert("<&>".to_string(), unlimited::string("x\"\n\u{1}"));
        unlimited::list(vec![
            Value::Int(1),
            Value::Float(2.5),
            unlimited::string("a b"),
            Value::Bool(true),
            unlimited::map(inner),
            unlimited::list(vec![]),
        ])
    }

    #[test]
    fn go_string_of_values() {
        let mut b = budget();
        assert_eq!(go_string(&Value::Nil, &mut b).unwrap(), "<nil>");
        assert_eq!(go_string(&Value::Float(1e6), &mut b).unwrap(), "1e+06");
        assert_eq!(
            go_string(&sample(), &mut b).unwrap(),
            "[1 2.5 a b true map[<&>:x\"\n\u{1} a:1 b:<nil>] []]"
        );
    }

    #[test]
    fn json_compact_and_pretty() {
        let mut b = budget();
        let mut out = String::new();
        write_json(&sample(), &mut out, &mut b).unwrap();
        assert_eq!(
            out,
            r#"[1,2.5,"a b",true,{"b":null,"a":1,"<&>":"x\"\n\u0001"},[]]"#
        );
        assert_eq!(
            to_json_pretty(&sample(), &mut b).unwrap(),
            "[\n  1,\n  2.5,\n  \"a b\",\n  true,\n  {\n    \"\\u003c\\u0026\\u003e\": \"x\\\"\\n\\u0001\",\n    \"a\": 1,\n    \"b\": null\n  },\n  []\n]"
        );
        assert_eq!(
            to_json_pretty(&Value::Float(1e21), &mut b).unwrap(),
            "1e+21"
        );
        assert_eq!(
            to_json_pretty(&Value::Duration(1_000_000_000), &mut b).unwrap(),
            "1000000000"
        );
        assert_eq!(
            to_json_pretty(&unlimited::string("\u{2028}\u{8}\u{c}\u{7f}"), &mut b).unwrap(),
            "\"\\u2028\\b\\f\u{7f}\""
        );
    }

    #[test]
    fn durations_print_as_go_text_or_nanoseconds() {
        let mut b = budget();
        let d = unlimited::list(vec![Value::Duration(5_400_000_000_000)]);
        assert_eq!(go_string(&d, &mut b).unwrap(), "[1h30m0s]");
        let mut out = String::new();
        write_json(&d, &mut out, &mut b).unwrap();
        assert_eq!(out, r#"["1h30m0s"]"#);
        assert_eq!(to_json_pretty(&d, &mut b).unwrap(), "[\n  5400000000000\n]");
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        let mut b = budget();
        let mut out = String::new();
        let err = write_json(
            &unlimited::list(vec![Value::Float(f64::NAN)]),
            &mut out,
            &mut b,
        )
        .unwrap_err();
        assert_eq!(err.message, "NaN is not a finite number");
        let err = to_json_pretty(&Value::Float(f64::NEG_INFINITY), &mut b).unwrap_err();
        assert_eq!(err.message, "-Inf is not a finite number");
    }

    #[test]
    fn deep_and_shared_values_are_bounded() {
        let mut b = Budget::new(&Limits {
            steps: u64::MAX,
            ..Limits::DEFAULT
        });
        let mut deep = Value::Nil;
        for _ in 0..200_000 {
            deep = unlimited::list(vec![deep]);
        }
        // 200k levels print without recursion; the output (over 400 KB) stays under 1 MiB.
        assert_eq!(go_string(&deep, &mut b).unwrap().len(), 400_005);
        // Exponential sharing: 2^40 leaves, stopped by the string limit.
        let mut wide = unlimited::string("x");
        for _ in 0..40 {
            wide = unlimited::list(vec![wide.clone(), wide]);
        }
        assert_eq!(go_string(&wide, &mut b).unwrap_err().code, "scimap::limit");
        let mut out = String::new();
        assert_eq!(
            write_json(&wide, &mut out, &mut b).unwrap_err().code,
            "scimap::limit"
        );
        // Dropping it does not recurse either (value.rs).
        drop(deep);
    }
}
