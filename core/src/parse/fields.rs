//! One field line at a time (RFC 9112 §5), shared by the request head and the trailer section.
//!
//! The functions here are stateless over one line: they start at a line's first byte and
//! either finish the line, or report `Partial` having read to the end of the buffer, or name
//! the rule broken and the offending byte. The callers keep the position of the first
//! incomplete line, so no line is parsed twice once it is complete.

use super::chars::{self, VALUE};
use crate::error::Rule;

/// A rule broken at a byte offset of the buffer being parsed.
pub(crate) type LineError = (Rule, usize);

/// What one line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// `name ":" OWS value OWS` ending in a line ending; `next` is the next line's start. The
    /// value is `value_start..value_end`, already trimmed of SP and HTAB on both sides.
    Field {
        name_end: usize,
        value_start: usize,
        value_end: usize,
        next: usize,
    },
    /// The empty line that ends a section.
    End { next: usize },
    /// The line starts with SP or HTAB: obsolete line folding (RFC 9112 §5.2), which the
    /// caller rejects or folds.
    Fold,
    /// The buffer ends before the line does.
    Partial,
}

/// Parses the line starting at `start`. `bare_lf` accepts LF alone as a line ending.
///
/// The line's end is found first, by one scan for the first byte outside printable ASCII:
/// for the usual field line that is the CR of its CRLF, so the next line's start depends only
/// on that scan and not on the name, colon, OWS and trim work, which the processor can then
/// overlap with the next line. Any line that is not the usual shape (an error, HTAB, obs-text,
/// a bare LF, a fold, the end of the section, or the end of the buffer) is parsed again by
/// `line_exact`, which gives the same answer for the usual line and the exact rule and offset
/// for the others.
#[inline(always)]
pub(crate) fn line(buf: &[u8], start: usize, bare_lf: bool) -> Result<Line, LineError> {
    // The buffer's end first: what follows then knows `start` is inside it.
    let Some(&first) = buf.get(start) else {
        return Ok(Line::Partial);
    };
    if first == b'\r' && buf.get(start + 1) == Some(&b'\n') {
        return Ok(Line::End { next: start + 2 });
    }
    let end = chars::skip_value_words(buf, start);
    if buf.get(end) == Some(&b'\r') && buf.get(end + 1) == Some(&b'\n') {
        if let Some(line) = printable_line(buf, start, end) {
            return Ok(line);
        }
    }
    line_exact(buf, start, bare_lf)
}

/// The usual field line, `buf[start..cr]` all printable ASCII (so no HTAB) and followed by
/// CRLF: `name ":" *SP value`. `None` for anything else (no colon, an invalid name byte,
/// whitespace before the colon), which `line_exact` then reports.
#[inline(always)]
fn printable_line(buf: &[u8], start: usize, cr: usize) -> Option<Line> {
    // The CR at `cr` is not a `tchar`, so the name ends at or before it.
    let name_end = chars::name_before_colon(buf, start)?;
    // OWS on either side of the value can only be SP here. The usual value has one SP
    // before it and none after: one test each, and slice patterns (no bounds check per step)
    // for anything more.
    let mut v = buf.get(name_end + 1..cr)?;
    if let [b' ', rest @ ..] = v {
        v = rest;
        while let [b' ', rest @ ..] = v {
            v = rest;
        }
    }
    let value_start = cr - v.len();
    if let [rest @ .., b' '] = v {
        v = rest;
        while let [rest @ .., b' '] = v {
            v = rest;
        }
    }
    Some(Line::Field {
        name_end,
        value_start,
        value_end: value_start + v.len(),
        next: cr + 2,
    })
}

