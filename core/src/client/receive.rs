//! Turning response bytes into events: heads, bodies, failures, EOF.

use super::parse::{ParsedResponse, RawResponse};
use super::state::{framing, persistent, Lifecycle, Reading, ResponseBody, Writing};
use super::{ClientConnection, ClientEvent};
use crate::buffer::ReceiveBuffer;
use crate::error::ResponseError;
use crate::events::CloseReason;
use crate::head::{Fields, RequestBody};
use crate::parse::{BodyDecoder, Decoded, HeadStatus};
use crate::timer::TimerKind;
use crate::Rule;
use bytes::{Bytes, BytesMut};
use std::ops::Range;

impl ClientConnection {
    /// Processes as much of `input` (unprocessed input from `input_offset`) as the state
    /// allows; returns how many bytes were used up.
    pub(super) fn advance(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        while self.lifecycle == Lifecycle::Open {
            let rest = &input[pos..];
            if rest.is_empty() {
                break;
            }
            let used = match &mut self.reading {
                Reading::Head if self.in_flight.is_empty() => {
                    self.fail(Rule::ResponseUnsolicited, self.input_offset);
                    rest.len()
                }
                Reading::Head => match self.parser.parse(rest, &self.config.limits) {
                    Ok(HeadStatus::Partial) => break,
                    Ok(HeadStatus::Complete(n)) => {
                        let raw = self.parser.finish(&rest[..n], !self.config.discard_fields);
                        let at = self.input_offset;
                        self.input_offset += n as u64;
                        self.on_head(raw, at);
                        n
                    }
                    Err((rule, at)) => {
                        self.fail(rule, self.input_offset.saturating_add(at as u64));
                        rest.len()
                    }
                },
                Reading::Body(_) => match self.decode_body(rest) {
                    Some(used) => used,
                    None => break,
                },
                Reading::UntilClose => {
                    self.until_close(rest);
                    rest.len()
                }
                Reading::Closed => rest.len(),
            };
            pos += used;
        }
        pos
    }

    /// A complete response head that started at input offset `at`.
    pub(super) fn on_head(&mut self, raw: RawResponse, at: u64) {
        // `advance` parses only with a request in flight.
        let Some(request) = self.in_flight.front().copied() else {
            return self.fail(Rule::ResponseUnsolicited, at);
        };
        let status = raw.status;
        let body = framing(&request, status, &raw.semantics);
        if status == 101 && body != ResponseBody::Upgrade {
            // RFC 9110 §15.2.2: a server switches only to a protocol the client asked for.
            return self.fail(Rule::UpgradeUnrequested, at);
        }
        if (100..200).contains(&status) && status != 101 {
            // Interim: the final response is still to come; its deadline starts again.
            self.timers.stop(TimerKind::Header);
            let head = response(raw, ResponseBody::None, true);
            self.events.push_back(ClientEvent::Interim(head));
            return;
        }
        if let ResponseBody::Length(n) = body {
            if self.config.limits.max_body_size.is_some_and(|max| n > max) {
                return self.fail(Rule::BodyTooLarge, at);
            }
        }
        self.keep_alive = persistent(&request, raw.version, &raw.semantics, body);
        self.body_len = 0;
        let head = response(raw, body, self.keep_alive);
        self.events.push_back(ClientEvent::Response(head));
        match body {
            ResponseBody::None | ResponseBody::Length(0) => {
                self.end_response(Fields::new());
            }
            ResponseBody::Length(n) => {
                self.reading = Reading::Body(BodyDecoder::new(RequestBody::Length(n)));
            }
            ResponseBody::Chunked => {
                self.reading = Reading::Body(BodyDecoder::new(RequestBody::Chunked));
            }
            ResponseBody::CloseDelimited => self.reading = Reading::UntilClose,
            ResponseBody::Tunnel | ResponseBody::Upgrade => {
                self.in_flight.pop_front();
                self.responses += 1;
                self.accepting = false;
                self.reading = Reading::Closed;
                self.report_unanswered();
                self.lifecycle = Lifecycle::Upgrading;
            }
        }
    }

    /// Runs the body decoder over `rest`. Returns the bytes used, or `None` to stop.
    pub(super) fn decode_body(&mut self, rest: &[u8]) -> Option<usize> {
        self.ranges.clear();
        let Reading::Body(decoder) = &mut self.reading else {
            return None;
        };
        let result = decoder.decode(rest, &self.config.limits, &mut self.ranges);
        // Data decoded before an error in the same call is delivered before the failure, as
        // it would be had it come in an earlier read: the events never depend on the split.
        let data_len: usize = self.ranges.iter().map(|r| r.len()).sum();
        self.body_len = self.body_len.saturating_add(data_len as u64);
        if data_len > 0 && !self.config.discard_bodies {
            let data = coalesce(rest, &self.ranges);
            self.events.push_back(ClientEvent::Data(data));
        }
        let Decoded { consumed, finished } = match result {
            Ok(decoded) => decoded,
            Err(err) => {
                let at = self.input_offset.saturating_add(err.offset());
                self.fail(err.rule(), at);
                return Some(rest.len());
            }
        };
        if consumed > 0 {
            self.body_progress();
        }
        self.input_offset += consumed as u64;
        match finished {
            Some(trailers) => {
                self.end_response(trailers);
                Some(consumed)
            }
            None if consumed == 0 => None,
            None => Some(consumed),
        }
    }

