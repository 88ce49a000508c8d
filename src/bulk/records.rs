//! Record files read one record at a time: a bulk run's JSON array, and the record files of
//! the command line's `eval`, `expr` and `plan`.
//!
//! A file holds one JSON value, a JSON array whose items are the records, or values one after
//! another (NDJSON, or concatenated). A small scanner finds where each value ends — it follows
//! strings and their escapes and counts nesting, building nothing — so a record is held only up
//! to `line-bytes`, a longer one is skipped without being stored, and reading stops at the
//! record that is wanted. Each record is then parsed on its own by the caller.

use std::io::{self, BufRead};

/// The records of a file, in order.
pub struct Records<R> {
    input: R,
    cap: usize,
    layout: Layout,
    /// An over-long record was returned before its end: the next call skips the rest first.
    unfinished: bool,
    value: Value,
    index: usize,
    line: usize,
    column: usize,
}

/// Where the reader is in the file's structure.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Start,
    /// Values one after another.
    Values,
    /// Inside the top-level array; `first` until its first item has started.
    Array {
        first: bool,
    },
    /// After the top-level array: only blanks may follow.
    AfterArray,
}

/// The scanner's state inside one value.
#[derive(Default)]
struct Value {
    depth: usize,
    string: bool,
    escape: bool,
    scalar: bool,
}

/// One record: its position (0-based), where it starts (1-based line and byte column), and its
/// text, or `None` when it is longer than the cap.
pub struct Record {
    pub index: usize,
    pub line: usize,
    pub column: usize,
    pub text: Option<Vec<u8>>,
}

