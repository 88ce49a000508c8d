//! The book (`docs/book/src`) is tested: every fenced example in it is checked through the
//! public interfaces, so the reference cannot drift from the code. The notation, by info string
//! (the book's introduction explains it to readers):
//!
//! * `scimap` — a mapping that compiles with no diagnostic; `warns=CODE` (repeatable) for the
//!   warnings it must raise, exactly; `fails=CODE` when it must not compile, every error having
//!   that code. `file=NAME` also writes it into the chapter's scratch directory.
//! * `json,record` (`json,record,group`) — a record for the chapter's last `scimap` block that
//!   compiled; then `json,payload` is its payload, or `json,error` its failed-record object,
//!   compared byte for byte as scimap prints JSON (key order included). `json,file=NAME`
//!   writes a file into the scratch directory.
//! * `expr` — lines `EXPRESSION ⇒ VALUE` (a JSON value), `⇒ compile error: TEXT` or
//!   `⇒ run error: TEXT` (the message contains TEXT), evaluated with `eval_expression` against
//!   the record set by the last `record: {…}` (or `group: {…}`) line, with `now()` fixed.
//!   Lines starting with `//` are comments.
//! * `console` — `$ COMMAND` lines and their expected output (stdout and stderr together),
//!   run as one `sh` script per block from a scratch directory holding a copy of `examples/`,
//!   with the `scimap` under test first on the PATH. `[..]` in an expected line matches any
//!   text, a line `...` any number of lines. A command that exits non-zero must be followed
//!   by `$ echo $?`.
//! * `toml,file=NAME` — a test file (reference §testing-format) written into the scratch
//!   directory, for the `console` blocks after it to run.
//! * `rust` — exactly `{{#include FILE.rs:ANCHOR}}` of a file compiled into this test (below).
//! * `text` — prose-like material, not checked.
//!
//! Any other info string fails, so no example goes untested. Further tests hold the reference
//! complete: every diagnostic code, function, limit and command-line option is documented;
//! every `reference §ID` cited in the repository names a section of the book.

use scimap::{eval_expression, Kind, Mapping, Options};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The library chapter's examples: real tests here, shown in the book by `{{#include}}`.
mod library_examples {
    include!("../docs/book/src/reference/library.rs");
}

/// The files of `rust` blocks, relative to the book's `src/`: each is `include!`d above.
const RUST_EXAMPLES: &[&str] = &["reference/library.rs"];

/// The fixed clock of `expr` blocks and of the records of `json,record` blocks.
const NOW: &str = "2024-05-06T07:08:09Z";

/// A `console` block that runs longer than this has hung (a generous no-hang guard).
const TIMEOUT: Duration = Duration::from_secs(120);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn book_src() -> PathBuf {
    root().join("docs/book/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every `.md` file under the book's `src/`, sorted.
fn chapters() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&book_src(), &mut out);
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A fenced code block: where it starts (1-based line of the fence), its info string and text.
struct Block {
    line: usize,
    info: String,
    body: String,
}

/// The fenced code blocks of a Markdown text (``` or ~~~ fences, possibly indented in lists).
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let Some(fence_char) = ['`', '~'].into_iter().find(|c| trimmed.starts_with(*c)) else {
            continue;
        };
        let fence_len = trimmed.chars().take_while(|c| *c == fence_char).count();
        if fence_len < 3 {
            continue;
        }
        let info = trimmed[fence_len..].trim().to_string();
        let mut body = String::new();
        for (_, inner) in lines.by_ref() {
            let t = inner.trim_start();
            if t.chars().take_while(|c| *c == fence_char).count() >= fence_len
                && t.trim_start_matches(fence_char).trim().is_empty()
            {
                break;
            }
            // Remove the fence's indentation, as Markdown does.
            let strip = inner.len() - inner.trim_start().len();
            body.push_str(&inner[strip.min(indent)..]);
            body.push('\n');
        }
        out.push(Block {
            line: i + 1,
            info,
            body,
        });
    }
    out
}

/// An info string: `LANG,attr,key=value,…`.
struct Info {
    lang: String,
    flags: BTreeSet<String>,
    values: Vec<(String, String)>,
}

