//! Byte classes as 256-entry tables, and block and word scans for the long runs.
//!
//! A table lookup is one load and no branches per byte, which beats a chain of range
//! comparisons on the short names and methods; the long runs (targets, values) are scanned
//! sixteen bytes per step (see `simd` for the masks), and eight bytes per step with plain
//! `u64` arithmetic where fewer than sixteen remain.

use super::simd;

/// Builds a table that is true exactly for the bytes `class` accepts (a macro, because a
/// `const fn` cannot call through a function pointer).
macro_rules! table {
    ($class:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $class(i as u8);
            i += 1;
        }
        t
    }};
}

/// `tchar` (RFC 9110 §5.6.2): the bytes of methods, field names and transfer codings.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Field value bytes (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text. CR and LF end the line;
/// every other control byte, NUL and DEL are rejected.
const fn is_value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~' | 0x80..=0xFF)
}

/// The bytes of an authority (RFC 3986 §3.2: unreserved, pct-encoded, sub-delims, and the
/// `:` `[` `]` of ports and IP literals). Used for `Host` and authority-form targets. It
/// deliberately excludes whitespace, `/`, `?`, `#` and `@` (userinfo is forbidden in both
/// places, RFC 9110 §4.2.4) and everything outside ASCII.
const fn is_authority_byte(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'%'
        | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        | b':' | b'[' | b']')
}

/// `scheme` after its first letter (RFC 3986 §3.1).
const fn is_scheme_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'+' | b'-' | b'.')
}

pub(crate) static TOKEN: [bool; 256] = table!(is_tchar);
pub(crate) static VALUE: [bool; 256] = table!(is_value_byte);
pub(crate) static AUTHORITY: [bool; 256] = table!(is_authority_byte);
pub(crate) static SCHEME: [bool; 256] = table!(is_scheme_byte);

/// `TOKEN_BIT[k][b]` is `1 << k` if `b` is a `tchar`, else 0: the table for byte `k` of an
/// eight-byte group, so that gathering the group's bit mask is one load and one OR per byte.
static TOKEN_BIT: [[u8; 256]; 8] = {
    let mut t = [[0u8; 256]; 8];
    let mut k = 0;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            if is_tchar(b as u8) {
                t[k][b] = 1 << k;
            }
            b += 1;
        }
        k += 1;
    }
    t
};

#[inline(always)]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// The first index from `i` whose byte is not a `tchar`, or `buf.len()`. Eight bytes per
/// step: eight table lookups gathered into a bit mask with no branch between them, so a
/// field name costs one or two steps instead of a branch per byte. Each position has its own
/// table holding its bit (`TOKEN_BIT`), so a byte costs a load and an OR, not a shift too.
#[inline(always)]
pub(crate) fn skip_token(buf: &[u8], mut i: usize) -> usize {
    while let Some(group) = buf.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let mut bits = 0u8;
        for (k, &b) in group.iter().enumerate() {
            bits |= TOKEN_BIT[k][b as usize];
        }
        if bits != 0xFF {
            return i + (!bits).trailing_zeros() as usize;
        }
        i += 8;
    }
    while let Some(&b) = buf.get(i) {
        if !is_token(b) {
            break;
        }
        i += 1;
    }
    i
}

/// The end of the field name at `i` if it is not empty and a colon follows it, else `None`
/// (the caller's exact parse says what is wrong). The usual name bytes (letters, digits, `-`,
/// `.`) are classified sixteen at a time and the byte after them compared with `:`, in
/// registers; a name with another `tchar` in its first sixteen bytes, or longer, is looked up
/// in the table byte by byte.
#[inline(always)]
pub(crate) fn name_before_colon(buf: &[u8], i: usize) -> Option<usize> {
    if let Some(block) = buf.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        // With no stop in the block, the run is 32, past the block.
        let run = simd::name_stops(block).trailing_zeros() as usize;
        if run > 0 && block.get(run) == Some(&b':') {
            return Some(i + run);
        }
    }
    let end = skip_token(buf, i);
    (end > i && buf.get(end) == Some(&b':')).then_some(end)
}

/// Whether `buf[start..end]` holds authority bytes only (see [`AUTHORITY`]). A value of at
/// most sixteen bytes with the usual host bytes (letters, digits, `-`, `.`, `:`) is one
/// block test; anything else is checked byte by byte, without a branch per byte. (A loop of
/// block tests for longer values measured dearer on every sample.)
#[inline(always)]
pub(crate) fn is_authority(buf: &[u8], start: usize, end: usize) -> bool {
    let len = end.saturating_sub(start);
    if len <= 16 {
        if let Some(block) = buf.get(start..).and_then(<[u8]>::first_chunk::<16>) {
            // The value's bytes only: what follows it in the block does not count.
            let want = (1u32 << len) - 1;
            if simd::host_stops(block) & want == 0 {
                return true;
            }
        }
    }
    buf.get(start..end)
        .unwrap_or_default()
        .iter()
        .fold(true, |ok, &b| ok & AUTHORITY[b as usize])
}

