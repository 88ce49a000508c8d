//! Reading records: RFC 8259 JSON checked as a whole, but kept only as far as the mapping reads.
//!
//! Parsing a whole 1.6 KB user into a `serde_json::Value` costs more than evaluating a
//! 15-entry mapping on it, so fields the mapping never reads are validated and dropped
//! without being built.

use crate::limits::Limits;
use crate::mapping::RecordError;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use std::borrow::Cow;
use std::fmt;

/// Reads one record: valid UTF-8, nesting within `limits.depth`, valid JSON (lone surrogate
/// escapes and numbers beyond f64 rejected everywhere), an object. With `fields`, only those
/// top-level fields are kept; a duplicate key keeps its last value.
pub fn read(bytes: &[u8], limits: &Limits, fields: Option<&[String]>) -> Result<Json, RecordError> {
    // One pass of UTF-8 validation; parsing from a `&str` then spares serde_json a check per
    // string (and strings it skips are still checked for escapes).
    let text = std::str::from_utf8(bytes).map_err(|bad| {
        RecordError::whole(
            "scimap::invalid-utf8",
            format!(
                "the record is not valid UTF-8 (bad byte at offset {})",
                bad.valid_up_to()
            ),
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    // Depth is counted by the visitors below, against the configured limit.
    de.disable_recursion_limit();
    let top = Top {
        fields,
        depth: limits.depth,
    }
    .deserialize(&mut de)
    .and_then(|top| de.end().map(|()| top));
    match top {
        Ok(Ok(map)) => Ok(Json::Object(map)),
        Ok(Err(kind)) => Err(not_an_object(kind)),
        Err(e) if e.to_string().starts_with(TOO_DEEP) => Err(RecordError::whole(
            "scimap::limit",
            format!(
                "the record nests deeper than the limit `depth` ({})",
                limits.depth
            ),
        )),
        Err(e) => Err(RecordError::whole(
            "scimap::invalid-json",
            format!("the record is not valid JSON: {e}"),
        )),
    }
}

const TOO_DEEP: &str = "nesting deeper than the limit";

fn too_deep<E: de::Error>() -> E {
    E::custom(TOO_DEEP)
}

pub fn not_an_object(kind: &str) -> RecordError {
    RecordError::whole(
        "scimap::not-an-object",
        format!("the record is {kind}, not a JSON object"),
    )
}

/// The top level: an object (filtered), or what else it was.
struct Top<'f> {
    fields: Option<&'f [String]>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Result<Map<String, Json>, &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Result<Map<String, Json>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let inner = self.depth.checked_sub(1).ok_or_else(too_deep)?;
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let wanted = self.fields.is_none_or(|f| f.iter().any(|w| *w == key));
            if wanted {
                out.insert(key.into_owned(), map.next_value_seed(Build(inner))?);
            } else {
                map.next_value_seed(Skip(inner))?;
            }
        }
        Ok(Ok(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let inner = self.depth.checked_sub(1).ok_or_else(too_deep)?;
        while seq.next_element_seed(Skip(inner))?.is_some() {}
        Ok(Err("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A value read to the end and checked (strings decoded, numbers range-checked), then
/// dropped; the number is how many more levels of nesting are allowed.
#[derive(Clone, Copy)]
struct Skip(usize);

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Skip(self.0.checked_sub(1).ok_or_else(too_deep)?);
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = Skip(self.0.checked_sub(1).ok_or_else(too_deep)?);
        while map.next_key_seed(inner)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// A value kept: built as `serde_json::Value`, with the nesting allowance of `Skip`.
#[derive(Clone, Copy)]
struct Build(usize);

impl<'de> DeserializeSeed<'de> for Build {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Json, E> {
        Ok(Json::from(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Json, E> {
        Ok(Json::from(u))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let inner = Build(self.0.checked_sub(1).ok_or_else(too_deep)?);
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = Build(self.0.checked_sub(1).ok_or_else(too_deep)?);
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            out.insert(key.into_owned(), map.next_value_seed(inner)?);
        }
        Ok(Json::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_only_the_fields_asked_for() {
        let f = fields(&["a", "c"]);
        let v = read(
            br#"{"a":1,"b":{"x":[1,2]},"c":"z","a":3}"#,
            &Limits::default(),
            Some(&f),
        )
        .unwrap();
        assert_eq!(v.to_string(), r#"{"a":3,"c":"z"}"#);
    }

    #[test]
    fn skipped_fields_are_still_validated() {
        let f = fields(&["a"]);
        for bad in [
            r#"{"a":1,"b":"\uD800"}"#,
            r#"{"a":1,"b":[1e400]}"#,
            r#"{"a":1,"b":"\x"}"#,
            r#"{"a":1,"b":1}x"#,
            r#"{"a":1,"\uDC00":1}"#,
        ] {
            let e = read(bad.as_bytes(), &Limits::default(), Some(&f)).unwrap_err();
            assert_eq!(e.errors[0].code, "scimap::invalid-json", "{bad}");
        }
    }

    #[test]
    fn non_objects_and_deep_records_fail_as_a_whole() {
        let e = read(b"[1]", &Limits::default(), None).unwrap_err();
        assert_eq!(e.message(), "the record is an array, not a JSON object");
        let f = fields(&["b"]);
        for (text, fields) in [
            ("[", None),
            ("[", Some(f.as_slice())),
            ("{\"b\":", Some(f.as_slice())),
        ] {
            let deep = format!("{{\"a\":1,\"b\":{}1{}}}", text.repeat(200), "]".repeat(200));
            let e = read(deep.as_bytes(), &Limits::default(), fields).unwrap_err();
            assert_eq!(e.errors[0].code, "scimap::limit", "{text}");
        }
        let limits = Limits {
            depth: 2,
            ..Limits::default()
        };
        assert!(read(br#"{"a":[1],"b":"[[[["}"#, &limits, None).is_ok());
        assert!(read(br#"{"a":[[1]]}"#, &limits, None).is_err());
        let e = read(b"{\"a\":\"\xff\"}", &Limits::default(), None).unwrap_err();
        assert_eq!(e.errors[0].code, "scimap::invalid-utf8");
    }
}
