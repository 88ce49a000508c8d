//! String builtins and scimap's identity helpers (reference §functions-strings).

use super::{bad_arg, build, int_arg, list_arg, step_bytes, str_arg, sub_str, Text};
use crate::runtime::budget::Budget;
use crate::runtime::error::{EvalError, EvalResult};
use crate::runtime::value::{Str, Value};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

type R<'a> = EvalResult<Value<'a>>;
type T<'a> = EvalResult<Text<'a>>;

pub(super) fn trim<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("trim", args, 0)?;
    step_bytes(budget, s.len())?;
    if args.len() < 2 {
        // Go's TrimSpace and Rust's trim both strip the Unicode White_Space characters.
        return sub_str(s, budget, str::trim);
    }
    let cutset = str_arg("trim", args, 1)?;
    step_bytes(budget, cutset.len())?;
    // A sorted set keeps a long cutset from making the scan quadratic.
    let mut set: Vec<char> = cutset.chars().collect();
    set.sort_unstable();
    sub_str(s, budget, |s| {
        s.trim_matches(|c| set.binary_search(&c).is_ok())
    })
}

/// The prefix or suffix argument; Expr's default is one space.
fn affix<'a>(name: &str, args: &[Value<'a>]) -> EvalResult<Str<'a>> {
    if args.len() < 2 {
        Ok(Str::Borrowed(" "))
    } else {
        str_arg(name, args, 1).cloned()
    }
}

pub(super) fn trim_prefix<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("trimPrefix", args, 0)?;
    let p = affix("trimPrefix", args)?;
    step_bytes(budget, p.len())?;
    sub_str(s, budget, |s| s.strip_prefix(&*p).unwrap_or(s))
}

pub(super) fn trim_suffix<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("trimSuffix", args, 0)?;
    let p = affix("trimSuffix", args)?;
    step_bytes(budget, p.len())?;
    sub_str(s, budget, |s| s.strip_suffix(&*p).unwrap_or(s))
}

/// Unicode simple upper-case mapping, as Go's `unicode.ToUpper`: one character to one.
///
/// Rust's `char::to_uppercase` is the full mapping. Where it gives one character it equals the
/// simple mapping; where it gives several (`ß`→`SS`, `ﬁ`→`FI`, `ŉ`→`ʼN`) the simple mapping is
/// the character itself, except for the Greek letters with ypogegrammeni, listed here.
/// (Checked against the simple mappings of every Unicode 14 character. Letters added in
/// Unicode 16 and later, such as U+A7DC, follow Rust's newer tables; Go's Unicode 15 tables
/// leave them unchanged.)
fn simple_upper(c: char) -> char {
    match c {
        '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
            char::from_u32(c as u32 + 8).unwrap_or(c)
        }
        '\u{1FB3}' => '\u{1FBC}',
        '\u{1FC3}' => '\u{1FCC}',
        '\u{1FF3}' => '\u{1FFC}',
        _ => single(c.to_uppercase()).unwrap_or(c),
    }
}

/// Unicode simple lower-case mapping, as Go's `unicode.ToLower`. The only full mapping of more
/// than one character is `İ` → `i̇`; its simple mapping is `i`.
fn simple_lower(c: char) -> char {
    match c {
        '\u{130}' => 'i',
        _ => single(c.to_lowercase()).unwrap_or(c),
    }
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Maps every character of the string argument (`f` also sees the previous character) into
/// `out`, checking the result's size before building it; an unchanged string is returned as it is.
fn map_chars<'a>(
    name: &str,
    args: &[Value<'a>],
    budget: &mut Budget,
    out: &mut String,
    f: impl Fn(Option<char>, char) -> char,
) -> T<'a> {
    let s = str_arg(name, args, 0)?;
    step_bytes(budget, s.len())?;
    let f = &f;
    let mapped = || {
        let mut prev = None;
        s.chars().map(move |c| {
            let m = f(prev, c);
            prev = Some(c);
            (c, m)
        })
    };
    let (mut changed, mut len) = (false, 0usize);
    for (c, m) in mapped() {
        changed |= c != m;
        len += m.len_utf8();
    }
    if !changed {
        return Ok(Text::Same(s.clone()));
    }
    budget.reserve(out, len)?;
    out.extend(mapped().map(|(_, m)| m));
    Ok(Text::Built)
}

pub(super) fn upper<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    if let [Value::Str(s)] = args {
        if let Some(changes) = ascii_changes(s.as_bytes(), b'a') {
            return ascii_case(s, changes, budget, out, str::make_ascii_uppercase);
        }
    }
    map_chars("upper", args, budget, out, |_, c| simple_upper(c))
}

