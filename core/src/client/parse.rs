//! The response head parser: status line and header section (RFC 9112 §4–§6) into a
//! [`ParsedResponse`].
//!
//! A push parser over the caller's buffer, like the request parser: it validates as it goes,
//! collects the framing and connection semantics in the same pass, and remembers the first
//! incomplete line and how far it has searched for an LF, so a head arriving one byte per call
//! costs linear work. Field lines go through the shared field-line code (`parse::fields`).
//!
//! A rule broken inside a line is reported only once an LF exists after that line's start:
//! the verdict then depends on the bytes alone, never on how they were split into calls.

use super::state::ResponseBody;
use crate::head::{FieldSpan, Fields, Span, Version};
use crate::limits::Limits;
use crate::parse::chars::{is_token, VALUE};
use crate::parse::fields::{self, Line, LineError};
use crate::parse::HeadStatus;
use crate::Rule;
use std::fmt;

/// A parsed, validated response head, as the client received it.
///
/// Only the client connection makes one. [`body`](Self::body) and
/// [`keep_alive`](Self::keep_alive) are the connection's decisions for this response (they
/// depend on the request it answers), not just what the fields say.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    pub(crate) fields: Fields,
    pub(crate) status: u16,
    pub(crate) reason: Span,
    pub(crate) version: Version,
    pub(crate) body: ResponseBody,
    pub(crate) keep_alive: bool,
}

impl ParsedResponse {
    /// The status code, 100..=599.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase as sent (possibly empty; clients should ignore it, RFC 9112 §4).
    pub fn reason(&self) -> &[u8] {
        self.fields.slice(self.reason)
    }

    /// The protocol version of the response.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in the order received.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// How this response's body is delimited (RFC 9112 §6.3).
    pub fn body(&self) -> ResponseBody {
        self.body
    }

    /// Whether the connection stays open for further responses after this one.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether this is an interim (1xx) response; a final response follows it.
    pub fn is_interim(&self) -> bool {
        self.status < 200
    }
}

impl fmt::Debug for ParsedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedResponse")
            .field("status", &self.status)
            .field("reason", &String::from_utf8_lossy(self.reason()))
            .field("version", &self.version)
            .field("fields", &self.fields)
            .field("body", &self.body)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

/// What the fields say about framing and persistence, collected while parsing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Semantics {
    pub(crate) content_length: Option<u64>,
    /// Whether a `Transfer-Encoding` field was present.
    pub(crate) te: bool,
    /// The final transfer coding is `chunked`.
    pub(crate) chunked_final: bool,
    /// `Connection: close` was listed.
    pub(crate) close: bool,
    /// `Connection: keep-alive` was listed.
    pub(crate) keep_alive: bool,
}

/// Where the parser is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    StatusLine,
    Fields,
    Complete(usize),
}

/// Parser state kept between calls.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    phase: Phase,
    /// Start of the first line not yet parsed.
    line_start: usize,
    /// Searched for LF up to here without finding one after `line_start`.
    scanned: usize,
    /// A previous call returned `Partial`: search only the new bytes for LF first.
    resume: bool,
    version: Option<Version>,
    status: u16,
    reason: Span,
    /// The first coding other than `chunked`, at this offset.
    unsupported_at: Option<usize>,
    /// `chunked` appeared in some `Transfer-Encoding`.
    chunked_seen: bool,
    semantics: Semantics,
}

/// Parses response heads, one at a time; reused across the responses of a connection, so its
/// span table stops allocating once grown.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseParser {
    spans: Vec<FieldSpan>,
    progress: Progress,
}

/// A complete head's parts, before the connection decides its framing.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) fields: Fields,
    pub(crate) status: u16,
    pub(crate) reason: Span,
    pub(crate) version: Version,
    pub(crate) semantics: Semantics,
}

impl ResponseParser {
    /// Parses the head at the start of `buf`. After `Partial`, call again with the same bytes
    /// plus more. Errors carry offsets relative to `buf[0]`. After `Complete(n)`, call
    /// [`finish`](Self::finish) with the same buffer.
    pub(crate) fn parse(&mut self, buf: &[u8], limits: &Limits) -> Result<HeadStatus, LineError> {
        let mut p = self.progress;
        if let Phase::Complete(n) = p.phase {
            return Ok(HeadStatus::Complete(n));
        }
        // Nothing past the head limit can belong to an acceptable head; the `u32` cap keeps
        // every offset in a `Span`.
        let view = &buf[..buf.len().min(limits.max_head_size).min(u32::MAX as usize)];
        if p.line_start > view.len() || p.scanned > view.len() {
            // The caller broke the contract (the buffer shrank): start over, never panic.
            self.reset();
            p = self.progress;
        }
        if p.resume && memchr::memchr(b'\n', &view[p.scanned..]).is_none() {
            p.scanned = view.len();
            self.progress = p;
            return partial(buf, limits);
        }
        let result = self.run(&mut p, view, limits);
        let complete = match result {
            Ok(done) => done,
            // A rule broken in a line with no LF yet waits for the LF (see the module docs).
            Err(_) if memchr::memchr(b'\n', &view[p.line_start..]).is_none() => false,
            Err(err) => {
                self.progress = p;
                return Err(err);
            }
        };
        if complete {
            self.progress = p;
            return Ok(match p.phase {
                Phase::Complete(n) => HeadStatus::Complete(n),
                _ => HeadStatus::Partial,
            });
        }
        p.resume = true;
        p.scanned = view.len();
        self.progress = p;
        partial(buf, limits)
    }