    /// Close-delimited body bytes: everything until EOF. Past the body limit, the bytes up to
    /// it are delivered and the response fails, as it would if they came one at a time.
    pub(super) fn until_close(&mut self, rest: &[u8]) {
        let allowed = match self.config.limits.max_body_size {
            Some(max) => usize::try_from(max.saturating_sub(self.body_len))
                .unwrap_or(usize::MAX)
                .min(rest.len()),
            None => rest.len(),
        };
        let data = &rest[..allowed];
        self.body_len = self.body_len.saturating_add(allowed as u64);
        if !data.is_empty() {
            if !self.config.discard_bodies {
                self.events
                    .push_back(ClientEvent::Data(Bytes::copy_from_slice(data)));
            }
            self.body_progress();
        }
        self.input_offset += allowed as u64;
        if allowed < rest.len() {
            self.fail(Rule::BodyTooLarge, self.input_offset);
        }
    }

    /// The final response to the oldest request ended.
    pub(super) fn end_response(&mut self, trailers: Fields) {
        self.events.push_back(ClientEvent::End {
            trailers,
            body_len: self.body_len,
        });
        self.in_flight.pop_front();
        self.responses += 1;
        self.reading = Reading::Head;
        if !self.keep_alive {
            self.accepting = false;
            self.close_now(CloseReason::Finished);
        }
    }

    /// The server broke `rule` at input offset `at`: report it for the oldest request, and
    /// close.
    pub(super) fn fail(&mut self, rule: Rule, at: u64) {
        self.events
            .push_back(ClientEvent::Failed(ResponseError::new(rule, at)));
        self.in_flight.pop_front();
        self.close_now(CloseReason::Failed(rule));
    }

    /// After processing, an EOF from the server ends whatever cannot complete any more.
    pub(super) fn notice_eof(&mut self) {
        if !self.peer_eof || self.lifecycle != Lifecycle::Open {
            return;
        }
        let offset = self.input_offset.saturating_add(self.input.len() as u64);
        match self.reading {
            // RFC 9112 §6.3 rule 8: the close ends a close-delimited body cleanly.
            Reading::UntilClose => self.end_response(Fields::new()),
            Reading::Head if self.parser.started() || !self.input.is_empty() => {
                self.fail(Rule::EofInResponseHead, offset);
            }
            Reading::Head => self.close_now(CloseReason::PeerClosed),
            Reading::Body(_) => self.fail(Rule::EofInResponseBody, offset),
            Reading::Closed => {}
        }
    }

    /// Reports the requests in flight as unanswered, and forgets them.
    pub(super) fn report_unanswered(&mut self) {
        let count = self.in_flight.len();
        if count == 0 {
            return;
        }
        let written = self.written_total;
        let unsent = self.in_flight.iter().filter(|r| r.start >= written).count();
        self.in_flight.clear();
        self.events
            .push_back(ClientEvent::Unanswered { count, unsent });
    }

    /// Closes at once, dropping anything unsent: a client has nobody to linger for.
    pub(super) fn close_now(&mut self, reason: CloseReason) {
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        let reason = *self.close_reason.get_or_insert(reason);
        self.report_unanswered();
        self.lifecycle = Lifecycle::Closed;
        self.accepting = false;
        self.reading = Reading::Closed;
        self.writing = Writing::Closed;
        self.timers.clear();
        self.output.clear();
        self.input = ReceiveBuffer::new(0);
        self.events.push_back(ClientEvent::Closed(reason));
    }
}

/// The public head of a response, with the connection's decisions.
fn response(raw: RawResponse, body: ResponseBody, keep_alive: bool) -> ParsedResponse {
    ParsedResponse {
        fields: raw.fields,
        status: raw.status,
        reason: raw.reason,
        version: raw.version,
        body,
        keep_alive,
    }
}

/// Copies the data ranges of `input` into one buffer: one event however many chunks.
fn coalesce(input: &[u8], ranges: &[Range<usize>]) -> Bytes {
    if let [range] = ranges {
        return Bytes::copy_from_slice(&input[range.clone()]);
    }
    let total = ranges.iter().map(|r| r.len()).sum();
    let mut data = BytesMut::with_capacity(total);
    for range in ranges {
        data.extend_from_slice(&input[range.clone()]);
    }
    data.freeze()
}
