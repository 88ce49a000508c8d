//! The bulk engine: records in, one output line per record out, in input order, on as many
//! threads as asked. `scimap bulk` and `scimap plan --input` are this module and a command
//! line around it; a provisioning engine embeds it the same way.
//!
//! The input is NDJSON (one record a line; a `\r` before the `\n` and a byte order mark are
//! ignored) or one JSON array whose items are the records, told apart by its first byte that
//! is not a blank. Each record gives one output line: with [`evaluate`] the payload, with
//! [`plan`] the plan's requests, or for a record that fails the error object of reference
//! §payload-error-object with its `line` (1-based; an array item's position) and `id`. A
//! record over `line_bytes` is answered with a `scimap::limit` error line as soon as it
//! passes the limit, and its rest is skipped without being stored.
//!
//! Memory stays bounded whatever the input: each worker holds a chunk of about 512 KiB of
//! records (at most 256 records when read one by one; one record up to `line_bytes`), and no
//! chunk is read more than four chunks a worker ahead of the writing.
//!
//! ```
//! let mapping = scimap::Mapping::compile("user {\n  userName = username\n}").unwrap();
//! let input = "{\"_id\":\"1\",\"username\":\"ada\"}\n{\"_id\":\"2\"}\n";
//! let mut output = Vec::new();
//! let options = scimap::bulk::Options { threads: 2, ..Default::default() };
//! let summary =
//!     scimap::bulk::evaluate(&mapping, scimap::Kind::User, input.as_bytes(), &mut output, &options)
//!         .unwrap();
//! assert_eq!((summary.total, summary.ok, summary.failed()), (2, 1, 1));
//! let lines: Vec<&str> = std::str::from_utf8(&output).unwrap().lines().collect();
//! assert_eq!(lines[0], r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}"#);
//! assert!(lines[1].starts_with(r#"{"error":"#) && lines[1].ends_with(r#","line":2,"id":"2"}"#));
//! ```

pub mod records;

use crate::limits::Limits;
use crate::mapping::{Kind, Mapping};
use crate::record::RecordError;
use std::fmt;
use std::io::{self, BufRead, Read, Write};

/// How a bulk run reads its input and spreads the work.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Worker threads, the calling thread included (0 counts as 1). One thread reads,
    /// evaluates and writes each record in turn, with no hand-over between threads.
    pub threads: usize,
    /// The longest record read, in bytes: the mapping's `line-bytes` limit
    /// ([`Limits::line_bytes`]), which it also checks.
    pub line_bytes: usize,
    /// Called now and then with the number of records done so far (a progress bar).
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
}

impl Default for Options<'_> {
    /// All cores, the default `line-bytes`, no progress.
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            line_bytes: Limits::default().line_bytes,
            progress: None,
        }
    }
}

/// What a run did: records read, and how many of them succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
}

impl Summary {
    /// Records whose output line is an error object.
    pub fn failed(&self) -> usize {
        self.total - self.ok
    }
}

/// Why a run stopped before the end of its input. The output lines of the records before the
/// fault are written; a failing record is no such error (it is an output line).
#[derive(Debug)]
pub enum Error {
    /// The input could not be read, or is not an array of values.
    Read(io::Error),
    /// The output could not be written (a closed pipe, a full disk).
    Write(io::Error),
    /// A worker thread panicked.
    Stopped,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read(e) => write!(f, "cannot read input: {e}"),
            Error::Write(e) => write!(f, "cannot write output: {e}"),
            Error::Stopped => f.write_str("a worker stopped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read(e) | Error::Write(e) => Some(e),
            Error::Stopped => None,
        }
    }
}

/// What a run does with one record: its bytes (no `\n`) and its 1-based line number in, one
/// output line (no `\n`) appended to the buffer; returns whether the record succeeded.
pub type Each<'m> = dyn Fn(&[u8], usize, &mut Vec<u8>) -> bool + Sync + 'm;

