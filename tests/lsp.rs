//! `scimap lsp` over stdio, as an editor drives it: the real binary, framed JSON-RPC in and
//! out, every answer snapshotted (tests/snapshots/lsp__*.snap). Beside it, the diagnostics of
//! every UI fixture compared with `scimap check --format json`'s, offset for offset.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// A no-hang guard: a server that never answers fails the test instead of blocking it.
const GUARD: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A document's URI: fixed, so that the snapshots do not depend on the checkout's path (the
/// server reads documents from the client, never from disk).
fn uri(name: &str) -> String {
    format!("file:///scimap/{name}")
}

impl Client {
    fn start(initialization_options: Value) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimap"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn scimap lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 1,
            notifications: Vec::new(),
        };
        let init = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": format!("file://{}", root().display()),
                "capabilities": {},
                "initializationOptions": initialization_options,
            }),
        );
        insta::assert_json_snapshot!("initialize", init);
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The result of a request (an error response fails the test).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.response(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The whole response to a request.
    fn response(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(GUARD)
            .expect("the server answers (and stays up)")
    }

    /// The next diagnostics published for a document.
    fn diagnostics(&mut self, uri: &str) -> Value {
        loop {
            let found = self.notifications.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            });
            if let Some(i) = found {
                return self.notifications.remove(i)["params"]["diagnostics"].clone();
            }
            let message = self.receive();
            self.notifications.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "scimap", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    /// An incremental change: `range` replaced by `text`; the diagnostics it publishes.
    fn change(&mut self, uri: &str, version: u64, range: Value, text: &str) -> Value {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": range, "text": text}],
            }),
        );
        self.diagnostics(uri)
    }

    fn at(&mut self, method: &str, uri: &str, position: Value) -> Value {
        self.request(
            method,
            json!({"textDocument": {"uri": uri}, "position": position}),
        )
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "scimap lsp exits 0 after shutdown: {status}"
        );
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The position (0-based line, UTF-16 column) of the `nth` occurrence of `needle`, plus `delta`
/// characters (the fixtures are ASCII).
fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in the fixture"))
        + delta;
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": column})
}

fn range(text: &str, needle: &str) -> Value {
    json!({"start": pos(text, needle, 0), "end": pos(text, needle, needle.len())})
}

