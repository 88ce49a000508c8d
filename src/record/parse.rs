//! Reading records: RFC 8259 JSON checked as a whole, but built only as far as the mapping reads.
//!
//! A hand-written reader over the validated UTF-8 line. It accepts exactly what `serde_json`
//! accepts and reports the same errors at the same positions (the reader it replaced was
//! `serde_json`), but builds a borrowed [`Doc`] tree directly, and fields the mapping never
//! reads are validated without being built: strings are scanned for their end sixteen bytes at
//! a time (`special.rs`), then, past 32 bytes, with `memchr2` and a vectorised minimum for
//! control bytes, and checked for escapes without decoding; numbers are decoded only when they
//! could be out of range, and nesting is tracked with one bit per level, so skipping allocates
//! nothing.

use super::special::{first_special, is_special};
use super::{Doc, Obj, RecordError};
use crate::limits::Limits;
use std::borrow::Cow;

/// Reads one record: valid UTF-8, nesting within `limits.depth`, valid JSON (RFC 8259, as
/// strict as serde_json: lone surrogate escapes rejected, numbers beyond f64 rejected, raw
/// control characters in strings rejected, trailing non-whitespace rejected), an object.
/// With `fields`, only those top-level fields are kept (the others are still fully
/// validated, then dropped without being built). Nesting is bounded by `limits.nesting()`,
/// which also bounds the recursion of building (and dropping) the kept tree.
/// What the kept tree allocates is charged against `limits.memory` as it is built; the bytes
/// charged are returned with the record, for its evaluation to go on counting from.
pub fn read<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    fields: Option<&[String]>,
) -> Result<(Obj<'a>, usize), RecordError> {
    let wanted = fields.map(|f| Fields::new(f.to_vec()));
    let keep = wanted.as_ref().map_or(Keep::All, Keep::Only);
    read_keeping(bytes, limits, keep).map(|(obj, read)| (obj, read.memory))
}

/// Reads a record as [`read`] does, for a list of fields prepared once, and says where the
/// fields are. With `inside`, every top-level field is kept, but of the object under that key
/// only the `fields` (`plan --input`'s pairs: the record, read as `bulk` reads it).
pub fn read_fields<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    fields: &Fields,
    inside: Option<&str>,
) -> Result<(Obj<'a>, Reading), RecordError> {
    let keep = match inside {
        Some(key) => Keep::Inside(key.as_bytes(), fields),
        None => Keep::Only(fields),
    };
    read_keeping(bytes, limits, keep)
}

/// What reading a record learned besides its tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reading {
    /// The bytes charged to `memory`.
    pub memory: usize,
    /// Where the fields it was read for are, when it was read for a list of them.
    pub positions: Option<Positions>,
}

/// Where a record's fields are, for the first 64 fields of a list (a section's): by position in
/// that list, the entry index in the record's object + 1, 0 when absent, [`UNKNOWN`] when not
/// known. The reader fills it for the fields it was asked for; the evaluator learns the rest as
/// it first reads each, so that a field is found by name at most once a record.
#[derive(Clone, Copy, Debug)]
pub struct Positions([u8; 64]);

/// A field not looked for yet (or at an entry past 253, looked for by name each time).
const UNKNOWN: u8 = u8::MAX;

impl Reading {
    /// A reading that charged `memory` and has no positions.
    pub fn memory(memory: usize) -> Reading {
        Reading {
            memory,
            positions: None,
        }
    }
}

impl Positions {
    /// Nothing known yet.
    pub const fn unknown() -> Positions {
        Positions([UNKNOWN; 64])
    }

    /// Every field absent (until found).
    const fn absent() -> Positions {
        Positions([0; 64])
    }

    /// The entry of field `i`: `None` when not known (look it up by name), `Some(None)` when
    /// the record has no such field.
    #[inline]
    pub fn entry(&self, i: usize) -> Option<Option<usize>> {
        match *self.0.get(i)? {
            UNKNOWN => None,
            at => Some(usize::from(at).checked_sub(1)),
        }
    }

    /// Field `i` found by name at `entry` (`None`: absent).
    #[inline]
    pub fn learn(&mut self, i: usize, entry: Option<usize>) {
        let at = match entry {
            None => 0,
            Some(e) => match u8::try_from(e + 1) {
                Ok(at) => at,
                Err(_) => return,
            },
        };
        if let Some(slot) = self.0.get_mut(i) {
            *slot = at;
        }
    }
}

fn read_keeping<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    keep: Keep<'_>,
) -> Result<(Obj<'a>, Reading), RecordError> {
    // Validated once, so strings can be sliced at any ASCII delimiter: by simdutf8, in about
    // half std's instructions on these lines (BENCHMARKS.md); std again for an invalid line's
    // offset.
    let valid = simdutf8::basic::from_utf8(bytes);
    let text = valid
        .or_else(|_| std::str::from_utf8(bytes))
        .map_err(|bad| {
            RecordError::whole(
                "scimap::invalid-utf8",
                format!(
                    "the record is not valid UTF-8 (bad byte at offset {})",
                    bad.valid_up_to()
                ),
            )
        })?;
    let mut reader = Reader {
        text,
        bytes,
        // A vectorised pass (a minimum, no early exit): compact NDJSON lines have none.
        pos: 0,
        depth: limits.nesting(),
        memory: limits.memory,
        charged: 0,
        positions: None,
    };
    match reader.record(keep) {
        Ok(Ok(obj)) => Ok((
            obj,
            Reading {
                memory: reader.charged,
                positions: reader.positions,
            },
        )),
        Ok(Err(kind)) => Err(not_an_object(kind)),
        Err(Fail::Memory(limit)) => Err(RecordError::whole(
            "scimap::limit",
            format!("the record needs more than the limit `memory` ({limit} bytes) to be read"),
        )),
        Err(Fail::TooDeep(limit)) => Err(too_deep(limit)),
        Err(Fail::Syntax(code, at)) => {
            let (line, column) = line_column(bytes, at);
            Err(RecordError::whole(
                "scimap::invalid-json",
                format!(
                    "the record is not valid JSON: {} at line {line} column {column}",
                    code.message()
                ),
            ))
        }
    }
}

/// A record given as a `serde_json` value (the library's `evaluate`): nesting within
/// `limits.depth` as a read record's is, checked without recursion before the recursive view
/// of it is built.
pub fn check_depth(record: &serde_json::Value, limits: &Limits) -> Result<(), RecordError> {
    use serde_json::Value;
    let limit = limits.nesting();
    let mut stack = vec![(record, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > limit {
            return Err(too_deep(limit));
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

fn too_deep(limit: usize) -> RecordError {
    RecordError::whole(
        "scimap::limit",
        format!("the record nests deeper than the limit `depth` ({limit})"),
    )
}

/// "the record is {kind}, not a JSON object" (kind: "an array", "a string", "a number",
/// "a boolean", "null").
pub fn not_an_object(kind: &str) -> RecordError {
    RecordError::whole(
        "scimap::not-an-object",
        format!("the record is {kind}, not a JSON object"),
    )
}

/// Why a record is not valid JSON, worded as serde_json words it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Code {
    EofWhileParsingList,
    EofWhileParsingObject,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    TrailingCharacters,
    UnexpectedEndOfHexEscape,
}

impl Code {
    fn message(self) -> &'static str {
        match self {
            Code::EofWhileParsingList => "EOF while parsing a list",
            Code::EofWhileParsingObject => "EOF while parsing an object",
            Code::EofWhileParsingString => "EOF while parsing a string",
            Code::EofWhileParsingValue => "EOF while parsing a value",
            Code::ExpectedColon => "expected `:`",
            Code::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Code::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Code::ExpectedSomeIdent => "expected ident",
            Code::ExpectedSomeValue => "expected value",
            Code::InvalidEscape => "invalid escape",
            Code::InvalidNumber => "invalid number",
            Code::NumberOutOfRange => "number out of range",
            Code::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Code::KeyMustBeAString => "key must be a string",
            Code::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Code::TrailingComma => "trailing comma",
            Code::TrailingCharacters => "trailing characters",
            Code::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
        }
    }
}

/// A failed read; turned into a `RecordError` (with line and column) only on the way out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fail {
    /// The offset serde_json reports the error at: its line and column are those of the
    /// byte before it.
    Syntax(Code, usize),
    /// Nesting beyond this limit.
    TooDeep(usize),
    /// The kept tree would allocate more than this limit.
    Memory(usize),
}

/// serde_json's position of offset `at`: 1-based line, and the column of the byte before
/// `at` counted from 1 (0 at the start of a line).
fn line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = bytes.get(..at).unwrap_or(bytes);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let lines = before.iter().filter(|&&b| b == b'\n').count();
    (lines + 1, before.len() - line_start)
}

