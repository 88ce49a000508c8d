//! Records made from the schema (reference §generate-records): a SplitMix64 stream per
//! record, the pools values are drawn from, biased to the mapping's constants, and the formats
//! JumpCloud keeps to in some string fields.

use crate::ir::{self, Op, Source};
use crate::mapping::Mapping;
use crate::types::{ObjectType, Type};
use serde_json::{json, Map, Value as Json};

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, and its output is fixed by its definition,
/// so a seed means the same records in every version and on every machine; a `rand` crate's
/// generators are free to change their streams between releases.
struct Rng(u64);

impl Rng {
    /// The stream of record `index` of run `seed`.
    fn new(seed: u64, index: usize) -> Rng {
        let mut r = Rng(seed);
        let base = r.next();
        Rng(base ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the bias of a modulus is negligible for these `n`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Plain values, as records hold them and mappings compare them.
const ASCII: &[&str] = &[
    "ada",
    "Ada Lovelace",
    "ada.lovelace@example.com",
    "ADA@EXAMPLE.COM",
    "O'Brien",
    "0042",
    "-1",
    "3.14",
    "true",
    "null",
    "2023-04-01",
    "2023-04-01T12:34:56.789Z",
    "04/01/2023",
    "work",
    "home",
    "mobile",
    "en-US",
    "America/New_York",
    " padded ",
    "   ",
    "a,b;c|d",
    "{\"json\": 1}",
];

/// Text that breaks naive string handling: combining marks, right-to-left scripts, the astral
/// plane, characters whose case mapping changes their length (ß, İ, ﬁ), invisible characters
/// and controls.
const UNICODE: &[&str] = &[
    "Zoë",
    "Zoe\u{308}",
    "İlker Yılmaz",
    "Straße",
    "ß",
    "İ",
    "ﬁnance",
    "ǅemal",
    "ΣΊΣΥΦΟΣ",
    "K\u{212A}elvin",
    "محمد الحسن",
    "יוסף כהן",
    "\u{202E}evil\u{202C}",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "👩🏽\u{200D}💻",
    "🇯🇵",
    "東京都",
    "김민준",
    "Nguyễn Thảo",
    "a\u{200B}b",
    "\u{A0}nbsp\u{A0}",
    "line\u{2028}separator",
    "tab\there",
    "new\nline",
    "nul\u{0}byte",
    "\u{FEFF}bom",
    "\u{7F}\u{1B}[31m",
];

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    42,
    1000,
    5000,
    2_147_483_647,
    2_147_483_648,
    -2_147_483_649,
    9_007_199_254_740_993,
    i64::MAX,
    i64::MIN,
];

const FLOATS: &[f64] = &[
    0.0,
    0.5,
    -1.25,
    1e-9,
    2.5e-3,
    1e21,
    -1e300,
    1.7976931348623157e308,
];

/// What JumpCloud writes in some string fields, whatever else the schema would allow: a
/// generated value keeps to it, and shrinking leaves it as it is (it may still drop or null
/// the field where the schema allows), so that `date(created)` is not reported as failing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Format {
    /// RFC 3339 in UTC with milliseconds, between 2015 and mid-2025, as JumpCloud sends
    /// them: `2021-03-04T17:22:05.123Z`.
    Timestamp,
    /// `ACTIVATED`, `SUSPENDED` or `STAGED`.
    State,
    /// 24 hexadecimal digits.
    ObjectId,
}

/// The formatted fields, by object type (as the schema names it) and field.
const FORMATS: &[(&str, &str, Format)] = &[
    ("user", "_id", Format::ObjectId),
    ("user", "state", Format::State),
    ("user", "created", Format::Timestamp),
    ("user", "account_locked_date", Format::Timestamp),
    ("user", "password_date", Format::Timestamp),
    ("user", "password_expiration_date", Format::Timestamp),
    (
        "user",
        "external_password_expiration_date",
        Format::Timestamp,
    ),
    ("recoveryEmail", "verifiedAt", Format::Timestamp),
    ("mfa", "exclusionUntil", Format::Timestamp),
    ("sshKey", "create_date", Format::Timestamp),
    ("group", "id", Format::ObjectId),
];

pub(super) fn format_of(object: &str, field: &str) -> Option<Format> {
    FORMATS
        .iter()
        .find(|(o, f, _)| *o == object && *f == field)
        .map(|(_, _, format)| *format)
}

impl Format {
    fn value(self, rng: &mut Rng) -> String {
        match self {
            Format::Timestamp => {
                // 2015-01-01 to 2025-06-01.
                let seconds = 1_420_070_400 + rng.below(1_748_736_000 - 1_420_070_400) as i64;
                let millis = rng.below(1000) as u32;
                chrono::DateTime::from_timestamp(seconds, millis * 1_000_000)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .unwrap_or_default()
            }
            Format::State => rng.pick(&["ACTIVATED", "SUSPENDED", "STAGED"]).to_string(),
            Format::ObjectId => (0..24)
                .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
                .collect(),
        }
    }
}

/// Makes records of a section's schema, biased towards what its mapping reads.
pub(super) struct Generator<'m> {
    schema: &'static Type,
    pub(super) entries: &'m [ir::Entry],
    /// Top-level fields the mapping reads (`None`: all of them, as `$env` does).
    read: Option<Vec<String>>,
    /// String and integer constants of the mapping: what it compares fields against.
    strings: Vec<String>,
    ints: Vec<i64>,
    /// Bytes of a long string: well within the mapping's limits, so that a failure is the
    /// mapping's, not a limit's.
    long: usize,
    /// Levels of nesting an `any` value may have.
    depth: usize,
}

