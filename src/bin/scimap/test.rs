//! `scimap test` (reference §testing): finds test files, runs each against its mapping with
//! `scimap::testing`, prints what differs (for people, as JSON, JUnit XML or GitHub
//! annotations), writes snapshots (`--bless`) and coverage (`--coverage`, `--lcov`).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use scimap::render;
use scimap::testing::{self, Coverage, Mismatch, Report, RunOptions, TestFile};
use scimap::Options;

use super::{
    compile_file, escape_controls, parse_now, print_human, print_stderr, print_stdout, shown,
    LimitArgs, Outcome, Status,
};

/// `scimap test`'s arguments.
#[derive(Args)]
pub struct TestArgs {
    /// Test files (NAME.test.toml), mappings (NAME.scimap: the NAME.test.toml beside it) or
    /// directories searched for *.test.toml; the current directory when none is given
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write the payload and plan snapshots of the cases that have one (or no expectation at
    /// all) into their test files; nothing else is written
    #[arg(long, visible_alias = "update")]
    pub bless: bool,
    /// How to report: for people (stdout), one JSON document, JUnit XML or GitHub annotations
    #[arg(long, value_enum, default_value = "human")]
    pub format: TestFormat,
    /// Print the entries and branch sides of each mapping that no case covered
    #[arg(long)]
    pub coverage: bool,
    /// Fail when a mapping's coverage (covered entries and branch sides over all of them) is
    /// below PCT
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub min_coverage: Option<f64>,
    /// Write the coverage as an LCOV tracefile (for genhtml and CI coverage services)
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,
    /// Worker threads per test file (default: one per core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Instead of test files, evaluate each section of the MAPPINGs given as PATHs against N
    /// records generated from the JumpCloud record schema
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub generate: Option<u64>,
    /// With --generate: the seed of the records (the same seed, the same records and report)
    #[arg(long, value_name = "S", default_value_t = 1, requires = "generate")]
    pub seed: u64,
    /// With --generate: evaluations spent shrinking one failing record, at most
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "generate")]
    pub shrink_steps: usize,
    /// With --generate: warnings (entries always absent, or absent with their input) fail
    #[arg(long, requires = "generate")]
    pub deny_warnings: bool,
    /// With --generate: fix the clock for now() (RFC 3339) [default: 2025-06-01T00:00:00Z]
    #[arg(long, value_name = "RFC3339", value_parser = parse_now, requires = "generate")]
    pub now: Option<DateTime<FixedOffset>>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// Failures and a summary for people, on stdout
    Human,
    /// One JSON document on stdout
    Json,
    /// JUnit XML on stdout, for CI test reports
    Junit,
    /// GitHub Actions annotations on stdout, at the mapping line behind each wrong value
    Github,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err("expected a percentage from 0 to 100".into()),
    }
}

/// Test files under a directory are looked for this deep at most.
const MAX_DEPTH: usize = 32;
const SUFFIX: &str = ".test.toml";

/// One test file's run.
struct FileRun {
    test: PathBuf,
    mapping: PathBuf,
    /// What went wrong before any case ran (the file, its mapping or its fixtures).
    problem: Option<String>,
    report: Option<Report>,
    /// Every file read for it: no output overwrites one.
    inputs: Vec<PathBuf>,
}

