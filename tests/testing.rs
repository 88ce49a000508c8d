//! The library's test runner (`scimap::testing`): the test file format, running cases, the
//! differences reported, coverage and LCOV, `bless`, and hostile test files.

use scimap::testing::{self, Report, RunOptions, TestFile};
use scimap::{Limits, Options};
use serde_json::json;

fn parse(text: &str) -> TestFile {
    TestFile::parse(text, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn run_with(source: &str, text: &str, fixtures: Option<&[u8]>, coverage: bool) -> Report {
    let file = parse(text);
    let mut fixtures = fixtures;
    let fixtures = fixtures.as_mut().map(|f| f as &mut dyn std::io::BufRead);
    let records = testing::records(&file, fixtures, &Limits::default()).unwrap();
    let options = RunOptions {
        threads: 2,
        coverage,
    };
    testing::run(source, &Options::default(), &file, &records, &options).unwrap()
}

fn run(source: &str, text: &str) -> Report {
    run_with(source, text, None, false)
}

const TRELLO: &str = r#"app "Trello" {
  updatable = [active]
}

user {
  userName       = $.username
  name.formatted = trim((firstname ?? "") + " " + (lastname ?? ""))
  displayName    = $.displayname
  active         = state == "ACTIVATED"
  emails[type eq "work"].value = $.email
}
"#;

#[test]
fn partial_absent_and_whole_payload_expectations_pass_and_fail() {
    let report = run(
        TRELLO,
        r#"
[[case]]
name = "partial"
record = { username = "ada", firstname = "Ada", state = "ACTIVATED", email = "ada@x.example" }
expect = { "/userName" = "ada", "/active" = true, "/emails/0/value" = "ada@x.example" }
absent = ["/displayName"]

[[case]]
name = "snapshot"
record = '{"username": "bo", "state": "SUSPENDED", "displayname": null}'
payload = '''
{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bo", "active": false}
'''

[[case]]
name = "wrong"
record = { username = "cy", lastname = "Young", state = "ACTIVATED" }
expect = { "/name/formatted" = "Cy Young", "/active" = true }
absent = ["/userName"]
"#,
    );
    assert_eq!((report.passed(), report.failed()), (2, 1), "{report:#?}");
    let wrong = &report.cases[2];
    assert_eq!(wrong.name, "wrong");
    assert_eq!(wrong.line, 15);
    let paths: Vec<_> = wrong.mismatches.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, ["/name/formatted", "/userName"]);
    let m = &wrong.mismatches[0];
    assert_eq!(m.expected, Some(json!("Cy Young")));
    assert_eq!(m.actual, Some(json!("Young")));
    // Blamed on the entry that wrote the value, at its line in the mapping.
    let entry = m.entry.as_ref().unwrap();
    assert_eq!((entry.target.as_str(), entry.line), ("name.formatted", 7));
    assert_eq!(wrong.mismatches[1].expected, None);
    assert_eq!(wrong.mismatches[1].actual, Some(json!("cy")));
}

#[test]
fn a_snapshot_diff_names_each_path_and_both_values() {
    let report = run(
        TRELLO,
        r#"
[[case]]
name = "snapshot"
record = { username = "bo", state = "ACTIVATED", displayname = "Bo" }
payload = '''
{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bo", "active": false, "title": "x"}
'''
"#,
    );
    let found: Vec<_> = report.cases[0]
        .mismatches
        .iter()
        .map(|m| (m.path.as_str(), m.expected.clone(), m.actual.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("/title", Some(json!("x")), None),
            ("/displayName", None, Some(json!("Bo"))),
            ("/active", Some(json!(false)), Some(json!(true))),
        ]
    );
    assert_eq!(
        report.cases[0].mismatches[2].entry.as_ref().unwrap().line,
        9
    );
}

