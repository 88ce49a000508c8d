//! Mapping tests (reference §testing): read a test file, run its cases against the mapping on
//! several threads, and report what differs, with the mapping entry behind each difference
//! and, on request, the mapping's coverage.
//!
//! ```
//! use scimap::testing::{self, RunOptions, TestFile};
//! let file = TestFile::parse(r#"
//! [[case]]
//! name = "active user"
//! record = { username = "ada", state = "ACTIVATED" }
//! expect = { "/userName" = "ada", "/active" = true }
//! "#, &scimap::Limits::default()).unwrap();
//! let source = "user {\n  userName = $.username\n  active = state == \"ACTIVATED\"\n}";
//! let records = testing::records(&file, None, &scimap::Limits::default()).unwrap();
//! let report = testing::run(source, &scimap::Options::default(), &file, &records, &RunOptions::default()).unwrap();
//! assert_eq!((report.passed(), report.failed()), (1, 0));
//! ```

pub mod coverage;
mod diff;
mod file;

pub use coverage::{BranchCoverage, Coverage, EntryCoverage};
pub use diff::MAX_DIFFERENCES;
pub use file::{
    bless, Case, ExpectedError, FileError, Pick, RecordSource, TestFile, MAX_FILE_BYTES,
};

use crate::bulk::records::Records;
use crate::mapping::{CompileError, Kind, Mapping, Options};
use crate::record::{EntryError, RecordError};
use crate::Limits;
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value as Json};
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How to run a test file.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads (at least one).
    pub threads: usize,
    /// Gather coverage (each case is then also evaluated entry by entry, recording branches).
    pub coverage: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            coverage: false,
        }
    }
}

/// The entry of the mapping a difference is blamed on.
#[derive(Debug, Clone, PartialEq)]
pub struct Blame {
    pub target: String,
    pub line: usize,
    pub column: usize,
}

/// One thing a case expected that did not happen.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// What was compared: `payload`, `plan` or `errors`.
    pub what: &'static str,
    /// Where, as a JSON pointer into the payload or plan (empty: the whole of it).
    pub path: String,
    /// What the case expected there and what the mapping gave (`None`: nothing there).
    pub expected: Option<Json>,
    pub actual: Option<Json>,
    /// The mapping entry that produced (or should have produced) the value.
    pub entry: Option<Blame>,
}