impl Info {
    fn parse(info: &str) -> Info {
        let mut parts = info.split(',').map(str::trim);
        let lang = parts.next().unwrap_or_default().to_string();
        let mut flags = BTreeSet::new();
        let mut values = Vec::new();
        for p in parts.filter(|p| !p.is_empty()) {
            match p.split_once('=') {
                Some((k, v)) => values.push((k.to_string(), v.to_string())),
                None => {
                    flags.insert(p.to_string());
                }
            }
        }
        Info {
            lang,
            flags,
            values,
        }
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.all(key).first().copied()
    }

    /// Attributes other than the allowed ones are mistakes (a typo would skip a check).
    fn unknown(&self, allowed: &[&str]) -> Option<String> {
        let bad: Vec<&str> = self
            .flags
            .iter()
            .map(String::as_str)
            .chain(self.values.iter().map(|(k, _)| k.as_str()))
            .filter(|a| !allowed.contains(a))
            .collect();
        (!bad.is_empty()).then(|| format!("unknown attribute(s) {bad:?} on `{}`", self.lang))
    }
}

fn options() -> Options {
    Options {
        now: Some(chrono::DateTime::parse_from_rfc3339(NOW).expect("NOW is RFC 3339")),
        ..Options::default()
    }
}

/// What the checks of one chapter carry from block to block.
struct Chapter<'a> {
    path: &'a Path,
    failures: &'a mut Vec<String>,
    /// The last `scimap` block that compiled.
    mapping: Option<Mapping>,
    /// The last `json,record` block and its kind.
    record: Option<(Kind, Json)>,
    /// Created on first use: a copy of `examples/` plus the chapter's `file=` blocks.
    scratch: Option<tempfile::TempDir>,
}

