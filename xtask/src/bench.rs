//! `cargo xtask bench-compare [N] [--million]`: scimap side by side with its measurement peers
//! (tracker issue 5), on N generated users (default 100,000). The peers and the user generator
//! are not in this repository: they come from `../shared/`, the folder the project's machines and
//! CI keep beside the checkout (`peers/expr-go`, `peers/json-baseline`, `data/gen_users.py`).
//!
//! 1. Data: `python3 ../shared/data/gen_users.py --count N --seed 42` into
//!    `target/bench-compare/users-N.ndjson` (reused when present).
//! 2. Builds: `cargo build --release --bin scimap`; a writable copy of
//!    `../shared/peers/expr-go` (read-only) in `target/bench-compare/expr-go`, built with its
//!    `build.sh` (which installs golang via apt when missing); `../shared/peers/json-baseline`
//!    into `target/bench-compare/json-baseline`.
//! 3. One untimed pass of every end-to-end program under `/usr/bin/time -f %M` (the `time`
//!    package is installed when missing): peak RSS, failure counts (scimap's stderr summary
//!    "N records, OK ok, F failed"; exprpeer's output lines holding `"$error"`, i.e. records
//!    with at least one failing target), and a warm page cache for the timed rounds.
//! 4. Nine interleaved rounds; each runs, in this order, `scimap bulk benches/trello15.scimap
//!    --threads 1`, the same with `--threads <all cores>`, `exprpeer map --mapping trello.tsv`
//!    (end to end), `exprpeer map --mapping trello.tsv --bench` (its `BENCH` line gives Expr's
//!    evaluation-only ns/expression and records/s), `json-baseline` and `json-baseline --typed`,
//!    then one copy of `json-baseline --typed` a core started together (what the machine gives
//!    programs that share nothing: the ceiling for scimap's threads), stdout to /dev/null, wall
//!    clock and CPU time (`getrusage`) per run. Medians are reported, with the load average
//!    before and after the rounds, and the medians of each round's own ratios (scimap on one
//!    thread against `json-baseline --typed`; on all cores against one, in wall clock and in CPU
//!    time; the copies at once against one), which a neighbour's burst moves less than a ratio
//!    of medians from different rounds.
//! 5. scimap's evaluation-only cost: criterion's `records/trello15` (benches/eval.rs, short
//!    settings) with `SCIMAP_BENCH_USERS` set to the generated file — `Mapping::write_payload`
//!    of the same 15 expressions over its first 2000 records, read beforehand with
//!    `Record::parse` — per record, divided by 15. The counterpart of Expr's `--bench` eval
//!    phase (the same records, parsed beforehand) through the public API; an upper bound, since
//!    it also writes each payload, which Expr's `expr.Run` loop does not. Timing `scimap bulk`
//!    with a one-entry mapping against trello15 was rejected: the difference mixes in reading
//!    11 more fields. Beside it `records/trello15_hot`, the first few of those records over
//!    and over (`HOT` in benches/eval.rs): the same work with the caches warm. The report takes
//!    each bench's record count from its throughput. The bench build costs a few minutes the
//!    first time.
//! 6. `--million`: also generates 1,000,000 users (about a minute) and reports the peak RSS
//!    of `scimap bulk` over them with the default threads (memory must not grow with input).
//!
//! Prints a markdown report and writes it to `target/bench-compare/report.md`. The timed rounds
//! use wall clock on a possibly shared machine: compare figures from the same report only.

use crate::{root, run};
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SEED: &str = "42";
const ROUNDS: usize = 9;
const MILLION: u64 = 1_000_000;
/// Entries of benches/trello15.scimap and targets of trello.tsv.
const EXPRESSIONS: f64 = 15.0;

/// One program of the timed rounds.
struct Program {
    name: String,
    exe: PathBuf,
    args: Vec<String>,
    /// Whether the input goes to stdin rather than `--input FILE`.
    stdin: bool,
    /// End to end (NDJSON in → NDJSON out), so part of the throughput table.
    end_to_end: bool,
}

impl Program {
    fn command(&self, data: &Path) -> Result<Command, String> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(&self.args).current_dir(root());
        if self.stdin {
            cmd.stdin(open(data)?);
        } else {
            cmd.arg("--input").arg(data).stdin(Stdio::null());
        }
        Ok(cmd)
    }
}

