//! Direct sources that are full RFC 9535 JSON Paths, through the public API and the binary:
//! what they select, how their errors read, and hostile paths and records that must end
//! quickly with a diagnostic or a `scimap::limit` record error (never a crash or a hang).
//! Big inputs are generated here; each hostile case runs under a no-hang guard.

mod common;

use scimap::{Kind, Limits, Mapping, Options};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

/// Generous: a case that needs it has hung (the old engine took minutes or forever).
const TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `f` on a thread and fails the test if it has not finished within `TIMEOUT`.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish within {TIMEOUT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

fn user(entries: &str) -> String {
    format!("user {{\n  userName = $.username\n{entries}\n}}\n")
}

fn compile(source: &str) -> Result<Mapping, scimap::CompileError> {
    Mapping::compile(source)
}

/// The one error of a mapping that does not compile: (code, message, help).
fn compile_error(source: &str) -> (String, String, String) {
    let err = compile(source).err().expect("the mapping must not compile");
    let d = err
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error");
    (
        d.code.to_string(),
        d.message.clone(),
        d.help.clone().unwrap_or_default(),
    )
}

/// Evaluates one bulk line: the payload, or the error object.
fn line(mapping: &Mapping, record: &[u8]) -> Value {
    let mut out = Vec::new();
    mapping.evaluate_line(Kind::User, record, 1, &mut out);
    serde_json::from_slice(&out).expect("one JSON line")
}

fn first_error(v: &Value) -> (String, String) {
    let e = &v["error"]["errors"][0];
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn filters_slices_unions_and_descendants_select_from_the_record() {
    let mapping = compile(&user(
        "  title = $.emails[?@.type == 'work' && search(@.value, '@example\\\\.com$')].value\n  \
         nickName = $.attributes[?match(@.name, 'nick.*')].value\n  \
         emails[].value = $.emails[?@.primary != true].value\n  \
         phoneNumbers[].value = $.phones[1:]\n  \
         addresses[].locality = $..city",
    ))
    .expect("compiles");
    let record = json!({
        "username": "ada",
        "emails": [
            {"type": "home", "value": "ada@home.org", "primary": true},
            {"type": "work", "value": "ada@example.com"},
            {"type": "work", "value": "ada@other.org"}
        ],
        "attributes": [{"name": "nickname", "value": "Countess"}, {"name": "x", "value": "y"}],
        "phones": ["1", "2", "3"],
        "office": {"address": {"city": "London"}}
    });
    let payload = mapping.evaluate_user(&record).expect("evaluates");
    assert_eq!(payload["title"], "ada@example.com");
    assert_eq!(payload["nickName"], "Countess");
    assert_eq!(
        payload["emails"],
        json!([{"value": "ada@example.com"}, {"value": "ada@other.org"}])
    );
    assert_eq!(
        payload["phoneNumbers"],
        json!([{"value": "2"}, {"value": "3"}])
    );
    assert_eq!(payload["addresses"], json!([{"locality": "London"}]));
}

#[test]
fn a_path_that_finds_several_values_for_one_attribute_fails_that_record() {
    let mapping = compile(&user("  title = $.emails[?@.type == 'work'].value")).expect("compiles");
    let v = line(
        &mapping,
        br#"{"username":"a","emails":[{"type":"work","value":"x"},{"type":"work","value":"y"}]}"#,
    );
    assert_eq!(first_error(&v).0, "scimap::several-values");
    let v = line(
        &mapping,
        br#"{"username":"a","emails":[{"type":"work","value":"x"}]}"#,
    );
    assert_eq!(v["title"], "x");
}

#[test]
fn path_errors_say_what_is_wrong_and_where() {
    let (code, message, help) = compile_error(&user("  active = $.state == \"ACTIVATED\""));
    assert_eq!(code, "scimap::bad-path");
    assert!(
        message.contains(
            "a Direct path (`$…`) stands alone as a whole source, but `$.state` is followed by more"
        ),
        "{message}"
    );
    assert_eq!(
        help,
        "write it as an expression, naming fields without `$.`: `state == \"ACTIVATED\"`"
    );
    let (_, message, help) = compile_error(&user("  title = $.first-name"));
    assert!(message.contains("`-` cannot appear in a name"), "{message}");
    assert_eq!(help, "write the name in brackets: `['first-name']`");
    let (_, message, _) = compile_error(&user("  title = $.emails[?length(@.value)]"));
    assert!(
        message.contains("`length(…)` gives a value, not a test"),
        "{message}"
    );
    let (_, message, _) = compile_error(&user("  title = $.emails[?match(@.value, '\\\\d+')]"));
    assert!(
        message.contains("`\\d` is not an I-Regexp escape"),
        "{message}"
    );

    let err = compile(&user("  title = $.emails[?@.type == 'work'"))
        .err()
        .expect("error");
    let d = &err.diagnostics[0];
    assert_eq!(d.code, "scimap::bad-path");
    // The end of the path, with a label on the `[` left open.
    let source = err.source.as_str();
    assert_eq!(&source[d.span.start - 6..d.span.start], "'work'");
    assert_eq!(&source[d.labels[0].span.start..d.labels[0].span.end], "[");
}

#[test]
fn ten_thousand_nested_filters_or_parentheses_are_a_limit_error() {
    for path in [
        format!("$.a{}{}", "[?@".repeat(10_000), "]".repeat(10_000)),
        format!("$.a[?{}@.b{}]", "(".repeat(10_000), ")".repeat(10_000)),
        format!(
            "$.a[?{}@.b{} == 1]",
            "length(".repeat(10_000),
            ")".repeat(10_000)
        ),
    ] {
        let source = user(&format!("  title = {path}"));
        let (code, message, _) = guarded("compiling deep nesting", move || compile_error(&source));
        assert_eq!(code, "scimap::limit");
        assert_eq!(
            message,
            "the path nests deeper than the limit `depth` (128)"
        );
    }
}

#[test]
fn thirty_nested_filters_compile_and_run_at_once() {
    // serde_json_path took 12 s of CPU to parse 22 levels, twice as long for each more.
    let path = format!("$.a{}{}", "[?@".repeat(30), "]".repeat(30));
    let source = user(&format!("  title = {path}"));
    let mapping = guarded("compiling 30 nested filters", move || compile(&source))
        .expect("30 levels are within the depth limit");
    let v = line(&mapping, br#"{"username":"a","a":[[[1]]]}"#);
    assert_eq!(v["userName"], "a");
}

#[test]
fn repeated_descendant_segments_on_a_deep_record_stop_at_the_steps_limit() {
    let mapping = compile(&user("  title = $..*..*..*..*")).expect("compiles");
    let mut record = String::from(r#"{"username":"a","d":"#);
    record.push_str(&"{\"a\":".repeat(120));
    record.push('1');
    record.push_str(&"}".repeat(120));
    record.push('}');
    let v = guarded("evaluating $..*..*..*..*", move || {
        line(&mapping, record.as_bytes())
    });
    assert_eq!(
        first_error(&v),
        (
            "scimap::limit".into(),
            "limit `steps` exceeded (the limit is 100000)".into()
        )
    );
}

#[test]
fn a_literal_pattern_is_compiled_with_the_mapping_not_per_node() {
    // Expensive to compile, cheap to run: compiled per node, 50,000 nodes take minutes.
    // Matching is charged its worst case (bytes × the automaton's states), hence the steps.
    let options = Options {
        limits: Limits {
            steps: 1_000_000_000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mapping = Mapping::compile_with(
        &user("  emails[].value = $.items[?match(@, '([a-z]{1,20}){1,20}[0-9]+')]"),
        &options,
    )
    .expect("compiles");
    let items: Vec<String> = (0..50_000).map(|i| format!("item{i}")).collect();
    let record = json!({"username": "a", "items": items}).to_string();
    let v = guarded("matching 50,000 nodes", move || {
        line(&mapping, record.as_bytes())
    });
    assert_eq!(v["emails"].as_array().map(Vec::len), Some(50_000));
}

#[test]
fn a_pattern_from_the_record_is_compiled_once_per_record() {
    // Compiling `x{40}` is charged about 40 steps, and so is matching an item: compiled once
    // the 1,000 items fit 60,000 steps; compiled per item they would take about 85,000.
    let mapping = Mapping::compile_with(
        &user("  emails[].value = $.items[?match(@, $.pattern)]"),
        &Options {
            limits: Limits {
                steps: 60_000,
                ..Limits::default()
            },
            ..Options::default()
        },
    )
    .expect("compiles");
    let mut items: Vec<String> = (0..1_000).map(|i| format!("y{i}")).collect();
    items.push("x".repeat(40));
    let record = json!({"username": "a", "pattern": "x{40}", "items": items}).to_string();
    let v = line(&mapping, record.as_bytes());
    assert_eq!(v["emails"], json!([{"value": "x".repeat(40)}]));
}

#[test]
fn a_large_record_with_a_search_filter_ends_with_a_result_or_a_limit() {
    let run = |steps: u64| {
        let options = Options {
            limits: Limits {
                steps,
                ..Limits::default()
            },
            ..Options::default()
        };
        let mapping = Mapping::compile_with(
            &user("  emails[].value = $.items[?search(@, 'a.*z')]"),
            &options,
        )
        .expect("compiles");
        // About 580 kB of nodes.
        let items: Vec<String> = (0..24_000)
            .map(|i| format!("abcdefghij{i:08}xyz"))
            .collect();
        let record = json!({"username": "a", "items": items}).to_string();
        assert!(record.len() > 570_000);
        guarded("searching 24,000 nodes", move || {
            line(&mapping, record.as_bytes())
        })
    };
    // Matching is charged its worst case, bytes × the automaton's states: more than the
    // default `steps` for 580 kB.
    let v = run(10_000_000);
    assert_eq!(v["emails"].as_array().map(Vec::len), Some(24_000));
    let v = run(50_000);
    assert_eq!(
        first_error(&v),
        (
            "scimap::limit".into(),
            "limit `steps` exceeded (the limit is 50000)".into()
        )
    );
}

/// Runs the binary, killing it after `TIMEOUT`: (exit code, stdout, stderr).
fn scimap(args: &[&str], stdin: Vec<u8>) -> (i32, String, String) {
    let run = common::scimap(args).stdin(stdin).timeout(TIMEOUT).run();
    run.assert_no_crash();
    (run.code(), run.stdout.text(), run.stderr.text())
}

fn mapping_file(source: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".scimap")
        .tempfile()
        .expect("temp file");
    f.write_all(source.as_bytes()).expect("write");
    f
}

#[test]
fn the_binary_refuses_hostile_paths_and_records_without_crashing() {
    let deep = mapping_file(&user(&format!(
        "  title = $.a{}{}",
        "[?@".repeat(10_000),
        "]".repeat(10_000)
    )));
    let (code, out, _) = scimap(
        &[
            "check",
            "--format",
            "json",
            deep.path().to_str().expect("path"),
        ],
        Vec::new(),
    );
    assert_eq!(code, 1);
    let diagnostics: Value = serde_json::from_str(&out).expect("JSON diagnostics");
    assert_eq!(diagnostics[0]["code"], "scimap::limit");

    let descend = mapping_file(&user("  title = $..*..*..*..*"));
    let mut input = br#"{"username":"before"}"#.to_vec();
    input.push(b'\n');
    input.extend_from_slice(br#"{"username":"a","d":"#);
    input.extend_from_slice(&b"[".repeat(120));
    input.extend_from_slice(&b"]".repeat(120));
    input.extend_from_slice(b"}\n");
    input.extend_from_slice(br#"{"username":"after"}"#);
    input.push(b'\n');
    let (_, out, _) = scimap(&["bulk", descend.path().to_str().expect("path")], input);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["userName"], "before");
    assert_eq!(first_error(&lines[1]).0, "scimap::limit");
    assert_eq!(lines[2]["userName"], "after");
}
