//! The command line against hostile inputs and environments: files read within their limits
//! (`/dev/zero` included), record files streamed, over-long bulk lines answered at once, an
//! output that is the input refused, write errors on stdout and stderr, every limit at 0 and at
//! its maximum, control characters kept off the terminal. Every run is killed after `TIMEOUT`,
//! so a hang fails the test instead of stalling CI; big inputs are generated here.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What the child reads on stdin.
enum Feed {
    Bytes(Vec<u8>),
    File(File),
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON value ({e}): {}",
                String::from_utf8_lossy(&self.stdout)
            )
        })
    }

    fn lines(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

fn spawn(args: &[&str], stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("the scimap binary starts")
}

/// Waits for the child, killing it after `TIMEOUT`.
fn wait(child: &mut Child, args: &[&str]) -> i32 {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for scimap") {
            // A signal (an abort, a stack overflow) has no code.
            return status
                .code()
                .unwrap_or_else(|| panic!("scimap {args:?} was killed: {status:?}"));
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scimap {args:?} did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `scimap ARGS`; stdout and stderr are captured unless given (a file such as /dev/full).
/// Never a panic, whatever the outcome.
fn run_with(args: &[&str], feed: Feed, stdout: Option<File>, stderr: Option<File>) -> Run {
    let (stdin, bytes) = match feed {
        Feed::Bytes(b) => (Stdio::piped(), Some(b)),
        Feed::File(f) => (Stdio::from(f), None),
    };
    let captured_out = stdout.is_none();
    let captured_err = stderr.is_none();
    let mut child = spawn(
        args,
        stdin,
        stdout.map_or_else(Stdio::piped, Stdio::from),
        stderr.map_or_else(Stdio::piped, Stdio::from),
    );
    // A child that exits early closes the pipe; that write error is not the test's concern.
    let writer = bytes.map(|data| {
        let mut input = child.stdin.take().expect("piped stdin");
        std::thread::spawn(move || {
            let _ = input.write_all(&data);
        })
    });
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut v);
            }
            v
        })
    };
    let out = read_all(
        captured_out
            .then(|| Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>),
    );
    let err = read_all(
        captured_err
            .then(|| Box::new(child.stderr.take().expect("stderr")) as Box<dyn Read + Send>),
    );
    let code = wait(&mut child, args);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out.join().expect("stdout reader");
    let stderr = String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned();
    assert_ne!(code, 101, "scimap {args:?} panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "scimap {args:?}: {stderr}");
    Run {
        code,
        stdout,
        stderr,
    }
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    run_with(args, Feed::Bytes(stdin.to_vec()), None, None)
}

