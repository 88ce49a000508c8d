//! The test file (reference §testing-format): TOML, read with `toml_edit` so that every error
//! names its line and column and `--bless` can rewrite snapshots keeping the rest of the file
//! as written.

use crate::diagnostic::LineIndex;
use crate::limits::Limits;
use crate::mapping::Kind;
use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value as Json};
use std::fmt;
use toml_edit::{Item, TableLike, Value as Toml};

/// A test file as written: its cases, the mapping and fixtures it names.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// `mapping = "…"`: the mapping, relative to the test file; `None`: the file beside it
    /// with the same name (`NAME.test.toml` → `NAME.scimap`).
    pub mapping: Option<String>,
    /// `fixtures = "…"`: records (NDJSON or a JSON array) cases pick from, relative to the
    /// test file.
    pub fixtures: Option<String>,
    /// The clock of every case that sets none.
    pub now: Option<DateTime<FixedOffset>>,
    pub cases: Vec<Case>,
}

/// One case: a record and what the mapping must make of it.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Where `[[case]]` (or the case's inline table) starts in the test file, 1-based.
    pub line: usize,
    pub column: usize,
    pub kind: Kind,
    pub record: RecordSource,
    pub now: Option<DateTime<FixedOffset>>,
    /// `payload`: the whole payload (a snapshot `--bless` writes).
    pub payload: Option<Json>,
    /// `expect`: JSON pointers into the payload and their values.
    pub expect: Vec<(String, Json)>,
    /// `absent`: JSON pointers the payload must not have.
    pub absent: Vec<String>,
    /// `errors`: the record must fail with (at least) these.
    pub errors: Option<Vec<ExpectedError>>,
    /// `current`: the app's resource the `plan` is made against (`None`: a creation).
    pub current: Option<Json>,
    /// `plan`: the requests (a snapshot `--bless` writes).
    pub plan: Option<Json>,
}

impl Case {
    /// Whether the case says anything about its outcome.
    pub fn has_expectation(&self) -> bool {
        self.payload.is_some()
            || !self.expect.is_empty()
            || !self.absent.is_empty()
            || self.errors.is_some()
            || self.plan.is_some()
    }
}

/// Where a case's record comes from.
#[derive(Debug, Clone)]
pub enum RecordSource {
    Inline(Json),
    /// From the file's `fixtures`.
    Fixture(Pick),
}

/// How a case picks its record from the fixtures.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// The record that starts on this line (1-based).
    Line(usize),
    /// The record whose id (`_id` of a user, `id` of a group) is this.
    Id(String),
    /// The first record whose fields have these values.
    Where(Vec<(String, Json)>),
}

/// One expected failure: an entry (`target`) and/or a code; a field left out matches any.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedError {
    pub target: Option<String>,
    pub code: Option<String>,
}

/// Why a test file could not be read: where (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for FileError {}

/// The largest test file read (its JSON snapshots included).
pub const MAX_FILE_BYTES: usize = 16 << 20;

const TOP_KEYS: [&str; 4] = ["mapping", "fixtures", "now", "case"];
const CASE_KEYS: [&str; 12] = [
    "name", "kind", "record", "fixture", "now", "payload", "expect", "absent", "errors", "current",
    "plan", "members",
];

struct Reader<'t> {
    index: LineIndex,
    limits: &'t Limits,
}

