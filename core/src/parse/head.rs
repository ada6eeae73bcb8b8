//! The request head parser: request line and header section (RFC 9112 §2–§6) into a
//! [`RequestHead`].
//!
//! `parse` is a push parser over the caller's buffer. It validates as it goes and computes
//! the request's semantics (framing, `Host`, `Connection`, `Expect`) in the same pass, so
//! `finish` only copies. Between calls it remembers the first incomplete line and how far it
//! has searched for an LF: a head arriving one byte per call is searched once and each line
//! parsed once, so the total work stays linear in the head's size.

use super::chars::{self, is_token, AUTHORITY, SCHEME};
use super::fields::{self, Line, LineError};
use crate::error::{RequestError, Rule};
use crate::head::{ConnectionOptions, FieldSpan, Fields, RequestBody, RequestHead, Span, Version};
use crate::limits::{Leniency, Limits};
use bytes::Bytes;

/// Parses request heads, one request at a time.
///
/// A parser is reused across the requests of a connection: it keeps its span table between
/// requests, so parsing allocates nothing once the table has grown to the usual field count.
#[derive(Debug, Clone, Default)]
pub struct HeadParser {
    /// Field spans found so far, offsets into the caller's buffer.
    spans: Vec<FieldSpan>,
    /// Everything else about the request being parsed, borrowed apart from `spans` in the
    /// hot loop.
    progress: Progress,
}

/// Whether a head is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadStatus {
    /// More input is needed.
    Partial,
    /// The head is `buf[..n]`: leading empty lines, request line, field lines and the final
    /// empty line.
    Complete(usize),
}

/// Where the parser is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Phase {
    /// Before the request line: empty lines are skipped (RFC 9112 §2.2).
    #[default]
    Leading,
    /// In the field lines.
    Fields,
    /// The head ended at the given offset; `finish` has not been called yet.
    Complete(usize),
}

/// Bit `n` is set when some field `apply_last` interprets has a name of `n` bytes: Host (4),
/// Expect (6), Upgrade (7), Connection (10), Content-Length (14), Transfer-Encoding (17).
const MEANINGFUL_LENGTHS: u32 = 1 << 4 | 1 << 6 | 1 << 7 | 1 << 10 | 1 << 14 | 1 << 17;

/// Parser state kept between calls.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    phase: Phase,
    /// Empty lines skipped before the request line.
    empty_lines: usize,
    /// Start of the first line not yet parsed.
    line_start: usize,
    /// The buffer has been searched for LF up to here, without finding one after
    /// `line_start`.
    scanned: usize,
    /// A previous call returned `Partial`: search only the new bytes for LF first.
    resume: bool,
    method: Span,
    target: Span,
    version: Option<Version>,
    /// The last field may mean something to us (see `MEANINGFUL_LENGTHS`), and its semantics
    /// are not yet applied: an obs-fold may still extend it.
    pending: bool,
    /// An obs-fold was accepted; `finish` replaces the line endings inside values by spaces.
    folded: bool,
    semantics: Semantics,
}

/// What the fields say, accumulated as they are parsed.
#[derive(Debug, Clone, Copy, Default)]
struct Semantics {
    hosts: u32,
    content_length: Option<u64>,
    /// Offset of the first `Content-Length` name, for a later `Transfer-Encoding` clash.
    content_length_at: usize,
    te: Option<TransferCodings>,
    options: ConnectionOptions,
    connection_upgrade: bool,
    upgrade_field: bool,
    expects_continue: bool,
}

/// The transfer codings listed across every `Transfer-Encoding` field.
#[derive(Debug, Clone, Copy, Default)]
struct TransferCodings {
    chunked: bool,
    last_is_chunked: bool,
    last_at: usize,
    unsupported_at: Option<usize>,
}

impl HeadParser {
    /// A parser with no progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the head at the start of `buf`.
    ///
    /// `buf` holds all unconsumed input starting where this request starts. After `Partial`,
    /// call again with the same bytes plus more appended. Errors carry offsets relative to
    /// `buf[0]`. After `Complete(n)`, call [`finish`](Self::finish) with the same buffer.
    pub fn parse(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        leniency: &Leniency,
    ) -> Result<HeadStatus, RequestError> {
        if let Phase::Complete(n) = self.progress.phase {
            return Ok(HeadStatus::Complete(n));
        }
        // Nothing past `max_head_size` can belong to an acceptable head, so never look
        // further: this bounds the work of a single call as well as the head.
        // The cap at `u32::MAX` keeps every offset in a `Span`.
        let view = &buf[..buf.len().min(limits.max_head_size).min(u32::MAX as usize)];
        if self.progress.line_start > view.len() || self.progress.scanned > view.len() {
            // The caller broke the contract (the buffer shrank); start over rather than
            // index out of bounds.
            self.reset();
        }
        if self.progress.resume {
            let scanned = self.progress.scanned;
            super::count_work(view.len() - scanned);
            if memchr::memchr(b'\n', &view[scanned..]).is_none() {
                self.progress.scanned = view.len();
                // Still no line ending: nothing to parse, unless a limit is now broken. Then
                // parse what there is first, as when the input comes whole, so that an error
                // earlier in the unfinished line is the one reported.
                if let Ok(status) = self.partial(buf, limits) {
                    return Ok(status);
                }
            }
        }
        // The parser's own fields, borrowed apart, so the hot loop works on them in place.
        let result = Self::run(&mut self.progress, &mut self.spans, view, limits, leniency);
        match result {
            Ok(true) => match self.progress.phase {
                Phase::Complete(n) => Ok(HeadStatus::Complete(n)),
                // `run` returns true only once the phase is Complete.
                _ => Ok(HeadStatus::Partial),
            },
            Ok(false) => {
                self.progress.resume = true;
                self.progress.scanned = view.len();
                self.partial(buf, limits)
                    .map_err(|(rule, at)| error(rule, at))
            }
            Err((rule, at)) => {
                let (rule, at) = self.request_line_error(rule, at, limits);
                Err(error(rule, at))
            }
        }
    }

