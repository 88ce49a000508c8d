//! The `scimap` command (INTERFACES §3): check, eval, bulk, expr, functions, fmt.
//!
//! Exit codes: 0 success; 1 the input was processed and something in it is wrong; 2 usage or
//! I/O error. Diagnostics go to stderr, results to stdout.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;

use scimap::render;
use scimap::{Diagnostic, EntryError, Kind, Limits, Mapping, Options, Phase, RecordError};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "scimap",
    version,
    about = "Check, preview and run scimap attribute mappings (JumpCloud records to SCIM 2.0)"
)]
struct Cli {
    #[command(flatten)]
    shared: Shared,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args)]
struct Shared {
    /// Fix the clock for now() (RFC 3339; its offset is kept)
    #[arg(long, global = true, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<FixedOffset>>,
    /// Override a limit (repeatable): source-bytes, depth, steps, string-bytes, list-items,
    /// regex-bytes, line-bytes
    #[arg(long = "limit", global = true, value_name = "NAME=VALUE", value_parser = parse_limit)]
    limits: Vec<(String, u64)>,
}

#[derive(Subcommand)]
enum Command {
    /// Compile each mapping and report every diagnostic
    Check(CheckArgs),
    /// Evaluate one record and print its SCIM payload
    Eval(EvalArgs),
    /// NDJSON records in, NDJSON payloads (or error objects) out, one line per line
    Bulk(BulkArgs),
    /// Evaluate one expression against a record and print its value as JSON
    Expr(ExprArgs),
    /// List the standard library, or show one function in full
    Functions {
        /// A function name
        name: Option<String>,
    },
    /// Rewrite mappings in the canonical layout
    Fmt {
        /// Mapping files (.scimap)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Only report whether a file would change
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Github,
}

#[derive(Args)]
struct CheckArgs {
    /// Mapping files (.scimap)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Make warnings fail the check
    #[arg(long)]
    deny_warnings: bool,
    /// Silence a warning code (repeatable)
    #[arg(long, value_name = "CODE")]
    allow: Vec<String>,
}

/// Which record of a file: `--pick N` or `--where FIELD=VALUE`.
#[derive(Args)]
struct Select {
    /// Use the Nth record (0-based)
    #[arg(long, value_name = "N", conflicts_with = "where_", requires = "record")]
    pick: Option<usize>,
    /// Use the first record whose top-level FIELD equals VALUE
    #[arg(
        long = "where",
        id = "where_",
        value_name = "FIELD=VALUE",
        value_parser = parse_where,
        requires = "record"
    )]
    where_: Option<(String, String)>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("record").required(true).args(["user", "group"])))]
struct EvalArgs {
    /// The mapping file (.scimap)
    mapping: PathBuf,
    /// User records: one JSON object, a JSON array, or NDJSON
    #[arg(long, value_name = "FILE")]
    user: Option<PathBuf>,
    /// Group records, evaluated with the group section
    #[arg(long, value_name = "FILE")]
    group: Option<PathBuf>,
    #[command(flatten)]
    select: Select,
    /// Print, per target, its kind, source and value or error to stderr
    #[arg(long)]
    explain: bool,
}

#[derive(Args)]
struct BulkArgs {
    /// The mapping file (.scimap)
    mapping: PathBuf,
    /// NDJSON input (default: stdin)
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// NDJSON output (default: stdout)
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The records are groups
    #[arg(long)]
    group: bool,
    /// Worker threads (default: all cores)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("record").args(["user", "group"])))]
struct ExprArgs {
    /// The expression (omit with --lines)
    #[arg(required_unless_present = "lines", conflicts_with = "lines")]
    expression: Option<String>,
    /// Evaluate against a user record from FILE (default: an empty user record)
    #[arg(long, value_name = "FILE")]
    user: Option<PathBuf>,
    /// Evaluate against a group record from FILE
    #[arg(long, value_name = "FILE")]
    group: Option<PathBuf>,
    #[command(flatten)]
    select: Select,
    /// Read expressions from stdin, one per line; print one JSON line each
    #[arg(long)]
    lines: bool,
}

fn parse_now(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|e| format!("not an RFC 3339 time: {e}"))
}

