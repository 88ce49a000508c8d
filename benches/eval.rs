//! Criterion benches of the library API (tracker issue 5, "Bulk evaluation at speed").
//!
//! * `compile/50_entries` — `Mapping::compile` of a 50-entry mapping built below from
//!   realistic entries (Direct paths, builtins, filters, element-wise, extension targets).
//! * `one_record/{trello,trello15,heavy}` — `evaluate_user` of one parsed record (line 5 of
//!   tests/fixtures/users.ndjson: three addresses, two phone numbers, five custom attributes)
//!   with examples/trello.scimap, benches/trello15.scimap and the closure/date/regex-heavy
//!   mapping `HEAVY`.
//! * `parsed/trello15` — `evaluate_user` over the first 2000 records, parsed beforehand, of the
//!   NDJSON file named by `SCIMAP_BENCH_USERS` (default: tests/fixtures/users.ndjson);
//!   Throughput::Elements. `cargo xtask bench-compare` points it at its generated users.
//! * `records/trello15` — `Mapping::write_payload` over the same records read beforehand with
//!   `Record::parse`: evaluation and payload writing without reading. `cargo xtask
//!   bench-compare` divides its time per record by the 15 entries: scimap's evaluation cost per
//!   expression, the counterpart of Expr's `--bench` eval phase. Its 2000 records, every field
//!   kept, are about 10 MB: most of what one touches has left the caches by its next turn.
//! * `records/trello15_hot` — the same over the first `HOT` of those records only, over and
//!   over: evaluation with the caches warm, the condition of issue #14's per-expression goal.
//! * `bulk/trello15` — `evaluate_line` over every line of tests/fixtures/users.ndjson
//!   (Throughput::Elements: records/s; the 14 edge records that fail are part of the mix).
//!
//! `cargo bench --bench eval` measures; `cargo bench --bench eval -- --test` runs each bench
//! once (the CI smoke test); `cargo bench --bench eval -- one_record` filters.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scimap::{Kind, Limits, Mapping, Record};
use std::hint::black_box;

const USERS: &str = include_str!("../tests/fixtures/users.ndjson");
const TRELLO: &str = include_str!("../examples/trello.scimap");
const TRELLO15: &str = include_str!("trello15.scimap");

/// The record of the one-record benches (1-based line of `USERS`).
const RECORD_LINE: usize = 5;

/// Records of `records/trello15_hot`: few enough that what they touch stays in the caches,
/// enough to mix the mapping's branches (a display name missing, empty or set; a department
/// missing, empty or named; zero to three custom attributes, in the generated users).
const HOT: usize = 8;

/// Closures (filter/map/find/any), dates with layouts and zones, `matches`, `let`,
/// titleCase/normalizeDiacritics: what an administrator's hand-tuned mapping looks like.
const HEAVY: &str = r#"app "bench: heavy"
schema "urn:example:params:scim:schemas:extension:bench:2.0:User" { hireYear: integer, tenureDays: integer, contractor: boolean, startDate: string, badge: string }