pub fn run(args: TestArgs) -> Outcome {
    if let Some(count) = args.generate {
        return super::generate::test(&args, count);
    }
    let mut options = args.limits.options();
    options.now = None;
    let files = discover(&args.paths)?;
    let run_options = RunOptions {
        threads: args
            .threads
            .map_or_else(|| RunOptions::default().threads, usize::from),
        coverage: args.coverage || args.min_coverage.is_some() || args.lcov.is_some(),
    };
    let mut runs = Vec::with_capacity(files.len());
    for test in files {
        runs.push(run_file(&test, &options, &run_options, &args)?);
    }
    let coverage = merged_coverage(&runs);
    let passed: usize = runs
        .iter()
        .filter_map(|r| r.report.as_ref())
        .map(Report::passed)
        .sum();
    let failed: usize = runs
        .iter()
        .map(|r| match (&r.problem, &r.report) {
            (Some(_), _) => 1,
            (None, Some(report)) => report.failed(),
            (None, None) => 0,
        })
        .sum();
    let text = match args.format {
        TestFormat::Human => human(&runs, &coverage, args.coverage),
        TestFormat::Json => json_report(&runs, &coverage, passed, failed),
        TestFormat::Junit => junit(&runs),
        TestFormat::Github => github(&runs),
    };
    print_stdout(&text)?;
    let mut below = Vec::new();
    if let Some(min) = args.min_coverage {
        for (mapping, c) in &coverage {
            if c.percent() + 1e-9 < min {
                below.push(format!(
                    "coverage of {} is {:.1}%, below --min-coverage {min}%",
                    shown(mapping),
                    c.percent()
                ));
            }
        }
    }
    if let Some(path) = &args.lcov {
        let inputs: Vec<&PathBuf> = runs.iter().flat_map(|r| &r.inputs).collect();
        let mut lcov = String::new();
        for (mapping, c) in &coverage {
            lcov.push_str(&c.lcov(&mapping.display().to_string()));
        }
        write_output(path, &lcov, &inputs)?;
    }
    let summary = format!("{passed} passed, {failed} failed\n");
    let mut tail = String::new();
    for line in &below {
        tail.push_str(&format!("{}\n", escape_controls(line)));
    }
    if args.format == TestFormat::Human {
        print_stdout(&format!("{tail}{summary}"))?;
    } else {
        print_stderr(&format!("{tail}{summary}"))?;
    }
    Ok(if failed > 0 || !below.is_empty() {
        Status::Failed
    } else {
        Status::Ok
    })
}

/// The test files the paths name, in order, each once.
fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    for path in paths {
        let meta =
            fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            let before = found.len();
            walk(path, 0, &mut found)?;
            found[before..].sort();
        } else if is_test_file(path) {
            found.push(path.clone());
        } else if path.extension().is_some_and(|e| e == "scimap") {
            let test = test_file_of(path);
            if !test.is_file() {
                return Err(format!(
                    "{} has no test file (expected {})",
                    path.display(),
                    test.display()
                ));
            }
            found.push(test);
        } else {
            return Err(format!(
                "{} is neither a test file (*{SUFFIX}), a mapping (*.scimap) nor a directory",
                path.display()
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|p| seen.insert(fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    if found.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no test files (*{SUFFIX}) in {}", names.join(", ")));
    }
    Ok(found)
}

fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(SUFFIX) && n.len() > SUFFIX.len())
}

/// `NAME.scimap` → `NAME.test.toml` beside it.
fn test_file_of(mapping: &Path) -> PathBuf {
    let stem = mapping.file_stem().unwrap_or_default().to_string_lossy();
    mapping.with_file_name(format!("{stem}{SUFFIX}"))
}

/// Test files under `dir`: symbolic links to directories are not followed, and hidden
/// directories, `target` and `node_modules` are skipped.
fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&path, depth + 1, found)?;
            }
        } else if is_test_file(&path) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads at most `cap` bytes of a file; more is an error.
fn read_within(path: &Path, cap: usize) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() > cap {
        return Err(format!("{} is over {cap} bytes", path.display()));
    }
    Ok(bytes)
}

