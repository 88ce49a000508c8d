//! `scimap test` end to end (reference §testing): discovery, the reports in each format,
//! `--bless`, coverage, LCOV, exit codes, and hostile test files.

use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scimap_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run scimap")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8")
}

/// The issue's silent bug: the `else` side is meant for users without a display name, but an
/// absent one is `!= ""`, so those users get no displayName at all.
const MAPPING: &str = r#"user {
  userName    = $.username
  displayName = displayname != "" ? displayname : trim(firstname + " " + lastname)
}
"#;

const TESTS: &str = r#"# The display name tests.
fixtures = "users.ndjson"

[[case]]
name = "with a display name"
fixture = { line = 1 }
expect = { "/displayName" = "Ada L." }

[[case]]
name = "without one"
fixture = { where = { username = "bo" } }
expect = { "/userName" = "bo" }
"#;

const USERS: &str = r#"{"_id": "1", "username": "ada", "displayname": "Ada L.", "firstname": "Ada", "lastname": "Lovelace"}
{"_id": "2", "username": "bo", "firstname": "Bo", "lastname": "Diddley"}
"#;

/// A directory holding `display.scimap`, `display.test.toml` and `users.ndjson`.
fn project(tests: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("display.scimap"), MAPPING).unwrap();
    std::fs::write(dir.path().join("display.test.toml"), tests).unwrap();
    std::fs::write(dir.path().join("users.ndjson"), USERS).unwrap();
    dir
}

#[test]
fn the_seed_apps_pass_with_full_coverage() {
    let o = scimap_in(
        root(),
        &["test", "examples", "--coverage", "--min-coverage", "100"],
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for app in ["miro", "monday", "trelica", "trello"] {
        assert!(
            out.contains(&format!("examples/{app}.test.toml: ")),
            "{out}"
        );
        assert!(
            out.contains(&format!("coverage of examples/{app}.scimap: 100.0%")),
            "{out}"
        );
    }
    let last = out.lines().last().unwrap();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "{out}"
    );
}