/// Constants kept, at most.
const MOST_CONSTANTS: usize = 256;

impl<'m> Generator<'m> {
    pub(super) fn new(mapping: &Mapping, section: &'m ir::Section, schema: &'static Type) -> Self {
        let limits = &mapping.options().limits;
        let long = (limits.string_bytes / 16)
            .min(limits.line_bytes / 256)
            .min(limits.memory / 1024)
            .min(2048);
        let (mut strings, mut ints) = (Vec::new(), Vec::new());
        let mut nodes: Vec<&ir::Node> = section.lets.iter().map(|l| &l.value).collect();
        for entry in &section.entries {
            match &entry.source {
                Source::Expr(node) => nodes.push(node),
                Source::Direct(ir::Path::General(path)) => {
                    strings.extend(path.string_literals(MOST_CONSTANTS))
                }
                Source::Direct(ir::Path::Simple(_)) | Source::Const(_) => {}
            }
        }
        while let Some(node) = nodes.pop() {
            match &node.op {
                Op::Str(s) if s.len() <= long.max(64) => strings.push(s.to_string()),
                Op::Int(n) => ints.push(*n),
                _ => {}
            }
            node.for_each_child(|c| nodes.push(c));
        }
        strings.sort();
        strings.dedup();
        strings.truncate(MOST_CONSTANTS);
        ints.sort_unstable();
        ints.dedup();
        ints.truncate(MOST_CONSTANTS);
        Generator {
            schema,
            entries: &section.entries,
            read: section.fields_read(),
            strings,
            ints,
            long,
            // The record, a list in it and an object in that take three levels.
            depth: limits.nesting().saturating_sub(4).min(3),
        }
    }

    pub(super) fn record(&self, seed: u64, index: usize) -> Json {
        let mut rng = Rng::new(seed, index);
        match self.schema {
            Type::Object(o) => self.object(&mut rng, o, true),
            other => self.value(&mut rng, other, self.depth),
        }
    }

    fn object(&self, rng: &mut Rng, o: &ObjectType, top: bool) -> Json {
        let mut out = Map::new();
        for (name, ty) in &o.fields {
            let read = !top || self.read.as_ref().is_none_or(|r| r.contains(name));
            // Optional fields are often missing; those the mapping does not read, mostly.
            let missing = if read { 20 } else { 85 };
            if ty.is_nullable() && rng.below(100) < missing {
                continue;
            }
            let value = match format_of(&o.name, name) {
                Some(format) if !ty.is_nullable() || rng.below(8) != 0 => {
                    Json::String(format.value(rng))
                }
                Some(_) => Json::Null,
                None if top && matches!(ty, Type::String) => Json::String(self.filled(rng)),
                None => self.value(rng, ty, self.depth),
            };
            out.insert(name.clone(), value);
        }
        Json::Object(out)
    }

