//! The README runs as written: the tour's commands, in order, against the `scimap` under test,
//! from a scratch copy of `examples/` (so a sample file the README uses but the repository
//! lacks fails here), and the mapping it shows is the real file. The README's notation:
//!
//! * The tour is every ```` ```sh ```` block between the `<!-- tour -->` and `<!-- /tour -->`
//!   markers. Each line that is not blank or a comment is one command, run by `sh` with a
//!   directory holding only the binary under test, named `scimap`, first on the PATH.
//! * A comment after a command (two spaces, then `# `) may say `(exit N)`: its exit status,
//!   0 when not said; and `⇒ TEXT`: its whole output (stdout and stderr) is the line TEXT.
//! * Any other block right after a tour block (```` ```text ````, ```` ```json ````) is the
//!   output of that block's last command, line by line (trailing blanks ignored).
//! * The main job of "The two commands", `cargo run --release -- ARGS`, runs as `scimap ARGS`
//!   before the tour.
//! * A fenced block right after `<!-- file: PATH -->` is the repository's file PATH, whole.

#![cfg(unix)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command that runs longer than this has hung (a generous no-hang guard).
const TIMEOUT: Duration = Duration::from_secs(60);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("read README.md")
}

/// A fenced code block: the 1-based line of its fence, its info string, its lines, and the
/// lines of text between it and the block before it.
struct Block {
    line: usize,
    info: String,
    body: Vec<String>,
    before: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut before = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            before.push(line.to_string());
            continue;
        };
        let mut body = Vec::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_end() == "```" {
                closed = true;
                break;
            }
            body.push(l.to_string());
        }
        assert!(closed, "README.md:{}: unclosed code block", i + 1);
        out.push(Block {
            line: i + 1,
            info: info.trim().to_string(),
            body,
            before: std::mem::take(&mut before),
        });
    }
    out
}

/// One command to run and what the README says of it.
struct Step {
    line: usize,
    command: String,
    status: i32,
    output: Option<Vec<String>>,
}

/// The README's commands, in order: the main job, then the tour.
fn steps(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut in_tour = false;
    let mut tour_blocks = 0;
    for block in blocks(text) {
        for l in &block.before {
            match l.trim() {
                "<!-- tour -->" => in_tour = true,
                "<!-- /tour -->" => in_tour = false,
                _ => {}
            }
        }
        let sh = block.info == "sh";
        if sh && !in_tour {
            for (i, l) in block.body.iter().enumerate() {
                if let Some(args) = l.strip_prefix("cargo run --release -- ") {
                    steps.push(step(block.line + 1 + i, &format!("scimap {args}")));
                }
            }
        } else if sh {
            tour_blocks += 1;
            for (i, l) in block.body.iter().enumerate() {
                if !l.trim().is_empty() && !l.trim_start().starts_with('#') {
                    steps.push(step(block.line + 1 + i, l));
                }
            }
        } else if in_tour && block.before.iter().all(|l| l.trim().is_empty()) {
            let last = steps.last_mut().expect("a tour command before its output");
            assert!(
                last.output.is_none(),
                "README.md:{}: two outputs for one command",
                block.line
            );
            last.output = Some(block.body.clone());
        }
    }
    assert!(
        !in_tour,
        "README.md: `<!-- tour -->` without `<!-- /tour -->`"
    );
    assert!(
        tour_blocks > 0,
        "README.md: no ```sh block inside <!-- tour -->"
    );
    steps
}

fn step(line: usize, text: &str) -> Step {
    let note = text.split_once("  # ").map_or("", |(_, n)| n);
    let status = note
        .split_once("(exit ")
        .and_then(|(_, s)| s.split_once(')'))
        .map_or(0, |(n, _)| {
            n.parse()
                .unwrap_or_else(|_| panic!("README.md:{line}: `(exit {n})` is not a status"))
        });
    let output = note
        .split_once("⇒ ")
        .map(|(_, shown)| vec![shown.trim_end().to_string()]);
    Step {
        line,
        command: text.to_string(),
        status,
        output,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a scratch directory");
    for entry in std::fs::read_dir(from).expect("list a directory") {
        let entry = entry.expect("a directory entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy an example");
        }
    }
}

