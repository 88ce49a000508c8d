//! The `scimap` command (reference §cli): check, eval, bulk, plan, expr, test, functions, fmt.
//!
//! Exit codes: 0 success; 1 the input was processed and something in it is wrong; 2 usage or
//! I/O error. Diagnostics go to stderr, results to stdout.

use std::borrow::Cow;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use clap::{ArgGroup, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde_json::Value;

use scimap::bulk::{self, records::Records, LineReader};
use scimap::render;
use scimap::{
    CompileError, Diagnostic, EntryError, Kind, Limits, Mapping, Options, Phase, RecordError, Span,
};

// Beside this file rather than in `src/bin/`, where it would be taken for a binary.
#[path = "scimap/diff.rs"]
mod diff;
#[path = "scimap/generate.rs"]
mod generate;
#[path = "scimap/lsp.rs"]
mod lsp;
#[path = "scimap/test.rs"]
mod test;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, through `mi_malloc` and `mi_realloc` where the alignment asked is one every block
/// has (as std's `System` does with `malloc`): `MiMalloc` always takes the aligned entry points,
/// and those cost 1% of `bulk`'s instructions (BENCHMARKS.md). Before its first block, it
/// tells mimalloc to commit memory as it is used ([`Allocator::configure`]).
struct Allocator;

/// An alignment every mimalloc block has: a word (blocks are whole words). Larger ones (rare
/// here) take the aligned entry points, which check.
const MI_ALIGN: usize = 8;

/// `mi_option_arena_eager_commit` in mimalloc.h's `mi_option_t`.
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Whether [`Allocator::configure`] has run.
static CONFIGURED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Allocator {
    fn plain(layout: std::alloc::Layout) -> bool {
        layout.align() <= MI_ALIGN && layout.align() <= layout.size()
    }

    /// By default mimalloc commits its arena's memory ahead of use on Linux, and the pages
    /// it then purges stay in the resident set: `bulk` on two threads peaked at 31–34 MiB over
    /// 1,000,000 records, 11 MiB committing as used, at the same speed (BENCHMARKS.md). The
    /// option only counts before the arena is made, at the first allocation, which comes
    /// before `main`: hence here. Setting it twice (two threads racing) is harmless.
    /// Configures mimalloc unless done: the test every allocation makes (`realloc` and
    /// `dealloc` only follow an allocation).
    #[inline]
    fn configured() {
        if !CONFIGURED.load(std::sync::atomic::Ordering::Relaxed) {
            Self::configure();
        }
    }

    #[inline(never)]
    fn configure() {
        // SAFETY: mimalloc's options are plain integers it reads when it needs them.
        unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
        CONFIGURED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` frees aligned and
// plain blocks alike); `mi_malloc` blocks meet the alignment `plain` admits.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        Self::configured();
        if Self::plain(layout) {
            unsafe { libmimalloc_sys::mi_malloc(layout.size()).cast() }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        Self::configured();
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if Self::plain(layout) && layout.align() <= new_size {
            unsafe { libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast() }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

#[derive(Parser)]
#[command(
    name = "scimap",
    version,
    about = "Check, preview and run scimap attribute mappings (JumpCloud records to SCIM 2.0)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--limit`, on the commands that compile a mapping or evaluate.
#[derive(Args)]
struct LimitArgs {
    /// Override a limit (repeatable): source-bytes, depth, steps, string-bytes, list-items,
    /// regex-bytes, line-bytes, memory
    #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
    limits: Vec<(String, u64)>,
}

/// `--now` and `--limit`, on the commands that evaluate.
#[derive(Args)]
struct EvalOptions {
    /// Fix the clock for now() (RFC 3339; its offset is kept)
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<DateTime<FixedOffset>>,
    #[command(flatten)]
    limits: LimitArgs,
}

impl LimitArgs {
    fn options(&self) -> Options {
        let mut options = Options::default();
        for (name, value) in &self.limits {
            // Already validated by `parse_limit`.
            let _ = options.limits.set(name, *value);
        }
        options
    }
}

impl EvalOptions {
    fn options(&self) -> Options {
        let mut options = self.limits.options();
        // One clock reading per run unless fixed.
        options.now = Some(
            self.now
                .unwrap_or_else(|| chrono::Utc::now().fixed_offset()),
        );
        options
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compile each mapping and report every diagnostic
    Check(CheckArgs),
    /// Evaluate one record and print its SCIM payload
    Eval(EvalArgs),
    /// NDJSON records (or a JSON array of them) in, NDJSON payloads (or error objects) out,
    /// one line per record
    Bulk(BulkArgs),
    /// Print the requests (POST, PATCH or PUT) that bring the app's resource to the mapped
    /// one, as a JSON array; `[]` when nothing is to be sent
    Plan(PlanArgs),
    /// Evaluate one expression against a record and print its value as JSON
    Expr(ExprArgs),
    /// List the standard library, or show one function in full
    Functions {
        /// A function name
        name: Option<String>,
    },
    /// Run a mapping's test cases (NAME.test.toml beside NAME.scimap) and report what differs;
    /// with --generate, test mappings against generated records
    Test(test::TestArgs),
    /// Rewrite mappings in the canonical layout
    Fmt {
        /// Mapping files (.scimap)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Change nothing: print a diff of what would change, and fail if anything would
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run the language server (LSP over stdin and stdout) for editors
    Lsp {
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print a completion script for a shell: bash, zsh, fish, elvish or powershell
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `scimap man DIR` writes the man pages (scimap.1, scimap-check.1, …) into DIR: what `cargo
/// xtask man` runs. Added beside `Cli` rather than in it, so that neither the completion
/// scripts nor the pages show it.
fn man_command() -> clap::Command {
    clap::Command::new("man").hide(true).arg(
        clap::Arg::new("dir")
            .value_name("DIR")
            .required(true)
            .value_parser(clap::value_parser!(PathBuf)),
    )
}

enum Parsed {
    Cli(Box<Cli>),
    Man(PathBuf),
}

fn parse() -> Result<Parsed, clap::Error> {
    let mut command = Cli::command().subcommand(man_command());
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    if let Some(("man", sub)) = matches.subcommand() {
        let dir = sub.get_one::<PathBuf>("dir").cloned().unwrap_or_default();
        return Ok(Parsed::Man(dir));
    }
    Cli::from_arg_matches(&matches)
        .map(|cli| Parsed::Cli(Box::new(cli)))
        .map_err(|e| e.format(&mut command))
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Reports for people, on stderr, with a summary line
    Human,
    /// One JSON array of diagnostics on stdout
    Json,
    /// GitHub Actions workflow commands on stdout, one line per diagnostic
    Github,
}

#[derive(Args)]
struct CheckArgs {
    /// Mapping files (.scimap)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// How to report the diagnostics
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Make warnings fail the check
    #[arg(long)]
    deny_warnings: bool,
    /// Silence a warning code (repeatable; the `scimap::` prefix is optional)
    #[arg(long, value_name = "CODE", value_parser = parse_allow)]
    allow: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// A warning code with or without its `scimap::` prefix, as an allow comment takes it.
fn parse_allow(s: &str) -> Result<String, String> {
    scimap::warning_code(s).map(String::from)
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
    #[command(flatten)]
    options: EvalOptions,
}

#[derive(Args)]
struct BulkArgs {
    /// The mapping file (.scimap)
    mapping: PathBuf,
    /// NDJSON input, or a JSON array of records (default: stdin)
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
    #[command(flatten)]
    options: EvalOptions,
}

#[derive(Args)]
#[command(group(ArgGroup::new("record").required(true).args(["user", "group", "input"])))]
struct PlanArgs {
    /// The mapping file (.scimap)
    mapping: PathBuf,
    /// The user record: one JSON object, a JSON array, or NDJSON
    #[arg(long, value_name = "FILE")]
    user: Option<PathBuf>,
    /// The group record, planned with the group section
    #[arg(long, value_name = "FILE")]
    group: Option<PathBuf>,
    #[command(flatten)]
    select: Select,
    /// The app's resource as last read back from it (a JSON object with its `id`); without
    /// it, the plan creates the resource (POST)
    #[arg(long, value_name = "FILE", conflicts_with = "input")]
    current: Option<PathBuf>,
    /// Deactivate the app's user: `active` false and nothing else (the record is not
    /// evaluated)
    #[arg(long, requires = "current", conflicts_with = "group")]
    deactivate: bool,
    /// With --group: a JSON array of the app's ids of the users who should be members
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "input"])]
    members: Option<PathBuf>,
    /// Print each request's operations, with the entries that caused them, to stderr
    #[arg(long)]
    explain: bool,
    /// NDJSON of {"record": …, "current": … or null} pairs, or a JSON array of them (`-`:
    /// stdin): one JSON array of requests out per pair, in order
    #[arg(long, value_name = "FILE", conflicts_with_all = ["explain", "deactivate"])]
    input: Option<PathBuf>,
    /// With --input: the pairs are groups (each may hold "members": [ids])
    #[arg(long, conflicts_with_all = ["user", "group"])]
    groups: bool,
    /// With --input: NDJSON output (default: stdout)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "group"])]
    output: Option<PathBuf>,
    /// With --input: worker threads (default: all cores)
    #[arg(
        long,
        value_name = "N",
        conflicts_with_all = ["user", "group"],
        value_parser = clap::value_parser!(u16).range(1..)
    )]
    threads: Option<u16>,
    #[command(flatten)]
    options: EvalOptions,
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
    #[command(flatten)]
    options: EvalOptions,
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
    let cli = match parse() {
        Ok(Parsed::Cli(cli)) => cli,
        Ok(Parsed::Man(dir)) => {
            return match man(&dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    let _ = writeln!(io::stderr(), "error: {}", escape_controls(&message));
                    ExitCode::from(2)
                }
            }
        }
        // Help and version on stdout (exit 0), usage errors on stderr (exit 2); a failed write
        // of either is exit 2.
        Err(e) => {
            return match e.print().and_then(|()| io::stdout().flush()) {
                Ok(()) => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
                Err(write) => {
                    let stream = if e.use_stderr() { "stderr" } else { "stdout" };
                    let _ = writeln!(io::stderr(), "error: cannot write to {stream}: {write}");
                    ExitCode::from(2)
                }
            }
        }
    };
    let outcome = match cli.command {
        Command::Check(args) => {
            let options = args.limits.options();
            check(args, options)
        }
        Command::Eval(args) => {
            let options = args.options.options();
            eval(args, &options)
        }
        Command::Bulk(args) => {
            let options = args.options.options();
            bulk(args, &options)
        }
        Command::Plan(args) => {
            let options = args.options.options();
            plan(args, &options)
        }
        Command::Expr(args) => {
            let options = args.options.options();
            expr(args, &options)
        }
        Command::Test(args) => test::run(args),
        Command::Functions { name } => functions(name.as_deref()),
        Command::Fmt {
            files,
            check,
            limits,
        } => fmt(&files, check, &limits.options()),
        Command::Lsp { limits } => lsp::run(limits.options()).map(|()| Status::Ok),
        Command::Completions { shell } => completions(shell),
    };
    match outcome {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Failed) => ExitCode::from(1),
        Err(message) => {
            // When stderr itself fails there is nowhere left to say so; the exit code still does.
            let _ = writeln!(io::stderr(), "error: {}", escape_controls(&message));
            ExitCode::from(2)
        }
    }
}

/// Colour only on a terminal, and never with NO_COLOR set to something non-empty.
fn color_stderr() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes to stdout and flushes: a failure (a full disk, a closed pipe) is an exit-2 error.
fn print_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// Writes to stderr: a failure is an exit-2 error, like one on stdout.
fn print_stderr(text: &str) -> Result<(), String> {
    let mut err = io::stderr().lock();
    err.write_all(text.as_bytes())
        .and_then(|()| err.flush())
        .map_err(|e| format!("cannot write to stderr: {e}"))
}

/// Text for a terminal: control characters (C0, DEL, C1) that come from a mapping, a record
/// or a file name are written as `\u{1b}`-style escapes, so that they cannot move the cursor,
/// recolour or retitle the terminal, or forge lines of output.
fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path as the messages on stderr name it.
fn shown(path: &Path) -> String {
    escape_controls(&path.display().to_string()).into_owned()
}

fn cannot_read(path: &Path, e: io::Error) -> String {
    format!("cannot read {}: {e}", path.display())
}

/// A UTF-8 byte order mark, ignored at the start of a mapping file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A mapping file's bytes, read no further than `source-bytes` (plus a BOM, which does not
/// count) allows: a bigger file is the compile error `Mapping::compile_bytes` gives for it,
/// without reading the rest (`/dev/zero` included).
fn read_mapping(path: &Path, limits: &Limits) -> Result<Result<Vec<u8>, CompileError>, String> {
    let file = File::open(path).map_err(|e| cannot_read(path, e))?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let cap = limits.source_bytes;
    // One byte past the cap tells a file over it from one that fits exactly.
    let most = u64::try_from(cap)
        .unwrap_or(u64::MAX)
        .saturating_add(BOM.len() as u64 + 1);
    let mut bytes = Vec::new();
    file.take(most)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(path, e))?;
    let bom = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    if bytes.len() - bom <= cap {
        return Ok(Ok(bytes));
    }
    let what = match size {
        Some(n) => format!("{} bytes", n.max(bytes.len() as u64) - bom as u64),
        None => format!("more than {cap} bytes"),
    };
    Ok(Err(CompileError {
        diagnostics: vec![Diagnostic::error(
            "scimap::limit",
            Span::new(0, 0),
            format!("the mapping is {what}, over the limit `source-bytes` ({cap})"),
        )],
        source: String::new(),
    }))
}