#[test]
fn expected_failures_match_target_and_code() {
    let source = "user {\n  userName = $.username\n  title = lower(jobTitle)\n}\n";
    let report = run(
        source,
        r#"
[[case]]
name = "no title"
record = { username = "ada" }
errors = [{ target = "title", code = "scimap::type-error" }]

[[case]]
name = "wrong code"
record = { username = "ada" }
errors = [{ code = "scimap::nil-access" }]

[[case]]
name = "does not fail"
record = { username = "ada", jobTitle = "CTO" }
errors = [{ target = "title" }]

[[case]]
name = "fails unexpectedly"
record = { username = "ada" }
expect = { "/userName" = "ada" }
"#,
    );
    let passed: Vec<bool> = report.cases.iter().map(|c| c.passed()).collect();
    assert_eq!(passed, [true, false, false, false]);
    let unexpected = &report.cases[3].mismatches[0];
    assert_eq!(unexpected.what, "errors");
    assert_eq!(unexpected.entry.as_ref().unwrap().line, 3);
    assert_eq!(
        unexpected.actual.as_ref().unwrap()["code"],
        "scimap::type-error"
    );
}

#[test]
fn plans_are_expected_against_a_current_resource() {
    let report = run(
        TRELLO,
        r#"
[[case]]
name = "suspended"
record = { username = "ada", state = "SUSPENDED" }
current = { id = "42", userName = "ADA", active = true }
plan = '''
[{"method": "PATCH", "path": "/Users/42", "body": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "path": "active", "value": false}]}}]
'''

[[case]]
name = "nothing to send"
record = { username = "ada", state = "ACTIVATED" }
current = '{"id": "42", "userName": "someone else", "active": true}'
plan = "[]"

[[case]]
name = "wrong plan"
record = { username = "ada", state = "ACTIVATED" }
current = { id = "42", userName = "ada", active = false }
plan = "[]"
"#,
    );
    let passed: Vec<bool> = report.cases.iter().map(|c| c.passed()).collect();
    assert_eq!(passed, [true, true, false], "{report:#?}");
    let m = &report.cases[2].mismatches[0];
    assert_eq!(
        (m.what, m.path.as_str(), m.expected.clone()),
        ("plan", "/0", None)
    );
}

#[test]
fn fixtures_are_picked_by_line_id_and_fields() {
    let fixtures = br#"{"_id": "a1", "username": "ada", "state": "ACTIVATED", "n": 5}
{"_id": "b2", "username": "bo", "state": "SUSPENDED", "n": 6}
"#;
    let text = r#"
fixtures = "users.ndjson"

[[case]]
name = "line"
fixture = { line = 2 }
expect = { "/userName" = "bo" }

[[case]]
name = "id"
fixture = { id = "a1" }
expect = { "/userName" = "ada" }

[[case]]
name = "where"
fixture = { where = { state = "SUSPENDED", n = 6 } }
expect = { "/userName" = "bo", "/active" = false }
"#;
    let report = run_with(TRELLO, text, Some(fixtures), false);
    assert_eq!((report.passed(), report.failed()), (3, 0), "{report:#?}");

    let missing = parse("fixtures = \"f\"\n[[case]]\nname = \"x\"\nfixture = { id = \"zz\" }\n");
    let e = testing::records(&missing, Some(&mut &fixtures[..]), &Limits::default()).unwrap_err();
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("no record has _id = \"zz\""), "{e}");
    let none = testing::records(&missing, None, &Limits::default()).unwrap_err();
    assert!(none.message.contains("fixtures"), "{none}");

    // Fixtures are read as `eval` reads a record file: not JSON, or a record over a limit.
    let by_line = parse("fixtures = \"f\"\n[[case]]\nname = \"x\"\nfixture = { line = 2 }\n");
    let e =
        testing::records(&by_line, Some(&mut &b"{}\nxyz\n"[..]), &Limits::default()).unwrap_err();
    assert!(
        e.message
            .starts_with("case \"x\": the fixtures file: not JSON"),
        "{e}"
    );
    let small = Limits {
        line_bytes: 40,
        ..Limits::default()
    };
    let e = testing::records(&by_line, Some(&mut &fixtures[..]), &small).unwrap_err();
    assert!(
        e.message
            .contains("the fixture at line 2: the record is over the limit `line-bytes` (40)"),
        "{e}"
    );
}

