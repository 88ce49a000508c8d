//! Hostile input (reference §limits-mappings, §limits-records, §limits-bulk; §cli): the limits end
//! to end, input hygiene, and the corpus in `tests/hostile/`. Every case runs the real binary in a
//! child process that is killed after `TIMEOUT`, so a hang fails the test instead of stalling CI.

use scimap::{eval_expression, Kind, Limits, Mapping, Options};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(name)
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).expect("stdout is one JSON value")
    }
}

/// Runs `scimap ARGS` with `stdin`, killing it after `TIMEOUT`.
fn scimap(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the scimap binary starts");
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    // A child that exits early closes the pipe; that write error is not the test's concern.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for scimap") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scimap {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "scimap {args:?} panicked: {stderr}"
    );
    Run {
        code: status
            .code()
            .expect("scimap exited (not killed by a signal)"),
        stdout,
        stderr,
    }
}

/// A temporary file holding `bytes`.
fn temp_file(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    f.write_all(bytes).expect("write temp file");
    f
}

/// `check --format json` of a mapping file: exit code and its diagnostics.
fn check(path: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let path = path.to_str().expect("UTF-8 path");
    args.push(path);
    let run = scimap(&args, b"");
    let Value::Array(diagnostics) = run.json() else {
        panic!("check --format json prints an array: {}", run.stdout());
    };
    (run.code, diagnostics)
}

fn error_at(d: &Value) -> (String, u64, u64) {
    (
        d["code"].as_str().unwrap_or_default().to_string(),
        d["line"].as_u64().unwrap_or(0),
        d["column"].as_u64().unwrap_or(0),
    )
}

// ---------------------------------------------------------------------------------------------
// The corpus of bad mappings

#[test]
fn every_corpus_mapping_gives_its_expected_diagnostic() {
    let manifest = std::fs::read_to_string(corpus("mappings.expect")).expect("mappings.expect");
    let mut seen = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (file, expected, place) = match fields[..] {
            [file, "ok"] => (file, "ok", ""),
            [file, expected, place] => (file, expected, place),
            _ => panic!("mappings.expect: `FILE CODE LINE:COL` or `FILE ok`, got {line:?}"),
        };
        let (code, diagnostics) = check(&corpus("mappings").join(file), &[]);
        seen += 1;
        if expected == "ok" {
            assert_eq!((code, diagnostics.len()), (0, 0), "{file}: {diagnostics:?}");
            continue;
        }
        let (line_no, col) = place.split_once(':').expect("LINE:COL");
        assert_eq!(code, 1, "{file} must fail to compile");
        let first = diagnostics
            .iter()
            .find(|d| d["severity"] == "error")
            .unwrap_or_else(|| panic!("{file}: no error in {diagnostics:?}"));
        assert_eq!(
            error_at(first),
            (
                expected.to_string(),
                line_no.parse().expect("line"),
                col.parse().expect("column")
            ),
            "{file}: {first}"
        );
    }
    let files = std::fs::read_dir(corpus("mappings"))
        .expect("corpus")
        .count();
    assert_eq!(
        seen, files,
        "every corpus mapping is listed in mappings.expect"
    );
}

#[test]
fn invalid_utf8_is_a_compile_error_at_the_line_of_the_first_bad_byte() {
    let err = Mapping::compile_bytes(
        b"user {\n  userName = username\n  title = \"\xc3\x28\"\n}\n",
        &Options::default(),
    )
    .err()
    .expect("invalid UTF-8 does not compile");
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "scimap::invalid-utf8");
    assert!(d.message.contains("line 3"), "{}", d.message);
    assert!(err.to_string().starts_with("3:12:"), "{err}");
}

