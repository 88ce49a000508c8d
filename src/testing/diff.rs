//! What differs between an expected and an actual JSON value, as JSON pointers.

use serde_json::Value as Json;

/// The most differences reported for one comparison: a snapshot of the wrong shape differs
/// everywhere, and the first ones say what is wrong.
pub const MAX_DIFFERENCES: usize = 50;

/// One place where two values differ; `None` on a side: nothing there.
pub type Difference = (String, Option<Json>, Option<Json>);

/// Pushes the differences between `expected` and `actual` under `path` to `out`, at most
/// [`MAX_DIFFERENCES`] in all. Objects are compared key by key and arrays item by item;
/// numbers by value (`1` and `1.0` are the same number).
pub fn diff(path: &str, expected: &Json, actual: &Json, out: &mut Vec<Difference>) {
    // An explicit stack: a snapshot's nesting is bounded, but recursion need not be trusted.
    let mut stack = vec![(path.to_string(), expected, actual)];
    while let Some((path, e, a)) = stack.pop() {
        if out.len() >= MAX_DIFFERENCES {
            return;
        }
        match (e, a) {
            (Json::Object(eo), Json::Object(ao)) => {
                let mut later = Vec::new();
                for (k, ev) in eo {
                    let p = format!("{path}/{}", escape(k));
                    match ao.get(k) {
                        Some(av) => later.push((p, ev, av)),
                        None => out.push((p, Some(ev.clone()), None)),
                    }
                }
                for (k, av) in ao {
                    if !eo.contains_key(k) {
                        out.push((format!("{path}/{}", escape(k)), None, Some(av.clone())));
                    }
                }
                stack.extend(later.into_iter().rev());
            }
            (Json::Array(ea), Json::Array(aa)) => {
                let mut later = Vec::new();
                for i in 0..ea.len().max(aa.len()) {
                    let p = format!("{path}/{i}");
                    match (ea.get(i), aa.get(i)) {
                        (Some(ev), Some(av)) => later.push((p, ev, av)),
                        (ev, av) => out.push((p, ev.cloned(), av.cloned())),
                    }
                }
                stack.extend(later.into_iter().rev());
            }
            _ if same(e, a) => {}
            _ => out.push((path, Some(e.clone()), Some(a.clone()))),
        }
    }
    out.truncate(MAX_DIFFERENCES);
}

/// Equal JSON, numbers compared by value.
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A key as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_pointers_with_both_sides() {
        let mut out = Vec::new();
        diff(
            "",
            &json!({"a": 1, "b": {"c": [1, 2]}, "d/e": true}),
            &json!({"a": 1.0, "b": {"c": [1, 3, 4]}, "x": "y"}),
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                ("/d~1e".into(), Some(json!(true)), None),
                ("/x".into(), None, Some(json!("y"))),
                ("/b/c/2".into(), None, Some(json!(4))),
                ("/b/c/1".into(), Some(json!(2)), Some(json!(3))),
            ]
        );
    }
}