impl Chapter<'_> {
    fn fail(&mut self, line: usize, message: impl AsRef<str>) {
        self.failures
            .push(format!("{}:{line}: {}", rel(self.path), message.as_ref()));
    }

    fn scratch(&mut self) -> &Path {
        self.scratch
            .get_or_insert_with(|| {
                let dir = tempfile::tempdir().expect("a scratch directory");
                copy_dir(&root().join("examples"), &dir.path().join("examples"));
                dir
            })
            .path()
    }

    fn write_file(&mut self, line: usize, name: &str, body: &str) {
        if name.contains('/') || name.starts_with('.') {
            self.fail(line, format!("file={name}: a plain file name is expected"));
            return;
        }
        let path = self.scratch().join(name);
        std::fs::write(&path, body).expect("write a scratch file");
    }

    fn check(&mut self, block: &Block) {
        let info = Info::parse(&block.info);
        let line = block.line;
        match info.lang.as_str() {
            "text" => {
                if let Some(e) = info.unknown(&[]) {
                    self.fail(line, e);
                }
            }
            "scimap" => self.scimap(&info, block),
            "json" => self.json(&info, block),
            "expr" => {
                if let Some(e) = info.unknown(&[]) {
                    self.fail(line, e);
                }
                self.expr(block);
            }
            "console" => {
                if let Some(e) = info.unknown(&[]) {
                    self.fail(line, e);
                }
                self.console(block);
            }
            "rust" => self.rust(&info, block),
            "toml" => match info.one("file") {
                Some(name) if info.unknown(&["file"]).is_none() => {
                    self.write_file(line, name, &block.body)
                }
                _ => self.fail(line, "a `toml` block is a test file: `toml,file=NAME`"),
            },
            "" => self.fail(
                line,
                "a code block without an info string (use `text` for prose)",
            ),
            other => self.fail(line, format!("unknown info string `{other}`")),
        }
    }

    fn scimap(&mut self, info: &Info, block: &Block) {
        let line = block.line;
        if let Some(e) = info.unknown(&["fails", "warns", "file"]) {
            self.fail(line, e);
        }
        if let Some(name) = info.one("file") {
            self.write_file(line, name, &block.body);
        }
        let warns: BTreeSet<&str> = info.all("warns").into_iter().collect();
        match (
            Mapping::compile_with(&block.body, &options()),
            info.one("fails"),
        ) {
            (Ok(mapping), None) => {
                let got: BTreeSet<&str> = mapping.warnings().iter().map(|d| d.code).collect();
                if got != warns {
                    let all: Vec<String> = mapping
                        .warnings()
                        .iter()
                        .map(|d| format!("{}: {}", d.code, d.message))
                        .collect();
                    self.fail(line, format!("expected warnings {warns:?}, got {all:#?}"));
                }
                self.mapping = Some(mapping);
                self.record = None;
            }
            (Ok(_), Some(code)) => self.fail(
                line,
                format!("expected the mapping to fail with {code}; it compiled"),
            ),
            (Err(e), None) => self.fail(line, format!("the mapping does not compile: {e}")),
            (Err(e), Some(code)) => {
                let errors: Vec<&scimap::Diagnostic> =
                    e.diagnostics.iter().filter(|d| d.is_error()).collect();
                if errors.iter().any(|d| d.code != code) {
                    let all: Vec<String> = errors
                        .iter()
                        .map(|d| format!("{}: {}", d.code, d.message))
                        .collect();
                    self.fail(line, format!("expected only {code} errors, got {all:#?}"));
                }
                let got: BTreeSet<&str> = e
                    .diagnostics
                    .iter()
                    .filter(|d| !d.is_error())
                    .map(|d| d.code)
                    .collect();
                if got != warns {
                    self.fail(line, format!("expected warnings {warns:?}, got {got:?}"));
                }
            }
        }
    }

    fn json(&mut self, info: &Info, block: &Block) {
        let line = block.line;
        if let Some(name) = info.one("file") {
            if let Some(e) = info.unknown(&["file"]) {
                self.fail(line, e);
            }
            self.write_file(line, name, &block.body);
            return;
        }
        if let Some(e) = info.unknown(&["record", "group", "payload", "error"]) {
            self.fail(line, e);
        }
        let value: Json = match serde_json::from_str(&block.body) {
            Ok(v) => v,
            Err(e) => return self.fail(line, format!("not JSON: {e}")),
        };
        if info.flags.contains("record") {
            let kind = if info.flags.contains("group") {
                Kind::Group
            } else {
                Kind::User
            };
            if self.mapping.is_none() {
                self.fail(line, "a record without a compiled `scimap` block before it");
            }
            self.record = Some((kind, value));
            return;
        }
        let want_payload = info.flags.contains("payload");
        if !want_payload && !info.flags.contains("error") {
            return self.fail(
                line,
                "a `json` block needs a role: record, payload, error or file=",
            );
        }
        let (Some(mapping), Some((kind, record))) = (&self.mapping, &self.record) else {
            return self.fail(
                line,
                "a payload or error without a mapping and a record before it",
            );
        };
        let got = match mapping.evaluate(*kind, record) {
            Ok(payload) if want_payload => payload,
            Err(e) if !want_payload => e.to_json(None, None),
            Ok(payload) => {
                let p = scimap::json::to_string(&payload);
                return self.fail(line, format!("expected an error, got the payload {p}"));
            }
            Err(e) => return self.fail(line, format!("expected a payload, got {e}")),
        };
        let (want, got) = (
            scimap::json::to_string(&value),
            scimap::json::to_string(&got),
        );
        if want != got {
            self.fail(line, format!("expected\n    {want}\ngot\n    {got}"));
        }
    }

    fn expr(&mut self, block: &Block) {
        let mut record = (Kind::User, Json::Object(Default::default()));
        for (i, text) in block.body.lines().enumerate() {
            let line = block.line + 1 + i;
            let text = text.trim();
            if text.is_empty() || text.starts_with("//") {
                continue;
            }
            let context = [("record:", Kind::User), ("group:", Kind::Group)]
                .into_iter()
                .find_map(|(prefix, kind)| text.strip_prefix(prefix).map(|r| (kind, r)));
            if let Some((kind, json)) = context {
                match serde_json::from_str(json) {
                    Ok(v) => record = (kind, v),
                    Err(e) => self.fail(line, format!("the record is not JSON: {e}")),
                }
                continue;
            }
            let Some((expression, want)) = text.split_once(" ⇒ ") else {
                self.fail(line, "expected `EXPRESSION ⇒ VALUE`");
                continue;
            };
            let got = eval_expression(expression.trim(), record.0, &record.1, &options());
            let want = want.trim();
            let failure = if let Some(part) = want.strip_prefix("compile error:") {
                match &got {
                    Err(e)
                        if e.phase == scimap::Phase::Compile && e.message.contains(part.trim()) =>
                    {
                        None
                    }
                    _ => Some(format!(
                        "expected a compile error containing {:?}",
                        part.trim()
                    )),
                }
            } else if let Some(part) = want.strip_prefix("run error:") {
                match &got {
                    Err(e) if e.phase == scimap::Phase::Run && e.message.contains(part.trim()) => {
                        None
                    }
                    _ => Some(format!("expected a run error containing {:?}", part.trim())),
                }
            } else {
                match serde_json::from_str::<Json>(want) {
                    Err(e) => Some(format!("the expected value is not JSON: {e}")),
                    Ok(w) => match &got {
                        Ok(v) if scimap::json::to_string(v) == scimap::json::to_string(&w) => None,
                        _ => Some(format!("expected {}", scimap::json::to_string(&w))),
                    },
                }
            };
            if let Some(f) = failure {
                let shown = match &got {
                    Ok(v) => scimap::json::to_string(v),
                    Err(e) => format!("{} error: {}", e.phase.as_str(), e.message),
                };
                self.fail(line, format!("`{expression}`: {f}, got {shown}"));
            }
        }
    }

    fn console(&mut self, block: &Block) {
        // Commands (continued by a trailing `\`) and the output expected after each.
        let mut commands: Vec<(usize, String, Vec<String>)> = Vec::new();
        let mut continued = false;
        for (i, text) in block.body.lines().enumerate() {
            if let Some(cmd) = text.strip_prefix("$ ") {
                commands.push((block.line + 1 + i, cmd.to_string(), Vec::new()));
                continued = cmd.ends_with('\\');
            } else if continued {
                if let Some(last) = commands.last_mut() {
                    last.1.push('\n');
                    last.1.push_str(text);
                }
                continued = text.ends_with('\\');
            } else if let Some(last) = commands.last_mut() {
                last.2.push(text.to_string());
            } else {
                return self.fail(block.line, "a console block must start with `$ COMMAND`");
            }
        }
        // One shell for the block, so `echo $?` sees the command before it; after each command
        // a marker carries its exit status.
        let mut script = String::from("exec 2>&1 </dev/null\n");
        for (_, cmd, _) in &commands {
            script.push_str(cmd);
            // Keep `$?` for the next command: a following `echo $?` shows this one's status.
            script.push_str("\n__s=$?; printf '\\036%d\\036\\n' \"$__s\"; (exit $__s)\n");
        }
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_scimap"))
            .parent()
            .expect("the binary's directory")
            .to_path_buf();
        let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("a PATH");
        let dir = self.scratch().to_path_buf();
        let output = match run_script(&script, &dir, &path) {
            Ok(o) => o,
            Err(e) => return self.fail(block.line, e),
        };
        let mut rest = output.as_str();
        let mut statuses = Vec::new();
        for (line, cmd, want) in &commands {
            let Some((got, status, after)) = split_marker(rest) else {
                return self.fail(*line, format!("`{cmd}`: the shell stopped early:\n{rest}"));
            };
            rest = after;
            statuses.push(status);
            let got: Vec<&str> = got.lines().collect();
            if !lines_match(want, &got) {
                self.fail(
                    *line,
                    format!(
                        "`{cmd}` printed\n{}\n-- but the book says --\n{}",
                        got.join("\n"),
                        want.join("\n")
                    ),
                );
            }
        }
        for (i, (line, cmd, _)) in commands.iter().enumerate() {
            let shown = commands
                .get(i + 1)
                .is_some_and(|(_, next, _)| next == "echo $?");
            if statuses[i] != 0 && !shown {
                self.fail(
                    *line,
                    format!("`{cmd}` exited {}; show it with `$ echo $?`", statuses[i]),
                );
            }
        }
    }

    fn rust(&mut self, info: &Info, block: &Block) {
        let line = block.line;
        if let Some(e) = info.unknown(&[]) {
            self.fail(line, e);
        }
        let body = block.body.trim();
        let target = body
            .strip_prefix("{{#include ")
            .and_then(|s| s.strip_suffix("}}"))
            .filter(|s| !s.contains("{{"));
        let Some((file, anchor)) = target.and_then(|t| t.rsplit_once(':')) else {
            return self.fail(
                line,
                "a `rust` block is exactly `{{#include FILE.rs:ANCHOR}}`",
            );
        };
        let dir = self.path.parent().expect("a chapter's directory");
        let path = normalize(&dir.join(file));
        let compiled = RUST_EXAMPLES
            .iter()
            .any(|f| normalize(&book_src().join(f)) == path);
        if !compiled {
            return self.fail(line, format!("{file} is not compiled by tests/book.rs"));
        }
        let text = read(&path);
        let start = format!("ANCHOR: {anchor}");
        let end = format!("ANCHOR_END: {anchor}");
        if !text.lines().any(|l| l.trim_end().ends_with(&start))
            || !text.lines().any(|l| l.trim_end().ends_with(&end))
        {
            self.fail(line, format!("{file} has no anchor `{anchor}`"));
        }
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a scratch directory");
    for entry in std::fs::read_dir(from).expect("list examples/") {
        let entry = entry.expect("a directory entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy an example");
        }
    }
}

