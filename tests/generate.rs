//! Generated records (reference §generate), through the library (`scimap::generate`) and the
//! command (`scimap test --generate N`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scimap::generate::{self, Report, Settings, Status};
use scimap::{Kind, Limits, Mapping, Options};
use serde_json::Value;

/// The two silent bugs of issue #15: a fallback that is skipped when `displayname` is
/// missing, and a filter then `[0]`, which indexes each phone number rather than the list.
const BUGS: &str = r#"user {
  userName = $.username
  displayName = displayname != "" ? displayname : username
  phoneNumbers[type eq "work"].value = $.phoneNumbers[?@.type == 'work'][0].number
}
"#;

/// The same mapping as meant (the expression the checker's help gives for the path).
const FIXED: &str = r#"user {
  userName = $.username
  displayName = (displayname ?? "") != "" ? displayname : username
  phoneNumbers[type eq "work"].value = find(phoneNumbers ?? [], .type == "work")?.number
}
"#;

fn settings(records: usize, seed: u64) -> Settings {
    Settings {
        records,
        seed,
        ..Settings::default()
    }
}

fn run(source: &str, kind: Kind, records: usize) -> Report {
    let mapping = Mapping::compile(source).unwrap();
    generate::run(&mapping, kind, &settings(records, 1)).expect("the section exists")
}

fn entry<'r>(report: &'r Report, target: &str) -> &'r generate::EntryReport {
    report
        .entries
        .iter()
        .find(|e| e.target == target)
        .unwrap_or_else(|| panic!("no entry {target}"))
}

#[test]
fn the_two_silent_bugs_are_found() {
    let report = run(BUGS, Kind::User, 300);
    let phone = entry(&report, "phoneNumbers[type eq \"work\"].value");
    assert_eq!(phone.status(), Status::Unreachable);
    assert_eq!((phone.line, phone.column), (4, 40));
    assert_eq!(phone.present, 0);
    let why = phone.unreachable.as_deref().unwrap();
    assert!(
        why.contains("`phoneNumber` objects") && why.contains("`[0]`"),
        "{why}"
    );

    let display = entry(&report, "displayName");
    assert_eq!(display.status(), Status::AbsentWithInput);
    assert!(display.present > 0 && display.absent > 0);
    let example = display.absent_example.as_ref().unwrap();
    assert!(example.get("displayname").is_none(), "{example}");
    assert_eq!(display.absent_reads, ["username"]);
    // The example is what the mapping really does: no displayName for it.
    let mapping = Mapping::compile(BUGS).unwrap();
    let payload = mapping.evaluate_user(example).unwrap();
    assert!(payload.get("displayName").is_none(), "{payload}");

    assert!(report.failed(false), "an unreachable path fails the run");
    assert_eq!(entry(&report, "userName").status(), Status::NeverAbsent);
}

#[test]
fn the_fixed_mapping_is_clean_and_its_path_matches() {
    let report = run(FIXED, Kind::User, 300);
    assert!(!report.failed(true), "{report:#?}");
    assert_eq!(entry(&report, "displayName").status(), Status::NeverAbsent);
    let phone = entry(&report, "phoneNumbers[type eq \"work\"].value");
    assert_eq!(phone.status(), Status::SometimesAbsent);
    // The filter's literal `'work'` is among the generated phone types.
    assert!(phone.present > 0, "{phone:?}");
}

#[test]
fn a_filter_without_an_index_fails_on_two_work_phones() {
    let source = "user {\n  userName = $.username\n  \
                  phoneNumbers[type eq \"work\"].value = $.phoneNumbers[?@.type == 'work'].number\n}\n";
    let report = run(source, Kind::User, 1000);
    let phone = entry(&report, "phoneNumbers[type eq \"work\"].value");
    assert_eq!(phone.status(), Status::Failed);
    let failure = &phone.failures[0];
    assert_eq!(failure.code, "scimap::several-values");
    // Shrunk to the two work phones that make it fail, and nothing else of them.
    assert_eq!(
        failure.record["phoneNumbers"],
        serde_json::json!([{"type": "work", "number": null}, {"type": "work", "number": null}])
    );
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let mapping = Mapping::compile(BUGS).unwrap();
    let a = generate::run(&mapping, Kind::User, &settings(400, 7)).unwrap();
    let b = generate::run(&mapping, Kind::User, &settings(400, 7)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_json(), b.to_json());
    let c = generate::run(&mapping, Kind::User, &settings(400, 8)).unwrap();
    assert_ne!(
        entry(&a, "displayName").absent,
        entry(&c, "displayName").absent,
        "another seed, other records"
    );
}