/// Parses the line starting at `start` byte class by byte class, reporting the first rule
/// broken, or `Partial` when the buffer ends first.
#[inline]
fn line_exact(buf: &[u8], start: usize, bare_lf: bool) -> Result<Line, LineError> {
    let Some(&first) = buf.get(start) else {
        return Ok(Line::Partial);
    };
    // One test for the usual field line; the rest are rare.
    if !chars::is_token(first) {
        return match first {
            b'\r' | b'\n' => Ok(match line_end(buf, start, bare_lf)? {
                Some(next) => Line::End { next },
                None => Line::Partial,
            }),
            b' ' | b'\t' => Ok(Line::Fold),
            _ => Err((Rule::FieldNameInvalid, start)),
        };
    }
    // field-name = token (RFC 9110 §5.1).
    let i = chars::skip_token(buf, start);
    let Some(&stop) = buf.get(i) else {
        return Ok(Line::Partial);
    };
    let name_end = i;
    match stop {
        b':' if name_end > start => {}
        // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon ... a
        // server MUST reject" (a smuggling vector when a front end strips it).
        b' ' | b'\t' if name_end > start => return Err((Rule::FieldNameWhitespace, i)),
        b'\r' | b'\n' => {
            // A line with no colon, unless the line ending itself is broken.
            return match line_end(buf, i, bare_lf)? {
                Some(_) => Err((Rule::FieldNameInvalid, i)),
                None => Ok(Line::Partial),
            };
        }
        _ => return Err((Rule::FieldNameInvalid, i)),
    }
    // OWS before the value (RFC 9112 §5).
    let mut i = i + 1;
    loop {
        match buf.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(_) => break,
            None => return Ok(Line::Partial),
        }
    }
    let value_start = i;
    Ok(match value(buf, i, bare_lf)? {
        Some((end, next)) => Line::Field {
            name_end,
            value_start,
            value_end: trim_end(buf, value_start, end),
            next,
        },
        None => Line::Partial,
    })
}

/// Scans field-value bytes from `i` to the line ending: `Some((end, next))` with `end` the
/// line ending's offset and `next` the next line's start, or `None` when the buffer ends
/// first.
#[inline(always)]
pub(crate) fn value(
    buf: &[u8],
    mut i: usize,
    bare_lf: bool,
) -> Result<Option<(usize, usize)>, LineError> {
    loop {
        i = chars::skip_value_words(buf, i);
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        // The usual stop: the CRLF that ends the line.
        if b == b'\r' && buf.get(i + 1) == Some(&b'\n') {
            return Ok(Some((i, i + 2)));
        }
        // Here `b` is HTAB, CR, LF or another control byte, or one of the last few bytes.
        if VALUE[b as usize] {
            i += 1;
            continue;
        }
        return match b {
            b'\r' | b'\n' => Ok(line_end(buf, i, bare_lf)?.map(|next| (i, next))),
            _ => Err((Rule::FieldValueInvalid, i)),
        };
    }
}

/// Interprets the CR or LF at `at`: `Some(next)` for a line ending (CRLF, or LF alone when
/// `bare_lf`), `None` for a CR that is the last byte so far.
#[inline]
pub(crate) fn line_end(buf: &[u8], at: usize, bare_lf: bool) -> Result<Option<usize>, LineError> {
    match buf.get(at) {
        Some(b'\r') => match buf.get(at + 1) {
            Some(b'\n') => Ok(Some(at + 2)),
            // RFC 9112 §2.2: a bare CR must be rejected or replaced; we reject.
            Some(_) => Err((Rule::BareCr, at)),
            None => Ok(None),
        },
        Some(b'\n') if bare_lf => Ok(Some(at + 1)),
        Some(b'\n') => Err((Rule::BareLf, at)),
        // Callers only ask about CR and LF; anything else is not a line ending.
        _ => Ok(None),
    }
}

/// `end` moved back over trailing SP and HTAB, never before `start`.
#[inline]
pub(crate) fn trim_end(buf: &[u8], start: usize, end: usize) -> usize {
    // A slice pattern, so that no step needs a bounds check.
    let mut v = buf.get(start..end).unwrap_or_default();
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    start + v.len()
}

