//! Array and map builtins without a predicate (reference §functions-lists), and `type`.

use super::numbers::cmp_numbers;
use super::{arg, bad_arg, go_type, int_arg, list_arg, step_bytes, Budget};
use crate::runtime::budget::compare_cost;
use crate::runtime::error::{excerpt, EvalError, EvalResult};
use crate::runtime::value::{List, Value};
use indexmap::IndexMap;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

type R<'a> = EvalResult<Value<'a>>;

/// Characters of a string, items of a list, entries of a map.
pub(super) fn len<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let n = match arg(args, 0) {
        Value::Str(s) => {
            step_bytes(budget, s.len())?;
            s.chars().count()
        }
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        other => {
            return Err(EvalError::type_error(format!(
                "invalid argument for len (type {})",
                go_type(&other)
            )))
        }
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// The list argument of `first`/`last`; `None` for any other value but a string, of which
/// Expr gives nil too (it fetches index 0 and turns the failure into nil). Of a string Expr
/// gives a byte, which scimap has not (reference §expr-diff-unicode).
fn maybe_list<'a>(name: &str, args: &[Value<'a>]) -> EvalResult<Option<List<'a>>> {
    match arg(args, 0) {
        Value::List(l) => Ok(Some(l)),
        s @ Value::Str(_) => Err(bad_arg(name, "array", &s)),
        _ => Ok(None),
    }
}

pub(super) fn first<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    Ok(maybe_list("first", args)?
        .and_then(|l| l.get(0))
        .unwrap_or(Value::Nil))
}

pub(super) fn last<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    Ok(maybe_list("last", args)?
        .and_then(|l| l.len().checked_sub(1).and_then(|i| l.get(i)))
        .unwrap_or(Value::Nil))
}

/// Safe lookup: a list by int index (negative counts from the end; a float is truncated, as
/// Expr's `ToInt` does), a map by string key; nil for anything missing or mismatched.
pub(super) fn get<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    let found = match (arg(args, 0), arg(args, 1)) {
        (Value::List(l), key) => {
            let index = match key {
                Value::Int(i) => Some(i),
                Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f.trunc() as i64),
                _ => None,
            };
            index.and_then(|i| {
                let len = i64::try_from(l.len()).ok()?;
                let i = if i < 0 { i.checked_add(len)? } else { i };
                l.get(usize::try_from(i).ok()?)
            })
        }
        (Value::Map(m), Value::Str(k)) => m.get(&k),
        _ => None,
    };
    Ok(found.unwrap_or(Value::Nil))
}

pub(super) fn take<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let list = list_arg("take", args, 0)?;
    let n = int_arg("take", args, 1)?;
    let Ok(n) = usize::try_from(n) else {
        return Err(EvalError::invalid(format!(
            "invalid argument for take: cannot take {n} elements"
        )));
    };
    let n = n.min(list.len());
    budget.step(n as u64)?;
    Value::list(list.iter().take(n).collect(), budget)
}

/// A map's entries sorted by key, byte order (a deliberate difference: Go's order is random).
fn sorted_entries<'a>(
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
) -> EvalResult<Vec<(String, Value<'a>)>> {
    match arg(args, 0) {
        Value::Map(m) => m.entries(true, budget),
        other => Err(bad_arg(name, "map", &other)),
    }
}

pub(super) fn keys<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let entries = sorted_entries("keys", args, budget)?;
    let keys = entries
        .into_iter()
        .map(|(k, _)| Value::string(k, budget))
        .collect::<EvalResult<_>>()?;
    Value::list(keys, budget)
}

pub(super) fn values<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let entries = sorted_entries("values", args, budget)?;
    Value::list(entries.into_iter().map(|(_, v)| v).collect(), budget)
}

pub(super) fn to_pairs<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let entries = sorted_entries("toPairs", args, budget)?;
    let pairs = entries
        .into_iter()
        .map(|(k, v)| Value::list(vec![Value::string(k, budget)?, v], budget))
        .collect::<EvalResult<_>>()?;
    Value::list(pairs, budget)
}

/// `[[k, v], …]` to a map; a later pair replaces an earlier one. Keys must be strings (scimap's
/// maps are string-keyed; Expr builds a `map[any]any`).
pub(super) fn from_pairs<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let list = list_arg("fromPairs", args, 0)?;
    budget.step(list.len() as u64)?;
    let mut map = IndexMap::with_capacity(list.len());
    for pair in list.iter() {
        let Value::List(pair) = pair else {
            return Err(bad_arg("fromPairs", "array of [key, value] pairs", &pair));
        };
        if pair.len() != 2 {
            return Err(EvalError::invalid(format!(
                "invalid pair length {} in fromPairs (expected 2)",
                pair.len()
            )));
        }
        // Expr builds a `map[any]any`; keys become text as `groupBy`'s do (`1` → `"1"`).
        let key = match pair.get(0).unwrap_or(Value::Nil) {
            Value::Str(k) => {
                step_bytes(budget, k.len())?;
                k.to_string()
            }
            other => crate::runtime::format::go_string(&other, budget)?,
        };
        map.insert(key, pair.get(1).unwrap_or(Value::Nil));
    }
    Value::map(map, budget)
}