#[test]
fn a_failing_record_is_shrunk_to_a_small_one() {
    let source =
        "user {\n  userName = $.username\n  title = lower(jobTitle) + upper(department)\n}\n";
    let report = run(source, Kind::User, 300);
    let title = entry(&report, "title");
    assert_eq!(title.status(), Status::Failed);
    let failure = &title.failures[0];
    assert_eq!(failure.code, "scimap::type-error");
    assert!(failure.message.contains("lower"), "{}", failure.message);
    assert!(failure.records > 0 && failure.shrink_steps > 0);
    // Only the fields every user has are left, each as short as it can be (but those whose
    // format JumpCloud fixes).
    let record = failure.record.as_object().unwrap();
    let mut keys: Vec<&str> = record.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "_id",
            "activated",
            "created",
            "email",
            "state",
            "suspended",
            "username"
        ]
    );
    assert_eq!(
        (&record["username"], &record["email"]),
        (&"a".into(), &"a".into())
    );
    // And it does fail so.
    let mapping = Mapping::compile(source).unwrap();
    let err = mapping.evaluate_user(&failure.record).unwrap_err();
    assert_eq!(err.errors[0].code, "scimap::type-error");
}

#[test]
fn constants_of_the_mapping_reach_the_records() {
    // `state == "ACTIVATED"` and `attr("costCenter")` see what they look for.
    let source =
        "user {\n  userName = $.username\n  active = state == \"ACTIVATED\" ? true : nil\n  \
                  title = attr(\"costCenter\")\n}\n";
    let report = run(source, Kind::User, 300);
    assert!(entry(&report, "active").present > 0);
    assert!(entry(&report, "title").present > 0);
    let group = "group {\n  displayName = $.name\n  externalId = attr(\"team\")\n}\n";
    let report = run(group, Kind::Group, 300);
    assert_eq!(report.kind, Kind::Group);
    assert_eq!(entry(&report, "displayName").status(), Status::NeverAbsent);
    assert!(entry(&report, "externalId").present > 0);
}

#[test]
fn formatted_fields_hold_what_jumpcloud_sends() {
    // Timestamps parse, `state` is one of three: no failure for what JumpCloud never sends.
    let source = "user {\n  userName = $.username\n  title = date(password_date ?? created).Format(\"2006\")\n  \
                  userType = {\"ACTIVATED\": \"a\", \"SUSPENDED\": \"s\", \"STAGED\": \"t\"}[state]\n}\n";
    let report = run(source, Kind::User, 500);
    assert!(!report.failed(true), "{report:#?}");
    assert_eq!(entry(&report, "title").status(), Status::NeverAbsent);
    assert_eq!(entry(&report, "userType").status(), Status::NeverAbsent);
}

#[test]
fn always_absent_is_a_warning() {
    let source = "user {\n  userName = $.username\n  title = username == \"\" ? \"x\" : nil\n}\n";
    let report = run(source, Kind::User, 200);
    let title = entry(&report, "title");
    assert_eq!(title.status(), Status::AlwaysAbsent);
    assert!(title.status().warns() && !title.status().fails());
    assert!(!report.failed(false));
    assert!(report.failed(true));
}