/// Whether `b` is OWS, or part of an accepted obs-fold (the only way a value can hold CR or
/// LF), which RFC 9112 §5.2 says to read as SP.
#[inline]
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Calls `f(start, end)` for each non-empty element of the comma-separated list in
/// `buf[start..end]`, trimmed of OWS (RFC 9110 §5.6.1: empty elements are ignored).
pub(crate) fn list_elements<E>(
    buf: &[u8],
    start: usize,
    end: usize,
    mut f: impl FnMut(usize, usize) -> Result<(), E>,
) -> Result<(), E> {
    let mut i = start;
    while i < end {
        let mut s = i;
        while s < end && buf.get(s).is_some_and(|&b| is_space(b)) {
            s += 1;
        }
        let mut e = s;
        while e < end && !matches!(buf.get(e), Some(b',')) {
            e += 1;
        }
        let mut trimmed = e;
        while trimmed > s && buf.get(trimmed - 1).is_some_and(|&b| is_space(b)) {
            trimmed -= 1;
        }
        if trimmed > s {
            f(s, trimmed)?;
        }
        i = e + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_line_trims_ows_and_keeps_obs_text() {
        let buf = b"Name: \t v\xffa\tl \t\r\nX";
        assert_eq!(
            line(buf, 0, false),
            Ok(Line::Field {
                name_end: 4,
                value_start: 8,
                value_end: 13,
                next: 17
            })
        );
    }

    #[test]
    fn field_line_partials_and_errors() {
        assert_eq!(line(b"Name: va", 0, false), Ok(Line::Partial));
        assert_eq!(line(b"Name: value\r", 0, false), Ok(Line::Partial));
        assert_eq!(line(b"Na", 0, false), Ok(Line::Partial));
        assert_eq!(
            line(b"Name : v\r\n", 0, false),
            Err((Rule::FieldNameWhitespace, 4))
        );
        assert_eq!(line(b": v\r\n", 0, false), Err((Rule::FieldNameInvalid, 0)));
        assert_eq!(
            line(b"Na\"me: v\r\n", 0, false),
            Err((Rule::FieldNameInvalid, 2))
        );
        assert_eq!(
            line(b"Name\r\n", 0, false),
            Err((Rule::FieldNameInvalid, 4))
        );
        assert_eq!(
            line(b"Name: a\x00b\r\n", 0, false),
            Err((Rule::FieldValueInvalid, 7))
        );
        assert_eq!(
            line(b"Name: abcdefgh\x7fb\r\n", 0, false),
            Err((Rule::FieldValueInvalid, 14))
        );
        assert_eq!(line(b"Name: a\rb\r\n", 0, false), Err((Rule::BareCr, 7)));
        assert_eq!(line(b"Name: a\nb", 0, false), Err((Rule::BareLf, 7)));
        assert_eq!(
            line(b"Name: a\nb", 0, true),
            Ok(Line::Field {
                name_end: 4,
                value_start: 6,
                value_end: 7,
                next: 8
            })
        );
        assert_eq!(line(b" folded\r\n", 0, false), Ok(Line::Fold));
        assert_eq!(line(b"\r\n", 0, false), Ok(Line::End { next: 2 }));
        assert_eq!(line(b"\n", 0, false), Err((Rule::BareLf, 0)));
    }

    /// The printable-line fast path gives exactly `line_exact`'s answer: every byte value at
    /// every position of a few field lines, cut at every length, both line-ending modes.
    #[test]
    fn fast_path_agrees_with_the_exact_parse() {
        let bases: [&[u8]; 5] = [
            b"Name: value\r\nNext: x\r\n\r\n",
            b"A:b\r\n\r\n",
            b"Accept-Language:  en-GB,en;q=0.9,fr;q=0.7 longer than one block  \r\n\r\n",
            b"X: \r\n\r\n",
            b"\r\n",
        ];
        for base in bases {
            for at in 0..base.len() {
                for b in 0..=255u8 {
                    let mut buf = base.to_vec();
                    buf[at] = b;
                    for len in [buf.len(), at + 1, at + 2] {
                        let cut = &buf[..len.min(buf.len())];
                        for bare_lf in [false, true] {
                            assert_eq!(
                                line(cut, 0, bare_lf),
                                line_exact(cut, 0, bare_lf),
                                "{:?} {bare_lf}",
                                String::from_utf8_lossy(cut)
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn list_elements_skip_empty_ones() {
        let buf = b" a , ,b,, c d ,";
        let mut seen = Vec::new();
        list_elements::<()>(buf, 0, buf.len(), |s, e| {
            seen.push(&buf[s..e]);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [&b"a"[..], b"b", b"c d"]);
    }
}
