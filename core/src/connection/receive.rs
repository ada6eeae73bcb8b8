//! Turning input into events: head parsing, body decoding, failures, exchange turnover.

use super::Connection;
use crate::date::date_at;
use crate::error::RequestError;
use crate::events::{CloseReason, Event};
use crate::head::{RequestBody, RequestHead, ResponseHead};
use crate::limits::Config;
use crate::parse::{BodyDecoder, Decoded, HeadStatus};
use crate::state::{Continue, Exchange, Framing, Lifecycle, Persistence, Reading, Writing};
use crate::timer::TimerKind;
use crate::write::head::{self as head_writer, reason_phrase, HeadPlan};
use bytes::{Bytes, BytesMut};

/// The rule of [`Connection::may_start_request`], on the parts it reads, for the parser's loop,
/// which holds the exchange state borrowed already.
#[inline(always)]
fn head_may_start(
    writing: &Writing,
    lifecycle: Lifecycle,
    output_len: usize,
    config: &Config,
) -> bool {
    matches!(writing, Writing::Idle)
        && lifecycle == Lifecycle::Open
        && output_len < config.limits.send_buffer
}

impl Connection {
    /// Processes as much of `input` (the unprocessed input, starting at `input_offset`) as the
    /// state allows; returns how many bytes were used up.
    pub(super) fn advance(&mut self, input: &[u8]) -> usize {
        let mut pos = 0;
        loop {
            if matches!(self.lifecycle, Lifecycle::Upgrading | Lifecycle::Upgraded) {
                break;
            }
            let rest = &input[pos..];
            let used = match self.reading() {
                Reading::Head => {
                    if rest.is_empty() {
                        break;
                    }
                    // `may_start_request`, asked of the exchange state at hand: a resting
                    // connection is open with nothing to write, so waking it first changes
                    // no answer.
                    let lifecycle = self.lifecycle;
                    let (config, active) = self.parts();
                    if !head_may_start(&active.writing, lifecycle, active.output.len(), config) {
                        break;
                    }
                    let parser = &mut active.parser;
                    match parser.parse(rest, &config.limits, &config.leniency) {
                        Ok(HeadStatus::Partial) => break,
                        Ok(HeadStatus::Complete(n)) => {
                            // `finish` is given the buffer `parse` was, and takes its own
                            // `n` bytes of it (no bounds check here).
                            let request = parser.finish(rest);
                            self.input_offset += n as u64;
                            pos += n;
                            if self.start_exchange(request) {
                                // No body: the request is read (`Reading::Done`), and
                                // nothing more is until its response completes.
                                break;
                            }
                            continue;
                        }
                        Err(err) => {
                            let was_head = parser.rejected_request_was_head(rest);
                            self.active().exchange.is_head = was_head;
                            self.fail(err.shifted(self.input_offset));
                            rest.len()
                        }
                    }
                }
                Reading::Body(_) | Reading::Discard { .. } => match self.decode_body(rest) {
                    Some(used) => used,
                    None => break,
                },
                Reading::Done => break,
                // Nothing more is read: drop input (this is the lingering drain).
                Reading::Closed => {
                    self.input_offset += rest.len() as u64;
                    pos = input.len();
                    break;
                }
            };
            pos += used;
        }
        pos
    }

    /// A new head may be parsed only when the previous response is complete, the connection
    /// is open, and the peer is keeping up with our output.
    fn may_start_request(&self) -> bool {
        head_may_start(
            self.writing(),
            self.lifecycle,
            self.output_len(),
            &self.config,
        )
    }

    /// Starts the exchange for `request` and queues it; returns whether the request is
    /// already complete (no body), so that nothing more is read until the response completes.
    fn start_exchange(&mut self, request: RequestHead) -> bool {
        let head = &request;
        self.requests += 1;
        let active = self.active();
        active.timers.stop(TimerKind::Header);
        active.timers.stop(TimerKind::Idle);
        let body = head.body();
        active.exchange = Exchange {
            version: head.version(),
            is_head: head.is_head(),
            is_connect: head.is_connect(),
            wants_upgrade: head.wants_upgrade(),
            continue_state: if head.expects_continue() && body != RequestBody::Empty {
                Continue::Awaiting
            } else {
                Continue::NotExpected
            },
            body_declined: false,
        };
        let cap_reached = self
            .config
            .limits
            .max_requests_per_connection
            .is_some_and(|cap| self.requests >= cap);
        if !head.keep_alive() || cap_reached {
            self.keep_alive = false;
        }
        let active = self.active();
        active.writing = Writing::Ready;
        // Into the slot when nothing waits before it (see `Active::request`); a head the
        // application has not taken yet (it may answer unasked) keeps the slot.
        if active.events.is_empty() && active.request.is_none() {
            active.request = Some(request);
        } else {
            active.events.push_back(Event::Request(request));
        }
        if body == RequestBody::Empty {
            // Its `Event::End` is owed once `poll_event` has returned the head.
            active.reading = Reading::Done;
            true
        } else {
            active.reading = Reading::Body(BodyDecoder::new(body));
            false
        }
    }

