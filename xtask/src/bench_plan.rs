//! `cargo xtask bench-plan [N]`: what an update plan costs beside `bulk` (issue 13's goal: `plan`
//! over N pairs at most 2x `bulk` over the same records, one thread), on N users from the
//! generator `bench-compare` uses (default 100,000), with benches/trello15.scimap.
//!
//! 1. Data: the users (`bench::users`), their payloads (`scimap bulk`), and three sets of pairs
//!    (benches/plan_pairs.py): `unchanged` (the app holds the payload, `[]` to send), `changed`
//!    (two mapped attributes differ in every pair, a PATCH of two operations), `new` (no
//!    resource, a POST).
//! 2. Five interleaved rounds of `scimap bulk --threads 1` over the users and `scimap plan
//!    --input --threads 1` over each set, under `/usr/bin/time`: medians of CPU time (user +
//!    system, what the machine's other load disturbs least) and of wall clock.
//! 3. Instructions per record under callgrind (repeatable on a shared machine): the first
//!    2,000 lines of each input, less a one-line run (start-up and compiling the mapping).
//!
//! Prints a markdown report and writes it to `target/bench-plan/report.md`.

use crate::bench::{ensure_time, loadavg, median, users};
use crate::{root, run};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROUNDS: usize = 5;
const CALLGRIND_LINES: usize = 2000;
const MAPPING: &str = "benches/trello15.scimap";
/// A fixed clock: `now()` is not in the mapping, but every run reads the same one.
const NOW: &str = "2026-01-01T00:00:00Z";
const MIXES: [&str; 3] = ["unchanged", "changed", "new"];

pub fn run_bench(args: &[String]) -> Result<(), String> {
    let count: u64 = match args.first() {
        Some(n) => n.parse().map_err(|_| format!("`{n}` is not a count"))?,
        None => 100_000,
    };
    let root = root();
    let work = root.join("target/bench-plan");
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    ensure_time()?;
    run("cargo", &["build", "--release", "--bin", "scimap"])?;
    let scimap = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"))
        .join("release/scimap");
    let users = users(&work, count)?;

    let payloads = work.join(format!("payloads-{count}.ndjson"));
    // Some users fail the mapping (its warnings say why): exit 1 is expected here.
    let status = Command::new(&scimap)
        .args(["bulk", MAPPING, "--threads", "1", "--now", NOW, "--input"])
        .arg(&users)
        .arg("--output")
        .arg(&payloads)
        .current_dir(&root)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run scimap: {e}"))?;
    if status.code() == Some(2) {
        return Err("scimap bulk failed".into());
    }
    let mut inputs: Vec<(String, PathBuf)> = vec![("bulk".into(), users.clone())];
    for mix in MIXES {
        let pairs = work.join(format!("pairs-{mix}-{count}.ndjson"));
        let out =
            File::create(&pairs).map_err(|e| format!("cannot write {}: {e}", pairs.display()))?;
        let status = Command::new("python3")
            .arg("benches/plan_pairs.py")
            .args([&users, &payloads])
            .arg(mix)
            .stdout(out)
            .current_dir(&root)
            .status()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !status.success() {
            return Err(format!("plan_pairs.py {mix} failed ({status})"));
        }
        inputs.push((mix.to_string(), pairs));
    }

    let before = loadavg();
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); inputs.len()];
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); inputs.len()];
    for round in 0..ROUNDS {
        for (i, (name, input)) in inputs.iter().enumerate() {
            let (c, w) = timed(&scimap, name, input, &root)?;
            eprintln!(
                "bench-plan: round {} {name}: {c:.2} s CPU, {w:.2} s wall",
                round + 1
            );
            cpu[i].push(c);
            wall[i].push(w);
        }
    }
    let after = loadavg();

    let mut instructions = Vec::new();
    for (name, input) in &inputs {
        let head = work.join(format!("head-{name}.ndjson"));
        let one = work.join(format!("one-{name}.ndjson"));
        let text = fs::read_to_string(input)
            .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        let lines: Vec<&str> = text.lines().take(CALLGRIND_LINES).collect();
        let write = |path: &Path, lines: &[&str]| {
            fs::write(path, lines.join("\n") + "\n")
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        write(&head, &lines)?;
        write(&one, &lines[..1])?;
        let all = callgrind(&scimap, name, &head, &root)?;
        let start = callgrind(&scimap, name, &one, &root)?;
        instructions.push((all - start) as f64 / (lines.len() - 1) as f64);
    }

    let mut report = format!(
        "## bench-plan: {count} users (gen_users.py --seed 42), {MAPPING}, one thread\n\n\
         Load average before {before}, after {after}. Medians of {ROUNDS} interleaved rounds; \
         instructions per record from callgrind on the first {CALLGRIND_LINES} lines (less a \
         one-line run).\n\n\
         | input | CPU s | × bulk | wall s | × bulk | instructions/record | × bulk |\n\
         |---|---|---|---|---|---|---|\n"
    );
    let (c0, w0, i0) = (median(&cpu[0]), median(&wall[0]), instructions[0]);
    for (i, (name, _)) in inputs.iter().enumerate() {
        let (c, w, n) = (median(&cpu[i]), median(&wall[i]), instructions[i]);
        let label = match name.as_str() {
            "bulk" => "`bulk` over the users".to_string(),
            mix => format!("`plan --input`, {mix}"),
        };
        report.push_str(&format!(
            "| {label} | {c:.2} | {:.2} | {w:.2} | {:.2} | {n:.0} | {:.2} |\n",
            c / c0,
            w / w0,
            n / i0
        ));
    }
    println!("{report}");
    let path = work.join("report.md");
    fs::write(&path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// One run: CPU seconds (user + system) and wall seconds, stdout to /dev/null.
fn timed(scimap: &Path, name: &str, input: &Path, root: &Path) -> Result<(f64, f64), String> {
    let format = ["-f", "%U %S %e"];
    let stderr = under("/usr/bin/time", &format, scimap, name, input, root)?;
    let last = stderr.lines().last().unwrap_or_default();
    let fields: Vec<f64> = last
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields.as_slice() {
        [user, system, wall] => Ok((user + system, *wall)),
        _ => Err(format!("no timing in: {last}")),
    }
}

/// The standard error of one run of `scimap` with the arguments of `name`, under `tool`.
fn under(
    tool: &str,
    tool_args: &[&str],
    scimap: &Path,
    name: &str,
    input: &Path,
    root: &Path,
) -> Result<String, String> {
    let output = Command::new(tool)
        .args(tool_args)
        .arg(scimap)
        .args(command(name))
        .arg(input)
        .current_dir(root)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {tool}: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Instructions of one run under callgrind.
fn callgrind(scimap: &Path, name: &str, input: &Path, root: &Path) -> Result<u64, String> {
    let args = ["--tool=callgrind", "--callgrind-out-file=/dev/null"];
    let stderr = under("valgrind", &args, scimap, name, input, root)?;
    stderr
        .lines()
        .find_map(|l| l.split("refs:").nth(1))
        .and_then(|n| n.trim().replace(',', "").parse().ok())
        .ok_or_else(|| format!("no instruction count from valgrind: {stderr}"))
}

/// The arguments before the input file.
fn command(name: &str) -> Vec<&'static str> {
    let verb = if name == "bulk" { "bulk" } else { "plan" };
    vec![verb, MAPPING, "--threads", "1", "--now", NOW, "--input"]
}