pub(super) fn lower<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    if let [Value::Str(s)] = args {
        if let Some(changes) = ascii_changes(s.as_bytes(), b'A') {
            return ascii_case(s, changes, budget, out, str::make_ascii_lowercase);
        }
    }
    map_chars("lower", args, budget, out, |_, c| simple_lower(c))
}

/// `None` when `bytes` are not all ASCII, else whether any is a letter from `from` (`A` or
/// `a`) to the 26th after it: eight bytes at a time, as most identities are short ASCII.
fn ascii_changes(bytes: &[u8], from: u8) -> Option<bool> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // A byte below 0x80 plus less than 0x80 carries into no other byte; the high bit of each
    // sum says whether the byte is at least `from`, and at least `from + 26`.
    let (ge, past) = (
        ONES * u64::from(0x80 - from),
        ONES * u64::from(0x80 - from - 26),
    );
    let test = |(high, changes): (u64, u64), w: u64| {
        (
            high | w,
            changes | (w.wrapping_add(ge) & !w.wrapping_add(past)),
        )
    };
    let (words, tail) = bytes.as_chunks::<8>();
    let mut seen = words
        .iter()
        .map(|w| u64::from_ne_bytes(*w))
        .fold((0, 0), test);
    if !tail.is_empty() {
        // The last eight bytes (some tested twice), or the few there are, as one word.
        let last = match bytes.last_chunk::<8>() {
            Some(w) => u64::from_ne_bytes(*w),
            None => tail.iter().fold(0, |w, &b| w << 8 | u64::from(b)),
        };
        seen = test(seen, last);
    }
    let (high, changes) = seen;
    (high & HIGH == 0).then_some(changes & HIGH != 0)
}

/// `upper`/`lower` of an ASCII string (most identities) by `map`: byte-wise, and without a
/// copy when nothing `changes`. Accounts as `map_chars` does.
fn ascii_case<'a>(
    s: &Str<'a>,
    changes: bool,
    budget: &mut Budget,
    out: &mut String,
    map: fn(&mut str),
) -> T<'a> {
    step_bytes(budget, s.len())?;
    if !changes {
        return Ok(Text::Same(s.clone()));
    }
    budget.reserve(out, s.len())?;
    out.push_str(s);
    map(out);
    Ok(Text::Built)
}

/// Upper-case the first letter and every letter after whitespace, `-` or `'`; lower-case the rest.
pub(super) fn title_case<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    map_chars("titleCase", args, budget, out, |prev, c| match prev {
        None => simple_upper(c),
        Some(p) if p.is_whitespace() || p == '-' || p == '\'' => simple_upper(c),
        Some(_) => simple_lower(c),
    })
}

/// Go's `genSplit`; with `keep_sep` each part keeps its separator (`splitAfter`).
fn split_impl<'a>(name: &str, args: &[Value<'a>], budget: &mut Budget, keep_sep: bool) -> R<'a> {
    let s = str_arg(name, args, 0)?;
    let sep = str_arg(name, args, 1)?;
    let n = if args.len() > 2 {
        int_arg(name, args, 2)?
    } else {
        -1
    };
    step_bytes(budget, s.len())?;
    if n == 0 {
        return Value::list(Vec::new(), budget);
    }
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    if sep.is_empty() {
        // Go's explode: one part per character, the last part holding the rest.
        let mut starts = s.char_indices().map(|(i, _)| i).peekable();
        while let Some(start) = starts.next() {
            if ranges.len() + 1 == limit {
                ranges.push((start, s.len()));
                break;
            }
            ranges.push((start, starts.peek().copied().unwrap_or(s.len())));
            budget.fits_list(ranges.len())?;
        }
    } else {
        let keep = if keep_sep { sep.len() } else { 0 };
        let mut start = 0;
        for (m, _) in s.match_indices(&**sep) {
            if ranges.len() + 1 == limit {
                break;
            }
            ranges.push((start, m + keep));
            budget.fits_list(ranges.len())?;
            start = m + sep.len();
        }
        ranges.push((start, s.len()));
    }
    budget.fits_list(ranges.len())?;
    budget.step(ranges.len() as u64)?;
    let parts = ranges
        .into_iter()
        .map(|(a, b)| sub_str(s, budget, |s| s.get(a..b).unwrap_or("")))
        .collect::<EvalResult<_>>()?;
    Value::list(parts, budget)
}