/// Runs `script` with `sh` in `dir`; its output (stdout and stderr joined), or why it failed.
fn run_script(script: &str, dir: &Path, path: &std::ffi::OsStr) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the block ran longer than {TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for sh: {e}")),
        }
    }
    let bytes = reader.join().map_err(|_| "the output reader failed")?;
    String::from_utf8(bytes).map_err(|e| format!("the output is not UTF-8: {e}"))
}

/// The output before the next status marker, the status, and the rest.
fn split_marker(s: &str) -> Option<(&str, i32, &str)> {
    let start = s.find('\u{1e}')?;
    let len = s[start + 1..].find('\u{1e}')?;
    let status = s[start + 1..start + 1 + len].parse().ok()?;
    let after = &s[start + 1 + len + 1..];
    Some((
        &s[..start],
        status,
        after.strip_prefix('\n').unwrap_or(after),
    ))
}

/// Expected lines against actual ones: `[..]` matches any text within a line, a line `...`
/// any number of lines; trailing blanks, and blank lines at the end, are ignored.
fn lines_match(want: &[String], got: &[&str]) -> bool {
    match want.split_first() {
        None => got.iter().all(|l| l.trim().is_empty()),
        Some(_) if want.iter().all(|l| l.trim().is_empty()) => lines_match(&[], got),
        Some((w, rest)) if w.trim() == "..." => {
            (0..=got.len()).any(|skip| lines_match(rest, &got[skip..]))
        }
        Some((w, rest)) => match got.split_first() {
            Some((g, more)) => line_matches(w.trim_end(), g.trim_end()) && lines_match(rest, more),
            None => false,
        },
    }
}