/// A completion list as `label: detail` lines, in the order given.
fn labels(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| match c["detail"].as_str() {
            Some(d) => format!("{}: {d}", c["label"].as_str().unwrap()),
            None => c["label"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn a_session_over_stdio() {
    let mut client = Client::start(json!({"userRecord": "examples/users.json"}));
    let text = std::fs::read_to_string(root().join("tests/lsp/session.scimap")).unwrap();
    let doc = uri("tests/lsp/session.scimap");

    insta::assert_json_snapshot!("diagnostics_on_open", client.open(&doc, &text));

    // Quick fixes for everything on the entries of the user section.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": doc},
            "range": {"start": pos(&text, "usrName", 0), "end": pos(&text, "title", 0)},
            "context": {"diagnostics": []},
        }),
    );
    insta::assert_json_snapshot!("code_actions", actions);

    // Typing the fix, one keystroke's change: `usrName` → `userName`.
    let fixed = client.change(&doc, 2, range(&text, "usrName"), "userName");
    insta::assert_json_snapshot!("diagnostics_after_change", fixed);
    let text = text.replacen("usrName", "userName", 1);
    // The quick fix of the other error, as the server gave it: the mapping compiles (warnings
    // only), so the inlay hints below have values.
    let qualify = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Qualify"))
        .expect("a quick fix qualifies employeeNumber");
    let edit = &qualify["edit"]["changes"][&doc][0];
    let warnings = client.change(
        &doc,
        3,
        edit["range"].clone(),
        edit["newText"].as_str().unwrap(),
    );
    assert!(
        warnings
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] == 2),
        "{warnings:#}"
    );
    let text = text.replacen("employeeNumber", edit["newText"].as_str().unwrap(), 1);

    let hovers: Vec<Value> = [
        ("userName", 2),
        ("name.formatted", 6),
        ("lower(", 1),
        ("displayname)", 3),
        ("fullName\n", 2),
        ("let fullName", 6),
        ("$.email", 4),
        ("state ==", 1),
        (".type ==", 2),
        ("hireYear =", 2),
    ]
    .iter()
    .map(|(needle, delta)| {
        json!({"at": needle, "hover": client.at("textDocument/hover", &doc, pos(&text, needle, *delta))})
    })
    .collect();
    insta::assert_json_snapshot!("hover", hovers);

    let use_of_let = pos(&text, "= fullName", 4);
    let definition = client.at("textDocument/definition", &doc, use_of_let.clone());
    let references = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": doc}, "position": use_of_let, "context": {"includeDeclaration": true}}),
    );
    let schema_refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": doc}, "position": pos(&text, "urn:example", 5), "context": {"includeDeclaration": true}}),
    );
    insta::assert_json_snapshot!(
        "navigation",
        json!({"definition": definition, "references": references, "schema_references": schema_refs})
    );

    let whole = json!({"textDocument": {"uri": doc}});
    insta::assert_json_snapshot!(
        "symbols",
        client.request("textDocument/documentSymbol", whole.clone())
    );
    insta::assert_json_snapshot!(
        "folding",
        client.request("textDocument/foldingRange", whole.clone())
    );
    insta::assert_json_snapshot!(
        "formatting",
        client.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": doc}, "options": {"tabSize": 2, "insertSpaces": true}}),
        )
    );
    let end = text.matches('\n').count();
    insta::assert_json_snapshot!(
        "inlay_hints",
        client.request(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": doc}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": end, "character": 0}}}),
        )
    );

    // Completion while typing: each case types into a fresh line of the user section, asks,
    // and takes the line out again.
    let line = pos(&text, "  active =", 0);
    let mut version = 4;
    let mut completions = serde_json::Map::new();
    // The documentation of one item of some lists: descriptions of targets and fields.
    let documented = [
        ("  nam", "name.givenName"),
        ("  title = $.recoveryEmail.", "verified"),
        ("  title = tri", "firstname"),
        ("  title = map(addresses ?? [], .", "country"),
    ];
    let mut documentation = serde_json::Map::new();
    for typed in [
        "  nam",
        "  emails[type eq \"",
        "  urn:",
        "  title = $.recoveryEmail.",
        "  title = tri",
        "  title = fullN",
        "  title = map(addresses ?? [], .",
        "  title = map(addresses ?? [], #",
        "  title = recoveryEmail.",
    ] {
        let insert = format!("{typed}\n");
        let at = json!({"start": line, "end": line});
        client.change(&doc, version, at, &insert);
        let cursor = json!({"line": line["line"], "character": typed.len()});
        let list = client.at("textDocument/completion", &doc, cursor);
        let end = json!({"line": line["line"].as_u64().unwrap() + 1, "character": 0});
        client.change(&doc, version + 1, json!({"start": line, "end": end}), "");
        version += 2;
        completions.insert(typed.to_string(), json!(labels(&list)));
        if let Some((_, label)) = documented.iter().find(|(t, _)| *t == typed) {
            let item = list
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["label"] == *label);
            let item = item.unwrap_or_else(|| panic!("{label} offered after {typed:?}"));
            documentation.insert(format!("{typed} → {label}"), item["documentation"].clone());
        }
    }
    insta::assert_json_snapshot!("completions", completions);
    insta::assert_json_snapshot!("completion_documentation", documentation);

    // In the app profile: the settings, then an attribute for `updatable`.
    let profile_line = pos(&text, "  updatable", 0);
    client.change(
        &doc,
        version,
        json!({"start": profile_line, "end": profile_line}),
        "  upd\n",
    );
    let cursor = json!({"line": profile_line["line"], "character": 5});
    let settings = labels(&client.at("textDocument/completion", &doc, cursor));
    insta::assert_json_snapshot!("completions_profile", settings);

    let next = json!({"line": profile_line["line"].as_u64().unwrap() + 1, "character": 0});
    client.change(
        &doc,
        version + 1,
        json!({"start": profile_line, "end": next}),
        "",
    );

    // In a schema declaration: the types an attribute may have.
    let schema_line = pos(&text, "  hireYear:", 0);
    client.change(
        &doc,
        version + 2,
        json!({"start": schema_line, "end": schema_line}),
        "  hireMonth: int\n",
    );
    let cursor = json!({"line": schema_line["line"], "character": 16});
    let types = labels(&client.at("textDocument/completion", &doc, cursor));
    assert_eq!(
        types,
        [
            "string",
            "boolean",
            "integer",
            "decimal",
            "dateTime",
            "reference"
        ]
    );
    client.shutdown();
}

