//! The bulk engine as a library (`scimap::bulk`): whatever the threads and the input's form
//! (NDJSON or a JSON array), the output is the line `Mapping::evaluate_line` (or `plan_line`)
//! gives for each record, in input order; over-long records, read and write errors and the
//! summary are reported as documented.

use scimap::bulk::{self, Error, Options, Summary};
use scimap::{Kind, Mapping};
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trello() -> Mapping {
    let source = std::fs::read_to_string(root().join("examples/trello.scimap")).unwrap();
    Mapping::compile(&source).unwrap()
}

/// 1,000 records, more than one chunk of a worker: the fixture users over and over, with
/// values that fail among them (not an object, an array, a user without a `username`).
fn records() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/users.ndjson")).unwrap();
    let users: Vec<&str> = text.lines().collect();
    (0..1000)
        .map(|i| match i % 97 {
            13 => "42".to_string(),
            41 => "[{\"username\": \"x\"}]".to_string(),
            77 => "{\"_id\": \"no-name\"}".to_string(),
            _ => users[i % users.len()].to_string(),
        })
        .collect()
}

/// What `evaluate_line` gives for each record, a line each, and how many succeeded.
fn expected(mapping: &Mapping, records: &[String]) -> (Vec<u8>, Summary) {
    let mut out = Vec::new();
    let mut ok = 0;
    for (i, record) in records.iter().enumerate() {
        ok += usize::from(mapping.evaluate_line(Kind::User, record.as_bytes(), i + 1, &mut out));
        out.push(b'\n');
    }
    let total = records.len();
    (out, Summary { total, ok })
}

fn evaluate(mapping: &Mapping, input: &[u8], options: &Options<'_>) -> (Vec<u8>, Summary) {
    let mut out = Vec::new();
    // A small buffer: records span several fills.
    let input = BufReader::with_capacity(7, input);
    let summary = bulk::evaluate(mapping, Kind::User, input, &mut out, options).unwrap();
    (out, summary)
}

#[test]
fn every_thread_count_and_both_input_forms_give_what_evaluate_line_gives() {
    let mapping = trello();
    let records = records();
    let (want, counts) = expected(&mapping, &records);
    assert_eq!(counts.total, 1000);
    assert!(counts.ok > 0 && counts.failed() >= 33, "{counts:?}");
    let ndjson = records.join("\n");
    let array = format!("\u{feff} \n[{}]\n", records.join(",\n"));
    for threads in [0, 1, 2, 3, 8] {
        let options = Options {
            threads,
            ..Options::default()
        };
        for input in [&ndjson, &array] {
            let (out, summary) = evaluate(&mapping, input.as_bytes(), &options);
            assert_eq!(summary, counts, "{threads} threads");
            assert!(out == want, "{threads} threads: the lines differ");
        }
    }
}

#[test]
fn an_over_long_record_is_an_error_line_and_the_run_goes_on() {
    let mapping = trello();
    let short = r#"{"_id": "1", "username": "ada", "email": "ada@example.com"}"#;
    let long = format!(r#"{{"_id": "2", "username": "{}"}}"#, "x".repeat(500));
    let input = format!("{short}\r\n{long}\n{short}\n");
    for threads in [1, 2] {
        let options = Options {
            threads,
            line_bytes: 100,
            progress: None,
        };
        let (out, summary) = evaluate(&mapping, input.as_bytes(), &options);
        assert_eq!(summary, Summary { total: 3, ok: 2 });
        let lines: Vec<serde_json::Value> = std::str::from_utf8(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["userName"], "ada");
        assert_eq!(lines[1]["line"], 2);
        assert_eq!(lines[1]["error"]["errors"][0]["code"], "scimap::limit");
        assert_eq!(
            lines[1]["error"]["message"],
            "the record is over the limit `line-bytes` (100)"
        );
        assert_eq!(lines[2]["userName"], "ada");
    }
}

/// The bytes given, then a read error.
struct ThenFail(Vec<u8>);

impl Read for ThenFail {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("the disk went away"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
        Ok(n)
    }
}

/// Takes `room` bytes, then fails.
struct Full {
    written: Vec<u8>,
    room: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written.len() + buf.len() > self.room {
            return Err(io::Error::other("no space left"));
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_and_write_errors_stop_the_run_after_the_lines_before_them() {
    let mapping = trello();
    let records = records();
    let (want, _) = expected(&mapping, &records);
    let mut ndjson = records.join("\n");
    ndjson.push('\n');
    for threads in [1, 2] {
        let options = Options {
            threads,
            ..Options::default()
        };
        let mut out = Vec::new();
        let input = BufReader::new(ThenFail(ndjson.clone().into_bytes()));
        let e = bulk::evaluate(&mapping, Kind::User, input, &mut out, &options).unwrap_err();
        assert!(matches!(e, Error::Read(_)), "{e:?}");
        assert_eq!(e.to_string(), "cannot read input: the disk went away");
        assert!(out == want, "every record before the fault is written");

        let mut full = Full {
            written: Vec::new(),
            room: want.len() / 2,
        };
        let e = bulk::evaluate(&mapping, Kind::User, ndjson.as_bytes(), &mut full, &options)
            .unwrap_err();
        assert_eq!(e.to_string(), "cannot write output: no space left");
        assert!(want.starts_with(&full.written));
    }
    // Not an array of values: a read error once the items before the fault are out.
    let input = format!("[{} {}]", records[0], records[0]);
    for threads in [1, 2] {
        let options = Options {
            threads,
            ..Options::default()
        };
        let mut out = Vec::new();
        let e =
            bulk::evaluate(&mapping, Kind::User, input.as_bytes(), &mut out, &options).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read input: not JSON at line 1"),
            "{e}"
        );
        assert_eq!(
            out.iter().filter(|&&b| b == b'\n').count(),
            1,
            "{threads} threads"
        );
    }
}

#[test]
fn plans_a_line_per_pair_and_reports_progress() {
    let mapping = trello();
    let records = records();
    // More than the 1,024 records between two reports on one thread.
    let pairs: Vec<String> = records
        .iter()
        .cycle()
        .take(3000)
        .map(|r| format!(r#"{{"record": {r}, "current": null}}"#))
        .collect();
    let mut want = Vec::new();
    let mut ok = 0;
    for (i, pair) in pairs.iter().enumerate() {
        ok += usize::from(mapping.plan_line(Kind::User, pair.as_bytes(), i + 1, &mut want));
        want.push(b'\n');
    }
    assert!(ok > 0 && ok < pairs.len());
    let input = pairs.join("\n");
    for threads in [1, 2] {
        let seen = Mutex::new(Vec::new());
        let progress = |done: usize| seen.lock().unwrap().push(done);
        let options = Options {
            threads,
            line_bytes: scimap::Limits::default().line_bytes,
            progress: Some(&progress),
        };
        let mut out = Vec::new();
        let summary =
            bulk::plan(&mapping, Kind::User, input.as_bytes(), &mut out, &options).unwrap();
        assert_eq!(summary, Summary { total: 3000, ok });
        assert!(out == want, "{threads} threads: the lines differ");
        let seen = seen.into_inner().unwrap();
        assert!(!seen.is_empty(), "{threads} threads: no progress");
        assert!(seen.windows(2).all(|w| w[0] < w[1]) && seen.iter().all(|&n| n <= 3000));
    }
}
