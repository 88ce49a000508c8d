//! The seed apps' mappings over the fixture users and groups: the library, `scimap bulk` and
//! `scimap eval` must all give the payloads in `tests/golden/`. Their update plans, for the
//! (record, current resource) cases of `tests/golden/plans/APP.cases.json`: the library,
//! `scimap plan` and `scimap plan --input` must all give the plans in `APP.plans.json`.
//!
//! After a deliberate change, review and rewrite the golden files with
//! `SCIMAP_BLESS=1 cargo test --test golden`.

use scimap::{Kind, Mapping, Options};
use serde_json::{json, Map, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Command;

const APPS: [&str; 4] = ["trello", "monday", "miro", "trelica"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mapping(app: &str) -> Mapping {
    let path = root().join("examples").join(format!("{app}.scimap"));
    let source = std::fs::read_to_string(&path).unwrap();
    Mapping::compile_with(&source, &Options::default())
        .unwrap_or_else(|e| panic!("{app}: {:#?}", e.diagnostics))
}

fn fixture(kind: Kind) -> PathBuf {
    root().join("tests/fixtures").join(match kind {
        Kind::User => "users.ndjson",
        Kind::Group => "groups.ndjson",
    })
}

fn golden_path(app: &str, kind: Kind) -> PathBuf {
    let kind = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    root()
        .join("tests/golden")
        .join(format!("{app}.{kind}.ndjson"))
}

/// Library output: one line per input line.
fn library_output(m: &Mapping, kind: Kind, input: &Path) -> String {
    let text = std::fs::read_to_string(input).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut buf = Vec::new();
        m.evaluate_line(kind, line.as_bytes(), i + 1, &mut buf);
        out.push_str(std::str::from_utf8(&buf).unwrap());
        out.push('\n');
    }
    out
}

fn check_golden(app: &str, kind: Kind, actual: &str) {
    let path = golden_path(app, kind);
    if std::env::var_os("SCIMAP_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SCIMAP_BLESS=1 to create it)",
            path.display()
        )
    });
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            a,
            e,
            "{app}: line {} differs from {}",
            i + 1,
            path.display()
        );
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "{app}: line count"
    );
}

#[test]
fn library_payloads_match_the_golden_files() {
    for app in APPS {
        let m = mapping(app);
        assert!(m.warnings().is_empty(), "{app}: {:#?}", m.warnings());
        for kind in [Kind::User, Kind::Group] {
            if m.has_section(kind) {
                check_golden(app, kind, &library_output(&m, kind, &fixture(kind)));
            }
        }
    }
}

#[test]
fn bulk_gives_the_library_payloads() {
    for app in APPS {
        let m = mapping(app);
        for kind in [Kind::User, Kind::Group] {
            if !m.has_section(kind) {
                continue;
            }
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimap"));
            cmd.arg("bulk")
                .arg(root().join("examples").join(format!("{app}.scimap")))
                .arg("--input")
                .arg(fixture(kind));
            if kind == Kind::Group {
                cmd.arg("--group");
            }
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(stdout, library_output(&m, kind, &fixture(kind)), "{app}");
        }
    }
}

