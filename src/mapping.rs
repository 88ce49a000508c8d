//! The public face: compile a mapping once, evaluate it against any number of records.

use crate::check;
use crate::diagnostic::{Diagnostic, Span};
use crate::eval::compile::{Program, Written};
use crate::eval::interp::Ctx;
use crate::eval::path::{self, Found};
use crate::ir::{self, Source};
use crate::limits::Limits;
use crate::payload::{self, Leaf, Slot};
use crate::plan::{self, Cause, Plan};
use crate::record::{Doc, EntryError, Obj, Reading, RecordError};
use crate::runtime::budget::Budget;
use crate::runtime::error::EvalError;
use crate::runtime::time::{Time, Zone};
use crate::runtime::value::Value;
use crate::syntax::ast::SectionKind;
use crate::syntax::parser;
use serde_json::{json, Value as Json};
use std::fmt;

/// Which section of a mapping, and so which kind of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn section(self) -> SectionKind {
        match self {
            Kind::User => SectionKind::User,
            Kind::Group => SectionKind::Group,
        }
    }

    fn id_field(self) -> &'static str {
        match self {
            Kind::User => "_id",
            Kind::Group => "id",
        }
    }
}

/// Options for compiling and evaluating.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub limits: Limits,
    /// A fixed clock for `now()` (its offset kept); `None` reads the system clock once per record.
    pub now: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Warning codes silenced for the whole mapping (`scimap check --allow CODE`).
    pub allow: Vec<String>,
}

/// A compiled mapping: immutable, `Send + Sync`, evaluated without re-reading mapping text.
///
/// ```
/// let mapping = scimap::Mapping::compile(r#"
/// user {
///   userName = $.username
///   name.formatted = trim((firstname ?? "") + " " + (lastname ?? ""))
///   active = state == "ACTIVATED"
/// }
/// "#).unwrap();
/// let user = serde_json::json!({"username": "ada", "firstname": "Ada", "lastname": "Lovelace", "state": "ACTIVATED"});
/// let payload = mapping.evaluate_user(&user).unwrap();
/// assert_eq!(payload["name"]["formatted"], "Ada Lovelace");
/// assert_eq!(payload["active"], true);
/// ```
pub struct Mapping {
    source: String,
    sections: Vec<(SectionKind, ir::Section)>,
    /// Per section, its expressions compiled.
    compiled: Vec<Compiled>,
    /// Per section, the top-level fields a record is read for (its id field included).
    fields: Vec<Option<crate::record::Fields>>,
    warnings: Vec<Diagnostic>,
    options: Options,
    profile: crate::profile::Profile,
    /// The file's declared extension schemas, which plans compare by.
    schemas: Vec<crate::schema::ScimSchema>,
    /// Per section, its targets as plans compare them.
    targets: Vec<Result<plan::Targets, plan::PlanError>>,
}

/// A mapping that did not compile: every diagnostic (errors and warnings), with its source.
#[derive(Debug, Clone)]
pub struct CompileError {
    pub diagnostics: Vec<Diagnostic>,
    pub source: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = crate::diagnostic::Counts::of(&self.diagnostics).errors;
        match self.diagnostics.iter().find(|d| d.is_error()) {
            Some(d) => {
                let (line, col) =
                    crate::diagnostic::LineIndex::new(&self.source).line_col(d.span.start);
                write!(f, "{line}:{col}: {} [{}]", d.message, d.code)?;
                if errors > 1 {
                    write!(f, " (and {} more errors)", errors - 1)?;
                }
                Ok(())
            }
            None => f.write_str("the mapping did not compile"),
        }
    }
}

impl std::error::Error for CompileError {}

impl miette::Diagnostic for CompileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| Box::new(d.code) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let d = self.diagnostics.iter().find(|d| d.is_error())?;
        let primary = miette::LabeledSpan::new_primary_with_span(d.label.clone(), d.span);
        let rest = d
            .labels
            .iter()
            .map(|l| miette::LabeledSpan::new_with_span(Some(l.message.clone()), l.span));
        Some(Box::new(std::iter::once(primary).chain(rest)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let d = self.diagnostics.iter().find(|d| d.is_error())?;
        d.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

/// One target of `eval --explain` and the WASM preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    pub target: String,
    /// `direct`, `const` or `expression`.
    pub kind: &'static str,
    pub source: String,
    pub line: usize,
    pub column: usize,
    /// `create TARGET = …`: sent on creation, never on update (reference §profile-create).
    pub create_only: bool,
    pub value: Option<Json>,
    pub error: Option<EntryError>,
}

/// The outcome of each entry for one record.
struct Run<'a> {
    slots: Vec<Slot<'a>>,
    /// The entries that failed, by index: most records have none.
    errors: Vec<(usize, EntryError)>,
}

impl Mapping {
    /// Compiles with default options.
    pub fn compile(source: &str) -> Result<Mapping, CompileError> {
        Mapping::compile_with(source, &Options::default())
    }

    pub fn compile_with(source: &str, options: &Options) -> Result<Mapping, CompileError> {
        Mapping::compile_bytes(source.as_bytes(), options)
    }