pub(super) fn reverse<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let list = list_arg("reverse", args, 0)?;
    budget.step(list.len() as u64)?;
    let mut items: Vec<_> = list.iter().collect();
    items.reverse();
    Value::list(items, budget)
}

pub(super) fn concat<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let mut total = 0usize;
    for i in 0..args.len() {
        total = total.saturating_add(list_arg("concat", args, i)?.len());
    }
    budget.fits_list(total)?;
    budget.step(total as u64)?;
    let mut items = Vec::with_capacity(total);
    for a in args {
        if let Value::List(l) = a {
            items.extend(l.iter());
        }
    }
    Value::list(items, budget)
}

/// What `uniq` hashes: scalars by value (numbers by their f64 value, so that `1` and `1.0`
/// meet, strings by a hash of their text); lists, maps, times and the rest share one bucket.
/// Values in one bucket are compared with `==`.
#[derive(PartialEq, Eq, Hash)]
enum UniqKey {
    Nil,
    Bool(bool),
    Number(u64),
    Str(u64),
    Other,
}

fn uniq_key(v: &Value, budget: &mut Budget) -> EvalResult<UniqKey> {
    Ok(match v {
        Value::Nil => UniqKey::Nil,
        Value::Bool(b) => UniqKey::Bool(*b),
        // -0.0 + 0.0 is +0.0, so both zeros share a bucket; `equals` decides inside it.
        Value::Int(_) | Value::Float(_) => {
            UniqKey::Number((v.as_f64().unwrap_or(0.0) + 0.0).to_bits())
        }
        Value::Str(s) => {
            step_bytes(budget, s.len())?;
            let mut h = std::hash::DefaultHasher::new();
            s.hash(&mut h);
            UniqKey::Str(h.finish())
        }
        _ => UniqKey::Other,
    })
}

/// Keeps the first of equal elements (`==`, numbers across int and float).
pub(super) fn uniq<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let list = list_arg("uniq", args, 0)?;
    budget.step(list.len() as u64)?;
    budget.alloc(list.len().saturating_mul(48))?;
    let mut kept: Vec<Value<'a>> = Vec::new();
    let mut buckets: HashMap<UniqKey, Vec<usize>> = HashMap::new();
    for item in list.iter() {
        let bucket = buckets.entry(uniq_key(&item, budget)?).or_default();
        let mut seen = false;
        for &i in bucket.iter() {
            if kept[i].equals(&item, budget)? {
                seen = true;
                break;
            }
        }
        if !seen {
            bucket.push(kept.len());
            kept.push(item);
        }
    }
    Value::list(kept, budget)
}

/// Flattens nested lists at any depth, iteratively; maps and scalars stay as they are.
pub(super) fn flatten<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let list = list_arg("flatten", args, 0)?;
    let mut out = Vec::new();
    let mut stack: Vec<(List<'a>, usize)> = vec![(list, 0)];
    while let Some((list, i)) = stack.last_mut() {
        let Some(item) = list.get(*i) else {
            stack.pop();
            continue;
        };
        *i += 1;
        budget.step(1)?;
        match item {
            Value::List(inner) => stack.push((inner, 0)),
            v => {
                out.push(v);
                budget.fits_list(out.len())?;
            }
        }
    }
    Value::list(out, budget)
}

/// The order `sort` uses: numbers (exactly, across int and float), strings by bytes, times,
/// durations. Anything else, or two different kinds, has none.
fn cmp_sortable(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Time(x), Value::Time(y)) => Some(x.instant.cmp(&y.instant)),
        (Value::Duration(x), Value::Duration(y)) => Some(x.cmp(y)),
        _ => cmp_numbers(a, b),
    }
}