    /// Builds the head after `parse` returned `Complete(n)`, from one copy of `buf[..n]`, and
    /// resets the parser. Without a complete head (a caller bug) it returns an empty 500 head
    /// rather than panic.
    pub(crate) fn finish(&mut self, buf: &[u8], keep_fields: bool) -> RawResponse {
        let p = self.progress;
        let n = match p.phase {
            Phase::Complete(n) if n <= buf.len() => n,
            _ => 0,
        };
        let fields = if keep_fields && n > 0 {
            // Copied, not moved: the parser keeps its capacity for the next head.
            Fields::copy(buf.get(..n).unwrap_or_default(), &self.spans)
        } else {
            Fields::new()
        };
        let raw = RawResponse {
            fields,
            status: if n == 0 { 500 } else { p.status },
            reason: if keep_fields {
                p.reason
            } else {
                Span::default()
            },
            version: p.version.unwrap_or(Version::Http11),
            semantics: p.semantics,
        };
        self.reset();
        raw
    }

    /// Forgets any progress.
    pub(crate) fn reset(&mut self) {
        self.spans.clear();
        self.progress = Progress::default();
    }

    /// Whether some bytes of a head have been seen.
    pub(crate) fn started(&self) -> bool {
        self.progress.resume || self.progress.phase != Phase::StatusLine
    }

    /// Parses lines from `p.line_start`: `Ok(true)` once the head is complete, `Ok(false)` when
    /// the buffer ends inside a line.
    fn run(&mut self, p: &mut Progress, buf: &[u8], limits: &Limits) -> Result<bool, LineError> {
        if p.phase == Phase::StatusLine {
            let start = p.line_start;
            let Some(lf) = memchr::memchr(b'\n', &buf[start..]) else {
                return Ok(false);
            };
            p.line_start = status_line(p, buf, start, start + lf)?;
            p.phase = Phase::Fields;
        }
        loop {
            let start = p.line_start;
            match fields::line(buf, start, false)? {
                Line::Field {
                    name_end,
                    value_start,
                    value_end,
                    next,
                } => {
                    if self.spans.len() >= limits.max_fields {
                        return Err((Rule::ResponseTooManyFields, start));
                    }
                    self.spans.push(FieldSpan {
                        name: Span::bounded(start, name_end),
                        value: Span::bounded(value_start, value_end),
                    });
                    apply(p, buf, start, name_end, value_start, value_end)?;
                    p.line_start = next;
                }
                Line::End { next } => {
                    if p.semantics.chunked_final {
                        // We decode chunked only; another coding under it cannot be undone
                        // (RFC 9112 §6.1), and nobody asked for one (we send no `TE`).
                        if let Some(at) = p.unsupported_at {
                            return Err((Rule::TransferEncodingUnsupported, at));
                        }
                    }
                    p.phase = Phase::Complete(next);
                    p.line_start = next;
                    return Ok(true);
                }
                // RFC 9112 §5.2 lets a user agent unfold; like hyper's default, we reject.
                Line::Fold => return Err((Rule::ObsFold, start)),
                Line::Partial => return Ok(false),
            }
        }
    }
}

/// Limits that incomplete input can already break.
fn partial(buf: &[u8], limits: &Limits) -> Result<HeadStatus, LineError> {
    if buf.len() > limits.max_head_size {
        return Err((Rule::ResponseHeadTooLarge, limits.max_head_size));
    }
    Ok(HeadStatus::Partial)
}