pub(super) fn split<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    split_impl("split", args, budget, false)
}

pub(super) fn split_after<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    split_impl("splitAfter", args, budget, true)
}

/// Go's `strings.Replace`: an empty `old` matches before every character and at the end.
pub(super) fn replace<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    let s = str_arg("replace", args, 0)?;
    let old = str_arg("replace", args, 1)?;
    let new = str_arg("replace", args, 2)?;
    let n = if args.len() > 3 {
        int_arg("replace", args, 3)?
    } else {
        -1
    };
    step_bytes(budget, s.len())?;
    if **old == **new || n == 0 {
        return Ok(Text::Same(s.clone()));
    }
    // One byte (`" "`, `"."`) is found by memchr; `str::matches` builds a two-way searcher per
    // call, which costs more than the search in a name or an address.
    let byte = match old.as_bytes() {
        [b] => Some(*b),
        _ => None,
    };
    let found = match byte {
        Some(b) => memchr::memchr_iter(b, s.as_bytes()).count(),
        None => s.matches(&**old).count(),
    };
    let count = usize::try_from(n).map_or(found, |n| n.min(found));
    if count == 0 {
        return Ok(Text::Same(s.clone()));
    }
    let len = count
        .checked_mul(new.len())
        .and_then(|added| (s.len() - count * old.len()).checked_add(added));
    let len = len.unwrap_or(usize::MAX);
    build(out, len, budget, |out| {
        // A one-byte `old` is ASCII, a whole character: slicing around it is safe.
        match byte {
            Some(b) => splice(
                out,
                s,
                memchr::memchr_iter(b, s.as_bytes()).take(count),
                1,
                new,
            ),
            None => {
                let starts = s.match_indices(&**old).map(|(i, _)| i).take(count);
                splice(out, s, starts, old.len(), new)
            }
        }
    })
}

/// `join(split(s, sep), glue)` with a constant `sep` that is not empty, which the checker fuses:
/// Go's `strings.ReplaceAll(s, sep, glue)`, the same string without the list between. Any
/// other argument goes through `split` and `join`, for their errors.
pub fn split_join<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    match args {
        [Value::Str(_), Value::Str(sep), Value::Str(_)] if !sep.is_empty() => {
            let made = replace(args, budget, out)?;
            if let Text::Same(s) = &made {
                // `join` builds a new string even when nothing is replaced: the same limit.
                budget.fits_string(s.len())?;
            }
            Ok(made)
        }
        [s, sep, glue] => {
            let parts = split(&[s.clone(), sep.clone()], budget)?;
            join(&[parts, glue.clone()], budget, out)
        }
        _ => Err(EvalError::invalid("join(split(…)) takes three values")),
    }
}

/// `s` with the `len` bytes at each of `starts` replaced by `new`, into `out` (`str::replacen`,
/// into a buffer whose allocation may fail).
fn splice(out: &mut String, s: &str, starts: impl Iterator<Item = usize>, len: usize, new: &str) {
    let mut last = 0;
    for start in starts {
        out.push_str(s.get(last..start).unwrap_or_default());
        out.push_str(new);
        last = start + len;
    }
    out.push_str(s.get(last..).unwrap_or_default());
}

pub(super) fn repeat<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    let s = str_arg("repeat", args, 0)?;
    let n = int_arg("repeat", args, 1)?;
    let Ok(n) = usize::try_from(n) else {
        return Err(EvalError::invalid(format!(
            "invalid argument for repeat (expected positive integer, got {n})"
        )));
    };
    let len = s.len().saturating_mul(n);
    build(out, len, budget, |out| {
        // `len` bounds the loop: no copies of the empty string.
        for _ in 0..n.min(len) {
            out.push_str(s);
        }
    })
}

fn byte_offset(found: Option<usize>) -> Value<'static> {
    Value::Int(found.and_then(|i| i64::try_from(i).ok()).unwrap_or(-1))
}

pub(super) fn index_of<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("indexOf", args, 0)?;
    let sub = str_arg("indexOf", args, 1)?;
    step_bytes(budget, s.len())?;
    Ok(byte_offset(s.find(&**sub)))
}

pub(super) fn last_index_of<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("lastIndexOf", args, 0)?;
    let sub = str_arg("lastIndexOf", args, 1)?;
    step_bytes(budget, s.len())?;
    Ok(byte_offset(s.rfind(&**sub)))
}

