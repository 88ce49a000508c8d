//! Number builtins and the bitwise group (reference §functions-numbers).

use super::{go_type, int_arg, Budget};
use crate::runtime::error::{EvalError, EvalResult};
use crate::runtime::value::{List, Value};
use std::cmp::Ordering;

type R<'a> = EvalResult<Value<'a>>;

/// Expr's message for a non-number: "invalid argument for abs (type string)".
fn not_a_number(name: &str, v: &Value) -> EvalError {
    EvalError::type_error(format!("invalid argument for {name} (type {})", go_type(v)))
}

/// Integers keep their type; Go's `-x` wraps, so `abs` of the smallest int is itself. A float
/// is negated only when `< 0`, as Expr does (`abs(-0.0)` stays `-0`).
pub(super) fn abs<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    match args.first() {
        Some(Value::Int(i)) => Ok(Value::Int(if *i < 0 { i.wrapping_neg() } else { *i })),
        Some(Value::Float(f)) => Ok(Value::Float(if *f < 0.0 { -f } else { *f })),
        other => Err(not_a_number("abs", other.unwrap_or(&Value::Nil))),
    }
}

fn float_fn<'a>(name: &str, args: &[Value<'a>], f: fn(f64) -> f64) -> R<'a> {
    match args.first() {
        Some(v @ (Value::Int(_) | Value::Float(_))) => {
            Ok(Value::Float(f(v.as_f64().unwrap_or(0.0))))
        }
        other => Err(not_a_number(name, other.unwrap_or(&Value::Nil))),
    }
}

pub(super) fn ceil<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    float_fn("ceil", args, f64::ceil)
}

pub(super) fn floor<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    float_fn("floor", args, f64::floor)
}

/// Half away from zero, as Go's `math.Round` and Rust's `f64::round`.
pub(super) fn round<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    float_fn("round", args, f64::round)
}

/// Exact order of an int and a float (no rounding of large ints); NaN sorts after everything
/// so that the order stays total.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    // |t| < 2^63, so the conversion is exact.
    match i.cmp(&(t as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - t)).unwrap_or(Ordering::Equal),
        o => o,
    }
}

/// A total order on numbers (int and float mixed, exactly; -0 equals 0; NaN last);
/// `None` when either value is not a number.
pub(super) fn cmp_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), Value::Float(y)) => cmp_int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => cmp_int_float(*y, *x).reverse(),
        (Value::Float(x), Value::Float(y)) => match x.partial_cmp(y) {
            Some(o) => o,
            None => x.is_nan().cmp(&y.is_nan()),
        },
        _ => return None,
    })
}

/// Visits the numbers of the arguments, flattening lists at any depth (iteratively).
fn each_number<'a>(
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
    mut f: impl FnMut(Value<'a>),
) -> EvalResult<()> {
    let mut stack: Vec<(List<'a>, usize)> = Vec::new();
    for top in args {
        let mut next = Some(top.clone());
        loop {
            if let Some(v) = next.take() {
                budget.step(1)?;
                match v {
                    Value::Int(_) | Value::Float(_) => f(v),
                    Value::List(l) => stack.push((l, 0)),
                    other => return Err(not_a_number(name, &other)),
                }
            }
            let Some((list, i)) = stack.last_mut() else {
                break;
            };
            match list.get(*i) {
                Some(item) => {
                    *i += 1;
                    next = Some(item);
                }
                None => {
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}

/// The winner keeps its type; ties keep the first; no numbers at all gives nil. A lone
/// argument that is neither a number nor a list is the answer itself, as in Expr.
fn extreme<'a>(name: &str, args: &[Value<'a>], budget: &mut Budget, want: Ordering) -> R<'a> {
    if let [lone] = args {
        if !matches!(lone, Value::Int(_) | Value::Float(_) | Value::List(_)) {
            return Ok(lone.clone());
        }
    }
    let mut best: Option<Value<'a>> = None;
    each_number(name, args, budget, |v| {
        let better = match &best {
            None => true,
            Some(b) => cmp_numbers(&v, b) == Some(want),
        };
        if better {
            best = Some(v);
        }
    })?;
    Ok(best.unwrap_or(Value::Nil))
}

pub(super) fn max<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    extreme("max", args, budget, Ordering::Greater)
}

pub(super) fn min<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    extreme("min", args, budget, Ordering::Less)
}

