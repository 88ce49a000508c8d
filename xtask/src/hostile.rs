//! `cargo xtask hostile-compile [--size BYTES] [--bin PATH] [--only NAME]`: the compile-time
//! goal measured. Each hostile mapping shape of `tests/compile_scale/shapes.rs` is generated at
//! BYTES (default 1 MiB, the `source-bytes` limit) into `target/hostile-compile/`, then checked
//! by the release `scimap` (built first unless `--bin` names one) under GNU time, twice:
//! `check --format json` (stdout discarded) and `check` (human, the report on stderr counted).
//! Prints a markdown table: CPU seconds (user + system) per MiB of source, the human run's CPU
//! and output size, peak RSS, and the first error's code (flagged when it is not the one the
//! shape expects); the worst shape last. GNU time has a resolution of 10 ms.

#[path = "../../tests/compile_scale/shapes.rs"]
mod shapes;

use crate::{root, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MIB: f64 = (1u64 << 20) as f64;

/// What both tasks take: `--size` (with `sized`), `--bin`, `--only`; and the directory they
/// write into, `target/DIR`.
struct Setup {
    size: usize,
    bin: PathBuf,
    only: Option<String>,
    work: PathBuf,
}

fn setup(args: &[String], dir: &str, sized: bool) -> Result<Setup, String> {
    let mut size: usize = 1 << 20;
    let mut bin: Option<PathBuf> = None;
    let mut only: Option<String> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--size" if sized => size = value()?.parse().map_err(|e| format!("--size: {e}"))?,
            "--bin" => bin = Some(PathBuf::from(value()?)),
            "--only" => only = Some(value()?.clone()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    crate::bench::ensure_time()?;
    let root = root();
    let bin = match bin {
        Some(b) => b,
        None => {
            run("cargo", &["build", "--release", "--bin", "scimap"])?;
            root.join("target/release/scimap")
        }
    };
    let work = root.join("target").join(dir);
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    Ok(Setup {
        size,
        bin,
        only,
        work,
    })
}

/// One measured run of `scimap check`.
struct Measure {
    exit: i64,
    cpu: f64,
    rss_kib: u64,
    stdout: String,
    stderr_bytes: u64,
}

pub fn compile(args: &[String]) -> Result<(), String> {
    let Setup {
        size,
        bin,
        only,
        work,
    } = setup(args, "hostile-compile", true)?;

    let mut rows = Vec::new();
    for shape in shapes::all() {
        if only.as_deref().is_some_and(|o| o != shape.name) {
            continue;
        }
        let text = (shape.make)(size);
        let file = work.join(format!("{}.scimap", shape.name));
        fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let json = measure(&bin, &file, &work, "json")?;
        let human = measure(&bin, &file, &work, "human")?;
        let per_mib = json.cpu / (text.len() as f64 / MIB);
        // The code of the JSON array's first error (keys in order: "code", then "severity"),
        // or none for a mapping that compiles.
        let first = json
            .stdout
            .split_once("\"severity\": \"error\"")
            .and_then(|(before, _)| before.rsplit_once("\"code\": \""))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("ok", |(code, _)| code)
            .to_string();
        let first = if first == shape.first {
            first
        } else {
            format!("{first} (expected {})", shape.first)
        };
        eprintln!("{:<28} {:>8.2} s/MiB  {first}", shape.name, per_mib);
        rows.push((shape.name, text.len(), per_mib, json, human, first));
    }
    rows.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut table = String::from(
        "| shape | bytes | json CPU s/MiB | json peak RSS MiB | human CPU s | human stderr KiB | first error |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for (name, bytes, per_mib, json, human, first) in &rows {
        table.push_str(&format!(
            "| {name} | {bytes} | {per_mib:.2} | {:.0} | {:.2} | {} | {first} |\n",
            json.rss_kib as f64 / 1024.0,
            human.cpu,
            human.stderr_bytes / 1024,
        ));
    }
    println!("{table}");
    let report = work.join("report.md");
    fs::write(&report, &table).map_err(|e| format!("cannot write {}: {e}", report.display()))?;
    eprintln!("written to {}", report.display());
    Ok(())
}

/// `scimap check --format FORMAT FILE` under GNU time; stdout kept, stderr counted.
fn measure(bin: &Path, file: &Path, work: &Path, format: &str) -> Result<Measure, String> {
    let args = ["check", "--format", format, &file.display().to_string()].map(String::from);
    let measure = timed(bin, &args, None, work)?;
    // Exit 0 (compiles) or 1 (diagnostics); anything else is a crash.
    if !(0..=1).contains(&measure.exit) {
        return Err(format!("{} exited with {}", file.display(), measure.exit));
    }
    Ok(measure)
}

/// `BIN ARGS < STDIN` under GNU time; stdout kept, stderr counted.
fn timed(
    bin: &Path,
    args: &[String],
    stdin: Option<&Path>,
    work: &Path,
) -> Result<Measure, String> {
    let times = work.join("time.txt");
    let stdout = work.join("stdout.txt");
    let stderr = work.join("stderr.txt");
    let create =
        |p: &Path| fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()));
    let (out, err) = (create(&stdout)?, create(&stderr)?);
    let status = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&times)
        .args(["-f", "%x %U %S %M"])
        .arg(bin)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(match stdin {
            Some(path) => fs::File::open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?
                .into(),
            None => Stdio::null(),
        })
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let text = fs::read_to_string(&times).map_err(|e| format!("no time output: {e}"))?;
    // A signal adds a "Command terminated by signal" line before the figures.
    let figures: Vec<&str> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let number = |i: usize| -> Result<f64, String> {
        figures
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or(format!("unexpected time output {text:?} ({status})"))
    };
    Ok(Measure {
        // A signal is a crash whatever the status.
        exit: if text.contains("terminated by signal") {
            -1
        } else {
            number(0)? as i64
        },
        cpu: number(1)? + number(2)?,
        rss_kib: number(3)? as u64,
        stdout: fs::read_to_string(&stdout).unwrap_or_default(),
        stderr_bytes: fs::metadata(&stderr).map_or(0, |m| m.len()),
    })
}