impl Reader<'_> {
    fn at(&self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) -> FileError {
        let (line, column) = self.index.line_col(span.map_or(0, |s| s.start));
        FileError {
            line,
            column,
            message: message.into(),
        }
    }

    fn string<'i>(&self, item: &'i Item, what: &str) -> Result<&'i str, FileError> {
        item.as_str()
            .ok_or_else(|| self.at(item.span(), format!("`{what}` must be a string")))
    }

    fn now(&self, item: &Item) -> Result<DateTime<FixedOffset>, FileError> {
        let text = match (item.as_datetime(), item.as_str()) {
            (Some(d), _) => d.to_string(),
            (None, Some(s)) => s.to_string(),
            _ => return Err(self.at(item.span(), "`now` must be an RFC 3339 date-time")),
        };
        DateTime::parse_from_rfc3339(&text).map_err(|e| {
            self.at(
                item.span(),
                format!("`now` is not an RFC 3339 date-time with an offset ({text}): {e}"),
            )
        })
    }

    /// A JSON value written as TOML, or as JSON text in a string (`text`: strings are JSON).
    fn json(&self, item: &Item, what: &str, text: bool) -> Result<Json, FileError> {
        if let (true, Some(s)) = (text, item.as_str()) {
            return json_text(s, self.limits)
                .map_err(|e| self.at(item.span(), format!("`{what}` is not JSON: {e}")));
        }
        self.toml_json(item, what)
    }

    fn toml_json(&self, item: &Item, what: &str) -> Result<Json, FileError> {
        if let Some(table) = item.as_table_like() {
            let mut out = Map::new();
            for (k, v) in table.iter() {
                out.insert(k.to_string(), self.toml_json(v, what)?);
            }
            return Ok(Json::Object(out));
        }
        if let Some(tables) = item.as_array_of_tables() {
            let mut out = Vec::new();
            for t in tables.iter() {
                let mut obj = Map::new();
                for (k, v) in t.iter() {
                    obj.insert(k.to_string(), self.toml_json(v, what)?);
                }
                out.push(Json::Object(obj));
            }
            return Ok(Json::Array(out));
        }
        let Some(value) = item.as_value() else {
            return Err(self.at(item.span(), format!("`{what}` has no value")));
        };
        Ok(match value {
            Toml::String(s) => Json::String(s.value().clone()),
            Toml::Integer(i) => Json::from(*i.value()),
            Toml::Float(f) => serde_json::Number::from_f64(*f.value())
                .map(Json::Number)
                .ok_or_else(|| {
                    self.at(
                        item.span(),
                        format!("`{what}` holds a NaN or infinity, which JSON has not"),
                    )
                })?,
            Toml::Boolean(b) => Json::Bool(*b.value()),
            Toml::Datetime(d) => Json::String(d.value().to_string()),
            Toml::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items.iter() {
                    out.push(self.toml_json(&Item::Value(v.clone()), what)?);
                }
                Json::Array(out)
            }
            Toml::InlineTable(_) => unreachable!("table-like, handled above"),
        })
    }

    fn keys(&self, table: &dyn TableLike, allowed: &[&str], what: &str) -> Result<(), FileError> {
        for (k, item) in table.iter() {
            if !allowed.contains(&k) {
                let span = table.key(k).and_then(|k| k.span()).or_else(|| item.span());
                let hint = crate::suggest::did_you_mean(k, allowed.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(self.at(span, format!("unknown key `{k}` in {what}{hint}")));
            }
        }
        Ok(())
    }

    fn case(
        &self,
        table: &dyn TableLike,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<Case, FileError> {
        let (line, column) = self.index.line_col(span.as_ref().map_or(0, |s| s.start));
        self.keys(table, &CASE_KEYS, "a case")?;
        let get = |k: &str| table.get(k);
        let name = match get("name") {
            Some(item) => self.string(item, "name")?.to_string(),
            None => return Err(self.at(span, "a case needs a `name`")),
        };
        let kind = match get("kind") {
            None => Kind::User,
            Some(item) => match self.string(item, "kind")? {
                "user" => Kind::User,
                "group" => Kind::Group,
                other => {
                    return Err(self.at(
                        item.span(),
                        format!("`kind` is \"user\" or \"group\", not {other:?}"),
                    ))
                }
            },
        };
        if let Some(item) = get("members") {
            return Err(self.at(
                item.span(),
                "`members` (group membership plans) is not supported in test files yet",
            ));
        }
        let record = match (get("record"), get("fixture")) {
            (Some(r), None) => {
                let json = self.json(r, "record", true)?;
                if !json.is_object() {
                    return Err(self.at(r.span(), "`record` must be an object"));
                }
                RecordSource::Inline(json)
            }
            (None, Some(f)) => RecordSource::Fixture(self.pick(f)?),
            (Some(_), Some(f)) => {
                return Err(self.at(f.span(), "a case has a `record` or a `fixture`, not both"))
            }
            (None, None) => {
                return Err(self.at(
                    span,
                    format!("case \"{name}\" needs a `record` or a `fixture`"),
                ))
            }
        };
        let now = get("now").map(|n| self.now(n)).transpose()?;
        let payload = get("payload")
            .map(|p| self.json(p, "payload", true))
            .transpose()?;
        let mut expect = Vec::new();
        if let Some(item) = get("expect") {
            let table = item.as_table_like().ok_or_else(|| {
                self.at(
                    item.span(),
                    "`expect` is a table of JSON pointers and values",
                )
            })?;
            for (k, v) in table.iter() {
                let span = table.key(k).and_then(|k| k.span());
                pointer(k).map_err(|e| self.at(span.clone(), e))?;
                expect.push((k.to_string(), self.json(v, "expect", false)?));
            }
        }
        let mut absent = Vec::new();
        if let Some(item) = get("absent") {
            let list = item
                .as_array()
                .ok_or_else(|| self.at(item.span(), "`absent` is an array of JSON pointers"))?;
            for v in list.iter() {
                let p = v.as_str().ok_or_else(|| {
                    self.at(v.span(), "`absent` is an array of JSON pointers (strings)")
                })?;
                pointer(p).map_err(|e| self.at(v.span(), e))?;
                absent.push(p.to_string());
            }
        }
        let errors = get("errors").map(|e| self.errors(e)).transpose()?;
        if let (Some(_), Some(item)) = (
            &errors,
            get("payload")
                .or(get("expect"))
                .or(get("absent"))
                .or(get("plan")),
        ) {
            return Err(self.at(
                item.span(),
                "a case that expects `errors` has no payload or plan to expect",
            ));
        }
        let current = get("current")
            .map(|c| {
                let json = self.json(c, "current", true)?;
                match json.is_object() {
                    true => Ok(json),
                    false => Err(self.at(c.span(), "`current` must be an object")),
                }
            })
            .transpose()?;
        let plan = get("plan")
            .map(|p| self.json(p, "plan", true))
            .transpose()?;
        if let (Some(c), None) = (get("current"), &plan) {
            return Err(self.at(c.span(), "`current` is only read with a `plan` to expect"));
        }
        Ok(Case {
            name,
            line,
            column,
            kind,
            record,
            now,
            payload,
            expect,
            absent,
            errors,
            current,
            plan,
        })
    }

    fn pick(&self, item: &Item) -> Result<Pick, FileError> {
        let bad = || {
            self.at(
                item.span(),
                "`fixture` is { line = N }, { id = \"…\" } or { where = { FIELD = VALUE, … } }",
            )
        };
        let table = item.as_table_like().ok_or_else(bad)?;
        if table.len() != 1 {
            return Err(bad());
        }
        if let Some(line) = table.get("line") {
            return match line.as_integer().and_then(|n| usize::try_from(n).ok()) {
                Some(n) if n > 0 => Ok(Pick::Line(n)),
                _ => Err(self.at(line.span(), "`line` is a line number (1 or more)")),
            };
        }
        if let Some(id) = table.get("id") {
            return Ok(Pick::Id(self.string(id, "id")?.to_string()));
        }
        let fields = table.get("where").ok_or_else(bad)?;
        let fields = fields
            .as_table_like()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.at(fields.span(), "`where` is a table of fields and values"))?;
        let mut out = Vec::new();
        for (k, v) in fields.iter() {
            out.push((k.to_string(), self.json(v, "where", false)?));
        }
        Ok(Pick::Where(out))
    }

    fn errors(&self, item: &Item) -> Result<Vec<ExpectedError>, FileError> {
        let bad = |span| {
            self.at(
                span,
                "`errors` is an array of { target = \"…\", code = \"…\" }",
            )
        };
        let mut tables: Vec<(&dyn TableLike, Option<std::ops::Range<usize>>)> = Vec::new();
        if let Some(list) = item.as_array() {
            for v in list.iter() {
                let t = v.as_inline_table().ok_or_else(|| bad(v.span()))?;
                tables.push((t, v.span()));
            }
        } else if let Some(list) = item.as_array_of_tables() {
            for t in list.iter() {
                tables.push((t, t.span()));
            }
        } else {
            return Err(bad(item.span()));
        }
        let mut out = Vec::new();
        for (t, span) in tables {
            self.keys(t, &["target", "code"], "an expected error")?;
            let field = |k: &str| {
                t.get(k)
                    .map(|v| self.string(v, k).map(str::to_string))
                    .transpose()
            };
            let expected = ExpectedError {
                target: field("target")?,
                code: field("code")?,
            };
            if expected.target.is_none() && expected.code.is_none() {
                return Err(self.at(span, "an expected error names a `target`, a `code` or both"));
            }
            out.push(expected);
        }
        Ok(out)
    }
}

