//! The seed apps' mappings over the fixture users and groups: the library, `scimap bulk` and
//! `scimap eval` must all give the payloads in `tests/golden/`.
//!
//! After a deliberate change, review and rewrite the golden files with
//! `SCIMAP_BLESS=1 cargo test --test golden`.

use scimap::{Kind, Mapping, Options};
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
