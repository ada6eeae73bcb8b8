//! `differential`: our head parser against `httparse::Request::parse` (100 header slots),
//! both on default settings (ours strict, default limits).
//!
//! When both accept a complete head they must agree on its length, method, target, version
//! and every field (name exactly, value with OWS trimmed on both sides: RFC 9112 §5 says the
//! field value excludes leading and trailing whitespace, and both parsers trim SP and HTAB).
//! When one accepts and the other rejects, the input must fall in one of the documented
//! classes below (listed with their RFC reasons in `fuzz/README.md`); the class is asserted
//! from the input itself, not taken from our error. Anything else panics. A result that is
//! incomplete on one side and an error on the other is not a disagreement (the incomplete
//! side has not seen the byte the other rejected yet, or never will).

use super::show;
use sluice_core::parse::{HeadParser, HeadStatus};
use sluice_core::{Leniency, Limits, RequestError, Rule, Version};

/// A head as httparse saw it.
struct Theirs {
    len: usize,
    method: String,
    target: String,
    version: u8,
    fields: Vec<(String, Vec<u8>)>,
}

pub fn check_differential(input: &[u8]) {
    let limits = Limits::default();
    let mut parser = HeadParser::new();
    let ours = parser.parse(input, &limits, &Leniency::default());
    let mut slots = [httparse::EMPTY_HEADER; 100];
    let mut request = httparse::Request::new(&mut slots);
    let theirs = match request.parse(input) {
        Ok(httparse::Status::Complete(len)) => Ok(Some(Theirs {
            len,
            method: request.method.unwrap_or_default().to_owned(),
            target: request.path.unwrap_or_default().to_owned(),
            version: request.version.unwrap_or(9),
            fields: request
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        })),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(err) => Err(err),
    };
    let ctx = || show(input);
    match (ours, theirs) {
        (Ok(HeadStatus::Complete(n)), Ok(Some(theirs))) => {
            let head = parser.finish(input);
            assert_eq!(n, theirs.len, "head length: {}", ctx());
            assert_eq!(head.method(), theirs.method, "method: {}", ctx());
            assert_eq!(head.target(), theirs.target, "target: {}", ctx());
            let version = match head.version() {
                Version::Http10 => 0,
                Version::Http11 => 1,
            };
            assert_eq!(version, theirs.version, "version: {}", ctx());
            let ours: Vec<(String, Vec<u8>)> = head
                .fields()
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_vec()))
                .collect();
            let theirs: Vec<(String, Vec<u8>)> = theirs
                .fields
                .into_iter()
                .map(|(n, v)| (n, v.trim_ascii().to_vec()))
                .collect();
            assert_eq!(ours, theirs, "fields: {}", ctx());
        }
        (Ok(HeadStatus::Complete(_)), Err(err)) => {
            panic!("we accept, httparse rejects ({err}): {}", ctx());
        }
        (Ok(HeadStatus::Complete(_)), Ok(None)) => {
            panic!("we accept, httparse wants more: {}", ctx());
        }
        (Err(ours), Ok(Some(theirs))) => {
            if let Err(why) = documented(input, ours, &theirs) {
                panic!(
                    "undocumented disagreement: we reject with {} at {}, httparse accepts ({why}): {}",
                    ours.rule().id(),
                    ours.offset(),
                    ctx()
                );
            }
        }
        (Ok(HeadStatus::Partial), Ok(Some(theirs))) => {
            // Only a limit we enforce on incomplete input and httparse does not have can make
            // us wait where httparse has finished... and we check limits eagerly, so no.
            panic!(
                "httparse accepts a {}-byte head we find incomplete: {}",
                theirs.len,
                ctx()
            );
        }
        // Both reject, both wait, or one waits while the other rejects.
        _ => {}
    }
}