fn line_matches(want: &str, got: &str) -> bool {
    let parts: Vec<&str> = want.split("[..]").collect();
    if parts.len() == 1 {
        return want == got;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !got.starts_with(first) || got.len() < first.len() + last.len() || !got.ends_with(last) {
        return false;
    }
    let mut rest = &got[first.len()..got.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// `{{#include FILE}}` lines of Markdown files outside code blocks, resolved.
fn md_includes(path: &Path, text: &str) -> Vec<PathBuf> {
    let mut in_block = BTreeSet::new();
    for b in blocks(text) {
        let n = b.body.lines().count();
        in_block.extend(b.line..=b.line + n + 1);
    }
    text.lines()
        .enumerate()
        .filter(|(i, _)| !in_block.contains(&(i + 1)))
        .filter_map(|(_, l)| {
            l.trim()
                .strip_prefix("{{#include ")
                .and_then(|s| s.strip_suffix("}}"))
        })
        .map(|f| normalize(&path.parent().expect("a directory").join(f.trim())))
        .collect()
}

fn check_chapter(path: &Path, failures: &mut Vec<String>) {
    let text = read(path);
    let mut chapter = Chapter {
        path,
        failures,
        mapping: None,
        record: None,
        scratch: None,
    };
    for block in blocks(&text) {
        chapter.check(&block);
    }
    for included in md_includes(path, &text) {
        if included.extension().is_some_and(|e| e == "md") {
            check_chapter(&included, chapter.failures);
        } else {
            chapter.fail(
                0,
                format!("{} is included outside a code block", rel(&included)),
            );
        }
    }
}

#[test]
fn every_example_holds() {
    let mut failures = Vec::new();
    let chapters = chapters();
    assert!(chapters.len() > 10, "the book has its chapters");
    for path in &chapters {
        check_chapter(path, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failing example(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The notation's own pieces, so a broken matcher cannot pass every example.
#[test]
fn the_notation_matches_what_it_says() {
    let w = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(lines_match(&w(&["a [..] c", "..."]), &["a b c", "x", "y"]));
    assert!(lines_match(&w(&["...", "end"]), &["end"]));
    assert!(!lines_match(&w(&["a", "b"]), &["a", "c"]));
    assert!(!lines_match(&w(&["a"]), &["a", "b"]));
    assert!(lines_match(&w(&["a", ""]), &["a"]));
    assert!(lines_match(&w(&["a"]), &["a", ""]));
    assert!(!line_matches("in [..]s", "in 0.1"));
    assert!(line_matches("[..] records/s)", "3 records, (99 records/s)"));
    assert_eq!(
        split_marker("out\n\u{1e}1\u{1e}\nrest"),
        Some(("out\n", 1, "rest"))
    );
    let b = blocks("x\n  ```scimap,fails=a\n  user {\n  }\n  ```\n");
    assert_eq!(
        (b[0].line, b[0].info.as_str(), b[0].body.as_str()),
        (2, "scimap,fails=a", "user {\n}\n")
    );
}

/// Every file of `src/` is listed in `SUMMARY.md` and every listed file exists (mdBook would
/// create a missing one silently).
#[test]
fn the_summary_lists_every_chapter() {
    let src = book_src();
    let summary = read(&src.join("SUMMARY.md"));
    let mut listed = BTreeSet::new();
    for part in summary.split("](").skip(1) {
        if let Some(end) = part.find(')') {
            listed.insert(src.join(&part[..end]));
        }
    }
    let files: BTreeSet<PathBuf> = chapters()
        .into_iter()
        .filter(|p| !p.ends_with("SUMMARY.md"))
        .collect();
    let unlisted: Vec<_> = files.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&files).collect();
    assert!(unlisted.is_empty(), "not in SUMMARY.md: {unlisted:?}");
    assert!(missing.is_empty(), "listed but missing: {missing:?}");
}

/// Headings with an explicit id (`## Title {#id}`), per chapter: the citable sections.
fn anchors() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in chapters() {
        let text = read(&path);
        let name = path
            .strip_prefix(book_src())
            .expect("inside the book")
            .display()
            .to_string();
        for line in text.lines().filter(|l| l.starts_with('#')) {
            if let Some(id) = line
                .trim_end()
                .strip_suffix('}')
                .and_then(|l| l.rsplit_once("{#"))
                .map(|(_, id)| id)
            {
                out.entry(id.to_string()).or_default().push(name.clone());
            }
        }
    }
    out
}

/// Section ids are unique across the book (code cites them as `reference §ID`), links between
/// chapters lead to a file and, with `#id`, to a section of it.
#[test]
fn sections_and_links_resolve() {
    let anchors = anchors();
    let twice: Vec<_> = anchors.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(twice.is_empty(), "ids used more than once: {twice:?}");
    assert!(anchors.len() > 50, "the reference has its sections");
    let mut broken = Vec::new();
    for path in chapters() {
        let text = read(&path);
        let dir = path.parent().expect("a directory");
        for part in text.split("](").skip(1) {
            let Some(end) = part.find(')') else { continue };
            let link = &part[..end];
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, id) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() {
                path.clone()
            } else {
                normalize(&dir.join(file))
            };
            let in_book = target.starts_with(book_src());
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", rel(&path)));
            } else if !in_book && path.extension().is_some_and(|e| e == "md") {
                broken.push(format!("{}: {link}: outside the book", rel(&path)));
            } else if !id.is_empty() {
                let name = target
                    .strip_prefix(book_src())
                    .expect("inside the book")
                    .display()
                    .to_string();
                if !anchors.get(id).is_some_and(|v| v.contains(&name)) {
                    broken.push(format!(
                        "{}: {link}: no section {{#{id}}} there",
                        rel(&path)
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every `reference §ID` written anywhere in the repository names a section of the book.
#[test]
fn citations_name_sections() {
    let anchors = anchors();
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let skip = ["target", "node_modules", ".git", "dist", "pkg", "snapshots"];
            if path.is_dir() {
                if !skip.iter().any(|s| name == *s) {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| {
                ["rs", "md", "pest", "txt", "js", "mjs", "py", "toml"]
                    .iter()
                    .any(|x| e == *x)
            }) {
                out.push(path);
            }
        }
    }
    walk(root(), &mut files);
    let mut unknown = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for cited in line.split("reference §").skip(1) {
                // Section ids start with a letter; `§2.1`-style numbers are not ids.
                let id: String = cited
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if id.starts_with(|c: char| c.is_ascii_lowercase()) && !anchors.contains_key(&id) {
                    unknown.push(format!("{}:{}: reference §{id}", rel(&path), i + 1));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "citations of no section:\n{}",
        unknown.join("\n")
    );
}

/// The diagnostics chapter has a `### \`scimap::code\`` section for every code the library can
/// report (the string literals of `src/`, tests left out), and no other.
#[test]
fn every_diagnostic_code_is_documented() {
    fn walk(dir: &Path, codes: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("list src/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, codes);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = read(&path);
                let code = text
                    .split("#[cfg(test)]\nmod tests")
                    .next()
                    .unwrap_or_default();
                for part in code.split("\"scimap::").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                        .collect();
                    if part[name.len()..].starts_with('"') && !name.is_empty() {
                        codes.insert(format!("scimap::{name}"));
                    }
                }
            }
        }
    }
    let mut in_code = BTreeSet::new();
    walk(&root().join("src"), &mut in_code);
    assert!(in_code.len() > 40, "{in_code:?}");
    let chapter = read(&book_src().join("reference/diagnostics.md"));
    let documented: BTreeSet<String> = chapter
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let undocumented: Vec<_> = in_code.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&in_code).collect();
    assert!(
        undocumented.is_empty(),
        "codes without a section: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "sections for codes the library never reports: {stale:?}"
    );
}

/// The functions chapter lists every function of the catalogue, by family: in the last cell of
/// its table rows, as `` `name` ``.
#[test]
fn every_function_is_listed() {
    let chapter = read(&book_src().join("reference/functions.md"));
    let mut listed = BTreeSet::new();
    for row in chapter
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| purpose"))
    {
        let cell = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap_or_default();
        listed.extend(cell.split('`').skip(1).step_by(2));
    }
    let all: BTreeSet<&str> = scimap::functions()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let missing: Vec<_> = all.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&all).collect();
    assert!(
        missing.is_empty(),
        "functions the chapter does not list: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "listed but not in the catalogue: {unknown:?}"
    );
}

/// The limits chapter has a table row for every limit.
#[test]
fn every_limit_is_documented() {
    let chapter = read(&book_src().join("reference/limits.md"));
    for name in scimap::Limits::NAMES {
        assert!(
            chapter.contains(&format!("| `{name}` |")),
            "the limit `{name}` has no row in reference/limits.md"
        );
    }
}

/// Every subcommand and option of `scimap --help` has its place in the command-line chapter.
#[test]
fn every_command_line_option_is_documented() {
    let chapter = read(&book_src().join("reference/cli.md"));
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_scimap"))
            .args(args)
            .output()
            .expect("run scimap --help");
        String::from_utf8(out.stdout).expect("help is UTF-8")
    };
    let options = |text: &str| -> BTreeSet<String> {
        // The option column: lines starting with `-x, --name` or `--name`.
        text.lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
            .map(|w| w.trim_end_matches(',').to_string())
            .filter(|w| w != "--help" && w != "--version")
            .collect()
    };
    let top = help(&["--help"]);
    let shared = options(&top);
    let mut missing = Vec::new();
    let section = |heading: &str| -> Option<&str> {
        let start = chapter.find(heading)? + heading.len();
        let rest = &chapter[start..];
        Some(&rest[..rest.find("\n## ").unwrap_or(rest.len())])
    };
    let common = section("## Options of several commands").unwrap_or_default();
    for option in &shared {
        if !common.contains(&format!("`{option}")) {
            missing.push(format!("{option} (options of every command)"));
        }
    }
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(commands.len() >= 6, "{commands:?}");
    for command in &commands {
        let heading = format!("## `scimap {command}`");
        let Some(text) = section(&heading) else {
            missing.push(format!("no section `{heading}`"));
            continue;
        };
        for option in options(&help(&[command, "--help"])).difference(&shared) {
            if !text.contains(&format!("`{option}")) {
                missing.push(format!("`scimap {command}` {option}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