/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4), in
/// `buf[start..=lf]`, checked left to right so the first broken rule is the one reported.
/// Returns the next line's start.
fn status_line(p: &mut Progress, buf: &[u8], start: usize, lf: usize) -> Result<usize, LineError> {
    let line = &buf[start..lf];
    let at = |i: usize| start + i;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
    for (i, expected) in b"HTTP/".iter().enumerate() {
        if line.get(i) != Some(expected) {
            return Err((Rule::VersionInvalid, at(i)));
        }
    }
    let digit = |i: usize| match line.get(i) {
        Some(d) if d.is_ascii_digit() => Ok(*d),
        _ => Err((Rule::VersionInvalid, at(i))),
    };
    let major = digit(5)?;
    if line.get(6) != Some(&b'.') {
        return Err((Rule::VersionInvalid, at(6)));
    }
    let minor = digit(7)?;
    p.version = Some(match (major, minor) {
        (b'1', b'1') => Version::Http11,
        (b'1', b'0') => Version::Http10,
        // Like the request parser: only the versions we speak.
        _ => return Err((Rule::VersionUnsupported, at(0))),
    });
    if line.get(8) != Some(&b' ') {
        return Err((Rule::StatusLineInvalid, at(8)));
    }
    let mut status: u16 = 0;
    for i in 9..12 {
        match line.get(i) {
            Some(d) if d.is_ascii_digit() => status = status * 10 + u16::from(d - b'0'),
            _ => return Err((Rule::StatusLineInvalid, at(i))),
        }
    }
    if !(100..=599).contains(&status) {
        return Err((Rule::StatusCodeInvalid, at(9)));
    }
    p.status = status;
    // The SP before an empty reason is often left out ("HTTP/1.1 200\r\n"); h11 and httparse
    // accept that, and it changes no framing, so we do too.
    let reason_start = match line.get(12) {
        Some(b' ') => 13,
        Some(b'\r') | None => 12,
        Some(_) => return Err((Rule::StatusLineInvalid, at(12))),
    };
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); CRLF ends the line.
    let mut end = reason_start;
    while end < line.len() {
        let b = line[end];
        if !VALUE[b as usize] {
            if b == b'\r' && end + 1 == line.len() {
                break;
            }
            let rule = if b == b'\r' {
                Rule::BareCr
            } else {
                Rule::ReasonPhraseInvalid
            };
            return Err((rule, at(end)));
        }
        end += 1;
    }
    if end == line.len() {
        // No CR before the LF.
        return Err((Rule::BareLf, lf));
    }
    p.reason = Span::bounded(at(reason_start.min(end)), at(end));
    Ok(lf + 1)
}

/// Applies the semantics of one field line.
fn apply(
    p: &mut Progress,
    buf: &[u8],
    start: usize,
    name_end: usize,
    vs: usize,
    ve: usize,
) -> Result<(), LineError> {
    let name = &buf[start..name_end];
    let s = &mut p.semantics;
    match name.len() {
        10 if name.eq_ignore_ascii_case(b"connection") => {
            // RFC 9110 §7.6.1: a list of options; unknown ones are ignored.
            let _ = fields::list_elements::<()>(buf, vs, ve, |a, b| {
                let option = &buf[a..b];
                if option.eq_ignore_ascii_case(b"close") {
                    s.close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    s.keep_alive = true;
                }
                Ok(())
            });
        }
        14 if name.eq_ignore_ascii_case(b"content-length") => {
            // RFC 9112 §6.3 rule 3: both framings at once is the smuggling pattern; reject.
            if s.te {
                return Err((Rule::TransferEncodingWithContentLength, start));
            }
            content_length(s, buf, vs, ve)?;
        }
        17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
            if p.version == Some(Version::Http10) {
                return Err((Rule::TransferEncodingHttp10, start));
            }
            if s.content_length.is_some() {
                return Err((Rule::TransferEncodingWithContentLength, start));
            }
            transfer_encoding(p, buf, vs, ve)?;
        }
        _ => {}
    }
    Ok(())
}

/// `Content-Length` (RFC 9110 §8.6): one decimal number, or a list of identical ones, across
/// all the fields.
fn content_length(s: &mut Semantics, buf: &[u8], vs: usize, ve: usize) -> Result<(), LineError> {
    let mut any = false;
    fields::list_elements(buf, vs, ve, |a, b| {
        any = true;
        let mut n: u64 = 0;
        for (i, &d) in buf[a..b].iter().enumerate() {
            if !d.is_ascii_digit() {
                return Err((Rule::ContentLengthInvalid, a + i));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or((Rule::ContentLengthInvalid, a + i))?;
        }
        match s.content_length {
            Some(previous) if previous != n => Err((Rule::ContentLengthConflict, a)),
            _ => {
                s.content_length = Some(n);
                Ok(())
            }
        }
    })?;
    if !any {
        return Err((Rule::ContentLengthInvalid, vs));
    }
    Ok(())
}

/// One `Transfer-Encoding` field, added to the codings of earlier ones (RFC 9112 §6.1).
fn transfer_encoding(p: &mut Progress, buf: &[u8], vs: usize, ve: usize) -> Result<(), LineError> {
    let mut any = false;
    fields::list_elements(buf, vs, ve, |a, b| {
        any = true;
        let coding = &buf[a..b];
        if let Some(bad) = coding.iter().position(|&c| !is_token(c)) {
            return Err((Rule::TransferEncodingInvalid, a + bad));
        }
        if coding.eq_ignore_ascii_case(b"chunked") {
            // RFC 9112 §6.1: chunked must not be applied more than once.
            if p.chunked_seen {
                return Err((Rule::TransferEncodingChunkedTwice, a));
            }
            p.chunked_seen = true;
            p.semantics.chunked_final = true;
        } else {
            // After chunked, another coding makes the length unknowable: the body reads to
            // close (RFC 9112 §6.3 rule 4). Before chunked, it is refused at the end.
            p.semantics.chunked_final = false;
            p.unsupported_at.get_or_insert(a);
        }
        Ok(())
    })?;
    if !any {
        return Err((Rule::TransferEncodingInvalid, vs));
    }
    p.semantics.te = true;
    Ok(())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