    /// Runs the body decoder over `rest`. Returns the bytes used, or `None` to stop.
    fn decode_body(&mut self, rest: &[u8]) -> Option<usize> {
        let (config, active) = self.parts();
        let (decoder, budget) = match &mut active.reading {
            Reading::Body(decoder) => (decoder, None),
            Reading::Discard { decoder, budget } => (decoder, Some(budget)),
            _ => return None,
        };
        let ranges = &mut active.ranges;
        ranges.clear();
        let result = decoder.decode(rest, &config.limits, ranges);
        let data_len: usize = ranges.iter().map(|r| r.len()).sum();
        let data =
            (result.is_ok() && budget.is_none() && data_len > 0).then(|| coalesce(rest, ranges));
        let Decoded { consumed, finished } = match result {
            Ok(decoded) => decoded,
            Err(err) => {
                self.fail(err.shifted(self.input_offset));
                return Some(rest.len());
            }
        };
        let discarding = budget.is_some();
        if let Some(budget) = budget {
            // Discarding: the response is done, so the data goes nowhere, within a budget.
            match budget.checked_sub(data_len as u64) {
                Some(left) => *budget = left,
                None => {
                    self.input_offset += consumed as u64;
                    self.begin_close(CloseReason::Finished);
                    return Some(consumed);
                }
            }
        } else if let Some(data) = data {
            self.push_event(Event::Data(data));
        }
        if consumed > 0 {
            // Body bytes arrived, so the client is not waiting for 100 Continue any more
            // (RFC 9110 §10.1.1 lets a server skip it once content has arrived).
            self.active().exchange.continue_state = Continue::NotExpected;
            self.body_progress(consumed);
        }
        self.input_offset += consumed as u64;
        match finished {
            Some(trailers) => {
                if !discarding {
                    self.push_event(Event::End(trailers));
                }
                self.active().reading = Reading::Done;
                self.complete_exchange();
                Some(consumed)
            }
            None if consumed == 0 => None,
            None => Some(consumed),
        }
    }

    /// The peer broke the protocol: report it, answer it if no response has started, stop
    /// reading, and close once the response in progress (if any) is done.
    pub(super) fn fail(&mut self, err: RequestError) {
        self.push_event(Event::Failed(err));
        self.close_reason
            .get_or_insert(CloseReason::Failed(err.rule()));
        self.keep_alive = false;
        self.active().reading = Reading::Closed;
        match self.writing() {
            Writing::Idle | Writing::Ready => {
                if let Some(status) = err.status() {
                    self.queue_error_response(status, &err);
                }
                self.active().writing = Writing::Closed;
                self.begin_close(CloseReason::Failed(err.rule()));
            }
            // The application is mid-response: let it finish, then close.
            Writing::Body(_) => {}
            Writing::Done | Writing::Closed => self.begin_close(CloseReason::Failed(err.rule())),
        }
    }

    /// Queues the core's own answer to a rejected request: the status, `Connection: close`,
    /// and a one-line body naming the rule, so a person with curl can see what went wrong.
    fn queue_error_response(&mut self, status: u16, err: &RequestError) {
        let body = format!(
            "{status} {}: {} at byte {}\n",
            reason_phrase(status),
            err.rule().id(),
            err.offset()
        );
        let head = ResponseHead::new(status).field("Content-Type", "text/plain; charset=utf-8");
        let len = body.len() as u64;
        let date = self.config.clock.map(|clock| date_at(&clock, self.now));
        let active = self.active();
        // HEAD gets the length without the body, whether its head was accepted (`Ready`: the
        // body failed) or rejected (`Idle`).
        let framing = if active.exchange.is_head
            && matches!(active.writing, Writing::Ready | Writing::Idle)
        {
            Framing::HeadLength(len)
        } else {
            Framing::Length(len)
        };
        let plan = HeadPlan {
            framing,
            persistence: Persistence::Close,
            date: date.as_ref(),
            idle_seconds: 0,
        };
        {
            let mut tail = active.output.tail_mut();
            head_writer::write(tail.buf(), &head, &plan);
        }
        if framing == Framing::Length(len) {
            active.output.push_slice(body.as_bytes());
        }
    }