pub(super) fn has_prefix<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("hasPrefix", args, 0)?;
    let p = str_arg("hasPrefix", args, 1)?;
    step_bytes(budget, p.len())?;
    Ok(Value::Bool(s.starts_with(&**p)))
}

pub(super) fn has_suffix<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("hasSuffix", args, 0)?;
    let p = str_arg("hasSuffix", args, 1)?;
    step_bytes(budget, p.len())?;
    Ok(Value::Bool(s.ends_with(&**p)))
}

pub(super) fn join<'a>(args: &[Value<'a>], budget: &mut Budget, out: &mut String) -> T<'a> {
    let list = list_arg("join", args, 0)?;
    let sep: &str = if args.len() > 1 {
        str_arg("join", args, 1)?
    } else {
        ""
    };
    budget.step(list.len() as u64)?;
    let mut parts = Vec::with_capacity(list.len());
    let mut len = sep.len().saturating_mul(list.len().saturating_sub(1));
    for item in list.iter() {
        match item {
            Value::Str(s) => {
                len = len.saturating_add(s.len());
                parts.push(s);
            }
            other => return Err(bad_arg("join", "array of strings", &other)),
        }
    }
    build(out, len, budget, |out| {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(part);
        }
    })
}

/// NFD, combining marks dropped, then the letters that have no decomposition spelled out.
pub(super) fn normalize_diacritics<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    let s = str_arg("normalizeDiacritics", args, 0)?;
    step_bytes(budget, s.len())?;
    if s.is_ascii() {
        return Ok(Value::Str(s.clone()));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'ß' => out.push_str("ss"),
            'ẞ' => out.push_str("SS"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            'þ' => out.push_str("th"),
            'Þ' => out.push_str("TH"),
            c => out.push(c),
        }
        // NFD expands a character at most a few times, so checking as it grows bounds memory.
        budget.fits_string(out.len())?;
    }
    Value::string(out, budget)
}

/// The first argument that is neither nil nor `""`; nil when there is none.
pub(super) fn coalesce<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    for v in args {
        budget.step(1)?;
        match v {
            Value::Nil => {}
            Value::Str(s) if s.is_empty() => {}
            v => return Ok(v.clone()),
        }
    }
    Ok(Value::Nil)
}

/// Splits an address at its last `@`: `local` picks the part before it, otherwise the part after.
fn email_part<'a>(name: &str, args: &[Value<'a>], budget: &mut Budget, local: bool) -> R<'a> {
    let s = str_arg(name, args, 0)?;
    step_bytes(budget, s.len())?;
    let Some(at) = s.rfind('@') else {
        return Ok(Value::Nil);
    };
    sub_str(s, budget, |s| {
        if local {
            s.get(..at).unwrap_or("")
        } else {
            s.get(at + 1..).unwrap_or("")
        }
    })
}

pub(super) fn email_local<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    email_part("emailLocal", args, budget, true)
}