#[test]
fn a_bom_and_crlf_do_not_change_meaning_or_positions() {
    let plain = b"user {\n  userName = username\n  title = usrname\n}\n";
    let crlf: Vec<u8> = [&b"\xEF\xBB\xBF"[..], &plain.replace_lf()].concat();
    let a = Mapping::compile_bytes(plain, &Options::default())
        .err()
        .expect("error");
    let b = Mapping::compile_bytes(&crlf, &Options::default())
        .err()
        .expect("error");
    assert_eq!(a.to_string(), b.to_string());
    assert!(a.to_string().starts_with("3:11:"), "{a}");

    let good = b"\xEF\xBB\xBFuser {\r\n  userName = username // c\r\n  title = \"a\" +\r\n    \"b\"\r\n}\r\n";
    let mapping = Mapping::compile_bytes(good, &Options::default()).expect("compiles");
    let out = mapping
        .evaluate_user(&json!({"username": "ada"}))
        .expect("evaluates");
    assert_eq!(out["title"], "ab");
}

trait ReplaceLf {
    fn replace_lf(&self) -> Vec<u8>;
}

impl ReplaceLf for [u8] {
    fn replace_lf(&self) -> Vec<u8> {
        self.iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Limits through the library

fn with(limits: Limits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

fn expr_error(source: &str, options: &Options) -> String {
    match eval_expression(source, Kind::User, &json!({}), options) {
        Ok(v) => panic!("`{source}` should fail, gave {v}"),
        Err(e) => e.message,
    }
}

#[test]
fn source_bytes_limit_names_itself_and_its_value() {
    let source = format!("user {{\n  userName = username\n}}\n{}", " ".repeat(100));
    let options = with(Limits {
        source_bytes: 64,
        ..Limits::default()
    });
    let err = Mapping::compile_with(&source, &options)
        .err()
        .expect("too big");
    assert_eq!(err.diagnostics[0].code, "scimap::limit");
    let message = &err.diagnostics[0].message;
    assert!(
        message.contains("`source-bytes`") && message.contains("64"),
        "{message}"
    );
    assert!(Mapping::compile_with(&source, &Options::default()).is_ok());
}

#[test]
fn depth_limit_is_checked_before_parsing_and_is_settable() {
    let nested = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let small = with(Limits {
        depth: 10,
        ..Limits::default()
    });
    let message = expr_error(&nested(11), &small);
    assert!(
        message.contains("`depth`") && message.contains("10"),
        "{message}"
    );
    assert!(eval_expression(&nested(9), Kind::User, &json!({}), &small).is_ok());
    // Far beyond any stack: refused by the scan, in well under a second.
    let started = Instant::now();
    let message = expr_error(&nested(100_000), &Options::default());
    assert!(message.contains("`depth` (128)"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn record_depth_limit_is_settable() {
    let mapping = |depth| {
        Mapping::compile_with(
            "user {\n  userName = username\n}",
            &with(Limits {
                depth,
                ..Limits::default()
            }),
        )
        .expect("compiles")
    };
    let record = format!(
        r#"{{"username":"a","x":{}1{}}}"#,
        "[".repeat(20),
        "]".repeat(20)
    );
    let mut out = Vec::new();
    assert!(!mapping(10).evaluate_line(Kind::User, record.as_bytes(), 1, &mut out));
    let v: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["error"]["errors"][0]["code"], "scimap::limit");
    assert_eq!(
        v["error"]["message"],
        "the record nests deeper than the limit `depth` (10)"
    );
    out.clear();
    assert!(mapping(128).evaluate_line(Kind::User, record.as_bytes(), 1, &mut out));
}

#[test]
fn steps_string_list_and_regex_limits_stop_evaluation() {
    let o = Options::default();
    let steps = expr_error("map(1..50000, map(1..50000, #))", &o);
    assert_eq!(steps, "limit `steps` exceeded (the limit is 100000)");
    let strings = expr_error(r#"repeat("x", 100000000)"#, &o);
    assert_eq!(
        strings,
        "limit `string-bytes` exceeded (the limit is 1048576)"
    );
    let lists = expr_error("1..100000000", &o);
    assert_eq!(lists, "limit `list-items` exceeded (the limit is 100000)");
    // Doubling a string: refused once it outgrows the limit, not after.
    let doubling = expr_error(
        r#"let a = repeat("x", 1000); let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; let g = f + f; let h = g + g; let i = h + h; let j = i + i; let k = j + j; let l = k + k; k + l"#,
        &o,
    );
    assert_eq!(
        doubling,
        "limit `string-bytes` exceeded (the limit is 1048576)"
    );

    let few_steps = with(Limits {
        steps: 50,
        ..Limits::default()
    });
    assert!(expr_error("sum(1..40)", &few_steps).contains("`steps` exceeded (the limit is 50)"));
    assert!(eval_expression("sum(1..20)", Kind::User, &json!({}), &few_steps).is_ok());
    let tight = with(Limits {
        string_bytes: 8,
        list_items: 3,
        ..Limits::default()
    });
    assert!(expr_error(r#"upper("abcdefghi")"#, &tight)
        .contains("`string-bytes` exceeded (the limit is 8)"));
    assert!(expr_error("[1, 2, 3, 4]", &tight).contains("`list-items` exceeded (the limit is 3)"));
    assert!(eval_expression("1..3", Kind::User, &json!({}), &tight).is_ok());
}

#[test]
fn a_regex_computed_per_record_is_bounded_by_regex_bytes() {
    let mapping = Mapping::compile(
        "user {\n  userName = username\n  active = username matches $env.pattern\n}",
    )
    .expect("compiles");
    let record = json!({"username": "a", "pattern": "a{1000}{1000}"});
    let err = mapping.evaluate_user(&record).expect_err("too big a regex");
    assert_eq!(err.errors[0].code, "scimap::limit");
    assert_eq!(
        err.errors[0].message,
        "limit `regex-bytes` exceeded (the limit is 1048576)"
    );
    assert_eq!(
        (err.errors[0].line, err.errors[0].column),
        (Some(3), Some(12))
    );
    // A pattern that backtracking engines take exponential time on is linear here (a hang
    // would stop the suite; no timing is asserted). Matching is charged its worst case, the
    // bytes scanned times the automaton's states: over the default `steps`, within more.
    let bomb = json!({"username": "a".repeat(100_000), "pattern": "(a*)*b"});
    let err = mapping.evaluate_user(&bomb).expect_err("over steps");
    assert_eq!(
        err.errors[0].message,
        "limit `steps` exceeded (the limit is 100000)"
    );
    let roomy = Mapping::compile_with(
        "user {\n  userName = username\n  active = username matches $env.pattern\n}",
        &with(Limits {
            steps: 10_000_000,
            ..Limits::default()
        }),
    )
    .expect("compiles");
    let out = roomy.evaluate_user(&bomb).expect("evaluates");
    assert_eq!(out["active"], false);
}

#[test]
fn a_constant_regex_over_regex_bytes_does_not_compile() {
    let source = "user {\n  userName = username\n  active = username matches \"a{100}{100}\"\n}";
    assert!(Mapping::compile(source).is_ok());
    let err = Mapping::compile_with(
        source,
        &with(Limits {
            regex_bytes: 1000,
            ..Limits::default()
        }),
    )
    .err()
    .expect("over the regex limit");
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "scimap::limit");
    assert!(d.message.contains("`regex-bytes` (1000)"), "{}", d.message);
    assert!(err.to_string().starts_with("3:29:"), "{err}");
}

/// Mappings of many small entries, within `source-bytes`: the checker finds its way by maps,
/// not scans, so each finishes well inside the run timeout (it once took minutes).
#[test]
fn many_entries_compile_in_linear_time() {
    let many = |head: &str, line: &dyn Fn(usize) -> String, n: usize| {
        let body: String = (0..n).map(line).collect();
        format!("{head}user {{\n  userName = username\n{body}}}\n")
    };
    let declared: String = (0..8000).map(|i| format!("a{i}: string, ")).collect();
    let cases = [
        many("", &|i| format!("  let v{i} = 1\n"), 10_000),
        many("", &|i| format!("  title = zzzz{i}\n"), 5_000),
        many(
            "",
            &|i| format!("  emails[type eq \"work\" and display eq \"d{i}\"].value = email\n"),
            4_000,
        ),
        many(
            &format!("schema \"urn:x:y:User\" {{ {declared}b: string }}\n"),
            &|i| format!("  urn:x:y:User:a{i} = email\n"),
            8_000,
        ),
    ];
    // The app profile: long lists, every create-only entry checked against them.
    let paths: String = (0..5000).map(|i| format!("urn:x:y:User:a{i}, ")).collect();
    let profile = format!(
        "app \"A\" {{\n  update = put\n  updatable = [{paths}]\n  patchOnly = [{paths}]\n  matching = urn:x:y:User:b\n}}\n"
    );
    let declared_profile: String = (0..5000).map(|i| format!("a{i}: string, ")).collect();
    let with_profile = many(
        &format!("{profile}schema \"urn:x:y:User\" {{ {declared_profile}b: string }}\n"),
        &|i| format!("  create urn:x:y:User:a{i} = email\n"),
        5_000,
    );
    let cases = cases.into_iter().chain([with_profile]);
    for source in cases {
        assert!(source.len() < Limits::default().source_bytes);
        let file = temp_file(source.as_bytes(), ".scimap");
        let (code, diagnostics) = check(file.path(), &[]);
        assert!(code == 0 || code == 1, "exit {code}");
        assert!(diagnostics.iter().all(|d| d["code"] != "scimap::limit"));
    }
}

#[test]
fn line_bytes_limit_fails_the_record_as_a_whole() {
    let mapping = Mapping::compile_with(
        "user {\n  userName = username\n}",
        &with(Limits {
            line_bytes: 32,
            ..Limits::default()
        }),
    )
    .expect("compiles");
    let mut out = Vec::new();
    let line = br#"{"_id":"x","username":"a-rather-long-name"}"#;
    assert!(!mapping.evaluate_line(Kind::User, line, 4, &mut out));
    let v: Value = serde_json::from_slice(&out).expect("JSON");
    let e = &v["error"]["errors"][0];
    assert_eq!(
        (e["target"].clone(), e["code"].clone()),
        (Value::Null, json!("scimap::limit"))
    );
    let message = e["message"].as_str().expect("message");
    assert!(
        message.contains("`line-bytes`") && message.contains("32"),
        "{message}"
    );
    assert_eq!(v["line"], 4);
}

// ---------------------------------------------------------------------------------------------
// Limits and pathological input through the command line

#[test]
fn cli_limit_flags_override_and_bad_ones_are_usage_errors() {
    let run = scimap(&["expr", "--limit", "list-items=5", "1..6"], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("limit `list-items` exceeded (the limit is 5)"),
        "{}",
        run.stderr
    );
    let run = scimap(&["expr", "--limit", "list-items=6", "len(1..6)"], b"");
    assert_eq!((run.code, run.stdout().trim()), (0, "6"));
    for bad in [
        "nope=1",
        "steps=-1",
        "steps",
        "depth=x",
        "steps=99999999999999999999999",
    ] {
        let run = scimap(&["expr", "--limit", bad, "1"], b"");
        assert_eq!(run.code, 2, "--limit {bad}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn pathological_expressions_finish_with_a_limit_error() {
    let cases: [(&str, &str); 5] = [
        ("1..100000000", "list-items"),
        (r#"repeat("x", 100000000)"#, "string-bytes"),
        ("map(1..100000, map(1..100000, #))", "steps"),
        (r#""a" matches "a{1000}{1000}""#, "1048576"),
        ("reduce(1..100000, #acc + #, 0)", "steps"),
    ];
    for (source, limit) in cases {
        let run = scimap(&["expr", source], b"");
        assert_eq!(run.code, 1, "{source}");
        assert!(run.stdout.is_empty(), "{source}");
        assert!(run.stderr.contains(limit), "{source}: {}", run.stderr);
    }
    let lines = scimap(
        &["expr", "--lines"],
        b"1..100000000\n\xff\nlen(\"ok\")\n((((((((((((((((((((1))))))))))))))))))))\n",
    );
    assert_eq!(lines.code, 1);
    let out: Vec<Value> = lines
        .stdout()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(out.len(), 4);
    assert_eq!(out[0]["phase"], "run");
    assert_eq!(out[1]["phase"], "compile");
    assert_eq!(out[2], json!({"ok": 2}));
    assert_eq!(out[3], json!({"ok": 1}));
}

#[test]
fn generated_huge_and_deep_mappings_are_refused_quickly() {
    let parens = format!(
        "user {{\n  userName = {}username{}\n}}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let file = temp_file(parens.as_bytes(), ".scimap");
    let (code, d) = check(file.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(error_at(&d[0]), ("scimap::limit".into(), 2, 14 + 128));

    // 5 MiB: refused by size before anything else reads it.
    let big = format!(
        "user {{\n  userName = username\n}}\n//{}\n",
        "x".repeat(5 << 20)
    );
    let file = temp_file(big.as_bytes(), ".scimap");
    let (code, d) = check(file.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(d[0]["code"], "scimap::limit");
    assert!(d[0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("`source-bytes`"));
    // Just over the default: refused, and accepted once the limit is raised.
    let over = format!(
        "user {{\n  userName = username\n}}\n//{}\n",
        "x".repeat(1 << 20)
    );
    let file = temp_file(over.as_bytes(), ".scimap");
    assert_eq!(check(file.path(), &[]).0, 1);
    assert_eq!(
        check(file.path(), &["--limit", "source-bytes=2000000"]),
        (0, vec![])
    );

    let brackets = format!(
        "user {{\n  userName = username\n  title = toJSON({}{})\n}}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let file = temp_file(brackets.as_bytes(), ".scimap");
    let (code, d) = check(file.path(), &["--limit", "depth=64"]);
    assert_eq!(code, 1);
    assert_eq!(
        d[0]["message"],
        "nesting is deeper than the limit `depth` (64)"
    );
}

// ---------------------------------------------------------------------------------------------
// Bulk: one output line per input line, whatever the input

/// The summary on stderr: (records, ok, failed).
fn summary(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.contains(" records, "))
        .unwrap_or_else(|| panic!("no summary in {stderr:?}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(3)
        .map(|s| s.parse().expect("number"))
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// Each output line parsed; asserts that the output is whole lines only.
fn output_lines(run: &Run) -> Vec<Value> {
    assert!(
        run.stdout.is_empty() || run.stdout.ends_with(b"\n"),
        "partial last line"
    );
    run.stdout()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn code_of(v: &Value) -> &str {
    v["error"]["errors"][0]["code"].as_str().unwrap_or("ok")
}

#[test]
fn bulk_corpus_gives_one_line_per_input_line_with_the_expected_outcome() {
    let input = std::fs::read(corpus("records.ndjson")).expect("records");
    let expect = std::fs::read_to_string(corpus("records.expect")).expect("expect");
    let expect: Vec<&str> = expect.lines().collect();
    let mapping = corpus("records.scimap");
    for threads in ["1", "2"] {
        let run = scimap(
            &[
                "bulk",
                mapping.to_str().expect("path"),
                "--threads",
                threads,
            ],
            &input,
        );
        let lines = output_lines(&run);
        assert_eq!(lines.len(), expect.len());
        for (i, (v, e)) in lines.iter().zip(&expect).enumerate() {
            assert_eq!(code_of(v), *e, "line {}: {v}", i + 1);
            if *e != "ok" {
                assert_eq!(v["line"], i + 1, "{v}");
            }
        }
        let failed = expect.iter().filter(|e| **e != "ok").count();
        assert_eq!(
            summary(&run.stderr),
            (expect.len(), expect.len() - failed, failed)
        );
        assert_eq!(run.code, 1);
    }
}

#[test]
fn bulk_input_hygiene_details() {
    let input = std::fs::read(corpus("records.ndjson")).expect("records");
    let mapping = corpus("records.scimap");
    let run = scimap(&["bulk", mapping.to_str().expect("path")], &input);
    let lines = output_lines(&run);
    // BOM and CRLF are removed; the last of duplicate keys wins; 2^64 reads as a float.
    assert_eq!(lines[0]["userName"], "bom");
    assert_eq!(lines[1]["userName"], "crlf");
    assert_eq!(lines[18]["userName"], "last");
    assert_eq!(lines[16]["nickName"], "1.8446744073709552e+19");
    // The id is given only when the line parsed as an object holding it as a string.
    assert!(lines[5].get("id").is_none());
    assert!(lines[7].get("id").is_none());
    assert_eq!(lines[29]["id"], "u19");
    assert_eq!(lines[29]["error"]["errors"][0]["line"], 2);
    let e = &lines[2]["error"]["errors"][0];
    assert_eq!(
        *e,
        json!({"target": null, "code": "scimap::empty-line", "message": e["message"]})
    );
}

#[test]
fn bulk_mixed_input_with_over_long_lines_keeps_order_and_counts() {
    let mapping = corpus("records.scimap");
    let mut input = Vec::new();
    let mut expect = Vec::new();
    for i in 0..300 {
        let (line, outcome): (Vec<u8>, &str) = match i % 7 {
            0 => (
                format!(r#"{{"_id":"{i}","username":"u{i}"}}"#).into_bytes(),
                "ok",
            ),
            1 => (
                format!(r#"{{"_id":"{i}","username":"u{i}"}}"#)
                    .into_bytes()
                    .replace_cr(),
                "ok",
            ),
            2 => (b"{\"username\":\xfe}".to_vec(), "scimap::invalid-utf8"),
            3 => (Vec::new(), "scimap::empty-line"),
            4 => (
                format!(r#"{{"username":"{}"}}"#, "y".repeat(300)).into_bytes(),
                "scimap::limit",
            ),
            5 => (b"{not json".to_vec(), "scimap::invalid-json"),
            // Exactly at the cap once its '\r' is removed.
            _ => (
                format!("{{\"username\":\"{}\"}}\r", "z".repeat(185)).into_bytes(),
                "ok",
            ),
        };
        input.extend_from_slice(&line);
        input.push(b'\n');
        expect.push(outcome);
    }
    // No final newline: the last line still counts once.
    input.extend_from_slice(br#"{"username":"last"}"#);
    expect.push("ok");
    // One thread reads, evaluates and writes in turn; more run a pipeline: the same lines.
    for threads in ["1", "2"] {
        let run = scimap(
            &[
                "bulk",
                mapping.to_str().expect("path"),
                "--limit",
                "line-bytes=200",
                "--threads",
                threads,
            ],
            &input,
        );
        let lines = output_lines(&run);
        assert_eq!(lines.len(), expect.len());
        for (i, (v, e)) in lines.iter().zip(&expect).enumerate() {
            assert_eq!(code_of(v), *e, "line {}: {v}", i + 1);
            if i < 300 && i % 7 < 2 {
                assert_eq!(v["userName"], format!("u{i}"));
            }
        }
        let ok = expect.iter().filter(|e| **e == "ok").count();
        assert_eq!(summary(&run.stderr), (expect.len(), ok, expect.len() - ok));
    }
}

trait ReplaceCr {
    fn replace_cr(self) -> Vec<u8>;
}

impl ReplaceCr for Vec<u8> {
    /// The line with a CRLF ending (the '\n' is added by the caller).
    fn replace_cr(mut self) -> Vec<u8> {
        self.push(b'\r');
        self
    }
}

#[test]
fn bulk_twenty_mib_line_and_deep_record_fail_alone() {
    let mapping = corpus("records.scimap");
    let mut input = br#"{"username":"before"}"#.to_vec();
    input.push(b'\n');
    input.extend_from_slice(br#"{"username":""#);
    input.resize(input.len() + (20 << 20), b'x');
    input.extend_from_slice(b"\"}\n");
    input.extend_from_slice(&b"[".repeat(100_000));
    input.push(b'\n');
    input.extend_from_slice(br#"{"username":"after"}"#);
    input.push(b'\n');
    let run = scimap(&["bulk", mapping.to_str().expect("path")], &input);
    let lines = output_lines(&run);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["userName"], "before");
    assert_eq!(code_of(&lines[1]), "scimap::limit");
    assert!(lines[1]["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("line-bytes"));
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(code_of(&lines[2]), "scimap::limit");
    assert!(lines[2]["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("`depth` (128)"));
    assert_eq!(lines[3]["userName"], "after");
    assert_eq!(summary(&run.stderr), (4, 2, 2));
}

#[test]
fn bulk_with_a_broken_mapping_writes_nothing() {
    let file = temp_file(b"user {\n  userName = \xff\n}\n", ".scimap");
    let run = scimap(
        &["bulk", file.path().to_str().expect("path")],
        b"{\"username\":\"a\"}\n",
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("scimap::invalid-utf8"),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_reports_records_it_cannot_read() {
    let mapping = corpus("records.scimap");
    let mapping = mapping.to_str().expect("path");
    // A file that is not JSON selects no record: a usage/input error, exit 2, nothing on stdout.
    for bad in [
        &b"{\"username\":\"\xff\"}"[..],
        b"{\"username\":\"\\ud800\"}",
        b"{\"n\":1e400}",
    ] {
        let file = temp_file(bad, ".json");
        let run = scimap(
            &[
                "eval",
                mapping,
                "--user",
                file.path().to_str().expect("path"),
            ],
            b"",
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    // A record over line-bytes fails as a record: its error object on stdout, exit 1.
    let file = temp_file(br#"{"username":"a-long-user-name"}"#, ".json");
    let run = scimap(
        &[
            "eval",
            mapping,
            "--user",
            file.path().to_str().expect("path"),
            "--limit",
            "line-bytes=10",
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["error"]["errors"][0]["code"], "scimap::limit");
    // A BOM in front of the record file is ignored.
    let file = temp_file(b"\xEF\xBB\xBF{\"username\":\"bom\"}", ".json");
    let run = scimap(
        &[
            "eval",
            mapping,
            "--user",
            file.path().to_str().expect("path"),
        ],
        b"",
    );
    assert_eq!(
        (run.code, run.json()["userName"].clone()),
        (0, json!("bom"))
    );
}

#[test]
fn bulk_validates_fields_the_mapping_does_not_read() {
    let mapping = corpus("username-only.scimap");
    let at_limit = format!(
        r#"{{"username":"a","x":{}{}}}"#,
        "[".repeat(127),
        "]".repeat(127)
    );
    let over = format!(
        r#"{{"username":"a","x":{}{}}}"#,
        "[".repeat(128),
        "]".repeat(128)
    );
    let lines = [
        (r#"{"username":"a","other":1e400}"#, "scimap::invalid-json"),
        (
            r#"{"username":"a","other":"\ud800"}"#,
            "scimap::invalid-json",
        ),
        (r#"{"username":"a","other":tru}"#, "scimap::invalid-json"),
        (r#"{"username":"a"}x"#, "scimap::invalid-json"),
        (
            r#"{"username":"a","other":{"username":"x"},"username":"b"}"#,
            "ok",
        ),
        (&at_limit, "ok"),
        (&over, "scimap::limit"),
    ];
    let input: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
    let run = scimap(&["bulk", mapping.to_str().expect("path")], input.as_bytes());
    let out = output_lines(&run);
    assert_eq!(out.len(), lines.len());
    for (v, (line, e)) in out.iter().zip(&lines) {
        assert_eq!(code_of(v), *e, "{line}: {v}");
    }
    assert_eq!(out[4]["userName"], "b");
}

/// A record handed to the library as a `serde_json::Value` nests within `depth` like one the
/// library reads from bytes: a value built deeper by a program is a `scimap::limit` error,
/// through `evaluate` and `eval_expression`, not a recursion as deep as the value.
#[test]
fn library_records_built_deeper_than_depth_are_refused() {
    // 500 levels: deeper than `depth` (128) and serde_json's reader (128), shallow enough
    // for serde_json's own recursive drop on a test thread.
    let deep = (0..500).fold(json!(1), |v, _| json!([v]));
    let record = json!({"username": "u", "description": deep});
    let mapping =
        Mapping::compile("user {\n  userName = username\n  title = toJSON(description)\n}\n")
            .expect("compiles");
    let err = mapping.evaluate_user(&record).expect_err("too deep");
    assert_eq!(err.errors[0].code, "scimap::limit", "{err:?}");
    assert!(err.errors[0].message.contains("`depth`"), "{err:?}");
    let err = eval_expression("username", Kind::User, &record, &Options::default())
        .expect_err("too deep");
    assert!(err.message.contains("`depth`"), "{}", err.message);
}
