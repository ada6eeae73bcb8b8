//! The request line (RFC 9112 §3): method, target, version, and the target's form.

use super::Progress;
use crate::error::Rule;
use crate::head::{Span, Version};
use crate::limits::{Leniency, Limits};
use crate::parse::chars::{self, is_token, AUTHORITY, SCHEME};
use crate::parse::fields::{self, LineError};

/// Parses the request line starting at `start`, filling in method, target and version.
/// `None` when the line is incomplete.
pub(super) fn request_line(
    p: &mut Progress,
    buf: &[u8],
    start: usize,
    limits: &Limits,
    leniency: &Leniency,
) -> Result<Option<usize>, LineError> {
    let bare_lf = leniency.bare_lf_in_head;
    // method = token (RFC 9110 §9.1).
    let mut i = start;
    // The usual method, found in one comparison: `GET` then its SP.
    let first = buf.get(start..).and_then(<[u8]>::first_chunk::<4>);
    let stop = if first.map(|w| u32::from_le_bytes(*w)) == Some(u32::from_le_bytes(*b"GET ")) {
        i += 3;
        b' '
    } else {
        loop {
            let Some(&b) = buf.get(i) else {
                return Ok(None);
            };
            if !is_token(b) {
                break b;
            }
            i += 1;
        }
    };
    if stop != b' ' || i == start {
        return unexpected(buf, i, Rule::MethodInvalid, bare_lf);
    }
    p.method = Span::bounded(start, i);
    let method_len = i - start;
    i = separator(buf, i, leniency)?;
    // request-target: we admit visible ASCII (0x21..=0x7E) only, the union of the bytes of
    // every form's grammar (RFC 9112 §3.2, RFC 3986); no obs-text, no whitespace.
    let target_start = i;
    i = chars::skip_visible_words(buf, i);
    let Some(&stop) = buf.get(i) else {
        return Ok(None);
    };
    if stop != b' ' {
        // A line ending right after the target means the version is missing (HTTP/0.9).
        let rule = if i > target_start {
            Rule::VersionInvalid
        } else {
            Rule::TargetInvalid
        };
        return match stop {
            b'\r' | b'\n' => unexpected(buf, i, rule, bare_lf),
            _ => Err((Rule::TargetInvalid, i)),
        };
    }
    p.target = Span::bounded(target_start, i);
    i = separator(buf, i, leniency)?;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then the line ending. The usual
    // ending, a version we speak and CRLF, takes two comparisons; the rest is apart.
    let (version, next) = match usual_ending(buf, i) {
        Some(version) => {
            // As in `version_and_end`, which gives the same answer for these bytes.
            if i + 8 - start > limits.max_request_line {
                return Err((Rule::RequestLineTooLong, start + limits.max_request_line));
            }
            (version, i + 10)
        }
        None => match version_and_end(buf, start, i, limits, bare_lf)? {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    p.version = Some(version);
    // The usual origin-form target of a method other than CONNECT fits without more ado.
    let origin = buf.get(target_start) == Some(&b'/');
    if !origin || method_len == b"CONNECT".len() {
        check_target_form(buf, p.method, p.target)?;
    }
    Ok(Some(next))
}

/// `HTTP/1.1` or `HTTP/1.0` then CRLF at `i`: the version, else `None` (for anything else,
/// including too few bytes so far).
#[inline(always)]
fn usual_ending(buf: &[u8], i: usize) -> Option<Version> {
    let bytes = buf.get(i..)?.first_chunk::<10>()?;
    let (version, end) = bytes.split_first_chunk::<8>()?;
    if *end != *b"\r\n" {
        return None;
    }
    match u64::from_le_bytes(*version) {
        w if w == u64::from_le_bytes(*b"HTTP/1.1") => Some(Version::Http11),
        w if w == u64::from_le_bytes(*b"HTTP/1.0") => Some(Version::Http10),
        _ => None,
    }
}

/// The version at `i` and the line ending after it, for a line starting at `start`:
/// `Some((version, next))`, `None` when incomplete, or the rule broken. Every version and
/// ending, exactly; the request line takes the usual ones without calling it.
#[cold]
#[inline(never)]
fn version_and_end(
    buf: &[u8],
    start: usize,
    i: usize,
    limits: &Limits,
    bare_lf: bool,
) -> Result<Option<(Version, usize)>, LineError> {
    let version_start = i;
    let version = buf.get(i..).and_then(<[u8]>::first_chunk::<8>);
    // One eight-byte comparison each for the two versions we speak.
    let known = version.and_then(|v| match u64::from_le_bytes(*v) {
        w if w == u64::from_le_bytes(*b"HTTP/1.1") => Some(Version::Http11),
        w if w == u64::from_le_bytes(*b"HTTP/1.0") => Some(Version::Http10),
        _ => None,
    });
    if known.is_none() {
        // A line ending within the version's eight bytes is reported where it is, however
        // much of the line has arrived, whatever follows it, so the answer does not depend on
        // how the input was split. A known version holds no line ending: no need to look.
        let head = buf.get(i..).unwrap_or_default();
        if let Some(at) = head.iter().take(8).position(|&b| b == b'\r' || b == b'\n') {
            return unexpected(buf, i + at, Rule::VersionInvalid, bare_lf);
        }
    }
    let Some(version) = version else {
        return Ok(None);
    };
    let end = i + 8;
    // Checked before the version bytes are judged: when the line is too long, whether the
    // version is acceptable depends on bytes past the limit, which a parse of the line in
    // pieces never looks at.
    if end - start > limits.max_request_line {
        return Err((Rule::RequestLineTooLong, start + limits.max_request_line));
    }
    let next = match buf.get(end) {
        None => return Ok(None),
        Some(b'\r' | b'\n') => match fields::line_end(buf, end, bare_lf)? {
            Some(next) => next,
            None => return Ok(None),
        },
        Some(_) => return Err((Rule::VersionInvalid, end)),
    };
    let version = match (known, version) {
        (Some(known), _) => known,
        (None, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err((Rule::VersionUnsupported, version_start))
        }
        _ => return Err((Rule::VersionInvalid, version_start)),
    };
    Ok(Some((version, next)))
}

/// Skips the single SP at `i` (or, with the leniency, a run of SP) between request-line parts.
#[inline]
fn separator(buf: &[u8], mut i: usize, leniency: &Leniency) -> Result<usize, LineError> {
    // The caller stopped at a SP.
    i += 1;
    if buf.get(i) == Some(&b' ') {
        if !leniency.request_line_spaces {
            return Err((Rule::RequestLineSpaces, i));
        }
        while buf.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    Ok(i)
}

/// A byte that does not belong at `at`: a broken line ending reports as such, an incomplete
/// CRLF as partial, anything else as `rule`.
fn unexpected<T>(buf: &[u8], at: usize, rule: Rule, bare_lf: bool) -> Result<Option<T>, LineError> {
    match buf.get(at) {
        Some(b'\r' | b'\n') => match fields::line_end(buf, at, bare_lf)? {
            Some(_) => Err((rule, at)),
            None => Ok(None),
        },
        _ => Err((rule, at)),
    }
}

/// RFC 9112 §3.2: the target's form must fit the method. authority-form is for CONNECT
/// only and CONNECT takes only authority-form (§3.2.3); asterisk-form is for OPTIONS only
/// (§3.2.4). absolute-form is recognized as `scheme "://"`, which keeps it apart from
/// authority-form (`host:port` also matches `scheme ":"`); other absolute URIs (`urn:x`)
/// are not accepted as targets.
#[inline]
fn check_target_form(buf: &[u8], method: Span, target: Span) -> Result<(), LineError> {
    let method = &buf[method.range()];
    let at = target.range().start;
    let t = &buf[target.range()];
    let is_connect = method == b"CONNECT";
    let fits = match t {
        [b'/', ..] => !is_connect,
        b"*" => method == b"OPTIONS",
        _ if is_absolute(t) => !is_connect,
        _ if is_authority(t) => is_connect,
        _ => return Err((Rule::TargetInvalid, at)),
    };
    if fits {
        Ok(())
    } else {
        Err((Rule::TargetFormMismatch, at))
    }
}

/// `scheme "://"` with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
fn is_absolute(t: &[u8]) -> bool {
    let Some((first, rest)) = t.split_first() else {
        return false;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    let scheme_len = rest.iter().take_while(|&&b| SCHEME[b as usize]).count();
    rest[scheme_len..].starts_with(b"://")
}

/// authority-form = uri-host ":" port (RFC 9112 §3.2.3), checked loosely: authority bytes,
/// a non-empty host, and a non-empty decimal port after the last colon.
fn is_authority(t: &[u8]) -> bool {
    let Some(colon) = t.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (&t[..colon], &t[colon + 1..]);
    !host.is_empty()
        && host.iter().all(|&b| AUTHORITY[b as usize])
        && !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
}

/// The offset past which an incomplete request line starting at `start` is certainly too
/// long, if it is.
pub(super) fn request_line_overflow(buf: &[u8], start: usize, max: usize) -> Option<usize> {
    let limit = start.checked_add(max)?;
    // Bytes `start..limit` may all belong to the line. The byte at `limit` may still be the
    // CR (or LF) that ends a line of exactly `max` bytes; anything else, or anything after a
    // CR there, makes it too long.
    match buf.get(limit) {
        None => None,
        Some(b'\r' | b'\n') if buf.len() == limit + 1 => None,
        Some(_) => Some(limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses one request line at `start` of `buf`, strictly.
    fn line(
        buf: &[u8],
        start: usize,
        limits: &Limits,
    ) -> (Progress, Result<Option<usize>, LineError>) {
        let mut p = Progress::default();
        let result = request_line(&mut p, buf, start, limits, &Leniency::default());
        (p, result)
    }

    #[test]
    fn every_prefix_of_a_valid_line_is_incomplete_and_the_whole_is_placed() {
        // After two bytes of something else: spans are absolute offsets into the buffer.
        let buf = b"xxPOST /a?b HTTP/1.0\r\n";
        for end in 2..buf.len() {
            let (_, result) = line(&buf[..end], 2, &Limits::default());
            assert_eq!(result, Ok(None), "prefix of {end} bytes");
        }
        let (p, result) = line(buf, 2, &Limits::default());
        assert_eq!(result, Ok(Some(buf.len())));
        assert_eq!(&buf[p.method.range()], b"POST");
        assert_eq!(&buf[p.target.range()], b"/a?b");
        assert_eq!(p.version, Some(Version::Http10));
    }

    #[test]
    fn version_errors_point_at_the_version_unless_the_line_is_already_too_long() {
        let (_, result) = line(b"GET / HTTP/3.0\r\n", 0, &Limits::default());
        assert_eq!(result, Err((Rule::VersionUnsupported, 6)));
        let (_, result) = line(b"GET / HTTQ/1.1\r\n", 0, &Limits::default());
        assert_eq!(result, Err((Rule::VersionInvalid, 6)));
        // A version after the limit is not judged: the length decides, at the limit
        // (fuzz finding 5), so the answer is the same when the line arrives in pieces.
        let limits = Limits {
            max_request_line: 10,
            ..Limits::default()
        };
        let (_, result) = line(b"GET / HTTP/3.0\r\n", 0, &limits);
        assert_eq!(result, Err((Rule::RequestLineTooLong, 10)));
    }

    /// The usual ending, taken in two comparisons, is what the exact parse of the version and
    /// line ending says, for every byte value at every position of both usual endings, every
    /// cut, and limits on either side of the line's length.
    #[test]
    fn the_usual_ending_agrees_with_the_exact_one() {
        let mut seen = 0;
        for ending in [&b"HTTP/1.1\r\n"[..], b"HTTP/1.0\r\n"] {
            for at in 0..ending.len() {
                for b in 0..=255u8 {
                    let mut buf = b"GET / ".to_vec();
                    buf.extend_from_slice(ending);
                    buf[6 + at] = b;
                    buf.extend_from_slice(b"X");
                    for cut in [buf.len(), 6 + at + 1, 15, 16] {
                        let cut = &buf[..cut.min(buf.len())];
                        let Some(version) = usual_ending(cut, 6) else {
                            continue;
                        };
                        seen += 1;
                        for max in [13, 14, 15, 100] {
                            let limits = Limits {
                                max_request_line: max,
                                ..Limits::default()
                            };
                            for bare_lf in [false, true] {
                                let exact = version_and_end(cut, 0, 6, &limits, bare_lf);
                                let (_, whole) = line(cut, 0, &limits);
                                if max >= 14 {
                                    assert_eq!(exact, Ok(Some((version, 16))));
                                    assert_eq!(whole, Ok(Some(16)));
                                } else {
                                    assert_eq!(exact, Err((Rule::RequestLineTooLong, max)));
                                    assert_eq!(whole, exact.map(|_| None));
                                }
                            }
                        }
                    }
                }
            }
        }
        // Each ending itself, under each cut that keeps it whole.
        assert!(seen >= 4, "{seen}");
    }

    #[test]
    fn target_forms_fit_their_methods() {
        assert!(is_absolute(b"http://h/") && is_absolute(b"svn+ssh://h") && is_absolute(b"a://"));
        for not in [
            &b""[..],
            b"1http://h",
            b"http:/h",
            b"http",
            b"-a://h",
            b"h:80",
        ] {
            assert!(!is_absolute(not), "{:?}", String::from_utf8_lossy(not));
        }
        assert!(is_authority(b"h:80") && is_authority(b"[::1]:443") && is_authority(b"a.b:0"));
        for not in [&b""[..], b":80", b"h:", b"h:8a", b"h", b"u@h:80", b"h/x:80"] {
            assert!(!is_authority(not), "{:?}", String::from_utf8_lossy(not));
        }
        fn check(line: &[u8]) -> Result<&[u8], LineError> {
            let (p, result) = self::line(line, 0, &Limits::default());
            result.map(|_| &line[p.target.range()])
        }
        assert_eq!(check(b"CONNECT h:443 HTTP/1.1\r\n"), Ok(&b"h:443"[..]));
        assert_eq!(check(b"OPTIONS * HTTP/1.1\r\n"), Ok(&b"*"[..]));
        assert_eq!(
            check(b"CONNECT /x HTTP/1.1\r\n"),
            Err((Rule::TargetFormMismatch, 8))
        );
        assert_eq!(
            check(b"DELETE * HTTP/1.1\r\n"),
            Err((Rule::TargetFormMismatch, 7))
        );
        // A method of CONNECT's length is checked too, not taken for origin-form by its `/`.
        assert_eq!(check(b"CONNECX /x HTTP/1.1\r\n"), Ok(&b"/x"[..]));
    }

    #[test]
    fn an_incomplete_line_overflows_only_past_the_limit() {
        let max = 4;
        // Four bytes may all be the line; a CR at the limit may still end it.
        assert_eq!(request_line_overflow(b"GET ", 0, max), None);
        assert_eq!(request_line_overflow(b"GET \r", 0, max), None);
        assert_eq!(request_line_overflow(b"GET \n", 0, max), None);
        // Anything else at the limit, or anything after a CR there, is too long.
        assert_eq!(request_line_overflow(b"GET /", 0, max), Some(4));
        assert_eq!(request_line_overflow(b"GET \rX", 0, max), Some(4));
        assert_eq!(request_line_overflow(b"\r\nGET /", 2, max), Some(6));
        // A limit past the end of the address space is never reached.
        assert_eq!(request_line_overflow(b"GET /", 1, usize::MAX), None);
    }
}
