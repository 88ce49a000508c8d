//! `scimap lsp`: the language server, over stdio (reference §cli-lsp, §editors). The protocol
//! only: every answer comes from the library's language service, `scimap::ide`.
//!
//! One thread: each change re-analyses its document (well under the 10 ms of a keystroke for a
//! 200-entry mapping, BENCHMARKS.md) and publishes its diagnostics before the next message is
//! read, so answers always match the text they are about.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use serde_json::Value;

use scimap::ide::{self, Analysis};
use scimap::{Kind, Options, Severity};

/// The largest sample record file the inlay hints read.
const RECORD_BYTES: u64 = 16 << 20;

/// The sample records of the inlay hints (reference §editors-hints).
#[derive(Default)]
struct Samples {
    root: Option<PathBuf>,
    user: Option<Value>,
    group: Option<Value>,
}

struct Server {
    connection: Connection,
    options: Options,
    documents: HashMap<lsp::Uri, Analysis>,
    samples: Samples,
}

/// Serves until the client says `exit`; an error is a broken connection.
pub fn run(options: Options) -> Result<(), String> {
    let (connection, threads) = Connection::stdio();
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("lsp: no initialize request: {e}"))?;
    let params: lsp::InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("lsp: bad initialize request: {e}"))?;
    let result = lsp::InitializeResult {
        capabilities: capabilities(),
        server_info: Some(lsp::ServerInfo {
            name: "scimap".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| format!("lsp: initialize failed: {e}"))?;
    #[allow(deprecated)] // `rootUri` is what Neovim 0.7 sends; workspace folders come first.
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())
        .and_then(file_path);
    let mut server = Server {
        connection,
        options,
        documents: HashMap::new(),
        samples: Samples {
            root,
            ..Samples::default()
        },
    };
    if let Some(settings) = &params.initialization_options {
        server.configure(settings);
    }
    server.serve()?;
    // The writer thread ends when the connection's sender is dropped.
    drop(server);
    threads
        .join()
        .map_err(|e| format!("lsp: connection closed: {e}"))
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            },
        )),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(
                [".", "$", "#", "\"", "["]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..Default::default()
        }),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        inlay_hint_provider: Some(lsp::OneOf::Left(true)),
        ..Default::default()
    }
}