#[test]
fn a_hostile_mapping_or_tight_limits_stay_bounded() {
    // Every record exhausts its steps: each failure is shrunk within its bound.
    let source = "user {\n  userName = join(map(1..1000000, string(#)), \",\") + username\n}\n";
    let mapping = Mapping::compile(source).unwrap();
    let settings = Settings {
        records: 50,
        seed: 3,
        shrink_steps: 20,
    };
    let report = generate::run(&mapping, Kind::User, &settings).unwrap();
    let failure = &entry(&report, "userName").failures[0];
    assert_eq!(failure.code, "scimap::limit");
    assert_eq!(failure.records, 50);
    assert!(failure.shrink_steps <= 20);

    // Records nested deeper than `depth` fail whole, and say so.
    let options = Options {
        limits: Limits {
            depth: 2,
            string_bytes: 8,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mapping = Mapping::compile_with("user {\n  userName = $.username\n}\n", &options).unwrap();
    let report = generate::run(&mapping, Kind::User, &settings).unwrap();
    assert!(report
        .record_failures
        .iter()
        .all(|f| f.code == "scimap::limit"));
    assert!(!report.record_failures.is_empty());
    assert!(report.failed(false));

    // Many failing entries share one shrinking budget: 32 records' worth.
    let mut source =
        String::from("schema \"urn:example:x:2.0:User\"\nuser {\n  userName = $.username\n");
    for i in 0..40 {
        source.push_str(&format!(
            "  urn:example:x:2.0:User:a{i} = lower(displayname)\n"
        ));
    }
    source.push_str("}\n");
    let mapping = Mapping::compile(&source).unwrap();
    let settings = Settings {
        records: 100,
        seed: 1,
        shrink_steps: 5,
    };
    let report = generate::run(&mapping, Kind::User, &settings).unwrap();
    let spent: Vec<usize> = report
        .entries
        .iter()
        .flat_map(|e| &e.failures)
        .map(|f| f.shrink_steps)
        .collect();
    assert_eq!(spent.len(), 40);
    assert!(spent.iter().sum::<usize>() <= 32 * 5, "{spent:?}");
    assert_eq!(spent.last(), Some(&0), "the budget ran out: {spent:?}");

    // No such section: nothing to run.
    assert!(generate::run(&mapping, Kind::Group, &settings).is_none());
}

// ---------------------------------------------------------------------------------------------
// The command

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scimap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run scimap")
}

/// A mapping file of its own for each test (tests run in parallel).
fn mapping_file(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scimap-generate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn the_command_reports_the_bugs_and_fails() {
    let file = mapping_file("bugs.scimap", BUGS);
    let out = scimap(&["test", "--generate", "200", file.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(
        "  FAIL  phoneNumbers[type eq \"work\"].value (4:40): the path selects nothing in any user record"
    ), "{text}");
    assert!(
        text.contains("  WARN  displayName (3:17): absent for ")
            && text.contains("although the record holds `username`"),
        "{text}"
    );
    assert!(text.ends_with("\n2 passed, 1 failed\n"), "{text}");
}

#[test]
fn the_command_is_deterministic_and_speaks_json() {
    let file = mapping_file("bugs-json.scimap", BUGS);
    let args = [
        "test",
        "--generate",
        "150",
        "--seed",
        "42",
        "--format",
        "json",
        file.to_str().unwrap(),
    ];
    let (a, b) = (scimap(&args), scimap(&args));
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(a.stdout, b.stdout, "same seed, same report");
    let json: Value = serde_json::from_slice(&a.stdout).unwrap();
    let report = &json[0];
    assert_eq!(report["kind"], "user");
    assert_eq!(report["records"], 150);
    assert_eq!(report["seed"], 42);
    assert_eq!(report["failed"], true);
    assert_eq!(report["file"], file.display().to_string());
    let statuses: Vec<&str> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["never-absent", "absent-with-input", "unreachable"]
    );
}

#[test]
fn warnings_fail_only_when_denied() {
    let source = "user {\n  userName = $.username\n  displayName = displayname != \"\" ? displayname : username\n}\n";
    let file = mapping_file("warn.scimap", source);
    let path = file.to_str().unwrap();
    let out = scimap(&["test", "--generate", "100", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("\n2 passed, 0 failed\n"));
    let out = scimap(&["test", "--generate", "100", "--deny-warnings", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("\n1 passed, 1 failed\n"));
}

#[test]
fn the_seed_apps_run_clean() {
    let out = scimap(&[
        "test",
        "--generate",
        "300",
        "examples/miro.scimap",
        "examples/monday.scimap",
        "examples/trelica.scimap",
        "examples/trello.scimap",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("FAIL") && !text.contains("WARN"), "{text}");
    // Both sections of the apps that have groups.
    assert!(text.contains("examples/trello.scimap: group section, 300 generated records (seed 1)"));
    assert!(text.ends_with("\n40 passed, 0 failed\n"), "{text}");
}

#[test]
fn a_mapping_that_does_not_compile_fails_with_its_diagnostics() {
    let file = mapping_file("broken.scimap", "user {\n  usrName = $.username\n}\n");
    let out = scimap(&["test", "--generate", "10", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scimap::unknown-target"));
    assert!(stdout(&out).ends_with("0 passed, 0 failed\n"));
}