fn run_file(
    test: &Path,
    options: &Options,
    run_options: &RunOptions,
    args: &TestArgs,
) -> Result<FileRun, String> {
    let dir = test.parent().unwrap_or(Path::new(""));
    let mut run = FileRun {
        test: test.to_path_buf(),
        mapping: PathBuf::new(),
        problem: None,
        report: None,
        inputs: vec![test.to_path_buf()],
    };
    let bytes = read_within(test, testing::MAX_FILE_BYTES)?;
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        run.problem = Some(format!("{}: not UTF-8", shown(test)));
        return Ok(run);
    };
    let file = match TestFile::parse(&text, &options.limits) {
        Ok(file) => file,
        Err(e) => {
            run.problem = Some(format!("{}:{e}", shown(test)));
            return Ok(run);
        }
    };
    run.mapping = match &file.mapping {
        Some(m) => dir.join(m),
        None => {
            let name = test.file_name().unwrap_or_default().to_string_lossy();
            dir.join(format!("{}.scimap", name.trim_end_matches(SUFFIX)))
        }
    };
    run.inputs.push(run.mapping.clone());
    let mut fixtures = match &file.fixtures {
        Some(f) => {
            let path = dir.join(f);
            run.inputs.push(path.clone());
            match File::open(&path) {
                // Read one record at a time: only the records cases pick are kept.
                Ok(file) => Some(BufReader::new(file)),
                Err(e) => {
                    let why = format!("cannot read {}: {e}", path.display());
                    run.problem = Some(format!("{}: fixtures: {why}", shown(test)));
                    return Ok(run);
                }
            }
        }
        None => None,
    };
    let fixtures = fixtures.as_mut().map(|f| f as &mut dyn std::io::BufRead);
    let records = match testing::records(&file, fixtures, &options.limits) {
        Ok(r) => r,
        Err(e) => {
            run.problem = Some(format!("{}:{e}", shown(test)));
            return Ok(run);
        }
    };
    let source = match compile_file(&run.mapping, options) {
        Err(e) => {
            run.problem = Some(format!("{}: {e}", shown(test)));
            return Ok(run);
        }
        Ok(Err(e)) => {
            print_human(&e.diagnostics, &run.mapping, &e.source)?;
            run.problem = Some(format!("{} does not compile", shown(&run.mapping)));
            return Ok(run);
        }
        Ok(Ok(mapping)) => mapping.source().to_string(),
    };
    let go = |file: &TestFile| testing::run(&source, options, file, &records, run_options);
    let mut report = match go(&file) {
        Ok(report) => report,
        Err(e) => {
            run.problem = Some(format!("{}: {e}", shown(&run.mapping)));
            return Ok(run);
        }
    };
    if args.bless {
        if let Some(blessed) = bless(test, &bytes, &text, &file, &report)? {
            // What the file now says, run again: a case blessed passes unless a partial
            // expectation of it still fails.
            let file = TestFile::parse(&blessed, &options.limits)
                .map_err(|e| format!("{}: after --bless: {e}", test.display()))?;
            if let Ok(again) = go(&file) {
                report = again;
            }
        }
    }
    run.report = Some(report);
    Ok(run)
}

/// Writes the snapshots that differ into the test file; the new text, if it changed.
fn bless(
    test: &Path,
    original: &[u8],
    text: &str,
    file: &TestFile,
    report: &Report,
) -> Result<Option<String>, String> {
    let mut updates: Vec<(usize, &str, &Value)> = Vec::new();
    for (i, (case, result)) in file.cases.iter().zip(&report.cases).enumerate() {
        if case.payload.is_some() || !case.has_expectation() {
            if let Some(p) = &result.payload {
                if case.payload.as_ref() != Some(p) {
                    updates.push((i, "payload", p));
                }
            }
        }
        if let (Some(expected), Some(p)) = (&case.plan, &result.plan) {
            if expected != p {
                updates.push((i, "plan", p));
            }
        }
    }
    if updates.is_empty() {
        return Ok(None);
    }
    let blessed = testing::bless(text, &updates).map_err(|e| format!("{}: {e}", test.display()))?;
    write_atomically(test, Some(original), &blessed)?;
    Ok(Some(blessed))
}

/// Writes `text` to `path` through a new file beside it renamed over it, so that a reader never
/// sees half a file; with `original`, only if the file still holds it (an edit made meanwhile
/// is not lost).
fn write_atomically(path: &Path, original: Option<&[u8]>, text: &str) -> Result<(), String> {
    let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    // The file a symbolic link names is the one replaced, not the link.
    let real = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) if original.is_none() => path.to_path_buf(),
        Err(e) => return Err(failed(e)),
    };
    let name = real.file_name().unwrap_or_default().to_string_lossy();
    let temp = real.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(failed)?;
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .and_then(|()| match fs::metadata(&real) {
            Ok(meta) => fs::set_permissions(&temp, meta.permissions()),
            Err(_) => Ok(()),
        });
    let still = match original {
        Some(original) => fs::read(&real).map(|now| now == original),
        None => Ok(true),
    };
    let result = match (written, still) {
        (Err(e), _) | (_, Err(e)) => Err(failed(e)),
        (Ok(()), Ok(false)) => Err(format!(
            "{} changed while the tests ran: not blessed",
            path.display()
        )),
        (Ok(()), Ok(true)) => fs::rename(&temp, &real).map_err(failed),
    };
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Writes an output file that is none of the inputs.
fn write_output(path: &Path, text: &str, inputs: &[&PathBuf]) -> Result<(), String> {
    if let Ok(out) = fs::canonicalize(path) {
        if inputs
            .iter()
            .any(|i| fs::canonicalize(i).is_ok_and(|i| i == out))
        {
            return Err(format!(
                "{} is an input of the tests: not overwritten",
                path.display()
            ));
        }
    }
    write_atomically(path, None, text)
}

