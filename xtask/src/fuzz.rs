//! `cargo xtask fuzz [SECONDS] [--keep-going] [TARGET…]`: every fuzz target (or the ones named)
//! for SECONDS each (default 60), with resource oracles derived from the limits the target runs
//! with. `--keep-going` runs libFuzzer in fork mode and collects every finding until the time is
//! up, instead of stopping at the first.
//!
//! Installs cargo-fuzz at a pinned version when missing, builds the targets on the stable
//! toolchain (`RUSTC_BOOTSTRAP=1`, no sanitizer: libFuzzer's own oracles below do the work),
//! writes seeds into `fuzz/corpus/TARGET/` (the issue's reproducers, scaled to the targets'
//! input size, and the examples), then runs each target. A finding — a panic, an abort, an
//! input slower than `-timeout`, a process over `-rss_limit_mb`, one allocation over
//! `-malloc_limit_mb` — fails the task with the artifact's path and the command that replays it.

use crate::root;
use std::path::{Path, PathBuf};
use std::process::Command;

const CARGO_FUZZ_VERSION: &str = "0.13.2";
const MIB: u64 = 1 << 20;

/// The fixed term of the `bulk` bound in SECURITY.md: the binary and its compiled mapping.
const OVERHEAD_MIB: u64 = 64;
/// What libFuzzer adds: coverage counters, its tables and its in-memory corpus (28–42 MiB
/// measured at the start of a run, 46–64 MiB at the end of a 20 s run on a grown corpus).
const LIBFUZZER_MIB: u64 = 64;
/// The CPU a step may cost in an instrumented build (a release step costs well under 1 µs).
const STEP_MICROS: u64 = 10;
/// Compiling a mapping: 1 s per MiB of source is the promise; fuzz inputs are smaller.
const COMPILE_SECONDS: u64 = 1;

/// A fuzz target and the limits it runs with (mirrors of `fuzz/fuzz_targets/`).
struct Target {
    name: &'static str,
    /// Largest input libFuzzer makes.
    max_len: u64,
    /// Bytes of one record line the target accepts (`line-bytes`, or less when its inputs
    /// cannot be longer).
    line_bytes: u64,
    /// The `memory` budget of one record.
    memory: u64,
    /// The `steps` budget of one record.
    steps: u64,
    /// Record evaluations one input may cause.
    evaluations: u64,
}

impl Target {
    /// The bound of SECURITY.md with one thread (overhead + one line + one record's budget),
    /// plus libFuzzer's own memory.
    fn rss_limit_mb(&self) -> u64 {
        OVERHEAD_MIB + LIBFUZZER_MIB + (self.line_bytes + self.memory).div_ceil(MIB)
    }

    /// No single allocation may be larger than one record's whole allowance; 16 MiB at least,
    /// for the compiler's own tables of the largest mapping an input can hold.
    fn malloc_limit_mb(&self) -> u64 {
        (self.line_bytes + self.memory).div_ceil(MIB).max(16)
    }

    /// Compiling, plus every evaluation an input causes running its whole `steps` budget.
    fn timeout_seconds(&self) -> u64 {
        COMPILE_SECONDS + (self.evaluations * self.steps * STEP_MICROS).div_ceil(1_000_000)
    }
}

/// Default limits with `memory` 16 MiB and `line-bytes` 1 MiB (fuzz_targets/common).
const COMMON_MEMORY: u64 = 16 * MIB;
const COMMON_LINE: u64 = MIB;
const DEFAULT_STEPS: u64 = 100_000;

