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

/// One measured run of `scimap check`.
struct Measure {
    cpu: f64,
    rss_kib: u64,
    stdout: String,
    stderr_bytes: u64,
}

pub fn compile(args: &[String]) -> Result<(), String> {
    let mut size: usize = 1 << 20;
    let mut bin: Option<PathBuf> = None;
    let mut only: Option<String> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--size" => size = value()?.parse().map_err(|e| format!("--size: {e}"))?,
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
    let work = root.join("target/hostile-compile");
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

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
        .args(["check", "--format", format])
        .arg(file)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
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
    // Exit 0 (compiles) or 1 (diagnostics); anything else is a crash.
    let exit = number(0)?;
    if exit > 1.0 {
        return Err(format!("{} exited with {exit}: {text}", file.display()));
    }
    Ok(Measure {
        cpu: number(1)? + number(2)?,
        rss_kib: number(3)? as u64,
        stdout: fs::read_to_string(&stdout).unwrap_or_default(),
        stderr_bytes: fs::metadata(&stderr).map_or(0, |m| m.len()),
    })
}