    /// Compiles file bytes: invalid UTF-8 is an error at its line; a leading BOM is skipped.
    pub fn compile_bytes(bytes: &[u8], options: &Options) -> Result<Mapping, CompileError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let source = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                let text = String::from_utf8_lossy(bytes).into_owned();
                let start = String::from_utf8_lossy(good).len();
                let line = good.iter().filter(|b| **b == b'\n').count() + 1;
                let d = Diagnostic::error(
                    "scimap::invalid-utf8",
                    Span::new(start, start + 3.min(text.len() - start)),
                    format!("the mapping is not valid UTF-8 (first bad byte on line {line})"),
                )
                .with_help("save the file as UTF-8");
                return Err(CompileError {
                    diagnostics: vec![d],
                    source: text,
                });
            }
        };
        let limits = &options.limits;
        if source.len() > limits.source_bytes {
            return Err(CompileError {
                diagnostics: vec![Diagnostic::error(
                    "scimap::limit",
                    Span::new(0, 0),
                    format!(
                        "the mapping is {} bytes, over the limit `source-bytes` ({})",
                        source.len(),
                        limits.source_bytes
                    ),
                )],
                source: String::new(),
            });
        }
        let file = parser::parse_file(source, limits).map_err(|diagnostics| CompileError {
            diagnostics,
            source: source.to_string(),
        })?;
        let checked = check::check(&file, source, limits, &options.allow);
        if checked.diagnostics.iter().any(Diagnostic::is_error) {
            return Err(CompileError {
                diagnostics: checked.diagnostics,
                source: source.to_string(),
            });
        }
        let fields = checked
            .sections
            .iter()
            .map(|(kind, section)| {
                section.fields_read().map(|mut f| {
                    let id = match kind {
                        SectionKind::User => Kind::User.id_field(),
                        SectionKind::Group => Kind::Group.id_field(),
                    };
                    if !f.iter().any(|name| name == id) {
                        f.push(id.to_string());
                    }
                    crate::record::Fields::new(f)
                })
            })
            .collect();
        let targets = checked
            .sections
            .iter()
            .map(|(kind, section)| {
                let kind = match kind {
                    SectionKind::User => Kind::User,
                    SectionKind::Group => Kind::Group,
                };
                let create_only = section
                    .entries
                    .iter()
                    .filter(|e| e.create_only)
                    .map(|e| e.target.clone())
                    .collect();
                let catalogue = catalogue(kind, &checked.schemas);
                plan::Targets::new(causes(section), create_only, &catalogue)
            })
            .collect();
        let compiled = checked
            .sections
            .iter()
            .map(|(_, section)| Compiled {
                program: Program::section(section),
                direct: section.payload.direct(section.entries.len()),
            })
            .collect();
        Ok(Mapping {
            source: source.to_string(),
            compiled,
            targets,
            fields,
            sections: checked.sections,
            profile: checked.profile,
            schemas: checked.schemas,
            warnings: checked.diagnostics,
            options: options.clone(),
        })
    }

    /// What the app accepts (reference §profile): the `app "…" { … }` settings, each one the
    /// file leaves out at its default.
    pub fn profile(&self) -> &crate::profile::Profile {
        &self.profile
    }

    /// The options it was compiled with, which its evaluations use.
    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// The warnings of a mapping that compiled.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn has_section(&self, kind: Kind) -> bool {
        self.section(kind).is_some()
    }

    pub(crate) fn section(&self, kind: Kind) -> Option<&ir::Section> {
        let k = kind.section();
        self.sections.iter().find(|(s, _)| *s == k).map(|(_, s)| s)
    }

    pub fn evaluate_user(&self, record: &Json) -> Result<Json, RecordError> {
        self.evaluate(Kind::User, record)
    }

    pub fn evaluate_group(&self, record: &Json) -> Result<Json, RecordError> {
        self.evaluate(Kind::Group, record)
    }

    /// Evaluates one record into its SCIM payload.
    pub fn evaluate(&self, kind: Kind, record: &Json) -> Result<Json, RecordError> {
        let section = self.section_for(kind)?;
        let record = self.view(kind, record)?;
        let slots = self.outcome(section, &record, Reading::default(), false)?;
        Ok(payload::assemble(
            &section.core_urn,
            &section.payload,
            &slots,
        ))
    }

    fn section_for(&self, kind: Kind) -> Result<&ir::Section, RecordError> {
        self.section(kind).ok_or_else(|| no_section(kind))
    }

    /// The top-level fields a record of this kind is read for; `None` for all of them.
    fn fields(&self, kind: Kind) -> Option<&crate::record::Fields> {
        let k = kind.section();
        self.sections
            .iter()
            .position(|(s, _)| *s == k)
            .and_then(|i| self.fields.get(i))
            .and_then(Option::as_ref)
    }

    /// A library record seen as the evaluator reads records, without copying its strings.
    fn view<'r>(&self, kind: Kind, record: &'r Json) -> Result<Doc<'r>, RecordError> {
        crate::record::check_depth(record, &self.options.limits)?;
        match record {
            Json::Object(map) => Ok(Doc::Object(Obj::from_json(
                map,
                self.fields(kind).map(crate::record::Fields::names),
            ))),
            other => Err(crate::record::not_an_object(json_kind(other))),
        }
    }

    /// Every entry's value, or every failure including required attributes left absent.
    /// `reading`: what reading the record already charged to `memory`, and where its fields are. For an `update`,
    /// only the entries that may change after creation (`changes`) are evaluated.
    fn outcome<'a>(
        &'a self,
        section: &'a ir::Section,
        record: &'a Doc<'a>,
        reading: Reading,
        update: bool,
    ) -> Result<Vec<Slot<'a>>, RecordError> {
        let run = self.run(section, record, reading, update)?;
        let mut errors: Vec<EntryError> = run.errors.into_iter().map(|(_, e)| e).collect();
        for (i, name) in &section.required {
            let entry = &section.entries[*i];
            if update && !self.changes(section, entry) {
                continue;
            }
            let failed = errors
                .iter()
                .any(|e| e.target.as_deref() == Some(name.as_str()));
            if matches!(run.slots.get(*i), Some(Slot::Absent)) && !failed {
                errors.push(required(name, entry));
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| (e.line, e.column));
            return Err(RecordError { errors });
        }
        Ok(run.slots)
    }

    /// Per target in file order: its kind, source, and value or error.
    pub fn explain(&self, kind: Kind, record: &Json) -> Vec<Explained> {
        let Some(section) = self.section(kind) else {
            return Vec::new();
        };
        let record = self.view(kind, record);
        let run = match record
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|r| self.run(section, r, Reading::default(), false))
        {
            Ok(run) => run,
            Err(e) => Run {
                slots: vec![Slot::Absent; section.entries.len()],
                errors: e
                    .errors
                    .into_iter()
                    .next()
                    .map(|e| (0..section.entries.len()).map(|i| (i, e.clone())).collect())
                    .unwrap_or_default(),
            },
        };
        let mut errors = run.errors.into_iter().peekable();
        section
            .entries
            .iter()
            .zip(run.slots)
            .enumerate()
            .map(|(i, (entry, slot))| Explained {
                target: entry.target.clone(),
                kind: match entry.source {
                    Source::Direct(_) => "direct",
                    Source::Const(_) => "const",
                    Source::Expr(_) => "expression",
                },
                source: entry.source_text.clone(),
                line: entry.line,
                column: entry.column,
                create_only: entry.create_only,
                value: match slot {
                    Slot::Absent => None,
                    Slot::One(v) => Some(v.to_json()),
                    Slot::Items(items) => Some(Json::Array(
                        items
                            .iter()
                            .map(|i| i.as_ref().map_or(Json::Null, Leaf::to_json))
                            .collect(),
                    )),
                },
                error: errors.next_if(|(at, _)| *at == i).map(|(_, e)| e),
            })
            .collect()
    }

    /// Evaluates a record read once with [`Record::parse`] and writes its payload to `out` as
    /// compact JSON (what [`scimap::json::write`](crate::json::write) prints for `evaluate`'s
    /// result). For an engine that sends the same users to several apps: one read, one
    /// evaluation per app's mapping.
    ///
    /// ```
    /// let trello = scimap::Mapping::compile("user {\n  userName = $.username\n}").unwrap();
    /// let slack = scimap::Mapping::compile("user {\n  userName = lower(email)\n}").unwrap();
    /// let line = br#"{"username": "ada", "email": "Ada@Example.com"}"#;
    /// let record = scimap::Record::parse(line, &scimap::Limits::default()).unwrap();
    /// let mut out = Vec::new();
    /// trello.write_payload(scimap::Kind::User, &record, &mut out).unwrap();
    /// out.push(b'\n');
    /// slack.write_payload(scimap::Kind::User, &record, &mut out).unwrap();
    /// assert_eq!(
    ///     String::from_utf8(out).unwrap(),
    ///     "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada\"}\n\
    ///      {\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada@example.com\"}"
    /// );
    /// ```
    pub fn write_payload(
        &self,
        kind: Kind,
        record: &Record<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        let section = self.section_for(kind)?;
        let reading = Reading::memory(record.memory);
        if self.write_direct(section, &record.doc, reading, out)? {
            return Ok(());
        }
        let slots = self.outcome(section, &record.doc, reading, false)?;
        payload::write(&section.core_urn, &section.payload, &slots, out);
        Ok(())
    }

    /// Bulk: one input line (no `\n`) → one output line appended to `out` (no `\n`): the
    /// payload, or the error object with `line` and `id`. Returns whether the record succeeded.
    pub fn evaluate_line(
        &self,
        kind: Kind,
        line: &[u8],
        line_no: usize,
        out: &mut Vec<u8>,
    ) -> bool {
        let read = self
            .section_for(kind)
            .and_then(|section| Ok((section, self.read_line(line, self.fields(kind), None)?)));
        let (section, (record, reading)) = match read {
            Ok(read) => read,
            Err(e) => {
                crate::json::write(&e.to_json(Some(line_no), None), out);
                return false;
            }
        };
        let outcome = match self.write_direct(section, &record, reading, out) {
            Ok(true) => return true,
            Ok(false) => self.outcome(section, &record, reading, false),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(slots) => {
                payload::write(&section.core_urn, &section.payload, &slots, out);
                true
            }
            Err(e) => {
                let id = match &record {
                    Doc::Object(fields) => match fields.get(kind.id_field()) {
                        Some(Doc::Str(id)) => Some(&**id),
                        _ => None,
                    },
                    _ => None,
                };
                crate::json::write(&e.to_json(Some(line_no), id), out);
                false
            }
        }
    }

    /// The requests that bring the app's resource to what the mapping makes of `record`
    /// (reference §plan). `current` is the resource as last read back from the app; `None`:
    /// the app has none, so a POST of the whole payload. An update evaluates only the entries
    /// that may change after creation (not `create` ones; only those the profile's
    /// `updatable` names), and is empty when none of them differs.
    ///
    /// ```
    /// let mapping = scimap::Mapping::compile(r#"
    /// app "Example" {
    ///   updatable = [active]
    /// }
    /// user {
    ///   userName = $.username
    ///   active = state == "ACTIVATED"
    /// }
    /// "#).unwrap();
    /// let user = serde_json::json!({"username": "ada", "state": "SUSPENDED"});
    /// let current = serde_json::json!({"id": "42", "userName": "ADA", "active": true});
    /// let plan = mapping.plan(scimap::Kind::User, &user, Some(&current)).unwrap();
    /// assert_eq!(plan.to_json(), serde_json::json!([{
    ///     "method": "PATCH",
    ///     "path": "/Users/42",
    ///     "body": {
    ///         "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ///         "Operations": [{"op": "replace", "path": "active", "value": false}]
    ///     }
    /// }]));
    /// assert_eq!(plan.requests[0].causes[0][0].line, 7);
    /// ```
    pub fn plan(
        &self,
        kind: Kind,
        record: &Json,
        current: Option<&Json>,
    ) -> Result<Plan, RecordError> {
        let section = self.section_for(kind)?;
        let current = self.current(current)?;
        let record = self.view(kind, record)?;
        self.plan_doc(kind, section, &record, Reading::default(), current.as_ref())
    }

    /// The app's resource seen as records are, once its nesting is known to be bounded.
    fn current<'c>(&self, current: Option<&'c Json>) -> Result<Option<Doc<'c>>, RecordError> {
        let Some(current) = current else {
            return Ok(None);
        };
        crate::record::check_depth(current, &self.options.limits)
            .map_err(RecordError::of_current)?;
        Ok(Some(Doc::from_json(current)))
    }

    /// A group's plan (as [`Mapping::plan`]) followed by its membership: `members` are the
    /// app's ids of the users who should be members. On an update, PATCH `add`s and `remove`s
    /// of `members` against the current resource's members, at most the profile's
    /// `maxPatchOperations` a request; on creation, the members go in the POST.
    pub fn plan_group(
        &self,
        record: &Json,
        current: Option<&Json>,
        members: &[String],
    ) -> Result<Plan, RecordError> {
        let mut plan = self.plan(Kind::Group, record, current)?;
        self.add_membership(&mut plan, self.current(current)?.as_ref(), members)?;
        Ok(plan)
    }

    /// Deactivation as a plan of its own (reference §plan-deactivate): `active` false on the
    /// app's user, nothing else changed, no record evaluated.
    pub fn deactivate(&self, current: &Json) -> Result<Plan, RecordError> {
        let targets = self.targets(Kind::User)?;
        crate::record::check_depth(current, &self.options.limits)
            .map_err(RecordError::of_current)?;
        plan::deactivate(
            current,
            targets.mapped(),
            &self.profile,
            &catalogue(Kind::User, &self.schemas),
        )
        .map_err(plan_failure)
    }

    /// Bulk planning: one input line (no `\n`), `{"record": …, "current": … or null}` (a
    /// group's also `"members": [ids]`), → one output line appended to `out` (no `\n`): the
    /// plan's requests as a JSON array, or the error object with `line` and `id`, as
    /// [`Mapping::evaluate_line`] writes it. Returns whether the pair succeeded.
    pub fn plan_line(&self, kind: Kind, line: &[u8], line_no: usize, out: &mut Vec<u8>) -> bool {
        let mut id = None;
        let start = out.len();
        match self.plan_pair(kind, line, &mut id, out) {
            Ok(Some(plan)) => {
                plan.write(out);
                true
            }
            // Written as it was made.
            Ok(None) => true,
            Err(e) => {
                out.truncate(start);
                crate::json::write(&e.to_json(Some(line_no), id.as_deref()), out);
                false
            }
        }
    }

    /// The plan of one pair; `None` when it was a POST, already written to `out` (the payload
    /// written straight from the evaluation, as `bulk` writes it).
    fn plan_pair(
        &self,
        kind: Kind,
        line: &[u8],
        id: &mut Option<String>,
        out: &mut Vec<u8>,
    ) -> Result<Option<Plan>, RecordError> {
        let section = self.section_for(kind)?;
        let not_a_pair = || bad_pair("the line is not a JSON object");
        let read = self.read_line(line, self.fields(kind), Some("record"));
        let (pair, reading) = read.map_err(|e| match e.errors.first() {
            Some(first) if first.code == "scimap::not-an-object" => not_a_pair(),
            _ => e,
        })?;
        let Doc::Object(pair) = &pair else {
            return Err(not_a_pair());
        };
        let record = match pair.get("record") {
            Some(record @ Doc::Object(fields)) => {
                if let Some(Doc::Str(s)) = fields.get(kind.id_field()) {
                    *id = Some(s.to_string());
                }
                record
            }
            Some(other) => {
                return Err(bad_pair(&format!(
                    "`record` is {}, not a JSON object",
                    other.kind()
                )))
            }
            None => return Err(bad_pair("the line has no `record`")),
        };
        let current = match pair.get("current") {
            None | Some(Doc::Null) => None,
            Some(current) => Some(current),
        };
        if current.is_none() && pair.get("members").is_none() {
            self.targets(kind)?;
            let slots = self.outcome(section, record, reading, false)?;
            let catalogue = catalogue(kind, &self.schemas);
            out.push(b'[');
            plan::write_request(plan::Method::Post, plan::endpoint(&catalogue), out);
            payload::write(&section.core_urn, &section.payload, &slots, out);
            out.extend_from_slice(b"}]");
            return Ok(None);
        }
        let mut plan = self.plan_doc(kind, section, record, reading, current)?;
        if let Some(members) = pair.get("members") {
            let ids = match (kind, members) {
                (Kind::Group, Doc::Array(items)) => items
                    .iter()
                    .map(|m| match m {
                        Doc::Str(s) => Ok(s.to_string()),
                        _ => Err(bad_pair("`members` holds something other than a string id")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                (Kind::Group, _) => return Err(bad_pair("`members` is not an array of ids")),
                (Kind::User, _) => return Err(bad_pair("a user has no `members`")),
            };
            self.add_membership(&mut plan, current, &ids)?;
        }
        Ok(Some(plan))
    }

    fn plan_doc<'a>(
        &self,
        kind: Kind,
        section: &'a ir::Section,
        record: &'a Doc<'a>,
        reading: Reading,
        current: Option<&Doc<'_>>,
    ) -> Result<Plan, RecordError> {
        let targets = self.targets(kind)?;
        let slots = self.outcome(section, record, reading, current.is_some())?;
        let catalogue = catalogue(kind, &self.schemas);
        let Some(current) = current else {
            let desired = payload::assemble(&section.core_urn, &section.payload, &slots);
            return Ok(plan::create(desired, targets.mapped(), &catalogue));
        };
        // A record tree rather than a `serde_json::Value`: hashing the keys of `serde_json`'s
        // maps was most of a plan's cost.
        let desired = payload::assemble_doc(&section.core_urn, &section.payload, &slots);
        let profile = self.profile_for(kind);
        plan::update(&desired, current, targets, &profile, &catalogue).map_err(plan_failure)
    }

    fn add_membership(
        &self,
        plan: &mut Plan,
        current: Option<&Doc<'_>>,
        members: &[String],
    ) -> Result<(), RecordError> {
        let Some(current) = current else {
            // Creation: the members go in the POST.
            if let Some(Json::Object(body)) = plan.requests.first_mut().map(|r| &mut r.body) {
                if !members.is_empty() {
                    let list = members.iter().map(|id| json!({"value": id})).collect();
                    body.insert("members".to_owned(), Json::Array(list));
                }
            }
            return Ok(());
        };
        let max = self.profile.max_patch_operations;
        let membership = plan::membership_of(current, members, max).map_err(plan_failure)?;
        plan.requests.extend(membership.requests);
        Ok(())
    }

    /// A section's targets as plans compare them.
    fn targets(&self, kind: Kind) -> Result<&plan::Targets, RecordError> {
        let k = kind.section();
        let i = self.sections.iter().position(|(s, _)| *s == k);
        match i.and_then(|i| self.targets.get(i)) {
            Some(Ok(targets)) => Ok(targets),
            Some(Err(e)) => Err(plan_failure(e.clone())),
            // Kept beside each section: missing only with the section.
            None => Err(no_section(kind)),
        }
    }

    /// Whether an entry is evaluated for an update: not create-only, and named by the
    /// profile's `updatable` (when it has one, for users).
    fn changes(&self, section: &ir::Section, entry: &ir::Entry) -> bool {
        let group = section.core_urn.as_ref() != crate::schema::core_user().urn;
        !entry.create_only
            && (group
                || self
                    .profile
                    .updatable
                    .as_deref()
                    .is_none_or(|u| plan::covered(u, &entry.target)))
    }

    /// The profile as plans of a kind read it: `updatable` and `patchOnly` name user
    /// attributes (the profile checks them against the User schema), so a group's attributes
    /// may all change, each as the update style says.
    fn profile_for(&self, kind: Kind) -> std::borrow::Cow<'_, crate::profile::Profile> {
        match kind {
            Kind::User => std::borrow::Cow::Borrowed(&self.profile),
            Kind::Group => std::borrow::Cow::Owned(crate::profile::Profile {
                updatable: None,
                patch_only: Vec::new(),
                ..self.profile.clone()
            }),
        }
    }

    /// Reads a bulk line as far as the section needs; with the memory reading it charged.
    /// `inside`: the fields are those of the object under that key (a plan pair's `record`),
    /// and every top-level field is kept.
    fn read_line<'l>(
        &self,
        line: &'l [u8],
        fields: Option<&crate::record::Fields>,
        inside: Option<&str>,
    ) -> Result<(Doc<'l>, Reading), RecordError> {
        let limits = &self.options.limits;
        if line.len() > limits.line_bytes {
            return Err(RecordError::whole(
                "scimap::limit",
                format!(
                    "the record is over the limit `line-bytes` ({})",
                    limits.line_bytes
                ),
            ));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(RecordError::whole(
                "scimap::empty-line",
                "the line is empty: expected a JSON object",
            ));
        }
        // Without a field list every field is kept, inside `inside` too.
        let read = match fields {
            Some(fields) => crate::record::read_fields(line, limits, fields, inside),
            None => crate::record::read(line, limits, None)
                .map(|(obj, memory)| (obj, Reading::memory(memory))),
        };
        read.map(|(obj, reading)| (Doc::Object(obj), reading))
    }

    /// The evaluation of one record through a section (`compiled`: its compiled form, when it
    /// is one of this mapping's): its budget charged with the reading.
    fn context<'a>(
        &'a self,
        section: &'a ir::Section,
        compiled: Option<&'a Compiled>,
        record: &'a Doc<'a>,
        reading: Reading,
    ) -> Result<Ctx<'a>, RecordError> {
        let Doc::Object(fields) = record else {
            return Err(crate::record::not_an_object(record.kind()));
        };
        let mut budget = Budget::new(&self.options.limits);
        budget
            .alloc(reading.memory)
            .map_err(|e| RecordError::whole(e.code, e.into_message()))?;
        let mut ctx = Ctx::new(
            record,
            fields,
            section,
            compiled.map(|c| &c.program),
            budget,
            self.now(),
        );
        ctx.found_at(reading.positions);
        Ok(ctx)
    }

    /// A section's compiled form (the section is one of this mapping's: its compiled form sits
    /// at the same position).
    fn compiled(&self, section: &ir::Section) -> Option<&Compiled> {
        self.sections
            .iter()
            .position(|(_, s)| std::ptr::eq(s, section))
            .and_then(|i| self.compiled.get(i))
    }

    /// The payload of a record written as its entries are evaluated (`payload::write_direct`):
    /// `Ok(false)` when the section's payload cannot be written so, or the record cannot be
    /// evaluated at all (the general way then reports why); the record's errors as the general
    /// way gives them, with `out` as it was, when an entry fails or a required attribute is
    /// absent.
    fn write_direct<'a>(
        &'a self,
        section: &'a ir::Section,
        record: &'a Doc<'a>,
        reading: Reading,
        out: &mut Vec<u8>,
    ) -> Result<bool, RecordError> {
        let Some(compiled) = self.compiled(section).filter(|c| c.direct) else {
            return Ok(false);
        };
        let Ok(mut ctx) = self.context(section, Some(compiled), record, reading) else {
            return Ok(false);
        };
        let start = out.len();
        let mut errors = Vec::new();
        let mut value = |i: usize, out: &mut Vec<u8>| {
            let Some(entry) = section.entries.get(i) else {
                return false;
            };
            match write_entry(&mut ctx, i, entry, record, out) {
                Ok(true) => true,
                Ok(false) => {
                    if let Some((_, name)) = section.required.iter().find(|(r, _)| *r == i) {
                        errors.push(required(name, entry));
                    }
                    false
                }
                Err(e) => {
                    errors.push(failed(entry, e));
                    false
                }
            }
        };
        payload::write_direct(&section.core_urn, &section.payload, out, &mut value);
        if errors.is_empty() {
            return Ok(true);
        }
        out.truncate(start);
        errors.sort_by_key(|e| (e.line, e.column));
        Err(RecordError { errors })
    }

    /// Evaluates every entry of a section for one record (for an `update`, every entry that
    /// `changes`).
    fn run<'a>(
        &'a self,
        section: &'a ir::Section,
        record: &'a Doc<'a>,
        reading: Reading,
        update: bool,
    ) -> Result<Run<'a>, RecordError> {
        let mut ctx = self.context(section, self.compiled(section), record, reading)?;
        let mut slots = Vec::with_capacity(section.entries.len());
        let mut errors = Vec::new();
        for (i, entry) in section.entries.iter().enumerate() {
            if update && !self.changes(section, entry) {
                slots.push(Slot::Absent);
                continue;
            }
            match entry_slot(&mut ctx, i, entry, record) {
                Ok(slot) => slots.push(slot),
                Err(e) => {
                    slots.push(Slot::Absent);
                    errors.push((i, failed(entry, e)));
                }
            }
        }
        Ok(Run { slots, errors })
    }

    /// The fixed clock of the options; `None`: the system clock, read when `now()` is first
    /// evaluated for a record.
    fn now(&self) -> Option<Time> {
        clock(&self.options)
    }
}