impl TestFile {
    /// Reads a test file's text. `limits` bounds the JSON written in it (`depth`).
    pub fn parse(text: &str, limits: &Limits) -> Result<TestFile, FileError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(FileError {
                line: 1,
                column: 1,
                message: format!(
                    "the test file is {} bytes, over the {MAX_FILE_BYTES} bytes read",
                    text.len()
                ),
            });
        }
        let reader = Reader {
            index: LineIndex::new(text),
            limits,
        };
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let mut message = e.message().trim().to_string();
            if message.is_empty() {
                message = "not TOML".into();
            }
            reader.at(e.span(), format!("not TOML: {message}"))
        })?;
        let top = doc.as_table();
        reader.keys(top, &TOP_KEYS, "the test file")?;
        let text_of = |k: &str| {
            top.get(k)
                .map(|i| reader.string(i, k).map(str::to_string))
                .transpose()
        };
        let mut file = TestFile {
            mapping: text_of("mapping")?,
            fixtures: text_of("fixtures")?,
            now: top.get("now").map(|n| reader.now(n)).transpose()?,
            cases: Vec::new(),
        };
        match top.get("case") {
            None => {}
            Some(Item::ArrayOfTables(cases)) => {
                for t in cases.iter() {
                    file.cases.push(reader.case(t, t.span())?);
                }
            }
            Some(other) => {
                let Some(list) = other.as_array() else {
                    return Err(
                        reader.at(other.span(), "`case` is an array of tables: write [[case]]")
                    );
                };
                for v in list.iter() {
                    let t = v
                        .as_inline_table()
                        .ok_or_else(|| reader.at(v.span(), "each case is a table"))?;
                    file.cases.push(reader.case(t, v.span())?);
                }
            }
        }
        let mut seen = std::collections::HashMap::new();
        for case in &file.cases {
            if let Some(line) = seen.insert(case.name.as_str(), case.line) {
                return Err(FileError {
                    line: case.line,
                    column: case.column,
                    message: format!(
                        "two cases are named \"{}\" (the first at line {line})",
                        case.name
                    ),
                });
            }
        }
        Ok(file)
    }
}

