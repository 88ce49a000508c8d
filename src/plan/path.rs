//! Attribute paths: the mapping's targets as plans read them, and the PATCH paths plans write
//! (RFC 7644 §3.5.2: `[URN ":"] attr [ "[" filter "]" ] [ "." sub ]`).

use serde_json::Value as Json;
use std::fmt::Write;

/// Which elements of a multi-valued attribute a target or an operation addresses.
#[derive(Clone, Debug, PartialEq)]
pub enum Select {
    /// The attribute itself (`emails`, `name.givenName`, and the unfiltered `emails.value`
    /// and element-wise `emails[].value`, which plans treat as the whole attribute).
    All,
    /// `emails[type eq "work" and primary eq true]`: sub-attribute, value.
    Filter(Vec<(String, Json)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// An extension's URN; `None` for the core schema.
    pub urn: Option<String>,
    pub attr: String,
    pub select: Select,
    pub sub: Option<String>,
}

impl Path {
    /// Reads a target as the mapping writes it; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Path> {
        let (urn, rest) = split_urn(text);
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (attr, mut rest) = rest.split_at(end);
        if !is_name(attr) {
            return None;
        }
        let mut select = Select::All;
        if let Some(after) = rest.strip_prefix('[') {
            let close = closing(after)?;
            select = if after[..close].trim().is_empty() {
                Select::All
            } else {
                Select::Filter(filter(&after[..close])?)
            };
            rest = &after[close + 1..];
        }
        let sub = match rest.strip_prefix('.') {
            Some(sub) if is_name(sub) => Some(sub.to_owned()),
            Some(_) => return None,
            None if rest.is_empty() => None,
            None => return None,
        };
        Some(Path {
            urn: urn.map(str::to_owned),
            attr: attr.to_owned(),
            select,
            sub,
        })
    }

    /// The RFC 7644 path: filter values written as JSON, so quotes and backslashes in them
    /// cannot end the string early.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(urn) = &self.urn {
            out.push_str(urn);
            out.push(':');
        }
        out.push_str(&self.attr);
        if let Select::Filter(pairs) = &self.select {
            out.push('[');
            for (i, (sub, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(" and ");
                }
                let _ = write!(out, "{sub} eq {value}");
            }
            out.push(']');
        }
        if let Some(sub) = &self.sub {
            out.push('.');
            out.push_str(sub);
        }
        out
    }
}

/// `urn:…:User:department` → the URN and `department`: the URN ends at the last colon before
/// any filter (URNs hold dots, as in `2.0`).
fn split_urn(text: &str) -> (Option<&str>, &str) {
    let starts = text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
    let head = &text[..text.find('[').unwrap_or(text.len())];
    match head.rfind(':') {
        Some(colon) if starts => (Some(&text[..colon]), &text[colon + 1..]),
        _ => (None, text),
    }
}

/// RFC 7643 §2.1 ATTRNAME (plus `$ref`).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The index of the `]` closing a filter, skipping quoted strings.
fn closing(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `sub eq VALUE and sub eq VALUE …`, VALUE a JSON literal.
fn filter(s: &str) -> Option<Vec<(String, Json)>> {
    let mut pairs = Vec::new();
    let mut rest = s.trim();
    loop {
        let (sub, after) = rest.split_once(char::is_whitespace)?;
        let after = after.trim_start();
        let after = after
            .get(..2)
            .filter(|op| op.eq_ignore_ascii_case("eq"))
            .map(|_| after[2..].trim_start())?;
        let mut values = serde_json::Deserializer::from_str(after).into_iter::<Json>();
        let value = values.next()?.ok()?;
        if !is_name(sub) || value.is_array() || value.is_object() {
            return None;
        }
        pairs.push((sub.to_owned(), value));
        rest = after[values.byte_offset()..].trim_start();
        if rest.is_empty() {
            return Some(pairs);
        }
        let and = rest.get(..3).filter(|a| a.eq_ignore_ascii_case("and"))?;
        rest = rest[and.len()..].trim_start();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse_and_render() {
        let cases = [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "emails[type eq \"home\" and primary eq true].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "emails[type eq \"a]\\\"b\"].value",
            "members",
        ];
        for text in cases {
            let path = Path::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(path.render(), text);
        }
        let path = Path::parse("addresses[].locality").unwrap();
        assert_eq!(
            (path.select, path.sub.as_deref()),
            (Select::All, Some("locality"))
        );
        let path = Path::parse("emails[type eq \"w\" and primary eq true]").unwrap();
        assert_eq!(
            path.select,
            Select::Filter(vec![
                ("type".into(), json!("w")),
                ("primary".into(), json!(true))
            ])
        );
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(
            Path::parse(&format!("{urn}:department"))
                .unwrap()
                .urn
                .unwrap(),
            urn
        );
    }

    #[test]
    fn malformed_targets_are_refused() {
        for text in [
            "",
            "1abc",
            "emails[type eq \"work\"",
            "emails[type \"work\"].value",
            "emails[type eq [1]].value",
            "emails[type eq \"a\" or type eq \"b\"]",
            "name.",
            "name.given.more",
            "emails[type eq \"a\"]x",
        ] {
            assert_eq!(Path::parse(text), None, "{text}");
        }
    }
}