/// Open containers of a skipped value, one bit each (set for an object): a word of the
/// innermost 64 levels, the outer words spilled to a vector that deep records only need.
#[derive(Default)]
struct Open {
    bits: u64,
    len: usize,
    spilled: Vec<u64>,
}

impl Open {
    #[inline]
    fn push(&mut self, object: bool) {
        if self.len > 0 && self.len.is_multiple_of(64) {
            self.spilled.push(self.bits);
            self.bits = 0;
        }
        self.bits = self.bits << 1 | u64::from(object);
        self.len += 1;
    }

    fn pop(&mut self) {
        self.bits >>= 1;
        self.len -= 1;
        if self.len > 0 && self.len.is_multiple_of(64) {
            self.bits = self.spilled.pop().unwrap_or_default();
        }
    }

    /// Whether the innermost open container is an object; `None` when none is open.
    fn innermost(&self) -> Option<bool> {
        (self.len > 0).then_some(self.bits & 1 == 1)
    }
}

/// What an object read keeps.
#[derive(Clone, Copy)]
enum Keep<'w> {
    All,
    Only(&'w Fields),
    /// Every field, but of the object under this key only the wanted ones.
    Inside(&'w [u8], &'w Fields),
}

/// The top-level fields to keep, prepared once: a Bloom filter rejects most other keys at
/// once, and the rest are compared with the few fields of their length.
#[derive(Debug)]
pub struct Fields {
    fields: Vec<String>,
    /// Bit `i` of `by_len[n]`: `fields[i]` is `n` bytes long (for `i < 64` and `n < 32`;
    /// longer keys are compared with every field, later fields with every key).
    by_len: [u64; 32],
    /// A Bloom filter of the fields' `sketch`es, which rejects most other keys at once.
    sketches: [u64; 4],
}

