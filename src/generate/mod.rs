//! Generated records (reference §generate): a mapping evaluated against records made from the
//! JumpCloud record schema, to find the entries that fail for some record (each with the
//! smallest failing record shrinking finds) and the entries that are always, sometimes or
//! never absent. `scimap test --generate N` prints what [`run`] returns.
//!
//! ```
//! let mapping = scimap::Mapping::compile(
//!     "user {\n  userName = $.username\n  displayName = displayname != \"\" ? displayname : username\n}",
//! ).unwrap();
//! let settings = scimap::generate::Settings { records: 200, ..Default::default() };
//! let report = scimap::generate::run(&mapping, scimap::Kind::User, &settings).unwrap();
//! let display = &report.entries[1];
//! assert_eq!(display.status(), scimap::generate::Status::AbsentWithInput);
//! // The smallest record found without a displayName has a `username`, but no `displayname`.
//! assert!(display.absent_example.as_ref().unwrap().get("displayname").is_none());
//! assert_eq!(display.absent_reads, ["username"]);
//! ```
//!
//! Records are a function of the seed and their number alone (a SplitMix64 stream each), so a
//! run is the same on every machine and with any number of threads.

mod records;
mod shrink;

use crate::ir::{self, Op, Source};
use crate::jsonpath::JsonPath;
use crate::mapping::{Kind, Mapping};
use crate::record::EntryError;
use crate::types::Type;
use records::{blank, Generator};
use serde_json::{json, Map, Value as Json};
use shrink::shrink;

/// How many records, from which seed, and how hard to shrink.
#[derive(Clone, Debug)]
pub struct Settings {
    pub records: usize,
    pub seed: u64,
    /// Evaluations spent shrinking one record, at most.
    pub shrink_steps: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            records: 1000,
            seed: 1,
            shrink_steps: 1000,
        }
    }
}

/// What a run found for one section.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub kind: Kind,
    pub records: usize,
    pub seed: u64,
    /// Per entry, in file order.
    pub entries: Vec<EntryReport>,
    /// Failures of whole records (no entry to blame: a limit of the record itself).
    pub record_failures: Vec<Failure>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntryReport {
    pub target: String,
    pub line: usize,
    pub column: usize,
    pub source: String,
    /// Records for which the entry gave a value, gave none, and failed.
    pub present: usize,
    pub absent: usize,
    pub failed: usize,
    /// One per error code, in the order first seen.
    pub failures: Vec<Failure>,
    /// The smallest record found for which the entry gives no value (and does not fail).
    pub absent_example: Option<Json>,
    /// The top-level fields the entry reads that `absent_example` holds (not null, not
    /// blank).
    pub absent_reads: Vec<String>,
    /// A Direct path that selects nothing in any record the schema allows: why.
    pub unreachable: Option<String>,
}

/// One way an entry (or a whole record) fails.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: String,
    /// The message for `record`.
    pub message: String,
    /// How many generated records failed so.
    pub records: usize,
    /// The smallest failing record found by shrinking the first one that failed so.
    pub record: Json,
    /// Evaluations the shrinking took.
    pub shrink_steps: usize,
}

/// An entry's verdict, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It failed for some record: the run fails.
    Failed,
    /// A Direct path that no record of the schema can match: the run fails.
    Unreachable,
    /// No generated record gave it a value, and some gave it none without failing: a warning
    /// (the sample may just have missed).
    AlwaysAbsent,
    /// Sometimes absent, and the smallest record found without it holds a field the entry
    /// reads (`displayname != "" ? displayname : username` with `username` but no
    /// `displayname`): a warning, since a mapping may mean it.
    AbsentWithInput,
    SometimesAbsent,
    NeverAbsent,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::AlwaysAbsent => "always-absent",
            Status::AbsentWithInput => "absent-with-input",

            Status::SometimesAbsent => "sometimes-absent",
            Status::NeverAbsent => "never-absent",
        }
    }

    /// Whether it fails the run.
    pub fn fails(self) -> bool {
        matches!(self, Status::Failed | Status::Unreachable)
    }

    /// Whether it is a warning: reported, and failing the run only when warnings are denied.
    pub fn warns(self) -> bool {
        matches!(self, Status::AlwaysAbsent | Status::AbsentWithInput)
    }
}