impl Server {
    fn serve(&mut self) -> Result<(), String> {
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(request) => {
                    let shutdown = self
                        .connection
                        .handle_shutdown(&request)
                        .map_err(|e| format!("lsp: {e}"))?;
                    if shutdown {
                        return Ok(());
                    }
                    let response = self.respond(request);
                    self.send(Message::Response(response));
                }
                Message::Notification(n) => self.notified(n),
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn send(&self, message: Message) {
        // A closed connection ends `serve` at the next receive.
        let _ = self.connection.sender.send(message);
    }

    fn notified(&mut self, n: Notification) {
        use lsp::notification as note;
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                    self.update(p.text_document.uri, p.text_document.text);
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri;
                    let Some(doc) = self.documents.get(&uri) else {
                        return;
                    };
                    let mut text = doc.text().to_string();
                    for change in p.content_changes {
                        match change.range {
                            // Each change is against the text the previous one left.
                            Some(range) => ide::edit(&mut text, convert(range), &change.text),
                            None => text = change.text,
                        }
                    }
                    self.update(uri, text);
                }
            }
            note::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    self.documents.remove(&p.text_document.uri);
                    self.publish(p.text_document.uri, Vec::new());
                }
            }
            note::DidChangeConfiguration::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeConfigurationParams>(n.params)
                {
                    let settings = p.settings.get("scimap").unwrap_or(&p.settings).clone();
                    self.configure(&settings);
                }
            }
            _ => {}
        }
    }

    /// Reads the settings `{ "userRecord": PATH, "groupRecord": PATH }`; a file that cannot be
    /// read is said in a message, and its hints are off.
    fn configure(&mut self, settings: &Value) {
        for (key, kind) in [("userRecord", Kind::User), ("groupRecord", Kind::Group)] {
            let Some(path) = settings.get(key).and_then(Value::as_str) else {
                continue;
            };
            let path = match &self.samples.root {
                Some(root) if Path::new(path).is_relative() => root.join(path),
                _ => PathBuf::from(path),
            };
            let record = match read_sample(&path) {
                Ok(record) => Some(record),
                Err(message) => {
                    self.show(lsp::MessageType::WARNING, &message);
                    None
                }
            };
            match kind {
                Kind::User => self.samples.user = record,
                Kind::Group => self.samples.group = record,
            }
        }
    }

    fn show(&self, typ: lsp::MessageType, message: &str) {
        let params = lsp::ShowMessageParams {
            typ,
            message: message.to_string(),
        };
        self.send(Message::Notification(Notification::new(
            lsp::notification::ShowMessage::METHOD.into(),
            params,
        )));
    }

    fn update(&mut self, uri: lsp::Uri, text: String) {
        let analysis = Analysis::new(&text, &self.options);
        let diagnostics = analysis
            .problems()
            .into_iter()
            .map(|p| diagnostic(&uri, p))
            .collect();
        self.documents.insert(uri.clone(), analysis);
        self.publish(uri, diagnostics);
    }

    fn publish(&self, uri: lsp::Uri, diagnostics: Vec<lsp::Diagnostic>) {
        let params = lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        self.send(Message::Notification(Notification::new(
            lsp::notification::PublishDiagnostics::METHOD.into(),
            params,
        )));
    }

    fn respond(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        // The service must not panic on any text; if it ever does, the editor gets an error
        // for that request and the server stays up.
        let answer =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(request)));
        match answer {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "scimap: internal error (a bug: please report it with the mapping)".into(),
            ),
        }
    }

    fn answer(&self, request: Request) -> Result<Value, (ErrorCode, String)> {
        use lsp::request as req;
        let params = request.params;
        let json = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| (ErrorCode::InternalError, e.to_string()))
        };
        match request.method.as_str() {
            req::Completion::METHOD => {
                let p: lsp::CompletionParams = parse(params)?;
                let pos = &p.text_document_position;
                let doc = self.document(&pos.text_document.uri)?;
                let items: Vec<lsp::CompletionItem> = doc
                    .completions(position(pos.position))
                    .into_iter()
                    .map(completion)
                    .collect();
                json(serde_json::to_value(lsp::CompletionResponse::Array(items)))
            }
            req::HoverRequest::METHOD => {
                let p: lsp::HoverParams = parse(params)?;
                let pos = &p.text_document_position_params;
                let doc = self.document(&pos.text_document.uri)?;
                let hover = doc.hover(position(pos.position)).map(|h| lsp::Hover {
                    contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                        kind: lsp::MarkupKind::Markdown,
                        value: h.markdown,
                    }),
                    range: Some(range(h.range)),
                });
                json(serde_json::to_value(hover))
            }
            req::GotoDefinition::METHOD => {
                let p: lsp::GotoDefinitionParams = parse(params)?;
                let pos = &p.text_document_position_params;
                let uri = &pos.text_document.uri;
                let doc = self.document(uri)?;
                let found = doc.definition(position(pos.position)).map(|r| {
                    lsp::GotoDefinitionResponse::Scalar(lsp::Location {
                        uri: uri.clone(),
                        range: range(r),
                    })
                });
                json(serde_json::to_value(found))
            }
            req::References::METHOD => {
                let p: lsp::ReferenceParams = parse(params)?;
                let pos = &p.text_document_position;
                let uri = &pos.text_document.uri;
                let doc = self.document(uri)?;
                let found: Vec<lsp::Location> = doc
                    .references(position(pos.position), p.context.include_declaration)
                    .into_iter()
                    .map(|r| lsp::Location {
                        uri: uri.clone(),
                        range: range(r),
                    })
                    .collect();
                json(serde_json::to_value(found))
            }
            req::Formatting::METHOD => {
                let p: lsp::DocumentFormattingParams = parse(params)?;
                let doc = self.document(&p.text_document.uri)?;
                // The lines `fmt` changes, each where it is; None when the text does not parse
                // (the diagnostics say why).
                let edits = doc
                    .format_edits()
                    .map(|edits| edits.into_iter().map(text_edit).collect::<Vec<_>>());
                json(serde_json::to_value(edits))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp::DocumentSymbolParams = parse(params)?;
                let doc = self.document(&p.text_document.uri)?;
                let symbols: Vec<lsp::DocumentSymbol> =
                    doc.symbols().into_iter().map(symbol).collect();
                json(serde_json::to_value(lsp::DocumentSymbolResponse::Nested(
                    symbols,
                )))
            }
            req::FoldingRangeRequest::METHOD => {
                let p: lsp::FoldingRangeParams = parse(params)?;
                let doc = self.document(&p.text_document.uri)?;
                let ranges: Vec<lsp::FoldingRange> = doc
                    .folding()
                    .into_iter()
                    .map(|(start, end)| lsp::FoldingRange {
                        start_line: start,
                        end_line: end,
                        ..Default::default()
                    })
                    .collect();
                json(serde_json::to_value(ranges))
            }
            req::CodeActionRequest::METHOD => {
                let p: lsp::CodeActionParams = parse(params)?;
                let uri = &p.text_document.uri;
                let doc = self.document(uri)?;
                let actions: Vec<lsp::CodeActionOrCommand> = doc
                    .code_actions(convert(p.range))
                    .into_iter()
                    .map(|a| {
                        let edits = a.edits.into_iter().map(text_edit).collect();
                        let diagnostics = p
                            .context
                            .diagnostics
                            .iter()
                            .filter(|d| {
                                d.range == range(a.diagnostic)
                                    && d.code
                                        == Some(lsp::NumberOrString::String(a.code.to_string()))
                            })
                            .cloned()
                            .collect::<Vec<_>>();
                        lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                            title: a.title,
                            kind: Some(lsp::CodeActionKind::QUICKFIX),
                            diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
                            edit: Some(lsp::WorkspaceEdit {
                                changes: Some(HashMap::from([(uri.clone(), edits)])),
                                ..Default::default()
                            }),
                            is_preferred: Some(a.preferred),
                            ..Default::default()
                        })
                    })
                    .collect();
                json(serde_json::to_value(actions))
            }
            req::InlayHintRequest::METHOD => {
                let p: lsp::InlayHintParams = parse(params)?;
                let doc = self.document(&p.text_document.uri)?;
                let want = convert(p.range);
                let mut hints = Vec::new();
                for (kind, record) in [
                    (Kind::User, &self.samples.user),
                    (Kind::Group, &self.samples.group),
                ] {
                    let Some(record) = record else { continue };
                    hints.extend(
                        doc.inlay_hints(kind, record)
                            .into_iter()
                            .filter(|h| want.start <= h.position && h.position <= want.end)
                            .map(|h| lsp::InlayHint {
                                position: lsp::Position::new(h.position.line, h.position.character),
                                label: lsp::InlayHintLabel::String(h.label),
                                kind: None,
                                text_edits: None,
                                tooltip: None,
                                padding_left: Some(true),
                                padding_right: None,
                                data: None,
                            }),
                    );
                }
                json(serde_json::to_value(hints))
            }
            method => Err((
                ErrorCode::MethodNotFound,
                format!("scimap lsp does not answer {method}"),
            )),
        }
    }

    fn document(&self, uri: &lsp::Uri) -> Result<&Analysis, (ErrorCode, String)> {
        self.documents.get(uri).ok_or_else(|| {
            (
                ErrorCode::InvalidParams,
                format!("{} is not open", uri.as_str()),
            )
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(params: Value) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(params).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

/// A sample record: a JSON object, or the first of a JSON array of them.
fn read_sample(path: &Path) -> Result<Value, String> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("scimap: cannot read the sample record {shown}: {e}"))?
        .len();
    if size > RECORD_BYTES {
        return Err(format!(
            "scimap: the sample record {shown} is over {RECORD_BYTES} bytes"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("scimap: cannot read the sample record {shown}: {e}"))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("scimap: the sample record {shown} is not JSON: {e}"))?;
    match value {
        Value::Array(items) => items.into_iter().next(),
        v => Some(v),
    }
    .filter(Value::is_object)
    .ok_or_else(|| format!("scimap: {shown} holds no record (a JSON object, or an array of them)"))
}

/// The local path of a `file:` URI (percent-escapes decoded).
fn file_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], rest.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if u8::from_str_radix(hex, 16).is_ok() => {
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

fn position(p: lsp::Position) -> ide::Position {
    ide::Position {
        line: p.line,
        character: p.character,
    }
}

fn convert(r: lsp::Range) -> ide::Range {
    ide::Range {
        start: position(r.start),
        end: position(r.end),
    }
}

fn range(r: ide::Range) -> lsp::Range {
    lsp::Range {
        start: lsp::Position::new(r.start.line, r.start.character),
        end: lsp::Position::new(r.end.line, r.end.character),
    }
}

fn text_edit(e: ide::TextEdit) -> lsp::TextEdit {
    lsp::TextEdit {
        range: range(e.range),
        new_text: e.new_text,
    }
}

/// `check`'s diagnostic: its message, the label under its span and its help on lines of their
/// own, the secondary labels as related information.
fn diagnostic(uri: &lsp::Uri, p: ide::Problem) -> lsp::Diagnostic {
    let mut message = p.message;
    if let Some(label) = p.label {
        message.push_str(&format!("\n{label}"));
    }
    if let Some(help) = p.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = p
        .related
        .into_iter()
        .map(|(r, message)| lsp::DiagnosticRelatedInformation {
            location: lsp::Location {
                uri: uri.clone(),
                range: range(r),
            },
            message,
        })
        .collect();
    lsp::Diagnostic {
        range: range(p.range),
        severity: Some(match p.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(p.code.to_string())),
        source: Some("scimap".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

fn completion(c: ide::Completion) -> lsp::CompletionItem {
    use ide::CompletionKind as K;
    lsp::CompletionItem {
        kind: Some(match c.kind {
            K::Field => lsp::CompletionItemKind::FIELD,
            K::Target => lsp::CompletionItemKind::PROPERTY,
            K::Function => lsp::CompletionItemKind::FUNCTION,
            K::Variable => lsp::CompletionItemKind::VARIABLE,
            K::Keyword => lsp::CompletionItemKind::KEYWORD,
            K::Value => lsp::CompletionItemKind::VALUE,
            K::Setting => lsp::CompletionItemKind::PROPERTY,
        }),
        detail: c.detail,
        documentation: c.documentation.map(|value| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value,
            })
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range: range(c.range),
            new_text: c.insert,
        })),
        label: c.label,
        ..Default::default()
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated`, which the struct still has.
fn symbol(s: ide::Symbol) -> lsp::DocumentSymbol {
    use ide::SymbolKind as K;
    lsp::DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: match s.kind {
            K::App => lsp::SymbolKind::MODULE,
            K::Setting => lsp::SymbolKind::PROPERTY,
            K::Schema => lsp::SymbolKind::INTERFACE,
            K::Attribute => lsp::SymbolKind::FIELD,
            K::Section => lsp::SymbolKind::CLASS,
            K::Let => lsp::SymbolKind::VARIABLE,
            K::Entry => lsp::SymbolKind::FIELD,
        },
        tags: None,
        deprecated: None,
        range: range(s.range),
        selection_range: range(s.selection),
        children: Some(s.children.into_iter().map(symbol).collect()),
    }
}
