//! Values compared as RFC 7643 §2.1–2.4 defines: each value reduced to a canonical form by its
//! attribute's type and `caseExact`, so that equal values have equal forms.

use crate::record::Doc;
use crate::schema::{ScimAttribute, ScimType};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

/// Whether a value counts as unassigned (RFC 7644 §3.5.2: null and empty arrays are).
pub fn absent(v: Option<&Doc<'_>>) -> bool {
    match v {
        None | Some(Doc::Null) => true,
        Some(Doc::Array(a)) => a.is_empty(),
        Some(Doc::Object(o)) => o.iter().all(|(_, v)| absent(Some(v))),
        _ => false,
    }
}

/// Whether two values of `attr` are equal.
pub fn equal(a: Option<&Doc<'_>>, b: Option<&Doc<'_>>, attr: &ScimAttribute) -> bool {
    match quick(a, b, attr) {
        Some(same) => same,
        None => canon(a, attr, attr.multi_valued) == canon(b, attr, attr.multi_valued),
    }
}

/// Whether two values of a multi-valued complex `attr` are equal on the sub-attributes
/// `subs` only: elements compared as if they held nothing else.
pub fn equal_on(
    a: Option<&Doc<'_>>,
    b: Option<&Doc<'_>>,
    attr: &ScimAttribute,
    subs: &[String],
) -> bool {
    project(a, attr, subs) == project(b, attr, subs)
}

fn project(v: Option<&Doc<'_>>, attr: &ScimAttribute, subs: &[String]) -> Json {
    if absent(v) {
        return Json::Null;
    }
    let Some(Doc::Array(items)) = v else {
        return invalid();
    };
    let mut forms: Vec<Json> = items
        .iter()
        .map(|item| match item {
            Doc::Object(e) => {
                let kept: Vec<(std::borrow::Cow<'_, str>, Doc<'_>)> = e
                    .iter()
                    .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
                    .map(|(k, v)| (k.into(), v.clone()))
                    .collect();
                canon(
                    Some(&Doc::Object(crate::record::Obj::new(kept))),
                    attr,
                    false,
                )
            }
            other => canon(Some(other), attr, false),
        })
        .filter(|f| !f.is_null() && f.as_object().is_none_or(|o| !o.is_empty()))
        .collect();
    forms.sort_by_cached_key(Json::to_string);
    Json::Array(forms)
}

/// Equality of the common scalars without building canonical forms; `None` for the rest.
fn quick(a: Option<&Doc<'_>>, b: Option<&Doc<'_>>, attr: &ScimAttribute) -> Option<bool> {
    if attr.multi_valued {
        return None;
    }
    match (attr.ty, a?, b?) {
        (ty, Doc::Str(x), Doc::Str(y)) if ty.takes_string() => {
            if attr.case_exact {
                Some(x == y)
            } else if x.is_ascii() && y.is_ascii() {
                Some(x.eq_ignore_ascii_case(y))
            } else {
                None
            }
        }
        (ScimType::Boolean, Doc::Bool(x), Doc::Bool(y)) => Some(x == y),
        _ => None,
    }
}

