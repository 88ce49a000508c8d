//! The `scimap` command end to end (reference §cli, §diagnostics-json): exit codes, stdout/stderr
//! split, and the exact shapes of what each command prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// Runs the binary from the crate root with `stdin` as standard input; never a terminal.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start scimap");
    let mut input = child.stdin.take().expect("stdin");
    // Written beside the reading of the output (a large input and output cannot block each
    // other); a scimap that exits before reading all of it (a mapping that does not compile)
    // closes the pipe, which is no failure of the test.
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || match input.write_all(&stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.expect("write stdin"),
    });
    let output = child.wait_with_output().expect("wait for scimap");
    writer.join().expect("the stdin writer");
    output
}

fn scimap(args: &[&str]) -> Output {
    run(args, b"")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)))
}

fn stdout_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A temporary file with the given content; kept alive by the returned guard.
fn temp(suffix: &str, content: &str) -> (tempfile::TempPath, String) {
    let mut f = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    f.write_all(content.as_bytes()).expect("write temp file");
    let p = f.into_temp_path();
    let s = p.display().to_string();
    (p, s)
}

fn users() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("examples/users.json")).expect("users.json");
    serde_json::from_str(&text).expect("users.json is a JSON array")
}

const TYPO: &str = "user {\n  usrName = $.username\n}\n";
const SIMPLE: &str = "user {\n  userName = $.username\n  title = $.jobTitle\n}\n";

// ---------------------------------------------------------------------------------------------
// check

#[test]
fn check_human_suggests_the_target_and_fails() {
    let (_guard, m) = temp(".scimap", TYPO);
    let o = scimap(&["check", &m]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean `userName`"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    assert!(!stderr(&o).contains('\u{1b}'), "no colour off a terminal");
}

#[test]
fn check_human_has_no_colour_even_without_no_color_off_a_terminal() {
    let (_guard, m) = temp(".scimap", TYPO);
    let o = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(["check", &m])
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    assert_eq!(code(&o), 1);
    assert!(!String::from_utf8_lossy(&o.stderr).contains('\u{1b}'));
}

#[test]
fn check_json_gives_every_field_in_order() {
    let (_guard, m) = temp(".scimap", TYPO);
    let o = scimap(&["check", "--format", "json", &m]);
    assert_eq!(code(&o), 1);
    let all = stdout_json(&o);
    let errors: Vec<&Value> = all
        .as_array()
        .expect("an array")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{all:#}");
    let d = errors[0];
    let keys: Vec<&str> = d
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "file",
            "code",
            "severity",
            "message",
            "line",
            "column",
            "end_line",
            "end_column",
            "offset",
            "end_offset",
            "help",
            "labels"
        ]
    );
    assert_eq!(d["file"], json!(m));
    assert!(d["code"]
        .as_str()
        .is_some_and(|c| c.starts_with("scimap::")));
    assert_eq!(
        (&d["line"], &d["column"], &d["end_line"], &d["end_column"]),
        (&json!(2), &json!(3), &json!(2), &json!(10))
    );
    assert_eq!((&d["offset"], &d["end_offset"]), (&json!(9), &json!(16)));
    let text = format!("{} {}", d["message"], d["help"]);
    assert!(text.contains("userName"), "{text}");
    assert!(d["labels"].is_array());
}