impl EntryReport {
    pub fn status(&self) -> Status {
        if self.failed > 0 {
            Status::Failed
        } else if self.unreachable.is_some() {
            Status::Unreachable
        } else if self.present == 0 && self.absent > 0 {
            Status::AlwaysAbsent
        } else if !self.absent_reads.is_empty() {
            Status::AbsentWithInput
        } else if self.absent > 0 {
            Status::SometimesAbsent
        } else {
            Status::NeverAbsent
        }
    }
}

impl Report {
    /// Whether some entry failed or is unreachable, or some record failed whole; with
    /// `deny_warnings`, also whether some entry warns.
    pub fn failed(&self, deny_warnings: bool) -> bool {
        !self.record_failures.is_empty()
            || self.entries.iter().any(|e| {
                let status = e.status();
                status.fails() || (deny_warnings && status.warns())
            })
    }

    pub fn to_json(&self) -> Json {
        let failure = |f: &Failure| {
            json!({
                "code": f.code,
                "message": f.message,
                "records": f.records,
                "record": f.record,
                "shrink_steps": f.shrink_steps,
            })
        };
        let entries: Vec<Json> = self
            .entries
            .iter()
            .map(|e| {
                let mut o = Map::new();
                o.insert("target".into(), json!(e.target));
                o.insert("line".into(), json!(e.line));
                o.insert("column".into(), json!(e.column));
                o.insert("source".into(), json!(e.source));
                o.insert("status".into(), json!(e.status().as_str()));
                o.insert("present".into(), json!(e.present));
                o.insert("absent".into(), json!(e.absent));
                o.insert("failed".into(), json!(e.failed));
                o.insert(
                    "failures".into(),
                    e.failures.iter().map(failure).collect::<Json>(),
                );
                if let Some(r) = &e.absent_example {
                    o.insert("absent_example".into(), r.clone());
                    o.insert("absent_reads".into(), json!(e.absent_reads));
                }
                if let Some(why) = &e.unreachable {
                    o.insert("unreachable".into(), json!(why));
                }
                Json::Object(o)
            })
            .collect();
        json!({
            "kind": match self.kind { Kind::User => "user", Kind::Group => "group" },
            "records": self.records,
            "seed": self.seed,
            "failed": self.failed(false),
            "entries": entries,
            "record_failures": self.record_failures.iter().map(failure).collect::<Json>(),
        })
    }
}