#[test]
fn coverage_shows_the_fallback_never_taken_and_fails_below_the_minimum() {
    let dir = project(TESTS);
    let o = scimap_in(dir.path(), &["test", "--coverage"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("coverage of ./display.scimap: 75.0% (entries 2/2, branch sides 1/2)"),
        "{out}"
    );
    assert!(
        out.contains("./display.scimap:3:17: `?:` else never taken: displayname != \"\" ? displayname : trim(firstname + \" \" + las…"),
        "{out}"
    );
    assert!(out.ends_with("2 passed, 0 failed\n"), "{out}");

    let o = scimap_in(
        dir.path(),
        &["test", "display.scimap", "--min-coverage", "80"],
    );
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("coverage of display.scimap is 75.0%, below --min-coverage 80%"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn lcov_is_written_and_never_over_an_input() {
    let dir = project(TESTS);
    let o = scimap_in(dir.path(), &["test", ".", "--lcov", "cov.info"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lcov = std::fs::read_to_string(dir.path().join("cov.info")).unwrap();
    assert_eq!(
        lcov,
        "TN:\nSF:./display.scimap\nBRDA:3,0,0,2\nBRDA:3,0,1,-\nBRF:2\nBRH:1\nDA:2,2\nDA:3,1\nLF:2\nLH:2\nend_of_record\n"
    );
    for input in ["display.scimap", "users.ndjson", "display.test.toml"] {
        let before = std::fs::read(dir.path().join(input)).unwrap();
        let o = scimap_in(dir.path(), &["test", "--lcov", input]);
        assert_eq!(code(&o), 2, "{input}");
        assert!(stderr(&o).contains("is an input of the tests: not overwritten"));
        assert_eq!(std::fs::read(dir.path().join(input)).unwrap(), before);
    }
}

#[test]
fn a_wrong_value_is_reported_at_its_entry_in_every_format() {
    let tests = format!(
        "{TESTS}\n[[case]]\nname = \"the bug\"\nfixture = {{ id = \"2\" }}\nexpect = {{ \"/displayName\" = \"Bo Diddley\" }}\n"
    );
    let dir = project(&tests);
    let o = scimap_in(dir.path(), &["test"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        "FAIL ./display.test.toml:14: the bug\n  payload /displayName: expected \"Bo Diddley\", got nothing\n    from `displayName` at ./display.scimap:3:17\n./display.test.toml: 2 passed, 1 failed\n2 passed, 1 failed\n"
    );

    let o = scimap_in(dir.path(), &["test", "--format", "github"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        "::error file=./display.scimap,line=3,col=17,title=scimap test%3A the bug::payload /displayName: expected \"Bo Diddley\", got nothing (case \"the bug\", ./display.test.toml:14)\n"
    );
    assert_eq!(stderr(&o), "2 passed, 1 failed\n");

    let o = scimap_in(dir.path(), &["test", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(
        (doc["passed"].as_u64(), doc["failed"].as_u64()),
        (Some(2), Some(1))
    );
    let case = &doc["files"][0]["cases"][2];
    assert_eq!(case["passed"], false);
    assert_eq!(
        case["mismatches"][0],
        serde_json::json!({"what": "payload", "path": "/displayName", "expected": "Bo Diddley",
            "actual": null, "entry": {"target": "displayName", "file": "./display.scimap", "line": 3, "column": 17}})
    );

    let o = scimap_in(dir.path(), &["test", "--format", "junit"]);
    let xml = stdout(&o);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"scimap test\" tests=\"3\" failures=\"1\">"), "{xml}");
    assert!(xml.contains("<testcase name=\"with a display name\" classname=\"./display.test.toml\" file=\"./display.test.toml\" line=\"4\"/>"), "{xml}");
    assert!(xml.contains("<failure message=\"payload /displayName: expected &quot;Bo Diddley&quot;, got nothing\">"), "{xml}");
    assert!(xml.ends_with("</testsuites>\n"), "{xml}");
}

#[test]
fn bless_writes_snapshots_into_the_test_file_only() {
    let tests = "# kept\nfixtures = \"users.ndjson\"\n\n[[case]]\nname = \"new\" # kept too\nfixture = { line = 2 }\n";
    let dir = project(tests);
    let o = scimap_in(dir.path(), &["test"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains(
        "the case expects nothing: `scimap test --bless` writes this payload as its snapshot"
    ));
    let mapping = std::fs::read(dir.path().join("display.scimap")).unwrap();
    let users = std::fs::read(dir.path().join("users.ndjson")).unwrap();
    let o = scimap_in(dir.path(), &["test", "--bless"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).ends_with("1 passed, 0 failed\n"));
    let blessed = std::fs::read_to_string(dir.path().join("display.test.toml")).unwrap();
    assert_eq!(
        blessed,
        "# kept\nfixtures = \"users.ndjson\"\n\n[[case]]\nname = \"new\" # kept too\nfixture = { line = 2 }\npayload = \"\"\"\n{\n  \"schemas\": [\n    \"urn:ietf:params:scim:schemas:core:2.0:User\"\n  ],\n  \"userName\": \"bo\"\n}\n\"\"\"\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("display.scimap")).unwrap(),
        mapping
    );
    assert_eq!(
        std::fs::read(dir.path().join("users.ndjson")).unwrap(),
        users
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    assert_eq!(code(&scimap_in(dir.path(), &["test"])), 0);
}

#[test]
fn discovery_and_usage_errors() {
    let dir = project(TESTS);
    std::fs::create_dir_all(dir.path().join("nested/.hidden")).unwrap();
    std::fs::write(dir.path().join("nested/.hidden/x.test.toml"), "not toml [").unwrap();
    std::fs::write(
        dir.path().join("nested/other.test.toml"),
        "mapping = \"../display.scimap\"\n[[case]]\nname = \"x\"\nrecord = { username = \"z\" }\nexpect = { \"/userName\" = \"z\" }\n",
    )
    .unwrap();
    let o = scimap_in(dir.path(), &["test"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("./nested/other.test.toml: 1 passed, 0 failed"));
    assert!(stdout(&o).ends_with("3 passed, 0 failed\n"));

    let o = scimap_in(dir.path(), &["test", "missing.test.toml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("error: cannot read missing.test.toml"));
    let o = scimap_in(dir.path(), &["test", "users.ndjson"]);
    assert_eq!(code(&o), 2);
    let empty = tempfile::tempdir().unwrap();
    let o = scimap_in(empty.path(), &["test"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no test files (*.test.toml) in ."),
        "{}",
        stderr(&o)
    );
    let o = scimap_in(dir.path(), &["test", "--min-coverage", "101"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn broken_test_files_fail_with_their_place() {
    let cases = [
        (
            "[[case]]\nname = \"a\"\nrecord = { username = \"x\" }\nexpect = { \"/userName\" = \n",
            "display.test.toml:4:25: not TOML",
        ),
        (
            "[[case]]\nname = \"a\"\nfixture = { line = 9 }\n",
            "display.test.toml:1:1: case \"a\": a `fixture` needs `fixtures",
        ),
        (
            "fixtures = \"nope.ndjson\"\n",
            "display.test.toml: fixtures: cannot read",
        ),
        (
            "mapping = \"nope.scimap\"\n",
            "display.test.toml: cannot read",
        ),
        (
            &format!("x = {}\n", "[".repeat(50_000)),
            "display.test.toml:",
        ),
        (
            &format!(
                "[[case]]\nname = \"a\"\nrecord = '{}'\n",
                "{\"a\":".repeat(50_000)
            ),
            "nested deeper than the limit `depth` (128)",
        ),
        // A control character from the file is shown escaped, never sent to the terminal.
        (
            "[[case]]\nname = \"\\u001b[31mred\"\n",
            "case \"\\u{1b}[31mred\" needs a `record`",
        ),
    ];
    for (text, message) in cases {
        let dir = project(text);
        let o = scimap_in(dir.path(), &["test", "display.test.toml"]);
        assert_eq!(code(&o), 1, "{text:.60}: {}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with("ERROR "), "{out}");
        assert!(out.contains(message), "{text:.60}: {out}");
        assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
    }
    // A mapping that does not compile: its diagnostics on stderr.
    let dir = project(TESTS);
    std::fs::write(
        dir.path().join("display.scimap"),
        "user {\n  usrName = $.username\n}\n",
    )
    .unwrap();
    let o = scimap_in(dir.path(), &["test"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("scimap::unknown-target"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("ERROR ./display.scimap does not compile"),
        "{}",
        stdout(&o)
    );
}