/// Checks a JSON pointer (RFC 6901): empty (the whole payload) or `/`-separated tokens.
fn pointer(p: &str) -> Result<(), String> {
    if !p.is_empty() && !p.starts_with('/') {
        return Err(format!(
            "`{p}` is not a JSON pointer: write \"/{}\"",
            p.replace('.', "/")
        ));
    }
    let mut rest = p;
    while let Some(i) = rest.find('~') {
        if !matches!(rest.as_bytes().get(i + 1), Some(b'0' | b'1')) {
            return Err(format!("`{p}`: `~` is written `~0` and `/` in a name `~1`"));
        }
        rest = &rest[i + 2..];
    }
    Ok(())
}

/// JSON text from a test file: nested no deeper than the `depth` limit (checked before
/// parsing, so a hostile snapshot cannot exhaust the stack).
pub(crate) fn json_text(text: &str, limits: &Limits) -> Result<Json, String> {
    let max = limits.nesting();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(format!("nested deeper than the limit `depth` ({max})"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The JSON pointer's tokens, unescaped.
pub(crate) fn tokens(p: &str) -> impl Iterator<Item = String> + '_ {
    p.split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
}

/// Writes `--bless` snapshots into a test file's text, keeping everything else as written:
/// each `(case index, key, JSON)` sets that key of that case to the pretty-printed JSON text.
pub fn bless(text: &str, updates: &[(usize, &str, &Json)]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let Some(cases) = doc.get_mut("case") else {
        return Err("the file has no cases".into());
    };
    for &(i, key, json) in updates {
        let snapshot = format!("{}\n", crate::json::pretty(json));
        if let Some(tables) = cases.as_array_of_tables_mut() {
            let case = tables
                .get_mut(i)
                .ok_or_else(|| format!("the file has no case {i}"))?;
            case.insert(key, toml_edit::value(snapshot));
        } else if let Some(list) = cases.as_array_mut() {
            let case = list
                .get_mut(i)
                .and_then(Toml::as_inline_table_mut)
                .ok_or_else(|| format!("the file has no case {i}"))?;
            case.insert(key, Toml::from(snapshot));
        } else {
            return Err("`case` is not an array of tables".into());
        }
    }
    Ok(doc.to_string())
}