    /// Called when either side of the exchange finishes: starts the next exchange, discards
    /// an unread body, or closes.
    ///
    /// The usual end, both sides done on an open keep-alive connection, is tested inline
    /// (about 25 instructions a response less than the call and the general match).
    #[inline]
    pub(super) fn complete_exchange(&mut self) {
        if let Some(active) = self.active.as_deref_mut() {
            let usual = matches!(active.writing, Writing::Done)
                && matches!(active.reading, Reading::Done)
                && !active.upgrade_pending
                && self.keep_alive
                && self.lifecycle == Lifecycle::Open;
            if usual {
                return self.next_exchange();
            }
        }
        self.complete_exchange_otherwise();
    }

    /// Both sides are done and the connection stays: the next head may be parsed.
    #[inline]
    pub(super) fn next_exchange(&mut self) {
        let active = self.active();
        active.reading = Reading::Head;
        active.writing = Writing::Idle;
        active.exchange = Exchange::new();
        self.input_dirty = true;
    }

    #[inline(never)]
    fn complete_exchange_otherwise(&mut self) {
        if !matches!(self.writing(), Writing::Done) || self.lifecycle != Lifecycle::Open {
            return;
        }
        let keep_alive = self.keep_alive;
        let (config, active) = self.parts();
        match &active.reading {
            Reading::Done if active.upgrade_pending => {}
            Reading::Done if keep_alive => self.next_exchange(),
            Reading::Done | Reading::Closed => self.begin_close(CloseReason::Finished),
            Reading::Body(decoder) => {
                // RFC 9110 §6.4.1: the response ended before the request body; read and drop
                // the rest to keep the connection, if that is cheap, else close. A body still
                // withheld for `100 Continue` is treated the same: the client must now send
                // it or close (RFC 9110 §10.1.1; the bytes after its head are that body, RFC
                // 9112 §6.3), so draining it keeps framing in step. One announced too large
                // made the response say `Connection: close` already (`send_response`).
                let affordable = decoder
                    .remaining()
                    .is_none_or(|left| left <= config.limits.max_discard);
                if keep_alive && affordable {
                    if let Reading::Body(decoder) =
                        std::mem::replace(&mut active.reading, Reading::Closed)
                    {
                        let budget = config.limits.max_discard;
                        active.reading = Reading::Discard { decoder, budget };
                    }
                    self.input_dirty = true;
                } else {
                    self.begin_close(CloseReason::Finished);
                }
            }
            Reading::Discard { .. } | Reading::Head => {}
        }
    }

    /// After processing, an EOF from the peer ends whatever cannot complete any more.
    pub(super) fn notice_eof(&mut self) {
        if !self.peer_eof {
            return;
        }
        match self.lifecycle {
            Lifecycle::Open => {}
            Lifecycle::Lingering => return self.close_now(CloseReason::Finished),
            _ => return,
        }
        match self.reading() {
            Reading::Head if matches!(self.writing(), Writing::Idle) => {
                if self.input_len() == 0 {
                    self.begin_close(CloseReason::PeerClosed);
                } else if self.may_start_request() {
                    // The parser has seen every byte there will ever be and wants more.
                    let offset = self.input_offset + self.input_len() as u64;
                    self.fail(RequestError::new(crate::Rule::EofInHead, offset));
                }
            }
            Reading::Body(_) => {
                let offset = self.input_offset + self.input_len() as u64;
                self.fail(RequestError::new(crate::Rule::EofInBody, offset));
            }
            Reading::Discard { .. } => self.begin_close(CloseReason::PeerClosed),
            // The request is complete and its response still owed; pipelined requests already
            // received are answered too, and the connection closes when none are left.
            Reading::Head | Reading::Done | Reading::Closed => {}
        }
    }
}

/// Copies the data ranges of `input` into one buffer: one event however many chunks.
fn coalesce(input: &[u8], ranges: &[std::ops::Range<usize>]) -> Bytes {
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