/// A case's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    pub name: String,
    /// Where the case is in the test file.
    pub line: usize,
    pub column: usize,
    /// Empty when the case passed.
    pub mismatches: Vec<Mismatch>,
    /// The payload and plan the mapping gave, for `--bless` (`None`: not asked, or failed).
    pub payload: Option<Json>,
    pub plan: Option<Json>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// `{name, line, column, passed, mismatches}`, as `scimap test --format json` and the
    /// WASM module report a case.
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name,
            "line": self.line,
            "column": self.column,
            "passed": self.passed(),
            "mismatches": self.mismatches.iter().map(Mismatch::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Mismatch {
    /// `{what, path, expected, actual, entry: {target, line, column} or null}`.
    pub fn to_json(&self) -> Json {
        json!({
            "what": self.what,
            "path": self.path,
            "expected": self.expected,
            "actual": self.actual,
            "entry": self.entry.as_ref().map(|e| json!({
                "target": e.target,
                "line": e.line,
                "column": e.column,
            })),
        })
    }
}

/// Every case's outcome, in file order, and the coverage when asked for.
#[derive(Debug, Clone)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    pub coverage: Option<Coverage>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Each case's record: its inline one, or the one it picks from `fixtures` (the file the test
/// file names: NDJSON or a JSON array). The fixtures are read once, one record at a time, and
/// only the records picked are kept. A case whose record cannot be had is an error naming the
/// case's line.
pub fn records<'f>(
    file: &'f TestFile,
    fixtures: Option<&mut dyn BufRead>,
    limits: &Limits,
) -> Result<Vec<Cow<'f, Json>>, FileError> {
    let mut out: Vec<Option<Cow<'f, Json>>> = file
        .cases
        .iter()
        .map(|c| match &c.record {
            RecordSource::Inline(json) => Some(Cow::Borrowed(json)),
            RecordSource::Fixture(_) => None,
        })
        .collect();
    if let Some(first) = out.iter().position(Option::is_none) {
        let Some(fixtures) = fixtures else {
            let needs = "a `fixture` needs `fixtures = \"FILE\"` at the top of the test file";
            return Err(case_error(&file.cases[first], needs.into()));
        };
        pick_fixtures(file, fixtures, limits, &mut out)?;
    }
    file.cases
        .iter()
        .zip(out)
        .map(|(case, record)| match (record, &case.record) {
            (Some(record), _) => Ok(record),
            (None, RecordSource::Fixture(pick)) => {
                let what = match pick {
                    Pick::Line(n) => format!("no record starts on line {n}"),
                    Pick::Id(id) => format!("no record has {} = {id:?}", id_field(case.kind)),
                    Pick::Where(fields) => format!(
                        "no record has {}",
                        fields
                            .iter()
                            .map(|(k, v)| format!("{k} = {v}"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                };
                Err(case_error(case, format!("no fixture selected: {what}")))
            }
            (None, RecordSource::Inline(json)) => Ok(Cow::Borrowed(json)),
        })
        .collect()
}

fn case_error(case: &Case, message: String) -> FileError {
    FileError {
        line: case.line,
        column: case.column,
        message: format!("case \"{}\": {message}", case.name),
    }
}

fn id_field(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "_id",
        Kind::Group => "id",
    }
}

/// Fills `out[i]` for each case picking from the fixtures, reading them until every pick is
/// found or the file ends.
fn pick_fixtures<'f>(
    file: &'f TestFile,
    fixtures: &mut dyn BufRead,
    limits: &Limits,
    out: &mut [Option<Cow<'f, Json>>],
) -> Result<(), FileError> {
    let picks: Vec<(usize, &Case, &Pick)> = file
        .cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.record {
            RecordSource::Fixture(pick) => Some((i, c, pick)),
            RecordSource::Inline(_) => None,
        })
        .collect();
    let mut records = Records::new(fixtures, limits.line_bytes);
    loop {
        let pending = || picks.iter().filter(|(i, ..)| out[*i].is_none());
        let Some(&(_, first, _)) = pending().next() else {
            return Ok(());
        };
        let record = records
            .next_record()
            .map_err(|e| case_error(first, format!("the fixtures file: {e}")))?;
        let Some(record) = record else {
            return Ok(());
        };
        // Only a field match, or the line asked for, needs the record parsed.
        let wanted = pending().any(|(_, _, p)| !matches!(p, Pick::Line(n) if *n != record.line));
        if !wanted {
            continue;
        }
        let parsed = match &record.text {
            Some(text) => crate::parse_record(text, limits),
            None => Err(RecordError::over_line_bytes(limits.line_bytes)),
        };
        let found: Vec<(usize, &Case)> = pending()
            .filter(|(_, case, pick)| match (pick, &parsed) {
                (Pick::Line(n), _) => *n == record.line,
                (_, Err(_)) => false,
                (Pick::Id(id), Ok(r)) => {
                    r.get(id_field(case.kind)).and_then(Json::as_str) == Some(id.as_str())
                }
                (Pick::Where(fields), Ok(r)) => fields
                    .iter()
                    .all(|(k, v)| r.get(k).is_some_and(|x| diff::same(x, v))),
            })
            .map(|&(i, case, _)| (i, case))
            .collect();
        for (i, case) in found {
            match &parsed {
                Ok(r) => out[i] = Some(Cow::Owned(r.clone())),
                Err(e) => {
                    let why = format!("the fixture at line {}: {}", record.line, e.message());
                    return Err(case_error(case, why));
                }
            }
        }
    }
}