/// Sorts numbers or strings, stably (a deliberate difference: Go's sort is not stable). Of a
/// value that is not a list Expr sorts nothing and gives an empty list; so does scimap.
pub(super) fn sort<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let desc = match args.get(1) {
        None => false,
        Some(Value::Str(s)) if &**s == "asc" => false,
        Some(Value::Str(s)) if &**s == "desc" => true,
        Some(Value::Str(s)) => {
            return Err(EvalError::invalid(format!(
                "invalid order {}, expected asc or desc",
                excerpt(s)
            )))
        }
        Some(other) => return Err(bad_arg("sort", "\"asc\" or \"desc\"", other)),
    };
    let Value::List(list) = arg(args, 0) else {
        return Value::list(Vec::new(), budget);
    };
    budget.step(list.len() as u64)?;
    let mut items: Vec<_> = list.iter().collect();
    // Every item must be comparable with the first, which makes the comparison total below.
    if let Some((head, rest)) = items.split_first() {
        if let Some(bad) = rest.iter().find(|v| cmp_sortable(v, head).is_none()) {
            return Err(EvalError::type_error(format!(
                "invalid operation: {} < {}",
                go_type(bad),
                go_type(head)
            )));
        }
    }
    budget.sort_by(&mut items, |a, b| {
        let o = cmp_sortable(a, b).unwrap_or(Ordering::Equal);
        let cost = match (a, b) {
            (Value::Str(x), Value::Str(y)) => compare_cost(x, y),
            _ => 1,
        };
        Ok((if desc { o.reverse() } else { o }, cost))
    })?;
    Value::list(items, budget)
}

