//! Diagnostics after a keystroke (issue 16's goal: under 10 ms for a 200-entry mapping).
//! Figures in BENCHMARKS.md, "Language server".
//!
//! The mapping: a user section of 200 entries — `userName`, 199 attributes of a declared
//! extension schema, sources alternating an expression over a `let` and two functions, a
//! Direct path, a filter-and-map expression and a constant — and one `let`.
//!
//! * `ide/keystroke` — the language service alone: one character typed into a string literal
//!   of the middle entry ([`scimap::ide::edit`]), the text analysed ([`Analysis::new`]: parse,
//!   check, compile) and its diagnostics converted to editor ranges.
//! * `lsp/keystroke` — the whole server: `scimap lsp` (this profile's binary) over stdio; one
//!   `didChange` of one character sent, timed until its `publishDiagnostics` is read. Framing,
//!   JSON both ways and the pipe are in it.
//!
//! `cargo bench --bench ide` measures; `-- --test` runs each once.

use criterion::{criterion_group, criterion_main, Criterion};
use scimap::ide::{self, Analysis, Position, Range};
use scimap::Options;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

const ENTRIES: usize = 200;
const URN: &str = "urn:example:params:scim:schemas:extension:bench:2.0:User";

fn mapping() -> String {
    let attributes: Vec<String> = (1..ENTRIES).map(|i| format!("  a{i}: string")).collect();
    let mut out = format!("schema \"{URN}\" {{\n{}\n", attributes.join(",\n"));
    out.push_str(
        "}\n\nuser {\n  let fullName = trim((firstname ?? \"\") + \" \" + (lastname ?? \"\"))\n\n",
    );
    out.push_str("  userName = $.username\n");
    for i in 1..ENTRIES {
        let source = match i % 4 {
            0 => format!("lower(fullName) + \"-{i}\""),
            1 => "$.email".to_string(),
            2 => "join(map(filter(addresses ?? [], .type == \"work\"), .locality ?? \"\"), \", \")"
                .to_string(),
            _ => format!("const \"value {i}\""),
        };
        out.push_str(&format!("  {URN}:a{i} = {source}\n"));
    }
    out.push_str("}\n");
    out
}

/// Where the keystroke goes: inside the string literal of the middle entry's expression.
fn keystroke_position(text: &str) -> Position {
    let needle = format!("\"-{}\"", ENTRIES / 2);
    let at = text.find(&needle).expect("the middle entry") + 2;
    let line = text[..at].matches('\n').count() as u32;
    let character = (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u32;
    Position { line, character }
}

fn service(c: &mut Criterion) {
    let text = mapping();
    let options = Options::default();
    let before = Analysis::new(&text, &options);
    assert!(
        before.diagnostics().iter().all(|d| !d.is_error()),
        "the bench mapping compiles: {:?}",
        before.diagnostics()
    );
    let at = keystroke_position(&text);
    let mut typed = false;
    c.bench_function("ide/keystroke", |b| {
        b.iter(|| {
            // Alternately type a character and delete it, as keystrokes would.
            let mut edited = text.clone();
            let end = Position {
                character: at.character + u32::from(typed),
                ..at
            };
            ide::edit(
                &mut edited,
                Range { start: at, end },
                if typed { "" } else { "x" },
            );
            typed = !typed;
            let analysis = Analysis::new(&edited, &options);
            analysis.problems()
        })
    });
}

struct Server {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the server stays up"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    fn until_diagnostics(&mut self) -> Value {
        loop {
            let m = self.receive();
            if m["method"] == "textDocument/publishDiagnostics" {
                return m;
            }
        }
    }
}

fn server(c: &mut Criterion) {
    let text = mapping();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn scimap lsp");
    let mut server = Server {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
    };
    server.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "rootUri": null, "capabilities": {}}}));
    server.receive();
    server.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let uri = "file:///bench/bench.scimap";
    server.send(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "scimap", "version": 1, "text": text}}}));
    let opened = server.until_diagnostics();
    assert!(
        opened["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] != 1),
        "the bench mapping compiles"
    );
    let at = keystroke_position(&text);
    let mut version = 1;
    c.bench_function("lsp/keystroke", |b| {
        b.iter(|| {
            version += 1;
            let typed = version % 2 == 0;
            let end = at.character + u32::from(!typed);
            let change = json!({
                "range": {"start": {"line": at.line, "character": at.character}, "end": {"line": at.line, "character": end}},
                "text": if typed { "x" } else { "" },
            });
            server.send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}));
            server.until_diagnostics()
        })
    });
    server.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    server.receive();
    server.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    child.wait().unwrap();
}

criterion_group!(benches, service, server);
criterion_main!(benches);