#[test]
fn check_github_writes_workflow_commands() {
    let (_guard, m) = temp(".scimap", TYPO);
    let o = scimap(&["check", "--format", "github", &m]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let first = out.lines().next().expect("one line");
    let file = m
        .replace('%', "%25")
        .replace(':', "%3A")
        .replace(',', "%2C");
    let prefix =
        format!("::error file={file},line=2,col=3,endLine=2,endColumn=10,title=scimap%3A%3A");
    assert!(first.starts_with(&prefix), "{first}");
}

#[test]
fn check_sorts_by_file_then_offset() {
    let (_a, a) = temp(
        ".scimap",
        "user {\n  usrName = $.username\n  titel = $.jobTitle\n}\n",
    );
    let (_b, b) = temp(".scimap", TYPO);
    let o = scimap(&["check", "--format", "json", &b, &a]);
    let all = stdout_json(&o);
    let keys: Vec<(String, u64)> = all
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_string(),
                d["offset"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.len() >= 3, "{all:#}");
}

#[test]
fn check_examples_are_clean() {
    let files: Vec<String> = ["trello", "monday", "miro", "trelica"]
        .iter()
        .map(|n| path(&format!("examples/{n}.scimap")))
        .collect();
    let mut args = vec!["check", "--deny-warnings", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let o = scimap(&args);
    assert_eq!(stdout_json(&o), json!([]), "{}", stdout(&o));
    assert_eq!(code(&o), 0);
}

#[test]
fn check_warnings_deny_and_allow() {
    let source = "user {\n  let unused = 1\n  userName = $.username\n}\n";
    let (_guard, m) = temp(".scimap", source);
    let o = scimap(&["check", "--format", "json", &m]);
    assert_eq!(code(&o), 0, "a warning alone passes");
    let all = stdout_json(&o);
    let warning = &all[0];
    assert_eq!(warning["severity"], "warning", "{all:#}");
    let warning_code = warning["code"].as_str().expect("code").to_string();

    assert_eq!(code(&scimap(&["check", "--deny-warnings", &m])), 1);
    let o = scimap(&[
        "check",
        "--deny-warnings",
        "--allow",
        &warning_code,
        "--format",
        "json",
        &m,
    ]);
    assert_eq!(stdout_json(&o), json!([]));
    assert_eq!(code(&o), 0);
    // The prefix is optional, as in allow comments.
    let short = warning_code
        .strip_prefix("scimap::")
        .expect("a scimap:: code");
    let o = scimap(&["check", "--deny-warnings", "--allow", short, &m]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn deny_warnings_says_the_warnings_were_denied() {
    let (_guard, m) = temp(
        ".scimap",
        "user {\n  let unused = 1\n  userName = $.username\n}\n",
    );
    for format in ["human", "json", "github"] {
        let o = scimap(&["check", "--deny-warnings", "--format", format, &m]);
        assert_eq!(code(&o), 1, "{format}");
        assert!(
            stderr(&o).contains("error: 1 warning denied by --deny-warnings"),
            "{format}: {}",
            stderr(&o)
        );
    }
    let o = scimap(&["check", &m]);
    assert_eq!(code(&o), 0);
    assert!(!stderr(&o).contains("denied"), "{}", stderr(&o));
}

#[test]
fn allow_with_an_unknown_code_is_a_usage_error() {
    let (_guard, m) = temp(".scimap", SIMPLE);
    for (code_given, near) in [
        ("scimap::maybe-nill", "scimap::maybe-nil"),
        ("unused-lets", "scimap::unused-let"),
    ] {
        let o = scimap(&["check", "--allow", code_given, &m]);
        assert_eq!(code(&o), 2, "{code_given}");
        assert!(o.stdout.is_empty());
        assert!(
            stderr(&o).contains(&format!("did you mean `{near}`?")),
            "{code_given}: {}",
            stderr(&o)
        );
    }
    // An error's code is not a warning's: errors cannot be allowed.
    let o = scimap(&["check", "--allow", "scimap::syntax", &m]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("scimap::unused-let"), "{}", stderr(&o));
}

/// Every warning the book documents can be allowed by its code, with or without the prefix.
#[test]
fn allow_takes_every_documented_warning_code() {
    let docs = std::fs::read_to_string(root().join("docs/book/src/reference/diagnostics.md"))
        .expect("read the diagnostics chapter");
    let (_guard, m) = temp(".scimap", SIMPLE);
    let codes: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter(|l| l.contains("(compile warning)"))
        .filter_map(|l| l.split('`').next())
        .collect();
    assert!(codes.len() >= 4, "{codes:?}");
    for c in codes {
        let short = c.strip_prefix("scimap::").expect("a scimap:: code");
        for given in [c, short] {
            assert_eq!(
                code(&scimap(&["check", "--allow", given, &m])),
                0,
                "{given}"
            );
        }
    }
}

#[test]
fn check_unreadable_file_is_exit_2() {
    let o = scimap(&["check", "no/such/file.scimap"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no/such/file.scimap"));
    // With a machine format, no result that would read as a clean check.
    let (_guard, m) = temp(".scimap", SIMPLE);
    for format in ["json", "github"] {
        for files in [vec!["missing.scimap"], vec![m.as_str(), "missing.scimap"]] {
            let mut args = vec!["check", "--format", format];
            args.extend(&files);
            let o = scimap(&args);
            assert_eq!(code(&o), 2, "{args:?}");
            assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
            assert!(
                stderr(&o).contains("error: cannot read missing.scimap"),
                "{args:?}: {}",
                stderr(&o)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// eval

#[test]
fn eval_prints_the_exact_payload() {
    let record = r#"{"_id":"5f0000000000000000000001","username":"jdoe","email":"j@example.com",
        "firstname":" Jane ","lastname":"Doe","displayname":"","state":"ACTIVATED",
        "activated":true,"suspended":false,"created":"2024-01-02T03:04:05Z"}"#;
    let (_guard, r) = temp(".json", record);
    let o = scimap(&["eval", "examples/trello.scimap", "--user", &r]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = json!({
        "schemas": [CORE_USER],
        "userName": "jdoe",
        "name": {"formatted": "Jane Doe", "givenName": " Jane ", "familyName": "Doe"},
        "active": true,
        "emails": [{"type": "work", "value": "j@example.com"}]
    });
    assert_eq!(
        stdout(&o),
        serde_json::to_string_pretty(&expected).expect("json") + "\n"
    );
}

#[test]
fn eval_uses_the_first_record_by_default() {
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let first = &users()[0];
    let payload = stdout_json(&o);
    assert_eq!(payload["schemas"][0], CORE_USER);
    assert_eq!(payload["userName"], first["username"]);
    assert_eq!(payload["active"], json!(first["state"] == "ACTIVATED"));
}

#[test]
fn eval_pick_and_where_select_records() {
    let all = users();
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
        "--pick",
        "3",
    ]);
    assert_eq!(stdout_json(&o)["userName"], all[3]["username"]);

    let name = all[5]["username"].as_str().expect("username");
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
        "--where",
        &format!("username={name}"),
    ]);
    assert_eq!(stdout_json(&o)["userName"], json!(name));

    // Numbers and booleans compare by their JSON text; the first match wins.
    let uid = all[7]["unix_uid"].to_string();
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
        "--where",
        &format!("unix_uid={uid}"),
    ]);
    assert_eq!(stdout_json(&o)["userName"], all[7]["username"]);
    let suspended = all
        .iter()
        .find(|u| u["suspended"] == json!(true))
        .expect("a suspended user");
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
        "--where",
        "suspended=true",
    ]);
    let payload = stdout_json(&o);
    assert_eq!(payload["userName"], suspended["username"]);
    assert_eq!(payload["active"], json!(false));
}

#[test]
fn eval_reads_ndjson() {
    let o = scimap(&[
        "eval",
        "examples/trelica.scimap",
        "--user",
        "tests/fixtures/users.ndjson",
        "--where",
        "_id=ffff00000000000000000009",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let payload = stdout_json(&o);
    assert_eq!(payload["userName"], "edge9");
    assert_eq!(payload["active"], false);
}

#[test]
fn eval_group_section() {
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--group",
        "examples/groups.json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout_json(&o),
        json!({"schemas": [CORE_GROUP], "displayName": "Engineering"})
    );
}

#[test]
fn eval_explain_lists_each_target_on_stderr() {
    let o = scimap(&[
        "eval",
        "examples/trello.scimap",
        "--user",
        "examples/users.json",
        "--explain",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let username = users()[0]["username"]
        .as_str()
        .expect("username")
        .to_string();
    for needle in [
        "userName",
        "direct",
        "$.username",
        &username,
        "active",
        "expression",
        "state == \"ACTIVATED\"",
    ] {
        assert!(err.contains(needle), "{needle:?} missing in:\n{err}");
    }
    assert!(err.find("userName") < err.find("active"), "file order");
    assert_eq!(stdout_json(&o)["userName"], json!(username));
}

#[test]
fn eval_failed_record_prints_the_error_object_and_exits_1() {
    let (_m, m) = temp(
        ".scimap",
        "user {\n  userName = $.username\n  title = int(username)\n}\n",
    );
    let (_r, r) = temp(
        ".json",
        r#"{"_id":"x1","username":"jdoe","email":"j@e.x","state":"ACTIVATED","activated":true,"suspended":false,"created":"2024-01-02T03:04:05Z"}"#,
    );
    let o = scimap(&["eval", &m, "--user", &r]);
    assert_eq!(code(&o), 1);
    let v = stdout_json(&o);
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["error"], "no line or id for eval");
    let errors = v["error"]["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(
        (&e["target"], &e["line"], &e["column"]),
        (&json!("title"), &json!(3), &json!(11))
    );
    assert_eq!(v["error"]["message"], e["message"]);
    assert!(stdout(&o).contains("\n  "), "pretty-printed");
    let err = stderr(&o);
    assert!(err.contains("title") && err.contains("3:11"), "{err}");
}

#[test]
fn eval_without_a_selected_record_is_exit_2() {
    for args in [
        vec!["--pick", "999"],
        vec!["--where", "username=nobody-has-this"],
    ] {
        let mut all = vec![
            "eval",
            "examples/trello.scimap",
            "--user",
            "examples/users.json",
        ];
        all.extend(args);
        let o = scimap(&all);
        assert_eq!(code(&o), 2, "{all:?}");
        assert!(o.stdout.is_empty());
        assert!(!stderr(&o).is_empty());
    }
    let (_e, empty) = temp(".json", "[]");
    assert_eq!(
        code(&scimap(&[
            "eval",
            "examples/trello.scimap",
            "--user",
            &empty
        ])),
        2
    );
}

#[test]
fn eval_missing_section_or_file_is_exit_2() {
    let o = scimap(&[
        "eval",
        "examples/miro.scimap",
        "--group",
        "examples/groups.json",
    ]);
    assert_eq!(code(&o), 2);
    assert!(o.stdout.is_empty());
    assert_eq!(
        code(&scimap(&[
            "eval",
            "examples/miro.scimap",
            "--user",
            "no/such.json"
        ])),
        2
    );
}

#[test]
fn a_mapping_that_does_not_compile_prints_nothing_on_stdout() {
    let (_guard, m) = temp(".scimap", TYPO);
    let runs = [
        run(&["eval", &m, "--user", "examples/users.json"], b""),
        run(&["bulk", &m], b"{\"username\":\"a\"}\n"),
    ];
    for o in runs {
        assert_eq!(code(&o), 1);
        assert!(o.stdout.is_empty(), "{}", stdout(&o));
        assert!(stderr(&o).contains("did you mean `userName`"));
    }
}

// ---------------------------------------------------------------------------------------------
// expr

#[test]
fn expr_prints_compact_json() {
    let o = scimap(&[
        "expr",
        "upper(username) + \"!\"",
        "--user",
        "examples/users.json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = format!(
        "{}!",
        users()[0]["username"]
            .as_str()
            .expect("name")
            .to_uppercase()
    );
    assert_eq!(stdout(&o), format!("{}\n", json!(expected)));

    let o = scimap(&["expr", "{\"a\": [1, 2.5, nil]}"]);
    assert_eq!(stdout(&o), "{\"a\":[1,2.5,null]}\n");
    let o = scimap(&[
        "expr",
        "len(name)",
        "--group",
        "examples/groups.json",
        "--pick",
        "1",
    ]);
    assert_eq!(stdout(&o), "10\n", "Sales EMEA");
}

#[test]
fn expr_errors_exit_1() {
    let o = scimap(&["expr", "1 +"]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    let o = scimap(&["expr", "int(username)", "--user", "examples/users.json"]);
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).is_empty());
}

#[test]
fn expr_without_a_record_names_the_empty_record() {
    let note = "note: the record is empty, so every field is nil";
    let o = scimap(&["expr", "upper(username)"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("expected string, got nil"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains(note), "{}", stderr(&o));
    // Not with a record, nor for a compile error.
    let o = scimap(&[
        "expr",
        "upper(username) + 1",
        "--user",
        "examples/users.json",
    ]);
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).contains(note), "{}", stderr(&o));
    let o = scimap(&["expr", "1 +"]);
    assert!(!stderr(&o).contains(note), "{}", stderr(&o));
    // Nor for a run-time error that is not about a nil.
    let o = scimap(&["expr", "1 / 0"]);
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).contains(note), "{}", stderr(&o));
    // Once with --lines, stdout unchanged.
    let o = run(&["expr", "--lines"], b"upper(username)\nlower(email)\n1\n");
    assert_eq!(stderr(&o).matches(note).count(), 1, "{}", stderr(&o));
    assert_eq!(stdout_lines(&o).len(), 3);
}

#[test]
fn expr_lines_reports_each_line() {
    let input = b"upper(username) + \"!\"\n1 +\nint(username)\r\n1 + 2\n";
    let o = run(&["expr", "--lines", "--user", "examples/users.json"], input);
    assert_eq!(code(&o), 1);
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 4, "{}", stdout(&o));
    let name = users()[0]["username"]
        .as_str()
        .expect("name")
        .to_uppercase();
    assert_eq!(lines[0], json!({"ok": format!("{name}!")}));
    assert_eq!(lines[1]["phase"], "compile");
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[2]["phase"], "run");
    assert_eq!(lines[3], json!({"ok": 3}));
    let keys: Vec<&String> = lines[1].as_object().expect("object").keys().collect();
    assert_eq!(keys, ["error", "phase"]);

    let o = run(&["expr", "--lines"], b"1\n\"a\"\n");
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "{\"ok\":1}\n{\"ok\":\"a\"}\n");
}