/// Expr's `type(v)`: `nil bool int float string array map`, `time.Time`, `time.Duration`; a
/// zone is `time.Location`: Expr v1.17.8 dereferences the `*time.Location` before naming it.
pub(super) fn type_of<'a>(args: &[Value<'a>], _: &mut Budget) -> R<'a> {
    let name = match arg(args, 0) {
        Value::Location(_) => "time.Location",
        v => v.type_name(),
    };
    Ok(Value::Str(crate::runtime::value::Str::Borrowed(name)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{call, err, json, ok};
    use super::*;
    use crate::runtime::value::unlimited;
    use serde_json::json;

    #[test]
    fn len_counts_characters() {
        ok("len", json!(["héllo"]), "5");
        ok("len", json!([""]), "0");
        ok("len", json!([[1, 2, 3]]), "3");
        ok("len", json!([{"a": 1, "b": 2}]), "2");
        err(
            "len",
            json!([null]),
            "invalid argument for len (type <nil>)",
        );
        err("len", json!([5]), "invalid argument for len (type int)");
    }

    #[test]
    fn first_last_get_take() {
        ok("first", json!([[1, 2, 3]]), "1");
        ok("last", json!([[1, 2, 3]]), "3");
        ok("first", json!([[]]), "null");
        ok("last", json!([[]]), "null");
        ok("first", json!([null]), "null");
        ok("first", json!([{"a": 1}]), "null");
        ok("last", json!([true]), "null");
        err("first", json!(["abc"]), "expected array, got string");
        ok("get", json!([[1, 2, 3], 1]), "2");
        ok("get", json!([[1, 2, 3], -1]), "3");
        ok("get", json!([[1, 2, 3], -3]), "1");
        ok("get", json!([[1, 2, 3], -4]), "null");
        ok("get", json!([[1, 2, 3], 3]), "null");
        ok("get", json!([[1, 2, 3], 1.7]), "2");
        ok("get", json!([[1, 2, 3], i64::MIN]), "null");
        ok("get", json!([[1, 2, 3], "1"]), "null");
        ok("get", json!([{"a": 1}, "a"]), "1");
        ok("get", json!([{"a": 1}, "b"]), "null");
        ok("get", json!([{"a": 1}, 0]), "null");
        ok("get", json!([null, "a"]), "null");
        ok("get", json!(["abc", 0]), "null");
        ok("take", json!([[1, 2, 3], 2]), "[1,2]");
        ok("take", json!([[1, 2, 3], 5]), "[1,2,3]");
        ok("take", json!([[1, 2, 3], 0]), "[]");
        err("take", json!([[1, 2, 3], -1]), "cannot take -1 elements");
        err("take", json!([{"a": 1}, 1]), "expected array, got map");
    }

    #[test]
    fn map_views_are_sorted() {
        let m = json!({"b": 2, "a": 1, "C": 3});
        ok("keys", json!([m]), r#"["C","a","b"]"#);
        ok("values", json!([m]), "[3,1,2]");
        ok("toPairs", json!([m]), r#"[["C",3],["a",1],["b",2]]"#);
        ok("keys", json!([{}]), "[]");
        err(
            "keys",
            json!([[1]]),
            "invalid argument for keys: expected map, got array",
        );
        ok(
            "fromPairs",
            json!([[["a", 1], ["b", 2], ["a", 3]]]),
            r#"{"a":3,"b":2}"#,
        );
        ok("fromPairs", json!([[]]), "{}");
        err("fromPairs", json!([[["a"]]]), "invalid pair length 1");
        ok(
            "fromPairs",
            json!([[[1, 2], [true, 3], [null, 4]]]),
            r#"{"1":2,"true":3,"<nil>":4}"#,
        );
        err("fromPairs", json!([["ab"]]), "got string");
    }

    #[test]
    fn reverse_concat_uniq_flatten() {
        ok("reverse", json!([[1, 2, 3]]), "[3,2,1]");
        ok("reverse", json!([[]]), "[]");
        ok("concat", json!([[1, 2], [3], []]), "[1,2,3]");
        ok("concat", json!([[1]]), "[1]");
        err(
            "concat",
            json!([[1], 2]),
            "invalid argument for concat: expected array, got int",
        );
        ok(
            "uniq",
            json!([[1, 1.0, 2, "a", "a", null, null, [1], [1.0], {"a": 1}, {"a": 1}]]),
            r#"[1,2,"a",null,[1],{"a":1}]"#,
        );
        ok("uniq", json!([[2, 1, 2, 3, 1]]), "[2,1,3]");
        ok("uniq", json!([[0.0, -0.0, 0]]), "[0]");
        ok(
            "flatten",
            json!([[1, [2, [3, [4]]], [], {"a": [5]}]]),
            r#"[1,2,3,4,{"a":[5]}]"#,
        );
        err("flatten", json!(["x"]), "expected array, got string");
    }

    #[test]
    fn sort_is_stable_and_typed() {
        ok("sort", json!([[3, 1, 2]]), "[1,2,3]");
        ok("sort", json!([[3, 1.5, 2]]), "[1.5,2,3]");
        ok("sort", json!([[3, 1, 2], "desc"]), "[3,2,1]");
        ok("sort", json!([["b", "C", "a"]]), r#"["C","a","b"]"#);
        ok("sort", json!([["b", "C", "a"], "asc"]), r#"["C","a","b"]"#);
        ok("sort", json!([[]]), "[]");
        ok("sort", json!([null]), "[]");
        ok("sort", json!(["cba"]), "[]");
        err("sort", json!([7, "up"]), "invalid order up");
        ok("sort", json!([[true]]), "[true]");
        // Stable: 1 and 1.0 keep their order either way.
        assert_eq!(
            json(&call("sort", json!([[1.0, 0, 1]])).unwrap()),
            "[0,1,1]"
        );
        let Value::List(l) = call("sort", json!([[1.0, 0, 1], "desc"])).unwrap() else {
            panic!()
        };
        assert!(matches!(
            (l.get(0), l.get(1)),
            (Some(Value::Float(_)), Some(Value::Int(1)))
        ));
        err("sort", json!([[1, "a"]]), "invalid operation: string < int");
        err(
            "sort",
            json!([[1.5, "a"]]),
            "invalid operation: string < float64",
        );
        err(
            "sort",
            json!([[true, false]]),
            "invalid operation: bool < bool",
        );
        err(
            "sort",
            json!([[1, 2], "up"]),
            "invalid order up, expected asc or desc",
        );
    }

    #[test]
    fn limits_are_checked_before_building() {
        use super::super::test_util::{call_with, lit};
        use crate::limits::Limits;
        let mut budget = Budget::new(&Limits {
            list_items: 4,
            ..Limits::DEFAULT
        });
        let three = lit(json!([1, 2, 3]));
        let e = call_with("concat", &[three.clone(), three.clone()], &mut budget).unwrap_err();
        assert_eq!(e.code, "scimap::limit");
        let nested = lit(json!([[1, 2], [3, [4, 5]]]));
        assert_eq!(
            call_with("flatten", &[nested], &mut budget)
                .unwrap_err()
                .code,
            "scimap::limit"
        );
        let csv = lit(json!("a,b,c,d,e"));
        let e = call_with("split", &[csv, lit(json!(","))], &mut budget).unwrap_err();
        assert_eq!(e.code, "scimap::limit");
        let mut budget = Budget::new(&Limits {
            steps: 10,
            ..Limits::DEFAULT
        });
        let long = unlimited::list((0..100).map(Value::Int).collect());
        assert_eq!(
            call_with("uniq", &[long], &mut budget).unwrap_err().code,
            "scimap::limit"
        );
    }

    #[test]
    fn type_names() {
        for (v, want) in [
            (json!(null), "nil"),
            (json!(true), "bool"),
            (json!(1), "int"),
            (json!(1.5), "float"),
            (json!("s"), "string"),
            (json!([1]), "array"),
            (json!({}), "map"),
        ] {
            ok("type", json!([v]), &format!("\"{want}\""));
        }
        assert_eq!(call("type", json!([1])).unwrap().as_str(), Some("int"));
    }
}
