//! Literals decoded from their text: string escapes and numbers (decimal, hex, octal, binary,
//! floats), as Expr reads them.

use crate::syntax::ast::ExprKind;

/// Decodes the escape at the start of `s` (which begins with `\`): the character and the
/// escape's byte length, or the length to blame and a message.
pub(super) fn decode_escape(s: &str, quote: char) -> Result<(char, usize), (usize, String)> {
    let mut chars = s.chars().skip(1);
    let Some(c) = chars.next() else {
        return Err((1, "a string cannot end with a lone `\\`".into()));
    };
    let simple = match c {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        _ if c == quote => Some(c),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch, 1 + c.len_utf8()));
    }
    let bad = |len: usize| {
        Err((
            len,
            format!("invalid escape `{}` in a string literal", &s[..len]),
        ))
    };
    let (digits, radix, skip, close) = match c {
        '0'..='7' => (3, 8, 1, 0),
        'x' => (2, 16, 2, 0),
        'U' => (8, 16, 2, 0),
        'u' if s[2..].starts_with('{') => {
            let n = s[3..].bytes().take_while(u8::is_ascii_hexdigit).count();
            if n == 0 || n > 6 || s.as_bytes().get(3 + n) != Some(&b'}') {
                return bad(3 + n.min(6));
            }
            (n, 16, 3, 1)
        }
        'u' => (4, 16, 2, 0),
        _ => return bad(1 + c.len_utf8()),
    };
    let len = skip + digits + close;
    let Some(text) = s.get(skip..skip + digits) else {
        return bad(2);
    };
    let Ok(code) = u32::from_str_radix(text, radix) else {
        return bad(2);
    };
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) || (radix == 8 && code > 0o377) {
        return bad(len);
    }
    match char::from_u32(code) {
        Some(ch) => Ok((ch, len)),
        None => Err((
            len,
            format!("`{}` is not a Unicode scalar value", &s[..len]),
        )),
    }
}

pub(super) enum NumberError {
    Syntax,
    Range,
}

/// Converts a number literal the way Expr does: `_` dropped, `0x`/`0o`/`0b` prefixes, a `.` or
/// an `e` makes a float.
pub(super) fn parse_number(text: &str) -> Result<ExprKind, NumberError> {
    use std::num::IntErrorKind;
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let lower = digits.to_ascii_lowercase();
    let int = |s: &str, radix: u32| {
        i64::from_str_radix(s, radix)
            .map(ExprKind::Int)
            .map_err(|e| match e.kind() {
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => NumberError::Range,
                _ => NumberError::Syntax,
            })
    };
    if let Some(hex) = lower.strip_prefix("0x") {
        int(hex, 16)
    } else if lower.contains(['.', 'e']) {
        match lower.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(ExprKind::Float(f)),
            Ok(_) => Err(NumberError::Range),
            Err(_) => Err(NumberError::Syntax),
        }
    } else if let Some(bin) = lower.strip_prefix("0b") {
        int(bin, 2)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        int(oct, 8)
    } else {
        int(&lower, 10)
    }
}