    fn value(&self, rng: &mut Rng, ty: &Type, depth: usize) -> Json {
        match ty {
            Type::Nullable(inner) => {
                if rng.below(8) == 0 {
                    Json::Null
                } else {
                    self.value(rng, inner, depth)
                }
            }
            Type::Nil => Json::Null,
            Type::Bool => Json::Bool(rng.below(2) == 1),
            Type::Int => json!(self.int(rng)),
            Type::Float => json!(*rng.pick(FLOATS)),
            Type::String => Json::String(self.string(rng)),
            Type::Array(item) => {
                let n = [0, 1, 1, 2, 2, 3, 4][rng.below(7)];
                (0..n).map(|_| self.value(rng, item, depth)).collect()
            }
            Type::Object(o) => self.object(rng, o, false),
            Type::Map => self.map(rng, depth),
            _ => self.any(rng, depth),
        }
    }

    fn int(&self, rng: &mut Rng) -> i64 {
        match rng.below(10) {
            0..=1 if !self.ints.is_empty() => *rng.pick(&self.ints),
            0..=7 => *rng.pick(INTS),
            _ => rng.below(1_000_000) as i64,
        }
    }

    fn string(&self, rng: &mut Rng) -> String {
        let r = rng.below(100);
        if r < 30 && !self.strings.is_empty() {
            let s = rng.pick(&self.strings);
            return match rng.below(10) {
                0 => s.to_uppercase(),
                1 => s.to_lowercase(),
                2 => format!(" {s} "),
                _ => s.clone(),
            };
        }
        match r {
            0..=41 => String::new(),
            42..=64 => rng.pick(ASCII).to_string(),
            65..=87 => rng.pick(UNICODE).to_string(),
            88..=94 => format!("{}{}", rng.pick(UNICODE), rng.pick(ASCII)),
            _ => {
                let pool = if rng.below(2) == 0 { ASCII } else { UNICODE };
                let unit = rng.pick(pool);
                let mut s = String::with_capacity(self.long + 4);
                while s.len() + unit.len() <= self.long && !unit.is_empty() {
                    s.push_str(unit);
                }
                s
            }
        }
    }

    /// A string with a visible character: what JumpCloud holds in the fields a record always
    /// has (`username`, `email`, `_id`, `state`, `created`; a group's `id` and `name`).
    fn filled(&self, rng: &mut Rng) -> String {
        (0..4)
            .map(|_| self.string(rng))
            .find(|s| !blank(s))
            .unwrap_or_else(|| "a".into())
    }

    /// An open map (a group's `attributes`, `memberQuery`): keys the mapping names, or others.
    fn map(&self, rng: &mut Rng, depth: usize) -> Json {
        let n = rng.below(5);
        let mut out = Map::new();
        for _ in 0..n {
            let key = if !self.strings.is_empty() && rng.below(2) == 0 {
                rng.pick(&self.strings).clone()
            } else {
                rng.pick(ASCII).to_string()
            };
            out.insert(key, self.any(rng, depth.saturating_sub(1)));
        }
        Json::Object(out)
    }

    /// Any JSON value, nested at most `depth` deep; lists of `{name, value}` and of
    /// `{type, value}` objects among them, the shapes custom attributes take.
    fn any(&self, rng: &mut Rng, depth: usize) -> Json {
        let kinds = if depth == 0 { 5 } else { 8 };
        match rng.below(kinds) {
            0 => Json::Null,
            1 => Json::Bool(rng.below(2) == 1),
            2 => json!(self.int(rng)),
            3 => json!(*rng.pick(FLOATS)),
            4 => Json::String(self.string(rng)),
            5 => self.map(rng, depth),
            6 => (0..rng.below(4))
                .map(|_| self.any(rng, depth - 1))
                .collect(),
            _ => {
                let key = if rng.below(2) == 0 { "name" } else { "type" };
                (0..rng.below(4))
                    .map(|_| json!({key: self.string(rng), "value": self.any(rng, depth - 1)}))
                    .collect()
            }
        }
    }
}

