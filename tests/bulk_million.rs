//! A million records through `scimap bulk`: exactly one output line per input line, in order,
//! with bad lines mid-stream. Ignored by default (it streams ~1.7 GB through a pipe); run it with
//!
//! ```sh
//! cargo test --release --test bulk_million -- --ignored
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};

const LINES: usize = 1_000_000;

/// Every 997th line is not a record.
fn is_bad(n: usize) -> bool {
    n.is_multiple_of(997)
}

#[test]
#[ignore = "streams a million records; run with --ignored (see the file's doc)"]
fn a_million_lines_come_out_one_for_one_in_order() {
    let root = env!("CARGO_MANIFEST_DIR");
    let users = std::fs::read_to_string(format!("{root}/tests/fixtures/users.ndjson")).unwrap();
    let users: Vec<serde_json::Map<String, serde_json::Value>> = users
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("id.scimap");
    std::fs::write(
        &mapping,
        "user {\n  userName = $._id\n  displayName = $.displayname\n}\n",
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .arg("bulk")
        .arg(&mapping)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = BufWriter::new(stdin);
        for n in 1..=LINES {
            if is_bad(n) {
                writeln!(w, "not json {n}").unwrap();
            } else {
                let mut user = users[n % users.len()].clone();
                user.insert("_id".into(), format!("line-{n}").into());
                serde_json::to_writer(&mut w, &user).unwrap();
                w.write_all(b"\n").unwrap();
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());

    let mut n = 0;
    let mut failed = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        n += 1;
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if is_bad(n) {
            assert_eq!(v["line"], n, "line {n}");
            assert_eq!(v["error"]["errors"][0]["code"], "scimap::invalid-json");
        } else if v.get("error").is_some() {
            // Fixture users without a usable `_id` cannot fail here: every line has one.
            assert_eq!(v["id"], format!("line-{n}"), "line {n}: {line}");
        } else {
            assert_eq!(v["userName"], format!("line-{n}"), "line {n}");
        }
        failed += usize::from(v.get("error").is_some());
    }
    writer.join().unwrap();
    let status = child.wait().unwrap();
    let summary = errors.join().unwrap();
    assert_eq!(n, LINES);
    assert_eq!(status.code(), Some(1));
    assert!(
        summary.contains(&format!(
            "{LINES} records, {} ok, {failed} failed",
            LINES - failed
        )),
        "{summary}"
    );
}