/// What the untimed pass learnt about one program.
struct Pass {
    rss_kib: u64,
    failed: Option<String>,
}

pub fn compare(args: &[String]) -> Result<(), String> {
    let mut count: u64 = 100_000;
    let mut million = false;
    for arg in args {
        match arg.as_str() {
            "--million" => million = true,
            n => {
                count = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(format!("bench-compare: `{n}` is not a record count"))?
            }
        }
    }
    let root = root();
    let work = root.join("target/bench-compare");
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    let data = users(&work, count)?;
    let tools = build(&root, &work)?;
    ensure_time()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let programs = programs(&tools, cores);
    let input_bytes = fs::metadata(&data)
        .map_err(|e| format!("cannot read {}: {e}", data.display()))?
        .len();

    eprintln!("bench-compare: untimed pass (peak RSS, failures, page cache)");
    let passes: Vec<Option<Pass>> = programs
        .iter()
        .map(|p| p.end_to_end.then(|| pass(p, &data, &work)).transpose())
        .collect::<Result<_, _>>()?;

    let load_before = loadavg();
    let mut times = vec![Vec::with_capacity(ROUNDS); programs.len()];
    let mut cpu = vec![Vec::with_capacity(ROUNDS); programs.len()];
    let mut expr_eval: Vec<(f64, f64)> = Vec::with_capacity(ROUNDS);
    let mut pairs = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        eprintln!("bench-compare: round {round}/{ROUNDS} (load {})", loadavg());
        for (i, p) in programs.iter().enumerate() {
            let (timing, stderr) = timed(p, &data)?;
            times[i].push(timing.wall);
            cpu[i].push(timing.cpu);
            if !p.end_to_end {
                expr_eval.push(expr_bench_line(&stderr)?);
            }
        }
        let typed = programs
            .iter()
            .find(|p| p.name == "json-baseline --typed")
            .ok_or("no json-baseline --typed")?;
        pairs.push(at_once(typed, &data, cores)?);
    }
    let load_after = loadavg();

    let (scimap_eval, scimap_hot) = scimap_eval(&root, &work, &data)?;
    let million_rss = if million {
        let big = users(&work, MILLION)?;
        let p = &programs[1];
        Some(pass(p, &big, &work)?.rss_kib)
    } else {
        None
    };

    let report = Report {
        count,
        input_bytes,
        cores,
        programs: &programs,
        times: &times,
        cpu: &cpu,
        passes: &passes,
        expr_eval: &expr_eval,
        at_once: &pairs,
        scimap_eval,
        scimap_hot,
        million_rss,
        load_before,
        load_after,
    }
    .markdown();
    print!("{report}");
    let path = work.join("report.md");
    fs::write(&path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("bench-compare: wrote {}", path.display());
    Ok(())
}

fn open(path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `users-N.ndjson`, generated once; written under a temporary name so that an interrupted run
/// leaves no truncated file to be reused.
pub(crate) fn users(work: &Path, count: u64) -> Result<PathBuf, String> {
    let path = work.join(format!("users-{count}.ndjson"));
    if fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        eprintln!("bench-compare: reusing {}", path.display());
        return Ok(path);
    }
    let partial = work.join(format!("users-{count}.ndjson.partial"));
    let out =
        File::create(&partial).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let count = count.to_string();
    let gen = root().join("../shared/data/gen_users.py");
    eprintln!(
        "$ python3 {} --count {count} --seed {SEED} > {}",
        gen.display(),
        path.display()
    );
    let status = Command::new("python3")
        .arg(&gen)
        .args(["--count", &count, "--seed", SEED])
        .stdout(out)
        .status()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !status.success() {
        return Err(format!("gen_users.py failed ({status})"));
    }
    fs::rename(&partial, &path).map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    Ok(path)
}

struct Tools {
    scimap: PathBuf,
    exprpeer: PathBuf,
    json_baseline: PathBuf,
}