/// Runs `scimap ARGS` with its address space capped (`ulimit -v`, in KiB): more memory than
/// that is an allocation failure, an abort.
fn run_capped(kib: u64, args: &[&str]) -> Run {
    let script = format!("ulimit -v {kib} && exec \"$0\" \"$@\"");
    let mut child = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_scimap")])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut stderr = String::new();
    let _ = err.read_to_string(&mut stderr);
    let code = wait(&mut child, args);
    Run {
        code,
        stdout: reader.join().expect("stdout reader"),
        stderr,
    }
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write a temporary file");
    path.to_str().expect("a UTF-8 path").to_string()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

const MAPPING: &str = "user {\n  userName = username\n}\n";
const RECORD: &str = r#"{"username":"ada"}"#;

// ---------------------------------------------------------------------------------------------
// Files read within their limits

#[test]
fn an_endless_mapping_file_is_the_source_bytes_error_at_once() {
    let d = dir();
    let records = write(d.path(), "r.json", RECORD.as_bytes());
    for args in [
        vec!["check", "/dev/zero"],
        vec!["eval", "/dev/zero", "--user", &records],
        vec!["bulk", "/dev/zero"],
        vec!["fmt", "/dev/zero"],
    ] {
        let r = run(&args, b"");
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("scimap::limit")
                && r.stderr
                    .contains("more than 1048576 bytes, over the limit `source-bytes` (1048576)"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn a_mapping_file_over_source_bytes_is_named_with_its_size() {
    let d = dir();
    // A BOM does not count, as in the library.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(MAPPING.as_bytes());
    let m = write(d.path(), "m.scimap", &bytes);
    let fits = format!("source-bytes={}", MAPPING.len());
    let over = format!("source-bytes={}", MAPPING.len() - 1);
    assert_eq!(run(&["check", "--limit", &fits, &m], b"").code, 0);
    let r = run(&["check", "--limit", &over, &m], b"");
    assert_eq!(r.code, 1);
    let expected = format!(
        "the mapping is {} bytes, over the limit `source-bytes` ({})",
        MAPPING.len(),
        MAPPING.len() - 1
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
}

#[test]
fn a_record_file_that_never_ends_is_refused_at_once() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    // Not JSON at its first byte.
    let r = run(&["eval", &m, "--user", "/dev/zero"], b"");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("/dev/zero: not JSON at line 1 column 1"),
        "{}",
        r.stderr
    );
    // Valid JSON that never ends: the selected record passes line-bytes, and reading stops.
    let endless = vec![b'['; 8 << 20];
    for args in [
        vec![
            "eval",
            &m,
            "--user",
            "/dev/stdin",
            "--limit",
            "line-bytes=1000",
        ],
        vec![
            "expr",
            "--user",
            "/dev/stdin",
            "1",
            "--limit",
            "line-bytes=1000",
        ],
    ] {
        let r = run(&args, &endless);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("error[scimap::limit]: the record is over the limit `line-bytes` (1000)"),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_big_record_array_is_read_only_as_far_as_the_selected_record() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    // 50 MB of small records: parsed whole as one value, they took gigabytes; one record at a
    // time, the first answers at once.
    let mut text = String::with_capacity(51 << 20);
    text.push_str("[\n");
    let mut n = 0;
    while text.len() < 50 << 20 {
        text.push_str(&format!("{{\"username\":\"user{n}\"}},"));
        n += 1;
    }
    text.push_str("{\"username\":\"last\"}\n]\n");
    let big = write(d.path(), "big.json", text.as_bytes());
    // 256 MiB of address space, the file is 50 MB: it is never held whole.
    let capped = |args: &[&str]| run_capped(256 << 10, args);
    let r = capped(&["eval", &m, "--user", &big, "--pick", "0"]);
    assert_eq!(
        (r.code, r.json()["userName"].clone()),
        (0, json!("user0")),
        "{}",
        r.stderr
    );
    let r = capped(&["eval", &m, "--user", &big, "--where", "username=user3"]);
    assert_eq!((r.code, r.json()["userName"].clone()), (0, json!("user3")));
    // The last record is still found, reading to the end one record at a time (a tail of the
    // file: the whole one takes half a minute in a debug build).
    let tail = write(
        d.path(),
        "tail.json",
        format!(
            "[{}",
            &text[text.len() - (5 << 20)..].trim_start_matches(|c| c != '{')
        )
        .as_bytes(),
    );
    let r = capped(&["eval", &m, "--user", &tail, "--where", "username=last"]);
    assert_eq!((r.code, r.json()["userName"].clone()), (0, json!("last")));
    let r = capped(&["expr", "--user", &big, "--pick", "2", "username ?? \"\""]);
    assert_eq!(
        (r.code, String::from_utf8_lossy(&r.stdout).into_owned()),
        (0, "\"user2\"\n".to_string())
    );
}

#[test]
fn record_files_over_line_bytes_and_broken_ones() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    let long = format!(r#"{{"username":"{}"}}"#, "x".repeat(100));
    let cap = ["--limit", "line-bytes=50"];
    // A long record that is not selected is skipped without being read whole.
    let file = write(d.path(), "a.json", format!("[{long}, {RECORD}]").as_bytes());
    let mut args = vec!["eval", &m, "--user", &file, "--pick", "1"];
    args.extend(cap);
    let r = run(&args, b"");
    assert_eq!((r.code, r.json()["userName"].clone()), (0, json!("ada")));
    // Selected, it fails as a record (its error object on stdout, exit 1).
    let mut args = vec!["eval", &m, "--user", &file];
    args.extend(cap);
    let r = run(&args, b"");
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["errors"][0]["code"], "scimap::limit");
    // `--where` says when records it could not search might have matched.
    let mut args = vec!["eval", &m, "--user", &file, "--where", "username=nobody"];
    args.extend(cap);
    let r = run(&args, b"");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "no record has username = nobody (1 record over a limit could not be searched)"
        ),
        "{}",
        r.stderr
    );
    // A record that is not JSON, before the selected one, makes the file not JSON: its place.
    let broken = write(
        d.path(),
        "b.ndjson",
        format!("{RECORD}\n{{\"username\":}}\n{RECORD}\n").as_bytes(),
    );
    let r = run(&["eval", &m, "--user", &broken, "--pick", "2"], b"");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("b.ndjson: the record at line 2 column 1: the record is not valid JSON: expected value at line 1 column 13"),
        "{}",
        r.stderr
    );
    for (content, reason) in [
        (
            "[{}, {}] {}",
            "not JSON at line 1 column 10: `{` after the array of records",
        ),
        (
            "[{} {}]",
            "not JSON at line 1 column 5: expected `,` or `]`, found `{`",
        ),
        (
            "{\"a\":\"unterminated",
            "not JSON at line 1 column 19: the file ends inside a value",
        ),
    ] {
        let f = write(d.path(), "c.json", content.as_bytes());
        let r = run(&["eval", &m, "--user", &f, "--pick", "5"], b"");
        assert_eq!(r.code, 2, "{content}");
        assert!(r.stderr.contains(reason), "{content}: {}", r.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// bulk: an over-long line is answered at once

#[test]
fn bulk_answers_an_endless_line_before_its_end() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    // NDJSON, then a JSON array whose second item, a string, never ends.
    for (threads, array) in [("1", false), ("2", false), ("1", true), ("2", true)] {
        let args = [
            "bulk",
            &m,
            "--threads",
            threads,
            "--limit",
            "line-bytes=100",
        ];
        let mut child = spawn(&args, Stdio::piped(), Stdio::piped(), Stdio::null());
        let mut input = child.stdin.take().expect("stdin");
        // One good line, then a line that never ends: written until the child is killed.
        let writer = std::thread::spawn(move || {
            let chunk = vec![b'x'; 1 << 16];
            let _ = if array {
                write!(input, "[{RECORD}, \"")
            } else {
                writeln!(input, "{RECORD}")
            };
            while input.write_all(&chunk).is_ok() {}
        });
        let out = child.stdout.take().expect("stdout");
        let (lines, got) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().take(2) {
                let _ = lines.send(line);
            }
        });
        let mut received = Vec::new();
        while received.len() < 2 {
            match got.recv_timeout(TIMEOUT) {
                Ok(line) => received.push(line.expect("a line")),
                Err(e) => {
                    let _ = child.kill();
                    panic!(
                        "threads {threads}, array {array}: {} lines, then {e}",
                        received.len()
                    );
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = writer.join();
        let first: Value = serde_json::from_str(&received[0]).expect("JSON");
        let second: Value = serde_json::from_str(&received[1]).expect("JSON");
        assert_eq!(first["userName"], "ada");
        assert_eq!(
            (&second["line"], &second["error"]["errors"][0]["code"]),
            (&json!(2), &json!("scimap::limit"))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Never overwrite an input

#[test]
fn bulk_refuses_an_output_that_is_its_input_or_its_mapping() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    let input = format!("{RECORD}\n");
    let i = write(d.path(), "in.ndjson", input.as_bytes());
    let symlink = d.path().join("link.ndjson");
    std::os::unix::fs::symlink(&i, &symlink).expect("a symbolic link");
    let hard = d.path().join("hard.ndjson");
    std::fs::hard_link(&i, &hard).expect("a hard link");
    let (symlink, hard) = (
        symlink.to_str().expect("UTF-8"),
        hard.to_str().expect("UTF-8"),
    );
    for (inp, out, what) in [
        (i.as_str(), i.as_str(), "the input"),
        (i.as_str(), symlink, "the input"),
        (hard, symlink, "the input"),
        (i.as_str(), m.as_str(), "the mapping"),
    ] {
        let r = run(&["bulk", &m, "--input", inp, "--output", out], b"");
        assert_eq!(r.code, 2, "{inp} → {out}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "--output {out} is {what} file: refusing to write to it"
            )),
            "{}",
            r.stderr
        );
    }
    // Through stdin and stdout: the input as stdin, or stdout appending to the input.
    let r = run_with(
        &["bulk", &m, "--output", &i],
        Feed::File(File::open(&i).expect("open")),
        None,
        None,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(hard)
        .expect("open to append");
    let r = run_with(
        &["bulk", &m, "--input", &i],
        Feed::Bytes(Vec::new()),
        Some(append),
        None,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("stdout is the input file: refusing to write to it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&i).expect("read"), input);
    assert_eq!(std::fs::read_to_string(&m).expect("read"), MAPPING);
    // Another file is written as before; /dev/null as input and output is fine.
    let o = write(
        d.path(),
        "out.ndjson",
        b"old content, longer than the new one\n\n\n\n\n\n\n\n\n",
    );
    let r = run(&["bulk", &m, "--input", &i, "--output", &o], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&o).expect("read"),
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"ada\"}\n"
    );
    let r = run(
        &["bulk", &m, "--input", "/dev/null", "--output", "/dev/null"],
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// Write errors

fn full() -> File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

#[test]
fn a_full_stdout_or_stderr_is_exit_2_never_a_panic() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    let ugly = write(d.path(), "u.scimap", b"user {\nuserName=username\n}\n");
    let typo = write(d.path(), "t.scimap", b"user {\n  usrName = username\n}\n");
    let r = write(d.path(), "r.json", RECORD.as_bytes());
    let lines = format!("{RECORD}\n").repeat(3);
    // Each writes to stdout, stderr or both.
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", &typo], ""),
        (vec!["check", "--format", "json", &typo], ""),
        (vec!["check", "--format", "github", &typo], ""),
        (vec!["eval", &m, "--user", &r], ""),
        (vec!["eval", &m, "--user", &r, "--explain"], ""),
        (vec!["bulk", &m, "--threads", "1"], &lines),
        (vec!["bulk", &m, "--threads", "2"], &lines),
        (vec!["expr", "1 + 1"], ""),
        (vec!["expr", "int(\"x\")"], ""),
        (vec!["expr", "--lines"], "1\n2\n"),
        (vec!["fmt", "--check", &ugly], ""),
        (vec!["functions"], ""),
        (vec!["functions", "lower"], ""),
        (vec!["--help"], ""),
        (vec!["--version"], ""),
        (vec!["check"], ""),
    ];
    for (args, stdin) in &commands {
        let feed = || Feed::Bytes(stdin.as_bytes().to_vec());
        let normal = run_with(args, feed(), None, None);
        if !normal.stdout.is_empty() {
            let r = run_with(args, feed(), Some(full()), None);
            assert_eq!(r.code, 2, "{args:?} >/dev/full: {}", r.stderr);
            assert!(
                r.stderr.contains("cannot write to stdout")
                    || r.stderr.contains("cannot write output"),
                "{args:?}: {}",
                r.stderr
            );
        }
        if !normal.stderr.is_empty() {
            let r = run_with(args, feed(), None, Some(full()));
            assert_eq!(r.code, 2, "{args:?} 2>/dev/full");
        }
    }
}

#[test]
fn a_closed_pipe_on_stdout_is_exit_2() {
    let d = dir();
    let m = write(d.path(), "m.scimap", MAPPING.as_bytes());
    // Far more output than a pipe holds.
    let input = write(
        d.path(),
        "in.ndjson",
        format!("{RECORD}\n").repeat(100_000).as_bytes(),
    );
    for threads in ["1", "2"] {
        let args = ["bulk", &m, "--input", &input, "--threads", threads];
        let mut child = spawn(&args, Stdio::null(), Stdio::piped(), Stdio::piped());
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 10];
        out.read_exact(&mut first).expect("some output");
        drop(out);
        let mut err = child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let code = wait(&mut child, &args);
        let stderr = reader.join().expect("stderr");
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("cannot write output") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Every limit at 0 and at its maximum

#[test]
fn every_command_with_every_limit_at_zero_and_at_its_maximum_exits_cleanly() {
    let d = dir();
    let m = write(
        d.path(),
        "m.scimap",
        b"user {\n  userName    = lower(username ?? \"x\") + \"!\"\n  title       = join(map(1..3, string(#)), \",\")\n  nickName    = (username ?? \"\") matches \"^[a-z]+$\" ? \"y\" : \"n\"\n  displayName = $.displayname\n}\n\ngroup {\n  displayName = $.name\n}\n",
    );
    let r = write(d.path(), "r.json", RECORD.as_bytes());
    let line = format!("{RECORD}\n");
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (vec!["check", &m], ""),
        (vec!["eval", &m, "--user", &r], ""),
        (vec!["bulk", &m, "--threads", "1"], &line),
        (vec!["bulk", &m, "--threads", "2"], &line),
        (
            vec![
                "expr",
                "--user",
                &r,
                "upper(username ?? \"\") + string(sum(1..4))",
            ],
            "",
        ),
        (vec!["expr", "--lines"], "1 + 1\n[1, 2][0]\n"),
        (vec!["fmt", "--check", &m], ""),
        (vec!["functions", "lower"], ""),
    ];
    let names = [
        "source-bytes",
        "depth",
        "steps",
        "string-bytes",
        "list-items",
        "regex-bytes",
        "line-bytes",
        "memory",
    ];
    for value in ["0", "18446744073709551615"] {
        // Each limit alone, then all of them at once.
        let mut settings: Vec<Vec<String>> = names
            .iter()
            .map(|name| vec![format!("{name}={value}")])
            .collect();
        settings.push(names.iter().map(|name| format!("{name}={value}")).collect());
        for limits in &settings {
            for (args, stdin) in &commands {
                let mut all = args.clone();
                for limit in limits {
                    all.extend(["--limit", limit]);
                }
                let r = run(&all, stdin.as_bytes());
                assert!(
                    (0..=2).contains(&r.code),
                    "{all:?}: exit {}: {}",
                    r.code,
                    r.stderr
                );
            }
        }
    }
    // At its maximum a limit is no limit: the record goes through.
    let r = run(
        &["bulk", &m, "--limit", "line-bytes=18446744073709551615"],
        line.as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.lines()[0]["userName"], "ada!");
}

// ---------------------------------------------------------------------------------------------
// Control characters stay off the terminal

#[test]
fn control_characters_from_records_and_file_names_are_escaped() {
    let d = dir();
    let m = write(
        d.path(),
        "m.scimap",
        b"user {\n  userName = username\n  title    = int(displayname ?? \"\")\n}\n",
    );
    let record =
        br#"{"username":"ada","displayname":"\u001b[2J\u001b]0;owned\u0007\u009b31m\r\nforged"}"#;
    let r = write(d.path(), "r.json", record);
    for args in [
        vec!["eval", &m, "--user", &r],
        vec!["eval", &m, "--user", &r, "--explain"],
    ] {
        let run = run(&args, b"");
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {:?}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{9b}31m\\u{d}\\u{a}forged"),
            "{}",
            run.stderr
        );
    }
    // A file name with an escape sequence, in a diagnostic and in an error message.
    let name = "evil\u{1b}[31m.scimap";
    // Unknown to `check`, not formatted for `fmt`.
    let evil = write(d.path(), name, b"user {\nusrName = username\n}\n");
    let missing = d.path().join("gone\u{1b}[2J.json");
    let missing = missing.to_str().expect("UTF-8");
    for (args, code) in [
        (vec!["check", &evil], 1),
        (vec!["fmt", "--check", &evil], 1),
        (vec!["eval", &m, "--user", missing], 2),
    ] {
        let run = run(&args, b"");
        assert_eq!(run.code, code, "{}", run.stderr);
        assert!(
            !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {:?}",
            run.stderr
        );
        assert!(run.stderr.contains("\\u{1b}["), "{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// fmt keeps every comment

#[test]
fn fmt_rewrites_a_file_keeping_its_comments() {
    let d = dir();
    let source = "/* a */ user {\n/* b */ userName=username // c\n  /* d */ title = username /* e */\n} /* f */\n// g\n";
    let m = write(d.path(), "m.scimap", source.as_bytes());
    let r = run(&["fmt", &m], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = std::fs::read_to_string(&m).expect("read");
    assert_ne!(out, source);
    for c in [
        "/* a */", "/* b */", "// c", "/* d */", "/* e */", "/* f */", "// g",
    ] {
        assert_eq!(out.matches(c).count(), 1, "{c} in:\n{out}");
    }
}

/// A syntax error far into one long entry or expression: named where it is, with the token
/// found, and a help that says why there is no list of what was expected (the parser that
/// writes that list is not asked past 64 KiB into an entry; reference §limits-mappings).
#[test]
fn a_syntax_error_deep_into_a_long_entry_is_named_where_it_is() {
    // Over 64 KiB, under the 128 KiB a single command-line argument may have.
    let items = ", [1]".repeat(15_000);
    let d = dir();
    let mapping = write(
        d.path(),
        "long.scimap",
        format!("user {{\n  userName = username\n  title = string([1{items},,])\n}}\n").as_bytes(),
    );
    let long = run(&["check", "--format", "json", &mapping], b"");
    assert_eq!(long.code, 1, "{}", long.stderr);
    let diagnostics: Value = serde_json::from_slice(&long.stdout).expect("JSON diagnostics");
    let first = &diagnostics[0];
    assert_eq!(first["code"], "scimap::syntax", "{first}");
    assert_eq!(first["message"], "unexpected `,`", "{first}");
    assert_eq!(first["line"], 3, "{first}");
    assert!(
        first["help"]
            .as_str()
            .unwrap_or_default()
            .contains("64 KiB"),
        "{first}"
    );
    // The same error in a short entry gets the grammar's full message.
    let short = write(
        d.path(),
        "short.scimap",
        b"user {\n  userName = username\n  title = string([1, [1],,])\n}\n",
    );
    let short = run(&["check", "--format", "json", &short], b"");
    let diagnostics: Value = serde_json::from_slice(&short.stdout).expect("JSON diagnostics");
    assert_eq!(
        diagnostics[0]["message"],
        "expected an expression, found `,`"
    );
    // And in `scimap expr`.
    let expression = format!("[1{items},,]");
    let expr = run(&["expr", &expression], b"");
    assert_eq!(expr.code, 1, "{}", expr.stderr);
    assert!(expr.stderr.contains("unexpected `,`"), "{}", expr.stderr);
    assert!(
        expr.stderr.contains("into the expression"),
        "{}",
        expr.stderr
    );
}