pub(super) fn mean<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let (mut sum, mut count) = (0.0, 0u64);
    each_number("mean", args, budget, |v| {
        sum += v.as_f64().unwrap_or(0.0);
        count += 1;
    })?;
    Ok(Value::Float(if count == 0 {
        0.0
    } else {
        sum / count as f64
    }))
}

pub(super) fn median<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let mut values = Vec::new();
    each_number("median", args, budget, |v| {
        values.push(v.as_f64().unwrap_or(0.0))
    })?;
    // Go's sort.Float64s order: NaN first.
    budget.sort_by(&mut values, |a, b| {
        Ok((
            match a.partial_cmp(b) {
                Some(o) => o,
                None => b.is_nan().cmp(&a.is_nan()),
            },
            1,
        ))
    })?;
    let n = values.len();
    let mid = |i: usize| values.get(i).copied().unwrap_or(0.0);
    Ok(Value::Float(match n {
        0 => 0.0,
        n if n % 2 == 1 => mid(n / 2),
        n => (mid(n / 2 - 1) + mid(n / 2)) / 2.0,
    }))
}

fn two_ints(name: &str, args: &[Value]) -> EvalResult<(i64, i64)> {
    Ok((int_arg(name, args, 0)?, int_arg(name, args, 1)?))
}

pub(super) fn bitand<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    two_ints("bitand", args).map(|(a, b)| Value::Int(a & b))
}

pub(super) fn bitor<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    two_ints("bitor", args).map(|(a, b)| Value::Int(a | b))
}

pub(super) fn bitxor<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    two_ints("bitxor", args).map(|(a, b)| Value::Int(a ^ b))
}

/// Go's `&^` (AND NOT).
pub(super) fn bitnand<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    two_ints("bitnand", args).map(|(a, b)| Value::Int(a & !b))
}

pub(super) fn bitnot<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    int_arg("bitnot", args, 0).map(|a| Value::Int(!a))
}

/// The shift count as Go checks it; counts of 64 or more are handled by the callers as Go does.
fn shift_count(name: &str, args: &[Value]) -> EvalResult<(i64, u32)> {
    let (a, n) = two_ints(name, args)?;
    if n < 0 {
        return Err(EvalError::invalid(format!(
            "invalid operation: negative shift count {n} (type int)"
        )));
    }
    Ok((a, u32::try_from(n).unwrap_or(u32::MAX)))
}

pub(super) fn bitshl<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    let (a, n) = shift_count("bitshl", args)?;
    Ok(Value::Int(a.checked_shl(n).unwrap_or(0)))
}

/// Arithmetic shift: shifting 64 or more places leaves only the sign.
pub(super) fn bitshr<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    let (a, n) = shift_count("bitshr", args)?;
    Ok(Value::Int(a.checked_shr(n).unwrap_or(if a < 0 {
        -1
    } else {
        0
    })))
}