fn build(root: &Path, work: &Path) -> Result<Tools, String> {
    run("cargo", &["build", "--release", "--bin", "scimap"])?;
    // Where that build went: a user's CARGO_TARGET_DIR wins over the workspace's target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));

    // The peer is shared read-only; build.sh writes its binary and Go caches beside itself.
    // `cp -p` keeps modification times, so build.sh's up-to-date check skips needless rebuilds.
    let expr_go = work.join("expr-go");
    fs::create_dir_all(&expr_go)
        .map_err(|e| format!("cannot create {}: {e}", expr_go.display()))?;
    let expr_go_s = expr_go.to_string_lossy();
    run("cp", &["-R", "-p", "../shared/peers/expr-go/.", &expr_go_s])?;
    run("chmod", &["-R", "u+w", &expr_go_s])?;
    run("bash", &[format!("{expr_go_s}/build.sh").as_str()])?;

    let baseline = work.join("json-baseline");
    run(
        "cargo",
        &[
            "build",
            "--release",
            "--locked",
            "--manifest-path",
            "../shared/peers/json-baseline/Cargo.toml",
            "--target-dir",
            &baseline.to_string_lossy(),
        ],
    )?;
    Ok(Tools {
        scimap: target.join("release/scimap"),
        exprpeer: expr_go.join("exprpeer"),
        json_baseline: baseline.join("release/json-baseline"),
    })
}

/// GNU time for peak RSS (`%M`); Debian's `time` package when missing.
pub(crate) fn ensure_time() -> Result<(), String> {
    if Path::new("/usr/bin/time").exists() {
        return Ok(());
    }
    let sudo = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() != b"0");
    let apt: &[&str] = &["apt-get", "install", "-y", "-qq", "time"];
    if sudo {
        run("sudo", apt)
    } else {
        run(apt[0], &apt[1..])
    }
}

fn programs(tools: &Tools, cores: usize) -> Vec<Program> {
    let program =
        |name: &str, exe: &PathBuf, args: &[&str], stdin: bool, end_to_end: bool| Program {
            name: name.to_string(),
            exe: exe.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin,
            end_to_end,
        };
    let mapping = "benches/trello15.scimap";
    let tsv = tools.exprpeer.with_file_name("trello.tsv");
    let tsv = tsv.to_string_lossy();
    let threads = cores.to_string();
    vec![
        program(
            "scimap bulk, 1 thread",
            &tools.scimap,
            &["bulk", mapping, "--threads", "1"],
            false,
            true,
        ),
        program(
            &format!("scimap bulk, {cores} threads"),
            &tools.scimap,
            &["bulk", mapping, "--threads", &threads],
            false,
            true,
        ),
        program(
            "Expr 1.8.9 (exprpeer map)",
            &tools.exprpeer,
            &["map", "--mapping", &tsv],
            true,
            true,
        ),
        program(
            "Expr 1.8.9 (exprpeer map --bench)",
            &tools.exprpeer,
            &["map", "--mapping", &tsv, "--bench"],
            true,
            false,
        ),
        program("json-baseline", &tools.json_baseline, &[], true, true),
        program(
            "json-baseline --typed",
            &tools.json_baseline,
            &["--typed"],
            true,
            true,
        ),
    ]
}