#[test]
fn expr_now_is_fixed_by_the_option() {
    let o = scimap(&["expr", "now()", "--now", "2025-01-02T03:04:05+02:00"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let printed: String = serde_json::from_slice(&o.stdout).expect("a JSON string");
    let t = chrono::DateTime::parse_from_rfc3339(&printed).expect("RFC 3339");
    let expected = chrono::DateTime::parse_from_rfc3339("2025-01-02T01:04:05Z").expect("time");
    assert_eq!(t, expected);
    let o = scimap(&["expr", "now().Year()", "--now", "2031-06-01T00:00:00Z"]);
    assert_eq!(stdout(&o), "2031\n");
    assert_eq!(code(&scimap(&["expr", "now()", "--now", "yesterday"])), 2);
}

#[test]
fn limit_option_overrides_a_limit() {
    let o = scimap(&["expr", "repeat(\"ab\", 100)", "--limit", "string-bytes=10"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("string-bytes"), "{}", stderr(&o));
    let o = scimap(&[
        "expr",
        "repeat(\"ab\", 100)",
        "--limit",
        "string-bytes=1000",
    ]);
    assert_eq!(code(&o), 0);
    for bad in ["nope=1", "steps", "steps=-1", "steps=x"] {
        assert_eq!(code(&scimap(&["expr", "1", "--limit", bad])), 2, "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// bulk

fn user_line(id: &str, username: &str) -> String {
    format!(
        "{{\"_id\":\"{id}\",\"username\":\"{username}\",\"email\":\"{username}@example.com\",\
         \"state\":\"ACTIVATED\",\"activated\":true,\"suspended\":false,\
         \"created\":\"2024-01-02T03:04:05Z\"}}"
    )
}

#[test]
fn bulk_writes_one_line_per_input_line_in_order() {
    let input = std::fs::read(root().join("tests/fixtures/users.ndjson")).expect("fixture");
    let records: Vec<Value> = input
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("fixture line"))
        .collect();
    let o = run(
        &["bulk", "examples/trello.scimap", "--threads", "2"],
        &input,
    );
    let out = stdout_lines(&o);
    assert_eq!(out.len(), records.len());
    let mut failed = 0;
    for (i, (rec, line)) in records.iter().zip(&out).enumerate() {
        if line.get("error").is_some() {
            failed += 1;
            assert_eq!(line["line"], json!(i + 1));
            assert_eq!(line["id"], rec["_id"]);
        } else {
            assert_eq!(line["userName"], rec["username"], "line {}", i + 1);
        }
    }
    // The edge users with "" and null usernames fail (userName is required).
    assert!(failed >= 2, "{failed}");
    assert_eq!(code(&o), 1);
    let summary = format!(
        "{} records, {} ok, {failed} failed in ",
        records.len(),
        records.len() - failed
    );
    assert!(stderr(&o).contains(&summary), "{}", stderr(&o));
    assert!(
        stderr(&o).trim_end().ends_with("records/s)"),
        "{}",
        stderr(&o)
    );

    let sequential = run(
        &["bulk", "examples/trello.scimap", "--threads", "1"],
        &input,
    );
    assert_eq!(sequential.stdout, o.stdout);
}

#[test]
fn bulk_bad_and_blank_lines_are_error_lines() {
    let input = format!(
        "{}\nnot json\n\n   \n[1,2]\n{}\n",
        user_line("a1", "alice"),
        user_line("b2", "bob")
    );
    let o = run(&["bulk", "examples/trelica.scimap"], input.as_bytes());
    assert_eq!(code(&o), 1);
    let out = stdout_lines(&o);
    assert_eq!(out.len(), 6, "{}", stdout(&o));
    assert_eq!(out[0]["userName"], "alice");
    assert_eq!(out[5]["userName"], "bob");
    for (i, line) in out.iter().enumerate().take(5).skip(1) {
        assert_eq!(line["line"], json!(i + 1));
        assert!(line.get("id").is_none());
        let e = &line["error"]["errors"][0];
        assert_eq!(e["target"], Value::Null);
        assert!(e.get("line").is_none());
    }
    assert_eq!(out[2]["error"]["errors"][0]["code"], "scimap::empty-line");
    assert!(stderr(&o).contains("6 records, 2 ok, 4 failed in "));
}

#[test]
fn bulk_line_ends_bom_and_final_newline() {
    let a = user_line("a1", "alice");
    let b = user_line("b2", "bob");
    let lf = run(
        &["bulk", "examples/trelica.scimap"],
        format!("{a}\n{b}\n").as_bytes(),
    );
    assert_eq!(code(&lf), 0, "{}", stderr(&lf));
    assert_eq!(stdout_lines(&lf).len(), 2);
    for input in [
        format!("{a}\r\n{b}\r\n"),
        format!("{a}\n{b}"),
        format!("\u{feff}{a}\n{b}\n"),
    ] {
        let o = run(&["bulk", "examples/trelica.scimap"], input.as_bytes());
        assert_eq!(code(&o), 0, "{input:?}");
        assert_eq!(o.stdout, lf.stdout, "{input:?}");
    }
    let empty = run(&["bulk", "examples/trelica.scimap"], b"");
    assert_eq!((code(&empty), empty.stdout.len()), (0, 0));
    assert!(stderr(&empty).contains("0 records, 0 ok, 0 failed"));
    let newline = run(&["bulk", "examples/trelica.scimap"], b"\n");
    assert_eq!(code(&newline), 1);
    assert_eq!(
        stdout_lines(&newline)[0]["error"]["errors"][0]["code"],
        "scimap::empty-line"
    );
}

#[test]
fn bulk_files_groups_and_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out: PathBuf = dir.path().join("out.ndjson");
    let out_s = out.display().to_string();
    let o = scimap(&[
        "bulk",
        "examples/trello.scimap",
        "--group",
        "--input",
        "tests/fixtures/groups.ndjson",
        "--output",
        &out_s,
    ]);
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).expect("output file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines[0],
        json!({"schemas": [CORE_GROUP], "displayName": "Engineering"})
    );
    let input =
        std::fs::read_to_string(root().join("tests/fixtures/groups.ndjson")).expect("groups");
    assert_eq!(lines.len(), input.lines().count());

    let ok = run(
        &["bulk", "examples/trelica.scimap"],
        user_line("a1", "alice").as_bytes(),
    );
    assert_eq!(code(&ok), 0);
    assert_eq!(
        stdout(&ok),
        format!(
            "{}\n",
            json!({"schemas": [CORE_USER], "userName": "alice",
                   "emails": [{"type": "work", "value": "alice@example.com"}], "active": true})
        )
    );
    assert_eq!(
        code(&scimap(&["bulk", "examples/miro.scimap", "--group"])),
        2
    );
    assert_eq!(
        code(&scimap(&[
            "bulk",
            "examples/trello.scimap",
            "--input",
            "no/such.ndjson"
        ])),
        2
    );
}

/// A JSON array (first non-blank byte `[`) is read as records, streamed, with one output line
/// per item: the same lines as its items given as NDJSON, whatever the number of threads.
#[test]
fn bulk_reads_a_json_array_as_records() {
    let m = path("examples/trello.scimap");
    let ndjson: String = users().iter().map(|u| format!("{u}\n")).collect();
    let want = run(&["bulk", &m, "--threads", "1"], ndjson.as_bytes());
    assert_eq!(code(&want), 0, "{}", stderr(&want));
    assert_eq!(stdout(&want).lines().count(), users().len());
    let array = std::fs::read(root().join("examples/users.json")).expect("users.json");
    for threads in ["1", "3"] {
        let o = run(&["bulk", &m, "--threads", threads], &array);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&want), "threads {threads}");
        let o = scimap(&[
            "bulk",
            &m,
            "--input",
            "examples/users.json",
            "--threads",
            threads,
        ]);
        assert_eq!(stdout(&o), stdout(&want), "--input, threads {threads}");
    }
    // A byte order mark and blanks before the `[`.
    let mut framed = b"\xEF\xBB\xBF \r\n\t".to_vec();
    framed.extend(&array);
    framed.extend(b"\n\n");
    assert_eq!(stdout(&run(&["bulk", &m], &framed)), stdout(&want));
}

#[test]
fn bulk_array_items_fail_one_by_one_within_line_bytes() {
    let m = path("examples/trello.scimap");
    let long = format!("{{\"username\":\"{}\"}}", "x".repeat(200));
    let input = format!(
        "[{}, 7, {long}, {{\"username\": \"b\"}}, {{\"a\":1e400}}]",
        user_line("1", "a")
    );
    for threads in ["1", "2"] {
        let o = run(
            &[
                "bulk",
                &m,
                "--limit",
                "line-bytes=150",
                "--threads",
                threads,
            ],
            input.as_bytes(),
        );
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        let lines = stdout_lines(&o);
        assert_eq!(lines.len(), 5, "{}", stdout(&o));
        assert_eq!(lines[0]["userName"], "a");
        assert_eq!(lines[3]["userName"], "b");
        let error = |i: usize| {
            (
                lines[i]["line"].as_u64(),
                lines[i]["error"]["errors"][0]["code"]
                    .as_str()
                    .map(str::to_string),
            )
        };
        assert_eq!(error(1), (Some(2), Some("scimap::not-an-object".into())));
        assert_eq!(error(2), (Some(3), Some("scimap::limit".into())));
        assert_eq!(error(4).0, Some(5), "{}", lines[4]);
        assert!(
            stderr(&o).contains("5 records, 2 ok, 3 failed"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn bulk_array_that_breaks_off_writes_what_came_before_and_exits_2() {
    let m = path("examples/trello.scimap");
    for (input, why) in [
        (
            "[{\"username\":\"a\"} {\"username\":\"b\"}]",
            "expected `,` or `]`",
        ),
        (
            "[{\"username\":\"a\"}, {\"username\":",
            "the file ends inside a value",
        ),
        ("[{\"username\":\"a\"}] {}", "after the array"),
    ] {
        let o = run(&["bulk", &m], input.as_bytes());
        assert_eq!(code(&o), 2, "{input}");
        assert_eq!(stdout_lines(&o).len(), 1, "{input}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("error: cannot read input: not JSON at line 1")
                && stderr(&o).contains(why),
            "{input}: {}",
            stderr(&o)
        );
    }
}

/// The `[` is looked for in the first 64 KiB only: past that much blank, the input is NDJSON.
#[test]
fn bulk_looks_for_the_array_within_64_kib() {
    let m = path("examples/trello.scimap");
    let array = "[{\"username\":\"a\"}]";
    let near = format!("{}{array}", " ".repeat(60_000));
    let o = run(&["bulk", &m], near.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let far = format!("{}{array}", " ".repeat(70_000));
    let o = run(&["bulk", &m], far.as_bytes());
    assert_eq!(code(&o), 1, "one NDJSON line, an array: not a record");
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["error"]["errors"][0]["code"],
        "scimap::not-an-object"
    );
}

#[test]
fn bulk_line_bytes_limit_skips_only_the_long_line() {
    let long = user_line("l2", &"x".repeat(500));
    let input = format!(
        "{}\n{long}\n{}\n",
        user_line("a1", "alice"),
        user_line("b3", "bob")
    );
    let o = run(
        &[
            "bulk",
            "examples/trelica.scimap",
            "--limit",
            "line-bytes=300",
        ],
        input.as_bytes(),
    );
    assert_eq!(code(&o), 1);
    let out = stdout_lines(&o);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["userName"], "alice");
    assert_eq!(out[2]["userName"], "bob");
    assert_eq!(out[1]["line"], 2);
    let e = &out[1]["error"]["errors"][0];
    assert_eq!(
        (&e["target"], &e["code"]),
        (&Value::Null, &json!("scimap::limit"))
    );
    assert!(e["message"]
        .as_str()
        .is_some_and(|m| m.contains("line-bytes")));
}

/// One thread reads lines where they lie in its input buffer, several copy them into chunks:
/// the same answers either way, for CRLF lines and an over-long line read whole.
#[test]
fn bulk_answers_alike_on_one_thread_and_on_two() {
    let long = user_line("l2", &"x".repeat(500));
    let input = format!(
        "\u{feff}{}\r\n{long}\r\n{}\r\n{}",
        user_line("a1", "alice"),
        user_line("b3", "bob"),
        user_line("c4", "carol")
    );
    let outputs: Vec<Vec<u8>> = ["1", "2"]
        .iter()
        .map(|threads| {
            let o = run(
                &[
                    "bulk",
                    "examples/trelica.scimap",
                    "--threads",
                    threads,
                    "--limit",
                    "line-bytes=300",
                ],
                input.as_bytes(),
            );
            assert_eq!(code(&o), 1);
            let out = stdout_lines(&o);
            assert_eq!(out.len(), 4, "--threads {threads}");
            assert_eq!(out[0]["userName"], "alice");
            assert_eq!(out[1]["line"], 2);
            assert_eq!(out[1]["error"]["errors"][0]["code"], "scimap::limit");
            assert_eq!(out[2]["userName"], "bob");
            assert_eq!(out[3]["userName"], "carol");
            o.stdout
        })
        .collect();
    assert_eq!(outputs[0], outputs[1]);
}

// ---------------------------------------------------------------------------------------------
// functions and usage

#[test]
fn functions_lists_and_details() {
    let o = scimap(&["functions"]);
    assert_eq!(code(&o), 0);
    let list = stdout(&o);
    for name in [
        "upper",
        "trim",
        "coalesce",
        "normalizeDiacritics",
        "Time.Format",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(&format!("  {name} "))),
            "{name} missing"
        );
    }
    // Grouped under the catalogue's headings, each once, functions indented beneath.
    let headings: Vec<&str> = list.lines().filter(|l| l.ends_with(':')).collect();
    assert_eq!(
        headings,
        [
            "Strings:",
            "Numbers:",
            "Arrays and maps:",
            "Conversion and encoding:",
            "Date and time:"
        ]
    );
    let after = |heading: &str, name: &str| {
        let h = list.find(heading).expect("heading");
        let n = list.find(&format!("\n  {name} ")).expect("name");
        n > h
    };
    assert!(after("Strings:", "upper") && !after("Numbers:", "upper"));
    assert!(after("Date and time:", "Time.Format"));
    assert!(list
        .lines()
        .all(|l| l.is_empty() || l.ends_with(':') || l.starts_with("  ")));

    // A method by its short name; one several types share is named with them.
    let o = scimap(&["functions", "Format"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&scimap(&["functions", "Time.Format"])));
    assert!(stdout(&o).starts_with("t.Format("), "{}", stdout(&o));
    let o = scimap(&["functions", "Round"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("Time.Round") && stderr(&o).contains("Duration.Round"),
        "{}",
        stderr(&o)
    );
    let o = scimap(&["functions", "coalesce"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("coalesce("), "{}", stdout(&o));
    let o = scimap(&["functions", "uper"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("did you mean `upper`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let (_guard, m) = temp(".scimap", SIMPLE);
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["check"],
        vec!["check", "--format", "xml", m.as_str()],
        vec!["eval", m.as_str()],
        vec![
            "eval",
            m.as_str(),
            "--user",
            "examples/users.json",
            "--pick",
            "1",
            "--where",
            "a=b",
        ],
        vec![
            "eval",
            m.as_str(),
            "--user",
            "examples/users.json",
            "--where",
            "novalue",
        ],
        vec!["bulk", m.as_str(), "--threads", "0"],
        vec!["expr"],
        vec!["expr", "1", "--pick", "0"],
        // Options only where they apply.
        vec!["functions", "--now", "2025-01-01T00:00:00Z"],
        vec!["functions", "--limit", "steps=10"],
        vec!["check", "--now", "2025-01-01T00:00:00Z", m.as_str()],
        vec![
            "fmt",
            "--check",
            "--now",
            "2025-01-01T00:00:00Z",
            m.as_str(),
        ],
        vec!["--now", "2025-01-01T00:00:00Z", "expr", "1"],
    ] {
        let o = scimap(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

/// Each command's help lists the options it takes and no other; `--format` is described.
#[test]
fn help_shows_options_only_where_they_apply() {
    let help = |command: &str| stdout(&scimap(&[command, "--help"]));
    for (command, now, limit) in [
        ("check", false, true),
        ("eval", true, true),
        ("bulk", true, true),
        ("expr", true, true),
        ("functions", false, false),
        ("test", true, true),
        ("fmt", false, true),
    ] {
        let text = help(command);
        assert_eq!(text.contains("--now"), now, "{command}: {text}");
        assert_eq!(text.contains("--limit"), limit, "{command}: {text}");
    }
    let top = stdout(&scimap(&["--help"]));
    assert!(!top.contains("--now") && !top.contains("--limit"), "{top}");
    let check = help("check");
    let format = check
        .split("--format <FORMAT>")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .expect("a line after --format");
    assert!(format.contains("How to report"), "{check}");
    assert!(
        check.contains("json:") && check.contains("github:"),
        "{check}"
    );
}

// ---------------------------------------------------------------------------------------------
// completions and man pages

const SUBCOMMANDS: [&str; 8] = [
    "check",
    "eval",
    "bulk",
    "expr",
    "test",
    "functions",
    "fmt",
    "completions",
];

#[test]
fn completions_name_every_subcommand_and_option() {
    for shell in ["bash", "zsh", "fish"] {
        let o = scimap(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in SUBCOMMANDS
            .iter()
            .chain(&["--deny-warnings", "--threads", "--explain"])
        {
            // fish names long options without their dashes (`-l deny-warnings`).
            let word = if shell == "fish" {
                word.trim_start_matches('-')
            } else {
                word
            };
            assert!(script.contains(word), "{shell}: no `{word}`");
        }
        let mut words = script.split(|c: char| !c.is_alphanumeric());
        assert!(
            !words.any(|w| w == "man"),
            "{shell}: the hidden `man` is not completed"
        );
    }
    let o = scimap(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("bash"), "{}", stderr(&o));
}

/// What `cargo xtask man` runs: one page for the command, one for each subcommand.
#[test]
fn man_pages_come_from_the_same_definitions() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("man");
    let o = scimap(&["man", out.to_str().expect("UTF-8")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let main = std::fs::read_to_string(out.join("scimap.1")).expect("scimap.1");
    assert!(main.contains(".TH scimap 1"), "{main}");
    for command in SUBCOMMANDS {
        assert!(
            main.contains(&format!("scimap\\-{command}(1)")),
            "{command}"
        );
        let page = std::fs::read_to_string(out.join(format!("scimap-{command}.1")))
            .unwrap_or_else(|e| panic!("scimap-{command}.1: {e}"));
        assert!(page.contains(&format!(".TH scimap-{command} 1")), "{page}");
    }
    let check = std::fs::read_to_string(out.join("scimap-check.1")).expect("read");
    assert!(check.contains("deny\\-warnings"), "{check}");
    assert!(check.contains("How to report the diagnostics"), "{check}");
    // A hidden command: not among the commands the help lists.
    assert!(!stdout(&scimap(&["--help"])).contains("man "));
    assert_eq!(code(&scimap(&["man"])), 2, "DIR is required");
}

#[test]
fn plan_input_names_what_is_wrong_with_each_line() {
    let lines = concat!(
        "5\n",
        "{\"current\": null}\n",
        "{\"record\": [1], \"current\": null}\n",
        "{\"record\": {\"username\": \"ada\", \"state\": \"ACTIVATED\"}, \"current\": 7}\n",
        "{\"record\": {\"username\": \"ada\"}, \"current\": null, \"members\": [\"u1\"]}\n",
        "{\"record\": {\"username\": \"ada\", \"state\": \"ACTIVATED\"}, \"current\": {\"id\": \"u 1\", \"userName\": \"ada\", \"active\": false}}\n",
    );
    let trello = path("examples/trello.scimap");
    let out = run(
        &["plan", &trello, "--input", "-", "--threads", "1"],
        lines.as_bytes(),
    );
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let codes: Vec<&str> = got[..5]
        .iter()
        .map(|v| v["error"]["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "scimap::pair",
            "scimap::pair",
            "scimap::pair",
            "scimap::current",
            "scimap::pair"
        ]
    );
    for (i, v) in got[..5].iter().enumerate() {
        assert_eq!(v["line"], json!(i + 1));
    }
    assert_eq!(
        got[5],
        json!([{"method": "PATCH", "path": "/Users/u%201", "body": {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": true}]
        }}])
    );
}

#[test]
fn plan_current_must_be_one_object_and_its_errors_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.json");
    std::fs::write(&user, r#"{"username": "ada", "state": "ACTIVATED"}"#).unwrap();
    let trello = path("examples/trello.scimap");
    for (text, message) in [
        (
            r#"[{"id": "1"}]"#,
            "the current resource is an array, not a JSON object",
        ),
        ("{\"id\": ", "the current resource is not valid JSON"),
    ] {
        let current = dir.path().join("current.json");
        std::fs::write(&current, text).unwrap();
        let out = scimap(&[
            "plan",
            &trello,
            "--user",
            user.to_str().unwrap(),
            "--current",
            current.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 1, "{text}");
        let error: Value = serde_json::from_slice(&out.stdout).unwrap();
        let got = error["error"]["message"].as_str().unwrap();
        assert!(got.starts_with(message), "{text}: {got}");
    }
}