/// Evaluates every record of `input` with the `kind` section of `mapping`
/// ([`Mapping::evaluate_line`]), the payloads and error objects written to `output` in input
/// order.
pub fn evaluate<W: Write + Send>(
    mapping: &Mapping,
    kind: Kind,
    input: impl BufRead + Send,
    output: &mut W,
    options: &Options<'_>,
) -> Result<Summary, Error> {
    run(input, output, options, &|line, number, out| {
        mapping.evaluate_line(kind, line, number, out)
    })
}

/// Plans every `{"record": …, "current": … or null}` pair of `input` ([`Mapping::plan_line`]),
/// one JSON array of requests (or an error object) written to `output` per pair, in order.
pub fn plan<W: Write + Send>(
    mapping: &Mapping,
    kind: Kind,
    input: impl BufRead + Send,
    output: &mut W,
    options: &Options<'_>,
) -> Result<Summary, Error> {
    run(input, output, options, &|line, number, out| {
        mapping.plan_line(kind, line, number, out)
    })
}

/// Runs `each` over every record of `input`, writing the output lines in input order; flushes
/// `output` at the end (and after the error line of an over-long record, whose rest may take
/// long to skip). `output` is written in blocks: about 64 KiB on one thread, a chunk's lines on
/// several.
pub fn run<W: Write + Send>(
    input: impl BufRead + Send,
    output: &mut W,
    options: &Options<'_>,
    each: &Each<'_>,
) -> Result<Summary, Error> {
    let (array, input) = peek_array(input).map_err(Error::Read)?;
    let cap = options.line_bytes;
    let mut reader: Box<dyn RecordSource + '_> = if array {
        Box::new(ArrayItems {
            records: records::Records::new(input, cap),
        })
    } else {
        Box::new(LineReader::new(input, cap))
    };
    let progress = options.progress.unwrap_or(&|_| {});
    if options.threads <= 1 {
        sequential(each, &mut *reader, output, cap, progress)
    } else {
        parallel(each, reader, output, cap, progress, options.threads)
    }
}

/// A UTF-8 byte order mark, ignored at the start of the input.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Splits input at '\n' without holding more than `cap` (+1 for a '\r') bytes of one line: a
/// run's NDJSON, and the command line's `expr --lines`.
pub struct LineReader<R> {
    inner: R,
    cap: usize,
    number: usize,
    /// The last line was over the cap and answered before its end: the rest is skipped first.
    skipping: bool,
    /// What `read_lines` read past its last whole line: the start of the next. Only
    /// `read_lines` leaves bytes here, and only it is called while any are.
    carry: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, cap: usize) -> Self {
        LineReader {
            inner,
            cap,
            number: 0,
            skipping: false,
            carry: Vec::new(),
        }
    }

    /// The next line without its '\n' and one '\r' before it (and, on the first line, a BOM),
    /// appended to `buf` (which keeps what it held); `None` at the end. A final '\n' makes no
    /// extra line. A line over the cap is answered (range `None`) as soon as it passes the cap,
    /// before its end is read: the next call skips the rest without storing it.
    pub fn next_line_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        if self.skipping {
            self.skipping = false;
            loop {
                let chunk = self.inner.fill_buf()?;
                if chunk.is_empty() {
                    return Ok(None);
                }
                match memchr::memchr(b'\n', chunk) {
                    Some(i) => {
                        self.inner.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = chunk.len();
                        self.inner.consume(n);
                    }
                }
            }
        }
        let start = buf.len();
        // Room for the cap plus a '\r' that is removed below, and on the first line a BOM.
        let room = self
            .cap
            .saturating_add(if self.number == 0 { 1 + BOM.len() } else { 1 });
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
            if take > room.saturating_sub(buf.len() - start) {
                buf.truncate(start);
                self.inner.consume(take + usize::from(done));
                self.skipping = !done;
                self.number += 1;
                return Ok(Some(Line {
                    number: self.number,
                    range: None,
                }));
            }
            buf.extend_from_slice(&chunk[..take]);
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        self.number += 1;
        if buf.len() > start && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        let mut from = start;
        if self.number == 1 && buf[start..].starts_with(BOM) {
            from += BOM.len();
        }
        let range = (buf.len() - from <= self.cap).then_some(from..buf.len());
        Ok(Some(Line {
            number: self.number,
            range,
        }))
    }
}