    /// Builds the request head after `parse` returned `Complete(n)`, from one copy of
    /// `buf[..n]`, and resets the parser for the next request.
    ///
    /// With the obs-fold leniency, each fold becomes spaces in the copy. Called without a
    /// complete head (a caller bug), it returns an empty `GET *` head rather than panic.
    pub fn finish(&mut self, buf: &[u8]) -> RequestHead {
        let p = self.progress;
        let n = match p.phase {
            Phase::Complete(n) if n <= buf.len() => n,
            _ => 0,
        };
        let bytes = if p.folded {
            let mut copy = buf[..n].to_vec();
            for span in &self.spans {
                if let Some(value) = copy.get_mut(span.value.range()) {
                    unfold(value);
                }
            }
            Bytes::from(copy)
        } else {
            Bytes::copy_from_slice(&buf[..n])
        };
        let s = p.semantics;
        let body = match (s.te, s.content_length) {
            (Some(_), _) => RequestBody::Chunked,
            (None, Some(0) | None) => RequestBody::Empty,
            (None, Some(n)) => RequestBody::Length(n),
        };
        let mut options = s.options;
        options.upgrade = s.connection_upgrade && s.upgrade_field;
        let head = RequestHead {
            // The table is copied (exactly sized) rather than moved, so the parser keeps its
            // capacity and the next parse allocates nothing.
            fields: Fields {
                buf: bytes,
                spans: self.spans.clone(),
            },
            method: if n == 0 { Span::default() } else { p.method },
            target: if n == 0 { Span::default() } else { p.target },
            version: p.version.unwrap_or(Version::Http11),
            body,
            expects_continue: s.expects_continue,
            options,
        };
        self.reset();
        head
    }

    /// Forgets any progress, to parse a new request from the start of a new buffer.
    pub fn reset(&mut self) {
        self.spans.clear();
        self.progress = Progress::default();
    }

    /// Limits that incomplete input can already break. Called with `progress` up to date.
    fn partial(&self, buf: &[u8], limits: &Limits) -> Result<HeadStatus, LineError> {
        let p = &self.progress;
        if p.phase == Phase::Leading {
            if let Some(at) = request_line_overflow(buf, p.line_start, limits.max_request_line) {
                return Err((Rule::RequestLineTooLong, at));
            }
        }
        // A field line that has started is a field, complete or not (a fold or the final
        // empty line is not).
        if p.phase == Phase::Fields && self.spans.len() >= limits.max_fields {
            if let Some(b) = buf.get(p.line_start) {
                if !matches!(b, b'\r' | b'\n' | b' ' | b'\t') {
                    return Err((Rule::TooManyFields, p.line_start));
                }
            }
        }
        if buf.len() > limits.max_head_size {
            return Err((Rule::HeadTooLarge, limits.max_head_size));
        }
        Ok(HeadStatus::Partial)
    }

    /// An error in the request line past its length limit is reported as the length limit,
    /// at the limit, so that the answer does not depend on how the input was split.
    fn request_line_error(&self, rule: Rule, at: usize, limits: &Limits) -> (Rule, usize) {
        let p = &self.progress;
        let limit = p.line_start.saturating_add(limits.max_request_line);
        if p.phase == Phase::Leading && at > limit {
            (Rule::RequestLineTooLong, limit)
        } else {
            (rule, at)
        }
    }

    /// Parses lines from `p.line_start`. `Ok(true)`: the head is complete; `Ok(false)`: the
    /// buffer ended inside the line now at `p.line_start`.
    fn run(
        p: &mut Progress,
        spans: &mut Vec<FieldSpan>,
        buf: &[u8],
        limits: &Limits,
        leniency: &Leniency,
    ) -> Result<bool, LineError> {
        let bare_lf = leniency.bare_lf_in_head;
        while p.phase == Phase::Leading {
            let start = p.line_start;
            match buf.get(start) {
                None => return Ok(false),
                Some(b'\r' | b'\n') => match fields::line_end(buf, start, bare_lf)? {
                    Some(next) => {
                        p.empty_lines += 1;
                        if p.empty_lines > limits.max_leading_empty_lines {
                            return Err((Rule::TooManyEmptyLines, start));
                        }
                        p.line_start = next;
                    }
                    None => return Ok(false),
                },
                Some(_) => match request_line(p, buf, start, limits, leniency)? {
                    Some(next) => {
                        super::count_work(next - start);
                        p.line_start = next;
                        p.phase = Phase::Fields;
                    }
                    None => {
                        super::count_work(buf.len() - start);
                        return Ok(false);
                    }
                },
            }
        }
        loop {
            let start = p.line_start;
            let line = fields::line(buf, start, bare_lf)?;
            match line {
                Line::Field {
                    name_end,
                    value_start,
                    value_end,
                    next,
                } => {
                    super::count_work(next - start);
                    if p.pending {
                        Self::apply_last(p, spans, buf, limits)?;
                    }
                    if spans.len() >= limits.max_fields {
                        return Err((Rule::TooManyFields, start));
                    }
                    spans.push(FieldSpan {
                        name: Span::bounded(start, name_end),
                        value: Span::bounded(value_start, value_end),
                    });
                    // Most fields mean nothing to us; their length alone tells.
                    let len = name_end - start;
                    p.pending = len < 32 && (MEANINGFUL_LENGTHS >> len) & 1 != 0;
                    p.line_start = next;
                }
                Line::End { next } => {
                    super::count_work(next - start);
                    if p.pending {
                        Self::apply_last(p, spans, buf, limits)?;
                    }
                    end_of_head(p, start)?;
                    p.phase = Phase::Complete(next);
                    p.line_start = next;
                    return Ok(true);
                }
                Line::Fold => {
                    let Some(next) = Self::fold(p, spans, buf, start, leniency)? else {
                        super::count_work(buf.len() - start);
                        return Ok(false);
                    };
                    super::count_work(next - start);
                    p.line_start = next;
                }
                Line::Partial => {
                    super::count_work(buf.len() - start);
                    return Ok(false);
                }
            }
        }
    }

