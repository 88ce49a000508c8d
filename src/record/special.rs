//! The bytes a JSON string cannot hold as they are (`"`, `\\` and control bytes), found sixteen
//! at a time: the reader's string scan and the writer's escaping share them.

/// Whether a byte cannot stand as it is inside a JSON string: it ends the plain run of a string
/// being read, and is escaped in one being written.
pub(crate) fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The position of the first byte of `chunk` that ends a string's plain run ([`is_special`]):
/// one SSE2 comparison of all sixteen, which every x86-64 processor has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn first_special(chunk: &[u8; 16]) -> Option<usize> {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86-64 itself (every such processor has it, and Rust's x86_64
    // targets assume it); the load reads exactly the sixteen bytes `chunk` borrows.
    let found = unsafe {
        let x = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `x <= 0x1f`: the smaller of the two is `x` itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    (found != 0).then(|| found.trailing_zeros() as usize)
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) use first_special_in_words as first_special;

/// [`first_special`] elsewhere (the WASM module): eight bytes at a time in a word, as
/// serde_json does. The high bit of each byte of `(y - n) & !y` is set for the lowest byte of
/// `y` below `n` (n <= 0x80) and possibly for bytes above it (borrows), never below, so the
/// lowest set bit finds the first.
#[cfg_attr(target_arch = "x86_64", cfg(test))]
#[inline(always)]
pub(crate) fn first_special_in_words(chunk: &[u8; 16]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let (words, _) = chunk.as_chunks::<8>();
    words.iter().enumerate().find_map(|(i, word)| {
        let x = u64::from_le_bytes(*word);
        // `^ 0x02` turns `"` into 0x20 and keeps control bytes below it.
        let quote = x ^ (ONES * 0x02);
        let quote_or_control = quote.wrapping_sub(ONES * 0x21) & !quote;
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let backslash = backslash.wrapping_sub(ONES) & !backslash;
        let found = (quote_or_control | backslash) & (ONES << 7);
        (found != 0).then(|| i * 8 + (found.trailing_zeros() / 8) as usize)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sixteen-byte finders against the byte-by-byte rule: each byte value at each
    /// position, with a later special byte that must not win, and none at all.
    #[test]
    fn first_special_finds_the_first_special_byte() {
        for finder in [first_special, first_special_in_words] {
            assert_eq!(finder(&[b'a'; 16]), None);
            for b in 0..=u8::MAX {
                for at in 0..16 {
                    let mut chunk = [0xe9; 16];
                    chunk[at] = b;
                    if at < 15 {
                        chunk[15] = b'"';
                    }
                    let expected = chunk.iter().position(|&c| is_special(c));
                    assert_eq!(finder(&chunk), expected, "byte {b:#04x} at {at}");
                }
            }
        }
    }
}