/// Why a file is not a sequence of JSON values, or could not be read.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Syntax {
                line,
                column,
                message,
            } => write!(f, "not JSON at line {line} column {column}: {message}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Ends a number or literal (which the record parser then checks).
fn ends_scalar(b: u8) -> bool {
    is_blank(b) || matches!(b, b',' | b']' | b'}' | b'[' | b'{' | b'"')
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl<R: BufRead> Records<R> {
    /// Records of `input`, each held up to `cap` bytes.
    pub fn new(input: R, cap: usize) -> Self {
        Records {
            input,
            cap,
            layout: Layout::Start,
            unfinished: false,
            value: Value::default(),
            index: 0,
            line: 1,
            column: 1,
        }
    }

    /// The next record, or `None` after the last one.
    pub fn next_record(&mut self) -> Result<Option<Record>, Error> {
        if self.unfinished {
            self.unfinished = false;
            self.scan_value(None)?;
        }
        loop {
            match self.layout {
                Layout::Start => {
                    self.skip_bom()?;
                    match self.skip_blanks()? {
                        None => return Ok(None),
                        Some(b'[') => {
                            self.bump(1);
                            self.layout = Layout::Array { first: true };
                        }
                        Some(_) => self.layout = Layout::Values,
                    }
                }
                Layout::Values => {
                    return match self.skip_blanks()? {
                        None => Ok(None),
                        Some(_) => self.record().map(Some),
                    }
                }
                Layout::Array { first } => match self.skip_blanks()? {
                    Some(b']') => {
                        self.bump(1);
                        self.layout = Layout::AfterArray;
                    }
                    Some(b',') if !first => {
                        self.bump(1);
                        self.skip_blanks()?;
                        return self.record().map(Some);
                    }
                    Some(_) if first => {
                        self.layout = Layout::Array { first: false };
                        return self.record().map(Some);
                    }
                    Some(b) => {
                        return Err(
                            self.error(format!("expected `,` or `]`, found {}", describe(b)))
                        )
                    }
                    None => return Err(self.error("the file ends inside the array".into())),
                },
                Layout::AfterArray => {
                    return match self.skip_blanks()? {
                        None => Ok(None),
                        Some(b) => {
                            Err(self.error(format!("{} after the array of records", describe(b))))
                        }
                    }
                }
            }
        }
    }

    fn error(&self, message: String) -> Error {
        Error::Syntax {
            line: self.line,
            column: self.column,
            message,
        }
    }

    /// Consumes `n` bytes of the buffer, keeping the line and column up to date.
    fn bump(&mut self, n: usize) {
        if let Ok(buf) = self.input.fill_buf() {
            let taken = &buf[..n.min(buf.len())];
            match memchr::memrchr(b'\n', taken) {
                Some(last) => {
                    self.line += memchr::memchr_iter(b'\n', taken).count();
                    self.column = taken.len() - last;
                }
                None => self.column += taken.len(),
            }
        }
        self.input.consume(n);
    }

    /// A byte-order mark at the start of the file is skipped.
    fn skip_bom(&mut self) -> Result<(), Error> {
        if self.input.fill_buf()?.first() != Some(&0xEF) {
            return Ok(());
        }
        for &b in b"\xEF\xBB\xBF" {
            if self.input.fill_buf()?.first() != Some(&b) {
                return Err(self.error("the file starts with a broken byte-order mark".into()));
            }
            self.input.consume(1);
        }
        Ok(())
    }

    /// Skips blanks; the next byte, without consuming it (`None` at the end of the file).
    fn skip_blanks(&mut self) -> Result<Option<u8>, Error> {
        loop {
            let buf = self.input.fill_buf()?;
            match buf.iter().position(|&b| !is_blank(b)) {
                Some(i) => {
                    let next = buf[i];
                    self.bump(i);
                    return Ok(Some(next));
                }
                None if buf.is_empty() => return Ok(None),
                None => {
                    let n = buf.len();
                    self.bump(n);
                }
            }
        }
    }

    /// The value starting at the next (non-blank) byte, as a record.
    fn record(&mut self) -> Result<Record, Error> {
        let (line, column) = (self.line, self.column);
        let first = self.input.fill_buf()?.first().copied();
        self.value = Value::default();
        match first {
            Some(b'{' | b'[' | b'"') => {}
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => self.value.scalar = true,
            Some(b) => {
                return Err(self.error(format!("expected a JSON value, found {}", describe(b))))
            }
            None => return Err(self.error("the file ends where a value was expected".into())),
        }
        let mut text = Vec::new();
        let complete = self.scan_value(Some(&mut text))?;
        self.unfinished = !complete;
        let index = self.index;
        self.index += 1;
        Ok(Record {
            index,
            line,
            column,
            text: (complete && text.len() <= self.cap).then_some(text),
        })
    }

    /// Scans the current value. With `keep`, its bytes are appended there until they pass the
    /// cap, when the scan stops (returning false) with the value unfinished; without, the rest
    /// of the value is skipped. True once the value has ended.
    fn scan_value(&mut self, mut keep: Option<&mut Vec<u8>>) -> Result<bool, Error> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                if self.value.scalar {
                    return Ok(true);
                }
                return Err(self.error("the file ends inside a value".into()));
            }
            let v = &mut self.value;
            let mut used = 0;
            let mut ended = false;
            while used < buf.len() {
                // Inside a string only `"` and `\\` matter: most of a record's bytes are skipped
                // at memchr's speed.
                if v.string && !v.escape {
                    match memchr::memchr2(b'"', b'\\', &buf[used..]) {
                        Some(at) => used += at,
                        None => {
                            used = buf.len();
                            break;
                        }
                    }
                }
                let b = buf[used];
                if v.scalar {
                    if ends_scalar(b) {
                        ended = true;
                        break;
                    }
                } else if v.string {
                    if v.escape {
                        v.escape = false;
                    } else if b == b'\\' {
                        v.escape = true;
                    } else if b == b'"' {
                        v.string = false;
                        ended = v.depth == 0;
                    }
                } else {
                    match b {
                        b'"' => v.string = true,
                        b'{' | b'[' => v.depth += 1,
                        // A closing bracket of the wrong kind is left for the parser to report.
                        b'}' | b']' => {
                            v.depth = v.depth.saturating_sub(1);
                            ended = v.depth == 0;
                        }
                        _ => {}
                    }
                }
                used += 1;
                if ended {
                    break;
                }
            }
            let mut over = false;
            if let Some(kept) = keep.as_deref_mut() {
                // One byte past the cap tells an over-long record from one that fits exactly.
                let room = self.cap.saturating_add(1).saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..used.min(room)]);
                over = kept.len() > self.cap;
            }
            self.bump(used);
            if ended {
                return Ok(true);
            }
            if over {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `input` read through a 3-byte buffer (values span several fills), as
    /// text (`None` when over the cap), with its line and column; or the error message.
    fn read(input: &[u8], cap: usize) -> Result<Vec<(Option<String>, usize, usize)>, String> {
        let mut r = Records::new(io::BufReader::with_capacity(3, input), cap);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().map_err(|e| e.to_string())? {
            assert_eq!(rec.index, out.len());
            let text = rec.text.map(|t| String::from_utf8(t).expect("UTF-8"));
            out.push((text, rec.line, rec.column));
        }
        Ok(out)
    }

    fn texts(input: &str) -> Vec<String> {
        read(input.as_bytes(), 100)
            .expect("reads")
            .into_iter()
            .map(|(t, _, _)| t.expect("within the cap"))
            .collect()
    }

    #[test]
    fn a_value_an_array_or_values_one_after_another() {
        assert_eq!(
            texts(r#" {"a":[1,{"b":"}]"}]} "#),
            [r#"{"a":[1,{"b":"}]"}]}"#]
        );
        assert_eq!(
            texts("[ {\"a\":1} ,\n{\"b\":\"x\\\"]\"}, 3, \"s\", true ]\n"),
            [r#"{"a":1}"#, r#"{"b":"x\"]"}"#, "3", r#""s""#, "true"]
        );
        assert_eq!(
            texts("{\"a\":1}\n\n{\"b\":2}{\"c\":3} 12 null\n"),
            [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#, "12", "null"]
        );
        // Escaped backslashes and quotes, however the reads split them.
        assert_eq!(
            texts(r#"[{"a":"x\\"}, {"b":"\\\"]}"}, "\\\\\""]"#),
            [r#"{"a":"x\\"}"#, r#"{"b":"\\\"]}"}"#, r#""\\\\\"""#]
        );
        assert_eq!(texts("\u{feff}{}"), ["{}"]);
        assert!(texts("[]").is_empty());
        assert!(texts(" \n").is_empty());
        assert!(texts("").is_empty());
        // An array that is not first is a value like any other (not an object: the caller's
        // record error).
        assert_eq!(texts("{} [1]"), ["{}", "[1]"]);
    }

    #[test]
    fn records_know_where_they_start() {
        let got = read(b"[\n  {\"a\":1},\n  {\"b\":\n2}, {}\n]", 100).expect("reads");
        let places: Vec<(usize, usize)> = got.iter().map(|(_, l, c)| (*l, *c)).collect();
        assert_eq!(places, [(2, 3), (3, 3), (4, 5)]);
    }

    #[test]
    fn long_records_are_not_kept_and_the_next_is_found() {
        let got = read(b"{\"a\":\"12345\"} {\"a\":1} [\"x\",\"y\",\"z\"] {}", 9).expect("reads");
        let texts: Vec<Option<String>> = got.into_iter().map(|(t, _, _)| t).collect();
        assert_eq!(
            texts,
            [None, Some(r#"{"a":1}"#.into()), None, Some("{}".into())]
        );
        // Exactly at the cap is within it.
        assert_eq!(
            read(b"[123456789,1234567890]", 9)
                .expect("reads")
                .into_iter()
                .map(|(t, _, _)| t)
                .collect::<Vec<_>>(),
            [Some("123456789".into()), None]
        );
    }

    #[test]
    fn what_is_not_a_sequence_of_values_is_an_error() {
        let err = |s: &[u8]| read(s, 100).expect_err("not JSON");
        assert_eq!(
            err(b"\0\0\0"),
            "not JSON at line 1 column 1: expected a JSON value, found byte 0x00"
        );
        assert_eq!(
            err(b"[1 2]"),
            "not JSON at line 1 column 4: expected `,` or `]`, found `2`"
        );
        assert_eq!(
            err(b"[1,]"),
            "not JSON at line 1 column 4: expected a JSON value, found `]`"
        );
        assert_eq!(
            err(b"[1] {}"),
            "not JSON at line 1 column 5: `{` after the array of records"
        );
        assert_eq!(
            err(b"[{}"),
            "not JSON at line 1 column 4: the file ends inside the array"
        );
        assert_eq!(
            err(b"\n{\"a\":\"x"),
            "not JSON at line 2 column 8: the file ends inside a value"
        );
        assert_eq!(
            err(b"\xEF\xBB{}"),
            "not JSON at line 1 column 1: the file starts with a broken byte-order mark"
        );
        assert_eq!(
            err(b"}"),
            "not JSON at line 1 column 1: expected a JSON value, found `}`"
        );
    }
}