/// Compiles a mapping file read within its limit.
fn compile_file(path: &Path, options: &Options) -> Result<Result<Mapping, CompileError>, String> {
    Ok(read_mapping(path, &options.limits)?
        .and_then(|bytes| Mapping::compile_bytes(&bytes, options)))
}

fn print_human(diagnostics: &[Diagnostic], file: &Path, source: &str) -> Result<(), String> {
    let color = color_stderr();
    let file = shown(file);
    let index = render::LineIndex::new(source);
    for d in diagnostics {
        print_stderr(&format!(
            "{}\n",
            render::human_with(d, &file, &index, color)
        ))?;
    }
    Ok(())
}

/// Reads and compiles a mapping; on compile errors prints every diagnostic and gives `None`.
fn load_mapping(path: &Path, options: &Options) -> Result<Option<Mapping>, String> {
    match compile_file(path, options)? {
        Ok(mapping) => {
            print_human(mapping.warnings(), path, mapping.source())?;
            Ok(Some(mapping))
        }
        Err(e) => {
            print_human(&e.diagnostics, path, &e.source)?;
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
    let mut found: Vec<(&Path, std::sync::Arc<render::LineIndex>, Diagnostic)> = Vec::new();
    let mut io_errors = Vec::new();
    for path in &args.files {
        let (diagnostics, source) = match compile_file(path, &options) {
            Ok(Ok(m)) => (m.warnings().to_vec(), m.source().to_string()),
            Ok(Err(e)) => (e.diagnostics, e.source),
            Err(e) => {
                io_errors.push(e);
                continue;
            }
        };
        // One line index per file: a file may carry thousands of diagnostics.
        let index = std::sync::Arc::new(render::LineIndex::new(&source));
        found.extend(
            diagnostics
                .into_iter()
                .filter(|d| d.is_error() || !args.allow.iter().any(|a| a == d.code))
                .map(|d| (path.as_path(), index.clone(), d)),
        );
    }
    found.sort_by(|a, b| (a.0.as_os_str(), a.2.span.start).cmp(&(b.0.as_os_str(), b.2.span.start)));

    // A file that could not be read leaves the result incomplete: stdout gets none of it (an
    // empty `[]` would read as a clean check), stderr the I/O errors, exit 2.
    let machine = !matches!(args.format, Format::Human);
    if machine && !io_errors.is_empty() {
        // An `Err` (exit 2), since there is at least one.
        return report_io_errors(io_errors).map(|()| Status::Failed);
    }
    match args.format {
        Format::Human => {
            let color = color_stderr();
            for (file, index, d) in &found {
                let text = render::human_with(d, &shown(file), index, color);
                print_stderr(&format!("{text}\n"))?;
            }
        }
        Format::Json => {
            let all: Vec<Value> = found
                .iter()
                .map(|(file, index, d)| {
                    render::diagnostic_json(d, Some(&file.display().to_string()), index)
                })
                .collect();
            let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
            print_stdout(&format!("{text}\n"))?;
        }
        Format::Github => {
            let text: String = found
                .iter()
                .map(|(file, index, d)| {
                    render::github_line(d, &file.display().to_string(), index) + "\n"
                })
                .collect();
            print_stdout(&text)?;
        }
    }
    let counts = scimap::Counts::of(found.iter().map(|(_, _, d)| d));
    let (errors, warnings) = (counts.errors, counts.warnings);
    let checked = args.files.len() - io_errors.len();
    if matches!(args.format, Format::Human) && checked > 0 {
        print_stderr(&format!(
            "checked {checked} file{}: {errors} error{}, {warnings} warning{}\n",
            plural(checked),
            plural(errors),
            plural(warnings)
        ))?;
    }
    report_io_errors(io_errors)?;
    if errors > 0 {
        return Ok(Status::Failed);
    }
    if args.deny_warnings && warnings > 0 {
        print_stderr(&format!(
            "error: {warnings} warning{} denied by --deny-warnings (silence one with --allow CODE \
             or a `// scimap:allow(CODE)` comment)\n",
            plural(warnings)
        ))?;
        return Ok(Status::Failed);
    }
    Ok(Status::Ok)
}

/// Every file that could not be read or written is reported; the last one through the exit-2
/// path.
fn report_io_errors(mut errors: Vec<String>) -> Result<(), String> {
    let Some(last) = errors.pop() else {
        return Ok(());
    };
    for e in errors {
        print_stderr(&format!("error: {}\n", escape_controls(&e)))?;
    }
    Err(last)
}

// ---------------------------------------------------------------------------------------------
// fmt

/// Rewrites each file in the canonical layout, or with `--check` prints a diff of what would
/// change (stdout) and names the files (stderr). A file that does not parse is reported and
/// left alone (exit 1).
fn fmt(files: &[PathBuf], check: bool, options: &Options) -> Outcome {
    let mut failed = false;
    let mut io_errors = Vec::new();
    for path in files {
        let bytes = match read_mapping(path, &options.limits) {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                print_human(&e.diagnostics, path, &e.source)?;
                failed = true;
                continue;
            }
            Err(e) => {
                io_errors.push(e);
                continue;
            }
        };
        let Ok(source) = std::str::from_utf8(&bytes) else {
            // The compiler reports the first bad byte with its line.
            if let Err(e) = Mapping::compile_bytes(&bytes, options) {
                print_human(&e.diagnostics, path, &e.source)?;
            }
            failed = true;
            continue;
        };
        let formatted = match scimap::fmt::format_with(source, &options.limits) {
            Ok(f) => f,
            Err(e) => {
                print_human(&e.diagnostics, path, &e.source)?;
                failed = true;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if check {
            // The diff quotes the file: control characters other than tabs (harmless, and
            // what the formatter removes) are escaped like every other mapping text shown.
            let name = shown(path);
            let text: String = diff::unified(&name, source, &formatted)
                .lines()
                .map(|l| {
                    let parts: Vec<Cow<'_, str>> = l.split('\t').map(escape_controls).collect();
                    format!("{}\n", parts.join("\t"))
                })
                .collect();
            print_stdout(&text)?;
            // The diff compares lines without their ends.
            let only = if text.is_empty() {
                " (only its line ends, byte order mark or final newline)"
            } else {
                ""
            };
            print_stderr(&format!("{name} is not formatted{only}\n"))?;
            failed = true;
        } else if let Err(e) = std::fs::write(path, formatted) {
            io_errors.push(format!("cannot write {}: {e}", path.display()));
        }
    }
    report_io_errors(io_errors)?;
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

/// The record `--pick`/`--where` selects (the first one by default), read from the file one
/// record at a time and no further than needed. The outer error is a usage or I/O error (exit
/// 2: no such file, not JSON, no record selected); the inner one is the selected record's own
/// failure (over `line-bytes` or `depth`, not an object), reported as a failed record.
fn select_record(
    path: &Path,
    select: &Select,
    limits: &Limits,
) -> Result<Result<Value, RecordError>, String> {
    let file = File::open(path).map_err(|e| cannot_read(path, e))?;
    let mut records = Records::new(BufReader::new(file), limits.line_bytes);
    // Records `--where` could not look into: named if none matches.
    let mut unreadable = 0usize;
    loop {
        let record = records
            .next_record()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(record) = record else { break };
        let wanted = match (&select.pick, &select.where_) {
            (Some(n), _) => record.index == *n,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        let Some(text) = record.text else {
            if wanted {
                return Ok(Err(RecordError::over_line_bytes(limits.line_bytes)));
            }
            unreadable += 1;
            continue;
        };
        let parsed = scimap::parse_record(&text, limits);
        let err = match parsed {
            Ok(value) => {
                let matches = select.where_.as_ref().is_some_and(|(field, want)| {
                    value.get(field).is_some_and(|v| field_matches(v, want))
                });
                if wanted || matches {
                    return Ok(Ok(value));
                }
                continue;
            }
            Err(e) => e,
        };
        let code = err.errors.first().map_or("", |e| e.code.as_str());
        // A record that is not JSON makes the file not JSON, wanted or not.
        if matches!(code, "scimap::invalid-json" | "scimap::invalid-utf8") {
            return Err(format!(
                "{}: the record at line {} column {}: {}",
                path.display(),
                record.line,
                record.column,
                err.message()
            ));
        }
        if wanted {
            return Ok(Err(err));
        }
        unreadable += usize::from(code == "scimap::limit");
    }
    let why = match (&select.pick, &select.where_) {
        (Some(n), _) => format!("there is no record {n} (0-based)"),
        (None, Some((f, v))) if unreadable > 0 => format!(
            "no record has {f} = {v} ({unreadable} record{} over a limit could not be searched)",
            plural(unreadable)
        ),
        (None, Some((f, v))) => format!("no record has {f} = {v}"),
        (None, None) => "it holds no record".to_string(),
    };
    Err(format!("no record selected in {}: {why}", path.display()))
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
    let result = match select_record(records, &args.select, &options.limits)? {
        Ok(record) => {
            if args.explain {
                explain(&mapping, kind, &record)?;
            }
            mapping.evaluate(kind, &record)
        }
        Err(failure) => Err(failure),
    };
    match result {
        Ok(payload) => {
            // Numbers as Go and JavaScript print them, as `bulk` does (reference §expr-printing).
            let text = scimap::json::pretty(&payload);
            print_stdout(&format!("{text}\n"))?;
            Ok(Status::Ok)
        }
        Err(error) => {
            let text = scimap::json::pretty(&error.to_json(None, None));
            print_stdout(&format!("{text}\n"))?;
            let mut report = format!(
                "record failed ({} error{}):\n",
                error.errors.len(),
                plural(error.errors.len())
            );
            let file = args.mapping.display().to_string();
            for e in &error.errors {
                report.push_str(&format!("  {}\n", describe_error(e, &file)));
            }
            print_stderr(&report)?;
            Ok(Status::Failed)
        }
    }
}

/// `error[CODE] TARGET at FILE:L:C: MESSAGE` (whole-record errors have no target or place),
/// with control characters escaped: messages quote record values.
fn describe_error(e: &EntryError, file: &str) -> String {
    let text = match (&e.target, e.line, e.column) {
        (Some(t), Some(l), Some(c)) => {
            format!("error[{}] {t} at {file}:{l}:{c}: {}", e.code, e.message)
        }
        (Some(t), _, _) => format!("error[{}] {t}: {}", e.code, e.message),
        (None, _, _) => format!("error[{}]: {}", e.code, e.message),
    };
    escape_controls(&text).into_owned()
}

/// Per target: where it is, its source (line breaks kept), and its value or error.
fn explain(mapping: &Mapping, kind: Kind, record: &Value) -> Result<(), String> {
    let mut text = String::new();
    for x in mapping.explain(kind, record) {
        let source: Vec<Cow<'_, str>> = x.source.lines().map(escape_controls).collect();
        text.push_str(&format!(
            "{} ({}, {}:{}{}) = {}\n",
            escape_controls(&x.target),
            x.kind,
            x.line,
            x.column,
            if x.create_only { ", create only" } else { "" },
            source.join("\n")
        ));
        let outcome = match (&x.value, &x.error) {
            (_, Some(e)) => format!("error[{}]: {}", e.code, e.message),
            (Some(v), None) => v.to_string(),
            (None, None) => "(absent)".to_string(),
        };
        text.push_str(&format!("    → {}\n", escape_controls(&outcome)));
    }
    print_stderr(&text)
}

// ---------------------------------------------------------------------------------------------
// plan

fn plan(args: PlanArgs, options: &Options) -> Outcome {
    let kind = if args.group.is_some() || args.groups {
        Kind::Group
    } else {
        Kind::User
    };
    let Some(mapping) = load_mapping(&args.mapping, options)? else {
        return Ok(Status::Failed);
    };
    require_section(&mapping, kind, &args.mapping)?;
    if let Some(input) = &args.input {
        let files = Stream {
            mapping: &args.mapping,
            input: Some(input),
            output: args.output.as_deref(),
            threads: args.threads,
            lines: "pairs",
        };
        return stream(&files, options, |input, output, how| {
            bulk::plan(&mapping, kind, input, output, how)
        });
    }
    let Some(records) = args.user.as_ref().or(args.group.as_ref()) else {
        return Err("give --user FILE, --group FILE or --input FILE".to_string());
    };
    let limits = &options.limits;
    let current = match &args.current {
        Some(path) => match scimap::parse_record(&read_capped(path, limits)?, limits) {
            Ok(current) => Some(current),
            Err(e) => return plan_failed(&args.mapping, &e.of_current()),
        },
        None => None,
    };
    let members = match &args.members {
        Some(path) => Some(read_members(path, limits)?),
        None => None,
    };
    let planned = match select_record(records, &args.select, limits)? {
        Err(e) => Err(e),
        Ok(_) if args.deactivate => mapping.deactivate(current.as_ref().unwrap_or(&Value::Null)),
        Ok(record) => match &members {
            Some(members) => mapping.plan_group(&record, current.as_ref(), members),
            None => mapping.plan(kind, &record, current.as_ref()),
        },
    };
    match planned {
        Ok(plan) => {
            if args.explain {
                print_stderr(&explain_plan(&plan, &args.mapping))?;
            }
            print_stdout(&format!("{}\n", scimap::json::pretty(&plan.to_json())))?;
            Ok(Status::Ok)
        }
        Err(e) => plan_failed(&args.mapping, &e),
    }
}

/// A record or current resource the plan could not be made from: the error object on stdout,
/// each error on stderr, exit 1 (as `eval`).
fn plan_failed(mapping: &Path, error: &RecordError) -> Outcome {
    let text = scimap::json::pretty(&error.to_json(None, None));
    print_stdout(&format!("{text}\n"))?;
    let file = mapping.display().to_string();
    let mut report = String::from("no plan:\n");
    for e in &error.errors {
        report.push_str(&format!("  {}\n", describe_error(e, &file)));
    }
    print_stderr(&report)?;
    Ok(Status::Failed)
}

/// A file of one JSON value (`--current`, `--members`), read within `line-bytes`.
fn read_capped(path: &Path, limits: &Limits) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| cannot_read(path, e))?;
    let cap = u64::try_from(limits.line_bytes).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(format!(
            "{}: over the limit `line-bytes` ({})",
            path.display(),
            limits.line_bytes
        ));
    }
    Ok(bytes)
}

/// `--members FILE`: a JSON array of ids.
fn read_members(path: &Path, limits: &Limits) -> Result<Vec<String>, String> {
    serde_json::from_slice(&read_capped(path, limits)?).map_err(|e| {
        format!(
            "{}: expected a JSON array of member ids: {e}",
            path.display()
        )
    })
}

/// Per request, its operations and the entries behind each (`--explain`).
fn explain_plan(plan: &scimap::plan::Plan, mapping: &Path) -> String {
    let file = mapping.display();
    let causes = |list: &[scimap::plan::Cause]| -> String {
        let named: Vec<String> = list
            .iter()
            .map(|c| match c.line {
                0 => escape_controls(&c.target).into_owned(),
                _ => format!(
                    "{} ({file}:{}:{})",
                    escape_controls(&c.target),
                    c.line,
                    c.column
                ),
            })
            .collect();
        named.join(", ")
    };
    let mut text = String::new();
    if plan.requests.is_empty() {
        text.push_str("nothing to send: every attribute that may change is as the app has it\n");
    }
    for request in &plan.requests {
        // The path's id is percent-encoded: no control character is left in it.
        text.push_str(&format!("{} {}\n", request.method.as_str(), request.path));
        let operations = request.body.get("Operations").and_then(Value::as_array);
        match operations {
            Some(operations) => {
                for (op, why) in operations.iter().zip(&request.causes) {
                    let verb = op.get("op").and_then(Value::as_str).unwrap_or("");
                    let path = op.get("path").and_then(Value::as_str).unwrap_or("");
                    let path = escape_controls(path);
                    text.push_str(&format!("  {verb} {path}  ← {}\n", causes(why)));
                }
            }
            None => {
                let what = if request.method == scimap::plan::Method::Post {
                    "sends"
                } else {
                    "changes"
                };
                for why in &request.causes {
                    text.push_str(&format!("  {what} {}\n", causes(why)));
                }
            }
        }
    }
    text
}

// ---------------------------------------------------------------------------------------------
// bulk

fn bulk(args: BulkArgs, options: &Options) -> Outcome {
    let kind = if args.group { Kind::Group } else { Kind::User };
    let Some(mapping) = load_mapping(&args.mapping, options)? else {
        return Ok(Status::Failed);
    };
    require_section(&mapping, kind, &args.mapping)?;
    let files = Stream {
        mapping: &args.mapping,
        input: args.input.as_deref(),
        output: args.output.as_deref(),
        threads: args.threads,
        lines: "records",
    };
    stream(&files, options, |input, output, how| {
        bulk::evaluate(&mapping, kind, input, output, how)
    })
}

/// The files of a line-by-line run (`bulk`, `plan --input`).
struct Stream<'a> {
    mapping: &'a Path,
    /// `None` or `-`: stdin.
    input: Option<&'a Path>,
    /// `None`: stdout.
    output: Option<&'a Path>,
    threads: Option<u16>,
    /// What a line holds, for the summary: `records`, `pairs`.
    lines: &'static str,
}

/// What `bulk` and `plan --input` share: the files opened (the output checked to be neither
/// the input nor the mapping), the run on the threads asked for, and its summary.
fn stream(
    files: &Stream<'_>,
    options: &Options,
    run: impl FnOnce(
        Box<dyn BufRead + Send>,
        &mut Box<dyn Write + Send>,
        &bulk::Options<'_>,
    ) -> Result<bulk::Summary, bulk::Error>,
) -> Outcome {
    let workers = match files.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let (input, input_id): (Box<dyn BufRead + Send>, _) =
        match files.input.filter(|p| *p != Path::new("-")) {
            Some(path) => {
                let file = File::open(path).map_err(|e| cannot_read(path, e))?;
                let id = file.metadata().ok().as_ref().and_then(file_id);
                (
                    Box::new(BufReader::with_capacity(io_buffer(workers), file)),
                    id,
                )
            }
            None => (
                Box::new(BufReader::with_capacity(io_buffer(workers), io::stdin())),
                stdin_id(),
            ),
        };
    // The output must be neither the input nor the mapping: writing it would destroy what is
    // being read (or, appended to, make the input endless).
    let mapping_id = std::fs::metadata(files.mapping)
        .ok()
        .as_ref()
        .and_then(file_id);
    let refuse = |output_id: Option<FileId>, what: &str| -> Result<(), String> {
        let same = |other: Option<FileId>| output_id.is_some() && output_id == other;
        if same(input_id) {
            return Err(format!("{what} is the input file: refusing to write to it"));
        }
        if same(mapping_id) {
            return Err(format!(
                "{what} is the mapping file: refusing to write to it"
            ));
        }
        Ok(())
    };
    // Not buffered again: the bulk engine writes its output in blocks (a BufWriter here copied
    // every output byte once more).
    let mut output: Box<dyn Write + Send> = match files.output {
        Some(path) => {
            let cannot_write = |e: io::Error| format!("cannot write {}: {e}", path.display());
            // Opened without truncating, compared, and only then truncated.
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(cannot_write)?;
            let meta = file.metadata().map_err(cannot_write)?;
            refuse(file_id(&meta), &format!("--output {}", path.display()))?;
            // Not a device or a pipe (`/dev/null`, `/dev/stdout`): those cannot be truncated.
            if meta.is_file() {
                file.set_len(0).map_err(cannot_write)?;
            }
            Box::new(file)
        }
        None => {
            refuse(stdout_id(), "stdout")?;
            Box::new(io::stdout())
        }
    };
    let progress = io::stderr()
        .is_terminal()
        .then(indicatif::ProgressBar::new_spinner);
    let tick = |done: usize| {
        if let Some(progress) = &progress {
            progress.set_message(format!("{done} records"));
            progress.tick();
        }
    };
    let started = Instant::now();
    let done = run(
        input,
        &mut output,
        &bulk::Options {
            threads: workers,
            line_bytes: options.limits.line_bytes,
            progress: progress.is_some().then_some(&tick),
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    summary(started, done.total, done.ok, files.lines)
}

/// The input buffer of `bulk`: 1 MiB on one thread (3% faster than 64 KiB in alternating runs:
/// a sixteenth of the system calls), 64 KiB on several, where the input is read under a lock
/// the other threads wait on and 1 MiB measured slower.
fn io_buffer(workers: usize) -> usize {
    if workers <= 1 {
        1 << 20
    } else {
        1 << 16
    }
}

/// What identifies a regular file whatever the path to it (symbolic or hard links): its device
/// and inode.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

/// Only regular files: `/dev/null` as input and output is fine.
#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    meta.is_file().then(|| FileId(meta.dev(), meta.ino()))
}

#[cfg(unix)]
fn stream_id(stream: impl std::os::fd::AsFd) -> Option<FileId> {
    let fd = stream.as_fd().try_clone_to_owned().ok()?;
    file_id(&File::from(fd).metadata().ok()?)
}

#[cfg(unix)]
fn stdin_id() -> Option<FileId> {
    stream_id(io::stdin())
}

#[cfg(unix)]
fn stdout_id() -> Option<FileId> {
    stream_id(io::stdout())
}

// Elsewhere std has no stable file identity: nothing is found to be the same file.
#[cfg(not(unix))]
fn file_id(_: &Metadata) -> Option<FileId> {
    None
}

#[cfg(not(unix))]
fn stdin_id() -> Option<FileId> {
    None
}

#[cfg(not(unix))]
fn stdout_id() -> Option<FileId> {
    None
}

/// The final line on stderr; failed records make the exit status 1.
fn summary(started: Instant, total: usize, ok: usize, lines: &str) -> Outcome {
    let seconds = started.elapsed().as_secs_f64();
    let failed = total - ok;
    let rate = if seconds > 0.0 {
        total as f64 / seconds
    } else {
        total as f64
    };
    print_stderr(&format!(
        "{total} {lines}, {ok} ok, {failed} failed in {seconds:.2}s ({rate:.0} {lines}/s)\n"
    ))?;
    Ok(if failed > 0 {
        Status::Failed
    } else {
        Status::Ok
    })
}

// ---------------------------------------------------------------------------------------------
// expr

/// Why a field of `expr` without a record is nil, said after a run-time error about a nil.
const NO_RECORD: &str =
    "note: the record is empty, so every field is nil: no --user FILE or --group FILE was given\n";

/// A run-time error about a nil value (`expected string, got nil`, `… of nil`); the errors
/// carry no code that says so.
fn mentions_nil(message: &str) -> bool {
    message
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "nil")
}

fn expr(args: ExprArgs, options: &Options) -> Outcome {
    let no_record = args.user.is_none() && args.group.is_none();
    let (kind, selected) = match (&args.user, &args.group) {
        (_, Some(g)) => (
            Kind::Group,
            select_record(g, &args.select, &options.limits)?,
        ),
        (Some(u), None) => (Kind::User, select_record(u, &args.select, &options.limits)?),
        (None, None) => (Kind::User, Ok(Value::Object(serde_json::Map::new()))),
    };
    let record = match selected {
        Ok(record) => record,
        Err(failure) => {
            let mut report = String::new();
            for e in &failure.errors {
                report.push_str(&format!("{}\n", describe_error(e, "")));
            }
            print_stderr(&report)?;
            return Ok(Status::Failed);
        }
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
                    print_stderr(&format!("error: {}\n", escape_controls(&e.message)))?;
                } else {
                    print_human(&e.diagnostics, Path::new("<expression>"), &source)?;
                }
                if no_record && e.phase == Phase::Run && mentions_nil(&e.message) {
                    print_stderr(NO_RECORD)?;
                }
                Ok(Status::Failed)
            }
        };
    }

    let mut reader = LineReader::new(io::stdin().lock(), options.limits.source_bytes);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut status = Status::Ok;
    let mut noted = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Some(line) = reader
            .next_line_into(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?
        else {
            break;
        };
        let over = line.range.is_none();
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
                // Once, on stderr: stdout keeps one JSON line per expression.
                if no_record && phase == "run" && !noted && mentions_nil(&message) {
                    print_stderr(NO_RECORD)?;
                    noted = true;
                }
                status = Status::Failed;
                serde_json::json!({ "error": message, "phase": phase })
            }
        };
        // After an over-long line, its answer goes out before the rest is skipped.
        writeln!(out, "{json}")
            .and_then(|()| if over { out.flush() } else { Ok(()) })
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
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
        let mut group = None;
        // Under the catalogue's headings, in its order (the entries of a group are together).
        for d in all {
            if group != Some(&d.group) {
                if group.is_some() {
                    text.push('\n');
                }
                text.push_str(&format!("{}:\n", d.group));
                group = Some(&d.group);
            }
            let example = d
                .examples
                .first()
                .map(|(e, r)| format!("  e.g. {e} → {r}"))
                .unwrap_or_default();
            let line = format!(
                "  {:wn$}  {:ws$}  {}{example}",
                d.name, d.signature, d.summary
            );
            text.push_str(line.trim_end());
            text.push('\n');
        }
        print_stdout(&text)?;
        return Ok(Status::Ok);
    };
    // A method is found by its short name too: `Format` is `Time.Format`.
    let methods: Vec<&scimap::FunctionDoc> = all
        .iter()
        .filter(|d| {
            d.name
                .rsplit_once('.')
                .is_some_and(|(_, short)| short == name)
        })
        .collect();
    let found = all.iter().find(|d| d.name == name);
    let doc = match (found, methods.as_slice()) {
        (Some(doc), _) | (None, &[doc]) => doc,
        (None, []) => {
            let best = all
                .iter()
                .map(|d| (strsim::jaro_winkler(&d.name, name), &d.name))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(score, _)| *score >= 0.8);
            return Err(match best {
                Some((_, near)) => format!("unknown function `{name}`; did you mean `{near}`?"),
                None => format!("unknown function `{name}` (see `scimap functions`)"),
            });
        }
        (None, several) => {
            let names: Vec<&str> = several.iter().map(|d| d.name.as_str()).collect();
            return Err(format!(
                "`{name}` is a method of several types: {} (name one)",
                names.join(", ")
            ));
        }
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

// ---------------------------------------------------------------------------------------------
// completions and man pages, from the definitions above

fn completions(shell: clap_complete::Shell) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "scimap", &mut script);
    io::stdout()
        .lock()
        .write_all(&script)
        .and_then(|()| io::stdout().flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    Ok(Status::Ok)
}

/// One page for the command and one for each visible subcommand (`scimap-check.1`, …).
fn man(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| format!("cannot write the man pages into {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        Cli::command().debug_assert();
        Cli::command().subcommand(man_command()).debug_assert();
    }
}
