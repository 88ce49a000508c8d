//! Compiling hostile mappings: every shape of `compile_scale/shapes.rs` (long names, many
//! declarations and diagnostics, nesting up to the depth limit everywhere, huge literals and
//! lines, control characters) compiles or fails with its expected error, within a generous
//! no-hang guard, with at most `MAX_DIAGNOSTICS` diagnostics and a note counting the rest, and
//! with output of a size independent of the source in every format. The CPU time per MiB is
//! measured, not asserted, by `cargo xtask hostile-compile`.
//!
//! The shapes are generated at [`SIZE`] (the debug build is slow); set
//! `SCIMAP_COMPILE_SCALE_SIZE` to run them at another size, e.g. 1048576 with `--release`.
#![cfg(feature = "cli")]

mod common;
#[path = "compile_scale/shapes.rs"]
mod shapes;

use scimap::{render, Counts, Diagnostic, Mapping, Severity};
use serde_json::Value;
use std::sync::mpsc;
use std::time::Duration;

/// Bytes of each generated mapping.
const SIZE: usize = 64 << 10;
/// The no-hang guard of one shape (or one run of the binary), far above the time it takes.
const TIMEOUT: Duration = Duration::from_secs(120);
/// `diagnostic::MAX_DIAGNOSTICS`.
const MAX_DIAGNOSTICS: usize = 1000;
/// The most one human report may take: a dozen excerpt lines of some 130 columns (an escape
/// takes up to ten bytes per character), the message, labels and help.
const REPORT_BYTES: usize = 16 << 10;

fn size() -> usize {
    std::env::var("SCIMAP_COMPILE_SCALE_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SIZE)
}

/// Every diagnostic of a mapping, whether it compiled (warnings) or not, and its source.
fn diagnostics(source: &str) -> (Vec<Diagnostic>, String) {
    match Mapping::compile(source) {
        Ok(m) => (m.warnings().to_vec(), m.source().to_string()),
        Err(e) => (e.diagnostics, e.source),
    }
}

/// Characters that must never reach a terminal or a log raw.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What one shape must satisfy; returns a description of the first violation.
fn check_shape(shape: &shapes::Shape, size: usize) -> Result<(), String> {
    let text = (shape.make)(size);
    if text.len() > size {
        return Err(format!("{} bytes, over {size}", text.len()));
    }
    let (found, source) = diagnostics(&text);
    let first = found.iter().find(|d| d.is_error()).map_or("ok", |d| d.code);
    if first != shape.first {
        return Err(format!("first error {first}, expected {}", shape.first));
    }
    if found.len() > MAX_DIAGNOSTICS + 1 {
        return Err(format!("{} diagnostics", found.len()));
    }
    let notes: Vec<&Diagnostic> = found.iter().filter(|d| d.omitted.is_some()).collect();
    match (found.len() > MAX_DIAGNOSTICS, notes.as_slice()) {
        (false, []) => {}
        (true, [note]) if std::ptr::eq(*note, &found[MAX_DIAGNOSTICS]) => {
            let omitted = note.omitted.unwrap_or_default();
            if omitted.errors + omitted.warnings == 0
                || note.is_error() != (omitted.errors > 0)
                || note.code != "scimap::too-many-diagnostics"
            {
                return Err(format!("a wrong note: {note:?}"));
            }
        }
        _ => {
            return Err(format!(
                "{} notes in {} diagnostics",
                notes.len(),
                found.len()
            ))
        }
    }
    if found.windows(2).any(|w| w[0].span.start > w[1].span.start) {
        return Err("diagnostics out of source order".into());
    }
    let index = render::LineIndex::new(&source);
    for d in &found {
        // Messages quote at most 64 characters of user text.
        if d.message.chars().count() > 400 {
            return Err(format!("a message of {} bytes", d.message.len()));
        }
        let human = render::human_with(d, "m.scimap", &index, false);
        if human.len() > REPORT_BYTES {
            return Err(format!("a report of {} bytes:\n{human}", human.len()));
        }
        if let Some(c) = human.chars().find(|&c| is_unsafe(c)) {
            return Err(format!("U+{:04X} raw in a report:\n{human}", c as u32));
        }
        let github = render::github_line(d, "m.scimap", &index);
        if let Some(c) = github.chars().find(|&c| is_unsafe(c)) {
            return Err(format!("U+{:04X} raw in {github}", c as u32));
        }
        let json = render::diagnostic_json(d, Some("m.scimap"), &index).to_string();
        if json.len() > REPORT_BYTES {
            return Err(format!("a JSON object of {} bytes", json.len()));
        }
    }
    Ok(())
}

#[test]
fn every_shape_compiles_or_fails_as_expected_with_bounded_output() {
    let size = size();
    let mut failures = Vec::new();
    for shape in shapes::all() {
        let name = shape.name;
        let (send, receive) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            let _ = send.send(check_shape(&shape, size));
        });
        match receive.recv_timeout(TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name} did not compile within {TIMEOUT:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                failures.push(format!("{name}: the check panicked"))
            }
        }
        let _ = worker.join();
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_shape_has_its_own_name() {
    let all = shapes::all();
    let mut names: Vec<&str> = all.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len());
    assert!(all.len() >= 50, "{}", all.len());
}