pub(super) fn email_domain<'a>(args: &[Value<'a>], budget: &mut Budget) -> R<'a> {
    email_part("emailDomain", args, budget, false)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{call, err, ok};
    use super::*;
    use crate::limits::Limits;
    use crate::runtime::value::unlimited;
    use serde_json::json;

    #[test]
    fn trim_family() {
        ok("trim", json!(["  \t x y \n"]), r#""x y""#);
        ok("trim", json!(["\u{a0}\u{3000}x\u{85}"]), r#""x""#);
        ok("trim", json!(["abxba", "ab"]), r#""x""#);
        ok("trim", json!(["éxé", "é"]), r#""x""#);
        ok("trim", json!(["xx", ""]), r#""xx""#);
        ok("trim", json!([""]), r#""""#);
        ok("trimPrefix", json!(["  x"]), r#"" x""#);
        ok("trimPrefix", json!(["abc", "ab"]), r#""c""#);
        ok("trimPrefix", json!(["abab", "ab"]), r#""ab""#);
        ok("trimPrefix", json!(["abc", "x"]), r#""abc""#);
        ok("trimSuffix", json!(["x  "]), r#""x ""#);
        ok("trimSuffix", json!(["file.txt", ".txt"]), r#""file""#);
        err(
            "trim",
            json!([null]),
            "invalid argument for trim: expected string, got nil",
        );
        err("trimPrefix", json!(["a", 1]), "expected string, got int");
    }

    #[test]
    fn trim_borrows_from_the_record() {
        let Value::Str(Str::Borrowed(s)) = call("trim", json!([" x "])).unwrap() else {
            panic!("expected a borrowed string");
        };
        assert_eq!(s, "x");
    }

    #[test]
    fn case_mapping_is_simple() {
        ok("upper", json!(["straße"]), r#""STRAßE""#);
        ok("upper", json!(["Groß"]), r#""GROß""#);
        ok("lower", json!(["ÀB"]), r#""àb""#);
        ok("lower", json!(["İ"]), r#""i""#);
        ok("upper", json!(["ﬁ"]), r#""ﬁ""#);
        ok("upper", json!(["ǆ ǅ ŉ"]), r#""Ǆ Ǆ ŉ""#);
        ok("lower", json!(["ǅ Ǆ ΣΑΣ"]), r#""ǆ ǆ σασ""#);
        ok("upper", json!(["ᾳ ᾀ ῳ ᾈ ı ſ"]), r#""ᾼ ᾈ ῼ ᾈ I S""#);
        ok("upper", json!([""]), r#""""#);
        err(
            "upper",
            json!([5]),
            "invalid argument for upper: expected string, got int",
        );
        assert_eq!(simple_upper('ß'), 'ß');
        assert_eq!(simple_lower('K'), 'k');
    }

    /// The ASCII path (eight bytes at a time) at every length across the word edges, with each
    /// letter's neighbours (`@`, `[`, `` ` ``, `{`) and a non-ASCII letter at each position.
    #[test]
    fn ascii_case_mapping_agrees_with_chars_at_every_length() {
        let alphabet = "@AZ[`az{09-.é";
        for len in 0..=26 {
            for start in 0..alphabet.chars().count() {
                let s: String = alphabet.chars().cycle().skip(start).take(len).collect();
                let same = s.chars().all(|c| !c.is_ascii_alphabetic()) && !s.contains('é');
                for (name, want) in [("lower", s.to_lowercase()), ("upper", s.to_uppercase())] {
                    ok(name, json!([s]), &serde_json::to_string(&want).unwrap());
                    if same {
                        // Nothing to change: the argument itself, not a copy.
                        let got = call(name, json!([s])).unwrap();
                        assert!(matches!(got, Value::Str(Str::Borrowed(_))), "{name}({s:?})");
                    }
                }
            }
        }
    }

    #[test]
    fn title_case() {
        ok(
            "titleCase",
            json!(["o'brien smith-JONES"]),
            r#""O'Brien Smith-Jones""#,
        );
        ok(
            "titleCase",
            json!(["ÉLODIE  de\tla-fontaine"]),
            r#""Élodie  De\tLa-Fontaine""#,
        );
        ok("titleCase", json!(["1st place"]), r#""1st Place""#);
        ok("titleCase", json!([""]), r#""""#);
    }

    #[test]
    fn split_family() {
        ok("split", json!(["a,b,c", ","]), r#"["a","b","c"]"#);
        ok("split", json!(["a,,b", ","]), r#"["a","","b"]"#);
        ok("split", json!(["", ","]), r#"[""]"#);
        ok("split", json!(["a,b,c", ",", 2]), r#"["a","b,c"]"#);
        ok("split", json!(["a,b,c", ",", 0]), "[]");
        ok("split", json!(["a,b,c", ",", -1]), r#"["a","b","c"]"#);
        ok("split", json!(["a,b", ",", 10]), r#"["a","b"]"#);
        ok("split", json!(["héllo", ""]), r#"["h","é","l","l","o"]"#);
        ok("split", json!(["héllo", "", 2]), r#"["h","éllo"]"#);
        ok("split", json!(["", ""]), "[]");
        ok("split", json!(["a--b", "--"]), r#"["a","b"]"#);
        ok("splitAfter", json!(["a,b,c", ","]), r#"["a,","b,","c"]"#);
        ok("splitAfter", json!(["a,b,c", ",", 2]), r#"["a,","b,c"]"#);
        ok("splitAfter", json!(["a,", ","]), r#"["a,",""]"#);
        err("split", json!(["a", 1]), "expected string, got int");
        err("split", json!(["a", ",", 1.5]), "expected int, got float");
    }

    #[test]
    fn replace_agrees_with_std_for_one_byte_and_longer_patterns() {
        let texts = ["", " ", "a b  c ", "ä ö.ü", "日本 語", "..a..", "abcabc"];
        for s in texts {
            for old in [" ", ".", "a", "ab", "ä", " ö"] {
                for (n, take) in [(-1, usize::MAX), (0, 0), (1, 1), (2, 2)] {
                    let want = s.replacen(old, "<>", take);
                    ok(
                        "replace",
                        json!([s, old, "<>", n]),
                        &serde_json::to_string(&want).unwrap(),
                    );
                }
            }
        }
    }

    #[test]
    fn replace_and_repeat() {
        ok("replace", json!(["aaa", "a", "b"]), r#""bbb""#);
        ok("replace", json!(["aaa", "a", "b", 2]), r#""bba""#);
        ok("replace", json!(["aaa", "a", "b", -1]), r#""bbb""#);
        ok("replace", json!(["aaa", "a", "b", 0]), r#""aaa""#);
        ok("replace", json!(["abc", "", "-"]), r#""-a-b-c-""#);
        ok("replace", json!(["abc", "", "-", 2]), r#""-a-bc""#);
        ok("replace", json!(["héllo", "l", "L"]), r#""héLLo""#);
        ok("replace", json!(["abc", "x", "y"]), r#""abc""#);
        ok("repeat", json!(["ab", 3]), r#""ababab""#);
        ok("repeat", json!(["ab", 0]), r#""""#);
        ok("repeat", json!(["", 1_000_000_000_000i64]), r#""""#);
        let code = err(
            "repeat",
            json!(["x", -1]),
            "invalid argument for repeat (expected positive integer, got -1)",
        );
        assert_eq!(code, "scimap::invalid-argument");
        assert_eq!(
            err("repeat", json!(["x", 100_000_000]), "string-bytes"),
            "scimap::limit"
        );
        assert_eq!(
            err("repeat", json!(["xx", i64::MAX]), "string-bytes"),
            "scimap::limit"
        );
        err(
            "replace",
            json!(["ab", "", "xxxxxxxxxx".repeat(100_000)]),
            "string-bytes",
        );
    }

    #[test]
    fn search() {
        ok("indexOf", json!(["héllo", "l"]), "3");
        ok("indexOf", json!(["abc", "x"]), "-1");
        ok("indexOf", json!(["abc", ""]), "0");
        ok("lastIndexOf", json!(["héllo", "l"]), "4");
        ok("lastIndexOf", json!(["abc", ""]), "3");
        ok("lastIndexOf", json!(["abc", "x"]), "-1");
        ok("hasPrefix", json!(["abc", "ab"]), "true");
        ok("hasPrefix", json!(["abc", "b"]), "false");
        ok("hasSuffix", json!(["abc", "bc"]), "true");
        ok("hasSuffix", json!(["abc", ""]), "true");
        err("hasSuffix", json!([null, "x"]), "got nil");
    }

    #[test]
    fn join() {
        ok("join", json!([["a", "b", "c"]]), r#""abc""#);
        ok("join", json!([["a", "b"], ", "]), r#""a, b""#);
        ok("join", json!([[], ","]), r#""""#);
        err(
            "join",
            json!([["a", 1]]),
            "invalid argument for join: expected array of strings, got int",
        );
        err("join", json!(["a"]), "expected array, got string");
    }

    #[test]
    fn identity_helpers() {
        ok(
            "normalizeDiacritics",
            json!(["Łódź Ærøskøbing Straße Þór Đặng ẞ"]),
            r#""Lodz AEroskobing Strasse THor Dang SS""#,
        );
        ok(
            "normalizeDiacritics",
            json!(["José Müller-Lüdenscheidt"]),
            r#""Jose Muller-Ludenscheidt""#,
        );
        ok("normalizeDiacritics", json!(["plain"]), r#""plain""#);
        ok("coalesce", json!([null, "", "x", "y"]), r#""x""#);
        ok("coalesce", json!([null, ""]), "null");
        ok("coalesce", json!([0, "x"]), "0");
        ok("coalesce", json!([false]), "false");
        ok("emailLocal", json!(["a@b@example.com"]), r#""a@b""#);
        ok(
            "emailDomain",
            json!(["a@b@example.com"]),
            r#""example.com""#,
        );
        ok("emailDomain", json!(["jane@"]), r#""""#);
        ok("emailLocal", json!(["no-at-sign"]), "null");
        ok("emailDomain", json!(["no-at-sign"]), "null");
        err("emailLocal", json!([null]), "got nil");
    }

    #[test]
    fn steps_are_spent_on_long_strings() {
        let long = unlimited::string("x".repeat(1 << 20));
        let mut budget = Budget::new(&Limits {
            steps: 1000,
            ..Limits::DEFAULT
        });
        let e = super::super::test_util::call_with("upper", &[long], &mut budget).unwrap_err();
        assert_eq!(e.code, "scimap::limit");
    }
}