/// The fixed clock of `options`; `None`: the system clock, read when `now()` is first
/// evaluated for a record.
pub(crate) fn clock(options: &Options) -> Option<Time> {
    options.now.map(|t| Time {
        instant: t.to_utc(),
        zone: Zone::Fixed(*t.offset()),
    })
}

/// The resource type's schemas and a file's declared extensions.
fn catalogue(kind: Kind, declared: &[crate::schema::ScimSchema]) -> plan::Catalogue<'_> {
    let base = match kind {
        Kind::User => plan::Catalogue::user(),
        Kind::Group => plan::Catalogue::group(),
    };
    plan::Catalogue::extended(base, declared)
}

/// Every entry of a section as a plan names it.
fn causes(section: &ir::Section) -> Vec<Cause> {
    section
        .entries
        .iter()
        .map(|e| Cause {
            target: e.target.clone(),
            line: e.line,
            column: e.column,
        })
        .collect()
}

/// A plan that cannot be made: the current resource is not one the app could have sent.
fn plan_failure(e: plan::PlanError) -> RecordError {
    let code = match e {
        plan::PlanError::Target(_) => "scimap::plan",
        plan::PlanError::NotAnObject | plan::PlanError::NoId | plan::PlanError::TooDeep => {
            "scimap::current"
        }
    };
    RecordError::whole(code, e.to_string())
}