/// Logical shift of the bits as uint64, as Expr does, read back as int.
pub(super) fn bitushr<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    let (a, n) = shift_count("bitushr", args)?;
    Ok(Value::Int((a as u64).checked_shr(n).unwrap_or(0) as i64))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{call, err, ok};
    use super::*;
    use serde_json::json;

    fn float(name: &str, args: serde_json::Value) -> f64 {
        match call(name, args).unwrap() {
            Value::Float(f) => f,
            other => panic!("{name} gave {other:?}, not a float"),
        }
    }

    #[test]
    fn abs_keeps_the_type() {
        assert!(matches!(call("abs", json!([-3])).unwrap(), Value::Int(3)));
        assert!(matches!(
            call("abs", json!([i64::MIN])).unwrap(),
            Value::Int(i64::MIN)
        ));
        assert_eq!(float("abs", json!([-2.5])), 2.5);
        ok("abs", json!([7]), "7");
        err(
            "abs",
            json!(["x"]),
            "invalid argument for abs (type string)",
        );
        err(
            "abs",
            json!([null]),
            "invalid argument for abs (type <nil>)",
        );
    }

    #[test]
    fn rounding_gives_floats() {
        assert_eq!(float("ceil", json!([3])), 3.0);
        assert_eq!(float("ceil", json!([3.2])), 4.0);
        assert_eq!(float("ceil", json!([-3.7])), -3.0);
        assert_eq!(float("floor", json!([3.7])), 3.0);
        assert_eq!(float("floor", json!([-3.2])), -4.0);
        assert_eq!(float("round", json!([2.5])), 3.0);
        assert_eq!(float("round", json!([-2.5])), -3.0);
        assert_eq!(float("round", json!([2.4999])), 2.0);
        assert_eq!(float("round", json!([7])), 7.0);
        err(
            "round",
            json!([[1]]),
            "invalid argument for round (type []interface {})",
        );
    }

    #[test]
    fn max_and_min() {
        ok("max", json!([1, 5, 3]), "5");
        ok("max", json!([[1, 5, 3]]), "5");
        ok("max", json!([1, [2, [7, 3]], 4]), "7");
        ok("max", json!([1, 2.5]), "2.5");
        ok("min", json!([1, 2.5, -1]), "-1");
        ok("min", json!([[3, [0.5]], 2]), "0.5");
        ok("max", json!([]), "null");
        ok("max", json!([[]]), "null");
        ok("max", json!(["a"]), "\"a\"");
        ok("min", json!([null]), "null");
        ok("min", json!([{"k": true}]), "{\"k\":true}");
        assert!(matches!(
            call("max", json!([2, 2.0])).unwrap(),
            Value::Int(2)
        ));
        assert!(matches!(
            call("min", json!([2.0, 2])).unwrap(),
            Value::Float(_)
        ));
        assert!(matches!(
            call("max", json!([9007199254740993i64, 9007199254740992.0])).unwrap(),
            Value::Int(_)
        ));
        err(
            "max",
            json!([1, "a"]),
            "invalid argument for max (type string)",
        );
        err(
            "min",
            json!([[1, null]]),
            "invalid argument for min (type <nil>)",
        );
    }

    #[test]
    fn mean_and_median() {
        assert_eq!(float("mean", json!([[1, 2, 3, 4]])), 2.5);
        assert_eq!(float("mean", json!([1, [2, 6]])), 3.0);
        assert_eq!(float("mean", json!([[]])), 0.0);
        assert_eq!(float("mean", json!([])), 0.0);
        assert_eq!(float("median", json!([[3, 1, 2]])), 2.0);
        assert_eq!(float("median", json!([[4, 1, 3, 2]])), 2.5);
        assert_eq!(float("median", json!([[]])), 0.0);
        assert_eq!(float("median", json!([5])), 5.0);
        err(
            "mean",
            json!([["1"]]),
            "invalid argument for mean (type string)",
        );
        err(
            "median",
            json!([true]),
            "invalid argument for median (type bool)",
        );
    }

    #[test]
    fn bitwise() {
        ok("bitand", json!([12, 10]), "8");
        ok("bitor", json!([12, 10]), "14");
        ok("bitxor", json!([12, 10]), "6");
        ok("bitnand", json!([12, 10]), "4");
        ok("bitnot", json!([5]), "-6");
        ok("bitnot", json!([-1]), "0");
        ok("bitshl", json!([1, 3]), "8");
        ok("bitshl", json!([1, 63]), &i64::MIN.to_string());
        ok("bitshl", json!([1, 64]), "0");
        ok("bitshr", json!([-16, 2]), "-4");
        ok("bitshr", json!([-16, 100]), "-1");
        ok("bitshr", json!([16, 100]), "0");
        ok("bitushr", json!([-5, 2]), "4611686018427387902");
        ok("bitushr", json!([-5, 64]), "0");
        let code = err(
            "bitshl",
            json!([1, -1]),
            "invalid operation: negative shift count -1 (type int)",
        );
        assert_eq!(code, "scimap::invalid-argument");
        err(
            "bitand",
            json!([1.5, 1]),
            "invalid argument for bitand: expected int, got float",
        );
    }

    #[test]
    fn number_order_is_exact_and_total() {
        let big = Value::Int(9_007_199_254_740_993);
        let f = Value::Float(9_007_199_254_740_992.0);
        assert_eq!(cmp_numbers(&big, &f), Some(Ordering::Greater));
        assert_eq!(
            cmp_numbers(&Value::Int(i64::MAX), &Value::Float(9.3e18)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_numbers(&Value::Int(-1), &Value::Float(-0.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_numbers(&Value::Int(0), &Value::Float(-0.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            cmp_numbers(&Value::Float(f64::NAN), &Value::Int(1)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_numbers(&Value::Float(f64::NAN), &Value::Float(f64::NAN)),
            Some(Ordering::Equal)
        );
        assert_eq!(cmp_numbers(&Value::Int(1), &Value::Nil), None);
    }
}