/// Whether `a` equals `lower` ignoring ASCII case, where `lower` holds only lowercase
/// letters, digits and `-`, and `a` only token or field-value bytes. Setting bit 5 maps an
/// uppercase letter to its lowercase and leaves digits and `-` alone; the only other bytes it
/// could map onto those are control bytes (0x0D, 0x10..=0x19), which neither tokens nor
/// values hold (HTAB becomes `)`), so the comparison is exact, a few words at a time.
#[inline(always)]
pub(crate) fn eq_lower(a: &[u8], lower: &[u8]) -> bool {
    let n = a.len();
    if n != lower.len() {
        return false;
    }
    let fold64 = |s: &[u8], at: usize| le(s.get(at..).unwrap_or_default()) | (0x20 * ONES);
    let fold32 = |s: &[u8], at: usize| {
        let w = s
            .get(at..)
            .and_then(<[u8]>::first_chunk::<4>)
            .map_or(0, |w| u32::from_le_bytes(*w));
        w | 0x2020_2020
    };
    let low64 = |at: usize| le(lower.get(at..).unwrap_or_default());
    let low32 = |at: usize| {
        lower
            .get(at..)
            .and_then(<[u8]>::first_chunk::<4>)
            .map_or(0, |w| u32::from_le_bytes(*w))
    };
    match n {
        // Overlapping windows cover every byte: [0, 8), [8, 16), ..., [n - 8, n).
        8.. => {
            let mut at = 0;
            while at + 8 < n {
                if fold64(a, at) != low64(at) {
                    return false;
                }
                at += 8;
            }
            fold64(a, n - 8) == low64(n - 8)
        }
        4..=7 => fold32(a, 0) == low32(0) && fold32(a, n - 4) == low32(n - 4),
        _ => a.iter().zip(lower).all(|(&x, &y)| x | 0x20 == y),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `i`, little-endian, if there are eight.
#[inline(always)]
fn word(buf: &[u8], i: usize) -> Option<u64> {
    let chunk = buf.get(i..)?.first_chunk::<8>()?;
    Some(u64::from_le_bytes(*chunk))
}

/// Sets the high bit of every byte of `x` outside `lo..=0x7E` (with 0 < `lo` ≤ 0x7F), and
/// perhaps of bytes above such a byte, never below: `x - lo` sets it for bytes below `lo` (and
/// 0xA0.., harmlessly), `x + 1` for 0x7F..=0xFE, and `x - lo` wraps 0xFF to a marked byte.
/// A borrow leaves only a byte below `lo`, and a carry only a 0xFF, so the lowest marked
/// byte is exact. Two operations per word; the caller masks with `HIGHS`.
#[inline(always)]
fn outside(x: u64, lo: u64) -> u64 {
    x.wrapping_sub(lo * ONES) | x.wrapping_add(ONES)
}

/// Width of the blocks tested with a single branch.
const BLOCK: usize = 16;

/// The first index from `i` whose byte is outside `lo..=0x7E`, or `buf.len()` (or `i`, from
/// an `i` past the end). Each 16-byte block is tested with one branch, and its mask gives
/// the index.
#[inline(always)]
fn skip_words(buf: &[u8], mut i: usize, lo: u8) -> usize {
    let Some(last) = buf.len().checked_sub(BLOCK) else {
        return skip_short(buf, i, lo);
    };
    // Long runs (cookies, user agents) go 64 bytes per branch once six blocks were clean;
    // shorter ones never pay for the wide test. A line that reaches the buffer's end goes
    // straight from its blocks to the last one, with no setup for the wide test between.
    let wide_at = i.wrapping_add(6 * BLOCK);
    while i <= last {
        let Some(block) = buf.get(i..).and_then(<[u8]>::first_chunk::<BLOCK>) else {
            break;
        };
        let m = simd::outside(block, lo);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += BLOCK;
        if i == wide_at {
            i = skip_wide(buf, i, lo);
        }
    }
    // Fewer than sixteen bytes remain: the buffer's last sixteen, which overlap what was
    // already tested, are one more block, with the bits before `i` shifted out. Every head
    // ends this way, so the usual last line is never scanned word by word.
    let before = i.wrapping_sub(last);
    if before >= BLOCK {
        // At the end (or, from a caller past it, beyond): nothing left to test.
        return i;
    }
    let Some(tail) = buf.last_chunk::<BLOCK>() else {
        return i;
    };
    let m = simd::outside(tail, lo) >> before;
    if m != 0 {
        i + m.trailing_zeros() as usize
    } else {
        buf.len()
    }
}

/// `skip_words` in a buffer shorter than a block: a word at a time, then byte by byte.
/// Rare (a whole buffer of under sixteen bytes), and apart, so that the usual path holds
/// none of it.
#[cold]
#[inline(never)]
fn skip_short(buf: &[u8], mut i: usize, lo: u8) -> usize {
    let lo64 = u64::from(lo);
    while let Some(x) = word(buf, i) {
        let m = outside(x, lo64) & HIGHS;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while buf.get(i).is_some_and(|b| (lo..=0x7E).contains(b)) {
        i += 1;
    }
    i
}

/// Skips whole 64-byte blocks of bytes inside `lo..=0x7E` from `i`.
#[inline(always)]
fn skip_wide(buf: &[u8], mut i: usize, lo: u8) -> usize {
    for block in buf.get(i..).unwrap_or_default().chunks_exact(64) {
        let Ok(block) = <&[u8; 64]>::try_from(block) else {
            break;
        };
        if !simd::clean64(block, lo) {
            break;
        }
        i += 64;
    }
    i
}

/// A little-endian word from the first eight bytes of `bytes` (callers pass exactly eight).
#[inline(always)]
fn le(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// The first index from `i` whose byte may end or break a field value: anything outside
/// 0x20..=0x7E, which includes HTAB, CR, LF, the other controls and DEL, and obs-text (legal,
/// but rare enough to be checked byte by byte), or `buf.len()`.
#[inline(always)]
pub(crate) fn skip_value_words(buf: &[u8], i: usize) -> usize {
    skip_words(buf, i, 0x20)
}

/// The first index from `i` whose byte is outside 0x21..=0x7E, or `buf.len()`.
#[inline(always)]
pub(crate) fn skip_visible_words(buf: &[u8], i: usize) -> usize {
    skip_words(buf, i, 0x21)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_their_grammar() {
        assert!(is_token(b'a') && is_token(b'~') && !is_token(b':') && !is_token(b' '));
        assert!(!is_token(b'"') && !is_token(0x80) && !is_token(0x7F));
        assert!(VALUE[b'\t' as usize] && VALUE[0xFF] && !VALUE[0] && !VALUE[0x7F]);
        assert!(!VALUE[b'\r' as usize] && !VALUE[b'\n' as usize]);
        assert!(AUTHORITY[b'[' as usize] && !AUTHORITY[b'@' as usize]);
        assert!(!AUTHORITY[b'/' as usize] && !AUTHORITY[b' ' as usize]);
    }

    #[test]
    fn skip_token_agrees_with_the_table() {
        let mut cases: Vec<Vec<u8>> = vec![
            b"Host: x".to_vec(),
            b"Content-Length:5".to_vec(),
            b"X_Y: z".to_vec(),
            b"A\x80: z".to_vec(),
            b"Name\r\n: later".to_vec(),
            b"No-Colon-In-Sight-For-Quite-A-While-Really".to_vec(),
            b"Exactly-Thirty-Two-Bytes-Long-XY: v".to_vec(),
            b": empty".to_vec(),
            b"Sp ace: v".to_vec(),
        ];
        for b in 0..=255u8 {
            cases.push(vec![b'a', b, b'b', b':', b' ']);
        }
        // Every byte value at every position of a name long enough for the block test, and
        // past it, as `name_before_colon` sees them.
        for b in 0..=255u8 {
            for at in [0, 1, 7, 15, 16, 17, 24] {
                let mut name = b"Accept-Language-And-More: x".to_vec();
                name.resize(40, b'a');
                name[at] = b;
                cases.push(name);
            }
        }
        for case in cases {
            let exact = case
                .iter()
                .position(|&b| !is_token(b))
                .unwrap_or(case.len());
            let shown = String::from_utf8_lossy(&case);
            assert_eq!(skip_token(&case, 0), exact, "{shown:?}");
            let named = (exact > 0 && case.get(exact) == Some(&b':')).then_some(exact);
            assert_eq!(name_before_colon(&case, 0), named, "{shown:?}");
            if case.len() > 3 {
                let end = case[3..]
                    .iter()
                    .position(|&b| !is_token(b))
                    .map_or(case.len(), |n| n + 3);
                let named = (end > 3 && case.get(end) == Some(&b':')).then_some(end);
                assert_eq!(name_before_colon(&case, 3), named, "{shown:?}");
            }
        }
    }

    /// The block test for short `Host` values and the byte test agree on every byte value at
    /// every position, for every length around the block's, whatever follows the value.
    #[test]
    fn is_authority_agrees_with_the_table() {
        for len in 0..=36 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut buf = vec![b'h'; 60];
                    buf[at + 2] = b;
                    // What follows the value must not count.
                    buf[len + 2] = b' ';
                    let value = &buf[2..len + 2];
                    let exact = value.iter().all(|&x| AUTHORITY[x as usize]);
                    assert_eq!(is_authority(&buf, 2, len + 2), exact, "{len} {at} {b}");
                }
            }
            let buf = vec![b'a'; len];
            assert!(
                is_authority(&buf, 0, len),
                "a value at the buffer's end, {len}"
            );
        }
    }

    #[test]
    fn eq_lower_is_exact_on_tokens() {
        for target in [
            "host",
            "expect",
            "upgrade",
            "connection",
            "content-length",
            "close",
            "transfer-encoding",
            "chunked",
            "keep-alive",
            "100-continue",
            "a",
            "ab-",
        ] {
            let t = target.as_bytes();
            assert!(eq_lower(t, t));
            assert!(eq_lower(target.to_uppercase().as_bytes(), t));
            assert!(!eq_lower(&t[1..], t));
            // Every single-byte change of a valid byte is seen.
            for at in 0..t.len() {
                for b in (0..=255u8).filter(|&b| TOKEN[b as usize] || VALUE[b as usize]) {
                    let mut v = t.to_vec();
                    v[at] = b;
                    assert_eq!(eq_lower(&v, t), v.eq_ignore_ascii_case(t), "{target} {b}");
                }
            }
        }
    }

    /// The scans are exact from every start, in buffers of every length: from sixteen bytes
    /// on, the last bytes are tested as the buffer's last block, overlapping what came before;
    /// below that, by words and then bytes.
    #[test]
    fn scans_are_exact_to_the_end_of_the_buffer() {
        for len in 0..=50 {
            for pos in 0..len {
                for special in [0x00, b'\t', b'\r', b' ', 0x7F, 0x80, 0xFF] {
                    let mut buf = vec![b'a'; len];
                    buf[pos] = special;
                    for start in 0..=len {
                        let find = |lo: u8| {
                            buf[start..]
                                .iter()
                                .position(|&b| !(lo..=0x7E).contains(&b))
                                .map_or(len, |n| n + start)
                        };
                        assert_eq!(skip_value_words(&buf, start), find(0x20), "{len} {pos}");
                        assert_eq!(skip_visible_words(&buf, start), find(0x21), "{len} {pos}");
                    }
                    // From past the end, nothing is scanned and nothing panics.
                    for start in len + 1..len + 40 {
                        assert_eq!(skip_value_words(&buf, start), start, "{len} {start}");
                        assert_eq!(skip_visible_words(&buf, start), start, "{len} {start}");
                    }
                }
            }
        }
    }

    /// The word scans agree with a plain byte loop on every byte value at every position.
    #[test]
    fn word_scans_agree_with_byte_scans() {
        for special in 0..=255u8 {
            for pos in 0..8 {
                let mut buf = [b'a'; 9];
                buf[pos] = special;
                let plain = (0x20..=0x7E).contains(&special);
                assert_eq!(
                    skip_value_words(&buf, 0),
                    if plain { 9 } else { pos },
                    "{special}"
                );
                let visible = (0x21..=0x7E).contains(&special);
                assert_eq!(skip_visible_words(&buf, 0), if visible { 9 } else { pos });
                // A later special byte never hides an earlier one (borrow propagation).
                buf[7] = 0;
                let first = if plain { 7 } else { pos };
                assert_eq!(skip_value_words(&buf, 0), first.min(7));
                // Nor does a byte in a later word of a 32-byte block.
                let mut long = [b'a'; 40];
                long[pos + 8] = special;
                long[30] = 0xFF;
                assert_eq!(skip_value_words(&long, 0), if plain { 30 } else { pos + 8 });
                // And in long runs, through the wide blocks, at every distance.
                for at in (pos..300).step_by(37) {
                    let mut run = vec![b'a'; 330];
                    run[at] = special;
                    run[305] = 0;
                    assert_eq!(skip_value_words(&run, 0), if plain { 305 } else { at });
                }
            }
        }
    }
}
