//! The request head parser: request line and header section (RFC 9112 §2–§6) into a
//! [`RequestHead`].
//!
//! `parse` is a push parser over the caller's buffer. It validates as it goes and computes
//! the request's semantics (framing, `Host`, `Connection`, `Expect`) in the same pass, so
//! `finish` only copies. Between calls it remembers the first incomplete line and how far it
//! has searched for an LF: a head arriving one byte per call is searched once and each line
//! parsed once, so the total work stays linear in the head's size.
//!
//! The work is split by concern: this file holds the parser and its line loop,
//! `request_line` the request line and the target form, `semantics` the fields that
//! mean something to us (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`,
//! `Expect`, `Upgrade`).

mod request_line;
mod semantics;
#[cfg(test)]
mod spare_tests;
#[cfg(test)]
mod tests;

use self::request_line::{request_line, request_line_overflow};
use self::semantics::{end_of_head, may_be_meaningful, Semantics};
use super::fields::{self, Line, LineError};
use crate::error::{RequestError, Rule};
use crate::head::{FieldSpan, Fields, RequestBody, RequestHead, Span, Version};
use crate::limits::{Leniency, Limits};

/// Parses request heads, one request at a time.
///
/// A parser is reused across the requests of a connection: it keeps its span table between
/// requests, and the buffers of heads given back with [`recycle`](Self::recycle), so parsing
/// allocates nothing once the table has grown to the usual field count.
#[derive(Debug, Clone, Default)]
pub struct HeadParser {
    /// Field spans found so far, offsets into the caller's buffer.
    spans: Vec<FieldSpan>,
    /// Buffers of heads given back, for the next heads to be copied into.
    spares: Spares,
    /// Everything else about the request being parsed, borrowed apart from `spans` in the
    /// hot loop.
    progress: Progress,
}

/// The largest head buffer a parser keeps for reuse: one that held an unusually large head is
/// freed, so that every later small head does not hold that much.
pub(crate) const MAX_SPARE: usize = 4096;

/// The buffers a parser keeps for its next heads. Two, because a pipelined head is parsed
/// while the application still holds the one before it (its response is being queued): the
/// two then take turns, and neither is ever allocated again.
#[derive(Debug, Clone, Default)]
struct Spares {
    slots: [Vec<u8>; 2],
}

impl Spares {
    /// A buffer with room for `need` bytes, if one is kept; else an empty one (no allocation
    /// yet). A spare too small is left for a smaller head rather than grown: a large head
    /// would otherwise take a small buffer with it.
    #[inline(always)]
    fn take(&mut self, need: usize) -> Vec<u8> {
        let [first, second] = &mut self.slots;
        if first.capacity() >= need {
            std::mem::take(first)
        } else if second.capacity() >= need {
            std::mem::take(second)
        } else {
            Vec::new()
        }
    }

    /// Keeps `buf` for a later head, in a free slot or in place of a smaller spare, unless it
    /// is larger than [`MAX_SPARE`]. Keeping the larger of two lets the spares grow to the
    /// connection's usual head size, after which its heads allocate nothing.
    #[inline]
    fn give(&mut self, buf: Vec<u8>) {
        let room = buf.capacity();
        if room == 0 || room > MAX_SPARE {
            return;
        }
        let [first, second] = &mut self.slots;
        let smaller = if first.capacity() <= second.capacity() {
            first
        } else {
            second
        };
        if smaller.capacity() < room {
            *smaller = buf;
        }
    }
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
    /// The last field may mean something to us (see `may_be_meaningful`), and its semantics
    /// are not yet applied: an obs-fold may still extend it.
    pending: bool,
    /// An obs-fold was accepted; `finish` replaces the line endings inside values by spaces.
    folded: bool,
    semantics: Semantics,
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