/// The canonical form: strings folded to lower case unless `caseExact`, booleans read from
/// `"True"`/`"false"` too (apps send them), numbers as floats, date-times as UTC instants,
/// complex values with lower-cased sub-attribute names and `primary: false` dropped, and
/// multi-valued attributes as sorted lists. A value of the wrong shape becomes a marker,
/// without looking inside it, so that hostile nesting costs nothing.
pub fn canon(v: Option<&Doc<'_>>, attr: &ScimAttribute, multi: bool) -> Json {
    if absent(v) {
        return Json::Null;
    }
    let Some(v) = v else { return Json::Null };
    if multi {
        let Doc::Array(items) = v else {
            return invalid();
        };
        let mut forms: Vec<Json> = items
            .iter()
            .map(|i| canon(Some(i), attr, false))
            .filter(|f| !f.is_null())
            .collect();
        forms.sort_by_cached_key(Json::to_string);
        return Json::Array(forms);
    }
    match (attr.ty, v) {
        (ScimType::Complex, Doc::Object(map)) => {
            let mut subs: Vec<(String, Json)> = Vec::new();
            for (name, value) in map.iter() {
                let form = match attr.sub(name) {
                    Some(sub) => canon(Some(value), sub, sub.multi_valued),
                    None => invalid(),
                };
                let unset = form.is_null()
                    || (name.eq_ignore_ascii_case("primary") && form == Json::Bool(false));
                if !unset {
                    subs.push((name.to_ascii_lowercase(), form));
                }
            }
            subs.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(subs.into_iter().collect::<Map<_, _>>())
        }
        (ty, Doc::Str(s)) if ty.takes_string() => Json::String(if attr.case_exact {
            s.to_string()
        } else {
            s.to_lowercase()
        }),
        (ScimType::Boolean, Doc::Bool(b)) => Json::Bool(*b),
        (ScimType::Boolean, Doc::Str(s)) if s.eq_ignore_ascii_case("true") => Json::Bool(true),
        (ScimType::Boolean, Doc::Str(s)) if s.eq_ignore_ascii_case("false") => Json::Bool(false),
        // -0 and 0 are one number.
        (ScimType::Integer | ScimType::Decimal, Doc::Int(i)) => Json::from(*i as f64 + 0.0),
        (ScimType::Integer | ScimType::Decimal, Doc::Uint(u)) => Json::from(*u as f64 + 0.0),
        (ScimType::Integer | ScimType::Decimal, Doc::Float(f)) => Json::from(f + 0.0),
        (ScimType::DateTime, Doc::Str(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Json::String(
                t.with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            Err(_) => Json::String(s.to_string()),
        },
        _ => invalid(),
    }
}

fn invalid() -> Json {
    Json::String("\u{0}invalid".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;
    use serde_json::json;

    fn attr(name: &str) -> &'static ScimAttribute {
        schema::core_user().attribute(name).unwrap()
    }

    #[test]
    fn rfc_7643_equality() {
        let eq = |a: Json, b: Json, name: &str| {
            equal(
                Some(&Doc::from_json(&a)),
                Some(&Doc::from_json(&b)),
                attr(name),
            )
        };
        assert!(eq(json!("Ada"), json!("ada"), "userName"));
        assert!(!eq(json!("Ada"), json!("ada"), "id"), "id is caseExact");
        assert!(eq(json!(true), json!("True"), "active"));
        assert!(!eq(json!(true), json!("False"), "active"));
        assert!(eq(
            json!({"givenName": "A", "familyName": "B"}),
            json!({"FAMILYNAME": "b", "givenname": "a", "middleName": null}),
            "name"
        ));
        assert!(eq(
            json!([{"value": "a@x", "type": "work", "primary": true}, {"value": "b@x"}]),
            json!([{"value": "B@x", "primary": false}, {"type": "Work", "value": "A@x", "primary": true}]),
            "emails"
        ));
        assert!(!eq(
            json!([{"value": "a@x", "primary": true}]),
            json!([{"value": "a@x"}]),
            "emails"
        ));
        assert!(!eq(json!("a"), json!({"deep": [[[]]]}), "userName"));
        let meta = attr("meta");
        let created = meta.sub("created").unwrap();
        let at = |s: &str| canon(Some(&Doc::Str(s.into())), created, false);
        assert_eq!(
            at("2026-01-02T03:04:05Z"),
            at("2026-01-02T05:04:05.000+02:00")
        );
        assert_ne!(at("2026-01-02T03:04:05Z"), at("2026-01-02T03:04:06Z"));
        let decimal = ScimAttribute {
            ty: ScimType::Decimal,
            ..attr("userName").clone()
        };
        let doc = |j: &Json| Doc::from_json(j).into_static();
        let (one, one_f) = (doc(&json!(1)), doc(&json!(1.0)));
        assert!(equal(Some(&one), Some(&one_f), &decimal));
        assert!(equal(Some(&Doc::Float(-0.0)), Some(&Doc::Int(0)), &decimal));
        assert!(absent(Some(&doc(&json!([])))) && absent(Some(&doc(&json!({"a": null})))));
        assert!(absent(None) && equal(None, Some(&Doc::Null), attr("userName")));
    }
}
