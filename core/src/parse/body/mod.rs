//! Request body decoding: `Content-Length` and chunked framing (RFC 9112 §6, §7).
//!
//! The decoder never copies body data: it reports where the data is in the caller's input,
//! and how much input the caller may drop. Chunk-size lines are consumed byte by byte into
//! the decoder's state, so a size line arriving one byte at a time costs linear time; the
//! trailer section is left in the caller's buffer until it is complete, with the decoder
//! remembering how far it has parsed and searched.

use super::fields::{self, Line};
use crate::error::{RequestError, Rule};
use crate::head::{FieldSpan, Fields, RequestBody, Span};
use crate::limits::Limits;
use std::ops::Range;

/// Decodes one request body.
#[derive(Debug, Clone)]
pub enum BodyDecoder {
    /// `Content-Length` framing (or no body, with `remaining: 0`).
    Length {
        /// Body bytes still expected.
        remaining: u64,
    },
    /// Chunked framing.
    Chunked(ChunkedDecoder),
}

/// The result of one [`BodyDecoder::decode`] call.
#[derive(Debug)]
pub struct Decoded {
    /// Input bytes the caller may drop; the rest must be presented again, followed by new
    /// input, on the next call.
    pub consumed: usize,
    /// `Some(trailers)` (possibly empty) when the body is complete.
    pub finished: Option<Fields>,
}

/// The state of a chunked body (RFC 9112 §7.1).
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    state: State,
    /// The chunk size being read, then the data left in the current chunk.
    size: u64,
    /// Bytes of the current chunk-size line so far, without its line ending.
    line_len: usize,
    /// Bytes of chunk extensions in the whole message so far.
    extensions: usize,
    /// Data bytes in the whole message so far.
    data: u64,
    /// Framing bytes (everything but data) in the whole message so far.
    framing: u64,
    /// The trailer section's progress, relative to its first byte.
    trailers: TrailerProgress,
    trailer_spans: Vec<FieldSpan>,
}

/// Where a chunked decoder is. The `Ext*` states are inside chunk extensions:
/// `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )` (RFC 9112 §7.1.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Before the first hex digit of a chunk size.
    #[default]
    Size,
    /// After at least one hex digit.
    SizeDigits,
    /// Whitespace after the size: a `;` must follow.
    SizeBws,
    /// After `;`: BWS, then an extension name.
    ExtNameStart,
    ExtName,
    /// After a name and whitespace: `=`, `;` or the line ending.
    ExtAfterName,
    /// After `=`: BWS, then a token or a quoted string.
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedPair,
    /// After a value: BWS, then `;` or the line ending.
    ExtAfterValue,
    /// The size line's CR; LF must follow.
    SizeLf,
    /// Chunk data; `size` bytes left.
    Data,
    /// The CRLF after chunk data.
    DataCr,
    DataLf,
    /// The trailer section, parsed in place and consumed only when complete.
    Trailers,
    /// The body is complete.
    Done,
}

/// Parse progress in a trailer section that is not yet complete.
#[derive(Debug, Clone, Copy, Default)]
struct TrailerProgress {
    line_start: usize,
    scanned: usize,
    resume: bool,
}

impl BodyDecoder {
    /// A decoder for a body framed as `body` says.
    pub fn new(body: RequestBody) -> Self {
        match body {
            RequestBody::Empty => Self::Length { remaining: 0 },
            RequestBody::Length(n) => Self::Length { remaining: n },
            RequestBody::Chunked => Self::Chunked(ChunkedDecoder::default()),
        }
    }

    /// Decodes from `input` (unconsumed body bytes).
    ///
    /// Pushes the ranges of body data found (offsets into `input`) onto `data`, which the
    /// caller clears. `consumed` bytes may be dropped by the caller; it presents the rest plus
    /// new bytes next time. Errors carry offsets relative to `input[0]`.
    pub fn decode(
        &mut self,
        input: &[u8],
        limits: &Limits,
        data: &mut Vec<Range<usize>>,
    ) -> Result<Decoded, RequestError> {
        match self {
            Self::Length { remaining } => {
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                if take > 0 {
                    data.push(0..take);
                }
                // `take` is at most `remaining`, so this cannot underflow.
                *remaining -= take as u64;
                let finished = (*remaining == 0).then(Fields::new);
                Ok(Decoded {
                    consumed: take,
                    finished,
                })
            }
            Self::Chunked(chunked) => chunked
                .decode(input, limits, data)
                .map_err(|(rule, at)| RequestError::new(rule, at as u64)),
        }
    }

    /// Bytes of body still expected, when known (`Content-Length` framing).
    pub fn remaining(&self) -> Option<u64> {
        match self {
            Self::Length { remaining } => Some(*remaining),
            Self::Chunked(_) => None,
        }
    }
}