/// Where a run takes its records from: lines of NDJSON, or the items of a JSON array.
trait RecordSource: Send {
    /// The next record appended to `buf`, as `LineReader::next_line_into` gives a line.
    fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>>;

    /// The next record's number and bytes (`None`: over the cap) given to `f`; false at the
    /// end. The bytes are copied into `scratch` unless the source can lend them in place.
    fn next_with(
        &mut self,
        scratch: &mut Vec<u8>,
        f: &mut dyn FnMut(usize, Option<&[u8]>),
    ) -> io::Result<bool> {
        scratch.clear();
        let read = self.next_into(scratch)?;
        Ok(lend(read, scratch, f))
    }

    /// Lines read straight from the input into `data` (appended), about `want` bytes of them,
    /// each pushed to `lines`: no copy through the input's buffer, for the workers, which hold
    /// the input's lock while they read. False when the next record is not read so (`next_into`
    /// reads it). On a read error, the whole lines before it are pushed first.
    fn read_lines(
        &mut self,
        _data: &mut Vec<u8>,
        _want: usize,
        _lines: &mut Vec<Line>,
    ) -> io::Result<bool> {
        Ok(false)
    }
}

/// A record read into `scratch` (`None`: the end) given to `f`; false at the end.
fn lend(read: Option<Line>, scratch: &[u8], f: &mut dyn FnMut(usize, Option<&[u8]>)) -> bool {
    match read {
        Some(line) => {
            f(line.number, line.range.map(|r| &scratch[r]));
            true
        }
        None => false,
    }
}

impl<R: BufRead + Send> RecordSource for LineReader<R> {
    fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        self.next_line_into(buf)
    }

    /// A line that lies whole in the input's buffer is read where it lies: copying every
    /// record out of the buffer was 1–2% of a one-thread run (BENCHMARKS.md).
    fn next_with(
        &mut self,
        scratch: &mut Vec<u8>,
        f: &mut dyn FnMut(usize, Option<&[u8]>),
    ) -> io::Result<bool> {
        // The first line may start with a BOM, and a skipped line's rest comes first: both
        // are left to `next_line_into`.
        if self.number > 0 && !self.skipping {
            let chunk = self.inner.fill_buf()?;
            if let Some(end) = memchr::memchr(b'\n', chunk) {
                self.number += 1;
                f(self.number, content(&chunk[..end], self.cap));
                self.inner.consume(end + 1);
                return Ok(true);
            }
        }
        scratch.clear();
        let read = self.next_line_into(scratch)?;
        Ok(lend(read, scratch, f))
    }

    fn read_lines(
        &mut self,
        data: &mut Vec<u8>,
        want: usize,
        lines: &mut Vec<Line>,
    ) -> io::Result<bool> {
        // The first line (a BOM) and a skipped line's rest are `next_line_into`'s.
        if self.number == 0 || self.skipping {
            return Ok(false);
        }
        let start = data.len();
        data.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut line = start;
        let end = loop {
            let (scanned, partial) = (data.len(), data.len() - line);
            // What is left of `want`; for a line longer than that, as much again (a few reads
            // however long), but never past the cap (and a '\r') of the line.
            let room = want.saturating_sub(partial).max(partial).max(1 << 12);
            let room = room.min(self.cap.saturating_add(2).saturating_sub(partial).max(1));
            // `read_to_end` reads into the spare capacity, uninitialised: nothing is zeroed.
            data.reserve(room);
            let read = (&mut self.inner).take(room as u64).read_to_end(data);
            for at in memchr::memchr_iter(b'\n', &data[scanned..]) {
                self.push_line(data, line..scanned + at, lines);
                line = scanned + at + 1;
            }
            // The lines before a fault are answered; the line it cut is not.
            let read = read.inspect_err(|_| data.truncate(line))?;
            if read < room {
                break true;
            }
            if line > start {
                break false;
            }
            // No line ends yet: one over the cap (and a '\r') is answered before its end.
            if data.len() - line > self.cap.saturating_add(1) {
                data.truncate(line);
                self.number += 1;
                self.skipping = true;
                lines.push(Line {
                    number: self.number,
                    range: None,
                });
                return Ok(true);
            }
        };
        if end && line < data.len() {
            self.push_line(data, line..data.len(), lines);
            line = data.len();
        }
        self.carry.extend_from_slice(&data[line..]);
        data.truncate(line);
        Ok(true)
    }
}