user {
  let given = titleCase(trim(firstname ?? ""))
  let family = titleCase(trim(lastname ?? ""))
  let attrs = attributes ?? []

  userName = lower(normalizeDiacritics(emailLocal(email) ?? username))
  name.givenName = given
  name.familyName = family
  name.formatted = trim(given + " " + family)
  displayName = coalesce(trim(displayname ?? ""), trim(given + " " + family))
  nickName = join(map(filter(split(normalizeDiacritics(given + " " + family), " "), # != ""), lower(#)), ".")
  title = let t = trim(jobTitle ?? ""); t matches "\\S" ? titleCase(t) : nil
  emails[type eq "work"].value = lower(email)
  phoneNumbers[type eq "work"].value = find(phoneNumbers ?? [], lower(.type ?? "") matches "^work$")?.number
  phoneNumbers[type eq "mobile"].value = find(phoneNumbers ?? [], (.type ?? "") matches "(?i)^(mobile|cell|work_mobile)$")?.number
  addresses[].locality = map(addresses ?? [], titleCase(trim(.locality ?? "")))
  addresses[].country = map(addresses ?? [], let c = trim(.country ?? ""); c matches "^[A-Za-z]{2}$" ? upper(c) : nil)
  active = state == "ACTIVATED" && !(account_locked ?? false)
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber = let e = trim(employeeIdentifier ?? ""); e matches "^[0-9]+$" ? e : nil
  urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = department in ["Engineering", "R&D"] ? "Engineering" : coalesce(trim(department ?? ""), "Unassigned")
  urn:example:params:scim:schemas:extension:bench:2.0:User:hireYear = date(created).Year()
  urn:example:params:scim:schemas:extension:bench:2.0:User:startDate = let s = string(attr("startDate") ?? ""); s matches "^\\d{2}\\.\\d{2}\\.\\d{4}$" ? date(s, "02.01.2006").Format("2006-01-02") : (s matches "^\\d{4}-\\d{2}-\\d{2}$" ? date(s).Format("2006-01-02") : date(created).In(timezone("Europe/Berlin")).Format("2006-01-02"))
  urn:example:params:scim:schemas:extension:bench:2.0:User:tenureDays = int((date("2025-06-01", "2006-01-02") - date(created)).Hours() / 24)
  urn:example:params:scim:schemas:extension:bench:2.0:User:contractor = any(attrs, .name == "isContractor" && lower(string(.value)) in ["true", "yes", "1", "y"])
  urn:example:params:scim:schemas:extension:bench:2.0:User:badge = let b = string(attr("badgeNumber") ?? ""); b matches "^B-\\d+$" ? b : (b matches "^\\d+$" ? "B-" + b : nil)
}
"#;

/// Core and Enterprise entries as connector mappings write them.
const CORE_ENTRIES: &[&str] = &[
    "userName = $.username",
    "name.givenName = $.firstname",
    "name.familyName = $.lastname",
    "name.middleName = $.middlename",
    "name.formatted = fullName",
    r#"displayName = coalesce(trim(displayname ?? ""), fullName)"#,
    r#"nickName = attr("preferredName")"#,
    "title = $.jobTitle",
    "userType = $.employeeType",
    "locale = $.locale",
    "timezone = $.timezone",
    r#"preferredLanguage = const "en-US""#,
    r#"active = state == "ACTIVATED""#,
    "externalId = $._id",
    r#"emails[type eq "work"].value = lower(email)"#,
    r#"emails[type eq "other"].value = $.alternateEmail"#,
    r#"phoneNumbers[type eq "work"].value = find(phoneNumbers ?? [], .type == "work")?.number"#,
    r#"phoneNumbers[type eq "mobile"].value = find(phoneNumbers ?? [], .type in ["mobile", "work_mobile"])?.number"#,
    r#"phoneNumbers[type eq "fax"].value = find(phoneNumbers ?? [], .type == "work_fax")?.number"#,
    "addresses[].type = $.addresses[*].type",
    "addresses[].streetAddress = $.addresses[*].streetAddress",
    "addresses[].locality = $.addresses[*].locality",
    "addresses[].region = $.addresses[*].region",
    "addresses[].postalCode = $.addresses[*].postalCode",
    r#"addresses[].country = map(addresses ?? [], upper(trim(.country ?? "")))"#,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber = $.employeeIdentifier",
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter = attr("costCenter") ?? costCenter"#,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization = $.company",
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division = attr("division")"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department = department == "Engineering" ? "R&D" : coalesce(department, "Unassigned")"#,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value = $.manager",
];

/// Expression shapes for the extension entries that fill the mapping up to 50; `{f}` is
/// replaced by a nullable string field of the user record.
const EXTENSION_SHAPES: &[&str] = &[
    "$.{f}",
    r#"normalizeDiacritics(lower(trim({f} ?? "")))"#,
    r#"titleCase(trim({f} ?? ""))"#,
    r#"{f} != nil && {f} matches "^[A-Z]" ? upper({f}) : nil"#,
    r#"date(created).Format("2006-01-02")"#,
    r#"join(map(filter(attributes ?? [], .name matches "Date$"), .name + "=" + .value), ";")"#,
    r#"len(split({f} ?? "", " "))"#,
];

const FIELDS: &[&str] = &[
    "company",
    "location",
    "department",
    "jobTitle",
    "costCenter",
    "description",
    "employeeType",
    "displayname",
];

const EXTENSION: &str = "urn:example:params:scim:schemas:extension:bench:2.0:User";

/// A 50-entry user mapping: `CORE_ENTRIES`, then extension attributes `x1`… cycling through
/// `EXTENSION_SHAPES` and `FIELDS`.
fn mapping_50() -> String {
    let extra = 50 - CORE_ENTRIES.len();
    let declared: Vec<String> = (1..=extra).map(|i| format!("x{i}: string")).collect();
    let mut text = format!(
        "app \"bench: 50 entries\"\nschema \"{EXTENSION}\" {{ {} }}\n\nuser {{\n  let fullName = trim(trim(firstname ?? \"\") + \" \" + trim(lastname ?? \"\"))\n",
        declared.join(", ")
    );
    for entry in CORE_ENTRIES {
        text.push_str("  ");
        text.push_str(entry);
        text.push('\n');
    }
    for i in 1..=extra {
        let shape = EXTENSION_SHAPES[i % EXTENSION_SHAPES.len()];
        let field = FIELDS[i % FIELDS.len()];
        text.push_str(&format!(
            "  {EXTENSION}:x{i} = {}\n",
            shape.replace("{f}", field)
        ));
    }
    text.push_str("}\n");
    text
}

fn compile(source: &str, what: &str) -> Mapping {
    Mapping::compile(source).unwrap_or_else(|e| panic!("{what} does not compile: {e}"))
}

fn lines() -> Vec<&'static [u8]> {
    USERS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::as_bytes)
        .collect()
}

fn bench_compile(c: &mut Criterion) {
    let source = mapping_50();
    // Fails loudly if the generated mapping drifts from the language.
    compile(&source, "the 50-entry mapping");
    c.benchmark_group("compile")
        .bench_function("50_entries", |b| {
            b.iter(|| Mapping::compile(black_box(&source)))
        });
}

fn bench_one_record(c: &mut Criterion) {
    let line = lines()[RECORD_LINE - 1];
    let record: serde_json::Value = serde_json::from_slice(line).expect("fixture line is JSON");
    let mut group = c.benchmark_group("one_record");
    for (name, source) in [("trello", TRELLO), ("trello15", TRELLO15), ("heavy", HEAVY)] {
        let mapping = compile(source, name);
        if let Err(e) = mapping.evaluate_user(&record) {
            panic!("{name} fails on line {RECORD_LINE}: {e}");
        }
        group.bench_function(name, |b| {
            b.iter(|| mapping.evaluate_user(black_box(&record)))
        });
    }
    group.finish();
}

/// The first 2000 lines of the NDJSON file named by `SCIMAP_BENCH_USERS`, or the fixture users.
fn bench_users() -> Vec<String> {
    const RECORDS: usize = 2000;
    match std::env::var_os("SCIMAP_BENCH_USERS") {
        Some(path) => {
            let file = std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.to_string_lossy()));
            std::io::BufRead::lines(std::io::BufReader::new(file))
                .map(|l| l.expect("SCIMAP_BENCH_USERS is readable UTF-8"))
                .filter(|l| !l.trim().is_empty())
                .take(RECORDS)
                .collect()
        }
        None => lines()
            .into_iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect(),
    }
}

