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

use crate::ir::{self, Op, Source};
use crate::jsonpath::JsonPath;
use crate::mapping::{Kind, Mapping};
use crate::record::EntryError;
use crate::types::{ObjectType, Type};
use serde_json::{json, Map, Value as Json};

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
enum Format {
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

fn format_of(object: &str, field: &str) -> Option<Format> {
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
struct Generator<'m> {
    schema: &'static Type,
    entries: &'m [ir::Entry],
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
    fn new(mapping: &Mapping, section: &'m ir::Section, schema: &'static Type) -> Self {
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

    fn record(&self, seed: u64, index: usize) -> Json {
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

/// A step from a value to one inside it.
#[derive(Clone, Debug)]
enum Key {
    Field(String),
    Item(usize),
}

/// Greedy delta debugging on a record: drop optional fields and list items, replace values
/// with simpler ones of a type the schema allows (null, `""`, `"a"`, a shorter string, 0),
/// keeping each change after which `keep` still holds and the record's JSON text is shorter,
/// until no change is kept or `steps` evaluations are spent. Gives the record and the
/// evaluations made.
fn shrink(
    mut record: Json,
    schema: &Type,
    keep: &dyn Fn(&Json) -> bool,
    steps: usize,
) -> (Json, usize) {
    let mut size = cost(&record);
    let mut spent = 0;
    let mut candidates = edits(&record, schema);
    let mut i = 0;
    let mut kept_in_pass = false;
    while spent < steps {
        if i >= candidates.len() {
            if !kept_in_pass {
                break;
            }
            kept_in_pass = false;
            i = 0;
            continue;
        }
        let (path, replacement) = &candidates[i];
        let Some(candidate) = apply(&record, path, replacement.as_ref()) else {
            i += 1;
            continue;
        };
        let candidate_size = cost(&candidate);
        if candidate_size >= size {
            i += 1;
            continue;
        }
        spent += 1;
        if keep(&candidate) {
            record = candidate;
            size = candidate_size;
            kept_in_pass = true;
            // The same position holds the next change to try in the new record.
            candidates = edits(&record, schema);
        } else {
            i += 1;
        }
    }
    (record, spent)
}

/// What shrinking lowers: the JSON text's length, then its characters other than `a` and `0`
/// (so `"Ω"` becomes `"a"`). Each kept change lowers it, so shrinking ends.
fn cost(record: &Json) -> (usize, usize) {
    let text = record.to_string();
    let plain = text.chars().filter(|c| !matches!(c, 'a' | '0')).count();
    (text.len(), plain)
}

/// Every simplification of `record`, removals first, shallow ones first: a path and the value
/// to put there (`None`: remove it).
fn edits(record: &Json, schema: &Type) -> Vec<(Vec<Key>, Option<Json>)> {
    let mut out = Vec::new();
    // (path, value, type, whether it may be removed, whether it has a format).
    let mut todo = vec![(Vec::new(), record, schema.clone(), false, false)];
    let mut push = |path: &Vec<Key>, value: Option<Json>, filled: bool| {
        if !(filled && value.as_ref().and_then(Json::as_str).is_some_and(blank)) {
            out.push((path.clone(), value));
        }
    };
    // Breadth first: dropping a whole field is tried before simplifying inside it.
    let mut at = 0;
    while at < todo.len() {
        let (path, value, ty, removable, formatted) = todo[at].clone();
        at += 1;
        if removable {
            push(&path, None, false);
        }
        // A top-level string the record always has stays filled, as the generator makes it.
        let filled = path.len() == 1 && matches!(ty, Type::String);
        let nullable = ty.is_nullable() || matches!(ty, Type::Any);
        if nullable && !value.is_null() {
            push(&path, Some(Json::Null), filled);
        }
        let ty = ty.non_nil().clone();
        match value {
            Json::String(s) if !s.is_empty() && !formatted => {
                push(&path, Some(json!("")), filled);
                push(&path, Some(json!("a")), filled);
                let chars: Vec<char> = s.chars().collect();
                if chars.len() > 1 {
                    let last = chars.len() - 1;
                    push(
                        &path,
                        Some(json!(chars[..=last / 2].iter().collect::<String>())),
                        filled,
                    );
                    push(
                        &path,
                        Some(json!(chars[1..].iter().collect::<String>())),
                        filled,
                    );
                    push(
                        &path,
                        Some(json!(chars[..last].iter().collect::<String>())),
                        filled,
                    );
                }
            }
            Json::Number(n) if n.as_f64() != Some(0.0) => {
                let zero = if matches!(ty, Type::Float) {
                    json!(0.0)
                } else {
                    json!(0)
                };
                push(&path, Some(zero), false);
            }
            Json::Array(items) => {
                let item = match &ty {
                    Type::Array(item) => (**item).clone(),
                    _ => Type::Any,
                };
                for (k, v) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Key::Item(k));
                    todo.push((p, v, item.clone(), true, false));
                }
            }
            Json::Object(map) => {
                for (k, v) in map {
                    let (field, removable, formatted) = match &ty {
                        Type::Object(o) => match o.field(k) {
                            Some(t) => {
                                (t.clone(), t.is_nullable(), format_of(&o.name, k).is_some())
                            }
                            None => (Type::Any, true, false),
                        },
                        _ => (Type::Any, true, false),
                    };
                    let mut p = path.clone();
                    p.push(Key::Field(k.clone()));
                    todo.push((p, v, field, removable, formatted));
                }
            }
            _ => {}
        }
    }
    // Removals first: they cut the most.
    out.sort_by_key(|(_, replacement)| replacement.is_some());
    out
}

/// Empty, or white space only.
fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// `record` with the value at `path` replaced (or removed: `None`).
fn apply(record: &Json, path: &[Key], replacement: Option<&Json>) -> Option<Json> {
    let mut out = record.clone();
    let (last, parents) = path.split_last()?;
    let mut at = &mut out;
    for key in parents {
        at = match key {
            Key::Field(k) => at.get_mut(k.as_str())?,
            Key::Item(i) => at.get_mut(*i)?,
        };
    }
    match (last, replacement, at) {
        (Key::Field(k), None, Json::Object(map)) => {
            map.remove(k)?;
        }
        (Key::Item(i), None, Json::Array(items)) if *i < items.len() => {
            items.remove(*i);
        }
        (Key::Field(k), Some(v), Json::Object(map)) => *map.get_mut(k)? = v.clone(),
        (Key::Item(i), Some(v), Json::Array(items)) => *items.get_mut(*i)? = v.clone(),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn shrinking_drops_what_does_not_matter() {
        let record = json!({"_id": "5f1b", "username": "long name here", "firstname": "Zoë",
            "addresses": [{"type": "work"}, {"type": "home"}]});
        let keep = |r: &Json| r["username"].as_str().is_some_and(|s| s.contains('n'));
        let (small, steps) = shrink(record, schema(Kind::User), &keep, 1000);
        assert_eq!(
            small,
            json!({"_id": "5f1b", "username": "n"}),
            "required strings stay filled, formatted ones as they are"
        );
        assert!(steps <= 1000);
        let record =
            json!({"username": "abcdef", "firstname": "x", "lastname": "y", "jobTitle": "z"});
        let (small, steps) = shrink(record, schema(Kind::User), &|_| true, 3);
        assert_eq!(steps, 3, "the step bound holds");
        assert_eq!(
            small,
            json!({"username": "abcdef"}),
            "three fields dropped, then no more"
        );
    }
}