/// Requests the server cannot answer get an error response, and it stays up: an unknown method,
/// bad parameters, a document that is not open, positions past the end of the text.
#[test]
fn bad_requests_get_errors_and_the_server_stays_up() {
    let mut client = Client::start(json!({"userRecord": "no/such/file.json"}));
    let warning = client.receive();
    assert_eq!(warning["method"], "window/showMessage", "{warning}");
    assert!(
        warning["params"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read the sample record"),
        "{warning}"
    );
    let error = |response: Value| response["error"]["code"].as_i64();
    assert_eq!(
        error(client.response("textDocument/unknown", json!({}))),
        Some(-32601)
    );
    assert_eq!(
        error(client.response("textDocument/hover", json!({"bad": 1}))),
        Some(-32602)
    );
    let closed = json!({"textDocument": {"uri": uri("closed.scimap")}, "position": {"line": 0, "character": 0}});
    assert_eq!(
        error(client.response("textDocument/hover", closed)),
        Some(-32602)
    );
    let doc = uri("far.scimap");
    client.open(&doc, "user {\n  userName = $.username\n}\n");
    let far = json!({"line": 999, "character": 999});
    assert_eq!(
        client.at("textDocument/hover", &doc, far.clone()),
        Value::Null
    );
    assert!(client
        .at("textDocument/completion", &doc, far)
        .as_array()
        .unwrap()
        .is_empty());
    // A change past the end appends; the server still answers.
    let end = json!({"start": {"line": 99, "character": 0}, "end": {"line": 99, "character": 0}});
    let diagnostics = client.change(&doc, 2, end, "group {\n}\n");
    assert_eq!(
        diagnostics[0]["code"], "scimap::missing-required",
        "{diagnostics}"
    );
    client.shutdown();
}

/// The diagnostics the server publishes are `check`'s: same code, severity, message (then its
/// label and help), same primary and secondary spans, for every UI fixture.
#[test]
fn diagnostics_are_checks() {
    let mut client = Client::start(json!({}));
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/ui"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "scimap"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() > 50, "the UI fixtures are there");
    for path in fixtures {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // Not UTF-8: an editor could not open it as text either.
        };
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let published = client.open(&uri(&name), &text);
        let checked = check_json(&path);
        let published = published.as_array().unwrap();
        assert_eq!(published.len(), checked.len(), "{name}: {published:#?}");
        for (lsp, check) in published.iter().zip(&checked) {
            assert_eq!(lsp["code"], check["code"], "{name}");
            assert_eq!(
                lsp["severity"],
                if check["severity"] == "error" { 1 } else { 2 }
            );
            let message = lsp["message"].as_str().unwrap();
            assert!(
                message.starts_with(check["message"].as_str().unwrap()),
                "{name}: {message}"
            );
            if let Some(help) = check["help"].as_str() {
                assert!(
                    message.ends_with(&format!("help: {help}")),
                    "{name}: {message}"
                );
            }
            let offsets = |r: &Value| (offset(&text, &r["start"]), offset(&text, &r["end"]));
            let clamp = |o: &Value| o.as_u64().unwrap() as usize;
            assert_eq!(
                offsets(&lsp["range"]),
                (clamp(&check["offset"]), clamp(&check["end_offset"])),
                "{name}: {}",
                check["message"]
            );
            let related = lsp["relatedInformation"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let labels = check["labels"].as_array().unwrap();
            assert_eq!(related.len(), labels.len(), "{name}");
            for (r, l) in related.iter().zip(labels) {
                assert_eq!(r["message"], l["message"]);
                assert_eq!(
                    offsets(&r["location"]["range"]),
                    (clamp(&l["offset"]), clamp(&l["end_offset"]))
                );
            }
        }
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri(&name)}}),
        );
        client.diagnostics(&uri(&name));
    }
    client.shutdown();
}

/// `scimap check --format json FILE`'s diagnostics.
fn check_json(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_scimap"))
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// The byte offset of an LSP position (UTF-16 column) in `text`.
fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let character = position["character"].as_u64().unwrap() as usize;
    let start = text
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .sum::<usize>();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= character || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}