fn bench_parsed(c: &mut Criterion) {
    let records: Vec<serde_json::Value> = bench_users()
        .iter()
        .map(|l| serde_json::from_str(l).expect("bench users are NDJSON"))
        .collect();
    let mapping = compile(TRELLO15, "trello15");
    let mut group = c.benchmark_group("parsed");
    group.throughput(Throughput::Elements(records.len() as u64));
    // One iteration is up to 2000 records: criterion's minimum of samples keeps it short.
    group.sample_size(10);
    group.bench_function("trello15", |b| {
        b.iter(|| {
            for record in &records {
                black_box(mapping.evaluate_user(black_box(record)).is_ok());
            }
        })
    });
    group.finish();
}

/// Evaluation on records read beforehand (`Record::parse`), payloads written to a buffer: the
/// counterpart of the Expr peer's `--bench` figure (which does not print its results).
fn bench_records(c: &mut Criterion) {
    let lines = bench_users();
    let limits = Limits::default();
    let records: Vec<Record> = lines
        .iter()
        .map(|l| Record::parse(l.as_bytes(), &limits).expect("bench users are records"))
        .collect();
    let mapping = compile(TRELLO15, "trello15");
    let mut out = Vec::with_capacity(1 << 16);
    let mut group = c.benchmark_group("records");
    for (name, records) in [
        ("trello15", records.as_slice()),
        ("trello15_hot", records.get(..HOT).unwrap_or(&records)),
    ] {
        group.throughput(Throughput::Elements(records.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut ok = 0usize;
                for record in records {
                    out.clear();
                    ok += usize::from(mapping.write_payload(Kind::User, record, &mut out).is_ok());
                }
                black_box(ok)
            })
        });
    }
    group.finish();
}