/// Empty, or white space only.
pub(super) fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::super::schema;
    use super::*;
    use crate::mapping::Kind;

    #[test]
    fn splitmix64_gives_the_reference_sequence() {
        // The first outputs from state 1234567, as an independent transcription of the
        // reference algorithm (Python) gives them.
        let mut r = Rng(1234567);
        assert_eq!(
            [r.next(), r.next(), r.next()],
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn records_are_a_function_of_seed_and_number() {
        let mapping = Mapping::compile("user {\n  userName = $.username\n}").unwrap();
        let section = mapping.section(Kind::User).unwrap();
        let generator = Generator::new(&mapping, section, schema(Kind::User));
        assert_eq!(generator.record(7, 3), generator.record(7, 3));
        assert_ne!(generator.record(7, 3), generator.record(8, 3));
        assert_ne!(generator.record(7, 3), generator.record(7, 4));
    }

    /// Whether `value` is one the type allows.
    fn conforms(value: &Json, ty: &Type) -> bool {
        match (value, ty) {
            (Json::Null, t) => t.is_nullable() || matches!(t, Type::Any),
            (v, Type::Nullable(t)) => conforms(v, t),
            (_, Type::Any) => true,
            (Json::Bool(_), Type::Bool) => true,
            (Json::Number(n), Type::Int) => n.is_i64(),
            (Json::Number(_), Type::Float) => true,
            (Json::String(_), Type::String) => true,
            (Json::Array(items), Type::Array(t)) => items.iter().all(|i| conforms(i, t)),
            (Json::Object(_), Type::Map) => true,
            (Json::Object(map), Type::Object(o)) => {
                map.iter()
                    .all(|(k, v)| o.field(k).is_some_and(|t| conforms(v, t)))
                    && o.fields
                        .iter()
                        .all(|(k, t)| t.is_nullable() || map.contains_key(k))
            }
            _ => false,
        }
    }

    /// The JSON type of a value, by name.
    fn kind(value: &Json) -> &'static str {
        match value {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    #[test]
    fn every_shape_the_schema_allows_is_made() {
        // A mapping that reads the whole record (`$env`), so every field is read.
        let mapping = Mapping::compile("user {\n  userName = $env.username\n}").unwrap();
        let section = mapping.section(Kind::User).unwrap();
        let user = schema(Kind::User);
        let generator = Generator::new(&mapping, section, user);
        let Type::Object(o) = user else {
            panic!("the user record is an object")
        };
        let mut seen: std::collections::HashMap<&str, std::collections::BTreeSet<&str>> =
            Default::default();
        let (mut unicode, mut long) = (false, false);
        for i in 0..1000 {
            let record = generator.record(1, i);
            assert!(conforms(&record, user), "{record}");
            for (name, _) in &o.fields {
                let shape = record.get(name).map_or("missing", kind);
                seen.entry(name).or_default().insert(shape);
            }
            assert!(
                chrono::DateTime::parse_from_rfc3339(record["created"].as_str().unwrap()).is_ok()
            );
            assert!(
                ["ACTIVATED", "SUSPENDED", "STAGED"].contains(&record["state"].as_str().unwrap())
            );
            let text = record.to_string();
            unicode |= text.contains("Zoe\u{308}") && text.contains('𝔘');
            long |= record["username"].as_str().is_some_and(|s| s.len() > 1000);
        }
        for (name, ty) in &o.fields {
            let shapes = &seen[name.as_str()];
            if ty.is_nullable() {
                assert!(
                    shapes.contains("missing") && shapes.contains("null") && shapes.len() == 3,
                    "{name}: {shapes:?}"
                );
            } else {
                assert_eq!(shapes.len(), 1, "{name}: {shapes:?}");
            }
        }
        assert!(unicode && long);

        // A group's open maps hold every JSON type.
        let mapping = Mapping::compile("group {\n  displayName = $.name\n}").unwrap();
        let section = mapping.section(Kind::Group).unwrap();
        let group = schema(Kind::Group);
        let generator = Generator::new(&mapping, section, group);
        let mut inside = std::collections::BTreeSet::new();
        for i in 0..1000 {
            let record = generator.record(1, i);
            assert!(conforms(&record, group), "{record}");
            if let Some(Json::Object(map)) = record.get("attributes") {
                inside.extend(map.values().map(kind));
            }
        }
        assert_eq!(inside.len(), 6, "{inside:?}");
    }
}
