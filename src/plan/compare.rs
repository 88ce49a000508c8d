//! Values compared as RFC 7643 §2.1–2.4 defines: each value reduced to a canonical form by its
//! attribute's type and `caseExact`, so that equal values have equal forms.

use crate::schema::{ScimAttribute, ScimType};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

/// Whether a value counts as unassigned (RFC 7644 §3.5.2: null and empty arrays are).
pub fn absent(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => true,
        Some(Json::Array(a)) => a.is_empty(),
        Some(Json::Object(o)) => o.values().all(|v| absent(Some(v))),
        _ => false,
    }
}

/// Whether two values of `attr` are equal.
pub fn equal(a: Option<&Json>, b: Option<&Json>, attr: &ScimAttribute) -> bool {
    canon(a, attr, attr.multi_valued) == canon(b, attr, attr.multi_valued)
}

/// The canonical form: strings folded to lower case unless `caseExact`, booleans read from
/// `"True"`/`"false"` too (apps send them), numbers as floats, date-times as UTC instants,
/// complex values with lower-cased sub-attribute names and `primary: false` dropped, and
/// multi-valued attributes as sorted lists. A value of the wrong shape becomes a marker,
/// without looking inside it, so that hostile nesting costs nothing.
pub fn canon(v: Option<&Json>, attr: &ScimAttribute, multi: bool) -> Json {
    if absent(v) {
        return Json::Null;
    }
    let Some(v) = v else { return Json::Null };
    if multi {
        let Json::Array(items) = v else {
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
        (ScimType::Complex, Json::Object(map)) => {
            let mut subs: Vec<(String, Json)> = Vec::new();
            for (name, value) in map {
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
        (ScimType::String | ScimType::Reference | ScimType::Binary, Json::String(s)) => {
            Json::String(if attr.case_exact {
                s.clone()
            } else {
                s.to_lowercase()
            })
        }
        (ScimType::Boolean, Json::Bool(b)) => Json::Bool(*b),
        (ScimType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("true") => Json::Bool(true),
        (ScimType::Boolean, Json::String(s)) if s.eq_ignore_ascii_case("false") => {
            Json::Bool(false)
        }
        (ScimType::Integer | ScimType::Decimal, Json::Number(n)) => match n.as_f64() {
            // -0 and 0 are one number.
            Some(f) => Json::from(f + 0.0),
            None => invalid(),
        },
        (ScimType::DateTime, Json::String(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Json::String(
                t.with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            Err(_) => Json::String(s.clone()),
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
        let eq = |a: Json, b: Json, name: &str| equal(Some(&a), Some(&b), attr(name));
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
        let at = |s: &str| canon(Some(&json!(s)), created, false);
        assert_eq!(
            at("2026-01-02T03:04:05Z"),
            at("2026-01-02T05:04:05.000+02:00")
        );
        assert_ne!(at("2026-01-02T03:04:05Z"), at("2026-01-02T03:04:06Z"));
        let decimal = ScimAttribute {
            ty: ScimType::Decimal,
            ..attr("userName").clone()
        };
        assert!(equal(Some(&json!(1)), Some(&json!(1.0)), &decimal));
        assert!(equal(Some(&json!(-0.0)), Some(&json!(0)), &decimal));
        assert!(absent(Some(&json!([]))) && absent(Some(&json!({"a": null}))) && absent(None));
        assert!(equal(None, Some(&json!(null)), attr("userName")));
    }
}