/// One hostile record for `hostile-bulk`: a mapping, and a line that makes it work hard.
struct Case {
    name: &'static str,
    mapping: String,
    line: String,
}

/// The evaluation-side hostile inputs of issue #11, at their full size.
fn bulk_cases() -> Vec<Case> {
    let user = |body: &str| format!("user {{\n  userName = username\n{body}}}\n");
    let record = |fields: &str| format!("{{\"username\":\"u\",{fields}}}");
    let mib_of = |c: &str, n: usize| c.repeat(n);
    let dates: String = [
        "title",
        "nickName",
        "displayName",
        "profileUrl",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "externalId",
        "name.formatted",
        "name.familyName",
        "name.givenName",
        "name.middleName",
        "name.honorificPrefix",
    ]
    .iter()
    .map(|t| format!("  {t} = string(date(description, description))\n"))
    .collect();
    let expensive = r#""(?:[a-z]{1,50}){1,50}c""#;
    vec![
        Case {
            name: "regex-1MB",
            mapping: user(&format!("  active = description matches {expensive}\n")),
            line: record(&format!("\"description\":\"{}\"", mib_of("a", 1_000_000))),
        },
        Case {
            name: "regex-15MB",
            mapping: user(&format!("  active = description matches {expensive}\n")),
            line: record(&format!("\"description\":\"{}\"", mib_of("a", 15_000_000))),
        },
        Case {
            name: "jsonpath-regex",
            mapping: user(&format!(
                "  emails[].value = $.attributes[?match(@.value, {})].value\n",
                // I-Regexp has no `(?:`.
                r#""([a-z]{1,50}){1,50}c""#
            )),
            line: record(&format!(
                "\"attributes\":[{}]",
                vec![format!("{{\"value\":\"{}\"}}", "a".repeat(3_000)); 200].join(",")
            )),
        },
        Case {
            name: "string-copies",
            mapping: user("  title = string(len(map(1..2000, (description ?? \"\") + \"\")))\n"),
            line: record(&format!("\"description\":\"{}\"", mib_of("d", 1_000_000))),
        },
        Case {
            name: "sort-long-strings",
            mapping: user("  title = string(len(sort(map(1..60, description + string(#)))))\n"),
            line: record(&format!("\"description\":\"{}\"", mib_of("d", 1_000_000))),
        },
        Case {
            name: "deep-list-compare",
            mapping: user(
                "  let deep = reduce(1..10000, [#acc], [])\n  title = string(deep == deep && deep in [deep] && len(uniq([deep, deep])) == 1)\n",
            ),
            line: record("\"description\":\"x\""),
        },
        Case {
            name: "date-errors-4MB",
            mapping: user(&dates),
            line: record(&format!("\"description\":\"{}\"", mib_of("_2", 2_000_000))),
        },
        Case {
            name: "empty-objects-15MB",
            mapping: user("  emails[].value = $.attributes[*].value\n"),
            line: record(&format!("\"attributes\":[{}]", vec!["{}"; 5_150_000].join(","))),
        },
        Case {
            name: "descendants-deep",
            mapping: user("  nickName = $..*..*..*..*\n"),
            line: record(&format!("\"a\":{}1{}", "[".repeat(120), "]".repeat(120))),
        },
        Case {
            name: "over-long-line",
            mapping: user("  title = description\n"),
            line: record(&format!("\"description\":\"{}\"", mib_of("o", 17 << 20))),
        },
    ]
}