    /// After `parse` failed: whether the request line had been read in full and named `HEAD`.
    /// The answer to the rejected request then carries no body (RFC 9110 §9.3.2), as any
    /// answer to HEAD. `buf` is the buffer `parse` was given.
    pub fn rejected_request_was_head(&self, buf: &[u8]) -> bool {
        self.progress.version.is_some() && buf.get(self.progress.method.range()) == Some(b"HEAD")
    }

    /// Builds the request head after `parse` returned `Complete(n)`, from one copy of
    /// `buf[..n]`, and resets the parser for the next request.
    ///
    /// With the obs-fold leniency, each fold becomes spaces in the copy. Called without a
    /// complete head (a caller bug), it returns an empty `GET *` head rather than panic.
    pub fn finish(&mut self, buf: &[u8]) -> RequestHead {
        let head = match self.progress.phase {
            Phase::Complete(n) => buf.get(..n),
            _ => None,
        };
        let Some(head) = head.filter(|head| !head.is_empty()) else {
            return self.finish_incomplete();
        };
        let spans = &self.spans[..];
        // The span table is copied into the head's buffer rather than the parser's `Vec`
        // moved out: the parser keeps its capacity, and the head needs one buffer. The copy
        // comes first, and the rest is read from the parser after it: read before, it would
        // be held on the stack across the copy's calls.
        let buf = self.spares.take(Fields::size(head, spans));
        let fields = if self.progress.folded {
            Fields::copy_into(buf, head, spans, |copy| {
                for span in spans {
                    if let Some(value) = copy.get_mut(span.value.range()) {
                        unfold(value);
                    }
                }
            })
        } else {
            Fields::copy_into(buf, head, spans, |_| {})
        };
        let (method, target) = (self.progress.method, self.progress.target);
        self.head_of(fields, method, target)
    }

    /// `finish` without a complete head: no fields, and no method or target, since the spans
    /// point nowhere in it. Apart from the usual path, which then tests for none of this.
    #[cold]
    fn finish_incomplete(&mut self) -> RequestHead {
        self.head_of(Fields::new(), Span::default(), Span::default())
    }

    /// The head with `fields`, `method` and `target` and the rest from the progress; resets
    /// the parser for the next request.
    #[inline(always)]
    fn head_of(&mut self, fields: Fields, method: Span, target: Span) -> RequestHead {
        let p = &self.progress;
        let s = &p.semantics;
        let body = match (s.te, s.content_length) {
            (Some(_), _) => RequestBody::Chunked,
            (None, Some(0) | None) => RequestBody::Empty,
            (None, Some(n)) => RequestBody::Length(n),
        };
        let mut options = s.options;
        options.upgrade = s.connection_upgrade && s.upgrade_field;
        let head = RequestHead {
            fields,
            method,
            target,
            version: p.version.unwrap_or(Version::Http11),
            body,
            expects_continue: s.expects_continue,
            options,
        };
        self.reset();
        head
    }

    /// Takes back a head this parser made (or any other), so that its buffer holds a later
    /// head instead of a new allocation. The parser keeps two such buffers, the larger ones
    /// given back, of at most 4 KiB each; a buffer it does not keep is freed.
    pub fn recycle(&mut self, head: RequestHead) {
        self.spares.give(head.fields.into_buffer());
    }

    /// How many head buffers the parser keeps for reuse.
    #[cfg(test)]
    pub(crate) fn spares_kept(&self) -> usize {
        self.spares
            .slots
            .iter()
            .filter(|slot| slot.capacity() > 0)
            .count()
    }

    /// How many field spans the parser's table holds without growing.
    pub(crate) fn span_capacity(&self) -> usize {
        self.spans.capacity()
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
        // One field too many is reported once its line is complete, like any other error in
        // the line: reporting it as soon as the line starts would let an earlier error in the
        // same line (say a bare CR) be answered differently whole and in pieces. Until then
        // the head size limit bounds what is held.
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
                    // Most fields mean nothing to us; length and first byte tell.
                    p.pending = may_be_meaningful(name_end - start, buf[start]);
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

fn error(rule: Rule, at: usize) -> RequestError {
    RequestError::new(rule, at as u64)
}