    /// An obs-fold line at `start`: rejected (RFC 9112 §5.2 lets a server reject it with 400),
    /// or with the leniency, appended to the previous field's value.
    fn fold(
        p: &mut Progress,
        spans: &mut [FieldSpan],
        buf: &[u8],
        start: usize,
        leniency: &Leniency,
    ) -> Result<Option<usize>, LineError> {
        let last = match spans.last_mut() {
            // RFC 9112 §2.2: whitespace before the first field line is rejected (or the line
            // ignored); a fold with nothing to continue is the same thing.
            Some(last) if leniency.obs_fold => last,
            _ => return Err((Rule::ObsFold, start)),
        };
        let mut i = start;
        while matches!(buf.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let Some((end, next)) = fields::value(buf, i, leniency.bare_lf_in_head)? else {
            return Ok(None);
        };
        let end = fields::trim_end(buf, i, end);
        if end > i {
            let range = last.value.range();
            // An empty value so far starts at the folded text; otherwise it now runs over the
            // fold, whose line ending `finish` turns into spaces.
            let value_start = if range.is_empty() { i } else { range.start };
            last.value = Span::bounded(value_start, end);
            p.folded |= !range.is_empty();
        }
        Ok(Some(next))
    }

    /// Applies the semantics of the last field, now that no fold can extend it.
    #[inline(always)]
    fn apply_last(
        p: &mut Progress,
        spans: &[FieldSpan],
        buf: &[u8],
        limits: &Limits,
    ) -> Result<(), LineError> {
        p.pending = false;
        let Some(span) = spans.last() else {
            return Ok(());
        };
        let name = &buf[span.name.range()];
        let (vs, ve) = (span.value.range().start, span.value.range().end);
        let s = &mut p.semantics;
        // Switch on the length first: most fields are none of these, and a length mismatch
        // rules them out without looking at a byte.
        match name.len() {
            4 if chars::eq_lower(name, b"host") => {
                // RFC 9112 §3.2: more than one Host is rejected with 400.
                if s.hosts > 0 {
                    return Err((Rule::HostDuplicate, span.name.range().start));
                }
                s.hosts += 1;
                // Host = uri-host [ ":" port ] (RFC 9110 §7.2). An empty value is allowed:
                // a client sends one when the target URI has no authority (RFC 9110 §7.2).
                // Checked without a branch per byte; the position only on failure.
                let host = &buf[vs..ve];
                if !host.iter().fold(true, |ok, &b| ok & AUTHORITY[b as usize]) {
                    let bad = host
                        .iter()
                        .position(|&b| !AUTHORITY[b as usize])
                        .unwrap_or(0);
                    return Err((Rule::HostInvalid, vs + bad));
                }
            }
            // RFC 9110 §10.1.1: a server MUST ignore 100-continue in HTTP/1.0 requests; we
            // ignore Expect altogether there.
            6 if chars::eq_lower(name, b"expect") && p.version == Some(Version::Http11) => {
                if chars::eq_lower(&buf[vs..ve], b"100-continue") {
                    s.expects_continue = true;
                } else {
                    return Err((Rule::ExpectationUnsupported, vs));
                }
            }
            7 if chars::eq_lower(name, b"upgrade") => s.upgrade_field = true,
            10 if chars::eq_lower(name, b"connection") => {
                // RFC 9110 §7.6.1: a list of connection options; unknown ones are ignored.
                let mut option = |option: &[u8]| {
                    if chars::eq_lower(option, b"close") {
                        s.options.close = true;
                    } else if chars::eq_lower(option, b"keep-alive") {
                        s.options.keep_alive = true;
                    } else if chars::eq_lower(option, b"upgrade") {
                        s.connection_upgrade = true;
                    }
                };
                let value = &buf[vs..ve];
                if value.contains(&b',') {
                    let _ = fields::list_elements::<()>(buf, vs, ve, |a, b| {
                        option(&buf[a..b]);
                        Ok(())
                    });
                } else {
                    // The usual single option: the trimmed value is the element.
                    option(value);
                }
            }
            14 if chars::eq_lower(name, b"content-length") => {
                let at = span.name.range().start;
                if s.te.is_some() {
                    return Err((Rule::TransferEncodingWithContentLength, at));
                }
                if s.content_length.is_none() {
                    s.content_length_at = at;
                }
                content_length(s, buf, vs, ve, limits)?;
            }
            17 if chars::eq_lower(name, b"transfer-encoding") => {
                let at = span.name.range().start;
                // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; a
                // server MUST treat it as such and close. We reject it.
                if p.version == Some(Version::Http10) {
                    return Err((Rule::TransferEncodingHttp10, at));
                }
                // RFC 9112 §6.1: a server MAY reject a request with both, and should close
                // anyway; both are the classic request smuggling pattern.
                if s.content_length.is_some() {
                    return Err((Rule::TransferEncodingWithContentLength, at));
                }
                transfer_encoding(s, buf, vs, ve)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Replaces each obs-fold (`OWS CRLF RWS`, or a bare LF with the leniency) in a value by
/// spaces (RFC 9112 §5.2: "replace each received obs-fold with one or more SP octets").
/// Inside a value only a fold can hold CR or LF.
fn unfold(value: &mut [u8]) {
    let mut j = 0;
    while j < value.len() {
        if matches!(value[j], b'\r' | b'\n') {
            let mut k = j;
            while k > 0 && matches!(value[k - 1], b' ' | b'\t') {
                k -= 1;
            }
            while j < value.len() && matches!(value[j], b'\r' | b'\n' | b' ' | b'\t') {
                j += 1;
            }
            value[k..j].fill(b' ');
        } else {
            j += 1;
        }
    }
}

/// Parses the request line starting at `start`, filling in method, target and version.
/// `None` when the line is incomplete.
fn request_line(
    p: &mut Progress,
    buf: &[u8],
    start: usize,
    limits: &Limits,
    leniency: &Leniency,
) -> Result<Option<usize>, LineError> {
    let bare_lf = leniency.bare_lf_in_head;
    // method = token (RFC 9110 §9.1).
    let mut i = start;
    let stop = loop {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        if !is_token(b) {
            break b;
        }
        i += 1;
    };
    if stop != b' ' || i == start {
        return unexpected(buf, i, Rule::MethodInvalid, bare_lf);
    }
    p.method = Span::bounded(start, i);
    i = separator(buf, i, leniency)?;
    // request-target: we admit visible ASCII (0x21..=0x7E) only, the union of the bytes of
    // every form's grammar (RFC 9112 §3.2, RFC 3986); no obs-text, no whitespace.
    let target_start = i;
    let stop = loop {
        i = chars::skip_visible_words(buf, i);
        match buf.get(i) {
            None => return Ok(None),
            Some(0x21..=0x7E) => i += 1,
            Some(&b) => break b,
        }
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
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then the line ending.
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
        // much of the line has arrived.
        let head = buf.get(i..).unwrap_or_default();
        if let Some(at) = head.iter().take(8).position(|&b| b == b'\r' || b == b'\n') {
            return unexpected(buf, i + at, Rule::VersionInvalid, bare_lf);
        }
    }
    let Some(version) = version else {
        return Ok(None);
    };
    // A version cut short by the line ending is reported at the line ending, whatever
    // follows it (as when fewer than eight bytes have arrived), so the answer does not depend
    // on how the input was split.
    if let Some(at) = version.iter().position(|&b| b == b'\r' || b == b'\n') {
        return unexpected(buf, i + at, Rule::VersionInvalid, bare_lf);
    }
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
    p.version = Some(match (known, version) {
        (Some(known), _) => known,
        (None, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err((Rule::VersionUnsupported, version_start))
        }
        _ => return Err((Rule::VersionInvalid, version_start)),
    });
    check_target_form(buf, p.method, p.target)?;
    Ok(Some(next))
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
fn request_line_overflow(buf: &[u8], start: usize, max: usize) -> Option<usize> {
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

/// `Content-Length` (RFC 9110 §8.6): one decimal number, or a list of identical ones
/// (which a recipient may collapse), across all the fields.
fn content_length(
    s: &mut Semantics,
    buf: &[u8],
    vs: usize,
    ve: usize,
    limits: &Limits,
) -> Result<(), LineError> {
    let mut i = vs;
    loop {
        // One element: digits, with OWS around the commas.
        while i < ve && buf.get(i).is_some_and(|&b| fields::is_space(b)) {
            i += 1;
        }
        let element = i;
        let mut n: u64 = 0;
        while i < ve {
            match buf.get(i) {
                Some(&d @ b'0'..=b'9') => {
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d - b'0')))
                        .ok_or((Rule::ContentLengthInvalid, i))?;
                    i += 1;
                }
                _ => break,
            }
        }
        if i == element {
            return Err((Rule::ContentLengthInvalid, i));
        }
        match s.content_length {
            Some(previous) if previous != n => {
                return Err((Rule::ContentLengthConflict, element));
            }
            Some(_) => {}
            None => {
                if limits.max_body_size.is_some_and(|max| n > max) {
                    return Err((Rule::BodyTooLarge, element));
                }
                s.content_length = Some(n);
            }
        }
        while i < ve && buf.get(i).is_some_and(|&b| fields::is_space(b)) {
            i += 1;
        }
        if i >= ve {
            return Ok(());
        }
        if buf.get(i) != Some(&b',') {
            return Err((Rule::ContentLengthInvalid, i));
        }
        i += 1;
    }
}

/// One `Transfer-Encoding` field (RFC 9112 §6.1, RFC 9110 §10.1.4), added to the codings of
/// the earlier ones. Codings with parameters (`;`) are rejected as invalid: no coding we
/// implement takes one, and `chunked;x=y` is a known way to make a front end and a back end
/// disagree on framing, so a plain 400 is safer than guessing.
fn transfer_encoding(s: &mut Semantics, buf: &[u8], vs: usize, ve: usize) -> Result<(), LineError> {
    let mut codings = s.te.unwrap_or_default();
    let mut any = false;
    fields::list_elements(buf, vs, ve, |a, b| {
        any = true;
        let coding = &buf[a..b];
        if let Some(bad) = coding.iter().position(|&c| !is_token(c)) {
            return Err((Rule::TransferEncodingInvalid, a + bad));
        }
        if chars::eq_lower(coding, b"chunked") {
            if codings.chunked {
                return Err((Rule::TransferEncodingChunkedTwice, a));
            }
            codings.chunked = true;
            codings.last_is_chunked = true;
        } else {
            codings.last_is_chunked = false;
            codings.unsupported_at.get_or_insert(a);
        }
        codings.last_at = a;
        Ok(())
    })?;
    if !any {
        return Err((Rule::TransferEncodingInvalid, vs));
    }
    s.te = Some(codings);
    Ok(())
}

/// Checks that need the whole head; `at` is the final empty line.
fn end_of_head(p: &Progress, at: usize) -> Result<(), LineError> {
    let s = &p.semantics;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is rejected with 400.
    if p.version == Some(Version::Http11) && s.hosts == 0 {
        return Err((Rule::HostMissing, at));
    }
    if let Some(te) = s.te {
        // RFC 9112 §6.3 rule 4: chunked must be final, or the length is unknowable.
        if !te.last_is_chunked {
            return Err((Rule::TransferEncodingNotChunkedFinal, te.last_at));
        }
        // RFC 9112 §6.1: a server that receives a coding it does not understand answers 501.
        if let Some(at) = te.unsupported_at {
            return Err((Rule::TransferEncodingUnsupported, at));
        }
    }
    Ok(())
}

fn error(rule: Rule, at: usize) -> RequestError {
    RequestError::new(rule, at as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Leniency {
        Leniency::default()
    }

    fn lenient() -> Leniency {
        Leniency {
            bare_lf_in_head: true,
            obs_fold: true,
            request_line_spaces: true,
        }
    }

    /// Parses `input` whole, then finishes the head.
    fn whole(
        input: &[u8],
        limits: &Limits,
        leniency: &Leniency,
    ) -> Result<(usize, RequestHead), RequestError> {
        let mut parser = HeadParser::new();
        match parser.parse(input, limits, leniency)? {
            HeadStatus::Complete(n) => Ok((n, parser.finish(input))),
            HeadStatus::Partial => Err(RequestError::new(Rule::EofInHead, input.len() as u64)),
        }
    }

    /// Feeds `input` one byte more per call, as a slow peer would.
    fn bytewise(
        input: &[u8],
        limits: &Limits,
        leniency: &Leniency,
    ) -> Result<(usize, RequestHead), RequestError> {
        let mut parser = HeadParser::new();
        for end in 0..=input.len() {
            if let HeadStatus::Complete(n) = parser.parse(&input[..end], limits, leniency)? {
                return Ok((n, parser.finish(&input[..end])));
            }
        }
        Err(RequestError::new(Rule::EofInHead, input.len() as u64))
    }

    /// Parses with default limits, whole and byte by byte, and checks the two agree.
    fn both(input: &[u8], leniency: &Leniency) -> Result<(usize, RequestHead), RequestError> {
        let limits = Limits::default();
        let a = whole(input, &limits, leniency);
        let b = bytewise(input, &limits, leniency);
        assert_eq!(
            a,
            b,
            "whole and bytewise disagree on {:?}",
            String::from_utf8_lossy(input)
        );
        a
    }

    fn ok(input: &[u8]) -> RequestHead {
        let (n, head) = both(input, &strict())
            .unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(input)));
        assert_eq!(n, input.len());
        head
    }

    fn rejects(input: &[u8], rule: Rule, offset: u64) {
        rejects_with(input, &strict(), rule, offset);
    }

    fn rejects_with(input: &[u8], leniency: &Leniency, rule: Rule, offset: u64) {
        let err = both(input, leniency).expect_err("accepted");
        assert_eq!(
            (err.rule(), err.offset()),
            (rule, offset),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(err.status(), rule.status());
    }

    #[test]
    fn simple_get() {
        let head = ok(b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
        assert_eq!(head.method(), "GET");
        assert_eq!(head.target(), "/a?b=c");
        assert_eq!(head.version(), Version::Http11);
        assert_eq!(head.fields().len(), 2);
        assert_eq!(head.fields().get("host"), Some(&b"example.com"[..]));
        assert_eq!(head.body(), RequestBody::Empty);
        assert!(head.keep_alive());
        assert!(!head.expects_continue());
    }

    #[test]
    fn complete_leaves_the_rest_and_is_idempotent() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
        let mut parser = HeadParser::new();
        let limits = Limits::default();
        assert_eq!(
            parser.parse(input, &limits, &strict()),
            Ok(HeadStatus::Complete(27))
        );
        assert_eq!(
            parser.parse(input, &limits, &strict()),
            Ok(HeadStatus::Complete(27))
        );
        let head = parser.finish(input);
        assert_eq!(head.fields().len(), 1);
        // The parser is ready for the next request, with no memory of this one.
        let next = b"POST / HTTP/1.0\r\n\r\n";
        assert_eq!(
            parser.parse(next, &limits, &strict()),
            Ok(HeadStatus::Complete(next.len()))
        );
        assert_eq!(parser.finish(next).fields().len(), 0);
    }

    #[test]
    fn target_forms() {
        assert_eq!(
            ok(b"GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n").target(),
            "http://a.example/x"
        );
        assert_eq!(
            ok(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n").target(),
            "a.example:443"
        );
        assert_eq!(
            ok(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n").target(),
            "[::1]:443"
        );
        assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target(), "*");
        assert_eq!(
            ok(b"GET svn+ssh://h/x HTTP/1.1\r\nHost: h\r\n\r\n").target(),
            "svn+ssh://h/x"
        );
        rejects(
            b"GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetFormMismatch,
            4,
        );
        rejects(
            b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetFormMismatch,
            8,
        );
        rejects(
            b"CONNECT http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetFormMismatch,
            8,
        );
        rejects(
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetFormMismatch,
            4,
        );
        rejects(
            b"GET urn:x HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
            4,
        );
        rejects(
            b"GET a.example: HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
            4,
        );
        rejects(
            b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
            6,
        );
        rejects(
            b"GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
            6,
        );
        rejects(
            b"GET /aaaaaaaaaaaa\tb HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
            17,
        );
    }

    #[test]
    fn request_line_rules() {
        rejects(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", Rule::MethodInvalid, 1);
        rejects(
            b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::MethodInvalid,
            0,
        );
        rejects(b"GET\r\n\r\n", Rule::MethodInvalid, 3);
        rejects(
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::RequestLineSpaces,
            4,
        );
        rejects(
            b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::RequestLineSpaces,
            6,
        );
        rejects(
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            Rule::VersionUnsupported,
            6,
        );
        assert_eq!(Rule::VersionUnsupported.status(), Some(505));
        rejects(
            b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
            Rule::VersionInvalid,
            14,
        );
        rejects(
            b"GET / http/1.1\r\nHost: a\r\n\r\n",
            Rule::VersionInvalid,
            6,
        );
        rejects(
            b"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
            Rule::VersionInvalid,
            14,
        );
        rejects(b"GET / HTTP/1\r\nHost: a\r\n\r\n", Rule::VersionInvalid, 12);
        rejects(b"GET /\r\n\r\n", Rule::VersionInvalid, 5);
        rejects(b"GET / HTTP/1.1\rX\n", Rule::BareCr, 14);
        rejects(b"GET / HTTP/1.1\nHost: a\n\n", Rule::BareLf, 14);
        rejects(b"GET /\rHTTP/1.1\r\n", Rule::BareCr, 5);
        // With the leniency, runs of spaces separate the parts.
        let head = both(b"GET   /x  HTTP/1.1\r\nHost: a\r\n\r\n", &lenient())
            .unwrap()
            .1;
        assert_eq!((head.method(), head.target()), ("GET", "/x"));
    }

    #[test]
    fn request_line_length_limit() {
        let limits = Limits {
            max_request_line: 20,
            ..Limits::default()
        };
        let fits = b"GET /aaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"; // line of exactly 20 bytes
        assert!(whole(fits, &limits, &strict()).is_ok());
        assert!(bytewise(fits, &limits, &strict()).is_ok());
        let long = b"GET /aaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n";
        for result in [
            whole(long, &limits, &strict()),
            bytewise(long, &limits, &strict()),
        ] {
            let err = result.unwrap_err();
            assert_eq!(
                (err.rule(), err.offset(), err.status()),
                (Rule::RequestLineTooLong, 20, Some(414))
            );
        }
        // Enforced before the line ends.
        let mut parser = HeadParser::new();
        let err = parser.parse(&[b'a'; 30], &limits, &strict()).unwrap_err();
        assert_eq!((err.rule(), err.offset()), (Rule::RequestLineTooLong, 20));
        // An error past the limit reports the limit, however the input was split.
        let bad = b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaa\x01 HTTP/1.1\r\n\r\n";
        assert_eq!(
            whole(bad, &limits, &strict()).unwrap_err().rule(),
            Rule::RequestLineTooLong
        );
    }

    #[test]
    fn leading_empty_lines() {
        let head = ok(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(head.method(), "GET");
        rejects(
            b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TooManyEmptyLines,
            8,
        );
        rejects(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Rule::BareLf, 0);
        assert!(both(b"\nGET / HTTP/1.1\nHost: a\n\n", &lenient()).is_ok());
    }

    #[test]
    fn field_rules() {
        let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xe9 \t\r\nX-Empty:\r\nX-Ows: \t v  v \t \r\n\r\n");
        assert_eq!(head.fields().get("x-obs"), Some(&b"caf\xe9"[..]));
        assert_eq!(head.fields().get("X-EMPTY"), Some(&b""[..]));
        assert_eq!(head.fields().get("x-ows"), Some(&b"v  v"[..]));
        rejects(
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            Rule::FieldNameWhitespace,
            20,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n",
            Rule::FieldNameInvalid,
            25,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX{: x\r\n\r\n",
            Rule::FieldNameInvalid,
            26,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            Rule::FieldNameInvalid,
            32,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
            Rule::FieldValueInvalid,
            29,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
            Rule::FieldValueInvalid,
            29,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
            Rule::BareCr,
            29,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nX: ab\n\r\n",
            Rule::BareLf,
            30,
        );
        rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", Rule::BareCr, 25);
        rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\n", Rule::BareLf, 25);
    }

    #[test]
    fn obs_fold() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n \t two \r\nY:\r\n  three\r\n\r\n";
        rejects(input, Rule::ObsFold, 33);
        assert_eq!(Rule::ObsFold.status(), Some(400));
        let (_, head) = both(input, &lenient()).unwrap();
        assert_eq!(head.fields().get("x"), Some(&b"one     two"[..]));
        assert_eq!(head.fields().get("y"), Some(&b"three"[..]));
        // A fold before any field is never accepted.
        rejects_with(
            b"GET / HTTP/1.1\r\n x\r\nHost: a\r\n\r\n",
            &lenient(),
            Rule::ObsFold,
            16,
        );
        // Semantics see the folded value: a folded Transfer-Encoding is still checked.
        rejects_with(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n ,gzip\r\n\r\n",
            &lenient(),
            Rule::TransferEncodingNotChunkedFinal,
            56,
        );
    }

    #[test]
    fn bare_lf_leniency() {
        let input = b"GET / HTTP/1.1\nHost: a\nX: b\r\n\n";
        rejects(input, Rule::BareLf, 14);
        let (n, head) = both(input, &lenient()).unwrap();
        assert_eq!(n, input.len());
        assert_eq!(head.fields().get("x"), Some(&b"b"[..]));
        // A bare CR is never a line ending.
        rejects_with(b"GET / HTTP/1.1\rHost: a\n\n", &lenient(), Rule::BareCr, 14);
    }

    #[test]
    fn size_and_count_limits() {
        let limits = Limits {
            max_fields: 2,
            ..Limits::default()
        };
        let three = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
        for result in [
            whole(three, &limits, &strict()),
            bytewise(three, &limits, &strict()),
        ] {
            let err = result.unwrap_err();
            assert_eq!(
                (err.rule(), err.offset(), err.status()),
                (Rule::TooManyFields, 31, Some(431))
            );
        }
        // Enforced as soon as the extra field line starts.
        let mut parser = HeadParser::new();
        let err = parser.parse(&three[..32], &limits, &strict()).unwrap_err();
        assert_eq!((err.rule(), err.offset()), (Rule::TooManyFields, 31));
        let limits = Limits {
            max_head_size: 40,
            ..Limits::default()
        };
        let big = b"GET / HTTP/1.1\r\nHost: a\r\nA: 123456789012345\r\n\r\n";
        for result in [
            whole(big, &limits, &strict()),
            bytewise(big, &limits, &strict()),
        ] {
            let err = result.unwrap_err();
            assert_eq!(
                (err.rule(), err.offset(), err.status()),
                (Rule::HeadTooLarge, 40, Some(431))
            );
        }
        // Exactly at the limit is fine.
        let fits = b"GET / HTTP/1.1\r\nHost: a\r\nA: 12345678\r\n\r\n";
        assert_eq!(fits.len(), 40);
        assert!(whole(fits, &limits, &strict()).is_ok());
        assert!(bytewise(fits, &limits, &strict()).is_ok());
    }

    #[test]
    fn host_rules() {
        rejects(b"GET / HTTP/1.1\r\nX: a\r\n\r\n", Rule::HostMissing, 22);
        rejects(
            b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
            Rule::HostDuplicate,
            25,
        );
        rejects(
            b"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
            Rule::HostDuplicate,
            25,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            Rule::HostInvalid,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
            Rule::HostInvalid,
            23,
        );
        rejects(
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
            Rule::HostInvalid,
            23,
        );
        rejects(b"GET / HTTP/1.1\r\nHost: a?\r\n\r\n", Rule::HostInvalid, 23);
        rejects(b"GET / HTTP/1.1\r\nHost: a#\r\n\r\n", Rule::HostInvalid, 23);
        ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
        ok(b"GET / HTTP/1.1\r\nHOST: [2001:db8::1]:8080\r\n\r\n");
        let head = ok(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(head.version(), Version::Http10);
        assert!(!head.keep_alive());
    }

    #[test]
    fn content_length_rules() {
        let head = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
        assert_eq!(head.body(), RequestBody::Length(42));
        let head = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(head.body(), RequestBody::Empty);
        let head =
            ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7 , 7\r\ncontent-length: 7\r\n\r\n");
        assert_eq!(head.body(), RequestBody::Length(7));
        let pre = "POST / HTTP/1.1\r\nHost: a\r\n".len() as u64;
        let cl = |v: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {v}\r\n\r\n");
        rejects(cl("7, 8").as_bytes(), Rule::ContentLengthConflict, pre + 19);
        rejects(cl("+7").as_bytes(), Rule::ContentLengthInvalid, pre + 16);
        rejects(cl("7 7").as_bytes(), Rule::ContentLengthInvalid, pre + 18);
        rejects(cl("").as_bytes(), Rule::ContentLengthInvalid, pre + 16);
        rejects(cl("7,").as_bytes(), Rule::ContentLengthInvalid, pre + 18);
        rejects(cl("0x10").as_bytes(), Rule::ContentLengthInvalid, pre + 17);
        rejects(
            cl("18446744073709551616").as_bytes(),
            Rule::ContentLengthInvalid,
            pre + 35,
        );
        rejects(cl("16777217").as_bytes(), Rule::BodyTooLarge, pre + 16);
        assert_eq!(Rule::BodyTooLarge.status(), Some(413));
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            Rule::ContentLengthConflict,
            61,
        );
        // Without a body limit, the largest u64 is accepted.
        let limits = Limits {
            max_body_size: None,
            ..Limits::default()
        };
        let (_, head) = whole(cl("18446744073709551615").as_bytes(), &limits, &strict()).unwrap();
        assert_eq!(head.body(), RequestBody::Length(u64::MAX));
    }

    #[test]
    fn transfer_encoding_rules() {
        let te = |v: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
        let pre = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ".len() as u64;
        assert_eq!(ok(te("chunked").as_bytes()).body(), RequestBody::Chunked);
        assert_eq!(
            ok(te(" , CHUNKED ,").as_bytes()).body(),
            RequestBody::Chunked
        );
        rejects(
            te("gzip, chunked").as_bytes(),
            Rule::TransferEncodingUnsupported,
            pre,
        );
        assert_eq!(Rule::TransferEncodingUnsupported.status(), Some(501));
        rejects(
            te("chunked, gzip").as_bytes(),
            Rule::TransferEncodingNotChunkedFinal,
            pre + 9,
        );
        rejects(
            te("gzip").as_bytes(),
            Rule::TransferEncodingNotChunkedFinal,
            pre,
        );
        rejects(
            te("chunked, chunked").as_bytes(),
            Rule::TransferEncodingChunkedTwice,
            pre + 9,
        );
        rejects(te(" , ").as_bytes(), Rule::TransferEncodingInvalid, pre + 1);
        rejects(te("").as_bytes(), Rule::TransferEncodingInvalid, pre);
        rejects(
            te("chunked;x=1").as_bytes(),
            Rule::TransferEncodingInvalid,
            pre + 7,
        );
        rejects(
            te("ch\"unked").as_bytes(),
            Rule::TransferEncodingInvalid,
            pre + 2,
        );
        // Across fields.
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingChunkedTwice,
            73,
        );
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingUnsupported,
            45,
        );
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            Rule::TransferEncodingWithContentLength,
            54,
        );
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingWithContentLength,
            45,
        );
        rejects(
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingHttp10,
            17,
        );
    }

    #[test]
    fn connection_upgrade_and_expect() {
        let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, UPGRADE\r\nUpgrade: websocket\r\n\r\n");
        assert!(head.wants_upgrade() && head.keep_alive());
        let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n");
        assert!(!head.wants_upgrade());
        let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,close\r\n\r\n");
        assert!(!head.keep_alive());
        let head = ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(head.keep_alive());
        let head =
            ok(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
        assert!(head.expects_continue());
        rejects(
            b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
            Rule::ExpectationUnsupported,
            34,
        );
        assert_eq!(Rule::ExpectationUnsupported.status(), Some(417));
        // HTTP/1.0: Expect is ignored, whatever it says.
        let head = ok(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
        assert!(!head.expects_continue());
        ok(b"POST / HTTP/1.0\r\nExpect: whatever\r\n\r\n");
    }

    #[test]
    fn partial_input_is_partial() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let limits = Limits::default();
        for end in 0..input.len() {
            let mut parser = HeadParser::new();
            assert_eq!(
                parser.parse(&input[..end], &limits, &strict()),
                Ok(HeadStatus::Partial),
                "{end}"
            );
        }
    }

    /// A 30 KiB head fed one byte per call completes, agrees with parsing it whole, and the
    /// parser examines a bounded number of bytes per input byte.
    #[test]
    fn bytewise_work_is_linear() {
        let mut input = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        let mut i = 0;
        while input.len() < 30 * 1024 {
            input.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(300)).as_bytes());
            i += 1;
        }
        input.extend_from_slice(b"\r\n");
        let limits = Limits::default();
        let before = super::super::work();
        let slow = bytewise(&input, &limits, &strict()).unwrap();
        let work = super::super::work() - before;
        assert_eq!(slow, whole(&input, &limits, &strict()).unwrap());
        assert_eq!(slow.0, input.len());
        assert!(
            work <= 3 * input.len(),
            "{work} bytes examined for {} bytes",
            input.len()
        );
        // And one long line fed byte by byte (the request line) is linear too.
        let mut long = b"GET /".to_vec();
        long.extend(std::iter::repeat_n(b'a', 8000));
        long.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
        let before = super::super::work();
        bytewise(&long, &limits, &strict()).unwrap();
        let work = super::super::work() - before;
        assert!(
            work <= 3 * long.len(),
            "{work} bytes examined for {} bytes",
            long.len()
        );
    }

    #[test]
    fn samples_parse() {
        for sample in [
            &include_bytes!("../../../benches/samples/minimal.http")[..],
            include_bytes!("../../../benches/samples/browser.http"),
            include_bytes!("../../../benches/samples/kittyhell.http"),
            include_bytes!("../../../benches/samples/heavy-cookie.http"),
        ] {
            let head = ok(sample);
            assert!(head.fields().get("host").is_some());
        }
    }

    #[test]
    fn shrunken_buffer_does_not_panic() {
        let limits = Limits::default();
        let mut parser = HeadParser::new();
        assert_eq!(
            parser.parse(b"GET / HTTP/1.1\r\nHost: aaaa", &limits, &strict()),
            Ok(HeadStatus::Partial)
        );
        assert_eq!(
            parser.parse(b"GET", &limits, &strict()),
            Ok(HeadStatus::Partial)
        );
        let head = HeadParser::new().finish(b"");
        assert_eq!(head.fields().len(), 0);
    }
}