/// `cargo xtask hostile-bulk [--bin P] [--only NAME]`: every evaluation-side hostile record
/// of issue #11 through `scimap bulk` at the default limits, with one and two threads, under
/// GNU time. Each input is the hostile line four times, a good record after each: the table
/// says whether every line got its output line, in order, with the good records unharmed, the
/// peak RSS against the bound `64 MiB + (line-bytes + memory) × threads`, and the CPU per
/// hostile record.
pub fn bulk(args: &[String]) -> Result<(), String> {
    let Setup {
        bin, only, work, ..
    } = setup(args, "hostile-bulk", false)?;
    let limits = scimap_default_limits();
    let good = "{\"username\":\"good\",\"description\":\"fine\"}";
    const COPIES: usize = 4;
    let mut table = String::from(
        "| input | threads | line bytes | peak RSS MiB | bound MiB | CPU s per hostile record | lines out / in | good records | first error |\n\
         |---|---:|---:|---:|---:|---:|---|---|---|\n",
    );
    let mut worst_rss = 0.0f64;
    let mut worst_cpu = (0.0f64, "");
    for case in bulk_cases() {
        if only.as_deref().is_some_and(|o| o != case.name) {
            continue;
        }
        let mapping = work.join(format!("{}.scimap", case.name));
        let input = work.join(format!("{}.ndjson", case.name));
        fs::write(&mapping, &case.mapping).map_err(|e| format!("cannot write mapping: {e}"))?;
        let body: String = (0..COPIES)
            .map(|_| format!("{}\n{good}\n", case.line))
            .collect();
        fs::write(&input, body).map_err(|e| format!("cannot write input: {e}"))?;
        for threads in [1u64, 2] {
            let args = [
                "bulk".to_string(),
                mapping.display().to_string(),
                "--threads".to_string(),
                threads.to_string(),
            ];
            let m = timed(&bin, &args, Some(&input), &work)?;
            if !(0..=1).contains(&m.exit) {
                return Err(format!("{}: exit {} (a crash)", case.name, m.exit));
            }
            let lines: Vec<&str> = m.stdout.lines().collect();
            let in_order = lines.len() == 2 * COPIES
                && lines
                    .iter()
                    .skip(1)
                    .step_by(2)
                    .all(|l| l.contains("\"userName\":\"good\""));
            let first = lines
                .first()
                .and_then(|l| l.split_once("\"code\":\""))
                .and_then(|(_, rest)| rest.split_once('"'))
                .map_or("none", |(code, _)| code);
            let rss = m.rss_kib as f64 / 1024.0;
            let bound = 64.0 + ((limits.0 + limits.1) * threads) as f64 / MIB;
            let per_record = m.cpu / COPIES as f64;
            worst_rss = worst_rss.max(rss / bound);
            if per_record > worst_cpu.0 {
                worst_cpu = (per_record, case.name);
            }
            eprintln!(
                "{:<20} {threads} thread(s) {rss:>7.1} MiB  {per_record:.3} s/record  {first}",
                case.name
            );
            table.push_str(&format!(
                "| {} | {threads} | {} | {rss:.1} | {bound:.0} | {per_record:.3} | {} / {} | {} | {first} |\n",
                case.name,
                case.line.len(),
                lines.len(),
                2 * COPIES,
                if in_order { "all unharmed, in order" } else { "**NO**" },
            ));
        }
    }
    table.push_str(&format!(
        "\nWorst peak RSS: {:.0}% of its bound. Worst CPU per hostile record: {:.3} s ({}).\n",
        worst_rss * 100.0,
        worst_cpu.0,
        worst_cpu.1
    ));
    println!("{table}");
    let report = work.join("report.md");
    fs::write(&report, &table).map_err(|e| format!("cannot write {}: {e}", report.display()))?;
    eprintln!("written to {}", report.display());
    Ok(())
}

/// `line-bytes` and `memory` at their defaults (`Limits::default`; xtask does not link scimap).
fn scimap_default_limits() -> (u64, u64) {
    (16 << 20, 64 << 20)
}