/// A `plan --input` line that is not a pair.
fn bad_pair(why: &str) -> RecordError {
    RecordError::whole(
        "scimap::pair",
        format!("{why}: expected {{\"record\": {{…}}, \"current\": {{…}} or null}}"),
    )
}

fn no_section(kind: Kind) -> RecordError {
    RecordError::whole(
        "scimap::no-section",
        format!("the mapping has no {} section", kind_name(kind)),
    )
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Group => "group",
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A record read once — valid RFC 8259 JSON, an object, within the limits — for any number of
/// [`Mapping::write_payload`] calls. Strings stay slices of the input where they can.
#[derive(Debug)]
pub struct Record<'a> {
    doc: Doc<'a>,
    /// What reading it charged to `memory`: every evaluation of it starts from there.
    memory: usize,
}

impl<'a> Record<'a> {
    pub(crate) fn doc(&self) -> &Doc<'a> {
        &self.doc
    }

    pub(crate) fn memory(&self) -> usize {
        self.memory
    }
}

impl<'a> Record<'a> {
    /// Reads a record as `bulk` does, keeping every field.
    pub fn parse(bytes: &'a [u8], limits: &Limits) -> Result<Record<'a>, RecordError> {
        crate::record::read(bytes, limits, None).map(|(fields, memory)| Record {
            doc: Doc::Object(fields),
            memory,
        })
    }
}

/// Reads one record as `bulk` and `eval` do: RFC 8259 JSON, an object, within the limits.
pub fn parse_record(bytes: &[u8], limits: &Limits) -> Result<Json, RecordError> {
    crate::record::read(bytes, limits, None).map(|(record, _)| Json::Object(record.to_json()))
}

/// An entry's failure for this record.
fn failed(entry: &ir::Entry, e: EvalError) -> EntryError {
    EntryError {
        target: Some(entry.target.clone()),
        code: e.code.to_string(),
        message: e.into_message(),
        line: Some(entry.line),
        column: Some(entry.column),
    }
}

/// A required attribute (canonically `name`) its entry left absent for this record.
fn required(name: &str, entry: &ir::Entry) -> EntryError {
    EntryError {
        target: Some(name.to_string()),
        code: "scimap::required".into(),
        message: format!("the required attribute `{name}` has no value for this record"),
        line: Some(entry.line),
        column: Some(entry.column),
    }
}

/// A section's expressions compiled, and how its payload is written.
struct Compiled {
    program: Program,
    /// Whether a record's payload is written as its entries are evaluated.
    direct: bool,
}

/// One entry's value for this record.
fn entry_slot<'a>(
    ctx: &mut Ctx<'a>,
    i: usize,
    entry: &'a ir::Entry,
    record: &'a Doc<'a>,
) -> Result<Slot<'a>, EvalError> {
    if entry.element_wise {
        let items: Vec<Value<'a>> = match &entry.source {
            Source::Direct(ir::Path::Simple(segments)) => {
                match path::select(segments, record, true) {
                    Found::Positions(v) => v
                        .into_iter()
                        .map(|n| n.map_or(Value::Nil, Value::from_doc))
                        .collect(),
                    Found::Nodes(nodes) => match nodes.as_slice() {
                        [Doc::Array(items)] => items.iter().map(Value::from_doc).collect(),
                        [Doc::Null] | [] => Vec::new(),
                        nodes => nodes.iter().map(|n| Value::from_doc(n)).collect(),
                    },
                }
            }
            Source::Direct(ir::Path::General(p)) => match p.select(record, &mut ctx.budget)?[..] {
                [Doc::Array(ref items)] => items.iter().map(Value::from_doc).collect(),
                [Doc::Null] | [] => Vec::new(),
                ref nodes => nodes.iter().map(|n| Value::from_doc(n)).collect(),
            },
            Source::Const(Doc::Array(items)) => items.iter().map(Value::from_doc).collect(),
            Source::Const(_) => Vec::new(),
            Source::Expr(node) => match ctx.entry(i, node)? {
                Value::List(l) => l.iter().collect(),
                Value::Nil => Vec::new(),
                other => {
                    return Err(EvalError::type_error(format!(
                        "`{}` is element-wise and needs a list, got {}",
                        entry.target,
                        other.type_name()
                    )))
                }
            },
        };
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            out.push(payload::convert(item, entry.ty)?);
        }
        return Ok(Slot::Items(out));
    }
    Ok(match entry_leaf(ctx, i, entry, record)? {
        Some(v) => Slot::One(v),
        None => Slot::Absent,
    })
}