impl<R> LineReader<R> {
    /// The line at `at` in `data` (no '\n'), as `next_line_into` gives it.
    fn push_line(&mut self, data: &[u8], at: std::ops::Range<usize>, lines: &mut Vec<Line>) {
        self.number += 1;
        lines.push(Line {
            number: self.number,
            range: content(&data[at.clone()], self.cap).map(|l| at.start..at.start + l.len()),
        });
    }
}

/// A whole line read in place (no '\n') as `next_line_into` gives it: without one '\r' at its
/// end, `None` over `cap`.
fn content(line: &[u8], cap: usize) -> Option<&[u8]> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    (line.len() <= cap).then_some(line)
}

/// The items of a JSON array, each a record numbered by its 1-based position (its output line).
/// An item over `line-bytes` is answered before its end, like an over-long line; a file that is
/// not an array of values is a read error once the records before the fault are out.
struct ArrayItems<R> {
    records: records::Records<R>,
}

impl<R: BufRead + Send> RecordSource for ArrayItems<R> {
    fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        let record = self.records.next_record().map_err(|e| match e {
            records::Error::Io(e) => e,
            syntax => io::Error::new(io::ErrorKind::InvalidData, syntax.to_string()),
        })?;
        Ok(record.map(|r| {
            let range = r.text.map(|text| {
                let start = buf.len();
                buf.extend_from_slice(&text);
                start..buf.len()
            });
            Line {
                number: r.index + 1,
                range,
            }
        }))
    }
}

/// How far the input is looked into for the first non-blank byte that tells an array from
/// NDJSON.
const PEEK_BYTES: usize = 1 << 16;

/// The input with the bytes `peek_array` looked at put back in front.
type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Whether the input is a JSON array: its first byte other than a byte order mark and blanks,
/// within the first `PEEK_BYTES`, is `[`. The bytes looked at are put back in front of the
/// rest, so either reader sees the input whole.
fn peek_array<R: BufRead>(mut input: R) -> io::Result<(bool, Peeked<R>)> {
    let mut prefix = Vec::new();
    let mut first = None;
    'fill: while prefix.len() < PEEK_BYTES {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let mut used = 0;
        for &b in chunk {
            used += 1;
            prefix.push(b);
            let in_bom = prefix.len() <= BOM.len() && BOM.starts_with(&prefix);
            if !in_bom && !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                first = Some(b);
                input.consume(used);
                break 'fill;
            }
            if prefix.len() >= PEEK_BYTES {
                break;
            }
        }
        input.consume(used);
    }
    let whole = io::Cursor::new(prefix).chain(input);
    Ok((first == Some(b'['), whole))
}

/// A line in a buffer: its number, and where it is (`None`: over the line-bytes cap).
pub struct Line {
    pub number: usize,
    pub range: Option<std::ops::Range<usize>>,
}

/// Consecutive lines read into one buffer: the unit a worker takes.
#[derive(Default)]
struct Chunk {
    data: Vec<u8>,
    lines: Vec<Line>,
}

/// A chunk evaluated: its output lines, how many, how many succeeded, and whether the output
/// is flushed once written (it ends with an over-long line, whose rest may take long to skip).
struct Done {
    out: Vec<u8>,
    total: usize,
    ok: usize,
    flush: bool,
}

/// A chunk holds the whole lines of this many bytes read at once (`read_lines`), or, read line
/// by line, up to this many lines or bytes (a longer line is still read whole, up to
/// line-bytes): large enough to amortise the hand-over, small enough to balance the workers.
const CHUNK_LINES: usize = 256;
const CHUNK_BYTES: usize = 1 << 19;
/// Chunks a worker may read ahead of the writing: what bounds memory.
const IN_FLIGHT: usize = 4;
/// The sequential loop reports progress this often.
const PROGRESS_LINES: usize = 1024;