/// Runs every case of `file` against the mapping `source` (compiled with `options`, once per
/// clock the cases set), `records[i]` being case i's record (see [`records`]).
pub fn run(
    source: &str,
    options: &Options,
    file: &TestFile,
    records: &[Cow<'_, Json>],
    run: &RunOptions,
) -> Result<Report, CompileError> {
    // One compiled mapping per clock: `now` is a compile option.
    let mut clocks: Vec<Option<DateTime<FixedOffset>>> = vec![file.now.or(options.now)];
    for case in &file.cases {
        let now = case.now.or(file.now).or(options.now);
        if !clocks.contains(&now) {
            clocks.push(now);
        }
    }
    let mut mappings = Vec::with_capacity(clocks.len());
    for now in &clocks {
        let options = Options {
            now: *now,
            ..options.clone()
        };
        mappings.push(Mapping::compile_with(source, &options)?);
    }
    let next = AtomicUsize::new(0);
    let threads = run.threads.clamp(1, file.cases.len().max(1));
    let work = || {
        let mut done = Vec::new();
        let mut tally = coverage::Tally::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (Some(case), Some(record)) = (file.cases.get(i), records.get(i)) else {
                break;
            };
            let now = case.now.or(file.now).or(options.now);
            let m = clocks.iter().position(|c| *c == now).unwrap_or(0);
            let mapping = &mappings[m];
            done.push((i, run_case(mapping, case, record)));
            if run.coverage {
                let (explained, hits) =
                    crate::eval::coverage::record(|| mapping.explain(case.kind, record));
                let valued = explained
                    .iter()
                    .map(|e| e.value.is_some() && e.error.is_none());
                tally.case(case.kind, valued, hits);
            }
        }
        (done, tally)
    };
    let mut results: Vec<Option<CaseResult>> = vec![None; file.cases.len()];
    let mut tally = coverage::Tally::default();
    let finished: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    // As `bulk`'s workers: evaluation recurses once per level of nesting.
                    .stack_size(8 << 20)
                    .spawn_scoped(s, work)
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h.join().unwrap_or_default(),
                // No thread could be made: this one does the work.
                Err(_) => work(),
            })
            .collect()
    });
    for (done, t) in finished {
        for (i, r) in done {
            results[i] = Some(r);
        }
        tally.merge(t);
    }
    Ok(Report {
        cases: results.into_iter().flatten().collect(),
        coverage: run.coverage.then(|| tally.coverage(&mappings[0])),
    })
}

fn run_case(mapping: &Mapping, case: &Case, record: &Json) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        line: case.line,
        column: case.column,
        mismatches: Vec::new(),
        payload: None,
        plan: None,
    };
    let wants_payload = !case.expect.is_empty()
        || !case.absent.is_empty()
        || case.payload.is_some()
        || case.errors.is_some()
        || !case.has_expectation();
    if wants_payload {
        match mapping.evaluate(case.kind, record) {
            Ok(payload) => {
                check_payload(mapping, case, &payload, &mut result.mismatches);
                result.payload = Some(payload);
            }
            Err(e) => check_errors(case, &e, &mut result.mismatches),
        }
    }
    if let Some(expected) = &case.plan {
        match mapping.plan(case.kind, record, case.current.as_ref()) {
            Ok(plan) => {
                let actual = plan.to_json();
                let mut found = Vec::new();
                diff::diff("", expected, &actual, &mut found);
                result
                    .mismatches
                    .extend(found.into_iter().map(|(path, e, a)| Mismatch {
                        what: "plan",
                        path,
                        expected: e,
                        actual: a,
                        entry: None,
                    }));
                result.plan = Some(actual);
            }
            Err(e) => unexpected_errors(&e, &mut result.mismatches),
        }
    }
    if !case.has_expectation() && result.mismatches.is_empty() {
        // Nothing to compare with: `--bless` writes the payload as the snapshot.
        result.mismatches.push(Mismatch {
            what: "payload",
            path: String::new(),
            expected: None,
            actual: result.payload.clone(),
            entry: None,
        });
    }
    result
}