// ---------------------------------------------------------------------------------------------
// The binary: `scimap check` in each format

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `scimap check ARGS FILE` on `source`, killed after TIMEOUT; it must exit, without a crash.
fn check(args: &[&str], source: &str) -> Run {
    let file = common::temp_file(source.as_bytes(), ".scimap");
    let mut all = vec!["check".into()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.push(file.path().display().to_string());
    let run = common::scimap(&all).timeout(TIMEOUT).run();
    run.assert_no_crash();
    let text = |c: &common::Captured| {
        assert_eq!(
            c.kept.len() as u64,
            c.len,
            "{}: output kept whole",
            run.what
        );
        String::from_utf8(c.kept.clone()).expect("output is UTF-8")
    };
    Run {
        code: run.code(),
        stdout: text(&run.stdout),
        stderr: text(&run.stderr),
    }
}

fn shape(name: &str) -> String {
    let shape = shapes::all()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"));
    (shape.make)(size())
}

/// A hundred thousand unknown names on one line (here some ten thousand): 1,000 reports, each
/// with a window of the line, and a summary that counts them all.
#[test]
fn many_diagnostics_on_one_long_line_are_capped_and_counted() {
    let source = shape("unknown-names-one-line");
    let names = source.matches(", u").count() + 1;
    assert!(names > 2 * MAX_DIAGNOSTICS, "{names}");

    let human = check(&[], &source);
    assert_eq!(human.code, 1);
    assert!(human.stdout.is_empty());
    assert!(
        human.stderr.len() < MAX_DIAGNOSTICS * 2048,
        "{} bytes of reports",
        human.stderr.len()
    );
    // The `let`'s warning comes first in the file, then the names.
    assert_eq!(
        human.stderr.matches("scimap::unknown-field").count(),
        MAX_DIAGNOSTICS - 1
    );
    let left_out = names - (MAX_DIAGNOSTICS - 1);
    assert!(human.stderr.contains(&format!(
        "{left_out} more diagnostics not shown ({left_out} errors, 0 warnings)"
    )));
    // The summary counts every diagnostic: the unknown names and the unused `let`.
    assert!(
        human
            .stderr
            .ends_with(&format!("checked 1 file: {names} errors, 1 warning\n")),
        "{}",
        &human.stderr[human.stderr.len().saturating_sub(300)..]
    );

    let json = check(&["--format", "json"], &source);
    assert_eq!(json.code, 1);
    let Value::Array(all) = serde_json::from_str(&json.stdout).expect("one JSON array") else {
        panic!("not an array")
    };
    assert_eq!(all.len(), MAX_DIAGNOSTICS + 1);
    let note = &all[MAX_DIAGNOSTICS];
    assert_eq!(note["code"], "scimap::too-many-diagnostics");
    assert_eq!(note["severity"], "error");
    // The note is where the first diagnostic left out is.
    assert!(note["offset"].as_u64() >= all[MAX_DIAGNOSTICS - 1]["offset"].as_u64());

    let github = check(&["--format", "github"], &source);
    assert_eq!(github.code, 1);
    assert_eq!(github.stdout.lines().count(), MAX_DIAGNOSTICS + 1);
    assert!(github
        .stdout
        .lines()
        .last()
        .is_some_and(|l| l.starts_with("::error ") && l.contains("too-many-diagnostics")));
}

/// Warnings only: the note is a warning, the mapping compiles (exit 0) and every warning is
/// counted.
#[test]
fn a_file_with_only_warnings_keeps_compiling() {
    let lets = 3 * MAX_DIAGNOSTICS / 2;
    let body: String = (0..lets).map(|i| format!("  let v{i} = 1\n")).collect();
    let source = format!("user {{\n  userName = username\n{body}}}\n");
    let run = check(&[], &source);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stderr
        .contains("⚠ 500 more diagnostics not shown (0 errors, 500 warnings)"));
    assert!(run
        .stderr
        .ends_with(&format!("checked 1 file: 0 errors, {lets} warnings\n")));
    assert_eq!(check(&["--deny-warnings"], &source).code, 1);
    let mapping = Mapping::compile(&source).expect("compiles");
    assert_eq!(mapping.warnings().len(), MAX_DIAGNOSTICS + 1);
    assert_eq!(
        Counts::of(mapping.warnings()),
        Counts {
            errors: 0,
            warnings: lets
        }
    );
    assert_eq!(
        mapping.warnings()[MAX_DIAGNOSTICS].severity,
        Severity::Warning
    );
}

/// A name of 300,000 characters is quoted by its first 64, in every format.
#[test]
fn long_user_text_is_quoted_short() {
    let name = "n".repeat(300_000);
    let source = format!("user {{\n  userName = {name}\n}}\n");
    let json = check(&["--format", "json"], &source);
    let all: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        all[0]["message"],
        format!(
            "unknown name `{}…`: not a field of the JumpCloud user record",
            "n".repeat(64)
        )
    );
    let human = check(&[], &source);
    assert!(human.stderr.len() < 4096, "{}", human.stderr.len());
    // The excerpt shows a window of the line around each end of the name.
    let window = "n".repeat(40);
    assert!(human
        .stderr
        .contains(&format!(" 2 │   userName = {window}…{window}\n")));
}

/// Escape sequences and bidirectional controls of a mapping, in its comments, strings and
/// quoted values, never reach the terminal or a CI log raw.
#[test]
fn control_characters_are_escaped_in_human_and_github_output() {
    let source = shape("control-characters");
    let human = check(&[], &source);
    assert_eq!(human.code, 1);
    assert!(!human.stderr.contains(is_unsafe), "a raw control character");
    assert!(human
        .stderr
        .contains(r"\u{1b}[2J\u{1b}]0;title\u{7}\u{202e}txt\u{9b}31m"));
    // The value quoted in the message of `non-canonical`.
    assert!(human
        .stderr
        .contains(r#""\u{1b}[2J" is not a canonical value"#));
    let github = check(&["--format", "github"], &source);
    assert!(
        !github.stdout.contains(is_unsafe),
        "a raw control character"
    );
    // JSON keeps the text (escaped by JSON itself).
    let json = check(&["--format", "json"], &source);
    let all: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert!(all.as_array().is_some_and(|a| a.iter().any(|d| d["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("\"\u{1b}[2J\"")))));
}