#[test]
fn each_case_may_fix_its_own_clock() {
    let source = "user {\n  userName = $.username\n  title = now().Format(\"2006\")\n}\n";
    let report = run(
        source,
        r#"
now = 2020-01-01T00:00:00Z

[[case]]
name = "file clock"
record = { username = "a" }
expect = { "/title" = "2020" }

[[case]]
name = "own clock"
record = { username = "a" }
now = "2031-06-01T12:00:00+02:00"
expect = { "/title" = "2031" }
"#,
    );
    assert_eq!((report.passed(), report.failed()), (2, 0), "{report:#?}");
}

#[test]
fn a_case_without_expectations_fails_until_blessed() {
    let text = "# kept\n[[case]]\nname = \"new\" # kept too\nrecord = { username = \"ada\", state = \"ACTIVATED\" }\n";
    let report = run(TRELLO, text);
    assert_eq!(report.failed(), 1);
    let payload = report.cases[0].payload.clone().unwrap();
    let blessed = testing::bless(text, &[(0, "payload", &payload)]).unwrap();
    assert!(
        blessed.starts_with("# kept\n[[case]]\nname = \"new\" # kept too\n"),
        "{blessed}"
    );
    assert!(blessed.contains("\"userName\": \"ada\""), "{blessed}");
    let again = run(TRELLO, &blessed);
    assert_eq!((again.passed(), again.failed()), (1, 0), "{blessed}");
}

/// The issue's silent bug: the fallback of `displayName` is written for users without a display
/// name, but `displayname != ""` is true when it is absent, so the fallback is never taken and
/// those users get no displayName. Tests that cover only users with and without one pass;
/// coverage shows the `else` side never ran.
#[test]
fn coverage_finds_the_fallback_that_is_never_taken() {
    let source = r#"user {
  userName    = $.username
  displayName = displayname != "" ? displayname : trim(firstname + " " + lastname)
  title       = $.jobTitle
}
"#;
    let text = r#"
[[case]]
name = "with a display name"
record = { username = "ada", displayname = "Ada L.", firstname = "Ada", lastname = "Lovelace" }
expect = { "/displayName" = "Ada L." }

[[case]]
name = "without one"
record = { username = "bo", firstname = "Bo", lastname = "Diddley" }
expect = { "/userName" = "bo" }
"#;
    let report = run_with(source, text, None, true);
    assert_eq!(report.failed(), 0);
    let coverage = report.coverage.unwrap();
    let uncovered: Vec<_> = coverage
        .entries
        .iter()
        .filter(|e| e.hits == 0)
        .map(|e| (e.target.as_str(), e.line))
        .collect();
    assert_eq!(uncovered, [("title", 4)]);
    let branches: Vec<_> = coverage
        .branches
        .iter()
        .map(|b| (b.kind, b.side, b.line, b.column, b.hits))
        .collect();
    assert_eq!(
        branches,
        [("?:", "then", 3, 17, 2), ("?:", "else", 3, 17, 0)]
    );
    assert!(coverage.branches[1]
        .excerpt
        .starts_with("displayname != \"\" ?"));
    // A case that does give the fallback's input shows the bug: displayName absent.
    let bug = run(
        source,
        "[[case]]\nname = \"no display name\"\nrecord = { username = \"bo\", firstname = \"Bo\", lastname = \"D\" }\nexpect = { \"/displayName\" = \"Bo D\" }\n",
    );
    assert_eq!(bug.cases[0].mismatches[0].actual, None);
    assert_eq!(bug.cases[0].mismatches[0].entry.as_ref().unwrap().line, 3);
}

#[test]
fn every_kind_of_branch_is_covered_side_by_side() {
    let source = r#"user {
  let given = firstname ?? "?"
  userName = $.username
  active = state == "ACTIVATED" and not suspended
  title = (jobTitle != nil or department != nil) ? "staff" : "guest"
  nickName = given
  phoneNumbers.value = find(phoneNumbers ?? [], .type == "work")?.number
  locale = if state == "ACTIVATED" { "en" } else { "fr" }
}
"#;
    let text = r#"
