//! UI tests of the diagnostics (reference §diagnostics, §diagnostics-json): each
//! `tests/ui/*.scimap` is a bad mapping whose first line names the code it must raise
//! (`// code: scimap::…`); its rendered human report (colour off) and its JSON diagnostics are
//! snapshots under `tests/snapshots/`.
#![cfg(feature = "cli")]

use std::collections::BTreeSet;
use std::path::Path;

use scimap::{render, Diagnostic, Mapping};

/// Every diagnostic of a mapping, whether it compiled (warnings) or not.
fn diagnostics(source: &str) -> (Vec<Diagnostic>, String) {
    match Mapping::compile(source) {
        Ok(m) => (m.warnings().to_vec(), m.source().to_string()),
        Err(e) => (e.diagnostics, e.source),
    }
}

fn expected_code(source: &str) -> &str {
    source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// code: "))
        .map(str::trim)
        .unwrap_or_else(|| panic!("the first line must be `// code: scimap::…`"))
}

#[test]
fn ui() {
    insta::glob!("ui/*.scimap", |path| {
        let text = std::fs::read_to_string(path).expect("read a UI mapping");
        let name = format!(
            "tests/ui/{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
        );
        let (found, source) = diagnostics(&text);
        let code = expected_code(&text);
        assert!(
            found.iter().any(|d| d.code == code),
            "{name}: expected {code}, found {:?}",
            found.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        for d in &found {
            assert!(!d.message.is_empty(), "{name}: {} has no message", d.code);
        }
        let human: String = found
            .iter()
            .map(|d| render::human(d, &name, &source, false))
            .collect::<Vec<_>>()
            .join("\n");
        insta::assert_snapshot!("human", human);
        let json: Vec<serde_json::Value> = found
            .iter()
            .map(|d| render::diagnostic_json(d, Some(&name), &render::LineIndex::new(&source)))
            .collect();
        insta::assert_json_snapshot!("json", json);
    });
}

/// The compile-time codes documented in the book (reference §diagnostics), each raised by a UI
/// mapping.
#[test]
fn every_documented_compile_code_has_a_ui_test() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/book/src/reference/diagnostics.md"
    ))
    .expect("read the diagnostics chapter");
    // Headings `### scimap::code (compile …)`.
    let documented: BTreeSet<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .filter(|l| l.contains("(compile"))
        .filter_map(|l| l.split_whitespace().next())
        .map(|c| c.trim_matches('`'))
        .collect();
    assert!(documented.len() > 30, "{documented:?}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("list tests/ui") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "scimap") {
            let text = std::fs::read_to_string(&path).expect("read a UI mapping");
            covered.insert(expected_code(&text).to_string());
        }
    }
    let missing: Vec<&&str> = documented
        .iter()
        .filter(|c| !covered.contains(**c))
        .collect();
    assert!(missing.is_empty(), "codes without a UI test: {missing:?}");
}

/// A UI mapping shows one mistake: with it silenced by `// scimap:allow`, a warning goes away.
#[test]
fn allow_comment_and_option_silence_warnings() {
    let base = "user {\n  userName = username\n  displayName = lower(displayname)";
    let (found, _) = diagnostics(&format!("{base}\n}}\n"));
    assert_eq!(
        found.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["scimap::maybe-nil"]
    );
    let (found, _) = diagnostics(&format!("{base}  // scimap:allow(maybe-nil)\n}}\n"));
    assert!(found.is_empty(), "{found:?}");
    let options = scimap::Options {
        allow: vec!["scimap::maybe-nil".into()],
        ..Default::default()
    };
    let m = Mapping::compile_with(&format!("{base}\n}}\n"), &options).expect("compiles");
    assert!(m.warnings().is_empty());
}

/// Narrowing (reference §types-narrowing): a value tested against nil, defaulted with `??` or
/// reached with `?.` raises no maybe-nil warning.
#[test]
fn narrowing_raises_no_false_alarm() {
    let source = r#"user {
  let m = manager
  userName = username
  displayName = m != nil ? lower(m) : ""
  nickName = if displayname != nil { upper(displayname) } else { "" }
  title = mfa?.configured != nil ? (mfa.configured ? "mfa" : "none") : "unknown"
  userType = addresses != nil && len(addresses) > 0 ? "a" : "b"
  locale = lower(addresses?.[0]?.locality ?? "")
  preferredLanguage = (firstname ?? "") + "x"
  profileUrl = $env["any key"]
  timezone = let z = manager; z == nil ? "" : upper(z)
}
"#;
    let (found, _) = diagnostics(source);
    assert!(found.is_empty(), "{found:#?}");
}

/// `scimap::invalid-utf8` points at the line of the first bad byte.
#[test]
fn invalid_utf8_names_the_line() {
    let bytes = b"user {\n  userName = \"\xff\"\n}\n";
    let e = Mapping::compile_bytes(bytes, &scimap::Options::default())
        .err()
        .expect("not UTF-8");
    assert_eq!(e.diagnostics[0].code, "scimap::invalid-utf8");
    assert!(e.diagnostics[0].message.contains("line 2"), "{e}");
}