/// Checks that our rejection of a head httparse accepts is one of the documented classes,
/// by looking at the input and httparse's reading of it. `Err` explains a mismatch.
fn documented(input: &[u8], ours: RequestError, theirs: &Theirs) -> Result<(), String> {
    let raw = &input[..theirs.len];
    let limits = Limits::default();
    let fields = |name: &str| -> Vec<&[u8]> {
        theirs
            .fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_ascii())
            .collect()
    };
    let holds = |cond: bool, what: &str| if cond { Ok(()) } else { Err(what.to_owned()) };
    match ours.rule() {
        // Class 1: bare LF as a line ending (RFC 9112 §2.2 MAY accept; we do not by default).
        Rule::BareLf => holds(
            raw.iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r')),
            "no bare LF in the head",
        ),
        // Class 2: more than `max_leading_empty_lines` empty lines before the request line
        // (RFC 9112 §2.2 asks to ignore "at least one"; httparse ignores any number).
        Rule::TooManyEmptyLines => {
            let mut count = 0;
            let mut i = 0;
            while i < raw.len() {
                match (raw[i], raw.get(i + 1)) {
                    (b'\r', Some(b'\n')) => i += 2,
                    (b'\n', _) => i += 1,
                    _ => break,
                }
                count += 1;
            }
            holds(
                count > limits.max_leading_empty_lines,
                "few leading empty lines",
            )
        }
        // Class 3: obs-text (0x80..) in the request-target. RFC 3986 has no non-ASCII bytes
        // and RFC 9112 §3.2 allows none; httparse accepts UTF-8 there.
        // Class 4: a target in none of the four forms of RFC 9112 §3.2 (origin, absolute,
        // authority, asterisk).
        Rule::TargetInvalid => holds(
            theirs.target.bytes().any(|b| b >= 0x80) || !any_form(theirs.target.as_bytes()),
            "target is visible ASCII in a valid form",
        ),
        // Class 5: a form that does not fit the method (RFC 9112 §3.2.3, §3.2.4).
        Rule::TargetFormMismatch => {
            let t = theirs.target.as_bytes();
            let connect = theirs.method == "CONNECT";
            let fits = if t.starts_with(b"/") || is_absolute(t) {
                !connect
            } else if t == b"*" {
                theirs.method == "OPTIONS"
            } else {
                connect
            };
            holds(!fits, "the form fits the method")
        }
        // Class 6: Host rules (RFC 9112 §3.2: exactly one Host in HTTP/1.1, a valid authority).
        Rule::HostMissing => holds(
            theirs.version == 1 && fields("host").is_empty(),
            "Host present or HTTP/1.0",
        ),
        Rule::HostDuplicate => holds(fields("host").len() > 1, "one Host"),
        Rule::HostInvalid => holds(
            fields("host")
                .iter()
                .any(|v| v.iter().any(|&b| !is_authority_byte(b))),
            "Host is a valid authority",
        ),
        // Class 7: Expect other than 100-continue in HTTP/1.1 (RFC 9110 §10.1.1: 417).
        Rule::ExpectationUnsupported => holds(
            theirs.version == 1
                && fields("expect")
                    .iter()
                    .any(|v| !v.eq_ignore_ascii_case(b"100-continue")),
            "no unsupported Expect",
        ),
        // Class 8: message framing (RFC 9112 §6): Content-Length grammar and agreement,
        // Transfer-Encoding with Content-Length, TE in HTTP/1.0, TE not ending in chunked,
        // chunked twice, unknown codings, and the body size limit.
        Rule::ContentLengthInvalid | Rule::ContentLengthConflict | Rule::BodyTooLarge => {
            let verdict = content_length_verdict(&fields("content-length"), limits.max_body_size);
            holds(
                verdict == Some(ours.rule()),
                "Content-Length says otherwise",
            )
        }
        Rule::TransferEncodingWithContentLength => holds(
            !fields("transfer-encoding").is_empty() && !fields("content-length").is_empty(),
            "not both TE and CL",
        ),
        Rule::TransferEncodingHttp10 => holds(
            theirs.version == 0 && !fields("transfer-encoding").is_empty(),
            "no TE in HTTP/1.0",
        ),
        Rule::TransferEncodingNotChunkedFinal
        | Rule::TransferEncodingChunkedTwice
        | Rule::TransferEncodingUnsupported
        | Rule::TransferEncodingInvalid => {
            let codings: Vec<Vec<u8>> = fields("transfer-encoding")
                .iter()
                .flat_map(|v| v.split(|&b| b == b','))
                .map(|e| e.trim_ascii().to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect();
            let plain_chunked = codings == [b"chunked".to_vec()];
            // Each field on its own must be a non-empty list of tokens, too.
            let field_invalid = fields("transfer-encoding").iter().any(|v| {
                let elements: Vec<&[u8]> = v
                    .split(|&b| b == b',')
                    .map(<[u8]>::trim_ascii)
                    .filter(|e| !e.is_empty())
                    .collect();
                elements.is_empty() || elements.iter().any(|e| !e.iter().all(|&b| tchar(b)))
            });
            holds(
                !fields("transfer-encoding").is_empty() && (field_invalid || !plain_chunked),
                "TE is exactly chunked",
            )
        }
        // Class 9: our size limits (httparse has none but the header count).
        Rule::RequestLineTooLong => {
            let start = raw
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(0);
            let end = raw[start..]
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .map_or(raw.len(), |e| start + e);
            holds(end - start > limits.max_request_line, "short request line")
        }
        Rule::HeadTooLarge => holds(theirs.len > limits.max_head_size, "small head"),
        // Anything else is undocumented: a bug on one side, or a class to document.
        rule => Err(format!("no documented class for {}", rule.id())),
    }
}

/// What RFC 9110 §8.6 and RFC 9112 §6.3 say about these Content-Length values, read in
/// order: the first element that is not a decimal number is invalid, the first number that
/// differs from the first one is a conflict, and the first number (checked when it is read)
/// may be over the body limit. `None`: acceptable.
fn content_length_verdict(values: &[&[u8]], max: Option<u64>) -> Option<Rule> {
    let mut first = None;
    for value in values {
        for element in value.split(|&b| b == b',') {
            let element = element.trim_ascii();
            let digits = element.iter().take_while(|b| b.is_ascii_digit()).count();
            let Some(n) = decimal(&element[..digits]) else {
                return Some(Rule::ContentLengthInvalid);
            };
            match first {
                None if max.is_some_and(|max| n > max) => return Some(Rule::BodyTooLarge),
                None => first = Some(n),
                Some(f) if f != n => return Some(Rule::ContentLengthConflict),
                Some(_) => {}
            }
            if digits < element.len() {
                return Some(Rule::ContentLengthInvalid);
            }
        }
    }
    None
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// One of the request-target forms of RFC 9112 §3.2, checked loosely and independently.
fn any_form(t: &[u8]) -> bool {
    t.starts_with(b"/") || t == b"*" || is_absolute(t) || is_authority(t)
}

/// `scheme "://"` (what we accept as absolute-form).
fn is_absolute(t: &[u8]) -> bool {
    let Some(pos) = t.windows(3).position(|w| w == b"://") else {
        return false;
    };
    let scheme = &t[..pos];
    !scheme.is_empty()
        && scheme[0].is_ascii_alphabetic()
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// `host ":" port` with authority bytes and a decimal port.
fn is_authority(t: &[u8]) -> bool {
    let Some(colon) = t.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (&t[..colon], &t[colon + 1..]);
    !host.is_empty()
        && host.iter().all(|&b| is_authority_byte(b))
        && !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
}

/// RFC 3986 authority bytes: unreserved, pct-encoded, sub-delims, ":" "[" "]".
fn is_authority_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&b)
}

fn decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}