/// Evaluates the mapping's section for `kind` against `settings.records` generated records;
/// `None` when the mapping has no such section. Work is bounded: two evaluations per record
/// (its payload and errors, then each entry's value), and at most `shrink_steps` per record
/// shrunk (one per entry and error code, one absent example per entry, one per error code of
/// whole records), 32 times `shrink_steps` in all.
pub fn run(mapping: &Mapping, kind: Kind, settings: &Settings) -> Option<Report> {
    let section = mapping.section(kind)?;
    let schema = schema(kind);
    let generator = Generator::new(mapping, section, schema);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(settings.records / 256 + 1);
    let chunk = settings.records.div_ceil(threads.max(1)).max(1);
    let parts: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..settings.records)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(settings.records);
                let generator = &generator;
                scope.spawn(move || tally(mapping, kind, generator, settings.seed, start..end))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut total = Tally::new(section.entries.len());
    for part in parts {
        total.merge(part);
    }
    // Shared by every record shrunk, so that a mapping with many failing entries stays fast;
    // records past it are shown as generated.
    let budget = std::cell::Cell::new(settings.shrink_steps.saturating_mul(SHRUNK_RECORDS));
    let shrink = |index: usize, keep: &dyn Fn(&Json) -> bool| {
        let record = generator.record(settings.seed, index);
        let steps = settings.shrink_steps.min(budget.get());
        let (record, spent) = shrink(record, schema, keep, steps);
        budget.set(budget.get() - spent);
        (record, spent)
    };
    let failure = |(code, first, count): &(String, usize, usize), at: Option<(usize, usize)>| {
        let fails = |record: &Json| failing(mapping, kind, record, at, code).is_some();
        let (record, steps) = shrink(*first, &fails);
        let message = failing(mapping, kind, &record, at, code).unwrap_or_default();
        Failure {
            code: code.clone(),
            message,
            records: *count,
            record,
            shrink_steps: steps,
        }
    };
    let entries = section
        .entries
        .iter()
        .zip(&total.entries)
        .enumerate()
        .map(|(i, (entry, t))| {
            let at = Some((entry.line, entry.column));
            let absent_example = (t.present > 0)
                .then_some(t.first_absent)
                .flatten()
                .map(|first| {
                    let absent = |record: &Json| {
                        let rows = mapping.explain(kind, record);
                        rows.get(i)
                            .is_some_and(|r| r.error.is_none() && !has_value(r.value.as_ref()))
                    };
                    shrink(first, &absent).0
                });
            let absent_reads = absent_example
                .as_ref()
                .map(|record| held(record, &reads(section, entry)))
                .unwrap_or_default();
            EntryReport {
                absent_reads,
                target: entry.target.clone(),
                line: entry.line,
                column: entry.column,
                source: entry.source_text.clone(),
                present: t.present,
                absent: t.absent,
                failed: t.failed,
                failures: t.failures.iter().map(|f| failure(f, at)).collect(),
                absent_example,
                unreachable: unreachable(entry, schema, mapping),
            }
        })
        .collect();
    Some(Report {
        kind,
        records: settings.records,
        seed: settings.seed,
        entries,
        record_failures: total.record.iter().map(|f| failure(f, None)).collect(),
    })
}

/// The top-level record fields an entry reads, through the section's `let`s too (`None`
/// among them: the whole record, `$env`).
fn reads(section: &ir::Section, entry: &ir::Entry) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut nodes: Vec<&ir::Node> = Vec::new();
    let mut lets_seen = vec![false; section.lets.len()];
    match &entry.source {
        Source::Expr(node) => nodes.push(node),
        Source::Direct(ir::Path::Simple(segments)) => match segments.first() {
            Some(ir::Segment::Field(name)) => out.push(Some(name.clone())),
            _ => out.push(None),
        },
        Source::Direct(ir::Path::General(path)) => out.push(path.first_field().map(str::to_string)),
        Source::Const(_) => {}
    }
    while let Some(node) = nodes.pop() {
        match &node.op {
            Op::Field(i) => out.push(section.fields.get(*i).cloned()),
            Op::Attr { .. } => out.push(Some("attributes".into())),
            Op::Env => out.push(None),
            Op::SectionLet(i) => {
                if let (Some(seen @ false), Some(l)) = (lets_seen.get_mut(*i), section.lets.get(*i))
                {
                    *seen = true;
                    nodes.push(&l.value);
                }
            }
            _ => {}
        }
        node.for_each_child(|c| nodes.push(c));
    }
    out
}