/// Coverage per mapping, summed over the test files of the same mapping.
fn merged_coverage(runs: &[FileRun]) -> Vec<(PathBuf, Coverage)> {
    let mut out: Vec<(PathBuf, Coverage)> = Vec::new();
    let mut at: HashMap<PathBuf, usize> = HashMap::new();
    for run in runs {
        let Some(c) = run.report.as_ref().and_then(|r| r.coverage.as_ref()) else {
            continue;
        };
        let key = fs::canonicalize(&run.mapping).unwrap_or_else(|_| run.mapping.clone());
        match at.get(&key).and_then(|&i| out.get_mut(i)) {
            Some((_, sum))
                if sum.entries.len() == c.entries.len()
                    && sum.branches.len() == c.branches.len() =>
            {
                for (s, e) in sum.entries.iter_mut().zip(&c.entries) {
                    s.hits += e.hits;
                }
                for (s, b) in sum.branches.iter_mut().zip(&c.branches) {
                    s.hits += b.hits;
                }
            }
            _ => {
                at.insert(key, out.len());
                out.push((run.mapping.clone(), c.clone()));
            }
        }
    }
    out
}

/// A value as the reports show it: compact JSON, at most 200 characters.
fn value(v: &Option<Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(v) => {
            let text = scimap::json::to_string(v);
            match text.char_indices().nth(200) {
                Some((i, _)) => format!("{}…", &text[..i]),
                None => text,
            }
        }
    }
}

/// One mismatch in words: `payload /displayName: expected "Ada", got nothing`.
fn describe(m: &Mismatch) -> String {
    let place = if m.path.is_empty() {
        m.what.to_string()
    } else {
        format!("{} {}", m.what, m.path)
    };
    match (m.what, &m.expected) {
        ("errors", None) => format!("unexpected error {}", value(&m.actual)),
        ("errors", Some(_)) => format!(
            "expected the record to fail with {}, got {}",
            value(&m.expected),
            match &m.actual {
                None => "a payload".to_string(),
                Some(_) => value(&m.actual),
            }
        ),
        ("payload", None) if m.path.is_empty() => format!(
            "the case expects nothing: `scimap test --bless` writes this payload as its snapshot: {}",
            value(&m.actual)
        ),
        _ => format!(
            "{place}: expected {}, got {}",
            value(&m.expected),
            value(&m.actual)
        ),
    }
}

fn human(runs: &[FileRun], coverage: &[(PathBuf, Coverage)], show: bool) -> String {
    let mut out = String::new();
    for run in runs {
        let test = shown(&run.test);
        if let Some(problem) = &run.problem {
            out.push_str(&format!("ERROR {}\n", escape_controls(problem)));
            continue;
        }
        let Some(report) = &run.report else { continue };
        for case in report.cases.iter().filter(|c| !c.passed()) {
            out.push_str(&format!(
                "FAIL {test}:{}: {}\n",
                case.line,
                escape_controls(&case.name)
            ));
            for m in &case.mismatches {
                out.push_str(&format!("  {}\n", escape_controls(&describe(m))));
                if let Some(e) = &m.entry {
                    out.push_str(&format!(
                        "    from `{}` at {}:{}:{}\n",
                        escape_controls(&e.target),
                        shown(&run.mapping),
                        e.line,
                        e.column
                    ));
                }
            }
        }
        out.push_str(&format!(
            "{test}: {} passed, {} failed\n",
            report.passed(),
            report.failed()
        ));
    }
    if show {
        for (mapping, c) in coverage {
            let file = shown(mapping);
            let covered = |n: usize, of: usize| format!("{n}/{of}");
            out.push_str(&format!(
                "coverage of {file}: {:.1}% (entries {}, branch sides {})\n",
                c.percent(),
                covered(
                    c.entries.iter().filter(|e| e.hits > 0).count(),
                    c.entries.len()
                ),
                covered(
                    c.branches.iter().filter(|b| b.hits > 0).count(),
                    c.branches.len()
                ),
            ));
            for e in c.entries.iter().filter(|e| e.hits == 0) {
                out.push_str(&format!(
                    "  {file}:{}:{}: entry `{}`: no case gave it a value\n",
                    e.line,
                    e.column,
                    escape_controls(&e.target)
                ));
            }
            for b in c.branches.iter().filter(|b| b.hits == 0) {
                out.push_str(&format!(
                    "  {file}:{}:{}: `{}` {} never taken: {}\n",
                    b.line,
                    b.column,
                    b.kind,
                    b.side,
                    escape_controls(&b.excerpt)
                ));
            }
        }
    }
    out
}