/// Runs `command` with `sh` in `dir`: its exit status and its output, stdout and stderr
/// together as a terminal shows them, or why it could not run.
fn run(command: &str, dir: &Path, path: &std::ffi::OsStr) -> Result<(i32, String), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1 </dev/null\n{command}"))
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
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("ran longer than {TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for sh: {e}")),
        }
    };
    let bytes = reader.join().map_err(|_| "the output reader failed")?;
    let text = String::from_utf8(bytes).map_err(|e| format!("the output is not UTF-8: {e}"))?;
    let code = status
        .code()
        .ok_or_else(|| format!("killed by a signal ({status})"))?;
    Ok((code, text))
}

#[test]
fn the_tour_runs_as_written() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    copy_dir(&root().join("examples"), &scratch.path().join("examples"));
    // Only the binary under test is added to the PATH, under the name the README uses.
    let bin = tempfile::tempdir().expect("a directory for the binary");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_scimap"), bin.path().join("scimap"))
        .expect("link the binary");
    let path = std::env::join_paths(std::iter::once(PathBuf::from(bin.path())).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("a PATH");

    let steps = steps(&readme());
    assert!(
        steps.len() >= 10,
        "the tour has its commands: {}",
        steps.len()
    );
    let mut failures = Vec::new();
    for s in &steps {
        let (status, output) = match run(&s.command, scratch.path(), &path) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("README.md:{}: `{}`: {e}", s.line, s.command));
                continue;
            }
        };
        if status != s.status {
            failures.push(format!(
                "README.md:{}: `{}` exited {status}, the README says {}:\n{output}",
                s.line, s.command, s.status
            ));
        }
        if let Some(want) = &s.output {
            let got: Vec<&str> = output.lines().map(str::trim_end).collect();
            let want: Vec<&str> = want.iter().map(|l| l.trim_end()).collect();
            if got != want {
                failures.push(format!(
                    "README.md:{}: `{}` printed\n{}\n-- but the README shows --\n{}",
                    s.line,
                    s.command,
                    got.join("\n"),
                    want.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn shown_files_are_the_real_ones() {
    let mut shown = Vec::new();
    for block in blocks(&readme()) {
        let marker = block.before.iter().rev().find(|l| !l.trim().is_empty());
        let Some(file) = marker
            .and_then(|l| l.trim().strip_prefix("<!-- file: "))
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let real = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("README.md:{}: {file}: {e}", block.line));
        let body: String = block.body.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(body, real, "README.md:{}: not {file} as it is", block.line);
        shown.push(file.to_string());
    }
    assert!(
        shown.iter().any(|f| f == "examples/trello.scimap"),
        "the README shows examples/trello.scimap: {shown:?}"
    );
}

/// The notation's own cases: comments give statuses and outputs, a `text` block the output of
/// the command before it, and commands outside the tour are not run.
#[test]
fn the_notation_reads_as_documented() {
    let text = "```sh\ncargo run --release -- check a.scimap\ncargo xtask ci\n```\n\
                <!-- tour -->\n```sh\n# a comment\nscimap x  # fails (exit 1)\n\
                scimap y  # ⇒ \"ok\"\n\nscimap z\n```\n\n```text\nline 1\nline 2\n```\n\
                <!-- /tour -->\n```sh\nscimap not-run\n```\n";
    let s = steps(text);
    let got: Vec<(&str, i32, Option<Vec<String>>)> = s
        .iter()
        .map(|s| (s.command.as_str(), s.status, s.output.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("scimap check a.scimap", 0, None),
            ("scimap x  # fails (exit 1)", 1, None),
            ("scimap y  # ⇒ \"ok\"", 0, Some(vec!["\"ok\"".to_string()])),
            (
                "scimap z",
                0,
                Some(vec!["line 1".to_string(), "line 2".to_string()])
            ),
        ]
    );
}