fn bench_bulk(c: &mut Criterion) {
    let lines = lines();
    let mapping = compile(TRELLO15, "trello15");
    let mut out = Vec::with_capacity(1 << 16);
    let mut group = c.benchmark_group("bulk");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("trello15", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for (i, line) in lines.iter().enumerate() {
                out.clear();
                ok += usize::from(mapping.evaluate_line(Kind::User, line, i + 1, &mut out));
            }
            black_box(ok)
        })
    });
    group.finish();
}

/// `plan --input` lines over the same users as `bulk/trello15`: each user paired with the app's
/// resource made from its own payload (`unchanged`), with two mapped attributes differing
/// (`changed`), or with none (`new`, a POST). `cargo xtask bench-plan` compares whole runs.
fn bench_plan(c: &mut Criterion) {
    let lines = lines();
    let mapping = compile(TRELLO15, "trello15");
    let payloads: Vec<Option<serde_json::Value>> = lines
        .iter()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_slice(line).ok()?;
            mapping.evaluate_user(&record).ok()
        })
        .collect();
    let pairs = |mix: &str| -> Vec<Vec<u8>> {
        lines
            .iter()
            .zip(&payloads)
            .enumerate()
            .map(|(i, (line, payload))| {
                let current = payload.clone().filter(|_| mix != "new").map(|mut p| {
                    p["id"] = serde_json::json!(format!("app-{i}"));
                    if mix == "changed" {
                        p["title"] = serde_json::json!("Former title");
                        p["active"] = serde_json::json!(p["active"] != true);
                    }
                    p
                });
                let current = serde_json::to_string(&current).expect("a payload serializes");
                let record = String::from_utf8_lossy(line);
                format!("{{\"record\":{record},\"current\":{current}}}").into_bytes()
            })
            .collect()
    };
    let mut out = Vec::with_capacity(1 << 16);
    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(lines.len() as u64));
    for mix in ["unchanged", "changed", "new"] {
        let pairs = pairs(mix);
        group.bench_function(mix, |b| {
            b.iter(|| {
                let mut ok = 0usize;
                for (i, pair) in pairs.iter().enumerate() {
                    out.clear();
                    ok += usize::from(mapping.plan_line(Kind::User, pair, i + 1, &mut out));
                }
                black_box(ok)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_compile,
    bench_one_record,
    bench_parsed,
    bench_records,
    bench_bulk,
    bench_plan
);
criterion_main!(benches);