/// One run under `/usr/bin/time -f %M`: peak RSS and the program's failure count.
fn pass(p: &Program, data: &Path, work: &Path) -> Result<Pass, String> {
    let rss_file = work.join("maxrss.txt");
    let inner = p.command(data)?;
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(root());
    cmd.stdin(if p.stdin {
        Stdio::from(open(data)?)
    } else {
        Stdio::null()
    });
    let is_scimap = p.exe.file_name().is_some_and(|n| n == "scimap");
    let is_expr = p.exe.file_name().is_some_and(|n| n == "exprpeer");
    cmd.stdout(if is_expr {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", p.name))?;
    // exprpeer: a line is a record; one holding "$error" had at least one failing target.
    let expr_failed = match child.stdout.take() {
        Some(out) => {
            let (mut lines, mut failed) = (0u64, 0u64);
            for line in BufReader::new(out).split(b'\n') {
                let line = line.map_err(|e| format!("cannot read {}'s output: {e}", p.name))?;
                lines += 1;
                failed += u64::from(line.windows(8).any(|w| w == b"\"$error\""));
            }
            Some(format!(
                "{failed} of {lines} records with a `$error` target"
            ))
        }
        None => None,
    };
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cannot run {}: {e}", p.name))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed = if is_scimap {
        Some(scimap_summary(&stderr)?)
    } else {
        if !out.status.success() {
            return Err(format!("{} failed ({}): {stderr}", p.name, out.status));
        }
        expr_failed
    };
    let rss = fs::read_to_string(&rss_file)
        .map_err(|e| format!("cannot read {}: {e}", rss_file.display()))?;
    // GNU time prints "Command exited with non-zero status N" before the figure (scimap exits
    // 1 when a record failed), so the figure is the last line.
    let rss_kib = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or(format!(
            "no peak RSS from /usr/bin/time for {}: {rss}",
            p.name
        ))?;
    Ok(Pass { rss_kib, failed })
}

/// scimap's final stderr line "N records, OK ok, F failed in …"; exit 1 only means F > 0.
fn scimap_summary(stderr: &str) -> Result<String, String> {
    stderr
        .lines()
        .rev()
        .find(|l| l.contains(" records, ") && l.contains(" failed"))
        .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
        .ok_or(format!("no summary from scimap bulk: {stderr}"))
}

/// One timed run, stdout to /dev/null; wall seconds and stderr.
fn timed(p: &Program, data: &Path) -> Result<(Timing, String), String> {
    let mut cmd = p.command(data)?;
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let cpu_before = children_cpu();
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", p.name))?;
    let timing = Timing {
        wall: start.elapsed().as_secs_f64(),
        cpu: children_cpu() - cpu_before,
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let scimap_ok =
        p.exe.file_name().is_some_and(|n| n == "scimap") && out.status.code() == Some(1);
    if !out.status.success() && !scimap_ok {
        return Err(format!("{} failed ({}): {stderr}", p.name, out.status));
    }
    Ok((timing, stderr))
}

/// Wall seconds of `copies` runs of `p` started together, each over the whole input: what the
/// machine gives programs that share nothing, the ceiling of a speed-up on its cores.
fn at_once(p: &Program, data: &Path, copies: usize) -> Result<f64, String> {
    let start = Instant::now();
    let children = (0..copies)
        .map(|_| {
            let mut cmd = p.command(data)?;
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            cmd.spawn()
                .map_err(|e| format!("cannot run {}: {e}", p.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for mut child in children {
        let status = child
            .wait()
            .map_err(|e| format!("cannot run {}: {e}", p.name))?;
        if !status.success() {
            return Err(format!("{} failed ({status})", p.name));
        }
    }
    Ok(start.elapsed().as_secs_f64())
}

/// One timed run: wall-clock seconds, and CPU seconds (user and system, all threads).
struct Timing {
    wall: f64,
    cpu: f64,
}

/// CPU seconds of this process's children that have been waited for (`getrusage`, to the
/// microsecond): taken around a run, the run's own.
fn children_cpu() -> f64 {
    // SAFETY: `getrusage` only writes the `rusage` it is given, which is plain data.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// From exprpeer's `BENCH {json}` line: evaluation-only ns per expression and records/s.
fn expr_bench_line(stderr: &str) -> Result<(f64, f64), String> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("BENCH "))
        .ok_or(format!("no BENCH line from exprpeer --bench: {stderr}"))?;
    let ns = json_number(line, "eval_ns_per_expr");
    let rate = json_number(line, "eval_records_per_s");
    ns.zip(rate)
        .ok_or(format!("unexpected BENCH line from exprpeer: {line}"))
}

/// The number after `"key":` in one line of JSON (keys of the peers' flat output are unique).
fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// criterion's medians for `records/trello15` (the first records of `data`) and
/// `records/trello15_hot` (the first few, caches warm), in ns per expression, each with the
/// records one iteration evaluates (its throughput).
fn scimap_eval(root: &Path, work: &Path, data: &Path) -> Result<(EvalBench, EvalBench), String> {
    let home = work.join("criterion");
    let args = [
        "bench",
        "--bench",
        "eval",
        "--",
        "records/trello15",
        "--warm-up-time",
        "2",
        "--measurement-time",
        "5",
        "--noplot",
    ];
    eprintln!(
        "$ CRITERION_HOME={} SCIMAP_BENCH_USERS={} cargo {}",
        home.display(),
        data.display(),
        args.join(" ")
    );
    let status = Command::new("cargo")
        .args(args)
        .env("CRITERION_HOME", &home)
        .env("SCIMAP_BENCH_USERS", data)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("cargo bench failed ({status})"));
    }
    let per_expression = |bench: &str| {
        let dir = home.join(bench).join("new");
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let (estimates, benchmark) = (read("estimates.json")?, read("benchmark.json")?);
        // ns per iteration (the median), and the records of one iteration (its throughput).
        let per_iteration = estimates
            .find("\"median\":")
            .and_then(|at| json_number(&estimates[at..], "point_estimate"));
        let records = json_number(&benchmark, "Elements");
        per_iteration
            .zip(records)
            .map(|(ns, records)| EvalBench {
                ns: ns / records / EXPRESSIONS,
                records,
            })
            .ok_or(format!("no median or throughput in {}", dir.display()))
    };
    Ok((
        per_expression("records/trello15")?,
        per_expression("records/trello15_hot")?,
    ))
}

/// One of criterion's `records/…` benches: ns per expression, and the records an iteration
/// evaluates.
struct EvalBench {
    ns: f64,
    records: f64,
}

pub(crate) fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Median, least and greatest.
fn spread(figures: &[f64]) -> (f64, f64, f64) {
    let least = figures.iter().copied().fold(f64::NAN, f64::min);
    let most = figures.iter().copied().fold(f64::NAN, f64::max);
    (median(figures), least, most)
}

pub(crate) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Report<'a> {
    count: u64,
    input_bytes: u64,
    cores: usize,
    programs: &'a [Program],
    times: &'a [Vec<f64>],
    /// CPU seconds per round, as `times`.
    cpu: &'a [Vec<f64>],
    passes: &'a [Option<Pass>],
    expr_eval: &'a [(f64, f64)],
    /// Wall seconds per round of one copy of `json-baseline --typed` a core, all at once.
    at_once: &'a [f64],
    scimap_eval: EvalBench,
    scimap_hot: EvalBench,
    million_rss: Option<u64>,
    load_before: String,
    load_after: String,
}

impl Report<'_> {
    /// The wall times per round of the end-to-end program whose name starts so (none if absent).
    fn times_of(&self, name_starts: &str) -> &[f64] {
        self.of(self.times, name_starts)
    }

    /// The figures per round in `per_program` of the end-to-end program whose name starts so.
    fn of<'r>(&self, per_program: &'r [Vec<f64>], name_starts: &str) -> &'r [f64] {
        self.programs
            .iter()
            .position(|p| p.end_to_end && p.name.starts_with(name_starts))
            .map_or(&[], |i| &per_program[i])
    }

    fn median_of(&self, name_starts: &str) -> f64 {
        median(self.times_of(name_starts))
    }

    /// Each round's `slow` time over its `fast` time (a speed ratio of `fast` against `slow`):
    /// their median, least and greatest. A round's runs are seconds apart, so on a shared
    /// machine this is steadier than the ratio of two medians taken from different rounds.
    fn paired(&self, fast: &str, slow: &str) -> (f64, f64, f64) {
        let ratios: Vec<f64> = self
            .times_of(slow)
            .iter()
            .zip(self.times_of(fast))
            .map(|(s, f)| s / f)
            .collect();
        spread(&ratios)
    }

    fn markdown(&self) -> String {
        let n = self.count as f64;
        let mib = |kib: u64| kib as f64 / 1024.0;
        let expr = self.median_of("Expr 1.8.9");
        let typed = self.median_of("json-baseline --typed");
        let one = self.median_of("scimap bulk, 1 thread");
        let threads = format!("scimap bulk, {} threads", self.cores);
        let all = self.median_of(&threads);
        let mut md = format!(
            "## bench-compare: {} users (gen_users.py --seed {SEED}, {:.0} MB, {:.2} KB/record), benches/trello15.scimap vs trello.tsv\n\n\
             {} cores; load average before the rounds {}, after {}; {ROUNDS} interleaved rounds, medians of wall time.\n\n\
             | program | median s | CPU s | records/s | MB/s | vs Expr 1.8.9 | vs json-baseline --typed | peak RSS | failures |\n\
             |---|---|---|---|---|---|---|---|---|\n",
            self.count,
            self.input_bytes as f64 / 1e6,
            self.input_bytes as f64 / n / 1e3,
            self.cores,
            self.load_before,
            self.load_after,
        );
        for (i, p) in self.programs.iter().enumerate() {
            if !p.end_to_end {
                continue;
            }
            let s = median(&self.times[i]);
            let pass = self.passes[i].as_ref();
            md.push_str(&format!(
                "| {} | {s:.3} | {:.3} | {:.0} | {:.1} | {:.2}× | {:.2}× | {} | {} |\n",
                p.name,
                median(&self.cpu[i]),
                n / s,
                self.input_bytes as f64 / s / 1e6,
                expr / s,
                typed / s,
                pass.map_or("–".into(), |p| format!("{:.1} MiB", mib(p.rss_kib))),
                pass.and_then(|p| p.failed.clone()).unwrap_or("–".into()),
            ));
        }
        let (vs_typed, vs_typed_least, vs_typed_most) =
            self.paired("scimap bulk, 1 thread", "json-baseline --typed");
        let (scaling, scaling_least, scaling_most) = self.paired(&threads, "scimap bulk, 1 thread");
        let cpu_ratios: Vec<f64> = self
            .of(self.cpu, &threads)
            .iter()
            .zip(self.of(self.cpu, "scimap bulk, 1 thread"))
            .map(|(all, one)| all / one)
            .collect();
        let (cpu_ratio, cpu_least, cpu_most) = spread(&cpu_ratios);
        let ceilings: Vec<f64> = self
            .times_of("json-baseline --typed")
            .iter()
            .zip(self.at_once)
            .map(|(one, all)| self.cores as f64 * one / all)
            .collect();
        let (ceiling, ceiling_least, ceiling_most) = spread(&ceilings);
        md.push_str(&format!(
            "\nPer-round ratios (each round's runs are seconds apart: steadier than a ratio of \
             medians on a shared machine), median (least–greatest):\n\n\
             * scimap bulk, 1 thread vs json-baseline --typed: {vs_typed:.2}× \
             ({vs_typed_least:.2}–{vs_typed_most:.2}×)\n\
             * scimap bulk, {} threads vs 1 thread: {scaling:.2}× ({scaling_least:.2}–{scaling_most:.2}×)\n\
             * CPU seconds (user and system) of scimap bulk on {} threads over those of 1 thread: \
             {cpu_ratio:.3}× ({cpu_least:.3}–{cpu_most:.3}×), the work more threads add; the rest \
             of the gap between the wall-clock speed-up and {} is time the threads did not run \
             (the machine's other processes, start-up, the last chunk)\n\
             * {} copies of json-baseline --typed started together, each over the whole input, \
             against one: {ceiling:.2}× the throughput ({ceiling_least:.2}–{ceiling_most:.2}×), \
             what this machine gave programs that share nothing in this run\n",
            self.cores,
            self.cores,
            self.cores,
            self.cores,
        ));
        let expr_ns = median(&self.expr_eval.iter().map(|e| e.0).collect::<Vec<_>>());
        let expr_rate = median(&self.expr_eval.iter().map(|e| e.1).collect::<Vec<_>>());
        md.push_str(&format!(
            "\nscimap {} threads vs 1 thread: {:.2}× speed-up.\n\n\
             Evaluation only, records already parsed:\n\n\
             | engine | ns per expression | records/s |\n|---|---|---|\n\
             | Expr 1.8.9 (`exprpeer map --bench`, eval phase, median of rounds) | {expr_ns:.0} | {expr_rate:.0} |\n\
             | scimap (criterion `records/trello15`, first {:.0} of these records, ÷ 15; payload writing included) | {:.0} | {:.0} |\n\
             | scimap, caches warm (criterion `records/trello15_hot`, the first {:.0}, over and over) | {:.0} | {:.0} |\n",
            self.cores,
            one / all,
            self.scimap_eval.records,
            self.scimap_eval.ns,
            1e9 / (self.scimap_eval.ns * EXPRESSIONS),
            self.scimap_hot.records,
            self.scimap_hot.ns,
            1e9 / (self.scimap_hot.ns * EXPRESSIONS),
        ));
        if let Some(kib) = self.million_rss {
            md.push_str(&format!(
                "\nPeak RSS of `scimap bulk` ({} threads) over 1,000,000 users: {:.1} MiB.\n",
                self.cores,
                mib(kib)
            ));
        }
        md.push_str("\nWall seconds per round:\n\n| program |");
        for r in 1..=ROUNDS {
            md.push_str(&format!(" {r} |"));
        }
        md.push_str(&format!("\n|---|{}\n", "---|".repeat(ROUNDS)));
        for (p, t) in self.programs.iter().zip(self.times) {
            md.push_str(&format!("| {} |", p.name));
            for s in t {
                md.push_str(&format!(" {s:.3} |"));
            }
            md.push('\n');
        }
        md
    }
}