fn check_payload(mapping: &Mapping, case: &Case, payload: &Json, out: &mut Vec<Mismatch>) {
    let blame = |path: &str| blame(mapping, case.kind, path);
    if let Some(errors) = &case.errors {
        out.push(Mismatch {
            what: "errors",
            path: String::new(),
            expected: Some(Json::Array(errors.iter().map(expected_json).collect())),
            actual: None,
            entry: None,
        });
        return;
    }
    if let Some(expected) = &case.payload {
        let mut found = Vec::new();
        diff::diff("", expected, payload, &mut found);
        out.extend(found.into_iter().map(|(path, e, a)| Mismatch {
            what: "payload",
            entry: blame(&path),
            path,
            expected: e,
            actual: a,
        }));
    }
    for (path, want) in &case.expect {
        let got = payload.pointer(path);
        if !got.is_some_and(|g| diff::same(g, want)) {
            out.push(Mismatch {
                what: "payload",
                path: path.clone(),
                expected: Some(want.clone()),
                actual: got.cloned(),
                entry: blame(path),
            });
        }
    }
    for path in &case.absent {
        if let Some(got) = payload.pointer(path) {
            out.push(Mismatch {
                what: "payload",
                path: path.clone(),
                expected: None,
                actual: Some(got.clone()),
                entry: blame(path),
            });
        }
    }
}

/// A failed record against the case's `errors`: each expected error must be among them.
fn check_errors(case: &Case, e: &RecordError, out: &mut Vec<Mismatch>) {
    let Some(expected) = &case.errors else {
        return unexpected_errors(e, out);
    };
    for want in expected {
        let found = e.errors.iter().any(|got| {
            want.code.as_ref().is_none_or(|c| *c == got.code)
                && want.target.as_ref().is_none_or(|t| {
                    got.target
                        .as_ref()
                        .is_some_and(|g| g.eq_ignore_ascii_case(t))
                })
        });
        if !found {
            out.push(Mismatch {
                what: "errors",
                path: String::new(),
                expected: Some(expected_json(want)),
                actual: Some(Json::Array(
                    e.errors.iter().map(EntryError::to_json).collect(),
                )),
                entry: None,
            });
        }
    }
}

/// Every error of a record that should not have failed, blamed on its entry.
fn unexpected_errors(e: &RecordError, out: &mut Vec<Mismatch>) {
    out.extend(e.errors.iter().map(|err| Mismatch {
        what: "errors",
        path: String::new(),
        expected: None,
        actual: Some(err.to_json()),
        entry: match (&err.target, err.line, err.column) {
            (Some(target), Some(line), Some(column)) => Some(Blame {
                target: target.clone(),
                line,
                column,
            }),
            _ => None,
        },
    }));
}

fn expected_json(e: &ExpectedError) -> Json {
    json!({"target": e.target, "code": e.code})
}

/// The entry whose target a payload pointer falls under: the one named exactly, else the
/// first under it (`/name` → `name.givenName`), else the nearest above it.
fn blame(mapping: &Mapping, kind: Kind, pointer: &str) -> Option<Blame> {
    let section = mapping.section(kind)?;
    let path = attribute_path(pointer);
    let targets: Vec<(String, &crate::ir::Entry)> = section
        .entries
        .iter()
        .map(|e| (target_path(&e.target), e))
        .collect();
    let exact = targets.iter().find(|(t, _)| *t == path);
    let below = || {
        targets
            .iter()
            .find(|(t, _)| path.is_empty() || t.starts_with(&format!("{path}.")))
    };
    let above = || {
        targets
            .iter()
            .filter(|(t, _)| path.starts_with(&format!("{t}.")))
            .max_by_key(|(t, _)| t.len())
    };
    exact.or_else(below).or_else(above).map(|(_, e)| Blame {
        target: e.target.clone(),
        line: e.line,
        column: e.column,
    })
}

/// `/emails/0/value` → `emails.value`, lower case (attribute names ignore case).
fn attribute_path(pointer: &str) -> String {
    file::tokens(pointer)
        .filter(|t| t.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join(".")
        .to_lowercase()
}

/// `emails[type eq "work"].value` → `emails.value`; `urn:…:User:department` →
/// `urn:…:user.department`, as `attribute_path` writes payload pointers.
fn target_path(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    let mut depth = 0usize;
    for c in target.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if out.starts_with("urn:") {
        // The attribute follows the schema URN's last `:` (a URN may hold dots: `2.0`).
        if let Some(colon) = out.rfind(':') {
            out.replace_range(colon..=colon, ".");
        }
    }
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_pointers_meet() {
        assert_eq!(
            target_path("emails[type eq \"work\"].value"),
            "emails.value"
        );
        assert_eq!(attribute_path("/emails/0/value"), "emails.value");
        assert_eq!(
            target_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            attribute_path(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value"
            )
        );
    }
}