/// A hash of a key's length and first and last bytes, 0 to 255.
fn sketch(key: &[u8]) -> usize {
    let ends = u64::from(key.first().copied().unwrap_or(0)) << 8
        | u64::from(key.last().copied().unwrap_or(0));
    (((key.len() as u64) << 16 | ends).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

impl Fields {
    pub fn new(fields: Vec<String>) -> Self {
        let mut by_len = [0u64; 32];
        let mut sketches = [0u64; 4];
        for (i, field) in fields.iter().enumerate() {
            let h = sketch(field.as_bytes());
            if let Some(word) = sketches.get_mut(h / 64) {
                *word |= 1 << (h % 64);
            }
            if let Some(mask) = by_len.get_mut(field.len()).filter(|_| i < 64) {
                *mask |= 1 << i;
            }
        }
        Fields {
            fields,
            by_len,
            sketches,
        }
    }

    /// The fields, in their order.
    pub fn names(&self) -> &[String] {
        &self.fields
    }

    /// The index in `fields` of the field `key` names, if it is one.
    #[inline]
    fn position(&self, key: &[u8]) -> Option<usize> {
        let h = sketch(key);
        if self
            .sketches
            .get(h / 64)
            .is_some_and(|word| word & 1 << (h % 64) != 0)
        {
            self.compare(key)
        } else {
            None
        }
    }

    // Out of line, so that `position` inlines into the key loop.
    #[inline(never)]
    fn compare(&self, key: &[u8]) -> Option<usize> {
        let same = |f: &String| super::same_key(f.as_bytes(), key);
        let Some(&mask) = self.by_len.get(key.len()) else {
            return self.fields.iter().position(same);
        };
        let mut rest = mask;
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            if self.fields.get(i).is_some_and(same) {
                return Some(i);
            }
            rest &= rest - 1;
        }
        self.fields
            .get(64..)
            .and_then(|later| later.iter().position(same))
            .map(|i| 64 + i)
    }
}

/// A string read: where its content lies in the input, or its value if it had escapes.
enum Text {
    Plain(usize, usize),
    Escaped(String),
}

/// A number literal, validated.
struct Number {
    start: usize,
    /// End of the integer digits.
    int_end: usize,
    /// Start of the exponent's digits, if it has one.
    exp_digits: Option<usize>,
    end: usize,
    /// Whether it has a fraction or an exponent.
    float: bool,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Offset of the next byte to read.
    pos: usize,
    /// `limits.depth`.
    depth: usize,
    /// `limits.memory`.
    memory: usize,
    /// Bytes the kept tree has allocated so far.
    charged: usize,
    /// Set by the object read for a list of fields (`Reading::positions`).
    positions: Option<Positions>,
}

/// Bytes the sixteen-byte scan covers before a string's run is handed to `memchr2`: most strings
/// end sooner, and on short runs the call costs more than the scan (BENCHMARKS.md).
const SHORT: usize = 32;

impl<'a> Reader<'a> {
    /// The record: its value read (and checked for trailing characters) in full, then an
    /// object, or the kind of value it was instead.
    fn record(&mut self, keep: Keep<'_>) -> Result<Result<Obj<'a>, &'static str>, Fail> {
        let first = self.value_start()?;
        let top = if first == b'{' {
            let room = self.depth.checked_sub(1).ok_or(Fail::TooDeep(self.depth))?;
            self.pos += 1;
            Ok(self.object(room, keep)?)
        } else {
            self.skip(self.depth)?;
            Err(match first {
                b'[' => "an array",
                b'"' => "a string",
                b't' | b'f' => "a boolean",
                b'n' => "null",
                _ => "a number",
            })
        };
        match self.whitespace() {
            Some(_) => Err(self.peek_error(Code::TrailingCharacters)),
            None => Ok(top),
        }
    }

    /// Charges `bytes` of the kept tree to `memory`, before they are allocated.
    fn charge(&mut self, bytes: usize) -> Result<(), Fail> {
        self.charged = self.charged.saturating_add(bytes);
        if self.charged > self.memory {
            return Err(Fail::Memory(self.memory));
        }
        Ok(())
    }

    /// Pushes onto a vector of the kept tree, charging each new block whole to `memory`
    /// first: while it grows, the old block is live until copied, and the allocator may keep
    /// it after, so a vector of n items can hold twice its size.
    fn push<T>(&mut self, items: &mut Vec<T>, item: T) -> Result<(), Fail> {
        if items.len() == items.capacity() {
            let grow = items.capacity().max(4);
            self.charge(
                items
                    .capacity()
                    .saturating_add(grow)
                    .saturating_mul(size_of::<T>()),
            )?;
            items.reserve_exact(grow);
        }
        items.push(item);
        Ok(())
    }

    /// An error at the byte just read (serde_json's `error`).
    fn error(&self, code: Code) -> Fail {
        Fail::Syntax(code, self.pos)
    }

    /// An error at the byte about to be read (serde_json's `peek_error`).
    fn peek_error(&self, code: Code) -> Fail {
        Fail::Syntax(code, (self.pos + 1).min(self.bytes.len()))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace; the next byte, unread.
    #[inline]
    fn whitespace(&mut self) -> Option<u8> {
        while let Some(b) = self.peek() {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Skips whitespace up to a value; its first byte, unread.
    fn value_start(&mut self) -> Result<u8, Fail> {
        self.whitespace()
            .ok_or_else(|| self.peek_error(Code::EofWhileParsingValue))
    }

    #[inline]
    fn colon(&mut self) -> Result<(), Fail> {
        // Compact JSON first.
        if self.peek() == Some(b':') {
            self.pos += 1;
            return Ok(());
        }
        match self.whitespace() {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.peek_error(Code::ExpectedColon)),
            None => Err(self.peek_error(Code::EofWhileParsingObject)),
        }
    }

    /// After an object's `{`: its entries (those `keep` keeps) up to its `}`. `room` is how
    /// many more levels its values may open.
    fn object(&mut self, room: usize, keep: Keep<'_>) -> Result<Obj<'a>, Fail> {
        let mut entries = Vec::new();
        // Bit `i`: `fields[i]` of a `Keep::Only` has an entry. A repeated key then finds its
        // entry at once, and the object is built without `Obj::new`'s search for duplicates;
        // a field past the 64th sends it back to that search.
        let mut seen = 0u64;
        let mut indexed = matches!(keep, Keep::Only(_));
        // `Positions` of the wanted fields, while `indexed`.
        let mut positions = Positions::absent();
        match self.whitespace() {
            Some(b'"') => {}
            Some(b'}') => {
                self.pos += 1;
                return Ok(Obj::new(entries));
            }
            Some(_) => return Err(self.peek_error(Code::KeyMustBeAString)),
            None => return Err(self.peek_error(Code::EofWhileParsingObject)),
        }
        loop {
            self.pos += 1;
            let key = self.text()?;
            self.colon()?;
            let name = match &key {
                Text::Plain(from, to) => self.bytes.get(*from..*to).unwrap_or_default(),
                Text::Escaped(s) => s.as_bytes(),
            };
            let (wanted, inner, slot) = match keep {
                Keep::All => (true, None, None),
                Keep::Only(w) => {
                    let slot = w.position(name);
                    (slot.is_some(), None, slot)
                }
                Keep::Inside(k, w) => (true, (name == k).then_some(w), None),
            };
            if wanted {
                let key = match key {
                    Text::Plain(from, to) => Cow::Borrowed(self.slice(from, to)?),
                    Text::Escaped(s) => {
                        self.charge(s.capacity())?;
                        Cow::Owned(s)
                    }
                };
                let value = match inner {
                    Some(w) if self.value_start()? == b'{' => {
                        let room = room.checked_sub(1).ok_or(Fail::TooDeep(self.depth))?;
                        self.pos += 1;
                        Doc::Object(self.object(room, Keep::Only(w))?)
                    }
                    _ => self.value(room)?,
                };
                let bit = slot.and_then(|i| 1u64.checked_shl(i as u32)).unwrap_or(0);
                if bit == 0 && slot.is_some() {
                    indexed = false;
                }
                if seen & bit != 0 {
                    // A repeated field: its first position, its last value.
                    if let Some(entry) = entries.iter_mut().find(|(k, _)| *k == key) {
                        entry.1 = value;
                    }
                } else {
                    if let (Keep::Only(w), 0) = (keep, entries.capacity()) {
                        // Room for every wanted field at once, not a block regrown three times.
                        let n = w.fields.len();
                        self.charge(n.saturating_mul(size_of::<(Cow<'a, str>, Doc<'a>)>()))?;
                        entries.reserve_exact(n);
                    }
                    seen |= bit;
                    self.push(&mut entries, (key, value))?;
                    if let Some(i) = slot {
                        positions.learn(i, Some(entries.len() - 1));
                    }
                }
            } else {
                self.skip(room)?;
            }
            match self.whitespace() {
                Some(b',') => {
                    self.pos += 1;
                    match self.whitespace() {
                        Some(b'"') => {}
                        Some(b'}') => return Err(self.peek_error(Code::TrailingComma)),
                        Some(_) => return Err(self.peek_error(Code::KeyMustBeAString)),
                        None => return Err(self.peek_error(Code::EofWhileParsingValue)),
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    // A large object's key index, and a flag an entry while building it.
                    if entries.len() > super::SCAN {
                        self.charge(super::Index::bytes(entries.len()) + entries.len())?;
                    }
                    if indexed {
                        // Entries stay where they were pushed: the positions hold.
                        self.positions = Some(positions);
                        return Ok(Obj::new_unique(entries));
                    }
                    return Ok(Obj::new(entries));
                }
                Some(_) => return Err(self.peek_error(Code::ExpectedObjectCommaOrEnd)),
                None => return Err(self.peek_error(Code::EofWhileParsingObject)),
            }
        }
    }

    /// After an array's `[`: its items up to its `]`.
    fn array(&mut self, room: usize) -> Result<Vec<Doc<'a>>, Fail> {
        let mut items = Vec::new();
        match self.whitespace() {
            Some(b']') => {
                self.pos += 1;
                return Ok(items);
            }
            Some(_) => {}
            None => return Err(self.peek_error(Code::EofWhileParsingList)),
        }
        loop {
            let item = self.value(room)?;
            self.push(&mut items, item)?;
            match self.whitespace() {
                Some(b',') => {
                    self.pos += 1;
                    match self.whitespace() {
                        Some(b']') => return Err(self.peek_error(Code::TrailingComma)),
                        Some(_) => {}
                        None => return Err(self.peek_error(Code::EofWhileParsingValue)),
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => return Err(self.peek_error(Code::ExpectedListCommaOrEnd)),
                None => return Err(self.peek_error(Code::EofWhileParsingList)),
            }
        }
    }

    /// A value, built. Recursion is bounded by `room`, at most `Limits::MAX_DEPTH`.
    fn value(&mut self, room: usize) -> Result<Doc<'a>, Fail> {
        Ok(match self.value_start()? {
            b'"' => {
                self.pos += 1;
                Doc::Str(self.string()?)
            }
            b'-' | b'0'..=b'9' => self.number_value()?,
            b @ (b'{' | b'[') => {
                let room = room.checked_sub(1).ok_or(Fail::TooDeep(self.depth))?;
                self.pos += 1;
                if b == b'{' {
                    Doc::Object(self.object(room, Keep::All)?)
                } else {
                    Doc::Array(self.array(room)?)
                }
            }
            b't' => {
                self.literal(b"true")?;
                Doc::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Doc::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Doc::Null
            }
            _ => return Err(self.peek_error(Code::ExpectedSomeValue)),
        })
    }

    /// A value, validated and dropped.
    #[inline]
    fn skip(&mut self, room: usize) -> Result<(), Fail> {
        match self.value_start()? {
            b'"' => {
                self.pos += 1;
                self.skip_string()
            }
            b'-' | b'0'..=b'9' => self.skip_number(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.skip_nested(room),
        }
    }

    fn skip_number(&mut self) -> Result<(), Fail> {
        let number = self.number()?;
        // Only these can exceed f64: 1e309, or 309 integer digits.
        if number.exp_digits.is_some() || number.int_end - number.start > 308 {
            self.float(&number)?;
        }
        Ok(())
    }

    /// Any value, validated and dropped: iterative, so any nesting `room` allows is safe.
    #[inline(never)]
    fn skip_nested(&mut self, mut room: usize) -> Result<(), Fail> {
        let mut open = Open::default();
        loop {
            match self.value_start()? {
                b'"' => {
                    self.pos += 1;
                    self.skip_string()?;
                }
                b'-' | b'0'..=b'9' => self.skip_number()?,
                b @ (b'{' | b'[') => {
                    let object = b == b'{';
                    room = room.checked_sub(1).ok_or(Fail::TooDeep(self.depth))?;
                    self.pos += 1;
                    match (self.whitespace(), object) {
                        (Some(b'}'), true) | (Some(b']'), false) => {
                            self.pos += 1;
                            room += 1;
                        }
                        (Some(b'"'), true) => {
                            self.pos += 1;
                            self.skip_string()?;
                            self.colon()?;
                            open.push(true);
                            continue;
                        }
                        (Some(_), true) => return Err(self.peek_error(Code::KeyMustBeAString)),
                        (None, true) => return Err(self.peek_error(Code::EofWhileParsingObject)),
                        (Some(_), false) => {
                            open.push(false);
                            continue;
                        }
                        (None, false) => return Err(self.peek_error(Code::EofWhileParsingList)),
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(self.peek_error(Code::ExpectedSomeValue)),
            }
            // A value ended: close containers until one goes on to another value.
            while let Some(object) = open.innermost() {
                match self.whitespace() {
                    Some(b',') => {
                        self.pos += 1;
                        match (self.whitespace(), object) {
                            (Some(b'"'), true) => {
                                self.pos += 1;
                                self.skip_string()?;
                                self.colon()?;
                            }
                            (Some(b'}'), true) | (Some(b']'), false) => {
                                return Err(self.peek_error(Code::TrailingComma))
                            }
                            (Some(_), true) => return Err(self.peek_error(Code::KeyMustBeAString)),
                            (Some(_), false) => {}
                            (None, _) => return Err(self.peek_error(Code::EofWhileParsingValue)),
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        open.pop();
                        room += 1;
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        open.pop();
                        room += 1;
                    }
                    Some(_) if object => {
                        return Err(self.peek_error(Code::ExpectedObjectCommaOrEnd))
                    }
                    Some(_) => return Err(self.peek_error(Code::ExpectedListCommaOrEnd)),
                    None if object => return Err(self.peek_error(Code::EofWhileParsingObject)),
                    None => return Err(self.peek_error(Code::EofWhileParsingList)),
                }
            }
            if open.innermost().is_none() {
                return Ok(());
            }
        }
    }

    /// `true`, `false` or `null`, its first byte unread.
    fn literal(&mut self, word: &[u8]) -> Result<(), Fail> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            return Ok(());
        }
        // serde_json reads byte by byte: the error is at the first that differs.
        self.pos += 1;
        for &expected in word.iter().skip(1) {
            let Some(b) = self.peek() else {
                return Err(self.error(Code::EofWhileParsingValue));
            };
            self.pos += 1;
            if b != expected {
                return Err(self.error(Code::ExpectedSomeIdent));
            }
        }
        Ok(())
    }

    /// The offset of the first `"`, `\` or control byte from `from` on (or the end), sixteen
    /// bytes at a time ([`first_special`]). Past `SHORT` bytes, the rest goes to
    /// [`Reader::scan_long`]; the last few bytes of a line are looked at one by one.
    #[inline]
    fn scan(&self, from: usize) -> usize {
        let rest = self.bytes.get(from..).unwrap_or_default();
        let (chunks, tail) = rest.as_chunks::<16>();
        let mut at = from;
        for chunk in chunks.iter().take(SHORT / 16) {
            if let Some(i) = first_special(chunk) {
                return at + i;
            }
            at += 16;
        }
        if chunks.len() > SHORT / 16 {
            return self.scan_long(at);
        }
        at + tail
            .iter()
            .position(|&b| is_special(b))
            .unwrap_or(tail.len())
    }

    /// [`Reader::scan`] of a long run: `memchr2` finds the first `"` or `\`, then one
    /// vectorised pass (a minimum, no early exit) over the bytes before it tells whether a
    /// control byte comes first. Each byte is looked at twice at most, so a run of any length
    /// costs time in proportion to it.
    #[inline(never)]
    fn scan_long(&self, from: usize) -> usize {
        let rest = self.bytes.get(from..).unwrap_or_default();
        let end = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        let run = rest.get(..end).unwrap_or_default();
        if run.iter().fold(u8::MAX, |low, &b| low.min(b)) < 0x20 {
            return from + run.iter().position(|&b| b < 0x20).unwrap_or(end);
        }
        from + end
    }

    /// The text between two offsets at ASCII delimiters (so always char boundaries).
    fn slice(&self, from: usize, to: usize) -> Result<&'a str, Fail> {
        self.text
            .get(from..to)
            .ok_or(Fail::Syntax(Code::InvalidEscape, to))
    }

    /// After a string's opening quote: its value, borrowed unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Fail> {
        Ok(match self.text()? {
            Text::Plain(from, to) => Cow::Borrowed(self.slice(from, to)?),
            Text::Escaped(s) => {
                self.charge(s.capacity())?;
                Cow::Owned(s)
            }
        })
    }

    /// After a string's opening quote: where its content lies, or its value if it has
    /// escapes.
    #[inline]
    fn text(&mut self) -> Result<Text, Fail> {
        let start = self.pos;
        let at = self.scan(start);
        if self.bytes.get(at) == Some(&b'"') {
            self.pos = at + 1;
            return Ok(Text::Plain(start, at));
        }
        self.escaped(start, at).map(Text::Escaped)
    }

    /// The rest of a string from `start`, whose plain run ends at `at` with something other
    /// than its closing quote.
    #[cold]
    fn escaped(&mut self, start: usize, mut at: usize) -> Result<String, Fail> {
        let mut out = String::with_capacity(at - start + 8);
        let mut plain = start;
        loop {
            match self.bytes.get(at) {
                Some(b'"') => {
                    out.push_str(self.slice(plain, at)?);
                    self.pos = at + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.slice(plain, at)?);
                    self.pos = at + 1;
                    out.push(self.escape()?);
                    plain = self.pos;
                }
                Some(_) => {
                    self.pos = at + 1;
                    return Err(self.error(Code::ControlCharacterWhileParsingString));
                }
                None => {
                    self.pos = at;
                    return Err(self.error(Code::EofWhileParsingString));
                }
            }
            at = self.scan(self.pos);
        }
    }

    /// After a string's opening quote: past its closing quote, escapes checked.
    #[inline(always)]
    fn skip_string(&mut self) -> Result<(), Fail> {
        loop {
            let at = self.scan(self.pos);
            self.pos = at + 1;
            match self.bytes.get(at) {
                Some(b'"') => return Ok(()),
                Some(b'\\') => {
                    self.escape()?;
                }
                Some(_) => return Err(self.error(Code::ControlCharacterWhileParsingString)),
                None => {
                    self.pos = at;
                    return Err(self.error(Code::EofWhileParsingString));
                }
            }
        }
    }

    /// After a backslash: the character the escape stands for.
    fn escape(&mut self) -> Result<char, Fail> {
        let Some(b) = self.peek() else {
            return Err(self.error(Code::EofWhileParsingString));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.error(Code::InvalidEscape)),
        })
    }

    /// After `\u`: the character, from a surrogate pair if it takes two escapes.
    fn unicode_escape(&mut self) -> Result<char, Fail> {
        let high = self.hex4()?;
        let code = match high {
            0xDC00..=0xDFFF => return Err(self.error(Code::LoneLeadingSurrogateInHexEscape)),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    let Some(b) = self.peek() else {
                        return Err(self.error(Code::EofWhileParsingString));
                    };
                    self.pos += 1;
                    if b != expected {
                        return Err(self.error(Code::UnexpectedEndOfHexEscape));
                    }
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error(Code::LoneLeadingSurrogateInHexEscape));
                }
                0x1_0000 + ((u32::from(high) - 0xD800) << 10 | (u32::from(low) - 0xDC00))
            }
            _ => u32::from(high),
        };
        char::from_u32(code).ok_or_else(|| self.error(Code::InvalidEscape))
    }

    /// Four hex digits (serde_json reports a short escape as the end of the input).
    fn hex4(&mut self) -> Result<u16, Fail> {
        let Some(digits) = self
            .bytes
            .get(self.pos..)
            .and_then(<[u8]>::first_chunk::<4>)
        else {
            self.pos = self.bytes.len();
            return Err(self.error(Code::EofWhileParsingString));
        };
        self.pos += 4;
        digits
            .iter()
            .try_fold(0u16, |n, &d| {
                Some(n << 4 | (d as char).to_digit(16)? as u16)
            })
            .ok_or_else(|| self.error(Code::InvalidEscape))
    }

    /// A number literal, checked against the grammar (not the range), with serde_json's
    /// errors.
    fn number(&mut self) -> Result<Number, Fail> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let Some(first) = self.peek() else {
            return Err(self.error(Code::EofWhileParsingValue));
        };
        self.pos += 1;
        match first {
            b'0' => {
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.peek_error(Code::InvalidNumber));
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return Err(self.error(Code::InvalidNumber)),
        }
        let int_end = self.pos;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            match self.peek() {
                Some(b'0'..=b'9') => self.digits(),
                Some(_) => return Err(self.peek_error(Code::InvalidNumber)),
                None => return Err(self.peek_error(Code::EofWhileParsingValue)),
            }
        }
        let mut exp_digits = None;
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            float = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            exp_digits = Some(self.pos);
            let Some(first) = self.peek() else {
                return Err(self.error(Code::EofWhileParsingValue));
            };
            self.pos += 1;
            if !first.is_ascii_digit() {
                return Err(self.error(Code::InvalidNumber));
            }
            self.digits();
        }
        Ok(Number {
            start,
            int_end,
            exp_digits,
            end: self.pos,
            float,
        })
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A number, classified as serde_json does: integers that fit u64 (or, negative, i64)
    /// stay integers, except `-0`; everything else is the nearest f64.
    fn number_value(&mut self) -> Result<Doc<'a>, Fail> {
        let number = self.number()?;
        let negative = self.bytes.get(number.start) == Some(&b'-');
        if !number.float {
            let digits = self
                .bytes
                .get(number.start + usize::from(negative)..number.int_end)
                .unwrap_or_default();
            let magnitude = digits.iter().try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            });
            match (magnitude, negative) {
                (Some(n), false) => {
                    return Ok(i64::try_from(n).map_or(Doc::Uint(n), Doc::Int));
                }
                (Some(0), true) => return Ok(Doc::Float(-0.0)),
                (Some(n), true) => {
                    return Ok(match 0i64.checked_sub_unsigned(n) {
                        Some(i) => Doc::Int(i),
                        None => Doc::Float(-(n as f64)),
                    });
                }
                (None, _) => {}
            }
        }
        Ok(Doc::Float(self.float(&number)?))
    }

    /// The nearest f64 to a literal; out of range if that is infinite.
    fn float(&self, number: &Number) -> Result<f64, Fail> {
        let literal = self.slice(number.start, number.end)?;
        let f: f64 = literal
            .parse()
            .map_err(|_| Fail::Syntax(Code::InvalidNumber, number.end))?;
        if f.is_finite() {
            return Ok(f);
        }
        // serde_json gives up at the exponent digit that overflows an i32, if one does.
        let overflow = number.exp_digits.and_then(|from| {
            let digits = self.bytes.get(from..number.end)?;
            let mut exp = 0i32;
            digits
                .iter()
                .position(|&d| {
                    match exp
                        .checked_mul(10)
                        .and_then(|e| e.checked_add(i32::from(d - b'0')))
                    {
                        Some(e) => {
                            exp = e;
                            false
                        }
                        None => true,
                    }
                })
                .map(|i| from + i + 1)
        });
        Err(Fail::Syntax(
            Code::NumberOutOfRange,
            overflow.unwrap_or(number.end),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value as Json;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// What the evaluator learns of a field is kept only where it can be said: entries up to
    /// 253, the first 64 fields; anything else is looked up by name again.
    #[test]
    fn positions_keep_what_they_can_hold() {
        let mut p = Positions::unknown();
        assert_eq!(p.entry(0), None);
        p.learn(0, Some(0));
        p.learn(1, None);
        p.learn(2, Some(253));
        p.learn(3, Some(254));
        p.learn(64, Some(1));
        assert_eq!(p.entry(0), Some(Some(0)));
        assert_eq!(p.entry(1), Some(None));
        assert_eq!(p.entry(2), Some(Some(253)));
        assert_eq!(p.entry(3), None);
        assert_eq!(p.entry(64), None);
    }

    /// The record alone, without what it charged to `memory`.
    fn read<'a>(
        bytes: &'a [u8],
        limits: &Limits,
        fields: Option<&[String]>,
    ) -> Result<Obj<'a>, RecordError> {
        super::read(bytes, limits, fields).map(|(obj, _)| obj)
    }

    #[test]
    fn the_kept_tree_is_charged_to_memory() {
        let items = format!("{{\"a\":[{}{{}}]}}", "{},".repeat(10_000));
        let (_, charged) = super::read(items.as_bytes(), &Limits::default(), None).unwrap();
        // 10,001 items of the array, in a vector grown by doubling, each new block charged
        // whole: at least the items, at most four times them.
        assert!(charged >= 10_001 * size_of::<Doc>(), "{charged}");
        assert!(charged <= 4 * 10_001 * size_of::<Doc>() + 256, "{charged}");
        // Skipped fields cost nothing.
        let (_, skipped) =
            super::read(items.as_bytes(), &Limits::default(), Some(&fields(&["b"]))).unwrap();
        assert_eq!(skipped, 0);
        // A filtered object's entries are one block with room for every wanted field.
        let (_, kept) = super::read(
            br#"{"b":1,"x":2}"#,
            &Limits::default(),
            Some(&fields(&["a", "b", "c"])),
        )
        .unwrap();
        assert_eq!(kept, 3 * size_of::<(Cow<str>, Doc)>());
        let small = Limits {
            memory: 100_000,
            ..Limits::default()
        };
        let e = read(items.as_bytes(), &small, None).unwrap_err();
        assert_eq!(
            e.message(),
            "the record needs more than the limit `memory` (100000 bytes) to be read"
        );
        assert!(read(items.as_bytes(), &small, Some(&fields(&["b"]))).is_ok());
    }

    fn depth(depth: usize) -> Limits {
        Limits {
            depth,
            ..Limits::default()
        }
    }

    #[test]
    fn a_library_record_nests_within_depth_as_a_read_one_does() {
        for levels in [6, 7, 8, 600] {
            let text = format!("{{\"a\":{}1{}}}", "[".repeat(levels), "]".repeat(levels));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                // Deeper than serde_json reads: built by hand, as a program may.
                (0..levels).fold(serde_json::json!(1), |v, _| serde_json::json!([v]))
            });
            let value = match value {
                serde_json::Value::Object(_) => value,
                inner => serde_json::json!({ "a": inner }),
            };
            let read_ok = read(text.as_bytes(), &depth(8), None).is_ok();
            let view = check_depth(&value, &depth(8));
            assert_eq!(read_ok, view.is_ok(), "{levels} levels");
            if let Err(e) = view {
                assert_eq!(code(&e), "scimap::limit");
            }
        }
    }

    fn code(e: &RecordError) -> &str {
        e.errors.first().map_or("", |e| e.code.as_str())
    }

    /// A deterministic generator (splitmix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
            items[self.below(items.len())]
        }
    }

    const NUMBERS: &[&str] = &[
        "0",
        "-0",
        "1",
        "-1",
        "0.5",
        "-0.0",
        "0e0",
        "-0E-0",
        "1e400",
        "-1e400",
        "1e-400",
        "0.1e1",
        "1E+2",
        "1e-2",
        "1.5E308",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "2.2250738585072014e-308",
        "4.9e-324",
        "2e-324",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "-18446744073709551615",
        "-18446744073709551616",
        "123456789012345678901234567890",
        "123456789012345678901234567890.5e-3",
        "18446744073709551615.5",
        "0.00000000000000000000000000000000000000001",
        "1e2147483647",
        "1e2147483648",
        "1e21474836470",
        "0e99999999999",
        "1e-99999999999",
        "-1e99999999999",
        "0.0e99999999999",
        "1e0000000000000000002",
    ];

    const STRING_PIECES: &[&str] = &[
        "a",
        "Zq ",
        "plain text ",
        "é",
        "黄",
        "😀",
        "\\\"",
        "\\\\",
        "\\/",
        "\\b",
        "\\f",
        "\\n",
        "\\r",
        "\\t",
        "\\u0041",
        "\\u00e9",
        "\\u00E9",
        "\\u0000",
        "\\u20AC",
        "\\uD83D\\uDE00",
        "\\ud83d\\ude00",
        "\\uFFFF",
        "0123456789abcdef",
    ];

    const KEYS: &[&str] = &[
        "a", "b", "c", "_id", "email", "ключ", "k\\u0041", "mfa", "a", "",
    ];

    const SPACE: &[&str] = &["", "", "", " ", "\n", "\t", "\r\n  "];

    fn string(rng: &mut Rng, out: &mut String) {
        out.push('"');
        for _ in 0..rng.below(5) {
            out.push_str(rng.pick(STRING_PIECES));
        }
        out.push('"');
    }

    fn number(rng: &mut Rng, out: &mut String) {
        match rng.below(3) {
            0 => out.push_str(rng.pick(NUMBERS)),
            1 => out.push_str(&(rng.next() >> rng.below(64)).to_string()),
            _ => {
                let digits = rng.next().to_string();
                let cut = 1 + rng.below(digits.len() - 1);
                let exp = rng.below(700) as i64 - 350;
                out.push_str(&format!("-{}.{}e{exp}", &digits[..cut], &digits[cut..]));
            }
        }
    }

    fn value(rng: &mut Rng, depth: usize, out: &mut String) {
        let kind = if depth >= 5 {
            rng.below(4)
        } else {
            rng.below(7)
        };
        match kind {
            0 => out.push_str(rng.pick(&["null", "true", "false"])),
            1 => number(rng, out),
            2 | 3 => string(rng, out),
            4 | 5 => object(rng, depth + 1, out),
            _ => {
                out.push('[');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(rng.pick(SPACE));
                    value(rng, depth + 1, out);
                    out.push_str(rng.pick(SPACE));
                }
                out.push(']');
            }
        }
    }

    fn object(rng: &mut Rng, depth: usize, out: &mut String) {
        out.push('{');
        for i in 0..rng.below(7) {
            if i > 0 {
                out.push(',');
            }
            out.push_str(rng.pick(SPACE));
            out.push('"');
            out.push_str(rng.pick(KEYS));
            out.push('"');
            out.push_str(rng.pick(SPACE));
            out.push(':');
            out.push_str(rng.pick(SPACE));
            value(rng, depth, out);
            out.push_str(rng.pick(SPACE));
        }
        out.push('}');
    }

    /// `read` agrees with serde_json: same values, same errors at the same positions, with
    /// and without a field filter.
    fn agrees(bytes: &[u8]) {
        let limits = depth(1000);
        let ours = read(bytes, &limits, None);
        let wanted = fields(&["a", "kA", "ключ", "mfa"]);
        let filtered = read(bytes, &limits, Some(&wanted));
        let shown = String::from_utf8_lossy(bytes);
        let mut serde = serde_json::Deserializer::from_slice(bytes);
        serde.disable_recursion_limit();
        match Json::deserialize(&mut serde).and_then(|v| serde.end().map(|()| v)) {
            Ok(Json::Object(map)) => {
                let ours = ours.unwrap_or_else(|e| panic!("{shown}: {e:?}"));
                // Debug tells -0.0 from 0.0, which PartialEq does not.
                let expected = Doc::Object(Obj::from_json(&map, None));
                assert_eq!(
                    format!("{:?}", Doc::Object(ours)),
                    format!("{expected:?}"),
                    "{shown}"
                );
                let filtered = filtered.unwrap_or_else(|e| panic!("{shown}: {e:?}"));
                let expected = Obj::from_json(&map, Some(&wanted));
                assert_eq!(format!("{filtered:?}"), format!("{expected:?}"), "{shown}");
            }
            Ok(other) => {
                let kind = match other {
                    Json::Array(_) => "an array",
                    Json::String(_) => "a string",
                    Json::Number(_) => "a number",
                    Json::Bool(_) => "a boolean",
                    _ => "null",
                };
                for e in [ours.unwrap_err(), filtered.unwrap_err()] {
                    assert_eq!(e, not_an_object(kind), "{shown}");
                }
            }
            Err(serde) => {
                for e in [ours.unwrap_err(), filtered.unwrap_err()] {
                    if std::str::from_utf8(bytes).is_ok() {
                        assert_eq!(code(&e), "scimap::invalid-json", "{shown}");
                        assert_eq!(
                            e.message(),
                            format!("the record is not valid JSON: {serde}"),
                            "{shown}"
                        );
                    } else {
                        assert_eq!(code(&e), "scimap::invalid-utf8", "{shown}");
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_generated_records_and_their_mutations() {
        const NOISE: &[u8] = b"\"\\{}[],:0-+.eEu \n\t\x01aD8xtfn\xff\xc3";
        let mut rng = Rng(0x5C1A_4A11);
        for round in 0..600 {
            let mut text = String::new();
            if round % 10 == 0 {
                value(&mut rng, 0, &mut text);
            } else {
                object(&mut rng, 0, &mut text);
            }
            let bytes = text.as_bytes();
            agrees(bytes);
            if round % 4 == 0 {
                for end in 0..bytes.len() {
                    agrees(&bytes[..end]);
                }
            }
            for _ in 0..30 {
                let mut mutated = bytes.to_vec();
                let at = rng.below(mutated.len() + 1);
                let noise = NOISE[rng.below(NOISE.len())];
                match rng.below(3) {
                    0 if at < mutated.len() => mutated[at] = noise,
                    1 if at < mutated.len() => {
                        mutated.remove(at);
                    }
                    _ => mutated.insert(at, noise),
                }
                agrees(&mutated);
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_every_number_form() {
        for number in NUMBERS.iter().copied().chain([
            "01", "-01", "00", "1.", ".5", "1e", "1e+", "-", "+1", "1.e5", "-a", "1x", "0x1",
            "1.5.", "2e-", "--1", "1ee2", "1E-2", "-0.5e-5",
        ]) {
            for text in [
                format!("{{\"a\":{number}}}"),
                format!("{{\"b\":[{number}],\"a\":1}}"),
                format!("{{\"a\":{number} }}"),
                number.to_string(),
                format!("{{\"a\":{}}}", "1".repeat(309)),
                format!("{{\"a\":-{}}}", "9".repeat(320)),
            ] {
                agrees(text.as_bytes());
            }
        }
        let zero = read(br#"{"a":-0}"#, &Limits::default(), None).unwrap();
        assert!(matches!(zero.get("a"), Some(Doc::Float(f)) if f.is_sign_negative()));
        let big = read(
            br#"{"a":18446744073709551615,"b":-9223372036854775808}"#,
            &Limits::default(),
            None,
        )
        .unwrap();
        assert_eq!(big.get("a"), Some(&Doc::Uint(u64::MAX)));
        assert_eq!(big.get("b"), Some(&Doc::Int(i64::MIN)));
    }

    #[test]
    fn agrees_with_serde_json_on_strings_and_literals() {
        for text in [
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":"\ud83d"}"#,
            r#"{"a":"\ud83dx"}"#,
            r#"{"a":"\ud83d\n"}"#,
            r#"{"a":"\ud83d\u0041"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\u12G4"}"#,
            r#"{"a":"\u"}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\"#,
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":\"\u{7f}\"}",
            r#"{"a":tru}"#,
            r#"{"a":nul"#,
            r#"{"a":falsy}"#,
            r#"{"a":True}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[,1]}"#,
            r#"{,"a":1}"#,
            r#"{"a" 1}"#,
            r#"{"a":}"#,
            r#"{1:1}"#,
            r#"{"a":1,1:1}"#,
            r#"{"a":[1}"#,
            r#"{"a":{"b":1]}"#,
            "",
            "   ",
            "{",
            "{}}",
            "{} x",
            "[1] x",
            "\u{feff}{}",
            "{}\u{0}",
        ] {
            agrees(text.as_bytes());
        }
    }

    /// Strings around and past the length where the scan hands over to `memchr2`, each as a
    /// skipped and a kept value, and as a key.
    fn long_string_records(inner: &[u8]) -> Vec<Vec<u8>> {
        let mut records = Vec::new();
        for (open, close) in [
            (&br#"{"skipped":""#[..], &br#"","a":1}"#[..]),
            (br#"{"a":""#, br#""}"#),
            (br#"{"b":[{"c":""#, br#""}],"a":2}"#),
            (br#"{""#, br#"":1,"a":3}"#),
        ] {
            records.push([open, inner, close].concat());
        }
        records
    }

    #[test]
    fn agrees_with_serde_json_on_long_strings_with_escapes_at_every_position() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 40, 64, 65, 100, 130] {
            for piece in [
                &br#"\n"#[..],
                br#"\""#,
                br#"\\"#,
                br#"\u00e9"#,
                br#"\uD83D\uDE00"#,
                "é".as_bytes(),
                "😀".as_bytes(),
                br#"\x"#,
                br#"\u12"#,
                br#"\uDC00"#,
                b"\\",
            ] {
                for at in 0..=len {
                    let mut inner = vec![b'x'; len];
                    inner.splice(at..at, piece.iter().copied());
                    for record in long_string_records(&inner) {
                        agrees(&record);
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_control_bytes_and_bad_utf8_in_long_strings() {
        for len in [1, 8, 31, 32, 33, 47, 64, 129] {
            for at in 0..len {
                for bad in [
                    &b"\x00"[..],
                    b"\x1f",
                    b"\n",
                    b"\t",
                    b"\xff",
                    b"\xc3",
                    b"\xc0\x80",
                    b"\xed\xa0\x80",
                    b"\xe9\xbb",
                ] {
                    let mut inner = vec![b'y'; len];
                    inner.splice(at..at, bad.iter().copied());
                    for record in long_string_records(&inner) {
                        agrees(&record);
                        if std::str::from_utf8(bad).is_err() {
                            let e = read(&record, &Limits::default(), Some(&fields(&["a"])))
                                .unwrap_err();
                            let offset = record.iter().position(|&b| b >= 0x80).unwrap();
                            assert_eq!(
                                e.message(),
                                format!(
                                    "the record is not valid UTF-8 (bad byte at offset {offset})"
                                )
                            );
                        }
                    }
                }
                // A control byte before a later quote or backslash is still the first error.
                let mut inner = vec![b'z'; len];
                inner[at] = 0x01;
                inner.extend_from_slice(b"\\n tail");
                for record in long_string_records(&inner) {
                    agrees(&record);
                }
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_deep_skipped_containers_and_their_truncations() {
        let long = "q".repeat(70);
        for levels in [1, 2, 63, 64, 65, 126, 127, 128, 200] {
            let mut text = String::from("{\"a\":0,\"deep\":");
            for i in 0..levels {
                if i % 2 == 0 {
                    text.push_str(&format!("[\"{long}\\n\",1e5,"));
                } else {
                    text.push_str(&format!("{{\"k{long}\":true,\"v\":"));
                }
            }
            text.push_str("null");
            for i in (0..levels).rev() {
                text.push_str(if i % 2 == 0 { "]" } else { "}" });
            }
            text.push('}');
            agrees(text.as_bytes());
            // Within the default depth the skipped container is read and dropped.
            let ok = read(text.as_bytes(), &Limits::default(), Some(&fields(&["a"])));
            assert_eq!(ok.is_ok(), levels < 128, "{levels}");
            for end in (0..text.len()).step_by(if levels > 2 { 13 } else { 1 }) {
                agrees(&text.as_bytes()[..end]);
            }
        }
    }

    #[test]
    fn reports_serde_json_messages_with_line_and_column() {
        let message = |text: &str| {
            read(text.as_bytes(), &Limits::default(), None)
                .unwrap_err()
                .message()
                .to_string()
        };
        let invalid = |rest: &str| format!("the record is not valid JSON: {rest}");
        assert_eq!(
            message(r#"{"a":1 "b":2}"#),
            invalid("expected `,` or `}` at line 1 column 8")
        );
        assert_eq!(
            message(r#"{"a":"x"#),
            invalid("EOF while parsing a string at line 1 column 7")
        );
        assert_eq!(
            message("{\n  \"a\": 01\n}"),
            invalid("invalid number at line 2 column 9")
        );
        assert_eq!(
            message(r#"{"a":1e400}"#),
            invalid("number out of range at line 1 column 10")
        );
        assert_eq!(
            message(r#"{"a":"\udc00"}"#),
            invalid("lone leading surrogate in hex escape at line 1 column 12")
        );
        assert_eq!(
            message("{\"a\":\"\u{1}\"}"),
            invalid("control character (\\u0000-\\u001F) found while parsing a string at line 1 column 7")
        );
        assert_eq!(
            message("{}\n x"),
            invalid("trailing characters at line 2 column 2")
        );
        assert_eq!(
            message(""),
            invalid("EOF while parsing a value at line 1 column 0")
        );
        assert_eq!(message("[1]"), "the record is an array, not a JSON object");
        assert_eq!(
            message("\"x\""),
            "the record is a string, not a JSON object"
        );
        assert_eq!(
            message(" -1.5 "),
            "the record is a number, not a JSON object"
        );
        assert_eq!(
            message("false"),
            "the record is a boolean, not a JSON object"
        );
        assert_eq!(message("null"), "the record is null, not a JSON object");
        let bad = read(b"{\"a\":\"\xff\"}", &Limits::default(), None).unwrap_err();
        assert_eq!(code(&bad), "scimap::invalid-utf8");
        assert_eq!(
            bad.message(),
            "the record is not valid UTF-8 (bad byte at offset 6)"
        );
    }

    #[test]
    fn keeps_only_the_fields_asked_for() {
        let f = fields(&["a", "c", "kA"]);
        let obj = read(
            br#"{"a":1,"b":{"x":[1,2]},"c":"z","a":3,"k\u0041":[{"y":"\n"}],"kA ":0}"#,
            &Limits::default(),
            Some(&f),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(obj.to_json()).to_string(),
            r#"{"a":3,"c":"z","kA":[{"y":"\n"}]}"#
        );
        assert!(matches!(obj.get("c"), Some(Doc::Str(Cow::Borrowed("z")))));
        let all = read(br#"{"a":1,"b":2,"a":3}"#, &Limits::default(), None).unwrap();
        let keys: Vec<(&str, &Doc)> = all.iter().collect();
        assert_eq!(keys, [("a", &Doc::Int(3)), ("b", &Doc::Int(2))]);
        // A repeated wanted field keeps its first position and its last value, whether its key
        // is escaped or not.
        let repeated = read(
            br#"{"kA":1,"c":2,"b":0,"k\u0041":3,"c":4}"#,
            &Limits::default(),
            Some(&f),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(repeated.to_json()).to_string(),
            r#"{"kA":3,"c":4}"#
        );
        let none = read(br#"{"b":2}"#, &Limits::default(), Some(&f)).unwrap();
        assert_eq!(none.len(), 0);
        // More fields than the length index holds, and keys longer than it covers.
        let mut many: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
        many.push("a_key_longer_than_thirty_two_bytes_!".into());
        let obj = read(
            br#"{"f99":1,"f3":2,"f100":3,"a_key_longer_than_thirty_two_bytes_!":4}"#,
            &Limits::default(),
            Some(&many),
        )
        .unwrap();
        assert_eq!(obj.len(), 3);
        assert_eq!(obj.get("f100"), None);
        // Repeated fields past the 64th are resolved too.
        let obj = read(
            br#"{"f99":1,"f3":2,"f99":5,"f3":6,"f70":7}"#,
            &Limits::default(),
            Some(&many),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(obj.to_json()).to_string(),
            r#"{"f99":5,"f3":6,"f70":7}"#
        );
    }

    #[test]
    fn skipped_fields_are_still_validated() {
        let f = fields(&["a"]);
        for bad in [
            r#"{"a":1,"b":"\uD800"}"#,
            r#"{"a":1,"b":[1e400]}"#,
            r#"{"a":1,"b":"\x"}"#,
            r#"{"a":1,"b":1}x"#,
            r#"{"a":1,"\uDC00":1}"#,
            r#"{"a":1,"b":{"c":[1,{"d":01}]}}"#,
            r#"{"a":1,"b":{"c" 1}}"#,
            "{\"a\":1,\"b\":[\"\u{1f}\"]}",
        ] {
            let e = read(bad.as_bytes(), &Limits::default(), Some(&f)).unwrap_err();
            assert_eq!(code(&e), "scimap::invalid-json", "{bad}");
        }
    }

    #[test]
    fn nesting_is_limited_in_kept_and_skipped_fields() {
        let f = fields(&["b"]);
        for (open, fields) in [
            ("[", None),
            ("[", Some(f.as_slice())),
            ("{\"b\":", Some(f.as_slice())),
        ] {
            let close = if open == "[" { "]" } else { "}" };
            let deep = format!(
                "{{\"a\":1,\"b\":{}1{}}}",
                open.repeat(200),
                close.repeat(200)
            );
            let e = read(deep.as_bytes(), &Limits::default(), fields).unwrap_err();
            assert_eq!(code(&e), "scimap::limit", "{open}");
            assert_eq!(
                e.message(),
                "the record nests deeper than the limit `depth` (128)"
            );
        }
        // The record is level 1; each container inside it one more.
        for keep in [None, Some(fields(&["a", "b"]))] {
            let keep = keep.as_deref();
            assert!(read(br#"{"a":[1],"b":"[[[["}"#, &depth(2), keep).is_ok());
            assert_eq!(
                code(&read(br#"{"a":[[1]]}"#, &depth(2), keep).unwrap_err()),
                "scimap::limit"
            );
            assert_eq!(
                code(&read(br#"{"a":{"b":{}}}"#, &depth(2), keep).unwrap_err()),
                "scimap::limit"
            );
            assert!(read(br#"{"a":{"b":{}}}"#, &depth(3), keep).is_ok());
            assert_eq!(
                code(&read(b"{}", &depth(0), keep).unwrap_err()),
                "scimap::limit"
            );
            assert!(read(b"{}", &depth(1), keep).is_ok());
            assert_eq!(
                code(&read(b"[]", &depth(0), keep).unwrap_err()),
                "scimap::limit"
            );
            assert_eq!(
                read(b"[[]]", &depth(2), keep).unwrap_err(),
                not_an_object("an array")
            );
            assert_eq!(
                code(&read(b"[[]]", &depth(1), keep).unwrap_err()),
                "scimap::limit"
            );
            assert_eq!(
                read(b"1", &depth(0), keep).unwrap_err(),
                not_an_object("a number")
            );
        }
        // The limit is met before later syntax errors.
        let e = read(br#"{"a":[[[[ x"#, &depth(3), None).unwrap_err();
        assert_eq!(code(&e), "scimap::limit");
    }

    #[test]
    fn deep_nesting_never_overflows_the_stack() {
        const LEVELS: usize = 1_000_000;
        let nested =
            |open: &str, close: &str| format!("{}1{}", open.repeat(LEVELS), close.repeat(LEVELS));
        let arrays = nested("[", "]");
        let objects = nested("{\"x\":", "}");
        let unbounded = depth(usize::MAX);
        for inner in [&arrays, &objects] {
            let record = format!("{{\"a\":1,\"deep\":{inner}}}");
            // Kept or skipped, nesting stops at `Limits::MAX_DEPTH`, whatever `depth` says.
            for keep in [None, Some(fields(&["deep"])), Some(fields(&["a"]))] {
                let e = read(record.as_bytes(), &unbounded, keep.as_deref()).unwrap_err();
                assert_eq!(
                    e.message(),
                    format!(
                        "the record nests deeper than the limit `depth` ({})",
                        Limits::MAX_DEPTH
                    )
                );
            }
            // Unclosed: an error at the end, not a crash.
            let open = &record[..record.len() / 2];
            let e = read(open.as_bytes(), &unbounded, Some(&fields(&["a"]))).unwrap_err();
            assert_eq!(code(&e), "scimap::limit");
        }
        assert_eq!(
            read(arrays.as_bytes(), &unbounded, None)
                .unwrap_err()
                .errors[0]
                .code,
            "scimap::limit"
        );
        // Exactly `MAX_DEPTH` levels are read, the record's included.
        let levels = Limits::MAX_DEPTH - 1;
        let fits = format!("{{\"a\":{}{}}}", "[".repeat(levels), "]".repeat(levels));
        assert!(read(fits.as_bytes(), &unbounded, None).is_ok());
        let over = format!(
            "{{\"a\":{}{}}}",
            "[".repeat(levels + 1),
            "]".repeat(levels + 1)
        );
        assert!(read(over.as_bytes(), &unbounded, None).is_err());
        assert!(read(over.as_bytes(), &unbounded, Some(&fields(&["b"]))).is_err());
    }

    #[test]
    fn open_containers_spill_past_a_word() {
        let mut open = Open::default();
        let kinds: Vec<bool> = (0..300).map(|i| i % 3 == 0 || i % 7 == 0).collect();
        for &kind in &kinds {
            open.push(kind);
            assert_eq!(open.innermost(), Some(kind));
        }
        for (i, &kind) in kinds.iter().enumerate().rev() {
            assert_eq!(open.innermost(), Some(kind), "{i}");
            open.pop();
        }
        assert_eq!(open.innermost(), None);
        let mixed = format!("{{\"a\":{}1{}}}", "[{\"k\":".repeat(100), "}]".repeat(100));
        agrees(mixed.as_bytes());
        assert!(read(mixed.as_bytes(), &depth(1000), Some(&fields(&["b"]))).is_ok());
    }
}