#[test]
fn eval_gives_the_library_payload_for_each_picked_user() {
    let input = fixture(Kind::User);
    let text = std::fs::read_to_string(&input).unwrap();
    for app in APPS {
        let m = mapping(app);
        for (i, line) in text.lines().enumerate().step_by(9) {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_scimap"))
                .arg("eval")
                .arg(root().join("examples").join(format!("{app}.scimap")))
                .arg("--user")
                .arg(&input)
                .arg("--pick")
                .arg(i.to_string())
                .output()
                .unwrap();
            let printed: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                    panic!(
                        "{app} pick {i}: {e}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    )
                });
            match m.evaluate_user(&record) {
                Ok(payload) => {
                    assert_eq!(printed, payload, "{app} pick {i}");
                    assert_eq!(out.status.code(), Some(0));
                }
                Err(e) => {
                    assert_eq!(printed, e.to_json(None, None), "{app} pick {i}");
                    assert_eq!(out.status.code(), Some(1));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Update plans

/// One case of `APP.cases.json`: `{"case": NAME, "user"|"group": RECORD, "current": RESOURCE
/// or null, "members": [IDS]?}`, or `{"case": NAME, "deactivate": RESOURCE}`.
struct Case {
    name: String,
    kind: Kind,
    record: Json,
    current: Option<Json>,
    members: Option<Vec<String>>,
    deactivate: bool,
}

fn cases(app: &str) -> Vec<Case> {
    let path = root().join(format!("tests/golden/plans/{app}.cases.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: Vec<Map<String, Json>> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .map(|mut c| {
            let name = c["case"].as_str().expect("a case name").to_owned();
            let members = c.remove("members").map(|m| {
                serde_json::from_value(m).unwrap_or_else(|e| panic!("{app}: {name}: {e}"))
            });
            let current = c.remove("current").filter(|c| !c.is_null());
            if let Some(resource) = c.remove("deactivate") {
                return Case {
                    name,
                    kind: Kind::User,
                    record: json!({}),
                    current: Some(resource),
                    members,
                    deactivate: true,
                };
            }
            let (kind, record) = match (c.remove("user"), c.remove("group")) {
                (Some(user), None) => (Kind::User, user),
                (None, Some(group)) => (Kind::Group, group),
                _ => panic!("{app}: {name}: give one of `user`, `group` or `deactivate`"),
            };
            Case {
                name,
                kind,
                record,
                current,
                members,
                deactivate: false,
            }
        })
        .collect()
}

/// The plan as `scimap plan` prints it, or the error object it prints instead.
fn library_plan(m: &Mapping, case: &Case) -> Json {
    let planned = match (&case.current, &case.members) {
        (Some(current), _) if case.deactivate => m.deactivate(current),
        (current, Some(members)) => m.plan_group(&case.record, current.as_ref(), members),
        (current, None) => m.plan(case.kind, &case.record, current.as_ref()),
    };
    match planned {
        Ok(plan) => plan.to_json(),
        Err(e) => e.to_json(None, None),
    }
}

fn golden_plans(app: &str) -> Map<String, Json> {
    let path = root().join(format!("tests/golden/plans/{app}.plans.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SCIMAP_BLESS=1 to create it)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn library_plans_match_the_golden_files() {
    for app in APPS {
        let m = mapping(app);
        let cases = cases(app);
        let actual: Map<String, Json> = cases
            .iter()
            .map(|c| (c.name.clone(), library_plan(&m, c)))
            .collect();
        assert_eq!(actual.len(), cases.len(), "{app}: case names are unique");
        let path = root().join(format!("tests/golden/plans/{app}.plans.json"));
        let text = format!("{}\n", scimap::json::pretty(&Json::Object(actual.clone())));
        if std::env::var_os("SCIMAP_BLESS").is_some() {
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let golden = golden_plans(app);
        for (name, plan) in &actual {
            assert_eq!(
                Some(plan),
                golden.get(name),
                "{app}: `{name}` differs from {}",
                path.display()
            );
        }
        assert_eq!(
            golden.keys().collect::<Vec<_>>(),
            actual.keys().collect::<Vec<_>>(),
            "{app}: the golden file's cases"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "{app}: {} is not as scimap prints it",
            path.display()
        );
    }
}

#[test]
fn plan_command_gives_the_golden_plans() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, value: &Json| {
        let path = dir.path().join(name);
        std::fs::write(&path, scimap::json::to_string(value)).unwrap();
        path
    };
    for app in APPS {
        let golden = golden_plans(app);
        for case in cases(app) {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimap"));
            cmd.arg("plan")
                .arg(root().join("examples").join(format!("{app}.scimap")))
                .arg(match case.kind {
                    Kind::User => "--user",
                    Kind::Group => "--group",
                })
                .arg(file("record.json", &case.record));
            if let Some(current) = &case.current {
                cmd.arg("--current").arg(file("current.json", current));
            }
            if let Some(members) = &case.members {
                cmd.arg("--members")
                    .arg(file("members.json", &json!(members)));
            }
            if case.deactivate {
                cmd.arg("--deactivate");
            }
            let out = cmd.output().unwrap();
            let printed: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                let err = String::from_utf8_lossy(&out.stderr);
                panic!("{app}: {}: {e}: {err}", case.name)
            });
            let want = &golden[&case.name];
            assert_eq!(&printed, want, "{app}: {}", case.name);
            let status = if want.is_array() { 0 } else { 1 };
            assert_eq!(out.status.code(), Some(status), "{app}: {}", case.name);
        }
    }
}

#[test]
fn plan_input_gives_the_golden_plans_in_order() {
    for app in APPS {
        let golden = golden_plans(app);
        let m = mapping(app);
        for kind in [Kind::User, Kind::Group] {
            let cases: Vec<Case> = cases(app)
                .into_iter()
                .filter(|c| c.kind == kind && !c.deactivate)
                .collect();
            if cases.is_empty() {
                assert!(
                    kind == Kind::Group && !m.has_section(kind),
                    "{app}: no {kind:?} case"
                );
                continue;
            }
            let mut pairs = String::new();
            for c in &cases {
                let mut pair = json!({"record": c.record, "current": c.current});
                if let Some(members) = &c.members {
                    pair["members"] = json!(members);
                }
                pairs.push_str(&scimap::json::to_string(&pair));
                pairs.push('\n');
            }
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("pairs.ndjson");
            std::fs::write(&input, pairs).unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimap"));
            cmd.arg("plan")
                .arg(root().join("examples").join(format!("{app}.scimap")))
                .arg("--input")
                .arg(&input)
                .args(["--threads", "2"]);
            if kind == Kind::Group {
                cmd.arg("--groups");
            }
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), cases.len(), "{app}: one line a pair");
            let mut failed = false;
            for (i, (line, c)) in lines.iter().zip(&cases).enumerate() {
                let got: Json = serde_json::from_str(line).unwrap();
                let mut want = golden[&c.name].clone();
                // An error line also names the pair's line and the record's id, as bulk's do.
                if let Json::Object(error) = &mut want {
                    failed = true;
                    error.insert("line".to_owned(), json!(i + 1));
                    let id = c.record.get(kind_id(kind)).cloned();
                    if let Some(id) = id {
                        error.insert("id".to_owned(), id);
                    }
                }
                assert_eq!(got, want, "{app}: {}", c.name);
            }
            assert_eq!(out.status.code(), Some(i32::from(failed)), "{app}");
        }
    }
}

fn kind_id(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "_id",
        Kind::Group => "id",
    }
}

/// A resource the app created as a plan's POST says (and gave an id) needs no update.
#[test]
fn a_created_resource_needs_no_update() {
    for app in APPS {
        let m = mapping(app);
        let golden = golden_plans(app);
        let created = cases(app)
            .into_iter()
            .filter(|c| c.current.is_none() && !c.deactivate);
        let mut seen = 0;
        for mut case in created {
            let post = &golden[&case.name][0];
            assert_eq!(post["method"], "POST", "{app}: {}", case.name);
            let mut resource = post["body"].clone();
            resource["id"] = json!("created-1");
            resource["meta"] = json!({"resourceType": "User", "version": "W/\"1\""});
            case.current = Some(resource);
            assert_eq!(library_plan(&m, &case), json!([]), "{app}: {}", case.name);
            seen += 1;
        }
        assert!(seen > 0, "{app}: a create case");
    }
}
