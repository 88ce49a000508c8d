//! Records streamed through `scimap bulk` on two threads: exactly one output line per input
//! line, in order, with bad lines mid-stream. By default 20,000 lines (what a debug build
//! streams in seconds, over a hundred chunks of the parallel engine); a million (~1.7 GB through
//! a pipe) with
//!
//! ```sh
//! SCIMAP_BULK_LINES=1000000 cargo test --release --test bulk_million
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};

/// `SCIMAP_BULK_LINES`, or 20,000.
fn lines() -> usize {
    std::env::var("SCIMAP_BULK_LINES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

/// Every 997th line is not a record.
fn is_bad(n: usize) -> bool {
    n.is_multiple_of(997)
}

#[test]
fn every_line_comes_out_one_for_one_in_order() {
    let total = lines();
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
        .args(["--threads", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = BufWriter::new(stdin);
        for n in 1..=total {
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
    assert_eq!(n, total);
    assert_eq!(status.code(), Some(1));
    assert!(
        summary.contains(&format!(
            "{total} records, {} ok, {failed} failed",
            total - failed
        )),
        "{summary}"
    );
}