fn json_report(
    runs: &[FileRun],
    coverage: &[(PathBuf, Coverage)],
    passed: usize,
    failed: usize,
) -> String {
    let files: Vec<Value> = runs
        .iter()
        .map(|run| {
            let cases: Vec<Value> = run
                .report
                .iter()
                .flat_map(|r| &r.cases)
                .map(|c| {
                    let mut case = c.to_json();
                    // Each entry blamed also names its file.
                    let entries = case["mismatches"]
                        .as_array_mut()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["entry"].as_object_mut());
                    for entry in entries {
                        let file = run.mapping.display().to_string();
                        entry.insert("file".into(), Value::String(file));
                    }
                    case
                })
                .collect();
            json!({
                "file": run.test.display().to_string(),
                "mapping": run.mapping.display().to_string(),
                "error": run.problem,
                "cases": cases,
            })
        })
        .collect();
    let coverage: Vec<Value> = coverage
        .iter()
        .map(|(mapping, c)| {
            let mut coverage = c.to_json();
            if let Some(obj) = coverage.as_object_mut() {
                obj.insert("mapping".into(), json!(mapping.display().to_string()));
            }
            coverage
        })
        .collect();
    let doc = json!({"files": files, "coverage": coverage, "passed": passed, "failed": failed});
    format!("{}\n", scimap::json::pretty(&doc))
}

/// XML text: the five escapes, and the characters XML 1.0 cannot hold at all written as
/// `\u{…}`.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn junit(runs: &[FileRun]) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for run in runs {
        let file = xml(&run.test.display().to_string());
        if let Some(problem) = &run.problem {
            tests += 1;
            failures += 1;
            suites.push_str(&format!(
                "  <testsuite name=\"{file}\" tests=\"1\" failures=\"1\">\n    <testcase name=\"(test file)\" classname=\"{file}\" file=\"{file}\">\n      <failure message=\"{}\"/>\n    </testcase>\n  </testsuite>\n",
                xml(problem)
            ));
            continue;
        }
        let Some(report) = &run.report else { continue };
        tests += report.cases.len();
        failures += report.failed();
        suites.push_str(&format!(
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\">\n",
            report.cases.len(),
            report.failed()
        ));
        for case in &report.cases {
            let head = format!(
                "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\" line=\"{}\"",
                xml(&case.name),
                case.line
            );
            if case.passed() {
                suites.push_str(&format!("{head}/>\n"));
                continue;
            }
            let mut body = String::new();
            for m in &case.mismatches {
                body.push_str(&describe(m));
                if let Some(e) = &m.entry {
                    body.push_str(&format!(
                        " (from `{}` at {}:{}:{})",
                        e.target,
                        run.mapping.display(),
                        e.line,
                        e.column
                    ));
                }
                body.push('\n');
            }
            let first = case.mismatches.first().map(describe).unwrap_or_default();
            suites.push_str(&format!(
                "{head}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(&first),
                xml(&body)
            ));
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"scimap test\" tests=\"{tests}\" failures=\"{failures}\">\n{suites}</testsuites>\n"
    )
}

/// One `::error` per mismatch: at the mapping entry that produced the wrong value when there
/// is one, else at the case in the test file.
fn github(runs: &[FileRun]) -> String {
    let mut out = String::new();
    let line = |file: &Path, line: usize, col: usize, title: &str, message: &str| {
        format!(
            "::error file={},line={line},col={col},title={}::{}\n",
            render::escape_property(&file.display().to_string()),
            render::escape_property(title),
            render::escape_data(message)
        )
    };
    for run in runs {
        if let Some(problem) = &run.problem {
            out.push_str(&line(&run.test, 1, 1, "scimap test", problem));
            continue;
        }
        let Some(report) = &run.report else { continue };
        for case in report.cases.iter().filter(|c| !c.passed()) {
            let title = format!("scimap test: {}", case.name);
            for m in &case.mismatches {
                let message = format!(
                    "{} (case \"{}\", {}:{})",
                    describe(m),
                    case.name,
                    run.test.display(),
                    case.line
                );
                out.push_str(&match &m.entry {
                    Some(e) => line(&run.mapping, e.line, e.column, &title, &message),
                    None => line(&run.test, case.line, case.column, &title, &message),
                });
            }
        }
    }
    out
}