[[case]]
name = "one"
record = '{"username": "a", "state": "ACTIVATED", "suspended": false, "jobTitle": "CTO", "phoneNumbers": [{"type": "work", "number": "1"}]}'
expect = { "/active" = true }
"#;
    let coverage = run_with(source, text, None, true).coverage.unwrap();
    let sides: Vec<_> = coverage
        .branches
        .iter()
        .map(|b| (b.line, b.kind, b.side, b.hits))
        .collect();
    assert_eq!(
        sides,
        [
            (2, "??", "left", 0),
            (2, "??", "right", 1),
            (4, "and", "short-circuit", 0),
            (4, "and", "right operand", 1),
            (5, "or", "short-circuit", 1),
            (5, "or", "right operand", 0),
            (5, "?:", "then", 1),
            (5, "?:", "else", 0),
            (7, "closure", "empty input", 0),
            (7, "closure", "non-empty input", 1),
            (7, "??", "left", 1),
            (7, "??", "right", 0),
            (8, "?:", "then", 1),
            (8, "?:", "else", 0),
        ]
    );
    let lcov = coverage.lcov("m.scimap");
    assert!(lcov.starts_with("TN:\nSF:m.scimap\n"), "{lcov}");
    assert!(lcov.contains("BRDA:2,0,0,-\nBRDA:2,0,1,1\n"), "{lcov}");
    assert!(lcov.contains("DA:3,1\n"), "{lcov}");
    assert!(lcov.ends_with("end_of_record\n"), "{lcov}");
}

#[test]
fn test_file_errors_name_line_and_column() {
    let cases = [
        ("[[case]]\nname = \"a\"\nrecrod = {}\n", (3, 1), "unknown key `recrod` in a case (did you mean `record`?)"),
        ("[[case]]\nname = \"a\"\nrecord = {\n", (3, 11), "not TOML"),
        ("[[case]]\nname = \"a\"\nrecord = '{\"a\": }'\n", (3, 10), "`record` is not JSON"),
        ("[[case]]\nname = \"a\"\nrecord = {}\nexpect = { \"name.formatted\" = 1 }\n", (4, 12), "write \"/name/formatted\""),
        ("[[case]]\nname = \"a\"\n", (1, 1), "needs a `record` or a `fixture`"),
        ("[[case]]\nname = \"a\"\nrecord = {}\nnow = 2024-01-01\n", (4, 7), "RFC 3339"),
        ("[[case]]\nname = \"a\"\nrecord = {}\n[[case]]\nname = \"a\"\nrecord = {}\n", (4, 1), "two cases are named \"a\""),
        ("[[case]]\nname = \"a\"\nrecord = {}\nerrors = [{ code = \"x\" }]\nexpect = { \"/a\" = 1 }\n", (5, 10), "has no payload or plan"),
    ];
    for (text, at, message) in cases {
        let e = TestFile::parse(text, &Limits::default()).unwrap_err();
        assert_eq!((e.line, e.column), at, "{text:?}: {e}");
        assert!(e.message.contains(message), "{text:?}: {e}");
    }
}

#[test]
fn hostile_test_files_fail_cleanly() {
    // Deeply nested TOML: the parser's own recursion limit.
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(TestFile::parse(&deep, &Limits::default()).is_err());
    // Deeply nested JSON in a string: refused before serde_json recurses.
    let json = format!(
        "[[case]]\nname = \"a\"\nrecord = '{}'\n",
        "[".repeat(1_000_000)
    );
    let e = TestFile::parse(&json, &Limits::default()).unwrap_err();
    assert!(e.message.contains("limit `depth`"), "{e}");
    // Over the size read.
    let huge = "#".repeat(testing::MAX_FILE_BYTES + 1);
    let e = TestFile::parse(&huge, &Limits::default()).unwrap_err();
    assert!(e.message.contains("bytes"), "{e}");
    // Many cases: each is run.
    let mut many = String::new();
    for i in 0..2_000 {
        many.push_str(&format!(
            "[[case]]\nname = \"c{i}\"\nrecord = {{ username = \"u{i}\" }}\nexpect = {{ \"/userName\" = \"u{i}\" }}\n"
        ));
    }
    let report = run(TRELLO, &many);
    assert_eq!((report.passed(), report.failed()), (2_000, 0));
}