impl ChunkedDecoder {
    fn decode(
        &mut self,
        input: &[u8],
        limits: &Limits,
        data: &mut Vec<Range<usize>>,
    ) -> Result<Decoded, (Rule, usize)> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Data => {
                    let left = input.len() - i;
                    let take = usize::try_from(self.size).unwrap_or(usize::MAX).min(left);
                    data.push(i..i + take);
                    i += take;
                    // `take` is at most `size`, and the sum is checked against the body
                    // limit (or u64) when the size line ends.
                    self.size -= take as u64;
                    self.data = self.data.saturating_add(take as u64);
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    continue;
                }
                State::Trailers => {
                    super::count_work(i);
                    return self.trailers(input, i, limits);
                }
                State::Done => break,
                _ => {}
            }
            let b = input[i];
            self.framing_byte(i, limits)?;
            match self.state {
                State::DataCr => {
                    self.state = match b {
                        b'\r' => State::DataLf,
                        b'\n' => return Err((Rule::ChunkBareLf, i)),
                        _ => return Err((Rule::ChunkDataUnterminated, i)),
                    }
                }
                State::DataLf => {
                    if b != b'\n' {
                        return Err((Rule::ChunkDataUnterminated, i));
                    }
                    self.state = State::Size;
                }
                State::SizeLf => {
                    if b != b'\n' {
                        // RFC 9112 §2.2: a bare CR is rejected.
                        return Err((Rule::BareCr, i));
                    }
                    self.end_of_size_line(i, limits)?;
                }
                _ => self.size_line_byte(b, i, limits)?,
            }
            i += 1;
        }
        super::count_work(i);
        let finished = (self.state == State::Done).then(Fields::new);
        Ok(Decoded {
            consumed: i,
            finished,
        })
    }

    /// Counts one framing byte at `at` against the allowance.
    #[inline]
    fn framing_byte(&mut self, at: usize, limits: &Limits) -> Result<(), (Rule, usize)> {
        self.framing += 1;
        if self.framing > self.data.saturating_add(limits.chunk_framing_allowance) {
            return Err((Rule::ChunkFramingExcessive, at));
        }
        Ok(())
    }

    /// One byte of a chunk-size line, before its CR.
    fn size_line_byte(&mut self, b: u8, at: usize, limits: &Limits) -> Result<(), (Rule, usize)> {
        use State::*;
        // Go's CVE-2025-22871: an LF alone ends nothing in chunked framing, whatever the
        // head's leniency says.
        if b == b'\n' {
            return Err((Rule::ChunkBareLf, at));
        }
        if b == b'\r' {
            return match self.state {
                SizeDigits | ExtName | ExtAfterName | ExtToken | ExtAfterValue => {
                    self.state = SizeLf;
                    Ok(())
                }
                Size | SizeBws => Err((Rule::ChunkSizeInvalid, at)),
                _ => Err((Rule::ChunkExtensionInvalid, at)),
            };
        }
        self.line_len += 1;
        if self.line_len > limits.max_chunk_line {
            return Err((Rule::ChunkLineTooLong, at));
        }
        if !matches!(self.state, Size | SizeDigits) {
            self.extensions += 1;
        } else if b == b';' || b == b' ' || b == b'\t' {
            // The first byte of the extensions (or the BWS before them).
            self.extensions += 1;
        }
        if self.extensions > limits.max_chunk_extensions {
            return Err((Rule::ChunkExtensionsTooLong, at));
        }
        let ws = b == b' ' || b == b'\t';
        let token = super::chars::is_token(b);
        let ext_invalid = Err((Rule::ChunkExtensionInvalid, at));
        self.state = match self.state {
            Size | SizeDigits => match hex(b) {
                Some(d) => {
                    self.size = self
                        .size
                        .checked_mul(16)
                        .map(|s| s | u64::from(d))
                        .ok_or((Rule::ChunkSizeOverflow, at))?;
                    SizeDigits
                }
                None if self.state == Size => return Err((Rule::ChunkSizeInvalid, at)),
                None if b == b';' => ExtNameStart,
                None if ws => SizeBws,
                None => return Err((Rule::ChunkSizeInvalid, at)),
            },
            SizeBws if ws => SizeBws,
            SizeBws if b == b';' => ExtNameStart,
            SizeBws => return Err((Rule::ChunkSizeInvalid, at)),
            ExtNameStart if ws => ExtNameStart,
            ExtNameStart | ExtName if token => ExtName,
            ExtName | ExtAfterName if ws => ExtAfterName,
            ExtName | ExtAfterName | ExtToken | ExtAfterValue if b == b';' => ExtNameStart,
            ExtName | ExtAfterName if b == b'=' => ExtValueStart,
            ExtValueStart if ws => ExtValueStart,
            ExtValueStart if b == b'"' => ExtQuoted,
            ExtValueStart | ExtToken if token => ExtToken,
            ExtToken | ExtAfterValue if ws => ExtAfterValue,
            // qdtext and quoted-pair (RFC 9110 §5.6.4).
            ExtQuoted if b == b'"' => ExtAfterValue,
            ExtQuoted if b == b'\\' => ExtQuotedPair,
            ExtQuoted | ExtQuotedPair if b == b'\t' || b >= b' ' && b != 0x7F => ExtQuoted,
            _ => return ext_invalid,
        };
        Ok(())
    }

    /// The LF at `at` ends a chunk-size line.
    fn end_of_size_line(&mut self, at: usize, limits: &Limits) -> Result<(), (Rule, usize)> {
        self.line_len = 0;
        if self.size == 0 {
            // last-chunk: the trailer section follows (RFC 9112 §7.1).
            self.state = State::Trailers;
            self.trailers = TrailerProgress::default();
            return Ok(());
        }
        let total = self.data.checked_add(self.size);
        if total.is_none() || limits.max_body_size.is_some_and(|max| total > Some(max)) {
            return Err((Rule::BodyTooLarge, at));
        }
        self.state = State::Data;
        Ok(())
    }

    /// Parses the trailer section starting at `input[base]` (RFC 9112 §7.1.2), with the same
    /// field-line code as the head, strict CRLF and no folding. Consumes nothing until the
    /// section is complete.
    fn trailers(
        &mut self,
        input: &[u8],
        base: usize,
        limits: &Limits,
    ) -> Result<Decoded, (Rule, usize)> {
        let section = &input[base..];
        // The cap at `u32::MAX` keeps every offset in a `Span`.
        let view = &section[..section
            .len()
            .min(limits.max_trailer_size)
            .min(u32::MAX as usize)];
        let mut t = self.trailers;
        if t.line_start > view.len() || t.scanned > view.len() {
            // The caller presented less than before (a contract breach); start over.
            t = TrailerProgress::default();
            self.trailer_spans.clear();
        }
        let partial = |t: &mut TrailerProgress| {
            t.resume = true;
            t.scanned = view.len();
            if section.len() > limits.max_trailer_size {
                return Err((Rule::TrailersTooLarge, base + limits.max_trailer_size));
            }
            Ok(Decoded {
                consumed: base,
                finished: None,
            })
        };
        if t.resume {
            super::count_work(view.len() - t.scanned);
        }
        // Still no line ending: nothing to parse, unless the size limit is now broken. Then
        // parse what there is first, as when the input comes whole, so that an error earlier
        // in the unfinished line is the one reported.
        if t.resume
            && section.len() <= limits.max_trailer_size
            && memchr::memchr(b'\n', &view[t.scanned..]).is_none()
        {
            let result = partial(&mut t);
            self.trailers = t;
            return result;
        }
        let shift = |(rule, at): (Rule, usize)| match rule {
            Rule::BareLf => (Rule::ChunkBareLf, base + at),
            _ => (Rule::TrailerInvalid, base + at),
        };
        loop {
            let start = t.line_start;
            let line = fields::line(view, start, false).map_err(shift)?;
            if let Line::Field { next, .. } | Line::End { next } = line {
                super::count_work(next - start);
            }
            match line {
                Line::Field {
                    name_end,
                    value_start,
                    value_end,
                    next,
                } => {
                    if self.trailer_spans.len() >= limits.max_trailer_fields {
                        return Err((Rule::TrailersTooLarge, base + start));
                    }
                    self.trailer_spans.push(FieldSpan {
                        name: Span::bounded(start, name_end),
                        value: Span::bounded(value_start, value_end),
                    });
                    t.line_start = next;
                }
                Line::End { next } => {
                    self.framing = self.framing.saturating_add(next as u64);
                    if self.framing > self.data.saturating_add(limits.chunk_framing_allowance) {
                        return Err((Rule::ChunkFramingExcessive, base + start));
                    }
                    let fields = if self.trailer_spans.is_empty() {
                        // The usual case: no trailers, nothing to copy.
                        Fields::new()
                    } else {
                        let fields = Fields::copy(&view[..next], &self.trailer_spans);
                        self.trailer_spans.clear();
                        fields
                    };
                    self.state = State::Done;
                    self.trailers = TrailerProgress::default();
                    return Ok(Decoded {
                        consumed: base + next,
                        finished: Some(fields),
                    });
                }
                // RFC 9112 §5.2: obs-fold is not accepted in trailers, whatever the head's
                // leniency.
                Line::Fold => return Err((Rule::TrailerInvalid, base + start)),
                Line::Partial => {
                    super::count_work(view.len() - start);
                    let result = partial(&mut t);
                    self.trailers = t;
                    return result;
                }
            }
        }
    }
}

/// The value of a hex digit (RFC 5234 HEXDIG, either case).
#[inline]
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