const TARGETS: [Target; 8] = [
    // One mapping, evaluated once per section (two at most).
    Target {
        name: "compile",
        max_len: 64 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: DEFAULT_STEPS,
        evaluations: 2,
    },
    // Four sections over three mappings, each evaluated twice.
    Target {
        name: "evaluate",
        max_len: 64 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: DEFAULT_STEPS,
        evaluations: 8,
    },
    // Two kinds, each evaluated twice.
    Target {
        name: "expression",
        max_len: 16 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: DEFAULT_STEPS,
        evaluations: 4,
    },
    // Up to 64 lines, with at most 2,560 steps and a 1 MiB budget each.
    Target {
        name: "bulk_line",
        max_len: 4 << 10,
        line_bytes: 1 << 10,
        memory: MIB,
        steps: 2_560,
        evaluations: 64,
    },
    // Reading only.
    Target {
        name: "record",
        max_len: 16 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: 0,
        evaluations: 0,
    },
    // Up to four records, each evaluated twice.
    Target {
        name: "direct_path",
        max_len: 16 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: DEFAULT_STEPS,
        evaluations: 8,
    },
    // One record evaluated twice, under the generator's small limits.
    Target {
        name: "adversarial",
        max_len: 4 << 10,
        line_bytes: 64 << 10,
        memory: MIB,
        steps: 20_000,
        evaluations: 2,
    },
    // Up to 16 pairs, each planned twice.
    Target {
        name: "plan",
        max_len: 16 << 10,
        line_bytes: COMMON_LINE,
        memory: COMMON_MEMORY,
        steps: DEFAULT_STEPS,
        evaluations: 32,
    },
];

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args.first() {
        Some(s) if s.chars().all(|c| c.is_ascii_digit()) => s
            .parse()
            .map_err(|_| format!("not a number of seconds: {s}"))?,
        _ => 60,
    };
    let keep_going = args.iter().any(|a| a == "--keep-going");
    let named: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.chars().all(|c| c.is_ascii_digit()) && *a != "--keep-going")
        .collect();
    if let Some(unknown) = named
        .iter()
        .find(|n| !TARGETS.iter().any(|t| t.name == **n))
    {
        return Err(format!("no fuzz target `{unknown}`"));
    }
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| named.is_empty() || named.contains(&t.name))
        .collect();

    install_cargo_fuzz()?;
    cargo_fuzz(&["build", "-s", "none"])?;
    let mut findings = Vec::new();
    for target in targets {
        seed(target.name)?;
        let started = std::time::SystemTime::now();
        let flags = [
            format!("-max_total_time={seconds}"),
            format!("-max_len={}", target.max_len),
            format!("-rss_limit_mb={}", target.rss_limit_mb()),
            format!("-malloc_limit_mb={}", target.malloc_limit_mb()),
            format!("-timeout={}", target.timeout_seconds()),
            "-print_final_stats=1".to_string(),
        ];
        let mut args = vec!["run", "-s", "none", target.name, "--"];
        args.extend(flags.iter().map(String::as_str));
        if keep_going {
            args.extend([
                "-fork=1",
                "-ignore_crashes=1",
                "-ignore_timeouts=1",
                "-ignore_ooms=1",
            ]);
        }
        let outcome = cargo_fuzz(&args);
        // libFuzzer names an artifact by its input's hash: a known input is written again.
        let new: Vec<PathBuf> = artifacts(target.name)
            .into_iter()
            .filter(|a| {
                std::fs::metadata(a)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t >= started)
            })
            .collect();
        // A finding leaves an artifact; a failure without one (a build error) is reported too.
        if let (Err(e), true) = (&outcome, new.is_empty()) {
            findings.push(format!("{}: {e}", target.name));
        }
        for artifact in new {
            findings.push(format!(
                "{}: {} (replay: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none {} {} -- {})",
                target.name,
                artifact.display(),
                target.name,
                artifact.display(),
                flags[1..5].join(" ")
            ));
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzzing found:\n  {}", findings.join("\n  ")))
    }
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// `cargo fuzz ARGS` in fuzz/ on the stable toolchain.
fn cargo_fuzz(args: &[&str]) -> Result<(), String> {
    eprintln!(
        "$ (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz {})",
        args.join(" ")
    );
    let status = Command::new("cargo")
        .arg("fuzz")
        .args(args)
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(fuzz_dir())
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo fuzz {}` failed ({status})", args.join(" ")))
    }
}

fn install_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if installed.as_deref() != Some(&format!("cargo-fuzz {CARGO_FUZZ_VERSION}")) {
        crate::cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, &["--locked"])?;
    }
    Ok(())
}

fn artifacts(target: &str) -> Vec<PathBuf> {
    std::fs::read_dir(fuzz_dir().join("artifacts").join(target))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Seeds: the issue's reproducers, scaled to each target's input size, and the examples.

fn seed(target: &str) -> Result<(), String> {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (i, seed) in seeds(target)?.iter().enumerate() {
        let path = dir.join(format!("seed-{i:03}"));
        std::fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The example mappings.
fn example_mappings() -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let dir = root().join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scimap"))
        .collect();
    paths.sort();
    for path in paths {
        out.push(read(&path)?);
    }
    Ok(out)
}

/// The example records, one compact JSON line each.
fn example_records() -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for file in ["users.json", "groups.json"] {
        let text = read(&root().join("examples").join(file))?;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut current = String::new();
        // The files are arrays of objects: split at depth 1 without a JSON parser.
        for c in text.chars() {
            let inside = depth >= 2 || (depth == 1 && c == '{');
            if inside && (in_string || !c.is_whitespace()) {
                current.push(c);
            }
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => depth += 1,
                '}' | ']' => {
                    depth -= 1;
                    if depth == 1 && c == '}' {
                        out.push(std::mem::take(&mut current));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// A user section around `body`.
fn user(body: &str) -> String {
    format!("user {{\n  userName = username\n{body}}}\n")
}

/// Issue reproducers as mapping files, each within 64 KiB.
fn issue_mappings() -> Vec<String> {
    let lets: String = (1..=2_500)
        .map(|i| format!("  let a{i} = a{}\n", i - 1))
        .collect();
    let typo_name = "n".repeat(30_000);
    vec![
        // A let chain.
        user(&format!("  let a0 = username\n{lets}  title = a2500\n")),
        // Comparisons and walks over a deep list.
        user(
            "  let deep = reduce(1..10000, [#acc], [])\n  active = deep == deep\n  \
             title = toJSON(deep)\n  nickName = string(len(uniq([deep, deep])))\n  \
             displayName = string(any([deep], # == deep))\n",
        ),
        // Nested JSONPath filters, and parentheses inside one filter.
        user(&format!("  title = ${}\n", nested("[?@", "", "]", 22))),
        user(&format!(
            "  title = $[?{} == 1]\n",
            nested("(", "@.a", ")", 10_000)
        )),
        // Long member, index, pipe and `+` chains.
        user(&format!(
            "  title = ($env?.a{}) ?? \"n\"\n",
            "?.a".repeat(5_000)
        )),
        user(&format!(
            "  title = (nil{}) ?? \"n\"\n",
            "?.[0]".repeat(3_000)
        )),
        user(&format!(
            "  title = username{}\n",
            " | trim()".repeat(3_000)
        )),
        user(&format!("  title = {}username\n", "\"\" + ".repeat(5_000))),
        // Regex and copies of a long field.
        user("  active = description matches \"(?:[a-z]{1,50}){1,50}c\"\n"),
        user("  title = string(len(map(1..2000, (description ?? \"\") + \"\")))\n"),
        user("  title = string(len(map(1..2000, (description ?? \"\")[1:])))\n"),
        // Descendants over a deep record.
        user("  nickName = $..*..*..*..*\n"),
        // "Did you mean" on a long name.
        user(&format!(
            "  let {typo_name} = username\n  title = {}m\n",
            &typo_name[1..]
        )),
        user(
            &(0..1_000)
                .map(|i| format!("  let v{i} = {i}\n"))
                .collect::<String>(),
        ),
        // Every failing `date` quotes its field.
        user(
            &[
                "title",
                "nickName",
                "displayName",
                "profileUrl",
                "userType",
                "locale",
            ]
            .iter()
            .map(|t| format!("  {t} = string(date(description, description))\n"))
            .collect::<String>(),
        ),
    ]
}

/// Issue reproducers as records, each within 64 KiB.
fn issue_records() -> Vec<String> {
    vec![
        format!(
            "{{\"username\":\"u\",\"a\":{}}}",
            nested("[", "1", "]", 120)
        ),
        format!(
            "{{\"username\":\"u\",\"description\":\"{}\"}}",
            "a".repeat(60_000)
        ),
        format!(
            "{{\"username\":\"u\",\"description\":\"{}\"}}",
            "_2".repeat(30_000)
        ),
        format!(
            "{{\"username\":\"u\",\"attributes\":[{}]}}",
            vec!["{}"; 20_000].join(",")
        ),
        format!(
            "{{\"username\":\"u\",\"attributes\":[{}]}}",
            vec!["{\"name\":\"x\",\"value\":\"aaaaaaaaaa\"}"; 200].join(",")
        ),
    ]
}

fn seeds(target: &str) -> Result<Vec<Vec<u8>>, String> {
    let records = example_records()?;
    let mut all_records = records.clone();
    all_records.extend(issue_records());
    let bytes = |v: Vec<String>| v.into_iter().map(String::into_bytes).collect();
    Ok(match target {
        "compile" => {
            let mut m = example_mappings()?;
            m.extend(issue_mappings());
            bytes(m)
        }
        "evaluate" | "record" => bytes(all_records),
        "plan" => {
            // The first byte picks the app (and users or groups); each record with no resource
            // at the app and with one.
            let current = r#"{"id":"app 1","userName":"X","displayName":"Old","active":"True","emails":[{"type":"work","value":"a@x","primary":true}],"members":[{"value":"u1"}]}"#;
            let pairs: Vec<String> = records
                .iter()
                .flat_map(|r| {
                    [
                        format!(r#"{{"record":{r},"current":null}}"#),
                        match r.contains(r#""_id""#) {
                            true => format!(r#"{{"record":{r},"current":{current}}}"#),
                            false => format!(
                                r#"{{"record":{r},"current":{current},"members":["u1","u2"]}}"#
                            ),
                        },
                    ]
                })
                .collect();
            (0u8..8)
                .map(|knob| {
                    let mut seed = vec![knob];
                    seed.extend(pairs.join("\n").into_bytes());
                    seed
                })
                .collect()
        }
        "bulk_line" => {
            // The first byte picks the limits.
            let mut out: Vec<Vec<u8>> = Vec::new();
            for (knob, chunk) in [0u8, 7, 63].iter().zip([&records[..], &issue_records()]) {
                let mut seed = vec![*knob];
                seed.extend(chunk.join("\n").into_bytes());
                out.push(seed);
            }
            out
        }
        "expression" => bytes(
            [
                "let deep = reduce(1..10000, [#acc], []); deep == deep",
                "let deep = reduce(1..10000, [#acc], []); deep in [deep]",
                "let deep = reduce(1..10000, [#acc], []); uniq([deep, deep])",
                "let deep = reduce(1..10000, [#acc], []); toJSON(deep)",
                "let deep = reduce(1..10000, [#acc], []); groupBy([deep], #)",
                "repeat(\"a\", 60000) matches \"(?:[a-z]{1,50}){1,50}c\"",
                "len(map(1..2000, repeat(\"d\", 500000) + \"\"))",
                "len(map(1..2000, repeat(\"d\", 500000)[1:]))",
                "date(repeat(\"_2\", 1000), repeat(\"_2\", 1000))",
                "len(1..100000) + len(split(repeat(\"a,\", 1000), \",\"))",
                "toJSON($env) + string(keys($env))",
                // Stop 24: the hand-written parser reported a byte string's escapes too.
                r#"b"<\*<*=="//0=""#,
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([
                format!("({}username{}) ?? 1", "(".repeat(120), ")".repeat(120)),
                format!("username{}", " | trim()".repeat(1_500)),
                format!("($env?.a{}) ?? 1", "?.a".repeat(4_000)),
            ])
            .collect(),
        ),
        "direct_path" => {
            let paths = [
                "..*..*..*..*".to_string(),
                nested("[?@", "", "]", 22),
                format!("[?{} == 1]", nested("(", "@.a", ")", 2_000)),
                ".attributes[?match(@.value, 'a.*')].name".to_string(),
                ".attributes[?search(@.value, '(a+)+$')]".to_string(),
                ".username".to_string(),
                "['username','email',0,*]".to_string(),
                ".attributes[?@.name == 'x'].value".to_string(),
            ];
            let deep = issue_records()[0].clone();
            let many = issue_records()[4].clone();
            paths
                .iter()
                .map(|p| format!("{p}\n{deep}\n{many}\n{}", records[0]).into_bytes())
                .collect()
        }
        "adversarial" => (0u8..16)
            .map(|i| (0..256u32).map(|j| (j as u8).wrapping_mul(i)).collect())
            .collect(),
        _ => Vec::new(),
    })
}
