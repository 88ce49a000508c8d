//! The WASM exports of the preview page (reference §wasm): the same engine as the command line,
//! returning plain JavaScript objects.

use crate::schema::{self, ScimSchema};
use crate::syntax::ast::SectionKind;
use crate::types::Type;
use crate::{
    parse_record, render, Diagnostic, EntryError, Explained, Kind, Mapping, Options, RecordError,
};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value as Json};
use wasm_bindgen::prelude::*;

mod service;
pub use service::LanguageService;

/// Panics reach the browser console with their message instead of "unreachable".
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// `check(source) → { diagnostics: [...], profile }`: every diagnostic of the mapping, errors
/// and warnings, as the objects of reference §diagnostics-json with `"file": null`, sorted by
/// offset; the app profile (reference §profile) of a mapping that compiled, else null.
#[wasm_bindgen]
pub fn check(source: &str) -> Result<JsValue, JsError> {
    let (diagnostics, profile) = match Mapping::compile(source) {
        Ok(mapping) => (
            diagnostics_json(mapping.warnings(), mapping.source()),
            mapping.profile().to_json(),
        ),
        Err(e) => (diagnostics_json(&e.diagnostics, &e.source), Json::Null),
    };
    to_js(&json!({ "diagnostics": diagnostics, "profile": profile }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PreviewOptions {
    kind: Option<String>,
    now: Option<String>,
}

/// `preview(source, recordJson, { kind: "user"|"group", now? }) → { payload, errors,
/// diagnostics, explain }`. `payload` is null when the mapping did not compile or the record
/// failed; `errors` holds the failed record's error objects (reference §payload-error-object).
/// Throws on bad options.
#[wasm_bindgen]
pub fn preview(source: &str, record_json: &str, options: JsValue) -> Result<JsValue, JsError> {
    let opts: PreviewOptions = read_options(options, "preview")?;
    let (kind, compile_options) =
        kind_and_options(opts.kind.as_deref(), opts.now.as_deref(), "preview")?;
    to_js(&preview_json(source, record_json, kind, &compile_options))
}

/// `preview_all(source, recordsNdjson, { kind, now? }) → { results: [{ line, payload, errors }],
/// diagnostics }` (reference §wasm-preview-all): the mapping compiled once and run over every
/// line of the text, as `scimap bulk` reads it (blank lines skipped); a failed line has
/// `payload: null` and its error objects. A mapping that does not compile gives no results.
/// Throws on bad options.
#[wasm_bindgen]
pub fn preview_all(source: &str, records: &str, options: JsValue) -> Result<JsValue, JsError> {
    let opts: PreviewOptions = read_options(options, "preview_all")?;
    let (kind, compile_options) =
        kind_and_options(opts.kind.as_deref(), opts.now.as_deref(), "preview_all")?;
    let mapping = match Mapping::compile_with(source, &compile_options) {
        Ok(m) => m,
        Err(e) => {
            let diagnostics = diagnostics_json(&e.diagnostics, &e.source);
            return to_js(&json!({ "results": [], "diagnostics": diagnostics }));
        }
    };
    let results: Vec<Json> = records
        .lines()
        .enumerate()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(i, text)| {
            let evaluated = read_record(text, &compile_options.limits)
                .and_then(|record| mapping.evaluate(kind, &record));
            let (payload, errors) = match evaluated {
                Ok(payload) => (payload, Json::Array(Vec::new())),
                Err(e) => (Json::Null, errors_json(&e)),
            };
            json!({ "line": i + 1, "payload": payload, "errors": errors })
        })
        .collect();
    let diagnostics = diagnostics_json(mapping.warnings(), mapping.source());
    to_js(&json!({ "results": results, "diagnostics": diagnostics }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PlanOptions {
    kind: Option<String>,
    now: Option<String>,
    deactivate: bool,
    members: Option<Vec<String>>,
}

/// `plan(source, recordJson, currentJson, { kind: "user"|"group", now?, deactivate?, members? })
/// → { requests, error }` (reference §wasm-plan): the requests that bring the app's current
/// resource (`currentJson`; empty: the app has none) to what the mapping makes of the record,
/// each `{ method, path, body, causes }`. A mapping that does not compile, a record or current
/// resource that cannot be planned from, gives `requests: []` and
/// `error: { input: "mapping"|"record"|"current", message, errors, diagnostics? }`.
/// Throws on bad options.
#[wasm_bindgen]
pub fn plan(
    source: &str,
    record_json: &str,
    current_json: &str,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let opts: PlanOptions = read_options(options, "plan")?;
    let (kind, compile_options) =
        kind_and_options(opts.kind.as_deref(), opts.now.as_deref(), "plan")?;
    if kind == Kind::Group && opts.deactivate {
        return Err(JsError::new(
            "invalid plan options: deactivate is for users, not groups",
        ));
    }
    if kind == Kind::User && opts.members.is_some() {
        return Err(JsError::new(
            "invalid plan options: members are for groups, not users",
        ));
    }
    let out = match plan_requests(
        source,
        record_json,
        current_json,
        kind,
        &opts,
        &compile_options,
    ) {
        Ok(requests) => json!({ "requests": requests, "error": null }),
        Err(error) => json!({ "requests": [], "error": error }),
    };
    to_js(&out)
}

/// The explained requests, or the error object naming the input at fault.
fn plan_requests(
    source: &str,
    record_json: &str,
    current_json: &str,
    kind: Kind,
    request: &PlanOptions,
    options: &Options,
) -> Result<Json, Json> {
    let mapping = Mapping::compile_with(source, options).map_err(|e| {
        json!({
            "input": "mapping",
            "message": "the mapping does not compile",
            "errors": [],
            "diagnostics": diagnostics_json(&e.diagnostics, &e.source),
        })
    })?;
    let limits = &options.limits;
    let current = if current_json.trim().is_empty() {
        None
    } else {
        Some(
            read_record(current_json, limits)
                .map_err(|e| plan_error("current", &e.of_current()))?,
        )
    };
    let planned = if request.deactivate {
        // Deactivation evaluates no record: only `active` changes.
        let Some(current) = &current else {
            return Err(plan_error(
                "current",
                &RecordError {
                    errors: vec![EntryError::record(
                        "scimap::current",
                        "deactivation needs the app's current resource, with its `id`",
                    )],
                },
            ));
        };
        mapping.deactivate(current)
    } else {
        let record = read_record(record_json, limits).map_err(|e| plan_error("record", &e))?;
        match &request.members {
            Some(members) => mapping.plan_group(&record, current.as_ref(), members),
            None => mapping.plan(kind, &record, current.as_ref()),
        }
    };
    planned.map(|p| p.to_json_explained()).map_err(|e| {
        let at_fault = match e.errors.first().map(|x| x.code.as_str()) {
            Some("scimap::current") => "current",
            Some("scimap::no-section" | "scimap::plan") => "mapping",
            _ => "record",
        };
        plan_error(at_fault, &e)
    })
}

/// `{ input, message, errors }`: what `RecordError::to_json` holds, and which input failed.
fn plan_error(input: &str, e: &RecordError) -> Json {
    let mut out = e.to_json(None, None)["error"].take();
    if let Some(obj) = out.as_object_mut() {
        obj.insert("input".into(), Json::from(input));
    }
    out
}

fn read_options<T: serde::de::DeserializeOwned + Default>(
    options: JsValue,
    export: &str,
) -> Result<T, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(T::default());
    }
    serde_wasm_bindgen::from_value(options)
        .map_err(|e| JsError::new(&format!("invalid {export} options: {e}")))
}

/// The `kind` and `now` options: a section, and the compile options with the clock fixed.
fn kind_and_options(
    kind: Option<&str>,
    now: Option<&str>,
    export: &str,
) -> Result<(Kind, Options), JsError> {
    let kind = match kind {
        None | Some("user") => Kind::User,
        Some("group") => Kind::Group,
        Some(other) => {
            return Err(JsError::new(&format!(
                "invalid {export} options: kind must be \"user\" or \"group\", not {other:?}"
            )))
        }
    };
    let mut compile_options = Options::default();
    if let Some(now) = now.filter(|s| !s.trim().is_empty()) {
        let parsed = chrono::DateTime::parse_from_rfc3339(now.trim()).map_err(|e| {
            JsError::new(&format!(
                "invalid {export} options: now {now:?} is not an RFC 3339 time: {e}"
            ))
        })?;
        compile_options.now = Some(parsed);
    }
    Ok((kind, compile_options))
}

/// A record (or current resource) as one line of `scimap bulk`: the size cap checked before
/// parsing, then RFC 8259 JSON, an object, within the limits.
fn read_record(text: &str, limits: &crate::limits::Limits) -> Result<Json, RecordError> {
    if text.len() > limits.line_bytes {
        return Err(RecordError::over_line_bytes(limits.line_bytes));
    }
    parse_record(text.as_bytes(), limits)
}

fn preview_json(source: &str, record_json: &str, kind: Kind, options: &Options) -> Json {
    let mapping = match Mapping::compile_with(source, options) {
        Ok(m) => m,
        Err(e) => {
            return json!({
                "payload": null,
                "errors": [],
                "diagnostics": diagnostics_json(&e.diagnostics, &e.source),
                "explain": [],
            })
        }
    };
    let diagnostics = diagnostics_json(mapping.warnings(), mapping.source());
    let record = match read_record(record_json, &options.limits) {
        Ok(r) => r,
        Err(e) => {
            return json!({
                "payload": null,
                "errors": errors_json(&e),
                "diagnostics": diagnostics,
                "explain": [],
            })
        }
    };
    let (payload, errors) = match mapping.evaluate(kind, &record) {
        Ok(payload) => (payload, Json::Array(Vec::new())),
        Err(e) => (Json::Null, errors_json(&e)),
    };
    let explain: Vec<Json> = mapping
        .explain(kind, &record)
        .iter()
        .map(explained_json)
        .collect();
    json!({
        "payload": payload,
        "errors": errors,
        "diagnostics": diagnostics,
        "explain": explain,
    })
}

/// `run_tests(source, testsToml, fixtures) → { error, cases, passed, failed, coverage }`
/// (reference §wasm-run-tests): the cases of a test file run against the mapping, one thread,
/// coverage gathered. `fixtures` is the text of the file the test file's `fixtures` names
/// (empty when none). `error`: `null`, or `{ input: "tests"|"mapping", message, line?,
/// column?, diagnostics? }` when the test file cannot be read or the mapping does not compile
/// (then `cases` is empty and `coverage` null); each case is `{ name, line, column, passed,
/// mismatches }` as `scimap test --format json` has it.
#[wasm_bindgen]
pub fn run_tests(source: &str, tests: &str, fixtures: &str) -> Result<JsValue, JsError> {
    to_js(&tests_json(source, tests, fixtures))
}

fn tests_json(source: &str, tests: &str, fixtures: &str) -> Json {
    use crate::testing::{self, RunOptions, TestFile};
    let options = Options::default();
    let failed = |error: Json| json!({ "error": error, "cases": [], "passed": 0, "failed": 0, "coverage": null });
    let file_error = |e: testing::FileError| {
        failed(json!({
            "input": "tests", "message": e.message, "line": e.line, "column": e.column,
        }))
    };
    let file = match TestFile::parse(tests, &options.limits) {
        Ok(file) => file,
        Err(e) => return file_error(e),
    };
    let mut fixtures = fixtures.as_bytes();
    let fixtures = (!fixtures.is_empty()).then_some(&mut fixtures as &mut dyn std::io::BufRead);
    let records = match testing::records(&file, fixtures, &options.limits) {
        Ok(records) => records,
        Err(e) => return file_error(e),
    };
    let run = RunOptions {
        threads: 1,
        coverage: true,
    };
    match testing::run(source, &options, &file, &records, &run) {
        Ok(report) => json!({
            "error": null,
            "cases": report.cases.iter().map(testing::CaseResult::to_json).collect::<Vec<_>>(),
            "passed": report.passed(),
            "failed": report.failed(),
            "coverage": report.coverage.as_ref().map(testing::Coverage::to_json),
        }),
        Err(e) => failed(json!({
            "input": "mapping",
            "message": "the mapping does not compile",
            "diagnostics": diagnostics_json(&e.diagnostics, &e.source),
        })),
    }
}

/// `functions() → [{ name, signature, summary, details, examples: [{ expression, expected }] }]`
/// in catalogue order.
#[wasm_bindgen]
pub fn functions() -> Result<JsValue, JsError> {
    let all: Vec<Json> = crate::functions()
        .iter()
        .map(|f| {
            let examples: Vec<Json> = f
                .examples
                .iter()
                .map(|(expression, expected)| {
                    json!({ "expression": expression, "expected": expected })
                })
                .collect();
            json!({
                "name": f.name,
                "signature": f.signature,
                "summary": f.summary,
                "details": f.details,
                "examples": examples,
            })
        })
        .collect();
    to_js(&Json::Array(all))
}

/// `schemas() → { user, group, targets: { user, group } }`: the record fields
/// (`[{ name, type, description, fields? }]`, nested for objects and arrays of objects) and every
/// attribute path a section may map (`[{ name, type, description, multiValued, required,
/// canonicalValues }]`).
#[wasm_bindgen]
pub fn schemas() -> Result<JsValue, JsError> {
    let user_targets: Vec<Json> = [schema::core_user(), schema::enterprise_user()]
        .into_iter()
        .flat_map(|s| targets(s, Kind::User))
        .collect();
    to_js(&json!({
        "user": record_fields(schema::user_record()),
        "group": record_fields(schema::group_record()),
        "targets": {
            "user": user_targets,
            "group": targets(schema::core_group(), Kind::Group),
        },
    }))
}

/// The fields of a record object type; the schema is ours and a few levels deep.
fn record_fields(ty: &Type) -> Json {
    let Some(Type::Object(object)) = object_of(ty) else {
        return Json::Array(Vec::new());
    };
    let fields = object
        .fields
        .iter()
        .map(|(name, ty)| {
            let description = object.description(name).unwrap_or("");
            let mut field =
                json!({ "name": name, "type": ty.to_string(), "description": description });
            if let (Some(obj), Some(Type::Object(_))) = (field.as_object_mut(), object_of(ty)) {
                obj.insert("fields".into(), record_fields(ty));
            }
            field
        })
        .collect();
    Json::Array(fields)
}

/// The object type behind a nullable or an array, if any.
fn object_of(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Object(_) => Some(ty),
        Type::Nullable(inner) | Type::Array(inner) => object_of(inner),
        _ => None,
    }
}

/// The mappable attribute paths of a schema (reference §targets-forbidden), as the language
/// service lists them (`ide::target_paths`) but without the typed filters.
fn targets(schema: &ScimSchema, kind: Kind) -> Vec<Json> {
    let kind = match kind {
        Kind::User => SectionKind::User,
        Kind::Group => SectionKind::Group,
    };
    crate::ide::target_paths(schema, kind)
        .into_iter()
        .filter(|t| !t.path.contains('['))
        .map(|t| {
            json!({
                "name": t.path,
                "type": t.attribute.ty.name(),
                "description": t.attribute.description,
                "multiValued": t.parent.map_or(t.attribute.multi_valued, |p| p.multi_valued),
                "required": t.attribute.required,
                "canonicalValues": t.attribute.canonical_values,
            })
        })
        .collect()
}

fn diagnostics_json(diagnostics: &[Diagnostic], source: &str) -> Json {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| d.span.start);
    let index = render::LineIndex::new(source);
    Json::Array(
        sorted
            .into_iter()
            .map(|d| render::diagnostic_json(d, None, &index))
            .collect(),
    )
}

fn errors_json(e: &RecordError) -> Json {
    Json::Array(e.errors.iter().map(EntryError::to_json).collect())
}

fn explained_json(x: &Explained) -> Json {
    let mut out = json!({
        "target": x.target,
        "kind": x.kind,
        "source": x.source,
        "line": x.line,
        "column": x.column,
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(value) = &x.value {
            obj.insert("value".into(), value.clone());
        }
        if let Some(error) = &x.error {
            obj.insert("error".into(), error.to_json());
        }
        if x.create_only {
            obj.insert("createOnly".into(), Json::Bool(true));
        }
    }
    out
}

/// A JSON value as a plain JS value: objects as objects (not `Map`s), integers within
/// ±(2^53 − 1) as numbers and beyond as BigInt. `json_compatible()` alone refuses such
/// integers, and with BigInts on it would send every integer as one, so safe integers are
/// handed over as `f64`.
fn to_js(value: &Json) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible()
        .serialize_large_number_types_as_bigints(true);
    JsonForJs(value)
        .serialize(&serializer)
        .map_err(|e| JsError::new(&e.to_string()))
}

struct JsonForJs<'a>(&'a Json);

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl Serialize for JsonForJs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Json::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) if u > MAX_SAFE_INTEGER => s.serialize_u64(u),
                (_, Some(i)) if i.unsigned_abs() > MAX_SAFE_INTEGER => s.serialize_i64(i),
                _ => s.serialize_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsonForJs(item))?;
                }
                seq.end()
            }
            Json::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, &JsonForJs(v))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}
