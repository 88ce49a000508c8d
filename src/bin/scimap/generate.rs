//! `scimap test --generate N` (reference §generate): each section of each mapping evaluated
//! against N generated records; a report per section, then the summary line.

use std::path::Path;

use chrono::DateTime;
use scimap::generate::{self, Report, Status};
use scimap::Kind;
use serde_json::Value;

use super::test::{TestArgs, TestFormat};
use super::{escape_controls, kind_name, load_mapping, print_stdout, shown, Outcome};

/// The clock of a generated run unless `--now` fixes another, so that a run gives the same
/// report on every day.
const NOW: &str = "2025-06-01T00:00:00Z";

/// `scimap test --generate N MAPPING…`: `count` is `--generate`'s N.
pub fn test(args: &TestArgs, count: u64) -> Outcome {
    let as_json = match args.format {
        TestFormat::Human => false,
        TestFormat::Json => true,
        TestFormat::Junit | TestFormat::Github => {
            return Err("--generate reports for people or as JSON (--format human or json)".into())
        }
    };
    if args.paths.is_empty() {
        return Err(
            "--generate needs the mappings to test: scimap test --generate N MAPPING…".into(),
        );
    }
    let mut options = args.limits.options();
    options.now = Some(
        args.now
            .unwrap_or_else(|| DateTime::parse_from_rfc3339(NOW).expect("a valid constant")),
    );
    let settings = generate::Settings {
        records: usize::try_from(count).map_err(|_| "--generate is too large".to_string())?,
        seed: args.seed,
        shrink_steps: args.shrink_steps,
    };
    let mut failed = false;
    let (mut passed_entries, mut failed_entries) = (0, 0);
    let mut json = Vec::new();
    for path in &args.paths {
        let Some(mapping) = load_mapping(path, &options)? else {
            failed = true;
            continue;
        };
        for kind in [Kind::User, Kind::Group] {
            let Some(report) = generate::run(&mapping, kind, &settings) else {
                continue;
            };
            failed |= report.failed(args.deny_warnings);
            for e in &report.entries {
                let status = e.status();
                if status.fails() || (args.deny_warnings && status.warns()) {
                    failed_entries += 1;
                } else {
                    passed_entries += 1;
                }
            }
            if as_json {
                let mut value = report.to_json();
                if let Value::Object(o) = &mut value {
                    o.insert("file".into(), path.display().to_string().into());
                }
                json.push(value);
            } else {
                print_stdout(&human(path, &report))?;
            }
        }
    }
    if as_json {
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        print_stdout(&format!("{text}\n"))?;
    } else {
        print_stdout(&format!(
            "{passed_entries} passed, {failed_entries} failed\n"
        ))?;
    }
    Ok(if failed {
        super::Status::Failed
    } else {
        super::Status::Ok
    })
}

/// One section's report for a terminal: failures first, then warnings, then the rest.
fn human(path: &Path, report: &Report) -> String {
    let mut out = format!(
        "{}: {} section, {} generated records (seed {})\n",
        shown(path),
        kind_name(report.kind),
        report.records,
        report.seed
    );
    let record = |r: &Value| escape_controls(&r.to_string()).into_owned();
    for f in &report.record_failures {
        out.push_str(&format!(
            "  FAIL  the whole record, for {} records: {}: {}\n        smallest failing record: {}\n",
            f.records,
            f.code,
            escape_controls(&f.message),
            record(&f.record)
        ));
    }
    let mut entries: Vec<_> = report.entries.iter().collect();
    entries.sort_by_key(|e| e.status() as u8);
    for e in entries {
        let at = format!("{} ({}:{})", escape_controls(&e.target), e.line, e.column);
        match e.status() {
            Status::Failed => {
                for f in &e.failures {
                    out.push_str(&format!(
                        "  FAIL  {at}: fails for {} of {} records: {}: {}\n        smallest failing record: {}\n",
                        f.records,
                        report.records,
                        f.code,
                        escape_controls(&f.message),
                        record(&f.record)
                    ));
                }
            }
            Status::Unreachable => out.push_str(&format!(
                "  FAIL  {at}: the path selects nothing in any {} record: {}\n",
                kind_name(report.kind),
                escape_controls(e.unreachable.as_deref().unwrap_or_default())
            )),
            Status::AlwaysAbsent => out.push_str(&format!(
                "  WARN  {at}: absent for all {} records\n",
                e.absent
            )),
            Status::AbsentWithInput => out.push_str(&format!(
                "  WARN  {at}: absent for {} of {} records, although the record holds {}: e.g. {}\n",
                e.absent,
                report.records,
                e.absent_reads
                    .iter()
                    .map(|f| format!("`{}`", escape_controls(f)))
                    .collect::<Vec<_>>()
                    .join(", "),
                e.absent_example.as_ref().map(record).unwrap_or_default()
            )),
            Status::SometimesAbsent => out.push_str(&format!(
                "  ok    {at}: absent for {} of {} records, e.g. {}\n",
                e.absent,
                report.records,
                e.absent_example.as_ref().map(record).unwrap_or_default()
            )),
            Status::NeverAbsent => out.push_str(&format!("  ok    {at}: never absent\n")),
        }
    }
    out
}