/// The JSON value of an entry that is not element-wise, converted for its target, appended to
/// `out`; `false`, nothing appended, when it is absent.
#[inline]
fn write_entry<'a>(
    ctx: &mut Ctx<'a>,
    i: usize,
    entry: &'a ir::Entry,
    record: &'a Doc<'a>,
    out: &mut Vec<u8>,
) -> Result<bool, EvalError> {
    if let Some(field) = ctx.entry_field(i) {
        return payload::write_doc(field?, entry.ty, out);
    }
    let value = match &entry.source {
        // A string is written as it is made, never made a value (an empty one is absent).
        Source::Expr(node) if entry.ty.takes_string() => {
            let start = out.len();
            match ctx.entry_str(i, node, out)? {
                Written::Str(0) => {
                    out.truncate(start);
                    return Ok(false);
                }
                Written::Str(_) => return Ok(true),
                Written::Value(v) => v,
            }
        }
        _ => entry_value(ctx, i, entry, record)?,
    };
    payload::write_value(&value, entry.ty, out)
}

/// The value of an entry that is not element-wise, converted for its target; `None`: absent.
#[inline]
fn entry_leaf<'a>(
    ctx: &mut Ctx<'a>,
    i: usize,
    entry: &'a ir::Entry,
    record: &'a Doc<'a>,
) -> Result<Option<Leaf<'a>>, EvalError> {
    if let Some(field) = ctx.entry_field(i) {
        return payload::convert_doc(field?, entry.ty);
    }
    payload::convert(&entry_value(ctx, i, entry, record)?, entry.ty)
}