fn parse_limit(s: &str) -> Result<(String, u64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| "expected NAME=VALUE".to_string())?;
    let value: u64 = value
        .parse()
        .map_err(|_| format!("`{value}` is not a non-negative integer"))?;
    Limits::default().set(name, value)?;
    Ok((name.to_string(), value))
}

fn parse_where(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .ok_or_else(|| "expected FIELD=VALUE".to_string())
}

/// How a command ended when it did not fail on usage or I/O.
#[derive(Debug, PartialEq, Eq)]
enum Status {
    Ok,
    /// The input was processed and something in it is wrong (exit 1).
    Failed,
}

/// A usage or I/O error: the message, exit 2.
type Outcome = Result<Status, String>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut options = Options::default();
    for (name, value) in &cli.shared.limits {
        // Already validated by `parse_limit`.
        let _ = options.limits.set(name, *value);
    }
    // One clock reading per run unless fixed (LANGUAGE §3).
    options.now = Some(
        cli.shared
            .now
            .unwrap_or_else(|| chrono::Utc::now().fixed_offset()),
    );
    let outcome = match cli.command {
        Command::Check(args) => check(args, options),
        Command::Eval(args) => eval(args, &options),
        Command::Bulk(args) => bulk(args, &options),
        Command::Expr(args) => expr(args, &options),
        Command::Functions { name } => functions(name.as_deref()),
        Command::Fmt { files, check } => fmt(&files, check),
    };
    match outcome {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Failed) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Colour only on a terminal, and never with NO_COLOR set to something non-empty.
fn color_stderr() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn print_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn print_human(diagnostics: &[Diagnostic], file: &str, source: &str) {
    let color = color_stderr();
    let index = render::LineIndex::new(source);
    let mut err = io::stderr().lock();
    for d in diagnostics {
        let _ = writeln!(err, "{}", render::human_with(d, file, &index, color));
    }
}