/// Runs one input line, appending its output line and a newline to `out`; true when the
/// record succeeded.
fn run_line(
    each: &Each<'_>,
    number: usize,
    bytes: Option<&[u8]>,
    line_bytes: usize,
    out: &mut Vec<u8>,
) -> bool {
    let ok = match bytes {
        Some(bytes) => each(bytes, number, out),
        None => {
            let error = RecordError::over_line_bytes(line_bytes);
            // Serialising a Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &error.to_json(Some(number), None));
            false
        }
    };
    out.push(b'\n');
    ok
}

/// One thread: read, evaluate and write each line in turn, with no hand-over between threads.
fn sequential(
    each: &Each<'_>,
    reader: &mut dyn RecordSource,
    output: &mut impl Write,
    line_bytes: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Summary, Error> {
    let (mut total, mut ok) = (0usize, 0usize);
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(1 << 16);
    loop {
        let mut over_long = false;
        let read = reader.next_with(&mut line, &mut |number, bytes| {
            ok += usize::from(run_line(each, number, bytes, line_bytes, &mut out));
            over_long = bytes.is_none();
        });
        match read {
            Ok(true) => {}
            Ok(false) => break,
            // The records before the fault are written, as on several threads.
            Err(e) => {
                output.write_all(&out).map_err(Error::Write)?;
                return Err(Error::Read(e));
            }
        }
        total += 1;
        // An over-long line's error line goes out at once: skipping the rest of the line may
        // take long (an endless line never ends).
        if out.len() >= 1 << 16 || over_long {
            output
                .write_all(&out)
                .and_then(|()| if over_long { output.flush() } else { Ok(()) })
                .map_err(Error::Write)?;
            out.clear();
        }
        if total % PROGRESS_LINES == 0 {
            progress(total);
        }
    }
    output
        .write_all(&out)
        .and_then(|()| output.flush())
        .map_err(Error::Write)?;
    Ok(Summary { total, ok })
}

/// Several threads, each in turn reading a chunk of lines, evaluating it, and writing what is
/// ready in input order. A chunk is read, evaluated and written on the thread that took it, so
/// its bytes stay in that core's cache (a separate reader thread made every record cross cores
/// twice). NDJSON is read from the input straight into the chunk and split into lines there
/// (`read_lines`): copying each line out of the input's buffer, under the lock, was work one
/// thread does not do (the threads took 1.04x one thread's CPU time, now 1.015x; BENCHMARKS.md).
/// Memory stays bounded: no thread reads a chunk more than `IN_FLIGHT` chunks per worker ahead
/// of the writing.
fn parallel<W: Write + Send>(
    each: &Each<'_>,
    reader: Box<dyn RecordSource + '_>,
    output: &mut W,
    line_bytes: usize,
    progress: &(dyn Fn(usize) + Sync),
    workers: usize,
) -> Result<Summary, Error> {
    use std::sync::{Condvar, Mutex};

    /// The input side: the reader and the number of the next chunk.
    struct Input<R> {
        reader: R,
        next: usize,
        error: Option<io::Error>,
    }
    /// The output side: evaluated chunks waiting for their turn, and the next to write.
    struct Output<'w, W> {
        writer: &'w mut W,
        next: usize,
        waiting: std::collections::BTreeMap<usize, Done>,
        total: usize,
        ok: usize,
        error: Option<io::Error>,
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
    let work = || {
        // One buffer a worker, reused chunk after chunk: a fresh one grown from empty for every
        // chunk was most of the extra work of a second thread (reallocation).
        let mut chunk = Chunk::default();
        loop {
            let seq = {
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
                chunk.data.clear();
                chunk.lines.clear();
                let read = input
                    .reader
                    .read_lines(&mut chunk.data, CHUNK_BYTES, &mut chunk.lines);
                let by_line = match read {
                    Ok(read) => !read,
                    Err(e) => {
                        input.error = Some(e);
                        false
                    }
                };
                while by_line && chunk.lines.len() < CHUNK_LINES && chunk.data.len() < CHUNK_BYTES {
                    match input.reader.next_into(&mut chunk.data) {
                        // The chunk ends after an over-long line, so that its error line is
                        // written while the rest of the line is skipped.
                        Ok(Some(line)) if line.range.is_none() => {
                            chunk.lines.push(line);
                            break;
                        }
                        Ok(Some(line)) => chunk.lines.push(line),
                        Ok(None) => break,
                        Err(e) => {
                            input.error = Some(e);
                            break;
                        }
                    }
                }
                if chunk.lines.is_empty() {
                    return;
                }
                input.next += 1;
                seq
            };
            let mut done = Done {
                out: Vec::with_capacity(chunk.lines.len() * 1024),
                total: chunk.lines.len(),
                ok: 0,
                flush: chunk.lines.last().is_some_and(|l| l.range.is_none()),
            };
            for line in &chunk.lines {
                let bytes = line.range.clone().map(|r| &chunk.data[r]);
                done.ok += usize::from(run_line(
                    each,
                    line.number,
                    bytes,
                    line_bytes,
                    &mut done.out,
                ));
            }
            let Ok(mut guard) = output.lock() else { return };
            let out = &mut *guard;
            out.waiting.insert(seq, done);
            let next = out.next;
            while let Some(done) = out.waiting.remove(&out.next) {
                if out.error.is_none() {
                    let written = out.writer.write_all(&done.out).and_then(|()| {
                        if done.flush {
                            out.writer.flush()
                        } else {
                            Ok(())
                        }
                    });
                    if let Err(e) = written {
                        out.error = Some(e);
                    }
                }
                out.total += done.total;
                out.ok += done.ok;
                out.next += 1;
            }
            if out.next != next {
                progress(out.total);
                written.notify_all();
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // Evaluation recurses once per level of `depth`, up to `Limits::MAX_DEPTH` levels
            // (SECURITY.md has the stack each takes): the main thread's 8 MiB, not the default
            // 2 MiB of a spawned thread. A thread that cannot start leaves its share to the rest.
            let _ = std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn_scoped(scope, work);
        }
        work();
    });
    let input = input.into_inner().map_err(|_| Error::Stopped)?;
    let out = output.into_inner().map_err(|_| Error::Stopped)?;
    // A write error (a closed pipe) explains a read that stopped early, so it comes first.
    if let Some(e) = out.error {
        return Err(Error::Write(e));
    }
    if let Some(e) = input.error {
        return Err(Error::Read(e));
    }
    out.writer.flush().map_err(Error::Write)?;
    Ok(Summary {
        total: out.total,
        ok: out.ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

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

    /// Every line of `input` as `next_with` gives it, and as `next_line_into` does.
    fn both_ways(input: &[u8], capacity: usize, cap: usize) -> [Vec<(usize, Option<Vec<u8>>)>; 2] {
        let mut r = LineReader::new(BufReader::with_capacity(capacity, input), cap);
        let mut lent = Vec::new();
        let mut scratch = Vec::new();
        while r
            .next_with(&mut scratch, &mut |n, bytes| {
                lent.push((n, bytes.map(<[u8]>::to_vec)));
            })
            .expect("in memory")
        {}
        let mut r = LineReader::new(BufReader::with_capacity(capacity, input), cap);
        let mut copied = Vec::new();
        let mut buf = Vec::new();
        while let Some(l) = r.next_line_into(&mut buf).expect("in memory") {
            copied.push((l.number, l.range.map(|range| buf[range].to_vec())));
            buf.clear();
        }
        [lent, copied]
    }

    /// Every line of `input` as the workers read it: `read_lines` of about `want` bytes at a
    /// time, and `next_into` where it declines.
    fn read_as_workers(
        input: &[u8],
        capacity: usize,
        cap: usize,
        want: usize,
    ) -> Vec<(usize, Option<Vec<u8>>)> {
        let mut r = LineReader::new(BufReader::with_capacity(capacity, input), cap);
        let mut got = Vec::new();
        loop {
            let (mut data, mut lines) = (b"kept".to_vec(), Vec::new());
            if !r
                .read_lines(&mut data, want, &mut lines)
                .expect("in memory")
            {
                match r.next_into(&mut data).expect("in memory") {
                    Some(line) => lines.push(line),
                    None => break,
                }
            }
            assert!(data.starts_with(b"kept"), "what the buffer held is kept");
            if lines.is_empty() {
                break;
            }
            got.extend(
                lines
                    .into_iter()
                    .map(|l| (l.number, l.range.map(|r| data[r].to_vec()))),
            );
        }
        got
    }

    #[test]
    fn lines_read_in_place_are_the_lines_copied_on_any_input() {
        // Short inputs of the bytes that matter, in every buffer size and cap around them.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|i| [b'a', b'\r', b'\n', 0xEF, 0xBB, 0xBF][(seed >> (i % 60)) as usize % 6])
                .collect();
            let capacity = 1 + (seed >> 20) as usize % 24;
            let cap = (seed >> 30) as usize % 12;
            let [lent, copied] = both_ways(&input, capacity, cap);
            assert_eq!(lent, copied, "{input:?}, buffer {capacity}, cap {cap}");
            let want = 1 + (seed >> 40) as usize % 30;
            let workers = read_as_workers(&input, capacity, cap, want);
            assert_eq!(
                workers, copied,
                "{input:?}, buffer {capacity}, cap {cap}, want {want}"
            );
        }
    }

    #[test]
    fn lines_read_in_place_are_the_lines_copied() {
        let input: &[u8] =
            b"\xEF\xBB\xBF{\"a\":1}\r\n\n{}\r\n123456789\n1234567\r\n12345\r\nab\r\r\n\
            \xEF\xBB\xBFb\n0123456789abcdef\nlast";
        // Buffers smaller than a line, about one, and holding everything: lines in place, lines
        // spanning fills, and over-long lines both ways.
        for capacity in [3, 8, 16, 1 << 10] {
            let [got, copied] = both_ways(input, capacity, 7);
            assert_eq!(got, copied, "a buffer of {capacity} bytes");
            for want in [1, 10, 40, 1 << 10] {
                assert_eq!(
                    read_as_workers(input, capacity, 7, want),
                    copied,
                    "{capacity}, {want}"
                );
            }
            assert_eq!(got.len(), 10);
        }
    }

    /// Bytes, then a read error: what a reader sees of a line that does not end in time.
    struct ThenFail(&'static [u8]);

    impl io::Read for ThenFail {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("no more"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_reader_answers_a_long_line_before_its_end() {
        let mut r = LineReader::new(BufReader::with_capacity(4, ThenFail(b"ab\n123456789")), 5);
        let mut buf = Vec::new();
        let first = r.next_line_into(&mut buf).expect("a line").expect("some");
        assert_eq!(buf[first.range.expect("within the cap")].to_vec(), b"ab");
        buf.clear();
        let long = r.next_line_into(&mut buf).expect("a line").expect("some");
        assert_eq!((long.number, long.range), (2, None));
        assert!(buf.is_empty(), "nothing of it is kept");
        assert!(
            r.next_line_into(&mut buf).is_err(),
            "only then is the rest read"
        );
        // The same as the workers read it, who read no more than the cap and a '\r' of it.
        let mut r = LineReader::new(BufReader::with_capacity(4, ThenFail(b"ab\n1234567")), 5);
        let (mut data, mut lines) = (Vec::new(), Vec::new());
        r.next_into(&mut data).expect("a line").expect("some");
        assert!(r
            .read_lines(&mut data, 1 << 10, &mut lines)
            .expect("no error yet"));
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.number, l.range.clone()))
                .collect::<Vec<_>>(),
            [(2, None)]
        );
        assert_eq!(data, b"ab", "nothing of it is kept");
        assert!(
            r.next_into(&mut data).is_err(),
            "only then is the rest read"
        );
    }
}