/// The value of an entry that is not a record field as it is.
#[inline]
fn entry_value<'a>(
    ctx: &mut Ctx<'a>,
    i: usize,
    entry: &'a ir::Entry,
    record: &'a Doc<'a>,
) -> Result<Value<'a>, EvalError> {
    Ok(match &entry.source {
        Source::Direct(ir::Path::Simple(segments)) => match path::select(segments, record, false) {
            Found::Nodes(nodes) => only(nodes.into_iter().map(Value::from_doc).collect(), entry)?,
            Found::Positions(_) => Value::Nil,
        },
        Source::Direct(ir::Path::General(p)) => only(
            p.select(record, &mut ctx.budget)?
                .into_iter()
                .map(Value::from_doc)
                .collect(),
            entry,
        )?,
        Source::Const(v) => Value::from_doc(v),
        Source::Expr(node) => ctx.entry(i, node)?,
    })
}

/// The one value a path found for a single-valued target (nil when none).
fn only<'a>(mut values: Vec<Value<'a>>, entry: &ir::Entry) -> Result<Value<'a>, EvalError> {
    if values.len() > 1 {
        return Err(EvalError::new(
            "scimap::several-values",
            format!(
                "the path found {} values, but `{}` holds one",
                values.len(),
                entry.target
            ),
        ));
    }
    Ok(values.pop().unwrap_or(Value::Nil))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<Mapping>();
        shared::<crate::Expression>();
    }

    /// Which sections write their payload as their entries are evaluated: the fast-path
    /// tests compare it with the general way only where it is taken.
    #[test]
    fn payloads_are_written_directly_unless_an_entry_is_element_wise() {
        let direct = |source: &str| {
            let mapping = Mapping::compile(source).expect("compiles");
            mapping
                .compiled
                .iter()
                .map(|c| c.direct)
                .collect::<Vec<_>>()
        };
        assert_eq!(direct(include_str!("../benches/trello15.scimap")), [true]);
        assert_eq!(
            direct(include_str!("../examples/trello.scimap")),
            [true, true]
        );
        assert_eq!(
            direct("user {\n  userName = username\n  addresses[].locality = $.addresses[*].locality\n}"),
            [false]
        );
    }
}