/// Reads and compiles a mapping; on compile errors prints every diagnostic and gives `None`.
fn load_mapping(path: &Path, options: &Options) -> Result<Option<Mapping>, String> {
    let bytes = read_file(path)?;
    let file = path.display().to_string();
    match Mapping::compile_bytes(&bytes, options) {
        Ok(mapping) => {
            print_human(mapping.warnings(), &file, mapping.source());
            Ok(Some(mapping))
        }
        Err(e) => {
            print_human(&e.diagnostics, &file, &e.source);
            Ok(None)
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user",
        Kind::Group => "group",
    }
}

fn require_section(mapping: &Mapping, kind: Kind, path: &Path) -> Result<(), String> {
    if mapping.has_section(kind) {
        Ok(())
    } else {
        Err(format!(
            "{} has no `{}` section",
            path.display(),
            kind_name(kind)
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// check

fn check(args: CheckArgs, mut options: Options) -> Outcome {
    options.allow = args.allow.clone();
    let mut found: Vec<(String, std::sync::Arc<render::LineIndex>, Diagnostic)> = Vec::new();
    let mut io_errors = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        let bytes = match read_file(path) {
            Ok(b) => b,
            Err(e) => {
                io_errors.push(e);
                continue;
            }
        };
        let (diagnostics, source) = match Mapping::compile_bytes(&bytes, &options) {
            Ok(m) => (m.warnings().to_vec(), m.source().to_string()),
            Err(e) => (e.diagnostics, e.source),
        };
        // One line index per file: a file may carry thousands of diagnostics.
        let index = std::sync::Arc::new(render::LineIndex::new(&source));
        found.extend(
            diagnostics
                .into_iter()
                .filter(|d| d.is_error() || !args.allow.iter().any(|a| a == d.code))
                .map(|d| (file.clone(), index.clone(), d)),
        );
    }
    found.sort_by(|a, b| (&a.0, a.2.span.start).cmp(&(&b.0, b.2.span.start)));

    match args.format {
        Format::Human => {
            let color = color_stderr();
            let mut err = io::stderr().lock();
            for (file, index, d) in &found {
                let _ = writeln!(err, "{}", render::human_with(d, file, index, color));
            }
        }
        Format::Json => {
            let all: Vec<Value> = found
                .iter()
                .map(|(file, index, d)| render::diagnostic_json(d, Some(file), index))
                .collect();
            let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
            print_stdout(&format!("{text}\n"))?;
        }
        Format::Github => {
            let text: String = found
                .iter()
                .map(|(file, index, d)| render::github_line(d, file, index) + "\n")
                .collect();
            print_stdout(&text)?;
        }
    }
    let counts = scimap::Counts::of(found.iter().map(|(_, _, d)| d));
    let (errors, warnings) = (counts.errors, counts.warnings);
    let checked = args.files.len() - io_errors.len();
    if matches!(args.format, Format::Human) && checked > 0 {
        eprintln!(
            "checked {checked} file{}: {errors} error{}, {warnings} warning{}",
            plural(checked),
            plural(errors),
            plural(warnings)
        );
    }
    // Every unreadable file is reported; the last one through the exit-2 path.
    if let Some(last) = io_errors.pop() {
        for e in io_errors {
            eprintln!("error: {e}");
        }
        return Err(last);
    }
    Ok(if errors > 0 || (args.deny_warnings && warnings > 0) {
        Status::Failed
    } else {
        Status::Ok
    })
}

// ---------------------------------------------------------------------------------------------
// fmt

/// Rewrites each file in the canonical layout, or with `--check` only names the files that
/// would change. A file that does not parse is reported and left alone (exit 1).
fn fmt(files: &[PathBuf], check: bool) -> Outcome {
    let mut failed = false;
    let mut io_errors = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let bytes = match read_file(path) {
            Ok(b) => b,
            Err(e) => {
                io_errors.push(e);
                continue;
            }
        };
        let Ok(source) = std::str::from_utf8(&bytes) else {
            // The compiler reports the first bad byte with its line.
            if let Err(e) = Mapping::compile_bytes(&bytes, &Options::default()) {
                print_human(&e.diagnostics, &file, &e.source);
            }
            failed = true;
            continue;
        };
        let formatted = match scimap::fmt::format(source) {
            Ok(f) => f,
            Err(e) => {
                print_human(&e.diagnostics, &file, &e.source);
                failed = true;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if check {
            eprintln!("{file} is not formatted");
            failed = true;
        } else if let Err(e) = std::fs::write(path, formatted) {
            io_errors.push(format!("cannot write {file}: {e}"));
        }
    }
    if let Some(last) = io_errors.pop() {
        for e in io_errors {
            eprintln!("error: {e}");
        }
        return Err(last);
    }
    Ok(if failed { Status::Failed } else { Status::Ok })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

// ---------------------------------------------------------------------------------------------
// Record files for eval and expr

/// All records of a file holding one JSON object, a JSON array, or NDJSON.
fn load_records(path: &Path) -> Result<Vec<Value>, String> {
    let bytes = read_file(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        values.push(value.map_err(|e| format!("{}: {e}", path.display()))?);
    }
    match values.as_slice() {
        [Value::Array(items)] => Ok(items.clone()),
        _ => Ok(values),
    }
}

/// The record `--pick`/`--where` selects (the first one by default).
fn select_record(path: &Path, select: &Select) -> Result<Value, String> {
    let records = load_records(path)?;
    let chosen = match (&select.pick, &select.where_) {
        (Some(n), _) => records.into_iter().nth(*n),
        (None, Some((field, wanted))) => records
            .into_iter()
            .find(|r| r.get(field).is_some_and(|v| field_matches(v, wanted))),
        (None, None) => records.into_iter().next(),
    };
    chosen.ok_or_else(|| {
        let why = match (&select.pick, &select.where_) {
            (Some(n), _) => format!("there is no record {n} (0-based)"),
            (None, Some((f, v))) => format!("no record has {f} = {v}"),
            (None, None) => "it holds no record".to_string(),
        };
        format!("no record selected in {}: {why}", path.display())
    })
}

/// `--where` compares a string as is, a number or bool by its JSON text.
fn field_matches(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Number(n) => n.to_string() == wanted,
        Value::Bool(b) => wanted == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// A whole-record failure (LANGUAGE §5: target null).
fn record_failure(code: &str, message: String) -> RecordError {
    RecordError {
        errors: vec![EntryError {
            target: None,
            code: code.to_string(),
            message,
            line: None,
            column: None,
        }],
    }
}

fn line_limit_message(limits: &Limits) -> String {
    format!(
        "the record is over the limit `line-bytes` ({})",
        limits.line_bytes
    )
}

// ---------------------------------------------------------------------------------------------
// eval

fn eval(args: EvalArgs, options: &Options) -> Outcome {
    let (kind, records) = match (&args.user, &args.group) {
        (_, Some(g)) => (Kind::Group, g),
        (Some(u), None) => (Kind::User, u),
        (None, None) => return Err("give --user FILE or --group FILE".to_string()),
    };
    let Some(mapping) = load_mapping(&args.mapping, options)? else {
        return Ok(Status::Failed);
    };
    require_section(&mapping, kind, &args.mapping)?;
    let record = select_record(records, &args.select)?;
    let file = args.mapping.display().to_string();

    let result = if serde_json::to_vec(&record).map_or(0, |v| v.len()) > options.limits.line_bytes {
        Err(record_failure(
            "scimap::limit",
            line_limit_message(&options.limits),
        ))
    } else {
        if args.explain {
            explain(&mapping, kind, &record);
        }
        mapping.evaluate(kind, &record)
    };
    match result {
        Ok(payload) => {
            // Numbers as Go and JavaScript print them, as `bulk` does (LANGUAGE §3).
            let text = scimap::json::pretty(&payload);
            print_stdout(&format!("{text}\n"))?;
            Ok(Status::Ok)
        }
        Err(error) => {
            let text = scimap::json::pretty(&error.to_json(None, None));
            print_stdout(&format!("{text}\n"))?;
            let mut err = io::stderr().lock();
            let _ = writeln!(
                err,
                "record failed ({} error{}):",
                error.errors.len(),
                plural(error.errors.len())
            );
            for e in &error.errors {
                let _ = writeln!(err, "  {}", describe_error(e, &file));
            }
            Ok(Status::Failed)
        }
    }
}

/// `error[CODE] TARGET at FILE:L:C: MESSAGE` (whole-record errors have no target or place).
fn describe_error(e: &EntryError, file: &str) -> String {
    match (&e.target, e.line, e.column) {
        (Some(t), Some(l), Some(c)) => {
            format!("error[{}] {t} at {file}:{l}:{c}: {}", e.code, e.message)
        }
        (Some(t), _, _) => format!("error[{}] {t}: {}", e.code, e.message),
        (None, _, _) => format!("error[{}]: {}", e.code, e.message),
    }
}

fn explain(mapping: &Mapping, kind: Kind, record: &Value) {
    let mut err = io::stderr().lock();
    for x in mapping.explain(kind, record) {
        let _ = writeln!(
            err,
            "{} ({}, {}:{}) = {}",
            x.target, x.kind, x.line, x.column, x.source
        );
        let outcome = match (&x.value, &x.error) {
            (_, Some(e)) => format!("error[{}]: {}", e.code, e.message),
            (Some(v), None) => v.to_string(),
            (None, None) => "(absent)".to_string(),
        };
        let _ = writeln!(err, "    → {outcome}");
    }
}

// ---------------------------------------------------------------------------------------------
// bulk

/// Splits input at '\n' without holding more than `cap` (+1 for a '\r') bytes of one line.
struct LineReader<R> {
    inner: R,
    cap: usize,
    number: usize,
}

impl<R: BufRead> LineReader<R> {
    fn new(inner: R, cap: usize) -> Self {
        LineReader {
            inner,
            cap,
            number: 0,
        }
    }

    /// The next line without its '\n' and one '\r' before it (and, on the first line, a BOM),
    /// appended to `buf` (which keeps what it held); `None` at the end. A final '\n' makes no
    /// extra line.
    fn next_line_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        let start = buf.len();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                // Room for the cap plus a '\r' that is removed below.
                let room = (self.cap + 1).saturating_sub(buf.len() - start);
                if take > room {
                    too_long = true;
                    buf.truncate(start);
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(if done { take + 1 } else { take });
            if done {
                break;
            }
        }
        self.number += 1;
        if buf.len() > start && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        let mut from = start;
        if self.number == 1 && buf[start..].starts_with(b"\xEF\xBB\xBF") {
            from += 3;
        }
        let range = (!too_long && buf.len() - from <= self.cap).then_some(from..buf.len());
        Ok(Some(Line {
            number: self.number,
            range,
        }))
    }
}

/// A line in a chunk's buffer: its number, and where it is (`None`: over the line-bytes cap).
struct Line {
    number: usize,
    range: Option<std::ops::Range<usize>>,
}

/// Consecutive lines read into one buffer: the unit a worker takes.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    lines: Vec<Line>,
}

/// A chunk evaluated: its output lines, how many, how many succeeded.
struct Done {
    out: Vec<u8>,
    total: usize,
    ok: usize,
}

/// A chunk holds up to this many lines, or stops at this many bytes (a longer line is still
/// read whole, up to line-bytes): large enough to amortise the hand-over, small enough to
/// balance the workers.
const CHUNK_LINES: usize = 256;
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks a worker may read ahead of the writing: what bounds memory.
const IN_FLIGHT: usize = 4;
/// The sequential loop updates the progress bar this often.
const PROGRESS_LINES: usize = 1024;

/// Evaluates one input line, appending its output line and a newline to `out`; true when the
/// record succeeded.
fn run_line(
    mapping: &Mapping,
    kind: Kind,
    number: usize,
    bytes: Option<&[u8]>,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> bool {
    let ok = match bytes {
        Some(bytes) => mapping.evaluate_line(kind, bytes, number, out),
        None => {
            let error = record_failure("scimap::limit", line_limit_message(limits));
            // Serialising a Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &error.to_json(Some(number), None));
            false
        }
    };
    out.push(b'\n');
    ok
}

/// One thread: read, evaluate and write each line in turn, with no hand-over between threads.
fn bulk_sequential(
    mapping: &Mapping,
    kind: Kind,
    reader: &mut LineReader<Box<dyn BufRead + Send>>,
    output: &mut impl Write,
    limits: &Limits,
    progress: &indicatif::ProgressBar,
) -> Result<(usize, usize), String> {
    let (mut total, mut ok) = (0usize, 0usize);
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(1 << 16);
    loop {
        line.clear();
        let Some(read) = reader
            .next_line_into(&mut line)
            .map_err(|e| format!("cannot read input: {e}"))?
        else {
            break;
        };
        let bytes = read.range.map(|r| &line[r]);
        ok += usize::from(run_line(
            mapping,
            kind,
            read.number,
            bytes,
            limits,
            &mut out,
        ));
        total += 1;
        if out.len() >= 1 << 16 {
            output
                .write_all(&out)
                .map_err(|e| format!("cannot write output: {e}"))?;
            out.clear();
        }
        if total % PROGRESS_LINES == 0 {
            progress.set_message(format!("{total} records"));
            progress.tick();
        }
    }
    output
        .write_all(&out)
        .and_then(|()| output.flush())
        .map_err(|e| format!("cannot write output: {e}"))?;
    Ok((total, ok))
}

fn bulk(args: BulkArgs, options: &Options) -> Outcome {
    let kind = if args.group { Kind::Group } else { Kind::User };
    let Some(mapping) = load_mapping(&args.mapping, options)? else {
        return Ok(Status::Failed);
    };
    require_section(&mapping, kind, &args.mapping)?;

    // With more than one thread, reading and writing run on threads of their own, beside the
    // evaluation; with one, everything runs on the calling thread.
    let input: Box<dyn BufRead + Send> = match &args.input {
        Some(path) => Box::new(BufReader::with_capacity(
            IO_BUFFER,
            File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        )),
        None => Box::new(BufReader::with_capacity(IO_BUFFER, io::stdin())),
    };
    let output: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(
            File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        ),
        None => Box::new(io::stdout()),
    };
    let mut output = BufWriter::with_capacity(IO_BUFFER, output);
    let workers = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let progress = if io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };

    let started = Instant::now();
    let mut reader = LineReader::new(input, options.limits.line_bytes);
    let (total, ok) = if workers == 1 {
        bulk_sequential(
            &mapping,
            kind,
            &mut reader,
            &mut output,
            &options.limits,
            &progress,
        )?
    } else {
        bulk_parallel(
            &mapping,
            kind,
            reader,
            &mut output,
            options,
            &progress,
            workers,
        )?
    };
    progress.finish_and_clear();
    summary(started, total, ok)
}

/// Several threads, each in turn reading a chunk of lines, evaluating it, and writing what is
/// ready in input order. A chunk is read, evaluated and written on the thread that took it, so
/// its bytes stay in that core's cache (a separate reader thread made every record cross cores
/// twice). Memory stays bounded: no thread reads a chunk more than `IN_FLIGHT` chunks per
/// worker ahead of the writing.
fn bulk_parallel<W: Write + Send>(
    mapping: &Mapping,
    kind: Kind,
    reader: LineReader<Box<dyn BufRead + Send>>,
    output: &mut W,
    options: &Options,
    progress: &indicatif::ProgressBar,
    workers: usize,
) -> Result<(usize, usize), String> {
    use std::sync::{Condvar, Mutex};

    /// The input side: the reader and the number of the next chunk.
    struct Input<R> {
        reader: R,
        next: usize,
        error: Option<String>,
    }
    /// The output side: evaluated chunks waiting for their turn, and the next to write.
    struct Output<'w, W> {
        writer: &'w mut W,
        next: usize,
        waiting: std::collections::BTreeMap<usize, Done>,
        total: usize,
        ok: usize,
        error: Option<String>,
    }

    let ahead = IN_FLIGHT * workers;
    let input = Mutex::new(Input {
        reader,
        next: 0,
        error: None,
    });
    let output = Mutex::new(Output {
        writer: output,
        next: 0,
        waiting: std::collections::BTreeMap::new(),
        total: 0,
        ok: 0,
        error: None,
    });
    // Signalled when chunks are written: readers too far ahead wait on it.
    let written = Condvar::new();
    let limits = &options.limits;
    let work = || loop {
        let (seq, chunk) = {
            let Ok(mut input) = input.lock() else { return };
            if input.error.is_some() {
                return;
            }
            let seq = input.next;
            // Wait while the writing is too far behind (memory bound); stop if it failed.
            {
                let Ok(mut out) = output.lock() else { return };
                while seq >= out.next + ahead && out.error.is_none() {
                    out = match written.wait(out) {
                        Ok(out) => out,
                        Err(_) => return,
                    };
                }
                if out.error.is_some() {
                    return;
                }
            }
            let mut chunk = Chunk::default();
            while chunk.lines.len() < CHUNK_LINES && chunk.data.len() < CHUNK_BYTES {
                match input.reader.next_line_into(&mut chunk.data) {
                    Ok(Some(line)) => chunk.lines.push(line),
                    Ok(None) => break,
                    Err(e) => {
                        input.error = Some(format!("cannot read input: {e}"));
                        break;
                    }
                }
            }
            if chunk.lines.is_empty() {
                return;
            }
            input.next += 1;
            (seq, chunk)
        };
        let mut done = Done {
            out: Vec::with_capacity(chunk.lines.len() * 1024),
            total: chunk.lines.len(),
            ok: 0,
        };
        for line in &chunk.lines {
            let bytes = line.range.clone().map(|r| &chunk.data[r]);
            done.ok += usize::from(run_line(
                mapping,
                kind,
                line.number,
                bytes,
                limits,
                &mut done.out,
            ));
        }
        drop(chunk);
        let Ok(mut guard) = output.lock() else { return };
        let out = &mut *guard;
        out.waiting.insert(seq, done);
        let next = out.next;
        while let Some(done) = out.waiting.remove(&out.next) {
            if out.error.is_none() {
                if let Err(e) = out.writer.write_all(&done.out) {
                    out.error = Some(format!("cannot write output: {e}"));
                }
            }
            out.total += done.total;
            out.ok += done.ok;
            out.next += 1;
        }
        if out.next != next {
            progress.set_message(format!("{} records", out.total));
            progress.tick();
            written.notify_all();
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    let input = input
        .into_inner()
        .map_err(|_| "a worker stopped".to_string())?;
    let out = output
        .into_inner()
        .map_err(|_| "a worker stopped".to_string())?;
    // A write error (a closed pipe) explains a read that stopped early, so it comes first.
    if let Some(e) = out.error {
        return Err(e);
    }
    if let Some(e) = input.error {
        return Err(e);
    }
    out.writer
        .flush()
        .map_err(|e| format!("cannot write output: {e}"))?;
    Ok((out.total, out.ok))
}

/// Input and output buffers of `bulk` (1 MiB measured no faster with two threads).
const IO_BUFFER: usize = 1 << 16;

/// The final line on stderr; failed records make the exit status 1.
fn summary(started: Instant, total: usize, ok: usize) -> Outcome {
    let seconds = started.elapsed().as_secs_f64();
    let failed = total - ok;
    let rate = if seconds > 0.0 {
        total as f64 / seconds
    } else {
        total as f64
    };
    eprintln!("{total} records, {ok} ok, {failed} failed in {seconds:.2}s ({rate:.0} records/s)");
    Ok(if failed > 0 {
        Status::Failed
    } else {
        Status::Ok
    })
}

// ---------------------------------------------------------------------------------------------
// expr

fn expr(args: ExprArgs, options: &Options) -> Outcome {
    let (kind, record) = match (&args.user, &args.group) {
        (_, Some(g)) => (Kind::Group, select_record(g, &args.select)?),
        (Some(u), None) => (Kind::User, select_record(u, &args.select)?),
        (None, None) => (Kind::User, Value::Object(serde_json::Map::new())),
    };
    if !args.lines {
        let source = args.expression.unwrap_or_default();
        return match scimap::eval_expression(&source, kind, &record, options) {
            Ok(value) => {
                print_stdout(&format!("{value}\n"))?;
                Ok(Status::Ok)
            }
            Err(e) => {
                if e.diagnostics.is_empty() {
                    eprintln!("error: {}", e.message);
                } else {
                    print_human(&e.diagnostics, "<expression>", &source);
                }
                Ok(Status::Failed)
            }
        };
    }

    let mut reader = LineReader::new(io::stdin().lock(), options.limits.source_bytes);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut status = Status::Ok;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some(line) = reader
            .next_line_into(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?
        else {
            break;
        };
        let result = match line.range.clone().map(|r| std::str::from_utf8(&buf[r])) {
            None => Err((
                "expression exceeds the source-bytes limit".to_string(),
                "compile",
            )),
            Some(Err(_)) => Err(("expression is not valid UTF-8".to_string(), "compile")),
            Some(Ok(source)) => {
                scimap::eval_expression(source, kind, &record, options).map_err(|e| {
                    let phase = match e.phase {
                        Phase::Compile => "compile",
                        Phase::Run => "run",
                    };
                    (e.message, phase)
                })
            }
        };
        let json = match result {
            Ok(value) => serde_json::json!({ "ok": value }),
            Err((message, phase)) => {
                status = Status::Failed;
                serde_json::json!({ "error": message, "phase": phase })
            }
        };
        writeln!(out, "{json}").map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    Ok(status)
}

// ---------------------------------------------------------------------------------------------
// functions

fn functions(name: Option<&str>) -> Outcome {
    let all = scimap::functions();
    let Some(name) = name else {
        let width = |f: fn(&scimap::FunctionDoc) -> usize| all.iter().map(f).max().unwrap_or(0);
        let (wn, ws) = (
            width(|d| d.name.chars().count()),
            width(|d| d.signature.chars().count()),
        );
        let mut text = String::new();
        for d in all {
            let example = d
                .examples
                .first()
                .map(|(e, r)| format!("  e.g. {e} → {r}"))
                .unwrap_or_default();
            let line = format!(
                "{:wn$}  {:ws$}  {}{example}",
                d.name, d.signature, d.summary
            );
            text.push_str(line.trim_end());
            text.push('\n');
        }
        print_stdout(&text)?;
        return Ok(Status::Ok);
    };
    let Some(doc) = all.iter().find(|d| d.name == name) else {
        let best = all
            .iter()
            .map(|d| (strsim::jaro_winkler(&d.name, name), &d.name))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(score, _)| *score >= 0.8);
        return Err(match best {
            Some((_, near)) => format!("unknown function `{name}`; did you mean `{near}`?"),
            None => format!("unknown function `{name}` (see `scimap functions`)"),
        });
    };
    let mut text = format!("{}\n\n{}\n", doc.signature, doc.summary);
    if !doc.details.trim().is_empty() {
        text.push_str(&format!("\n{}\n", doc.details.trim_end()));
    }
    if !doc.examples.is_empty() {
        text.push_str("\nExamples:\n");
        for (example, result) in &doc.examples {
            text.push_str(&format!("  {example}\n    → {result}\n"));
        }
    }
    print_stdout(&text)?;
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<(usize, Option<Vec<u8>>)> {
        // A tiny buffer exercises lines that span several fills.
        let mut r = LineReader::new(BufReader::with_capacity(3, input), cap);
        let mut v = Vec::new();
        let mut buf = b"kept".to_vec();
        while let Ok(Some(l)) = r.next_line_into(&mut buf) {
            v.push((l.number, l.range.map(|range| buf[range].to_vec())));
        }
        assert!(buf.starts_with(b"kept"), "what the buffer held is kept");
        v
    }

    fn some(s: &str) -> Option<Vec<u8>> {
        Some(s.as_bytes().to_vec())
    }

    #[test]
    fn line_reader_splits_strips_and_numbers() {
        assert_eq!(
            lines(b"\xEF\xBB\xBF{\"a\":1}\r\n\n{}\r\nlast", 100),
            vec![
                (1, some("{\"a\":1}")),
                (2, some("")),
                (3, some("{}")),
                (4, some("last"))
            ]
        );
        assert_eq!(lines(b"x\n", 100), vec![(1, some("x"))]);
        assert_eq!(lines(b"", 100), vec![]);
        assert_eq!(lines(b"\n", 100), vec![(1, some(""))]);
        // Only one '\r' is removed, and a BOM only on the first line.
        assert_eq!(
            lines(b"a\r\r\n\xEF\xBB\xBFb", 100),
            vec![(1, some("a\r")), (2, Some(b"\xEF\xBB\xBFb".to_vec()))]
        );
    }

    #[test]
    fn line_reader_caps_long_lines_and_resumes() {
        assert_eq!(
            lines(b"12345\n1234567\r\n123456\n1234", 5),
            vec![(1, some("12345")), (2, None), (3, None), (4, some("1234"))]
        );
        // The cap counts the content, not a removed '\r'.
        assert_eq!(lines(b"12345\r\n", 5), vec![(1, some("12345"))]);
    }

    #[test]
    fn where_compares_strings_numbers_and_bools() {
        assert!(field_matches(&Value::from("ACTIVATED"), "ACTIVATED"));
        assert!(field_matches(&Value::from(5001), "5001"));
        assert!(field_matches(&Value::from(true), "true"));
        assert!(!field_matches(&Value::from("5001 "), "5001"));
        assert!(!field_matches(&Value::Null, "null"));
        assert!(!field_matches(&serde_json::json!(["a"]), "[\"a\"]"));
    }

    #[test]
    fn limit_and_now_options_are_validated() {
        assert_eq!(parse_limit("steps=10"), Ok(("steps".to_string(), 10)));
        assert!(parse_limit("stepz=10").is_err_and(|e| e.contains("unknown limit")));
        assert!(parse_limit("steps").is_err());
        assert!(parse_limit("steps=-1").is_err());
        assert_eq!(
            parse_now("2025-01-02T03:04:05+02:00").map(|t| t.to_rfc3339()),
            Ok("2025-01-02T03:04:05+02:00".to_string())
        );
        assert!(parse_now("2025-01-02").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