/// The fields of `reads` that `record` holds with a value (not null, not blank); the whole
/// record (`None`) counts as held.
fn held(record: &Json, reads: &[Option<String>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for field in reads {
        let name = field.as_deref().unwrap_or("$env");
        let value = match field {
            Some(f) => record.get(f),
            None => Some(record),
        };
        let holds = match value {
            None | Some(Json::Null) => false,
            Some(Json::String(s)) => !blank(s),
            Some(_) => true,
        };
        if holds && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Records shrunk with the full `shrink_steps` each, at most, in one run.
const SHRUNK_RECORDS: usize = 32;

fn schema(kind: Kind) -> &'static Type {
    match kind {
        Kind::User => crate::schema::user_record(),
        Kind::Group => crate::schema::group_record(),
    }
}

/// Why a Direct entry's path can select nothing in a record of the schema.
fn unreachable(entry: &ir::Entry, schema: &Type, mapping: &Mapping) -> Option<String> {
    match &entry.source {
        Source::Direct(ir::Path::General(path)) => path.unreachable(schema),
        // Compiled to segments from this same text, which parsed then.
        Source::Direct(ir::Path::Simple(_)) => {
            JsonPath::parse(&entry.source_text, &mapping.options().limits)
                .ok()?
                .unreachable(schema)
        }
        Source::Const(_) | Source::Expr(_) => None,
    }
}

/// The counts of a range of records.
struct Tally {
    entries: Vec<EntryTally>,
    /// Whole-record failures: (code, first record, count).
    record: Vec<(String, usize, usize)>,
}

#[derive(Default)]
struct EntryTally {
    present: usize,
    absent: usize,
    failed: usize,
    /// (code, first record, count), in the order first seen.
    failures: Vec<(String, usize, usize)>,
    first_absent: Option<usize>,
}

impl Tally {
    fn new(entries: usize) -> Tally {
        Tally {
            entries: (0..entries).map(|_| EntryTally::default()).collect(),
            record: Vec::new(),
        }
    }

    /// Adds the tally of the records that follow this one's.
    fn merge(&mut self, later: Tally) {
        for (a, b) in self.entries.iter_mut().zip(later.entries) {
            a.present += b.present;
            a.absent += b.absent;
            a.failed += b.failed;
            a.first_absent = a.first_absent.or(b.first_absent);
            for f in b.failures {
                count(&mut a.failures, &f.0, f.1, f.2);
            }
        }
        for f in later.record {
            count(&mut self.record, &f.0, f.1, f.2);
        }
    }
}

/// Counts `n` failures with `code`, first seen at record `index` unless seen before.
fn count(failures: &mut Vec<(String, usize, usize)>, code: &str, index: usize, n: usize) {
    match failures.iter_mut().find(|f| f.0 == code) {
        Some(f) => f.2 += n,
        None => failures.push((code.to_string(), index, n)),
    }
}

fn tally(
    mapping: &Mapping,
    kind: Kind,
    generator: &Generator<'_>,
    seed: u64,
    range: std::ops::Range<usize>,
) -> Tally {
    let entries = generator.entries;
    let mut t = Tally::new(entries.len());
    for index in range {
        let record = generator.record(seed, index);
        let errors = match mapping.evaluate(kind, &record) {
            Ok(_) => Vec::new(),
            Err(e) => e.errors,
        };
        if let Some(whole) = errors.iter().find(|e| e.line.is_none()) {
            count(&mut t.record, &whole.code, index, 1);
            continue;
        }
        let rows = mapping.explain(kind, &record);
        for (i, (entry, row)) in entries.iter().zip(&rows).enumerate() {
            let e = &mut t.entries[i];
            if let Some(err) = errors.iter().find(|err| blames(err, entry)) {
                e.failed += 1;
                count(&mut e.failures, &err.code, index, 1);
            } else if has_value(row.value.as_ref()) {
                e.present += 1;
            } else {
                e.absent += 1;
                e.first_absent.get_or_insert(index);
            }
        }
    }
    t
}

fn blames(err: &EntryError, entry: &ir::Entry) -> bool {
    err.line == Some(entry.line)
        && err.column == Some(entry.column)
        && err.target.as_deref() == Some(entry.target.as_str())
}

/// The message when `record` fails at the entry starting at `at` (the whole record: `None`)
/// with `code`.
fn failing(
    mapping: &Mapping,
    kind: Kind,
    record: &Json,
    at: Option<(usize, usize)>,
    code: &str,
) -> Option<String> {
    let errors = mapping.evaluate(kind, record).err()?.errors;
    errors
        .into_iter()
        .find(|e| e.code == code && e.line.zip(e.column) == at)
        .map(|e| e.message)
}

/// Whether an entry sent something: a value other than null, an empty list or a list of nulls
/// (what an element-wise entry gives for a record with no items).
fn has_value(value: Option<&Json>) -> bool {
    match value {
        None | Some(Json::Null) => false,
        Some(Json::Array(items)) => items.iter().any(|i| !i.is_null()),
        Some(_) => true,
    }
}
